"""Forecasting baselines: last value, moving average, seasonal naive.

They are scikit-learn regressors over time-ordered data:

- ``fit(X, y)``: ``y`` is the target series of the training window in time
  order (oldest first), one value per row of ``X``. ``X`` is not used beyond
  its shape (it carries the rows, e.g. a date column, so that the forecaster
  sits in the same ``cross_validate`` / ``compare_models`` loop as other
  models).
- ``predict(X)``: the rows of ``X`` are the ``len(X)`` periods that follow the
  training window, in time order; row ``h`` (1-based) is the forecast at
  horizon ``h``. ``predict`` never looks back into the training window row by
  row, so predicting on the training rows gives the out-of-sample forecast;
  the one-step-ahead in-sample forecasts are ``fitted_values_``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin

from .._compat import ensure_fitted
from .._errors import InputError
from ._validation import check_frame, check_target


def _check_positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise InputError(f"{name}={value!r}", expected=f"{name} as a whole number >= 1")
    return int(value)


class _Forecaster(RegressorMixin, BaseEstimator):
    """Shared fit/predict: subclasses compute the forecast path and fitted values."""

    def fit(self, X: Any, y: Any) -> _Forecaster:
        """Remember what the forecast needs from the training targets.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The training rows, in time order; only their number is used.
        y : array-like of shape (n_samples,)
            The target in time order, oldest first; finite numbers.

        Returns
        -------
        self
        """
        frame = check_frame(self, X, reset=True)
        target = check_target(y, len(frame), numeric=True).astype(float, copy=False)
        self._fit(target)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Forecast the ``len(X)`` periods after the training window.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            The rows to forecast, in time order, the first one directly after
            the training window.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        ensure_fitted(self)
        frame = check_frame(self, X, reset=False)
        return self._forecast(len(frame))

    def _fit(self, y: np.ndarray) -> None:
        raise NotImplementedError

    def _forecast(self, horizon: int) -> np.ndarray:
        raise NotImplementedError

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # X's values are not used
        tags.input_tags.string = True  # X may hold dates or labels: they are not used
        tags.regressor_tags.poor_score = True  # a flat forecast does not fit i.i.d. data
        return tags


class NaiveForecaster(_Forecaster):
    """Forecast the last observed value, for every future period.

    Attributes
    ----------
    last_value_ : float
        The last training target.
    fitted_values_ : ndarray
        In-sample one-step-ahead forecasts: the previous value
        (``y.shift(1)``; NaN for the first row).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([3.0, 5.0, 4.0, 6.0])
    >>> f = NaiveForecaster().fit(np.zeros((4, 1)), y)
    >>> f.predict(np.zeros((2, 1)))
    array([6., 6.])
    >>> f.fitted_values_
    array([nan,  3.,  5.,  4.])
    """

    def _fit(self, y: np.ndarray) -> None:
        self.last_value_ = float(y[-1])
        self.fitted_values_ = pd.Series(y).shift(1).to_numpy(dtype=float)

    def _forecast(self, horizon: int) -> np.ndarray:
        return np.full(horizon, self.last_value_)


class MovingAverageForecaster(_Forecaster):
    """Forecast the mean of the last ``window`` observed values, for every future period.

    Parameters
    ----------
    window : int, default=7
        How many of the latest training values to average. With fewer
        training rows than ``window``, all of them are averaged.

    Attributes
    ----------
    level_ : float
        The forecast: the mean of the last ``window`` training targets
        (``y.rolling(window).mean().iloc[-1]``).
    fitted_values_ : ndarray
        In-sample one-step-ahead forecasts, ``y.rolling(window).mean().shift(1)``
        (NaN until ``window`` values have been seen).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    >>> f = MovingAverageForecaster(window=2).fit(np.zeros((5, 1)), y)
    >>> f.predict(np.zeros((3, 1)))
    array([4.5, 4.5, 4.5])
    >>> f.fitted_values_
    array([nan, nan, 1.5, 2.5, 3.5])
    """

    def __init__(self, window: int = 7) -> None:
        self.window = window

    def _fit(self, y: np.ndarray) -> None:
        window = _check_positive_int(self.window, "window")
        self.level_ = float(np.mean(y[-window:]))
        self.fitted_values_ = pd.Series(y).rolling(window).mean().shift(1).to_numpy(dtype=float)

    def _forecast(self, horizon: int) -> np.ndarray:
        return np.full(horizon, self.level_)


class SeasonalNaiveForecaster(_Forecaster):
    """Forecast the value observed one season earlier.

    The forecast at horizon ``h`` after a training window of ``T`` values is
    ``y[T + h - season * k]`` with ``k = ceil(h / season)``: the last full
    season is repeated for horizons longer than a season.

    Parameters
    ----------
    season : int, default=7
        The season length in rows (7 for daily data with a weekly cycle,
        12 for monthly data with a yearly one). Training needs at least
        ``season`` rows.

    Attributes
    ----------
    last_season_ : ndarray of shape (season,)
        The last ``season`` training targets, oldest first.
    fitted_values_ : ndarray
        In-sample one-step-ahead forecasts, ``y.shift(season)``.
    n_features_in_ : int

    Notes
    -----
    The horizon of a row is its position in ``X``, so the forecast depends on
    how many rows are predicted together and in which order. With a gap of
    ``g`` rows between training and forecast rows (a purged split), choose
    ``g`` as a multiple of ``season`` to keep the phase right.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([1.0, 5.0, 9.0, 2.0, 6.0, 10.0])
    >>> f = SeasonalNaiveForecaster(season=3).fit(np.zeros((6, 1)), y)
    >>> f.predict(np.zeros((4, 1)))
    array([ 2.,  6., 10.,  2.])
    """

    def __init__(self, season: int = 7) -> None:
        self.season = season

    def _fit(self, y: np.ndarray) -> None:
        season = _check_positive_int(self.season, "season")
        if y.shape[0] < season:
            raise InputError(
                f"SeasonalNaiveForecaster(season={season}) was given {y.shape[0]} sample(s)",
                expected=f"at least one full season ({season} training rows)",
            )
        self.last_season_ = y[-season:].copy()
        self.fitted_values_ = pd.Series(y).shift(season).to_numpy(dtype=float)

    def _forecast(self, horizon: int) -> np.ndarray:
        return np.resize(self.last_season_, horizon)
