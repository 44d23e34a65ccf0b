"""Single-column leakage: a column the target is derived from is found, a strong predictor is not.

The audit's ``target_leakage`` and ``check_leakage``'s ``target_proxy`` share one rule
(``mllife.split._target.derived_rule``), so both are tested here on the same tables.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer

import mllife
from mllife import InputError
from mllife.datasets import make_churn
from mllife.split import check_leakage


def fair_like(n: int = 6_366, *, continuous: bool = False, seed: int = 0) -> pd.DataFrame:
    """statsmodels' ``fair`` data: ``had_affair`` is ``affairs > 0``, ordinary survey predictors.

    ``affairs`` is 0 in about 75% of rows; otherwise one of a few rates, or (``continuous``, as in
    statsmodels, where it is a rate per year of marriage) that rate over the years married.
    """
    rng = np.random.default_rng(seed)
    rate_marriage = rng.choice([1, 2, 3, 4, 5], n, p=[0.02, 0.05, 0.15, 0.35, 0.43]).astype(float)
    yrs_married = rng.choice([0.5, 2.5, 6.0, 9.0, 13.0, 16.5, 23.0], n)
    p_affair = 1 / (1 + np.exp(-(-1.1 + 0.5 * (3.5 - rate_marriage) + 0.04 * yrs_married)))
    had = rng.random(n) < p_affair * 0.75
    rate = rng.choice([0.08, 0.42, 1.2, 3.0, 7.0, 12.0], n)
    if continuous:
        rate = np.round(rate * 9.0 / yrs_married, 6)
    frame = pd.DataFrame({
        "rate_marriage": rate_marriage,
        "age": rng.choice([17.5, 22.0, 27.0, 32.0, 37.0, 42.0], n),
        "yrs_married": yrs_married,
        "children": rng.choice([0.0, 1.0, 2.0, 3.0, 4.0, 5.5], n),
        "religious": rng.choice([1.0, 2.0, 3.0, 4.0], n),
        "educ": rng.choice([9.0, 12.0, 14.0, 16.0, 17.0, 20.0], n),
        "occupation": rng.choice([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], n),
        "occupation_husb": rng.choice([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], n),
        "affairs": np.where(had, rate, 0.0),
    })
    return frame.assign(had_affair=(frame["affairs"] > 0).astype(int))


@pytest.mark.parametrize("continuous", [False, True], ids=["few_values", "statsmodels_rates"])
def test_target_thresholded_from_a_numeric_column_is_found(continuous):
    frame = fair_like(continuous=continuous)
    assert 0.70 < (frame["affairs"] == 0).mean() < 0.80
    assert frame["affairs"].nunique() > (10 if continuous else 6)
    found = mllife.audit(frame, target="had_affair").findings_by(check="target_leakage")
    assert [(f.column, f.severity) for f in found] == [("affairs", "warning")]
    assert found[0].details["rule"] == ("cut" if continuous else "values")
    assert found[0].details["accuracy"] == 1.0
    report = check_leakage(frame.iloc[:4_500], frame.iloc[4_500:], target="had_affair")
    proxies = report.findings_by(check="target_proxy")
    assert [(f.column, f.severity) for f in proxies] == [("affairs", "error")]
    assert report.leaky_columns == ["affairs"]


def test_large_table_is_judged_on_a_sample_first_then_on_every_row():
    frame = fair_like(60_000, continuous=True, seed=1)
    frame["noisy"] = frame["affairs"] + np.random.default_rng(1).normal(0, 2, len(frame))
    found = mllife.audit(frame, target="had_affair").findings_by(check="target_leakage")
    assert [f.column for f in found] == ["affairs"]
    assert found[0].n_rows == 60_000


def test_threshold_is_named_in_the_finding():
    frame = fair_like(continuous=True)
    (finding,) = mllife.audit(frame, target="had_affair").findings_by(check="target_leakage")
    assert "values above 0 give one class" in finding.message


def test_strong_predictors_of_breast_cancer_are_not_proxies():
    frame = load_breast_cancer(as_frame=True).frame
    assert mllife.audit(frame, target="target").findings_by(check="target_leakage") == []
    for seed in range(5):
        s = mllife.split(frame, target="target", random_state=seed)
        assert s.report.findings_by(check="target_proxy") == [], seed
        scores = s.report.feature_scores.set_index("column")["score"]
        assert scores.max() > 0.9  # nine columns are strong predictors: scored, not flagged
        report = check_leakage(s.train, s.test, target="target")
        assert report.findings_by(check="target_proxy") == [], seed


def test_churn_planted_leak_is_still_found():
    frame, manifest = make_churn(3_000, random_state=0)
    (leaky,) = manifest["leaky_column"]["columns"]
    audit = mllife.audit(frame, target="churned", id_cols=["customer_id"])
    assert [f.column for f in audit.findings_by(check="target_leakage")] == [leaky]
    s = mllife.split(frame, target="churned", random_state=0)
    assert [f.column for f in s.report.findings_by(check="target_proxy")] == [leaky]
    assert s.report.findings_by(check="target_proxy")[0].severity == "error"


def test_regression_target_has_no_cut_rule():
    rng = np.random.default_rng(0)
    x = rng.normal(size=2_000)
    frame = pd.DataFrame({"x": x, "y": 3 * x + rng.normal(0, 1.5, 2_000)})  # R² about 0.8
    report = check_leakage(frame.iloc[:1_500], frame.iloc[1_500:], target="y")
    assert report.findings_by(check="target_proxy") == []
    assert report.feature_scores.set_index("column").loc["x", "score"] > 0.7


def _chance_cut_table(positives: int) -> pd.DataFrame:
    """30 rows of unrelated columns; ``x0`` cuts off the ``positives`` positive rows."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"x{j}": rng.normal(size=30) for j in range(20)})
    for j in range(5):
        frame[f"c{j}"] = rng.choice(list("abcdefghij"), 30)
    y = np.zeros(30, dtype=np.int64)
    y[7:7 + positives] = 1
    frame["x0"] = np.where(y == 1, 10.0 + np.arange(30), frame["x0"])
    return frame.assign(y=y)


def test_a_perfect_cut_of_one_or_two_positives_is_chance():
    # one positive among 30 rows: a perfect cut has p = 2/30; two: p = 2 / C(30, 2) = 0.0046,
    # both above 0.05 / 25 columns
    for positives in (1, 2):
        frame = _chance_cut_table(positives)
        assert mllife.audit(frame, target="y").findings_by(check="target_leakage") == []


@pytest.mark.parametrize("alpha", [0, 1.5, "0.05", True])
def test_alpha_must_be_a_level(alpha):
    with pytest.raises(InputError, match="alpha"):
        mllife.audit(_chance_cut_table(1), target="y", checks={"target_leakage": {"alpha": alpha}})


def test_alpha_is_a_parameter_and_the_message_states_the_test():
    frame = _chance_cut_table(2)
    loose = mllife.audit(frame, target="y", checks={"target_leakage": {"alpha": 0.5}})
    (finding,) = loose.findings_by(check="target_leakage")
    assert finding.column == "x0"
    assert finding.details["p_value"] == pytest.approx(2 / math.comb(30, 2))
    assert finding.details["n_tests"] == 25
    assert "below 0.5 / 25 (Bonferroni over 25 columns)" in finding.message
