"""A confusion matrix as a grid of clickable cells (rows: the true class, columns: what the model said)."""

from collections.abc import Callable

import numpy as np
from nicegui import ui

from learnscope.lessons.mnist_lab import confusion_cell_style


def confusion_grid(container, confusion: np.ndarray, class_names: list[str],
                   on_cell: Callable[[int, int], None]) -> None:
    """Fill `container` with the matrix: a header row of predicted classes, then one row per true class.
    Each cell shows its count; clicking it calls on_cell(true_class, predicted_class)."""
    n_classes = len(class_names)
    container.clear()
    with container, ui.element("div").classes("confusion-grid").style(
            f"display: grid; grid-template-columns: 5.5rem repeat({n_classes}, 2.6rem); gap: 2px; "
            "font-size: 0.8rem; font-variant-numeric: tabular-nums"):
        ui.label("true ↓ / said →").classes("text-xs text-slate-500 self-center")
        for name in class_names:
            ui.label(name).classes("text-center font-bold")
        for true_class, true_name in enumerate(class_names):
            ui.label(true_name).classes("text-right pr-2 font-bold self-center")
            for predicted_class, predicted_name in enumerate(class_names):
                count = int(confusion[true_class, predicted_class])
                what = "correct" if true_class == predicted_class else "mistaken"
                cell = ui.label(str(count)).classes("confusion-cell text-center py-1 rounded cursor-pointer")
                cell.style(confusion_cell_style(confusion, true_class, predicted_class))
                cell.props(f'data-true="{true_class}" data-predicted="{predicted_class}" '
                           f'title="{count} test images of {true_name} the model called {predicted_name} '
                           f'({what}). Click to see them."')
                cell.on("click", lambda _, t=true_class, p=predicted_class: on_cell(t, p))
