"""Training: fit() with Keras-style callbacks, evaluate(), the Recorder, and diagnose() for recorded runs."""

from learnscope.train.callbacks import (
    Callback,
    DivergenceGuard,
    EarlyStopping,
    History,
    LearningRateScheduler,
    ModelCheckpoint,
)
from learnscope.train.diagnostics import Diagnosis, diagnose
from learnscope.train.evaluate import Evaluation, evaluate
from learnscope.train.loop import Trainer, fit
from learnscope.train.recorder import Recorder, log_test_confusion

__all__ = [
    "Callback",
    "Diagnosis",
    "DivergenceGuard",
    "EarlyStopping",
    "Evaluation",
    "History",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "Recorder",
    "Trainer",
    "diagnose",
    "evaluate",
    "fit",
    "log_test_confusion",
]
