"""The domain classifier's "the data set drifted" verdict holds its level.

The claim: the mean held-out ROC-AUC of a classifier telling reference rows
from current rows reaches ``threshold`` (0.55) *and* the folds' one-sided
Mann–Whitney tests, Bonferroni-combined, give p < alpha (0.05). Under the null
(both samples from one distribution) each fold's test is exact given its
model, so the verdict's false-alarm rate is at most alpha.

Level: R = 300 null runs at 100 rows per side and R = 200 at 60 vs 150 rows
(numbers, skewed numbers, text, small integers), each checked with
``assert_level`` (rate <= 0.05 + 3 Monte-Carlo s.e.: 0.088 at R=300, 0.096
at R=200). Power: a changed correlation that no single column shows (the
classic case for a multivariate check), 300 rows per side, flagged in at
least 80% of R = 40 runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mllife.drift import drift_report
from mllife.drift._domain import domain_classifier

from ._level import assert_level

ALPHA = 0.05


def _frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "a": rng.normal(size=n),
        "b": rng.exponential(size=n),
        "c": rng.choice(np.array(["x", "y", "z"], dtype=object), n),
        "d": rng.integers(0, 5, n),
    })


@pytest.mark.slow
@pytest.mark.parametrize(("n_ref", "n_cur", "reps"), [(100, 100, 300), (60, 150, 200)])
def test_null_verdict_holds_its_level(n_ref, n_cur, reps):
    rng = np.random.default_rng(n_ref * 1_000 + n_cur)
    alarms = 0
    for rep in range(reps):
        result = domain_classifier(_frame(rng, n_ref), _frame(rng, n_cur), ["a", "b", "c", "d"],
                                   alpha=ALPHA, random_state=rep)
        assert result["status"] == "ok"
        alarms += bool(result["drifted"])
    assert_level(alarms, reps, ALPHA, f"domain classifier at {n_ref} vs {n_cur} rows")


def _correlated(rng: np.random.Generator, n: int, rho: float) -> pd.DataFrame:
    a = rng.normal(size=n)
    b = rho * a + np.sqrt(1.0 - rho**2) * rng.normal(size=n)
    return pd.DataFrame({"a": a, "b": b})


@pytest.mark.slow
def test_a_changed_correlation_is_found():
    rng = np.random.default_rng(7)
    reps, found = 40, 0
    for rep in range(reps):
        result = domain_classifier(_correlated(rng, 300, 0.0), _correlated(rng, 300, 0.9), ["a", "b"],
                                   alpha=ALPHA, random_state=rep)
        found += bool(result["drifted"])
    assert found / reps >= 0.8, f"power {found / reps:.2f} on a correlation change 0 -> 0.9"


@pytest.mark.slow
def test_drift_report_carries_the_verdict_and_stays_quiet_on_one_table():
    rng = np.random.default_rng(3)
    table = _frame(rng, 400)
    quiet = drift_report(table.iloc[:200], table.iloc[200:], multivariate=True)
    assert quiet.multivariate["status"] == "ok"
    assert not quiet.multivariate["drifted"]
    assert not quiet.drifted
    moved = drift_report(_correlated(rng, 400, 0.0), _correlated(rng, 400, 0.95), multivariate=True)
    assert moved.multivariate["drifted"]
    assert moved.drifted
    assert moved.multivariate["p_value"] < ALPHA
    assert moved.multivariate["auc"] >= 0.55
