"""The ``make_preprocessor`` entries: column kinds (from :mod:`mllife._columns`) to steps.

The kinds themselves are decided once, by :func:`mllife._columns.column_kinds`
(the detector the audit, drift and split use too). Here they become
``ColumnTransformer`` entries: one entry per kind, except

- ``boolean`` text flags (``"Y"``/``"N"``) go to ``boolean_text``, which maps
  their two spellings to 0/1 (real booleans go to ``boolean``);
- ``mixed`` columns (several Python types) are read as text categories:
  ``categorical`` or ``high_cardinality`` by their distinct count;
- ``drop=`` columns go to ``excluded``.

Which of ``categorical`` / ``high_cardinality`` a column goes to is the one
routing decision with a threshold (``max_categories``); :func:`route` makes it,
at ``make_preprocessor`` time and again at ``fit`` (so ``GridSearchCV`` can tune
``max_categories``).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .._columns import ColumnKind, column_kinds

__all__ = ["DROPPED", "ENTRY_KINDS", "detect_kinds", "entry_of", "kind_of_entry", "route"]

#: Entry name -> (kind shown in the plan, what is done). Order = output order.
ENTRY_KINDS: dict[str, tuple[str, str]] = {
    "numeric": ("numeric", "median impute + missing indicator, then scale"),
    "timedelta": ("timedelta", "as seconds, then as numeric"),
    "boolean": ("boolean", "as 0/1, most frequent value imputed"),
    "boolean_text": ("boolean", "yes/no text as 0/1, most frequent value imputed"),
    "datetime": ("datetime", "calendar features (with hour), elapsed days, impute, scale"),
    "date": ("date", "calendar features (no time of day), elapsed days, impute, scale"),
    "datetime_utc": ("datetime (mixed time zones)",
                     "converted to UTC, calendar features, elapsed days, impute, scale"),
    "categorical": ("categorical", "one-hot, surviving unseen and rare values"),
    "high_cardinality": ("categorical (many values)", "rare grouping, then one-hot of the kept values"),
    "identifier": ("identifier", "an identifier: a distinct value per row carries no pattern"),
    "constant": ("constant", "a single value carries no information"),
    "empty": ("empty", "no value at all"),
    "text": ("text", "free text needs a text vectoriser (not chosen automatically)"),
    "numeric_text": ("numbers as text", "numbers stored as text: convert them first (Cleaner)"),
    "excluded": ("excluded", "excluded by the caller (drop=)"),
}
#: Entries whose columns are dropped.
DROPPED = frozenset({"identifier", "constant", "empty", "text", "numeric_text", "excluded"})
#: Entry names of preprocessors saved before the kinds were unified.
LEGACY_ENTRIES = {"id": "identifier"}
#: Entries whose name is not the column kind.
_ENTRY_KIND = {"boolean_text": "boolean"}


def route(n_unique: int, max_categories: int) -> str:
    """``categorical`` up to ``max_categories`` distinct values, ``high_cardinality`` above."""
    return "categorical" if n_unique <= max_categories else "high_cardinality"


def entry_of(kind: ColumnKind, max_categories: int) -> str:
    """The ``make_preprocessor`` entry of a column of this kind."""
    if kind.kind == "boolean" and kind.boolean_values is not None:
        return "boolean_text"
    if kind.kind in {"categorical", "high_cardinality", "mixed"}:
        return route(kind.n_unique, max_categories)
    return kind.kind


def kind_of_entry(entry: str) -> str:
    """The column kind an entry stands for (``boolean_text`` -> ``boolean``; ``id`` -> ``identifier``)."""
    entry = LEGACY_ENTRIES.get(entry, entry)
    return _ENTRY_KIND.get(entry, entry)


def detect_kinds(frame: pd.DataFrame, *, max_categories: int, sample_size: int) -> dict[Any, ColumnKind]:
    """The kind of every column of ``frame`` (the one detector, :func:`mllife._columns.column_kinds`)."""
    return column_kinds(frame, max_categories=max_categories, sample_size=sample_size)
