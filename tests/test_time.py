"""The one time-column reader: the same times accepted by split, check_leakage and evaluate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import mllife
from mllife._time import read_time, time_values


def _yearly(n_years: int = 31, per_year: int = 40, seed: int = 0):
    """A yearly panel (1980, 1981, ...) like a World Bank or Gapminder extract."""
    rng = np.random.default_rng(seed)
    year = np.repeat(np.arange(1980, 1980 + n_years), per_year)
    X = pd.DataFrame({"a": rng.normal(size=len(year))})
    y = pd.Series((X["a"] + rng.normal(size=len(year)) > 0).astype(int), name="y")
    return X, y, pd.Series(year, name="year")


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (pd.Series([1980, 1981, 1982]), "int64"),
        (pd.Series([1980.0, np.nan]), "float64"),
        (pd.Series(pd.period_range("1980", periods=3, freq="Y")), "period[Y-DEC]"),
        (pd.Series(["2019Q1", "2019-Q2", " 2019q3 ", None]), "period[Q-DEC]"),
        (pd.Series(["1980", "1981"]), "period[Y-DEC]"),
        (pd.Series(["2019-03", "2019-04", ""]), "period[M]"),
        (pd.Series(["2024-03-01", "2024-03-02T10:00:00"]), "datetime64"),
        (pd.Series(["2024-03-01T00:00:00+01:00", "2024-07-01T00:00:00+02:00"]), "UTC"),
        (pd.Series(pd.Categorical(["2024-01-01", "2024-01-02"])), "datetime64"),
        (pd.Series([pd.Period("2020", "Y"), pd.Period("2021", "Y")], dtype=object), "period[Y"),
    ],
)
def test_read_time_accepts_datetimes_periods_numbers_and_iso_text(values, kind):
    assert kind in str(read_time(values).dtype)


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (pd.Series([True, False]), "not times"),
        (pd.Series(["soon", "later"]), "not times"),
        (pd.Series(["01/02/2024", "13/02/2024"]), "not times"),  # ambiguous day/month
        (pd.Series(["1980", "2019Q1"]), "not times"),  # periods of different lengths
    ],
)
def test_read_time_refuses_what_is_not_a_time(values, match):
    with pytest.raises(mllife.InputError, match=match):
        read_time(values, column="t")


def test_time_values_of_periods_are_their_starts_and_label_as_periods():
    quarters = time_values(pd.Series(["2019Q1", "2019Q4"]))
    assert quarters.is_datetime
    assert quarters.unit == "Q"
    assert quarters.label(quarters.values[1]) == "2019Q4"
    years = time_values(pd.Series([1980, 2010]))
    assert not years.is_datetime
    assert years.label(years.values.max()) == "2010"
    kept = time_values(pd.Series([1980.0, np.nan]), missing="keep")
    assert np.isnan(kept.values[1])
    with pytest.raises(mllife.InputError, match=r"missing time values \(NaN\).*\(1 row\)"):
        time_values(pd.Series([1980.0, np.nan]), column="year")


def test_integer_years_and_periods_work_in_split_check_leakage_and_evaluate():
    # Before: evaluate(time="year") raised "time has dtype int64" although split and
    # check_leakage accepted the same column.
    X, y, year = _yearly()
    model = LogisticRegression().fit(X, y)
    for time in (year, pd.Series(pd.PeriodIndex(year.astype(str), freq="Y"), name="year"),
                 year.astype(str)):
        frame = X.assign(year=time.to_numpy(), y=y)
        s = mllife.split(frame, target="y", time_col="year")
        assert len(s.train) == 880
        assert s.report.passed
        report = mllife.check_leakage(frame.iloc[::2], frame.iloc[1::2], time_col="year")
        (overlap,) = report.findings_by(check="temporal_overlap")
        assert "last train timestamp 2010:" in overlap.message
        evaluation = mllife.evaluate(model, X, y, time=time.to_numpy(), baseline=None)
        periods = evaluation.by_period["period"].tolist()
        assert periods[:3] == ["1980", "1981", "1982"]
        assert len(periods) == 31
        assert evaluation.by_period["n"].eq(40).all()


def test_annual_dates_are_labelled_by_year_not_quarter():
    # Dates stamped mid-year (one per year) used to be labelled "1980Q3", "1981Q3"...
    X, y, year = _yearly()
    model = LogisticRegression().fit(X, y)
    mid_year = pd.to_datetime(year.astype(str) + "-07-01")
    report = mllife.evaluate(model, X, y, time=mid_year, baseline=None)
    assert report.by_period["period"].iloc[0] == "1980"
    assert report.period_test["freq"] == "Y"
    quarters = pd.Series([f"{1980 + i // 160}Q{i // 40 % 4 + 1}" for i in range(len(X))])
    report = mllife.evaluate(model, X, y, time=quarters, baseline=None)
    assert report.by_period["period"].tolist()[:2] == ["1980Q1", "1980Q2"]


def test_sparse_integer_years_are_binned_into_readable_ranges():
    X, y, year = _yearly(n_years=60, per_year=8)  # 8 rows a year: too few for a period each
    model = LogisticRegression().fit(X, y)
    report = mllife.evaluate(model, X, y, time=year, baseline=None)
    table = report.by_period
    assert table["period"].iloc[0] == "1980-1984"
    assert table["n"].min() >= 30
    assert table["n"].sum() == len(X)
    assert report.period_test["freq"] == "5"


def test_evaluate_refuses_numbers_with_fractions_as_time():
    X, y, _ = _yearly(n_years=5)
    model = LogisticRegression().fit(X, y)
    with pytest.raises(mllife.InputError, match="fractional values; expected datetimes"):
        mllife.evaluate(model, X, y, time_col="a", baseline=None)
