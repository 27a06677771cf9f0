"""The run store: training runs, their metrics, sampled tensors and events in one SQLite file."""

from learnscope.store.runs import END_STATUSES, SCHEMA_VERSION, STATUSES, RunStore, default_store_path

__all__ = ["END_STATUSES", "SCHEMA_VERSION", "STATUSES", "RunStore", "default_store_path"]
