"""Cheap, bounded measurements of a model: predict latency, serialized size, forecast kind."""

from __future__ import annotations

import pickle
import statistics
import time
from collections.abc import Mapping
from typing import Any

import pandas as pd

#: At most this many rows in a batch latency call.
BATCH_ROWS = 1_000
#: Single-row calls: at least MIN_CALLS, at most MAX_CALLS, stopping after BUDGET seconds.
MIN_CALLS, MAX_CALLS, BUDGET = 3, 15, 0.05
#: Batch calls: at most this many.
BATCH_CALLS = 3


def _rows(X: Any, stop: int) -> Any:
    return X.iloc[:stop] if hasattr(X, "iloc") else X[:stop]


def _median_seconds(fn: Any, arg: Any, min_calls: int, max_calls: int) -> float:
    """Median seconds of ``fn(arg)``: min_calls to max_calls calls, within the budget."""
    times: list[float] = []
    spent = 0.0
    while len(times) < max_calls and (len(times) < min_calls or spent < BUDGET):
        start = time.perf_counter()
        fn(arg)
        elapsed = time.perf_counter() - start
        times.append(elapsed)
        spent += elapsed
    return statistics.median(times)


def latency(estimator: Any, X: Any) -> tuple[float, float]:
    """Median ``predict`` seconds of a one-row call, and per row of a batch call.

    The one-row call is repeated 3 to 15 times (until 0.05 s are spent), the
    batch call (up to 1,000 rows of ``X``) 1 to 3 times (until 0.05 s are
    spent); each figure is the median of its calls.
    """
    n = len(X)
    single = _median_seconds(estimator.predict, _rows(X, 1), MIN_CALLS, MAX_CALLS)
    batch_rows = min(n, BATCH_ROWS)
    batch = _median_seconds(estimator.predict, _rows(X, batch_rows), 1, BATCH_CALLS) / batch_rows
    return single, batch


def serialized_size(estimator: Any) -> tuple[int | None, str]:
    """Bytes of the fitted estimator pickled with the highest protocol, or ``None`` and why.

    A model holding a lambda or a local function cannot be pickled (nor
    bundled): its size is unknown, which is reported, not raised.
    """
    try:
        return len(pickle.dumps(estimator, protocol=pickle.HIGHEST_PROTOCOL)), ""
    except Exception as exc:  # PicklingError, AttributeError ("Can't pickle local object"), ...
        return None, f"{type(exc).__name__}: {exc}"


def _final_step(model: Any) -> Any:
    steps = getattr(model, "steps", None)
    while steps:
        model = steps[-1][1]
        steps = getattr(model, "steps", None)
    return model


def forecast_kinds(models: Mapping[str, Any], fold_scores: pd.DataFrame) -> dict[str, str]:
    """How each model forecasts, when one of them is an mllife forecasting baseline.

    A forecaster (:class:`~mllife.baselines.NaiveForecaster` and its kin)
    predicts a validation fold as one multi-step path from the end of its
    training window: row ``h`` is a forecast ``h`` steps ahead, so its score
    averages horizons 1 to the fold's length. Any other model predicts each
    row from that row's features. Empty when no model is a forecaster.
    """
    from ..baselines._forecast import (
        MovingAverageForecaster,
        NaiveForecaster,
        SeasonalNaiveForecaster,
        _Forecaster,
    )

    finals = {name: _final_step(model) for name, model in models.items()}
    if not any(isinstance(m, _Forecaster) for m in finals.values()):
        return {}
    longest = int(fold_scores["n_test"].max()) if len(fold_scores) else 0
    horizon = f"horizons 1–{longest}" if longest > 1 else "horizon 1"
    out = {}
    for name, model in finals.items():
        if isinstance(model, NaiveForecaster | MovingAverageForecaster):
            out[name] = f"multi-step (flat), {horizon}"
        elif isinstance(model, SeasonalNaiveForecaster):
            out[name] = f"multi-step (seasonal repeat), {horizon}"
        elif isinstance(model, _Forecaster):
            out[name] = f"multi-step, {horizon}"
        else:
            out[name] = "one-step (each row from its features)"
    return out
