"""Row keys: hashes that find exact and near duplicates across frames, and units.

A *unit* is a set of rows that must stay together in one part of a split:
rows of one group, identical feature rows, or both joined (a group and the
twins of its rows). Everything here is vectorised: factorize, hash, bincount.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from .._frame import hash_rows, is_bool, is_datetime, is_numeric, normalize_strings

#: Significant digits kept when numbers are compared for near duplicates.
NEAR_DIGITS = 5

_MISSING_KEY = np.uint64(0x9E3779B97F4A7C15)


def _round_significant(x: np.ndarray, digits: int) -> np.ndarray:
    """``x`` rounded to ``digits`` significant digits (NaN and 0 kept)."""
    out = x.copy()
    finite = np.isfinite(x) & (x != 0)
    if finite.any():
        v = x[finite]
        exponent = np.floor(np.log10(np.abs(v)))
        scale = 10.0 ** (digits - 1 - exponent)
        out[finite] = np.round(v * scale) / scale
    return out


def column_key(s: pd.Series, *, near: bool = False) -> np.ndarray:
    """One comparable value per cell: float64 for numbers and times, uint64 else.

    Keys do not depend on the dtype a frame happens to have (``1`` and ``1.0``,
    object and ``str`` strings, a time zone and UTC give the same key), so two
    frames compare cell by cell. With ``near=True`` numbers are rounded to
    :data:`NEAR_DIGITS` significant digits and strings are stripped,
    whitespace-collapsed and casefolded.
    """
    if is_datetime(s):
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        values = s.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(np.float64)
        values[s.isna().to_numpy()] = np.nan
        return values
    if is_bool(s) or is_numeric(s):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        return _round_significant(values, NEAR_DIGITS) if near else values
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    labels = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
    if near:
        texts = labels.map(str) if pd.api.types.infer_dtype(labels) != "string" else labels
        labels = normalize_strings(texts).astype(object)
    hashed = pd.util.hash_array(labels.to_numpy(dtype=object), categorize=False)
    hashed = np.append(hashed, _MISSING_KEY)  # code -1 (missing) takes the last slot
    return hashed[codes]


def row_keys(df: pd.DataFrame, columns: Sequence[Hashable], *, near: bool = False) -> np.ndarray:
    """One 64-bit hash per row over ``columns``, comparable across frames."""
    keys = {i: column_key(df[c], near=near) for i, c in enumerate(columns)}
    return hash_rows(pd.DataFrame(keys, index=pd.RangeIndex(len(df))))


def codes_of(values: np.ndarray | pd.Series) -> np.ndarray:
    """Dense integer codes ``0..k-1``; every missing value gets a code of its own."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    missing = codes < 0
    if missing.any():
        codes = codes.copy()
        codes[missing] = len(uniques) + np.arange(int(missing.sum()))
    return codes.astype(np.int64)


def join_units(*codes: np.ndarray) -> np.ndarray:
    """Rows linked by any shared code end in one unit (connected components)."""
    present = [c for c in codes if c is not None]
    if not present:
        raise ValueError("join_units needs at least one code array")  # internal misuse
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
