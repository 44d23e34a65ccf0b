"""``profile``: the EDA starter pack as one tidy DataFrame, one row per column."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import _dask
from .._errors import InputError
from .._frame import as_frame
from ._data import AuditData
from ._profile_table import PROFILE_COLUMNS, profile_data

__all__ = ["PROFILE_COLUMNS", "profile", "profile_data"]

def profile(df: Any) -> pd.DataFrame:
    """One row per column: dtype, kind, missing values, distinct values, top value, numbers.

    Dask frames and Parquet datasets: ``df`` may be a ``dask.dataframe.DataFrame``
    or the path of a Parquet file, glob or folder (the extra
    ``pip install "mllife[dask]"``). One distributed pass merges per-partition
    summaries: the result equals ``profile(ddf.compute())`` for every column
    with at most 100,000 distinct values (mean and std to float rounding).
    Above that cap, ``n_missing``, ``min``, ``max``, ``mean`` and ``std``
    stay exact, ``n_unique`` is estimated from a sample of 2,048 distinct
    values (about 2% error), ``top`` is the most frequent of the values each
    partition saw most often, and ``median`` comes from a quantile sketch
    (within its rank error, about 0.1%); ``kind_reason`` says so. ``kind``
    is decided on a seeded sample of 100,000 rows (the whole table when
    smaller; ``kind_reason`` names the sample otherwise).

    Parameters
    ----------
    df : pandas.DataFrame, 2-D array, dask.dataframe.DataFrame or Parquet path
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
    >>> import dask.dataframe as dd
    >>> frame = pd.DataFrame({"age": [30, 41, None, 52], "plan": ["a", "b", "a", "a"]})
    >>> profile(dd.from_pandas(frame, npartitions=2))[["column", "n_unique", "median"]].to_dict("records")
    [{'column': 'age', 'n_unique': 3, 'median': 41.0}, {'column': 'plan', 'n_unique': 2, 'median': nan}]
    """
    lazy = _dask.to_dask_frame(df, name="df")
    if lazy is not None:
        from ._dask import profile_dask

        return profile_dask(lazy)
    frame = as_frame(df, name="df")
    if not isinstance(frame, pd.DataFrame):
        raise InputError("df is not a table", expected="a DataFrame")
    return profile_data(AuditData(frame))
