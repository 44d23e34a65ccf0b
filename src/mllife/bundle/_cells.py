"""Turning a request into a frame, and classifying the cells of object columns.

These helpers are the only places that look at individual cells, and they do
so through pandas' vectorised ``map`` over the *distinct Python types* of a
column, never through a Python loop over rows.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from .._errors import SchemaError
from .._frame import from_native, is_native

#: Cell classes returned by :func:`classify`. Numbers come in three classes, all
#: named "number": binary floats (``NUMBER``), integers (``INTEGER``, exact at any
#: size) and other numbers (``OTHER_NUMBER``: ``Decimal``, ``numpy.longdouble``),
#: which are converted one by one (see ``_numbers``).
NULL, NUMBER, BOOL, TEXT, NESTED, DATETIME, OTHER, INTEGER, OTHER_NUMBER, BYTES, COMPLEX = range(11)
CLASS_NAMES = ("missing", "number", "boolean", "text", "nested object", "datetime", "other",
               "number", "number", "bytes", "complex number")
#: Every class of numbers.
NUMBERS = (NUMBER, INTEGER, OTHER_NUMBER)

#: How many example row positions a problem carries at most.
MAX_EXAMPLES = 5
#: Column names longer than this are shortened in problems and messages.
MAX_NAME_LENGTH = 80

_NOT_A_TABLE = "a DataFrame, a dict (one row), a list of dicts (rows) or a 2-D numpy array"


def short_name(name: Any) -> Any:
    """``name`` itself, or a shortened ``str`` when it is a very long string."""
    if isinstance(name, str) and len(name) > MAX_NAME_LENGTH:
        return name[: MAX_NAME_LENGTH - 3] + "..."
    if isinstance(name, int) and not isinstance(name, bool) and name.bit_length() > 64:
        return f"<a {name.bit_length()}-bit integer>"  # a huge key: no 10,000-digit name
    if not isinstance(name, str | int | float | bool) and name is not None:
        text = label_text(name, repr)
        return text if len(text) <= MAX_NAME_LENGTH else text[: MAX_NAME_LENGTH - 3] + "..."
    return name


def label_text(label: Any, to_text: Any = str) -> str:
    """``str(label)`` (or ``to_text``), or a placeholder when that fails.

    A hostile column label (a tuple nested 10,000 levels deep, an integer with
    10,000 digits) cannot be printed: it becomes ``<unprintable tuple>``, which
    matches no contract column.
    """
    if isinstance(label, str):
        return label
    try:
        return str(to_text(label))
    except (RecursionError, ValueError, TypeError, MemoryError):
        return f"<unprintable {type(label).__name__}>"


def examples(mask: np.ndarray) -> list[int]:
    """The first :data:`MAX_EXAMPLES` row positions where ``mask`` is true."""
    return [int(i) for i in np.flatnonzero(mask)[:MAX_EXAMPLES]]


def problem(column: Any, what: str, mask: np.ndarray | None = None, *, count: int | None = None,
            expected: str | None = None, **extra: Any) -> dict[str, Any]:
    """One structured problem: column, problem, count, example rows, expected."""
    out: dict[str, Any] = {"column": short_name(column), "problem": what}
    if mask is not None:
        out["count"] = int(np.count_nonzero(mask))
        out["rows"] = examples(mask)
    else:
        out["count"] = count
    if expected is not None:
        out["expected"] = expected
    out.update(extra)
    return out


def _not_a_table(kind: str) -> SchemaError:
    return SchemaError(
        [{"column": None, "problem": f"input is {kind}, not a table", "count": None,
          "expected": _NOT_A_TABLE}]
    )


def to_frame(X: Any) -> pd.DataFrame:
    """The request as a DataFrame: a frame as is, a dict as one row, a list of dicts as rows.

    A 2-D numpy array becomes a frame with columns ``"0"``, ``"1"``, ...

    Raises
    ------
    SchemaError
        For anything else (arrays, scalars, lists of non-dicts), naming what
        was given, and for an empty request.
    """
    if is_native(X):  # polars / pyarrow: one conversion, then checked as pandas
        X = from_native(X, name="X")
    if isinstance(X, pd.DataFrame):
        frame = X
    elif isinstance(X, Mapping):
        try:
            frame = _rows_frame([X], pd.DataFrame)
        except Exception as exc:  # a dict pandas cannot hold: report, never crash
            raise _not_a_table(f"an unreadable dict ({type(exc).__name__})") from None
    elif isinstance(X, np.ndarray) and X.ndim == 2:
        # A model trained on a numpy array: columns are named "0", "1", ... (as
        # ``InputSchema.infer`` names the columns of ``pd.DataFrame(array)``).
        frame = pd.DataFrame(X, columns=[str(i) for i in range(X.shape[1])])
    elif isinstance(X, list | tuple):
        if not all(isinstance(row, Mapping) for row in X):
            raise _not_a_table("a list whose items are not all dicts")
        try:
            frame = _keep_big_integers(_rows_frame(list(X), pd.DataFrame.from_records), X) \
                if X else pd.DataFrame()
        except Exception as exc:
            raise _not_a_table(f"an unreadable list of dicts ({type(exc).__name__})") from None
    else:
        raise _not_a_table(f"a {type(X).__name__}")
    if len(frame) == 0:
        raise SchemaError([{"column": None, "problem": "empty input", "count": 0,
                            "expected": "at least one row"}])
    return frame


def _rows_frame(rows: list[Any], build: Callable[[list[Any]], pd.DataFrame]) -> pd.DataFrame:
    """``build(rows)``, or, when pandas cannot type a column, that column as Python objects.

    pandas 2 raises ``OverflowError`` for a whole request holding an integer beyond
    float64 (``10**400``), where pandas 3 keeps it as an object: the checks then
    report that value in its column, as for any other input form. Rare: each
    column is typed again from the rows, as pandas would, and kept as objects
    where pandas cannot.
    """
    try:
        return build(rows)
    except OverflowError:
        pass
    names = list(dict.fromkeys(name for row in rows for name in row))
    frame = pd.DataFrame(index=pd.RangeIndex(len(rows)),
                         columns=pd.Index(names, dtype=object, tupleize_cols=False))
    for i, name in enumerate(names):
        cells = [row.get(name, np.nan) for row in rows]
        try:
            column = pd.Series(cells, index=frame.index)
        except OverflowError:
            column = pd.Series(cells, index=frame.index, dtype=object)
        frame.isetitem(i, column)
    return frame


def _keep_big_integers(frame: pd.DataFrame, rows: Any) -> pd.DataFrame:
    """Rebuild, as Python objects, the float columns pandas may have rounded.

    pandas reads the rows ``[{"x": 2**53 + 1}, {"x": None}]`` as a float64
    column, which rounds the integer: a float column holding values of at
    least ``2**53`` in magnitude is read again from the rows, so that the
    checks see the request's own values (and refuse what no dtype holds). Rare,
    and the rows are Python objects already: read them again, as pandas did.
    """
    for i, dtype in enumerate(frame.dtypes):
        if dtype != np.float64:
            continue
        name, values = frame.columns[i], frame.iloc[:, i].to_numpy()
        with np.errstate(invalid="ignore"):
            if not (np.isfinite(values) & (np.abs(values) >= 2.0**53)).any():
                continue
        cells = [row.get(name) for row in rows]
        if any(map(_is_big_integer, cells)):
            frame.isetitem(i, pd.Series(cells, index=frame.index, dtype=object))
    return frame


def _is_big_integer(v: Any) -> bool:
    return isinstance(v, int | np.integer) and not isinstance(v, bool) and abs(int(v)) > 2**53


#: Binary floats that float64 holds exactly (``numpy.float64`` is a ``float``).
_FLOAT_TYPES: tuple[type, ...] = (float, np.float32, np.float16)
_NESTED_TYPES: tuple[type, ...] = (dict, list, tuple, set, frozenset, np.ndarray, pd.Series,
                                   pd.DataFrame, Mapping)
_BYTES_TYPES: tuple[type, ...] = (bytes, bytearray, memoryview)
_DATETIME_TYPES: tuple[type, ...] = (_dt.datetime, _dt.date, np.datetime64, pd.Timestamp)
#: Durations are no numbers (``numpy.timedelta64`` subclasses ``numpy.integer``).
_DURATION_TYPES: tuple[type, ...] = (_dt.timedelta, np.timedelta64)


def _class_of_type(t: type) -> int:
    if issubclass(t, bool | np.bool_):
        return BOOL
    if issubclass(t, str):
        return TEXT
    if issubclass(t, _DURATION_TYPES):
        return OTHER
    if issubclass(t, complex | np.complexfloating):
        return COMPLEX  # never missing, even when pandas sees a NaN part
    if issubclass(t, _FLOAT_TYPES):
        return NUMBER
    if issubclass(t, int | np.integer):
        return INTEGER
    if issubclass(t, Decimal | np.floating):
        return OTHER_NUMBER
    if issubclass(t, _DATETIME_TYPES):
        return DATETIME
    if issubclass(t, _BYTES_TYPES):
        return BYTES
    if issubclass(t, _NESTED_TYPES):
        return NESTED
    return OTHER


def classify(s: pd.Series) -> np.ndarray:
    """One cell class per row (:data:`NULL`, :data:`NUMBER`, ...), vectorised by type."""
    values = s.to_numpy(dtype=object)
    types = pd.Series(values, dtype=object).map(type)
    lookup = {t: _class_of_type(t) for t in pd.unique(types.to_numpy())}
    codes = types.map(lookup).to_numpy(dtype=np.int8)
    scalar = (codes != NESTED) & (codes != COMPLEX)
    if any(issubclass(t, Decimal) for t in lookup):
        # Decimal NaN (a signaling one raises on any comparison) is no number.
        decimals = (types.map(lambda t: issubclass(t, Decimal))).to_numpy(dtype=bool)
        nan = pd.Series(values[decimals], dtype=object).map(lambda d: d.is_nan())
        codes[np.flatnonzero(decimals)[nan.to_numpy(dtype=bool)]] = OTHER
        scalar &= ~decimals
    if scalar.any():
        nulls = np.zeros(len(values), dtype=bool)
        nulls[scalar] = pd.isna(values[scalar])
        codes[nulls] = NULL
    return codes


def arrow_strings(s: pd.Series) -> Any:
    """The pyarrow array behind a column of arrow-backed text, else None.

    pandas' ``str`` and ``string[pyarrow]`` dtypes, and ``ArrowDtype`` of
    ``string`` / ``large_string``, hold their cells in one pyarrow array
    (text or null, nothing else): checks then run in pyarrow, without a
    Python object per cell. pyarrow is already imported when such a column
    exists.
    """
    dtype = s.dtype
    if isinstance(dtype, pd.StringDtype):
        if dtype.storage not in {"pyarrow", "pyarrow_numpy"}:
            return None
    elif isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        if not (pa.types.is_string(dtype.pyarrow_dtype)
                or pa.types.is_large_string(dtype.pyarrow_dtype)):
            return None
    else:
        return None
    return s.array.__arrow_array__()


def string_lengths(s: pd.Series) -> np.ndarray:
    """Length of each string cell, 0 for everything else."""
    lengths = s.str.len() if s.dtype != object else s.map(
        lambda v: len(v) if isinstance(v, str) else 0)
    return pd.to_numeric(lengths, errors="coerce").fillna(0).to_numpy(dtype=np.int64)
