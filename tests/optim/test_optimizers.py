"""Each optimizer against its textbook formula, recomputed here step by step with plain NumPy."""

import json

import numpy as np
import pytest

from learnscope.optim import (
    SGD,
    Adam,
    AdamW,
    RMSprop,
    StepDecay,
    batch_size_for,
    clip_grad_norm,
    get_optimizer,
)

RTOL = 1e-12
SHAPES = {"0.dense.W": (3, 4), "0.dense.b": (4,), "1.batchnorm.gamma": (4,), "2.conv.W": (2, 3, 2, 2)}
N_STEPS = 3


@pytest.fixture
def params():
    """Float64 parameters kept away from 0 so a relative tolerance is meaningful."""
    rng = np.random.default_rng(0)
    return {name: rng.uniform(0.5, 2.0, shape) * rng.choice([-1, 1], shape) for name, shape in SHAPES.items()}


@pytest.fixture
def grads():
    """A different gradient for every parameter at every step."""
    rng = np.random.default_rng(1)
    return [{name: rng.standard_normal(shape) for name, shape in SHAPES.items()} for _ in range(N_STEPS)]


def run(optimizer, params, grads):
    """Take one optimizer step per entry of grads on copies of params; return the updated copies."""
    current = {name: value.copy() for name, value in params.items()}
    for step_grads in grads:
        optimizer.step((name, current[name], step_grads[name].copy()) for name in current)
    return current


def assert_params_close(actual, expected):
    assert actual.keys() == expected.keys()
    for name in expected:
        np.testing.assert_allclose(actual[name], expected[name], rtol=RTOL, atol=0, err_msg=name)


def decays(name):
    return name.endswith(".W")


# -- textbook formulas, one parameter at a time -------------------------------------------------
def textbook_sgd(p, gs, lr):
    for g in gs:
        p = p - lr * g
    return p


def textbook_momentum(p, gs, lr, mu, nesterov=False):
    v = np.zeros_like(p)
    for g in gs:
        v = mu * v + g
        p = p - lr * (g + mu * v) if nesterov else p - lr * v
    return p


def textbook_rmsprop(p, gs, lr, rho, eps):
    s = np.zeros_like(p)
    for g in gs:
        s = rho * s + (1 - rho) * g**2
        p = p - lr * g / (np.sqrt(s) + eps)
    return p


def textbook_adam(p, gs, lr, beta1, beta2, eps, l2=0.0, decoupled=0.0):
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    for t, g in enumerate(gs, start=1):
        p = p - lr * decoupled * p  # AdamW: shrink the weight, gradient untouched
        g = g + l2 * p  # Adam + L2: the decay term joins the gradient
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def per_param(params, grads, formula):
    return {name: formula(name, params[name], [step[name] for step in grads]) for name in params}


# -- each optimizer against its formula ---------------------------------------------------------
def test_sgd_plain_matches_textbook(params, grads):
    actual = run(SGD(lr=0.1), params, grads)
    assert_params_close(actual, per_param(params, grads, lambda _, p, gs: textbook_sgd(p, gs, 0.1)))


def test_sgd_momentum_matches_textbook(params, grads):
    actual = run(SGD(lr=0.1, momentum=0.9), params, grads)
    expected = per_param(params, grads, lambda _, p, gs: textbook_momentum(p, gs, 0.1, 0.9))
    assert_params_close(actual, expected)


def test_sgd_nesterov_matches_textbook(params, grads):
    actual = run(SGD(lr=0.1, momentum=0.8, nesterov=True), params, grads)
    expected = per_param(params, grads, lambda _, p, gs: textbook_momentum(p, gs, 0.1, 0.8, nesterov=True))
    assert_params_close(actual, expected)
    plain_momentum = per_param(params, grads, lambda _, p, gs: textbook_momentum(p, gs, 0.1, 0.8))
    assert not np.allclose(actual["0.dense.W"], plain_momentum["0.dense.W"], rtol=1e-6)


def test_rmsprop_matches_textbook(params, grads):
    actual = run(RMSprop(lr=0.05, rho=0.8, eps=1e-6), params, grads)
    expected = per_param(params, grads, lambda _, p, gs: textbook_rmsprop(p, gs, 0.05, 0.8, 1e-6))
    assert_params_close(actual, expected)


def test_adam_matches_textbook_with_bias_correction(params, grads):
    actual = run(Adam(lr=0.1, beta1=0.8, beta2=0.95, eps=1e-6), params, grads)
    expected = per_param(params, grads, lambda _, p, gs: textbook_adam(p, gs, 0.1, 0.8, 0.95, 1e-6))
    assert_params_close(actual, expected)


def test_adam_first_step_moves_every_weight_by_about_lr(params, grads):
    # With bias correction m̂ = g and v̂ = g² on step 1, so the step is lr·g/|g| = ±lr. Without it, it would
    # be lr·(1−β₁)/√(1−β₂) ≈ 3.2·lr: this is the classic symptom of a missing correction.
    actual = run(Adam(lr=0.01, eps=1e-12), params, grads[:1])
    for name in params:
        np.testing.assert_allclose(np.abs(actual[name] - params[name]), 0.01, rtol=1e-6)


def test_adamw_matches_textbook_and_differs_from_adam_with_l2(params, grads):
    adamw = run(AdamW(lr=0.1, weight_decay=0.5), params, grads)
    expected = per_param(
        params,
        grads,
        lambda name, p, gs: textbook_adam(p, gs, 0.1, 0.9, 0.999, 1e-8, decoupled=0.5 if decays(name) else 0.0),
    )
    assert_params_close(adamw, expected)

    adam_l2 = run(Adam(lr=0.1, weight_decay=0.5), params, grads)
    expected_l2 = per_param(
        params, grads, lambda name, p, gs: textbook_adam(p, gs, 0.1, 0.9, 0.999, 1e-8, l2=0.5 if decays(name) else 0.0)
    )
    assert_params_close(adam_l2, expected_l2)
    # decoupled and coupled decay are different algorithms: weights end up elsewhere, the rest agrees
    assert not np.allclose(adamw["0.dense.W"], adam_l2["0.dense.W"], rtol=1e-6)
    np.testing.assert_array_equal(adamw["0.dense.b"], adam_l2["0.dense.b"])


def test_adamw_leaves_the_gradient_unmodified(params, grads):
    grad_copies = {name: grads[0][name].copy() for name in params}
    AdamW(lr=0.1, weight_decay=0.5).step((name, params[name].copy(), grads[0][name]) for name in params)
    for name in params:
        np.testing.assert_array_equal(grads[0][name], grad_copies[name])


# -- weight decay -------------------------------------------------------------------------------
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_l2_weight_decay_applies_only_to_weights(params, grads, momentum):
    wd = 0.3
    actual = run(SGD(lr=0.1, momentum=momentum, weight_decay=wd), params, grads)

    def textbook(name, p, gs):
        v = np.zeros_like(p)
        for g in gs:
            if decays(name):
                g = g + wd * p  # classic L2: d/dW of ½·wd·‖W‖²
            v = momentum * v + g
            p = p - 0.1 * v
        return p

    assert_params_close(actual, per_param(params, grads, textbook))
    undecayed = run(SGD(lr=0.1, momentum=momentum), params, grads)
    for name in ("0.dense.b", "1.batchnorm.gamma"):
        np.testing.assert_array_equal(actual[name], undecayed[name])
    for name in ("0.dense.W", "2.conv.W"):
        assert not np.allclose(actual[name], undecayed[name], rtol=1e-6)


def test_l2_weight_decay_does_not_modify_the_callers_grads(params, grads):
    grad_copies = {name: grads[0][name].copy() for name in params}
    SGD(lr=0.1, weight_decay=0.3).step((name, params[name].copy(), grads[0][name]) for name in params)
    for name in params:
        np.testing.assert_array_equal(grads[0][name], grad_copies[name])


# -- gradient clipping --------------------------------------------------------------------------
def test_clip_grad_norm_scales_all_grads_jointly_when_above_threshold():
    a, b = np.array([3.0]), np.array([[4.0]])
    norm = clip_grad_norm([("0.dense.W", np.zeros(1), a), ("0.dense.b", np.zeros((1, 1)), b)], max_norm=1.0)
    assert norm == pytest.approx(5.0, rel=RTOL)
    # joint: both scaled by 1/5 (per-parameter clipping would give [1.0] and [[1.0]])
    np.testing.assert_allclose(a, [0.6], rtol=RTOL)
    np.testing.assert_allclose(b, [[0.8]], rtol=RTOL)


def test_clip_grad_norm_leaves_grads_alone_below_threshold():
    a, b = np.array([3.0]), np.array([4.0])
    norm = clip_grad_norm([("w", np.zeros(1), a), ("b", np.zeros(1), b)], max_norm=10.0)
    assert norm == pytest.approx(5.0, rel=RTOL)
    np.testing.assert_array_equal(a, [3.0])
    np.testing.assert_array_equal(b, [4.0])


@pytest.mark.parametrize("clip_norm", [0.5, 1e6])
def test_optimizer_clips_by_global_norm_before_updating(params, grads, clip_norm):
    optimizer = SGD(lr=0.1, momentum=0.9, clip_norm=clip_norm)
    actual = run(optimizer, params, grads)

    expected = {name: value.copy() for name, value in params.items()}
    velocity = {name: np.zeros_like(value) for name, value in params.items()}
    for step in grads:
        norm = np.sqrt(sum(np.sum(g**2) for g in step.values()))  # one norm over all parameters
        scale = clip_norm / norm if norm > clip_norm else 1.0
        for name in expected:
            velocity[name] = 0.9 * velocity[name] + scale * step[name]
            expected[name] = expected[name] - 0.1 * velocity[name]
    assert_params_close(actual, expected)
    assert optimizer.last_grad_norm == pytest.approx(np.sqrt(sum(np.sum(g**2) for g in grads[-1].values())))


def test_optimizer_clipping_modifies_grads_in_place(params, grads):
    before = np.sqrt(sum(np.sum(g**2) for g in grads[0].values()))
    SGD(lr=0.1, clip_norm=0.5).step((name, params[name], grads[0][name]) for name in params)
    after = np.sqrt(sum(np.sum(g**2) for g in grads[0].values()))
    assert before > 0.5
    assert after == pytest.approx(0.5, rel=1e-12)


# -- schedules inside an optimizer --------------------------------------------------------------
def test_current_lr_follows_the_schedule_and_each_step_uses_it(params, grads):
    optimizer = SGD(lr=0.1, schedule=StepDecay(step_size=1, gamma=0.5))
    assert optimizer.current_lr == pytest.approx(0.1, rel=RTOL)  # the lr the first step will use
    current = {name: value.copy() for name, value in params.items()}
    expected = {name: value.copy() for name, value in params.items()}
    for step_index, step in enumerate(grads):
        lr = 0.1 * 0.5**step_index
        assert optimizer.current_lr == pytest.approx(lr, rel=RTOL)
        optimizer.step((name, current[name], step[name]) for name in current)
        assert optimizer.last_lr == pytest.approx(lr, rel=RTOL)
        for name in expected:
            expected[name] = expected[name] - lr * step[name]
    assert_params_close(current, expected)
    assert optimizer.t == N_STEPS
    assert optimizer.lr == 0.1  # the base lr is not changed by the schedule


def test_lr_is_settable_and_validated():
    optimizer = Adam()
    optimizer.lr = 0.5
    assert optimizer.current_lr == 0.5
    with pytest.raises(ValueError, match="lr"):
        optimizer.lr = 0


# -- in place, dtype, input forms ---------------------------------------------------------------
ALL_NAMES = ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"]


@pytest.mark.parametrize("name", ALL_NAMES)
def test_step_updates_the_same_array_objects(params, grads, name):
    optimizer = get_optimizer(name, lr=0.1, weight_decay=0.01)
    originals = {key: value.copy() for key, value in params.items()}
    held = dict(params)  # references, as a model and a recorder would hold them
    for step in grads:
        optimizer.step((key, params[key], step[key]) for key in params)
    for key in params:
        assert params[key] is held[key]
        assert not np.allclose(held[key], originals[key])


@pytest.mark.parametrize("name", ALL_NAMES)
def test_float32_parameters_stay_float32(name):
    param = np.ones((2, 3), dtype=np.float32)
    grad = np.full((2, 3), 0.5, dtype=np.float32)
    optimizer = get_optimizer(name, lr=np.float64(0.1), weight_decay=0.01)
    for _ in range(2):
        optimizer.step([("0.dense.W", param, grad)])
    assert param.dtype == np.float32
    assert all(array.dtype == np.float32 for array in optimizer.state.get("0.dense.W", {}).values())


def test_step_accepts_a_generator_even_with_clipping(params, grads):
    from_list = run(SGD(lr=0.1, clip_norm=0.5), params, grads)
    current = {name: value.copy() for name, value in params.items()}
    optimizer = SGD(lr=0.1, clip_norm=0.5)
    for step in grads:
        optimizer.step(iter([(name, current[name], step[name].copy()) for name in current]))
    assert_params_close(current, from_list)


def test_step_rejects_a_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"'0.dense.W'.*\(3, 4\).*\(1, 4\)"):
        SGD().step([("0.dense.W", np.zeros((3, 4)), np.zeros((1, 4)))])


def test_step_rejects_something_that_is_not_triples():
    with pytest.raises(TypeError, match="named_params"):
        SGD().step({"W": np.zeros(3)})


# -- saving and restoring -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL_NAMES)
def test_state_dict_round_trip_continues_identically(params, grads, name):
    first = get_optimizer(name, lr=0.05, weight_decay=0.01, clip_norm=2.0)
    current = run(first, params, grads[:2])
    saved = first.state_dict()
    assert saved["t"] == 2
    assert all(isinstance(a, np.ndarray) for arrays in saved["state"].values() for a in arrays.values())

    second = get_optimizer(json.loads(json.dumps(first.config())))
    second.load_state_dict(saved)
    continued_first = run(first, current, grads[2:])
    continued_second = run(second, current, grads[2:])
    for key in params:
        np.testing.assert_array_equal(continued_second[key], continued_first[key])


def test_state_dict_is_a_snapshot(params, grads):
    optimizer = Adam(lr=0.1)
    current = run(optimizer, params, grads[:1])
    saved = optimizer.state_dict()
    m_before = saved["state"]["0.dense.W"]["m"].copy()
    run(optimizer, current, grads[1:])
    np.testing.assert_array_equal(saved["state"]["0.dense.W"]["m"], m_before)


def test_load_state_dict_rejects_another_optimizers_state(params, grads):
    momentum = SGD(lr=0.1, momentum=0.9)
    run(momentum, params, grads[:1])
    with pytest.raises(ValueError, match=r"expected state keys \('m', 'v'\).*\('velocity',\).*Load a state"):
        Adam().load_state_dict(momentum.state_dict())


@pytest.mark.parametrize("name", ALL_NAMES)
def test_config_is_json_and_rebuilds_the_optimizer(name):
    optimizer = get_optimizer(name, lr=0.2, clip_norm=1.0, schedule={"name": "cosine", "total_steps": 10})
    config = optimizer.config()
    assert json.loads(json.dumps(config)) == config
    rebuilt = get_optimizer(config)
    assert type(rebuilt) is type(optimizer)
    assert rebuilt.config() == config


# -- registry and batch modes -------------------------------------------------------------------
def test_registry_defaults_and_overrides():
    momentum = get_optimizer("momentum")
    assert isinstance(momentum, SGD) and momentum.momentum == 0.9 and not momentum.nesterov
    nesterov = get_optimizer("Nesterov", momentum=0.5)
    assert nesterov.nesterov and nesterov.momentum == 0.5
    assert isinstance(get_optimizer("adamw"), AdamW) and get_optimizer("adamw").weight_decay == 0.01
    assert get_optimizer("sgd").momentum == 0.0


def test_batch_size_for_the_three_flavours_of_gradient_descent():
    assert batch_size_for("batch", 1000) == 1000
    assert batch_size_for("stochastic", 1000) == 1
    assert batch_size_for("mini-batch", 1000) == 32
    assert batch_size_for("mini-batch", 1000, mini_batch_size=64) == 64
    assert batch_size_for("mini-batch", 10) == 10


# -- bad hyperparameters: what, received, fix ---------------------------------------------------
@pytest.mark.parametrize(
    ("make", "error", "fragments"),
    [
        (lambda: Adam(lr=-0.1), ValueError, ["Adam expected lr in (0, inf)", "got -0.1", "positive learning rate"]),
        (lambda: SGD(lr="0.1"), TypeError, ["SGD expected lr", "'0.1'", "positive learning rate such as 0.01"]),
        (lambda: Adam(lr=float("nan")), ValueError, ["lr", "nan", "positive learning rate"]),
        (lambda: Adam(beta1=1), ValueError, ["beta1 in [0, 1)", "got 1", "such as 0.9"]),
        (lambda: AdamW(beta2=1.5), ValueError, ["AdamW expected beta2", "got 1.5", "such as 0.999"]),
        (lambda: SGD(momentum=1.5), ValueError, ["momentum in [0, 1)", "got 1.5", "such as 0.9"]),
        (lambda: RMSprop(eps=0), ValueError, ["eps in (0, inf)", "got 0", "such as 1e-8"]),
        (lambda: RMSprop(rho=-0.1), ValueError, ["rho", "got -0.1", "such as 0.9"]),
        (lambda: SGD(nesterov=True), ValueError, ["nesterov=True", "momentum=0.0", "set momentum=0.9"]),
        (lambda: SGD(momentum=0.9, nesterov="yes"), TypeError, ["nesterov", "'yes'", "nesterov=True"]),
        (lambda: SGD(weight_decay=-1), ValueError, ["weight_decay", "got -1", "such as 1e-4"]),
        (lambda: SGD(clip_norm=0), ValueError, ["clip_norm", "got 0", "positive norm such as 1.0"]),
        (lambda: SGD(schedule=3), TypeError, ["schedule", "got 3", "Cosine(total_steps=1000)"]),
        (lambda: get_optimizer("adm"), ValueError, ["get_optimizer expected name", "got 'adm'", "'adam'?"]),
        (lambda: get_optimizer(3), TypeError, ["name", "got 3", "'sgd'"]),
        (lambda: get_optimizer("adam", betas=(0.9, 0.99)), TypeError, ["betas", "Accepted arguments", "beta1"]),
        (lambda: clip_grad_norm([], max_norm=-1), ValueError, ["max_norm", "got -1", "positive norm"]),
        (lambda: batch_size_for("minibatch", 10), ValueError, ["mode", "'minibatch'", "'mini-batch'?"]),
        (lambda: batch_size_for("batch", 0), ValueError, ["n_samples", "got 0", "number of training examples"]),
        (lambda: batch_size_for("batch", 10, mini_batch_size=2.5), TypeError, ["mini_batch_size", "2.5"]),
    ],
)
def test_bad_hyperparameters_say_what_was_received_and_how_to_fix_it(make, error, fragments):
    with pytest.raises(error) as caught:
        make()
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message
