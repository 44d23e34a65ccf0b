"""MonitorReport: fields, accessors, round trips and timeline plots legible at 150 windows."""

from __future__ import annotations

import copy
import io
import json
import pickle

import numpy as np
import pandas as pd
import pytest

from mllife._errors import InputError
from mllife.monitor import MonitorReport
from mllife.monitor._report import SIGNALS
from mllife.report import Finding, Report

from ..test_report import check_html

METRICS = ("roc_auc", "accuracy")


def make_report(n_windows: int = 12, *, label_width: int | None = None, rows: bool = False,
                alarms: dict[str, list[int]] | None = None, seed: int = 0,
                thresholds: dict[str, float] | None = None, start: str = "2024-01-01",
                trained_at: str | None = None) -> MonitorReport:
    """A hand-built report shaped like ``Monitor.report()``'s (common design of issue 16).

    ``alarms``: signal -> window indexes where it alarms. ``label_width``: pad the window
    labels to this many characters (long labels). ``rows``: row windows (NaT times).
    """
    rng = np.random.default_rng(seed)
    alarms = alarms if alarms is not None else {"data_drift": [n_windows - 1],
                                                "freshness": [n_windows // 2]}
    thresholds = thresholds if thresholds is not None else {"roc_auc": 0.7}
    index = np.arange(n_windows)
    if rows:
        start_t = end_t = pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
        labels = [f"rows {i * 1000}-{(i + 1) * 1000 - 1}" for i in index]
    else:
        start_t = pd.Series(pd.date_range(start, periods=n_windows, freq="D", tz="UTC"))
        end_t = start_t + pd.Timedelta("1D")
        labels = [t.strftime("%Y-%m-%d") for t in start_t]
    if label_width:
        labels = [f"{label} production stream of the churn model, region europe-west"
                  [:label_width].ljust(label_width, "x") + f"#{i}" for i, label in enumerate(labels)]
    data: dict[str, object] = {
        "window": labels, "index": index, "start": start_t.to_numpy(), "end": end_t.to_numpy(),
        "n_rows": rng.integers(500, 1500, n_windows), "n_labelled": np.zeros(n_windows, int),
        "drift_share": rng.uniform(0, 0.2, n_windows), "n_drifted": rng.integers(0, 3, n_windows),
        "n_columns": np.full(n_windows, 12),
        "prediction_drift_p": rng.uniform(0.01, 1, n_windows),
        "confidence_mean": rng.uniform(0.75, 0.8, n_windows),
        "confidence_p": rng.uniform(0.01, 1, n_windows),
    }
    for m in METRICS:
        est = rng.uniform(0.78, 0.82, n_windows)
        data[f"estimated_{m}"] = est
        data[f"estimated_{m}_low"] = est - 0.02
        data[f"estimated_{m}_high"] = est + 0.02
        real = np.where(index < n_windows // 2, est + rng.normal(0, 0.01, n_windows), np.nan)
        data[f"realized_{m}"] = real
        data[f"realized_{m}_low"] = real - 0.03
        data[f"realized_{m}_high"] = real + 0.03
    data.update({
        "schema_violation_rate": np.zeros(n_windows), "unscored_rate": np.zeros(n_windows),
        "repeat_share": np.where(index == n_windows // 2, 1.0, 0.0),
        "late_rows": np.zeros(n_windows), "latency_p50_ms": np.full(n_windows, np.nan),
        "latency_p95_ms": np.full(n_windows, np.nan), "error_rate": np.full(n_windows, np.nan),
    })
    windows = pd.DataFrame(data)
    windows["n_labelled"] = np.where(index < n_windows // 2, windows["n_rows"], 0)
    level = 0.05 / 5
    records = []
    findings = []
    for i, label in zip(index, labels, strict=True):
        for name in SIGNALS[:5]:
            fired = i in alarms.get(name, [])
            p = 1e-6 if fired else float(rng.uniform(0.02, 1))
            records.append((label, int(i), name, None, name, float(rng.uniform()), np.nan, np.nan,
                            p, level, fired, "test" if fired else ""))
        for name in SIGNALS[5:]:
            fired = i in alarms.get(name, [])
            records.append((label, int(i), name, None, name, 1.0 if fired else 0.0, np.nan,
                            np.nan, np.nan, np.nan, fired, "repeat" if fired else ""))
    signals = pd.DataFrame.from_records(records, columns=[
        "window", "index", "signal", "column", "statistic", "value", "low", "high", "p_value",
        "level", "alarm", "reason"])
    for row in signals[signals["alarm"]].itertuples(index=False):
        findings.append(Finding(
            f"monitor_{row.signal}", "error" if row.signal in ("data_quality", "freshness")
            else "warning", message=f"{row.signal} alarm in window {row.window}",
            suggestion="look at the window",
            details={"window": row.window, "index": row.index, "signal": row.signal}))
    columns = pd.DataFrame({
        "window": np.repeat(labels, 2), "index": np.repeat(index, 2),
        "column": ["tenure_months", "plan"] * n_windows, "role": "input",
        "method": ["ks", "chi2"] * n_windows, "statistic": rng.uniform(0, 0.1, 2 * n_windows),
        "p_adjusted": rng.uniform(0, 1, 2 * n_windows),
        "effect_size": rng.uniform(0, 0.1, 2 * n_windows), "drifted": False,
        "missing_current": 0.0, "unseen_share": 0.0, "status": "ok"})
    settings = {"alpha": 0.05, "window": None if rows else "1D", "rows": 1000 if rows else None,
                "time_col": None if rows else "event_time", "id_col": "customer_id",
                "label_col": "churned", "metrics": list(METRICS), "thresholds": thresholds,
                "n_signals": 5, "per_window_level": level, "expected_false_alarms_per_100": 5.0,
                "cusum": {"k": 0.5, "h": 5.0, "arl0": 930.0}, "bundle_version": "1.0.0"}
    if trained_at is not None:
        settings["trained_at"] = trained_at
    reference = {"n_rows": 5000, "metrics": {"roc_auc": 0.8, "accuracy": 0.8},
                 "notes": ["CBPE trusts probabilities calibrated on the reference (isotonic)."]}
    return MonitorReport(windows=windows, signals=signals, columns=columns, settings=settings,
                         reference=reference, findings=findings)


@pytest.fixture(scope="module")
def report() -> MonitorReport:
    return make_report()


def test_fields_and_accessors(report):
    assert report.to_frame().equals(report.windows)
    assert list(report.alarms["signal"]) == ["freshness", "data_drift"]
    assert report.alarmed_windows == [report.windows["window"][6], report.windows["window"][11]]
    assert len(report.signal("data_drift")) == 12
    assert report.signal("freshness")["alarm"].sum() == 1
    latest = report.latest
    assert latest["index"] == 11
    assert isinstance(latest["n_rows"], int)
    assert report.metrics == list(METRICS)
    assert len(report.findings) == 2
    with pytest.raises(InputError, match="unknown signal"):
        report.signal("drift")


def test_summary_cards_and_notes(report):
    summary = report.to_dict()["summary"]
    assert summary["windows"] == 12
    assert summary["rows"] == int(report.windows["n_rows"].sum())
    assert summary["alarms"] == 2
    assert summary["alarms: data_drift"] == 1
    assert summary["alarms: freshness"] == 1
    assert summary["expected false alarms per 100 windows"] == 5.0
    assert "latest estimated roc_auc" in summary
    assert "latest realized roc_auc" not in summary
    notes = " ".join(report.to_dict()["notes"])
    assert "alpha / G" in notes
    assert "5 expected false alarms per 100 windows" in notes
    assert "average run length about 930 windows" in notes
    assert "k=0.5, h=5.0" in notes
    assert "isotonic" in notes


def test_round_trips(report, tmp_path):
    expected = report.to_dict()
    for again in (MonitorReport.from_dict(json.loads(report.to_json())),
                  Report.from_dict(expected), Report.load(report.save(tmp_path / "m.json")),
                  pickle.loads(pickle.dumps(report)), copy.deepcopy(report)):
        assert type(again) is MonitorReport
        assert again == report
        assert again.to_dict() == expected
        for name in ("windows", "signals", "columns"):
            pd.testing.assert_frame_equal(getattr(again, name), getattr(report, name))
        assert again.findings == report.findings
        assert again.settings["cusum"]["arl0"] == 930.0


def test_row_windows_round_trip():
    report = make_report(5, rows=True)
    again = Report.from_dict(json.loads(report.to_json()))
    pd.testing.assert_frame_equal(again.windows, report.windows)
    assert again.windows["start"].isna().all()
    check_html(report.to_html())


def test_empty_report_renders():
    report = MonitorReport()
    assert report.to_frame().empty
    assert report.alarms.empty
    assert report.latest == {}
    assert report.alarmed_windows == []
    assert report._plots() == []
    assert Report.from_dict(report.to_dict()) == report
    check_html(report.to_html())


def test_bad_fields_are_refused():
    with pytest.raises(InputError, match="windows"):
        MonitorReport(windows={"window": ["a"]})
    with pytest.raises(InputError, match="unknown signal"):
        MonitorReport(signals=pd.DataFrame({"signal": ["drifty"]}))
    with pytest.raises(InputError, match="settings"):
        MonitorReport(settings=[1, 2])


def _png_size(plot) -> tuple[int, int]:
    from PIL import Image

    return Image.open(io.BytesIO(plot.render())).size


def test_plots_cover_every_family(report):
    titles = [p.title for p in report._plots()]
    assert sum(t.startswith("Performance over windows") for t in titles) == 2
    assert any("drift" in t.lower() and "share" in t for t in titles)
    assert any(t.startswith("Prediction drift") for t in titles)
    assert any("p-value of the mean confidence" in t for t in titles)
    assert any(t.startswith("Data quality") for t in titles)
    assert not any(t.startswith("Operations") for t in titles)    # no latency logged
    html = report.to_html()
    check_html(html)
    assert html.count("<img") == len(titles)


def test_plots_legible_with_150_windows_and_long_labels():
    report = make_report(150, label_width=60, alarms={
        "data_drift": [10, 90], "estimated_performance": [120, 149], "freshness": [30],
        "prediction_drift": [140], "confidence": [5]})
    assert report.windows["window"].str.len().min() >= 60
    for plot in report._plots():
        figure = plot.figure()
        ax = figure.axes[0]
        labelled = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert 2 <= len(labelled) <= 10                     # thinned
        assert all(len(line) <= 25 for t in labelled for line in t.split("\n"))
        width, height = figure.get_size_inches()
        assert 6 <= width <= 16, (plot.title, width)
        assert 3 <= height <= 10, (plot.title, height)
        w_px, h_px = _png_size(plot)
        assert w_px <= 1500
        assert h_px <= 1000
        alarms = [c for c in ax.collections if c.get_label() == "alarm"]
        if "Performance" in plot.title and "roc_auc" in plot.title:
            assert len(alarms[0].get_offsets()) == 2        # both estimated alarms marked
    check_html(report.to_html())
