"""``retrain``: fit a challenger on new data and promote it only when it beats the bundle."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import _metrics
from .._criteria import SuccessCriteria
from .._errors import InputError, MllifeError, ModelError, SchemaError
from .._frame import as_frame, as_series
from .._spec import resolve_spec
from .._task import infer_task
from ..bundle import ModelBundle
from ..evaluation._champion import ChampionChallengerResult, compare_champion
from ..evaluation._champion_metrics import METRICS as CHAMPION_METRICS
from ..report import Finding

__all__ = ["DEFAULT_METRIC", "RetrainResult", "bump_version", "retrain"]

#: The deciding metric when neither ``metric=``, the criteria nor the bundle name one.
DEFAULT_METRIC: Mapping[str, str] = {"binary": "roc_auc", "multiclass": "accuracy",
                                     "regression": "mae", "forecast": "mae"}


@dataclass(frozen=True)
class RetrainResult:
    """What :func:`retrain` decided: the comparison, the reasons and the new bundle.

    Attributes
    ----------
    promote : bool
        ``True`` when the challenger beat the current model on the holdout
        (:func:`~mllife.compare_champion` promotes) and meets the criteria.
    reasons : tuple of str
        The comparison's decision and reason, then one sentence per
        criterion that failed (or that the criteria were met).
    comparison : ChampionChallengerResult
        The champion/challenger comparison on the holdout.
    bundle : ModelBundle or None
        The new bundle when promoted: the parent's schema, the version
        bumped, lineage in ``metadata`` (``parent_version``, ``trained_at``,
        ``data_rows``, ``data_window``), the comparison's metrics and, when
        the parent had one, a drift profile of the new training inputs.
    criteria_findings : tuple of Finding
        :meth:`SuccessCriteria.check` of the challenger on the holdout
        (empty without criteria).
    """

    promote: bool
    reasons: tuple[str, ...]
    comparison: ChampionChallengerResult
    bundle: ModelBundle | None = None
    criteria_findings: tuple[Finding, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-safe data: the decision, the comparison and the new bundle's facts."""
        bundle = None
        if self.bundle is not None:
            bundle = {"version": self.bundle.version, "metadata": dict(self.bundle.metadata),
                      "metrics": dict(self.bundle.metrics),
                      "drift_profile": self.bundle.drift_profile is not None}
        return {"promote": self.promote, "reasons": list(self.reasons),
                "comparison": self.comparison.to_dict(),
                "criteria_findings": [f.to_dict() for f in self.criteria_findings], "bundle": bundle}

    def __repr__(self) -> str:
        what = f"version {self.bundle.version!r}" if self.bundle is not None else "no new bundle"
        return (f"<RetrainResult promote={self.promote} {self.comparison.metric} "
                f"{self.comparison.champion_score:.4g} -> {self.comparison.challenger_score:.4g}, "
                f"{what}>")


def bump_version(version: str) -> str:
    """The next version: the last number plus one, else ``"<version>.1"``.

    Zero padding is kept.

    Examples
    --------
    >>> bump_version("1.4.2"), bump_version("v7"), bump_version("2024-09"), bump_version("prod")
    ('1.4.3', 'v8', '2024-10', 'prod.1')
    """
    match = re.search(r"(\d+)(?!.*\d)", version)
    if match is None:
        return f"{version}.1"
    digits = match.group(1)
    head = digits.rstrip("9")     # decimal carry on the text: no int() of a huge number
    nines = len(digits) - len(head)
    bumped = f"{head[:-1]}{int(head[-1]) + 1}" if head else "1"
    return f"{version[:match.start()]}{bumped}{'0' * nines}{version[match.end():]}"


def retrain(
    bundle: ModelBundle,
    estimator: Any,
    data: Any,
    *,
    holdout: Any,
    criteria: Any = None,
    version: str | None = None,
    target: Hashable | None = None,
    metric: str | None = None,
    random_state: Any = None,
    trained_at: Any = None,
    spec: Any = None,
) -> RetrainResult:
    """Fit a clone of ``estimator`` on new data; promote it only if it beats ``bundle``.

    Both sets are validated with ``bundle.schema`` (the challenger learns
    from the same contract the current model serves); ``sklearn.base.clone``
    of ``estimator`` is fitted on ``data``; the current model and the
    challenger are compared on ``holdout`` with
    :func:`~mllife.compare_champion` (paired bootstrap and test). The
    challenger is promoted only when the comparison promotes it **and** it
    meets ``criteria`` on the holdout (:meth:`SuccessCriteria.check` of its
    :func:`~mllife.evaluate` report). Nothing passed in is modified.

    Parameters
    ----------
    bundle : ModelBundle
        The model in production.
    estimator : estimator
        An unfitted (or fitted: it is cloned) scikit-learn estimator.
    data, holdout : tuple or DataFrame
        ``(X, y)``, or a frame holding the target column.
    criteria : SuccessCriteria or dict, optional
        What the challenger must meet on the holdout.
    version : str, optional
        The new bundle's version. Default: the parent's last number plus one
        (``"1.4.2"`` -> ``"1.4.3"``, ``"v7"`` -> ``"v8"``), else
        ``"<parent>.1"``.
    target : column label, optional
        The target column of frames. Default: ``bundle.metadata["target"]``.
    metric : str, optional
        The deciding metric. Default: the first threshold metric of
        ``criteria``, else the first metric of ``bundle.metrics`` that fits
        the task, else ``roc_auc`` (binary), ``accuracy`` (multiclass) or
        ``mae`` (regression).
    random_state : None, int or Generator, default=None
        Seed of the comparison's bootstrap and of the evaluation; ``None``
        is seed 0.
    trained_at : Timestamp or str, optional
        The new bundle's ``metadata["trained_at"]`` (what
        :class:`RetrainPolicy` anchors on). Default: now, in UTC. Pass the
        end of the training data when replaying history.
    spec : ProblemSpec, optional
        Supplies ``target``, ``criteria`` and the positive label of the
        comparison; explicit keywords that disagree with it raise.

    Returns
    -------
    RetrainResult

    Raises
    ------
    InputError
        When ``bundle`` is not a ModelBundle, ``estimator`` cannot be cloned,
        a frame has no target column (neither ``target=`` nor
        ``bundle.metadata["target"]``), ``X`` and ``y`` differ in length, a
        target is missing, the metric does not fit the task, or ``version``
        is empty or the parent's.
    SchemaError
        When ``data`` or ``holdout`` breaks the bundle's schema (the message
        names the set).
    ModelError
        When fitting the challenger fails.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from mllife.bundle import InputSchema, ModelBundle
    >>> from mllife.datasets import make_churn
    >>> frame = make_churn(3000, random_state=0, defects=False).frame
    >>> X = frame[["tenure_months", "monthly_charges", "support_tickets"]]
    >>> y = frame["churned"]
    >>> old = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X[:1000], y[:1000])
    >>> bundle = ModelBundle(old, InputSchema.infer(X), version="1.0.0")
    >>> result = retrain(bundle, LogisticRegression(max_iter=1000), (X[1000:2000], y[1000:2000]),
    ...                  holdout=(X[2000:], y[2000:]), trained_at="2024-06-30")
    >>> result.promote, result.bundle.version, result.bundle.metadata["parent_version"]
    (True, '1.0.1', '1.0.0')
    """
    if not isinstance(bundle, ModelBundle):
        raise InputError(f"bundle is a {type(bundle).__name__}", expected="a ModelBundle")
    resolved = resolve_spec(spec, where="retrain", target=target, criteria=criteria, positive_label=None)
    target, criteria = resolved["target"], resolved["criteria"]
    new_version = _new_version(bundle.version, version)
    stamp = _trained_at(trained_at)
    column = target if target is not None else bundle.metadata.get("target")
    X_raw, y = _split(data, "data", column)
    X_hold_raw, y_hold = _split(holdout, "holdout", column)
    window = _data_window(data, X_raw, bundle.metadata.get("time_col"))   # before fitting
    challenger = _clone(estimator)
    X_fit = _model_input(bundle, X_raw, "data")
    X_hold = _model_input(bundle, X_hold_raw, "holdout")
    challenger = _fit(challenger, X_fit, y)
    rules = None if criteria is None else SuccessCriteria.coerce(criteria)
    task = infer_task(y_hold, model=bundle.model)
    name = _deciding_metric(metric, rules, bundle, task)
    comparison = compare_champion(bundle.model, challenger, X_hold, y_hold, metric=name,
                                  random_state=random_state, positive_label=resolved["positive_label"])
    checked: tuple[Finding, ...] = ()
    if rules is not None and len(rules):
        checked = tuple(rules.check(_evaluation(challenger, X_hold, y_hold, X_fit, y, rules,
                                                random_state)))
    failed = [f for f in checked if f.severity == "error"]
    reasons = [f"compare_champion: {comparison.decision} on {comparison.metric} "
               f"({comparison.champion_score:.4g} -> {comparison.challenger_score:.4g}): "
               f"{comparison.reason}"]
    reasons += [f"criteria not met: {f.message}" for f in failed]
    if checked and not failed:
        reasons.append(f"criteria met on the holdout: {'; '.join(f.message for f in checked)}")
    promote = comparison.promote and not failed
    if not promote:
        return RetrainResult(False, tuple(reasons), comparison, None, checked)
    metadata = {**bundle.metadata, "parent_version": bundle.version, "trained_at": stamp,
                "data_rows": len(X_raw), "data_window": window}
    if column is not None and "target" not in metadata:
        metadata["target"] = column
    new = ModelBundle(challenger, bundle.schema, version=new_version, metadata=metadata,
                      metrics=_comparison_metrics(comparison),
                      drift_profile=_profile(bundle.drift_profile, X_raw))
    return RetrainResult(True, tuple(reasons), comparison, new, checked)


# ---- steps ---------------------------------------------------------------------------------
def _new_version(parent: str, version: Any) -> str:
    if version is None:
        return bump_version(parent)
    if not isinstance(version, str) or not version.strip():
        raise InputError(f"version={version!r}", expected="a non-empty string")
    if version == parent:
        raise InputError(f"version={version!r} is the current bundle's version",
                         expected="a new version for the retrained model")
    return version


def _trained_at(value: Any) -> str:
    if value is None:
        return _dt.datetime.now(_dt.UTC).isoformat()
    if isinstance(value, bool | int | float | np.number):   # a number has no unit of time
        raise InputError(f"trained_at={value!r} is not a time",
                         expected="a Timestamp, datetime or ISO 8601 text")
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        stamp = pd.NaT
    if stamp is pd.NaT or pd.isna(stamp):
        raise InputError(f"trained_at={value!r} is not a time",
                         expected="a Timestamp, datetime or ISO 8601 text")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return stamp.isoformat()


def _split(data: Any, what: str, target: Hashable | None) -> tuple[pd.DataFrame, pd.Series]:
    """``(X, y)`` of a set: a pair as given, or a frame split on its target column."""
    if isinstance(data, tuple | list) and len(data) == 2 and not (
            data and isinstance(data[0], Mapping) and isinstance(data[1], Mapping)):
        X, y = as_frame(data[0], name=f"{what} X"), as_series(data[1], name="y")
    else:
        frame = as_frame(data, name=what)
        if target is None:
            raise InputError(f"{what} is a frame, and no target column is known",
                             expected="target=..., bundle.metadata['target'], or (X, y)")
        if target not in frame.columns:
            raise InputError(f"{what} has no target column", column=target,
                             expected="the target column in the frame, or (X, y)")
        X, y = frame.drop(columns=[target]), frame[target]
    if len(X) != len(y):
        raise InputError(f"{what}: X has {len(X)} rows but y has {len(y)}",
                         expected="one target per row")
    if len(X) == 0:
        raise InputError(f"{what} has no rows", expected="rows to fit or compare on")
    missing = int(y.isna().sum())
    if missing:
        raise InputError(f"{what}: the target has missing values", column=y.name,
                         n_rows=missing, expected="a label or value for every row")
    if isinstance(data, tuple | list) and not X.index.equals(y.index):
        y = pd.Series(y.to_numpy(), index=X.index, name=y.name)
    return X, y


def _model_input(bundle: ModelBundle, X: pd.DataFrame, what: str) -> Any:
    """``X`` validated by the bundle's schema, as the model takes it; a SchemaError names the set."""
    try:
        valid = bundle.schema.validate(X)
    except SchemaError as err:
        raise SchemaError(err.problems, f"{what} breaks the bundle's schema: {err}") from None
    return bundle._model_input(valid)


def _clone(estimator: Any) -> Any:
    from sklearn.base import clone

    try:
        return clone(estimator)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InputError(f"estimator {type(estimator).__name__} cannot be cloned ({exc})",
                         expected="a scikit-learn estimator (get_params/set_params)") from None


def _fit(model: Any, X: Any, y: pd.Series) -> Any:
    try:
        return model.fit(X, y)
    except MllifeError:
        raise
    except (Exception, MemoryError) as exc:
        raise ModelError(f"fitting {type(model).__name__} on {len(y)} rows failed: "
                         f"{type(exc).__name__}: {str(exc)[:200]}") from exc


def _deciding_metric(metric: Any, criteria: SuccessCriteria | None, bundle: ModelBundle,
                     task: str) -> str:
    if metric is not None:
        return _metrics.check_name(metric, task=task, what="metric").name
    if criteria is not None and criteria.metrics:
        return _metrics.check_name(criteria.metrics[0], task=task,
                                   what="the criteria's first metric").name
    for key in bundle.metrics:
        found = _metrics.lookup(key)
        if found is not None and task in found.tasks and found.name in CHAMPION_METRICS:
            return found.name
    return DEFAULT_METRIC[task]


def _evaluation(model: Any, X: Any, y: pd.Series, X_fit: Any, y_fit: pd.Series,
                criteria: SuccessCriteria, random_state: Any) -> Any:
    """The challenger's evaluation on the holdout, as the criteria need it."""
    from ..evaluation._evaluate import evaluate

    lift = criteria.min_lift_over_baseline is not None
    measure = criteria.max_latency_ms is not None or criteria.max_model_bytes is not None
    return evaluate(model, X, y, X_train=X_fit if lift else None, y_train=y_fit if lift else None,
                    baseline="auto" if lift else None, measure=measure,
                    random_state=random_state)


def _data_window(data: Any, X: pd.DataFrame, time_col: Any) -> dict[str, Any] | None:
    """The time range of the training rows, when the bundle names a time column they hold."""
    if time_col is None:
        return None
    if time_col in X.columns:
        values = X[time_col]
    elif isinstance(data, pd.DataFrame) and time_col in data.columns:
        values = data[time_col]
    else:
        return None
    from .._time import read_time

    times = read_time(values, column=time_col).dropna()
    if pd.api.types.is_numeric_dtype(times.dtype):      # numeric times: finite ones only
        times = times[np.isfinite(times.to_numpy(dtype=float))]
    if times.empty:
        return None
    low, high = times.min(), times.max()
    return {"column": str(time_col), "start": _iso(low), "end": _iso(high)}


def _iso(value: Any) -> Any:
    if isinstance(value, pd.Timestamp | pd.Period):
        return str(value.isoformat()) if isinstance(value, pd.Timestamp) else str(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _comparison_metrics(comparison: ChampionChallengerResult) -> dict[str, float]:
    """The challenger's scores on the holdout: the deciding metric and the guards."""
    out = {comparison.metric: float(comparison.challenger_score)}
    guards = comparison.guards
    for row in guards.itertuples(index=False) if len(guards) else ():
        out[str(row.metric)] = float(row.challenger)
    return out


def _profile(parent: Any, X: pd.DataFrame) -> Any:
    """A drift profile of the new training inputs, shaped like the parent's (None without one)."""
    if parent is None:
        return None
    from ..drift import DriftProfile

    columns = [c for c in parent.columns if c in X.columns] or list(X.columns)
    return DriftProfile.fit(X, columns=columns, exact_size=parent.exact_size,
                            sketch_size=parent.sketch_size, n_bins=parent.n_bins)
