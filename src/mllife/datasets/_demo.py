"""Demo step: describe the synthetic data and what was planted in it."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..report import Plot, Report
from ..report._plots import bar


def run(ctx: Any) -> None:
    frame, manifest = ctx.messy
    clean = ctx.clean.frame
    planted = pd.DataFrame(
        [
            {"defect": name, "kind": info["kind"], "columns": ", ".join(info.get("columns", [])),
             "rows": info.get("n_rows", 0), "description": info["description"]}
            for name, info in manifest.items()
        ]
    )
    monthly = clean.groupby(clean["last_event_at"].dt.to_period("M").astype(str))["churned"].mean()
    report = Report(
        title="Synthetic churn data",
        summary={"rows": len(frame), "columns": frame.shape[1],
                 "churn rate": float(clean["churned"].mean()), "defects planted": len(manifest)},
        tables={"planted defects": planted},
        plots=[Plot("Churn rate by month (drift from October)",
                    lambda ax: bar(ax, list(monthly.index), list(monthly.to_numpy()),
                                   xlabel="churn rate", horizontal=False))],
        notes=["make_churn(defects=True, drift=True): the messy table the audit looks at."],
    )
    ctx.write(report, "00_data")
