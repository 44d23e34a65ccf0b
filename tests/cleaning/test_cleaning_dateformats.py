"""Date-format inference agrees with pandas on every known format."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mllife.features._dateformats import infer_date_formats, parse_dates

FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%b %d, %Y", "%d %b %Y", "%Y/%m/%d", "%d.%m.%Y",
           "%B %d, %Y", "%Y-%m-%d %H:%M:%S"]
DATES = st.datetimes(min_value=pd.Timestamp("1990-01-01").to_pydatetime(),
                     max_value=pd.Timestamp("2030-12-31").to_pydatetime())


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=20)
@given(st.lists(DATES, min_size=15, max_size=40))
def test_round_trip_matches_pandas(fmt, stamps):
    stamps = pd.Series(pd.to_datetime(stamps)).dt.floor("s")
    if "%H" not in fmt:
        stamps = stamps.dt.normalize()
    text = stamps.dt.strftime(fmt)
    inference = infer_date_formats(text)
    assert inference is not None
    formats = list(inference.formats)
    parsed, bad = parse_dates(text, formats)
    if inference.ambiguous:  # every day <= 12: the order cannot be read from the values
        assert fmt in ("%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y")
        return
    assert not bad.any()
    expected = pd.to_datetime(text, format=fmt)
    pd.testing.assert_series_equal(parsed, expected.astype("datetime64[ns]"), check_names=False)


def test_epoch_seconds_only_next_to_other_formats():
    assert infer_date_formats(pd.Series(["1706659200", "1706745600"])) is None
    mixed = infer_date_formats(pd.Series(["2024-01-31", "1706745600"]))
    assert mixed is not None
    assert set(mixed.formats) == {"%Y-%m-%d", "epoch_s"}
    parsed, _ = parse_dates(pd.Series(["2024-01-31", "1706745600"]), list(mixed.formats))
    assert parsed.tolist() == [pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-01")]
