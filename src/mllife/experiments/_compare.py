"""``compare_models``: score, time and size of several models in one table."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import as_frame, as_series, check_unique_columns, is_native
from ._measure import forecast_kinds, latency, serialized_size
from ._report import ComparisonReport
from ._scoring import (
    Scoring,
    check_missing,
    check_target,
    models_kind,
    resolve_scoring,
    score_fold,
)

BASELINE_NAME = "baseline"


def _interactive() -> bool:
    """True in a terminal or a notebook, never under pytest."""
    if "PYTEST_CURRENT_TEST" in os.environ:
        return False
    ipython = sys.modules.get("IPython")
    if ipython is not None:
        shell = getattr(ipython, "get_ipython", lambda: None)()
        if type(shell).__name__ == "ZMQInteractiveShell":
            return True
    try:
        return bool(sys.stderr is not None and sys.stderr.isatty())
    except (AttributeError, ValueError):
        return False


def _rows(data: Any, index: np.ndarray) -> Any:
    return data.iloc[index] if hasattr(data, "iloc") else data[index]


def _with_sampler(model: Any, sampler: Any) -> Any:
    """``model`` with ``sampler`` in front of its final step (imbalanced-learn Pipeline).

    A scikit-learn Pipeline keeps its preprocessing first, so samplers such as
    SMOTE see the transformed features; any other model gets the sampler first.
    """
    from imblearn.pipeline import Pipeline as ImbPipeline
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        steps = list(model.steps)
        names = {n for n, _ in steps}
        key = "sampler" if "sampler" not in names else "mllife_sampler"
        return ImbPipeline([*steps[:-1], (key, sampler), steps[-1]], memory=model.memory)
    return ImbPipeline([("sampler", sampler), ("model", model)])


def _fit_and_score(
    model: Any, X: Any, y: Any, train: np.ndarray, test: np.ndarray, scoring: Scoring,
) -> dict[str, Any]:
    """One fold of one model; a failure is returned as its message, never raised."""
    from sklearn.base import clone

    estimator = clone(model)
    X_test, y_test = _rows(X, test), _rows(y, test)
    out: dict[str, Any] = {"fit_seconds": np.nan, "score_seconds": np.nan, "error": None,
                           "scores": {}, "undefined": {}, "estimator": None, "X_test": None}
    try:
        start = time.perf_counter()
        estimator.fit(_rows(X, train), _rows(y, train))
        out["fit_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        out["scores"], out["undefined"] = score_fold(estimator, X_test, y_test, scoring)
        out["score_seconds"] = time.perf_counter() - start
    except Exception as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
        return out
    out["estimator"], out["X_test"] = estimator, X_test
    return out


def _run(tasks: list[tuple[str, Any, int, np.ndarray, np.ndarray]], X: Any, y: Any,
         scoring: Scoring, n_jobs: int | None) -> Iterator[tuple[str, int, dict[str, Any]]]:
    if n_jobs in (None, 1):
        for name, model, fold, train, test in tasks:
            yield name, fold, _fit_and_score(model, X, y, train, test, scoring)
        return
    from sklearn.utils.parallel import Parallel, delayed

    try:  # joblib >= 1.3 streams results, so the progress bar moves as folds finish
        parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    except TypeError:
        parallel = Parallel(n_jobs=n_jobs)
    results = parallel(
        delayed(_fit_and_score)(model, X, y, train, test, scoring)
        for _, model, _, train, test in tasks
    )
    for (name, _, fold, _, _), result in zip(tasks, results, strict=True):
        yield name, fold, result


def _check_models(models: Any) -> dict[str, Any]:
    if not isinstance(models, Mapping) or not models:
        raise InputError(f"models is {type(models).__name__} {models!r:.60}",
                         expected="a non-empty dict of name: estimator")
    bad = [str(k) for k, m in models.items() if not (hasattr(m, "fit") and hasattr(m, "predict"))]
    if bad:
        raise InputError(f"models {bad} have no fit/predict", expected="scikit-learn estimators")
    return {str(k): m for k, m in models.items()}


def _check_data(X: Any, y: Any) -> tuple[Any, pd.Series]:
    X = as_frame(X) if is_native(X) else X  # polars / pyarrow: one conversion
    y = as_series(y) if is_native(y) else y
    if not hasattr(X, "iloc"):
        X = np.asarray(X)
        if X.ndim != 2:
            raise InputError(f"X has {X.ndim} dimension(s)", expected="a 2-D table")
    if isinstance(y, pd.DataFrame) and y.shape[1] == 1:
        y = y.iloc[:, 0]
    if not isinstance(y, pd.Series) and np.ndim(y) != 1:
        raise InputError(f"y has shape {np.shape(y)}", expected="one target column")
    target = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y), name="y")
    if len(X) != len(target):
        raise InputError(f"X has {len(X)} rows but y has {len(target)}",
                         expected="one target value per row of X")
    return X, target


def _folds(cv: Any, X: Any, y: pd.Series, groups: Any, classifier: bool) -> list[tuple[Any, Any]]:
    from sklearn.model_selection import check_cv

    if isinstance(cv, bool) or (isinstance(cv, int) and not 2 <= cv <= len(y)):
        raise InputError(f"cv={cv!r}", expected=f"a number of folds from 2 to {len(y)}, or a splitter")
    try:
        splitter = check_cv(cv, y, classifier=classifier)
        folds = [(np.asarray(tr), np.asarray(te)) for tr, te in splitter.split(X, y, groups)]
    except (ValueError, TypeError) as exc:
        raise InputError(f"cv cannot split this data: {exc}",
                         expected="a cv that fits the data (fewer folds, or groups=)") from exc
    if not folds:
        raise InputError("cv produced no fold", expected="at least one train/test split")
    return folds


def compare_models(
    models: Mapping[str, Any],
    X: Any,
    y: Any,
    *,
    cv: Any = 5,
    scoring: Any = None,
    baseline: Any = True,
    sampler: Any = None,
    n_jobs: int | None = None,
    groups: Any = None,
    task: str | None = None,
    positive_label: Any = None,
    criteria: Any = None,
    spec: Any = None,
    tracker: Any = None,
    note: str | None = None,
) -> ComparisonReport:
    """Cross-validate several models side by side: score, time, size and lift over a baseline.

    Every model is fitted on the same folds. Per model the report gives the
    mean and standard deviation of each score over the folds, the mean fit
    seconds per fold, the ``predict`` latency (one-row calls and per row of a
    batch call, medians of repeated calls on the model fitted on the last
    fold), the pickled size in bytes (NaN, with the reason, for a model that
    cannot be pickled) and the lift of each score over the
    baseline (positive = better, for error scores too).

    mllife's scores (accuracy, F1, ROC-AUC, MAE...) come from the metric
    implementation :func:`~mllife.evaluate` uses and equal scikit-learn's
    scorer of the same name on each fold. A score undefined on a fold raises
    no warning: it is listed with its reason in
    :attr:`ComparisonReport.undefined_scores` and an ``undefined_score``
    finding (a label never predicted counts as 0, as in scikit-learn; a score
    scikit-learn cannot compute there, such as ROC-AUC on a one-class fold, is
    NaN for that fold and left out of the mean).

    Parameters
    ----------
    models : dict of str to estimator
        Unfitted estimators or pipelines; each is cloned per fold.
    X : DataFrame or array-like of shape (n_samples, n_features)
    y : Series or array-like of shape (n_samples,)
        Binary targets must be 0/1 or True/False (or numeric) when a score
        needs the positive class (ROC-AUC, F1...).
    cv : int, splitter or iterable, default=5
        As in :func:`~sklearn.model_selection.cross_validate`: an int means
        (stratified for classifiers) k-fold without shuffling. For time-ordered
        data pass a time-aware splitter, e.g. ``mllife.PurgedTimeSeriesSplit``.
    scoring : str, list of str or dict, default=None
        Metric names of mllife's vocabulary, in any spelling
        :class:`~mllife.SuccessCriteria` accepts (``pr_auc``, ``specificity``,
        ``ece``, ``mape``, ``R²`` …, each for the tasks where it is defined:
        ``f1`` of a multiclass task is the macro F1, as in
        :func:`~mllife.evaluate`), other scikit-learn scorer names (plus the
        short name ``medae``), or a dict of name: scorer. The first is the
        primary score (the table's sort key). By default: binary: ROC-AUC,
        average precision, F1, accuracy; multiclass: accuracy, F1 (macro),
        balanced accuracy; regression and forecast: MAE, RMSE, R². Error
        scores are shown positive (lower is better).
    baseline : bool or estimator, default=True
        ``True`` adds :func:`mllife.baselines.baseline` for the task as
        ``"baseline"`` (or uses the model already named ``"baseline"``); an
        estimator is added as ``"baseline"``; ``False`` adds none (no lift).
        The sampler is never applied to the baseline: it guesses from the
        real class shares.
    sampler : imbalanced-learn sampler, default=None
        Resamples the training part of each fold only, through an
        :class:`imblearn.pipeline.Pipeline` (placed before the final step of
        a Pipeline, so after preprocessing); validation rows are never
        resampled.
    n_jobs : int, default=None
        Folds run in parallel with joblib when given (latency is still
        measured afterwards, one model at a time).
    groups : array-like, default=None
        Group labels for group-aware splitters.
    task : {"binary", "multiclass", "regression", "forecast"}, optional
        Inferred by default (:func:`mllife._task.infer_task`: the models'
        type, else the target); a stated task is checked against the target
        and the models. ``"forecast"`` scores as a regression and adds
        :class:`~mllife.baselines.NaiveForecaster` as the baseline.
    positive_label : label, optional
        The positive class of a binary target whose labels are strings (or
        any labels): the models are compared on ``y == positive_label``
        (True/False), so ROC-AUC, average precision and F1 are about that class.
    criteria : SuccessCriteria or dict, optional
        Success criteria checked for every model: the report's
        :attr:`~ComparisonReport.checklist` and
        :attr:`~ComparisonReport.passed`. Their metrics join the default
        scores; with an explicit ``scoring`` they must be among its scores.
    spec : ProblemSpec, optional
        Takes ``task``, ``positive_label`` and ``criteria`` from the problem
        statement (:mod:`mllife._spec`); an explicit keyword that disagrees
        with it raises. ``groups`` stays an array.
    tracker : Tracker, optional
        Log the comparison to this :class:`~mllife.tracking.Tracker` (such as
        :class:`~mllife.tracking.MlflowTracker`): one run named
        ``"compare_models"`` with the call's settings as params (``cv``,
        ``scoring``, ``task``, ``n_folds``, ``sampler``...) and the report's
        headline numbers, tables, findings and HTML, and one nested run per
        model, baseline included, with its flattened ``get_params(deep=True)``
        and its cells of :attr:`~ComparisonReport.results` (score means and
        standard deviations, fit seconds, latency, size, lift, failed folds;
        ``"FAILED"`` when it failed in every fold). See
        :func:`mllife.tracking.log_report`. A tracker that fails mid-run gives a
        :class:`~mllife.TrackingWarning`, never a lost report. None (the
        default): nothing is logged.
    note : str, optional
        Free text ("what I was thinking") kept as the run's tag
        ``mllife.note``; used only with ``tracker``.

    Returns
    -------
    ComparisonReport

    Raises
    ------
    InputError
        A one-class or missing target, a string target for scores that need
        a positive class, a regression task with a non-numeric target,
        scoring names that do not fit the task, models mixing classifiers
        and regressors, a stated task that contradicts the target, criteria
        on a metric the scoring leaves out, a ``spec`` that disagrees with
        an explicit keyword, a ``cv`` that cannot split the data, a
        ``tracker`` that is not a :class:`~mllife.tracking.Tracker` or a
        ``note`` that is not text (both before any model is fitted). A model
        that fails in a fold does not raise: its error is in the report.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = make_classification(300, random_state=0)
    >>> report = compare_models({"logistic": LogisticRegression()}, X, y, cv=3)
    >>> report.best
    'logistic'
    >>> list(report.results["model"])
    ['logistic', 'baseline']
    >>> float(report.results.loc[0, "lift_roc_auc"]) > 0.3
    True

    Tracked in MLflow (``pip install "mllife[mlflow]"``): one parent run, one
    nested run per model (see :mod:`mllife.tracking`):

    >>> import tempfile
    >>> from mllife.tracking import MlflowTracker
    >>> tracker = MlflowTracker("churn", tracking_uri=tempfile.mkdtemp())
    >>> report = compare_models({"logistic": LogisticRegression()}, X, y, cv=3,
    ...                         tracker=tracker, note="does a linear model beat the prior?")
    >>> run = tracker.client.get_run(tracker.last_run_id)
    >>> run.info.run_name, run.data.tags["mllife.note"]
    ('compare_models', 'does a linear model beat the prior?')
    """
    from sklearn.base import clone

    from .._criteria import SuccessCriteria
    from .._spec import resolve_spec
    from .._task import infer_task
    from ..baselines import baseline as make_baseline

    if note is not None and not isinstance(note, str):
        raise InputError(f"note is a {type(note).__name__}", expected="text (a str) or None")
    if tracker is not None:
        from ..tracking._log import check_tracker

        check_tracker(tracker)
    if criteria is not None:
        criteria = SuccessCriteria.coerce(criteria)
    given = resolve_spec(spec, where="compare_models", task=task,
                         positive_label=positive_label, criteria=criteria)
    positive_label, criteria = given["positive_label"], given["criteria"]
    named = _check_models(models)
    if isinstance(X, pd.DataFrame):
        check_unique_columns(X, name="X")
    X, target = _check_data(X, y)
    check_missing(target)
    task = infer_task(target, model=models_kind(named), task=given["task"])
    if positive_label is not None:
        seen = target.unique().tolist()
        if task != "binary" or positive_label not in seen:
            raise InputError(
                f"positive_label {positive_label!r} " + (
                    "is not a label of y" if task == "binary" else f"was given for a {task} task"),
                column=target.name,
                expected=f"one of the labels {sorted(seen, key=str)}" if task == "binary"
                else "positive_label=None: a positive class exists for binary targets only")
        target = (target == positive_label).astype(bool).rename(target.name)
    resolved = _with_criteria(resolve_scoring(scoring, task), criteria, task, scoring is None)
    check_target(target, task, resolved)
    if sampler is not None and not hasattr(sampler, "fit_resample"):
        raise InputError(f"sampler is a {type(sampler).__name__}",
                         expected="an imbalanced-learn sampler (with fit_resample)")
    if sampler is not None and task not in ("binary", "multiclass"):
        raise InputError(f"a sampler was given for a {task} task",
                         expected="sampler=None: resampling balances classes")

    baseline_name: str | None = None
    candidates = dict(named)
    if baseline is True:
        baseline_name = BASELINE_NAME
        if BASELINE_NAME not in candidates:
            candidates[BASELINE_NAME] = make_baseline(task)
    elif baseline is not False and baseline is not None:
        if not hasattr(baseline, "fit"):
            raise InputError(f"baseline is {baseline!r}", expected="True, False or an estimator")
        if BASELINE_NAME in candidates:
            raise InputError("a model is already named 'baseline'",
                             expected="another name, or baseline=True to use it as the baseline")
        baseline_name = BASELINE_NAME
        candidates[BASELINE_NAME] = baseline
    prepared = {
        name: model if sampler is None or name == baseline_name
        else _with_sampler(model, clone(sampler))
        for name, model in candidates.items()
    }

    folds = _folds(cv, X, target, groups, task in ("binary", "multiclass"))
    # Every fold returns its fitted model; only the last successful one per model is
    # held on to (for latency and size), so memory stays at one fitted copy per model.
    tasks = [(name, model, i, tr, te)
             for name, model in prepared.items() for i, (tr, te) in enumerate(folds)]
    results = _run(tasks, X, target, resolved, n_jobs)
    if _interactive():
        from tqdm import tqdm

        results = tqdm(results, total=len(tasks), desc="compare_models", file=sys.stderr,
                       leave=False)

    rows: list[dict[str, Any]] = []
    undefined: list[dict[str, Any]] = []
    fitted: dict[str, tuple[Any, Any]] = {}
    for name, fold, result in results:
        row = {"model": name, "fold": fold, "n_train": len(folds[fold][0]),
               "n_test": len(folds[fold][1]), "fit_seconds": result["fit_seconds"],
               "score_seconds": result["score_seconds"], "error": result["error"]}
        for score in resolved.names:
            value = result["scores"].get(score, np.nan)
            row[score] = float(value) if result["error"] is None else np.nan
        rows.append(row)
        undefined += [{"model": name, "fold": fold, "score": score, "value": row[score],
                       "reason": reason} for score, reason in result["undefined"].items()]
        if result["estimator"] is not None:
            fitted[name] = (result["estimator"], result["X_test"])
    fold_scores = pd.DataFrame(rows)
    report = _build_report(fold_scores, fitted, candidates, resolved, task, baseline_name,
                           len(folds), len(target), _undefined_table(undefined))
    if criteria is not None:
        report = _checked(report, criteria)
    if tracker is not None:
        from ..tracking._log import track
        from ..tracking._names import model_params

        settings = {"cv": _cv_text(cv, len(folds)), "n_folds": len(folds),
                    "scoring": ", ".join(resolved.names), "primary_score": resolved.primary,
                    "task": task, "sampler": sampler, "baseline": baseline_name,
                    "positive_label": positive_label, "groups": groups is not None,
                    "n_jobs": n_jobs, "n_rows": len(target)}
        track(report, tracker, run_name="compare_models", note=note, params=settings,
              child_params={name: model_params(model) for name, model in candidates.items()})
    return report


def _cv_text(cv: Any, n_folds: int) -> str:
    """``cv`` as a param: the int, the splitter's repr, or what an iterable of folds was."""
    if isinstance(cv, int) or hasattr(cv, "get_n_splits"):
        return repr(cv)
    return f"{type(cv).__name__} of {n_folds} folds"


def _with_criteria(scoring: Scoring, criteria: Any, task: str, default: bool) -> Scoring:
    """The scoring, with the criteria's metrics added to the defaults (or checked against it)."""
    if criteria is None:
        return scoring
    from .. import _metrics
    from ._scoring import resolve_scoring

    for metric in criteria.metrics:
        _metrics.check_name(metric, task=task, what="success criteria metric")
    have = set(scoring.metric_names().values())
    missing = [m for m in criteria.metrics if m not in have]
    if not missing:
        return scoring
    if not default:
        raise InputError(
            f"the success criteria name {', '.join(missing)}, which the scoring leaves out",
            expected=f"scoring that includes {', '.join(missing)} (it has "
                     f"{', '.join(scoring.names)}), or no scoring= to add them to the defaults")
    extra = resolve_scoring(missing, task)
    return Scoring({**scoring.scores, **{k: v for k, v in extra.scores.items()
                                         if k not in scoring.scores}})


def _checked(report: ComparisonReport, criteria: Any) -> ComparisonReport:
    """The report with every model's criteria checklist and whether it passed."""
    import dataclasses

    tables = []
    passed: dict[str, bool] = {}
    for name in report.results["model"]:
        table = criteria.checklist(report.for_model(str(name)))
        passed[str(name)] = bool(table["passed"].all())
        tables.append(table.assign(model=str(name)))
    checklist = pd.concat(tables, ignore_index=True)
    checklist = checklist[["model", "item", "target", "actual", "passed"]]
    return dataclasses.replace(report, checklist=checklist, passed=passed)


def _undefined_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    columns = ["model", "fold", "score", "value", "reason"]
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["model", "score", "fold"], kind="stable").reset_index(drop=True)


def _build_report(
    fold_scores: pd.DataFrame, fitted: dict[str, tuple[Any, Any]], candidates: dict[str, Any],
    scoring: Scoring, task: str, baseline_name: str | None, n_splits: int, n_rows: int,
    undefined: pd.DataFrame,
) -> ComparisonReport:
    grouped = fold_scores.groupby("model", sort=False)
    table = pd.DataFrame({"model": list(candidates)}).set_index("model")
    for score in scoring.names:
        table[f"{score}_mean"] = grouped[score].mean()
        table[f"{score}_std"] = grouped[score].std(ddof=0)
    table["fit_seconds"] = grouped["fit_seconds"].mean()
    measured = {name: (*latency(est, X_test), serialized_size(est))
                for name, (est, X_test) in fitted.items()}
    table["latency_1row_ms"] = pd.Series({n: m[0] * 1e3 for n, m in measured.items()}, dtype=float)
    table["latency_per_row_batch_ms"] = pd.Series({n: m[1] * 1e3 for n, m in measured.items()},
                                                  dtype=float)
    # A model that cannot be pickled (a lambda inside) has no size: NaN, and the reason.
    table["size_bytes"] = pd.Series({n: m[2][0] for n, m in measured.items()}, dtype=float)
    unsized = {n: m[2][1] for n, m in measured.items() if m[2][0] is None}
    horizons = forecast_kinds(candidates, fold_scores)
    if horizons:
        table["forecast"] = pd.Series(horizons)
    if baseline_name is not None:
        better = scoring.greater_is_better()
        for score in scoring.names:
            mean = table[f"{score}_mean"]
            diff = mean - mean.loc[baseline_name]
            # "+ 0.0" turns the -0.0 of a negated zero (the baseline's own lift) into 0.0.
            table[f"lift_{score}"] = (diff if better[score] else -diff) + 0.0
    errors = fold_scores.dropna(subset=["error"]).groupby("model", sort=False)
    table["n_folds_failed"] = errors.size().reindex(table.index, fill_value=0).astype(int)
    table["error"] = errors["error"].first().reindex(table.index)
    primary = f"{scoring.primary}_mean"
    table = table.sort_values(primary, ascending=not scoring.greater_is_better()[scoring.primary],
                              na_position="last", kind="stable")
    table = table.reset_index()
    return ComparisonReport(
        title="Model comparison",
        results=table,
        fold_scores=fold_scores,
        task=task,
        scoring=scoring.names,
        primary=scoring.primary,
        greater_is_better=scoring.greater_is_better(),
        baseline_name=baseline_name,
        n_splits=n_splits,
        n_rows=n_rows,
        undefined_scores=undefined,
        unmeasured_size=unsized,
        metric_names=scoring.metric_names(),
    )
