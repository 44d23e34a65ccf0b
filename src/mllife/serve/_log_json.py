"""JSON values of a ``PredictionLog`` record: frame columns as JSON-safe lists (private).

Column-wise and vectorised for the usual dtypes (numbers, text, booleans,
categories, date-times, durations, nullable and Arrow arrays); any other value
one at a time through :func:`_cell`, which never raises and never uses ``repr``.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from itertools import chain, islice
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError

MAX_LINE_BYTES = 64 * 2**20  # a longer line is skipped without being parsed
MAX_ROWS, MAX_COLUMNS, MAX_TEXT = 10_000_000, 10_000, 4_096  # bounds of a record
_NS_PER = {"ms": 10**6, "us": 10**3, "ns": 1}


def _datetime_text(a: np.ndarray, *, utc: bool) -> list[Any]:
    """ISO 8601 text of a datetime64 array: seconds, micro- or nanoseconds as the values
    need (as ``Timestamp.isoformat``); ``Z`` for UTC (tz-aware input), naive stays naive."""
    nat = np.isnat(a)
    unit = np.datetime_data(a.dtype)[0]
    shown: Any = "s"
    if unit in _NS_PER:
        ticks = a.view(np.int64)[~nat]
        per_second = 10**9 // _NS_PER[unit]
        if (ticks % per_second).any():
            per_us = max(per_second // 10**6, 1)
            shown = "us" if unit == "ms" or not (ticks % per_us).any() else unit
    return _none_at(np.datetime_as_string(a, unit=shown, timezone="UTC" if utc else "naive"),
                    nat)


def _timedelta_text(a: np.ndarray) -> list[Any]:
    """ISO 8601 durations (``P1DT2H3M4.5S``, ``-P0DT0H0M1S``), which ``pd.to_timedelta`` reads."""
    nat = np.isnat(a)
    ns = a.astype("m8[ns]").view(np.int64)
    rest = np.abs(np.where(nat, 0, ns))
    text: Any = np.where(ns < 0, "-P", "P")
    for size, unit in ((86_400 * 10**9, "DT"), (3_600 * 10**9, "H"), (60 * 10**9, "M")):
        whole, rest = np.divmod(rest, size)
        text = np.strings.add(np.strings.add(text, whole.astype(str)), unit)
    seconds, frac = np.divmod(rest, 10**9)
    digits = np.strings.rstrip(np.strings.zfill(frac.astype(str), 9), "0")
    text = np.strings.add(text, seconds.astype(str))
    text = np.strings.add(np.strings.add(text, np.where(frac > 0, ".", "")), digits)
    return _none_at(np.strings.add(text, "S"), nat)


def _cell(x: Any) -> Any:
    """One value as a JSON scalar, or None: never raises, never a ``repr``."""
    try:
        if x is None or x is pd.NA or x is pd.NaT:
            return None
        if isinstance(x, str | bool):
            return x
        if isinstance(x, np.bool_):
            return bool(x)
        if isinstance(x, int | np.integer):
            return int(x)
        if isinstance(x, float | np.floating | Decimal):
            value = float(x)
            return value if math.isfinite(value) else None
        if isinstance(x, bytes | bytearray | memoryview):
            return bytes(x)[:MAX_LINE_BYTES // 4].decode("utf-8", "replace")
        if isinstance(x, datetime | np.datetime64):
            ts = pd.Timestamp(x)
            if ts is pd.NaT:
                return None
            if ts.tzinfo is not None:
                return ts.tz_convert("UTC").tz_localize(None).isoformat() + "Z"
            return ts.isoformat()
        if isinstance(x, date | dtime):
            return x.isoformat()
        if isinstance(x, timedelta | np.timedelta64):
            value = pd.Timedelta(x)
            return None if value is pd.NaT else _timedelta_text(
                np.array([value.value], dtype="m8[ns]"))[0]
    except Exception:  # an odd value never fails a request: it is logged as missing
        return None
    return None


_cells_of = np.frompyfunc(_cell, 1, 1)


def _none_at(values: np.ndarray, missing: np.ndarray) -> list[Any]:
    """``values`` as a list, None where ``missing``."""
    if not missing.any():
        return values.tolist()
    out = values.astype(object)
    out[missing] = None
    return out.tolist()


def _object_cells(a: np.ndarray) -> list[Any]:
    """JSON values of an object array: vectorised for text, numbers and booleans; other
    values (date-times, bytes, objects) one by one through :func:`_cell`."""
    kind = pd.api.types.infer_dtype(a, skipna=True)
    numeric = kind in ("floating", "mixed-integer-float")
    if not numeric and kind not in ("string", "empty", "integer", "boolean"):
        return _cells_of(a).tolist()
    missing = pd.isna(a)
    if numeric:
        try:
            missing = ~np.isfinite(np.where(missing, np.nan, a).astype(np.float64))
        except (TypeError, ValueError, OverflowError):  # huge integers, odd floats
            return _cells_of(a).tolist()
    return _none_at(a, missing)  # numpy scalars left are converted by json's default hook


def _numpy_cells(a: np.ndarray) -> list[Any]:
    kind = a.dtype.kind
    if kind in "biuU":
        return a.tolist()
    if kind == "f":
        finite = np.isfinite(a)
        return a.tolist() if finite.all() else _none_at(a, ~finite)
    if kind == "M":
        return _datetime_text(a, utc=False)
    if kind == "m":
        return _timedelta_text(a)
    if kind == "O":
        return _object_cells(a)
    return _cells_of(a.astype(object)).tolist() if kind == "S" else [None] * len(a)


def _array_cells(arr: Any) -> list[Any]:
    """One column (a numpy or pandas array) as a list of JSON values, missing as None."""
    if isinstance(arr, np.ndarray):
        return _numpy_cells(arr)
    dtype = arr.dtype
    if isinstance(arr, pd.Categorical):
        codes, cats = np.asarray(arr.codes), arr.categories.array
        if len(cats) > max(64, len(codes)):  # many categories, few rows: only those used
            cats = cats.take(np.maximum(codes, 0))
            codes = np.where(codes < 0, -1, np.arange(len(codes)))
        values = np.fromiter(chain(_array_cells(cats), [None]), dtype=object, count=len(cats) + 1)
        return values[codes].tolist()  # code -1 (missing): the None at the end
    if isinstance(dtype, pd.DatetimeTZDtype):
        return _datetime_text(np.asarray(arr.tz_convert(None)), utc=True)
    if isinstance(dtype, pd.StringDtype):  # text: str or missing, nothing to check
        return arr.to_numpy(dtype=object, na_value=None).tolist()
    if isinstance(dtype, np.dtype):  # DatetimeArray, TimedeltaArray, NumpyExtensionArray
        return _numpy_cells(np.asarray(arr))
    kind = getattr(dtype, "kind", "O")
    missing = np.asarray(arr.isna(), dtype=bool)
    if kind in "iu":
        base = arr.to_numpy(dtype=np.int64 if kind == "i" else np.uint64, na_value=0)
    elif kind == "f":
        base = arr.to_numpy(dtype=np.float64, na_value=np.nan)
    elif kind == "b":
        base = arr.to_numpy(dtype=bool, na_value=False)
    else:
        base = arr.to_numpy(dtype=object)
    cells = _numpy_cells(np.asarray(base))
    if not missing.any():
        return cells
    return _none_at(np.fromiter(cells, dtype=object, count=len(missing)), missing)


def _column_arrays(frame: pd.DataFrame) -> list[Any]:
    """The column arrays without a Series per column (~10 µs each on pandas 3): pandas'
    private ``_iter_column_arrays`` (since 1.3), the public path as the fallback."""
    try:
        arrays = list(frame._iter_column_arrays())
    except Exception:
        arrays = []
    if len(arrays) == frame.shape[1]:
        return arrays
    return [frame.iloc[:, i].array for i in range(frame.shape[1])]


def _columns_json(frame: pd.DataFrame, *, drop: tuple[str, ...] = ()) -> dict[str, list[Any]]:
    """``{column name: values}`` of a frame, JSON-safe; never raises on a value (a column
    name read() would refuse raises :class:`~mllife.InputError`)."""
    out: dict[str, list[Any]] = {}
    n = len(frame)
    for name, arr in zip(frame.columns.tolist(), _column_arrays(frame), strict=True):
        key, values = (name if isinstance(name, str) else str(name)), []
        if key in out or key in drop:
            continue
        if not _valid_text(key):  # read() would drop the whole record: refused here
            raise InputError(f"a column name of {len(key):_} characters, or not UTF-8",
                             expected=f"column names of <= {MAX_TEXT} characters")
        try:
            values = _array_cells(arr)
        except Exception:  # an exotic column: one value at a time, else missing
            with contextlib.suppress(Exception):
                values = _cells_of(np.asarray(arr, dtype=object)).tolist()
        out[key] = values if len(values) == n else [None] * n
    return out


def _note(note: Any) -> dict[str, Any]:
    """A schema note as JSON: string keys, scalars and lists of scalars (row positions)."""
    if not isinstance(note, Mapping):
        raise InputError(f"a note is a {type(note).__name__}",
                         expected="mappings with column, problem, count, rows")
    out: dict[str, Any] = {}
    for key, value in note.items():
        if isinstance(value, list | tuple | np.ndarray | pd.Index | pd.Series):
            items = np.fromiter(islice(value, MAX_ROWS), dtype=object,
                                count=min(len(value), MAX_ROWS))
            out[str(key)] = _object_cells(items)  # row positions: a vectorised path
        else:
            out[str(key)] = _cell(value)
    return out


def _valid_text(value: Any) -> bool:
    if type(value) is not str or len(value) > MAX_TEXT:
        return False
    try:
        return value.isascii() or bool(value.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates
        return False
