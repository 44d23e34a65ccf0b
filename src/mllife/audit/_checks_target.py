"""Target checks: missing labels, conflicting labels, imbalance, single-column leakage."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from .._errors import InputError
from ..report import Finding
from ._data import AuditData, ColumnInfo
from ._registry import _builtin


def _target(data: AuditData) -> ColumnInfo | None:
    if data.target is None:
        return None
    return data.column(data.target)


def _is_classification(info: ColumnInfo) -> bool:
    if info.n_present == 0 or info.unhashable:
        return False
    if info.is_numeric and pd.api.types.is_float_dtype(info.series.dtype):
        values = info.uniques.to_numpy(dtype=float)
        return info.n_unique <= 20 and bool(np.all(values == np.round(values)))
    return info.n_unique <= max(20, int(0.05 * info.n_present)) or info.is_bool


@_builtin("target_missing")
def target_missing(data: AuditData) -> Iterator[Finding]:
    """Rows without a label."""
    info = _target(data)
    if info is None or info.n_missing == 0:
        return
    share = info.n_missing / max(data.n_rows, 1)
    yield Finding(
        "target_missing", "error" if share == 1 else "warning", column=info.label,
        message=f"the target is missing in {info.n_missing} rows",
        n_rows=info.n_missing, share=share, sample_index=data.sample_index(info.missing),
        suggestion="drop unlabelled rows before training (or keep them for semi-supervised use)",
    )


@_builtin("conflicting_labels", max_repeated=0.2)
def conflicting_labels(data: AuditData, max_repeated: float = 0.2) -> Iterator[Finding]:
    """Rows with identical features (ids ignored) but different targets.

    ``n_rows`` counts every row of every conflicting group. A warning for a
    classification-like target (booleans, text, few distinct values), unless
    more than ``max_repeated`` of all rows repeat another row's features
    (coarse, low-cardinality features): then different labels for one feature
    row are expected noise and the finding is info. For a numeric target with
    many distinct values (regression), identical features with different
    targets are ordinary noise: info at most, never a warning.
    """
    info = _target(data)
    features = data.features
    if info is None or not features or data.n_rows < 2:
        return
    conflicts = data.label_conflicts(features, info)
    if conflicts.groups == 0:
        return
    n, repeated = conflicts.n_rows, conflicts.repeated
    classification = _is_classification(info)
    message = f"{conflicts.groups} groups of identical feature rows ({n} rows) have different targets"
    if not classification:
        message += ": ordinary noise for a numeric target, unless the rows are copies of one record"
    yield Finding(
        "conflicting_labels", "warning" if classification and repeated <= max_repeated else "info",
        column=info.label, message=message,
        n_rows=n, share=n / data.n_rows, sample_index=conflicts.sample_index,
        suggestion="find out which label is right (relabel, or keep the latest); a model cannot "
                   "fit both and the error floor rises" if classification else
                   "nothing to fix if they are separate observations; if they are copies of one "
                   "record, keep one",
        details={"groups": conflicts.groups, "repeated_feature_rows": repeated,
                 "classification": classification},
    )


@_builtin("target_imbalance", warn_below=0.1, info_below=0.4)
def target_imbalance(data: AuditData, warn_below: float = 0.1, info_below: float = 0.4) -> Iterator[Finding]:
    """The minority class share of a classification target."""
    info = _target(data)
    if info is None or not _is_classification(info) or info.n_unique < 2:
        return
    counts = info.counts
    share = float(counts.min() / counts.sum())
    k = len(counts)
    balanced = 1.0 / k
    if share >= info_below * 2 * balanced:  # binary: below 40%; k classes: below 0.8 / k
        return
    minority = info.uniques.iloc[int(np.argmin(counts))]
    severity = "warning" if share < warn_below else "info"
    yield Finding(
        "target_imbalance", severity, column=info.label,
        message=f"the smallest class {str(minority)!r} holds {share:.1%} of the labelled rows",
        n_rows=int(counts.min()), share=share, threshold=warn_below,
        sample_index=data.sample_index(info.codes == int(np.argmin(counts))),
        suggestion="stratify splits, judge with PR-AUC/balanced accuracy, and consider class "
                   "weights before resampling",
        details={"classes": {str(u): int(c) for u, c in zip(info.uniques, counts, strict=True)}},
    )


@_builtin("target_leakage", min_accuracy=0.95, min_gain=0.8, max_categories=10, alpha=0.05)
def target_leakage(data: AuditData, min_accuracy: float = 0.95, min_gain: float = 0.8,
                   max_categories: int = 10, alpha: float = 0.05) -> Iterator[Finding]:
    """A column that gives a classification target almost exactly.

    For a column with at most ``max_categories`` values (missing as one
    more), the accuracy of predicting the target by the majority label of
    each value is compared with the majority-class rate; a column reaching
    ``min_accuracy`` and removing ``min_gain`` of the remaining errors is
    suspicious (recorded after the outcome?). For a two-class target, a
    numeric or date column with more values is suspicious when one cut of
    its ordered values gives the target in 99% of the rows, removing 90% of
    the errors: the target is that column thresholded (``had_affair`` is
    ``affairs > 0``). A strong predictor is not flagged (a tumour's size
    splits malignant from benign at one threshold in 92-95% of rows). The
    rule is :func:`mllife.split._target.derived_rule`, which
    :func:`mllife.check_leakage`'s ``target_proxy`` uses too.

    On a small or very imbalanced table such a rule also happens by chance
    (one positive among 30 rows: one column in 15 has a perfect cut), so the
    rule must also be significant: its p-value under shuffled labels below
    ``alpha`` over the number of columns examined (Bonferroni), which keeps
    the chance of any false ``target_leakage`` finding in one audit at most
    ``alpha``.
    """
    from ..split._target import derived_rule, significance_text

    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise InputError(f"target_leakage's alpha is {alpha!r}",
                         expected="a significance level between 0 and 1, such as 0.05")
    info = _target(data)
    if info is None or not _is_classification(info) or info.n_unique < 2:
        return
    y = info.codes
    labelled = y >= 0
    n = int(labelled.sum())
    examined = [col for col in data.features
                if not (col.unhashable or col.n_unique < 2 or col.label == data.time_col)]
    for col in examined:
        rule = derived_rule(col.series, y[labelled], factorized=(col.codes[labelled], col.uniques),
                            max_values=max_categories, values=(min_accuracy, min_gain),
                            max_p=alpha / len(examined))
        if rule is None:
            continue
        tested = significance_text(rule.p_value, len(examined), len(examined), alpha)
        yield Finding(
            "target_leakage", "warning", column=col.label,
            message=f"{col.label!r} alone predicts {info.label!r} with {rule.accuracy:.1%} accuracy "
                    f"(majority class: {rule.baseline:.1%}; {rule.description}; {tested})",
            n_rows=n, share=n / data.n_rows, threshold=min_accuracy,
            suggestion="check when this column is recorded: if after the outcome, drop it",
            details={"accuracy": rule.accuracy, "baseline": rule.baseline, "rule": rule.kind,
                     "p_value": rule.p_value, "n_tests": len(examined), "alpha": alpha},
        )
