"""Two stateless casting steps of :func:`make_preprocessor`'s pipelines.

They used to be ``FunctionTransformer(func)`` steps, but a bundle that holds a
function is a bundle whose loader must trust that function; a transformer
class whose only state is its fitted column names holds no code a file can
redirect. Their full names (``mllife.features._casts.AsFloat``) are written
into bundles, so they stay where they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._frame import as_frame, is_bool, is_numeric

__all__ = ["AsFloat", "AsText"]


def _is_plain_text(dtype: Any) -> bool:
    """A string dtype whose missing value is NaN (pandas 3's default ``str``)."""
    return isinstance(dtype, pd.StringDtype) and dtype.na_value is np.nan


class _Cast(TransformerMixin, BaseEstimator):
    """Column-wise cast: same columns out as in, no parameters."""

    def fit(self, X: Any, y: Any = None) -> _Cast:
        """Record the input columns.

        Parameters
        ----------
        X : DataFrame or array-like
        y : ignored

        Returns
        -------
        self
        """
        frame = as_frame(X)
        self.n_features_in_ = frame.shape[1]
        if isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns):
            self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The input names, unchanged (one column out per column in).

        Parameters
        ----------
        input_features : array-like of str, optional

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self, "n_features_in_")
        if input_features is not None:
            return np.asarray(input_features, dtype=object)
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return np.asarray(names, dtype=object)
        return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)

    def transform(self, X: Any) -> Any:
        """Cast every column; a DataFrame stays a DataFrame, an array an array.

        Parameters
        ----------
        X : DataFrame or array-like

        Returns
        -------
        DataFrame or ndarray
        """
        check_is_fitted(self, "n_features_in_")
        frame = as_frame(X)
        result = self._cast(frame, X)
        if result is X:
            return X
        return result if isinstance(X, pd.DataFrame) else result.to_numpy()

    def _cast(self, frame: pd.DataFrame, original: Any) -> Any:
        raise NotImplementedError  # each subclass casts one way

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.requires_fit = True
        return tags


class AsFloat(_Cast):
    """Booleans as 0/1 and durations as seconds, missing as NaN.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"ok": [True, False, None], "wait": pd.to_timedelta([1, 2, None], "s")})
    >>> AsFloat().fit(X).transform(X)
        ok  wait
    0  1.0   1.0
    1  0.0   2.0
    2  NaN   NaN
    """

    def _cast(self, frame: pd.DataFrame, original: Any) -> Any:
        out = {}
        for col in frame.columns:
            s = frame[col]
            if pd.api.types.is_timedelta64_dtype(s.dtype):
                out[col] = s.dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
            elif is_bool(s) or is_numeric(s):
                out[col] = s.to_numpy(dtype=float, na_value=np.nan)
            else:  # object booleans (True/False/None)
                out[col] = s.map({True: 1.0, False: 0.0}, na_action="ignore").to_numpy(
                    dtype=float, na_value=np.nan)
        return pd.DataFrame(out, index=frame.index, columns=frame.columns)


class AsText(_Cast):
    """Categories as Python strings, missing as NaN, so encoders see one type.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"plan": pd.Series(["a", None, "b"], dtype="category")})
    >>> AsText().fit(X).transform(X)["plan"].tolist()
    ['a', nan, 'b']
    """

    def _cast(self, frame: pd.DataFrame, original: Any) -> Any:
        if isinstance(original, pd.DataFrame) and all(_is_plain_text(t) for t in frame.dtypes):
            return original  # already Python strings with NaN: nothing to convert
        out = {}
        for col in frame.columns:
            s = frame[col]
            if isinstance(s.dtype, pd.StringDtype):
                out[col] = s.to_numpy(dtype=object, na_value=np.nan)
                continue
            present = s.notna()
            values = s.astype("string").to_numpy(dtype=object, na_value=np.nan)
            if not present.all():
                values[~present.to_numpy()] = np.nan
            out[col] = values
        return pd.DataFrame(out, index=frame.index, columns=frame.columns)
