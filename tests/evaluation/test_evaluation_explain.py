"""SHAP on pipelines with string columns: attributions add up to the model's output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mllife.evaluation import evaluate
from mllife.evaluation._explain import explain, output_sources

CAT = ["plan", "contract"]
NUM = ["tenure_months", "monthly_charges", "support_tickets"]


@pytest.fixture(scope="module")
def churn_xy(churn_clean):
    frame = churn_clean.frame
    X = frame[[*CAT, *NUM, "gender"]]
    return X.iloc[:1500], frame["churned"].iloc[:1500], X.iloc[1500:1700], frame["churned"].iloc[1500:1700]


def _pipe(estimator, scale=False):
    num = StandardScaler() if scale else "passthrough"
    ct = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), CAT), ("num", num, NUM)])
    return make_pipeline(ct, estimator)


@pytest.mark.parametrize(("estimator", "explainer", "output"), [
    (LogisticRegression(max_iter=1000), "LinearExplainer", "decision_function"),
    (RandomForestClassifier(20, max_depth=5, random_state=0), "TreeExplainer", "probability"),
    (KNeighborsClassifier(15), "permutation (grouped by raw column)", "probability"),
])
def test_additivity_on_raw_columns(churn_xy, estimator, explainer, output):
    Xtr, ytr, Xte, _ = churn_xy
    model = _pipe(estimator, scale=True).fit(Xtr, ytr)
    sample = Xte.iloc[:60]
    result = explain(model, sample, "binary", model.classes_, 1, n_rows=60)
    assert not isinstance(result, str)
    assert result.explainer == explainer
    assert result.explained_output == output
    # Raw-column attributions (one-hot columns summed back) plus the base value
    # reproduce the full pipeline's output on the raw rows.
    if output == "probability":
        expected = model.predict_proba(sample)[:, 1]
    else:
        expected = model.decision_function(sample)
    np.testing.assert_allclose(result.outputs, expected[: result.n_rows], atol=1e-6)
    assert result.additivity_max_error < 1e-6
    imp = result.importance.set_index("feature")
    assert set(imp.index) == {*CAT, *NUM}  # gender is dropped by the ColumnTransformer
    assert imp.loc["plan", "n_transformed"] == 3
    assert imp["share"].sum() == pytest.approx(1.0)


def test_regression_tree_additivity(churn_xy):
    Xtr, _, Xte, _ = churn_xy
    y = Xtr["monthly_charges"] * 2 + Xtr["support_tickets"]
    model = _pipe(GradientBoostingRegressor(n_estimators=30, max_depth=3, random_state=0)).fit(Xtr, y)
    result = explain(model, Xte.iloc[:50], "regression", None, None, n_rows=50)
    assert result.explainer == "TreeExplainer"
    np.testing.assert_allclose(result.outputs, model.predict(Xte.iloc[:50]), atol=1e-6)


def test_evaluate_with_explain(churn_xy):
    Xtr, ytr, Xte, yte = churn_xy
    model = _pipe(RandomForestClassifier(20, max_depth=5, random_state=0)).fit(Xtr, ytr)
    r = evaluate(model, Xte, yte, explain=True, baseline=None)
    assert r.explanation["additive"]
    assert r.importance["feature"].iloc[0] in {*CAT, *NUM}
    assert r.explanation["rows"] == len(Xte)


def test_output_sources_maps_one_hot_columns_back():
    X = pd.DataFrame({"plan": ["a", "b", "c", "a"], "plan_type": ["x", "y", "x", "y"], "n": [1.0, 2, 3, 4]})
    ct = ColumnTransformer([("oh", OneHotEncoder(), ["plan", "plan_type"]), ("num", "passthrough", [2])])
    ct.fit(X)
    names, sources = output_sources(ct, list(X.columns))
    assert sources == ["plan", "plan", "plan", "plan_type", "plan_type", "n"]
    assert len(names) == 6


def test_non_pipeline_with_strings_is_skipped_with_a_reason():
    X = pd.DataFrame({"s": ["a", "b"] * 20, "x": np.arange(40.0)})
    y = np.arange(40) % 2

    class Model(LogisticRegression):
        def fit(self, X, y):
            return super().fit(X[["x"]], y)

        def predict(self, X):
            return super().predict(X[["x"]])

        def predict_proba(self, X):
            return super().predict_proba(X[["x"]])

    r = evaluate(Model().fit(X, y), X, y, explain=True, baseline=None)
    assert r.importance is None
    assert r.findings_by(check="explanation_skipped")


def test_multiclass_numeric_model_and_time_budget():
    from sklearn.datasets import make_classification

    X, y = make_classification(400, n_features=5, n_informative=3, n_classes=3, random_state=0)
    X = pd.DataFrame(X, columns=list("abcde"))
    model = RandomForestClassifier(10, max_depth=4, random_state=0).fit(X, y)
    result = explain(model, X, "multiclass", model.classes_, None, n_rows=120, time_budget=0.0)
    assert result.explainer == "TreeExplainer"
    assert result.n_rows == 50  # one chunk, then the budget stops it
    assert any("Time budget" in n for n in result.notes)
    assert result.additivity_max_error < 1e-6
    assert set(result.importance["feature"]) == set("abcde")


def test_model_taking_categorical_columns_directly_is_explained():
    # HistGradientBoosting with native categories takes the raw table: it used to be
    # skipped ("non-numeric columns ... not a Pipeline"); now the permutation explainer
    # mixes raw values and rebuilds each row with the original dtypes.
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(3)
    n = 1200
    X = pd.DataFrame({"num": rng.normal(size=n), "noise": rng.normal(size=n),
                      "cat": pd.Categorical(rng.choice(np.array(["a", "b", "c"]), n))})
    y = pd.Series(np.where(X["num"] + 2 * (X["cat"] == "a") + rng.normal(size=n) > 0.8, "yes", "no"))
    model = HistGradientBoostingClassifier(categorical_features="from_dtype", max_iter=20,
                                           random_state=0).fit(X[:1000], y[:1000])
    r = evaluate(model, X[1000:1080], y[1000:1080], explain=True, baseline=None)
    assert r.explanation is not None
    assert r.explanation["explainer"].startswith("permutation")
    assert r.explanation["additive"]
    assert r.importance["feature"].iloc[-1] == "noise"
    assert set(r.importance["feature"]) == {"num", "noise", "cat"}
    assert not r.findings_by(check="explanation_skipped")
