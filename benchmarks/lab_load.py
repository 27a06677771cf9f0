"""What many tabs cost the lab: threads and memory after many playground views, and how fast the home page answers
while playground tabs train.

    python benchmarks/lab_load.py [--views 600] [--tabs 20] [--seconds 30]

A `learnscope lab` server runs in a child process (the source tree's code). Views: plain GETs of /playground, as a
script or a crawler would make them (no browser, so no websocket: NiceGUI prunes each such client after 60 s). Two
rounds of GETs, each followed by 75 s of rest; the server's threads and resident memory are read from /proc after
each. Python keeps freed memory for reuse, so a leak shows as growth in the second round, not as a drop after the
first. Tabs: Chromium opens --tabs playground tabs and presses Play in each; meanwhile the home page is fetched once
a second from another tab; the latencies, and how many playground tabs lost their page (reloaded), are reported.
Linux only (/proc).
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FETCH_HOME = """async () => {
    const start = performance.now();
    const response = await fetch('/', {cache: 'no-store'});
    await response.text();
    return performance.now() - start;
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_numbers(pid: int) -> tuple[int, float]:
    """(threads, resident MiB) of a process, from /proc."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return int(fields["Threads"]), int(fields["VmRSS"].split()[0]) / 1024


def start_server(folder: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src"), "LEARNSCOPE_STORE": str(folder / "runs.sqlite")}
    process = subprocess.Popen([sys.executable, "-m", "learnscope", "lab", "--no-browser", "--no-download",
                                "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return process, url
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the lab server did not start")


def views(url: str, pid: int, count: int, settle: float) -> dict:
    """Two rounds of `count` GETs: if the first round's pages are freed, the second reuses their memory (Python
    keeps freed memory for itself, so resident memory shows a leak as growth, not a fix as a drop)."""
    numbers = {"before": server_numbers(pid)}
    for round_ in ("first", "second"):
        for _ in range(count):
            urllib.request.urlopen(url + "/playground", timeout=30).read()
        time.sleep(settle)                              # NiceGUI drops clients that never connected
        numbers[f"after the {round_}"] = server_numbers(pid)
    return numbers


def tabs(url: str, count: int, seconds: float) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        pages, reasons = [], []
        for _ in range(count):
            page = context.new_page()
            page.on("console", lambda message: "reloading" in message.text and reasons.append(message.text))
            page.goto(url + "/playground", wait_until="networkidle")
            page.evaluate("window.__mark = 'still the same page'")
            page.get_by_role("button", name="Play").click()
            pages.append(page)
        watcher = context.new_page()
        watcher.goto(url + "/", wait_until="networkidle")
        latencies = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            latencies.append(watcher.evaluate(FETCH_HOME))
            time.sleep(1.0)
        reloaded = sum(page.evaluate("window.__mark") != "still the same page" for page in pages)
        epochs = [int(page.get_by_text("epoch").first.inner_text().split()[1].replace(",", "")) for page in pages]
        browser.close()
    return {"latencies": latencies, "reloaded": reloaded, "epochs": epochs, "reasons": reasons}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=600)
    parser.add_argument("--tabs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        process, url = start_server(Path(folder))
        try:
            seen = views(url, process.pid, args.views, settle=75) if args.views else {}   # clients pruned at 60 s
            played = tabs(url, args.tabs, args.seconds) if args.tabs else None
        finally:
            process.terminate()
            process.wait(timeout=20)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    for moment, (threads, rss) in seen.items():
        print(f"  {moment:16} {args.views} playground GETs: {threads:4d} threads, {rss:7.1f} MiB resident")
    if played:
        values = sorted(played["latencies"])
        print(f"  home page with {args.tabs} playground tabs playing, {len(values)} fetches over {args.seconds:.0f} s: "
              f"median {statistics.median(values):.0f} ms, max {values[-1]:.0f} ms; "
              f"{played['reloaded']} of {args.tabs} tabs reloaded")
        print(f"  epochs trained per tab: fewest {min(played['epochs'])}, most {max(played['epochs'])}")
        for reason in sorted(set(played["reasons"])):        # NiceGUI's page script logs why it reloads
            print(f"    {played['reasons'].count(reason)} x {reason}")


if __name__ == "__main__":
    main()
