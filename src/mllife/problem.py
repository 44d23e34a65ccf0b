"""Phase 1, defining the problem: :class:`ProblemSpec` and :class:`SuccessCriteria`.

Write down, before any model exists, what is predicted, for which unit, how
the data must be split and what "good enough" means. The criteria are then
checked against a report (:func:`mllife.evaluate`, :func:`mllife.compare_models`,
:func:`mllife.compare_champion`) as the pre-deployment checklist, and the spec
is passed as ``spec=`` to the calls that need its target, task, columns,
positive label or criteria.

The names live in private modules that follow the lifecycle: the metric
vocabulary (``mllife._metrics``), the task rule (``mllife._task``), the
criteria (``mllife._criteria``) and the problem statement
(``mllife._problem_spec``). This module is their public address.
"""

from __future__ import annotations

from ._criteria import METRICS, SuccessCriteria, _criteria_from_dict, normalize_metric_name
from ._problem_spec import TASKS, ProblemSpec, _spec_from_dict

__all__ = ["METRICS", "TASKS", "ProblemSpec", "SuccessCriteria", "normalize_metric_name"]

# Pickles written before the split name these reducers here.
_PICKLE_REDUCERS = (_criteria_from_dict, _spec_from_dict)
