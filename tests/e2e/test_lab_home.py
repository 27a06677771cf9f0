"""The lab's home page in Chromium: served by `learnscope lab`, links to every lesson, fits 1280×800."""

from learnscope.lab.layout import LESSONS


def test_home_links_every_lesson_and_fits_the_screen(lab_page):
    page = lab_page.open("/")
    page.get_by_text("See how a neural network learns").wait_for()
    for lesson in LESSONS:
        assert page.get_by_role("link", name=lesson.title).first.is_visible()
    assert lab_page.horizontal_overflow() <= 0
    lab_page.screenshot("home")
    page.get_by_role("link", name=LESSONS[0].title).first.click()
    page.wait_for_url(f"**{LESSONS[0].path}")
