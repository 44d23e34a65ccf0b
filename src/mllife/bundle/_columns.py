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
    CLASS_NAMES,
    DATETIME,
    NESTED,
    NULL,
    NUMBER,
    OTHER,
    TEXT,
    classify,
    problem,
)

FAMILIES = ("integer", "float", "boolean", "string", "datetime")
#: The dtype pandas gives a column of Python strings (``str`` on pandas 3, object before).
TEXT_DTYPE = pd.Series(["a"]).dtype
#: A UTC offset after the time part of an ISO 8601 string ("...T10:00+02:00", "... 10:00Z").
_OFFSET_RE = re.compile(r"[T ]\d\d(?::?\d\d(?::?\d\d(?:[.,]\d+)?)?)?\s*(?:[zZ]|[+-]\d\d(?::?\d\d)?)\s*$")


@dataclass(frozen=True)
class ColumnSpec:
    """What the training data showed about one column (JSON-safe fields only)."""

    name: str
    family: str
    dtype: str
    nullable: bool
    min: float | str | None = None
    max: float | str | None = None
    allow_inf: bool = False
    categories: tuple[str, ...] | None = None
    tz: str | None = None

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
        return cls(**data)


@dataclass(frozen=True)
class Policies:
    """The schema-wide policies ``check_column`` applies."""

    range_tolerance: float
    out_of_range: str
    datetime_margin: str
    unseen: str
    rare_label: str
    coerce_strings: bool
    max_string_length: int


# ---------------------------------------------------------------- inference
def infer_column(name: str, s: pd.Series, *, max_categories: int,
                 nullable: bool | None) -> ColumnSpec:
    """Learn the :class:`ColumnSpec` of one training column."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    seen_null = bool(s.isna().any())
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
    return ColumnSpec(name, "string", "object", is_nullable, categories=categories)


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
    if policy == "allow" or values.size == 0:
        return values
    if values.min() >= lo and values.max() <= hi:  # two reductions, no mask (NaN: go on)
        return values
    with np.errstate(invalid="ignore"):
        outside = ((values < lo) | (values > hi)) & np.isfinite(values)
    if policy == "allow" or not outside.any():
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


def _check_numeric(spec: ColumnSpec, s: pd.Series, res: _Result, pol: Policies) -> Any:
    expected = "integers" if spec.family == "integer" else "numbers"
    if is_numeric(s):
        arr = s.to_numpy()
        if arr.dtype.kind not in "if":  # nullable extension dtypes, unsigned
            arr = s.to_numpy(dtype=float, na_value=np.nan)
        if arr.dtype.kind == "i":
            return _check_int_array(spec, arr, res, pol, expected)
        floats = arr.astype(float, copy=False)
    elif is_bool(s) or is_datetime(s) or pd.api.types.is_timedelta64_dtype(s.dtype):
        res.bad(f"{s.dtype} values instead of {expected}", s.notna().to_numpy(), expected)
        return None
    else:
        floats = _object_to_float(s, res, pol, expected)
        if floats is None:
            return None
    missing = np.isnan(floats)
    has_missing = bool(missing.any())
    if has_missing and not spec.nullable:
        res.bad("missing value where training had none", missing, expected)
    infinite = np.isinf(floats)
    if not spec.allow_inf:
        res.bad("infinite value", infinite, f"finite {expected}")
    if spec.family == "integer":
        with np.errstate(invalid="ignore"):
            fraction = ~missing & ~infinite & (floats != np.floor(floats))
        res.bad("non-integer value", fraction, "whole numbers")
    floats = _apply_range(spec, floats, res, pol)
    if res.problems:
        return None
    if spec.family == "integer" and not has_missing:
        return floats.astype(np.int64)
    return floats


def _check_int_array(spec: ColumnSpec, ints: np.ndarray, res: _Result, pol: Policies,
                     expected: str) -> Any:
    """Integer input: no missing, no infinity, no fraction; only the range to check."""
    checked = _apply_range(spec, ints, res, pol)
    if res.problems:
        return None
    if spec.family == "integer":
        return checked.astype(np.int64, copy=False)
    return checked.astype(float)


def _apply_range(spec: ColumnSpec, values: np.ndarray, res: _Result, pol: Policies
                 ) -> np.ndarray:
    bounds = numeric_bounds(spec, pol)
    if bounds is None:
        return values
    lo, hi = bounds
    shown = (f"values between {lo:.6g} and {hi:.6g} (seen range widened by "
             f"{pol.range_tolerance:.0%} of its span)")
    return _range(res, values, lo, hi, pol.out_of_range, shown)


def _object_to_float(s: pd.Series, res: _Result, pol: Policies, expected: str
                     ) -> np.ndarray | None:
    """Numbers (and, with ``coerce_strings``, numeric text) of an object column as floats."""
    codes = classify(s)
    allowed = {NUMBER, TEXT} if pol.coerce_strings else {NUMBER}
    bad = _wrong_types(res, codes, allowed, expected)
    text = codes == TEXT
    if pol.coerce_strings:
        bad |= _too_long(res, s, text, pol.max_string_length)
    usable = (codes == NUMBER) | (text & ~bad)
    floats = np.full(len(s), np.nan)
    if usable.any():
        cells = pd.Series(s.to_numpy(dtype=object)[usable], dtype=object)
        if pol.coerce_strings:
            cells = cells.map(lambda v: v.strip() if isinstance(v, str) else v)
        parsed = pd.to_numeric(cells, errors="coerce")
        with np.errstate(over="ignore"):
            floats[usable] = parsed.to_numpy(dtype=float, na_value=np.nan)
        res.bad("text that is not a number", usable & text & np.isnan(floats), expected)
    return None if res.problems else floats


def _check_boolean(spec: ColumnSpec, s: pd.Series, res: _Result, pol: Policies) -> Any:
    expected = "true/false (or 0/1)"
    if is_bool(s) and not isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
        return s.to_numpy()
    if is_bool(s):  # pandas' nullable "boolean" (or a bool extension dtype): no cell scan
        missing = s.isna().to_numpy()
        floats = s.to_numpy(dtype=float, na_value=np.nan)
    elif is_numeric(s):
        floats = s.to_numpy(dtype=float, na_value=np.nan)
        missing = np.isnan(floats)
        res.bad("number other than 0 or 1 in a boolean column",
                ~missing & (floats != 0) & (floats != 1), expected)
    else:
        values = s.to_numpy(dtype=object)
        codes = classify(s)
        allowed = {BOOL, NUMBER, TEXT} if pol.coerce_strings else {BOOL, NUMBER}
        bad = _wrong_types(res, codes, allowed, expected)
        floats = np.full(len(s), np.nan)
        for code in (BOOL, NUMBER):
            cells = codes == code
            if cells.any():
                floats[cells] = pd.to_numeric(pd.Series(values[cells], dtype=object),
                                              errors="coerce").to_numpy(dtype=float)
        text = codes == TEXT
        if pol.coerce_strings and text.any():
            bad |= _too_long(res, s, text, pol.max_string_length)
            usable = text & ~bad
            words = pd.Series(values[usable], dtype=object).str.strip().str.lower()
            floats[usable] = words.map({"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0}
                                       ).to_numpy(dtype=float, na_value=np.nan)
            res.bad("text that is not a boolean", usable & np.isnan(floats), expected)
        res.bad("number other than 0 or 1 in a boolean column",
                (codes == NUMBER) & ~np.isnan(floats) & (floats != 0) & (floats != 1), expected)
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
        res.bad(f"{s.dtype} values instead of text", s.notna().to_numpy(), expected)
        return None
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
            res.note(f"unseen category mapped to {pol.rare_label!r}", candidates, expected=shown)
            if not res.problems:
                out = s.to_numpy(dtype=object).copy()
                out[candidates] = pol.rare_label
                return as_text(out)
    if res.problems:
        return None
    return as_text(s.to_numpy(dtype=object))


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


def _parse_datetime_cells(spec: ColumnSpec, s: pd.Series, res: _Result, pol: Policies,
                          expected: str) -> pd.DatetimeIndex:
    """ISO 8601 text (and date-time objects) of an object column, in the training zone."""
    values = s.to_numpy(dtype=object)
    if s.dtype != object:  # a string dtype: text or missing only
        codes = np.where(pd.isna(values), NULL, TEXT).astype(np.int8)
    else:
        codes = classify(s)
    bad = _wrong_types(res, codes, {TEXT, DATETIME}, expected)
    str_cells = codes == TEXT
    bad |= _too_long(res, s, str_cells, pol.max_string_length)
    text = np.full(len(s), None, dtype=object)
    ok_text = str_cells & ~bad
    text[ok_text] = values[ok_text]
    dt_cells = codes == DATETIME
    if dt_cells.any():
        text[dt_cells] = pd.Series(values[dt_cells], dtype=object).map(
            lambda v: pd.Timestamp(v).isoformat()).to_numpy(dtype=object)
    usable = ok_text | dt_cells
    stamps = pd.DatetimeIndex(pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce"))
    unparsed = usable & np.asarray(stamps.isna())
    res.bad("text that is not an ISO 8601 date-time", unparsed, expected)
    has_offset = np.zeros(len(s), dtype=bool)
    if usable.any():
        cells = text[usable]
        has_offset[usable] = np.fromiter(map(bool, map(_OFFSET_RE.search, cells)), dtype=bool,
                                         count=len(cells))
    parsable = usable & ~unparsed
    if spec.tz is None:
        res.bad("date-time with a time zone where training had none", parsable & has_offset,
                expected)
        return stamps.tz_localize(None)
    res.bad("date-time without a time zone", parsable & ~has_offset, expected)
    return stamps.tz_convert(spec.tz)


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
    elif is_numeric(s) or is_bool(s):
        res.bad(f"{s.dtype} values instead of date-times", s.notna().to_numpy(), expected)
        return None
    else:
        index = _parse_datetime_cells(spec, s, res, pol, expected)
    if res.problems:
        return None
    missing = np.asarray(index.isna())
    if not spec.nullable:
        res.bad("missing value where training had none", missing, expected)
    if spec.min is not None and spec.max is not None and pol.out_of_range != "allow" \
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
                index = pd.DatetimeIndex(pd.Series(index).clip(lo, hi))
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
    """
    res = _Result(spec.name)
    if spec.family == "string" and canonical is not None and isinstance(
            s.dtype, pd.CategoricalDtype):
        # A categorical column: check its few categories and its integer codes only.
        lookup = [canonical.get(c) if isinstance(c, str) else None for c in s.cat.categories]
        unknown = np.array([c is None for c in lookup] + [True])  # last: code -1, missing
        codes = s.cat.codes.to_numpy()
        if not unknown[codes].any():
            return as_text(np.array([*lookup, None], dtype=object)[codes]), [], []
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
        odd = np.isin(codes, [NESTED, OTHER])
        res.problems.append(problem(spec.name, f"unreadable values ({type(exc).__name__})",
                                    odd if odd.any() else np.ones(len(s), dtype=bool),
                                    expected=spec.family))
        values = None
    return (None if res.problems else values), res.problems, res.notes
