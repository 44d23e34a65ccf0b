"""Honest baselines: guess the mean or the mode, write the if-statements, repeat the past.

Every estimator here is a scikit-learn estimator (clone, Pipeline,
``cross_validate``) and passes scikit-learn's ``check_estimator``.
"""

from typing import TYPE_CHECKING

from .._lazy import attach

_LAZY = {
    "baseline": "._baseline",
    "RuleClassifier": "._rules",
    "RuleRegressor": "._rules",
    "NaiveForecaster": "._forecast",
    "MovingAverageForecaster": "._forecast",
    "SeasonalNaiveForecaster": "._forecast",
}

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time _LAZY loads each name on first use
    from ._baseline import baseline as baseline
    from ._forecast import MovingAverageForecaster as MovingAverageForecaster
    from ._forecast import NaiveForecaster as NaiveForecaster
    from ._forecast import SeasonalNaiveForecaster as SeasonalNaiveForecaster
    from ._rules import RuleClassifier as RuleClassifier
    from ._rules import RuleRegressor as RuleRegressor

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
