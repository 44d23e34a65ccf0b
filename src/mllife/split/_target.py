"""Target leakage: single columns (or their missingness) that predict the target.

Each column gets a one-feature model: its values binned (32 quantile bins for
numbers and times, categories as they are, missing as a bin of its own) and
each bin predicted by the smoothed mean target of that bin in the other folds
(out-of-fold target encoding, 5 folds). The cross-validated ROC-AUC
(classification, one-vs-rest macro for several classes) or R² (regression) of
that model says how much the column alone knows about the target. It runs on at
most 20,000 training rows, with numpy bincounts only, so it costs milliseconds
per column at any data size.

A strong predictor is not leakage: a column is a ``target_proxy`` only when it
gives the target almost exactly. :func:`derived_rule` decides that for a
classification target (also for :func:`mllife.audit`'s ``target_leakage``
check): the target is a recoding of the column's few values, or one cut of its
ordered values (the target thresholded, ``had_affair = affairs > 0``).
Otherwise the one-feature score must be near perfect (:data:`NEAR_PERFECT`: a
noisy copy of the target).

A leak is a statistical claim: on a small or very imbalanced table a perfect
cut or a perfect recoding happens by chance (with one positive among 30 rows,
one column in 15 has a cut that separates it). So every rule that can raise a
leak finding also has a p-value under the null "the target is independent of
the column" (the labels exchangeable, the column fixed), from closed-form
bounds that are never below the exact permutation p-value
(:func:`cut_rule_p_value`, :func:`values_rule_p_value`,
:func:`auc_p_value`, :func:`missing_p_value`), and fires only when that
p-value is below :data:`ALPHA` over the number of tests of the call
(Bonferroni): the family-wise rate of a false leak finding is at most 5%.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._frame import is_bool, is_datetime, is_numeric
from .._random import as_random_state
from ..report import Finding

MAX_ROWS = 20_000
N_BINS = 32
N_FOLDS = 5
SMOOTHING = 10.0
MAX_CLASSES = 30

#: A one-feature model's cross-validated score from which a column is a target proxy
#: whatever its shape: it predicts the target almost perfectly. Real strong predictors
#: stay below (breast cancer's best cell measurement: ROC-AUC 0.95-0.97).
NEAR_PERFECT = {"roc_auc": 0.98, "r2": 0.95}
#: (warning, error) thresholds on a missingness indicator's score.
MISSING_THRESHOLDS = {"roc_auc": (0.80, 0.95), "r2": (0.50, 0.80)}
#: A column of at most this many values (missing not counted) is judged as categories.
MAX_MAPPED_VALUES = 10
#: (accuracy, share of the majority-class rule's errors removed) from which the target is a
#: recoding of a column's few values...
DERIVED_VALUES = (0.95, 0.8)
#: ...or one cut of its ordered values. A cut is held to more: it is picked among many
#: thresholds, and a strong measurement (a tumour's size) splits two classes at one
#: threshold in 92-95% of the rows.
DERIVED_CUT = (0.99, 0.9)
#: Fewer labelled rows than this say nothing about a column being derived.
MIN_DERIVED_ROWS = 30
#: Family-wise level of the leak findings of one call (``check_leakage``'s
#: ``target_proxy`` and ``missingness_predicts_target`` together, the audit's
#: ``target_leakage``): each test is held to ``ALPHA`` over the number of tests.
ALPHA = 0.05
#: No ROC-AUC claim (near-perfect one-feature score) when a class has fewer rows: with
#: 5 folds, a class of 4 rows has at most one per fold and its score is a few ranks.
MIN_CLASS_ROWS = 5
#: Above this many binomial terms a p-value bound switches from the exact sum to
#: Hoeffding's inequality (only tables of 100,000s of rows get there, at p far below
#: any level).
_EXACT_TERMS = 4_000_000
#: The exact Mann-Whitney tail is counted (partitions) for a class of at most this many
#: rows and deficits up to ``_MAX_DEFICIT``; beyond, Hoeffding's inequality alone.
_EXACT_MAX_CLASS = 60
_MAX_DEFICIT = 200_000


def _as_float(s: pd.Series) -> np.ndarray | None:
    """Numbers, booleans and times as float64 (NaN for missing); None for other columns."""
    if is_datetime(s):
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        values = s.to_numpy(dtype="datetime64[ns]").view(np.int64).astype(np.float64)
        values[s.isna().to_numpy()] = np.nan
        return values
    if is_bool(s) or is_numeric(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    return None


def _float_bins(values: np.ndarray) -> np.ndarray:
    """Quantile bins (each value its own bin when few), missing and infinite the last code."""
    finite = np.isfinite(values)
    codes = np.zeros(len(values), dtype=np.int64)
    if finite.any():
        distinct = np.unique(values[finite])
        if len(distinct) <= N_BINS:  # few values: each is its own bin
            edges = np.concatenate([[-np.inf], (distinct[:-1] + distinct[1:]) / 2, [np.inf]])
        else:
            edges = np.unique(np.quantile(values[finite], np.linspace(0, 1, N_BINS + 1)))
        codes[finite] = np.searchsorted(edges[1:-1], values[finite], side="right")
    codes[~finite] = int(codes.max()) + 1
    return codes


def feature_codes(s: pd.Series) -> np.ndarray:
    """Bin codes ``0..k``: quantile bins or categories, missing as the last code."""
    values = _as_float(s)
    if values is not None:
        return _float_bins(values)
    codes, uniques = _factorize(s)
    return np.where(codes < 0, len(uniques), codes)


# --- p-values under the null "the target is independent of the column" ------------------
# Probabilities over random relabellings of the rows (labels exchangeable, the column
# fixed), in logs so that a strong leak shows p = 1e-40 rather than a floor.


def _log_comb(n: Any, k: Any) -> np.ndarray:
    """log C(n, k), -inf where k < 0 or k > n (arrays broadcast)."""
    from scipy.special import gammaln

    n = np.asarray(n, dtype=np.float64)
    k = np.asarray(k, dtype=np.float64)
    ok = (k >= 0) & (k <= n)
    kk = np.where(ok, k, 0.0)
    out = gammaln(n + 1) - gammaln(kk + 1) - gammaln(n - kk + 1)
    return np.where(ok, out, -np.inf)


def _logsumexp(values: np.ndarray) -> float:
    """log(sum(exp(values))); -inf for an empty sum or one of zeros."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0 or not np.isfinite(values).any():
        return float("-inf")
    top = float(values.max())
    return top + float(np.log(np.exp(values - top).sum()))


def _as_p(log_p: float) -> float:
    return float(np.exp(min(log_p, 0.0)))


def _log_hypergeom_cdf(population: int, successes: int, draws: np.ndarray,
                       at_most: np.ndarray) -> np.ndarray:
    """log P(X <= at_most) for X the successes in ``draws`` rows drawn without replacement.

    An exact sum of binomial terms while they number at most :data:`_EXACT_TERMS`;
    beyond (100,000s of rows), Hoeffding's inequality for sampling without replacement,
    ``P(X <= E[X] - t) <= exp(-2 t^2 / min(draws, successes, and their complements))``.
    """
    draws = np.asarray(draws, dtype=np.int64)
    at_most = np.asarray(at_most, dtype=np.int64)
    low = np.maximum(0, draws - (population - successes))
    high = np.minimum(np.minimum(at_most, draws), successes)
    width = np.maximum(high - low + 1, 0)
    out = np.full(draws.shape, -np.inf)
    total = int(width.sum())
    if total == 0:
        return out
    if total <= _EXACT_TERMS:
        rows = np.repeat(np.arange(draws.size), width)
        i = low[rows] + np.arange(total) - np.repeat(np.cumsum(width) - width, width)
        terms = (_log_comb(successes, i) + _log_comb(population - successes, draws[rows] - i)
                 - _log_comb(population, draws[rows]))
        top = np.full(draws.size, -np.inf)
        np.maximum.at(top, rows, terms)
        sums = np.bincount(rows, weights=np.exp(terms - top[rows]), minlength=draws.size)
        some = width > 0
        out[some] = np.minimum(top[some] + np.log(sums[some]), 0.0)
        return out
    spread = np.minimum(np.minimum(draws, population - draws),
                        min(successes, population - successes)).clip(1)
    gap = np.maximum(draws * successes / population - at_most, 0.0)
    return np.where(width > 0, -2.0 * gap**2 / spread, -np.inf)


def cut_rule_p_value(n: int, n_ones: int, errors: int, *, missing: bool = False) -> float:
    """P(some single cut of a column gives a two-class target with at most ``errors`` errors).

    Under random labelling (``n_ones`` of ``n`` rows labelled 1, uniformly), a
    union bound over the cuts of a tie-free column and both orientations: the
    cut with ``t`` rows below, predicting 1 above, has ``a`` zeros above and
    ``b = n_ones - (n - t - a)`` ones below, ``C(n-t, a) C(t, b) / C(n, n_ones)``
    labellings; summed over ``a + b <= errors``. Exact for ``errors = 0``
    (``2 / C(n, n_ones)``), conservative otherwise (a labelling near two cuts is
    counted twice). Ties in the column only remove cuts. Missing values as a
    group of their own, labelled with its majority class (``missing=True``),
    make the rule a cut of the column with the missing rows put first or last:
    twice the bound.

    Examples
    --------
    >>> from math import comb, isclose
    >>> from mllife.split._target import cut_rule_p_value
    >>> isclose(cut_rule_p_value(30, 1, 0), 2 / comb(30, 1))  # one positive among 30 rows
    True
    >>> f"{cut_rule_p_value(60, 6, 0):.1e}"
    '4.0e-08'
    """
    m, e = int(n_ones), int(errors)
    parts = []
    # predicting 1 above the cut: zeros above (drawn n - t from n - m zeros) at most
    # (e - m + n - t) / 2; possible for t in [n - m - e, n - m + e]
    t = np.arange(max(0, n - m - e), min(n, n - m + e) + 1)
    parts.append(_log_hypergeom_cdf(n, n - m, n - t, np.floor_divide(e - m + n - t, 2)))
    # predicting 0 above: ones above at most (e + m - t) / 2; t in [m - e, m + e]
    t = np.arange(max(0, m - e), min(n, m + e) + 1)
    parts.append(_log_hypergeom_cdf(n, m, n - t, np.floor_divide(e + m - t, 2)))
    log_p = _logsumexp(np.concatenate(parts)) + (np.log(2.0) if missing else 0.0)
    return _as_p(log_p)


def values_rule_p_value(group_sizes: Any, class_counts: Any, errors: int) -> float:
    """P(mapping each of a column's values to one class gets all but ``errors`` rows right).

    ``group_sizes`` are the rows of each value (missing as one more). For two
    classes, a union over the ``2 ** groups`` sets ``S`` of
    values predicted as class 1: with ``s`` rows in ``S``, ``a`` zeros in ``S``
    and ``b = m - s + a`` ones outside, ``C(s, a) C(n - s, b) / C(n, m)``
    labellings, summed over ``a + b <= errors`` (exact for ``errors = 0``);
    the sets are counted by their number of rows (a subset-sum recursion over
    the values), so many values cost no more than a few. For more classes a mapping with ``errors`` errors gives, for any class
    ``c``, a ``c``-versus-rest mapping with at most as many: the bound of the
    class that gives the smallest one (the margins are fixed under the null).

    Examples
    --------
    >>> from math import comb, isclose
    >>> from mllife.split._target import values_rule_p_value
    >>> p = values_rule_p_value([20, 10], [20, 10], 0)  # the two-valued column is the target
    >>> isclose(p, 1 / comb(30, 10))
    True
    """
    sizes = np.asarray([g for g in np.asarray(group_sizes).ravel() if g > 0], dtype=np.int64)
    counts = np.asarray(class_counts, dtype=np.int64).ravel()
    counts = counts[counts > 0]
    n, e = int(sizes.sum()), int(errors)
    if len(counts) < 2:
        return 1.0
    ways = np.zeros(n + 1)  # how many sets of values hold s rows (subset sums, by value)
    ways[0] = 1.0
    for size in sizes:  # values, not rows
        ways[size:] = ways[size:] + ways[:-size].copy()
    if not np.all(np.isfinite(ways)):
        return 1.0
    s = np.flatnonzero(ways)
    multiplicity = ways[s]
    best = 0.0
    for m in counts if len(counts) > 2 else counts[1:]:  # classes, not rows
        # zeros in S (drawn s from n - m) at most (e - m + s) / 2
        log_p = _log_hypergeom_cdf(n, n - int(m), s, np.floor_divide(e - int(m) + s, 2))
        best = min(best, _logsumexp(log_p + np.log(multiplicity)))
    return _as_p(best)


def _partition_counts(parts: int, up_to: int) -> np.ndarray:
    """Partitions of 0..up_to into at most ``parts`` parts (float64), by parts of size <= parts."""
    counts = np.zeros(up_to + 1)
    counts[0] = 1.0
    for size in range(1, min(parts, up_to) + 1):  # one pass per part size, not per row
        padded = np.zeros(-(-(up_to + 1) // size) * size)
        padded[: up_to + 1] = counts
        counts = padded.reshape(-1, size).cumsum(axis=0).ravel()[: up_to + 1]
    return counts


def auc_p_value(auc: float, n_pos: int, n_neg: int, *, ties: bool = True) -> float:
    """P(ROC-AUC >= ``auc``) of fixed scores when the labels are shuffled (one-sided).

    The smaller of two valid bounds. Exact counting (small classes): the
    Mann-Whitney statistic ``U = auc * n_pos * n_neg`` falls short of its
    maximum by ``d`` for as many labellings as partitions of ``d`` into at most
    ``min(n_pos, n_neg)`` parts (each at most the other class's size; dropping
    that cap only adds); with tied scores (``ties=True``, scores of a binned
    model always tie) the midrank ``U`` is the mean of ``U`` over random
    tie-breaks, so ``P(U_mid >= u) <= min over u' < u of P(U >= u') (N - u') /
    (u - u')``. Hoeffding (any size): the rank sum of the smaller class is a
    sample without replacement of midranks in ``[1, n]``, so the tail is at
    most ``exp(-2 (auc - 0.5)^2 * min * max^2 / (n - 1)^2)``.

    Examples
    --------
    >>> from math import comb, isclose
    >>> from mllife.split._target import auc_p_value
    >>> isclose(auc_p_value(1.0, 3, 27, ties=False), 1 / comb(30, 3))
    True
    >>> auc_p_value(1.0, 1, 29) > 0.03  # one positive on top: 1 chance in 30
    True
    """
    small, large = sorted((int(n_pos), int(n_neg)))
    if small == 0 or not np.isfinite(auc) or auc <= 0.5:
        return 1.0
    n, total = small + large, small * large
    log_p = -2.0 * (auc - 0.5) ** 2 * small * large**2 / (n - 1) ** 2
    deficit = max((1.0 - auc) * total, 0.0)  # pairs the minority loses (halves for ties)
    deficit = round(deficit * 2) / 2
    up_to = int(np.ceil(2 * deficit)) + 2
    if small <= _EXACT_MAX_CLASS and up_to <= _MAX_DEFICIT:
        with np.errstate(over="ignore"):
            tail = np.cumsum(_partition_counts(small, up_to))
        if np.isfinite(tail[-1]):
            log_tail = np.log(tail) - float(_log_comb(n, small))
            if deficit == 0 or not ties:
                exact = log_tail[int(np.floor(deficit))]
            else:  # reverse Markov over random tie-breaks: U' = N - d for d > deficit
                d = np.arange(int(np.floor(deficit)) + 1, up_to + 1)
                exact = float(np.min(log_tail[d] + np.log(d / (d - deficit))))
            log_p = min(log_p, float(exact))
    return _as_p(log_p)


def macro_auc_p_value(aucs: Any, n_pos: Any, n: int, *, ties: bool = True) -> float:
    """P(mean one-vs-rest ROC-AUC >= its observed value) when the labels are shuffled.

    The mean reaching ``a`` needs some class's AUC to reach ``a`` (a union over
    the classes) and every class's to reach ``1 - k (1 - a)``: the smaller of
    the two bounds. One class (binary): :func:`auc_p_value`.
    """
    values = np.asarray(aucs, dtype=np.float64)
    k = len(values)
    if k == 0 or not np.all(np.isfinite(values)):
        return 1.0
    macro = float(values.mean())
    each = [auc_p_value(macro, int(p), n - int(p), ties=ties) for p in n_pos]
    union = float(np.sum(each))
    floor = 1.0 - k * (1.0 - macro)
    every = min(auc_p_value(floor, int(p), n - int(p), ties=ties) for p in n_pos)
    return min(1.0, union, every)


def missing_p_value(missing: np.ndarray, y: np.ndarray, task: str) -> float:
    """P-value of "whether the column is missing is unrelated to the target" (two-sided).

    Classification: Fisher's exact test of the missing-by-class table (its
    two-sided p-value: the labellings no more likely than the one seen); for
    several classes, each class against the rest, times the number of classes.
    Regression: the rank test of the target between missing and present rows
    (:func:`auc_p_value` of the more extreme side, doubled).

    Examples
    --------
    >>> import numpy as np
    >>> from mllife.split._target import missing_p_value
    >>> missing = np.r_[np.ones(10, bool), np.zeros(30, bool)]
    >>> y = np.r_[np.ones(10, int), np.zeros(30, int)]
    >>> f"{missing_p_value(missing, y, 'binary'):.2e}"  # 1 / C(40, 10)
    '1.18e-09'
    """
    missing = np.asarray(missing, dtype=bool)
    n, n_missing = len(missing), int(missing.sum())
    if n_missing in (0, n):
        return 1.0
    if task == "regression":
        values = np.asarray(y, dtype=np.float64)
        auc = _roc_auc(missing.astype(np.float64), values)
        ties = len(np.unique(values)) < n
        return min(1.0, 2.0 * auc_p_value(max(auc, 1.0 - auc), n_missing, n - n_missing,
                                           ties=ties))
    codes = np.asarray(y, dtype=np.int64)
    counts = np.bincount(codes)
    in_missing = np.bincount(codes[missing], minlength=len(counts))
    classes = np.flatnonzero(counts > 0)
    if len(classes) < 2:
        return 1.0
    tested = classes if len(classes) > 2 else classes[1:]
    best = 0.0
    for c in tested:  # classes, not rows
        x = np.arange(max(0, n_missing - (n - counts[c])), min(n_missing, counts[c]) + 1)
        log_pmf = (_log_comb(counts[c], x) + _log_comb(n - counts[c], n_missing - x)
                   - _log_comb(n, n_missing))
        seen = log_pmf[int(in_missing[c] - x[0])]
        best = min(best, _logsumexp(log_pmf[log_pmf <= seen + 1e-7]))
    return min(1.0, _as_p(best) * (len(tested) if len(tested) > 1 else 1))


def _p_text(p: float) -> str:
    return "p < 1e-300" if p <= 0 else (f"p = {p:.2g}" if p < 0.001 else f"p = {p:.3f}")


def significance_text(p: float, n_tests: int, n_columns: int, alpha: float = ALPHA) -> str:
    """How a leak finding's p-value was judged, for its message.

    Examples
    --------
    >>> from mllife.split._target import significance_text
    >>> significance_text(2.1e-9, 30, 30)
    'p = 2.1e-09 for a column unrelated to the target, below 0.05 / 30 (Bonferroni over 30 columns)'
    """
    over = (f"{n_columns} columns" if n_tests == n_columns
            else f"{n_tests} tests on {n_columns} columns")
    return (f"{_p_text(p)} for a column unrelated to the target, below {alpha:g} / {n_tests} "
            f"(Bonferroni over {over})")


@dataclass(frozen=True)
class DerivedRule:
    """How a column gives a classification target almost exactly (see :func:`derived_rule`)."""

    kind: str  # "values" (a recoding of its values) or "cut" (one threshold)
    accuracy: float
    baseline: float  # the majority class's share
    description: str
    p_value: float = 1.0  # under shuffled labels (a bound, never below the exact one)
    errors: int = 0  # rows the rule gets wrong


def _factorize(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    try:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
    except TypeError:
        codes, uniques = pd.factorize(s.map(repr, na_action="ignore"), use_na_sentinel=True)
    return codes.astype(np.int64), pd.Series(uniques)


def _best_cut(x: np.ndarray, y: np.ndarray) -> tuple[float, float, bool]:
    """Rows a single cut of the ordered values ``x`` gets right (missing and infinite values
    one group, labelled with its majority class), the threshold (NaN: no cut, the present
    values are one class) and whether there was such a group."""
    finite = np.isfinite(x)
    correct_missing = int(np.bincount(y[~finite], minlength=2).max())
    order = np.argsort(x[finite])
    xs, ys = x[finite][order], y[finite][order]
    last = np.r_[xs[1:] != xs[:-1], True]  # the last row of each distinct value
    pos_left = np.r_[0, np.cumsum(ys)[last]]
    all_left = np.r_[0, np.flatnonzero(last) + 1]
    neg_left = all_left - pos_left
    n_pos, n_neg = int(pos_left[-1]), int(neg_left[-1])
    # left of the cut class 0 and right class 1, or the other way round
    best = np.maximum(neg_left + (n_pos - pos_left), pos_left + (n_neg - neg_left))
    j = int(np.argmax(best))
    threshold = float(xs[last][j - 1]) if 0 < j < len(best) - 1 else float("nan")
    return float(best[j] + correct_missing), threshold, bool((~finite).any())


def derived_rule(
    x: pd.Series,
    y: np.ndarray,
    *,
    factorized: tuple[np.ndarray, pd.Series] | None = None,
    max_values: int = MAX_MAPPED_VALUES,
    values: tuple[float, float] = DERIVED_VALUES,
    cut: tuple[float, float] = DERIVED_CUT,
    max_p: float = 1.0,
) -> DerivedRule | None:
    """The simple rule by which column ``x`` gives class codes ``y``, if it nearly always does.

    Two rules, each with (accuracy, gain) thresholds, gain being the share of
    the majority-class rule's errors it removes: ``x``'s values (at most
    ``max_values``, missing as one more) each mapped to their majority class
    (``values``); or, for a two-class target and numbers, booleans or times
    with more values, the best single cut of the ordered values, missing as a
    group of its own (``cut``). Bincounts and one sort; above 20,000 rows a
    cut is first tried on a sample of that many, and the column is passed over
    when it falls short there by more than a point.

    The thresholds say "almost exactly"; the rule's p-value says it is not
    chance: the probability, were the labels shuffled, that some rule of its
    kind does as well (:func:`values_rule_p_value`, :func:`cut_rule_p_value`).
    With one positive among 30 rows a perfect cut has p = 1/15; a rule is
    returned only when its p-value is below ``max_p``.

    Parameters
    ----------
    x : pandas.Series
        The column, on labelled rows only (not read when ``factorized`` is given).
    y : ndarray of int
        Class codes ``0..k-1`` of the same rows.
    factorized : (codes, uniques), optional
        ``x`` already factorised (codes -1 for missing), as the audit caches it.
    max_values : int, default=10
        Most values a column judged as categories has.
    values, cut : (float, float)
        (accuracy, gain) thresholds of each rule.
    max_p : float, default=1.0
        Largest p-value kept: the caller's level over its number of tests
        (Bonferroni); 1 keeps every rule that reaches the thresholds.

    Returns
    -------
    DerivedRule or None

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mllife.split._target import derived_rule
    >>> amount = pd.Series(np.arange(60.0))
    >>> rule = derived_rule(amount, (amount >= 54).to_numpy(int), max_p=0.05 / 30)
    >>> rule.kind, rule.accuracy, f"{rule.p_value:.1e}"
    ('cut', 1.0, '4.0e-08')
    >>> one = (amount >= 59).to_numpy(int)  # one positive: a perfect cut by chance 1 in 30
    >>> round(derived_rule(amount, one).p_value, 6)
    0.033333
    >>> derived_rule(amount, one, max_p=0.05 / 30) is None
    True
    """
    n = len(y)
    if n < MIN_DERIVED_ROWS:
        return None
    class_counts = np.bincount(y)
    k = len(class_counts)
    base = float(class_counts.max() / n)
    if k < 2 or base >= 1.0:
        return None

    def gain(accuracy: float) -> float:
        return (accuracy - base) / (1.0 - base)

    if factorized is not None:
        codes, uniques = factorized
        dates = is_datetime(uniques)
        m = len(uniques)
        numbers = _as_float(uniques) if m > max_values and k == 2 else None
        x_float = None if numbers is None else np.where(codes >= 0, numbers[codes.clip(0)],
                                                        np.nan)
    else:  # numbers without pandas' factorize: most columns have many values
        dates = is_datetime(x)
        x_float = _as_float(x)
        if x_float is None:
            codes, uniques = _factorize(x)
            m = len(uniques)
        else:
            present = ~np.isnan(x_float)
            distinct, inverse = np.unique(x_float[present], return_inverse=True)
            m = len(distinct)
            codes = np.full(n, -1, dtype=np.int64)
            codes[present] = inverse.ravel()
    if m < 2:
        return None
    if m <= max_values:  # rows per (value, class); row 0 holds the missing values
        table = np.bincount((codes + 1) * k + y, minlength=(m + 1) * k).reshape(-1, k)
        correct = int(table.max(axis=1).sum())
        accuracy = correct / n
        if accuracy < values[0] or gain(accuracy) < values[1]:
            return None
        p_value = values_rule_p_value(table.sum(axis=1), class_counts, n - correct)
        if p_value >= max_p:
            return None
        return DerivedRule("values", accuracy, base, f"each of its {m} values gives one class",
                           p_value, n - correct)
    if k != 2 or x_float is None:
        return None
    if n > MAX_ROWS:  # most columns are far from a cut: a quick look at a sample first
        pick = np.random.default_rng(0).choice(n, MAX_ROWS, replace=False)
        right, _, _ = _best_cut(x_float[pick], y[pick])
        if right / MAX_ROWS < cut[0] - 0.01:
            return None
    right, threshold, has_missing = _best_cut(x_float, y)
    accuracy = right / n
    if accuracy < cut[0] or gain(accuracy) < cut[1]:
        return None
    errors = n - int(right)
    p_value = cut_rule_p_value(n, int(class_counts[1]), errors, missing=has_missing)
    if p_value >= max_p:
        return None
    if np.isnan(threshold):  # no cut: the present values are one class
        return DerivedRule("cut", accuracy, base,
                           "its missing values give one class, the present ones the other",
                           p_value, errors)
    shown = str(pd.Timestamp(int(threshold))) if dates else f"{threshold:.6g}"
    return DerivedRule("cut", accuracy, base,
                       f"values above {shown} give one class, the others the other",
                       p_value, errors)


def target_task(y: pd.Series) -> str:
    """``binary``, ``multiclass``, ``regression``, ``one_class`` or ``too_many_classes``."""
    n_unique = y.nunique(dropna=True)
    if n_unique <= 1:
        return "one_class"
    if is_numeric(y) and n_unique > 20:
        return "regression"
    if n_unique == 2:
        return "binary"
    return "multiclass" if n_unique <= MAX_CLASSES else "too_many_classes"


def _target_matrix(y: pd.Series, task: str) -> np.ndarray:
    if task == "regression":
        return y.to_numpy(dtype=np.float64).reshape(-1, 1)
    codes, _ = pd.factorize(y)
    onehot = np.zeros((len(codes), int(codes.max()) + 1))
    onehot[np.arange(len(codes)), codes] = 1.0
    return onehot[:, 1:] if task == "binary" else onehot


def _oof_predictions(codes: np.ndarray, Y: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Each row's bin encoded by the smoothed mean target of that bin in the other folds."""
    n_codes = int(codes.max()) + 1
    key = folds * n_codes + codes  # (fold, bin) cells
    per_fold = np.bincount(key, minlength=N_FOLDS * n_codes).reshape(N_FOLDS, n_codes)
    counts = per_fold.sum(axis=0) - per_fold  # rows of each bin outside each fold
    rows_out = len(codes) - per_fold.sum(axis=1)
    out = np.empty_like(Y)
    for j in range(Y.shape[1]):  # classes, not rows
        sums = np.bincount(key, weights=Y[:, j], minlength=N_FOLDS * n_codes)
        sums = sums.reshape(N_FOLDS, n_codes)
        sums = sums.sum(axis=0) - sums
        prior = sums.sum(axis=1) / np.maximum(rows_out, 1)
        encoded = (sums + SMOOTHING * prior[:, None]) / (counts + SMOOTHING)
        out[:, j] = encoded[folds, codes]
    return out


def _roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC of 0/1 labels ``y`` (Mann-Whitney U with tied scores averaged)."""
    _, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2.0)[inverse.ravel()]  # midranks from 1
    positive = y > 0.5
    n_pos = int(positive.sum())
    n_neg = len(y) - n_pos
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _class_aucs(P: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest ROC-AUC of each class present and absent (rows of that class)."""
    n_pos = Y.sum(axis=0)
    present = np.flatnonzero((n_pos > 0) & (n_pos < len(Y)))
    aucs = np.array([_roc_auc(Y[:, j], P[:, j]) for j in present])  # classes, not rows
    return aucs, n_pos[present].astype(np.int64)


def _score(P: np.ndarray, Y: np.ndarray, task: str) -> float:
    if task == "regression":
        y = Y[:, 0]
        total = float(((y - y.mean()) ** 2).sum())
        return 1.0 - float(((y - P[:, 0]) ** 2).sum()) / total if total > 0 else float("nan")
    aucs, _ = _class_aucs(P, Y)
    return float(np.mean(aucs)) if len(aucs) else float("nan")


def _severity(score: float, thresholds: tuple[float, float]) -> str | None:
    if not np.isfinite(score) or score < thresholds[0]:
        return None
    return "error" if score >= thresholds[1] else "warning"


def target_scores(
    train: pd.DataFrame, target: Hashable, columns: Sequence[Hashable], *,
    random_state: Any = None,
) -> tuple[pd.DataFrame, list[Finding], str]:
    """One-feature scores of ``columns`` (and their missingness) for ``target``.

    Returns the score table, the findings and the task detected. A finding
    needs its effect (the rule's accuracy, the score's threshold) and a
    p-value below :data:`ALPHA` over the number of tests made: per column, the
    derived rule (from :data:`MIN_DERIVED_ROWS` labelled rows) and the
    near-perfect ROC-AUC (every class with :data:`MIN_CLASS_ROWS` rows), and
    one missingness test per column with some missing values. The ROC-AUC's
    p-value (:func:`macro_auc_p_value`) treats the out-of-fold scores as fixed
    while the labels are shuffled: an approximation (each row's score comes
    from the other folds' labels), checked in simulation (out-of-fold target
    encoding scores chance columns below 0.5 on average, so it errs on the
    safe side). A near-perfect R² has no p-value: the smoothed one-feature
    model cannot reach 0.95 by chance (its bins need dozens of rows to move
    away from the mean; null tables of 30 to 60 rows with heavy-tailed targets
    stay below 0.25).
    """
    y_all = train[target]
    known = y_all.notna().to_numpy()
    task = target_task(y_all)
    findings: list[Finding] = []
    metric = "r2" if task == "regression" else "roc_auc"
    if task in ("one_class", "too_many_classes"):
        reason = ("the target has one class" if task == "one_class"
                  else f"the target has more than {MAX_CLASSES} classes")
        findings.append(Finding("target_checks_skipped", "info", column=target,
                                message=f"{reason}: single-feature checks were skipped"))
        return pd.DataFrame(columns=["column", "metric", "score", "missing_score"]), findings, task
    rng = as_random_state(random_state)  # row sample and fold assignment
    rows = np.flatnonzero(known)
    if len(rows) > MAX_ROWS:
        rows = np.sort(rng.choice(rows, MAX_ROWS, replace=False))
    sample = train.iloc[rows]
    n = len(rows)
    Y = _target_matrix(sample[target], task)
    classes = pd.factorize(sample[target])[0] if task != "regression" else None
    folds = rng.permutation(n) % N_FOLDS
    # The tests this call makes (known before any label is looked at): the family of
    # the Bonferroni correction.
    missing_all = (sample[list(columns)].isna().to_numpy() if len(columns)
                   else np.zeros((n, 0), dtype=bool))
    missing_counts = missing_all.sum(axis=0)
    n_missing_tests = int(np.sum((missing_counts > 0) & (missing_counts < n)))
    rule_tests = classes is not None and n >= MIN_DERIVED_ROWS
    auc_tests = classes is not None and int(np.bincount(classes).min()) >= MIN_CLASS_ROWS
    n_tests = len(columns) * (int(rule_tests) + int(auc_tests)) + n_missing_tests
    level = ALPHA / max(n_tests, 1)
    records: list[dict[str, Any]] = []
    for i, column in enumerate(columns):
        s = sample[column]
        as_numbers = _as_float(s)
        factorized: tuple[np.ndarray, pd.Series] | None = None
        if as_numbers is None:  # categories: one factorisation serves the bins and the rule
            factorized = _factorize(s)
            bins = np.where(factorized[0] < 0, len(factorized[1]), factorized[0])
        else:
            bins = _float_bins(as_numbers)
        P = _oof_predictions(bins, Y, folds)
        score = _score(P, Y, task)
        missing = missing_all[:, i]
        missing_score = float("nan")
        if 0 < missing.sum() < len(missing):
            missing_score = _score(_oof_predictions(missing.astype(np.int64), Y, folds), Y, task)
        records.append({"column": column, "metric": metric, "score": score,
                        "missing_score": missing_score})
        rule = (derived_rule(s, classes, factorized=factorized, max_p=level)
                if rule_tests and classes is not None else None)
        near_perfect = bool(np.isfinite(score) and score >= NEAR_PERFECT[metric])
        p_value = float("nan")
        if rule is not None:
            p_value = rule.p_value
        elif near_perfect and auc_tests:
            aucs, n_pos = _class_aucs(P, Y)
            ties = len(np.unique(P)) < P.size
            p_value = macro_auc_p_value(aucs, n_pos, n, ties=ties)
            near_perfect = p_value < level
        elif near_perfect and task != "regression":
            near_perfect = False  # a class too small for a score to mean anything
        if rule is not None or near_perfect:
            how = (f"gives the target in {rule.accuracy:.1%} of rows ({rule.description}; "
                   f"majority class: {rule.baseline:.1%})" if rule is not None else
                   f"alone predicts the target almost perfectly (cross-validated {metric} "
                   f"{score:.3f})")
            tested = ("" if np.isnan(p_value)
                      else f"; {significance_text(p_value, n_tests, len(columns))}")
            findings.append(Finding(
                "target_proxy", "error", column=column,
                message=f"column {column!r} {how}: it looks derived from the target or recorded "
                f"after it{tested}",
                n_rows=n, threshold=NEAR_PERFECT[metric],
                suggestion="check when this value becomes known; drop it if only after the outcome",
                details={"metric": metric, "score": score,
                         **({"rule": rule.kind, "rule_accuracy": rule.accuracy}
                            if rule is not None else {}),
                         **({} if np.isnan(p_value) else
                            {"p_value": p_value, "n_tests": n_tests, "alpha": ALPHA})},
            ))
        severity = _severity(missing_score, MISSING_THRESHOLDS[metric])
        if severity:
            y_values = classes if classes is not None else Y[:, 0]
            p_missing = missing_p_value(missing, y_values, task)
            if p_missing >= level:
                continue
            findings.append(Finding(
                "missingness_predicts_target", severity, column=column,
                message=f"whether {column!r} is missing predicts the target "
                f"({metric} {missing_score:.3f}; "
                f"{significance_text(p_missing, n_tests, len(columns))}): the value is likely "
                "filled in only for one outcome, after the fact",
                n_rows=int(missing.sum()), share=float(missing.mean()),
                threshold=MISSING_THRESHOLDS[metric][0],
                suggestion="find out why the value is missing; drop the column if its presence "
                "is only known after the outcome",
                details={"metric": metric, "score": missing_score, "p_value": p_missing,
                         "n_tests": n_tests, "alpha": ALPHA},
            ))
    return pd.DataFrame.from_records(records,
                                     columns=["column", "metric", "score", "missing_score"]), \
        findings, task
