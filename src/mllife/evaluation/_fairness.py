"""Fairness across groups with fairlearn's ``MetricFrame`` (imported on first use).

Per group: its size and the key metrics of the task. Binary tasks add the
demographic parity and equalized odds differences, computed by fairlearn.
A rate that is undefined in a group (no positives for the true positive rate,
no predicted positives for precision) is NaN with its reason, never a silent
zero; groups smaller than :data:`MIN_GROUP_ROWS` are flagged as too small to judge.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..report import Finding
from ._inputs import Predictions

#: Groups with fewer rows than this are too small to judge.
MIN_GROUP_ROWS = 30
MISSING = "(missing)"
_RESERVED = frozenset({"group", "n", "accuracy", "selection_rate", "true_positive_rate",
                       "false_positive_rate", "precision", "roc_auc", "mae", "mean_prediction",
                       "mean_target", "undefined", "too_small", "n_positive", "n_predicted_positive"})


@dataclass
class FairnessResult:
    by_group: pd.DataFrame
    differences: dict[str, float]
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _rate(num: np.ndarray, den: np.ndarray) -> float:
    d = float(den.sum())
    return float(num.sum()) / d if d > 0 else float("nan")


def _tpr(y: Any, p: Any) -> float:
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    return _rate(y & p, y)


def _fpr(y: Any, p: Any) -> float:
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    return _rate(~y & p, ~y)


def _precision(y: Any, p: Any) -> float:
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    return _rate(y & p, p)


def _auc(y: Any, s: Any) -> float:
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y, bool)
    if y.all() or not y.any():
        return float("nan")
    return float(roc_auc_score(y, np.asarray(s, float)))


def _n_true(y: Any, p: Any) -> float:
    return float(np.asarray(y, bool).sum())


def _n_pred(y: Any, p: Any) -> float:
    return float(np.asarray(p, bool).sum())


def _clean_groups(sensitive: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
    frame = sensitive.to_frame() if isinstance(sensitive, pd.Series) else sensitive
    fixed = {}
    for name in frame.columns:
        col = frame[name]
        if col.isna().any():
            col = col.astype(object).where(col.notna(), MISSING)
        fixed[name] = col
    out = pd.DataFrame(fixed, index=frame.index)
    # Column names must not collide with the table's own columns.
    out.columns = [f"{c}_" if str(c) in _RESERVED else c for c in out.columns]
    return out.iloc[:, 0] if isinstance(sensitive, pd.Series) else out


def fairness(pred: Predictions, sensitive: pd.Series | pd.DataFrame) -> FairnessResult:
    """Metrics by group, the parity differences, and findings about small or unfair groups."""
    from fairlearn.metrics import (
        MetricFrame,
        count,
        demographic_parity_difference,
        equalized_odds_difference,
        selection_rate,
    )
    from sklearn.metrics import accuracy_score, mean_absolute_error

    groups = _clean_groups(sensitive)
    findings: list[Finding] = []
    notes: list[str] = []
    differences: dict[str, float] = {}
    y, p = pred.y_true, pred.y_pred
    if pred.task == "binary":
        pos = pred.positive_label
        yb, pb = (y == pos).astype(int), (p == pos).astype(int)
        metrics: dict[str, Any] = {
            "n": count, "accuracy": accuracy_score,
            "selection_rate": functools.partial(selection_rate, pos_label=1),
            "true_positive_rate": _tpr, "false_positive_rate": _fpr, "precision": _precision,
            "n_positive": _n_true, "n_predicted_positive": _n_pred,
        }
        frame = MetricFrame(metrics=metrics, y_true=yb, y_pred=pb, sensitive_features=groups)
        by_group = frame.by_group.copy()
        if pred.score is not None:
            auc = MetricFrame(metrics={"roc_auc": _auc}, y_true=yb, y_pred=pred.score,
                              sensitive_features=groups)
            by_group["roc_auc"] = auc.by_group["roc_auc"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            differences["demographic_parity_difference"] = float(
                demographic_parity_difference(yb, pb, sensitive_features=groups))
            differences["equalized_odds_difference"] = float(
                equalized_odds_difference(yb, pb, sensitive_features=groups))
        n_pos = by_group["n_positive"].to_numpy()
        n_neg = by_group["n"].to_numpy() - n_pos
        n_pp = by_group["n_predicted_positive"].to_numpy()
        reasons = np.full(len(by_group), "", dtype=object)
        for mask, text in ((n_pos == 0, f"true_positive_rate: no {pos!r} in group"),
                           (n_neg == 0, f"false_positive_rate: only {pos!r} in group"),
                           (n_pp == 0, f"precision: no {pos!r} predicted in group"),
                           ((n_pos == 0) | (n_neg == 0), "roc_auc: one class only in group")):
            if text.startswith("roc_auc") and pred.score is None:
                continue
            reasons = np.where(mask, np.where(reasons == "", text, reasons + "; " + text), reasons)
        by_group["undefined"] = reasons
        by_group = by_group.drop(columns=["n_positive", "n_predicted_positive"])
        if (n_pos == 0).any() or (n_neg == 0).any():
            notes.append("fairlearn's equalized odds difference counts an undefined group rate as 0; "
                         "the groups concerned are listed in the 'undefined' column.")
    elif pred.task == "multiclass":
        frame = MetricFrame(metrics={"n": count, "accuracy": accuracy_score},
                            y_true=y, y_pred=p, sensitive_features=groups)
        by_group = frame.by_group.copy()
        by_group["undefined"] = ""
        notes.append("Demographic parity and equalized odds are defined for binary tasks only.")
    else:
        frame = MetricFrame(
            metrics={"n": count, "mae": mean_absolute_error,
                     "mean_prediction": lambda yt, yp: float(np.mean(yp)),
                     "mean_target": lambda yt, yp: float(np.mean(yt))},
            y_true=y, y_pred=p, sensitive_features=groups)
        by_group = frame.by_group.copy()
        by_group["undefined"] = ""
        notes.append("Demographic parity and equalized odds are defined for binary tasks only.")
    by_group["n"] = by_group["n"].astype(np.int64)
    by_group["too_small"] = by_group["n"] < MIN_GROUP_ROWS
    by_group = by_group.reset_index()
    names = [str(c) for c in by_group.columns[: groups.shape[1] if groups.ndim == 2 else 1]]
    key = by_group[names].astype(str).agg(" & ".join, axis=1) if len(names) > 1 else \
        by_group[names[0]].astype(str)
    by_group.insert(0, "group", key)
    small = by_group[by_group["too_small"]]
    if len(small):
        findings.append(Finding(
            "fairness_small_groups", "warning", column=", ".join(names),
            message=(f"{len(small)} group(s) have fewer than {MIN_GROUP_ROWS} rows and are too small "
                     f"to judge: {', '.join(small['group'].astype(str).tolist()[:10])}"),
            n_rows=int(small["n"].sum()), share=float(small["n"].sum() / max(len(y), 1)),
            threshold=MIN_GROUP_ROWS,
            suggestion="Collect more data for these groups or merge them before judging fairness.",
        ))
    for name, value in differences.items():
        if np.isfinite(value) and value > 0.1:
            findings.append(Finding(
                f"fairness_{name}", "warning", column=", ".join(names),
                message=f"{name.replace('_', ' ')} is {value:.3f} across groups (above 0.1)",
                threshold=0.1,
                suggestion="Check the groups' metrics below; consider fairlearn's mitigation methods.",
            ))
    undefined = by_group[by_group["undefined"] != ""]
    if len(undefined):
        findings.append(Finding(
            "fairness_undefined_metrics", "info", column=", ".join(names),
            message=(f"{len(undefined)} group(s) have undefined metrics (NaN in the table): "
                     + "; ".join(f"{g}: {r}" for g, r in zip(undefined["group"], undefined["undefined"],
                                                             strict=True))[:400]),
        ))
    return FairnessResult(by_group=by_group, differences=differences, findings=findings, notes=notes)
