"""The floating-point type every new array uses. float32 by default: half the memory, twice the
speed of float64, and plenty of precision for training. Gradient checks switch to float64."""

import numpy as np

_default_dtype = np.dtype(np.float32)


def get_default_dtype() -> np.dtype:
    """The dtype new layers, losses and data use (float32 unless changed)."""
    return _default_dtype


def set_default_dtype(dtype) -> None:
    """Set the dtype for new layers and data: np.float32 or np.float64."""
    global _default_dtype
    resolved = np.dtype(dtype)
    if resolved not in (np.float32, np.float64):
        raise ValueError(
            f"set_default_dtype expected float32 or float64, got {resolved}. "
            "Use np.float32 for training or np.float64 for gradient checks."
        )
    _default_dtype = resolved


def resolve_dtype(dtype) -> np.dtype:
    """dtype=None means the default; anything else must be float32 or float64."""
    if dtype is None:
        return _default_dtype
    if isinstance(dtype, str) and dtype not in ("float32", "float64"):
        raise ValueError(f"expected dtype 'float32' or 'float64', got {dtype!r}. Use np.float32 or np.float64.")
    try:
        resolved = np.dtype(dtype)
    except TypeError as err:
        raise TypeError(f"expected a NumPy float dtype, got {dtype!r}. Use np.float32 or np.float64.") from err
    if resolved not in (np.float32, np.float64):
        raise ValueError(f"expected dtype float32 or float64, got {resolved}. Use np.float32 or np.float64.")
    return resolved
