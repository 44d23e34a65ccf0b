"""Conversion of analysis results to JSON-safe Python values."""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from enum import Enum
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd


def jsonable(obj: Any) -> Any:
    """Return ``obj`` as plain JSON types.

    numpy scalars become Python numbers, NaN/NaT/inf become ``None`` (JSON has
    no NaN), timestamps become ISO strings, DataFrames become lists of records,
    tuples and sets become lists, and mapping keys become strings.

    Examples
    --------
    >>> import numpy as np
    >>> jsonable({"a": np.int64(3), "b": float("nan"), 1: (np.float32(0.5),)})
    {'a': 3, 'b': None, '1': [0.5]}
    """
    if obj is None or isinstance(obj, bool | str):
        return obj
    if isinstance(obj, int | np.integer) and not isinstance(obj, bool):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, float | np.floating):
        value = float(obj)
        return value if math.isfinite(value) else None
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, pd.DataFrame):
        frame = obj.reset_index(drop=True)
        return [
            {str(c): jsonable(v) for c, v in zip(frame.columns, row, strict=True)}
            for row in frame.itertuples(index=False, name=None)
        ]
    if isinstance(obj, pd.Series):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, list | tuple | set | frozenset):
        items = sorted(obj, key=repr) if isinstance(obj, set | frozenset) else obj
        return [jsonable(v) for v in items]
    if obj is pd.NaT or obj is pd.NA:
        return None
    if isinstance(obj, pd.Timestamp | _dt.datetime | _dt.date | _dt.time):
        return obj.isoformat()
    if isinstance(obj, pd.Timedelta | _dt.timedelta):
        return pd.Timedelta(obj).isoformat()
    if isinstance(obj, pd.Interval):
        return str(obj)
    if isinstance(obj, PurePath):
        return str(obj)
    if isinstance(obj, Enum):
        return jsonable(obj.value)
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return jsonable(obj.to_dict())
    try:
        if pd.isna(obj):
            return None
    except (TypeError, ValueError):
        pass
    return str(obj)
