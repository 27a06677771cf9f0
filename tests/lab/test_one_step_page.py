"""The One step page in-process: the five parts show the numbers of step_through on the same network and point,
bad input is answered inline, the MNIST source uses the lab's model, and the graph view matches a hand computation."""

import copy
import math
import re

import numpy as np
from nicegui import ui

from learnscope.data.mnist import load_mnist
from learnscope.lab.pages.one_step import GRAPH_X, GRAPH_Y, tiny_network
from learnscope.lab.state import TrainedModel
from learnscope.lessons.five_steps import format_number, loss_change_sentence
from learnscope.lessons.playground import PlaygroundSession, PlaygroundSetup, feature_map
from learnscope.lessons.step_through import step_through
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.optim import SGD
from learnscope.recipes import build_from_recipe, default_recipe, optimizer_from_recipe
from learnscope.train import fit

#: the page loads MNIST off the event loop, so the digit shows up to ~10 s after the page (0.1 s per retry)
MNIST_LOADING_RETRIES = 100


def _only(user, marker):
    [element] = user.find(marker=marker).elements
    return element


def _texts(user, kind=ui.label):
    return [element.text for element in user.find(kind).elements]


async def test_a_playground_step_shows_the_numbers_of_step_through(user):
    await user.open("/step")
    user.find(marker="take-step").click()
    await user.should_see("Step 1 of 5: The input goes in and the network predicts")
    session = PlaygroundSession(PlaygroundSetup(hidden=(3,)))
    expected = step_through(copy.deepcopy(session.model), SoftmaxCrossEntropy(), SGD(lr=0.1),
                            feature_map(session.x_train[:1], session.setup.features), session.y_train[:1])
    assert _only(user, "loss-change").text == loss_change_sentence(expected)
    for number, title in enumerate(["The error is measured", "The error flows backward", "Each weight is nudged",
                                    "Repeat — and the prediction improves"], start=2):
        user.find(marker="next").click()
        await user.should_see(f"Step {number} of 5: {title}")
    assert _only(user, "part-summary").text.startswith(loss_change_sentence(expected))
    user.find(marker="part-2").click()
    await user.should_see("the loss is −log(")
    assert format_number(expected.loss) in _only(user, "part-summary").text


async def test_the_plane_is_redrawn_by_the_stepped_network(user):
    await user.open("/step?lr=1")
    before = _only(user, "plane").source
    assert "at its starting weights" in _only(user, "plane-caption").text
    user.find(marker="lr").type("5")                                      # a big step: the picture must change
    user.find(marker="take-step").click()
    await user.should_see("Step 1 of 5")
    assert "after 1 step;" in _only(user, "plane-caption").text
    assert _only(user, "plane").source != before
    user.find(marker="start-over").click()
    await user.should_see("at its starting weights", retries=20)


async def test_bad_learning_rates_are_answered_inline_and_the_page_keeps_working(user):
    await user.open("/step")
    for bad, message in (("abc", "Learning rate expected a number such as 0.1, got 'abc'"),
                         ("-1", "Learning rate expected a number above 0 and at most 1000, got -1"),
                         ("1e9", "got 1e+09")):
        _only(user, "lr").value = bad
        user.find(marker="take-step").click()
        await user.should_see(message)
    _only(user, "lr").value = "0.1"
    user.find(marker="take-step").click()
    await user.should_see("Step 1 of 5")


async def test_a_huge_learning_rate_is_shown_to_overshoot(user):
    await user.open("/step")
    _only(user, "loss").value = "mse"
    _only(user, "lr").value = "500"
    user.find(marker="take-step").click()
    await user.should_see("went UP")


async def test_the_mnist_source_asks_for_a_model_then_steps_a_test_digit(user, lab, shared_data_dir):
    await user.open("/step")
    _only(user, "source").value = "mnist"
    await user.should_see("No digit model yet")
    user.find(marker="take-step").click()
    await user.should_see("There is no network to step yet")

    data = load_mnist(shared_data_dir, download=False, progress=False)
    recipe = default_recipe("mnist").with_options(epochs=1)
    model = build_from_recipe(recipe, data.input_shape, 10, x_train=data.x_train[:3000])
    fit(model, SoftmaxCrossEntropy(), optimizer_from_recipe(recipe, 24), data.x_train[:3000], data.y_train[:3000],
        epochs=1, batch_size=128, seed=0)
    lab.publish_model(TrainedModel(model, "test MLP", [str(d) for d in range(10)], None))
    await user.open("/step?source=mnist&digit=7")
    await user.should_see(f"Test image 7: a written {data.y_test[7]}", retries=MNIST_LOADING_RETRIES)
    user.find(marker="take-step").click()
    await user.should_see("Step 1 of 5")
    expected = step_through(copy.deepcopy(model), SoftmaxCrossEntropy(), SGD(lr=0.1), data.x_test[7:8],
                            data.y_test[7:8])
    assert _only(user, "loss-change").text == loss_change_sentence(expected)
    assert model is lab.trained_model.model and np.isfinite(model.predict(data.x_test[:1])).all()  # untouched
    diagram = _only(user, "diagram").content                               # each output neuron says its digit
    assert re.findall(r'class="output-name"[^>]*>([^<]+)<', diagram) == [str(digit) for digit in range(10)]
    assert ">layer 1<" in diagram and ">layer 3<" in diagram and ">layer 0<" not in diagram

    # step 3's gradient heatmaps: each on its own colour scale, or all on one (where the first layer's paler)
    user.find(marker="part-3").click()
    await user.should_see("Step 3 of 5")

    def first_layer_heatmap():
        [box] = user.find(marker="tensor:∂L/∂W¹").elements
        return next(child.source for child in box.descendants() if isinstance(child, ui.interactive_image))

    own_scale = first_layer_heatmap()
    _only(user, "shared-scale").value = True
    await user.should_see("Step 3 of 5")
    assert first_layer_heatmap() != own_scale

    # a link past the last test image steps the last one instead of failing
    await user.open("/step?source=mnist&digit=12000")
    await user.should_see(f"Test image 9999: a written {data.y_test[9999]}", retries=MNIST_LOADING_RETRIES)
    user.find(marker="take-step").click()
    await user.should_see("Step 1 of 5")


async def test_the_graph_view_matches_a_hand_computation(user):
    await user.open("/step")
    model = tiny_network(0)
    W1, b1 = model.layers[0].params["W"], model.layers[0].params["b"]
    W2, b2 = model.layers[2].params["W"], model.layers[2].params["b"]
    x = GRAPH_X
    z1 = [x[0] * W1[0, k] + x[1] * W1[1, k] + b1[k] for k in range(2)]
    a1 = [math.tanh(value) for value in z1]
    z2 = a1[0] * W2[0, 0] + a1[1] * W2[1, 0] + b2[0]
    loss = (z2 - GRAPH_Y) ** 2
    dz2 = 2 * (z2 - GRAPH_Y)
    dz1 = [W2[k, 0] * dz2 * (1 - a1[k] ** 2) for k in range(2)]
    [table] = [element for element in user.find(marker="graph-table").elements]
    html = table.content
    for node, value, grad in (("a[1]1", a1[0], W2[0, 0] * dz2), ("z[2]1", z2, dz2), ("L", loss, 1.0),
                              ("w[0]21", W1[1, 0], x[1] * dz1[0]), ("x1", x[0], W1[0, 0] * dz1[0] + W1[0, 1] * dz1[1])):
        row = html.split(f'data-node="{node}"')[1].split("</tr>")[0]
        assert f">{format_number(value)}</td>" in row and f">{format_number(grad)}</td>" in row, node
    _only(user, "graph-seed").value = -3
    user.find(marker="graph-draw").click()
    await user.should_see("Network seed expected a whole number from 0 to 10000, got -3")


async def test_a_playground_link_brings_its_network_and_a_bad_one_says_so(user):
    await user.open("/playground?data=circles&hidden=5")
    [link] = user.find(marker="step-link").elements
    assert link.props["href"] == "/step?setup=data%3Dcircles%26hidden%3D5"
    await user.open("/step?setup=data%3Dcircles%26hidden%3D5")
    await user.should_see("circles points and a 2-5-2 tanh network at its starting weights")
    await user.open("/step?setup=hidden%3Dlots")
    await user.should_see("Showing the default network instead.")
    user.find(marker="take-step").click()
    await user.should_see("Step 1 of 5")
    await user.open("/step?setup=data%3Dsine%26loss%3Dmse")     # regression: no class for the loss to blame
    await user.should_see("'sine' is a regression set (no classes)")
    user.find(marker="take-step").click()
    await user.should_see("Step 1 of 5")


async def test_a_drawn_digit_is_stepped_against_the_digit_the_learner_meant(user, lab, shared_data_dir):
    data = load_mnist(shared_data_dir, download=False, progress=False)
    recipe = default_recipe("mnist").with_options(epochs=1, hidden=(32,))
    model = build_from_recipe(recipe, data.input_shape, 10, x_train=data.x_train[:2000])
    fit(model, SoftmaxCrossEntropy(), optimizer_from_recipe(recipe, 16), data.x_train[:2000], data.y_train[:2000],
        epochs=1, batch_size=128, seed=0)
    lab.publish_model(TrainedModel(model, "test MLP", [str(d) for d in range(10)], None))
    lab.drawn_digit = data.x_test[3, 0]
    await user.open("/step?source=mnist")
    await user.should_see(marker="use-drawing", retries=MNIST_LOADING_RETRIES)
    user.find(marker="use-drawing").click()
    await user.should_see("Your drawing")
    _only(user, "meant").value = 4
    user.find(marker="take-step").click()
    await user.should_see("Step 1 of 5")
    expected = step_through(copy.deepcopy(model), SoftmaxCrossEntropy(), SGD(lr=0.1), data.x_test[3:4], np.array([4]))
    assert _only(user, "loss-change").text == loss_change_sentence(expected)


async def test_the_learning_rate_experiment_sets_up_steps_and_reports_from_the_step(user):
    await user.open("/step")
    user.find("Step with a learning rate of 50").click()
    await user.should_see("Yes. With a learning rate of 50", retries=20)      # read from the step just taken
    assert _only(user, "lr").value == "50" and _only(user, "loss").value == "mse"
    assert "went UP" in _only(user, "loss-change").text
    user.find(marker="lr").clear()
    user.find(marker="lr").type("0.1")
    user.find(marker="take-step").click()                                  # no longer the experiment's setup
    await user.should_see("The setup has changed since this experiment started")


async def test_a_saved_digit_model_is_stepped_when_the_lab_has_none_as_draw_reads_with_it(user, lab):
    from learnscope.architectures import build_mlp
    from learnscope.lessons.drawing import DIGIT_CLASS_NAMES
    from learnscope.model_io import save_model

    folder = lab.config.models_path()
    folder.mkdir(parents=True)
    save_model(build_mlp((1, 28, 28), 10, hidden=(16,), seed=0), folder / "mine.safetensors",
               metadata={"dataset": "mnist", "input_shape": [1, 28, 28], "class_names": list(DIGIT_CLASS_NAMES)})
    await user.open("/step?source=mnist")
    await user.should_see("Model: saved file mine.safetensors", retries=MNIST_LOADING_RETRIES)
    user.find(marker="take-step").click()
    await user.should_see("Step 1 of 5")
    await user.open("/draw")                                               # the Draw page reads with the same file
    await user.should_see("Reading with: mine.safetensors", retries=40)
