"""make_preprocessor / describe_features on awkward real-world tables, and one-row predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

import mllife
from mllife import DataWarning, InputError
from mllife.features import DateTimeFeatures, describe_features, make_preprocessor


def _table(n: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "num": rng.normal(size=n),
        "cat": rng.choice(["a", "b", "c"], n),
        "when": pd.Timestamp("2024-01-01", tz="Europe/Paris")
        + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s"),
    })


def test_integer_column_labels_work_like_generated_names():
    named = _table()
    numbered = named.set_axis([0, 1, 2], axis=1)
    generated = named.set_axis(["x0", "x1", "x2"], axis=1)
    pre = make_preprocessor(numbered)
    out = pre.fit_transform(numbered)
    expected = make_preprocessor(generated).fit_transform(generated)
    pd.testing.assert_frame_equal(out, expected)
    pd.testing.assert_frame_equal(pre.transform(numbered.iloc[[4]]), expected.iloc[[4]])
    table = describe_features(pre, numbered)
    assert list(table["feature"]) == list(out.columns)
    assert set(table["source"]) == {"x0", "x1", "x2"}


def test_numpy_object_array_input():
    X = np.array([["a", 1.0], ["b", 2.0], ["a", np.nan]] * 40, dtype=object)
    pre = make_preprocessor(X)
    out = pre.fit_transform(X)
    assert list(out.columns) == ["x1", "missingindicator_x1", "x0_a", "x0_b"]
    np.testing.assert_allclose(pre.transform(X[:3]).to_numpy(float), out.iloc[:3].to_numpy(float))


def test_drop_accepts_integer_labels():
    numbered = _table().set_axis([0, 1, 2], axis=1)
    plan = make_preprocessor(numbered, drop=[1]).plan_.set_index("column")["kind"]
    assert plan["x1"] == "excluded"


def test_duplicated_column_names_are_named():
    X = pd.DataFrame(np.ones((5, 3)), columns=["a", "a", "b"])
    with pytest.raises(InputError, match=r"duplicated column names \['a'\]"):
        make_preprocessor(X)
    pre = make_preprocessor(_table()).fit(_table())
    with pytest.raises(InputError, match="duplicated column names"):
        pre.transform(pd.concat([_table(), _table()[["num"]]], axis=1))


def test_one_row_table_warns_and_gives_no_feature():
    X = pd.DataFrame({"x": [1.0], "c": ["a"]})
    with pytest.warns(DataWarning, match="every column is dropped"):
        pre = make_preprocessor(X)
    assert pre.fit_transform(X).shape == (1, 0)
    assert describe_features(pre, X).empty


def test_fit_on_one_row_after_planning_on_many():
    X = _table()
    pre = make_preprocessor(X).fit(X.iloc[[0]])
    out = pre.transform(X.iloc[:5])
    assert out.shape[0] == 5
    assert np.isfinite(out.to_numpy(float)).all()


def test_all_nan_and_unseen_values_at_predict():
    X = _table()
    pre = make_preprocessor(X).fit(X)
    row = pd.DataFrame({"num": [np.nan], "cat": ["never seen"],
                        "when": pd.Series([pd.NaT], dtype=X["when"].dtype)})
    out = pre.transform(row)
    assert np.isfinite(out.to_numpy(float)).all()
    assert out.filter(like="cat_").to_numpy().sum() == 0  # unseen: all zeros


def _hand_built(X: pd.DataFrame) -> ColumnTransformer:
    """The plan of make_preprocessor on the churn table, written with scikit-learn only."""
    numeric = ["age", "tenure_months", "monthly_charges", "total_charges", "usage_gb",
               "support_tickets"]
    refs = {c: X[c].min() for c in ("last_event_at", "signup_date")}

    def calendar(features):
        def f(Z):
            out = {}
            for c in Z.columns:
                d = Z[c].dt
                for ft in features:
                    if ft == "elapsed":
                        out[f"{c}_{ft}"] = ((Z[c] - refs[c]) / pd.Timedelta(1, "D")).to_numpy(float)
                    elif ft == "is_weekend":
                        out[f"{c}_{ft}"] = (d.day_of_week >= 5).astype(float).to_numpy()
                    else:
                        out[f"{c}_{ft}"] = getattr(d, ft).astype(float).to_numpy()
            return pd.DataFrame(out, index=Z.index)
        return f

    def dates(features):
        return Pipeline([("calendar", FunctionTransformer(calendar(features))),
                         ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                         ("scale", StandardScaler())])

    return ColumnTransformer([
        ("numeric", Pipeline([("impute", SimpleImputer(strategy="median", add_indicator=True,
                                                       keep_empty_features=True)),
                              ("scale", StandardScaler())]), numeric),
        # every last_event_at is in 2024: its year is constant at fit and not made
        ("datetime", dates(("month", "day_of_week", "hour", "is_weekend", "elapsed")),
         ["last_event_at"]),
        ("date", dates(("year", "month", "day_of_week", "is_weekend", "elapsed")), ["signup_date"]),
        ("categorical", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=0.01,
                                      sparse_output=False),
         ["plan", "contract", "region", "payment_method", "gender"]),
    ], sparse_threshold=0.0, verbose_feature_names_out=False)


def test_one_row_predictions_match_batch_and_hand_built_column_transformer():
    data = mllife.make_churn(400, random_state=1, defects=False)
    X, y = data.X, data.y
    ours = make_pipeline(make_preprocessor(X), LogisticRegression(max_iter=500)).fit(X, y)
    hand = make_pipeline(_hand_built(X), LogisticRegression(max_iter=500)).fit(X, y)
    assert list(ours[0].plan_.query("entry != 'identifier'")["entry"].unique()) == [
        "numeric", "datetime", "date", "categorical"]
    calendar = ours[0].named_transformers_["datetime"].named_steps["calendar"]
    assert calendar.dropped_ == {"last_event_at": {"year": "constant at fit (2024)"}}
    batch = ours.predict_proba(X)
    np.testing.assert_allclose(batch, hand.predict_proba(X), rtol=1e-12, atol=1e-14)
    for i in (0, 7, 399):
        np.testing.assert_allclose(ours.predict_proba(X.iloc[[i]]), batch[[i]], rtol=1e-12, atol=1e-14)


def test_datetime_features_fast_path_keeps_checks():
    X = _table()[["when"]]
    dtf = DateTimeFeatures(("hour", "is_month_end", "elapsed"), cyclical=["hour"]).fit(X)
    row = X.iloc[[3]]
    np.testing.assert_array_equal(dtf.transform(row).to_numpy(), dtf.transform(X).iloc[[3]].to_numpy())
    local = X["when"].iloc[3]
    assert dtf.transform(row)["when_hour_sin"].iloc[0] == pytest.approx(np.sin(2 * np.pi * local.hour / 24))
    with pytest.raises(InputError, match="naive"):
        dtf.transform(pd.DataFrame({"when": [pd.Timestamp("2024-01-01")]}))
    with pytest.raises(InputError):
        dtf.transform(pd.DataFrame({"other": X["when"]}))


def test_describe_features_many_to_many_step_lists_every_input():
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_union

    X = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10.0) ** 2})
    union = make_union(StandardScaler(), PCA(1)).fit(X)
    table = describe_features(union).set_index("feature")
    assert table.loc["pca__pca0", "source"] == "a, b"  # not "a" because "a" is inside "pca0"
    assert table.loc["standardscaler__b", "source"] == "b"


def test_describe_features_with_mismatched_data_names_the_problem():
    X = _table()
    pre = make_preprocessor(X).fit(X)
    with pytest.raises(InputError, match="missing column"):
        describe_features(pre, X.drop(columns="num"))
    ct = ColumnTransformer([("s", StandardScaler(), ["num"])]).fit(X)
    with pytest.raises(InputError, match="cannot be transformed"):
        describe_features(ct, X.drop(columns="num"))


def test_infinite_values_are_named_not_a_raw_scaler_error():
    X = pd.DataFrame({"price": [1.0, np.inf, 3.0, -np.inf] * 5, "plan": list("abab") * 5})
    with pytest.raises(InputError, match=r"column 'price': holds infinite values \(10 rows\)"):
        make_preprocessor(X).fit_transform(X)
    fitted = make_preprocessor(X.replace([np.inf, -np.inf], np.nan)).fit(X.replace([np.inf, -np.inf], np.nan))
    with pytest.raises(InputError, match="price"):
        fitted.transform(X)
