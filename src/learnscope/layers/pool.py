"""Pooling: summarise each small window of a feature map by one number, which shrinks the map and
makes the net care less about exactly where a pattern appeared. No weights to learn.

Both layers loop over the few offsets (i, j) inside a window, never over examples or pixels: at
offset (i, j), x[:, :, i::stride, j::stride] holds that entry of every window at once.
"""

import numpy as np

from learnscope.core.validation import describe
from learnscope.layers.base import Layer
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

    def __repr__(self):
        return f"{type(self).__name__}(pool_size={show_pair(self.pool_size)}, stride={show_pair(self.stride)})"

    def config(self):
        return {"pool_size": compact_pair(self.pool_size), "stride": compact_pair(self.stride)}


class MaxPool2D(_Pool2D):
    """y = max of each window;  dL/dx = dL/dy at the window's argmax, 0 elsewhere.   (N, C, H, W) -> (N, C, H', W')"""

    def __init__(self, pool_size=2, stride=None, dtype=None):
        super().__init__(pool_size, stride, dtype)
        self._winner = None

    def forward(self, x, train=False):
        x, out_h, out_w = self._check(x)
        best, winner = None, np.zeros((*x.shape[:2], out_h, out_w), dtype=np.int32)
        for k, index in self._offsets(out_h, out_w):
            entry = x[index]
            if best is None:
                best = entry.copy()
                continue
            # NOTE: strictly greater, so on a tie the first offset keeps the win: exactly one entry per window
            # gets the gradient (copying it to every tied entry would multiply it).
            np.copyto(winner, k, where=entry > best)
            np.maximum(best, entry, out=best)
        self._input_shape, self._winner = x.shape, winner  # backward routes through the winners
        return best

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._winner)
        if not need_input_grad:
            return None
        out_h, out_w = self._winner.shape[2:]
        grad_x = np.zeros(self._input_shape, dtype=grad_out.dtype)
        for k, index in self._offsets(out_h, out_w):
            # += because overlapping windows (stride < pool_size) can pick the same pixel twice
            grad_x[index] += grad_out * (self._winner == k)
        return grad_x


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
