"""The point of the log: what a service wrote, the monitor reads (phase 6 feeds phase 7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mllife.serve import PredictionLog

INPUTS = ["plan", "age", "tenure_months", "monthly_charges", "usage_gb", "support_tickets"]
T0 = pd.Timestamp("2026-11-30 08:00", tz="UTC")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A churn classifier and a log of 12 champion requests over two days, each shadowed,
    and one request refused (422)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from mllife.bundle import InputSchema, ModelBundle
    from mllife.datasets import make_churn
    from mllife.features import make_preprocessor

    frame = make_churn(1_700, random_state=3, defects=False).frame
    X, y = frame[INPUTS], frame["churned"]
    train = X.iloc[:800]
    model = Pipeline([("pre", make_preprocessor(train)),
                      ("model", LogisticRegression(max_iter=1_000))]).fit(train, y.iloc[:800])
    bundle = ModelBundle(model, InputSchema.infer(train, out_of_range="ignore"), version="1.0")
    challenger = ModelBundle(Pipeline([("pre", make_preprocessor(train)), ("model",
                             LogisticRegression(C=0.01, max_iter=1_000))]).fit(
                             train, y.iloc[:800]),
                             InputSchema.infer(train, out_of_range="ignore"), version="2.0")
    production = X.iloc[1_200:].reset_index(drop=True)
    folder = tmp_path_factory.mktemp("log")
    written = []
    with PredictionLog(folder, rotate_rows=150) as log:
        for i in range(12):
            batch = production.iloc[40 * i: 40 * i + 40]
            when = T0 + pd.Timedelta(hours=3 * i)  # 08:00 .. 23:00, then 02:00 .. 17:00
            valid = bundle.schema.validate(batch)
            outputs = bundle.predict_proba(batch)
            latency = 2.0 + i * 1.5
            log.write(request_id=f"req-{i}", role="champion", model_version="1.0", status=200,
                      latency_ms=latency, inputs=valid, outputs=outputs, scored_at=when,
                      notes=outputs.attrs["schema_notes"])
            log.write(request_id=f"req-{i}", role="shadow", model_version="2.0", status=200,
                      latency_ms=900.0, inputs=valid, outputs=challenger.predict_proba(batch),
                      scored_at=when)
            written.append((when, latency, outputs))
        log.write(request_id="refused", role="champion", model_version="1.0", status=422,
                  latency_ms=5_000.0, error="schema", n_rows=3, scored_at=T0,
                  notes=[{"column": "age", "problem": "missing column", "count": 3}])
    return bundle, X.iloc[800:1_200], folder, written


def test_the_log_holds_what_was_served(served):
    bundle, _, folder, written = served
    frame = PredictionLog.read(folder)
    assert len(frame) == 12 * 40
    assert (frame["role"] == "champion").all()
    assert frame.attrs["segments"] > 1  # rotated while serving
    expected = pd.concat([out for _, _, out in written], ignore_index=True)
    pd.testing.assert_frame_equal(frame[["prediction", "proba_0", "proba_1"]],
                                  expected[["prediction", "proba_0", "proba_1"]])
    again = bundle.predict_proba(frame[INPUTS])  # the logged inputs are what the model saw
    np.testing.assert_allclose(again["proba_1"], frame["proba_1"], rtol=0, atol=1e-12)
    assert frame["latency_ms"].tolist() == list(np.repeat([lat for _, lat, _ in written], 40))


def test_the_monitor_reads_the_log(served):
    from mllife.monitor import Monitor

    bundle, reference, folder, written = served
    frame = PredictionLog.read(folder)
    monitor = Monitor(bundle, reference=reference, time_col="scored_at", window="1D")
    report = monitor.observe(frame).report()
    assert monitor.n_rows == 480  # the shadow's rows and the refused request are left out
    assert monitor.windows == ["2026-11-30", "2026-12-01"]
    windows = report.windows.set_index("window")
    assert windows["n_rows"].tolist() == [240, 240]  # six requests a day
    for label, rows in (("2026-11-30", slice(0, 6)), ("2026-12-01", slice(6, 12))):
        latencies = np.repeat([lat for _, lat, _ in written[rows]], 40)  # one per scored row
        for q, column in ((0.5, "latency_p50_ms"), (0.95, "latency_p95_ms")):
            low = np.quantile(latencies, q, method="lower")  # the definitions differ at a gap
            high = np.quantile(latencies, q, method="higher")
            assert low * 0.99 <= windows.loc[label, column] <= high * 1.01
        assert windows.loc[label, "error_rate"] == 0.0
    assert windows["schema_violation_rate"].eq(0).all()
    assert windows["unscored_rate"].eq(0).all()
    assert windows["n_alarms"].eq(0).all()
    assert all(f.severity == "info" for f in report.findings)  # nothing but notes
    bookkeeping = {"request_id", "row", "role", "status"}  # the log's, never "new columns"
    assert not [f for f in report.findings if str(f.column) in bookkeeping]


def test_failed_requests_reach_the_operations_signal_when_asked(served):
    from mllife.monitor import Monitor

    bundle, reference, folder, _ = served
    frame = PredictionLog.read(folder, failed=True)
    refused = frame[frame["status"] != 200]
    assert refused["request_id"].tolist() == ["refused"]
    assert refused["row"].tolist() == [-1]
    report = Monitor(bundle, reference=reference, time_col="scored_at",
                     window="1D").observe(frame).report()
    first = report.windows.set_index("window").loc["2026-11-30"]
    assert first["error_rate"] == pytest.approx(1 / 241)
    assert "operations" in set(report.alarms["signal"])


def test_a_row_window_monitor_reads_it_too(served):
    from mllife.monitor import Monitor

    bundle, reference, folder, _ = served
    monitor = Monitor(bundle, reference=reference, rows=240).observe(PredictionLog.read(folder))
    assert monitor.n_rows == 480
    assert len(monitor.windows) == 2
