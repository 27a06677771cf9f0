"""The computational graph of a tiny network on one example: every multiply, add and activation as a node
with its value and its gradient, so the chain rule can be read term by term (as micrograd shows it).

For a Dense layer, output unit k:   p_ik = w_ik · a_i    (a product node per weight)
                                    z_k  = Σ_i p_ik + b_k (a sum node)
then an activation node a_k = f(z_k), and one loss node L at the end.
Each edge carries its local derivative (∂target/∂source), and each node's gradient is
    dL/d(node) = Σ over the edges leaving it of  dL/d(target) · ∂target/∂node,
which is backpropagation written out. Values and gradients are taken from a LearningStep, so they are the
engine's own numbers; graph_from_step checks that its sums agree with them.
"""

from dataclasses import dataclass, field

import numpy as np

from learnscope.layers import Dense
from learnscope.layers.activations import Activation
from learnscope.lessons.five_steps import layer_numbers, subscript, superscript
from learnscope.lessons.step_through import LearningStep

#: More weights than this make a graph nobody can read; the step-through view shows heatmaps instead
MAX_GRAPH_WEIGHTS = 40


@dataclass
class GraphNode:
    id: str                         # "x1", "w[0]12", "p[0]12", "z[0]2", "a[1]2", "L"
    label: str                      # what the page prints: "x₁", "w₁₂", "×", "+", "tanh", "L"
    kind: str                       # input | weight | bias | multiply | add | activation | loss
    value: float
    grad: float                     # dL/d(this node)
    layer: int                      # column in the drawing: 0 for the inputs, then one per step of the net


@dataclass
class GraphEdge:
    source: str
    target: str
    local_derivative: float         # ∂target/∂source at this example


@dataclass
class ComputationalGraph:
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)

    def node(self, node_id: str) -> GraphNode:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(f"no node {node_id!r} in the graph")

    def chain_rule_terms(self, node_id: str) -> list[tuple[str, float, float]]:
        """How dL/d(node) is assembled: (target, dL/d(target), ∂target/∂node) for each edge leaving it;
        the node's grad is the sum of the products."""
        return [(edge.target, self.node(edge.target).grad, edge.local_derivative)
                for edge in self.edges if edge.source == node_id]


def graph_from_step(step: LearningStep, model) -> ComputationalGraph:
    """The scalar graph of a Dense/activation network on step's one example (see the module docstring)."""
    if len(step.x) != 1:
        raise ValueError(f"graph_from_step expected a step on one example, got {len(step.x)}. "
                         "Run step_through on x[i:i+1].")
    n_weights = sum(layer.params["W"].size for layer in model.layers if isinstance(layer, Dense))
    if n_weights > MAX_GRAPH_WEIGHTS:
        raise ValueError(f"graph_from_step draws networks with at most {MAX_GRAPH_WEIGHTS} weights, got "
                         f"{n_weights}. Use a tiny network such as 2-2-1, or the step-through heatmaps.")
    graph = ComputationalGraph()
    x = step.x.reshape(-1)
    first_grad = step.layers[0].grad_input.reshape(-1)
    current = []                                        # node ids of the values entering the next layer
    for i, value in enumerate(x):
        node_id = f"x{i + 1}"
        graph.nodes.append(GraphNode(node_id, f"x{subscript(i + 1)}", "input", float(value), float(first_grad[i]), 0))
        current.append(node_id)
    column = 1
    numbers = layer_numbers(step)
    for record, layer in zip(step.layers, model.layers):
        if isinstance(layer, Dense):
            current = _dense(graph, record, current, column, numbers[record.index])
            column += 2
        elif isinstance(layer, Activation):
            current = _activation(graph, record, layer, current, column)
            column += 1
        else:
            raise ValueError(f"graph_from_step draws Dense layers and activations, got {record.kind} at layer "
                             f"{record.index}. Remove it for the graph view.")
    graph.nodes.append(GraphNode("L", "L", "loss", float(step.loss), 1.0, column))
    for k, node_id in enumerate(current):
        graph.edges.append(GraphEdge(node_id, "L", float(step.grad_loss.reshape(-1)[k])))
    return graph


def _dense(graph, record, inputs, column, number: int) -> list[str]:
    """One Dense layer's scalar nodes; `number` is its l in the formulas, so its weights read w^l_ik (w¹₁₁ and
    w²₁₁ are different weights)."""
    W, b = record.params["W"], record.params["b"]
    a, z = record.input.reshape(-1), record.output.reshape(-1)
    delta = record.grad_output.reshape(-1)              # dL/dz_k
    n_in, n_out = W.shape
    layer = record.index
    outputs = []
    for k in range(n_out):
        sum_id = f"z[{layer}]{k + 1}"
        for i in range(n_in):
            weight_id, product_id = f"w[{layer}]{i + 1}{k + 1}", f"p[{layer}]{i + 1}{k + 1}"
            w = float(W[i, k])
            graph.nodes.append(GraphNode(weight_id, f"w{superscript(number)}{subscript(i + 1)}{subscript(k + 1)}",
                                         "weight", w,
                                         float(record.grads["W"][i, k]), column - 1))
            graph.nodes.append(GraphNode(product_id, "×", "multiply", w * float(a[i]), float(delta[k]), column))
            graph.edges += [GraphEdge(weight_id, product_id, float(a[i])),     # ∂(w·a)/∂w = a
                            GraphEdge(inputs[i], product_id, w),               # ∂(w·a)/∂a = w
                            GraphEdge(product_id, sum_id, 1.0)]
        bias_id = f"b[{layer}]{k + 1}"
        graph.nodes.append(GraphNode(bias_id, f"b{superscript(number)}{subscript(k + 1)}", "bias", float(b[k]),
                                     float(record.grads["b"][k]), column))
        graph.edges.append(GraphEdge(bias_id, sum_id, 1.0))
        graph.nodes.append(GraphNode(sum_id, "+", "add", float(z[k]), float(delta[k]), column + 1))
        outputs.append(sum_id)
    return outputs


def _activation(graph, record, layer, inputs, column) -> list[str]:
    z, a, grad_a = record.input.reshape(-1), record.output.reshape(-1), record.grad_output.reshape(-1)
    outputs = []
    for k, source in enumerate(inputs):
        node_id = f"a[{record.index}]{k + 1}"
        graph.nodes.append(GraphNode(node_id, layer.symbol, "activation", float(a[k]), float(grad_a[k]), column))
        graph.edges.append(GraphEdge(source, node_id, float(layer.local_gradient(z[k], a[k]))))   # f'(z), asked
        outputs.append(node_id)
    return outputs


def check_graph(graph: ComputationalGraph) -> float:
    """The largest gap between a node's grad and the sum of its chain-rule terms (0 up to rounding when the
    graph and the engine agree)."""
    gaps = [abs(sum(grad * local for _, grad, local in terms) - node.grad)
            for node in graph.nodes if (terms := graph.chain_rule_terms(node.id))]
    worst = float(np.max(gaps, initial=0.0))            # a NaN gap stays NaN (max() would pass over it)
    return worst if np.isfinite(worst) else float("inf")
