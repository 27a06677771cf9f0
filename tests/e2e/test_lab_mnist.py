"""The MNIST page in Chromium against a real `learnscope lab` server: one click trains an MLP on the shared MNIST
to ≥ 97% test accuracy in one epoch; the confusion matrix and the mistakes gallery the page shows are evaluate()
of the saved model; updates reach the browser quickly; bad input is answered inline; the page fits 1280×800."""

import statistics

import numpy as np
import pytest

from learnscope.data.mnist import load_mnist
from learnscope.lessons.mnist_lab import confident_mistakes, softmax_confidence
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.train import evaluate

TRAINING_TIMEOUT_MS = 180_000

#: Records, for every change of the snapshot-time element, how long after the server stamped it the browser saw it
WATCH_LATENCY = """
() => {
    window.__latencies = [];
    const stamp = document.querySelector('.snapshot-time');
    new MutationObserver(() => {
        const wall = Number(stamp.getAttribute('data-wall-ms'));
        if (wall) window.__latencies.push(Date.now() - wall);
    }).observe(stamp, {attributes: true, attributeFilter: ['data-wall-ms']});
}
"""


def test_bad_input_is_answered_inline_and_nothing_starts(lab_page):
    page = lab_page.open("/mnist")
    page.get_by_label("Learning rate").fill("-3")
    page.get_by_label("Hidden layers").fill("1000000")
    page.get_by_text("Learning rate expected a number more than 0").wait_for()
    page.get_by_text("Hidden layers expected 1 to 4096 neurons per layer, got 1,000,000").wait_for()
    page.get_by_role("button", name="Start").click()
    page.get_by_text("Fix the fields marked in red").wait_for()
    assert page.locator(".run-status").inner_text() == "No training yet: press Start."
    page.get_by_label("Learning rate").fill("0.3")
    page.get_by_label("Hidden layers").fill("256, 256")
    page.locator(".q-field__bottom", has_text="Learning rate expected").wait_for(state="detached")
    page.locator(".q-field__bottom", has_text="Hidden layers expected").wait_for(state="detached")


def test_one_click_trains_mnist_to_97_percent_and_the_page_shows_evaluate(lab_page, shared_data_dir):
    page = lab_page.open("/mnist")
    page.get_by_text("MNIST from folder").wait_for()
    assert lab_page.horizontal_overflow() <= 0
    lab_page.screenshot("mnist-start", full_page=False)
    page.evaluate(WATCH_LATENCY)
    page.get_by_role("button", name="Start").click()
    page.get_by_text("Running: epoch 1 of 1").wait_for(timeout=60_000)
    lab_page.screenshot("mnist-training", full_page=False)
    page.locator(".run-status", has_text="Finished").wait_for(timeout=TRAINING_TIMEOUT_MS)
    message = page.locator(".run-message").inner_text()
    accuracy = float(message.split("Test accuracy ")[1].rstrip("%.")) / 100
    assert accuracy >= 0.97, message

    latencies = page.evaluate("window.__latencies")
    assert len(latencies) >= 5
    print(f"\nUI latency over {len(latencies)} snapshots: median {statistics.median(latencies):.0f} ms, "
          f"max {max(latencies)} ms")
    assert statistics.median(latencies) < 200

    page.get_by_role("button", name="Save model").click()
    saved = page.locator(".run-saved", has_text="Saved to").inner_text().removeprefix("Saved to ").strip()
    model = Sequential.load(saved)
    data = load_mnist(shared_data_dir, download=False, progress=False)
    result = evaluate(model, SoftmaxCrossEntropy(), data.x_test, data.y_test)
    assert result.accuracy == pytest.approx(accuracy, abs=5e-5)     # the page rounds to 0.01%

    cells = page.locator(".confusion-cell")
    assert cells.count() == 100
    shown = np.zeros((10, 10), dtype=np.int64)
    for cell in cells.all():
        shown[int(cell.get_attribute("data-true")), int(cell.get_attribute("data-predicted"))] = int(cell.inner_text())
    assert (shown == result.confusion).all()

    _, confidence = softmax_confidence(model.predict(data.x_test))
    expected = confident_mistakes(data.y_test, result.predictions, confidence, limit=40)
    captions = page.locator(".mistakes-gallery .gallery-item").all_inner_texts()
    assert captions == [f"{data.y_test[i]} → {result.predictions[i]} ({confidence[i]:.0%})" for i in expected]

    off_diagonal = result.confusion - np.diag(np.diag(result.confusion))
    true_class, predicted_class = np.unravel_index(np.argmax(off_diagonal), (10, 10))
    count = int(result.confusion[true_class, predicted_class])
    page.locator(f'.confusion-cell[data-true="{true_class}"][data-predicted="{predicted_class}"]').click()
    page.get_by_text(f"Written {true_class}, read as {predicted_class}: {count} test images").wait_for()
    assert page.locator(".cell-gallery .gallery-item").count() == min(count, 40)

    assert lab_page.horizontal_overflow() <= 0
    lab_page.screenshot("mnist-finished", full_page=True)
    lab_page.screenshot("mnist-finished-viewport", full_page=False)
