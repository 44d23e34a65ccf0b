"""What :class:`~mllife.features.AggregateFeatures` reads: its parameters, times and keys (private).

Windows and the gap become :class:`Span` values (``"all"``, a duration in
nanoseconds, or a number of time units); time columns become ``int64``
nanoseconds (UTC for zone-aware times) or ``float64`` time units; key columns
are classified so that two tables whose keys could never match (numbers
against text) are refused with both columns named.
"""

from __future__ import annotations

import datetime as _dt
import re
import warnings
from collections.abc import Hashable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import as_frame, is_bool, is_datetime, is_native, is_numeric
from ._base import _numpy_backed

__all__ = [
    "AGGREGATIONS",
    "DAY_NS",
    "MAX_LEVELS",
    "Span",
    "TimeColumn",
    "check_keys_match",
    "check_time_kinds",
    "column_list",
    "entity_codes",
    "entity_positions",
    "events_frame",
    "key_kind",
    "parse_aggregations",
    "parse_gap",
    "parse_windows",
    "read_times",
]

#: Every aggregation, in the default order.
AGGREGATIONS: tuple[str, ...] = ("count", "sum", "mean", "max", "min", "nunique",
                                 "time_since_last")
#: The most levels a ``by`` column may have (each level multiplies the output columns).
MAX_LEVELS = 100
DAY_NS = 86_400 * 10**9
_COMPACT = re.compile(r"^\d+(\.\d+)?[A-Za-z]+$")
_UNITS = (("D", DAY_NS), ("h", 3_600 * 10**9), ("min", 60 * 10**9), ("s", 10**9),
          ("ms", 10**6), ("us", 10**3), ("ns", 1))


class Span(NamedTuple):
    """A parsed window or gap: its label in feature names, its kind and its length."""

    label: str
    kind: str            # "all", "timedelta" (value in ns) or "number" (time units)
    value: float


def _duration_label(ns: int) -> str:
    for unit, size in _UNITS:
        if ns % size == 0:
            return f"{ns // size}{unit}"
    return f"{ns}ns"  # pragma: no cover - every integer is a multiple of 1 ns


def _number_label(value: float) -> str:
    return f"{value:g}"


def _span(value: Any, *, name: str, allow_all: bool) -> Span:
    """One window or gap, or an :class:`InputError` naming the parameter."""
    what = ('a duration ("7D", "12h", pd.Timedelta), "all", or a number of time units'
            if allow_all else 'a duration ("1D", "6h", pd.Timedelta) or a number of time units')
    if isinstance(value, str) and allow_all and value.strip().lower() == "all":
        return Span("all", "all", float("inf"))
    if isinstance(value, bool) or value is None:
        raise InputError(f"{name} holds {value!r}", expected=what)
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        if not np.isfinite(number):
            raise InputError(f"{name} holds {value!r}", expected=what)
        return Span(_number_label(number), "number", number)
    if isinstance(value, str | pd.Timedelta | _dt.timedelta | np.timedelta64):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # pandas deprecates some units with a warning
                delta = pd.Timedelta(value)
        except (ValueError, TypeError, OverflowError, Warning) as exc:
            raise InputError(f"{name} holds {value!r}, which is no fixed duration ({exc})",
                             expected=what + " (months and years have no fixed length)") from None
        if pd.isna(delta):
            raise InputError(f"{name} holds {value!r}", expected=what)
        ns = int(delta.value)
        text = value.strip() if isinstance(value, str) else ""
        label = text if _COMPACT.match(text) else _duration_label(abs(ns))
        return Span(label if ns >= 0 else f"-{label}", "timedelta", float(ns))
    raise InputError(f"{name} holds a {type(value).__name__}", expected=what)


def parse_windows(windows: Any) -> list[Span]:
    """The windows, checked: positive, distinct, of one kind (durations or numbers) besides ``"all"``."""
    items = [windows] if isinstance(windows, str | int | float | pd.Timedelta | _dt.timedelta
                                              | np.timedelta64) else windows
    try:
        items = list(items)
    except TypeError:
        raise InputError(f"windows={windows!r}",
                         expected='a window ("30D", "all", a number) or a sequence of them') from None
    if not items:
        raise InputError("windows is empty", expected='at least one window ("30D", "all")')
    spans = [_span(w, name="windows", allow_all=True) for w in items]
    kinds = {s.kind for s in spans} - {"all"}
    if len(kinds) > 1:
        raise InputError(f"windows={windows!r} mixes durations and numbers",
                         expected="durations for datetime times, numbers for numeric times")
    for s in spans:
        if s.kind != "all" and s.value <= 0:
            raise InputError(f"windows holds {s.label}", expected="positive windows")
    labels = [s.label for s in spans]
    values = [(s.kind, s.value) for s in spans]
    if len(set(labels)) != len(labels) or len(set(values)) != len(values):
        raise InputError(f"windows={windows!r} repeats a window", expected="distinct windows")
    return spans


def parse_gap(gap: Any, windows: list[Span]) -> Span:
    """The gap (0 when None), checked against the windows: ``0 <= gap < every window``."""
    if gap is None or (not isinstance(gap, bool) and isinstance(gap, int | float) and gap == 0):
        kinds = {s.kind for s in windows} - {"all"}
        return Span("0", kinds.pop() if kinds else "number", 0.0)
    span = _span(gap, name="gap", allow_all=False)
    if span.value < 0:
        raise InputError(f"gap={gap!r} is negative", expected="a gap >= 0 (the data latency)")
    for w in windows:
        if w.kind == "all":
            continue
        if w.kind != span.kind:
            raise InputError(f"gap={gap!r} is a {'number' if span.kind == 'number' else 'duration'}"
                             f" and the windows are {'numbers' if w.kind == 'number' else 'durations'}",
                             expected="a gap of the same kind as the windows")
        if span.value >= w.value:
            raise InputError(f"gap={gap!r} is not shorter than the window {w.label}, which would "
                             "always be empty", expected="a gap shorter than every window")
    return span


def parse_aggregations(aggregations: Any) -> list[str]:
    """The aggregations, checked: known names, each once, at least one."""
    items = [aggregations] if isinstance(aggregations, str) else aggregations
    try:
        items = list(items)
    except TypeError:
        raise InputError(f"aggregations={aggregations!r}",
                         expected=f"some of {list(AGGREGATIONS)}") from None
    unknown = [a for a in items if not isinstance(a, str) or a not in AGGREGATIONS]
    if unknown:
        raise InputError(f"unknown aggregations {unknown!r}", expected=f"some of {list(AGGREGATIONS)}")
    if not items or len(set(items)) != len(items):
        raise InputError(f"aggregations={aggregations!r}",
                         expected=f"each of {list(AGGREGATIONS)} at most once, at least one")
    return items


def events_frame(events: Any) -> pd.DataFrame:
    """The event table as a pandas DataFrame (never copied when it is one)."""
    if isinstance(events, pd.DataFrame) or is_native(events):
        frame = as_frame(events, name="events")
        return _numpy_backed(frame)
    raise InputError(f"events is a {type(events).__name__}",
                     expected="the event table: a pandas or polars DataFrame, or a pyarrow Table")


class TimeColumn(NamedTuple):
    """A time column read as numbers: values, validity, kind, and nanoseconds per tick."""

    values: np.ndarray   # int64 ticks (datetimes), int64 or float64 time units (numbers)
    valid: np.ndarray
    kind: str            # "naive", "aware" or "number"
    tick: int = 1        # nanoseconds per tick of a datetime column (1 for numbers)


def read_times(s: pd.Series, column: Hashable, table: str, *, native: bool = False) -> TimeColumn:
    """A datetime or numeric time column as numbers; text, dates as objects, infinities refused.

    Datetimes become ``int64`` nanoseconds (UTC for zone-aware ones), or,
    with ``native``, ticks of the column's own unit (no conversion: a
    second-resolution column stays in seconds, read without a copy).
    """
    if is_datetime(s):
        aware = isinstance(s.dtype, pd.DatetimeTZDtype)
        if aware:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        if not native:
            try:
                s = s.dt.as_unit("ns")
            except (pd.errors.OutOfBoundsDatetime, OverflowError, ValueError):
                raise InputError(f"holds dates outside the years 1677-2262 ({table})",
                                 column=column, expected="dates that nanoseconds can hold") from None
        raw = s.to_numpy()
        unit, count = np.datetime_data(raw.dtype)
        tick = int(pd.Timedelta(count, unit=unit).value)  # nanoseconds per tick
        values = raw.view(np.int64)
        valid = values != np.iinfo(np.int64).min  # NaT
        return TimeColumn(values, valid, "aware" if aware else "naive", tick)
    if (pd.api.types.is_integer_dtype(s.dtype) and not is_bool(s)
            and (s.dtype.kind == "i" or s.max() <= np.iinfo(np.int64).max)):
        # Integers stay int64: float64 would merge times beyond 2**53 (epoch nanoseconds).
        return TimeColumn(s.to_numpy(dtype=np.int64, na_value=0), s.notna().to_numpy(),
                          "number")
    if is_numeric(s) or (s.dtype == object and pd.api.types.infer_dtype(s, skipna=True)
                         in {"integer", "floating", "mixed-integer-float", "empty"}):
        try:
            values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            raise InputError(f"holds values that are not times ({table})", column=column,
                             expected="datetimes or numbers") from None
        infinite = np.isinf(values)
        if infinite.any():
            raise InputError(f"holds infinite times ({table})", column=column,
                             n_rows=int(infinite.sum()), expected="finite times or missing values")
        return TimeColumn(values, ~np.isnan(values), "number")
    what = "booleans" if is_bool(s) else f"{s.dtype} values"
    raise InputError(f"holds {what}, not times ({table})", column=column,
                     expected="datetime64 times or numbers (parse text with DatetimeParser "
                              "or pd.to_datetime first)")


def key_kind(s: pd.Series) -> str | None:
    """``"number"``, ``"text"``, ``"datetime"``, or None when it cannot be told (mixed, empty)."""
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return key_kind(pd.Series(s.cat.categories))
    if is_bool(s) or is_numeric(s):
        return "number"
    if is_datetime(s):
        return "datetime"
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return "text"
    inferred = pd.api.types.infer_dtype(s, skipna=True)
    if inferred in {"integer", "floating", "mixed-integer-float", "decimal", "boolean"}:
        return "number"
    if inferred == "string":
        return "text"
    if inferred in {"datetime", "datetime64"}:
        return "datetime"
    return None


def check_keys_match(x_keys: pd.Series, event_keys: pd.Series, key: Hashable) -> None:
    """Refuse keys that could never match: numbers in one table, text in the other."""
    a, b = key_kind(x_keys), key_kind(event_keys)
    if a is not None and b is not None and a != b:
        raise InputError(f"holds {a} keys ({x_keys.dtype}) in X but {b} keys "
                         f"({event_keys.dtype}) in events, so no row would match an event",
                         column=key, expected="the same kind of key in both tables "
                                              "(convert one with astype)")


def check_time_kinds(x: TimeColumn, events: TimeColumn, cutoff_col: Hashable,
                     time_col: Hashable) -> None:
    """Refuse comparing naive with zone-aware times, or datetimes with numbers."""
    if x.kind == events.kind:
        return
    names = {"naive": "naive datetimes (no time zone)", "aware": "time-zone aware datetimes",
             "number": "numbers"}
    raise InputError(f"X[{cutoff_col!r}] holds {names[x.kind]} but events[{time_col!r}] holds "
                     f"{names[events.kind]}", column=cutoff_col,
                     expected="cutoffs and event times of the same kind (tz_localize / "
                              "tz_convert one of them)")


def column_list(columns: Any, name: str) -> list[Any] | None:
    """``columns`` as a list (a single name allowed), None kept."""
    if columns is None:
        return None
    if isinstance(columns, str):
        return [columns]
    if isinstance(columns, Sequence | pd.Index | np.ndarray):
        return list(columns)
    raise InputError(f"{name}={columns!r}", expected="a column name or a list of them")


def entity_codes(keys: pd.Series) -> tuple[np.ndarray, tuple[Any, ...]]:
    """Per event, its entity code (-1: missing key), and how to find a key's code again.

    Integer keys in a range at most twice the number of events are their own
    codes (``key - smallest``: no hashing); others are factorised.
    """
    n = len(keys)
    if n and isinstance(keys.dtype, np.dtype) and keys.dtype.kind == "i":  # no Int64 <NA>
        values = keys.to_numpy()
        low, high = int(values.min()), int(values.max())
        if high - low < max(2 * n, 1024):
            # (with low == 0 the codes may share the key column's memory: nothing writes to them)
            codes = values - np.int64(low) if low else values.astype(np.int64, copy=False)
            return codes, ("range", low, high - low + 1)
    try:
        codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    except TypeError as exc:  # unhashable keys
        raise InputError(f"holds keys that cannot be compared ({exc})", column=keys.name,
                         expected="numbers or text") from None
    return codes.astype(np.int64), ("table", np.asarray(uniques))


def _integer_keys(keys: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Integer keys (numpy, nullable, or Python ints in an object column) as ``int64``
    and where they are usable (present and within ``int64``); None for other keys."""
    if keys.dtype == object:
        keys = pd.to_numeric(keys, errors="coerce", dtype_backend="numpy_nullable")
    if is_bool(keys) or not pd.api.types.is_integer_dtype(keys.dtype):
        return None
    missing = keys.isna().to_numpy()
    if keys.dtype.kind == "u":
        raw = keys.to_numpy(dtype=np.uint64, na_value=0)
        usable = ~missing & (raw <= np.iinfo(np.int64).max)
        return np.where(usable, raw, 0).astype(np.int64), usable
    return keys.to_numpy(dtype=np.int64, na_value=0), ~missing


def entity_positions(keys: pd.Series, found: tuple[Any, ...]) -> np.ndarray:
    """Per row, the entity code of its key (-1: missing or absent from the events)."""
    if found[0] == "range":
        low, n = found[1], found[2]
        integers = _integer_keys(keys)
        if integers is not None:  # exact: no float64 on the way (keys beyond 2**53)
            values, usable = integers
            inside = usable & (values >= low) & (values <= low + n - 1)
            return np.where(inside, np.where(inside, values, low) - np.int64(low), -1)
        if is_numeric(keys) or is_bool(keys):
            numbers = keys.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            numbers = pd.to_numeric(keys, errors="coerce").to_numpy(dtype=np.float64,
                                                                    na_value=np.nan)
        with np.errstate(invalid="ignore"):
            inside = (numbers >= low) & (numbers < low + n) & (numbers == np.floor(numbers))
        return np.where(inside, np.where(inside, numbers, low) - low, -1).astype(np.int64)
    try:  # an Index, not to_numpy(): Int64 keys with <NA> would become float64
        return np.asarray(pd.Index(found[1]).get_indexer(pd.Index(keys)), dtype=np.int64)
    except TypeError as exc:  # unhashable keys
        raise InputError(f"holds keys that cannot be looked up ({exc})", column=keys.name,
                         expected="numbers or text") from None
