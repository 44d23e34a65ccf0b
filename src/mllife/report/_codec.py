"""Typed JSON for report fields: what ``Report.to_dict()["fields"]`` holds and ``from_dict`` reads.

:func:`~mllife.report.jsonable` renders a value for people and tools: NaN
becomes ``null``, a DataFrame a list of records. :func:`encode` keeps what a
report needs to be rebuilt: a DataFrame keeps its columns, dtypes and index,
an array its dtype and shape, a float its NaN. A typed value is a JSON object
with one key naming its type (``{"$frame": ...}``); a frame whose records are
already in the report's ``tables`` (or an extra key) points at them instead of
repeating them, and so does a mapping equal to the extra of its name
(``{"$ref": "distributions"}``).

:func:`decode` reads that back from untrusted JSON: it accepts JSON types only,
checks every typed value's shape, bounds nesting and size, builds dtypes from
an allow-list and never evaluates or imports anything.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._compat import PANDAS_GE_3
from .._errors import InputError, MllifeError
from ._json import jsonable

#: Deepest nesting :func:`decode` follows.
MAX_DEPTH = 64
#: Most values (cells, items) :func:`decode` builds from one dict.
MAX_ITEMS = 50_000_000
_DTYPE_TEXT = re.compile(r"^[A-Za-z0-9_\[\]\(\), :/+\-.=]{1,64}$")
#: numpy dtype kinds rebuilt as themselves (others, such as fixed-width text, become object).
_NUMPY_KINDS = frozenset("biufmM")
#: The cells a numeric column may hold, by dtype kind (anything else keeps the column object).
_CELLS = {"b": (bool,), "i": (int,), "u": (int,), "f": (int, float, type(None))}
#: What pandas and numpy raise on values they cannot build a typed value from.
_BUILD_ERRORS = (TypeError, ValueError, IndexError, KeyError, OverflowError, AttributeError)
#: An ISO 8601 timestamp starts with its year (``pd.Timestamp("now")`` would read the clock).
_ISO_START = re.compile(r"^[+-]?\d")

#: A candidate for a reference: where the records live, and the records.
Candidates = Sequence[tuple[dict[str, str], Any]]


# ---------------------------------------------------------------------- encoding
def dtype_spec(dtype: Any) -> Any:
    """A dtype as JSON: its name, or the categories of a categorical dtype."""
    if isinstance(dtype, pd.CategoricalDtype):
        return {"name": "category", "categories": jsonable(list(dtype.categories)),
                "ordered": bool(dtype.ordered)}
    return str(dtype)


def _index_spec(index: pd.Index) -> dict[str, Any] | None:
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return None
    if isinstance(index, pd.MultiIndex):
        return {"multi": True, "names": jsonable(list(index.names)),
                "values": jsonable(index.tolist())}
    return {"dtype": dtype_spec(index.dtype), "name": jsonable(index.name),
            "values": jsonable(index.tolist())}


def _frame_spec(frame: pd.DataFrame, candidates: Candidates) -> dict[str, Any]:
    columns = list(frame.columns)
    spec: dict[str, Any] = {"columns": jsonable(columns),
                            "dtypes": [dtype_spec(t) for t in frame.dtypes]}
    if isinstance(frame.columns, pd.MultiIndex):
        spec["multi_columns"] = True
    index = _index_spec(frame.index)
    if index is not None:
        spec["index"] = index
    typed = {str(i): [encode(v) for v in frame.iloc[:, i].tolist()]
             for i in range(frame.shape[1]) if _lossy(frame.iloc[:, i])}
    if typed:
        spec["typed"] = typed
    if all(isinstance(c, str) for c in columns) and len(set(columns)) == len(columns):
        records = jsonable(frame)
        for where, candidate in candidates:
            if isinstance(candidate, list) and len(candidate) == len(records) \
                    and candidate == records:
                spec.update(where)
                return spec
    spec["data"] = [None if str(i) in typed else jsonable(frame.iloc[:, i].tolist())
                    for i in range(frame.shape[1])]
    return spec


#: Cell types that :func:`jsonable` writes as they are.
_PLAIN = (str, bool, int, type(None), list, dict)


def _lossy(column: pd.Series) -> bool:
    """Whether :func:`jsonable` loses what a column's dtype cannot restore (inf, NaN in text,
    timestamps among objects): such a column is written cell by cell with :func:`encode`."""
    if pd.api.types.is_float_dtype(column.dtype):
        values = column.to_numpy(dtype=float, na_value=np.nan)
        return bool(np.isinf(values).any())
    if column.dtype == object:
        return not all(isinstance(v, _PLAIN) or (isinstance(v, float) and math.isfinite(v))
                       for v in column.tolist())
    return False


def encode(value: Any, candidates: Candidates = ()) -> Any:
    """``value`` as typed JSON that :func:`decode` turns back into an equal value.

    Examples
    --------
    >>> import numpy as np
    >>> encode({"n": np.int64(3), "score": float("nan"), "ids": (1, 2)})
    {'n': 3, 'score': {'$float': 'nan'}, 'ids': [1, 2]}
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isfinite(number):
            return number
        return {"$float": "nan" if math.isnan(number) else ("inf" if number > 0 else "-inf")}
    if isinstance(value, pd.DataFrame):
        return {"$frame": _frame_spec(value, candidates)}
    if isinstance(value, pd.Series):
        spec = {"name": jsonable(value.name), "dtype": dtype_spec(value.dtype),
                "data": jsonable(value.tolist())}
        index = _index_spec(value.index)
        if index is not None:
            spec["index"] = index
        return {"$series": spec}
    if isinstance(value, np.ndarray):
        return {"$array": {"dtype": dtype_spec(value.dtype), "shape": list(value.shape),
                           "data": jsonable(value.ravel().tolist())}}
    if value is pd.NaT:
        return {"$timestamp": None}
    if isinstance(value, pd.Timestamp | _dt.datetime | np.datetime64):
        stamp = pd.Timestamp(value)
        if stamp.tz is not None:   # the zone's name, not only its offset
            return {"$timestamp": [stamp.isoformat(), str(stamp.tz)]}
        return {"$timestamp": stamp.isoformat()}
    if isinstance(value, _dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, pd.Timedelta | _dt.timedelta | np.timedelta64):
        return {"$timedelta": pd.Timedelta(value).isoformat()}
    if isinstance(value, Mapping):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v, candidates) for k, v in value.items()}
        return {"$items": [[encode(k), encode(v, candidates)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [encode(v, candidates) for v in value]
    return jsonable(value)


# ---------------------------------------------------------------------- decoding
class Decoder:
    """Reads typed JSON back, within bounds; ``lookup`` resolves references to records."""

    def __init__(self, lookup: Callable[[Mapping[str, Any]], Any], *, where: str = "fields",
                 max_items: int = MAX_ITEMS) -> None:
        self.lookup = lookup
        self.where = where
        self.budget = max_items
        self.max_items = max_items
        self.referenced: set[str] = set()   # each $ref is used once, as a whole field
        self.in_reference = False

    def fail(self, what: str, expected: str) -> InputError:
        return InputError(f"{self.where}: {what}", expected=expected)

    def _spend(self, n: int) -> None:
        self.budget -= n
        if self.budget < 0:
            raise self.fail("too many values", f"at most {self.max_items:,} values in one "
                            "report (and, read from a file, no more than it has bytes)")

    def __call__(self, obj: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail("nested too deeply", f"at most {MAX_DEPTH} levels")
        self._spend(1)
        if obj is None or isinstance(obj, bool | int | str):
            return obj
        if isinstance(obj, float):
            return obj
        if isinstance(obj, list):
            return [self(v, depth + 1) for v in obj]
        if isinstance(obj, dict):
            typed = [k for k in obj if isinstance(k, str) and k.startswith("$")]
            if typed:
                if len(obj) != 1:
                    raise self.fail(f"keys {typed} beside other keys",
                                    "a typed value as a one-key object")
                try:
                    return self._typed(typed[0], obj[typed[0]], depth + 1)
                except MllifeError:
                    raise
                except _BUILD_ERRORS as exc:   # pandas or numpy could not build the value
                    raise self.fail(f"a {typed[0]} that cannot be built ({type(exc).__name__}: "
                                    f"{str(exc)[:200]})", "the output of to_dict()") from None
            if not all(isinstance(k, str) for k in obj):
                raise self.fail("a mapping with keys that are not text", "JSON objects")
            return {k: self(v, depth + 1) for k, v in obj.items()}
        raise self.fail(f"a {type(obj).__name__}", "JSON values only (dict, list, str, "
                        "number, bool, null)")

    def _typed(self, kind: str, body: Any, depth: int) -> Any:
        if kind == "$float":
            values = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
            if body not in values:
                raise self.fail(f"$float {body!r}", '"nan", "inf" or "-inf"')
            return values[body]
        if kind in ("$timestamp", "$date", "$timedelta"):
            if body is None and kind == "$timestamp":
                return pd.NaT
            zone = None
            if kind == "$timestamp" and isinstance(body, list) and len(body) == 2 \
                    and isinstance(body[1], str) and len(body[1]) <= 64:
                body, zone = body
            if not isinstance(body, str) or len(body) > 64 or (
                    kind == "$timestamp" and not _ISO_START.match(body)):
                raise self.fail(f"{kind} {str(body)[:80]!r}", "an ISO 8601 text")
            try:
                if kind == "$date":
                    return _dt.date.fromisoformat(body)
                if kind == "$timedelta":
                    return pd.Timedelta(body)
                stamp = pd.Timestamp(body)
                return stamp if zone is None or stamp.tz is None else stamp.tz_convert(zone)
            except _BUILD_ERRORS:
                raise self.fail(f"{kind} {body!r}", "an ISO 8601 text (and a time zone)") from None
        if kind == "$ref":
            if not isinstance(body, str):
                raise self.fail(f"$ref {str(body)[:80]!r}", "the name of an extra key")
            # to_dict writes a $ref only as a whole field, each name once, pointing at plain
            # JSON: anything else could make a small file chain references into billions.
            if depth != 1 or self.in_reference or body in self.referenced:
                raise self.fail(f"$ref {body[:80]!r} inside a value, inside a reference or "
                                "used twice", "a $ref as a whole field, each name once")
            self.referenced.add(body)
            self.in_reference = True
            try:
                return self(self.lookup({"key": body}), depth + 1)
            finally:
                self.in_reference = False
        if kind == "$items":
            pairs = self._list(body, kind)
            out = {}
            for pair in pairs:
                if not isinstance(pair, list) or len(pair) != 2:
                    raise self.fail("$items holds something other than [key, value] pairs",
                                    "[key, value] pairs")
                out[_hashable(self(pair[0], depth + 1))] = self(pair[1], depth + 1)
            return out
        if kind == "$array":
            return self._array(self._object(body, kind, {"dtype", "shape", "data"}), depth)
        if kind == "$series":
            spec = self._object(body, kind, {"name", "dtype", "data"}, {"index"})
            data = self._list(spec["data"], "$series data")
            self._spend(len(data))
            index = self._index(spec.get("index"), len(data))
            series = _series(self._column(data, spec["dtype"]),
                             index if index is not None else pd.RangeIndex(len(data)))
            series.name = _hashable(self(spec["name"], depth + 1))
            return series
        if kind == "$frame":
            return self._frame(self._object(body, kind, {"columns", "dtypes"},
                                            {"index", "data", "table", "key", "multi_columns",
                                             "typed"}),
                               depth)
        raise self.fail(f"unknown typed value {kind!r}", "$frame, $series, $array, $float, "
                        "$timestamp, $date, $timedelta, $items or $ref")

    # ---- helpers ---------------------------------------------------------------
    def _object(self, body: Any, kind: str, required: set[str],
                optional: Collection[str] = ()) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise self.fail(f"{kind} is a {type(body).__name__}", "a JSON object")
        missing = sorted(required - set(body))
        unknown = sorted(set(body) - required - set(optional))
        if missing or unknown:
            raise self.fail(f"{kind} " + (f"lacks {missing}" if missing else f"has unknown keys {unknown}"),
                            f"the keys {sorted(required | set(optional))}")
        return body

    def _list(self, body: Any, what: str) -> list[Any]:
        if not isinstance(body, list):
            raise self.fail(f"{what} is a {type(body).__name__}", "a JSON list")
        return body

    def _array(self, spec: dict[str, Any], depth: int) -> np.ndarray:
        shape = self._list(spec["shape"], "$array shape")
        if len(shape) > 8 or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                                     for n in shape):
            raise self.fail(f"$array shape {shape!r}", "at most 8 sizes, each an integer >= 0")
        data = self._list(spec["data"], "$array data")
        if math.prod(shape) != len(data):
            raise self.fail(f"$array of shape {shape} holds {len(data)} values",
                            "as many values as the shape says")
        self._spend(len(data))
        return np.asarray(self._column(data, spec["dtype"])).reshape(shape)

    def _index(self, spec: Any, n: int) -> pd.Index | None:
        if spec is None:
            return None
        if not isinstance(spec, dict):
            raise self.fail("an index that is not an object", "an index spec")
        values = self._list(spec.get("values"), "index values")
        if len(values) != n:
            raise self.fail(f"an index of {len(values)} labels for {n} rows", "one label per row")
        self._spend(len(values))
        if spec.get("multi"):
            names = self._list(spec.get("names"), "index names")
            return pd.MultiIndex.from_tuples([tuple(_hashable(v)) for v in values],
                                             names=[_hashable(x) for x in names])
        values = self._column(values, spec.get("dtype", "object"))
        return pd.Index(values, name=_hashable(spec.get("name")),
                        dtype=object if _is_object(values) else None)

    def _frame(self, spec: dict[str, Any], depth: int) -> pd.DataFrame:
        columns = [_hashable(c) for c in self._list(spec["columns"], "$frame columns")]
        if spec.get("multi_columns"):
            columns = [tuple(c) if isinstance(c, tuple) else (c,) for c in columns]
        dtypes = self._list(spec["dtypes"], "$frame dtypes")
        if len(dtypes) != len(columns):
            raise self.fail(f"{len(columns)} columns and {len(dtypes)} dtypes", "one dtype per column")
        sources = [k for k in ("data", "table", "key") if k in spec]
        if len(sources) != 1:
            raise self.fail("a $frame without one source of values",
                            "exactly one of data, table or key")
        typed = spec.get("typed", {})
        if not isinstance(typed, dict) or not all(
                k.isascii() and k.isdigit() and int(k) < len(columns) for k in typed):
            raise self.fail("typed columns that are not numbered columns of the frame",
                            "an object of column positions")
        typed = {int(k): [self(v, depth + 1) for v in self._list(col, "a typed column")]
                 for k, col in typed.items()}
        if "data" in spec:
            data = self._list(spec["data"], "$frame data")
            if len(data) != len(columns):
                raise self.fail(f"{len(columns)} columns and {len(data)} lists of values",
                                "one list of values per column")
            data = [typed[i] if i in typed else self._list(col, "$frame column")
                    for i, col in enumerate(data)]
        else:
            records = self._list(self.lookup({k: spec[k] for k in ("table", "key") if k in spec}),
                                 "the referenced records")
            names = [str(c) for c in columns]
            if any(not isinstance(r, dict) or list(r) != names for r in records):
                raise self.fail("referenced records that do not hold the frame's columns",
                                "records with one key per column, in order")
            data = [typed[i] if i in typed else [r[name] for r in records]
                    for i, name in enumerate(names)]
        n = len(data[0]) if data else 0
        if any(len(col) != n for col in data):
            raise self.fail("columns of different lengths", "the same number of values per column")
        self._spend(n * len(columns))
        index = self._index(spec.get("index"), n)
        index = index if index is not None else pd.RangeIndex(n)
        built = {i: _series(self._column(col, t), index)
                 for i, (col, t) in enumerate(zip(data, dtypes, strict=True))}
        frame = pd.DataFrame(built, index=index)
        frame.columns = pd.MultiIndex.from_tuples(columns) if spec.get("multi_columns") \
            else pd.Index(columns)
        return frame

    def _column(self, values: list[Any], spec: Any) -> Any:
        """One column's values with the dtype ``spec`` names (object when it cannot)."""
        if isinstance(spec, dict):
            body = self._object(spec, "a categorical dtype", {"name", "categories", "ordered"})
            if body["name"] != "category":
                raise self.fail(f"dtype {body['name']!r}", "category")
            categories = self._list(body["categories"], "categories")
            self._spend(len(categories))
            return pd.Categorical(values, categories=categories, ordered=bool(body["ordered"]))
        if not isinstance(spec, str) or not _DTYPE_TEXT.match(spec):
            raise self.fail(f"dtype {str(spec)[:80]!r}", "a dtype name")
        objects = np.fromiter(values, dtype=object, count=len(values))
        if spec in ("object", "O"):
            return objects
        if spec == "str" and not PANDAS_GE_3:
            return objects   # pandas 2 spells text "object": the values stay text
        try:
            dtype = pd.api.types.pandas_dtype(spec)
        except (TypeError, ValueError):
            return objects
        try:
            if isinstance(dtype, np.dtype):
                if dtype.kind not in _NUMPY_KINDS:
                    return objects
                if dtype.kind in "mM":
                    parsed = (pd.to_datetime(pd.Series(objects), format="ISO8601") if dtype.kind == "M"
                              else pd.to_timedelta(pd.Series(objects))).to_numpy()
                    out = parsed.astype(dtype)
                    # numpy wraps a value past the unit's range around (9999 becomes 1816):
                    # the values must come back as they were parsed.
                    return out if _same_instants(out, parsed) else objects
                cells = _CELLS[dtype.kind]
                if not set(map(type, values)) <= set(cells) and not all(   # (fast path first)
                        isinstance(v, cells) and (bool in cells or not isinstance(v, bool))
                        for v in values):
                    return objects   # a missing value, text or a list where numbers were written
                if dtype.kind == "f":
                    return np.array([np.nan if v is None else v for v in values], dtype=dtype)
                return np.array(values, dtype=dtype)
            if isinstance(dtype, pd.DatetimeTZDtype):
                parsed = pd.to_datetime(pd.Series(objects), format="ISO8601", utc=True)
                return parsed.dt.tz_convert(dtype.tz).astype(dtype).array
            if isinstance(dtype, pd.StringDtype | pd.BooleanDtype) or \
                    type(dtype).__name__ in _MASKED:
                return pd.array(objects, dtype=dtype)
        except (TypeError, ValueError, OverflowError):
            return objects
        return objects


_MASKED = frozenset({"Int8Dtype", "Int16Dtype", "Int32Dtype", "Int64Dtype", "UInt8Dtype",
                     "UInt16Dtype", "UInt32Dtype", "UInt64Dtype", "Float32Dtype", "Float64Dtype"})


def _same_instants(out: np.ndarray, parsed: np.ndarray) -> bool:
    """Whether ``out`` holds the instants (or durations) ``parsed`` holds, missing ones alike."""
    missing = np.isnat(parsed)
    if not np.array_equal(np.isnat(out), missing):
        return False
    return bool((out[~missing].astype(parsed.dtype) == parsed[~missing]).all())


def _is_object(values: Any) -> bool:
    return isinstance(values, np.ndarray) and values.dtype.kind == "O"


def _series(values: Any, index: pd.Index) -> pd.Series:
    """A column on ``index``; an object array stays object (pandas 3 would infer text)."""
    dtype = object if _is_object(values) else None
    return pd.Series(values, index=index, dtype=dtype, copy=False)


def _hashable(value: Any) -> Any:
    """A decoded key or column name: lists (JSON's tuples) become tuples."""
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        raise InputError("an object used as a key or a name", expected="text, a number or a list")
    return value
