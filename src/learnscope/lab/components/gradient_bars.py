"""Gradient lengths per hidden layer as bars on a log scale, each with its number: vanishing gradients span
several decades, which a linear bar could not show."""

import math

from learnscope.lessons.series import PALETTE


def decades(values) -> tuple[int, int]:
    """The powers of ten a log-scale bar spans to show all of `values` (one decade of room below the smallest)."""
    low = math.floor(math.log10(min(values))) - 1
    return low, max(math.ceil(math.log10(max(values))), low + 1)


def norm_bars(norms: list[float], color: str = PALETTE[0], scale: tuple[int, int] | None = None) -> str:
    """Each hidden layer's gradient length as a bar on a log scale, its number beside it. scale: the (low, high)
    powers of ten the bars span (shared by bars to be compared); by default, what these norms need."""
    if not norms:
        return '<div class="text-sm text-slate-500">Press "Measure at the start".</div>'
    low, high = scale or decades(norms)
    rows = []
    for index, value in enumerate(norms):
        width = 100 * (math.log10(value) - low) / (high - low)
        rows.append(f'<div class="flex items-center gap-2 text-sm" data-layer="{index + 1}">'
                    f'<span class="w-16 shrink-0">layer {index + 1}</span>'
                    f'<span class="grow"><span class="block h-5 rounded-sm" style="width: {width:.1f}%; '
                    f'background: {color}"></span></span><span class="w-20 shrink-0 font-mono">{value:.2g}'
                    "</span></div>")
    scale = f'<div class="text-xs text-slate-500 pl-16">bar length: log scale from 1e{low} to 1e{high}</div>'
    return '<div class="flex flex-col gap-1">' + "".join(rows) + scale + "</div>"
