"""describe_features on our preprocessor and on plain scikit-learn pipelines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer, make_column_transformer
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mllife import NotFittedError, make_churn
from mllife.features import DateTimeFeatures, RatioFeatures, describe_features, make_preprocessor


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    n = 80
    age = rng.normal(40, 10, n)
    age[:8] = np.nan
    return pd.DataFrame({
        "age": age,
        "income": rng.normal(3000, 500, n),
        "plan": rng.choice(["a", "b", "c"], n),
        "signup": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s"),
    })


def test_plain_sklearn_column_transformer(frame):
    ct = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(add_indicator=True), StandardScaler()), ["age", "income"]),
        ("cat", OneHotEncoder(), ["plan"]),
    ]).fit(frame)
    table = describe_features(ct).set_index("feature")
    assert list(table.index) == list(ct.get_feature_names_out())
    assert table.loc["num__age", "source"] == "age"
    assert table.loc["num__missingindicator_age", "source"] == "age"
    assert table.loc["num__missingindicator_age", "steps"] == "MissingIndicator → StandardScaler"
    assert table.loc["cat__plan_b", "source"] == "plan"
    assert table.loc["cat__plan_b", "branch"] == "cat"


def test_statistics_match_the_transformed_data(frame):
    pre = make_preprocessor(frame).fit(frame)
    table = describe_features(pre, frame).set_index("feature")
    out = pre.transform(frame)
    np.testing.assert_allclose(table.loc[out.columns, "mean"], out.mean().to_numpy())
    np.testing.assert_allclose(table.loc[out.columns, "std"], out.std().to_numpy())
    assert (table["missing_share"] == 0).all()
    assert table.loc["signup_hour", "source"] == "signup"
    assert table.loc["signup_hour", "steps"].startswith("DateTimeFeatures")


def test_pipeline_with_model_ratio_and_pca(frame):
    model = make_pipeline(
        RatioFeatures([("income", "age")], keep_original=False),
        SimpleImputer(),
        PCA(1),
        LogisticRegression(),
    ).fit(frame[["income", "age"]], frame["plan"] == "a")
    table = describe_features(model)
    assert table["feature"].tolist() == ["pca0"]
    assert table.loc[0, "source"] == "income, age"
    assert table.loc[0, "steps"] == "RatioFeatures → SimpleImputer(mean) → PCA"


def test_nested_union_and_numpy():
    a = np.random.default_rng(0).normal(size=(30, 3))
    union = FeatureUnion([("scaled", StandardScaler()), ("pca", PCA(1))]).fit(a)
    table = describe_features(union)
    assert table["source"].tolist()[:3] == ["x0", "x1", "x2"]
    assert table["branch"].tolist() == ["scaled"] * 3 + ["pca"]
    dt = make_column_transformer((DateTimeFeatures(("month",), epoch_unit="s"), [0]))
    dt.fit(a * 1e8)
    assert describe_features(dt)["source"].tolist() == ["x0"]


def test_churn_every_feature_has_a_source():
    X = make_churn(500, random_state=0, defects=False).X
    pre = make_preprocessor(X).fit(X)
    table = describe_features(pre, X)
    assert len(table) == len(pre.get_feature_names_out())
    assert set(table["source"]) <= set(X.columns)
    assert "customer_id" not in set(table["source"])


def test_unfitted_raises(frame):
    with pytest.raises(NotFittedError):
        describe_features(make_preprocessor(frame))


def test_products_and_powers_trace_to_every_factor(frame):
    from sklearn.preprocessing import PolynomialFeatures

    poly = PolynomialFeatures(2, include_bias=False).fit(frame[["age", "income"]].fillna(0))
    table = describe_features(poly).set_index("feature")
    assert table.loc["age income", "source"] == "age, income"
    assert table.loc["age^2", "source"] == "age"
