"""``evaluate(spec=...)`` takes task, positive label, criteria, sensitive features and time
column from a ProblemSpec; ``time_col=`` names the time column, ``time=`` holds values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import mllife
from mllife.evaluation import evaluate


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 900
    X = pd.DataFrame({
        "x": rng.normal(size=n), "z": rng.normal(size=n),
        "gender": rng.choice(np.array(["female", "male"]), n),
        "plan": rng.choice(np.array(["basic", "pro"]), n),
        "signup": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 365, n)), unit="D"),
        "last_event": pd.Timestamp("2024-06-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
    })
    y = pd.Series(np.where(X["x"] + rng.normal(0, 1, n) > 0, "churn", "stay"), name="churned")
    model = make_pipeline(ColumnTransformer([("num", "passthrough", ["x", "z"])]),
                          LogisticRegression()).fit(X.iloc[:600], y.iloc[:600])
    return model, X.iloc[600:], y.iloc[600:]


@pytest.fixture(scope="module")
def spec():
    return mllife.ProblemSpec("churned", "binary", time_col="signup", sensitive_features=["gender"],
                              positive_label="churn",
                              criteria=mllife.SuccessCriteria({"roc_auc": 0.6}))


def _run(model, X, y, **kw):
    return evaluate(model, X, y, baseline=None, measure=False, **kw)


def test_spec_values_are_used(data, spec):
    model, X, y = data
    r = _run(model, X, y, spec=spec)
    assert r.positive_label == "churn"          # not the model's last class, "stay"
    assert not r.findings_by(check="positive_label")
    assert list(r.fairness["group"]) == ["female", "male"]
    assert r.by_period is not None
    assert r.period_test["freq"] == "M"
    assert r.passed is True
    assert list(r.checklist["item"]) == ["roc_auc ≥ 0.6"]
    # The same report as with the keywords spelled out.
    explicit = _run(model, X, y, positive_label="churn", sensitive_features="gender",
                    time_col="signup", criteria={"roc_auc": 0.6})
    assert r.to_dict() == explicit.to_dict()


def test_explicit_values_that_agree_are_fine(data, spec):
    model, X, y = data
    base = _run(model, X, y, spec=spec).to_dict()
    for kw in ({"positive_label": "churn"}, {"sensitive_features": "gender"},
               {"sensitive_features": ["gender"]}, {"sensitive_features": X["gender"]},
               {"time_col": "signup"}, {"criteria": {"roc_auc": 0.6}},
               {"criteria": mllife.SuccessCriteria({"ROC AUC": 0.6})}):
        assert _run(model, X, y, spec=spec, **kw).to_dict() == base, kw
    # time values (a Series of the spec's column, or unnamed values) take its place.
    assert _run(model, X, y, spec=spec, time=X["signup"]).to_dict() == base
    unnamed = _run(model, X, y, spec=spec, time=X["signup"].to_numpy())
    assert unnamed.by_period.equals(_run(model, X, y, spec=spec).by_period)


@pytest.mark.parametrize(("kw", "match"), [
    ({"positive_label": "stay"}, "positive_label='stay'.*disagrees with spec.positive_label"),
    ({"sensitive_features": "plan"}, "sensitive_features.*disagrees with spec.sensitive_features"),
    ({"sensitive_features": ["gender", "plan"]}, "disagrees with spec.sensitive_features"),
    ({"sensitive_features": np.arange(300) % 2}, "values without column names"),
    ({"time_col": "last_event"}, "time_col='last_event'.*disagrees with spec.time_col"),
    ({"time": None, "time_col": "last_event"}, "disagrees with spec.time_col"),
    ({"criteria": {"roc_auc": 0.9}}, "criteria=.*disagrees with spec.criteria"),
])
def test_explicit_values_that_disagree_raise(data, spec, kw, match):
    model, X, y = data
    with pytest.raises(mllife.InputError, match=match):
        _run(model, X, y, spec=spec, **kw)


def test_a_time_series_of_another_column_disagrees(data, spec):
    model, X, y = data
    with pytest.raises(mllife.InputError, match=r"time=<Series 'last_event'>.*spec\.time_col='signup'"):
        _run(model, X, y, spec=spec, time=X["last_event"])


def test_the_spec_task_must_be_the_models(data):
    model, X, y = data
    for task in ("regression", "multiclass", "forecast"):
        other = mllife.ProblemSpec("churned", task, time_col="signup")
        with pytest.raises(mllife.InputError, match=f"spec's task is '{task}'.*binary"):
            _run(model, X, y, spec=other)
    with pytest.raises(mllife.InputError, match="ProblemSpec"):
        _run(model, X, y, spec={"target": "churned"})


def test_a_spec_time_column_missing_from_x_test_is_named(data, spec):
    model, X, y = data
    with pytest.raises(mllife.InputError, match="time_col column 'signup' not found"):
        _run(model, X.drop(columns="signup"), y, spec=spec)


def test_time_col_names_a_column_and_time_holds_values(data):
    model, X, y = data
    by_name = _run(model, X, y, time_col="signup")
    by_values = _run(model, X, y, time=X["signup"])
    pd.testing.assert_frame_equal(by_name.by_period, by_values.by_period)
    # The time column is not sliced, however it is given.
    assert "signup" not in set(by_name.slices["feature"])
    with pytest.raises(mllife.InputError, match=r"time='signup' is a single value.*time_col='signup'"):
        _run(model, X, y, time="signup")
    with pytest.raises(mllife.InputError, match="both time and time_col"):
        _run(model, X, y, time=X["signup"], time_col="signup")
    with pytest.raises(mllife.InputError, match="time_col column 'nope' not found"):
        _run(model, X, y, time_col="nope")


def test_small_groups_warn_at_the_callers_line():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=200)})
    y = (X["x"] > 0).astype(int)
    group = pd.Series(np.where(np.arange(200) < 10, "tiny", "big"), name="g")
    with pytest.warns(mllife.DataWarning, match="too small") as caught:
        _run(LogisticRegression().fit(X, y), X, y, sensitive_features=group)
    assert caught[0].filename == __file__
