"""The fast path for one request row given as a dict (what a web service receives).

A service validates one small dict per request, where pandas' per-column
overhead would dominate. This path checks the plain Python values directly
and accepts only rows that are unambiguously valid; anything else (a missing
or extra key, a null, an unseen category, a value needing a policy) returns
``None`` and the row goes through the general, vectorised path, which finds
and reports every problem. Both paths return the same frame for a valid row.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._columns import TEXT_DTYPE, ColumnSpec, Policies, datetime_unit, numeric_bounds
from ._numbers import FLOAT_EXACT, INT64_MAX, INT64_MIN, fits_int64

#: The date-times this path reads: a date, or a date and a time with an optional offset.
#: An offset needs a time ("2024-01-05+02:00" is no ISO 8601 date-time, and Python's
#: ``fromisoformat`` would read it as 02:00); ASCII digits only.
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?"
                  r"(Z|[+-]\d{2}:\d{2})?)?", re.ASCII)
#: Microseconds per unit of the coarser date-time resolutions.
_MICROS = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": 1}


class RowChecker:
    """Per-column constants precomputed once per schema (bounds, category sets)."""

    def __init__(self, specs: tuple[ColumnSpec, ...], policies: Policies) -> None:
        self.specs = specs
        self.names = frozenset(s.name for s in specs)
        self.limit = policies.max_string_length
        self.strict_range = policies.out_of_range in {"error", "ignore"}
        self.check_range = policies.out_of_range != "ignore"
        self.bounds: dict[str, tuple[float, float] | None] = {}
        self.dt_bounds: dict[str, tuple[pd.Timestamp, pd.Timestamp] | None] = {}
        self.units: dict[str, str] = {}
        self.categories: dict[str, dict[str, str] | None] = {}
        margin = pd.Timedelta(policies.datetime_margin)
        for s in specs:
            self.bounds[s.name] = numeric_bounds(s, policies) if s.family in {
                "integer", "float"} else None
            self.categories[s.name] = (None if s.categories is None
                                       else {c: c for c in s.categories})
            if s.family == "datetime" and s.min is not None and s.max is not None:
                lo, hi = pd.Timestamp(s.min) - margin, pd.Timestamp(s.max) + margin
                if s.tz is not None:
                    lo, hi = lo.tz_convert(s.tz), hi.tz_convert(s.tz)
                self.dt_bounds[s.name] = (lo, hi)
            else:
                self.dt_bounds[s.name] = None
            if s.family == "datetime":
                self.units[s.name] = datetime_unit(s.dtype)

    def __call__(self, row: Mapping[str, Any]) -> pd.DataFrame | None:
        if len(row) != len(self.names) or not self.strict_range:
            return None
        out: dict[str, Any] = {}
        for spec in self.specs:
            name = spec.name
            if name not in row:
                return None
            try:
                value = self._one(spec, row[name])
            except (TypeError, ValueError, ArithmeticError):  # never raise: the general
                return None  # path reports the value, the same way for every input form
            if value is None:
                return None
            out[name] = value
        return pd.DataFrame(out, index=pd.RangeIndex(1), copy=False)

    def _in_range(self, name: str, x: float) -> bool:
        bounds = self.bounds[name]
        return bounds is None or not self.check_range or bounds[0] <= x <= bounds[1]

    def _one(self, spec: ColumnSpec, v: Any) -> Any:
        family = spec.family
        if isinstance(v, bool | np.bool_):
            return np.array([bool(v)]) if family == "boolean" else None
        if family in {"integer", "float"}:
            if isinstance(v, int | np.integer) and not isinstance(v, np.timedelta64):
                value = int(v)  # exact: never through a float
                if family == "integer":
                    if not (INT64_MIN <= value <= INT64_MAX
                            and self._in_range(spec.name, float(value))):
                        return None
                    return np.array([value], dtype=np.int64)
                if not -FLOAT_EXACT <= value <= FLOAT_EXACT:  # maybe no float64: let the
                    return None  # general path decide
                x = float(value)
                return np.array([x]) if self._in_range(spec.name, x) else None
            if isinstance(v, float | np.float32 | np.float16):  # float64 holds them exactly
                x = float(v)
                if not (math.isfinite(x) and self._in_range(spec.name, x)):
                    return None
                if family == "integer":
                    if not (x.is_integer() and fits_int64(x)):
                        return None
                    return np.array([int(x)], dtype=np.int64)
                return np.array([x])
            return None
        if not isinstance(v, str) or len(v) > self.limit:
            return None
        if family == "string":
            cats = self.categories[spec.name]
            if cats is not None:
                v = cats.get(v)  # the shared category object
                if v is None:
                    return None
            return pd.array([v], dtype=TEXT_DTYPE)
        if family == "datetime":
            return self._datetime(spec, v)
        return None

    def _datetime(self, spec: ColumnSpec, v: str) -> Any:
        match = _ISO.fullmatch(v)
        if match is None:
            return None
        try:
            stamp = pd.Timestamp(_dt.datetime.fromisoformat(v))
        except ValueError:
            return None
        aware = match.group(1) is not None
        if aware != (spec.tz is not None) or aware != (stamp.tzinfo is not None):
            return None
        unit = self.units[spec.name]
        if stamp.microsecond % _MICROS[unit] or (unit == "ns" and not 1678 <= stamp.year <= 2261):
            return None  # maybe not representable at the training resolution: decided there
        bounds = self.dt_bounds[spec.name]
        if aware:
            stamp = stamp.tz_convert(spec.tz)
        if bounds is not None and self.check_range:
            lo, hi = bounds
            if not lo <= stamp <= hi:
                return None
        if not aware:  # numpy holds naive date-times directly, in the training unit
            return np.array([stamp.to_datetime64()]).astype(spec.dtype)
        return pd.array([stamp], dtype=spec.dtype)
