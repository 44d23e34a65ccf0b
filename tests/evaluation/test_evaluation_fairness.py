"""Fairness numbers agree with fairlearn called directly; small groups are flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    selection_rate,
)
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, mean_absolute_error, recall_score

import mllife
from mllife.evaluation import evaluate


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 2000
    X = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n),
                      "group": rng.choice(np.array(["a", "b", "c"]), n, p=[0.6, 0.39, 0.01])})
    y = (X["x"] + 0.5 * (X["group"] == "b") + rng.normal(0, 1, n) > 0.3).astype(int)
    model = LogisticRegression().fit(X[["x", "z"]], y)
    return model, X, y


def test_binary_fairness_matches_fairlearn(data):
    model, X, y = data
    with pytest.warns(mllife.DataWarning, match="too small"):
        r = evaluate(model, X[["x", "z"]], y, sensitive_features=X["group"], baseline=None)
    pred = model.predict(X[["x", "z"]])
    direct = MetricFrame(metrics={"accuracy": accuracy_score, "selection_rate": selection_rate,
                                  "recall": recall_score},
                         y_true=y, y_pred=pred, sensitive_features=X["group"])
    table = r.fairness.set_index("group")
    for g in ("a", "b", "c"):
        assert table.loc[g, "accuracy"] == pytest.approx(direct.by_group.loc[g, "accuracy"])
        assert table.loc[g, "selection_rate"] == pytest.approx(direct.by_group.loc[g, "selection_rate"])
        assert table.loc[g, "true_positive_rate"] == pytest.approx(direct.by_group.loc[g, "recall"])
        assert table.loc[g, "n"] == (X["group"] == g).sum()
    dp = demographic_parity_difference(y, pred, sensitive_features=X["group"])
    eo = equalized_odds_difference(y, pred, sensitive_features=X["group"])
    assert r.fairness_differences["demographic_parity_difference"] == pytest.approx(dp)
    assert r.fairness_differences["equalized_odds_difference"] == pytest.approx(eo)
    assert table.loc["c", "too_small"]
    assert not table.loc["a", "too_small"]
    (small,) = r.findings_by(check="fairness_small_groups")
    assert "c" in small.message


def test_undefined_group_rates_are_nan_with_a_reason(data):
    model, X, y = data
    y2 = y.copy()
    y2[(X["group"] == "c").to_numpy()] = 0  # group c has no positives: its TPR is undefined
    with pytest.warns(mllife.DataWarning):
        r = evaluate(model, X[["x", "z"]], y2, sensitive_features=X["group"], baseline=None)
    row = r.fairness.set_index("group").loc["c"]
    assert np.isnan(row["true_positive_rate"])
    assert "true_positive_rate" in row["undefined"]
    assert r.findings_by(check="fairness_undefined_metrics")


def test_sensitive_features_by_column_name_and_intersections(data):
    _model, X, y = data
    Xs = X.assign(region=np.where(np.arange(len(X)) % 2, "n", "s"))
    model2 = LogisticRegression().fit(Xs[["x", "z"]], y)

    class OnXZ(LogisticRegression):
        def predict(self, X):
            return model2.predict(X[["x", "z"]])

        def predict_proba(self, X):
            return model2.predict_proba(X[["x", "z"]])

    wrapped = OnXZ()
    wrapped.classes_ = model2.classes_
    with pytest.warns(mllife.DataWarning):
        r = evaluate(wrapped, Xs, y, sensitive_features=["group", "region"], baseline=None)
    assert set(r.fairness["group"]) >= {"a & n", "b & s"}
    big = r.fairness[r.fairness["n"] > 100]
    assert big["roc_auc"].notna().all()
    row = r.fairness.set_index("group").loc["a & n"]
    mask = ((Xs["group"] == "a") & (Xs["region"] == "n")).to_numpy()
    from sklearn.metrics import roc_auc_score
    assert row["roc_auc"] == pytest.approx(roc_auc_score(y[mask], model2.predict_proba(Xs[["x", "z"]][mask])[:, 1]))
    assert r.fairness["n"].sum() == len(X)


def test_regression_fairness_matches_fairlearn():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(3)
    X = pd.DataFrame({"x": rng.normal(size=500)})
    g = pd.Series(rng.choice(np.array(["u", "v"]), 500), name="g")
    y = 2 * X["x"] + rng.normal(size=500)
    model = LinearRegression().fit(X, y)
    r = evaluate(model, X, y, sensitive_features=g, baseline=None)
    direct = MetricFrame(metrics=mean_absolute_error, y_true=y, y_pred=model.predict(X),
                         sensitive_features=g)
    table = r.fairness.set_index("group")
    for k in ("u", "v"):
        assert table.loc[k, "mae"] == pytest.approx(direct.by_group.loc[k])
        # The documented mean prediction per group, with the mean target beside it.
        mask = (g == k).to_numpy()
        assert table.loc[k, "mean_prediction"] == pytest.approx(model.predict(X)[mask].mean())
        assert table.loc[k, "mean_target"] == pytest.approx(y[mask].mean())


def _pred(y, p, score=None):
    from mllife.evaluation._inputs import Predictions

    return Predictions(task="binary", y_true=np.asarray(y), y_pred=np.asarray(p),
                       classes=np.array([0, 1]), score=score, positive_label=1)


def test_parity_gap_flagged_only_when_significant():
    from mllife.evaluation._fairness import fairness

    rng = np.random.default_rng(5)
    n = 4000
    g = pd.Series(rng.choice(np.array(["a", "b"]), n), name="g")
    y = rng.integers(0, 2, n)
    biased = np.where(g == "a", rng.random(n) < 0.6, rng.random(n) < 0.3).astype(int)
    res = fairness(_pred(y, biased), g)
    assert res.differences["demographic_parity_difference"] > 0.25
    assert res.differences["demographic_parity_difference_p_value"] < 1e-6
    assert any(f.check == "fairness_demographic_parity_difference" for f in res.findings)
    # 60 rows per group: a 0.12 gap in selection rate is noise, not a finding.
    small_g = pd.Series(np.repeat(np.array(["a", "b"]), 60), name="g")
    p_small = np.concatenate([np.arange(60) < 25, np.arange(60) < 18]).astype(int)
    res2 = fairness(_pred(np.tile([0, 1], 60), p_small), small_g)
    assert res2.differences["demographic_parity_difference"] > 0.1
    assert not any(f.check == "fairness_demographic_parity_difference" for f in res2.findings)


def test_unnamed_series_and_integer_labelled_frame_as_sensitive_features():
    # An unnamed Series (and a DataFrame with integer column labels) crashed: the group
    # column was named 0, which collided with groupby().size() and which fairlearn refuses.
    rng = np.random.default_rng(7)
    X = pd.DataFrame({"x": rng.normal(size=600)})
    y = (X["x"] + rng.normal(size=600) > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    g = pd.Series(rng.choice(np.array(["u", "v"]), 600))
    r = evaluate(model, X, y, sensitive_features=g, baseline=None)
    direct = MetricFrame(metrics=accuracy_score, y_true=y, y_pred=model.predict(X),
                         sensitive_features=g.rename("g").to_numpy())
    table = r.fairness.set_index("group")
    for k in ("u", "v"):
        assert table.loc[k, "accuracy"] == pytest.approx(direct.by_group.loc[k])
    two = pd.DataFrame({0: g, 1: rng.choice(np.array(["a", "b"]), 600)})
    r2 = evaluate(model, X, y, sensitive_features=two, baseline=None)
    assert r2.fairness["n"].sum() == 600
    assert {"0", "1"} <= set(r2.fairness.columns)


def test_continuous_sensitive_feature_is_grouped_by_quantile_bins():
    # One group per distinct age (hundreds of groups of one row) judged nothing; an integer
    # column label (0) is a column name too.
    rng = np.random.default_rng(8)
    n = 1000
    X = pd.DataFrame({0: rng.normal(40, 12, n), 1: rng.normal(size=n)})
    y = (X[1] + rng.normal(size=n) > 0).astype(int)
    model = LogisticRegression().fit(X.to_numpy(), y)
    r = evaluate(model, X.to_numpy(), y.to_numpy(), sensitive_features=X[0].to_numpy(), baseline=None)
    assert len(r.fairness) == 5
    assert r.fairness["n"].tolist() == [200] * 5
    assert r.fairness["group"].iloc[0].startswith("[")     # lowest bin first
    edges = np.quantile(X[0], [0, 0.2])
    low = (X[0] <= edges[1]).to_numpy()
    assert r.fairness["accuracy"].iloc[0] == pytest.approx(
        accuracy_score(y[low], model.predict(X.to_numpy()[low])))
    model_df = LogisticRegression().fit(X, y)
    r2 = evaluate(model_df, X, y, sensitive_features=0, baseline=None)
    assert len(r2.fairness) == 5


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_absent_combination_of_two_sensitive_features_is_left_out_not_a_crash(task):
    # An adult-census-like test set holding no "Amer-Indian-Eskimo" women: fairlearn lists
    # that sex x race combination with NaN metrics, and casting its size to int raised
    # pandas' IntCastingNaNError.
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(11)
    n = 900
    sex = rng.choice(np.array(["Female", "Male"]), n)
    race = rng.choice(np.array(["White", "Black", "Amer-Indian-Eskimo"]), n, p=[0.7, 0.2, 0.1])
    race = np.where((sex == "Female") & (race == "Amer-Indian-Eskimo"), "White", race)
    X = pd.DataFrame({"age": rng.integers(17, 90, n).astype(float),
                      "hours_per_week": rng.normal(40, 10, n), "sex": sex, "race": race})
    signal = (X["age"] - 40) / 12 + (X["hours_per_week"] - 40) / 10 + rng.normal(size=n)
    numbers = ColumnTransformer([("num", "passthrough", ["age", "hours_per_week"])])
    if task == "regression":
        y = signal
        model = make_pipeline(numbers, LinearRegression()).fit(X, y)
    else:
        y = pd.Series(np.digitize(signal, [0.0] if task == "binary" else [-0.7, 0.7]))
        model = make_pipeline(numbers, LogisticRegression()).fit(X, y)
    r = evaluate(model, X, y, sensitive_features=["sex", "race"], baseline=None)
    assert "Female & Amer-Indian-Eskimo" not in set(r.fairness["group"])
    assert len(r.fairness) == 5
    assert r.fairness["n"].sum() == n
    assert any("Female & Amer-Indian-Eskimo" in note and "no test rows" in note for note in r.notes)
    if task == "binary":
        pred = model.predict(X)
        direct = MetricFrame(metrics=selection_rate, y_true=y, y_pred=pred,
                             sensitive_features=X[["sex", "race"]])
        table = r.fairness.set_index(["sex", "race"])["selection_rate"]
        expected = direct.by_group.dropna()
        assert table.sort_index().to_numpy() == pytest.approx(expected.sort_index().to_numpy())
        assert r.fairness_differences["demographic_parity_difference"] == pytest.approx(
            demographic_parity_difference(y, pred, sensitive_features=X[["sex", "race"]]))
