"""five_steps tells one real step in five parts, quoting the step's own numbers."""

import numpy as np
import pytest

from learnscope.layers import Dense, Tanh
from learnscope.lessons.five_steps import five_steps, loss_change_sentence, optimizer_formula
from learnscope.lessons.step_through import step_through
from learnscope.losses import MSE, SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD, Adam, RMSprop


def run_step(lr=0.05, optimizer=None, loss=None, y=None):
    model = Sequential([Dense(2, 3), Tanh(), Dense(3, 2)], seed=0)
    x = np.array([[0.5, -1.0]], dtype=np.float32)
    return step_through(model, loss or SoftmaxCrossEntropy(), optimizer or SGD(lr=lr), x,
                        np.array([1]) if y is None else y)


def test_five_parts_in_order_with_the_steps_own_arrays():
    step = run_step()
    parts = five_steps(step, class_names=["red", "blue"])
    assert [part.number for part in parts] == [1, 2, 3, 4, 5]
    forward = {tensor.name: tensor.values for tensor in parts[0].tensors}
    # numbered as the formulas number them: layer l has z^l = a^(l-1) W^l + b^l and a^l = f(z^l)
    assert forward["z¹ = x W¹ + b¹"] is step.layers[0].output
    assert forward["a¹ = tanh(z¹)"] is step.layers[1].output
    assert forward["z² = a¹ W² + b²"] is step.layers[2].output
    assert "x = a⁰ (the input)" in forward
    assert "passes through 2 layers of weights: 3 neurons, then 2 neurons" in parts[0].summary   # as drawn
    predicted = int(np.argmax(step.prediction[0]))
    expected = f"class {['red', 'blue'][predicted]} with probability {step.prediction[0, predicted]:.1%}"
    assert expected in parts[0].summary


def test_the_error_part_quotes_minus_log_of_the_right_class_probability():
    step = run_step()
    summary = five_steps(step)[1].summary
    right = step.prediction[0, 1]
    assert f"probability {right:.1%}" in summary and f"−log({right:.3g}) = {step.loss:.4g}" in summary
    assert step.loss == pytest.approx(-np.log(right), rel=1e-5)


def test_the_backward_part_names_the_weight_with_the_largest_gradient():
    step = run_step()
    part = five_steps(step)[2]
    candidates = [(np.abs(record.grads["W"]).max(), record.index, record.grads["W"]) for record in step.layers
                  if "W" in record.grads]
    size, index, grad = max(candidates, key=lambda item: item[0])
    row, column = (int(i) + 1 for i in np.unravel_index(np.argmax(np.abs(grad)), grad.shape))
    name = {0: "W¹", 2: "W²"}[index]
    assert f"in {name}, row {row}, column {column}" in part.summary and f"{size:.3g}" in part.summary
    deltas = [tensor for tensor in part.tensors if tensor.name.startswith("δ")]
    assert [tensor.layer for tensor in deltas] == [2, 0]                   # backward: last layer first
    assert [tensor.name for tensor in deltas] == ["δ² = ∂L/∂z²", "δ¹ = ∂L/∂z¹"]


def test_the_update_part_shows_before_change_after_and_optimizer_memory():
    step = run_step(optimizer=Adam(lr=0.01))
    names = [tensor.name for tensor in five_steps(step)[3].tensors]
    assert names[:6] == ["W¹ before", "W¹ gradient", "W¹ m (optimizer memory)", "W¹ v (optimizer memory)",
                         "W¹ change", "W¹ after"]                        # W¹, b¹, W², b²: not "0.dense.W"
    assert [name for name in names if name.endswith(" after")] == ["W¹ after", "b¹ after", "W² after", "b² after"]


def test_the_repeat_part_says_whether_the_loss_went_down_or_up():
    small = run_step(lr=0.05)
    assert small.loss_decreased
    assert five_steps(small)[4].summary.startswith(f"The loss on this example went from {small.loss_before:.4g} "
                                                   f"to {small.loss_after:.4g}")
    model = Sequential([Dense(2, 1)], seed=0)
    big = step_through(model, MSE(), SGD(lr=50.0), np.ones((1, 2), np.float32), np.array([[3.0]], np.float32))
    assert not big.loss_decreased
    assert "went UP" in loss_change_sentence(big) and "too big" in loss_change_sentence(big)


def test_a_step_on_an_example_already_learned_says_so_instead_of_a_percentage():
    step = run_step()
    step.loss_before, step.loss_after = 3e-7, 1e-7
    sentence = loss_change_sentence(step)
    assert "already about 0" in sentence and "%" not in sentence
    step.loss_before, step.loss_after = 0.5, 1e-6                        # a real drop of nearly everything
    assert "(almost all of it)" in loss_change_sentence(step)


def test_a_broken_step_says_the_network_broke():
    step = run_step()
    step.loss_after = float("inf")
    assert "broke" in loss_change_sentence(step)


@pytest.mark.parametrize(("optimizer", "expected"), [
    (SGD(lr=0.1), r"W - \eta\,\frac{\partial L}{\partial W}"),
    (SGD(lr=0.1, momentum=0.9), r"v \leftarrow \mu v"),
    (SGD(lr=0.1, momentum=0.9, nesterov=True), r"(g + \mu v)"),
    (RMSprop(lr=0.01), r"\sqrt{s}"),
    (Adam(lr=0.01), r"\hat m"),
])
def test_each_optimizer_gets_its_own_update_rule(optimizer, expected):
    step = run_step(optimizer=optimizer)
    assert expected in optimizer_formula(step, optimizer)
    assert five_steps(step, optimizer=optimizer)[3].formula == optimizer_formula(step, optimizer)   # step 4's


def test_tensors_become_matrices_for_display():
    from learnscope.lessons.five_steps import as_matrix

    assert as_matrix(3.0).shape == (1, 1)
    assert as_matrix(np.arange(5)).shape == (1, 5)
    assert as_matrix(np.zeros((2, 3))).shape == (2, 3)
    np.testing.assert_array_equal(as_matrix(np.arange(24).reshape(1, 2, 3, 4))[4], [16, 17, 18, 19])


def test_hovering_a_heatmap_pixel_finds_its_cell():
    from learnscope.lessons.five_steps import cell_at

    assert cell_at((4, 10), 0, 0, 200, 80) == (0, 0)
    assert cell_at((4, 10), 199.9, 79.9, 200, 80) == (3, 9)
    assert cell_at((4, 10), 25, 30, 200, 80) == (1, 1)
    assert cell_at((4, 10), 200, 10, 200, 80) is None and cell_at((4, 10), -1, 10, 200, 80) is None


def test_a_click_picks_the_nearest_point_and_numbers_print_with_four_digits():
    from learnscope.lessons.five_steps import format_number, nearest_point

    points = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, 0.5]])
    assert nearest_point(points, 0.9, 0.8) == 1 and nearest_point(points, -0.7, 0.4) == 2
    assert format_number(0.123456) == "0.1235" and format_number(-12345.6) == "-1.235e+04"
    assert format_number(float("nan")) == "nan"


def test_a_shared_colour_scale_is_the_largest_value_over_all_the_tensors():
    from learnscope.lessons.five_steps import Tensor, shared_limit

    tensors = [Tensor("∂L/∂W¹", np.array([[1e-3, -2e-3]])), Tensor("∂L/∂W²", np.array([[0.5, -2.0]])),
               Tensor("broken", np.array([np.nan, np.inf]))]
    assert shared_limit(tensors) == 2.0                     # the non-finite one is left out, not the scale
    assert shared_limit([Tensor("zeros", np.zeros(3))]) == 1.0 and shared_limit([]) == 1.0
