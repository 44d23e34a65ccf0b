"""Instances and expected failures for the baseline estimators."""

from __future__ import annotations

from mllife.baselines import RuleClassifier, RuleRegressor, SeasonalNaiveForecaster

INSTANCES = {
    "RuleClassifier": [RuleClassifier(), RuleClassifier(rules=[("x0 > 0", 1)], default=0)],
    "RuleRegressor": [RuleRegressor(), RuleRegressor(rules=[("x0 > 0", 1.0), ("x1 < -1", -1.0)])],
    "SeasonalNaiveForecaster": [SeasonalNaiveForecaster(season=3)],
}

EXPECTED_FAILED_CHECKS = {
    "RuleClassifier": {
        # Only instances with rules: RuleClassifier() without rules must pass the check.
        "__applies__": lambda estimator: bool(estimator.rules),
        "check_classifiers_classes": (
            "classes_ is the union of y's labels and the labels the rules output, so rules "
            "that output 0/1 cannot give classes_ == np.unique(y) for y labelled 'one'/'two' "
            "or -1/1 (RuleClassifier() without rules passes it)"
        ),
    },
    "SeasonalNaiveForecaster": {
        "check_methods_subset_invariance": (
            "a row's forecast horizon is its position in X (row h is h periods after the "
            "training window), so predicting a subset of rows shifts their horizons and the "
            "seasonal value one season back differs"
        ),
        "check_methods_sample_order_invariance": (
            "a row's forecast horizon is its position in X, so reordering the rows changes "
            "which value one season back each row gets"
        ),
    },
}
