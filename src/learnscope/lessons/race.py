"""The optimizer race: the engine's own optimizers, the very classes that train MNIST, stepping a point of two
numbers downhill on a drawn surface (chapter 6, gradient descent and its variants).

    race = optimizer_race("valley", ["sgd", "momentum", "adam"], steps=200)
    race["adam"]            # positions, shape (steps + 1, 2): the start, then one row per step
    race.values["adam"]     # the surface's value at each position
    race.gradients["adam"]  # the gradient the optimizer saw there
    race.states["adam"]     # its memory after each step: {"m": (steps + 1, 2), "v": ...}
    steps_to_reach(race, "momentum", 1e-3)

Each racer's point is a parameter named like a weight ("point.W"), so weight decay acts on it as on a weight:
AdamW pulls it towards (0, 0) a little at every step.
"""

import math
from dataclasses import dataclass, field

import numpy as np

from learnscope.core.validation import check_int
from learnscope.lessons.surfaces import Surface, get_surface
from learnscope.optim import OPTIMIZER_LABELS, Optimizer, get_optimizer

PARAM = "point.W"
MAX_STEPS = 100_000
#: a racer this far out (or at inf/NaN) has diverged and stops; its remaining positions are NaN
DIVERGED_BEYOND = 1e6


@dataclass
class Race:
    """Where each racer went, and what it saw on the way. race[name] is its positions."""

    surface: Surface
    positions: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    gradients: dict[str, np.ndarray]
    states: dict[str, dict[str, np.ndarray]]
    diverged_at: dict[str, int | None]
    configs: dict[str, dict] = field(default_factory=dict)    # each racer's optimizer, as Optimizer.config()
    steps: int = 0                                            # the steps the race runs (until() keeps it)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.positions[name]

    def __iter__(self):
        return iter(self.positions)

    def __len__(self) -> int:
        return len(self.positions)

    def plot(self):
        """Each racer's path on the surface and its height per step (a matplotlib figure)."""
        from learnscope.lessons.plots import plot_race

        return plot_race(self)

    def until(self, step: int) -> "Race":
        """The race as it stood after `step` steps (what a page that plays it back has shown so far)."""
        end = step + 1
        return Race(self.surface, {k: v[:end] for k, v in self.positions.items()},
                    {k: v[:end] for k, v in self.values.items()}, {k: v[:end] for k, v in self.gradients.items()},
                    {k: {key: memory[:end] for key, memory in states.items()} for k, states in self.states.items()},
                    {k: (t if t is not None and t <= step else None) for k, t in self.diverged_at.items()},
                    self.configs, self.steps)


def optimizer_race(surface, optimizers, start=None, steps: int = 100, condition=None) -> Race:
    """Race `optimizers` down `surface` (a key of SURFACES or a Surface) from `start` (default: the surface's) for
    `steps` steps. `optimizers` is a list of optimizer names, raced at the surface's suggested learning rate, or a
    dict label -> name, config dict ({"name": "adam", "lr": 0.1}) or Optimizer instance (stepped as given)."""
    surface = get_surface(surface, condition)
    steps = check_int(steps, "steps", "optimizer_race", minimum=1, maximum=MAX_STEPS)
    start = surface.start if start is None else _check_start(start)
    racers = _racers(optimizers, surface)
    race = Race(surface, {}, {}, {}, {}, {}, steps=steps)
    for label, optimizer in racers.items():
        race.configs[label] = optimizer.config()
        _run(race, label, optimizer, surface, start, steps)
    return race


def steps_to_reach(race: Race, name: str, threshold: float) -> int | None:
    """The first step at which racer `name` is below `threshold` on the surface, or None if it never is."""
    below = np.flatnonzero(race.values[name] < threshold)
    return int(below[0]) if below.size else None


def _run(race: Race, label: str, optimizer: Optimizer, surface: Surface, start, steps: int) -> None:
    point = np.array(start, dtype=np.float64)
    positions = np.full((steps + 1, 2), np.nan)
    gradients = np.full((steps + 1, 2), np.nan)
    states: dict[str, np.ndarray] = {}
    positions[0], gradients[0] = point, surface.gradient(point)
    race.diverged_at[label] = None
    # NOTE: overflow is how divergence starts; the race records where instead of NumPy warning about it
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            optimizer.step([(PARAM, point, gradients[t - 1].copy())])
            if not (np.isfinite(point).all() and np.abs(point).max() <= DIVERGED_BEYOND):
                race.diverged_at[label] = t
                break
            positions[t], gradients[t] = point, surface.gradient(point)
            for key, memory in optimizer.state.get(PARAM, {}).items():
                states.setdefault(key, np.full((steps + 1, 2), np.nan))[t] = memory
        values = surface.value(positions[:, 0], positions[:, 1])
    race.positions[label], race.gradients[label], race.values[label] = positions, gradients, values
    race.states[label] = states


def _racers(optimizers, surface: Surface) -> dict[str, Optimizer]:
    if isinstance(optimizers, (list, tuple)):
        optimizers = {name: name for name in optimizers}
    if not isinstance(optimizers, dict) or not optimizers:
        raise TypeError(f"optimizer_race expected a list of optimizer names or a dict label -> optimizer, got "
                        f"{optimizers!r}. Pass e.g. ['sgd', 'momentum', 'adam'].")
    racers = {}
    for label, spec in optimizers.items():
        if isinstance(spec, Optimizer):
            racers[str(label)] = spec
            continue
        config = {"name": spec} if isinstance(spec, str) else dict(spec)
        name = str(config.get("name", "")).lower()
        if "lr" not in config and name in surface.lr:
            config["lr"] = surface.lr[name]
        racers[str(label)] = get_optimizer(config)
    return racers


def _check_start(start) -> tuple[float, float]:
    try:
        x, y = (float(value) for value in start)
    except (TypeError, ValueError) as error:
        raise ValueError(f"optimizer_race expected start to be a point (x, y), got {start!r}. "
                         "Pass e.g. start=(-1.5, 2.0).") from error
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"optimizer_race expected a finite start point, got {start!r}. Pass e.g. start=(-1.5, 2.0).")
    return x, y


def racer_label(name: str) -> str:
    """The display name of an optimizer key, e.g. 'momentum' -> 'SGD + momentum'."""
    return OPTIMIZER_LABELS.get(name, name)
