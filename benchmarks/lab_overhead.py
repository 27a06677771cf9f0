"""What watching costs: MNIST training speed with the lab's MNIST page open and streaming, against the same
recipe trained headless; how long a snapshot takes to reach the browser; how fast a second tab loads meanwhile.

    python benchmarks/lab_overhead.py [--rounds 5] [--epochs 3] [--data-dir /work/shared/data]

Headless: a child process runs train_recipe on the page's default recipe (MNIST MLP) for --epochs, with the same
Recorder and the same test evaluations (test_evals_per_epoch) the lab uses. Lab: a `learnscope lab` server process,
the MNIST page open in Chromium, the same epochs typed in, Start clicked; the page reports fit()'s own training
seconds. Both speeds are fit()'s clock (evaluations excluded), so the ratio is the cost of the live callback, the
server and the browser. The rounds alternate (headless, lab, headless, lab, ...) so drifting machine load hits both
alike; on 2 cores single runs swing by ±15%, so compare the medians.

While the lab trains, the page is scrolled to the progress and the live charts (as a learner would watch them), and
the CPU time of Chromium's processes and of the lab's server process is read from /proc (Linux), reported as a share
of one core.

Latency: each snapshot carries the server's wall-clock time in a data attribute; a MutationObserver in the page
notes Date.now() when it changes (same machine, same clock). Second tab: after the speed rounds, a run is started
and /mnist is opened in a second tab of the same browser (as a learner would), timed until the page shows the run.
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
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

HEADLESS = r"""
import json, sys
from learnscope.data.mnist import load_mnist
from learnscope.lessons.live_training import EVALS_PER_EPOCH, RECORD_EVERY
from learnscope.lessons.mnist_lab import default_form, parse_form
from learnscope.train import Recorder, train_recipe

data = load_mnist(sys.argv[1], download=False, progress=False)
recipe = parse_form({**default_form(), "epochs": sys.argv[3]})[0].recipe
recorder = Recorder(sys.argv[2], every=RECORD_EVERY, dataset="mnist", checkpoints=False)
trained = train_recipe(data, recipe, callbacks=[recorder], test_evals_per_epoch=EVALS_PER_EPOCH)
print(json.dumps({"seconds": trained.history.outcome["seconds"], "examples": len(data.x_train) * recipe.epochs,
                  "accuracy": trained.evaluation.accuracy}))
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


def headless_run(data_dir: Path, folder: Path, epochs: int) -> dict:
    output = subprocess.run([sys.executable, "-c", HEADLESS, str(data_dir), str(folder / "headless.sqlite"),
                             str(epochs)], check=True, capture_output=True, text=True).stdout
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


def start_run(page, server: Server, epochs: int) -> None:
    page.goto(server.url + "/mnist", wait_until="networkidle")
    page.get_by_label("Epochs").fill(str(epochs))
    page.get_by_role("button", name="Start").click()
    page.get_by_text("Running: epoch 1").wait_for(timeout=60_000)


def finished_seconds(page) -> tuple[float, float]:
    page.locator(".run-status", has_text="Finished").wait_for(timeout=300_000)
    speed = page.locator("text=/s of training/").inner_text()
    seconds = float(speed.split("·")[-1].split("s of training")[0])
    message = page.locator(".run-message").inner_text()
    return seconds, float(message.split("Test accuracy ")[1].rstrip("%.")) / 100


def cpu_seconds(pids) -> float:
    """User + system CPU seconds used so far by these processes (Linux /proc; 0 elsewhere)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError):
            pass
    return total / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.0


def chromium_pids() -> list[int]:
    """The Chromium processes started (through Playwright's driver) by this benchmark."""
    parents, names = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            pid = int(stat.parent.name)
            names[pid] = text[text.index("(") + 1:text.rindex(")")]
            parents[pid] = int(text.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            pass
    found, frontier = [], [os.getpid()]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return [pid for pid in found if "chrom" in names[pid]]


def lab_run(browser, server: Server, epochs: int) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(server.url + "/mnist", wait_until="networkidle")
    page.evaluate(WATCH_LATENCY)
    page.get_by_label("Epochs").fill(str(epochs))
    page.get_by_role("button", name="Start").click()
    # as a learner watching: the progress and the four live charts on screen (drawn, not just computed)
    page.evaluate("document.querySelector('.run-status').scrollIntoView({block: 'start'})")
    watchers = {"browser": chromium_pids(), "server": [server.process.pid]}
    before, began = {name: cpu_seconds(pids) for name, pids in watchers.items()}, time.perf_counter()
    seconds, accuracy = finished_seconds(page)
    wall = time.perf_counter() - began
    # share of one core each used while the run trained (the server's own process; its training child excluded)
    load = {name: (cpu_seconds(pids) - before[name]) / wall for name, pids in watchers.items()}
    latencies = page.evaluate("window.__latencies")
    context.close()
    return {"seconds": seconds, "examples_per_second": 60_000 * epochs / seconds, "accuracy": accuracy,
            "latencies": latencies, "load": load}


def second_tab_seconds(browser, server: Server, epochs: int) -> float:
    """Open /mnist in a second tab of the browser while the first tab's run trains; seconds until it shows the run."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    first = context.new_page()
    start_run(first, server, epochs)
    time.sleep(1.0)                                     # well into the run
    began = time.perf_counter()
    second = context.new_page()
    second.goto(server.url + "/mnist")
    second.get_by_text("Running: epoch").wait_for(timeout=30_000)   # the page is up and shows the same run
    seconds = time.perf_counter() - began
    finished_seconds(first)
    context.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
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
                headless.append(headless_run(args.data_dir, folder, args.epochs))
                lab.append(lab_run(browser, server, args.epochs))
                print(f"round {round_ + 1}: headless {headless[-1]['seconds']:.2f} s "
                      f"({headless[-1]['examples_per_second']:,.0f} ex/s, {headless[-1]['accuracy']:.2%}), "
                      f"lab {lab[-1]['seconds']:.2f} s ({lab[-1]['examples_per_second']:,.0f} ex/s, "
                      f"{lab[-1]['accuracy']:.2%}), ratio {headless[-1]['seconds'] / lab[-1]['seconds']:.0%}",
                      flush=True)
            second_tabs = [second_tab_seconds(browser, server, args.epochs) for _ in range(3)]
        finally:
            server.stop()
            browser.close()
    headless_speed = statistics.median(r["examples_per_second"] for r in headless)
    lab_speed = statistics.median(r["examples_per_second"] for r in lab)
    latencies = sorted(value for r in lab for value in r["latencies"])
    p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
    ratios = sorted(h["seconds"] / r["seconds"] for h, r in zip(headless, lab))
    print(f"\nMNIST MLP, {args.epochs} epochs, {args.rounds} rounds each (median):")
    print(f"  headless fit()      {headless_speed:9,.0f} examples/s")
    print(f"  lab, page open      {lab_speed:9,.0f} examples/s")
    print(f"  lab / headless      {lab_speed / headless_speed:9.1%}   (goal ≥ 90%); paired ratios "
          f"{', '.join(f'{ratio:.0%}' for ratio in ratios)}")
    print(f"  UI latency          median {statistics.median(latencies):.0f} ms, p95 {p95:.0f} ms, "
          f"max {latencies[-1]:.0f} ms over {len(latencies)} snapshots   (goal < 200 ms)")
    print(f"  second tab load     {', '.join(f'{value:.2f}' for value in second_tabs)} s   (goal < 2 s)")
    for name in ("browser", "server"):
        print(f"  {name} CPU         {statistics.median(r['load'][name] for r in lab):9.1%} of one core while training "
              "(median)")


if __name__ == "__main__":
    main()
