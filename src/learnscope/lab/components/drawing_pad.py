"""A drawing pad: draw with the mouse (or a finger, or a pen); the strokes are collected on the server.

Built on ui.interactive_image: pointer events arrive with image coordinates (0..size), each stroke is kept as a
list of points and shown as an SVG polyline as wide as the pen the picture is rasterized with, so what the
learner sees is what the network gets. `version` grows with every change; the page polls it on a timer, which
keeps predictions at the timer's rate however fast the pointer moves.
"""


from nicegui import ui

from learnscope.lessons.drawing import CANVAS_SIZE, PEN_WIDTH

#: Points closer than this (in pad pixels) to the previous one add nothing a 28×28 picture could show
MIN_STEP = 1.5


class DrawingPad:
    """ui.interactive_image of CANVAS_SIZE² pixels holding `strokes`: [[(x, y), ...], ...] in pad pixels."""

    def __init__(self):
        size = CANVAS_SIZE                      # the size strokes_to_digit rasterizes at
        self.strokes: list[list[tuple[float, float]]] = []
        self.version = 0
        self._drawing = False
        self.image = ui.interactive_image(
            size=(size, size), on_mouse=self._handle, sanitize=False,      # the SVG is ours: numbers only
            events=["pointerdown", "pointermove", "pointerup", "pointerleave", "pointercancel"],
        ).classes("drawing-pad border-2 border-slate-400 rounded bg-white cursor-crosshair").mark("draw-pad")
        # touch-action: none keeps a finger drawing instead of scrolling the page
        self.image.style(f"width: {size}px; height: {size}px; touch-action: none; user-select: none")
        with self.image:                   # above the pad: below it, the tip would cover the Clear and Undo buttons
            ui.tooltip("Draw one digit here with the mouse (hold the button down). Big and centred works best.") \
                .props('anchor="top middle" self="bottom middle"')

    # -- events --------------------------------------------------------------------------------------------------
    def _handle(self, event) -> None:
        x, y = round(float(event.image_x), 1), round(float(event.image_y), 1)
        if event.type == "pointerdown" and event.button == 0:
            self._drawing = True
            self.strokes.append([(x, y)])
        elif event.type == "pointermove" and self._drawing:
            if not event.buttons & 1:            # the button came up outside the pad: the stroke ended there
                self._drawing = False
                return
            last_x, last_y = self.strokes[-1][-1]
            if (x - last_x) ** 2 + (y - last_y) ** 2 < MIN_STEP ** 2:
                return
            self.strokes[-1].append((x, y))
        else:                                    # pointerup, pointerleave, pointercancel
            self._drawing = False
            return
        self._changed()

    def clear(self) -> None:
        """Wipe the pad."""
        self.strokes, self._drawing = [], False
        self._changed()

    def undo(self) -> None:
        """Remove the last stroke."""
        if self.strokes:
            self.strokes.pop()
            self._drawing = False
            self._changed()

    @property
    def is_empty(self) -> bool:
        return not self.strokes

    def _changed(self) -> None:
        self.version += 1
        self.image.content = self.svg()

    def svg(self) -> str:
        """The ink: one round-capped polyline per stroke (a dot for a single click), black on the white pad."""
        parts = []
        for stroke in self.strokes:
            if len(stroke) == 1:
                x, y = stroke[0]
                parts.append(f'<circle cx="{x}" cy="{y}" r="{PEN_WIDTH / 2}" fill="#111827" />')
            else:
                points = " ".join(f"{x},{y}" for x, y in stroke)
                parts.append(f'<polyline points="{points}" fill="none" stroke="#111827" stroke-width="{PEN_WIDTH}" '
                             'stroke-linecap="round" stroke-linejoin="round" />')
        return "".join(parts)
