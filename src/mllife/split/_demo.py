"""Demo step: a leakage-safe time split of the churn data, and its leakage report."""

from __future__ import annotations

from typing import Any

from ._split import split

TARGET = "churned"
TIME = "last_event_at"


def run(ctx: Any) -> None:
    frame = ctx.clean.frame
    parts = split(frame, target=TARGET, time_col=TIME, gap="7D")
    X_train, y_train = parts.xy("train")
    X_test, y_test = parts.xy("test")
    ctx.state["split"] = parts
    ctx.state.update({"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test})
    ctx.write(parts.report, "02_split")
    sizes = parts.sizes
    counts = parts.report.severity_counts()
    ctx.say(
        f"split: time split with a 7-day gap: train {sizes['train']:,}, validation "
        f"{sizes['validation']:,}, test {sizes['test']:,} rows ({len(parts.dropped):,} in gaps); "
        f"leakage check: {counts['error']} errors, {counts['warning']} warnings"
    )
