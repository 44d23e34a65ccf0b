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


# ---- when is a difference a finding ("unfair" is a statistical claim) -----------------

def _fair(y, p, groups):
    from mllife.evaluation._fairness import fairness

    return fairness(_pred(y, p), groups)


def _rows(counts):
    """Labels and predictions of groups given as (rows, positives, true positives, predicted positives)."""
    ys, ps, gs = [], [], []
    for label, (n, pos, tp, pp) in counts.items():
        y = np.r_[np.ones(pos, int), np.zeros(n - pos, int)]
        p = np.r_[np.ones(tp, int), np.zeros(pos - tp, int),
                  np.ones(pp - tp, int), np.zeros(n - pos - (pp - tp), int)]
        ys.append(y)
        ps.append(p)
        gs.append(np.full(n, label, dtype=object))
    return np.concatenate(ys), np.concatenate(ps), pd.Series(np.concatenate(gs), name="g")


def test_the_audits_case_best_vs_worst_gap_of_ten_null_groups_is_no_finding():
    # 10 groups x 100 rows, selection rates 0.40 ... 0.60: the two extreme groups "differ"
    # (two-proportion z = 2.83, p = 0.005, which the old rule flagged), but across the ten
    # groups the spread is what chance gives (chi-square 12.5 on 9 dof, p = 0.19).
    selected = [40, 44, 46, 48, 50, 50, 52, 54, 56, 60]
    counts = {chr(97 + i): (100, 50, k // 2, k) for i, k in enumerate(selected)}
    y, p, g = _rows(counts)
    res = _fair(y, p, g)
    assert res.differences["demographic_parity_difference"] == pytest.approx(0.2)
    dp = res.tests.set_index("metric").loc["demographic_parity_difference"]
    assert dp["statistic"] == pytest.approx(312 / 25)
    assert dp["dof"] == 9
    assert dp["p_value"] == pytest.approx(0.188, abs=1e-3)
    assert not dp["finding"]
    assert not [f for f in res.findings if f.check.startswith("fairness_demographic")]
    assert any("demographic parity difference is 0.200" in note and "not a finding" in note
               for note in res.notes)


def test_tests_agree_with_scipy_and_equalized_odds_sums_two_disjoint_chi_squares():
    from scipy import stats

    rng = np.random.default_rng(21)
    n = 3000
    g = pd.Series(rng.choice(np.array(["a", "b", "c", "d"]), n), name="g")
    y = (rng.random(n) < 0.4).astype(int)
    p = (rng.random(n) < np.where(y == 1, 0.7, 0.2) + 0.08 * (g == "a")).astype(int)
    res = _fair(y, p, g)
    tests = res.tests.set_index("metric")

    def chi2(mask):
        table = pd.crosstab(g[mask], p[mask]).to_numpy()
        return stats.chi2_contingency(table, correction=False)

    sel = chi2(np.ones(n, bool))
    dp = tests.loc["demographic_parity_difference"]
    assert dp["statistic"] == pytest.approx(sel.statistic)
    assert dp["dof"] == sel.dof == 3
    assert dp["p_value"] == pytest.approx(sel.pvalue)
    tpr, fpr = chi2(y == 1), chi2(y == 0)
    eo = tests.loc["equalized_odds_difference"]
    assert eo["statistic"] == pytest.approx(tpr.statistic + fpr.statistic)
    assert eo["dof"] == 6
    assert eo["p_value"] == pytest.approx(stats.chi2.sf(tpr.statistic + fpr.statistic, 6))
    # Holm over the two claims, and the p-values reported beside fairlearn's differences.
    p_values = tests["p_value"].to_numpy()
    low, high = np.sort(p_values)
    holm = {low: min(1, 2 * low), high: min(1, max(2 * low, high))}
    assert tests["p_value_holm"].to_numpy() == pytest.approx([holm[v] for v in p_values])
    assert res.differences["equalized_odds_difference_p_value"] == pytest.approx(eo["p_value"])
    assert res.differences["equalized_odds_difference_p_value_holm"] == pytest.approx(
        eo["p_value_holm"])
    assert "summed" in eo["test"]


def test_a_finding_says_which_test_statistic_dof_p_value_and_groups_left_out():
    counts = {"a": (300, 150, 120, 170), "b": (300, 150, 60, 100), "c": (300, 150, 90, 135),
              "d": (20, 10, 10, 20), "e": (200, 20, 10, 60)}
    y, p, g = _rows(counts)
    with_finding = _fair(y, p, g)
    (dp,) = [f for f in with_finding.findings if f.check == "fairness_demographic_parity_difference"]
    assert "chi-square test of equal selection rates across 4 groups" in dp.message
    assert "dof = 3" in dp.message
    assert "p = " in dp.message
    assert "Holm" in dp.message
    assert "under 30 rows: d (20)" in dp.message      # d (all selected) is left out ...
    assert dp.details["groups_judged"] == 4
    # ... of the effect too: fairlearn's difference counts d, the judged one does not.
    assert with_finding.differences["demographic_parity_difference"] == pytest.approx(1 - 60 / 200)
    assert dp.details["judged_difference"] == pytest.approx(170 / 300 - 60 / 200)
    (eo,) = [f for f in with_finding.findings if f.check == "fairness_equalized_odds_difference"]
    assert "true positive rates (3 groups) and equal false positive rates (4 groups), summed" \
        in eo.message
    assert "true positive rate with under 30 positives: e (20)" in eo.message
    assert eo.details["dof"] == 2 + 3


def test_groups_too_small_to_judge_raise_no_finding_however_different():
    # Two groups of 200 with equal rates, one of 25 rows that is always selected:
    # fairlearn's difference is 0.5, but the only group that differs is too small to judge.
    counts = {"a": (200, 100, 70, 100), "b": (200, 100, 70, 100), "c": (25, 12, 12, 25)}
    y, p, g = _rows(counts)
    res = _fair(y, p, g)
    assert res.differences["demographic_parity_difference"] == pytest.approx(0.5)
    assert not [f for f in res.findings if f.check in (
        "fairness_demographic_parity_difference", "fairness_equalized_odds_difference")]
    assert any(f.check == "fairness_small_groups" and "left out of the fairness tests" in f.message
               for f in res.findings)
    dp = res.tests.set_index("metric").loc["demographic_parity_difference"]
    assert dp["judged_difference"] == 0
    assert dp["groups_judged"] == 2
    assert "c (25)" in dp["left_out"]


def test_untestable_claims_are_said_so_not_passed_or_flagged():
    # One group large enough to judge: nothing to compare it with.
    counts = {"a": (200, 100, 80, 120), "b": (20, 10, 0, 0)}
    res = _fair(*_rows(counts))
    tests = res.tests.set_index("metric")
    assert tests["p_value"].isna().all()
    assert not tests["finding"].any()
    assert tests.loc["demographic_parity_difference", "test"].startswith("not tested: fewer than two")
    assert np.isnan(res.differences["demographic_parity_difference_p_value"])
    assert any("not a finding: not tested" in note for note in res.notes)
    # Every row predicted positive: the selection rate is 1 everywhere, nothing varies.
    counts = {"a": (100, 50, 50, 100), "b": (100, 50, 50, 100)}
    tests = _fair(*_rows(counts)).tests.set_index("metric")
    assert "rate is 1 in every judged group" in tests.loc["demographic_parity_difference", "test"]
    assert not tests["finding"].any()


def test_small_expected_counts_give_an_exact_permutation_p_value():
    from scipy import stats

    from mllife.evaluation._fairness import N_RESAMPLES

    # 2 groups x 200 rows, 7 and 1 selected: expected counts of 4 are too few for the
    # asymptotic chi-square. With two groups the permutation distribution is hypergeometric,
    # so the Monte-Carlo p-value can be checked against the exact one.
    counts = {"a": (200, 100, 4, 7), "b": (200, 100, 1, 1)}
    y, p, g = _rows(counts)
    dp = _fair(y, p, g).tests.set_index("metric").loc["demographic_parity_difference"]
    assert "Monte-Carlo permutation" in dp["test"]
    # Equal groups: Pearson's statistic grows with |k - 4| for k selected in group a of 8.
    k = np.arange(9)
    exact = stats.hypergeom(400, 200, 8).pmf(k)[np.abs(k - 4) >= 3].sum()
    assert exact == pytest.approx(0.0676, abs=1e-4)
    assert dp["p_value"] == pytest.approx(exact, abs=3 * np.sqrt(exact * (1 - exact) / N_RESAMPLES))
    assert _fair(y, p, g).tests["p_value"].tolist() == pytest.approx(
        _fair(y, p, g).tests["p_value"].tolist())     # seeded: the same data, the same p-value


def test_fairness_takes_its_decision_from_the_counts_it_reports():
    # fairness() computes the per-group counts with fairlearn on compressed rows, then
    # calls _judge (the function tests/calibration/test_fairness.py calibrates): the same
    # tests as _judge on counts made directly, for intersections, small groups and both
    # p-value methods.
    from mllife.evaluation._fairness import _judge

    rng = np.random.default_rng(4)
    methods = []
    for n, base, fpr in ((1500, 0.5, 0.1), (400, 0.04, 0.01)):
        sens = pd.DataFrame({"s": rng.choice(np.array(["f", "m"]), n),
                             "r": rng.choice(np.array(["x", "y", "z"]), n, p=[0.6, 0.37, 0.03])})
        y = (rng.random(n) < base).astype(int)
        p = (rng.random(n) < np.where(y == 1, 0.7, fpr)).astype(int)
        res = _fair(y, p, sens)
        key = sens["s"] + " & " + sens["r"]
        table = pd.DataFrame({"y": y, "p": p, "tp": y & p}).groupby(key.to_numpy()).agg(
            n=("y", "size"), n_positive=("y", "sum"), n_true_positive=("tp", "sum"),
            n_predicted_positive=("p", "sum")).rename_axis("group").reset_index()
        direct = _judge(table, res.differences)
        pd.testing.assert_frame_equal(res.tests, direct)
        methods.append(res.tests.loc[0, "test"])
    assert "Monte-Carlo" not in methods[0]
    assert "Monte-Carlo" in methods[1]


@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_other_tasks_have_no_parity_tests(task):
    from mllife.evaluation._fairness import fairness
    from mllife.evaluation._inputs import Predictions

    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 300).astype(float)
    pred = Predictions(task=task, y_true=y, y_pred=rng.permutation(y),
                       classes=np.array([0.0, 1.0, 2.0]) if task == "multiclass" else None)
    res = fairness(pred, pd.Series(rng.choice(np.array(["a", "b"]), 300), name="g"))
    assert res.tests.empty
    assert "metric" in res.tests.columns
    assert not [f for f in res.findings if f.check.startswith(("fairness_demographic",
                                                               "fairness_equalized"))]
