"""``Monitor.report()``: every window compared with the reference, then the report's tables.

Per window (cached until the window's state changes): the drift comparisons
of its input and output profiles against the reference (run at the
window's per-signal level ``alpha / G``), the confidence test, the estimated
and realized performance with their one-sided tests. Then, across windows:
the Bonferroni decision per window, the deterministic signals (data
quality, freshness, operations) and the sequential CUSUM detectors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._metrics import higher_is_better
from ._reference import WINDOW_EXACT_SIZE, WINDOW_SKETCH_SIZE, expand_profile
from ._state import WindowState

if TYPE_CHECKING:
    from ._monitor import Monitor

__all__ = ["build_report", "statistical_count"]

_NAN = float("nan")
#: The columns of the drift table kept per window in ``MonitorReport.columns``.
_DRIFT_COLUMNS = ("column", "method", "statistic", "p_adjusted", "effect_size", "drifted",
                  "missing_current", "unseen_share", "status")
_P_COLUMNS = ("p_adjusted", "missing_p_adjusted", "inf_p_adjusted", "unseen_p_adjusted")
#: CUSUM defaults (common design: k=0.5, h=5.0).
CUSUM_K = 0.5
CUSUM_H = 5.0
def _p_min(table: pd.DataFrame) -> float:
    """The smallest corrected p-value of a drift table (its BH / Simes global test)."""
    values = [pd.to_numeric(table[c], errors="coerce").to_numpy(dtype=float)
              for c in _P_COLUMNS if c in table.columns]
    flat = np.concatenate(values) if values else np.zeros(0)
    flat = flat[np.isfinite(flat)]
    return float(min(1.0, flat.min())) if flat.size else _NAN


@dataclass
class WindowResult:
    """What one window's comparisons gave (cached until its state changes)."""

    estimate: dict[str, Any] = field(default_factory=dict)
    realized: dict[str, Any] = field(default_factory=dict)
    confidence: tuple[float, float, float] = (_NAN, _NAN, _NAN)
    inputs: pd.DataFrame | None = None
    outputs: pd.DataFrame | None = None
    input_summary: tuple[float, int, int] = (_NAN, 0, 0)
    tests: list[dict[str, Any]] = field(default_factory=list)
    level: float = _NAN


def _threshold(monitor: Monitor, metric: str) -> tuple[float, float, str]:
    """``(threshold, its standard error, what it is)``: a given threshold is exact; the
    reference's realized value carries its own sampling error."""
    if metric in monitor.thresholds:
        return float(monitor.thresholds[metric]), 0.0, "threshold"
    value = monitor.ref.performance.reference_values.get(metric)
    if value is not None and math.isfinite(value):
        se = monitor.ref.reference_se.get(metric, 0.0)
        return float(value), float(se) if math.isfinite(se) else 0.0, "reference value"
    return _NAN, 0.0, ""


def _performance_tests(monitor: Monitor, signal: str, values: Mapping[str, Any]
                       ) -> list[dict[str, Any]]:
    from ._alarms import below_test

    tests = []
    for metric, interval in values.items():
        threshold, threshold_se, source = _threshold(monitor, metric)
        better = higher_is_better(metric)
        p = _NAN
        if math.isfinite(threshold) and math.isfinite(interval.value) and interval.se > 0:
            p = float(below_test(interval.value, interval.se, threshold, higher_is_better=better,
                                 threshold_se=threshold_se))
        side = "below" if better else "above"
        tests.append({"signal": signal, "column": None, "statistic": metric,
                      "value": interval.value, "low": interval.low, "high": interval.high,
                      "p_value": p,
                      "what": f"{metric} {interval.value:.4g} [{interval.low:.4g}, "
                              f"{interval.high:.4g}] {side} the {source} {threshold:.4g}"
                      if source else f"{metric} {interval.value:.4g}"})
    return tests


def statistical_count(monitor: Monitor, state: WindowState, result: WindowResult) -> int:
    """G: the statistical signals computable in the window (a signal with several metrics
    counts once: :func:`~mllife.monitor._alarms.decide_window` splits its share)."""
    signals = {t["signal"] for t in result.tests if math.isfinite(t["p_value"])}
    if state.inputs is not None:
        signals.add("data_drift")
    if state.outputs is not None and monitor.ref.outputs is not None:
        signals.add("prediction_drift")
    return max(len(signals), 1)


def _compare(profile: Any, window_profile: Any, n_rows: int, level: float) -> pd.DataFrame:
    from ..drift._compare import compare_table

    current = expand_profile(window_profile, n_rows)
    if len(current) == 0:  # nothing to compare: the engine's own refusal, as DriftProfile.compare
        return profile.compare(current, alpha=level, random_state=None, max_plots=0).table
    table, _ = compare_table(profile, current, alpha=level, random_state=None)
    return table


def window_result(monitor: Monitor, state: WindowState) -> WindowResult:
    """The comparisons of one window, from the cache when its state did not change."""
    from ._alarms import confidence_test

    cached = monitor._cache.get(state.key)
    if cached is not None and cached[0] == state.version:
        return cached[1]
    perf = monitor.ref.performance
    result = WindowResult()
    est_sums = state.sums.get("estimate")
    if est_sums:
        result.estimate = perf.estimate(est_sums)
    if state.n_labelled and state.sums.get("realized"):
        result.realized = perf.realized(state.sums["realized"])
    conf = state.sums.get("confidence")
    if conf and monitor.ref.confidence is not None:
        mean, z, p = confidence_test(conf, monitor.ref.confidence)
        result.confidence = (float(mean), float(z), float(p))
        if math.isfinite(float(p)):
            result.tests.append({"signal": "confidence", "column": None,
                                 "statistic": "mean_max_probability", "value": float(mean),
                                 "low": _NAN, "high": _NAN, "p_value": float(p),
                                 "what": f"mean max-probability {float(mean):.4g} (z={float(z):.2f})"})
    if perf.estimable and result.estimate:
        result.tests += _performance_tests(monitor, "estimated_performance", result.estimate)
    if result.realized:
        result.tests += _performance_tests(monitor, "realized_performance", result.realized)
    g = statistical_count(monitor, state, result)
    level = monitor.alpha / g
    result.level = level
    if state.inputs is not None:
        table = _compare(monitor.ref.inputs, state.inputs, state.n_rows, level)
        result.inputs = table
        compared = table[table["status"] != "new column (not in reference)"]
        n_drifted = int(compared["drifted"].sum())
        share = n_drifted / len(compared) if len(compared) else _NAN
        result.input_summary = (share, n_drifted, len(compared))
        drifted = compared.loc[compared["drifted"].astype(bool), "column"].astype(str).tolist()
        result.tests.insert(0, {
            "signal": "data_drift", "column": None, "statistic": "drift_share", "value": share,
            "low": _NAN, "high": _NAN, "p_value": _p_min(table), "effect": n_drifted > 0,
            "what": f"{n_drifted} of {len(compared)} input columns drifted"
                    + (f" ({', '.join(drifted[:5])}{', ...' if len(drifted) > 5 else ''})"
                       if drifted else "")})
    if state.outputs is not None and monitor.ref.outputs is not None:
        table = _compare(monitor.ref.outputs, state.outputs, state.n_scored, level)
        result.outputs = table
        n_drifted = int(table["drifted"].sum())
        drifted = table.loc[table["drifted"].astype(bool), "column"].astype(str).tolist()
        result.tests.insert(1 if state.inputs is not None else 0, {
            "signal": "prediction_drift", "column": None, "statistic": "drift_share",
            "value": n_drifted / len(table) if len(table) else _NAN, "low": _NAN, "high": _NAN,
            "p_value": _p_min(table), "effect": n_drifted > 0,
            "what": f"{n_drifted} of {len(table)} output columns drifted"
                    + (f" ({', '.join(drifted[:5])})" if drifted else "")})
    monitor._cache[state.key] = (state.version, result)
    return result


def _decide(monitor: Monitor, result: WindowResult, label: str, index: int
            ) -> list[dict[str, Any]]:
    """The statistical tests of a window decided at ``alpha / G`` (Bonferroni).

    A drift signal alarms only when its comparison also marked a column
    drifted (the engine's effect-size requirement for large samples): never
    more often than its p-value alone would.
    """
    from ._alarms import SIGNAL_COLUMNS, decide_window

    tests = [t for t in result.tests if math.isfinite(t["p_value"])]
    if not tests:
        return []
    rows = decide_window([{k: v for k, v in t.items() if k in SIGNAL_COLUMNS} for t in tests],
                         monitor.alpha, window=label, index=index)
    for row, test in zip(rows, tests, strict=True):
        row["alarm"] = bool(row["alarm"]) and bool(test.get("effect", True))
        row["reason"] = f"{test['what']}; {row['reason']}"
    return rows


def _sequential(monitor: Monitor, states: list[WindowState], results: list[WindowResult],
                labels: list[str]) -> tuple[list[list[dict[str, Any]]], int]:
    """CUSUM rows per window and the number of detectors run.

    Two lower-side detectors: on the window's mean max-probability and on the
    first estimated metric. Each window's input is standardised by its *own*
    standard error, against the reference (the same estimator on the reference
    rows, or the threshold when ``metrics=`` gives one), plus the guard that
    keeps the in-control run length whatever the reference's size
    (:func:`~mllife.monitor._alarms.sequential_z`): an error common to every
    window (the reference's own) would otherwise push them all the same way.
    """
    from ._alarms import confidence_sequential_z, sequential_rows

    out: list[list[dict[str, Any]]] = [[] for _ in results]
    series: dict[str, np.ndarray] = {}
    if monitor.ref.confidence is not None:
        conf = np.full(len(results), _NAN)
        for i, state in enumerate(states):  # a loop over windows
            sums = state.sums.get("confidence")
            if sums:
                conf[i] = confidence_sequential_z(sums, monitor.ref.confidence, k=CUSUM_K, h=CUSUM_H)
        if np.isfinite(conf).any():
            series["confidence"] = conf
    perf = monitor.ref.performance
    if perf.metrics and perf.estimable:
        first = perf.metrics[0]
        threshold = monitor.thresholds.get(first)
        z = np.full(len(results), _NAN)
        for i, r in enumerate(results):  # a loop over windows
            iv = r.estimate.get(first)
            if iv is not None:
                z[i] = perf.sequential_z(first, iv, threshold, k=CUSUM_K, h=CUSUM_H)
        if np.isfinite(z).any():
            series[f"estimated_{first}"] = z
    for name, z in series.items():
        rows = sequential_rows(z, windows=labels, statistic=f"cusum_{name}", k=CUSUM_K,
                               h=CUSUM_H, side="lower")
        for i, row in enumerate(rows):
            out[i].append(row)
    return out, len(series)


def _message(row: Mapping[str, Any]) -> str:
    numbers = f"{row['statistic']} = {_fmt(row['value'])}"
    if _finite(row.get("low")) and _finite(row.get("high")) and row["signal"] != "sequential":
        numbers += f" ({_fmt(row['low'])} to {_fmt(row['high'])})"
    return (f"window {row['window']}: {row['signal'].replace('_', ' ')} alarm, {numbers}: "
            f"{row['reason']}")


def _finite(value: Any) -> bool:
    return isinstance(value, int | float | np.floating) and math.isfinite(float(value))


def _fmt(value: Any) -> str:
    return f"{float(value):.4g}" if _finite(value) else str(value)


def _trained_at(bundle: Any) -> Any:
    """The bundle's ``metadata["trained_at"]`` (JSON-safe), for RetrainPolicy's anchor."""
    value = bundle.metadata.get("trained_at")
    if value is None or isinstance(value, str | int | float):
        return value
    return str(value)


def build_report(monitor: Monitor) -> Any:
    """The :class:`~mllife.monitor.MonitorReport` of a monitor."""
    from ._alarms import arl0, expected_false_alarms, make_finding
    from ._report import COLUMN_COLUMNS, SIGNAL_COLUMNS, WINDOW_COLUMNS, WINDOW_TAIL, MonitorReport
    from ._signals import deterministic_decisions

    keys = sorted(monitor._windows)
    states = [monitor._windows[k] for k in keys]
    labels = [monitor.spec.label(k) for k in keys]
    results = [window_result(monitor, s) for s in states]
    decisions = deterministic_decisions(monitor, states, labels)
    sequential, n_detectors = _sequential(monitor, states, results, labels)
    metric_names = list(monitor.ref.performance.metrics)
    window_rows: list[dict[str, Any]] = []
    signal_rows: list[dict[str, Any]] = []
    column_rows: list[dict[str, Any]] = []
    findings = []
    max_g = 0
    for i, (state, label, result) in enumerate(zip(states, labels, results, strict=True)):
        statistical = _decide(monitor, result, label, i)
        decision = decisions[i]
        rows = statistical + list(decision.rows) + sequential[i]
        max_g = max(max_g, len({r["signal"] for r in statistical}))
        signal_rows += [{**r, "window": label, "index": i} for r in rows]
        findings += [make_finding(r, _message(r)) for r in statistical + sequential[i]
                     if r["alarm"]]
        findings += list(decision.findings)
        start, end = monitor.spec.bounds(state.key)
        share, n_drifted, n_columns = result.input_summary
        record: dict[str, Any] = {
            "window": label, "index": i, "start": start, "end": end, "n_rows": state.n_rows,
            "n_labelled": state.n_labelled, "drift_share": share, "n_drifted": n_drifted,
            "n_columns": n_columns,
            "prediction_drift_p": _p_min(result.outputs) if result.outputs is not None else _NAN,
            "confidence_mean": result.confidence[0], "confidence_p": result.confidence[2]}
        for m in metric_names:
            for kind, values in (("estimated", result.estimate), ("realized", result.realized)):
                iv = values.get(m)
                record[f"{kind}_{m}"] = iv.value if iv is not None else _NAN
                record[f"{kind}_{m}_low"] = iv.low if iv is not None else _NAN
                record[f"{kind}_{m}_high"] = iv.high if iv is not None else _NAN
        record["unscored_rate"] = (state.n_rows - state.n_scored) / max(state.n_rows, 1)
        record.update(decision.numbers)
        record["n_alarms"] = sum(bool(r["alarm"]) for r in rows)
        window_rows.append(record)
        for role, table in (("input", result.inputs), ("output", result.outputs)):
            if table is None:
                continue
            for rec in table.loc[:, list(_DRIFT_COLUMNS)].to_dict("records"):  # per column
                column_rows.append({"window": label, "index": i, "column": rec.pop("column"),
                                    "role": role, **rec})
    metric_columns = [f"{kind}_{m}{end}" for m in metric_names for kind in ("estimated", "realized")
                      for end in ("", "_low", "_high")]
    windows = pd.DataFrame(window_rows, columns=[*WINDOW_COLUMNS, *metric_columns, *WINDOW_TAIL])
    signals = pd.DataFrame(signal_rows, columns=list(SIGNAL_COLUMNS))
    signals["alarm"] = signals["alarm"].astype(bool)
    columns = pd.DataFrame(column_rows, columns=list(COLUMN_COLUMNS))
    n_signals = max(max_g, 1)
    expected = expected_false_alarms(monitor.alpha, 100, n_detectors, CUSUM_K, CUSUM_H)
    settings = {
        "alpha": monitor.alpha, "window": monitor.spec.text if monitor.spec.by_time else None,
        "rows": monitor.spec.rows if not monitor.spec.by_time else None,
        "time_col": monitor.time_col, "id_col": monitor.id_col, "label_col": monitor.label_col,
        "metrics": metric_names, "thresholds": dict(monitor.thresholds),
        "n_signals": n_signals, "per_window_level": monitor.alpha / n_signals,
        "expected_false_alarms_per_100": float(expected["statistical"]),
        "expected_false_alarms": {k: float(v) for k, v in expected.items()},
        "cusum": {"k": CUSUM_K, "h": CUSUM_H, "arl0": float(arl0(CUSUM_K, CUSUM_H)),
                  "detectors": n_detectors},
        "bundle_version": monitor.bundle_version,
        "trained_at": _trained_at(monitor.bundle), "counts": dict(monitor._counts),
        "window_exact_size": WINDOW_EXACT_SIZE, "window_sketch_size": WINDOW_SKETCH_SIZE,
    }
    ref = monitor.ref
    reference = {"n_rows": ref.n_rows, "source": ref.source,
                 "metrics": dict(ref.performance.reference_values.items()),
                 "notes": list(ref.notes)}
    return MonitorReport(title="Monitor report", windows=windows, signals=signals,
                         columns=columns, settings=settings, reference=reference,
                         findings=findings)
