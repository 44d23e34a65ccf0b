"""Phase 1, what "good enough" means: :class:`SuccessCriteria`, checked against any report.

The metric names are the vocabulary's (:mod:`mllife._metrics`). A criterion is
checked against whatever report the lifecycle produced:

- an :class:`~mllife.EvaluationReport` (or any object or dict with ``metrics``,
  ``undefined``, ``latency_p95_ms``, ``model_bytes`` and ``lift``);
- a :class:`~mllife.experiments.ComparisonReport` (the best model other than the baseline, or
  ``report.for_model(name)``);
- a :class:`~mllife.ChampionChallengerResult` (the challenger's scores);
- any report with a ``_criteria_values()`` method returning such a dict.

The line between *missing* and *undefined*, decided once: a metric the report
does not compute at all (not among its metric names: ``rmse`` of a classifier's
evaluation, ``recall`` of a comparison scored on ROC-AUC only) is a mistake in
the criteria, and raises :class:`~mllife.InputError` naming the metric and
listing the report's metrics. A metric the report computes but could not
define on this data (NaN, such as ROC-AUC on a one-class test set) is a fact
about the data: the criterion fails, with the report's reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from . import _metrics
from ._errors import InputError
from .report import Finding

__all__ = ["METRICS", "SuccessCriteria", "normalize_metric_name"]

#: Every metric name :class:`SuccessCriteria` accepts, with its direction:
#: ``"max"`` when the threshold is a maximum (lower is better), ``"min"`` when
#: it is a minimum (higher is better). The metrics, their directions and
#: aliases are :mod:`mllife._metrics`'s, the ones :func:`mllife.evaluate`
#: computes.
METRICS: Mapping[str, str] = MappingProxyType({
    name: m.direction for name, m in _metrics.METRICS.items()})


def normalize_metric_name(name: Any) -> str:
    """The canonical spelling of a metric name.

    Case and surrounding space are ignored, runs of spaces, hyphens and dots
    become one underscore, ``²`` becomes ``2``, and the aliases of the
    vocabulary map to the canonical name (``"AUC"`` and ``"ROC-AUC"`` to
    ``"roc_auc"``, ``"average precision"`` to ``"pr_auc"``, ``"R²"`` to
    ``"r2"``, scikit-learn scorer names such as ``"neg_log_loss"`` to
    ``"log_loss"``).

    Parameters
    ----------
    name : str
        A metric name as a user writes it.

    Returns
    -------
    str
        The canonical name (one of :data:`METRICS` when known).

    Raises
    ------
    InputError
        When ``name`` is not a string.

    Examples
    --------
    >>> normalize_metric_name("ROC-AUC"), normalize_metric_name("R²")
    ('roc_auc', 'r2')
    >>> normalize_metric_name("neg_root_mean_squared_error")
    'rmse'
    """
    if not isinstance(name, str):
        raise InputError(f"metric name {name!r} is not a string", expected="a metric name")
    return _metrics.normalize_name(name)


def _finite_number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise InputError(f"{what} is {value!r}", expected="a finite number")
    number = float(value)
    if not math.isfinite(number):
        raise InputError(f"{what} is {number}", expected="a finite number")
    return number


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _fmt_bytes(value: float) -> str:
    """A byte count in decimal units: ``2.5 MB``."""
    size = float(value)
    for unit in ("B", "kB", "MB"):
        if abs(size) < 1000:
            return f"{size:.0f} B" if unit == "B" else f"{size:.4g} {unit}"
        size /= 1000
    return f"{size:.4g} GB"


def _as_float(value: Any) -> float | None:
    """A report value as a finite float, ``None`` when missing or undefined."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _normalized_mapping(values: Any) -> dict[str, Any]:
    """A report's metric -> value mapping keyed by canonical metric names."""
    if not isinstance(values, Mapping):
        return {}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(key, str):
            out.setdefault(normalize_metric_name(key), value)
    return out


@dataclass(frozen=True)
class _Values:
    """What a report says, as the criteria read it."""

    metrics: dict[str, Any]
    undefined: dict[str, str]
    latency_p95_ms: Any
    model_bytes: Any
    lift: dict[str, Any] | None
    what: str


def _report_values(report: Any) -> _Values:
    """The values of ``report`` the criteria read, whatever kind of report it is."""
    hook = getattr(report, "_criteria_values", None)
    source: Any = hook() if callable(hook) and not isinstance(report, Mapping) else report

    def read(name: str) -> Any:
        if isinstance(source, Mapping):
            return source.get(name)
        return getattr(source, name, None)

    what = read("what") if isinstance(read("what"), str) else (
        "the report" if isinstance(source, Mapping) else f"the {type(report).__name__}")
    lift = read("lift")
    return _Values(
        metrics=_normalized_mapping(read("metrics")),
        undefined={k: str(v) for k, v in _normalized_mapping(read("undefined")).items()},
        latency_p95_ms=read("latency_p95_ms"), model_bytes=read("model_bytes"),
        lift=None if lift is None else _normalized_mapping(lift), what=what)


@dataclass(frozen=True, eq=False)
class _Criterion:
    item: str        # shown in the checklist: "recall ≥ 0.8"
    key: str         # "recall", "latency_p95_ms", "model_bytes", "lift:recall"
    kind: str        # "metric", "latency", "size", "lift"
    target: float
    direction: str   # "min" or "max"
    actual: float | None = None
    reason: str = ""  # why the value is undefined, when the report says

    @property
    def passed(self) -> bool:
        if self.actual is None:
            return False
        if self.direction == "min":
            return self.actual >= self.target
        return self.actual <= self.target


@dataclass(frozen=True)
class SuccessCriteria:
    """What "good enough" means, written down before modelling (phase 1).

    Immutable and validated. Metric names are normalised with
    :func:`normalize_metric_name` (``"ROC-AUC"`` is ``"roc_auc"``). For
    ``mae``, ``rmse``, ``mse``, ``log_loss``, ``brier``, ``ece`` and ``mape``
    the threshold is a maximum (lower is better); for every other metric it is
    a minimum (higher is better).

    Parameters
    ----------
    thresholds : dict of str to float
        Metric name -> required value, e.g. ``{"recall": 0.80, "precision": 0.50}``.
    max_latency_ms : float, optional
        Largest allowed 95th-percentile latency for one row, in milliseconds
        (read from ``report.latency_p95_ms``).
    max_model_bytes : int, optional
        Largest allowed serialized model size (``report.model_bytes``).
    min_lift_over_baseline : float, optional
        Smallest allowed improvement over the baseline, read from
        ``report.lift`` (metric -> model minus baseline, positive = better).
        It applies to every threshold metric that has a lift; when there are
        no thresholds, or none of them has a lift, to every lift reported.

    Raises
    ------
    InputError
        For an unknown metric name (the message lists the known ones), a
        metric given twice under two spellings, a threshold that is not a
        finite number or outside the metric's range, or a non-positive
        latency or size limit.

    See Also
    --------
    ProblemSpec : the one-page problem statement that holds the criteria.

    Notes
    -----
    A report is an :class:`~mllife.EvaluationReport`, a
    :class:`~mllife.experiments.ComparisonReport` (its best model other than the baseline; use
    ``report.for_model(name)`` for another), a
    :class:`~mllife.ChampionChallengerResult` (the challenger), or anything
    with the attributes (or, for a plain dict, keys) ``metrics``,
    ``undefined`` (metric -> reason), ``latency_p95_ms``, ``model_bytes`` and
    ``lift``.

    A threshold on a metric the report does not compute raises
    :class:`~mllife.InputError` naming the metric and listing the report's
    metrics: the criteria and the report disagree, which no data can fix. A
    metric the report computes but which is undefined on its data (NaN, e.g.
    ROC-AUC on a one-class test set) counts as failed, with the reason: a
    criterion that cannot be checked is not met. So do a missing latency,
    size or lift. :meth:`passed` is ``True`` when there are no criteria at
    all.

    Examples
    --------
    >>> c = SuccessCriteria({"Recall": 0.80, "precision": 0.50}, max_latency_ms=50)
    >>> c.thresholds
    mappingproxy({'recall': 0.8, 'precision': 0.5})
    >>> report = {"metrics": {"recall": 0.74, "precision": 0.61}, "latency_p95_ms": 3.2}
    >>> [f.message for f in c.check(report)]  # doctest: +NORMALIZE_WHITESPACE
    ['recall 0.74 < 0.8 required', 'precision 0.61 ≥ 0.5 required',
     'latency p95 3.2 ms ≤ 50 ms allowed']
    >>> c.passed(report)
    False
    >>> c.check({"metrics": {"accuracy": 0.9}})
    Traceback (most recent call last):
    ...
    mllife._errors.InputError: the success criterion recall ≥ 0.8 names 'recall', which the report does not compute; expected criteria on the report's metrics: accuracy
    >>> SuccessCriteria.from_dict(c.to_dict()) == c
    True
    """

    thresholds: Mapping[str, float]
    _: KW_ONLY
    max_latency_ms: float | None = None
    max_model_bytes: int | None = None
    min_lift_over_baseline: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.thresholds, Mapping):
            raise InputError(
                f"thresholds is a {type(self.thresholds).__name__}",
                expected='a dict of metric name -> value, e.g. {"recall": 0.8}',
            )
        clean: dict[str, float] = {}
        for raw, value in self.thresholds.items():
            name = normalize_metric_name(raw)
            if name not in METRICS:
                raise InputError(
                    f"unknown metric {raw!r} in the success criteria",
                    expected=f"one of {', '.join(sorted(METRICS))}",
                )
            if name in clean:
                raise InputError(
                    f"metric {name!r} is given twice in the success criteria",
                    expected="each metric once",
                )
            number = _finite_number(value, f"the threshold of {raw!r}")
            low, high = _metrics.METRICS[name].bounds
            if (low is not None and number < low) or (high is not None and number > high):
                if number < 0 and str(raw).strip().casefold().startswith("neg_"):
                    # scikit-learn's negated scorer name: the threshold keeps the metric's sign
                    raise InputError(
                        f"the threshold of {raw!r} is {number}, but {raw!r} is read as {name} "
                        "(lower is better) with the metric's own sign",
                        expected=f"a maximum {name}, e.g. {{{raw!r}: {abs(number):g}}}")
                if low is not None and high is not None:
                    expected = f"a value between {low:g} and {high:g}"
                elif low is not None:
                    expected = f"a value of at least {low:g}"
                else:
                    expected = f"a value of at most {high:g}"
                raise InputError(f"the threshold of {name!r} is {number}", expected=expected)
            clean[name] = number
        object.__setattr__(self, "thresholds", MappingProxyType(clean))
        if self.max_latency_ms is not None:
            latency = _finite_number(self.max_latency_ms, "max_latency_ms")
            if latency <= 0:
                raise InputError(f"max_latency_ms is {latency}", expected="a positive number")
            object.__setattr__(self, "max_latency_ms", latency)
        if self.max_model_bytes is not None:
            size = _finite_number(self.max_model_bytes, "max_model_bytes")
            if size <= 0 or size != int(size):
                raise InputError(f"max_model_bytes is {size}", expected="a positive integer")
            object.__setattr__(self, "max_model_bytes", int(size))
        if self.min_lift_over_baseline is not None:
            lift = _finite_number(self.min_lift_over_baseline, "min_lift_over_baseline")
            object.__setattr__(self, "min_lift_over_baseline", lift)

    # ---- value semantics -----------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SuccessCriteria):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((tuple(self.thresholds.items()), self.max_latency_ms,
                     self.max_model_bytes, self.min_lift_over_baseline))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # MappingProxyType does not pickle; rebuild from the plain data instead.
        return (_criteria_from_dict, (self.to_dict(),))

    def __len__(self) -> int:
        """The number of criteria (thresholds, latency, size and lift)."""
        extra = (self.max_latency_ms, self.max_model_bytes, self.min_lift_over_baseline)
        return len(self.thresholds) + sum(v is not None for v in extra)

    @property
    def metrics(self) -> tuple[str, ...]:
        """The canonical names of the metrics with a threshold."""
        return tuple(self.thresholds)

    @staticmethod
    def direction(metric: str) -> str:
        """``"min"`` when higher is better (the threshold is a minimum), else ``"max"``.

        Examples
        --------
        >>> SuccessCriteria.direction("rmse"), SuccessCriteria.direction("ROC AUC")
        ('max', 'min')
        """
        name = normalize_metric_name(metric)
        if name not in METRICS:
            raise InputError(f"unknown metric {metric!r}",
                             expected=f"one of {', '.join(sorted(METRICS))}")
        return METRICS[name]

    # ---- checking --------------------------------------------------------------
    def _items(self) -> list[_Criterion]:
        """The criteria without values: what :meth:`to_markdown` lists."""
        out = []
        for name, target in self.thresholds.items():
            sign = "≥" if METRICS[name] == "min" else "≤"
            out.append(_Criterion(f"{name} {sign} {_fmt(target)}", name, "metric", target,
                                  METRICS[name]))
        if self.max_latency_ms is not None:
            out.append(_Criterion(f"latency p95 ≤ {_fmt(self.max_latency_ms)} ms",
                                  "latency_p95_ms", "latency", self.max_latency_ms, "max"))
        if self.max_model_bytes is not None:
            out.append(_Criterion(f"model size ≤ {_fmt_bytes(self.max_model_bytes)}",
                                  "model_bytes", "size", float(self.max_model_bytes), "max"))
        return out

    def _criteria(self, report: Any) -> list[_Criterion]:
        values = _report_values(report)
        out = []
        for c in self._items():
            if c.kind == "metric":
                if c.key not in values.metrics:
                    have = ", ".join(values.metrics) or "none"
                    raise InputError(
                        f"the success criterion {c.item} names {c.key!r}, which {values.what} "
                        "does not compute",
                        expected=f"criteria on the report's metrics: {have}")
                actual = _as_float(values.metrics[c.key])
                reason = values.undefined.get(c.key, "") if actual is None else ""
                out.append(_Criterion(c.item, c.key, c.kind, c.target, c.direction, actual,
                                      reason))
            else:
                raw = values.latency_p95_ms if c.kind == "latency" else values.model_bytes
                out.append(_Criterion(c.item, c.key, c.kind, c.target, c.direction,
                                      _as_float(raw)))
        if self.min_lift_over_baseline is not None:
            lifts = values.lift or {}
            names = [n for n in self.thresholds if n in lifts] or list(lifts)
            target = self.min_lift_over_baseline
            if not names:
                out.append(_Criterion(f"lift over baseline ≥ {_fmt(target)}", "lift", "lift",
                                      target, "min", None))
            for name in names:
                out.append(_Criterion(f"lift over baseline in {name} ≥ {_fmt(target)}",
                                      f"lift:{name}", "lift", target, "min",
                                      _as_float(lifts[name])))
        return out

    @staticmethod
    def _message(c: _Criterion) -> str:
        if c.kind == "metric":
            what, unit, word = c.key, "", "required"
        elif c.kind == "latency":
            what, unit, word = "latency p95", " ms", "allowed"
        elif c.kind == "size":
            what, unit, word = "model size", "", "allowed"
        else:
            what, unit, word = f"lift over baseline in {c.key[5:]}" if ":" in c.key \
                else "lift over baseline", "", "required"
        if c.actual is None:
            why = f" ({c.reason})" if c.reason else ""
            return f"{what} is missing or undefined in the report{why}; cannot check the " \
                   f"criterion {c.item}"
        if c.kind == "size":
            actual, target = _fmt_bytes(c.actual), _fmt_bytes(c.target)
        else:
            actual, target = _fmt(c.actual) + unit, _fmt(c.target) + unit
        if c.passed:
            sign = "≥" if c.direction == "min" else "≤"
        else:
            sign = "<" if c.direction == "min" else ">"
        return f"{what} {actual} {sign} {target} {word}"

    def check(self, report: Any) -> list[Finding]:
        """One :class:`~mllife.report.Finding` per criterion.

        Parameters
        ----------
        report : EvaluationReport, ComparisonReport, ChampionChallengerResult or mapping
            See the class Notes for what is read; absent latency, size and
            lift count as missing.

        Returns
        -------
        list of Finding
            ``check="success_criteria"``; severity ``"info"`` when the
            criterion is met, ``"error"`` when it fails or cannot be checked
            (the value is missing or undefined). ``threshold`` is the target;
            ``details`` holds ``criterion``, ``kind``, ``target``, ``actual``,
            ``direction``, ``passed`` and, for an undefined metric, ``reason``.

        Raises
        ------
        InputError
            When a threshold names a metric the report does not compute.

        Examples
        --------
        >>> c = SuccessCriteria({"rmse": 10.0})
        >>> f, = c.check({"metrics": {"RMSE": 12.5}})
        >>> f.severity, f.message
        ('error', 'rmse 12.5 > 10 required')
        >>> f, = c.check({"metrics": {"rmse": float("nan")},
        ...               "undefined": {"rmse": "no rows"}})
        >>> f.message
        'rmse is missing or undefined in the report (no rows); cannot check the criterion rmse ≤ 10'
        """
        findings = []
        for c in self._criteria(report):
            passed = c.passed
            if passed:
                suggestion = ""
            elif c.actual is None and c.kind == "metric":
                suggestion = f"evaluate on data where {c.key} is defined"
            elif c.actual is None:
                suggestion = f"compute {c.key.split(':')[-1]} in the evaluation"
            else:
                suggestion = "improve the model or revisit the criterion with the stakeholders"
            details: dict[str, Any] = {"criterion": c.key, "kind": c.kind, "target": c.target,
                                       "actual": c.actual, "direction": c.direction,
                                       "passed": passed}
            if c.reason:
                details["reason"] = c.reason
            findings.append(Finding(
                "success_criteria", "info" if passed else "error", message=self._message(c),
                threshold=c.target, suggestion=suggestion, details=details,
            ))
        return findings

    def checklist(self, report: Any) -> pd.DataFrame:
        """The criteria as a table: ``item``, ``target``, ``actual``, ``passed``.

        ``actual`` is NaN (and ``passed`` False) when the value is undefined
        in the report (or the latency, size or lift is missing).

        Raises
        ------
        InputError
            When a threshold names a metric the report does not compute.

        Examples
        --------
        >>> c = SuccessCriteria({"recall": 0.8}, max_model_bytes=1_000_000)
        >>> c.checklist({"metrics": {"recall": 0.83}, "model_bytes": 2_500_000})
                  item     target     actual  passed
        0         recall ≥ 0.8        0.8       0.83    True
        1  model size ≤ 1 MB  1000000.0  2500000.0   False
        """
        rows = [(c.item, c.target, np.nan if c.actual is None else c.actual, c.passed)
                for c in self._criteria(report)]
        frame = pd.DataFrame(rows, columns=["item", "target", "actual", "passed"])
        return frame.astype({"target": float, "actual": float, "passed": bool})

    def passed(self, report: Any) -> bool:
        """Whether every criterion is met (``True`` when there are none).

        Raises
        ------
        InputError
            When a threshold names a metric the report does not compute.

        Examples
        --------
        >>> SuccessCriteria({"f1": 0.5}).passed({"metrics": {"f1": 0.61}})
        True
        """
        return all(c.passed for c in self._criteria(report))

    # ---- serialisation -----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The criteria as JSON-safe data (canonical metric names)."""
        return {
            "thresholds": dict(self.thresholds),
            "max_latency_ms": self.max_latency_ms,
            "max_model_bytes": self.max_model_bytes,
            "min_lift_over_baseline": self.min_lift_over_baseline,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SuccessCriteria:
        """Rebuild criteria from :meth:`to_dict` output.

        Raises
        ------
        InputError
            When ``data`` is not a mapping or holds unknown keys.
        """
        if not isinstance(data, Mapping):
            raise InputError(f"criteria data is a {type(data).__name__}", expected="a dict")
        known = {"thresholds", "max_latency_ms", "max_model_bytes", "min_lift_over_baseline"}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise InputError(f"unknown criteria key(s) {', '.join(unknown)}",
                             expected=f"keys among {', '.join(sorted(known))}")
        kwargs = {k: data[k] for k in known - {"thresholds"} if k in data}
        return cls(dict(data.get("thresholds") or {}), **kwargs)

    @classmethod
    def coerce(cls, criteria: Any, *, where: str = "criteria") -> SuccessCriteria:
        """``criteria`` as SuccessCriteria: itself, :meth:`to_dict` output or plain thresholds.

        Raises
        ------
        InputError
            When ``criteria`` is neither a SuccessCriteria nor a dict.

        Examples
        --------
        >>> SuccessCriteria.coerce({"recall": 0.8}).thresholds
        mappingproxy({'recall': 0.8})
        """
        if isinstance(criteria, SuccessCriteria):
            return criteria
        if not isinstance(criteria, Mapping):
            raise InputError(f"{where} is a {type(criteria).__name__}",
                             expected="a SuccessCriteria or a dict")
        if "thresholds" in criteria:
            return cls.from_dict(criteria)
        return cls(dict(criteria))

    def to_markdown(self) -> str:
        """The criteria as a Markdown checklist (``- [ ] recall ≥ 0.8``).

        Examples
        --------
        >>> print(SuccessCriteria({"recall": 0.8}, max_latency_ms=20).to_markdown())
        - [ ] recall ≥ 0.8
        - [ ] latency p95 ≤ 20 ms
        """
        items = [c.item for c in self._items()]
        if self.min_lift_over_baseline is not None:
            items.append(f"lift over baseline ≥ {_fmt(self.min_lift_over_baseline)}")
        return "\n".join(f"- [ ] {item}" for item in items)


def _criteria_from_dict(data: Mapping[str, Any]) -> SuccessCriteria:
    return SuccessCriteria.from_dict(data)
