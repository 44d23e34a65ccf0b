"""Distinct values with their row counts and first rows, and value hashes, for the Dask audit.

:class:`ValueTable` is what a column summary holds for a column within the value
cap (and, above it, for the values it keeps): the distinct values in order of
first appearance, how many rows hold each, and the keys and labels of each
value's first :data:`~._data.SAMPLE_SIZE` rows. :func:`ValueTable.merge` of the
tables of consecutive partitions, in order, is the table of their rows taken
together, with pandas' own notion of equal values (``pd.factorize``).

:func:`value_hash` hashes values, not partition-local codes, so equal rows in
different partitions get equal row hashes (:func:`combine`).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._nulls import factorize
from ._data import SAMPLE_SIZE, _mix

__all__ = [
    "KEY_BITS", "MISSING_HASH", "Rows", "Settings", "ValueTable", "column_hash", "combine", "first_labels",
    "mix", "row_keys", "value_hash",
]

#: Row keys: ``partition << KEY_BITS | position`` (a partition holds under 2**40 rows).
KEY_BITS = 40
#: The hash standing for a missing cell (any fixed 64-bit value).
MISSING_HASH = np.uint64(0x6A09E667F3BCC909)
_HASH_MULT = 0x9E3779B97F4A7C15


@dataclass(frozen=True)
class Settings:
    """The bounds every partition summary keeps to (module constants of :mod:`._dask`)."""

    value_cap: int = 100_000
    top: int = 16
    distinct_sample: int = 2_048
    tail: int = 2_000
    sketch_points: int = 4_096
    head: int = 10_000
    sample_rows: int = 100_000


#: splitmix64's finaliser on uint64: the audit's own row-hash mixer, shared so hashes agree.
mix = _mix


def row_keys(partition: int, n: int) -> np.ndarray:
    """Keys of a partition's rows, in order."""
    return (np.int64(partition) << np.int64(KEY_BITS)) | np.arange(n, dtype=np.int64)


def _canonical(value: Any) -> str:
    """A text form equal for values pandas' hash table calls equal (``1``, ``1.0``, ``True``)."""
    if isinstance(value, str):
        return "s" + value
    if isinstance(value, numbers.Number):
        try:
            as_float = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            return "o" + repr(value)
        return "n" + (repr(as_float) if as_float == value else repr(value))
    return "o" + str(value)


def value_hash(uniques: pd.Series) -> np.ndarray:
    """One 64-bit hash per distinct value, the same in every partition (values, not codes)."""
    if len(uniques) == 0:
        return np.zeros(0, dtype=np.uint64)
    dtype = uniques.dtype
    hash_array = pd.util.hash_array
    if isinstance(dtype, pd.StringDtype) or (pd.api.types.is_string_dtype(dtype)
                                             and not pd.api.types.is_object_dtype(dtype)
                                             and not isinstance(dtype, pd.CategoricalDtype)):
        return np.asarray(hash_array(("s" + uniques.astype(object)).to_numpy(dtype=object), categorize=False))
    if pd.api.types.is_bool_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return np.asarray(hash_array(uniques.to_numpy(dtype=np.uint8), categorize=False))
    if pd.api.types.is_integer_dtype(dtype):
        signed = pd.api.types.is_signed_integer_dtype(dtype)
        return np.asarray(hash_array(uniques.to_numpy(dtype=np.int64 if signed else np.uint64), categorize=False))
    if pd.api.types.is_float_dtype(dtype):
        return np.asarray(hash_array(uniques.to_numpy(dtype=np.float64) + 0.0, categorize=False))
    array = uniques.array
    if hasattr(array, "asi8"):  # datetimes (with or without a time zone), timedeltas, periods
        return np.asarray(hash_array(np.asarray(array.asi8, dtype=np.int64), categorize=False))
    keys = np.fromiter((_canonical(v) for v in uniques.to_numpy(dtype=object)), dtype=object,
                       count=len(uniques))
    return np.asarray(hash_array(keys, categorize=False))


def column_hash(codes: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """Each row's value hash (:data:`MISSING_HASH` for a missing cell, code -1)."""
    return np.append(hashes, MISSING_HASH)[codes]


def combine(hashes: Sequence[tuple[int, np.ndarray]], n: int) -> np.ndarray:
    """One hash per row over several columns: ``(position, column hash)`` pairs.

    A multiply-add chain over the (already mixed) column hashes, each offset by
    its column position, then one mix: equal rows get equal hashes.
    """
    h = np.zeros(n, dtype=np.uint64)
    for position, ch in hashes:
        h = h * np.uint64(_HASH_MULT) + (ch ^ np.uint64(((position + 1) * _HASH_MULT) % 2**64))
    return mix(h)


# ---- first rows ------------------------------------------------------------------------
def first_labels(keys: np.ndarray, labels: pd.Index, size: int = SAMPLE_SIZE) -> tuple[Any, ...]:
    """Labels of the ``size`` smallest keys, in key order."""
    if keys.size == 0:
        return ()
    order = np.argsort(keys, kind="stable")[:size]
    return tuple(labels[order].tolist())


def _append(indexes: Sequence[pd.Index]) -> pd.Index:
    kept = [i for i in indexes if len(i)] or list(indexes[:1])
    return kept[0].append(kept[1:]) if len(kept) > 1 else kept[0]


@dataclass(frozen=True)
class Rows:
    """The first rows of something: their keys and labels (at most :data:`SAMPLE_SIZE`)."""

    keys: np.ndarray
    labels: pd.Index

    @classmethod
    def of(cls, mask: np.ndarray, keys: np.ndarray, labels: pd.Index) -> Rows:
        where = np.flatnonzero(mask)[:SAMPLE_SIZE]
        return cls(keys[where], labels[where])

    @classmethod
    def merge(cls, parts: Sequence[Rows]) -> Rows:
        keys = np.concatenate([p.keys for p in parts])
        order = np.argsort(keys, kind="stable")[:SAMPLE_SIZE]
        return cls(keys[order], _append([p.labels for p in parts])[order])

    def first(self, size: int = SAMPLE_SIZE) -> tuple[Any, ...]:
        return first_labels(self.keys, self.labels, size)


# ---- value tables -------------------------------------------------------------------------
def _concat(series: Sequence[pd.Series]) -> pd.Series:
    kept = [s for s in series if len(s)] or list(series[:1])
    if len(kept) == 1:
        return kept[0].reset_index(drop=True)
    if all(isinstance(s.dtype, pd.CategoricalDtype) for s in kept) and \
            len({tuple(s.cat.categories) for s in kept}) > 1:
        union = pd.api.types.union_categoricals([s.array for s in kept])
        return pd.Series(union)
    return pd.concat(kept, ignore_index=True)


#: Besides every value's first row, a table keeps at most this many of the next rows of its
#: values (up to :data:`SAMPLE_SIZE` per value), the earliest ones: a bound on memory for columns
#: of many repeated values that does not depend on how the partitions were cut or merged.
OCCURRENCE_EXTRAS = 50_000


def _kept(rank: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Which occurrences a table keeps (``rank``: their order among their value's rows)."""
    take = rank < SAMPLE_SIZE
    extra = np.flatnonzero(take & (rank > 0))
    if extra.size > OCCURRENCE_EXTRAS:
        late = extra[np.argsort(keys[extra], kind="stable")[OCCURRENCE_EXTRAS:]]
        take[late] = False
    return take


@dataclass(frozen=True)
class ValueTable:
    """Distinct values (first-appearance order), their row counts and first rows.

    ``occ_code``/``occ_key``/``occ_label``: for each value, its first
    :data:`SAMPLE_SIZE` rows (sorted by code, then key): every value's first
    row, and the earliest :data:`OCCURRENCE_EXTRAS` of the others.
    """

    uniques: pd.Series
    counts: np.ndarray
    first: np.ndarray
    occ_code: np.ndarray
    occ_key: np.ndarray
    occ_label: pd.Index
    unhashable: bool = False

    def __len__(self) -> int:
        return len(self.uniques)

    @classmethod
    def build(cls, codes: np.ndarray, uniques: pd.Series, keys: np.ndarray, labels: pd.Index, *,
              unhashable: bool = False, keep: np.ndarray | None = None,
              counts: np.ndarray | None = None) -> ValueTable:
        """The table of one partition's column from its factorised codes (``keep``: only those values)."""
        m = len(uniques)
        if counts is None:
            counts = np.bincount(codes[codes >= 0], minlength=m)
        if keep is not None:
            kept = np.flatnonzero(keep)
            renumber = np.full(m + 1, -1, dtype=np.int64)
            renumber[kept] = np.arange(kept.size)
            codes = renumber[np.where(codes >= 0, codes, m)]
            uniques = uniques.iloc[kept]
            counts = counts[kept]
            m = kept.size
        rows = np.flatnonzero(codes >= 0)
        c = codes[rows]
        order = np.argsort(c.astype(np.int16) if m < 2**15 else c, kind="stable")
        sorted_codes = c[order]
        starts = np.searchsorted(sorted_codes, np.arange(m))
        rank = np.arange(sorted_codes.size) - starts[sorted_codes] if sorted_codes.size else sorted_codes
        take = _kept(rank, keys[rows[order]])
        picked = rows[order[take]]
        first = keys[rows[order[starts]]] if m else np.zeros(0, dtype=np.int64)
        return cls(uniques.reset_index(drop=True), np.asarray(counts, dtype=np.int64), first,
                   sorted_codes[take].astype(np.int64), keys[picked], labels[picked], unhashable)

    @classmethod
    def merge(cls, tables: Sequence[ValueTable]) -> ValueTable:
        """Tables of consecutive partitions, in order, as one table."""
        if len(tables) == 1:
            return tables[0]
        unhashable = any(t.unhashable for t in tables)
        series = [t.uniques.astype(str).astype(object) if unhashable and not t.unhashable else t.uniques
                  for t in tables]
        codes, uniques, _ = factorize(_concat(series))
        m = len(uniques)
        sizes = np.cumsum([0] + [len(t) for t in tables])
        counts = np.bincount(codes, weights=np.concatenate([t.counts for t in tables]).astype(np.float64),
                             minlength=m)
        firsts = np.concatenate([t.first for t in tables])
        first = np.full(m, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, codes, firsts)
        occ_code = np.concatenate([codes[sizes[i] + t.occ_code] for i, t in enumerate(tables)])
        occ_key = np.concatenate([t.occ_key for t in tables])
        labels = _append([t.occ_label for t in tables])
        order = np.lexsort((occ_key, occ_code))
        occ_code, occ_key = occ_code[order], occ_key[order]
        starts = np.searchsorted(occ_code, np.arange(m))
        rank = np.arange(occ_code.size) - starts[occ_code] if occ_code.size else occ_code
        take = _kept(rank, occ_key)
        return cls(uniques.reset_index(drop=True), np.rint(counts).astype(np.int64), first,
                   occ_code[take], occ_key[take], labels[order[take]], unhashable)

    def select(self, keep: np.ndarray, order: np.ndarray | None = None) -> ValueTable:
        """The values where ``keep`` is True (in ``order`` of positions, else as they are)."""
        kept = np.flatnonzero(keep) if order is None else np.asarray(order)[np.asarray(keep)[order]]
        renumber = np.full(len(self) + 1, -1, dtype=np.int64)
        renumber[kept] = np.arange(kept.size)
        occ = renumber[self.occ_code]
        on = occ >= 0
        return ValueTable(self.uniques.iloc[kept].reset_index(drop=True), self.counts[kept], self.first[kept],
                          occ[on], self.occ_key[on], self.occ_label[on], self.unhashable)

    def first_rows(self, values: np.ndarray, extra: Rows | None = None, size: int = SAMPLE_SIZE) -> tuple[Any, ...]:
        """Labels of the first ``size`` rows holding one of the values where ``values`` is True."""
        on = np.asarray(values, dtype=bool)[self.occ_code] if self.occ_code.size else np.zeros(0, dtype=bool)
        keys, labels = self.occ_key[on], self.occ_label[on]
        if extra is not None and extra.keys.size:
            keys = np.concatenate([keys, extra.keys])
            labels = _append([labels, extra.labels])
        return first_labels(keys, labels, size)

    def numbers(self) -> np.ndarray:
        """The values as float64 (NaN where not a number)."""
        return pd.to_numeric(self.uniques, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
