"""The periods of the metric by period: calendar periods, or bins of integer time.

A period is never finer than the data: annual data (one date a year, integer
years, ``period[Y]``) gives years labelled ``1980``, not quarters; monthly
data gives months. Within that, the period length follows the time span and
is made coarser while periods would hold few rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._frame import is_numeric
from .._time import period_unit

#: Periods are made coarser while they would hold fewer rows than this on average.
MIN_PERIOD_ROWS = 30
#: At most this many bins of integer time before the rows decide.
MAX_NUMBER_PERIODS = 40
_ORDER = ("h", "D", "W", "M", "Q", "Y")
_DAYS = {"h": 1 / 24, "D": 1.0, "W": 7.0, "M": 365.25 / 12, "Q": 365.25 / 4, "Y": 365.25}


def _resolution(time: pd.Series) -> str | None:
    """The calendar unit the times are sampled at, when it is a day or coarser.

    ``"Y"`` when consecutive distinct times are about a year apart and no year
    holds two of them (the date within the year does not matter), likewise
    ``"Q"``, ``"M"`` and ``"D"``; ``None`` for times finer than days.
    """
    distinct = np.unique(time.dropna().to_numpy(dtype="datetime64[ns]"))
    if len(distinct) < 2:
        return None
    median_gap = float(np.median(np.diff(distinct).astype(np.int64))) / 86_400e9
    index = pd.DatetimeIndex(distinct)
    for unit in ("Y", "Q", "M", "D"):
        if median_gap >= 0.8 * _DAYS[unit] and index.to_period(unit).nunique() == len(distinct):
            return unit
    return None


def period_freq(time: pd.Series, *, unit: str | None = None) -> str:
    """A period length that gives a readable number of periods for the time span.

    ``unit`` is the finest period allowed (the unit of a ``Period`` column);
    without it, the sampling of the times decides (see :func:`_resolution`).
    """
    span = time.max() - time.min()
    days = span.total_seconds() / 86_400 if pd.notna(span) else 0.0
    if days <= 2:
        freq = "h"
    elif days <= 45:
        freq = "D"
    elif days <= 200:
        freq = "W"
    elif days <= 3 * 365:
        freq = "M"
    else:
        freq = "Q"
    floor = unit if unit in _ORDER else _resolution(time)
    if floor is not None and _ORDER.index(floor) > _ORDER.index(freq):
        freq = floor
    # Coarser periods when they would average under MIN_PERIOD_ROWS rows (3 rows a week
    # say nothing), as long as at least 3 periods remain.
    n = int(time.notna().sum())
    for coarser in _ORDER[_ORDER.index(freq) + 1:]:
        n_periods = time.dt.to_period(freq).nunique()
        if n_periods == 0 or n / n_periods >= MIN_PERIOD_ROWS:
            break
        if time.dt.to_period(coarser).nunique() < 3:
            break
        freq = coarser
    return freq


def _nice_widths(limit: float) -> list[int]:
    """1, 2, 5, 10, 20, 50, ... up to the first width >= ``limit``."""
    widths = [1]
    while widths[-1] < limit:
        last = widths[-1]
        widths.append(last * 5 // 2 if str(last)[0] == "2" else last * 2)
    return widths


def _number_periods(values: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray, str]:
    """Bins of integer time of a nice width (1, 2, 5, 10...): ``1980`` or ``1980-1984``."""
    ints = values.astype(np.int64)
    widths = _nice_widths(float(ints.max() - ints.min() + 1))
    n_bins = [len(np.unique(ints // w)) for w in widths]
    i = next(j for j, k in enumerate(n_bins) if k <= MAX_NUMBER_PERIODS)
    while (i + 1 < len(widths) and len(ints) / n_bins[i] < MIN_PERIOD_ROWS
           and n_bins[i + 1] >= 3):
        i += 1
    width = widths[i]
    starts, codes = np.unique(ints // width * width, return_inverse=True)
    if width == 1:
        labels = [str(s) for s in starts]
    else:
        sep = "-" if starts.min() >= 0 else ".."
        labels = [f"{s}{sep}{s + width - 1}" for s in starts]
    return codes.astype(np.int64).ravel(), labels, starts, str(width)


def time_periods(time: pd.Series) -> tuple[np.ndarray, list[str], Any, str]:
    """The period of each time (none missing): codes, labels, starts and the period length.

    ``time`` is what :func:`as_time` returns. Codes follow time order;
    ``starts`` are period start timestamps, or the first integer of each bin.
    """
    if is_numeric(time):
        return _number_periods(time.to_numpy(dtype=np.float64))
    unit = None
    if isinstance(time.dtype, pd.PeriodDtype):
        unit = period_unit(time.dtype)
        time = time.dt.start_time
    freq = period_freq(time, unit=unit)
    codes, uniques = pd.factorize(time.dt.to_period(freq), sort=True)
    return codes.astype(np.int64), [str(u) for u in uniques], uniques.start_time, freq
