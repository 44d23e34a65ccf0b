"""``evaluate``: one call that judges a fitted model on held-out data."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataWarning, InputError
from .._metrics import CALIBRATION_BINS, label_note, label_set
from ..report import Finding
from ._curves import (
    classification_table,
    confusion_tables,
    curves,
    reliability_table,
    threshold_table,
)
from ._diagnostics import (
    by_period,
    compute_metrics,
    fit_baseline,
    lift,
    primary_metric,
    red_flags,
    train_test_gap,
)
from ._inputs import align, as_time, infer_task, predict, side_column
from ._report import EvaluationReport
from ._slices import N_BINS, PAIR_FEATURES, SLICE_ALPHA, min_slice_rows, worst_slices

#: Significant worst slices reported as findings.
SLICE_FINDINGS = 3


def evaluate(
    model: Any,
    X_test: Any,
    y_test: Any,
    *,
    X_train: Any = None,
    y_train: Any = None,
    sensitive_features: Any = None,
    time: Any = None,
    criteria: Any = None,
    baseline: Any = "auto",
    explain: bool = False,
    positive_label: Any = None,
) -> EvaluationReport:
    """Evaluate a fitted model like a sceptic, in one call.

    Predictions are computed once (``predict``, plus ``predict_proba`` or
    ``decision_function``) and shared by every section: task metrics,
    confusion matrix, curves, calibration, threshold table, worst slices,
    baseline lift, metric by time period and fairness. Training data adds the
    train/test gap and the overfitting and leakage red flags; each red flag
    compares the train score with a 95% interval of the test score, so it is
    a one-sided test at level 2.5% (see :attr:`EvaluationReport.red_flag_test`).

    Parameters
    ----------
    model : fitted estimator
        A classifier (binary or multiclass, by its ``classes_``) or a
        regressor; a Pipeline is fine.
    X_test : DataFrame or 2-D array
    y_test : Series or 1-D array
        When both ``X_test`` and ``y_test`` are pandas objects their indexes
        must match.
    X_train, y_train : optional
        Training data: train/test gap, red flags, baseline fitting.
    sensitive_features : str, list of str, Series, DataFrame or array, optional
        Column name(s) of ``X_test`` or values per row: fairness by group.
    time : str, Series or array of datetimes, optional
        Column name of ``X_test`` or values per row: metric by period.
        ISO 8601 text is parsed.
    criteria : SuccessCriteria or dict, optional
        Sets :attr:`EvaluationReport.passed` and ``checklist``.
    baseline : "auto", None or estimator, default="auto"
        ``"auto"``: ``mllife.baseline(task)`` fitted on the training data
        (a scikit-learn Dummy when that is unavailable, or fitted on the test
        labels when no training data is given). An estimator is used as is
        when fitted, else fitted like ``"auto"``. ``None`` skips the lift.
    explain : bool, default=False
        Compute SHAP global importance on a sample of rows, under a time budget.
    positive_label : optional
        The positive class of a binary task; default: the model's last class
        (``1``, ``True``, or the later string), as in scikit-learn.

    Returns
    -------
    EvaluationReport

    Raises
    ------
    InputError
        When ``X_test``/``y_test``/``sensitive_features``/``time`` differ in
        length or index, ``y_test`` has missing labels, the model's
        predictions contain NaN, or a named column does not exist.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mllife.evaluation import evaluate
    >>> X, y = make_classification(400, n_features=5, random_state=0)
    >>> X = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    >>> model = LogisticRegression().fit(X[:300], y[:300])
    >>> report = evaluate(model, X[300:], y[300:], X_train=X[:300], y_train=y[:300])
    >>> report.task
    'binary'
    >>> round(report.metrics["accuracy"], 2)
    0.83
    >>> report.lift["roc_auc"] > 0.4
    True
    """
    X, y = align(X_test, y_test)
    if len(X) == 0:
        raise InputError("X_test has no rows", expected="at least one test row")
    Xtr = ytr = None
    if (X_train is None) != (y_train is None):
        raise InputError("only one of X_train and y_train was given", expected="both or neither")
    if X_train is not None:
        Xtr, ytr = align(X_train, y_train, x_name="X_train", y_name="y_train")
    sens = side_column(sensitive_features, X, name="sensitive_features", allow_frame=True)
    t = side_column(time, X, name="time", allow_frame=False)
    t = None if t is None else as_time(t)

    task = infer_task(model, y)
    pred = predict(model, X, y, task=task, positive_label=positive_label)
    findings: list[Finding] = []
    notes: list[str] = list(pred.notes)
    for note in pred.notes:
        findings.append(Finding("skipped_metrics" if "predict_proba" in note else "scores", "info",
                                message=note))
    metrics, undefined = compute_metrics(pred)

    kw: dict[str, Any] = {}
    if pred.is_classification:
        assert pred.classes is not None
        known = set(pred.classes.tolist())
        present = pd.Series(pred.y_true)
        unseen_mask = ~present.isin(known).to_numpy()
        if unseen_mask.any():
            labels = sorted(set(present[unseen_mask].tolist()), key=str)
            findings.append(Finding(
                "unseen_labels", "warning", column=y.name, n_rows=int(unseen_mask.sum()),
                share=float(unseen_mask.mean()),
                message=f"y_test holds labels the model never saw in training: {labels[:10]}",
                suggestion="These rows can never be predicted right; check the split and the label set.",
            ))
        if len(np.unique(pred.y_true)) < 2:
            findings.append(Finding(
                "one_class", "warning", column=y.name, n_rows=len(y),
                message=f"y_test holds one class only ({pred.y_true[0]!r}): ranking metrics are undefined",
                suggestion="Evaluate on a test set with every class present.",
            ))
        predicted = pd.unique(pd.Series(pred.y_pred))
        if len(predicted) == 1 and len(np.unique(pred.y_true)) > 1:
            findings.append(Finding(
                "constant_predictions", "warning", n_rows=len(y),
                message=(f"the model predicts {predicted[0]!r} for every test row: label metrics "
                         "say nothing about the other classes"),
                suggestion="Check class weights or the decision threshold (see the threshold table).",
            ))
        if task == "binary" and positive_label is None:
            pos_share = float(np.mean(pred.y_true == pred.positive_label))
            if pos_share > 0.5 and not pd.api.types.is_numeric_dtype(pd.Series(pred.classes)):
                other = [c for c in pred.classes.tolist() if c != pred.positive_label]
                findings.append(Finding(
                    "positive_label", "info", column=y.name, share=pos_share, message=(
                        f"binary scores are about {pred.positive_label!r} (the later label, as in "
                        f"scikit-learn), the majority class ({pos_share:.1%} of y_test)"),
                    suggestion=(f"Pass positive_label={other[0]!r} if that is the class of "
                                "interest" if other else "Pass positive_label explicitly"),
                ))
        counts, normalised = confusion_tables(pred)
        roc, pr = curves(pred)
        kw.update(confusion=counts, confusion_normalized=normalised,
                  classification_table=classification_table(pred), roc_curve=roc, pr_curve=pr,
                  calibration=reliability_table(pred), threshold_table=threshold_table(pred),
                  classes=tuple(pred.classes.tolist()), positive_label=pred.positive_label)
        label_values = label_set(pred.y_true, pred.y_pred)
        kw["labels"] = tuple(label_values.tolist())
        notes.append(label_note(task, label_values, pred.positive_label))
        if kw["calibration"] is not None:
            notes.append(f"Calibration: ECE over {CALIBRATION_BINS} equal-width probability bins "
                         + ("of the positive class." if task == "binary" else "of the top-class confidence."))
    if not pred.is_classification:
        kw["calibration"] = reliability_table(pred)
    # One finding per reason: "roc_auc, pr_auc, log_loss, brier and ece are undefined: ...";
    # a metric with a value (an undefined part counted as 0) is named with its reason.
    by_reason: dict[str, list[str]] = {}
    for metric, reason in undefined.items():
        by_reason.setdefault(reason, []).append(metric)
    for reason, names in by_reason.items():
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        nan = all(np.isnan(metrics.get(m, np.nan)) for m in names)
        verb = (" is undefined" if len(names) == 1 else " are undefined") if nan else ""
        findings.append(Finding("undefined_metric", "info", message=f"{listed}{verb}: {reason}",
                                details={"metric": names[0], "metrics": names}))

    # ---- where it fails -----------------------------------------------------------
    exclude = tuple(str(c) for c in ([t.name] if t is not None and t.name in X.columns else []))
    search = worst_slices(X, pred.loss, rate=pred.is_classification,
                          metric="error_rate" if pred.is_classification else "mae",
                          exclude=exclude)
    slices, judged = search.table, search.judged
    significant = slices[slices["significant"]] if len(slices) else slices
    for row in significant.head(SLICE_FINDINGS).itertuples(index=False):
        findings.append(Finding(
            "weak_slice", "warning", column=row.feature, n_rows=int(row.n), share=float(row.share),
            message=(f"{row.feature} = {row.slice}: {row.metric} {row.value:.4f} vs {row.overall:.4f} "
                     f"overall (95% CI {row.ci_low:.4f}–{row.ci_high:.4f}; Bonferroni-adjusted "
                     f"p = {row.p_adjusted:.2g})"),
            suggestion="Look at these rows: missing features, label noise, or a segment needing its own model.",
            details={"p_value": float(row.p_value), "p_adjusted": float(row.p_adjusted)},
        ))
    if search.pairs_total == 0:
        pairs = "no pairs (fewer than two features to slice)"
    elif search.pairs_searched == search.pairs_total:
        pairs = (f"all {search.pairs_total} pairs of features" if search.pairs_total > 1
                 else "the one pair of features")
    else:
        pairs = (f"{search.pairs_searched} of the {search.pairs_total} pairs of features (those "
                 f"of the {PAIR_FEATURES} with the worst single slices)")
    judged_note = (
        f"Flagged when worse than overall at a family-wise level of {SLICE_ALPHA:g} (Bonferroni; "
        "exact binomial test for the error rate): half of it over the "
        f"{search.single_cells} single-feature slices, half over {search.pair_cells} pair cells, "
        "a count that includes every pair the search could have chosen."
        if search.judged else "No slice had enough rows to be judged.")
    notes.append(f"Slices: categorical values, {N_BINS} quantile bins per numeric feature and "
                 f"{pairs}; slices under {min_slice_rows(len(X))} rows are not judged. "
                 + judged_note)

    # ---- baseline and train/test ---------------------------------------------------
    baseline_est, baseline_name, base_notes = fit_baseline(baseline, task, Xtr, ytr, X, y)
    notes += base_notes
    baseline_metrics = None
    lifts: dict[str, float] = {}
    if baseline_est is not None:
        base_pred = predict(baseline_est, X, y, task=task, positive_label=pred.positive_label)
        baseline_metrics, _ = compute_metrics(base_pred)
        lifts = lift(metrics, baseline_metrics)
        primary = primary_metric(task, metrics)
        if primary in lifts and lifts[primary] <= 0:
            findings.append(Finding(
                "no_lift", "warning", message=(
                    f"the model does not beat the {baseline_name} baseline on {primary} "
                    f"(lift {lifts[primary]:.4f})"),
                suggestion="A model that cannot beat the baseline should not ship.",
            ))
    train_pred = train_metrics = gap_table = None
    if Xtr is not None and ytr is not None:
        train_pred, train_metrics, gap_table, note = train_test_gap(model, Xtr, ytr, pred, metrics)
        if note:
            notes.append(note)
    flags = red_flags(pred, metrics, train_pred, train_metrics, baseline_metrics)
    findings += flags.findings

    # ---- over time, across groups --------------------------------------------------
    period_table = period_info = None
    recent_worse = None
    if t is not None:
        n_nat = int(t.isna().sum())
        if n_nat:
            notes.append(f"{n_nat} rows without a time are left out of the metric by period.")
        if n_nat < len(t):
            period_table, finding, period_info = by_period(pred, t)
            recent_worse = period_info.get("recent_worse")
            if finding is not None:
                findings.append(finding)
    fair_table = fair_diff = fair_tests = None
    if sens is not None:
        from ._fairness import fairness

        fair = fairness(pred, sens)
        fair_table, fair_diff = fair.by_group, fair.differences
        fair_tests = fair.tests if len(fair.tests) else None
        findings += fair.findings
        notes += fair.notes
        for f in fair.findings:
            if f.check == "fairness_small_groups":
                warnings.warn(f.message, DataWarning, stacklevel=2)

    # ---- why, how fast, how big ----------------------------------------------------
    importance = explanation = None
    if explain:
        from ._explain import explain as run_explain

        result = run_explain(model, X, task, pred.classes, pred.positive_label)
        if isinstance(result, str):
            notes.append(result)
            findings.append(Finding("explanation_skipped", "info", message=result))
        else:
            importance = result.importance
            scale = max(1.0, float(np.max(np.abs(result.outputs)))) if result.outputs is not None \
                and len(result.outputs) else 1.0
            additive = bool(result.additivity_max_error <= 1e-4 * scale)
            explanation = {
                "explainer": result.explainer, "explained_output": result.explained_output,
                "rows": result.n_rows, "seconds": result.seconds,
                "additivity_max_error": result.additivity_max_error, "additive": additive,
                "transformed_importance": result.transformed_importance,
            }
            notes += result.notes
            if not additive:
                findings.append(Finding(
                    "shap_additivity", "warning", message=(
                        f"SHAP values do not add up to the model output (max error "
                        f"{result.additivity_max_error:.3g}); treat the importance as approximate")))

    from ._latency import latency, model_bytes

    timing = latency(model, X)
    size, why = model_bytes(model)
    if size is None:
        notes.append(f"Model size not measured: {why}.")
        findings.append(Finding("size_unmeasured", "info",
                                message=f"the model's size could not be measured: {why}",
                                suggestion="A model that cannot be pickled cannot be bundled "
                                "either; replace lambdas by named functions or rule strings."))

    report = EvaluationReport(
        title=f"Evaluation of {type(model).__name__} ({task})",
        task=task, n_rows=len(X), metrics=metrics, undefined=undefined,
        slices=slices, slices_judged=judged,
        train_metrics=train_metrics, train_test_gap=gap_table, overfitting=flags.overfitting,
        red_flag_test=flags.details,
        baseline_name=baseline_name or None, baseline_metrics=baseline_metrics, lift=lifts,
        by_period=period_table, period_test=period_info, recent_worse=recent_worse,
        fairness=fair_table, fairness_differences=fair_diff,
        fairness_tests=fair_tests,
        importance=importance, explanation=explanation,
        latency_p50_ms=timing["latency_p50_ms"], latency_p95_ms=timing["latency_p95_ms"],
        batch_p50_ms=timing["batch_p50_ms"], batch_p95_ms=timing["batch_p95_ms"],
        model_bytes=size, findings=findings, notes=notes, **kw,
    )
    if criteria is not None:
        report = _apply_criteria(report, criteria)
    return report


def _apply_criteria(report: EvaluationReport, criteria: Any) -> EvaluationReport:
    if isinstance(criteria, Mapping):
        try:
            from ..problem import SuccessCriteria
        except ImportError:
            raise InputError("criteria given as a dict, but mllife.problem is not available",
                             expected="a SuccessCriteria object") from None
        if "thresholds" in criteria:  # the output of SuccessCriteria.to_dict()
            criteria = SuccessCriteria.from_dict(criteria)
        else:
            criteria = SuccessCriteria(dict(criteria))
    if not hasattr(criteria, "check"):
        raise InputError(f"criteria is a {type(criteria).__name__}",
                         expected="a mllife.SuccessCriteria (or a dict of metric thresholds)")
    found = list(criteria.check(report))
    if hasattr(criteria, "checklist"):
        checklist = criteria.checklist(report)
    else:
        checklist = pd.DataFrame({"item": [f.column or f.check for f in found],
                                  "target": [f.threshold for f in found], "actual": np.nan,
                                  "passed": [f.severity != "error" for f in found]})
    passed = not any(f.severity == "error" for f in found)
    return dataclasses.replace(report, findings=[*report.findings, *found], passed=passed,
                               checklist=checklist)
