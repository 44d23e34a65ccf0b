"""CBPE: a classifier's performance estimated from its calibrated probabilities, without labels.

Confidence-based performance estimation (NannyML's CBPE): when the
probability ``p_i`` of the positive class is calibrated, row ``i`` is a true
positive with probability ``p_i`` if it is predicted positive and a false
negative with probability ``p_i`` if it is predicted negative, so the
expected confusion counts of a window are sums of calibrated probabilities
over the predicted classes, and the label metrics follow from them
(multiclass: ``C[j, k]`` = the sum of ``p_k`` over the rows predicted ``j``).
The expected ROC-AUC sweeps the thresholds of the model's raw score with
each row weighing ``p_i`` as a positive and ``1 - p_i`` as a negative.

Everything a window keeps is additive and bounded: counts and sums of
probabilities per predicted class, and for ROC-AUC per-bin sums on
:data:`N_BINS` fine bins of the raw score (edges: quantiles of the reference
score together with a uniform grid on [0, 1]). Binning counts the pairs of
rows inside one bin as ties, so the binned AUC is within ``0.5 * sum_b P_b
N_b / (P N)`` of the exact one (the share of (positive, negative) pairs in a
common bin, halved): :func:`binned_auc` returns that bound with the value,
about ``0.5 / N_BINS`` when the window resembles the reference.

Intervals of an estimate describe where the window's realized value falls
given its rows, when the probabilities are calibrated: the label of a row is
Bernoulli(``p_i``), independent across rows. Accuracy, precision (binary)
have exact variances ``sum p(1-p) / n**2``; recall, F1 and ROC-AUC use the
delta method on the same per-row variances (ROC-AUC on the per-bin ones);
multiclass macro metrics use, per predicted class, the multinomial with the
class's mean probabilities, whose covariance dominates the exact one (a
conservative interval). The ROC-AUC interval is widened by the binning bound.
With a labelled reference the calibration's own uncertainty is added in
quadrature: the root of the estimate's variance on the reference rows plus
the squared gap between the realized and the estimated value there
(``PerformanceModel``'s ``_calibration_se``), which covers a miscalibration
too small for the calibration test to reject on a few hundred rows, as long
as the window's scores resemble the reference's. A multiclass macro
estimate averages over the classes predicted or expected in the window (a
class with expected rows but none realized can make it differ from the
realized label set).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _metrics
from .._errors import InputError
from ._perf_json import check_int, check_keys, finite_array
from ._sums import Sums

#: Bins of the positive-class score kept per window for ROC-AUC (binary).
N_BINS = 1000
#: Multiclass ROC-AUC keeps ``K * bins <= MAX_BIN_VALUES`` per sums key.
MAX_BIN_VALUES = 20_000
#: The most classes CBPE handles (its sums hold ``K * K`` numbers) ...
MAX_CLASSES = 200
#: ... and the most for which the macro one-vs-rest ROC-AUC is offered.
MAX_AUC_CLASSES = 50
#: The calibration test: a chi-square over this many equal-count bins of the score ...
CALIBRATION_BINS = 10
#: ... rejected at this level (Bonferroni over the classes of a multiclass model).
CALIBRATION_LEVEL = 0.05
#: Fewer labelled reference rows (or rows of a class) than this: no calibration.
MIN_CALIBRATION_ROWS = 100
MIN_CALIBRATION_EVENTS = 10
#: An isotonic calibrator keeps at most this many points.
MAX_ISOTONIC_POINTS = 20_000

#: A realized proportion (accuracy, precision, recall) gets a standard error from this many
#: rows; a realized F1 or macro average, or ROC-AUC, when every class has this many true
#: and this many predicted rows (positives and negatives for ROC-AUC). Below, a ratio of
#: counts is biased and skewed far beyond its delta-method standard error (macro F1 of 10
#: rows sits well below the reference's F1 on average): the value and, for proportions,
#: the Wilson interval are reported, the standard error is NaN, so no alarm is tested.
MIN_REALIZED_ROWS = 30
MIN_REALIZED_CLASS_ROWS = 10

LABEL_METRICS = _metrics.CBPE_LABEL_METRICS
SUPPORTED = _metrics.CBPE_METRICS

_NAN = float("nan")


# ---- small helpers ------------------------------------------------------------------------------


def class_index(values: Any, classes: tuple[Any, ...]) -> np.ndarray:
    """The position of each value among ``classes``; -1 for a missing or unknown value."""
    arr = np.asarray(values, dtype=object).reshape(-1)
    index = pd.Index(list(classes), dtype=object)
    return np.asarray(index.get_indexer(pd.Index(arr, dtype=object)), dtype=np.int64)


def _scalar(value: float) -> np.ndarray:
    return np.asarray(float(value), dtype=np.float64)


def _get(sums: Mapping[str, np.ndarray], key: str, shape: tuple[int, ...] = ()) -> np.ndarray:
    """``sums[key]`` as float64 (zeros of ``shape`` when absent: a window without rows)."""
    if key not in sums:
        return np.zeros(shape, dtype=np.float64)
    value = np.asarray(sums[key], dtype=np.float64)
    if shape and value.shape != shape:
        raise InputError(f"performance sums {key!r} have shape {value.shape}",
                         expected=f"shape {shape} (sums of this performance model)")
    return value.reshape(shape) if not shape else value


def _count(sums: Mapping[str, np.ndarray], key: str) -> float:
    return float(np.asarray(sums.get(key, 0.0), dtype=np.float64).reshape(-1).sum())


# ---- calibration ---------------------------------------------------------------------------------


def calibration_test(score: np.ndarray, outcome: np.ndarray) -> tuple[float, float, int]:
    """``(statistic, p_value, df)`` of the probabilities ``score`` against 0/1 ``outcome``.

    Rows are cut into :data:`CALIBRATION_BINS` equal-count bins of the score;
    ``sum_b (O_b - E_b)**2 / V_b`` (observed and expected positives, ``V_b =
    sum p(1-p)``) is chi-square with one degree of freedom per bin when the
    probabilities are calibrated (the Hosmer-Lemeshow form with ``df`` = bins,
    because the model was not fitted on these rows). A bin with ``V_b = 0``
    whose outcomes differ from its probabilities gives p-value 0.
    """
    from scipy.stats import chi2

    n = len(score)
    order = np.argsort(score, kind="stable")
    bins = np.empty(n, dtype=np.int64)
    bins[order] = (np.arange(n) * CALIBRATION_BINS) // max(n, 1)
    observed = np.bincount(bins, outcome, CALIBRATION_BINS)
    expected = np.bincount(bins, score, CALIBRATION_BINS)
    var = np.bincount(bins, score * (1.0 - score), CALIBRATION_BINS)
    used = var > 1e-12
    if np.any(~used & (np.abs(observed - expected) > 0.5)):
        return math.inf, 0.0, int(used.sum())
    stat = float(np.sum((observed[used] - expected[used]) ** 2 / var[used]))
    df = int(used.sum())
    return stat, float(chi2.sf(stat, df)) if df else 1.0, df


def fit_isotonic(score: np.ndarray, outcome: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points ``(x, y)`` of an isotonic regression of ``outcome`` on ``score``.

    Applied by linear interpolation (:func:`apply_isotonic`), as scikit-learn's
    ``IsotonicRegression(out_of_bounds="clip").predict``. More than
    :data:`MAX_ISOTONIC_POINTS` points are thinned to that many (evenly spaced
    among them; the function stays non-decreasing).
    """
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    iso.fit(score, outcome)
    x = np.asarray(iso.X_thresholds_, dtype=np.float64)
    y = np.asarray(iso.y_thresholds_, dtype=np.float64)
    if len(x) > MAX_ISOTONIC_POINTS:
        keep = np.unique(np.linspace(0, len(x) - 1, MAX_ISOTONIC_POINTS).round().astype(np.int64))
        x, y = x[keep], y[keep]
    return x, y


def apply_isotonic(score: np.ndarray, points: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    x, y = points
    return np.interp(score, x, y)


# ---- ROC-AUC bins --------------------------------------------------------------------------------


def make_edges(score: np.ndarray, n_bins: int) -> np.ndarray:
    """Interior bin edges: ``n_bins // 2`` reference quantiles joined with a uniform grid on [0, 1].

    The uniform half keeps every bin narrower than ``2 / n_bins`` in score
    where the reference is sparse (a shifted window lands there); the
    quantile half keeps every bin below ``2 / n_bins`` of the reference rows.
    Without enough reference scores (fewer than ``n_bins``), only the grid.
    """
    half = max(n_bins // 2, 1)
    grid = np.linspace(0.0, 1.0, half + 1)[1:-1]
    finite = score[np.isfinite(score)]
    if finite.size >= n_bins:
        quantiles = np.quantile(finite, np.linspace(0.0, 1.0, half + 1)[1:-1])
        grid = np.concatenate([grid, quantiles])
    return np.unique(grid)


def bin_of(score: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.searchsorted(edges, score, side="right")


def binned_auc(pos: np.ndarray, neg: np.ndarray,
               var: np.ndarray | None = None) -> tuple[float, float, float]:
    """``(auc, se, bound)`` from per-bin positive and negative weights (bins by increasing score).

    Pairs in one bin count as ties (1/2), so ``|auc - exact| <= bound = 0.5 *
    sum_b pos_b neg_b / (P N)``. ``var``: per-bin variances of the positive
    weight (``sum p(1-p)``, the labels being Bernoulli(p)) give ``se`` by the
    delta method (the count of each bin is fixed); without it ``se`` is NaN.
    NaN everywhere without a positive or a negative weight.
    """
    pos = np.asarray(pos, dtype=np.float64)
    neg = np.asarray(neg, dtype=np.float64)
    big_p, big_n = float(pos.sum()), float(neg.sum())
    if not (big_p > 1e-12 and big_n > 1e-12):
        return _NAN, _NAN, _NAN
    below = np.cumsum(neg) - neg  # negatives in lower bins
    pairs = big_p * big_n
    u = float(np.sum(pos * (below + 0.5 * neg)))
    auc = min(max(u / pairs, 0.0), 1.0)
    bound = float(0.5 * np.sum(pos * neg) / pairs)
    if var is None:
        return auc, _NAN, bound
    above = np.cumsum(pos[::-1])[::-1] - pos  # positives in higher bins
    d_u = below + 0.5 * neg - 0.5 * pos - above
    grad = (d_u - auc * (big_n - big_p)) / pairs
    return auc, float(math.sqrt(max(float(np.sum(grad * grad * var)), 0.0))), bound


def hanley_mcneil_se(auc: float, n_pos: float, n_neg: float) -> float:
    """Hanley & McNeil (1982) standard error of an AUC from ``n_pos`` and ``n_neg`` rows."""
    if not (math.isfinite(auc) and n_pos >= 1 and n_neg >= 1):
        return _NAN
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc * auc / (1.0 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc)
           + (n_neg - 1) * (q2 - auc * auc)) / (n_pos * n_neg)
    return math.sqrt(max(var, 0.0))


# ---- label metrics from (expected or observed) confusion counts ----------------------------------


def binary_label(name: str, n: float, n1: float, tp: float, fn: float, v1: float,
                 v0: float) -> tuple[float, float]:
    """``(value, se)`` of a binary label metric about the positive label.

    ``n1`` rows predicted positive (fixed), ``tp`` / ``fn`` the positives among
    the predicted positive / negative rows, ``v1`` / ``v0`` their variances.
    An undefined precision, recall or F1 is 0 (the vocabulary's zero
    division) with a NaN ``se``; no rows: NaN.
    """
    if n <= 0:
        return _NAN, _NAN
    n0 = n - n1
    if name == "accuracy":
        return (tp + n0 - fn) / n, math.sqrt(max(v1 + v0, 0.0)) / n
    if name == "precision":
        if n1 <= 0:
            return 0.0, _NAN
        return tp / n1, math.sqrt(max(v1, 0.0)) / n1
    if name == "recall":
        den = tp + fn
        if den <= 1e-12:
            return 0.0, _NAN
        g_t, g_f = fn / den ** 2, -tp / den ** 2
    else:  # f1
        den = n1 + tp + fn
        if den <= 1e-12:
            return 0.0, _NAN
        g_t, g_f = 2.0 * (n1 + fn) / den ** 2, -2.0 * tp / den ** 2
    value = tp / den if name == "recall" else 2.0 * tp / den
    return value, math.sqrt(max(g_t * g_t * v1 + g_f * g_f * v0, 0.0))


def macro_label(name: str, conf: np.ndarray, n_pred: np.ndarray) -> tuple[float, float]:
    """``(value, se)`` of a macro precision, recall or F1 from a confusion matrix.

    ``conf[j, k]``: rows predicted class ``j`` whose true class is ``k``
    (expected or observed; ``conf`` may have more columns than rows: true
    labels the model does not know). The label set is the classes predicted
    or present (``n_pred > 0`` or a positive column sum), scikit-learn's
    default. ``se``: delta method, each predicted class's row multinomial with
    its mean proportions and ``n_pred[j]`` fixed.
    """
    rows, cols = conf.shape
    if float(n_pred.sum()) <= 0:
        return _NAN, _NAN
    true = conf.sum(axis=0)
    diag = np.zeros(cols)
    diag[:rows] = np.diagonal(conf)
    pred = np.zeros(cols)
    pred[:rows] = n_pred
    label_set = (pred > 0) | (true > 1e-12)
    m = int(label_set.sum())
    if m == 0:
        return _NAN, _NAN
    if name == "precision":
        den, num = pred, diag
    elif name == "recall":
        den, num = true, diag
    else:
        den, num = pred + true, 2.0 * diag
    ok = label_set & (den > 1e-12)
    safe = np.where(ok, den, 1.0)
    per = np.where(ok, num / safe, 0.0)
    value = float(per[label_set].sum() / m)
    grad = np.zeros((rows, cols))
    if name == "precision":
        grad[np.arange(rows), np.arange(rows)] = np.where(ok[:rows], 1.0 / safe[:rows], 0.0)
    else:
        factor = 1.0 if name == "recall" else 2.0
        column = np.where(ok, -num / safe ** 2, 0.0)  # through the column sum
        grad[:] = column[None, :]
        grad[np.arange(rows), np.arange(rows)] += np.where(ok[:rows], factor / safe[:rows], 0.0)
    grad /= m
    n_rows = np.where(n_pred > 0, n_pred, 1.0)
    share = conf / n_rows[:, None]
    first = np.sum(share * grad * grad, axis=1)
    second = np.sum(share * grad, axis=1) ** 2
    var = float(np.sum(n_pred * (first - second)))
    return value, math.sqrt(max(var, 0.0))


def wilson(successes: float, n: float, z: float) -> tuple[float, float]:
    """The Wilson score interval of a proportion (NaN for ``n = 0``)."""
    if n <= 0:
        return _NAN, _NAN
    p = successes / n
    center = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(max(p * (1 - p) / n + z * z / (4 * n * n), 0.0)) / (1 + z * z / n)
    return max(center - half, 0.0), min(center + half, 1.0)


# ---- the state -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CBPE:
    """The fitted classification side of a performance model (see the module docstring).

    ``positive``: the index of the positive label (binary), else ``None``.
    ``calibrators``: isotonic points per scored column (binary: the positive
    class; multiclass: every class), or empty when the probabilities are used
    as they are. ``edges``: ROC-AUC bin edges per scored column (empty when
    ROC-AUC is not asked or there are no probabilities); ``n_bins`` the width
    of the per-bin sums.
    """

    task: str
    classes: tuple[Any, ...]
    positive: int | None
    has_proba: bool
    calibrators: tuple[tuple[np.ndarray, np.ndarray], ...]
    edges: tuple[np.ndarray, ...]
    n_bins: int

    @property
    def k(self) -> int:
        return len(self.classes)

    @property
    def auc(self) -> bool:
        return bool(self.edges)

    # -- probabilities -----------------------------------------------------------------------------

    def calibrated(self, proba: np.ndarray) -> np.ndarray:
        """Calibrated probabilities: binary, of the positive class (1-D); multiclass, ``(n, K)``."""
        if self.positive is not None:
            p = proba[:, self.positive]
            return np.clip(apply_isotonic(p, self.calibrators[0]) if self.calibrators else p,
                           0.0, 1.0)
        if not self.calibrators:
            return np.clip(proba, 0.0, 1.0)
        out = np.column_stack([apply_isotonic(proba[:, k], self.calibrators[k])
                               for k in range(self.k)])
        total = out.sum(axis=1, keepdims=True)
        raw = np.clip(proba, 0.0, 1.0)
        return np.where(total > 0, out / np.where(total > 0, total, 1.0), raw)

    # -- sums --------------------------------------------------------------------------------------

    def estimate_sums(self, prediction: np.ndarray, proba: np.ndarray | None) -> Sums:
        pred = class_index(prediction, self.classes)
        if not self.has_proba or proba is None:
            return {"est_n": _scalar(0.0)}
        proba = np.asarray(proba, dtype=np.float64)
        valid = (pred >= 0) & np.isfinite(proba).all(axis=1)
        pred, proba = pred[valid], proba[valid]
        n = float(valid.sum())
        out: Sums = {"est_n": _scalar(n)}
        if self.positive is not None:
            p = self.calibrated(proba)
            d = pred == self.positive
            pv = p * (1.0 - p)
            out.update(est_n1=_scalar(d.sum()), est_tp=_scalar(p[d].sum()),
                       est_fn=_scalar(p[~d].sum()), est_v1=_scalar(pv[d].sum()),
                       est_v0=_scalar(pv[~d].sum()))
            if self.auc:
                b = bin_of(proba[:, self.positive], self.edges[0])
                out["est_bin_n"] = np.bincount(b, minlength=self.n_bins).astype(np.float64)
                out["est_bin_p"] = np.bincount(b, p, self.n_bins)
                out["est_bin_v"] = np.bincount(b, pv, self.n_bins)
            return out
        k = self.k
        cal = self.calibrated(proba)
        out["est_pred"] = np.bincount(pred, minlength=k).astype(np.float64)
        out["est_conf"] = np.column_stack([np.bincount(pred, cal[:, j], k) for j in range(k)]) \
            if k else np.zeros((0, 0))
        q = cal[np.arange(len(pred)), pred]
        out["est_qv"] = _scalar(np.sum(q * (1.0 - q)))
        if self.auc:
            bn, bp, bv = (np.zeros((k, self.n_bins)) for _ in range(3))
            for j in range(k):
                b = bin_of(proba[:, j], self.edges[j])
                bn[j] = np.bincount(b, minlength=self.n_bins)
                bp[j] = np.bincount(b, cal[:, j], self.n_bins)
                bv[j] = np.bincount(b, cal[:, j] * (1.0 - cal[:, j]), self.n_bins)
            out.update(est_bin_n=bn, est_bin_p=bp, est_bin_v=bv)
        return out

    def realized_sums(self, prediction: np.ndarray, proba: np.ndarray | None,
                      y: np.ndarray) -> Sums:
        pred = class_index(prediction, self.classes)
        truth = class_index(y, self.classes)
        labelled = ~pd.isna(pd.Series(np.asarray(y, dtype=object))).to_numpy()
        valid = (pred >= 0) & labelled
        pred, truth = pred[valid], truth[valid]
        scores = None if proba is None else np.asarray(proba, dtype=np.float64)[valid]
        out: Sums = {"real_n": _scalar(valid.sum())}
        if self.positive is not None:
            d = pred == self.positive
            yb = truth == self.positive
            out.update(real_tp=_scalar(np.sum(d & yb)), real_fp=_scalar(np.sum(d & ~yb)),
                       real_fn=_scalar(np.sum(~d & yb)), real_tn=_scalar(np.sum(~d & ~yb)))
            if self.auc:
                pos = np.zeros(self.n_bins)
                neg = np.zeros(self.n_bins)
                if scores is not None:
                    ok = np.isfinite(scores[:, self.positive])
                    b = bin_of(scores[ok, self.positive], self.edges[0])
                    pos = np.bincount(b[yb[ok]], minlength=self.n_bins).astype(np.float64)
                    neg = np.bincount(b[~yb[ok]], minlength=self.n_bins).astype(np.float64)
                out.update(real_bin_pos=pos, real_bin_neg=neg)
            return out
        k = self.k
        column = np.where(truth >= 0, truth, k)  # unknown labels: one extra column
        cells = np.bincount(pred * (k + 1) + column, minlength=k * (k + 1))
        out["real_conf"] = cells.reshape(k, k + 1).astype(np.float64)
        if self.auc:
            pos = np.zeros((k, self.n_bins))
            neg = np.zeros((k, self.n_bins))
            if scores is not None:
                ok = np.isfinite(scores).all(axis=1)
                for j in range(k):
                    b = bin_of(scores[ok, j], self.edges[j])
                    is_j = column[ok] == j
                    pos[j] = np.bincount(b[is_j], minlength=self.n_bins)
                    neg[j] = np.bincount(b[~is_j], minlength=self.n_bins)
            out.update(real_bin_pos=pos, real_bin_neg=neg)
        return out

    # -- values ------------------------------------------------------------------------------------

    def estimate(self, sums: Mapping[str, np.ndarray], name: str, z: float,
                 extra_se: float = 0.0) -> tuple[float, float, float, float, int]:
        """``(value, low, high, se, n)`` of the estimated metric ``name``.

        ``extra_se``: the calibration's own uncertainty, added in quadrature.
        """
        n = _count(sums, "est_n")
        if not self.has_proba or n <= 0:
            return _NAN, _NAN, _NAN, _NAN, int(n)
        if name == "roc_auc":
            return (*self._auc(sums, "est", z, extra_se), int(n))
        if self.positive is not None:
            value, se = binary_label(name, n, _count(sums, "est_n1"), _count(sums, "est_tp"),
                                     _count(sums, "est_fn"), _count(sums, "est_v1"),
                                     _count(sums, "est_v0"))
        elif name == "accuracy":
            conf = _get(sums, "est_conf", (self.k, self.k))
            value = float(np.trace(conf) / n)
            se = math.sqrt(max(_count(sums, "est_qv"), 0.0)) / n
        else:
            value, se = macro_label(name, _get(sums, "est_conf", (self.k, self.k)),
                                    _get(sums, "est_pred", (self.k,)))
        se = math.hypot(se, extra_se)
        return (value, *_normal(value, se, z), se, int(n))

    def realized(self, sums: Mapping[str, np.ndarray], name: str,
                 z: float) -> tuple[float, float, float, float, int]:
        """``(value, low, high, se, n)`` of the realized metric ``name``."""
        n = _count(sums, "real_n")
        if n <= 0:
            return _NAN, _NAN, _NAN, _NAN, 0
        if name == "roc_auc":
            value, low, high, se = self._auc(sums, "real", z)
            if not self._enough(sums, auc=True):
                low = high = se = _NAN
            return value, low, high, se, int(n)
        if self.positive is not None:
            tp, fp, fn, tn = (_count(sums, f"real_{c}") for c in ("tp", "fp", "fn", "tn"))
            n1, n0 = tp + fp, fn + tn
            if name in _metrics.PROPORTION_METRICS:
                hits, rows = dict(zip(_metrics.PROPORTION_METRICS,
                                      ((tp + tn, n), (tp, n1), (tp, tp + fn)), strict=True))[name]
                value = hits / rows if rows > 0 else 0.0
                se = math.sqrt(value * (1 - value) / rows) if rows >= MIN_REALIZED_ROWS \
                    else _NAN
                low, high = wilson(hits, rows, z)
                return value, low, high, se, int(n)
            v1 = tp * fp / n1 if n1 > 0 else 0.0
            v0 = fn * tn / n0 if n0 > 0 else 0.0
            value, se = binary_label(name, n, n1, tp, fn, v1, v0)
            if not self._enough(sums):
                se = _NAN
            return (value, *_normal(value, se, z), se, int(n))
        conf = _get(sums, "real_conf", (self.k, self.k + 1))
        n_pred = conf.sum(axis=1)
        if name == "accuracy":
            hits = float(np.trace(conf[:, : self.k]))
            value = hits / n
            low, high = wilson(hits, n, z)
            se = math.sqrt(value * (1 - value) / n) if n >= MIN_REALIZED_ROWS else _NAN
            return value, low, high, se, int(n)
        value, se = macro_label(name, conf, n_pred)
        if not self._enough(sums):
            se = _NAN
        return (value, *_normal(value, se, z), se, int(n))

    def _enough(self, sums: Mapping[str, np.ndarray], *, auc: bool = False) -> bool:
        """Every class has :data:`MIN_REALIZED_CLASS_ROWS` true and predicted rows (ROC-AUC:
        positives and negatives of each scored class)."""
        least = MIN_REALIZED_CLASS_ROWS
        if self.positive is not None:
            tp, fp, fn, tn = (_count(sums, f"real_{c}") for c in ("tp", "fp", "fn", "tn"))
            if auc:
                return min(tp + fn, fp + tn) >= least
            return min(tp + fn, tp + fp, fp + tn, fn + tn) >= least
        conf = _get(sums, "real_conf", (self.k, self.k + 1))
        true, pred = conf[:, : self.k].sum(axis=0), conf.sum(axis=1)
        total = float(conf.sum())
        if conf[:, self.k].sum() > 0:
            return False
        if auc:
            return bool(min(true.min(), (total - true).min()) >= least)
        return bool(min(true.min(), pred.min()) >= least)

    def _auc(self, sums: Mapping[str, np.ndarray], kind: str, z: float,
             extra_se: float = 0.0) -> tuple[float, float, float, float]:
        if not self.auc:
            return _NAN, _NAN, _NAN, _NAN
        per = self.auc_parts(sums, kind)
        if not per:
            return _NAN, _NAN, _NAN, _NAN
        values = np.array([v for v, _, _ in per])
        ses = np.array([s for _, s, _ in per])
        bounds = np.array([b for _, _, b in per])
        if not np.isfinite(values).all():
            return _NAN, _NAN, _NAN, _NAN
        # Macro: the mean of the classes' AUCs; its se at most the mean of theirs.
        value, se, bound = float(values.mean()), float(ses.mean()), float(bounds.mean())
        se = math.hypot(se, extra_se)
        half = z * se + bound if math.isfinite(se) else _NAN
        return value, max(value - half, 0.0), min(value + half, 1.0), se

    def auc_parts(self, sums: Mapping[str, np.ndarray],
                  kind: str) -> list[tuple[float, float, float]]:
        """``(auc, se, bound)`` per scored class (binary: one), estimate or realized sums."""
        columns = 1 if self.positive is not None else self.k
        shape: tuple[int, ...] = (self.n_bins,) if self.positive is not None \
            else (self.k, self.n_bins)
        if kind == "est":
            count = _get(sums, "est_bin_n", shape).reshape(columns, self.n_bins)
            pos = _get(sums, "est_bin_p", shape).reshape(columns, self.n_bins)
            var = _get(sums, "est_bin_v", shape).reshape(columns, self.n_bins)
            return [binned_auc(pos[j], np.clip(count[j] - pos[j], 0.0, None), var[j])
                    for j in range(columns)]
        if self.positive is None:
            conf = _get(sums, "real_conf", (self.k, self.k + 1))
            if conf[:, self.k].sum() > 0:  # labels the model does not know: undefined
                return [(_NAN, _NAN, _NAN)]
        pos = _get(sums, "real_bin_pos", shape).reshape(columns, self.n_bins)
        neg = _get(sums, "real_bin_neg", shape).reshape(columns, self.n_bins)
        out = []
        for j in range(columns):
            auc, _, bound = binned_auc(pos[j], neg[j])
            out.append((auc, hanley_mcneil_se(auc, float(pos[j].sum()), float(neg[j].sum())),
                        bound))
        return out

    # -- JSON --------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "classes": [_json_label(c) for c in self.classes],
            "positive": self.positive,
            "has_proba": self.has_proba,
            "calibrators": [{"x": x.tolist(), "y": y.tolist()} for x, y in self.calibrators],
            "edges": [e.tolist() for e in self.edges],
            "n_bins": self.n_bins,
        }

    @classmethod
    def from_dict(cls, data: Any) -> CBPE:
        check_keys(data, {"task", "classes", "positive", "has_proba", "calibrators", "edges",
                          "n_bins"}, "cbpe")
        task = data["task"]
        if task not in ("binary", "multiclass"):
            raise InputError(f"cbpe task is {task!r}", expected="'binary' or 'multiclass'")
        classes = data["classes"]
        if not isinstance(classes, list) or not 1 <= len(classes) <= MAX_CLASSES:
            raise InputError("cbpe classes are not a list of 1 to 200 labels",
                             expected=f"a list of at most {MAX_CLASSES} labels")
        labels = tuple(_label_from_json(c) for c in classes)
        if len(set(map(repr, labels))) != len(labels):
            raise InputError("cbpe classes repeat", expected="distinct class labels")
        positive = data["positive"]
        if task == "binary":
            positive = check_int(positive, "cbpe positive", 0, len(labels) - 1)
        elif positive is not None:
            raise InputError("a multiclass cbpe has a positive class", expected="null")
        if not isinstance(data["has_proba"], bool):
            raise InputError("cbpe has_proba is not a boolean", expected="true or false")
        columns = 1 if task == "binary" else len(labels)
        n_bins = check_int(data["n_bins"], "cbpe n_bins", 0, N_BINS)
        cal = data["calibrators"]
        if not isinstance(cal, list) or len(cal) not in (0, columns):
            raise InputError("cbpe calibrators have the wrong length",
                             expected=f"0 or {columns} calibrators")
        calibrators = []
        for i, point in enumerate(cal):
            check_keys(point, {"x", "y"}, f"cbpe calibrator {i}")
            x = finite_array(point["x"], f"calibrator {i} x", MAX_ISOTONIC_POINTS)
            y = finite_array(point["y"], f"calibrator {i} y", MAX_ISOTONIC_POINTS)
            if len(x) != len(y) or len(x) == 0:
                raise InputError(f"calibrator {i} has {len(x)} x and {len(y)} y points",
                                 expected="as many x as y points, at least one")
            if np.any(np.diff(x) <= 0) or np.any(np.diff(y) < 0) or y.min() < 0 or y.max() > 1:
                raise InputError(f"calibrator {i} is not a non-decreasing map into [0, 1]",
                                 expected="increasing x, non-decreasing y within [0, 1]")
            calibrators.append((x, y))
        edges_data = data["edges"]
        if not isinstance(edges_data, list) or len(edges_data) not in (0, columns):
            raise InputError("cbpe edges have the wrong length",
                             expected=f"0 or {columns} lists of bin edges")
        if edges_data and columns * n_bins > max(MAX_BIN_VALUES, N_BINS):
            raise InputError(f"cbpe keeps {columns} x {n_bins} bins",
                             expected=f"at most {MAX_BIN_VALUES} bin values")
        edges = []
        for i, e in enumerate(edges_data):
            arr = finite_array(e, f"bin edges {i}", N_BINS)
            if len(arr) + 1 > n_bins or np.any(np.diff(arr) <= 0):
                raise InputError(f"bin edges {i} are not increasing or exceed {n_bins} bins",
                                 expected="strictly increasing edges, fewer than n_bins")
            edges.append(arr)
        return cls(task, labels, positive, data["has_proba"], tuple(calibrators), tuple(edges),
                   n_bins)


def _normal(value: float, se: float, z: float) -> tuple[float, float]:
    if not (math.isfinite(value) and math.isfinite(se)):
        return _NAN, _NAN
    return max(value - z * se, 0.0), min(value + z * se, 1.0)


def _json_label(label: Any) -> Any:
    if isinstance(label, np.generic):
        label = label.item()
    if isinstance(label, bool | int | str) or (isinstance(label, float) and math.isfinite(label)):
        return label
    raise InputError(f"class label {label!r} cannot be saved", expected="str, int, float or bool "
                     "class labels")


def _label_from_json(label: Any) -> Any:
    if isinstance(label, bool | int | str) or (isinstance(label, float) and math.isfinite(label)):
        if isinstance(label, str) and len(label) > 1000:
            raise InputError("a class label is longer than 1000 characters",
                             expected="short class labels")
        return label
    raise InputError(f"class label {label!r} in the saved state", expected="str, int, float or "
                     "bool class labels")


# ---- fitting -------------------------------------------------------------------------------------


def fit_cbpe(task: str, classes: tuple[Any, ...], positive: int | None, proba: np.ndarray | None,
             y: np.ndarray | None, auc: bool) -> tuple[CBPE, list[str]]:
    """The CBPE state and its notes from the reference outputs (and labels when given)."""
    k = len(classes)
    notes: list[str] = []
    has_proba = proba is not None
    if not has_proba:
        notes.append("CBPE: the model gives no probabilities, so performance is not estimated "
                     "without labels (realized performance only, once labels arrive).")
        return CBPE(task, classes, positive, False, (), (), 0), notes
    assert proba is not None
    proba = np.asarray(proba, dtype=np.float64)
    finite = np.isfinite(proba).all(axis=1)
    columns = [positive] if positive is not None else list(range(k))
    calibrators: list[tuple[np.ndarray, np.ndarray]] = []
    what = (f"the probability of the positive class {classes[positive]!r}" if positive is not None
            else f"the probabilities of the {k} classes (one-vs-rest)")
    are = "is" if positive is not None else "are"
    if y is None:
        notes.append(f"CBPE without a labelled reference: {what} {are} trusted as calibrated "
                     "(not checked); estimates are off by as much as they are miscalibrated.")
    else:
        truth = class_index(y, classes)
        labelled = finite & ~pd.isna(pd.Series(np.asarray(y, dtype=object))).to_numpy()
        idx = truth[labelled]
        scores = proba[labelled]
        events = [int(np.sum(idx == c)) for c in columns]
        non_events = [int(labelled.sum()) - e for e in events]
        if labelled.sum() < MIN_CALIBRATION_ROWS or min(events + non_events) < \
                MIN_CALIBRATION_EVENTS:
            notes.append(
                f"CBPE: the labelled reference ({int(labelled.sum())} rows) is too small to check "
                f"the calibration of {what} (at least {MIN_CALIBRATION_ROWS} rows and "
                f"{MIN_CALIBRATION_EVENTS} of each outcome are needed): {what} {are} trusted as "
                "calibrated.")
        else:
            pvalues = [calibration_test(np.clip(scores[:, c], 0, 1), (idx == c).astype(float))[1]
                       for c in columns]
            p_min = min(1.0, min(pvalues) * len(columns))
            test = (f"chi-square over {CALIBRATION_BINS} equal-count bins of the score, df = "
                    f"{CALIBRATION_BINS}" + (f", Bonferroni over {k} classes" if k > 2 and
                                              positive is None else "") + f", p = {p_min:.3g}")
            if p_min >= CALIBRATION_LEVEL:
                notes.append(f"CBPE: {what} {are} calibrated on the labelled reference ({test} >= "
                             f"{CALIBRATION_LEVEL}): used as they are.")
            else:
                for c in columns:
                    calibrators.append(fit_isotonic(scores[:, c], (idx == c).astype(float)))
                notes.append(
                    f"CBPE: {what} {are} not calibrated on the labelled reference ({test} < "
                    f"{CALIBRATION_LEVEL}): probabilities calibrated with isotonic regression "
                    f"fitted on the {int(labelled.sum())} reference rows"
                    + ("" if positive is not None else ", one-vs-rest then renormalised")
                    + "; estimates use the calibrated probabilities.")
    edges: list[np.ndarray] = []
    n_bins = 0
    if auc:
        n_bins = N_BINS if positive is not None else max(min(N_BINS, MAX_BIN_VALUES // k), 2)
        edges = [make_edges(proba[finite, c], n_bins) for c in columns]
        notes.append(
            f"CBPE ROC-AUC: {n_bins} bins of the raw score (reference quantiles with a uniform "
            "grid); pairs within a bin count as ties, so each binned AUC is within half the share "
            "of (positive, negative) pairs sharing a bin of the exact one (about "
            f"{0.5 / n_bins:.2g} when a window resembles the reference); intervals add that bound.")
    return CBPE(task, classes, positive, True, tuple(calibrators), tuple(edges), n_bins), notes
