"""Task inference and scoring names for :func:`compare_models`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError

#: Default scores per task; the first is the primary score (the table's sort key).
DEFAULT_SCORING: dict[str, tuple[str, ...]] = {
    "binary": ("roc_auc", "average_precision", "f1", "accuracy"),
    "multiclass": ("accuracy", "f1_macro", "balanced_accuracy"),
    "regression": ("neg_mean_absolute_error", "neg_root_mean_squared_error", "r2"),
}

#: Short names accepted in ``scoring`` and used in the report.
ALIASES: dict[str, str] = {
    "mae": "neg_mean_absolute_error",
    "rmse": "neg_root_mean_squared_error",
    "mse": "neg_mean_squared_error",
    "mape": "neg_mean_absolute_percentage_error",
    "medae": "neg_median_absolute_error",
    "log_loss": "neg_log_loss",
    "brier": "neg_brier_score",
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
