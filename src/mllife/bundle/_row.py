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

from ._columns import TEXT_DTYPE, ColumnSpec, Policies, numeric_bounds

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?"
                  r"(Z|[+-]\d{2}:\d{2})?$")


class RowChecker:
    """Per-column constants precomputed once per schema (bounds, category sets)."""

    def __init__(self, specs: tuple[ColumnSpec, ...], policies: Policies) -> None:
        self.specs = specs
        self.names = frozenset(s.name for s in specs)
        self.limit = policies.max_string_length
        self.strict_range = policies.out_of_range in {"error", "allow"}
        self.check_range = policies.out_of_range != "allow"
        self.bounds: dict[str, tuple[float, float] | None] = {}
        self.dt_bounds: dict[str, tuple[pd.Timestamp, pd.Timestamp] | None] = {}
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

    def __call__(self, row: Mapping[str, Any]) -> pd.DataFrame | None:
        if len(row) != len(self.names) or not self.strict_range:
            return None
        out: dict[str, Any] = {}
        for spec in self.specs:
            name = spec.name
            if name not in row:
                return None
            value = self._one(spec, row[name])
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
            if isinstance(v, int | np.integer):
                x = float(v)
                if not (math.isfinite(x) and self._in_range(spec.name, x)):
                    return None
                if family == "integer":
                    return np.array([v], dtype=np.int64) if abs(x) < 2**62 else None
                return np.array([x])
            if isinstance(v, float | np.floating):
                x = float(v)
                if not (math.isfinite(x) and self._in_range(spec.name, x)):
                    return None
                if family == "integer":
                    return np.array([int(x)], dtype=np.int64) if x.is_integer() else None
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
        match = _ISO.match(v)
        if match is None:
            return None
        try:
            stamp = pd.Timestamp(_dt.datetime.fromisoformat(v))
        except ValueError:
            return None
        aware = match.group(1) is not None
        if aware != (spec.tz is not None):
            return None
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
