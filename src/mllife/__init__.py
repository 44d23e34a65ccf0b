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

from typing import TYPE_CHECKING

from ._errors import (
    DataWarning,
    InputError,
    IntegrityError,
    MissingDependencyError,
    MllifeError,
    MllifeWarning,
    ModelError,
    NotFittedError,
    SchemaError,
    TrackingError,
    TrackingWarning,
    TransformerCheckError,
    UntrustedTypeError,
    VersionMismatchWarning,
)
from ._lazy import attach
from ._registry import all_estimators
from ._version import __version__

#: Subpackages, importable as attributes (``mllife.drift.stats``).
SUBPACKAGES = (
    "audit", "baselines", "bundle", "datasets", "drift", "evaluation", "experiments",
    "features", "monitor", "problem", "report", "scale", "serve", "split", "testing",
    "tracking",
)

_LAZY: dict[str, str] = {name: f".{name}" for name in SUBPACKAGES}
_LAZY.update(
    {
        # report
        "Report": ".report", "Finding": ".report", "Plot": ".report",
        # datasets
        "make_churn": ".datasets", "make_churn_events": ".datasets",
        # phase 1: problem
        "ProblemSpec": ".problem", "SuccessCriteria": ".problem",
        # phase 2: audit (``mllife.audit(df)`` works too: the package is callable)
        "profile": ".audit", "AuditReport": ".audit", "register_check": ".audit",
        "unregister_check": ".audit", "registered_checks": ".audit",
        # phase 3: cleaning and features
        "NullLikeToNaN": ".features", "DatetimeParser": ".features",
        "StringNormalizer": ".features", "Cleaner": ".features",
        "DateTimeFeatures": ".features", "RatioFeatures": ".features",
        "AggregateFeatures": ".features",
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
        "register_statistic": ".drift", "unregister_statistic": ".drift",
        "registered_statistics": ".drift",
        # phase 7: monitoring
        "Monitor": ".monitor", "MonitorReport": ".monitor", "RetrainPolicy": ".monitor",
        "RetrainDecision": ".monitor", "retrain": ".monitor", "RetrainResult": ".monitor",
    }
)

if TYPE_CHECKING:
    # What type checkers and IDEs see: the real signatures. At run time nothing here is
    # imported; ``__getattr__`` loads each name of ``_LAZY`` on first use (tests/test_typing.py
    # checks that both list the same names and that mypy accepts a user's script).
    import types

    from . import audit as _audit_package
    from . import baselines as baselines
    from . import bundle as bundle
    from . import datasets as datasets
    from . import drift as drift
    from . import evaluation as evaluation
    from . import experiments as experiments
    from . import features as features
    from . import monitor as monitor
    from . import problem as problem
    from . import report as report
    from . import scale as scale
    from . import serve as serve
    from . import split as _split_package
    from . import testing as testing
    from . import tracking as tracking
    from .audit import AuditReport as AuditReport
    from .audit import profile as profile
    from .audit import register_check as register_check
    from .audit import registered_checks as registered_checks
    from .audit import unregister_check as unregister_check
    from .baselines import MovingAverageForecaster as MovingAverageForecaster
    from .baselines import NaiveForecaster as NaiveForecaster
    from .baselines import RuleClassifier as RuleClassifier
    from .baselines import RuleRegressor as RuleRegressor
    from .baselines import SeasonalNaiveForecaster as SeasonalNaiveForecaster
    from .baselines import baseline as baseline
    from .bundle import InputSchema as InputSchema
    from .bundle import ModelBundle as ModelBundle
    from .bundle import load_bundle as load_bundle
    from .datasets import make_churn as make_churn
    from .datasets import make_churn_events as make_churn_events
    from .drift import DriftProfile as DriftProfile
    from .drift import DriftReport as DriftReport
    from .drift import drift_report as drift_report
    from .drift import register_statistic as register_statistic
    from .drift import registered_statistics as registered_statistics
    from .drift import unregister_statistic as unregister_statistic
    from .evaluation import ChampionChallengerResult as ChampionChallengerResult
    from .evaluation import EvaluationReport as EvaluationReport
    from .evaluation import compare_champion as compare_champion
    from .evaluation import evaluate as evaluate
    from .experiments import ComparisonReport as ComparisonReport
    from .experiments import compare_models as compare_models
    from .features import AggregateFeatures as AggregateFeatures
    from .features import Cleaner as Cleaner
    from .features import DateTimeFeatures as DateTimeFeatures
    from .features import DatetimeParser as DatetimeParser
    from .features import NullLikeToNaN as NullLikeToNaN
    from .features import RareCategoryGrouper as RareCategoryGrouper
    from .features import RatioFeatures as RatioFeatures
    from .features import StringNormalizer as StringNormalizer
    from .features import describe_features as describe_features
    from .features import make_preprocessor as make_preprocessor
    from .monitor import Monitor as Monitor
    from .monitor import MonitorReport as MonitorReport
    from .monitor import RetrainDecision as RetrainDecision
    from .monitor import RetrainPolicy as RetrainPolicy
    from .monitor import RetrainResult as RetrainResult
    from .monitor import retrain as retrain
    from .problem import ProblemSpec as ProblemSpec
    from .problem import SuccessCriteria as SuccessCriteria
    from .report import Finding as Finding
    from .report import Plot as Plot
    from .report import Report as Report
    from .split import DuplicateAwareKFold as DuplicateAwareKFold
    from .split import LeakageReport as LeakageReport
    from .split import PurgedTimeSeriesSplit as PurgedTimeSeriesSplit
    from .split import Split as Split
    from .split import TimeSeriesGroupSplit as TimeSeriesGroupSplit
    from .split import check_leakage as check_leakage

    # ``mllife.audit`` and ``mllife.split`` are packages that are also callable (see
    # ``_lazy.make_callable``); no stub syntax says "this module is callable", so each is
    # typed as a module subclass whose ``__call__`` is the package's function and whose
    # attributes are the package's public names (``mllife.split.PurgedTimeSeriesSplit``).
    class _AuditPackage(types.ModuleType):
        __call__ = staticmethod(_audit_package.audit)
        audit = staticmethod(_audit_package.audit)
        profile = staticmethod(_audit_package.profile)
        register_check = staticmethod(_audit_package.register_check)
        registered_checks = staticmethod(_audit_package.registered_checks)
        unregister_check = staticmethod(_audit_package.unregister_check)
        AuditData = _audit_package.AuditData
        AuditReport = _audit_package.AuditReport
        ColumnInfo = _audit_package.ColumnInfo
        Finding = _audit_package.Finding

    class _SplitPackage(types.ModuleType):
        __call__ = staticmethod(_split_package.split)
        split = staticmethod(_split_package.split)
        check_leakage = staticmethod(_split_package.check_leakage)
        DuplicateAwareKFold = _split_package.DuplicateAwareKFold
        LeakageReport = _split_package.LeakageReport
        PurgedTimeSeriesSplit = _split_package.PurgedTimeSeriesSplit
        Split = _split_package.Split
        TimeSeriesGroupSplit = _split_package.TimeSeriesGroupSplit

    audit: _AuditPackage
    split: _SplitPackage

__getattr__, __dir__, _lazy_all = attach(__name__, _LAZY)

__all__ = [
    "DataWarning",
    "InputError",
    "IntegrityError",
    "ModelError",
    "MllifeError",
    "MllifeWarning",
    "MissingDependencyError",
    "NotFittedError",
    "SchemaError",
    "TrackingError",
    "TrackingWarning",
    "TransformerCheckError",
    "UntrustedTypeError",
    "VersionMismatchWarning",
    "__version__",
    "all_estimators",
    *_lazy_all,
]
