"""Trained digit models for the attribution tests: the default MLP and CNN recipes trained as `learnscope train
mnist` trains them (the CNN's three epochs take about half a minute), once per session, on the real MNIST files."""

import pytest

from learnscope.recipes import default_recipe
from learnscope.train import train_recipe


@pytest.fixture(scope="session")
def trained_mlp(mnist):
    return train_recipe(mnist, default_recipe("mnist")).model


@pytest.fixture(scope="session")
def trained_cnn(mnist):
    return train_recipe(mnist, default_recipe("mnist", "cnn")).model
