"""Phase 1, the problem statement: :class:`ProblemSpec`.

Write down, before any model exists, what is predicted, for which unit, how
the data must be split and what "good enough" means
(:class:`~mllife.SuccessCriteria`). Every call that needs a target, a task,
time or group columns, a positive label or criteria accepts ``spec=`` and takes
them from here (:mod:`mllife._spec`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

import pandas as pd

from . import _metrics, _task
from ._criteria import SuccessCriteria
from ._errors import InputError, SchemaError

__all__ = ["TASKS", "ProblemSpec"]

#: The tasks a :class:`ProblemSpec` can describe.
TASKS: tuple[str, ...] = _task.TASKS

_TASK_WORDS = {
    "binary": "binary classification",
    "multiclass": "multiclass classification",
    "regression": "regression",
    "forecast": "forecasting (regression over time)",
}


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
        task = _task.check_task(self.task)
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
        if criteria is not None:
            criteria = SuccessCriteria.coerce(criteria)
            object.__setattr__(self, "criteria", criteria)
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
        return _metrics.DEFAULT_METRICS[self.task]

    @property
    def is_classification(self) -> bool:
        """True for binary and multiclass tasks."""
        return self.task in _task.CLASSIFICATION

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
        problems += [{"column": self.target, "problem": text, "count": None}
                     for text in _task.target_problems(y, self.task)]
        if self.is_classification and self.positive_label is not None and len(present) \
                and not (present == self.positive_label).any():
            problems.append({"column": self.target, "problem":
                             f"positive_label {self.positive_label!r} never occurs in the "
                             "target", "count": None})
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
