"""Leakage-safe splitting, time- and group-aware cross-validation, leakage checks.

``mllife.split(df, ...)`` works too: the package is callable as its
:func:`split` function, while ``mllife.split.PurgedTimeSeriesSplit`` and the
other names stay reachable.
"""

from typing import TYPE_CHECKING

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

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time _LAZY loads each name on first use
    from ._kfold import DuplicateAwareKFold as DuplicateAwareKFold
    from ._leakage import check_leakage as check_leakage
    from ._purged import PurgedTimeSeriesSplit as PurgedTimeSeriesSplit
    from ._purged import TimeSeriesGroupSplit as TimeSeriesGroupSplit
    from ._report import LeakageReport as LeakageReport
    from ._split import Split as Split
    from ._split import split as split

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)

make_callable(__name__, "split")
