"""``mllife.check_leakage`` next to a pandas merge, on 1,000,000 train x 200,000 test rows.

Run: ``python benchmarks/split.py [--rows N]`` (``N`` train rows, ``N / 5`` test
rows). The tables have 20 columns: 9 numeric, 3 integer, 4 low-cardinality
text, a customer id (the group key), a timestamp, a 10%-missing numeric column
and a binary target; the test set holds 2% exact and 1% near twins of train rows.

The baseline is the plain way to find exact duplicates across sets:
``test.merge(train, on=<all feature columns>)``. ``check_leakage`` additionally
finds near duplicates, group overlap, temporal overlap with a label horizon,
single-feature target proxies and missingness leaks. Prints both times, their
ratio and the peak memory each allocates (tracemalloc, a second run).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import pandas as pd


def make_tables(n_train: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    rng = np.random.default_rng(seed)
    n_test = n_train // 5
    n = n_train + n_test
    cols: dict[str, object] = {}
    for i in range(9):
        cols[f"num_{i}"] = np.round(rng.normal(50, 10, n), 3)
    for i in range(3):
        cols[f"int_{i}"] = rng.integers(0, 1000, n)
    words = np.array([f"Level {j}" for j in range(30)], dtype=object)
    for i in range(4):
        cols[f"cat_{i}"] = words[rng.integers(0, 5 + 6 * i, n)]
    cols["customer_id"] = pd.Series(rng.integers(0, n // 4, n)).map("C{:08d}".format).to_numpy(
        dtype=object)
    cols["event_at"] = np.datetime64("2023-01-01") + np.sort(
        rng.integers(0, 730 * 24, n)).astype("timedelta64[h]")
    spend = rng.lognormal(3, 1, n)
    spend[rng.random(n) < 0.1] = np.nan
    cols["spend"] = spend
    cols["churned"] = (rng.random(n) < 0.2).astype(np.int64)
    frame = pd.DataFrame(cols)
    for name in ("customer_id", *(f"cat_{i}" for i in range(4))):
        frame[name] = frame[name].astype("str") if pd.__version__ >= "3" else frame[name]
    train = frame.iloc[:n_train].reset_index(drop=True)
    test = frame.iloc[n_train:].reset_index(drop=True)
    # Plant 2% exact and 1% near (case/spacing, rounding) twins of train rows in test.
    exact = rng.choice(n_train, n_test // 50, replace=False)
    near = rng.choice(n_train, n_test // 100, replace=False)
    twins = train.iloc[np.concatenate([exact, near])].copy()
    k = len(exact)
    twins.iloc[k:, twins.columns.get_loc("cat_0")] = twins["cat_0"].iloc[k:].str.upper() + " "
    twins.iloc[k:, twins.columns.get_loc("num_0")] = twins["num_0"].iloc[k:] + 1e-7
    test = pd.concat([test.iloc[len(twins):], twins], ignore_index=True)
    features = [c for c in frame.columns if c != "churned"]
    return train, test, features


def run_mllife(train: pd.DataFrame, test: pd.DataFrame, features: list[str]) -> object:
    import mllife

    return mllife.check_leakage(train, test, target="churned", time_col="event_at",
                                group_col="customer_id", horizon="1D")


def run_baseline(train: pd.DataFrame, test: pd.DataFrame, features: list[str]) -> object:
    return test[features].merge(train[features], on=features, how="inner")


def timed(fn: Callable[..., object], *args: object) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - start, out


def peak_mib(fn: Callable[..., object], *args: object) -> float:
    tracemalloc.start()
    fn(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="train rows (test: rows/5)")
    parser.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    args = parser.parse_args()
    train, test, features = make_tables(args.rows)
    print(f"train {train.shape[0]:,} x {train.shape[1]}, test {test.shape[0]:,} x "
          f"{test.shape[1]} (pandas {pd.__version__})")
    run_mllife(train.iloc[:2000], test.iloc[:500], features)  # warm imports
    t_base, merged = timed(run_baseline, train, test, features)
    t_ours, report = timed(run_mllife, train, test, features)
    print(f"pandas merge on {len(features)} columns: {t_base:8.2f} s  "
          f"({len(merged):,} matching rows)")
    print(f"mllife.check_leakage:          {t_ours:8.2f} s  ({report!r})")
    for f in report.findings:  # type: ignore[attr-defined]
        print(f"    {f.severity:>7}  {f.check:<28} {f.n_rows} rows  {f.column or ''}")
    print(f"ratio check_leakage / merge:   {t_ours / t_base:8.2f}x  (target: <= 3x)")
    if not args.no_memory:
        base_mem = peak_mib(run_baseline, train, test, features)
        ours_mem = peak_mib(run_mllife, train, test, features)
        frame_mib = (train.memory_usage(deep=True).sum() + test.memory_usage(deep=True).sum()
                     ) / 2**20
        print(f"peak memory allocated: merge {base_mem:,.0f} MiB, check_leakage "
              f"{ours_mem:,.0f} MiB (data: {frame_mib:,.0f} MiB)")


if __name__ == "__main__":
    main()
