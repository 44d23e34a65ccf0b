"""Drift: two-sample statistics, reference profiles and drift reports.

``mllife.drift.stats`` holds the statistics (each returns
``(statistic, p_value or None)``); :class:`DriftProfile` summarises reference
data compactly (quantile sketch, histograms, category counts, missing and inf
counts) so it need not be kept; :func:`drift_report` compares reference and
current data column by column and returns a :class:`DriftReport`.
"""

from .._lazy import attach

_LAZY = {
    "stats": ".stats",
    "register_statistic": "._statistics",
    "DriftProfile": "._profile",
    "DriftReport": "._report",
    "drift_report": "._compare",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
