"""check_leakage(): planted leaks are found, clean splits raise no alarm."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mllife import InputError
from mllife.report import Finding
from mllife.split import LeakageReport, check_leakage, split

TARGET, TIME = "churned", "last_event_at"


def _checks(report: LeakageReport, severities=("warning", "error")) -> set[tuple[str, object]]:
    return {(f.check, f.column) for f in report.findings if f.severity in severities}


def test_clean_time_split_reports_nothing(churn_clean):
    frame = churn_clean.frame
    s = split(frame, target=TARGET, time_col=TIME, gap="7D")
    assert s.report.passed, s.report.findings
    report = check_leakage(s.train, s.test, target=TARGET, time_col=TIME, group_col="customer_id",
                           horizon="7D")
    assert report.passed, report.findings
    assert set(report.checks["status"]) <= {"ok"}


def test_clean_random_split_reports_nothing(churn_clean):
    s = split(churn_clean.frame, target=TARGET, random_state=0)
    assert s.report.passed, s.report.findings
    scores = s.report.feature_scores.set_index("column")["score"]
    assert scores.max() < 0.85
    assert scores["customer_id"] == pytest.approx(0.5, abs=0.05)  # an ID predicts nothing


def test_exact_duplicates_match_a_pandas_merge(churn_clean):
    frame = churn_clean.frame
    train, test = frame.iloc[:1500], frame.iloc[1500:]
    twins = train.sample(120, random_state=0)
    test = pd.concat([test, twins], ignore_index=True)
    report = check_leakage(train, test, target=TARGET)
    features = [c for c in frame.columns if c != TARGET]
    merged = test[features].merge(train[features].drop_duplicates(), how="inner")
    found = report.findings_by(check="exact_duplicates")
    assert found
    assert found[0].n_rows == len(merged) == 120
    assert found[0].severity == "error"
    assert set(found[0].sample_index) <= set(test.index[-120:])


def test_near_duplicates_case_whitespace_and_rounding(churn_clean):
    frame = churn_clean.frame
    train, test = frame.iloc[:1500], frame.iloc[1500:1600].copy()
    twins = train.iloc[:30].copy()
    twins["plan"] = "  " + twins["plan"].str.upper() + " "
    twins["monthly_charges"] = twins["monthly_charges"] * (1 + 1e-8)
    test = pd.concat([test, twins])
    report = check_leakage(train, test, target=TARGET)
    near = report.findings_by(check="near_duplicates")
    assert near
    assert near[0].n_rows == 30
    assert not report.findings_by(check="exact_duplicates")


def test_shared_customers_found_with_and_without_group_col(churn_clean):
    frame = churn_clean.frame.copy()
    rng = np.random.default_rng(0)
    # 400 customers with 5 observations each, split at random: customers leak.
    frame["customer_id"] = "CUST-" + pd.Series(rng.integers(0, 400, len(frame))).astype(str)
    s = split(frame, target=TARGET, random_state=0, dedupe=False)
    assert ("group_key_candidate", "customer_id") in _checks(s.report)
    report = check_leakage(s.train, s.test, target=TARGET, group_col="customer_id")
    overlap = report.findings_by(check="group_overlap")
    assert overlap
    assert overlap[0].severity == "error"
    shared = set(s.train["customer_id"]) & set(s.test["customer_id"])
    assert overlap[0].details["n_groups"] == len(shared)
    assert overlap[0].n_rows == int(s.test["customer_id"].isin(shared).sum())
    # Splitting by group fixes it.
    safe = split(frame, target=TARGET, group_col="customer_id", random_state=0)
    assert safe.report.passed, safe.report.findings


def test_noisy_copy_of_target_is_a_proxy(churn_clean):
    frame = churn_clean.frame.copy()
    rng = np.random.default_rng(0)
    frame["retention_score"] = frame[TARGET] + rng.normal(0, 0.3, len(frame))
    s = split(frame, target=TARGET, random_state=0)
    found = s.report.findings_by(check="target_proxy", column="retention_score")
    assert found
    assert found[0].severity == "error"
    assert s.report.leaky_columns == ["retention_score"]
    assert not s.report.findings_by(check="target_proxy", column="contract")


def test_regression_proxy(churn_clean):
    frame = churn_clean.frame.copy()
    rng = np.random.default_rng(1)
    frame["bill_next_month"] = frame["monthly_charges"] * 1.1 + rng.normal(0, 1, len(frame))
    train, test = frame.iloc[:1500], frame.iloc[1500:]
    report = check_leakage(train, test, target="monthly_charges")
    assert ("target_proxy", "bill_next_month") in _checks(report)
    assert report.feature_scores["metric"].iloc[0] == "r2"


def test_post_outcome_timestamp(churn_clean):
    frame = churn_clean.frame.copy()
    rng = np.random.default_rng(0)
    later = frame[TIME] + pd.to_timedelta(rng.integers(1, 30, len(frame)), unit="D")
    frame["cancelled_at"] = later.where(frame[TARGET] == 1)
    s = split(frame, target=TARGET, time_col=TIME)
    found = _checks(s.report)
    assert ("missingness_predicts_target", "cancelled_at") in found
    assert ("future_timestamp", "cancelled_at") in found
    assert ("target_proxy", "cancelled_at") in found


def test_temporal_overlap_and_horizon(churn_clean):
    frame = churn_clean.frame
    s = split(frame, target=TARGET, random_state=0)
    report = check_leakage(s.train, s.test, target=TARGET, time_col=TIME)
    overlap = report.findings_by(check="temporal_overlap")
    last = s.train[TIME].max()
    assert overlap
    assert overlap[0].n_rows == int((s.test[TIME] <= last).sum())
    t = split(frame, target=TARGET, time_col=TIME, sizes=(0.8, 0.2))
    report = check_leakage(t.train, t.test, time_col=TIME, horizon="30D")
    horizon = report.findings_by(check="label_horizon")
    start = t.test[TIME].min()
    assert horizon
    assert horizon[0].n_rows == int((t.train[TIME] + pd.Timedelta("30D") >= start)
                                                .sum())
    gapped = split(frame, target=TARGET, time_col=TIME, sizes=(0.8, 0.2), gap="30D")
    assert check_leakage(gapped.train, gapped.test, time_col=TIME, horizon="30D").passed


def test_missingness_predicts_target():
    rng = np.random.default_rng(0)
    n = 3000
    y = rng.integers(0, 2, n)
    df = pd.DataFrame({"x": rng.normal(size=n), "y": y,
                       "refund": np.where(y == 1, rng.normal(50, 10, n), np.nan)})
    report = check_leakage(df.iloc[:2000], df.iloc[2000:], target="y")
    assert ("missingness_predicts_target", "refund") in _checks(report)
    scores = report.feature_scores.set_index("column")
    assert scores.loc["refund", "missing_score"] > 0.99
    assert np.isnan(scores.loc["x", "missing_score"])


def test_multiclass_target_proxy():
    rng = np.random.default_rng(0)
    n = 2000
    y = rng.choice(["a", "b", "c"], n)
    df = pd.DataFrame({"noise": rng.normal(size=n), "y": y,
                       "code": pd.Series(y).map({"a": 1, "b": 2, "c": 3}) + rng.normal(0, .1, n)})
    report = check_leakage(df.iloc[:1500], df.iloc[1500:], target="y")
    assert _checks(report) == {("target_proxy", "code")}


def test_inputs_not_mutated_and_report_round_trips(churn_clean):
    frame = churn_clean.frame
    train, test = frame.iloc[:1500], frame.iloc[1400:]
    before_train, before_test = train.copy(), test.copy()
    report = check_leakage(train, test, target=TARGET, time_col=TIME, group_col="customer_id")
    pd.testing.assert_frame_equal(train, before_train)
    pd.testing.assert_frame_equal(test, before_test)
    data = json.loads(report.to_json())
    assert data["report"] == "LeakageReport"
    assert data["n_rows"] == {"train": 1500, "test": 600}
    assert [Finding.from_dict(f) for f in data["findings"]] == list(report.findings)
    assert "exact_duplicates" in report.to_markdown()
    html = report.to_html()
    assert "data:image/png;base64" in html
    assert len(html) < 1_000_000
    assert list(report.to_frame().columns) == ["check", "between", "status", "n_rows", "share",
                                               "value"]
    assert "LeakageReport" in repr(report)


def test_numpy_input_and_dtype_differences():
    a = np.arange(20, dtype=float).reshape(10, 2)
    report = check_leakage(a, a[:3])
    assert report.findings_by(check="exact_duplicates")[0].n_rows == 3
    train = pd.DataFrame({"k": [1, 2, 3], "s": ["a", "b", "c"]})
    test = pd.DataFrame({"k": [1.0, 5.0], "s": pd.Series(["a", "z"], dtype=object)})
    assert check_leakage(train, test).findings_by(check="exact_duplicates")[0].n_rows == 1


def test_bad_input():
    train = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=5, tz="UTC"), "x": range(5)})
    naive = train.assign(t=train["t"].dt.tz_localize(None))
    with pytest.raises(InputError, match=r"column 't'.*aware in one frame"):
        check_leakage(train, naive, time_col="t")
    with pytest.raises(InputError, match="'y'"):
        check_leakage(train, train, target="y")
    with pytest.raises(InputError, match="test column"):
        check_leakage(train, train.drop(columns="t"), time_col="t")
    with pytest.raises(InputError, match="share no feature"):
        check_leakage(train[["x"]], pd.DataFrame({"z": [1]}))
    with pytest.raises(InputError, match="not a time span"):
        check_leakage(train, train, time_col="t", horizon="soon")


def test_one_feature_scores_match_scikit_learn():
    from sklearn.metrics import r2_score, roc_auc_score

    from mllife.split._target import _roc_auc

    rng = np.random.default_rng(0)
    n = 4000
    flag = rng.integers(0, 2, n)
    y = np.where(rng.random(n) < 0.8, flag, 1 - flag)
    noisy = np.round(rng.normal(size=n) + y, 1)
    assert _roc_auc(y.astype(float), noisy) == pytest.approx(roc_auc_score(y, noisy))
    df = pd.DataFrame({"flag": flag, "y": y, "amount": rng.normal(size=n)})
    df["value"] = df["amount"] * 3 + rng.normal(size=n)
    scores = check_leakage(df, df.iloc[:10], target="y").feature_scores.set_index("column")
    # A binary feature's one-feature model is the feature itself.
    assert scores.loc["flag", "score"] == pytest.approx(roc_auc_score(y, flag), abs=0.01)
    r2 = check_leakage(df.drop(columns="y"), df.iloc[:10], target="value").feature_scores
    expected = r2_score(df["value"], df["amount"] * 3)  # the best any model of amount can do
    assert r2.set_index("column").loc["amount", "score"] == pytest.approx(expected, abs=0.03)


def test_repeating_feature_values_are_not_a_warning(churn_clean):
    frame = churn_clean.frame.copy()
    rng = np.random.default_rng(0)
    frame["city"] = "city-" + pd.Series(rng.integers(0, 150, len(frame))).astype(str)
    frame["days_active"] = rng.integers(0, 400, len(frame))
    s = split(frame, target=TARGET, random_state=0)
    assert s.report.passed, s.report.findings
    info = {f.column for f in s.report.findings_by(check="group_key_candidate")}
    assert info <= {"city", "days_active"}


def test_dates_stored_as_text_are_not_a_group_key(churn_clean):
    # Dates as text (several formats, as in a raw export) repeat across sets without
    # identifying an entity; numeric codes as text still do.
    frame = churn_clean.frame.copy()
    as_text = frame["signup_date"].dt.strftime("%Y-%m-%d").astype(object)
    as_text.iloc[::3] = frame["signup_date"].iloc[::3].dt.strftime("%b %d, %Y")
    frame["signup_date"] = as_text
    frame["store_code"] = (np.arange(len(frame)) % 1500 + 100_000).astype(str)
    s = split(frame, target=TARGET, random_state=0)
    found = _checks(s.report, severities=("info", "warning", "error"))
    assert ("group_key_candidate", "signup_date") not in found
    assert ("group_key_candidate", "store_code") in found


def test_cells_holding_dicts_or_lists_do_not_break_the_check():
    df = pd.DataFrame({"payload": [{"k": 1}, [1]] * 10, "b": list("xy") * 10, "y": [0, 1] * 10})
    report = check_leakage(df.iloc[:10], df.iloc[10:], target="y")
    assert isinstance(report, LeakageReport)
    assert not any(f.column == "payload" and f.check == "group_key_candidate" for f in report.findings)
