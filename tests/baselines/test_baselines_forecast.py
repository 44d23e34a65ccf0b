"""Forecasting baselines agree with pandas rolling computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.model_selection import TimeSeriesSplit, cross_validate

from mllife import InputError, NotFittedError
from mllife.baselines import MovingAverageForecaster, NaiveForecaster, SeasonalNaiveForecaster

series = arrays(float, st.integers(12, 60), elements=st.floats(-1e3, 1e3, allow_nan=False))


def _frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="D"),
                         "store": ["a"] * n})


@given(series, st.integers(1, 15))
def test_moving_average_matches_pandas_rolling(y, window):
    s = pd.Series(y)
    f = MovingAverageForecaster(window=window).fit(_frame(len(y)), s)
    expected_level = s.iloc[-window:].mean()
    if window <= len(y):
        assert expected_level == pytest.approx(s.rolling(window).mean().iloc[-1], abs=1e-8)
    np.testing.assert_allclose(f.predict(_frame(5)), np.full(5, expected_level), atol=1e-8)
    np.testing.assert_allclose(f.fitted_values_, s.rolling(window).mean().shift(1), atol=1e-8)


@given(series)
def test_naive_is_the_last_value_and_a_one_step_shift(y):
    s = pd.Series(y)
    f = NaiveForecaster().fit(_frame(len(y)), s)
    np.testing.assert_array_equal(f.predict(_frame(3)), np.full(3, s.iloc[-1]))
    np.testing.assert_array_equal(f.fitted_values_, s.shift(1).to_numpy())


@given(series, st.integers(1, 12), st.integers(1, 40))
def test_seasonal_naive_repeats_the_last_season(y, season, horizon):
    s = pd.Series(y)
    f = SeasonalNaiveForecaster(season=season).fit(_frame(len(y)), s)
    T = len(y)
    h = np.arange(1, horizon + 1)
    k = np.ceil(h / season).astype(int)
    expected = y[T + h - season * k - 1]
    np.testing.assert_array_equal(f.predict(_frame(horizon)), expected)
    np.testing.assert_array_equal(f.fitted_values_, s.shift(season).to_numpy())


def test_seasonal_forecast_equals_the_truth_on_a_pure_seasonal_series():
    pattern = np.array([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0])
    y = np.tile(pattern, 10)
    train, future = y[:50], y[50:]
    f = SeasonalNaiveForecaster(season=7).fit(_frame(50), train)
    np.testing.assert_array_equal(f.predict(_frame(20)), future)


def test_works_with_time_series_split_and_matches_a_manual_loop():
    rng = np.random.default_rng(0)
    n = 120
    y = pd.Series(np.cumsum(rng.normal(size=n)) + 5 * np.sin(np.arange(n) * 2 * np.pi / 7))
    X = _frame(n)
    cv = TimeSeriesSplit(n_splits=4, test_size=14)
    model = SeasonalNaiveForecaster(season=7)
    scores = cross_validate(model, X, y, cv=cv, scoring="neg_mean_absolute_error")
    manual = []
    for train, test in cv.split(X):
        last = y.iloc[train].to_numpy()[-7:]
        pred = np.resize(last, len(test))
        manual.append(-np.mean(np.abs(y.iloc[test].to_numpy() - pred)))
    np.testing.assert_allclose(scores["test_score"], manual)


def test_bad_input():
    X = _frame(5)
    with pytest.raises(InputError, match="window"):
        MovingAverageForecaster(window=0).fit(X, np.arange(5.0))
    with pytest.raises(InputError, match="at least one full season"):
        SeasonalNaiveForecaster(season=7).fit(X, np.arange(5.0))
    with pytest.raises(ValueError, match="NaN"):
        NaiveForecaster().fit(X, [1.0, np.nan, 2.0, 3.0, 4.0])
    with pytest.raises(InputError, match="5 rows"):
        NaiveForecaster().fit(X, np.arange(4.0))
    with pytest.raises(NotFittedError):
        NaiveForecaster().predict(X)


def test_window_longer_than_training_averages_everything():
    f = MovingAverageForecaster(window=10).fit(_frame(4), [1.0, 2.0, 3.0, 6.0])
    np.testing.assert_allclose(f.predict(_frame(2)), [3.0, 3.0])


def test_inputs_not_mutated():
    X = _frame(20)
    y = pd.Series(np.arange(20.0))
    X0, y0 = X.copy(), y.copy()
    SeasonalNaiveForecaster(season=5).fit(X, y).predict(X)
    pd.testing.assert_frame_equal(X, X0)
    pd.testing.assert_series_equal(y, y0)
