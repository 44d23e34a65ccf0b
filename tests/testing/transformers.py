"""Users' transformers for the test kit: two good ones, and one planted defect per rule.

They live in an importable module (not in a test function) so that bundles can
record them by name and load them back with ``trusted=``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from mllife import InputError
from mllife.features import FrameTransformer


# ---- good ---------------------------------------------------------------------------------
class LogRatio(FrameTransformer):
    """``log(numerator / denominator)`` next to the input columns; NaN where either is <= 0."""

    def __init__(self, numerator="x0", denominator="x1"):
        self.numerator = numerator
        self.denominator = denominator

    def _check_params(self):
        for name in ("numerator", "denominator"):
            if not isinstance(getattr(self, name), str):
                raise InputError(f"{name}={getattr(self, name)!r}", expected="a column name")

    def _fit(self, frame, y=None):
        missing = [c for c in (self.numerator, self.denominator) if c not in frame.columns]
        if missing:
            raise InputError(f"X has no column {missing}", expected=f"one of {list(frame.columns)}")
        frame[[self.numerator, self.denominator]].astype("float64")  # TypeError on non-numbers
        self.name_ = f"log_{self.numerator}_per_{self.denominator}"

    def _transform(self, frame):
        num = frame[self.numerator].astype("float64")
        den = frame[self.denominator].astype("float64")
        ratio = np.log(num.where(num > 0) / den.where(den > 0))
        return pd.concat([frame, ratio.rename(self.name_)], axis=1)

    def _names_out(self, input_names):
        return [*input_names, self.name_]

    def _feature_sources(self):
        return [(n,) for n in self._input_names()] + [(self.numerator, self.denominator)]


#: scikit-learn's checks feed one-column arrays and their own column counts: LogRatio names
#: two columns, so these checks cannot apply to it.
LOG_RATIO_EXPECTED = {
    "check_fit2d_1feature": "LogRatio needs its two columns; a one-column array has no x1",
}


class Clip(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """A plain scikit-learn transformer (no mllife base): clips each column at fitted quantiles."""

    def __init__(self, quantile=0.9):
        self.quantile = quantile

    def fit(self, X, y=None):
        X = validate_data(self, X, ensure_all_finite="allow-nan", dtype="numeric")
        if not 0.5 <= self.quantile <= 1.0:
            raise ValueError(f"quantile={self.quantile!r}; expected a number in [0.5, 1]")
        self.upper_ = np.nanquantile(X, self.quantile, axis=0)
        self.lower_ = np.nanquantile(X, 1.0 - self.quantile, axis=0)
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan", dtype="numeric")
        return np.clip(X, self.lower_, self.upper_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class Jitter(FrameTransformer):
    """Adds a per-column offset drawn with ``random_state`` (None: a new seed each fit, as
    scikit-learn's); each row's output depends on that row alone."""

    def __init__(self, scale=1e-3, random_state=None):
        self.scale = scale
        self.random_state = random_state

    def _fit(self, frame, y=None):
        self.noise_ = np.random.default_rng(self.random_state).normal(0.0, self.scale, frame.shape[1])

    def _transform(self, frame):
        return frame.astype("float64") + self.noise_


# ---- broken: one rule each ------------------------------------------------------------------
class ValidatesInInit(FrameTransformer):
    """Checks its parameter in ``__init__`` (breaks ``init_stores_params``)."""

    def __init__(self, power=2.0):
        if not isinstance(power, int | float):
            raise InputError(f"power={power!r}", expected="a number")
        self.power = power

    def _transform(self, frame):
        return frame.astype("float64") ** self.power


class WrongNamesLength(FrameTransformer):
    """Names one column fewer than it outputs (breaks ``names_out_length``)."""

    def _transform(self, frame):
        return frame.astype("float64").add_suffix("_squared") ** 2

    def _names_out(self, input_names):
        return [f"{n}_squared" for n in input_names][:-1]


class SilentNames(FrameTransformer):
    """Output names that say nothing of their source (breaks ``names_out_explain_source``)."""

    def _transform(self, frame):
        out = frame.astype("float64").cumsum(axis=1)
        return out.set_axis(self._names_out(list(frame.columns)), axis=1)

    def _names_out(self, input_names):
        return [f"f{i}" for i in range(len(input_names))]


class MutatesInput(FrameTransformer):
    """Fills missing values in the caller's frame (breaks ``no_input_mutation``)."""

    def _transform(self, frame):
        for column in frame.columns:
            frame[column] = frame[column].fillna(0.0)  # writes into the frame it was given
        return frame.copy()


class NotDeterministic(FrameTransformer):
    """Adds unseeded noise (breaks ``deterministic``)."""

    def _transform(self, frame):
        noise = np.random.default_rng().normal(0.0, 1e-3, frame.shape)
        return frame.astype("float64") + noise


class DescribeMismatch(FrameTransformer):
    """Declares sources for one column fewer than it outputs (breaks ``describe_features_rows``)."""

    def _transform(self, frame):
        return frame.astype("float64").add_prefix("abs_").abs()

    def _names_out(self, input_names):
        return [f"abs_{n}" for n in input_names]

    def _feature_sources(self):
        return [(n,) for n in self._input_names()][:-1]


class RefusesPolars(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Reads pandas and numpy only (breaks ``polars_in_out``)."""

    def fit(self, X, y=None):
        self._check_container(X)
        validate_data(self, X, ensure_all_finite="allow-nan")
        return self

    def transform(self, X):
        check_is_fitted(self)
        self._check_container(X)
        return validate_data(self, X, reset=False, ensure_all_finite="allow-nan") * 1.0

    @staticmethod
    def _check_container(X):
        if not isinstance(X, pd.DataFrame | np.ndarray):
            raise TypeError(f"{type(X).__name__} input: pandas or numpy only")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class RefusesNumpy(RefusesPolars):
    """Reads DataFrames only (breaks ``numpy_in``)."""

    @staticmethod
    def _check_container(X):
        if not hasattr(X, "columns"):
            raise TypeError(f"{type(X).__name__} input: a DataFrame please")


class LosesIndex(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Returns a DataFrame with a fresh 0..n-1 index (breaks ``pandas_in_out``)."""

    def fit(self, X, y=None):
        validate_data(self, X, ensure_all_finite="allow-nan")
        return self

    def transform(self, X):
        check_is_fitted(self)
        values = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        return pd.DataFrame(values * 2.0, columns=self.get_feature_names_out())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


class DropsRow(FrameTransformer):
    """Drops the last row (breaks ``fit_transform``: one output row per input row)."""

    def _transform(self, frame):
        return frame.iloc[:-1].copy()


class NoFitCheck(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Reads a fitted attribute without checking it is fitted (breaks ``not_fitted_error``)."""

    def fit(self, X, y=None):
        self.scale_ = 2.0
        validate_data(self, X, ensure_all_finite="allow-nan")
        return self

    def transform(self, X):
        values = np.asarray(X, dtype="float64") * self.scale_  # AttributeError before fit
        validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        return values

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags


_DOUBLE = lambda values: values * 2.0  # noqa: E731 - a lambda is what cannot be pickled


class HoldsLambda(FrameTransformer):
    """Keeps a lambda in its fitted state (breaks ``pickle_round_trip``, so the bundle too)."""

    def _fit(self, frame, y=None):
        self.func_ = _DOUBLE

    def _transform(self, frame):
        return self.func_(frame.astype("float64"))


class Helper:
    """A small class of the user's that a fitted transformer holds."""

    def __init__(self, factor):
        self.factor = factor


class HoldsHelper(FrameTransformer):
    """Holds a ``Helper``: its bundle loads only with ``Helper`` trusted too."""

    def _fit(self, frame, y=None):
        self.helper_ = Helper(3.0)

    def _transform(self, frame):
        return frame.astype("float64") * self.helper_.factor


#: Each broken transformer, by the rule of mllife's it breaks, and every rule it fails.
BROKEN = {
    "init_stores_params": (ValidatesInInit(), {"init_stores_params"}),
    "fit_transform": (DropsRow(), {"fit_transform"}),
    "names_out_length": (WrongNamesLength(), {"names_out_length"}),
    "names_out_explain_source": (SilentNames(), {"names_out_explain_source"}),
    "describe_features_rows": (DescribeMismatch(), {"describe_features_rows"}),
    "deterministic": (NotDeterministic(), {"deterministic"}),
    "pandas_in_out": (LosesIndex(), {"pandas_in_out"}),
    "polars_in_out": (RefusesPolars(), {"polars_in_out"}),
    "numpy_in": (RefusesNumpy(), {"numpy_in"}),
    "no_input_mutation": (MutatesInput(), {"no_input_mutation"}),
    "pickle_round_trip": (HoldsLambda(), {"pickle_round_trip", "bundle_round_trip"}),
    "bundle_round_trip": (HoldsHelper(), {"bundle_round_trip"}),
    "not_fitted_error": (NoFitCheck(), {"not_fitted_error"}),
}
