"""The "Try this" experiments of chapters 9 (when learning goes wrong) and 10 (remedies), and the sentences the
pages show, each read from the numbers of what the learner just ran.

Two kinds of numbers: an OverfittingComparison (the run an experiment started, and the plain run it is compared
with, if the page has one) for the overfitting experiments; a GradientNorms (at initialisation) or a
WatchedTraining (while training) for the gradient experiments.
"""

from dataclasses import dataclass

import numpy as np

from learnscope.lessons.experiments import Experiment, Outcome
from learnscope.lessons.gradient_flow import TOO_LARGE_GAIN, GradientNorms, WatchedTraining
from learnscope.lessons.overfitting import (
    NIELSEN_WEIGHT_DECAY,
    UNDERFIT_ACCURACY,
    OverfittingRun,
    RemedyResult,
    SweepPoint,
)


@dataclass(frozen=True)
class OverfittingComparison:
    """An experiment's run, and the plain (no remedy) run of the same size it is compared with, when there is one."""

    run: OverfittingRun
    baseline: OverfittingRun | None = None

    def plot(self):
        """Its curves per epoch, the plain run's dashed (a matplotlib figure)."""
        from learnscope.lessons.plots import plot_overfitting_comparison

        return plot_overfitting_comparison(self.run, self.baseline)


def _points(value: float) -> str:
    return f"{100 * value:.1f} points"


def _gap_sentence(run: OverfittingRun) -> str:
    return (f"training {run.final['train_accuracy']:.1%}, test {run.final['test_accuracy']:.1%}: a gap of "
            f"{_points(run.gap)}")


def more_data(numbers: OverfittingComparison) -> Outcome:
    run, baseline = numbers.run, numbers.baseline
    text = f"With {run.setup.train_samples:,} images: {_gap_sentence(run)}."
    if baseline is not None:
        change = run.gap - baseline.gap
        text += (f" On {baseline.setup.train_samples:,} images it was {_points(baseline.gap)}: "
                 f"{'smaller by ' + _points(-change) if change < 0 else 'not smaller'}, and the test accuracy "
                 f"{'rose' if run.final['test_accuracy'] > baseline.final['test_accuracy'] else 'did not rise'} by "
                 f"{_points(run.final['test_accuracy'] - baseline.final['test_accuracy'])}.")
    return Outcome(text + " More examples leave less room to memorise: the surest remedy, when you can get them.")


def tiny_network(numbers: OverfittingComparison) -> Outcome:
    run = numbers.run
    train = run.final["train_accuracy"]
    if train < UNDERFIT_ACCURACY:
        return Outcome(f"Underfitting: with {run.setup.hidden} hidden units the network gets only {train:.1%} of its "
                       f"own training images right (test {run.final['test_accuracy']:.1%}). It cannot even memorise: "
                       "too little capacity for ten digits.")
    return Outcome(f"{run.setup.hidden} hidden units fit {train:.1%} of the training images: enough capacity after "
                   "all. Try fewer.")


def too_strong_l2(numbers: OverfittingComparison) -> Outcome:
    run = numbers.run
    train, test = run.final["train_accuracy"], run.final["test_accuracy"]
    if train < UNDERFIT_ACCURACY:
        return Outcome(f"Underfitting again, from the other side: L2 of {run.setup.weight_decay:g} pulls every weight "
                       f"towards 0 so hard that the network gets only {train:.1%} of its own training images right "
                       f"(test {test:.1%}). A remedy taken too far is the next problem.")
    return Outcome(f"With L2 of {run.setup.weight_decay:g} the network still fits {train:.1%} of its training images "
                   f"(test {test:.1%}): not strong enough to underfit. Try a larger value.")


def wider_network(rows: list) -> Outcome:
    """rows: cost_sweep's two SweepRows, the network and the one twice as wide."""
    narrow, wide = rows
    return Outcome(f"From {narrow.value} to {wide.value} units per layer: {wide.params / narrow.params:.1f}× the "
                   f"weights, {wide.training_flops / narrow.training_flops:.1f}× the operations per example (the "
                   f"{narrow.value}×{narrow.value} product between the hidden layers becomes "
                   f"{wide.value}×{wide.value}: four times) and {wide.memory_bytes / narrow.memory_bytes:.1f}× the "
                   f"memory. A step took {wide.speed.seconds_per_step / narrow.speed.seconds_per_step:.1f}× as long "
                   f"here ({narrow.speed.gflops_per_second:.0f} then {wide.speed.gflops_per_second:.0f} GFLOP/s: "
                   f"{_pace(wide.speed.gflops_per_second / narrow.speed.gflops_per_second)}).")


def _pace(ratio: float) -> str:
    """What a change in GFLOP/s says, read from its ratio (later over earlier)."""
    if ratio > 1.1:
        return "bigger products keep the cores busier"
    if ratio < 0.9:
        return "the larger matrices ran slower per operation on this machine"
    return "the same pace per operation, so the time grew with the work"


def weight_decay_gain(numbers: OverfittingComparison) -> Outcome:
    return _remedy_gain(numbers, f"L2 weight decay {numbers.run.setup.weight_decay:g}",
                        "it pulls every weight towards 0, so only weights that many examples agree on grow large")


def augmentation_gain(numbers: OverfittingComparison) -> Outcome:
    return _remedy_gain(numbers, "augmented images",
                        "each epoch the network sees every digit moved and turned a little, so exact pixels cannot "
                        "be memorised")


def _remedy_gain(numbers: OverfittingComparison, remedy: str, why: str) -> Outcome:
    run, baseline = numbers.run, numbers.baseline
    text = f"With {remedy}: {_gap_sentence(run)}."
    if baseline is None:
        return Outcome(text + " Run the plain experiment too to see what it gained.")
    gained = run.final["test_accuracy"] - baseline.final["test_accuracy"]
    verdict = "gained" if gained > 0 else "lost"
    return Outcome(f"{text} Without it: test {baseline.final['test_accuracy']:.1%}, gap {_points(baseline.gap)}. "
                   f"The remedy {verdict} {_points(abs(gained))} of test accuracy: {why}.")


def deeper_sigmoid(norms: GradientNorms) -> Outcome:
    return Outcome(f"With {len(norms.norms)} sigmoid layers the first hidden layer's gradient is "
                   f"{norms.norms[0]:.2g} and the last one's {norms.norms[-1]:.2g}: the first learns "
                   f"{norms.ratio:.0f}× slower. Each layer back multiplies the gradient by σ′(z) ≤ 0.25 times its "
                   "weights, and those factors compound.")


def too_large_weights(norms: GradientNorms) -> Outcome:
    if norms.ratio >= 1:
        return Outcome(f"The gradient did not grow on its way back (last/first {norms.ratio:.2f}); try more layers.")
    return Outcome(f"Weights {TOO_LARGE_GAIN:g}× too large multiply the gradient on its way back: the first hidden "
                   f"layer gets {1 / norms.ratio:.0f}× what the last gets ({norms.norms[0]:.3g} against "
                   f"{norms.norms[-1]:.3g}). "
                   "A learning rate small enough for the first layer is too small for the last, and the other way "
                   "round: the gradient explodes.")


def residual_connections(watched: WatchedTraining) -> Outcome:
    first, last = watched.norms[:, 0], watched.norms[:, -1]
    ratio = float(np.median(last / np.maximum(first, 1e-30)))
    accuracy = "" if watched.test_accuracy is None else f" and it tests at {watched.test_accuracy:.1%}"
    return Outcome(f"With residual connections the first of {watched.n_hidden} hidden layers gets a gradient as "
                   f"strong as the last (median last/first {ratio:.1f}× over training){accuracy}: the skip adds "
                   "a path whose derivative is exactly 1, so nothing shrinks the gradient on the way back.")


def clipping(watched: WatchedTraining) -> Outcome:
    if watched.status == "diverged":
        how = "Without clipping" if watched.clip_norm is None else f"Even with clipping at {watched.clip_norm:g}"
        return Outcome(f"{how} the run diverged: {watched.message}")
    if watched.clip_norm is None:
        return Outcome(f"Without clipping the run survived (test accuracy {watched.test_accuracy:.1%}): these "
                       "weights were not large enough to blow up. Clip anyway to see the difference.")
    start, end = watched.step_loss[0], float(np.mean(watched.step_loss[-20:]))
    return Outcome(f"Clipping every step's gradient to a length of at most {watched.clip_norm:g} kept the steps "
                   f"bounded: the loss went from {start:.3g} to {end:.3g} and the network tests at "
                   f"{watched.test_accuracy:.1%}. Without it the first step's gradient overshoots and the run "
                   "blows up.")


#: Chapter 9's experiments run on the /wrong page, chapter 10's on /remedies. The overfitting ones set fields of
#: OverfittingSetup; the gradient ones deep_network's kind and depth (and watch_training's lr and clip_norm).
GOING_WRONG_EXPERIMENTS = (
    Experiment("more-data", 9, "Give it ten times the data",
               "Does the gap between training and test shrink with 10,000 images?",
               {"train_samples": 10_000, "epochs": 40}, more_data),
    Experiment("tiny-network", 9, "Shrink it to 2 hidden units",
               "What does a network too small for the task do?",
               {"hidden": 2, "epochs": 100, "init": "scaled"}, tiny_network),
    Experiment("too-strong-l2", 9, "Set L2 to 0.03",
               "Can a remedy, taken too far, cause underfitting?",
               {"weight_decay": 0.03, "epochs": 100}, too_strong_l2),
    Experiment("deeper-sigmoid", 9, "Stack five sigmoid layers",
               "How much slower does the first layer learn?",
               {"kind": "sigmoid", "n_hidden": 5}, deeper_sigmoid),
    Experiment("too-large-weights", 9, "Draw the weights 3× too large",
               "What do weights too large for their layer do to the gradient?",
               {"kind": "too-large", "n_hidden": 4}, too_large_weights),
    Experiment("wider-network", 9, "Make the layers twice as wide",
               "How do the work, the memory and the time grow with the width?",
               {"sweep": "width", "values": (256, 512)}, wider_network),
)
REMEDY_EXPERIMENTS = (
    Experiment("weight-decay", 10, "Add L2 weight decay",
               "How much test accuracy does Nielsen's L2 win back on 1,000 images?",
               {"weight_decay": NIELSEN_WEIGHT_DECAY}, weight_decay_gain),
    Experiment("augmentation", 10, "Move and turn the training images",
               "Is augmentation as good as more data?",
               {"augment": True}, augmentation_gain),
    Experiment("residual", 10, "Five residual sigmoid blocks",
               "Do skip connections bring the gradient back to the first layer?",
               {"kind": "residual", "n_hidden": 5, "lr": 0.1}, residual_connections),
    Experiment("clipping", 10, "Clip the exploding gradient",
               "Can clipping rescue weights that are far too large?",
               {"kind": "too-large", "n_hidden": 5, "lr": 0.1, "clip_norm": 1.0}, clipping),
)


def describe_data_sizes(points: list[SweepPoint]) -> str:
    """How the test accuracy and the train–test gap change with the number of training images."""
    first, last = points[0], points[-1]
    return (f"With {first.value:,} images the network tests at {first.run.final['test_accuracy']:.1%} (gap "
            f"{_points(first.run.gap)}); with {last.value:,} at {last.run.final['test_accuracy']:.1%} (gap "
            f"{_points(last.run.gap)}). Each tenfold more data "
            f"{'narrows' if last.run.gap < first.run.gap else 'does not narrow'} the gap: with more examples, "
            "memorising them gets harder than learning the pattern.")


def describe_remedies(results: list[RemedyResult]) -> str:
    """Which remedy won back the most test accuracy on the overfitting setup, which helped and which did not."""
    baseline = next(result for result in results if result.name == "none").run
    remedies = sorted((result for result in results if result.name != "none"), key=lambda r: r.gained, reverse=True)
    if not remedies:
        return f"Without a remedy: {_gap_sentence(baseline)}. Run the remedies to compare."
    best = remedies[0]
    helped = [result.label for result in remedies if result.gained > 0.005]
    hurt = [result.label for result in remedies if result.gained < -0.005]
    text = (f"Without a remedy: {_gap_sentence(baseline)}. {best.label.capitalize()} won back the most: "
            f"{_points(best.gained)}, to {best.run.final['test_accuracy']:.1%}.")
    if len(helped) > 1:
        text += f" Also better: {', '.join(helped[1:])}."
    if hurt:
        text += (f" Worse here: {', '.join(hurt)}; a remedy is a trade, and on this setup it cost more than it "
                 "gave.")
    return text
