"""Null simulations: with no drift every p-value test rejects 5% +- 2% of the time at alpha=0.05.

1,000 seeded repetitions per configuration, several sample sizes and category
counts. Each repetition is one call on small samples, so the whole file runs
in seconds. ``anderson`` is checked with its uncapped asymptotic p-value; the
categorical kernels here are the raw (unpooled) ones, on tables whose expected
counts are all large. The report's own flags, all corrected together, are
calibrated in ``tests/calibration/test_drift.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from mllife.drift import stats

REPS = 1_000
ALPHA = 0.05


def _rejection_rate(test, draw, seed):
    rng = np.random.default_rng(seed)
    rejections = 0
    for _ in range(REPS):
        reference, current = draw(rng)
        rejections += test(reference, current)[1] < ALPHA
    return rejections / REPS


@pytest.mark.slow
@pytest.mark.parametrize(("n1", "n2"), [(60, 80), (300, 300), (1_200, 900)])
@pytest.mark.parametrize("name", ["ks", "anderson"])
def test_numeric_tests_hold_their_level(name, n1, n2):
    test = getattr(stats, name)
    rate = _rejection_rate(test, lambda rng: (rng.normal(size=n1), rng.normal(size=n2)), seed=n1 + n2)
    assert abs(rate - ALPHA) <= 0.02, f"{name} at n=({n1}, {n2}): false-positive rate {rate:.3f}"


@pytest.mark.slow
@pytest.mark.parametrize(("k", "n"), [(2, 200), (5, 500), (20, 2_000)])
@pytest.mark.parametrize("name", ["chi2", "g_test", "cramers_v", "proportion_z"])
def test_categorical_tests_hold_their_level(name, k, n):
    """Category counts drawn all at once (multinomial), the tests run on each pair of count vectors."""
    from mllife.drift import _kernels

    kernel = {
        "chi2": _kernels.chi2_counts,
        "g_test": _kernels.g_counts,
        "cramers_v": _kernels.cramers_v_counts,
        "proportion_z": lambda r, c: _kernels.proportion_z_counts(
            r[np.argmax(r + c)], r.sum(), c[np.argmax(r + c)], c.sum()),
    }[name]
    probs = np.linspace(1.0, 3.0, k)
    probs /= probs.sum()
    rng = np.random.default_rng(k * 1_000 + n)
    ref = rng.multinomial(n, probs, size=REPS).astype(float)
    cur = rng.multinomial(int(n * 1.3), probs, size=REPS).astype(float)
    rate = np.mean([kernel(r, c)[1] < ALPHA for r, c in zip(ref, cur, strict=True)])
    assert abs(rate - ALPHA) <= 0.02, f"{name} with k={k}, n={n}: false-positive rate {rate:.3f}"


def test_public_categorical_functions_use_the_simulated_kernels():
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 4, 300), rng.integers(0, 4, 400)
    from mllife.drift import _kernels

    rc, cc = np.bincount(x, minlength=4).astype(float), np.bincount(y, minlength=4).astype(float)
    assert stats.chi2(x, y) == _kernels.chi2_counts(rc, cc)
    assert stats.g_test(x, y) == _kernels.g_counts(rc, cc)
    top = int(np.argmax(rc + cc))
    expected = _kernels.proportion_z_counts(rc[top], rc.sum(), cc[top], cc.sum())
    assert stats.proportion_z(x, y, category=top) == pytest.approx(expected)


@pytest.mark.slow
def test_drift_report_is_quiet_on_clean_data_across_many_columns():
    import pandas as pd

    from mllife.drift import drift_report

    rng = np.random.default_rng(0)
    n = 500
    ref = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(40)})
    cur = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(40)})
    report = drift_report(ref, cur, max_plots=0)
    raw = (report.table["p_value"] < ALPHA).sum()
    assert report.n_drifted <= 1
    assert report.n_drifted <= raw
