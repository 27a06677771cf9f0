"""Train a recipe: the one path from data and settings to a trained, evaluated model.

    result = train_recipe(data, default_recipe("mnist"), callbacks=[Recorder(store)])

builds the recipe's network for the data, its optimizer with a schedule spanning the run, trains it with fit(),
evaluates it on the test set, and, when a Recorder was attached, stores the test confusion matrix with the run
(for `learnscope report`). The CLI's `train`, the lab's MNIST page and the draw page's quick model all call it.
"""

import time
from dataclasses import dataclass

import numpy as np

from learnscope.core.validation import check_int
from learnscope.data.augment import shift_and_rotate
from learnscope.data.batches import steps_per_epoch
from learnscope.losses import MSE, Loss, SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.recipes import Recipe, build_from_recipe, optimizer_from_recipe
from learnscope.train.callbacks import EarlyStopping, History
from learnscope.train.evaluate import Evaluation, evaluate
from learnscope.train.loop import fit
from learnscope.train.recorder import Recorder, log_test_confusion

#: Early stopping watches the last tenth of the training examples (never trained on) and stops after this many
#: epochs without a lower validation loss, keeping the weights of the best one
VALIDATION_FRACTION = 0.1
EARLY_STOPPING_PATIENCE = 10


@dataclass
class TrainedRecipe:
    """What train_recipe made: the model, how training went, and the test set's numbers."""

    model: Sequential
    loss: Loss
    history: History
    evaluation: Evaluation | None       # None if it diverged, or was interrupted before the test set was evaluated
    seconds: float                      # wall time of fit(), evaluations during training included

    @property
    def status(self) -> str:
        return self.history.status


def train_recipe(data, recipe: Recipe, *, callbacks=(), test_evals_per_epoch: int = 0,
                 resume=None) -> TrainedRecipe:
    """Build, train and evaluate `recipe` on `data` (a Dataset or a TrainingData: x/y train and test, input_shape,
    n_outputs, is_classification).

    callbacks go to fit() (a Recorder among them records the run); they learn the number of steps from
    `trainer.steps_per_epoch` and `trainer.epochs` in on_train_begin. test_evals_per_epoch: for live test curves,
    evaluate the test set this many times per epoch while training (as fit's validation data; 0: never).
    resume: a checkpoint's train.checkpoints.Resumed (model, optimizer, epochs done) to go on from, instead of a
    new model: the remaining epochs see the batches the uninterrupted run would have.
    """
    test_evals_per_epoch = check_int(test_evals_per_epoch, "test_evals_per_epoch", "train_recipe", minimum=0)
    if recipe.early_stopping and test_evals_per_epoch:
        raise ValueError("train_recipe: early stopping watches held-out training examples, live test curves watch "
                         "the test set, and fit() has one validation slot. Turn one of them off.")
    loss = _loss_for(recipe, data)
    targets = _targets_for(loss, data)
    x_train, y_train, held_out = _training_examples(data, recipe, targets(data.y_train))
    if recipe.augment and x_train.ndim != 4:
        raise ValueError(f"train_recipe: augmentation moves and turns images, and {data.name} holds rows of "
                         f"features {x_train.shape[1:]}. Drop --augment for this dataset.")
    model = resume.model if resume is not None else build_from_recipe(recipe, data.input_shape, data.n_outputs,
                                                                        x_train=x_train)
    n_train = len(x_train)
    batch_size = min(recipe.batch_size, n_train)            # larger than the data: one full batch per step
    n_steps = steps_per_epoch(n_train, batch_size, model.min_batch_size)
    optimizer = resume.optimizer if resume is not None else optimizer_from_recipe(recipe, n_steps)
    callbacks = list(callbacks)
    validation = {}
    if test_evals_per_epoch:
        validation = {"validation_data": (data.x_test, targets(data.y_test)),
                      "eval_every": max(1, n_steps // test_evals_per_epoch) if test_evals_per_epoch > 1 else None}
    if recipe.early_stopping:
        validation = {"validation_data": held_out}
        callbacks.append(EarlyStopping("val_loss", patience=EARLY_STOPPING_PATIENCE, restore_best=True))
    start = time.perf_counter()
    history = fit(model, loss, optimizer, x_train, y_train, epochs=recipe.epochs, batch_size=batch_size,
                  seed=recipe.seed, callbacks=callbacks, initial_epoch=0 if resume is None else resume.epochs_done,
                  augment=shift_and_rotate if recipe.augment else None, **validation)
    seconds = time.perf_counter() - start
    evaluation = None
    if history.status != "diverged":
        try:
            evaluation = evaluate(model, loss, data.x_test, targets(data.y_test))
        except KeyboardInterrupt:               # Ctrl-C (or a signal made one) while testing: keep the model
            history.status = "interrupted"
            history.message += " Interrupted while evaluating the test set."
            return TrainedRecipe(model, loss, history, None, seconds)
        recorder = next((callback for callback in callbacks if isinstance(callback, Recorder)), None)
        if recorder is not None and recorder.run_id is not None and evaluation.confusion is not None:
            log_test_confusion(recorder.store.path, recorder.run_id, history, evaluation.confusion)
    return TrainedRecipe(model, loss, history, evaluation, seconds)


def _loss_for(recipe: Recipe, data) -> Loss:
    """The recipe's loss: cross-entropy or squared error; "auto" picks cross-entropy for classes."""
    if recipe.loss == "mse" or (recipe.loss == "auto" and not data.is_classification):
        return MSE()
    if not data.is_classification:
        raise ValueError(f"train_recipe: cross-entropy compares predicted probabilities with classes, and "
                         f"{data.name} holds measured numbers. Use --loss mse (or leave --loss out).")
    return SoftmaxCrossEntropy()


def _targets_for(loss: Loss, data):
    """labels -> what the loss compares the output with: the labels themselves, or one-hot rows for squared
    error on classes (the output then scores each class, and the highest score is the prediction)."""
    if isinstance(loss, MSE) and data.is_classification:
        identity = np.eye(data.n_outputs, dtype=np.float32)
        return lambda labels: identity[labels]
    return lambda labels: labels


def _training_examples(data, recipe: Recipe, y_train):
    """(x, y) to train on and, with early stopping, the held-out (x, y) to watch: the last VALIDATION_FRACTION of
    the training set, never trained on; then the first recipe.train_samples of the rest."""
    x_train, held_out = data.x_train, None
    if recipe.early_stopping:
        n_held = max(1, round(VALIDATION_FRACTION * len(x_train)))
        if n_held >= len(x_train):
            raise ValueError(f"train_recipe: early stopping holds out {n_held} of {len(x_train)} training examples, "
                             "which leaves none to train on. Use more data or drop --early-stopping.")
        held_out = (x_train[-n_held:], y_train[-n_held:])
        x_train, y_train = x_train[:-n_held], y_train[:-n_held]
    if recipe.train_samples is not None:
        if recipe.train_samples > len(x_train):
            kept = " (after holding out validation examples)" if recipe.early_stopping else ""
            raise ValueError(f"train_recipe: asked to train on {recipe.train_samples:,} examples, and {data.name} has "
                             f"{len(x_train):,}{kept}. Use --train-samples {len(x_train)} or fewer.")
        x_train, y_train = x_train[:recipe.train_samples], y_train[:recipe.train_samples]
    return x_train, y_train, held_out
