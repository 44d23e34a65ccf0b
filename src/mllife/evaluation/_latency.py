"""Prediction latency (one row, a 1,000-row batch) and serialized model size.

Timings are the one part of an evaluation that is not reproducible bit for bit, which is
why ``evaluate(measure=False)`` skips this module altogether.
"""

from __future__ import annotations

import pickle
import time
from typing import Any

import numpy as np
import pandas as pd

from .._random import as_generator

#: Timed single-row calls (after warm-up), and the wall-clock cap on them.
SINGLE_CALLS = 50
SINGLE_BUDGET = 1.0
BATCH_ROWS = 1_000
BATCH_CALLS = 5
BATCH_BUDGET = 1.0


def model_bytes(model: Any) -> tuple[int | None, str]:
    """Length of ``pickle.dumps(model)`` (protocol 5), or ``None`` and why it cannot be pickled."""
    try:
        return len(pickle.dumps(model, protocol=5)), ""
    except Exception as exc:  # a lambda, a local function, an open file...
        return None, f"{type(exc).__name__}: {exc}"


def _timed(fn: Any, frames: list[Any], budget: float) -> np.ndarray:
    out = []
    spent = 0.0
    for frame in frames:
        t = time.perf_counter()
        fn(frame)
        d = time.perf_counter() - t
        out.append(d)
        spent += d
        if spent > budget:
            break
    return np.asarray(out) * 1000.0


def latency(model: Any, X: pd.DataFrame, *, random_state: Any = None) -> dict[str, float | int | None]:
    """p50/p95 milliseconds of ``predict`` on one row and on a 1,000-row batch.

    Rows are drawn from ``X`` with ``random_state`` (``None`` is seed 0); two
    warm-up calls are not timed. The number of timed calls is capped by a
    wall-clock budget so a slow model cannot stall the evaluation.
    """
    n = len(X)
    if n == 0:
        return {"latency_p50_ms": None, "latency_p95_ms": None, "batch_p50_ms": None,
                "batch_p95_ms": None, "batch_rows": 0, "single_calls": 0, "batch_calls": 0}
    from ._inputs import feed

    data = feed(model, X)

    def rows(lo: int, hi: int) -> Any:
        return data[lo:hi] if isinstance(data, np.ndarray) else data.iloc[lo:hi]

    rng = as_generator(random_state)
    picks = rng.integers(0, n, SINGLE_CALLS + 2)
    singles = [rows(int(i), int(i) + 1) for i in picks]
    predict = model.predict
    for frame in singles[:2]:
        predict(frame)
    single = _timed(predict, singles[2:], SINGLE_BUDGET)
    size = min(BATCH_ROWS, n)
    starts = rng.integers(0, n - size + 1, BATCH_CALLS)
    batches = [rows(int(s), int(s) + size) for s in starts]
    batch = _timed(predict, batches, BATCH_BUDGET)
    return {
        "latency_p50_ms": float(np.percentile(single, 50)),
        "latency_p95_ms": float(np.percentile(single, 95)),
        "batch_p50_ms": float(np.percentile(batch, 50)),
        "batch_p95_ms": float(np.percentile(batch, 95)),
        "batch_rows": int(size), "single_calls": len(single), "batch_calls": len(batch),
    }
