"""Scoring names and the scores of one fold for :func:`compare_models`.

Names are resolved against the one metric vocabulary (:mod:`mllife._metrics`):
every metric :class:`~mllife.SuccessCriteria` and :func:`~mllife.evaluate` know
(``pr_auc``, ``specificity``, ``ece``, ``R²`` …, in any of their spellings) is a
score here for the tasks where it is defined, computed by the implementation
:func:`~mllife.evaluate` and :func:`~mllife.compare_champion` use: on each fold
it equals scikit-learn's scorer of the same name where one exists, and a value
undefined on a fold comes back with its reason instead of a warning. A
scikit-learn scorer name outside the vocabulary (``jaccard``, ``f1_weighted``,
``neg_median_absolute_error`` …) or a callable is scikit-learn's own; its
undefined-metric warnings are caught and kept as reasons too. Such scores
have no vocabulary name, so success criteria cannot name them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _metrics
from .._errors import InputError

#: Default scores per task, as scikit-learn scorer names; the first is the primary
#: score (the table's sort key). The vocabulary's table.
DEFAULT_SCORING: Mapping[str, tuple[str, ...]] = _metrics.DEFAULT_SCORING

#: Short names accepted in ``scoring`` and used in the report for scikit-learn's
#: negated scorers (``medae`` has no mllife metric: it is scikit-learn's scorer).
ALIASES: dict[str, str] = {
    **{name: m.scorer for name, m in _metrics.METRICS.items()
       if m.scorer is not None and m.scorer.startswith("neg_")},
    "medae": "neg_median_absolute_error",
}
_SHORT = {v: k for k, v in ALIASES.items()}

REGRESSION_SCORERS = frozenset(
    {
        "explained_variance", "r2", "max_error", "neg_median_absolute_error",
        "neg_mean_absolute_error", "neg_mean_squared_error", "neg_mean_squared_log_error",
        "neg_root_mean_squared_error", "neg_root_mean_squared_log_error",
        "neg_mean_poisson_deviance", "neg_mean_gamma_deviance",
        "neg_mean_absolute_percentage_error", "d2_absolute_error_score",
    }
)
CLUSTERING_SCORERS = frozenset(
    {
        "adjusted_mutual_info_score", "adjusted_rand_score", "completeness_score",
        "fowlkes_mallows_score", "homogeneity_score", "mutual_info_score",
        "normalized_mutual_info_score", "rand_score", "v_measure_score",
    }
)
#: scikit-learn classification scorers defined for a binary target only (a positive label).
BINARY_ONLY = frozenset(
    {
        "roc_auc", "average_precision", "f1", "precision", "recall", "jaccard",
        "neg_brier_score", "positive_likelihood_ratio", "neg_negative_likelihood_ratio",
    }
)


@dataclass(frozen=True)
class Score:
    """One resolved score of a comparison.

    ``metric`` and ``average`` are set when mllife computes it
    (:mod:`mllife._metrics`): ``average="binary"`` is about the positive label,
    ``"macro"`` averages over the label set. Otherwise ``scorer`` (a
    scikit-learn scorer name or a callable) computes it, and ``negated`` says
    scikit-learn returns it negated (an error score shown positive).
    ``vocabulary`` is the vocabulary's name for it on this task (``f1_macro``
    of a multiclass task is the vocabulary's ``f1``), ``None`` outside it.
    """

    scorer: str | Callable[..., float] | None
    metric: str | None = None
    average: str | None = None
    negated: bool = False
    greater_is_better: bool = True
    vocabulary: str | None = None
    needs_positive: bool = False


@dataclass(frozen=True)
class Scoring:
    """Resolved scores: display name -> :class:`Score`, the primary one first."""

    scores: dict[str, Score]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.scores)

    @property
    def primary(self) -> str:
        return next(iter(self.scores))

    def greater_is_better(self) -> dict[str, bool]:
        return {name: s.greater_is_better for name, s in self.scores.items()}

    def metric_names(self) -> dict[str, str]:
        """Display name -> vocabulary name, for the scores that are vocabulary metrics."""
        return {name: s.vocabulary for name, s in self.scores.items() if s.vocabulary is not None}


def check_missing(y: pd.Series) -> None:
    """A target with missing values cannot be scored."""
    missing = int(y.isna().sum())
    if missing:
        raise InputError("the target has missing values", column=y.name, n_rows=missing,
                         expected="a value on every row")


def models_kind(models: Mapping[str, Any]) -> Any:
    """A model that says what the models are (all classifiers or all regressors), or ``None``.

    Raises
    ------
    InputError
        When the models mix classifiers and regressors.
    """
    from .._task import estimator_kind

    kinds = {name: estimator_kind(model) for name, model in models.items()}
    known = {k for k in kinds.values() if k is not None}
    if len(known) > 1:
        named = {n: k for n, k in kinds.items() if k is not None}
        raise InputError(f"models mix classifiers and regressors: {named}",
                         expected="models for one task")
    return next((models[n] for n, k in kinds.items() if k is not None), None)


def check_target(y: pd.Series, task: str, scoring: Scoring) -> None:
    """One-class and string targets that the task cannot score."""
    n_classes = y.nunique()
    if len(y) == 0:
        raise InputError("the target has no rows", column=y.name,
                         expected="rows with at least two classes (or two distinct values)")
    if n_classes < 2:
        raise InputError(
            f"the target has a single value {y.iloc[0]!r}", column=y.name, n_rows=len(y),
            expected="at least two classes (or two distinct values) to compare models on",
        )
    numeric = pd.api.types.is_numeric_dtype(y.dtype) or pd.api.types.is_bool_dtype(y.dtype)
    if task in _metrics.REGRESSION_TASKS and not numeric:
        raise InputError(f"the target has dtype {y.dtype}", column=y.name,
                         expected=f"numbers for a {task} task")
    needs_positive = [n for n, s in scoring.scores.items() if s.needs_positive]
    if task == "binary" and not numeric and needs_positive:
        labels = sorted(map(str, y.unique()))
        raise InputError(
            f"the target holds strings {labels}, and {', '.join(needs_positive)} need to know "
            "which one is the positive class",
            column=y.name,
            expected=f"positive_label={labels[-1]!r} (or a 0/1 or True/False target, "
                     f"y == {labels[-1]!r})",
        )


def resolve_scoring(scoring: Any, task: str) -> Scoring:
    """``scoring`` (None, a name, a list of names or a dict) checked against ``task``."""
    from sklearn.metrics import get_scorer_names

    if scoring is None:
        items: list[tuple[str | None, Any]] = [(None, s) for s in DEFAULT_SCORING[task]]
    elif isinstance(scoring, str):
        items = [(None, scoring)]
    elif isinstance(scoring, Mapping):
        items = [(str(k), v) for k, v in scoring.items()]
    elif isinstance(scoring, list | tuple) and all(isinstance(s, str) for s in scoring):
        items = [(None, s) for s in scoring]
    else:
        raise InputError(f"scoring is a {type(scoring).__name__}",
                         expected="a scorer name, a list of names or a dict of name: scorer")
    if not items:
        raise InputError("scoring is empty", expected="at least one score")
    known = set(get_scorer_names())
    scores: dict[str, Score] = {}
    for label, spec in items:
        if callable(spec):
            scores[str(label)] = Score(spec)
            continue
        if not isinstance(spec, str):
            raise InputError(f"scoring {label!r} is {spec!r}", expected="a scorer name or a callable")
        shown, score = _resolve_name(spec, task, known)
        scores[label if label is not None else shown] = score
    return Scoring(scores)


def _family(metric: _metrics.Metric) -> str:
    if metric.is_regression:
        return "regression"
    return "binary classification" if metric.tasks == frozenset({"binary"}) else "classification"


def _resolve_name(given: str, task: str, known: set[str]) -> tuple[str, Score]:
    """The display name and the :class:`Score` of one scoring name on ``task``."""
    name = ALIASES.get(given, given)                 # "mae" -> "neg_mean_absolute_error"
    metric = _metrics.lookup(name) if name not in _metrics.MACRO_SCORERS else None
    if metric is not None:                           # the vocabulary: mllife computes it
        if task not in metric.tasks:
            raise InputError(
                f"scoring {given!r} is a {_family(metric)} score and the task is {task}",
                expected=f"scores for {task}, e.g. {', '.join(_examples(task))}")
        average = None if not metric.positive else "binary" if task == "binary" else "macro"
        shown = _display(name) if name in known else metric.name
        return shown, Score(None, metric.name, average, False, metric.higher_is_better,
                            metric.name, needs_positive=average == "binary")
    if name in _metrics.MACRO_SCORERS:               # "f1_macro": the vocabulary's f1 on multiclass
        base = _metrics.MACRO_SCORERS[name]
        return name, Score(None, base, "macro", False, True,
                           base if task == "multiclass" else None)
    _check_name(name, given, task, known)
    negated = name.startswith("neg_")
    return _display(name), Score(name, None, None, negated, not negated,
                                 needs_positive=task == "binary" and name in BINARY_ONLY)


def _examples(task: str) -> tuple[str, ...]:
    return tuple(_display(s) for s in DEFAULT_SCORING[task])


def _display(name: str) -> str:
    return _SHORT.get(name, name[4:] if name.startswith("neg_") else name)


def _check_name(name: str, given: str, task: str, known: set[str]) -> None:
    if name not in known:
        raise InputError(
            f"unknown scoring {given!r}",
            expected=f"a metric of mllife ({', '.join(_metrics.for_task(task))}), a name from "
                     f"sklearn.metrics.get_scorer_names() or one of {sorted(ALIASES)}",
        )
    valid = _valid_for(task, known)
    if name not in valid:
        family = "regression" if name in REGRESSION_SCORERS else (
            "clustering" if name in CLUSTERING_SCORERS else "binary classification")
        raise InputError(
            f"scoring {given!r} is a {family} score and the task is {task}",
            expected=f"scores for {task}, e.g. {', '.join(DEFAULT_SCORING[task])}",
        )


def _valid_for(task: str, known: set[str]) -> set[str]:
    if task in _metrics.REGRESSION_TASKS:
        return set(REGRESSION_SCORERS) & known
    classification = known - REGRESSION_SCORERS - CLUSTERING_SCORERS
    if task == "multiclass":
        return classification - BINARY_ONLY
    return classification


# ---- the scores of one fold ----------------------------------------------------------------


class _Responses:
    """``predict``, ``predict_proba`` and ``decision_function`` of one fitted model, each once."""

    def __init__(self, estimator: Any, X: Any, y_true: np.ndarray) -> None:
        self.estimator, self.X = estimator, X
        found = getattr(estimator, "classes_", None)
        self.classes = np.asarray(found) if found is not None else np.unique(y_true)
        self._cache: dict[str, np.ndarray] = {}

    def _call(self, method: str) -> np.ndarray:
        if method not in self._cache:
            out = getattr(self.estimator, method)(self.X)
            self._cache[method] = np.asarray(out.to_numpy() if hasattr(out, "to_numpy") else out)
        return self._cache[method]

    def predict(self) -> np.ndarray:
        out = self._call("predict")
        return out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out

    def proba(self) -> np.ndarray:
        return self._call("predict_proba").astype(float)

    def ranking(self, positive_label: Any) -> np.ndarray:
        """A score of ``positive_label``, as scikit-learn's scorers take it: decision_function first."""
        if hasattr(self.estimator, "decision_function"):
            scores = self._call("decision_function").astype(float)
            if scores.ndim == 1:  # it scores classes_[-1]
                return scores if positive_label == self.classes[-1] else -scores
        return self.proba()[:, int(np.flatnonzero(self.classes == positive_label)[0])]

    def class_scores(self) -> tuple[np.ndarray, bool]:
        """One ranking column per class of ``classes``: probabilities, else decision scores."""
        if hasattr(self.estimator, "predict_proba"):
            return self.proba(), True
        scores = self._call("decision_function").astype(float)
        if scores.ndim != 2 or scores.shape[1] != len(self.classes):
            raise ValueError(f"decision_function returned shape {scores.shape}, not one score "
                             f"per class ({len(self.classes)} columns)")
        return scores, False


def _ours(metric: str, average: str | None, y_true: np.ndarray,
          responses: _Responses) -> tuple[float, str | None]:
    """One vocabulary metric on one fold: the value of scikit-learn's scorer of the same name."""
    needs = _metrics.METRICS[metric].needs
    if needs == "value":
        values, why = _metrics.regression_scores(y_true, responses.predict(), names=(metric,))
        return values[metric], why.get(metric)
    binary = average == "binary"
    # scikit-learn's binary scorers are about the label 1 (True); ROC-AUC about classes_[-1].
    pos = responses.classes[-1] if metric == "roc_auc" else 1
    if binary and not (responses.classes == pos).any():
        return np.nan, (f"the positive label {pos!r} is not a class of the model "
                        f"({responses.classes.tolist()}): pass positive_label=")
    if needs == "label":
        values, why = _metrics.label_scores(y_true, responses.predict(),
                                            positive_label=pos if binary else None,
                                            names=(metric,))
    elif needs == "score" and binary:
        values, why = _metrics.binary_ranking(y_true == pos, responses.ranking(pos), pos,
                                              names=(metric,))
    elif needs == "score":
        scores, probabilities = responses.class_scores()
        values, why = _metrics.multiclass_ranking(y_true, scores, responses.classes,
                                                  probabilities=probabilities)
    else:
        values, why = _metrics.probability_scores(
            y_true, responses.proba(), responses.classes,
            positive_label=pos if binary else None)
    return values[metric], why.get(metric)


def _theirs(estimator: Any, X: Any, y: Any, spec: str | Callable[..., float]) -> tuple[float, str | None]:
    """A scikit-learn scorer (or a callable); its undefined-metric warnings become the reason."""
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import check_scoring

    scorer = check_scoring(estimator, scoring=spec)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UndefinedMetricWarning)
        value = float(scorer(estimator, X, y))
    reasons = []
    for w in caught:
        if issubclass(w.category, UndefinedMetricWarning) or "not in y_true" in str(w.message):
            reasons.append(str(w.message).split("\n")[0])
        else:  # not about an undefined metric: let it through
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return value, "; ".join(dict.fromkeys(reasons)) or None


def score_fold(estimator: Any, X: Any, y: Any, scoring: Scoring) -> tuple[dict[str, float], dict[str, str]]:
    """``(scores, undefined)`` of a fitted model on one fold, as the report shows them.

    ``undefined`` maps a score to why it was NaN or partly undefined (counted
    as 0) on this fold. Error scores are positive (scikit-learn's negated
    scorers are turned back).
    """
    y_true = np.asarray(y)
    responses = _Responses(estimator, X, y_true)
    scores: dict[str, float] = {}
    undefined: dict[str, str] = {}
    for name, score in scoring.scores.items():
        if score.metric is not None:
            value, reason = _ours(score.metric, score.average, y_true, responses)
        else:
            assert score.scorer is not None
            value, reason = _theirs(estimator, X, y, score.scorer)
            value = -value if score.negated else value
        scores[name] = float(value)
        if reason:
            undefined[name] = reason
    return scores, undefined
