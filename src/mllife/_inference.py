"""Shared pieces of statistical inference: multiple-testing adjustment and permutation draws.

Every claim that corrects for many tests (drift columns, fairness claims) uses
:func:`adjust`; every permutation test on a table with fixed margins (drift's
cell permutations, fairness's equal-rate test) draws with :func:`draw_counts`.
"""

from __future__ import annotations

import numpy as np

from ._errors import InputError

CORRECTIONS = ("bh", "holm", "none")
#: numpy's multivariate hypergeometric needs fewer items than this with ``"marginals"``.
_EXACT_DRAW_LIMIT = 10**9


def adjust(p_values: np.ndarray, correction: str) -> np.ndarray:
    """Multiple-testing adjusted p-values (NaN stays NaN and does not count as a test).

    ``"bh"``: Benjamini-Hochberg (controls the false discovery rate);
    ``"holm"``: Holm-Bonferroni (controls the family-wise error rate);
    ``"none"``: unchanged.

    Examples
    --------
    >>> adjust(np.array([0.01, 0.04, np.nan, 0.03]), "bh").round(3).tolist()
    [0.03, 0.04, nan, 0.04]
    >>> adjust(np.array([0.01, 0.04, np.nan, 0.03]), "holm").round(3).tolist()
    [0.03, 0.06, nan, 0.06]
    """
    if correction not in CORRECTIONS:
        raise InputError(f"correction {correction!r} is not known", expected=f"one of {', '.join(CORRECTIONS)}")
    p = np.asarray(p_values, dtype=np.float64)
    out = p.copy()
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0 or correction == "none":
        return out
    q = p[ok]
    order = np.argsort(q, kind="stable")
    ranked = q[order]
    if correction == "bh":
        scaled = ranked * m / np.arange(1, m + 1)
        adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    else:
        scaled = ranked * (m - np.arange(m))
        adjusted = np.maximum.accumulate(scaled)
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out[ok] = result
    return out


def draw_counts(rng: np.random.Generator, totals: np.ndarray, n_draw: int, size: int) -> np.ndarray:
    """``size`` random splits of ``n_draw`` items over cells holding ``totals`` items.

    The permutation null of a table with fixed margins: each row is one draw
    of the multivariate hypergeometric (``n_draw`` items taken without
    replacement from the pooled cells). numpy's ``"count"`` method costs about
    0.02 us per pooled item and ``"marginals"`` about 0.2 us per cell, per
    draw: the cheaper one is used. From 10**9 pooled items (beyond numpy's
    exact draw) the multinomial is used, whose difference from drawing without
    replacement is then negligible unless ``n_draw`` is a large share of them.

    Examples
    --------
    >>> draws = draw_counts(np.random.default_rng(0), np.array([3, 5, 2]), 4, size=1000)
    >>> draws.shape, bool((draws.sum(axis=1) == 4).all()), bool((draws <= [3, 5, 2]).all())
    ((1000, 3), True, True)
    """
    colors = np.asarray(totals, dtype=np.int64)
    pooled = int(colors.sum())
    if pooled >= _EXACT_DRAW_LIMIT:
        return rng.multinomial(n_draw, colors / pooled, size=size)
    if pooled < 8 * colors.size:
        return rng.multivariate_hypergeometric(colors, n_draw, size=size, method="count")
    return rng.multivariate_hypergeometric(colors, n_draw, size=size, method="marginals")
