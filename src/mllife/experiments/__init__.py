"""Model comparison: every candidate and the baseline on the same folds, in one table.

``compare_models`` cross-validates several models and reports score, fit
time, predict latency, size and lift over the baseline as a
``ComparisonReport``.
"""

from typing import TYPE_CHECKING

from .._lazy import attach

_LAZY = {
    "compare_models": "._compare",
    "ComparisonReport": "._report",
}

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time _LAZY loads each name on first use
    from ._compare import compare_models as compare_models
    from ._report import ComparisonReport as ComparisonReport

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
