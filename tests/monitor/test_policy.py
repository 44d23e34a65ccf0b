"""RetrainPolicy: each trigger's semantics, the earliest trigger, cooldown, determinism, bad input."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from mllife._errors import InputError
from mllife.monitor import MonitorReport, RetrainDecision, RetrainPolicy
from mllife.report import Report

from .test_report import make_report

T = pd.Timestamp


def _with(report: MonitorReport, **columns) -> MonitorReport:
    """The report with some window columns replaced (``{column: {position: value}}``)."""
    windows = report.windows
    for column, values in columns.items():
        for position, value in values.items():
            windows.loc[position, column] = value
    return MonitorReport(windows=windows, signals=report.signals, columns=report.columns,
                         settings=report.settings, reference=report.reference,
                         findings=report.findings)


@pytest.fixture(scope="module")
def report() -> MonitorReport:
    # 12 daily windows from 2024-01-01 (ends 2024-01-13); alarms: freshness in window 6,
    # data_drift in window 11; trained on 2024-01-01.
    return make_report(12, trained_at="2024-01-01")


# ---- every ----------------------------------------------------------------------------------
def test_every_fires_once_a_scheduled_time_has_passed(report):
    decision = RetrainPolicy(every="7D").decide(report)
    assert decision.retrain
    assert decision.trigger == "every"
    assert decision.fired == ("every",)
    assert decision.now == T("2024-01-13", tz="UTC")             # end of the last window
    assert decision.anchor == T("2024-01-01", tz="UTC")
    assert decision.anchor_source == "trained_at"
    assert decision.next_due == T("2024-01-15", tz="UTC")        # first scheduled time after now
    assert "2024-01-08" in decision.reasons[0]


def test_every_not_yet_due(report):
    decision = RetrainPolicy(every="30D").decide(report)
    assert not decision.retrain
    assert decision.trigger is None
    assert decision.reasons == ()
    assert decision.next_due == T("2024-01-31", tz="UTC")
    early = RetrainPolicy(every=pd.Timedelta(days=7)).decide(report, now="2024-01-05")
    assert not early.retrain
    assert early.next_due == T("2024-01-08", tz="UTC")
    exactly = RetrainPolicy(every="7D").decide(report, now="2024-01-08T00:00:00+00:00")
    assert exactly.retrain
    assert exactly.next_due == T("2024-01-15", tz="UTC")


def test_anchor_falls_back_to_first_window_start():
    report = make_report(12)                      # no trained_at anywhere
    decision = RetrainPolicy(every="10D").decide(report)
    assert decision.anchor == T("2024-01-01", tz="UTC")
    assert decision.anchor_source == "first window start"
    assert decision.retrain
    bad = make_report(12, trained_at="not a date")
    assert RetrainPolicy(every="10D").decide(bad).anchor_source == "first window start"


def test_anchor_from_a_monitor_bundle(report):
    monitor = SimpleNamespace(report=lambda: report,
                              bundle=SimpleNamespace(metadata={"trained_at": "2024-01-10"}))
    decision = RetrainPolicy(every="7D").decide(monitor)
    assert decision.anchor == T("2024-01-10", tz="UTC")
    assert not decision.retrain
    assert decision.next_due == T("2024-01-17", tz="UTC")


def test_every_counts_row_windows():
    report = make_report(12, rows=True)
    decision = RetrainPolicy(every=5).decide(report)
    assert decision.retrain
    assert decision.now == 11
    assert decision.anchor == 0
    assert decision.next_due == 15
    assert "5 windows" in decision.reasons[0]
    assert not RetrainPolicy(every=20).decide(report).retrain
    assert RetrainPolicy(every=5).decide(report, now=4).next_due == 5


# ---- min_performance --------------------------------------------------------------------------
def test_min_performance_needs_the_whole_interval_below(report):
    low = _with(report, estimated_roc_auc={9: 0.60, 10: 0.61, 11: 0.62},
                estimated_roc_auc_low={9: 0.55, 10: 0.56, 11: 0.57},
                estimated_roc_auc_high={9: 0.65, 10: 0.66, 11: 0.69})
    decision = RetrainPolicy(min_performance=0.7).decide(low)      # the first metric: roc_auc
    assert decision.retrain
    assert decision.trigger == "min_performance"
    assert "estimated roc_auc 0.62" in decision.reasons[0]
    assert "since window" in decision.reasons[0]
    # The point is below 0.7 but the interval reaches above it: no claim, no retraining.
    straddle = _with(low, estimated_roc_auc_high={11: 0.72})
    assert not RetrainPolicy(min_performance=0.7).decide(straddle).retrain
    # Only the latest window with a value counts: an earlier drop that recovered does not.
    recovered = _with(report, estimated_roc_auc={3: 0.5}, estimated_roc_auc_low={3: 0.45},
                      estimated_roc_auc_high={3: 0.55})
    assert not RetrainPolicy(min_performance=0.7).decide(recovered).retrain


def test_min_performance_prefers_realized_when_labelled(report):
    # Window 11 is labelled: realized fine, estimated low -> realized decides, no retraining.
    labelled = _with(report, realized_roc_auc={11: 0.8}, realized_roc_auc_low={11: 0.75},
                     realized_roc_auc_high={11: 0.85}, estimated_roc_auc={11: 0.5},
                     estimated_roc_auc_low={11: 0.45}, estimated_roc_auc_high={11: 0.55})
    assert not RetrainPolicy(min_performance={"ROC-AUC": 0.7}).decide(labelled).retrain
    bad = _with(labelled, realized_roc_auc={11: 0.6}, realized_roc_auc_low={11: 0.55},
                realized_roc_auc_high={11: 0.65})
    decision = RetrainPolicy(min_performance={"roc_auc": 0.7}).decide(bad)
    assert decision.retrain
    assert "realized roc_auc 0.6" in decision.reasons[0]


def test_min_performance_is_a_maximum_for_lower_is_better_metrics():
    report = make_report(6)
    windows = report.windows
    windows["estimated_mae"] = [1.0, 1.0, 1.0, 1.0, 2.5, 3.0]
    windows["estimated_mae_low"] = windows["estimated_mae"] - 0.3
    windows["estimated_mae_high"] = windows["estimated_mae"] + 0.3
    settings = {**report.settings, "metrics": ["roc_auc", "accuracy", "mae"]}
    report = MonitorReport(windows=windows, settings=settings)
    decision = RetrainPolicy(min_performance={"mae": 2.0}).decide(report)
    assert decision.retrain
    assert "above the maximum 2" in decision.reasons[0]
    assert "since window" in decision.reasons[0]
    assert not RetrainPolicy(min_performance={"mae": 3.5}).decide(report).retrain


def test_min_performance_names_a_metric_the_monitor_tracks(report):
    with pytest.raises(InputError, match="does not track"):
        RetrainPolicy(min_performance={"f1": 0.5}).decide(report)
    with pytest.raises(InputError, match="tracks no metric"):
        RetrainPolicy(min_performance=0.5).decide(MonitorReport())


# ---- max_drift_share ----------------------------------------------------------------------------
def test_max_drift_share_reads_the_latest_window(report):
    drifted = _with(report, drift_share={9: 0.6, 10: 0.7, 11: 0.8})
    decision = RetrainPolicy(max_drift_share=0.5).decide(drifted)
    assert decision.retrain
    assert decision.trigger == "max_drift_share"
    assert "80%" in decision.reasons[0]
    assert "since window" in decision.reasons[0]
    back = _with(report, drift_share={3: 0.9})
    assert not RetrainPolicy(max_drift_share=0.5).decide(back).retrain


# ---- on_alarms ----------------------------------------------------------------------------------
def test_on_alarms_fires_on_any_alarm_after_the_anchor(report):
    decision = RetrainPolicy(on_alarms="freshness").decide(report)
    assert decision.retrain
    assert decision.trigger == "on_alarms"
    assert "1 freshness alarm" in decision.reasons[0]
    assert not RetrainPolicy(on_alarms=("confidence",)).decide(report).retrain
    later = make_report(12, trained_at="2024-01-09")    # the freshness alarm (window 6) was before
    assert not RetrainPolicy(on_alarms=["freshness"]).decide(later).retrain
    assert RetrainPolicy(on_alarms=["freshness", "data_drift"]).decide(later).retrain


# ---- several triggers, cooldown, determinism ----------------------------------------------------
def test_the_earliest_trigger_wins(report):
    drifted = _with(report, drift_share={11: 0.9})
    policy = RetrainPolicy(every="7D", max_drift_share=0.5, on_alarms=("freshness",))
    decision = policy.decide(drifted)
    # freshness alarm in window 6, schedule due in window 7, drift in window 11
    assert decision.fired == ("on_alarms", "every", "max_drift_share")
    assert decision.trigger == "on_alarms"
    assert len(decision.reasons) == 3
    assert decision.reasons[0].startswith("on_alarms")
    # Ties follow the parameter order: every before on_alarms (both window 7).
    tie = make_report(12, trained_at="2024-01-01", alarms={"freshness": [7]})
    assert RetrainPolicy(every="7D", on_alarms="freshness").decide(tie).fired == (
        "every", "on_alarms")


def test_cooldown_holds_retraining_back():
    report = make_report(12, trained_at="2024-01-10")
    policy = RetrainPolicy(on_alarms=("data_drift",), cooldown="7D")
    decision = policy.decide(report)
    assert not decision.retrain
    assert decision.trigger is None
    assert decision.fired == ("on_alarms",)
    assert decision.reasons[0].startswith("cooldown")
    assert "7 days" in decision.reasons[0]
    assert policy.decide(report, now="2024-01-20").retrain
    rows = make_report(12, rows=True)
    assert not RetrainPolicy(every=2, cooldown=20).decide(rows).retrain
    assert RetrainPolicy(every=2, cooldown=5).decide(rows).retrain


def test_deterministic_without_now(report, tmp_path):
    policy = RetrainPolicy(every="7D", max_drift_share=0.1, on_alarms=("data_drift",))
    first = policy.decide(report)
    assert policy.decide(report) == first
    assert policy.decide(report, now=report.windows["end"].max()) == first
    loaded = Report.load(report.save(tmp_path / "monitor.json"))
    assert policy.decide(loaded) == first
    data = first.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["next_due"] == "2024-01-15T00:00:00+00:00"
    assert repr(first).startswith("<RetrainDecision retrain=True trigger='every'")


def test_no_windows_no_decision():
    decision = RetrainPolicy(every="7D", max_drift_share=0.1).decide(MonitorReport())
    assert not decision.retrain
    assert decision.next_due is None
    assert decision.now is None


# ---- bad parameters -----------------------------------------------------------------------------
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"every": "soon"}, "every='soon' is not a duration"),
    ({"every": 0}, "every=0"),
    ({"every": "-3D"}, "positive duration"),
    ({"every": True}, "every=True"),
    ({"every": 2.5}, "every is a float"),
    ({"cooldown": [1]}, "cooldown is a list"),
    ({"max_drift_share": 1.5}, "max_drift_share is 1.5"),
    ({"max_drift_share": "high"}, "max_drift_share is 'high'"),
    ({"on_alarms": ("drift",)}, "unknown signals"),
    ({"on_alarms": 3}, "on_alarms is a int"),
    ({"min_performance": {"roc_auc": 1.5}}, "min_performance of roc_auc is 1.5"),
    ({"min_performance": {"nope": 0.5}}, "unknown metric 'nope'"),
    ({"min_performance": float("nan")}, "min_performance is nan"),
    ({"min_performance": {}}, "empty mapping"),
])
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(InputError, match=match):
        RetrainPolicy(**kwargs)


def test_parameters_must_fit_the_windows(report):
    with pytest.raises(InputError, match="every=5 windows for time windows"):
        RetrainPolicy(every=5).decide(report)
    with pytest.raises(InputError, match="cooldown=7 days for row windows"):
        RetrainPolicy(cooldown="7D").decide(make_report(4, rows=True))
    with pytest.raises(InputError, match="now='someday' is not a time"):
        RetrainPolicy(every="7D").decide(report, now="someday")
    with pytest.raises(InputError, match="now=-1 for row windows"):
        RetrainPolicy(every=2).decide(make_report(4, rows=True), now=-1)
    with pytest.raises(InputError, match="monitor is a object"):
        RetrainPolicy().decide(object())
    with pytest.raises(InputError, match="min_performance of roc_auc is -2"):
        RetrainPolicy(min_performance=-2.0).decide(report)


def test_policy_is_a_frozen_value():
    policy = RetrainPolicy(every="30D", on_alarms=["data_drift", "data_drift"])
    assert policy.every == pd.Timedelta(days=30)
    assert policy.on_alarms == ("data_drift",)
    assert policy == RetrainPolicy(every=pd.Timedelta(days=30), on_alarms="data_drift")
    with pytest.raises(AttributeError):
        policy.every = None
    assert isinstance(RetrainDecision(False), RetrainDecision)
    assert np.isscalar(RetrainPolicy(every=3).every)


# ---- the statistical claim: "performance dropped" holds its level ------------------------------
def test_min_performance_false_trigger_rate_under_the_null():
    """True accuracy exactly at the limit: the trigger fires in at most 2.5% of windows.

    The rule reads a two-sided 95% interval and fires only when all of it is below the limit,
    a one-sided claim at 2.5%. Windows of unequal, small sizes (30 and 400 rows) with exact
    (Clopper-Pearson) intervals; the point estimate alone would fire in about half of them.
    """
    from scipy.stats import beta

    rng = np.random.default_rng(2024)
    n_windows, limit = 1200, 0.8
    sizes = np.where(np.arange(n_windows) % 2 == 0, 30, 400)
    hits = rng.binomial(sizes, limit)
    low = np.nan_to_num(beta.ppf(0.025, hits, sizes - hits + 1), nan=0.0)
    high = np.nan_to_num(beta.ppf(0.975, hits + 1, sizes - hits), nan=1.0)
    windows = pd.DataFrame({"window": [f"rows {i}" for i in range(n_windows)],
                            "index": np.arange(n_windows), "n_rows": sizes,
                            "estimated_accuracy": hits / sizes, "estimated_accuracy_low": low,
                            "estimated_accuracy_high": high})
    report = MonitorReport(windows=windows, settings={"rows": 400, "metrics": ["accuracy"]})
    policy = RetrainPolicy(min_performance=limit)
    fired = np.array([policy.decide(report, now=i).retrain for i in range(n_windows)])
    assert np.array_equal(fired, high < limit)          # the rule, window by window
    tolerance = 3 * np.sqrt(0.025 * 0.975 / n_windows)
    for size in (30, 400):
        assert fired[sizes == size].mean() <= 0.025 + 2 * tolerance
    assert fired.mean() <= 0.025 + tolerance
    assert (hits / sizes < limit).mean() > 0.3          # what a point rule would have claimed
    # ... and it has power: a true accuracy of 0.7 fires in most 400-row windows.
    drop = rng.binomial(400, 0.7, size=50)
    high_drop = beta.ppf(0.975, drop + 1, 400 - drop)
    windows = windows.iloc[:50].assign(n_rows=400, estimated_accuracy=drop / 400,
                                       estimated_accuracy_low=0.0,
                                       estimated_accuracy_high=high_drop)
    report = MonitorReport(windows=windows, settings={"rows": 400, "metrics": ["accuracy"]})
    assert np.mean([policy.decide(report, now=i).retrain for i in range(50)]) > 0.9
