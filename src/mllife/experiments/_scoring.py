"""Task inference, scoring names and the scores of one fold for :func:`compare_models`.

The scores mllife defines (accuracy, balanced accuracy, precision, recall,
F1, their macro versions, ROC-AUC, average precision, log loss, Brier score,
MAE, RMSE, MSE, R², MAPE) are computed by :mod:`mllife._metrics`, the
implementation :func:`~mllife.evaluate` and :func:`~mllife.compare_champion`
use: on each fold they equal scikit-learn's scorer of the same name, and a
value undefined on a fold comes back with its reason instead of a warning.
Any other scikit-learn scorer name or callable is scikit-learn's own; its
undefined-metric warnings are caught and kept as reasons too.
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

#: Default scores per task; the first is the primary score (the table's sort key).
DEFAULT_SCORING: dict[str, tuple[str, ...]] = {
    "binary": ("roc_auc", "average_precision", "f1", "accuracy"),
    "multiclass": ("accuracy", "f1_macro", "balanced_accuracy"),
    "regression": ("neg_mean_absolute_error", "neg_root_mean_squared_error", "r2"),
}

#: Short names accepted in ``scoring`` and used in the report (``medae`` has no
#: mllife metric: it is scikit-learn's scorer).
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
#: Classification scores defined for a binary target only (a positive label).
BINARY_ONLY = frozenset(
    {
        "roc_auc", "average_precision", "f1", "precision", "recall", "jaccard",
        "neg_brier_score", "positive_likelihood_ratio", "neg_negative_likelihood_ratio",
    }
)


@dataclass(frozen=True)
class Scoring:
    """Resolved scores: display name -> scikit-learn scorer name or callable."""

    scorers: dict[str, str | Callable[..., float]]
    #: Display name -> True when the report shows the negated scorer value.
    negated: dict[str, bool]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.scorers)

    @property
    def primary(self) -> str:
        return next(iter(self.scorers))

    def greater_is_better(self) -> dict[str, bool]:
        return {name: not neg for name, neg in self.negated.items()}

    def shown(self, name: str, values: Any) -> Any:
        """Scorer values as shown in the report (errors positive)."""
        return -np.asarray(values, dtype=float) if self.negated[name] else values


def check_missing(y: pd.Series) -> None:
    """A target with missing values cannot be scored."""
    missing = int(y.isna().sum())
    if missing:
        raise InputError("the target has missing values", column=y.name, n_rows=missing,
                         expected="a value on every row")


def infer_task(models: Mapping[str, Any], y: pd.Series) -> str:
    """``"binary"``, ``"multiclass"`` or ``"regression"`` from the models and the target."""
    from sklearn.base import is_classifier, is_regressor
    from sklearn.utils.multiclass import type_of_target

    kinds = set()
    for model in models.values():
        if is_classifier(model):
            kinds.add("classifier")
        elif is_regressor(model):
            kinds.add("regressor")
    if kinds == {"classifier", "regressor"}:
        names = {n: "classifier" if is_classifier(m) else "regressor" for n, m in models.items()
                 if is_classifier(m) or is_regressor(m)}
        raise InputError(
            f"models mix classifiers and regressors: {names}",
            expected="models for one task",
        )
    kind = type_of_target(y.to_numpy())
    if kinds == {"regressor"}:
        return "regression"
    if kind in ("binary", "multiclass") and (
        kinds == {"classifier"} or not pd.api.types.is_float_dtype(y.dtype)
    ):
        return kind
    if kinds == {"classifier"}:
        raise InputError(
            f"classifiers were given a {kind} target",
            column=y.name, expected="class labels (binary or multiclass)",
        )
    return "regression"


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
    if task == "regression" and not numeric:
        raise InputError(f"the target has dtype {y.dtype}", column=y.name,
                         expected="numbers for a regression task")
    needs_positive = [n for n, s in scoring.scorers.items() if isinstance(s, str) and s in BINARY_ONLY]
    if task == "binary" and not numeric and needs_positive:
        labels = sorted(map(str, y.unique()))
        raise InputError(
            f"the target holds strings {labels}, and {', '.join(needs_positive)} need to know "
            "which one is the positive class",
            column=y.name,
            expected=f"pos_label={labels[-1]!r} (or a 0/1 or True/False target, y == {labels[-1]!r})",
        )


def resolve_scoring(scoring: Any, task: str) -> Scoring:
    """``scoring`` (None, a name, a list of names or a dict) checked against ``task``."""
    from sklearn.metrics import get_scorer_names

    if scoring is None:
        items: list[tuple[str, Any]] = [(_display(s), s) for s in DEFAULT_SCORING[task]]
    elif isinstance(scoring, str):
        items = [(scoring, scoring)]
    elif isinstance(scoring, Mapping):
        items = [(str(k), v) for k, v in scoring.items()]
    elif isinstance(scoring, list | tuple) and all(isinstance(s, str) for s in scoring):
        items = [(s, s) for s in scoring]
    else:
        raise InputError(f"scoring is a {type(scoring).__name__}",
                         expected="a scorer name, a list of names or a dict of name: scorer")
    if not items:
        raise InputError("scoring is empty", expected="at least one score")
    known = set(get_scorer_names())
    scorers: dict[str, str | Callable[..., float]] = {}
    negated: dict[str, bool] = {}
    for label, spec in items:
        if callable(spec):
            scorers[label], negated[label] = spec, False
            continue
        if not isinstance(spec, str):
            raise InputError(f"scoring {label!r} is {spec!r}", expected="a scorer name or a callable")
        name = ALIASES.get(spec, spec)
        if name not in known:  # an mllife spelling: "ROC-AUC", "pr_auc"
            metric = _metrics.METRICS.get(_metrics.normalize_name(spec))
            if metric is not None and metric.scorer is not None:
                name = metric.scorer
        _check_name(name, spec, task, known)
        shown = _display(name) if label == spec else label
        scorers[shown], negated[shown] = name, name.startswith("neg_")
    return Scoring(scorers, negated)


def _display(name: str) -> str:
    return _SHORT.get(name, name[4:] if name.startswith("neg_") else name)


def _check_name(name: str, given: str, task: str, known: set[str]) -> None:
    if name not in known:
        raise InputError(
            f"unknown scoring {given!r}",
            expected=f"a name from sklearn.metrics.get_scorer_names() or one of {sorted(ALIASES)}",
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
    if task == "regression":
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

    def ranking(self, pos_label: Any) -> np.ndarray:
        """A score of ``pos_label``, as scikit-learn's scorers take it: decision_function first."""
        if hasattr(self.estimator, "decision_function"):
            scores = self._call("decision_function").astype(float)
            if scores.ndim == 1:  # it scores classes_[-1]
                return scores if pos_label == self.classes[-1] else -scores
        return self.proba()[:, int(np.flatnonzero(self.classes == pos_label)[0])]


def _ours(metric: str, average: str | None, y_true: np.ndarray,
          responses: _Responses) -> tuple[float, str | None]:
    """One mllife metric on one fold: the value of scikit-learn's scorer of the same name."""
    needs = _metrics.METRICS[metric].needs
    if needs == "value":
        values, why = _metrics.regression_scores(y_true, responses.predict(), names=(metric,))
        return values[metric], why.get(metric)
    # scikit-learn's binary scorers are about the label 1 (True); ROC-AUC about classes_[-1].
    pos = responses.classes[-1] if metric == "roc_auc" else 1
    if average == "binary" and not (responses.classes == pos).any():
        return np.nan, (f"the positive label {pos!r} is not a class of the model "
                        f"({responses.classes.tolist()}): pass pos_label=")
    if needs == "label":
        values, why = _metrics.label_scores(y_true, responses.predict(),
                                            pos_label=pos if average == "binary" else None,
                                            names=(metric,))
    elif needs == "score":
        values, why = _metrics.binary_ranking(y_true == pos, responses.ranking(pos), pos,
                                              names=(metric,))
    else:
        values, why = _metrics.probability_scores(
            y_true, responses.proba(), responses.classes,
            pos_label=pos if average == "binary" else None)
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
    """``(scores, undefined)`` of a fitted model on one fold, as scikit-learn's scorers give them.

    ``undefined`` maps a score to why it was NaN or partly undefined (counted
    as 0) on this fold. Scores scikit-learn negates are returned negated too.
    """
    y_true = np.asarray(y)
    responses = _Responses(estimator, X, y_true)
    scores: dict[str, float] = {}
    undefined: dict[str, str] = {}
    for name, spec in scoring.scorers.items():
        ours = _metrics.SCORERS.get(spec) if isinstance(spec, str) else None
        if ours is None:
            value, reason = _theirs(estimator, X, y, spec)
        else:
            value, reason = _ours(*ours, y_true, responses)
            value = -value if scoring.negated[name] else value
        scores[name] = float(value)
        if reason:
            undefined[name] = reason
    return scores, undefined
