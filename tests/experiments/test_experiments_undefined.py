"""compare_models on real-shaped tables: scores equal scikit-learn's, undefined ones are stated.

Regression tests of issue 13: macro scores on folds missing a class, the
"y_pred contains classes not in y_true" warning, a model holding a lambda
(no size, no crash), and a flat multi-step forecaster next to one-step models.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import KFold, TimeSeriesSplit, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from mllife.experiments import compare_models

from ..evaluation._tables import FEATURES, seattle_weather

SCORES = ["accuracy", "f1_macro", "balanced_accuracy", "precision_macro", "recall_macro"]


@pytest.fixture(scope="module")
def weather():
    df = seattle_weather()
    return df[FEATURES], df["weather"]


@pytest.fixture(scope="module")
def weather_report(weather):
    X, y = weather
    models = {"tree": DecisionTreeClassifier(max_depth=4, random_state=0),
              "logistic": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))}
    with warnings.catch_warnings():
        warnings.simplefilter("error")     # nothing leaks: no UserWarning, no UndefinedMetricWarning
        report = compare_models(models, X, y, cv=KFold(4), scoring=SCORES)
    return models, report


def test_fold_scores_equal_cross_validate_with_the_same_scorers(weather, weather_report):
    X, y = weather
    models, report = weather_report
    for name, model in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # scikit-learn warns on fold 0 (fog never true)
            ref = cross_validate(model, X, y, cv=KFold(4), scoring=SCORES)
        folds = report.fold_scores[report.fold_scores["model"] == name]
        for score in SCORES:
            np.testing.assert_allclose(folds[score].to_numpy(), ref[f"test_{score}"],
                                       rtol=0, atol=1e-15, err_msg=f"{name} {score}")


def test_the_fold_without_fog_is_stated_not_warned(weather_report):
    _models, report = weather_report
    table = report.undefined_scores
    fold0 = table[(table["model"] == "tree") & (table["fold"] == 0)].set_index("score")
    # 2012 (fold 0) has no fog in y_true, but the tree predicts it.
    assert "['fog'] never occur in y_true" in fold0.loc["recall_macro", "reason"]
    assert "['fog'] never occur in y_true" in fold0.loc["balanced_accuracy", "reason"]
    found = [f for f in report.findings_by(check="undefined_score") if f.column == "tree"]
    assert {f.details["score"] for f in found} >= {"recall_macro", "balanced_accuracy"}
    assert "undefined scores" in report.to_dict()["tables"]
    assert "undefined scores" in report.to_html()


def test_a_fold_with_one_class_gives_nan_roc_auc_not_a_failed_model():
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    order = np.argsort(data.target.to_numpy(), kind="stable")   # all 0s first, then 1s
    X = data.data.iloc[order].reset_index(drop=True)
    y = data.target.iloc[order].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = compare_models({"lr": make_pipeline(StandardScaler(), LogisticRegression())},
                                X, y, cv=KFold(3), baseline=False)
    assert report.errors == {}                      # scikit-learn's scorer raised here
    folds = report.fold_scores.set_index("fold")
    assert np.isnan(folds.loc[0, "roc_auc"])        # fold 0 holds only 0s
    assert folds.loc[0, "accuracy"] > 0.5           # the other scores are kept
    (finding,) = [f for f in report.findings_by(check="undefined_score")
                  if f.details["score"] == "roc_auc"]
    assert "one class" in finding.message
    assert "left out of the mean" in finding.message
    mean = report.results.set_index("model").loc["lr", "roc_auc_mean"]
    assert mean == pytest.approx(np.nanmean(report.fold_scores["roc_auc"]))


def test_a_rule_model_holding_a_lambda_has_no_size_and_says_why():
    from sklearn.datasets import load_diabetes

    from mllife.baselines import RuleRegressor

    data = load_diabetes(as_frame=True)
    X, y = data.data, data.target
    rule = RuleRegressor(lambda df: 152.0 + 900.0 * df["bmi"])
    report = compare_models({"rule": rule, "ridge": Ridge()}, X, y, cv=3)
    table = report.results.set_index("model")
    assert np.isnan(table.loc["rule", "size_bytes"])
    assert table.loc["ridge", "size_bytes"] > 0
    assert table.loc["rule", "n_folds_failed"] == 0
    assert table.loc["rule", "mae_mean"] > 0
    (finding,) = report.findings_by(check="size_unmeasured")
    assert finding.column == "rule"
    assert "lambda" in finding.message or "Pickl" in finding.message
    assert "rule" in report.unmeasured_size
    assert report.to_dict()["unmeasured_size"]["rule"] == report.unmeasured_size["rule"]


def test_a_flat_forecaster_next_to_one_step_models_is_labelled():
    from mllife.baselines import NaiveForecaster, SeasonalNaiveForecaster

    rng = np.random.default_rng(0)
    n = 240
    level = 100 + np.cumsum(rng.normal(0, 1, n)) + 10 * np.sin(np.arange(n) * 2 * np.pi / 7)
    y = pd.Series(level, name="sales")
    X = pd.DataFrame({"lag_1": y.shift(1).bfill(), "lag_7": y.shift(7).bfill()})
    cv = TimeSeriesSplit(4, test_size=30)
    report = compare_models({"ridge": Ridge(), "seasonal": SeasonalNaiveForecaster(7)}, X, y,
                            cv=cv, baseline=NaiveForecaster())
    kinds = report.results.set_index("model")["forecast"]
    assert kinds["baseline"] == "multi-step (flat), horizons 1–30"
    assert kinds["seasonal"] == "multi-step (seasonal repeat), horizons 1–30"
    assert kinds["ridge"].startswith("one-step")
    (finding,) = report.findings_by(check="forecast_horizon")
    assert set(finding.column.split(", ")) == {"baseline", "seasonal"}
    assert any("multi-step forecaster" in note for note in report._notes())
    plain = compare_models({"ridge": Ridge()}, X, y, cv=cv)
    assert "forecast" not in plain.results.columns
