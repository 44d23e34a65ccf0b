"""Drift: two-sample statistics, reference profiles and drift reports.

``mllife.drift.stats`` holds the statistics (each returns
``(statistic, p_value or None)``); :class:`DriftProfile` summarises reference
data compactly (quantile sketch, histograms, category counts, missing and inf
counts) so it need not be kept; :func:`drift_report` compares reference and
current data column by column and returns a :class:`DriftReport`.
:func:`register_statistic` adds a user statistic, :func:`unregister_statistic`
removes it, and ``with registered_statistics():`` scopes registrations.
"""

from typing import TYPE_CHECKING

from .._lazy import attach

_LAZY = {
    "stats": ".stats",
    "register_statistic": "._statistics",
    "unregister_statistic": "._registry",
    "registered_statistics": "._registry",
    "DriftProfile": "._profile",
    "DriftReport": "._report",
    "drift_report": "._compare",
}

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time _LAZY loads each name on first use
    from . import stats as stats
    from ._compare import drift_report as drift_report
    from ._profile import DriftProfile as DriftProfile
    from ._registry import registered_statistics as registered_statistics
    from ._registry import unregister_statistic as unregister_statistic
    from ._report import DriftReport as DriftReport
    from ._statistics import register_statistic as register_statistic

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
