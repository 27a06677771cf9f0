"""Gradient checking: compare a layer's backward with central finite differences.

    dL/dθ ≈ (L(θ + h) − L(θ − h)) / 2h   (refined to a five-point stencil, see numeric_gradient)
    with L = Σ output ⊙ R for a fixed random R,

so that backward(R) must return exactly dL/dx and fill exactly dL/dθ. Run it in float64: in float32
the rounding error of the difference quotient swamps the answer. A learner who writes a new layer
checks it with one call: `assert_gradients_close(MyLayer(...).astype(np.float64), x)`.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class GradCheckResult:
    """Max relative error per tensor ("x" for the input, then parameter names) and its worst index."""

    errors: dict[str, float]
    worst_index: dict[str, tuple]

    @property
    def max_error(self) -> float:
        return max(self.errors.values(), default=0.0)


def relative_error(analytic: np.ndarray, numeric: np.ndarray) -> np.ndarray:
    """|a − n| / max(|a| + |n|, floor), element-wise.
    NOTE: the finite difference carries a rounding error of about 1e-16·|L|/h whatever the entry's
    size, so an entry ten thousand times smaller than the largest is judged against 1e-4 of the
    largest instead of against itself. A real bug is off by the gradient's own scale and still shows."""
    floor = max(1e-4 * float(np.abs(numeric).max(initial=0.0)), 1e-12)
    return np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), floor)


def numeric_gradient(f: Callable[[], float], array: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Central differences of the scalar f() with respect to every entry of `array` (perturbed in place):
        f'(x) ≈ [f(x − 2h) − 8 f(x − h) + 8 f(x + h) − f(x + 2h)] / 12h,
    the five-point stencil, whose error shrinks like h⁴ instead of h², so h can stay large enough
    that rounding in f does not swamp the difference."""
    grad = np.zeros(array.shape, dtype=np.float64)
    flat = array.reshape(-1)                            # a view: writing to it perturbs `array`
    for i in range(flat.size):
        original = flat[i]
        values = []
        for step in (-2, -1, 1, 2):
            flat[i] = original + step * h
            values.append(f())
        flat[i] = original
        grad.reshape(-1)[i] = (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * h)
    return grad


def check_layer_gradients(layer, x: np.ndarray, train: bool = True, seed: int = 0, h: float = 1e-4,
                          before_forward: Callable[[], None] | None = None) -> GradCheckResult:
    """Compare layer.backward with finite differences for the input and every parameter.
    `before_forward` runs before each forward (e.g. to replay dropout's random mask)."""
    if layer.dtype != np.float64 or x.dtype != np.float64:
        raise TypeError("check_layer_gradients expected a float64 layer and input, got "
                        f"{layer.dtype} and {x.dtype}. Call layer.astype(np.float64) and x.astype(np.float64).")
    x = x.copy()
    prepare = before_forward or (lambda: None)
    prepare()
    projection = np.random.default_rng(seed).standard_normal(layer.forward(x, train).shape)

    def loss() -> float:
        prepare()
        return float(np.sum(layer.forward(x, train) * projection))

    prepare()
    layer.forward(x, train)
    analytic = {"x": layer.backward(projection.copy())}
    analytic.update({key: grad.copy() for key, grad in layer.grads.items()})
    numeric = {"x": numeric_gradient(loss, x, h)}
    numeric.update({key: numeric_gradient(loss, param, h) for key, param in layer.params.items()})
    return _compare(analytic, numeric)


def check_loss_gradients(loss, output: np.ndarray, y, h: float = 1e-4) -> GradCheckResult:
    """Compare loss.backward() with finite differences of loss.forward(output, y)."""
    output = output.astype(np.float64)
    loss.forward(output, y)
    analytic = {"output": loss.backward()}
    numeric = {"output": numeric_gradient(lambda: loss.forward(output, y), output, h)}
    return _compare(analytic, numeric)


def assert_gradients_close(result: GradCheckResult, tol: float = 1e-6) -> None:
    """Raise AssertionError naming every tensor whose analytic gradient disagrees."""
    bad = {name: err for name, err in result.errors.items() if not err <= tol}
    if bad:
        details = "; ".join(f"{name}: max relative error {err:.3g} at index {result.worst_index[name]}"
                            for name, err in bad.items())
        raise AssertionError(f"backward disagrees with finite differences (tolerance {tol:g}): {details}")


def _compare(analytic: dict, numeric: dict) -> GradCheckResult:
    errors, worst = {}, {}
    for name, value in numeric.items():
        if analytic[name] is None or analytic[name].shape != value.shape:
            shape = None if analytic[name] is None else analytic[name].shape
            raise AssertionError(f"gradient for {name} has shape {shape}, expected {value.shape}")
        err = relative_error(analytic[name].astype(np.float64), value)
        errors[name] = float(err.max()) if err.size else 0.0
        worst[name] = np.unravel_index(int(np.argmax(err)), err.shape) if err.size else ()
    return GradCheckResult(errors, worst)
