"""Gradient descent, with optional heavy-ball momentum and Nesterov's look-ahead."""

import numpy as np

from learnscope.optim.base import Optimizer, check_decay_rate


class SGD(Optimizer):
    """p ← p − lr·g; with momentum μ: v ← μ·v + g, p ← p − lr·v; Nesterov: p ← p − lr·(g + μ·v).

    Momentum (Polyak 1964, "Some methods of speeding up the convergence of iteration methods") lets the
    step build up speed along directions where gradients agree and cancel where they flip sign.
    Nesterov (as rewritten for deep learning by Sutskever, Martens, Dahl & Hinton 2013, "On the importance
    of initialization and momentum in deep learning") takes the gradient step from where momentum is
    about to carry us, which corrects overshoot a step earlier. The form is PyTorch's: v starts at 0 and
    g is not scaled by (1 − μ), so under a constant gradient the step grows to lr·g/(1 − μ), ten times
    plain SGD's at μ = 0.9: momentum often wants a smaller lr.
    """

    name = "sgd"
    lr_example = "0.01"

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0, clip_norm=None, schedule=None):
        super().__init__(lr, weight_decay=weight_decay, clip_norm=clip_norm, schedule=schedule)
        self.momentum = check_decay_rate(
            momentum, "momentum", "SGD",
            fix="Use 0 for plain SGD or a value below 1 such as 0.9 (at 1 or above old gradients never fade "
            "and the steps grow without bound).",
        )
        if not isinstance(nesterov, bool):
            raise TypeError(f"SGD expected nesterov to be True or False, got {nesterov!r}. Pass nesterov=True.")
        if nesterov and self.momentum == 0:
            raise ValueError(
                f"SGD expected momentum > 0 with nesterov=True, got momentum={self.momentum}. "
                "Nesterov is a variant of momentum: set momentum=0.9, or nesterov=False."
            )
        self.nesterov = nesterov
        self.state_keys = ("velocity",) if self.momentum else ()  # plain SGD remembers nothing

    def _update(self, name, param, grad, lr):
        step = self._buffer(self._scratch, name, param)
        if not self.momentum:
            np.multiply(grad, lr, out=step)
        else:
            velocity = self._state(name, param)["velocity"]
            velocity *= self.momentum  # v ← μ·v + g
            velocity += grad
            if self.nesterov:
                np.multiply(velocity, self.momentum, out=step)  # look ahead: g + μ·v
                step += grad
                step *= lr
            else:
                np.multiply(velocity, lr, out=step)
        param -= step

    def _own_config(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}
