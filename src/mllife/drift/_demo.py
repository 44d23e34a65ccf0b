"""Demo step: how the churn data drifts from October 2024."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._compare import drift_report
from ._profile import DriftProfile

DRIFT_START = pd.Timestamp("2024-10-01")


def run(ctx: Any) -> None:
    frame = ctx.clean.frame
    features = frame.drop(columns=["churned"])
    late = frame["last_event_at"] >= DRIFT_START
    reference, current = features.loc[~late], features.loc[late]
    ctx.state["drift_profile"] = DriftProfile.fit(reference)
    report = drift_report(reference, current, multivariate=True, max_plots=6)
    ctx.write(report, "07_drift")
    auc = (report.multivariate or {}).get("auc")
    auc_text = f"; domain-classifier AUC {auc:.2f}" if auc is not None else ""
    drifted = ", ".join(str(c) for c in report.drifted_columns)
    ctx.say(f"drift: {report.n_drifted}/{report.n_columns} columns drifted after {DRIFT_START.date()} "
            f"({drifted}){auc_text}")
