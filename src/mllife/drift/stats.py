"""Two-sample drift statistics: ``(statistic, p_value or None)`` for each.

Every function compares a ``reference`` sample with a ``current`` one (1-D
array-likes or Series) and returns a tuple ``(statistic, p_value)``; the
p-value is ``None`` for distances that have no test attached.

Policies shared by every function:

* **Missing values** (NaN, None, NaT, pd.NA) are dropped before computing;
  :func:`mllife.drift.drift_report` counts them separately (missing-rate change).
* **Infinite values** are dropped from the numeric statistics (a distance
  between samples with an infinite value would be infinite or undefined) and
  counted separately by the report (inf-rate change). Categorical statistics
  treat ``inf`` as a category like any other value.
* **Numeric statistics** (:func:`ks`, :func:`wasserstein`, :func:`energy`,
  :func:`anderson`) need numbers; datetimes are compared as seconds since the
  epoch. :func:`psi`, :func:`jensen_shannon` and :func:`hellinger` work on
  both: numbers are binned on reference quantiles, categories are counted.
* **Categorical statistics** (:func:`chi2`, :func:`g_test`, :func:`cramers_v`,
  :func:`proportion_z`) compare categories by their string form. :func:`chi2`,
  :func:`g_test` and :func:`cramers_v` pool categories whose expected count is
  below ``min_expected=5`` first (Cochran's rule), as the drift report does.
* Distances (:func:`psi`, :func:`jensen_shannon`, :func:`hellinger`,
  :func:`wasserstein`, :func:`energy`) have no p-value here; the drift report
  gives them a permutation p-value (see :func:`mllife.drift.drift_report`).
* Everything is vectorised: sort + ``searchsorted``/merge for numbers,
  ``factorize`` + ``bincount`` for categories; no Python loop over rows.

Raises :class:`mllife.InputError` when a sample has no usable value left.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._errors import InputError
from . import _kernels as k

__all__ = [
    "anderson",
    "chi2",
    "cramers_v",
    "energy",
    "g_test",
    "hellinger",
    "jensen_shannon",
    "ks",
    "proportion_z",
    "psi",
    "wasserstein",
]

Result = tuple[float, float | None]


# ---- helpers --------------------------------------------------------------------
def _numeric(reference: Any, current: Any) -> tuple[np.ndarray, np.ndarray]:
    ref = k.split_numeric(reference, name="reference").finite
    cur = k.split_numeric(current, name="current").finite
    for name, arr in (("reference", ref), ("current", cur)):
        if arr.size == 0:
            raise InputError(f"the {name} sample has no finite value", expected="at least one number")
    return ref, cur


def scale_of(ref: np.ndarray, cur: np.ndarray) -> float:
    """Wasserstein's normaliser: reference std, else pooled std, else 1."""
    sd = float(np.std(ref)) if ref.size else 0.0
    if sd > 0:
        return sd
    pooled = float(np.std(np.concatenate([ref, cur])))
    return pooled if pooled > 0 else 1.0


def _categorical(reference: Any, current: Any) -> tuple[list[str], np.ndarray, np.ndarray]:
    ref_labels, ref_counts, _ = k.category_counts(reference)
    cur_labels, cur_counts, _ = k.category_counts(current)
    for name, counts in (("reference", ref_counts), ("current", cur_counts)):
        if counts.sum() == 0:
            raise InputError(f"the {name} sample has no non-missing value", expected="at least one value")
    return k.align_counts(ref_labels, ref_counts, cur_labels, cur_counts)


def _distributions(reference: Any, current: Any, bins: int, kind: str | None) -> tuple[np.ndarray, np.ndarray]:
    if kind not in (None, "numeric", "categorical"):
        raise InputError(f"kind {kind!r} is not known", expected="'numeric', 'categorical' or None")
    numeric = k.is_numeric_like(reference) and k.is_numeric_like(current) if kind is None else kind == "numeric"
    if not numeric:
        _, ref_counts, cur_counts = _categorical(reference, current)
        return ref_counts, cur_counts
    if int(bins) < 2:
        raise InputError(f"bins={bins!r} is too small", expected="an integer >= 2")
    ref, cur = _numeric(reference, current)
    edges = k.quantile_edges(ref, int(bins))
    return k.bin_counts(ref, edges), k.bin_counts(cur, edges)


# ---- distribution distances ------------------------------------------------
def psi(reference: Any, current: Any, *, bins: int = 10, kind: str | None = None) -> Result:
    """Population Stability Index.

    ``sum((q - p) * ln(q / p))`` over bins, where ``p`` and ``q`` are the
    reference and current shares. Numbers are binned on the reference
    quantiles (``bins`` bins, ``(-inf, q_1], (q_1, q_2], ..., (q_last, inf)``,
    tied edges merged); categories are counted on the union of both samples.
    Empty bins are smoothed on **both** sides by adding 0.5 to every count
    (``p = (count + 0.5) / (n + 0.5 * n_bins)``), so PSI is always finite.
    Usual reading: < 0.1 stable, 0.1-0.2 moderate, > 0.2 large shift.

    Parameters
    ----------
    reference, current : array-like
    bins : int, default=10
        Number of reference-quantile bins for numbers.
    kind : {"numeric", "categorical"} or None, default=None
        Force the treatment; by default numbers are binned, the rest counted.

    Returns
    -------
    (float, None)

    Raises
    ------
    InputError
        When a sample has no usable value or ``bins`` < 2.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> round(psi(rng.normal(size=5000), rng.normal(0.5, 1, size=5000))[0], 2)
    0.27
    >>> psi(["a", "a", "b"], ["a", "b", "b"])[1] is None
    True
    """
    ref, cur = _distributions(reference, current, bins, kind)
    return k.psi_counts(ref, cur), None


def jensen_shannon(reference: Any, current: Any, *, bins: int = 10, kind: str | None = None) -> Result:
    """Jensen-Shannon distance, base 2, in [0, 1] (0: same distribution).

    The square root of the JS divergence, as
    ``scipy.spatial.distance.jensenshannon(p, q, base=2)``; numbers are binned
    as in :func:`psi`, without smoothing (JS is finite with empty bins).

    Returns
    -------
    (float, None)

    Examples
    --------
    >>> jensen_shannon(["a", "b"], ["a", "b"])
    (0.0, None)
    >>> jensen_shannon(["a", "a"], ["b", "b"])[0]
    1.0
    """
    ref, cur = _distributions(reference, current, bins, kind)
    return k.js_counts(ref, cur), None


def hellinger(reference: Any, current: Any, *, bins: int = 10, kind: str | None = None) -> Result:
    """Hellinger distance ``sqrt(1 - sum(sqrt(p * q)))``, in [0, 1].

    Numbers are binned as in :func:`psi` (no smoothing).

    Returns
    -------
    (float, None)

    Examples
    --------
    >>> hellinger(["a", "a"], ["b", "b"])
    (1.0, None)
    """
    ref, cur = _distributions(reference, current, bins, kind)
    return k.hellinger_counts(ref, cur), None


# ---- numeric tests and distances -----------------------------------------------
def ks(reference: Any, current: Any) -> Result:
    """Two-sample Kolmogorov-Smirnov test (two-sided).

    The statistic is ``max |F_ref - F_cur|``; the p-value follows
    ``scipy.stats.ks_2samp(method="auto")``: exact when both samples have at
    most 10,000 values, Smirnov's asymptotic distribution above (the limiting
    Kolmogorov distribution once ``n1 n2 / (n1 + n2) > 10,000``, within 2.5%
    relative). These p-values assume continuous data: on heavily tied data
    (a handful of distinct values) the test is conservative, with a level
    near 1% at ``alpha=0.05`` and about half the power; the drift report
    uses the exact permutation distribution over the distinct values there.

    Returns
    -------
    (float, float)

    Examples
    --------
    >>> ks([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0])
    (0.0, 1.0)
    >>> d, p = ks(range(50), range(40, 90))
    >>> round(d, 2), p < 1e-10
    (0.8, True)
    """
    ref, cur = _numeric(reference, current)
    d = k.ks_from(k.merge_sorted(ref, cur))
    return d, k.ks_pvalue(d, ref.size, cur.size)


def wasserstein(reference: Any, current: Any) -> Result:
    """Wasserstein-1 (earth mover's) distance divided by the reference std.

    ``scipy.stats.wasserstein_distance(reference, current) / sd`` where ``sd``
    is the reference standard deviation (ddof=0), so 0.1 reads as "moved by a
    tenth of a standard deviation". A constant reference falls back to the
    pooled standard deviation, and two equal constants to 1.

    Returns
    -------
    (float, None)

    Examples
    --------
    >>> wasserstein([0.0, 2.0], [1.0, 3.0])
    (1.0, None)
    """
    ref, cur = _numeric(reference, current)
    return k.cdf_distance(k.merge_sorted(ref, cur), 1) / scale_of(ref, cur), None


def energy(reference: Any, current: Any) -> Result:
    """Energy distance, as ``scipy.stats.energy_distance`` (in the data's units).

    ``sqrt(2 * integral (F_ref - F_cur)^2 dx)``; not normalised.

    Returns
    -------
    (float, None)

    Examples
    --------
    >>> energy([0.0, 1.0], [0.0, 1.0])
    (0.0, None)
    """
    ref, cur = _numeric(reference, current)
    return float(np.sqrt(2.0) * k.cdf_distance(k.merge_sorted(ref, cur), 2)), None


def anderson(reference: Any, current: Any) -> Result:
    """k-sample Anderson-Darling test with k=2 (midrank variant).

    The statistic is ``scipy.stats.anderson_ksamp([reference, current],
    variant="midrank")``'s standardised one. The p-value is **not capped**
    (scipy interpolates Scholz and Stephens' table and caps it to
    [0.001, 0.25], so with 50 columns no correction could ever use it): it is
    the upper tail of the limiting distribution at the finite-sample
    standardised statistic (:func:`mllife.drift._kernels.anderson_pvalue`),
    within a few percent of scipy's value inside scipy's range.

    Returns
    -------
    (float, float)

    Raises
    ------
    InputError
        When the pooled sample has fewer than two distinct values or fewer
        than four values.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> stat, p = anderson(rng.normal(size=300), rng.normal(1, 1, size=300))
    >>> p < 1e-20
    True
    """
    ref, cur = _numeric(reference, current)
    merged = k.merge_sorted(ref, cur)
    if merged.values.size < 2 or ref.size + cur.size < 4:
        raise InputError("Anderson-Darling needs at least two distinct values and four values",
                         n_rows=ref.size + cur.size, expected="a larger, non-constant sample")
    return k.anderson_from(merged)


# ---- categorical tests ------------------------------------------------------------
def chi2(reference: Any, current: Any, *, min_expected: float = 5.0) -> Result:
    """Chi-square test of homogeneity on the ``2 x k`` contingency table.

    Rows are the two samples, columns the categories seen in either (never a
    goodness-of-fit test against reference shares, which ignores the
    reference's own sampling noise and over-alarms). No Yates continuity
    correction is ever applied. Categories whose smallest expected count is
    below ``min_expected`` are first pooled, in order of their pooled count
    (which depends on the pooled sample only, so the level holds), into cells
    that reach it: the chi-square approximation then holds on sparse tables
    (hundreds of rare categories), where the raw test runs far above its
    level or has almost no power. Without pooling (every expected count at
    least ``min_expected``, or ``min_expected=0``) the result equals
    ``scipy.stats.chi2_contingency(table, correction=False)``. Two samples
    with a single shared category give ``(0.0, 1.0)``; a table too sparse to
    leave two cells gives ``(0.0, None)``.

    Parameters
    ----------
    reference, current : array-like
    min_expected : float, default=5.0
        Cochran's rule; ``0`` pools nothing.

    Returns
    -------
    (float, float or None)

    Examples
    --------
    >>> stat, p = chi2(["a"] * 50 + ["b"] * 50, ["a"] * 50 + ["b"] * 50)
    >>> stat, p
    (0.0, 1.0)
    """
    labels, ref, cur = _categorical(reference, current)
    return k.chi2_counts(ref, cur, min_expected=min_expected, key=k.label_ranks(labels))


def g_test(reference: Any, current: Any, *, min_expected: float = 5.0) -> Result:
    """G-test (log-likelihood ratio) of homogeneity on the ``2 x k`` table.

    Sparse categories are pooled as in :func:`chi2`; without pooling it equals
    ``scipy.stats.chi2_contingency(table, correction=False,
    lambda_="log-likelihood")``.

    Returns
    -------
    (float, float or None)

    Examples
    --------
    >>> g_test(["a", "b"] * 10, ["a", "b"] * 10)
    (0.0, 1.0)
    """
    labels, ref, cur = _categorical(reference, current)
    return k.g_counts(ref, cur, min_expected=min_expected, key=k.label_ranks(labels))


def cramers_v(reference: Any, current: Any, *, min_expected: float = 5.0) -> Result:
    """Cramér's V of the ``2 x k`` table: ``sqrt(chi2 / n)`` in [0, 1].

    An effect size; the statistic and p-value come from the :func:`chi2`
    test (sparse categories pooled the same way). Not bias-corrected.

    Returns
    -------
    (float, float)

    Examples
    --------
    >>> cramers_v(["a"] * 10, ["b"] * 10)[0]
    1.0
    """
    labels, ref, cur = _categorical(reference, current)
    return k.cramers_v_counts(ref, cur, min_expected=min_expected, key=k.label_ranks(labels))


def proportion_z(reference: Any, current: Any, *, category: Any = None) -> Result:
    """Two-proportion z-test on the share of one category (pooled variance).

    Parameters
    ----------
    reference, current : array-like
    category : object, optional
        The category whose share is compared (by string form). Default: the
        most frequent category of both samples pooled (choosing by the
        reference alone would pick a category that is high in the reference
        by chance and inflate false alarms).

    Returns
    -------
    (float, float)
        ``z`` (positive when the share grew) and its two-sided p-value.

    Examples
    --------
    >>> z, p = proportion_z([1] * 50 + [0] * 50, [1] * 70 + [0] * 30, category=1)
    >>> round(z, 2), round(p, 4)
    (2.89, 0.0039)
    """
    labels, ref, cur = _categorical(reference, current)
    if category is None:
        index = int(np.argmax(ref + cur))
    else:
        key = str(category)
        index = labels.index(key) if key in labels else -1
    x1 = float(ref[index]) if index >= 0 else 0.0
    x2 = float(cur[index]) if index >= 0 else 0.0
    return k.proportion_z_counts(x1, float(ref.sum()), x2, float(cur.sum()))
