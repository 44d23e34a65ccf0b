"""Column kinds of a Dask frame, decided as :func:`mllife._columns.column_kind` decides them in memory.

``column_kind`` reads a column of ``n`` rows whole when ``n <= 20_000``;
above, it reads a sample of 20,000 rows at positions that depend on ``n``
only (first and last row kept, in order), and confirms on the full column a
verdict the sample cannot prove (``empty``, ``constant``, ``identifier``).
The Dask path does the same:

* the sample is taken from the partitions at the same global positions (the
  partition lengths are known first), so the sample verdict is the one
  pandas reaches;
* a verdict to confirm is decided from facts of the full column merged over
  the partitions in row order (:class:`KindPart`): for numbers, the
  :class:`~mllife._columns.NumberFacts` (counts, extremes, whether the values
  never decrease or never increase across the partitions, and the distinct
  count: from the exact values of the drift profile, from the run structure
  of a monotone column, or else counted by Dask after a shuffle by hash);
  for text, the distinct values in order of first appearance with their
  counts; for a pandas ``category``, its categories the same way; for
  booleans, datetimes and durations, the few *witness* rows the detector
  reads (the first value, the first different one, the first with a time of
  day).

The kind then equals the in-memory kind, reason included, except for object
columns holding other Python objects than strings (numbers or dates as
objects, mixed types): a verdict to confirm on those keeps the sample's, and
says so in its reason.
"""

from __future__ import annotations

import inspect
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

import numpy as np
import pandas as pd

from .._columns import (
    ColumnKind,
    NumberFacts,
    _decide,
    _sample_positions,
    column_kind,
    kind_of_counts,
    kind_of_number_facts,
)
from .._dtypes import is_bool, is_datetime, is_numeric
from . import _kernels as k

_DEFAULTS = inspect.signature(column_kind).parameters
#: Rows ``column_kind`` reads before it samples (its default ``sample_size``), and its sample's size.
SAMPLE_SIZE: int = _DEFAULTS["sample_size"].default
#: ``column_kind``'s default ``max_categories``.
MAX_CATEGORIES: int = _DEFAULTS["max_categories"].default
#: Sample verdicts ``column_kind`` confirms on the full column.
CONFIRMED = frozenset({"empty", "constant", "identifier"})


# ---- where the sample rows are -------------------------------------------------------------
def sample_positions(n_rows: int) -> np.ndarray:
    """Global row positions the kind detector reads: every row up to :data:`SAMPLE_SIZE`, else
    ``column_kind``'s own sample."""
    if n_rows <= SAMPLE_SIZE:
        return np.arange(n_rows)
    return _sample_positions(n_rows, SAMPLE_SIZE)


def local_positions(n_rows: int, offset: int, length: int) -> np.ndarray:
    """The sample positions inside the partition of ``length`` rows starting at row ``offset``."""
    if length == 0:
        return np.zeros(0, dtype=np.int64)
    positions = sample_positions(n_rows)
    lo, hi = np.searchsorted(positions, [offset, offset + length])
    return positions[lo:hi] - offset


# ---- facts of one partition -----------------------------------------------------------------
@dataclass(frozen=True)
class KindPart:
    """What the full-column confirmation reads, for one column over consecutive partitions.

    ``route`` is the detector's branch: ``"numbers"``, ``"text"`` (object or
    string columns whose values are all strings), ``"category"``,
    ``"witness"`` (booleans, datetimes, durations, periods) or ``"other"``
    (object columns holding other objects: not confirmable).
    """

    route: str
    numbers: NumberFacts | None = None
    last: float = np.nan  # the last number down the rows
    uniques: tuple[Any, ...] = ()  # category values in order of first appearance
    counts: tuple[int, ...] = ()
    witness: pd.Series | None = None


def _route(series: pd.Series) -> str:
    if is_bool(series) or is_datetime(series) or isinstance(series.dtype, pd.PeriodDtype) \
            or pd.api.types.is_timedelta64_dtype(series.dtype):
        return "witness"
    if is_numeric(series):
        return "numbers"
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_object_dtype(series.dtype):
        present = series.dropna()
        return "text" if pd.api.types.infer_dtype(present, skipna=True) in {"string", "empty"} else "other"
    return "text"  # str / string dtypes


def kind_part(series: pd.Series, numbers: k.NumericCounts | None = None) -> KindPart:
    """The confirmation facts of one partition's column (``numbers``: its split into sorted
    finite values and inf counts, when the drift profile made it already)."""
    route = _route(series)
    if route == "numbers":
        values = series.to_numpy(dtype=float, na_value=np.nan)
        present = ~np.isnan(values)
        x = values[present]
        if numbers is None:
            numbers = k.split_numeric(x)
        finite = numbers.finite  # sorted
        finite = finite[np.concatenate([[True], finite[1:] != finite[:-1]])] if finite.size else finite
        with np.errstate(invalid="ignore"):  # inf - inf
            diffs = np.diff(x)
        facts = NumberFacts(
            n_rows=int(values.size), n_missing=int(values.size - x.size), n_values=int(x.size),
            n_unique=int(finite.size) + int(numbers.n_posinf > 0) + int(numbers.n_neginf > 0),
            n_finite_unique=int(finite.size),
            whole=bool(np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 2.0**53)),
            increasing=bool(np.all(diffs >= 0)), decreasing=bool(np.all(diffs <= 0)),
            lo=float(finite[0]) if finite.size else np.nan, hi=float(finite[-1]) if finite.size else np.nan,
            first=float(x[0]) if x.size else np.nan)
        return KindPart(route, numbers=facts, last=float(x[-1]) if x.size else np.nan)
    if route == "category":
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        return KindPart(route, uniques=tuple(np.asarray(uniques, dtype=object)),
                        counts=tuple(int(c) for c in counts))
    if route == "witness":
        return KindPart(route, witness=_witness(series))
    return KindPart(route)


def _witness(series: pd.Series) -> pd.Series:
    """The rows the detector's boolean/datetime branch reads: the first value, the first other
    value, the first with a time of day (in row order)."""
    present = series.dropna().reset_index(drop=True)
    if present.empty:
        return present
    keep = [0]
    other = np.flatnonzero((present != present.iloc[0]).to_numpy(dtype=bool))
    if other.size:
        keep.append(int(other[0]))
    if is_datetime(present):
        clock = present.dt.tz_localize(None) if present.dt.tz is not None else present
        timed = np.flatnonzero((clock != clock.dt.normalize()).to_numpy(dtype=bool))
        if timed.size:
            keep.append(int(timed[0]))
    return present.iloc[sorted(set(keep))].reset_index(drop=True)


# ---- merging, in row order ---------------------------------------------------------------------
def merge_parts(parts: Sequence[KindPart]) -> KindPart:
    """Facts of consecutive partitions (in row order) as one."""
    routes = {p.route for p in parts}
    if len(routes) > 1:  # partitions of different dtypes: nothing can be confirmed
        return KindPart("other")
    route = parts[0].route
    if route == "numbers":
        return _merge_numbers(parts)
    if route == "category":
        position: dict[Any, int] = {}
        counts: list[int] = []
        for part in parts:  # a loop over categories, not rows
            for value, count in zip(part.uniques, part.counts, strict=True):
                at = position.setdefault(value, len(counts))
                if at == len(counts):
                    counts.append(0)
                counts[at] += count
        return KindPart(route, uniques=tuple(position), counts=tuple(counts))
    if route == "witness":
        from dask.dataframe.dispatch import concat

        rows = [p.witness for p in parts if p.witness is not None]
        return KindPart(route, witness=_witness(concat(rows).reset_index(drop=True)))
    return KindPart(route)


def _merge_numbers(parts: Sequence[KindPart]) -> KindPart:
    facts = [p.numbers for p in parts if p.numbers is not None]
    with_values = [p for p in parts if p.numbers is not None and p.numbers.n_values > 0]
    increasing = all(f.increasing for f in facts)
    decreasing = all(f.decreasing for f in facts)
    n_unique = sum(p.numbers.n_unique for p in with_values if p.numbers is not None)
    with np.errstate(invalid="ignore"):  # inf - inf at a boundary, as np.diff gives it
        for before, after in pairwise(with_values):
            assert after.numbers is not None
            step = np.subtract(after.numbers.first, before.last)
            increasing &= bool(step >= 0)
            decreasing &= bool(step <= 0)
            n_unique -= int(after.numbers.first == before.last)  # runs of a monotone column
    lows = [f.lo for f in facts if not np.isnan(f.lo)]
    highs = [f.hi for f in facts if not np.isnan(f.hi)]
    merged = NumberFacts(
        n_rows=sum(f.n_rows for f in facts), n_missing=sum(f.n_missing for f in facts),
        n_values=sum(f.n_values for f in facts), n_unique=n_unique, n_finite_unique=-1,
        whole=all(f.whole for f in facts), increasing=increasing, decreasing=decreasing,
        lo=min(lows) if lows else np.nan, hi=max(highs) if highs else np.nan,
        first=with_values[0].numbers.first if with_values and with_values[0].numbers else np.nan)
    return KindPart("numbers", numbers=merged, last=with_values[-1].last if with_values else np.nan)


# ---- the decision ---------------------------------------------------------------------------------
def sample_kind(sample: pd.Series, name: Hashable) -> ColumnKind:
    """The detector's verdict on the sample (the whole column up to :data:`SAMPLE_SIZE` rows)."""
    return _decide(sample.reset_index(drop=True), name, MAX_CATEGORIES, True)


def needs_distinct_count(verdict: ColumnKind, n_rows: int, part: KindPart, exact_unique: int | None) -> bool:
    """Whether confirming ``verdict`` needs the column's distinct count counted by Dask."""
    if n_rows <= SAMPLE_SIZE or verdict.kind not in CONFIRMED or part.route != "numbers":
        return False
    facts = part.numbers
    assert facts is not None
    if exact_unique is not None or facts.n_values == 0:
        return False
    return not (facts.increasing or facts.decreasing)


def decide(verdict: ColumnKind, *, name: Hashable, dtype: Any, n_rows: int, part: KindPart,
           n_unique: int | None = None, n_inf: tuple[int, int] = (0, 0),
           categories: tuple[Sequence[str], np.ndarray] | None = None) -> ColumnKind:
    """The column's kind from the sample's verdict and the full column's facts.

    ``n_unique`` is the exact distinct count of the numbers (``None``: a
    monotone column, whose runs give it); ``n_inf`` the counts of +inf and
    -inf; ``categories`` the distinct strings of a text column in order of
    first appearance and their counts (the drift profile's).
    """
    if n_rows <= SAMPLE_SIZE:
        return verdict
    if verdict.kind not in CONFIRMED:
        return replace(verdict, sampled=True)
    if part.route == "numbers":
        facts = part.numbers
        assert facts is not None
        count = facts.n_unique if n_unique is None else int(n_unique)
        full = replace(facts, n_unique=count, n_finite_unique=count - int(n_inf[0] > 0) - int(n_inf[1] > 0))
        return kind_of_number_facts(full, name=name, integer_dtype=pd.api.types.is_integer_dtype(dtype),
                                    dtype=str(dtype))
    if part.route == "text" and categories is not None:
        labels, counts = categories
        return kind_of_counts(pd.Series(list(labels), dtype=dtype), np.asarray(counts, dtype=np.int64), name=name,
                              n_missing=n_rows - int(np.sum(counts)), max_categories=MAX_CATEGORIES,
                              dtype=str(dtype))
    if part.route == "category":
        # The column rebuilt as codes in order of first appearance: all the detector reads of it.
        codes = np.repeat(np.arange(len(part.uniques), dtype=np.int32), part.counts)
        codes = np.concatenate([codes, np.full(n_rows - codes.size, -1, dtype=np.int32)])
        return _decide(pd.Series(pd.Categorical.from_codes(codes, categories=list(part.uniques))), name,
                       MAX_CATEGORIES, True)
    if part.route == "witness" and part.witness is not None:
        return _decide(part.witness, name, MAX_CATEGORIES, True)
    return replace(verdict, sampled=True, reason=f"{verdict.reason} (decided on a sample of {SAMPLE_SIZE:,} of "
                                                 f"{n_rows:,} rows: a column of Python objects other than "
                                                 "strings is not confirmed on every row)")
