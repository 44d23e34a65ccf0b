"""Demo step: audit the messy churn table."""

from __future__ import annotations

from typing import Any

from ._audit import audit


def run(ctx: Any) -> None:
    frame = ctx.messy.frame
    report = audit(frame, target="churned", time_col="last_event_at", id_cols=["customer_id"])
    ctx.write(report, "01_audit")
    counts = report.severity_counts()
    checks = sorted({f.check for f in report.findings if f.severity != "info"})
    ctx.say(f"audit: {counts['error']} errors, {counts['warning']} warnings, {counts['info']} info "
            f"on {len(frame):,} rows ({', '.join(checks)})")
