"""``mllife.evaluate`` (no SHAP) against the same metrics from plain scikit-learn calls.

Run: ``python benchmarks/evaluate.py [--rows 100000]``. A random forest is fitted on
20,000 rows of 20 features (untimed); both sides then score ``--rows`` test rows.
The scikit-learn side calls ``predict`` and ``predict_proba`` once each and computes
accuracy, balanced accuracy, precision, recall, F1, ROC-AUC, average precision, log loss,
Brier score, the confusion matrix and the calibration curve. ``evaluate`` computes the
same from one pass of predictions, plus the classification report, curves, threshold
table, worst slices (each feature and pairs), a Dummy baseline and its lift, metric by
month, fairness by group (fairlearn), latency (≈2 s wall-clock budget) and model size.
Target: at most 3x.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve
from sklearn.ensemble import RandomForestClassifier


def make_data(n: int, seed: int) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 18)), columns=[f"x{i}" for i in range(18)])
    X["group"] = rng.integers(0, 3, n)
    X["segment"] = rng.integers(0, 5, n)
    logit = X["x0"] - 0.8 * X["x1"] + 0.5 * X["x2"] * X["x3"] + 0.3 * X["segment"] - 1.0
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int), name="y")
    t = pd.Series(pd.Timestamp("2024-01-01")
                  + pd.to_timedelta(np.sort(rng.integers(0, 365 * 86_400, n)), unit="s"), name="t")
    return X, y, t


def plain_sklearn(model: RandomForestClassifier, X: pd.DataFrame, y: pd.Series) -> dict[str, float]:
    pred = model.predict(X)
    proba = model.predict_proba(X)[:, 1]
    out = {
        "accuracy": skm.accuracy_score(y, pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred),
        "recall": skm.recall_score(y, pred),
        "f1": skm.f1_score(y, pred),
        "roc_auc": skm.roc_auc_score(y, proba),
        "pr_auc": skm.average_precision_score(y, proba),
        "log_loss": skm.log_loss(y, proba),
        "brier": skm.brier_score_loss(y, proba),
    }
    skm.confusion_matrix(y, pred)
    calibration_curve(y, proba, n_bins=10)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="test rows (default 100,000)")
    parser.add_argument("--trees", type=int, default=100)
    args = parser.parse_args()

    from mllife.evaluation import evaluate

    X_train, y_train, _ = make_data(20_000, 0)
    X_test, y_test, t_test = make_data(args.rows, 1)
    model = RandomForestClassifier(args.trees, max_depth=12, random_state=0, n_jobs=1)
    model.fit(X_train, y_train)

    start = time.perf_counter()
    reference = plain_sklearn(model, X_test, y_test)
    sk_seconds = time.perf_counter() - start

    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = evaluate(model, X_test, y_test, sensitive_features="group", time=t_test)
    ml_seconds = time.perf_counter() - start

    worst = max(abs(report.metrics[k] - v) for k, v in reference.items())
    print(f"test rows x features        : {len(X_test):,} x {X_test.shape[1]}")
    print(f"plain scikit-learn metrics  : {sk_seconds:7.2f} s")
    print(f"mllife.evaluate (no SHAP)   : {ml_seconds:7.2f} s  "
          f"(slices judged {report.slices_judged}, fairness groups {len(report.fairness)}, "
          f"periods {len(report.by_period)})")
    print(f"ratio evaluate / sklearn    : {ml_seconds / sk_seconds:7.2f}x  (target <= 3x)")
    print(f"largest metric difference   : {worst:.2e}")
    print(f"latency p50/p95 per row     : {report.latency_p50_ms:.2f} / {report.latency_p95_ms:.2f} ms; "
          f"model {report.model_bytes / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
