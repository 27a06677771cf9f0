"""What training costs: parameters, operations, memory and seconds, counted from the architecture and measured.

Each layer counts its own operations (Layer.flops); this module adds them up for one training example, measures
how fast this machine really runs them, and sweeps width, depth and batch size to show how the cost grows.

    cost = network_cost(model, (1, 28, 28))
    speed = measure_training_speed(model, x, y, batch_size=128)
    speed.gflops_per_second, cost.training_flops
"""

import math
import time
from dataclasses import dataclass

import numpy as np

from learnscope.core.validation import check_choice, check_int
from learnscope.layers import Dense, Flatten, ReLU
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD
from learnscope.train.step import train_step

BYTES_PER_NUMBER = 4                    # float32
#: The layers whose work is matrix products
MATRIX_LAYERS = ("Dense", "Conv2D", "Residual")
#: A published figure to compare with (NVIDIA's A100 data sheet: 19.5 TFLOP/s in float32, without tensor cores)
GPU_NAME, GPU_FLOPS = "an NVIDIA A100 data-centre GPU", 19.5e12


@dataclass
class LayerCost:
    """One layer's share, for one example."""

    index: int
    name: str
    output_shape: tuple
    params: int
    forward: int
    backward: int                       # in training: the first trainable layer skips its input gradient
    kept: int                           # numbers of its output kept for the backward pass


@dataclass
class NetworkCost:
    """The layers' costs and their sums, per training example."""

    layers: list[LayerCost]

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def forward_flops(self) -> int:
        return sum(layer.forward for layer in self.layers)

    @property
    def backward_flops(self) -> int:
        return sum(layer.backward for layer in self.layers)

    @property
    def training_flops(self) -> int:
        """Forward and backward for one example: what one example of one training step costs."""
        return self.forward_flops + self.backward_flops

    @property
    def matrix_share(self) -> float:
        """Share of the training operations spent in Dense and Conv2D products: what a GPU speeds up most."""
        products = sum(layer.forward + layer.backward for layer in self.layers if layer.name in MATRIX_LAYERS)
        return products / self.training_flops if self.training_flops else 0.0

    def memory_bytes(self, batch_size: int, optimizer_slots: int = 1) -> int:
        """Training memory besides the data: each weight, its gradient and `optimizer_slots` arrays of optimizer
        memory (1 for momentum, 2 for Adam), and every layer's output of a batch kept for backward, plus the
        gradient flowing back through the largest one."""
        per_example = sum(layer.kept for layer in self.layers) + max(layer.kept for layer in self.layers)
        return BYTES_PER_NUMBER * (self.params * (2 + optimizer_slots) + batch_size * per_example)


def network_cost(model: Sequential, input_shape) -> NetworkCost:
    """Each layer's parameters, operations and kept numbers for one example of `input_shape` (no batch axis)."""
    shapes = model.output_shapes(input_shape)
    flops = model.flops(input_shape)
    first = next((i for i, layer in enumerate(model.layers) if layer.params), len(model.layers))
    rows = []
    for index, (layer, shape, count) in enumerate(zip(model.layers, shapes, flops)):
        # backward stops at the first layer with weights: nothing before it has anything to learn
        backward = 0 if index < first else count.param_grads + (count.input_grad if index > first else 0)
        rows.append(LayerCost(index, type(layer).__name__, tuple(shape),
                              sum(p.size for p in layer.params.values()), count.forward, backward,
                              0 if isinstance(layer, Flatten) else math.prod(shape)))  # Flatten's output is a view
    return NetworkCost(rows)


@dataclass
class SpeedMeasurement:
    """Measured training speed of one model at one batch size."""

    batch_size: int
    seconds_per_step: float             # the median of the timed steps
    training_flops: int                 # per example

    @property
    def examples_per_second(self) -> float:
        return self.batch_size / self.seconds_per_step

    @property
    def gflops_per_second(self) -> float:
        return self.training_flops * self.examples_per_second / 1e9

    def seconds_per_epoch(self, n_examples: int) -> float:
        return math.ceil(n_examples / self.batch_size) * self.seconds_per_step


def measure_training_speed(model: Sequential, x, y, batch_size: int = 128, steps: int = 20,
                           warmup: int = 3) -> SpeedMeasurement:
    """Time `steps` training steps (train_step: forward, loss, backward, SGD update) on batches of x after `warmup`
    untimed ones; the median step is the answer (a shared machine's noise only ever adds time). The model's
    weights change: pass a copy if they matter."""
    batch_size = check_int(batch_size, "batch_size", "measure_training_speed", minimum=1, maximum=len(x))
    steps = check_int(steps, "steps", "measure_training_speed", minimum=1, maximum=10_000)
    loss, optimizer = SoftmaxCrossEntropy(), SGD(lr=0.01)
    rng = np.random.default_rng(0)
    times = []
    for step in range(warmup + steps):
        index = rng.choice(len(x), batch_size, replace=False)
        batch_x, batch_y = x[index], y[index]
        start = time.perf_counter()
        train_step(model, loss, optimizer, batch_x, batch_y)
        if step >= warmup:
            times.append(time.perf_counter() - start)
    cost = network_cost(model, x.shape[1:])
    return SpeedMeasurement(batch_size, float(np.median(times)), cost.training_flops)


#: What a cost sweep can vary, and the MLP it varies: 784 → hidden layers → 10, ReLU
SWEEP_DIMENSIONS = ("width", "depth", "batch")
SWEEP_DEFAULTS = {"width": 256, "depth": 2, "batch": 128}


@dataclass
class SweepRow:
    value: int                          # the width, depth or batch size of this row
    params: int
    training_flops: int                 # per example
    memory_bytes: int
    speed: SpeedMeasurement


def sweep_network(dimension: str, value: int) -> Sequential:
    """The MLP of a sweep row: SWEEP_DEFAULTS with `dimension` set to value (batch size changes no layer)."""
    settings = {**SWEEP_DEFAULTS, dimension: value}
    layers, width_in = [Flatten()], 784
    for _ in range(settings["depth"]):
        layers += [Dense(width_in, settings["width"], init="he_normal"), ReLU()]
        width_in = settings["width"]
    layers.append(Dense(width_in, 10))
    return Sequential(layers, seed=0)


def cost_sweep(dimension: str, values, x, y, steps: int = 10, on_row=None) -> list[SweepRow]:
    """Measure the sweep MLP with `dimension` ("width", "depth" or "batch") set to each of values: parameters,
    operations and memory from the architecture, seconds from `steps` timed training steps on (x, y).
    on_row(row) is called as each row is measured."""
    dimension = check_choice(dimension, "dimension", "cost_sweep", SWEEP_DIMENSIONS)
    rows = []
    for value in values:
        value = check_int(value, dimension, "cost_sweep", minimum=1, maximum=len(x) if dimension == "batch" else 8192)
        model = sweep_network(dimension, value)
        batch = value if dimension == "batch" else SWEEP_DEFAULTS["batch"]
        cost = network_cost(model, x.shape[1:])
        speed = measure_training_speed(model, x, y, batch_size=batch, steps=steps)
        rows.append(SweepRow(value, cost.params, cost.training_flops, cost.memory_bytes(batch), speed))
        if on_row is not None:
            on_row(rows[-1])
    return rows


def describe_speed(cost: NetworkCost, speed: SpeedMeasurement, n_examples: int) -> str:
    """Plain sentences: what one epoch costs here, and why a GPU would help, with this machine's own numbers."""
    epoch_flops = cost.training_flops * n_examples
    return (f"One epoch of {n_examples:,} examples is {epoch_flops / 1e12:.2f} trillion operations; this machine "
            f"ran them at {speed.gflops_per_second:.0f} billion per second, {speed.seconds_per_epoch(n_examples):.1f} "
            f"s an epoch. {cost.matrix_share:.0%} of them are matrix products, which a GPU runs thousands at a "
            f"time: {GPU_NAME} is rated at {GPU_FLOPS / 1e12:.1f} trillion per second, "
            f"{GPU_FLOPS / (speed.gflops_per_second * 1e9):,.0f}× this machine's pace.")


def describe_cost_sweep(dimension: str, rows: list[SweepRow]) -> str:
    """How the operations, the memory and the measured time grew from the sweep's first row to its last."""
    first, last = rows[0], rows[-1]
    return (f"From {dimension} {first.value} to {last.value}: {last.training_flops / first.training_flops:.1f}× the "
            f"operations per example and {last.memory_bytes / first.memory_bytes:.1f}× the memory; a step took "
            f"{last.speed.seconds_per_step / first.speed.seconds_per_step:.1f}× as long, at "
            f"{first.speed.gflops_per_second:.1f} then {last.speed.gflops_per_second:.1f} GFLOP/s.")

