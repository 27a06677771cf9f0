"""recipes.training_memory_bytes: never below what a training step really takes, and the MNIST form refuses a run
over the lab's memory budget with the number."""

import tracemalloc

import numpy as np
import pytest

from learnscope.lessons.mnist_lab import MEMORY_BUDGET_BYTES, default_form, parse_form
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.recipes import Recipe, build_from_recipe, default_recipe, optimizer_from_recipe, training_memory_bytes
from learnscope.train import train_step


@pytest.mark.parametrize(("model", "hidden", "batch_norm", "dropout"), [
    ("mlp", (256, 256), True, 0.0), ("mlp", (512, 128, 64), False, 0.3), ("cnn", (), False, 0.0)])
def test_the_estimate_covers_a_real_training_step(model, hidden, batch_norm, dropout):
    options = {"hidden": hidden} if hidden else {}
    recipe = default_recipe("mnist", model).with_options(batch_size=2000, batch_norm=batch_norm, dropout=dropout,
                                                         **options)
    rng = np.random.default_rng(0)
    x, y = rng.random((2000, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 2000)
    tracemalloc.start()
    try:
        network = build_from_recipe(recipe, (1, 28, 28), 10, x_train=x[:100])
        optimizer = optimizer_from_recipe(recipe, 30)
        for _ in range(2):                                  # the second step has the optimizer's memory too
            train_step(network, SoftmaxCrossEntropy(), optimizer, x, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= training_memory_bytes(recipe, (1, 28, 28), 10, 60_000) <= 3 * peak


def test_the_form_refuses_a_run_over_the_memory_budget_and_says_how_much():
    settings, errors = parse_form({**default_form(), "hidden": ", ".join(["4096"] * 6), "batch_size": "60000"})
    assert settings is None and list(errors) == ["batch_size"]
    assert "would need about" in errors["batch_size"] and "at most 3 GiB" in errors["batch_size"]
    for fine in ({"batch_size": "60000"}, {"hidden": ", ".join(["4096"] * 6)}):      # each alone fits
        settings, errors = parse_form({**default_form(), **fine})
        assert errors == {} and training_memory_bytes(settings.recipe, (1, 28, 28), 10, 60_000) < MEMORY_BUDGET_BYTES


@pytest.mark.parametrize("loss, recorded, n_classes, read_back", [
    ("auto", "SoftmaxCrossEntropy", 10, "auto"), ("mse", "MSE", 10, "mse"), ("auto", "MSE", None, "auto")])
def test_a_recorded_runs_loss_class_reads_back_as_the_recipes_choice(loss, recorded, n_classes, read_back):
    recipe = default_recipe("mnist").with_options(loss=loss)
    config = {**recipe.to_dict(), "n_classes": n_classes, "loss": recorded}     # what the recorder stores
    assert Recipe.from_config(config) == recipe.with_options(loss=read_back)
