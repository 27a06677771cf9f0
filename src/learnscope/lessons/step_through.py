"""One learning step, in numbers: every value of one forward pass, the loss, the backward pass and the update.

    step = step_through(model, loss, optimizer, x, y)

runs the *real* model, loss and optimizer once on x (one example or a mini-batch) — the same calls fit() makes —
and keeps a copy of every number on the way:

    1. forward    each layer's input and output (for Dense the output is z = xW + b, for an activation a = f(z))
    2. error      the output, the prediction (softmax or sigmoid probabilities, or the raw values for MSE),
                  the loss and its formula
    3. backward   dL/d(output), then per layer δ = dL/d(its output), dL/d(its input), dL/dW and dL/db
    4. update     per parameter: before, gradient, the optimizer's state after the step (velocity; Adam's m
                  and v), the change and the new value, and the learning rate used
    5. again      the prediction and loss on the same x after the step

The numbers are copies taken by forward/backward hooks, so they are bit for bit the engine's own.
Hooks are removed afterwards; the model, loss and optimizer are left exactly as a training step leaves them.
"""

from dataclasses import dataclass, field

import numpy as np

from learnscope.core.validation import describe
from learnscope.losses import Loss
from learnscope.model import Sequential
from learnscope.optim import Optimizer
from learnscope.train.step import train_step


@dataclass
class LayerPass:
    """One layer's numbers in the step. `output` is z for a Dense layer and a = f(z) for an activation;
    `grad_output` is dL/d(output) — δ when the layer is Dense — and `grad_input` is dL/d(input)."""

    index: int
    name: str                                   # "0.dense", as in model.named_params()
    kind: str                                   # "Dense"
    input: np.ndarray
    output: np.ndarray
    params: dict[str, np.ndarray]               # before the update
    grad_output: np.ndarray | None = None
    grad_input: np.ndarray | None = None
    grads: dict[str, np.ndarray] = field(default_factory=dict)   # dL/dW, dL/db, ...


@dataclass
class ParameterUpdate:
    """What the optimizer did to one parameter array: after = before + change."""

    name: str                                   # "0.dense.W"
    before: np.ndarray
    grad: np.ndarray                            # dL/dW as backward left it (before weight decay or clipping)
    state: dict[str, np.ndarray]                # the optimizer's memory after the step (velocity, m, v, ...)
    after: np.ndarray

    @property
    def change(self) -> np.ndarray:
        return self.after - self.before


@dataclass
class LearningStep:
    """Every number of one training step on (x, y); see the module docstring for the five parts."""

    x: np.ndarray
    y: np.ndarray
    train: bool
    layers: list[LayerPass]
    output: np.ndarray                          # the network's raw output (logits for the cross-entropies)
    prediction: np.ndarray                      # probabilities (cross-entropies) or the output itself (MSE)
    loss: float
    per_example_loss: np.ndarray
    loss_name: str
    loss_formula: str
    loss_gradient_formula: str
    grad_loss: np.ndarray                       # dL/d(output), what backward starts from
    optimizer_name: str
    optimizer_formula: str
    lr: float
    updates: list[ParameterUpdate]
    output_after: np.ndarray
    prediction_after: np.ndarray
    loss_before: float                          # in eval mode, before the step: what `loss_after` compares with
    loss_after: float                           # in eval mode, after the step

    def plot(self):
        """Each weight matrix before the step, its gradient and the change made (a matplotlib figure)."""
        from learnscope.lessons.plots import plot_learning_step

        return plot_learning_step(self)

    @property
    def loss_decreased(self) -> bool:
        return self.loss_after < self.loss_before

    def update(self, name: str) -> ParameterUpdate:
        """The update of the parameter called `name` (e.g. "0.dense.W")."""
        for update in self.updates:
            if update.name == name:
                return update
        raise KeyError(f"no parameter {name!r} in this step; the parameters are "
                       f"{[update.name for update in self.updates]}.")


def step_through(model: Sequential, loss: Loss, optimizer: Optimizer, x, y, train: bool = False) -> LearningStep:
    """Run one training step of `model` on (x, y) and return every number of it.   x: (N, ...), y: (N, ...)

    train=False (the default) runs the step with dropout off and batch norm on its running statistics, so one
    example's numbers are the same every time and do not depend on the rest of a batch; train=True is the exact
    pass fit() makes. The model's weights and the optimizer's state change as in a real step.
    """
    owner = "step_through"
    if not isinstance(model, Sequential):
        raise TypeError(f"{owner} expected a Sequential model, got {describe(model)}.")
    if not isinstance(loss, Loss):
        raise TypeError(f"{owner} expected a loss such as SoftmaxCrossEntropy(), got {describe(loss)}.")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{owner} expected an optimizer such as SGD(lr=0.1), got {describe(optimizer)}.")
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"{owner} expected at least one example in x (shape (N, ...)), got shape {x.shape}. "
                         "Pass one example as x[i:i+1].")

    loss_before = loss.forward(model.forward(x, train=False), y) if train else None

    layers: list[LayerPass] = []

    def on_forward(index, layer, inputs, out):
        layers.append(LayerPass(index, _layer_name(index, layer), type(layer).__name__, inputs.copy(), out.copy(),
                                {key: value.copy() for key, value in layer.params.items()}))

    def on_backward(index, layer, grad, grad_in):
        record = layers[index]
        record.grad_output = grad.copy()
        record.grad_input = None if grad_in is None else grad_in.copy()
        record.grads = {key: value.copy() for key, value in layer.grads.items()}   # before clipping changes them

    named = model.named_params()
    before = {name: param.copy() for name, param, _ in named}
    lr = optimizer.current_lr
    handles = [model.register_hook("forward", on_forward), model.register_hook("backward", on_backward)]
    try:
        outcome = train_step(model, loss, optimizer, x, y, train=train, need_input_grad=True)
    finally:
        for handle in handles:
            handle.remove()
    if outcome.diverged:
        raise ValueError(f"{owner} could not take the step: the network's {outcome.diverged} is not finite. "
                         "Lower the learning rate and start over.")
    output, per_example = outcome.output, loss.per_example.copy()      # the forward after the step overwrites it
    grad_loss = layers[-1].grad_output                                  # what the last layer's backward was given
    grads = {f"{record.name}.{key}": grad for record in layers for key, grad in record.grads.items()}
    updates = [ParameterUpdate(name, before[name], grads[name],
                               {key: value.copy() for key, value in optimizer.state.get(name, {}).items()},
                               param.copy())
               for name, param, _ in named]

    output_after = model.forward(x, train=False)
    loss_after = loss.forward(output_after, y)
    return LearningStep(
        x=x.copy(), y=y.copy(), train=train, layers=layers, output=output.copy(), prediction=loss.prediction(output),
        loss=outcome.loss, per_example_loss=per_example, loss_name=type(loss).__name__,
        loss_formula=loss.formula, loss_gradient_formula=loss.gradient_formula, grad_loss=grad_loss,
        optimizer_name=type(optimizer).__name__, optimizer_formula=_first_line(type(optimizer).__doc__), lr=lr,
        updates=updates, output_after=output_after.copy(), prediction_after=loss.prediction(output_after),
        loss_before=outcome.loss if loss_before is None else loss_before, loss_after=loss_after,
    )


def _layer_name(index: int, layer) -> str:
    return f"{index}.{type(layer).__name__.lower()}"


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if text else ""
