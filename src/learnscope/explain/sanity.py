"""Sanity checks for attribution maps (Adebayo et al., 2018): does a map change when what the model learned is
destroyed? Re-draw the weights layer by layer from the top (cascading randomization) and compare each map with
the trained model's by rank correlation. A map that barely changes shows the input, not the model.

    steps = cascading_randomization(model, x, target, method="saliency")
    [(step.layers, step.correlation) for step in steps]    # 1.0 = the same ranking as the trained model's map
"""

import copy
from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

from learnscope.core.rng import make_rng
from learnscope.core.validation import check_choice, check_int
from learnscope.explain.attributions import (
    gradient_times_input,
    integrated_gradients,
    occlusion_map,
    saliency_map,
)
from learnscope.model import Sequential

#: below this rank correlation a randomized model's map counts as changed (Adebayo et al.'s figures: near 0);
#: at or above ALIKE, as barely changed
CHANGED, ALIKE = 0.5, 0.8


#: the maps a sanity check can compare, signed: name -> (model, x, target) -> map
METHODS = {
    "saliency": lambda model, x, target: saliency_map(model, x, target, signed=True),
    "gradient × input": gradient_times_input,
    "integrated gradients": lambda model, x, target: integrated_gradients(model, x, target).values,
    "occlusion": occlusion_map,
}


def rank_correlation(first: np.ndarray, second: np.ndarray, absolute: bool = True) -> float:
    """Spearman's rank correlation of two maps' values (of their sizes, if absolute), pixel by pixel: 1 when both
    rank the pixels alike, about 0 when unrelated. A constant map has no ranking: 0."""
    a, b = np.ravel(first), np.ravel(second)
    if a.shape != b.shape:
        raise ValueError(f"rank_correlation expected two maps of one shape, got {np.shape(first)} and "
                         f"{np.shape(second)}.")
    if absolute:
        a, b = np.abs(a), np.abs(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


def randomized_from_top(model: Sequential, seed=0) -> list[tuple[int, Sequential]]:
    """Copies of the model with its layers' parameters re-drawn (each layer's own initialisation) from the top:
    the first copy with the last layer re-drawn, the next with the last two, ... down to every layer.
    Returns (index of the lowest re-drawn layer, copy) pairs; the model itself is left as it was."""
    trained = [index for index, layer in enumerate(model.layers) if layer.params]
    rng = make_rng(seed)
    copies, current = [], copy.deepcopy(model)
    for index in reversed(trained):
        current = copy.deepcopy(current)
        current.layers[index].reset(rng.spawn(1)[0])
        copies.append((index, current))
    return copies


@dataclass(frozen=True)
class SanityStep:
    """One step of the check: the layers re-drawn (from `lowest` to the top), the (signed) map, and its rank
    correlations with the trained model's map."""

    lowest: int
    layers: str                 # e.g. "layers 3–5 (Dense, ReLU, Dense)"
    map: np.ndarray
    correlation: float          # of the maps' sizes, every input (Adebayo et al.'s "absolute value")
    signed_correlation: float   # of the signed maps
    ink_correlation: float      # of the sizes over the inputs that are not 0: where x itself cannot decide the map

    @property
    def sizes_changed(self) -> bool:
        """The sizes over the whole picture no longer keep the trained map's ranking (correlation below CHANGED)."""
        return abs(self.correlation) < CHANGED

    @property
    def changed(self) -> bool:
        """Neither the sizes nor the signs keep the trained map's ranking (both correlations below CHANGED)."""
        return self.sizes_changed and abs(self.signed_correlation) < CHANGED


def cascading_randomization(model: Sequential, x, target: int, method: str = "saliency",
                            seed=0) -> tuple[np.ndarray, list[SanityStep]]:
    """The trained model's (signed) map for (x, target), and the map after each step of cascading randomization with
    its rank correlations to the trained one: of the sizes (as Adebayo et al. report) and of the signed values, over
    every input, and of the sizes over the inputs that are not 0 (a map multiplied by x is 0 wherever x is, trained
    or not, which alone makes two such maps agree on a digit's blank background)."""
    method = check_choice(method, "method", "cascading_randomization", tuple(METHODS))
    explain = METHODS[method]
    original = explain(model, x, target)
    ink = np.asarray(x) != 0
    steps = []
    top = len(model.layers) - 1
    for lowest, randomized in randomized_from_top(model, seed):
        names = ", ".join(type(layer).__name__ for layer in model.layers[lowest:])
        span = f"layer {lowest + 1}" if lowest == top else f"layers {lowest + 1}–{top + 1}"
        explained = explain(randomized, x, target)
        steps.append(SanityStep(lowest, f"{span} ({names})", explained, rank_correlation(original, explained),
                                rank_correlation(original, explained, absolute=False),
                                rank_correlation(original[ink], explained[ink])))
    return original, steps


def compare_maps(model: Sequential, other: Sequential, x, target: int, method: str,
                 description: str) -> tuple[np.ndarray, SanityStep]:
    """The trained model's map and the other model's, compared as cascading_randomization compares them."""
    method = check_choice(method, "method", "compare_maps", tuple(METHODS))
    original, explained = METHODS[method](model, x, target), METHODS[method](other, x, target)
    ink = np.asarray(x) != 0
    return original, SanityStep(0, description, explained, rank_correlation(original, explained),
                                rank_correlation(original, explained, absolute=False),
                                rank_correlation(original[ink], explained[ink]))


def trained_on_shuffled_labels(model: Sequential, x, y, epochs: int = 5, seed=0) -> Sequential:
    """Adebayo et al.'s data randomization test: the same network, its weights re-drawn, trained on the same
    images with their labels shuffled (nothing to learn but noise). Adam, lr 1e-3, batches of 128."""
    from learnscope.losses import SoftmaxCrossEntropy
    from learnscope.optim import Adam
    from learnscope.train import fit

    epochs = check_int(epochs, "epochs", "trained_on_shuffled_labels", minimum=1, maximum=100)
    other = copy.deepcopy(model)
    other.reset(seed)
    shuffled = make_rng(seed).permutation(np.asarray(y))
    fit(other, SoftmaxCrossEntropy(), Adam(1e-3), x, shuffled, epochs=epochs, batch_size=128, seed=seed)
    return other


def describe_sanity(method: str, steps: list[SanityStep], what: str = "With every layer re-drawn") -> str:
    """What the check found for the fully randomized model (or, with `what`, another model compared the same way):
    does the map depend on what the model learned?"""
    if not steps:
        return "The model has no parameters to re-draw, so there is nothing to check."
    last = steps[-1]
    numbers = (f"{what}, the {method} map's ranking of the pixels by size correlates "
               f"{last.correlation:.2f} with the trained model's (signed values: {last.signed_correlation:.2f}; "
               f"the digit's ink alone: {last.ink_correlation:.2f}).")
    if last.changed:
        return numbers + " It changed beyond recognition: this map shows what the model learned."
    if abs(last.ink_correlation) >= ALIKE:
        return numbers + (" It barely changed, even on the ink: this map would look the same for a model that "
                          "learned nothing, so it shows the input more than the model.")
    on_ink = "does not" if abs(last.ink_correlation) < CHANGED else "only partly does"
    return numbers + (f" The whole map still looks alike, but on the ink it {on_ink}: the likeness comes from the "
                      "input (a map multiplied by x is 0 wherever the digit is blank) or from the architecture, not "
                      "from what the model learned. Judge this map on the ink.")
