"""Train/test gap, leakage red flags, baseline lift and metric by time period."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .. import _metrics
from .._errors import InputError
from ..report import Finding
from ._inputs import Predictions, predict
from ._periods import MIN_PERIOD_ROWS, period_freq, time_periods  # noqa: F401 (re-exported)
from ._slices import wilson_interval

#: Metrics where lower is better (lift is baseline minus model for these).
LOSSES = frozenset(name for name, m in _metrics.METRICS.items() if not m.higher_is_better)

#: The primary score may fall this much from train to test before overfitting is flagged.
OVERFIT_GAP = 0.05
#: Test may beat train by this much before it is called suspicious.
TEST_ABOVE_TRAIN = 0.02
#: A headline score at or above this is suspiciously perfect.
PERFECT = 0.99
#: Training rows scored for the train/test gap (a seeded sample beyond this).
MAX_TRAIN_ROWS = 50_000
#: Recent periods must be worse at this one-sided significance level...
RECENT_ALPHA = 0.01
#: ... and by at least this share of the earlier loss, to be flagged.
RECENT_MIN_INCREASE = 0.10


def compute_metrics(pred: Predictions) -> tuple[dict[str, float], dict[str, str]]:
    """``(metrics, undefined)``: every metric of the task, from :mod:`mllife._metrics`."""
    return _metrics.task_scores(pred.task, pred.y_true, pred.y_pred, classes=pred.classes,
                                proba=pred.proba, score=pred.score, decision=pred.decision,
                                pos_label=pred.positive_label)


def primary_metric(task: str, metrics: dict[str, float]) -> str:
    """The headline score: ROC-AUC (binary, when defined), accuracy, or R²."""
    if task == "regression":
        return "r2"
    if task == "binary" and np.isfinite(metrics.get("roc_auc", np.nan)):
        return "roc_auc"
    return "accuracy"


def signed_gap(metric: str, better: float, worse: float) -> float:
    """``better - worse`` in the metric's "higher is better" direction."""
    return (worse - better) if metric in LOSSES else (better - worse)


def train_test_gap(model: Any, X_train: pd.DataFrame, y_train: pd.Series, test: Predictions,
                   test_metrics: dict[str, float]) -> tuple[dict[str, float], pd.DataFrame, str]:
    """Train metrics (on at most :data:`MAX_TRAIN_ROWS` rows), the gap table and a note."""
    note = ""
    if len(X_train) > MAX_TRAIN_ROWS:
        rng = np.random.default_rng(0)
        take = np.sort(rng.choice(len(X_train), MAX_TRAIN_ROWS, replace=False))
        X_train, y_train = X_train.iloc[take], y_train.iloc[take]
        note = f"Train metrics on a seeded sample of {MAX_TRAIN_ROWS:,} training rows."
    train = predict(model, X_train, y_train, task=test.task, positive_label=test.positive_label)
    train_metrics, _ = compute_metrics(train)
    rows = []
    for m, test_value in test_metrics.items():
        tr = train_metrics.get(m, np.nan)
        rows.append({"metric": m, "train": tr, "test": test_value,
                     "gap": signed_gap(m, tr, test_value)})
    return train_metrics, pd.DataFrame(rows), note


def red_flags(task: str, metrics: dict[str, float], train_metrics: dict[str, float] | None,
              baseline_metrics: dict[str, float] | None) -> tuple[list[Finding], bool | None]:
    """Overfitting and leakage findings, and the overfitting flag (None without train data)."""
    findings: list[Finding] = []
    primary = primary_metric(task, metrics)
    value = metrics.get(primary, np.nan)
    overfit: bool | None = None
    trivial = baseline_metrics is not None and baseline_metrics.get(primary, 0.0) >= PERFECT
    if np.isfinite(value) and value >= PERFECT and not trivial:
        findings.append(Finding(
            "suspiciously_perfect", "warning", message=(
                f"test {primary} is {value:.4f}: near-perfect scores usually mean target leakage "
                "(a feature recorded after the outcome, duplicates across train and test)"),
            threshold=PERFECT,
            suggestion="Run mllife.check_leakage(train, test, target=...) and look at the top SHAP features.",
        ))
    if train_metrics is not None:
        tr = train_metrics.get(primary, np.nan)
        if np.isfinite(tr) and np.isfinite(value):
            gap = tr - value
            overfit = bool(gap > OVERFIT_GAP)
            if overfit:
                findings.append(Finding(
                    "overfitting", "warning", message=(
                        f"{primary} falls from {tr:.4f} on train to {value:.4f} on test "
                        f"(gap {gap:.4f} > {OVERFIT_GAP})"),
                    threshold=OVERFIT_GAP,
                    suggestion="Regularise, simplify the model or add data; compare with cross-validation.",
                ))
            if value - tr > TEST_ABOVE_TRAIN:
                findings.append(Finding(
                    "test_above_train", "warning", message=(
                        f"{primary} is higher on test ({value:.4f}) than on train ({tr:.4f}) by "
                        f"{value - tr:.4f}: test rows may be easier, duplicated from train, or leaked"),
                    threshold=TEST_ABOVE_TRAIN,
                    suggestion="Check how the split was made (mllife.split, mllife.check_leakage).",
                ))
    return findings, overfit


def fit_baseline(baseline: Any, task: str, X_train: pd.DataFrame | None, y_train: pd.Series | None,
                 X_test: pd.DataFrame, y_test: pd.Series) -> tuple[Any, str, list[str]]:
    """The fitted baseline estimator, its name and notes (``(None, "", [])`` when skipped)."""
    from sklearn.base import clone
    from sklearn.dummy import DummyClassifier, DummyRegressor

    notes: list[str] = []
    if baseline is None:
        return None, "", notes
    X_fit, y_fit = (X_train, y_train) if X_train is not None and y_train is not None else (X_test, y_test)
    on_test = X_train is None or y_train is None
    dummy = DummyRegressor(strategy="mean") if task == "regression" else DummyClassifier(strategy="prior")
    if isinstance(baseline, str):
        if baseline != "auto":
            raise InputError(f"baseline={baseline!r} is not known",
                             expected="'auto', None or a scikit-learn estimator")
        estimator: Any = dummy
        if not on_test:
            try:
                from ..baselines import baseline as make_baseline

                estimator = make_baseline(task)
            except (ImportError, AttributeError, TypeError, ValueError):
                estimator = dummy
        else:
            notes.append("No training data given: the baseline is a Dummy fitted on y_test "
                         "(the test class prior or mean), which flatters the baseline slightly.")
    else:
        estimator = baseline
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        try:
            check_is_fitted(estimator)
            return estimator, type(estimator).__name__, notes
        except (NotFittedError, TypeError):  # unfitted, or not an estimator: handled below
            pass
        if on_test:
            notes.append("No training data given: the baseline was fitted on the test set.")
    try:
        fitted = clone(estimator).fit(X_fit, y_fit)
    except Exception as exc:
        if estimator is dummy:
            raise
        notes.append(f"Baseline {type(estimator).__name__} failed to fit ({type(exc).__name__}); "
                     "used a Dummy baseline instead.")
        fitted = clone(dummy).fit(X_fit, y_fit)
    return fitted, type(fitted).__name__, notes


def lift(metrics: dict[str, float], baseline_metrics: dict[str, float]) -> dict[str, float]:
    """Model minus baseline per metric, signed so that positive is better."""
    out = {}
    for m, v in metrics.items():
        b = baseline_metrics.get(m, np.nan)
        if np.isfinite(v) and np.isfinite(b):
            out[m] = float(signed_gap(m, v, b))
    return out


def by_period(pred: Predictions, time: pd.Series) -> tuple[pd.DataFrame, Finding | None, dict[str, Any]]:
    """The loss per period with its 95% CI, and a finding when recent periods are worse.

    Recent = the last quarter of the periods (at least one). They are flagged
    when their pooled loss is higher than that of the earlier periods in a
    one-sided test (two-proportion z-test for the error rate, Welch's t-test
    for absolute errors) at level :data:`RECENT_ALPHA` *and* by at least
    :data:`RECENT_MIN_INCREASE` of the earlier loss.
    """
    from sklearn.metrics import roc_auc_score

    valid = time.notna().to_numpy()
    codes, labels, starts, freq = time_periods(time[valid])
    loss = pred.loss[valid]
    k = len(labels)
    n = np.bincount(codes, minlength=k)
    total = np.bincount(codes, loss, k)
    value = total / np.maximum(n, 1)
    rate = pred.is_classification
    name = "error_rate" if rate else "mae"
    table = pd.DataFrame({"period": labels, "start": starts, "n": n,
                          name: value})
    if rate:
        low, high = wilson_interval(total, n)
    else:
        sq = np.bincount(codes, loss * loss, k)
        var = np.maximum(sq / np.maximum(n, 1) - value**2, 0) * n / np.maximum(n - 1, 1)
        half = 1.959963984540054 * np.sqrt(var / np.maximum(n, 1))
        low, high = value - half, value + half
    table["ci_low"], table["ci_high"] = low, high
    if pred.task == "binary" and pred.score is not None:
        truth = (pred.y_true == pred.positive_label)[valid]
        score = pred.score[valid]
        aucs = np.full(k, np.nan)
        for i in range(k):  # one call per period (not per row)
            mask = codes == i
            t = truth[mask]
            if t.any() and not t.all():
                aucs[i] = roc_auc_score(t, score[mask])
        table["roc_auc"] = aucs
    info: dict[str, Any] = {"freq": freq, "recent_periods": 0, "p_value": None, "recent_worse": None}
    if k < 3:
        return table, None, info
    n_recent = max(1, round(0.25 * k))
    recent = codes >= k - n_recent
    info["recent_periods"] = n_recent
    a, b = loss[recent], loss[~recent]
    if len(a) < 2 or len(b) < 2:
        return table, None, info
    if rate:
        p1, p2 = a.mean(), b.mean()
        pooled = (a.sum() + b.sum()) / (len(a) + len(b))
        se = math.sqrt(pooled * (1 - pooled) * (1 / len(a) + 1 / len(b)))
        p_value = float(stats.norm.sf((p1 - p2) / se)) if se > 0 else 1.0
    else:
        p1, p2 = a.mean(), b.mean()
        res = stats.ttest_ind(a, b, equal_var=False, alternative="greater")
        p_value = float(res.pvalue) if np.isfinite(res.pvalue) else 1.0
    worse = bool(p_value < RECENT_ALPHA and p1 > p2 * (1 + RECENT_MIN_INCREASE))
    info.update({"p_value": p_value, "recent_worse": worse, "recent": float(p1), "earlier": float(p2)})
    finding = None
    if worse:
        finding = Finding(
            "recent_periods_worse", "warning", column=str(time.name) if time.name is not None else None,
            message=(f"{name} in the last {n_recent} period(s) ({p1:.4f}) is higher than before "
                     f"({p2:.4f}); one-sided p = {p_value:.2g}"),
            n_rows=int(recent.sum()), share=float(recent.mean()), threshold=RECENT_ALPHA,
            suggestion="The data may be drifting: compare recent and training data with mllife.drift_report.",
        )
    return table, finding, info
