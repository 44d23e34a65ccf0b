"""A current sample known only by its profile, read by the drift engine as a frame.

The drift engine compares a reference profile against a current *frame*.
When the current data went through a profile (a Dask frame: its rows never
reach the client), :class:`ProfileFrame` stands in for the frame: it has the
profile's columns and row count, and gives each column, when the engine asks
for it, as a series holding the same multiset of values (one column at a
time, so memory stays near one column's values). A column kept exactly gives
back exactly its values (sorted: order does not matter to the engine); a
sketched column gives each of its ``K`` sketch points repeated by its weight
``n / K`` rounded to whole rows (cumulatively, so the count is kept), which is
how a monitor's window is compared too (:mod:`mllife.monitor._reference`).
Categories come back as a pandas ``category`` column (codes, not strings).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence

import numpy as np
import pandas as pd

from ._reference import ColumnProfile
from ._sketch import NumericSummary

__all__ = ["DTYPE_ATTR", "ProfileFrame", "dtype_text", "expand_column"]

#: ``Series.attrs`` key of an expanded column's own dtype (the engine names it in a
#: "dtype changed" status; the expansion holds floats or categories).
DTYPE_ATTR = "mllife.profiled_dtype"

_UNITS = (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9))


def seconds_to_times(seconds: np.ndarray, timedelta: bool) -> np.ndarray:
    """Float seconds (as the drift kernels compute them) back to datetime64 / timedelta64.

    The coarsest unit whose integers give back every float exactly is chosen,
    so the engine reads the same seconds again; nanosecond times beyond float
    precision are nudged to an integer that rounds to the same float.
    """
    kind = "m8" if timedelta else "M8"
    if seconds.size == 0:
        return np.zeros(0, dtype=f"{kind}[s]")
    for unit, scale in _UNITS:
        ints = np.round(seconds / scale)
        if np.all(ints * scale == seconds) and np.all(np.abs(ints) < 9.2e18):
            return ints.astype(np.int64).view(f"{kind}[{unit}]")
    ints = np.round(seconds / 1e-9).astype(np.int64)
    off = ints.astype(np.float64) * 1e-9 != seconds
    for step in (1, -1, 2, -2, 4, -4, 8, -8, 16, -16, 32, -32, 64, -64, 128, -128, 256, -256):
        if not off.any():
            break
        trial = ints[off] + step
        hit = trial.astype(np.float64) * 1e-9 == seconds[off]
        idx = np.flatnonzero(off)[hit]
        ints[idx] = trial[hit]
        off[idx] = False
    return ints.view(f"{kind}[ns]")


def dtype_text(series: pd.Series) -> str:
    """The dtype a column had: its own, or the profiled data's for an expanded column."""
    return str(series.attrs.get(DTYPE_ATTR, series.dtype))


def expand_column(col: ColumnProfile, n_rows: int) -> pd.Series:
    """One column's values (a multiset), padded with missing values up to ``n_rows``.

    Numbers come back as floats, times as ``datetime64``/``timedelta64`` (in
    UTC), categories as a ``category`` column; ``attrs[DTYPE_ATTR]`` names the
    profiled data's dtype.
    """
    out = _expanded(col, n_rows)
    out.attrs[DTYPE_ATTR] = col.dtype
    return out


def finite_rows(summary: NumericSummary) -> np.ndarray:
    """A numeric summary's finite values as rows: exact values as they are, each sketch point
    repeated for the ``n / K`` rows it stands for (rounded cumulatively: the total is ``n``)."""
    s = summary
    if s.exact or s.values.size == 0:
        return s.values
    cum = np.round(np.arange(1, s.values.size + 1) * (s.n / s.values.size)).astype(np.int64)
    return np.repeat(s.values, np.diff(cum, prepend=0))


def _expanded(col: ColumnProfile, n_rows: int) -> pd.Series:
    if col.numeric is not None:
        s = col.numeric
        finite = finite_rows(s)
        n_missing = s.n_missing + max(n_rows - s.n_rows, 0)
        if col.family == "datetime":  # inf cannot be a time: there are none
            timedelta = col.dtype.startswith("timedelta")
            times = seconds_to_times(finite, timedelta)
            gap = np.full(n_missing, np.timedelta64("NaT") if timedelta else np.datetime64("NaT"), dtype=times.dtype)
            return pd.Series(np.concatenate([times, gap]), copy=False)
        return pd.Series(np.concatenate([finite, np.full(n_missing, np.nan), np.full(s.n_posinf, np.inf),
                                         np.full(s.n_neginf, -np.inf)]), copy=False)
    c = col.categorical
    assert c is not None
    n_missing = c.n_missing + max(n_rows - c.n_rows, 0)
    width = np.int8 if len(c.labels) < 127 else np.int16 if len(c.labels) < 32_000 else np.int32
    codes = np.repeat(np.arange(len(c.labels), dtype=width), np.round(c.counts).astype(np.int64))
    codes = np.concatenate([codes, np.full(n_missing, -1, dtype=width)])
    return pd.Series(pd.Categorical.from_codes(codes, categories=pd.Index(list(c.labels), dtype=object)), copy=False)


class ProfileFrame:
    """The columns of a profiled sample, read by the drift engine as a frame's.

    Supports what the engine reads of a current frame: ``columns``,
    ``len()``, ``frame[name]`` (a series: see :func:`expand_column`) and
    ``name in frame.columns``.
    """

    def __init__(self, columns: Sequence[ColumnProfile], *, n_rows: int) -> None:
        self._profiles = {c.name: c for c in columns}
        self.columns = pd.Index(list(self._profiles), dtype=object)
        self.n_rows = int(n_rows)

    def __len__(self) -> int:
        return self.n_rows

    def __getitem__(self, name: Hashable) -> pd.Series:
        return expand_column(self._profiles[name], self.n_rows).rename(name)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._profiles)

    def profile(self, name: Hashable) -> ColumnProfile:
        """The profile of one column."""
        return self._profiles[name]

    def __repr__(self) -> str:
        return f"<ProfileFrame: {len(self.columns)} columns, {self.n_rows} rows>"
