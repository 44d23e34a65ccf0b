"""Coverage of CBPE's estimated-performance interval with a small labelled reference.

Each case draws R = 80 labelled references (150 or 300 rows) from one population, fits a
performance model on each, and estimates 3 windows (50 or 200 rows) per reference from the
same population: 240 (reference, window) pairs per case. The 95% interval of the estimated
ROC-AUC, accuracy and F1 (macro for multiclass) must cover the window's realized value in at
least 90% of them, for a calibrated, an overconfident (logits x 1.5) and an underconfident
(logits x 0.6) model. Miscalibration of that size often passes the calibration test on a
few hundred rows, so the probabilities are trusted; before the interval carried the
reference's realized-vs-estimated gap, coverage fell to 0.65-0.9 (binary) and 0.36-0.94
(multiclass) in those cases. Monte-Carlo: with 240 pairs the standard error of a coverage
of 0.95 is about 0.014 (pairs sharing a reference are correlated, so a little more).
"""

from __future__ import annotations

import numpy as np
import pytest

from mllife.monitor._outputs import Outputs
from mllife.monitor._performance import PerformanceModel

W3 = np.array([[1.0, -0.5, 0.0], [0.0, 1.0, -0.7], [-0.6, 0.0, 0.8]])
TEMPERATURE = {"calibrated": 1.0, "overconfident": 1.5, "underconfident": 0.6}
REFERENCES, WINDOWS = 80, 3
METRICS = ["roc_auc", "accuracy", "f1"]


def draw(task: str, n: int, t: float, rng: np.random.Generator) -> tuple[Outputs, np.ndarray]:
    """Labels from the true probabilities, outputs from the model's (logits times ``t``)."""
    if task == "binary":
        s = rng.normal(size=n) * 1.5
        y = (rng.uniform(size=n) < 1 / (1 + np.exp(-s))).astype(int)
        p = 1 / (1 + np.exp(-t * s))
        return Outputs("binary", (p > 0.5).astype(int), np.column_stack([1 - p, p]), (0, 1)), y
    logits = rng.normal(size=(n, 3)) @ W3 * 1.5
    true = np.exp(logits)
    true /= true.sum(axis=1, keepdims=True)
    y = (rng.uniform(size=(n, 1)) > true.cumsum(axis=1)).sum(axis=1)
    q = np.exp(t * logits)
    q /= q.sum(axis=1, keepdims=True)
    return Outputs("multiclass", q.argmax(axis=1), q, (0, 1, 2)), y


def coverage(task: str, n_ref: int, n_win: int, kind: str, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    hits: dict[str, list[bool]] = {m: [] for m in METRICS}
    for _ in range(REFERENCES):
        out, y = draw(task, n_ref, TEMPERATURE[kind], rng)
        perf = PerformanceModel.fit(out, None, y, metrics=METRICS)
        for _ in range(WINDOWS):
            window, yw = draw(task, n_win, TEMPERATURE[kind], rng)
            est = perf.estimate(perf.estimate_sums(window))
            real = perf.realized(perf.realized_sums(window, yw))
            for m in METRICS:
                if np.isfinite(real[m].value) and np.isfinite(est[m].low):
                    hits[m].append(bool(est[m].low <= real[m].value <= est[m].high))
    for m in METRICS:
        assert len(hits[m]) >= 0.95 * REFERENCES * WINDOWS, (m, len(hits[m]))
    return {m: float(np.mean(h)) for m, h in hits.items()}


@pytest.mark.parametrize("task", ["binary", "multiclass"])
@pytest.mark.parametrize("n_ref", [150, 300])
@pytest.mark.parametrize("n_win", [50, 200])
def test_estimate_interval_covers_with_a_small_reference(task, n_ref, n_win):
    for i, kind in enumerate(TEMPERATURE):
        seed = 1000 * (task == "binary") + 10 * n_ref + n_win + i
        covered = coverage(task, n_ref, n_win, kind, seed)
        for m, rate in covered.items():
            assert rate >= 0.90, (task, n_ref, n_win, kind, m, rate)


def test_calibration_term_vanishes_with_a_large_reference():
    # the widening is the reference's own: at 20,000 calibrated rows it is below 0.01
    rng = np.random.default_rng(3)
    out, y = draw("binary", 20_000, 1.0, rng)
    perf = PerformanceModel.fit(out, None, y, metrics=METRICS)
    cal = perf.to_dict()["calibration_se"]
    assert set(cal) == set(METRICS)
    assert all(0 < v < 0.01 for v in cal.values()), cal
    again = PerformanceModel.from_dict(perf.to_dict())
    window, _ = draw("binary", 500, 1.0, rng)
    assert again.estimate(again.estimate_sums(window)) == perf.estimate(perf.estimate_sums(window))

