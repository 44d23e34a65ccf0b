"""Permutation nulls of the drift report: exact conditional tests at any sample size.

With no drift the reference and current rows are exchangeable: given the
pooled sample, every split of it into ``n_ref`` and ``n_cur`` rows is equally
likely. For a statistic that depends on the data only through the counts of
each sample in a set of *cells* fixed by the pooled sample (its distinct
values, its categories, or bins at its quantiles), a random split is a draw
of the reference's cell counts from the multivariate hypergeometric
distribution (``numpy.random.Generator.multivariate_hypergeometric``), so one
null draw costs ``O(cells)``, whatever the number of rows. Cells are capped at
:data:`MAX_CELLS`; with more distinct values the statistic is computed on the
binned sample, for the observed data and for every draw alike, which keeps
the test exact (for the binned statistic).

Draws stop early, following Besag & Clifford (1991): after :data:`HITS` null
statistics at least as large as the observed one the p-value is
``HITS / draws``; a column far from significance costs a few dozen draws, a
drifted one the full budget, with p-value ``(hits + 1) / (draws + 1)``. Both
are valid p-values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy import optimize, special

from .._inference import draw_counts
from . import _kernels as k

#: Most cells of a permutation test (distinct values, categories or pooled-quantile bins).
MAX_CELLS = 512
#: Besag-Clifford: stop drawing after this many null statistics reach the observed one.
HITS = 10
#: Bounds of the number of permutations ``R``; between them ``R = 2 * n_tests / alpha``.
MIN_PERMUTATIONS = 999
MAX_PERMUTATIONS = 20_000
#: Null draws at least, for the null mean that bias-corrects a distance.
MEAN_DRAWS = 50
#: Permutations at most for a user statistic (each one calls the user's function).
USER_PERMUTATIONS = 999
#: ``cells x permutations`` above which the unseen-category test uses its exact bound.
UNSEEN_WORK = 25_000_000
#: Cell counts held in memory at once by one batch of draws (32 MB of int64).
BATCH_VALUES = 4_000_000
#: Pooled values shuffled at most by the draws of a user statistic (its draws are capped to fit).
USER_WORK = 100_000_000


def permutations_for(n_tests: int, alpha: float) -> int:
    """``R``: enough draws that the smallest p-value, ``1 / (R + 1)``, passes a correction over ``n_tests``.

    Examples
    --------
    >>> permutations_for(50, 0.05), permutations_for(5, 0.05), permutations_for(10**6, 0.05)
    (2000, 999, 20000)
    """
    wanted = math.ceil(2.0 * max(int(n_tests), 1) / float(alpha))
    return int(min(max(wanted, MIN_PERMUTATIONS), MAX_PERMUTATIONS))


# ---- cells -----------------------------------------------------------------------
@dataclass(frozen=True)
class Cells:
    """Pooled counts of a set of cells fixed by the pooled sample, and the reference's share."""

    totals: np.ndarray  # int64, pooled count of each cell
    ref: np.ndarray  # int64, observed reference count of each cell
    positions: np.ndarray | None = None  # numeric cells: the largest pooled value in each
    exact: bool = True  # one cell per distinct value or category (no binning)

    @property
    def n_ref(self) -> int:
        return int(self.ref.sum())

    @property
    def n_cur(self) -> int:
        return int(self.totals.sum() - self.ref.sum())

    @property
    def size(self) -> int:
        return int(self.totals.size)


def numeric_cells(m: k.Merged, max_cells: int = MAX_CELLS) -> Cells:
    """Cells of a merged numeric view: its distinct values, or bins at pooled quantiles.

    A weighted (sketched) reference counts each point as its weight rounded to
    a whole number of rows.
    """
    ref_cum = np.rint(m.cum_ref)
    if m.values.size <= max_cells:
        ends = np.arange(m.values.size)
        exact = True
    else:
        total_cum = ref_cum + m.cum_cur
        targets = total_cum[-1] * np.arange(1, max_cells + 1) / max_cells
        ends = np.unique(np.minimum(np.searchsorted(total_cum, targets, side="left"), m.values.size - 1))
        exact = False
    ref_at = ref_cum[ends]
    cur_at = m.cum_cur[ends].astype(np.float64)
    ref = np.diff(ref_at, prepend=0.0).astype(np.int64)
    totals = ref + np.diff(cur_at, prepend=0.0).astype(np.int64)
    return Cells(totals, ref, m.values[ends], exact)


def categorical_cells(ref: np.ndarray, cur: np.ndarray, key: np.ndarray, max_cells: int = MAX_CELLS) -> Cells:
    """Cells of a categorical table: its categories, or, above ``max_cells``, the largest
    half of them and the rest merged by pooled total into groups of similar size.

    Equal totals are ordered by ``key`` (the label ranks), so the cells depend
    on the pooled sample only.
    """
    r, c = np.rint(ref).astype(np.int64), np.rint(cur).astype(np.int64)
    keep = (r + c) > 0
    r, c, key = r[keep], c[keep], np.asarray(key)[keep]
    t = r + c
    if t.size <= max_cells:
        return Cells(t, r, None, True)
    order = np.lexsort((key, -t))
    n_keep = max_cells // 2
    top, rest = order[:n_keep], order[n_keep:]
    rest = rest[np.lexsort((key[rest], t[rest]))]
    group = np.arange(rest.size) * (max_cells - n_keep) // rest.size
    merged_t = np.bincount(group, weights=t[rest]).astype(np.int64)
    merged_r = np.bincount(group, weights=r[rest]).astype(np.int64)
    return Cells(np.concatenate([t[top], merged_t]), np.concatenate([r[top], merged_r]), None, False)


#: ``cells x permutations`` above which a pooled chi-square / G table is permuted on coarser cells.
TABLE_WORK = 25_000_000


def table_permutation(cells: Cells, kind: str) -> Permutation:
    """The permutation test of the chi-square (``"chi2"``) or G (``"g"``) statistic of a pooled table.

    When ``cells x R`` would exceed :data:`TABLE_WORK` (tens of thousands of
    cells), the table is first merged into at most ``TABLE_WORK / R`` cells
    (:func:`categorical_cells`: the largest half kept, the rest merged by
    pooled total) and the statistic of that table is permuted: still exact,
    for the coarser table.
    """
    test = cell_permutation(cells, table_statistic(cells, kind))

    def shrink(max_cells: int) -> Permutation:
        key = np.arange(cells.size)  # the pooled table's order depends on the pooled sample only
        coarse = categorical_cells(cells.ref, cells.totals - cells.ref, key, max_cells)
        return cell_permutation(coarse, table_statistic(coarse, kind))

    test.max_work, test.shrink = TABLE_WORK, shrink
    return test


# ---- statistics on cell counts (one row per draw) -----------------------------------
CellStatistic = Callable[[np.ndarray], np.ndarray]


def _gaps(r: np.ndarray, cells: Cells) -> np.ndarray:
    cum_r = np.cumsum(r, axis=1)
    cum_c = np.cumsum(cells.totals)[None, :] - cum_r
    return np.asarray(cum_r / cells.n_ref - cum_c / cells.n_cur)


def ks_statistic(cells: Cells) -> CellStatistic:
    """``max |F_ref - F_cur|`` over the cells (exact KS when the cells are the distinct values)."""
    def stat(r: np.ndarray) -> np.ndarray:
        return np.asarray(np.max(np.abs(_gaps(r, cells)), axis=1))
    return stat


def cdf_statistic(cells: Cells, power: int) -> CellStatistic:
    """Wasserstein (``power=1``) or energy distance (``power=2``) of the binned samples."""
    assert cells.positions is not None
    dx = np.diff(cells.positions)

    def stat(r: np.ndarray) -> np.ndarray:
        gap = np.abs(_gaps(r, cells)[:, :-1])
        if power == 1:
            return np.asarray(gap @ dx)
        return np.asarray(np.sqrt(2.0 * ((gap * gap) @ dx)))
    return stat


def _divergence(kind: str, rb: np.ndarray, cb: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Row-wise PSI, Jensen-Shannon distance or Hellinger distance of count matrices."""
    n1 = rb.sum(axis=1, keepdims=True)
    n2 = cb.sum(axis=1, keepdims=True)
    if kind == "psi":
        nbins = rb.shape[1] if valid is None else valid.sum(axis=1, keepdims=True)
        p = (rb + k.PSI_PSEUDO_COUNT) / (n1 + k.PSI_PSEUDO_COUNT * nbins)
        q = (cb + k.PSI_PSEUDO_COUNT) / (n2 + k.PSI_PSEUDO_COUNT * nbins)
        terms = (q - p) * np.log(q / p)
        if valid is not None:
            terms = np.where(valid, terms, 0.0)
        return np.asarray(terms.sum(axis=1))
    p, q = rb / n1, cb / n2
    if kind == "hellinger":
        return np.asarray(np.sqrt(np.maximum(1.0 - np.sqrt(p * q).sum(axis=1), 0.0)))
    mid = (p + q) / 2.0
    div = (special.rel_entr(p, mid).sum(axis=1) + special.rel_entr(q, mid).sum(axis=1)) / 2.0
    return np.asarray(np.sqrt(np.maximum(div, 0.0) / math.log(2.0)))


def divergence_statistic(cells: Cells, kind: str) -> CellStatistic:
    """PSI / JS / Hellinger of the cell counts themselves (categories)."""
    def stat(r: np.ndarray) -> np.ndarray:
        return _divergence(kind, r, cells.totals[None, :] - r)
    return stat


def table_statistic(cells: Cells, kind: str) -> CellStatistic:
    """Pearson's chi-square (``"chi2"``) or the G statistic (``"g"``) of the ``2 x cells`` table.

    The margins are the same in every draw, so the expected counts are fixed:
    ``X^2 = sum_j (r_j - e_j)^2 (1 / e_j + 1 / f_j)`` with ``e_j, f_j`` the
    expected reference and current counts of cell ``j``.
    """
    t = cells.totals.astype(np.float64)
    big_n = float(t.sum())
    e = t * cells.n_ref / big_n
    f = t - e
    weight = 1.0 / e + 1.0 / f

    def stat(r: np.ndarray) -> np.ndarray:
        if kind == "chi2":
            return np.asarray(((r - e) ** 2 * weight).sum(axis=1))
        c = t - r
        return np.asarray(2.0 * (special.xlogy(r, r / e) + special.xlogy(c, c / f)).sum(axis=1))
    return stat


def binned_divergence_statistic(cells: Cells, kind: str, bins: int) -> CellStatistic:
    """PSI / JS / Hellinger on ``bins`` bins at the *reference's* quantiles, as the report bins numbers.

    The bin edges are recomputed from each draw's reference (at cell
    resolution), so the statistic is the same function of the data for the
    observed split and for every null draw.
    """
    targets = cells.n_ref * np.arange(1, bins) / bins
    cum_t = np.cumsum(cells.totals)

    def stat(r: np.ndarray) -> np.ndarray:
        cum_r = np.cumsum(r, axis=1)
        idx = np.stack([(cum_r < t).sum(axis=1) for t in targets] + [np.full(r.shape[0], cells.size - 1)],
                       axis=1)
        idx = np.minimum(idx, cells.size - 1)
        at_r = np.take_along_axis(cum_r, idx, axis=1)
        at_t = cum_t[idx]
        rb = np.diff(at_r, axis=1, prepend=0.0)
        cb = np.diff(at_t - at_r, axis=1, prepend=0.0)
        valid = np.diff(idx, axis=1, prepend=-1) > 0
        return _divergence(kind, rb, cb, valid)
    return stat


# ---- running a permutation test --------------------------------------------------------
@dataclass
class Permutation:
    """A permutation test waiting for its draws.

    ``draw(rng, size)`` returns the statistics of ``size`` null draws;
    ``fallback`` (optional) gives a valid p-value without drawing when
    ``work * R`` exceeds ``max_work``.
    """

    draw: Callable[[np.random.Generator, int], np.ndarray]
    observed: float
    max_draws: int | None = None
    want_mean: bool = False
    work: int = 0
    max_work: float = math.inf
    fallback: Callable[[], float] | None = None
    observe: Callable[[], float] | None = None  # computes ``observed`` lazily (when drawing at all)
    #: Optional: the same test on at most the given number of cells, used when ``work * R > max_work``.
    shrink: Callable[[int], Permutation] | None = None


@dataclass(frozen=True)
class PermutationResult:
    p_value: float
    draws: int
    null_mean: float | None
    bound: bool = False  # the fallback bound gave the p-value
    cells: int | None = None  # the cells drawn when ``shrink`` coarsened the test


def run(test: Permutation, rng: np.random.Generator, permutations: int) -> PermutationResult:
    """Besag-Clifford sequential permutation p-value (and the null mean when wanted)."""
    budget = int(permutations if test.max_draws is None else min(permutations, test.max_draws))
    if test.fallback is not None and test.work * budget > test.max_work:
        return PermutationResult(float(test.fallback()), 0, None, bound=True)
    if test.shrink is not None and test.work * budget > test.max_work:
        coarse = test.shrink(max(2, int(test.max_work // budget)))
        return replace(run(coarse, rng, permutations), cells=int(coarse.work))
    if test.observe is not None:
        test.observed = test.observe()
    tol = 1e-12 * max(1.0, abs(test.observed))
    # Draws are made in batches that double, each at most BATCH_VALUES cell counts in memory.
    largest = max(1, BATCH_VALUES // max(int(test.work), 1))
    hits, done, batch = 0, 0, min(2 * HITS, largest)
    drawn: list[np.ndarray] = []
    p_value: float | None = None
    while done < budget:
        size = min(batch, budget - done)
        values = np.asarray(test.draw(rng, size), dtype=np.float64)
        over = values >= test.observed - tol
        running = hits + np.cumsum(over)
        stop = int(np.searchsorted(running, HITS, side="left"))
        if stop < size:
            drawn.append(values[: stop + 1])
            done += stop + 1
            p_value = HITS / done
            break
        drawn.append(values)
        hits, done = int(running[-1]), done + size
        batch = min(batch * 2, 4096, largest)
    if p_value is None:
        p_value = (hits + 1) / (done + 1)
    null_mean = None
    if test.want_mean:
        wanted = MEAN_DRAWS if test.max_draws is None else min(MEAN_DRAWS, test.max_draws)
        if done < wanted:
            drawn.append(np.asarray(test.draw(rng, wanted - done), dtype=np.float64))
        null_mean = float(np.mean(np.concatenate(drawn)))
    return PermutationResult(float(min(p_value, 1.0)), done, null_mean)


def cell_permutation(cells: Cells, statistic: CellStatistic, *, want_mean: bool = False) -> Permutation:
    """The permutation test of ``statistic`` on ``cells`` (observed value computed the same way)."""
    totals = cells.totals.astype(np.int64)
    n_ref = cells.n_ref
    observed = float(statistic(cells.ref[None, :].astype(np.float64))[0])

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        return statistic(draw_counts(rng, totals, n_ref, size).astype(np.float64))

    return Permutation(draw, observed, want_mean=want_mean, work=cells.size)


def raw_permutation(reference: np.ndarray, current: np.ndarray,
                    statistic: Callable[[Any, Any], float]) -> Permutation:
    """The permutation test of a user statistic: the pooled values are shuffled and split again.

    At most :data:`USER_PERMUTATIONS` draws, each one call of the user's
    function on arrays of the original sizes.
    """
    pooled = np.concatenate([np.asarray(reference), np.asarray(current)])
    n_ref = int(np.asarray(reference).size)
    observed = float(statistic(reference, current))

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        out = np.empty(size)
        for i in range(size):  # a loop over permutations, each one vectorised inside the user's function
            order = rng.permutation(pooled.size)
            out[i] = statistic(pooled[order[:n_ref]], pooled[order[n_ref:]])
        return out

    draws = user_draws(pooled.size)
    return Permutation(draw, observed, max_draws=draws, want_mean=True, work=pooled.size)


def user_draws(n_pooled: int) -> int:
    """Draws at most of a user statistic's permutation test over ``n_pooled`` values.

    :data:`USER_PERMUTATIONS`, fewer when shuffling that many times would move
    more than :data:`USER_WORK` values (each draw shuffles every pooled value
    and calls the user's function once), never fewer than 19 (smallest
    p-value 0.05).

    Examples
    --------
    >>> user_draws(1_000), user_draws(2_000_000)
    (999, 50)
    """
    return int(min(USER_PERMUTATIONS, max(19, USER_WORK // max(int(n_pooled), 1))))


# ---- unseen categories -------------------------------------------------------------------
@dataclass(frozen=True)
class Unseen:
    """The unseen-category statistic of a categorical column and its Good-Turing expectation."""

    count: int  # current values whose category has no reference value
    share: float  # count / n_cur
    expected: float  # share of reference values in categories seen once (Good-Turing)
    possible: bool  # some pooled category could fall entirely in the current sample
    test: Permutation | None


def unseen(ref: np.ndarray, cur: np.ndarray) -> Unseen:
    """``U``, the current values in categories absent from the reference, and its permutation test.

    Given the pooled category totals ``t_c`` the reference's counts are
    multivariate hypergeometric, and ``U = sum_c t_c 1{ref count of c == 0}``.
    The test statistic is the larger of ``U`` and ``S = sum_c t_c^2 1{...}``,
    each standardised by its exact null mean and standard deviation
    (:func:`_unseen_moments`): ``U`` sees many small new categories (new
    users), ``S`` one large new category (a new plan, a new code), which
    ``U`` confuses with the many singletons a sparse column meets by chance.
    The permutation draws that multivariate hypergeometric exactly, with all
    categories seen once in the pooled sample merged into one cell (only how
    many of them land in the reference matters). When ``cells x R`` would
    exceed :data:`UNSEEN_WORK` the exact Chernoff bound on ``U``
    (:func:`unseen_bound`) is used instead (conservative, never capped).
    """
    r, c = np.rint(ref).astype(np.int64), np.rint(cur).astype(np.int64)
    n1, n2 = int(r.sum()), int(c.sum())
    count = int(c[r == 0].sum())
    expected = float(np.count_nonzero(r == 1) / n1) if n1 else 0.0
    keep = (r + c) > 0
    r, t = r[keep], (r + c)[keep]
    possible = bool(n1 > 0 and n2 > 0 and np.any(t <= n2))
    share = count / n2 if n2 else 0.0
    if not possible or count == 0:
        return Unseen(count, share, expected, possible, None)
    moments: list[tuple[float, float]] = []  # computed at the first draw: not at all when the bound is used
    single = t == 1
    regular = t[~single].astype(np.float64)
    g1 = int(single.sum())
    totals = np.concatenate([t[~single], [g1]]) if g1 else t[~single]
    n_reg = regular.size

    def statistic(d: np.ndarray) -> np.ndarray:
        if not moments:
            moments.extend(_unseen_moments(t, n1))
        (mu_u, sd_u), (mu_s, sd_s) = moments
        zero = d[:, :n_reg] == 0
        u = (zero * regular).sum(axis=1)
        s = (zero * regular**2).sum(axis=1)
        if g1:
            u = u + (g1 - d[:, n_reg])
            s = s + (g1 - d[:, n_reg])
        zu = (u - mu_u) / sd_u if sd_u > 0 else np.full(u.shape, -np.inf)
        zs = (s - mu_s) / sd_s if sd_s > 0 else np.full(s.shape, -np.inf)
        return np.asarray(np.maximum(zu, zs))

    observed_cells = np.concatenate([r[~single], [int(r[single].sum())]]) if g1 else r[~single]

    def draw(rng: np.random.Generator, size: int) -> np.ndarray:
        return statistic(draw_counts(rng, totals, n1, size))

    test = Permutation(draw, float("nan"), work=int(totals.size), max_work=UNSEEN_WORK,
                       fallback=lambda: unseen_bound(count, t, n1),
                       observe=lambda: float(statistic(observed_cells[None, :])[0]))
    return Unseen(count, share, expected, True, test)


def _lchoose(a: np.ndarray, b: float) -> np.ndarray:
    return np.asarray(special.gammaln(a + 1) - special.gammaln(b + 1) - special.gammaln(a - b + 1))


def _unseen_moments(totals: np.ndarray, n_ref: int) -> list[tuple[float, float]]:
    """Exact null mean and sd of ``sum_c w(t_c) 1{ref count of c == 0}`` for ``w = t`` and ``w = t^2``.

    With ``p_t = P(count == 0) = C(N - t, n_ref) / C(N, n_ref)`` and, for two
    categories, ``q = C(N - t - t', n_ref) / C(N, n_ref)``; computed per
    distinct total (a ``D x D`` matrix).
    """
    big_n = float(np.sum(totals))
    n_cur = big_n - n_ref
    t, g = np.unique(np.asarray(totals, dtype=np.float64), return_counts=True)
    base = _lchoose(np.array([big_n]), n_ref)[0]
    p = np.where(t <= n_cur, np.exp(_lchoose(np.maximum(big_n - t, n_ref), n_ref) - base), 0.0)
    gf = g.astype(np.float64)
    weights = (t, t * t)
    cross = [0.0, 0.0]
    for start in range(0, t.size, 256):  # blocks of rows: at most 256 x D values at once (D <= sqrt(2N))
        rows = slice(start, start + 256)
        pair = t[rows, None] + t[None, :]
        q = np.where(pair <= n_cur, np.exp(_lchoose(np.maximum(big_n - pair, n_ref), n_ref) - base), 0.0)
        same = np.zeros_like(q)
        same[np.arange(q.shape[0]), np.arange(start, start + q.shape[0])] = 1.0
        cov = gf[rows, None] * (gf[None, :] - same) * (q - np.outer(p[rows], p))
        for i, w in enumerate(weights):
            cross[i] += float(np.sum(cov * np.outer(w[rows], w)))
    out = []
    for i, w in enumerate(weights):
        mean = float(np.sum(gf * w * p))
        var = float(np.sum(gf * w * w * (p - p * p))) + cross[i]
        out.append((mean, math.sqrt(var) if var > 0 else 0.0))
    return out


def _log_p_zero(totals: np.ndarray, n_ref: int, big_n: int) -> np.ndarray:
    """``log P(reference count of a category == 0)`` for pooled totals (``-inf`` when impossible)."""
    t = np.asarray(totals, dtype=np.float64)
    out = np.full(t.shape, -np.inf)
    ok = t <= big_n - n_ref
    tt = t[ok]
    out[ok] = (special.gammaln(big_n - tt + 1) + special.gammaln(big_n - n_ref + 1)
               - special.gammaln(big_n - tt - n_ref + 1) - special.gammaln(big_n + 1))
    return out


def unseen_bound(u: float, totals: np.ndarray, n_ref: int) -> float:
    """Chernoff bound on ``P(U >= u)`` with no drift: a valid, conservative p-value.

    The reference counts of a multivariate hypergeometric are negatively
    associated, hence so are the indicators ``1{count == 0}``, and
    ``E exp(lambda U) <= prod_c (1 - p_c + p_c exp(lambda t_c))`` with
    ``p_c = P(count_c == 0)``. The bound is minimised over ``lambda > 0``
    (computed per distinct total).

    Examples
    --------
    >>> unseen_bound(0, np.array([5, 5]), 5)
    1.0
    >>> unseen_bound(30, np.array([100, 100, 30]), 115) < 1e-6
    True
    """
    if u <= 0:
        return 1.0
    t_all = np.asarray(totals, dtype=np.float64)
    big_n = int(t_all.sum())
    t, g = np.unique(t_all, return_counts=True)
    lp = _log_p_zero(t, n_ref, big_n)
    keep = np.isfinite(lp)
    t, g, lp = t[keep], g[keep].astype(np.float64), lp[keep]
    if t.size == 0 or u > float(np.sum(g * t)):
        return 0.0
    l1p = np.log(-np.expm1(np.minimum(lp, -1e-300)))
    if u <= float(np.sum(g * t * np.exp(lp))):
        return 1.0

    def log_bound(lam: float) -> float:
        return -lam * u + float(np.sum(g * np.logaddexp(l1p, lp + lam * t)))

    def slope(lam: float) -> float:
        return -u + float(np.sum(g * t * special.expit(lp + lam * t - l1p)))

    hi = 1.0 / float(t.max())
    while slope(hi) < 0 and hi < 1e6:
        hi *= 2.0
    lam = optimize.brentq(slope, 0.0, hi, xtol=1e-12) if slope(hi) >= 0 else hi
    return float(math.exp(min(log_bound(lam), 0.0)))
