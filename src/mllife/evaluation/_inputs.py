"""Input checks and the one pass of predictions every section of ``evaluate`` shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import (
    as_frame,
    as_series,
    from_native,
    generated_names,
    is_datetime,
    is_native,
    is_numeric,
    require_columns,
)
from .._time import read_time

TASKS = ("binary", "multiclass", "regression")


@dataclass
class Predictions:
    """What the model said about one set of rows, computed once."""

    task: str
    y_true: np.ndarray
    y_pred: np.ndarray
    classes: np.ndarray | None = None
    proba: np.ndarray | None = None
    #: A ranking score for binary tasks (probability of the positive class, else
    #: ``decision_function``); ``None`` when the model gives neither.
    score: np.ndarray | None = None
    #: Multiclass ranking scores without probabilities: ``decision_function`` with one
    #: column per class of ``classes`` (one-vs-rest shape); ``None`` otherwise.
    decision: np.ndarray | None = None
    positive_label: Any = None
    notes: list[str] = field(default_factory=list)

    @property
    def is_classification(self) -> bool:
        return self.task != "regression"

    @property
    def correct(self) -> np.ndarray:
        return np.asarray(self.y_pred == self.y_true, dtype=bool)

    @property
    def loss(self) -> np.ndarray:
        """Per-row loss: 1/0 error for classification, absolute error for regression."""
        if self.is_classification:
            return (~self.correct).astype(float)
        return np.abs(self.y_true.astype(float) - self.y_pred.astype(float))


def feed(model: Any, X: pd.DataFrame) -> Any:
    """What to pass to the model: a numpy array when it was fitted on one (``x0, x1, ...`` names)."""
    if getattr(model, "feature_names_in_", None) is None and list(X.columns) == generated_names(X.shape[1]):
        return X.to_numpy()
    return X


def _describe(obj: Any) -> str:
    return type(obj).__name__


def align(
    X: Any, y: Any, *, x_name: str = "X_test", y_name: str = "y_test"
) -> tuple[pd.DataFrame, pd.Series]:
    """``X`` as a frame and ``y`` as a Series on the same index, or :class:`InputError`.

    A numpy ``y`` takes ``X``'s index; two pandas objects must carry the same
    index labels in the same order (a mismatch is almost always a shuffled or
    filtered copy, and silently realigning would hide it).
    """
    frame = as_frame(X, name=x_name)
    y_is_pandas = isinstance(y, pd.Series | pd.DataFrame)
    series = as_series(y, name=y_name)
    if len(series) != len(frame):
        raise InputError(
            f"{x_name} has {len(frame)} rows but {y_name} has {len(series)}",
            expected=f"{y_name} with one label per row of {x_name}",
        )
    if y_is_pandas and isinstance(X, pd.DataFrame) and not series.index.equals(frame.index):
        unmatched = int((~series.index.isin(frame.index)).sum())
        raise InputError(
            f"the indexes of {x_name} and {y_name} differ "
            f"({unmatched} labels of {y_name} are not in {x_name}, or the order differs)",
            n_rows=max(unmatched, 1),
            expected=f"{y_name} indexed like {x_name} (use .loc[{x_name}.index] or reset both indexes)",
        )
    if not series.index.equals(frame.index):
        series = series.set_axis(frame.index)
    n_missing = int(series.isna().sum())
    if n_missing:
        raise InputError(
            f"{y_name} has missing labels", column=series.name, n_rows=n_missing,
            expected="a label for every row",
        )
    return frame, series


def _is_label(value: Any, X: pd.DataFrame) -> bool:
    try:
        return bool(value in X.columns)
    except TypeError:  # unhashable
        return False


def side_column(
    value: Any, X: pd.DataFrame, *, name: str, allow_frame: bool
) -> pd.DataFrame | pd.Series | None:
    """A column given by name (of ``X``) or as data, aligned with ``X``'s index."""
    if value is None:
        return None
    if is_native(value):  # polars / pyarrow: by position, as an array, names kept
        value = from_native(value, name=name)
        value = value.rename(name) if getattr(value, "name", name) is None else value
        value = value.set_axis(X.index) if len(value) == len(X) else value
    if not isinstance(value, str) and np.ndim(value) == 0 and _is_label(value, X):
        value = [value]   # a non-string column label, e.g. 0 for integer-labelled columns
        names = list(value)
        out_named: pd.DataFrame | pd.Series = X[names[0]]
        return out_named if isinstance(out_named, pd.Series) else out_named.iloc[:, 0]
    if isinstance(value, str) or (
        isinstance(value, Sequence) and not isinstance(value, str)
        and len(value) > 0 and all(isinstance(v, str) for v in value)
        and (all(v in X.columns for v in value) or len(value) != len(X))
    ):
        names = [value] if isinstance(value, str) else list(value)
        require_columns(X, names, what=f"{name} column")
        out: pd.DataFrame | pd.Series = X[names[0]] if len(names) == 1 else X[names]
    elif isinstance(value, pd.Series | pd.DataFrame):
        out = value
        if len(out) != len(X):
            raise InputError(
                f"{name} has {len(out)} rows but X_test has {len(X)}",
                expected=f"{name} with one value per row of X_test",
            )
        if not out.index.equals(X.index):
            unmatched = int((~out.index.isin(X.index)).sum())
            raise InputError(
                f"the indexes of X_test and {name} differ "
                f"({unmatched} labels of {name} are not in X_test, or the order differs)",
                n_rows=max(unmatched, 1),
                expected=f"{name} indexed like X_test",
            )
    else:
        arr = np.asarray(value)
        if arr.ndim == 0 or len(arr) != len(X):
            raise InputError(
                f"{name} has {0 if arr.ndim == 0 else len(arr)} values but X_test has {len(X)} rows",
                expected=f"a column name of X_test or one value per row for {name}",
            )
        if arr.ndim == 2:
            out = pd.DataFrame(arr, index=X.index,
                               columns=[f"{name}_{i}" for i in range(arr.shape[1])])
        else:
            out = pd.Series(arr, index=X.index, name=name)
    if isinstance(out, pd.DataFrame):
        if not allow_frame:
            if out.shape[1] != 1:
                raise InputError(f"{name} has {out.shape[1]} columns", expected="one column")
            out = out.iloc[:, 0]
        elif out.shape[1] == 1:
            out = out.iloc[:, 0]
    return out


#: What evaluate's ``time`` may hold (integers only: a number with a fraction is a feature).
_TIME_EXPECTED = ("datetimes, pandas Periods, integer periods such as years, or ISO 8601 text "
                  "(a column name of X_test or one value per row)")


def as_time(value: pd.Series) -> pd.Series:
    """Times for the metric by period, or :class:`InputError`.

    Datetimes come back tz-naive (UTC for aware ones, ISO 8601 text parsed),
    periods as periods, and integer time (years) as numbers; missing values
    stay missing. Numbers with fractions are refused: they are features, not
    periods.
    """
    try:
        t = read_time(value, column=value.name)
    except InputError as err:
        raise InputError(f"time has dtype {value.dtype}: {err.message}", column=value.name,
                         expected=_TIME_EXPECTED) from None
    if is_datetime(t):
        if isinstance(t.dtype, pd.DatetimeTZDtype):
            t = t.dt.tz_convert("UTC").dt.tz_localize(None)
        return t
    if is_numeric(t):
        numbers = t.to_numpy(dtype=np.float64, na_value=np.nan)
        known = numbers[np.isfinite(numbers)]
        if len(known) and not np.array_equal(known, np.round(known)):
            raise InputError(f"time has dtype {value.dtype} with fractional values",
                             column=value.name, expected=_TIME_EXPECTED)
    return t


def infer_task(model: Any, y: pd.Series) -> str:
    """The task of ``model`` on ``y``: :func:`mllife._task.infer_task`, the one rule.

    ``binary``/``multiclass`` for a classifier by its classes, ``regression``
    for a regressor, and by the target for a model that does not say.
    """
    from .._task import infer_task as infer

    return infer(y, model=model)


def _check_finite(values: np.ndarray, what: str) -> None:
    if values.dtype.kind in "fc":
        bad = ~np.isfinite(values)
        if bad.ndim > 1:
            bad = bad.any(axis=tuple(range(1, bad.ndim)))
        n_bad = int(bad.sum())
        if n_bad:
            raise InputError(
                f"the model's {what} contain NaN or infinite values",
                n_rows=n_bad, expected="finite predictions for every row of X_test",
            )
    elif values.dtype == object:
        n_bad = int(pd.isna(pd.Series(values)).sum())
        if n_bad:
            raise InputError(f"the model's {what} contain missing values", n_rows=n_bad,
                             expected="a prediction for every row of X_test")


def predict(model: Any, X: pd.DataFrame, y: pd.Series, *, task: str | None = None,
            positive_label: Any = None) -> Predictions:
    """Call ``predict`` (and ``predict_proba`` or ``decision_function``) once."""
    task = task or infer_task(model, y)
    y_true = y.to_numpy()
    try:
        y_pred = np.asarray(model.predict(feed(model, X)))
    except Exception as exc:  # the model's own complaint, re-raised as ours
        raise InputError(
            f"the model could not predict X_test: {type(exc).__name__}: {exc}",
            expected="X_test with the columns and types the model was fitted on",
        ) from exc
    if y_pred.ndim == 2 and y_pred.shape[1] == 1:
        y_pred = y_pred[:, 0]
    if y_pred.shape[0] != len(X):
        raise InputError(f"the model returned {y_pred.shape[0]} predictions for {len(X)} rows",
                         expected="one prediction per row")
    _check_finite(y_pred, "predictions")
    pred = Predictions(task=task, y_true=y_true, y_pred=y_pred)
    if task == "regression":
        pred.y_true = y_true.astype(float)
        pred.y_pred = y_pred.astype(float)
        return pred

    classes = getattr(model, "classes_", None)
    if classes is None:
        classes = np.unique(np.concatenate([y_true, y_pred]))
    pred.classes = np.asarray(classes)
    if task == "binary":
        if positive_label is None:
            positive_label = pred.classes.tolist()[-1]
        elif positive_label not in set(pred.classes.tolist()):
            raise InputError(
                f"positive_label {positive_label!r} is not one of the model's classes",
                expected=f"one of {pred.classes.tolist()}",
            )
        pred.positive_label = positive_label
    if hasattr(model, "predict_proba"):
        try:
            proba = np.asarray(model.predict_proba(feed(model, X)), dtype=float)
        except Exception as exc:  # e.g. SVC(probability=False) on old scikit-learn
            pred.notes.append(f"predict_proba failed ({type(exc).__name__}); probability metrics skipped.")
            proba = None
        if proba is not None:
            _check_finite(proba, "predicted probabilities")
            pred.proba = proba
            if task == "binary":
                pos = int(np.flatnonzero(pred.classes == positive_label)[0])
                pred.score = proba[:, pos]
    else:
        pred.notes.append(
            f"{_describe(model)} has no predict_proba: log loss, Brier score, calibration "
            "and the threshold table are skipped."
        )
    if pred.score is None and task == "binary" and hasattr(model, "decision_function"):
        decision = np.asarray(model.decision_function(feed(model, X)), dtype=float)
        _check_finite(decision, "decision scores")
        if decision.ndim == 1:
            # decision_function scores the second class; flip it when that is not the positive one.
            pred.score = decision if positive_label == pred.classes[-1] else -decision
            pred.notes.append("ROC-AUC and PR-AUC use decision_function scores (no probabilities).")
    if pred.proba is None and task == "multiclass" and hasattr(model, "decision_function"):
        try:
            decision = np.asarray(model.decision_function(feed(model, X)), dtype=float)
        except Exception as exc:  # a scorer that cannot score is not fatal: skip the curves
            pred.notes.append(f"decision_function failed ({type(exc).__name__}); ROC-AUC and "
                              "PR-AUC skipped.")
        else:
            if decision.ndim == 2 and decision.shape == (len(X), len(pred.classes)):
                _check_finite(decision, "decision scores")
                pred.decision = decision
                pred.notes.append("ROC-AUC, PR-AUC and the curves use decision_function scores, "
                                  "one-vs-rest per class (no probabilities).")
    return pred
