"""Initializers: the variances their papers promise, and the registry."""

import numpy as np
import pytest

from learnscope.init import get_initializer
from learnscope.layers import Dense


@pytest.mark.parametrize("name, expected_var", [
    ("he_normal", 2 / 400), ("he_uniform", 2 / 400), ("xavier_uniform", 2 / 700),
    ("xavier_normal", 2 / 700), ({"name": "normal", "std": 0.1}, 0.01), ({"name": "uniform", "scale": 0.3}, 0.03),
])
def test_variance_matches_the_formula(name, expected_var):
    weights = get_initializer(name)((400, 300), 400, 300, np.random.default_rng(0), np.float64)
    assert abs(weights.mean()) < 0.05 * np.sqrt(expected_var)
    assert weights.var() == pytest.approx(expected_var, rel=0.03)


def test_zeros_and_constant_and_aliases():
    rng = np.random.default_rng(0)
    assert not get_initializer("zeros")((3, 3), 3, 3, rng, np.float32).any()
    assert (get_initializer({"name": "constant", "value": -2.0})((4,), 1, 1, rng, np.float32) == -2).all()
    assert get_initializer("kaiming").name == "he_normal" and get_initializer("glorot").name == "xavier_uniform"


def test_dense_uses_its_initializer_and_records_it():
    layer = Dense(3, 2, init={"name": "constant", "value": 0.5}, bias_init={"name": "constant", "value": -1}, rng=0)
    assert (layer.params["W"] == 0.5).all() and (layer.params["b"] == -1).all()
    assert layer.config()["init"] == {"name": "constant", "value": 0.5}


def test_bad_initializer_specs():
    with pytest.raises(ValueError, match="unknown initializer 'hee'.*he_normal"):
        get_initializer("hee")
    with pytest.raises(TypeError, match="initializer name"):
        get_initializer(42)
    with pytest.raises(TypeError, match="unexpected options"):
        get_initializer({"name": "normal", "sigma": 1})
    with pytest.raises(ValueError, match="std"):
        get_initializer({"name": "normal", "std": -1})
