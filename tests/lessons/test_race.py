"""The optimizer race (chapter 6): surfaces whose gradients are right, racers that are the engine's own optimizers
stepped exactly as by hand, and the textbook outcomes the lesson promises."""

import numpy as np
import pytest

from learnscope.gradcheck import numeric_gradient
from learnscope.lessons.race import PARAM, optimizer_race, steps_to_reach
from learnscope.lessons.surfaces import SURFACES, get_surface
from learnscope.optim import OPTIMIZERS, get_optimizer


@pytest.mark.parametrize("key", list(SURFACES))
def test_every_surface_gradient_equals_finite_differences(key):
    surface = SURFACES[key]
    (x_min, x_max), (y_min, y_max) = surface.bounds
    rng = np.random.default_rng(0)
    for point in [np.array(surface.start), *rng.uniform([x_min, y_min], [x_max, y_max], (5, 2))]:
        at = point.astype(np.float64)
        numeric = numeric_gradient(lambda at=at: float(surface.value(at[0], at[1])), at, h=1e-4)
        np.testing.assert_allclose(surface.gradient(at), numeric, rtol=1e-7, atol=1e-6)


def test_each_surface_has_its_minimum_where_it_says():
    for surface in SURFACES.values():
        x, y = surface.minimum
        assert np.allclose(surface.gradient(np.array([x, y])), 0, atol=1e-12), surface.key
        values = surface.grid(81)[2]
        assert surface.value(x, y) <= values.min() + 1e-9, surface.key     # nothing on the drawn grid is lower


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_race_positions_equal_stepping_the_optimizer_class_by_hand_bit_for_bit(name):
    surface = SURFACES["rosenbrock"]
    race = optimizer_race(surface, {name: {"name": name, "lr": 0.001}}, steps=50)
    optimizer, point = get_optimizer(name, lr=0.001), np.array(surface.start, dtype=np.float64)
    by_hand = [point.copy()]
    for _ in range(50):
        optimizer.step([(PARAM, point, surface.gradient(point))])
        by_hand.append(point.copy())
    np.testing.assert_array_equal(race[name], np.array(by_hand))
    np.testing.assert_array_equal(race.values[name], [surface.value(x, y) for x, y in by_hand])


def test_momentum_memory_is_the_textbook_velocity():
    race = optimizer_race("valley", {"momentum": {"name": "momentum", "lr": 0.02}}, steps=30)
    velocity = np.zeros(2)
    for t in range(1, 31):
        velocity = 0.9 * velocity + race.gradients["momentum"][t - 1]       # v ← μ·v + g
        np.testing.assert_allclose(race.states["momentum"]["velocity"][t], velocity, rtol=1e-12)
        np.testing.assert_allclose(race["momentum"][t], race["momentum"][t - 1] - 0.02 * velocity, rtol=1e-12)


def test_on_the_narrow_valley_momentum_reaches_1e_3_in_fewer_steps_than_sgd_at_the_same_lr():
    race = optimizer_race("valley", {"sgd": {"name": "sgd", "lr": 0.02}, "momentum": {"name": "momentum", "lr": 0.02}},
                          steps=1000, condition=50)
    sgd, momentum = steps_to_reach(race, "sgd", 1e-3), steps_to_reach(race, "momentum", 1e-3)
    assert momentum is not None and sgd is not None
    assert momentum < sgd / 2, (momentum, sgd)


def test_adam_finds_the_bottom_of_rosenbrocks_banana_from_minus_1_5_2():
    race = optimizer_race("rosenbrock", {"adam": {"name": "adam", "lr": 0.05}}, start=(-1.5, 2.0), steps=1500)
    assert np.linalg.norm(race["adam"][-1] - np.array([1.0, 1.0])) < 0.1
    assert race.values["adam"][-1] < 1e-3 < race.values["adam"][0]


def test_the_condition_number_shapes_the_valley_and_slows_plain_gradient_descent():
    round_bowl = optimizer_race("valley", {"sgd": {"name": "sgd", "lr": 0.02}}, steps=2000, condition=1)
    narrow = optimizer_race("valley", {"sgd": {"name": "sgd", "lr": 0.02}}, steps=2000, condition=50)
    assert get_surface("valley", condition=7).gradient(np.array([1.0, 1.0]))[1] == 7.0
    # at the same lr the round bowl is no faster along x, but the narrow valley forbids a larger lr
    wide_lr = optimizer_race("valley", {"sgd": {"name": "sgd", "lr": 0.5}}, steps=200, condition=1)
    too_big = optimizer_race("valley", {"sgd": {"name": "sgd", "lr": 0.5}}, steps=200, condition=50)
    assert steps_to_reach(wide_lr, "sgd", 1e-3) < steps_to_reach(round_bowl, "sgd", 1e-3)
    assert too_big.diverged_at["sgd"] is not None and steps_to_reach(narrow, "sgd", 1e-3) is not None


def test_a_diverging_racer_stops_where_it_left_the_map_and_the_others_go_on():
    race = optimizer_race("valley", {"wild": {"name": "sgd", "lr": 0.1}, "calm": {"name": "sgd", "lr": 0.02}},
                          steps=300)
    stop = race.diverged_at["wild"]
    assert stop is not None and race.diverged_at["calm"] is None
    assert np.isfinite(race["wild"][:stop]).all() and np.isnan(race["wild"][stop:]).all()
    assert np.isfinite(race["calm"]).all()


def test_listed_names_race_at_the_surfaces_suggested_learning_rates():
    race = optimizer_race("beale", ["sgd", "adam"], steps=3)
    assert set(race) == {"sgd", "adam"} and race["adam"].shape == (4, 2)
    assert race["adam"][0].tolist() == list(SURFACES["beale"].start)
    by_hand = optimizer_race("beale", {"adam": {"name": "adam", "lr": SURFACES["beale"].lr["adam"]}}, steps=3)
    np.testing.assert_array_equal(race["adam"], by_hand["adam"])


@pytest.mark.parametrize("call, error, text", [
    (lambda: optimizer_race("valey", ["sgd"]), ValueError, "valley"),
    (lambda: optimizer_race("beale", ["sgd"], condition=10), ValueError, "only for the valley"),
    (lambda: optimizer_race("valley", ["sgd"], condition=0.5), ValueError, "condition"),
    (lambda: optimizer_race("valley", ["sgd"], start=(1.0,)), ValueError, "start=(-1.5, 2.0)"),
    (lambda: optimizer_race("valley", ["sgd"], start=(np.nan, 0)), ValueError, "finite"),
    (lambda: optimizer_race("valley", ["sgd"], steps=0), ValueError, "steps"),
    (lambda: optimizer_race("valley", "sgd"), TypeError, "list of optimizer names"),
    (lambda: optimizer_race("valley", ["adamm"]), ValueError, "adam"),
])
def test_bad_race_arguments_say_what_to_pass(call, error, text):
    with pytest.raises(error, match=None) as info:
        call()
    assert text in str(info.value)


def model_slice_of_a_small_network(seed=0):
    from learnscope.architectures import build_mlp
    from learnscope.explain import filter_normalized_direction
    from learnscope.lessons.surfaces import model_slice
    from learnscope.losses import SoftmaxCrossEntropy
    from learnscope.train.loop import fit

    rng = np.random.default_rng(seed)
    x = np.vstack([rng.normal(-0.5, 1, (60, 3)), rng.normal(0.5, 1, (60, 3))])
    y = np.repeat([0, 1], 60)
    model = build_mlp((3,), 2, hidden=(5,), batch_norm=True, seed=seed).astype(np.float64)
    fit(model, SoftmaxCrossEntropy(dtype=np.float64), get_optimizer("adam", lr=0.02), x, y, epochs=30, batch_size=30,
        seed=seed)
    directions = (filter_normalized_direction(model, 1), filter_normalized_direction(model, 2))
    return model, x, y, model_slice(model, SoftmaxCrossEntropy(dtype=np.float64), x, y, directions, span=1.0)


def test_a_slice_of_a_real_network_has_its_loss_at_the_centre_and_the_backprop_gradient_projected():
    from learnscope.losses import SoftmaxCrossEntropy

    model, x, y, surface = model_slice_of_a_small_network()
    before = {name: param.copy() for name, param, _ in model.named_params()}
    assert surface.value(0.0, 0.0) == pytest.approx(SoftmaxCrossEntropy().forward(model.predict(x), y), rel=1e-12)
    for point in (np.array([0.3, -0.2]), np.array(surface.start)):
        at = point.astype(np.float64)
        numeric = numeric_gradient(lambda at=at: surface.value(at[0], at[1]), at, h=1e-4)
        np.testing.assert_allclose(surface.gradient(at), numeric, rtol=1e-6, atol=1e-9)
    values = surface.value(np.array([[0.0, 0.5]]), np.array([[0.0], [0.5]]))
    assert values.shape == (2, 2) and values[0, 0] == pytest.approx(surface.value(0.0, 0.0))
    for name, param, _ in model.named_params():                      # the caller's network never moved
        np.testing.assert_array_equal(param, before[name])


def test_optimizers_race_on_a_real_networks_slice_and_find_its_low_ground():
    *_, surface = model_slice_of_a_small_network()
    race = optimizer_race(surface, ["sgd", "adam"], steps=60)
    for name in race:
        assert race.values[name][-1] < race.values[name][0]
    assert surface.grid(101)[2].shape == (25, 25)                     # a forward pass per point: a coarse grid
