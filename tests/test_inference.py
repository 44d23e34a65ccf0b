"""The shared inference pieces: multiple-testing adjustment and permutation draws."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mllife import InputError
from mllife._inference import adjust, draw_counts


def test_holm_and_bh_match_their_definitions():
    p = np.array([0.04, 0.001, np.nan, 0.03, 0.2])
    holm = adjust(p, "holm")
    # Holm: sorted p times (m - rank), running maximum; m = 4 finite p-values.
    assert holm[[1, 3, 0, 4]] == pytest.approx([0.004, 0.09, 0.09, 0.2])
    assert np.isnan(holm[2])
    bh = adjust(p, "bh")
    assert bh[[1, 3, 0, 4]] == pytest.approx(stats.false_discovery_control(p[[1, 3, 0, 4]]))
    assert np.array_equal(adjust(p, "none"), p, equal_nan=True)
    with pytest.raises(InputError, match="correction"):
        adjust(p, "bonferroni")


@pytest.mark.parametrize("totals", [[3, 5, 2], [400, 1, 900, 7]])
def test_draws_keep_the_margins_and_the_hypergeometric_mean(totals):
    totals = np.array(totals)
    draws = draw_counts(np.random.default_rng(0), totals, 5, size=4_000)
    assert (draws.sum(axis=1) == 5).all()
    assert (draws <= totals).all()
    assert draws.mean(axis=0) == pytest.approx(5 * totals / totals.sum(), abs=0.08)


def test_beyond_numpys_exact_draw_the_multinomial_is_used():
    totals = np.array([700_000_000, 500_000_000])  # 1.2e9 items: numpy's exact draw refuses
    draws = draw_counts(np.random.default_rng(1), totals, 1_000, size=2_000)
    assert (draws.sum(axis=1) == 1_000).all()
    assert draws[:, 0].mean() == pytest.approx(1_000 * 7 / 12, rel=0.01)
