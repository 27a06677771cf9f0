"""What a live chart costs the browser: the lab's own canvas chart (LiveChart, live_chart.js) against the ECharts
chart NiceGUI ships (ui.echart), redrawing the same lines at the same pace, side by side.

    python benchmarks/chart_cost.py [--rounds 3] [--updates 20]

A small NiceGUI server (a child process) serves two pages, each with the MNIST page's four charts: /live with
LiveChart, /echart with ui.echart. Every 0.5 s (the lab's snapshot pace) each chart gets two fresh 300-point lines
(the most a curve is thinned to). Chromium opens one page at a time; the CPU seconds of its processes from the
first update to the last are read from /proc (Linux), and the rounds alternate (live, echart, live, ...) so that
drifting machine load hits both alike. Printed: CPU ms per round of four redraws, each page's median, the ratio.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from lab_overhead import CHROMIUM, CHROMIUM_ARGS, _free_port, chromium_pids, cpu_seconds

SERVER = r"""
import math, sys
from nicegui import ui
from learnscope.lab.components.curves import LiveChart, live_series

N_CHARTS, N_POINTS, UPDATES = 4, 300, int(sys.argv[2])


def lines(tick):
    xs = [i / N_POINTS for i in range(N_POINTS)]
    return {name: (xs, [math.exp(-3 * x) + 0.1 * math.sin(40 * x + tick + k) for x in xs])
            for k, name in enumerate(("train batch", "test set"))}


def page(make, show):
    charts = [make(k) for k in range(N_CHARTS)]
    done = ui.label("").classes("done")
    state = {"tick": 0}

    def update():
        state["tick"] += 1
        for chart in charts:
            show(chart, lines(state["tick"]))
        if state["tick"] == UPDATES:
            timer.cancel()
            done.text = "done"

    timer = ui.timer(0.5, update)


def echart(k):
    return ui.echart({"animation": False, "title": {"text": f"chart {k}"}, "xAxis": {"type": "value"},
                      "yAxis": {"type": "value"}, "legend": {}, "series": []}).style("height: 240px; width: 100%")


def show_echart(chart, curves):
    chart.options["series"] = [{"type": "line", "name": name, "showSymbol": False, "data": list(zip(xs, ys))}
                               for name, (xs, ys) in curves.items()]
    chart.update()


@ui.page("/live")
def live_page():
    page(lambda k: LiveChart(f"chart {k}", "epoch", "loss"), lambda chart, curves: chart.show(curves))


@ui.page("/echart")
def echart_page():
    page(echart, show_echart)


ui.run(port=int(sys.argv[1]), show=False, reload=False, title="chart cost")
"""


def one_round(browser, url: str, updates: int) -> float:
    """CPU seconds Chromium spends on one page's updates, per round of four redraws."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.goto(url, wait_until="networkidle")
    pids = chromium_pids()
    before = cpu_seconds(pids)
    page.locator(".done", has_text="done").wait_for(timeout=updates * 2000 + 30_000)
    used = cpu_seconds(pids) - before
    context.close()
    return used / updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--updates", type=int, default=20)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    port = _free_port()
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        log = open(Path(folder) / "server.log", "wb")  # noqa: SIM115 (closed below)
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(args.updates)], stdout=log,
                                  stderr=subprocess.STDOUT, env={k: v for k, v in os.environ.items()
                                                                 if k != "PYTEST_CURRENT_TEST"})
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/live", timeout=2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError("the chart server did not start") from None
                    time.sleep(0.2)
            costs = {"live": [], "echart": []}
            for round_ in range(args.rounds):
                for name in costs:
                    costs[name].append(one_round(browser, f"http://127.0.0.1:{port}/{name}", args.updates))
                print(f"round {round_ + 1}: LiveChart {costs['live'][-1] * 1000:.0f} ms, "
                      f"ECharts {costs['echart'][-1] * 1000:.0f} ms of Chromium CPU per update of 4 charts",
                      flush=True)
        finally:
            browser.close()
            server.terminate()
            server.wait(timeout=10)
            log.close()
    live, echart = statistics.median(costs["live"]), statistics.median(costs["echart"])
    print(f"\n4 charts × 2 lines × 300 points, updated every 0.5 s, {args.updates} updates, {args.rounds} rounds "
          f"(median; load average {os.getloadavg()[0]:.2f}):")
    print(f"  LiveChart (canvas)  {live * 1000:7.1f} ms of Chromium CPU per update")
    print(f"  ECharts (ui.echart) {echart * 1000:7.1f} ms")
    print(f"  ECharts / LiveChart {echart / live:7.1f}×")


if __name__ == "__main__":
    main()
