"""A self-contained HTML report of recorded runs: one file, figures embedded as PNG data URIs, no scripts and no
network requests, so it opens anywhere (a browser offline, an e-mail attachment, a course page).

read_report_run(store, run_id, diagnoses) gathers what one run recorded; render_report(runs) draws it with matplotlib
and returns the HTML text. The numbers come from the store and the diagnoses from train.diagnostics (the caller
runs diagnose(), so this module reads and draws only). Every text that comes from the store is escaped.
"""

import base64
import html
import io
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure  # no pyplot: no global state, no GUI window

from learnscope.store.replay import RunHistory, load_history
from learnscope.store.runs import RunStore

#: Suffixes `learnscope report -o` accepts
REPORT_SUFFIXES = (".html", ".htm")
#: Resolution of the embedded figures: small files, still sharp at the width the page shows them
DPI = 90
#: The rule of thumb for a healthy update size ‖ΔW‖/‖W‖ per step
UPDATE_RATIO_GUIDE = 1e-3
#: At most this many first-layer units are drawn as weight images
MAX_WEIGHT_TILES = 64
#: At most this many events are listed per run (the first ones and the last ones)
MAX_EVENTS = 60


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
    return path


def render_report(runs: Sequence[ReportRun]) -> str:
    """The HTML text of the report of one or more runs (curves overlaid when there are several)."""
    runs = list(runs)
    if not runs:
        raise ValueError("render_report expected at least one run, got none.")
    title = "learnscope report: " + ", ".join(f"run {r.history.run['id']} ({r.history.run['name']})" for r in runs)
    parts = [_HEAD.format(title=_e(title)), f"<h1>{_e(title)}</h1>", _summary_table(runs)]
    parts += ["<h2>Loss and accuracy</h2>", _curves_section(runs)]
    for run in runs:
        parts.append(_run_section(run))
    parts.append(f"<footer>Made by learnscope on {_e(time.strftime('%Y-%m-%d %H:%M'))}.</footer></main></body>"
                 "</html>\n")
    return "\n".join(parts)


# -- the sections ------------------------------------------------------------------------------------------------
def _summary_table(runs: list[ReportRun]) -> str:
    rows = []
    for run in runs:
        info = run.history.run
        settings = ", ".join(f"{key}: {_value(value)}" for key, value in info["config"].items())
        layers = " → ".join(layer.get("type", "?") for layer in info["architecture"] if isinstance(layer, dict))
        rows.append(f"<tr><td>{info['id']}</td><td>{_e(info['name'])}</td>"
                    f"<td class='status-{_e(info['status'])}'>{_e(info['status'])}</td>"
                    f"<td>{_e(info['dataset'] or '—')}</td><td>{_e(layers or '—')}</td>"
                    f"<td class='settings'>{_e(settings)}</td></tr>")
    return ("<table class='summary'><tr><th>id</th><th>name</th><th>status</th><th>dataset</th><th>layers</th>"
            "<th>settings</th></tr>" + "".join(rows) + "</table>")


def _curves_section(runs: list[ReportRun]) -> str:
    by = "examples" if all(_has_positions(run.history) for run in runs) else "step"
    panels = [(name, label) for name, label in (("loss", "loss"), ("accuracy", "accuracy"))
              if any(name in run.history.metrics or f"epoch/val_{name}" in run.history.metrics for run in runs)]
    if not panels:
        return _missing("No loss or accuracy was recorded.")
    fig, axes = _figure(len(panels), width=4.6 * len(panels) + 0.6, height=3.2)
    colors = _colors(len(runs))
    for ax, (name, label) in zip(axes, panels):
        for run, color in zip(runs, colors):
            history = run.history
            tag = f"{history.run['id']}: {history.run['name']}" if len(runs) > 1 else ""
            if name in history.metrics:
                x, values = _curve(history, name, by)
                ax.plot(x, values, color=color, alpha=0.3, linewidth=0.8)
                ax.plot(x, _smooth(values), color=color, linewidth=1.6, label=f"{tag} train".strip())
            if f"epoch/val_{name}" in history.metrics:
                x, values = _curve(history, f"epoch/val_{name}", by)
                ax.plot(x, values, color=color, linestyle="--", marker="o", markersize=4,
                        label=f"{tag} validation".strip())
        ax.set_title(label)
        ax.set_xlabel("examples seen" if by == "examples" else "step")
        ax.grid(alpha=0.3)
        if name == "accuracy":
            ax.set_ylim(-0.02, 1.02)
        _legend(ax)
    several = len(runs) > 1
    caption = ("Loss (lower is better) and accuracy (higher is better): the thin line is each training step, the thick "
               "line its running average, the dashed line the validation set at each epoch end; "
               + ("the runs are lined up by examples seen, so different batch sizes compare fairly — the curve that "
                  "drops first learns fastest per example." if several else
                  "look for a steady fall that flattens out, and for validation pulling away from training "
                  "(overfitting)."))
    return _figure_html(fig, caption, "overlay" if several else "curves")


def _run_section(run: ReportRun) -> str:
    info = run.history.run
    parts = [f"<section class='run'><h2>Run {info['id']}: {_e(info['name'])} ({_e(info['status'])})</h2>"]
    parts += ["<h3>Gradient flow</h3>", _gradient_flow(run.history)]
    parts += ["<h3>Update ratios</h3>", _update_ratios(run.history)]
    parts += ["<h3>Activation health</h3>", _activation_health(run.history)]
    parts += ["<h3>First-layer weights</h3>", _weights(run)]
    parts += ["<h3>Confusion matrix</h3>", _confusion(run)]
    parts += ["<h3>Diagnostics</h3>", _diagnoses(run.diagnoses)]
    parts += ["<h3>Events</h3>", _events(run.events), "</section>"]
    return "\n".join(parts)


def _gradient_flow(history: RunHistory) -> str:
    names = _weight_metrics(history, "grad_rms/")
    if not names:
        return _missing("No gradient sizes were recorded for this run.")
    fig, (over_time, per_layer) = _figure(2, width=9.4, height=3.3, ratios=(3, 2))
    colors = _colors(len(names), depth=True)
    medians = []
    for name, color in zip(names, colors):
        steps, values = history.curve(name)
        _log_line(over_time, steps, values, color, _param(name))
        tail = values[len(values) * 2 // 3:]
        tail = tail[np.isfinite(tail) & (tail > 0)]
        medians.append(float(np.median(tail)) if len(tail) else math.nan)
    over_time.set_yscale("log")
    over_time.set_title("gradient RMS per weight layer")
    over_time.set_xlabel("step")
    over_time.grid(alpha=0.3, which="both")
    _legend(over_time, outside=True)
    labels = [_param(name) for name in names]
    heights = [m if math.isfinite(m) and m > 0 else 0.0 for m in medians]
    per_layer.bar(range(len(names)), heights, color=colors)
    per_layer.set_xticks(range(len(names)), labels, rotation=30, ha="right", fontsize=8)
    if any(h > 0 for h in heights):
        per_layer.set_yscale("log")
    per_layer.set_title("median of the last third", fontsize=10)
    per_layer.set_xlabel("input → output")
    per_layer.grid(alpha=0.3, axis="y", which="both")
    caption = ("How big each weight layer's gradient is (root mean square, log scale), from the first layer (dark) "
               "to the last (light): bars that shrink by factors of 10 towards the input mean vanishing gradients — "
               "the early layers barely learn.")
    return _figure_html(fig, caption, "gradient-flow")


def _update_ratios(history: RunHistory) -> str:
    names = _weight_metrics(history, "update_ratio/")
    if not names:
        return _missing("No update ratios were recorded for this run.")
    fig, (ax,) = _figure(1, width=7.2, height=3.1)
    for name, color in zip(names, _colors(len(names), depth=True)):
        steps, values = history.curve(name)
        _log_line(ax, steps, values, color, _param(name))
    ax.axhline(UPDATE_RATIO_GUIDE, color="crimson", linestyle=":", linewidth=1.5, label="1e-3 rule of thumb")
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_title("update size ‖ΔW‖ / ‖W‖ per step")
    ax.grid(alpha=0.3, which="both")
    _legend(ax, outside=True)
    caption = ("How much each step changes each weight layer, relative to its size (log scale): around the dotted "
               "1e-3 line is healthy; far above it the learning rate is too high, far below it too low.")
    return _figure_html(fig, caption, "update-ratios")


def _activation_health(history: RunHistory) -> str:
    names = sorted((n for n in history.metrics if n.startswith(("dead_fraction/", "saturated_fraction/"))),
                   key=lambda n: (_depth(n.split("/", 1)[1]), n))
    if not names:
        return _missing("No ReLU, tanh or sigmoid layers were recorded (or this model has none).")
    fig, (ax,) = _figure(1, width=7.2, height=3.1)
    for name, color in zip(names, _colors(len(names), depth=True)):
        steps, values = history.curve(name)
        kind, layer = name.split("/", 1)
        ax.plot(steps, values, color=color, linewidth=1.4,
                label=f"{layer} {'dead' if kind == 'dead_fraction' else 'saturated'}")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("step")
    ax.set_title("fraction of units dead (ReLU) or saturated (tanh, sigmoid)")
    ax.grid(alpha=0.3)
    _legend(ax, outside=True)
    caption = ("The share of each activation layer's units that are dead (a ReLU that outputs 0 for the whole batch) "
               "or saturated (a tanh or sigmoid stuck in its flat ends): near 0 is healthy, a line climbing towards "
               "1 means that layer has stopped passing gradients back.")
    return _figure_html(fig, caption, "activations")


def _weights(run: ReportRun) -> str:
    if not run.snapshots:
        tensors_every = run.history.run["config"].get("tensors_every")
        hint = "" if tensors_every else " Record with Recorder(..., tensors_every=500) to see them."
        return _missing(f"No snapshots of the first layer's weights were recorded.{hint}")
    first, last = run.snapshots[0], run.snapshots[-1]
    first_step, last_step = int(run.snapshot_steps[0]), int(run.snapshot_steps[-1])
    fig, (ax,) = _figure(1, width=7.2, height=2.9)
    values = np.concatenate([first.ravel(), last.ravel()]).astype(np.float64)
    values = values[np.isfinite(values)]
    bins = np.linspace(values.min(), values.max(), 61) if len(values) and values.max() > values.min() else 60
    ax.hist(first.ravel(), bins=bins, color="#888888", alpha=0.6, label=f"step {first_step} (first snapshot)")
    ax.hist(last.ravel(), bins=bins, histtype="step", color="#1f5fbf", linewidth=1.6,
            label=f"step {last_step} (last snapshot)")
    ax.set_xlabel(f"weight value of {run.snapshot_name}")
    ax.set_ylabel("count")
    ax.grid(alpha=0.3)
    _legend(ax)
    parts = [_figure_html(fig, "The distribution of the first layer's weights at the first and the last snapshot: "
                               "training widens it a little; a histogram that explodes outwards or collapses to 0 "
                               "points at a learning rate or weight decay problem.", "weight-histogram")]
    if last.ndim == 2 and last.shape[0] == 784:
        parts.append(_weight_images(last, last_step, run.snapshot_name))
    return "\n".join(parts)


def _confusion(run: ReportRun) -> str:
    if run.confusion is None:
        return _missing("No confusion matrix was recorded (it needs a classifier evaluated at the end: "
                        "fit(validation_data=...) with a Recorder, or 'learnscope train').")
    counts = run.confusion
    n_classes = len(counts)
    names = run.history.run["config"].get("class_names") or [str(k) for k in range(n_classes)]
    fig, (ax,) = _figure(1, width=min(2.2 + 0.55 * n_classes, 8.0), height=min(1.8 + 0.5 * n_classes, 7.5))
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)     # each true class's row sums to 1
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    if n_classes <= 20:
        for true_class in range(n_classes):
            for predicted in range(n_classes):
                ax.text(predicted, true_class, str(int(counts[true_class, predicted])), ha="center", va="center",
                        fontsize=7, color="white" if shares[true_class, predicted] > 0.5 else "black")
    ax.set_xticks(range(n_classes), [str(name)[:10] for name in names], rotation=45, ha="right", fontsize=7)
    ax.set_yticks(range(n_classes), [str(name)[:10] for name in names], fontsize=7)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    which = run.confusion_name.split("/", 1)[-1]
    return _figure_html(fig, f"Which classes the network confuses on the {which} set (accuracy {accuracy:.2%}): "
                             "each row is a true class, each column what the network said; everything off the "
                             "diagonal is a mistake, and a bright off-diagonal cell is a pair it mixes up.",
                        "confusion")


def _weight_images(weights: np.ndarray, step: int, name: str | None) -> str:
    """Each unit's 784 incoming weights as a 28×28 tile, red positive, blue negative, each tile on its own scale."""
    n_units = min(weights.shape[1], MAX_WEIGHT_TILES)
    columns = min(n_units, 8 if n_units > 16 else 4 if n_units > 4 else n_units)
    rows = -(-n_units // columns)
    mosaic = np.full((rows * 29 - 1, columns * 29 - 1), np.nan)
    for unit in range(n_units):
        tile = weights[:, unit].reshape(28, 28).astype(np.float64)
        scale = np.abs(tile).max()
        row, column = divmod(unit, columns)
        mosaic[row * 29:row * 29 + 28, column * 29:column * 29 + 28] = tile / scale if scale > 0 else tile
    side = 0.62 * columns
    fig, (ax,) = _figure(1, width=side + 0.3, height=side * rows / columns + 0.5)
    ax.imshow(np.ma.masked_invalid(mosaic), cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(f"{name} at step {step}, {n_units} of {weights.shape[1]} units", fontsize=9)
    caption = ("Each tile is one first-layer unit's 784 incoming weights laid out as the 28×28 picture it looks at "
               "(red: pixels that excite it, blue: pixels that inhibit it): trained units show strokes and blobs, "
               "units that still look like static have not learned much.")
    return _figure_html(fig, caption, "weight-images")


def _diagnoses(diagnoses: Sequence) -> str:
    if not diagnoses:
        return ("<p class='healthy'>Nothing unusual: gradients, update sizes, activations and curves look "
                "healthy.</p>")
    items = []
    for finding in diagnoses:
        evidence = "".join(f"<li><code>{_e(key)}</code>: {_e(_value(value))}</li>"
                           for key, value in (finding.evidence or {}).items())
        items.append(f"<div class='diagnosis {_e(finding.severity)}'><h4>{_e(finding.severity)}: {_e(finding.title)}"
                     f"</h4><p>{_e(finding.explanation)}</p><p><strong>Try:</strong> {_e(finding.suggestion)}</p>"
                     + (f"<details open><summary>evidence</summary><ul>{evidence}</ul></details>" if evidence else "")
                     + "</div>")
    return "\n".join(items)


def _events(events: list[dict]) -> str:
    if not events:
        return _missing("No events were recorded.")
    shown = events if len(events) <= MAX_EVENTS else [*events[:MAX_EVENTS // 2], None, *events[-MAX_EVENTS // 2:]]
    rows = []
    for event in shown:
        if event is None:
            rows.append(f"<tr><td colspan='3'>… {len(events) - MAX_EVENTS} more events …</td></tr>")
            continue
        step = "" if event["step"] is None else str(event["step"])
        rows.append(f"<tr><td>{_e(step)}</td><td>{_e(event['kind'])}</td><td>{_e(event['message'])}</td></tr>")
    return "<table class='events'><tr><th>step</th><th>kind</th><th>message</th></tr>" + "".join(rows) + "</table>"


# -- helpers -----------------------------------------------------------------------------------------------------
def _figure(n_panels: int, width: float, height: float, ratios=None):
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)                            # the Agg renderer, whatever backend the user has configured
    axes = fig.subplots(1, n_panels, squeeze=False, width_ratios=ratios)[0]
    return fig, list(axes)


def _figure_html(fig, caption: str, kind: str) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f"<figure class='{kind}'><img src='data:image/png;base64,{data}' alt='{_e(caption)}'>"
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _log_line(ax, steps, values, color, label) -> None:
    """Only positive, finite values can sit on a log axis (a zero gradient is a dead layer, shown as a gap)."""
    values = np.where(np.isfinite(values) & (values > 0), values, np.nan)
    if np.isfinite(values).any():
        ax.plot(steps, values, color=color, linewidth=1.3, label=label)


def _curve(history: RunHistory, name: str, by: str):
    x, values = history.curve(name, by=by)
    return x, np.where(np.isfinite(values), values, np.nan)


def _has_positions(history: RunHistory) -> bool:
    if not history.run["config"].get("n_samples"):
        return False
    return all((seen >= 0).all() for name, seen in history.examples_seen.items()
               if name in ("loss", "accuracy", "epoch/val_loss", "epoch/val_accuracy"))


def _smooth(values: np.ndarray, window: int = 10) -> np.ndarray:
    """Running mean over the last `window` recordings (NaNs stay NaN): the trend under the batch-to-batch noise."""
    if len(values) < 3:
        return values
    window = max(1, min(window, len(values) // 5 or 1))
    out = np.convolve(values, np.ones(window) / window, mode="full")[:len(values)]
    out[:window - 1] /= np.arange(1, window) / window     # the first points average over fewer values
    return out


def _weight_metrics(history: RunHistory, prefix: str) -> list[str]:
    names = [n for n in history.metrics if n.startswith(prefix) and n.endswith(".W")]
    return sorted(names, key=lambda n: (_depth(n[len(prefix):]), n))


def _depth(name: str) -> int:
    head = name.split(".", 1)[0]
    return int(head) if head.isdigit() else 10**6


def _param(metric: str) -> str:
    return metric.split("/", 1)[1]


def _colors(n: int, depth: bool = False) -> list:
    if depth:                                       # dark = near the input, light = near the output
        return [colormaps["viridis"](0.85 * i / max(n - 1, 1)) for i in range(n)]
    return [colormaps["tab10"](i % 10) for i in range(n)]


def _legend(ax, outside: bool = False) -> None:
    """Inside the axes where it hides the least, or (one line per layer: many lines) beside them on the right."""
    if not ax.get_legend_handles_labels()[0]:
        return
    if outside:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, frameon=False)
    else:
        ax.legend(fontsize=7, loc="best", framealpha=0.8)


def _value(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


def _missing(text: str) -> str:
    return f"<p class='missing'>{_e(text)}</p>"


def _e(text) -> str:
    return html.escape(str(text), quote=True)


_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; background: #fafafa; color: #222; line-height: 1.45; }}
main {{ max-width: 960px; margin: 0 auto; padding: 1.5em; background: #fff; }}
h1 {{ font-size: 1.5em; overflow-wrap: anywhere; }}
h2 {{ border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; overflow-wrap: anywhere; }}
h3 {{ margin-top: 1.4em; }}
table {{ border-collapse: collapse; width: 100%; font-size: 0.9em; }}
th, td {{ border: 1px solid #ddd; padding: 0.3em 0.5em; text-align: left; vertical-align: top;
          overflow-wrap: break-word; }}
th {{ background: #f0f0f0; white-space: nowrap; }}
table.summary td:nth-child(1), table.summary td:nth-child(3), table.summary td:nth-child(4) {{ white-space: nowrap; }}
td.settings {{ font-size: 0.85em; width: 50%; overflow-wrap: anywhere; }}
figure {{ margin: 0.8em 0; }}
figure img {{ display: block; max-width: 100%; height: auto; }}
figcaption {{ font-size: 0.9em; color: #555; margin-top: 0.3em; }}
.diagnosis {{ border-left: 5px solid #e0a000; background: #fff8e6; padding: 0.4em 0.9em; margin: 0.7em 0; }}
.diagnosis.problem {{ border-color: #c62828; background: #fdecea; }}
.diagnosis h4 {{ margin: 0.3em 0; }}
.healthy {{ border-left: 5px solid #2e7d32; background: #edf7ed; padding: 0.5em 0.9em; }}
.missing {{ color: #777; font-style: italic; }}
.status-diverged, .status-interrupted {{ color: #c62828; font-weight: bold; }}
footer {{ margin-top: 2em; font-size: 0.8em; color: #888; }}
</style></head><body><main>"""
