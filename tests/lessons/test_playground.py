"""The playground's logic: setup validation and its URL round trip, features, data, training (XOR with
1 hidden layer of 4 tanh), pictures, the diagram's numbers and geometry, weight edits, points and CSVs, and
the worker thread that owns a session."""

import itertools
import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learnscope.lab.components.network_diagram import diagram_layout, edge_width
from learnscope.lessons.pictures import NEGATIVE, POSITIVE
from learnscope.lessons.playground import (
    CLASS_COLORS,
    CONTROL_LABELS,
    FEATURE_LABELS,
    MAX_NEURONS,
    PLANE_LIMIT,
    PlaygroundSession,
    PlaygroundSetup,
    PlaygroundWorker,
    check_weight,
    class_color_hex,
    class_colors_from_probabilities,
    class_probabilities,
    feature_map,
    parse_field,
    pixel_to_plane,
    plane_grid,
    plane_to_pixel,
    point_colors,
    read_points_csv,
)

XOR_4_TANH = PlaygroundSetup(dataset="xor", hidden=(4,), activation="tanh")


# ---- setup and URL ----

def test_the_default_setup_is_valid_and_has_an_empty_query():
    assert PlaygroundSetup().validate() == PlaygroundSetup()
    assert PlaygroundSetup().to_query() == ""
    assert PlaygroundSetup.from_query("") == PlaygroundSetup()


def test_a_query_is_short_readable_and_round_trips():
    setup = PlaygroundSetup(dataset="spiral", n_classes=4, hidden=(8, 8), activation="relu", batch_size=None,
                            features=("x1", "x2", "sin1"), batch_norm=True, hidden_controls=("noise", "lr"))
    query = setup.to_query()
    assert query == "data=spiral&classes=4&features=x1,x2,sin1&hidden=8-8&act=relu&batch=full&bn=1&hide=noise,lr"
    assert PlaygroundSetup.from_query(query) == setup
    assert PlaygroundSetup.from_query("?" + query) == setup


setups = st.builds(
    PlaygroundSetup,
    dataset=st.sampled_from(["xor", "circles", "gaussians", "spiral", "moons"]),
    n_classes=st.integers(2, 5),
    noise=st.floats(0, 1),
    train_fraction=st.floats(0.1, 0.9),
    seed=st.integers(0, 2**31 - 1),
    features=st.lists(st.sampled_from(list(FEATURE_LABELS)), min_size=1, max_size=7, unique=True).map(tuple),
    hidden=st.lists(st.integers(1, MAX_NEURONS), max_size=6).map(tuple),
    activation=st.sampled_from(["tanh", "relu", "sigmoid", "linear"]),
    loss=st.sampled_from(["cross-entropy", "mse"]),
    optimizer=st.sampled_from(["sgd", "momentum", "rmsprop", "adam"]),
    lr=st.floats(1e-6, 10),
    batch_size=st.one_of(st.none(), st.integers(2, 1000)),
    l2=st.floats(0, 1),
    dropout=st.floats(0, 0.9),
    batch_norm=st.booleans(),
    stop_after=st.integers(0, 1_000_000),
    hidden_controls=st.lists(st.sampled_from(list(CONTROL_LABELS)), unique=True).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(setups)
def test_every_valid_setup_round_trips_exactly_through_its_query(setup):
    assert setup.problems() == {}
    assert PlaygroundSetup.from_query(setup.to_query()) == setup


@pytest.mark.parametrize(("query", "message"), [
    ("hidden=4-banana", "Hidden layers must be neuron counts separated by commas"),
    ("hidden=0", "1 to 12 neurons each, got 0"),
    ("hidden=1000000", "got 1000000"),
    ("lr=-1", "The learning rate must be a number from 1e-06 to 10, got -1.0"),
    ("lr=abc", "Learning rate must be a number, got 'abc'"),
    ("batch=0", "The batch size must be a whole number from 1"),
    ("data=mnist", "Data set must be one of xor, circles"),
    ("speed=9", "unknown setting 'speed'"),
    ("features=x1,x9", "Input features must be one or more of"),
    ("data=sine&loss=cross-entropy", "is regression"),
    ("bn=1&batch=1", "Batch norm needs at least 2 examples per batch"),
    ("hide=everything", "Hidden controls must be among"),
    ("dropout=0.95", "Dropout must be a number from 0 to 0.9"),
])
def test_a_bad_query_raises_a_message_naming_the_problem(query, message):
    with pytest.raises(ValueError, match=message):
        PlaygroundSetup.from_query(query)


def test_validate_lists_every_problem_with_a_fix():
    setup = PlaygroundSetup(lr=0.0, noise=-1.0, hidden=(0,), features=())
    problems = setup.problems()
    assert set(problems) == {"lr", "noise", "hidden", "features"}
    assert "At 0 nothing would ever change" in problems["lr"]
    assert all("Try" in text or "Tick" in text for text in problems.values())
    with pytest.raises(ValueError, match="Noise must be a number from 0 to 1, got -1.0"):
        setup.validate()


def test_parse_field_reads_what_a_learner_types():
    assert parse_field("lr", " 3e-2 ") == 0.03
    assert parse_field("lr", "0,5") == 0.5
    assert parse_field("batch_size", "full") is None
    assert parse_field("batch_size", "16") == 16
    assert parse_field("hidden", "4, 2") == (4, 2) == parse_field("hidden", "4-2")
    assert parse_field("hidden", "none") == ()
    for attribute, text in [("hidden", ""), ("batch_size", "1.5"), ("seed", "x"), ("noise", "nan"), ("bn", "x")]:
        with pytest.raises(ValueError, match="must be"):
            parse_field(attribute if attribute != "bn" else "batch_norm", text)


def test_switching_to_a_regression_set_brings_the_mse_loss_and_back():
    regression = PlaygroundSetup().with_dataset("sine")
    assert regression.loss == "mse" and regression.problems() == {}
    assert regression.with_dataset("moons").loss == "cross-entropy"


# ---- features, plane, colours ----

def test_feature_map_computes_each_feature_in_order():
    points = np.array([[0.5, -2.0], [1.0, 0.25]])
    values = feature_map(points, ("x1", "x2", "x1sq", "x2sq", "x1x2", "sin1", "sin2"))
    assert values.dtype == np.float32 and values.shape == (2, 7)
    expected = [[0.5, -2.0, 0.25, 4.0, -1.0, 1.0, 0.0], [1.0, 0.25, 1.0, 0.0625, 0.25, 0.0, math.sqrt(0.5)]]
    np.testing.assert_allclose(values, expected, atol=1e-6)
    np.testing.assert_allclose(feature_map(points, ("x2", "x1")), points[:, ::-1])
    with pytest.raises(ValueError, match="unknown feature"):
        feature_map(points, ("x3",))


def test_plane_grid_and_pixel_conversions_agree():
    grid = plane_grid(4)
    assert grid.shape == (16, 2)
    assert grid[0, 0] < 0 < grid[0, 1]                          # first pixel: left and top
    assert grid[-1, 0] > 0 > grid[-1, 1]                        # last pixel: right and bottom
    pixels = plane_to_pixel(grid, 4)
    np.testing.assert_allclose(pixels[:4], [[0.5, 0.5], [1.5, 0.5], [2.5, 0.5], [3.5, 0.5]])
    assert pixel_to_plane(0, 0, 300) == (-PLANE_LIMIT, PLANE_LIMIT)
    np.testing.assert_allclose(pixel_to_plane(*plane_to_pixel([[0.3, -1.2]], 300)[0], 300), (0.3, -1.2))


def test_class_colours_are_white_when_unsure_and_the_class_colour_when_sure():
    colors = class_colors_from_probabilities(np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0], [0.2, 0.8]]))
    np.testing.assert_array_equal(colors[0], [255, 255, 255])
    np.testing.assert_array_equal(colors[1], CLASS_COLORS[0])
    np.testing.assert_array_equal(colors[2], CLASS_COLORS[1])
    assert (colors[3] > CLASS_COLORS[1]).any() and (colors[3] < 255).any()      # paler orange
    probabilities = class_probabilities(np.array([[0.0, 2.0, -1.0]]))
    np.testing.assert_allclose(probabilities.sum(), 1.0)
    np.testing.assert_allclose(class_probabilities(np.array([[-1.0, -2.0]]), softmax=False), [[0.5, 0.5]])


# ---- the session ----

def test_xor_with_one_hidden_layer_of_four_tanh_reaches_95_percent_test_accuracy():
    session = PlaygroundSession(XOR_4_TANH)
    before = session.metrics()
    session.train_epochs(100)
    after = session.metrics()
    assert after.test_accuracy >= 0.95, after
    assert after.train_loss < before.train_loss / 3
    assert session.epoch == 100 and len(session.history.epoch) == 101
    assert session.steps == 100 * math.ceil(len(session.x_train) / 10)


@pytest.mark.parametrize("setup", [
    PlaygroundSetup(dataset="spiral", n_classes=5, hidden=(12,) * 6, activation="relu", optimizer="adam",
                    batch_norm=True, dropout=0.2, l2=0.001, batch_size=7, lr=0.01),
    PlaygroundSetup(dataset="sine", loss="mse", hidden=(8,), optimizer="rmsprop", lr=0.01, batch_size=None,
                    features=tuple(FEATURE_LABELS)),
    PlaygroundSetup(dataset="circles", loss="mse", hidden=(), optimizer="momentum", features=("x1sq", "x2sq")),
])
def test_every_part_of_a_setup_builds_and_trains(setup):
    session = PlaygroundSession(setup)
    session.train_epochs(3)
    metrics = session.metrics()
    assert math.isfinite(metrics.train_loss) and math.isfinite(metrics.test_loss)
    assert (metrics.test_accuracy is None) == setup.is_regression
    assert session.boundary(16).shape == (16, 16, 3)
    maps = session.neuron_maps(8)
    assert [m.shape for m in maps] == [(n, 8, 8) for n in setup.hidden]
    diagram = session.diagram()
    n_out = 1 if setup.is_regression else setup.effective_classes
    assert diagram["sizes"] == [len(setup.features), *setup.hidden, n_out]


def test_circles_with_squared_features_need_no_hidden_layer():
    session = PlaygroundSession(PlaygroundSetup(dataset="circles", noise=0.05, hidden=(), features=("x1sq", "x2sq"),
                                                optimizer="adam", lr=0.05))
    session.train_epochs(60)
    assert session.metrics().test_accuracy >= 0.95


def test_the_boundary_shows_the_class_the_network_picks():
    session = PlaygroundSession(XOR_4_TANH)
    session.train_epochs(100)
    picture = session.boundary(20).astype(int)
    blue, orange = CLASS_COLORS[0].astype(int), CLASS_COLORS[1].astype(int)
    top_left, top_right = picture[2, 2], picture[2, 17]          # x1 < 0 < x2: label 1; x1, x2 > 0: label 0
    assert np.abs(top_left - orange).sum() < np.abs(top_left - blue).sum()
    assert np.abs(top_right - blue).sum() < np.abs(top_right - orange).sum()


def test_set_weight_changes_the_output_and_the_diagram():
    session = PlaygroundSession(XOR_4_TANH)
    before = session.boundary(12)
    session.set_weight(0, 1, 2, 5.0)
    assert session.diagram()["weights"][0][1][2] == 5.0
    assert not np.array_equal(session.boundary(12), before)
    for bad in [(3, 0, 0, 1.0), (0, 2, 0, 1.0), (0, 0, 4, 1.0)]:
        with pytest.raises(ValueError, match="set_weight expected"):
            session.set_weight(*bad)
    with pytest.raises(ValueError, match="A weight must be a number from -100 to 100"):
        session.set_weight(0, 0, 0, float("inf"))
    assert check_weight(" -0,5 ") == -0.5
    with pytest.raises(ValueError, match="A weight must be a number, got 'x'"):
        check_weight("x")


def test_a_reset_gives_back_the_same_starting_weights():
    session = PlaygroundSession(XOR_4_TANH)
    start = session.diagram()
    session.train_epochs(5)
    assert session.diagram() != start
    session.reset()
    assert session.diagram() == start and session.epoch == 0


def test_add_point_adds_a_training_point_of_the_chosen_class():
    session = PlaygroundSession(XOR_4_TANH)
    n_train = len(session.x_train)
    session.add_point(0.5, -0.25, 1)
    assert len(session.x_train) == n_train + 1 and session.y_train[-1] == 1
    np.testing.assert_allclose(session.x_train[-1], [0.5, -0.25])
    session.train_epochs(1)                                         # it takes part in training
    for label in (2, -1, 0.5, True):
        with pytest.raises(ValueError, match="class must be a whole number from 0 to 1"):
            session.add_point(0.0, 0.0, label)
    regression = PlaygroundSession(PlaygroundSetup(dataset="plane", loss="mse"))
    regression.add_point(0.0, 0.0, -1.0)
    assert regression.y_train[-1, 0] == -1.0


def test_a_diverging_run_stops_with_a_message():
    session = PlaygroundSession(PlaygroundSetup(hidden=(12, 12), activation="relu", lr=10.0, loss="mse",
                                                optimizer="sgd", batch_size=None))
    session.set_weight(0, 0, 0, 100.0)
    session.train_epochs(200)
    assert session.diverged and "Lower the learning rate" in session.diverged
    assert math.isnan(session.step())


# ---- CSV points ----

def test_a_points_csv_is_scaled_onto_the_plane_and_replaces_the_data(tmp_path):
    path = tmp_path / "points.csv"
    rows = "\n".join(f"{100 + i},{-i * 3},{'yes' if i % 3 else 'no'}" for i in range(40))
    path.write_text("a,b,label\n" + rows + "\n")
    x, y, names = read_points_csv(path)
    assert names == ("no", "yes") and x.shape == (40, 2) and set(y) == {0, 1}
    assert np.abs(x).max() <= PLANE_LIMIT and x.min() < -1.5 and x.max() > 1.5
    session = PlaygroundSession(XOR_4_TANH)
    session.load_points_from_csv(path)
    assert len(session.x_train) + len(session.x_test) == 40 and session.class_names == ("no", "yes")


@pytest.mark.parametrize(("content", "message"), [
    (b"x1,x2,x3,label\n" + b"1,2,3,0\n1,2,3,1\n" * 6, "needs exactly 2"),
    (b"x1,x2,label\n" + b"1,oops,0\n" * 12, "expected a number, got 'oops'"),
    (b"x1,x2,label\n1,2,0\n", "at least 10"),
    (b"PK\x03\x04 not a csv at all", "Excel workbook"),
    (b"x1,x2,label\n" + b"".join(b"%d,%d,%d\n" % (i, i, i % 6) for i in range(60)), "colours at most 5"),
    (b"", "empty"),
])
def test_a_bad_points_csv_is_refused_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_points_csv(path)


# ---- the diagram's geometry ----

def test_diagram_layout_spreads_columns_and_centres_nodes():
    positions = diagram_layout([2, 4, 1], width=300, height=200, node=20)
    assert [len(column) for column in positions] == [2, 4, 1]
    xs = [column[0][0] for column in positions]
    assert xs[0] == 18 and xs[-1] == 282 and xs[1] == 150
    for column in positions:
        ys = [y for _, y in column]
        assert math.isclose((ys[0] + ys[-1]) / 2, 100)                 # centred vertically
        assert all(b - a == pytest.approx(27) for a, b in itertools.pairwise(ys))   # node + 35% gap


def test_edge_width_grows_with_the_weight_magnitude_and_is_capped():
    assert edge_width(0.0) == 0.5
    assert edge_width(-1.0) == edge_width(1.0) == 2.0
    assert edge_width(100.0) == 6.0 and edge_width(float("nan")) == 6.0


# ---- the worker thread ----

def wait_until(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_worker_trains_stops_after_n_epochs_and_applies_commands_between_steps():
    worker = PlaygroundWorker(XOR_4_TANH.replace(stop_after=50), boundary_resolution=20, map_resolution=8)
    try:
        first = worker.snapshot()
        assert first.epoch == 0 and first.boundary.startswith("data:image/png;base64,")
        assert len(first.neuron_maps) == 1 and len(first.neuron_maps[0]) == 4 and len(first.input_maps) == 2
        worker.send("play")
        wait_until(lambda: worker.snapshot().epoch == 50 and not worker.snapshot().playing)
        snapshot = worker.snapshot()
        assert "Stopped after 50 epochs" in snapshot.message
        assert snapshot.metrics.test_accuracy >= 0.95
        assert snapshot.curves["test_accuracy"][0][-1] == 50
        worker.send("set_weight", 0, 0, 0, 3.0)
        wait_until(lambda: worker.snapshot().diagram["weights"][0][0][0] == 3.0)
        worker.send("setup", snapshot.setup.replace(lr=0.1))              # live: no reset
        wait_until(lambda: worker.snapshot().setup.lr == 0.1)
        assert worker.snapshot().epoch == 50
        worker.send("setup", snapshot.setup.replace(hidden=(3, 3)))       # new network: starts over
        wait_until(lambda: worker.snapshot().diagram["sizes"] == [2, 3, 3, 2])
        assert worker.snapshot().epoch == 0
        worker.send("step")
        wait_until(lambda: worker.snapshot().steps == 1)
        worker.send("add_point", 0.0, 0.0, 7)
        wait_until(lambda: "class must be" in worker.snapshot().message)
    finally:
        worker.stop()
    assert not worker.running


def test_points_take_their_class_colour_or_their_value_on_the_diverging_scale():
    assert point_colors([0, 1, 0], regression=False) == [class_color_hex(0), class_color_hex(1), class_color_hex(0)]
    low, zero, half = (np.array([int(c[i:i + 2], 16) for i in (1, 3, 5)]) for c in
                       point_colors([-2.0, 0.0, 1.0], regression=True))
    # the largest |value| gets the full negative colour, 0 is white, half of it lies between white and orange
    np.testing.assert_array_equal(low, NEGATIVE)
    np.testing.assert_array_equal(zero, [255, 255, 255])
    assert np.all(half >= np.minimum(POSITIVE, 255)) and np.all(half <= 255) and (half != 255).any() \
        and (half != POSITIVE).any()
    assert point_colors([], regression=True) == []
