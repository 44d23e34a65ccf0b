"""make_preprocessor: kinds, unseen values, leakage-safety, clone, bad input, hypothesis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline

from mllife import InputError, make_churn
from mllife.features import describe_features, make_preprocessor


@pytest.fixture(scope="module")
def churn_X():
    data = make_churn(1_500, random_state=3, defects=False, drift=True)
    return data.X, data.y


def _mixed(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({
        "id": np.arange(n),
        "x": x,
        "flag": rng.random(n) < 0.3,
        "const": 1.0,
        "empty": np.full(n, np.nan),
        "color": rng.choice(["red", "green", "blue"], n),
        "zip": [f"z{v}" for v in rng.integers(0, 200, n)],
        "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s"),
        "day": pd.Series(pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")).dt.strftime("%Y-%m-%d"),
        "wait": pd.to_timedelta(rng.integers(0, 100, n), unit="h"),
    })


def test_plan_follows_the_kinds():
    X = _mixed()
    plan = make_preprocessor(X).plan_.set_index("column")
    assert plan.loc["id", "entry"] == "identifier"
    assert plan.loc["x", "entry"] == "numeric"
    assert plan.loc["flag", "entry"] == "boolean"
    assert plan.loc["const", "entry"] == "constant"
    assert plan.loc["empty", "entry"] == "empty"
    assert plan.loc["color", "entry"] == "categorical"
    assert plan.loc["zip", "entry"] == "high_cardinality"
    assert plan.loc["when", "entry"] == "datetime"
    assert plan.loc["day", "entry"] == "date"  # date strings detected
    assert plan.loc["wait", "entry"] == "timedelta"
    for col in ("id", "const", "empty"):
        assert plan.loc[col, "action"].startswith("dropped")


def test_output_is_pandas_numeric_and_complete():
    X = _mixed()
    pre = make_preprocessor(X)
    out = pre.fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert out.index.equals(X.index)
    assert list(out.columns) == list(pre.get_feature_names_out())
    assert np.isfinite(out.to_numpy(dtype=float)).all()
    assert {"x", "missingindicator_x", "flag", "color_red", "when_hour", "day_month"} <= set(out.columns)
    assert "day_hour" not in out.columns  # dates without a time of day get no hour
    assert not {"id", "const", "empty"} & set(out.columns)
    np.testing.assert_array_equal(out["flag"], X["flag"].astype(float))  # booleans kept as 0/1
    np.testing.assert_allclose(out["x"].mean(), 0.0, atol=1e-12)  # scaled
    unscaled = make_preprocessor(X, scale=False).fit_transform(X)
    np.testing.assert_allclose(unscaled["x"], X["x"].fillna(X["x"].median()))


def test_unseen_rare_and_missing_categories_do_not_break_it():
    X = _mixed()
    pre = make_preprocessor(X).fit(X)
    new = X.iloc[:5].copy()
    new["color"] = ["purple", None, "red", "red", "green"]
    new["zip"] = ["never-seen"] * 5
    new["x"] = np.nan  # all-NaN numeric column at transform
    out = pre.transform(new)
    color = out[[c for c in out.columns if c.startswith("color_")]]
    assert color.iloc[0].sum() == 0  # unseen: all zeros
    assert out["zip___rare__"].eq(1.0).all()
    assert np.isfinite(out.to_numpy(dtype=float)).all()


def test_scaler_never_sees_test_rows_in_cross_validate(churn_X):
    X, y = churn_X
    model = make_pipeline(make_preprocessor(X), LogisticRegression(max_iter=300))
    cv = KFold(4, shuffle=True, random_state=0)
    result = cross_validate(model, X, y, cv=cv, return_estimator=True)
    numeric = ["age", "tenure_months", "monthly_charges"]
    for fitted, (train, _test) in zip(result["estimator"], cv.split(X), strict=True):
        ct = fitted[0]
        scaler = ct.named_transformers_["numeric"].named_steps["scale"]
        imputer = ct.named_transformers_["numeric"].named_steps["impute"]
        names = list(imputer.get_feature_names_out())
        idx = [names.index(c) for c in numeric]
        np.testing.assert_allclose(scaler.mean_[idx], X.iloc[train][numeric].mean().to_numpy())
        assert not np.allclose(scaler.mean_[idx], X[numeric].mean().to_numpy())
        ref = ct.named_transformers_["datetime"].named_steps["calendar"].reference_["last_event_at"]
        assert pd.Timestamp(ref) == X.iloc[train]["last_event_at"].min()


def test_clone_keeps_plan_and_grid_search_works(churn_X):
    X, y = churn_X
    pre = make_preprocessor(X)
    twin = clone(pre)
    assert isinstance(twin, ColumnTransformer)
    pd.testing.assert_frame_equal(twin.plan_, pre.plan_)
    model = make_pipeline(pre, LogisticRegression(max_iter=300))
    grid = GridSearchCV(model, {"logisticregression__C": [0.1, 1.0]}, cv=2).fit(X, y)
    assert grid.best_estimator_.predict(X.iloc[:3]).shape == (3,)
    report = grid.best_estimator_[0].plan_report(X)
    assert report.to_dict()["summary"]["output features"] == len(grid.best_estimator_[0].get_feature_names_out())


def test_missing_new_columns_and_text_in_numbers_are_named():
    X = _mixed()
    pre = make_preprocessor(X).fit(X)
    with pytest.raises(InputError, match=r"missing column.*'color'"):
        pre.transform(X.drop(columns="color"))
    with pytest.raises(InputError, match=r"new column.*'extra'"):
        pre.transform(X.assign(extra=1))
    bad = X.astype({"x": object})
    bad.loc[[0, 1], "x"] = "oops"
    with pytest.raises(InputError, match=r"column 'x'.*text.*\(2 rows\)"):
        pre.transform(bad)
    with pytest.raises(InputError, match="drop"):
        make_preprocessor(X, drop=["nope"])
    with pytest.raises(InputError, match="max_categories"):
        make_preprocessor(X, max_categories=0)


def test_numpy_input_and_drop():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(60, 3))
    pre = make_preprocessor(a, drop=["x2"])
    out = pre.fit_transform(a)
    assert list(out.columns) == ["x0", "x1"]
    assert pre.plan_.set_index("column").loc["x2", "kind"] == "excluded"


def test_input_not_mutated():
    X = _mixed()
    before = X.copy()
    make_preprocessor(X).fit_transform(X)
    pd.testing.assert_frame_equal(X, before)


def test_colliding_short_names_get_prefixes():
    X = pd.DataFrame({"a": list("xyzxyzxyzx"), "a_x": np.arange(10.0)})
    pre = make_preprocessor(X)
    out = pre.fit_transform(X)
    assert out.columns.is_unique
    assert "numeric__a_x" in out.columns


def test_sampled_detection_confirms_constant_and_ids():
    n = 30_000
    X = pd.DataFrame({"id": np.arange(n), "almost": np.r_[np.zeros(n - 1), 1.0],
                      "v": np.random.default_rng(0).normal(size=n)})
    plan = make_preprocessor(X, sample_size=1_000).plan_.set_index("column")["entry"]
    assert plan["id"] == "identifier"
    assert plan["almost"] == "numeric"  # constant in the sample, not in the column


_column = st.sampled_from(["float", "int", "text", "many", "bool", "date", "nan"])


@pytest.mark.filterwarnings("ignore:make_preprocessor. every column is dropped")  # all-NaN draws
@given(kinds=st.lists(_column, min_size=1, max_size=6), n=st.integers(3, 40), seed=st.integers(0, 10**6))
def test_any_frame_gives_finite_features_and_stable_transform(kinds, n, seed):
    rng = np.random.default_rng(seed)
    cols = {}
    for i, kind in enumerate(kinds):
        missing = rng.random(n) < 0.2
        if kind == "float":
            v = rng.normal(size=n)
            v[missing] = np.nan
        elif kind == "int":
            v = rng.integers(-3, 3, n)
        elif kind == "text":
            v = pd.Series(rng.choice(["a", "b", "c"], n), dtype=object).where(~missing, None)
        elif kind == "many":
            v = pd.Series([f"k{j}" for j in rng.integers(0, 60, n)], dtype=object)
        elif kind == "bool":
            v = rng.random(n) < 0.5
        elif kind == "date":
            v = pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**8, n), unit="s")).where(~missing)
        else:
            v = np.full(n, np.nan)
        cols[f"c{i}"] = v
    X = pd.DataFrame(cols)
    pre = make_preprocessor(X, max_categories=5)
    out = pre.fit_transform(X)
    assert out.shape[0] == n
    assert list(out.columns) == list(pre.get_feature_names_out())
    assert np.isfinite(out.to_numpy(dtype=float)).all()
    again = pre.transform(X.iloc[::-1])
    np.testing.assert_allclose(again.to_numpy(dtype=float), out.iloc[::-1].to_numpy(dtype=float))
    kept = set(pre.plan_.loc[~pre.plan_["action"].str.startswith("dropped"), "column"])
    if out.shape[1]:
        sources = {s for src in describe_features(pre)["source"] for s in src.split(", ")}
        assert sources <= kept


def test_mixed_time_zone_strings_are_converted_to_utc():
    X = pd.DataFrame({"t": ["2024-01-01T10:00+01:00", "2024-01-01T10:00+05:00"] * 30,
                      "v": np.tile([1.0, 2.0, 3.0], 20)})
    pre = make_preprocessor(X, scale=False)
    assert pre.plan_.set_index("column").loc["t", "entry"] == "datetime_utc"
    out = pre.fit_transform(X)
    assert out["t_hour"].iloc[:2].tolist() == [9.0, 5.0]


def test_routing_threshold_is_a_parameter_honoured_at_fit():
    from sklearn.exceptions import NotFittedError

    X = _mixed()
    pre = make_preprocessor(X)
    assert pre.get_params()["max_categories"] == 30
    assert pre.column_kinds["zip"]["n_unique"] > 30
    with pytest.raises(NotFittedError):
        _ = pre.column_kinds_
    given = pre.transformers
    tuned = clone(pre).set_params(max_categories=500)
    assert tuned.plan_.set_index("column").loc["zip", "entry"] == "categorical"  # shown before fit
    entries = list(tuned.transformers)
    tuned.fit(X)
    assert tuned.transformers == entries  # fit routes without changing the parameter
    assert tuned.column_kinds_["zip"] == "categorical"
    assert tuned.column_kinds_["id"] == "identifier"
    assert "high_cardinality" not in tuned.named_transformers_
    few = clone(pre).set_params(max_categories=2).fit(X)
    assert few.column_kinds_["color"] == "high_cardinality"
    group = few.named_transformers_["high_cardinality"].named_steps["group"]
    assert group.max_categories == 2  # the grouping keeps at most max_categories too
    assert pre.transformers is given


def test_yes_no_text_is_a_boolean_flag():
    X = pd.DataFrame({"paid": ["Y", "N", "Y", None] * 10, "v": np.arange(40.0)})
    pre = make_preprocessor(X, scale=False)
    out = pre.fit_transform(X)
    assert pre.column_kinds_ == {"paid": "boolean", "v": "numeric"}
    assert out["paid"].tolist()[:3] == [1.0, 0.0, 1.0]
    assert pre.transform(X.assign(paid=["maybe"] * 40))["paid"].eq(1.0).all()  # unseen: most frequent
