"""Formulas rendered as MathML (converted on the server by latex2mathml; the browser draws MathML itself, so no
script or font is fetched)."""

from latex2mathml.converter import convert
from nicegui import ui


def formula(latex: str) -> ui.html:
    """A displayed formula; an empty string gives an empty element."""
    mathml = convert(latex, display="block") if latex else ""
    return ui.html(mathml, sanitize=False).classes("formula text-lg overflow-x-auto")
