"""A labelled image dataset split into train and test, the shape every loader returns."""

from dataclasses import dataclass

import numpy as np

from learnscope.core.rng import make_rng
from learnscope.core.validation import check_array, check_int, check_range


@dataclass(eq=False)  # eq on arrays would be ambiguous; compare the arrays themselves
class Dataset:
    """Images (N, C, H, W) float32 in [0, 1] (channels first: an MLP starts with Flatten(), a CNN takes
    them as they are) and int64 labels (N,) in 0..n_classes-1, for a train and a test split."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    source: str

    def __post_init__(self):
        owner = f"Dataset {self.name!r}"
        self.class_names = [str(c) for c in self.class_names]
        if not self.class_names:
            raise ValueError(f"{owner} expected at least one class name, got none. Pass e.g. class_names=['0', '1'].")
        for split in ("train", "test"):
            x = check_array(getattr(self, f"x_{split}"), f"x_{split}", owner, ndim=(2, 3, 4))
            y = getattr(self, f"y_{split}")
            y = check_array(y, f"y_{split}", owner, ndim=1)
            if y.dtype.kind not in "iu":
                raise TypeError(f"{owner} expected y_{split} to hold integer class indices, got dtype {y.dtype}. "
                                "Convert with y.astype(np.int64).")
            if len(x) != len(y):
                raise ValueError(f"{owner} expected as many labels as examples in the {split} split, got "
                                 f"{len(x)} examples and {len(y)} labels.")
            if len(y) and (y.min() < 0 or y.max() >= self.n_classes):
                raise ValueError(f"{owner} expected y_{split} in 0..{self.n_classes - 1} ({self.n_classes} class "
                                 f"names), got values from {y.min()} to {y.max()}. Check class_names.")
            setattr(self, f"x_{split}", x)
            setattr(self, f"y_{split}", y.astype(np.int64, copy=False))
        if self.x_train.shape[1:] != self.x_test.shape[1:]:
            raise ValueError(f"{owner} expected train and test examples of one shape, got {self.x_train.shape[1:]} "
                             f"and {self.x_test.shape[1:]}.")

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    #: images with class labels: always a classification (as TrainingData says of itself)
    is_classification = True

    @property
    def n_outputs(self) -> int:
        """Units of the last layer: one per class."""
        return self.n_classes

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of one example, e.g. (1, 28, 28)."""
        return tuple(self.x_train.shape[1:])

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}, train={len(self.x_train)}, test={len(self.x_test)}, "
                f"input_shape={self.input_shape}, n_classes={self.n_classes}, source={self.source!r})")

    def describe(self) -> str:
        """A few lines for a person: sizes, memory, classes and how many examples each has."""
        counts = np.bincount(self.y_train, minlength=self.n_classes)
        memory = sum(a.nbytes for a in (self.x_train, self.y_train, self.x_test, self.y_test))
        shown = ", ".join(self.class_names[:10]) + (", ..." if self.n_classes > 10 else "")
        return "\n".join([
            f"{self.name}: {self.n_classes} classes ({shown})",
            f"  train  {len(self.x_train):>6} × {self.input_shape} {self.x_train.dtype}, "
            f"{counts.min()}..{counts.max()} per class",
            f"  test   {len(self.x_test):>6} × {self.input_shape} {self.x_test.dtype}",
            f"  memory {memory / 2**20:.1f} MiB",
            f"  source {self.source}",
        ])

    def subset(self, n_train: int, n_test=None, seed=0) -> "Dataset":
        """A random smaller Dataset for quick runs: n_train training and n_test test examples (None keeps
        the whole test set), drawn without replacement and kept in their original order."""
        n_train = check_int(n_train, "n_train", "Dataset.subset", minimum=1, maximum=len(self.x_train),
                            fix=f"The training set has {len(self.x_train)} examples.")
        rng = make_rng(seed)
        train = np.sort(rng.permutation(len(self.x_train))[:n_train])
        x_test, y_test = self.x_test, self.y_test
        if n_test is not None:
            n_test = check_int(n_test, "n_test", "Dataset.subset", minimum=1, maximum=len(self.x_test),
                               fix=f"The test set has {len(self.x_test)} examples; n_test=None keeps all of them.")
            test = np.sort(rng.permutation(len(self.x_test))[:n_test])
            x_test, y_test = self.x_test[test], self.y_test[test]
        return Dataset(self.name, self.x_train[train], self.y_train[train], x_test, y_test,
                       list(self.class_names), self.source)

    def validation_split(self, fraction: float = 0.1, seed=0, shuffle: bool = True):
        """Hold out a fraction of the training set for validation.   -> (Dataset with the rest, (x_val, y_val))
        shuffle=True draws the held-out examples at random (copies the data); shuffle=False holds out the
        last ones as views, no copy (MNIST's training set is already in random order)."""
        fraction = check_range(fraction, "fraction", "Dataset.validation_split", minimum=0, maximum=1,
                               inclusive=(False, False), fix="Use e.g. fraction=0.1 to hold out 10%.")
        n_samples = len(self.x_train)
        n_val = round(n_samples * fraction)
        if not 1 <= n_val < n_samples:
            raise ValueError(f"Dataset.validation_split with fraction={fraction} of {n_samples} training examples "
                             f"holds out {n_val}; expected at least 1 and fewer than {n_samples}. Choose another "
                             "fraction.")
        if shuffle:
            order = make_rng(seed).permutation(n_samples)
            keep, held = np.sort(order[n_val:]), np.sort(order[:n_val])
        else:
            keep, held = slice(0, n_samples - n_val), slice(n_samples - n_val, n_samples)
        rest = Dataset(self.name, self.x_train[keep], self.y_train[keep], self.x_test, self.y_test,
                       list(self.class_names), self.source)
        return rest, (self.x_train[held], self.y_train[held])
