"""Time-aware cross-validation: ``PurgedTimeSeriesSplit`` and ``TimeSeriesGroupSplit``.

Folds are cut on time, not on row counts: rows sharing a timestamp never
straddle a fold boundary, the input may be in any order, and ``gap`` /
``embargo`` are spans of time (``"7D"``), not numbers of rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import as_frame, as_series, is_native
from .._time import TimeValues
from ._keys import codes_of
from ._params import Splitter
from ._time import cut_points, resolve_time


def _n_rows(X: Any) -> int:
    return int(X.shape[0]) if hasattr(X, "shape") else len(X)


def _check_max_train_size(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"max_train_size={value!r} is not a positive integer",
                         expected="None or an integer >= 1")
    return int(value)


def _times(X: Any, time: Any, time_col: Any, n: int) -> TimeValues:
    X = as_frame(X) if is_native(X) else X  # polars / pyarrow: one conversion
    time = as_series(time, name="time") if is_native(time) else time
    if time is not None and time_col is not None:
        raise InputError("both time= and time_col= were given",
                         expected="time_col= (a column name of X) or time= (one time per row)")
    if time is not None and (isinstance(time, str) or (np.ndim(time) == 0
                                                        and not isinstance(time, pd.Series))):
        raise InputError(f"time={time!r} is a single value, not one time per row",
                         expected=f"time_col={time!r} to name a column of X, or time= as an "
                                  "array of one time per row")
    if time_col is not None and not isinstance(X, pd.DataFrame):
        raise InputError(f"time_col={time_col!r} names a column but X is not a DataFrame",
                         expected="X as a DataFrame, or time= as an array of one time per row")
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(index=pd.RangeIndex(n))
    return resolve_time(frame, time_col if time_col is not None else time, n_rows=n)


def _time_setup(cv: Any, X: Any) -> tuple[int, TimeValues, Any, int | None]:
    """Rows, times, gap and max_train_size of a time splitter, checked."""
    max_size = _check_max_train_size(cv.max_train_size)
    n = _n_rows(X)
    times = _times(X, cv.time, cv.time_col, n)
    return n, times, times.span(cv.gap, name="gap"), max_size


def _block_ends(n: int, k: int, *, kfold: bool) -> np.ndarray:
    """Rows before each block boundary, as scikit-learn cuts them.

    Walk-forward (``TimeSeriesSplit``): ``k`` test blocks of ``n // (k + 1)``
    rows at the end, the first block takes the remainder. K-fold (``KFold``):
    ``k`` blocks, the first ``n % k`` one row larger.
    """
    if kfold:
        sizes = np.full(k, n // k)
        sizes[: n % k] += 1
        return np.cumsum(sizes)[:-1].astype(float)
    test_size = n // (k + 1)
    return (n - test_size * np.arange(k, 0, -1)).astype(float)


def _most_recent(train: np.ndarray, t: np.ndarray, max_size: int | None) -> np.ndarray:
    if max_size is None or train.size <= max_size:
        return train
    latest = np.argsort(t[train], kind="stable")[-max_size:]
    return np.sort(train[latest])


class PurgedTimeSeriesSplit(Splitter):
    """Walk-forward (or purged k-fold) cross-validation on time, not row counts.

    Rows are ordered by their time (the input need not be sorted), the
    distinct timestamps are cut into consecutive blocks of about equal row
    counts, and rows sharing a timestamp always stay in one block. The
    boundaries are scikit-learn's, moved to the nearest change of timestamp:
    on sorted, distinct timestamps the folds are exactly ``TimeSeriesSplit``'s
    (``KFold``'s with ``embargo="0D"``) for any number of rows.

    - Without ``embargo`` (walk-forward, like ``TimeSeriesSplit``): there are
      ``n_splits + 1`` blocks, the last ``n_splits`` of ``n // (n_splits + 1)``
      rows; fold ``i`` tests block ``i + 1`` and trains on the rows more than
      ``gap`` before its first timestamp.
    - With ``embargo`` (purged k-fold, after López de Prado): there are
      ``n_splits`` blocks (the first ``n % n_splits`` one row larger), each
      tested once, and training uses the rows more than ``gap`` before the
      block and more than ``embargo`` after it.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds (>= 2).
    time : array-like or None, default=None
        One time per row (an array or Series, so the time need not be a model
        feature). ``None`` with no ``time_col``: row order is time, and
        ``gap``/``embargo`` are numbers of rows.
    time_col : hashable, optional
        The column of ``X`` (then a DataFrame) holding each row's time; give
        ``time`` or ``time_col``, not both.
    gap : str or timedelta, optional
        Time purged between the end of training and the test block (the label
        horizon): a training row is more than ``gap`` before the test's first
        timestamp. A number for numeric time.
    embargo : str or timedelta, optional
        Switch to purged k-fold; the time after the test block left out of
        training (``"0D"`` for none).
    max_train_size : int, optional
        Walk-forward only: keep at most this many of the most recent training rows.

    Raises
    ------
    InputError
        From :meth:`split`: fewer distinct timestamps than blocks; NaT, mixed
        time zones or non-time values; a ``gap`` that leaves a fold without
        training rows; ``max_train_size`` together with ``embargo``.

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.split import PurgedTimeSeriesSplit
    >>> X = pd.DataFrame({"t": pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-02",
    ...                                        "2024-01-02", "2024-01-05", "2024-01-04"]),
    ...                   "x": range(6)})
    >>> cv = PurgedTimeSeriesSplit(n_splits=2, time_col="t")  # the two 2024-01-02 rows stay together
    >>> [(train.tolist(), test.tolist()) for train, test in cv.split(X)]
    [([1], [0, 2, 3]), ([0, 1, 2, 3], [4, 5])]
    """

    def __init__(
        self,
        n_splits: int = 5,
        *,
        time: Any = None,
        time_col: Any = None,
        gap: Any = None,
        embargo: Any = None,
        max_train_size: int | None = None,
    ) -> None:
        self.n_splits = n_splits
        self.time = time
        self.time_col = time_col
        self.gap = gap
        self.embargo = embargo
        self.max_train_size = max_train_size

    def _folds(self, X: Any, groups: Any, k: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n, times, gap, max_size = _time_setup(self, X)
        kfold = self.embargo is not None
        embargo = times.span(self.embargo, name="embargo")
        if kfold and max_size is not None:
            raise InputError("max_train_size applies to walk-forward folds only",
                             expected="embargo=None with max_train_size, or no max_train_size")
        t = times.values
        edges, _ = cut_points(t, _block_ends(n, k, kfold=kfold) / n)
        block = np.searchsorted(edges, t, side="left")
        for fold, b in enumerate(range(k) if kfold else range(1, k + 1)):
            test_mask = block == b
            first, last = t[test_mask].min(), t[test_mask].max()
            train_mask = t < first - gap
            if kfold:
                train_mask |= t > last + embargo
            train = _most_recent(np.flatnonzero(train_mask), t, max_size)
            if train.size == 0:
                raise InputError(
                    f"fold {fold} has no training rows: the gap {self.gap!r} reaches back "
                    f"past the first timestamp before {times.label(first)}",
                    n_rows=n, expected="a smaller gap or fewer splits",
                )
            yield train, np.flatnonzero(test_mask)


class TimeSeriesGroupSplit(Splitter):
    """Walk-forward cross-validation over groups: no group is in train and test.

    Each group (a customer, a patient) starts at its first timestamp; groups
    are ordered by start and cut into ``n_splits + 1`` consecutive blocks of
    about equal row counts (groups with the same start stay together). Fold
    ``i`` tests every row of the groups of block ``i`` and trains on the rows
    of earlier groups that are more than ``gap`` before the test block's first
    timestamp, so training never sees a test group nor the test period.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds (>= 2).
    time : array-like or None, default=None
        One time per row, or ``None`` with no ``time_col`` (row order is time).
    time_col : hashable, optional
        The column of ``X`` (then a DataFrame) holding each row's time; give
        ``time`` or ``time_col``, not both.
    gap : str or timedelta, optional
        Time purged between training rows and the test block's first timestamp.
    max_train_size : int, optional
        Keep at most this many of the most recent training rows.

    Raises
    ------
    InputError
        From :meth:`split`: no ``groups``; fewer distinct group starts than
        blocks; NaT or mixed time zones; a fold left without training rows.

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.split import TimeSeriesGroupSplit
    >>> X = pd.DataFrame({"day": [1, 2, 2, 3, 4, 5, 6, 7], "x": range(8)})
    >>> groups = ["a", "a", "b", "b", "c", "c", "d", "d"]
    >>> cv = TimeSeriesGroupSplit(n_splits=3, time_col="day")
    >>> [(train.tolist(), test.tolist()) for train, test in cv.split(X, groups=groups)]
    [([0], [2, 3]), ([0, 1, 2, 3], [4, 5]), ([0, 1, 2, 3, 4, 5], [6, 7])]
    """

    def __init__(
        self,
        n_splits: int = 5,
        *,
        time: Any = None,
        time_col: Any = None,
        gap: Any = None,
        max_train_size: int | None = None,
    ) -> None:
        self.n_splits = n_splits
        self.time = time
        self.time_col = time_col
        self.gap = gap
        self.max_train_size = max_train_size

    def _folds(self, X: Any, groups: Any, k: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        if groups is None:
            raise InputError("TimeSeriesGroupSplit needs groups",
                             expected="cv.split(X, y, groups=...) or cross_validate(..., "
                             "groups=...)")
        n, times, gap, max_size = _time_setup(self, X)
        t = times.values
        codes = codes_of(np.asarray(groups))
        start = np.full(int(codes.max()) + 1, np.inf)
        np.minimum.at(start, codes, t)
        row_start = start[codes]
        edges, next_starts = cut_points(row_start, np.arange(1, k + 1) / (k + 1),
                                        what="groups with distinct first timestamps")
        block = np.searchsorted(edges, row_start, side="left")
        for b in range(1, k + 1):
            first = next_starts[b - 1]
            train = np.flatnonzero((block < b) & (t < first - gap))
            train = _most_recent(train, t, max_size)
            if train.size == 0:
                raise InputError(
                    f"fold {b - 1} has no training rows before {times.label(first)} "
                    f"with gap {self.gap!r}",
                    n_rows=n, expected="a smaller gap or fewer splits",
                )
            yield train, np.flatnonzero(block == b)
