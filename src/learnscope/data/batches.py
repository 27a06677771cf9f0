"""Mini-batches. Batch, stochastic and mini-batch gradient descent differ only here:
batch_size = n_samples is batch GD, 1 is stochastic GD, anything between is mini-batch GD."""

from collections.abc import Iterator

import numpy as np

from learnscope.core.rng import make_rng
from learnscope.core.validation import check_int


def minibatch_indices(n_samples: int, batch_size: int, rng=None, shuffle: bool = True) -> Iterator[np.ndarray]:
    """Yield index arrays covering 0..n_samples-1 once, in a seeded random order; the last batch
    may be smaller. Index the data per batch (x[idx]) instead of shuffling a copy of all of it."""
    n_samples = check_int(n_samples, "n_samples", "minibatch_indices", minimum=1)
    batch_size = check_int(batch_size, "batch_size", "minibatch_indices", minimum=1)
    order = make_rng(rng).permutation(n_samples) if shuffle else np.arange(n_samples)
    for start in range(0, n_samples, batch_size):
        yield order[start:start + batch_size]
