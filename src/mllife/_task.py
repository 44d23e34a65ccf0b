"""The one rule that names the task of a target: binary, multiclass, regression or forecast.

:func:`~mllife.evaluate`, :func:`~mllife.compare_models`,
:func:`~mllife.compare_champion`, :func:`~mllife.baselines.baseline` and
:class:`~mllife.ProblemSpec` all call :func:`infer_task` (or :func:`check_task`),
so one target and one model get one task whichever of them is asked.

The rule, decided once:

1. An explicit ``task`` wins, after it is checked against the target and the
   model: a contradiction (``"regression"`` for text labels or a classifier,
   ``"binary"`` for three labels or a regressor, a classification task for a
   continuous target) raises :class:`~mllife.InputError` naming the target.
   ``"forecast"`` is never inferred: it is a regression over time, and only the
   caller knows the rows are ordered in time.
2. Otherwise the model decides when it says what it is (scikit-learn's
   estimator type, or a ``classes_`` attribute): a regressor is
   ``"regression"``; a classifier is ``"binary"`` when it knows at most two
   classes and ``"multiclass"`` above (before fitting, the labels of the target
   count instead).
3. Otherwise the target decides, by scikit-learn's
   :func:`~sklearn.utils.multiclass.type_of_target`: ``"binary"`` and
   ``"multiclass"`` stay, except for a float target, which is a regression like
   ``"continuous"`` (0.0/1.0 floats are a measurement until a classifier or the
   caller says they are labels).

Whichever decides, a target no task fits raises :class:`~mllife.InputError`
naming it: dates, durations, periods, intervals or complex numbers, infinite
values, text or categories for a regressor, fractional numbers for a classifier,
and more than one column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._errors import InputError

#: Every task mllife knows, in the order the documentation lists them.
TASKS: tuple[str, ...] = ("binary", "multiclass", "regression", "forecast")
CLASSIFICATION: frozenset[str] = frozenset({"binary", "multiclass"})
REGRESSION: frozenset[str] = frozenset({"regression", "forecast"})


def check_task(task: Any, *, where: str = "task") -> str:
    """The canonical spelling of a task name (case and spaces ignored), or :class:`InputError`.

    Examples
    --------
    >>> from mllife._task import check_task
    >>> check_task(" Binary ")
    'binary'
    >>> check_task("clustering")
    Traceback (most recent call last):
    ...
    mllife._errors.InputError: task 'clustering' is not known; expected one of binary, multiclass, regression, forecast
    """
    name = task.strip().casefold() if isinstance(task, str) else task
    if name not in TASKS:
        raise InputError(f"{where} {task!r} is not known", expected=f"one of {', '.join(TASKS)}")
    return str(name)


def estimator_kind(model: Any) -> str | None:
    """``"classifier"``, ``"regressor"`` or ``None`` (the model does not say).

    scikit-learn's estimator type (its tags, or the ``_estimator_type``
    attribute of older and duck-typed estimators) first; a ``classes_``
    attribute makes a classifier.
    """
    if model is None:
        return None
    from sklearn.base import is_classifier, is_regressor

    try:
        if is_classifier(model):
            return "classifier"
        if is_regressor(model):
            return "regressor"
    except AttributeError:  # no __sklearn_tags__: not a scikit-learn estimator; duck-type below
        pass
    declared = getattr(model, "_estimator_type", None)
    if declared in ("classifier", "regressor"):
        return str(declared)
    if getattr(model, "classes_", None) is not None:
        return "classifier"
    return None


def _values(y: Any) -> tuple[np.ndarray, Any, str]:
    """The non-missing values of ``y``, its name and its kind of dtype."""
    if isinstance(y, pd.Series):
        series = y
    else:
        array = np.asarray(y)
        if array.ndim != 1:
            raise InputError(f"y has shape {array.shape}", expected="one target column")
        series = pd.Series(array)
    name = series.name if series.name is not None else "y"
    dtype = series.dtype
    if getattr(dtype, "kind", "O") in "mMc" or isinstance(dtype, pd.PeriodDtype | pd.IntervalDtype):
        raise InputError(f"the target has dtype {dtype}", column=name,
                         expected="class labels or numbers (a time column is not a target)")
    present = series.dropna()
    if pd.api.types.is_bool_dtype(series.dtype):
        kind = "bool"
    elif pd.api.types.is_float_dtype(series.dtype):
        kind = "float"
    elif pd.api.types.is_numeric_dtype(series.dtype):
        kind = "int"
    else:
        kind = "other"
    if kind == "float":
        values = present.to_numpy(dtype=float)
        n_inf = int(np.isinf(values).sum())
        if n_inf:
            raise InputError(f"the target holds {n_inf} infinite value{'s' if n_inf > 1 else ''}",
                             column=name, n_rows=n_inf, expected="finite numbers")
    elif kind in ("bool", "int"):
        values = present.to_numpy()
    else:
        values = np.asarray(present.to_numpy(dtype=object), dtype=object)
    return values, name, kind


def _dtype_of(y: Any) -> Any:
    return y.dtype if isinstance(y, pd.Series) else np.asarray(y).dtype


def _type_of_target(values: np.ndarray, kind: str) -> str:
    """scikit-learn's ``type_of_target``, robust to mixed labels and empty targets."""
    from sklearn.utils.multiclass import type_of_target

    if values.size == 0:
        return "binary"
    try:
        return str(type_of_target(values))
    except (TypeError, ValueError):  # labels of mixed types cannot be sorted
        n = len(pd.unique(pd.Series(values, dtype=object)))
        return "binary" if n <= 2 else "multiclass"


def _contradiction(task: str, values: np.ndarray, kind: str, target_type: str,
                   model_kind: str | None, classes: Any) -> str | None:
    """Why ``task`` cannot describe this target and model (``None`` when it can)."""
    n_labels = len(pd.unique(pd.Series(values, dtype=object))) if values.size else 0
    if task in REGRESSION:
        if model_kind == "classifier":
            return "the model is a classifier"
        if kind not in ("int", "float"):
            return "its values are not numbers" if kind != "bool" else "it holds True/False labels"
        return None
    if model_kind == "regressor":
        return "the model is a regressor"
    if target_type.startswith("continuous"):
        return "its values are continuous numbers, not class labels"
    if task == "binary":
        if n_labels > 2:
            return f"it holds {n_labels} labels"
        if classes is not None and len(classes) > 2:
            return f"the model knows {len(classes)} classes"
    return None


def infer_task(y: Any, *, model: Any = None, task: Any = None, kind: str | None = None) -> str:
    """The task of target ``y``: ``"binary"``, ``"multiclass"``, ``"regression"`` or ``"forecast"``.

    The rule is the module's (see :mod:`mllife._task`): an explicit ``task``
    is checked and kept; else the model's type and classes decide; else
    scikit-learn's ``type_of_target`` of ``y`` (a float target is a
    regression). ``"forecast"`` comes back only when stated.

    Parameters
    ----------
    y : Series or array-like of shape (n_samples,)
        The target; missing values are ignored.
    model : estimator, optional
        A fitted or unfitted estimator whose type (and ``classes_``) decide.
    task : str, optional
        The task the caller states; checked against ``y`` and ``model``.
    kind : {"classifier", "regressor"}, optional
        What the caller knows the models to be when ``model`` cannot say it
        (``compare_champion`` knows it from the metric).

    Returns
    -------
    str

    Raises
    ------
    InputError
        An unknown task name, a stated task that contradicts the target or
        the model, classifiers given a continuous target, a regressor given
        text or categories, a target of dates, durations or complex numbers,
        or infinite values.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mllife._task import infer_task
    >>> infer_task(np.array([0, 1, 1, 0]))
    'binary'
    >>> infer_task(np.array([0.5, 1.25, 3.0]))
    'regression'
    >>> infer_task(np.array([0.0, 1.0, 1.0]), model=LogisticRegression())
    'binary'
    >>> infer_task(np.array(["a", "b", "c"]), task="regression")
    Traceback (most recent call last):
    ...
    mllife._errors.InputError: column 'y': task='regression' contradicts the target: its values are not numbers...
    """
    values, name, dtype_kind = _values(y)
    target_type = _type_of_target(values, dtype_kind)
    if target_type in ("multilabel-indicator", "multiclass-multioutput", "continuous-multioutput"):
        raise InputError(f"the target is {target_type}", column=name,
                         expected="one target column")
    model_kind = estimator_kind(model) or kind
    classes = getattr(model, "classes_", None) if model is not None else None
    if task is not None:
        stated = check_task(task)
        why = _contradiction(stated, values, dtype_kind, target_type, model_kind, classes)
        if why is not None:
            raise InputError(
                f"task={stated!r} contradicts the target: {why}", column=name,
                expected="a task that fits the target and the model, or no task to let mllife "
                         "infer it")
        return stated
    if model_kind == "regressor":
        if dtype_kind == "other":
            raise InputError(f"the target has dtype {_dtype_of(y)}", column=name,
                             expected="numbers for a regression task (the model is a regressor)")
        return "regression"
    if model_kind == "classifier":
        if classes is not None and not target_type.startswith("continuous"):
            return "binary" if len(classes) <= 2 else "multiclass"
        if classes is None and target_type in ("binary", "multiclass"):
            return target_type
        raise InputError(f"classifiers were given a {target_type} target", column=name,
                         expected="class labels (binary or multiclass)")
    if target_type in ("binary", "multiclass") and dtype_kind != "float":
        return target_type
    if target_type in ("binary", "multiclass", "continuous"):
        return "regression"
    # "unknown": objects scikit-learn cannot classify (e.g. mixed types)
    if dtype_kind in ("int", "float"):
        return "regression"
    n_labels = len(pd.unique(pd.Series(values, dtype=object)))
    return "binary" if n_labels <= 2 else "multiclass"


def target_problems(y: pd.Series, task: str) -> list[str]:
    """Why a *training* target cannot hold ``task``, for :meth:`ProblemSpec.validate`.

    Stricter than :func:`infer_task` (which also judges test sets, where a
    class may be absent): a binary target has exactly two classes, a
    multiclass one at least two, a regression or forecast target numbers.
    """
    present = y.dropna()
    problems: list[str] = []
    if task in CLASSIFICATION:
        n = len(pd.unique(present))
        if task == "binary" and n != 2:
            problems.append(f"binary target has {n} class{'es' if n != 1 else ''}; expected exactly 2")
        if task == "multiclass" and n < 2:
            problems.append(f"multiclass target has {n} class; expected at least 2")
        if n and pd.api.types.is_float_dtype(present.dtype):
            values = present.to_numpy(dtype=float)
            if not np.array_equal(values, np.round(values)):
                problems.append(f"{task} target holds fractional numbers; expected class labels")
    elif not (pd.api.types.is_numeric_dtype(y.dtype) and not pd.api.types.is_bool_dtype(y.dtype)):
        problems.append(f"{task} target has dtype {y.dtype}; expected numbers")
    return problems
