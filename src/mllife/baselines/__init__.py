"""Honest baselines: guess the mean or the mode, write the if-statements, repeat the past.

Every estimator here is a scikit-learn estimator (clone, Pipeline,
``cross_validate``) and passes scikit-learn's ``check_estimator``.
"""

from .._lazy import attach

_LAZY = {
    "baseline": "._baseline",
    "RuleClassifier": "._rules",
    "RuleRegressor": "._rules",
    "NaiveForecaster": "._forecast",
    "MovingAverageForecaster": "._forecast",
    "SeasonalNaiveForecaster": "._forecast",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
