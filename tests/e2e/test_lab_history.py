"""The History page (chapter 2) in Chromium: McCulloch–Pitts truth tables, the perceptron's line moving at each
mistake with the rule's own numbers, its endless cycle on XOR, backpropagation solving XOR with two hidden units,
an experiment's outcome read from its runs, and the timeline opening the live pieces.
Screenshots: test-artifacts/lab-history-*.png."""

from urllib.parse import parse_qs, urlparse

from learnscope.lessons.backprop_xor import (
    describe_xor_network,
    read_xor_network,
    train_from_starts,
    train_xor,
    xor_setup,
)
from learnscope.lessons.history_lab import HISTORY_EXPERIMENTS, PERCEPTRON_EPOCHS, PerceptronComparison
from learnscope.lessons.perceptron_rule import (
    PerceptronRun,
    best_margin,
    describe_run,
    describe_step,
    flip_label,
    separable_points,
    xor_points,
)

EXPERIMENTS = {experiment.key: experiment for experiment in HISTORY_EXPERIMENTS}
LINE = "[data-perceptron-plane] line[data-line]"


def line_ends(page) -> list[float] | None:
    lines = page.locator(LINE)
    if lines.count() == 0:
        return None
    return [float(lines.get_attribute(name)) for name in ("x1", "y1", "x2", "y2")]


def test_the_truth_table_lights_up_and_no_setting_gives_xor(lab_page):
    page = lab_page.open("/history")
    assert page.locator("[data-gate]").inner_text() == "It computes x₁ AND x₂."
    page.get_by_role("button", name="OR", exact=True).click()
    page.locator("[data-gate]").get_by_text("x₁ OR x₂").wait_for()
    assert page.locator("[data-truth-table] tr[data-fires]").evaluate_all(
        "rows => rows.map(r => r.dataset.fires)") == ["0", "1", "1", "1"]
    page.get_by_label("threshold θ").fill("")
    page.locator("[data-gate]").get_by_text("expect numbers").wait_for()
    assert page.locator("[data-truth-table] tr[data-fires]").count() == 0        # no table for an unset unit
    page.get_by_role("button", name="Search for XOR").click()
    page.locator("[data-xor-search]").get_by_text("none computes XOR").wait_for()
    lab_page.screenshot_of("#mcculloch-pitts", "history-mcculloch-pitts")


def test_stepping_the_perceptron_moves_its_line_with_the_rules_numbers(lab_page):
    page = lab_page.open("/history")
    assert line_ends(page) is None                                   # w = 0: no line yet
    expected = PerceptronRun(separable_points())                     # the page's points, stepped here too
    ends = []
    for _ in range(3):
        page.get_by_role("button", name="To the next mistake").click()
        step = expected.step()
        while not step.mistake:
            step = expected.step()
        page.locator("[data-step-text]").get_by_text(describe_step(step), exact=True).wait_for()
        ends.append(line_ends(page))
        assert page.locator("[data-run]").inner_text() == describe_run(expected)
    assert ends[0] is not None and ends[0] != ends[1] != ends[2]      # every mistake moved the line
    ringed = page.locator("[data-perceptron-plane] circle[stroke-width='3']").get_attribute("data-point")
    assert int(ringed) == step.index
    page.get_by_role("button", name=f"Run up to {PERCEPTRON_EPOCHS:,} epochs").click()
    expected.run_epochs(PERCEPTRON_EPOCHS)
    page.locator("[data-run]").get_by_text("Converged").wait_for()
    assert page.locator("[data-run]").inner_text() == describe_run(expected)
    assert f"So far: {expected.total_mistakes}." in page.locator("[data-bound]").inner_text()
    lab_page.screenshot_of("#perceptron", "history-perceptron")
    assert lab_page.horizontal_overflow() <= 0
    page.set_viewport_size({"width": 1920, "height": 1080})
    lab_page.screenshot_of("#perceptron", "history-perceptron-1920")


def test_the_xor_cycle_is_shown(lab_page):
    page = lab_page.open("/history")
    page.locator("[data-run-xor]").click()
    cycle = page.locator("[data-cycle]")
    cycle.get_by_text("A cycle:").wait_for(timeout=10_000)
    expected = PerceptronRun(xor_points())
    expected.run_epochs(PERCEPTRON_EPOCHS)
    assert cycle.inner_text() == describe_run(expected)
    arrows = page.locator("[data-weight-path] line[data-cycle-step]").count()
    assert arrows == len(expected.cycle.states) - 1                  # every update of the round drawn
    lab_page.screenshot_of("#xor", "history-xor-cycle")
    page.set_viewport_size({"width": 1920, "height": 1080})
    lab_page.screenshot_of("#xor", "history-xor-cycle-1920")


def test_backpropagation_solves_xor_and_opens_in_one_step(lab_page):
    page = lab_page.open("/history")
    page.get_by_role("button", name="Train with backpropagation").click()
    page.locator("[data-backprop-status]").get_by_text("100% of the corners right").wait_for(timeout=30_000)
    run = train_xor(xor_setup())
    reading = describe_xor_network(read_xor_network(run.model))
    page.locator("[data-reading]").get_by_text(reading, exact=True).wait_for()
    assert "gives exactly XOR" in reading
    assert page.locator("[data-xor-plane] line[data-line]").count() == 2     # each hidden unit's line
    chart = lab_page.live_chart("Loss while learning XOR", n_points=100)
    assert chart["series"][0]["ys"][-1] < chart["series"][0]["ys"][0] / 10
    lab_page.screenshot_of("#backprop", "history-backprop")
    assert lab_page.horizontal_overflow() <= 0
    href = page.locator("[data-step-link]").get_attribute("href")
    assert parse_qs(urlparse(href).query)["setup"] == [xor_setup().to_query()]
    page.locator("[data-step-link]").click()
    page.wait_for_url("**/step?setup=*")
    page.get_by_text("xor points and a 2-2-2 sigmoid network at its starting weights").wait_for()


def test_flipping_a_class_reads_its_outcome_from_the_runs(lab_page):
    page = lab_page.open("/history")
    page.locator("[data-experiment='not-separable']").get_by_role("button").click()
    outcome = page.locator("[data-outcome='not-separable']")
    outcome.get_by_text("After 1,000 epochs").wait_for(timeout=30_000)
    run, baseline = PerceptronRun(flip_label(separable_points())), PerceptronRun(separable_points())
    for each in (run, baseline):
        each.run_epochs(PERCEPTRON_EPOCHS, until_cycle=False)
    expected = EXPERIMENTS["not-separable"].outcome(
        PerceptronComparison(run, best_margin(run.points), baseline, best_margin(baseline.points)))
    assert outcome.inner_text() == expected.text
    chart = lab_page.live_chart("Mistakes per epoch", n_points=100)
    assert chart["series"][0]["xs"][-1] > PERCEPTRON_EPOCHS - 5           # thinned: a few epochs averaged
    assert min(chart["series"][0]["ys"]) > 0                          # never an epoch without a mistake
    lab_page.screenshot_of("[data-banner]", "history-not-separable")
    # the experiment changed the controls itself: the next run must not stop at once to "start over"
    page.locator("[data-run-xor]").click()
    page.locator("[data-cycle]").get_by_text("A cycle:").wait_for(timeout=10_000)


def test_the_timeline_opens_the_live_pieces(lab_page):
    page = lab_page.open("/history")
    page.locator("[data-timeline] [data-year='1969']").click()
    page.wait_for_url("**/history#xor")
    assert page.locator("#xor").is_visible()
    lab_page.screenshot("history-full")
    page.locator("[data-timeline] [data-year='2012']").click()
    page.wait_for_url("**/remedies#chapter-10")


def test_ten_random_starts_show_a_stuck_network_and_the_hidden_layer_can_be_chosen(lab_page):
    page = lab_page.open("/history")
    page.locator("[data-experiment='many-starts']").get_by_role("button").click()
    outcome = page.locator("[data-outcome='many-starts']")
    outcome.get_by_text("starts reached 100%").wait_for(timeout=60_000)
    runs = train_from_starts(range(EXPERIMENTS["many-starts"].setup["starts"]))
    assert outcome.inner_text() == EXPERIMENTS["many-starts"].outcome(runs).text
    stuck = next(run for run in runs if run.accuracy < 1)
    caption = page.locator("[data-xor-caption]")
    caption.get_by_text(f"Showing random start {stuck.setup.seed}, one that got stuck").wait_for()
    assert page.locator("[data-reading]").inner_text() == describe_xor_network(read_xor_network(stuck.model))
    lab_page.screenshot_of("#backprop", "history-stuck")
    page.locator("[data-hidden]").click()
    page.get_by_role("option", name="3 hidden units").click()
    caption.get_by_text("3 hidden units").wait_for()
    assert page.locator("[data-xor-plane] line[data-line]").count() == 3
    page.get_by_role("button", name="Train with backpropagation").click()
    page.locator("[data-backprop-status]").get_by_text("100% of the corners right").wait_for(timeout=30_000)
