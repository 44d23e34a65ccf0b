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

from .._errors import InputError
from .._frame import is_bool, is_numeric
from ._base import FrameTransformer

__all__ = ["AsFloat", "AsText"]


def _is_plain_text(dtype: Any) -> bool:
    """A string dtype whose missing value is NaN (pandas 3's default ``str``)."""
    return isinstance(dtype, pd.StringDtype) and dtype.na_value is np.nan


class _Cast(FrameTransformer):
    """Column-wise cast: same columns out as in, no parameters, nothing learned."""

    _text_input = True


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

    def _step_label(self) -> str:
        return "as 0/1 or seconds"

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for col in frame.columns:
            s = frame[col]
            if pd.api.types.is_timedelta64_dtype(s.dtype):
                out[col] = s.dt.total_seconds().to_numpy(dtype=float, na_value=np.nan)
            elif is_bool(s) or is_numeric(s):
                out[col] = s.to_numpy(dtype=float, na_value=np.nan)
            else:  # object booleans (True/False/None)
                try:
                    mapped = s.map({True: 1.0, False: 0.0}, na_action="ignore")
                except TypeError:  # unhashable cells: lists, dicts, arrays
                    raise InputError("holds nested values (lists, dicts)", column=col,
                                     expected="booleans, numbers or durations") from None
                out[col] = mapped.to_numpy(dtype=float, na_value=np.nan)
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

    def _step_label(self) -> str:
        return "as text"

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        if all(_is_plain_text(t) for t in frame.dtypes):
            return frame  # already Python strings with NaN: nothing to convert (the base copies)
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
