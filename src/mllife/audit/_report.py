"""``AuditReport``: the findings of :func:`mllife.audit`, the profile and plots."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..report import Plot, Report
from ..report._html import findings_frame
from ..report._plots import PALETTE, bar, label_axes

__all__ = ["AuditReport"]


def _empty_profile() -> pd.DataFrame:
    return pd.DataFrame()


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class AuditReport(Report):
    """What :func:`mllife.audit` found, as data.

    Attributes
    ----------
    findings : tuple of Finding
        Gravest first (error, warning, info), then by check and column.
    profile : pandas.DataFrame
        :func:`mllife.audit.profile` of the table.
    n_rows, n_columns : int
    target, time_col : hashable or None
    id_cols : tuple
    checks : tuple of str
        The checks that ran.
    scale : mapping
        Empty for a pandas frame. For a Dask frame or a Parquet dataset: how
        the audit ran (``engine``, ``partitions``, ``distributed``: the checks
        computed from summaries of every row, ``sampled``: the checks that ran
        on a seeded sample, ``sample_rows``, ``approximate``: the columns above
        the distinct-value cap and what was estimated for them).

    ``to_frame()`` returns the findings table (one row per finding, with
    ``sample_index`` and ``threshold``); ``tables`` holds the profile (the
    findings are rendered once, in their own section).

    Examples
    --------
    >>> import pandas as pd
    >>> import mllife
    >>> report = mllife.audit(pd.DataFrame({"x": ["a", "N/A", "b", "a"]}))
    >>> report.findings[0].check, report.findings[0].n_rows
    ('disguised_nulls', 1)
    >>> list(report.to_frame().columns[:3])
    ['severity', 'check', 'column']
    """

    title: str = "Data audit"
    profile: pd.DataFrame = field(default_factory=_empty_profile)
    n_rows: int = 0
    n_columns: int = 0
    target: Any = None
    time_col: Any = None
    id_cols: tuple[Any, ...] = ()
    checks: tuple[str, ...] = ()
    scale: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.tables:
            object.__setattr__(self, "tables", {"profile": self.profile})  # frozen by Report

    def to_frame(self) -> pd.DataFrame:
        """The findings table (:meth:`findings_table`): one row per finding."""
        return self.findings_table()

    def _summary(self) -> Mapping[str, Any]:
        counts = self.severity_counts()
        return {"rows": self.n_rows, "columns": self.n_columns, "errors": counts["error"],
                "warnings": counts["warning"], "info": counts["info"], "checks run": len(self.checks)}

    def findings_table(self) -> pd.DataFrame:
        """One row per finding: severity, check, column, message, counts, sample rows, suggestion."""
        table = findings_frame(self.findings)
        ordered = sorted(self.findings, key=lambda f: -f.rank)
        table["threshold"] = [f.threshold for f in ordered]
        table["sample_index"] = [list(f.sample_index) for f in ordered]
        return table

    def _notes(self) -> Sequence[str]:
        notes = [f"target: {self.target!r}" if self.target is not None else "no target given"]
        if self.time_col is not None:
            notes.append(f"time column: {self.time_col!r}")
        if self.id_cols:
            notes.append(f"id columns: {list(self.id_cols)!r}")
        return ["; ".join(notes), *self.notes]

    def _plots(self) -> Sequence[Plot]:
        plots = []
        prof = self.profile
        if not prof.empty and "missing_share" in prof and self.n_rows:
            disguised: dict[str, float] = {}
            for f in self.findings:
                if f.check == "disguised_nulls" and f.share is not None:
                    key = str(f.column)
                    disguised[key] = disguised.get(key, 0.0) + f.share
            table = pd.DataFrame({
                "column": prof["column"].astype(str),
                "missing": prof["missing_share"].fillna(0.0).astype(float),
            })
            table["disguised"] = table["column"].map(disguised).fillna(0.0)
            table["total"] = table["missing"] + table["disguised"]
            top = table.sort_values("total", ascending=False, kind="stable").head(25)
            plots.append(Plot("Missing share per column, disguised nulls included (top 25)",
                              lambda ax: _missing_bars(ax, top),
                              size=(6.0, max(2.0, 0.25 * len(top) + 1))))
        if self.findings:
            table = pd.Series([f.check for f in self.findings]).value_counts()
            names, counts = list(table.index), [float(v) for v in table.to_numpy()]
            plots.append(Plot("Findings per check",
                              lambda ax: bar(ax, names, counts, xlabel="findings", color=PALETTE[3]),
                              size=(6.0, max(2.0, 0.3 * len(names) + 1))))
        return plots

    def _extra(self) -> Mapping[str, Any]:
        extra = {"n_rows": self.n_rows, "n_columns": self.n_columns, "target": self.target,
                 "time_col": self.time_col, "id_cols": list(self.id_cols), "checks": list(self.checks)}
        if self.scale:
            extra["scale"] = dict(self.scale)
        return extra


def _missing_bars(ax: Any, table: pd.DataFrame) -> None:
    positions = list(range(len(table)))[::-1]
    ax.barh(positions, table["missing"], color=PALETTE[0], label="missing (NaN)")
    ax.barh(positions, table["disguised"], left=table["missing"], color=PALETTE[1],
            label="disguised null (token or sentinel)")
    label_axes(ax, y=(positions, list(table["column"])))
    ax.set_xlabel("share of rows")
    ax.set_xlim(0, 1)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
