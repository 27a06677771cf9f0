"""Figures drawn without pyplot (no global state, no window, whatever backend the user configured): the report's,
and every result's .plot(), which a notebook shows as a PNG."""

import io
import math

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: Resolution of every PNG we make (the report's, notebooks'): small files, still sharp at the width shown
DPI = 90


class LessonFigure(Figure):
    """A matplotlib Figure that a notebook displays as a PNG without pyplot (IPython asks _repr_png_)."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
        return buffer.getvalue()


def new_grid(rows: int, columns: int, width: float, height: float, ratios=None) -> tuple[LessonFigure, np.ndarray]:
    """(figure, axes[rows, columns]): a figure of width × height inches, its columns as wide as `ratios` say."""
    figure = LessonFigure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)                     # the Agg renderer, whatever backend the user configured
    return figure, figure.subplots(rows, columns, squeeze=False, width_ratios=ratios)


def new_figure(n_panels: int = 1, width: float = 5.0, height: float = 3.4, ratios=None) -> tuple[LessonFigure, list]:
    """(figure, [axes]): n_panels side by side in a figure of width × height inches."""
    figure, axes = new_grid(1, n_panels, width, height, ratios)
    return figure, list(axes[0])


def plot_maps(picture, maps: dict, title: str = "", shared_scale: bool = True, columns: int = 5) -> LessonFigure:
    """The input picture (unless None), then one attribution map per entry (title -> map of the picture's size), red
    for evidence for the class and blue against it, centred on 0: on one colour scale so their sizes compare, or
    (shared_scale=False) each on its own, where only the pattern matters. At most `columns` panels a row."""
    panels = len(maps) + (picture is not None)
    n_columns = min(panels, columns)
    n_rows = math.ceil(panels / n_columns)
    figure, grid = new_grid(n_rows, n_columns, width=2.9 * n_columns + 0.6 * shared_scale, height=3.1 * n_rows)
    axes = list(grid.ravel())
    for ax in axes[panels:]:
        ax.remove()
    axes = axes[:panels]
    if picture is not None:
        axes[0].imshow(as_picture(picture), cmap="gray_r", interpolation="nearest")
        axes[0].set_title("input", fontsize=9)
    map_axes = axes[picture is not None:]
    pictures = [as_picture(values) for values in maps.values()]
    shared_reach = max((float(np.abs(values).max()) for values in pictures), default=0.0) or 1.0
    for ax, label, values in zip(map_axes, maps, pictures):
        reach = shared_reach if shared_scale else float(np.abs(values).max()) or 1.0
        image = ax.imshow(values, cmap="RdBu_r", vmin=-reach, vmax=reach, interpolation="nearest")
        ax.set_title(label, fontsize=9)
    for ax in axes:
        ax.set_axis_off()
    if maps and shared_scale:
        figure.colorbar(image, ax=map_axes, shrink=0.8, label="attribution")
    if title:
        figure.suptitle(title, fontsize=10)
    return figure


def as_picture(values) -> np.ndarray:
    """An image's values as a 2-D array: a flat square (784 → 28×28) or a single-channel (1, 28, 28) picture."""
    values = np.asarray(values, dtype=float)
    while values.ndim > 2 and values.shape[0] == 1:
        values = values[0]
    if values.ndim == 1:
        side = math.isqrt(values.size)
        if side * side == values.size:
            return values.reshape(side, side)
        return values[None, :]
    return values
