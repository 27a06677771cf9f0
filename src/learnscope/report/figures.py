"""The report's figures, drawn with matplotlib from a run's recorded numbers: each section gives the pictures
(PNG data URIs with their captions) or, when the run recorded nothing for it, the sentence that says so.
No HTML here: the template (report.html.j2) lays them out.
"""

import base64
import io
import math
from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps

from learnscope.core.figures import DPI, new_figure
from learnscope.store.replay import RunHistory

#: The rule of thumb for a healthy update size ‖ΔW‖/‖W‖ per step
UPDATE_RATIO_GUIDE = 1e-3
#: At most this many first-layer units are drawn as weight images
MAX_WEIGHT_TILES = 64


@dataclass
class Picture:
    """One embedded figure: a PNG data URI, its caption (also its alt text) and its kind (the CSS class)."""

    uri: str
    caption: str
    kind: str


@dataclass
class Shown:
    pictures: list[Picture]


@dataclass
class Missing:
    """What the run did not record, in a sentence."""

    text: str


def curves(runs) -> Shown | Missing:
    """Loss and accuracy of every run, overlaid by examples seen when every run recorded them."""
    by = "examples" if all(_has_positions(run.history) for run in runs) else "step"
    panels = [(name, label) for name, label in (("loss", "loss"), ("accuracy", "accuracy"))
              if any(name in run.history.metrics or f"epoch/val_{name}" in run.history.metrics for run in runs)]
    if not panels:
        return Missing("No loss or accuracy was recorded.")
    fig, axes = new_figure(len(panels), width=4.6 * len(panels) + 0.6, height=3.2)
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
    return _shown(fig, caption, "overlay" if several else "curves")


def gradient_flow(history: RunHistory) -> Shown | Missing:
    names = _weight_metrics(history, "grad_rms/")
    if not names:
        return Missing("No gradient sizes were recorded for this run.")
    fig, (over_time, per_layer) = new_figure(2, width=9.4, height=3.3, ratios=(3, 2))
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
    return _shown(fig, caption, "gradient-flow")


def update_ratios(history: RunHistory) -> Shown | Missing:
    names = _weight_metrics(history, "update_ratio/")
    if not names:
        return Missing("No update ratios were recorded for this run.")
    fig, (ax,) = new_figure(1, width=7.2, height=3.1)
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
    return _shown(fig, caption, "update-ratios")


def activation_health(history: RunHistory) -> Shown | Missing:
    names = sorted((n for n in history.metrics if n.startswith(("dead_fraction/", "saturated_fraction/"))),
                   key=lambda n: (_depth(n.split("/", 1)[1]), n))
    if not names:
        return Missing("No ReLU, tanh or sigmoid layers were recorded (or this model has none).")
    fig, (ax,) = new_figure(1, width=7.2, height=3.1)
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
    return _shown(fig, caption, "activations")


def first_layer_weights(run) -> Shown | Missing:
    """A histogram of the first layer's weights at the first and the last snapshot; for 784 inputs, each unit's
    weights as a 28×28 picture."""
    if not run.snapshots:
        tensors_every = run.history.run["config"].get("tensors_every")
        hint = "" if tensors_every else " Record with Recorder(..., tensors_every=500) to see them."
        return Missing(f"No snapshots of the first layer's weights were recorded.{hint}")
    first, last = run.snapshots[0], run.snapshots[-1]
    first_step, last_step = int(run.snapshot_steps[0]), int(run.snapshot_steps[-1])
    fig, (ax,) = new_figure(1, width=7.2, height=2.9)
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
    shown = _shown(fig, "The distribution of the first layer's weights at the first and the last snapshot: "
                        "training widens it a little; a histogram that explodes outwards or collapses to 0 "
                        "points at a learning rate or weight decay problem.", "weight-histogram")
    if last.ndim == 2 and last.shape[0] == 784:
        shown.pictures += _weight_images(last, last_step, run.snapshot_name).pictures
    return shown


def confusion(run) -> Shown | Missing:
    """The last recorded confusion matrix, each true class's row coloured by its shares."""
    if run.confusion is None:
        return Missing("No confusion matrix was recorded (it needs a classifier evaluated at the end: "
                        "fit(validation_data=...) with a Recorder, or 'learnscope train').")
    counts = run.confusion
    n_classes = len(counts)
    names = run.history.run["config"].get("class_names") or [str(k) for k in range(n_classes)]
    fig, (ax,) = new_figure(1, width=min(2.2 + 0.55 * n_classes, 8.0), height=min(1.8 + 0.5 * n_classes, 7.5))
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
    return _shown(fig, f"Which classes the network confuses on the {which} set (accuracy {accuracy:.2%}): "
                             "each row is a true class, each column what the network said; everything off the "
                             "diagonal is a mistake, and a bright off-diagonal cell is a pair it mixes up.",
                        "confusion")


def _weight_images(weights: np.ndarray, step: int, name: str | None) -> Shown:
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
    fig, (ax,) = new_figure(1, width=side + 0.3, height=side * rows / columns + 0.5)
    ax.imshow(np.ma.masked_invalid(mosaic), cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(f"{name} at step {step}, {n_units} of {weights.shape[1]} units", fontsize=9)
    caption = ("Each tile is one first-layer unit's 784 incoming weights laid out as the 28×28 picture it looks at "
               "(red: pixels that excite it, blue: pixels that inhibit it): trained units show strokes and blobs, "
               "units that still look like static have not learned much.")
    return _shown(fig, caption, "weight-images")


# -- helpers -----------------------------------------------------------------------------------------------------
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


def _shown(fig, caption: str, kind: str) -> Shown:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return Shown([Picture(uri, caption, kind)])


def format_value(value) -> str:
    """A setting or an evidence value as short text: floats to 4 significant digits, lists and dicts inside."""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    return str(value)
