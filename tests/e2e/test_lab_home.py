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


PAGES = ("/", "/playground", "/mnist", "/draw", "/step")


def test_every_page_fits_both_screen_sizes(lab_page):
    """Nothing sticks out sideways at 1280×800 or 1920×1080; the screenshots (test-artifacts/lab-size-*.png) are for
    a person to look at."""
    for width, height in ((1280, 800), (1920, 1080)):
        lab_page.page.set_viewport_size({"width": width, "height": height})
        for path in PAGES:
            page = lab_page.open(path)
            page.locator("h2, [data-chapter]").first.wait_for()      # a chapter: the page is built
            assert lab_page.horizontal_overflow() <= 0, (path, width)
            name = path.strip("/") or "home"
            lab_page.screenshot(f"size-{name}-{width}", full_page=False)
