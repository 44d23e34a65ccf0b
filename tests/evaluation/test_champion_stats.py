"""The statistics behind compare_champion: McNemar, DeLong and the weighted bootstrap metrics."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from mllife.evaluation._stats_champion import (
    MCNEMAR_EXACT_BELOW,
    PlanSet,
    RankedScores,
    Weights,
    bootstrap_p_value,
    count_chunks,
    delong,
    mcnemar,
    percentile_interval,
)

# ---- McNemar ---------------------------------------------------------------------------


def _paired(b, c, both=50, neither=10):
    """Correctness vectors with b rows only A gets right and c rows only B gets right."""
    a = np.r_[np.ones(both), np.ones(b), np.zeros(c), np.zeros(neither)].astype(bool)
    bb = np.r_[np.ones(both), np.zeros(b), np.ones(c), np.zeros(neither)].astype(bool)
    return a, bb


@pytest.mark.parametrize(("b", "c"), [(40, 20), (15, 35), (30, 30), (100, 61)])
def test_mcnemar_matches_the_chi_square_formula(b, c):
    result = mcnemar(*_paired(b, c))
    statistic = (abs(b - c) - 1) ** 2 / (b + c)
    assert result.method == "mcnemar-chi2"
    assert result.statistic == pytest.approx(statistic)
    assert result.p_value == pytest.approx(stats.chi2.sf(statistic, df=1))
    assert (result.only_champion, result.only_challenger) == (b, c)


@pytest.mark.parametrize(("b", "c"), [(0, 5), (3, 9), (12, 12), (1, 0), (20, 4)])
def test_mcnemar_exact_matches_scipy_binomtest(b, c):
    assert b + c < MCNEMAR_EXACT_BELOW
    result = mcnemar(*_paired(b, c))
    assert result.method == "mcnemar-exact"
    assert result.p_value == pytest.approx(stats.binomtest(b, b + c, 0.5).pvalue)


def test_mcnemar_without_discordant_rows():
    result = mcnemar(*_paired(0, 0))
    assert result.p_value == 1.0


# ---- DeLong -------------------------------------------------------------------------------


def _slow_delong(y, s1, s2):
    """DeLong's variance from every positive/negative pair (O(n^2), for checking only)."""
    pos, neg = y == 1, y == 0
    comps = []
    for s in (s1, s2):
        x, z = s[pos][:, None], s[neg][None, :]
        psi = (x > z) + 0.5 * (x == z)
        comps.append((psi.mean(), psi.mean(axis=1), psi.mean(axis=0)))
    aucs = np.array([c[0] for c in comps])
    v10 = np.vstack([c[1] for c in comps])
    v01 = np.vstack([c[2] for c in comps])
    s = np.cov(v10) / pos.sum() + np.cov(v01) / neg.sum()
    var = s[0, 0] + s[1, 1] - 2 * s[0, 1]
    z = (aucs[1] - aucs[0]) / np.sqrt(var)
    return aucs, var, 2 * stats.norm.sf(abs(z))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("ties", [False, True])
def test_delong_matches_the_slow_reference(seed, ties):
    rng = np.random.default_rng(seed)
    n = 120
    y = rng.integers(0, 2, n)
    s1 = y * 0.8 + rng.normal(size=n)
    s2 = y * 1.2 + rng.normal(size=n)
    if ties:
        s1, s2 = np.round(s1), np.round(s2 * 2) / 2
    aucs, var, p = _slow_delong(y, s1, s2)
    result = delong(y == 1, s1, s2)
    assert (result.auc_a, result.auc_b) == pytest.approx(tuple(aucs))
    assert result.auc_a == pytest.approx(skm.roc_auc_score(y, s1))
    assert result.variance == pytest.approx(var)
    assert result.p_value == pytest.approx(p)


def test_delong_identical_scores():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 50)
    s = rng.normal(size=50)
    result = delong(y == 1, s, s)
    assert result.p_value == 1.0
    assert result.statistic == 0.0


# ---- weighted metrics (the bootstrap's engine) ---------------------------------------------


@pytest.mark.parametrize("ties", [False, True])
def test_ranked_scores_match_sklearn_with_sample_weights(ties):
    rng = np.random.default_rng(3)
    n = 400
    y = rng.integers(0, 2, n)
    s = rng.normal(size=n) + y
    if ties:
        s = np.round(s)
    counts = rng.integers(0, 4, size=(6, n)).astype(np.float32)
    ranked = RankedScores(y == 1, s)
    w = Weights(counts)
    auc, ap = ranked.roc_auc(w), ranked.average_precision(w)
    for i in range(6):
        assert auc[i] == pytest.approx(skm.roc_auc_score(y, s, sample_weight=counts[i]))
        assert ap[i] == pytest.approx(
            skm.average_precision_score(y, s, sample_weight=counts[i]), rel=1e-6)


def test_ranked_scores_of_several_classes_share_weights_correctly():
    # One-vs-rest rankings of classes with equal counts share one Weights chunk: each must
    # use its own positives (a cache keyed by the number of positives alone mixed them up).
    rng = np.random.default_rng(5)
    y = np.repeat([0, 1, 2], 100)
    rng.shuffle(y)
    counts = rng.integers(0, 3, size=(4, y.size)).astype(np.float32)
    w = Weights(counts)
    for k in range(3):
        s = rng.normal(size=y.size) + (y == k)
        ranked = RankedScores(y == k, s, group=k)
        auc = ranked.roc_auc(w)
        for i in range(4):
            assert auc[i] == pytest.approx(skm.roc_auc_score(y == k, s, sample_weight=counts[i]))


def test_ranked_scores_undefined_without_a_class():
    y = np.array([1, 0, 1, 0])
    counts = np.array([[1, 0, 3, 0]], dtype=np.float32)   # no negative drawn
    w = Weights(counts)
    ranked = RankedScores(y == 1, np.array([0.1, 0.2, 0.3, 0.4]))
    assert np.isnan(ranked.roc_auc(w)[0])


def test_count_chunks_are_bootstrap_counts_and_deterministic():
    n, n_boot = 37, 250
    chunks = list(count_chunks(n, n_boot, np.random.default_rng(0)))
    counts = np.vstack(chunks)
    assert counts.shape == (n_boot, n)
    assert (counts.sum(axis=1) == n).all()
    again = np.vstack(list(count_chunks(n, n_boot, np.random.default_rng(0))))
    np.testing.assert_array_equal(counts, again)
    # Each row is drawn Binomial(n, 1/n) times: mean 1.
    assert counts.mean() == pytest.approx(1.0)


def test_plan_set_sums_integer_and_float_columns_exactly():
    from mllife.evaluation._stats_champion import Plan

    rng = np.random.default_rng(0)
    n = 300
    ints = rng.integers(0, 2, n).astype(float)
    floats = rng.normal(size=n)
    plans = PlanSet([Plan(ints[:, None], lambda s: s[:, 0]),
                     Plan(floats[:, None], lambda s: s[:, 0])])
    counts = rng.integers(0, 3, size=(4, n)).astype(np.float32)
    out = plans.evaluate(counts)
    np.testing.assert_array_equal(out[0], counts.astype(float) @ ints)
    np.testing.assert_allclose(out[1], counts.astype(float) @ floats, rtol=1e-12)


def test_percentile_interval_and_p_value():
    values = np.r_[np.linspace(-1, 1, 1001), np.nan]
    low, high = percentile_interval(values, 0.9)
    assert (low, high) == pytest.approx((-0.9, 0.9))
    assert bootstrap_p_value(values) == pytest.approx(1.0)
    assert bootstrap_p_value(np.linspace(0.1, 1, 999)) == pytest.approx(2 / 1000)
    assert np.isnan(percentile_interval(np.array([np.nan]), 0.95)[0])
