"""Hostile targets and requests against the one task and metric vocabulary.

Each test is a defect an outsider hit: a target the task rule let through to a raw
numpy/scikit-learn traceback or to a silently wrong number, a keyword one entry point
refused and another ignored, an error message that misled.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mllife import InputError, SuccessCriteria, _task, compare_champion, compare_models, evaluate

N = 200


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=N), "b": rng.normal(size=N)})
    y = pd.Series((X["a"] + rng.normal(size=N) > 0).astype(int), name="churned")
    y3 = pd.Series(rng.integers(0, 3, N), name="plan")
    return X, y, y3


@pytest.fixture(scope="module")
def models(data):
    X, y, y3 = data
    return {"clf": LogisticRegression().fit(X, y), "clf3": LogisticRegression().fit(X, y3),
            "reg": make_pipeline(StandardScaler(), LinearRegression()).fit(X, y)}


# ---- the task rule on hostile targets -------------------------------------------------------


@pytest.mark.parametrize(("y", "task"), [
    (pd.Series([True, False, True, False]), "binary"),
    (pd.Series(["0", "1", "1", "0"]), "binary"),
    (pd.Series([0.0, 1.0, 1.0, 0.0]), "regression"),   # floats are a measurement
    (pd.Series([3.5, 7.25, 3.5, 7.25]), "regression"),
    (pd.Series([0, 1, None, 1], dtype="Int64"), "binary"),
    (pd.Series([0, 1, None, 2], dtype="Int64"), "multiclass"),
    (pd.Series([True, None, False], dtype="boolean"), "binary"),
    (pd.Series(pd.Categorical(["a", "b", "a"], categories=["a", "b", "c"])), "binary"),
])
def test_hostile_targets_get_the_documented_task(y, task):
    assert _task.infer_task(y) == task


def test_a_regressor_pipeline_on_a_01_target_is_a_regression(data, models):
    X, y, _ = data
    assert _task.infer_task(y, model=models["reg"]) == "regression"
    assert evaluate(models["reg"], X, y, measure=False, baseline=None).task == "regression"


def test_a_classifier_with_string_classes_decides_the_task():
    model = DummyClassifier().fit([[0], [1], [2]], ["no", "yes", "no"])
    assert _task.infer_task(pd.Series(["no", "no"]), model=model) == "binary"


@pytest.mark.parametrize("y", [
    pd.Series([1.0, np.inf, 2.0, 3.0], name="spend"),
    pd.Series([1.0, -np.inf, 2.0, 3.0], name="spend"),
])
def test_an_infinite_target_is_refused_by_name_without_warnings(y):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputError, match=r"column 'spend'.*infinite"):
            _task.infer_task(y)


@pytest.mark.parametrize("y", [
    pd.Series(pd.date_range("2024-01-01", periods=4), name="when"),
    pd.Series(pd.to_timedelta([1, 2, 3, 4], unit="D"), name="when"),
    pd.Series(np.array([1 + 1j, 2, 1 + 1j, 2]), name="when"),
])
def test_a_target_of_dates_durations_or_complex_numbers_is_refused(y):
    with pytest.raises(InputError, match=r"column 'when'.*dtype"):
        _task.infer_task(y)


def test_infinite_target_in_every_entry_point(data, models):
    X, _, _ = data
    y = X["a"].rename("spend").copy()
    y.iloc[3] = np.inf
    reg = LinearRegression().fit(X, X["a"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InputError, match="infinite"):
            evaluate(reg, X, y, measure=False)
        with pytest.raises(InputError, match="infinite"):
            compare_champion(reg, reg, X, y, metric="mae", n_boot=100)
        with pytest.raises(InputError, match="infinite"):   # was: every fold failed, no error
            compare_models({"r": LinearRegression()}, X, y)


def test_a_date_target_in_compare_champion_is_an_input_error(data):
    X, y, _ = data
    dummy = DummyClassifier().fit(X, y)
    dates = pd.Series(pd.date_range("2020-01-01", periods=N), name="when")
    with pytest.raises(InputError, match="when"):
        compare_champion(dummy, dummy, X, dates, metric="accuracy", n_boot=100)


@pytest.mark.parametrize("y", [
    pd.Series(["0", "1"] * (N // 2), name="churned"),
    pd.Series(pd.Categorical(["no", "yes"] * (N // 2)), name="churned"),
    pd.Series(pd.date_range("2020-01-01", periods=N), name="churned"),
])
def test_a_regressor_given_labels_is_refused_by_evaluate_as_by_the_others(data, models, y):
    """evaluate computed MAE on text labels cast to float (and crashed on dates)."""
    X, _, _ = data
    with pytest.raises(InputError, match="churned"):
        evaluate(models["reg"], X, y, measure=False)
    with pytest.raises(InputError, match="churned"):
        compare_champion(models["reg"], models["reg"], X, y, metric="mae", n_boot=100)


def test_a_classifier_given_a_continuous_target_is_an_input_error(data, models):
    """evaluate raised scikit-learn's "mix of continuous and binary targets" ValueError."""
    X, _, _ = data
    with pytest.raises(InputError, match=r"column 'a'.*continuous"):
        evaluate(models["clf"], X, X["a"], measure=False)


def test_compare_models_refuses_a_two_column_target_by_name(data):
    X, y, _ = data
    with pytest.raises(InputError, match="one target column"):
        compare_models({"lr": LogisticRegression()}, X, pd.DataFrame({"a": y, "b": y}))
    with pytest.raises(InputError, match="one target column"):
        compare_models({"lr": LogisticRegression()}, X, np.c_[y, y])
    one = compare_models({"lr": LogisticRegression()}, X, y.to_frame(), cv=3)
    assert one.task == "binary"


# ---- positive_label where there is no positive class ------------------------------------------


def test_evaluate_refuses_positive_label_for_a_task_without_one(data, models):
    """evaluate ignored it silently; compare_models and compare_champion raise."""
    X, y, y3 = data
    with pytest.raises(InputError, match=r"positive_label.*regression"):
        evaluate(models["reg"], X, y, positive_label=1, measure=False)
    with pytest.raises(InputError, match=r"positive_label.*multiclass"):
        evaluate(models["clf3"], X, y3, positive_label=1, measure=False)


def test_compare_champion_refuses_positive_label_for_a_regression(data, models):
    X, y, _ = data
    with pytest.raises(InputError, match=r"positive_label.*regression"):
        compare_champion(models["reg"], models["reg"], X, y, metric="mae", n_boot=100,
                         positive_label=1)


def test_compare_models_lists_the_labels_as_they_are(data):
    """The message showed ['0', '1'] for integer labels: the user then passes "1"."""
    X, y, _ = data
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        compare_models({"lr": LogisticRegression()}, X, y, positive_label="yes")


# ---- sign of scikit-learn's neg_ scorer names --------------------------------------------------


@pytest.mark.parametrize(("name", "value"), [("neg_log_loss", -0.3),
                                         ("neg_mean_absolute_error", -5.0)])
def test_a_negative_threshold_on_a_neg_scorer_name_says_how_to_write_it(name, value):
    with pytest.raises(InputError, match=rf"{name}.*{abs(value):g}"):
        SuccessCriteria({name: value})


def test_a_neg_scorer_name_is_read_as_the_positive_metric(data):
    X, y, _ = data
    report = compare_models({"lr": LogisticRegression()}, X, y, cv=3,
                            scoring=["roc_auc", "neg_log_loss"])
    loss = report.for_model("lr")["metrics"]["log_loss"]
    assert loss > 0
    assert SuccessCriteria({"neg_log_loss": loss + 0.01}).passed(report.for_model("lr"))
    assert not SuccessCriteria({"neg_log_loss": loss - 0.01}).passed(report.for_model("lr"))


# ---- criteria on a comparison judge a candidate, never the baseline ---------------------------


def test_criteria_on_a_comparison_never_judge_the_baseline(data):
    """With recall first, the all-positive Dummy baseline was "best" and passed recall ≥ 0.9."""
    X, _, _ = data
    y = pd.Series(np.r_[np.ones(150, int), np.zeros(50, int)], name="churned")
    report = compare_models({"lr": LogisticRegression(C=1e-4, class_weight="balanced")}, X, y,
                            cv=3, scoring=["recall", "roc_auc"])
    assert report.best == "baseline"        # by recall, the sort order is unchanged
    criteria = SuccessCriteria({"recall": 0.9})
    assert criteria.checklist(report)["actual"].iloc[0] == pytest.approx(
        report.for_model("lr")["metrics"]["recall"])
    assert criteria.passed(report) == criteria.passed(report.for_model("lr"))


class _FailsToFit(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        raise ValueError("no")


def test_criteria_on_a_comparison_whose_candidates_all_failed_are_not_met(data):
    X, y, _ = data
    report = compare_models({"bad": _FailsToFit()}, X, y, cv=3)
    assert report.best == "baseline"
    found, = SuccessCriteria({"roc_auc": 0.1}).check(report)
    assert found.severity == "error"
    assert "every model failed" in found.message or "missing or undefined" in found.message


def test_a_task_spelled_differently_from_the_spec_agrees_with_it(data):
    """task="Binary" is accepted alone, so it cannot "disagree" with spec.task="binary"."""
    from mllife import ProblemSpec
    from mllife._spec import resolve_spec

    spec = ProblemSpec("churned", "binary")
    assert resolve_spec(spec, where="f", task=" Binary ")["task"] == "binary"
    with pytest.raises(InputError, match="disagrees"):
        resolve_spec(spec, where="f", task="multiclass")
    X, y, _ = data
    assert compare_models({"lr": LogisticRegression()}, X, y, cv=3, task="Binary",
                          spec=spec).task == "binary"
