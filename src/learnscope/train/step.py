"""One learning step — the four lines every lesson shows, written once:

    output = model.forward(x, train=True)          1. predict
    value = loss.forward(output, y)                2. measure the error
    model.backward(loss.backward())                3. every weight's share of the blame
    optimizer.step(model.trainable_params())       4. nudge every weight downhill (frozen layers stay put)

fit(), the playground, step_through and the tests all call train_step; nothing else runs these four lines.
"""

import math
from dataclasses import dataclass

import numpy as np

from learnscope.core.validation import is_finite


@dataclass
class StepOutcome:
    """What one step did. `diverged` names why the update was skipped: "output" (the output was NaN/inf), "loss"
    (the loss was NaN/inf) or "exploded" (finite, but above the caller's loss_limit); None when it was applied."""

    loss: float
    output: np.ndarray
    diverged: str | None = None


def train_step(model, loss, optimizer, x, y, *, train: bool = True, need_input_grad: bool = False,
               loss_limit: float = math.inf) -> StepOutcome:
    """Forward, loss, backward and update on one batch.   x: (N, ...), y: (N, ...)

    The update is skipped (and `diverged` says why) when the output is not finite — checked before the loss,
    which refuses NaN/inf — or the loss is not at most `loss_limit`. train=False runs the step with dropout off
    and batch norm on its running statistics (step_through's view of one example); need_input_grad=True also
    computes d(loss)/d(x) (saliency, the graph view). No checks on the arguments: callers validate once, outside
    the loop.
    """
    # NOTE: overflow is how divergence starts; the outcome names it instead of NumPy warning about it
    with np.errstate(over="ignore", invalid="ignore"):
        output = model.forward(x, train=train)
        if not is_finite(output):
            return StepOutcome(math.nan, output, "output")
        value = loss.forward(output, y)
        if not value <= loss_limit:                 # NaN compares False: one test for NaN, inf and a blow-up
            return StepOutcome(value, output, "exploded" if math.isfinite(value) else "loss")
        model.backward(loss.backward(), need_input_grad=need_input_grad)
        optimizer.step(model.trainable_params())
    return StepOutcome(value, output)
