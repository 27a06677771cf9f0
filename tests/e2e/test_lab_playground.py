"""The playground in Chromium against a real `learnscope lab` server: XOR is learned (as the page shows it),
changing the data, the layers or a weight changes what is drawn, a link carries the whole setup, bad input
and oversized uploads get inline messages, and the page fits 1280×800."""

import re

from learnscope.lab.state import UPLOAD_LIMIT_BYTES
from learnscope.lessons.playground import PlaygroundSetup

BOUNDARY = "img[src^='data:image/png']"


def diagram_html(page) -> str:
    return page.locator("svg:has(#e-0-0-0) g").last.inner_html()


def points_html(page) -> str:
    return page.locator("svg:has(circle) g").last.inner_html()


def alert(page) -> str:
    return " ".join(page.locator("[role=alert]").all_inner_texts())


def select_text(page, label) -> str:
    """The option a select shows."""
    return page.locator(".q-select").filter(has_text=label).first.locator(".q-field__native").inner_text().strip()


def field(page, label):
    return page.get_by_label(label, exact=True)


def test_xor_with_four_tanh_neurons_reaches_95_percent_on_the_page(lab_page):
    page = lab_page.open("/playground?hidden=4&stop=150")
    page.get_by_text("Hidden layers").first.wait_for()
    page.locator("#e-0-0-0").wait_for(state="attached")
    page.get_by_role("button", name="Play").click()
    page.get_by_text("Stopped after 150 epochs").wait_for(timeout=60_000)
    scores = page.get_by_text(re.compile(r"^loss\s+train")).inner_text()
    test_accuracy = float(re.search(r"accuracy\s+train\s+[\d.]+%\s+test\s+([\d.]+)%", scores).group(1))
    assert test_accuracy >= 95.0, scores
    assert "epoch 150" in page.get_by_text(re.compile(r"^epoch \d")).inner_text()
    assert lab_page.horizontal_overflow() <= 0
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)                                     # let the hover tooltip fade
    lab_page.screenshot("playground")


def test_data_layers_and_a_weight_change_what_is_drawn(lab_page):
    page = lab_page.open("/playground")
    page.locator("#e-0-0-0").wait_for(state="attached")
    points, diagram = points_html(page), diagram_html(page)
    page.get_by_label("Data set").click()
    page.get_by_role("option", name="Two moons").click()
    # NOTE: an untrained network draws the same boundary on any data (same seed, same weights): the points move
    page.wait_for_function("old => document.querySelector('svg:has(circle) g:last-child').innerHTML !== old",
                           arg=points)
    assert page.locator("svg:has(circle) circle").count() == 300
    assert "data=moons" in field(page, "Share link").input_value()
    boundary = page.locator(BOUNDARY).first.get_attribute("src")
    page.get_by_role("button", name="Step").click()               # one update: the boundary moves
    page.wait_for_function("old => document.querySelector(\"img[src^='data:image/png']\").src !== old", arg=boundary)

    page.get_by_role("button", name="+ layer").click()
    page.locator("#n-4-0").wait_for(state="attached")              # a fifth column of nodes
    assert diagram_html(page) != diagram
    assert field(page, "neurons per layer").input_value() == "4, 2, 2"

    before = diagram_html(page)
    page.locator("#e-0-0-0").dispatch_event("pointerdown")
    page.get_by_text("Weight from x₁ to neuron 1 of hidden layer 1:").wait_for()
    page.get_by_label("new weight").fill("-3.25")
    page.get_by_label("new weight").press("Enter")
    page.wait_for_function("() => document.querySelector('#e-0-0-0 title').textContent.includes('-3.250')")
    assert diagram_html(page) != before


def test_a_link_fills_every_control_and_the_share_link_equals_it(lab_page):
    setup = PlaygroundSetup(dataset="spiral", n_classes=3, noise=0.1, hidden=(12,) * 6, activation="relu",
                            optimizer="adam", lr=0.01, batch_size=None, l2=0.001, dropout=0.1,
                            features=("x1", "x2", "sin1", "sin2"), stop_after=300, hidden_controls=("upload",))
    url = f"{lab_page.base_url}/playground?{setup.to_query()}"
    page = lab_page.open(url.removeprefix(lab_page.base_url))
    page.locator("#e-0-0-0").wait_for(state="attached")
    assert field(page, "neurons per layer").input_value() == "12, 12, 12, 12, 12, 12"
    assert field(page, "Learning rate").input_value() == "0.01"
    assert field(page, "Batch size").input_value() == "full"
    assert field(page, "L2").input_value() == "0.001"
    assert field(page, "Dropout").input_value() == "0.1"
    assert field(page, "Stop after (epochs)").input_value() == "300"
    assert select_text(page, "Data set") == "Spiral arms"
    assert select_text(page, "Classes") == "3 classes"
    assert select_text(page, "Activation") == "ReLU"
    assert select_text(page, "Optimizer") == "Adam"
    assert page.get_by_role("checkbox", name="sin(πx₂)").get_attribute("aria-checked") == "true"
    assert page.get_by_role("checkbox", name="x₁²").get_attribute("aria-checked") == "false"
    assert page.get_by_text("Your own CSV").count() == 0 or not page.get_by_text("Your own CSV").is_visible()
    assert field(page, "Share link").input_value() == url
    assert page.url == url
    assert page.locator("#n-7-2").count() == 1 and page.locator("#n-7-3").count() == 0   # 3 output classes
    assert page.locator("#n-6-11").count() == 1                                         # 6 layers × 12 neurons
    page.get_by_role("button", name="Play").click()
    # full-batch epochs are quick: wait for the link's own 'stop after 300' rather than racing to press Pause
    page.get_by_text("Stopped after 300 epochs").wait_for(timeout=120_000)
    page.get_by_role("button", name="Play").wait_for()
    page.mouse.move(0, 0)
    assert lab_page.horizontal_overflow() <= 0
    lab_page.screenshot("playground-large")


def test_nonsense_input_and_an_oversized_upload_get_inline_messages_and_the_lab_keeps_working(lab_page, tmp_path):
    page = lab_page.open("/playground")
    page.locator("#e-0-0-0").wait_for(state="attached")
    for label, typed, expected in [
        ("Learning rate", "-1", "The learning rate must be a number from"),
        ("Learning rate", "fast", "Learning rate must be a number, got 'fast'"),
        ("neurons per layer", "0", "1 to 12 neurons each, got 0"),
        ("neurons per layer", "1000000", "got 1000000"),
        ("Batch size", "x", "Batch size must be a whole number"),
        ("Training share", "2", "The training share must be a number from 0.1 to 0.9"),
    ]:
        field(page, label).fill(typed)
        field(page, label).press("Enter")
        page.get_by_role("alert").filter(has_text=expected).wait_for()
    field(page, "Learning rate").fill("0.03")
    field(page, "Learning rate").press("Enter")
    field(page, "Batch size").fill("10")
    field(page, "Batch size").press("Enter")
    field(page, "Training share").fill("0.5")
    field(page, "Training share").press("Enter")
    field(page, "neurons per layer").fill("4, 2")
    field(page, "neurons per layer").press("Enter")
    page.wait_for_function("() => ![...document.querySelectorAll('[role=alert]')].some(e => e.textContent.trim())")
    page.get_by_role("button", name="Step").click()
    page.get_by_text(re.compile(r"step 1$")).wait_for()            # still training

    big = tmp_path / "big.csv"
    big.write_bytes(b"x1,x2,label\n" + b"0.5,0.5,1\n" * (UPLOAD_LIMIT_BYTES // 10 + 10))
    page.locator("input[type=file]").set_input_files(str(big))
    page.get_by_role("alert").filter(has_text="That file was refused").wait_for()

    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n" + "1,oops,0\n" * 12)
    page.locator("input[type=file]").set_input_files(str(bad))
    page.get_by_role("alert").filter(has_text="expected a number, got 'oops'").wait_for()
    page.get_by_role("button", name="Step").click()
    page.get_by_text(re.compile(r"step 2$")).wait_for()


def test_the_regression_view_fits_and_says_what_its_colours_mean(lab_page):
    page = lab_page.open("/playground?data=sine&loss=mse")
    page.locator("#e-0-0-0").wait_for(state="attached")
    page.get_by_text("The network's output at every spot of the plane").wait_for()
    assert not page.get_by_text("class it picks").is_visible()            # the classification caption is gone
    assert not page.get_by_text("0.0B").is_visible()                       # no empty upload progress line
    assert lab_page.horizontal_overflow() <= 0
    lab_page.screenshot("playground-regression")


def test_a_long_step_count_fits_its_place_and_moves_no_control(lab_page):
    page = lab_page.open("/playground")
    counter = page.get_by_text(re.compile(r"^epoch \d"))
    field = page.get_by_role("textbox", name="Learning rate", exact=True)
    before = field.bounding_box()
    fits = counter.evaluate("""el => {
        el.textContent = 'epoch 1,000,000  ·  step 30,000,000';   // the most the stop-after limit allows
        return el.scrollWidth <= el.clientWidth;
    }""")
    assert fits and field.bounding_box() == before
