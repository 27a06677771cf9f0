"""What watching costs: MNIST training speed with the lab's MNIST page open and streaming, against the same
recipe trained headless; how long a snapshot takes to reach the browser; how fast a second tab loads meanwhile.

    python benchmarks/lab_overhead.py [--rounds 2] [--data-dir /work/shared/data]

Headless: a child process runs fit() on the page's default recipe (MNIST MLP, one epoch) with the same
Recorder and the same test evaluations (fit(eval_every=...)) the lab uses. Lab: a `learnscope lab` server process,
the MNIST page open in Chromium, Start clicked; the page reports fit()'s own training seconds. Both speeds are
fit()'s clock (evaluations excluded), so the ratio is the cost of the live callback, the server and the browser.
The rounds alternate (headless, lab, headless, lab, ...) so drifting machine load hits both alike.

Latency: each snapshot carries the server's wall-clock time in a data attribute; a MutationObserver in the page
notes Date.now() when it changes (same machine, same clock). Second tab: /mnist opened in a new browser context
while the first one trains, timed until its title is visible.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

HEADLESS = r"""
import json, math, sys, time
from learnscope.data.mnist import load_mnist
from learnscope.lessons.live_training import EVALS_PER_EPOCH, RECORD_EVERY
from learnscope.lessons.mnist_lab import default_form, parse_form
from learnscope.losses import SoftmaxCrossEntropy
from learnscope.recipes import build_from_recipe, optimizer_from_recipe
from learnscope.train import Recorder, evaluate, fit

data = load_mnist(sys.argv[1], download=False, progress=False)
recipe = parse_form(default_form())[0].recipe
steps = math.ceil(len(data.x_train) / recipe.batch_size)
model = build_from_recipe(recipe, data.input_shape, 10, x_train=data.x_train)
recorder = Recorder(sys.argv[2], every=RECORD_EVERY, dataset="mnist", checkpoints=False)
history = fit(model, SoftmaxCrossEntropy(), optimizer_from_recipe(recipe, steps), data.x_train, data.y_train,
              epochs=recipe.epochs, batch_size=recipe.batch_size, seed=recipe.seed, callbacks=[recorder],
              validation_data=(data.x_test, data.y_test), eval_every=max(1, steps // EVALS_PER_EPOCH))
accuracy = evaluate(model, SoftmaxCrossEntropy(), data.x_test, data.y_test).accuracy
print(json.dumps({"seconds": history.outcome["seconds"], "examples": len(data.x_train) * recipe.epochs,
                  "accuracy": accuracy}))
"""

WATCH_LATENCY = """
() => {
    window.__latencies = [];
    const stamp = document.querySelector('.snapshot-time');
    new MutationObserver(() => {
        const wall = Number(stamp.getAttribute('data-wall-ms'));
        if (wall) window.__latencies.push(Date.now() - wall);
    }).observe(stamp, {attributes: true, attributeFilter: ['data-wall-ms']});
}
"""


def headless_run(data_dir: Path, folder: Path) -> dict:
    output = subprocess.run([sys.executable, "-c", HEADLESS, str(data_dir), str(folder / "headless.sqlite")],
                            check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    return {"seconds": result["seconds"], "examples_per_second": result["examples"] / result["seconds"],
            "accuracy": result["accuracy"]}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, data_dir: Path, folder: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "LEARNSCOPE_DATA": str(data_dir), "LEARNSCOPE_STORE": str(folder / "lab.sqlite")}
        self.log = open(folder / "server.log", "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen([sys.executable, "-m", "learnscope", "lab", "--no-browser", "--no-download",
                                         "--port", str(self.port)], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url, timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the lab server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


def lab_run(browser, server: Server) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(server.url + "/mnist", wait_until="networkidle")
    page.evaluate(WATCH_LATENCY)
    page.get_by_role("button", name="Start").click()
    page.get_by_text("Running: epoch 1").wait_for(timeout=60_000)
    time.sleep(1.0)                                     # well into the epoch
    second = browser.new_context()
    began = time.perf_counter()
    other = second.new_page()
    other.goto(server.url + "/mnist")
    other.get_by_text("MNIST: learning to read handwriting").wait_for()
    second_tab = time.perf_counter() - began
    other.get_by_text("Running: epoch 1").wait_for(timeout=10_000)   # and it shows the same run
    second.close()
    page.locator(".run-status", has_text="Finished").wait_for(timeout=300_000)
    speed = page.locator("text=/s of training/").inner_text()
    seconds = float(speed.split("·")[-1].split("s of training")[0])
    message = page.locator(".run-message").inner_text()
    accuracy = float(message.split("Test accuracy ")[1].rstrip("%.")) / 100
    latencies = page.evaluate("window.__latencies")
    context.close()
    return {"seconds": seconds, "examples_per_second": 60_000 / seconds, "accuracy": accuracy,
            "latencies": latencies, "second_tab": second_tab}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("LEARNSCOPE_DATA", "../shared/data")))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    headless, lab = [], []
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        folder = Path(folder)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        server = Server(args.data_dir, folder)
        try:
            for round_ in range(args.rounds):
                headless.append(headless_run(args.data_dir, folder))
                lab.append(lab_run(browser, server))
                print(f"round {round_ + 1}: headless {headless[-1]['seconds']:.2f} s "
                      f"({headless[-1]['examples_per_second']:,.0f} ex/s, {headless[-1]['accuracy']:.2%}), "
                      f"lab {lab[-1]['seconds']:.2f} s ({lab[-1]['examples_per_second']:,.0f} ex/s, "
                      f"{lab[-1]['accuracy']:.2%}), second tab {lab[-1]['second_tab']:.2f} s", flush=True)
        finally:
            server.stop()
            browser.close()
    headless_speed = statistics.median(r["examples_per_second"] for r in headless)
    lab_speed = statistics.median(r["examples_per_second"] for r in lab)
    latencies = sorted(value for r in lab for value in r["latencies"])
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    print(f"\nMNIST MLP, 1 epoch, {args.rounds} rounds each (median):")
    print(f"  headless fit()      {headless_speed:9,.0f} examples/s")
    print(f"  lab, page open      {lab_speed:9,.0f} examples/s")
    print(f"  lab / headless      {lab_speed / headless_speed:9.1%}   (goal ≥ 90%)")
    print(f"  UI latency          median {statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms, "
          f"max {latencies[-1]:.0f} ms over {len(latencies)} snapshots   (goal < 200 ms)")
    print(f"  second tab load     {max(r['second_tab'] for r in lab):.2f} s at worst   (goal < 2 s)")


if __name__ == "__main__":
    main()
