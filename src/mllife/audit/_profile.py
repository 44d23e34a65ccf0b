"""``profile``: the EDA starter pack as one tidy DataFrame, one row per column."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import as_frame
from ._data import AuditData, ColumnInfo

__all__ = ["profile", "profile_data"]

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


def profile_data(data: AuditData) -> pd.DataFrame:
    """The profile table of an :class:`AuditData` (statistics shared with the checks)."""
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
            "top": top, "top_share": top_share, **_numbers(col),
            "kind_reason": col.column_kind.reason,
        })
    out = pd.DataFrame(rows, columns=PROFILE_COLUMNS)
    for name in ("min", "median", "max"):
        if out[name].map(lambda v: isinstance(v, str)).any():
            out[name] = out[name].astype(object)
    return out


def profile(df: Any) -> pd.DataFrame:
    """One row per column: dtype, kind, missing values, distinct values, top value, numbers.

    Parameters
    ----------
    df : pandas.DataFrame or 2-D array
        The table (not modified). Arrays get columns ``x0, x1, ...``.

    Returns
    -------
    pandas.DataFrame
        Columns ``column, dtype, kind, n_missing, missing_share, n_unique,
        top, top_share, min, median, max, mean, std, kind_reason`` (numbers for numeric
        columns; min/median/max as text for datetime columns). ``kind`` is
        the column's kind from mllife's one kind detector, the one
        ``make_preprocessor``, ``drift_report`` and ``check_leakage`` use:
        ``numeric``, ``boolean``, ``categorical``, ``high_cardinality``,
        ``datetime``, ``date``, ``datetime_utc``, ``timedelta``, ``text``,
        ``numeric_text``, ``identifier``, ``constant``, ``empty`` or ``mixed``;
        ``kind_reason`` says why (see the column-kinds docs page).

    Raises
    ------
    InputError
        When ``df`` is not a table.

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.audit import profile
    >>> p = profile(pd.DataFrame({"age": [30, 41, None], "plan": ["a", "b", "a"]}))
    >>> p[["column", "kind", "n_missing", "n_unique", "top"]].to_dict("records")[1]
    {'column': 'plan', 'kind': 'categorical', 'n_missing': 0, 'n_unique': 2, 'top': 'a'}
    >>> float(p.loc[0, "median"])
    35.5
    """
    frame = as_frame(df, name="df")
    if not isinstance(frame, pd.DataFrame):
        raise InputError("df is not a table", expected="a DataFrame")
    return profile_data(AuditData(frame))
