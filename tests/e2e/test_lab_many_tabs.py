"""Many tabs on one lab: fourteen playground tabs train at once for 30 s and none of them loses its page (before,
2–4 of them came back as fresh pages: each tab trained in its own thread, and fourteen threads fighting the event
loop for the GIL made its pings late enough to drop connections; now the tabs' training takes turns)."""

import time

TABS = 14
SECONDS = 30


def test_fourteen_playing_tabs_keep_their_pages_for_thirty_seconds(browser, lab_server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pages, reasons = [], []
    try:
        for _ in range(TABS):
            page = context.new_page()
            page.on("console", lambda message: "reloading" in message.text and reasons.append(message.text))
            page.goto(lab_server.url + "/playground", wait_until="networkidle")
            page.evaluate("window.__mark = 'the same page'")       # a reload would forget it
            page.get_by_role("button", name="Play").click()
            pages.append(page)
        time.sleep(SECONDS)
        kept = [page.evaluate("window.__mark") == "the same page" for page in pages]
        epochs = [page.get_by_text("epoch").first.inner_text() for page in pages]
    finally:
        context.close()
    assert all(kept), f"{kept.count(False)} of {TABS} tabs reloaded: {reasons}"     # NiceGUI logs why it reloads
    assert all(text != "epoch 0" for text in epochs), epochs                # each of them trained
