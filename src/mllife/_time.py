"""The one reader of time columns: datetimes, periods, integer years, ISO text.

``split``, ``check_leakage``, the time splitters and ``evaluate`` take a time
column through :func:`read_time`, so they accept the same values and refuse
the same values with the same reasons:

- datetime64, naive or with one time zone; ``datetime``/``date`` objects;
- pandas ``Period`` values (``period[Y-DEC]``, ``period[Q-DEC]``...);
- numbers (integer years, period numbers, epoch seconds);
- text: periods (years ``"1980"``, quarters ``"2019Q1"``/``"2019-Q1"``,
  months ``"2019-03"``) and ISO 8601 (``"2024-03-01"``,
  ``"2024-03-01T10:00:00+01:00"``).

:func:`time_values` then turns them into one sortable number per row
(nanoseconds since the epoch, UTC, for datetimes and period starts; the values
themselves for numbers), and :func:`to_span` turns spans such as ``"7D"`` into
the same unit, so every time rule is plain numpy arithmetic.
"""

from __future__ import annotations

import datetime as _dt
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._dates import parse_datetime_objects
from ._errors import InputError
from ._frame import is_bool, is_datetime, is_numeric

__all__ = [
    "TimeValues",
    "check_same_kind",
    "period_unit",
    "read_time",
    "time_values",
    "to_span",
]

_SPAN_HINT = 'a time span such as "7D", "12h" or pandas.Timedelta("30min")'
#: What a time column may hold, for error messages.
TIME_HINT = ("datetimes, pandas Periods, numbers such as integer years, or ISO 8601 text "
             "(parse other text with pandas.to_datetime or mllife.DatetimeParser first)")
#: Text that names a period rather than an instant: years, quarters, months.
_PERIOD_TEXT = (
    ("Y", r"\d{4}"),
    ("Q", r"\d{4}\s*-?\s*[Qq][1-4]"),
    ("M", r"\d{4}-(0[1-9]|1[0-2])"),
)

#: Period offsets by the unit mllife reasons with (coarsest last).
_UNITS: tuple[tuple[str, tuple[type, ...]], ...] = (
    ("h", (pd.offsets.Hour,)),
    ("D", (pd.offsets.Day, pd.offsets.BusinessDay)),
    ("W", (pd.offsets.Week,)),
    ("M", (pd.offsets.MonthEnd, pd.offsets.MonthBegin)),
    ("Q", (pd.offsets.QuarterEnd, pd.offsets.QuarterBegin)),
    ("Y", (pd.offsets.YearEnd, pd.offsets.YearBegin)),
)


def period_unit(dtype: pd.PeriodDtype) -> str | None:
    """``"h"``, ``"D"``, ``"W"``, ``"M"``, ``"Q"`` or ``"Y"`` for a period dtype (``None`` else)."""
    freq = dtype.freq
    if getattr(freq, "n", 1) != 1:
        return None
    return next((unit for unit, kinds in _UNITS if isinstance(freq, kinds)), None)


@dataclass(frozen=True)
class TimeValues:
    """One sortable number per row, and what they came from.

    ``tz`` is the time zone of the source column (``None`` when naive), kept so
    two frames can be checked for a time-zone mismatch; ``unit`` is the period
    unit of a ``Period`` column (``"Y"``, ``"Q"``...), used for labels.
    Missing values are NaN (only with ``time_values(..., missing="keep")``).
    """

    values: np.ndarray
    is_datetime: bool
    tz: str | None = None
    unit: str | None = None

    def span(self, value: Any, *, name: str) -> float:
        """``value`` (a span) in this time's unit; ``None`` is 0."""
        return to_span(value, name=name, is_datetime=self.is_datetime)

    def label(self, number: float) -> str:
        """A readable form of one time number (for messages): ``1980``, ``2019Q1``."""
        if self.is_datetime:
            stamp = pd.Timestamp(int(number))
            if self.unit is not None:
                return str(stamp.to_period(self.unit))
            return str(stamp)
        if float(number).is_integer() and abs(number) < 2**53:
            return str(int(number))
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


def read_time(values: Any, *, column: Any = "time") -> pd.Series:
    """Time values as a Series of one of three kinds, missing values kept.

    Returns datetime64 (naive, or aware in its one time zone), ``Period``, or
    numbers, on the index of ``values`` when it is a Series. Text is parsed:
    years (``"1980"``), quarters (``"2019Q1"``, ``"2019-Q1"``) and months
    (``"2019-03"``) become periods, other ISO 8601 text becomes datetimes
    (aware when it carries offsets; in UTC when the offsets differ).
    Categorical columns are read as their categories.

    Raises
    ------
    InputError
        Naming ``column``: booleans, text that is neither periods nor ISO 8601,
        objects mixing time zones or naive and aware values, periods of
        different frequencies, or anything else that is not a time.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(s.cat.categories.dtype)
    if is_datetime(s) or isinstance(s.dtype, pd.PeriodDtype):
        return s
    if is_numeric(s):
        return s
    if not is_bool(s) and (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
        inferred = pd.api.types.infer_dtype(s, skipna=True)
        if inferred in {"datetime", "datetime64", "date"}:
            return _parse_object_datetimes(s, column)
        if inferred == "period":
            return _parse_object_periods(s, column)
        if inferred in {"integer", "floating", "mixed-integer-float"}:
            return pd.to_numeric(s)
        if inferred == "string":
            parsed = _parse_text(s)
            if parsed is not None:
                return parsed
    raise InputError(f"holds {s.dtype} values, not times", column=column, n_rows=len(s),
                     expected=TIME_HINT)


def _parse_object_datetimes(s: pd.Series, column: Any) -> pd.Series:
    parsed = parse_datetime_objects(s)  # the one reader of datetime objects (mllife._dates)
    if parsed is None:
        raise InputError(
            "mixes time zones (or naive and time-zone-aware timestamps)",
            column=column,
            n_rows=len(s),
            expected="one time zone: convert with pandas.to_datetime(values, utc=True)",
        )
    return parsed


def _parse_object_periods(s: pd.Series, column: Any) -> pd.Series:
    try:
        periods = pd.PeriodIndex(s.to_numpy(dtype=object))
    except (ValueError, TypeError):  # IncompatibleFrequency is a ValueError
        raise InputError("mixes periods of different frequencies", column=column,
                         n_rows=len(s), expected="periods of one frequency") from None
    return pd.Series(periods, index=s.index, name=s.name)


def _parse_text(s: pd.Series) -> pd.Series | None:
    """Year, quarter or month text as periods, ISO 8601 text as datetimes, else ``None``."""
    text = s.astype("string").str.strip()
    text = text.where(text.ne(""))  # blank is missing
    known = text.dropna()
    if len(known) == 0:
        return None
    for unit, pattern in _PERIOD_TEXT:
        if known.str.fullmatch(pattern).all():
            if unit == "Q":
                text = text.str.replace(r"[\s-]", "", regex=True).str.upper()
            periods = pd.PeriodIndex(text.to_numpy(dtype=object, na_value=None), freq=unit)
            return pd.Series(periods, index=s.index, name=s.name)
    for utc in (False, True):  # offsets kept; in UTC only when they differ
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                parsed = pd.to_datetime(text, format="ISO8601", utc=utc)
        except (ValueError, TypeError, OverflowError, Warning):
            continue
        if is_datetime(parsed) and int(parsed.notna().sum()) == len(known):
            return parsed.rename(s.name)
        return None
    return None


def time_values(values: Any, *, column: Any = "time", missing: str = "raise") -> TimeValues:
    """Validate time values and turn them into sortable numbers.

    Everything :func:`read_time` reads: datetimes (aware ones compared in
    UTC), periods (as the start of each period), numbers, ISO 8601 and
    quarter text. Order does not matter.

    Parameters
    ----------
    values : Series or array-like
    column : hashable
        Named in errors.
    missing : {"raise", "keep"}
        ``"keep"`` leaves missing times as NaN.

    Raises
    ------
    InputError
        Naming ``column``: missing values (NaT/NaN, with their count) unless
        kept, mixed time zones or naive and aware values together, or values
        that are not times (see :func:`read_time`).
    """
    s = read_time(values, column=column)
    unit = None
    if isinstance(s.dtype, pd.PeriodDtype):
        unit = period_unit(s.dtype)
        s = s.dt.start_time
    if is_datetime(s):
        n_missing = int(s.isna().sum())
        if n_missing and missing == "raise":
            raise InputError("has missing timestamps (NaT)", column=column, n_rows=n_missing,
                             expected="a timestamp in every row: drop or fill those rows first")
        tz = None
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            tz = str(s.dtype.tz)
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        numbers = s.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(np.float64)
        numbers[s.isna().to_numpy()] = np.nan
        return TimeValues(numbers, True, tz, unit)
    numbers = s.to_numpy(dtype=np.float64, na_value=np.nan)
    n_missing = int(np.isnan(numbers).sum())
    if n_missing and missing == "raise":
        raise InputError("has missing time values (NaN)", column=column, n_rows=n_missing,
                         expected="a time value in every row: drop or fill those rows first")
    return TimeValues(numbers, False, None)


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
