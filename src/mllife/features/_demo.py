"""Demo step: choose the preprocessing from the column kinds and document the features."""

from __future__ import annotations

from typing import Any

from ._preprocessor import make_preprocessor


def run(ctx: Any) -> None:
    X_train = ctx.state.get("X_train")
    if X_train is None:
        frame = ctx.clean.frame
        X_train = frame.drop(columns=[ctx.clean.target])
    pre = make_preprocessor(X_train)
    ctx.state["preprocessor"] = pre  # unfitted: the model step fits it inside its Pipeline
    from sklearn.base import clone

    fitted = clone(pre).fit(X_train)
    report = fitted.plan_report(X_train)
    ctx.write(report, "03_features")
    summary = report._summary()
    ctx.say(
        f"features: {summary['input columns']} columns -> {summary['output features']} features "
        f"({summary['dropped']} dropped: "
        + ", ".join(report.plan.loc[report.plan['action'].str.startswith('dropped'), 'column'])
        + ")"
    )
