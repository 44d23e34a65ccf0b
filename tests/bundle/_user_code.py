"""A user's own code, as a package of theirs holds it: nothing here is on the loader's
trust list, and every name must be trusted by the caller to load."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from mllife.features import FrameTransformer


class LogRatio(FrameTransformer):
    """``log((x + offset) / (median + offset))`` of each column, the median learned at fit."""

    def __init__(self, *, offset=1.0):
        self.offset = offset

    def _fit(self, frame, y=None):
        self.medians_ = frame.median().to_numpy(dtype=float)

    def _transform(self, frame):
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.log((frame.to_numpy(dtype=float) + self.offset)
                            / (self.medians_ + self.offset))
        return pd.DataFrame(values, index=frame.index,
                            columns=self._names_out(list(frame.columns)))

    def _names_out(self, input_names):
        return [f"{name}__log_ratio" for name in input_names]


def signed_log(X):
    """A function a ``FunctionTransformer`` of the user's holds."""
    return np.sign(X) * np.log1p(np.abs(X))


class Outer:
    """Holds a class defined inside another class: skops records it by its bare name."""

    class Nested(TransformerMixin, BaseEstimator):
        def fit(self, X, y=None):
            return self

        def transform(self, X):
            return X


class Fragile(TransformerMixin, BaseEstimator):
    """Importable, but its own code fails while the bundle rebuilds it."""

    def fit(self, X, y=None):
        self.seen_ = 1
        return self

    def transform(self, X):
        return X

    def __setstate__(self, state):
        raise AttributeError("Fragile has no attribute 'lookup_table'")
