"""DateTimeFeatures leaves out parts that are constant, or decided by the calendar, at fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from mllife import InputError
from mllife.features import DateTimeFeatures, describe_features, make_preprocessor

YEAR_RULE = "determined by the year: every date falls on the same day of the year"
MONTH_RULE = "determined by the year and month: every date falls on the same day of the month"


def panel_years(people: int = 200, seed: int = 0) -> pd.DataFrame:
    """A yearly panel (as pydataset's Males, 1980-1987) whose period is a date: always 1 January."""
    rng = np.random.default_rng(seed)
    years = np.tile(np.arange(1980, 1988), people)
    return pd.DataFrame({"period": pd.to_datetime([f"{y}-01-01" for y in years]),
                         "wage": rng.normal(1.6, 0.5, len(years))})


def test_yearly_dates_give_the_year_only_and_say_why():
    X = panel_years()[["period"]]
    fitted = DateTimeFeatures().fit(X)
    assert fitted.get_feature_names_out().tolist() == ["period_year"]
    assert fitted.features_ == {"period": ["year"]}
    assert fitted.dropped_["period"] == {
        "month": "constant at fit (1)", "day": "constant at fit (1)",
        "day_of_week": YEAR_RULE, "hour": "constant at fit (0)", "is_weekend": YEAR_RULE,
    }
    out = fitted.transform(X)
    assert out.columns.tolist() == ["period_year"]
    np.testing.assert_array_equal(out["period_year"], X["period"].dt.year.astype(float))
    note = describe_features(fitted).set_index("feature").loc["period_year", "note"]
    assert f"period_day_of_week not made: {YEAR_RULE}" in note
    assert "period_month not made: constant at fit (1)" in note


def test_monthly_dates_keep_year_and_month():
    X = pd.DataFrame({"month_start": pd.date_range("2015-01-01", periods=96, freq="MS")})
    fitted = DateTimeFeatures(("year", "month", "day_of_week", "day_of_year", "is_weekend",
                               "is_month_start", "elapsed")).fit(X)
    assert fitted.features_["month_start"] == ["year", "month", "elapsed"]
    assert fitted.dropped_["month_start"] == {
        "day_of_week": MONTH_RULE, "day_of_year": MONTH_RULE, "is_weekend": MONTH_RULE,
        "is_month_start": "constant at fit (1)",
    }


def test_cyclical_parts_are_left_out_too_and_elapsed_is_always_made():
    X = panel_years(50)[["period"]]
    fitted = DateTimeFeatures(("month", "day_of_week", "elapsed"), cyclical=True).fit(X)
    assert fitted.get_feature_names_out().tolist() == ["period_elapsed"]
    assert fitted.transform(X).shape == (len(X), 1)


def test_ordinary_dates_are_unchanged():
    rng = np.random.default_rng(1)
    seconds = rng.integers(0, 3 * 365 * 86400, 500)
    X = pd.DataFrame({"when": pd.Timestamp("2022-01-01") + pd.to_timedelta(seconds, unit="s")})
    X.loc[[4, 9], "when"] = pd.NaT
    features = ("year", "quarter", "month", "day", "day_of_week", "day_of_year", "hour", "minute",
                "is_weekend", "is_month_start", "is_month_end", "elapsed")
    ours = DateTimeFeatures(features).fit(X)
    assert ours.dropped_ == {"when": {}}
    pd.testing.assert_frame_equal(ours.transform(X),
                                  DateTimeFeatures(features, drop_uninformative=False).fit_transform(X))


def test_few_dates_are_not_judged_and_the_switch_keeps_everything():
    few = pd.DataFrame({"d": pd.to_datetime(["2024-01-06", "2024-01-13", "2024-01-20"])})
    assert DateTimeFeatures().fit_transform(few).shape == (3, 6)  # three Saturdays: too few to judge
    X = panel_years(10)[["period"]]
    kept = DateTimeFeatures(drop_uninformative=False).fit(X)
    assert kept.dropped_ == {"period": {}}
    assert len(kept.get_feature_names_out()) == 6
    with pytest.raises(InputError, match="drop_uninformative"):
        DateTimeFeatures(drop_uninformative="yes").fit(X)


def test_make_preprocessor_on_a_yearly_date_column():
    frame = panel_years()
    X, y = frame[["period"]].assign(hours=np.random.default_rng(2).normal(40, 5, len(frame))), frame["wage"]
    model = make_pipeline(make_preprocessor(X), Ridge()).fit(X, y)
    names = model[0].get_feature_names_out().tolist()
    assert [n for n in names if n.startswith("period")] == ["period_year", "period_elapsed"]
    table = describe_features(model).set_index("feature")
    assert YEAR_RULE in table.loc["period_year", "note"]
    assert table.loc["hours", "note"] == ""
