"""Dropout (Srivastava et al., 2014): during training each unit is silenced at random, so no unit can
rely on one particular partner; the network learns redundant features and overfits less.

This is *inverted* dropout: the kept units are scaled up by 1/(1 - p) while training, so the expected
output equals the input and eval mode is the plain identity, with no rescaling at test time.
"""

import numbers

import numpy as np

from learnscope.core.rng import make_rng
from learnscope.core.validation import check_range
from learnscope.layers.base import Layer


class Dropout(Layer):
    """y = x ⊙ m / (1 - p) with m ~ Bernoulli(1 - p) in train mode, y = x in eval mode;
    dy/dx = the same m / (1 - p).   (N, ...) -> (N, ...)"""

    def __init__(self, p: float = 0.5, rng=None, dtype=None):
        super().__init__(dtype)
        if isinstance(p, numbers.Real) and not isinstance(p, bool) and p == 1:
            raise ValueError(
                "Dropout expected p in [0, 1), got 1. p is the probability of *dropping* a unit: p=1 would "
                "drop every unit, so the output is all zeros and no gradient flows. Use e.g. p=0.5."
            )
        self.p = float(check_range(p, "p", "Dropout", minimum=0, maximum=1, inclusive=(True, False)))
        self._mask = None       # None until forward; then the scaled keep-mask, or 1.0 when forward was the identity
        self.reset(rng)

    def reset(self, rng) -> None:
        """Set the random stream the masks are drawn from (a seed or a Generator): same seed, same masks."""
        self.rng = make_rng(rng)

    def forward(self, x, train=False):
        x = self._check_input(x, ndim=None)
        if x.ndim == 0:
            raise ValueError(f"Dropout expected x of shape (N, ...), got a scalar {x}. Pass a batch: np.atleast_1d(x).")
        if not train or self.p == 0:
            self._mask = 1.0                            # identity: nothing to remember
            return x
        # NOTE: uniforms drawn in float32 whatever the layer's dtype: half the random bits of float64, and
        # the same seed gives the same mask in float32 and float64. Each unit survives with P(u >= p) = 1 - p.
        keep = self.rng.random(x.shape, dtype=np.float32) >= self.p
        self._mask = keep * self.dtype.type(1.0 / (1.0 - self.p))   # scale folded into the mask: one multiply
        return x * self._mask

    def backward(self, grad_out, need_input_grad=True):
        self._require_forward(self._mask)
        if not need_input_grad:                         # no parameters: nothing else to compute
            return None
        if isinstance(self._mask, float):               # eval mode (or p=0) was the identity
            return grad_out
        return grad_out * self._mask                    # dL/dx = dL/dy ⊙ m / (1 - p): the same mask as forward

    def flops(self, input_shape):
        return self._elementwise_flops(input_shape, 1, 1)    # one product with the mask each way

    def config(self):
        return {"p": self.p}
