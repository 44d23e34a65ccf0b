"""The one private layer of dataframe operations.

Column-wise work in mllife goes through these helpers, so the rest of the code
does not reach into pandas internals and pandas 2.2 / 3.x differences (the
``str`` dtype, copy-on-write) are handled in one place.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._errors import InputError

__all__ = [
    "KINDS",
    "NULL_LIKE_TOKENS",
    "REPEATS_EXPECTED_FACTOR",
    "as_frame",
    "as_series",
    "check_unique_columns",
    "generated_names",
    "hash_rows",
    "infer_kind",
    "is_bool",
    "is_datetime",
    "is_numeric",
    "is_string_like",
    "normalize_strings",
    "repeats_expected",
    "require_columns",
]

#: Strings that stand for "missing" however they are cased or padded.
NULL_LIKE_TOKENS: frozenset[str] = frozenset(
    {
        "", "n/a", "na", "nan", "null", "none", "nil", "-", "--", "---", "?", "??",
        "missing", "unknown", "undefined", "#n/a", "n.a.", "not available", "<na>", "nat",
    }
)

Kind = Literal[
    "empty", "constant", "boolean", "numeric", "datetime", "timedelta",
    "categorical", "text", "id", "mixed",
]
#: Every value :func:`infer_kind` can return.
KINDS: tuple[str, ...] = (
    "empty", "constant", "boolean", "numeric", "datetime", "timedelta",
    "categorical", "text", "id", "mixed",
)


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


def as_frame(X: Any, *, name: str = "X", allow_duplicate_columns: bool = False) -> pd.DataFrame:
    """Return ``X`` as a DataFrame without copying when it already is one.

    Numpy arrays get the column names ``x0, x1, ...``; a Series becomes a
    one-column frame; a dict is one row when its values are scalars, else
    columns; a list of dicts is rows. Every public function that takes a
    table takes it through here.

    Parameters
    ----------
    X : DataFrame, Series, dict, list of dicts or 2-D array-like
    name : str, default="X"
        How errors call ``X``.
    allow_duplicate_columns : bool, default=False
        Accept a frame whose column labels repeat. Only code that works on
        columns by position and reports the repetition itself (``audit``)
        sets it.

    Raises
    ------
    InputError
        When ``X`` is not tabular (a scalar, a 1-D or 3-D array), or when a
        column label repeats (naming the labels), unless allowed.
    """
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
    """Return ``y`` as a Series (a 1-column frame or 1-D array is accepted)."""
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


def is_bool(s: pd.Series) -> bool:
    """True for boolean dtypes (numpy bool and pandas ``boolean``)."""
    return pd.api.types.is_bool_dtype(s.dtype)


def is_numeric(s: pd.Series) -> bool:
    """True for int/float dtypes, booleans excluded."""
    return pd.api.types.is_numeric_dtype(s.dtype) and not is_bool(s)


def is_datetime(s: pd.Series) -> bool:
    """True for datetime64 dtypes, with or without time zone."""
    return isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(s.dtype)


def is_string_like(s: pd.Series) -> bool:
    """True for object, ``str``/``string`` and categorical dtypes."""
    dtype = s.dtype
    return (
        pd.api.types.is_object_dtype(dtype)
        or isinstance(dtype, pd.StringDtype | pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(dtype)
    )


def normalize_strings(s: pd.Series) -> pd.Series:
    """Strip, collapse inner whitespace and casefold; missing stays missing."""
    out = s.astype("string").str.strip().str.replace(r"\s+", " ", regex=True).str.casefold()
    return out


def infer_kind(
    s: pd.Series,
    *,
    max_categories: int = 50,
    id_min_rows: int = 50,
) -> str:
    """The column kind mllife reasons with.

    One of ``empty`` (no value), ``constant`` (one value), ``boolean``,
    ``numeric``, ``datetime``, ``timedelta``, ``categorical``, ``text`` (free
    text), ``id`` (an identifier: unique per row) and ``mixed`` (several Python
    types in one object column).

    Parameters
    ----------
    s : pandas.Series
    max_categories : int, default=50
        A string column with more distinct values than this, most of them
        long with spaces, is ``text`` rather than ``categorical``.
    id_min_rows : int, default=50
        Columns shorter than this are never called ``id``.

    Examples
    --------
    >>> import pandas as pd
    >>> infer_kind(pd.Series([1.5, 2.0, None]))
    'numeric'
    >>> infer_kind(pd.Series(["a", "b", "a"]))
    'categorical'
    >>> infer_kind(pd.Series([None, None], dtype=object))
    'empty'
    """
    nonnull = s.dropna()
    n = len(nonnull)
    if n == 0:
        return "empty"
    if is_bool(s):
        return "boolean" if nonnull.nunique() > 1 else "constant"
    if is_datetime(s) or isinstance(s.dtype, pd.PeriodDtype):
        return "datetime" if nonnull.nunique() > 1 else "constant"
    if pd.api.types.is_timedelta64_dtype(s.dtype):
        return "timedelta"
    if is_numeric(s):
        nunique = nonnull.nunique()
        if nunique == 1:
            return "constant"
        if (
            pd.api.types.is_integer_dtype(s.dtype)
            and n >= id_min_rows
            and nunique == n
            and nunique == len(s)
            and (nonnull.is_monotonic_increasing or nonnull.is_monotonic_decreasing)
        ):
            return "id"
        return "numeric"
    inferred = pd.api.types.infer_dtype(nonnull, skipna=True)
    if inferred == "boolean":
        return "boolean" if nonnull.nunique() > 1 else "constant"
    if inferred in {"integer", "floating", "mixed-integer-float", "decimal"}:
        return "numeric" if nonnull.nunique() > 1 else "constant"
    if inferred in {"datetime64", "datetime", "date"}:
        return "datetime"
    if inferred not in {"string", "categorical", "empty"}:
        return "mixed"
    try:
        nunique = nonnull.nunique()
    except TypeError:
        return "mixed"
    if nunique == 1:
        return "constant"
    if isinstance(s.dtype, pd.CategoricalDtype):
        return "categorical"
    if nunique > max_categories:
        as_str = nonnull.astype(str)
        lengths = as_str.str.len()
        has_space = as_str.str.contains(" ", regex=False).mean()
        if lengths.median() > 20 and has_space > 0.5:
            return "text"
        if n >= id_min_rows and nunique >= 0.95 * n and nunique == len(s) and has_space < 0.05:
            return "id"
    return "categorical"


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
