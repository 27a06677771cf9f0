"""How good is the model on a data set: the loss, and for classifiers the accuracy and the confusion matrix.

Runs in eval mode (`model.predict`: no dropout, batch norm's running statistics), in batches, and never
touches the loss object fit() trains with (a recorder may be reading its `per_example`).
"""

import copy
import math
from dataclasses import dataclass

import numpy as np

from learnscope.core.validation import check_array, check_int, describe
from learnscope.losses import MSE, BinaryCrossEntropy, Loss, SoftmaxCrossEntropy
from learnscope.model import Sequential


@dataclass
class Evaluation:
    """Result of evaluate(). For regression (float targets) accuracy, confusion and per_class_accuracy are None.

    loss: mean loss over all examples (NaN if the model outputs NaN/inf: it has diverged)
    accuracy: fraction classified correctly = trace(confusion) / n_samples
    confusion: (n_classes, n_classes) int64 counts; rows = true class, columns = predicted class
    predictions: (N,) predicted class per example for classifiers, else the raw outputs (N, ...)
    per_class_accuracy: (n_classes,) confusion[k, k] / (examples of class k); NaN for a class absent from y
    outputs: (N, ...) the model's raw outputs (the logits of a classifier: how sure it was)
    """

    loss: float
    accuracy: float | None
    confusion: np.ndarray | None
    predictions: np.ndarray
    per_class_accuracy: np.ndarray | None
    n_samples: int
    outputs: np.ndarray | None = None

    def __str__(self) -> str:
        text = f"loss {self.loss:.4g}"
        if self.accuracy is not None:
            text += f", accuracy {self.accuracy:.2%}"
        return f"{text} on {self.n_samples:,} examples"


def classification_labels(loss: Loss, y: np.ndarray) -> tuple[str | None, np.ndarray | None]:
    """How to score classifiers: ("argmax", labels) for K ≥ 2 outputs, ("threshold", labels) for one logit
    (BinaryCrossEntropy: class 1 when the logit > 0), or (None, None) for regression. labels: (N,) int."""
    if isinstance(loss, BinaryCrossEntropy):
        if len(y) and y.size == len(y):                 # one 0/1 target per example
            return "threshold", (y.reshape(-1) > 0.5).astype(np.int64)
        return None, None
    if isinstance(loss, SoftmaxCrossEntropy) and y.ndim == 2:
        return "argmax", y.argmax(axis=1)               # one-hot or probability targets
    if isinstance(loss, MSE) and _is_one_hot(y):
        return "argmax", y.argmax(axis=1)               # squared error on class scores (Nielsen's chapter 1)
    if y.ndim == 1 and (y.dtype.kind in "biu" or isinstance(loss, SoftmaxCrossEntropy)):
        return "argmax", y.astype(np.int64, copy=False)
    return None, None


def _is_one_hot(y: np.ndarray) -> bool:
    """Rows of 0s with one 1, in two or more columns."""
    return (y.ndim == 2 and y.shape[1] > 1 and len(y) > 0 and bool(np.all(y.sum(axis=1) == 1))
            and bool(np.all((y == 0) | (y == 1))))


def predicted_classes(kind: str, output: np.ndarray) -> np.ndarray | None:
    """(N,) class indices from a batch of outputs, or None if this output cannot be scored (one column)."""
    if kind == "threshold":
        return (output.reshape(len(output)) > 0).astype(np.int64)
    if output.ndim == 2 and output.shape[1] > 1:
        return output.argmax(axis=1)
    return None


def evaluate(model: Sequential, loss: Loss, x, y, batch_size: int = 1000, labels=None) -> Evaluation:
    """Loss, accuracy, confusion matrix and predictions of `model` on (x, y), in eval mode.
    x: (N, ...) inputs, y: (N,) integer labels or (N, ...) targets.
    labels: (N,) class labels to score the outputs' argmax against when y holds other targets (one-hot rows
      for MSE on class scores); by default they are read from y where the loss says it is a classifier."""
    owner = "evaluate"
    if not isinstance(model, Sequential):
        raise TypeError(f"{owner} expected model to be a Sequential, got {describe(model)}.")
    if not isinstance(loss, Loss):
        raise TypeError(f"{owner} expected loss to be a Loss such as SoftmaxCrossEntropy(), got {describe(loss)}.")
    batch_size = check_int(batch_size, "batch_size", owner, minimum=1)
    x = check_array(x, "x", owner)
    y = check_array(y, "y", owner)
    if len(x) != len(y):
        raise ValueError(f"{owner} expected x and y with the same number of examples, got {len(x)} inputs and "
                         f"{len(y)} targets. Pass matching arrays, e.g. x_test and y_test.")
    if len(x) == 0:
        raise ValueError(f"{owner} expected at least one example, got empty arrays.")
    # NOTE: a diverged model overflows here; the NaN loss below says so without a RuntimeWarning.
    with np.errstate(over="ignore", invalid="ignore"):
        outputs = model.predict(x, batch_size=batch_size)
        finite = bool(np.isfinite(outputs).all())
        # a shallow copy: forward() writes per_example and its cache on the copy, not on fit's loss
        mean_loss = float(copy.copy(loss).forward(outputs, y)) if finite else math.nan

    if labels is None:
        kind, labels = classification_labels(loss, y)
    else:
        kind, labels = "argmax", check_array(labels, "labels", owner, ndim=1).astype(np.int64, copy=False)
        if len(labels) != len(x):
            raise ValueError(f"{owner} expected one label per example, got {len(labels)} labels for {len(x)} "
                             "examples.")
    predicted = None if kind is None else predicted_classes(kind, outputs)
    if predicted is None:
        return Evaluation(mean_loss, None, None, outputs, None, len(x), outputs)
    n_classes = 2 if kind == "threshold" else outputs.shape[1]
    low, high = int(labels.min()), int(labels.max())
    if low < 0 or high >= n_classes:
        raise ValueError(f"{owner} expected labels in 0..{n_classes - 1} (the model has {n_classes} outputs), got "
                         f"labels from {low} to {high}. Give the last layer as many outputs as there are classes.")
    # confusion[t, p] = number of examples of true class t predicted as p: one bincount over t·K + p
    confusion = np.bincount(labels * n_classes + predicted, minlength=n_classes * n_classes)
    confusion = confusion.reshape(n_classes, n_classes).astype(np.int64, copy=False)
    per_class_total = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):   # 0/0 = NaN for a class with no examples
        per_class = np.diag(confusion) / per_class_total
    accuracy = float(np.trace(confusion) / len(x))
    return Evaluation(mean_loss, accuracy, confusion, predicted, per_class, len(x), outputs)
