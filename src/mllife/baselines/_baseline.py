"""``baseline(task)``: the honest baseline estimator for a task."""

from __future__ import annotations

import inspect
from typing import Any

from .. import _task
from .._errors import InputError

#: The tasks :func:`baseline` knows: every task of :mod:`mllife._task`, as in
#: :class:`mllife.ProblemSpec`.
TASKS: tuple[str, ...] = _task.TASKS


def _build(cls: type, kw: dict[str, Any], what: str) -> Any:
    allowed = set(inspect.signature(cls).parameters)
    unknown = sorted(set(kw) - allowed)
    if unknown:
        raise InputError(
            f"baseline({what!r}) got unknown keyword(s) {', '.join(unknown)}",
            expected=f"keywords of {cls.__name__}: {', '.join(sorted(allowed)) or 'none'}",
        )
    return cls(**kw)


def baseline(task: str | None = None, *, spec: Any = None, **kw: Any) -> Any:
    """The honest baseline estimator for a task: guess the mean or the mode.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression", "forecast"}, optional
        A task name (case and surrounding spaces ignored), e.g. the ``task`` of
        a report. Required unless ``spec`` gives it.
    spec : ProblemSpec, optional
        Take the task from ``spec.task``; an explicit ``task`` that disagrees
        raises.
    **kw
        Passed to the estimator:

        - ``"binary"`` / ``"multiclass"``: a
          :class:`~sklearn.dummy.DummyClassifier`, ``strategy="prior"`` by
          default (predicts the most frequent class, and the class shares as
          probabilities, so ranking metrics such as ROC-AUC are 0.5).
        - ``"regression"``: a :class:`~sklearn.dummy.DummyRegressor`,
          ``strategy="mean"`` by default (``strategy="median"`` for MAE).
        - ``"forecast"``: :class:`NaiveForecaster` (the last value);
          ``window=`` gives a :class:`MovingAverageForecaster` and ``season=``
          a :class:`SeasonalNaiveForecaster` instead.

    Returns
    -------
    estimator
        An unfitted scikit-learn estimator.

    Raises
    ------
    InputError
        For an unknown task (the valid ones are listed) or keyword.

    Examples
    --------
    >>> baseline("binary")
    DummyClassifier()
    >>> baseline("regression", strategy="median")
    DummyRegressor(strategy='median')
    >>> baseline("forecast", season=12)
    SeasonalNaiveForecaster(season=12)
    >>> from mllife import ProblemSpec
    >>> baseline(spec=ProblemSpec("churned", "binary"))
    DummyClassifier()
    """
    from sklearn.dummy import DummyClassifier, DummyRegressor

    from .._spec import resolve_spec

    if spec is not None and isinstance(task, str) and isinstance(getattr(spec, "task", None), str):
        task = task.strip().casefold()  # compare spellings, not case
    task = resolve_spec(spec, where="baseline", task=task)["task"]
    if task is None:
        raise InputError("baseline() needs a task", expected="task= or spec= (a ProblemSpec)")

    name = task.strip().casefold() if isinstance(task, str) else None
    if name not in TASKS:
        raise InputError(f"unknown task {task!r}", expected=f"one of {', '.join(TASKS)}")
    task = _task.check_task(name)
    if task in _task.CLASSIFICATION:
        return _build(DummyClassifier, {"strategy": "prior", **kw}, task)
    if task == "regression":
        return _build(DummyRegressor, {"strategy": "mean", **kw}, task)
    if task == "forecast":
        from ._forecast import MovingAverageForecaster, NaiveForecaster, SeasonalNaiveForecaster

        if "window" in kw and "season" in kw:
            raise InputError(
                "baseline('forecast') got both window= and season=",
                expected="window= (moving average) or season= (seasonal naive), not both",
            )
        if "window" in kw:
            return _build(MovingAverageForecaster, kw, task)
        if "season" in kw:
            return _build(SeasonalNaiveForecaster, kw, task)
        return _build(NaiveForecaster, kw, task)
    raise AssertionError(f"task {task!r} has no baseline")  # pragma: no cover - TASKS is covered
