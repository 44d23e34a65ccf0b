"""AggregateFeatures computes what a brute-force loop computes, and never sees the future.

The oracle is a plain pandas loop over rows, written from the rule alone
(``cutoff - window <= time < cutoff - gap``, same key, same ``by`` level),
with exact sums (``math.fsum``). Hypothesis draws event tables (ties,
missing values, hostile magnitudes, absent keys, missing cutoffs), windows,
gaps and ``by``; the transformer must agree exactly on counts and to
``rtol=1e-9`` elsewhere.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mllife.features import AggregateFeatures, describe_features
from mllife.features import _aggregate_engine as engine_module
from mllife.features import _aggregate_kernels as kernels

DAY = pd.Timedelta("1D")
BASE = pd.Timestamp("2024-01-01")
#: Amounts that break naive prefix sums: huge values far from small ones.
HOSTILE = [1e16, -1e16, 1e15, 1.0, 0.1, 3.25, -7.5, 1e-3, np.nan]


def _oracle(events: pd.DataFrame, X: pd.DataFrame, *, key, time_col, cutoff_col, windows,
            aggregations, columns, by=None, levels=(), gap=None, numeric=True) -> pd.DataFrame:
    """Every feature by brute force: one row at a time, one window at a time."""
    gap_v = (0.0 if numeric else pd.Timedelta(0)) if gap is None else (
        gap if numeric else pd.Timedelta(gap))
    rows = []
    for _, row in X.iterrows():
        k, c = row[key], row[cutoff_col]
        known = events[events[key].notna() & events[time_col].notna()]
        mine = known[known[key] == k] if pd.notna(k) else known.iloc[:0]
        if pd.isna(c):
            mine = mine.iloc[:0]
        out = {}
        for level in [None, *levels]:
            prefix = "" if level is None else f"{by}={level}__"
            sub_all = mine if level is None else mine[mine[by] == level]
            for w in windows:
                t = sub_all[time_col]
                if pd.isna(c):
                    sub = sub_all
                elif w == "all":
                    sub = sub_all[t < c - gap_v]
                else:
                    w_v = w if numeric else pd.Timedelta(w)
                    sub = sub_all[(t >= c - w_v) & (t < c - gap_v)]
                label = w if isinstance(w, str) else f"{w:g}"
                for agg in aggregations:
                    if agg == "count":
                        out[f"{prefix}count__{label}"] = len(sub)
                    elif agg == "time_since_last":
                        if len(sub) == 0:
                            value = np.nan
                        else:
                            value = c - sub[time_col].max()
                            value = value if numeric else value / DAY
                        out[f"{prefix}time_since_last__{label}"] = value
                    else:
                        for col in columns:
                            vals = sub[col].dropna()
                            name = f"{prefix}{col}__{agg}__{label}"
                            if agg == "sum":
                                out[name] = math.fsum(vals)
                            elif agg == "mean":
                                out[name] = math.fsum(vals) / len(vals) if len(vals) else np.nan
                            elif agg == "max":
                                out[name] = vals.max() if len(vals) else np.nan
                            elif agg == "min":
                                out[name] = vals.min() if len(vals) else np.nan
                            elif agg == "nunique":
                                out[name] = vals.nunique()
        rows.append(out)
    return pd.DataFrame(rows, index=X.index)


def _compare(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    for col in want.columns:
        if "__count__" in f"__{col}" or "__nunique__" in col:
            assert got[col].dtype == np.int64, col
            np.testing.assert_array_equal(got[col].to_numpy(), want[col].to_numpy(), err_msg=col)
        else:
            assert got[col].dtype == np.float64, col
            # atol: a sum that is exactly 0 may come out as a rounding error of its terms' errors
            np.testing.assert_allclose(got[col].to_numpy(), want[col].to_numpy(dtype=float),
                                       rtol=1e-9, atol=1e-12, err_msg=col)


@st.composite
def _case(draw):
    n = draw(st.integers(0, 40))
    keys = st.sampled_from([1, 2, 3, 4])
    events = pd.DataFrame({
        "k": draw(st.lists(keys, min_size=n, max_size=n)),
        "t": draw(st.lists(st.one_of(st.integers(0, 30).map(float), st.just(np.nan)),
                           min_size=n, max_size=n)),
        "amount": draw(st.lists(st.sampled_from(HOSTILE), min_size=n, max_size=n)),
        "units": draw(st.lists(st.integers(0, 3).map(float), min_size=n, max_size=n)),
        "channel": draw(st.lists(st.sampled_from(["app", "web", None]), min_size=n, max_size=n)),
    })
    m = draw(st.integers(1, 12))
    X = pd.DataFrame({
        "k": draw(st.lists(st.sampled_from([1, 2, 3, 4, 9]), min_size=m, max_size=m)),
        "cut": draw(st.lists(st.one_of(st.integers(-2, 34).map(float), st.just(np.nan)),
                             min_size=m, max_size=m)),
        "other": np.arange(m, dtype=float),
    })
    windows = draw(st.lists(st.sampled_from([1.0, 2.5, 3.0, 7.0, 40.0, "all"]), min_size=1,
                            max_size=3, unique=True))
    gap = draw(st.sampled_from([None, 0.5, 1.0]))
    finite = [w for w in windows if w != "all"]
    if gap is not None and finite and gap >= min(finite):
        gap = None
    aggs = draw(st.lists(st.sampled_from(["count", "sum", "mean", "max", "min", "nunique",
                                          "time_since_last"]), min_size=1, max_size=7,
                         unique=True))
    by = draw(st.sampled_from([None, "channel"]))
    as_dates = draw(st.booleans())
    return events, X, windows, gap, aggs, by, as_dates


#: The two engines of the per-window aggregates, and the pairs engine in tiny chunks.
ENGINES = {"pairs": {}, "pairs in chunks of 3": {"CHUNK": 3},
           "blocks": {"PAIRS_PER_EVENT": 0}}


def _engine(name):
    stack = contextlib.ExitStack()
    for attr, value in ENGINES[name].items():
        stack.enter_context(mock.patch.object(engine_module, attr, value))
    return stack


def _to_dates(events, X, windows, gap):
    """The same case with datetimes: one time unit is one hour."""
    events = events.assign(t=BASE + pd.to_timedelta(events["t"], unit="h"))
    X = X.assign(cut=BASE + pd.to_timedelta(X["cut"], unit="h"))
    windows = [w if w == "all" else f"{int(w * 60)}min" for w in windows]
    gap = None if gap is None else f"{int(gap * 60)}min"
    return events, X, windows, gap


@settings(max_examples=90, deadline=None)
@given(_case(), st.sampled_from(sorted(ENGINES)))
def test_equals_the_brute_force_oracle(case, engine):
    events, X, windows, gap, aggs, by, as_dates = case
    if as_dates:
        events, X, windows, gap = _to_dates(events, X, windows, gap)
    agg = AggregateFeatures(events, key="k", time_col="t", cutoff_col="cut", windows=windows,
                            aggregations=aggs, columns=["amount", "units"], by=by, gap=gap,
                            keep_original=False)
    with warnings.catch_warnings(), _engine(engine):
        warnings.simplefilter("ignore")  # events without a time are announced: not the point here
        got = agg.fit_transform(X)
    want = _oracle(events, X, key="k", time_col="t", cutoff_col="cut", windows=windows,
                   aggregations=aggs, columns=["amount", "units"], by=by, levels=agg.levels_,
                   gap=gap, numeric=not as_dates)
    _compare(got, want)
    # The levels are those some fit row can see.
    if by is not None:
        seen = set()
        for _, row in X.dropna(subset=["cut"]).iterrows():
            gap_v = pd.Timedelta(gap or 0) if as_dates else (gap or 0.0)
            mine = events[(events["k"] == row["k"]) & (events["t"] < row["cut"] - gap_v)]
            seen |= set(mine["channel"].dropna())
        assert agg.levels_ == sorted(seen)


@settings(max_examples=40, deadline=None)
@given(_case(), st.integers(-2, 40), st.data())
def test_events_at_or_after_the_cutoff_never_change_a_row(case, threshold, data):
    """The leakage property: append anything at or after T; rows with cutoff - gap <= T keep
    their features (and, when T is past every cutoff, the very same columns)."""
    events, X, windows, gap, aggs, by, _ = case
    events = events.dropna(subset=["t"])
    k = data.draw(st.integers(1, 15))
    future = pd.DataFrame({
        "k": data.draw(st.lists(st.sampled_from([1, 2, 3, 4, 9, 11]), min_size=k, max_size=k)),
        "t": data.draw(st.lists(st.integers(threshold, 60).map(float), min_size=k, max_size=k)),
        "amount": data.draw(st.lists(st.sampled_from(HOSTILE), min_size=k, max_size=k)),
        "units": data.draw(st.lists(st.integers(0, 9).map(float), min_size=k, max_size=k)),
        "channel": data.draw(st.lists(st.sampled_from(["app", "web", "store"]), min_size=k,
                                      max_size=k)),
    })
    params = {"key": "k", "time_col": "t", "cutoff_col": "cut", "windows": windows, "aggregations": aggs,
                  "columns": ["amount", "units"], "by": by, "gap": gap, "keep_original": False}
    before = AggregateFeatures(events, **params).fit_transform(X)
    after = AggregateFeatures(pd.concat([events, future], ignore_index=True),
                              **params).fit_transform(X)
    gap_v = 0.0 if gap is None else gap
    safe = (X["cut"] - gap_v <= threshold) | X["cut"].isna()
    common = [c for c in before.columns if c in after.columns]
    pd.testing.assert_frame_equal(before.loc[safe, common], after.loc[safe, common])
    if safe.all():
        assert list(before.columns) == list(after.columns)


def test_known_answers_with_datetimes_gap_and_levels():
    events = pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b"],
        "event_at": pd.to_datetime(["2024-01-01", "2024-01-25", "2024-01-30T12:00",
                                    "2024-02-01", "2024-01-31"], format="ISO8601"),
        "amount": [10.0, 20.0, np.nan, 1000.0, 7.0],
        "channel": ["app", "web", "app", "app", "web"],
    })
    X = pd.DataFrame({"customer_id": ["a", "b", "zz"],
                      "cutoff_at": pd.to_datetime(["2024-02-01", "2024-02-01", "2024-02-01"])},
                     index=[10, 11, 12])
    agg = AggregateFeatures(events, key="customer_id", time_col="event_at",
                            cutoff_col="cutoff_at", windows=("7D", "all"), gap="1D", by="channel")
    out = agg.fit_transform(X)
    assert out.index.tolist() == [10, 11, 12]
    assert out.columns[:2].tolist() == ["customer_id", "cutoff_at"]
    # a: with the 1-day gap, events before 2024-01-31 00:00: 01-01, 01-25, 01-30 12:00.
    assert out.loc[10, "count__7D"] == 2
    assert out.loc[10, "count__all"] == 3
    assert out.loc[10, "amount__sum__all"] == 30.0      # the missing amount is skipped...
    assert out.loc[10, "amount__mean__all"] == 15.0     # ...in the mean too
    assert out.loc[10, "time_since_last__7D"] == 1.5    # days from 01-30 12:00 to the cutoff
    # b's only event is inside the gap; zz has no event at all.
    assert out.loc[11, "count__all"] == 0
    assert np.isnan(out.loc[11, "amount__mean__all"])
    assert out.loc[12, "amount__sum__7D"] == 0.0
    assert np.isnan(out.loc[12, "time_since_last__all"])
    assert agg.levels_ == ["app", "web"]
    assert out.loc[10, "channel=web__amount__max__all"] == 20.0
    assert out.loc[10, "channel=app__count__7D"] == 1
    assert out.loc[10, "channel=app__amount__nunique__7D"] == 0
    assert out["count__7D"].dtype == np.int64
    assert out["amount__nunique__all"].dtype == np.int64
    assert out["amount__mean__7D"].dtype == np.float64


def test_missing_values_are_skipped_but_events_are_counted():
    events = pd.DataFrame({"k": [1, 1, 1], "t": [1.0, 2.0, 3.0], "v": [np.nan, 4.0, np.nan]})
    X = pd.DataFrame({"k": [1, 1], "cut": [2.0, 10.0]})
    out = AggregateFeatures(events, key="k", time_col="t", cutoff_col="cut", windows=["all"],
                            keep_original=False).fit_transform(X)
    assert out["count__all"].tolist() == [1, 3]
    assert out["v__sum__all"].tolist() == [0.0, 4.0]
    assert np.isnan(out.loc[0, "v__mean__all"])
    assert out.loc[1, "v__mean__all"] == 4.0
    assert out["v__nunique__all"].tolist() == [0, 1]
    assert out["time_since_last__all"].tolist() == [1.0, 7.0]


def test_a_window_far_from_a_huge_value_keeps_its_accuracy():
    """Naive prefix sums give (1e16 + 1 + 1) - 1e16 == 0; the compensated ones give 2."""
    events = pd.DataFrame({"k": [1, 1, 1, 2], "t": [0.0, 10.0, 11.0, 0.0],
                           "v": [1e16, 1.0, 1.0, -1e16]})
    X = pd.DataFrame({"k": [1, 2], "cut": [12.0, 12.0]})
    out = AggregateFeatures(events, key="k", time_col="t", cutoff_col="cut", windows=[5.0],
                            aggregations=["sum", "mean"], keep_original=False).fit_transform(X)
    assert out["v__sum__5"].tolist() == [2.0, 0.0]
    assert out["v__mean__5"].iloc[0] == 1.0
    naive = np.cumsum([0.0, 1e16, 1.0, 1.0])
    assert naive[3] - naive[1] != 2.0  # the planted defect the compensation removes


def test_duplicate_rows_and_row_order_do_not_matter():
    rng = np.random.default_rng(0)
    events = pd.DataFrame({"k": rng.integers(0, 5, 300), "t": rng.uniform(0, 100, 300),
                           "v": rng.normal(size=300)})
    X = pd.DataFrame({"k": rng.integers(0, 6, 40), "cut": rng.uniform(0, 120, 40)})
    X = pd.concat([X, X.iloc[:5]], ignore_index=True)
    agg = AggregateFeatures(events, key="k", time_col="t", cutoff_col="cut", windows=[10.0, "all"],
                            keep_original=False).fit(X)
    out = agg.transform(X)
    pd.testing.assert_frame_equal(out.iloc[40:].reset_index(drop=True),
                                  out.iloc[:5].reset_index(drop=True))
    shuffled = X.sample(frac=1.0, random_state=1)
    pd.testing.assert_frame_equal(agg.transform(shuffled), out.loc[shuffled.index])


def test_the_event_table_is_never_modified_and_clone_shares_it():
    from sklearn.base import clone

    events = pd.DataFrame({"k": [2, 1, 1], "t": [3.0, 2.0, 1.0], "v": [1.0, 2.0, np.nan]})
    snapshot = events.copy()
    agg = AggregateFeatures(events, key="k", time_col="t", cutoff_col="cut", windows=[5.0])
    agg.fit(pd.DataFrame({"k": [1, 2], "cut": [4.0, 4.0]}))
    pd.testing.assert_frame_equal(events, snapshot)
    again = clone(agg)
    assert again.events is events            # shared, never deep-copied
    assert not hasattr(again, "keys_")       # a clone is unfitted
    assert "<DataFrame: 3 rows x 3 columns>" in repr(agg)


def test_describe_features_names_the_source_window_and_cutoff_rule():
    events = pd.DataFrame({"k": [1], "t": pd.to_datetime(["2024-01-01"]), "v": [1.0],
                           "c": ["x"]})
    X = pd.DataFrame({"k": [1], "cut": pd.to_datetime(["2024-02-01"])})
    agg = AggregateFeatures(events, key="k", time_col="t", cutoff_col="cut", windows=["30D"],
                            aggregations=["count", "sum"], gap="1D", by="c").fit(X)
    table = describe_features(agg).set_index("feature")
    assert table.loc["v__sum__30D", "source"] == "k, cut, v"
    assert table.loc["v__sum__30D", "note"] == (
        "sum of v over events with cut - 30D <= t < cut - 1D (same k)")
    assert table.loc["c=x__count__30D", "source"] == "k, cut, c"
    assert "c == 'x'" in table.loc["c=x__count__30D", "note"]
    assert table.loc["cut", "source"] == "cut"
    assert table["steps"].eq("AggregateFeatures(key=k, gap=1D)").all()


def test_kernels_agree_with_numpy_on_random_ranges():
    """The range kernels on their own (block sizes that exercise every branch)."""
    rng = np.random.default_rng(3)
    for block in (1, 2, 3, 8):
        n = 200
        v = rng.normal(size=n)
        v[rng.random(n) < 0.2] = np.nan
        values = np.append(v, np.nan)
        lo = rng.integers(0, n + 1, 80)
        hi = np.maximum(lo, rng.integers(0, n + 1, 80))
        for ufunc, ref in ((np.fmax, np.nanmax), (np.fmin, np.nanmin)):
            table = kernels.sparse_table(ufunc, values, block=block)
            got = kernels.range_extreme(ufunc, values, table, lo, hi, block=block)
            for i in range(len(lo)):
                seg = v[lo[i]:hi[i]]
                want = np.nan if np.isnan(seg).all() else ref(seg)
                assert got[i] == want or (np.isnan(got[i]) and np.isnan(want))


@pytest.mark.parametrize("n", [0, 1, 64, 65, 200])
def test_wavelet_counts_distinct_values(n):
    rng = np.random.default_rng(n)
    codes = rng.integers(-1, 6, n)
    group = np.sort(rng.integers(0, 3, n))
    prev = kernels.previous_equal(codes, group)
    wavelet = kernels.build_wavelet(np.where(codes < 0, n + 1, prev + 1))
    offsets = np.searchsorted(group, np.arange(4))
    lo, hi = [], []
    for g in range(3):  # every range inside every group
        for a in range(offsets[g], offsets[g + 1] + 1):
            for b in range(a, offsets[g + 1] + 1):
                lo.append(a)
                hi.append(b)
    lo, hi = np.array(lo, dtype=np.int64), np.array(hi, dtype=np.int64)
    got = kernels.count_less(wavelet, lo, hi, lo + 1)
    want = [len({c for c in codes[a:b] if c >= 0}) for a, b in zip(lo, hi, strict=True)]
    assert got.tolist() == want


def test_both_engines_agree_on_long_histories():
    """Thousands of events per entity and windows over most of them: the blocks engine
    (sparse tables over whole blocks, wavelet matrix) takes over and agrees with the pairs."""
    rng = np.random.default_rng(5)
    n = 6_000
    events = pd.DataFrame({"k": rng.integers(0, 3, n), "t": rng.integers(0, 1000, n).astype(float),
                           "v": rng.normal(size=n).round(1), "c": rng.choice(list("abcdefgh"), n),
                           "g": rng.choice(["x", "y", "z"], n)})
    events.loc[rng.random(n) < 0.1, "v"] = np.nan
    X = pd.DataFrame({"k": rng.integers(0, 4, 2_000), "cut": rng.uniform(-10, 1_010, 2_000)})
    steps = [AggregateFeatures(events, key="k", time_col="t", cutoff_col="cut",
                               windows=[50.0, 400.0, "all"], columns=["v"], gap=5.0),
             AggregateFeatures(events, key="k", time_col="t", cutoff_col="cut",
                               windows=[400.0, "all"], columns=["c"], by="g",
                               aggregations=("count", "nunique"))]
    for step in steps:
        pairs = step.fit_transform(X)
        with _engine("pairs in chunks of 3"):
            chunked = step.transform(X)
        small = {"CHUNK": 64}  # the default choice, with pairs far beyond 4 per event
        with mock.patch.multiple(engine_module, **small), \
                mock.patch.object(engine_module, "_by_blocks", wraps=engine_module._by_blocks) as spy:
            blocks = step.transform(X)
        assert spy.called
        pd.testing.assert_frame_equal(chunked, pairs)
        pd.testing.assert_frame_equal(blocks, pairs, check_exact=False, rtol=1e-9)


@pytest.mark.parametrize("layout", ["random seconds", "random ns", "floats", "grouped",
                                    "time-sorted log", "huge span", "wide ns buckets"])
def test_the_sort_is_lexsort_in_every_layout(layout):
    """(key, time) order, stable, whichever path the sort takes (packed, skipped, lexsort)."""
    rng = np.random.default_rng(len(layout))
    for n in (0, 1, 2, 77, 1_000):
        codes = rng.integers(0, 13, n)
        times = {"random seconds": rng.integers(0, 50, n) * 10**9,
                 "random ns": rng.integers(-2**40, 2**40, n),
                 "floats": rng.normal(size=n),
                 "grouped": rng.integers(0, 50, n),
                 "time-sorted log": np.sort(rng.integers(0, 50, n)),
                 "huge span": rng.integers(-2**62, 2**62, n),
                 # code | time | position need more than 63 bits: sorted in buckets of codes
                 "wide ns buckets": rng.integers(-2**50, 2**50, n)}[layout]
        if layout == "grouped":
            codes, times = np.sort(codes), times[np.lexsort((times, np.sort(codes)))]
        order, sorted_times = kernels.group_time_order(codes, 13, times)
        want = np.lexsort((times, codes))
        got = np.arange(n) if order is None else kernels.positions(order)
        np.testing.assert_array_equal(got, want)
        if layout == "wide ns buckets" and n == 1_000:
            assert isinstance(order, kernels.SplitOrder)  # the bucketed path ran
            np.testing.assert_array_equal(order[np.arange(0, n, 7)], want[::7])
        np.testing.assert_array_equal(sorted_times, times[want])


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_the_bucketed_sort_matches_the_oracle_with_levels_and_dropped_events(engine):
    """Nanosecond times over ~26 days, 300 keys, 1,200 events: code | time | position need
    more than 63 bits, so the fit sorts in buckets of codes (a split permutation); the
    features, the ``by`` levels and the dropped events still match the brute force."""
    rng = np.random.default_rng(20)
    n = 1_200
    events = pd.DataFrame({
        "k": rng.integers(0, 300, n).astype(float),
        "t": pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(-2**50, 2**50, n),
                                                         unit="ns"),
        "amount": rng.normal(size=n).round(3),
        "units": rng.integers(0, 4, n).astype(float),
        "channel": rng.choice(["app", "web"], n),
    })
    events.loc[rng.choice(n, 30, replace=False), "k"] = np.nan  # left out, with a warning
    X = pd.DataFrame({"k": rng.integers(0, 300, 150).astype(float),
                      "cut": pd.Timestamp("2024-03-01") + pd.to_timedelta(
                          rng.integers(-2**49, 2**50, 150), unit="ns")})
    windows = ["1D", "5D", "all"]
    aggs = ["count", "sum", "mean", "max", "min", "nunique", "time_since_last"]
    agg = AggregateFeatures(events, key="k", time_col="t", cutoff_col="cut", windows=windows,
                            aggregations=aggs, columns=["amount", "units"], by="channel",
                            keep_original=False)
    with pytest.warns(Warning, match="left out"), _engine(engine):
        agg.fit(X)
    with _engine(engine):
        got = agg.transform(X)
    assert isinstance(agg._index_["order"], kernels.SplitOrder)
    want = _oracle(events, X, key="k", time_col="t", cutoff_col="cut", windows=windows,
                   aggregations=aggs, columns=["amount", "units"], by="channel",
                   levels=agg.levels_, numeric=False)
    assert agg.levels_ == ["app", "web"]
    _compare(got, want)


def test_threads_give_the_same_features_bit_for_bit(monkeypatch):
    """Large work runs its buckets and columns in threads: forced here on a small table,
    the features equal the one-thread ones exactly and the brute force."""
    rng = np.random.default_rng(21)
    n = 900
    events = pd.DataFrame({
        "k": rng.integers(0, 200, n),
        "t": pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(-2**50, 2**50, n),
                                                         unit="ns"),
        "amount": rng.normal(size=n).round(3),
        "units": rng.integers(0, 4, n).astype(float),
    })
    events.loc[rng.choice(n, 40, replace=False), "amount"] = np.nan
    X = pd.DataFrame({"k": rng.integers(0, 200, 120),
                      "cut": pd.Timestamp("2024-03-01") + pd.to_timedelta(
                          rng.integers(-2**49, 2**50, 120), unit="ns")})
    aggs = ["count", "sum", "mean", "max", "min", "nunique"]

    def features():
        agg = AggregateFeatures(events, key="k", time_col="t", cutoff_col="cut",
                                windows=["2D", "9D"], aggregations=aggs,
                                columns=["amount", "units"], keep_original=False)
        return agg.fit_transform(X), agg

    alone, _ = features()
    calls = []
    real_pool = kernels.ThreadPoolExecutor

    def counting_pool(*args, **kwargs):
        calls.append(kwargs.get("max_workers"))
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(kernels, "THREADS_FROM", 0)
    monkeypatch.setattr(kernels, "_cores", lambda: 4)
    monkeypatch.setattr(kernels, "ThreadPoolExecutor", counting_pool)
    threaded, agg = features()
    assert len(calls) >= 2  # the fit's buckets, the transform's columns
    assert set(calls) == {2}
    assert isinstance(agg._index_["order"], kernels.SplitOrder)
    pd.testing.assert_frame_equal(threaded, alone, check_exact=True)
    want = _oracle(events, X, key="k", time_col="t", cutoff_col="cut", windows=["2D", "9D"],
                   aggregations=aggs, columns=["amount", "units"], numeric=False)
    _compare(threaded, want)


def test_threads_that_cannot_start_fall_back_to_this_thread(monkeypatch):
    """A process at its thread limit still gets its features (in one thread)."""
    class NoThreads:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            raise RuntimeError("can't start new thread")

        def __exit__(self, *exc):
            return False

    done = kernels.in_threads(lambda x: x * 2, [(1,), (2,)], 10)
    monkeypatch.setattr(kernels, "THREADS_FROM", 0)
    monkeypatch.setattr(kernels, "_cores", lambda: 4)
    monkeypatch.setattr(kernels, "ThreadPoolExecutor", NoThreads)
    assert kernels.in_threads(lambda x: x * 2, [(1,), (2,)], 10) == done == [2, 4]
