"""Leakage-safe splitting, time- and group-aware cross-validation, leakage checks.

``mllife.split(df, ...)`` works too: the package is callable as its
:func:`split` function, while ``mllife.split.PurgedTimeSeriesSplit`` and the
other names stay reachable.
"""

from .._lazy import attach, make_callable

_LAZY = {
    "split": "._split",
    "Split": "._split",
    "check_leakage": "._leakage",
    "LeakageReport": "._report",
    "PurgedTimeSeriesSplit": "._purged",
    "TimeSeriesGroupSplit": "._purged",
    "DuplicateAwareKFold": "._kfold",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

make_callable(__name__, "split")
