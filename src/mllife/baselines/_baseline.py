"""``baseline(task)``: the honest baseline estimator for a task."""

from __future__ import annotations

import inspect
from typing import Any

from .._errors import InputError

#: The tasks :func:`baseline` knows, as in :class:`mllife.ProblemSpec`.
TASKS: tuple[str, ...] = ("binary", "multiclass", "regression", "forecast")


def _build(cls: type, kw: dict[str, Any], what: str) -> Any:
    allowed = set(inspect.signature(cls).parameters)
    unknown = sorted(set(kw) - allowed)
    if unknown:
        raise InputError(
            f"baseline({what!r}) got unknown keyword(s) {', '.join(unknown)}",
            expected=f"keywords of {cls.__name__}: {', '.join(sorted(allowed)) or 'none'}",
        )
    return cls(**kw)


def baseline(task: str, **kw: Any) -> Any:
    """The honest baseline estimator for a task: guess the mean or the mode.

    Parameters
    ----------
    task : {"binary", "multiclass", "regression", "forecast"}
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
    """
    from sklearn.dummy import DummyClassifier, DummyRegressor

    if task in ("binary", "multiclass"):
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
    raise InputError(f"unknown task {task!r}", expected=f"one of {', '.join(TASKS)}")
