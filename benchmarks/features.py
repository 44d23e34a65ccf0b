"""Benchmark: ``make_preprocessor(X).fit_transform(X)`` against a hand-built ColumnTransformer.

The hand-built one names every column and step itself (the same steps the plan
chooses), so the ratio is the cost of the automatic kind detection and input
checks. Target: at most 1.2x.

    python benchmarks/features.py            # 1,000,000 rows x 30 columns
    python benchmarks/features.py --rows 100000
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mllife.features import DateTimeFeatures, RareCategoryGrouper, make_preprocessor
from mllife.features._casts import AsFloat, AsText
from mllife.features._preprocessor import DATE_FEATURES, DATETIME_FEATURES


def make_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """30 mixed columns: 16 numeric, 4 low- and 2 high-cardinality text, 2 flags,
    2 timestamps, 1 date, 1 ID, 1 constant, 1 empty."""
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    for i in range(14):
        v = rng.normal(size=n)
        v[rng.random(n) < 0.05] = np.nan
        cols[f"num{i}"] = v
    cols["count0"] = rng.integers(0, 20, n)
    cols["count1"] = rng.integers(0, 1000, n)
    for i in range(4):
        cols[f"cat{i}"] = rng.choice([f"level{j}" for j in range(3 + 3 * i)], n)
    for i in range(2):
        cols[f"high{i}"] = pd.Series(rng.integers(0, 2_000, n)).map("code{}".format)
    cols["flag0"] = rng.random(n) < 0.3
    cols["flag1"] = rng.random(n) < 0.7
    base = pd.Timestamp("2023-01-01")
    cols["ts0"] = base + pd.to_timedelta(rng.integers(0, 365 * 86400, n), unit="s")
    cols["ts1"] = base + pd.to_timedelta(rng.integers(0, 700 * 86400, n), unit="s")
    cols["day0"] = base + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    cols["row_id"] = np.arange(n)
    cols["const"] = 1.0
    cols["empty"] = np.full(n, np.nan)
    return pd.DataFrame(cols)


def hand_built(X: pd.DataFrame) -> ColumnTransformer:
    """The same steps, with every column listed by hand."""
    numeric = [c for c in X.columns if c.startswith(("num", "count"))]

    def num() -> Pipeline:
        return Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True,
                                                  keep_empty_features=True)),
                         ("scale", StandardScaler())])

    def dates(features: tuple[str, ...]) -> Pipeline:
        return Pipeline([("calendar", DateTimeFeatures(features=features)),
                         ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                         ("scale", StandardScaler())])

    as_text = ("as_text", AsText())
    ct = ColumnTransformer([
        ("numeric", num(), numeric),
        ("boolean", Pipeline([("as_float", AsFloat()),
                              ("impute", SimpleImputer(strategy="most_frequent", keep_empty_features=True))]),
         ["flag0", "flag1"]),
        ("datetime", dates(DATETIME_FEATURES), ["ts0", "ts1"]),
        ("date", dates(DATE_FEATURES), ["day0"]),
        ("categorical", Pipeline([as_text, ("onehot", OneHotEncoder(
            handle_unknown="infrequent_if_exist", min_frequency=0.01, sparse_output=False))]),
         [f"cat{i}" for i in range(4)]),
        ("high_cardinality", Pipeline([as_text, ("group", RareCategoryGrouper(0.01, max_categories=30)),
                                       ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False))]),
         ["high0", "high1"]),
    ], remainder="drop", sparse_threshold=0.0, verbose_feature_names_out=False)
    return ct.set_output(transform="pandas")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the best is kept")
    args = parser.parse_args()
    X = make_frame(args.rows)
    print(f"data: {X.shape[0]:,} rows x {X.shape[1]} columns")
    times: dict[str, list[float]] = {"mllife": [], "sklearn": []}
    shapes = {}
    for _ in range(args.repeat):
        for name in ("sklearn", "mllife"):
            start = time.perf_counter()
            est = make_preprocessor(X) if name == "mllife" else hand_built(X)
            out = est.fit_transform(X)
            times[name].append(time.perf_counter() - start)
            shapes[name] = out.shape
            del out
    start = time.perf_counter()
    pre = make_preprocessor(X)
    detect = time.perf_counter() - start
    assert shapes["mllife"] == shapes["sklearn"], shapes
    assert list(pre.plan_.query("action.str.startswith('dropped')", engine="python")["column"]) == [
        "row_id", "const", "empty"], pre.plan_
    ours, theirs = min(times["mllife"]), min(times["sklearn"])
    print(f"output: {shapes['mllife'][1]} features")
    print(f"make_preprocessor(X).fit_transform(X): {ours:8.2f} s  (kind detection {detect:.2f} s)")
    print(f"hand-built ColumnTransformer:          {theirs:8.2f} s")
    print(f"ratio: {ours / theirs:.2f}x (target <= 1.2x)")
    one_row_latency(X.iloc[: min(len(X), 20_000)])


def one_row_latency(X: pd.DataFrame, rounds: int = 15, calls: int = 10) -> None:
    """``transform`` of one row, as a service calls it (best of ``rounds``)."""
    fitted = {"mllife": make_preprocessor(X).fit(X), "sklearn": hand_built(X).fit(X)}
    row = X.iloc[[len(X) // 2]]
    best = {name: float("inf") for name in fitted}
    for _ in range(rounds):
        for name, est in fitted.items():
            start = time.perf_counter()
            for _ in range(calls):
                est.transform(row)
            best[name] = min(best[name], (time.perf_counter() - start) / calls)
    print(f"one-row transform: mllife {best['mllife'] * 1e3:.1f} ms, "
          f"hand-built {best['sklearn'] * 1e3:.1f} ms, ratio {best['mllife'] / best['sklearn']:.2f}x")


if __name__ == "__main__":
    main()
