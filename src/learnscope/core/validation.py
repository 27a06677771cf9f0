"""Checks used at the boundaries (constructors, forward, losses, loaders). Each error says what was
expected, what was received and how to fix it, so a learner never sees a traceback from inside NumPy."""

import difflib
import inspect
import numbers

import numpy as np


def describe(value) -> str:
    """A short description of a value for error messages: shape and dtype for arrays."""
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_array(x, name: str, owner: str, *, ndim=None, dtype=None, hint: str = "") -> np.ndarray:
    """Return x as a NumPy array of `dtype` (no copy if it already is one), after checking that it
    holds real numbers and has `ndim` dimensions (an int or a tuple of allowed ints)."""
    if not isinstance(x, np.ndarray):
        if isinstance(x, (list, tuple)) or np.isscalar(x):
            try:
                x = np.asarray(x)
            except ValueError as err:  # ragged nested lists
                raise ValueError(
                    f"{owner} expected {name} to be a rectangular array, got a ragged {type(x).__name__}. "
                    "Make every row the same length."
                ) from err
        else:
            raise TypeError(
                f"{owner} expected {name} to be a NumPy array, got {type(x).__name__}. Convert it with np.asarray()."
            )
    if x.dtype.kind not in "biuf":
        raise TypeError(
            f"{owner} expected {name} to hold real numbers, got dtype {x.dtype}. "
            "Convert it with x.astype(np.float32)."
        )
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if x.ndim not in allowed:
            wanted = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{owner} expected {name} to be {wanted}, got shape {x.shape}.{_with_hint(hint)}")
    if dtype is not None and x.dtype != dtype:
        with np.errstate(over="ignore"):               # 1e39 becomes inf in float32; check_finite says so
            x = x.astype(dtype)
    return x


def is_finite(x: np.ndarray) -> bool:
    """True if x holds no NaN or inf. A dot product x·x is a cheap first test (BLAS, no temporary
    array; NaN and inf survive it); only if it is not finite do we pay for the element-wise check,
    since a huge but finite x can overflow the dot product."""
    if x.size == 0 or x.dtype.kind != "f":
        return True
    flat = x.reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(np.dot(flat, flat))) or bool(np.isfinite(x).all())


def check_finite(x: np.ndarray, name: str, owner: str, hint: str = "") -> None:
    """Raise a ValueError counting the NaN/inf values if x holds any."""
    if is_finite(x):
        return
    n_bad = int(np.count_nonzero(~np.isfinite(x)))
    raise ValueError(
        f"{owner} expected {name} to be finite, got {n_bad} NaN/inf value(s) in {describe(x)}."
        f"{_with_hint(hint or ' Clean the data or lower the learning rate if training diverged.')}"
    )


def check_int(value, name: str, owner: str, *, minimum=None, maximum=None, fix: str = "") -> int:
    """A whole number (not bool) within [minimum, maximum]; `fix` replaces the generic advice."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        advice = fix or f"Pass e.g. {name}={minimum or 1}."
        raise TypeError(f"{owner} expected {name} to be an int, got {describe(value)}. {advice}")
    return int(check_range(int(value), name, owner, minimum=minimum, maximum=maximum, fix=fix))


def check_range(value, name: str, owner: str, *, minimum=None, maximum=None, inclusive=(True, True),
                fix: str = "") -> float:
    """A real number within the given bounds; NaN and inf are never allowed. `fix` replaces the
    generic advice with one specific to the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner} expected {name} to be a number, got {describe(value)}.{_with_hint(fix)}")
    # NOTE: a Python int is always finite (np.isfinite refuses ints beyond 64 bits: a typo of 25 digits)
    if not isinstance(value, numbers.Integral) and not np.isfinite(value):
        raise ValueError(f"{owner} expected {name} to be a finite number, got {value}.{_with_hint(fix)}")
    low_ok = minimum is None or (value >= minimum if inclusive[0] else value > minimum)
    high_ok = maximum is None or (value <= maximum if inclusive[1] else value < maximum)
    if not (low_ok and high_ok):
        left = "(-inf" if minimum is None else ("[" if inclusive[0] else "(") + f"{minimum}"
        right = "inf)" if maximum is None else f"{maximum}" + ("]" if inclusive[1] else ")")
        advice = fix or "Choose a value in that range."
        raise ValueError(f"{owner} expected {name} in {left}, {right}, got {value}. {advice}")
    return value


#: One layer may hold at most this many numbers (512 MiB in float32): past it, a typo like
#: Dense(784, 1_000_000) would otherwise die with a MemoryError deep inside NumPy.
MAX_PARAMETERS_PER_LAYER = 2**27


def check_parameter_count(count: int, owner: str) -> None:
    """Refuse layers too large to allocate, before allocating them."""
    if count > MAX_PARAMETERS_PER_LAYER:
        raise ValueError(
            f"{owner} would hold {count:,} weights ({count * 4 / 2**30:.1f} GiB in float32); "
            f"the limit is {MAX_PARAMETERS_PER_LAYER:,} per layer. Use fewer units or channels."
        )


def check_choice(value, name: str, owner: str, choices, fix: str = "") -> str:
    """One of a fixed set of names, e.g. an activation or initializer."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{owner} expected {name} to be one of {listed}, got {describe(value)}.{_with_hint(fix)}")
    return value


def _with_hint(hint: str) -> str:
    return f" {hint.strip()}" if hint else ""


# -- hyperparameters and registries (optimizers, schedules, ...) ----------------------------------------------
def check_hyperparameter(
    value, name: str, owner: str, fix: str, *, minimum=None, maximum=None, inclusive=(True, True)
) -> float:
    """A finite real number within bounds, returned as a Python float (keeps float32 arrays float32)."""
    return float(check_range(value, name, owner, minimum=minimum, maximum=maximum, inclusive=inclusive, fix=fix))


def check_name(value, owner: str, registry, what: str = "name") -> str:
    """A registry key (case-insensitive); an unknown one gets the closest known name as a suggestion."""
    choices = list(registry)
    if not isinstance(value, str):
        raise TypeError(f"{owner} expected {what} to be a string, got {describe(value)}. Use one of {choices}.")
    if value.lower() in choices:
        return value.lower()
    close = difflib.get_close_matches(value.lower(), choices, n=1)
    fix = f"Did you mean {close[0]!r}?" if close else "Pick one of those."
    return check_choice(value, what, owner, choices, fix=fix)  # raises, naming the value as received


def construct(cls, kwargs: dict, owner: str):
    """Call cls(**kwargs), turning a missing or unknown argument into a message that lists the accepted ones."""
    signature = inspect.signature(cls)
    try:
        signature.bind(**kwargs)
    except TypeError as err:
        accepted = ", ".join(signature.parameters)
        raise TypeError(f"{owner} could not build {cls.__name__}: {err}. Accepted arguments: {accepted}.") from None
    return cls(**kwargs)
