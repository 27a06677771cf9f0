"""A recorded run as a CSV or JSON file, for spreadsheets, notebooks and other tools."""

import csv
import io
import json
from pathlib import Path

from learnscope.core.files import write_atomically
from learnscope.store.replay import load_history
from learnscope.store.runs import RunStore

FORMATS = (".csv", ".json")


def export_run(store: RunStore, run_id: int, path) -> Path:
    """Write run `run_id` to `path`: .csv holds one row per recorded number (metric, step, examples_seen,
    value); .json also holds the run's settings and events. Written atomically."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ValueError(f"export_run expected a file ending in .csv or .json, got {path.name!r}. "
                         "Pick the format with the file name, e.g. run.csv.")
    history = load_history(store, run_id)
    if path.suffix.lower() == ".json":
        document = {
            "run": history.run,
            "metrics": {name: {"steps": steps.tolist(), "examples_seen": history.examples_seen[name].tolist(),
                               "values": [None if value != value else value for value in values.tolist()]}
                        for name, (steps, values) in history.metrics.items()},
            "events": store.events(run_id),
        }
        return write_atomically(path, json.dumps(document, indent=1).encode()).path
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["metric", "step", "examples_seen", "value"])
    for name, (steps, values) in sorted(history.metrics.items()):
        writer.writerows(zip([name] * len(steps), steps.tolist(), history.examples_seen[name].tolist(),
                             values.tolist()))
    return write_atomically(path, text.getvalue().encode()).path
