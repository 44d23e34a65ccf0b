"""SHAP on pipelines with string columns: attributions add up to the model's output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
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


def test_multiclass_numeric_model_and_row_budget():
    # The explanation used to stop on a 20 s wall-clock budget (machine-dependent);
    # it stops on a row budget: exactly n_rows seeded rows, whatever the clock says.
    from sklearn.datasets import make_classification

    X, y = make_classification(400, n_features=5, n_informative=3, n_classes=3, random_state=0)
    X = pd.DataFrame(X, columns=list("abcde"))
    model = RandomForestClassifier(10, max_depth=4, random_state=0).fit(X, y)
    result = explain(model, X, "multiclass", model.classes_, None, n_rows=120)
    assert result.explainer == "TreeExplainer"
    assert result.n_rows == 120  # three chunks of 50, 50 and 20 rows
    assert any("120 of the 400 test rows" in n for n in result.notes)
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


def _cars(n=392, seed=0):
    """A table shaped like vega_datasets' cars: numbers with gaps (Horsepower) and Origin."""
    rng = np.random.default_rng(seed)
    cylinders = rng.choice(np.array([4.0, 6.0, 8.0]), n, p=[0.5, 0.25, 0.25])
    X = pd.DataFrame({
        "Cylinders": cylinders,
        "Displacement": cylinders * 35 + rng.normal(0, 20, n),
        "Horsepower": cylinders * 15 + rng.normal(0, 10, n),
        "Weight_in_lbs": cylinders * 450 + rng.normal(0, 200, n),
        "Acceleration": rng.normal(15.5, 2.7, n),
        "Origin": rng.choice(np.array(["USA", "Europe", "Japan"]), n, p=[0.6, 0.2, 0.2]),
    })
    X.loc[rng.choice(n, 6, replace=False), "Horsepower"] = np.nan
    y = 50 - 0.006 * X["Weight_in_lbs"] - 0.05 * X["Horsepower"].fillna(100) + rng.normal(0, 2, n)
    return X, y.rename("Miles_per_Gallon")


@pytest.mark.parametrize("estimator", [GradientBoostingRegressor(n_estimators=30, random_state=0),
                                       KNeighborsRegressor(10)])
def test_missing_indicator_is_credited_to_the_column_it_indicates(estimator):
    # make_preprocessor imputes numbers with add_indicator=True: the indicator of Horsepower
    # was credited to a pseudo-column "Cylinders + Displacement + Horsepower + ...".
    from mllife.features import describe_features, make_preprocessor

    X, y = _cars()
    model = make_pipeline(make_preprocessor(X), estimator).fit(X, y)
    names, sources = output_sources(model[:-1], list(X.columns))
    assert "missingindicator_Horsepower" in names
    assert sources[names.index("missingindicator_Horsepower")] == "Horsepower"
    assert sources == describe_features(model)["source"].tolist()
    result = explain(model, X, "regression", None, None, n_rows=80)
    imp = result.importance.set_index("feature")
    assert set(imp.index) == set(X.columns)
    assert imp.loc["Horsepower", "n_transformed"] == 2
    assert result.additivity_max_error < 1e-6
    assert not [n for n in result.notes if "mix several input columns" in n]


def test_a_feature_made_from_several_columns_is_credited_to_their_group_with_a_note():
    from sklearn.preprocessing import PolynomialFeatures

    X, y = _cars()
    num = ["Displacement", "Weight_in_lbs"]
    model = make_pipeline(ColumnTransformer([("num", PolynomialFeatures(2, include_bias=False), num)]),
                          LinearRegression()).fit(X, y)
    result = explain(model, X, "regression", None, None, n_rows=60)
    assert set(result.importance["feature"]) == {*num, "Displacement + Weight_in_lbs"}
    assert any("mix several input columns" in n for n in result.notes)


@pytest.mark.parametrize("labels", ["integers", "strings"])
def test_multiclass_model_without_predict_proba_explains_its_decision_function(labels):
    # SVC() on wine: with string labels explain() raised ValueError (predict() cast to
    # float); with integer labels it explained the predicted class number as an amount.
    from sklearn.datasets import load_wine
    from sklearn.svm import SVC

    X, y = load_wine(return_X_y=True, as_frame=True)
    if labels == "strings":
        y = pd.Series(np.array(["barolo", "grignolino", "barbera"])[y], name="cultivar")
    model = make_pipeline(StandardScaler(), SVC()).fit(X.iloc[::2], y.iloc[::2])
    r = evaluate(model, X.iloc[1::2], y.iloc[1::2], explain=True, baseline=None)
    assert r.explanation["explained_output"] == "decision_function"
    assert r.explanation["additive"]
    assert any("decision function is explained" in n for n in r.notes)
    assert set(r.importance["feature"]) == set(X.columns)
    # The same ranking whatever the labels are called (class numbers are not amounts).
    top = r.importance["feature"].head(3).tolist()
    assert top == _wine_svc_top3()


def _wine_svc_top3():
    from sklearn.datasets import load_wine
    from sklearn.svm import SVC

    X, y = load_wine(return_X_y=True, as_frame=True)
    model = make_pipeline(StandardScaler(), SVC()).fit(X.iloc[::2], y.iloc[::2])
    result = explain(model, X.iloc[1::2], "multiclass", model.classes_, None)
    return result.importance["feature"].head(3).tolist()


def test_classifier_without_scores_or_with_one_vs_one_scores_is_skipped_with_a_reason():
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC

    X, y = load_iris(return_X_y=True, as_frame=True)

    class Nearest(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.classes_ = np.unique(y)
            self.means_ = np.stack([X[y == c].mean().to_numpy() for c in self.classes_])
            return self

        def predict(self, X):
            d = ((X.to_numpy()[:, None, :] - self.means_[None]) ** 2).sum(axis=2)
            return self.classes_[d.argmin(axis=1)]

    no_scores = explain(Nearest().fit(X, y), X, "multiclass", np.unique(y), None)
    assert isinstance(no_scores, str)
    assert "neither predict_proba nor decision_function" in no_scores
    ovo = SVC(decision_function_shape="ovo").fit(X, y)
    skipped = explain(ovo, X, "multiclass", ovo.classes_, None)
    assert isinstance(skipped, str)
    assert "one-vs-one" in skipped
