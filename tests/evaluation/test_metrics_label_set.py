"""One metric implementation: evaluate, compare_champion and SuccessCriteria agree with scikit-learn.

Known answers on multiclass tables where a class the model knows is absent
from the test rows and a predicted label never occurs in y_true: macro
precision, recall and F1 average over the labels found in y_true or y_pred
(scikit-learn's default ``labels``), not over the model's ``classes_``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import mllife
from mllife import SuccessCriteria, _metrics
from mllife.evaluation import compare_champion, evaluate
from mllife.problem import METRICS, ProblemSpec

from ._tables import weather_split, wine_without_a_class

LABEL_METRICS = {
    "precision": lambda y, p: skm.precision_score(y, p, average="macro"),
    "recall": lambda y, p: skm.recall_score(y, p, average="macro"),
    "f1": lambda y, p: skm.f1_score(y, p, average="macro"),
    "accuracy": skm.accuracy_score,
    "balanced_accuracy": skm.balanced_accuracy_score,
}


def _sklearn(name, y, p):
    """scikit-learn's direct call with its defaults (its warnings are expected here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LABEL_METRICS[name](y, p)


def _weather():
    X_train, y_train, X_test, y_test = weather_split()
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X_train, y_train)
    other = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X_train, y_train)
    return model, other, X_test, y_test


def _wine(depth):
    X_train, y_train, X_test, y_test = wine_without_a_class()
    model = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(X_train, y_train)
    other = make_pipeline(StandardScaler(), LogisticRegression()).fit(X_train, y_train)
    return model, other, X_test, y_test


CASES = {
    # fog is predicted but never in y_true; snow is neither in y_true nor predicted.
    "seattle_weather": _weather,
    # class_2 is neither in y_test nor predicted (the old code scored it 0).
    "wine_depth1": lambda: _wine(1),
    # class_2 is predicted but never in y_test.
    "wine_depth2": lambda: _wine(2),
}


@pytest.fixture(scope="module", params=list(CASES))
def table(request):
    return CASES[request.param]()


def test_the_tables_have_the_shape_the_tests_are_about(table):
    model, _other, X, y = table
    pred = set(model.predict(X))
    assert len(model.classes_) > len(set(y))              # a class is absent from the test rows
    assert set(model.classes_) - set(y) - pred or pred - set(y)


def test_evaluate_label_metrics_equal_sklearn_default_labels(table):
    model, _other, X, y = table
    p = model.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # the one implementation leaks no warning
        r = evaluate(model, X, y, baseline=None)
    for name in LABEL_METRICS:
        assert r.metrics[name] == pytest.approx(_sklearn(name, y, p), abs=1e-15), name
    # The label set is stated: scikit-learn's default, the sorted union of y and y_pred.
    labels = sorted(set(y) | set(p))
    assert list(r.labels) == labels
    assert r.to_dict()["labels"] == labels
    assert r.to_dict()["summary"]["labels"] == ", ".join(labels)
    assert f"macro averages over the {len(labels)} labels" in r.to_html()
    table = r.classification_table.set_index("label")
    assert table.loc["macro avg", "f1-score"] == pytest.approx(r.metrics["f1"])


def test_weather_f1_is_no_longer_dragged_down_by_an_absent_class():
    model, _other, X, y = _weather()
    r = evaluate(model, X, y, baseline=None)
    p = model.predict(X)
    # The model's five classes (the old denominator) give a lower F1 than scikit-learn's.
    old = skm.f1_score(y, p, labels=model.classes_, average="macro", zero_division=0.0)
    assert r.metrics["f1"] == pytest.approx(_sklearn("f1", y, p))
    assert r.metrics["f1"] - old > 0.1
    assert "snow" not in r.labels
    assert "fog" in r.labels
    # fog is predicted but never true: its recall is undefined, counted as 0, and said so.
    assert "['fog'] never occur in y_true" in r.undefined["recall"]
    assert "zero_division" in r.undefined["recall"]
    assert "['fog'] never occur in y_true" in r.undefined["balanced_accuracy"]
    assert r.findings_by(check="undefined_metric")


def test_a_label_unseen_in_training_counts():
    model, _other, X, y = _weather()
    y = y.copy()
    y.iloc[:12] = "hail"                     # a label the model never saw
    p = model.predict(X)
    r = evaluate(model, X, y, baseline=None)
    assert "hail" in r.labels
    for name in ("precision", "recall", "f1"):
        assert r.metrics[name] == pytest.approx(_sklearn(name, y, p), abs=1e-15)
    assert r.findings_by(check="unseen_labels")


def test_macro_recall_equals_balanced_accuracy_when_every_predicted_label_is_true():
    model, _other, X, y = _wine(1)           # predicts class_0 and class_1 only, like y
    r = evaluate(model, X, y, baseline=None)
    assert set(r.labels) == set(y)
    assert r.metrics["recall"] == pytest.approx(r.metrics["balanced_accuracy"], abs=1e-15)
    assert "recall" not in r.undefined


@pytest.mark.parametrize("metric", ["f1", "precision", "recall", "accuracy", "balanced_accuracy"])
def test_compare_champion_scores_equal_evaluate_and_sklearn(table, metric):
    model, other, X, y = table
    result = compare_champion(model, other, X, y, metric=metric, n_boot=200, random_state=0)
    for fitted, score in ((model, result.champion_score), (other, result.challenger_score)):
        expected = _sklearn(metric, y, fitted.predict(X))
        assert score == pytest.approx(expected, abs=1e-12)
        assert score == pytest.approx(evaluate(fitted, X, y, baseline=None).metrics[metric],
                                      abs=1e-12)


def test_champion_bootstrap_plan_uses_the_same_label_set(table):
    from mllife.evaluation import _champion_metrics as cm
    from mllife.evaluation._champion import _target
    from mllife.evaluation._stats_champion import PlanSet

    model, other, X, y = table
    target = _target(y, X, ["f1"], None)
    for fitted in (model, other):
        pred = cm.predict(fitted, X, "champion", {"label"}, target)
        for metric in ("precision", "recall", "f1", "balanced_accuracy"):
            plans = PlanSet([cm.plan(metric, target, pred)])
            (unit,) = plans.evaluate(np.ones((1, target.n), dtype=np.float32))
            assert unit[0] == pytest.approx(cm.point(metric, target, pred), abs=1e-12)


def test_champion_with_two_labels_in_y_but_multiclass_models_uses_macro():
    X_train, y_train, X_test, y_test = wine_without_a_class()
    a = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X_train, y_train)
    b = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X_train, y_train)
    result = compare_champion(a, b, X_test, y_test, metric="f1", n_boot=200, random_state=0)
    assert result.champion_score == pytest.approx(_sklearn("f1", y_test, a.predict(X_test)))
    assert result.challenger_score == pytest.approx(evaluate(b, X_test, y_test,
                                                             baseline=None).metrics["f1"])


def test_success_criteria_read_the_same_numbers(table):
    model, _other, X, y = table
    f1 = _sklearn("f1", y, model.predict(X))
    passing = evaluate(model, X, y, baseline=None, criteria={"F1": round(f1 - 0.005, 3)})
    failing = evaluate(model, X, y, baseline=None, criteria={"f1": min(1.0, round(f1 + 0.005, 3))})
    assert passing.passed is True
    assert failing.passed is False
    assert passing.checklist["actual"].iloc[0] == pytest.approx(f1)
    # Names, aliases and directions come from the one registry.
    for name, metric in _metrics.METRICS.items():
        assert METRICS[name] == ("min" if metric.higher_is_better else "max")
        assert SuccessCriteria.direction(name) == METRICS[name]


def test_every_criterion_metric_is_computed_by_evaluate():
    """A criterion evaluate never computes could never pass: the registry is the contract."""
    from sklearn.datasets import load_breast_cancer, load_diabetes
    from sklearn.linear_model import Ridge

    data = load_breast_cancer(as_frame=True)
    clf = make_pipeline(StandardScaler(), LogisticRegression()).fit(data.data, data.target)
    binary = evaluate(clf, data.data, data.target, baseline=None)
    diabetes = load_diabetes(as_frame=True)
    reg = evaluate(Ridge().fit(diabetes.data, diabetes.target), diabetes.data, diabetes.target,
                   baseline=None)
    for name in METRICS:
        report = reg if "regression" in _metrics.METRICS[name].tasks else binary
        assert name in report.metrics, name
    y, p = data.target, clf.predict(data.data)
    assert binary.metrics["specificity"] == pytest.approx(skm.recall_score(y, p, pos_label=0))
    assert reg.metrics["mse"] == pytest.approx(reg.metrics["rmse"] ** 2)
    with pytest.raises(Exception, match="specificity"):
        ProblemSpec("y", "multiclass", criteria={"specificity": 0.9})


def test_binary_zero_division_is_sklearns_default_and_stated():
    from sklearn.datasets import load_breast_cancer
    from sklearn.dummy import DummyClassifier

    data = load_breast_cancer(as_frame=True)
    X, y = data.data, data.target
    never = DummyClassifier(strategy="constant", constant=0).fit(X, y)  # never predicts 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = evaluate(never, X, y, baseline=None)
    assert r.metrics["precision"] == _sklearn_binary_precision(y, never.predict(X)) == 0.0
    assert "predicts no 1" in r.undefined["precision"]
    assert r.metrics["f1"] == 0.0
    assert "precision" in r.metrics_table().set_index("metric").loc["precision", "note"]


def _sklearn_binary_precision(y, p):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return skm.precision_score(y, p)


def test_label_scores_directly_against_sklearn_on_a_mixed_case():
    y = np.array(["a", "a", "b", "b", "c", "c", "c"])
    p = np.array(["a", "d", "b", "a", "c", "c", "d"])    # d never true, nothing missing
    values, undefined = _metrics.label_scores(y, p)
    for name in ("precision", "recall", "f1", "accuracy", "balanced_accuracy"):
        assert values[name] == pytest.approx(_sklearn(name, y, p), abs=1e-15)
    assert "['d'] never occur in y_true" in undefined["recall"]
    assert "precision" not in undefined
    assert list(_metrics.label_set(y, p)) == ["a", "b", "c", "d"]
    frame = pd.Series(p)
    assert list(_metrics.label_set(pd.Series(y), frame)) == ["a", "b", "c", "d"]


def test_a_two_label_test_set_of_a_three_class_model_has_no_raw_error():
    from sklearn.datasets import load_wine
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_wine(return_X_y=True, as_frame=True)
    labels = y.map({0: "a", 1: "b", 2: "c"})
    model = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, labels)
    keep = labels != "c"
    report = mllife.evaluate(model, X[keep], labels[keep])  # the baseline sees two labels
    assert np.isnan(report.metrics["roc_auc"])  # undefined for the absent class, and said
    assert "roc_auc" in report.undefined


def test_duplicate_labels_are_refused_by_the_comparisons():
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True, as_frame=True)
    model = DecisionTreeClassifier(random_state=0).fit(X.to_numpy(), y)
    duplicated = X.set_axis(["a", "a", "b", "c"], axis=1)
    with pytest.raises(mllife.InputError, match="duplicated column names"):
        mllife.compare_champion(model, model, duplicated, y, metric="accuracy", n_boot=50)
    with pytest.raises(mllife.InputError, match="duplicated column names"):
        mllife.compare_models({"tree": DecisionTreeClassifier()}, duplicated, y, cv=3)
