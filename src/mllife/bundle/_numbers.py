"""Lossless numbers: which request values a trained numeric dtype holds exactly.

The one place that decides representability, for the vectorised path
(``_columns``) and the single-row fast path (``_row``) alike:

- an ``int64`` column holds the integers from ``-2**63`` to ``2**63 - 1``
  (a float only when it is whole and in that range);
- a ``float64`` column holds every binary float, the integers a float64 holds
  exactly (all of magnitude at most ``2**53``, and some beyond), and decimal
  numbers (``Decimal``, numeric text with ``coerce_strings``) that are exactly
  a float64 or are its shortest decimal form (``0.1``, as JSON reads it);
- anything else is *not representable*: a problem whatever the range policy.

Integers are checked vectorised; only ``Decimal``, ``numpy.longdouble``,
numeric text and integers beyond 64 bits are converted one cell at a time.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

from ._cells import INTEGER, NUMBER, OTHER_NUMBER, TEXT

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Every integer of at most this magnitude is exactly a float64.
FLOAT_EXACT = 2**53
_TWO_63 = 2.0**63

#: Statuses of one converted cell.
OK, NOT_NUMBER, NOT_INTEGER, NOT_REPRESENTABLE = range(4)

#: Numeric text accepted with ``coerce_strings`` (ASCII digits only: "١٢" is no number).
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|"
                          r"[+-]?inf(?:inity)?", re.IGNORECASE)


def fits_int64(x: float) -> bool:
    """Whether the whole float ``x`` is an ``int64`` (``2**63`` is not)."""
    return -_TWO_63 <= x < _TWO_63


def floats_outside_int64(floats: np.ndarray) -> np.ndarray:
    """Mask of finite floats no ``int64`` holds (NaN and infinities: false)."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(floats) & ((floats < -_TWO_63) | (floats >= _TWO_63))


def ints_exact_in_float(ints: np.ndarray) -> np.ndarray:
    """Mask of the integers (an ``int64`` or ``uint64`` array) a float64 holds exactly."""
    exact = np.ones(ints.shape, dtype=bool)
    if ints.dtype.kind == "u":
        big = ints > FLOAT_EXACT
    else:
        big = (ints > FLOAT_EXACT) | (ints < -FLOAT_EXACT)
    if big.any():
        values = ints[big]
        floats = values.astype(np.float64)
        limit = 2.0**64 if ints.dtype.kind == "u" else _TWO_63
        inside = floats < limit  # a value rounded up to 2**63 (or 2**64) is no int64
        back = np.where(inside, floats, 0.0).astype(ints.dtype)
        exact[big] = inside & (back == values)
    return exact


def decimal_cell(d: Decimal, integer: bool) -> tuple[float, int, int]:
    """``(float, int, status)`` of a finite or infinite ``Decimal`` (never NaN here)."""
    if d.is_infinite():
        return (math.inf if d > 0 else -math.inf), 0, OK
    if integer:
        if d != d.to_integral_value():
            return math.nan, 0, NOT_INTEGER
        if not INT64_MIN <= d <= INT64_MAX:  # compared before int(): 1e999999999 is cheap
            return math.nan, 0, NOT_REPRESENTABLE
        value = int(d)
        return float(value), value, OK
    f = float(d)
    if not math.isfinite(f) or (Decimal(f) != d and Decimal(repr(f)) != d):
        return math.nan, 0, NOT_REPRESENTABLE
    return f, 0, OK


def number_cell(v: Any, integer: bool) -> tuple[float, int, int]:
    """``(float, int, status)`` of one cell: numeric text, an integer or another number.

    ``integer``: the target is ``int64`` (the int is exact); else ``float64``.
    """
    if isinstance(v, str):
        text = v.strip()
        if _NUMBER_TEXT.fullmatch(text) is None:
            return math.nan, 0, NOT_NUMBER
        try:
            return decimal_cell(Decimal(text), integer)
        except InvalidOperation:  # the pattern is stricter than Decimal: never, but safe
            return math.nan, 0, NOT_NUMBER
    if isinstance(v, int | np.integer):
        value = int(v)
        if integer:
            if not INT64_MIN <= value <= INT64_MAX:
                return math.nan, 0, NOT_REPRESENTABLE
            return float(value), value, OK
        if -FLOAT_EXACT <= value <= FLOAT_EXACT:
            return float(value), 0, OK
        try:
            f = float(value)
        except OverflowError:
            return math.nan, 0, NOT_REPRESENTABLE
        return (f, 0, OK) if f == value else (math.nan, 0, NOT_REPRESENTABLE)
    if isinstance(v, Decimal):
        return decimal_cell(v, integer)
    f = float(v)  # numpy.longdouble and other real numbers: exact only when equal
    if f != v and not (math.isnan(f) and v != v):
        return math.nan, 0, NOT_REPRESENTABLE
    if integer and math.isfinite(f):
        if not f.is_integer():
            return math.nan, 0, NOT_INTEGER
        if not fits_int64(f):
            return math.nan, 0, NOT_REPRESENTABLE
        return f, int(f), OK
    return f, 0, OK


class Numbers:
    """Numbers read from the cells of an object column, with their exact integers.

    ``floats`` holds every number (NaN elsewhere); for an ``int64`` target,
    ``exact`` marks the cells whose exact value is in ``ints`` (the float may
    be rounded); ``status`` holds :data:`OK` or why a cell was refused.
    """

    __slots__ = ("exact", "floats", "ints", "status")

    def __init__(self, n: int) -> None:
        self.floats = np.full(n, np.nan)
        self.ints = np.zeros(n, dtype=np.int64)
        self.exact = np.zeros(n, dtype=bool)
        self.status = np.zeros(n, dtype=np.int8)

    def to_int64(self) -> np.ndarray:
        """The ``int64`` values (call only when every cell is a whole number in range)."""
        out = np.zeros(len(self.floats), dtype=np.int64)
        rest = ~self.exact
        out[rest] = self.floats[rest].astype(np.int64)
        out[self.exact] = self.ints[self.exact]
        return out


def object_numbers(values: np.ndarray, codes: np.ndarray, usable: np.ndarray,
                   integer: bool) -> Numbers:
    """Convert the ``usable`` cells (numbers, and text with ``coerce_strings``) exactly.

    Binary floats and integers are converted vectorised; an integer column of
    Python ints stays exact at any size (pandas would round it through a
    float). Other cells are converted one by one by :func:`number_cell`.
    """
    out = Numbers(len(values))
    floats_at = usable & (codes == NUMBER)
    if floats_at.any():
        out.floats[floats_at] = pd.to_numeric(pd.Series(values[floats_at], dtype=object)
                                              ).to_numpy(dtype=np.float64)
    slow = usable & ((codes == OTHER_NUMBER) | (codes == TEXT))
    ints_at = usable & (codes == INTEGER)
    if ints_at.any():
        try:
            ints = pd.to_numeric(pd.Series(values[ints_at], dtype=object)).to_numpy()
        except (OverflowError, ValueError, TypeError):
            ints = np.empty(0)
        if ints.dtype.kind in "iu":  # int64, or uint64 beyond int64
            _store_ints(out, ints_at, ints, integer)
        else:  # integers beyond 64 bits: one by one
            slow |= ints_at
    if slow.any():
        cells = pd.Series(values[slow], dtype=object).map(
            lambda v: number_cell(v, integer)).tolist()
        floats, ints_, status = zip(*cells, strict=True)
        out.floats[slow] = floats
        out.status[slow] = status
        if integer:
            out.ints[slow] = ints_
            out.exact[slow] = np.asarray(status) == OK
    return out


def _store_ints(out: Numbers, where: np.ndarray, ints: np.ndarray, integer: bool) -> None:
    """Integers from an ``int64`` or ``uint64`` array, checked against the target."""
    if integer:
        ok = ints <= INT64_MAX if ints.dtype.kind == "u" else np.ones(len(ints), dtype=bool)
    else:
        ok = ints_exact_in_float(ints)
    positions = np.flatnonzero(where)
    out.status[positions[~ok]] = NOT_REPRESENTABLE
    kept = positions[ok]
    out.floats[kept] = ints[ok].astype(np.float64)
    if integer:
        out.ints[kept] = ints[ok].astype(np.int64)
        out.exact[kept] = True
