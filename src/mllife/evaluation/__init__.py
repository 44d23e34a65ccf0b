"""Evaluate a fitted model like a sceptic, and decide champion against challenger.

:func:`evaluate` answers in one call: is the model good, where does it fail,
is it suspiciously good, does it hold on recent data, is it fair across
groups, why does it predict what it predicts, is it fast and small enough, and
does it meet the :class:`~mllife.SuccessCriteria` written down in phase 1.
"""

from typing import TYPE_CHECKING

from .._lazy import attach

_LAZY = {
    "evaluate": "._evaluate",
    "EvaluationReport": "._report",
    "compare_champion": "._champion",
    "ChampionChallengerResult": "._champion",
}

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time _LAZY loads each name on first use
    from ._champion import ChampionChallengerResult as ChampionChallengerResult
    from ._champion import compare_champion as compare_champion
    from ._evaluate import evaluate as evaluate
    from ._report import EvaluationReport as EvaluationReport

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
