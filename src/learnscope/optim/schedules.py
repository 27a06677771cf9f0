"""Learning-rate schedules: schedule(step) -> factor, and the step's lr is base lr × factor.

`step` counts the optimizer steps taken before the current one, so the first step sees step = 0.
A schedule is a pure function of that count, so it holds no state and needs nothing in a checkpoint.
"""

import math

from learnscope.core.validation import check_hyperparameter, check_int, check_name, construct, describe


class Schedule:
    """Base class: schedule(step) -> factor multiplying the base learning rate (1.0 = unchanged)."""

    #: registry name, written by config() and read by get_schedule()
    name = "schedule"

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def config(self) -> dict:
        """Constructor arguments as JSON-able values; get_schedule(config) rebuilds the schedule."""
        return {"name": self.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.config().items() if key != "name")
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """factor = 1: the base learning rate at every step."""

    name = "constant"

    def __call__(self, step: int) -> float:
        return 1.0


class StepDecay(Schedule):
    """factor = gamma ** (step // step_size): multiply the lr by gamma every step_size steps."""

    name = "step_decay"

    def __init__(self, step_size, gamma=0.1):
        self.step_size = check_int(
            step_size, "step_size", "StepDecay", minimum=1,
            fix="Pass a positive whole number of steps such as step_size=1000.",
        )
        self.gamma = check_hyperparameter(
            gamma,
            "gamma",
            "StepDecay",
            minimum=0,
            maximum=1,
            inclusive=(False, True),
            fix="Use a factor such as 0.1 (each decay divides the lr by 10).",
        )

    def __call__(self, step: int) -> float:
        return self.gamma ** (step // self.step_size)

    def config(self) -> dict:
        return {"name": self.name, "step_size": self.step_size, "gamma": self.gamma}


class Cosine(Schedule):
    """factor = m + (1 − m)·½(1 + cos(π·min(step, T)/T)): half a cosine from 1 down to m = min_factor at T."""

    name = "cosine"

    def __init__(self, total_steps, min_factor=0.0):
        self.total_steps = check_int(
            total_steps, "total_steps", "Cosine", minimum=1,
            fix="Pass the number of steps in training, e.g. total_steps=1000.",
        )
        self.min_factor = check_hyperparameter(
            min_factor,
            "min_factor",
            "Cosine",
            minimum=0,
            maximum=1,
            fix="Use 0 to end at lr 0, or e.g. 0.01 to end at 1% of the lr.",
        )

    def __call__(self, step: int) -> float:
        progress = min(step, self.total_steps) / self.total_steps  # stays at min_factor after total_steps
        return self.min_factor + (1.0 - self.min_factor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def config(self) -> dict:
        return {"name": self.name, "total_steps": self.total_steps, "min_factor": self.min_factor}


class Warmup(Schedule):
    """factor = (step + 1)/warmup_steps while step < warmup_steps, then `then`(step − warmup_steps) (or 1).

    Early on, Adam's v and batch-norm statistics are poor estimates and a full-size step can throw the
    weights somewhere bad; ramping the lr up from lr/warmup_steps avoids that.
    """

    name = "warmup"

    def __init__(self, warmup_steps, then=None):
        self.warmup_steps = check_int(
            warmup_steps, "warmup_steps", "Warmup", minimum=1,
            fix="Pass a positive whole number of steps such as warmup_steps=100.",
        )
        if then is not None and not isinstance(then, (Schedule, str, dict)):
            raise TypeError(
                f"Warmup expected then to be None, a Schedule, a name or a config dict, got "
                f"{describe(then)}. Use e.g. then=Cosine(total_steps=1000)."
            )
        self.then = None if then is None else get_schedule(then)

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        return 1.0 if self.then is None else self.then(step - self.warmup_steps)

    def config(self) -> dict:
        return {
            "name": self.name,
            "warmup_steps": self.warmup_steps,
            "then": None if self.then is None else self.then.config(),
        }


SCHEDULES = {cls.name: cls for cls in (Constant, StepDecay, Cosine, Warmup)}


def get_schedule(name_or_dict) -> Schedule:
    """'cosine' or {"name": "cosine", "total_steps": 1000} -> Cosine(total_steps=1000); a Schedule passes through."""
    if isinstance(name_or_dict, Schedule):
        return name_or_dict
    if isinstance(name_or_dict, str):
        name, kwargs = name_or_dict, {}
    elif isinstance(name_or_dict, dict):
        kwargs = dict(name_or_dict)
        if "name" not in kwargs:
            raise ValueError(
                f"get_schedule expected a 'name' key in the config dict, got {describe(name_or_dict)}. "
                "Add e.g. 'name': 'cosine'."
            )
        name = kwargs.pop("name")
    else:
        raise TypeError(
            f"get_schedule expected a schedule name, a config dict or a Schedule, got "
            f"{describe(name_or_dict)}. Use e.g. {{'name': 'cosine', 'total_steps': 1000}}."
        )
    cls = SCHEDULES[check_name(name, "get_schedule", SCHEDULES)]
    return construct(cls, kwargs, "get_schedule")
