"""The Remedies page (chapter 10) in Chromium: an overfitting remedy runs beside the plain run and its outcome is
the one computed from those runs; the four fixes for vanishing gradients are measured on one scale; clipping
rescues the exploding network. Screenshots: test-artifacts/lab-remedies-*.png."""

import numpy as np
import pytest

from learnscope.lessons.going_wrong_lab import REMEDY_EXPERIMENTS, OverfittingComparison
from learnscope.lessons.gradient_flow import deep_network, layer_gradient_norms
from learnscope.lessons.overfitting import OverfittingSetup, overfitting_run

EXPERIMENTS = {experiment.key: experiment for experiment in REMEDY_EXPERIMENTS}


def test_the_l2_experiment_runs_beside_the_plain_run_and_reads_both(lab_page, mnist):
    page = lab_page.open("/remedies")
    page.locator("[data-experiment='weight-decay']").get_by_role("button").click()
    outcome = page.locator("[data-outcome='weight-decay']")
    outcome.get_by_text("The remedy gained").wait_for(timeout=90_000)
    plain = overfitting_run(mnist, OverfittingSetup())
    with_l2 = overfitting_run(mnist, OverfittingSetup(**EXPERIMENTS["weight-decay"].setup))
    assert outcome.inner_text() == EXPERIMENTS["weight-decay"].outcome(OverfittingComparison(with_l2, plain)).text
    chart = lab_page.live_chart("Test accuracy by training step", n_lines=2)
    lines = {line["name"]: line for line in chart["series"]}
    title = EXPERIMENTS["weight-decay"].title
    assert set(lines) == {"no remedy", title}
    # 40,000 steps each, the 400 scored epochs averaged into the chart's few hundred points
    assert lines["no remedy"]["xs"][-1] == pytest.approx(40, abs=0.1) == lines[title]["xs"][-1]
    assert lines[title]["ys"][-1] > lines["no remedy"]["ys"][-1] + 0.03
    assert chart["inked"] > 200
    lab_page.screenshot_of("[data-banner]", "remedies-l2")
    assert lab_page.horizontal_overflow() <= 0
    page.set_viewport_size({"width": 1920, "height": 1080})
    lab_page.screenshot_of("[data-banner]", "remedies-l2-1920")
    assert lab_page.horizontal_overflow() <= 0


def test_the_four_fixes_are_measured_on_one_scale(lab_page, mnist):
    page = lab_page.open("/remedies")
    page.get_by_role("button", name="Compare at the start").click()
    bars = page.locator("[data-fix-bars]")
    bars.locator("[data-fix='residual']").wait_for(timeout=30_000)
    x, y = mnist.x_train[:1000], mnist.y_train[:1000]
    for kind in ("sigmoid", "relu-he", "relu-he-bn", "residual"):
        norms = layer_gradient_norms(deep_network(5, kind), x, y)
        shown = bars.locator(f"[data-fix='{kind}'] [data-layer] .font-mono").all_inner_texts()
        assert shown == [f"{value:.2g}" for value in norms.norms], kind
    widths = bars.locator("[data-fix='sigmoid'] [data-layer] .block").evaluate_all(
        "els => els.map(e => parseFloat(e.style.width))")
    assert widths == sorted(widths) and widths[-1] - widths[0] > 30          # the vanishing, drawn
    lab_page.screenshot_of("[data-fix-bars]", "remedies-fixes")
    page.set_viewport_size({"width": 1920, "height": 1080})
    lab_page.screenshot_of("[data-fix-bars]", "remedies-fixes-1920")


def test_clipping_rescues_the_network_that_explodes(lab_page):
    page = lab_page.open("/remedies")
    page.locator("[data-experiment='clipping']").get_by_role("button").click()
    outcome = page.locator("[data-outcome='clipping']")
    outcome.get_by_text("kept the steps bounded").wait_for(timeout=60_000)
    text = page.locator("[data-clip-text]").inner_text()
    assert text.startswith("Without clipping the run diverged") and "Clipping every step's gradient" in text
    chart = lab_page.live_chart("Training loss by step", n_lines=2)
    lines = {line["name"]: line for line in chart["series"]}
    assert len(lines["without clipping"]["ys"]) < 5 < len(lines["clipped at 1"]["ys"])
    assert np.mean(lines["clipped at 1"]["ys"][-20:]) < lines["clipped at 1"]["ys"][0] / 10
    lab_page.screenshot_of("[data-clip-text]", "remedies-clipping")
    assert lab_page.horizontal_overflow() <= 0
