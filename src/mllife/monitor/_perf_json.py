"""Validation of the saved state of a performance model (no pickle: JSON checked on load)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._errors import InputError


def check_keys(data: Any, keys: set[str], what: str) -> None:
    """``data`` is a mapping holding exactly ``keys``; else :class:`InputError`."""
    if not isinstance(data, Mapping):
        raise InputError(f"{what} is a {type(data).__name__}", expected="a JSON object")
    missing = sorted(keys - set(data))
    extra = sorted(str(k) for k in set(data) - keys)
    if missing or extra:
        raise InputError(f"{what} has missing keys {missing} and unknown keys {extra[:10]}",
                         expected=f"the keys {sorted(keys)}")


def check_int(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"{what} is {value!r}", expected=f"an integer in [{low}, {high}]")
    return value


def check_float(value: Any, what: str, low: float = -math.inf, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"{what} is {value!r}", expected="a finite number")
    number = float(value)
    if not (math.isfinite(number) and low <= number <= high):
        raise InputError(f"{what} is {number}", expected=f"a finite number in [{low}, {high}]")
    return number


def finite_array(value: Any, what: str, max_size: int, *, integer: bool = False) -> np.ndarray:
    """A flat list of at most ``max_size`` finite numbers (integers when ``integer``)."""
    if not isinstance(value, list):
        raise InputError(f"{what} is a {type(value).__name__}", expected="a list of numbers")
    if len(value) > max_size:
        raise InputError(f"{what} holds {len(value)} numbers", expected=f"at most {max_size}")
    kinds = (int,) if integer else (int, float)
    if any(isinstance(v, bool) or not isinstance(v, kinds) for v in value):
        raise InputError(f"{what} holds something other than "
                         f"{'integers' if integer else 'numbers'}",
                         expected=f"a list of {'integers' if integer else 'numbers'}")
    try:
        arr = np.asarray(value, dtype=np.int64 if integer else np.float64)
    except OverflowError:
        raise InputError(f"{what} holds an integer out of range",
                         expected="64-bit integers") from None
    if not integer and not np.isfinite(arr).all():
        raise InputError(f"{what} holds a non-finite number", expected="finite numbers")
    return arr


def check_text(value: Any, what: str, max_len: int = 100_000) -> str:
    if not isinstance(value, str) or len(value) > max_len:
        raise InputError(f"{what} is not a string of at most {max_len} characters",
                         expected="a string")
    return value
