"""The profile table of an :class:`~._data.AuditData`: shared by ``profile``, ``audit`` and their Dask path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ._data import AuditData, ColumnInfo

__all__ = ["PROFILE_COLUMNS", "profile_data"]

PROFILE_COLUMNS = [
    "column", "dtype", "kind", "n_missing", "missing_share", "n_unique", "top", "top_share",
    "min", "median", "max", "mean", "std", "kind_reason",
]


def _numbers(col: ColumnInfo) -> dict[str, Any]:
    empty = dict.fromkeys(("min", "median", "max", "mean", "std"), np.nan)
    if not col.is_numeric or col.n_present == 0:
        if col.is_datetime and col.n_present:
            s = col.series.dropna()
            return {**empty, "min": str(s.min()), "median": str(s.median()), "max": str(s.max())}
        return empty
    x = col.series.to_numpy(dtype=float, na_value=np.nan)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return empty
    return {"min": float(x.min()), "median": float(np.median(x)), "max": float(x.max()),
            "mean": float(x.mean()), "std": float(x.std(ddof=1)) if x.size > 1 else np.nan}


def profile_data(data: AuditData, *, numbers: Callable[[ColumnInfo], dict[str, Any]] = _numbers) -> pd.DataFrame:
    """The profile table of an :class:`AuditData` (statistics shared with the checks).

    ``numbers`` gives a column's min, median, max, mean and std (the Dask path
    reads them from merged summaries).
    """
    rows = []
    n = data.n_rows
    for col in data.columns:
        top, top_share = None, np.nan
        if col.n_unique:
            i = int(np.argmax(col.counts))
            value = col.uniques.iloc[i]
            top = value if isinstance(value, str) else str(value)
            top_share = float(col.counts[i] / n)
        rows.append({
            "column": col.label if isinstance(col.label, str) else str(col.label),
            "dtype": str(col.series.dtype), "kind": col.kind, "n_missing": col.n_missing,
            "missing_share": col.n_missing / n if n else np.nan, "n_unique": col.n_unique,
            "top": top, "top_share": top_share, **numbers(col),
            "kind_reason": col.column_kind.reason,
        })
    out = pd.DataFrame(rows, columns=PROFILE_COLUMNS)
    for name in ("min", "median", "max"):
        if out[name].map(lambda v: isinstance(v, str)).any():
            out[name] = out[name].astype(object)
    return out
