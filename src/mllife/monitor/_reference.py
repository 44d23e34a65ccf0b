"""Window profiles: fitting a batch slice in the reference's column families, and expanding
a profile back into a frame the drift engine compares.

The drift engine compares a reference *profile* against a current *frame*.
A window keeps a :class:`~mllife.drift.DriftProfile` (mergeable, bounded),
so :func:`expand_profile` turns it back into a frame holding the same
multiset of values: exactly while the window's column stays within
:data:`WINDOW_EXACT_SIZE` finite values; above that, each of the
:data:`WINDOW_SKETCH_SIZE` sketch points repeated by its weight rounded to
whole rows (the rounding keeps the column's row count).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..drift import DriftProfile
from ..drift._expand import finite_rows, seconds_to_times
from ..drift._profile import fit_profile
from ..drift._reference import ColumnProfile, family_of

__all__ = ["WINDOW_EXACT_SIZE", "WINDOW_N_BINS", "WINDOW_SKETCH_SIZE", "conform",
           "expand_profile", "fit_window_profile"]

#: A window keeps up to this many finite values of a numeric column exactly ...
WINDOW_EXACT_SIZE = 2000
#: ... and a quantile sketch of this many points above: at most about 16 KB per numeric
#: column per window, whatever the window's rows.
WINDOW_SKETCH_SIZE = 1024
#: Histogram bins of window profiles (the engine uses the reference's bins).
WINDOW_N_BINS = 10

def _expand_column(col: ColumnProfile, n_rows: int) -> np.ndarray:
    """One column's values (a multiset), padded with missing values up to ``n_rows``."""
    if col.numeric is not None:
        s = col.numeric
        finite = finite_rows(s)
        n_missing = s.n_missing + max(n_rows - s.n_rows, 0)
        if col.family == "datetime":
            times = seconds_to_times(finite, col.dtype.startswith("timedelta"))
            return np.concatenate([times, np.full(n_missing, np.datetime64("NaT"), dtype=times.dtype)
                                   if not col.dtype.startswith("timedelta")
                                   else np.full(n_missing, np.timedelta64("NaT"), dtype=times.dtype)])
        return np.concatenate([finite, np.full(n_missing, np.nan), np.full(s.n_posinf, np.inf),
                               np.full(s.n_neginf, -np.inf)])
    c = col.categorical
    assert c is not None
    labels = np.asarray(c.labels, dtype=object)
    values = np.repeat(labels, np.round(c.counts).astype(np.int64)) if labels.size else labels
    n_missing = c.n_missing + max(n_rows - c.n_rows, 0)
    return np.concatenate([values, np.full(n_missing, None, dtype=object)])


def expand_profile(profile: DriftProfile, n_rows: int | None = None) -> pd.DataFrame:
    """A frame holding the multiset of values a profile summarises, column by column.

    Exact columns give back exactly their values (sorted; order does not
    matter to the drift engine); sketched columns give each sketch point
    repeated by its weight rounded to whole rows. A column with fewer rows
    than ``n_rows`` (absent from some batches of the window) is padded with
    missing values: its values were missing there.

    Parameters
    ----------
    profile : DriftProfile
    n_rows : int, optional
        Rows of the frame (default: the profile's ``n_rows``).

    Returns
    -------
    pandas.DataFrame

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mllife.drift import DriftProfile
    >>> x = pd.DataFrame({"a": [3.0, np.nan, 1.0, np.inf], "c": ["u", "v", None, "u"]})
    >>> out = expand_profile(DriftProfile.fit(x))
    >>> sorted(out["a"].dropna().tolist()), int(out["a"].isna().sum())
    ([1.0, 3.0, inf], 1)
    >>> sorted(out["c"].dropna().tolist()), int(out["c"].isna().sum())
    (['u', 'u', 'v'], 1)
    """
    total = profile.n_rows if n_rows is None else int(n_rows)
    columns = {name: _expand_column(profile[name], total) for name in profile.columns}
    return pd.DataFrame(columns, copy=False)


def _coerced(series: pd.Series, family: str, dtype: str) -> pd.Series:
    """``series`` read as values of ``family`` (what cannot be read becomes missing)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "numeric":
            return pd.to_numeric(series.astype(object), errors="coerce").astype(np.float64)
        if family == "datetime":
            if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
                return pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
            if dtype.startswith("timedelta"):
                return pd.to_timedelta(series.astype(object), errors="coerce")
            return pd.to_datetime(series.astype(object), errors="coerce", utc=True, format="ISO8601")
        return series.astype(object).where(series.notna(), None)


def conform(frame: pd.DataFrame, targets: Mapping[Hashable, tuple[str, str]],
            skip: frozenset[Hashable] = frozenset()) -> pd.DataFrame:
    """``frame`` with each column in the family ``targets`` names (``(family, dtype)``).

    A column that holds another family (text in a numeric column, numbers in
    a categorical one) is read as the target family, values that cannot be
    read becoming missing: so a window profile merges with the next, and the
    drift engine sees the change as a rise in missing values (the schema
    problem itself is a data-quality signal). Columns in ``skip`` (the
    reference's identifiers, never compared) keep no values: all missing.
    The input is never changed; a new frame is returned only when needed.
    """
    changed: dict[Hashable, Any] = {}
    for name in frame.columns:
        if name in skip:
            changed[name] = np.full(len(frame), np.nan)
            continue
        target = targets.get(name)
        if target is None:
            continue
        series = frame[name]
        if series.notna().any() and family_of(series) != target[0]:
            changed[name] = _coerced(series, *target)
    if not changed:
        return frame
    return frame.assign(**{str(k): v for k, v in changed.items()}) if all(
        isinstance(k, str) for k in changed) else _replace(frame, changed)


def _replace(frame: pd.DataFrame, changed: Mapping[Hashable, Any]) -> pd.DataFrame:
    out = frame.copy(deep=False)
    for name, values in changed.items():
        out[name] = values
    return out


def fit_window_profile(frame: pd.DataFrame) -> DriftProfile:
    """The bounded profile of a window slice (see :data:`WINDOW_EXACT_SIZE`)."""
    return fit_profile(frame, exact_size=WINDOW_EXACT_SIZE, sketch_size=WINDOW_SKETCH_SIZE,
                       n_bins=WINDOW_N_BINS, with_kinds=False)


def targets_of(profile: DriftProfile | None) -> dict[Hashable, tuple[str, str]]:
    """``{column: (family, dtype)}`` of the columns of a profile that hold values."""
    if profile is None:
        return {}
    out: dict[Hashable, tuple[str, str]] = {}
    for name in profile.columns:
        col = profile[name]
        if col.summary.n > 0:
            out[name] = (col.family, col.dtype)
    return out
