"""The loss landscape (Li et al. 2018): filter-normalised directions, a centre that is the model's own loss, and
weights left exactly as they were."""

import numpy as np
import pytest

from learnscope.architectures import build_cnn, build_mlp
from learnscope.explain import Landscape, describe_landscape, filter_normalized_direction, loss_landscape
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.optim import Adam
from learnscope.train.loop import fit


def small_cnn():
    return build_cnn((1, 8, 8), 3, channels=(4,), kernel_size=3, dense=6, batch_norm=True, seed=0)


def test_each_filter_and_each_unit_of_the_direction_has_its_weights_norm_and_the_rest_is_zero():
    model = small_cnn()
    direction = filter_normalized_direction(model, seed=3)
    checked = 0
    for name, param, _ in model.named_params():
        if name.endswith(".W"):
            axes = (1, 2, 3) if param.ndim == 4 else (0,)        # a conv filter; a Dense unit's column
            np.testing.assert_allclose(np.sqrt((direction[name] ** 2).sum(axis=axes)),
                                       np.sqrt((param.astype(np.float64) ** 2).sum(axis=axes)), rtol=1e-10)
            assert not np.allclose(direction[name], param)         # a new direction, not the weights themselves
            checked += 1
        else:                                                      # biases, batch norm's gamma and beta
            assert not direction[name].any(), name
    assert checked == 3                                            # the conv and both Dense layers
    assert any(name.endswith((".gamma", ".beta")) for name in direction)


def test_the_centre_is_the_models_loss_on_the_examples_and_the_weights_come_back_exactly():
    model = small_cnn()
    x = np.random.default_rng(0).random((40, 1, 8, 8)).astype(np.float32)
    y = np.arange(40) % 3
    before = {name: param.copy() for name, param, _ in model.named_params()}
    loss = SoftmaxCrossEntropy()
    landscape = loss_landscape(model, loss, x, y, steps=5)
    assert landscape.surface.shape == (5, 5) and landscape.line.shape == (5,)
    assert landscape.center == pytest.approx(loss.forward(model.predict(x), y), rel=1e-6)
    for name, param, _ in model.named_params():
        np.testing.assert_array_equal(param, before[name])


def test_the_weights_come_back_even_when_the_walk_is_interrupted():
    model = build_mlp((4,), 2, hidden=(5,), seed=1)
    before = {name: param.copy() for name, param, _ in model.named_params()}

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        loss_landscape(model, SoftmaxCrossEntropy(), np.ones((3, 4)), np.array([0, 1, 0]), steps=3, progress=stop)
    for name, param, _ in model.named_params():
        np.testing.assert_array_equal(param, before[name])


def test_a_trained_model_sits_in_a_valley_and_a_zero_direction_sees_no_change():
    rng = np.random.default_rng(0)                   # overlapping classes: the loss has a real minimum
    x = np.vstack([rng.normal(-0.5, 1, (100, 2)), rng.normal(0.5, 1, (100, 2))])
    y = np.repeat([0, 1], 100)
    model, loss = build_mlp((2,), 2, hidden=(8,), seed=0), SoftmaxCrossEntropy()
    fit(model, loss, Adam(0.01), x, y, epochs=300, batch_size=200, seed=0)
    landscape = loss_landscape(model, loss, x, y, steps=7, span=1.0, seed=4)
    assert landscape.center <= landscape.surface.min() + 1e-9       # trained weights: the lowest point of the slice
    assert landscape.surface[0, 0] > 2 * landscape.center
    progress = []
    zero = {name: np.zeros(param.shape) for name, param, _ in model.named_params()}
    flat = loss_landscape(model, loss, x, y, directions=(zero, zero), steps=3, progress=lambda d, t: progress.append(d))
    np.testing.assert_allclose(flat.surface, landscape.center, rtol=1e-6)
    assert progress == [1, 2, 3]


@pytest.mark.parametrize("kwargs, text", [
    ({"steps": 2}, "steps"),
    ({"span": 0}, "span"),
    ({"directions": "random"}, "directions='filter'"),
    ({"directions": ({}, {})}, "shape"),
    ({"directions": 3}, "pair"),
])
def test_bad_landscape_arguments_say_what_to_pass(kwargs, text):
    model = build_mlp((4,), 2, hidden=(3,), seed=0)
    with pytest.raises(ValueError) as info:
        loss_landscape(model, SoftmaxCrossEntropy(), np.ones((2, 4)), np.array([0, 1]), **kwargs)
    assert text in str(info.value)


def test_the_description_reads_the_centre_and_the_average_rise_half_and_one_norm_away():
    coordinates = np.linspace(-1, 1, 5)
    surface = np.array([[9, 9, 4, 9, 9],
                        [9, 9, 2, 9, 9],
                        [5, 3, 1, 2, 6],
                        [9, 9, 3, 9, 9],
                        [9, 9, 8, 9, 9]], dtype=float)
    text = describe_landscape(Landscape(coordinates, surface, ({}, {})))
    assert "loss is 1.000, the lowest point" in text
    assert "rises to 2.500 on average" in text and "a whole one away to 5.750" in text     # (3+2+2+3)/4, (5+6+4+8)/4
    surface[0, 0] = 0.5
    assert "not the lowest point of the slice (that is 0.500)" in describe_landscape(
        Landscape(coordinates, surface, ({}, {})))


def test_the_trajectory_plane_recovers_a_path_that_lies_in_a_plane():
    from learnscope.explain import trajectory_plane

    rng = np.random.default_rng(0)
    u, v = np.linalg.qr(rng.standard_normal((7, 2)))[0].T             # two orthonormal directions in 7 numbers
    final = {"0.dense.W": rng.standard_normal((3, 2)), "0.dense.b": rng.standard_normal(1)}
    flat_end = np.concatenate([final["0.dense.W"].reshape(-1), final["0.dense.b"]])
    steps = [(3.0 * np.cos(t), 1.0 * np.sin(t)) for t in np.linspace(0, 2.5, 12)]
    snapshots = []
    for a, b in steps:
        flat = flat_end + a * u + b * v
        snapshots.append({"0.dense.W": flat[:6].reshape(3, 2), "0.dense.b": flat[6:]})
    plane = trajectory_plane(snapshots, final)
    assert sum(plane.explained) == pytest.approx(1.0) and plane.explained[0] > plane.explained[1]
    for direction in plane.directions:                                  # each lies in the plane of u and v
        flat = np.concatenate([direction["0.dense.W"].reshape(-1), direction["0.dense.b"]])
        assert np.linalg.norm(flat) == pytest.approx(1.0)
        assert np.dot(flat, u) ** 2 + np.dot(flat, v) ** 2 == pytest.approx(1.0)
    np.testing.assert_allclose(np.linalg.norm(plane.path, axis=1), [np.hypot(a, b) for a, b in steps], rtol=1e-10)
    with pytest.raises(ValueError, match="at least 3 snapshots"):
        trajectory_plane(snapshots[:2], final)


def test_weight_snapshots_start_at_the_first_weights_and_follow_every_few_steps():
    from learnscope.explain import WeightSnapshots

    model = build_mlp((4,), 2, hidden=(3,), seed=0)
    first = {name: param.copy() for name, param, _ in model.named_params()}
    x = np.random.default_rng(0).random((40, 4))
    snapshots = WeightSnapshots(every=3)
    fit(model, SoftmaxCrossEntropy(), Adam(0.05), x, np.arange(40) % 2, epochs=2, batch_size=4, seed=0,
        callbacks=[snapshots])
    assert len(snapshots.snapshots) == 1 + 20 // 3
    for name, value in first.items():
        np.testing.assert_array_equal(snapshots.snapshots[0][name], value)
    assert not np.array_equal(snapshots.snapshots[-1]["2.dense.W"], first["2.dense.W"])


def test_a_quick_mnist_run_draws_its_path_on_the_plane_it_moved_in(shared_data_dir):
    from learnscope.data.dataset import Dataset
    from learnscope.data.mnist import load_mnist
    from learnscope.explain.landscape import describe_trajectory, training_path_landscape
    from learnscope.recipes import default_recipe

    mnist = load_mnist(shared_data_dir, download=False, progress=False)
    data = Dataset("mnist", mnist.x_train[:3000], mnist.y_train[:3000], mnist.x_test[:300], mnist.y_test[:300],
                   mnist.class_names, mnist.source)
    path = training_path_landscape(data, default_recipe("mnist").with_options(hidden=(16,), epochs=2), every=4,
                                   examples=300, steps=5)
    plane, landscape = path.plane, path.landscape
    assert len(plane.path) == 1 + (2 * 24) // 4                       # 24 steps an epoch at batch 128
    assert 0.5 < sum(plane.explained) <= 1.0
    assert np.abs(plane.path).max() <= landscape.coordinates[-1]      # the drawn window holds the whole path
    assert landscape.center < landscape.surface[0, 0]
    distances = np.hypot(*plane.path.T)
    text = describe_trajectory(plane)
    assert f"{plane.explained[0]:.0%} along the first direction" in text
    assert f"started {distances[0]:.3g} from where it ended" in text
    assert f"covered {1 - distances[len(distances) // 4] / distances[0]:.0%}" in text
