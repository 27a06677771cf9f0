"""The Gradient descent page (chapter 6) in Chromium: the batch / stochastic / mini-batch panel draws three paths
and counts what each made; the optimizer race runs, its trails move, switching surface redraws; an experiment's
outcome is the one descent_lab computes from that race. Screenshots: test-artifacts/lab-descent-*.png."""

import re

from learnscope.lessons.batch_modes import compare_batch_modes
from learnscope.lessons.descent_lab import RACE_EXPERIMENTS
from learnscope.lessons.race import optimizer_race


def trails(page, picture: str) -> list[str]:
    return page.locator(f"[{picture}] polyline").evaluate_all("els => els.map(e => e.getAttribute('points'))")


def test_three_paths_and_their_counters_after_the_same_examples(lab_page):
    page = lab_page.open("/descent")
    rows = page.locator("[data-batch-counters] tr[data-mode]")
    rows.first.wait_for()
    expected = compare_batch_modes(mini_batch_size=16, epochs=3, lr=0.1)
    # the paths play back over a few seconds; at the end every mode has seen all 600 examples
    page.wait_for_function("() => [...document.querySelectorAll('[data-batch-counters] tr[data-mode]')]"
                           ".every(r => r.children[3].textContent.trim() === '600')", timeout=15_000)
    for mode, updates in (("batch", 3), ("stochastic", 600), ("mini-batch", 39)):
        cells = page.locator(f"[data-batch-counters] tr[data-mode='{mode}'] td").all_inner_texts()
        assert cells[2] == f"{updates:,}" and cells[3] == "600", (mode, cells)
        assert cells[5] == f"{expected.paths[mode].loss[-1]:.3f}", (mode, cells)
    assert len(trails(page, "data-batch-picture")) == 3
    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")                                  # else the fixed header lands mid-page
    lab_page.screenshot("descent-batch")
    assert lab_page.horizontal_overflow() <= 0
    page.set_viewport_size({"width": 1920, "height": 1080})
    lab_page.screenshot_of("[data-batch-picture]", "descent-batch-1920")
    assert lab_page.horizontal_overflow() <= 0


def test_the_race_runs_its_trails_move_and_a_new_surface_redraws(lab_page):
    page = lab_page.open("/descent")
    page.locator("[data-race-picture]").wait_for()
    page.locator("[data-race-picture] img").first.wait_for(state="attached")
    background = page.locator("[data-race-picture] img").first.get_attribute("src")
    page.get_by_role("button", name="Step").click()
    page.locator("[data-race-step]").get_by_text("step 1 of 300").wait_for()
    after_one = trails(page, "data-race-picture")
    assert len(after_one) == 3                                   # SGD, momentum and Adam
    page.get_by_role("button", name="Play").click()
    page.locator("[data-race-step]").get_by_text(re.compile(r"step (\d{2,}) of 300")).wait_for(timeout=10_000)
    moved = trails(page, "data-race-picture")
    assert all(len(b.split()) > len(a.split()) for a, b in zip(after_one, moved))
    rows = page.locator("[data-race-table] tr[data-racer-row]").all_inner_texts()
    assert len(rows) == 3 and "SGD" in rows[0]
    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")
    lab_page.screenshot("descent-race")
    page.get_by_role("combobox", name="surface").click()
    page.get_by_role("option", name="Rosenbrock's banana").click()
    page.wait_for_function(f"() => document.querySelector('[data-race-picture] img').src !== {background!r}")
    assert trails(page, "data-race-picture") == []               # a new surface: the race starts over
    page.get_by_role("button", name="Play").click()
    page.locator("[data-race-step]").get_by_text(re.compile(r"step \d+ of 300")).wait_for()
    assert lab_page.horizontal_overflow() <= 0


def test_the_momentum_experiment_reports_the_step_counts_of_its_own_race(lab_page):
    page = lab_page.open("/descent")
    experiment = next(e for e in RACE_EXPERIMENTS if e.key == "momentum-valley")
    card = page.locator("[data-experiment='momentum-valley']")
    card.get_by_role("button").click()
    outcome = page.locator("[data-outcome='momentum-valley']")
    outcome.get_by_text("fewer at the same learning rate").wait_for(timeout=20_000)
    setup = experiment.setup
    race = optimizer_race(setup["surface"], {k: {"name": k, "lr": v} for k, v in setup["racers"].items()},
                          steps=setup["steps"], condition=setup["condition"])
    assert outcome.inner_text() == experiment.outcome(race).text
    assert page.locator("[data-banner]", has_text=experiment.title).is_visible()
    lab_page.screenshot_of("[data-race-picture]", "descent-experiment")
    page.set_viewport_size({"width": 1920, "height": 1080})
    lab_page.screenshot_of("[data-race-picture]", "descent-experiment-1920")
    assert lab_page.horizontal_overflow() <= 0


def test_the_landscape_shows_its_progress_while_the_page_keeps_answering(lab_page):
    page = lab_page.open("/descent")
    page.get_by_role("button", name="Draw the landscape").click()
    progress = page.locator("[data-landscape-progress]")
    seen, answers = set(), []
    text = page.locator("[data-landscape-text]")
    for _ in range(600):                                       # at most about a minute: quick model, MNIST, 441 passes
        value = progress.get_attribute("aria-valuenow") or page.evaluate(
            "() => document.querySelector('[data-landscape-progress] .q-linear-progress__model')?.style.transform")
        seen.add(value)
        status, milliseconds = lab_page.home_answer()
        assert status == 200
        answers.append(milliseconds)
        if "At the model's own weights" in text.inner_text():
            break
    assert "At the model's own weights the loss is" in text.inner_text()
    assert len(seen) > 3                                       # the bar moved through several values on the way
    assert sorted(answers)[len(answers) // 2] < 300, answers   # the median answer stayed quick
    assert "quick MLP" in page.locator("[data-landscape-status]").inner_text()
    assert page.locator("[data-landscape-picture] img").first.get_attribute("src").startswith("data:image/png")
    lab_page.screenshot_of("[data-landscape-picture]", "descent-landscape")


def test_the_three_modes_train_on_mnist_and_the_page_names_the_lowest(lab_page):
    page = lab_page.open("/descent")
    page.get_by_role("button", name=re.compile("Train the three")).click()
    page.locator("[data-modes-status]").get_by_text("Training").wait_for(timeout=30_000)
    text = page.locator("[data-modes-text]")
    text.get_by_text("Lowest:").wait_for(timeout=120_000)
    summary = text.inner_text()
    for mode in ("batch made", "stochastic made", "mini-batch made"):
        assert mode in summary, summary
    assert re.search(r"batch made \d+ updates \(\d", summary)
    lab_page.screenshot_of("[data-modes-text]", "descent-mnist-modes")
    assert lab_page.horizontal_overflow() <= 0


def test_four_learning_rates_race_side_by_side_and_the_page_names_the_fastest(lab_page):
    page = lab_page.open("/descent")
    page.locator("[data-experiment='four-learning-rates']").get_by_role("button").click()
    outcome = page.locator("[data-outcome='four-learning-rates']")
    outcome.get_by_text("Fastest: lr 0.039").wait_for(timeout=30_000)
    rows = page.locator("[data-race-table] tr[data-racer-row]").all_inner_texts()
    assert [row.split("\t")[0].strip("● ").strip() for row in rows] == ["lr 0.002", "lr 0.02", "lr 0.039", "lr 0.045"]
    assert "left the map" in rows[3]
    assert page.get_by_role("combobox", name="arrows for").input_value() == "lr 0.002"
    lab_page.screenshot_of("[data-race-picture]", "descent-learning-rates")


def test_the_ticked_racers_race_on_mnist_and_their_runs_are_recorded(lab_page):
    page = lab_page.open("/descent")
    page.get_by_role("button", name="Race them on MNIST").click()
    text = page.locator("[data-real-race-text]")
    text.get_by_text("Lowest:").wait_for(timeout=120_000)
    summary = text.inner_text()
    for label in ("SGD (lr 0.1)", "SGD + momentum (lr 0.02)", "Adam (lr 0.001)"):
        assert label in summary, summary
    assert re.search(r"learnscope runs compare \d+ \d+ \d+$", summary.strip()), summary
    lab_page.screenshot_of("[data-real-race-text]", "descent-mnist-race")


def test_the_training_path_is_drawn_on_the_plane_it_moved_in(lab_page):
    page = lab_page.open("/descent")
    page.get_by_role("button", name="Draw the training path").click()
    text = page.locator("[data-landscape-text]")
    text.get_by_text("The training path lies").wait_for(timeout=120_000)
    assert re.search(r"lies \d+% along the first direction and \d+% along the second", text.inner_text())
    assert page.locator("[data-landscape-picture] polyline").count() == 1
    lab_page.screenshot_of("[data-landscape-picture]", "descent-training-path")


def test_the_racers_race_on_a_slice_of_the_learners_own_mnist_model(lab_page):
    page = lab_page.open("/descent")
    page.get_by_role("combobox", name="surface").click()
    page.get_by_role("option", name="A slice of your MNIST model").click()
    page.get_by_text("A real loss: no formula").wait_for(timeout=120_000)      # built: its note is shown
    page.get_by_role("button", name="Step").click()
    page.locator("[data-race-step]").get_by_text("step 1 of 300").wait_for(timeout=60_000)
    rows = page.locator("[data-race-table] tr[data-racer-row]").all_inner_texts()
    assert len(rows) == 3 and all(re.search(r"\d\.\d", row) for row in rows)
    lab_page.screenshot_of("[data-race-picture]", "descent-model-slice")
