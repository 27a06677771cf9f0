"""Text with glossary hovers: each technical word's first appearance is underlined with dots and shows its
definition (lessons/glossary.py) on hover and on keyboard focus."""

from html import escape

from nicegui import ui

from learnscope.lessons.glossary import GLOSSARY, mark_terms

# A CSS tooltip: shown on hover and on focus (keyboard), wraps, stays above the text, never clipped sideways.
GLOSSARY_CSS = """
.term { border-bottom: 1px dotted currentColor; cursor: help; position: relative; }
.term:hover::after, .term:focus::after {
  content: attr(data-definition); position: absolute; left: 0; bottom: 1.6em; z-index: 3000;
  width: max-content; max-width: min(22rem, 80vw); white-space: normal;
  padding: 0.4rem 0.6rem; border-radius: 4px; background: #1e293b; color: white;
  font-size: 0.8rem; font-weight: normal; line-height: 1.3; }
"""


def glossary_html(text: str) -> str:
    """The text as HTML (escaped) with its glossary words marked."""
    parts = []
    for piece, term in mark_terms(text):
        if term is None:
            parts.append(escape(piece))
        else:
            definition = escape(f"{term}: {GLOSSARY[term]}", quote=True)
            parts.append(f'<span class="term" tabindex="0" data-definition="{definition}">{escape(piece)}</span>')
    return "".join(parts)


class GlossaryText(ui.html):
    """Text whose technical words explain themselves on hover. `text` (and set_text) work as on a label; tests and
    filters see the plain text, the browser the marked one."""

    def __init__(self, text: str = ""):
        ui.add_css(GLOSSARY_CSS, shared=True)
        super().__init__("", sanitize=False)        # our own markup from escaped text: nothing to sanitize
        self.text = text

    @property
    def text(self) -> str:
        return self._plain

    @text.setter
    def text(self, value: str) -> None:
        self._plain = str(value)
        self.content = glossary_html(self._plain)

    def set_text(self, value: str) -> None:
        self.text = value

    def _displayed_contents(self, *, only_visible: bool) -> list:
        return [self._plain]                        # what a learner reads, without the hover markup
