"""The data mllife's rules run on when the caller gives none."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import as_frame

__all__ = ["check_frame", "describe_data", "read_data"]

#: Rows of the default frame.
N_ROWS = 24


def check_frame() -> pd.DataFrame:
    """The default ``X`` of :func:`~mllife.testing.check_transformer`: small, numeric, with NaN.

    24 rows and four numeric columns named as numpy input is named (so the
    same transformer reads it as a DataFrame and as an array), with missing
    values and an index that is not ``0..n-1``:

    - ``x0``: positive floats, NaN in rows 3, 10, 17;
    - ``x1``: integers from 1 to 9 (``int64``, never missing);
    - ``x2``: codes 0.0, 1.0 and 2.0, NaN in rows 5 and 16;
    - ``x3``: floats of either sign, NaN in row 8;
    - the index: ``1000, 1003, 1006, ...``, named ``"row"``.

    Returns
    -------
    pandas.DataFrame
        A new frame on every call (the same values: it is seeded).

    Examples
    --------
    >>> X = check_frame()
    >>> X.shape, X.dtypes.astype(str).tolist()
    ((24, 4), ['float64', 'int64', 'float64', 'float64'])
    >>> X.isna().sum().tolist(), X.index[:3].tolist()
    ([3, 0, 2, 1], [1000, 1003, 1006])
    """
    rng = np.random.default_rng(0)
    i = np.arange(N_ROWS)
    return pd.DataFrame(
        {
            "x0": np.where(i % 7 == 3, np.nan, rng.lognormal(0.0, 1.0, N_ROWS).round(3) + 0.01),
            "x1": rng.integers(1, 10, N_ROWS).astype(np.int64),
            "x2": np.where(i % 11 == 5, np.nan, rng.integers(0, 3, N_ROWS).astype(np.float64)),
            "x3": np.where(i == 8, np.nan, rng.normal(0.0, 2.0, N_ROWS).round(3)),
        },
        index=pd.Index(1000 + 3 * i, name="row"),
    )


def read_data(X: Any, y: Any) -> tuple[pd.DataFrame, Any]:
    """``X`` as a pandas DataFrame (the default frame when None) and ``y`` checked against it."""
    if X is None:
        frame = check_frame()
    else:
        if isinstance(X, np.ndarray) and X.ndim != 2:
            raise InputError(f"X has {X.ndim} dimension(s)", expected="a 2-D table")
        frame = as_frame(X).copy(deep=True)
    if frame.shape[0] < 2 or frame.shape[1] < 1:
        raise InputError(f"X has shape {frame.shape}",
                         expected="at least 2 rows and 1 column for the checks")
    if y is not None:
        if isinstance(y, pd.DataFrame | pd.Series):
            y = y.copy(deep=True)
        else:
            y = np.array(y, copy=True)
        if len(y) != len(frame):
            raise InputError(f"y has {len(y)} values for {len(frame)} rows of X",
                             expected="one target value per row of X")
    return frame, y


def describe_data(frame: pd.DataFrame, *, default: bool) -> str:
    """One line naming the rows, columns and dtypes the rules ran on."""
    columns = ", ".join(f"{c} ({t})" for c, t in list(frame.dtypes.astype(str).items())[:12])
    more = f" and {frame.shape[1] - 12} more" if frame.shape[1] > 12 else ""
    origin = "the default check frame: " if default else ""
    return f"{origin}{frame.shape[0]} rows × {frame.shape[1]} columns: {columns}{more}"
