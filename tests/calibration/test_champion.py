"""Calibration of ``compare_champion``'s "promote": its false-promotion rate and its power.

The claim (docs/champion.md, "What promote guarantees"): when the challenger is
no better than the champion (equal expected metric), ``decision == "promote"``
happens in at most ``alpha / 2`` of test sets (the challenger's tail of the
two-sided test at ``alpha``; 2.5% at the default ``alpha = 0.05``), provided the
test set has the metric's minimum number of events; below it the champion is
kept. Each test below draws ``R`` seeded null test sets, counts promotions and
calls :func:`tests.calibration._level.assert_level` (rate at most the level plus
three Monte-Carlo standard errors). The models are precomputed scores fed to the
comparison engine (:func:`mllife.evaluation._champion._compare`), so only the
statistics are timed. The simulations use ``n_boot=300`` (the default is 2000)
to stay under 40 seconds: the permutation tests' p-values are exact for any
number of permutations and McNemar's does not resample, so the level they give
the decision does not depend on it; only the BCa interval (the other half of the
decision) and the power get noisier. The development simulations behind
docs/champion.md used 1000 resamples.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from mllife.evaluation import _champion_metrics as cm
from mllife.evaluation._champion import _compare

from ._level import assert_level

pytestmark = pytest.mark.slow

ALPHA = 0.05
LEVEL = ALPHA / 2        # the documented false-promotion rate
N_BOOT = 300

# The "equally good but overconfident" pair for log loss. Truth: y ~ Bernoulli(expit(2 z)).
# The champion sees z + N(0, 1) noise and is calibrated (logit slope 0.747, fitted on
# 300,000 rows); the challenger sees z + N(0, 0.5^2) noise, so it ranks better, but its
# calibrated slope 1.406 is doubled (x 1.995) until its expected log loss equals the
# champion's (0.5915 for both over 2,000,000 rows, the constants found with brentq).
CHAMPION_SLOPE = 0.747
CHALLENGER_SLOPE = 1.406 * 1.995


def _binary(y: np.ndarray) -> cm.Target:
    return cm.Target(np.asarray(y), np.array([0, 1]), 1)


def _proba(name: str, p: np.ndarray) -> cm.Predictions:
    return cm.Predictions(name, (p > 0.5).astype(int), np.column_stack([1 - p, p]),
                          np.array([0, 1]), p)


def _decide(y, p_champion, p_challenger, metric, seed, n_boot=N_BOOT):
    return _compare(_binary(y), [_proba("champion", p_champion),
                                 _proba("challenger", p_challenger)], [metric],
                    n_boot=n_boot, rng=np.random.default_rng(seed), alpha=ALPHA,
                    confidence=1 - ALPHA, tolerances={})


def _overconfident(rng, n):
    z = rng.normal(size=n)
    y = (rng.random(n) < expit(2.0 * z)).astype(int)
    p_a = expit(CHAMPION_SLOPE * (z + rng.normal(size=n)))
    p_b = expit(CHALLENGER_SLOPE * (z + 0.5 * rng.normal(size=n)))
    return y, p_a, p_b


def _exchangeable(rng, n):
    """Two models of one kind: same signal, independent noise of the same size."""
    z = rng.normal(size=n)
    y = (rng.random(n) < expit(2.0 * z)).astype(int)
    return (y, expit(CHAMPION_SLOPE * (z + rng.normal(size=n))),
            expit(CHAMPION_SLOPE * (z + rng.normal(size=n))))


def _binormal(rng, n_pos, n_neg, d_a, d_b):
    """Scores with fixed class counts: positives shifted by d, noise shared in part."""
    y = np.r_[np.ones(n_pos, dtype=int), np.zeros(n_neg, dtype=int)]
    shared = rng.normal(size=y.size)
    s_a = d_a * y + 0.6 * shared + 0.8 * rng.normal(size=y.size)
    s_b = d_b * y + 0.6 * shared + 0.8 * rng.normal(size=y.size)
    return y, expit(s_a), expit(s_b)


def _promotions(make, metric, reps, seed, n_boot=N_BOOT):
    rng = np.random.default_rng(seed)
    promoted, results = 0, []
    for rep in range(reps):
        y, p_a, p_b = make(rng)
        if y.min() == y.max():   # a test set of one class cannot be compared; redraw
            y, p_a, p_b = make(rng)
        r = _decide(y, p_a, p_b, metric, seed * 10_000 + rep, n_boot)
        promoted += r.decision == "promote"
        results.append(r)
    return promoted, results


def test_overconfident_challenger_is_not_promoted_on_log_loss_at_30_and_50_rows():
    """R = 300 null test sets each of 30 and 50 rows; level alpha/2 = 0.025 (+ 3 s.e.).

    The old percentile bootstrap promoted this equally good, overconfident
    challenger in about 10% (n = 30) and 5% (n = 50) of test sets; BCa alone in
    9% and 3.5%. Below the 100 rows log loss needs, the champion is kept, and the
    result says why and how many rows are needed.
    """
    for n, seed in ((30, 1), (50, 2)):
        promoted, results = _promotions(lambda rng, n=n: _overconfident(rng, n), "log_loss",
                                        300, seed)
        assert_level(promoted, 300, LEVEL, f"log loss, overconfident challenger, n={n}")
        for r in results:
            assert r.n_events == n
            assert r.min_events == cm.MIN_EVENTS["log_loss"] == 100
            assert f"the test set has {n} rows" in r.reason
            assert "needs at least 100" in r.reason
            assert r.findings_by(check="champion_min_events")


def test_overconfident_challenger_at_the_minimum_rows_holds_the_level():
    """R = 300 null test sets of 100 rows (log loss's minimum), BCa and permutation test.

    Level alpha/2 = 0.025 + 3 s.e. (0.052). Measured in development (BCa alone,
    R = 1000, four seeds and two overconfidence levels): 2.3% to 3.2%; the
    percentile interval it replaces: 4.0% to 4.3%.
    Power: a calibrated challenger with the better signal (log loss 0.59 -> 0.52)
    at n = 500 is promoted in at least 90% of R = 60 runs.
    """
    promoted, _ = _promotions(lambda rng: _overconfident(rng, 100), "log_loss", 300, 3)
    assert_level(promoted, 300, LEVEL, "log loss, overconfident challenger, n=100")

    def better(rng, n=500):
        z = rng.normal(size=n)
        y = (rng.random(n) < expit(2.0 * z)).astype(int)
        return (y, expit(CHAMPION_SLOPE * (z + rng.normal(size=n))),
                expit(1.406 * (z + 0.5 * rng.normal(size=n))))

    power, _ = _promotions(better, "log_loss", 60, 4)
    assert power / 60 >= 0.9, f"log loss power {power / 60:.2f} at n=500"


def test_equally_accurate_challenger_at_100_rows():
    """R = 300 null test sets of 100 rows, two exchangeable models; McNemar and BCa.

    Level alpha/2 = 0.025 + 3 s.e. (0.052); measured 2.2% (R = 1000). Power: a
    challenger whose accuracy is 10 points higher (0.70 -> 0.80, independent
    errors) at n = 500 is promoted in at least 90% of R = 60 runs.
    """
    promoted, results = _promotions(lambda rng: _exchangeable(rng, 100), "accuracy", 300, 5)
    assert_level(promoted, 300, LEVEL, "accuracy, n=100")
    assert {r.test for r in results} <= {"mcnemar-exact", "mcnemar-chi2"}

    def better(rng, n=500):
        y = rng.integers(0, 2, n)
        right_a, right_b = rng.random(n) < 0.70, rng.random(n) < 0.80
        return y, np.where(right_a, y, 1 - y) * 0.8 + 0.1, np.where(right_b, y, 1 - y) * 0.8 + 0.1

    power, _ = _promotions(better, "accuracy", 60, 6)
    assert power / 60 >= 0.9, f"accuracy power {power / 60:.2f} at n=500"


def test_equally_good_ranking_at_100_rows_and_at_10_positives():
    """ROC-AUC, R = 300 null test sets each: 50 positives in 100 rows (DeLong's test)
    and 10 positives in 100 rows (the paired permutation test). Level alpha/2 =
    0.025 + 3 s.e. (0.052); measured about 2% for both (R = 1000), where DeLong with
    the percentile interval promoted 3.4% at about 10 positives (7.4% two-sided).

    Power: AUC 0.71 -> 0.82 (binormal d = 0.8 -> 1.3) with 250 positives in 500
    rows is promoted in at least 80% of R = 60 runs, and with 10 positives the
    permutation test still promotes AUC 0.71 -> 0.96 (d = 0.8 -> 2.5) in at least
    half of R = 60 runs.
    """
    promoted, results = _promotions(lambda rng: _binormal(rng, 50, 50, 1.0, 1.0), "roc_auc",
                                    300, 7)
    assert_level(promoted, 300, LEVEL, "roc_auc, 50 positives of 100 rows")
    assert {r.test for r in results} == {"delong"}
    promoted, results = _promotions(lambda rng: _binormal(rng, 10, 90, 1.0, 1.0), "roc_auc",
                                    300, 8)
    assert_level(promoted, 300, LEVEL, "roc_auc, 10 positives of 100 rows")
    assert {r.test for r in results} == {"permutation"}
    assert {r.n_events for r in results} == {10}

    power, _ = _promotions(lambda rng: _binormal(rng, 250, 250, 0.8, 1.3), "roc_auc", 60, 9)
    assert power / 60 >= 0.8, f"roc_auc power {power / 60:.2f} at n=500"
    power, _ = _promotions(lambda rng: _binormal(rng, 10, 90, 0.8, 2.5), "roc_auc", 60, 10)
    assert power / 60 >= 0.5, f"roc_auc power {power / 60:.2f} at 10 positives"


# ---- squared errors with heavy-tailed or skewed errors ----------------------------------


def _regression_decide(y, pred_a, pred_b, metric, seed):
    target = cm.Target(y, None, None, y - y.mean())
    return _compare(target, [cm.Predictions("champion", pred_a),
                             cm.Predictions("challenger", pred_b)], [metric],
                    n_boot=N_BOOT, rng=np.random.default_rng(seed), alpha=ALPHA,
                    confidence=1 - ALPHA, tolerances={})


def _gaussian_vs_t3(rng, n):
    """Equal expected squared error 3: Gaussian errors against t3 errors (variance 3)."""
    return np.sqrt(3.0) * rng.normal(size=n), rng.standard_t(3, size=n)


def _gaussian_vs_lognormal(rng, n, sigma=0.5):
    """Equal expected squared error 1: Gaussian errors against centred, scaled lognormal ones."""
    x = rng.lognormal(0.0, sigma, size=n)
    mean, var = np.exp(sigma ** 2 / 2), (np.exp(sigma ** 2) - 1) * np.exp(sigma ** 2)
    return rng.normal(size=n), (x - mean) / np.sqrt(var)


def _t3_pair(rng, n):
    """Two models of one kind with t3 errors, half of them shared."""
    shared = rng.standard_t(3, size=n)
    return ((shared + rng.standard_t(3, size=n)) / np.sqrt(2),
            (shared + rng.standard_t(3, size=n)) / np.sqrt(2))


def _regression_promotions(errors, metric, n, reps, seed):
    rng = np.random.default_rng(seed)
    promoted = unguarded = 0
    for rep in range(reps):
        e_a, e_b = errors(rng, n)
        y = 2.0 * rng.normal(size=n)
        r = _regression_decide(y, y + e_a, y + e_b, metric, seed * 10_000 + rep)
        promoted += r.decision == "promote"
        # What the decision was before the tail rule: interval, test and 100 rows.
        unguarded += bool(r.difference > 0 and r.ci_low > 0 and r.p_value < ALPHA)
    return promoted, unguarded


def test_heavy_tailed_or_skewed_errors_are_not_promoted_on_squared_errors():
    """R = 300 null test sets per case; level alpha/2 = 0.025 + 3 s.e. (0.052).

    Equal expected squared error, different error shapes: Gaussian against t3
    errors (mse at n = 100 and 200, rmse at 500), Gaussian against skewed
    lognormal (sigma = 0.5) errors (mse at n = 100, r2 at 200), and two t3
    models of one kind (r2 at 200). Without the tail rule (interval, sign-flip
    test and 100 rows) the t3 challenger was promoted in 17-18% of test sets at
    every size and the lognormal one in 4-6% (R = 1000); with the rows its error
    kurtosis asks for, 0.1-1.5% and 0.5-2.1% (R = 1000, docs/champion.md,
    "Heavy-tailed errors"). The unguarded rate of the t3 cases is asserted too (above
    10%; measured 12-21% here), so the scenario is one the rule must fix.

    Power: Gaussian errors, the challenger's with 3/4 of the champion's variance,
    n = 500: promoted in at least 70% of R = 60 runs (measured 89%).
    """
    cases = [(_gaussian_vs_t3, "mse", 100), (_gaussian_vs_t3, "mse", 200),
             (_gaussian_vs_t3, "rmse", 500), (_gaussian_vs_lognormal, "mse", 100),
             (_gaussian_vs_lognormal, "r2", 200), (_t3_pair, "r2", 200)]
    for seed, (errors, metric, n) in enumerate(cases, start=20):
        promoted, unguarded = _regression_promotions(errors, metric, n, 300, seed)
        assert_level(promoted, 300, LEVEL, f"{errors.__name__}, {metric}, n={n}")
        if errors is _gaussian_vs_t3:
            assert unguarded / 300 > 0.1, "the t3 scenario should fool the unguarded test"

    def better(rng, n):
        return rng.normal(size=n), np.sqrt(0.75) * rng.normal(size=n)

    power, _ = _regression_promotions(better, "mse", 500, 60, 30)
    assert power / 60 >= 0.7, f"mse power {power / 60:.2f} at n=500"


# ---- PR-AUC with few positives -------------------------------------------------------------

# A challenger whose positives' scores are narrower (sd 0.7 against 1, shift 1.160 against
# 1.0) with the same population PR-AUC as the champion at 10% positives (0.295 for both
# over 3,000,000 rows; the shift found with brentq).
NARROW_SHIFT = 1.160


def _narrow_challenger(rng, n_pos, n_neg):
    y = np.r_[np.ones(n_pos, dtype=int), np.zeros(n_neg, dtype=int)]
    shared = rng.normal(size=y.size)
    s_a = y + 0.6 * shared + 0.8 * rng.normal(size=y.size)
    spread = np.where(y == 1, np.sqrt(0.7 ** 2 - 0.6 ** 2), 0.8)
    s_b = NARROW_SHIFT * y + 0.6 * shared + spread * rng.normal(size=y.size)
    return y, expit(s_a), expit(s_b)


def _pr_promotions(make, reps, seed, n_boot):
    return _promotions(make, "pr_auc", reps, seed, n_boot)


def test_equally_good_pr_auc_at_50_positives():
    """PR-AUC at its minimum of 50 positives, R = 300 null test sets each: two models of
    one kind with 50 positives in 100 rows, and the narrower challenger (same population
    PR-AUC, another score shape) with 50 positives in 500 rows. The paired rank-swap
    permutation test and the BCa interval; level alpha/2 = 0.025 + 3 s.e. (0.052).
    ``n_boot = 100`` here (the permutation test's level does not depend on it) to stay
    under 40 seconds. Measured in development (n_boot = 400, R = 600-800): 3.0% and
    2.8%, where the BCa interval alone promoted 5.8% and 3.7% (docs/champion.md,
    "PR-AUC"; at 20 positives in balanced data another score shape reaches 4-6%, which
    is why the minimum stays at 50).

    Power: a challenger with binormal shift 2.0 against 1.0 (population PR-AUC about
    0.29 -> 0.6 at 10% positives) with 20 positives in 200 rows, below the minimum, is
    kept; with 50 positives in 500 rows it is promoted in at least 80% of R = 40 runs.
    """
    promoted, results = _pr_promotions(lambda rng: _binormal(rng, 50, 50, 1.0, 1.0), 300, 11,
                                       100)
    assert_level(promoted, 300, LEVEL, "pr_auc, exchangeable, 50 positives of 100 rows")
    assert {r.test for r in results} == {"permutation"}
    assert {r.min_events for r in results} == {cm.MIN_EVENTS["pr_auc"]} == {50}
    promoted, _ = _pr_promotions(lambda rng: _narrow_challenger(rng, 50, 450), 300, 12, 100)
    assert_level(promoted, 300, LEVEL, "pr_auc, narrower challenger, 50 positives of 500 rows")

    kept, results = _pr_promotions(lambda rng: _binormal(rng, 20, 180, 1.0, 2.0), 5, 13, 100)
    assert kept == 0
    assert all("needs at least 50" in r.reason for r in results)
    power, _ = _pr_promotions(lambda rng: _binormal(rng, 50, 450, 1.0, 2.0), 40, 14, 100)
    assert power / 40 >= 0.8, f"pr_auc power {power / 40:.2f} at 50 positives"
