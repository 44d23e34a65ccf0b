"""The production incidents of make_churn_stream, each caught by the right signal, in time.

One bundle (make_preprocessor + logistic regression, trained on customers of its own)
watches one stream per scenario: 20 daily windows of 1,500 rows, the incident planted
from window 10. Each incident must raise its signal in the window it starts or the next
one; the deterministic signals (data quality, freshness) must stay silent before it.
"""

from __future__ import annotations

import pandas as pd
import pytest

from mllife.datasets import make_churn_stream

N_WINDOWS, ROWS, START = 20, 1_500, 10
DETECT = {START, START + 1}
DETERMINISTIC = ("data_quality", "freshness", "operations")


def _make_bundle(*, out_of_range: str = "ignore"):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from mllife.bundle import InputSchema, ModelBundle
    from mllife.drift import DriftProfile
    from mllife.features import make_preprocessor

    train = make_churn_stream(1, 10, reference_rows=5_000, random_state=99)
    X, y = train.X_reference, train.y_reference
    model = Pipeline([("pre", make_preprocessor(X)), ("model", LogisticRegression(max_iter=1_000))]).fit(X, y)
    schema = InputSchema.infer(X, out_of_range=out_of_range)
    return ModelBundle(model, schema, version="1.0.0", drift_profile=DriftProfile.fit(X))


@pytest.fixture(scope="module")
def bundle():
    """A permissive contract (``out_of_range="ignore"``): values far outside the training
    range reach the model, as they did in the seed's "forgot to update the scaler" incident."""
    return _make_bundle()


def _stream(scenario):
    return make_churn_stream(N_WINDOWS, ROWS, scenario=scenario, start=START, reference_rows=3_000,
                             random_state=5)


def _monitor(bundle, stream):
    from mllife.monitor import Monitor

    return Monitor(bundle, reference=stream.reference, time_col=stream.time_col, window="1D",
                   id_col=stream.id_col, label_col=stream.target)


def _feed(bundle, stream, *, labels: bool = True):
    monitor = _monitor(bundle, stream)
    for batch in stream.batches:
        monitor.observe(batch)
    if labels:
        monitor.observe_labels(stream.labels)
    return monitor


@pytest.fixture(scope="module")
def watch(bundle):
    """``watch(scenario)``: the report on that scenario's stream, labels observed (cached)."""
    reports: dict[str, object] = {}

    def get(scenario):
        if scenario not in reports:
            reports[scenario] = _feed(bundle, _stream(scenario)).report()
        return reports[scenario]

    return get


def _row(report, index: int) -> pd.Series:
    return report.windows.set_index("index").loc[index]


def _alarm_windows(report, signal: str) -> set[int]:
    s = report.signals
    return {int(i) for i in s.loc[s["alarm"].astype(bool) & (s["signal"] == signal), "index"]}


def _finding_windows(report, signal: str) -> set[int]:
    return {int(f.details["index"]) for f in report.findings if f.check == f"monitor_{signal}"}


def _assert_caught(report, signal: str) -> None:
    windows = _alarm_windows(report, signal)
    assert windows & DETECT, f"{signal} raised no alarm in windows {sorted(DETECT)}; alarms in {sorted(windows)}"
    assert _finding_windows(report, signal) & DETECT, f"no monitor_{signal} finding in {sorted(DETECT)}"


def _assert_silent_before_start(report) -> None:
    for signal in DETERMINISTIC:
        early = {w for w in _alarm_windows(report, signal) if w < START}
        assert not early, f"{signal} alarmed on the clean windows {sorted(early)}"


def _assert_windows(report) -> None:
    windows = report.windows
    assert len(windows) == N_WINDOWS
    assert windows["index"].tolist() == list(range(N_WINDOWS))
    assert (windows["n_rows"] == ROWS).all()


def test_scaler_not_updated_is_prediction_drift(watch):
    report = watch("scaler")
    _assert_windows(report)
    _assert_caught(report, "prediction_drift")
    _assert_silent_before_start(report)
    # the model predicts nearly everyone churns: the report's numbers show it
    s = report.signals
    pred = s[(s["signal"] == "prediction_drift") & (s["index"] == START)]
    assert len(pred) >= 1
    assert _row(report, START)["prediction_drift_p"] < 1e-6


def test_scaler_not_updated_breaks_a_strict_contract():
    """With the default contract (``out_of_range="error"``), the bundle refuses the rows
    whose charges are 100x the training range: a data-quality alarm from the first window."""
    strict = _make_bundle(out_of_range="error")
    report = _feed(strict, _stream("scaler")).report()
    _assert_windows(report)
    assert START in _alarm_windows(report, "data_quality")
    assert not {w for w in _alarm_windows(report, "data_quality") if w < START}
    row = _row(report, START)
    assert max(row["unscored_rate"], row["schema_violation_rate"]) > 0.5


def test_stale_pipeline_is_freshness(watch):
    report = watch("stale")
    stream = _stream("stale")
    _assert_windows(report)
    _assert_caught(report, "freshness")
    _assert_silent_before_start(report)
    stale = set(stream.manifest["windows"])
    assert START in _alarm_windows(report, "freshness")
    # every replayed window is flagged, and the fresh one after the replay is not
    assert stale <= _alarm_windows(report, "freshness")
    assert max(stale) + 1 not in _alarm_windows(report, "freshness")
    assert (report.windows.set_index("index").loc[sorted(stale), "repeat_share"] > 0.99).all()


def test_gradual_covariate_shift_is_data_drift(watch):
    report = watch("covariate_shift")
    _assert_windows(report)
    _assert_caught(report, "data_drift")
    _assert_silent_before_start(report)
    drifted = report.columns
    late = drifted[(drifted["index"] == START + 1) & drifted["drifted"].astype(bool)]
    assert {"monthly_charges", "tenure_months"} & set(late["column"])
    # gradual: by the end most windows have drifted
    assert len(_alarm_windows(report, "data_drift") & set(range(START, N_WINDOWS))) >= N_WINDOWS - START - 1


def test_concept_shift_shows_only_once_labels_arrive(bundle):
    stream = _stream("concept_shift")
    monitor = _feed(bundle, stream, labels=False)
    before = monitor.report()
    _assert_windows(before)
    assert not _alarm_windows(before, "realized_performance")
    assert before.windows["n_labelled"].fillna(0).eq(0).all()
    _assert_silent_before_start(before)
    # the inputs did not change: no drift alarm where the concept changed
    assert not _alarm_windows(before, "data_drift") & DETECT
    assert not _alarm_windows(before, "prediction_drift") & DETECT

    monitor.observe_labels(stream.labels)
    after = monitor.report()
    assert (after.windows["n_labelled"] == ROWS).all()
    _assert_caught(after, "realized_performance")
    assert len(_alarm_windows(after, "realized_performance") & set(range(START, N_WINDOWS))) >= N_WINDOWS - START - 1


def test_schema_break_is_data_quality_in_that_window_only(watch):
    report = watch("schema_break")
    _assert_windows(report)
    assert _alarm_windows(report, "data_quality") == {START}
    assert _finding_windows(report, "data_quality") == {START}
    findings = [f for f in report.findings if f.check == "monitor_data_quality"]
    assert all(f.severity == "error" for f in findings)
    named = {f.column for f in findings} | {str(f.message) for f in findings}
    assert any("tenure_months" in str(n) or "age" in str(n) for n in named)
    rates = report.windows.set_index("index")["schema_violation_rate"]
    assert rates[START] > 0
    assert (rates.drop(index=START).fillna(0) == 0).all()
    assert not _alarm_windows(report, "freshness")


def test_alarm_findings_carry_the_numbers(watch):
    report = watch("scaler")
    signals = report.signals
    alarms = signals[signals["alarm"].astype(bool)]
    assert len(report.findings) == len(alarms)
    for finding in report.findings:
        assert finding.check.startswith("monitor_")
        assert set(finding.details) >= {"window", "index", "signal", "statistic", "value", "low", "high",
                                        "p_value", "level"}
        assert finding.suggestion
        assert str(finding.details["window"]) in finding.message
    statistical = alarms[alarms["level"].notna()]
    assert (statistical["p_value"] <= statistical["level"]).all()
    assert pd.api.types.is_bool_dtype(signals["alarm"])
