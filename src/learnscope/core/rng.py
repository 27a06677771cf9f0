"""One way to turn 'a seed or a Generator' into a Generator, so every random choice is explicit
and the same seed replays the same run bit for bit."""

import numbers

import numpy as np


def make_rng(seed=None) -> np.random.Generator:
    """None -> fresh entropy; int -> seeded Generator; a Generator is passed through unchanged."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise TypeError(
        f"seed expected None, a non-negative int or np.random.Generator, got {seed!r}. "
        "Pass e.g. seed=0 for a repeatable run."
    )
