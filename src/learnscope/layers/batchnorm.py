"""Batch normalization (Ioffe & Szegedy, 2015): standardize each feature (or channel) with the
statistics of the current batch, then let the network rescale it with a learned γ and shift it with a
learned β. Keeping every layer's input near mean 0, variance 1 lets deeper nets train with larger steps.

Train mode uses the batch's own mean and variance and updates running averages of them; eval mode uses
those running averages, so a prediction does not depend on which other examples share its batch.
"""

import math

import numpy as np

from learnscope.core.validation import check_int, check_range
from learnscope.layers.base import Flops, Layer


class BatchNorm(Layer):
    """y = γ·x̂ + β,  x̂ = (x − μ) / √(σ² + eps), per feature of (N, C) or per channel of (N, C, H, W)
    (statistics over N, or over N, H, W).   (N, C) -> (N, C),  (N, C, H, W) -> (N, C, H, W)"""

    min_batch_size = 2

    def __init__(self, n_features: int, momentum: float = 0.1, eps: float = 1e-5, dtype=None):
        super().__init__(dtype)
        self.n_features = check_int(n_features, "n_features", "BatchNorm", minimum=1, maximum=1_000_000)
        self.momentum = float(check_range(momentum, "momentum", "BatchNorm", minimum=0, maximum=1))
        self.eps = float(check_range(eps, "eps", "BatchNorm"))
        if self.eps <= 0:
            raise ValueError(
                f"BatchNorm expected eps > 0, got {eps}. eps keeps 1/√(σ² + eps) finite when a channel is "
                "constant over the batch; the usual value is 1e-5."
            )
        self._x_hat = None      # cache for backward: the normalized input, 1/σ, and which statistics were used
        self._inv_std = None
        self._batch_stats = False
        self.reset()

    @classmethod
    def tensor_shapes(cls, config):
        n = config["n_features"]
        return {"gamma": (n,), "beta": (n,), "running_mean": (n,), "running_var": (n,)}

    def reset(self, rng=None) -> None:
        """γ = 1, β = 0 (start as the plain standardization), running mean 0 and variance 1.
        Nothing is random; `rng` is accepted so Sequential.reset(seed) restores this layer too."""
        self._add_param("gamma", np.ones(self.n_features))
        self._add_param("beta", np.zeros(self.n_features))
        self.buffers["running_mean"] = np.zeros(self.n_features, dtype=self.dtype)
        self.buffers["running_var"] = np.ones(self.n_features, dtype=self.dtype)

    def forward(self, x, train=False):
        x = self._check_input(x, ndim=(2, 4), hint="Use (N, C) after Dense or (N, C, H, W) after Conv2D.")
        if x.shape[1] != self.n_features:
            wanted = f"(N, {self.n_features})" if x.ndim == 2 else f"(N, {self.n_features}, H, W)"
            kind = "features" if x.ndim == 2 else "channels"
            raise ValueError(
                f"BatchNorm expected x of shape {wanted}, got {x.shape}. The input has {x.shape[1]} {kind}: "
                f"use BatchNorm({x.shape[1]}) or fix the layer before."
            )
        # Per-channel statistics: over the batch for (N, C); over the batch and every pixel for (N, C, H, W).
        axes = (0,) if x.ndim == 2 else (0, 2, 3)
        shape = (1, self.n_features) + (1,) * (x.ndim - 2)          # broadcasts a (C,) vector over x
        count = x.size // self.n_features                           # values per channel, m = N·H·W
        if train:
            if count < 2:
                raise ValueError(
                    f"BatchNorm in train mode expected at least 2 values per channel, got x of shape {x.shape}. "
                    "A batch of one has no variance to normalize by: use a batch size of 2 or more, "
                    "or forward(x, train=False) to use the running statistics."
                )
            mean = x.mean(axis=axes)
            centered = x - mean.reshape(shape)
            var = np.mean(centered * centered, axis=axes)           # biased (÷m): what the batch is normalized by
            # running ← (1 − momentum)·running + momentum·batch, in place (the saved model holds these arrays).
            # NOTE: like PyTorch, running_var takes the unbiased variance (÷(m − 1)), the better estimate of
            # the population variance that eval mode should use; normalization itself uses the biased one.
            running_mean, running_var = self.buffers["running_mean"], self.buffers["running_var"]
            running_mean *= 1 - self.momentum
            running_mean += self.momentum * mean
            running_var *= 1 - self.momentum
            running_var += (self.momentum * count / (count - 1)) * var
        else:
            centered = x - self.buffers["running_mean"].reshape(shape)
            var = self.buffers["running_var"]
        inv_std = 1.0 / np.sqrt(var + self.eps)
        self._x_hat = centered * inv_std.reshape(shape)             # x̂ = (x − μ) / √(σ² + eps)
        self._inv_std = inv_std
        self._batch_stats = train
        out = self._x_hat * self.params["gamma"].reshape(shape)
        out += self.params["beta"].reshape(shape)                   # y = γ·x̂ + β
        return out

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._x_hat)
        x_hat = self._x_hat
        axes = (0,) if x_hat.ndim == 2 else (0, 2, 3)
        shape = (1, self.n_features) + (1,) * (x_hat.ndim - 2)
        # dL/dγ = Σ dy·x̂ and dL/dβ = Σ dy over the batch (and pixels), in place: optimizer and recorder hold references
        self.grads["gamma"][...] = np.sum(grad_out * x_hat, axis=axes)
        self.grads["beta"][...] = np.sum(grad_out, axis=axes)
        if not need_input_grad:
            return None
        scale = (self.params["gamma"] * self._inv_std).reshape(shape)   # γ/σ, σ = √(σ² + eps)
        if not self._batch_stats:
            # Eval mode: μ and σ² are constants (the running statistics), so y is an affine map of x.
            return grad_out * scale                                 # dL/dx = γ/σ · dy
        # Train mode: μ and σ² depend on every x in the batch too. Summing those paths gives the compact form
        #   dL/dx = (1/m)·γ/σ·(m·dy − Σdy − x̂·Σ(dy·x̂)),   m = values per channel (N, or N·H·W)
        # where Σdy and Σ(dy·x̂) are exactly dL/dβ and dL/dγ computed above.
        count = x_hat.size // self.n_features
        grad_in = grad_out * count
        grad_in -= self.grads["beta"].reshape(shape)
        grad_in -= x_hat * self.grads["gamma"].reshape(shape)
        grad_in *= scale / count
        return grad_in

    def flops(self, input_shape):
        # per number, as written above: forward μ, x − μ, its square, σ², ×1/σ, ×γ, +β; backward dy·x̂ and two
        # sums for dγ and dβ, then m·dy, −Σdy, −x̂·Σ(dy·x̂) (two) and ×γ/(σm) for dL/dx
        size = math.prod(input_shape)
        return Flops(7 * size, 3 * size, 5 * size)

    def output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) not in (1, 3) or input_shape[0] != self.n_features:
            raise ValueError(
                f"BatchNorm expected one example of shape ({self.n_features},) or ({self.n_features}, H, W), "
                f"got {input_shape}. Match n_features to the features or channels of the layer before."
            )
        return input_shape

    def __repr__(self):
        non_default = (("momentum", self.momentum, 0.1), ("eps", self.eps, 1e-5))
        extra = "".join(f", {name}={value!r}" for name, value, default in non_default if value != default)
        return f"BatchNorm({self.n_features}{extra})"

    def config(self):
        return {"n_features": self.n_features, "momentum": self.momentum, "eps": self.eps}
