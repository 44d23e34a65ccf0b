"""``profile`` and ``audit`` on a Dask frame or a Parquet dataset.

One distributed pass (:func:`mllife._dask.compute`, with the progress bar of
:func:`mllife.scale.progress`) reads every partition once and returns

- per column, the merged summary of :mod:`._dask_summary` (value counts of
  every distinct value up to :data:`VALUE_CAP`, first rows, sketches above);
- a seeded sample of at most :data:`SAMPLE_ROWS` rows (:mod:`._dask_rows`):
  the whole table when it is no larger;
- when a duplicate or conflicting-label check runs, the row hashes shuffled
  by hash (Dask's shuffle) and counted where equal rows meet.

The built-in checks whose statistics merge (:data:`DISTRIBUTED`) then run on
an :class:`~._dask_data.SummaryData`, unchanged: the same findings as
``audit(ddf.compute())``. Checks that need all rows together
(``target_leakage``, every check registered with
:func:`~mllife.audit.register_check`) run on the sample, and say so in their
message when it is smaller than the table. Above the cap a few column checks
(:data:`ON_SAMPLE_ABOVE_CAP`) judge that column on the sample too, and the
``outliers`` check takes a second pass (a third for ``method="mad"``) over the
numeric columns above the cap it judges, reading those columns only, to make
its quantiles exact (:mod:`._dask_outliers`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import _dask
from .._columns import ColumnKind, column_kind, kind_of_counts
from ..report import Finding
from ._dask_data import NeedsRows, SummaryColumn, SummaryData, summary_numbers
from ._dask_rows import (
    Plan,
    RowSample,
    RowStats,
    merge_samples,
    merge_stats,
    merge_summaries,
    row_stats,
    summarize_partition,
)
from ._dask_summary import ColumnSummary
from ._dask_values import Settings
from ._data import AuditData
from ._profile_table import profile_data
from ._registry import Check, resolve_checks
from ._report import AuditReport

__all__ = ["DISTINCT_SAMPLE", "DISTRIBUTED", "ON_SAMPLE_ABOVE_CAP", "SAMPLE_ROWS", "SKETCH_POINTS", "TAIL", "TOP",
           "VALUE_CAP", "audit_dask", "profile_dask"]

#: Distinct values per column counted exactly (with their first rows); above, the column keeps sketches.
VALUE_CAP = 100_000
#: Rows of the seeded sample the checks that need rows together run on (the whole table up to this size).
SAMPLE_ROWS = 100_000
#: Above the cap: quantile-sketch points, distinct values sampled (n_unique estimate, null-token levels),
#: smallest and largest distinct values kept (outlier counts) and most frequent values kept (top value).
SKETCH_POINTS = 4_096
DISTINCT_SAMPLE = 2_048
TAIL = 2_000
TOP = 16
#: Built-in checks computed from summaries of every row.
DISTRIBUTED = frozenset({
    "duplicate_column_names", "duplicate_rows", "duplicates_ignoring_ids", "target_missing",
    "conflicting_labels", "target_imbalance", "disguised_nulls", "infinite_values", "mostly_missing",
    "constant", "mixed_types", "numbers_as_strings", "category_variants", "id_like", "date_formats",
    "outliers",
})
#: Distributed checks that judge a column above :data:`VALUE_CAP` on the sample (they need all its
#: distinct values): per column, or (``target_imbalance``) when the target is above the cap.
ON_SAMPLE_ABOVE_CAP = frozenset({"mixed_types", "numbers_as_strings", "category_variants", "date_formats",
                                 "target_imbalance"})
_ROW_CHECKS = frozenset({"duplicate_rows", "duplicates_ignoring_ids", "conflicting_labels"})
#: What a distributed finding about a column above the cap says it estimated (outliers say it themselves).
_ABOVE_CAP_NOTES = {
    "disguised_nulls": "counts exact; null-token levels and sentinels judged on a sample of its distinct values "
                       "and a quantile sketch",
    "constant": "the most frequent value's count is a lower bound",
    "id_like": "its distinct values are estimated",
}


def settings() -> Settings:
    """The bounds of this run (module constants, read when a call starts)."""
    return Settings(value_cap=VALUE_CAP, sample_rows=SAMPLE_ROWS, sketch_points=SKETCH_POINTS,
                    distinct_sample=DISTINCT_SAMPLE, tail=TAIL, top=TOP)


# ---- the pass -------------------------------------------------------------------------------------
def _lazy(frame: Any, plan: Plan) -> tuple[Any, Any, Any]:
    import dask
    import dask.dataframe as dd

    leaf = dask.delayed(summarize_partition, pure=True, nout=3)
    outs = [leaf(part, i, plan) for i, part in enumerate(frame.to_delayed(optimize_graph=True))]
    summaries = _dask.tree_merge([o[0] for o in outs],
                                 functools.partial(merge_summaries, settings=plan.settings))
    sample = _dask.tree_merge([o[1] for o in outs], functools.partial(merge_samples, size=plan.settings.sample_rows))
    rows = None
    if plan.rows:
        meta = plan.row_frame_meta(pd.Index([], dtype=frame.index.dtype))
        hashes = dd.from_delayed([o[2] for o in outs], meta=meta, verify_meta=False)
        shuffled = hashes.shuffle("h", npartitions=max(1, -(-frame.npartitions // 4)))  # rows of hashes: small
        stats = [dask.delayed(row_stats, pure=True)(part) for part in shuffled.to_delayed(optimize_graph=True)]
        rows = _dask.tree_merge(stats, merge_stats)
    return summaries, sample, rows


def _sample_below(frame: Any, size: int) -> int | None:
    """A sample-key bound no row of the sample reaches, when Dask knows the table's size
    without reading it: the expected rows below it exceed ``size`` by ten standard
    deviations, so each partition sends a few rows instead of its ``size`` lowest."""
    lengths = _dask.known_partition_lengths(frame)
    if lengths is None:
        return None
    n = sum(lengths)
    share = (size + 10 * size**0.5 + 100) / n if n else 1.0
    return int(share * 2.0**64) if share < 1.0 else None


def _run(frame: Any, plan: Plan) -> tuple[list[ColumnSummary], RowSample, RowStats | None]:
    plan = dataclasses.replace(plan, sample_below=_sample_below(frame, plan.settings.sample_rows))
    summaries, sample, rows = _lazy(frame, plan)
    if rows is None:
        got_summaries, got_sample = _dask.compute(summaries, sample)
        got_rows = None
    else:
        got_summaries, got_sample, got_rows = _dask.compute(summaries, sample, rows)
    if plan.sample_below is not None and len(got_sample.frame) < min(plan.settings.sample_rows, got_sample.n_rows):
        # fewer rows under the bound than the sample holds (odds below 1e-20): draw it again, unbounded
        _, sample, _ = _lazy(frame, dataclasses.replace(plan, sample_below=None, rows=False))
        (got_sample,) = _dask.compute(sample)
    return got_summaries, got_sample, got_rows


# ---- kinds and columns --------------------------------------------------------------------------------
def _role(label: Hashable, target: Hashable | None, time_col: Hashable | None, ids: Sequence[Hashable]) -> str | None:
    if label in ids:
        return "identifier"
    if target is not None and label == target:
        return "target"
    if time_col is not None and label == time_col:
        return "time"
    return None


def _kind(sample: pd.DataFrame, j: int, label: Hashable, role: str | None, summary: ColumnSummary,
          n_rows: int) -> ColumnKind:
    """The column's kind: mllife's detector on the sample (the whole table when it fits).

    On a smaller sample, a verdict the sample cannot prove (empty, constant) is
    checked against the exact distinct values, and the reason says the kind
    came from a sample.
    """
    kind = column_kind(sample.iloc[:, j], name=label, role=role)
    if len(sample) >= n_rows or role == "identifier":
        return kind
    table = summary.table
    if kind.kind in {"empty", "constant"} and summary.n > summary.n_missing and (table is None or len(table) > 1):
        if table is not None and summary.family == "text" and not table.unhashable:
            kind = kind_of_counts(table.uniques, table.counts, name=label, n_missing=summary.n_missing,
                                  may_be_identifier=role is None, dtype=kind.dtype)
        elif summary.family == "numeric":
            kind = dataclasses.replace(kind, kind="numeric", reason="numbers (values outside the sample)")
    return dataclasses.replace(kind, sampled=True,
                               reason=f"{kind.reason} (decided on a sample of {len(sample):,} of {n_rows:,} rows)")


def _n_unique(summary: ColumnSummary, value_cap: int, sample_size: int) -> int | None:
    """An over-cap column's distinct values, estimated from its distinct-value sample (KMV)."""
    over = summary.over
    if over is None:
        return None
    hashes = np.sort(over.distinct_hash)
    if hashes.size < sample_size:
        return int(hashes.size)
    estimate = (sample_size - 1) * 2.0**64 / (float(hashes[sample_size - 1]) + 1.0)
    return int(min(max(round(estimate), value_cap + 1), summary.n - summary.n_missing))


def _summary_data(frame: Any, summaries: Sequence[ColumnSummary], sample: RowSample, rows: RowStats | None,
                  plan: Plan, *, target: Hashable | None, time_col: Hashable | None,
                  ids: Sequence[Hashable]) -> tuple[SummaryData, pd.DataFrame]:
    labels = list(frame.columns)
    n_rows = sample.n_rows
    rows_sample = sample.final()
    dtypes = frame.dtypes
    columns = []
    for j, label in enumerate(labels):
        role = _role(label, target, time_col, ids)
        kind = _kind(rows_sample, j, label, role, summaries[j], n_rows)
        columns.append(SummaryColumn(label, j, summaries[j], dtype=dtypes.iloc[j], kind=kind, role=role,
                                     n_unique=_n_unique(summaries[j], plan.settings.value_cap,
                                                        plan.settings.distinct_sample)))
    meta = pd.DataFrame({label: pd.Series([], dtype=dtypes.iloc[j]) for j, label in enumerate(labels)})
    keys = {"all": tuple(range(len(labels))), "rest": plan.rest, "features": plan.features}
    data = SummaryData(meta, n_rows, columns, target=target, time_col=time_col, id_cols=ids, rows=rows,
                       row_keys=keys)
    return data, rows_sample


def _approximate(data: SummaryData) -> dict[str, str]:
    out = {}
    for col in data.columns:
        if isinstance(col, SummaryColumn) and not col.complete:
            out[str(col.label)] = (f"more than {VALUE_CAP:,} distinct values: n_unique estimated "
                                   f"({col.n_unique:,}), top value among the most frequent ones found, median "
                                   "from a quantile sketch")
    return out


def _profile(data: SummaryData) -> pd.DataFrame:
    """The profile table; a column above the cap says what was estimated in its ``kind_reason``."""
    out = profile_data(data, numbers=summary_numbers)
    for col in data.columns:
        if isinstance(col, SummaryColumn) and not col.complete:
            i = col.position
            out.loc[i, "kind_reason"] = (f"{out.loc[i, 'kind_reason']}; more than {VALUE_CAP:,} distinct "
                                         "values: n_unique estimated, top value among the most frequent ones "
                                         "found, median from a quantile sketch")
    return out


def profile_dask(frame: Any) -> pd.DataFrame:
    """:func:`mllife.audit.profile` of a Dask frame (see :func:`mllife.audit.profile`)."""
    plan = Plan(settings(), len(frame.columns))
    summaries, sample, _ = _run(frame, plan)
    data, _ = _summary_data(frame, summaries, sample, None, plan, target=None, time_col=None, ids=())
    return _profile(data)


# ---- audit -----------------------------------------------------------------------------------------------
def _refine(frame: Any, data: SummaryData, check: Check) -> None:
    """More passes over the numeric columns above the cap the ``outliers`` check judges, and
    over those only: the values in narrow windows around the quantiles (second pass) and, for
    ``method="mad"``, the median distance (third pass) it needs, so they are exact."""
    from ._dask_outliers import plan_mad, plan_refinement

    _window_pass(frame, data, plan_refinement(data))
    params = {**check.params}
    if params.get("method") == "mad":
        _window_pass(frame, data, plan_mad(data, k=params.get("k", 3.0), gross=params.get("gross", 20.0)))


def _window_pass(frame: Any, data: SummaryData, windows: Sequence[Any]) -> None:
    import dask

    from ._dask_outliers import merge_refined, refine_partition, refined_columns

    if not windows:
        return
    positions = sorted({w.position for w in windows})
    projected = frame[[data.columns[p].label for p in positions]]  # a Parquet read reads those columns only
    renumber = {p: i for i, p in enumerate(positions)}
    local = [dataclasses.replace(w, position=renumber[w.position]) for w in windows]
    leaf = dask.delayed(refine_partition, pure=True)
    parts = [leaf(part, i, local) for i, part in enumerate(projected.to_delayed(optimize_graph=True))]
    (merged,) = _dask.compute(_dask.tree_merge(parts, merge_refined))
    before = {i: getattr(data.columns[p], "refined", None) for i, p in enumerate(positions)}
    for i, refined in refined_columns(merged, before).items():
        column = data.columns[positions[i]]
        if isinstance(column, SummaryColumn):
            column.refined = refined


def _on_sample(check: Check, sample_data: AuditData, suffix: str, columns: set[Hashable] | None = None,
               ) -> list[Finding]:
    found = check.run(sample_data)
    if columns is not None:
        found = [f for f in found if f.column in columns]
    return [dataclasses.replace(f, message=f.message + suffix) for f in found] if suffix else found


def _run_check(check: Check, data: SummaryData, sample_data: AuditData, suffix: str, above_cap: set[Hashable],
               ) -> tuple[list[Finding], bool]:
    """The findings of one check, and whether it ran on the summaries (else on the sample)."""
    if not check.builtin or check.name not in DISTRIBUTED:
        return _on_sample(check, sample_data, suffix), False
    if check.name == "outliers":
        from ._dask_outliers import outliers

        check = Check(check.name, outliers, check.params, builtin=True)
    if check.name not in ON_SAMPLE_ABOVE_CAP or not above_cap:
        try:
            found = check.run(data)
        except NeedsRows:  # a check asking for rows: judge it on the sample
            return _on_sample(check, sample_data, suffix), False
        note = _ABOVE_CAP_NOTES.get(check.name)
        if note is not None and above_cap:
            found = [dataclasses.replace(f, message=f"{f.message} [more than {VALUE_CAP:,} distinct values: {note}]")
                     if f.column in above_cap else f for f in found]
        return found, True
    if check.name == "target_imbalance":
        if data.target in above_cap:
            return _on_sample(check, sample_data, suffix), False
        return check.run(data), True
    found = check.run(data.restricted([c for c in data.columns if c.label not in above_cap]))
    return found + _on_sample(check, sample_data, suffix, above_cap), True


def audit_dask(frame: Any, *, target: Hashable | None, time_col: Hashable | None, ids: tuple[Hashable, ...],
               checks: Any) -> AuditReport:
    """:func:`mllife.audit` of a Dask frame whose roles ``audit`` checked (see :func:`mllife.audit`)."""
    labels = list(frame.columns)
    selected = resolve_checks(checks)
    names = {c.name for c in selected if c.builtin}
    positions = {label: j for j, label in enumerate(labels)}
    plan = Plan(settings(), len(labels), ids=tuple(positions[c] for c in ids),
                target=positions.get(target) if target is not None else None,
                rows=bool(names & _ROW_CHECKS) and len(labels) > 0,
                conflicts="conflicting_labels" in names and target is not None)
    summaries, sample, rows = _run(frame, plan)
    data, rows_sample = _summary_data(frame, summaries, sample, rows, plan, target=target, time_col=time_col,
                                      ids=ids)
    n_rows, n_columns = data.n_rows, len(labels)
    sample_data = AuditData(rows_sample, target=target, time_col=time_col, id_cols=ids)
    suffix = "" if len(rows_sample) >= n_rows else f" (on a sample of {len(rows_sample):,} of {n_rows:,} rows)"
    findings: list[Finding] = []
    if n_rows == 0 or n_columns == 0:
        findings.append(Finding(
            "empty_table", "error", message=f"the table has {n_rows} rows and {n_columns} columns",
            n_rows=0, suggestion="check how the table was loaded or filtered",
        ))
        selected = [c for c in selected if c.name == "duplicate_column_names"]
    above_cap = {c.label for c in data.columns if isinstance(c, SummaryColumn) and not c.complete}
    outlier_check = next((c for c in selected if c.builtin and c.name == "outliers"), None)
    if above_cap and n_rows and outlier_check is not None:
        _refine(frame, data, outlier_check)
    distributed: list[str] = []
    sampled: list[str] = []
    for check in selected:
        found, on_summaries = _run_check(check, data, sample_data, suffix, above_cap)
        findings.extend(found)
        (distributed if on_summaries else sampled).append(check.name)
    order = {c.name: i for i, c in enumerate(selected)}
    where = {c.label: c.position for c in data.columns}
    findings.sort(key=lambda f: (-f.rank, order.get(f.check, -1), where.get(f.column, -1)))
    prof = _profile(data) if n_columns else pd.DataFrame()
    scale: dict[str, Any] = {
        "engine": "dask", "partitions": int(frame.npartitions), "distributed": distributed, "sampled": sampled,
        "sample_rows": len(rows_sample), "value_cap": VALUE_CAP, "approximate": _approximate(data),
    }
    notes = [f"Dask frame of {frame.npartitions} partitions: {len(distributed)} checks ran on merged summaries "
             "of every row"]
    if sampled:
        notes.append(f"{', '.join(sampled)} ran on "
                     + (f"a seeded sample of {len(rows_sample):,} of {n_rows:,} rows" if suffix
                        else f"all {n_rows:,} rows (the table fits the sample)"))
    if scale["approximate"]:
        notes.append(f"columns above {VALUE_CAP:,} distinct values ({', '.join(scale['approximate'])}): "
                     "n_unique estimated, median from a quantile sketch")
    return AuditReport(
        findings=findings, profile=prof, n_rows=n_rows, n_columns=n_columns, target=target, time_col=time_col,
        id_cols=ids, checks=tuple(c.name for c in selected), scale=scale, notes=tuple(notes),
    )
