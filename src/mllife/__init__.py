"""mllife: building blocks for the whole machine-learning lifecycle.

Define the problem, audit the data, split it without leakage, engineer
features, start from honest baselines, evaluate like a sceptic, bundle the
model with its input contract, and watch it drift in production.

Everything public is importable from here; heavy dependencies (shap,
fairlearn, imbalanced-learn, matplotlib, skops) load on first use only.

Examples
--------
>>> import mllife
>>> data = mllife.make_churn(500, random_state=0)
>>> data.frame.shape[0]
500
"""

from __future__ import annotations

from ._errors import (
    DataWarning,
    InputError,
    IntegrityError,
    MllifeError,
    MllifeWarning,
    ModelError,
    NotFittedError,
    SchemaError,
    UntrustedTypeError,
    VersionMismatchWarning,
)
from ._lazy import attach
from ._registry import all_estimators
from ._version import __version__

#: Subpackages, importable as attributes (``mllife.drift.stats``).
SUBPACKAGES = (
    "audit", "baselines", "bundle", "datasets", "drift", "evaluation", "experiments",
    "features", "problem", "report", "split",
)

_LAZY: dict[str, str] = {name: f".{name}" for name in SUBPACKAGES}
_LAZY.update(
    {
        # report
        "Report": ".report", "Finding": ".report", "Plot": ".report",
        # datasets
        "make_churn": ".datasets",
        # phase 1: problem
        "ProblemSpec": ".problem", "SuccessCriteria": ".problem",
        # phase 2: audit (``mllife.audit(df)`` works too: the package is callable)
        "profile": ".audit", "AuditReport": ".audit", "register_check": ".audit",
        # phase 3: cleaning and features
        "NullLikeToNaN": ".features", "DatetimeParser": ".features",
        "StringNormalizer": ".features", "Cleaner": ".features",
        "DateTimeFeatures": ".features", "RatioFeatures": ".features",
        "RareCategoryGrouper": ".features", "make_preprocessor": ".features",
        "describe_features": ".features",
        # phase 3: splitting (``mllife.split(df)`` works too: the package is callable)
        "Split": ".split", "LeakageReport": ".split", "check_leakage": ".split",
        "PurgedTimeSeriesSplit": ".split", "TimeSeriesGroupSplit": ".split",
        "DuplicateAwareKFold": ".split",
        # phase 4: baselines and comparison
        "baseline": ".baselines", "RuleClassifier": ".baselines", "RuleRegressor": ".baselines",
        "NaiveForecaster": ".baselines", "MovingAverageForecaster": ".baselines",
        "SeasonalNaiveForecaster": ".baselines",
        "compare_models": ".experiments", "ComparisonReport": ".experiments",
        # phase 5: evaluation
        "evaluate": ".evaluation", "EvaluationReport": ".evaluation",
        "compare_champion": ".evaluation", "ChampionChallengerResult": ".evaluation",
        # phase 6: bundle
        "InputSchema": ".bundle", "ModelBundle": ".bundle", "load_bundle": ".bundle",
        # phase 7: drift
        "DriftProfile": ".drift", "DriftReport": ".drift", "drift_report": ".drift",
        "register_statistic": ".drift",
    }
)

__getattr__, __dir__, _lazy_all = attach(__name__, _LAZY)

__all__ = [
    "DataWarning",
    "InputError",
    "IntegrityError",
    "ModelError",
    "MllifeError",
    "MllifeWarning",
    "NotFittedError",
    "SchemaError",
    "UntrustedTypeError",
    "VersionMismatchWarning",
    "__version__",
    "all_estimators",
    *_lazy_all,
]
