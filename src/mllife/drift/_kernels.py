"""Vectorised kernels shared by :mod:`mllife.drift.stats` and :class:`DriftProfile`.

Numeric statistics work on a *merged* view of two sorted samples: one stable
sort of the concatenation of two sorted runs (a linear-time merge), then
cumulative counts at the end of each run of tied values give both empirical
CDFs at every distinct value. KS, Wasserstein, energy and Anderson-Darling
all read off that one view. Categorical statistics work on a ``2 x k`` table
of counts built with ``factorize`` and ``bincount``.

The reference side may be *weighted* (the points of a quantile sketch, each
standing for ``n / K`` rows); the current side is always an exact sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special
from scipy import stats as _sps

from .._errors import InputError

#: ``ks`` p-values are exact when both samples have at most this many values
#: (as ``scipy.stats.ks_2samp(method="auto")``), asymptotic above.
KS_EXACT_MAX_N = 10_000
#: Above this effective size ``n1 n2 / (n1 + n2)`` KS p-values use the limiting distribution.
KS_KSTWO_MAX_EN = 10_000


# ---- input conversion -------------------------------------------------------
def is_numeric_like(values: Any) -> bool:
    """True for int/float/datetime/timedelta data (booleans are categorical)."""
    dtype = getattr(values, "dtype", None)
    if dtype is None:
        dtype = np.asarray(values).dtype
    if pd.api.types.is_bool_dtype(dtype):
        return False
    return bool(
        pd.api.types.is_numeric_dtype(dtype)
        or pd.api.types.is_datetime64_any_dtype(dtype)
        or isinstance(dtype, pd.DatetimeTZDtype)
        or pd.api.types.is_timedelta64_dtype(dtype)
    )


_SECONDS_PER_UNIT = {"W": 604_800.0, "D": 86_400.0, "h": 3_600.0, "m": 60.0, "s": 1.0,
                     "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12, "fs": 1e-15,
                     "as": 1e-18}


def to_float(values: Any, *, name: str = "values") -> np.ndarray:
    """``values`` as a 1-D float array; datetimes become seconds since the epoch."""
    if isinstance(values, pd.Series):
        series = values
    else:
        arr = np.asarray(values)
        if arr.dtype.kind in "USO":  # numpy would turn NaN/None in a list of strings into text
            arr = np.asarray(values, dtype=object)
        series = pd.Series(arr.ravel())
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        # The dtype's own unit (pandas 3 often stores "us" or "s", pandas 2 "ns"): two
        # samples in different units must still land on the same seconds scale.
        raw = series.to_numpy()
        unit, step = np.datetime_data(raw.dtype)
        seconds = raw.view(np.int64).astype(np.float64) * (step * _SECONDS_PER_UNIT[unit])
        seconds[np.isnat(raw)] = np.nan
        return seconds
    if not is_numeric_like(series):
        raise InputError(
            f"{name} holds {dtype} values",
            n_rows=len(series),
            expected="numbers (use a categorical statistic for categories)",
        )
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


@dataclass(frozen=True)
class NumericCounts:
    """A numeric sample split into its finite values and its NaN/inf counts."""

    finite: np.ndarray  # sorted
    n_missing: int
    n_posinf: int
    n_neginf: int

    @property
    def n_total(self) -> int:
        return int(self.finite.size + self.n_missing + self.n_posinf + self.n_neginf)


def split_numeric(values: Any, *, name: str = "values") -> NumericCounts:
    """Sort the finite values; count NaN, +inf and -inf separately."""
    arr = to_float(values, name=name)
    finite_mask = np.isfinite(arr)
    n_finite = int(np.count_nonzero(finite_mask))
    if n_finite == arr.size:
        return NumericCounts(np.sort(arr), 0, 0, 0)
    rest = arr[~finite_mask]
    n_nan = int(np.count_nonzero(np.isnan(rest)))
    n_pos = int(np.count_nonzero(rest == np.inf))
    return NumericCounts(np.sort(arr[finite_mask]), n_nan, n_pos, int(rest.size - n_nan - n_pos))


def category_counts(values: Any) -> tuple[list[str], np.ndarray, int]:
    """Category labels (as strings), their counts and the number of missing values.

    Categories are compared by their string form (``1`` and ``"1"`` are one
    category); missing values (None, NaN, NaT, pd.NA) are counted apart.
    """
    if isinstance(values, pd.Series):
        series = values
    else:
        arr = np.asarray(values)
        if arr.dtype.kind in "USO":  # numpy would turn NaN/None in a list of strings into text
            arr = np.asarray(values, dtype=object)
        series = pd.Series(arr.ravel())
    try:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # unhashable cells (dicts, lists): categories by their string form
        text = series.astype(object).where(series.notna(), None)
        text = text.map(lambda v: v if v is None else str(v))
        codes, uniques = pd.factorize(text, use_na_sentinel=True)
    codes = np.asarray(codes)
    present = codes >= 0
    counts = np.bincount(codes[present], minlength=len(uniques)).astype(np.int64)
    labels = [str(u) for u in np.asarray(uniques, dtype=object)]
    n_missing = int(codes.size - present.sum())
    if len(set(labels)) != len(labels):  # 1 and "1": merge by string form
        merged = pd.Series(counts).groupby(pd.Index(labels), sort=False).sum()
        labels = [str(v) for v in merged.index]
        counts = merged.to_numpy(dtype=np.int64)
    return labels, counts, n_missing


def align_counts(
    ref_labels: list[str], ref_counts: np.ndarray, cur_labels: list[str], cur_counts: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Both count vectors on the union of categories (reference order first)."""
    known = set(ref_labels)
    extra = [c for c in cur_labels if c not in known]
    union = list(ref_labels) + extra
    ref = np.zeros(len(union), dtype=np.float64)
    ref[: len(ref_labels)] = ref_counts
    cur = np.zeros(len(union), dtype=np.float64)
    positions = pd.Index(union).get_indexer(pd.Index(cur_labels))
    cur[positions] = cur_counts
    return union, ref, cur


# ---- merged CDF view -------------------------------------------------------
@dataclass(frozen=True)
class Merged:
    """Both empirical CDFs at every distinct value of the pooled sample."""

    values: np.ndarray  # distinct pooled values, increasing
    cdf_ref: np.ndarray  # reference CDF at each value (share <= value)
    cdf_cur: np.ndarray
    cum_ref: np.ndarray  # reference weight <= value (counts when exact)
    cum_cur: np.ndarray  # current count <= value
    n_ref: float
    n_cur: int


def run_ends(sorted_values: np.ndarray) -> np.ndarray | None:
    """Index of the last element of each run of equal values; ``None`` when all differ."""
    n = sorted_values.size
    if n == 0:
        return None
    neq = np.empty(n, dtype=bool)
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=neq[:-1])
    neq[-1] = True
    if neq.all():
        return None
    return np.flatnonzero(neq)


def merge_sorted(ref: np.ndarray, cur: np.ndarray, ref_weights: np.ndarray | None = None) -> Merged:
    """The merged CDF view of two sorted samples (``ref`` optionally weighted)."""
    pooled = np.concatenate([ref, cur])
    order = np.argsort(pooled, kind="stable")  # timsort: a linear merge of two runs
    values = pooled.take(order)
    is_cur = order >= ref.size
    del order
    cum_cur = np.cumsum(is_cur, dtype=np.int64)
    uniform = ref_weights is not None and ref_weights.size > 0 and bool(np.all(ref_weights == ref_weights[0]))
    if ref_weights is None or uniform:
        cum_ref = np.arange(1, values.size + 1, dtype=np.float64)
        cum_ref -= cum_cur
        n_ref = float(ref.size)
        if ref_weights is not None:  # a sketch: every point stands for the same number of rows
            cum_ref *= float(ref_weights[0])
            n_ref *= float(ref_weights[0])
    else:
        w = np.zeros(pooled.size)
        w[~is_cur] = ref_weights  # the stable order keeps the reference points in their sorted order
        cum_ref = np.cumsum(w)
        n_ref = float(np.sum(ref_weights))
    ends = run_ends(values)
    if ends is not None:
        values, cum_ref, cum_cur = values[ends], cum_ref[ends], cum_cur[ends]
    n_cur = int(cur.size)
    return Merged(values, cum_ref / n_ref, cum_cur / n_cur, cum_ref, cum_cur, n_ref, n_cur)


def ks_from(m: Merged) -> float:
    """``max |F_ref - F_cur|`` (computed as scipy does: the largest of both signed gaps)."""
    diff = m.cdf_ref - m.cdf_cur
    return float(max(np.max(diff), np.clip(-np.min(diff), 0, 1)))


def ks_and_wasserstein(m: Merged) -> tuple[float, float]:
    """The KS statistic and ``integral |F_ref - F_cur| dx`` in one pass over the gaps."""
    gap = m.cdf_ref - m.cdf_cur
    d = float(max(np.max(gap), np.clip(-np.min(gap), 0, 1)))
    if m.values.size < 2:
        return d, 0.0
    np.abs(gap, out=gap)
    delta = np.diff(m.values)
    delta *= gap[:-1]  # no BLAS dot: its threads stall on a busy machine
    return d, float(delta.sum())


def cdf_distance(m: Merged, power: int) -> float:
    """``(sum |F - G|**p * dx)**(1/p)`` as ``scipy.stats._cdf_distance``."""
    if m.values.size < 2:
        return 0.0
    delta = np.diff(m.values)
    gap = np.abs(m.cdf_ref[:-1] - m.cdf_cur[:-1])
    if power == 1:
        return float(np.sum(gap * delta))
    return float(np.sqrt(np.sum(gap**2 * delta)))


def ks_pvalue(d: float, n1: int, n2: int) -> float:
    """Two-sided KS p-value, as ``scipy.stats.ks_2samp(method="auto")`` up to a size.

    Exact (scipy's own algorithm) when both samples have at most 10,000
    values; else scipy's asymptotic ``kstwo.sf(d, round(en))`` with
    ``en = n1 n2 / (n1 + n2)`` while ``en <= 10,000``; above that the limiting
    Kolmogorov distribution ``kstwobign.sf(d sqrt(en))``, which is within 1%
    (relative) of ``kstwo`` there for p-values above 1e-8 and takes
    microseconds where ``kstwo`` takes up to seconds.
    """
    if max(n1, n2) <= KS_EXACT_MAX_N:
        exact = _exact_ks(n1, n2, d)
        if exact is not None:
            return exact
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    if np.round(en) <= KS_KSTWO_MAX_EN:
        return float(np.clip(_sps.kstwo.sf(d, np.round(en)), 0, 1))
    return float(np.clip(_sps.kstwobign.sf(d * math.sqrt(en)), 0, 1))


def _exact_ks(n1: int, n2: int, d: float) -> float | None:
    """scipy's exact two-sample KS distribution, through one guarded private call."""
    try:
        from scipy.stats._stats_py import _attempt_exact_2kssamp
    except ImportError:  # pragma: no cover - a scipy that moved it: use asymptotics
        return None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            success, _, prob = _attempt_exact_2kssamp(n1, n2, math.gcd(n1, n2), d, "two-sided")
        except Exception:  # pragma: no cover - defensive: fall back to asymptotics
            return None
    return float(np.clip(prob, 0, 1)) if success else None


def anderson_from(m: Merged) -> tuple[float, float]:
    """k=2 Anderson-Darling (midrank variant) as ``scipy.stats.anderson_ksamp``.

    Needs exact (unweighted) counts on both sides. The p-value is scipy's
    interpolation of Scholz and Stephens' table, capped to [0.001, 0.25].
    """
    counts_ref = np.diff(m.cum_ref, prepend=0.0)
    counts_cur = np.diff(m.cum_cur, prepend=0).astype(np.float64)
    lj = counts_ref + counts_cur
    big_n = float(m.n_ref + m.n_cur)
    below = np.cumsum(lj) - lj
    bj = below + lj / 2.0
    denom = bj * (big_n - bj) - big_n * lj / 4.0
    a2akn = 0.0
    for cum, counts, n_i in ((m.cum_ref, counts_ref, m.n_ref), (m.cum_cur, counts_cur, float(m.n_cur))):
        mij = cum - counts / 2.0
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = lj / big_n * (big_n * mij - bj * n_i) ** 2 / denom
        a2akn += float(np.sum(inner[denom > 0])) / n_i
    a2akn *= (big_n - 1.0) / big_n
    k = 2
    n = np.array([m.n_ref, float(m.n_cur)])
    N = round(big_n)
    H = float((1.0 / n).sum())
    hs_cs = (1.0 / np.arange(N - 1, 1, -1)).cumsum()
    h = float(hs_cs[-1]) + 1
    g = float((hs_cs / np.arange(2, N)).sum())
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H
    b = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6
    c = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h
    dd = (2 * h + 6) * k**2 - 4 * h * k
    sigmasq = (a * N**3 + b * N**2 + c * N + dd) / ((N - 1.0) * (N - 2.0) * (N - 3.0))
    mm = k - 1
    a2 = (a2akn - mm) / math.sqrt(sigmasq)
    b0 = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
    b1 = np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
    b2 = np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])
    critical = b0 + b1 / math.sqrt(mm) + b2 / mm
    sig = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
    if a2 < critical.min():
        p = float(sig.max())
    elif a2 > critical.max():
        p = float(sig.min())
    else:
        pf = np.polyfit(critical, np.log(sig), 2)
        p = float(math.exp(np.polyval(pf, a2)))
    return float(a2), p


# ---- binned distributions ------------------------------------------------------
def sorted_quantiles(sorted_values: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``np.quantile(values, probs)`` (linear method) for already sorted values."""
    h = (sorted_values.size - 1) * np.asarray(probs, dtype=np.float64)
    lo = np.floor(h).astype(np.int64)
    hi = np.minimum(lo + 1, sorted_values.size - 1)
    a, b = sorted_values[lo], sorted_values[hi]
    frac = h - lo
    return np.where(frac == 0, a, a + frac * (b - a))


def quantile_edges(sorted_values: np.ndarray, bins: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Inner bin edges at the reference quantiles ``1/bins, ..., (bins-1)/bins`` (unique)."""
    if sorted_values.size == 0 or bins < 2:
        return np.array([], dtype=np.float64)
    probs = np.arange(1, bins) / bins
    if weights is None:
        edges = sorted_quantiles(sorted_values, probs)
    else:
        cum = np.cumsum(weights) / np.sum(weights)
        edges = sorted_values[np.minimum(np.searchsorted(cum, probs, side="left"), sorted_values.size - 1)]
    return np.unique(edges)


def bin_counts(sorted_values: np.ndarray, edges: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Counts of sorted values in the bins ``(-inf, e1], (e1, e2], ..., (e_last, inf)``.

    ``O(bins log n)``: the bin boundaries are searched in the sorted values.
    """
    pos = np.concatenate([[0], np.searchsorted(sorted_values, edges, side="right"), [sorted_values.size]])
    if weights is None:
        return np.diff(pos).astype(np.float64)
    cum = np.concatenate([[0.0], np.cumsum(weights)])
    return np.diff(cum[pos])


#: Pseudo-count added to every bin, on both sides, before PSI's logarithm.
PSI_PSEUDO_COUNT = 0.5


def psi_counts(ref: np.ndarray, cur: np.ndarray) -> float:
    """PSI of two count vectors, each bin smoothed by :data:`PSI_PSEUDO_COUNT`."""
    p = (ref + PSI_PSEUDO_COUNT) / (ref.sum() + PSI_PSEUDO_COUNT * ref.size)
    q = (cur + PSI_PSEUDO_COUNT) / (cur.sum() + PSI_PSEUDO_COUNT * cur.size)
    return float(np.sum((q - p) * np.log(q / p)))


def js_counts(ref: np.ndarray, cur: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) of two count vectors."""
    p = ref / ref.sum()
    q = cur / cur.sum()
    mid = (p + q) / 2.0
    div = float(np.sum(special.rel_entr(p, mid)) + np.sum(special.rel_entr(q, mid))) / 2.0
    return float(np.sqrt(max(div, 0.0) / math.log(2.0)))


def hellinger_counts(ref: np.ndarray, cur: np.ndarray) -> float:
    """Hellinger distance ``sqrt(1 - sum(sqrt(p q)))`` in [0, 1]."""
    p = ref / ref.sum()
    q = cur / cur.sum()
    return float(np.sqrt(max(1.0 - float(np.sum(np.sqrt(p * q))), 0.0)))


def contingency(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Observed and expected ``2 x k`` tables (empty categories dropped) and the dof."""
    keep = (ref + cur) > 0
    observed = np.vstack([ref[keep], cur[keep]])
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True) / observed.sum()
    return observed, expected, int(keep.sum()) - 1


def chi2_counts(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float | None]:
    observed, expected, dof = contingency(ref, cur)
    if dof < 1:
        return 0.0, 1.0
    stat = float(np.sum((observed - expected) ** 2 / expected))
    return stat, float(_sps.chi2.sf(stat, dof))


def g_counts(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float | None]:
    observed, expected, dof = contingency(ref, cur)
    if dof < 1:
        return 0.0, 1.0
    stat = float(2.0 * np.sum(special.xlogy(observed, observed / expected)))
    return stat, float(_sps.chi2.sf(stat, dof))


def cramers_v_counts(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float | None]:
    stat, p = chi2_counts(ref, cur)
    total = float(ref.sum() + cur.sum())
    return float(np.sqrt(stat / total)) if total > 0 else 0.0, p


def proportion_z_counts(x1: float, n1: float, x2: float, n2: float) -> tuple[float, float | None]:
    """Pooled two-proportion z-test: ``z`` (current minus reference) and its two-sided p."""
    if n1 <= 0 or n2 <= 0:
        return 0.0, None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 0.0, 1.0
    z = (x2 / n2 - x1 / n1) / se
    return float(z), float(2 * _sps.norm.sf(abs(z)))
