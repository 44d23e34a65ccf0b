"""Input validation shared by the baseline estimators.

Baselines look at their input as a DataFrame (rules are pandas queries,
forecasters only count rows), so a DataFrame is checked for feature names and
shape without being converted to a numpy array; anything else goes through
scikit-learn's ``check_array`` (so its common checks see the messages they
expect) and becomes a frame with columns ``x0, x1, ...``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array, column_or_1d

from .._compat import validate_data
from .._errors import InputError
from .._frame import as_frame, from_native, generated_names, is_native


def check_frame(estimator: Any, X: Any, *, reset: bool) -> pd.DataFrame:
    """``X`` as a DataFrame, with ``n_features_in_``/``feature_names_in_`` set or checked.

    Values are not converted: any dtype and NaN are allowed, because the
    baselines either evaluate queries on the frame or ignore its values. A
    frame whose column names are not all strings gets the names ``x0, x1, ...``
    (a query cannot name a column ``0``).
    """
    if is_native(X):  # polars / pyarrow: one conversion, then checked as pandas
        X = as_frame(X)
    if isinstance(X, pd.DataFrame):
        validate_data(estimator, X, reset=reset, skip_check_array=True)
        n_rows, n_cols = X.shape
        if n_rows == 0 or n_cols == 0:
            which = "sample" if n_rows == 0 else "feature"
            raise InputError(
                f"Found array with 0 {which}(s) (shape={X.shape}) while a minimum of 1 is required."
            )
        if not all(isinstance(c, str) for c in X.columns):
            # Queries can only name string columns: others get the numpy names.
            return X.set_axis(generated_names(n_cols), axis=1)
        return X
    arr = validate_data(estimator, X, reset=reset, dtype=None, ensure_all_finite=False)
    return pd.DataFrame(arr, columns=generated_names(arr.shape[1]))


def check_target(y: Any, n_rows: int, *, numeric: bool) -> np.ndarray:
    """``y`` as a finite 1-D array of ``n_rows`` values (a column vector warns)."""
    if y is None:
        raise InputError("requires y to be passed, but the target y is None", expected="a target")
    if is_native(y):
        y = from_native(y, name="y")
    values = y.to_numpy() if isinstance(y, pd.Series | pd.DataFrame) else y
    values = column_or_1d(values, warn=True)
    values = check_array(
        values, ensure_2d=False, dtype="numeric" if numeric else None, input_name="y",
        ensure_min_samples=1,
    )
    if values.shape[0] != n_rows:
        raise InputError(
            f"y has {values.shape[0]} values but X has {n_rows} rows",
            expected="one target value per row of X",
        )
    return values
