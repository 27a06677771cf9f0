"""Training: fit() with Keras-style callbacks, and evaluate()."""

from learnscope.train.callbacks import (
    Callback,
    DivergenceGuard,
    EarlyStopping,
    History,
    LearningRateScheduler,
    ModelCheckpoint,
)
from learnscope.train.evaluate import Evaluation, evaluate
from learnscope.train.loop import Trainer, fit

__all__ = [
    "Callback",
    "DivergenceGuard",
    "EarlyStopping",
    "Evaluation",
    "History",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "Trainer",
    "evaluate",
    "fit",
]
