"""Line charts: LiveChart, a canvas of our own (live_chart.js), redrawn with the new lines only.

Not ECharts (the lab's bar charts): a page that shows a run in progress redraws its curves every few seconds, and
ECharts costs the browser ~7× the CPU per redraw, taken from the trainer on a 2-core machine (live_chart.js).
"""

from nicegui import ui

from learnscope.lessons.series import live_series


class LiveChart(ui.element, component="live_chart.js"):
    """A line chart for a run in progress, drawn on a canvas by live_chart.js; show() sends only the new lines, never
    the options again. NOTE: ui.echart costs Chromium 2.6× the CPU per redraw of the MNIST page's four charts
    (benchmarks/chart_cost.py), CPU that a 2-core machine takes from the training it shows."""

    def __init__(self, title: str, x_label: str, y_label: str, log_y: bool = False, height: str = "240px",
                 y_range: tuple[float, float] | None = None):
        super().__init__()
        # y_range: a fixed y axis (accuracy: 0 to 1); None follows the data
        self.options = {"title": title, "x_label": x_label, "y_label": y_label, "log_y": log_y,
                        "y_range": None if y_range is None else list(y_range)}
        self._props["options"] = self.options
        self._props["lines"] = []                   # what the chart starts with
        self.series: list[dict] = []                # what the browser shows now
        self.classes("live-chart").style(f"height: {height}; width: 100%")

    def show(self, curves: dict[str, tuple], guides: tuple[str, ...] = ()) -> None:
        series = live_series(curves, guides)
        if series == self.series:
            return
        self.series = series
        if not self.client.has_socket_connection:  # the page is being built: the lines go out with it
            self._props["lines"] = series
        else:   # NOTE: not a prop change, which NiceGUI would send as an update, re-rendering the whole page
            self.run_method("show", series)
