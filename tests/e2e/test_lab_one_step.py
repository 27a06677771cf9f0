"""The One step page in Chromium: click a playground point and walk the five steps; step an MNIST mistake,
opened from the MNIST page's gallery, with the model trained there; the numbers shown are step_through's; the
graph view matches a hand computation; every step is screenshotted (test-artifacts/lab-step-*.png)."""

import copy
import math

import numpy as np

from learnscope.data.mnist import load_mnist
from learnscope.lab.pages.one_step import GRAPH_X, GRAPH_Y, PLANE_SIZE, tiny_network
from learnscope.lessons.five_steps import format_number, loss_change_sentence
from learnscope.lessons.playground import PlaygroundSession, PlaygroundSetup, feature_map, plane_to_pixel
from learnscope.lessons.step_through import step_through
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import SGD

TITLES = ["The input goes in and the network predicts", "The error is measured", "The error flows backward",
          "Each weight is nudged", "Repeat — and the prediction improves"]


def walk_five_steps(lab_page, page, name: str) -> None:
    for number, title in enumerate(TITLES, start=1):
        if number > 1:
            page.locator(".q-btn", has_text="Next").click()
        page.get_by_text(f"Step {number} of 5: {title}").wait_for()
        page.locator("math").first.wait_for()                       # the formula is rendered MathML
        assert page.locator("math").first.bounding_box()["height"] > 10
        assert lab_page.horizontal_overflow() <= 0
        page.mouse.move(0, 0)                                       # no tooltip over the picture
        page.evaluate("window.scrollTo(0, 0)")                      # else the fixed header lands mid-picture
        lab_page.screenshot(f"step-{name}-{number}", full_page=True)


def test_a_clicked_playground_point_walks_the_five_steps_with_step_throughs_numbers(lab_page):
    page = lab_page.open("/step")
    session = PlaygroundSession(PlaygroundSetup(hidden=(3,)))
    index = 7
    x, y = plane_to_pixel(session.x_train[index:index + 1], PLANE_SIZE)[0]
    plane_box = page.locator("img").first.bounding_box()       # the plane: the page's first picture
    scale = plane_box["width"] / PLANE_SIZE
    page.mouse.click(plane_box["x"] + x * scale, plane_box["y"] + y * scale)
    x1, x2 = session.x_train[index]
    page.get_by_text(f"Point ({x1:.2f}, {x2:.2f}), class {int(session.y_train[index])}").wait_for()
    expected = step_through(copy.deepcopy(session.model), SoftmaxCrossEntropy(), SGD(lr=0.1),
                            feature_map(session.x_train[index:index + 1], session.setup.features),
                            session.y_train[index:index + 1])
    page.get_by_text(loss_change_sentence(expected)).first.wait_for()
    # step 1's tables hold the engine's forward numbers
    tables = page.locator(".tensor-table").all_inner_texts()
    for record in expected.layers:
        assert any(all(format_number(v) in table for v in record.output.reshape(-1)) for table in tables), record.name
    walk_five_steps(lab_page, page, "playground")


def test_an_mnist_digit_steps_with_the_model_trained_on_the_mnist_page(lab_page, shared_data_dir):
    page = lab_page.open("/mnist")
    page.get_by_label("Training images").fill("6000")
    page.get_by_role("button", name="Start").click()
    page.locator(".run-status", has_text="Finished").wait_for(timeout=180_000)
    page.get_by_role("button", name="Save model").click()
    saved = page.locator(".run-saved", has_text="Saved to").inner_text().removeprefix("Saved to ").strip()
    model = Sequential.load(saved)
    data = load_mnist(shared_data_dir, download=False, progress=False)

    # a mistake from the gallery opens in One step
    link = page.locator(".mistakes-gallery .gallery-item a").first
    index = int(link.get_attribute("href").split("digit=")[1])
    assert model.predict(data.x_test[index:index + 1]).argmax() != data.y_test[index]     # really a mistake
    link.click()
    page.get_by_text(f"Test image {index}: a written {data.y_test[index]}").wait_for()
    page.get_by_role("button", name="Take a step").click()
    expected = step_through(model, SoftmaxCrossEntropy(), SGD(lr=0.1), data.x_test[index:index + 1],
                            data.y_test[index:index + 1])
    page.get_by_text(loss_change_sentence(expected)).first.wait_for()
    assert page.locator(".heatmap").count() >= 1                 # the 784 inputs are a heatmap, not 784 labels
    walk_five_steps(lab_page, page, "mnist")
    page.locator(".q-btn", has_text="3").first.click()
    page.get_by_text("Step 3 of 5").wait_for()
    heatmap = page.locator(".heatmap").first
    box = heatmap.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.get_by_text("row ").first.wait_for()                    # hover reads a number


def test_the_graph_view_shows_the_hand_computed_numbers(lab_page):
    page = lab_page.open("/step")
    page.get_by_role("tab", name="Computational graph").click()
    page.locator(".graph-table").wait_for()
    model = tiny_network(0)
    W1, b1 = model.layers[0].params["W"], model.layers[0].params["b"]
    W2, b2 = model.layers[2].params["W"], model.layers[2].params["b"]
    z1 = [GRAPH_X[0] * W1[0, k] + GRAPH_X[1] * W1[1, k] + b1[k] for k in range(2)]
    a1 = [math.tanh(value) for value in z1]
    z2 = a1[0] * W2[0, 0] + a1[1] * W2[1, 0] + b2[0]
    dz2 = 2 * (z2 - GRAPH_Y)
    dz1 = [W2[k, 0] * dz2 * (1 - a1[k] ** 2) for k in range(2)]
    expected = {"z[0]1": (z1[0], dz1[0]), "a[1]2": (a1[1], W2[1, 0] * dz2), "z[2]1": (z2, dz2),
                "L": ((z2 - GRAPH_Y) ** 2, 1.0), "w[2]11": (W2[0, 0], a1[0] * dz2), "b[0]2": (b1[1], dz1[1])}
    for node, (value, grad) in expected.items():
        cells = page.locator(f'.graph-table tr[data-node="{node}"] td').all_inner_texts()
        assert cells[2] == format_number(value) and cells[3] == format_number(grad), (node, cells)
    assert page.locator(".graph-view .graph-node").count() == len(page.locator(".graph-table tr[data-node]").all())
    assert np.isfinite(dz2)
    lab_page.screenshot("step-graph", full_page=True)
