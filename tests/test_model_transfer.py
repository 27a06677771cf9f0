"""Transfer learning in the engine: freezing layers and replacing a model's head."""

import numpy as np
import pytest

from learnscope.layers import BatchNorm, Dense, Dropout, Flatten, ReLU
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential, load_model
from learnscope.optim import SGD
from learnscope.train import fit


def body_and_head(seed=0):
    """A body with batch norm and dropout (the two layers whose training mode changes state) and a head."""
    return Sequential([Flatten(), Dense(12, 16), BatchNorm(16), ReLU(), Dropout(0.3), Dense(16, 8), ReLU(),
                       Dense(8, 3)], seed=seed)


def data(seed=0, n=96):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 3, 4)).astype(np.float32), rng.integers(0, 3, n)


def snapshot(model):
    return ({name: param.copy() for name, param, _ in model.named_params()},
            {name: value.copy() for name, value in model.named_buffers()})


def test_frozen_layers_stay_bit_identical_while_the_rest_learns():
    model = body_and_head().freeze(7)
    params, buffers = snapshot(model)
    x, y = data()
    fit(model, SoftmaxCrossEntropy(), SGD(lr=0.5, momentum=0.9, weight_decay=1e-2), x, y, epochs=3,
        batch_size=16, seed=0)
    after, after_buffers = snapshot(model)
    for name in params:
        if name.startswith("7."):
            assert not np.array_equal(after[name], params[name]), f"the head {name} did not learn"
        else:
            np.testing.assert_array_equal(after[name], params[name], err_msg=f"frozen {name} changed")
    for name in buffers:                     # batch norm ran in eval mode: its running statistics stayed put
        np.testing.assert_array_equal(after_buffers[name], buffers[name], err_msg=f"frozen buffer {name} changed")


def test_without_freezing_the_same_training_changes_the_body():
    model = body_and_head()
    params, buffers = snapshot(model)
    x, y = data()
    fit(model, SoftmaxCrossEntropy(), SGD(lr=0.5), x, y, epochs=1, batch_size=16, seed=0)
    after, after_buffers = snapshot(model)
    assert not np.array_equal(after["1.dense.W"], params["1.dense.W"])
    assert not np.array_equal(after_buffers["2.batchnorm.running_mean"], buffers["2.batchnorm.running_mean"])


def test_frozen_layers_run_in_eval_mode_so_features_do_not_depend_on_training_mode():
    model = body_and_head().freeze(7)
    x, _ = data()
    np.testing.assert_array_equal(model.forward(x, train=True), model.forward(x, train=False))
    model.unfreeze()
    assert not np.array_equal(model.forward(x, train=True), model.forward(x, train=False))   # dropout is back


def test_backpropagation_stops_below_the_first_layer_that_learns():
    model = body_and_head().freeze(5)
    visited = []
    model.register_hook("backward", lambda index, *_: visited.append(index))
    loss = SoftmaxCrossEntropy()
    x, y = data()
    loss.forward(model.forward(x, train=True), y)
    model.backward(loss.backward(), need_input_grad=False)
    assert visited == [7, 6, 5]
    assert [name for name, _, _ in model.trainable_params()] == ["5.dense.W", "5.dense.b", "7.dense.W", "7.dense.b"]
    assert len(model.named_params()) == 8 and model.n_frozen == 5


def test_a_frozen_model_saves_and_loads_every_parameter(tmp_path):
    model = body_and_head(seed=3).freeze(7)
    x, _ = data()
    model.save(tmp_path / "frozen.safetensors")
    loaded = load_model(tmp_path / "frozen.safetensors")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_replace_head_keeps_the_body_draws_a_new_head_and_leaves_the_original_alone():
    original = body_and_head(seed=1)
    before, _ = snapshot(original)
    new = original.replace_head(5, seed=2)
    assert isinstance(new.layers[-1], Dense) and new.layers[-1].params["W"].shape == (8, 5)
    assert new.layers[-1].init.config() == original.layers[-1].init.config()
    x, y = data(n=48)
    body_original = Sequential(original.layers[:-1]).predict(x)
    np.testing.assert_array_equal(Sequential(new.layers[:-1]).predict(x), body_original)
    # same seed, same head; another seed, another head
    np.testing.assert_array_equal(original.replace_head(5, seed=2).layers[-1].params["W"],
                                  new.layers[-1].params["W"])
    assert not np.array_equal(original.replace_head(5, seed=3).layers[-1].params["W"], new.layers[-1].params["W"])
    fit(new, SoftmaxCrossEntropy(), SGD(lr=0.5), x, y + 2, epochs=2, batch_size=16, seed=0)
    for name, param in snapshot(original)[0].items():       # the copy learned; the original did not move
        np.testing.assert_array_equal(param, before[name])


def test_frozen_and_copied_layers_show_no_stale_gradient():
    model = body_and_head()
    x, y = data()
    fit(model, SoftmaxCrossEntropy(), SGD(lr=0.1), x, y, epochs=1, batch_size=16, seed=0)
    assert np.abs(model.layers[1].grads["W"]).max() > 0
    new = model.replace_head(4)
    assert all(not grad.any() for _, _, grad in new.named_params())
    model.freeze(5)
    assert not model.layers[1].grads["W"].any() and model.layers[7].grads["W"].any()


def test_replace_head_on_a_frozen_model_gives_a_model_that_learns_everywhere():
    new = body_and_head().freeze(7).replace_head(4)
    assert new.n_frozen == 0 and len(new.trainable_params()) == len(new.named_params())


def test_bad_freezing_and_head_requests_say_what_to_do():
    model = body_and_head()
    with pytest.raises(ValueError, match="0 to 8"):
        model.freeze(9)
    with pytest.raises(ValueError, match="n_outputs"):
        model.replace_head(0)
    with pytest.raises(ValueError, match="ending in a Dense layer"):
        Sequential([Flatten(), ReLU()]).replace_head(3)
