"""Figures drawn without pyplot (no global state, no window, whatever backend the user configured): the report's,
and every result's .plot(), which a notebook shows as a PNG."""

import io

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
