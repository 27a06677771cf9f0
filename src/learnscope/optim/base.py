"""The optimizer protocol: walk `(name, param, grad)` triples and update every param in place.

One step of any optimizer here:
  1. lr = base lr × schedule(number of steps taken so far)   (no schedule: the base lr)
  2. t += 1                                                   (Adam's bias correction needs t = 1 first)
  3. optional: scale all gradients together so their global L2 norm is at most `clip_norm`
  4. optional: L2 weight decay on weights (names ending in ".W")
  5. the optimizer's own rule, `_update(name, param, grad, lr)`, writes into `param` in place

Per-parameter memory (momentum, Adam's moments) lives in `self.state[name]`, a dict of arrays created
with zeros on first use, so `state_dict()` is plain data: arrays and numbers, no pickle.
"""

import math

import numpy as np

from learnscope.core.validation import check_hyperparameter, check_int, describe
from learnscope.optim.schedules import Schedule, get_schedule


def check_decay_rate(value, name: str, owner: str, fix: str) -> float:
    """A moving-average factor (momentum, rho, beta1, beta2) in [0, 1): at 1 the average never forgets."""
    return check_hyperparameter(value, name, owner, fix, minimum=0, maximum=1, inclusive=(True, False))



# -- gradient clipping ----------------------------------------------------------------------------
def global_grad_norm(grads) -> float:
    """sqrt(Σ over all gradients of Σ g²): the length of the whole gradient as one long vector."""
    total = 0.0
    for grad in grads:
        flat = grad.ravel()  # a view for contiguous arrays, so no copy
        total += float(np.dot(flat, flat))  # BLAS dot: one pass, no temporary g² array
    return math.sqrt(total)


def _clip_in_place(grads, max_norm: float) -> float:
    norm = global_grad_norm(grads)
    # NOTE: a NaN/inf norm is left alone: scaling by max_norm/inf would zero the gradients and hide divergence.
    if math.isfinite(norm) and norm > max_norm:
        scale = max_norm / norm  # one factor for all: the direction of the whole gradient is kept
        for grad in grads:
            grad *= scale
    return norm


def clip_grad_norm(named_params, max_norm) -> float:
    """g ← g × max_norm / ‖g‖ for every grad when the global norm ‖g‖ > max_norm. Modifies grads in place;
    returns the norm before clipping."""
    max_norm = check_hyperparameter(
        max_norm,
        "max_norm",
        "clip_grad_norm",
        minimum=0,
        inclusive=(False, True),
        fix="Choose a positive norm such as 1.0.",
    )
    return _clip_in_place([grad for _, _, grad in named_params], max_norm)


# -- the base class -------------------------------------------------------------------------------
class Optimizer:
    """Base class: step(named_params) applies p ← p − lr × update(g) to every (name, p, g), in place.

    weight_decay: classic (coupled) L2, g ← g + weight_decay × W, i.e. the loss gains ½·wd·‖W‖². It only
      touches parameters whose name ends in ".W" (dense weights, conv kernels): biases and batch-norm
      gamma/beta shift or scale activations rather than add capacity, and pulling gamma to 0 would switch
      units off, so decaying them hurts more than it regularizes. The caller's grad arrays are not changed.
    clip_norm: if set, all gradients are scaled together so their global L2 norm is at most clip_norm.
      NOTE: this modifies the grad arrays in place, so a recorder reading them afterwards sees clipped values.
    schedule: a Schedule (or its name/config dict); the lr of a step is lr × schedule(steps taken before it).
    """

    #: registry name, written by config() and read by get_optimizer()
    name = "optimizer"
    #: example learning rate in error messages
    lr_example = "1e-3"
    #: keys of the arrays each parameter keeps in self.state[name]
    state_keys: tuple = ()

    def __init__(self, lr, weight_decay=0.0, clip_norm=None, schedule=None):
        owner = type(self).__name__
        self.lr = lr  # validated by the setter below
        self.weight_decay = check_hyperparameter(
            weight_decay, "weight_decay", owner, minimum=0, fix="Use 0 for no decay or a small value such as 1e-4."
        )
        self.clip_norm = clip_norm
        if clip_norm is not None:
            self.clip_norm = check_hyperparameter(
                clip_norm,
                "clip_norm",
                owner,
                minimum=0,
                inclusive=(False, True),
                fix="Use None for no clipping or a positive norm such as 1.0.",
            )
        self.schedule = None if schedule is None else _resolve_schedule(schedule, owner)
        self.t = 0  # steps taken
        self.state: dict[str, dict[str, np.ndarray]] = {}
        # Scratch arrays, one per parameter, reused every step so the update allocates nothing.
        # Not part of state: they hold no memory between steps.
        self._scratch: dict[str, np.ndarray] = {}
        self._decayed: dict[str, np.ndarray] = {}
        self.last_lr: float | None = None  # lr used by the most recent step
        self.last_grad_norm: float | None = None  # global grad norm before clipping (only with clip_norm)

    # -- learning rate --------------------------------------------------------------------------
    @property
    def lr(self) -> float:
        """Base learning rate, before any schedule."""
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = check_hyperparameter(
            value,
            "lr",
            type(self).__name__,
            minimum=0,
            inclusive=(False, True),
            fix=f"Choose a positive learning rate such as {self.lr_example}.",
        )

    @property
    def current_lr(self) -> float:
        """lr × schedule(t): the learning rate the next step will use (t = steps taken so far)."""
        return self._lr if self.schedule is None else self._lr * self.schedule(self.t)

    # -- one step -------------------------------------------------------------------------------
    def step(self, named_params) -> None:
        """Update every param in place from its grad; named_params yields (name, param, grad) triples."""
        triples = self._collect(named_params)
        lr = self.current_lr  # the schedule sees the number of steps before this one: 0 on the first
        self.t += 1
        if self.clip_norm is not None:
            self.last_grad_norm = _clip_in_place([grad for _, _, grad in triples], self.clip_norm)
        for name, param, grad in triples:
            if self.weight_decay and name.endswith(".W"):
                grad = self._apply_weight_decay(name, param, grad, lr)
            self._update(name, param, grad, lr)
        self.last_lr = lr

    def _update(self, name: str, param: np.ndarray, grad: np.ndarray, lr: float) -> None:
        """The optimizer's own rule: write the new value into param (in place)."""
        raise NotImplementedError

    def _apply_weight_decay(self, name: str, param: np.ndarray, grad: np.ndarray, lr: float) -> np.ndarray:
        """Coupled L2: return g + wd × W in a scratch array (the caller's grad is left untouched)."""
        decayed = self._buffer(self._decayed, name, param)
        np.multiply(param, self.weight_decay, out=decayed)
        decayed += grad
        return decayed

    def _collect(self, named_params) -> list:
        """A list of triples (a generator can only be walked once, clipping walks twice), checked cheaply:
        a wrong shape would otherwise broadcast silently into a wrong update."""
        triples = list(named_params)
        owner = f"{type(self).__name__}.step"
        for item in triples:
            if not (isinstance(item, (tuple, list)) and len(item) == 3):
                raise TypeError(
                    f"{owner} expected (name, param, grad) triples, got {describe(item)}. Pass model.named_params()."
                )
            name, param, grad = item
            if not (isinstance(param, np.ndarray) and isinstance(grad, np.ndarray)):
                raise TypeError(
                    f"{owner} expected NumPy arrays for {name!r}, got param {describe(param)} and "
                    f"grad {describe(grad)}. The optimizer updates arrays in place; pass the arrays."
                )
            if param.shape != grad.shape:
                raise ValueError(
                    f"{owner} expected grad of {name!r} to have the param's shape {param.shape}, "
                    f"got {grad.shape}. Check the layer's backward."
                )
        return triples

    # -- helpers for subclasses -----------------------------------------------------------------
    def _state(self, name: str, param: np.ndarray) -> dict[str, np.ndarray]:
        """This parameter's state arrays, created as zeros the first time it is seen."""
        state = self.state.get(name)
        if state is None:
            state = self.state[name] = {key: np.zeros_like(param) for key in self.state_keys}
        return state

    @staticmethod
    def _buffer(store: dict, name: str, like: np.ndarray) -> np.ndarray:
        """A reusable scratch array shaped like `like` (remade if the param's shape or dtype changed)."""
        buffer = store.get(name)
        if buffer is None or buffer.shape != like.shape or buffer.dtype != like.dtype:
            buffer = store[name] = np.empty_like(like)
        return buffer

    # -- saving and loading ---------------------------------------------------------------------
    def state_dict(self) -> dict:
        """{"t": int, "lr": float, "state": {name: {key: array}}}: copies, plain data, no pickle."""
        return {
            "t": self.t,
            "lr": self._lr,
            "state": {
                name: {key: array.copy() for key, array in arrays.items()} for name, arrays in self.state.items()
            },
        }

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore t, lr and the per-parameter arrays saved by state_dict() of the same optimizer type."""
        owner = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict) or not {"t", "lr", "state"} <= state_dict.keys():
            raise TypeError(
                f"{owner} expected a dict with keys 't', 'lr' and 'state', got {describe(state_dict)}. "
                "Pass what state_dict() returned."
            )
        t = check_int(state_dict["t"], "t", owner, minimum=0, fix="Pass what state_dict() returned.")
        saved = state_dict["state"]
        if not isinstance(saved, dict):
            raise TypeError(
                f"{owner} expected 'state' to be a dict, got {describe(saved)}. Pass what state_dict() returned."
            )
        restored = {}
        for name, arrays in saved.items():
            keys = tuple(arrays) if isinstance(arrays, dict) else None
            if keys is None or set(keys) != set(self.state_keys):
                raise ValueError(
                    f"{owner} expected state keys {self.state_keys} for {name!r}, got {keys}. "
                    f"Load a state saved by {type(self).__name__} with the same settings."
                )
            restored[name] = {key: np.array(arrays[key], copy=True) for key in self.state_keys}
        self.lr = state_dict["lr"]  # validated; everything is checked before anything changes
        self.t = t
        self.state = restored

    def config(self) -> dict:
        """Constructor arguments as JSON-able values; get_optimizer(config) rebuilds the optimizer."""
        return {
            "name": self.name,
            "lr": self._lr,
            **self._own_config(),
            "weight_decay": self.weight_decay,
            "clip_norm": self.clip_norm,
            "schedule": None if self.schedule is None else self.schedule.config(),
        }

    def _own_config(self) -> dict:
        """The subclass's own hyperparameters (momentum, beta1, ...)."""
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.config().items() if key != "name")
        return f"{type(self).__name__}({args})"


def _resolve_schedule(schedule, owner: str):
    if isinstance(schedule, (Schedule, str, dict)):
        return get_schedule(schedule)
    raise TypeError(
        f"{owner} expected schedule to be None, a Schedule, a name or a config dict, got "
        f"{describe(schedule)}. Use e.g. schedule=Cosine(total_steps=1000)."
    )
