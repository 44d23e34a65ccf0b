"""Paired tests behind :func:`compare_champion`: McNemar, DeLong, permutation, BCa.

Everything is vectorised: McNemar and DeLong are O(n log n) at most, and the
paired bootstrap draws its resamples in chunks as a matrix of counts (how often
each row is drawn in each resample), so any metric that is a function of
per-row sums is one matrix product per chunk, and ranking metrics (ROC-AUC,
average precision) are a sort done once plus cumulative sums per chunk. The
jackknife behind the BCa acceleration reuses the same plans: leave-one-out
sums for sum-type metrics (exact, O(n)), leave-group-out weights for ranking
metrics. The paired permutation test of ROC-AUC ranks every permutation at
once, one chunk of permutations at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special, stats

#: Below this many discordant pairs McNemar uses the exact binomial test.
MCNEMAR_EXACT_BELOW = 25

#: Binary ROC-AUC uses DeLong's test from this many rows in the smaller class on, and the
#: paired permutation test below it (DeLong's normal approximation rejects too often
#: with few positives; see tests/calibration/test_champion.py).
DELONG_MIN_EVENTS = 50

#: Work budget of the permutation test: at most this many ranked entries in all, so
#: ``min(n_permutations, PERMUTATION_CELLS // n)`` permutations (at least 200) are drawn.
#: The p-value ``(1 + extreme) / (1 + permutations)`` is valid for any number of them.
PERMUTATION_CELLS = 20_000_000

#: Upper bound on the entries of one chunk of the count matrix (4 MB of float32 counts).
CHUNK_CELLS = 1_000_000

#: Ranking metrics' jackknife leaves out one of at most this many groups of rows
#: (row ``i`` in group ``i % JACK_GROUPS``); below it, one row at a time.
JACK_GROUPS = 200


@dataclass(frozen=True)
class McNemarResult:
    """McNemar's test on paired correct/incorrect outcomes."""

    statistic: float
    p_value: float
    method: str          # "mcnemar-exact" or "mcnemar-chi2"
    only_champion: int   # b: champion right, challenger wrong
    only_challenger: int  # c: champion wrong, challenger right


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> McNemarResult:
    """McNemar's test of equal accuracy for two classifiers scored on the same rows.

    With ``b`` rows only ``a`` gets right and ``c`` rows only ``b`` gets right,
    the exact two-sided binomial test of ``b ~ Binomial(b + c, 1/2)`` is used
    when ``b + c < 25``, else the chi-square statistic with Edwards'
    continuity correction, ``(|b - c| - 1)^2 / (b + c)`` on 1 degree of
    freedom. No discordant pair gives ``p = 1``.
    """
    a = np.asarray(correct_a, dtype=bool)
    b_ = np.asarray(correct_b, dtype=bool)
    b = int(np.count_nonzero(a & ~b_))
    c = int(np.count_nonzero(~a & b_))
    n = b + c
    if n == 0:
        return McNemarResult(0.0, 1.0, "mcnemar-exact", b, c)
    if n < MCNEMAR_EXACT_BELOW:
        p = float(min(1.0, 2.0 * stats.binom.cdf(min(b, c), n, 0.5)))
        return McNemarResult(float(min(b, c)), p, "mcnemar-exact", b, c)
    statistic = (abs(b - c) - 1.0) ** 2 / n
    return McNemarResult(float(statistic), float(stats.chi2.sf(statistic, 1)),
                         "mcnemar-chi2", b, c)


@dataclass(frozen=True)
class DeLongResult:
    """DeLong's test of two correlated ROC-AUCs."""

    auc_a: float
    auc_b: float
    variance: float      # of auc_b - auc_a
    statistic: float     # z
    p_value: float


def _midranks(x: np.ndarray) -> np.ndarray:
    return stats.rankdata(x, method="average", axis=-1)


def delong(positive: np.ndarray, score_a: np.ndarray, score_b: np.ndarray) -> DeLongResult:
    """DeLong, DeLong & Clarke-Pearson (1988) test of ``AUC_b - AUC_a``.

    Uses the O(n log n) midrank algorithm of Sun & Xu (2014): the structural
    components of every positive and negative row come from three rankings
    (within positives, within negatives, overall) instead of all pairs.
    Two-sided p-value from the normal distribution. When the variance of the
    difference is zero (identical scores up to ranking) ``p = 1`` if the
    AUCs are equal, else ``0``.
    """
    pos = np.asarray(positive, dtype=bool)
    scores = np.vstack([np.asarray(score_a, dtype=float), np.asarray(score_b, dtype=float)])
    x, y = scores[:, pos], scores[:, ~pos]
    m, n = x.shape[1], y.shape[1]
    tx, ty, tz = _midranks(x), _midranks(y), _midranks(scores)
    tz_x, tz_y = tz[:, pos], tz[:, ~pos]
    aucs = (tz_x.sum(axis=1) / m - (m + 1) / 2.0) / n
    v10 = (tz_x - tx) / n
    v01 = 1.0 - (tz_y - ty) / m
    s10 = np.cov(v10) if m > 1 else np.zeros((2, 2))
    s01 = np.cov(v01) if n > 1 else np.zeros((2, 2))
    s = s10 / m + s01 / n
    variance = float(s[0, 0] + s[1, 1] - 2.0 * s[0, 1])
    diff = float(aucs[1] - aucs[0])
    if variance <= 1e-15 * max(1.0, float(s[0, 0] + s[1, 1])):
        equal = abs(diff) <= 1e-12
        return DeLongResult(float(aucs[0]), float(aucs[1]), max(variance, 0.0),
                            0.0 if equal else float(np.sign(diff) * np.inf),
                            1.0 if equal else 0.0)
    z = diff / np.sqrt(variance)
    return DeLongResult(float(aucs[0]), float(aucs[1]), variance, float(z),
                        float(2.0 * stats.norm.sf(abs(z))))


# ---- the bootstrap --------------------------------------------------------------


def count_chunks(n: int, n_boot: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Yield ``(b, n)`` float32 matrices of bootstrap counts, ``n_boot`` rows in all.

    Row ``r`` counts how often each of the ``n`` rows is drawn (with
    replacement, ``n`` draws) in resample ``r``; every row sums to ``n``.
    Counts are small integers, exact in float32, which halves the memory
    traffic of everything downstream.
    """
    per_chunk = max(1, min(n_boot, CHUNK_CELLS // max(n, 1)))
    done = 0
    while done < n_boot:
        b = min(per_chunk, n_boot - done)
        draws = rng.integers(0, n, size=(b, n), dtype=np.int64)
        counts = np.empty((b, n), dtype=np.float32)
        for r in range(b):  # one bincount per resample stays in cache: 3x faster
            counts[r] = np.bincount(draws[r], minlength=n)
        yield counts
        done += b


class Weights:
    """One chunk of row weights ``(b, n)`` with the derived arrays plans share."""

    def __init__(self, counts: np.ndarray) -> None:
        self.counts = counts
        self._cache: dict[Any, np.ndarray] = {}

    def cached(self, key: Any, make: Callable[[], np.ndarray]) -> np.ndarray:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def float64(self) -> np.ndarray:
        return self.cached("float64", lambda: self.counts.astype(np.float64))


def _take(a: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``a[:, columns]``: ``np.take`` is about 1.7x faster than fancy indexing for this."""
    return np.take(a, columns, axis=1)


def _cumulative(w: np.ndarray) -> np.ndarray:
    """Cumulative sums along rows with a leading zero column: ``out[:, k]`` sums ``k`` items."""
    out = np.zeros((w.shape[0], w.shape[1] + 1), dtype=w.dtype)
    np.cumsum(w, axis=1, out=out[:, 1:])
    return out


class RankedScores:
    """One binary model's scores, sorted once, for weighted ROC-AUC and average precision.

    The positives and negatives are split once; per resample the only
    per-model work is the cumulative weight of negatives in score order and,
    for each positive, how many negatives score above it (found once with
    ``searchsorted``). Ties between a positive and a negative count half
    (ROC-AUC) and tied scores form one threshold (average precision), as in
    scikit-learn.
    """

    def __init__(self, positive: np.ndarray, score: np.ndarray, *, group: Any = None) -> None:
        pos = np.asarray(positive, dtype=bool)
        # Models ranked on the same positives (champion and challenger) share the gathered
        # positive counts; ``group`` names those positives (one per class one-vs-rest).
        self.group = group
        s = np.asarray(score, dtype=float)
        self.pos_idx = np.flatnonzero(pos)
        self.neg_idx = np.flatnonzero(~pos)
        sp, sn = s[self.pos_idx], s[self.neg_idx]
        neg_order = np.argsort(-sn, kind="stable")
        self.neg_sorted = self.neg_idx[neg_order]     # negatives' rows, highest score first
        neg_desc = -sn[neg_order]                 # ascending in -score
        self.neg_above = np.searchsorted(neg_desc, -sp, side="left")     # score > s_i
        self.neg_at_or_above = np.searchsorted(neg_desc, -sp, side="right")  # score >= s_i
        self.ties = bool(np.any(self.neg_above != self.neg_at_or_above))
        self.pos_order = np.argsort(-sp, kind="stable")
        self.pos_sorted = self.pos_idx[self.pos_order]
        pos_desc = -sp[self.pos_order]
        self.pos_at_or_above = np.searchsorted(pos_desc, pos_desc, side="right")
        self.pos_ties = bool(np.any(self.pos_at_or_above != np.arange(1, pos_desc.size + 1)))
        self.neg_at_or_above_sorted = self.neg_at_or_above[self.pos_order]

    def _pos(self, w: Weights) -> np.ndarray:
        return w.cached(("pos", self.group, self.pos_idx.size), lambda: _take(w.counts, self.pos_idx))

    def _neg_cumulative(self, w: Weights) -> np.ndarray:
        # keyed by the object itself (the cache then keeps it alive): an ``id`` can be reused by
        # a later RankedScores once this one is collected, which handed it these sums
        return w.cached(("neg_cum", self),
                        lambda: _cumulative(_take(w.counts, self.neg_sorted)))

    def roc_auc(self, w: Weights) -> np.ndarray:
        """Weighted ROC-AUC per row of weights (NaN when a class is absent)."""
        cp = self._pos(w)
        cn = self._neg_cumulative(w)
        n_neg = cn[:, -1:]
        n_pos = cp.sum(axis=1).astype(np.float64)  # whole counts: exact in float32
        n_neg64 = n_neg[:, 0].astype(np.float64)
        # Pairs ranked right = every pair minus those with the negative above (ties: half).
        above = cp * _take(cn, self.neg_at_or_above)
        if self.ties:
            above += cp * _take(cn, self.neg_above)
            above *= 0.5
        num = n_pos * n_neg64 - above.sum(axis=1, dtype=np.float64)
        denom = n_pos * n_neg64
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(denom > 0, num / denom, np.nan)

    def average_precision(self, w: Weights) -> np.ndarray:
        """Weighted average precision (PR-AUC, step-wise as scikit-learn's)."""
        cp = _take(w.counts, self.pos_sorted)
        tp = _cumulative(cp)
        # Without tied positive scores each positive is its own threshold: no gather.
        tp = _take(tp, self.pos_at_or_above) if self.pos_ties else tp[:, 1:]
        fp = _take(self._neg_cumulative(w), self.neg_at_or_above_sorted)
        with np.errstate(invalid="ignore", divide="ignore"):
            # Weights are whole counts: tp + fp is 0 only where cp is 0 too.
            precision = tp / np.maximum(tp + fp, 1.0)
            total = cp.sum(axis=1).astype(np.float64)  # whole counts: exact in float32
            ap = (cp * precision).sum(axis=1, dtype=np.float64)
            return np.where(total > 0, ap / total, np.nan)


@dataclass(frozen=True)
class Plan:
    """How one metric of one model is computed from row weights.

    Either ``columns`` (per-row values, ``(n, p)``) with ``combine`` turning
    their weighted sums ``(b, p)`` into ``b`` metric values, or ``direct``
    computing the ``b`` values from the :class:`Weights` (ranking metrics).
    """

    columns: np.ndarray | None
    combine: Callable[[np.ndarray], np.ndarray] | None
    direct: Callable[[Weights], np.ndarray] | None = None


class PlanSet:
    """Several plans evaluated together: one matrix product for every column plan.

    Integer-valued columns (0/1 indicators) are summed in float32, which is
    exact while every sum stays below 2**24; other columns in float64.
    """

    def __init__(self, plans: list[Plan], n_rows: int | None = None) -> None:
        self.plans = plans
        blocks = [p.columns for p in plans if p.columns is not None]
        if n_rows is None:
            if not blocks:
                raise ValueError("n_rows is needed when no plan has per-row columns")
            n_rows = int(blocks[0].shape[0])
        self.n_rows = n_rows
        columns = np.hstack(blocks).astype(np.float64) if blocks else np.empty((n_rows, 0))
        self.n_columns = columns.shape[1]
        n = columns.shape[0]
        exact = np.all(columns == np.round(columns), axis=0) & (
            np.abs(columns).max(axis=0, initial=0.0) * n < 2.0**24)
        self.int_idx = np.flatnonzero(exact)
        self.float_idx = np.flatnonzero(~exact)
        # Stored transposed: a (b, n) @ (n, k) product with a thin k is many times slower
        # in BLAS than (k, n) @ (n, b), and einsum beats both for exact float32 sums.
        self.int_columns_t = np.ascontiguousarray(columns[:, self.int_idx].T, dtype=np.float32)
        self.float_columns_t = np.ascontiguousarray(columns[:, self.float_idx].T)

    def _sums(self, w: Weights) -> np.ndarray:
        sums = np.empty((w.counts.shape[0], self.n_columns), dtype=np.float64)
        if self.int_idx.size:
            sums[:, self.int_idx] = np.einsum("bn,kn->bk", w.counts, self.int_columns_t)
        if self.float_idx.size:
            sums[:, self.float_idx] = (self.float_columns_t @ w.float64().T).T
        return sums

    def jackknife(self) -> list[np.ndarray]:
        """Each plan's jackknife values, one per left-out row or group of rows.

        Plans of per-row columns leave out one row at a time, exactly, from the
        column totals (``n`` values, O(n) work). Ranking plans leave out one of
        ``G = min(n, JACK_GROUPS)`` groups of rows (row ``i`` in group
        ``i % G``): ``G`` weighted evaluations, the leave-one-out jackknife
        when ``n <= JACK_GROUPS``. Both plans of one metric are of the same
        kind, so their values pair up.
        """
        out: list[np.ndarray | None] = [None] * len(self.plans)
        for i, plan in enumerate(self.plans):
            if plan.columns is not None and plan.combine is not None:
                cols = np.asarray(plan.columns, dtype=np.float64)
                loo = cols.sum(axis=0, keepdims=True) - cols
                out[i] = np.asarray(plan.combine(loo), dtype=float)
        direct = [i for i, plan in enumerate(self.plans) if out[i] is None]
        if direct:
            n = self.n_rows
            groups = min(n, JACK_GROUPS)
            group_of = np.arange(n) % groups
            per_chunk = max(1, CHUNK_CELLS // max(n, 1))
            parts: dict[int, list[np.ndarray]] = {i: [] for i in direct}
            for start in range(0, groups, per_chunk):
                ids = np.arange(start, min(groups, start + per_chunk))
                w = Weights((group_of[None, :] != ids[:, None]).astype(np.float32))
                for i in direct:
                    fn = self.plans[i].direct
                    assert fn is not None
                    parts[i].append(np.asarray(fn(w), dtype=float))
            for i in direct:
                out[i] = np.concatenate(parts[i])
        return [np.asarray(v) for v in out]

    def evaluate(self, counts: np.ndarray) -> list[np.ndarray]:
        """Each plan's metric values for every row of ``counts``."""
        w = Weights(counts)
        sums = self._sums(w) if self.n_columns else None
        out = []
        start = 0
        for plan in self.plans:
            if plan.columns is not None and plan.combine is not None and sums is not None:
                stop = start + plan.columns.shape[1]
                out.append(np.asarray(plan.combine(sums[:, start:stop]), dtype=float))
                start = stop
            elif plan.direct is not None:
                out.append(np.asarray(plan.direct(w), dtype=float))
            else:  # pragma: no cover - plans are built with one of the two
                raise AssertionError("a plan needs columns+combine or direct")
        return out


def _ties(values: np.ndarray, at: float) -> tuple[int, int]:
    """How many ``values`` lie below ``at``, and how many equal it up to rounding."""
    tol = 1e-12 * max(1.0, float(np.max(np.abs(values))), abs(at))
    below = int(np.count_nonzero(values < at - tol))
    equal = int(np.count_nonzero(np.abs(values - at) <= tol))
    return below, equal


@dataclass(frozen=True)
class BCa:
    """A bootstrap distribution with its BCa bias correction and acceleration.

    Efron's bias-corrected and accelerated interval (Efron 1987; Efron &
    Tibshirani 1993, ch. 14; DiCiccio & Efron 1996): ``z0`` is the normal
    quantile of the share of resampled values below the observed one (ties
    count half, which matters for discrete metrics such as accuracy), the
    acceleration ``a`` is the skewness of the jackknife values,
    ``sum(U**3) / (6 * sum(U**2) ** 1.5)`` with ``U = mean(jack) - jack``.
    The interval at level ``1 - 2 t`` is the pair of bootstrap quantiles at
    ``Phi(z0 + (z0 + z) / (1 - a (z0 + z)))`` for ``z = Phi^-1(t)`` and
    ``Phi^-1(1 - t)``; :meth:`p_value` inverts it.
    """

    values: np.ndarray   # finite bootstrap values
    observed: float
    z0: float
    acceleration: float

    @property
    def n(self) -> int:
        return int(self.values.size)

    def interval(self, confidence: float) -> tuple[float, float]:
        """The BCa interval at ``confidence`` (NaN when no resample is finite)."""
        if self.n == 0:
            return float("nan"), float("nan")
        tail = (1.0 - confidence) / 2.0
        z = special.ndtri(np.array([tail, 1.0 - tail]))
        u = self.z0 + z
        denom = 1.0 - self.acceleration * u
        with np.errstate(divide="ignore", invalid="ignore"):
            levels = special.ndtr(self.z0 + u / denom)
        # Past the pole of the transform the endpoint runs to the end of the distribution.
        levels = np.where(denom > 0, levels, [0.0, 1.0])
        low, high = np.quantile(self.values, levels)
        return float(low), float(high)

    def one_sided_p(self, null: float = 0.0) -> float:
        """The smallest ``t`` at which the BCa lower bound of level ``1 - t`` exceeds ``null``.

        The one-sided p-value of "the true value is at most ``null``"; with
        ``a = z0 = 0`` it is the share of resampled values at or below ``null``.
        """
        if self.n == 0:
            return float("nan")
        below, equal = _ties(self.values, null)
        share = (below + 0.5 * equal) / self.n
        share = min(max(share, 0.5 / self.n), 1.0 - 0.5 / self.n)
        w = float(special.ndtri(share)) - self.z0
        denom = 1.0 + self.acceleration * w
        if denom <= 0:   # beyond every BCa endpoint on that side
            return 0.0 if w < 0 else 1.0
        return float(special.ndtr(w / denom - self.z0))

    def p_value(self, null: float = 0.0) -> float:
        """Two-sided p-value of "the true value is ``null``": the smallest ``1 - confidence``
        at which the BCa interval excludes ``null`` (at least ``1 / (n + 1)``)."""
        one = self.one_sided_p(null)
        if not np.isfinite(one):
            return float("nan")
        return float(min(1.0, max(2.0 * min(one, 1.0 - one), 1.0 / (self.n + 1))))


def bca(values: np.ndarray, observed: float, jackknife: np.ndarray) -> BCa:
    """The :class:`BCa` of bootstrap ``values`` of a statistic observed at ``observed``.

    ``jackknife`` holds the statistic with one row (or one group of rows) left
    out; non-finite values in either array are ignored. When every jackknife
    value is equal the acceleration is 0.
    """
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0 or not np.isfinite(observed):
        return BCa(finite, float(observed), 0.0, 0.0)
    below, equal = _ties(finite, observed)
    share = (below + 0.5 * equal) / finite.size
    share = min(max(share, 0.5 / finite.size), 1.0 - 0.5 / finite.size)
    jack = np.asarray(jackknife, dtype=float)
    jack = jack[np.isfinite(jack)]
    u = jack.mean() - jack if jack.size else jack
    ss = float(np.sum(u * u))
    accel = float(np.sum(u ** 3) / (6.0 * ss ** 1.5)) if ss > 1e-300 else 0.0
    return BCa(finite, float(observed), float(special.ndtri(share)), accel)


# ---- the paired permutation tests of ROC-AUC and PR-AUC ---------------------------------


@dataclass(frozen=True)
class PermutationResult:
    """A paired permutation test of ``metric_b - metric_a``."""

    statistic: float     # metric_b - metric_a (signed as the caller asked)
    p_value: float
    n_permutations: int


def _rank_auc(ranks: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """ROC-AUC of every row of ``ranks`` (``(p, n)`` scores), midranks for ties."""
    r = stats.rankdata(ranks, method="average", axis=-1)
    m = int(pos.sum())
    k = r.shape[-1] - m
    return (r[..., pos].sum(axis=-1) - m * (m + 1) / 2.0) / (m * k)


def _rank_average_precision(scores: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Average precision of every row of ``scores`` (``(p, n)``), as scikit-learn's.

    ``AP = mean over positives i of TP(s >= s_i) / N(s >= s_i)``: tied scores
    form one threshold, so every row of a tie counts as above. One sort per
    row; the end of each tie group comes from a reversed running minimum.
    """
    scores = np.atleast_2d(scores)
    n = scores.shape[-1]
    order = np.argsort(-scores, axis=-1, kind="stable")
    ordered = np.take_along_axis(scores, order, axis=-1)
    pos_ordered = pos[order]
    tp = np.cumsum(pos_ordered, axis=-1)
    last = np.ones(ordered.shape, dtype=bool)      # last row of its tie group
    last[..., :-1] = ordered[..., 1:] != ordered[..., :-1]
    end = np.where(last, np.arange(n), n)
    end = np.minimum.accumulate(end[..., ::-1], axis=-1)[..., ::-1]
    precision = np.take_along_axis(tp, end, axis=-1) / (end + 1.0)
    return np.sum(precision, axis=-1, where=pos_ordered) / float(pos.sum())


_RANK_METRICS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "roc_auc": _rank_auc, "pr_auc": _rank_average_precision}


def _swap_keys(slots: np.ndarray, swap: np.ndarray, coin: np.ndarray) -> np.ndarray:
    """Integer sort keys of one swapped rank vector, cross-model ties ordered at random.

    ``slots`` holds the vector's ranks as dense integers (equal ranks equal)
    and ``swap`` marks the rows whose ranks came from the other model. A
    swapped vector holds ranks of both models, so rank ``r`` of one can meet
    rank ``r`` of the other: an artefact of the swap, not a tie of the
    scores, and average precision, which counts a tie as one threshold,
    would be lowered by it in every permutation. Key ``2 slot`` or ``2 slot
    + 1`` keeps the order of the ranks, and ``coin`` (one per permutation and
    rank value) decides whether the swapped or the unswapped entries of a
    rank take the upper key: such entries are ordered at random, never past
    a different rank, and ties within one model stay ties. Both vectors of a
    permutation use the same coins, so exchanging the two models mirrors the
    test exactly.
    """
    return 2 * slots + (swap != np.take_along_axis(coin, slots, axis=1))


def _keyed_average_precision(keys: np.ndarray, pos: np.ndarray, n_keys: int) -> np.ndarray:
    """Average precision of every row of integer ``keys`` (higher key ranks higher).

    Counting instead of sorting: per row, the rows and the positives at or
    above each key are reversed cumulative sums of one ``bincount``, so a
    chunk of permutations costs O(b (n + n_keys)). Equal keys form one
    threshold, as in scikit-learn.
    """
    b = keys.shape[0]
    flat = keys + (np.arange(b) * n_keys)[:, None]
    size = b * n_keys
    at_or_above = np.bincount(flat.ravel(), minlength=size).reshape(b, n_keys)[:, ::-1]
    np.cumsum(at_or_above, axis=1, out=at_or_above)
    flat_pos = flat[:, pos]
    tp_at_or_above = np.bincount(flat_pos.ravel(), minlength=size).reshape(b, n_keys)[:, ::-1]
    np.cumsum(tp_at_or_above, axis=1, out=tp_at_or_above)
    rev = n_keys - 1 - keys[:, pos]
    precision = (np.take_along_axis(tp_at_or_above, rev, axis=1)
                 / np.take_along_axis(at_or_above, rev, axis=1))
    return precision.mean(axis=1)


def rank_permutation(positive: np.ndarray, score_a: np.ndarray, score_b: np.ndarray,
                     n_permutations: int, rng: np.random.Generator, *,
                     metric: str = "roc_auc") -> PermutationResult:
    """Paired rank-swap permutation test of equal ROC-AUC or PR-AUC.

    Each model's scores are replaced by their ranks (midranks for ties: both
    metrics depend on the ordering only, and the two models' scales become
    comparable); each permutation swaps the two models' ranks on a random
    half of the rows, independently per row, and recomputes ``metric_b -
    metric_a`` (Bandos, Rockette & Gur 2005 for ROC-AUC; the same swap for
    average precision, scikit-learn's step-wise PR-AUC, where a rank of one
    model meeting the same rank of the other is ordered at random, see
    :func:`_swap_keys`). The two-sided p-value is
    ``(1 + #{|d*| >= |d|}) / (1 + B)`` with ``B = n_permutations``, or
    fewer on large tables (see :data:`PERMUTATION_CELLS`). Valid for any
    number of positives when the two models' ranks are exchangeable within
    each row, which is what "equally good" means for two models of one
    kind; it needs no large-sample theory. (Swapping ranks rather than
    scores makes it approximate: the calibration simulations measure it.)
    """
    pos = np.asarray(positive, dtype=bool)
    n = pos.size
    n_permutations = max(1, min(n_permutations, max(200, PERMUTATION_CELLS // max(n, 1))))
    ranks = np.vstack([stats.rankdata(np.asarray(score_a, dtype=float)),
                       stats.rankdata(np.asarray(score_b, dtype=float))])
    observed = _RANK_METRICS[metric](ranks, pos)
    d_obs = float(observed[1] - observed[0])
    tol = 1e-12 * max(1.0, abs(d_obs))
    cells = n
    if metric == "pr_auc":
        # Both models' ranks as dense integers (n of them for untied scores).
        values, slots = np.unique(ranks, return_inverse=True)
        slots = slots.reshape(ranks.shape)
        n_slots = int(values.size)
        n_keys = 2 * n_slots
        cells = n_keys + n
    per_chunk = max(1, min(n_permutations, CHUNK_CELLS // max(cells, 1)))
    extreme = 0
    done = 0
    while done < n_permutations:
        b = min(per_chunk, n_permutations - done)
        swap = rng.random((b, n)) < 0.5
        if metric == "roc_auc":
            a_star = np.where(swap, ranks[1], ranks[0])
            b_star = np.where(swap, ranks[0], ranks[1])
            d_star = _rank_auc(b_star, pos) - _rank_auc(a_star, pos)
        else:
            coin = rng.random((b, n_slots)) < 0.5
            keys_a = _swap_keys(np.where(swap, slots[1], slots[0]), swap, coin)
            keys_b = _swap_keys(np.where(swap, slots[0], slots[1]), swap, coin)
            d_star = (_keyed_average_precision(keys_b, pos, n_keys)
                      - _keyed_average_precision(keys_a, pos, n_keys))
        extreme += int(np.count_nonzero(np.abs(d_star) >= abs(d_obs) - tol))
        done += b
    return PermutationResult(d_obs, float((1 + extreme) / (1 + n_permutations)),
                             int(n_permutations))


def auc_permutation(positive: np.ndarray, score_a: np.ndarray, score_b: np.ndarray,
                    n_permutations: int, rng: np.random.Generator) -> PermutationResult:
    """Paired permutation test of equal ROC-AUC: :func:`rank_permutation` of ``roc_auc``."""
    return rank_permutation(positive, score_a, score_b, n_permutations, rng, metric="roc_auc")


def swap_permutation(plan_a: Plan, plan_b: Plan, sign: float, n_permutations: int,
                     rng: np.random.Generator) -> PermutationResult:
    """Paired permutation test of ``sign * (metric_b - metric_a)`` for two column plans.

    Each permutation swaps the two models' predictions on a random half of the
    rows, independently per row: with ``D = columns_b - columns_a`` the
    swapped sums are ``S_a + M D`` and ``S_b - M D`` for a 0/1 matrix ``M`` of
    swaps, so one matrix product per chunk gives every permutation. For a mean
    of per-row losses this is the sign-flip test of the paired differences.
    Two-sided p-value ``(1 + #{|d*| >= |d|}) / (1 + B)``, a permutation whose
    metric is undefined counting as extreme; exact when the two models'
    predictions are exchangeable within each row. ``B`` is capped as in
    :func:`auc_permutation`. Both plans must hold the same per-row columns.
    """
    assert plan_a.columns is not None
    assert plan_a.combine is not None
    assert plan_b.columns is not None
    assert plan_b.combine is not None
    cols_a = np.asarray(plan_a.columns, dtype=np.float64)
    cols_b = np.asarray(plan_b.columns, dtype=np.float64)
    n = cols_a.shape[0]
    n_permutations = max(1, min(n_permutations, max(200, PERMUTATION_CELLS // max(n, 1))))
    delta = cols_b - cols_a
    s_a, s_b = cols_a.sum(axis=0), cols_b.sum(axis=0)
    d_obs = float(sign * (plan_b.combine(s_b[None, :])[0] - plan_a.combine(s_a[None, :])[0]))
    tol = 1e-12 * max(1.0, abs(d_obs))
    per_chunk = max(1, min(n_permutations, CHUNK_CELLS // max(n, 1)))
    extreme = 0
    done = 0
    while done < n_permutations:
        b = min(per_chunk, n_permutations - done)
        swap = (rng.random((b, n)) < 0.5).astype(np.float64)
        moved = swap @ delta
        d_star = sign * (np.asarray(plan_b.combine(s_b - moved), dtype=float)
                         - np.asarray(plan_a.combine(s_a + moved), dtype=float))
        extreme += int(np.count_nonzero(~(np.abs(d_star) < abs(d_obs) - tol)))
        done += b
    return PermutationResult(d_obs, float((1 + extreme) / (1 + n_permutations)),
                             int(n_permutations))
