"""One tab can't hold up another: while One step loads the 10,000 MNIST test images in one tab, the home page in a
second tab still answers within 300 ms (before, the load ran inside the page handler and froze every tab).

Its own module, so its lab server has not loaded MNIST yet when One step asks for it."""

import time
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ANSWER_LIMIT_MS = 300
TRAINING_TIMEOUT_MS = 120_000

def test_the_home_page_answers_while_one_step_loads_mnist(lab_page, browser, lab_server):
    page = lab_page.open("/draw")                                   # a digit model, so One step loads MNIST
    page.get_by_role("button", name="Train a quick model").click()
    page.get_by_text("Reading with: quick MLP, Draw page").wait_for(timeout=TRAINING_TIMEOUT_MS)

    second = browser.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    second.goto(lab_server.url + "/", wait_until="networkidle")
    page.evaluate("location.href = '/step?source=mnist'")           # navigate without waiting for it
    loading = page.get_by_text("Loading the 10,000 MNIST test images")
    loaded = page.get_by_text("Test image 0: a written")
    answers, during_loading = [], 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status, milliseconds = lab_page.home_answer(second)
        assert status == 200
        answers.append(milliseconds)
        if loading.is_visible():
            during_loading += 1
            if during_loading == 1:
                lab_page.screenshot("step-mnist-loading", full_page=False)          # what the learner sees
        elif loaded.is_visible():
            break
    loaded.wait_for()
    second.screenshot(path=str(ARTIFACTS / "lab-home-1920.png"))                  # the second tab, 1920×1080
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.mouse.move(0, 0)
    lab_page.screenshot("step-mnist-loaded-1920", full_page=False)
    assert lab_page.horizontal_overflow() <= 0
    second.context.close()
    # the load takes a fraction of a second here: one answer inside it shows the server free meanwhile (before, the
    # page showed no loading state at all, and the answer waited for the load)
    assert during_loading >= 1, f"no answer fell inside the load: {answers}"
    assert max(answers) < ANSWER_LIMIT_MS, f"the home page took {max(answers):.0f} ms: {answers}"
