"""mllife.drift.stats: known answers against scipy/numpy, NaN/inf policy, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from mllife import InputError
from mllife.drift import stats

SIZES = [(40, 60), (300, 300), (5_000, 7_000), (20_000, 15_000)]


def _samples(seed, n1, n2, *, rounded=False):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=n1), rng.normal(0.08, 1.1, size=n2)
    if rounded:  # ties
        x, y = np.round(x, 1), np.round(y, 1)
    return x, y


def _table(x, y):
    labels = sorted(set(x) | set(y))
    return np.array([[np.sum(x == c) for c in labels], [np.sum(y == c) for c in labels]])


@pytest.mark.parametrize("rounded", [False, True])
@pytest.mark.parametrize(("n1", "n2"), SIZES)
def test_ks_matches_scipy(n1, n2, rounded):
    x, y = _samples(n1 + n2, n1, n2, rounded=rounded)
    d, p = stats.ks(x, y)
    expected = sps.ks_2samp(x, y)
    assert d == pytest.approx(expected.statistic, abs=1e-12)
    if max(n1, n2) <= 10_000:
        assert p == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    else:  # limiting distribution above en = 10,000: within 1% relative (p above 1e-8)
        assert p == pytest.approx(expected.pvalue, rel=0.01)


@pytest.mark.parametrize("d", [0.002, 0.004, 0.006, 0.008])
def test_ks_asymptotic_pvalue_within_one_percent_of_scipy(d):
    from mllife.drift._kernels import ks_pvalue

    en = 50_000
    expected = sps.kstwo.sf(d, en)
    assert ks_pvalue(d, 100_000, 100_000) == pytest.approx(expected, rel=0.01)


@pytest.mark.parametrize("p", [1e-2, 1e-4, 1e-6, 1e-8])
def test_ks_limiting_distribution_within_the_documented_two_and_a_half_percent(p):
    """Just above en = 10,000 (the switch to kstwobign) the relative error peaks near 2.45% at p = 1e-8."""
    from mllife.drift._kernels import ks_pvalue

    n = 20_002  # en = 10,001
    d = sps.kstwo.isf(p, 10_001)
    assert ks_pvalue(d, n, n) == pytest.approx(p, rel=0.025)


@pytest.mark.parametrize("rounded", [False, True])
@pytest.mark.parametrize(("n1", "n2"), SIZES[:3])
def test_distances_match_scipy(n1, n2, rounded):
    x, y = _samples(n1 * 3 + n2, n1, n2, rounded=rounded)
    assert stats.wasserstein(x, y)[0] * np.std(x) == pytest.approx(sps.wasserstein_distance(x, y), rel=1e-10)
    assert stats.energy(x, y)[0] == pytest.approx(sps.energy_distance(x, y), rel=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scipy's "p-value capped" note
        try:
            expected = sps.anderson_ksamp([x, y], variant="midrank")
        except TypeError:  # scipy < 1.17 names the same statistic midrank=True
            expected = sps.anderson_ksamp([x, y], midrank=True)
    stat, p = stats.anderson(x, y)
    assert stat == pytest.approx(expected.statistic, rel=1e-9)
    if 0.001 < expected.pvalue < 0.25:  # scipy's table range: the asymptotic tail agrees within 3%
        assert p == pytest.approx(expected.pvalue, rel=0.03)
    else:  # scipy caps: ours is beyond the cap on the same side
        assert (p <= 0.001) if expected.pvalue <= 0.001 else (p >= 0.25)


def test_anderson_pvalue_is_not_capped():
    x, _y = _samples(1, 500, 500)
    assert stats.anderson(x, x + 5)[1] < 1e-100
    assert stats.anderson(x, x + 0.25)[1] < 0.001  # scipy would say 0.001
    assert stats.anderson(x, x)[1] > 0.9


@pytest.mark.parametrize("t", [0.325, 1.226, 1.961, 2.718, 3.752, 4.592, 6.546])
def test_anderson_pvalue_matches_scholz_stephens_critical_values(t):
    """scipy's table of critical values of the standardised statistic (m = 1)."""
    from mllife.drift._kernels import anderson_pvalue

    table = {0.325: 0.25, 1.226: 0.1, 1.961: 0.05, 2.718: 0.025, 3.752: 0.01, 4.592: 0.005, 6.546: 0.001}
    assert anderson_pvalue(t) == pytest.approx(table[t], rel=0.04)


def _anderson_null(n1, n2, reps, rng):
    """Unstandardised midrank A2akN of ``reps`` random splits of untied data, vectorised."""
    big_n = n1 + n2
    is_ref = rng.random((reps, big_n)).argsort(axis=1) < n1
    b = np.arange(big_n) + 0.5
    denom = b * (big_n - b) - big_n / 4.0
    total = 0.0
    for mask, n_i in ((is_ref, n1), (~is_ref, n2)):
        m = np.cumsum(mask, axis=1) - mask / 2.0
        total = total + ((big_n * m - b * n_i) ** 2 / denom).sum(axis=1) / big_n / n_i
    return total * (big_n - 1) / big_n


def test_anderson_far_tail_agrees_with_a_permutation_p_value():
    """Where scipy stops (p < 0.001) the asymptotic tail still tracks the permutation distribution.

    40 vs 40 untied values with p near 5e-4; 100,000 random splits (about 45
    exceedances, so the permutation p-value is known to about 15%).
    """
    from mllife.drift._kernels import anderson_from, merge_sorted

    rng = np.random.default_rng(7)
    n = 40
    x = np.sort(rng.normal(size=n))
    for shift in np.arange(0.5, 1.0, 0.02):
        y = np.sort(rng.normal(size=n)) + shift
        stat, p = anderson_from(merge_sorted(x, y))
        if 1e-4 < p < 5e-4:
            break
    assert 1e-4 < p < 5e-4
    is_ref = np.r_[np.ones(n, bool), np.zeros(n, bool)][np.argsort(np.r_[x, y])]
    b = np.arange(2 * n) + 0.5
    denom = b * (2 * n - b) - 2 * n / 4.0
    a2 = sum(((2 * n * (np.cumsum(mk) - mk / 2.0) - b * n) ** 2 / denom).sum() / (2 * n) / n
             for mk in (is_ref, ~is_ref)) * (2 * n - 1) / (2 * n)
    sigma = (a2 - 1.0) / stat  # sigma_N of these sizes, recovered from the observed statistic
    null = np.concatenate([_anderson_null(n, n, 20_000, rng) for _ in range(5)])
    perm = (np.sum((null - 1.0) / sigma >= stat - 1e-9) + 1) / (null.size + 1)
    assert perm == pytest.approx(p, rel=0.35)


@pytest.mark.parametrize("k", [2, 5, 20])
def test_categorical_tests_match_chi2_contingency(k):
    rng = np.random.default_rng(k)
    levels = np.array([f"c{i}" for i in range(k)], dtype=object)
    x = rng.choice(levels, 800)
    y = rng.choice(levels, 600, p=np.r_[2.0, np.ones(k - 1)] / (k + 1))
    table = _table(x, y)
    chi, p, _, _ = sps.chi2_contingency(table, correction=False)
    assert stats.chi2(x, y) == pytest.approx((chi, p), rel=1e-10)
    g, pg, _, _ = sps.chi2_contingency(table, correction=False, lambda_="log-likelihood")
    assert stats.g_test(x, y) == pytest.approx((g, pg), rel=1e-10)
    v, pv = stats.cramers_v(x, y)
    assert v == pytest.approx(np.sqrt(chi / table.sum()), rel=1e-10)
    assert pv == pytest.approx(p, rel=1e-10)
    js = stats.jensen_shannon(x, y)[0]
    assert js == pytest.approx(jensenshannon(table[0], table[1], base=2), rel=1e-10)
    share_x, share_y = table[0] / table[0].sum(), table[1] / table[1].sum()
    assert stats.hellinger(x, y)[0] == pytest.approx(
        np.sqrt(0.5 * np.sum((np.sqrt(share_x) - np.sqrt(share_y)) ** 2)), rel=1e-10)


def test_category_only_in_current_enters_the_table():
    x = np.array(["a"] * 60 + ["b"] * 40, dtype=object)
    y = np.array(["a"] * 50 + ["b"] * 30 + ["new"] * 20, dtype=object)
    chi, p, _, _ = sps.chi2_contingency(_table(x, y), correction=False)
    assert stats.chi2(x, y) == pytest.approx((chi, p))


def test_proportion_z_matches_the_formula():
    x = np.r_[np.ones(45), np.zeros(55)]
    y = np.r_[np.ones(70), np.zeros(80)]
    p1, p2, pooled = 0.45, 70 / 150, 115 / 250
    z = (p2 - p1) / np.sqrt(pooled * (1 - pooled) * (1 / 100 + 1 / 150))
    stat, p = stats.proportion_z(x, y, category=1.0)
    assert stat == pytest.approx(z)
    assert p == pytest.approx(2 * sps.norm.sf(abs(z)))
    # default positive: the most frequent pooled category (0.0 here), z flips sign
    assert stats.proportion_z(x, y)[0] == pytest.approx(-z)


@pytest.mark.parametrize("bins", [5, 10, 20])
def test_psi_matches_direct_numpy(bins):
    rng = np.random.default_rng(bins)
    x, y = rng.normal(size=3_000), rng.normal(0.3, 1.2, size=2_000)
    edges = np.unique(np.quantile(x, np.arange(1, bins) / bins))
    cx = np.bincount(np.digitize(x, edges, right=True), minlength=edges.size + 1)
    cy = np.bincount(np.digitize(y, edges, right=True), minlength=edges.size + 1)
    p = (cx + 0.5) / (cx.sum() + 0.5 * cx.size)
    q = (cy + 0.5) / (cy.sum() + 0.5 * cy.size)
    assert stats.psi(x, y, bins=bins)[0] == pytest.approx(np.sum((q - p) * np.log(q / p)), rel=1e-12)


def test_psi_is_finite_with_empty_bins_on_either_side():
    value, p = stats.psi(["a"] * 10, ["b"] * 10)
    assert np.isfinite(value)
    assert value > 1
    assert p is None
    assert np.isfinite(stats.psi(np.arange(100.0), np.arange(100.0) + 1000)[0])


def test_nan_dropped_and_inf_excluded_from_numeric_statistics():
    x, y = _samples(3, 200, 200)
    dirty_x = np.r_[x, np.nan, np.inf, -np.inf]
    dirty_y = pd.Series(np.r_[y, np.nan, np.nan])
    assert stats.ks(dirty_x, dirty_y) == stats.ks(x, y)
    assert stats.wasserstein(dirty_x, dirty_y) == stats.wasserstein(x, y)
    assert stats.psi(dirty_x, dirty_y) == stats.psi(x, y)
    # categories: missing values dropped
    assert stats.chi2(["a", None, "b"], ["a", "b", np.nan]) == stats.chi2(["a", "b"], ["a", "b"])


def test_datetimes_are_compared_as_seconds():
    a = pd.Series(pd.date_range("2024-01-01", periods=50, freq="D"))
    b = a + pd.Timedelta(days=10)
    d, _ = stats.ks(a, b)
    assert d == pytest.approx(10 / 50)


def test_identical_samples_give_zero():
    x, _ = _samples(5, 500, 10)
    for fn in (stats.ks, stats.wasserstein, stats.energy, stats.psi, stats.jensen_shannon, stats.hellinger):
        assert fn(x, x.copy())[0] == pytest.approx(0.0, abs=1e-12)
    cats = np.array(list("abcab"), dtype=object)
    assert stats.chi2(cats, cats, min_expected=0) == (0.0, 1.0)
    assert stats.chi2(cats, cats) == (0.0, None)  # 10 values: too sparse for any expected count of 5


def test_constant_samples():
    assert stats.ks([1.0] * 5, [1.0] * 5) == (0.0, 1.0)
    assert stats.wasserstein([1.0] * 5, [1.0] * 5)[0] == 0.0
    assert stats.wasserstein([1.0] * 4, [3.0] * 4)[0] == pytest.approx(2.0)  # pooled std is 1
    assert stats.chi2(["a"] * 5, ["a"] * 7) == (0.0, 1.0)


def test_bad_input_raises_our_error():
    with pytest.raises(InputError, match="reference sample has no finite value"):
        stats.ks([np.nan, np.inf], [1.0, 2.0])
    with pytest.raises(InputError, match="current sample has no non-missing value"):
        stats.chi2(["a"], [None, None])
    with pytest.raises(InputError, match="expected numbers"):
        stats.ks(["a", "b"], ["a", "b"])
    with pytest.raises(InputError, match="bins"):
        stats.psi([1.0, 2.0], [1.0, 2.0], bins=1)
    with pytest.raises(InputError, match="kind"):
        stats.psi([1.0, 2.0], [1.0, 2.0], kind="text")
    with pytest.raises(InputError, match="Anderson-Darling"):
        stats.anderson([1.0, 1.0], [1.0, 1.0])


def test_inputs_are_not_mutated():
    x = pd.Series([3.0, 1.0, np.nan, 2.0, np.inf])
    y = np.array([2.0, 5.0, 1.0, np.nan])
    x0, y0 = x.copy(), y.copy()
    for fn in (stats.ks, stats.wasserstein, stats.energy, stats.psi, stats.anderson):
        fn(x, y)
    pd.testing.assert_series_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=40),
       st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=40))
def test_properties(xs, ys):
    d, p = stats.ks(xs, ys)
    assert 0.0 <= d <= 1.0
    assert 0.0 <= p <= 1.0
    assert stats.ks(ys, xs)[0] == pytest.approx(d)
    assert 0.0 <= stats.jensen_shannon(xs, ys)[0] <= 1.0 + 1e-12
    assert 0.0 <= stats.hellinger(xs, ys)[0] <= 1.0 + 1e-12
    assert stats.wasserstein(xs, ys)[0] >= 0.0
    assert stats.energy(xs, ys)[0] == pytest.approx(sps.energy_distance(xs, ys), rel=1e-7, abs=1e-9)
