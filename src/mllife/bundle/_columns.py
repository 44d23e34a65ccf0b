"""One column of an input contract: what was seen in training, and its checks.

``infer_column`` learns a :class:`ColumnSpec` from a training column;
``check_column`` validates a request column against it, vectorised, and
returns the coerced values with every problem and note found.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import is_bool, is_datetime, is_numeric
from ._cells import (
    BOOL,
    BYTES,
    CLASS_NAMES,
    COMPLEX,
    DATETIME,
    NESTED,
    NULL,
    NUMBERS,
    OTHER,
    TEXT,
    arrow_strings,
    classify,
    problem,
)
from ._numbers import (
    INT64_MAX,
    NOT_INTEGER,
    NOT_NUMBER,
    NOT_REPRESENTABLE,
    Numbers,
    floats_outside_int64,
    ints_exact_in_float,
    object_numbers,
)

FAMILIES = ("integer", "float", "boolean", "string", "datetime")
#: How a text column held as Python objects marks a missing value (``ColumnSpec.na_value``).
NA_VALUES = ("nan", "none")
#: The dtype pandas gives a column of Python strings (``str`` on pandas 3, object before).
TEXT_DTYPE = pd.Series(["a"]).dtype
#: Whether that dtype keeps its text in pyarrow (pandas 3 with pyarrow installed).
ARROW_TEXT = isinstance(TEXT_DTYPE, pd.StringDtype) and TEXT_DTYPE.storage == "pyarrow"
#: A UTC offset after the time part of an ISO 8601 string ("...T10:00+02:00", "... 10:00Z").
_OFFSET_RE = re.compile(r"[T ]\d\d(?::?\d\d(?::?\d\d(?:[.,]\d+)?)?)?\s*(?:[zZ]|[+-]\d\d(?::?\d\d)?)\s*$")


@dataclass(frozen=True)
class ColumnSpec:
    """What the training data showed about one column (JSON-safe fields only).

    ``na_value`` is the missing value of a text column held as Python objects
    (pandas 2): ``"none"`` when every missing value in training was ``None``,
    else ``"nan"``. An encoder fitted on the training data (``OneHotEncoder``)
    tells ``None`` from ``NaN``: a request's missing text takes the one
    training used, whatever its own (``None``, ``NaN``, ``NaT``, ``pd.NA``).
    """

    name: str
    family: str
    dtype: str
    nullable: bool
    min: float | str | None = None
    max: float | str | None = None
    allow_inf: bool = False
    categories: tuple[str, ...] | None = None
    tz: str | None = None
    na_value: str = "nan"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["categories"] = None if self.categories is None else list(self.categories)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnSpec:
        data = dict(data)
        if data.get("categories") is not None:
            data["categories"] = tuple(data["categories"])
        if data.get("family") not in FAMILIES:
            raise InputError(f"unknown dtype family {data.get('family')!r}",
                             column=data.get("name"), expected=f"one of {FAMILIES}")
        if data.get("na_value", "nan") not in NA_VALUES:
            raise InputError(f"unknown missing value {data.get('na_value')!r}",
                             column=data.get("name"), expected=f"one of {NA_VALUES}")
        return cls(**data)


@dataclass(frozen=True)
class Policies:
    """The schema-wide policies ``check_column`` applies."""

    range_tolerance: float
    out_of_range: str
    datetime_margin: str
    unseen: str
    rare_value: str
    coerce_strings: bool
    max_string_length: int


# ---------------------------------------------------------------- inference
def infer_column(name: str, s: pd.Series, *, max_categories: int,
                 nullable: bool | None) -> ColumnSpec:
    """Learn the :class:`ColumnSpec` of one training column."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    nulls = s.isna()
    seen_null = bool(nulls.any())
    is_nullable = seen_null if nullable is None else bool(nullable) or seen_null
    dtype = str(s.dtype)
    if is_bool(s):
        return ColumnSpec(name, "boolean", "bool", is_nullable)
    if is_datetime(s):
        tz = str(s.dt.tz) if s.dt.tz is not None else None
        nonnull = s.dropna()
        lo = nonnull.min().isoformat() if len(nonnull) else None
        hi = nonnull.max().isoformat() if len(nonnull) else None
        return ColumnSpec(name, "datetime", dtype, is_nullable, lo, hi, tz=tz)
    if is_numeric(s):
        values = s.to_numpy(dtype=float, na_value=np.nan)
        finite = values[np.isfinite(values)]
        lo = float(finite.min()) if finite.size else None
        hi = float(finite.max()) if finite.size else None
        allow_inf = bool(np.isinf(values).any())
        family = "integer" if pd.api.types.is_integer_dtype(s.dtype) else "float"
        return ColumnSpec(name, family, "int64" if family == "integer" else "float64",
                          is_nullable, lo, hi, allow_inf)
    if pd.api.types.is_timedelta64_dtype(s.dtype):
        raise InputError("time deltas are not supported in an input contract", column=name,
                         expected="numbers, booleans, text or date-times")
    inferred = pd.api.types.infer_dtype(s, skipna=True)
    if inferred in {"integer", "floating", "mixed-integer-float", "decimal"}:
        values = pd.to_numeric(s, errors="coerce")
        return infer_column(name, values, max_categories=max_categories, nullable=is_nullable)
    if inferred == "boolean":
        return ColumnSpec(name, "boolean", "bool", is_nullable)
    if inferred in {"datetime", "datetime64", "date"}:
        return infer_column(name, pd.to_datetime(s), max_categories=max_categories,
                            nullable=is_nullable)
    if inferred not in {"string", "empty"}:
        kinds = sorted({t.__name__ for t in pd.unique(
            pd.Series(s.dropna().to_numpy(dtype=object), dtype=object).map(type).to_numpy())})
        shown = ", ".join(kinds[:6]) + (", ..." if len(kinds) > 6 else "")
        raise InputError(f"holds mixed or unsupported Python types ({shown}); "
                         "no contract can be inferred", column=name,
                         expected="one type per column: numbers, booleans, text or date-times")
    nonnull = s.dropna()
    uniques = pd.unique(nonnull.to_numpy(dtype=object))
    # An all-missing column taught nothing about its categories: no category list.
    categories = (tuple(sorted(str(u) for u in uniques))
                  if 0 < len(uniques) <= max_categories else None)
    return ColumnSpec(name, "string", "object", is_nullable, categories=categories,
                      na_value=_na_value(s, nulls))


def _na_value(s: pd.Series, nulls: pd.Series) -> str:
    """``"none"`` when every missing value of an object column is ``None``, else ``"nan"``."""
    if s.dtype != object or not nulls.any():
        return "nan"
    return "none" if bool(s[nulls].map(type).isin([type(None)]).all()) else "nan"


def missing_value(spec: ColumnSpec) -> Any:
    """The missing value of the validated text of a column (``NaN`` or ``None``)."""
    if isinstance(TEXT_DTYPE, pd.StringDtype):  # pandas 3: the dtype has one
        return TEXT_DTYPE.na_value
    return None if spec.na_value == "none" else np.nan


# ---------------------------------------------------------------- validation
class _Result:
    """Problems and notes found in one column."""

    __slots__ = ("name", "notes", "problems")

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[dict[str, Any]] = []
        self.notes: list[dict[str, Any]] = []

    def bad(self, what: str, mask: np.ndarray, expected: str | None = None, **extra: Any) -> None:
        if mask.any():
            self.problems.append(problem(self.name, what, mask, expected=expected, **extra))

    def note(self, what: str, mask: np.ndarray, **extra: Any) -> None:
        if mask.any():
            self.notes.append(problem(self.name, what, mask, **extra))


def _wrong_types(res: _Result, codes: np.ndarray, allowed: set[int], expected: str) -> np.ndarray:
    """Report every cell class outside ``allowed``; return the mask of bad cells."""
    bad = ~np.isin(codes, [NULL, *allowed])
    if bad.any():
        for code in np.unique(codes[bad]):
            what = ("nested object (dict or list) in a cell" if code == NESTED
                    else f"{CLASS_NAMES[code]} instead of {expected}")
            res.bad(what, codes == code, expected)
    return bad


def _too_long(res: _Result, s: pd.Series, mask: np.ndarray, limit: int) -> np.ndarray:
    """Mark text cells (within ``mask``) longer than ``limit`` characters."""
    if not mask.any():
        return mask
    lengths = np.zeros(len(s), dtype=np.int64)
    cells = s.to_numpy(dtype=object)[mask]
    lengths[mask] = np.fromiter(map(len, cells), dtype=np.int64, count=len(cells))
    long = lengths > limit
    res.bad("string too long", long, f"at most {limit} characters")
    return long


def _range(res: _Result, values: np.ndarray, lo: float, hi: float, policy: str,
           expected: str) -> np.ndarray:
    """Apply the out-of-range policy; returns the (possibly clipped) values."""
    if policy == "ignore" or values.size == 0:
        return values
    if values.min() >= lo and values.max() <= hi:  # two reductions, no mask (NaN: go on)
        return values
    with np.errstate(invalid="ignore"):
        outside = ((values < lo) | (values > hi)) & np.isfinite(values)
    if policy == "ignore" or not outside.any():
        return values
    if policy == "error":
        res.bad("out of range", outside, expected)
        return values
    if policy == "clip":
        res.note("out of range, clipped", outside, expected=expected)
        return np.clip(values, lo, hi)
    res.note("out of range", outside, expected=expected)  # "warn"
    return values


def _padding(spec: ColumnSpec, tolerance: float) -> tuple[float, float]:
    lo, hi = float(spec.min), float(spec.max)  # type: ignore[arg-type]
    span = hi - lo
    pad = tolerance * (span if span > 0 else max(abs(lo), 1.0))
    # A column never negative in training stays non-negative (ages, counts, amounts).
    return (max(lo - pad, 0.0) if lo >= 0 else lo - pad), hi + pad


def numeric_bounds(spec: ColumnSpec, policies: Policies) -> tuple[float, float] | None:
    """The accepted [low, high] of a numeric column (None when no range is known)."""
    if spec.min is None or spec.max is None:
        return None
    return _padding(spec, policies.range_tolerance)


def _unrepresentable(res: _Result, target: str, mask: np.ndarray) -> None:
    """Report the values ``target`` (the returned dtype) cannot hold exactly."""
    expected = ("whole numbers from -2**63 to 2**63 - 1" if target == "int64" else
                "numbers a float64 holds exactly (every integer up to 2**53 in magnitude)")
    res.bad(f"value not representable as {target}", mask, expected)


def _missing_column(spec: ColumnSpec, n: int) -> Any:
    """``n`` missing values in the dtype the column returns for missing values."""
    if spec.family in {"integer", "float"}:
        return np.full(n, np.nan)
    if spec.family == "boolean":
        return np.full(n, np.nan, dtype=object)
    if spec.family == "string":
        return as_text(np.full(n, missing_value(spec), dtype=object))
    unit = datetime_unit(spec.dtype)
    index = pd.DatetimeIndex(np.full(n, np.datetime64("NaT"), dtype=f"datetime64[{unit}]"))
    return (index if spec.tz is None else index.tz_localize(spec.tz)).array


def _wrong_dtype(spec: ColumnSpec, s: pd.Series, res: _Result, wanted: str,
                 expected: str | None = None) -> Any:
    """A column of another dtype: its values are problems, its missing values are missing.

    An all-missing column of any dtype (``NaN`` for a text column, ``NaT`` in
    a numeric one) holds no value of the wrong type, only missing values: a
    problem where training had none, else missing values of the trained dtype.
    """
    expected = expected or wanted
    if getattr(s.dtype, "kind", "O") == "c":  # a complex number is never missing
        missing = np.zeros(len(s), dtype=bool)
    else:
        missing = s.isna().to_numpy()
    res.bad(f"{s.dtype} values instead of {wanted}", ~missing, expected)
    if not spec.nullable:
        res.bad("missing value where training had none", missing, expected)
    return None if res.problems else _missing_column(spec, len(s))


def _real_numbers(s: pd.Series) -> str | None:
    """``"i"``/``"u"``/``"f"`` for a column of real numbers, else None (complex too)."""
    kind = getattr(s.dtype, "kind", "O")
    return kind if is_numeric(s) and kind in "iuf" else None


def _check_numeric(spec: ColumnSpec, s: pd.Series, res: _Result, pol: Policies) -> Any:
    expected = "integers" if spec.family == "integer" else "numbers"
    kind = _real_numbers(s)
    if kind in {"i", "u"}:
        return _check_int_array(spec, s, kind, res, pol, expected)
    if kind == "f":
        floats = s.to_numpy(dtype=float, na_value=np.nan)
        lossy = None
        if getattr(s.dtype, "itemsize", 8) > 8:  # numpy.longdouble: only float64 values
            with np.errstate(invalid="ignore"):
                lossy = (floats != s.to_numpy()) & ~np.isnan(floats)
        return _check_floats(spec, floats, res, pol, expected, lossy=lossy)
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype) or isinstance(
            s.dtype, pd.CategoricalDtype):
        numbers, refused = _object_numbers(spec, s, res, pol, expected)
        return _check_floats(spec, numbers.floats, res, pol, expected, numbers=numbers,
                             skip=refused if refused.any() else None)
    # booleans, date-times, durations, complex numbers...
    return _wrong_dtype(spec, s, res, expected)


def _check_int_array(spec: ColumnSpec, s: pd.Series, kind: str, res: _Result, pol: Policies,
                     expected: str) -> Any:
    """Integer input: no infinity, no fraction; representability and range to check."""
    missing = None
    if isinstance(s.dtype, np.dtype):
        ints = s.to_numpy()
    else:  # pandas' nullable Int64 / UInt64 (or arrow) integers
        missing = s.isna().to_numpy()
        ints = s.to_numpy(dtype=np.uint64 if kind == "u" else np.int64, na_value=0)
        if not missing.any():
            missing = None
    if spec.family == "integer" and missing is None:
        if kind == "u":
            too_big = ints > INT64_MAX
            if too_big.any():
                _unrepresentable(res, "int64", too_big)
                _apply_range(spec, np.where(too_big, np.nan, ints.astype(np.float64)), res, pol)
                return None
        checked = _apply_range(spec, ints.astype(np.int64, copy=False), res, pol)
        return None if res.problems else checked.astype(np.int64, copy=False)
    # A float column, or an integer column with missing values: float64 values.
    lossy = ~ints_exact_in_float(ints)
    floats = ints.astype(np.float64)
    if missing is not None:
        lossy &= ~missing
        floats[missing] = np.nan
    return _check_floats(spec, floats, res, pol, expected, lossy=lossy if lossy.any() else None)


def _check_floats(spec: ColumnSpec, floats: np.ndarray, res: _Result, pol: Policies,
                  expected: str, *, lossy: np.ndarray | None = None,
                  numbers: Numbers | None = None, skip: np.ndarray | None = None) -> Any:
    """Missing, infinite, whole, representable and in range: the float64 (or int64) values.

    ``lossy`` marks cells known not to be float64 values (reported here), ``skip``
    cells reported already (each cell is reported once); ``numbers`` carries the
    exact integers of an object column (``floats`` may round them).
    """
    missing = np.isnan(floats)
    if lossy is not None:
        _unrepresentable(res, "float64", lossy)
        skip = lossy if skip is None else skip | lossy
    if skip is not None:
        missing &= ~skip
    has_missing = bool(missing.any())
    if has_missing and not spec.nullable:
        res.bad("missing value where training had none", missing, expected)
    infinite = np.isinf(floats)
    if not spec.allow_inf:
        res.bad("infinite value", infinite, f"finite {expected}")
    as_int64 = spec.family == "integer" and not has_missing
    reported = skip
    if spec.family == "integer":
        with np.errstate(invalid="ignore"):
            fraction = ~missing & ~infinite & (floats != np.floor(floats))
        if skip is not None:
            fraction &= ~skip
        res.bad("non-integer value", fraction, "whole numbers")
        reported = fraction if skip is None else fraction | skip
        if as_int64:
            too_big = floats_outside_int64(floats) & ~fraction
            if numbers is not None:
                too_big &= ~numbers.exact  # their exact integers are checked already
            _unrepresentable(res, "int64", too_big)
            reported |= too_big
    if res.problems:  # the other cells are still checked for range: every problem at once
        _apply_range(spec, floats if reported is None else np.where(reported, np.nan, floats),
                     res, pol)
        return None
    before = floats
    floats = _apply_range(spec, floats, res, pol)
    if res.problems:
        return None
    if not as_int64:
        return floats
    if numbers is None or not numbers.exact.any():
        return floats.astype(np.int64)
    if floats is not before:  # clipped: a clipped cell takes its bound
        numbers.exact &= floats == before
    numbers.floats = floats
    return numbers.to_int64()


def _apply_range(spec: ColumnSpec, values: np.ndarray, res: _Result, pol: Policies
                 ) -> np.ndarray:
    bounds = numeric_bounds(spec, pol)
    if bounds is None:
        return values
    lo, hi = bounds
    shown = (f"values between {lo:.6g} and {hi:.6g} (seen range widened by "
             f"{pol.range_tolerance:.0%} of its span)")
    return _range(res, values, lo, hi, pol.out_of_range, shown)


_STATUS_PROBLEMS = {NOT_NUMBER: "text that is not a number", NOT_INTEGER: "non-integer value"}


def _object_numbers(spec: ColumnSpec, s: pd.Series, res: _Result, pol: Policies,
                    expected: str) -> tuple[Numbers, np.ndarray]:
    """Numbers (and, with ``coerce_strings``, numeric text) of an object column, exactly.

    Returns the numbers and the mask of the cells refused (and reported) here.
    """
    if isinstance(s.dtype, pd.StringDtype):  # text or missing only: no type scan
        codes = np.where(s.isna().to_numpy(), NULL, TEXT).astype(np.int8)
    else:
        codes = classify(s)
    allowed = {*NUMBERS, TEXT} if pol.coerce_strings else set(NUMBERS)
    bad = _wrong_types(res, codes, allowed, expected)
    text = codes == TEXT
    if pol.coerce_strings:
        bad |= _too_long(res, s, text, pol.max_string_length)
    # int64 values unless the column holds missing values (then float64, as in training).
    integer = spec.family == "integer" and not (codes == NULL).any()
    numbers = object_numbers(s.to_numpy(dtype=object), codes, ~bad & (codes != NULL),
                             integer)
    status = numbers.status
    if status.any():
        for code, what in _STATUS_PROBLEMS.items():
            res.bad(what, status == code, expected)
        _unrepresentable(res, "int64" if integer else "float64", status == NOT_REPRESENTABLE)
        bad |= status != 0
    return numbers, bad


def _check_boolean(spec: ColumnSpec, s: pd.Series, res: _Result, pol: Policies) -> Any:
    expected = "true/false (or 0/1)"
    if is_bool(s) and not isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
        return s.to_numpy()
    not_01 = "number other than 0 or 1 in a boolean column"
    if is_bool(s):  # pandas' nullable "boolean" (or a bool extension dtype): no cell scan
        missing = s.isna().to_numpy()
        floats = s.to_numpy(dtype=float, na_value=np.nan)
    elif _real_numbers(s):
        floats = s.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(floats)
        raw = s.to_numpy() if isinstance(s.dtype, np.dtype) else floats
        with np.errstate(invalid="ignore"):  # compared in the request's own dtype: exact
            res.bad(not_01, ~missing & (raw != 0) & (raw != 1), expected)
    elif is_numeric(s):  # complex numbers
        return _wrong_dtype(spec, s, res, "booleans", expected)
    else:
        values = s.to_numpy(dtype=object)
        codes = classify(s)
        allowed = {BOOL, *NUMBERS, TEXT} if pol.coerce_strings else {BOOL, *NUMBERS}
        bad = _wrong_types(res, codes, allowed, expected)
        floats = np.full(len(s), np.nan)
        bools = codes == BOOL
        if bools.any():
            floats[bools] = pd.to_numeric(pd.Series(values[bools], dtype=object)
                                          ).to_numpy(dtype=float)
        numbers = np.isin(codes, NUMBERS)
        if numbers.any():  # exact: 1 + 1e-20 is no 1, nor is 2**64 + 1
            read = object_numbers(values, codes, numbers, integer=False)
            floats[numbers] = read.floats[numbers]
            res.bad(not_01, numbers & ((read.status != 0) | (
                ~np.isnan(floats) & (floats != 0) & (floats != 1))), expected)
        text = codes == TEXT
        if pol.coerce_strings and text.any():
            bad |= _too_long(res, s, text, pol.max_string_length)
            usable = text & ~bad
            words = pd.Series(values[usable], dtype=object).str.strip().str.lower()
            floats[usable] = words.map({"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0}
                                       ).to_numpy(dtype=float, na_value=np.nan)
            res.bad("text that is not a boolean", usable & np.isnan(floats), expected)
        missing = (codes == NULL)
    if not spec.nullable:
        res.bad("missing value where training had none", missing, expected)
    if res.problems:
        return None
    if not missing.any():
        return floats == 1
    out = np.full(len(floats), np.nan, dtype=object)
    out[~missing] = floats[~missing] == 1
    return out


def _check_string(spec: ColumnSpec, s: pd.Series, res: _Result, pol: Policies) -> Any:
    expected = "text"
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
        return _wrong_dtype(spec, s, res, expected)
    cats = spec.categories
    known = np.zeros(len(s), dtype=bool)
    if cats is not None:
        with contextlib.suppress(TypeError):  # unhashable cells (lists...): reported below
            known = s.isin(cats).to_numpy()
        if known.all():
            return as_text(s.to_numpy(dtype=object))
    elif _all_short_text(s, pol.max_string_length):
        return as_text(s.to_numpy(dtype=object))
    rest = ~known
    missing = np.zeros(len(s), dtype=bool)
    missing[rest] = s[rest].isna().to_numpy()
    candidates = rest & ~missing
    if s.dtype == object and pd.api.types.infer_dtype(s[candidates], skipna=True) != "string":
        codes = np.full(len(s), NULL, dtype=np.int8)
        codes[candidates] = classify(s[candidates])
        bad = _wrong_types(res, codes, {TEXT}, expected)
        candidates &= ~bad
    candidates &= ~_too_long(res, s, candidates, pol.max_string_length)
    if not spec.nullable:
        res.bad("missing value where training had none", missing, expected)
    if cats is not None and candidates.any():
        shown = _categories_text(cats)
        if pol.unseen == "error":
            res.bad("unseen category", candidates, shown)
        elif pol.unseen == "flag":
            res.note("unseen category", candidates, expected=shown)
        else:
            res.note(f"unseen category mapped to {pol.rare_value!r}", candidates, expected=shown)
            if not res.problems:
                out = s.to_numpy(dtype=object).copy()
                out[candidates] = pol.rare_value
                return _text_values(spec, out, missing, copied=True)
    if res.problems:
        return None
    return _text_values(spec, s.to_numpy(dtype=object), missing)


def _text_values(spec: ColumnSpec, values: np.ndarray, missing: np.ndarray, *,
                 copied: bool = False) -> Any:
    """Validated text whose missing cells (``None``, ``NaN``, ``pd.NA``...) are all one value.

    The request's own missing values differ by input form (a dict keeps
    ``None``, a frame may hold ``NaN``); the validated column holds the one
    missing value of the trained column (:func:`missing_value`).
    """
    if missing.any():
        if not copied:
            values = values.copy()  # never the request's own buffer
        values[missing] = missing_value(spec)
    return as_text(values)


def _categories_text(cats: tuple[str, ...], limit: int = 8) -> str:
    """The expected categories, named (they are the contract's, never the request's)."""
    named = ", ".join(repr(c if len(c) <= 40 else c[:37] + "...") for c in cats[:limit])
    more = f", ... ({len(cats)} in all)" if len(cats) > limit else ""
    return f"one of the categories seen in training: {named}{more}"


def as_text(values: Any) -> Any:
    """Text values (str and NaN) in the dtype pandas gives Python strings."""
    if not isinstance(TEXT_DTYPE, pd.StringDtype):  # pandas 2: object
        return np.asarray(values, dtype=object)
    return pd.array(np.asarray(values, dtype=object), dtype=TEXT_DTYPE)


def valid_text(spec: ColumnSpec, s: pd.Series, pol: Policies,
               canonical: dict[str, str] | None) -> Any:
    """The validated values of a text column that meets the contract as it is, else None.

    The fast paths of a ``string`` column, each without a Python object per
    row: a categorical column by its categories and integer codes, text held
    in pyarrow by pyarrow's kernels. They accept a column only when the full
    check would find no problem and no note, and return what it would return;
    anything else (None) goes to the full check, which reports every problem.
    """
    if canonical is not None and isinstance(s.dtype, pd.CategoricalDtype):
        lookup = [canonical.get(c) if isinstance(c, str) else None for c in s.cat.categories]
        # The last entry stands for code -1, a missing value.
        unknown = np.array([c is None for c in lookup] + [not spec.nullable])
        codes = s.cat.codes.to_numpy()
        if unknown[codes].any():
            return None
        return _categorical_text(spec, lookup, codes)
    if ARROW_TEXT:
        return _arrow_text(spec, s, pol)
    return None


def _categorical_text(spec: ColumnSpec, lookup: list[Any], codes: np.ndarray) -> Any:
    """The text of a categorical column whose used categories are all known.

    ``lookup`` holds the contract's text of each category (the shared string
    objects), code -1 is a missing value: as :func:`_text_values` returns it.
    """
    if ARROW_TEXT:  # one pyarrow take: no Python object per row
        import pyarrow as pa

        missing = codes < 0
        indices = pa.array(codes, mask=missing) if missing.any() else pa.array(codes)
        with contextlib.suppress(ValueError, pa.ArrowException):  # text pyarrow cannot hold
            return TEXT_DTYPE.__from_arrow__(pa.array(lookup, type=pa.large_string())
                                             .take(indices))
    return as_text(np.array([*lookup, missing_value(spec)], dtype=object)[codes])


def _arrow_text(spec: ColumnSpec, s: pd.Series, pol: Policies) -> Any:
    """Arrow-backed text that meets the contract as it is, else None (the full check decides).

    Checked in pyarrow, without a Python object per cell: every cell a known
    category (or, without categories, at most ``max_string_length``
    characters), missing cells only where training had some. The values are
    then exactly what the full check returns: a column already in the
    validated dtype is handed on as it is (pyarrow buffers are immutable; the
    array object is new), another arrow text dtype is converted once.
    """
    strings = arrow_strings(s)
    if strings is None:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    nulls = strings.null_count
    if nulls and not spec.nullable:
        return None
    if spec.categories is not None:
        # The distinct values (a null among them when there are missing cells), then
        # those few against the categories: a little faster than every cell against them.
        distinct = pc.unique(strings)
        texts = len(distinct) - (nulls > 0)
        if texts > len(spec.categories):
            return None
        try:
            value_set = pa.array(spec.categories, type=strings.type)
        except (ValueError, pa.ArrowException):  # a category pyarrow cannot hold ("\ud800")
            return None
        if (pc.sum(pc.is_in(distinct, value_set=value_set)).as_py() or 0) != texts:
            return None
    elif len(strings) > nulls:
        limit = pol.max_string_length
        # A character takes at least one byte: the byte lengths bound the character counts.
        if pc.max(pc.binary_length(strings)).as_py() > limit and pc.max(
                pc.utf8_length(strings)).as_py() > limit:
            return None
    return s.array.copy() if s.dtype == TEXT_DTYPE else TEXT_DTYPE.__from_arrow__(strings)


def repeat_text(value: str, n: int) -> Any:
    """``n`` times the text ``value``, in the dtype pandas gives Python strings.

    What ``np.full(n, value, dtype=object)`` becomes in a DataFrame, faster:
    ``np.full`` makes a new string object per row (5 ms for 100,000 rows),
    which pandas 3 then converts to pyarrow one by one (3 ms more). Here the
    rows share ``value`` (pandas 2: 0.4 ms), or pyarrow repeats it (pandas 3:
    0.3 ms). No rows: an empty object array, which pandas keeps as objects.

    Examples
    --------
    >>> import pandas as pd
    >>> pd.Series(repeat_text("1.0", 2)).tolist()
    ['1.0', '1.0']
    """
    if ARROW_TEXT and n > 0:
        import pyarrow as pa

        with contextlib.suppress(ValueError, pa.ArrowException):  # text pyarrow cannot hold:
            return TEXT_DTYPE.__from_arrow__(  # pandas decides, as for any Python string
                pa.repeat(pa.scalar(value, pa.large_string()), n))
    out = np.empty(n, dtype=object)
    out.fill(value)
    return out


def _all_short_text(s: pd.Series, limit: int) -> bool:
    """Fast path for free text: every cell a string of at most ``limit`` characters."""
    values = s.to_numpy(dtype=object)
    if len(values) == 0:
        return True
    if s.dtype == object and pd.api.types.infer_dtype(values, skipna=False) != "string":
        return False
    try:  # a string dtype holds only str and NaN; NaN has no len
        return max(map(len, values)) <= limit
    except TypeError:
        return False


#: Date-time resolutions, coarsest first, and their names.
_UNITS = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
#: More than nine decimals of a second: finer than any resolution pandas holds.
_TOO_FINE_RE = re.compile(r"[.,][0-9]{10}")
#: Date-time text starts with a full date in the extended format (pandas alone would
#: also read "2021", "2021-1-1" or "-0" as dates).
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?![0-9])", re.ASCII)


def datetime_unit(dtype: str) -> str:
    """The resolution of a date-time dtype name (``"datetime64[us, UTC]"`` -> ``"us"``)."""
    match = re.match(r"datetime64\[(\w+)", dtype)
    return match.group(1) if match and match.group(1) in _UNITS else "ns"


def _unit_loss(index: pd.DatetimeIndex, unit: str) -> np.ndarray:
    """Mask of the date-times the resolution ``unit`` cannot hold exactly.

    A finer input (nanoseconds for a microsecond column) loses its extra
    digits unless they are zero; a coarser one (seconds for a nanosecond
    column) overflows beyond the years the finer unit reaches (1677-2262 for
    nanoseconds).
    """
    order = list(_UNITS)
    step = order.index(str(index.unit)) - order.index(unit)
    if step == 0:
        return np.zeros(len(index), dtype=bool)
    i8 = index.asi8
    valid = np.asarray(index.notna())
    factor = 1000 ** abs(step)
    if step > 0:
        return valid & (i8 % factor != 0)
    limit = np.iinfo(np.int64).max // factor
    return valid & ((i8 > limit) | (i8 < -limit))


def _stamp_text(v: Any) -> str | None:
    """ISO 8601 text of a date-time object, None when no pandas date-time holds it exactly."""
    try:
        if (isinstance(v, np.datetime64) and np.datetime_data(v.dtype)[0] in {"ps", "fs", "as"}
                and v.astype("datetime64[ns]").astype(v.dtype) != v):
            return None  # below the nanosecond: pandas would truncate it
        return pd.Timestamp(v).isoformat()
    except (ValueError, TypeError, OverflowError, ArithmeticError):
        return None


def _not_representable(res: _Result, spec: ColumnSpec, mask: np.ndarray) -> None:
    unit = datetime_unit(spec.dtype)
    res.bad(f"date-time not representable as {spec.dtype}", mask,
            f"date-times in whole {_UNITS[unit]} that datetime64[{unit}] holds")


#: Units of each date-time resolution in a second.
_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


def _day_number(years: np.ndarray) -> np.ndarray:
    """Days from 1970-01-01 to the first of January of each year."""
    return (years - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)


def _read_beyond(stamps: pd.DatetimeIndex, text: np.ndarray, retry: np.ndarray,
                 failed: np.ndarray, unit: str) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Read again the ``retry`` text pandas returned as NaT: ISO 8601 beyond its years?

    pandas parses a column at one resolution, nanoseconds on pandas 2 (and on
    pandas 3 when a cell has more than six decimals), which ends in 2262:
    ``"2500-01-01"`` then comes back as NaT, like text that is no date-time.
    Each cell is parsed again with its year moved to 2000 (2001 for a common
    year: only 29 February depends on the year), and the years added back
    exactly, in whole seconds.

    A valid cell is no longer ``failed`` (updated in place). Returns the
    stamps (in ``unit`` when a cell read again fits it) and the mask of the
    cells ``datetime64[unit]`` cannot hold.
    """
    cells = pd.Series(text[retry], dtype=object)
    years = cells.str.slice(0, 4).astype(np.int64).to_numpy()
    leap = (years % 4 == 0) & ((years % 100 != 0) | (years % 400 == 0))
    moved = np.where(leap, 2000, 2001)
    shifted = (pd.Series(np.where(leap, "2000", "2001"), dtype=object)
               + cells.str.slice(4)).to_numpy(dtype=object)
    parsed = pd.DatetimeIndex(pd.to_datetime(shifted, format="ISO8601", utc=True,
                                             errors="coerce")).as_unit("ns")
    valid = np.asarray(parsed.notna())
    seconds, fraction = np.divmod(parsed.asi8, _PER_SECOND["ns"])
    seconds += (_day_number(years) - _day_number(moved)) * 86_400
    per_second = _PER_SECOND[unit]
    step = _PER_SECOND["ns"] // per_second
    reach = np.iinfo(np.int64).max // per_second  # seconds either side of 1970
    held = valid & (fraction % step == 0) & (seconds < reach) & (seconds > -reach)
    where = np.flatnonzero(retry)
    failed[where[valid]] = False
    beyond = np.zeros(len(text), dtype=bool)
    beyond[where[valid & ~held]] = True
    if not held.any():
        return stamps, beyond
    main = _unit_loss(stamps, unit)  # the cells parsed at first, in ``unit`` now
    values = stamps.where(~main).as_unit(unit).asi8.copy()
    values[where[held]] = seconds[held] * per_second + fraction[held] // step
    return (pd.DatetimeIndex(values.view(f"datetime64[{unit}]")).tz_localize("UTC"),
            beyond | main)


def _parse_datetime_cells(spec: ColumnSpec, s: pd.Series, res: _Result, pol: Policies,
                          expected: str) -> pd.DatetimeIndex:
    """ISO 8601 text (and date-time objects) of an object column, in the training zone."""
    values = s.to_numpy(dtype=object)
    if isinstance(s.dtype, pd.StringDtype):  # text or missing only: no type scan
        codes = np.where(pd.isna(values), NULL, TEXT).astype(np.int8)
    else:
        codes = classify(s)
    bad = _wrong_types(res, codes, {TEXT, DATETIME}, expected)
    str_cells = codes == TEXT
    bad |= _too_long(res, s, str_cells, pol.max_string_length)
    text = np.full(len(s), None, dtype=object)
    ok_text = str_cells & ~bad
    dated = np.zeros(len(s), dtype=bool)
    if ok_text.any():
        cells = values[ok_text]
        dated[ok_text] = np.fromiter(map(bool, map(_DATE_RE.match, cells)), dtype=bool,
                                     count=len(cells))
        text[dated] = values[dated]
    dt_cells = codes == DATETIME
    lossy = np.zeros(len(s), dtype=bool)
    if dt_cells.any():
        text[dt_cells] = pd.Series(values[dt_cells], dtype=object).map(_stamp_text
                                                                      ).to_numpy(dtype=object)
        lossy[dt_cells] = pd.isna(text[dt_cells])
    usable = dated | (dt_cells & ~lossy)
    stamps = pd.DatetimeIndex(pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce"))
    failed = np.array(stamps.isna())  # a copy: pandas caches the mask, updated below
    nanoseconds = stamps.unit == "ns"
    beyond = np.zeros(len(s), dtype=bool)  # not held at the training resolution
    retry = usable & failed
    if retry.any():  # maybe ISO 8601 beyond the years of the resolution pandas parsed at
        cells = text[retry]
        retry[retry] = np.fromiter(map(bool, map(_DATE_RE.match, cells)), dtype=bool,
                                   count=len(cells))
    if retry.any():
        stamps, beyond = _read_beyond(stamps, text, retry, failed, datetime_unit(spec.dtype))
        nanoseconds = True  # read in nanoseconds
    lossy |= dt_cells & failed  # a date-time object pandas cannot hold (year 10000...)
    unparsed = (ok_text & ~dated) | (dated & failed)
    usable &= ~failed
    res.bad("text that is not an ISO 8601 date-time", unparsed, expected)
    has_offset = np.zeros(len(s), dtype=bool)
    parsable = usable
    if parsable.any():
        cells = text[parsable]
        has_offset[parsable] = np.fromiter(map(bool, map(_OFFSET_RE.search, cells)), dtype=bool,
                                           count=len(cells))
        if nanoseconds:  # pandas keeps nine decimals and drops the rest
            lossy[parsable] |= np.fromiter(map(bool, map(_TOO_FINE_RE.search, cells)),
                                           dtype=bool, count=len(cells))
    # As for the cells read at first, a time zone problem is reported before the resolution.
    if spec.tz is None:
        zone = parsable & has_offset & ~lossy
        res.bad("date-time with a time zone where training had none", zone, expected)
    else:
        zone = parsable & ~has_offset & ~lossy
        res.bad("date-time without a time zone", zone, expected)
    _not_representable(res, spec, lossy | (beyond & ~zone))
    return stamps.tz_localize(None) if spec.tz is None else stamps.tz_convert(spec.tz)


def _check_datetime(spec: ColumnSpec, s: pd.Series, res: _Result, pol: Policies) -> Any:
    expected = ("ISO 8601 date-times" + (f" with a time zone (converted to {spec.tz})"
                                         if spec.tz else " without a time zone"))
    if is_datetime(s):
        index = pd.DatetimeIndex(s)  # index operations: numpy speed, no Series overhead
        aware = index.tz is not None
        if aware and spec.tz is None:
            res.bad("date-time with a time zone where training had none",
                    np.asarray(index.notna()), expected)
        elif not aware and spec.tz is not None:
            res.bad("date-time without a time zone", np.asarray(index.notna()), expected)
        elif aware:
            index = index.tz_convert(spec.tz)
    elif is_numeric(s) or is_bool(s) or pd.api.types.is_timedelta64_dtype(s.dtype):
        return _wrong_dtype(spec, s, res, "date-times", expected)
    else:
        index = _parse_datetime_cells(spec, s, res, pol, expected)
    if res.problems:
        return None
    unit = datetime_unit(spec.dtype)
    _not_representable(res, spec, _unit_loss(index, unit))
    missing = np.asarray(index.isna())
    if not spec.nullable:
        res.bad("missing value where training had none", missing, expected)
    if res.problems:
        return None
    if index.unit != unit:
        index = index.as_unit(unit)  # exact: checked above
    if spec.min is not None and spec.max is not None and pol.out_of_range != "ignore" \
            and not missing.all():
        margin = pd.Timedelta(pol.datetime_margin)
        lo, hi = pd.Timestamp(spec.min) - margin, pd.Timestamp(spec.max) + margin
        if spec.tz is not None:
            lo, hi = lo.tz_convert(spec.tz), hi.tz_convert(spec.tz)
        shown = f"date-times between {lo.isoformat()} and {hi.isoformat()}"
        if index.min() < lo or index.max() > hi:
            outside = np.asarray((index < lo) | (index > hi))
            if pol.out_of_range == "error":
                res.bad("out of range", outside, shown)
            elif pol.out_of_range == "clip":
                res.note("out of range, clipped", outside, expected=shown)
                index = pd.DatetimeIndex(pd.Series(index).clip(lo, hi)).as_unit(unit)
            else:
                res.note("out of range", outside, expected=shown)
    if res.problems:
        return None
    if str(index.dtype) != spec.dtype:
        index = index.astype(spec.dtype)
    return index.array


_CHECKS = {"integer": _check_numeric, "float": _check_numeric, "boolean": _check_boolean,
           "string": _check_string, "datetime": _check_datetime}


def check_column(spec: ColumnSpec, s: pd.Series, policies: Policies,
                 canonical: dict[str, str] | None = None
                 ) -> tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]:
    """Validate one request column: ``(values or None, problems, notes)``.

    ``canonical`` maps each category of a text column to one shared string
    object: a batch of known categories is checked in one pass and returned
    as those shared objects, which later encoders compare and hash faster.
    Categorical and arrow-backed text columns take :func:`valid_text` first.
    """
    res = _Result(spec.name)
    if spec.family == "string":
        fast = valid_text(spec, s, policies, canonical)
        if fast is not None:
            return fast, [], []
        if canonical is not None and isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
    if spec.family == "string" and canonical is not None and len(s):
        values = s.to_numpy(dtype=object)
        try:  # one pass; the first unseen, missing or unhashable cell stops it
            return as_text(list(map(canonical.__getitem__, values))), [], []
        except (KeyError, TypeError):  # the full check finds and reports every problem
            pass
    try:
        values = _CHECKS[spec.family](spec, s, res, policies)
    except (ArithmeticError, TypeError, ValueError) as exc:
        # Cells that break pandas itself (a signaling Decimal NaN, exotic objects):
        # a problem naming the column, never a raw traceback.
        if s.dtype != object:
            raise
        codes = classify(s)
        odd = np.isin(codes, [NESTED, OTHER, BYTES, COMPLEX])
        res.problems.append(problem(spec.name, f"unreadable values ({type(exc).__name__})",
                                    odd if odd.any() else np.ones(len(s), dtype=bool),
                                    expected=spec.family))
        values = None
    return (None if res.problems else values), res.problems, res.notes
