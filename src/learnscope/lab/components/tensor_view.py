"""One tensor on the page: a table of its numbers when it is small, a heatmap you hover to read when it is big."""

import numpy as np
from nicegui import ui

from learnscope.lessons.five_steps import MAX_TABLE_SIZE, as_matrix, cell_at, format_number
from learnscope.lessons.pictures import diverging_colors, png_data_uri

HEATMAP_WIDTH = 360         # pixels on the page; tall matrices keep their aspect ratio up to HEATMAP_MAX_HEIGHT
HEATMAP_MAX_HEIGHT = 240


def tensor_view(name: str, values, limit: float | None = None) -> ui.element:
    """A captioned table (≤ MAX_TABLE_SIZE numbers) or heatmap of `values` (orange +, blue −); `limit`: the |value|
    drawn at full colour (default: this tensor's own largest)."""
    matrix = as_matrix(values)
    with ui.column().classes("tensor gap-1").mark(f"tensor:{name}") as box:
        ui.label(f"{name}  {tuple(np.shape(values))}").classes("text-sm font-bold")
        if matrix.size <= MAX_TABLE_SIZE:
            _table(matrix)
        else:
            _heatmap(matrix, limit)
    return box


def _table(matrix: np.ndarray) -> None:
    rows = "".join("<tr>" + "".join(f'<td class="px-1 text-right font-mono">{format_number(value)}</td>'
                                    for value in row) + "</tr>" for row in matrix)
    ui.html(f'<table class="tensor-table text-xs border border-slate-300">{rows}</table>', sanitize=False)


def _heatmap(matrix: np.ndarray, limit: float | None) -> None:
    rows, columns = matrix.shape
    height = min(HEATMAP_MAX_HEIGHT, max(8, HEATMAP_WIDTH * rows / columns))

    def show(event) -> None:
        # the PNG has one pixel per number, so image coordinates are (column, row) of the matrix
        cell = cell_at((rows, columns), event.image_x, event.image_y, columns, rows)
        if cell is not None:
            readout.text = f"row {cell[0]}, column {cell[1]}: {format_number(matrix[cell])}"

    image = ui.interactive_image(png_data_uri(diverging_colors(matrix, limit=limit)), events=["mousemove"],
                                 on_mouse=show)
    image.style(f"width: {HEATMAP_WIDTH}px; height: {height:.0f}px; image-rendering: pixelated").classes("heatmap")
    image.props('draggable="false"')
    readout = ui.label("Hover to read a number.").classes("text-xs text-slate-600 font-mono")
