"""The one acceptance rule of every calibration test.

A claim made at level ``alpha`` holds in simulation when its false-alarm rate
over ``reps`` seeded null runs is at most ``alpha`` plus three Monte-Carlo
standard errors, ``3 * sqrt(alpha * (1 - alpha) / reps)``: a test with a true
rate of exactly ``alpha`` fails this check about once in 700 runs, and one
whose rate is twice the level fails it almost surely once ``reps`` is a few
hundred.
"""

from __future__ import annotations

import math


def tolerance(alpha: float, reps: int) -> float:
    """Three Monte-Carlo standard errors of a rate ``alpha`` estimated from ``reps`` runs."""
    return 3.0 * math.sqrt(alpha * (1.0 - alpha) / reps)


def assert_level(false_alarms: int, reps: int, alpha: float, what: str) -> float:
    """Fail unless ``false_alarms / reps <= alpha + tolerance(alpha, reps)``; returns the rate."""
    rate = false_alarms / reps
    limit = alpha + tolerance(alpha, reps)
    assert rate <= limit, (
        f"{what}: false-alarm rate {rate:.3f} over {reps} null runs exceeds "
        f"{alpha:g} + 3 Monte-Carlo s.e. = {limit:.3f}"
    )
    return rate
