"""Splitting a dataset in two: training and test parts, or training and validation parts (the same
operation; only what you do with the held-out part differs).

Stratified means every class keeps its share: with 30% class A and 70% class B overall, the test part
also holds about 30% A and 70% B, so a small test set cannot end up missing a class by bad luck."""

from typing import NamedTuple

import numpy as np

from learnscope.core.rng import make_rng
from learnscope.core.validation import check_array, check_range, describe


class Split(NamedTuple):
    """The two parts, in scikit-learn's order: x_train, x_test, y_train, y_test = train_test_split(x, y)."""

    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def train_test_split(x, y, test_fraction: float = 0.2, seed=None, stratify: bool = True) -> Split:
    """Shuffle (seeded) and cut into two parts; the test part gets round(test_fraction · N) samples.
    (N, ...), (N,) or (N, k) -> Split(x_train, x_test, y_train, y_test)

    stratify=True keeps the class proportions when y holds class labels (1-D integers, bools or strings);
    float targets (regression) are split without stratification. Each part keeps the input dtypes."""
    owner = "train_test_split"
    x = check_array(x, "x", owner)
    if x.ndim == 0:
        raise ValueError(f"{owner} expected x to hold one row per sample, got a scalar. "
                         "Pass an array of shape (N, ...).")
    if not isinstance(y, np.ndarray):
        y = np.asarray(y)
    if y.ndim not in (1, 2):
        raise ValueError(f"{owner} expected y to be 1-D labels (N,) or 2-D targets (N, k), got {describe(y)}. "
                         "Pass one label or target row per sample.")
    if len(x) != len(y):
        raise ValueError(f"{owner} expected x and y to have the same number of samples, got {len(x)} rows in x and "
                         f"{len(y)} in y. Pass the labels that belong to these samples.")
    test_fraction = check_range(test_fraction, "test_fraction", owner, minimum=0, maximum=1, inclusive=(False, False),
                                fix="Pass the share of samples to hold out, e.g. test_fraction=0.2.")
    if not isinstance(stratify, (bool, np.bool_)):
        raise TypeError(f"{owner} expected stratify to be True or False, got {describe(stratify)}.")
    n_samples = len(x)
    n_test = round(n_samples * test_fraction)
    if n_test < 1 or n_test > n_samples - 1:
        part = "test" if n_test < 1 else "training"
        raise ValueError(
            f"{owner} cannot split {n_samples} sample(s) with test_fraction={test_fraction}: the {part} part would be "
            f"empty. Use at least 2 samples and a test_fraction that leaves at least one sample in each part."
        )
    rng = make_rng(seed)
    if stratify and y.ndim == 1 and y.dtype.kind in "biuUS":
        test_rows = _stratified_test_rows(y, n_test, rng, owner)
    else:
        test_rows = rng.permutation(n_samples)[:n_test]
    in_test = np.zeros(n_samples, dtype=bool)
    in_test[test_rows] = True
    # NOTE: permute within each part too, so the classes are not sorted in blocks
    train_rows = rng.permutation(np.flatnonzero(~in_test))
    test_rows = rng.permutation(np.flatnonzero(in_test))
    return Split(x[train_rows], x[test_rows], y[train_rows], y[test_rows])


def _stratified_test_rows(y: np.ndarray, n_test: int, rng: np.random.Generator, owner: str) -> np.ndarray:
    """Pick test rows class by class, each class giving its share of n_test (largest remainder rounding)."""
    classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    lonely = classes[counts < 2]
    if len(lonely):
        raise ValueError(
            f"{owner} cannot stratify: class {lonely[0].item()!r} has only 1 sample, and each class needs at least 2 "
            "(one for each part). Add samples of that class, drop it, or pass stratify=False."
        )
    ideal = counts * n_test / len(y)
    per_class = np.floor(ideal).astype(np.int64)
    leftover = n_test - int(per_class.sum())
    per_class[np.argsort(-(ideal - per_class), kind="stable")[:leftover]] += 1
    # NOTE: every class must stay in the training part, or the model never sees it
    per_class = np.minimum(per_class, counts - 1)
    chosen = [rng.permutation(np.flatnonzero(codes == k))[:n] for k, n in enumerate(per_class)]
    return np.concatenate(chosen)
