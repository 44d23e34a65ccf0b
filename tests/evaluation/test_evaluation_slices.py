"""Worst slices: a planted weak slice is found, clean data raises no alarm."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from mllife.evaluation._slices import min_slice_rows, wilson_interval, worst_slices


def _features(n, rng):
    return pd.DataFrame({
        "region": rng.choice(np.array(["north", "south", "east", "west"]), n),
        "plan": rng.choice(np.array(["basic", "premium"]), n),
        "age": rng.normal(45, 12, n),
        "customer_id": [f"C{i:06d}" for i in range(n)],
    })


def test_planted_weak_slice_is_found_first():
    rng = np.random.default_rng(0)
    n = 4000
    X = _features(n, rng)
    weak = (X["region"] == "east").to_numpy() & (X["age"] > 55).to_numpy()
    error = rng.random(n) < np.where(weak, 0.45, 0.10)
    table, judged = worst_slices(X, error.astype(float), rate=True, metric="error_rate")
    assert judged > 10
    top = table.iloc[0]
    assert "region" in top["feature"]
    assert "east" in top["slice"]
    assert "age" in top["feature"]
    assert top["significant"]
    assert top["ci_low"] > top["overall"]
    assert (table["n"] >= min_slice_rows(n)).all()
    assert "customer_id" not in " ".join(table["feature"])  # ID-like columns are not sliced


def test_clean_data_raises_no_false_alarm():
    rng = np.random.default_rng(1)
    n = 5000
    X = _features(n, rng)
    error = (rng.random(n) < 0.2).astype(float)
    table, _ = worst_slices(X, error, rate=True, metric="error_rate")
    assert not table["significant"].any()


def test_regression_slices_use_a_normal_interval():
    rng = np.random.default_rng(2)
    n = 3000
    X = _features(n, rng)
    err = np.abs(rng.normal(0, 1, n)) * np.where(X["plan"] == "premium", 3.0, 1.0)
    table, _ = worst_slices(X, err, rate=False, metric="mae")
    top = table.iloc[0]
    assert top["slice"].startswith("premium") or "premium" in top["slice"]
    mask = (X["plan"] == "premium").to_numpy()
    row = table[(table["feature"] == "plan") & (table["slice"] == "premium")].iloc[0]
    se = err[mask].std(ddof=1) / np.sqrt(mask.sum())
    assert row["value"] == pytest.approx(err[mask].mean())
    assert row["ci_low"] == pytest.approx(err[mask].mean() - 1.959963984540054 * se)


def test_wilson_interval_matches_scipy():
    k, n = np.array([0, 3, 50, 99]), np.array([10, 40, 100, 100])
    low, high = wilson_interval(k, n)
    for i in range(len(k)):
        ci = stats.binomtest(int(k[i]), int(n[i])).proportion_ci(method="wilson")
        assert low[i] == pytest.approx(ci.low, abs=1e-12)
        assert high[i] == pytest.approx(ci.high, abs=1e-12)


@given(seed=st.integers(0, 10_000), n=st.integers(60, 400))
def test_slice_values_equal_groupby_means(seed, n):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"g": rng.choice(np.array(["a", "b", "c"]), n),
                      "h": rng.choice(np.array(["x", "y"]), n)})
    loss = rng.random(n)
    table, _ = worst_slices(X, loss, rate=False, metric="mae", min_rows=1, top=10_000)
    single = table[table["feature"] == "g"].set_index("slice")["value"]
    expected = pd.Series(loss).groupby(X["g"]).mean()
    for key, value in single.items():
        assert value == pytest.approx(expected[key])
    pair = table[table["feature"].isin(["g & h", "h & g"])]
    assert pair["n"].sum() == n  # every row falls in exactly one cell of the pair


def test_few_errors_in_a_small_slice_are_not_significant():
    # 3 errors in a 33-row slice against a 1.3% overall rate: binomial p = 0.009, which is
    # common among hundreds of slices; Wilson's bound at the Bonferroni z flagged it.
    rng = np.random.default_rng(1)
    n = 2250
    X = pd.DataFrame({f"f{j}": rng.choice(np.array(list("abcdefghij")), n) for j in range(40)})
    X["slice"] = np.where(np.arange(n) < 33, "small", "rest")
    error = np.zeros(n)
    error[:3] = 1.0                       # 3 of the 33 rows of "small"
    error[33 + rng.choice(n - 33, 27, replace=False)] = 1.0   # 27 elsewhere: 30/2250 overall
    table, judged = worst_slices(X, error, rate=True, metric="error_rate", min_rows=30)
    row = table[(table["feature"] == "slice") & (table["slice"] == "small")].iloc[0]
    assert row["value"] == pytest.approx(3 / 33)
    p = stats.binom.sf(2, 33, 30 / n)
    assert p > 0.05 / (2 * judged)
    assert not row["significant"]


def test_discrete_float_values_are_labelled_short():
    # A scaled binary column (diabetes' "sex") showed as "-0.044641636506989144".
    rng = np.random.default_rng(2)
    n = 600
    X = pd.DataFrame({"sex": rng.choice(np.array([-0.044641636506989144, 0.05068011873981862]), n),
                      "close": rng.choice(np.array([0.123456781, 0.123456789]), n)})
    table, _ = worst_slices(X, rng.random(n), rate=False, metric="mae", top=50)
    assert set(table.loc[table["feature"] == "sex", "slice"]) == {"-0.04464", "0.05068"}
    # Values that would round to the same label keep their full text.
    assert len(set(table.loc[table["feature"] == "close", "slice"])) == 2
