"""Sums and means of AggregateFeatures read only the row's own events (review 3).

The oracle sums each window's events as exact fractions and rounds once (a
sum beyond float64 is ±inf), with no code shared with the transformer. The
events span 1e-300..1e300 in magnitude, of both signs, with exact opposites
and values near the float64 limit: what broke the prefix sums that ran
across entities and across the rows of a chunk.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from fractions import Fraction
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mllife.features import AggregateFeatures
from mllife.features import _aggregate_engine as engine_module
from mllife.features import _aggregate_kernels as kernels

ENGINES = {"pairs": {}, "pairs, a reduceat per window": {"_nesting": lambda firsts: None},
           "blocks": {"PAIRS_PER_EVENT": 0}}
WINDOWS = (2.0, 5.0, "all")


def _engine(name):
    stack = contextlib.ExitStack()
    for attr, value in ENGINES[name].items():
        stack.enter_context(mock.patch.object(engine_module, attr, value))
    return stack


def _rounded(total: Fraction) -> float:
    try:
        return float(total)
    except OverflowError:
        return math.inf if total > 0 else -math.inf


def _oracle(events: pd.DataFrame, X: pd.DataFrame) -> dict[str, list[float]]:
    """Per row and window: the exact sum of its own events, rounded once, and the mean."""
    out: dict[str, list[float]] = {}
    rows = events.to_dict("records")
    for w in WINDOWS:
        label = w if isinstance(w, str) else f"{w:g}"
        sums, means = [], []
        for key, cut in zip(X["k"], X["c"], strict=True):
            chosen = [Fraction(e["v"]) for e in rows
                      if e["k"] == key and e["t"] < cut and (w == "all" or e["t"] >= cut - w)
                      and not math.isnan(e["v"])]
            total = _rounded(sum(chosen, Fraction(0)))
            sums.append(total)
            means.append(total / len(chosen) if chosen else math.nan)
        out[f"v__sum__{label}"], out[f"v__mean__{label}"] = sums, means
    return out


def _transform(events: pd.DataFrame, X: pd.DataFrame, engine: str) -> pd.DataFrame:
    with _engine(engine), warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warnings included: none may escape
        return AggregateFeatures(events, key="k", time_col="t", cutoff_col="c", windows=WINDOWS,
                                 aggregations=("sum", "mean"), keep_original=False
                                 ).fit_transform(X)


def _assert_matches(got: pd.DataFrame, want: dict[str, list[float]]) -> None:
    for col, values in want.items():
        g, w = got[col].to_numpy(dtype=float), np.array(values, dtype=float)
        infinite = np.isinf(w)
        np.testing.assert_array_equal(g[infinite], w[infinite], err_msg=col)
        np.testing.assert_allclose(g[~infinite], w[~infinite], rtol=1e-9, atol=0, err_msg=col)


_MAGNITUDE = st.one_of(
    st.floats(-300, 300).map(lambda e: 10.0**e),
    st.sampled_from([0.0, 1.0, 0.1, 1e-300, 5e-324, 1e300, 1.7e308, 2.0**-1022]),
)
_VALUE = st.tuples(st.sampled_from([1.0, -1.0]), _MAGNITUDE).map(lambda p: p[0] * p[1])


@st.composite
def _case(draw):
    n = draw(st.integers(0, 30))
    values = draw(st.lists(_VALUE, min_size=n, max_size=n))
    # exact opposites of earlier values (the cancellations that defeat plain sums)
    for i in draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=n // 2 if n else 0)):
        values[i] = -values[(i * 7) % n]
    values = [math.nan if draw(st.integers(0, 9)) == 0 else v for v in values]
    events = pd.DataFrame({"k": draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
                           "t": draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)),
                           "v": values}).astype({"t": float})
    m = draw(st.integers(1, 8))
    X = pd.DataFrame({"k": draw(st.lists(st.integers(0, 4), min_size=m, max_size=m)),
                      "c": draw(st.lists(st.integers(0, 14), min_size=m, max_size=m))}
                     ).astype({"c": float})
    return events, X


@pytest.mark.parametrize("engine", sorted(ENGINES))
@settings(max_examples=60, deadline=None, derandomize=True)
@given(case=_case())
def test_every_sum_and_mean_is_the_exact_sum_of_the_rows_own_events(engine, case):
    events, X = case
    _assert_matches(_transform(events, X, engine), _oracle(events, X))


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_a_huge_customer_changes_no_other_customers_sums_by_a_single_bit(engine):
    """Found: one customer's 1e300 / 1.7e308 amounts turned others' sums into 0 or NaN.
    The others' amounts are positive and the huge customer's are not: the sums of
    absolute values the error bounds need then run too, and change nothing."""
    rng = np.random.default_rng(3)
    n = 3_000
    events = pd.DataFrame({"k": rng.integers(1, 40, n), "t": rng.uniform(0, 100, n),
                           "v": np.round(rng.gamma(2.0, 25.0, n), 2)})
    X = pd.DataFrame({"k": rng.integers(0, 40, 500), "c": rng.uniform(0, 110, 500)})
    alone = _transform(events, X, engine)
    hostile = pd.DataFrame({"k": 0, "t": [1.0, 2.0, 3.0, 4.0, 5.0],
                            "v": [1e300, 1.37e284, -1e300, 1.7e308, 1.7e308]})
    both = _transform(pd.concat([hostile, events], ignore_index=True), X, engine)
    others = X["k"].to_numpy() != 0
    pd.testing.assert_frame_equal(both[others], alone[others], check_exact=True)
    hostile_sums = both.loc[~others & (X["c"] > 5.0), "v__sum__all"]
    assert len(hostile_sums) > 3
    assert (hostile_sums == np.inf).all()
    # the planted defect this test catches: one running sum over every customer
    running = np.cumsum([0.0, 1e300, 1.0, 2.0])
    assert running[3] - running[1] == 0.0


def test_an_overflowing_sum_is_inf_with_its_sign_and_never_nan():
    events = pd.DataFrame({"k": [1, 1, 2, 2, 3, 3, 3], "t": [1.0] * 7,
                           "v": [1.7e308, 1.7e308, -1.7e308, -1.7e308, 1.7e308, 1.7e308,
                                 -1.7e308]})
    X = pd.DataFrame({"k": [1, 2, 3], "c": [2.0, 2.0, 2.0]})
    for engine in ENGINES:
        got = _transform(events, X, engine)
        assert got["v__sum__all"].tolist() == [math.inf, -math.inf, 1.7e308], engine
        assert got["v__mean__all"].tolist()[:2] == [math.inf, -math.inf], engine


def test_nothing_is_recomputed_exactly_for_plain_amounts():
    """The fast sums are kept when they are provably within 1e-10: ordinary data never
    reaches the exact (slower) path, and its answers match the oracle."""
    rng = np.random.default_rng(5)
    events = pd.DataFrame({"k": rng.integers(0, 20, 2_000), "t": rng.uniform(0, 100, 2_000),
                           "v": np.round(rng.gamma(2.0, 25.0, 2_000), 2)})
    X = pd.DataFrame({"k": rng.integers(0, 20, 200), "c": rng.uniform(0, 110, 200)})
    want = _oracle(events, X)
    for engine in ENGINES:
        with mock.patch.object(kernels, "exact_sums", wraps=kernels.exact_sums) as spy:
            got = _transform(events, X, engine)
        assert not spy.called, engine
        _assert_matches(got, want)


# ---- the kernels -----------------------------------------------------------------------------
def _exact(values) -> float:
    return _rounded(sum((Fraction(float(v)) for v in values), Fraction(0)))


@settings(max_examples=80, deadline=None, derandomize=True)
@given(values=st.lists(_VALUE, min_size=1, max_size=40),
       ranges=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=1,
                       max_size=12),
       chunk=st.sampled_from([1, 2, 3, 1 << 20]))
def test_exact_sums_are_the_exact_sums_rounded_once(values, ranges, chunk):
    """Against exact fractions, bit for bit; tiny chunks cut ranges into pieces whose
    digits are carried from batch to batch."""
    v = np.array(values)
    lo = np.array([min(a, b, len(v)) for a, b in ranges])
    hi = np.array([min(max(a, b), len(v)) for a, b in ranges])
    got = kernels.exact_sums(v, lo, hi, chunk=chunk)
    assert got.tolist() == [_exact(v[a:b]) for a, b in zip(lo, hi, strict=True)]


def test_exact_sums_round_to_nearest_even_with_a_sticky_bit():
    """1 + 2**-53 is a tie (rounds to 1); the least subnormal below it breaks the tie."""
    tie = np.array([1.0, 2.0**-53, 5e-324, 1.0, 2.0**-53])
    got = kernels.exact_sums(tie, np.array([0, 3]), np.array([3, 5]))
    assert got.tolist() == [1.0 + 2.0**-52, 1.0]
    assert kernels.exact_sums(np.array([0.1] * 10), np.array([0]), np.array([10]))[0] == 1.0


def test_range_sum_reads_only_the_range_and_bounds_its_error():
    rng = np.random.default_rng(7)
    n, block = 1_000, 8
    values = rng.normal(size=n + 1) * 10.0 ** rng.integers(-5, 5, n + 1)
    values[[100, 500]] = [1e300, -1e300]
    values[n] = 0.0  # the sentinel
    offsets = np.array([0, 37, 37, 600, 1_000])  # groups of 37, 0, 563 and 400 values
    table = kernels.sum_table(values, offsets, block=block)
    assert len(table["levels"]) == 7  # runs of up to 2**6 whole blocks: 563 // 8 == 70
    group = rng.choice([0, 2, 3], 600)
    lo = offsets[group] + rng.integers(0, 400, 600) % np.diff(offsets)[group]
    hi = np.minimum(lo + rng.integers(0, 300, 600), offsets[group + 1])
    got, gamma = kernels.range_sum(values, table, lo, hi)
    sizes, _ = kernels.range_sum(np.abs(values), kernels.sum_table(np.abs(values), offsets,
                                                                   block=block), lo, hi)
    for g, size, a, b in zip(got, sizes, lo, hi, strict=True):
        assert abs(g - _exact(values[a:b])) <= gamma * size
    # a range clear of both huge values is not touched by them, to the last bit, nor by
    # the other groups: the same group after a longer first group sums the same way
    calm = values.copy()
    calm[[100, 500]] = 0.0
    shifted = np.concatenate((rng.normal(size=5), calm))
    moved = offsets + 5
    moved[0] = 0
    again, _ = kernels.range_sum(shifted, kernels.sum_table(shifted, moved, block=block),
                                 lo + 5, hi + 5)
    clear = ((lo > 100) & (hi <= 500)) | (lo >= 600)
    assert clear.sum() > 100
    assert again[clear].tolist() == got[clear].tolist()
    assert (again[~clear] != got[~clear]).sum() > 20


def test_untrusted_flags_cancellation_overflow_and_nothing_else():
    sums = np.array([2.0, 0.0, 0.0, np.inf, np.nan, 1e-3])
    sizes = np.array([2.0, 0.0, 4.0, np.inf, np.inf, 1e15])
    assert kernels.untrusted(sums, sizes, 1e-14).tolist() == [False, False, True, True, True,
                                                             True]
