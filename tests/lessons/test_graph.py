"""The computational graph of a 2-2-1 network, checked against numbers worked out by hand."""

import math

import numpy as np
import pytest

from learnscope.layers import Dense, ReLU, Tanh
from learnscope.lessons.graph import check_graph, graph_from_step
from learnscope.lessons.step_through import step_through
from learnscope.losses import MSE
from learnscope.model import Sequential
from learnscope.optim import SGD

W1 = [[0.5, -1.0], [0.25, 0.75]]
B1 = [0.1, -0.2]
W2 = [[1.5], [-0.5]]
B2 = [0.3]
X, Y = [1.0, 2.0], 0.5


def tiny_network():
    model = Sequential([Dense(2, 2), Tanh(), Dense(2, 1)], seed=0).astype(np.float64)
    for layer, W, b in ((model.layers[0], W1, B1), (model.layers[2], W2, B2)):
        layer.params["W"][...] = W
        layer.params["b"][...] = b
    return model


def by_hand():
    """Forward and backward of the 2-2-1 tanh network with MSE, one line per operation."""
    z1 = [X[0] * W1[0][k] + X[1] * W1[1][k] + B1[k] for k in range(2)]
    a1 = [math.tanh(value) for value in z1]
    z2 = a1[0] * W2[0][0] + a1[1] * W2[1][0] + B2[0]
    loss = (z2 - Y) ** 2
    dz2 = 2 * (z2 - Y)
    da1 = [W2[k][0] * dz2 for k in range(2)]
    dz1 = [da1[k] * (1 - a1[k] ** 2) for k in range(2)]
    return {"z1": z1, "a1": a1, "z2": z2, "loss": loss, "dz2": dz2, "da1": da1, "dz1": dz1,
            "dW1": [[X[i] * dz1[k] for k in range(2)] for i in range(2)],
            "dW2": [a1[i] * dz2 for i in range(2)],
            "dx": [W1[i][0] * dz1[0] + W1[i][1] * dz1[1] for i in range(2)]}


@pytest.fixture
def graph():
    model = tiny_network()
    step = step_through(model, MSE(), SGD(lr=0.1), np.array([X]), np.array([[Y]]))
    return graph_from_step(step, tiny_network())


def test_values_match_the_hand_computation(graph):
    hand = by_hand()
    assert graph.node("z[0]1").value == pytest.approx(1.1) and graph.node("z[0]2").value == pytest.approx(0.3)
    assert graph.node("a[1]1").value == pytest.approx(hand["a1"][0], abs=1e-12)
    assert graph.node("z[2]1").value == pytest.approx(hand["z2"], abs=1e-12)
    assert graph.node("L").value == pytest.approx(0.7311827, abs=1e-7)
    assert graph.node("L").value == pytest.approx(hand["loss"], abs=1e-12)
    assert graph.node("p[0]21").value == pytest.approx(X[1] * W1[1][0])           # w₂₁·x₂ = 0.5


def test_gradients_match_the_hand_computation(graph):
    hand = by_hand()
    assert graph.node("z[2]1").grad == pytest.approx(hand["dz2"], abs=1e-12)
    for k in range(2):
        assert graph.node(f"a[1]{k + 1}").grad == pytest.approx(hand["da1"][k], abs=1e-12)
        assert graph.node(f"z[0]{k + 1}").grad == pytest.approx(hand["dz1"][k], abs=1e-12)
        assert graph.node(f"w[2]{k + 1}1").grad == pytest.approx(hand["dW2"][k], abs=1e-12)
        assert graph.node(f"x{k + 1}").grad == pytest.approx(hand["dx"][k], abs=1e-12)
        for i in range(2):
            assert graph.node(f"w[0]{i + 1}{k + 1}").grad == pytest.approx(hand["dW1"][i][k], abs=1e-12)
    assert graph.node("b[0]2").grad == pytest.approx(hand["dz1"][1], abs=1e-12)


def test_the_chain_rule_terms_add_up_to_every_gradient(graph):
    assert check_graph(graph) < 1e-12
    hand = by_hand()
    # dL/dw₁₁ = dL/dp · ∂p/∂w = δ₁ · x₁: one term, read off the graph
    [(target, grad, local)] = graph.chain_rule_terms("w[0]11")
    assert target == "p[0]11" and grad == pytest.approx(hand["dz1"][0]) and local == X[0]
    # tanh's local derivative is 1 − a²
    [(_, _, local)] = graph.chain_rule_terms("z[0]1")
    assert local == pytest.approx(1 - hand["a1"][0] ** 2)
    # x₁ feeds two products: its gradient is the sum of two terms
    assert len(graph.chain_rule_terms("x1")) == 2


def test_a_broken_gradient_is_caught_by_the_chain_rule_check(graph):
    graph.node("z[0]1").grad *= 1.01
    assert check_graph(graph) > 1e-4


def test_a_nan_gradient_fails_the_chain_rule_check(graph):
    graph.node("z[0]1").grad = float("nan")
    assert check_graph(graph) == float("inf")


def test_big_networks_and_batches_are_refused_with_the_way_out():
    model = Sequential([Dense(2, 16), ReLU(), Dense(16, 3)], seed=0)
    step = step_through(model, MSE(), SGD(lr=0.1), np.ones((1, 2), np.float32), np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match="at most 40 weights, got 80"):
        graph_from_step(step, model)
    small = tiny_network()
    step = step_through(small, MSE(), SGD(lr=0.1), np.ones((2, 2)), np.ones((2, 1)))
    with pytest.raises(ValueError, match=r"x\[i:i\+1\]"):
        graph_from_step(step, small)


def test_each_weight_and_bias_has_its_own_name_with_its_layer_number(graph):
    labels = [node.label for node in graph.nodes if node.kind in ("weight", "bias")]
    assert len(labels) == len(set(labels))                                  # no two "w₁₁" in different layers
    assert {"w¹₁₁", "w¹₂₂", "b¹₂", "w²₁₁", "w²₂₁", "b²₁"} <= set(labels)
    weights = {node.label: node.value for node in graph.nodes if node.kind == "weight"}
    assert weights["w¹₁₂"] == W1[0][1] and weights["w²₂₁"] == W2[1][0]     # w^l_ik: from input i to neuron k
