"""Table-level checks: duplicate rows (with and without ids), duplicate column names."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from .._frame import repeats_expected
from ..report import Finding
from ._data import AuditData
from ._registry import _builtin


def _dup_severity(n: int, share: float, threshold: float, coarse: bool = False) -> str:
    return "warning" if n >= 2 and share >= threshold and not coarse else "info"


def _coarse(data: AuditData, columns: list) -> bool:
    """Few possible distinct rows: repeats are expected (the rule ``split`` uses too;
    a missing value counts as one more value of its column)."""
    return repeats_expected([c.n_unique + (c.n_missing > 0) for c in columns if c.n_unique],
                            data.n_rows)


@_builtin("duplicate_column_names")
def duplicate_column_names(data: AuditData) -> Iterator[Finding]:
    """Several columns share one label: selecting by name is ambiguous."""
    labels = pd.Index([c.label for c in data.columns])
    for label in labels[labels.duplicated()].unique():
        n = int((labels == label).sum())
        yield Finding(
            "duplicate_column_names", "error", column=label,
            message=f"{n} columns are named {label!r}",
            suggestion="rename the columns so each name is unique",
            details={"n_columns": n},
        )


@_builtin("duplicate_rows", threshold=0.005)
def duplicate_rows(data: AuditData, threshold: float = 0.005) -> Iterator[Finding]:
    """Exact duplicate rows (every column equal, NaN equal to NaN).

    ``n_rows`` counts the later copies; a warning from ``threshold`` (share)
    and two copies on, info below (a few repeats can be real observations).
    """
    if data.n_rows < 2 or not data.columns:
        return
    dup = data.later_copies(data.columns)
    n = dup.n_rows
    if n:
        share = n / data.n_rows
        yield Finding(
            "duplicate_rows", _dup_severity(n, share, threshold, _coarse(data, data.columns)),
            message=f"{n} rows are exact copies of earlier rows",
            n_rows=n, share=share, threshold=threshold, sample_index=dup.sample_index,
            suggestion="drop them (df.drop_duplicates()) unless repeats are real events; keep copies "
                       "in one fold when splitting (DuplicateAwareKFold)",
        )


@_builtin("duplicates_ignoring_ids", threshold=0.005)
def duplicates_ignoring_ids(data: AuditData, threshold: float = 0.005) -> Iterator[Finding]:
    """Rows equal to an earlier row in every column but the ``id_cols``.

    Only rows that are not already exact duplicates are counted. Both
    duplicate checks report info only when the columns allow few distinct
    rows (the product of their distinct counts under ten times the rows).
    """
    if not data.id_cols or data.n_rows < 2:
        return
    rest = [c for c in data.columns if c.label not in set(data.id_cols)]
    if not rest:
        return
    dup = data.later_copies(rest, unless_copies_in=data.columns)
    n = dup.n_rows
    if n:
        share = n / data.n_rows
        yield Finding(
            "duplicates_ignoring_ids", _dup_severity(n, share, threshold, _coarse(data, rest)),
            message=f"{n} rows repeat an earlier row in everything but {list(data.id_cols)}",
            n_rows=n, share=share, threshold=threshold, sample_index=dup.sample_index,
            suggestion="check whether one record was entered under several ids; deduplicate on the "
                       "non-id columns if so",
            details={"id_cols": list(data.id_cols)},
        )
