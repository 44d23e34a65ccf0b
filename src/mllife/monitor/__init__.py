"""Monitoring a deployed model: windows, alarms, performance without labels, retraining.

:class:`Monitor` watches a :class:`~mllife.bundle.ModelBundle` in production:
batches of inputs (and the model's outputs) arrive in any size and order and
fall into windows of time or rows; per window it tracks data drift,
prediction drift, confidence, performance estimated without labels (CBPE for
classifiers, DLE for regressors) and realized once labels arrive, data
quality, freshness and operational numbers, each with its statistic,
interval and alarm at a stated false-alarm rate. :meth:`Monitor.report`
returns a :class:`MonitorReport`; :class:`RetrainPolicy` turns a monitor into
a :class:`RetrainDecision`; :func:`retrain` fits a challenger and promotes it
only when it beats the current bundle (a :class:`RetrainResult`).
"""

from typing import TYPE_CHECKING

from .._lazy import attach

_LAZY = {
    "Monitor": "._monitor",
    "MonitorReport": "._report",
    "RetrainPolicy": "._policy",
    "RetrainDecision": "._policy",
    "retrain": "._retrain",
    "RetrainResult": "._retrain",
}

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time _LAZY loads each name on first use
    from ._monitor import Monitor as Monitor
    from ._policy import RetrainDecision as RetrainDecision
    from ._policy import RetrainPolicy as RetrainPolicy
    from ._report import MonitorReport as MonitorReport
    from ._retrain import RetrainResult as RetrainResult
    from ._retrain import retrain as retrain

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
