"""Regressions from the review: false alarms on clean real-looking tables, misses on messy ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mllife


def _alarms(report):
    return [(f.check, f.column, f.message) for f in report.findings if f.severity != "info"]


@pytest.mark.parametrize(
    "text",
    [
        ["$1,234.50", "$12.00", "$7.25", "$80.00", "$1,000.00"],
        ["12.50 €", "7 €", "1.234 €", "80 €", "3 €"],
        ["12.5%", "7%", "99.9%", "0.5%", "50%"],
        ["(1,234.00)", "12.00", "(7.25)", "80.00", "1,000.00"],
    ],
    ids=["dollar", "euro", "percent", "accounting"],
)
def test_numbers_with_currency_percent_and_parentheses_are_numbers_as_strings(text):
    frame = pd.DataFrame({"amount": text * 20})
    found = mllife.audit(frame, checks=["numbers_as_strings"]).findings
    assert [(f.check, f.column, f.n_rows) for f in found] == [("numbers_as_strings", "amount", 100)]


def test_zip_codes_and_account_numbers_are_not_numbers_as_strings():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "zip": rng.choice(["90001", "94110", "60614", "10001", "73301"], 500),  # none with a leading 0
        "account": [f"{v}" for v in rng.integers(10_000_000, 99_999_999, 500)],
        "amount": [f"{v:.2f}" for v in rng.lognormal(3, 1, 500)],
    })
    found = mllife.audit(frame, checks=["numbers_as_strings"]).findings
    assert [f.column for f in found] == ["amount"]


def test_unknown_as_the_majority_category_is_info_not_warning():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "poutcome": rng.choice(["unknown", "failure", "success"], 2_000, p=[0.8, 0.12, 0.08]),
        "job": rng.choice(["unknown", "admin", "technician", "services"], 2_000, p=[0.05, 0.4, 0.3, 0.25]),
        "pay": rng.choice(["N/A", "card"], 2_000, p=[0.7, 0.3]),
    })
    found = {f.column: f for f in mllife.audit(frame, checks=["disguised_nulls"]).findings}
    assert found["poutcome"].severity == "info"
    assert "real category" in found["poutcome"].message
    assert found["job"].severity == "warning"  # a minority 'unknown' is a disguised null
    assert found["pay"].severity == "warning"  # 'N/A' is never a category


def test_signed_heavy_tailed_money_is_no_warning_but_a_typo_is():
    rng = np.random.default_rng(0)
    profit = rng.normal(0, 1, 5_000) * rng.lognormal(5, 2, 5_000)  # real P&L: both signs, heavy tails
    assert _alarms(mllife.audit(pd.DataFrame({"profit": profit}), checks=["outliers"])) == []
    typo = profit.copy()
    typo[[3, 7]] = [4e12, -3e12]
    found = mllife.audit(pd.DataFrame({"profit": typo}), checks=["outliers"]).findings
    assert [(f.severity, f.n_rows, f.sample_index) for f in found] == [("warning", 2, (3, 7))]
    assert found[0].details["signed_log_scale"] is True


def test_light_tailed_signed_column_keeps_raw_fences():
    rng = np.random.default_rng(1)
    delta = rng.normal(0, 3, 5_000).round(1)
    delta[10] = 3_000.0
    found = mllife.audit(pd.DataFrame({"temp_delta": delta}), checks=["outliers"]).findings
    assert [(f.severity, f.sample_index) for f in found] == [("warning", (10,))]
    assert found[0].details["signed_log_scale"] is False


def test_real_looking_clean_tables_raise_no_alarm():
    rng = np.random.default_rng(3)
    n = 3_000
    houses = pd.DataFrame({
        "zip": rng.choice(["02134", "10001", "94110", "60614", "00501"], n),
        "bedrooms": rng.choice([1, 2, 3, 4, 5], n),
        "garage": rng.choice([True, False], n),
        "condition": pd.array(rng.choice([1, 2, 3, 4, 5], n), dtype="Int64"),
        "price": rng.lognormal(12.5, 0.6, n).round(-2),
        "temp_delta": rng.normal(0, 3, n).round(),
        "balance_change": rng.normal(0, 1, n) * rng.lognormal(4, 1.5, n),
        "status": rng.choice(["unknown", "sold", "listed"], n, p=[0.6, 0.3, 0.1]),
        "listed_at": pd.Series(pd.date_range("2024-01-01", periods=n, freq="h", tz="Europe/Berlin")),
    })
    assert _alarms(mllife.audit(houses, target="price")) == []


def test_findings_are_rendered_once_and_to_frame_is_the_findings_table(churn):
    report = mllife.audit(churn.frame, target="churned", id_cols=["customer_id"])
    assert list(report.tables) == ["profile"]
    assert report.to_frame()["check"].tolist() == [f.check for f in report.findings]
    assert report.to_markdown().count("| date_formats |") == 1
    assert report.to_html().count("dates in 3 formats") == 1


def test_category_variants_measure_against_the_stripped_spelling_the_cleaner_uses():
    frame = pd.DataFrame({"plan": [" Basic"] * 30 + ["basic"] * 20 + ["pro"] * 40})
    (finding,) = mllife.audit(frame, checks=["category_variants"]).findings
    assert finding.details["variants"] == {"Basic": [" Basic", "basic"]}
    assert finding.n_rows == 50  # ' Basic' needs stripping, 'basic' a new case: both change
    cleaned = mllife.features.StringNormalizer().fit_transform(frame)
    assert sorted(cleaned["plan"].unique()) == ["Basic", "pro"]


def test_infinite_values_are_reported_with_their_rows():
    frame = pd.DataFrame({"ratio": np.r_[np.arange(50.0), [np.inf, np.inf, -np.inf]],
                          "f": pd.array(np.r_[np.arange(52.0), np.inf], dtype="Float64"),
                          "fine": np.arange(53.0)})
    found = mllife.audit(frame, checks=["infinite_values"]).findings
    assert [(f.column, f.n_rows, f.sample_index) for f in found] == [("ratio", 3, (50, 51, 52)), ("f", 1, (52,))]
    assert found[0].details["counts"] == {"+inf": 2, "-inf": 1}
