"""Convolution: one small filter slides over the image, so the same few weights look for the same
pattern (an edge, a stroke) at every position. That sharing is why a conv net needs far fewer
weights than a Dense layer on the same pixels.

The trick that makes it fast in NumPy is im2col: copy every window the filter visits into a row of one
matrix, then the whole layer, for the whole batch, is one matrix product, which BLAS computes far faster
than any Python loop.
"""

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from learnscope.core.rng import make_rng
from learnscope.core.validation import check_int, check_parameter_count
from learnscope.init import get_initializer
from learnscope.layers.base import Flops, Layer
from learnscope.layers.windows import as_pair, compact_pair, show_pair, window_output_size


class Conv2D(Layer):
    """y[n, f] = b[f] + Σ_c W[f, c] ⋆ x[n, c] (cross-correlation).   (N, C, H, W) -> (N, F, H', W'),
    H' = (H + 2·padding - kernel) // stride + 1."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 init="he_normal", bias_init="zeros", rng=None, dtype=None):
        super().__init__(dtype)
        self.in_channels = check_int(in_channels, "in_channels", "Conv2D", minimum=1, maximum=100_000)
        self.out_channels = check_int(out_channels, "out_channels", "Conv2D", minimum=1, maximum=100_000)
        self.kernel_size = as_pair(kernel_size, "kernel_size", "Conv2D", minimum=1)
        self.stride = as_pair(stride, "stride", "Conv2D", minimum=1)
        self.padding = as_pair(padding, "padding", "Conv2D", minimum=0)
        if any(pad > kernel for pad, kernel in zip(self.padding, self.kernel_size)):
            # NOTE: kernel − 1 already lets every input pixel meet every kernel weight; more only adds zeros (and
            # a model file asking for padding=12000 would allocate gigabytes at its first forward pass)
            raise ValueError(f"Conv2D expected padding of at most the kernel size {self.kernel_size}, got "
                             f"{self.padding}. Use e.g. padding=2 for a 5×5 kernel ('same' size).")
        n_weights = self.out_channels * self.in_channels * self.kernel_size[0] * self.kernel_size[1]
        check_parameter_count(n_weights, f"Conv2D({self.in_channels}, {self.out_channels}, {self.kernel_size})")
        self.init = get_initializer(init)
        self.bias_init = get_initializer(bias_init)
        self._cols = None
        self._padded_shape = None
        self.reset(make_rng(rng))

    @classmethod
    def tensor_shapes(cls, config):
        kh, kw = as_pair(config["kernel_size"], "kernel_size", "Conv2D", minimum=1)
        return {"W": (config["out_channels"], config["in_channels"], kh, kw), "b": (config["out_channels"],)}

    def reset(self, rng: np.random.Generator) -> None:
        """Draw fresh filters (F, C, kh, kw) with fan_in = C·kh·kw, fan_out = F·kh·kw, and biases (F,)."""
        kh, kw = self.kernel_size
        fan_in, fan_out = self.in_channels * kh * kw, self.out_channels * kh * kw
        shape = (self.out_channels, self.in_channels, kh, kw)
        self._add_param("W", self.init(shape, fan_in, fan_out, rng, self.dtype))
        self._add_param("b", self.bias_init((self.out_channels,), fan_in, fan_out, rng, self.dtype))

    def forward(self, x, train=False):
        x = self._check_input(x, ndim=None)
        self._check_shape(x.shape)
        n, channels, height, width = x.shape
        ph, pw = self.padding
        out_h, out_w = window_output_size("Conv2D", (height, width), self.kernel_size, self.stride, self.padding)
        # NOTE: the layer works channels-last, on (N, H, W, C) memory (PyTorch's "channels_last"): a window's kh
        # rows are then kw·C numbers each, side by side, so im2col and the input gradient move runs of numbers
        # rather than single pixels. Its output is an (N, F, H', W') view of (N, H', W', F) memory: the same
        # numbers as a copy in (N, F, H', W') order would hold, without the copy, and the next layer reads them
        # channels-last for free.
        pixels = x.transpose(0, 2, 3, 1)
        if ph or pw:
            padded = np.zeros((n, height + 2 * ph, width + 2 * pw, channels), dtype=self.dtype)
            padded[:, ph:ph + height, pw:pw + width] = pixels
        else:
            padded = np.ascontiguousarray(pixels)        # no copy when x is already channels-last
        cols = _im2col(padded, self.kernel_size, self.stride, out_h, out_w)
        self._cols, self._padded_shape = cols, padded.shape      # backward needs the columns
        # y = cols · [W2; b]: the whole batch, bias included, in one matrix product (N·H'·W', K+1) @ (K+1, F)
        out = cols @ np.vstack([self._weight_columns(), self.params["b"]])
        return out.reshape(n, out_h, out_w, self.out_channels).transpose(0, 3, 1, 2)

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._cols)
        cols, filters = self._cols, self.out_channels
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        n, out_h, out_w = grad_out.shape[0], *grad_out.shape[2:]
        grad_rows = grad_out.transpose(0, 2, 3, 1).reshape(-1, filters)   # (N·H'·W', F): free if channels-last
        # [dL/dW2; dL/db] = colsᵀ · dL/dy (K+1, F): the last row, against the column of ones, is dL/db = Σ_{n,h,w}
        # dL/dy; the others reorder from rows (i, j, c) back to W's (F, C, kh, kw). In place: optimizer and
        # recorder hold references.
        grad_columns = cols.T @ grad_rows
        self.grads["W"][...] = grad_columns[:-1].reshape(kh, kw, self.in_channels, filters).transpose(3, 2, 0, 1)
        self.grads["b"][...] = grad_columns[-1]
        if not need_input_grad:
            return None
        # dL/dx: pixel x[n, p·s+i, q·s+j, c] met output (n, p, q) through the weights W[:, c, i, j], so for each
        # kernel offset (i, j) the outputs send back dL/dy · W_ij, (N·H'·W', F) @ (F, C), onto the pixels shifted
        # by (i, j). NOTE: windows overlap, so one pixel collects from up to kh·kw offsets: +=, never =.
        weights_per_offset = self.params["W"].transpose(2, 3, 0, 1).reshape(kh * kw, filters, self.in_channels)
        sent_back = np.matmul(grad_rows, weights_per_offset).reshape(kh, kw, n, out_h, out_w, self.in_channels)
        grad_padded = np.zeros(self._padded_shape, dtype=sent_back.dtype)
        for i in range(kh):                              # loop over kernel offsets only, never pixels or examples
            for j in range(kw):
                grad_padded[:, i:i + sh * out_h:sh, j:j + sw * out_w:sw] += sent_back[i, j]
        height, width = self._padded_shape[1] - 2 * ph, self._padded_shape[2] - 2 * pw
        grad_x = grad_padded[:, ph:ph + height, pw:pw + width]     # the padding's gradient is dropped
        return grad_x.transpose(0, 3, 1, 2)                         # channels-last memory, like forward's output

    def _weight_columns(self) -> np.ndarray:
        """W as a (kh·kw·C, F) matrix whose rows follow the im2col column order (i, j, c)."""
        return self.params["W"].transpose(2, 3, 1, 0).reshape(-1, self.out_channels)

    def output_shape(self, input_shape):
        self._check_shape((None, *input_shape), one_example=True)
        out_h, out_w = window_output_size("Conv2D", input_shape[1:], self.kernel_size, self.stride, self.padding)
        return (self.out_channels, out_h, out_w)

    def flops(self, input_shape):
        # each output number is one window: C·kh·kw products and as many additions (the last one the bias),
        # as for Dense with the window as input; backward repeats that count for dW and for dL/dx, plus db's sums
        outputs = math.prod(self.output_shape(input_shape))
        products = 2 * self.in_channels * self.kernel_size[0] * self.kernel_size[1] * outputs
        return Flops(products, products + outputs, products)

    def _check_shape(self, shape, one_example=False) -> None:
        """Raise a ValueError saying what to change when the input is not (N, in_channels, H, W)."""
        channels = self.in_channels
        if len(shape) == 4 and shape[1] == channels:
            return
        received = tuple(shape[1:]) if one_example else tuple(shape)
        expected = f"({channels}, H, W)" if one_example else f"(N, {channels}, H, W)"
        side = math.isqrt(shape[-1] // channels) if shape and shape[-1] is not None else 0
        if len(shape) == 2 and side and channels * side * side == shape[-1]:
            fix = f"Reshape flat images with x.reshape(-1, {channels}, {side}, {side})."
        elif len(shape) == 3 and channels == 1:
            fix = "Add the channel axis: x[:, None] turns (N, H, W) into (N, 1, H, W)."
        elif len(shape) == 3 and shape[0] == channels:
            fix = "Pass a batch: x[None] turns one image into a batch of one."
        elif len(shape) == 4 and shape[3] == channels:
            fix = "Channels-last data (N, H, W, C)? Use x.transpose(0, 3, 1, 2)."
        elif len(shape) == 4:
            fix = f"The data has {shape[1]} channels: use Conv2D({shape[1]}, ...) or fix the layer before."
        else:
            fix = "Arrange the images as (batch, channels, height, width)."
        what = "an input shape" if one_example else "x of shape"
        raise ValueError(f"Conv2D expected {what} {expected}, got {received}. {fix}")

    def __repr__(self):
        kernel, stride, padding = (show_pair(p) for p in (self.kernel_size, self.stride, self.padding))
        sizes = f"kernel_size={kernel}, stride={stride}, padding={padding}"
        return f"Conv2D({self.in_channels}, {self.out_channels}, {sizes})"

    def config(self):
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": compact_pair(self.kernel_size), "stride": compact_pair(self.stride),
                "padding": compact_pair(self.padding), "init": self.init.config(), "bias_init": self.bias_init.config()}


def _im2col(padded, kernel_size, stride, out_h: int, out_w: int) -> np.ndarray:
    """Every window the filter visits as one row of an (N·H'·W', kh·kw·C + 1) matrix: row (n, p, q) holds
    x[n, p·s+i, q·s+j, c] in (i, j, c) order, then a 1. NOTE: the bias is the weight of an input that is always 1,
    so the column of ones lets one matrix product add it (and its gradient come out of the same product).
    `padded` is (N, H, W, C); the windows are a free view, copied once into the matrix."""
    (kh, kw), (sh, sw) = kernel_size, stride
    n, _, _, channels = padded.shape
    n_entries = kh * kw * channels
    windows = sliding_window_view(padded, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]     # (N, H', W', C, kh, kw)
    rows = windows.transpose(0, 1, 2, 4, 5, 3)                                       # (N, H', W', kh, kw, C)
    if channels > 1 or sw > 1:
        cols = np.empty((n, out_h, out_w, n_entries + 1), dtype=padded.dtype)
        cols[..., :-1].reshape(rows.shape)[...] = rows
        cols[..., -1] = 1
        return cols.reshape(n * out_h * out_w, -1)
    # NOTE: with one channel (a grey image) a window row is only kw numbers long and copying row by row crawls;
    # the same matrix is then copied column by column, each column one kernel entry (i, j) of every window,
    # which reads runs of W' neighbouring pixels. Stored transposed, it is the same matrix to the products.
    columns = np.empty((n_entries + 1, n, out_h, out_w), dtype=padded.dtype)
    columns[:-1].reshape(kh, kw, channels, n, out_h, out_w)[...] = rows.transpose(3, 4, 5, 0, 1, 2)
    columns[-1] = 1
    return columns.reshape(n_entries + 1, -1).T
