"""train_recipe: data and a recipe in, a trained and evaluated model out, the run recorded with its test confusion."""

import numpy as np

from learnscope.data import load_digits, load_training_data
from learnscope.recipes import default_recipe
from learnscope.store import RunStore
from learnscope.train import Callback, Recorder, train_recipe


class StepCounter(Callback):
    def on_train_begin(self, trainer):
        self.planned = trainer.epochs * trainer.steps_per_epoch
        self.steps = 0

    def on_batch_end(self, step, logs):
        self.steps += 1


def test_a_digits_recipe_trains_evaluates_and_stores_the_test_confusion(tmp_path):
    data = load_digits()
    recipe = default_recipe("digits").with_options(epochs=4, batch_size=64)
    counter = StepCounter()
    recorder = Recorder(tmp_path / "runs.sqlite", run_name="digits recipe", dataset=data.name, checkpoints=False)
    trained = train_recipe(data, recipe, callbacks=[counter, recorder])
    assert trained.status == "finished"
    assert counter.planned == counter.steps == 4 * -(-len(data.x_train) // 64)
    assert trained.evaluation.accuracy > 0.9
    assert trained.evaluation.n_samples == len(data.x_test)
    with RunStore(tmp_path / "runs.sqlite") as store:
        _, matrices = store.tensors(recorder.run_id, "confusion/test")
    assert len(matrices) == 1 and matrices[0].sum() == len(data.x_test)
    np.testing.assert_array_equal(matrices[0], trained.evaluation.confusion)


def test_live_test_curves_come_from_evaluations_during_training():
    data = load_training_data("spiral", samples=200, seed=0)
    recipe = default_recipe("toy").with_options(epochs=3, batch_size=32)
    trained = train_recipe(data, recipe, test_evals_per_epoch=2)
    assert len(trained.history["val_loss"]) == 3                       # after each epoch
    steps_per_epoch = -(-len(data.x_train) // 32)
    assert [row["step"] + 1 for row in trained.history.evaluations] == \
        [k * (steps_per_epoch // 2) for k in range(1, 3 * steps_per_epoch // (steps_per_epoch // 2) + 1)]


def test_a_diverged_recipe_has_no_evaluation_and_stores_no_confusion(tmp_path):
    data = load_training_data("spiral", samples=200, seed=0)
    recipe = default_recipe("toy").with_options(optimizer="sgd", lr=1e6, epochs=5)
    recorder = Recorder(tmp_path / "runs.sqlite", run_name="too fast", dataset=data.name, checkpoints=False)
    trained = train_recipe(data, recipe, callbacks=[recorder])
    assert trained.status == "diverged" and trained.evaluation is None
    with RunStore(tmp_path / "runs.sqlite") as store:
        assert "confusion/test" not in store.tensor_names(recorder.run_id)
