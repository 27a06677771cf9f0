"""The notebook's live chart (learnscope/notebook/live_curves.js, an anywidget module) in Chromium: rendered with
a stand-in for anywidget's model (get / on, what the module uses of it), it draws the lines LiveCurves sends and
redraws when they change; and in a real JupyterLab, where a notebook trains a network with the chart as fit()'s
callback (kernel → comm → anywidget's front end → live_curves.js, nothing stood in)."""

import json
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


def render(browser, curves: LiveCurves, before=None):
    """A page with the chart rendered from `curves` as the kernel last sent it: (page, its JavaScript errors).
    before(page) runs just before the chart is rendered."""
    source = Path(learnscope.notebook.__file__).with_name("live_curves.js").read_text()
    page = browser.new_context(viewport={"width": 900, "height": 400}).new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_content('<div id="widget" style="width: 800px"></div>')
    if before:
        before(page)
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


def test_a_tick_label_at_the_charts_right_edge_is_drawn_whole(browser, canvas_text):
    curves = LiveCurves("A long run")
    for step in range(0, 15_001, 100):
        curves.add(step, loss=2.3 * 0.9997 ** step)
    curves.send_now()
    page, errors = render(browser, curves, before=canvas_text.record)
    assert "15000" in canvas_text.drawn(page)                         # the last tick sits on the plot's right edge
    assert canvas_text.cut_off(page) == []
    assert not errors, errors
    page.context.close()


# -- in a real JupyterLab ----------------------------------------------------------------------------------------
#: The chart rewrites its legend at every picture it draws: count them from now on
COUNT_REDRAWS = """() => {
    window.__redraws = 0;
    const legend = document.querySelector('.learnscope-live-curves div');
    new MutationObserver(() => window.__redraws++).observe(legend, {childList: true});
}"""

CELLS = [
    "from learnscope.notebook import LiveCurves\n"
    "curves = LiveCurves('Spiral, live', interval=0.2)\n"
    "curves",
    "from learnscope.architectures import build_mlp\n"
    "from learnscope.data.toy2d import make_spiral\n"
    "from learnscope.losses import SoftmaxCrossEntropy\n"
    "from learnscope.optim import Adam\n"
    "from learnscope.train import fit\n"
    "x, y = make_spiral(600, seed=0)\n"
    "model = build_mlp((2,), 3, hidden=(64, 64), seed=0)\n"
    "history = fit(model, SoftmaxCrossEntropy(), Adam(0.002), x, y, epochs=800, batch_size=32, seed=0,\n"
    "              callbacks=[curves.callback(every=5)])\n"
    "print('trained:', len(curves.series[0]['xs']), 'points, last loss', round(history.history['loss'][-1], 4))",
]


def notebook(cells) -> dict:
    return {"cells": [{"cell_type": "code", "execution_count": None, "id": f"cell{index}", "metadata": {},
                       "outputs": [], "source": source} for index, source in enumerate(cells)],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


def test_live_curves_draw_a_training_in_a_real_jupyterlab(browser, jupyterlab, tmp_path):
    url, token = jupyterlab
    (tmp_path / "live.ipynb").write_text(json.dumps(notebook(CELLS)))
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors, elsewhere = [], []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: request.url.startswith(("http://127.0.0.1:", "ws://127.0.0.1:", "data:",
                                                                "blob:")) or elsewhere.append(request.url))
    page.goto(f"{url}/lab/tree/live.ipynb?token={token}")
    page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget "
                           "&& window.jupyterapp.shell.currentWidget.sessionContext "
                           "&& window.jupyterapp.shell.currentWidget.sessionContext.session "
                           "&& window.jupyterapp.shell.currentWidget.sessionContext.session.kernel "
                           "&& window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status "
                           "=== 'idle'", timeout=90_000)
    run_cell = "window.jupyterapp.commands.execute('notebook:run-cell-and-select-next')"
    page.evaluate(run_cell)                                      # the first cell shows the (empty) chart
    chart = page.locator(".learnscope-live-curves canvas")
    chart.wait_for(timeout=60_000)
    assert chart.get_attribute("aria-label") == "Spiral, live"
    page.evaluate(COUNT_REDRAWS)
    page.evaluate(run_cell)                                      # the second trains with it as the callback
    printed = page.locator(".jp-OutputArea-output pre", has_text="trained:")
    printed.wait_for(timeout=120_000)
    redraws = page.evaluate("window.__redraws")
    assert redraws >= 3, f"the chart was redrawn {redraws} times while the network trained"
    legend = page.locator(".learnscope-live-curves div").first.inner_text()
    assert "train loss" in legend and "train accuracy" in legend
    colors = page.evaluate("""() => [...document.querySelectorAll('.learnscope-live-curves div span')]
                                   .map((swatch) => getComputedStyle(swatch).color)""")
    assert colors, "the legend has no swatches"
    page.wait_for_timeout(500)                                   # the last picture, sent on the callback's end
    inked = page.evaluate(INKED.replace("#widget canvas", ".learnscope-live-curves canvas"),
                          [_hex(color) for color in colors[:2]])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "jupyterlab-live-curves.png"))
    assert min(inked) > 50, f"the lines are not drawn: {inked} pixels ({printed.inner_text()})"
    assert not errors, errors
    assert not elsewhere, f"the notebook page asked beyond this machine: {elsewhere}"   # anywidget's module too
    page.context.close()


def _hex(css_color: str) -> str:
    red, green, blue = (int(part) for part in css_color[css_color.index("(") + 1:].rstrip(")").split(",")[:3])
    return f"#{red:02x}{green:02x}{blue:02x}"
