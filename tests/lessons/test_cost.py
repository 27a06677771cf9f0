"""What training costs: the sums of the layers' counts, memory, measured speed and the sweeps."""

import numpy as np
import pytest

from learnscope.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from learnscope.lessons.cost import cost_sweep, describe_speed, measure_training_speed, network_cost
from learnscope.model import Sequential


def test_a_small_mlp_costs_its_hand_count():
    model = Sequential([Flatten(), Dense(12, 5), ReLU(), Dense(5, 3)])
    cost = network_cost(model, (1, 3, 4))
    assert cost.params == 12 * 5 + 5 + 5 * 3 + 3
    assert cost.forward_flops == 2 * 12 * 5 + 5 + 2 * 5 * 3               # two products, one ReLU
    # backward: the last Dense computes dW, db and dL/dx, the ReLU its derivative and product, and the first
    # Dense only dW and db (nothing before it learns, so its dL/dx is never needed)
    assert cost.backward_flops == (2 * 5 * 3 + 3 + 2 * 5 * 3) + 2 * 5 + (2 * 12 * 5 + 5)
    assert [layer.kept for layer in cost.layers] == [0, 5, 5, 3]


def test_memory_counts_weights_gradients_optimizer_slots_and_the_kept_batch():
    model = Sequential([Dense(10, 20), ReLU(), Dense(20, 2)])
    cost = network_cost(model, (10,))
    n_params = 10 * 20 + 20 + 20 * 2 + 2
    assert cost.memory_bytes(batch_size=8, optimizer_slots=2) == 4 * (4 * n_params + 8 * (20 + 20 + 2 + 20))


def test_a_cnn_spends_almost_all_its_operations_in_matrix_products():
    model = Sequential([Conv2D(1, 8, 5), ReLU(), MaxPool2D(2), Flatten(), Dense(8 * 12 * 12, 10)])
    cost = network_cost(model, (1, 28, 28))
    assert cost.layers[0].backward == cost.layers[0].forward + 8 * 24 * 24      # dW and db, no dL/dx
    assert 0.95 < cost.matrix_share < 1


def test_measured_speed_converts_steps_into_examples_and_operations(mnist):
    model = Sequential([Flatten(), Dense(784, 64), ReLU(), Dense(64, 10)], seed=0)
    x, y = mnist.x_train[:2000], mnist.y_train[:2000]
    before = model.layers[1].params["W"].copy()
    speed = measure_training_speed(model, x, y, batch_size=100, steps=5)
    assert not np.array_equal(before, model.layers[1].params["W"])       # real training steps ran
    assert speed.seconds_per_step > 0 and speed.training_flops == network_cost(model, (1, 28, 28)).training_flops
    assert speed.examples_per_second == pytest.approx(100 / speed.seconds_per_step)
    assert speed.seconds_per_epoch(60_000) == pytest.approx(600 * speed.seconds_per_step)
    text = describe_speed(network_cost(model, (1, 28, 28)), speed, 60_000)
    assert "19.5 trillion" in text and f"{speed.gflops_per_second:.0f} billion per second" in text


@pytest.mark.parametrize("dimension, values", [("width", [16, 64]), ("depth", [1, 3]), ("batch", [16, 64])])
def test_a_sweep_measures_one_network_per_value(mnist, dimension, values):
    rows = cost_sweep(dimension, values, mnist.x_train[:512], mnist.y_train[:512], steps=2)
    assert [row.value for row in rows] == values
    if dimension == "batch":                         # the same network: the same cost per example, more memory
        assert rows[0].params == rows[1].params and rows[0].training_flops == rows[1].training_flops
        assert rows[1].memory_bytes > rows[0].memory_bytes
        assert [row.speed.batch_size for row in rows] == values
    else:
        assert rows[1].params > rows[0].params and rows[1].training_flops > rows[0].training_flops


def test_the_sweep_sentence_reads_the_growth_from_its_rows(mnist):
    from learnscope.lessons.cost import describe_cost_sweep

    rows = cost_sweep("depth", [1, 4], mnist.x_train[:512], mnist.y_train[:512], steps=2)
    text = describe_cost_sweep("depth", rows)
    assert text.startswith("From depth 1 to 4: ")
    assert f"{rows[1].training_flops / rows[0].training_flops:.1f}× the operations" in text
