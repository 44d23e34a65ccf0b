"""Phase 1, defining the problem: :class:`ProblemSpec` and :class:`SuccessCriteria`.

Write down, before any model exists, what is predicted, for which unit, how
the data must be split and what "good enough" means. The criteria are then
checked against an evaluation report (:func:`mllife.evaluate`) as the
pre-deployment checklist.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from . import _metrics
from ._errors import InputError, SchemaError
from .report import Finding

__all__ = ["METRICS", "TASKS", "ProblemSpec", "SuccessCriteria", "normalize_metric_name"]

#: The tasks a :class:`ProblemSpec` can describe.
TASKS: tuple[str, ...] = ("binary", "multiclass", "regression", "forecast")

#: Every metric name :class:`SuccessCriteria` accepts, with its direction:
#: ``"max"`` when the threshold is a maximum (lower is better), ``"min"`` when
#: it is a minimum (higher is better). The metrics, their directions and
#: aliases are :mod:`mllife._metrics`'s, the ones :func:`mllife.evaluate`
#: computes.
METRICS: Mapping[str, str] = MappingProxyType({
    name: m.direction for name, m in _metrics.METRICS.items()})

_DEFAULT_METRICS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "binary": ("roc_auc", "pr_auc", "recall", "precision", "f1", "log_loss", "brier", "ece"),
    "multiclass": ("balanced_accuracy", "accuracy", "f1", "log_loss"),
    "regression": ("mae", "rmse", "r2", "mape"),
    "forecast": ("mae", "rmse", "mape"),
})

_TASK_WORDS = {
    "binary": "binary classification",
    "multiclass": "multiclass classification",
    "regression": "regression",
    "forecast": "forecasting (regression over time)",
}


def normalize_metric_name(name: Any) -> str:
    """The canonical spelling of a metric name.

    Case and surrounding space are ignored, runs of spaces, hyphens and dots
    become one underscore, ``²`` becomes ``2``, and a few common aliases map
    to the canonical name (``"AUC"`` and ``"ROC-AUC"`` to ``"roc_auc"``,
    ``"average precision"`` to ``"pr_auc"``, ``"R²"`` to ``"r2"``).

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


def _read(report: Any, name: str) -> Any:
    if isinstance(report, Mapping):
        return report.get(name)
    return getattr(report, name, None)


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


@dataclass(frozen=True, eq=False)
class _Criterion:
    item: str        # shown in the checklist: "recall ≥ 0.8"
    key: str         # "recall", "latency_p95_ms", "model_bytes", "lift:recall"
    kind: str        # "metric", "latency", "size", "lift"
    target: float
    direction: str   # "min" or "max"
    actual: float | None

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
    A report is anything with the attributes (or, for a plain dict, keys)
    ``metrics``, ``latency_p95_ms``, ``model_bytes`` and ``lift``, such as
    :class:`mllife.EvaluationReport`. A criterion whose value is missing or
    undefined (NaN) in the report counts as failed: a criterion that cannot
    be checked is not met. :meth:`passed` is ``True`` when there are no
    criteria at all.

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
    def _criteria(self, report: Any) -> list[_Criterion]:
        metrics = _normalized_mapping(_read(report, "metrics"))
        out = []
        for name, target in self.thresholds.items():
            sign = "≥" if METRICS[name] == "min" else "≤"
            out.append(_Criterion(f"{name} {sign} {_fmt(target)}", name, "metric", target,
                                  METRICS[name], _as_float(metrics.get(name))))
        if self.max_latency_ms is not None:
            out.append(_Criterion(f"latency p95 ≤ {_fmt(self.max_latency_ms)} ms",
                                  "latency_p95_ms", "latency", self.max_latency_ms, "max",
                                  _as_float(_read(report, "latency_p95_ms"))))
        if self.max_model_bytes is not None:
            out.append(_Criterion(f"model size ≤ {_fmt_bytes(self.max_model_bytes)}",
                                  "model_bytes", "size", float(self.max_model_bytes), "max",
                                  _as_float(_read(report, "model_bytes"))))
        if self.min_lift_over_baseline is not None:
            lifts = _normalized_mapping(_read(report, "lift"))
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
            return f"{what} is missing or undefined in the report; cannot check the criterion " \
                   f"{c.item}"
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
        report : EvaluationReport or mapping
            Anything with ``metrics``, ``latency_p95_ms``, ``model_bytes`` and
            ``lift`` as attributes or keys; absent ones count as missing.

        Returns
        -------
        list of Finding
            ``check="success_criteria"``; severity ``"info"`` when the
            criterion is met, ``"error"`` when it fails or cannot be checked
            (the value is missing or undefined). ``threshold`` is the target;
            ``details`` holds ``criterion``, ``kind``, ``target``, ``actual``,
            ``direction`` and ``passed``.

        Examples
        --------
        >>> c = SuccessCriteria({"rmse": 10.0})
        >>> f, = c.check({"metrics": {"RMSE": 12.5}})
        >>> f.severity, f.message
        ('error', 'rmse 12.5 > 10 required')
        """
        findings = []
        for c in self._criteria(report):
            passed = c.passed
            if passed:
                suggestion = ""
            elif c.actual is None:
                suggestion = f"compute {c.key.split(':')[-1]} in the evaluation"
            else:
                suggestion = "improve the model or revisit the criterion with the stakeholders"
            findings.append(Finding(
                "success_criteria", "info" if passed else "error", message=self._message(c),
                threshold=c.target, suggestion=suggestion,
                details={"criterion": c.key, "kind": c.kind, "target": c.target,
                         "actual": c.actual, "direction": c.direction, "passed": passed},
            ))
        return findings

    def checklist(self, report: Any) -> pd.DataFrame:
        """The criteria as a table: ``item``, ``target``, ``actual``, ``passed``.

        ``actual`` is NaN (and ``passed`` False) when the report lacks the value.

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

    def to_markdown(self) -> str:
        """The criteria as a Markdown checklist (``- [ ] recall ≥ 0.8``).

        Examples
        --------
        >>> print(SuccessCriteria({"recall": 0.8}, max_latency_ms=20).to_markdown())
        - [ ] recall ≥ 0.8
        - [ ] latency p95 ≤ 20 ms
        """
        items = [c.item for c in self._criteria({"lift": {}})]
        if self.min_lift_over_baseline is not None:
            items[-1] = f"lift over baseline ≥ {_fmt(self.min_lift_over_baseline)}"
        return "\n".join(f"- [ ] {item}" for item in items)


def _criteria_from_dict(data: Mapping[str, Any]) -> SuccessCriteria:
    return SuccessCriteria.from_dict(data)


def _as_names(value: Any, what: str) -> tuple[Hashable, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Iterable):
        value = (value,)
    names = tuple(value)
    for name in names:
        if not isinstance(name, Hashable) or name is None:
            raise InputError(f"{what} holds {name!r}", expected="column names")
    if len(set(names)) != len(names):
        raise InputError(f"{what} names a column twice", expected="distinct column names")
    return names


@dataclass(frozen=True)
class ProblemSpec:
    """The problem statement, written before modelling (phase 1).

    Parameters
    ----------
    target : str
        The column to predict.
    task : {"binary", "multiclass", "regression", "forecast"}
    time_col : str, optional
        The column holding when a row was observed. When given, the split
        must be by time; required for ``"forecast"``.
    group_col : str, optional
        The entity the rows belong to (customer, patient...); all rows of one
        group must stay on the same side of every split.
    sensitive_features : sequence of str, default=()
        Columns along which fairness must be evaluated.
    positive_label : scalar, optional
        The class of interest of a binary task (recall, precision and
        PR-AUC are about it).
    criteria : SuccessCriteria or dict, optional
        The success criteria; a dict is either ``SuccessCriteria.to_dict()``
        output or plain metric thresholds.

    Raises
    ------
    InputError
        For an unknown task, a forecast without ``time_col``, the target also
        used as time, group or sensitive column, ``positive_label`` on a
        task other than binary, or criteria whose metrics do not fit the task
        (``rmse`` for a classifier, ``recall`` for a regression).

    Examples
    --------
    >>> spec = ProblemSpec("churned", "binary", time_col="last_event_at",
    ...                    group_col="customer_id", positive_label=1,
    ...                    criteria=SuccessCriteria({"recall": 0.8}))
    >>> spec.default_metrics[:3]
    ('roc_auc', 'pr_auc', 'recall')
    >>> print(spec.to_markdown().splitlines()[0])
    # Problem statement: predict `churned`
    >>> ProblemSpec.from_dict(spec.to_dict()) == spec
    True
    """

    target: Hashable
    task: str
    _: KW_ONLY
    time_col: Hashable | None = None
    group_col: Hashable | None = None
    sensitive_features: tuple[Hashable, ...] = ()
    positive_label: Any = None
    criteria: SuccessCriteria | None = field(default=None)

    def __post_init__(self) -> None:
        if self.target is None or not isinstance(self.target, Hashable):
            raise InputError(f"target is {self.target!r}", expected="a column name")
        task = self.task.strip().casefold() if isinstance(self.task, str) else self.task
        if task not in TASKS:
            raise InputError(f"task {self.task!r} is not known", expected=f"one of {', '.join(TASKS)}")
        object.__setattr__(self, "task", task)
        sensitive = _as_names(self.sensitive_features, "sensitive_features")
        object.__setattr__(self, "sensitive_features", sensitive)
        if task == "forecast" and self.time_col is None:
            raise InputError("a forecast needs a time column",
                             expected="time_col naming the column with the timestamps")
        roles = {"time_col": self.time_col, "group_col": self.group_col}
        for role, column in roles.items():
            if column is not None and column == self.target:
                raise InputError(f"{role} is the target", column=column,
                                 expected="a column other than the target")
        if self.target in sensitive:
            raise InputError("the target is listed as a sensitive feature", column=self.target,
                             expected="sensitive features other than the target")
        if self.positive_label is not None and task != "binary":
            raise InputError(f"positive_label is set for a {task} task",
                             expected="positive_label only with task='binary'")
        criteria = self.criteria
        if criteria is not None and not isinstance(criteria, SuccessCriteria):
            if not isinstance(criteria, Mapping):
                raise InputError(f"criteria is a {type(criteria).__name__}",
                                 expected="a SuccessCriteria or a dict")
            if "thresholds" in criteria:
                criteria = SuccessCriteria.from_dict(criteria)
            else:
                criteria = SuccessCriteria(dict(criteria))
            object.__setattr__(self, "criteria", criteria)
        if criteria is not None:
            allowed = frozenset(_metrics.for_task(task))
            wrong = [m for m in criteria.metrics if m not in allowed]
            if wrong:
                raise InputError(
                    f"success criteria metric(s) {', '.join(wrong)} do not apply to a {task} task",
                    expected=f"metrics among {', '.join(sorted(allowed))}",
                )

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (_spec_from_dict, (self.to_dict(),))

    @property
    def default_metrics(self) -> tuple[str, ...]:
        """The metrics worth reporting for this task, most telling first."""
        return _DEFAULT_METRICS[self.task]

    @property
    def is_classification(self) -> bool:
        """True for binary and multiclass tasks."""
        return self.task in ("binary", "multiclass")

    # ---- the one-pager -------------------------------------------------------------
    def _unit(self) -> str:
        unit = "one prediction per row"
        if self.time_col is not None:
            unit += f", made as of the time in `{self.time_col}`"
        if self.group_col is not None:
            unit += f"; rows belong to a `{self.group_col}`, so one entity can have many rows"
        return unit + "."

    def _split_advice(self) -> list[str]:
        lines = []
        if self.time_col is not None:
            lines.append(
                f"- **By time** on `{self.time_col}`: validation and test rows strictly later "
                "than every training row, ties never straddling a boundary, with a gap at least "
                "as long as the label horizon (`mllife.split(df, time_col=...)`; cross-validate "
                "with `PurgedTimeSeriesSplit`). A random split would let the future train the model."
            )
        if self.group_col is not None:
            lines.append(
                f"- **By group** on `{self.group_col}`: every row of one group in the same set "
                "(`mllife.split(df, group_col=...)`; `TimeSeriesGroupSplit` when time matters too). "
                "Otherwise the model is scored on entities it has already seen."
            )
        if not lines:
            strat = "stratified on the target" if self.is_classification else "shuffled"
            lines.append(f"- **Random**, {strat}, with duplicate rows kept on one side "
                         "(`mllife.split(df)`; `DuplicateAwareKFold` for cross-validation).")
        lines.append("- The test set is touched once, at the end; all fitting (imputers, "
                     "encoders, scalers) learns from the training part only.")
        return lines

    def to_markdown(self) -> str:
        """The one-page problem statement as Markdown.

        Target and task, the unit of prediction, how the split must be done
        given the time and group columns, the sensitive features, the success
        criteria as a checklist and the default metrics for the task.

        Examples
        --------
        >>> text = ProblemSpec("price", "regression").to_markdown()
        >>> "## How to split" in text and "`mae`" in text
        True
        """
        task = _TASK_WORDS[self.task]
        lines = [f"# Problem statement: predict `{self.target}`", "",
                 f"- **Target:** `{self.target}`", f"- **Task:** {task}"]
        if self.task == "binary":
            label = "not stated (say which class matters)" if self.positive_label is None \
                else f"`{self.positive_label}`"
            lines.append(f"- **Positive class:** {label}")
        lines.append(f"- **Unit of prediction:** {self._unit()}")
        if self.time_col is not None:
            lines.append(f"- **Time column:** `{self.time_col}`")
        if self.group_col is not None:
            lines.append(f"- **Group column:** `{self.group_col}`")
        lines += ["", "## How to split", "", *self._split_advice(), "", "## Sensitive features", ""]
        if self.sensitive_features:
            names = ", ".join(f"`{c}`" for c in self.sensitive_features)
            lines.append(f"Fairness is evaluated by group along {names} "
                         "(`evaluate(..., sensitive_features=...)`): metric by group, group "
                         "sizes, demographic parity and equalized odds differences.")
        else:
            lines.append("None declared. Decide explicitly whether fairness must be checked.")
        lines += ["", "## Success criteria", ""]
        if self.criteria is not None and len(self.criteria):
            lines.append(self.criteria.to_markdown())
        else:
            lines.append("None written down yet: agree on them before modelling.")
        lines += ["", "## Metrics to report", "",
                  ", ".join(f"`{m}`" for m in self.default_metrics) + "; "
                  + ("and the lift over an honest baseline (`baseline(task)`)."
                     if self.task != "forecast" else
                     "and the lift over a naive forecaster (`NaiveForecaster`).")]
        return "\n".join(lines) + "\n"

    # ---- data check ------------------------------------------------------------------
    def validate(self, df: pd.DataFrame) -> None:
        """Check that a frame fits the spec, reporting every problem at once.

        The columns exist; the target has no missing values, has exactly two
        classes (binary, including ``positive_label``), at least two
        (multiclass) or is numeric (regression, forecast); the time column
        holds datetimes or numbers.

        Parameters
        ----------
        df : pandas.DataFrame

        Raises
        ------
        SchemaError
            Listing every problem found.

        Examples
        --------
        >>> import pandas as pd
        >>> spec = ProblemSpec("y", "binary")
        >>> spec.validate(pd.DataFrame({"y": [0, 1, 1]}))
        >>> spec.validate(pd.DataFrame({"y": [1, 1, 1]}))
        Traceback (most recent call last):
        ...
        mllife._errors.SchemaError: 1 schema problem: column 'y': binary target has 1 class...
        """
        if not isinstance(df, pd.DataFrame):
            raise InputError(f"df is a {type(df).__name__}", expected="a pandas DataFrame")
        problems: list[dict[str, Any]] = []
        columns = [self.target, self.time_col, self.group_col, *self.sensitive_features]
        for column in columns:
            if column is not None and column not in df.columns:
                problems.append({"column": column, "problem": "missing column", "count": None})
        if self.target in df.columns:
            problems += self._target_problems(df[self.target])
        if self.time_col is not None and self.time_col in df.columns:
            s = df[self.time_col]
            is_time = pd.api.types.is_datetime64_any_dtype(s.dtype) or (
                pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype))
            if not is_time:
                problems.append({"column": self.time_col, "problem":
                                 f"time column has dtype {s.dtype}; expected datetimes or numbers "
                                 "(parse it with DatetimeParser)", "count": None})
        if problems:
            raise SchemaError(problems)

    def _target_problems(self, y: pd.Series) -> list[dict[str, Any]]:
        problems: list[dict[str, Any]] = []
        missing = int(y.isna().sum())
        if missing:
            problems.append({"column": self.target, "problem": "target has missing values",
                             "count": missing})
        present = y.dropna()
        if self.is_classification:
            classes = pd.unique(present)
            n = len(classes)
            if self.task == "binary" and n != 2:
                problems.append({"column": self.target, "problem":
                                 f"binary target has {n} class{'es' if n != 1 else ''}; "
                                 "expected exactly 2", "count": None})
            if self.task == "multiclass" and n < 2:
                problems.append({"column": self.target, "problem":
                                 f"multiclass target has {n} class; expected at least 2",
                                 "count": None})
            if self.positive_label is not None and n and not (present == self.positive_label).any():
                problems.append({"column": self.target, "problem":
                                 f"positive_label {self.positive_label!r} never occurs in the "
                                 "target", "count": None})
        elif not (pd.api.types.is_numeric_dtype(y.dtype) and not pd.api.types.is_bool_dtype(y.dtype)):
            problems.append({"column": self.target, "problem":
                             f"{self.task} target has dtype {y.dtype}; expected numbers",
                             "count": None})
        return problems

    # ---- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (criteria as :meth:`SuccessCriteria.to_dict`)."""
        from .report import jsonable

        return {
            "target": jsonable(self.target),
            "task": self.task,
            "time_col": jsonable(self.time_col),
            "group_col": jsonable(self.group_col),
            "sensitive_features": jsonable(list(self.sensitive_features)),
            "positive_label": jsonable(self.positive_label),
            "criteria": None if self.criteria is None else self.criteria.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProblemSpec:
        """Rebuild a spec from :meth:`to_dict` output.

        Raises
        ------
        InputError
            When ``data`` is not a mapping, lacks ``target``/``task`` or holds unknown keys.
        """
        if not isinstance(data, Mapping):
            raise InputError(f"spec data is a {type(data).__name__}", expected="a dict")
        known = {"target", "task", "time_col", "group_col", "sensitive_features",
                 "positive_label", "criteria"}
        unknown = sorted(str(k) for k in data if k not in known)
        missing = [k for k in ("target", "task") if k not in data]
        if unknown or missing:
            raise InputError(
                f"spec data has unknown key(s) {unknown} and lacks {missing}",
                expected=f"keys among {', '.join(sorted(known))}, with target and task",
            )
        kwargs = {k: data[k] for k in known - {"target", "task"} if k in data}
        kwargs["sensitive_features"] = tuple(kwargs.get("sensitive_features") or ())
        return cls(data["target"], data["task"], **kwargs)


def _spec_from_dict(data: Mapping[str, Any]) -> ProblemSpec:
    return ProblemSpec.from_dict(data)
