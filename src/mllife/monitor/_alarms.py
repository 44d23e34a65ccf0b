"""Alarms at a stated false-alarm rate: the per-window tests and the sequential detector.

Per window, every *statistical* signal that can be computed gives one
p-value (or a few: one per metric), and the window is judged with a
Bonferroni correction over them: with ``G`` computable signals, each is tested
at ``alpha / G`` (and a signal with ``m`` p-values tests each at
``alpha / (G m)``), so the chance that a window where nothing changed raises
any statistical alarm is at most ``alpha``, whatever the dependence between the
signals. Over ``W`` windows that is at most ``W * alpha`` false alarms
(:func:`expected_false_alarms`).

Across windows, a one-sided Page CUSUM (:func:`cusum`) accumulates the
standardised per-window values of a signal and raises an alarm when the sum
reaches ``h``: a slow decline that no single window shows. Its in-control
average run length (windows between false alarms) is Siegmund's approximation
:func:`arl0` (about 938 windows for ``k=0.5, h=5``).

*Deterministic* signals (``data_quality``, ``freshness``, ``operations``)
count events that do not happen on a clean stream (schema violations, rows
the bundle could not score, a batch seen twice, failed requests); they are
not p-values and are not part of the correction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import stats

from .._errors import InputError
from ..report import Finding
from ._sums import Sums

__all__ = [
    "DETERMINISTIC_SIGNALS",
    "SIGNALS",
    "SIGNAL_COLUMNS",
    "STATISTICAL_SIGNALS",
    "WindowDecision",
    "alarm_findings",
    "arl",
    "arl0",
    "below_test",
    "confidence_sequential_z",
    "confidence_sums",
    "confidence_test",
    "cusum",
    "decide_window",
    "expected_false_alarms",
    "make_finding",
    "sequential_guard",
    "sequential_rows",
    "sequential_z",
    "signal_row",
    "window_level",
]

#: Every signal name a monitor reports (the only spelling).
SIGNALS = ("data_drift", "prediction_drift", "confidence", "estimated_performance",
           "realized_performance", "data_quality", "freshness", "operations", "sequential")
#: Signals decided on a p-value, corrected together per window.
STATISTICAL_SIGNALS = ("data_drift", "prediction_drift", "confidence", "estimated_performance",
                       "realized_performance")
#: Signals that count events which never happen on a clean stream.
DETERMINISTIC_SIGNALS = ("data_quality", "freshness", "operations")
#: The columns of the ``signals`` table, in order.
SIGNAL_COLUMNS = ("window", "index", "signal", "column", "statistic", "value", "low", "high",
                  "p_value", "level", "alarm", "reason")
#: Severity of the finding of an alarm, by signal (``"warning"`` otherwise).
_ERROR_SIGNALS = frozenset({"data_quality", "freshness", "realized_performance",
                            "estimated_performance"})
_SUGGESTIONS = {
    "data_drift": "look at the drifted columns in report.columns; if the shift persists, "
                  "retrain on recent data",
    "prediction_drift": "the predictions moved as a whole: check for a preprocessing step "
                        "that was not updated (a scaler, an encoder) before blaming the world",
    "confidence": "the model's confidence moved: check the inputs for drift and the "
                  "estimated performance of this window",
    "estimated_performance": "collect labels for this window to confirm, and consider "
                             "retraining",
    "realized_performance": "the model underperforms on labelled data: retrain it, or roll "
                            "back to a model that met the criteria",
    "data_quality": "fix the upstream data (the bundle's schema names what it expects), or "
                    "update the schema if the change is intended",
    "freshness": "check the data pipeline: the model may be scoring stale or replayed data",
    "operations": "look at the serving logs of the failed requests",
    "sequential": "a sustained change over several windows: look at the trend of this "
                  "signal and consider retraining",
}
#: The smallest sample for which a mean's test is computed at all.
MIN_ROWS = 10
#: Cochran's rule: a sample mean is close enough to normal when n >= 25 g1**2.
COCHRAN_FACTOR = 25.0


# ------------------------------------------------------------------ rows and findings
@dataclass(frozen=True)
class WindowDecision:
    """What a deterministic signal decided for one window.

    Attributes
    ----------
    numbers : dict
        Numbers for the ``windows`` table (``schema_violation_rate``...).
    rows : list of dict
        Rows of the ``signals`` table (keys :data:`SIGNAL_COLUMNS`).
    findings : list of Finding
        One per alarm, plus ``info`` findings worth knowing.
    """

    numbers: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def signal_row(signal: str, *, window: Any, index: Any, statistic: str, value: float,
               column: Any = None, low: float = math.nan, high: float = math.nan,
               p_value: float = math.nan, level: float = math.nan, alarm: bool = False,
               reason: str = "") -> dict[str, Any]:
    """One row of the ``signals`` table.

    Examples
    --------
    >>> row = signal_row("freshness", window="w0", index=0, statistic="repeated_batches",
    ...                  value=0.0)
    >>> row["signal"], row["alarm"], list(row) == list(SIGNAL_COLUMNS)
    ('freshness', False, True)
    """
    if signal not in SIGNALS:
        raise InputError(f"signal {signal!r} is not known", expected=f"one of {SIGNALS}")
    return {"window": window, "index": index, "signal": signal, "column": column,
            "statistic": statistic, "value": _num(value), "low": _num(low),
            "high": _num(high), "p_value": _num(p_value), "level": _num(level),
            "alarm": bool(alarm), "reason": str(reason)}


def make_finding(row: Mapping[str, Any], message: str, *, suggestion: str | None = None,
                 severity: str | None = None, n_rows: int | None = None,
                 share: float | None = None, threshold: float | None = None,
                 **details: Any) -> Finding:
    """The finding of a ``signals`` row: ``check="monitor_<signal>"``, its numbers in details.

    Severity is ``"error"`` for ``data_quality``, ``freshness`` and the two
    performance signals, ``"warning"`` for the others, unless given.

    Examples
    --------
    >>> row = signal_row("operations", window="2024-01-01", index=3, statistic="error_rate",
    ...                  value=0.02, alarm=True)
    >>> f = make_finding(row, "window 2024-01-01: 2% of requests failed")
    >>> f.check, f.severity, f.details["index"]
    ('monitor_operations', 'warning', 3)
    """
    signal = str(row["signal"])
    if severity is None:
        severity = "error" if signal in _ERROR_SIGNALS else "warning"
    info = {"window": row.get("window"), "index": row.get("index"), "signal": signal,
            "statistic": row.get("statistic"), "value": row.get("value"),
            "low": row.get("low"), "high": row.get("high"), "p_value": row.get("p_value"),
            "level": row.get("level")}
    info.update(details)
    return Finding(f"monitor_{signal}", severity, column=row.get("column"), message=message,
                   n_rows=n_rows, share=share, threshold=threshold,
                   suggestion=_SUGGESTIONS.get(signal, "") if suggestion is None else suggestion,
                   details=info)


def alarm_findings(rows: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """One finding per alarm of a statistical or the sequential signal.

    Deterministic signals are skipped: their decisions
    (:func:`~mllife.monitor._quality.quality_decide`, ...) return findings
    with their own messages.

    Examples
    --------
    >>> rows = decide_window([{"signal": "confidence", "statistic": "mean_max_proba",
    ...                        "value": 0.71, "p_value": 1e-6}], alpha=0.05,
    ...                      window="w3", index=3)
    >>> alarm_findings(rows)[0].message
    'window w3: confidence mean_max_proba = 0.71, p = 1e-06 <= level 0.05'
    """
    out = []
    for row in rows:
        if not row.get("alarm") or row.get("signal") in DETERMINISTIC_SIGNALS:
            continue
        text = f"window {row.get('window')}: {row['signal']}"
        if row.get("column") is not None:
            text += f" of {row['column']!r}"
        text += f" {row.get('statistic')} = {_fmt(row.get('value'))}"
        low, high = _num(row.get("low", math.nan)), _num(row.get("high", math.nan))
        if row["signal"] == "sequential":
            text += f" reached the threshold h = {_fmt(high)}"
        elif math.isfinite(low) and math.isfinite(high):
            text += f" ({_fmt(low)} to {_fmt(high)})"
        if math.isfinite(_num(row.get("p_value", math.nan))):
            text += f", p = {_fmt(row['p_value'])} <= level {_fmt(row['level'])}"
        out.append(make_finding(row, text))
    return out


# ------------------------------------------------------------------ per-window level
def window_level(alpha: float, n_signals: int) -> float:
    """The level each of ``n_signals`` statistical signals is tested at: ``alpha / n_signals``.

    NaN when no signal is computable.

    Examples
    --------
    >>> window_level(0.05, 5)
    0.01
    """
    _check_alpha(alpha)
    if not isinstance(n_signals, int | np.integer) or n_signals < 0:
        raise InputError(f"n_signals={n_signals!r}", expected="an integer >= 0")
    return float(alpha) / int(n_signals) if n_signals else math.nan


def decide_window(tests: Sequence[Mapping[str, Any]], alpha: float, *, window: Any = None,
                  index: Any = None) -> list[dict[str, Any]]:
    """Apply the per-window Bonferroni correction and mark the alarms.

    Parameters
    ----------
    tests : sequence of mappings
        One per test, with ``signal`` and, for a statistical signal,
        ``p_value`` (NaN: not computable in this window), and any other key
        of :data:`SIGNAL_COLUMNS`. Deterministic and sequential rows pass
        through with their own ``alarm``.
    alpha : float
        The family-wise false-alarm rate of one window, in (0, 1).
    window, index : optional
        Fill ``window`` / ``index`` where a test does not carry them.

    Returns
    -------
    list of dict
        Complete ``signals`` rows, in the order of ``tests``: the ``G``
        statistical signals with at least one finite p-value are counted; a
        test of a signal with ``m`` finite p-values gets
        ``level = alpha / (G * m)`` and ``alarm = p_value <= level``; a test
        without a p-value gets ``level`` NaN and no alarm.

    Examples
    --------
    >>> rows = decide_window([
    ...     {"signal": "data_drift", "statistic": "drift_share", "value": 0.1, "p_value": 0.004},
    ...     {"signal": "confidence", "statistic": "mean_max_proba", "value": 0.8,
    ...      "p_value": 0.3},
    ...     {"signal": "estimated_performance", "statistic": "roc_auc", "value": 0.8,
    ...      "p_value": float("nan")},
    ... ], alpha=0.05, window="w1", index=1)
    >>> [(r["signal"], r["level"], r["alarm"]) for r in rows]
    [('data_drift', 0.025, True), ('confidence', 0.025, False), ('estimated_performance', nan, False)]
    """
    _check_alpha(alpha)
    rows = []
    for test in tests:
        if not isinstance(test, Mapping) or "signal" not in test:
            raise InputError("a test without its signal", expected="a mapping with 'signal'")
        unknown = sorted(str(k) for k in test if k not in SIGNAL_COLUMNS)
        if unknown:
            raise InputError(f"a test with unknown keys {unknown}",
                             expected=f"keys among {SIGNAL_COLUMNS}")
        values = {k: v for k, v in test.items() if k not in ("signal",)}
        values.setdefault("window", window)
        values.setdefault("index", index)
        values.setdefault("statistic", str(test["signal"]))
        values.setdefault("value", math.nan)
        rows.append(signal_row(str(test["signal"]), **values))
    per_signal: dict[str, int] = {}
    for row in rows:
        if row["signal"] in STATISTICAL_SIGNALS and math.isfinite(row["p_value"]):
            per_signal[row["signal"]] = per_signal.get(row["signal"], 0) + 1
    n_signals = len(per_signal)
    for row in rows:
        if row["signal"] not in STATISTICAL_SIGNALS:
            continue
        p = row["p_value"]
        if not math.isfinite(p):
            row.update(level=math.nan, alarm=False,
                       reason=row["reason"] or "not computable in this window")
            continue
        m = per_signal[row["signal"]]
        level = float(alpha) / (n_signals * m)
        alarm = bool(p <= level)
        split = f" / {m} tests" if m > 1 else ""
        row.update(level=level, alarm=alarm,
                   reason=f"p = {_fmt(p)} {'<=' if alarm else '>'} {_fmt(level)} "
                          f"(alpha {alpha:g} / {n_signals} signal{'s' if n_signals > 1 else ''}"
                          f"{split})")
    return rows


def expected_false_alarms(alpha: float, n_windows: int = 100, n_sequential: int = 0,
                          k: float = 0.5, h: float = 5.0) -> dict[str, float]:
    """Expected false alarms over ``n_windows`` windows where nothing changed.

    ``statistical``: at most ``n_windows * alpha`` (the per-window
    Bonferroni bound; fewer when the signals are dependent).
    ``sequential``: ``n_sequential * n_windows / arl0(k, h)`` for
    ``n_sequential`` CUSUM detectors (each restarts after an alarm, so its
    alarms form a renewal process with mean gap :func:`arl0`).
    ``total``: their sum.

    Examples
    --------
    >>> out = expected_false_alarms(0.05, 100, n_sequential=2)
    >>> out["statistical"], round(out["sequential"], 3)
    (5.0, 0.213)
    """
    _check_alpha(alpha)
    if n_windows < 0 or n_sequential < 0:
        raise InputError(f"n_windows={n_windows!r}, n_sequential={n_sequential!r}",
                         expected="integers >= 0")
    statistical = float(alpha) * n_windows
    sequential = n_sequential * n_windows / arl0(k, h) if n_sequential else 0.0
    return {"statistical": statistical, "sequential": sequential,
            "total": statistical + sequential}


# ------------------------------------------------------------------ confidence
def confidence_sums(outputs: Any) -> Sums:
    """Additive sums of the max class probability: n, sum, sum of squares and of cubes.

    Rows whose probabilities are all missing are left out. Without
    probabilities (a regressor, a classifier without ``predict_proba``) the
    sums are zero and the confidence test is not computable.

    Examples
    --------
    >>> import numpy as np
    >>> from mllife.monitor._outputs import Outputs
    >>> out = Outputs("binary", np.array([0, 1]), np.array([[0.8, 0.2], [0.4, 0.6]]), (0, 1))
    >>> {k: float(v) for k, v in confidence_sums(out).items()}["confidence_sum"]
    1.4
    """
    proba = getattr(outputs, "proba", None)
    if proba is None:
        x = np.zeros(0)
    else:
        arr = np.asarray(proba, dtype=np.float64)
        if arr.ndim != 2:
            raise InputError(f"probabilities of shape {arr.shape}", expected="an (n, K) array")
        known = ~np.isnan(arr).all(axis=1) if arr.shape[1] else np.zeros(len(arr), dtype=bool)
        x = np.nanmax(arr[known], axis=1) if known.any() else np.zeros(0)
    return {"confidence_n": np.array(float(x.size)), "confidence_sum": np.array(float(x.sum())),
            "confidence_sum2": np.array(float(np.sum(x * x))),
            "confidence_sum3": np.array(float(np.sum(x * x * x)))}


def _moments(sums: Mapping[str, Any]) -> tuple[float, float, float, float]:
    """(n, mean, unbiased variance, third central moment) of confidence sums."""
    n = float(np.asarray(sums.get("confidence_n", 0.0)))
    if n <= 0:
        return 0.0, math.nan, math.nan, math.nan
    s1 = float(np.asarray(sums["confidence_sum"]))
    s2 = float(np.asarray(sums["confidence_sum2"]))
    s3 = float(np.asarray(sums.get("confidence_sum3", math.nan)))
    mean = s1 / n
    m2 = max(s2 - n * mean * mean, 0.0)
    var = m2 / (n - 1) if n > 1 else math.nan
    mu3 = (s3 - 3 * mean * s2 + 2 * n * mean**3) / n
    return n, mean, var, mu3


def _hall(t: float, g: float) -> float:
    """Hall's (1992) skewness-corrected statistic (monotone in ``t``)."""
    a = g / 3.0
    return t + a * t * t + a * a * t**3 / 3.0 + g / 6.0


def confidence_test(window_sums: Mapping[str, Any], reference_sums: Mapping[str, Any]
                    ) -> tuple[float, float, float]:
    """Two-sided test of the window's mean max-probability against the reference's.

    Welch's statistic ``T = (mean_w - mean_r) / sqrt(var_w/n_w + var_r/n_r)``
    with Hall's (1992) correction for skewness: max-probabilities pile up
    near 1, and the mean of a few dozen of them is skewed, which makes a
    plain z or t test reject far too often. With ``g`` the skewness of the
    mean difference (third central moments of both samples), the statistic
    ``H = T + a T**2 + a**2 T**3 / 3 + g / 6`` (``a = g / 3``, monotone in
    ``T``) is referred to Student's t with Welch's degrees of freedom.

    The test is not computable (NaN) with fewer than 10 rows on either side,
    or when a sample fails Cochran's rule ``n >= 25 g1**2`` with ``g1`` the
    larger of the two samples' skewness (then no normal approximation holds).

    Returns
    -------
    (mean, z, p_value)
        The window's mean max-probability, the corrected statistic ``H``
        (negative: less confident than the reference) and the p-value.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> def sums(x):
    ...     return {"confidence_n": x.size, "confidence_sum": x.sum(),
    ...             "confidence_sum2": (x**2).sum(), "confidence_sum3": (x**3).sum()}
    >>> ref = sums(rng.uniform(0.5, 1.0, 5000))
    >>> mean, z, p = confidence_test(sums(rng.uniform(0.5, 0.9, 200)), ref)
    >>> round(mean, 2), z < 0, p < 1e-6
    (0.7, True, True)
    """
    n1, m1, v1, k1 = _moments(window_sums)
    n2, m2, v2, k2 = _moments(reference_sums)
    if n1 < MIN_ROWS or n2 < MIN_ROWS or not (math.isfinite(v1) and math.isfinite(v2)):
        return (m1 if n1 else math.nan), math.nan, math.nan
    a1, a2 = v1 / n1, v2 / n2
    tau2 = a1 + a2
    if tau2 <= 0:
        if m1 == m2:
            return m1, 0.0, 1.0
        return m1, math.copysign(math.inf, m1 - m2), 0.0
    g1 = k1 / v1**1.5 if v1 > 0 else 0.0
    g2 = k2 / v2**1.5 if v2 > 0 else 0.0
    if not (math.isfinite(g1) and math.isfinite(g2)):
        return m1, math.nan, math.nan
    if min(n1, n2) < COCHRAN_FACTOR * max(g1 * g1, g2 * g2):
        return m1, math.nan, math.nan
    tau = math.sqrt(tau2)
    t = (m1 - m2) / tau
    g = (k1 / n1**2 - k2 / n2**2) / tau**3
    corrected = _hall(t, g)
    df = tau2**2 / ((a1 * a1 / (n1 - 1) if a1 else 0.0) + (a2 * a2 / (n2 - 1) if a2 else 0.0))
    p = 2.0 * min(float(stats.t.cdf(corrected, df)), float(stats.t.sf(corrected, df)))
    return m1, float(corrected), min(p, 1.0)


def below_test(estimate: float, se: float, threshold: float, *, higher_is_better: bool,
               threshold_se: float = 0.0) -> float:
    """One-sided p-value that a metric is worse than ``threshold``.

    The null hypothesis is "the metric is at least as good as the threshold";
    the p-value is ``Phi((estimate - threshold) / s)`` for a metric where
    higher is better (``1 - Phi(...)`` otherwise), with
    ``s = sqrt(se**2 + threshold_se**2)``: pass the standard error of a
    threshold that is itself estimated (the reference's value). NaN when
    the estimate or a positive standard error is missing.

    Examples
    --------
    >>> round(below_test(0.70, 0.02, 0.75, higher_is_better=True), 4)
    0.0062
    >>> round(below_test(0.70, 0.02, 0.75, higher_is_better=False), 4)
    0.9938
    """
    values = [float(estimate), float(se), float(threshold), float(threshold_se)]
    if not all(math.isfinite(v) for v in values):
        return math.nan
    s = math.hypot(values[1], values[3])
    if s <= 0:
        return math.nan
    z = (values[0] - values[2]) / s
    return float(stats.norm.cdf(z) if higher_is_better else stats.norm.sf(z))


# ------------------------------------------------------------------ sequential
#: Standard-normal grid over which :func:`sequential_guard` averages the reference's error.
_GUARD_GRID = np.linspace(-8.0, 8.0, 1601)
_GUARD_WEIGHTS = np.exp(-0.5 * _GUARD_GRID**2) / np.exp(-0.5 * _GUARD_GRID**2).sum()


def _arl_array(k: float, h: float, shift: np.ndarray) -> np.ndarray:
    """:func:`arl` for an array of shifts."""
    b = float(h) + 1.166
    d = np.asarray(shift, dtype=np.float64) - float(k)
    small = np.abs(d) < 1e-9
    safe = np.where(small, 1.0, d)
    with np.errstate(over="ignore"):
        value = (np.exp(np.minimum(-2.0 * safe * b, 700.0)) + 2.0 * safe * b - 1.0) \
            / (2.0 * safe * safe)
    return np.where(small, b * b, value)


def _marginal_rate(rho: float, guard: float, k: float, h: float) -> float:
    """False alarms per window of the lower CUSUM, averaged over the reference's error."""
    shift = rho * (_GUARD_GRID - guard)
    return float(np.sum(_GUARD_WEIGHTS / _arl_array(k, h, shift)))


def sequential_guard(rho: float, *, k: float = 0.5, h: float = 5.0) -> float:
    """The allowance a CUSUM input needs when the reference it is compared with is estimated.

    A window's value is compared with a reference value that has its own
    sampling error ``e ~ N(0, reference_se**2)``; that error is *common* to
    every window, so standardised by the window's own standard error ``se``
    the inputs are ``N(-e / se, 1)``: a reference that came out a little too
    good shifts every window the same way and the CUSUM drifts to ``h``
    (with ``rho = reference_se / se = 0.5`` the in-control run length is
    about 80 windows instead of 938). The guard ``g`` is added to each input
    (widening the allowance to ``k + g rho``) with ``g`` the smallest value
    for which the run length averaged over the reference's error (Siegmund's
    approximation, :func:`arl`) is :func:`arl0` ``(k, h)``: the stated rate
    of false alarms then holds over references of that size. ``0`` when
    ``rho`` is 0 (an exact reference) or not finite.

    Examples
    --------
    >>> sequential_guard(0.0)
    0.0
    >>> 0.5 < sequential_guard(0.5) < 1.5
    True
    """
    _check_kh(k, h)
    rho = float(rho)
    if not math.isfinite(rho) or rho <= 1e-6:
        return 0.0
    # 3 significant digits (nudged up: a larger rho needs a larger guard), cached
    rho = float(np.format_float_positional(rho * 1.0005, precision=3, unique=False,
                                           fractional=False))
    return _guard(min(rho, 1e6), float(k), float(h))


@lru_cache(maxsize=4096)
def _guard(rho: float, k: float, h: float) -> float:
    target = 1.0 / arl0(k, h)
    if _marginal_rate(rho, 0.0, k, h) <= target:
        return 0.0
    low, high = 0.0, 1.0
    while _marginal_rate(rho, high, k, h) > target and high < 64.0:
        low, high = high, 2.0 * high
    for _ in range(40):  # bisection: the rate falls as the guard grows
        mid = 0.5 * (low + high)
        if _marginal_rate(rho, mid, k, h) > target:
            low = mid
        else:
            high = mid
    return high


def sequential_z(value: float, se: float, reference: float, reference_se: float = 0.0, *,
                 higher_is_better: bool = True, k: float = 0.5, h: float = 5.0) -> float:
    """A window's input to a lower CUSUM: its standardised value against the reference.

    ``sign * (value - reference) / se + sequential_guard(reference_se / se)``
    with ``sign`` +1 when higher is better (a drop is negative). ``se`` must
    be the window's *own* standard error (nothing common to every window,
    such as a calibration's uncertainty: that belongs in ``reference_se``),
    so the inputs of different windows are independent given the reference.
    NaN when a number is missing or ``se`` is not positive.

    Examples
    --------
    >>> round(sequential_z(0.70, 0.02, 0.75), 2)
    -2.5
    >>> sequential_z(0.70, 0.02, 0.75, reference_se=0.01) > -2.5   # guarded
    True
    """
    numbers = [float(value), float(se), float(reference), float(reference_se)]
    if not all(math.isfinite(v) for v in numbers) or numbers[1] <= 0 or numbers[3] < 0:
        return math.nan
    sign = 1.0 if higher_is_better else -1.0
    z = sign * (numbers[0] - numbers[2]) / numbers[1]
    return z + sequential_guard(numbers[3] / numbers[1], k=k, h=h)


def confidence_sequential_z(window_sums: Mapping[str, Any], reference_sums: Mapping[str, Any],
                            *, k: float = 0.5, h: float = 5.0) -> float:
    """A window's input to the confidence CUSUM (lower side: less confident is negative).

    The window's mean max-probability against the reference's mean, as a
    one-sample statistic on the window's own variance (Hall's correction for
    its skewness, referred to Student's t with ``n - 1`` degrees of freedom
    and mapped to the normal scale, so heavy tails of small windows do not
    feed the CUSUM), plus :func:`sequential_guard` for the reference mean's
    own error. NaN where :func:`confidence_test` is not computable.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> def sums(x):
    ...     return {"confidence_n": x.size, "confidence_sum": x.sum(),
    ...             "confidence_sum2": (x**2).sum(), "confidence_sum3": (x**3).sum()}
    >>> ref = sums(rng.uniform(0.5, 1.0, 5000))
    >>> confidence_sequential_z(sums(rng.uniform(0.5, 0.9, 200)), ref) < -5
    True
    """
    n1, m1, v1, k1 = _moments(window_sums)
    n2, m2, v2, k2 = _moments(reference_sums)
    if n1 < MIN_ROWS or n2 < MIN_ROWS or not (math.isfinite(v1) and math.isfinite(v2)):
        return math.nan
    a1, a2 = v1 / n1, v2 / n2
    if a1 <= 0:
        return math.nan
    g1 = k1 / v1**1.5
    g2 = k2 / v2**1.5 if v2 > 0 else 0.0
    if not (math.isfinite(g1) and math.isfinite(g2)) or \
            min(n1, n2) < COCHRAN_FACTOR * max(g1 * g1, g2 * g2):
        return math.nan
    t = (m1 - m2) / math.sqrt(a1)
    corrected = _hall(t, g1 / math.sqrt(n1))
    p = float(stats.t.cdf(corrected, n1 - 1.0))
    z = float(stats.norm.ppf(min(max(p, 1e-300), 1.0 - 1e-16)))
    return z + sequential_guard(math.sqrt(a2 / a1), k=k, h=h)


def cusum(z: Any, *, k: float = 0.5, h: float = 5.0, side: str = "lower"
          ) -> tuple[np.ndarray, int | None]:
    """One-sided Page CUSUM on standardised per-window values.

    ``side="lower"`` (for signals whose drop is bad: confidence, estimated
    performance) accumulates ``S_t = max(0, S_{t-1} - z_t - k)``;
    ``side="upper"`` accumulates ``S_t = max(0, S_{t-1} + z_t - k)``. An
    alarm is raised when ``S_t >= h``, and the statistic then restarts at 0,
    so successive alarms are separated by an average of :func:`arl0` windows
    when nothing changed (in-control) and about ``arl(k, h, shift)`` windows
    under a shift of ``shift`` standard deviations. A NaN value (the signal
    not computable in a window) leaves the statistic unchanged.

    Returns
    -------
    (statistic, first_alarm)
        ``S_t`` per window (``>= h`` where an alarm was raised) and the
        index of the first alarm, or None.

    Examples
    --------
    >>> stat, first = cusum([0.0, -1.5, -2.0, -3.0, 0.5], h=4.0)
    >>> stat.tolist(), first
    ([0.0, 1.0, 2.5, 5.0, 0.0], 3)
    """
    if side not in ("lower", "upper"):
        raise InputError(f"side={side!r}", expected="'lower' or 'upper'")
    _check_kh(k, h)
    values = np.asarray(z, dtype=np.float64).ravel()
    sign = -1.0 if side == "lower" else 1.0
    out = np.empty(values.size)
    s, first = 0.0, None
    restart = False
    for t, value in enumerate(values):  # a loop over windows
        if restart:
            s, restart = 0.0, False
        if math.isfinite(value):
            s = max(0.0, s + sign * value - k)
            if s >= h:
                restart = True
                if first is None:
                    first = t
        out[t] = s
    return out, first


def arl(k: float, h: float, shift: float = 0.0) -> float:
    """Siegmund's approximation of a one-sided CUSUM's average run length.

    For N(``shift``, 1) values in the direction the CUSUM watches,
    ``ARL = (exp(-2 d b) + 2 d b - 1) / (2 d**2)`` with ``d = shift - k`` and
    ``b = h + 1.166``; ``b**2`` when ``d = 0``.

    Examples
    --------
    >>> round(arl(0.5, 5.0, shift=1.0), 1)
    10.3
    """
    _check_kh(k, h)
    b = float(h) + 1.166
    d = float(shift) - float(k)
    if abs(d) < 1e-12:
        return b * b
    return (math.exp(-2.0 * d * b) + 2.0 * d * b - 1.0) / (2.0 * d * d)


def arl0(k: float = 0.5, h: float = 5.0) -> float:
    """In-control average run length (windows between false alarms) of :func:`cusum`.

    Examples
    --------
    >>> round(arl0(0.5, 5.0))
    938
    """
    return arl(k, h, 0.0)


def sequential_rows(z: Any, *, windows: Sequence[Any], indices: Sequence[Any] | None = None,
                    statistic: str, k: float = 0.5, h: float = 5.0, side: str = "lower",
                    column: Any = None) -> list[dict[str, Any]]:
    """The ``sequential`` rows of the ``signals`` table for one CUSUM detector.

    ``value`` is the CUSUM statistic, ``high`` the threshold ``h``, ``alarm``
    true in the windows where it reached ``h``; ``level`` is NaN (the
    detector's false-alarm rate is its run length, :func:`arl0`).

    Examples
    --------
    >>> rows = sequential_rows([-3.0, -3.0], windows=["a", "b"], statistic="cusum_confidence")
    >>> [(r["window"], r["value"], r["alarm"]) for r in rows]
    [('a', 2.5, False), ('b', 5.0, True)]
    """
    stat, _ = cusum(z, k=k, h=h, side=side)
    if len(windows) != stat.size:
        raise InputError(f"{len(windows)} window labels for {stat.size} values",
                         expected="one label per value")
    idx = list(range(stat.size)) if indices is None else list(indices)
    rows = []
    for i in range(stat.size):  # a loop over windows
        alarm = bool(stat[i] >= h)
        reason = (f"{side} CUSUM (k={k:g}, h={h:g}; in-control run length about "
                  f"{arl0(k, h):.0f} windows)")
        rows.append(signal_row("sequential", window=windows[i], index=idx[i],
                               statistic=statistic, value=float(stat[i]), column=column,
                               high=float(h), alarm=alarm, reason=reason))
    return rows


# ------------------------------------------------------------------ helpers
def _check_alpha(alpha: float) -> None:
    if not (isinstance(alpha, int | float | np.floating) and 0 < float(alpha) < 1):
        raise InputError(f"alpha={alpha!r}", expected="a number between 0 and 1")


def _check_kh(k: float, h: float) -> None:
    if not (math.isfinite(float(k)) and float(k) >= 0 and math.isfinite(float(h))
            and float(h) > 0):
        raise InputError(f"k={k!r}, h={h!r}", expected="k >= 0 and h > 0, finite")


def _num(value: Any) -> float:
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        raise InputError(f"{value!r} is not a number", expected="a number or NaN") from None


def _fmt(value: Any) -> str:
    v = _num(value)
    return f"{v:.4g}" if math.isfinite(v) else str(v)
