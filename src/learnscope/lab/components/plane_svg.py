"""The history page's pictures as SVG: points on the plane with a unit's line and the side where it says 1, and the
path a perceptron's weights take. Every coordinate comes from below lab/ (perceptron_rule); this only draws."""

from html import escape
from itertools import pairwise

import numpy as np

from learnscope.lessons.perceptron_rule import number
from learnscope.lessons.playground import class_color_hex, plane_to_pixel

PLANE_SIZE = 320
PATH_SIZE = 260
SHADE = "#fdba74"               # the side where a unit says 1: pale orange, the class-1 colour
CYCLE = "#dc2626"


def _pixels(points, size: float) -> np.ndarray:
    return plane_to_pixel(np.asarray(points, dtype=np.float64).reshape(-1, 2), size)


def plane_svg(points, labels, *, shaded=(), lines=(), highlight: int | None = None, background: str = "",
              size: int = PLANE_SIZE, name: str = "plane") -> str:
    """points (N, 2) on the plane with their classes; shaded: the corners of the region where the unit says 1;
    lines: (ends, label) pairs, ends from perceptron_rule.line_across_square (None: no line); highlight: a point to
    ring; background: a PNG data URI drawn under everything."""
    parts = [f'<rect width="{size}" height="{size}" fill="white"/>']
    if background:
        parts.append(f'<image href="{background}" width="{size}" height="{size}" preserveAspectRatio="none"/>')
    parts.append(f'<rect x="0.5" y="0.5" width="{size - 1}" height="{size - 1}" fill="none" stroke="#94a3b8"/>')
    if len(shaded) >= 3:
        corners = " ".join(f"{x:.1f},{y:.1f}" for x, y in _pixels(shaded, size))
        parts.append(f'<polygon data-shaded points="{corners}" fill="{SHADE}" fill-opacity="0.35"/>')
    middle = size / 2
    parts.append(f'<line x1="0" y1="{middle}" x2="{size}" y2="{middle}" stroke="#cbd5e1"/>'
                 f'<line x1="{middle}" y1="0" x2="{middle}" y2="{size}" stroke="#cbd5e1"/>'
                 f'<text x="{size - 6}" y="{middle - 5}" text-anchor="end" font-size="11" fill="#64748b">x₁</text>'
                 f'<text x="{middle + 5}" y="12" font-size="11" fill="#64748b">x₂</text>')
    for ends, label in lines:
        if ends is None:
            continue
        (x1, y1), (x2, y2) = _pixels(ends, size)
        parts.append(f'<line data-line="{escape(label)}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                     'stroke="#111827" stroke-width="2.5"/>')
        if label:                                   # near the lower end, inside the picture, on a white halo
            (xa, ya), (xb, yb) = sorted(((x1, y1), (x2, y2)), key=lambda end: end[1])
            tx, ty = xb + 0.12 * (xa - xb) + 6, yb + 0.12 * (ya - yb)
            parts.append(f'<text x="{min(tx, size - 22):.1f}" y="{ty:.1f}" font-size="14" font-weight="bold" '
                         f'fill="#111827" stroke="white" stroke-width="3" paint-order="stroke">{escape(label)}</text>')
    for index, ((x, y), label) in enumerate(zip(_pixels(points, size), labels)):
        ringed = index == highlight
        radius = 8 if ringed else 5.5                   # a white halo: the point stands out on its own colour
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius + 2.5}" fill="white"/>'
                     f'<circle data-point="{index}" cx="{x:.1f}" cy="{y:.1f}" r="{radius}" '
                     f'fill="{class_color_hex(int(label))}" stroke="#111827" stroke-width="{3 if ringed else 1.2}"/>')
    return (f'<svg data-{name} width="{size}" height="{size}" viewBox="0 0 {size} {size}" role="img" '
            f'xmlns="http://www.w3.org/2000/svg" style="max-width: 100%; height: auto">{"".join(parts)}</svg>')


def weight_path_svg(path, cycle=(), size: int = PATH_SIZE) -> str:
    """The perceptron's weights (w₁, w₂) after each update as a path from the start (a ring), each state labelled
    with its bias b; the states of a cycle in red, round and round."""
    states = np.asarray(path, dtype=np.float64).reshape(-1, 3)
    low, high = states[:, :2].min(axis=0), states[:, :2].max(axis=0)
    span = max(float((high - low).max()), 1e-9)
    centre, scale = (low + high) / 2, (size - 2 * 34) / span      # one scale for both axes, centred

    def pixel(w):
        return size / 2 + (w[0] - centre[0]) * scale, size / 2 - (w[1] - centre[1]) * scale

    parts = ['<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
             f'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="{CYCLE}"/></marker></defs>',
             f'<rect width="{size}" height="{size}" fill="white"/>',
             f'<text x="{size - 6}" y="{size - 8}" text-anchor="end" font-size="11" fill="#64748b">w₁ →</text>',
             '<text x="6" y="14" font-size="11" fill="#64748b">↑ w₂</text>']
    drawn = [pixel(w) for w in states]
    if len(drawn) > 1:
        parts.append('<polyline data-path points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in drawn)
                     + '" fill="none" stroke="#94a3b8" stroke-width="1.5"/>')
    cycle = np.asarray(cycle, dtype=np.float64).reshape(-1, 3)
    for a, b in pairwise(cycle):
        (xa, ya), (xb, yb) = pixel(a), pixel(b)
        if (xa, ya) != (xb, yb):
            parts.append(f'<line data-cycle-step x1="{xa:.1f}" y1="{ya:.1f}" x2="{xb:.1f}" y2="{yb:.1f}" '
                         f'stroke="{CYCLE}" stroke-width="2.5" marker-end="url(#arrow)"/>')
    biases: dict[tuple, list[str]] = {}           # one label per (w₁, w₂), with every bias it had there
    for w in (cycle if len(cycle) else states[-12:]):          # label the cycle, else the latest states
        seen = biases.setdefault((round(w[0], 9), round(w[1], 9)), [])
        if number(w[2]) not in seen:
            seen.append(number(w[2]))
    for (w1, w2), bs in biases.items():
        x, y = pixel((w1, w2))
        left = x > size * 0.6                       # near the right edge: the label goes left of its state
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{CYCLE if len(cycle) else "#334155"}"/>'
                     f'<text x="{x - 9 if left else x + 9:.1f}" y="{y - 8:.1f}" font-size="11" fill="#111827" '
                     f'text-anchor="{"end" if left else "start"}" stroke="white" stroke-width="3" '
                     f'paint-order="stroke">w = ({number(w1)}, {number(w2)}), b = {", ".join(bs)}</text>')
    x, y = drawn[0]
    parts.append(f'<circle data-start cx="{x:.1f}" cy="{y:.1f}" r="7" fill="none" stroke="#111827"/>')
    return (f'<svg data-weight-path width="{size}" height="{size}" viewBox="0 0 {size} {size}" role="img" '
            f'xmlns="http://www.w3.org/2000/svg" style="max-width: 100%; height: auto">{"".join(parts)}</svg>')
