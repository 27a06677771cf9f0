"""The draw lesson's logic: strokes -> picture -> 28×28 -> a trained network's reading, and which models qualify."""

import os

import numpy as np
import pytest
from PIL import Image

from learnscope.architectures import build_mlp
from learnscope.data.images import to_mnist_format
from learnscope.data.sources import DatasetUnavailable
from learnscope.layers import Conv2D, Dense, Softmax
from learnscope.lessons.drawing import (
    CANVAS_SIZE,
    PEN_WIDTH,
    QuickTraining,
    activation_pictures,
    check_digit_model,
    list_saved_models,
    load_digit_model,
    rasterize_strokes,
    read_digit,
    shown_layers,
    softmax,
    strokes_to_digit,
    train_quick_digit_model,
)
from learnscope.model import Sequential
from learnscope.model_io import save_model


def ellipse(cx=140, cy=140, rx=60, ry=90, points=40):
    angles = np.linspace(0, 2 * np.pi, points)
    return [[(cx + rx * np.sin(a), cy - ry * np.cos(a)) for a in angles]]


ZERO = ellipse()
ONE = [[(145, 40), (140, 140), (135, 240)]]
SEVEN = [[(70, 50), (210, 50), (120, 240)]]


@pytest.fixture(scope="module")
def quick(shared_data_dir):
    return train_quick_digit_model(shared_data_dir, seed=0)


# -- rasterize ---------------------------------------------------------------------------------------------------
def test_a_vertical_stroke_is_a_tall_narrow_blob_of_pen_width():
    picture = rasterize_strokes([[(140, 40), (140, 240)]])
    assert picture.shape == (CANVAS_SIZE, CANVAS_SIZE) and picture.dtype == np.float32
    assert picture.min() == 0.0 and picture.max() == 1.0
    rows, cols = np.nonzero(picture > 0.5)
    height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert 200 + PEN_WIDTH - 2 <= height <= 200 + PEN_WIDTH + 2      # round caps add half a pen at each end
    assert PEN_WIDTH - 2 <= width <= PEN_WIDTH + 2
    assert picture[140, 140] == 1.0 and picture[140, 100] == 0.0


def test_a_single_click_is_a_dot_and_no_strokes_is_blank():
    dot = rasterize_strokes([[(50, 60)]])
    rows, cols = np.nonzero(dot > 0.5)
    assert abs(rows.mean() - 60) < 1 and abs(cols.mean() - 50) < 1
    assert PEN_WIDTH - 2 <= rows.max() - rows.min() + 1 <= PEN_WIDTH + 2
    assert not rasterize_strokes([]).any()
    assert not strokes_to_digit([]).any() and strokes_to_digit([]).shape == (28, 28)


def test_bad_strokes_are_refused_with_a_message():
    with pytest.raises(ValueError, match="stroke 1 as a list of"):
        rasterize_strokes([[(1, 2)], [("a", None, 3)]])
    with pytest.raises(ValueError, match="finite"):
        rasterize_strokes([[(1, float("nan"))]])
    with pytest.raises(TypeError, match="list of strokes"):
        rasterize_strokes("1,2")


def test_the_drawing_becomes_mnist_style():
    digit = strokes_to_digit(ONE)
    assert digit.shape == (28, 28) and digit.dtype == np.float32 and digit.min() >= 0 and digit.max() <= 1
    rows, cols = np.nonzero(digit > 0.1)
    assert 19 <= rows.max() - rows.min() + 1 <= 21                  # the long side fits 20 pixels, as in MNIST
    assert cols.max() - cols.min() + 1 <= 6
    mass_row = (np.indices(digit.shape)[0] * digit).sum() / digit.sum()
    assert abs(mass_row - 13.5) <= 1                                # centre of mass in the middle


# -- reading ----------------------------------------------------------------------------------------------------
def test_read_digit_equals_predict_and_catches_every_layer(quick, mnist):
    model = quick.model
    picture = mnist.x_test[0, 0]
    reading = read_digit(model, picture)
    expected = softmax(model.predict(mnist.x_test[:1]))[0]
    np.testing.assert_allclose(reading.probabilities, expected, rtol=1e-5, atol=1e-7)
    assert reading.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert [a.index for a in reading.activations] == list(range(len(model.layers)))
    assert [a.name for a in reading.activations] == [type(layer).__name__ for layer in model.layers]
    assert reading.activations[2].values.shape == (128,)            # first Dense layer, batch axis removed
    assert not model._hooks["forward"]                              # the hook is gone again
    assert reading.predicted == mnist.y_test[0]


def test_read_digit_uses_a_final_softmax_layer_as_is():
    model = Sequential([Dense(784, 10), Softmax()], seed=0)
    with pytest.raises(ValueError, match="28×28"):
        read_digit(model, np.zeros((20, 20)))
    model = Sequential([*build_mlp((1, 28, 28), 10, hidden=(8,), seed=0).layers, Softmax()])
    reading = read_digit(model, np.ones((28, 28)) * 0.5)
    np.testing.assert_allclose(reading.probabilities, model.predict(np.full((1, 1, 28, 28), 0.5))[0], rtol=1e-6)


def test_quick_model_is_accurate_on_the_real_test_set(quick):
    assert quick.test_accuracy > 0.95
    print(f"quick model: {quick.test_accuracy:.2%} test accuracy in {quick.seconds:.1f} s")


def test_mnist_test_digits_read_right_through_the_drawing_path(quick, mnist):
    """Blow real test digits up to the pad's size, then prepare them again as the page does: still read right."""
    count = 300
    predicted = []
    for image in mnist.x_test[:count, 0]:
        big = Image.fromarray((image * 255).astype(np.uint8)).resize((CANVAS_SIZE, CANVAS_SIZE),
                                                                      Image.Resampling.BILINEAR)
        predicted.append(read_digit(quick.model, to_mnist_format(np.asarray(big, np.float32) / 255)).predicted)
    accuracy = np.mean(np.array(predicted) == mnist.y_test[:count])
    assert accuracy > 0.95, accuracy


@pytest.mark.parametrize(("strokes", "digit"), [(ZERO, 0), (ONE, 1), (SEVEN, 7)])
def test_drawn_strokes_are_read_as_the_digit(quick, strokes, digit):
    reading = read_digit(quick.model, strokes_to_digit(strokes))
    assert reading.predicted == digit, np.round(reading.probabilities, 2)


def test_activation_pictures_show_hidden_layers_and_output(quick):
    model = quick.model
    reading = read_digit(model, strokes_to_digit(ZERO))
    assert shown_layers(model) == [4, 7, 8]                         # after each ReLU, and the output
    pictures = activation_pictures(model, reading)
    assert [p.index for p in pictures] == [4, 7, 8]
    assert pictures[0].pixels.shape == (8, 16, 3) and pictures[0].pixels.dtype == np.uint8
    assert pictures[1].pixels.shape == (4, 16, 3)                   # 64 units: no empty cells
    assert pictures[2].pixels.shape == (1, 10, 3)
    relu = reading.activations[4].values
    silent, loudest = int(np.argmin(relu)), int(np.argmax(relu))
    grid = pictures[0].pixels.reshape(-1, 3)
    assert tuple(grid[silent]) == (255, 255, 255)                   # a silent ReLU unit is white
    assert tuple(grid[loudest]) == (245, 147, 34)                   # the most active one full orange
    assert "128 units" in pictures[0].title and "Output" in pictures[2].title
    assert all(p.caption for p in pictures)


def test_feature_maps_are_tiled():
    from learnscope.architectures import build_cnn

    model = build_cnn((1, 28, 28), 10, channels=(4,), dense=8, seed=0)
    reading = read_digit(model, strokes_to_digit(ONE))
    pictures = activation_pictures(model, reading)
    assert "4 feature maps of 24×24" in pictures[0].title
    assert pictures[0].pixels.shape == (49, 49, 3)                  # 2×2 tiles of 24 with a 1-pixel gap


# -- which models qualify ---------------------------------------------------------------------------------------
def test_load_digit_model_accepts_a_saved_mnist_model(tmp_path, quick):
    path = save_model(quick.model, tmp_path / "mine.safetensors",
                      metadata={"dataset": "mnist", "input_shape": [1, 28, 28], "class_names": list("0123456789")})
    model, metadata = load_digit_model(path)
    picture = strokes_to_digit(ZERO)
    np.testing.assert_allclose(read_digit(model, picture).probabilities,
                               read_digit(quick.model, picture).probabilities, rtol=1e-6)
    assert metadata["dataset"] == "mnist"


def test_a_file_that_is_not_a_model_gives_a_clear_error(tmp_path):
    path = tmp_path / "junk.safetensors"
    path.write_bytes(b"this is not a model at all")
    with pytest.raises(ValueError, match="not a readable model file"):
        load_digit_model(path)
    with pytest.raises(ValueError, match="no model file"):
        load_digit_model(tmp_path / "missing.safetensors")


def test_a_model_for_other_inputs_or_classes_is_refused(tmp_path):
    toy = build_mlp((2,), 2, hidden=(4,), seed=0)
    save_model(toy, tmp_path / "toy.safetensors", metadata={"dataset": "spiral", "input_shape": [2]})
    with pytest.raises(ValueError, match=r"inputs of shape \(2,\) \(spiral\), not on 28×28"):
        load_digit_model(tmp_path / "toy.safetensors")
    save_model(toy, tmp_path / "bare.safetensors")                  # no metadata: found out by trying it
    with pytest.raises(ValueError, match="does not take 28×28 pictures"):
        load_digit_model(tmp_path / "bare.safetensors")
    three = build_mlp((1, 28, 28), 3, hidden=(4,), seed=0)
    with pytest.raises(ValueError, match="gives \\(3,\\) outputs"):
        check_digit_model(three, "three.safetensors")
    fashion = build_mlp((1, 28, 28), 10, hidden=(4,), seed=0)
    with pytest.raises(ValueError, match="T-shirt/top"):
        check_digit_model(fashion, "fashion", ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                               "Shirt", "Sneaker", "Bag", "Ankle boot"])


def test_list_saved_models_newest_first(tmp_path):
    assert list_saved_models(tmp_path / "not-yet") == []
    older, newer = tmp_path / "a.safetensors", tmp_path / "b.safetensors"
    older.write_bytes(b"x")
    newer.write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not a model")
    os.utime(older, (1_000_000, 1_000_000))
    assert list_saved_models(tmp_path) == [newer, older]


# -- the background job -----------------------------------------------------------------------------------------
def test_quick_training_without_mnist_fails_with_the_fix(tmp_path):
    job = QuickTraining(data_dir=tmp_path, download=False)
    job.start()
    job.stop(wait=True)
    assert job.status == "failed" and job.result is None
    assert "learnscope data fetch mnist" in job.error


def test_quick_training_runs_in_a_thread_and_hands_over_the_model(shared_data_dir):
    handed = []
    job = QuickTraining(data_dir=shared_data_dir, on_done=handed.append)
    job.start()
    with pytest.raises(RuntimeError, match="already running"):
        job.start()
    assert job.wait(timeout=120)
    assert job.status == "done" and job.progress == pytest.approx(1.0)
    assert handed == [job.result] and job.result.test_accuracy > 0.95


def test_quick_training_can_be_stopped(shared_data_dir):
    handed = []
    job = QuickTraining(data_dir=shared_data_dir, on_done=handed.append)
    job.start()
    job.stop(wait=True)
    assert job.status == "stopped" and handed == [] and job.progress < 1.0


def test_quick_training_reports_missing_data_as_dataset_unavailable(tmp_path):
    with pytest.raises(DatasetUnavailable, match="learnscope data fetch mnist"):
        train_quick_digit_model(tmp_path)


def test_the_quick_cnn_is_a_convolutional_network_that_reads_digits(shared_data_dir):
    quick = train_quick_digit_model(shared_data_dir, seed=0, model="cnn")
    assert any(isinstance(layer, Conv2D) for layer in quick.model.layers)
    assert quick.test_accuracy > 0.97
