"""``mllife.audit`` next to a plain pandas baseline on a 1,000,000 x 30 table.

Run: ``python benchmarks/audit.py [--rows N]``. The table mixes numeric,
categorical-string and date-string columns, with nulls and 2% duplicate rows.
The baseline is what a careful person types first: ``isna().sum()``,
``duplicated().sum()``, ``nunique()``, ``describe(include="all")`` and
``value_counts()`` of every text column. Prints both times, their ratio and the
peak memory each allocates on top of the frame (tracemalloc, a second run).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import pandas as pd


def make_table(n_rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_rows - round(0.02 * n_rows)
    cols: dict[str, object] = {}
    for i in range(12):
        x = rng.lognormal(3, 0.5, n) if i % 2 else rng.normal(50, 10, n)
        x[rng.random(n) < 0.05] = np.nan
        cols[f"num_{i}"] = np.round(x, 2)
    for i in range(3):
        cols[f"int_{i}"] = rng.integers(0, 100, n)
    words = np.array([f"cat_{j}" for j in range(40)], dtype=object)
    for i in range(10):
        values = words[: 5 + 3 * i][rng.integers(0, 5 + 3 * i, n)].copy()
        values[rng.random(n) < 0.03] = None
        cols[f"cat_{i}"] = values
    start = np.datetime64("2020-01-01")
    for i in range(3):
        days = start + rng.integers(0, 1500, n).astype("timedelta64[D]")
        cols[f"date_{i}"] = pd.Series(days).dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    cols["flag"] = rng.random(n) < 0.3
    cols["target"] = rng.integers(0, 2, n)
    frame = pd.DataFrame(cols)
    dups = frame.iloc[rng.choice(n, n_rows - n, replace=False)]
    frame = pd.concat([frame, dups], ignore_index=True)
    for name in [c for c in frame.columns if c.startswith(("cat_", "date_"))]:
        frame[name] = frame[name].astype("str") if pd.__version__ >= "3" else frame[name]
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def baseline(df: pd.DataFrame) -> None:
    df.isna().sum()
    df.duplicated().sum()
    df.nunique()
    df.describe(include="all")
    for name in df.columns:
        if not pd.api.types.is_numeric_dtype(df[name]) and not pd.api.types.is_bool_dtype(df[name]):
            df[name].value_counts()


def run_audit(df: pd.DataFrame) -> None:
    import mllife

    mllife.audit(df, target="target")


def timed(fn: Callable[[pd.DataFrame], None], df: pd.DataFrame) -> float:
    start = time.perf_counter()
    fn(df)
    return time.perf_counter() - start


def peak(fn: Callable[[pd.DataFrame], None], df: pd.DataFrame) -> int:
    tracemalloc.start()
    fn(df)
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    df = make_table(args.rows)
    frame_bytes = int(df.memory_usage(deep=True).sum())
    import mllife.audit  # noqa: F401  (import time is not audit time)

    t_base = timed(baseline, df)
    t_audit = timed(run_audit, df)
    m_base = peak(baseline, df)
    m_audit = peak(run_audit, df)
    print(f"table                : {df.shape[0]:,} rows x {df.shape[1]} columns, {frame_bytes / 2**20:,.0f} MiB")
    print(f"pandas baseline      : {t_base:7.2f} s   peak +{m_base / 2**20:,.0f} MiB")
    print(f"mllife.audit         : {t_audit:7.2f} s   peak +{m_audit / 2**20:,.0f} MiB")
    print(f"ratio audit/baseline : {t_audit / t_base:7.2f}x time, "
          f"{m_audit / frame_bytes:.2f}x the frame's memory on top of it")


if __name__ == "__main__":
    main()
