"""Shared foundations: dtype, randomness, validation. Imports nothing else of learnscope."""

from learnscope.core.dtype import get_default_dtype, set_default_dtype
from learnscope.core.rng import make_rng
from learnscope.core.validation import (
    check_array,
    check_choice,
    check_finite,
    check_int,
    check_parameter_count,
    check_range,
    describe,
    is_finite,
)

__all__ = [
    "check_array",
    "check_choice",
    "check_finite",
    "check_int",
    "check_parameter_count",
    "check_range",
    "describe",
    "get_default_dtype",
    "is_finite",
    "make_rng",
    "set_default_dtype",
]
