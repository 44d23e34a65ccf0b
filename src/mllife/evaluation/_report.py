"""``EvaluationReport``: everything :func:`~mllife.evaluate` found, as one value."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from .._metrics import SUMMARY_METRICS as _KEY_METRICS
from ..report import Plot, Report
from ..report._plots import bar, heatmap, lines


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class EvaluationReport(Report):
    """The result of :func:`~mllife.evaluate`: metrics, diagnostics, tables and plots.

    Every field is data: dictionaries of numbers and DataFrames. ``NaN`` in
    :attr:`metrics` always has its reason in :attr:`undefined`. Sections that
    did not run (no ``time``, no ``sensitive_features``, ``explain=False``)
    are ``None``.

    Attributes
    ----------
    task : {"binary", "multiclass", "regression"}
    n_rows : int
        Test rows evaluated.
    metrics : mapping of str to float
        Classification: ``accuracy``, ``balanced_accuracy``, ``precision``,
        ``recall``, ``f1``, ``specificity`` (binary), ``roc_auc``, ``pr_auc``,
        ``log_loss``, ``brier``, ``ece`` (multiclass: precision, recall and F1
        are macro averages over :attr:`labels`; one-vs-rest ROC-AUC,
        multiclass Brier, top-label ECE). Regression: ``mae``, ``rmse``,
        ``mse``, ``r2``, ``mape``. Each equals scikit-learn's function called
        with its defaults (see :mod:`mllife._metrics`).
    undefined : mapping of str to str
        Metric -> why it is NaN, or which part of it was undefined and
        counted as 0 (a label never predicted has precision 0, a label absent
        from ``y_test`` recall 0: scikit-learn's ``zero_division`` default).
    positive_label : object
        The positive class of a binary task.
    classes : tuple
        The model's classes (classification).
    labels : tuple
        The label set of the label metrics: the labels found in ``y_test`` or
        the predictions, sorted (scikit-learn's default ``labels``).
    confusion, confusion_normalized : DataFrame or None
        Rows: true label; columns: predicted label; normalised by true row.
    classification_table : DataFrame or None
        scikit-learn's ``classification_report`` as a table.
    roc_curve, pr_curve : DataFrame or None
        Curves thinned to at most 201 points per class.
    calibration : DataFrame or None
        Reliability curve: mean predicted probability and observed rate per bin;
        regression: mean prediction and mean actual (``mean_actual``) per
        decile of the prediction.
    threshold_table : DataFrame or None
        Binary: precision, recall, F1 and counts at each probability cut-off.
    slices : DataFrame
        The worst slices (see :mod:`~mllife.evaluation`'s docs).
    slices_judged : int
        Cells the worst-slice test counted (single-feature slices plus pair
        cells, including those of the pairs the search did not compute).
    train_metrics : mapping or None
    train_test_gap : DataFrame or None
    overfitting : bool or None
        Whether even the upper bound of the 95% interval of the test's primary
        score is more than 0.05 below the train score (a one-sided test at
        2.5%); None without training data.
    red_flag_test : mapping or None
        The numbers behind ``overfitting``, ``test_above_train`` and
        ``suspiciously_perfect``: ``metric`` (the primary one), ``method``,
        ``confidence``, ``level``, ``n_test``, ``test`` with ``test_ci_low`` /
        ``test_ci_high``; with training data also ``n_train``, ``train``,
        ``train_ci_low``/``train_ci_high``, the interval of test minus train
        (``difference_ci_low``/``difference_ci_high``) and both flags.
    baseline_name : str or None
    baseline_metrics : mapping or None
    lift : mapping of str to float
        Model minus baseline per metric, positive is better (baseline minus
        model for losses).
    by_period : DataFrame or None
    period_test : mapping or None
        The test behind ``recent_worse``: period length, recent periods,
        one-sided p-value, recent and earlier loss.
    recent_worse : bool or None
    fairness : DataFrame or None
        One row per group: size, metrics, ``undefined`` reasons, ``too_small``.
    fairness_differences : mapping or None
        ``demographic_parity_difference``, ``equalized_odds_difference``,
        and each claim's raw and Holm-adjusted p-value.
    fairness_tests : DataFrame or None
        One row per fairness claim: the difference over all groups and among
        the groups large enough to judge, the groups left out, the test
        (chi-square of equal rates across groups, or its permutation version),
        statistic, dof, raw and Holm-adjusted p-value, and whether it is a
        finding.
    importance : DataFrame or None
        Mean absolute SHAP value per raw input column.
    explanation : mapping or None
        Explainer, rows explained (``rows``, at most ``row_budget``, the
        ``explain_rows`` of ``evaluate``, of ``test_rows``), additivity error,
        seconds (wall-clock, informational).
    latency_p50_ms, latency_p95_ms : float or None
        Per single-row ``predict`` call (None with ``evaluate(measure=False)``).
    batch_p50_ms, batch_p95_ms : float or None
        Per 1,000-row batch.
    model_bytes : int or None
        ``len(pickle.dumps(model))`` (None with ``evaluate(measure=False)``).
    passed : bool or None
        Whether every success criterion is met (None without ``criteria``).
    checklist : DataFrame
        Criteria as a checklist: ``item``, ``target``, ``actual``, ``passed``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from mllife.evaluation import evaluate
    >>> X = np.arange(40.0).reshape(-1, 1)
    >>> y = 2 * X[:, 0] + np.tile([-10.0, 10.0], 20) + 5
    >>> report = evaluate(LinearRegression().fit(X, y), X, y, baseline=None)
    >>> report
    <EvaluationReport 'Evaluation of LinearRegression (regression)': 0 findings (0 errors, 0 warnings)>
    >>> round(report.metrics["mae"], 3), report.passed
    (10.0, None)
    >>> report.metrics_table()["metric"].tolist()
    ['mae', 'rmse', 'mse', 'r2', 'mape']
    """

    task: str = "binary"
    n_rows: int = 0
    metrics: Mapping[str, float] = field(default_factory=dict)
    undefined: Mapping[str, str] = field(default_factory=dict)
    positive_label: Any = None
    classes: tuple[Any, ...] = ()
    labels: tuple[Any, ...] = ()
    confusion: pd.DataFrame | None = None
    confusion_normalized: pd.DataFrame | None = None
    classification_table: pd.DataFrame | None = None
    roc_curve: pd.DataFrame | None = None
    pr_curve: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None
    threshold_table: pd.DataFrame | None = None
    slices: pd.DataFrame = field(default_factory=pd.DataFrame)
    slices_judged: int = 0
    train_metrics: Mapping[str, float] | None = None
    train_test_gap: pd.DataFrame | None = None
    overfitting: bool | None = None
    red_flag_test: Mapping[str, Any] | None = None
    baseline_name: str | None = None
    baseline_metrics: Mapping[str, float] | None = None
    lift: Mapping[str, float] = field(default_factory=dict)
    by_period: pd.DataFrame | None = None
    period_test: Mapping[str, Any] | None = None
    recent_worse: bool | None = None
    fairness: pd.DataFrame | None = None
    fairness_differences: Mapping[str, float] | None = None
    fairness_tests: pd.DataFrame | None = None
    importance: pd.DataFrame | None = None
    explanation: Mapping[str, Any] | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    batch_p50_ms: float | None = None
    batch_p95_ms: float | None = None
    model_bytes: int | None = None
    passed: bool | None = None
    checklist: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["item", "target", "actual", "passed"]))

    def __post_init__(self) -> None:
        # Mappings become read-only and frames are copied by Report (every field, once built).
        super().__post_init__()
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "labels", tuple(self.labels))

    # ---- views ---------------------------------------------------------------
    def metrics_table(self) -> pd.DataFrame:
        """One row per metric: test value, train value, baseline, lift and why it is undefined."""
        names = list(self.metrics)
        train = self.train_metrics or {}
        base = self.baseline_metrics or {}
        return pd.DataFrame({
            "metric": names,
            "test": [self.metrics[m] for m in names],
            "train": [train.get(m, np.nan) for m in names],
            "baseline": [base.get(m, np.nan) for m in names],
            "lift": [self.lift.get(m, np.nan) for m in names],
            "note": [self.undefined.get(m, "") for m in names],
        })

    def _summary(self) -> Mapping[str, Any]:
        out: dict[str, Any] = {"task": self.task, "test rows": self.n_rows}
        if self.labels:
            shown = ", ".join(str(v) for v in self.labels[:12]) + (" …" if len(self.labels) > 12 else "")
            out["labels"] = shown if self.task == "multiclass" else \
                f"{self.positive_label} (positive) of {shown}"
        for m in _KEY_METRICS.get(self.task, ()):
            if m in self.metrics:
                out[m] = self.metrics[m]
        if self.passed is not None:
            out["criteria passed"] = self.passed
        if self.overfitting is not None:
            out["overfitting"] = self.overfitting
        if self.recent_worse is not None:
            out["recent periods worse"] = self.recent_worse
        if self.latency_p95_ms is not None:
            out["p95 latency (ms/row)"] = self.latency_p95_ms
        if self.model_bytes is not None:
            out["model bytes"] = self.model_bytes
        return out

    def _tables(self) -> Mapping[str, pd.DataFrame]:
        tables: dict[str, pd.DataFrame] = {"metrics": self.metrics_table()}
        if len(self.checklist):
            tables["success criteria"] = self.checklist
        optional = {
            "confusion matrix": self.confusion,
            "confusion matrix (normalised by true label)": self.confusion_normalized,
            "classification report": self.classification_table,
            "threshold table": self.threshold_table,
            ("calibration (reliability curve)" if self.task != "regression"
             else "calibration (mean actual by decile of the prediction)"): self.calibration,
            "worst slices": self.slices if len(self.slices) else None,
            "train/test gap": self.train_test_gap,
            "red flags: 95% intervals of the primary score": self._red_flag_table(),
            "metric by period": self.by_period,
            "fairness by group": self.fairness,
            "fairness tests (equal rates across groups)": self.fairness_tests,
            "feature importance (mean |SHAP|)": self.importance,
        }
        tables.update({k: v for k, v in optional.items() if v is not None})
        if self.latency_p50_ms is not None or self.model_bytes is not None:
            tables["latency and size"] = pd.DataFrame({
                "measure": ["p50 ms per row", "p95 ms per row", "p50 ms per 1,000-row batch",
                            "p95 ms per 1,000-row batch", "model bytes (pickle)"],
                "value": [self.latency_p50_ms, self.latency_p95_ms, self.batch_p50_ms,
                          self.batch_p95_ms, self.model_bytes],
            })
        return tables

    def _red_flag_table(self) -> pd.DataFrame | None:
        test = self.red_flag_test
        if test is None:
            return None
        rows = [("test", test["test"], test["test_ci_low"], test["test_ci_high"], test["n_test"])]
        if "train" in test:
            rows += [("train", test["train"], test["train_ci_low"], test["train_ci_high"],
                      test["n_train"]),
                     ("test - train", test["test"] - test["train"], test["difference_ci_low"],
                      test["difference_ci_high"], None)]
        table = pd.DataFrame(rows, columns=["score", "value", "ci_low", "ci_high", "n"])
        table.insert(0, "metric", test["metric"])
        return table

    def _extra(self) -> Mapping[str, Any]:
        return {
            "task": self.task, "metrics": dict(self.metrics), "undefined": dict(self.undefined),
            "positive_label": self.positive_label, "classes": list(self.classes),
            "labels": list(self.labels),
            "lift": dict(self.lift), "baseline": self.baseline_name,
            "baseline_metrics": self.baseline_metrics, "train_metrics": self.train_metrics,
            "overfitting": self.overfitting, "red_flag_test": self.red_flag_test,
            "recent_worse": self.recent_worse,
            "period_test": self.period_test,
            "fairness_differences": self.fairness_differences, "explanation": self.explanation,
            "latency_p50_ms": self.latency_p50_ms, "latency_p95_ms": self.latency_p95_ms,
            "batch_p50_ms": self.batch_p50_ms, "batch_p95_ms": self.batch_p95_ms,
            "model_bytes": self.model_bytes, "passed": self.passed,
            "roc_curve": self.roc_curve, "pr_curve": self.pr_curve,
        }

    def _plots(self) -> Sequence[Plot]:
        plots: list[Plot] = list(self.plots)
        if self.confusion_normalized is not None:
            cm = self.confusion_normalized
            labels = [str(c) for c in cm.columns[1:]]
            if len(labels) <= 20:
                plots.append(Plot("Confusion matrix (share of each true label)", partial(
                    heatmap, matrix=cm.iloc[:, 1:].to_numpy(dtype=float), xlabels=labels,
                    ylabels=cm.iloc[:, 0].tolist(), fmt="{:.2f}", xlabel="predicted", ylabel="true"),
                    size=(4.8, 3.8)))
        for title, curve, x, y, diagonal in (
            ("ROC curve", self.roc_curve, "fpr", "tpr", True),
            ("Precision-recall curve", self.pr_curve, "recall", "precision", False),
        ):
            if curve is not None and len(curve):
                series = {str(k): (g[x].to_numpy(), g[y].to_numpy())
                          for k, g in curve.groupby("class", sort=False)}
                plots.append(Plot(title, partial(lines, series=series, xlabel=x, ylabel=y,
                                                 diagonal=diagonal), size=(4.8, 3.6)))
        if self.calibration is not None and len(self.calibration) and "observed_rate" in self.calibration:
            cal = self.calibration
            plots.append(Plot("Calibration (reliability curve)", partial(
                lines, series={"model": (cal["mean_predicted"].to_numpy(), cal["observed_rate"].to_numpy())},
                xlabel="mean predicted probability", ylabel="observed rate", diagonal=True),
                size=(4.8, 3.6)))
        elif self.calibration is not None and len(self.calibration) and "mean_actual" in self.calibration:
            cal = self.calibration
            span = [float(min(cal["mean_predicted"].min(), cal["mean_actual"].min())),
                    float(max(cal["mean_predicted"].max(), cal["mean_actual"].max()))]
            plots.append(Plot("Mean actual by decile of the prediction", partial(
                lines, series={"model": (cal["mean_predicted"].to_numpy(), cal["mean_actual"].to_numpy()),
                               "actual = predicted": (span, span)},
                xlabel="mean prediction", ylabel="mean actual"), size=(4.8, 3.6)))
        if len(self.slices):
            top = self.slices.head(12)
            metric = str(top["metric"].iloc[0])
            plots.append(Plot(f"Worst slices ({metric}; overall {top['overall'].iloc[0]:.3g})", partial(
                bar, labels=(top["feature"] + " = " + top["slice"].astype(str)).tolist(),
                values=top["value"].tolist(), xlabel=metric), size=(7.0, 4.0)))
        if self.by_period is not None and len(self.by_period) > 1:
            bp = self.by_period
            loss = str(bp.columns[3])
            start = bp["start"].to_numpy()
            plots.append(Plot(f"{loss} by period (95% CI)", partial(
                lines, series={loss: (start, bp[loss].to_numpy()),
                               "CI low": (start, bp["ci_low"].to_numpy()),
                               "CI high": (start, bp["ci_high"].to_numpy())},
                xlabel="period start", ylabel=loss), size=(7.0, 3.4)))
        if self.fairness is not None and len(self.fairness):
            fr = self.fairness.head(20)
            fcol = next(c for c in ("selection_rate", "accuracy", "mae", "n") if c in fr.columns)
            plots.append(Plot(f"{fcol} by group", partial(
                bar, labels=fr["group"].astype(str).tolist(),
                values=fr[fcol].to_numpy(dtype=float).tolist(), xlabel=fcol), size=(6.0, 3.0)))
        if self.importance is not None and len(self.importance):
            imp = self.importance.head(15)
            plots.append(Plot("SHAP global importance (mean |SHAP| per input column)", partial(
                bar, labels=imp["feature"].astype(str).tolist(), values=imp["mean_abs_shap"].tolist(),
                xlabel="mean |SHAP value|"), size=(6.0, 4.0)))
        return plots
