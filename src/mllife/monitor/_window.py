"""Windows: how rows fall into them (time or arrival order), and how times are read.

Time windows are keyed by an integer: fixed spans (``"1D"``, ``"6h"``,
``"15min"``: anything :class:`pandas.Timedelta` parses) count spans since
1970-01-01 00:00 UTC; ``"W"`` counts calendar weeks starting on Monday and
``"MS"`` calendar months. Row windows (``rows=N``) count rows in arrival
order. Naive times are taken as UTC; time-zone-aware times are converted to
UTC.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import is_datetime
from .._time import read_time

__all__ = ["WindowSpec", "parse_window", "read_times"]

_DAY_NS = 86_400 * 10**9
_CALENDAR = {"W": "week", "MS": "month"}


@dataclass(frozen=True)
class WindowSpec:
    """How rows fall into windows.

    ``kind``: ``"span"`` (fixed duration of ``span_ns`` nanoseconds),
    ``"week"``, ``"month"`` or ``"rows"`` (``rows`` rows each, in arrival
    order). ``text`` is the setting as stated in reports.

    Examples
    --------
    >>> spec = parse_window("6h", None, "t")
    >>> spec.kind, spec.span_ns // 3_600_000_000_000
    ('span', 6)
    >>> spec.label(int(spec.keys(np.array([0]))[0]))
    '1970-01-01 00:00'
    """

    kind: str
    text: str
    span_ns: int = 0
    rows: int = 0

    @property
    def by_time(self) -> bool:
        """True for time windows, False for row windows."""
        return self.kind != "rows"

    def keys(self, ns: np.ndarray) -> np.ndarray:
        """The window key of each time (int64 nanoseconds since the epoch, UTC)."""
        if self.kind == "span":
            return np.floor_divide(ns, self.span_ns)
        if self.kind == "week":
            return np.floor_divide(np.floor_divide(ns, _DAY_NS) + 3, 7)
        if self.kind == "month":
            return ns.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64)
        raise InputError("row windows have no time keys", expected="time windows")

    def bounds(self, key: int) -> tuple[pd.Timestamp, pd.Timestamp]:
        """``(start, end)`` of a window in UTC (``NaT`` for row windows); ``end`` excluded."""
        if self.kind == "span":
            start = key * self.span_ns
            return _stamp(start), _stamp(start + self.span_ns)
        if self.kind == "week":
            start = (key * 7 - 3) * _DAY_NS
            return _stamp(start), _stamp(start + 7 * _DAY_NS)
        if self.kind == "month":
            first = np.datetime64(int(key), "M")
            return (pd.Timestamp(first.astype("datetime64[ns]"), tz="UTC"),
                    pd.Timestamp((first + 1).astype("datetime64[ns]"), tz="UTC"))
        return pd.NaT, pd.NaT

    def label(self, key: int) -> str:
        """A readable label of a window: ``2024-03-01``, ``2024-03-01 06:00``, ``2024-W09``,
        ``2024-03`` or ``rows 0-999``."""
        if self.kind == "rows":
            return f"rows {key * self.rows}-{(key + 1) * self.rows - 1}"
        start, _ = self.bounds(key)
        if self.kind == "week":
            iso = start.isocalendar()
            return f"{iso[0]}-W{iso[1]:02d}"
        if self.kind == "month":
            return start.strftime("%Y-%m")
        if self.span_ns % _DAY_NS == 0:
            return start.strftime("%Y-%m-%d")
        if self.span_ns % (60 * 10**9) == 0:
            return start.strftime("%Y-%m-%d %H:%M")
        if self.span_ns % 10**9 == 0:
            return start.strftime("%Y-%m-%d %H:%M:%S")
        return start.tz_localize(None).isoformat()

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "span_ns": self.span_ns, "rows": self.rows}


def _stamp(ns: int) -> pd.Timestamp:
    return pd.Timestamp(int(ns), unit="ns", tz="UTC")


#: An ISO 8601 period with months or years before any time part ("P1M", "P1Y2M").
_ISO_MONTHS = re.compile(r"^[+-]?P[^T]*[MY]", re.IGNORECASE)


def parse_window(window: Any, rows: Any, time_col: Any) -> WindowSpec:
    """The :class:`WindowSpec` of the ``window=`` / ``rows=`` / ``time_col=`` settings.

    Raises
    ------
    InputError
        Naming the parameter: ``rows`` not a positive integer, a ``window``
        that is not a positive duration (nor ``"W"`` / ``"MS"``), or neither
        ``time_col`` nor ``rows`` given.
    """
    if rows is not None:
        if isinstance(rows, bool) or not isinstance(rows, int | np.integer) or rows < 1:
            raise InputError(f"rows={rows!r} is not a number of rows",
                             expected="a positive integer (rows per window, in arrival order)")
        return WindowSpec("rows", f"{int(rows)} rows", rows=int(rows))
    if time_col is None:
        raise InputError("no time_col and no rows: windows cannot close",
                         expected="time_col= (the column of event times, windows of window=) "
                                  "or rows= (windows of that many rows, in arrival order)")
    if isinstance(window, str) and window.strip() in _CALENDAR:
        return WindowSpec(_CALENDAR[window.strip()], window.strip())
    hint = ('a positive duration pandas.Timedelta parses ("1D", "6h", "15min"), '
            '"W" (calendar weeks) or "MS" (calendar months)')
    if isinstance(window, bool) or (not isinstance(window, str | pd.Timedelta | np.timedelta64) \
            and not hasattr(window, "total_seconds")):
        raise InputError(f"window={window!r} is not a duration", expected=hint)
    if isinstance(window, str) and _ISO_MONTHS.match(window.strip()):
        # pandas reads the M of an ISO 8601 period ("P1M") as minutes: a month is not a duration
        raise InputError(f"window={window!r} names months or years, which have no fixed length",
                         expected=hint)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            span = pd.Timedelta(window)
    except (ValueError, TypeError, OverflowError, Warning):
        raise InputError(f"window={window!r} is not a duration", expected=hint) from None
    if pd.isna(span) or span.value <= 0:
        raise InputError(f"window={window!r} is not a positive duration", expected=hint)
    text = window.strip() if isinstance(window, str) else str(span)
    return WindowSpec("span", text, span_ns=int(span.value))


def read_times(values: pd.Series, column: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(ns, missing)``: int64 nanoseconds since the epoch (UTC) and the mask of missing times.

    Datetimes (naive taken as UTC, aware converted to UTC), ``Period`` values
    (their start) and ISO 8601 text are read (:func:`mllife._time.read_time`).

    Raises
    ------
    InputError
        Naming ``column``, for values that are not date-times (numbers
        included: their unit is ambiguous) or beyond the years 1677-2262.
    """
    try:
        s = read_time(values, column=column)
    except InputError as exc:  # the monitor's own expectation: numbers are not time windows here
        raise InputError(exc.message, column=column, n_rows=exc.n_rows,
                         expected="date-times, pandas Periods or ISO 8601 text; for numbers use "
                                  "rows= windows") from None
    if isinstance(s.dtype, pd.PeriodDtype):
        s = s.dt.start_time
    if not is_datetime(s):
        raise InputError(f"holds {s.dtype} values, not date-times", column=column,
                         n_rows=len(s),
                         expected="date-times (or ISO 8601 text); for numbers use rows= windows")
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    try:
        arr = s.to_numpy(dtype="datetime64[ns]")
    except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
        raise InputError("holds date-times beyond the years 1677-2262", column=column,
                         expected="date-times that nanoseconds since 1970 can hold") from None
    missing = np.isnat(arr)
    return arr.view(np.int64), missing
