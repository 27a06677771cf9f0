"""Browser tests: Debian's chromium driven by Playwright against a real `learnscope lab` server process.

Run them as their own pytest call (`python -m pytest tests/e2e`). Without a browser they fail in CI and skip,
with the fix, on a laptop. Every page a test opens is watched: a JavaScript error, a console error or a request
to anywhere but 127.0.0.1 fails the test. Screenshots go to test-artifacts/ (not committed).
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
VIEWPORT = {"width": 1280, "height": 800}
SERVER_START_SECONDS = 60
JUPYTERLAB_START_SECONDS = 90


def _missing(message: str) -> None:
    """A missing browser or driver fails the run in CI and skips it, with the fix, on a laptop."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not CHROMIUM.exists():
        _missing(f"no browser at {CHROMIUM}: install Debian's package with "
                 "'apt-get update && apt-get install -y chromium' (not 'playwright install')")
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def browser(chromium_path):
    try:
        from playwright import sync_api
    except ImportError:
        _missing("no Playwright: pip install -e '.[test]' (it is in the 'test' extra)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LabServer:
    """`learnscope lab` in a child process, on a free port, with its own run store and model folder."""

    def __init__(self, folder: Path, data_dir: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "server.log"
        env = {**os.environ, "LEARNSCOPE_DATA": str(data_dir), "LEARNSCOPE_STORE": str(folder / "runs.sqlite")}
        env.pop("PYTEST_CURRENT_TEST", None)    # else NiceGUI believes it runs inside pytest and won't serve
        command = [sys.executable, "-m", "learnscope", "lab", "--no-browser", "--no-download",
                   "--port", str(self.port)]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_serving()

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the lab server exited with {self.process.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(self.url, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the lab server did not answer within {SERVER_START_SECONDS} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory, shared_data_dir):
    """One lab server per test module, so a module's training runs don't slow another's."""
    server = LabServer(tmp_path_factory.mktemp("lab"), shared_data_dir)
    yield server
    server.stop()
    assert "Traceback" not in server.output(), f"the lab server logged an exception:\n{server.output()}"


@pytest.fixture
def jupyterlab(tmp_path):
    """JupyterLab serving tmp_path on 127.0.0.1, isolated from the user's settings, its app exposed to the page
    (window.jupyterapp) so a test can run the notebook's cells: (base url, token)."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        _missing("no JupyterLab: pip install -e '.[test,notebook]' (it is in the 'test' extra)")
    port, token = _free_port(), "learnscope-test"
    home = tmp_path / "jupyter"
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    env.pop("PYTEST_CURRENT_TEST", None)
    news = home / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false"}')                  # no "get notified about news?" over the page
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--expose-app-in-browser",
               f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={tmp_path}", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.extension_manager=readonly",
               *(["--allow-root"] if os.geteuid() == 0 else [])]      # CI runs as root
    log = tmp_path / "jupyterlab.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + JUPYTERLAB_START_SECONDS
    while True:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited with {server.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"JupyterLab did not answer in {JUPYTERLAB_START_SECONDS} s:\n"
                            f"{log.read_text(errors='replace')}")
            time.sleep(0.3)
    yield url, token
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


#: From now on, every text drawn on a canvas of the page is recorded with its left and right edge and its canvas's
#: width (device pixels), so a test can check that no label is cut off at the edge; rotated text is left out
RECORD_CANVAS_TEXT = """() => {
    window.__canvasTexts = [];
    const fillText = CanvasRenderingContext2D.prototype.fillText;
    CanvasRenderingContext2D.prototype.fillText = function (text, x, y, ...rest) {
        const m = this.getTransform();
        if (m.b === 0 && m.c === 0) {
            const width = this.measureText(text).width;
            const align = this.textAlign;
            const left = align === "center" ? x - width / 2 : align === "right" || align === "end" ? x - width : x;
            window.__canvasTexts.push({text: String(text), left: m.a * left + m.e, right: m.a * (left + width) + m.e,
                                       canvas: this.canvas.width});
        }
        return fillText.call(this, text, x, y, ...rest);
    };
}"""


class CanvasText:
    """Texts drawn on a page's canvases: record(page) from now on; drawn(page) their strings; cut_off(page) the ones
    that stick out of their canvas (half a pixel of rounding allowed)."""

    @staticmethod
    def record(page) -> None:
        page.evaluate(RECORD_CANVAS_TEXT)

    @staticmethod
    def drawn(page) -> list[str]:
        return page.evaluate("() => window.__canvasTexts.map((t) => t.text)")

    @staticmethod
    def cut_off(page) -> list[dict]:
        return page.evaluate("() => window.__canvasTexts.filter((t) => t.left < -0.5 || t.right > t.canvas + 0.5)")


@pytest.fixture
def canvas_text() -> type[CanvasText]:
    return CanvasText


# the time fetch() takes for the whole home page, measured inside a tab
FETCH_HOME = """async () => {
    const start = performance.now();
    const response = await fetch('/', {cache: 'no-store'});
    await response.text();
    return [response.status, performance.now() - start];
}"""

#: Each live chart's title, the lines it was given, and how many of its canvas pixels carry a line's colour
READ_LIVE_CHARTS = """
() => [...document.querySelectorAll('.live-chart')].map(element => {
    const chart = getElement(element.id.slice(1));
    const canvas = element.querySelector('canvas');
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    const colours = chart.series.map(line => [1, 3, 5].map(i => parseInt(line.color.slice(i, i + 2), 16)));
    let inked = 0;
    for (let i = 0; i < pixels.length; i += 4) {
        if (colours.some(([r, g, b]) => Math.abs(pixels[i] - r) + Math.abs(pixels[i + 1] - g)
                                        + Math.abs(pixels[i + 2] - b) < 30 && pixels[i + 3] > 200)) inked++;
    }
    return {title: chart.options.title, series: chart.series, inked};
})
"""


class WatchedPage:
    """A Playwright page plus what it did: console errors, uncaught exceptions, requests leaving 127.0.0.1."""

    def __init__(self, page, base_url: str):
        self.page, self.base_url = page, base_url
        self.errors: list[str] = []
        self.outside_requests: list[str] = []
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        page.on("request", self._check_request)

    def _check_request(self, request) -> None:
        parsed = urlparse(request.url)
        if parsed.scheme in ("data", "blob"):
            return
        if parsed.hostname not in ("127.0.0.1", "localhost"):
            self.outside_requests.append(request.url)

    def open(self, path: str):
        self.page.goto(self.base_url + path, wait_until="networkidle")
        return self.page

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"lab-{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def screenshot_of(self, selector: str, name: str) -> Path:
        """What a learner sees around `selector` in this viewport: the mouse out of the way (no tooltip), the element
        scrolled into view, the viewport saved."""
        self.page.mouse.move(0, 0)
        self.page.locator(selector).first.scroll_into_view_if_needed()
        return self.screenshot(name, full_page=False)

    def home_answer(self, page=None) -> tuple[int, float]:
        """(status, milliseconds) of fetching the whole home page from inside `page` (default: this one): how long
        another tab waits for the server right now."""
        return (page or self.page).evaluate(FETCH_HOME)

    def live_charts(self) -> list[dict]:
        """Each LiveChart on the page: its title, the lines it was given and how many pixels carry their colours."""
        return self.page.evaluate(READ_LIVE_CHARTS)

    def live_chart(self, title: str, n_lines: int = 1, n_points: int = 1, timeout: float = 10_000) -> dict:
        """The LiveChart titled `title` once it shows at least n_lines lines, the last of them with at least n_points
        points (the page draws on its next tick)."""
        self.page.wait_for_function(
            "([title, lines, points]) => [...document.querySelectorAll('.live-chart')].some(e => {"
            " const chart = getElement(e.id.slice(1)); return chart.options.title === title"
            " && chart.series.length >= lines && chart.series[chart.series.length - 1].xs.length >= points; })",
            arg=[title, n_lines, n_points], timeout=timeout)
        return next(chart for chart in self.live_charts() if chart["title"] == title)

    def draw_on_pad(self, points) -> None:
        """One stroke on the Draw page's pad through `points` in pad pixels (0..280): press, move through them with
        the button held (several events between each), release."""
        pad = self.page.locator(".drawing-pad img")
        pad.wait_for()
        box = pad.bounding_box()
        on_page = [(box["x"] + x * box["width"] / 280, box["y"] + y * box["height"] / 280) for x, y in points]
        self.page.mouse.move(*on_page[0])
        self.page.mouse.down()
        for point in on_page[1:]:
            self.page.mouse.move(*point, steps=4)
        self.page.mouse.up()

    def horizontal_overflow(self) -> int:
        """How many pixels the page is wider than the viewport (0: nothing cut off at the side)."""
        return self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.fixture
def lab_page(browser, lab_server):
    context = browser.new_context(viewport=VIEWPORT)
    watched = WatchedPage(context.new_page(), lab_server.url)
    yield watched
    context.close()
    assert not watched.errors, f"JavaScript errors: {watched.errors}"
    assert not watched.outside_requests, f"requests left 127.0.0.1: {watched.outside_requests}"
