"""Experiment tracking: log mllife's reports, analyses and bundles to MLflow (or any tracker).

:func:`log_report` logs any report's headline numbers, tables, findings and
HTML as one run; ``compare_models``, ``evaluate``, ``compare_champion``,
``drift_report`` and ``Monitor.report`` do it themselves given ``tracker=``;
:func:`log_bundle` logs a bundle as an MLflow model. :class:`Tracker` is the
protocol a backend implements; :class:`MlflowTracker` is the MLflow one.

MLflow is the optional extra ``pip install "mllife[mlflow]"``: ``import mllife``
and ``import mllife.tracking`` never import it, only making or using an
:class:`MlflowTracker` does.
"""

from typing import TYPE_CHECKING

from .._errors import TrackingError, TrackingWarning
from .._lazy import attach

_LAZY = {
    "Tracker": "._protocol",
    "MlflowTracker": "._mlflow",
    "log_report": "._log",
    "log_bundle": "._bundle",
}

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time _LAZY loads each name on first use
    from ._bundle import log_bundle as log_bundle
    from ._log import log_report as log_report
    from ._mlflow import MlflowTracker as MlflowTracker
    from ._protocol import Tracker as Tracker

__getattr__, __dir__, _lazy_all = attach(__name__, _LAZY)

__all__ = ["TrackingError", "TrackingWarning", *_lazy_all]
