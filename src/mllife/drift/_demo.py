"""Demo step: how the churn data drifts from October 2024."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._compare import drift_report

DRIFT_START = pd.Timestamp("2024-10-01")


def run(ctx: Any) -> None:
    frame = ctx.clean.frame
    # Timestamps move forward by construction and the target is not an input:
    # monitor what the model reads.
    features = frame.drop(columns=["churned", "last_event_at", "signup_date"])
    late = frame["last_event_at"] >= DRIFT_START
    reference, current = features.loc[~late], features.loc[late]
    report = drift_report(reference, current, multivariate=True, max_plots=6)
    ctx.write(report, "07_drift")
    auc = (report.multivariate or {}).get("auc")
    auc_text = f"; domain-classifier AUC {auc:.2f}" if auc is not None else ""
    drifted = ", ".join(str(c) for c in report.drifted_columns)
    ctx.say(f"drift: {report.n_drifted}/{report.n_columns} columns drifted after {DRIFT_START.date()} "
            f"({drifted}){auc_text}")
