"""What the hidden layers compute: a CNN's filters, one input's feature maps layer by layer, the examples that
excite each unit most, and each layer's representation of many examples (for an embedding).

    conv_filters(model)                      [(layer index, (F, C, kh, kw) weights)] for every Conv2D
    layer_outputs(model, x)                  [(layer index, layer name, output)] for one input, every layer
    layer_representation(model, x, index)    (N, D): layer `index`'s output for each example, flattened
    top_activating(model, index, x, k=9)     per unit (or filter), the k examples it responds to most

Outputs are caught with a forward hook (Sequential is the only loop over layers), removed again after.
"""

from dataclasses import dataclass

import numpy as np

from learnscope.core.validation import check_array, check_int
from learnscope.layers import Conv2D
from learnscope.model import Sequential

BATCH = 500


def conv_filters(model: Sequential) -> list[tuple[int, np.ndarray]]:
    """Every Conv2D's weights, (filters, in channels, kernel height, kernel width), with its layer index."""
    return [(index, layer.params["W"].copy()) for index, layer in enumerate(model.layers) if isinstance(layer, Conv2D)]


def _check_layer(model: Sequential, index: int, owner: str) -> int:
    return check_int(index, "index", owner, minimum=0, maximum=len(model.layers) - 1,
                     fix=f"Pass a layer index from 0 to {len(model.layers) - 1} (model.summary() lists them).")


def layer_outputs(model: Sequential, x) -> list[tuple[int, str, np.ndarray]]:
    """One example (without the batch axis) through the model in eval mode: every layer's output."""
    x = check_array(x, "x", "layer_outputs", dtype=model.dtype)
    caught = []

    def catch(index, layer, _inputs, output):
        caught.append((index, type(layer).__name__, np.array(output[0])))

    handle = model.register_hook("forward", catch)
    try:
        model.forward(x[None], train=False)
    finally:
        handle.remove()
    return caught


def layer_representation(model: Sequential, x, index: int) -> np.ndarray:
    """(N, ...) examples -> (N, D): the output of layer `index` for each, flattened, computed in batches."""
    index = _check_layer(model, index, "layer_representation")
    return _per_example(model, x, index, lambda output: output.reshape(len(output), -1).copy(),
                        "layer_representation")


def _per_example(model: Sequential, x, index: int, summary, owner: str) -> np.ndarray:
    """summary(layer `index`'s output for a batch) for every batch of x, stacked: one row per example."""
    x = check_array(x, "x", owner, dtype=model.dtype)
    caught = []

    def catch(at, _layer, _inputs, output):
        if at == index:
            caught.append(summary(output))

    handle = model.register_hook("forward", catch)
    try:
        for start in range(0, len(x), BATCH):
            model.forward(x[start:start + BATCH], train=False)
    finally:
        handle.remove()
    return np.concatenate(caught)


@dataclass(frozen=True)
class TopExamples:
    """For each unit of a layer (each filter of a conv layer), the examples with its highest mean response,
    strongest first: indices (units, k) into the examples given, and the responses (units, k)."""

    layer: int
    indices: np.ndarray
    responses: np.ndarray

    def plot(self, examples, units: int = 8):
        """The first `units` units' strongest examples among `examples` (the x given to top_activating)."""
        from learnscope.explain.plots import plot_top_examples

        return plot_top_examples(self, examples, units)


def top_activating(model: Sequential, index: int, x, k: int = 9) -> TopExamples:
    """Each unit's k strongest examples among x: a filter's response is its mean over the feature map."""
    k = check_int(k, "k", "top_activating", minimum=1, maximum=len(x))
    index = _check_layer(model, index, "top_activating")

    def response(output):                                          # a filter's mean over its feature map
        return output.reshape(*output.shape[:2], -1).mean(axis=2) if output.ndim == 4 else \
            output.reshape(len(output), -1).copy()

    responses = [_per_example(model, x, index, response, "top_activating")]
    per_unit = np.concatenate(responses).T                         # (units, N)
    strongest = np.argsort(-per_unit, axis=1, kind="stable")[:, :k]
    return TopExamples(index, strongest, np.take_along_axis(per_unit, strongest, axis=1))

