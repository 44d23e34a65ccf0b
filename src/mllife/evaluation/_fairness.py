"""Fairness across groups with fairlearn's ``MetricFrame`` (imported on first use).

Per group: its size and the key metrics of the task. Binary tasks add the
demographic parity and equalized odds differences, computed by fairlearn.
A rate that is undefined in a group (no positives for the true positive rate,
no predicted positives for precision) is NaN with its reason, never a silent
zero; groups smaller than :data:`MIN_GROUP_ROWS` are flagged as too small to judge,
and a combination of several features' values without test rows is left out
(with a note), not a row of NaN.
A parity difference above :data:`MAX_DIFFERENCE` becomes a finding only when the
groups with the highest and lowest rate differ significantly (so noise in small
test sets raises no alarm).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._frame import is_numeric
from ..report import Finding
from ._inputs import Predictions

#: Groups with fewer rows than this are too small to judge.
MIN_GROUP_ROWS = 30
#: A parity difference is flagged above this *and* when the two extreme groups
#: differ at this significance level (two-proportion z-test).
MAX_DIFFERENCE = 0.1
ALPHA = 0.05
MISSING = "(missing)"
#: A numeric sensitive feature with more distinct values is grouped by quantile bins.
MAX_NUMERIC_GROUPS = 20
_RESERVED = frozenset({"group", "n", "accuracy", "selection_rate", "true_positive_rate",
                       "false_positive_rate", "precision", "roc_auc", "mae", "mean_prediction",
                       "mean_target", "undefined", "too_small", "n_positive", "n_predicted_positive"})


@dataclass
class FairnessResult:
    by_group: pd.DataFrame
    differences: dict[str, float]
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _gap_p_value(rates: np.ndarray, dens: np.ndarray) -> float:
    """Two-sided two-proportion z-test between the groups with the highest and lowest rate."""
    from scipy import stats

    ok = np.isfinite(rates) & (dens > 0)
    if ok.sum() < 2:
        return 1.0
    r, d = rates[ok], dens[ok].astype(float)
    i, j = int(np.argmax(r)), int(np.argmin(r))
    pooled = (r[i] * d[i] + r[j] * d[j]) / (d[i] + d[j])
    se = np.sqrt(pooled * (1 - pooled) * (1 / d[i] + 1 / d[j]))
    if se == 0:
        return 1.0 if r[i] == r[j] else 0.0
    return float(2 * stats.norm.sf(abs(r[i] - r[j]) / se))


def _w(y: Any, sample_weight: Any) -> np.ndarray:
    return np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)


def _rate(num: np.ndarray, den: np.ndarray, w: np.ndarray) -> float:
    d = float(w[den].sum())
    return float(w[num].sum()) / d if d > 0 else float("nan")


def _tpr(y: Any, p: Any, sample_weight: Any = None) -> float:
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    return _rate(y & p, y, _w(y, sample_weight))


def _fpr(y: Any, p: Any, sample_weight: Any = None) -> float:
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    return _rate(~y & p, ~y, _w(y, sample_weight))


def _precision(y: Any, p: Any, sample_weight: Any = None) -> float:
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    return _rate(y & p, p, _w(y, sample_weight))


def _n(y: Any, p: Any, sample_weight: Any = None) -> float:
    return float(_w(y, sample_weight).sum())


def _n_true(y: Any, p: Any, sample_weight: Any = None) -> float:
    return float(_w(y, sample_weight)[np.asarray(y, bool)].sum())


def _n_pred(y: Any, p: Any, sample_weight: Any = None) -> float:
    return float(_w(y, sample_weight)[np.asarray(p, bool)].sum())


def _compress(groups: pd.Series | pd.DataFrame, y: np.ndarray, p: np.ndarray
              ) -> tuple[pd.Series | pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """One row per distinct (group, label, prediction) with its count as weight.

    Every metric here depends on the rows only through these counts, so a
    weighted MetricFrame on the compressed rows gives fairlearn's exact numbers
    on the full data, without fairlearn's per-row conversions (minutes on
    millions of rows).
    """
    frame = groups.to_frame() if isinstance(groups, pd.Series) else groups
    names = list(frame.columns)
    data = frame.reset_index(drop=True).assign(__y=y, __p=p)
    # The count gets its own name: an unnamed Series's column is 0, as size()'s would be.
    counts = data.groupby([*names, "__y", "__p"], sort=True, observed=True).size() \
        .rename("__n").reset_index()
    weight = counts["__n"].to_numpy(dtype=float)
    small = counts[names]
    out_groups: pd.Series | pd.DataFrame = small.iloc[:, 0] if isinstance(groups, pd.Series) else small
    return out_groups, counts["__y"].to_numpy(), counts["__p"].to_numpy(), weight


def _auc_by_group(groups: pd.Series | pd.DataFrame, truth: np.ndarray, score: np.ndarray,
                  index: pd.Index) -> np.ndarray:
    """ROC-AUC per group (NaN when a group holds one class), in the order of ``index``."""
    from sklearn.metrics import roc_auc_score

    frame = groups.to_frame() if isinstance(groups, pd.Series) else groups
    keys = frame.reset_index(drop=True)
    by = list(keys.columns)
    positions = keys.groupby(by[0] if len(by) == 1 else by, sort=True, observed=True).indices
    values = {}
    for key, rows in positions.items():  # one call per group (not per row)
        t = truth[rows]
        values[key] = roc_auc_score(t, score[rows]) if t.any() and not t.all() else np.nan
    return pd.Series(values, dtype=float).reindex(index).to_numpy()


def _quantile_bins(col: pd.Series, n_bins: int = 5) -> pd.Series:
    """Labels of the quantile bins of a numeric column (missing stays missing)."""
    values = col.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(values)
    edges = np.unique(np.quantile(values[finite], np.linspace(0, 1, n_bins + 1)))
    codes = np.clip(np.searchsorted(edges, values, side="left") - 1, 0, len(edges) - 2)
    labels = np.array([f"({edges[i]:.4g}, {edges[i + 1]:.4g}]" for i in range(len(edges) - 1)],
                      dtype=object)
    labels[0] = "[" + labels[0][1:]
    # Ordered categories: the groups appear low to high, not in text order.
    cats = pd.Categorical(np.where(finite, labels[codes], None), categories=list(labels),
                          ordered=True)
    return pd.Series(cats, index=col.index, name=col.name)


def _clean_groups(sensitive: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
    if isinstance(sensitive, pd.Series):
        # fairlearn needs string names: an unnamed Series (or one named 0) gets one.
        name = "sensitive_feature" if sensitive.name is None else str(sensitive.name)
        frame = sensitive.rename(name).to_frame()
    else:
        frame = sensitive
    fixed = {}
    for position in range(frame.shape[1]):   # by position: labels may repeat or be ints
        col = frame.iloc[:, position]
        if is_numeric(col) and not pd.api.types.is_bool_dtype(col.dtype) \
                and col.nunique() > MAX_NUMERIC_GROUPS:
            # A continuous attribute (age, income): its quantile bins are the groups, as
            # in the worst-slices table, not one group per distinct value.
            col = _quantile_bins(col)
        if col.isna().any():
            col = col.astype(str).where(col.notna(), MISSING).astype(object)
        fixed[position] = col
    out = pd.DataFrame(fixed, index=frame.index)
    # Column names are strings (fairlearn requires it), unique, and must not collide with
    # the table's own columns.
    names: list[str] = []
    for label in frame.columns:
        name = str(label)
        while name in _RESERVED or name in names:
            name = f"{name}_"
        names.append(name)
    out.columns = names
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
    p_values: dict[str, float] = {}
    y, p = pred.y_true, pred.y_pred
    if pred.task == "binary":
        pos = pred.positive_label
        yb, pb = (y == pos).astype(int), (p == pos).astype(int)
        cg, cy, cp, cw = _compress(groups, yb, pb)
        metrics: dict[str, Any] = {
            "n": _n, "accuracy": accuracy_score,
            "selection_rate": functools.partial(selection_rate, pos_label=1),
            "true_positive_rate": _tpr, "false_positive_rate": _fpr, "precision": _precision,
            "n_positive": _n_true, "n_predicted_positive": _n_pred,
        }
        frame = MetricFrame(metrics=metrics, y_true=cy, y_pred=cp, sensitive_features=cg,
                            sample_params={k: {"sample_weight": cw} for k in metrics})
        by_group = frame.by_group.copy()
        if pred.score is not None:
            by_group["roc_auc"] = _auc_by_group(groups, yb.astype(bool), pred.score, by_group.index)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            differences["demographic_parity_difference"] = float(
                demographic_parity_difference(cy, cp, sensitive_features=cg, sample_weight=cw))
            differences["equalized_odds_difference"] = float(
                equalized_odds_difference(cy, cp, sensitive_features=cg, sample_weight=cw))
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
        n_all = by_group["n"].to_numpy()
        p_values["demographic_parity_difference"] = _gap_p_value(
            by_group["selection_rate"].to_numpy(), n_all)
        p_values["equalized_odds_difference"] = min(
            _gap_p_value(by_group["true_positive_rate"].to_numpy(), n_pos),
            _gap_p_value(by_group["false_positive_rate"].to_numpy(), n_neg))
        differences.update({f"{k}_p_value": v for k, v in p_values.items()})
        by_group = by_group.drop(columns=["n_positive", "n_predicted_positive"])
        if (n_pos == 0).any() or (n_neg == 0).any():
            notes.append("fairlearn's equalized odds difference counts an undefined group rate as 0; "
                         "the groups concerned are listed in the 'undefined' column.")
    elif pred.task == "multiclass":
        cg, cy, cp, cw = _compress(groups, y, p)
        mc_metrics: dict[str, Any] = {"n": _n, "accuracy": accuracy_score}
        frame = MetricFrame(metrics=mc_metrics, y_true=cy, y_pred=cp, sensitive_features=cg,
                            sample_params={k: {"sample_weight": cw} for k in mc_metrics})
        by_group = frame.by_group.copy()
        by_group["undefined"] = ""
        notes.append("Demographic parity and equalized odds are defined for binary tasks only.")
    else:
        def mean_prediction(y_true: Any, y_pred: Any) -> float:
            return float(np.mean(y_pred))

        def mean_target(y_true: Any, y_pred: Any) -> float:
            return float(np.mean(y_true))

        frame = MetricFrame(metrics={"n": count, "mae": mean_absolute_error,
                                     "mean_prediction": mean_prediction, "mean_target": mean_target},
                            y_true=y, y_pred=p, sensitive_features=groups)
        by_group = frame.by_group.copy()
        by_group["undefined"] = ""
        notes.append("Demographic parity and equalized odds are defined for binary tasks only.")
    # fairlearn lists every combination of the features' values; one without test rows
    # has no metrics at all (NaN size): it is left out, and said so.
    absent = by_group["n"].isna().to_numpy() | (by_group["n"].to_numpy() == 0)
    if absent.any():
        labels = [" & ".join(map(str, key)) if isinstance(key, tuple) else str(key)
                  for key in by_group.index[absent]]
        notes.append(f"{len(labels)} of {len(by_group)} combinations of the sensitive features' values "
                     f"have no test rows and are left out of the fairness table: {', '.join(labels[:10])}"
                     + (", …" if len(labels) > 10 else "") + ".")
        by_group = by_group[~absent]
    by_group["n"] = by_group["n"].astype(np.int64)
    by_group["too_small"] = by_group["n"] < MIN_GROUP_ROWS
    if isinstance(groups, pd.Series) and isinstance(groups.dtype, pd.CategoricalDtype) \
            and groups.dtype.ordered:
        # fairlearn sorts groups as text; quantile bins read low to high.
        by_group = by_group.reindex([c for c in groups.cat.categories if c in by_group.index])
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
    for name, p_value in p_values.items():
        value = differences[name]
        if np.isfinite(value) and value > MAX_DIFFERENCE and p_value < ALPHA:
            findings.append(Finding(
                f"fairness_{name}", "warning", column=", ".join(names),
                message=(f"{name.replace('_', ' ')} is {value:.3f} across groups (above "
                         f"{MAX_DIFFERENCE}; two-proportion z-test p = {p_value:.2g})"),
                threshold=MAX_DIFFERENCE,
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
