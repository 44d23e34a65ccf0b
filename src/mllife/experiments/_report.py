"""``ComparisonReport``: the table of models, with score, time, size and lift."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import _metrics
from ..report import Finding, Plot, Report
from ..report._plots import PALETTE

#: A bounded score (0 to 1, higher is better) at or above this looks too good: leakage?
SUSPICIOUS = 0.995
#: A standard deviation of the primary score over folds above this is called unstable.
UNSTABLE_STD = 0.1


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class ComparisonReport(Report):
    """What :func:`compare_models` found: one row per model, best first.

    Attributes
    ----------
    results : pandas.DataFrame
        One row per model, sorted by the primary score (best first, models
        that failed in every fold last): ``model``, ``<score>_mean`` and
        ``<score>_std`` per score (error scores such as ``mae`` positive),
        ``fit_seconds`` (mean per fold), ``latency_1row_ms`` (median
        ``predict`` time of a one-row call), ``latency_per_row_batch_ms``
        (median time of a batch call divided by its rows), ``size_bytes``
        (pickled), ``lift_<score>`` (over the baseline, positive = better),
        ``n_folds_failed`` and ``error`` (the first failure's message).
        ``size_bytes`` is NaN for a model that cannot be pickled (see
        :attr:`unmeasured_size`). With a forecasting baseline among the
        models, ``forecast`` says how each model forecasts: ``"multi-step
        (flat), horizons 1–h"`` for :class:`~mllife.baselines.NaiveForecaster`
        and :class:`~mllife.baselines.MovingAverageForecaster` (one path from
        the end of the training window), ``"one-step (each row from its
        features)"`` for the other models.
    fold_scores : pandas.DataFrame
        One row per model and fold: ``model``, ``fold``, ``n_train``,
        ``n_test``, ``fit_seconds``, ``score_seconds``, ``error`` and each score.
    undefined_scores : pandas.DataFrame
        One row per model, fold and score that was undefined on that fold
        (NaN, or an undefined part counted as 0 as scikit-learn does):
        ``model``, ``fold``, ``score``, ``value``, ``reason``.
    unmeasured_size : mapping of str to str
        Model -> why its size could not be measured.
    task : str
        ``"binary"``, ``"multiclass"`` or ``"regression"``.
    scoring : tuple of str
        The score names, the primary one first.
    primary : str
    greater_is_better : mapping of str to bool
        ``False`` for error scores (shown positive, lower is better).
    baseline_name : str or None
        The row the lift is measured against.
    n_splits, n_rows : int
    metric_names : mapping of str to str
        Score -> its name in mllife's metric vocabulary, for the scores that
        are vocabulary metrics (``average_precision`` -> ``pr_auc``,
        ``f1_macro`` of a multiclass task -> ``f1``): what
        :class:`~mllife.SuccessCriteria` reads.
    checklist : pandas.DataFrame or None
        With ``criteria``: one row per model and criterion, ``model``,
        ``item``, ``target``, ``actual`` (the mean over folds), ``passed``.
    passed : mapping of str to bool or None
        With ``criteria``: model -> whether it meets every criterion.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sklearn.linear_model import Ridge
    >>> from mllife.experiments import compare_models
    >>> X, y = make_regression(200, 5, noise=5.0, random_state=0)
    >>> report = compare_models({"ridge": Ridge()}, X, y, cv=3)
    >>> report.primary, report.best
    ('mae', 'ridge')
    >>> report.findings_by(severity="warning")
    []
    >>> from mllife import SuccessCriteria
    >>> SuccessCriteria({"mae": 10.0}).passed(report)  # the best model
    True
    >>> report.for_model("baseline")["metrics"]["r2"] < 0.01
    True
    """

    results: pd.DataFrame = field(default_factory=pd.DataFrame)
    fold_scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    task: str = ""
    scoring: Sequence[str] = ()
    primary: str = ""
    greater_is_better: Mapping[str, bool] = field(default_factory=dict)
    baseline_name: str | None = None
    n_splits: int = 0
    n_rows: int = 0
    undefined_scores: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["model", "fold", "score", "value", "reason"]))
    unmeasured_size: Mapping[str, str] = field(default_factory=dict)
    metric_names: Mapping[str, str] = field(default_factory=dict)
    checklist: pd.DataFrame | None = None
    passed: Mapping[str, bool] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "unmeasured_size", dict(self.unmeasured_size))
        object.__setattr__(self, "metric_names", dict(self.metric_names))

    def _vocabulary(self, score: str) -> str | None:
        """The vocabulary name of a score (reports saved before ``metric_names``: by spelling)."""
        if score in self.metric_names:
            return self.metric_names[score]
        if self.metric_names:
            return None
        metric = _metrics.lookup(score)
        return None if metric is None or self.task not in metric.tasks else metric.name

    def for_model(self, model: str | None = None) -> dict[str, Any]:
        """One model's values as :class:`~mllife.SuccessCriteria` reads them (default: the best).

        ``metrics`` and ``lift`` are keyed by vocabulary names (means over the
        folds), ``undefined`` gives the reason of a score undefined on every
        fold, ``model_bytes`` is the pickled size. The comparison does not
        measure a 95th-percentile latency: ``latency_p95_ms`` is ``None``.

        Raises
        ------
        InputError
            When ``model`` is not a row of :attr:`results`.
        """
        from .._errors import InputError

        name = self.best if model is None else model
        names = [str(m) for m in self.results.get("model", pd.Series(dtype=object))]
        if name is None or name not in names:
            raise InputError(f"model {model!r} is not in the comparison",
                             expected=f"one of {names}" if names else "a comparison with models")
        row = self.results.loc[self.results["model"] == name].iloc[0]
        metrics: dict[str, float] = {}
        lift: dict[str, float] = {}
        undefined: dict[str, str] = {}
        for score in self.scoring:
            vocabulary = self._vocabulary(score)
            if vocabulary is None:
                continue
            metrics[vocabulary] = float(row.get(f"{score}_mean", np.nan))
            if f"lift_{score}" in row.index:
                lift[vocabulary] = float(row[f"lift_{score}"])
            reasons = self.undefined_scores
            reasons = reasons[(reasons["model"] == name) & (reasons["score"] == score)]
            if np.isnan(metrics[vocabulary]) and len(reasons):
                undefined[vocabulary] = f"on every fold: {reasons['reason'].iloc[0]}"
            elif np.isnan(metrics[vocabulary]) and row.get("n_folds_failed", 0):
                undefined[vocabulary] = f"{name} failed: {row.get('error')}"
        size = row.get("size_bytes", np.nan)
        return {"metrics": metrics, "undefined": undefined, "lift": lift,
                "model_bytes": None if pd.isna(size) else float(size), "latency_p95_ms": None,
                "what": f"the comparison ({name})"}

    def _criteria_values(self) -> dict[str, Any]:
        """What :class:`~mllife.SuccessCriteria` reads: the best candidate's values.

        The baseline is the reference the lift is measured against, never the
        candidate: when it has the best primary score (a Dummy predicting the
        positive class everywhere has a recall of 1), the best other model is read.
        """
        column = f"{self.primary}_mean"
        candidates = self.results.dropna(subset=[column]) if column in self.results.columns \
            else self.results.iloc[:0]
        candidates = candidates[candidates["model"] != self.baseline_name] \
            if self.baseline_name is not None and len(self.results) > 1 else candidates
        if candidates.empty:
            return {"metrics": {self._vocabulary(s) or s: np.nan for s in self.scoring},
                    "what": "the comparison (every model failed)"}
        return self.for_model(str(candidates["model"].iloc[0]))

    @property
    def best(self) -> str | None:
        """The model with the best primary score (``None`` if all failed)."""
        column = f"{self.primary}_mean"
        if column not in self.results.columns:
            return None
        scored = self.results.dropna(subset=[column])
        return None if scored.empty else str(scored["model"].iloc[0])

    @property
    def errors(self) -> dict[str, str]:
        """Model name -> the first error message, for models that failed in a fold."""
        if "n_folds_failed" not in self.results.columns:
            return {}
        failed = self.results[self.results["n_folds_failed"] > 0]
        return dict(zip(failed["model"], failed["error"], strict=True))

    def _score(self, model: str, score: str) -> float:
        row = self.results.loc[self.results["model"] == model, f"{score}_mean"]
        return float(row.iloc[0]) if len(row) else float("nan")

    # ---- report hooks ------------------------------------------------------------
    def _summary(self) -> Mapping[str, Any]:
        summary: dict[str, Any] = {
            "task": self.task, "rows": self.n_rows, "folds": self.n_splits,
            "models": len(self.results), "primary score": self.primary, "best model": self.best,
        }
        if self.best is not None:
            summary[f"best {self.primary}"] = self._score(self.best, self.primary)
        if self.baseline_name is not None:
            summary[f"baseline {self.primary}"] = self._score(self.baseline_name, self.primary)
        return summary

    def _tables(self) -> Mapping[str, pd.DataFrame]:
        tables = {"models": self.results, "folds": self.fold_scores}
        if len(self.undefined_scores):
            tables["undefined scores"] = self.undefined_scores
        if self.checklist is not None:
            tables["success criteria"] = self.checklist
        return tables

    def _derive_findings(self) -> list[Finding]:
        found = self._row_findings()
        undefined = self.undefined_scores
        for (model, score), rows in undefined.groupby(["model", "score"], sort=False):
            nan = int(pd.to_numeric(rows["value"], errors="coerce").isna().sum())
            first = rows.iloc[0]
            where = f"fold {first['fold']}" if len(rows) == 1 else \
                f"{len(rows)} of {self.n_splits} folds, e.g. fold {first['fold']}"
            found.append(Finding(
                "undefined_score", "info", column=str(model),
                message=(f"{model}: {score} on {where}: {first['reason']}"
                         + (f"; NaN on {nan} fold(s), left out of the mean" if nan else "")),
                details={"score": score, "folds": [int(f) for f in rows["fold"]]}))
        if self.passed is not None:
            meet = [m for m, ok in self.passed.items() if ok]
            best_ok = bool(self.best is not None and self.passed.get(self.best, False))
            if not meet:
                message = "no model meets the success criteria"
            else:
                verb = "meets" if len(meet) == 1 else "meet"
                message = f"{', '.join(meet)} {verb} the success criteria"
                if not best_ok and self.best is not None:
                    message += f"; the best model by {self.primary}, {self.best}, does not"
            found.append(Finding(
                "success_criteria", "info" if best_ok else "warning", column=self.best,
                message=message,
                suggestion="" if best_ok else "see the 'success criteria' table for what fails",
                details={"passed": dict(self.passed)}))
        for model, why in self.unmeasured_size.items():
            found.append(Finding(
                "size_unmeasured", "info", column=model,
                message=f"{model}: size not measured (size_bytes is NaN): {why}",
                suggestion="a model that cannot be pickled cannot be bundled either; use "
                           "named functions or rule strings instead of lambdas"))
        if "forecast" in self.results.columns:
            kinds = self.results.set_index("model")["forecast"]
            multi = [str(m) for m, k in kinds.items() if str(k).startswith("multi-step")]
            others = [str(m) for m, k in kinds.items() if not str(k).startswith("multi-step")]
            if multi and others:
                found.append(Finding(
                    "forecast_horizon", "info", column=", ".join(multi),
                    message=(f"{', '.join(multi)} {'forecasts' if len(multi) == 1 else 'forecast'}"
                             " each validation fold as one path from the end of training "
                             f"({kinds[multi[0]]}), while {', '.join(others)} "
                             f"{'predicts' if len(others) == 1 else 'predict'} each row from its "
                             "features: their scores are not measured at the same horizon"),
                    suggestion="compare like with like: give the feature models lags no more "
                               "recent than the forecast horizon, or score one step ahead"))
        return found

    def _row_findings(self) -> list[Finding]:
        found: list[Finding] = []
        if "n_folds_failed" not in self.results.columns:
            return found
        primary = self.primary
        better = self.greater_is_better.get(primary, True)
        base = None if self.baseline_name is None else self._score(self.baseline_name, primary)
        # Records, not itertuples: a scorer named "acc%" or "1st" is no attribute name.
        for row in self.results.to_dict("records"):
            name = str(row["model"])
            mean = float(row[f"{primary}_mean"])
            failed = int(row["n_folds_failed"])
            if failed:
                every = failed == self.n_splits
                found.append(Finding(
                    "model_failed", "error" if every else "warning", column=name,
                    message=f"{name} failed in {failed} of {self.n_splits} folds: {row['error']}",
                    suggestion="fix the model or its input"
                    + ("" if every else "; its scores use the folds that worked"),
                ))
            if np.isnan(mean):
                continue
            if base is not None and name != self.baseline_name and not np.isnan(base):
                lift = mean - base if better else base - mean
                if lift <= 0:
                    found.append(Finding(
                        "no_lift_over_baseline", "warning", column=name,
                        message=f"{name} does not beat the baseline on {primary} "
                                f"({mean:.4g} vs {base:.4g})",
                        suggestion="keep the baseline, or find out why the model learns nothing",
                        details={"lift": lift},
                    ))
            bounded = _metrics.is_bounded(self._vocabulary(primary) or primary)
            if better and bounded and mean >= SUSPICIOUS:
                found.append(Finding(
                    "suspiciously_good", "warning", column=name,
                    message=f"{name} scores {primary} {mean:.4f}: check for target leakage",
                    threshold=SUSPICIOUS,
                    suggestion="look for features computed from the target or from the future",
                ))
            std = float(row[f"{primary}_std"])
            if better and bounded and std > UNSTABLE_STD:
                found.append(Finding(
                    "unstable_across_folds", "info", column=name,
                    message=f"{name}'s {primary} varies across folds (std {std:.3f})",
                    threshold=UNSTABLE_STD, suggestion="more data or more folds before choosing",
                ))
        return found

    def _plots(self) -> Sequence[Plot]:
        if self.best is None:
            return ()
        table = self.results.dropna(subset=[f"{self.primary}_mean"])
        names = [str(n) for n in table["model"]]
        scores = table[f"{self.primary}_mean"].to_numpy(dtype=float)
        errors = table[f"{self.primary}_std"].to_numpy(dtype=float)
        latency = table["latency_1row_ms"].to_numpy(dtype=float)
        primary = self.primary

        def scatter(ax: Any) -> None:
            from matplotlib.ticker import FuncFormatter, NullFormatter

            ok = np.isfinite(latency) & (latency > 0)
            for i, (name, x, y) in enumerate(zip(names, latency, scores, strict=True)):
                if ok[i]:
                    ax.scatter([x], [y], color=PALETTE[i % len(PALETTE)], s=40)
                    # Alternate label heights so that models at one point stay readable.
                    ax.annotate(name, (x, y), textcoords="offset points",
                                xytext=(5, 4 if i % 2 == 0 else -11), fontsize=8)
            if ok.any():
                ax.set_xscale("log")
                ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
                ax.xaxis.set_minor_formatter(NullFormatter())
            ax.set_xlabel("predict latency, one row (ms, log scale)")
            ax.set_ylabel(primary)

        def bars(ax: Any) -> None:
            positions = np.arange(len(names))[::-1]
            ax.barh(positions, scores, xerr=errors, color=PALETTE[0], capsize=3)
            ax.set_yticks(positions, names)
            ax.set_xlabel(f"{primary} (mean ± std over {self.n_splits} folds)")

        height = max(2.5, 0.35 * len(names) + 1.0)
        return (Plot(f"{primary} against predict latency", scatter),
                Plot(f"{primary} by model", bars, size=(6.0, height)))

    def _notes(self) -> Sequence[str]:
        direction = "higher" if self.greater_is_better.get(self.primary, True) else "lower"
        notes = [f"{self.n_splits}-fold comparison on {self.n_rows} rows, sorted by "
                 f"{self.primary} ({direction} is better)."]
        if self.baseline_name is not None:
            notes.append(f"lift_* columns: score minus the {self.baseline_name!r} row's, "
                         "signed so that positive is better.")
        if "forecast" in self.results.columns:
            notes.append("forecast column: a multi-step forecaster predicts each validation fold "
                         "as one path from the end of its training window (row h is h steps "
                         "ahead); a one-step model predicts each row from that row's features.")
        if len(self.undefined_scores):
            notes.append("Scores undefined on a fold are listed in 'undefined scores': a label "
                         "never predicted (precision) or absent from the fold (recall) counts "
                         "as 0, as in scikit-learn; a NaN fold is left out of the mean.")
        return [*notes, *self.notes]

    def _extra(self) -> Mapping[str, Any]:
        return {"task": self.task, "primary": self.primary, "scoring": list(self.scoring),
                "greater_is_better": dict(self.greater_is_better),
                "baseline_name": self.baseline_name,
                "unmeasured_size": dict(self.unmeasured_size),
                "metric_names": dict(self.metric_names),
                "passed": None if self.passed is None else dict(self.passed)}

    def __repr__(self) -> str:
        return (f"<ComparisonReport {self.task}: {len(self.results)} models, "
                f"{self.n_splits} folds, best {self.best!r} by {self.primary}>")
