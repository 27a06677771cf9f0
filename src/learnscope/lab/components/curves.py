"""Line charts (ECharts, served by NiceGUI itself: no request leaves the computer)."""

from nicegui import ui

from learnscope.lessons.series import thin_series

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def line_chart(title: str, x_label: str, y_label: str, log_y: bool = False, height: str = "240px") -> ui.echart:
    """An empty chart; fill it with set_curves()."""
    options = {
        "animation": False,
        "title": {"text": title, "textStyle": {"fontSize": 13}},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 22, "textStyle": {"fontSize": 11}},
        "grid": {"left": 56, "right": 16, "top": 56, "bottom": 40},
        "xAxis": {"type": "value", "name": x_label, "nameLocation": "middle", "nameGap": 24, "scale": True},
        "yAxis": {"type": "log" if log_y else "value", "name": y_label, "scale": not log_y},
        "series": [],
    }
    return ui.echart(options).style(f"height: {height}; width: 100%")


def set_curves(chart: ui.echart, curves: dict[str, tuple], y_range: tuple | None = None) -> None:
    """curves: name -> (xs, ys); each is thinned to a few hundred points before it travels to the browser."""
    series = []
    for index, (name, (xs, ys)) in enumerate(curves.items()):
        xs, ys = thin_series(xs, ys)
        series.append({"name": name, "type": "line", "showSymbol": len(xs) < 30, "connectNulls": False,
                       "color": PALETTE[index % len(PALETTE)], "data": [list(pair) for pair in zip(xs, ys)]})
    chart.options["series"] = series
    if y_range is not None:
        chart.options["yAxis"].update(min=y_range[0], max=y_range[1])
    chart.update()
