"""Demo step: two weeks of production in which the scaler is forgotten, watched by a Monitor."""

from __future__ import annotations

from typing import Any

N_WINDOWS, ROWS, START = 14, 1_000, 8
ON_ALARMS = ("prediction_drift", "data_quality", "freshness")


def _bundle(ctx: Any, stream: Any) -> tuple[Any, str]:
    """The bundle step's bundle when the stream carries its columns, else one fitted here."""
    bundle = ctx.state.get("bundle")
    columns = set(stream.batches[0].columns)
    if bundle is not None and set(bundle.schema.columns) <= columns:
        return bundle, "the bundle step's model"
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from ..bundle import InputSchema, ModelBundle
    from ..drift import DriftProfile
    from ..features import make_preprocessor

    train = stream.reference.iloc[: len(stream.reference) // 2]
    X, y = train.loc[:, list(stream.inputs)], train[stream.target]
    model = Pipeline([("pre", make_preprocessor(X)), ("model", LogisticRegression(max_iter=1_000))]).fit(X, y)
    # A permissive contract: values out of the training range reach the model, as in the incident.
    schema = InputSchema.infer(X, out_of_range="ignore")
    fresh = ModelBundle(model, schema, version="1.0.0", metadata={"trained_rows": len(X)},
                        drift_profile=DriftProfile.fit(X))
    why = "a model fitted on half the stream's reference" + (
        " (the bundle step's model reads columns the stream does not carry: "
        + ", ".join(sorted(set(bundle.schema.columns) - columns)[:4]) + ")" if bundle is not None else "")
    return fresh, why


def run(ctx: Any) -> None:
    import pandas as pd

    from ..datasets import make_churn_stream
    from ._monitor import Monitor
    from ._policy import RetrainPolicy

    stream = make_churn_stream(N_WINDOWS, ROWS, scenario="scaler", start=START, reference_rows=4_000,
                               random_state=0)
    bundle, which = _bundle(ctx, stream)
    # The monitor's labelled reference: customers the model was not trained on.
    reference = stream.reference.iloc[len(stream.reference) // 2:]
    monitor = Monitor(bundle, reference=reference, time_col=stream.time_col, window="1D",
                      id_col=stream.id_col, label_col=stream.target)
    for batch in stream.batches:
        monitor.observe(batch)
    # Labels arrive later, for the first week only.
    first_week = pd.concat([batch[stream.id_col] for batch in stream.batches[:7]])
    monitor.observe_labels(stream.labels[stream.labels[stream.id_col].isin(first_week)])
    report = monitor.report()
    ctx.write(report, "08_monitor")
    decision = RetrainPolicy(every="30D", max_drift_share=0.3, on_alarms=ON_ALARMS).decide(monitor)
    ctx.state["monitor"] = monitor
    ctx.state["retrain_decision"] = decision

    signals = report.signals
    alarms = signals.loc[signals["alarm"].astype(bool), "signal"].value_counts()
    by_signal = ", ".join(f"{name} {count}" for name, count in alarms.items()) or "none"
    first = signals.loc[signals["alarm"].astype(bool), "index"]
    first_text = f"; first alarm in window {int(first.min())}" if len(first) else ""
    ctx.say(f"monitor: {N_WINDOWS} days of {which}, monthly_charges x100 from day {START}: "
            f"alarms by signal: {by_signal}{first_text}; retrain: {decision.retrain}"
            + (f" ({decision.trigger})" if decision.trigger else ""))
