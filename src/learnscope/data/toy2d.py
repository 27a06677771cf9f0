"""Small 2-D datasets whose decision boundaries can be drawn: (n_samples, 2) points, integer labels."""

import numpy as np

from learnscope.core.dtype import get_default_dtype
from learnscope.core.rng import make_rng
from learnscope.core.validation import check_int, check_range


def make_xor(n_samples: int = 200, noise: float = 0.0, seed=None) -> tuple[np.ndarray, np.ndarray]:
    """Points around the four corners (±1, ±1); label 1 where the signs differ (XOR).
    With n_samples=4 and noise=0 it is exactly the truth table on {-1, 1}²."""
    n_samples = check_int(n_samples, "n_samples", "make_xor", minimum=4)
    noise = check_range(noise, "noise", "make_xor", minimum=0)
    rng = make_rng(seed)
    corners = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]], dtype=np.float64)
    x = corners[np.arange(n_samples) % 4] + noise * rng.standard_normal((n_samples, 2))
    y = (corners[np.arange(n_samples) % 4, 0] != corners[np.arange(n_samples) % 4, 1]).astype(np.int64)
    return x.astype(get_default_dtype()), y


def make_spiral(n_samples: int = 300, n_classes: int = 3, noise: float = 0.2, seed=None):
    """n_classes interleaved spiral arms (the classic non-linear test, cs231n style); classes balanced."""
    n_samples = check_int(n_samples, "n_samples", "make_spiral", minimum=n_classes)
    n_classes = check_int(n_classes, "n_classes", "make_spiral", minimum=2, maximum=10)
    noise = check_range(noise, "noise", "make_spiral", minimum=0)
    rng = make_rng(seed)
    y = np.arange(n_samples) % n_classes
    radius = np.empty(n_samples)
    for label in range(n_classes):                      # evenly spaced radii along each arm
        members = y == label
        radius[members] = np.linspace(0.05, 1.0, members.sum())
    angle = radius * 4.0 + y * (2 * np.pi / n_classes) + noise * rng.standard_normal(n_samples)
    x = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])
    return x.astype(get_default_dtype()), y.astype(np.int64)
