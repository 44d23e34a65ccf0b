"""The dtype predicates every kind decision starts from.

:mod:`mllife._frame` re-exports them; they live here, below the frame layer,
so that :mod:`mllife._nulls` and :mod:`mllife._columns` (which ``_frame`` calls
for :func:`~mllife._frame.infer_kind`) need not import ``_frame``.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["is_bool", "is_datetime", "is_numeric", "is_string_like"]


def is_bool(s: pd.Series) -> bool:
    """True for boolean dtypes (numpy bool and pandas ``boolean``)."""
    return pd.api.types.is_bool_dtype(s.dtype)


def is_numeric(s: pd.Series) -> bool:
    """True for int/float dtypes, booleans excluded."""
    return pd.api.types.is_numeric_dtype(s.dtype) and not is_bool(s)


def is_datetime(s: pd.Series) -> bool:
    """True for datetime64 dtypes, with or without time zone."""
    return isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(s.dtype)


def is_string_like(s: pd.Series) -> bool:
    """True for object, ``str``/``string`` and categorical dtypes."""
    dtype = s.dtype
    return (
        pd.api.types.is_object_dtype(dtype)
        or isinstance(dtype, pd.StringDtype | pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(dtype)
    )
