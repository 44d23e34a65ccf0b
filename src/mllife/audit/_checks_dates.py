"""Date checks: several formats in one text column, ambiguous day/month, dates kept as text."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from .._dates import _family_of, classify, infer_date_formats
from ..report import Finding
from ._data import AuditData, ColumnInfo
from ._registry import _builtin

#: Distinct values classified to decide whether a column holds dates.
_SAMPLE = 1_000
#: Columns with more distinct values than this are counted on a sample of them.
_EXACT_LIMIT = 200_000


def _candidates(col: ColumnInfo) -> tuple[pd.Series, np.ndarray]:
    keep = ~col.null_tokens
    return col.uniques[keep], col.counts[keep]


def _sample(values: pd.Series, counts: np.ndarray, size: int) -> tuple[pd.Series, np.ndarray]:
    if len(values) <= size:
        return values, counts
    picks = np.random.default_rng(0).choice(len(values), size=size, replace=False)
    picks.sort()
    return values.iloc[picks], counts[picks]


@_builtin("date_formats", min_share=0.8)
def date_formats(data: AuditData, min_share: float = 0.8) -> Iterator[Finding]:
    """Text columns of dates: several formats (warning), ambiguous day/month (warning), one
    format kept as text (info).

    Detection classifies a sample of 1,000 distinct values; when more than one
    format (or an ambiguous order) shows up, every distinct value is
    classified to count rows per format exactly.
    """
    for col in data.columns:
        if not col.is_text or col.unhashable or col.n_present == 0 or col.inferred_type != "string":
            continue
        values, counts = _candidates(col)
        if len(values) == 0:
            continue
        values_s, counts_s = _sample(values, counts, _SAMPLE)
        guess = infer_date_formats(values_s.reset_index(drop=True), counts_s, min_share=min_share)
        if guess is None:
            continue
        exact = len(values) <= _EXACT_LIMIT
        if len(guess.formats) > 1 or guess.ambiguous:
            values_e, counts_e = (values, counts) if exact else _sample(values, counts, _EXACT_LIMIT)
            result = infer_date_formats(values_e.reset_index(drop=True), counts_e, min_share=min_share)
            result = result if result is not None else guess
        else:
            result = guess
        n_dates = col.n_present - int(col.counts[col.null_tokens].sum())
        details = {"formats": result.formats, "dayfirst": result.dayfirst, "exact_counts": exact,
                   "unmatched": result.unmatched}
        if len(result.formats) > 1:
            labels = classify(col.uniques)
            top_family = _family(labels, col, next(iter(result.formats)))
            minority = (labels != top_family) & (labels != "")
            mask = data.rows_where(col, minority)
            n = int(mask.sum())
            listing = ", ".join(f"{k} ({v})" for k, v in result.formats.items())
            yield Finding(
                "date_formats", "warning", column=col.label,
                message=f"dates in {len(result.formats)} formats: {listing}",
                n_rows=n, share=n / data.n_rows, sample_index=data.sample_index(mask),
                suggestion="parse each format explicitly: mllife.features.DatetimeParser learns them",
                details=details,
            )
        if result.ambiguous:
            yield Finding(
                "date_formats", "warning", column=col.label,
                message="day/month order is ambiguous: no day above 12 in the slash/dash/dot dates",
                n_rows=n_dates, share=n_dates / data.n_rows,
                suggestion="ask the data owner for the order; pass dayfirst= to DatetimeParser",
                details=details,
            )
        if len(result.formats) == 1 and not result.ambiguous:
            yield Finding(
                "date_formats", "info", column=col.label,
                message=f"dates stored as text in the format {next(iter(result.formats))}",
                n_rows=n_dates, share=n_dates / data.n_rows,
                suggestion="parse it (pd.to_datetime with that format, or DatetimeParser)",
                details=details,
            )


def _family(labels: np.ndarray, col: ColumnInfo, fmt: str) -> str:
    """The family label of the most common format (via the values that carry it)."""
    family = _family_of(fmt)
    return family if family else str(pd.Series(labels[labels != ""]).mode().iloc[0])
