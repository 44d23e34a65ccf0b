"""Confusion matrix, classification table, curves, calibration and the threshold table.

The metrics themselves are computed in :mod:`mllife._metrics`, the one place
every mllife function takes them from; these are the tables and curves around
them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._metrics import CALIBRATION_BINS, ZERO_DIVISION, bin_ids, label_set, quiet
from ._inputs import Predictions

#: Curves are thinned to at most this many points for the report.
CURVE_POINTS = 201


def reliability_table(pred: Predictions, n_bins: int = CALIBRATION_BINS) -> pd.DataFrame | None:
    """Mean predicted probability against observed rate per bin (positive or top class).

    For regression: mean actual against mean prediction per decile of the
    prediction (columns ``mean_predicted``, ``mean_actual``), the regression
    analogue of a reliability curve.
    """
    if pred.task == "regression":
        return _regression_calibration(pred.y_pred, pred.y_true, n_bins)
    if pred.proba is None:
        return None
    if pred.task == "binary":
        assert pred.score is not None
        prob, outcome = pred.score, (pred.y_true == pred.positive_label).astype(float)
    else:
        assert pred.classes is not None
        top = pred.proba.argmax(axis=1)
        prob = pred.proba[np.arange(len(top)), top]
        outcome = (pred.classes[top] == pred.y_true).astype(float)
    ids = bin_ids(prob, n_bins)
    count = np.bincount(ids, minlength=n_bins)
    keep = count > 0
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(ids, prob, n_bins) / count
        rate = np.bincount(ids, outcome, n_bins) / count
    return pd.DataFrame({
        "bin_low": edges[:-1][keep], "bin_high": edges[1:][keep],
        "mean_predicted": mean_p[keep], "observed_rate": rate[keep], "n": count[keep],
    })


def _regression_calibration(predicted: np.ndarray, actual: np.ndarray, n_bins: int) -> pd.DataFrame | None:
    if len(predicted) < 2:
        return None
    edges = np.unique(np.quantile(predicted, np.linspace(0.0, 1.0, n_bins + 1)))
    if len(edges) < 2:
        return None
    k = len(edges) - 1
    ids = np.clip(np.searchsorted(edges, predicted, side="left") - 1, 0, k - 1)
    count = np.bincount(ids, minlength=k)
    keep = count > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(ids, predicted, k) / count
        mean_a = np.bincount(ids, actual, k) / count
    return pd.DataFrame({
        "bin_low": edges[:-1][keep], "bin_high": edges[1:][keep],
        "mean_predicted": mean_p[keep], "mean_actual": mean_a[keep], "n": count[keep],
    })


def confusion_tables(pred: Predictions) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts (rows: true, columns: predicted) and the same normalised by true row."""
    from sklearn.metrics import confusion_matrix

    assert pred.classes is not None
    labels = list(pred.classes)
    extra = sorted(set(np.unique(pred.y_true).tolist()) - set(labels), key=str)
    labels += extra
    counts = confusion_matrix(pred.y_true, pred.y_pred, labels=labels)
    names = [str(v) for v in labels]
    counts_df = pd.DataFrame(counts, index=pd.Index(names, name="true"), columns=names)
    rows = counts.sum(axis=1, keepdims=True).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        norm = np.where(rows > 0, counts / rows, np.nan)
    norm_df = pd.DataFrame(norm, index=counts_df.index, columns=names)
    return counts_df.reset_index(), norm_df.reset_index()


def classification_table(pred: Predictions) -> pd.DataFrame:
    """scikit-learn's ``classification_report`` as a table, with its default label set.

    The labels are those found in ``y_true`` or the predictions, and an
    undefined precision or recall counts as 0 (scikit-learn's defaults), so
    the ``macro avg`` row equals the report's ``precision``, ``recall`` and
    ``f1`` (multiclass).
    """
    from sklearn.metrics import classification_report

    labels = label_set(pred.y_true, pred.y_pred)
    with quiet():
        report = classification_report(pred.y_true, pred.y_pred, labels=labels, output_dict=True,
                                       zero_division=ZERO_DIVISION)
    rows = []
    for key, value in report.items():
        if isinstance(value, dict):
            rows.append({"label": str(key), **{k: float(v) for k, v in value.items()}})
        else:  # "accuracy" is a bare number
            rows.append({"label": str(key), "precision": np.nan, "recall": np.nan,
                         "f1-score": float(value), "support": float(len(pred.y_true))})
    return pd.DataFrame(rows)


def _thin(frame: pd.DataFrame, n: int = CURVE_POINTS) -> pd.DataFrame:
    if len(frame) <= n:
        return frame
    idx = np.unique(np.linspace(0, len(frame) - 1, n).round().astype(int))
    return frame.iloc[idx].reset_index(drop=True)


def curves(pred: Predictions) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """ROC and precision-recall curves (one-vs-rest per class for multiclass), thinned."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    targets: list[tuple[str, np.ndarray, np.ndarray]] = []
    if pred.task == "binary" and pred.score is not None:
        targets.append((str(pred.positive_label), pred.y_true == pred.positive_label, pred.score))
    elif pred.task == "multiclass" and (pred.proba is not None or pred.decision is not None):
        assert pred.classes is not None
        scores = pred.proba if pred.proba is not None else pred.decision
        assert scores is not None
        for k, label in enumerate(pred.classes):
            targets.append((str(label), pred.y_true == label, scores[:, k]))
    roc_parts, pr_parts = [], []
    for label, truth, score in targets:
        if truth.all() or not truth.any():
            continue
        fpr, tpr, thr = roc_curve(truth, score)
        roc_parts.append(_thin(pd.DataFrame({"class": label, "fpr": fpr, "tpr": tpr,
                                             "threshold": thr})))
        precision, recall, thr_pr = precision_recall_curve(truth, score)
        pr_parts.append(_thin(pd.DataFrame({"class": label, "recall": recall, "precision": precision,
                                            "threshold": np.append(thr_pr, np.nan)})))
    roc = pd.concat(roc_parts, ignore_index=True) if roc_parts else None
    pr = pd.concat(pr_parts, ignore_index=True) if pr_parts else None
    return roc, pr


def threshold_table(pred: Predictions, thresholds: np.ndarray | None = None) -> pd.DataFrame | None:
    """Binary only: counts and rates at each cut-off ``score >= threshold`` (probabilities)."""
    if pred.task != "binary" or pred.proba is None or pred.score is None:
        return None
    if thresholds is None:
        thresholds = np.round(np.arange(0.05, 1.0, 0.05), 2)
    truth = pred.y_true == pred.positive_label
    pos = np.sort(pred.score[truth])
    neg = np.sort(pred.score[~truth])
    tp = len(pos) - np.searchsorted(pos, thresholds, side="left")
    fp = len(neg) - np.searchsorted(neg, thresholds, side="left")
    fn = len(pos) - tp
    tn = len(neg) - fp
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
        fpr = np.where(fp + tn > 0, fp / (fp + tn), np.nan)
    n = len(truth)
    return pd.DataFrame({
        "threshold": thresholds, "precision": precision, "recall": recall, "f1": f1,
        "false_positive_rate": fpr, "predicted_positive_rate": (tp + fp) / n if n else np.nan,
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
    })
