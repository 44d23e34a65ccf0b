"""RuleClassifier / RuleRegressor: if-statements as estimators."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from mllife import InputError, NotFittedError
from mllife.baselines import RuleClassifier, RuleRegressor


@pytest.fixture
def frame():
    return pd.DataFrame(
        {
            "tenure": [1, 30, 3, 50, np.nan, 8],
            "plan": ["basic", "premium", "premium", "basic", "basic", None],
            "charges": [20.0, 80.0, 75.0, 30.0, 25.0, 50.0],
        }
    )


def test_first_matching_rule_wins(frame):
    rules = [("tenure < 6", "early"), ("plan == 'premium'", "premium"), ("charges > 40", "spender")]
    clf = RuleClassifier(rules, default="other").fit(frame, ["a"] * 6)
    # Row 2 matches rules 0 and 1: rule 0 wins. NaN tenure matches no tenure rule.
    assert clf.predict(frame).tolist() == ["early", "premium", "early", "other", "other", "spender"]
    assert list(clf.classes_) == ["a", "early", "other", "premium", "spender"]
    assert clf.coverage_.tolist() == [2, 1, 1, 2]


def test_predict_proba_is_one_hot_of_predict(frame):
    clf = RuleClassifier([("tenure < 6", 1)], default=0).fit(frame, [0, 1, 0, 1, 0, 2])
    proba = clf.predict_proba(frame)
    assert proba.shape == (6, 3)
    np.testing.assert_array_equal(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(frame))


def test_default_none_is_the_mode_and_matches_dummy():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 2)), rng.choice([3, 5, 7], size=50, p=[0.2, 0.5, 0.3])
    ours = RuleClassifier().fit(X, y)
    ref = DummyClassifier(strategy="most_frequent").fit(X, y)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    reg = RuleRegressor().fit(X, y.astype(float))
    np.testing.assert_allclose(reg.predict(X), DummyRegressor().fit(X, y).predict(X))


def test_numpy_input_gets_x_names():
    X = np.array([[1.0, -2.0], [-1.0, 0.5], [2.0, 3.0]])
    clf = RuleClassifier([("x0 > 0 and x1 > 0", 1)], default=0).fit(X, [1, 0, 1])
    assert clf.predict(X).tolist() == [0, 0, 1]
    assert not hasattr(clf, "feature_names_in_")


def test_callable_rules_missing_means_default(frame):
    def rule(df):
        return np.where(df["charges"] > 60, "high", None)

    clf = RuleClassifier(rule, default="low").fit(frame, ["low"] * 6)
    assert clf.predict(frame).tolist() == ["low", "high", "high", "low", "low", "low"]
    reg = RuleRegressor(lambda df: df["charges"].where(df["plan"] == "basic") * 2, default=-1.0)
    out = reg.fit(frame, np.zeros(6)).predict(frame)
    np.testing.assert_array_equal(out, [40.0, -1.0, -1.0, 60.0, 50.0, -1.0])


def test_regressor_first_match_and_mean_default(frame):
    reg = RuleRegressor([("charges > 70", 100.0), ("charges > 40", 50.0)])
    y = np.arange(6.0)
    assert reg.fit(frame, y).predict(frame).tolist() == [2.5, 100.0, 100.0, 2.5, 2.5, 50.0]


@pytest.mark.parametrize(
    ("rule", "match"),
    [
        ("tenure <", "rule 0 'tenure <'"),
        ("nope > 3", "rule 0 'nope > 3'"),
        ("charges * 2", "not a condition"),
    ],
)
def test_invalid_query_fails_at_fit_with_its_text(frame, rule, match):
    clf = RuleClassifier([(rule, 1)], default=0)
    with pytest.raises(InputError, match=match):
        clf.fit(frame, [0, 1, 0, 1, 0, 1])


def test_malformed_rules(frame):
    y = [0, 1, 0, 1, 0, 1]
    with pytest.raises(InputError, match="rule string, output"):
        RuleClassifier([("tenure < 3",)]).fit(frame, y)
    with pytest.raises(InputError, match="rules is a str"):
        RuleClassifier("tenure < 3").fit(frame, y)
    with pytest.raises(InputError, match="cannot be sorted together"):
        RuleClassifier([("tenure < 3", "yes")], default="no").fit(frame, y)
    with pytest.raises(InputError, match="non-numeric"):
        RuleRegressor([("tenure < 3", "high")]).fit(frame, np.zeros(6))
    clf = RuleClassifier(lambda df: np.where(df["charges"] > 60, 1, None), default=0)
    clf.fit(frame.iloc[[0, 3]], [0, 0])
    with pytest.raises(InputError, match="not seen at fit"):
        clf.predict(frame)
    with pytest.raises(NotFittedError):
        RuleClassifier().predict(frame)


def test_works_in_pipelines_clone_pickle_and_cv(frame):
    big = pd.concat([frame] * 10, ignore_index=True)
    y = (big["charges"] > 40).astype(int)
    clf = RuleClassifier([("charges > 40", 1)], default=0)
    scores = cross_val_score(make_pipeline(clf), big, y, cv=3)
    np.testing.assert_allclose(scores, 1.0)
    fitted = clone(clf).fit(big, y)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(big), fitted.predict(big))


def test_inputs_not_mutated(frame):
    before = frame.copy()
    y = pd.Series([0, 1, 0, 1, 0, 1])
    RuleClassifier([("tenure < 6", 1)], default=0).fit(frame, y).predict_proba(frame)
    pd.testing.assert_frame_equal(frame, before)
    pd.testing.assert_series_equal(y, pd.Series([0, 1, 0, 1, 0, 1]))


def test_feature_names_checked_at_predict(frame):
    clf = RuleClassifier([("tenure < 6", 1)], default=0).fit(frame, [0, 1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame[["charges", "tenure", "plan"]])


@given(st.lists(st.floats(-10, 10), min_size=1, max_size=40), st.floats(-5, 5))
def test_threshold_rule_equals_numpy_where(values, threshold):
    X = pd.DataFrame({"v": values})
    reg = RuleRegressor([(f"v > {threshold!r}", 1.0)], default=0.0).fit(X, np.zeros(len(values)))
    np.testing.assert_array_equal(reg.predict(X), np.where(np.array(values) > threshold, 1.0, 0.0))
