"""Model comparison: every candidate and the baseline on the same folds, in one table.

``compare_models`` cross-validates several models and reports score, fit
time, predict latency, size and lift over the baseline as a
``ComparisonReport``.
"""

from .._lazy import attach

_LAZY = {
    "compare_models": "._compare",
    "ComparisonReport": "._report",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
