"""Target leakage: single columns (or their missingness) that predict the target.

Each column gets a one-feature model: its values binned (32 quantile bins for
numbers and times, categories as they are, missing as a bin of its own) and
each bin predicted by the smoothed mean target of that bin in the other folds
(out-of-fold target encoding, 5 folds). The cross-validated ROC-AUC
(classification, one-vs-rest macro for several classes) or R² (regression) of
that model says how much the column alone knows about the target. It runs on at
most 20,000 training rows, with numpy bincounts only, so it costs milliseconds
per column at any data size.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
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

#: (warning, error) thresholds on a one-feature model's cross-validated score.
PROXY_THRESHOLDS = {"roc_auc": (0.90, 0.97), "r2": (0.80, 0.95)}
#: (warning, error) thresholds on a missingness indicator's score.
MISSING_THRESHOLDS = {"roc_auc": (0.80, 0.95), "r2": (0.50, 0.80)}


def feature_codes(s: pd.Series) -> np.ndarray:
    """Bin codes ``0..k``: quantile bins or categories, missing as the last code."""
    if is_datetime(s) or is_bool(s) or is_numeric(s):
        if is_datetime(s):
            if isinstance(s.dtype, pd.DatetimeTZDtype):
                s = s.dt.tz_convert("UTC").dt.tz_localize(None)
            values = s.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(np.float64)
            values[s.isna().to_numpy()] = np.nan
        else:
            values = s.to_numpy(dtype=np.float64, na_value=np.nan)
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
        severity = _severity(score, PROXY_THRESHOLDS[metric])
        if severity:
            findings.append(Finding(
                "target_proxy", severity, column=column,
                message=f"column {column!r} alone predicts the target with cross-validated "
                f"{metric} {score:.3f}: it may be derived from the target or recorded after it",
                n_rows=len(rows), threshold=PROXY_THRESHOLDS[metric][0],
                suggestion="check when this value becomes known; drop it if only after the outcome",
                details={"metric": metric, "score": score},
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
