"""Hostile review of MonitorReport, RetrainPolicy and retrain: odd inputs, real monitors, files."""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from mllife._errors import InputError, MllifeError
from mllife.monitor import Monitor, MonitorReport, RetrainPolicy, retrain
from mllife.monitor._retrain import _data_window, bump_version
from mllife.report import Report

from ..test_report import check_html
from .conftest import daily_batches
from .test_report import make_report

SIGNAL_ROW = {"window": ["w1"], "index": [1], "signal": ["data_drift"], "column": [None],
              "statistic": ["drift_share"], "value": [0.5], "low": [np.nan], "high": [np.nan],
              "p_value": [0.001], "level": [0.01], "alarm": [True], "reason": ["2 of 4 drifted"]}


def _windows(n: int = 2, **extra) -> pd.DataFrame:
    start = pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC")
    return pd.DataFrame({"window": [f"w{i}" for i in range(n)], "index": np.arange(n),
                         "start": start, "end": start + pd.Timedelta("1D"),
                         "drift_share": np.linspace(0.0, 0.5, n), **extra})


@pytest.fixture(scope="module")
def live(churn):
    """A real monitor over 6 days: the last 2 drifted, one batch repeated, 300 labels."""
    monitor = Monitor(churn.bundle, reference=churn.reference, time_col="t", label_col="y",
                      id_col="id")
    batches = daily_batches(churn.pool, 6, 250)
    for day, batch in enumerate(batches):
        batch = batch.drop(columns=["y"])
        if day >= 4:
            batch = batch.assign(tenure_months=batch["tenure_months"] * 3 + 20)
        monitor.observe(batch)
    monitor.observe(batches[2].drop(columns=["y"]))
    monitor.observe_labels(churn.pool.iloc[:300][["id", "y"]])
    return monitor


# ---- MonitorReport from a real Monitor ---------------------------------------------------------
def test_a_real_report_round_trips_in_a_fresh_interpreter(live, tmp_path):
    report = live.report()
    assert report.alarms.shape[0] >= 2
    assert len(report.findings) >= 2
    path = report.save(tmp_path / "monitor.json")
    for again in (pickle.loads(pickle.dumps(report)), copy.deepcopy(report), Report.load(path),
                  MonitorReport.from_dict(json.loads(report.to_json()))):
        assert again == report
        pd.testing.assert_frame_equal(again.windows, report.windows)
        pd.testing.assert_frame_equal(again.signals, report.signals)
    code = ("import json, sys; from mllife.report import Report; from mllife.monitor import "
            "RetrainPolicy; r = Report.load(sys.argv[1]); "
            "d = RetrainPolicy(every='2D', on_alarms='data_drift').decide(r); "
            "print(json.dumps([type(r).__name__, len(r.windows), r.alarmed_windows, "
            "r.to_dict()['summary'], d.to_dict()]))")
    out = subprocess.run([sys.executable, "-W", "error", "-c", code, str(path)],
                         capture_output=True, text=True, check=True, timeout=120)
    name, n, alarmed, summary, decision = json.loads(out.stdout)
    assert (name, n, alarmed) == ("MonitorReport", len(report.windows), report.alarmed_windows)
    assert summary == report.to_dict()["summary"]
    here = RetrainPolicy(every="2D", on_alarms="data_drift").decide(report).to_dict()
    assert decision == here
    for finding in report.findings:
        assert set(finding.details) >= {"window", "index", "signal", "statistic", "value",
                                        "p_value", "level"}
        assert finding.check.startswith("monitor_")


def test_a_real_report_renders(live):
    report = live.report()
    check_html(report.to_html())
    check_html(report._repr_html_())
    assert "| window |" in report.to_markdown()


# ---- MonitorReport: hostile fields -------------------------------------------------------------
def test_script_in_labels_columns_and_reasons_is_escaped():
    label = "<script>alert(1)</script>"
    windows = _windows(2).assign(window=[label + "0", label + "1"])
    signals = pd.DataFrame(SIGNAL_ROW).assign(window=[label + "1"], reason=[label])
    columns = pd.DataFrame({"window": [label + "1"], "index": [1], "column": [label + "x" * 80],
                            "role": ["input"], "method": ["ks"], "statistic": [0.3],
                            "p_adjusted": [0.001], "effect_size": [0.3], "drifted": [True],
                            "missing_current": [0.0], "unseen_share": [0.0], "status": ["ok"]})
    report = MonitorReport(windows=windows, signals=signals, columns=columns)
    html = report.to_html()
    check_html(html)
    assert "<script" not in html.lower()


def test_duplicate_or_missing_window_indexes_are_refused():
    with pytest.raises(InputError, match="index") as err:
        MonitorReport(windows=_windows(2).assign(index=[1, 1]))
    assert err.value.column == "index"
    with pytest.raises(InputError, match="index"):
        MonitorReport(windows=_windows(2).assign(index=["a", "b"]))
    with pytest.raises(InputError, match="index"):
        MonitorReport(windows=_windows(2).assign(index=[0.0, np.nan]))


def test_alarm_flags_must_be_booleans():
    # "no" used to count as an alarm (astype(bool) of a non-empty string)
    with pytest.raises(InputError, match="alarm") as err:
        MonitorReport(windows=_windows(2), signals=pd.DataFrame(SIGNAL_ROW).assign(alarm=["no"]))
    assert err.value.column == "alarm"
    missing = MonitorReport(windows=_windows(2),
                            signals=pd.DataFrame(SIGNAL_ROW).assign(alarm=[None]))
    assert missing.alarms.empty                                    # a missing flag: no alarm
    assert MonitorReport(signals=pd.DataFrame(SIGNAL_ROW).assign(
        alarm=pd.array([True], dtype="boolean"))).alarmed_windows == ["w1"]


def test_signals_without_their_key_columns_are_refused():
    for column in ("signal", "index", "window", "alarm"):
        with pytest.raises(InputError, match=column):
            MonitorReport(windows=_windows(2), signals=pd.DataFrame(SIGNAL_ROW).drop(
                columns=[column]))


def test_window_times_must_be_times():
    with pytest.raises(InputError, match="start") as err:
        MonitorReport(windows=_windows(2).assign(start=["x", "y"]))
    assert err.value.column == "start"
    naive = _windows(2).assign(end=pd.date_range("2024-01-02", periods=2, freq="D"))
    assert len(MonitorReport(windows=naive).windows) == 2          # naive times: UTC


def test_odd_settings_render():
    report = MonitorReport(windows=_windows(3, estimated_roc_auc=[0.8, 0.7, 0.6]),
                           settings={"alpha": "0.05", "per_window_level": "x",
                                     "expected_false_alarms_per_100": "five",
                                     "cusum": {"k": "a", "arl0": None}, "metrics": "roc_auc",
                                     "thresholds": [0.7]})
    assert report.metrics == ["roc_auc"]
    check_html(report.to_html())
    assert "Stated false-alarm rate" in report.to_markdown()


def test_all_nan_windows_and_300_windows_render():
    nan = _windows(4)
    for column in ("drift_share", "confidence_p", "estimated_roc_auc"):
        nan[column] = np.nan
    report = MonitorReport(windows=nan, settings={"metrics": ["roc_auc"]})
    assert report._plots() == []
    check_html(report.to_html())
    big = make_report(300)
    assert len(big._plots()) >= 5
    check_html(big.to_html())


# ---- RetrainPolicy -----------------------------------------------------------------------------
def test_every_as_numpy_timedelta():
    policy = RetrainPolicy(every=np.timedelta64(2, "D"), cooldown=np.timedelta64(12, "h"))
    assert policy.every == pd.Timedelta("2D")
    assert policy.cooldown == pd.Timedelta("12h")
    with pytest.raises(InputError, match="positive"):
        RetrainPolicy(every=np.timedelta64(-1, "D"))


def test_every_refuses_ambiguous_durations_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for text in ("1M", "1Y", "P1M", "P2Y3M", "1 month"):
            with pytest.raises(InputError, match="duration"):
                RetrainPolicy(every=text)
        assert RetrainPolicy(every="PT1M").every == pd.Timedelta("1min")
        assert RetrainPolicy(every="P1W").every == pd.Timedelta("7D")
        # pandas 3 deprecates lower-case "d": no warning leaks, either way the answer is clear
        try:
            span = RetrainPolicy(every="1d").every
        except InputError as err:
            span = str(err)
        assert span in (pd.Timedelta("1D"), "every='1d' is not a duration; expected a duration "
                        "such as '30D', '12h' or pd.Timedelta(days=7) (months and years have no "
                        "fixed length)")


def test_alarms_without_windows_decide_nothing():
    report = MonitorReport(signals=pd.DataFrame(SIGNAL_ROW))
    decision = RetrainPolicy(on_alarms="data_drift").decide(report)
    assert not decision.retrain


def test_a_bad_trained_at_is_named_in_the_reasons():
    settings = {"window": "1D", "trained_at": "yesterday-ish"}
    report = MonitorReport(windows=_windows(3), settings=settings)
    decision = RetrainPolicy(every="1D").decide(report)
    assert decision.anchor == pd.Timestamp("2024-01-01", tz="UTC")
    assert decision.anchor_source == "first window start"
    assert "trained_at 'yesterday-ish' is not a time" in decision.reasons[0]
    assert "every 1 day after" in decision.reasons[0]
    held = RetrainPolicy(every="1D", cooldown="30D").decide(report)
    assert "trained_at 'yesterday-ish' is not a time" in held.reasons[0]
    json.dumps(decision.to_dict(), allow_nan=False)


def test_trained_at_tz_aware_and_in_the_future(live):
    report = live.report()
    settings = {**report.settings, "trained_at": "2024-03-02T05:00:00+05:00"}
    aware = MonitorReport(windows=report.windows, signals=report.signals, settings=settings)
    decision = RetrainPolicy(every="2D").decide(aware)
    assert decision.anchor == pd.Timestamp("2024-03-02T00:00:00", tz="UTC")
    future = MonitorReport(windows=report.windows, signals=report.signals,
                           settings={**report.settings, "trained_at": "2030-01-01"})
    decision = RetrainPolicy(every="2D", on_alarms="data_drift", max_drift_share=0.01,
                             cooldown="1D").decide(future)
    assert not decision.retrain                       # no window after the last training
    assert decision.next_due == pd.Timestamp("2030-01-03", tz="UTC")


def test_decisions_from_a_live_monitor_are_deterministic_and_json(live):
    policy = RetrainPolicy(every="2D", max_drift_share=0.05, on_alarms=["data_drift",
                                                                       "freshness"])
    first, second = policy.decide(live), policy.decide(live)
    assert first == second
    assert first.retrain
    assert json.loads(json.dumps(first.to_dict(), allow_nan=False)) == first.to_dict()


# ---- retrain -----------------------------------------------------------------------------------
def test_trained_at_numbers_of_any_kind_are_refused(churn):
    from sklearn.linear_model import LogisticRegression

    frame = churn.pool[[*churn.inputs, "y"]]
    for stamp in (np.int64(5), np.float32(1.5), 1_700_000_000, True):
        with pytest.raises(InputError, match="trained_at"):
            retrain(churn.bundle, LogisticRegression(), frame.iloc[:300],
                    holdout=frame.iloc[300:600], target="y", trained_at=stamp)


def test_bump_version_with_a_huge_number():
    assert bump_version("9" * 5000) == "1" + "0" * 5000
    assert bump_version("v" + "0" * 4999 + "9") == "v" + "0" * 4998 + "10"
    assert bump_version("1.009") == "1.010"


def test_data_window_is_json_safe_with_infinite_numeric_times():
    window = _data_window(None, pd.DataFrame({"t": [1.5, np.inf, -np.inf, 3.0]}), "t")
    assert window == {"column": "t", "start": 1.5, "end": 3.0}
    assert _data_window(None, pd.DataFrame({"t": [np.inf]}), "t") is None


def test_bad_time_column_fails_before_fitting(churn):
    class Exploding:
        def get_params(self, deep=True):
            return {}

        def set_params(self, **params):
            return self

        def fit(self, X, y):
            raise AssertionError("fitted before the inputs were checked")

    bundle = churn.bundle
    from mllife.bundle import ModelBundle

    timed = ModelBundle(bundle.model, bundle.schema, version="1.0.0",
                        metadata={"target": "y", "time_col": "when"})
    frame = churn.pool[[*churn.inputs, "y"]].assign(when="not a time")
    with pytest.raises(MllifeError, match="when"):
        retrain(timed, Exploding(), frame.iloc[:300], holdout=frame.iloc[300:600],
                trained_at="2024-06-01")
