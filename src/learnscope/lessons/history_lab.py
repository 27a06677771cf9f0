"""Chapter 2, history: the timeline the page opens with, and its "Try this" experiments, each outcome read from
the numbers of the run the learner just started.

Two kinds of numbers: a PerceptronComparison (a perceptron run, and the run on the page's own points it is compared
with) for the perceptron experiments; an XorRun or a tuple of them for the backpropagation experiments.
"""

from dataclasses import dataclass

from learnscope.lessons.backprop_xor import XorRun, loss_change, read_xor_network
from learnscope.lessons.experiments import Experiment, Outcome
from learnscope.lessons.perceptron_rule import Margin, PerceptronRun, number

#: epochs the perceptron experiments run (the issue's "after 1,000 epochs")
PERCEPTRON_EPOCHS = 1000


@dataclass(frozen=True)
class Milestone:
    """One entry of the timeline: when, who, what it changed, and where the lab shows it."""

    year: int
    who: str
    what: str
    link: str


TIMELINE = (
    Milestone(1943, "McCulloch & Pitts", "A neuron as a threshold unit: it fires when its weighted inputs reach a "
              "threshold, and such units compute logic (AND, OR, NOT).", "/history#mcculloch-pitts"),
    Milestone(1958, "Rosenblatt", "The perceptron learns its weights from examples: on each mistake it moves its "
              "line towards the point it got wrong.", "/history#perceptron"),
    Milestone(1962, "Novikoff", "Proof that the perceptron converges on any separable set, after at most (R/γ)² "
              "mistakes.", "/history#perceptron"),
    Milestone(1969, "Minsky & Papert", "'Perceptrons' proves what one layer cannot compute, XOR among it. Interest and "
              "money leave neural networks for years.", "/history#xor"),
    Milestone(1986, "Rumelhart, Hinton & Williams", "Backpropagation trains hidden layers, which learn their own "
              "features: XOR and much more. (Linnainmaa, 1970, and Werbos, 1974, had found the method.)",
              "/history#backprop"),
    Milestone(1989, "LeCun et al.", "A convolutional network trained by backpropagation reads handwritten ZIP codes.",
              "/mnist#chapter-8"),
    Milestone(1991, "Hochreiter", "Why deep and recurrent networks learn slowly: gradients vanish or explode on "
              "their way back through the layers.", "/wrong#chapter-9"),
    Milestone(1998, "LeCun, Bottou, Bengio & Haffner", "LeNet-5 and the MNIST digits, the data set of this lab.",
              "/mnist#chapter-8"),
    Milestone(2012, "Krizhevsky, Sutskever & Hinton", "AlexNet wins ImageNet with a top-5 error of 15.3% (the next "
              "entry: 26.2%), with ReLU, dropout, augmented images and two GPUs: deep learning takes off.",
              "/remedies#chapter-10"),
    Milestone(2014, "Kingma & Ba", "Adam, the optimizer most networks are trained with today.", "/descent#chapter-6"),
    Milestone(2015, "Ioffe & Szegedy; He et al.", "Batch normalisation and residual connections: networks of a hundred "
              "layers and more train.", "/remedies#chapter-10"),
)


@dataclass(frozen=True)
class PerceptronComparison:
    """A perceptron experiment's run and its points' margin, and the run on the page's own points (the baseline)."""

    run: PerceptronRun
    margin: Margin
    baseline: PerceptronRun | None = None
    baseline_margin: Margin | None = None

    def plot(self):
        """Its points and line beside the baseline's, and their mistakes per epoch (a matplotlib figure)."""
        from learnscope.lessons.plots import plot_perceptron_comparison

        return plot_perceptron_comparison(self)


def _ran(run: PerceptronRun) -> str:
    return f"{run.epoch:,} epoch{'s' if run.epoch != 1 else ''}"


def not_separable(numbers: PerceptronComparison) -> Outcome:
    run, baseline = numbers.run, numbers.baseline
    if run.converged_epoch is not None:
        return Outcome(f"It converged in epoch {run.converged_epoch + 1}: these points are separable after all.")
    fewest = min(run.mistakes_per_epoch) if run.mistakes_per_epoch else run.mistakes_this_epoch
    text = (f"After {_ran(run)} it still makes mistakes: {run.mistakes_per_epoch[-1]} in the last epoch, never fewer "
            f"than {fewest}. No straight line puts the flipped point on its class's side without losing others, so "
            "every epoch some point is wrong and the rule moves the line again.")
    if run.cycle is not None:
        text += f" Its weights even came back to where epoch {run.cycle.first_epoch + 1} started: a cycle."
    if baseline is not None and baseline.converged_epoch is not None:
        text += f" With every label right it stopped after {baseline.converged_epoch + 1} epochs."
    return Outcome(text)


def _convergence(run: PerceptronRun, margin: Margin) -> str:
    if run.converged_epoch is None:
        return f"it had not converged after {_ran(run)} ({run.total_mistakes} mistakes)"
    return (f"γ = {margin.gamma:.3f}, bound (R/γ)² = {margin.bound:,.0f}; it made {run.total_mistakes} mistakes and "
            f"converged in epoch {run.converged_epoch + 1}")


def narrow_margin(numbers: PerceptronComparison) -> Outcome:
    run, baseline = numbers.run, numbers.baseline
    if not numbers.margin.separable:
        return Outcome("These points are not separable, so there is no margin to compare.")
    text = f"With points as close as {run.points.gap:g} to the line: {_convergence(run, numbers.margin)}."
    if baseline is not None and numbers.baseline_margin is not None and numbers.baseline_margin.separable:
        more = run.total_mistakes - baseline.total_mistakes
        text += (f" With a gap of {baseline.points.gap:g}: {_convergence(baseline, numbers.baseline_margin)}. The "
                 f"bound grew {numbers.margin.bound / numbers.baseline_margin.bound:.1f}× (it goes as 1/γ²), and the "
                 + (f"rule needed {more} more mistakes: the closer the classes, the more finely the line must be "
                    "placed." if more > 0 else "rule needed no more mistakes this time: the bound is the worst case, "
                    "not a forecast."))
    return Outcome(text)


def tiny_learning_rate(numbers: PerceptronComparison) -> Outcome:
    run, baseline = numbers.run, numbers.baseline
    if baseline is None:
        return Outcome(f"It made {run.total_mistakes} mistakes at η = {number(run.lr)}.")
    same = (run.total_mistakes == baseline.total_mistakes and run.mistakes_per_epoch == baseline.mistakes_per_epoch)
    w1, w2, b = run.state
    v1, v2, c = baseline.state
    if not same:
        return Outcome(f"At η = {number(run.lr)} it made {run.total_mistakes} mistakes, at η = {number(baseline.lr)} "
                       f"{baseline.total_mistakes}: the learning rate changed what it did.")
    ratios = [mine / theirs for mine, theirs in zip(run.state, baseline.state) if theirs]
    ratio = ratios[0] if ratios else float("nan")
    return Outcome(f"The same {run.total_mistakes} mistakes in the same epochs as at η = {number(baseline.lr)}, and "
                   f"its weights are {number(ratio)} times theirs: (w, b) = ({number(w1)}, {number(w2)}, {number(b)}) "
                   f"against ({number(v1)}, {number(v2)}, {number(c)}). From w = 0 every update adds η·(±x), so the "
                   "weights are η times a sum that does not depend on η: the line w·x + b = 0 is the same. Only a "
                   "start away from 0 would make η matter.")


def one_hidden_unit(run: XorRun) -> Outcome:
    right = round(run.accuracy * 4)
    hidden = run.setup.hidden[0]
    if run.accuracy == 1.0:
        return Outcome(f"With {hidden} hidden unit{'s' if hidden != 1 else ''} it solved XOR in epoch "
                       f"{run.solved_epoch}.")
    unit = read_xor_network(run.model).units[0]
    return Outcome(f"After {run.epochs:,} epochs it gets {right} of XOR's 4 corners right ({run.accuracy:.0%}). One "
                   f"hidden unit draws one line (it fires for {unit.gate}), and the output can only say which side "
                   "of it a point is on: a perceptron again, however long it trains. Two units draw two lines, and "
                   "the output combines them.")


def many_starts(runs: tuple[XorRun, ...]) -> Outcome:
    solved = [run for run in runs if run.accuracy == 1.0]
    stuck = [run for run in runs if run.accuracy < 1.0]
    text = f"{len(solved)} of {len(runs)} starts reached 100%"
    if solved:
        epochs = sorted(run.solved_epoch for run in solved)
        text += f" (in {epochs[0]:,}–{epochs[-1]:,} epochs)" if len(epochs) > 1 else f" (in {epochs[0]:,} epochs)"
    if not stuck:
        return Outcome(text + ". Every start found XOR this time; run it again to try ten others.")
    losses = ", ".join(f"{run.losses[-1]:.2f}" for run in stuck)
    change = max(loss_change(run) for run in stuck)
    return Outcome(text + f". {len(stuck)} got stuck: after {stuck[0].epochs:,} epochs their loss is {losses}, and it "
                   f"fell by at most {change:.4f} over the last 500 epochs. Gradient descent only goes downhill from "
                   "where it starts; from some starts downhill ends on a flat stretch (a plateau or a local minimum) "
                   "instead of at the bottom. A third hidden unit, or another start, gets out.")


HISTORY_EXPERIMENTS = (
    Experiment("not-separable", 2, "Flip one point's class",
               "If no line separates the points, does the perceptron ever stop making mistakes?",
               {"points": "flipped"}, not_separable),
    Experiment("narrow-margin", 2, "Points closer to the line (gap 0.03)",
               "How does a narrower margin change Novikoff's bound and the mistakes it takes?",
               {"points": "separable", "gap": 0.03}, narrow_margin),
    Experiment("tiny-learning-rate", 2, "Learning rate 0.01 instead of 1",
               "Does a smaller learning rate make the perceptron learn more carefully?",
               {"points": "separable", "lr": 0.01}, tiny_learning_rate),
    Experiment("one-hidden-unit", 2, "Backpropagation with one hidden unit",
               "Is one hidden unit enough for XOR if it trains long enough?", {"hidden": 1}, one_hidden_unit),
    Experiment("many-starts", 2, "Ten random starts",
               "Does backpropagation solve XOR from every starting point?", {"starts": 10}, many_starts),
)
