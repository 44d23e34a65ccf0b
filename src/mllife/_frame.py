"""The one private layer of dataframe operations.

Column-wise work in mllife goes through these helpers, so the rest of the code
does not reach into pandas internals and pandas 2.2 / 3.x differences (the
``str`` dtype, copy-on-write) are handled in one place.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._columns import KINDS, column_kind
from ._dask import is_dask_frame
from ._dtypes import is_bool, is_datetime, is_numeric, is_string_like
from ._errors import InputError
from ._nulls import NULL_LIKE_TOKENS

__all__ = [
    "KINDS",
    "NATIVE_MODULES",
    "NULL_LIKE_TOKENS",
    "REPEATS_EXPECTED_FACTOR",
    "as_frame",
    "as_series",
    "check_unique_columns",
    "from_native",
    "generated_names",
    "hash_rows",
    "infer_kind",
    "is_bool",
    "is_datetime",
    "is_native",
    "is_numeric",
    "is_string_like",
    "normalize_strings",
    "repeats_expected",
    "require_columns",
]

# The null tokens live in mllife._nulls, the kinds in mllife._columns (the one kind
# detector) and the dtype predicates in mllife._dtypes; re-exported here.


def generated_names(n: int) -> list[str]:
    """Column names given to a numpy array: ``x0, x1, ...``."""
    return [f"x{i}" for i in range(n)]


def check_unique_columns(df: pd.DataFrame, *, name: str = "X") -> None:
    """Raise :class:`InputError` naming every column label ``df`` holds more than once.

    ``df[label]`` is then a frame, not a column, and every column-wise
    operation is ambiguous, so mllife refuses such frames at the door.
    """
    columns = df.columns
    if columns.is_unique:
        return
    repeated = columns[columns.duplicated()].unique().tolist()
    counts = ", ".join(f"{int((columns == label).sum())} columns named {label!r}"
                       for label in repeated)
    raise InputError(
        f"{name} has duplicated column names {repeated!r} ({counts})",
        expected="one column per name: rename them (df.columns = [...]) or drop the copies",
    )


#: Top-level modules whose tables :func:`as_frame` converts with narwhals
#: (polars, pyarrow, narwhals itself and the other backends narwhals reads).
NATIVE_MODULES: frozenset[str] = frozenset(
    {"polars", "pyarrow", "narwhals", "modin", "cudf", "dask", "duckdb", "ibis", "pyspark",
     "sqlframe"}
)


def is_native(obj: Any) -> bool:
    """True for a polars, pyarrow or other narwhals-readable object (never imports them)."""
    return type(obj).__module__.partition(".")[0] in NATIVE_MODULES


def from_native(X: Any, *, name: str = "X") -> pd.DataFrame | pd.Series:
    """Convert a polars / pyarrow (or other narwhals-supported) eager object to pandas.

    One ``to_pandas`` through narwhals, which follows pandas' own
    ``to_pandas``: column names and order kept, integers with nulls become
    ``float64`` (NaN; pandas' ``Int64`` / ``UInt64`` with ``<NA>`` for a 64-bit
    column holding values beyond 2**53, which float64 would round), booleans
    with nulls ``object``, polars null and NaN
    both become missing, categoricals and enums become ``category`` (an enum
    ordered, in its declared order), time zones are kept. Two casts make the
    result the same for every backend: ``Date`` (and pyarrow's ``date64``)
    becomes ``datetime64[ms]`` and ``Decimal`` (any width) becomes
    ``float64``; a pyarrow dictionary holding a null entry gives missing
    values, not a null category. A series comes back as a Series, an
    unnamed one (polars' default name ``""``, a pyarrow array) named ``None``
    as in pandas. narwhals, polars and pyarrow are imported here only, when
    such an object arrives (see docs/dataframes.md).

    Raises
    ------
    InputError
        For a lazy frame (collect it first: mllife never computes silently)
        or an object narwhals cannot read.
    """
    import narwhals as nw
    import narwhals.selectors as ncs

    kind = f"{type(X).__module__.partition('.')[0]}.{type(X).__qualname__}"
    names: list[Any] | None = None
    if type(X).__module__.partition(".")[0] == "pyarrow":
        import pyarrow as pa

        if isinstance(X, pa.RecordBatch):
            X = pa.Table.from_batches([X])
        elif isinstance(X, pa.Array):
            X = pa.chunked_array([X])
        if isinstance(X, pa.Table) and len(set(X.column_names)) < X.num_columns:
            # narwhals refuses repeated names: convert by position, name afterwards.
            names = list(X.column_names)
            X = X.rename_columns([f"_{i}" for i in range(len(names))])
        X = _arrow_readable(X)
    try:
        native = nw.from_native(X, allow_series=True)
    except TypeError:
        raise InputError(
            f"{name} is a {kind}, which mllife cannot read",
            expected="a pandas, polars or pyarrow table, or a 2-D array",
        ) from None
    if isinstance(native, nw.LazyFrame):
        raise InputError(
            f"{name} is a lazy {kind}: mllife does not run its query implicitly",
            expected=f"an eager frame: call {name}.collect() first",
        )
    frame = native.to_frame() if isinstance(native, nw.Series) else native
    dtypes = frame.schema.values()  # one Python pass over the dtypes, not the data
    if any(isinstance(d, nw.Decimal) or d == nw.Date for d in dtypes):
        frame = frame.with_columns(
            ncs.by_dtype(nw.Decimal).cast(nw.Float64),
            ncs.by_dtype(nw.Date).cast(nw.Datetime("ms")),
        )
    exact = _exact_integers(frame)
    out = frame.to_pandas()
    for col, values in exact.items():
        out[col] = pd.Series(values, index=out.index, name=col)
    if names is not None:
        out.columns = pd.Index(names)
    if isinstance(native, nw.Series):
        series = out.iloc[:, 0]
        return series.rename(None) if series.name == "" else series
    return out


def _arrow_readable(X: Any) -> Any:
    """A pyarrow Table / ChunkedArray with the types narwhals or pandas cannot read cast.

    ``date64`` becomes ``timestamp[ms]`` and decimals other than ``decimal128``
    ``float64`` (narwhals reads them as "Unknown", so they would come out as
    Python objects); a dictionary holding a null entry is re-encoded without
    it (pandas refuses a null category; the rows become missing). One Python
    pass over the column types (and the chunks of dictionary columns), not
    the data.
    """
    import pyarrow as pa

    def fixed(col: Any) -> Any:
        t = col.type
        if pa.types.is_date64(t):
            return col.cast(pa.timestamp("ms"))
        if pa.types.is_decimal(t) and not pa.types.is_decimal128(t):
            return col.cast(pa.float64())
        if pa.types.is_dictionary(t) and any(chunk.dictionary.null_count for chunk in col.chunks):
            return col.cast(t.value_type).dictionary_encode()
        return None

    if isinstance(X, pa.ChunkedArray):
        new = fixed(X)
        return X if new is None else new
    if not isinstance(X, pa.Table):
        return X
    for i in range(X.num_columns):
        new = fixed(X.column(i))
        if new is not None:
            X = X.set_column(i, X.schema.field(i).with_type(new.type), new)
    return X


#: Integers above this size (in absolute value) are not all exact as float64.
_FLOAT_EXACT = 2**53


def _exact_integers(frame: Any) -> dict[str, Any]:
    """64-bit integer columns with nulls that float64 would round, as pandas nullable arrays.

    ``to_pandas`` gives an integer column with nulls as ``float64``, which
    holds integers exactly only up to 2**53: larger identifiers would be
    silently merged. Those columns (only those) become ``Int64`` / ``UInt64``
    with ``<NA>``; the rest keep the ``float64`` rule. One aggregation over
    the 64-bit integer columns, no loop over rows.
    """
    import narwhals as nw

    wide = [c for c, d in frame.schema.items() if d in (nw.Int64, nw.UInt64)]
    if not wide:
        return {}
    stats = frame.select(
        *[nw.col(c).null_count().alias(f"n{i}") for i, c in enumerate(wide)],
        *[nw.col(c).max().alias(f"hi{i}") for i, c in enumerate(wide)],
        *[nw.col(c).min().alias(f"lo{i}") for i, c in enumerate(wide)],
    ).row(0)
    k = len(wide)
    out: dict[str, Any] = {}
    for i, c in enumerate(wide):
        n_null, hi, lo = stats[i], stats[k + i], stats[2 * k + i]
        if not n_null or hi is None or (hi <= _FLOAT_EXACT and lo >= -_FLOAT_EXACT):
            continue
        column = frame.get_column(c)
        unsigned = frame.schema[c] == nw.UInt64
        values = column.fill_null(0).to_numpy().astype(np.uint64 if unsigned else np.int64)
        mask = column.is_null().to_numpy().astype(bool)
        out[c] = pd.arrays.IntegerArray(values, mask)
    return out


def as_frame(X: Any, *, name: str = "X", allow_duplicate_columns: bool = False) -> pd.DataFrame:
    """Return ``X`` as a DataFrame without copying when it already is one.

    Numpy arrays get the column names ``x0, x1, ...``; a Series becomes a
    one-column frame; a dict is one row when its values are scalars, else
    columns; a list of dicts is rows. A polars DataFrame or Series, a pyarrow
    Table, RecordBatch or array (any eager table narwhals reads) is converted
    once by :func:`from_native`; a lazy frame raises. Every public function
    that takes a table takes it through here.

    Parameters
    ----------
    X : DataFrame, Series, dict, list of dicts, polars/pyarrow table or 2-D array-like
    name : str, default="X"
        How errors call ``X``.
    allow_duplicate_columns : bool, default=False
        Accept a frame whose column labels repeat. Only code that works on
        columns by position and reports the repetition itself (``audit``)
        sets it.

    Raises
    ------
    InputError
        When ``X`` is not tabular (a scalar, a 1-D or 3-D array), is a lazy
        frame or a Dask collection (never computed silently), or when a column label repeats (naming the labels), unless
        allowed.
    """
    if is_dask_frame(X) or (hasattr(X, "npartitions") and type(X).__module__.startswith("dask")):
        raise InputError(
            f"{name} is a Dask collection; this function needs its rows in memory",
            expected="a pandas frame (call .compute() on the Dask frame, or on a sample of it); "
                     "DriftProfile.fit, drift_report, profile, audit and Monitor.observe take Dask "
                     "frames directly")
    if is_native(X):
        X = from_native(X, name=name)
    if isinstance(X, pd.DataFrame):
        if not allow_duplicate_columns:
            check_unique_columns(X, name=name)
        return X
    if isinstance(X, pd.Series):
        return X.to_frame(name=X.name if X.name is not None else "x0")
    if isinstance(X, Mapping):
        values = list(X.values())
        if all(np.ndim(v) == 0 for v in values):
            return pd.DataFrame([dict(X)])
        return pd.DataFrame(dict(X))
    if isinstance(X, list) and X and all(isinstance(r, Mapping) for r in X):
        return pd.DataFrame.from_records(X)
    arr = np.asarray(X) if not hasattr(X, "toarray") else X.toarray()
    if arr.ndim != 2:
        raise InputError(
            f"{name} has {arr.ndim} dimension(s)",
            expected="a 2-D table: a DataFrame or a 2-D array",
        )
    return pd.DataFrame(arr, columns=generated_names(arr.shape[1]))


def as_series(y: Any, *, name: str = "y") -> pd.Series:
    """Return ``y`` as a Series (a 1-column frame or 1-D array is accepted).

    A polars or pyarrow Series / array / one-column table is converted by
    :func:`from_native`; an unnamed one is called ``name``.
    """
    if hasattr(y, "npartitions") and type(y).__module__.startswith("dask"):
        raise InputError(f"{name} is a Dask collection; this function needs its values in memory",
                         expected="a pandas Series or an array (call .compute() first)")
    if is_native(y):
        y = from_native(y, name=name)
        if isinstance(y, pd.Series) and y.name is None:
            y = y.rename(name)
    if isinstance(y, pd.Series):
        return y
    if isinstance(y, pd.DataFrame):
        if y.shape[1] != 1:
            raise InputError(f"{name} has {y.shape[1]} columns", expected="one column")
        return y.iloc[:, 0]
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InputError(f"{name} has shape {arr.shape}", expected="a 1-D array or Series")
    return pd.Series(arr, name=name)


def require_columns(df: pd.DataFrame, columns: Iterable[Hashable], *, what: str = "column") -> None:
    """Raise :class:`InputError` naming every column of ``columns`` missing from ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        shown = ", ".join(repr(c) for c in missing)
        raise InputError(
            f"{what}{'s' if len(missing) > 1 else ''} {shown} not found",
            expected=f"one of the {df.shape[1]} columns of the frame",
        )


def normalize_strings(s: pd.Series) -> pd.Series:
    """Strip, collapse inner whitespace and casefold; missing stays missing."""
    out = s.astype("string").str.strip().str.replace(r"\s+", " ", regex=True).str.casefold()
    return out


def infer_kind(s: pd.Series, *, max_categories: int = 30) -> str:
    """The column kind mllife reasons with: :func:`mllife._columns.column_kind`'s ``kind``.

    One of :data:`KINDS` (``numeric``, ``boolean``, ``categorical``,
    ``high_cardinality``, ``datetime``, ``date``, ``datetime_utc``,
    ``timedelta``, ``text``, ``numeric_text``, ``identifier``, ``constant``,
    ``empty``, ``mixed``), decided by the one detector the audit,
    ``make_preprocessor``, drift and split use (rules in :mod:`mllife._columns`).

    Examples
    --------
    >>> import pandas as pd
    >>> infer_kind(pd.Series([1.5, 2.0, None]))
    'numeric'
    >>> infer_kind(pd.Series(["a", "b", "a"]))
    'categorical'
    >>> infer_kind(pd.Series([None, None], dtype=object))
    'empty'
    >>> infer_kind(pd.Series(range(100)))
    'identifier'
    """
    return column_kind(s, max_categories=max_categories).kind


def hash_rows(df: pd.DataFrame, columns: Sequence[Hashable] | None = None) -> np.ndarray:
    """One 64-bit hash per row over ``columns`` (all by default), index ignored.

    Equal rows (NaN equal to NaN) get equal hashes. Object cells that cannot be
    hashed (dicts, lists) are hashed by their ``repr``.
    """
    frame = df if columns is None else df.loc[:, list(columns)]
    if frame.shape[1] == 0:
        return np.zeros(len(frame), dtype=np.uint64)
    # Positional columns keep duplicate column names apart.
    frame = frame.set_axis(range(frame.shape[1]), axis=1)
    try:
        hashed = pd.util.hash_pandas_object(frame, index=False)
    except TypeError:
        fixed = {}
        for i in range(frame.shape[1]):
            col = frame.iloc[:, i]
            if col.dtype == object:
                try:
                    pd.util.hash_pandas_object(col, index=False)
                except TypeError:
                    col = col.map(repr, na_action="ignore")
            fixed[i] = col
        hashed = pd.util.hash_pandas_object(pd.DataFrame(fixed), index=False)
    return hashed.to_numpy(dtype=np.uint64)


#: Repeated rows are expected when the columns allow fewer distinct rows than
#: this many times the number of rows (see :func:`repeats_expected`).
REPEATS_EXPECTED_FACTOR = 10


def repeats_expected(n_distinct: Iterable[int], n_rows: int) -> bool:
    """True when columns with these distinct counts make repeated rows inevitable.

    The columns allow at most the product of their distinct counts as
    distinct rows; when that product is under :data:`REPEATS_EXPECTED_FACTOR`
    times ``n_rows`` (a table of a few categorical columns, such as
    class/sex/age), identical rows are different records that happen to
    agree, not copies of one record. Computed on logarithms, so any number
    of columns is fine.

    Examples
    --------
    >>> repeats_expected([4, 2, 2], n_rows=2201)  # 16 possible rows
    True
    >>> repeats_expected([1000, 365], n_rows=2201)
    False
    """
    log_possible = float(np.sum(np.log(np.maximum(np.asarray(list(n_distinct), dtype=float), 1.0))))
    return bool(log_possible < np.log(REPEATS_EXPECTED_FACTOR * max(int(n_rows), 1)))
