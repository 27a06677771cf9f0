"""Pooling: summarise each small window of a feature map by one number, which shrinks the map and
makes the net care less about exactly where a pattern appeared. No weights to learn.

Both layers loop over the few offsets (i, j) inside a window, never over examples or pixels: at
offset (i, j), x[:, :, i::stride, j::stride] holds that entry of every window at once.
"""

import math

import numpy as np

from learnscope.core.validation import describe
from learnscope.layers.base import Flops, Layer
from learnscope.layers.windows import as_pair, compact_pair, show_pair, window_output_size


class _Pool2D(Layer):
    """Shared by MaxPool2D and AvgPool2D: window sizes, validation, shapes and config."""

    def __init__(self, pool_size=2, stride=None, dtype=None):
        super().__init__(dtype)
        name = type(self).__name__
        self.pool_size = as_pair(pool_size, "pool_size", name, minimum=1)
        # stride defaults to the pool size: windows tile the map without overlapping
        self.stride = self.pool_size if stride is None else as_pair(stride, "stride", name, minimum=1)
        self._input_shape = None

    def _offsets(self, out_h: int, out_w: int):
        """Yield (k, index) for the k-th offset (i, j) of a window, row by row; x[index] is that entry of every
        window, an (N, C, H', W') view."""
        (pool_h, pool_w), (sh, sw) = self.pool_size, self.stride
        for i in range(pool_h):
            for j in range(pool_w):
                rows, cols = slice(i, i + sh * out_h, sh), slice(j, j + sw * out_w, sw)
                yield i * pool_w + j, (slice(None), slice(None), rows, cols)

    def _check(self, x) -> tuple[np.ndarray, int, int]:
        """Validate x as (N, C, H, W); return it and the output height and width."""
        name = type(self).__name__
        x = self._check_input(x, ndim=None)
        if x.ndim != 4:
            if x.ndim == 2:
                fix = "Reshape flat images first, e.g. x.reshape(-1, 1, 28, 28), or pool after a Conv2D."
            elif x.ndim == 3:
                fix = "Add the channel axis: x[:, None] turns (N, H, W) into (N, 1, H, W)."
            else:
                fix = "Arrange the images as (batch, channels, height, width)."
            raise ValueError(f"{name} expected x of shape (N, C, H, W), got {x.shape}. {fix}")
        out_h, out_w = window_output_size(name, x.shape[2:], self.pool_size, self.stride, window_name="pool_size")
        return x, out_h, out_w

    def output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"{type(self).__name__} expected an input shape (C, H, W), got {describe(tuple(input_shape))}. "
                "Pool the output of a Conv2D, or reshape flat images to (C, H, W)."
            )
        out_h, out_w = window_output_size(type(self).__name__, input_shape[1:], self.pool_size, self.stride,
                                          window_name="pool_size")
        return (input_shape[0], out_h, out_w)

    def flops(self, input_shape):
        # a window of k numbers: k − 1 comparisons (max) or additions (average); backward routes one number each
        outputs = math.prod(self.output_shape(input_shape))
        return Flops(outputs * (self.pool_size[0] * self.pool_size[1] - 1), 0, outputs)

    def __repr__(self):
        return f"{type(self).__name__}(pool_size={show_pair(self.pool_size)}, stride={show_pair(self.stride)})"

    def config(self):
        return {"pool_size": compact_pair(self.pool_size), "stride": compact_pair(self.stride)}


class MaxPool2D(_Pool2D):
    """y = max of each window;  dL/dx = dL/dy at the window's argmax, 0 elsewhere.   (N, C, H, W) -> (N, C, H', W')

    NOTE: the max of a window is the max over its rows of each row's max, so forward takes it in two passes: across
    each row's pool_w entries, then down pool_h of those row maxima. Each pass is a few element-wise operations on
    whole arrays, and each remembers which entry won, so backward can send the gradient down the same two steps."""

    def __init__(self, pool_size=2, stride=None, dtype=None):
        super().__init__(pool_size, stride, dtype)
        self._winners = None

    def forward(self, x, train=False):
        x, out_h, out_w = self._check(x)
        (pool_h, pool_w), (sh, sw) = self.pool_size, self.stride
        row_max, across = _max_along(x, axis=3, size=pool_w, stride=sw, count=out_w)        # (N, C, H, W')
        window_max, down = _max_along(row_max, axis=2, size=pool_h, stride=sh, count=out_h)  # (N, C, H', W')
        self._input_shape, self._winners = x.shape, (across, down)  # backward routes through the winners
        return window_max

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._winners)
        if not need_input_grad:
            return None
        (pool_h, pool_w), (sh, sw) = self.pool_size, self.stride
        across, down = self._winners
        grad_rows = _route_back(grad_out, down, axis=2, size=pool_h, stride=sh, length=self._input_shape[2])
        return _route_back(grad_rows, across, axis=3, size=pool_w, stride=sw, length=self._input_shape[3])


def _entries(axis: int, offset: int, stride: int, count: int):
    """The index of entry `offset` of `count` windows along `axis` (windows start `stride` apart)."""
    index = [slice(None)] * 4
    index[axis] = slice(offset, offset + stride * (count - 1) + 1, stride)
    return tuple(index)


def _max_along(x, axis: int, size: int, stride: int, count: int):
    """The max of each of `count` windows of `size` entries along `axis`, and which entry (0 … size-1) won.
    NOTE: strictly greater replaces, so on a tie the first entry keeps the win: exactly one entry per window gets
    the gradient (copying it to every tied entry would multiply it)."""
    best = x[_entries(axis, 0, stride, count)]
    winner = np.zeros_like(best, dtype=np.min_scalar_type(size - 1))   # zeros_like keeps x's memory layout
    for offset in range(1, size):
        entry = x[_entries(axis, offset, stride, count)]
        better = entry > best
        winner += better * (offset - winner)             # winner = offset where better (arithmetic beats np.where)
        best = np.maximum(best, entry)
    return best if size > 1 else best.copy(), winner     # (a 1-wide window would hand back a view of x)


def _route_back(grad_out, winner, axis: int, size: int, stride: int, length: int):
    """The inverse of _max_along: each window's gradient to the entry that won it, 0 to the others."""
    shape, count = list(winner.shape), winner.shape[axis]
    shape[axis] = length
    # in the memory layout forward's x had; when the windows tile the axis exactly, the loop writes every entry
    fill = np.empty_like if stride == size and size * count == length else np.zeros_like
    grad_in = fill(winner, dtype=grad_out.dtype, shape=shape)
    for offset in range(size):
        entries = grad_in[_entries(axis, offset, stride, count)]
        if stride >= size:                               # windows apart: each entry is in one window at most
            np.multiply(grad_out, winner == offset, out=entries)
        else:                                            # overlapping windows can pick the same entry twice
            entries += grad_out * (winner == offset)
    return grad_in


class AvgPool2D(_Pool2D):
    """y = mean of each window;  dL/dx = dL/dy / (pool_h·pool_w) for every entry.   (N, C, H, W) -> (N, C, H', W')"""

    def forward(self, x, train=False):
        x, out_h, out_w = self._check(x)
        total = np.zeros((*x.shape[:2], out_h, out_w), dtype=self.dtype)
        for _, index in self._offsets(out_h, out_w):
            total += x[index]
        self._input_shape = x.shape
        return total * self.dtype.type(1 / (self.pool_size[0] * self.pool_size[1]))

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._input_shape)
        if not need_input_grad:
            return None
        out_h, out_w = grad_out.shape[2:]
        share = grad_out * grad_out.dtype.type(1 / (self.pool_size[0] * self.pool_size[1]))  # each entry's part
        grad_x = np.zeros(self._input_shape, dtype=grad_out.dtype)
        for _, index in self._offsets(out_h, out_w):
            grad_x[index] += share
        return grad_x
