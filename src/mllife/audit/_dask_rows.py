"""The per-partition pass of ``audit``/``profile`` on Dask, and the row-level statistics.

:func:`summarize_partition` turns one pandas partition into

1. one :class:`~._dask_summary.ColumnSummary` per column;
2. its share of a seeded uniform row sample (:class:`RowSample`): the
   ``sample_rows`` rows with the smallest *sample key*, a hash of the row's
   values and index label, so the sample does not depend on the partitioning
   and a table of at most ``sample_rows`` rows is gathered whole;
3. when duplicate or conflicting-label checks run, a small frame of row hashes
   computed from the values (``a``: every column, ``r``: all but the id
   columns, ``y``: the target) and the row key, indexed by the row labels.
   Dask shuffles it by ``h`` (the hash of the fewest columns any of those
   checks compares: the features, else the non-id columns), so equal rows meet
   in one partition, where :func:`row_stats` counts copies and conflicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._dask_summary import ColumnSummary, column_summary, merge_columns
from ._dask_values import Rows, Settings, combine, mix, row_keys

__all__ = ["Plan", "RowSample", "RowStats", "merge_samples", "merge_stats", "merge_summaries", "row_stats",
           "summarize_partition"]


@dataclass(frozen=True)
class Plan:
    """What the per-partition pass computes (positions are column positions)."""

    settings: Settings
    n_columns: int
    ids: tuple[int, ...] = ()
    target: int | None = None
    rows: bool = False  # the row-hash frame for duplicates and conflicts
    conflicts: bool = False
    sample: bool = True
    #: Sample keys at or above this never make the sample (set when the table's size is known
    #: without reading it, with a wide margin); None: each partition sends its own bottom rows.
    sample_below: int | None = None

    @property
    def rest(self) -> tuple[int, ...]:
        return tuple(j for j in range(self.n_columns) if j not in self.ids)

    @property
    def features(self) -> tuple[int, ...]:
        return tuple(j for j in self.rest if j != self.target)

    @property
    def key_columns(self) -> tuple[int, ...]:
        """The columns the shuffle hashes: the fewest that any row check compares."""
        if self.conflicts and self.features:
            return self.features
        if self.ids and self.rest:
            return self.rest
        return tuple(range(self.n_columns))

    def row_frame_meta(self, index: pd.Index) -> pd.DataFrame:
        cols: dict[str, Any] = {"h": np.zeros(0, dtype=np.uint64), "a": np.zeros(0, dtype=np.uint64)}
        if self.ids and self.rest:
            cols["r"] = np.zeros(0, dtype=np.uint64)
        if self.conflicts and self.features:
            cols["y"] = np.zeros(0, dtype=np.uint64)
        cols["k"] = np.zeros(0, dtype=np.int64)
        return pd.DataFrame(cols, index=index[:0])


@dataclass(frozen=True)
class RowSample:
    """Rows of a bottom-k sample, with their sample keys and row keys."""

    frame: pd.DataFrame
    skey: np.ndarray
    key: np.ndarray
    n_rows: int  # rows the sample was drawn from

    def final(self) -> pd.DataFrame:
        """The sampled rows in the order of the table."""
        return self.frame.iloc[np.argsort(self.key, kind="stable")]


def _label_hash(index: pd.Index) -> np.ndarray:
    values = np.asarray(index)
    try:
        return np.asarray(pd.util.hash_array(values, categorize=False))
    except TypeError:
        return np.asarray(pd.util.hash_array(np.asarray(index.astype(str), dtype=object), categorize=False))


def _bottom(skey: np.ndarray, key: np.ndarray, size: int) -> np.ndarray:
    """Positions of the ``size`` smallest (sample key, row key) pairs."""
    if skey.size <= size:
        return np.arange(skey.size)
    kth = skey[np.argpartition(skey, size - 1)[size - 1]]
    below = np.flatnonzero(skey < kth)
    ties = np.flatnonzero(skey == kth)  # equal sample keys (copies of a row under one label): by row key
    return np.concatenate([below, ties[np.argsort(key[ties], kind="stable")][:size - below.size]])


def summarize_partition(part: pd.DataFrame, i: int, plan: Plan,
                        ) -> tuple[list[ColumnSummary], RowSample | None, pd.DataFrame | None]:
    """The per-partition pass (see the module docstring)."""
    if part.shape[1] != plan.n_columns:
        raise ValueError(f"partition {i} has {part.shape[1]} columns, expected {plan.n_columns}")
    n = len(part)
    keys = row_keys(i, n)
    labels = part.index
    summaries: list[ColumnSummary] = []
    hashes: list[np.ndarray] = []
    for j in range(plan.n_columns):
        summary, h = column_summary(part.iloc[:, j], keys, labels, plan.settings)
        summaries.append(summary)
        hashes.append(h)
    h_all = combine(list(enumerate(hashes)), n)
    sample = None
    if plan.sample:
        skey = mix(h_all ^ mix(_label_hash(labels) + np.uint64(0x2545F4914F6CDD1D)))
        candidates = (np.flatnonzero(skey < np.uint64(plan.sample_below)) if plan.sample_below is not None
                      else np.arange(n))
        picks = np.sort(candidates[_bottom(skey[candidates], keys[candidates], plan.settings.sample_rows)])
        sample = RowSample(part.iloc[picks], skey[picks], keys[picks], n)
    frame = None
    if plan.rows:
        cols: dict[str, np.ndarray] = {"h": combine([(j, hashes[j]) for j in plan.key_columns], n), "a": h_all}
        if plan.ids and plan.rest:
            cols["r"] = combine([(j, hashes[j]) for j in plan.rest], n)
        if plan.conflicts and plan.features and plan.target is not None:
            cols["y"] = hashes[plan.target]
        cols["k"] = keys
        frame = pd.DataFrame(cols, index=labels)
    return summaries, sample, frame


def merge_summaries(parts: Sequence[list[ColumnSummary]], settings: Settings) -> list[ColumnSummary]:
    """Column summaries of consecutive partitions, column by column."""
    return [merge_columns([p[j] for p in parts], settings) for j in range(len(parts[0]))]


def merge_samples(parts: Sequence[RowSample], size: int) -> RowSample:
    """Bottom-k samples of consecutive partitions as one."""
    frame = pd.concat([p.frame for p in parts if len(p.frame)] or [parts[0].frame])
    skey = np.concatenate([p.skey for p in parts])
    key = np.concatenate([p.key for p in parts])
    picks = np.sort(_bottom(skey, key, size))
    return RowSample(frame.iloc[picks], skey[picks], key[picks], sum(p.n_rows for p in parts))


@dataclass(frozen=True)
class RowStats:
    """Copies and conflicts counted in one or more shuffled partitions."""

    n_rows: int = 0
    copies: int = 0
    copies_rows: Rows = field(default_factory=lambda: Rows(np.zeros(0, dtype=np.int64), pd.Index([])))
    copies_rest: int = 0
    copies_rest_rows: Rows = field(default_factory=lambda: Rows(np.zeros(0, dtype=np.int64), pd.Index([])))
    conflict_groups: int = 0
    conflict_rows: int = 0
    conflict_first: Rows = field(default_factory=lambda: Rows(np.zeros(0, dtype=np.int64), pd.Index([])))
    repeated: int = 0  # rows whose features equal another row's


def row_stats(part: pd.DataFrame) -> RowStats:
    """Copies (all columns; all but the ids) and label conflicts in one shuffled partition."""
    if len(part) == 0:
        return RowStats()
    part = part.iloc[np.argsort(part["k"].to_numpy(), kind="stable")]
    keys, labels = part["k"].to_numpy(), part.index
    dup = part["a"].duplicated(keep="first").to_numpy(dtype=bool)
    out: dict[str, Any] = {"n_rows": len(part), "copies": int(dup.sum()), "copies_rows": Rows.of(dup, keys, labels)}
    if "r" in part:
        rest = part["r"].duplicated(keep="first").to_numpy(dtype=bool) & ~dup
        out |= {"copies_rest": int(rest.sum()), "copies_rest_rows": Rows.of(rest, keys, labels)}
    if "y" in part:
        h = part["h"]
        pairs = part[["h", "y"]].drop_duplicates()
        conflicted = pairs["h"][pairs["h"].duplicated()].unique()
        mask = h.isin(conflicted).to_numpy(dtype=bool)
        out |= {"conflict_groups": len(conflicted), "conflict_rows": int(mask.sum()),
                "conflict_first": Rows.of(mask, keys, labels),
                "repeated": int(h.duplicated(keep=False).sum())}
    return RowStats(**out)


def merge_stats(parts: Sequence[RowStats]) -> RowStats:
    """Counts of several shuffled partitions added; first rows merged."""
    return RowStats(
        n_rows=sum(p.n_rows for p in parts), copies=sum(p.copies for p in parts),
        copies_rows=Rows.merge([p.copies_rows for p in parts]),
        copies_rest=sum(p.copies_rest for p in parts),
        copies_rest_rows=Rows.merge([p.copies_rest_rows for p in parts]),
        conflict_groups=sum(p.conflict_groups for p in parts),
        conflict_rows=sum(p.conflict_rows for p in parts),
        conflict_first=Rows.merge([p.conflict_first for p in parts]),
        repeated=sum(p.repeated for p in parts),
    )
