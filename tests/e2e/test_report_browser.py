"""The HTML report in a real browser (Debian's chromium driven by Playwright): every figure decodes, nothing is
fetched from the network, no console errors; a full-page screenshot lands in test-artifacts/report.png."""

from pathlib import Path

from learnscope.cli import main
from learnscope.data.mnist import load_mnist
from learnscope.layers import Dense, Flatten, ReLU, Tanh
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.model import Sequential
from learnscope.optim import Adam
from learnscope.store import RunStore
from learnscope.train import Recorder, fit

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_report_renders_offline_in_chromium(browser, tmp_path, shared_data_dir):
    data = load_mnist(shared_data_dir, download=False, progress=False)
    store_path = tmp_path / "runs.sqlite"
    with RunStore(store_path) as store:
        run_ids = []
        for name, activation in (("relu", ReLU()), ("tanh", Tanh())):
            recorder = Recorder(store, run_name=f"mnist {name}", every=5, tensors_every=40, dataset="mnist",
                                config={"n_classes": 10})
            fit(Sequential([Flatten(), Dense(784, 32), activation, Dense(32, 10)], seed=0), SoftmaxCrossEntropy(),
                Adam(lr=1e-3), data.x_train[:2000], data.y_train[:2000], epochs=2, batch_size=32, seed=0,
                validation_data=(data.x_test[:400], data.y_test[:400]), callbacks=[recorder])
            run_ids.append(recorder.run_id)
    report = tmp_path / "report.html"
    assert main(["report", *map(str, run_ids), "-o", str(report), "--store", str(store_path)]) == 0

    requests, console_errors = [], []
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        page.on("request", lambda request: requests.append(request.url))
        page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
        page.on("pageerror", lambda error: console_errors.append(str(error)))
        page.goto(report.as_uri(), wait_until="load")
        widths = page.eval_on_selector_all("img", "images => images.map(i => i.complete ? i.naturalWidth : 0)")
        page_width = page.evaluate("document.documentElement.scrollWidth")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    finally:
        page.close()
    assert len(widths) == 13 and all(width > 0 for width in widths), widths
    assert console_errors == []
    assert all(url == report.as_uri() or url.startswith("data:") for url in requests), requests
    assert page_width <= 1280                                          # nothing sticks out sideways
