"""The monitor's wiring of the per-slice accumulators and the deterministic signals.

Per batch slice of a window: confidence sums (:mod:`._alarms`), data-quality
sums (:mod:`._quality`), the freshness state (:mod:`._freshness`) and the
operational numbers (:mod:`._operations`). Per report: each window's
deterministic decision (rows of the signals table, numbers of the windows
table, findings) for data quality, freshness and operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._alarms import WindowDecision
from ._outputs import Outputs
from ._state import WindowState
from ._sums import Sums

if TYPE_CHECKING:
    from ._monitor import Monitor

__all__ = ["deterministic_decisions", "extra_from_json", "extra_to_json", "slice_signals"]

_NAN = float("nan")
#: The scalar numbers of the deterministic decisions the windows table keeps.
_WINDOW_NUMBERS = ("schema_violation_rate", "unscored_rate", "repeat_share", "late_rows",
                   "latency_p50_ms", "latency_p95_ms", "error_rate")


def special_columns(monitor: Monitor) -> list[Any]:
    """Columns of a batch that are not model inputs (never counted as new columns)."""
    from ._monitor_setup import LOG_COLUMNS

    schema = set(monitor.bundle.schema.columns)
    special = [monitor.time_col, monitor.label_col, monitor.id_col, *LOG_COLUMNS,
               *monitor.output_names]
    return [c for c in special if c is not None and str(c) not in schema]


def slice_signals(monitor: Monitor, part: pd.DataFrame, outputs: Outputs | None, broken: bool,
                  n_unscored: int, input_columns: Sequence[Any], *, late: bool = False
                  ) -> tuple[dict[str, Sums], dict[str, Any]]:
    """The sums groups and mergeable states of one window slice of a batch.

    ``broken``: the batch broke the schema somewhere, so the slice is
    validated again for its own problems (a clean batch is not). ``late``:
    the slice belongs to a window before the latest one already seen.
    """
    from ._alarms import confidence_sums
    from ._freshness import FreshnessState
    from ._operations import ERROR, LATENCY_MS, OperationsState
    from ._quality import quality_sums

    sums: dict[str, Sums] = {}
    if outputs is not None and outputs.proba is not None:
        sums["confidence"] = confidence_sums(outputs)
    sums["quality"] = quality_sums(part, monitor.bundle.schema, None if broken else [],
                                   n_unscored, ignore=special_columns(monitor))
    inputs = [c for c in input_columns if str(c) in set(monitor.bundle.schema.columns)]
    extra: dict[str, Any] = {"freshness": FreshnessState.from_batch(
        part, columns=inputs, time_col=monitor.time_col, late=late)}
    if LATENCY_MS in part.columns or ERROR in part.columns:
        extra["operations"] = OperationsState.from_batch(part)
    return sums, extra


def extra_to_json(name: str, value: Any) -> Any:
    """A window's mergeable state as JSON-safe data."""
    return value.to_json()


def extra_from_json(name: str, data: Any) -> Any:
    """The state :func:`extra_to_json` wrote, validated."""
    from .._errors import InputError
    from ._freshness import FreshnessState
    from ._operations import OperationsState

    if name == "freshness":
        return FreshnessState.from_json(data)
    if name == "operations":
        return OperationsState.from_json(data)
    raise InputError(f"unknown window state {name!r}", expected="freshness, operations")


def _label_rows(monitor: Monitor, label: str, index: int) -> WindowDecision:
    """The monitor's label and time counts: information rows (no alarm) and info findings."""
    from ._alarms import signal_row
    from ._quality import label_findings

    counts = monitor._counts
    rows = []
    for name in ("rows_without_time", "unknown_label_ids", "repeated_labels", "repeated_ids",
                 "labels_for_unscored", "invalid_labels", "labels_without_id",
                 "model_failed_rows"):
        count = int(counts.get(name, 0))
        if count:
            rows.append(signal_row("data_quality", window=label, index=index, statistic=name,
                                   value=float(count),
                                   reason=f"{count} {name.replace('_', ' ')} (monitor total)"))
    findings = label_findings(int(counts.get("unknown_label_ids", 0)),
                              int(counts.get("repeated_labels", 0)), window=label, index=index)
    return WindowDecision({}, rows, findings)


def deterministic_decisions(monitor: Monitor, states: list[WindowState],
                            labels: list[str]) -> list[WindowDecision]:
    """Per window, the decisions of data quality, freshness and operations, merged."""
    from ._freshness import FreshnessState, freshness_decide
    from ._operations import OperationsState, operations_decide
    from ._quality import quality_decide

    empty = FreshnessState.empty()
    fresh = freshness_decide([s.extra.get("freshness", empty) for s in states], labels,
                             row_windows=not monitor.spec.by_time)
    out = []
    for i, (state, label) in enumerate(zip(states, labels, strict=True)):
        parts = [quality_decide(state.sums.get("quality", {}), window=label, index=i), fresh[i],
                 operations_decide(state.extra.get("operations", OperationsState()),
                                   window=label, index=i)]
        if i == len(states) - 1:
            parts.append(_label_rows(monitor, label, i))
        numbers: dict[str, Any] = {}
        rows: list[dict[str, Any]] = []
        findings: list[Any] = []
        for part in parts:
            numbers.update({k: v for k, v in part.numbers.items() if k in _WINDOW_NUMBERS})
            rows += part.rows
            findings += part.findings
        numbers = {k: float(v) if isinstance(v, int | float | np.number) else v
                   for k, v in numbers.items()}
        out.append(WindowDecision(numbers, rows, findings))
    return out
