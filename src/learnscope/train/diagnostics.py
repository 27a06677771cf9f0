"""Diagnostics: what went wrong in a training run, read from its recorded metrics, in plain words.

diagnose(metrics, status, n_classes) looks at the curves a recorder stored and returns a list of Diagnosis
objects: vanishing or exploding gradients, divergence, a learning rate too high or too low, dead ReLUs, saturated
units, overfitting, underfitting. Each says what it saw (evidence: the numbers that triggered it), why it happens
(explanation) and what to try (suggestion: numbers and layer names).

The metrics format (what the Recorder stores), name -> (steps, values), both 1-D arrays of the same length:
    loss, accuracy, lr                            per recorded step
    grad_rms/<param>                              sqrt(mean(g²)) of a parameter's gradient, e.g. grad_rms/0.dense.W
    update_ratio/<param>                          ‖ΔW‖ / ‖W‖ of that step's update
    weight_rms/<param>                            sqrt(mean(W²))
    dead_fraction/<i>.relu                        fraction of the layer's units that output 0 for the whole batch
    saturated_fraction/<i>.tanh, /<i>.sigmoid     fraction of activations in the flat ends of the curve
    epoch/loss, epoch/accuracy, epoch/val_loss, epoch/val_accuracy    per epoch (steps = epoch index)
Parameter names are model.named_params() names ("<layer index>.<layer type>.<key>"); the checks of gradients and
updates look at weights only (key W), since biases start at zero and have no meaningful scale.

This module reads numbers only: it imports nothing from the engine, so it works on stored runs as well as live ones.
"""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from learnscope.core.validation import check_int, describe

KINDS = ("divergence", "exploding_gradients", "lr_too_high", "vanishing_gradients", "lr_too_low", "dead_relus",
         "saturated_units", "underfitting", "overfitting")
SEVERITIES = ("problem", "warning")

# -- thresholds ----------------------------------------------------------------------------------------------------
#: Curves are judged on their last third: early training is a transient, the end is where the run settled.
TAIL_FRACTION = 1 / 3
#: Vanishing: the first weight layer's median per-weight gradient (last third) is below this times the last layer's.
#: Healthy MNIST MLPs sit near 0.1–1; a 6-layer sigmoid net with a small init shows ~1e-5.
VANISHING_RATIO = 1e-2
#: Exploding: a weight layer's gradient RMS peaks above this multiple of its first recording (the untrained
#: network's). Healthy MNIST runs peak at ≤ ~4× (gradients shrink as the loss falls); SGD lr=5 reaches 14–80×
#: within a few steps, which is why the first recording, not a median of several, is the reference.
EXPLODING_GROWTH = 10.0
#: ...while the loss (median of the last third) ends above this multiple of where it started.
EXPLODING_LOSS_RISE = 1.2
#: Exploding, the other shape: the first weight layer's gradient above this multiple of the last layer's
#: (gradients growing on their way back through the network).
EXPLODING_RATIO = 1e2
#: Divergence: the loss of the last third is above this multiple of the loss the run started at
#: (or the run stopped with status "diverged", or a recorded loss is NaN/inf).
DIVERGENCE_FACTOR = 3.0
#: Learning rate too high: the median over weight layers of each layer's median update ratio ‖ΔW‖/‖W‖ is above
#: this. The rule of thumb is ~1e-3 per step; SGD with momentum 0.9 at lr 0.1 on MNIST (a fast but healthy
#: setting) already shows ~1e-2, so the alarm sits 5× above that.
LR_HIGH_UPDATE_RATIO = 5e-2
#: ...or the loss spikes: a recorded loss above SPIKE_FACTOR × the median of the SPIKE_WINDOW recordings before it,
#: and above SPIKE_MIN_FRACTION × the first loss (so the noise of a loss that is already tiny does not count)...
SPIKE_FACTOR = 3.0
SPIKE_WINDOW = 10
SPIKE_MIN_FRACTION = 0.5
#: ...at least this many times.
SPIKE_MIN_COUNT = 3
#: Learning rate too low: even the fastest-moving weight layer's median update ratio is below this (1% of the
#: ~1e-3 rule of thumb), among layers that get a gradient at all (zero gradients are dead units, not the lr)...
LR_LOW_UPDATE_RATIO = 1e-5
#: ...and the loss changed by less than this fraction between the first and last third of the run. The loss of a
#: 32-example batch wobbles by a few percent, so "flat" cannot be tighter than that.
FLAT_LOSS_CHANGE = 0.05
#: Dead ReLUs: a ReLU layer whose mean dead fraction over the last third is above this; a problem above
#: DEAD_PROBLEM_FRACTION (the layer passes almost nothing on).
DEAD_FRACTION = 0.5
DEAD_PROBLEM_FRACTION = 0.9
#: Saturated units: a tanh/sigmoid layer whose mean saturated fraction over the last third is above this.
SATURATED_FRACTION = 0.5
SATURATED_PROBLEM_FRACTION = 0.9
#: Overfitting: the best val_loss came at least this many epochs before the last one...
OVERFIT_MIN_EPOCHS_SINCE_BEST = 2
#: ...the last val_loss is above this multiple of the best (a problem above OVERFIT_PROBLEM_RISE)...
OVERFIT_RISE = 1.1
OVERFIT_PROBLEM_RISE = 1.5
# ...while the training loss at the end is below its value at the best epoch (training still "improves").

#: Underfitting: the training loss of the last third is above this fraction of log(n_classes), the loss of a
#: uniform guess, and flat (FLAT_LOSS_CHANGE)...
UNDERFIT_CHANCE_FRACTION = 0.8
#: ...or, when n_classes is unknown, the training accuracy of the last third is below this, and the loss flat.
UNDERFIT_MAX_ACCURACY = 0.5

_LAYER_INDEX = re.compile(r"^(\d+)\.")


@dataclass
class Diagnosis:
    """One finding: kind (see KINDS), severity "problem" | "warning", a title, a plain-words explanation, a concrete
    suggestion, the numbers that triggered it (evidence) and the layers or parameters concerned."""

    kind: str
    severity: str
    title: str
    explanation: str
    suggestion: str
    evidence: dict = field(default_factory=dict)
    layers: list[str] = field(default_factory=list)
    fix: dict = field(default_factory=dict)     # setting -> value that addresses it (lr, activation, l2): one click

    @property
    def evidence_text(self) -> str:
        """The evidence in words, e.g. "first loss 0.685 · final loss 6.85 · growth 10"; per-layer numbers
        as "0.dense.W: growth 69"."""
        parts = []
        for key, value in self.evidence.items():
            if isinstance(value, dict):
                inner = ", ".join(f"{k.replace('_', ' ')} {_evidence_value(v)}" for k, v in value.items())
                parts.append(f"{key}: {inner}")
            else:
                parts.append(f"{key.replace('_', ' ')} {_evidence_value(value)}")
        return " · ".join(parts)

    @property
    def fix_label(self) -> str:
        """The fix in words, for its button: "Set the learning rate to 1"; "" when there is no one-click fix."""
        return "; ".join(f"{FIX_WORDS.get(key, f'Set {key} to')} {_fix_value(value)}"
                         for key, value in self.fix.items())


#: a fix's setting -> how its button starts
FIX_WORDS = {"lr": "Set the learning rate to", "activation": "Use the activation", "l2": "Set L2 to",
             "hidden": "Use hidden layers of"}


def _evidence_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(_evidence_value(item) for item in value)
    return str(value)


def _fix_value(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value) + (" neurons" if value else "")
    return str(value)


def diagnose(metrics: Mapping, status: str | None = None, n_classes: int | None = None) -> list[Diagnosis]:
    """Every diagnosis the recorded metrics support, problems first.   metrics: name -> (steps, values)
    status: how the run ended ("finished", "diverged", ...); n_classes: for "is the loss stuck at chance?"."""
    series = _check_metrics(metrics)
    if status is not None and not isinstance(status, str):
        raise TypeError(f"diagnose expected status to be a str such as 'finished' or None, got {describe(status)}.")
    if n_classes is not None:
        n_classes = check_int(n_classes, "n_classes", "diagnose", minimum=2, fix="Pass e.g. n_classes=10, or None.")
    found = [
        _divergence(series, status),
        _exploding_gradients(series),
        _lr_too_high(series),
        _vanishing_gradients(series),
        _lr_too_low(series),
        *_dead_relus(series),
        *_saturated_units(series),
        _overfitting(series),
    ]
    if found[0] is None:                                # a diverged run's high loss is not underfitting
        found.append(_underfitting(series, n_classes))
    found = [d for d in found if d is not None]
    return sorted(found, key=lambda d: (SEVERITIES.index(d.severity), KINDS.index(d.kind)))


# -- reading the metrics ---------------------------------------------------------------------------------------------
def _check_metrics(metrics) -> dict[str, np.ndarray]:
    """name -> values (float64), validated at the boundary; steps are only checked to match."""
    if not isinstance(metrics, Mapping):
        raise TypeError(f"diagnose expected metrics to be a dict name -> (steps, values), got {describe(metrics)}.")
    series = {}
    for name, pair in metrics.items():
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise TypeError(f"diagnose expected metrics[{name!r}] to be a pair (steps, values), got {describe(pair)}.")
        steps, values = (np.asarray(part, dtype=np.float64).reshape(-1) for part in pair)
        if len(steps) != len(values):
            raise ValueError(f"diagnose expected metrics[{name!r}] to hold as many steps as values, got "
                             f"{len(steps)} and {len(values)}.")
        series[name] = values
    return series


def _tail(values: np.ndarray) -> np.ndarray:
    """The last third of a curve (at least one value)."""
    return values[-max(1, math.ceil(len(values) * TAIL_FRACTION)):]


def _head(values: np.ndarray) -> np.ndarray:
    return values[:max(1, math.ceil(len(values) * TAIL_FRACTION))]


def _finite_median(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if len(finite) else math.nan


def _weights(series: dict, prefix: str) -> list[tuple[str, np.ndarray]]:
    """[(param name, values)] of the weight matrices (key W) under prefix, in layer order."""
    found = [(name[len(prefix) + 1:], values) for name, values in series.items()
             if name.startswith(prefix + "/") and name.endswith(".W") and len(values)]
    return sorted(found, key=lambda item: _layer_index(item[0]))


def _layer_index(name: str) -> int:
    match = _LAYER_INDEX.match(name)
    return int(match.group(1)) if match else -1


def _loss(series: dict) -> np.ndarray | None:
    loss = series.get("loss")
    if loss is None or not len(loss):
        loss = series.get("epoch/loss")
    return loss if loss is not None and len(loss) else None


def _current_lr(series: dict) -> float | None:
    lr = series.get("lr")
    if lr is None or not len(lr) or not math.isfinite(lr[-1]):
        return None
    return float(lr[-1])


def _lr_advice(series: dict, factor: float, fallback: str) -> str:
    lr = _current_lr(series)
    if lr is None:
        return fallback
    return f"lr={lr:.3g} → lr={lr * factor:.3g}"


def _lr_fix(series: dict, factor: float) -> dict:
    """The one-click form of _lr_advice: {"lr": new value}, or {} when the run's learning rate is not known."""
    lr = _current_lr(series)
    return {} if lr is None else {"lr": _g(lr * factor)}


def _g(value: float) -> float:
    """A number for the evidence dict: rounded to 4 significant digits, plain float."""
    return float(f"{value:.4g}")


# -- the checks --------------------------------------------------------------------------------------------------------
def _divergence(series: dict, status: str | None) -> Diagnosis | None:
    loss = _loss(series)
    evidence: dict = {}
    if status == "diverged":
        evidence["status"] = status
    if loss is not None:
        finite = np.isfinite(loss)
        if not finite.all():
            evidence["first_non_finite_index"] = int(np.argmin(finite))
        elif len(loss) >= 3:
            start, end = float(loss[0]), float(np.median(_tail(loss)))
            if start > 0 and end > DIVERGENCE_FACTOR * start:
                evidence.update(first_loss=_g(start), final_loss=_g(end), growth=_g(end / start))
    if not evidence:
        return None
    return Diagnosis(
        "divergence", "problem", "Training diverged: the loss went up instead of down",
        "Each update overshot: the step was so large that the weights landed somewhere worse than before, the next "
        "gradient was larger still, and the loss climbed (or became NaN/inf, numbers too large for float32).",
        f"Lower the learning rate by 10× ({_lr_advice(series, 0.1, 'e.g. lr=0.01')}); if it still diverges, add "
        "gradient clipping (clip_norm=1.0) and check that the inputs are scaled to about [0, 1].",
        evidence, fix=_lr_fix(series, 0.1))


def _exploding_gradients(series: dict) -> Diagnosis | None:
    grads = _weights(series, "grad_rms")
    if not grads:
        return None
    layers, evidence = [], {}
    loss_rose = _loss_rose(series)
    for name, values in grads:
        if not np.isfinite(values).all():
            layers.append(name)
            evidence[name] = {"non_finite": True}
            continue
        if len(values) < 2:
            continue
        start, peak = float(values[0]), float(values.max())
        if start > 0 and peak > EXPLODING_GROWTH * start and loss_rose:
            layers.append(name)
            evidence[name] = {"start_grad_rms": _g(start), "peak_grad_rms": _g(peak), "growth": _g(peak / start)}
    if len(grads) >= 2 and not layers:
        first, last = (_finite_median(_tail(values)) for _, values in (grads[0], grads[-1]))
        if last > 0 and first > EXPLODING_RATIO * last:
            layers = [grads[0][0]]
            evidence = {"first_layer_grad_rms": _g(first), "last_layer_grad_rms": _g(last),
                        "ratio": _g(first / last)}
    if not layers:
        return None
    return Diagnosis(
        "exploding_gradients", "problem", f"Exploding gradients in {', '.join(layers)}",
        "The gradients grew far beyond where they started. Once a step is too large the weights grow, larger "
        "weights make larger gradients, and each step pushes the next one further out: a feedback loop.",
        f"Lower the learning rate ({_lr_advice(series, 0.1, 'e.g. by 10×')}), add gradient clipping "
        "(clip_norm=1.0 on the optimizer), and use He init for ReLU / Xavier for tanh layers; BatchNorm also helps.",
        evidence, layers, fix=_lr_fix(series, 0.1))


def _loss_rose(series: dict) -> bool:
    """The feedback loop of exploding gradients makes the loss worse: gradients that grow while the loss falls are
    a network leaving its flat start (a small net's first epochs), not an explosion. True without a loss curve."""
    loss = _loss(series)
    if loss is None or len(loss) < 2 or not np.isfinite(loss).all():
        return True
    return float(np.median(_tail(loss))) > EXPLODING_LOSS_RISE * float(loss[0])


def _loss_spikes(loss: np.ndarray) -> list[int]:
    """Indices of recordings whose loss jumps SPIKE_FACTOR× above the running median before them."""
    if len(loss) < 2 or not math.isfinite(loss[0]):
        return []
    floor = SPIKE_MIN_FRACTION * float(loss[0])
    spikes = []
    for i in range(1, len(loss)):
        before = loss[max(0, i - SPIKE_WINDOW):i]
        reference = _finite_median(before)
        if math.isfinite(reference) and loss[i] > SPIKE_FACTOR * reference and loss[i] > floor:
            spikes.append(i)
    return spikes


def _lr_too_high(series: dict) -> Diagnosis | None:
    ratios = _weights(series, "update_ratio")
    evidence: dict = {}
    layers: list[str] = []
    if ratios:
        per_layer = {name: _finite_median(values) for name, values in ratios}
        median = _finite_median(np.array(list(per_layer.values())))
        if median > LR_HIGH_UPDATE_RATIO:
            evidence["median_update_ratio"] = _g(median)
            evidence["update_ratio_per_layer"] = {name: _g(value) for name, value in per_layer.items()}
            layers = [name for name, value in per_layer.items() if value > LR_HIGH_UPDATE_RATIO]
    loss = series.get("loss")
    if loss is not None:
        spikes = _loss_spikes(loss)
        if len(spikes) >= SPIKE_MIN_COUNT:
            evidence["loss_spikes"] = len(spikes)
            evidence["spike_losses"] = [_g(float(loss[i])) for i in spikes[:5]]
    if not evidence:
        return None
    return Diagnosis(
        "lr_too_high", "problem", "The learning rate is too high",
        "Each update changes the weights by a large fraction of their size (a healthy step moves them by about "
        "0.1%), so the network jumps across the valley of the loss instead of walking down into it: the loss "
        "is noisy, spikes, or climbs.",
        f"Divide the learning rate by 10 ({_lr_advice(series, 0.1, 'e.g. lr=0.01 for SGD, 1e-3 for Adam')}) and aim "
        "for update ratios ‖ΔW‖/‖W‖ near 1e-3; a warm-up (WarmUp schedule) or clip_norm=1.0 tames the first steps.",
        evidence, layers, fix=_lr_fix(series, 0.1))


def _vanishing_gradients(series: dict) -> Diagnosis | None:
    grads = _weights(series, "grad_rms")
    if len(grads) < 2:
        return None
    medians = [(name, _finite_median(_tail(values))) for name, values in grads]
    (first_name, first), (last_name, last) = medians[0], medians[-1]
    if not (last > 0 and math.isfinite(first)) or first >= VANISHING_RATIO * last:
        return None
    weak = [name for name, value in medians[:-1] if value < VANISHING_RATIO * last]
    share = f"1/{last / first:,.0f} of" if first > 0 else "none of"
    return Diagnosis(
        "vanishing_gradients", "problem", f"Vanishing gradients: {first_name} gets {share} the gradient of {last_name}",
        "The gradient reaching the first layers is orders of magnitude smaller than at the last one. Going backward, "
        "each layer multiplies the gradient by its weights and by the slope of its activation; a sigmoid's slope is "
        "at most 0.25, so with small weights the product shrinks layer after layer and the early layers barely move.",
        f"Use ReLU instead of sigmoid/tanh in the hidden layers with He init (init='he_normal'), or Xavier init for "
        f"tanh; add BatchNorm after the Dense layers, or use fewer layers. Layers affected: {', '.join(weak)}.",
        {"first_layer_grad_rms": _g(first), "last_layer_grad_rms": _g(last), "ratio": _g(first / last),
         "grad_rms_per_layer": {name: _g(value) for name, value in medians}},
        weak, fix={"activation": "relu"})


def _relative_change(loss: np.ndarray) -> float:
    """How much the loss fell from the first third to the last third, as a fraction of where it began."""
    start, end = _finite_median(_head(loss)), _finite_median(_tail(loss))
    return (start - end) / start if start > 0 else math.nan


def _lr_too_low(series: dict) -> Diagnosis | None:
    ratios = _weights(series, "update_ratio")
    grads = dict(_weights(series, "grad_rms"))
    loss = _loss(series)
    if not ratios or loss is None or len(loss) < 3:
        return None
    # NOTE: a layer with zero gradient (all its ReLUs dead) has a zero update whatever the lr: leave it out
    moving = {name: _finite_median(values) for name, values in ratios
              if name not in grads or _finite_median(grads[name]) > 0}
    if not moving:
        return None
    largest = max(moving.values())
    change = _relative_change(loss)
    if not (largest < LR_LOW_UPDATE_RATIO and abs(change) < FLAT_LOSS_CHANGE):
        return None
    return Diagnosis(
        "lr_too_low", "problem", "The learning rate is too low: the weights barely move",
        f"Each update changes the weights by only {largest:.1e} of their size (about 1e-3 is typical), so after the "
        f"whole run they are almost where they started and the loss changed by {abs(change):.1%}.",
        f"Raise the learning rate by 100× ({_lr_advice(series, 100.0, 'e.g. lr=0.1 for SGD, 1e-3 for Adam')}), "
        "then tune it by factors of 3 until the update ratio ‖ΔW‖/‖W‖ is near 1e-3.",
        {"largest_update_ratio": _g(largest), "loss_relative_change": _g(change),
         "update_ratio_per_layer": {name: _g(value) for name, value in moving.items()}},
        list(moving), fix=_lr_fix(series, 100.0))


def _activation_layers(series: dict, prefix: str) -> list[tuple[str, float]]:
    found = [(name[len(prefix) + 1:], float(np.mean(_tail(values)))) for name, values in series.items()
             if name.startswith(prefix + "/") and len(values)]
    return sorted(found, key=lambda item: _layer_index(item[0]))


def _dead_relus(series: dict) -> list[Diagnosis]:
    found = []
    for layer, fraction in _activation_layers(series, "dead_fraction"):
        if not fraction > DEAD_FRACTION:
            continue
        severity = "problem" if fraction > DEAD_PROBLEM_FRACTION else "warning"
        found.append(Diagnosis(
            "dead_relus", severity, f"{fraction:.0%} of the ReLUs in {layer} are dead",
            "A ReLU whose input is negative for every example outputs 0 and passes back a gradient of 0, so its "
            "weights never change again: the unit is dead for good. Large negative biases, or one huge update (a "
            "learning rate too high), push units there.",
            f"Start the biases of the layer before {layer} at 0 (bias_init='zeros') or a small positive value "
            "(0.01), use He init (init='he_normal'), lower the learning rate, or switch to LeakyReLU(alpha=0.01), "
            "whose units never die.",
            {"dead_fraction": _g(fraction)}, [layer], fix={"activation": "leaky_relu"}))
    return found


def _saturated_units(series: dict) -> list[Diagnosis]:
    found = []
    for layer, fraction in _activation_layers(series, "saturated_fraction"):
        if not fraction > SATURATED_FRACTION:
            continue
        severity = "problem" if fraction > SATURATED_PROBLEM_FRACTION else "warning"
        kind = layer.rsplit(".", 1)[-1]
        found.append(Diagnosis(
            "saturated_units", severity, f"{fraction:.0%} of the {kind} units in {layer} are saturated",
            f"A saturated {kind} sits on the flat end of its curve, where its slope is nearly 0: it passes almost no "
            "gradient back, so the weights feeding it stop learning. Inputs to it are too large: large weights "
            "(a big init or a learning rate too high) or unscaled inputs.",
            f"Use Xavier init (init='xavier_uniform') for the layer before {layer}, scale the inputs to about "
            "[0, 1] or standardize them, lower the learning rate, add BatchNorm before the activation, or use ReLU.",
            {"saturated_fraction": _g(fraction)}, [layer], fix={"activation": "relu"}))
    return found


def _overfitting(series: dict) -> Diagnosis | None:
    val, train = series.get("epoch/val_loss"), series.get("epoch/loss")
    if val is None or train is None or len(val) != len(train) or len(val) <= OVERFIT_MIN_EPOCHS_SINCE_BEST:
        return None
    if not (np.isfinite(val).all() and np.isfinite(train).all()):
        return None
    best = int(np.argmin(val))
    since_best = len(val) - 1 - best
    rise = float(val[-1] / val[best]) if val[best] > 0 else math.inf
    if since_best < OVERFIT_MIN_EPOCHS_SINCE_BEST or rise <= OVERFIT_RISE or not train[-1] < train[best]:
        return None
    severity = "problem" if rise > OVERFIT_PROBLEM_RISE else "warning"
    return Diagnosis(
        "overfitting", severity, f"Overfitting: validation loss rose {rise - 1:.0%} since epoch {best}",
        "The training loss keeps falling while the loss on examples the network never trains on has been rising: "
        "it is memorising its training examples (their noise included) instead of learning what generalises.",
        f"Keep the weights of epoch {best} (EarlyStopping(monitor='val_loss', patience=2, restore_best=True)); "
        "use more training data, add L2 weight decay (weight_decay=1e-3 on the optimizer) or Dropout(0.3) after the "
        "hidden layers, or make the network smaller.",
        {"best_epoch": best, "best_val_loss": _g(float(val[best])), "final_val_loss": _g(float(val[-1])),
         "val_loss_rise": _g(rise), "train_loss_at_best": _g(float(train[best])),
         "final_train_loss": _g(float(train[-1]))}, fix={"l2": 0.001})


def _underfitting(series: dict, n_classes: int | None) -> Diagnosis | None:
    loss = _loss(series)
    if loss is None or len(loss) < 3:
        return None
    final = _finite_median(_tail(loss))
    change = _relative_change(loss)
    if not abs(change) < FLAT_LOSS_CHANGE:
        return None
    evidence: dict = {"final_loss": _g(final), "loss_relative_change": _g(change)}
    if n_classes is not None:
        chance = math.log(n_classes)
        if not final > UNDERFIT_CHANCE_FRACTION * chance:
            return None
        evidence["chance_loss"] = _g(chance)
        level = f"a loss of {final:.3g}, about log({n_classes}) = {chance:.3g}, what guessing uniformly scores"
    else:
        accuracy = series.get("accuracy")
        if accuracy is None or not len(accuracy):
            accuracy = series.get("epoch/accuracy")
        if accuracy is None or not len(accuracy):
            return None
        final_accuracy = _finite_median(_tail(accuracy))
        if not final_accuracy < UNDERFIT_MAX_ACCURACY:
            return None
        evidence["final_accuracy"] = _g(final_accuracy)
        level = f"a training accuracy of {final_accuracy:.0%}"
    return Diagnosis(
        "underfitting", "problem", "Underfitting: the network is not learning the training data",
        f"The training loss is high and flat ({level}, changing by {abs(change):.1%} over the run): the network "
        "does not even fit the examples it trains on. Either it cannot learn (gradients vanish, units are dead, "
        "the learning rate is far off) or it is too small for the task.",
        "Fix any other problem listed here first; otherwise train longer, raise the learning rate (try 3× and "
        "10×), or use a wider or deeper network (e.g. hidden=(256, 128) with ReLU and He init).",
        evidence)


def diagnose_recorded(run: dict, metrics: Mapping) -> list["Diagnosis"]:
    """diagnose() of a run read back from the store: its status and, from its config, its number of classes."""
    return diagnose(metrics, status=run["status"], n_classes=run["config"].get("n_classes"))
