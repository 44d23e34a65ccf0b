"""Column-content checks: constant, mixed types, numbers as text, category variants, IDs."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from .._columns import numeric_text_share
from .._frame import normalize_strings
from .._nulls import strip_spaces
from ..report import Finding
from ._data import AuditData, ColumnInfo
from ._registry import _builtin

#: Text columns with more distinct values than this are scanned on a sample for variants.
_MAX_VARIANT_UNIQUES = 20_000


@_builtin("constant", near_threshold=0.99)
def constant(data: AuditData, near_threshold: float = 0.99) -> Iterator[Finding]:
    """Columns with one value (warning) or one value in ``near_threshold`` of rows (info)."""
    for col in data.columns:
        if col.n_present == 0 or data.n_rows < 2:
            continue
        if col.n_unique == 1:
            yield Finding(
                "constant", "warning", column=col.label,
                message=f"every non-missing value is {str(col.uniques.iloc[0])!r}",
                n_rows=col.n_present, share=col.n_present / data.n_rows,
                suggestion="drop it: a constant carries no information",
            )
            continue
        top = int(col.counts.max())
        share = top / data.n_rows
        if share >= near_threshold and col.label != data.target:
            value = col.uniques.iloc[int(np.argmax(col.counts))]
            yield Finding(
                "constant", "info", column=col.label,
                message=f"{share:.2%} of rows hold {str(value)!r} (near-constant)",
                n_rows=data.n_rows - top, share=1 - share, threshold=near_threshold,
                sample_index=data.sample_index(col.codes != int(np.argmax(col.counts))),
                suggestion="little information: drop it, or keep it as a rare flag if it matters",
                details={"top_value": str(value), "top_share": share},
            )


def _type_counts(col: ColumnInfo) -> dict[str, int]:
    uniques = col.uniques.to_numpy(dtype=object)
    names = pd.Series([type(v).__name__ for v in uniques], dtype=object)
    if col.unhashable:
        # uniques are reprs: read the original types on the first 10,000 present rows
        sample = col.series.dropna().iloc[:10_000].to_numpy(dtype=object)
        counted = pd.Series([type(v).__name__ for v in sample], dtype=object).value_counts()
        return {str(k): int(v) for k, v in counted.items()}
    table = pd.Series(col.counts).groupby(names.to_numpy()).sum()
    return {str(k): int(v) for k, v in table.sort_values(ascending=False).items()}


@_builtin("mixed_types")
def mixed_types(data: AuditData) -> Iterator[Finding]:
    """Object columns holding several Python types (or dicts/lists)."""
    for col in data.columns:
        if col.n_present == 0 or not pd.api.types.is_object_dtype(col.series.dtype):
            continue
        if not col.unhashable and col.inferred_type in {"string", "empty", "floating", "integer",
                                                        "mixed-integer-float", "boolean", "decimal",
                                                        "datetime", "date", "bytes"}:
            continue
        types = _type_counts(col)
        if len(types) < 2 and not col.unhashable:
            continue
        minority = sum(types.values()) - max(types.values())
        severity = "warning"
        message = "holds " + ", ".join(f"{v} {k}" for k, v in types.items())
        if col.unhashable:
            message += " (unhashable objects: most tools cannot compare or encode them)"
            minority = col.n_present if len(types) == 1 else minority
        yield Finding(
            "mixed_types", severity, column=col.label, message=message,
            n_rows=minority, share=minority / data.n_rows,
            suggestion="convert the column to one type (flatten dicts/lists into columns)",
            details={"types": types},
        )


@_builtin("numbers_as_strings", min_share=0.95)
def numbers_as_strings(data: AuditData, min_share: float = 0.95) -> Iterator[Finding]:
    """Text columns whose values (null tokens aside) are almost all numbers."""
    for col in data.columns:
        if not col.is_text or col.unhashable or col.n_present == 0:
            continue
        if isinstance(col.series.dtype, pd.CategoricalDtype) or col.inferred_type not in {"string", "mixed",
                                                                                          "mixed-integer"}:
            continue
        share, is_number = numeric_text_share(col.uniques, col.counts)
        if share < min_share:
            continue
        text_rows = int(col.counts[is_number].sum())
        mask = data.rows_where(col, ~is_number & ~(col.null_tokens & ~col.token_levels))
        yield Finding(
            "numbers_as_strings", "warning", column=col.label,
            message=f"{share:.1%} of the values are numbers stored as text",
            n_rows=text_rows, share=text_rows / data.n_rows, threshold=min_share,
            sample_index=data.sample_index(mask) or data.sample_index(data.rows_where(col, is_number)),
            suggestion="convert with pd.to_numeric (null tokens first): mllife.features.Cleaner does both",
            details={"non_numbers": int(mask.sum())},
        )


@_builtin("category_variants")
def category_variants(data: AuditData) -> Iterator[Finding]:
    """Spellings of one category that differ only by case or whitespace."""
    for col in data.columns:
        if not col.is_text or col.unhashable or col.n_unique < 2 or col.id_like:
            continue
        if col.inferred_type not in {"string", "categorical"}:
            continue
        uniques, counts = col.uniques, col.counts
        if len(uniques) > _MAX_VARIANT_UNIQUES:
            continue
        keys = normalize_strings(uniques).to_numpy(dtype=object)
        frame = pd.DataFrame({"key": keys, "raw": uniques.to_numpy(dtype=object), "n": counts})
        frame = frame[~col.null_tokens]
        sizes = frame.groupby("key")["raw"].transform("size")
        groups = frame[sizes > 1]
        if groups.empty:
            continue
        # the canonical spelling is StringNormalizer's: the most frequent stripped spelling
        # (ties: the lower-case one), so " North" is never the one the others are measured against
        spelled = groups.assign(spelling=strip_spaces(groups["raw"]).to_numpy(dtype=object))
        ranked = spelled.groupby(["key", "spelling"], sort=True)["n"].sum().reset_index()
        ranked["other"] = ranked["spelling"] != ranked["key"]
        ranked = ranked.sort_values(["key", "n", "other", "spelling"], ascending=[True, False, True, True],
                                    kind="stable")
        canonical = ranked.drop_duplicates("key").set_index("key")["spelling"]
        variant = groups["raw"].to_numpy(dtype=object) != canonical.loc[groups["key"]].to_numpy(dtype=object)
        value_mask = np.zeros(len(uniques), dtype=bool)
        value_mask[groups.index.to_numpy()[variant]] = True
        mask = data.rows_where(col, value_mask)
        n = int(mask.sum())
        detail = {str(canonical[k]): sorted(str(v) for v in g) for k, g in groups.groupby("key")["raw"]}
        shown = "; ".join(f"{k!r} ~ {', '.join(repr(v) for v in vs if v != k)}" for k, vs in list(detail.items())[:3])
        yield Finding(
            "category_variants", "warning", column=col.label,
            message=f"{len(detail)} categories are spelled several ways ({shown})",
            n_rows=n, share=n / data.n_rows, sample_index=data.sample_index(mask),
            suggestion="normalise case and whitespace: mllife.features.StringNormalizer (or Cleaner)",
            details={"variants": dict(list(detail.items())[:50])},
        )


@_builtin("id_like")
def id_like(data: AuditData) -> Iterator[Finding]:
    """Identifiers not declared in ``id_cols``: columns unique (or nearly) per row, shaped like a key
    and not a measurement (the one rule of :mod:`mllife._columns`, which ``make_preprocessor`` and
    ``drift_report`` apply too)."""
    for col in data.columns:
        if not col.id_like or col.label == data.target:
            continue
        declared = col.label in data.id_cols
        if declared:
            continue
        yield Finding(
            "id_like", "info", column=col.label,
            message=f"{col.n_unique} distinct values in {col.n_present} rows: an identifier "
                    f"({col.column_kind.reason})",
            n_rows=col.n_present, share=col.n_present / data.n_rows,
            suggestion="pass it as id_cols / group_col and drop it from the features",
            details={"n_unique": col.n_unique, "reason": col.column_kind.reason},
        )
