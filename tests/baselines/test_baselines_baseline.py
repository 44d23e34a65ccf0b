"""``baseline()``: the honest baseline matches scikit-learn's dummies where they overlap."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyClassifier, DummyRegressor

from mllife import InputError
from mllife.baselines import (
    MovingAverageForecaster,
    NaiveForecaster,
    SeasonalNaiveForecaster,
    baseline,
)


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_classification_baseline_matches_dummy_prior(task):
    rng = np.random.default_rng(0)
    n_classes = 2 if task == "binary" else 4
    X = rng.normal(size=(300, 3))
    y = rng.choice(n_classes, size=300, p=np.linspace(1, 2, n_classes) / np.linspace(1, 2, n_classes).sum())
    ours = clone(baseline(task)).fit(X, y)
    ref = DummyClassifier(strategy="prior").fit(X, y)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X))
    # The prior is the class shares, so the most frequent class is predicted everywhere.
    np.testing.assert_allclose(ours.predict_proba(X[:1])[0], np.bincount(y) / len(y))


@pytest.mark.parametrize("strategy", ["mean", "median"])
def test_regression_baseline_matches_dummy(strategy):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(100, 2)), rng.exponential(size=100)
    kw = {} if strategy == "mean" else {"strategy": "median"}
    ours = baseline("regression", **kw).fit(X, y)
    ref = DummyRegressor(strategy=strategy).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X))
    expected = np.mean(y) if strategy == "mean" else np.median(y)
    np.testing.assert_allclose(ours.predict(X[:1]), [expected])


def test_forecast_baseline_choice():
    assert isinstance(baseline("forecast"), NaiveForecaster)
    assert baseline("forecast", window=5).get_params() == {"window": 5}
    assert isinstance(baseline("forecast", window=5), MovingAverageForecaster)
    assert isinstance(baseline("forecast", season=12), SeasonalNaiveForecaster)


def test_unknown_task_lists_the_valid_ones():
    with pytest.raises(InputError, match="binary, multiclass, regression, forecast"):
        baseline("clustering")


def test_unknown_keyword_names_the_valid_ones():
    with pytest.raises(InputError, match="strategy"):
        baseline("binary", window=3)
    with pytest.raises(InputError, match="not both"):
        baseline("forecast", window=3, season=7)


def test_baseline_takes_the_task_from_a_spec():
    from mllife import InputError, ProblemSpec
    from mllife.baselines import baseline

    spec = ProblemSpec("y", "regression")
    assert type(baseline(spec=spec)).__name__ == "DummyRegressor"
    assert type(baseline(" Regression ", spec=spec)).__name__ == "DummyRegressor"
    with pytest.raises(InputError, match=r"disagrees with spec\.task='regression'"):
        baseline("binary", spec=spec)
    with pytest.raises(InputError, match="needs a task"):
        baseline()
    with pytest.raises(InputError, match="ProblemSpec"):
        baseline(spec={"task": "binary"})
