"""Mergeable per-column summaries behind ``profile`` and ``audit`` on Dask frames.

A partition's column becomes a :class:`ColumnSummary`: its row and missing
counts, the first rows that are missing, and either

- a complete :class:`ValueTable` (every distinct value, in order of first
  appearance, with its row count and the labels of its first five rows, within
  a memory budget: :data:`~._dask_values.OCCURRENCE_EXTRAS`) while
  the column has at most ``value_cap`` distinct values: everything the audit
  checks read from a column, exact; or
- above the cap, :class:`Overcap`: exact tables of the values the checks look
  for (null tokens, sentinel candidates, infinities), the most frequent
  values, the smallest and largest values, a uniform sample of distinct values
  (the ``distinct_sample`` smallest value hashes: a KMV sketch, whose counts are
  exact and which estimates the number of distinct values), the moments and a
  quantile :class:`Sketch` with a tracked rank error.

Summaries merge in partition order (:func:`merge_columns`): the order of
first appearance, the first rows and every count come out as a single pass
over the whole column would give them. Rows are named by a *key*,
``partition << 40 | position``, which orders them as the computed frame does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from .._dtypes import is_bool, is_datetime, is_numeric, is_string_like
from .._nulls import SENTINEL_CANDIDATES, factorize, null_like_mask
from ._dask_sketch import Moments, Sketch
from ._dask_values import (
    Rows,
    Settings,
    ValueTable,
    _concat,
    column_hash,
    value_hash,
)

__all__ = ["ColumnSummary", "Overcap", "column_summary", "family_of", "merge_columns"]

@dataclass(frozen=True)
class Overcap:
    """What a column with more than ``value_cap`` distinct values keeps (see the module docstring)."""

    specials: ValueTable
    top: ValueTable
    distinct: ValueTable
    distinct_hash: np.ndarray
    low: ValueTable | None = None
    high: ValueTable | None = None
    sketch: Sketch | None = None
    moments: Moments | None = None
    minimum: Any = None
    maximum: Any = None


@dataclass(frozen=True)
class ColumnSummary:
    """One column of one partition (or of several, merged)."""

    family: str  # "text", "numeric", "datetime" or "other"
    n: int
    n_missing: int
    missing: Rows
    table: ValueTable | None
    over: Overcap | None = None
    head: pd.Series | None = None

    @property
    def complete(self) -> bool:
        return self.table is not None

    @property
    def unhashable(self) -> bool:
        if self.table is not None:
            return self.table.unhashable
        return self.over is not None and self.over.specials.unhashable


def family_of(s: pd.Series) -> str:
    """Which extras a column keeps: tokens for text, sentinels and a sketch for numbers..."""
    if is_numeric(s):
        return "numeric"
    if is_datetime(s):
        return "datetime"
    if is_string_like(s) and not is_bool(s):
        return "text"
    return "other"


def _sortable(uniques: pd.Series, family: str) -> np.ndarray:
    """The values as numbers that sort like them (float64; int64 nanoseconds for datetimes)."""
    if family == "datetime":
        return np.asarray(uniques.array.asi8, dtype=np.int64)
    return uniques.to_numpy(dtype=np.float64, na_value=np.nan)


def _candidates(x: np.ndarray) -> np.ndarray:
    """Which values are sentinel candidates (a handful of comparisons beat ``np.isin`` here)."""
    out = np.zeros(x.shape, dtype=bool)
    for value in SENTINEL_CANDIDATES:
        out |= x == value
    return out


def _top_mask(counts: np.ndarray, size: int) -> np.ndarray:
    """The ``size`` most frequent values; ties go to the earlier value (tables are in order
    of first appearance)."""
    m = counts.size
    keep = np.zeros(m, dtype=bool)
    if m <= size:
        keep[:] = True
        return keep
    if counts.max() <= 1:  # every value once: the first ones
        keep[:size] = True
        return keep
    histogram = np.bincount(counts)  # counts are small integers: their histogram finds the size-th largest
    kth = int(np.flatnonzero(np.cumsum(histogram[::-1]) >= size)[0])
    kth = histogram.size - 1 - kth
    keep[counts > kth] = True
    ties = np.flatnonzero(counts == kth)
    keep[ties[:size - int(keep.sum())]] = True
    return keep


def _tail_masks(x: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``size`` smallest and largest finite values (distinct values)."""
    low, high = np.zeros(x.size, dtype=bool), np.zeros(x.size, dtype=bool)
    finite = np.flatnonzero(np.isfinite(x))
    if finite.size <= size:
        low[finite] = high[finite] = True
        return low, high
    xf = x[finite]
    low[finite[np.argpartition(xf, size - 1)[:size]]] = True
    high[finite[np.argpartition(xf, xf.size - size)[xf.size - size:]]] = True
    return low, high


def _overcap_masks(uniques: pd.Series, counts: np.ndarray, hashes: np.ndarray, family: str,
                   unhashable: bool, settings: Settings, x: np.ndarray | None) -> dict[str, np.ndarray]:
    """Which distinct values each over-cap table keeps (``x``: the values as numbers, if numeric)."""
    m = len(uniques)
    masks: dict[str, np.ndarray] = {"top": _top_mask(counts, settings.top)}
    distinct = np.zeros(m, dtype=bool)
    if m > settings.distinct_sample:
        distinct[np.argpartition(hashes, settings.distinct_sample - 1)[:settings.distinct_sample]] = True
    else:
        distinct[:] = True
    masks["distinct"] = distinct
    if family == "numeric" and x is not None:
        masks["specials"] = _candidates(x) | np.isinf(x)
        masks["low"], masks["high"] = _tail_masks(x, settings.tail)
    elif family == "text" and not unhashable:
        masks["specials"] = null_like_mask(uniques)
    else:
        masks["specials"] = np.zeros(m, dtype=bool)
    return masks


def _numeric_extras(uniques: pd.Series, counts: np.ndarray, family: str, settings: Settings,
                    x: np.ndarray, candidates: np.ndarray | None) -> dict[str, Any]:
    """The sketch, moments and extremes of a numeric or datetime column's distinct values ``x``."""
    if family == "datetime":
        sketch = Sketch.of(x, counts, settings.sketch_points, distinct=True)
        return {"sketch": sketch, "minimum": int(x.min()) if x.size else None,
                "maximum": int(x.max()) if x.size else None}
    finite = np.isfinite(x)
    rest = finite & ~candidates if candidates is not None else finite
    xf = x[finite]
    return {"sketch": Sketch.of(x[rest], counts[rest], settings.sketch_points, distinct=True),
            "moments": Moments.of(xf, counts[finite]),
            "minimum": float(xf.min()) if xf.size else None, "maximum": float(xf.max()) if xf.size else None}


def _overcap(table: ValueTable, uniques: pd.Series, counts: np.ndarray, hashes: np.ndarray, family: str,
             settings: Settings, kept: np.ndarray | None = None) -> Overcap:
    """The over-cap summary from a table holding (at least) the values the masks keep.

    ``kept``: positions in ``uniques`` of the table's values (None: the table is all of them).
    """
    x = _sortable(uniques, family) if family in ("numeric", "datetime") else None
    masks = _overcap_masks(uniques, counts, hashes, family, table.unhashable, settings, x)

    def part(name: str) -> ValueTable:
        mask = masks[name] if kept is None else masks[name][kept]
        return table.select(mask)

    extras: dict[str, Any] = {}
    if x is not None:
        candidates = _candidates(x) if family == "numeric" else None
        extras = _numeric_extras(uniques, counts, family, settings, x, candidates)
    return Overcap(specials=part("specials"), top=part("top"), distinct=part("distinct"),
                   distinct_hash=hashes[masks["distinct"]], low=part("low") if "low" in masks else None,
                   high=part("high") if "high" in masks else None, **extras)


def _overcap_from_table(table: ValueTable, family: str, settings: Settings) -> Overcap:
    return _overcap(table, table.uniques, table.counts, value_hash(table.uniques), family, settings)


def column_summary(s: pd.Series, keys: np.ndarray, labels: pd.Index, settings: Settings,
                   ) -> tuple[ColumnSummary, np.ndarray]:
    """One partition's column: its summary and each row's value hash."""
    family = family_of(s)
    codes, uniques, unhashable = factorize(s)
    codes = np.asarray(codes, dtype=np.int64)
    m = len(uniques)
    hashes = value_hash(uniques)
    missing = codes < 0
    n_missing = int(missing.sum())
    head = None
    if pd.api.types.is_object_dtype(s.dtype):
        head = s[~missing].iloc[:settings.head].reset_index(drop=True)
    rows = Rows.of(missing, keys, labels)
    if m <= settings.value_cap:
        table = ValueTable.build(codes, uniques, keys, labels, unhashable=unhashable)
        summary = ColumnSummary(family, len(s), n_missing, rows, table, head=head)
    else:
        counts = np.bincount(codes[~missing], minlength=m)
        x = _sortable(uniques, family) if family in ("numeric", "datetime") else None
        masks = _overcap_masks(uniques, counts, hashes, family, unhashable, settings, x)
        union = np.logical_or.reduce(list(masks.values()))
        table = ValueTable.build(codes, uniques, keys, labels, unhashable=unhashable, keep=union, counts=counts)
        over = _overcap(table, uniques, counts, hashes, family, settings, kept=np.flatnonzero(union))
        summary = ColumnSummary(family, len(s), n_missing, rows, None, over, head)
    return summary, column_hash(codes, hashes)


def _keep_top(table: ValueTable, settings: Settings) -> ValueTable:
    return table.select(_top_mask(table.counts, settings.top))


def _keep_tail(table: ValueTable | None, settings: Settings, *, low: bool) -> ValueTable | None:
    if table is None or len(table) <= settings.tail:
        return table
    lows, highs = _tail_masks(table.numbers(), settings.tail)
    return table.select(lows if low else highs)


def _merge_overcap(parts: Sequence[Overcap], family: str, settings: Settings) -> Overcap:
    distinct = ValueTable.merge([p.distinct for p in parts])
    hashes = value_hash(distinct.uniques)
    keep = np.zeros(len(distinct), dtype=bool)
    k = min(settings.distinct_sample, len(distinct))
    keep[np.argpartition(hashes, k - 1)[:k] if k else []] = True
    out = Overcap(
        specials=ValueTable.merge([p.specials for p in parts]),
        top=_keep_top(ValueTable.merge([p.top for p in parts]), settings),
        distinct=distinct.select(keep), distinct_hash=hashes[keep],
    )
    if family in ("numeric", "datetime"):
        sketches = [p.sketch for p in parts if p.sketch is not None]
        lows = [p.minimum for p in parts if p.minimum is not None]
        highs = [p.maximum for p in parts if p.maximum is not None]
        out = replace(out, sketch=Sketch.merge(sketches, settings.sketch_points) if sketches else None,
                      minimum=min(lows) if lows else None, maximum=max(highs) if highs else None)
    if family == "numeric":
        out = replace(
            out, moments=Moments.merge([p.moments for p in parts if p.moments is not None]),
            low=_keep_tail(ValueTable.merge([p.low for p in parts if p.low is not None]), settings, low=True),
            high=_keep_tail(ValueTable.merge([p.high for p in parts if p.high is not None]), settings, low=False))
    return out


def merge_columns(parts: Sequence[ColumnSummary], settings: Settings) -> ColumnSummary:
    """Summaries of one column over consecutive partitions, in order, as one."""
    if len(parts) == 1:
        return parts[0]
    family = next((p.family for p in parts if p.n > p.n_missing), parts[0].family)
    heads = [p.head for p in parts if p.head is not None]
    head = None
    if heads:
        head = _concat(heads).iloc[:settings.head].reset_index(drop=True)
    base: dict[str, Any] = {"family": family, "n": sum(p.n for p in parts),
                            "n_missing": sum(p.n_missing for p in parts),
                            "missing": Rows.merge([p.missing for p in parts]), "head": head}
    if all(p.table is not None for p in parts):
        table = ValueTable.merge([p.table for p in parts if p.table is not None])
        if len(table) <= settings.value_cap:
            return ColumnSummary(table=table, **base)
        return ColumnSummary(table=None, over=_overcap_from_table(table, family, settings), **base)
    overs = [p.over if p.over is not None else _overcap_from_table(p.table, family, settings)  # type: ignore[arg-type]
             for p in parts]
    return ColumnSummary(table=None, over=_merge_overcap(overs, family, settings), **base)
