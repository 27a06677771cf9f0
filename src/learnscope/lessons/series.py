"""Curves for the browser: at most a few hundred points, however long the run."""

import numpy as np

MAX_POINTS = 300
#: Line colours of the lab's and the notebooks' charts, in the order lines appear
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
#: Reference lines (a rule of thumb, chance level) are grey and dashed
GUIDE_COLOR = "#888888"


def thin_series(xs, ys, max_points: int = MAX_POINTS) -> tuple[list[float], list[float]]:
    """(xs, ys) -> at most `max_points` pairs: the mean of each of max_points equal slices, so noise averages
    out as it would by eye and the last point is always the latest value's slice. Non-finite ys become None
    (JSON null: a gap in the line, never a fake zero)."""
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    if len(xs) > max_points:
        starts = np.linspace(0, len(xs), max_points + 1).astype(int)[:-1]
        sizes = np.diff(np.append(starts, len(xs)))
        xs = np.add.reduceat(xs, starts) / sizes
        ys = np.add.reduceat(ys, starts) / sizes
    return xs.tolist(), [float(y) if np.isfinite(y) else None for y in ys]


def live_series(curves: dict[str, tuple], guides: tuple[str, ...] = ()) -> list[dict]:
    """What a live chart draws (the lab's LiveChart, a notebook's LiveCurves): [{name, color, dashed, xs, ys}], each
    line thinned to a few hundred points (ys may hold None: a gap); the names in `guides` are grey dashed
    reference lines."""
    series = []
    for index, (name, (xs, ys)) in enumerate(curves.items()):
        xs, ys = thin_series(xs, ys)
        guide = name in guides
        series.append({"name": name, "color": GUIDE_COLOR if guide else PALETTE[index % len(PALETTE)],
                       "dashed": guide, "xs": xs, "ys": ys})
    return series
