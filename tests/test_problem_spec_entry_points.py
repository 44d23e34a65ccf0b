"""spec= on audit and compare_models (split: tests/split/test_split_spec.py; compare_champion:
tests/evaluation/test_champion_vocabulary.py): the spec's values are used, explicit values
that agree are fine, and values that disagree raise InputError."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate

import mllife
from mllife import InputError, ProblemSpec, SuccessCriteria, compare_models


def test_audit_takes_target_and_time_from_the_spec():
    frame, _ = mllife.make_churn(400, random_state=0)
    spec = ProblemSpec("churned", "binary", time_col="signup_date", positive_label=1)
    report = mllife.audit(frame, spec=spec)
    explicit = mllife.audit(frame, target="churned", time_col="signup_date")
    assert report.target == "churned"
    assert report.time_col == "signup_date"
    assert [f.check for f in report.findings] == [f.check for f in explicit.findings]
    assert mllife.audit(frame, spec=spec, target="churned").target == "churned"
    with pytest.raises(InputError, match=r"audit\(time_col='x'\) disagrees with spec.time_col"):
        mllife.audit(frame, spec=spec, time_col="x")


@pytest.fixture(scope="module")
def labelled():
    X, y = make_classification(300, n_features=5, random_state=0)
    return X, pd.Series(np.array(["stay", "churn"])[y], name="status")


def test_compare_models_takes_task_positive_label_and_criteria(labelled):
    X, y = labelled
    spec = ProblemSpec("status", "binary", positive_label="churn",
                       criteria=SuccessCriteria({"recall": 0.6, "roc_auc": 0.7}))
    report = compare_models({"lr": LogisticRegression()}, X, y, cv=3, spec=spec)
    ref = cross_validate(LogisticRegression(), X, y == "churn", cv=3, scoring="recall")
    table = report.results.set_index("model")
    assert table.loc["lr", "recall_mean"] == pytest.approx(ref["test_score"].mean())
    assert report.passed == {"lr": True, "baseline": False}
    same = compare_models({"lr": LogisticRegression()}, X, y, cv=3, spec=spec, task="binary",
                          positive_label="churn", criteria={"recall": 0.6, "roc_auc": 0.7})
    assert same.passed == report.passed
    with pytest.raises(InputError, match=r"compare_models.positive_label='stay'. disagrees"):
        compare_models({"lr": LogisticRegression()}, X, y, cv=3, spec=spec,
                       positive_label="stay")
    with pytest.raises(InputError, match=r"disagrees with spec.criteria"):
        compare_models({"lr": LogisticRegression()}, X, y, cv=3, spec=spec,
                       criteria={"recall": 0.9})
    with pytest.raises(InputError, match=r"disagrees with spec.task"):
        compare_models({"lr": LogisticRegression()}, X, y, cv=3, spec=spec, task="multiclass")


def test_a_stated_task_is_checked_and_a_forecast_gets_a_naive_baseline():
    X, y = make_classification(200, random_state=0)
    with pytest.raises(InputError, match="task='regression' contradicts the target: the model "
                                         "is a classifier"):
        compare_models({"lr": LogisticRegression()}, X, y, cv=3, task="regression")
    n = 120
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="D")})
    target = pd.Series(100 + np.sin(np.arange(n)) + 0.1 * np.arange(n), name="sales")
    from sklearn.model_selection import TimeSeriesSplit

    from mllife.baselines import SeasonalNaiveForecaster

    spec = ProblemSpec("sales", "forecast", time_col="date")
    report = compare_models({"seasonal": SeasonalNaiveForecaster(7)}, frame, target,
                            cv=TimeSeriesSplit(3), spec=spec)
    assert report.task == "forecast"
    assert report.scoring == ("mae", "rmse", "r2")
    assert "forecast" in report.results.columns   # the baseline is NaiveForecaster
