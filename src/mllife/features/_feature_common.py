"""What the feature transformers share: frame in, frame out, checked column names.

A DataFrame-oriented transformer still accepts numpy arrays (columns ``x0, x1, ...``)
so scikit-learn's common checks run on it. DataFrame input gives DataFrame output
(same index); array input gives an array, as scikit-learn transformers do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from .._compat import ensure_fitted, validate_data
from .._errors import InputError
from .._frame import as_frame, generated_names


def _reference_input(X: Any, frame: pd.DataFrame) -> Any:
    """What scikit-learn's feature-name bookkeeping should see for ``X``."""
    if isinstance(X, pd.DataFrame | np.ndarray):
        return X
    if isinstance(X, list) and not (X and isinstance(X[0], Mapping)):
        return np.asarray(X, dtype=object)
    if isinstance(X, pd.Series | Mapping | list):
        return frame
    return np.asarray(frame.to_numpy())


def _check_table(X: Any) -> None:
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise InputError("sparse input is not supported", expected="a dense array or DataFrame")
    if isinstance(X, np.ndarray | list) and np.ndim(X) == 1:
        raise InputError(
            "X has 1 dimension; Reshape your data either using X.reshape(-1, 1) if it has "
            "a single feature or X.reshape(1, -1) if it contains a single sample.",
            expected="a 2-D table: a DataFrame or a 2-D array",
        )
    dtype = getattr(X, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.complexfloating):
        raise InputError("Complex data not supported", expected="real numbers")


class FrameTransformer(TransformerMixin, BaseEstimator):
    """Base of the mllife feature transformers (private): the template methods.

    ``fit`` checks the parameters (:meth:`_check_parameters`), checks and
    names the input (:meth:`_fit_frame`) and hands the frame to
    :meth:`_fit`; ``transform`` checks the input against what ``fit`` saw
    (:meth:`_transform_frame`), hands it to :meth:`_transform` and returns a
    DataFrame for DataFrame input, else an array (:meth:`_output`).
    """

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing values stay missing in every subclass
        return tags

    def _check_parameters(self) -> None:
        """Validate the constructor parameters before looking at the data."""

    def _fit(self, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        raise NotImplementedError

    def fit(self, X: Any, y: Any = None) -> Self:
        """Learn from ``X`` what ``transform`` needs (see the class description).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self : the fitted transformer
        """
        self._check_parameters()
        self._fit(self._fit_frame(X))
        return self

    def transform(self, X: Any) -> Any:
        """Transform ``X`` with what ``fit`` learned (see the class description).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)

        Returns
        -------
        DataFrame (for DataFrame input) or ndarray
        """
        frame = self._transform_frame(X)
        return self._output(X, self._transform(frame))

    def _fit_frame(self, X: Any) -> pd.DataFrame:
        _check_table(X)
        frame = as_frame(X)
        if frame.shape[1] == 0:
            raise InputError(
                f"0 feature(s) (shape={frame.shape}) while a minimum of 1 is required."
            )
        if frame.shape[0] == 0:
            raise InputError(
                f"0 sample(s) (shape={frame.shape}) while a minimum of 1 is required."
            )
        validate_data(self, _reference_input(X, frame), reset=True, skip_check_array=True)
        if not hasattr(self, "feature_names_in_"):
            frame = frame.set_axis(generated_names(frame.shape[1]), axis=1)
        return frame

    def __sklearn_is_fitted__(self) -> bool:
        # Every subclass learns ``n_features_in_`` in ``_fit_frame``: a cheap test
        # instead of scanning ``vars(self)`` on every transform.
        return hasattr(self, "n_features_in_")

    def _transform_frame(self, X: Any) -> pd.DataFrame:
        ensure_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        if (isinstance(X, pd.DataFrame) and names is not None and X.shape[1] == len(names)
                and X.columns.tolist() == names.tolist()):
            # The columns seen at fit, in order: what validate_data would accept
            # (fast path for one-row predictions).
            return X
        _check_table(X)
        frame = as_frame(X)
        try:
            validate_data(self, _reference_input(X, frame), reset=False, skip_check_array=True)
        except InputError:
            raise
        except ValueError as exc:  # scikit-learn names the unseen / missing columns
            raise InputError(str(exc)) from None
        names = getattr(self, "feature_names_in_", None)
        expected = list(names) if names is not None else generated_names(self.n_features_in_)
        if list(frame.columns) != expected:
            frame = frame.set_axis(expected, axis=1)
        return frame

    @staticmethod
    def _output(X: Any, out: pd.DataFrame) -> Any:
        """A DataFrame for DataFrame input, else an array."""
        if isinstance(X, pd.DataFrame):
            return out
        if all(pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)
               for t in out.dtypes):
            return out.to_numpy(dtype=np.float64, na_value=np.nan)
        return out.to_numpy()

    def _names_out(self, input_names: list[str]) -> list[str]:
        raise NotImplementedError

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns (the class description says how they are made).

        Parameters
        ----------
        input_features : array-like of str, default=None
            Must equal ``feature_names_in_`` when given.

        Returns
        -------
        ndarray of str
        """
        return np.asarray(self._names_out(self._input_names(input_features)), dtype=object)

    def _input_names(self, input_features: Any = None) -> list[str]:
        ensure_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        fitted = list(names) if names is not None else generated_names(self.n_features_in_)
        if input_features is not None:
            given = [str(c) for c in input_features]
            if len(given) != len(fitted) or (names is not None and given != fitted):
                raise InputError(
                    "input_features is not equal to feature_names_in_",
                    expected=f"{fitted}",
                )
            return given
        return fitted


def select_columns(columns: Any, available: list[str], *, owner: str) -> list[str]:
    """The columns a transformer works on: all of them, or the named ones (checked)."""
    if columns is None:
        return list(available)
    wanted = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in wanted if c not in available]
    if missing:
        shown = ", ".join(repr(c) for c in missing)
        raise InputError(
            f"{owner}: column{'s' if len(missing) > 1 else ''} {shown} not found",
            expected=f"some of the {len(available)} fitted columns",
        )
    return wanted
