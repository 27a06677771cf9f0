"""The Draw page in-process (NiceGUI's simulated user): pointer events on the pad, the model picker, the quick
model button and bad model files, against the real page and a real quick MNIST model."""

import asyncio

import numpy as np
import pytest

from learnscope.architectures import build_mlp
from learnscope.lab.state import TrainedModel
from learnscope.lessons.drawing import DIGIT_CLASS_NAMES, train_quick_digit_model
from learnscope.model_io import save_model

ONE = [[(145, 40), (140, 140), (135, 240)]]
ZERO = [[(140 + 60 * np.sin(a), 140 - 90 * np.cos(a)) for a in np.linspace(0, 2 * np.pi, 40)]]


@pytest.fixture(scope="module")
def quick(shared_data_dir):
    return train_quick_digit_model(shared_data_dir, seed=0)


def element(user, marker):
    elements = user.find(marker=marker).elements
    assert len(elements) == 1, f"expected one element marked {marker!r}, found {len(elements)}"
    return next(iter(elements))


def draw(user, strokes):
    """Pointer events as the browser sends them: down, moves with the button held, up."""
    pad = user.find(marker="draw-pad")
    for stroke in strokes:
        for number, (x, y) in enumerate(stroke):
            kind = "pointerdown" if number == 0 else "pointermove"
            pad.trigger("mouse", {"mouse_event_type": kind, "image_x": x, "image_y": y, "button": 0, "buttons": 1})
        pad.trigger("mouse", {"mouse_event_type": "pointerup", "image_x": x, "image_y": y, "button": 0, "buttons": 0})


async def wait_for(condition, seconds=30.0):
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_without_a_model_the_page_says_how_to_get_one_and_still_draws(user, lab):
    await user.open("/draw")
    await user.should_see("Draw")
    await user.should_see("No model to read with yet")
    await user.should_see("Train a quick model")
    picture = element(user, "draw-input")
    blank = picture.source
    draw(user, ONE)
    await wait_for(lambda: picture.source != blank)                 # the 28×28 picture follows the drawing
    pad = element(user, "draw-pad")
    assert "<polyline" in pad.content and 'stroke-width="20"' in pad.content
    user.find(marker="draw-clear").click()
    await wait_for(lambda: picture.source == blank)
    assert pad.content == ""


async def test_a_published_model_reads_a_drawn_one_and_zero(user, lab, quick):
    lab.publish_model(TrainedModel(quick.model, "test model (97% test accuracy)", list(DIGIT_CLASS_NAMES), 0.97))
    await user.open("/draw")
    await user.should_see("Reading with: test model")
    assert element(user, "draw-model").value == "lab"
    draw(user, ONE)
    await user.should_see("It reads: 1", retries=40)
    chart = element(user, "draw-chart")
    bars = chart.options["series"][0]["data"]
    assert max(range(10), key=lambda k: bars[k]["value"]) == 1
    colours = [bar["itemStyle"]["color"] for bar in bars]
    others = colours[:1] + colours[2:]
    assert colours[1] not in others and len(set(others)) == 1          # the answer's bar stands out
    await user.should_see("Hidden layer 1 (ReLU, 128 units)")
    await user.should_see("Output layer: a score per digit")
    verdict = element(user, "draw-verdict")
    user.find(marker="draw-clear").click()
    await wait_for(lambda: verdict.text == "Draw a digit")
    draw(user, ZERO)
    await user.should_see("It reads: 0", retries=40)
    user.find(marker="draw-undo").click()                          # undo the only stroke: empty again
    await wait_for(lambda: verdict.text == "Draw a digit")


async def test_the_quick_model_button_trains_publishes_and_reads(user, lab, shared_data_dir, quick):
    lab.config.data_dir = shared_data_dir
    folder = lab.config.models_path()
    folder.mkdir(parents=True)
    save_model(quick.model, folder / "digits.safetensors",
               metadata={"dataset": "mnist", "input_shape": [1, 28, 28], "class_names": list(DIGIT_CLASS_NAMES)})
    await user.open("/draw")
    element(user, "draw-model").set_value("file:digits.safetensors")      # a file is in use ...
    await user.should_see("Reading with: digits.safetensors", retries=40)
    status = element(user, "draw-status")
    user.find(marker="draw-train").click()
    await wait_for(lambda: "Training a quick model on MNIST" in status.text)
    assert not element(user, "draw-train").enabled                 # one training at a time
    await wait_for(lambda: lab.trained_model is not None, seconds=120)
    assert "quick MLP, Draw page" in lab.trained_model.name and lab.trained_model.test_accuracy > 0.95
    await user.should_see("Reading with: quick MLP, Draw page", retries=40)   # ... and the model asked for takes over
    assert element(user, "draw-model").value == "lab"
    draw(user, ONE)
    await user.should_see("It reads: 1", retries=40)


async def test_quick_model_without_mnist_says_how_to_fetch_it(user, lab, tmp_path):
    lab.config.data_dir = tmp_path                                  # an empty folder: no MNIST here
    await user.open("/draw")
    user.find(marker="draw-train").click()
    await user.should_see("learnscope data fetch mnist", retries=100)
    await user.should_see("No quick model: see the message below.")
    blank = element(user, "draw-input").source
    draw(user, ONE)                                                 # the page still works
    await wait_for(lambda: element(user, "draw-input").source != blank)
    folder = lab.config.models_path()                               # a later problem replaces the message ...
    folder.mkdir(parents=True)
    (folder / "junk.safetensors").write_bytes(b"not a model")
    select = element(user, "draw-model")
    await wait_for(lambda: "file:junk.safetensors" in select.options)   # the list is refreshed every 2 s
    select.set_value("file:junk.safetensors")
    await user.should_see("not a readable model file")
    await asyncio.sleep(0.5)                                        # ... and the old one does not come back
    await user.should_see("not a readable model file")
    await user.should_not_see("learnscope data fetch mnist")


async def test_bad_model_files_give_an_inline_message_and_the_page_keeps_working(user, lab, quick):
    folder = lab.config.models_path()
    folder.mkdir(parents=True)
    (folder / "junk.safetensors").write_bytes(b"not a model, just text")
    save_model(build_mlp((2,), 2, hidden=(4,), seed=0), folder / "toy.safetensors",
               metadata={"dataset": "spiral", "input_shape": [2]})
    save_model(quick.model, folder / "digits.safetensors",
               metadata={"dataset": "mnist", "input_shape": [1, 28, 28], "class_names": list(DIGIT_CLASS_NAMES),
                         "test_accuracy": quick.test_accuracy})
    await user.open("/draw")
    select = element(user, "draw-model")
    assert set(select.options) == {"file:junk.safetensors", "file:toy.safetensors", "file:digits.safetensors"}

    select.set_value("file:junk.safetensors")
    await user.should_see("not a readable model file")
    await user.should_see("No model in use")
    select.set_value("file:toy.safetensors")
    await user.should_see("not on 28×28 pictures")
    draw(user, ONE)                                                 # drawing still works, with no model to read
    await user.should_see("No model to read with yet", retries=40)

    select.set_value("file:digits.safetensors")
    await user.should_see("Reading with: digits.safetensors", retries=40)
    await user.should_not_see("not on 28×28 pictures")
    await user.should_see("It reads: 1", retries=40)


async def test_a_lab_model_for_clothes_is_refused(user, lab):
    fashion = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    lab.publish_model(TrainedModel(build_mlp((1, 28, 28), 10, hidden=(8,), seed=0), "fashion MLP", fashion))
    await user.open("/draw")
    await user.should_see("not the digits 0–9")


async def test_the_seven_experiment_clears_the_pad_and_reads_the_outcome_from_the_drawing(user, lab, quick):
    lab.publish_model(TrainedModel(quick.model, "test model", list(DIGIT_CLASS_NAMES), 0.97))
    await user.open("/draw")
    await user.should_see("Reading with: test model")
    draw(user, ZERO)
    await user.should_see("It reads: 0", retries=40)
    user.find("Draw a 7").click()
    await user.should_see("Draw on the pad: the answer updates as you draw.", retries=20)   # a fresh pad
    assert element(user, "draw-verdict").text == "Draw a digit"
    draw(user, ONE)                                                 # not what was asked: the outcome says so
    await user.should_see("It reads 1 (", retries=40)
