"""``DriftReport``: per-column drift, the overall verdict and distribution overlays."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..report import Finding, Plot, Report
from ..report._plots import PALETTE, bar, label_axes
from ._auto import AUTO_THRESHOLDS


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class DriftReport(Report):
    """The result of :func:`drift_report` and :meth:`DriftProfile.compare`.

    Attributes
    ----------
    table : DataFrame
        One row per column: ``column``, ``kind``, ``method``, ``statistic``
        (the raw statistic), ``p_value`` and ``p_adjusted`` (the distribution
        test's), ``effect_size`` (bias-corrected normalised Wasserstein or
        Jensen-Shannon distance), ``statistic_corrected`` (a distance minus
        its expected value under no drift: what effect decisions compare with
        ``threshold``), ``threshold``, ``drifted``, ``reason`` (each firing
        test with its corrected p-value), ``psi``, ``n_reference``,
        ``n_current``, ``missing_reference``, ``missing_current``,
        ``missing_change``, ``missing_p_adjusted``, ``inf_reference``,
        ``inf_current``, ``inf_p_adjusted``, ``unseen_share``,
        ``unseen_expected`` (Good-Turing), ``unseen_p_adjusted``, ``note``
        (how the p-value was obtained: pooled categories, permutations,
        ties) and ``status``. A ``*_p_adjusted`` is empty when its test did
        not run (nothing missing, nothing that could be unseen).
    drift_share : float
        Drifted columns over compared columns (new columns excluded).
    n_drifted, n_columns : int
    drifted : bool
        The overall verdict: ``drift_share`` reached its threshold, or the
        domain classifier told the samples apart.
    multivariate : dict or None
        The domain classifier's result (``auc``, ``auc_std``, ``threshold``,
        ``drifted``...) when it was asked for.
    distributions : dict
        Per column, the binned shares of both samples drawn in HTML.
    settings : dict
        The parameters of the comparison.

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.drift import drift_report
    >>> r = drift_report(pd.DataFrame({"x": range(100)}), pd.DataFrame({"x": range(100)}))
    >>> r.drifted, r.drift_share
    (False, 0.0)
    """

    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    drift_share: float = 0.0
    n_drifted: int = 0
    n_columns: int = 0
    drifted: bool = False
    multivariate: Mapping[str, Any] | None = None
    distributions: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    n_reference: int = 0
    n_current: int = 0

    # ---- structured access ---------------------------------------------------------
    @property
    def drifted_columns(self) -> list[Any]:
        """Names of the drifted columns, in table order."""
        if self.table.empty:
            return []
        return list(self.table.loc[self.table["drifted"].astype(bool), "column"])

    def _ranked(self) -> pd.DataFrame:
        """Columns most drifted first: drifted, then by effect size."""
        if self.table.empty:
            return self.table
        order = self.table.assign(
            _d=self.table["drifted"].astype(bool),
            _e=pd.to_numeric(self.table["effect_size"], errors="coerce").fillna(-1.0),
        )
        return order.sort_values(["_d", "_e"], ascending=False, kind="stable").drop(columns=["_d", "_e"])

    # ---- report hooks ------------------------------------------------------------
    def _summary(self) -> Mapping[str, Any]:
        out: dict[str, Any] = {
            "columns compared": self.n_columns, "drifted columns": self.n_drifted,
            "drift share": round(self.drift_share, 4), "data set drifted": self.drifted,
            "reference rows": self.n_reference, "current rows": self.n_current,
        }
        if self.multivariate:
            out["domain classifier AUC"] = self.multivariate.get("auc")
        return out

    def _tables(self) -> Mapping[str, pd.DataFrame]:
        return {"columns": self.table}

    def _derive_findings(self) -> Sequence[Finding]:
        out = []
        for row in self._ranked().itertuples(index=False):
            status = str(row.status)
            if bool(row.drifted):
                out.append(Finding("drift", "warning", column=row.column, message=str(row.reason),
                                   threshold=_num(row.threshold),
                                   details={"method": row.method, "statistic": _num(row.statistic),
                                            "p_adjusted": _num(row.p_adjusted),
                                            "effect_size": _num(row.effect_size),
                                            "missing_p_adjusted": _num(row.missing_p_adjusted),
                                            "inf_p_adjusted": _num(row.inf_p_adjusted),
                                            "unseen_p_adjusted": _num(row.unseen_p_adjusted)}))
            if status.startswith("failed"):
                out.append(Finding("drift_failed", "error", column=row.column, message=status))
            elif status != "ok" and not status.startswith("method"):
                out.append(Finding("drift_column", "info", column=row.column, message=status))
        if self.drifted:
            message = f"{self.n_drifted} of {self.n_columns} columns drifted ({self.drift_share:.0%})"
            if self.multivariate and self.multivariate.get("drifted"):
                message += f"; domain classifier AUC {self.multivariate.get('auc'):.3f}"
            out.insert(0, Finding("dataset_drift", "warning", message=message, share=self.drift_share,
                                  threshold=float(self.settings.get("drift_share", 0.5))))
        return out

    def _plots(self) -> Sequence[Plot]:
        if self.table.empty:
            return []
        ranked = self._ranked()
        plots: list[Plot] = []
        effects = ranked.dropna(subset=["effect_size"])
        # One panel per effect-size family: a Wasserstein distance in reference sds (~96 for
        # a date column) and a Jensen-Shannon distance (0 to 1) share no scale.
        for kind, statistic, axis, title in _EFFECT_PANELS:
            rows = effects[effects["kind"] == kind].head(25)
            if len(rows):
                plots.append(Plot(title, _effect_bars(rows, statistic, axis),
                                  size=(6.0, max(2.0, 0.25 * len(rows) + 1.0))))
        limit = int(self.settings.get("max_plots", 12))
        shown = [c for c in ranked["column"] if str(c) in self.distributions][:limit]
        for column in shown:
            data = self.distributions[str(column)]
            plots.append(Plot(f"{column}: reference vs current", _overlay(data)))
        return plots

    def _notes(self) -> Sequence[str]:
        method = self.settings.get("method", "auto")
        notes = [f"method={method!r}, alpha={self.settings.get('alpha')}, correction={self.settings.get('correction')!r} "
                 "over every test of every column (distribution, missing rate, inf rate, unseen categories); "
                 "missing values are dropped from the statistics and reported as missing-rate changes."]
        if "permutations" in self.settings:
            notes.append(f"Permutation p-values: at most R={self.settings['permutations']} draws per test, "
                         f"random_state={self.settings.get('random_state')!r}.")
        notes.extend(_approximation_note(a) for a in self.settings.get("approximation", ()))
        return notes

    def _extra(self) -> Mapping[str, Any]:
        return {"drift_share": self.drift_share, "drifted": self.drifted, "drifted_columns": self.drifted_columns,
                "multivariate": self.multivariate, "settings": dict(self.settings),
                "distributions": dict(self.distributions)}


#: ``(kind, statistic of its effect size, axis label, plot title)`` of the effect-size panels.
_EFFECT_PANELS = (
    ("numeric", "wasserstein", "Wasserstein distance / reference sd",
     "Effect size of numeric columns: Wasserstein distance in reference standard deviations"),
    ("categorical", "jensen_shannon", "Jensen-Shannon distance",
     "Effect size of categorical columns: Jensen-Shannon distance (0 to 1)"),
)


def _effect_bars(rows: pd.DataFrame, statistic: str, axis: str) -> Any:
    """Bars of one effect-size family, each with its threshold marked and its value written."""
    labels = [str(c) for c in rows["column"]]
    values = pd.to_numeric(rows["effect_size"], errors="coerce").to_numpy(dtype=float)
    # The threshold a column was judged on when its method was this effect size; the
    # default effect threshold of large samples otherwise.
    own = pd.to_numeric(rows["threshold"], errors="coerce").to_numpy(dtype=float)
    thresholds = np.where((rows["method"] == statistic).to_numpy() & np.isfinite(own), own,
                          AUTO_THRESHOLDS[statistic])

    def draw(ax: Any) -> None:
        bar(ax, labels, values.tolist(), xlabel=axis)
        positions = np.arange(len(labels))[::-1]
        ax.bar_label(ax.containers[0], labels=[f"{v:.3g}" for v in values], padding=2, fontsize=7)
        ax.scatter(thresholds, positions, marker="|", s=160, color=PALETTE[3], zorder=3,
                   label="effect-size threshold")
        ax.set_xlim(0, max(float(np.nanmax(values)), float(thresholds.max())) * 1.15)
        ax.legend(frameon=False, fontsize=8, loc="lower right")

    return draw


def _approximation_note(stated: Mapping[str, Any]) -> str:
    """How a side compared through a profile (a Dask frame's) differs from its rows."""
    side, exact = str(stated.get("side")), int(stated.get("exact_size", 0))
    text = (f"The {side} data went through {stated.get('through', 'a DriftProfile')} (exact_size={exact:,}, "
            f"sketch_size={int(stated.get('sketch_size', 0)):,}), not through its rows: row, missing and inf "
            "counts and category tables are exact, and so are numeric columns of at most "
            f"{exact:,} finite values.")
    sketched = [str(c) for c in stated.get("sketched_columns", ())]
    if not sketched:
        return text + " Every column compared was exact: the report equals the in-memory one."
    shown = ", ".join(sketched[:10]) + (f" and {len(sketched) - 10} more" if len(sketched) > 10 else "")
    bound = float(stated.get("max_rank_error", 0.0))
    text += (f" Numeric columns with more values ({shown}) are quantile sketches whose CDF is within "
             f"{bound:.2g} of the data's (rank error); ")
    if side == "reference":
        return text + ("their KS p-values are taken at D minus that bound (conservative), and permutation "
                       "tests count each sketch point as its weight in rows.")
    return text + ("each sketch point is counted as its weight in rows (rounded), so statistics are within that "
                   "distance of the exact ones, and p-values are computed as if those were the rows.")


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def _overlay(data: Mapping[str, Any]) -> Any:
    def draw(ax: Any) -> None:
        ref = np.asarray(data["reference"], dtype=float)
        cur = np.asarray(data["current"], dtype=float)
        if data["kind"] == "numeric":
            edges = np.asarray(data["edges"], dtype=float)
            dates = bool(data.get("datetime"))
            if dates:  # seconds since the epoch -> matplotlib date numbers (days since it)
                edges = edges / 86_400.0
            width = np.diff(edges)
            ax.stairs(ref / width, edges, label="reference", color=PALETTE[0], fill=True, alpha=0.35)
            ax.stairs(cur / width, edges, label="current", color=PALETTE[1], linewidth=1.8)
            ax.set_ylabel("density (per day)" if dates else "density")
            ax.set_xlabel(str(data.get("xlabel", "")))
            if dates:
                import matplotlib.dates as mdates

                locator = mdates.AutoDateLocator()
                ax.xaxis.set_major_locator(locator)
                ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        else:
            labels = [str(v) for v in data["labels"]]
            pos = np.arange(len(labels))
            ax.bar(pos - 0.2, ref, width=0.4, label="reference", color=PALETTE[0])
            ax.bar(pos + 0.2, cur, width=0.4, label="current", color=PALETTE[1])
            label_axes(ax, x=(pos, labels), cell=0.35)
            ax.set_ylabel("share")
        ax.legend(frameon=False, fontsize=8)

    return draw
