"""The domain classifier's verdict: an effect (AUC) and a test of it against chance."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mllife.datasets import make_churn
from mllife.drift import drift_report
from mllife.drift._domain import domain_classifier

ALPHA = 0.05
#: Repetitions per sample size of the null simulation, and the tolerance that gives:
#: a false-alarm rate <= ALPHA + 3 binomial standard errors = 0.142.
R = 50
TOLERANCE = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / R)


@pytest.fixture(scope="module")
def churn_features():
    frame = make_churn(2_000, random_state=3, defects=False, drift=False).frame
    return frame.drop(columns=["customer_id", "churned"])


def _halves(frame, n, rng):
    rows = rng.permutation(len(frame))[: 2 * n]
    return frame.iloc[rows[:n]], frame.iloc[rows[n:]]


@pytest.mark.slow
def test_random_halves_of_one_table_are_rarely_called_drifted(churn_features):
    # With the threshold alone (AUC >= 0.55) random halves of one table were "drifted"
    # 18-30% of the time at 60-100 rows per side. The verdict now also needs the folds'
    # Mann-Whitney p-value (Bonferroni-combined) below alpha: R = 50 seeded repetitions per
    # size, false-alarm rate at most alpha + 3 sqrt(alpha (1 - alpha) / R).
    columns = list(churn_features.columns)
    rng = np.random.default_rng(2024)
    for n in (60, 100, 300):
        results = [domain_classifier(*_halves(churn_features, n, rng), columns, alpha=ALPHA,
                                     random_state=r) for r in range(R)]
        false_alarms = np.mean([res["drifted"] for res in results])
        assert false_alarms <= TOLERANCE, (n, false_alarms)
        # Under the null the p-values hold their level too (not only with the AUC threshold).
        assert np.mean([res["p_value"] < ALPHA for res in results]) <= TOLERANCE, n
        assert all(res["threshold"] == 0.55 and res["alpha"] == ALPHA for res in results)


def test_a_column_shifted_by_one_sd_is_found(churn_features):
    # Power: one column (monthly charges) moved by one reference sd in the current half.
    columns = list(churn_features.columns)
    rng = np.random.default_rng(7)
    sd = float(churn_features["monthly_charges"].std())
    found = []
    for r in range(20):
        ref, cur = _halves(churn_features, 100, rng)
        cur = cur.assign(monthly_charges=cur["monthly_charges"] + sd)
        res = domain_classifier(ref, cur, columns, random_state=r)
        found.append(res["drifted"])
        assert res["drifted"] == (res["auc"] >= 0.55 and res["p_value"] < ALPHA)
    assert np.mean(found) >= 0.9


def test_drift_report_states_the_p_value_and_uses_its_alpha(churn_features):
    rng = np.random.default_rng(11)
    ref, cur = _halves(churn_features, 300, rng)
    shifted = cur.assign(monthly_charges=cur["monthly_charges"] + churn_features["monthly_charges"].std())
    report = drift_report(ref, shifted, multivariate=True)
    domain = report.multivariate
    assert domain["drifted"]
    assert domain["p_value"] < 1e-6
    assert domain["alpha"] == 0.05
    strict = drift_report(ref, cur, multivariate=True, alpha=1e-12)
    assert strict.multivariate["alpha"] == 1e-12
    assert not strict.multivariate["drifted"]
    assert 0.0 <= strict.multivariate["p_value"] <= 1.0


def test_too_few_rows_give_no_verdict():
    import pandas as pd

    small = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]})
    res = domain_classifier(small, small, ["x"])
    assert res["auc"] is None
    assert res["p_value"] is None
    assert not res["drifted"]
    assert res["status"].startswith("too few rows")


def test_text_columns_do_not_separate_random_halves():
    """Codes in order of first appearance numbered the reference's values first: mostly
    unique text (dates and numbers stored as text) told the halves apart every time."""
    import mllife

    frame = mllife.make_churn(2000, random_state=1).frame.drop(columns=["customer_id", "churned"])
    flagged = 0
    for seed in range(10):
        idx = np.random.default_rng(seed).permutation(len(frame))[:400]
        report = mllife.drift_report(frame.iloc[idx[:200]], frame.iloc[idx[200:]],
                                     multivariate=True)
        flagged += bool(report.multivariate["drifted"])
    assert flagged <= 2  # 10 null runs at alpha 0.05: 2 or more has probability 0.09
