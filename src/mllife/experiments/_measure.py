"""Cheap, bounded measurements of a fitted model: predict latency and serialized size."""

from __future__ import annotations

import pickle
import statistics
import time
from typing import Any

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


def serialized_size(estimator: Any) -> int:
    """Bytes of the fitted estimator pickled with the highest protocol."""
    return len(pickle.dumps(estimator, protocol=pickle.HIGHEST_PROTOCOL))
