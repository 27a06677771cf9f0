"""The 2-D toy sets: shapes, dtypes, seeds, class balance, the exact shapes they draw without noise,
the regression formulas, and the make_toy registry."""

import numpy as np
import pytest

from learnscope.data.toy2d import (
    MOON_RADIUS,
    TOY_DATASETS,
    gaussian_centers,
    make_circles,
    make_gaussians,
    make_moons,
    make_regression_plane,
    make_regression_sine,
    make_spiral,
    make_toy,
    make_xor,
)

CLASSIFICATION = ["xor", "circles", "gaussians", "spiral", "moons"]
REGRESSION = ["plane", "sine"]


def test_registry_lists_every_set_with_its_task():
    assert set(TOY_DATASETS) == set(CLASSIFICATION + REGRESSION)
    for name in CLASSIFICATION:
        assert TOY_DATASETS[name].task == "classification" and TOY_DATASETS[name].is_classification
    for name in REGRESSION:
        assert TOY_DATASETS[name].task == "regression" and not TOY_DATASETS[name].is_classification
    assert TOY_DATASETS["circles"].options == ("factor",)
    assert TOY_DATASETS["spiral"].options == ("n_classes",)
    assert TOY_DATASETS["moons"].options == ()


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_sets_shapes_dtypes_and_balance(name):
    x, y = make_toy(name, n_samples=120, seed=0)
    assert x.shape == (120, 2) and x.dtype == np.float32
    assert y.shape == (120,) and y.dtype == np.int64
    counts = np.bincount(y)
    assert len(counts) >= 2 and counts.max() - counts.min() <= 1


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_sets_shapes_and_dtypes(name):
    x, y = make_toy(name, n_samples=50, seed=0)
    assert x.shape == (50, 2) and x.dtype == np.float32
    assert y.shape == (50, 1) and y.dtype == np.float32
    assert np.all(np.abs(x) <= 1)


@pytest.mark.parametrize("name", CLASSIFICATION + REGRESSION)
def test_every_set_shares_one_plane(name):
    """Default noise keeps (nearly) every point within [-1.5, 1.5]² so a playground draws them alike."""
    x, _ = make_toy(name, n_samples=1000, seed=1)
    assert np.mean(np.abs(x) <= 1.5) > 0.99
    assert np.abs(x).max() > 0.7                        # and they use the plane, not a corner of it


@pytest.mark.parametrize("name", CLASSIFICATION + REGRESSION)
def test_same_seed_same_data_other_seed_other_data(name):
    noise = 0.1                                         # xor is noise-free by default, so nothing would differ
    x1, y1 = make_toy(name, n_samples=60, noise=noise, seed=3)
    x2, y2 = make_toy(name, n_samples=60, noise=noise, seed=3)
    x3, _ = make_toy(name, n_samples=60, noise=noise, seed=4)
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(x1, x3)


def test_a_generator_can_be_passed_as_seed():
    x1, _ = make_moons(30, seed=np.random.default_rng(5))
    x2, _ = make_moons(30, seed=np.random.default_rng(5))
    np.testing.assert_array_equal(x1, x2)


def test_odd_sizes_stay_balanced_within_one():
    for n_samples in (7, 11, 101):
        _, y = make_gaussians(n_samples, n_classes=3, seed=0)
        counts = np.bincount(y, minlength=3)
        assert counts.sum() == n_samples and counts.max() - counts.min() <= 1


def test_circles_without_noise_lie_on_two_radii():
    x, y = make_circles(200, noise=0.0, factor=0.3, seed=0)
    radius = np.hypot(x[:, 0], x[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(radius[y == 1], 0.3, atol=1e-6)


def test_moons_without_noise_lie_on_two_half_circles():
    x, y = make_moons(200, noise=0.0, seed=0)
    upper, lower = x[y == 0].astype(np.float64), x[y == 1].astype(np.float64)
    upper_centre = np.array([-0.5, -0.25]) * MOON_RADIUS
    lower_centre = np.array([0.5, 0.25]) * MOON_RADIUS
    np.testing.assert_allclose(np.linalg.norm(upper - upper_centre, axis=1), MOON_RADIUS, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(lower - lower_centre, axis=1), MOON_RADIUS, atol=1e-6)
    assert np.all(upper[:, 1] >= upper_centre[1] - 1e-6)        # the upper arc bulges up,
    assert np.all(lower[:, 1] <= lower_centre[1] + 1e-6)        # the lower one down
    np.testing.assert_allclose(x.min(axis=0), [-1.2, -0.6], atol=0.05)
    np.testing.assert_allclose(x.max(axis=0), [1.2, 0.6], atol=0.05)


def test_gaussians_without_noise_sit_on_their_centres():
    x, y = make_gaussians(40, n_classes=4, noise=0.0, seed=0)
    centres = gaussian_centers(4)
    np.testing.assert_allclose(x, centres[y], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(centres, axis=1), 0.8)
    np.testing.assert_allclose(gaussian_centers(2), [[0.8 / np.sqrt(2)] * 2, [-0.8 / np.sqrt(2)] * 2], atol=1e-12)


def test_gaussian_spread_is_the_noise():
    x, y = make_gaussians(20000, n_classes=2, noise=0.2, seed=0)
    spread = (x - gaussian_centers(2)[y]).std(axis=0)
    np.testing.assert_allclose(spread, 0.2, rtol=0.05)


def test_xor_and_spiral_keep_their_behaviour():
    x, y = make_xor(n_samples=4)
    np.testing.assert_array_equal(x, [[-1, -1], [-1, 1], [1, -1], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    x, y = make_spiral(n_samples=300, n_classes=3, noise=0.0, seed=0)
    assert np.bincount(y).tolist() == [100, 100, 100]
    np.testing.assert_allclose(np.hypot(x[:, 0], x[:, 1]).max(), 1.0, atol=1e-6)


def test_plane_targets_follow_the_formula():
    x, y = make_regression_plane(100, noise=0.0, seed=0, weights=(2.0, -3.0))
    np.testing.assert_allclose(y[:, 0], 2.0 * x[:, 0] - 3.0 * x[:, 1], atol=1e-5)
    x, y = make_regression_plane(100, noise=0.0, seed=0)
    np.testing.assert_allclose(y[:, 0], 0.6 * x[:, 0] - 0.4 * x[:, 1], atol=1e-5)


def test_plane_noise_is_added_to_the_targets():
    x, y = make_regression_plane(20000, noise=0.1, seed=0)
    residual = y[:, 0] - (0.6 * x[:, 0] - 0.4 * x[:, 1])
    assert abs(residual.mean()) < 0.01
    np.testing.assert_allclose(residual.std(), 0.1, rtol=0.05)


def test_sine_targets_follow_the_formula():
    x, y = make_regression_sine(100, noise=0.0, seed=0, frequency=1.5)
    x64 = x.astype(np.float64)
    expected = np.sin(np.pi * 1.5 * x64[:, 0]) * np.cos(np.pi * 1.5 * x64[:, 1])
    np.testing.assert_allclose(y[:, 0], expected, atol=1e-5)


def test_make_toy_passes_options_and_defaults():
    x, y = make_toy("spiral", n_samples=50, seed=0, n_classes=5)
    assert x.shape == (50, 2) and set(y.tolist()) == {0, 1, 2, 3, 4}
    x, _ = make_toy("spiral", seed=0)                   # n_samples=None keeps the set's own default
    assert len(x) == 300
    x, y = make_toy("circles", n_samples=10, noise=0.0, seed=0, factor=0.2)
    np.testing.assert_allclose(np.hypot(x[y == 1, 0], x[y == 1, 1]), 0.2, atol=1e-6)
    x1, _ = make_toy("Moons", n_samples=10, seed=0)     # names are forgiving about case
    x2, _ = make_moons(10, seed=0)
    np.testing.assert_array_equal(x1, x2)


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="make_toy expected name to be one of 'xor', 'circles'.*got 'moon'"):
        make_toy("moon")
    with pytest.raises(TypeError, match="expected name to be a string"):
        make_toy(3)


def test_unknown_option_names_what_is_accepted():
    with pytest.raises(TypeError, match="unknown option.*factor; moons accepts: none"):
        make_toy("moons", factor=0.5)
    with pytest.raises(TypeError, match="circles accepts: factor"):
        make_toy("circles", n_classes=3)


@pytest.mark.parametrize(("call", "error", "pattern"), [
    (lambda: make_circles(100, factor=1.0), ValueError, r"factor in \(0, 1\)"),
    (lambda: make_circles(100, factor=0), ValueError, "inner radius"),
    (lambda: make_circles(100, noise=-0.1), ValueError, "noise"),
    (lambda: make_moons(1), ValueError, "n_samples"),
    (lambda: make_moons(10.0), TypeError, "n_samples to be an int"),
    (lambda: make_gaussians(100, n_classes=1), ValueError, "n_classes"),
    (lambda: make_gaussians(3, n_classes=4), ValueError, "at least one sample per class"),
    (lambda: make_regression_plane(10, weights=(1.0,)), ValueError, "two finite numbers"),
    (lambda: make_regression_plane(10, weights=("a", "b")), TypeError, "real numbers"),
    (lambda: make_regression_sine(10, frequency=0), ValueError, "frequency"),
    (lambda: make_spiral(10, n_classes="3"), TypeError, "n_classes to be an int"),
])
def test_bad_arguments_get_clear_errors(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
