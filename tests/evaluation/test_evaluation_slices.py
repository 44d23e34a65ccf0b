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
    table, judged = worst_slices(X, error.astype(float), rate=True, metric="error_rate")[:2]
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
    table = worst_slices(X, error, rate=True, metric="error_rate").table
    assert not table["significant"].any()


def test_regression_slices_use_a_normal_interval():
    rng = np.random.default_rng(2)
    n = 3000
    X = _features(n, rng)
    err = np.abs(rng.normal(0, 1, n)) * np.where(X["plan"] == "premium", 3.0, 1.0)
    table = worst_slices(X, err, rate=False, metric="mae").table
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
    table = worst_slices(X, loss, rate=False, metric="mae", min_rows=1, top=10_000).table
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
    search = worst_slices(X, error, rate=True, metric="error_rate", min_rows=30, top=10_000)
    table = search.table
    row = table[(table["feature"] == "slice") & (table["slice"] == "small")].iloc[0]
    assert row["value"] == pytest.approx(3 / 33)
    p = stats.binom.sf(2, 33, 30 / n)
    assert row["p_value"] == pytest.approx(p)
    # A single-feature slice is judged at half the family-wise 2.5% over the single slices.
    assert row["p_adjusted"] == pytest.approx(min(1.0, p * 2 * search.single_cells))
    assert p > 0.0125 / search.single_cells
    assert not row["significant"]


def test_discrete_float_values_are_labelled_short():
    # A scaled binary column (diabetes' "sex") showed as "-0.044641636506989144".
    rng = np.random.default_rng(2)
    n = 600
    X = pd.DataFrame({"sex": rng.choice(np.array([-0.044641636506989144, 0.05068011873981862]), n),
                      "close": rng.choice(np.array([0.123456781, 0.123456789]), n)})
    table = worst_slices(X, rng.random(n), rate=False, metric="mae", top=50).table
    assert set(table.loc[table["feature"] == "sex", "slice"]) == {"-0.04464", "0.05068"}
    # Values that would round to the same label keep their full text.
    assert len(set(table.loc[table["feature"] == "close", "slice"])) == 2


def _brute_force_cells(X, n, min_rows):
    """Every single-feature and pair cell with ``min_rows`` to ``n - 1`` rows, by groupby."""
    from mllife.evaluation._slices import code_features

    names, coded = code_features(X)
    frame = pd.DataFrame({name: codes for name, (codes, _) in zip(names, coded, strict=True)})
    single = sum(int(frame[c].value_counts().between(min_rows, n - 1).sum()) for c in names)
    pairs = {(a, b): int(frame.groupby([a, b]).size().between(min_rows, n - 1).sum())
             for i, a in enumerate(names) for b in names[i + 1:]}
    return single, pairs


def _wide(rng, n, n_cat, n_num):
    X = pd.DataFrame({f"c{j}": rng.choice(np.array([f"v{i}" for i in range(2 + j % 5)]), n)
                      for j in range(n_cat)})
    for j in range(n_num):
        X[f"x{j}"] = rng.normal(size=n)
    return X


def test_bonferroni_family_is_every_cell_searched_when_all_pairs_are():
    rng = np.random.default_rng(5)
    n = 1200
    X = _wide(rng, n, 5, 5)                          # 10 features: every pair is searched
    search = worst_slices(X, (rng.random(n) < 0.2).astype(float), rate=True, metric="error_rate")
    single, pairs = _brute_force_cells(X, n, min_slice_rows(n))
    assert search.pairs_searched == search.pairs_total == 45
    assert search.single_cells == single
    assert search.pair_cells == sum(pairs.values())
    assert search.judged == single + sum(pairs.values())


def test_bonferroni_family_counts_the_pairs_the_search_chose_among():
    # 20 features: pairs only among the 12 with the worst single slices, but the count covers
    # every pair (an upper bound for the 124 pairs not searched), so choosing after looking
    # does not make the correction too lenient.
    rng = np.random.default_rng(6)
    n = 1500
    X = _wide(rng, n, 10, 10)
    search = worst_slices(X, (rng.random(n) < 0.2).astype(float), rate=True, metric="error_rate")
    single, pairs = _brute_force_cells(X, n, min_slice_rows(n))
    assert search.pairs_total == 190
    assert search.pairs_searched == 66
    assert search.single_cells == single
    assert search.pair_cells >= sum(pairs.values())
    assert search.pair_cells <= 1.2 * sum(pairs.values())       # the bound is close here


def test_significance_is_the_weighted_bonferroni_rule():
    rng = np.random.default_rng(7)
    n = 3000
    X = _features(n, rng)
    weak = (X["plan"] == "premium").to_numpy()
    error = (rng.random(n) < np.where(weak, 0.18, 0.12)).astype(float)
    search = worst_slices(X, error, rate=True, metric="error_rate", top=10_000)
    table = search.table
    pair = table["feature"].str.contains(" & ")
    overall = error.mean()
    expected_p = stats.binom.sf(np.round(table["value"] * table["n"]) - 1, table["n"], overall)
    np.testing.assert_allclose(table["p_value"], expected_p, rtol=1e-9)
    weight = np.where(pair, 2 * search.pair_cells, 2 * search.single_cells)
    np.testing.assert_allclose(table["p_adjusted"], np.minimum(1.0, expected_p * weight), rtol=1e-9)
    assert (table["significant"] == (table["p_adjusted"] < 0.025)).all()
    row = table[(table["feature"] == "plan") & (table["slice"] == "premium")].iloc[0]
    assert row["significant"]          # found by the single-slice half of the level


def test_an_interaction_without_a_bad_single_slice_is_found():
    # Errors are high where plan = basic and channel = web, and where plan = premium and
    # channel = store: every single value has the overall error rate, two pair cells are
    # worse. With few features every pair is searched.
    rng = np.random.default_rng(8)
    n = 4000
    X = _features(n, rng)
    X["channel"] = rng.choice(np.array(["store", "web"]), n)
    bad = ((X["plan"] == "basic") & (X["channel"] == "web")) | ((X["plan"] == "premium") & (X["channel"] == "store"))
    error = (rng.random(n) < np.where(bad.to_numpy(), 0.3, 0.1)).astype(float)
    table = worst_slices(X, error, rate=True, metric="error_rate").table
    found = table[table["significant"]]
    assert set(found["feature"].head(2)) == {"plan & channel"}
    assert set(found["slice"].head(2)) == {"basic & web", "premium & store"}
    assert not found["feature"].isin(["plan", "channel"]).any()


def test_significant_slices_stay_in_the_table_beyond_the_top_by_gap():
    # Many small noisy slices have larger gaps than the one large, truly worse slice.
    rng = np.random.default_rng(9)
    n = 6000
    X = pd.DataFrame({f"f{j}": rng.choice(np.array(list("abcdefghijklmnopqrst")), n) for j in range(12)})
    X["big"] = np.where(np.arange(n) < 3000, "worse", "better")
    error = (rng.random(n) < np.where(X["big"] == "worse", 0.25, 0.15)).astype(float)
    table = worst_slices(X, error, rate=True, metric="error_rate", top=5).table
    row = table[(table["feature"] == "big") & (table["slice"] == "worse")]
    assert len(row) == 1
    assert row["significant"].iloc[0]
    assert len(table) > 5
    assert table["gap"].is_monotonic_decreasing


def test_tied_absolute_errors_do_not_make_a_slice_without_spread_significant():
    """A regressor off by exactly 1 on 90% of rows: a slice of 1s has se = 0 (was p = 0)."""
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"c": np.repeat(["a", "b", "c", "d"], [40, 360, 300, 300])})
    loss = (rng.random(1_000) < 0.9).astype(float)
    loss[:40] = 1.0   # the whole of slice "a": no spread, mean 1 against about 0.9
    table = worst_slices(X, loss, rate=False, metric="mae").table.set_index("slice")
    assert table.loc["a", "p_value"] > 1e-3
    assert not table["significant"].any()
    # A real weak slice with tied losses is still found.
    loss[:40], loss[40:] = 1.0, (rng.random(960) < 0.5).astype(float)
    table = worst_slices(X, loss, rate=False, metric="mae").table.set_index("slice")
    assert bool(table.loc["a", "significant"])
