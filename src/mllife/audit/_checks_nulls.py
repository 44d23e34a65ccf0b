"""Missing-value checks: disguised nulls (tokens and sentinels), infinities, mostly-missing columns."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ..report import Finding
from ._data import AuditData
from ._registry import _builtin


@_builtin("disguised_nulls")
def disguised_nulls(data: AuditData) -> Iterator[Finding]:
    """Missing values written as text tokens or sentinel numbers.

    Text: any value whose stripped, case-folded form is a null token
    (``"N/A"``, ``" null"``, ``"-"``, ``"?"``, ``""``, ``"unknown"``...),
    even when it is the column's only token: a warning. A word token that is
    a real level of its column (an arm ``"NONE"`` as frequent as ``"A"`` and
    ``"B"``, ``"unknown"`` in most rows, the column's only value: see
    :func:`mllife._nulls.token_levels`) is reported apart, as
    info ("looks like a real category"); :class:`~mllife.features.NullLikeToNaN`
    and :class:`~mllife.features.Cleaner` keep it. Numbers: sentinels such as
    ``-999`` or ``-1`` that stand apart from the rest of the column (see
    :func:`mllife._nulls.find_sentinels`).
    """
    for col in data.columns:
        if col.n_present == 0:
            continue
        if col.is_text and not col.unhashable:
            hit = col.null_tokens
            if not hit.any():
                continue
            levels = col.token_levels
            for values, category in ((hit & ~levels, False), (levels, True)):
                if not values.any():
                    continue
                mask = data.rows_where(col, values)
                tokens = {str(u): int(c) for u, c in zip(col.uniques[values], col.counts[values], strict=True)}
                n = int(mask.sum())
                shown = ", ".join(repr(t) for t in list(tokens)[:5])
                yield Finding(
                    "disguised_nulls", "info" if category else "warning", column=col.label,
                    message=(f"{n} values ({n / col.n_present:.0%} of the present ones) are {shown}: "
                             "this looks like a real category, not a missing value" if category else
                             f"{n} values are null tokens ({shown}) that pandas does not count as missing"),
                    n_rows=n, share=n / data.n_rows, sample_index=data.sample_index(mask),
                    suggestion=("keep it as a category (NullLikeToNaN and Cleaner keep it); if it does "
                                "mean missing, use NullLikeToNaN(keep_levels=False)" if category else
                                "treat them as missing: mllife.features.NullLikeToNaN (or Cleaner)"),
                    details={"tokens": tokens, "category": category},
                )
        elif col.is_numeric and col.sentinels:
            values = col.uniques.to_numpy(dtype=float, na_value=np.nan)
            hit = np.isin(values, col.sentinels)
            mask = data.rows_where(col, hit)
            n = int(mask.sum())
            shown = ", ".join(f"{v:g}" for v in col.sentinels)
            yield Finding(
                "disguised_nulls", "warning", column=col.label,
                message=f"{n} values are the sentinel {shown}, apart from the other values: "
                        "probably a code for missing",
                n_rows=n, share=n / data.n_rows, sample_index=data.sample_index(mask),
                suggestion="treat them as missing: mllife.features.NullLikeToNaN (or Cleaner)",
                details={"sentinels": col.sentinels,
                         "counts": {f"{v:g}": int(c) for v, c in zip(values[hit], col.counts[hit], strict=True)}},
            )


@_builtin("infinite_values")
def infinite_values(data: AuditData) -> Iterator[Finding]:
    """Numeric columns holding +inf or -inf (a division by zero upstream, usually).

    pandas does not count them as missing, and most models refuse them.
    """
    for col in data.columns:
        if not col.is_numeric or col.n_present == 0:
            continue
        values = col.uniques.to_numpy(dtype=float, na_value=np.nan)
        hit = np.isinf(values)
        if not hit.any():
            continue
        mask = data.rows_where(col, hit)
        n = int(mask.sum())
        signs = {("+inf" if v > 0 else "-inf"): int(c) for v, c in zip(values[hit], col.counts[hit], strict=True)}
        yield Finding(
            "infinite_values", "warning", column=col.label,
            message=f"{n} values are infinite ({', '.join(f'{c} {k}' for k, c in signs.items())}): "
                    "pandas does not count them as missing and most models refuse them",
            n_rows=n, share=n / data.n_rows, sample_index=data.sample_index(mask),
            suggestion="fix the computation that made them (a division by zero?), or replace them "
                       "with NaN and impute",
            details={"counts": signs},
        )


@_builtin("mostly_missing", threshold=0.5)
def mostly_missing(data: AuditData, threshold: float = 0.5) -> Iterator[Finding]:
    """Columns missing in more than ``threshold`` of the rows (all missing: error)."""
    if data.n_rows == 0:
        return
    for col in data.columns:
        share = col.n_missing / data.n_rows
        if share > threshold:
            empty = col.n_missing == data.n_rows
            yield Finding(
                "mostly_missing", "error" if empty else "warning", column=col.label,
                message="the column is entirely missing" if empty
                else f"the column is missing in {share:.1%} of rows",
                n_rows=col.n_missing, share=share, threshold=threshold,
                sample_index=data.sample_index(col.missing),
                suggestion="drop it" if empty else
                "drop it, or keep a 'was missing' indicator if missingness itself is informative",
            )
