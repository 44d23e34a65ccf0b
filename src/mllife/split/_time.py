"""Time for the splitters: a splitter's ``time`` parameter and tie-aware cut points.

Reading time columns (datetimes, periods, numbers, ISO text) and spans is
shared with ``evaluate``: see :mod:`mllife._time`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._time import TimeValues, time_values


def resolve_time(X: pd.DataFrame, time: Any, *, n_rows: int) -> TimeValues:
    """The time of each row of ``X`` from a splitter's ``time`` parameter.

    ``time`` is a column name of ``X``, an array/Series of one time per row,
    or ``None`` (row order is time: positions ``0, 1, ...``).
    """
    if time is None:
        return TimeValues(np.arange(n_rows, dtype=np.float64), False, None)
    if isinstance(time, str) or (np.ndim(time) == 0 and not isinstance(time, pd.Series)):
        if time not in X.columns:
            raise InputError(
                f"time column {time!r} not found",
                expected=f"one of the {X.shape[1]} columns of X, or an array of times",
            )
        return time_values(X[time], column=time)
    values = time.reset_index(drop=True) if isinstance(time, pd.Series) else time
    out = time_values(values, column=getattr(time, "name", None) or "time")
    if len(out.values) != n_rows:
        raise InputError(f"time has {len(out.values)} values but X has {n_rows} rows",
                         expected="one time per row of X")
    return out


def cut_points(
    row_start: np.ndarray, cum_fractions: Any, *, what: str = "distinct timestamps"
) -> tuple[np.ndarray, np.ndarray]:
    """Tie-aware cut points that split rows into consecutive time blocks.

    Rows are ordered by ``row_start`` (the time of a row, or the first time of
    its group). Cuts fall only between *distinct* values, so rows sharing a
    value never straddle a cut, and each cut is placed where the cumulative
    row share is closest to its target in ``cum_fractions`` (increasing, in
    (0, 1)), leaving at least one distinct value to every block.

    Returns
    -------
    edges, next_starts : ndarray
        Block ``b`` holds the rows with ``edges[b-1] < start <= edges[b]``
        (``numpy.searchsorted(edges, start, side="left")``); ``next_starts[b]``
        is the first start of block ``b + 1``.

    Raises
    ------
    InputError
        When there are fewer distinct values than blocks.
    """
    fractions = list(cum_fractions)
    n_blocks = len(fractions) + 1
    distinct, counts = np.unique(row_start, return_counts=True)
    if len(distinct) < n_blocks:
        raise InputError(
            f"only {len(distinct)} {what} for {n_blocks} consecutive parts",
            n_rows=len(row_start),
            expected=f"at least {n_blocks} {what} (ties always stay in one part)",
        )
    cum = np.cumsum(counts)
    total = cum[-1]
    chosen: list[int] = []
    lo = 0
    for i, fraction in enumerate(fractions):
        hi = len(distinct) - (n_blocks - 1 - i)
        candidates = cum[lo:hi]
        j = lo + int(np.argmin(np.abs(candidates - fraction * total)))
        chosen.append(j)
        lo = j + 1
    idx = np.asarray(chosen, dtype=np.int64)
    return distinct[idx], distinct[idx + 1]
