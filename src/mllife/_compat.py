"""The one place mllife touches version-dependent scikit-learn / pandas APIs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import sklearn
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = [
    "PANDAS_GE_3",
    "SKLEARN_VERSION",
    "check_is_fitted",
    "ensure_fitted",
    "validate_data",
]

SKLEARN_VERSION = tuple(int(p) for p in sklearn.__version__.split(".")[:2])
PANDAS_GE_3 = int(pd.__version__.split(".")[0]) >= 3


def ensure_fitted(estimator: Any, attributes: Any = None) -> None:
    """``check_is_fitted`` that raises :class:`mllife.NotFittedError`.

    Our error subclasses scikit-learn's, so its checks still recognise it.
    """
    from sklearn.exceptions import NotFittedError as SkNotFitted

    from ._errors import NotFittedError

    try:
        check_is_fitted(estimator, attributes)
    except SkNotFitted as exc:
        raise NotFittedError(str(exc)) from None


def to_numpy_float(values: Any) -> np.ndarray:
    """Values as a float array, pandas NA as NaN."""
    if isinstance(values, pd.Series | pd.DataFrame):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(values, dtype=float)
