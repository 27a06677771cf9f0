"""Adam and AdamW: momentum plus RMSprop-style per-weight step sizes, with bias correction."""

import math

import numpy as np

from learnscope.core.validation import check_hyperparameter
from learnscope.optim.base import Optimizer, check_decay_rate


class Adam(Optimizer):
    """m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  p ← p − lr·m̂/(√v̂ + ε), m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).

    m is a running mean of gradients (momentum), v a running mean of their squares (RMSprop). Both
    start at 0, so early on they are biased towards 0; dividing by (1 − βᵗ) removes that bias, which
    matters most in the first few hundred steps. Kingma & Ba 2015, "Adam: A Method for Stochastic
    Optimization" (ICLR). weight_decay here is coupled L2 (added to g, then rescaled by √v̂ like the
    rest of the gradient); for decay that acts at the same rate on every weight use AdamW.
    """

    name = "adam"
    state_keys = ("m", "v")

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, clip_norm=None, schedule=None):
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm, schedule=schedule)
        owner = type(self).__name__
        self.beta1 = check_decay_rate(
            beta1, "beta1", owner,
            fix="Use a value below 1 such as 0.9 (at 1, m never moves from 0 and 1 − β₁ᵗ is 0).",
        )
        self.beta2 = check_decay_rate(
            beta2, "beta2", owner,
            fix="Use a value below 1 such as 0.999 (at 1, v never moves from 0 and 1 − β₂ᵗ is 0).",
        )
        self.eps = check_hyperparameter(
            eps,
            "eps",
            owner,
            minimum=0,
            inclusive=(False, True),
            fix="Use a small positive value such as 1e-8; it keeps the division away from zero.",
        )

    def _update(self, name, param, grad, lr):
        state = self._state(name, param)
        m, v = state["m"], state["v"]
        step = self._buffer(self._scratch, name, param)
        m *= self.beta1  # m ← β₁m + (1−β₁)g
        np.multiply(grad, 1.0 - self.beta1, out=step)
        m += step
        v *= self.beta2  # v ← β₂v + (1−β₂)g²
        np.multiply(grad, grad, out=step)
        step *= 1.0 - self.beta2
        v += step
        # m̂/(√v̂ + ε) = (m/c₁)/(√v/√c₂ + ε) = (√c₂/c₁)·m/(√v + ε√c₂): the same number with both
        # corrections folded into two scalars, so no m̂ or v̂ arrays are ever made.
        correction1 = 1.0 - self.beta1**self.t
        root_correction2 = math.sqrt(1.0 - self.beta2**self.t)
        np.sqrt(v, out=step)
        step += self.eps * root_correction2
        np.divide(m, step, out=step)
        step *= lr * root_correction2 / correction1
        param -= step

    def _own_config(self):
        return {"beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


class AdamW(Adam):
    """Adam with decoupled weight decay: W ← W − lr·wd·W, then the Adam step from the undecayed gradient.

    With Adam, L2 added to the gradient is divided by √v̂ like everything else, so weights with large
    gradients are barely decayed. AdamW shrinks every weight by the same fraction lr·wd per step instead,
    which is what "weight decay" meant for plain SGD (Loshchilov & Hutter 2019, "Decoupled Weight Decay
    Regularization", ICLR). As everywhere here, only ".W" parameters are decayed.
    """

    name = "adamw"

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01, clip_norm=None, schedule=None):
        super().__init__(
            lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay, clip_norm=clip_norm, schedule=schedule
        )

    def _apply_weight_decay(self, name, param, grad, lr):
        param *= 1.0 - lr * self.weight_decay  # decoupled: shrink the weight itself; the gradient stays as is
        return grad
