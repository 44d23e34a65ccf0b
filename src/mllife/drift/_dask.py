"""Drift profiles of Dask frames: one profile per partition, merged in a tree.

Imported only when a Dask frame or a Parquet path reaches
:meth:`~mllife.drift.DriftProfile.fit`, :func:`~mllife.drift.drift_report` or
:meth:`~mllife.drift.DriftProfile.compare`. Each partition is summarised where
it lives (:func:`_leaf`: per column the same summary ``DriftProfile.fit``
keeps, category labels in order of first appearance), the summaries are
merged with :func:`mllife._dask.tree_reduce` (:func:`_merge`, in partition
order), and only the merged summary reaches the client. Counts, missing and
inf counts, category tables and exact values merge exactly; a column with
more finite values than ``exact_size`` becomes a quantile sketch whose rank
error grows by ``1 / sketch_size`` per level of the tree.

Column kinds (what a comparison reads to skip identifiers) are decided as
in memory (:mod:`._dask_kinds`): the partition lengths are read first (one
column's worth of work), so each partition hands over the rows of the kind
detector's sample that fall in it.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from .. import _dask
from .._errors import InputError
from .._frame import require_columns
from . import _dask_kinds as dk
from . import _kernels as k
from ._reference import ColumnProfile, family_of
from ._sketch import CategoricalSummary, NumericSummary, merge_numeric

__all__ = ["REPORT_EXACT_SIZE", "REPORT_SKETCH_SIZE", "approximation", "fit_columns"]

#: ``exact_size`` of the profiles ``drift_report`` builds of a Dask side: up to this many finite
#: values a column is compared exactly, as in memory.
REPORT_EXACT_SIZE = 100_000
#: ``sketch_size`` of those profiles (rank error ``1 / (2 * 8192)`` plus ``1 / 8192`` per tree level).
REPORT_SKETCH_SIZE = 8192


@dataclass(frozen=True)
class _Settings:
    """What every leaf reads (enters the graph once: ``tree_reduce(shared=...)``)."""

    names: tuple[Hashable, ...]
    exact_size: int
    sketch_size: int
    n_bins: int
    with_kinds: bool
    n_rows: int = 0  # rows of the frame (kinds only)
    offsets: tuple[int, ...] = ()  # first row of each partition (kinds only)
    lengths: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Column:
    """One column of one or more consecutive partitions."""

    family: str
    dtype: str
    numeric: NumericSummary | None = None
    labels: tuple[str, ...] = ()  # categories in order of first appearance
    counts: np.ndarray | None = None
    n_missing: int = 0  # missing categories
    kind: dk.KindPart | None = None

    @property
    def n_rows(self) -> int:
        if self.numeric is not None:
            return self.numeric.n_rows
        return int(self.counts.sum()) + self.n_missing if self.counts is not None else self.n_missing

    @property
    def n_values(self) -> int:
        """Finite numbers, or categories present: what decides the column's kind of values."""
        if self.numeric is not None:
            return self.numeric.n
        return int(self.counts.sum()) if self.counts is not None else 0


@dataclass(frozen=True)
class _Part:
    """The summary of consecutive partitions."""

    n_rows: int
    columns: tuple[_Column, ...]
    sample: pd.DataFrame | None = None  # the kind detector's rows among them, in row order


# ---- leaves and merges (module level: they run in worker processes) --------------------------
def _leaf(part: pd.DataFrame, i: int, settings: _Settings) -> _Part:
    """One partition's summary."""
    lost = [name for name in settings.names if name not in part.columns]
    if lost:  # Dask's meta promised the column; this partition does not hold it
        raise InputError(f"is missing from partition {i} ({len(part)} rows), though the Dask frame's meta "
                         "lists it", column=lost[0],
                         expected="partitions holding every column of the frame's meta")
    columns = tuple(_column(part[name], name, settings) for name in settings.names)
    sample = None
    if settings.with_kinds:
        counted = settings.lengths[i] if i < len(settings.lengths) else None
        if len(part) != counted:
            raise InputError(f"partition {i} held {counted} rows when counted and {len(part)} when profiled",
                             expected="a Dask frame whose partitions give the same rows each time they are "
                                      "computed (seeded, or read from files)")
        local = dk.local_positions(settings.n_rows, settings.offsets[i], len(part))
        sample = part.iloc[local][list(settings.names)]  # the rows first: a copy of those rows only
    return _Part(len(part), columns, sample)


def _column(series: pd.Series, name: Hashable, settings: _Settings) -> _Column:
    family = family_of(series)
    if family == "categorical":
        labels, counts, n_missing = k.category_counts(series)
        kind = dk.kind_part(series) if settings.with_kinds else None
        return _Column(family, str(series.dtype), labels=tuple(labels), counts=np.asarray(counts, dtype=np.float64),
                       n_missing=int(n_missing), kind=kind)
    values = k.split_numeric(series, name=f"column {name!r}")
    kind = dk.kind_part(series, values if family == "numeric" else None) if settings.with_kinds else None
    summary = NumericSummary.fit(values, exact_size=settings.exact_size, sketch_size=settings.sketch_size,
                                 n_bins=settings.n_bins)
    return _Column(family, str(series.dtype), numeric=summary, kind=kind)


def _merge(parts: Sequence[_Part], settings: _Settings) -> _Part:
    """Consecutive summaries (in partition order) as one."""
    columns = tuple(_merge_column([p.columns[j] for p in parts], name, settings)
                    for j, name in enumerate(settings.names))
    samples = [p.sample for p in parts if p.sample is not None]
    sample = None
    if samples:
        from dask.dataframe.dispatch import concat  # unions categories as Dask's own compute does

        sample = concat(samples)
    return _Part(sum(p.n_rows for p in parts), columns, sample)


def _merge_column(columns: Sequence[_Column], name: Hashable, settings: _Settings) -> _Column:
    numeric = {c.numeric is not None for c in columns if c.n_values > 0}
    if len(numeric) > 1:
        families = sorted({c.family for c in columns if c.n_values > 0})
        raise InputError(f"holds {' and '.join(families)} values in different partitions", column=name,
                         expected="partitions of one dtype per column (as Dask's meta says)")
    as_numbers = numeric.pop() if numeric else columns[0].numeric is not None
    columns = [c if (c.numeric is not None) == as_numbers else _empty_as(c, as_numbers, settings)
               for c in columns]
    kept = min(columns, key=lambda c: (c.n_rows == _missing(c), c.family, c.dtype))
    kinds = [c.kind for c in columns if c.kind is not None]
    kind = dk.merge_parts(kinds) if len(kinds) == len(columns) and kinds else None
    if as_numbers:
        summaries = [c.numeric for c in columns if c.numeric is not None]
        merged = merge_numeric(summaries, exact_size=settings.exact_size, sketch_size=settings.sketch_size,
                               n_bins=settings.n_bins)
        return _Column(kept.family, kept.dtype, numeric=merged, kind=kind)
    labels: list[str] = []
    counts = np.zeros(0)
    for c in columns:  # in partition order: the labels stay in order of first appearance
        labels, counts, more = k.align_counts(labels, counts, list(c.labels),
                                              c.counts if c.counts is not None else np.zeros(0))
        counts = counts + more
    return _Column(kept.family, kept.dtype, labels=tuple(labels), counts=counts,
                   n_missing=sum(c.n_missing for c in columns), kind=kind)


def _missing(c: _Column) -> int:
    return c.numeric.n_missing if c.numeric is not None else c.n_missing


def _empty_as(c: _Column, as_numbers: bool, settings: _Settings) -> _Column:
    """A column without values in the other kind of summary, its rows missing (``DriftProfile.merge``'s rule)."""
    if as_numbers:
        empty = k.NumericCounts(np.zeros(0), c.n_rows, 0, 0)
        summary = NumericSummary.fit(empty, exact_size=settings.exact_size, sketch_size=settings.sketch_size,
                                     n_bins=settings.n_bins)
        return replace(c, numeric=summary, labels=(), counts=None, n_missing=0)
    return replace(c, numeric=None, labels=(), counts=np.zeros(0), n_missing=c.n_rows)


# ---- the client side ---------------------------------------------------------------------------
def fit_columns(frame: Any, *, columns: Sequence[Hashable] | None, exact_size: int, sketch_size: int,
                n_bins: int, with_kinds: bool = True, name: str = "reference") -> tuple[list[ColumnProfile], int]:
    """The column profiles and row count of a Dask frame (the parameters are checked by the caller).

    With ``with_kinds`` the partition lengths are read first (from the
    Parquet metadata, or counted), then everything else in one pass; a
    column whose kind needs the exact distinct count of more numbers than
    the profile keeps gets it in one more pass (Dask's ``nunique``, after a
    shuffle by hash: memory stays bounded whatever the count).

    Raises
    ------
    InputError
        For a column not in the frame, a frame without rows, or a column
        the profile cannot read (complex numbers...).
    """
    names = list(frame.columns) if columns is None else list(columns)
    require_columns(frame._meta, names)
    if names != list(frame.columns) and len(set(names)) == len(names):
        frame = frame[names]  # Parquet reads only these columns
    if hasattr(frame, "optimize"):  # its final partitions (Dask may fuse small Parquet reads): counted, then read
        frame = frame.optimize()
    settings = _Settings(tuple(names), exact_size, sketch_size, n_bins, with_kinds)
    if with_kinds:
        lengths = _dask.partition_lengths(frame)
        if sum(lengths) == 0:
            _no_rows(name)
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        settings = replace(settings, n_rows=int(sum(lengths)), offsets=tuple(int(o) for o in offsets),
                           lengths=tuple(lengths))
    # The merges need the names and sizes only, not the partition offsets (one copy per merge task).
    merge = partial(_merge, settings=replace(settings, offsets=(), lengths=()))
    lazy = _dask.tree_reduce(frame, _leaf, merge, shared=settings)
    (merged,) = _dask.compute(lazy)
    if merged.n_rows == 0:
        _no_rows(name)
    if len(merged.columns) != len(names):  # cannot happen: every leaf profiles every name
        raise AssertionError("a partition summary lost columns")
    profiles = [_profile(name, col) for name, col in zip(names, merged.columns, strict=True)]
    if with_kinds:
        profiles = _with_kinds(frame, profiles, merged, settings)
    return profiles, merged.n_rows


def _no_rows(name: str) -> None:
    raise InputError(f"{name} has no rows; nothing can be compared", n_rows=0, expected="at least one row")


def _profile(name: Hashable, col: _Column) -> ColumnProfile:
    if col.numeric is not None:
        return ColumnProfile(name, col.family, col.dtype, numeric=col.numeric)
    counts = col.counts if col.counts is not None else np.zeros(0)
    return ColumnProfile(name, col.family, col.dtype,
                         categorical=CategoricalSummary.of(list(col.labels), counts, col.n_missing))


def _with_kinds(frame: Any, profiles: list[ColumnProfile], merged: _Part, settings: _Settings) -> list[ColumnProfile]:
    """Each profile with its column's kind (see :mod:`._dask_kinds`)."""
    assert merged.sample is not None
    n_rows = settings.n_rows
    verdicts, exact_unique = {}, {}
    for j, profile in enumerate(profiles):
        verdicts[j] = dk.sample_kind(merged.sample.iloc[:, j], profile.name)
        numbers = profile.numeric
        if numbers is not None and numbers.exact:
            exact_unique[j] = int(np.unique(numbers.values).size) + int(numbers.n_posinf > 0) + \
                int(numbers.n_neginf > 0)
    counted = [j for j, col in enumerate(merged.columns) if col.kind is not None
               and dk.needs_distinct_count(verdicts[j], n_rows, col.kind, exact_unique.get(j))]
    if counted:
        lazies = [frame[profiles[j].name].nunique(dropna=True) for j in counted]
        exact_unique.update(zip(counted, (int(n) for n in _dask.compute(*lazies)), strict=True))
    out = []
    for j, profile in enumerate(profiles):
        col = merged.columns[j]
        assert col.kind is not None  # every leaf reads the kind facts when kinds are asked for
        numbers = profile.numeric
        n_inf = (numbers.n_posinf, numbers.n_neginf) if numbers is not None else (0, 0)
        categories = (col.labels, col.counts) if col.counts is not None else None
        kind = dk.decide(verdicts[j], name=profile.name, dtype=merged.sample.dtypes.iloc[j], n_rows=n_rows,
                         part=col.kind, n_unique=exact_unique.get(j), n_inf=n_inf, categories=categories)
        out.append(replace(profile, column_kind=kind))
    return out


def approximation(side: str, profile_columns: Sequence[ColumnProfile], *, exact_size: int,
                  sketch_size: int) -> dict[str, Any]:
    """What a report states about a side compared through a Dask profile."""
    sketched = [str(c.name) for c in profile_columns if c.numeric is not None and not c.numeric.exact]
    error = max((c.numeric.rank_error for c in profile_columns if c.numeric is not None), default=0.0)
    return {"side": side, "through": "a DriftProfile computed with Dask", "exact_size": int(exact_size),
            "sketch_size": int(sketch_size), "sketched_columns": sketched, "max_rank_error": float(error)}
