"""Row keys: hashes that find exact and near duplicates across frames, and units.

A *unit* is a set of rows that must stay together in one part of a split:
rows of one group, identical feature rows, or both joined (a group and the
twins of its rows). Everything here is vectorised: factorize, hash, bincount.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import (
    hash_rows,
    is_bool,
    is_datetime,
    is_numeric,
    normalize_strings,
    repeats_expected,
)

#: Bits of mantissa kept when numbers are compared for near duplicates: a
#: relative tolerance of about 1e-5 (5 significant digits).
NEAR_BITS = 17

_MISSING_KEY = np.uint64(0x9E3779B97F4A7C15)


def _round_relative(x: np.ndarray) -> np.ndarray:
    """``x`` rounded to :data:`NEAR_BITS` bits of mantissa (NaN, inf and 0 kept)."""
    mantissa, exponent = np.frexp(x)
    scale = float(2**NEAR_BITS)
    return np.ldexp(np.round(mantissa * scale) / scale, exponent)


def _text_keys(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Exact and normalised hashes of a text (or other object) column, one factorize."""
    try:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
    except TypeError:  # unhashable cells (lists, dicts)
        codes, uniques = pd.factorize(s.map(repr, na_action="ignore"), use_na_sentinel=True)
    labels = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    exact = pd.util.hash_array(labels.to_numpy(dtype=object), categorize=False)
    texts = labels if pd.api.types.infer_dtype(labels) == "string" else labels.map(str)
    normalised = normalize_strings(texts).to_numpy(dtype=object)
    near = pd.util.hash_array(normalised, categorize=False)
    exact = np.append(exact, _MISSING_KEY)[codes]  # code -1 (missing) takes the last slot
    near = np.append(near, _MISSING_KEY)[codes]
    return exact, near


def column_keys(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Exact and near keys of one column: float64 for numbers and times, uint64 else.

    Keys do not depend on the dtype a frame happens to have (``1`` and ``1.0``,
    object and ``str`` strings, a time zone and UTC give the same key), so two
    frames compare cell by cell. Near keys round numbers to a relative
    tolerance of about 1e-5 and strip, whitespace-collapse and casefold text.
    """
    if is_datetime(s):
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        values = s.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(np.float64)
        values[s.isna().to_numpy()] = np.nan
        return values, values
    if is_bool(s) or is_numeric(s):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, _round_relative(values)
    return _text_keys(s)


def column_key(s: pd.Series) -> np.ndarray:
    """The exact key of one column (see :func:`column_keys`)."""
    return column_keys(s)[0]


class FrameKeys:
    """Per-column keys of one frame, computed once and shared by every check."""

    def __init__(self, df: pd.DataFrame) -> None:
        self.df = df
        self._cache: dict[Hashable, tuple[np.ndarray, np.ndarray]] = {}

    def column(self, column: Hashable, *, near: bool = False) -> np.ndarray:
        if column not in self._cache:
            self._cache[column] = column_keys(self.df[column])
        return self._cache[column][1 if near else 0]

    def rows(self, columns: Sequence[Hashable], *, near: bool = False) -> np.ndarray:
        """One 64-bit hash per row over ``columns``, comparable across frames."""
        keys = {i: self.column(c, near=near) for i, c in enumerate(columns)}
        return hash_rows(pd.DataFrame(keys, index=pd.RangeIndex(len(self.df))))


def inherent_repeats(keys: Sequence[FrameKeys], columns: Sequence[Hashable]
                     ) -> dict[str, Any] | None:
    """The evidence that identical rows over ``columns`` are the table's nature, or ``None``.

    Repeats are inherent when the columns allow few distinct rows
    (:func:`mllife._frame.repeats_expected` on their distinct counts over all
    the frames, missing counted as a value) *and* identical rows are the
    majority (at most half as many distinct rows as rows): a table of a few
    categorical columns, whose twins are different records that agree, not
    copies of one record. Distinct counts stop as soon as the columns allow
    many rows, so an ordinary table costs about one column's count.
    """
    n_rows = sum(len(k.df) for k in keys)
    if not columns:
        return None
    counts: list[int] = []
    for c in columns:
        counts.append(len(pd.unique(np.concatenate([k.column(c) for k in keys]))))
        if not repeats_expected(counts, n_rows):
            return None  # more columns only allow more rows
    n_distinct_rows = len(pd.unique(np.concatenate([k.rows(columns) for k in keys])))
    if n_distinct_rows > n_rows / 2:
        return None
    return {"n_rows": n_rows, "n_distinct_rows": n_distinct_rows, "distinct_values": counts,
            "possible_rows": int(np.prod(counts, dtype=float))}


def row_keys(df: pd.DataFrame, columns: Sequence[Hashable], *, near: bool = False) -> np.ndarray:
    """One 64-bit hash per row over ``columns``, comparable across frames."""
    return FrameKeys(df).rows(columns, near=near)


def codes_of(values: np.ndarray | pd.Series) -> np.ndarray:
    """Dense integer codes ``0..k-1``; every missing value gets a code of its own."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    missing = codes < 0
    if missing.any():
        codes = codes.copy()
        codes[missing] = len(uniques) + np.arange(int(missing.sum()))
    return codes.astype(np.int64)


def join_units(*codes: np.ndarray | None) -> np.ndarray:
    """Rows linked by any shared code end in one unit (connected components)."""
    present = [c for c in codes if c is not None]
    if not present:
        raise InputError("no codes to join", expected="group codes, duplicate codes or both")
    if len(present) == 1:
        return present[0]
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    offsets = np.cumsum([0] + [int(c.max()) + 1 if c.size else 0 for c in present])
    n_nodes = int(offsets[-1])
    first = present[0]
    rows_, cols_ = [], []
    for offset, c in zip(offsets[1:-1], present[1:], strict=True):
        rows_.append(first)
        cols_.append(c + offset)
    r = np.concatenate(rows_)
    c = np.concatenate(cols_)
    graph = coo_matrix((np.ones(r.size, dtype=np.int8), (r, c)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=False)
    return codes_of(labels[first])
