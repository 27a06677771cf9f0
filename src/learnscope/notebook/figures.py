"""plot_run: a recorded run's figures in a notebook, the very figures of `learnscope report` (report.figures) with
the diagnostics' findings, for an engine run or a watched PyTorch run alike."""

import html
from dataclasses import dataclass, field

from learnscope.report import figures
from learnscope.report.render import read_report_run
from learnscope.store.runs import RunStore, default_store_path, open_store
from learnscope.train.diagnostics import diagnose_recorded


@dataclass
class RunFigures:
    """What plot_run shows: the run's title, its sections [(heading, Shown or Missing)] and the findings."""

    title: str
    sections: list = field(default_factory=list)
    findings: list = field(default_factory=list)

    def _repr_html_(self) -> str:
        parts = [f"<h3>{html.escape(self.title)}</h3>"]
        for heading, shown in self.sections:
            parts.append(f"<h4>{html.escape(heading)}</h4>")
            if isinstance(shown, figures.Missing):
                parts.append(f"<p><em>{html.escape(shown.text)}</em></p>")
                continue
            for picture in shown.pictures:
                parts.append(f'<figure><img src="{picture.uri}" alt="{html.escape(picture.caption)}">'
                             f"<figcaption>{html.escape(picture.caption)}</figcaption></figure>")
        for finding in self.findings:
            parts.append(f"<p><strong>{html.escape(finding.severity)}: {html.escape(finding.title)}</strong><br>"
                         f"{html.escape(finding.explanation)}<br>Try: {html.escape(finding.suggestion)}</p>")
        if not self.findings:
            parts.append("<p>Diagnostics: nothing unusual.</p>")
        return "\n".join(parts)


def plot_run(run_id: int, store=None) -> RunFigures:
    """Run `run_id` of the run store (a path or RunStore; default: learnscope's store): its curves, gradient flow,
    update ratios, activation health and first-layer weights, and what the diagnostics found."""
    opened, owned = open_store(store if store is not None else default_store_path(), "plot_run",
                               "Pass e.g. plot_run(3, store='runs.sqlite').")
    try:
        return _read(opened, run_id)
    finally:
        if owned:
            opened.close()


def _read(store: RunStore, run_id: int) -> RunFigures:
    run = store.run(run_id)
    findings = diagnose_recorded(run, store.metrics(run_id))
    report_run = read_report_run(store, run_id, findings)
    sections = [("Loss and accuracy", figures.curves([report_run])),
                ("Gradient flow", figures.gradient_flow(report_run.history)),
                ("Update ratios", figures.update_ratios(report_run.history)),
                ("Activation health", figures.activation_health(report_run.history)),
                ("First-layer weights", figures.first_layer_weights(report_run))]
    return RunFigures(f"run {run['id']}: {run['name']} ({run['status']})", sections, findings)
