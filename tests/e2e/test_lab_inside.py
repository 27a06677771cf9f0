"""The Inside page (chapter 11) in Chromium: every attribution map appears for a test digit and for a digit drawn
on the Draw page, with the model's own numbers; another class can be asked about; the sanity check re-draws the
weights and its experiment reads the maps it made. Screenshots: test-artifacts/lab-inside-*.png."""

import re

import numpy as np
import pytest

from learnscope.explain.attributions import describe_integrated_gradients, integrated_gradients
from learnscope.lessons.drawing import train_quick_digit_model

MAPS = ("input", "saliency", "gradient", "gradient × input", "integrated gradients", "occlusion")
TRAINING_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def quick_mlp(shared_data_dir):
    return train_quick_digit_model(shared_data_dir, seed=0)           # what the page's button trains


def with_quick_model(lab_page):
    page = lab_page.open("/inside")
    page.get_by_role("button", name="Train a quick MLP").click()
    page.locator("[data-inside-model-status]").get_by_text("Done in").wait_for(timeout=TRAINING_TIMEOUT_MS)
    page.locator("[data-model]").get_by_text("quick MLP trained here").wait_for()
    page.locator("[data-map='occlusion']").wait_for()
    return page


def test_every_map_appears_for_a_test_digit_with_the_models_numbers(lab_page, quick_mlp, mnist):
    page = with_quick_model(lab_page)
    for name in MAPS:
        assert page.locator(f"[data-map='{name}'] img").evaluate("img => img.naturalWidth") == 140
    expected = integrated_gradients(quick_mlp.model, mnist.x_test[0], int(mnist.y_test[0]), n_steps=64)
    text = describe_integrated_gradients(expected, str(mnist.y_test[0]), "black")
    page.locator("[data-ig-text]").get_by_text(text, exact=True).wait_for()
    assert page.locator("[data-prediction]").inner_text().startswith(f"The model says {mnist.y_test[0]} (")
    lab_page.screenshot_of("[data-maps]", "inside-maps")
    assert lab_page.horizontal_overflow() <= 0
    page.set_viewport_size({"width": 1920, "height": 1080})
    lab_page.screenshot_of("[data-maps]", "inside-maps-1920")

    page.locator("[data-class]").click()
    page.get_by_role("option", name="3", exact=True).click()
    page.locator("[data-prediction]").get_by_text("The maps explain class 3").wait_for()
    why_not = integrated_gradients(quick_mlp.model, mnist.x_test[0], 3, n_steps=64)
    page.locator("[data-ig-text]").get_by_text(describe_integrated_gradients(why_not, "3", "black"),
                                               exact=True).wait_for()


def test_the_sanity_check_re_draws_every_layer_and_its_experiment_reads_it(lab_page, quick_mlp):
    page = with_quick_model(lab_page)
    page.locator("[data-experiment='randomize-saliency']").get_by_role("button").click()
    outcome = page.locator("[data-outcome='randomize-saliency']")
    outcome.get_by_text("beyond recognition").wait_for(timeout=30_000)
    text = page.locator("[data-sanity-text]").inner_text()
    assert "It changed beyond recognition" in text
    layers_with_weights = sum(bool(layer.params) for layer in quick_mlp.model.layers)
    assert page.locator("[data-sanity] img").count() == 1 + layers_with_weights     # trained, then each re-drawn
    lab_page.screenshot_of("[data-sanity]", "inside-sanity")

    page.get_by_role("button", name="Train it on shuffled labels").click()
    page.locator("[data-sanity-text]").get_by_text("Trained on shuffled labels, the saliency map").wait_for(
        timeout=60_000)
    assert page.locator("[data-sanity] img").count() == 2                 # trained, and trained on noise
    lab_page.screenshot_of("[data-sanity]", "inside-shuffled")

    page.locator("[data-check='integrated gradients']").click()
    page.locator("[data-sanity-text]").get_by_text("With every layer re-drawn, the integrated gradients map").wait_for(
        timeout=30_000)

    page.locator("[data-experiment='randomize-times-input']").get_by_role("button").click()
    page.locator("[data-outcome='randomize-times-input']").get_by_text("hardly looks different").wait_for(
        timeout=30_000)
    assert "Judge this map on the ink" in page.locator("[data-sanity-text]").inner_text()


def test_a_drawn_digit_is_explained_from_the_draw_pages_link(lab_page):
    page = with_quick_model(lab_page)
    page.goto(page.url.replace("/inside", "/draw"))
    lab_page.draw_on_pad([(146, 40), (141, 140), (136, 240)])
    page.get_by_text("It reads: 1").wait_for(timeout=10_000)
    page.locator("[data-why-link]").click()
    page.wait_for_url("**/inside?source=drawing")
    page.get_by_text("Explaining your drawing.").wait_for(timeout=30_000)
    for name in MAPS:
        page.locator(f"[data-map='{name}']").wait_for()
    assert page.locator("[data-prediction]").inner_text().startswith("The model says 1 (")
    lab_page.screenshot_of("[data-maps]", "inside-drawing")


def test_deep_features_and_the_layers_arrangement_of_the_digits(lab_page, quick_mlp, mnist):
    from learnscope.explain.embeddings import describe_embedding, embed, neighbour_agreement
    from learnscope.explain.features import layer_representation, top_activating
    from learnscope.lessons.drawing import shown_layers

    page = with_quick_model(lab_page)
    first_hidden = shown_layers(quick_mlp.model)[0]
    top = top_activating(quick_mlp.model, first_hidden, mnist.x_test[:2000], 9)
    responses = ", ".join(f"{value:.2f}" for value in top.responses[0])
    page.locator("[data-top-caption]").get_by_text(f"mean outputs {responses}.").wait_for(timeout=30_000)
    assert page.locator("[data-layer-picture] img").evaluate("img => img.naturalWidth") > 0
    page.get_by_label("Unit or filter").fill("5")
    page.get_by_label("Unit or filter").press("Enter")
    responses = ", ".join(f"{value:.2f}" for value in top.responses[5])
    page.locator("[data-top-caption]").get_by_text(f"Unit 5 of {len(top.indices)}").wait_for()
    assert page.locator("[data-top-caption]").inner_text().endswith(f"mean outputs {responses}.")
    lab_page.screenshot_of("[data-top-picture]", "inside-features")

    page.get_by_role("button", name="Project 2,000 test digits").click()
    text = page.locator("[data-embed-text]")
    text.get_by_text("have a nearest neighbour of their own class").wait_for(timeout=60_000)
    layer = shown_layers(quick_mlp.model)[-2]                         # the last hidden layer, chosen at first
    points = embed(layer_representation(quick_mlp.model, mnist.x_test[:2000], layer), "pca", seed=0)
    agreement = neighbour_agreement(points, mnist.y_test[:2000])
    assert text.inner_text() == describe_embedding(f"Hidden layer {len(shown_layers(quick_mlp.model)) - 1} (ReLU, 64 "
                                                   "units)", "pca", agreement, 10)
    # point at the dot drawn last (the top one: class 9's last digit) where the chart drew it
    page.locator("[data-embedding]").scroll_into_view_if_needed()
    where = page.evaluate("""() => {
        const element = document.querySelector('[data-embedding]');
        const chart = getElement(element.id.slice(1)).chart;
        const series = chart.getOption().series;
        const last = series[9].data[series[9].data.length - 1];
        const [x, y] = chart.convertToPixel({seriesIndex: 9}, last);
        const box = element.getBoundingClientRect();
        return [box.left + x, box.top + y];
    }""")
    page.mouse.move(*where)
    last_nine = int(np.flatnonzero(mnist.y_test[:2000] == 9)[-1])
    page.locator("[data-clicked]").get_by_text(f"Test image {last_nine}: a written 9.").wait_for()
    lab_page.screenshot_of("[data-embedding]", "inside-embedding")
    page.set_viewport_size({"width": 1920, "height": 1080})
    lab_page.screenshot_of("[data-embedding]", "inside-embedding-1920")

    page.get_by_role("button", name="Train a fresh copy and watch").click()
    watch = page.locator("[data-watch-text]")
    watch.get_by_text("of the digits have a nearest neighbour of their own class").wait_for(timeout=60_000)
    at_end = watch.inner_text()
    assert at_end.startswith("After 157 steps")                       # 20,000 digits in batches of 128
    now, start, end = (int(share) for share in re.findall(r"(\d+)%", at_end))
    assert now == end > start + 20                                     # the classes came apart while it learned
    page.locator("[data-watch-slider]").scroll_into_view_if_needed()
    box = page.locator("[data-watch-slider]").bounding_box()
    page.mouse.click(box["x"] + 1, box["y"] + box["height"] / 2)       # the slider's left end: the start
    watch.get_by_text(f"After 0 steps: {start}%").wait_for()
    lab_page.screenshot_of("[data-watch-chart]", "inside-watch-start")


def test_a_cnns_first_filters_are_shown_beside_its_feature_maps(lab_page):
    page = lab_page.open("/inside")
    page.get_by_role("button", name="Train a quick CNN").click()
    page.locator("[data-inside-model-status]").get_by_text("Done in").wait_for(timeout=TRAINING_TIMEOUT_MS)
    caption = page.get_by_text("The 16 filters of the first convolution (5×5 weights")
    caption.wait_for(timeout=30_000)
    assert page.locator("[data-filters] img").evaluate("img => img.naturalWidth") > 0
    assert "16 feature maps" in page.locator("[data-feature-layer]").inner_text()
    lab_page.screenshot_of("[data-filters]", "inside-cnn-filters")
