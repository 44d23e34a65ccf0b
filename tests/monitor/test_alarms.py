"""Alarms at a stated false-alarm rate: the confidence test, the per-window Bonferroni
decision and the CUSUM, each calibrated by a seeded simulation under the null."""

from __future__ import annotations

import math

import numpy as np
import pytest

import mllife
from mllife.monitor._alarms import (
    SIGNAL_COLUMNS,
    SIGNALS,
    STATISTICAL_SIGNALS,
    alarm_findings,
    arl,
    arl0,
    below_test,
    confidence_sums,
    confidence_test,
    cusum,
    decide_window,
    expected_false_alarms,
    make_finding,
    sequential_rows,
    signal_row,
    window_level,
)
from mllife.monitor._outputs import Outputs


def mc_limit(level: float, n: int) -> float:
    """Three Monte-Carlo standard errors of a rejection rate at ``level`` over ``n`` draws."""
    return 3.0 * math.sqrt(level * (1 - level) / n)


# ---------------------------------------------------------------- vocabulary
def test_signal_names_are_the_shared_vocabulary():
    assert SIGNALS == ("data_drift", "prediction_drift", "confidence", "estimated_performance",
                       "realized_performance", "data_quality", "freshness", "operations",
                       "sequential")
    assert set(STATISTICAL_SIGNALS) < set(SIGNALS)
    with pytest.raises(mllife.InputError, match="signal 'drift'"):
        signal_row("drift", window="w", index=0, statistic="x", value=1.0)


def test_window_level_and_expected_false_alarms():
    assert window_level(0.05, 5) == pytest.approx(0.01)
    assert math.isnan(window_level(0.05, 0))
    for bad in (0.0, 1.0, -0.1, "0.05"):
        with pytest.raises(mllife.InputError, match="alpha"):
            window_level(bad, 3)
    out = expected_false_alarms(0.05, 100, n_sequential=2, k=0.5, h=5.0)
    assert out["statistical"] == pytest.approx(5.0)
    assert out["sequential"] == pytest.approx(200 / arl0(0.5, 5.0))
    assert out["total"] == pytest.approx(out["statistical"] + out["sequential"])


# ---------------------------------------------------------------- decide_window
def test_decide_window_bonferroni_over_computable_signals():
    tests = [
        {"signal": "data_drift", "statistic": "drift_share", "value": 0.2, "p_value": 0.011},
        {"signal": "confidence", "statistic": "mean_max_probability", "value": 0.8,
         "p_value": 0.2},
        {"signal": "estimated_performance", "statistic": "roc_auc", "value": 0.7,
         "p_value": 0.004},
        {"signal": "estimated_performance", "statistic": "accuracy", "value": 0.8,
         "p_value": 0.006},
        {"signal": "realized_performance", "statistic": "roc_auc", "p_value": math.nan},
        {"signal": "freshness", "statistic": "repeated_batches", "value": 1.0, "alarm": True,
         "reason": "a batch seen before"},
    ]
    before = [dict(t) for t in tests]
    rows = decide_window(tests, 0.05, window="w7", index=7)
    assert tests == before  # inputs never mutated
    assert [list(r) for r in rows] == [list(SIGNAL_COLUMNS)] * len(tests)
    levels = [r["level"] for r in rows]
    # G = 3 computable statistical signals; estimated_performance has 2 tests: alpha / 6.
    assert levels[:4] == pytest.approx([0.05 / 3, 0.05 / 3, 0.05 / 6, 0.05 / 6])
    assert math.isnan(levels[4])
    assert math.isnan(levels[5])
    assert [r["alarm"] for r in rows] == [True, False, True, True, False, True]
    assert rows[0]["window"] == "w7"
    assert rows[0]["index"] == 7
    assert "alpha 0.05 / 3 signals" in rows[0]["reason"]
    assert "not computable" in rows[4]["reason"]
    assert rows[5]["reason"] == "a batch seen before"  # deterministic rows pass through


def test_decide_window_refuses_unknown_keys_and_signals():
    with pytest.raises(mllife.InputError, match="unknown keys"):
        decide_window([{"signal": "confidence", "p_value": 0.1, "pvalue": 0.1}], 0.05)
    with pytest.raises(mllife.InputError, match="without its signal"):
        decide_window([{"p_value": 0.1}], 0.05)
    with pytest.raises(mllife.InputError, match="not known"):
        decide_window([{"signal": "accuracy", "p_value": 0.1}], 0.05)


@pytest.mark.parametrize("n_signals", [1, 3, 5])
def test_decide_window_null_any_alarm_rate_at_most_alpha(n_signals):
    """G independent null p-values per window: P(any alarm) <= alpha (10,000 windows)."""
    rng = np.random.default_rng(16 + n_signals)
    alpha, n_windows = 0.05, 10_000
    names = STATISTICAL_SIGNALS[:n_signals]
    p = rng.uniform(size=(n_windows, n_signals))
    any_alarm = 0
    for row in p:  # a loop over simulated windows
        rows = decide_window([{"signal": s, "p_value": float(v)} for s, v in
                              zip(names, row, strict=True)], alpha)
        any_alarm += any(r["alarm"] for r in rows)
    rate = any_alarm / n_windows
    exact = 1 - (1 - alpha / n_signals) ** n_signals
    assert rate <= alpha + mc_limit(alpha, n_windows)
    assert abs(rate - exact) <= mc_limit(exact, n_windows)


def test_decide_window_dependent_signals_stay_below_alpha():
    """Perfectly dependent p-values (one shift seen by every signal): rate = alpha / G."""
    rng = np.random.default_rng(5)
    p = rng.uniform(size=5000)
    rate = np.mean([any(r["alarm"] for r in decide_window(
        [{"signal": s, "p_value": float(v)} for s in STATISTICAL_SIGNALS], 0.05)) for v in p])
    assert rate <= 0.05 / 5 + mc_limit(0.01, 5000)


# ---------------------------------------------------------------- confidence
def _sums(x: np.ndarray) -> dict[str, np.ndarray]:
    """Confidence sums of each row of a (replicates, n) array."""
    return {"confidence_n": np.full(x.shape[0], float(x.shape[1])),
            "confidence_sum": x.sum(axis=1), "confidence_sum2": (x * x).sum(axis=1),
            "confidence_sum3": (x * x * x).sum(axis=1)}


def _draw(rng: np.random.Generator, kind: str, size: int, n: int) -> np.ndarray:
    """Max-probabilities: "skewed" (binary, mass near 1, skewness about -1.8) or "moderate"
    (5 classes, Dirichlet(0.3): skewness about 0.2)."""
    if kind == "skewed":
        return 1.0 - rng.beta(0.3, 2.0, size=(size, n)) / 2.0
    return rng.dirichlet([0.3] * 5, size=(size, n)).max(axis=-1)


def _null_p_values(seed: int, kind: str, n_window: int, n_reference: int,
                   reps: int = 2000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    p = np.empty(reps)
    chunk = max(1, 2_000_000 // max(n_window, n_reference))
    for start in range(0, reps, chunk):  # chunks of replicates, bounded memory
        size = min(chunk, reps - start)
        w = _sums(_draw(rng, kind, size, n_window))
        r = _sums(_draw(rng, kind, size, n_reference))
        for i in range(size):  # a loop over replicates
            p[start + i] = confidence_test({k: v[i] for k, v in w.items()},
                                           {k: v[i] for k, v in r.items()})[2]
    return p


@pytest.mark.parametrize(("seed", "kind", "n_window", "n_reference"), [
    (1, "moderate", 30, 5000),   # a small window against a large reference
    (2, "skewed", 2000, 300),    # a large window against a small reference, skewed scores
    (3, "skewed", 150, 5000),    # skewed scores in a window above Cochran's rule
    (4, "moderate", 20, 20),
])
def test_confidence_test_null_rejection_rate_within_monte_carlo_limit(seed, kind, n_window,
                                                                      n_reference):
    reps = 2000
    p = _null_p_values(seed, kind, n_window, n_reference, reps)
    computable = np.isfinite(p)
    assert computable.mean() >= 0.9
    for level in (0.05, 0.01):
        rate = float(np.mean(p[computable] <= level))
        n = int(computable.sum())
        assert rate <= level + mc_limit(level, n), (level, rate)
        assert rate >= level - mc_limit(level, n) - 0.01, (level, rate)  # not vacuous


def test_confidence_test_declines_when_the_mean_is_not_normal():
    """30 heavily skewed max-probabilities: Cochran's rule fails, no p-value (no false alarm)."""
    p = _null_p_values(7, "skewed", 30, 5000, reps=1000)
    assert np.isnan(p).mean() >= 0.95
    assert np.mean(np.nan_to_num(p, nan=1.0) <= 0.05) <= 0.05 + mc_limit(0.05, 1000)


def test_confidence_test_detects_a_drop_and_handles_edge_cases():
    rng = np.random.default_rng(3)
    ref = {k: v[0] for k, v in _sums(_draw(rng, "moderate", 1, 5000)).items()}
    lower = 0.85 * _draw(rng, "moderate", 1, 300)
    mean, z, p = confidence_test({k: v[0] for k, v in _sums(lower).items()}, ref)
    assert z < 0
    assert p < 1e-6
    assert mean == pytest.approx(lower.mean())
    few = {k: v[0] for k, v in _sums(_draw(rng, "moderate", 1, 5)).items()}
    assert math.isnan(confidence_test(few, ref)[2])  # fewer than 10 rows
    empty = {"confidence_n": 0.0, "confidence_sum": 0.0, "confidence_sum2": 0.0,
             "confidence_sum3": 0.0}
    assert all(math.isnan(v) for v in confidence_test(empty, ref))
    ones = {k: v[0] for k, v in _sums(np.ones((1, 50))).items()}
    assert confidence_test(ones, ones)[1:] == (0.0, 1.0)


def test_confidence_sums_are_additive_and_skip_missing_rows():
    proba = np.array([[0.9, 0.1], [0.3, 0.7], [np.nan, np.nan], [0.5, 0.5]])
    whole = confidence_sums(Outputs("binary", np.array([0, 1, 0, 0]), proba, (0, 1)))
    a = confidence_sums(Outputs("binary", np.array([0, 1]), proba[:2], (0, 1)))
    b = confidence_sums(Outputs("binary", np.array([0, 0]), proba[2:], (0, 1)))
    for key, value in whole.items():
        np.testing.assert_allclose(value, a[key] + b[key], rtol=1e-12)
    assert float(whole["confidence_n"]) == 3
    assert float(whole["confidence_sum"]) == pytest.approx(0.9 + 0.7 + 0.5)
    none = confidence_sums(Outputs("regression", np.array([1.0]), None, None))
    assert float(none["confidence_n"]) == 0


# ---------------------------------------------------------------- below_test
def test_below_test_one_sided_and_calibrated():
    assert below_test(0.80, 0.01, 0.75, higher_is_better=True) > 0.99
    assert below_test(0.30, 0.02, 0.25, higher_is_better=False) < 0.01  # an error metric
    assert math.isnan(below_test(0.8, 0.0, 0.75, higher_is_better=True))
    assert math.isnan(below_test(math.nan, 0.01, 0.75, higher_is_better=True))
    wide = below_test(0.74, 0.01, 0.75, higher_is_better=True, threshold_se=0.05)
    assert wide > below_test(0.74, 0.01, 0.75, higher_is_better=True)
    rng = np.random.default_rng(11)
    estimates = rng.normal(0.75, 0.02, 20_000)  # exactly at the threshold: the null's edge
    p = np.array([below_test(e, 0.02, 0.75, higher_is_better=True) for e in estimates])
    assert abs(np.mean(p <= 0.01) - 0.01) <= mc_limit(0.01, 20_000)


# ---------------------------------------------------------------- CUSUM
def test_cusum_sides_restart_and_missing_values():
    stat, first = cusum([-2.0, np.nan, -2.0, -2.0], k=0.5, h=4.0)
    assert stat.tolist() == [1.5, 1.5, 3.0, 4.5]
    assert first == 3
    up, first_up = cusum([2.0, 2.0, 2.0, -1.0, 2.0], k=0.5, h=3.0, side="upper")
    assert up.tolist() == [1.5, 3.0, 1.5, 0.0, 1.5]
    assert first_up == 1
    assert cusum([], h=5.0)[1] is None
    with pytest.raises(mllife.InputError, match="side"):
        cusum([0.0], side="both")
    with pytest.raises(mllife.InputError, match="h="):
        cusum([0.0], h=0.0)


def test_arl_siegmund_values():
    assert arl0(0.5, 5.0) == pytest.approx(938.2, abs=0.5)
    assert arl(0.5, 5.0, shift=1.0) == pytest.approx(10.33, abs=0.05)
    assert arl(0.5, 5.0, shift=0.5) == pytest.approx((5 + 1.166) ** 2)


def _run_lengths(rng: np.random.Generator, runs: int, shift: float, chunk: int) -> np.ndarray:
    lengths = np.empty(runs)
    for r in range(runs):  # a loop over simulated runs
        z = rng.normal(-shift, 1.0, chunk)
        first = cusum(z)[1]
        while first is None:  # rare: a run longer than the chunk
            z = np.concatenate([z, rng.normal(-shift, 1.0, chunk)])
            first = cusum(z)[1]
        lengths[r] = first + 1
    return lengths


def test_cusum_in_control_run_length_matches_siegmund():
    """400 in-control runs: the mean run length is within 15% of arl0 (about 3 Monte-Carlo
    standard errors: run lengths are nearly geometric, sd ~ mean, so se ~ 938 / 20)."""
    lengths = _run_lengths(np.random.default_rng(2024), 400, 0.0, 3000)
    assert abs(lengths.mean() / arl0(0.5, 5.0) - 1.0) <= 0.15, lengths.mean()


def test_cusum_detects_a_one_sigma_drop_in_about_ten_windows():
    lengths = _run_lengths(np.random.default_rng(7), 400, 1.0, 200)
    assert abs(lengths.mean() - arl(0.5, 5.0, 1.0)) <= 1.5, lengths.mean()
    assert np.median(lengths) <= 12


def test_sequential_rows_mark_alarms_without_a_level():
    z = np.r_[np.zeros(5), np.full(10, -2.0)]
    rows = sequential_rows(z, windows=[f"w{i}" for i in range(15)], statistic="cusum_confidence")
    alarms = [r["index"] for r in rows if r["alarm"]]
    assert alarms
    assert alarms[0] == 8
    assert all(math.isnan(r["level"]) and r["high"] == 5.0 for r in rows)
    assert {r["signal"] for r in rows} == {"sequential"}
    with pytest.raises(mllife.InputError, match="window labels"):
        sequential_rows(z, windows=["w0"], statistic="cusum_confidence")


# ---------------------------------------------------------------- findings
def test_findings_carry_window_signal_numbers_and_severity():
    rows = decide_window([
        {"signal": "realized_performance", "statistic": "roc_auc", "value": 0.61,
         "low": 0.55, "high": 0.67, "p_value": 1e-5},
        {"signal": "prediction_drift", "statistic": "drift_share", "value": 1.0,
         "p_value": 1e-9},
        {"signal": "data_quality", "statistic": "violation_rate", "value": 0.1, "alarm": True},
    ], 0.05, window="2024-06-01", index=12)
    findings = alarm_findings(rows)
    assert [f.check for f in findings] == ["monitor_realized_performance",
                                           "monitor_prediction_drift"]
    assert [f.severity for f in findings] == ["error", "warning"]
    first = findings[0]
    assert "window 2024-06-01" in first.message
    assert "0.61" in first.message
    assert "(0.55 to 0.67)" in first.message
    assert first.suggestion
    assert set(first.details) >= {"window", "index", "signal", "statistic", "value", "low",
                                  "high", "p_value", "level"}
    assert first.details["index"] == 12
    info = make_finding(rows[2], "a note", severity="info")
    assert info.severity == "info"
    assert info.check == "monitor_data_quality"
