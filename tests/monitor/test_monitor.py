"""Monitor: windows, outputs, labels and the report's tables on binary, multiclass and
regression bundles; the profile expansion the window comparisons rely on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mllife.drift import DriftProfile
from mllife.monitor import Monitor
from mllife.monitor._reference import WINDOW_EXACT_SIZE, expand_profile, fit_window_profile

from .conftest import DAY, T0, daily_batches

# ---------------------------------------------------------------- profile expansion


def _mixed(n: int, rng: np.random.Generator, shift: float = 0.0) -> pd.DataFrame:
    """Numbers, integers, booleans, categories, datetimes (naive, aware, ms), durations,
    missing values and infinities."""
    x = rng.normal(shift, size=n)
    x[rng.uniform(size=n) < 0.05] = np.nan
    x[:3] = np.array([np.inf, -np.inf, np.inf])[:n]
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**9, n), unit="ms")
    return pd.DataFrame({
        "x": x,
        "i": rng.integers(0, 7, n),
        "b": rng.uniform(size=n) < 0.3 + shift / 10,
        "c": pd.Series(rng.choice(["a", "b", "c", "d"], n)).where(rng.uniform(size=n) > 0.1),
        "cat": pd.Categorical(rng.choice(["lo", "mid", "hi"], n)),
        "t": pd.Series(stamps).where(rng.uniform(size=n) > 0.05),
        "tz": pd.date_range("2024-01-01", periods=n, freq="37min", tz="Europe/Paris"),
        "ns": pd.Series(pd.Timestamp("2024-02-01") + pd.to_timedelta(rng.integers(0, 10**15, n),
                                                                     unit="ns")),
        "d": pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
    })


@pytest.mark.parametrize("n_cur", [1, 37, 400, WINDOW_EXACT_SIZE])
def test_expanded_window_profile_compares_like_its_rows(n_cur):
    rng = np.random.default_rng(n_cur)
    reference = DriftProfile.fit(_mixed(1500, rng))
    current = _mixed(n_cur, rng, shift=0.3)
    direct = reference.compare(current).table
    expanded = reference.compare(expand_profile(fit_window_profile(current))).table
    pd.testing.assert_frame_equal(direct, expanded, check_dtype=False)


def test_expanded_profile_of_merged_batches_compares_like_all_rows():
    rng = np.random.default_rng(5)
    reference = DriftProfile.fit(_mixed(1000, rng))
    current = _mixed(600, rng, shift=0.2)
    parts = [current.iloc[:100], current.iloc[100:450], current.iloc[450:]]
    merged = fit_window_profile(parts[2]).merge(fit_window_profile(parts[0])).merge(
        fit_window_profile(parts[1]))
    direct = reference.compare(current).table.set_index("column")
    via = reference.compare(expand_profile(merged)).table.set_index("column")
    num = direct.select_dtypes("number").columns
    np.testing.assert_allclose(via[num].to_numpy(float), direct[num].to_numpy(float), rtol=1e-9)
    assert via["drifted"].tolist() == direct["drifted"].tolist()


def test_expanded_sketch_keeps_the_row_count_and_the_distribution():
    rng = np.random.default_rng(1)
    x = pd.DataFrame({"x": rng.normal(size=7_777)})
    profile = fit_window_profile(x)
    assert not profile["x"].numeric.exact
    out = expand_profile(profile)["x"].to_numpy()
    assert out.size == 7_777
    grid = np.linspace(-2, 2, 9)
    ecdf = np.searchsorted(np.sort(x["x"]), grid) / 7_777
    approx = np.searchsorted(np.sort(out), grid) / 7_777
    # rounding each point's weight to whole rows moves the CDF by at most one row more
    assert np.abs(ecdf - approx).max() <= profile["x"].numeric.rank_error + 1 / 7_777


def test_expand_pads_a_column_absent_from_some_batches_with_missing_values():
    a = fit_window_profile(pd.DataFrame({"x": [1.0, 2.0], "new": ["u", "v"]}))
    b = fit_window_profile(pd.DataFrame({"x": [3.0]}))
    out = expand_profile(a.merge(b))
    assert len(out) == 3
    assert out["new"].isna().sum() == 1


# ---------------------------------------------------------------- binary


def _monitor(fitted, **kw):
    kw.setdefault("time_col", "t")
    return Monitor(fitted.bundle, reference=fitted.reference, label_col="y", id_col="id", **kw)


def test_binary_windows_report_tables(churn):
    batches = daily_batches(churn.pool.drop(columns="y"), 3, 400)
    monitor = _monitor(churn)
    for b in batches:
        monitor.observe(b)
    assert monitor.windows == ["2024-03-01", "2024-03-02", "2024-03-03"]
    assert monitor.n_rows == 1200
    assert monitor.bundle_version == "1.0.0"
    report = monitor.report()
    w = report.windows
    assert w["n_rows"].tolist() == [400, 400, 400]
    assert w["index"].tolist() == [0, 1, 2]
    assert w["start"].iloc[1] == pd.Timestamp("2024-03-02", tz="UTC")
    assert w["end"].iloc[1] == pd.Timestamp("2024-03-03", tz="UTC")
    for column in ("window", "index", "start", "end", "n_rows", "n_labelled", "drift_share",
                   "n_drifted", "n_columns", "prediction_drift_p", "confidence_mean",
                   "confidence_p", "estimated_roc_auc", "estimated_roc_auc_low",
                   "estimated_roc_auc_high", "realized_accuracy", "realized_accuracy_high",
                   "schema_violation_rate", "unscored_rate", "repeat_share", "late_rows",
                   "latency_p50_ms", "latency_p95_ms", "error_rate", "n_alarms"):
        assert column in w.columns, column
    assert w["n_columns"].tolist() == [len(churn.inputs)] * 3
    assert w["realized_accuracy"].isna().all()  # no labels yet
    assert w["estimated_accuracy"].between(0.6, 1.0).all()
    signals = report.signals
    assert {"data_drift", "prediction_drift", "confidence", "estimated_performance"} <= set(
        signals["signal"])
    stat = signals[signals["level"].notna()]
    # Bonferroni: each signal gets alpha / G, split evenly over its metrics
    per_signal = stat.groupby(["index", "signal"])["level"].agg(["sum", "count"])
    g = stat.groupby("index")["signal"].nunique()
    expected = 0.05 / g.reindex(per_signal.index.get_level_values("index")).to_numpy()
    np.testing.assert_allclose(per_signal["sum"].to_numpy(), expected)
    assert set(report.columns["role"]) == {"input", "output"}
    assert set(report.columns.loc[report.columns["role"] == "output", "column"]) == {
        "prediction", "proba_0", "proba_1"}
    assert report.settings["bundle_version"] == "1.0.0"


def test_labels_join_late_and_update_realized_performance(churn):
    batches = daily_batches(churn.pool.drop(columns="y"), 2, 500)
    monitor = _monitor(churn)
    for b in batches:
        monitor.observe(b)
    before = monitor.report()
    labels = churn.pool.loc[:699, ["id", "y"]]
    monitor.observe_labels(labels)
    after = monitor.report().windows
    assert after["n_labelled"].tolist() == [500, 200]
    assert after["realized_accuracy"].notna().all()
    assert before.windows["realized_accuracy"].isna().all()
    # realized accuracy equals scikit-learn's on the same rows
    from sklearn.metrics import accuracy_score

    pred = churn.bundle.predict(churn.pool.loc[:499, churn.inputs])["prediction"]
    assert after["realized_accuracy"].iloc[0] == pytest.approx(
        accuracy_score(churn.pool.loc[:499, "y"], pred))


def test_labels_in_the_batch_count_at_once(churn):
    batch = daily_batches(churn.pool, 1, 300)[0]  # holds "y"
    monitor = _monitor(churn).observe(batch)
    w = monitor.report().windows
    assert w["n_labelled"].tolist() == [300]
    # a later label for the same id is a second label: counted, first wins
    monitor.observe_labels(pd.DataFrame({"id": [0, 1], "y": [1, 1]}))
    assert monitor.label_counts["repeated_labels"] == 2
    assert monitor.report().windows["realized_accuracy"].iloc[0] == w["realized_accuracy"].iloc[0]


def test_unknown_and_repeated_labels_are_counted_never_raised(churn):
    monitor = _monitor(churn).observe(daily_batches(churn.pool.drop(columns="y"), 1, 100)[0])
    labels = pd.DataFrame({"id": [0, 0, 1, 5_000, 5_001, None], "y": [1, 0, 0, 1, 1, 1]})
    monitor.observe_labels(labels)
    counts = monitor.label_counts
    assert counts["repeated_labels"] == 1
    assert counts["unknown_label_ids"] == 2
    monitor.observe_labels(pd.DataFrame({"id": [1], "y": [1]}))
    assert monitor.label_counts["repeated_labels"] == 2
    assert monitor.report().windows["n_labelled"].tolist() == [2]
    rows = monitor.report().signal("data_quality")
    assert set(rows["statistic"]) >= {"unknown_label_ids", "repeated_labels"}


def test_label_ids_match_across_dtypes(churn):
    monitor = _monitor(churn).observe(daily_batches(churn.pool.drop(columns="y"), 1, 50)[0])
    labels = pd.DataFrame({"id": pd.Series(["3", "4.0", 5.0, 6], dtype=object),
                           "y": ["1", "0", "1", "0"]})
    monitor.observe_labels(labels)
    # numbers are read as numbers (5.0 is the id 5), text as text ("4.0" is not the id 4)
    assert monitor.report().windows["n_labelled"].tolist() == [3]
    assert monitor.label_counts["unknown_label_ids"] == 1


def test_one_class_window_gives_nan_auc_without_error(churn):
    pool = churn.pool
    zeros = pool[pool["y"] == 0].iloc[:200]
    monitor = _monitor(churn).observe(zeros.assign(t=T0))
    w = monitor.report().windows
    assert np.isnan(w["realized_roc_auc"].iloc[0])
    assert w["realized_accuracy"].notna().all()


def test_out_of_order_batches_give_the_same_windows(churn):
    batches = daily_batches(churn.pool.drop(columns="y"), 4, 250)
    a, b = _monitor(churn), _monitor(churn)
    for x in batches:
        a.observe(x)
    for x in [batches[2], batches[0], batches[3], batches[1]]:
        b.observe(x)
    wa, wb = a.report().windows, b.report().windows
    cols = [c for c in wa.columns if c not in ("late_rows", "n_alarms")]
    pd.testing.assert_frame_equal(wa[cols], wb[cols], rtol=1e-9)


def test_a_batch_spanning_windows_is_split_by_time(churn):
    batch = churn.pool.drop(columns="y").iloc[:300].assign(
        t=(T0 + pd.to_timedelta(np.arange(300) * 20, unit="min")).to_numpy())
    monitor = _monitor(churn, window="6h").observe(batch)
    assert monitor.windows[:2] == ["2024-03-01 00:00", "2024-03-01 06:00"]
    assert monitor.report().windows["n_rows"].sum() == 300


def test_empty_batch_is_a_no_op(churn):
    monitor = _monitor(churn)
    assert monitor.observe(churn.pool.iloc[:0].assign(t=T0)) is monitor
    assert monitor.windows == []
    assert monitor.label_counts["batches"] == 0
    report = monitor.report()
    assert report.windows.empty
    assert not report.findings


def test_rows_without_time_are_counted_not_windowed(churn):
    batch = daily_batches(churn.pool.drop(columns="y"), 1, 100)[0]
    batch.loc[batch.index[:7], "t"] = pd.NaT
    monitor = _monitor(churn).observe(batch)
    assert monitor.n_rows == 93
    assert monitor.label_counts["rows_without_time"] == 7


def test_time_zones_naive_as_utc_aware_converted(churn):
    rows = churn.pool.drop(columns="y").iloc[:2]
    aware = rows.assign(t=pd.to_datetime(["2024-03-01 23:30", "2024-03-02 00:30"]).tz_localize(
        "America/New_York"))
    monitor = _monitor(churn).observe(aware)
    assert monitor.windows == ["2024-03-02"]  # 04:30 and 05:30 UTC
    text = rows.assign(t=["2024-03-01T23:30:00", "2024-03-02T00:30:00"])
    assert _monitor(churn).observe(text).windows == ["2024-03-01", "2024-03-02"]


@pytest.mark.parametrize(("window", "labels"), [
    ("W", ["2024-W09", "2024-W10"]), ("MS", ["2024-03"]), ("15min", ["2024-03-01 00:00"]),
])
def test_calendar_and_short_windows(churn, window, labels):
    batch = churn.pool.drop(columns="y").iloc[:2].assign(
        t=[pd.Timestamp("2024-03-01 00:05"), pd.Timestamp("2024-03-04 00:05")])
    got = _monitor(churn, window=window).observe(batch).windows
    assert got[:len(labels)] == labels


def test_row_windows_in_arrival_order(churn):
    pool = churn.pool.drop(columns="y")
    monitor = Monitor(churn.bundle, reference=churn.reference, rows=250)
    monitor.observe(pool.iloc[:100]).observe(pool.iloc[100:600])
    assert monitor.windows == ["rows 0-249", "rows 250-499", "rows 500-749"]
    w = monitor.report().windows
    assert w["n_rows"].tolist() == [250, 250, 100]
    assert w["start"].isna().all()


def test_outputs_in_the_batch_are_used_not_recomputed(churn):
    batch = daily_batches(churn.pool.drop(columns="y"), 1, 300)[0]
    scored = churn.bundle.predict_proba(batch[churn.inputs])
    logged = pd.concat([batch, scored], axis=1)
    a = _monitor(churn).observe(batch).report().windows
    b = _monitor(churn).observe(logged).report().windows
    pd.testing.assert_frame_equal(a, b, rtol=1e-9)
    # the log says everyone churns: prediction drift sees it, the model is not asked
    everyone = logged.assign(prediction=1, proba_1=0.97, proba_0=0.03)
    report = _monitor(churn).observe(everyone).report()
    assert report.signal("prediction_drift")["alarm"].all()


def test_multiclass_bundle(multiclass):
    batches = daily_batches(multiclass.pool, 2, 600)
    monitor = _monitor(multiclass)
    for b in batches:
        monitor.observe(b.drop(columns="y"))
    monitor.observe_labels(multiclass.pool.loc[:1199, ["id", "y"]])
    report = monitor.report()
    w = report.windows
    assert list(report.settings["metrics"]) == ["accuracy", "f1"]
    assert w["realized_accuracy"].between(0.4, 1).all()
    assert w["estimated_f1"].notna().all()
    outputs = set(report.columns.loc[report.columns["role"] == "output", "column"])
    assert outputs == {"prediction", "proba_blue", "proba_green", "proba_red"}
    assert not report.alarms["signal"].isin(["data_drift", "prediction_drift"]).any()


def test_regression_bundle(regression):
    batches = daily_batches(regression.pool, 2, 600)
    monitor = _monitor(regression)
    for b in batches:
        monitor.observe(b.drop(columns="y"))
    monitor.observe_labels(regression.pool.loc[:899, ["id", "y"]])
    w = monitor.report().windows
    assert w["n_labelled"].tolist() == [600, 300]
    assert w["realized_mae"].gt(0).all()
    assert w["estimated_mae"].gt(0).all()
    assert np.isnan(w["confidence_mean"]).all()  # a regressor has no confidence
    shifted = regression.pool.iloc[1200:1800].assign(u=lambda d: d["u"] + 3, t=T0 + 5 * DAY)
    report = monitor.observe(shifted.drop(columns="y")).report()
    drift = report.signal("data_drift").set_index("index")
    assert bool(drift.loc[2, "alarm"])
    assert not drift.loc[0, "alarm"]


def test_without_reference_frame_drift_runs_and_the_report_says_what_is_missing(churn):
    monitor = Monitor(churn.bundle, time_col="t")
    report = monitor.observe(daily_batches(churn.pool.drop(columns="y"), 1, 300)[0]).report()
    w = report.windows
    assert np.isnan(w["prediction_drift_p"]).all()
    assert np.isnan(w["confidence_p"]).all()
    assert w["estimated_accuracy"].notna().all()  # CBPE trusting the model's probabilities
    assert any("not computable" in n for n in report.reference["notes"])
    assert set(report.signals["signal"]) >= {"data_drift"}


# ---------------------------------------------------------------- schema problems


def test_new_and_missing_columns_are_signals_not_errors(churn):
    batch = daily_batches(churn.pool.drop(columns="y"), 1, 300)[0]
    broken = batch.drop(columns="usage_gb").assign(promo="x")
    report = _monitor(churn).observe(broken).report()
    cols = report.columns.set_index("column")
    assert cols.loc["usage_gb", "status"] == "column missing from current"
    assert cols.loc["promo", "status"] == "new column (not in reference)"
    w = report.windows
    assert w["unscored_rate"].iloc[0] == 1.0  # the model needs usage_gb
    assert report.signal("data_quality")["alarm"].any()


def test_a_schema_break_window_scores_the_rows_it_can(churn):
    batches = daily_batches(churn.pool.drop(columns="y"), 3, 300)
    bad = batches[1].copy()
    bad["age"] = bad["age"].astype(object)
    bad.loc[bad.index[:30], "age"] = "unknown"
    bad.loc[bad.index[30:40], "plan"] = "platinum"  # unseen category
    monitor = _monitor(churn)
    for b in [batches[0], bad, batches[2]]:
        monitor.observe(b)
    report = monitor.report()
    w = report.windows.set_index("index")
    assert w.loc[1, "unscored_rate"] == pytest.approx(40 / 300)
    assert w.loc[0, "unscored_rate"] == 0
    assert w.loc[2, "unscored_rate"] == 0
    quality = report.signal("data_quality")
    alarmed = quality.loc[quality["alarm"], "index"].unique().tolist()
    assert alarmed == [1]
    assert report.windows["n_rows"].tolist() == [300, 300, 300]
    # labels of the unscored rows are counted apart, not as unknown ids
    monitor.observe_labels(churn.pool.loc[300:599, ["id", "y"]])
    counts = monitor.label_counts
    assert counts["labels_for_unscored"] == 40
    assert counts["unknown_label_ids"] == 0
    assert monitor.report().windows["n_labelled"].tolist() == [0, 260, 0]


def test_inputs_are_never_mutated(churn):
    batch = daily_batches(churn.pool, 1, 200)[0]
    batch.loc[batch.index[:5], "age"] = np.nan
    reference = churn.reference.copy()
    labels = churn.pool.loc[:50, ["id", "y"]]
    snapshot = (batch.copy(deep=True), reference.copy(deep=True), labels.copy(deep=True))
    monitor = Monitor(churn.bundle, reference=reference, time_col="t", label_col="y", id_col="id")
    monitor.observe(batch).observe_labels(labels).report()
    for before, after in zip(snapshot, (batch, reference, labels), strict=True):
        pd.testing.assert_frame_equal(before, after)


def test_polars_batches_read_like_pandas(churn):
    pl = pytest.importorskip("polars")
    batch = daily_batches(churn.pool.drop(columns="y"), 1, 200)[0]
    a = _monitor(churn).observe(batch).report().windows
    b = _monitor(churn).observe(pl.from_pandas(batch)).report().windows
    pd.testing.assert_frame_equal(a, b, rtol=1e-9)


# ---------------------------------------------------------------- stated level


def test_null_windows_alarm_within_the_stated_level(churn):
    """60 windows from the reference's distribution, small (120 rows) against a reference of
    1,500: the share of windows with any statistical alarm stays within alpha (binomial
    tolerance: mean 3, 99% upper limit 7)."""
    from mllife.datasets import make_churn

    frame = make_churn(7_200, random_state=123, defects=False).frame
    pool = frame[churn.inputs].assign(y=frame["churned"].to_numpy(), id=np.arange(7_200))
    monitor = _monitor(churn)
    for b in daily_batches(pool, 60, 120):
        monitor.observe(b)
    report = monitor.report()
    stat = report.signals[report.signals["level"].notna()]
    assert set(stat["signal"]) >= {"data_drift", "prediction_drift", "confidence",
                                   "estimated_performance", "realized_performance"}
    windows_alarmed = stat.loc[stat["alarm"], "index"].nunique()
    assert windows_alarmed <= 7
    assert report.settings["expected_false_alarms_per_100"] == pytest.approx(5.0)
    deterministic = report.signals[report.signals["signal"].isin(
        ["data_quality", "freshness", "operations"])]
    assert not deterministic["alarm"].any()
