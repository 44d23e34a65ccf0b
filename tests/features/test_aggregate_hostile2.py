"""A hostile review of AggregateFeatures against an oracle of its own.

The oracle below is written from the rule alone (same key, same ``by``
level, ``cutoff - window <= time < cutoff - gap``): a plain Python loop over
rows and events with Python's own ``==`` on keys and exact sums
(``math.fsum``). It shares no code with the transformer nor with the first
test file's oracle. Each defect the review found has a test of its own here.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import pickle
import tracemalloc
import warnings
from fractions import Fraction
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from mllife import DataWarning
from mllife.features import AggregateFeatures, describe_features
from mllife.features import _aggregate_engine as engine_module

AGGS = ("count", "sum", "mean", "max", "min", "nunique", "time_since_last")
DAY = pd.Timedelta("1D")
BASE = pd.Timestamp("2024-03-01")


def _missing(value) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (
        isinstance(value, float) and math.isnan(value))


def _exact_sum(values) -> float:
    try:
        return math.fsum(values)
    except OverflowError:  # the true sum is beyond float64: what float64 says (inf)
        return float(np.sum(values))


def _oracle(events, X, *, key, time_col, cutoff_col, windows, aggregations, columns,
            by=None, levels=(), gap=None, numeric=False) -> pd.DataFrame:
    """Every feature of every row by brute force: Python loops, Python equality."""
    evs = events.to_dict("records")
    def span(value):  # numbers as exact fractions: int64 times beyond 2**53 stay exact
        return Fraction(value) if numeric else pd.Timedelta(value)

    gap_v = span(0) if gap is None else span(gap)
    table = []
    for row in X.to_dict("records"):
        k, c = row[key], row[cutoff_col]
        out: dict[str, float] = {}
        for level in [None, *levels]:
            prefix = "" if level is None else f"{by}={level}__"
            for w in windows:
                chosen = [
                    e for e in evs
                    if not _missing(k) and not _missing(e[key]) and e[key] == k
                    and not _missing(c) and not _missing(e[time_col])
                    and (level is None or (not _missing(e[by]) and e[by] == level))
                    and e[time_col] < c - gap_v
                    and (w == "all" or e[time_col] >= c - span(w))
                ]
                label = w if isinstance(w, str) else f"{w:g}"
                for agg in aggregations:
                    if agg == "count":
                        out[f"{prefix}count__{label}"] = len(chosen)
                    elif agg == "time_since_last":
                        if not chosen:
                            out[f"{prefix}time_since_last__{label}"] = np.nan
                        else:
                            since = c - max(e[time_col] for e in chosen)
                            out[f"{prefix}time_since_last__{label}"] = (
                                float(since) if numeric else since / DAY)
                    else:
                        for col in columns:
                            vals = [e[col] for e in chosen if not _missing(e[col])]
                            name = f"{prefix}{col}__{agg}__{label}"
                            if agg == "nunique":
                                out[name] = len(set(vals))
                            elif agg == "sum":
                                out[name] = _exact_sum([float(v) for v in vals])
                            elif agg == "mean":
                                out[name] = (_exact_sum([float(v) for v in vals]) / len(vals)
                                             if vals else np.nan)
                            elif agg == "max":
                                out[name] = float(max(vals)) if vals else np.nan
                            else:
                                out[name] = float(min(vals)) if vals else np.nan
        table.append(out)
    return pd.DataFrame(table, index=X.index)


ENGINES = {"pairs": {}, "pairs in chunks of 2": {"CHUNK": 2}, "blocks": {"PAIRS_PER_EVENT": 0}}


def _engine(name):
    stack = contextlib.ExitStack()
    for attr, value in ENGINES[name].items():
        stack.enter_context(mock.patch.object(engine_module, attr, value))
    return stack


def _check(events, X, *, engine="pairs", numeric=False, **params):
    """Fit, transform and compare with the oracle: counts exactly, floats to rtol=1e-9."""
    params = {"aggregations": AGGS, **params}
    with _engine(engine), warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # events without a key or time: tested apart
        step = AggregateFeatures(events, keep_original=False, **params)
        got = step.fit_transform(X)
    want = _oracle(events, X, key=params["key"], time_col=params["time_col"],
                   cutoff_col=params["cutoff_col"], windows=params["windows"],
                   aggregations=params["aggregations"], columns=step.columns_,
                   by=params.get("by"), levels=step.levels_, gap=params.get("gap"),
                   numeric=numeric)
    assert got.columns.tolist() == want.columns.tolist()
    for col in want.columns:
        g, w = got[col].to_numpy(dtype=float), want[col].to_numpy(dtype=float)
        if col.split("__")[-2] in ("count", "nunique") or col.startswith("count__"):
            np.testing.assert_array_equal(g, w, err_msg=col)
        else:
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=0, err_msg=col)
    return step, got


# ---- what held: boundaries, units, zones ---------------------------------------------------
@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_the_bounds_are_exact_in_every_unit_of_either_table(unit):
    one = pd.Timedelta("1s")
    times = [BASE - pd.Timedelta("7D"), BASE - pd.Timedelta("7D") - one, BASE - DAY,
             BASE - DAY + one, BASE - one, BASE, BASE + one]
    events = pd.DataFrame({"k": 1, "t": pd.Series(times).astype(f"datetime64[{unit}]"),
                           "v": [2.0**i for i in range(7)]})
    X = pd.DataFrame({"k": [1, 1], "c": pd.Series([BASE, BASE + one]).astype("datetime64[ns]")})
    _, got = _check(events, X, key="k", time_col="t", cutoff_col="c", windows=("7D", "all"),
                    gap="1D")
    # row 0: cutoff - 7D is in, cutoff - 7D - 1s and cutoff - gap are out;
    # row 1 (one second later): cutoff - 7D - 1s... is out, cutoff - gap - 1s is in
    assert got["v__sum__7D"].tolist() == [1.0, 4.0]
    for other in ("s", "us"):
        _check(events, X.astype({"c": f"datetime64[{other}]"}), key="k", time_col="t",
               cutoff_col="c", windows=("7D", "12h", "1min", "all"))


def test_daylight_saving_days_and_other_zones_are_instants():
    paris = pd.to_datetime(["2024-03-30 02:30", "2024-03-30 03:30", "2024-03-30 04:00",
                            "2024-03-31 01:30", "2024-03-31 03:30"]).tz_localize("Europe/Paris")
    events = pd.DataFrame({"k": 1, "t": paris, "v": [1.0, 2.0, 3.0, 4.0, 5.0]})
    X = pd.DataFrame({"k": [1, 1], "c": pd.to_datetime(["2024-03-31 03:30", "2024-03-31 04:00"]
                                                        ).tz_localize("Europe/Paris")})
    _, got = _check(events, X, key="k", time_col="t", cutoff_col="c",
                    windows=("1D", "12h", "1min"))
    assert got["count__1D"].tolist() == [4, 4]  # 1D is 24 hours (a calendar day gives 3)
    _check(events, X.assign(c=X["c"].dt.tz_convert("America/New_York")), key="k",
           time_col="t", cutoff_col="c", windows=("1D", "12h", "1min"))


# ---- defects: keys ------------------------------------------------------------------------
def test_nullable_integer_keys_with_missing_values():
    """Found: an Int64 key column with <NA> in the events crashed with numpy's ValueError."""
    events = pd.DataFrame({"k": pd.array([1, None, 2, 2], dtype="Int64"),
                           "t": BASE - pd.to_timedelta([1, 2, 3, 4], unit="D"),
                           "v": [1.0, 2.0, 4.0, 8.0]})
    X = pd.DataFrame({"k": pd.array([1, 2, None, 3], dtype="Int64"), "c": BASE})
    _, got = _check(events, X, key="k", time_col="t", cutoff_col="c", windows=("30D",))
    assert got["v__sum__30D"].tolist() == [1.0, 12.0, 0.0, 0.0]


@pytest.mark.parametrize("x_dtype", ["Int64", "uint64", "object"])
@pytest.mark.parametrize("dense", [True, False])
def test_large_integer_keys_never_match_another_entity(x_dtype, dense):
    """Found: keys above 2**53 went through float64, so a row read a neighbour's events."""
    big = 2**62
    keys = [big, big + 1, big + 2] if dense else [7, big, big + 1]
    events = pd.DataFrame({"k": np.array(keys, dtype=np.int64),
                           "t": BASE - pd.to_timedelta([1, 2, 3], unit="D"),
                           "v": [1.0, 2.0, 4.0]})
    x_keys = [keys[1], keys[2], keys[0]]
    X = pd.DataFrame({"k": pd.array(x_keys, dtype=x_dtype) if x_dtype == "Int64"
                      else np.array(x_keys, dtype=x_dtype), "c": BASE})
    _, got = _check(events, X, key="k", time_col="t", cutoff_col="c", windows=("30D",),
                    aggregations=("count", "sum"))
    assert got["v__sum__30D"].tolist() == [2.0, 4.0, 1.0]


# ---- defects: numeric times ---------------------------------------------------------------
@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_large_integer_times_are_compared_exactly(engine):
    """Found: integer times went through float64; above 2**53 an event of the gap (the
    future for this row) was used, and one just before the cutoff was not."""
    c = 2**60 + 200
    times = [c - 1, c - 100, c - 101, c - 300, c - 301, c]
    events = pd.DataFrame({"k": 1, "t": np.array(times, dtype=np.int64),
                           "v": [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]})
    X = pd.DataFrame({"k": [1, 1], "c": np.array([c, c + 1], dtype=np.int64)})
    _, got = _check(events, X, engine=engine, numeric=True, key="k", time_col="t",
                    cutoff_col="c", windows=(300, "all"), gap=100)
    assert got["v__sum__300"].tolist() == [4.0 + 8.0, 2.0 + 4.0]
    assert got["time_since_last__all"].tolist() == [101.0, 101.0]
    _check(events, X, engine=engine, numeric=True, key="k", time_col="t", cutoff_col="c",
           windows=(1, 2.5, 300), gap=0.5)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(offset=st.sampled_from([0, -(2**40), 2**55, 2**62]), data=st.data())
def test_events_at_or_after_cutoff_minus_gap_never_change_a_row(offset, data):
    """The leakage property with integer times far from zero (epoch nanoseconds)."""
    n = data.draw(st.integers(1, 15))
    events = pd.DataFrame({
        "k": data.draw(st.lists(st.sampled_from([1, 2]), min_size=n, max_size=n)),
        "t": np.array(data.draw(st.lists(st.integers(0, 600), min_size=n, max_size=n)),
                      dtype=np.int64) + np.int64(offset),
        "v": data.draw(st.lists(st.sampled_from([1.0, 2.5, -7.0, 1e15]), min_size=n,
                                max_size=n)),
    })
    X = pd.DataFrame({"k": [1, 2, 1], "c": np.array(data.draw(st.lists(
        st.integers(100, 700), min_size=3, max_size=3)), dtype=np.int64) + np.int64(offset)})
    gap = data.draw(st.sampled_from([0, 3, 50]))
    params = {"key": "k", "time_col": "t", "cutoff_col": "c", "windows": (90, "all"),
              "gap": gap, "keep_original": False}
    before = AggregateFeatures(events, **params).fit_transform(X)
    for i in range(len(X)):  # for each row, future events of its own entity
        extra = pd.DataFrame({"k": X["k"].iloc[i], "v": 1e6, "t": X["c"].iloc[i] - gap
                              + np.arange(3, dtype=np.int64) * 7})
        after = AggregateFeatures(pd.concat([events, extra], ignore_index=True),
                                  **params).fit(X).transform(X.iloc[[i]])
        pd.testing.assert_frame_equal(after, before.iloc[[i]])


def test_nunique_of_large_integers_counts_each_value():
    """Found: nunique read integer columns as float64: 2**62 and 2**62 + 1 were one value."""
    events = pd.DataFrame({"k": 1, "t": [1.0, 2.0, 3.0, 4.0],
                           "item": np.array([2**62, 2**62 + 1, 2**62 + 2, 2**62], dtype=np.int64)})
    X = pd.DataFrame({"k": [1, 1], "c": [5.0, 3.0]})
    for engine in ENGINES:
        _, got = _check(events, X, engine=engine, numeric=True, key="k", time_col="t",
                        cutoff_col="c", windows=("all", 2.0), aggregations=("nunique",))
        assert got["item__nunique__all"].tolist() == [3, 2]


def test_time_since_last_of_an_event_before_1677_in_seconds():
    """Found: an event older than 1677 in a second-resolution column overflowed int64
    nanoseconds, and time_since_last came out negative."""
    events = pd.DataFrame({"k": 1, "t": np.array(["1500-01-01", "2023-12-01"],
                                                 dtype="datetime64[s]"), "v": [1.0, 2.0]})
    X = pd.DataFrame({"k": [1, 1], "c": pd.to_datetime(["2000-01-01", "2024-01-01"])})
    got = AggregateFeatures(events, key="k", time_col="t", cutoff_col="c",
                            windows=("all", "100000D"), aggregations=("count", "time_since_last"),
                            keep_original=False).fit_transform(X)
    far = (datetime.date(2000, 1, 1) - datetime.date(1500, 1, 1)).days  # Python's own dates
    assert got["time_since_last__all"].tolist() == [far, 31.0]
    assert got["count__all"].tolist() == [1, 2]
    # 100000 days before 2024-01-01 is 1750: the event of 1500 is out, as before 2000 - 100000D
    assert got["count__100000D"].tolist() == [0, 1]
    # a window reaching before 1677: its bound is not clipped to the nanosecond range
    old = pd.DataFrame({"k": 1, "t": np.array(["1650-01-01"], dtype="datetime64[s]")})
    step = AggregateFeatures(old, key="k", time_col="t", cutoff_col="c", windows=("100000D",),
                             aggregations=("count",), keep_original=False)
    assert step.fit_transform(X.assign(c=pd.to_datetime(["1900-01-01"] * 2)))[
        "count__100000D"].tolist() == [1, 1]


# ---- defects: sums -----------------------------------------------------------------------
@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_one_entitys_huge_values_never_spoil_anothers_sums(engine):
    """Found: the prefix sums ran across entities (and across rows of a chunk), so a
    customer with amounts near 1e300 turned another customer's 1 + 2 into 0 (or NaN
    when the running sum overflowed)."""
    events = pd.DataFrame({"k": [1, 1, 1, 2, 2, 3, 3, 4],
                           "t": [1.0, 2.0, 3.0, 1.0, 2.0, 1.0, 2.0, 1.0],
                           "v": [1e300, 1.37e284, -1e300, 1.0, 2.0, 1e308, 1e308, 5.0]})
    X = pd.DataFrame({"k": [1, 2, 3, 4, 2], "c": [9.0, 9.0, 9.0, 9.0, 2.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the oracle's overflow (np.sum)
        _, got = _check(events, X, engine=engine, numeric=True, key="k", time_col="t",
                        cutoff_col="c", windows=("all",), aggregations=("sum", "mean"))
    assert got["v__sum__all"].tolist() == [1.37e284, 3.0, np.inf, 5.0, 1.0]


# ---- an oracle over odd keys, levels, gaps and engines -------------------------------------
KEY_KINDS = {
    "int": ([1, 2, 3], [1, 2, 3, 9], None),
    "float with NaN": ([1.0, 2.0, np.nan], [1.0, 2.0, np.nan, 2.5], None),
    "text with None / NaN": (["a", "b", None], ["a", "b", None, "zz"], None),
    "categorical": (["a", "b", "c"], ["a", "b", "zz"], "category"),
    "pyarrow text": (["a", "b", None], ["a", "b", None, "zz"], "string[pyarrow]"),
    "Int64 with NA": ([1, 2, None], [1, 2, None, 9], "Int64"),
}


@st.composite
def _odd_case(draw):
    kind = draw(st.sampled_from(sorted(KEY_KINDS)))
    ev_keys, x_keys, dtype = KEY_KINDS[kind]
    n = draw(st.integers(0, 25))
    hours = st.one_of(st.integers(0, 24 * 20), st.just(None))
    events = pd.DataFrame({
        "k": pd.Series(draw(st.lists(st.sampled_from(ev_keys), min_size=n, max_size=n)),
                       dtype=object),
        "t": pd.Series([BASE + pd.Timedelta(hours=h) if h is not None else pd.NaT for h in
                        draw(st.lists(hours, min_size=n, max_size=n))], dtype="datetime64[ns]"),
        "v": draw(st.lists(st.sampled_from([1.0, -0.0, 0.0, 2.5, np.nan, 1e300, -3.0]),
                           min_size=n, max_size=n)),
        "lvl": draw(st.lists(st.sampled_from(["app", "web", "a__b", "x=y", None]),
                             min_size=n, max_size=n)),
    }, index=draw(st.permutations(range(100, 100 + n))))
    m = draw(st.integers(1, 8))
    X = pd.DataFrame({
        "k": pd.Series(draw(st.lists(st.sampled_from(x_keys), min_size=m, max_size=m)),
                       dtype=object),
        "c": [BASE + pd.Timedelta(hours=h) for h in
              draw(st.lists(st.integers(-24, 24 * 22), min_size=m, max_size=m))],
    })
    if dtype is not None:
        events["k"], X["k"] = events["k"].astype(dtype), X["k"].astype(dtype)
    elif kind != "text with None / NaN":
        events["k"], X["k"] = pd.to_numeric(events["k"]), pd.to_numeric(X["k"])
    windows = draw(st.lists(st.sampled_from(["1h", "12h", "1D", "3D", "all"]), min_size=1,
                            max_size=3, unique=True))
    gap = draw(st.sampled_from([None, "1min", "1h"]))
    if gap == "1h" and "1h" in windows:
        gap = None
    by = draw(st.sampled_from([None, "lvl"]))
    return events, X, windows, gap, by


@settings(max_examples=60, deadline=None, derandomize=True)
@given(_odd_case(), st.sampled_from(sorted(ENGINES)))
def test_equals_an_independent_oracle_on_odd_keys_and_levels(case, engine):
    events, X, windows, gap, by = case
    snapshot = events.copy(deep=True)
    _check(events, X, engine=engine, key="k", time_col="t", cutoff_col="c",
           windows=windows, gap=gap, by=by, columns=["v"])
    pd.testing.assert_frame_equal(events, snapshot)  # values, dtypes and index


# ---- what held: memory, containers, estimator plumbing -------------------------------------
def test_memory_stays_bounded_when_one_entity_holds_every_event():
    rng = np.random.default_rng(0)
    n = 1_000_000
    events = pd.DataFrame({"k": np.zeros(n, dtype=np.int64),
                           "t": rng.permutation(n).astype(float), "v": rng.normal(size=n)})
    X = pd.DataFrame({"k": np.zeros(10_000, dtype=np.int64), "c": rng.uniform(0, n, 10_000)})
    size = events.memory_usage(deep=True).sum()
    for windows in (("all",), (1_000.0, 100_000.0)):  # blocks engine, then pairs engine
        tracemalloc.start()
        try:
            out = AggregateFeatures(events, key="k", time_col="t", cutoff_col="c",
                                    windows=windows, keep_original=False).fit_transform(X)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert out.shape == (10_000, 7 * len(windows))
        # rows x events pairs would be 10**10; a chunk of pairs is a few 10 MB
        assert peak < 8 * size, (windows, peak / size)


def test_polars_pyarrow_set_output_clone_pickle_and_describe():
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    rng = np.random.default_rng(3)
    events = pd.DataFrame({"k": rng.integers(0, 6, 120),
                           "t": BASE + pd.to_timedelta(rng.integers(0, 500, 120), unit="h"),
                           "v": rng.normal(size=120), "lvl": rng.choice(["app", "web"], 120)})
    X = pd.DataFrame({"k": rng.integers(0, 8, 20), "extra": "x",
                      "c": BASE + pd.to_timedelta(rng.integers(0, 600, 20), unit="h")})
    params = {"key": "k", "time_col": "t", "cutoff_col": "c", "windows": ("1D", "all"),
              "by": "lvl", "gap": "1h"}
    step = AggregateFeatures(events, **params)
    want = step.fit_transform(X)
    assert want.columns[:3].tolist() == ["k", "extra", "c"]
    got = (AggregateFeatures(pl.from_pandas(events), **params).set_output(transform="polars")
           .fit_transform(pl.from_pandas(X)))
    assert isinstance(got, pl.DataFrame)
    pd.testing.assert_frame_equal(got.to_pandas(), want, check_dtype=False)
    arrow = AggregateFeatures(pa.Table.from_pandas(events), **params).fit_transform(
        pa.Table.from_pandas(X))
    pd.testing.assert_frame_equal(arrow, want)
    twin = clone(step)
    assert twin.events is events
    assert twin.get_params()["by"] == "lvl"
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(step)).transform(X), want)
    table = describe_features(step)
    assert table["feature"].tolist() == want.columns.tolist()
    notes = table.set_index("feature")["note"]
    assert notes["lvl=web__v__max__1D"] == (
        "max of v over events with c - 1D <= t < c - 1h and lvl == 'web' (same k)")
