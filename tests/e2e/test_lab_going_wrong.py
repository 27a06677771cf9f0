"""The Going wrong page (chapter 9) in Chromium: the overfitting run draws its curves live and names what it
shows (the sentence is the one lessons.overfitting computes for that very run), a gradient experiment reads its
own measurement, the capacity sweep fills its chart, the cost table is the network's own count.
Screenshots: test-artifacts/lab-wrong-*.png."""

import numpy as np
import pytest
from playwright.sync_api import expect

from learnscope.lessons.cost import network_cost, sweep_network
from learnscope.lessons.going_wrong_lab import GOING_WRONG_EXPERIMENTS, OverfittingComparison
from learnscope.lessons.gradient_flow import deep_network, layer_gradient_norms
from learnscope.lessons.overfitting import OverfittingSetup, describe_fit, overfitting_run
from learnscope.recipes import build_from_recipe, default_recipe

EPOCHS = 80                     # long enough to memorise the 1,000 images and see the test loss turn


def test_the_overfitting_run_draws_live_and_names_what_happened(lab_page, mnist):
    page = lab_page.open("/wrong")
    page.get_by_role("spinbutton", name="epochs").fill(str(EPOCHS))
    page.get_by_role("button", name="Train", exact=True).click()
    # live: the curves grow while it trains
    page.wait_for_function("() => [...document.querySelectorAll('.live-chart')].some(e => "
                           "getElement(e.id.slice(1)).series.length && "
                           "getElement(e.id.slice(1)).series[0].xs.length > 5)", timeout=30_000)
    text = page.locator("[data-fit-text]")
    text.get_by_text("Overfitting").wait_for(timeout=60_000)
    expected = overfitting_run(mnist, OverfittingSetup(epochs=EPOCHS))
    assert text.inner_text() == describe_fit(expected)
    charts = {chart["title"]: chart for chart in lab_page.live_charts()}
    accuracy = {line["name"]: line for line in charts["Accuracy by epoch"]["series"]}
    assert accuracy["training images"]["ys"][-1] == 1.0
    assert accuracy["test images"]["ys"] == pytest.approx(expected.test_accuracy.tolist())
    guide = next(line for line in charts["Loss by epoch"]["series"] if line["name"] == "lowest test loss")
    assert guide["dashed"] and guide["xs"] == [expected.best_epoch] * 2
    assert f"since epoch {expected.best_epoch}" in page.locator("[data-findings]").inner_text()
    assert all(chart["inked"] > 200 for chart in charts.values() if chart["series"])
    finding = page.locator("[data-findings]")
    assert "Overfitting: validation loss rose" in finding.inner_text()
    lab_page.screenshot_of("[data-fit-text]", "wrong-overfitting")
    assert lab_page.horizontal_overflow() <= 0
    page.set_viewport_size({"width": 1920, "height": 1080})
    lab_page.screenshot_of("[data-fit-text]", "wrong-overfitting-1920")
    assert lab_page.horizontal_overflow() <= 0
    # the finding's fix fills in the L2 field
    finding.get_by_role("button", name="Set L2 to 0.001").click()
    # NOTE: the server sets the field on the click's round trip: wait for it (reading at once failed CI once)
    expect(page.get_by_role("spinbutton", name="L2 weight decay")).to_have_value("0.001")


def test_the_five_sigmoid_layers_experiment_reads_its_own_measurement(lab_page, mnist):
    page = lab_page.open("/wrong")
    experiment = next(e for e in GOING_WRONG_EXPERIMENTS if e.key == "deeper-sigmoid")
    page.locator("[data-experiment='deeper-sigmoid']").get_by_role("button").click()
    outcome = page.locator("[data-outcome='deeper-sigmoid']")
    outcome.get_by_text("slower").wait_for(timeout=30_000)
    norms = layer_gradient_norms(deep_network(5, "sigmoid"), mnist.x_train[:1000], mnist.y_train[:1000])
    assert outcome.inner_text() == experiment.outcome(norms).text
    bars = page.locator("[data-norm-text]")
    assert "vanishes" in bars.inner_text()
    lab_page.screenshot_of("[data-norm-text]", "wrong-gradients")
    page.set_viewport_size({"width": 1920, "height": 1080})
    lab_page.screenshot_of("[data-norm-text]", "wrong-gradients-1920")
    assert lab_page.horizontal_overflow() <= 0


def test_watching_a_residual_net_train_draws_one_line_per_layer(lab_page):
    page = lab_page.open("/wrong")
    page.get_by_role("combobox", name="network").click()
    page.get_by_role("option", name="residual sigmoid blocks").click()
    page.get_by_role("button", name="Train one epoch and watch").click()
    page.locator("[data-gradients-status]").get_by_text("Finished; test accuracy").wait_for(timeout=60_000)
    chart = lab_page.live_chart("‖∂C/∂b‖ while training", n_lines=3)
    assert [line["name"] for line in chart["series"]] == ["layer 1", "layer 2", "layer 3"]
    first, last = np.array(chart["series"][0]["ys"]), np.array(chart["series"][-1]["ys"])
    assert np.median(last / first) < 3                          # the skip keeps the first layer learning
    assert chart["inked"] > 200


def test_the_capacity_sweep_fills_its_chart_smallest_first(lab_page):
    page = lab_page.open("/wrong")
    page.get_by_role("button", name="Sweep the hidden units").click()
    text = page.locator("[data-capacity-text]")
    text.get_by_text("underfits").wait_for(timeout=120_000)
    chart = lab_page.live_chart("Accuracy by hidden units", n_lines=2, n_points=11)
    lines = {line["name"]: line for line in chart["series"]}
    assert lines["test images"]["xs"] == [float(k) for k in range(11)]            # log₂ of 1 … 1,024
    assert lines["training images"]["ys"][0] < 0.9 and lines["training images"]["ys"][-1] == 1.0
    lab_page.screenshot_of("[data-capacity-text]", "wrong-capacity")


def test_the_cost_table_is_the_networks_own_count(lab_page, mnist):
    page = lab_page.open("/wrong")
    table = page.locator("[data-cost-table]")
    table.get_by_text("total").wait_for(timeout=30_000)
    model = build_from_recipe(default_recipe("mnist"), (1, 28, 28), 10, x_train=mnist.x_train)
    cost = network_cost(model, (1, 28, 28))
    total = table.locator("tr", has_text="total").inner_text().split()
    assert total[1:] == [f"{cost.params:,}", f"{cost.forward_flops:,}", f"{cost.backward_flops:,}"]
    page.get_by_role("button", name="Measure the speed").click()
    page.locator("[data-cost-text]").get_by_text("billion per second").wait_for(timeout=60_000)
    assert "19.5 trillion" in page.locator("[data-cost-text]").inner_text()
    lab_page.screenshot_of("[data-cost-table]", "wrong-cost")


def test_too_strong_l2_underfits_and_the_page_says_so(lab_page, mnist):
    page = lab_page.open("/wrong")
    experiment = next(e for e in GOING_WRONG_EXPERIMENTS if e.key == "too-strong-l2")
    page.locator("[data-experiment='too-strong-l2']").get_by_role("button").click()
    outcome = page.locator("[data-outcome='too-strong-l2']")
    outcome.get_by_text("Underfitting again").wait_for(timeout=60_000)
    run = overfitting_run(mnist, OverfittingSetup(**experiment.setup))
    assert outcome.inner_text() == experiment.outcome(OverfittingComparison(run)).text
    assert page.get_by_role("spinbutton", name="L2 weight decay").input_value() == "0.03"
    assert page.locator("[data-fit-text]").inner_text().startswith("Underfitting")


def test_the_wider_network_experiment_counts_and_times_both_widths(lab_page):
    page = lab_page.open("/wrong")
    page.locator("[data-experiment='wider-network']").get_by_role("button").click()
    outcome = page.locator("[data-outcome='wider-network']")
    outcome.get_by_text("as long").wait_for(timeout=60_000)
    narrow, wide = (network_cost(sweep_network("width", width), (1, 28, 28)) for width in (256, 512))
    assert f"{wide.training_flops / narrow.training_flops:.1f}× the operations per example" in outcome.inner_text()
    chart = lab_page.live_chart("Time per training step", n_points=2)
    assert chart["series"][0]["xs"] == [256, 512] and all(ms > 0 for ms in chart["series"][0]["ys"])
    lab_page.screenshot_of("[data-cost-text]", "wrong-wider")
    page.set_viewport_size({"width": 1920, "height": 1080})
    lab_page.screenshot_of("[data-cost-text]", "wrong-wider-1920")
    assert lab_page.horizontal_overflow() <= 0
