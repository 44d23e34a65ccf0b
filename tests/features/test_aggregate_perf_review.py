"""Review of the AggregateFeatures performance changes (split permutation, last occurrences,
branchless search, narrowed windows, threads): guards for what held up under attack.

No defect was confirmed; these pin the properties that were checked against brute force,
so a later optimisation cannot quietly break them.
"""

from __future__ import annotations

import copy
import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mllife.features import AggregateFeatures
from mllife.features import _aggregate_kernels as kernels
from mllife.features._aggregate_engine import _last_in_segment

from .test_aggregate import ENGINES, _compare, _engine, _oracle


def _bucketed_case(seed: int, n: int = 1_200) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nanosecond times over ~26 days and 300 keys: the fit sorts in buckets (SplitOrder)."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-03-01")
    events = pd.DataFrame({
        "k": rng.integers(0, 300, n).astype(float),
        "t": start + pd.to_timedelta(rng.integers(-2**50, 2**50, n), unit="ns"),
        "amount": rng.choice([1.0, -2.5, 0.0, 1e16, -1e16, np.nan], n),
        "units": rng.integers(0, 4, n).astype(float),
        "channel": rng.choice(np.array(["app", "web", None], dtype=object), n),
    })
    events.loc[rng.choice(n, 20, replace=False), "k"] = np.nan
    X = pd.DataFrame({"k": rng.integers(0, 300, 120).astype(float),
                      "cut": start + pd.to_timedelta(rng.integers(-2**49, 2**50, 120), unit="ns")})
    return events, X


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_windows_out_of_order_with_gap_levels_and_threads_match_the_oracle(engine, monkeypatch):
    """Windows given out of order (narrowed searches), "all", a gap, ``by`` levels, the
    bucketed sort and threads forced on: the brute force, exactly as without threads."""
    events, X = _bucketed_case(30)
    windows, gap = ["1D", "all", "9D", "5D"], "2h"
    aggs = ["count", "sum", "mean", "max", "min", "nunique", "time_since_last"]
    params: dict[str, Any] = {"key": "k", "time_col": "t", "cutoff_col": "cut", "windows": windows,
              "aggregations": aggs, "columns": ["amount", "units"], "by": "channel", "gap": gap,
              "keep_original": False}

    def features():
        agg = AggregateFeatures(events, **params)
        with warnings.catch_warnings(), _engine(engine):
            warnings.simplefilter("ignore")  # the events without a key are announced
            return agg.fit_transform(X), agg

    alone, _ = features()
    monkeypatch.setattr(kernels, "THREADS_FROM", 0)
    monkeypatch.setattr(kernels, "_cores", lambda: 4)
    threaded, agg = features()
    assert isinstance(agg._index_["order"], kernels.SplitOrder)
    pd.testing.assert_frame_equal(threaded, alone, check_exact=True)
    want = _oracle(events, X, key="k", time_col="t", cutoff_col="cut", windows=windows,
                   aggregations=aggs, columns=["amount", "units"], by="channel",
                   levels=agg.levels_, gap=gap, numeric=False)
    _compare(threaded, want)


def test_a_fitted_split_order_survives_pickle_deepcopy_and_concurrent_transforms(monkeypatch):
    events, X = _bucketed_case(31)
    agg = AggregateFeatures(events, key="k", time_col="t", cutoff_col="cut",
                            windows=["1D", "5D"], aggregations=["sum", "max", "nunique"],
                            columns=["amount"], by="channel", keep_original=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        agg.fit(X)
    assert isinstance(agg._index_["order"], kernels.SplitOrder)
    want = agg.transform(X)
    copies = [pickle.loads(pickle.dumps(agg, protocol=p)) for p in (0, 2, 5)]
    for other in [*copies, copy.deepcopy(agg)]:
        pd.testing.assert_frame_equal(other.transform(X), want, check_exact=True)
    # a user's own threads on one fitted transformer, each also running its columns in threads
    monkeypatch.setattr(kernels, "THREADS_FROM", 0)
    monkeypatch.setattr(kernels, "_cores", lambda: 4)
    with ThreadPoolExecutor(6) as pool:
        for got in pool.map(lambda _: agg.transform(X), range(12)):
            pd.testing.assert_frame_equal(got, want, check_exact=True)


@pytest.mark.parametrize("wide_segments", [False, True])
def test_last_in_segment_is_the_last_equal_present_value_of_its_segment(wide_segments):
    """Both sorts: packed keys, and lexsort when (segment, code, position) overflow 63 bits."""
    rng = np.random.default_rng(32)
    for _ in range(60):
        n = int(rng.integers(1, 40))
        segment = np.sort(rng.integers(0, 5, n)) * (2**45 if wide_segments else 1)
        values = rng.choice([1.0, 2.0, -0.0, 0.0, np.nan], n)
        present = ~np.isnan(values)
        want = [bool(present[i]) and not any(
            segment[j] == segment[i] and present[j] and values[j] == values[i]
            for j in range(i + 1, n)) for i in range(n)]
        assert _last_in_segment(segment, values, present).tolist() == want


def test_block_search_is_searchsorted_inside_each_block():
    """Empty, one-event and long blocks, bounds below, inside and past them."""
    rng = np.random.default_rng(33)
    for dtype in (np.int64, np.float64):
        times = np.sort(rng.integers(0, 50, 400)).astype(dtype)
        starts = rng.integers(0, len(times) + 1, 500)
        ends = np.minimum(starts + rng.choice([0, 1, 2, 7, 45, 400], 500), len(times))
        bound = rng.integers(-3, 55, 500).astype(dtype)
        got = kernels.block_search(times, starts, ends, bound)
        want = [a + int(np.searchsorted(times[a:b], c))
                for a, b, c in zip(starts, ends, bound, strict=True)]
        np.testing.assert_array_equal(got, want)
