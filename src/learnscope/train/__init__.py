"""Training: train_step (the one learning step), fit() with Keras-style callbacks, train_recipe, evaluate(), the
Recorder, and diagnose() for recorded runs."""

from learnscope.train.callbacks import (
    Callback,
    DivergenceGuard,
    EarlyStopping,
    History,
    LearningRateScheduler,
    ModelCheckpoint,
    StopWhen,
)
from learnscope.train.diagnostics import Diagnosis, diagnose, diagnose_recorded
from learnscope.train.evaluate import Evaluation, evaluate
from learnscope.train.loop import Trainer, fit
from learnscope.train.recipe import TrainedRecipe, train_recipe
from learnscope.train.recorder import Recorder, log_test_confusion
from learnscope.train.step import StepOutcome, train_step

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
    "StepOutcome",
    "StopWhen",
    "TrainedRecipe",
    "Trainer",
    "diagnose",
    "diagnose_recorded",
    "evaluate",
    "fit",
    "log_test_confusion",
    "train_recipe",
    "train_step",
]
