"""The statistics behind compare_champion: McNemar, DeLong and the weighted bootstrap metrics."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn import metrics as skm

from mllife.evaluation._stats_champion import (
    JACK_GROUPS,
    MCNEMAR_EXACT_BELOW,
    BCa,
    Plan,
    PlanSet,
    RankedScores,
    Weights,
    auc_permutation,
    bca,
    count_chunks,
    delong,
    mcnemar,
    rank_permutation,
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


# ---- BCa ---------------------------------------------------------------------------------


def test_bca_without_bias_or_skew_is_the_percentile_interval():
    values = np.r_[np.linspace(-1, 1, 1001), np.nan]
    b = bca(values, 0.0, np.array([-1.0, 0.0, 1.0]))
    assert (b.z0, b.acceleration) == (0.0, 0.0)
    assert b.interval(0.9) == pytest.approx((-0.9, 0.9))
    assert b.p_value(0.0) == pytest.approx(1.0)
    assert b.one_sided_p(-0.8) == pytest.approx(0.1, abs=1e-3)   # share at or below -0.8
    assert b.p_value(-0.8) == pytest.approx(0.2, abs=2e-3)
    empty = bca(np.array([np.nan]), 0.1, np.array([0.1]))
    assert np.isnan(empty.interval(0.95)[0])
    assert np.isnan(empty.p_value())


def test_bca_of_identical_models_is_zero_and_p_one():
    b = bca(np.zeros(500), 0.0, np.zeros(40))
    assert b.interval(0.95) == (0.0, 0.0)
    assert b.p_value(0.0) == 1.0


@pytest.mark.parametrize("seed", [0, 1])
def test_bca_matches_scipy_bootstrap_on_a_skewed_mean(seed):
    """Same data, same BCa formulas, independent resamples: the endpoints agree to MC error."""
    rng = np.random.default_rng(seed)
    x = rng.exponential(size=40) - 1.0
    n = x.size
    boot_rng = np.random.default_rng(seed + 10)
    counts = np.vstack(list(count_chunks(n, 20_000, boot_rng))).astype(float)
    means = counts @ x / n
    plans = PlanSet([Plan(x[:, None], lambda s: s[:, 0] / n)])
    (jack,) = plans.jackknife()
    b = bca(means, x.mean(), jack)
    ref = stats.bootstrap((x,), np.mean, method="BCa", n_resamples=20_000,
                          confidence_level=0.9, random_state=seed + 20).confidence_interval
    low, high = b.interval(0.9)
    spread = ref.high - ref.low
    assert low == pytest.approx(ref.low, abs=0.03 * spread)
    assert high == pytest.approx(ref.high, abs=0.03 * spread)
    assert b.acceleration > 0    # right-skewed data: positive acceleration


def test_bca_p_value_inverts_the_interval():
    rng = np.random.default_rng(3)
    values = rng.gamma(2.0, size=4000) * 0.05 - 0.02
    b = BCa(np.sort(values), 0.08, z0=0.1, acceleration=0.08)
    p = b.p_value(0.0)
    assert 0 < p < 1
    low, _ = b.interval(1 - p)
    assert low == pytest.approx(0.0, abs=2e-3)
    # A lower bound above zero exactly when p is below 1 - confidence.
    for confidence in (0.8, 0.9, 0.95, 0.99):
        assert (b.interval(confidence)[0] > 0) == (p < 1 - confidence)


def test_jackknife_is_leave_one_out_for_sums_and_for_small_rankings():
    rng = np.random.default_rng(4)
    n = 60
    y = np.r_[0, 1, rng.integers(0, 2, n - 2)]
    s = rng.normal(size=n) + y
    loss = rng.exponential(size=n)
    ranked = RankedScores(y == 1, s)
    plans = PlanSet([Plan(loss[:, None], lambda t: t[:, 0] / n), Plan(None, None, ranked.roc_auc)],
                    n_rows=n)
    mean_jack, auc_jack = plans.jackknife()
    keep = ~np.eye(n, dtype=bool)
    assert n <= JACK_GROUPS
    # Sum plans divide by n, not n - 1: the jackknife values are scaled by (n - 1) / n,
    # which leaves the acceleration (a ratio of moments) unchanged.
    np.testing.assert_allclose(mean_jack, [loss[k].mean() * (n - 1) / n for k in keep])
    np.testing.assert_allclose(auc_jack, [skm.roc_auc_score(y[k], s[k]) for k in keep])


def test_jackknife_of_large_rankings_leaves_out_groups():
    rng = np.random.default_rng(5)
    n = JACK_GROUPS * 3 + 7
    y = rng.integers(0, 2, n)
    s = rng.normal(size=n) + y
    (auc_jack,) = PlanSet([Plan(None, None, RankedScores(y == 1, s).roc_auc)],
                          n_rows=n).jackknife()
    assert auc_jack.shape == (JACK_GROUPS,)
    for g in (0, 17, JACK_GROUPS - 1):
        keep = np.arange(n) % JACK_GROUPS != g
        assert auc_jack[g] == pytest.approx(skm.roc_auc_score(y[keep], s[keep]))


# ---- the paired permutation test --------------------------------------------------------


def _exact_permutation_p(y, s1, s2):
    """Every one of the 2**n swaps (small n only)."""
    r = np.vstack([stats.rankdata(s1), stats.rankdata(s2)])
    n = y.size
    masks = ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1).astype(bool)
    a = np.where(masks, r[1], r[0])
    b = np.where(masks, r[0], r[1])
    pos, neg = y == 1, y == 0

    def auc(m):   # every positive/negative pair, ties half: the definition
        x, z = m[:, pos][:, :, None], m[:, neg][:, None, :]
        return ((x > z) + 0.5 * (x == z)).mean(axis=(1, 2))

    d = auc(b) - auc(a)
    d_obs = skm.roc_auc_score(y, s2) - skm.roc_auc_score(y, s1)
    return np.mean(np.abs(d) >= abs(d_obs) - 1e-12)


def test_auc_permutation_matches_full_enumeration():
    rng = np.random.default_rng(6)
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    s1 = rng.normal(size=10) + 0.3 * y
    s2 = rng.normal(size=10) + 1.5 * y
    exact = _exact_permutation_p(y, s1, s2)
    result = auc_permutation(y == 1, s1, s2, 20_000, np.random.default_rng(0))
    assert result.statistic == pytest.approx(skm.roc_auc_score(y, s2) - skm.roc_auc_score(y, s1))
    assert result.p_value == pytest.approx(exact, abs=0.01)
    assert result.n_permutations == 20_000


def test_auc_permutation_of_identical_scores_and_its_budget(monkeypatch):
    from mllife.evaluation import _stats_champion as sc

    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 50)
    s = rng.normal(size=50)
    result = auc_permutation(y == 1, s, 10 * s + 3, 300, np.random.default_rng(0))
    assert result.statistic == 0.0
    assert result.p_value == 1.0
    monkeypatch.setattr(sc, "PERMUTATION_CELLS", 50 * 250)   # 250 permutations of 50 rows
    assert auc_permutation(y == 1, s, rng.normal(size=50), 2000,
                           np.random.default_rng(0)).n_permutations == 250
    assert auc_permutation(y == 1, s, rng.normal(size=50), 100,
                           np.random.default_rng(0)).n_permutations == 100


# ---- the paired permutation test of PR-AUC ------------------------------------------------


def test_rank_average_precision_matches_sklearn_row_by_row():
    from mllife.evaluation._stats_champion import _rank_average_precision

    rng = np.random.default_rng(8)
    for rep in range(40):
        n = int(rng.integers(2, 60))
        y = rng.integers(0, 2, n)
        y[0] = 1
        # Half the cases with many ties (tied scores form one threshold).
        scores = rng.integers(0, 5, (4, n)).astype(float) if rep % 2 else rng.normal(size=(4, n))
        np.testing.assert_allclose(_rank_average_precision(scores, y == 1),
                                   [skm.average_precision_score(y, s) for s in scores])


def _exact_pr_permutation_p(y, s1, s2):
    """Every swap of n rows and every order of the ties the swap makes (small n only)."""
    from mllife.evaluation._stats_champion import _rank_average_precision

    r = np.vstack([stats.rankdata(s1), stats.rankdata(s2)]).astype(int) - 1
    n = y.size
    bits = ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1).astype(bool)
    # Rows: (swap, coin per rank value); ranks of continuous scores are distinct within a
    # model. Where a swapped and an unswapped entry share a rank, the coin says which one
    # is above; both vectors of a permutation use the same coins.
    swap = np.repeat(bits, 2 ** n, axis=0)
    coin = np.tile(bits, (2 ** n, 1))
    a = np.where(swap, r[1], r[0])
    b = np.where(swap, r[0], r[1])
    up_a = swap != np.take_along_axis(coin, a, axis=1)
    up_b = swap != np.take_along_axis(coin, b, axis=1)
    d = (_rank_average_precision(b + 0.25 * np.where(up_b, 1, -1), y == 1)
         - _rank_average_precision(a + 0.25 * np.where(up_a, 1, -1), y == 1))
    d_obs = skm.average_precision_score(y, s2) - skm.average_precision_score(y, s1)
    return np.mean(np.abs(d) >= abs(d_obs) - 1e-12)


def test_pr_auc_permutation_matches_full_enumeration():
    rng = np.random.default_rng(10)
    y = np.array([1, 1, 0, 0, 0, 0])
    s1 = rng.normal(size=6) + 0.3 * y
    s2 = rng.normal(size=6) + 2.0 * y
    exact = _exact_pr_permutation_p(y, s1, s2)
    result = rank_permutation(y == 1, s1, s2, 20_000, np.random.default_rng(0), metric="pr_auc")
    assert result.statistic == pytest.approx(
        skm.average_precision_score(y, s2) - skm.average_precision_score(y, s1))
    assert 0 < exact < 1
    assert result.p_value == pytest.approx(exact, abs=0.01)


def test_pr_auc_permutation_keeps_a_models_own_ties():
    # Identical rankings with ties: every swap leaves the scores as they were, so the
    # permuted differences are 0 up to the order of ties between the two models; the
    # difference is 0 and p = 1, as for ROC-AUC.
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 40)
    s = np.round(rng.normal(size=40) + y)
    result = rank_permutation(y == 1, s, 5 * s + 1, 300, np.random.default_rng(0),
                              metric="pr_auc")
    assert result.statistic == 0.0
    assert result.p_value == 1.0
    # A much better challenger with 12 positives: p at its floor.
    y = np.r_[np.ones(12, dtype=int), np.zeros(88, dtype=int)]
    weak, strong = rng.normal(size=100) + 0.2 * y, rng.normal(size=100) + 4.0 * y
    result = rank_permutation(y == 1, weak, strong, 500, np.random.default_rng(0),
                              metric="pr_auc")
    assert result.statistic > 0.5
    assert result.p_value == pytest.approx(1 / 501)
    assert auc_permutation(y == 1, weak, strong, 500, np.random.default_rng(0)).p_value \
        == pytest.approx(1 / 501)


def test_ranked_scores_created_one_after_another_never_share_cached_sums():
    # A RankedScores collected right after use can leave its ``id`` to the next one; the
    # weights' cache was keyed by that id and handed the newcomer the old negatives' sums
    # (a wrong ROC-AUC, or an IndexError when the class sizes differ).
    rng = np.random.default_rng(5)
    for _ in range(60):
        y = rng.integers(0, 3, 300)
        counts = rng.integers(0, 3, size=(2, y.size)).astype(np.float32)
        w = Weights(counts)
        for k in range(3):
            s = rng.normal(size=y.size) + (y == k)
            auc = RankedScores(y == k, s, group=k).roc_auc(w)
            assert auc[0] == pytest.approx(skm.roc_auc_score(y == k, s, sample_weight=counts[0]))
