"""Mini-batches. Batch, stochastic and mini-batch gradient descent differ only here:
batch_size = n_samples is batch GD, 1 is stochastic GD, anything between is mini-batch GD."""

from collections.abc import Iterator

import numpy as np

from learnscope.core.rng import make_rng
from learnscope.core.validation import check_int


def minibatch_indices(n_samples: int, batch_size: int, rng=None, shuffle: bool = True,
                      min_batch_size: int = 1) -> Iterator[np.ndarray]:
    """Yield index arrays covering 0..n_samples-1 once, in a seeded random order; the last batch
    may be smaller. Index the data per batch (x[idx]) instead of shuffling a copy of all of it.
    min_batch_size: a last batch smaller than this joins the one before it (batch norm needs 2 examples)."""
    owner = "minibatch_indices"
    n_samples = check_int(n_samples, "n_samples", owner, minimum=1)
    batch_size = check_int(batch_size, "batch_size", owner, minimum=1)
    min_batch_size = check_int(min_batch_size, "min_batch_size", owner, minimum=1)
    order = make_rng(rng).permutation(n_samples) if shuffle else np.arange(n_samples)
    for start, stop in batch_bounds(n_samples, batch_size, min_batch_size):
        yield order[start:stop]


def batch_bounds(n_samples: int, batch_size: int, min_batch_size: int = 1) -> list[tuple[int, int]]:
    """(start, stop) of each batch of an epoch, as minibatch_indices cuts it."""
    bounds = [(start, min(start + batch_size, n_samples)) for start in range(0, n_samples, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] < min_batch_size:
        bounds[-2:] = [(bounds[-2][0], n_samples)]
    return bounds


def steps_per_epoch(n_samples: int, batch_size: int, min_batch_size: int = 1) -> int:
    """How many optimizer steps one epoch takes (a batch_size above n_samples is one full batch): the length of
    batch_bounds, without building it."""
    count = -(-n_samples // batch_size)
    last = n_samples - (count - 1) * batch_size
    return count - 1 if count > 1 and last < min_batch_size else count
