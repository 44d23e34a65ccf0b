"""Additive window sums: the state every monitor signal keeps per window.

A window's statistics are kept as ``Sums``, a ``dict[str, numpy.ndarray]`` of
float64 arrays (a scalar is a shape ``()`` array). Two windows' sums merge by
elementwise addition, so a window's numbers do not depend on how its rows
were batched (up to float rounding). In JSON a sums mapping is
``{key: array.tolist()}``; :func:`sums_from_json` validates it (finite
numbers, bounded sizes) before trusting it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._errors import InputError

__all__ = ["MAX_SUMS_KEYS", "MAX_SUMS_VALUES", "Sums", "add_sums", "as_sums", "sums_from_json",
           "sums_to_json"]

Sums = dict[str, np.ndarray]

#: A loaded sums mapping holds at most this many keys ...
MAX_SUMS_KEYS = 10_000
#: ... and at most this many numbers in all (a bounded file, a bounded state).
MAX_SUMS_VALUES = 5_000_000


def as_sums(values: Mapping[str, Any]) -> Sums:
    """``values`` as Sums: every value a float64 array (a number becomes shape ``()``).

    Examples
    --------
    >>> as_sums({"n": 3, "hist": [1, 2]})["hist"]
    array([1., 2.])
    """
    return {str(k): np.asarray(v, dtype=np.float64) for k, v in values.items()}


def add_sums(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> Sums:
    """The elementwise sum of two sums mappings (a key in one only is kept as is).

    Neither input is changed; the result holds new arrays.

    Raises
    ------
    InputError
        When a key holds arrays of different shapes in ``a`` and ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> out = add_sums({"n": np.array(2.0), "h": np.array([1.0, 0.0])},
    ...                {"n": np.array(3.0), "m": np.array(1.0)})
    >>> {k: v.tolist() for k, v in sorted(out.items())}
    {'h': [1.0, 0.0], 'm': 1.0, 'n': 5.0}
    """
    out: Sums = {k: np.array(v, dtype=np.float64) for k, v in a.items()}
    for key, value in b.items():
        right = np.asarray(value, dtype=np.float64)
        if key not in out:
            out[key] = right.copy()
            continue
        left = out[key]
        if left.shape != right.shape:
            raise InputError(f"window sums {key!r} have shapes {left.shape} and {right.shape}",
                             expected="sums of the same signal, of the same shape")
        out[key] = left + right
    return out


def sums_to_json(sums: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """``{key: array.tolist()}``, JSON-safe (keys sorted).

    Examples
    --------
    >>> import numpy as np
    >>> sums_to_json({"n": np.array(2.0), "h": np.array([1.0, 0.5])})
    {'h': [1.0, 0.5], 'n': 2.0}
    """
    return {str(k): np.asarray(sums[k], dtype=np.float64).tolist() for k in sorted(sums)}


def _check_nested(value: Any, key: str, depth: int = 0) -> tuple[int, ...]:
    """The shape of a nested list of numbers; InputError on anything else (bounded depth)."""
    if depth > 8:
        raise InputError(f"window sums {key!r} are nested deeper than 8 levels",
                         expected="an array of at most 8 dimensions")
    if isinstance(value, bool) or not isinstance(value, (int, float, list)):
        raise InputError(f"window sums {key!r} hold a {type(value).__name__}",
                         expected="numbers or lists of numbers")
    if not isinstance(value, list):
        return ()
    shapes = {_check_nested(v, key, depth + 1) for v in value}
    if len(shapes) > 1:
        raise InputError(f"window sums {key!r} are a ragged list",
                         expected="a rectangular array")
    inner = shapes.pop() if shapes else ()
    return (len(value), *inner)


def sums_from_json(data: Any, *, what: str = "window sums") -> Sums:
    """Sums from :func:`sums_to_json` output, validated.

    Raises
    ------
    InputError
        When ``data`` is not a mapping of string keys to (nested lists of)
        finite numbers, or holds more than :data:`MAX_SUMS_KEYS` keys or
        :data:`MAX_SUMS_VALUES` numbers.

    Examples
    --------
    >>> sums_from_json({"n": 2.0, "h": [1.0, 0.5]})["h"]
    array([1. , 0.5])
    >>> sums_from_json({"n": "two"})
    Traceback (most recent call last):
    ...
    mllife._errors.InputError: window sums 'n' hold a str; expected numbers or lists of numbers
    """
    if not isinstance(data, Mapping):
        raise InputError(f"{what} are a {type(data).__name__}", expected="a JSON object")
    if len(data) > MAX_SUMS_KEYS:
        raise InputError(f"{what} hold {len(data)} keys", expected=f"at most {MAX_SUMS_KEYS}")
    out: Sums = {}
    total = 0
    for key, value in data.items():
        if not isinstance(key, str):
            raise InputError(f"{what} have a key of type {type(key).__name__}",
                             expected="string keys")
        shape = _check_nested(value, key)
        total += math.prod(shape)
        if total > MAX_SUMS_VALUES:
            raise InputError(f"{what} hold more than {MAX_SUMS_VALUES} numbers",
                             expected="a bounded state")
        try:
            arr = np.asarray(value, dtype=np.float64).reshape(shape)
        except (OverflowError, ValueError):
            arr = np.array(np.inf)
        if not np.isfinite(arr).all():
            raise InputError(f"{what} {key!r} hold a non-finite number",
                             expected="finite numbers")
        out[key] = arr
    return out
