"""Regressions from the review: Cleaner fixes what audit finds, in pipelines, on unseen oddities."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import mllife
from mllife import DataWarning
from mllife.features import Cleaner, DatetimeParser
from mllife.features._cleaner import parse_number_text
from mllife.features._dateformats import _parts, classify

FIXED = ["disguised_nulls", "date_formats", "numbers_as_strings", "category_variants"]


def test_audit_then_clean_then_audit_again_the_findings_are_gone(churn):
    frame = churn.frame
    before = mllife.audit(frame, target="churned", id_cols=["customer_id"], time_col="last_event_at")
    assert {f.check for f in before.findings} >= set(FIXED)
    X = frame.drop(columns="churned")
    clean = Cleaner().fit(X).transform(X).assign(churned=frame["churned"])
    after = mllife.audit(clean, target="churned", id_cols=["customer_id"], time_col="last_event_at")
    assert [f for f in after.findings if f.check in FIXED] == []
    # what cleaning cannot fix is still reported
    assert {f.check for f in after.findings} >= {"mostly_missing", "duplicate_rows", "conflicting_labels"}


def test_parse_number_text_known_answers():
    text = pd.Series(["1,234.5", "$12", "-$12", "$-12", "12 €", "(1,234)", "12.5%", "+5", ".5", "1e-3",
                      "007", "--5", "(12", "$12$", "1-2", "abc", "", "1,5", "12,34.5"])
    values, leading_zero = parse_number_text(text)
    expected = [1234.5, 12, -12, -12, 12, -1234, 0.125, 5, 0.5, 0.001, 7, np.nan, np.nan, np.nan, np.nan,
                np.nan, np.nan, np.nan, np.nan]
    np.testing.assert_array_equal(values, np.array(expected, dtype=float))
    assert leading_zero.tolist() == [False] * 10 + [True] + [False] * 8


def test_cleaner_converts_currency_and_keeps_zip_codes_as_text():
    X = pd.DataFrame({"price": ["$1,200.00", "$950.50", "($20.00)", "N/A"] * 10,
                      "zip": ["90001", "94110", "60614", "10001"] * 10})
    cleaner = Cleaner().fit(X)
    assert cleaner.numeric_columns_ == ["price"]
    out = cleaner.transform(X)
    assert out["price"].tolist()[:4] == pytest.approx([1200.0, 950.5, -20.0, np.nan], nan_ok=True)
    assert out["zip"].tolist()[:4] == ["90001", "94110", "60614", "10001"]


def test_datetime_parser_reads_unseen_but_unambiguous_formats():
    p = DatetimeParser().fit(pd.DataFrame({"d": ["2024-01-31", "31/01/2024", "Jan 02, 2024"]}))
    new = pd.DataFrame({"d": ["2024/01/05", "5 Jan 2024", "January 5, 2024", "2024-01-05T10:00:00",
                              "05-01-2024", "2024-01-05 12:00:00+02:00"]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = p.transform(new)["d"]
    assert out.dt.strftime("%Y-%m-%d %H:%M").tolist() == ["2024-01-05 00:00"] * 3 + [
        "2024-01-05 10:00", "2024-01-05 00:00", "2024-01-05 10:00"]


def test_datetime_parser_never_guesses_an_order_it_did_not_learn():
    p = DatetimeParser().fit(pd.DataFrame({"d": ["2024-01-31", "2024-02-01"]}))  # no slash dates at fit
    with pytest.warns(DataWarning, match=r"column 'd'.*\(2 rows\)"):
        out = p.transform(pd.DataFrame({"d": ["05/01/2024", "1704412800", "2024-03-01"]}))["d"]
    assert out.isna().tolist() == [True, True, False]
    with pytest.warns(DataWarning, match=r"\(1 row\)"):
        p.transform(pd.DataFrame({"d": ["soon"]}))


def test_cleaner_in_a_pipeline_with_make_preprocessor_and_unseen_oddities(churn):
    frame = churn.frame.drop(columns="customer_id")
    X, y = frame.drop(columns="churned"), frame["churned"]
    train, test = X.iloc[:1_500], X.iloc[1_500:].copy()
    preview = Cleaner().fit_transform(train)
    pipe = make_pipeline(Cleaner(), mllife.make_preprocessor(preview), LogisticRegression(max_iter=1_000))
    pipe.fit(train, y.iloc[:1_500])
    rows = test.index[:6]
    test.loc[rows, "region"] = ["  WEST ", "Narnia", "n/a", "???", "EAST", "south"]
    test.loc[rows, "signup_date"] = ["2024/01/05", "5 Jan 2024", "nonsense", "2024-01-05T10:00:00",
                                     "Jan 05, 2024", "N/A"]
    test.loc[rows, "total_charges"] = ["1,234.5", "$12", "abc", " ", "-", "(3.50)"]
    before = test.copy(deep=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        proba = pipe.predict_proba(test)
    pd.testing.assert_frame_equal(test, before)
    assert np.isfinite(proba).all()
    assert proba.shape == (len(test), 2)
    messages = sorted(str(w.message) for w in caught if issubclass(w.category, DataWarning))
    assert messages == [
        "column 'signup_date': values in a date format not seen at fit, or not dates (1 row); set to missing",
        "column 'total_charges': values that are not numbers (1 row); set to missing",
    ]
    with pytest.warns(DataWarning):
        cleaned = pipe[0].transform(test.loc[rows])
    assert cleaned["total_charges"].tolist() == pytest.approx([1234.5, 12, np.nan, np.nan, np.nan, -3.5],
                                                              nan_ok=True)
    assert cleaned["region"].tolist()[:1] + cleaned["region"].tolist()[4:] == ["west", "east", "south"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="0123456789/-.: a٣", max_size=12) | st.none(), min_size=1, max_size=40))
def test_fast_date_parts_agree_with_the_regex(values):
    series = pd.Series(values, dtype=object)
    a, b = _parts(series)
    parts = series.astype("string").str.strip().str.extract(r"^(\d{1,2})\D(\d{1,2})\D")
    expected_a = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    expected_b = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    np.testing.assert_array_equal(a, expected_a)
    np.testing.assert_array_equal(b, expected_b)


def test_classify_order_hint_changes_nothing_but_speed():
    values = pd.Series(["2024-01-31", "31/01/2024", "Jan 31, 2024", "1706659200", "x", "2024-01-31T10:00",
                        "31.01.2024", "31 Jan 2024", "2024/01/31", "January 31, 2024"], dtype=object)
    assert classify(values).tolist() == classify(values, ["d_mon_y", "epoch_s", "slash"]).tolist()


def test_categorical_variants_found_by_the_audit_are_fixed_by_the_cleaner():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"plan": pd.Categorical(rng.choice(["basic", " Basic", "PRO", "pro", "N/A"], 300))})
    assert {f.check for f in mllife.audit(X, checks=FIXED).findings} == {"disguised_nulls", "category_variants"}
    out = Cleaner().fit_transform(X)
    assert isinstance(out["plan"].dtype, pd.CategoricalDtype)
    assert out["plan"].nunique() == 2
    assert out["plan"].isna().sum() == (X["plan"] == "N/A").sum()
    assert mllife.audit(out, checks=FIXED).findings == ()


def test_ambiguous_day_month_order_warns_at_fit_unless_dayfirst_is_given():
    X = pd.DataFrame({"d": ["01/02/2024", "03/04/2024", "05/06/2024"]})
    with pytest.warns(DataWarning, match=r"column 'd': the day/month order cannot be read"):
        Cleaner().fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert DatetimeParser(dayfirst=False).fit(X).ambiguous_ == ["d"]
        DatetimeParser().fit(pd.DataFrame({"d": ["13/02/2024", "03/04/2024"]}))  # 13 proves day-first


def test_cleaner_tokens_keep_unknown_as_a_category():
    from mllife._frame import NULL_LIKE_TOKENS

    X = pd.DataFrame({"poutcome": ["unknown"] * 8 + ["success", "N/A"]})
    # 'unknown' in most rows is a level (the audit says info): kept by default, erased on request
    assert Cleaner().fit_transform(X)["poutcome"].isna().sum() == 1
    assert Cleaner(keep_levels=False).fit_transform(X)["poutcome"].isna().sum() == 9
    kept = Cleaner(tokens=NULL_LIKE_TOKENS - {"unknown"}).fit_transform(X)["poutcome"]
    assert kept.isna().tolist() == [False] * 9 + [True]
    assert kept.iloc[0] == "unknown"
