"""Transfer learning: what a network learned on one task, reused for another with few labels.

A network trained on a source task (its "pretrained" weights) is given a new head for the target task's classes
(Sequential.replace_head), then trained on the target's examples in one of three ways:

    scratch     a fresh network of the same shape, every weight learned from the target examples alone
    frozen      the pretrained body kept as it is (Sequential.freeze), only the new head learns. Its features are
                computed once per example and cached (cached_features), so each step trains one Dense layer
    fine-tune   the pretrained body and the new head all learn, starting from the pretrained weights

Two tasks: "near" (pretrain on MNIST digits 0–4, learn digits 5–9: same strokes, new shapes) and "far" (pretrain on
all of MNIST, learn Fashion-MNIST's clothes: a different world of 28×28 pictures). Each is run at label budgets of
10, 100, 1,000 and all examples per class, with several seeds; train_on_target gives one run and its accuracy curve
(accuracy against steps, which is how "it learns faster" shows), transfer_table all of them.

    task = transfer_task("near", load_mnist())
    pretrained = pretrain(task)
    run = train_on_target(task, "frozen", per_class=10, pretrained=pretrained)
"""

import math
import statistics
import time
from dataclasses import dataclass, field

import numpy as np

from learnscope.core.validation import check_choice, check_int, describe
from learnscope.data.batches import steps_per_epoch
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.recipes import Recipe, build_from_recipe, default_recipe, optimizer_from_recipe
from learnscope.train import Callback, evaluate, fit

TASK_NAMES = ("near", "far")
METHODS = ("scratch", "frozen", "fine-tune")
METHOD_LABELS = {"scratch": "from scratch", "frozen": "frozen features", "fine-tune": "fine-tuned"}
METHOD_WORDS = {"scratch": "from scratch", "frozen": "frozen pretrained features (head only)",
                "fine-tune": "fine-tuned (all layers, from pretrained)"}
#: Labelled examples per class; None: every training example of the target task
BUDGETS = (10, 100, 1000, None)
#: Every target run takes this many optimizer steps, so the curves share one axis
TARGET_STEPS = 300
#: The engine's CNN (conv features transfer; an MLP's hidden units are tied to their task's classes) with the MNIST
#: CNN recipe, at half its learning rate: 0.1 over 300 steps sent one seed's from-scratch run to 21% for good
TRANSFER_RECIPE = default_recipe("mnist", "cnn").with_options(lr=0.05, epochs=2)
#: The test examples each point of a curve is measured on (the final accuracy uses the whole test set)
CURVE_TEST_EXAMPLES = 2000
#: Points per curve (besides step 0), spaced on a log scale
CURVE_POINTS = 16


@dataclass
class Split:
    """Images and labels of one task: x (N, 1, 28, 28), y (N,) in 0..n_classes-1."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


@dataclass
class TransferTask:
    """A source task to pretrain on and a target task to transfer to."""

    name: str
    source: Split
    target: Split
    description: str


def transfer_task(name: str, mnist, fashion=None) -> TransferTask:
    """"near": MNIST digits 0–4 → digits 5–9 (relabelled 0–4). "far": all of MNIST → Fashion-MNIST (pass
    load_fashion_mnist() as `fashion`)."""
    name = check_choice(name, "name", "transfer_task", TASK_NAMES)
    for dataset, what in ((mnist, "mnist"), (fashion, "fashion")):
        if dataset is not None and not hasattr(dataset, "x_train"):
            raise TypeError(f"transfer_task expected {what} as a Dataset (load_mnist() / load_fashion_mnist()), got "
                            f"{describe(dataset)}.")
    if name == "near":
        low, high = _digits(mnist, range(5)), _digits(mnist, range(5, 10))
        return TransferTask(name, low, high, "Pretrained on MNIST digits 0–4, learning digits 5–9")
    if fashion is None:
        raise ValueError("transfer_task('far') learns Fashion-MNIST: pass fashion=load_fashion_mnist().")
    source = Split(mnist.x_train, mnist.y_train, mnist.x_test, mnist.y_test, list(mnist.class_names))
    target = Split(fashion.x_train, fashion.y_train, fashion.x_test, fashion.y_test, list(fashion.class_names))
    return TransferTask(name, source, target, "Pretrained on MNIST digits, learning Fashion-MNIST clothes")


def _digits(mnist, digits) -> Split:
    """The images of the given digits, relabelled 0, 1, ... in that order."""
    digits = list(digits)
    relabel = np.full(10, -1)
    relabel[digits] = np.arange(len(digits))
    train, test = np.isin(mnist.y_train, digits), np.isin(mnist.y_test, digits)
    return Split(mnist.x_train[train], relabel[mnist.y_train[train]], mnist.x_test[test], relabel[mnist.y_test[test]],
                 [str(digit) for digit in digits])


def pretrain(task: TransferTask, recipe: Recipe | None = None) -> Sequential:
    """A network trained on the source task: TRANSFER_RECIPE's CNN, two epochs."""
    recipe = recipe or TRANSFER_RECIPE
    source = task.source
    model = build_from_recipe(recipe, source.x_train.shape[1:], source.n_classes, x_train=source.x_train)
    _train(model, recipe, source.x_train, source.y_train, recipe.epochs)
    return model


def per_class_examples(y, per_class: int | None, seed=0) -> np.ndarray:
    """Indices of `per_class` examples of every class, drawn at random (all of them for None), in shuffled order."""
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    if per_class is None:
        return rng.permutation(len(y))
    per_class = check_int(per_class, "per_class", "per_class_examples", minimum=1)
    chosen = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        if len(members) < per_class:
            raise ValueError(f"per_class_examples: class {label} has {len(members)} examples, fewer than the "
                             f"{per_class} asked for. Ask for at most {len(members)}.")
        chosen.append(rng.choice(members, per_class, replace=False))
    return rng.permutation(np.concatenate(chosen))


def cached_features(body: Sequential, x, batch_size: int = 1000) -> np.ndarray:
    """The body's output for every example, computed once (eval mode, as a frozen body runs): the frozen head then
    trains on these numbers instead of images, a Dense layer's work per step.   (N, ...) -> (N, n_features)"""
    return body.predict(x, batch_size=batch_size)


@dataclass
class TransferRun:
    """One target run: the method, label budget and seed; its curve [(step, test accuracy on CURVE_TEST_EXAMPLES)],
    final accuracy on the whole test set, and seconds (training, plus computing the cached features for frozen)."""

    task: str
    method: str
    per_class: int | None
    seed: int
    n_examples: int
    curve: list
    accuracy: float                 # NaN if it diverged
    seconds: float
    status: str                     # fit()'s: "finished" (after n_steps), "diverged", "interrupted", ...
    model: Sequential | None = field(default=None, repr=False)

    def plot(self):
        """Its test accuracy per training step (a matplotlib figure)."""
        from learnscope.lessons.plots import plot_transfer

        return plot_transfer([self])


def curve_steps(n_steps: int, n_points: int = CURVE_POINTS) -> list[int]:
    """The steps a curve is measured at: 0, then about n_points steps spaced evenly on a log scale up to n_steps,
    dense at the start, where the starts differ most (10 labels per class are learned within tens of steps)."""
    spaced = np.geomspace(1, n_steps, n_points)
    return [0, *sorted({int(np.rint(step)) for step in spaced} | {n_steps})]


class _CurvePoints(Callback):
    """Test accuracy on a few thousand examples at the curve_steps: the run's curve."""

    def __init__(self, x_test, y_test, n_steps: int, on_point=None):
        self.x_test, self.y_test, self.on_point = x_test, y_test, on_point
        self.at = set(curve_steps(n_steps))
        self.points = []
        self.seconds = 0.0                          # spent measuring

    def on_train_begin(self, trainer):
        self._measure(trainer.model, 0)

    def on_batch_end(self, step, logs):
        if step + 1 in self.at:
            self._measure(self.trainer.model, step + 1)

    def _measure(self, model, step):
        start = time.perf_counter()
        accuracy = float((model.predict(self.x_test).argmax(axis=1) == self.y_test).mean())
        self.seconds += time.perf_counter() - start
        self.points.append((step, accuracy))
        if self.on_point is not None:
            self.on_point(self.points[-1])


def train_on_target(task: TransferTask, method: str, per_class: int | None, pretrained: Sequential, seed=0,
                    n_steps: int = TARGET_STEPS, recipe: Recipe | None = None, on_point=None,
                    callbacks=()) -> TransferRun:
    """Learn the target task from `per_class` labelled examples per class (None: all) by `method` (METHODS),
    for n_steps optimizer steps. pretrained: the source network (left untouched: the run works on a copy).
    on_point((step, accuracy)) sees each point of the curve as it is measured (the lab draws it live)."""
    method = check_choice(method, "method", "train_on_target", METHODS)
    if not isinstance(pretrained, Sequential):
        raise TypeError(f"train_on_target expected the pretrained network as a Sequential, got {describe(pretrained)}.")
    n_steps = check_int(n_steps, "n_steps", "train_on_target", minimum=1, maximum=1_000_000)
    recipe = (recipe or TRANSFER_RECIPE).with_options(seed=seed)
    target = task.target
    chosen = per_class_examples(target.y_train, per_class, seed)
    x, y = target.x_train[chosen], target.y_train[chosen]
    x_curve, y_curve = target.x_test[:CURVE_TEST_EXAMPLES], target.y_test[:CURVE_TEST_EXAMPLES]
    model = pretrained.replace_head(target.n_classes, seed=seed)
    start = time.perf_counter()
    if method == "scratch":
        model.reset(seed)                          # the same shape, every weight drawn afresh
    if method == "frozen":
        body, head = Sequential(model.layers[:-1]), Sequential(model.layers[-1:])
        x, x_curve = cached_features(body, x), cached_features(body, x_curve)
        trained = head
    else:
        trained = model
    epochs = _epochs_for(n_steps, len(x), recipe.batch_size, trained.min_batch_size)
    points = _CurvePoints(x_curve, y_curve, n_steps, on_point)
    history = _train(trained, recipe, x, y, epochs, [points, *callbacks, _StopAfter(n_steps)], n_steps)
    seconds = time.perf_counter() - start - points.seconds     # the curve's measurements are not training
    accuracy = math.nan
    if history.status != "diverged":
        accuracy = evaluate(model, SoftmaxCrossEntropy(), target.x_test, target.y_test).accuracy
    # _StopAfter ends every run with a stop: one that took all its steps is finished
    status = "finished" if history.outcome.get("steps_completed", 0) >= n_steps else history.status
    return TransferRun(task.name, method, per_class, seed, len(chosen), points.points, accuracy, seconds, status,
                       model)


class _StopAfter(Callback):
    """Stop fit() after exactly n_steps steps (the last epoch may be cut short)."""

    def __init__(self, n_steps):
        self.n_steps = n_steps

    def on_batch_end(self, step, logs):
        if step + 1 >= self.n_steps:
            self.trainer.stop(f"{self.n_steps} steps done.")


def _epochs_for(n_steps, n_examples, batch_size, min_batch_size) -> int:
    return math.ceil(n_steps / steps_per_epoch(n_examples, min(batch_size, n_examples), min_batch_size))


def _train(model, recipe: Recipe, x, y, epochs, callbacks=(), n_steps=None):
    batch_size = min(recipe.batch_size, len(x))
    per_epoch = steps_per_epoch(len(x), batch_size, model.min_batch_size)
    # the schedule spans the steps the run will take: warm-up, then cosine decay to 0 at the last step
    schedule_recipe = recipe.with_options(epochs=1)
    optimizer = optimizer_from_recipe(schedule_recipe, n_steps or epochs * per_epoch)
    return fit(model, SoftmaxCrossEntropy(), optimizer, x, y, epochs=epochs, batch_size=batch_size,
               seed=recipe.seed, callbacks=list(callbacks))


def transfer_table(task: TransferTask, pretrained: Sequential, budgets=BUDGETS, seeds=(0, 1, 2), methods=METHODS,
                   n_steps: int = TARGET_STEPS, on_run=None) -> list[TransferRun]:
    """Every method at every budget with every seed; on_run(run) sees each as it finishes."""
    runs = []
    for per_class in budgets:
        for method in methods:
            for seed in seeds:
                run = train_on_target(task, method, per_class, pretrained, seed, n_steps)
                run.model = None                    # the table keeps numbers, not a network per cell
                runs.append(run)
                if on_run is not None:
                    on_run(run)
    return runs


@dataclass
class TableRow:
    """One budget and method over its seeds: mean and spread of the final accuracy, mean seconds."""

    per_class: int | None
    method: str
    accuracies: list
    seconds: list

    @property
    def mean(self) -> float:
        return statistics.fmean(self.accuracies)

    @property
    def spread(self) -> float:
        return statistics.pstdev(self.accuracies) if len(self.accuracies) > 1 else 0.0

    @property
    def mean_seconds(self) -> float:
        return statistics.fmean(self.seconds)


def summarize(runs: list[TransferRun]) -> list[TableRow]:
    """The table's rows, one per (budget, method), in the order the runs came."""
    rows = {}
    for run in runs:
        row = rows.setdefault((run.per_class, run.method), TableRow(run.per_class, run.method, [], []))
        row.accuracies.append(run.accuracy)
        row.seconds.append(run.seconds)
    return list(rows.values())


def budget_words(per_class: int | None) -> str:
    return "all examples" if per_class is None else f"{per_class:,} per class"


def describe_budget(rows: list[TableRow], per_class: int | None) -> str:
    """What one budget's rows show, in words: which start wins, by how much, and at what cost in seconds."""
    chosen = {row.method: row for row in rows if row.per_class == per_class}
    if "scratch" not in chosen or len(chosen) < 2:
        raise ValueError(f"describe_budget needs 'scratch' and another method at {budget_words(per_class)}, got "
                         f"{sorted(chosen)}.")
    best = max(chosen.values(), key=lambda row: row.mean)
    scratch = chosen["scratch"]
    parts = [f"With {budget_words(per_class)}, from scratch reaches {scratch.mean:.1%}"]
    for method in ("frozen", "fine-tune"):
        if method in chosen:
            row = chosen[method]
            parts.append(f"{METHOD_WORDS[method]} {row.mean:.1%} ({100 * (row.mean - scratch.mean):+.1f} points, "
                         f"{row.mean_seconds:.1f} s against {scratch.mean_seconds:.1f} s)")
    text = "; ".join(parts) + "."
    if best.method == "scratch":
        text += " Here learning from scratch does best: the pretrained network gives this task no head start."
    else:
        text += f" Best: {METHOD_WORDS[best.method]}."
    return text


def steps_to_reach(curve: list, accuracy: float) -> int | None:
    """The first step at which a curve reaches `accuracy`, or None if it never does: how "reducing training
    time" is read off the curves."""
    return next((step for step, value in curve if value >= accuracy), None)


#: The early point the table reads each start at: a tenth of the run's steps
EARLY_FRACTION = 0.1


def accuracy_at(curve: list, step: int) -> float:
    """A curve's accuracy at its last point at or before `step` (the head start, read early in a run)."""
    before = [value for at, value in curve if at <= step]
    if not before:
        raise ValueError(f"accuracy_at: the curve starts after step {step}.")
    return before[-1]


def early_accuracy(runs, method: str) -> tuple[int, float]:
    """(the early step, mean accuracy of `method`'s runs there): EARLY_FRACTION of the way through their steps."""
    chosen = [run for run in runs if run.method == method]
    step = int(EARLY_FRACTION * max(at for run in chosen for at, _ in run.curve))
    return step, statistics.fmean(accuracy_at(run.curve, step) for run in chosen)


def scratch_final(runs) -> float:
    """The from-scratch runs' mean accuracy at their curves' last point (the curves' own test examples)."""
    finals = [run.curve[-1][1] for run in runs if run.method == "scratch"]
    if not finals:
        raise ValueError("scratch_final needs at least one from-scratch run to compare with.")
    return statistics.fmean(finals)


def steps_to_catch_up(runs, method: str) -> int | None:
    """The median step at which `method`'s runs first reach scratch_final(runs), on the same curve examples (a run
    that never does counts as later than any); None when the median run never does."""
    target = scratch_final(runs)
    steps = [steps_to_reach(run.curve, target) for run in runs if run.method == method]
    median = statistics.median([math.inf if step is None else step for step in steps]) if steps else math.inf
    return None if median == math.inf else int(median)

