"""Trained digit models for the attribution tests: the default MLP and CNN recipes, one epoch each (a few seconds),
trained once per session on the real MNIST files."""

import pytest

from learnscope.losses import SoftmaxCrossEntropy
from learnscope.optim import Adam
from learnscope.recipes import build_from_recipe, default_recipe
from learnscope.train import fit


def _trained(mnist, kind: str, n_images: int):
    model = build_from_recipe(default_recipe("mnist", kind), (1, 28, 28), 10, mnist.x_train)
    fit(model, SoftmaxCrossEntropy(), Adam(1e-3), mnist.x_train[:n_images], mnist.y_train[:n_images], epochs=1,
        batch_size=128, seed=0)
    return model


@pytest.fixture(scope="session")
def trained_mlp(mnist):
    return _trained(mnist, "mlp", 60_000)


@pytest.fixture(scope="session")
def trained_cnn(mnist):
    return _trained(mnist, "cnn", 10_000)
