"""The network of a step as an SVG: values flow left to right in the forward steps, errors right to left in the
backward steps (animated dashes show the direction). Small layers show every neuron with its number and every
weight as a line (colour = sign of the weight, or of its gradient when going backward); big layers are one box."""

from html import escape

import numpy as np

from learnscope.lessons.five_steps import format_number, layer_numbers
from learnscope.lessons.pictures import diverging_colors
from learnscope.lessons.step_through import LearningStep

MAX_DRAWN_UNITS = 12
LABEL_ROOM = 70                 # pixels right of the output column for the class names
COLUMN_GAP, ROW_GAP, NODE = 150, 48, 21
FLOW_CSS = """
.step-diagram .flow { stroke-dasharray: 6 5; }
.step-diagram.forward .flow { animation: flow-right 0.9s linear infinite; }
.step-diagram.backward .flow { animation: flow-left 0.9s linear infinite; }
@keyframes flow-right { to { stroke-dashoffset: -22; } }
@keyframes flow-left { to { stroke-dashoffset: 22; } }
"""


def _columns(step: LearningStep, backward: bool) -> list[tuple[str, np.ndarray]]:
    """(label, values of the first example) per column: the input, then each Dense layer's output after its
    activation; going backward, the gradients dL/d(those values)."""
    columns = [("x", step.layers[0].grad_input if backward else step.x)]
    records = step.layers
    numbers = layer_numbers(step)
    for position, record in enumerate(records):
        if "W" not in record.params:
            continue
        last = position
        while last + 1 < len(records) and "W" not in records[last + 1].params:
            last += 1                                   # the activation (and dropout) after this Dense layer
        shown = records[last].grad_output if backward else records[last].output
        columns.append((f"layer {numbers[record.index]}", shown))     # numbered as in the formulas (a¹, W¹)
    return [(label, np.asarray(values).reshape(len(step.x), -1)[0]) for label, values in columns]


def step_diagram_svg(step: LearningStep, phase: str, output_names=None) -> str:
    """phase: 'forward' (values, weights) or 'backward' (gradients, dL/dW); output_names: a label beside each output
    neuron (the class it stands for, e.g. the digits 0–9)."""
    backward = phase == "backward"
    columns = _columns(step, backward)
    dense = [record for record in step.layers if "W" in record.params]
    heights = [min(len(values), MAX_DRAWN_UNITS) for _, values in columns]
    height = max(heights) * ROW_GAP + 60
    width = (len(columns) - 1) * COLUMN_GAP + 140 + (LABEL_ROOM if output_names is not None else 0)
    positions = []
    for column, (_, values) in enumerate(columns):
        x = 70 + column * COLUMN_GAP
        if len(values) > MAX_DRAWN_UNITS:
            positions.append(None)
        else:
            top = (height - len(values) * ROW_GAP) / 2 + ROW_GAP / 2
            positions.append([(x, top + i * ROW_GAP) for i in range(len(values))])
    parts = []
    for column in range(len(columns) - 1):
        left, right = positions[column], positions[column + 1]
        x0, x1 = 70 + column * COLUMN_GAP, 70 + (column + 1) * COLUMN_GAP
        if left is None or right is None:               # a big layer: one arrow
            parts.append(f'<line class="flow" x1="{x0 + 30}" y1="{height / 2}" x2="{x1 - 30}" y2="{height / 2}" '
                         f'stroke="#64748b" stroke-width="4"/>')
            continue
        weights = dense[column].grads["W"] if backward else dense[column].params["W"]
        limit = float(np.abs(weights).max()) or 1.0
        colors = diverging_colors(weights, limit=limit)
        for i, (xa, ya) in enumerate(left):
            for j, (xb, yb) in enumerate(right):
                r, g, b = colors[i, j]
                width_px = 0.5 + 3.5 * abs(float(weights[i, j])) / limit
                parts.append(f'<line class="flow" x1="{xa + NODE}" y1="{ya}" x2="{xb - NODE}" y2="{yb}" '
                             f'stroke="rgb({r},{g},{b})" stroke-width="{width_px:.2f}"/>')
    for column, ((label, values), nodes) in enumerate(zip(columns, positions)):
        x = 70 + column * COLUMN_GAP
        parts.append(f'<text x="{x}" y="16" text-anchor="middle" font-size="12" fill="#334155">{label}</text>')
        if nodes is None:
            parts.append(f'<rect x="{x - 30}" y="{height / 2 - 40}" width="60" height="80" rx="6" fill="#e2e8f0" '
                         f'stroke="#475569"/><text x="{x}" y="{height / 2 + 4}" text-anchor="middle" '
                         f'font-size="12">{len(values)} values</text>')
            continue
        limit = float(np.abs(values).max()) or 1.0
        for (cx, cy), value in zip(nodes, values):
            r, g, b = diverging_colors(np.array([value]), limit=limit)[0]
            parts.append(f'<circle cx="{cx}" cy="{cy}" r="{NODE}" fill="rgb({r},{g},{b})" stroke="#334155"/>'
                         f'<text x="{cx}" y="{cy + 3}" text-anchor="middle" font-size="9">'
                         f'{format_number(value)}</text>')
        if column == len(columns) - 1 and output_names is not None:
            for (cx, cy), name in zip(nodes, output_names):
                parts.append(f'<text class="output-name" x="{cx + NODE + 6}" y="{cy + 4}" font-size="12" '
                             f'fill="#334155">{escape(str(name))}</text>')
    return (f'<svg class="step-diagram {phase}" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>')
