"""Chapter 11, inside the network: the "Try this" experiments of the attributions page, each outcome read from the
maps the learner just computed.

The numbers are learnscope.explain's own objects (this module reads their fields and imports nothing from there):
a sanity check's steps (SanityStep: its correlations, changed, sizes_changed), a pair of
IntegratedGradients (values, delta, score, baseline_score, n_steps), or a SecondChoice.
"""

from dataclasses import dataclass

import numpy as np

from learnscope.lessons.experiments import Experiment, Outcome

NO_WEIGHTS = Outcome("This model has no weights to re-draw.")


def saliency_after_randomizing(steps) -> Outcome:
    if not steps:
        return NO_WEIGHTS
    last = steps[-1]
    if last.changed:
        return Outcome(f"Yes, beyond recognition: with every layer re-drawn the saliency map's pixel ranking "
                       f"correlates only {last.correlation:.2f} with the trained model's (signs: "
                       f"{last.signed_correlation:.2f}). A gradient map depends on the weights, so it shows what "
                       "this model learned: it passes Adebayo et al.'s check.")
    return Outcome(f"Less than you might hope: the re-drawn model's saliency still correlates {last.correlation:.2f} "
                   f"by size (signs: {last.signed_correlation:.2f}). Part of the map's look comes from the "
                   "architecture itself, which no training changed; the signs tell more.")


def times_input_after_randomizing(steps) -> Outcome:
    if not steps:
        return NO_WEIGHTS
    last = steps[-1]
    if last.sizes_changed:
        return Outcome(f"It changed: {last.correlation:.2f} over the whole picture, {last.ink_correlation:.2f} on "
                       "the ink.")
    return Outcome(f"It hardly looks different: {last.correlation:.2f} over the whole picture, although the model "
                   f"now knows nothing. On the ink alone only {last.ink_correlation:.2f}. Multiplying by x makes "
                   "the map 0 wherever the digit is blank, trained or not: much of what you see is the digit "
                   "itself. That is why a map needs this check before you trust it.")


@dataclass(frozen=True)
class StepsComparison:
    """Integrated gradients with few steps, and with the page's usual 64."""

    coarse: object
    fine: object

    def plot(self):
        """Both maps on one colour scale, each titled with what its attributions add up to (a matplotlib figure)."""
        from learnscope.core.figures import plot_maps

        maps = {f"{ig.n_steps} steps: Σ = {ig.values.sum():.3f}": ig.values for ig in (self.coarse, self.fine)}
        return plot_maps(None, maps, f"F(x) − F(baseline) = {self.coarse.score - self.coarse.baseline_score:.3f}")


def few_steps(numbers: StepsComparison) -> Outcome:
    coarse, fine = numbers.coarse, numbers.fine
    change = coarse.score - coarse.baseline_score
    return Outcome(f"With {coarse.n_steps} steps the attributions add up to {coarse.values.sum():.3f} instead of "
                   f"F(x) − F(baseline) = {change:.3f}: off by {coarse.relative_delta:.1%}. With {fine.n_steps} "
                   f"steps: off by {fine.relative_delta:.1%}. The gradient changes along the way from the baseline "
                   "to the digit, and too few samples miss it; the delta is how you can tell without another "
                   "method.")


@dataclass(frozen=True)
class SecondChoice:
    """The model's answer and its runner-up, their probabilities, integrated gradients for each, and the digit (the
    model's input, the maps' shape)."""

    answer: int
    runner_up: int
    probabilities: np.ndarray
    answer_map: object
    runner_up_map: object
    digit: np.ndarray

    def plot(self):
        """The digit, and the integrated-gradients map for the answer and for the runner-up (a matplotlib figure)."""
        from learnscope.core.figures import plot_maps

        return plot_maps(self.digit, {f"for {digit} ({self.probabilities[digit]:.1%})": ig.values
                                      for digit, ig in ((self.answer, self.answer_map),
                                                        (self.runner_up, self.runner_up_map))})


def _against(values: np.ndarray, ink: np.ndarray) -> float:
    return float((values[ink] < 0).mean()) if ink.any() else 0.0


def why_not_the_runner_up(numbers: SecondChoice) -> Outcome:
    ink = np.asarray(numbers.digit) > 0.1
    answer, runner = numbers.answer, numbers.runner_up
    probabilities = numbers.probabilities
    against_runner = _against(numbers.runner_up_map.values, ink)
    against_answer = _against(numbers.answer_map.values, ink)
    return Outcome(f"The model gives {runner} {probabilities[runner]:.1%} against {probabilities[answer]:.1%} for "
                   f"{answer}. For {runner} the attributions add up to {numbers.runner_up_map.values.sum():.2f}, for "
                   f"{answer} to {numbers.answer_map.values.sum():.2f}. {against_runner:.0%} of the ink counts "
                   f"against {runner} (blue), {against_answer:.0%} against {answer}: the blue strokes are where "
                   f"this digit does not look like a {runner}.")


INSIDE_EXPERIMENTS = (
    Experiment("randomize-saliency", 11, "Sanity-check the saliency map",
               "Does the gradient map change when every weight is re-drawn at random?", {"method": "saliency"},
               saliency_after_randomizing),
    Experiment("randomize-times-input", 11, "Sanity-check gradient × input",
               "Does gradient × input change when every weight is re-drawn at random?",
               {"method": "gradient × input"}, times_input_after_randomizing),
    Experiment("few-steps", 11, "Integrated gradients with 2 steps",
               "What goes wrong when the path from the baseline is sampled too coarsely?", {"steps": 2},
               few_steps),
    Experiment("runner-up", 11, "Explain the second choice",
               "Why not the class the model ranks second?", {"target": "runner-up"}, why_not_the_runner_up),
)
