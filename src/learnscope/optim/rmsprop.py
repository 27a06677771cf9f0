"""RMSprop: divide each step by a running root-mean-square of recent gradients."""

import numpy as np

from learnscope.core.validation import check_hyperparameter
from learnscope.optim.base import Optimizer, check_decay_rate


class RMSprop(Optimizer):
    """s ← ρ·s + (1 − ρ)·g²;  p ← p − lr·g / (√s + ε).

    Each weight gets its own step size: large where gradients have been large, small where they have
    been small, so one lr suits steep and flat directions alike. From Tieleman & Hinton 2012, Lecture 6.5
    of "Neural Networks for Machine Learning" (Coursera). ε keeps the division finite while s is ~0.
    """

    name = "rmsprop"
    lr_example = "0.01"
    state_keys = ("square_avg",)

    def __init__(self, lr=0.01, rho=0.9, eps=1e-8, weight_decay=0.0, clip_norm=None, schedule=None):
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm, schedule=schedule)
        self.rho = check_decay_rate(
            rho, "rho", "RMSprop",
            fix="Use a value below 1 such as 0.9 (at 1 the average never sees a gradient).",
        )
        self.eps = check_hyperparameter(
            eps,
            "eps",
            "RMSprop",
            minimum=0,
            inclusive=(False, True),
            fix="Use a small positive value such as 1e-8; it keeps the division away from zero.",
        )

    def _update(self, name, param, grad, lr):
        square_avg = self._state(name, param)["square_avg"]
        step = self._buffer(self._scratch, name, param)
        square_avg *= self.rho  # s ← ρ·s + (1 − ρ)·g²
        np.multiply(grad, grad, out=step)
        step *= 1.0 - self.rho
        square_avg += step
        np.sqrt(square_avg, out=step)  # step ← lr·g / (√s + ε)
        step += self.eps
        np.divide(grad, step, out=step)
        step *= lr
        param -= step

    def _own_config(self):
        return {"rho": self.rho, "eps": self.eps}
