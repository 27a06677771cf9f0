"""The run store: training runs, their metrics, sampled tensors and events in one SQLite file."""

from learnscope.store.export import export_run
from learnscope.store.replay import RunHistory, align, final_test_accuracy, load_history
from learnscope.store.runs import END_STATUSES, SCHEMA_VERSION, STATUSES, RunStore, default_store_path

__all__ = [
    "END_STATUSES", "SCHEMA_VERSION", "STATUSES", "RunHistory", "RunStore", "align", "default_store_path",
    "export_run", "final_test_accuracy", "load_history",
]
