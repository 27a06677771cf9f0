"""The Draw page in Chromium: the one-click quick model, then a "1" and a "0" drawn with the mouse and read right;
a file that is not a model gives an inline message. Screenshots: test-artifacts/lab-draw-*.png (1280×800)."""

import math
from pathlib import Path

TRAINING_TIMEOUT_MS = 120_000
READ_TIMEOUT_MS = 10_000


def pad_box(page):
    pad = page.locator(".drawing-pad img")
    pad.wait_for()
    return pad.bounding_box()


def on_pad(box, x, y):
    """Pad pixels (0..280) -> page coordinates."""
    return box["x"] + x * box["width"] / 280, box["y"] + y * box["height"] / 280


def move_away(page):
    """Park the mouse on an empty spot, so no tooltip covers the screenshot."""
    page.mouse.move(1270, 790)


def test_quick_model_reads_a_drawn_one_and_zero(lab_page):
    page = lab_page.open("/draw")
    page.get_by_text("No model to read with yet").wait_for()
    page.get_by_role("button", name="Train a quick model").click()
    page.get_by_text("Reading with: quick MLP, Draw page").wait_for(timeout=TRAINING_TIMEOUT_MS)

    lab_page.draw_on_pad([(146, 40), (141, 140), (136, 240)])
    page.get_by_text("It reads: 1").wait_for(timeout=READ_TIMEOUT_MS)
    page.get_by_text("Hidden layer 1 (ReLU, 128 units)").wait_for()
    assert lab_page.horizontal_overflow() <= 0
    move_away(page)
    page.wait_for_timeout(300)
    lab_page.screenshot("draw-one", full_page=False)
    lab_page.screenshot("draw-one-full")

    page.get_by_role("button", name="Clear").click()
    page.get_by_text("Draw a digit", exact=True).wait_for(timeout=READ_TIMEOUT_MS)
    lab_page.draw_on_pad([(140 + 60 * math.sin(a), 140 - 90 * math.cos(a))
                          for a in (2 * math.pi * k / 36 for k in range(37))])
    page.get_by_text("It reads: 0").wait_for(timeout=READ_TIMEOUT_MS)
    move_away(page)
    page.wait_for_timeout(300)
    lab_page.screenshot("draw-zero", full_page=False)


def test_a_file_that_is_not_a_model_gives_an_inline_message(lab_page, lab_server):
    models = Path(lab_server.log).parent / "models"       # the server's store is beside its log: models/ too
    models.mkdir(exist_ok=True)
    (models / "broken.safetensors").write_bytes(b"this is text, not a model")
    page = lab_page.open("/draw")
    page.get_by_label("Model that reads your drawing").click()
    page.get_by_role("option", name="Saved file: broken.safetensors").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "not a readable model file" in alert.inner_text()
    lab_page.draw_on_pad([(140, 40), (140, 240)])                # the page keeps working: draw, see the picture
    page.get_by_text("No model to read with yet").wait_for(timeout=READ_TIMEOUT_MS)
    move_away(page)
    page.wait_for_timeout(300)
    lab_page.screenshot("draw-bad-file", full_page=False)
    if page.get_by_role("option").count() == 0:
        page.get_by_label("Model that reads your drawing").click()
    page.get_by_role("option", name="Latest: quick MLP").click()    # the quick model from the test above
    page.get_by_text("It reads: 1").wait_for(timeout=READ_TIMEOUT_MS)
    assert page.get_by_role("alert").count() == 0


def test_the_pads_tooltip_leaves_clear_and_undo_free(lab_page):
    page = lab_page.open("/draw")
    box = pad_box(page)
    page.mouse.move(*on_pad(box, 140, 140))
    tip = page.get_by_text("Draw one digit here with the mouse")
    tip.wait_for()
    tip_box, clear = tip.bounding_box(), page.get_by_role("button", name="Clear").bounding_box()
    assert tip_box["y"] + tip_box["height"] <= box["y"] + 1                 # above the pad ...
    assert tip_box["y"] + tip_box["height"] <= clear["y"]                   # ... so the buttons below stay clickable
