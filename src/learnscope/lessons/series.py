"""Curves for the browser: at most a few hundred points, however long the run."""

import numpy as np

MAX_POINTS = 300


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
