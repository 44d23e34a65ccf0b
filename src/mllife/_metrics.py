"""The one metric vocabulary: every metric's name, aliases, task, direction, needs and value.

:func:`~mllife.evaluate`, :func:`~mllife.compare_models`,
:func:`~mllife.compare_champion` and :class:`~mllife.SuccessCriteria` read their
metric names, aliases, tasks and directions here (:data:`METRICS`,
:func:`normalize_name`, :func:`lookup`), and compute their values here, so one
model gets one F1 whichever of them is asked, and a name one of them accepts
the others accept too, for the tasks where the metric is defined. No other
module keeps a table of metric names: the defaults per task
(:data:`DEFAULT_METRICS`, :data:`SUMMARY_METRICS`, :data:`DEFAULT_SCORING`) are
here as well.

Policies, decided once:

- **Names.** A name is normalised (case, spaces, hyphens and dots ignored,
  ``²`` read as ``2``) and then looked up among the canonical names, their
  aliases (``auc``, ``average_precision``, ``r_squared`` …) and the scikit-learn
  scorer names of the same metrics (``neg_log_loss``,
  ``neg_mean_absolute_error`` …), so ``"R²"``, ``"neg_root_mean_squared_error"``
  and ``"rmse"`` are one metric.
- **Label set.** Multiclass (macro) precision, recall and F1 average over the
  labels found in ``y_true`` or ``y_pred`` (sorted), scikit-learn's default
  ``labels``: a class of the model absent from both does not count, a label
  of ``y_true`` the model never saw does. Each value equals scikit-learn's
  direct call, e.g. ``precision_score(y_true, y_pred, average="macro")``.
  Binary scores are about the positive label; other labels count as negative.
- **Zero division.** A precision with no predicted row of a label, or a
  recall with no true row of it, is undefined: it counts as 0, the value of
  scikit-learn's default ``zero_division="warn"``, without the warning. The
  reason is returned next to the value (``undefined``), never printed.
- **No warnings.** scikit-learn's ``UndefinedMetricWarning`` and "y_pred
  contains classes not in y_true" are caught here and turned into reasons.
- **NaN with a reason** where a value would be a convention rather than a
  measurement: R² of a constant target, MAPE with a zero target, ROC-AUC with
  one class, log loss with labels the model does not know.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ._errors import InputError
from ._task import CLASSIFICATION as CLASSIFICATION_TASKS
from ._task import REGRESSION as REGRESSION_TASKS
from ._task import TASKS

#: The value an undefined precision or recall takes (scikit-learn's default).
ZERO_DIVISION = 0.0
ZERO_DIVISION_NOTE = "counted as 0 (scikit-learn's zero_division default)"
#: Bins of the reliability curve and of the ECE: equal-width on [0, 1].
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class Metric:
    """One metric: what it is called, where it applies, which way is better, what it needs.

    ``tasks``: the tasks it is defined for (``"forecast"`` is a regression).
    ``needs``: ``"label"`` (``predict`` of a classifier), ``"score"`` (a ranking
    score: ``predict_proba`` or ``decision_function``), ``"proba"``
    (``predict_proba``) or ``"value"`` (``predict`` of a regressor).
    ``bounds``: the range a threshold on it may take.
    ``scorer``: the scikit-learn scorer name that computes the same value.
    ``aliases``: other spellings, already normalised (see :func:`normalize_name`).
    ``min_events``: the fewest events at which :func:`~mllife.compare_champion`'s
    interval and test hold their level (calibration simulations:
    tests/calibration/ and docs/champion.md, "Small test sets"); ``events``
    says what an event is: ``"rows"``, or ``"class"`` (rows of the smallest
    class: the uncertainty of the metric is driven by it).
    ``squared``: a squared-error metric, whose minimum also grows with the tail
    of the errors (see ``evaluation._champion_metrics.tail_min_rows``).
    ``positive``: on a binary task the value is about the positive label (the
    other label counts as negative); on a multiclass task it is then a macro
    average over the labels (precision, recall, F1, ROC-AUC, PR-AUC) or taken
    over every class (Brier score, ECE).
    """

    name: str
    tasks: frozenset[str]
    higher_is_better: bool
    needs: str
    bounds: tuple[float | None, float | None]
    scorer: str | None = None
    aliases: tuple[str, ...] = ()
    min_events: int = 100
    events: str = "rows"
    squared: bool = False
    positive: bool = False

    @property
    def direction(self) -> str:
        """``"min"`` when a threshold is a minimum (higher is better), else ``"max"``."""
        return "min" if self.higher_is_better else "max"

    @property
    def needs_probabilities(self) -> bool:
        """True when only ``predict_proba`` gives the metric."""
        return self.needs == "proba"

    @property
    def needs_scores(self) -> bool:
        """True when it needs probabilities or ranking scores (not only ``predict``)."""
        return self.needs in ("proba", "score")

    @property
    def is_regression(self) -> bool:
        return self.needs == "value"


_CLS, _BIN, _REG = CLASSIFICATION_TASKS, frozenset({"binary"}), REGRESSION_TASKS
_UNIT = (0.0, 1.0)
_POSITIVE: tuple[float | None, float | None] = (0.0, None)

#: Every metric mllife computes, in report order.
METRICS: Mapping[str, Metric] = MappingProxyType({m.name: m for m in (
    Metric("accuracy", _CLS, True, "label", _UNIT, "accuracy", ("acc",), 30),
    Metric("balanced_accuracy", _CLS, True, "label", _UNIT, "balanced_accuracy",
           ("balanced_acc",), 10, "class"),
    Metric("precision", _CLS, True, "label", _UNIT, "precision", ("ppv",), 10, "class",
           positive=True),
    Metric("recall", _CLS, True, "label", _UNIT, "recall", ("tpr", "sensitivity"), 10, "class",
           positive=True),
    Metric("f1", _CLS, True, "label", _UNIT, "f1", ("f1_score",), 10, "class", positive=True),
    Metric("specificity", _BIN, True, "label", _UNIT, None, ("tnr",), 10, "class",
           positive=True),
    Metric("roc_auc", _CLS, True, "score", _UNIT, "roc_auc", ("auc", "rocauc", "auroc", "roc"),
           10, "class", positive=True),
    Metric("pr_auc", _CLS, True, "score", _UNIT, "average_precision", ("prauc", "auprc"),
           50, "class", positive=True),
    Metric("log_loss", _CLS, False, "proba", _POSITIVE, "neg_log_loss",
           ("logloss", "cross_entropy"), 100),
    Metric("brier", _CLS, False, "proba", _UNIT, "neg_brier_score",
           ("brier_score", "brier_score_loss"), 100, positive=True),
    Metric("ece", _CLS, False, "proba", _UNIT, None, ("expected_calibration_error",), 100,
           positive=True),
    Metric("mae", _REG, False, "value", _POSITIVE, "neg_mean_absolute_error",
           ("mean_absolute_error",), 30),
    Metric("rmse", _REG, False, "value", _POSITIVE, "neg_root_mean_squared_error",
           ("root_mean_squared_error",), 100, squared=True),
    Metric("mse", _REG, False, "value", _POSITIVE, "neg_mean_squared_error",
           ("mean_squared_error",), 100, squared=True),
    Metric("r2", _REG, True, "value", (None, 1.0), "r2", ("r_squared", "r2_score"), 100,
           squared=True),
    Metric("mape", _REG, False, "value", _POSITIVE, "neg_mean_absolute_percentage_error",
           ("mean_absolute_percentage_error",), 100),
)})

#: Every other spelling, normalised, mapped to the canonical name: the aliases of
#: :data:`METRICS` and their scikit-learn scorer names (``neg_log_loss`` is ``log_loss``).
ALIASES: Mapping[str, str] = MappingProxyType({
    **{m.scorer: m.name for m in METRICS.values() if m.scorer is not None and m.scorer != m.name},
    **{alias: m.name for m in METRICS.values() for alias in m.aliases},
})

#: scikit-learn scorer names that are not metrics of this vocabulary but that
#: :func:`~mllife.compare_models` computes with it: the macro averages, which are
#: the vocabulary's precision, recall and F1 of a multiclass task.
MACRO_SCORERS: Mapping[str, str] = MappingProxyType({
    "precision_macro": "precision", "recall_macro": "recall", "f1_macro": "f1",
})

#: scikit-learn scorer names outside the vocabulary whose values lie in [0, 1]
#: (or below 1), higher is better: a comparison flags a mean near 1 as suspicious.
BOUNDED_SCORERS: frozenset[str] = frozenset({"jaccard", "explained_variance"})

#: The metrics worth reporting for a task, most telling first (:class:`ProblemSpec`).
DEFAULT_METRICS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "binary": ("roc_auc", "pr_auc", "recall", "precision", "f1", "log_loss", "brier", "ece"),
    "multiclass": ("balanced_accuracy", "accuracy", "f1", "log_loss"),
    "regression": ("mae", "rmse", "r2", "mape"),
    "forecast": ("mae", "rmse", "mape"),
})

#: The metrics an evaluation report shows in its summary.
SUMMARY_METRICS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "binary": ("roc_auc", "pr_auc", "accuracy", "recall", "precision", "f1", "brier"),
    "multiclass": ("accuracy", "balanced_accuracy", "f1", "roc_auc", "log_loss"),
    "regression": ("mae", "rmse", "r2", "mape"),
    "forecast": ("mae", "rmse", "r2", "mape"),
})

#: ``compare_models``'s default scores per task, as scikit-learn scorer names (its
#: users' spelling); the first is the primary score (the table's sort key).
DEFAULT_SCORING: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "binary": ("roc_auc", "average_precision", "f1", "accuracy"),
    "multiclass": ("accuracy", "f1_macro", "balanced_accuracy"),
    "regression": ("neg_mean_absolute_error", "neg_root_mean_squared_error", "r2"),
    "forecast": ("neg_mean_absolute_error", "neg_root_mean_squared_error", "r2"),
})

#: scikit-learn scorer name -> (metric, average) computed by this module in
#: ``compare_models``: ``"binary"`` is about the positive label, ``"macro"``
#: averages over the label set.
SCORERS: Mapping[str, tuple[str, str | None]] = MappingProxyType({
    "accuracy": ("accuracy", None),
    "balanced_accuracy": ("balanced_accuracy", None),
    "precision": ("precision", "binary"), "recall": ("recall", "binary"), "f1": ("f1", "binary"),
    **{scorer: (name, "macro") for scorer, name in MACRO_SCORERS.items()},
    "roc_auc": ("roc_auc", "binary"), "average_precision": ("pr_auc", "binary"),
    "neg_log_loss": ("log_loss", None), "neg_brier_score": ("brier", "binary"),
    **{m.scorer: (m.name, None) for m in METRICS.values()
       if m.scorer is not None and m.needs == "value"},
})


def normalize_name(name: str) -> str:
    """The canonical spelling of a metric name (see :func:`mllife.problem.normalize_metric_name`).

    A name outside the vocabulary comes back normalised but otherwise unchanged.
    """
    text = name.strip().casefold().replace("²", "2")
    text = re.sub(r"[\s\-.]+", "_", text).strip("_")
    return ALIASES.get(text, text)


def lookup(name: Any) -> Metric | None:
    """The :class:`Metric` a name (any spelling) stands for, ``None`` outside the vocabulary."""
    if not isinstance(name, str):
        return None
    return METRICS.get(normalize_name(name))


def check_name(name: Any, *, task: str | None = None, what: str = "metric",
               where: str = "") -> Metric:
    """The :class:`Metric` of ``name``, or :class:`InputError` listing the names that fit.

    ``task``: the metric must be defined for it (the error says which tasks it
    is defined for). ``where`` ends the message (``" by compare_champion"``).
    """
    if not isinstance(name, str):
        raise InputError(f"{what} name {name!r} is not a string", expected="a metric name")
    metric = lookup(name)
    if metric is None:
        known = for_task(task) if task is not None else tuple(METRICS)
        raise InputError(f"{what} {name!r} is not known{where}",
                         expected=f"one of {', '.join(known)}")
    if task is not None and task not in metric.tasks:
        tasks = [t for t in TASKS if t in metric.tasks]
        raise InputError(
            f"{what} {name!r} does not apply to a {task} task (it is defined for "
            f"{', '.join(tasks)}){where}",
            expected=f"metrics of a {task} task: {', '.join(for_task(task))}")
    return metric


def for_task(task: str) -> tuple[str, ...]:
    """The metrics that apply to ``task``, in report order."""
    return tuple(name for name, m in METRICS.items() if task in m.tasks)


def higher_is_better(name: str) -> bool:
    return METRICS[name].higher_is_better


def is_bounded(name: str) -> bool:
    """True for a higher-is-better score that cannot exceed 1 (accuracy, ROC-AUC, R² …).

    ``name``: a canonical metric name or a scikit-learn scorer name.
    """
    metric = lookup(MACRO_SCORERS.get(name, name))
    if metric is not None:
        return metric.higher_is_better and metric.bounds[1] == 1.0
    return name in BOUNDED_SCORERS


# ---- warnings and labels ---------------------------------------------------------------


@contextmanager
def quiet() -> Iterator[None]:
    """Silence scikit-learn's undefined-metric warnings (and nothing else).

    The values these warnings are about come with a reason instead; a
    ``FutureWarning`` or ``DeprecationWarning`` still goes through.
    """
    from sklearn.exceptions import UndefinedMetricWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UndefinedMetricWarning)
        warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
        warnings.filterwarnings("ignore", message="No positive class found in y_true")
        warnings.filterwarnings("ignore", message="A single label was found in")
        yield


def label_set(y_true: Any, y_pred: Any) -> np.ndarray:
    """The labels found in ``y_true`` or ``y_pred``, sorted: scikit-learn's default ``labels``."""
    from sklearn.utils.multiclass import unique_labels

    try:
        return np.asarray(unique_labels(np.asarray(y_true), np.asarray(y_pred)))
    except (TypeError, ValueError):  # labels of mixed types: sorted by their text
        both = pd.unique(pd.Series(np.concatenate([np.asarray(y_true, dtype=object),
                                                   np.asarray(y_pred, dtype=object)])))
        return np.asarray(sorted(both, key=str), dtype=object)


def _listed(values: Any, limit: int = 10) -> str:
    items = [v.item() if isinstance(v, np.generic) else v for v in list(values)[:limit]]
    more = len(values) - limit
    return repr(items)[:-1] + (f", … {more} more]" if more > 0 else "]")


def _counts(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    codes = pd.Index(labels).get_indexer(pd.Index(values))
    return np.bincount(codes[codes >= 0], minlength=len(labels))


# ---- label metrics ------------------------------------------------------------------------


LABEL_METRICS = ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "specificity")
#: Label metrics that are a share of rows (a proportion's interval applies to them).
PROPORTION_METRICS = ("accuracy", "precision", "recall")
#: What a monitor estimates without labels: label metrics from expected confusion counts
#: and ROC-AUC from binned scores (CBPE, ``monitor/_cbpe.py``), losses by direct loss
#: estimation (DLE, ``monitor/_dle.py``).
CBPE_LABEL_METRICS = (*PROPORTION_METRICS, "f1")
CBPE_METRICS = (*CBPE_LABEL_METRICS, "roc_auc")
DLE_METRICS = ("mae", "rmse", "mse")


def label_scores(
    y_true: Any, y_pred: Any, *, positive_label: Any = None, names: tuple[str, ...] = LABEL_METRICS,
) -> tuple[dict[str, float], dict[str, str]]:
    """``(values, undefined)`` of the label metrics ``names``.

    ``positive_label=None``: precision, recall and F1 are macro averages over
    :func:`label_set` (``specificity`` is skipped). Otherwise they are about
    ``positive_label``, every other label counting as negative.
    """
    from sklearn import metrics as skm

    y = np.asarray(y_true)
    p = np.asarray(y_pred)
    values: dict[str, float] = {}
    undefined: dict[str, str] = {}
    with quiet():
        if "accuracy" in names:
            values["accuracy"] = float(skm.accuracy_score(y, p))
        if "balanced_accuracy" in names:
            values["balanced_accuracy"] = float(skm.balanced_accuracy_score(y, p))
            extra = pd.Index(pd.unique(pd.Series(p))).difference(pd.Index(pd.unique(pd.Series(y))),
                                                                 sort=False)
            if len(extra):
                n_true = pd.Series(y).nunique()
                undefined["balanced_accuracy"] = (
                    f"predicted label(s) {_listed(extra)} never occur in y_true: balanced accuracy "
                    f"is the mean recall of the {n_true} label(s) of y_true, those predictions "
                    "count as errors")
        prf = [n for n in ("precision", "recall", "f1", "specificity") if n in names]
        if not prf:
            return values, undefined
        if positive_label is None:
            labels = label_set(y, p)
            precision, recall, f1, _ = skm.precision_recall_fscore_support(
                y, p, labels=labels, average=None, zero_division=ZERO_DIVISION)
            macro = {"precision": precision, "recall": recall, "f1": f1}
            for name in prf:
                if name in macro:
                    values[name] = float(np.mean(macro[name]))
            n_pred, n_true = _counts(p, labels), _counts(y, labels)
            k = len(labels)
            if "precision" in names and (n_pred == 0).any():
                undefined["precision"] = (
                    f"label(s) {_listed(labels[n_pred == 0])} are never predicted: their precision "
                    f"is undefined, {ZERO_DIVISION_NOTE}, in the macro average over {k} labels")
            if "recall" in names and (n_true == 0).any():
                undefined["recall"] = (
                    f"label(s) {_listed(labels[n_true == 0])} never occur in y_true: their recall "
                    f"is undefined, {ZERO_DIVISION_NOTE}, in the macro average over {k} labels")
            return values, undefined
        yb = np.asarray(y == positive_label, dtype=bool)
        pb = np.asarray(p == positive_label, dtype=bool)
        if "precision" in names:
            values["precision"] = float(skm.precision_score(yb, pb, zero_division=ZERO_DIVISION))
            if not pb.any():
                undefined["precision"] = (f"the model predicts no {positive_label!r}: precision is "
                                          f"undefined, {ZERO_DIVISION_NOTE}")
        if "recall" in names:
            values["recall"] = float(skm.recall_score(yb, pb, zero_division=ZERO_DIVISION))
            if not yb.any():
                undefined["recall"] = (f"y_true has no {positive_label!r}: recall is undefined, "
                                       f"{ZERO_DIVISION_NOTE}")
        if "f1" in names:
            values["f1"] = float(skm.f1_score(yb, pb, zero_division=ZERO_DIVISION))
            if not (yb.any() or pb.any()):
                undefined["f1"] = (f"{positive_label!r} is neither in y_true nor predicted: F1 is "
                                   f"undefined, {ZERO_DIVISION_NOTE}")
        if "specificity" in names:
            values["specificity"] = float(skm.recall_score(~yb, ~pb, zero_division=ZERO_DIVISION))
            if yb.all():
                undefined["specificity"] = (f"y_true holds only {positive_label!r}: specificity is "
                                            f"undefined, {ZERO_DIVISION_NOTE}")
    return values, undefined


# ---- ranking and probability metrics ----------------------------------------------------------


def binary_ranking(y_positive: np.ndarray, score: np.ndarray, positive_label: Any,
                   names: tuple[str, ...] = ("roc_auc", "pr_auc")) -> tuple[dict[str, float], dict[str, str]]:
    """ROC-AUC and average precision of a 1-D score of the positive class."""
    from sklearn import metrics as skm

    values: dict[str, float] = dict.fromkeys(names, np.nan)
    undefined: dict[str, str] = {}
    truth = np.asarray(y_positive, dtype=bool)
    with quiet():
        if "roc_auc" in names:
            if truth.all() or not truth.any():
                undefined["roc_auc"] = "y_true holds one class only: ROC-AUC needs both"
            else:
                values["roc_auc"] = float(skm.roc_auc_score(truth, score))
        if "pr_auc" in names:
            if truth.any():
                values["pr_auc"] = float(skm.average_precision_score(truth, score))
            else:
                undefined["pr_auc"] = f"y_true has no {positive_label!r}: PR-AUC needs positives"
    return values, undefined


def multiclass_ranking(y_true: np.ndarray, scores: np.ndarray, classes: np.ndarray, *,
                       probabilities: bool) -> tuple[dict[str, float], dict[str, str]]:
    """Macro one-vs-rest ROC-AUC and average precision over the model's classes."""
    from sklearn import metrics as skm

    values = {"roc_auc": np.nan, "pr_auc": np.nan}
    present = set(pd.unique(pd.Series(y_true)).tolist())
    unseen = sorted(present - set(classes.tolist()), key=str)
    missing = [c for c in classes.tolist() if c not in present]
    if unseen:
        reason = f"y_true holds labels the model does not know: {unseen}"
    elif missing:
        reason = f"classes {missing} do not occur in y_true: one-vs-rest scores are undefined for them"
    else:
        truth = y_true[:, None] == classes[None, :]
        with quiet():
            if probabilities and len(classes) > 2:  # with 2 labels scikit-learn goes binary
                values["roc_auc"] = float(skm.roc_auc_score(y_true, scores, multi_class="ovr",
                                                            average="macro", labels=classes))
                values["pr_auc"] = float(skm.average_precision_score(truth.astype(int), scores,
                                                                     average="macro"))
            else:
                # Each class's AUC and AP need only a ranking: the macro mean over classes is
                # roc_auc_score(multi_class="ovr")'s on probabilities.
                values["roc_auc"] = float(np.mean([skm.roc_auc_score(truth[:, k], scores[:, k])
                                                   for k in range(len(classes))]))
                values["pr_auc"] = float(np.mean([skm.average_precision_score(truth[:, k], scores[:, k])
                                                  for k in range(len(classes))]))
        return values, {}
    return values, {"roc_auc": reason, "pr_auc": reason}


def probability_scores(y_true: np.ndarray, proba: np.ndarray, classes: np.ndarray, *,
                       positive_label: Any = None) -> tuple[dict[str, float], dict[str, str]]:
    """Log loss, Brier score and ECE (binary: of ``positive_label``; multiclass: summed / top label)."""
    from sklearn import metrics as skm

    values = {"log_loss": np.nan, "brier": np.nan, "ece": np.nan}
    undefined: dict[str, str] = {}
    unseen = sorted(set(pd.unique(pd.Series(y_true)).tolist()) - set(classes.tolist()), key=str)
    if unseen:
        undefined["log_loss"] = f"y_true holds labels the model does not know: {unseen}"
    elif len(classes) < 2:  # e.g. a baseline fitted on a one-class y_test
        undefined["log_loss"] = f"the model knows one class only ({classes[0]!r})"
    else:
        with quiet():
            values["log_loss"] = float(skm.log_loss(y_true, proba, labels=classes))
    if positive_label is not None:
        prob = proba[:, int(np.flatnonzero(classes == positive_label)[0])]
        outcome = np.asarray(y_true == positive_label, dtype=float)
        values["brier"] = float(np.mean((prob - outcome) ** 2))
        values["ece"] = expected_calibration_error(outcome, prob)
    else:
        onehot = (y_true[:, None] == classes[None, :]).astype(float)
        values["brier"] = float(((proba - onehot) ** 2).sum(axis=1).mean())
        top = proba.argmax(axis=1)
        values["ece"] = expected_calibration_error(
            (classes[top] == y_true).astype(float), proba[np.arange(len(y_true)), top])
    return values, undefined


def bin_ids(prob: np.ndarray, n_bins: int) -> np.ndarray:
    # The binning of sklearn.calibration.calibration_curve(strategy="uniform").
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    return np.searchsorted(edges[1:-1], prob)


def expected_calibration_error(outcome: np.ndarray, prob: np.ndarray,
                               n_bins: int = CALIBRATION_BINS) -> float:
    """ECE: the row-weighted mean of ``|observed rate - mean probability|`` over equal-width bins.

    Bins are those of ``calibration_curve(strategy="uniform")``.
    """
    if len(prob) == 0:
        return float("nan")
    ids = bin_ids(prob, n_bins)
    count = np.bincount(ids, minlength=n_bins)
    gap = np.abs(np.bincount(ids, outcome, n_bins) - np.bincount(ids, prob, n_bins))
    return float(gap.sum() / count.sum())


# ---- regression -------------------------------------------------------------------------------


def regression_scores(y_true: Any, y_pred: Any, names: tuple[str, ...] = for_task("regression"),
                      ) -> tuple[dict[str, float], dict[str, str]]:
    """MAE, RMSE, MSE, R² and MAPE; R² of a constant target and MAPE with zeros are NaN."""
    from sklearn import metrics as skm

    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    values: dict[str, float] = {}
    undefined: dict[str, str] = {}
    with quiet():
        if "mae" in names:
            values["mae"] = float(skm.mean_absolute_error(y, p))
        mse = float(skm.mean_squared_error(y, p))
        if "rmse" in names:
            values["rmse"] = float(np.sqrt(mse))
        if "mse" in names:
            values["mse"] = mse
        if "r2" in names:
            values["r2"] = np.nan
            if len(y) >= 2 and np.ptp(y) > 0:
                values["r2"] = float(skm.r2_score(y, p))
            else:
                undefined["r2"] = "y_true is constant: R² divides by its variance"
        if "mape" in names:
            values["mape"] = np.nan
            n_zero = int((np.abs(y) < np.finfo(float).eps).sum())
            if n_zero:
                undefined["mape"] = f"{n_zero} true value(s) are zero: percentage errors are undefined"
            else:
                values["mape"] = float(skm.mean_absolute_percentage_error(y, p))
    return values, undefined


# ---- every metric of a task ---------------------------------------------------------------------


def task_scores(
    task: str, y_true: np.ndarray, y_pred: np.ndarray, *, classes: np.ndarray | None = None,
    proba: np.ndarray | None = None, score: np.ndarray | None = None,
    decision: np.ndarray | None = None, positive_label: Any = None,
) -> tuple[dict[str, float], dict[str, str]]:
    """``(metrics, undefined)``: every metric of ``task`` (:func:`for_task`), in report order.

    ``classes`` are the model's classes (the columns of ``proba`` and
    ``decision``); ``score`` is the binary ranking score of ``positive_label``.
    """
    if task not in CLASSIFICATION_TASKS:
        return regression_scores(y_true, y_pred)
    assert classes is not None
    names = for_task(task)
    out: dict[str, float] = dict.fromkeys(names, np.nan)
    values, undefined = label_scores(y_true, y_pred, positive_label=positive_label if task == "binary" else None,
                                     names=tuple(n for n in names if n in LABEL_METRICS))
    out.update(values)
    if task == "binary":
        if score is None:
            for m in ("roc_auc", "pr_auc"):
                undefined[m] = "the model gives neither probabilities nor decision scores"
        else:
            ranked, why = binary_ranking(y_true == positive_label, score, positive_label)
            out.update(ranked)
            undefined.update(why)
    elif proba is not None or decision is not None:
        scores = proba if proba is not None else decision
        assert scores is not None
        ranked, why = multiclass_ranking(y_true, scores, classes, probabilities=proba is not None)
        out.update(ranked)
        undefined.update(why)
    else:
        for m in ("roc_auc", "pr_auc"):
            undefined[m] = "the model gives neither probabilities nor decision scores"
    if proba is not None:
        probs, why = probability_scores(y_true, proba, classes,
                                        positive_label=positive_label if task == "binary" else None)
        out.update(probs)
        undefined.update(why)
    else:
        for m in ("log_loss", "brier", "ece"):
            undefined.setdefault(m, "the model has no predict_proba")
    return out, undefined


def label_note(task: str, labels: Any, positive_label: Any = None) -> str:
    """One sentence stating the label set the label metrics used."""
    names = ", ".join(str(v) for v in list(labels)[:20]) + (" …" if len(labels) > 20 else "")
    if task == "binary":
        return (f"Precision, recall, F1 and specificity are about the positive label {positive_label!r} "
                f"(labels found in y_true or the predictions: {names}); an undefined precision or "
                f"recall is {ZERO_DIVISION_NOTE}.")
    return (f"Precision, recall and F1 are macro averages over the {len(labels)} labels found in "
            f"y_true or the predictions ({names}), scikit-learn's default label set; a label never "
            f"predicted has an undefined precision and a label absent from y_true an undefined "
            f"recall, {ZERO_DIVISION_NOTE}.")
