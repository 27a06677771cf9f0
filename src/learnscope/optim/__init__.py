"""Optimizers: the rules that turn gradients into weight updates, and learning-rate schedules.

Batch, stochastic and mini-batch gradient descent are not three optimizers. They are the same rule,
p ← p − lr·g, fed gradients averaged over a different number of examples:

    batch GD         batch_size = n_samples       one exact gradient per epoch, smooth but slow
    stochastic GD    batch_size = 1               n_samples noisy steps per epoch
    mini-batch GD    1 < batch_size < n_samples   the usual compromise: fast vectorized steps, moderate noise

The batch size belongs to the data loader, not the optimizer: `batch_size_for(mode, n_samples)`
gives it, and any optimizer here (SGD, momentum, RMSprop, Adam) can run in any of the three modes.

Every optimizer follows one protocol: `opt.step(model.named_params())` walks `(name, param, grad)`
triples and updates each param in place; see `base.py`.
"""

from learnscope.core.validation import check_int, check_name, construct
from learnscope.optim.adam import Adam, AdamW
from learnscope.optim.base import Optimizer, clip_grad_norm, global_grad_norm
from learnscope.optim.rmsprop import RMSprop
from learnscope.optim.schedules import SCHEDULES, Constant, Cosine, Schedule, StepDecay, Warmup, get_schedule
from learnscope.optim.sgd import SGD

#: name -> (class, defaults that the caller's keyword arguments override)
OPTIMIZERS = {
    "sgd": (SGD, {}),
    "momentum": (SGD, {"momentum": 0.9}),
    "nesterov": (SGD, {"momentum": 0.9, "nesterov": True}),
    "rmsprop": (RMSprop, {}),
    "adam": (Adam, {}),
    "adamw": (AdamW, {}),
}

#: Their names on pages and in reports
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "SGD + momentum", "nesterov": "SGD + Nesterov momentum",
                    "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW"}

BATCH_MODES = ("batch", "stochastic", "mini-batch")


def get_optimizer(name, **kwargs) -> Optimizer:
    """get_optimizer("adam", lr=1e-3) -> Adam(lr=1e-3); also accepts a dict from Optimizer.config()."""
    if isinstance(name, dict):
        kwargs = {**name, **kwargs}
        name = kwargs.pop("name", None)
    cls, defaults = OPTIMIZERS[check_name(name, "get_optimizer", OPTIMIZERS)]
    return construct(cls, {**defaults, **kwargs}, "get_optimizer")


def batch_size_for(mode, n_samples, mini_batch_size=32) -> int:
    """Batch size per mode: "batch" -> n_samples, "stochastic" -> 1, "mini-batch" -> min(mini_batch_size, n_samples)."""
    mode = check_name(mode, "batch_size_for", BATCH_MODES, what="mode")
    n_samples = check_int(
        n_samples, "n_samples", "batch_size_for", minimum=1,
        fix="Pass the number of training examples, e.g. n_samples=len(x_train).",
    )
    mini_batch_size = check_int(
        mini_batch_size, "mini_batch_size", "batch_size_for", minimum=1,
        fix="Pass a positive size such as mini_batch_size=32.",
    )
    if mode == "batch":
        return n_samples
    if mode == "stochastic":
        return 1
    return min(mini_batch_size, n_samples)


__all__ = [
    "OPTIMIZERS",
    "OPTIMIZER_LABELS",
    "SCHEDULES",
    "SGD",
    "Adam",
    "AdamW",
    "Constant",
    "Cosine",
    "Optimizer",
    "RMSprop",
    "Schedule",
    "StepDecay",
    "Warmup",
    "batch_size_for",
    "clip_grad_norm",
    "get_optimizer",
    "get_schedule",
    "global_grad_norm",
]
