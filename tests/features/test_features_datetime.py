"""DateTimeFeatures: known answers against pandas' .dt accessors, time zones, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from mllife import InputError
from mllife.features import DateTimeFeatures
from mllife.features._datetime_features import FEATURES


@pytest.fixture
def stamps() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    seconds = rng.integers(0, 3 * 365 * 86400, 300)
    s = pd.Timestamp("2022-01-01") + pd.to_timedelta(seconds, unit="s")
    s = pd.Series(s)
    s.iloc[[3, 50]] = pd.NaT
    return pd.DataFrame({"when": s, "other": rng.normal(size=300)})


def test_parts_match_pandas_dt(stamps):
    all_but_elapsed = tuple(f for f in FEATURES if f != "elapsed")
    out = DateTimeFeatures(all_but_elapsed, columns="when").fit_transform(stamps)
    dt = stamps["when"].dt
    expected = {
        "year": dt.year, "quarter": dt.quarter, "month": dt.month, "day": dt.day,
        "day_of_week": dt.day_of_week, "day_of_year": dt.day_of_year, "hour": dt.hour,
        "minute": dt.minute, "is_weekend": dt.day_of_week >= 5,
        "is_month_start": dt.is_month_start, "is_month_end": dt.is_month_end,
    }
    present = stamps["when"].notna()
    for name, values in expected.items():
        got = out[f"when_{name}"]
        np.testing.assert_array_equal(got[present].to_numpy(), values[present].astype(float).to_numpy())
        assert got[~present].isna().all(), name  # NaT stays missing
    assert list(out.columns) == [f"when_{f}" for f in all_but_elapsed]
    assert out.index.equals(stamps.index)


def test_monday_is_zero():
    X = pd.DataFrame({"d": pd.to_datetime(["2024-01-01", "2024-01-07"])})  # Monday, Sunday
    out = DateTimeFeatures(("day_of_week", "is_weekend")).fit_transform(X)
    assert out["d_day_of_week"].tolist() == [0.0, 6.0]
    assert out["d_is_weekend"].tolist() == [0.0, 1.0]


def test_elapsed_reference_learned_on_fit_data_only(stamps):
    train, test = stamps.iloc[:200], stamps.iloc[200:]
    t = DateTimeFeatures(("elapsed",), columns=["when"], elapsed_unit="h").fit(train)
    assert pd.Timestamp(t.reference_["when"]) == train["when"].min()
    got = t.transform(test)["when_elapsed"]
    expected = (test["when"] - train["when"].min()) / pd.Timedelta(1, "h")
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(dtype=float, na_value=np.nan))
    fixed = DateTimeFeatures(("elapsed",), columns=["when"], reference="2020-01-01").fit(train)
    assert fixed.transform(test)["when_elapsed"].min() > 365


def test_cyclical_sin_cos():
    X = pd.DataFrame({"d": pd.to_datetime(["2024-01-15", "2024-12-15", "2024-07-15"])})
    out = DateTimeFeatures(("month", "hour"), cyclical=["month"]).fit_transform(X)
    assert list(out.columns) == ["d_month_sin", "d_month_cos", "d_hour"]
    np.testing.assert_allclose(out["d_month_sin"] ** 2 + out["d_month_cos"] ** 2, 1.0)
    np.testing.assert_allclose(out.loc[0, ["d_month_sin", "d_month_cos"]], [0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(out.loc[2, "d_month_cos"], -1.0)  # July is opposite January
    # December sits next to January.
    jan, dec = out.loc[0, ["d_month_sin", "d_month_cos"]], out.loc[1, ["d_month_sin", "d_month_cos"]]
    assert np.hypot(*(jan.to_numpy() - dec.to_numpy())) < 0.6


def test_strings_are_parsed_with_the_format_learned_at_fit():
    X = pd.DataFrame({"d": ["25/12/2024", "01/02/2024", None]})
    t = DateTimeFeatures(("day", "month")).fit(X)
    assert t.formats_["d"] == "%d/%m/%Y"
    out = t.transform(pd.DataFrame({"d": ["03/04/2024"]}))
    assert out.iloc[0].tolist() == [3.0, 4.0]
    with pytest.raises(InputError, match=r"column 'd'.*do not parse.*1 row"):
        t.transform(pd.DataFrame({"d": ["2024-04-03", "03/04/2024"]}))


def test_time_zones_local_clock_and_conversion():
    s = pd.Series(pd.to_datetime(["2024-03-01 23:30", "2024-06-01 08:00"])).dt.tz_localize("Europe/Paris")
    X = pd.DataFrame({"t": s})
    t = DateTimeFeatures(("hour", "day")).fit(X)
    assert t.tz_["t"] == "Europe/Paris"
    np.testing.assert_array_equal(t.transform(X)["t_hour"], s.dt.hour.astype(float))
    # Another zone at transform is converted to the fitted one.
    in_utc = pd.DataFrame({"t": s.dt.tz_convert("UTC")})
    np.testing.assert_array_equal(t.transform(in_utc)["t_hour"], s.dt.hour.astype(float))
    with pytest.raises(InputError, match="naive"):
        t.transform(pd.DataFrame({"t": s.dt.tz_localize(None)}))
    utc = DateTimeFeatures(("hour",), utc=True).fit_transform(X)
    np.testing.assert_array_equal(utc["t_hour"], s.dt.tz_convert("UTC").dt.hour.astype(float))


def test_mixed_time_zones_refused_unless_utc():
    X = pd.DataFrame({"t": ["2024-01-01T10:00+01:00", "2024-01-01T10:00+05:00"]})
    with pytest.raises(InputError, match=r"column 't'.*time zones"):
        DateTimeFeatures().fit(X)
    out = DateTimeFeatures(("hour",), utc=True).fit_transform(X)
    assert out["t_hour"].tolist() == [9.0, 5.0]


def test_bad_input_names_the_column():
    with pytest.raises(InputError, match=r"column 'n'.*numbers"):
        DateTimeFeatures().fit(pd.DataFrame({"n": [1.0, 2.0]}))
    with pytest.raises(InputError, match="unknown features"):
        DateTimeFeatures(("weekday",)).fit(pd.DataFrame({"d": pd.to_datetime(["2024-01-01"])}))
    with pytest.raises(InputError, match="'zz'"):
        DateTimeFeatures(columns=["zz"]).fit(pd.DataFrame({"d": pd.to_datetime(["2024-01-01"])}))
    t = DateTimeFeatures().fit(pd.DataFrame({"d": pd.to_datetime(["2024-01-01"]), "e": pd.to_datetime(["2024-01-02"])}))
    with pytest.raises(InputError, match="e"):
        t.transform(pd.DataFrame({"d": pd.to_datetime(["2024-01-01"])}))


def test_all_missing_at_transform_gives_nan(stamps):
    t = DateTimeFeatures(("month", "elapsed"), columns="when").fit(stamps)
    empty = stamps.assign(when=pd.NaT)
    assert t.transform(empty).isna().all().all()


def test_input_not_mutated_and_clone(stamps):
    before = stamps.copy()
    t = DateTimeFeatures(("month",), cyclical=True)
    t.fit_transform(stamps[["when"]])
    pd.testing.assert_frame_equal(stamps, before)
    assert clone(t).get_params() == t.get_params()


def test_numpy_epoch_input_and_set_output():
    X = np.array([[0.0], [86400.0 * 5]])  # 1970-01-01 (Thursday), 1970-01-06
    t = DateTimeFeatures(("day_of_week",), epoch_unit="s").set_output(transform="pandas")
    out = t.fit_transform(X)
    assert list(out.columns) == ["x0_day_of_week"]
    assert out["x0_day_of_week"].tolist() == [3.0, 1.0]


def test_timestamp_objects_with_mixed_zones():
    s = pd.Series([pd.Timestamp("2024-01-01 10:00", tz="UTC"),
                   pd.Timestamp("2024-01-01 10:00", tz="Europe/Paris")], dtype=object)
    X = pd.DataFrame({"t": s})
    with pytest.raises(InputError, match="time zones"):
        DateTimeFeatures().fit(X)
    assert DateTimeFeatures(("hour",), utc=True).fit_transform(X)["t_hour"].tolist() == [10.0, 9.0]
