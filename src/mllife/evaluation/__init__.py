"""Evaluate a fitted model like a sceptic, and decide champion against challenger.

:func:`evaluate` answers in one call: is the model good, where does it fail,
is it suspiciously good, does it hold on recent data, is it fair across
groups, why does it predict what it predicts, is it fast and small enough, and
does it meet the :class:`~mllife.SuccessCriteria` written down in phase 1.
"""

from .._lazy import attach

_LAZY = {
    "evaluate": "._evaluate",
    "EvaluationReport": "._report",
    "compare_champion": "._champion",
    "ChampionChallengerResult": "._champion",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
