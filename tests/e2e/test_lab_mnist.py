"""The MNIST page in Chromium against a real `learnscope lab` server: one click (the CLI's recipe, 2 epochs) trains
an MLP on the shared MNIST to ≥ 98% test accuracy; the confusion matrix and the mistakes gallery the page shows are
evaluate() of the saved model; updates reach the browser quickly; bad input is answered inline; the page fits
1280×800."""

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
    page.get_by_role("textbox", name="Learning rate").fill("-3")
    page.get_by_role("textbox", name="Hidden layers").fill("1000000")
    page.get_by_text("Learning rate expected a number more than 0").wait_for()
    page.get_by_text("Hidden layers expected 1 to 4096 neurons per layer, got 1,000,000").wait_for()
    page.get_by_role("button", name="Start").click()
    page.get_by_text("Fix the fields marked in red").wait_for()
    assert page.locator(".run-status").inner_text() == "No training yet: press Start."
    page.get_by_role("textbox", name="Learning rate").fill("0.3")
    page.get_by_role("textbox", name="Hidden layers").fill("256, 256")
    page.locator(".q-field__bottom", has_text="Learning rate expected").wait_for(state="detached")
    page.locator(".q-field__bottom", has_text="Hidden layers expected").wait_for(state="detached")


def test_one_click_trains_mnist_to_98_percent_and_the_page_shows_evaluate(lab_page, shared_data_dir):
    page = lab_page.open("/mnist")
    page.get_by_text("MNIST from folder").wait_for()
    assert lab_page.horizontal_overflow() <= 0
    weights = page.locator("img[alt='first-layer weights']")
    assert not weights.is_visible()                                  # no picture yet: no broken-image icon
    lab_page.screenshot("mnist-start", full_page=False)
    page.evaluate(WATCH_LATENCY)
    page.get_by_role("button", name="Start").click()
    page.get_by_text("Running: epoch 1 of 2").wait_for(timeout=60_000)
    lab_page.screenshot("mnist-training", full_page=False)
    page.locator(".run-status", has_text="Finished").wait_for(timeout=TRAINING_TIMEOUT_MS)
    assert weights.is_visible()
    message = page.locator(".run-message").inner_text()
    accuracy = float(message.split("Test accuracy ")[1].rstrip("%.")) / 100
    assert accuracy >= 0.98, message

    latencies = page.evaluate("window.__latencies")
    assert len(latencies) >= 5

    # the live charts (canvases of our own): their lines are the run's, drawn, and readable under the pointer
    charts = lab_page.live_charts()
    assert [chart["title"] for chart in charts] == ["Loss", "Accuracy", "Gradient flow", "Update ratio",
                                                    "A recorded run"]
    charts = charts[:4]                                  # the live ones (the last shows a run chosen from the store)
    accuracy_lines = {line["name"]: line for line in charts[1]["series"]}
    assert list(accuracy_lines) == ["train batch", "test set"]
    assert accuracy_lines["test set"]["ys"][-1] == pytest.approx(accuracy, abs=5e-5)   # the final evaluation
    steps = 469                          # 60,000 images in batches of 128: evaluated every 117 steps and at epoch ends
    assert accuracy_lines["test set"]["xs"] == pytest.approx(sorted([117 * k / steps for k in range(1, 9)] + [1, 2]))
    assert [line["name"] for line in charts[2]["series"]] == ["layer 1", "layer 2", "layer 3 (output)"]
    assert charts[3]["series"][-1]["name"] == "healthy ≈ 1e-3" and charts[3]["series"][-1]["dashed"]
    for chart in charts:
        assert chart["inked"] > 200, f"{chart['title']}: its lines are not drawn"
    accuracy_chart = page.locator(".live-chart").nth(1)
    accuracy_chart.scroll_into_view_if_needed()
    box = accuracy_chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    readout = accuracy_chart.locator(".live-chart-readout")
    value, x = readout.inner_text().split("test set: ")[1].split(" at ")           # the test point nearest the pointer
    test_line = accuracy_lines["test set"]
    assert (float(x), float(value)) in {(float(f"{x:.4g}"), float(f"{y:.4g}")) for x, y in zip(test_line["xs"],
                                                                                               test_line["ys"])}
    assert abs(float(x) - 1.0) < 0.3                                                # near the middle
    page.mouse.move(0, 0)
    assert readout.inner_text() == ""
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


#: Lines a chart may be given that have no nice axis: flat to float precision, gaps, one point, ≤ 0 on a log scale
AWKWARD_LINES = [
    [{"name": "flat", "color": "#1f77b4", "dashed": False, "xs": [0, 1, 2],
      "ys": [2.302585092994046, 2.3025850929940463, 2.302585092994046]}],
    [{"name": "gaps", "color": "#1f77b4", "dashed": False, "xs": [0, 1, 2, 3, 4], "ys": [1, None, 3, None, 5]}],
    [{"name": "one point", "color": "#1f77b4", "dashed": False, "xs": [7], "ys": [0.5]}],
    [{"name": "tiny", "color": "#1f77b4", "dashed": False, "xs": [1e-12, 2e-12], "ys": [1e-300, 2e-300]}],
    [],
]


def test_live_charts_draw_awkward_lines_without_hanging(lab_page):
    page = lab_page.open("/mnist")
    for lines in AWKWARD_LINES:
        for index in (0, 2):                             # a linear chart (loss) and a log one (gradient flow)
            drawn = page.evaluate("""([index, lines]) => {
                const element = document.querySelectorAll('.live-chart')[index];
                getElement(element.id.slice(1)).show(lines);
                const canvas = element.querySelector('canvas');
                const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
                let blue = 0;
                for (let i = 0; i < pixels.length; i += 4) {
                    if (Math.abs(pixels[i] - 0x1f) + Math.abs(pixels[i + 1] - 0x77) + Math.abs(pixels[i + 2] - 0xb4)
                        < 30 && pixels[i + 3] > 200) blue++;
                }
                return blue;
            }""", [index, lines])
            assert drawn > 0 if lines else drawn == 0       # the legend swatch at least; nothing for no lines


def test_a_tick_label_at_the_charts_right_edge_is_drawn_whole(lab_page, canvas_text):
    page = lab_page.open("/mnist")
    canvas_text.record(page)
    page.evaluate("""() => getElement(document.querySelector('.live-chart').id.slice(1)).show([{name: "long run",
        color: "#1f77b4", dashed: false, xs: [0, 5000, 10000, 15000], ys: [2.3, 0.4, 0.2, 0.1]}])""")
    assert "15000" in canvas_text.drawn(page)                         # the last tick sits on the plot's right edge
    assert canvas_text.cut_off(page) == []


def test_a_chart_of_epoch_zero_starts_its_axis_at_zero(lab_page):
    page = lab_page.open("/mnist")
    ranges = page.evaluate("""() => {
        const chart = getElement(document.querySelector('.live-chart').id.slice(1));
        chart.show([{name: "start", color: "#1f77b4", dashed: false, xs: [0], ys: [0.69]}]);
        const atZero = chart.ranges();
        chart.show([{name: "later", color: "#1f77b4", dashed: false, xs: [7], ys: [0.5]}]);
        return [atZero, chart.ranges()];
    }""")
    assert (ranges[0]["x0"], ranges[0]["x1"]) == (0, 1)                   # not −0.5 to 0.5: no negative epochs
    assert (ranges[1]["x0"], ranges[1]["x1"]) == (6.5, 7.5)


def test_a_diverging_run_is_named_on_the_page_and_its_fix_fills_the_form(lab_page):
    page = lab_page.open("/mnist")
    page.get_by_text("MNIST from folder").wait_for()
    page.get_by_role("textbox", name="Training images").fill("2000")
    page.get_by_role("textbox", name="Learning rate").fill("10")
    page.get_by_label("Optimizer").click()
    assert page.get_by_role("option", name="SGD + Nesterov momentum").is_visible()   # display names, not keys
    page.get_by_role("option", name="SGD", exact=True).click()
    page.get_by_role("switch", name="Batch norm").click()                     # off: nothing tames the steps
    page.get_by_role("button", name="Start").click()
    findings = page.locator("[data-findings]")
    findings.get_by_text("Training diverged").wait_for(timeout=TRAINING_TIMEOUT_MS)
    assert "learning rate" in findings.inner_text().lower()
    findings.get_by_role("button", name="Set the learning rate to 1", exact=True).click()
    field = page.get_by_role("textbox", name="Learning rate")
    page.wait_for_function("el => el.value === '1'", arg=field.element_handle())   # filled in, for the next Start
    lab_page.screenshot("mnist-diverged", full_page=False)
