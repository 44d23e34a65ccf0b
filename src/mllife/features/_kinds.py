"""Cheap per-column kind detection for ``make_preprocessor`` (sample-based where safe)."""

from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from .._frame import infer_kind, is_datetime, is_numeric

#: Entry name -> (kind shown in the plan, what is done). Order = output order.
ENTRY_KINDS: dict[str, tuple[str, str]] = {
    "numeric": ("numeric", "median impute + missing indicator, then scale"),
    "timedelta": ("timedelta", "as seconds, then as numeric"),
    "boolean": ("boolean", "as 0/1, most frequent value imputed"),
    "datetime": ("datetime", "calendar features (with hour), elapsed days, impute, scale"),
    "date": ("date", "calendar features (no time of day), elapsed days, impute, scale"),
    "datetime_utc": ("datetime (mixed time zones)",
                     "converted to UTC, calendar features, elapsed days, impute, scale"),
    "categorical": ("categorical", "one-hot, surviving unseen and rare values"),
    "high_cardinality": ("categorical (many values)", "rare grouping, then one-hot of the kept values"),
    "id": ("id", "ID-like: a distinct value per row carries no pattern"),
    "constant": ("constant", "a single value carries no information"),
    "empty": ("empty", "no value at all"),
    "text": ("text", "free text needs a text vectoriser (not chosen automatically)"),
    "numeric_text": ("numbers as text", "numbers stored as text: convert them first (Cleaner)"),
    "excluded": ("excluded", "excluded by the caller (drop=)"),
}
#: Entries whose columns are dropped.
DROPPED = frozenset({"id", "constant", "empty", "text", "numeric_text", "excluded"})

_DATE_SHAPE = re.compile(r"^\s*\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}([ T]\d{1,2}:\d{2}.*)?\s*$")


def _looks_like_dates(values: pd.Series) -> str | None:
    """``"datetime"`` / ``"date"`` when (a sample of) strings all parse as dates in one format."""
    sample = values.dropna()
    if len(sample) == 0:
        return None
    sample = sample.iloc[:200].astype(str)
    if not sample.str.match(_DATE_SHAPE).all():
        return None
    from ._datetime_features import DateTimeFeatures

    values = pd.Series(sample.to_numpy(dtype=object))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed, _ = DateTimeFeatures()._parse_strings(values, "_", None)
    except ValueError as exc:
        if "time zones" not in str(exc):
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                DateTimeFeatures(utc=True)._parse_strings(values, "_", None)
        except ValueError:
            return None
        return "datetime_utc"
    return _date_or_datetime(parsed)


def _numbers_as_text(values: pd.Series) -> bool:
    """Strings that are (nearly all) numbers: ``"12.5"``, with a few blanks."""
    if is_numeric(values) or isinstance(values.dtype, pd.CategoricalDtype):
        return False
    sample = values.dropna().iloc[:500]
    if len(sample) == 0 or pd.api.types.infer_dtype(sample, skipna=True) != "string":
        return False
    parsed = pd.to_numeric(sample, errors="coerce")
    return bool(parsed.notna().mean() >= 0.9 and parsed.nunique() > 2)


def _object_dates_kind(values: pd.Series) -> str:
    from ._datetime_features import DateTimeFeatures

    try:
        parsed = DateTimeFeatures()._parse_objects(values, "_")
    except ValueError as exc:
        return "datetime_utc" if "time zones" in str(exc) else "mixed"
    return _date_or_datetime(parsed)


def _date_or_datetime(s: pd.Series) -> str:
    values = s.dropna()
    if values.dt.tz is not None:
        values = values.dt.tz_localize(None)
    midnight = (values == values.dt.normalize()).all()
    return "date" if midnight else "datetime"


def _confirm(s: pd.Series, kind: str, sampled: bool) -> str:
    """Re-check on the full column what a sample cannot prove."""
    if not sampled:
        return kind
    if kind in {"empty", "constant"}:
        return infer_kind(s)
    if kind == "id":
        if s.isna().any() or not s.is_unique:
            return "numeric" if is_numeric(s) else "high_cardinality"
        if is_numeric(s) and not (s.is_monotonic_increasing or s.is_monotonic_decreasing):
            return "numeric"
    return kind


def detect_kinds(frame: pd.DataFrame, *, max_categories: int, sample_size: int) -> dict[Any, str]:
    """The ``make_preprocessor`` entry of every column of ``frame``."""
    n = len(frame)
    sampled = n > sample_size
    if sampled:
        rng = np.random.default_rng(0)
        positions = np.sort(rng.choice(n, size=sample_size, replace=False))
        # Keep the first and last rows: a sorted sample keeps monotonic IDs monotonic.
        positions[0], positions[-1] = 0, n - 1
    kinds: dict[Any, str] = {}
    for i, col in enumerate(frame.columns):
        full = frame.iloc[:, i]
        s = full.iloc[positions] if sampled else full
        kind = _confirm(full, infer_kind(s, max_categories=max(50, max_categories)), sampled)
        if kind in {"categorical", "id", "text", "mixed"} and not isinstance(s.dtype, pd.CategoricalDtype):
            date_kind = _looks_like_dates(s) if kind != "mixed" else None
            if date_kind is not None:
                kinds[col] = date_kind
                continue
        if kind == "datetime":
            if isinstance(s.dtype, pd.PeriodDtype):
                kind = "date"
            elif is_datetime(s):
                kind = _date_or_datetime(s)
            else:  # Python datetime / date objects: one time zone, or several?
                kind = _object_dates_kind(s)
        elif kind in {"categorical", "mixed", "id"} and _numbers_as_text(s):
            kind = "numeric_text"
        elif kind in {"categorical", "mixed"}:
            try:
                n_unique = s.nunique(dropna=True)
            except TypeError:
                n_unique = s.astype(str).nunique(dropna=True)
            kind = "categorical" if n_unique <= max_categories else "high_cardinality"
            n_present = int(s.notna().sum())
            if kind == "high_cardinality" and n_present >= 50 and n_unique >= 0.95 * n_present:
                spaces = s.dropna().astype(str).str.contains(" ", regex=False).mean()
                kind = "id" if spaces < 0.05 else "text"
        kinds[col] = kind
    return kinds
