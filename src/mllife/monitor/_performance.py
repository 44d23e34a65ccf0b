"""Performance without labels, and with them: :class:`PerformanceModel` and :class:`Interval`.

A :class:`PerformanceModel` is fitted once on the reference (the model's
outputs there, its inputs, and the labels when known) and then turns each
window into additive sums (:meth:`~PerformanceModel.estimate_sums` from the
window's outputs, :meth:`~PerformanceModel.realized_sums` once labels
arrive) and sums into metrics with intervals
(:meth:`~PerformanceModel.estimate`, :meth:`~PerformanceModel.realized`).

- Classifiers: CBPE (:mod:`._cbpe`) with calibrated probabilities: the
  model's own when the labelled reference finds them calibrated or when there
  is no labelled reference (trusted, said in :attr:`~PerformanceModel.notes`),
  else isotonic regression fitted on the reference. With labels, the
  intervals add the calibration's uncertainty measured on the reference
  (the estimate's standard error there and its gap to the realized value).
- Regressors: DLE (:mod:`._dle`): models of the error learned on the labelled
  reference; without labels, no estimate (the notes say why).

Metrics estimated (the vocabulary's names, :mod:`mllife._metrics`): binary
``accuracy``, ``precision``, ``recall``, ``f1`` (about ``positive_label``) and
``roc_auc``; multiclass the same as macro averages (``f1_macro`` is ``f1``;
``roc_auc`` one-vs-rest for at most 50 classes); regression ``mae``,
``rmse``, ``mse``. Realized values are the vocabulary's (scikit-learn's on
the same rows), except ROC-AUC, read from the same score bins as its
estimate (within the stated binning bound of scikit-learn's). Realized
intervals: Wilson for proportions (accuracy, binary precision and recall),
Hanley-McNeil for ROC-AUC (widened by the binning bound), the delta method for
F1 and macro averages, normal for MAE and MSE (RMSE: the root of the MSE
interval). Any value that cannot be computed (no rows, one class for
ROC-AUC, no probabilities) is NaN, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from .. import _metrics
from .._errors import InputError
from .._frame import as_frame, as_series
from .._random import as_seed
from ._cbpe import CBPE, MAX_AUC_CLASSES, MAX_CLASSES, class_index, fit_cbpe
from ._cbpe import SUPPORTED as CLASSIFICATION_METRICS
from ._dle import DLE, fit_dle
from ._dle import SUPPORTED as REGRESSION_METRICS
from ._dle import realized as regression_realized
from ._dle import realized_sums as regression_realized_sums
from ._outputs import Outputs
from ._perf_json import check_float, check_int, check_keys, check_text
from ._sums import Sums

__all__ = ["DEFAULT_METRICS", "SUPPORTED_METRICS", "Interval", "PerformanceModel"]

#: The metrics estimated when ``metrics=None``.
DEFAULT_METRICS: Mapping[str, tuple[str, ...]] = {
    "binary": ("roc_auc", "accuracy"),
    "multiclass": ("accuracy", "f1"),
    "regression": ("mae", "rmse"),
}
#: The metrics a performance model estimates and realizes, per task.
SUPPORTED_METRICS: Mapping[str, tuple[str, ...]] = {
    "binary": CLASSIFICATION_METRICS,
    "multiclass": CLASSIFICATION_METRICS,
    "regression": REGRESSION_METRICS,
}

_FORMAT = "mllife.monitor.PerformanceModel"
_VERSION = 1
_MAX_NOTES = 50
_NAN = float("nan")


@dataclass(frozen=True)
class Interval:
    """A metric's value with its interval: ``value``, ``low``, ``high``, ``se``, ``n`` rows.

    Every number is NaN when it cannot be computed (no rows, ROC-AUC of a
    window with one class, ...).

    Examples
    --------
    >>> Interval(0.9, 0.88, 0.92, 0.01, 1000).high
    0.92
    """

    value: float
    low: float
    high: float
    se: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        """The five numbers (NaN as ``None``, JSON-safe)."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in (("value", self.value), ("low", self.low), ("high", self.high),
                             ("se", self.se), ("n", self.n))}


def _calibration_se(at_reference: Interval, realized: float) -> float:
    """The calibration's uncertainty of one metric's estimate, from the labelled reference.

    ``sqrt(se**2 + gap**2)``: ``se`` the estimate's standard error on the
    reference rows (how far the realized value of that many rows strays from a
    calibrated estimate), ``gap = realized - estimate`` there. A miscalibration
    that the calibration test cannot reject (low power on a few hundred rows)
    biases every window's estimate by about the reference's expected gap;
    ``gap**2`` estimates ``bias**2 + se**2``, so the term is about
    ``sqrt(bias**2 + 2 se**2)``: conservative when the probabilities are
    calibrated, and it vanishes as the reference grows (both parts shrink as
    ``1 / sqrt(rows)``). After isotonic recalibration the in-sample gap is
    small and ``se`` carries the recalibration's own error. At most 1.
    """
    se = at_reference.se if math.isfinite(at_reference.se) else 0.0
    gap = realized - at_reference.value
    if not math.isfinite(gap):
        gap = 0.0
    return min(math.hypot(se, gap), 1.0)


def _z(confidence: Any) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or \
            not 0.0 < float(confidence) < 1.0:
        raise InputError(f"confidence={confidence!r}", expected="a number between 0 and 1")
    return NormalDist().inv_cdf(0.5 + float(confidence) / 2.0)


def resolve_metrics(metrics: Any, task: str, n_classes: int = 0) -> tuple[str, ...]:
    """The vocabulary's names of ``metrics`` for ``task`` (defaults when ``None``).

    A mapping (metric -> threshold) gives its keys. ``f1_macro``,
    ``precision_macro`` and ``recall_macro`` are the multiclass ``f1``,
    ``precision`` and ``recall``.

    Raises
    ------
    InputError
        For a name outside the vocabulary, a metric of another task, one a
        performance model does not estimate (listing those it does), an empty
        list, or multiclass ROC-AUC with more than 50 classes.
    """
    if metrics is None:
        return DEFAULT_METRICS[task]
    if isinstance(metrics, str):
        metrics = [metrics]
    elif isinstance(metrics, Mapping):
        metrics = list(metrics)
    elif not isinstance(metrics, Sequence):
        raise InputError(f"metrics={metrics!r}", expected="None, a metric name or a list of them")
    supported = SUPPORTED_METRICS[task]
    out: list[str] = []
    for name in metrics:
        if not isinstance(name, str):
            raise InputError(f"metric name {name!r} is not a string", expected="a metric name")
        text = _metrics.normalize_name(name)
        if task == "multiclass":
            text = _metrics.MACRO_SCORERS.get(text, text)
        metric = _metrics.check_name(text, task=task, where=" by the monitor")
        if metric.name not in supported:
            raise InputError(f"metric {name!r} is not estimated without labels for a {task} "
                             "task", expected=f"one of {', '.join(supported)}")
        if metric.name == "roc_auc" and task == "multiclass" and n_classes > MAX_AUC_CLASSES:
            raise InputError(f"roc_auc of a model with {n_classes} classes would keep too many "
                             "score bins per window",
                             expected=f"at most {MAX_AUC_CLASSES} classes for roc_auc, or "
                                      "label metrics (accuracy, f1, ...)")
        if metric.name not in out:
            out.append(metric.name)
    if not out:
        raise InputError("metrics is empty", expected=f"some of {', '.join(supported)}")
    return tuple(out)


def _check_outputs(outputs: Any) -> Outputs:
    if not isinstance(outputs, Outputs):
        raise InputError(f"outputs is a {type(outputs).__name__}",
                         expected="the model's Outputs (task, prediction, proba, classes)")
    if outputs.task not in SUPPORTED_METRICS:
        raise InputError(f"outputs.task is {outputs.task!r}",
                         expected="'binary', 'multiclass' or 'regression'")
    if outputs.proba is not None and (np.ndim(outputs.proba) != 2 or outputs.classes is None
                                      or np.shape(outputs.proba) != (len(outputs),
                                                                     len(outputs.classes))):
        raise InputError(f"outputs.proba has shape {np.shape(outputs.proba)}",
                         expected="one probability per row and class")
    return outputs


def _rows(value: Any, n: int, name: str) -> Any:
    if value is None:
        return None
    if name == "X":
        frame = as_frame(value, name="X")
        if len(frame) != n:
            raise InputError(f"X has {len(frame)} rows but the outputs have {n}",
                             expected="one row of X per output")
        return frame
    arr = as_series(value, name=name).to_numpy()
    if len(arr) != n:
        raise InputError(f"y has {len(arr)} values but the outputs have {n}",
                         expected="one label per output")
    return arr


class PerformanceModel:
    """Estimates a model's performance per window without labels, and realizes it with them.

    Build it with :meth:`fit`. Binary and multiclass classifiers use CBPE
    on probabilities calibrated on the labelled reference when needed;
    regressors use DLE (a labelled reference is needed). See the module
    documentation for the methods and their assumptions; :attr:`notes`
    says which were taken.

    Attributes
    ----------
    task : str
        ``"binary"``, ``"multiclass"`` or ``"regression"``.
    metrics : tuple of str
        The metrics estimated and realized (the vocabulary's names).
    reference_values : dict
        The realized metrics on the labelled reference (``{}`` without labels).
    reference_n : int
        Rows of the reference.
    notes : tuple of str
        How the estimates are made: calibration test and decision, binning,
        the nuisance models, or why there is no estimate.

    Examples
    --------
    >>> import numpy as np
    >>> from mllife.monitor._outputs import Outputs
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(size=5000)
    >>> out = Outputs("binary", (p > 0.5).astype(int), np.column_stack([1 - p, p]), (0, 1))
    >>> y = (rng.uniform(size=5000) < p).astype(int)
    >>> model = PerformanceModel.fit(out, None, y, metrics=None)
    >>> model.metrics
    ('roc_auc', 'accuracy')
    >>> est = model.estimate(model.estimate_sums(out, None))
    >>> real = model.realized(model.realized_sums(out, y))
    >>> round(est["accuracy"].value, 2), round(real["accuracy"].value, 2)
    (0.75, 0.75)
    >>> est["accuracy"].low < real["accuracy"].value < est["accuracy"].high
    True
    >>> again = PerformanceModel.from_dict(model.to_dict())
    >>> again.estimate(again.estimate_sums(out, None))["roc_auc"] == est["roc_auc"]
    True
    """

    def __init__(self, *, task: str, metrics: tuple[str, ...], reference_values: dict[str, float],
                 reference_n: int, notes: tuple[str, ...], cbpe: CBPE | None,
                 dle: DLE | None, calibration_se: dict[str, float] | None = None,
                 reference_estimates: dict[str, tuple[float, float]] | None = None) -> None:
        self.task = task
        self.metrics = metrics
        self.reference_values = reference_values
        self.reference_n = reference_n
        self.notes = notes
        self._cbpe = cbpe
        self._dle = dle
        self._calibration_se = dict(calibration_se or {})
        self._reference_estimates = dict(reference_estimates or {})

    def __repr__(self) -> str:
        how = ("CBPE" if self._cbpe is not None else "DLE" if self._dle is not None
               else "no estimate")
        return (f"PerformanceModel(task={self.task!r}, metrics={self.metrics!r}, {how}, "
                f"reference_n={self.reference_n})")

    @property
    def estimable(self) -> bool:
        """True when performance is estimated without labels (probabilities or a DLE model)."""
        return (self._cbpe is not None and self._cbpe.has_proba) or self._dle is not None

    # ---- fitting ---------------------------------------------------------------------------------

    @classmethod
    def fit(cls, outputs: Outputs, X: Any, y: Any = None, *,
            metrics: Sequence[str] | Mapping[str, Any] | str | None = None,
            positive_label: Any = None, random_state: Any = None) -> PerformanceModel:
        """Fit on the reference: the model's ``outputs`` there, its inputs ``X``, labels ``y``.

        Parameters
        ----------
        outputs : Outputs
            The model's outputs on the reference rows.
        X : DataFrame or None
            The reference inputs (used by DLE; classifiers ignore them).
        y : array-like or None
            The reference labels; ``None`` when unknown (CBPE then trusts the
            model's probabilities; a regressor gets no estimate).
        metrics : list of str, optional
            Metric names (any spelling of the vocabulary; a mapping gives its
            keys); default :data:`DEFAULT_METRICS` of the task.
        positive_label : optional
            Binary only: the class precision, recall, F1 and ROC-AUC are about
            (default: the larger class).
        random_state : None, int or Generator
            Seeds DLE's nuisance models and folds (``None`` is seed 0).

        Returns
        -------
        PerformanceModel

        Raises
        ------
        InputError
            For outputs of another shape, ``X`` or ``y`` of another length,
            unknown or unsupported metrics, a ``positive_label`` not among
            the classes (or given to a multiclass or regression task), more
            than 200 classes.
        """
        outputs = _check_outputs(outputs)
        task, n = outputs.task, len(outputs)
        frame = _rows(X, n, "X")
        labels = _rows(y, n, "y")
        seed = as_seed(random_state)
        if task == "regression":
            if positive_label is not None:
                raise InputError(f"positive_label {positive_label!r} was given for a regression "
                                 "task", expected="positive_label=None")
            names = resolve_metrics(metrics, task)
            dle, notes = fit_dle(outputs.prediction, frame, labels, seed)
            model = cls(task=task, metrics=names, reference_values={}, reference_n=n,
                        notes=tuple(notes), cbpe=None, dle=dle)
        else:
            classes = outputs.classes
            if classes is None or not 1 <= len(classes) <= MAX_CLASSES:
                count = 0 if classes is None else len(classes)
                raise InputError(f"the classifier's outputs carry {count} classes",
                                 expected=f"1 to {MAX_CLASSES} classes")
            classes = tuple(c.item() if isinstance(c, np.generic) else c for c in classes)
            names = resolve_metrics(metrics, task, len(classes))
            positive: int | None = None
            if task == "binary":
                label = classes[-1] if positive_label is None else positive_label
                found = class_index([label], classes)[0]
                if found < 0:
                    raise InputError(f"positive_label {positive_label!r} is not a class of the "
                                     "model", expected=f"one of {list(classes)}")
                positive = int(found)
            elif positive_label is not None:
                raise InputError(f"positive_label {positive_label!r} was given for a multiclass "
                                 "task", expected="positive_label=None: multiclass metrics are "
                                                  "macro averages")
            cbpe, notes = fit_cbpe(task, classes, positive, outputs.proba, labels,
                                   auc="roc_auc" in names and outputs.proba is not None)
            if "roc_auc" in names and outputs.proba is None:
                notes.append("roc_auc needs the model's probabilities: NaN.")
            model = cls(task=task, metrics=names, reference_values={}, reference_n=n,
                        notes=tuple(notes), cbpe=cbpe, dle=None)
        if model.estimable:  # the estimator on the reference rows: the sequential detector's anchor
            at = model.estimate(model.estimate_sums(outputs, frame))
            model._reference_estimates = {
                m: (v.value, model._own_se(m, v)) for m, v in at.items()
                if math.isfinite(v.value) and math.isfinite(v.se)}
        if labels is not None:
            values = model.realized(model.realized_sums(outputs, labels))
            model.reference_values = {m: v.value for m, v in values.items()}
            if model._cbpe is not None and model._cbpe.has_proba:
                at_reference = model.estimate(model.estimate_sums(outputs))
                model._calibration_se = {
                    m: _calibration_se(v, values[m].value) for m, v in at_reference.items()}
                rows = at_reference[names[0]].n
                model.notes = (*model.notes, (
                    "CBPE intervals include the calibration's own uncertainty, added in "
                    f"quadrature: on the {rows} labelled reference rows, the root of the "
                    "estimate's variance plus the squared gap between the realized and the "
                    "estimated value there (a miscalibration the reference's test could not "
                    "detect, which a window whose scores resemble the reference's inherits)."))
        return model

    # ---- sums ------------------------------------------------------------------------------------

    def _same_model(self, outputs: Any) -> Outputs:
        outputs = _check_outputs(outputs)
        if outputs.task != self.task:
            raise InputError(f"outputs of a {outputs.task} model given to the performance model "
                             f"of a {self.task} model", expected=f"{self.task} outputs")
        if self._cbpe is not None:
            classes = tuple(c.item() if isinstance(c, np.generic) else c
                            for c in (outputs.classes or ()))
            if classes != self._cbpe.classes:
                raise InputError(f"outputs with classes {list(classes)[:10]}",
                                 expected=f"the classes {list(self._cbpe.classes)[:10]} the "
                                          "performance model was fitted with")
        return outputs

    def estimate_sums(self, outputs: Outputs, X: Any = None) -> Sums:
        """A batch's additive sums for the estimates (add two batches' with ``add_sums``).

        ``X``: the batch's inputs (used by DLE; a missing column counts as missing values).
        Rows without probabilities or with a prediction outside the model's
        classes are left out.
        """
        outputs = self._same_model(outputs)
        if self._cbpe is not None:
            return self._cbpe.estimate_sums(outputs.prediction, outputs.proba)
        if self._dle is None:
            count = np.isfinite(np.asarray(outputs.prediction, dtype=np.float64)).sum()
            return {"est_n": np.asarray(float(count))}
        return self._dle.estimate_sums(outputs.prediction, _rows(X, len(outputs), "X"))

    def realized_sums(self, outputs: Outputs, y: Any) -> Sums:
        """A batch's additive sums for realized performance (rows with a missing label left out)."""
        outputs = self._same_model(outputs)
        labels = _rows(y, len(outputs), "y")
        if self._cbpe is not None:
            return self._cbpe.realized_sums(outputs.prediction, outputs.proba, labels)
        return regression_realized_sums(outputs.prediction, labels)

    # ---- values ----------------------------------------------------------------------------------

    def estimate(self, sums: Mapping[str, np.ndarray], *,
                 confidence: float = 0.95) -> dict[str, Interval]:
        """The estimated metrics of a window from its sums, each with its interval.

        The interval says where the window's realized value falls given its
        rows (when the calibration, or DLE's error model, holds), at
        ``confidence``. NaN throughout without an estimate.
        """
        z = _z(confidence)
        out = {}
        for name in self.metrics:
            if self._cbpe is not None:
                parts = self._cbpe.estimate(sums, name, z, self._calibration_se.get(name, 0.0))
            elif self._dle is not None:
                parts = self._dle.estimate(sums, name, z)
            else:
                parts = (_NAN, _NAN, _NAN, _NAN,
                         int(np.asarray(sums.get("est_n", 0.0)).reshape(-1).sum()))
            out[name] = Interval(*parts)
        return out

    def realized(self, sums: Mapping[str, np.ndarray], *,
                 confidence: float = 0.95) -> dict[str, Interval]:
        """The realized metrics of a window's labelled rows, each with its confidence interval."""
        z = _z(confidence)
        out = {}
        for name in self.metrics:
            if self._cbpe is not None:
                parts = self._cbpe.realized(sums, name, z)
            else:
                parts = regression_realized(sums, name, z)
            out[name] = Interval(*parts)
        return out

    def auc_binning_bound(self, sums: Mapping[str, np.ndarray], *, realized: bool = False) -> float:
        """The most the binned ROC-AUC of these sums can differ from the unbinned one.

        Half the share of (positive, negative) pairs sharing a score bin
        (expected pairs for an estimate, observed ones with ``realized=True``);
        a macro average's is the mean of its classes'. NaN without ROC-AUC.
        """
        if self._cbpe is None or not self._cbpe.auc:
            return _NAN
        parts = self._cbpe.auc_parts(sums, "real" if realized else "est")
        return float(np.mean([b for _, _, b in parts]))

    def _common_se(self, name: str, interval: Interval) -> float:
        """The part of an estimate's standard error common to every window (calibration, the
        error model's systematic error)."""
        if self._cbpe is not None:
            return float(self._calibration_se.get(name, 0.0))
        if self._dle is not None and math.isfinite(interval.value):
            if name == "mae":
                return self._dle.b_abs * interval.value
            if name == "mse":
                return self._dle.b_sq * interval.value
            if name == "rmse":
                return self._dle.b_sq * interval.value / 2.0
        return 0.0

    def _own_se(self, name: str, interval: Interval) -> float:
        """An estimate's standard error from its window's rows alone."""
        common = self._common_se(name, interval)
        return math.sqrt(max(interval.se * interval.se - common * common, 0.0))

    def sequential_z(self, name: str, interval: Interval, threshold: float | None = None, *,
                     k: float = 0.5, h: float = 5.0) -> float:
        """A window's estimate of ``name`` as the input of a lower CUSUM (a drop is negative).

        Standardised by the window's own standard error (what its rows add;
        the calibration's or the error model's uncertainty is common to every
        window, so it is not in there), against ``threshold`` when given (then
        the common uncertainty is the reference's error), else against the
        same estimator on the reference rows (then a miscalibration cancels and
        the reference's error is that estimate's own): see
        :func:`~mllife.monitor._alarms.sequential_z`, whose guard keeps the
        CUSUM's in-control run length whatever the reference's size. NaN
        when not computable.

        Examples
        --------
        >>> import numpy as np
        >>> from mllife.monitor._outputs import Outputs
        >>> rng = np.random.default_rng(0)
        >>> p = rng.uniform(size=2000)
        >>> out = Outputs("binary", (p > 0.5).astype(int), np.column_stack([1 - p, p]), (0, 1))
        >>> model = PerformanceModel.fit(out, None, (rng.uniform(size=2000) < p).astype(int))
        >>> unsure = np.abs(p - 0.5) < 0.2  # a window of harder rows: accuracy drops
        >>> hard = Outputs("binary", out.prediction[unsure], out.proba[unsure], (0, 1))
        >>> window = model.estimate(model.estimate_sums(hard))["accuracy"]
        >>> model.sequential_z("accuracy", window) < -5
        True
        """
        from ._alarms import sequential_z

        if name not in self.metrics or not isinstance(interval, Interval):
            raise InputError(f"sequential_z of {name!r}",
                             expected=f"one of {self.metrics} and its Interval")
        own = self._own_se(name, interval)
        if threshold is not None:
            reference, common = float(threshold), self._common_se(name, interval)
        else:
            reference, common = self._reference_estimates.get(name, (_NAN, _NAN))
        return sequential_z(interval.value, own, reference, common,
                            higher_is_better=_metrics.higher_is_better(name), k=k, h=h)

    # ---- JSON ------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description (no pickle); :meth:`from_dict` rebuilds the model."""
        return {
            "format": _FORMAT, "version": _VERSION, "task": self.task,
            "metrics": list(self.metrics),
            "reference_values": {k: (float(v) if math.isfinite(v) else None)
                                 for k, v in self.reference_values.items()},
            "reference_n": int(self.reference_n), "notes": list(self.notes),
            "cbpe": None if self._cbpe is None else self._cbpe.to_dict(),
            "dle": None if self._dle is None else self._dle.to_dict(),
            "calibration_se": {k: float(v) for k, v in self._calibration_se.items()},
            "reference_estimates": {k: [float(v), float(e)]
                                    for k, (v, e) in self._reference_estimates.items()},
        }

    @classmethod
    def from_dict(cls, data: Any) -> PerformanceModel:
        """A performance model from :meth:`to_dict` output, validated.

        Raises
        ------
        InputError
            When anything is malformed: unknown keys or format, metrics or
            labels outside what :meth:`fit` produces, non-finite numbers,
            unordered calibrators or bin edges, trees whose children point
            backwards or out of range, sizes beyond the bounds.
        """
        keys = {"format", "version", "task", "metrics", "reference_values", "reference_n",
                "notes", "cbpe", "dle", "calibration_se", "reference_estimates"}
        check_keys(data, keys, "the performance model")
        if data["format"] != _FORMAT or data["version"] != _VERSION:
            raise InputError(f"the performance model's format is {data['format']!r} version "
                             f"{data['version']!r}", expected=f"{_FORMAT!r} version {_VERSION}")
        task = data["task"]
        if task not in SUPPORTED_METRICS:
            raise InputError(f"the performance model's task is {task!r}",
                             expected="'binary', 'multiclass' or 'regression'")
        raw = data["metrics"]
        if not isinstance(raw, list) or not 1 <= len(raw) <= len(SUPPORTED_METRICS[task]):
            raise InputError("the performance model's metrics are not a short list",
                             expected="a list of metric names")
        cbpe = CBPE.from_dict(data["cbpe"]) if data["cbpe"] is not None else None
        dle = DLE.from_dict(data["dle"]) if data["dle"] is not None else None
        names = resolve_metrics(raw, task, 0 if cbpe is None else cbpe.k)
        if list(names) != raw:
            raise InputError(f"the performance model's metrics {raw!r}",
                             expected="canonical, distinct metric names")
        if (cbpe is None) != (task == "regression") or (dle is not None and task != "regression"):
            raise InputError(f"a {task} performance model with "
                             f"{'a' if cbpe else 'no'} CBPE and {'a' if dle else 'no'} DLE state",
                             expected="CBPE for classifiers, DLE (or none) for regressors")
        if cbpe is not None and (cbpe.task != task or
                                 cbpe.auc != ("roc_auc" in names and cbpe.has_proba)):
            raise InputError("the CBPE state does not match the task or the metrics",
                             expected="ROC-AUC bins exactly when roc_auc is estimated")
        values = data["reference_values"]
        if not isinstance(values, Mapping) or not set(values) <= set(names):
            raise InputError("reference_values are not a mapping of the metrics",
                             expected="metric -> number or null")
        reference = {}
        for k, v in values.items():
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)
                                  or not math.isfinite(v)):
                raise InputError(f"reference value of {k} is {v!r}",
                                 expected="a finite number or null")
            reference[k] = _NAN if v is None else float(v)
        cal = data["calibration_se"]
        if not isinstance(cal, Mapping) or not set(cal) <= set(names):
            raise InputError("calibration_se is not a mapping of the metrics",
                             expected="metric -> number")
        calibration_se = {k: check_float(v, f"calibration_se of {k}", 0.0, 1.0)
                          for k, v in cal.items()}
        anchors = data["reference_estimates"]
        if not isinstance(anchors, Mapping) or not set(anchors) <= set(names) or not all(
                isinstance(v, list) and len(v) == 2 for v in anchors.values()):
            raise InputError("reference_estimates is not a mapping of the metrics",
                             expected="metric -> [estimate, standard error]")
        reference_estimates = {
            k: (check_float(v[0], f"reference estimate of {k}", -1e300, 1e300),
                check_float(v[1], f"reference estimate's se of {k}", 0.0, 1e300))
            for k, v in anchors.items()}
        notes = data["notes"]
        if not isinstance(notes, list) or len(notes) > _MAX_NOTES:
            raise InputError("notes are not a list", expected=f"at most {_MAX_NOTES} strings")
        return cls(task=task, metrics=names, reference_values=reference,
                   reference_n=check_int(data["reference_n"], "reference_n", 0, 2 ** 62),
                   notes=tuple(check_text(t, "a note", 10_000) for t in notes), cbpe=cbpe, dle=dle,
                   calibration_se=calibration_se, reference_estimates=reference_estimates)
