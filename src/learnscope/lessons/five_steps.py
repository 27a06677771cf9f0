"""The five steps of learning, told with the numbers of one real step (a LearningStep from step_through):

    1. the input goes in and the network predicts      (forward)
    2. the error is measured                           (loss)
    3. the error flows backward: each weight's blame   (backprop)
    4. each weight is nudged                           (the optimizer's update)
    5. repeat — and the prediction improves            (the loss on the same example, before and after)

five_steps(step) returns one StepPart per step: a title, a plain-language summary that quotes the numbers, the
formula (LaTeX) and the tensors to show. The lab's "One step" page draws these; nothing is computed there.
"""

from dataclasses import dataclass, field

import numpy as np

from learnscope.lessons.step_through import LearningStep

#: The update rules in LaTeX, by optimizer (SGD's form depends on momentum / Nesterov)
OPTIMIZER_FORMULAS = {
    "SGD": r"W \leftarrow W - \eta\,\frac{\partial L}{\partial W}",
    "SGD+momentum": r"v \leftarrow \mu v + \frac{\partial L}{\partial W},\quad W \leftarrow W - \eta\, v",
    "SGD+nesterov": r"v \leftarrow \mu v + g,\quad W \leftarrow W - \eta\,(g + \mu v),\quad "
                    r"g = \frac{\partial L}{\partial W}",
    "RMSprop": r"s \leftarrow \rho s + (1-\rho)\,g^2,\quad W \leftarrow W - \frac{\eta\, g}{\sqrt{s} + \epsilon}",
    "Adam": r"m \leftarrow \beta_1 m + (1-\beta_1) g,\quad v \leftarrow \beta_2 v + (1-\beta_2) g^2,\quad "
            r"W \leftarrow W - \eta\,\frac{\hat m}{\sqrt{\hat v} + \epsilon}",
    "AdamW": r"m, v \text{ as Adam},\quad W \leftarrow W - \eta\,\Big(\frac{\hat m}{\sqrt{\hat v} + \epsilon}"
             r" + \lambda W\Big)",
}
FORWARD_FORMULA = r"z^{l} = a^{l-1} W^{l} + b^{l},\qquad a^{l} = f(z^{l}),\qquad a^{0} = x"
BACKWARD_FORMULA = (r"\delta = \frac{\partial L}{\partial z} = \frac{\partial L}{\partial a} \odot f'(z),\quad "
                    r"\frac{\partial L}{\partial W} = a_{\text{prev}}^{\top}\,\delta,\quad "
                    r"\frac{\partial L}{\partial b} = \textstyle\sum_n \delta,\quad "
                    r"\frac{\partial L}{\partial a_{\text{prev}}} = \delta\, W^{\top}")
REPEAT_FORMULA = r"L_{\text{after}} < L_{\text{before}} \;\text{ when } \eta \text{ is small enough}"


@dataclass
class Tensor:
    """One array the page shows, with the name a learner reads ("z¹ = x W¹ + b¹")."""

    name: str
    values: np.ndarray
    layer: int | None = None        # model layer index, where the tensor belongs to one


@dataclass
class StepPart:
    number: int
    title: str
    summary: str                    # plain words with the real numbers of this step
    formula: str                    # LaTeX
    tensors: list[Tensor] = field(default_factory=list)


def five_steps(step: LearningStep, class_names=None, optimizer=None) -> list[StepPart]:
    """The five parts of one learning step, in order; `optimizer` (the one that made the step) picks step 4's
    formula: plain SGD, momentum and Nesterov share a name but not a rule."""
    return [_forward(step, class_names), _error(step, class_names), _backward(step), _update(step, optimizer),
            _repeat(step, class_names)]


def optimizer_formula(step: LearningStep, optimizer) -> str:
    """The LaTeX update rule of `optimizer` (the one that made `step`)."""
    name = step.optimizer_name
    if name == "SGD" and getattr(optimizer, "momentum", 0):
        name = "SGD+nesterov" if optimizer.nesterov else "SGD+momentum"
    return OPTIMIZER_FORMULAS.get(name, "")


def loss_change_sentence(step: LearningStep) -> str:
    """'The loss on this example went from A to B' — and what it means when it went up."""
    before, after = step.loss_before, step.loss_after
    if not np.isfinite(after):
        return (f"The loss on this example went from {before:.4g} to {after}: the step was so big that the network "
                "broke. Lower the learning rate.")
    if before < NOTHING_LEFT_TO_LEARN:
        return (f"The loss on this example was already about 0 ({before:.2g}, now {after:.2g}): the network gets it "
                "right with near certainty, so there was almost nothing left to learn from it. Pick another "
                "example.")
    if after < before:
        change = (after - before) / before
        size = f"{change:+.1%}" if change > -0.995 else "almost all of it"
        return f"The loss on this example went from {before:.4g} to {after:.4g} ({size}): the step helped."
    return (f"The loss on this example went UP, from {before:.4g} to {after:.4g}: the step overshot. "
            f"The learning rate ({step.lr:.3g}) is too big for this point; try a smaller one.")


def _label(names, index: int) -> str:
    return str(names[index]) if names is not None and index < len(names) else str(index)


def _is_classifier(step: LearningStep) -> bool:
    return step.loss_name in ("SoftmaxCrossEntropy", "BinaryCrossEntropy")


def _predicted(step: LearningStep, prediction: np.ndarray, class_names) -> str:
    if step.loss_name == "SoftmaxCrossEntropy":
        k = int(np.argmax(prediction[0]))
        return f"class {_label(class_names, k)} with probability {prediction[0, k]:.1%}"
    if step.loss_name == "BinaryCrossEntropy":
        p = float(prediction.reshape(-1)[0])
        return f"class {_label(class_names, int(p >= 0.5))} (P(class 1) = {p:.1%})"
    return "the value " + ", ".join(f"{value:.4g}" for value in prediction[0].reshape(-1)[:4])


def layer_numbers(step: LearningStep) -> dict[int, int]:
    """Model layer index -> the layer number l of the formulas (z^l = a^(l-1) W^l + b^l): each layer with weights
    starts a new number, and the activation after it shares it (a^l = f(z^l)). Layers before the first weights: 0."""
    numbers, number = {}, 0
    for record in step.layers:
        if "W" in record.params:
            number += 1
        numbers[record.index] = number
    return numbers


def parameter_label(step: LearningStep, name: str) -> str:
    """A parameter as the formulas name it: "2.dense.W" -> "W²" (the model's own name for anything else)."""
    index, kind = name.split(".", 1)[0], name.rsplit(".", 1)[-1]
    if not index.isdigit():
        return name
    number = layer_numbers(step).get(int(index))
    return f"{kind}{superscript(number)}" if number and kind in ("W", "b") else name


def _forward(step: LearningStep, class_names) -> StepPart:
    tensors = [Tensor("x = a⁰ (the input)", step.x)]
    numbers = layer_numbers(step)
    sizes = []
    for record in step.layers:
        number = numbers[record.index]
        if "W" in record.params:
            before = "x" if number == 1 else f"a{superscript(number - 1)}"
            tensors.append(Tensor(f"z{superscript(number)} = {before} W{superscript(number)} + b{superscript(number)}",
                                  record.output, record.index))
            sizes.append(record.params["W"].shape[-1] if record.params["W"].ndim == 2 else None)
        elif record.params or record.kind in ("Flatten", "Standardize"):
            tensors.append(Tensor(f"{record.kind} output", record.output, record.index))
        else:
            tensors.append(Tensor(f"a{superscript(number)} = {record.kind.lower()}(z{superscript(number)})",
                                  record.output, record.index))
    shown = [size for size in sizes if size is not None]
    widths = (": " + ", then ".join(f"{size} neuron{'s' if size != 1 else ''}" for size in shown)
              if len(shown) == len(sizes) else "")
    summary = (f"The input ({step.x[0].size} numbers) passes through {len(sizes)} layer{'s' if len(sizes) != 1 else ''}"
               f" of weights{widths}, each computing its output from the one before. For this example the network "
               f"predicts {_predicted(step, step.prediction, class_names)}.")
    return StepPart(1, "The input goes in and the network predicts", summary, FORWARD_FORMULA, tensors)


def _error(step: LearningStep, class_names) -> StepPart:
    tensors = [Tensor("output", step.output), Tensor("prediction", step.prediction), Tensor("target y", step.y),
               Tensor("loss per example", step.per_example_loss)]
    if step.loss_name == "SoftmaxCrossEntropy" and step.y.ndim == 1:
        right = step.prediction[np.arange(len(step.y)), step.y.astype(int)]
        summary = (f"The right answer is {_label(class_names, int(step.y[0]))}; the network gave it probability "
                   f"{right[0]:.1%}, so the loss is −log({right[0]:.3g}) = {step.per_example_loss[0]:.4g}.")
    else:
        summary = f"The loss ({step.loss_name}) for this example is {step.per_example_loss[0]:.4g}."
    if len(step.y) > 1:
        summary += f" Averaged over the {len(step.y)} examples of the batch: {step.loss:.4g}."
    summary += " Zero would mean a perfect prediction."
    return StepPart(2, "The error is measured", summary, step.loss_formula, tensors)


def _backward(step: LearningStep) -> StepPart:
    tensors = [Tensor("∂L/∂output (where backprop starts)", step.grad_loss)]
    blame = []
    numbers = layer_numbers(step)
    for record in reversed(step.layers):
        if "W" not in record.grads:
            continue
        layer = superscript(numbers[record.index])
        tensors += [Tensor(f"δ{layer} = ∂L/∂z{layer}", record.grad_output, record.index),
                    Tensor(f"∂L/∂W{layer}", record.grads["W"], record.index),
                    Tensor(f"∂L/∂b{layer}", record.grads["b"], record.index)]
        grad = record.grads["W"]
        flat = int(np.argmax(np.abs(grad)))
        blame.append((float(np.abs(grad).reshape(-1)[flat]), layer, np.unravel_index(flat, grad.shape)))
    summary = ("Going backward from the loss, the chain rule gives every weight its share of the blame: "
               "∂L/∂W says how much the loss would change if that weight grew a little.")
    if blame:
        size, layer, where = max(blame)
        position = (f"row {where[0] + 1}, column {where[1] + 1}" if len(where) == 2
                    else f"position {tuple(int(i) for i in where)}")
        summary += f" The most-blamed weight is in W{layer}, {position} (|∂L/∂W| = {size:.3g})."
    return StepPart(3, "The error flows backward", summary, step.loss_gradient_formula + r",\quad " +
                    BACKWARD_FORMULA, tensors)


def _update(step: LearningStep, optimizer) -> StepPart:
    tensors = []
    for update in step.updates:
        name = parameter_label(step, update.name)
        tensors += [Tensor(f"{name} before", update.before), Tensor(f"{name} gradient", update.grad)]
        tensors += [Tensor(f"{name} {key} (optimizer memory)", value) for key, value in update.state.items()]
        tensors += [Tensor(f"{name} change", update.change), Tensor(f"{name} after", update.after)]
    biggest = max(step.updates, key=lambda update: float(np.abs(update.change).max()), default=None)
    summary = (f"{step.optimizer_name} moves each weight a little against its gradient, with learning rate "
               f"{step.lr:.3g}.")
    if biggest is not None:
        summary += (f" The largest change is {float(np.abs(biggest.change).max()):.3g}, in "
                    f"{parameter_label(step, biggest.name)}.")
    return StepPart(4, "Each weight is nudged", summary, optimizer_formula(step, optimizer), tensors)


def _repeat(step: LearningStep, class_names) -> StepPart:
    tensors = [Tensor("prediction before", step.prediction), Tensor("prediction after", step.prediction_after),
               Tensor("loss before → after", np.array([step.loss_before, step.loss_after]))]
    summary = loss_change_sentence(step)
    if _is_classifier(step):
        summary += f" Now it predicts {_predicted(step, step.prediction_after, class_names)}."
    summary += " Training repeats these steps over many examples until the loss is small on all of them."
    return StepPart(5, "Repeat — and the prediction improves", summary, REPEAT_FORMULA, tensors)


#: A loss below this leaves a step nothing to do: the example is already right with near certainty
NOTHING_LEFT_TO_LEARN = 1e-4


def superscript(number: int) -> str:
    """12 -> '¹²' (the layer numbers of the formulas: z¹, a¹, W²)"""
    return str(number).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def subscript(number: int) -> str:
    """12 -> '₁₂' (names like W₁, x₂ in the formulas and the graph)"""
    return str(number).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


# -- showing a tensor ---------------------------------------------------------------------------------------------
#: Tensors with at most this many numbers are shown as a table; bigger ones as a heatmap you hover to read
MAX_TABLE_SIZE = 48


def shared_limit(tensors) -> float:
    """The largest |value| over several tensors: one colour scale for all of them, so a layer whose gradients are
    1000× smaller than the last layer's looks 1000× paler (each on its own scale, every layer looks equally busy)."""
    peaks = [float(np.nanmax(np.abs(tensor.values))) for tensor in tensors if np.size(tensor.values)]
    finite = [peak for peak in peaks if np.isfinite(peak)]
    return max(finite, default=0.0) or 1.0


def format_number(value: float) -> str:
    """How the page prints one number: four significant digits (and 'nan'/'inf' as themselves)."""
    return f"{float(value):.4g}"


def as_matrix(values) -> np.ndarray:
    """Any tensor -> 2D for display: a scalar is 1×1, a vector one row, (N, ..., W) rows of the last axis."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 0:
        return values.reshape(1, 1)
    if values.ndim == 1:
        return values.reshape(1, -1)
    return values.reshape(-1, values.shape[-1])


def cell_at(shape: tuple[int, int], x: float, y: float, width: float, height: float) -> tuple[int, int] | None:
    """The (row, column) of a rows×columns heatmap drawn width×height pixels under the pixel (x, y), or None
    outside it."""
    rows, columns = shape
    if not (0 <= x < width and 0 <= y < height):
        return None
    return min(int(y * rows / height), rows - 1), min(int(x * columns / width), columns - 1)


def nearest_point(points: np.ndarray, x1: float, x2: float) -> int:
    """Index of the row of (N, 2) `points` closest to (x1, x2): clicking near a point picks it."""
    points = np.asarray(points, dtype=np.float64)
    return int(np.argmin((points[:, 0] - x1) ** 2 + (points[:, 1] - x2) ** 2))
