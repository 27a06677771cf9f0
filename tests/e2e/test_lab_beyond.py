"""Chapter 12 in Chromium: the Transfer page races three starts with live curves and a table read from the runs; the
Neuro-symbolic page learns digits from sums with the digit accuracy drawn live, shows the confusion matrix and the
pairs as read, and its experiments read the runs they made. Screenshots: test-artifacts/lab-transfer-*.png and
test-artifacts/lab-neurosymbolic-*.png."""

import re

from learnscope.lessons.transfer import METHOD_LABELS, TARGET_STEPS, curve_steps

TRAINING_TIMEOUT_MS = 180_000


def choose(page, field: str, option: str) -> None:
    """Pick the option whose text matches `option` in the select labelled `field`."""
    page.get_by_role("combobox", name=field).click()
    page.get_by_role("option", name=re.compile(option)).click()


def test_transfer_compares_three_starts_live_and_tabulates_them(lab_page):
    page = lab_page.open("/transfer")
    page.locator("#chapter-12").get_by_text("Chapter 12 · Beyond").wait_for()
    page.get_by_role("button", name="Compare the three starts").click()
    chart = lab_page.live_chart("Test accuracy on the target task", n_lines=1, n_points=2,
                                timeout=TRAINING_TIMEOUT_MS)
    assert chart["series"][0]["name"] == METHOD_LABELS["scratch"]            # the curves arrive as it trains
    page.locator("[data-transfer-status]").get_by_text("Done: three starts").wait_for(timeout=TRAINING_TIMEOUT_MS)
    chart = lab_page.live_chart("Test accuracy on the target task", n_lines=3,
                                n_points=len(curve_steps(TARGET_STEPS)))
    assert [line["name"] for line in chart["series"]] == list(METHOD_LABELS.values())
    assert chart["inked"] > 300
    table = page.locator("[data-transfer-table]")
    accuracies = {}
    for method in METHOD_LABELS:
        cells = table.locator(f"tr[data-start='{method}'] td").all_inner_texts()
        assert cells[0] == "10 per class" and cells[1] == METHOD_LABELS[method]
        accuracies[method] = cells[3]
    text = page.locator("[data-transfer-text]").inner_text()
    assert text.startswith("Pretrained on MNIST digits 0–4, learning digits 5–9, starting from a CNN pretrained here.")
    assert f"from scratch reaches {accuracies['scratch']}" in text and accuracies["fine-tune"] in text
    assert re.search(r"(reached from-scratch's final [\d.]+% after \d+ of|never reached .* in) 300 steps \(on the "
                     r"curves' 2,000 test images\)", text)
    page.mouse.move(0, 0)
    lab_page.screenshot("transfer-compared")
    assert lab_page.horizontal_overflow() <= 0
    page.set_viewport_size({"width": 1920, "height": 1080})
    lab_page.screenshot("transfer-compared-1920")


def test_a_transfer_experiment_runs_its_setup_and_reads_the_outcome(lab_page):
    page = lab_page.open("/transfer")
    page.locator("[data-experiment='far']").get_by_role("button").click()
    outcome = page.locator("[data-outcome='far']")
    outcome.get_by_text(re.compile("Frozen digit features get")).wait_for(timeout=TRAINING_TIMEOUT_MS)
    table = page.locator("[data-transfer-table]")
    frozen = table.locator("tr[data-start='frozen'] td").all_inner_texts()
    scratch = table.locator("tr[data-start='scratch'] td").all_inner_texts()
    assert frozen[0] == "100 per class"
    assert f"get {frozen[3]}" in outcome.inner_text() and scratch[3] in outcome.inner_text()
    assert page.locator("[data-transfer-text]").inner_text().startswith(
        "Pretrained on MNIST digits, learning Fashion-MNIST clothes")
    lab_page.screenshot("transfer-far")


def test_the_far_task_starts_from_the_model_trained_on_the_mnist_page_at_every_budget(lab_page):
    page = lab_page.open("/transfer")
    choose(page, "task", "far: digits")
    choose(page, "start from", "your digit model")
    page.get_by_role("button", name="Every budget").click()
    page.locator("[data-transfer-status]").get_by_text("No digit model in the lab yet").wait_for()

    mnist = lab_page.open("/mnist")
    mnist.get_by_role("button", name="Start").click()
    mnist.locator(".run-status", has_text="Finished").wait_for(timeout=TRAINING_TIMEOUT_MS)
    page = lab_page.open("/transfer")
    choose(page, "task", "far: digits")
    choose(page, "start from", "your digit model")
    page.get_by_role("button", name="Every budget").click()
    page.locator("[data-transfer-status]").get_by_text("Done: 12 runs").wait_for(timeout=TRAINING_TIMEOUT_MS)
    rows = page.locator("[data-transfer-table] tr[data-start]")
    assert rows.count() == 12
    assert [rows.nth(3 * k).locator("td").first.inner_text() for k in range(4)] == \
        ["10 per class", "100 per class", "1,000 per class", "all examples"]
    text = page.locator("[data-transfer-text]").inner_text()
    assert re.match(r"Pretrained on MNIST digits, learning Fashion-MNIST clothes, starting from .*MNIST page", text)
    assert "With all examples, from scratch reaches" in text
    page.mouse.move(0, 0)
    lab_page.screenshot("transfer-every-budget")


def test_neurosymbolic_learns_digits_from_sums_with_the_curves_live(lab_page):
    page = lab_page.open("/neurosymbolic")
    assert "sum 1: 0 or 1 (50% each); sum 2: 0, 1 or 2 (33% each)" in page.locator("[data-what-sums-say]").inner_text()
    page.get_by_role("button", name="Train from sums").click()
    chart = lab_page.live_chart("Test accuracy while learning from sums", n_lines=3, n_points=2,
                                timeout=TRAINING_TIMEOUT_MS)
    names = [line["name"] for line in chart["series"]]
    assert names[:2] == ["sums (test)", "digits (test, never labelled)"] and names[2].startswith("sums if every")
    assert chart["series"][1]["ys"][0] < 0.3                                 # the digits start at chance
    page.locator("[data-addition-status]").get_by_text("Done:").wait_for(timeout=TRAINING_TIMEOUT_MS)
    chart = lab_page.live_chart("Test accuracy while learning from sums", n_lines=3, n_points=2)
    assert len(chart["series"][1]["ys"]) >= 20 and chart["series"][1]["ys"][-1] > 0.9
    text = page.locator("[data-addition-text]").inner_text()
    assert "although it never saw a digit label" in text
    match = re.search(r"reads ([\d.]+)% of MNIST's test digits", text)
    assert match is not None
    confusion = page.locator("[data-digit-confusion] .confusion-cell")
    assert confusion.count() == 100
    diagonal = sum(int(confusion.nth(11 * d).inner_text()) for d in range(10))
    assert diagonal / 10_000 == float(match.group(1)) / 100 or abs(diagonal / 100 - float(match.group(1))) < 0.06
    examples = page.locator("[data-read-example]")
    assert examples.count() == 8 and re.match(r"read \d \+ \d → \d+ (✓|✗ \(is \d+\))", examples.first.inner_text())
    assert page.locator("[data-digit-reading]").inner_text().startswith("Every digit is read as itself")
    page.locator("[data-digit-confusion] .confusion-cell[data-true='7'][data-predicted='7']").click()
    page.locator(".gallery-item").first.get_by_text("7 read as 7").wait_for()
    page.mouse.move(0, 0)
    lab_page.screenshot("neurosymbolic-trained")
    assert lab_page.horizontal_overflow() <= 0
    page.set_viewport_size({"width": 1920, "height": 1080})
    lab_page.screenshot("neurosymbolic-trained-1920")

    page.get_by_role("button", name="Train without the rule").click()
    page.locator("[data-addition-status]").get_by_text("without the rule").wait_for(timeout=TRAINING_TIMEOUT_MS)
    page.locator("[data-addition-status]").get_by_text("Done: without the rule").wait_for(
        timeout=TRAINING_TIMEOUT_MS)
    assert "A CNN without the rule" in page.locator("[data-addition-text]").inner_text()
    lab_page.live_chart("Test accuracy while learning from sums", n_lines=4, n_points=2)


def test_the_few_sums_experiment_reads_its_own_run(lab_page):
    page = lab_page.open("/neurosymbolic")
    page.locator("[data-experiment='few-sums']").get_by_role("button").click()
    outcome = page.locator("[data-outcome='few-sums']")
    outcome.get_by_text(re.compile("from 1,000 sums alone")).wait_for(timeout=TRAINING_TIMEOUT_MS)
    text = page.locator("[data-addition-text]").inner_text()
    digits = re.search(r"reads ([\d.]+%) of MNIST's test digits", text).group(1)
    assert f"it reads {digits} of MNIST's test digits" in outcome.inner_text()
    assert "Try this: Learn from 1,000 sums." in page.locator("[data-banner]").inner_text()
    lab_page.screenshot("neurosymbolic-few-sums")


def test_taking_the_rule_away_trains_both_and_compares_them(lab_page):
    page = lab_page.open("/neurosymbolic")
    page.locator("[data-experiment='no-rule']").get_by_role("button").click()
    outcome = page.locator("[data-outcome='no-rule']")
    outcome.get_by_text(re.compile("The rule is worth")).wait_for(timeout=TRAINING_TIMEOUT_MS)
    # the status line is copied onto the page by its next tick, after the outcome: wait for it
    page.locator("[data-addition-status]").get_by_text("Done: without the rule").wait_for()
    status = page.locator("[data-addition-status]").inner_text()
    without = re.search(r"without the rule, ([\d.]+%) of the test sums", status).group(1)
    sentence = page.locator("[data-addition-text]").inner_text()
    with_rule = re.search(r"gets ([\d.]+%) of the test sums right", sentence).group(1)
    assert f"{with_rule} of the test sums with it, {without} without" in outcome.inner_text()
    lab_page.live_chart("Test accuracy while learning from sums", n_lines=4, n_points=2)
