"""Champion against challenger: :func:`compare_champion` and its result.

Is the new model really better than the one in production, or did it win by
the luck of the test set? Both models are scored on the same rows, so the
comparison is paired: the bootstrap resamples rows (each resample scores both
models on the same rows, and the interval is BCa) and the tests are the paired
ones (McNemar for accuracy; DeLong, or a paired permutation test with few
positives, for ROC-AUC; a paired permutation test for binary PR-AUC and for
the metrics built from per-row values). A test set with
fewer events than the metric needs (:data:`~._champion_metrics.MIN_EVENTS`,
and for squared errors more rows the heavier the challenger's error tails)
never promotes.

Every metric of the vocabulary (:mod:`mllife._metrics`) is supported for the
tasks where it is defined; the task is :func:`mllife._task.infer_task`'s, with
the metric saying classification or regression.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import _metrics
from .._compat import ensure_fitted
from .._errors import InputError, NotFittedError
from .._frame import as_frame, as_series, check_unique_columns, is_native
from .._random import as_generator
from .._task import check_task, estimator_kind, infer_task
from ..report import Finding, Plot, Report
from . import _champion_metrics as cm
from ._stats_champion import (
    DELONG_MIN_EVENTS,
    PlanSet,
    bca,
    count_chunks,
    delong,
    mcnemar,
    rank_permutation,
    swap_permutation,
)

__all__ = ["ChampionChallengerResult", "compare_champion"]

_GUARD_COLUMNS = ["metric", "champion", "challenger", "difference", "ci_low", "ci_high",
                  "tolerance", "passed"]


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ChampionChallengerResult(Report):
    """The outcome of :func:`compare_champion`: should the challenger replace the champion?

    ``difference`` and its interval are signed so that a positive value means
    the challenger is better, whichever way the metric runs (for ``log_loss``
    or ``rmse`` it is champion minus challenger).

    Attributes
    ----------
    metric : str
        The deciding metric (canonical name).
    champion_score, challenger_score : float
        The metric of each model on all rows.
    difference : float
        Challenger's advantage (positive = better).
    ci_low, ci_high : float
        BCa (bias-corrected and accelerated) bootstrap interval of
        ``difference`` at ``confidence``.
    p_value : float
        Two-sided p-value of "no difference" from ``test``.
    test : str
        ``"mcnemar-exact"``, ``"mcnemar-chi2"`` (accuracy), ``"delong"``
        (binary ROC-AUC with at least 50 rows in each class),
        ``"permutation"`` (binary ROC-AUC with fewer, binary PR-AUC, and the
        metrics built from per-row values: log loss, Brier, the regression
        metrics, binary precision/recall/F1, balanced accuracy) or
        ``"bootstrap"`` (every other case: the BCa interval inverted).
    statistic : float or None
        The test statistic (McNemar chi-square or smaller discordant count,
        DeLong z, the metric difference for the permutation tests); ``None``
        for the bootstrap.
    decision : {"promote", "keep"}
        ``"promote"`` happens for a challenger that is not better in at most
        ``alpha / 2`` of test sets (checked in seeded simulations), and never
        when ``n_events < min_events``.
    reason : str
        Why, in one sentence.
    n_events, min_events : int
        The events the deciding metric has on this test set (rows, or rows
        of the smallest class for ROC-AUC, PR-AUC, precision, recall, F1 and
        balanced accuracy) and the fewest it needs; below it the champion is
        kept and a ``champion_min_events`` warning says so. For ``mse``,
        ``rmse`` and ``r2`` the minimum grows with the kurtosis ``k`` of the
        challenger's errors: ``max(100, ceil(2 (k - 1) ** 5))`` rows (64 at
        Gaussian errors' 3, 6,250 at 6); ``details`` holds both models'
        error kurtosis.
    guards : pandas.DataFrame
        One row per guard metric: ``metric``, ``champion``, ``challenger``,
        ``difference``, ``ci_low``, ``ci_high``, ``tolerance``, ``passed``.
    differences : numpy.ndarray
        The bootstrap distribution of ``difference`` (one value per resample,
        NaN where the metric was undefined).

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.dummy import DummyClassifier
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = make_classification(400, random_state=0)
    >>> old = DummyClassifier().fit(X, y)
    >>> new = LogisticRegression().fit(X, y)
    >>> result = compare_champion(old, new, X, y, metric="accuracy", n_boot=200, random_state=0)
    >>> result.decision, result.test
    ('promote', 'mcnemar-chi2')
    """

    metric: str = ""
    higher_is_better: bool = True
    champion_score: float = float("nan")
    challenger_score: float = float("nan")
    difference: float = float("nan")
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    confidence: float = 0.95
    p_value: float = float("nan")
    test: str = ""
    statistic: float | None = None
    alpha: float = 0.05
    decision: str = "keep"
    reason: str = ""
    guards: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_GUARD_COLUMNS))
    n_rows: int = 0
    n_boot: int = 0
    n_boot_valid: int = 0
    n_events: int = 0
    min_events: int = 0
    differences: np.ndarray = field(default_factory=lambda: np.empty(0))
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        diffs = np.array(self.differences, dtype=float)
        diffs.setflags(write=False)
        object.__setattr__(self, "differences", diffs)
        object.__setattr__(self, "guards", self.guards.copy())
        object.__setattr__(self, "details", dict(self.details))

    @property
    def promote(self) -> bool:
        """``decision == "promote"``."""
        return self.decision == "promote"

    def _summary(self) -> Mapping[str, Any]:
        level = f"{self.confidence:.0%} CI"
        return {
            "metric": self.metric,
            "champion": self.champion_score,
            "challenger": self.challenger_score,
            "difference (challenger better > 0)": self.difference,
            level: f"[{self.ci_low:.4g}, {self.ci_high:.4g}]",
            "p-value": self.p_value,
            "test": self.test,
            "decision": self.decision,
        }

    def _tables(self) -> Mapping[str, pd.DataFrame]:
        main = pd.DataFrame([{
            "metric": self.metric, "champion": self.champion_score,
            "challenger": self.challenger_score, "difference": self.difference,
            "ci_low": self.ci_low, "ci_high": self.ci_high, "tolerance": np.nan,
            "passed": bool(self.difference > 0 and self.ci_low > 0 and self.p_value < self.alpha
                           and self.n_events >= self.min_events),
        }])
        table = pd.concat([main, self.guards], ignore_index=True) if len(self.guards) else main
        return {"comparison": table}

    def _derive_findings(self) -> Sequence[Finding]:
        out = [Finding("champion_challenger", "info", message=f"{self.decision}: {self.reason}",
                       n_rows=self.n_rows, threshold=self.alpha,
                       details={"decision": self.decision, "metric": self.metric,
                                "p_value": self.p_value, "test": self.test})]
        for row in self.guards.itertuples(index=False) if len(self.guards) else ():
            if not row.passed:
                out.append(Finding(
                    "champion_guard", "warning",
                    message=f"challenger is worse on guard metric {row.metric} by "
                            f"{-row.difference:.4g} (tolerance {row.tolerance:.4g})",
                    threshold=row.tolerance,
                    details={"metric": row.metric, "difference": row.difference}))
        if self.n_events < self.min_events:
            what = str(self.details.get("events_kind", "events"))
            suggestion = f"compare on a test set with at least {self.min_events} {what}"
            extra: dict[str, Any] = {}
            tails = self.details.get("min_events_rule") == "error tails"
            if tails:
                kurtosis = float(self.details["challenger_error_kurtosis"])
                extra = {"challenger_error_kurtosis": kurtosis}
                suggestion += (", or decide on mae, which heavy tails affect far less than "
                               "squared errors")
            out.append(Finding(
                "champion_min_events", "warning",
                message=f"only {self.n_events} {what} for {self.metric}, which needs at least "
                        f"{self.min_events}"
                        + (f" with the challenger's errors this heavy-tailed (kurtosis "
                           f"{extra['challenger_error_kurtosis']:.3g})" if tails else "")
                        + " for its interval and test to hold their level: the challenger "
                        "cannot be promoted on this test set",
                n_rows=self.n_rows, threshold=self.min_events, suggestion=suggestion,
                details={"metric": self.metric, "events": self.n_events,
                         "min_events": self.min_events, "events_kind": what, **extra}))
        if self.n_boot and self.n_boot_valid < 0.95 * self.n_boot:
            out.append(Finding(
                "champion_bootstrap", "warning",
                message=f"{self.metric} was undefined in {self.n_boot - self.n_boot_valid} of "
                        f"{self.n_boot} resamples (too few rows of a class); the interval "
                        "uses the rest", n_rows=self.n_rows,
                suggestion="compare on more rows"))
        return out

    def _notes(self) -> Sequence[str]:
        return (f"Decision: {self.decision}. {self.reason[:1].upper()}{self.reason[1:]}.",
                f"{self.n_rows} rows, {self.n_boot} paired bootstrap resamples (BCa "
                "interval); differences are signed so that positive means the challenger is "
                "better.")

    def _plots(self) -> Sequence[Plot]:
        diffs = self.differences[np.isfinite(self.differences)]
        if diffs.size == 0:
            return ()
        low, high, observed = self.ci_low, self.ci_high, self.difference
        metric = self.metric

        def draw(ax: Any) -> None:
            from ..report._plots import PALETTE

            ax.hist(diffs, bins=40, color=PALETTE[0], alpha=0.7)
            ax.axvspan(low, high, color=PALETTE[1], alpha=0.15, label=f"{self.confidence:.0%} CI")
            ax.axvline(0.0, color="#555555", linewidth=1, linestyle="--", label="no difference")
            ax.axvline(observed, color=PALETTE[3], linewidth=1.6, label="observed")
            ax.set_xlabel(f"{metric}: challenger advantage (positive = better)")
            ax.set_ylabel("resamples")
            ax.legend(frameon=False, fontsize=8)

        return (Plot(f"Bootstrap distribution of the {metric} difference", draw),)

    def _criteria_values(self) -> dict[str, Any]:
        """What :class:`~mllife.SuccessCriteria` reads: the challenger's scores.

        The deciding metric and the guard metrics, by their vocabulary names;
        no latency, size or lift (the comparison does not measure them).
        """
        metrics = {self.metric: self.challenger_score}
        for row in self.guards.itertuples(index=False) if len(self.guards) else ():
            metrics[str(row.metric)] = float(row.challenger)
        return {"metrics": metrics, "what": "the champion/challenger comparison (challenger)"}

    def _extra(self) -> Mapping[str, Any]:
        return {
            "metric": self.metric, "higher_is_better": self.higher_is_better,
            "champion_score": self.champion_score, "challenger_score": self.challenger_score,
            "difference": self.difference, "ci_low": self.ci_low, "ci_high": self.ci_high,
            "confidence": self.confidence, "p_value": self.p_value, "test": self.test,
            "statistic": self.statistic, "alpha": self.alpha, "decision": self.decision,
            "reason": self.reason, "n_rows": self.n_rows, "n_boot": self.n_boot,
            "n_boot_valid": self.n_boot_valid, "n_events": self.n_events,
            "min_events": self.min_events, "details": dict(self.details),
        }


# ---- validation ---------------------------------------------------------------------


def _metric_name(metric: Any, what: str, task: str | None) -> str:
    """The canonical name of a vocabulary metric, defined for ``task`` when it is stated."""
    found = _metrics.lookup(metric)
    if found is None or found.name not in cm.METRICS:
        raise InputError(f"{what} {metric!r} is not supported by compare_champion",
                         expected=f"one of {', '.join(cm.METRICS)}")
    return _metrics.check_name(metric, task=task, what=what).name


def _fraction(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) \
            or not 0.0 < float(value) < 1.0:
        raise InputError(f"{what} is {value!r}", expected="a number strictly between 0 and 1")
    return float(value)


def _n_rows(X: Any) -> int:
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) >= 1:
        return int(shape[0])
    try:
        return len(X)
    except TypeError:
        raise InputError(f"X is a {type(X).__name__}", expected="a table of rows") from None


def _target(y: Any, X: Any, metrics: list[str], positive_label: Any,
            task: str | None = None, models: Sequence[Any] = ()) -> cm.Target:
    """The validated target of the comparison, with its task decided.

    ``task``: the stated task, else :func:`mllife._task.infer_task` of ``y`` and
    each model, the metric saying classification or regression. A binary
    target (two labels, no model knowing more) is scored about
    ``positive_label`` (default: the larger label); otherwise macro averages.
    """
    s = as_series(y)
    n = _n_rows(X)
    if len(s) != n:
        raise InputError(f"X has {n} rows but y has {len(s)}", expected="one target per row of X")
    if isinstance(X, pd.DataFrame | pd.Series) and isinstance(y, pd.Series | pd.DataFrame) \
            and not X.index.equals(s.index):
        stray = int((~s.index.isin(X.index)).sum())
        raise InputError(
            "the indexes of X and y differ" + (f" ({stray} labels of y not in X)" if stray else
                                                " (same labels, different order)"),
            n_rows=stray or None, expected="y aligned with X (reset_index both, or reindex y)")
    if n < 2:
        raise InputError(f"only {n} row to compare on", expected="at least 2 rows")
    missing = int(s.isna().sum())
    if missing:
        raise InputError("the target has missing values", column=s.name, n_rows=missing,
                         expected="a label or value for every row")
    values = s.to_numpy()
    if cm.is_regression(metrics[0]) and positive_label is not None:
        raise InputError(f"positive_label {positive_label!r} was given for a regression task",
                         column=s.name, expected="positive_label=None: a positive class exists "
                                                 "for binary targets only")
    if cm.is_regression(metrics[0]):
        if not (pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)):
            raise InputError(f"the target has dtype {s.dtype}", column=s.name,
                             expected=f"numbers for the regression metric {metrics[0]}")
        values = values.astype(float)
        for model, who in zip(models, ("champion", "challenger"), strict=False):
            _check_task(s, model, who, task, "regressor", metrics[0])
        if "r2" in metrics and np.ptp(values) == 0:
            raise InputError("the target is constant, so r2 is undefined", column=s.name,
                             n_rows=n, expected="a target that varies, or another metric")
        zeros = int(np.count_nonzero(np.abs(values) < np.finfo(float).eps))
        if "mape" in metrics and zeros:
            raise InputError("the target holds zeros, so mape is undefined", column=s.name,
                             n_rows=zeros, expected="a target without zeros, or another metric")
        return cm.Target(values, None, None, values - values.mean())
    if pd.api.types.is_float_dtype(s.dtype) and not np.all(np.mod(values, 1) == 0):
        n_frac = int(np.count_nonzero(np.mod(values, 1) != 0))
        raise InputError(f"the target holds fractional numbers, but {metrics[0]} needs class "
                         "labels", column=s.name, n_rows=n_frac,
                         expected="class labels, or a regression metric (mae, rmse, r2)")
    classes = np.asarray(pd.unique(s))
    try:
        classes = np.sort(classes)
    except TypeError:
        classes = np.asarray(sorted(classes, key=repr), dtype=object)
    if classes.size < 2:
        raise InputError(f"the target has one class ({classes[0]!r})", column=s.name,
                         n_rows=n, expected="at least two classes to compare classifiers")
    tasks = {_check_task(s, model, who, task, "classifier", metrics[0])
             for model, who in zip(models, ("champion", "challenger"), strict=False)}
    # Two labels in y, but multiclass models (or a stated multiclass task): macro averages,
    # as evaluate gives them, unless a positive label says which class matters.
    binary = classes.size == 2 and (positive_label is not None or "multiclass" not in tasks)
    if positive_label is not None and not binary:
        raise InputError(f"positive_label {positive_label!r} was given for a multiclass task",
                         expected="positive_label=None: a positive class exists for binary "
                                  "targets only")
    for metric in metrics:
        _metrics.check_name(metric, task="binary" if binary else "multiclass")
    if binary:
        if positive_label is None:
            positive_label = classes[-1]
        elif not (classes == positive_label).any():
            raise InputError(f"positive_label {positive_label!r} is not a class of y",
                             expected=f"one of {classes.tolist()}")
    return cm.Target(values, classes, positive_label if binary else None)


def _check_task(y: pd.Series, model: Any, who: str, task: str | None, kind: str,
                metric: str) -> str:
    """The task of ``y`` for one model (:func:`~mllife._task.infer_task`), fitting the metric."""
    own = estimator_kind(model)
    if own is not None and own != kind:
        raise InputError(f"the {who} ({type(model).__name__}) is a {own}, and {metric} is a "
                         f"{'regression' if kind == 'regressor' else 'classification'} metric",
                         expected=f"a {kind}, or a metric for a {own}")
    return infer_task(y, model=model, task=task, kind=kind)


def _tolerances(tolerance: Any, guards: list[str]) -> dict[str, float]:
    if isinstance(tolerance, Mapping):
        given = {_metrics.normalize_name(str(k)): v for k, v in tolerance.items()}
        stray = sorted(set(given) - set(guards))
        if stray:
            raise InputError(f"tolerance given for {', '.join(stray)}, not a guard metric",
                             expected=f"keys among the guard metrics {guards}")
        raw = {g: given.get(g, 0.0) for g in guards}
    else:
        raw = dict.fromkeys(guards, tolerance)
    out = {}
    for g, t in raw.items():
        if isinstance(t, bool) or not isinstance(t, int | float | np.number) \
                or not math.isfinite(float(t)) or float(t) < 0:
            raise InputError(f"tolerance for {g} is {t!r}", expected="a number of at least 0")
        out[g] = float(t)
    return out


# ---- the comparison ------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def _reason(metric: str, diff: float, low: float, high: float, p: float, test: str,
            alpha: float, confidence: float, failed: list[tuple[str, float, float]],
            short: str | None) -> tuple[str, str]:
    ci = f"{confidence:.0%} CI [{_fmt(low)}, {_fmt(high)}]"
    stats_text = f"difference {diff:+.4g}, {ci}, {test} p = {p:.3g}"
    guard_text = "; ".join(f"{g} worse by {_fmt(-d)} (tolerance {_fmt(t)})" for g, d, t in failed)
    better = diff > 0 and low > 0 and p < alpha
    if better and not failed and short is None:
        return "promote", f"the challenger is significantly better on {metric} ({stats_text})"
    if short is not None:
        why = f"{short}, so the champion is kept whatever the numbers say ({stats_text})"
    elif better:
        return "keep", (f"the challenger is better on {metric} ({stats_text}) but worse on "
                        f"guard metric(s): {guard_text}")
    elif not diff > 0:
        why = f"the challenger is not better on {metric} ({stats_text})"
    elif not low > 0:
        why = f"the improvement on {metric} is not significant: the interval includes 0 ({stats_text})"
    else:
        why = f"the improvement on {metric} is not significant at alpha = {alpha:g} ({stats_text})"
    if failed:
        why += f"; it is also worse on guard metric(s): {guard_text}"
    return "keep", why


def _too_few(metric: str, target: cm.Target, preds: Sequence[cm.Predictions],
             details: dict[str, Any]) -> tuple[int, int, str, str | None]:
    """Events, the minimum, what they are, and the sentence saying they are too few.

    The minimum is :data:`~._champion_metrics.MIN_EVENTS`; squared-error
    metrics also need :func:`~._champion_metrics.tail_min_rows` of the
    challenger's error kurtosis (both kurtoses go to ``details``).
    """
    have, what = cm.events(metric, target)
    need = cm.MIN_EVENTS[metric]
    tail = ""
    if metric in cm.SQUARED_ERROR:
        kurtosis = [cm.error_kurtosis(target, p) for p in preds]
        details.update(champion_error_kurtosis=kurtosis[0], challenger_error_kurtosis=kurtosis[1])
        by_tail = cm.tail_min_rows(kurtosis[1])
        if by_tail > need:
            need = by_tail
            details["min_events_rule"] = "error tails"
            tail = (f" with errors as heavy-tailed as the challenger's (kurtosis "
                    f"{kurtosis[1]:.3g}, 3 for Gaussian errors)")
    details["min_events"] = need
    if have >= need:
        return have, need, what, None
    return have, need, what, (f"too few events for {metric}: the test set has {have} {what}, "
                              f"and {metric} needs at least {need}{tail} for its interval and "
                              "test to hold their level")


def _swappable(metric: str, target: cm.Target, plan_a: Any, plan_b: Any) -> bool:
    """Whether the two models' per-row columns mean the same thing, so rows can swap.

    Multiclass precision, recall and F1 average over the labels each model
    predicts, so their columns differ between models; every other column plan
    (binary label metrics, balanced accuracy, probability and regression
    metrics) lines up.
    """
    if plan_a.columns is None or plan_b.columns is None:
        return False
    metric_info = _metrics.METRICS[metric]
    if metric_info.needs == "label" and metric_info.positive and not target.binary:
        return False
    return bool(plan_a.columns.shape == plan_b.columns.shape)


def _compare(target: cm.Target, preds: Sequence[cm.Predictions], metrics: list[str], *,
             n_boot: int, rng: np.random.Generator, alpha: float, confidence: float,
             tolerances: Mapping[str, float]) -> ChampionChallengerResult:
    """The comparison itself, on validated predictions (the calibration tests call it)."""
    name, guards = metrics[0], metrics[1:]
    n = target.n
    plans = PlanSet([cm.plan(m, target, p) for m in metrics for p in preds], n_rows=n)
    point = [cm.point(m, target, p) for m in metrics for p in preds]

    signs = np.array([1.0 if cm.METRICS[m][1] else -1.0 for m in metrics])
    parts: list[list[np.ndarray]] = [[] for _ in metrics]
    for counts in count_chunks(n, int(n_boot), rng):
        values = plans.evaluate(counts)
        for i in range(len(metrics)):
            parts[i].append(signs[i] * (values[2 * i + 1] - values[2 * i]))
    boot = [np.concatenate(chunks) for chunks in parts]
    jack = plans.jackknife()
    diffs = [float(signs[i] * (point[2 * i + 1] - point[2 * i])) for i in range(len(metrics))]
    intervals = [bca(boot[i], diffs[i], signs[i] * (jack[2 * i + 1] - jack[2 * i]))
                 for i in range(len(metrics))]

    champ, chall, diff = point[0], point[1], diffs[0]
    low, high = intervals[0].interval(confidence)
    details: dict[str, Any] = {"interval": "bca", "bca_z0": intervals[0].z0,
                               "bca_acceleration": intervals[0].acceleration}
    have, need, what, short = _too_few(name, target, preds, details)
    details.update(events=have, events_kind=what)
    statistic: float | None = None
    if name == "accuracy":
        assert preds[0].labels is not None
        assert preds[1].labels is not None
        mc = mcnemar(preds[0].labels == target.values, preds[1].labels == target.values)
        p_value, test, statistic = mc.p_value, mc.method, mc.statistic
        details.update(only_champion_correct=mc.only_champion,
                       only_challenger_correct=mc.only_challenger)
    elif name == "roc_auc" and target.binary:
        assert preds[0].score is not None
        assert preds[1].score is not None
        if have >= DELONG_MIN_EVENTS:
            dl = delong(target.positive, preds[0].score, preds[1].score)
            p_value, test, statistic = dl.p_value, "delong", dl.statistic
            details["delong_variance"] = dl.variance
        else:
            perm = rank_permutation(target.positive, preds[0].score, preds[1].score,
                                    int(n_boot), rng, metric="roc_auc")
            p_value, test, statistic = perm.p_value, "permutation", perm.statistic
            details["n_permutations"] = perm.n_permutations
    elif name == "pr_auc" and target.binary:
        assert preds[0].score is not None
        assert preds[1].score is not None
        perm = rank_permutation(target.positive, preds[0].score, preds[1].score,
                                int(n_boot), rng, metric="pr_auc")
        p_value, test, statistic = perm.p_value, "permutation", perm.statistic
        details["n_permutations"] = perm.n_permutations
    elif _swappable(name, target, plans.plans[0], plans.plans[1]):
        perm = swap_permutation(plans.plans[0], plans.plans[1], float(signs[0]), int(n_boot),
                                rng)
        p_value, test, statistic = perm.p_value, "permutation", perm.statistic
        details["n_permutations"] = perm.n_permutations
    else:
        p_value, test = intervals[0].p_value(0.0), "bootstrap"

    rows = []
    failed: list[tuple[str, float, float]] = []
    for i, g in enumerate(guards, start=1):
        g_low, g_high = intervals[i].interval(confidence)
        ok = bool(diffs[i] >= -tolerances[g])
        if not ok:
            failed.append((g, diffs[i], tolerances[g]))
        rows.append({"metric": g, "champion": point[2 * i], "challenger": point[2 * i + 1],
                     "difference": diffs[i], "ci_low": g_low, "ci_high": g_high,
                     "tolerance": tolerances[g], "passed": ok})
    guard_table = pd.DataFrame(rows, columns=_GUARD_COLUMNS)
    decision, reason = _reason(name, diff, low, high, p_value, test, alpha, confidence, failed,
                               short)
    return ChampionChallengerResult(
        title=f"Champion vs challenger on {name}",
        metric=name, higher_is_better=bool(cm.METRICS[name][1]),
        champion_score=champ, challenger_score=chall, difference=diff,
        ci_low=low, ci_high=high, confidence=confidence, p_value=float(p_value), test=test,
        statistic=statistic, alpha=alpha, decision=decision, reason=reason, guards=guard_table,
        n_rows=n, n_boot=int(n_boot), n_boot_valid=int(np.isfinite(boot[0]).sum()),
        n_events=have, min_events=need,
        differences=boot[0], details=details,
    )


def compare_champion(
    champion: Any,
    challenger: Any,
    X: Any,
    y: Any,
    *,
    metric: str,
    n_boot: int = 2000,
    random_state: Any = None,
    guard_metrics: Sequence[str] = (),
    tolerance: float | Mapping[str, float] = 0.01,
    alpha: float = 0.05,
    confidence: float = 0.95,
    positive_label: Hashable | None = None,
    task: str | None = None,
    spec: Any = None,
    tracker: Any = None,
) -> ChampionChallengerResult:
    """Decide whether a challenger model should replace the champion.

    Both fitted models predict ``X`` once each; the comparison is paired.

    - The **paired bootstrap** resamples rows ``n_boot`` times and scores
      both models on every resample; the BCa interval of the difference at
      ``confidence`` is reported (bias correction from the resamples,
      acceleration from the jackknife).
    - The **p-value** of "no difference" comes from McNemar's test for
      ``accuracy`` (exact binomial below 25 discordant rows, chi-square with
      continuity correction above); for binary ``roc_auc`` from DeLong's
      test, or, with fewer than 50 rows in the smaller class, a paired
      rank-swap permutation test (``n_boot`` permutations), as for binary
      ``pr_auc`` at any size; for metrics built from per-row values (log
      loss, Brier, MAE, MSE, RMSE, R², balanced accuracy, binary precision,
      recall and F1) from the paired swap permutation test; otherwise
      (multiclass ranking metrics and P/R/F1) from the BCa interval
      inverted.
    - The **decision** is ``"promote"`` only when the challenger is better,
      the interval lies above 0 *and* ``p < alpha``, the test set has at
      least the metric's minimum number of events, and no guard metric is
      worse by more than its tolerance. Otherwise ``"keep"``, with the
      reason. A challenger that is not better is promoted in at most
      ``alpha / 2`` of test sets of at least the minimum size (the
      challenger's side of the two-sided test; see docs/champion.md for
      the conditions and the simulations). For ``mse``, ``rmse`` and
      ``r2`` the minimum grows with the kurtosis of the challenger's
      errors: heavy tails keep the champion (decide on ``mae`` then).

    Parameters
    ----------
    champion, challenger : fitted estimators
        Classifiers or regressors (pipelines included) with ``predict``,
        and ``predict_proba`` for probability metrics (ROC-AUC and PR-AUC
        fall back to ``decision_function``).
    X : DataFrame or array-like
        Rows both models are scored on (held-out data).
    y : Series or array-like
        True labels or values, aligned with ``X``.
    metric : str
        Any metric of mllife's vocabulary (the names
        :class:`~mllife.SuccessCriteria` accepts, in any spelling such as
        ``"ROC-AUC"``), for the tasks where it is defined: ``accuracy``,
        ``balanced_accuracy``, ``precision``, ``recall``, ``f1`` (binary: of
        ``positive_label``; multiclass: macro average), ``specificity``
        (binary), ``roc_auc``, ``pr_auc`` (average precision; multiclass:
        macro one-vs-rest over the classes of ``y``), ``log_loss``, ``brier``
        (multiclass: summed over classes), ``ece`` (binary: of the positive
        class; multiclass: of the top-class confidence), ``mae``, ``mse``,
        ``rmse``, ``r2`` or ``mape``.
    n_boot : int, default=2000
        Bootstrap resamples (at least 100).
    random_state : int, numpy Generator or None, default=None
        Seed of the resampling; ``None`` is the fixed seed 0, so the same call
        gives the same result (:mod:`mllife._random`).
    guard_metrics : sequence of str, default=()
        Metrics the challenger must not be worse on by more than ``tolerance``
        (point estimates; their bootstrap intervals are reported too). Same
        task family as ``metric``.
    tolerance : float or mapping of str to float, default=0.01
        Allowed loss on each guard metric, in the metric's units.
    alpha : float, default=0.05
        Significance level of the two-sided test; promoting a challenger that
        is not better happens at most ``alpha / 2`` of the time.
    confidence : float, default=0.95
        Level of the BCa bootstrap interval.
    positive_label : label, optional
        Positive class of a binary target; default the larger label.
    task : {"binary", "multiclass", "regression", "forecast"}, optional
        Inferred by default (:func:`mllife._task.infer_task`: the models'
        type and classes, the target, the metric's family); a stated task is
        checked against them, and the metrics must be defined for it.
    spec : ProblemSpec, optional
        Takes ``positive_label`` and ``task`` from the problem statement; an
        explicit keyword that disagrees with it raises.
    tracker : Tracker, optional
        Log the comparison to this :class:`~mllife.tracking.Tracker` (such as
        :class:`~mllife.tracking.MlflowTracker`): one run named
        ``"compare_champion <metric>"`` with the call's settings and both
        models' flattened ``get_params(deep=True)`` (``champion_params.<name>``,
        ``challenger_params.<name>``) as params, the difference, its interval,
        p-value, decision and guard metrics as metrics, the decision and reason
        as tags, and the report's tables, findings and HTML (see
        :func:`mllife.tracking.log_report`). A tracker that fails mid-run gives a
        :class:`~mllife.TrackingWarning`, never a lost result. None (the
        default): nothing is logged.

    Returns
    -------
    ChampionChallengerResult

    Raises
    ------
    InputError
        Unknown metric, or one not defined for the task; a task that
        contradicts the target or the models; ``X`` and ``y`` of different
        lengths or indexes;
        missing target values; one class in ``y``; a model without ``predict_proba`` for a
        probability metric; labels in ``y`` a model never saw; predictions
        with NaN; a bad ``n_boot``, ``alpha``, ``confidence`` or ``tolerance``;
        a ``tracker`` that is not a :class:`~mllife.tracking.Tracker` (before
        anything is computed).
    NotFittedError
        When a model is not fitted.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X, y = make_classification(600, random_state=0)
    >>> champion = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X[:300], y[:300])
    >>> challenger = LogisticRegression().fit(X[:300], y[:300])
    >>> r = compare_champion(champion, challenger, X[300:], y[300:], metric="roc_auc",
    ...                      n_boot=300, random_state=0)
    >>> r.test, r.decision, r.ci_low > 0
    ('delong', 'promote', True)
    """
    if tracker is not None:
        from ..tracking._log import check_tracker

        check_tracker(tracker)
    if is_native(X):  # polars / pyarrow: one conversion
        X = as_frame(X, name="X")
    if isinstance(X, pd.DataFrame):
        check_unique_columns(X, name="X")
    from .._spec import resolve_spec

    given = resolve_spec(spec, where="compare_champion", positive_label=positive_label,
                         task=task)
    positive_label = given["positive_label"]
    task = None if given["task"] is None else check_task(given["task"])
    name = _metric_name(metric, "metric", task)
    if isinstance(guard_metrics, str):
        guard_metrics = (guard_metrics,)
    guards: list[str] = []
    for g in guard_metrics:
        canonical = _metric_name(g, "guard metric", task)
        if canonical != name and canonical not in guards:
            guards.append(canonical)
    family = cm.is_regression(name)
    mixed = [g for g in guards if cm.is_regression(g) != family]
    if mixed:
        raise InputError(f"guard metric(s) {', '.join(mixed)} do not fit the task of {name}",
                         expected=("regression" if family else "classification") + " metrics")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 100:
        raise InputError(f"n_boot is {n_boot!r}", expected="an integer of at least 100")
    alpha = _fraction(alpha, "alpha")
    confidence = _fraction(confidence, "confidence")
    tolerances = _tolerances(tolerance, guards)
    rng = as_generator(random_state)
    metrics = [name, *guards]
    target = _target(y, X, metrics, positive_label, task, (champion, challenger))
    for model, who in ((champion, "champion"), (challenger, "challenger")):
        if hasattr(model, "fit") and hasattr(model, "get_params"):
            try:
                ensure_fitted(model)
            except NotFittedError as exc:
                raise NotFittedError(f"the {who} is not fitted: {exc}") from None
    needs = {cm.METRICS[m][0] for m in metrics}
    preds = [cm.predict(model, X, who, needs, target)
             for model, who in ((champion, "champion"), (challenger, "challenger"))]
    result = _compare(target, preds, metrics, n_boot=int(n_boot), rng=rng, alpha=alpha,
                      confidence=confidence, tolerances=tolerances)
    if tracker is not None:
        from ..tracking._log import track
        from ..tracking._names import model_params

        settings = {"metric": name, "guard_metrics": ", ".join(guards), "tolerance": tolerances,
                    "n_boot": int(n_boot), "alpha": alpha, "confidence": confidence,
                    "random_state": random_state if random_state is None
                    or isinstance(random_state, int | np.integer) else type(random_state).__name__,
                    "positive_label": positive_label, "task": task,
                    "champion": type(champion).__name__, "challenger": type(challenger).__name__,
                    "champion_params": model_params(champion),
                    "challenger_params": model_params(challenger)}
        track(result, tracker, run_name=f"compare_champion {name}", params=settings)
    return result
