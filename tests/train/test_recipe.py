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


class SeesTheData(Callback):
    def on_train_begin(self, trainer):
        self.n_samples, self.validation = trainer.n_samples, trainer.validation_data


def test_train_samples_takes_the_first_examples_and_early_stopping_watches_the_held_out_tail(mnist):
    seen = SeesTheData()
    recipe = default_recipe("mnist").with_options(epochs=2, train_samples=1000, early_stopping=True)
    trained = train_recipe(mnist, recipe, callbacks=[seen])
    held_x, held_y = seen.validation
    assert seen.n_samples == 1000
    np.testing.assert_array_equal(held_x, mnist.x_train[-6000:])            # the last tenth, never trained on
    np.testing.assert_array_equal(held_y, mnist.y_train[-6000:])
    assert len(trained.history["val_loss"]) == 2
    assert trained.evaluation.accuracy > 0.8


def test_squared_error_trains_a_classifier_on_one_hot_targets(mnist):
    from learnscope.losses import MSE

    recipe = default_recipe("mnist").with_options(epochs=2, train_samples=3000, loss="mse", lr=0.1)
    trained = train_recipe(mnist, recipe)
    assert isinstance(trained.loss, MSE)
    assert trained.evaluation.accuracy > 0.75 and trained.evaluation.confusion.sum() == len(mnist.x_test)


def test_augmented_training_learns_and_differs_from_plain_training(mnist):
    recipe = default_recipe("mnist").with_options(epochs=1, train_samples=2000)
    plain = train_recipe(mnist, recipe)
    augmented = train_recipe(mnist, recipe.with_options(augment=True))
    assert augmented.evaluation.accuracy > 0.8
    assert augmented.history["loss"][-1] != plain.history["loss"][-1]


def test_options_that_do_not_fit_the_data_say_why():
    import pytest

    spiral = load_training_data("spiral", samples=200, seed=0)
    with pytest.raises(ValueError, match="augmentation moves and turns images"):
        train_recipe(spiral, default_recipe("toy").with_options(augment=True, epochs=1))
    with pytest.raises(ValueError, match="Use --train-samples 160 or fewer"):
        train_recipe(spiral, default_recipe("toy").with_options(train_samples=5000, epochs=1))
    with pytest.raises(ValueError, match="Turn one of them off"):
        train_recipe(spiral, default_recipe("toy").with_options(early_stopping=True), test_evals_per_epoch=1)
