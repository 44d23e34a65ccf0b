"""Target leakage: single columns (or their missingness) that predict the target.

Each column gets a one-feature model: its values binned (32 quantile bins for
numbers and times, categories as they are, missing as a bin of its own) and
each bin predicted by the smoothed mean target of that bin in the other folds
(out-of-fold target encoding, 5 folds). The cross-validated ROC-AUC
(classification, one-vs-rest macro for several classes) or R² (regression) of
that model says how much the column alone knows about the target. It runs on at
most 20,000 training rows, with numpy bincounts only, so it costs milliseconds
per column at any data size.

A strong predictor is not leakage: a column is a ``target_proxy`` only when it
gives the target almost exactly. :func:`derived_rule` decides that for a
classification target (also for :func:`mllife.audit`'s ``target_leakage``
check): the target is a recoding of the column's few values, or one cut of its
ordered values (the target thresholded, ``had_affair = affairs > 0``).
Otherwise the one-feature score must be near perfect (:data:`NEAR_PERFECT`: a
noisy copy of the target).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._frame import is_bool, is_datetime, is_numeric
from ..report import Finding

MAX_ROWS = 20_000
N_BINS = 32
N_FOLDS = 5
SMOOTHING = 10.0
MAX_CLASSES = 30

#: A one-feature model's cross-validated score from which a column is a target proxy
#: whatever its shape: it predicts the target almost perfectly. Real strong predictors
#: stay below (breast cancer's best cell measurement: ROC-AUC 0.95-0.97).
NEAR_PERFECT = {"roc_auc": 0.98, "r2": 0.95}
#: (warning, error) thresholds on a missingness indicator's score.
MISSING_THRESHOLDS = {"roc_auc": (0.80, 0.95), "r2": (0.50, 0.80)}
#: A column of at most this many values (missing not counted) is judged as categories.
MAX_MAPPED_VALUES = 10
#: (accuracy, share of the majority-class rule's errors removed) from which the target is a
#: recoding of a column's few values...
DERIVED_VALUES = (0.95, 0.8)
#: ...or one cut of its ordered values. A cut is held to more: it is picked among many
#: thresholds, and a strong measurement (a tumour's size) splits two classes at one
#: threshold in 92-95% of the rows.
DERIVED_CUT = (0.99, 0.9)
#: Fewer labelled rows than this say nothing about a column being derived.
MIN_DERIVED_ROWS = 30


def _as_float(s: pd.Series) -> np.ndarray | None:
    """Numbers, booleans and times as float64 (NaN for missing); None for other columns."""
    if is_datetime(s):
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        values = s.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(np.float64)
        values[s.isna().to_numpy()] = np.nan
        return values
    if is_bool(s) or is_numeric(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    return None


def feature_codes(s: pd.Series) -> np.ndarray:
    """Bin codes ``0..k``: quantile bins or categories, missing as the last code."""
    values = _as_float(s)
    if values is not None:
        finite = np.isfinite(values)
        codes = np.zeros(len(values), dtype=np.int64)
        if finite.any():
            distinct = np.unique(values[finite])
            if len(distinct) <= N_BINS:  # few values: each is its own bin
                edges = np.concatenate([[-np.inf], (distinct[:-1] + distinct[1:]) / 2, [np.inf]])
            else:
                edges = np.unique(np.quantile(values[finite], np.linspace(0, 1, N_BINS + 1)))
            codes[finite] = np.searchsorted(edges[1:-1], values[finite], side="right")
        codes[~finite] = int(codes.max()) + 1
        return codes
    try:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
    except TypeError:
        codes, uniques = pd.factorize(s.map(repr, na_action="ignore"), use_na_sentinel=True)
    codes = codes.astype(np.int64)
    codes[codes < 0] = len(uniques)
    return codes


@dataclass(frozen=True)
class DerivedRule:
    """How a column gives a classification target almost exactly (see :func:`derived_rule`)."""

    kind: str  # "values" (a recoding of its values) or "cut" (one threshold)
    accuracy: float
    baseline: float  # the majority class's share
    description: str


def _factorize(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    try:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
    except TypeError:
        codes, uniques = pd.factorize(s.map(repr, na_action="ignore"), use_na_sentinel=True)
    return codes.astype(np.int64), pd.Series(uniques)


def _best_cut(numbers: np.ndarray, codes: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Rows a single cut of the ordered values gets right (missing and infinite values one
    group, labelled with its majority class) and the threshold (NaN: no cut, the present
    values are one class)."""
    x = np.where(codes >= 0, numbers[codes.clip(0)], np.nan)
    finite = np.isfinite(x)
    correct_missing = int(np.bincount(y[~finite], minlength=2).max())
    order = np.argsort(x[finite])
    xs, ys = x[finite][order], y[finite][order]
    last = np.r_[xs[1:] != xs[:-1], True]  # the last row of each distinct value
    pos_left = np.r_[0, np.cumsum(ys)[last]]
    all_left = np.r_[0, np.flatnonzero(last) + 1]
    neg_left = all_left - pos_left
    n_pos, n_neg = int(pos_left[-1]), int(neg_left[-1])
    # left of the cut class 0 and right class 1, or the other way round
    best = np.maximum(neg_left + (n_pos - pos_left), pos_left + (n_neg - neg_left))
    j = int(np.argmax(best))
    threshold = float(xs[last][j - 1]) if 0 < j < len(best) - 1 else float("nan")
    return float(best[j] + correct_missing), threshold


def derived_rule(
    x: pd.Series,
    y: np.ndarray,
    *,
    factorized: tuple[np.ndarray, pd.Series] | None = None,
    max_values: int = MAX_MAPPED_VALUES,
    values: tuple[float, float] = DERIVED_VALUES,
    cut: tuple[float, float] = DERIVED_CUT,
) -> DerivedRule | None:
    """The simple rule by which column ``x`` gives class codes ``y``, if it nearly always does.

    Two rules, each with (accuracy, gain) thresholds, gain being the share of
    the majority-class rule's errors it removes: ``x``'s values (at most
    ``max_values``, missing as one more) each mapped to their majority class
    (``values``); or, for a two-class target and numbers, booleans or times
    with more values, the best single cut of the ordered values, missing as a
    group of its own (``cut``). Bincounts and one sort; above 20,000 rows a
    cut is first tried on a sample of that many, and the column is passed over
    when it falls short there by more than a point.

    Parameters
    ----------
    x : pandas.Series
        The column, on labelled rows only (not read when ``factorized`` is given).
    y : ndarray of int
        Class codes ``0..k-1`` of the same rows.
    factorized : (codes, uniques), optional
        ``x`` already factorised (codes -1 for missing), as the audit caches it.

    Returns
    -------
    DerivedRule or None
    """
    n = len(y)
    if n < MIN_DERIVED_ROWS:
        return None
    class_counts = np.bincount(y)
    k = len(class_counts)
    base = float(class_counts.max() / n)
    if k < 2 or base >= 1.0:
        return None

    def gain(accuracy: float) -> float:
        return (accuracy - base) / (1.0 - base)

    codes, uniques = factorized if factorized is not None else _factorize(x)
    m = len(uniques)
    if m < 2:
        return None
    if m <= max_values:  # rows per (value, class); row 0 holds the missing values
        table = np.bincount((codes + 1) * k + y, minlength=(m + 1) * k).reshape(-1, k)
        accuracy = float(table.max(axis=1).sum() / n)
        if accuracy >= values[0] and gain(accuracy) >= values[1]:
            return DerivedRule("values", accuracy, base, f"each of its {m} values gives one class")
        return None
    numbers = _as_float(uniques) if k == 2 else None
    if numbers is None:
        return None
    if n > MAX_ROWS:  # most columns are far from a cut: a quick look at a sample first
        pick = np.random.default_rng(0).choice(n, MAX_ROWS, replace=False)
        right, _ = _best_cut(numbers, codes[pick], y[pick])
        if right / MAX_ROWS < cut[0] - 0.01:
            return None
    right, threshold = _best_cut(numbers, codes, y)
    accuracy = right / n
    if accuracy < cut[0] or gain(accuracy) < cut[1]:
        return None
    if np.isnan(threshold):  # no cut: the present values are one class
        return DerivedRule("cut", accuracy, base,
                           "its missing values give one class, the present ones the other")
    shown = str(pd.Timestamp(int(threshold))) if is_datetime(uniques) else f"{threshold:.6g}"
    return DerivedRule("cut", accuracy, base,
                       f"values above {shown} give one class, the others the other")


def target_task(y: pd.Series) -> str:
    """``binary``, ``multiclass``, ``regression``, ``one_class`` or ``too_many_classes``."""
    n_unique = y.nunique(dropna=True)
    if n_unique <= 1:
        return "one_class"
    if is_numeric(y) and n_unique > 20:
        return "regression"
    if n_unique == 2:
        return "binary"
    return "multiclass" if n_unique <= MAX_CLASSES else "too_many_classes"


def _target_matrix(y: pd.Series, task: str) -> np.ndarray:
    if task == "regression":
        return y.to_numpy(dtype=np.float64).reshape(-1, 1)
    codes, _ = pd.factorize(y)
    onehot = np.zeros((len(codes), int(codes.max()) + 1))
    onehot[np.arange(len(codes)), codes] = 1.0
    return onehot[:, 1:] if task == "binary" else onehot


def _oof_predictions(codes: np.ndarray, Y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    n_codes = int(codes.max()) + 1
    out = np.empty_like(Y)
    for fold in range(N_FOLDS):
        test = folds == fold
        train = ~test
        counts = np.bincount(codes[train], minlength=n_codes)
        for j in range(Y.shape[1]):
            sums = np.bincount(codes[train], weights=Y[train, j], minlength=n_codes)
            prior = Y[train, j].mean()
            encoded = (sums + SMOOTHING * prior) / (counts + SMOOTHING)
            out[test, j] = encoded[codes[test]]
    return out


def _roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC of 0/1 labels ``y`` (Mann-Whitney U with tied scores averaged)."""
    from scipy.stats import rankdata

    ranks = rankdata(score)
    positive = y > 0.5
    n_pos = int(positive.sum())
    n_neg = len(y) - n_pos
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _score(P: np.ndarray, Y: np.ndarray, task: str) -> float:
    if task == "regression":
        y = Y[:, 0]
        total = float(((y - y.mean()) ** 2).sum())
        return 1.0 - float(((y - P[:, 0]) ** 2).sum()) / total if total > 0 else float("nan")
    scores = [_roc_auc(Y[:, j], P[:, j]) for j in range(Y.shape[1])
              if 0 < Y[:, j].sum() < len(Y)]
    return float(np.mean(scores)) if scores else float("nan")


def _severity(score: float, thresholds: tuple[float, float]) -> str | None:
    if not np.isfinite(score) or score < thresholds[0]:
        return None
    return "error" if score >= thresholds[1] else "warning"


def target_scores(
    train: pd.DataFrame, target: Hashable, columns: Sequence[Hashable]
) -> tuple[pd.DataFrame, list[Finding], str]:
    """One-feature scores of ``columns`` (and their missingness) for ``target``.

    Returns the score table, the findings and the task detected.
    """
    y_all = train[target]
    known = y_all.notna().to_numpy()
    task = target_task(y_all)
    findings: list[Finding] = []
    metric = "r2" if task == "regression" else "roc_auc"
    if task in ("one_class", "too_many_classes"):
        reason = ("the target has one class" if task == "one_class"
                  else f"the target has more than {MAX_CLASSES} classes")
        findings.append(Finding("target_checks_skipped", "info", column=target,
                                message=f"{reason}: single-feature checks were skipped"))
        return pd.DataFrame(columns=["column", "metric", "score", "missing_score"]), findings, task
    rng = np.random.RandomState(0)
    rows = np.flatnonzero(known)
    if len(rows) > MAX_ROWS:
        rows = np.sort(rng.choice(rows, MAX_ROWS, replace=False))
    sample = train.iloc[rows]
    Y = _target_matrix(sample[target], task)
    classes = pd.factorize(sample[target])[0] if task != "regression" else None
    folds = rng.permutation(len(rows)) % N_FOLDS
    records: list[dict[str, Any]] = []
    for column in columns:
        s = sample[column]
        score = _score(_oof_predictions(feature_codes(s), Y, folds), Y, task)
        missing = s.isna().to_numpy()
        missing_score = float("nan")
        if 0 < missing.sum() < len(missing):
            missing_score = _score(_oof_predictions(missing.astype(np.int64), Y, folds), Y, task)
        records.append({"column": column, "metric": metric, "score": score,
                        "missing_score": missing_score})
        rule = derived_rule(s, classes) if classes is not None else None
        if rule is not None or (np.isfinite(score) and score >= NEAR_PERFECT[metric]):
            how = (f"gives the target in {rule.accuracy:.1%} of rows ({rule.description}; "
                   f"majority class: {rule.baseline:.1%})" if rule is not None else
                   f"alone predicts the target almost perfectly (cross-validated {metric} "
                   f"{score:.3f})")
            findings.append(Finding(
                "target_proxy", "error", column=column,
                message=f"column {column!r} {how}: it looks derived from the target or recorded "
                "after it",
                n_rows=len(rows), threshold=NEAR_PERFECT[metric],
                suggestion="check when this value becomes known; drop it if only after the outcome",
                details={"metric": metric, "score": score,
                         **({"rule": rule.kind, "rule_accuracy": rule.accuracy}
                            if rule is not None else {})},
            ))
        severity = _severity(missing_score, MISSING_THRESHOLDS[metric])
        if severity:
            findings.append(Finding(
                "missingness_predicts_target", severity, column=column,
                message=f"whether {column!r} is missing predicts the target "
                f"({metric} {missing_score:.3f}): the value is likely filled in only "
                "for one outcome, after the fact",
                n_rows=int(missing.sum()), share=float(missing.mean()),
                threshold=MISSING_THRESHOLDS[metric][0],
                suggestion="find out why the value is missing; drop the column if its presence "
                "is only known after the outcome",
                details={"metric": metric, "score": missing_score},
            ))
    return pd.DataFrame.from_records(records,
                                     columns=["column", "metric", "score", "missing_score"]), \
        findings, task
