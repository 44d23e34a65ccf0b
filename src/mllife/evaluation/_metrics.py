"""Task metrics, confusion matrix, curves, calibration and the threshold table.

Every number is scikit-learn's own (same function, same arguments) so it
agrees with a direct call; a metric that cannot be computed on these rows is
``NaN`` with a reason in ``undefined``, never dropped and never a crash.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ._inputs import Predictions

#: Metrics where lower is better (lift is baseline minus model for these).
LOSSES = frozenset({"log_loss", "brier", "ece", "mae", "rmse", "mape"})
CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "precision", "recall", "f1",
                          "roc_auc", "pr_auc", "log_loss", "brier", "ece")
REGRESSION_METRICS = ("mae", "rmse", "r2", "mape")
#: Bins of the reliability curve and of the ECE: equal-width on [0, 1].
CALIBRATION_BINS = 10
#: Curves are thinned to at most this many points for the report.
CURVE_POINTS = 201


def _quiet(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def primary_metric(task: str, metrics: dict[str, float]) -> str:
    """The headline score: ROC-AUC (binary, when defined), accuracy, or R²."""
    if task == "regression":
        return "r2"
    if task == "binary" and np.isfinite(metrics.get("roc_auc", np.nan)):
        return "roc_auc"
    return "accuracy"


def compute_metrics(pred: Predictions) -> tuple[dict[str, float], dict[str, str]]:
    """``(metrics, undefined)``: every metric of the task, NaN ones explained."""
    if pred.task == "regression":
        return _regression(pred)
    return _classification(pred)


def _regression(pred: Predictions) -> tuple[dict[str, float], dict[str, str]]:
    from sklearn import metrics as skm

    y, p = pred.y_true, pred.y_pred
    out: dict[str, float] = {
        "mae": float(skm.mean_absolute_error(y, p)),
        "rmse": float(np.sqrt(skm.mean_squared_error(y, p))),
        "r2": np.nan,
        "mape": np.nan,
    }
    undefined: dict[str, str] = {}
    if len(y) >= 2 and np.ptp(y) > 0:
        out["r2"] = float(skm.r2_score(y, p))
    else:
        undefined["r2"] = "y_test is constant: R² divides by its variance"
    n_zero = int((np.abs(y) < np.finfo(float).eps).sum())
    if n_zero:
        undefined["mape"] = f"{n_zero} true value(s) are zero: percentage errors are undefined"
    else:
        out["mape"] = float(skm.mean_absolute_percentage_error(y, p))
    return out, undefined


def _classification(pred: Predictions) -> tuple[dict[str, float], dict[str, str]]:
    from sklearn import metrics as skm

    assert pred.classes is not None
    y, p = pred.y_true, pred.y_pred
    labels = pred.classes
    present = np.unique(y)
    out = dict.fromkeys(CLASSIFICATION_METRICS, np.nan)
    undefined: dict[str, str] = {}
    out["accuracy"] = float(skm.accuracy_score(y, p))
    out["balanced_accuracy"] = float(_quiet(skm.balanced_accuracy_score, y, p))
    unseen = sorted(set(present.tolist()) - set(labels.tolist()), key=str)
    if pred.task == "binary":
        pos = pred.positive_label
        kw: dict[str, Any] = {"pos_label": pos, "zero_division": np.nan}
        # Binary scores are about the positive class only: other labels count as negative.
        yb, pb = (y == pos), (p == pos)
        out["precision"] = float(skm.precision_score(yb, pb, **{**kw, "pos_label": True}))
        out["recall"] = float(skm.recall_score(yb, pb, **{**kw, "pos_label": True}))
        out["f1"] = float(skm.f1_score(yb, pb, **{**kw, "pos_label": True}))
        if np.isnan(out["precision"]):
            undefined["precision"] = f"the model predicts no {pos!r}: precision divides by zero"
        if np.isnan(out["recall"]):
            undefined["recall"] = f"y_test has no {pos!r}: recall divides by zero"
        if np.isnan(out["f1"]):
            undefined["f1"] = "precision and recall are both undefined or zero"
        one_class = yb.all() or (~yb).all()
        if pred.score is None:
            for m in ("roc_auc", "pr_auc"):
                undefined[m] = "the model gives neither probabilities nor decision scores"
        elif one_class:
            undefined["roc_auc"] = "y_test holds one class only: ROC-AUC needs both"
            if yb.any():
                out["pr_auc"] = float(skm.average_precision_score(yb, pred.score))
            else:
                undefined["pr_auc"] = f"y_test has no {pos!r}: PR-AUC needs positives"
        else:
            out["roc_auc"] = float(skm.roc_auc_score(yb, pred.score))
            out["pr_auc"] = float(skm.average_precision_score(yb, pred.score))
        if pred.proba is not None:
            prob = pred.score
            assert prob is not None
            if unseen:
                undefined["log_loss"] = f"y_test holds labels the model does not know: {unseen}"
            elif len(labels) < 2:  # e.g. a baseline fitted on a one-class y_test
                undefined["log_loss"] = f"the model knows one class only ({labels[0]!r})"
            else:
                out["log_loss"] = float(skm.log_loss(y, pred.proba, labels=labels))
            out["brier"] = float(skm.brier_score_loss(yb, prob))
            out["ece"] = expected_calibration_error(yb.astype(float), prob)
    else:
        out["precision"] = float(skm.precision_score(y, p, labels=labels, average="macro", zero_division=0.0))
        out["recall"] = float(skm.recall_score(y, p, labels=labels, average="macro", zero_division=0.0))
        out["f1"] = float(skm.f1_score(y, p, labels=labels, average="macro", zero_division=0.0))
        if pred.proba is not None:
            missing = [c for c in labels.tolist() if c not in set(present.tolist())]
            if unseen:
                reason = f"y_test holds labels the model does not know: {unseen}"
                undefined["roc_auc"] = reason
                undefined["pr_auc"] = reason
            elif missing:
                reason = f"classes {missing} do not occur in y_test: one-vs-rest scores are undefined for them"
                undefined["roc_auc"] = reason
                undefined["pr_auc"] = reason
            else:
                out["roc_auc"] = float(skm.roc_auc_score(y, pred.proba, multi_class="ovr",
                                                         average="macro", labels=labels))
                onehot = (y[:, None] == labels[None, :]).astype(int)
                out["pr_auc"] = float(skm.average_precision_score(onehot, pred.proba, average="macro"))
            if unseen:
                undefined["log_loss"] = f"y_test holds labels the model does not know: {unseen}"
            else:
                out["log_loss"] = float(skm.log_loss(y, pred.proba, labels=labels))
            onehot = (y[:, None] == labels[None, :]).astype(float)
            out["brier"] = float(((pred.proba - onehot) ** 2).sum(axis=1).mean())
            top = pred.proba.argmax(axis=1)
            out["ece"] = expected_calibration_error(
                (labels[top] == y).astype(float), pred.proba[np.arange(len(y)), top])
        elif pred.decision is not None:
            # Macro one-vs-rest on decision scores: each class's AUC and AP only need a
            # ranking, so roc_auc_score's "ovr" on probabilities is the same mean.
            missing = [c for c in labels.tolist() if c not in set(present.tolist())]
            if missing:
                reason = f"classes {missing} do not occur in y_test: one-vs-rest scores are undefined for them"
                undefined["roc_auc"] = reason
                undefined["pr_auc"] = reason
            else:
                truth = y[:, None] == labels[None, :]
                out["roc_auc"] = float(np.mean([skm.roc_auc_score(truth[:, k], pred.decision[:, k])
                                                for k in range(len(labels))]))
                out["pr_auc"] = float(np.mean([
                    skm.average_precision_score(truth[:, k], pred.decision[:, k])
                    for k in range(len(labels))]))
        else:
            for m in ("roc_auc", "pr_auc"):
                undefined[m] = "the model gives neither probabilities nor decision scores"
    if pred.proba is None:
        for m in ("log_loss", "brier", "ece"):
            undefined.setdefault(m, "the model has no predict_proba")
    return out, undefined


def _bin_ids(prob: np.ndarray, n_bins: int) -> np.ndarray:
    # The binning of sklearn.calibration.calibration_curve(strategy="uniform").
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], prob)


def expected_calibration_error(outcome: np.ndarray, prob: np.ndarray,
                               n_bins: int = CALIBRATION_BINS) -> float:
    """ECE: the row-weighted mean of ``|observed rate - mean probability|`` over equal-width bins.

    Bins are those of ``calibration_curve(strategy="uniform")``.
    """
    if len(prob) == 0:
        return float("nan")
    ids = _bin_ids(prob, n_bins)
    count = np.bincount(ids, minlength=n_bins)
    gap = np.abs(np.bincount(ids, outcome, n_bins) - np.bincount(ids, prob, n_bins))
    return float(gap.sum() / count.sum())


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
    ids = _bin_ids(prob, n_bins)
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
    """scikit-learn's ``classification_report`` as a table (undefined cells are NaN)."""
    from sklearn.metrics import classification_report

    assert pred.classes is not None
    labels = list(pred.classes) + sorted(
        set(np.unique(pred.y_true).tolist()) - set(pred.classes.tolist()), key=str)
    report = _quiet(classification_report, pred.y_true, pred.y_pred, labels=labels,
                    output_dict=True, zero_division=np.nan)
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
