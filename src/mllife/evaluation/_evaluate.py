"""``evaluate``: one call that judges a fitted model on held-out data.

:func:`evaluate` reads as phase 5 of the lifecycle, one private step per section of the
report: inputs → predictions → metrics → curves and calibration → slices → baseline lift →
train/test gap and red flags → time periods → fairness → explanation → latency and size →
success criteria. Each step reads the shared :class:`_Inputs` and the one pass of
:class:`~mllife.evaluation._inputs.Predictions`, and adds fields, findings and notes to a
:class:`_Draft` that becomes the :class:`EvaluationReport`.
"""

from __future__ import annotations

import dataclasses
import numbers
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataWarning, InputError
from .._frame import require_columns
from .._metrics import CALIBRATION_BINS, label_note, label_set
from .._random import as_seed
from .._spec import resolve_spec
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
from ._explain import EXPLAIN_ROWS
from ._inputs import Predictions, align, as_time, infer_task, predict, side_column
from ._report import EvaluationReport
from ._slices import N_BINS, PAIR_FEATURES, SLICE_ALPHA, min_slice_rows, worst_slices

#: Significant worst slices reported as findings.
SLICE_FINDINGS = 3
#: Criteria kinds that need ``measure=True`` (the ``kind`` of a SuccessCriteria finding).
_MEASURED_KINDS = {"latency": "latency p95", "size": "model size"}


def evaluate(
    model: Any,
    X_test: Any,
    y_test: Any,
    *,
    X_train: Any = None,
    y_train: Any = None,
    sensitive_features: Any = None,
    time: Any = None,
    time_col: Hashable | None = None,
    criteria: Any = None,
    baseline: Any = "auto",
    explain: bool = False,
    explain_rows: int = EXPLAIN_ROWS,
    measure: bool = True,
    positive_label: Any = None,
    spec: Any = None,
    random_state: Any = None,
    tracker: Any = None,
) -> EvaluationReport:
    """Evaluate a fitted model like a sceptic, in one call.

    Predictions are computed once (``predict``, plus ``predict_proba`` or
    ``decision_function``) and shared by every section: task metrics,
    confusion matrix, curves, calibration, threshold table, worst slices,
    baseline lift, metric by time period and fairness. Training data adds the
    train/test gap and the overfitting and leakage red flags; each red flag
    compares the train score with a 95% interval of the test score, so it is
    a one-sided test at level 2.5% (see :attr:`EvaluationReport.red_flag_test`).

    Everything but the timings is reproducible bit for bit: every random draw
    (the SHAP row sample and orders, the seeded sample of a large training set,
    the permutation test of the R² red flag, the fairness Monte-Carlo p-values)
    comes from ``random_state``, and the explanation stops on a number of rows,
    never on the clock.

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
    time : Series or array of datetimes, optional
        The time of each test row: metric by period. ISO 8601 text is parsed.
    time_col : column label, optional
        The column of ``X_test`` holding the time (instead of ``time``).
    criteria : SuccessCriteria or dict, optional
        Sets :attr:`EvaluationReport.passed` and ``checklist``.
    baseline : "auto", None or estimator, default="auto"
        ``"auto"``: ``mllife.baseline(task)`` fitted on the training data
        (a scikit-learn Dummy when that is unavailable, or fitted on the test
        labels when no training data is given). An estimator is used as is
        when fitted, else fitted like ``"auto"``. ``None`` skips the lift.
    explain : bool, default=False
        Compute SHAP global importance on a seeded sample of test rows.
    explain_rows : int, default=300
        The row budget of the explanation: at most this many test rows are
        explained (a seeded sample when there are more);
        ``report.explanation["rows"]`` says how many were.
    measure : bool, default=True
        Time ``predict`` and measure the pickled model size. With ``False``
        the latency and size fields are ``None`` and a criterion on latency or
        size is not met: its checklist item and finding say "not measured".
    positive_label : optional
        The positive class of a binary task; default: the model's last class
        (``1``, ``True``, or the later string), as in scikit-learn.
    spec : ProblemSpec, optional
        Takes ``task`` (checked against the model), ``positive_label``,
        ``criteria``, ``sensitive_features`` and ``time_col`` from the spec. An
        explicit keyword must agree with it; ``time`` values take the place of
        the spec's ``time_col``.
    random_state : None, int or numpy Generator, default=None
        Seed of every random draw; ``None`` is the fixed seed 0.
    tracker : Tracker, optional
        Log the evaluation to this :class:`~mllife.tracking.Tracker` (such as
        :class:`~mllife.tracking.MlflowTracker`): one run named
        ``"evaluate <model class>"`` with the call's settings and the model's
        flattened ``get_params(deep=True)`` (``model_params.<name>``) as
        params, and the report's test/train metrics, gap, lift, latency,
        size, red flags, tables, findings and HTML (see
        :func:`mllife.tracking.log_report`). A tracker that fails mid-run gives a
        :class:`~mllife.TrackingWarning`, never a lost report. None (the
        default): nothing is logged.

    Returns
    -------
    EvaluationReport

    Raises
    ------
    InputError
        When ``X_test``/``y_test``/``sensitive_features``/``time`` differ in
        length or index, ``y_test`` has missing labels, the model's
        predictions contain NaN, a named column does not exist, ``time`` is a
        column name (use ``time_col``), ``positive_label`` is given for a
        task other than binary, the target fits no task (text for a
        regressor, fractional numbers for a classifier, dates, infinite
        values), an explicit keyword disagrees with ``spec``, or ``tracker``
        is not a :class:`~mllife.tracking.Tracker` (before anything is computed).

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

    Without timings the whole report is reproducible:

    >>> again = evaluate(model, X[300:], y[300:], measure=False)
    >>> again.to_dict() == evaluate(model, X[300:], y[300:], measure=False).to_dict()
    True
    >>> again.latency_p95_ms is None
    True
    """
    if tracker is not None:
        from ..tracking._log import check_tracker

        check_tracker(tracker)
    data = _read_inputs(
        model, X_test, y_test, X_train=X_train, y_train=y_train,
        sensitive_features=sensitive_features, time=time, time_col=time_col,
        criteria=criteria, positive_label=positive_label, spec=spec,
        explain_rows=explain_rows, random_state=random_state,
    )
    draft = _Draft()
    pred = _predictions(model, data, draft)
    metrics = _metrics(pred, data, draft)
    _curves_and_calibration(pred, draft)
    _undefined_metrics(draft)
    _slices(data, pred, draft)
    baseline_metrics = _baseline_lift(baseline, data, pred, metrics, draft)
    train_pred, train_metrics = _train_test_gap(model, data, pred, metrics, draft)
    _red_flags(data, pred, metrics, train_pred, train_metrics, baseline_metrics, draft)
    _time_periods(data, pred, draft)
    _fairness(data, pred, draft)
    if explain:
        _explanation(model, data, pred, draft)
    _latency_and_size(model, data, measure, draft)
    report = EvaluationReport(
        title=f"Evaluation of {type(model).__name__} ({data.task})", task=data.task,
        n_rows=len(data.X), findings=draft.findings, notes=draft.notes, **draft.fields,
    )
    report = _criteria(report, data.criteria, measured=measure)
    if tracker is not None:
        from ..tracking._log import track

        track(report, tracker, run_name=f"evaluate {type(model).__name__}",
              params=_tracked_settings(model, data, baseline=baseline, explain=explain,
                                       measure=measure, time_col=time_col))
    return report


def _tracked_settings(model: Any, data: _Inputs, **given: Any) -> dict[str, Any]:
    """The call's settings as a tracker's params (values per row are described, not listed)."""
    from ..tracking._names import model_params

    sensitive = data.sensitive
    baseline = given["baseline"]
    settings = {
        "model": type(model).__name__, "task": data.task,
        "baseline": baseline if baseline is None or isinstance(baseline, str)
        else type(baseline).__name__,
        "positive_label": data.positive_label, "explain": given["explain"],
        "explain_rows": data.explain_rows, "measure": given["measure"],
        "random_state": data.seed,
        "sensitive_features": None if sensitive is None else ", ".join(
            map(str, sensitive.columns if isinstance(sensitive, pd.DataFrame)
                else [sensitive.name])),
        "time_col": given["time_col"], "by_time": data.time is not None,
        "n_test_rows": len(data.X),
        "n_train_rows": None if data.X_train is None else len(data.X_train),
        "model_params": model_params(model),
    }
    return settings


# ---- the state the steps share ---------------------------------------------------------


@dataclass
class _Inputs:
    """The checked inputs of one call: frames aligned, side columns read, spec merged."""

    X: pd.DataFrame
    y: pd.Series
    X_train: pd.DataFrame | None
    y_train: pd.Series | None
    sensitive: pd.Series | pd.DataFrame | None
    time: pd.Series | None
    task: str
    #: The explicit (or spec's) positive label; ``None`` means the model's last class.
    positive_label: Any
    criteria: Any
    explain_rows: int
    #: The one seed every random draw of the call starts from.
    seed: int


@dataclass
class _Draft:
    """What the steps found so far: report fields, findings and notes, in report order."""

    fields: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---- inputs ------------------------------------------------------------------------------


def _read_inputs(model: Any, X_test: Any, y_test: Any, *, X_train: Any, y_train: Any,
                 sensitive_features: Any, time: Any, time_col: Any, criteria: Any,
                 positive_label: Any, spec: Any, explain_rows: Any, random_state: Any) -> _Inputs:
    """Check and align every input, merge ``spec`` and infer the task.

    The spec's ``sensitive_features`` and ``time_col`` name columns of ``X_test``; an
    explicit value that names other columns, or a ``criteria`` or ``positive_label``
    other than the spec's, raises :class:`InputError` (:func:`mllife._spec.resolve_spec`).
    """
    X, y = align(X_test, y_test)
    if len(X) == 0:
        raise InputError("X_test has no rows", expected="at least one test row")
    Xtr = ytr = None
    if (X_train is None) != (y_train is None):
        raise InputError("only one of X_train and y_train was given", expected="both or neither")
    if X_train is not None:
        Xtr, ytr = align(X_train, y_train, x_name="X_train", y_name="y_train")
    rows = _check_explain_rows(explain_rows)
    seed = as_seed(random_state)
    if time is not None and time_col is not None:
        raise InputError("both time and time_col were given",
                         expected="time= (one value per row) or time_col= (a column of X_test)")
    criteria = _as_criteria(criteria)
    task = infer_task(model, y)
    if spec is not None:
        resolved = resolve_spec(
            spec, where="evaluate", task=None, positive_label=positive_label, criteria=criteria,
            sensitive_features=_sensitive_names(sensitive_features, X, spec),
            time_col=time_col if time is None else _time_name(time, spec),
        )
        _check_task(resolved["task"], task)
        positive_label, criteria = resolved["positive_label"], resolved["criteria"]
        if sensitive_features is None:
            sensitive_features = _names_or_none(resolved["sensitive_features"])
        if time is None:
            time_col = resolved["time_col"]
    if positive_label is not None and task != "binary":
        raise InputError(f"positive_label {positive_label!r} was given for a {task} task",
                         column=y.name,
                         expected="positive_label=None: a positive class exists for binary "
                                  "tasks only")
    sens = side_column(sensitive_features, X, name="sensitive_features", allow_frame=True)
    return _Inputs(X=X, y=y, X_train=Xtr, y_train=ytr, sensitive=sens,
                   time=_read_time(time, time_col, X), task=task,
                   positive_label=positive_label, criteria=criteria,
                   explain_rows=rows, seed=seed)


def _check_explain_rows(explain_rows: Any) -> int:
    """``explain_rows`` as a positive int, or :class:`InputError`."""
    if isinstance(explain_rows, bool) or not isinstance(explain_rows, numbers.Integral) \
            or explain_rows < 1:
        raise InputError(f"explain_rows={explain_rows!r}", expected="a positive int (rows to explain)")
    return int(explain_rows)


def _read_time(time: Any, time_col: Any, X: pd.DataFrame) -> pd.Series | None:
    """The time of each test row, from ``time_col`` (a column of X) or ``time`` (values)."""
    if time_col is not None:
        require_columns(X, [time_col], what="time_col column")
        column = X[time_col]
        if isinstance(column, pd.DataFrame):
            raise InputError(f"time_col {time_col!r} names {column.shape[1]} columns of X_test",
                             expected="a unique column label")
        return as_time(column)
    if time is None:
        return None
    if isinstance(time, str) or np.ndim(time) == 0:
        raise InputError(f"time={time!r} is a single value, not one time per row",
                         expected=f"time_col={time!r} to name a column of X_test, or time= "
                                  "with one value per row")
    if isinstance(time, list | tuple):
        time = np.asarray(time)   # a list of strings is values here, never column names
    t = side_column(time, X, name="time", allow_frame=False)
    assert isinstance(t, pd.Series)
    return as_time(t)


def _as_criteria(criteria: Any) -> Any:
    """A dict of thresholds (or ``SuccessCriteria.to_dict()`` output) as SuccessCriteria."""
    if not isinstance(criteria, Mapping):
        return criteria
    try:
        from ..problem import SuccessCriteria
    except ImportError:
        raise InputError("criteria given as a dict, but mllife.problem is not available",
                         expected="a SuccessCriteria object") from None
    if "thresholds" in criteria:  # the output of SuccessCriteria.to_dict()
        return SuccessCriteria.from_dict(criteria)
    return SuccessCriteria(dict(criteria))


def _sensitive_names(value: Any, X: pd.DataFrame, spec: Any) -> tuple[Hashable, ...] | None:
    """The column names behind an explicit ``sensitive_features``, to compare with the spec.

    Values per row without names cannot be compared: with a spec that names sensitive
    features they raise, since two sources would decide the groups.
    """
    if value is None:
        return None
    if hasattr(value, "column_names"):   # a pyarrow table
        names: tuple[Hashable, ...] | None = tuple(value.column_names)
    elif hasattr(value, "columns"):      # a pandas or polars frame
        names = tuple(value.columns)
    elif hasattr(value, "name") and np.ndim(value) == 1:   # a pandas or polars Series
        names = (value.name,) if value.name not in (None, "") else None
    elif isinstance(value, str) or (np.ndim(value) == 0 and _is_column(value, X)):
        names = (value,)
    elif isinstance(value, Sequence) and len(value) and all(_is_column(v, X) for v in value):
        names = tuple(value)
    else:
        names = None
    if names is None and spec.sensitive_features:
        raise InputError(
            "sensitive_features was given as values without column names, and the spec names "
            f"{list(spec.sensitive_features)}",
            expected="either drop sensitive_features= and let the spec decide, or pass the columns")
    return names


def _time_name(time: Any, spec: Any) -> Hashable | None:
    """The column name of explicit ``time`` values, compared with ``spec.time_col``.

    A Series named like another column disagrees with the spec; unnamed values (or the
    spec's own column) take the spec's place.
    """
    name = getattr(time, "name", None)   # a pandas or polars Series
    if name not in (None, "") and spec.time_col is not None and name != spec.time_col:
        raise InputError(f"evaluate(time=<Series {name!r}>) disagrees with spec.time_col="
                         f"{spec.time_col!r}",
                         expected="either drop time= and let the spec decide, or pass that column")
    return None


def _names_or_none(names: Any) -> Any:
    if names is None:
        return None
    names = list(names)
    return names[0] if len(names) == 1 else names


def _is_column(value: Any, X: pd.DataFrame) -> bool:
    try:
        return bool(value in X.columns)
    except TypeError:  # unhashable
        return False


def _check_task(spec_task: Any, task: str) -> None:
    """The model's task must be the spec's (a forecast is judged as a regression)."""
    if spec_task is None:
        return
    expected = "regression" if spec_task == "forecast" else spec_task
    if expected != task:
        raise InputError(f"evaluate(spec=...): the spec's task is {spec_task!r} but the model "
                         f"makes it a {task} task",
                         expected=f"a {expected} model, or a spec with task={task!r}")


# ---- predictions and metrics ---------------------------------------------------------------


def _predictions(model: Any, data: _Inputs, draft: _Draft) -> Predictions:
    """One pass of ``predict`` (and scores); what could not be scored becomes a note."""
    pred = predict(model, data.X, data.y, task=data.task, positive_label=data.positive_label)
    draft.notes += pred.notes
    for note in pred.notes:
        draft.findings.append(Finding("skipped_metrics" if "predict_proba" in note else "scores",
                                      "info", message=note))
    return pred


def _metrics(pred: Predictions, data: _Inputs, draft: _Draft) -> dict[str, float]:
    """Every metric of the task, and the findings about the labels behind them.

    Classification: labels the model never saw, a one-class test set, constant
    predictions, and a positive label that is the majority string class.
    """
    metrics, undefined = compute_metrics(pred)
    draft.fields.update(metrics=metrics, undefined=undefined)
    if not pred.is_classification:
        return metrics
    assert pred.classes is not None
    y, findings = data.y, draft.findings
    present = pd.Series(pred.y_true)
    unseen_mask = ~present.isin(set(pred.classes.tolist())).to_numpy()
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
    if pred.task == "binary" and data.positive_label is None:
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
    return metrics


def _curves_and_calibration(pred: Predictions, draft: _Draft) -> None:
    """Confusion matrices, classification table, ROC/PR curves, threshold table, calibration."""
    if not pred.is_classification:
        draft.fields["calibration"] = reliability_table(pred)
        return
    assert pred.classes is not None
    counts, normalised = confusion_tables(pred)
    roc, pr = curves(pred)
    calibration = reliability_table(pred)
    label_values = label_set(pred.y_true, pred.y_pred)
    draft.fields.update(
        confusion=counts, confusion_normalized=normalised,
        classification_table=classification_table(pred), roc_curve=roc, pr_curve=pr,
        calibration=calibration, threshold_table=threshold_table(pred),
        classes=tuple(pred.classes.tolist()), positive_label=pred.positive_label,
        labels=tuple(label_values.tolist()),
    )
    draft.notes.append(label_note(pred.task, label_values, pred.positive_label))
    if calibration is not None:
        draft.notes.append(
            f"Calibration: ECE over {CALIBRATION_BINS} equal-width probability bins "
            + ("of the positive class." if pred.task == "binary" else "of the top-class confidence."))


def _undefined_metrics(draft: _Draft) -> None:
    """One finding per reason: "roc_auc, pr_auc, log_loss, brier and ece are undefined: ...".

    A metric with a value (an undefined part counted as 0) is named with its reason.
    """
    metrics, undefined = draft.fields["metrics"], draft.fields["undefined"]
    by_reason: dict[str, list[str]] = {}
    for metric, reason in undefined.items():
        by_reason.setdefault(reason, []).append(metric)
    for reason, names in by_reason.items():
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        nan = all(np.isnan(metrics.get(m, np.nan)) for m in names)
        verb = (" is undefined" if len(names) == 1 else " are undefined") if nan else ""
        draft.findings.append(Finding("undefined_metric", "info", message=f"{listed}{verb}: {reason}",
                                      details={"metric": names[0], "metrics": names}))


# ---- where it fails ------------------------------------------------------------------------


def _slices(data: _Inputs, pred: Predictions, draft: _Draft) -> None:
    """The worst slices (the time column is not sliced) and a finding for the significant ones."""
    X, t = data.X, data.time
    exclude = tuple(str(c) for c in ([t.name] if t is not None and t.name in X.columns else []))
    search = worst_slices(X, pred.loss, rate=pred.is_classification,
                          metric="error_rate" if pred.is_classification else "mae",
                          exclude=exclude)
    slices = search.table
    draft.fields.update(slices=slices, slices_judged=search.judged)
    significant = slices[slices["significant"]] if len(slices) else slices
    for row in significant.head(SLICE_FINDINGS).itertuples(index=False):
        draft.findings.append(Finding(
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
    draft.notes.append(f"Slices: categorical values, {N_BINS} quantile bins per numeric feature and "
                       f"{pairs}; slices under {min_slice_rows(len(X))} rows are not judged. "
                       + judged_note)


# ---- against a baseline, against training -------------------------------------------------


def _baseline_lift(baseline: Any, data: _Inputs, pred: Predictions, metrics: dict[str, float],
                   draft: _Draft) -> dict[str, float] | None:
    """The baseline's metrics and the model's lift over it; ``no_lift`` when it does not beat it."""
    baseline_est, baseline_name, notes = fit_baseline(baseline, data.task, data.X_train,
                                                      data.y_train, data.X, data.y)
    draft.notes += notes
    baseline_metrics = None
    lifts: dict[str, float] = {}
    if baseline_est is not None:
        base_pred = predict(baseline_est, data.X, data.y, task=data.task,
                            positive_label=pred.positive_label)
        baseline_metrics, _ = compute_metrics(base_pred)
        lifts = lift(metrics, baseline_metrics)
        primary = primary_metric(data.task, metrics)
        if primary in lifts and lifts[primary] <= 0:
            draft.findings.append(Finding(
                "no_lift", "warning", message=(
                    f"the model does not beat the {baseline_name} baseline on {primary} "
                    f"(lift {lifts[primary]:.4f})"),
                suggestion="A model that cannot beat the baseline should not ship.",
            ))
    draft.fields.update(baseline_name=baseline_name or None, baseline_metrics=baseline_metrics,
                        lift=lifts)
    return baseline_metrics


def _train_test_gap(model: Any, data: _Inputs, pred: Predictions, metrics: dict[str, float],
                    draft: _Draft) -> tuple[Predictions | None, dict[str, float] | None]:
    """Train predictions, metrics and the gap table (``None`` without training data)."""
    if data.X_train is None or data.y_train is None:
        draft.fields.update(train_metrics=None, train_test_gap=None)
        return None, None
    train_pred, train_metrics, gap_table, note = train_test_gap(
        model, data.X_train, data.y_train, pred, metrics, random_state=data.seed)
    if note:
        draft.notes.append(note)
    draft.fields.update(train_metrics=train_metrics, train_test_gap=gap_table)
    return train_pred, train_metrics


def _red_flags(data: _Inputs, pred: Predictions, metrics: dict[str, float],
               train_pred: Predictions | None, train_metrics: dict[str, float] | None,
               baseline_metrics: dict[str, float] | None, draft: _Draft) -> None:
    """Overfitting, test-above-train and suspiciously-perfect findings, with their numbers."""
    flags = red_flags(pred, metrics, train_pred, train_metrics, baseline_metrics,
                      random_state=data.seed)
    draft.findings += flags.findings
    draft.fields.update(overfitting=flags.overfitting, red_flag_test=flags.details)


# ---- over time, across groups ----------------------------------------------------------------


def _time_periods(data: _Inputs, pred: Predictions, draft: _Draft) -> None:
    """The metric by period and whether the recent periods are worse (with ``time``)."""
    t = data.time
    period_table = period_info = recent_worse = None
    if t is not None:
        n_nat = int(t.isna().sum())
        if n_nat:
            draft.notes.append(f"{n_nat} rows without a time are left out of the metric by period.")
        if n_nat < len(t):
            period_table, finding, period_info = by_period(pred, t)
            recent_worse = period_info.get("recent_worse")
            if finding is not None:
                draft.findings.append(finding)
    draft.fields.update(by_period=period_table, period_test=period_info, recent_worse=recent_worse)


def _fairness(data: _Inputs, pred: Predictions, draft: _Draft) -> None:
    """Metrics by group and the parity tests (with ``sensitive_features``).

    Groups too small to judge also raise a :class:`DataWarning` at the caller's line.
    """
    fair_table = fair_diff = fair_tests = None
    if data.sensitive is not None:
        from ._fairness import fairness

        fair = fairness(pred, data.sensitive, random_state=data.seed)
        fair_table, fair_diff = fair.by_group, fair.differences
        fair_tests = fair.tests if len(fair.tests) else None
        draft.findings += fair.findings
        draft.notes += fair.notes
        for f in fair.findings:
            if f.check == "fairness_small_groups":
                warnings.warn(f.message, DataWarning, stacklevel=3)   # evaluate's caller
    draft.fields.update(fairness=fair_table, fairness_differences=fair_diff,
                        fairness_tests=fair_tests)


# ---- why, how fast, how big --------------------------------------------------------------------


def _explanation(model: Any, data: _Inputs, pred: Predictions, draft: _Draft) -> None:
    """SHAP importance by raw column on at most ``explain_rows`` seeded test rows."""
    from ._explain import explain

    result = explain(model, data.X, data.task, pred.classes, pred.positive_label,
                     n_rows=data.explain_rows, random_state=data.seed)
    if isinstance(result, str):
        draft.notes.append(result)
        draft.findings.append(Finding("explanation_skipped", "info", message=result))
        return
    scale = max(1.0, float(np.max(np.abs(result.outputs)))) if result.outputs is not None \
        and len(result.outputs) else 1.0
    additive = bool(result.additivity_max_error <= 1e-4 * scale)
    draft.fields.update(importance=result.importance, explanation={
        "explainer": result.explainer, "explained_output": result.explained_output,
        "rows": result.n_rows, "row_budget": data.explain_rows, "test_rows": len(data.X),
        "seconds": result.seconds,
        "additivity_max_error": result.additivity_max_error, "additive": additive,
        "transformed_importance": result.transformed_importance,
    })
    draft.notes += result.notes
    if not additive:
        draft.findings.append(Finding(
            "shap_additivity", "warning", message=(
                f"SHAP values do not add up to the model output (max error "
                f"{result.additivity_max_error:.3g}); treat the importance as approximate")))


def _latency_and_size(model: Any, data: _Inputs, measure: bool, draft: _Draft) -> None:
    """p50/p95 latency of ``predict`` and the pickled size; all ``None`` with ``measure=False``."""
    timing: dict[str, Any] = {}
    size = None
    if not measure:
        draft.notes.append("Latency and model size not measured (measure=False).")
    else:
        from ._latency import latency, model_bytes

        timing = latency(model, data.X, random_state=data.seed)
        size, why = model_bytes(model)
        if size is None:
            draft.notes.append(f"Model size not measured: {why}.")
            draft.findings.append(Finding(
                "size_unmeasured", "info", message=f"the model's size could not be measured: {why}",
                suggestion="A model that cannot be pickled cannot be bundled either; replace "
                "lambdas by named functions or rule strings."))
    draft.fields.update({k: timing.get(k) for k in ("latency_p50_ms", "latency_p95_ms",
                                                    "batch_p50_ms", "batch_p95_ms")},
                        model_bytes=size)


# ---- success criteria -------------------------------------------------------------------------


def _criteria(report: EvaluationReport, criteria: Any, *, measured: bool) -> EvaluationReport:
    """The report with ``passed``, ``checklist`` and one finding per criterion.

    With ``measured=False`` a criterion on latency or size is not met: its finding and
    checklist item say it was not measured (``evaluate(measure=False)``).
    """
    if criteria is None:
        return report
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
    if not measured:
        found, checklist = _not_measured(found, checklist)
    passed = not any(f.severity == "error" for f in found)
    return dataclasses.replace(report, findings=[*report.findings, *found], passed=passed,
                               checklist=checklist)


def _not_measured(found: list[Finding], checklist: pd.DataFrame
                  ) -> tuple[list[Finding], pd.DataFrame]:
    """Say "not measured" in the findings and checklist items of latency and size criteria."""
    out = []
    for f in found:
        kind = (f.details or {}).get("kind")
        if kind in _MEASURED_KINDS and (f.details or {}).get("actual") is None:
            f = dataclasses.replace(
                f, severity="error",
                message=f"{_MEASURED_KINDS[kind]} was not measured (evaluate(measure=False)); "
                        "the criterion is not met",
                suggestion="evaluate(..., measure=True) to time the model and measure its size",
                details={**f.details, "measured": False})
        out.append(f)
    if "item" in checklist and len(checklist):
        checklist = checklist.copy()
        items = checklist["item"].astype(str)
        unmeasured = items.str.startswith(("latency", "model size")) & checklist["actual"].isna()
        checklist["item"] = items.where(~unmeasured, items + " (not measured)")
        checklist["passed"] = checklist["passed"] & ~unmeasured
    return out, checklist
