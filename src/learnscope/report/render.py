"""A self-contained HTML report of recorded runs: one file, figures embedded as PNG data URIs, no scripts and no
network requests, so it opens anywhere (a browser offline, an e-mail attachment, a course page).

read_report_run(store, run_id, diagnoses) gathers what one run recorded; render_report(runs) draws its figures
(figures.py) and fills the template report.html.j2. The numbers come from the store and the diagnoses from
train.diagnostics (the caller runs diagnose(), so this module reads and draws only). The template is rendered with
autoescaping on, so every text that comes from the store is escaped.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import numpy as np

from learnscope.core.files import check_output_path
from learnscope.report import figures
from learnscope.store.replay import RunHistory, load_history
from learnscope.store.runs import RunStore, layer_chain

#: Suffixes `learnscope report -o` accepts
REPORT_SUFFIXES = (".html", ".htm")
#: At most this many events are listed per run (the first ones and the last ones)
MAX_EVENTS = 60

_TEMPLATES = jinja2.Environment(loader=jinja2.PackageLoader("learnscope.report", "."), autoescape=True,
                                undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@dataclass
class ReportRun:
    """What the report shows of one run: its history (metrics), the diagnoses, its events, and the snapshots of
    the first layer's weights (snapshot_name, snapshot_steps, snapshots: arrays (n_in, n_out))."""

    history: RunHistory
    diagnoses: list = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    snapshot_name: str | None = None
    snapshot_steps: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    snapshots: list[np.ndarray] = field(default_factory=list)
    confusion: np.ndarray | None = None     # rows true class, columns predicted, from the last evaluation recorded
    confusion_name: str = ""


def read_report_run(store: RunStore, run_id: int, diagnoses: Sequence = ()) -> ReportRun:
    """Read one run for the report; an unknown id raises the store's ValueError (it lists the ids it has)."""
    history = load_history(store, run_id)
    tensor_names = store.tensor_names(run_id)
    names = [name for name in tensor_names if not name.startswith(("histogram/", "confusion/"))]
    snapshot_name = names[0] if names else None
    steps, arrays = store.tensors(run_id, snapshot_name) if snapshot_name else (np.zeros(0, dtype=np.int64), [])
    report_run = ReportRun(history, list(diagnoses), store.events(run_id), snapshot_name, steps, arrays)
    confusions = [name for name in ("confusion/test", "confusion/validation") if name in tensor_names]
    if confusions:
        report_run.confusion_name = confusions[0]
        report_run.confusion = store.tensors(run_id, confusions[0])[1][-1]
    return report_run


def check_report_path(path) -> Path:
    """The output path of a report, checked before any work: it must end in .html or .htm."""
    path = Path(path).expanduser()
    if path.suffix.lower() not in REPORT_SUFFIXES:
        raise ValueError(f"report expected an output file ending in .html, got {str(path)!r}. "
                         "Pass e.g. -o report.html.")
    if path.is_dir():
        raise ValueError(f"report expected an output file, got the folder {path}. Pass e.g. -o {path / 'report.html'}.")
    check_output_path(path)                         # not a FIFO or a device either
    return path


def render_report(runs: Sequence[ReportRun]) -> str:
    """The HTML text of the report of one or more runs (curves overlaid when there are several)."""
    runs = list(runs)
    if not runs:
        raise ValueError("render_report expected at least one run, got none.")
    title = "learnscope report: " + ", ".join(f"run {r.history.run['id']} ({r.history.run['name']})" for r in runs)
    return _TEMPLATES.get_template("report.html.j2").render(
        title=title, summary=[_summary_row(run.history.run) for run in runs], curves=figures.curves(runs),
        runs=[_run_view(run) for run in runs], made=time.strftime("%Y-%m-%d %H:%M"))


def _summary_row(info: dict) -> dict:
    layers = layer_chain(info["architecture"])
    settings = ", ".join(f"{key}: {figures.format_value(value)}" for key, value in info["config"].items())
    return {"id": info["id"], "name": info["name"], "status": info["status"], "dataset": info["dataset"] or "—",
            "layers": layers or "—", "settings": settings}


def _run_view(run: ReportRun) -> dict:
    history = run.history
    sections = [("Gradient flow", figures.gradient_flow(history)), ("Update ratios", figures.update_ratios(history)),
                ("Activation health", figures.activation_health(history)),
                ("First-layer weights", figures.first_layer_weights(run)), ("Confusion matrix", figures.confusion(run))]
    diagnoses = [{"severity": finding.severity, "title": finding.title, "explanation": finding.explanation,
                  "suggestion": finding.suggestion,
                  "evidence": {key: figures.format_value(value) for key, value in (finding.evidence or {}).items()}}
                 for finding in run.diagnoses]
    events = run.events
    shown = events if len(events) <= MAX_EVENTS else [*events[:MAX_EVENTS // 2], None, *events[-MAX_EVENTS // 2:]]
    return {"info": history.run, "sections": sections, "diagnoses": diagnoses, "events": shown,
            "hidden_events": max(0, len(events) - MAX_EVENTS)}
