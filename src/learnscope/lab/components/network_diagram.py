"""The network diagram: one column of nodes per layer, an edge per weight (orange positive, blue negative,
wider for larger |w|), each node filled with its bias colour and, for hidden neurons, showing what that neuron
computes over the plane. Hover shows the numbers, clicking an edge opens a small editor for its weight."""

import html
import math
from collections.abc import Callable

from nicegui import ui

from learnscope.lessons.pictures import NEGATIVE, POSITIVE, diverging_colors, hex_color
from learnscope.lessons.playground import check_weight

WIDTH, MIN_HEIGHT, MAX_HEIGHT = 600, 220, 460
LEFT, RIGHT = 64, 70            # room for the input names on the left and the output names on the right
MAX_NODE = 40


# -- geometry -------------------------------------------------------------------------------------------------
def diagram_layout(sizes, width: float, height: float, node: float, margin: float = 8) -> list[list[tuple]]:
    """Centre (x, y) of every node: one column per layer spread over `width`, each column's nodes stacked from
    the top with `node`-sized boxes and a fixed gap, centred vertically in `height`."""
    sizes = list(sizes)
    n_columns = len(sizes)
    left, right = margin + node / 2, width - margin - node / 2
    xs = [left + (right - left) * c / (n_columns - 1) for c in range(n_columns)] if n_columns > 1 else [width / 2]
    gap = node * 0.35
    positions = []
    for x, count in zip(xs, sizes):
        column_height = count * node + (count - 1) * gap
        top = (height - column_height) / 2 + node / 2
        positions.append([(x, top + k * (node + gap)) for k in range(count)])
    return positions


def edge_width(weight: float, max_width: float = 6.0) -> float:
    """Stroke width of an edge: 0.5 px plus 1.5 px per unit of |weight|, at most max_width."""
    magnitude = abs(weight) if math.isfinite(weight) else max_width
    return min(max_width, 0.5 + 1.5 * magnitude)


def diagram_height(sizes, node: float) -> float:
    """Height the tallest column needs (plus a margin)."""
    tallest = max(sizes)
    return tallest * node + (tallest - 1) * node * 0.35 + 16



def diagram_size(sizes) -> tuple[float, float]:
    """(node size, picture height): nodes shrink only when the tallest column would not fit MAX_HEIGHT."""
    tallest = max(sizes)
    node = min(MAX_NODE, (MAX_HEIGHT - 16) / (tallest + (tallest - 1) * 0.35))
    return node, max(MIN_HEIGHT, diagram_height(sizes, node))


def _hex(value: float, limit: float = 1.0) -> str:
    return hex_color(diverging_colors([value], limit=limit)[0])


def node_name(diagram: dict, column: int, index: int) -> str:
    """'x₁', 'neuron 2 of hidden layer 1', 'class 0': how the info line names a node."""
    if column == 0:
        return diagram["inputs"][index]
    if column == len(diagram["sizes"]) - 1:
        return diagram["outputs"][index]
    return f"neuron {index + 1} of hidden layer {column}"


def diagram_svg(diagram: dict, input_maps=(), neuron_maps=()) -> str:
    """SVG markup of the whole diagram; edges carry ids 'e-L-I-J' (Dense layer L, from node I to node J),
    nodes 'n-C-K' (column C, node K); each has a <title> with its numbers for the browser's own tooltip."""
    sizes = diagram["sizes"]
    node, height = diagram_size(sizes)
    positions = diagram_layout(sizes, WIDTH - LEFT - RIGHT, height, node)
    positions = [[(x + LEFT, y) for x, y in column] for column in positions]
    edges, hits, nodes = [], [], []
    for layer, weights in enumerate(diagram["weights"]):
        for i, row in enumerate(weights):
            x1, y1 = positions[layer][i]
            for j, w in enumerate(row):
                x2, y2 = positions[layer + 1][j]
                start, end = x1 + node / 2, x2 - node / 2
                color = hex_color(POSITIVE if w >= 0 else NEGATIVE)
                edges.append(f'<line x1="{start:.1f}" y1="{y1:.1f}" x2="{end:.1f}" y2="{y2:.1f}" stroke="{color}" '
                             f'stroke-width="{edge_width(w):.2f}" stroke-opacity="0.75"/>')
                title = html.escape(f"weight {w:+.3f}: {node_name(diagram, layer, i)} → "
                                    f"{node_name(diagram, layer + 1, j)} (click to edit)")
                hits.append(f'<line id="e-{layer}-{i}-{j}" x1="{start:.1f}" y1="{y1:.1f}" x2="{end:.1f}" y2="{y2:.1f}" '
                            f'stroke="transparent" stroke-width="7" pointer-events="stroke" style="cursor:pointer">'
                            f'<title>{title}</title></line>')
    for column, points in enumerate(positions):
        for k, (x, y) in enumerate(points):
            left, top = x - node / 2, y - node / 2
            if column == 0:
                fill, title = "#ffffff", f"input {diagram['inputs'][k]}"
            else:
                bias = diagram["biases"][column - 1][k]
                fill, title = _hex(bias), f"{node_name(diagram, column, k)}: bias {bias:+.3f}"
            nodes.append(f'<rect id="n-{column}-{k}" x="{left:.1f}" y="{top:.1f}" width="{node:.1f}" '
                         f'height="{node:.1f}" rx="3" fill="{fill}" stroke="#334155" stroke-width="1" '
                         'pointer-events="all">'
                         f'<title>{html.escape(title)}</title></rect>')
            picture = None
            if column == 0 and k < len(input_maps):
                picture = input_maps[k]
            elif 0 < column < len(sizes) - 1 and column - 1 < len(neuron_maps) and k < len(neuron_maps[column - 1]):
                picture = neuron_maps[column - 1][k]
            if picture is not None:
                inset = 3 if column else 1
                nodes.append(f'<image href="{picture}" x="{left + inset:.1f}" y="{top + inset:.1f}" '
                             f'width="{node - 2 * inset:.1f}" height="{node - 2 * inset:.1f}" pointer-events="none" '
                             'preserveAspectRatio="none" style="image-rendering:auto"/>')
            if column == 0:
                nodes.append(f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" font-size="13" '
                             f'fill="#1e293b">{html.escape(diagram["inputs"][k])}</text>')
            if column == len(sizes) - 1:
                nodes.append(f'<text x="{left + node + 6:.1f}" y="{y + 4:.1f}" font-size="13" '
                             f'fill="#1e293b">{html.escape(diagram["outputs"][k])}</text>')
    return "".join(edges) + "".join(hits) + "".join(nodes)


class NetworkDiagram:
    """The diagram plus its info line and weight editor; `show(...)` redraws it from a snapshot's numbers,
    `on_edit(layer, i, j, value)` is called when the learner sets a weight."""

    def __init__(self, on_edit: Callable[[int, int, int, float], None]):
        self.on_edit = on_edit
        self.editable = True
        self.diagram: dict | None = None
        self._edge: tuple[int, int, int] | None = None
        self.info = ui.label("Hover over a neuron or a line to see its numbers; click a line to change its weight.") \
            .classes("text-sm text-slate-700 min-h-[1.5rem]")
        self.frame = ui.element("div").classes("w-full").style(f"max-width: {WIDTH}px")
        self.height = 0.0
        self.image: ui.interactive_image | None = None
        with ui.row().classes("items-center gap-2") as self.editor:
            self.editor_label = ui.label("").classes("text-sm")
            self.weight_input = ui.input("new weight").props("dense outlined").classes("w-28") \
                .tooltip("Type a number from -100 to 100 and press Enter: the network uses it from the next step.")
            self.weight_input.on("keydown.enter", self._submit)
            ui.button("Set weight", on_click=self._submit).props("dense no-caps") \
                .tooltip("Replace this weight with the number you typed.")
            ui.button("Cancel", on_click=self.close_editor).props("dense flat no-caps") \
                .tooltip("Close the editor without changing the weight.")
            self.editor_error = ui.label("").classes("text-red-700 text-sm").props('role="alert"')
        self.editor.set_visibility(False)

    def show(self, diagram: dict, input_maps=(), neuron_maps=()) -> None:
        self.diagram = diagram
        _, height = diagram_size(diagram["sizes"])
        if height != self.height:           # the picture's size is fixed when it is made: make a new one
            self.height = height
            self.frame.clear()
            with self.frame:
                self.image = ui.interactive_image(size=(WIDTH, height), content="", events=[], sanitize=False) \
                    .classes("w-full border rounded bg-white")
            self.image.on("svg:pointerover", self._hover)
            self.image.on("svg:pointerdown", self._click)
        self.image.content = diagram_svg(diagram, input_maps, neuron_maps)

    def _describe(self, element_id: str) -> str | None:
        diagram, parts = self.diagram, element_id.split("-")
        if diagram is None or not element_id:
            return None
        try:
            if parts[0] == "e" and len(parts) == 4:
                layer, i, j = (int(p) for p in parts[1:])
                w = diagram["weights"][layer][i][j]
                edit = " Click to change it." if self.editable else ""
                return (f"Weight from {node_name(diagram, layer, i)} to {node_name(diagram, layer + 1, j)}: "
                        f"{w:+.4f} (orange: positive, blue: negative; thicker: larger).{edit}")
            if parts[0] == "n" and len(parts) == 3:
                column, k = int(parts[1]), int(parts[2])
                if column == 0:
                    return f"Input {diagram['inputs'][k]}: its picture shows this feature's value over the plane."
                bias = diagram["biases"][column - 1][k]
                what = "its output over the plane is drawn inside" if column < len(diagram["sizes"]) - 1 else \
                    "its score decides the colour of the output picture"
                return f"{node_name(diagram, column, k)}: bias {bias:+.4f} (the box's colour); {what}."
        except (IndexError, ValueError):
            return None
        return None

    def _hover(self, event) -> None:
        text = self._describe(event.args.get("element_id", ""))
        if text:
            self.info.text = text

    def _click(self, event) -> None:
        element_id = event.args.get("element_id", "")
        if not element_id.startswith("e-") or not self.editable or self.diagram is None:
            return
        try:
            layer, i, j = (int(p) for p in element_id.split("-")[1:])
            current = self.diagram["weights"][layer][i][j]
        except (IndexError, ValueError):
            return
        self.open_editor(layer, i, j, current)

    def open_editor(self, layer: int, i: int, j: int, current: float) -> None:
        self._edge = (layer, i, j)
        self.editor_label.text = (f"Weight from {node_name(self.diagram, layer, i)} to "
                                  f"{node_name(self.diagram, layer + 1, j)}:")
        self.weight_input.value = f"{current:.4f}"
        self.editor_error.text = ""
        self.editor.set_visibility(True)

    def close_editor(self) -> None:
        self._edge = None
        self.editor.set_visibility(False)

    def _submit(self) -> None:
        if self._edge is None:
            return
        try:
            value = check_weight(self.weight_input.value or "")
        except ValueError as err:
            self.editor_error.text = str(err)
            return
        self.on_edit(*self._edge, value)
        self.close_editor()
