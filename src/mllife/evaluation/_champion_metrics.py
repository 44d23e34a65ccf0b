"""The metrics :func:`compare_champion` supports: point estimates and bootstrap plans.

The point estimate of each metric is :mod:`mllife._metrics`'s, the value
:func:`~mllife.evaluate` and :func:`~mllife.compare_models` give too (macro
label metrics over the labels found in ``y`` or the predictions, an undefined
precision or recall counted as 0).

For the bootstrap each metric of each model becomes a
:class:`~._stats_champion.Plan`: per-row columns whose weighted sums give the
metric (accuracy is the mean of a 0/1 column, R² needs three sums), or a
ranking computation (ROC-AUC, average precision). With bootstrap counts a plan
gives every resample at once, with the same label-set rule applied to each
resample; with unit weights it gives the point estimate (the tests hold the
two equal).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .. import _metrics
from .._errors import InputError, NotFittedError
from ._stats_champion import Plan, RankedScores, Weights

#: Metric -> (what it needs from the model, higher is better), for every metric of the
#: vocabulary (:data:`mllife._metrics.METRICS`: each has a bootstrap plan here).
#: ``label``: ``predict``; ``proba``: ``predict_proba``; ``score``: a
#: ranking score (``predict_proba`` or ``decision_function``); ``value``:
#: ``predict`` of a regressor.
METRICS: Mapping[str, tuple[str, bool]] = MappingProxyType({
    name: (m.needs, m.higher_is_better) for name, m in _metrics.METRICS.items()
})


def is_regression(metric: str) -> bool:
    return METRICS[metric][0] == "value"


#: Metrics whose uncertainty is driven by the smallest class rather than by all rows.
_CLASS_EVENTS = frozenset(name for name, m in _metrics.METRICS.items() if m.events == "class")

#: The fewest events (see :func:`events`) at which each metric's interval and test hold
#: their level in the calibration simulations (tests/calibration/test_champion*.py and
#: docs/champion.md, "Small test sets"). Below it compare_champion keeps the champion.
#: The vocabulary's ``min_events``.
MIN_EVENTS: Mapping[str, int] = MappingProxyType({
    name: m.min_events for name, m in _metrics.METRICS.items()})


#: Squared-error metrics: on top of :data:`MIN_EVENTS`, they need rows in proportion to the
#: tail of the challenger's errors (see :func:`tail_min_rows`).
SQUARED_ERROR = frozenset(name for name, m in _metrics.METRICS.items() if m.squared)

#: ``n >= TAIL_ROWS_FACTOR * (kurtosis - 1) ** TAIL_ROWS_POWER``: the rows a squared-error
#: comparison needs when the challenger's errors have sample kurtosis ``kurtosis``
#: (Pearson's, 3 for Gaussian errors). Fitted on the null simulations of docs/champion.md
#: ("Heavy-tailed errors"); the power 5 keeps errors without a finite fourth moment (t3,
#: whose sample kurtosis grows like n ** (1/3)) refused as the test set grows.
TAIL_ROWS_FACTOR = 2.0
TAIL_ROWS_POWER = 5


def error_kurtosis(target: Target, pred: Predictions) -> float:
    """Pearson's sample kurtosis of a regressor's errors, ``m4 / m2**2`` about their mean.

    3 for Gaussian errors, larger for heavier tails, at most about ``n``. Errors
    that do not vary (a constant offset) have no tail: 1, the smallest kurtosis.
    """
    assert pred.labels is not None
    err = np.asarray(pred.labels, dtype=float) - np.asarray(target.values, dtype=float)
    u = err - err.mean()
    m2 = float(np.mean(u * u))
    scale = max(float(np.mean(err * err)), float(np.finfo(float).tiny))
    if m2 <= 1e-24 * scale:
        return 1.0
    return float(np.mean(u ** 4) / (m2 * m2))


def tail_min_rows(kurtosis: float) -> int:
    """Rows a squared-error comparison needs at this error kurtosis.

    ``ceil(TAIL_ROWS_FACTOR * (kurtosis - 1) ** TAIL_ROWS_POWER)``: 64 rows
    at kurtosis 3 (Gaussian errors), 195 at 3.5, 486 at 4, 2,048 at 5 and
    6,250 at 6 (Laplace errors).

    >>> tail_min_rows(3.0), tail_min_rows(4.0), tail_min_rows(6.0)
    (64, 486, 6250)
    """
    return math.ceil(TAIL_ROWS_FACTOR * max(kurtosis - 1.0, 0.0) ** TAIL_ROWS_POWER)


def events(metric: str, target: Target) -> tuple[int, str]:
    """How many events ``metric`` has on ``target``, and what they are.

    Class-based metrics (ROC-AUC, PR-AUC, precision, recall, F1, specificity,
    balanced accuracy) count the rows of the smallest class of ``y`` (binary: the
    fewer of positives and negatives); the others count rows.
    """
    if metric in _CLASS_EVENTS and target.classes is not None:
        if target.binary:
            pos = int(np.count_nonzero(target.positive))
            if pos <= target.n - pos:
                return pos, "positive rows"
            return target.n - pos, "negative rows"
        _, counts = np.unique(pd.factorize(target.values)[0], return_counts=True)
        return int(counts.min()), "rows in the smallest class"
    return target.n, "rows"


@dataclass(frozen=True)
class Target:
    """The validated target: labels, their classes and the positive class."""

    values: np.ndarray            # object/number array, no missing values
    classes: np.ndarray | None    # sorted classes (classification)
    positive_label: Any = None    # binary only
    centered: np.ndarray | None = None  # regression: y minus its mean

    @property
    def n(self) -> int:
        return int(self.values.shape[0])

    @property
    def binary(self) -> bool:
        """Binary scores (about ``positive_label``); else macro averages over the labels."""
        return self.positive_label is not None

    @property
    def positive(self) -> np.ndarray:
        return np.asarray(self.values == self.positive_label, dtype=bool)


@dataclass(frozen=True)
class Predictions:
    """What one model predicted, each method called at most once."""

    name: str                         # "champion" / "challenger"
    labels: np.ndarray | None = None  # predict
    proba: np.ndarray | None = None   # predict_proba, columns in `classes` order
    classes: np.ndarray | None = None
    #: Ranking scores: the positive class's (binary, 1-D), or one column per class of
    #: the target, in ``Target.classes`` order (multiclass, 2-D).
    score: np.ndarray | None = None


def _call(model: Any, method: str, X: Any, name: str) -> np.ndarray:
    from sklearn.exceptions import NotFittedError as SkNotFitted

    try:
        out = getattr(model, method)(X)
    except SkNotFitted as exc:
        raise NotFittedError(f"the {name} is not fitted: {exc}") from None
    if isinstance(out, pd.DataFrame | pd.Series):
        out = out.to_numpy()
    return np.asarray(out)


def _check_predictions(values: np.ndarray, n: int, name: str, method: str) -> None:
    if values.shape[0] != n:
        raise InputError(f"the {name}'s {method} returned {values.shape[0]} rows for {n} rows of X",
                         expected="one prediction per row")
    if values.dtype.kind in "fc" or values.dtype == object:
        missing = pd.isna(values.reshape(n, -1)).any(axis=1) if values.dtype == object \
            else ~np.isfinite(values.reshape(n, -1)).all(axis=1)
        n_bad = int(np.count_nonzero(missing))
        if n_bad:
            raise InputError(f"the {name}'s {method} returned NaN or infinite values",
                             n_rows=n_bad, expected="finite predictions for every row")


def predict(model: Any, X: Any, name: str, needs: set[str], target: Target) -> Predictions:
    """Call ``predict``/``predict_proba``/``decision_function`` once each as needed."""
    n = target.n
    labels = proba = classes = score = None
    if needs & {"label", "value"}:
        if not hasattr(model, "predict"):
            raise InputError(f"the {name} ({type(model).__name__}) has no predict method",
                             expected="a fitted scikit-learn estimator")
        labels = _call(model, "predict", X, name)
        if labels.ndim == 2 and labels.shape[1] == 1:
            labels = labels[:, 0]
        if labels.ndim != 1:
            raise InputError(f"the {name}'s predict returned shape {labels.shape}",
                             expected="one value per row")
        _check_predictions(labels, n, name, "predict")
        if "value" in needs:
            if labels.dtype.kind not in "iufb":
                raise InputError(f"the {name}'s predict returned {labels.dtype} values",
                                 expected="numbers for a regression metric")
            labels = labels.astype(float)
    wants_proba = "proba" in needs or ("score" in needs and hasattr(model, "predict_proba"))
    if wants_proba:
        if not hasattr(model, "predict_proba"):
            raise InputError(
                f"the {name} ({type(model).__name__}) has no predict_proba, which "
                "probability metrics need", expected="a classifier with predict_proba "
                "(wrap it in CalibratedClassifierCV), or a label metric such as accuracy")
        proba = _call(model, "predict_proba", X, name).astype(float)
        if proba.ndim != 2:
            raise InputError(f"the {name}'s predict_proba returned shape {proba.shape}",
                             expected="one row of class probabilities per row")
        _check_predictions(proba, n, name, "predict_proba")
        classes = _model_classes(model, proba.shape[1], target, name)
    if "score" in needs:
        multiclass = target.classes is not None and not target.binary
        if proba is not None and classes is not None:
            if multiclass:
                score = proba[:, pd.Index(classes).get_indexer(target.classes)]
            else:
                score = proba[:, _class_index(classes, target.positive_label, name)]
        elif hasattr(model, "decision_function"):
            raw = _call(model, "decision_function", X, name).astype(float)
            model_classes = np.asarray(getattr(model, "classes_", target.classes))
            if multiclass:
                if raw.ndim != 2 or raw.shape[1] != model_classes.size:
                    raise InputError(
                        f"the {name}'s decision_function returned shape {raw.shape}",
                        expected=f"one score per class ({model_classes.size} columns, "
                        "decision_function_shape='ovr')")
                _check_predictions(raw, n, name, "decision_function")
                _model_classes(model, raw.shape[1], target, name)
                score = raw[:, pd.Index(model_classes).get_indexer(target.classes)]
            else:
                if raw.ndim != 1:
                    raise InputError(f"the {name}'s decision_function returned shape {raw.shape}",
                                     expected="one score per row (a binary classifier)")
                _check_predictions(raw, n, name, "decision_function")
                # scikit-learn's decision_function scores the second class.
                score = raw if model_classes[-1] == target.positive_label else -raw
        else:
            raise InputError(
                f"the {name} ({type(model).__name__}) has neither predict_proba nor "
                "decision_function, which ranking metrics need",
                expected="a classifier that scores its predictions")
    return Predictions(name, labels, proba, classes, score)


def _model_classes(model: Any, k: int, target: Target, name: str) -> np.ndarray:
    found = getattr(model, "classes_", None)
    classes = np.asarray(target.classes if found is None else found)
    if classes.ndim != 1 or classes.shape[0] != k:
        raise InputError(f"the {name}'s predict_proba has {k} columns but it knows "
                         f"{classes.size} classes",
                         expected="one probability column per class in classes_")
    unseen = pd.Index(target.classes).difference(pd.Index(classes))
    if len(unseen):
        raise InputError(
            f"y holds label(s) {', '.join(map(repr, unseen.tolist()[:5]))} that the {name} "
            "never saw in training", n_rows=int(pd.Series(target.values).isin(unseen).sum()),
            expected=f"labels among its classes_ {classes.tolist()}")
    return classes


def _class_index(classes: np.ndarray, label: Any, name: str) -> int:
    hits = np.flatnonzero(classes == label)
    if hits.size == 0:
        raise InputError(f"the positive class {label!r} is not among the {name}'s classes_",
                         expected=f"one of {classes.tolist()}")
    return int(hits[0])


# ---- plans ------------------------------------------------------------------------


def _safe_div(num: np.ndarray, den: np.ndarray, empty: float) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), empty)


def _label_plan(metric: str, target: Target, pred: Predictions, n: int) -> Plan:
    assert pred.labels is not None
    y, p = target.values, pred.labels
    codes, uniques = pd.factorize(np.concatenate([y.astype(object), p.astype(object)]))
    yc, pc = codes[:n], codes[n:]
    correct = (yc == pc).astype(float)
    if metric == "accuracy":
        return Plan(correct[:, None], lambda s: s[:, 0] / n)
    if metric == "balanced_accuracy":
        true_codes = np.unique(yc)
        is_c = (yc[:, None] == true_codes[None, :]).astype(float)
        cols = np.hstack([is_c, is_c * correct[:, None]])
        k = true_codes.size

        def combine(s: np.ndarray) -> np.ndarray:
            support = s[:, :k]
            rec = _safe_div(s[:, k:], support, np.nan)
            with np.errstate(invalid="ignore"):
                return np.nanmean(np.where(support > 0, rec, np.nan), axis=1)

        return Plan(cols, combine)
    if metric == "specificity":   # binary only: the recall of the negative rows
        pos_code = int(np.flatnonzero(np.asarray(uniques, dtype=object) == target.positive_label)[0])
        negative = (yc != pos_code).astype(float)
        kept = negative * (pc != pos_code)
        return Plan(np.column_stack([kept, negative]),
                    lambda s: _safe_div(s[:, 0], s[:, 1], np.nan))
    if target.binary:
        pos_code = int(np.flatnonzero(np.asarray(uniques, dtype=object) == target.positive_label)[0])
        labels_c = np.array([pos_code])
    else:
        labels_c = np.arange(len(uniques))   # macro average over every label seen
    tp = ((yc[:, None] == labels_c) & (pc[:, None] == labels_c)).astype(float)
    pp = (pc[:, None] == labels_c).astype(float)
    ap = (yc[:, None] == labels_c).astype(float)
    k = labels_c.size
    cols = np.hstack([tp, pp, ap])

    def combine_prf(s: np.ndarray) -> np.ndarray:
        t, pp_, ap_ = s[:, :k], s[:, k:2 * k], s[:, 2 * k:]
        if metric == "precision":
            value = _safe_div(t, pp_, 0.0)
        elif metric == "recall":
            value = _safe_div(t, ap_, 0.0 if k > 1 else np.nan)
        else:
            value = _safe_div(2 * t, pp_ + ap_, 0.0)
        if k == 1:
            return value[:, 0]
        present = (pp_ + ap_) > 0     # a label absent from a resample is not averaged
        with np.errstate(invalid="ignore"):
            return np.nanmean(np.where(present, value, np.nan), axis=1)

    return Plan(cols, combine_prf)


def _proba_plan(metric: str, target: Target, pred: Predictions, n: int) -> Plan:
    assert pred.proba is not None
    assert pred.classes is not None
    proba = pred.proba
    if metric == "brier" and not target.binary:
        # The multiclass Brier score: squared distance to the one-hot truth, summed over
        # the model's classes (scikit-learn >= 1.7's brier_score_loss on several classes).
        onehot = np.asarray(target.values[:, None] == pred.classes[None, :], dtype=float)
        sq = ((proba - onehot) ** 2).sum(axis=1)
        return Plan(sq[:, None], lambda s: s[:, 0] / n)
    if metric == "brier":
        p_pos = proba[:, _class_index(pred.classes, target.positive_label, pred.name)]
        sq = (p_pos - target.positive.astype(float)) ** 2
        return Plan(sq[:, None], lambda s: s[:, 0] / n)
    if metric == "ece":
        return _ece_plan(target, pred, n)
    # log loss, as scikit-learn: rows renormalised, clipped to [eps, 1 - eps].
    rows = proba / proba.sum(axis=1, keepdims=True)
    eps = np.finfo(rows.dtype).eps
    col = pd.Index(pred.classes).get_indexer(target.values)
    p_true = np.clip(rows[np.arange(n), col], eps, 1 - eps)
    return Plan(-np.log(p_true)[:, None], lambda s: s[:, 0] / n)


def _ece_plan(target: Target, pred: Predictions, n: int) -> Plan:
    """ECE as per-row columns: the signed gap of each row in its probability bin.

    Binary: of the positive class's probability; multiclass: of the top-class
    confidence (as :func:`mllife._metrics.probability_scores`). The weighted
    sum of each bin's column is that bin's ``observed - predicted`` count; the
    ECE is the sum of their absolute values over the total weight.
    """
    assert pred.proba is not None
    assert pred.classes is not None
    proba = pred.proba
    if target.binary:
        prob = proba[:, _class_index(pred.classes, target.positive_label, pred.name)]
        outcome = target.positive.astype(float)
    else:
        top = proba.argmax(axis=1)
        prob = proba[np.arange(n), top]
        outcome = np.asarray(pred.classes[top] == target.values, dtype=float)
    bins = _metrics.CALIBRATION_BINS
    in_bin = _metrics.bin_ids(prob, bins)[:, None] == np.arange(bins)[None, :]
    cols = np.column_stack([in_bin * (outcome - prob)[:, None], np.ones(n)])
    return Plan(cols, lambda s: np.abs(s[:, :bins]).sum(axis=1) / s[:, bins])


def _rank_plan(metric: str, target: Target, pred: Predictions) -> Plan:
    assert pred.score is not None
    if pred.score.ndim == 1:
        ranked = RankedScores(target.positive, pred.score)
        return Plan(None, None, ranked.roc_auc if metric == "roc_auc" else ranked.average_precision)
    # Multiclass: the unweighted (macro) mean of the one-vs-rest scores of every class of y,
    # as roc_auc_score(multi_class="ovr") and average_precision_score(average="macro").
    # A resample without some class has no one-vs-rest score for it and is NaN.
    assert target.classes is not None
    per_class = [RankedScores(target.values == label, pred.score[:, k], group=("ovr", k))
                 for k, label in enumerate(target.classes)]

    def macro(w: Weights) -> np.ndarray:
        values = [r.roc_auc(w) if metric == "roc_auc" else r.average_precision(w) for r in per_class]
        return np.mean(values, axis=0)

    return Plan(None, None, macro)


def _value_plan(metric: str, target: Target, pred: Predictions, n: int) -> Plan:
    assert pred.labels is not None
    assert target.centered is not None
    err = pred.labels - target.values.astype(float)
    if metric == "mae":
        return Plan(np.abs(err)[:, None], lambda s: s[:, 0] / n)
    if metric == "mse":
        return Plan((err ** 2)[:, None], lambda s: s[:, 0] / n)
    if metric == "rmse":
        return Plan((err ** 2)[:, None], lambda s: np.sqrt(s[:, 0] / n))
    if metric == "mape":   # the target has no zero (checked by compare_champion)
        ape = np.abs(err) / np.abs(target.values.astype(float))
        return Plan(ape[:, None], lambda s: s[:, 0] / n)
    yc = target.centered   # centred once: the total sum of squares is shift invariant
    # The weight total (last column) rather than n: the jackknife leaves rows out.
    cols = np.column_stack([err ** 2, yc, yc ** 2, np.ones(n)])

    def r2(s: np.ndarray) -> np.ndarray:
        sst = s[:, 2] - s[:, 1] ** 2 / s[:, 3]
        scale = max(float(np.max(s[:, 2])), 1e-300)
        return np.where(sst > 1e-12 * scale, 1.0 - s[:, 0] / np.where(sst > 0, sst, 1.0), np.nan)

    return Plan(cols, r2)


def point(metric: str, target: Target, pred: Predictions) -> float:
    """The metric on all rows, computed by :mod:`mllife._metrics`."""
    kind = METRICS[metric][0]
    binary = target.binary
    if kind == "value":
        assert pred.labels is not None
        values, _ = _metrics.regression_scores(target.values, pred.labels, names=(metric,))
    elif kind == "label":
        assert pred.labels is not None
        values, _ = _metrics.label_scores(target.values, pred.labels,
                                          positive_label=target.positive_label if binary else None,
                                          names=(metric,))
    elif kind == "proba":
        assert pred.proba is not None
        assert pred.classes is not None
        values, _ = _metrics.probability_scores(
            target.values, pred.proba, pred.classes,
            positive_label=target.positive_label if binary else None)
    else:
        assert pred.score is not None
        assert target.classes is not None
        if pred.score.ndim == 1:
            values, _ = _metrics.binary_ranking(target.positive, pred.score, target.positive_label,
                                                names=(metric,))
        else:  # the scores of the classes of y: the macro mean of the one-vs-rest scores
            values, _ = _metrics.multiclass_ranking(target.values, pred.score, target.classes,
                                                    probabilities=False)
    return float(values[metric])


def plan(metric: str, target: Target, pred: Predictions) -> Plan:
    """The plan computing ``metric`` for one model's predictions."""
    kind = METRICS[metric][0]
    n = target.n
    if kind == "label":
        return _label_plan(metric, target, pred, n)
    if kind == "proba":
        return _proba_plan(metric, target, pred, n)
    if kind == "score":
        return _rank_plan(metric, target, pred)
    return _value_plan(metric, target, pred, n)
