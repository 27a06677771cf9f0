"""The lab as a course, in Chromium: the home page is the guide's table of contents, the playground names what
happens as it happens (with a one-click fix), and its "Try this" experiments report what the run showed."""

import time

from learnscope.lessons.course import CHAPTERS
from learnscope.lessons.experiments import PLAYGROUND_EXPERIMENTS


def test_the_home_page_lists_the_twelve_chapters_in_order_and_every_link_opens_its_section(lab_page):
    page = lab_page.open("/")
    items = page.locator("[data-chapter]")
    items.first.wait_for()
    assert [int(n) for n in items.evaluate_all("els => els.map(e => e.dataset.chapter)")] == list(range(1, 13))
    texts = items.all_inner_texts()
    for chapter, text in zip(CHAPTERS, texts):
        assert chapter.title in text
        assert ("coming" in text.lower()) == chapter.coming
    lab_page.screenshot("home")
    for chapter in CHAPTERS:
        if chapter.coming:
            continue
        page.goto(lab_page.base_url + "/")
        page.locator(f"[data-chapter='{chapter.number}'] a").click()
        page.wait_for_url(f"**{chapter.link}")
        section = page.locator(f"#{chapter.anchor}")
        section.wait_for()
        assert f"Chapter {chapter.number}" in section.inner_text(), chapter


def test_a_learning_rate_of_ten_is_named_within_five_seconds_and_the_fix_is_one_click(lab_page):
    page = lab_page.open("/playground?data=spiral&lr=10")
    page.locator("#e-0-0-0").wait_for(state="attached")
    page.get_by_role("button", name="Play").click()
    started = time.monotonic()
    finding = page.locator("[data-findings]").get_by_text("Training diverged")
    finding.wait_for(timeout=5_000)
    seconds = time.monotonic() - started
    panel = page.locator("[data-findings]").inner_text()
    assert "learning rate" in panel.lower() and seconds < 5, (seconds, panel)
    assert page.get_by_text("Paused: training diverged").is_visible()          # it stopped instead of drawing noise
    lab_page.screenshot("playground-divergence")
    fixes = page.locator("[data-findings]").get_by_role("button", name="Set the learning rate to 1", exact=True)
    assert fixes.count() == 1                                  # one button per fix, though three findings share it
    fixes.click()
    page.wait_for_function("() => document.querySelector('[aria-label=\"Learning rate\"]')?.value === '1'")
    assert "lr=1" in page.get_by_label("Share link", exact=True).input_value()


def test_six_sigmoid_layers_show_vanishing_gradients(lab_page):
    page = lab_page.open("/playground?data=spiral&hidden=4-4-4-4-4-4&act=sigmoid")
    page.locator("#e-0-0-0").wait_for(state="attached")
    page.get_by_role("button", name="Play").click()
    page.locator("[data-findings]").get_by_text("Vanishing gradients").wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Use the activation relu").is_visible()


def test_the_overfitting_experiment_reports_overfitting_from_its_own_run(lab_page):
    experiment = next(e for e in PLAYGROUND_EXPERIMENTS if e.key == "few-noisy-points")
    page = lab_page.open("/playground")
    page.locator("#e-0-0-0").wait_for(state="attached")
    page.locator(f"[data-experiment='{experiment.key}']").get_by_role("button").click()
    outcome = page.locator(f"[data-outcome='{experiment.key}']")
    page.wait_for_function("el => el.innerText.startsWith('Overfitting') || el.innerText.includes('no overfitting')",
                           arg=outcome.element_handle(), timeout=60_000)
    assert outcome.inner_text().startswith("Overfitting"), outcome.inner_text()
    banner = page.locator("[data-banner]").inner_text()
    assert experiment.question in banner and "Overfitting" in banner
    assert "train=0.1" in page.get_by_label("Share link", exact=True).input_value()
    assert lab_page.horizontal_overflow() <= 0
    lab_page.screenshot("playground-experiment")


def test_technical_words_show_their_definition_on_hover_and_focus(lab_page):
    from learnscope.lessons.glossary import GLOSSARY

    page = lab_page.open("/playground")
    terms = page.locator(".term")
    assert terms.count() > 20                                              # explanations and captions alike
    term = page.locator(".term", has_text="learning rate").first
    term.focus()                                                          # the keyboard shows it as a hover does
    shown = term.evaluate("el => getComputedStyle(el, '::after').content")
    assert GLOSSARY["learning rate"][:40] in shown
