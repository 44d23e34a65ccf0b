"""Benchmark: ``Monitor.observe`` + ``report`` vs the bare drift work per window.

A daily stream of ``--windows`` windows (default 100) x ``--rows`` rows (default
10,000) x 25 input columns (20 numeric + 5 categorical with 20 levels), each batch
carrying the model's outputs (``prediction``, ``proba_0``, ``proba_1``), so no model
scoring is timed. Times, in the same run, on the same batches:

(a) the bare cost: per window ``DriftProfile.fit`` of the batch (inputs and outputs,
    what a window keeps to be mergeable) + ``reference_profile.compare(batch)``;
(b) ``Monitor.observe(batch)`` for every window, then one ``Monitor.report()``.

Prints both, the ratio (b)/(a) (target <= 1.5x) and rows per second. Then one traced
run (tracemalloc, numpy buffers included; separate from the timed runs) prints the
memory retained by the monitor and the peak after 25, 50 and 100 windows: the state is
the windows' profiles and sums, not their rows, so it grows by a fixed number of KB per
window whatever ``--rows`` is. Batches are generated on the fly from a per-window seed
(outside the timers) and released after use.

    python benchmarks/monitor.py [--windows 100] [--rows 10000] [--repeat 1] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from typing import Any

import numpy as np
import pandas as pd

N_NUMERIC, N_CATEGORICAL, N_LEVELS = 20, 5, 20
START = pd.Timestamp("2025-01-01", tz="UTC")
LEVELS = np.array([f"level_{i:02d}" for i in range(N_LEVELS)], dtype=object)
INPUTS = [f"num_{i:02d}" for i in range(N_NUMERIC)] + [f"cat_{i}" for i in range(N_CATEGORICAL)]
OUTPUTS = ["prediction", "proba_0", "proba_1"]


def make_inputs(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {f"num_{i:02d}": rng.normal(0.0, 1.0, n) for i in range(N_NUMERIC)}
    for i in range(N_CATEGORICAL):
        data[f"cat_{i}"] = pd.Series(rng.choice(LEVELS, n), dtype="category")
    return pd.DataFrame(data)


def labels(frame: pd.DataFrame, seed: int) -> np.ndarray:
    logit = frame["num_00"].to_numpy() + 0.5 * frame["num_01"].to_numpy() - 1.0
    return (np.random.default_rng(seed).random(len(frame)) < 1 / (1 + np.exp(-logit))).astype(np.int64)


def fit_bundle(reference: pd.DataFrame, y: np.ndarray) -> Any:
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from mllife.bundle import InputSchema, ModelBundle
    from mllife.drift import DriftProfile

    cats = [c for c in INPUTS if c.startswith("cat")]
    pre = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), cats), remainder="passthrough")
    model = make_pipeline(pre, LogisticRegression(max_iter=1_000)).fit(reference[INPUTS], y)
    return ModelBundle(model, InputSchema.infer(reference[INPUTS]), version="1.0.0",
                       drift_profile=DriftProfile.fit(reference[INPUTS]))


def with_outputs(model: Any, frame: pd.DataFrame) -> pd.DataFrame:
    proba = model.predict_proba(frame[INPUTS])
    return frame.assign(prediction=model.classes_[proba.argmax(axis=1)], proba_0=proba[:, 0], proba_1=proba[:, 1])


def make_batch(model: Any, window: int, rows: int) -> pd.DataFrame:
    """Window ``window``'s batch: inputs, ``id``, ``ts`` inside the window's day, outputs."""
    frame = make_inputs(rows, seed=10_000 + window)
    seconds = np.sort(np.random.default_rng(window).uniform(0, 86_400, rows))
    frame.insert(0, "ts", START + pd.to_timedelta(window * 86_400 + seconds, unit="s"))
    frame.insert(0, "id", np.arange(window * rows, (window + 1) * rows))
    return with_outputs(model, frame)


def run_baseline(model: Any, reference_profile: Any, windows: int, rows: int) -> float:
    from mllife.drift import DriftProfile

    spent = 0.0
    for w in range(windows):
        batch = make_batch(model, w, rows)
        start = time.perf_counter()
        DriftProfile.fit(batch[INPUTS + OUTPUTS])
        reference_profile.compare(batch[INPUTS + OUTPUTS])
        spent += time.perf_counter() - start
    return spent


def new_monitor(bundle: Any, reference: pd.DataFrame, *, id_col: str | None = "id") -> Any:
    from mllife.monitor import Monitor

    return Monitor(bundle, reference=reference, time_col="ts", window="1D", id_col=id_col, label_col="y")


def run_monitor(bundle: Any, reference: pd.DataFrame, windows: int, rows: int) -> tuple[float, Any]:
    monitor = new_monitor(bundle, reference)
    spent = 0.0
    for w in range(windows):
        batch = make_batch(bundle.model, w, rows)
        start = time.perf_counter()
        monitor.observe(batch)
        spent += time.perf_counter() - start
    start = time.perf_counter()
    report = monitor.report()
    spent += time.perf_counter() - start
    return spent, report


def traced_state(bundle: Any, reference: pd.DataFrame, checkpoints: list[int], rows: int) -> list[tuple[int, float, float]]:
    """(windows, retained MB, peak MB) of one traced run, the batches freed after each window.

    Without ``id_col``: with it, every row still waiting for its label keeps its id hash,
    window and outputs (8 + 8 x classes bytes) until ``observe_labels``, which is rows, by
    design, and printed separately.
    """
    out = []
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    monitor = new_monitor(bundle, reference, id_col=None)
    for w in range(max(checkpoints)):
        batch = make_batch(bundle.model, w, rows)
        monitor.observe(batch)
        del batch
        if w + 1 in checkpoints:
            gc.collect()
            current, peak = tracemalloc.get_traced_memory()
            out.append((w + 1, (current - base) / 1e6, (peak - base) / 1e6))
    tracemalloc.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=100)
    parser.add_argument("--rows", type=int, default=10_000, help="rows per window")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved repeats; the best time is kept")
    parser.add_argument("--no-memory", action="store_true", help="skip the traced run")
    parser.add_argument("--quick", action="store_true", help="smoke run: 8 windows x 2,000 rows")
    args = parser.parse_args()
    windows, rows = (8, 2_000) if args.quick else (args.windows, args.rows)

    from mllife.drift import DriftProfile

    # The model learns on rows of its own; the monitor's labelled reference is another sample.
    train, reference = make_inputs(rows, seed=3), make_inputs(rows, seed=1)
    bundle = fit_bundle(train, labels(train, seed=4))
    reference = with_outputs(bundle.model, reference).assign(y=labels(reference, seed=2))
    reference_profile = DriftProfile.fit(reference[INPUTS + OUTPUTS])
    total = windows * rows
    print(f"{windows} windows x {rows:,} rows x {len(INPUTS)} input columns + {len(OUTPUTS)} output columns "
          f"({total:,} rows); reference {len(reference):,} rows")

    t_base = t_mon = float("inf")
    report = None
    for _ in range(args.repeat):
        t_base = min(t_base, run_baseline(bundle.model, reference_profile, windows, rows))
        spent, report = run_monitor(bundle, reference, windows, rows)
        t_mon = min(t_mon, spent)
    assert report is not None
    ratio = t_mon / t_base
    print(f"(a) DriftProfile.fit + compare per window : {t_base:8.2f} s   {total / t_base:12,.0f} rows/s")
    print(f"(b) Monitor.observe + report              : {t_mon:8.2f} s   {total / t_mon:12,.0f} rows/s"
          f"   ratio (b)/(a) = {ratio:4.2f}x (target <= 1.5x)")
    alarms = report.signals[report.signals["alarm"].astype(bool)]
    print(f"windows reported: {len(report.windows)}; alarms: {len(alarms)} "
          f"({', '.join(f'{k}: {v}' for k, v in alarms['signal'].value_counts().items()) or 'none'}); "
          f"stated false alarms per 100 windows: {report.settings['expected_false_alarms_per_100']}")

    if not args.no_memory:
        checkpoints = sorted({max(1, windows // 4), max(1, windows // 2), windows})
        rows_state = traced_state(bundle, reference, checkpoints, rows)
        for n, retained, peak in rows_state:
            print(f"after {n:4d} windows: monitor state {retained:8.2f} MB ({retained * 1e3 / n:7.1f} KB/window), "
                  f"peak {peak:8.2f} MB")
        if len(rows_state) > 1:
            (n0, r0, _), (n1, r1, _) = rows_state[0], rows_state[-1]
            print(f"state growth per window: {(r1 - r0) * 1e3 / (n1 - n0):.1f} KB "
                  f"(a batch's rows: {make_batch(bundle.model, 0, rows).memory_usage(deep=True).sum() / 1e3:,.0f} KB)")
        print(f"with id_col, rows waiting for labels add {rows * (8 + 8 * 2) / 1e3:,.0f} KB per window "
              "until observe_labels (id hash + outputs per row)")


if __name__ == "__main__":
    main()
