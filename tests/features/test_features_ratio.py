"""RatioFeatures: safe division, zero policies, names, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mllife import InputError
from mllife.features import RatioFeatures


@pytest.fixture
def houses() -> pd.DataFrame:
    return pd.DataFrame({
        "price": [300.0, 250.0, 90.0, np.nan, 10.0],
        "square_feet": [1500.0, 0.0, np.nan, 100.0, 0.0],
        "city": ["a", "b", "c", "d", "e"],
    })


def test_names_and_values(houses):
    out = RatioFeatures([("price", "square_feet")]).fit_transform(houses)
    assert list(out.columns) == ["price", "square_feet", "city", "price_per_square_feet"]
    expected = houses["price"] / houses["square_feet"].replace(0.0, np.nan)
    np.testing.assert_allclose(out["price_per_square_feet"], expected)
    pd.testing.assert_frame_equal(out[houses.columns], houses)


@pytest.mark.parametrize(("on_zero", "fill"), [("nan", np.nan), ("zero", 0.0), (-1.0, -1.0), (7, 7.0)])
def test_on_zero_policies(houses, on_zero, fill):
    out = RatioFeatures({"ppsf": ("price", "square_feet")}, on_zero=on_zero,
                        keep_original=False).fit_transform(houses)
    assert list(out.columns) == ["ppsf"]
    np.testing.assert_allclose(out["ppsf"].iloc[[1, 4]], [fill, fill])
    assert np.isnan(out["ppsf"].iloc[2])  # missing denominator stays missing
    assert np.isnan(out["ppsf"].iloc[3])  # missing numerator stays missing


def test_on_zero_error_names_column_and_rows(houses):
    t = RatioFeatures([("price", "square_feet")], on_zero="error").fit(houses.iloc[:1])
    with pytest.raises(InputError, match=r"column 'square_feet'.*\(2 rows\)"):
        t.transform(houses)


def test_on_zero_raise_is_spelled_error(houses):
    with pytest.raises(InputError, match='"raise" is spelled "error"'):
        RatioFeatures([("price", "square_feet")], on_zero="raise").fit(houses)


@given(hnp.arrays(np.float64, (30, 2), elements=st.floats(allow_infinity=False, width=64)))
def test_never_produces_infinity(values):
    out = RatioFeatures([("x0", "x1")], keep_original=False).fit_transform(values)
    assert not np.isinf(out).any()


def test_bad_input(houses):
    with pytest.raises(InputError, match="not found"):
        RatioFeatures([("price", "nope")]).fit(houses)
    with pytest.raises(InputError, match=r"column 'city'.*not a number.*5 rows"):
        RatioFeatures([("price", "city")]).fit(houses)
    with pytest.raises(InputError, match="on_zero"):
        RatioFeatures([("price", "square_feet")], on_zero="inf").fit(houses)
    with pytest.raises(InputError, match="infinite"):
        RatioFeatures([("price", "square_feet")]).fit(houses.assign(price=np.inf))
    with pytest.raises(InputError, match="already columns"):
        RatioFeatures({"price": ("price", "square_feet")}).fit(houses)
    t = RatioFeatures([("price", "square_feet")]).fit(houses)
    with pytest.raises(InputError, match="city"):
        t.transform(houses.drop(columns="city"))


def test_numeric_strings_accepted_text_refused():
    X = pd.DataFrame({"a": ["1.5", "3"], "b": [3.0, 1.0]})
    out = RatioFeatures([("a", "b")], keep_original=False).fit_transform(X)
    np.testing.assert_allclose(out["a_per_b"], [0.5, 3.0])
    with pytest.raises(InputError, match=r"column 'a'.*\(1 row\)"):
        RatioFeatures([("a", "b")]).fit(X.assign(a=["1.5", "oops"]))
