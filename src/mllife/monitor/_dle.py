"""DLE: a regressor's MAE and RMSE estimated without labels by models of its errors.

Direct loss estimation (NannyML's DLE): on a labelled reference, two nuisance
models learn the regressor's loss per row from its inputs and its
prediction, ``m1(x) ~ E[|y - yhat| | x]`` and ``m2(x) ~ E[(y - yhat)**2 |
x]``. A window's estimated MAE is the mean of ``m1`` over its rows, its RMSE
the root of the mean of ``m2``: right as long as the errors given the inputs
are what they were on the reference (covariate shift inside the reference's
range), wrong under concept shift, which realized performance catches once
labels arrive.

The nuisance models are scikit-learn ``GradientBoostingRegressor`` s
(:data:`N_TREES` trees of depth :data:`MAX_DEPTH`, fitted on at most
:data:`MAX_ROWS` reference rows, a seeded sample beyond) exported as arrays (each
tree's children, features, thresholds and leaf values: :class:`Forest`) and
predicted by a numpy traversal, so the state is JSON without pickle. Inputs
are encoded by :class:`Encoder`: numbers as they are (missing ones imputed
with the reference median), categories as ordinal codes (the
:data:`MAX_CATEGORIES` most frequent reference categories; other and unseen
categories share one code, missing values another), datetime columns left
out.

The interval of an estimate: the window's realized MAE is ``mean |e_i|``;
given the rows it varies around ``mean m1`` with variance ``sum Var(|e_i| |
x_i) / n**2``, taken as ``c_abs * sum m1(x_i)**2 / n**2`` (errors of one
scale family: for Gaussian errors ``c_abs = pi/2 - 1``), with ``c_abs``
measured on 5-fold out-of-fold predictions of the reference, which includes
the nuisance models' own noise. The nuisance's systematic error does not
average out within a window: its relative size ``b_abs`` adds ``b_abs**2 *
MAE**2``. It is measured on the reference: the out-of-fold bias per decile
of the regressor's prediction (less each decile's noise), the standard error
of the reference's mean loss (which the nuisance reproduces, so every
estimate is anchored to it) and of the overall out-of-fold bias. The same
for the squared error; the RMSE interval is the root of the MSE interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _metrics
from .._dtypes import is_bool, is_datetime, is_numeric
from .._errors import InputError
from ._perf_json import check_float, check_keys, finite_array
from ._sums import Sums

#: Trees and depth of each nuisance model ...
N_TREES = 60
MAX_DEPTH = 3
LEARNING_RATE = 0.15
MIN_SAMPLES_LEAF = 20
SUBSAMPLE = 0.5  # stochastic boosting: half the fitting time, a little regularisation
#: ... and the bounds a loaded model must respect.
MAX_TREES = 500
MAX_LOADED_DEPTH = 8
MAX_NODES = 2 ** (MAX_LOADED_DEPTH + 1) - 1
#: Input columns and categories per column an encoder keeps.
MAX_FEATURES = 1000
MAX_CATEGORIES = 200
#: Fewer labelled reference rows: no estimate. More: a seeded subsample of this many.
MIN_ROWS = 200
MAX_ROWS = 10_000
FOLDS = 3
DECILES = 10

SUPPORTED = _metrics.DLE_METRICS

_NAN = float("nan")


# ---- inputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoder:
    """The reference's encoding of the inputs into a float matrix (prediction last).

    ``kinds``: ``"number"`` (missing or infinite values become ``medians``)
    or ``"category"`` (codes ``0 .. len(categories) - 1`` by the saved
    categories, ``len(categories)`` for any other value, -1 when missing).
    A column absent from a batch is all missing.
    """

    columns: tuple[Any, ...]
    kinds: tuple[str, ...]
    medians: tuple[float, ...]
    categories: tuple[tuple[str, ...], ...]
    prediction_median: float

    @classmethod
    def fit(cls, X: pd.DataFrame, prediction: np.ndarray) -> tuple[Encoder, list[str]]:
        columns, kinds, medians, categories, skipped = [], [], [], [], []
        for name in X.columns[:MAX_FEATURES]:
            s = X[name]
            if not isinstance(name, str | int) or isinstance(name, bool) or is_datetime(s):
                skipped.append(name)
                continue
            if is_bool(s) or is_numeric(s):
                values = _numbers(s)
                finite = values[np.isfinite(values)]
                columns.append(name)
                kinds.append("number")
                medians.append(float(np.median(finite)) if finite.size else 0.0)
                categories.append(())
                continue
            text = s[s.notna()].astype(str)
            counts = text.value_counts(sort=False)
            order = pd.DataFrame({"value": counts.index.astype(str), "count": counts.to_numpy()})
            order = order.sort_values(["count", "value"], ascending=[False, True], kind="stable")
            columns.append(name)
            kinds.append("category")
            medians.append(0.0)
            categories.append(tuple(order["value"].head(MAX_CATEGORIES).tolist()))
        notes = []
        if len(X.columns) > MAX_FEATURES:
            notes.append(f"DLE uses the first {MAX_FEATURES} of the {len(X.columns)} inputs.")
        if skipped:
            notes.append(f"DLE leaves out {len(skipped)} datetime or unnamed input(s): "
                         f"{[str(c) for c in skipped[:10]]}.")
        pred = np.asarray(prediction, dtype=np.float64)
        finite = pred[np.isfinite(pred)]
        return cls(tuple(columns), tuple(kinds), tuple(medians), tuple(categories),
                   float(np.median(finite)) if finite.size else 0.0), notes

    @property
    def n_features(self) -> int:
        return len(self.columns) + 1

    def matrix(self, X: pd.DataFrame | None, prediction: np.ndarray) -> np.ndarray:
        """The ``(n, n_features)`` matrix of ``X``'s rows and the prediction."""
        pred = np.asarray(prediction, dtype=np.float64)
        n = len(pred)
        out = np.empty((n, self.n_features), dtype=np.float64)
        for j, (name, kind) in enumerate(zip(self.columns, self.kinds, strict=True)):
            present = X is not None and name in X.columns
            if kind == "number":
                values = _numbers(X[name]) if present and X is not None else np.full(n, np.nan)
                out[:, j] = np.where(np.isfinite(values), values, self.medians[j])
                continue
            codes = np.full(n, -1.0)
            if present and X is not None:
                s = X[name]
                known = s.notna().to_numpy()
                index = pd.Index(list(self.categories[j]), dtype=object)
                found = index.get_indexer(pd.Index(s[known].astype(str).to_numpy(dtype=object)))
                codes[known] = np.where(found >= 0, found, len(self.categories[j]))
            out[:, j] = codes
        out[:, -1] = np.where(np.isfinite(pred), pred, self.prediction_median)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "kinds": list(self.kinds),
                "medians": list(self.medians), "categories": [list(c) for c in self.categories],
                "prediction_median": self.prediction_median}

    @classmethod
    def from_dict(cls, data: Any) -> Encoder:
        check_keys(data, {"columns", "kinds", "medians", "categories", "prediction_median"},
                   "dle encoder")
        columns, kinds, medians, cats = (data[k] for k in ("columns", "kinds", "medians",
                                                           "categories"))
        if not all(isinstance(v, list) for v in (columns, kinds, medians, cats)):
            raise InputError("dle encoder fields are not lists", expected="lists")
        if len(columns) > MAX_FEATURES or not len(columns) == len(kinds) == len(medians) \
                == len(cats):
            raise InputError("dle encoder fields differ in length or are too long",
                             expected=f"as many kinds, medians and categories as columns (at "
                                      f"most {MAX_FEATURES})")
        for name in columns:
            if isinstance(name, bool) or not isinstance(name, str | int) or \
                    (isinstance(name, str) and len(name) > 1000):
                raise InputError(f"dle encoder column {name!r}", expected="a str or int name")
        if len(set(map(repr, columns))) != len(columns):
            raise InputError("dle encoder columns repeat", expected="distinct column names")
        if any(k not in ("number", "category") for k in kinds):
            raise InputError("dle encoder kinds", expected="'number' or 'category'")
        medians_arr = finite_array(medians, "dle encoder medians", MAX_FEATURES)
        categories = []
        for c in cats:
            if not isinstance(c, list) or len(c) > MAX_CATEGORIES or \
                    any(not isinstance(v, str) or len(v) > 1000 for v in c):
                raise InputError("dle encoder categories", expected=f"lists of at most "
                                 f"{MAX_CATEGORIES} strings")
            categories.append(tuple(c))
        return cls(tuple(columns), tuple(kinds), tuple(float(m) for m in medians_arr),
                   tuple(categories), check_float(data["prediction_median"],
                                                  "dle prediction_median"))


def _numbers(s: pd.Series) -> np.ndarray:
    values = pd.to_numeric(s, errors="coerce")
    return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)


# ---- trees ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forest:
    """A fitted gradient-boosted regressor as arrays: ``init + rate * sum of tree values``.

    The trees' nodes are concatenated: ``sizes[t]`` nodes for tree ``t``;
    ``left`` / ``right`` are indices within the tree (-1 at a leaf),
    ``feature`` the column compared at a split, ``threshold`` the split
    (``x <= threshold`` goes left, on ``x`` rounded to float32 as
    scikit-learn's trees do), ``value`` the leaf's output.
    """

    init: float
    rate: float
    n_features: int
    sizes: np.ndarray
    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    depths: np.ndarray

    @classmethod
    def from_sklearn(cls, model: Any, n_features: int) -> Forest:
        trees = [est.tree_ for est in np.asarray(model.estimators_).reshape(-1)]
        parts = {
            "left": [t.children_left for t in trees], "right": [t.children_right for t in trees],
            "feature": [t.feature for t in trees], "threshold": [t.threshold for t in trees],
            "value": [np.asarray(t.value).reshape(-1) for t in trees],
        }
        init = float(np.asarray(model.init_.constant_, dtype=np.float64).reshape(-1)[0])
        return cls.build(init, float(model.learning_rate), n_features,
                         [len(t.children_left) for t in trees],
                         *(np.concatenate(parts[k]) if trees else np.zeros(0)
                           for k in ("left", "right", "feature", "threshold", "value")))

    @classmethod
    def build(cls, init: float, rate: float, n_features: int, sizes: Any, left: Any, right: Any,
              feature: Any, threshold: Any, value: Any) -> Forest:
        """A forest from its arrays, validated: bounded, every path ends at a leaf."""
        sizes = np.asarray(sizes, dtype=np.int64)
        if sizes.ndim != 1 or len(sizes) > MAX_TREES or np.any(sizes < 1) or \
                np.any(sizes > MAX_NODES):
            raise InputError("a DLE forest has too many trees or tree sizes out of range",
                             expected=f"at most {MAX_TREES} trees of 1 to {MAX_NODES} nodes")
        total = int(sizes.sum())
        left, right, feature = (np.asarray(a, dtype=np.int64) for a in (left, right, feature))
        threshold, value = (np.asarray(a, dtype=np.float64) for a in (threshold, value))
        if any(a.shape != (total,) for a in (left, right, feature, threshold, value)):
            raise InputError("a DLE forest's node arrays differ in length from its tree sizes",
                             expected=f"{total} nodes in each array")
        if not (np.isfinite(threshold).all() and np.isfinite(value).all()):
            raise InputError("a DLE forest holds non-finite thresholds or values",
                             expected="finite numbers")
        local = np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        size = np.repeat(sizes, sizes)
        leaf = (left == -1) & (right == -1)
        split = (left > local) & (left < size) & (right > local) & (right < size)
        if not np.all(leaf | split):
            raise InputError("a DLE forest has a child index out of range or pointing backwards",
                             expected="children after their parent within the tree, or -1 for "
                                      "both at a leaf")
        if np.any(split & ((feature < 0) | (feature >= n_features))):
            raise InputError("a DLE forest splits on a feature out of range",
                             expected=f"features in [0, {n_features})")
        node_start = np.repeat(np.cumsum(sizes) - sizes, sizes)
        depth = np.zeros(total, dtype=np.int64)
        parents = np.flatnonzero(split)
        for _ in range(MAX_LOADED_DEPTH + 1):  # each pass settles one more level
            for child in (left, right):
                np.maximum.at(depth, node_start[parents] + child[parents], depth[parents] + 1)
        if depth.max(initial=0) > MAX_LOADED_DEPTH:
            raise InputError("a DLE forest has a tree deeper than allowed",
                             expected=f"depth at most {MAX_LOADED_DEPTH}")
        tree_of = np.repeat(np.arange(len(sizes)), sizes)
        depths = np.zeros(len(sizes), dtype=np.int64)
        np.maximum.at(depths, tree_of, depth)
        return cls(float(init), float(rate), int(n_features), sizes, left, right, feature,
                   threshold, value, depths)

    def predict(self, Z: np.ndarray) -> np.ndarray:
        """The forest's output on the rows of ``Z`` (loops over trees and levels, not rows)."""
        x = np.asarray(Z, dtype=np.float32).astype(np.float64)
        n = len(x)
        rows = np.arange(n)
        total = np.zeros(n)
        start = 0
        for size, depth in zip(self.sizes.tolist(), self.depths.tolist(), strict=True):
            node = np.zeros(n, dtype=np.int64)
            for _ in range(depth):
                at = start + node
                split = self.left[at] >= 0
                column = np.where(split, self.feature[at], 0)
                go_left = x[rows, column] <= self.threshold[at]
                node = np.where(split, np.where(go_left, self.left[at], self.right[at]), node)
            total += self.value[start + node]
            start += size
        return self.init + self.rate * total

    def to_dict(self) -> dict[str, Any]:
        return {"init": self.init, "rate": self.rate, "n_features": self.n_features,
                "sizes": self.sizes.tolist(), "left": self.left.tolist(),
                "right": self.right.tolist(), "feature": self.feature.tolist(),
                "threshold": self.threshold.tolist(), "value": self.value.tolist()}

    @classmethod
    def from_dict(cls, data: Any, n_features: int) -> Forest:
        keys = {"init", "rate", "n_features", "sizes", "left", "right", "feature", "threshold",
                "value"}
        check_keys(data, keys, "dle forest")
        if data["n_features"] != n_features:
            raise InputError(f"a DLE forest reads {data['n_features']!r} features",
                             expected=f"{n_features}, the encoder's columns and the prediction")
        limit = MAX_TREES * MAX_NODES
        arrays = [finite_array(data[k], f"dle forest {k}", limit, integer=True)
                  for k in ("sizes", "left", "right", "feature")]
        arrays += [finite_array(data[k], f"dle forest {k}", limit)
                   for k in ("threshold", "value")]
        return cls.build(check_float(data["init"], "dle forest init"),
                         check_float(data["rate"], "dle forest rate", 0.0, 10.0), n_features,
                         *arrays)


# ---- the estimator -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DLE:
    """The fitted regression side of a performance model (see the module docstring)."""

    encoder: Encoder
    abs_model: Forest
    sq_model: Forest
    c_abs: float
    c_sq: float
    b_abs: float
    b_sq: float

    def losses(self, prediction: np.ndarray, X: pd.DataFrame | None) -> tuple[np.ndarray,
                                                                              np.ndarray]:
        """Predicted ``|e|`` and ``e**2`` per row (clipped at 0)."""
        Z = self.encoder.matrix(X, prediction)
        return (np.clip(self.abs_model.predict(Z), 0.0, None),
                np.clip(self.sq_model.predict(Z), 0.0, None))

    def estimate_sums(self, prediction: np.ndarray, X: pd.DataFrame | None) -> Sums:
        pred = np.asarray(prediction, dtype=np.float64)
        valid = np.isfinite(pred)
        if X is not None and not valid.all():
            X = X.iloc[np.flatnonzero(valid)]
        m1, m2 = self.losses(pred[valid], X)
        return {"est_n": np.asarray(float(valid.sum())), "est_abs": np.asarray(m1.sum()),
                "est_sq": np.asarray(m2.sum()), "est_abs2": np.asarray(np.sum(m1 * m1)),
                "est_sq2": np.asarray(np.sum(m2 * m2))}

    def estimate(self, sums: Mapping[str, np.ndarray], name: str,
                 z: float) -> tuple[float, float, float, float, int]:
        n = _total(sums, "est_n")
        if n <= 0:
            return _NAN, _NAN, _NAN, _NAN, 0
        if name == "mae":
            value = _total(sums, "est_abs") / n
            var = self.c_abs * _total(sums, "est_abs2") / n ** 2 + (self.b_abs * value) ** 2
            se = math.sqrt(max(var, 0.0))
            return value, max(value - z * se, 0.0), value + z * se, se, int(n)
        mse = _total(sums, "est_sq") / n
        var = self.c_sq * _total(sums, "est_sq2") / n ** 2 + (self.b_sq * mse) ** 2
        return _squared(name, mse, math.sqrt(max(var, 0.0)), z, int(n))

    def to_dict(self) -> dict[str, Any]:
        return {"encoder": self.encoder.to_dict(), "abs_model": self.abs_model.to_dict(),
                "sq_model": self.sq_model.to_dict(), "c_abs": self.c_abs, "c_sq": self.c_sq,
                "b_abs": self.b_abs, "b_sq": self.b_sq}

    @classmethod
    def from_dict(cls, data: Any) -> DLE:
        check_keys(data, {"encoder", "abs_model", "sq_model", "c_abs", "c_sq", "b_abs", "b_sq"},
                   "dle")
        encoder = Encoder.from_dict(data["encoder"])
        return cls(encoder, Forest.from_dict(data["abs_model"], encoder.n_features),
                   Forest.from_dict(data["sq_model"], encoder.n_features),
                   *(check_float(data[k], f"dle {k}", 0.0, 1e6)
                     for k in ("c_abs", "c_sq", "b_abs", "b_sq")))


def _total(sums: Mapping[str, np.ndarray], key: str) -> float:
    return float(np.asarray(sums.get(key, 0.0), dtype=np.float64).reshape(-1).sum())


def _squared(name: str, mse: float, se: float, z: float,
             n: int) -> tuple[float, float, float, float, int]:
    """MSE or RMSE ``(value, low, high, se, n)`` from the MSE and its se (RMSE: roots)."""
    low, high = max(mse - z * se, 0.0), mse + z * se
    if name == "mse":
        return mse, low, high, se, n
    rmse = math.sqrt(mse)
    return rmse, math.sqrt(low), math.sqrt(high), se / (2 * rmse) if rmse > 0 else _NAN, n


# ---- realized regression performance -------------------------------------------------------------


def realized_sums(prediction: np.ndarray, y: np.ndarray) -> Sums:
    pred = np.asarray(prediction, dtype=np.float64)
    truth = pd.to_numeric(pd.Series(np.asarray(y, dtype=object)), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan)
    err = truth - pred
    err = err[np.isfinite(err)]
    sq = err * err
    return {"real_n": np.asarray(float(len(err))), "real_abs": np.asarray(np.abs(err).sum()),
            "real_sq": np.asarray(sq.sum()), "real_quad": np.asarray(np.sum(sq * sq))}


def realized(sums: Mapping[str, np.ndarray], name: str,
             z: float) -> tuple[float, float, float, float, int]:
    """Realized MAE / RMSE / MSE, normal intervals (sample variances of ``|e|``, ``e**2``)."""
    n = _total(sums, "real_n")
    if n <= 0:
        return _NAN, _NAN, _NAN, _NAN, 0
    sq = _total(sums, "real_sq")
    if name == "mae":
        value = _total(sums, "real_abs") / n
        se = math.sqrt(max(sq - n * value * value, 0.0) / (n - 1) / n) if n > 1 else _NAN
        if not math.isfinite(se):
            return value, _NAN, _NAN, se, int(n)
        return value, max(value - z * se, 0.0), value + z * se, se, int(n)
    mse = sq / n
    se = math.sqrt(max(_total(sums, "real_quad") - n * mse * mse, 0.0) / (n - 1) / n) \
        if n > 1 else _NAN
    if not math.isfinite(se):
        value = mse if name == "mse" else math.sqrt(mse)
        return value, _NAN, _NAN, _NAN, int(n)
    return _squared(name, mse, se, z, int(n))


# ---- fitting -------------------------------------------------------------------------------------


def _relative_error(target: np.ndarray, fitted: np.ndarray,
                    prediction: np.ndarray) -> tuple[float, float]:
    """``(c, b)``: the relative per-row variance and the relative systematic error of ``fitted``.

    ``fitted``: out-of-fold predictions of ``target``. ``c = sum (t - m)**2 /
    sum m**2``. ``b**2`` = the mean over deciles of the regressor's
    ``prediction`` of ``r_d**2 - s_d**2`` (``r_d`` the decile's relative bias,
    ``s_d**2`` its noise: an unbiased estimate of the squared bias; deciles of
    the prediction rather than of ``m``, whose own noise would bias them),
    floored at 0; plus the squared relative standard error of the reference's
    mean loss (the nuisance reproduces that mean, so a window's estimate is
    anchored to it) and of the overall out-of-fold bias (the nuisance's own
    fitting error).
    """
    resid = target - fitted
    scale = float(np.sum(fitted * fitted))
    c = float(np.sum(resid * resid) / scale) if scale > 0 else 0.0
    total = float(fitted.sum())
    if total <= 0:
        return c, 0.0
    n = len(fitted)
    order = np.argsort(prediction, kind="stable")
    decile = np.empty(n, dtype=np.int64)
    decile[order] = (np.arange(n) * DECILES) // n
    mass = np.bincount(decile, fitted, DECILES)
    bias = np.bincount(decile, resid, DECILES)
    noise = np.bincount(decile, resid * resid, DECILES)
    ok = mass > 0
    local = max(float(np.mean((bias[ok] / mass[ok]) ** 2 - noise[ok] / mass[ok] ** 2)), 0.0) \
        if ok.any() else 0.0
    anchor = float(np.var(target)) / (n * float(np.mean(target)) ** 2) \
        if float(np.mean(target)) > 0 else 0.0
    return c, math.sqrt(local + anchor + float(np.sum(resid * resid)) / total ** 2)


def fit_dle(prediction: np.ndarray, X: pd.DataFrame | None, y: np.ndarray | None,
            seed: int) -> tuple[DLE | None, list[str]]:
    """The DLE state and its notes; ``None`` without labels or with too few labelled rows."""
    if y is None:
        return None, ["DLE needs a labelled reference to learn the regressor's errors: no "
                      "regression estimate without labels (realized performance only, once "
                      "labels arrive)."]
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.model_selection import KFold

    pred = np.asarray(prediction, dtype=np.float64)
    truth = pd.to_numeric(pd.Series(np.asarray(y, dtype=object)), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan)
    rows = np.flatnonzero(np.isfinite(truth) & np.isfinite(pred))
    if len(rows) < MIN_ROWS:
        return None, [f"DLE: the labelled reference has {len(rows)} usable rows, fewer than "
                      f"{MIN_ROWS}: no regression estimate without labels."]
    notes = []
    rng = np.random.default_rng(seed)
    if len(rows) > MAX_ROWS:
        rows = np.sort(rng.choice(rows, MAX_ROWS, replace=False))
        notes.append(f"DLE nuisance models fitted on a seeded sample of {MAX_ROWS} reference rows.")
    frame = X.iloc[rows] if X is not None else pd.DataFrame(index=range(len(rows)))
    encoder, more = Encoder.fit(frame, pred[rows])
    notes = more + notes
    Z = encoder.matrix(frame, pred[rows])
    err = truth[rows] - pred[rows]
    targets = (np.abs(err), err * err)

    def model() -> GradientBoostingRegressor:
        return GradientBoostingRegressor(n_estimators=N_TREES, max_depth=MAX_DEPTH,
                                         learning_rate=LEARNING_RATE,
                                         min_samples_leaf=MIN_SAMPLES_LEAF, subsample=SUBSAMPLE,
                                         random_state=seed)

    forests = []
    errors = []
    folds = list(KFold(FOLDS, shuffle=True, random_state=seed).split(Z))
    for target in targets:
        fitted = np.empty(len(target))
        for train, test in folds:
            fitted[test] = np.clip(model().fit(Z[train], target[train]).predict(Z[test]), 0, None)
        errors.append(_relative_error(target, fitted, pred[rows]))
        forests.append(Forest.from_sklearn(model().fit(Z, target), encoder.n_features))
    (c_abs, b_abs), (c_sq, b_sq) = errors
    n_num = sum(k == "number" for k in encoder.kinds)
    notes.append(
        f"DLE: two nuisance models (gradient boosting, {N_TREES} trees of depth {MAX_DEPTH} on "
        f"{SUBSAMPLE:.0%} subsamples, saved as arrays) predict |y - prediction| and (y - prediction)^2 from "
        f"{len(encoder.columns)} input(s) ({n_num} numeric: missing values imputed with the "
        f"reference medians; {len(encoder.columns) - n_num} categorical: ordinal codes of the "
        f"{MAX_CATEGORIES} most frequent categories, other and unseen ones share a code) and the "
        f"prediction, fitted on {len(rows)} labelled reference rows. Estimated MAE is the mean "
        "predicted |e|, RMSE the root of the mean predicted e^2. Intervals: per-row variance "
        f"c * m(x)^2 (c = {c_abs:.3g} for |e|, {c_sq:.3g} for e^2) and the nuisance models' "
        f"relative error (b = {b_abs:.3g} for |e|, {b_sq:.3g} for e^2: {FOLDS}-fold "
        "out-of-fold bias and the standard error of the reference's mean loss), both measured "
        "on the reference. Valid under covariate shift within the "
        "reference's range; concept shift shows in realized performance only.")
    return DLE(encoder, forests[0], forests[1], c_abs, c_sq, b_abs, b_sq), notes
