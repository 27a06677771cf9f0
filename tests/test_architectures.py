"""Ready-made networks and training recipes."""

import numpy as np
import pytest

from learnscope.architectures import build_cnn, build_mlp
from learnscope.layers import BatchNorm, Conv2D, Dense, Dropout, Flatten, Standardize, Tanh
from learnscope.optim import SGD, Adam
from learnscope.recipes import Recipe, build_from_recipe, default_recipe, optimizer_from_recipe


def test_mlp_layout_and_output_shape():
    model = build_mlp((1, 28, 28), 10, hidden=(32, 16), activation="tanh", dropout=0.2, batch_norm=True, seed=0)
    kinds = [type(layer) for layer in model.layers]
    assert kinds == [Flatten, Dense, BatchNorm, Tanh, Dropout, Dense, BatchNorm, Tanh, Dropout, Dense]
    assert model.layers[1].init.name == "xavier_uniform"          # the init suited to tanh
    assert model.forward(np.zeros((3, 1, 28, 28))).shape == (3, 10)
    assert build_mlp((2,), 3, hidden=(4,)).layers[0].n_in == 2     # feature tables need no Flatten


def test_cnn_layout_and_output_shape():
    model = build_cnn((1, 28, 28), 10, channels=(4, 8), dense=16, seed=0)
    assert model.output_shapes((1, 28, 28))[:4] == [(4, 24, 24), (4, 24, 24), (4, 12, 12), (8, 8, 8)]
    assert sum(isinstance(layer, Conv2D) for layer in model.layers) == 2
    assert model.output_shapes((1, 28, 28))[-1] == (10,)
    assert model.forward(np.zeros((2, 1, 28, 28))).shape == (2, 10)


def test_bad_architectures_are_explained():
    with pytest.raises(ValueError, match="activation"):
        build_mlp((2,), 2, activation="swish")
    with pytest.raises(ValueError, match="use build_mlp"):
        build_cnn((784,), 10)
    with pytest.raises(ValueError, match="below one pixel"):
        build_cnn((1, 12, 12), 10, channels=(2, 2))
    with pytest.raises(TypeError, match="layer sizes"):
        build_mlp((2,), 2, hidden="wide")


def test_recipes_build_the_model_and_optimizer_they_describe():
    recipe = default_recipe("mnist")
    images = np.random.default_rng(0).uniform(0, 1, (50, 1, 28, 28)).astype(np.float32)
    model = build_from_recipe(recipe, (1, 28, 28), 10, x_train=images)
    assert [layer.n_out for layer in model.layers if isinstance(layer, Dense)] == [*recipe.hidden, 10]
    standardize = model.layers[0]
    assert isinstance(standardize, Standardize)
    assert (standardize.mean, standardize.std) == pytest.approx((images.mean(), images.std()), rel=1e-5)
    with pytest.raises(ValueError, match="x_train"):
        build_from_recipe(recipe, (1, 28, 28), 10)
    optimizer = optimizer_from_recipe(recipe, steps_per_epoch=100)
    assert isinstance(optimizer, SGD if recipe.optimizer in ("sgd", "momentum", "nesterov") else Adam)
    lrs = [recipe.lr * optimizer.schedule(step) for step in range(recipe.epochs * 100)]
    assert max(lrs) == pytest.approx(recipe.lr) and lrs[-1] < 0.01 * recipe.lr    # warm up, then anneal to ~0
    assert default_recipe("mnist", model="cnn").model == "cnn"


def test_recipe_options_are_validated():
    with pytest.raises(ValueError, match="lr"):
        Recipe().with_options(lr=-1.0)
    with pytest.raises(ValueError, match="schedule"):
        Recipe().with_options(schedule="sometimes")
    assert Recipe().with_options(lr=None, epochs=2).epochs == 2    # None keeps the default
