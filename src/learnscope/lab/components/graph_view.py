"""The computational graph of a tiny network as an SVG: one box per operation with its value (v) and gradient
(g = dL/d(node)); each line is labelled with its local derivative, so the chain rule can be read off."""

from collections import defaultdict

from learnscope.lessons.five_steps import format_number
from learnscope.lessons.graph import ComputationalGraph

BOX_WIDTH, BOX_HEIGHT, COLUMN_GAP, ROW_GAP = 92, 46, 150, 58
LABEL_AT = 0.72             # where along a line its local derivative is written
COLORS = {"input": "#e0f2fe", "weight": "#fef3c7", "bias": "#fef3c7", "multiply": "#f1f5f9", "add": "#f1f5f9",
          "activation": "#dcfce7", "loss": "#fee2e2"}


def graph_svg(graph: ComputationalGraph) -> str:
    columns = defaultdict(list)
    for node in graph.nodes:
        columns[node.layer].append(node)
    height = max(len(nodes) for nodes in columns.values()) * ROW_GAP + 20
    width = (max(columns) + 1) * COLUMN_GAP + 20
    where = {}
    for column, nodes in columns.items():
        top = (height - len(nodes) * ROW_GAP) / 2
        for row, node in enumerate(nodes):
            where[node.id] = (10 + column * COLUMN_GAP, top + row * ROW_GAP + 6)
    parts = []
    for edge in graph.edges:
        (xa, ya), (xb, yb) = where[edge.source], where[edge.target]
        x1, y1, x2, y2 = xa + BOX_WIDTH, ya + BOX_HEIGHT / 2, xb, yb + BOX_HEIGHT / 2
        # the label sits near the line's end: lines fan out from a box, so their ends are apart
        lx, ly = x1 + LABEL_AT * (x2 - x1), y1 + LABEL_AT * (y2 - y1)
        parts.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#94a3b8" stroke-width="1.2"/>'
                     f'<text x="{lx:.1f}" y="{ly - 3:.1f}" font-size="9" fill="#7c3aed" '
                     f'text-anchor="middle">{format_number(edge.local_derivative)}</text>')
    for node in graph.nodes:
        x, y = where[node.id]
        parts.append(f'<g class="graph-node" data-node="{node.id}"><rect x="{x}" y="{y}" width="{BOX_WIDTH}" '
                     f'height="{BOX_HEIGHT}" rx="6" fill="{COLORS[node.kind]}" stroke="#475569"/>'
                     f'<text x="{x + BOX_WIDTH / 2}" y="{y + 14}" font-size="12" font-weight="bold" '
                     f'text-anchor="middle">{node.label}</text>'
                     f'<text x="{x + 6}" y="{y + 28}" font-size="10">v {format_number(node.value)}</text>'
                     f'<text x="{x + 6}" y="{y + 40}" font-size="10" fill="#b91c1c">g {format_number(node.grad)}'
                     f'</text></g>')
    return (f'<svg class="graph-view" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>')
