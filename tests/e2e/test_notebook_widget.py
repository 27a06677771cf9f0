"""The notebook's live chart (learnscope/notebook/live_curves.js, an anywidget module) in Chromium: rendered with
a stand-in for anywidget's model (get / on, what the module uses of it), it draws the lines LiveCurves sends and
redraws when they change."""

from pathlib import Path

import learnscope.notebook
from learnscope.notebook import LiveCurves

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

#: Loads the module from its source and renders it into #widget with a model holding `state`; window.__send(key,
#: value) changes a value and fires its change event, as anywidget does when the kernel sends one
RENDER = """async ([source, state]) => {
    const handlers = {};
    const model = {get: (key) => state[key], on: (event, handler) => (handlers[event] ||= []).push(handler)};
    window.__send = (key, value) => { state[key] = value; (handlers["change:" + key] || []).forEach((h) => h()); };
    const module = await import(URL.createObjectURL(new Blob([source], {type: "text/javascript"})));
    module.default.render({model, el: document.getElementById("widget")});
}"""

#: How many canvas pixels carry each colour
INKED = """(colors) => {
    const canvas = document.querySelector("#widget canvas");
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    return colors.map((hex) => {
        const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
        let inked = 0;
        for (let i = 0; i < pixels.length; i += 4) {
            if (Math.abs(pixels[i] - r) + Math.abs(pixels[i + 1] - g) + Math.abs(pixels[i + 2] - b) < 30
                && pixels[i + 3] > 200) inked++;
        }
        return inked;
    });
}"""


def render(browser, curves: LiveCurves):
    """A page with the chart rendered from `curves` as the kernel last sent it: (page, its JavaScript errors)."""
    source = Path(learnscope.notebook.__file__).with_name("live_curves.js").read_text()
    page = browser.new_context(viewport={"width": 900, "height": 400}).new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_content('<div id="widget" style="width: 800px"></div>')
    page.evaluate(RENDER, [source, {"title": curves.title, "x_label": curves.x_label, "log_y": curves.log_y,
                                    "series": curves.series}])
    page.wait_for_function("document.querySelector('#widget canvas').width > 0")
    page.wait_for_timeout(100)                              # the first drawing waits for an animation frame
    return page, errors


def test_the_notebook_chart_draws_what_live_curves_sends_and_redraws_on_change(browser):
    curves = LiveCurves("MNIST, live")
    for step in range(0, 500, 10):
        curves.add(step, loss=2.3 * 0.99 ** step, accuracy=1 - 0.9 * 0.99 ** step)
    curves.send_now()
    page, errors = render(browser, curves)
    loss_color, accuracy_color = (line["color"] for line in curves.series)
    loss_ink, accuracy_ink = page.evaluate(INKED, [loss_color, accuracy_color])
    assert loss_ink > 300 and accuracy_ink > 300, "the lines are not drawn"
    legend = page.locator(".learnscope-live-curves div").inner_text()
    assert "train loss" in legend and "train accuracy" in legend
    assert page.locator("#widget canvas").get_attribute("aria-label") == "MNIST, live"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "notebook-live-curves.png"))

    curves.add(500, val_accuracy=0.97)
    curves.send_now()
    page.evaluate("(series) => window.__send('series', series)", curves.series)
    test_color = curves.series[-1]["color"]
    assert page.evaluate(INKED, [test_color])[0] > 10        # a single test point is drawn as a dot
    assert "test accuracy" in page.locator(".learnscope-live-curves div").inner_text()
    assert not errors, errors
    page.context.close()


def test_the_gradient_view_draws_decades_apart_on_a_log_axis(browser):
    """Gradients a thousand times apart, and a layer whose gradient is 0 (dead: a gap on a log axis, not a crash)."""
    curves = LiveCurves("Gradient flow", view="gradients")
    for step in range(0, 300, 10):                           # sloped lines: a flat one is all anti-aliased edge
        curves._from_record(step, {"grad_rms/1.dense.W": 1e-5 * (1 + step / 30),
                                   "grad_rms/3.dense.W": 1e-2 * (1 + step / 100),
                                   "grad_rms/5.dense.W": 0.0 if step < 150 else 1e-1 * step / 150})
    curves.send_now()
    page, errors = render(browser, curves)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "notebook-gradient-flow.png"))
    assert not errors, errors
    inked = page.evaluate(INKED, [line["color"] for line in curves.series])
    assert all(count > 100 for count in inked), inked         # each layer visible, whatever its decade
    page.context.close()
