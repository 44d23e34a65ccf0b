"""Benchmark: ``AggregateFeatures`` against a hand-written pandas merge + filter + groupby.

``--rows`` prediction rows (default 100,000: an entity and a cutoff each) and
``--events`` events (default 5,000,000, about 50 per entity, so 100,000
entities, two years of datetimes), two numeric event columns (``amount``,
float, nearly all distinct; ``quantity``, small integers). Features: 3
windows (7, 30, 90 days) x (``count`` + ``sum``, ``mean``, ``max``, ``min``,
``nunique`` of each column) = 33 columns, events with
``cutoff - window <= time < cutoff``.

In the same run, best of ``--repeat`` interleaved runs of each:

(a) pandas: ``rows.merge(events, on=key)`` (every (row, event) pair of an
    entity), then per window a boolean filter and one
    ``groupby(row).agg(...)``, reindexed to every row (count, sum and
    nunique 0 where no event). The merge holds rows x events-per-entity pairs
    (5,000,000 by default, about 200 MB); past ``--pairs`` pairs (default
    20,000,000) it runs over chunks of prediction rows, and says so.
(b) mllife: ``AggregateFeatures(events, ...).fit_transform(rows)`` (the
    fit sorts the events once; the transform computes every row).

Then: the ratio (b)/(a) (target <= 0.5x); peak traced memory (tracemalloc,
numpy and pandas buffers included; separate runs, so tracing does not
distort the times) of mllife's fit and of its transform, against the event
table's own memory (``memory_usage(deep=True)``; target <= 2x) and the same
for pandas; and that the two agree on every feature of a sample of rows
(counts exactly, floats to a relative 1e-9): the script fails otherwise.

    python benchmarks/aggregates.py                 # 100,000 rows, 5,000,000 events
    python benchmarks/aggregates.py --quick         # 10,000 rows, 500,000 events
    python benchmarks/aggregates.py --rows 50000 --events 1000000
"""

from __future__ import annotations

import argparse
import itertools
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from mllife.features import AggregateFeatures  # imported here: no import inside a timed run

WINDOWS = ("7D", "30D", "90D")
COLUMNS = ("amount", "quantity")
PER_COLUMN = ("sum", "mean", "max", "min", "nunique")
EVENTS_PER_ENTITY = 50
START = pd.Timestamp("2023-01-01")
SPAN_DAYS = 730


def make_data(n_rows: int, n_events: int, n_entities: int | None = None,
              seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Events (``customer_id``, ``event_at``, ``amount``, ``quantity``) and prediction rows."""
    rng = np.random.default_rng(seed)
    n_entities = n_entities or max(1, n_events // EVENTS_PER_ENTITY)
    seconds = rng.integers(0, SPAN_DAYS * 86_400, n_events)
    events = pd.DataFrame({
        "customer_id": rng.integers(0, n_entities, n_events),
        "event_at": START + pd.to_timedelta(seconds, unit="s"),
        "amount": np.round(rng.gamma(2.0, 25.0, n_events), 2),
        "quantity": rng.integers(1, 12, n_events).astype(np.float64),
    })
    cutoffs = rng.integers(90 * 86_400, SPAN_DAYS * 86_400, n_rows)
    rows = pd.DataFrame({
        "customer_id": rng.integers(0, n_entities, n_rows),
        "cutoff_at": START + pd.to_timedelta(cutoffs, unit="s"),
    })
    return events, rows


def pandas_features(events: pd.DataFrame, rows: pd.DataFrame, *, max_pairs: int) -> tuple[
        pd.DataFrame, int]:
    """The same features by merge + filter + groupby; chunks of rows bound the merge."""
    per_entity = events["customer_id"].value_counts()
    pairs_per_row = rows["customer_id"].map(per_entity).fillna(0).to_numpy(dtype=np.int64)
    chunk = np.cumsum(pairs_per_row) // max_pairs  # about max_pairs pairs per chunk
    bounds = [0, *np.flatnonzero(np.diff(chunk)) + 1, len(rows)]
    parts = [_pandas_chunk(events, rows.iloc[lo:hi]) for lo, hi in itertools.pairwise(bounds)
             if hi > lo]
    return pd.concat(parts), len(parts)


def _pandas_chunk(events: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    left = rows[["customer_id", "cutoff_at"]].assign(_row=np.arange(len(rows)))
    pairs = left.merge(events, on="customer_id", how="inner")
    out: dict[str, Any] = {}
    for window in WINDOWS:
        span = pd.Timedelta(window)
        inside = pairs[(pairs["event_at"] >= pairs["cutoff_at"] - span)
                       & (pairs["event_at"] < pairs["cutoff_at"])]
        grouped = inside.groupby("_row")
        stats = grouped[list(COLUMNS)].agg(list(PER_COLUMN))
        out[f"count__{window}"] = grouped.size().reindex(range(len(rows)), fill_value=0)
        for column in COLUMNS:
            for agg in PER_COLUMN:
                values = stats[(column, agg)].reindex(range(len(rows)))
                if agg in ("sum", "nunique"):
                    values = values.fillna(0)
                out[f"{column}__{agg}__{window}"] = values
    frame = pd.DataFrame(out)
    frame.index = rows.index
    return frame


def mllife_features(events: pd.DataFrame, rows: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    """The features, and the seconds ``fit`` took (the transform is the rest)."""
    agg = AggregateFeatures(events, key="customer_id", time_col="event_at",
                            cutoff_col="cutoff_at", windows=WINDOWS,
                            aggregations=("count", *PER_COLUMN), columns=list(COLUMNS),
                            keep_original=False)
    start = time.perf_counter()
    agg.fit(rows)
    fitted = time.perf_counter() - start
    return agg.transform(rows), fitted


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def peak_mb(fn: Callable[[], Any]) -> float:
    """Peak traced memory of one (traced, so slower) run, in MB."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def fit_and_transform_peaks(events: pd.DataFrame, rows: pd.DataFrame) -> tuple[float, float]:
    """Peak traced memory of ``fit`` and of ``transform`` (the fitted state excluded)."""
    agg = AggregateFeatures(events, key="customer_id", time_col="event_at",
                            cutoff_col="cutoff_at", windows=WINDOWS,
                            aggregations=("count", *PER_COLUMN), columns=list(COLUMNS),
                            keep_original=False)
    fit_peak = peak_mb(lambda: agg.fit(rows))
    return fit_peak, peak_mb(lambda: agg.transform(rows))


def check_equal(ours: pd.DataFrame, theirs: pd.DataFrame, sample: np.ndarray) -> None:
    assert sorted(ours.columns) == sorted(theirs.columns), (sorted(ours.columns),
                                                            sorted(theirs.columns))
    a, b = ours.iloc[sample], theirs.iloc[sample][ours.columns]
    for column in ours.columns:
        x = a[column].to_numpy(dtype=np.float64)
        y = b[column].to_numpy(dtype=np.float64)
        if column.startswith("count__") or "__nunique__" in column:
            assert np.array_equal(x, y), column
        else:
            assert np.allclose(x, y, rtol=1e-9, atol=0, equal_nan=True), column


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--entities", type=int, default=None,
                        help=f"entities (default: events / {EVENTS_PER_ENTITY})")
    parser.add_argument("--quick", action="store_true", help="10,000 rows and 500,000 events")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved repeats; best kept")
    parser.add_argument("--pairs", type=int, default=20_000_000,
                        help="most (row, event) pairs pandas merges at once")
    parser.add_argument("--no-memory", action="store_true", help="skip the traced runs")
    args = parser.parse_args()
    n_rows, n_events = (10_000, 500_000) if args.quick else (args.rows, args.events)

    events, rows = make_data(n_rows, n_events, args.entities)
    event_mb = events.memory_usage(deep=True).sum() / 1e6
    print(f"events: {len(events):,} rows ({events['customer_id'].nunique():,} entities, "
          f"{event_mb:.0f} MB); prediction rows: {len(rows):,}; "
          f"{len(WINDOWS)} windows x ({len(PER_COLUMN)} aggregations x {len(COLUMNS)} columns "
          "+ count)")

    best = {"pandas": float("inf"), "mllife": float("inf"), "fit": float("inf")}
    for _ in range(args.repeat):
        (theirs, chunks), t = timed(lambda: pandas_features(events, rows, max_pairs=args.pairs))
        best["pandas"] = min(best["pandas"], t)
        (ours, t_fit), t = timed(lambda: mllife_features(events, rows))
        if t < best["mllife"]:
            best["mllife"], best["fit"] = t, t_fit
    sample = np.random.default_rng(1).choice(len(rows), min(len(rows), 5_000), replace=False)
    check_equal(ours, theirs, sample)
    merged = "one merge" if chunks == 1 else f"{chunks} chunks of rows (--pairs {args.pairs:,})"
    n_pairs = int(rows["customer_id"].map(events["customer_id"].value_counts()).fillna(0).sum())
    print(f"(a) pandas merge + filter + groupby ({n_pairs:,} pairs, {merged}): "
          f"{best['pandas']:8.2f} s")
    print(f"(b) AggregateFeatures fit + transform: {best['mllife']:8.2f} s "
          f"(fit {best['fit']:.2f} s, transform {best['mllife'] - best['fit']:.2f} s)   "
          f"ratio (b)/(a) = {best['mllife'] / best['pandas']:.2f}x (target <= 0.5x)")
    print(f"output: {ours.shape[1]} features; equal to pandas on {len(sample):,} sampled rows "
          "(counts exactly, floats to 1e-9)")
    if not args.no_memory:
        fit_peak, transform_peak = fit_and_transform_peaks(events, rows)
        pandas_peak = peak_mb(lambda: pandas_features(events, rows, max_pairs=args.pairs))
        print(f"peak traced memory: fit {fit_peak:.0f} MB ({fit_peak / event_mb:.2f}x the events), "
              f"transform {transform_peak:.0f} MB ({transform_peak / event_mb:.2f}x; target <= 2x); "
              f"pandas {pandas_peak:.0f} MB ({pandas_peak / event_mb:.2f}x)")


if __name__ == "__main__":
    main()
