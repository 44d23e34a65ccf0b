"""Time values and time spans, as the splitters and leakage checks need them.

Timestamps become one sortable number per row (nanoseconds since the epoch,
UTC, for datetimes; the values themselves for numeric time), and spans such as
``"7D"`` become a number in the same unit, so every time rule is plain numpy
arithmetic.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import is_bool, is_datetime, is_numeric

_SPAN_HINT = 'a time span such as "7D", "12h" or pandas.Timedelta("30min")'


@dataclass(frozen=True)
class TimeValues:
    """One sortable number per row, and whether they came from datetimes.

    ``tz`` is the time zone of the source column (``None`` when naive), kept so
    two frames can be checked for a time-zone mismatch.
    """

    values: np.ndarray
    is_datetime: bool
    tz: str | None = None

    def span(self, value: Any, *, name: str) -> float:
        """``value`` (a span) in this time's unit; ``None`` is 0."""
        return to_span(value, name=name, is_datetime=self.is_datetime)

    def label(self, number: float) -> str:
        """A readable form of one time number (for messages)."""
        if self.is_datetime:
            return str(pd.Timestamp(int(number)))
        return f"{number:g}"


def to_span(value: Any, *, name: str, is_datetime: bool) -> float:
    """A non-negative span in the time's unit (nanoseconds for datetimes).

    Raises
    ------
    InputError
        For a negative span, a number given for datetime time (ambiguous
        unit), or a string given for numeric time.
    """
    if value is None:
        return 0.0
    if is_datetime:
        if isinstance(value, bool) or (isinstance(value, int | float | np.number) and value != 0):
            raise InputError(f"{name}={value!r} has no time unit", expected=_SPAN_HINT)
        if isinstance(value, int | float | np.number):
            return 0.0
        try:
            span = pd.Timedelta(value)
        except (ValueError, TypeError):
            raise InputError(f"{name}={value!r} is not a time span", expected=_SPAN_HINT) from None
        if pd.isna(span):
            raise InputError(f"{name} is missing (NaT)", expected=_SPAN_HINT)
        number = float(span.value)
    else:
        if isinstance(value, str | _dt.timedelta | np.timedelta64 | bool):
            raise InputError(
                f"{name}={value!r} is a time span but the time values are numbers",
                expected="a number in the unit of the time values",
            )
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InputError(f"{name}={value!r} is not a number",
                             expected="a number in the unit of the time values") from None
    if not np.isfinite(number) or number < 0:
        raise InputError(f"{name}={value!r} is negative or infinite", expected="a span >= 0")
    return number


def time_values(values: Any, *, column: Any = "time") -> TimeValues:
    """Validate time values and turn them into sortable numbers.

    Accepts datetime64 (naive or with one time zone; aware values are compared
    in UTC), an object column of ``datetime``/``Timestamp`` values with one
    time zone, or numbers (periods, epoch seconds). Order does not matter.

    Raises
    ------
    InputError
        Naming ``column``: missing values (NaT/NaN, with their count), mixed
        time zones or naive and aware values together, or values that are
        neither datetimes nor numbers (strings must be parsed first).
    """
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(s.cat.categories.dtype)
    if not is_datetime(s) and s.dtype == object:
        inferred = pd.api.types.infer_dtype(s, skipna=True)
        if inferred in {"datetime", "datetime64", "date"}:
            s = _parse_object_datetimes(s, column)
        elif inferred in {"integer", "floating", "mixed-integer-float"}:
            s = pd.to_numeric(s)
    if is_datetime(s):
        n_missing = int(s.isna().sum())
        if n_missing:
            raise InputError("has missing timestamps (NaT)", column=column, n_rows=n_missing,
                             expected="a timestamp in every row: drop or fill those rows first")
        tz = None
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            tz = str(s.dtype.tz)
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        numbers = s.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(np.float64)
        return TimeValues(numbers, True, tz)
    if is_numeric(s) and not is_bool(s):
        numbers = s.to_numpy(dtype=np.float64, na_value=np.nan)
        n_missing = int(np.isnan(numbers).sum())
        if n_missing:
            raise InputError("has missing time values (NaN)", column=column, n_rows=n_missing,
                             expected="a time value in every row: drop or fill those rows first")
        return TimeValues(numbers, False, None)
    raise InputError(
        f"holds {s.dtype} values, not times",
        column=column,
        n_rows=len(s),
        expected="datetime64 or numeric time values (parse strings with pandas.to_datetime "
        "or mllife.DatetimeParser first)",
    )


def _parse_object_datetimes(s: pd.Series, column: Any) -> pd.Series:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            parsed = pd.to_datetime(s)
    except (ValueError, TypeError, Warning):
        parsed = None
    if parsed is None or not is_datetime(parsed):
        raise InputError(
            "mixes time zones (or naive and time-zone-aware timestamps)",
            column=column,
            n_rows=len(s),
            expected="one time zone: convert with pandas.to_datetime(values, utc=True)",
        )
    return parsed


def check_same_kind(a: TimeValues, b: TimeValues, *, column: Any) -> None:
    """Raise when two frames' time columns cannot be compared."""
    if a.is_datetime != b.is_datetime:
        raise InputError("is a datetime in one frame and a number in the other",
                         column=column, expected="the same kind of time values in both")
    if (a.tz is None) != (b.tz is None):
        raise InputError(
            "is time-zone-aware in one frame and naive in the other",
            column=column,
            expected="both aware or both naive (pandas.to_datetime(values, utc=True))",
        )


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
