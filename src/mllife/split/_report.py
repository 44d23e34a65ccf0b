"""``LeakageReport``: what :func:`check_leakage` found, as data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..report import Plot, Report


def _empty_checks() -> pd.DataFrame:
    return pd.DataFrame(columns=["check", "between", "status", "n_rows", "share", "value"])


def _empty_scores() -> pd.DataFrame:
    return pd.DataFrame(columns=["column", "metric", "score", "missing_score"])


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class LeakageReport(Report):
    """Leakage found between a training set and held-out sets.

    Returned by :func:`check_leakage` and held by :attr:`Split.report`.

    Attributes
    ----------
    findings : tuple of Finding
        One per problem found. Checks: ``exact_duplicates``,
        ``near_duplicates``, ``group_overlap``, ``temporal_overlap``,
        ``label_horizon``, ``future_timestamp``, ``target_proxy``,
        ``missingness_predicts_target``, ``future_aggregate`` (with
        ``events=``: a feature equal to an all-events ``groupby``),
        ``group_key_candidate`` and ``target_checks_skipped`` (info).
    n_rows : mapping of str to int
        Rows of each set compared (``{"train": ..., "test": ...}``).
    checks : pandas.DataFrame
        One row per check and pair of sets: ``check``, ``between``,
        ``status`` (``ok``, ``info``, ``warning``, ``error``, ``skipped``),
        ``n_rows``, ``share``, ``value``.
    feature_scores : pandas.DataFrame
        One row per column of train: ``column``, ``metric`` (``roc_auc`` or
        ``r2``), ``score`` (cross-validated, one-feature model) and
        ``missing_score`` (the same for the column's missingness indicator).

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.split import check_leakage
    >>> train = pd.DataFrame({"x": [1, 2, 3, 4], "y": [0, 1, 0, 1]})
    >>> report = check_leakage(train, train.iloc[:2], target="y")
    >>> report.passed
    False
    >>> report.findings[0].check
    'exact_duplicates'
    """

    title: str = "Leakage check"
    n_rows: Mapping[str, int] = field(default_factory=dict)
    checks: pd.DataFrame = field(default_factory=_empty_checks)
    feature_scores: pd.DataFrame = field(default_factory=_empty_scores)

    @property
    def passed(self) -> bool:
        """True when no finding is a warning or an error."""
        return not any(f.severity in ("warning", "error") for f in self.findings)

    @property
    def leaky_columns(self) -> list[Any]:
        """Columns named by a target-proxy, missingness, future-timestamp or
        future-aggregate finding (warning or error)."""
        names = ("target_proxy", "missingness_predicts_target", "future_timestamp",
                 "future_aggregate")
        out: list[Any] = []
        for f in self.findings:
            if f.check in names and f.severity != "info" and f.column not in out:
                out.append(f.column)
        return out

    def _summary(self) -> Mapping[str, Any]:
        counts = self.severity_counts()
        summary: dict[str, Any] = {f"{name} rows": n for name, n in self.n_rows.items()}
        summary.update({"errors": counts["error"], "warnings": counts["warning"],
                        "passed": self.passed})
        return summary

    def _tables(self) -> Mapping[str, pd.DataFrame]:
        tables = {"checks": self.checks}
        if len(self.feature_scores):
            tables["single-feature scores"] = self.feature_scores
        return tables

    def _plots(self) -> Sequence[Plot]:
        scores = self.feature_scores
        if not len(scores) or scores["score"].isna().all():
            return ()
        top = scores.dropna(subset=["score"]).sort_values("score", ascending=False).head(15)
        labels = [str(c) for c in top["column"]]
        values = [float(v) for v in top["score"]]
        metric = str(top["metric"].iloc[0])

        def draw(ax: Any) -> None:
            from ..report._plots import bar

            bar(ax, labels, values, xlabel=f"cross-validated {metric} of a one-feature model")

        return (Plot("How well each single column predicts the target", draw),)

    def _extra(self) -> Mapping[str, Any]:
        return {"n_rows": dict(self.n_rows)}
