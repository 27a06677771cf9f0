"""Train a recipe: the one path from data and settings to a trained, evaluated model.

    result = train_recipe(data, default_recipe("mnist"), callbacks=[Recorder(store)])

builds the recipe's network for the data, its optimizer with a schedule spanning the run, trains it with fit(),
evaluates it on the test set, and, when a Recorder was attached, stores the test confusion matrix with the run
(for `learnscope report`). The CLI's `train`, the lab's MNIST page and the draw page's quick model all call it.
"""

import time
from dataclasses import dataclass

from learnscope.core.validation import check_int
from learnscope.data.batches import steps_per_epoch
from learnscope.losses import MSE, Loss, SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.recipes import Recipe, build_from_recipe, optimizer_from_recipe
from learnscope.train.callbacks import History
from learnscope.train.evaluate import Evaluation, evaluate
from learnscope.train.loop import fit
from learnscope.train.recorder import Recorder, log_test_confusion


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
    model = resume.model if resume is not None else build_from_recipe(recipe, data.input_shape, data.n_outputs,
                                                                        x_train=data.x_train)
    loss = SoftmaxCrossEntropy() if data.is_classification else MSE()
    n_train = len(data.x_train)
    batch_size = min(recipe.batch_size, n_train)            # larger than the data: one full batch per step
    n_steps = steps_per_epoch(n_train, batch_size, model.min_batch_size)
    optimizer = resume.optimizer if resume is not None else optimizer_from_recipe(recipe, n_steps)
    callbacks = list(callbacks)
    test_evals_per_epoch = check_int(test_evals_per_epoch, "test_evals_per_epoch", "train_recipe", minimum=0)
    validation = {}
    if test_evals_per_epoch:
        validation = {"validation_data": (data.x_test, data.y_test),
                      "eval_every": max(1, n_steps // test_evals_per_epoch) if test_evals_per_epoch > 1 else None}
    start = time.perf_counter()
    history = fit(model, loss, optimizer, data.x_train, data.y_train, epochs=recipe.epochs, batch_size=batch_size,
                  seed=recipe.seed, callbacks=callbacks, initial_epoch=0 if resume is None else resume.epochs_done,
                  **validation)
    seconds = time.perf_counter() - start
    evaluation = None
    if history.status != "diverged":
        try:
            evaluation = evaluate(model, loss, data.x_test, data.y_test)
        except KeyboardInterrupt:               # Ctrl-C (or a signal made one) while testing: keep the model
            history.status = "interrupted"
            history.message += " Interrupted while evaluating the test set."
            return TrainedRecipe(model, loss, history, None, seconds)
        recorder = next((callback for callback in callbacks if isinstance(callback, Recorder)), None)
        if recorder is not None and recorder.run_id is not None and evaluation.confusion is not None:
            log_test_confusion(recorder.store.path, recorder.run_id, history, evaluation.confusion)
    return TrainedRecipe(model, loss, history, evaluation, seconds)
