"""McCulloch and Pitts (1943): a neuron as a threshold unit with fixed weights, and the logic it can compute.

    mcculloch_pitts(inputs, weights, threshold)   fires (1) when Σ wᵢ·xᵢ ≥ θ, else 0
    truth_table(weights, threshold)               the unit's answer for each of the four input pairs
    gate_name(outputs)                            which of the 16 functions of two inputs that answer is
    settings_computing(gate)                      every small whole-number setting that computes a gate

McCulloch and Pitts wrote their unit with excitatory inputs and absolute inhibition; weights and a threshold, as
here, are the usual modern reading of it. The weights are set by hand: nothing here learns (that came in 1958).
"""

from itertools import product

import numpy as np

from learnscope.core.validation import check_array

#: the four input pairs (x₁, x₂) of a truth table, in its row order
INPUT_PAIRS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])

#: the 16 functions of two inputs A and B, keyed by their truth table (f(0,0), f(0,1), f(1,0), f(1,1))
_GATES = {
    (0, 0, 0, 0): "always 0", (0, 0, 0, 1): "{a} AND {b}", (0, 0, 1, 0): "{a} AND NOT {b}", (0, 0, 1, 1): "{a}",
    (0, 1, 0, 0): "{b} AND NOT {a}", (0, 1, 0, 1): "{b}", (0, 1, 1, 0): "{a} XOR {b}", (0, 1, 1, 1): "{a} OR {b}",
    (1, 0, 0, 0): "{a} NOR {b}", (1, 0, 0, 1): "{a} XNOR {b}", (1, 0, 1, 0): "NOT {b}", (1, 0, 1, 1): "{a} OR NOT {b}",
    (1, 1, 0, 0): "NOT {a}", (1, 1, 0, 1): "{b} OR NOT {a}", (1, 1, 1, 0): "{a} NAND {b}", (1, 1, 1, 1): "always 1",
}

#: the gates the page offers as one-click settings: name -> (weights, threshold)
PRESETS = {"AND": ((1, 1), 2), "OR": ((1, 1), 1), "NOT x₁": ((-1, 0), 0)}
XOR = (0, 1, 1, 0)
#: the whole-number settings settings_computing searches: each weight and the threshold from -3 to 3
SEARCH_VALUES = tuple(range(-3, 4))


def mcculloch_pitts(inputs, weights, threshold: float) -> np.ndarray:
    """(N, n) inputs of 0s and 1s -> (N,) 0/1: 1 where the weighted sum reaches the threshold (Σ wᵢ·xᵢ ≥ θ)."""
    inputs = check_array(inputs, "inputs", "mcculloch_pitts", ndim=2)
    weights = check_array(weights, "weights", "mcculloch_pitts", ndim=1)
    if inputs.shape[1] != len(weights):
        raise ValueError(f"mcculloch_pitts expected one weight per input ({inputs.shape[1]}), got {len(weights)}. "
                         "Give as many weights as the unit has inputs.")
    if not np.isin(inputs, (0, 1)).all():
        raise ValueError("mcculloch_pitts expected inputs of 0s and 1s (a McCulloch–Pitts neuron reads all or "
                         f"nothing), got values {sorted(set(np.unique(inputs).tolist()) - {0, 1})[:5]}.")
    return (inputs @ weights >= threshold).astype(np.int64)


def truth_table(weights, threshold: float) -> tuple[int, ...]:
    """What a two-input unit answers for (0,0), (0,1), (1,0), (1,1), in that order."""
    return tuple(int(fired) for fired in mcculloch_pitts(INPUT_PAIRS, weights, threshold))


def truth_table_rows(weights, threshold: float) -> list[tuple[int, int, float, int]]:
    """Each input pair with the unit's weighted sum and whether it fires: (x₁, x₂, w₁x₁ + w₂x₂, 0 or 1)."""
    fired = truth_table(weights, threshold)
    return [(int(x1), int(x2), float(weights[0] * x1 + weights[1] * x2), answer)
            for (x1, x2), answer in zip(INPUT_PAIRS, fired)]


def gate_name(outputs, a: str = "x₁", b: str = "x₂") -> str:
    """The name of the function of two inputs with this truth table, e.g. (0, 0, 0, 1) -> 'x₁ AND x₂'."""
    key = tuple(int(value) for value in outputs)
    if key not in _GATES:
        raise ValueError(f"gate_name expected four 0/1 answers for (0,0), (0,1), (1,0), (1,1), got {outputs!r}.")
    return _GATES[key].format(a=a, b=b)


def settings_computing(gate, values=SEARCH_VALUES) -> list[tuple[int, int, int]]:
    """Every (w₁, w₂, θ) with each number taken from `values` whose unit has the truth table `gate`. XOR has none,
    whatever the values: it needs w₁ ≥ θ and w₂ ≥ θ (each input alone fires), θ > 0 (nothing fires), and
    w₁ + w₂ < θ (both do not), but then w₁ + w₂ ≥ 2θ > θ."""
    gate = tuple(int(value) for value in gate)
    return [(w1, w2, theta) for w1, w2, theta in product(values, repeat=3)
            if truth_table((w1, w2), theta) == gate]


def describe_search(values=SEARCH_VALUES) -> str:
    """How many small whole-number settings compute AND, OR and XOR (none), and why XOR can have none."""
    low, high = (str(value).replace("-", "−") for value in (min(values), max(values)))
    counts = {name: len(settings_computing(truth_table(*PRESETS[name]), values)) for name in ("AND", "OR")}
    found = settings_computing(XOR, values)
    xor = f"{len(found)} compute XOR" if found else "none computes XOR"
    return (f"Of the {len(values) ** 3} settings with w₁, w₂ and θ each a whole number from {low} to {high}, "
            f"{counts['AND']} compute AND, {counts['OR']} compute OR and {xor}. None "
            "ever will: XOR needs θ > 0 (no input, no firing), w₁ ≥ θ and w₂ ≥ θ (either input alone fires it), "
            "and w₁ + w₂ < θ (both together must not), but then w₁ + w₂ ≥ 2θ > θ. One threshold unit splits the "
            "inputs with one straight line, and XOR's corners need two.")
