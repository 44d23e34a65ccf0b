"""evaluate(): metrics agree with scikit-learn, and bad input fails loudly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.calibration import calibration_curve
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.svm import LinearSVC

import mllife
from mllife._metrics import expected_calibration_error
from mllife.evaluation import EvaluationReport, evaluate


def _frame(X):
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(1200, n_features=6, n_informative=4, random_state=0)
    X = _frame(X)
    labels = np.where(y == 1, "yes", "no")
    model = LogisticRegression().fit(X[:800], labels[:800])
    return model, X[800:], pd.Series(labels[800:], index=X.index[800:], name="target")


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_classification(1500, n_features=8, n_informative=5, n_classes=3, random_state=1)
    X = _frame(X)
    model = LogisticRegression(max_iter=500).fit(X[:1000], y[:1000])
    return model, X[1000:], y[1000:]


def test_binary_metrics_agree_with_sklearn(binary):
    model, X, y = binary
    r = evaluate(model, X, y, baseline=None)
    pred, proba = model.predict(X), model.predict_proba(X)[:, 1]
    assert r.task == "binary"
    assert r.positive_label == "yes"
    m = r.metrics
    assert m["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    assert m["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred), abs=1e-12)
    assert m["precision"] == pytest.approx(skm.precision_score(y, pred, pos_label="yes"), abs=1e-12)
    assert m["recall"] == pytest.approx(skm.recall_score(y, pred, pos_label="yes"), abs=1e-12)
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred, pos_label="yes"), abs=1e-12)
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y == "yes", proba), abs=1e-12)
    assert m["pr_auc"] == pytest.approx(skm.average_precision_score(y, proba, pos_label="yes"), abs=1e-12)
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, model.predict_proba(X)), abs=1e-12)
    assert m["brier"] == pytest.approx(skm.brier_score_loss(y, proba, pos_label="yes"), abs=1e-12)
    assert dict(r.undefined) == {}
    cm = skm.confusion_matrix(y, pred, labels=["no", "yes"])
    np.testing.assert_array_equal(r.confusion[["no", "yes"]].to_numpy(), cm)
    np.testing.assert_allclose(r.confusion_normalized[["no", "yes"]].to_numpy().sum(axis=1), 1.0)


def test_positive_label_can_be_chosen(binary):
    model, X, y = binary
    r = evaluate(model, X, y, baseline=None, positive_label="no")
    pred, proba = model.predict(X), model.predict_proba(X)[:, 0]
    assert r.metrics["recall"] == pytest.approx(skm.recall_score(y, pred, pos_label="no"))
    assert r.metrics["pr_auc"] == pytest.approx(skm.average_precision_score(y, proba, pos_label="no"))
    with pytest.raises(mllife.InputError, match="positive_label"):
        evaluate(model, X, y, baseline=None, positive_label="maybe")


def test_calibration_and_threshold_table(binary):
    model, X, y = binary
    r = evaluate(model, X, y, baseline=None)
    proba = model.predict_proba(X)[:, 1]
    rate, mean_p = calibration_curve(y == "yes", proba, n_bins=10, strategy="uniform")
    np.testing.assert_allclose(r.calibration["observed_rate"], rate)
    np.testing.assert_allclose(r.calibration["mean_predicted"], mean_p)
    assert r.calibration["n"].sum() == len(y)
    ece = np.sum(r.calibration["n"] / len(y) * np.abs(r.calibration["observed_rate"]
                                                       - r.calibration["mean_predicted"]))
    assert r.metrics["ece"] == pytest.approx(ece)
    row = r.threshold_table.set_index("threshold").loc[0.3]
    cut = np.where(proba >= 0.3, "yes", "no")
    assert row["precision"] == pytest.approx(skm.precision_score(y, cut, pos_label="yes"))
    assert row["recall"] == pytest.approx(skm.recall_score(y, cut, pos_label="yes"))
    assert row["tp"] + row["fn"] == (y == "yes").sum()
    fpr, _tpr, _ = skm.roc_curve(y == "yes", proba)
    assert r.roc_curve["fpr"].iloc[-1] == fpr[-1] == 1.0
    assert len(r.roc_curve) <= 201


def test_ece_known_answer():
    # Two bins: p=0.15 (observed 0.5) and p=0.85 (observed 1.0).
    prob = np.array([0.15, 0.15, 0.85, 0.85])
    outcome = np.array([0.0, 1.0, 1.0, 1.0])
    assert expected_calibration_error(outcome, prob) == pytest.approx(0.5 * 0.35 + 0.5 * 0.15)


def test_multiclass_metrics_agree_with_sklearn(multiclass):
    model, X, y = multiclass
    r = evaluate(model, X, y, baseline=None)
    pred, proba = model.predict(X), model.predict_proba(X)
    m = r.metrics
    assert r.task == "multiclass"
    assert m["precision"] == pytest.approx(skm.precision_score(y, pred, average="macro"))
    assert m["recall"] == pytest.approx(skm.recall_score(y, pred, average="macro"))
    assert m["f1"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert m["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr", average="macro"))
    assert m["log_loss"] == pytest.approx(skm.log_loss(y, proba))
    assert m["brier"] == pytest.approx(np.mean(np.sum((proba - np.eye(3)[y]) ** 2, axis=1)))
    report = skm.classification_report(y, pred, output_dict=True)
    table = r.classification_table.set_index("label")
    assert table.loc["macro avg", "f1-score"] == pytest.approx(report["macro avg"]["f1-score"])
    assert r.threshold_table is None
    assert set(r.roc_curve["class"]) == {"0", "1", "2"}


def test_regression_metrics_agree_with_sklearn():
    X, y = make_regression(600, n_features=5, noise=10, random_state=0)
    y = y + 500  # no zeros: MAPE defined
    X = _frame(X)
    model = LinearRegression().fit(X[:400], y[:400])
    r = evaluate(model, X[400:], y[400:], X_train=X[:400], y_train=y[:400])
    pred = model.predict(X[400:])
    assert r.task == "regression"
    assert r.metrics["mae"] == pytest.approx(skm.mean_absolute_error(y[400:], pred))
    assert r.metrics["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y[400:], pred)))
    assert r.metrics["r2"] == pytest.approx(skm.r2_score(y[400:], pred))
    assert r.metrics["mape"] == pytest.approx(skm.mean_absolute_percentage_error(y[400:], pred))
    assert r.lift["mae"] > 0
    assert r.lift["r2"] > 0
    assert r.confusion is None
    zero = np.where(np.arange(200) == 5, 0.0, y[400:])
    r0 = evaluate(model, X[400:], zero, baseline=None)
    assert np.isnan(r0.metrics["mape"])
    assert "zero" in r0.undefined["mape"]


def test_one_class_in_y_test_is_reported_not_a_crash(binary):
    model, X, y = binary
    keep = (y == "no").to_numpy()
    r = evaluate(model, X[keep], y[keep], baseline=None)
    assert np.isnan(r.metrics["roc_auc"])
    assert "one class" in r.undefined["roc_auc"]
    # No positive in y_test: recall is undefined, counted as 0 as scikit-learn does.
    assert r.metrics["recall"] == skm.recall_score(y[keep], model.predict(X[keep]), pos_label="yes",
                                                   zero_division=0.0) == 0.0
    assert "zero_division" in r.undefined["recall"]
    assert r.findings_by(check="one_class")
    assert r.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y[keep], model.predict(X[keep])))


def test_model_without_predict_proba(binary):
    _model, X, y = binary
    svc = LinearSVC().fit(X, y)
    r = evaluate(svc, X, y, baseline=None)
    for name in ("log_loss", "brier", "ece"):
        assert np.isnan(r.metrics[name])
        assert "predict_proba" in r.undefined[name]
    assert r.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y == "yes", svc.decision_function(X)))
    assert r.calibration is None
    assert r.threshold_table is None
    assert r.findings_by(check="skipped_metrics")


class _NaNModel(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.zeros(len(X))

    def predict_proba(self, X):
        out = np.full((len(X), 2), 0.5)
        out[:3] = np.nan
        return out


class _NaNRegressor(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        return self

    def predict(self, X):
        out = np.ones(len(X))
        out[0] = np.nan
        return out


def test_nan_predictions_raise():
    X = pd.DataFrame({"a": np.arange(20.0)})
    y = np.arange(20) % 2
    with pytest.raises(mllife.InputError, match=r"NaN.*\(3 rows\)"):
        evaluate(_NaNModel().fit(X, y), X, y)
    with pytest.raises(mllife.InputError, match=r"NaN.*\(1 row\)"):
        evaluate(_NaNRegressor().fit(X, y), X, y.astype(float))


def test_unseen_labels_in_test(multiclass):
    model, X, y = multiclass
    y2 = y.copy()
    y2[:40] = 7
    r = evaluate(model, X, y2, baseline=None)
    (finding,) = r.findings_by(check="unseen_labels")
    assert finding.n_rows == 40
    assert "7" in finding.message
    assert np.isnan(r.metrics["log_loss"])
    assert "7" in r.undefined["log_loss"]
    assert "7" in r.confusion["true"].tolist()


def test_misaligned_indexes_are_named(binary):
    model, X, y = binary
    shuffled = y.sample(frac=1.0, random_state=0)
    with pytest.raises(mllife.InputError, match="indexes of X_test and y_test"):
        evaluate(model, X, shuffled)
    with pytest.raises(mllife.InputError, match="X_test has 400 rows but y_test has 399"):
        evaluate(model, X, y.iloc[:-1])
    groups = pd.Series(np.where(np.arange(len(X)) % 2, "a", "b"), index=X.index + 1)
    with pytest.raises(mllife.InputError, match="sensitive_features"):
        evaluate(model, X, y, sensitive_features=groups)
    with pytest.raises(mllife.InputError, match="time"):
        evaluate(model, X, y, time=np.arange(3))
    with pytest.raises(mllife.InputError, match="'nope'"):
        evaluate(model, X, y, sensitive_features="nope")
    with pytest.raises(mllife.InputError, match="'nope'"):
        evaluate(model, X, y, sensitive_features=["f0", "nope"])
    with pytest.raises(mllife.InputError, match="expected datetimes"):
        evaluate(model, X, y, time_col="f0")
    with pytest.raises(mllife.InputError, match="missing labels"):
        evaluate(model, X, y.where(y.index != y.index[0]))


def test_numpy_y_takes_x_index_and_inputs_are_not_mutated(binary):
    model, X, y = binary
    X_before, y_before = X.copy(), y.copy()
    r = evaluate(model, X, y.to_numpy(), baseline=None)
    assert isinstance(r, EvaluationReport)
    pd.testing.assert_frame_equal(X, X_before)
    pd.testing.assert_series_equal(y, y_before)


def test_numpy_inputs():
    X, y = make_classification(300, n_features=4, random_state=3)
    model = LogisticRegression().fit(X, y)
    r = evaluate(model, X, y, X_train=X, y_train=y)
    assert r.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, model.predict(X)))


class _Fixed(ClassifierMixin, BaseEstimator):
    """Returns stored probabilities for the rows' ``i`` column."""

    def __init__(self, proba=None):
        self.proba = proba

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        p = self.proba[np.asarray(X["i"], dtype=int)]
        return np.column_stack([1 - p, p])

    def predict(self, X):
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


@settings(max_examples=20)
@given(seed=st.integers(0, 10_000), n=st.integers(20, 300))
def test_binary_metrics_property(seed, n):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    proba = np.clip(rng.beta(2, 2, n) * 0.5 + 0.5 * y * rng.random(n), 0, 1)
    X = pd.DataFrame({"i": np.arange(n)})
    model = _Fixed(proba).fit(X, y)
    r = evaluate(model, X, y, baseline=None)
    pred = model.predict(X)
    assert r.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y, proba), abs=1e-12)
    assert r.metrics["brier"] == pytest.approx(skm.brier_score_loss(y, proba), abs=1e-12)
    assert r.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-12)
    assert r.metrics["ece"] >= 0
    np.testing.assert_array_equal(r.confusion[["0", "1"]].to_numpy(), skm.confusion_matrix(y, pred))
    table = r.threshold_table.set_index("threshold")
    assert (table["tp"] + table["fn"] == y.sum()).all()
    assert table["recall"].is_monotonic_decreasing


@pytest.mark.parametrize("make", ["svc", "ridge"])
def test_multiclass_without_predict_proba_uses_decision_scores(make):
    from sklearn.datasets import load_wine
    from sklearn.linear_model import RidgeClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    data = load_wine(as_frame=True)
    X = data.data
    y = pd.Series(np.asarray(data.target_names)[data.target], index=X.index, name="wine")
    est = SVC() if make == "svc" else RidgeClassifier()
    model = make_pipeline(StandardScaler(), est).fit(X.iloc[::2], y.iloc[::2])
    X_test, y_test = X.iloc[1::2], y.iloc[1::2]
    r = evaluate(model, X_test, y_test, baseline=None)
    d = model.decision_function(X_test)
    truth = y_test.to_numpy()[:, None] == model.classes_[None, :]
    assert r.metrics["roc_auc"] == pytest.approx(
        np.mean([skm.roc_auc_score(truth[:, k], d[:, k]) for k in range(3)]))
    assert r.metrics["pr_auc"] == pytest.approx(
        np.mean([skm.average_precision_score(truth[:, k], d[:, k]) for k in range(3)]))
    assert "roc_auc" not in r.undefined
    assert r.roc_curve is not None
    assert set(r.roc_curve["class"]) == set(model.classes_)
    # The metrics that need probabilities are undefined, in one finding for one reason.
    undefined = r.findings_by(check="undefined_metric")
    assert len(undefined) == 1
    assert undefined[0].message.startswith("log_loss, brier and ece are undefined")


def test_string_labels_majority_positive_and_constant_predictions_are_flagged():
    from sklearn.dummy import DummyClassifier

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=400)})
    y = pd.Series(np.where(rng.random(400) < 0.1, "fraud", "ok"), name="label")
    model = DummyClassifier(strategy="prior").fit(X, y)
    r = evaluate(model, X, y, baseline=None)
    assert r.positive_label == "ok"
    found = r.findings_by(check="positive_label")
    assert found
    assert "positive_label='fraud'" in found[0].suggestion
    assert r.findings_by(check="constant_predictions")
    # Naming the positive class silences the hint; the scores are then about it.
    r2 = evaluate(model, X, y, baseline=None, positive_label="fraud")
    assert not r2.findings_by(check="positive_label")
    assert r2.metrics["recall"] == 0.0


def test_one_test_row_without_training_data():
    # The auto baseline is then fitted on y_test, which holds one class: its log loss used
    # to raise scikit-learn's "needs at least two labels".
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200)})
    y = pd.Series((X["a"] > 0).astype(int))
    model = LogisticRegression().fit(X, y)
    r = evaluate(model, X.iloc[:1], y.iloc[:1])
    assert r.metrics["accuracy"] in (0.0, 1.0)
    assert "roc_auc" in r.undefined
    assert r.baseline_metrics is not None
    assert np.isnan(r.baseline_metrics["log_loss"])
    assert r.to_html()


def test_regression_calibration_by_decile_of_the_prediction():
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import Ridge

    data = load_diabetes(as_frame=True)
    X, y = data.data, data.target
    model = Ridge().fit(X[:300], y[:300])
    r = evaluate(model, X[300:], y[300:], baseline=None)
    cal = r.calibration
    assert cal is not None
    assert list(cal.columns) == ["bin_low", "bin_high", "mean_predicted", "mean_actual", "n"]
    assert cal["n"].sum() == len(y) - 300
    pred = model.predict(X[300:])
    # Each decile's means agree with pandas' qcut of the predictions.
    groups = pd.qcut(pred, 10, labels=False)
    expected = pd.Series(y[300:].to_numpy()).groupby(groups).mean().to_numpy()
    np.testing.assert_allclose(cal["mean_actual"].to_numpy(), expected)
    assert "Mean actual by decile" in r.to_html()


def test_time_as_iso_text_is_parsed_and_other_text_is_refused():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({"a": rng.normal(size=n)})
    y = pd.Series((X["a"] + rng.normal(size=n) > 0).astype(int))
    model = LogisticRegression().fit(X, y)
    when = pd.Series(pd.date_range("2024-01-01", periods=n, freq="D", tz="Europe/Paris"))
    as_dates = evaluate(model, X, y, time=when, baseline=None)
    as_text = evaluate(model, X, y, time=when.dt.strftime("%Y-%m-%dT%H:%M:%S%z"), baseline=None)
    pd.testing.assert_frame_equal(as_dates.by_period, as_text.by_period)
    with pytest.raises(mllife.InputError, match="time has dtype"):
        evaluate(model, X, y, time=pd.Series(["soon"] * n), baseline=None)


def test_periods_are_coarsened_until_they_hold_rows():
    from mllife.evaluation._diagnostics import period_freq
    from mllife.evaluation._slices import wilson_interval

    sparse = pd.Series(pd.date_range("2023-01-01", periods=90, freq="2D"))   # 180 days, 90 rows
    assert period_freq(sparse) == "M"          # weeks would hold 3-4 rows each
    dense = pd.Series(pd.date_range("2023-01-01", periods=9000, freq="30min"))  # 187 days
    assert period_freq(dense) == "W"           # 336 rows a week: the span decides
    few = pd.Series(pd.date_range("2023-01-01", periods=40, freq="D"))
    assert period_freq(few) == "W"             # 6 weeks of 7 rows; months would leave 2
    low, high = wilson_interval(np.array([0.0, 5.0]), np.array([14.0, 5.0]))
    assert low[0] == 0.0
    assert high[1] == 1.0


# ---- the intervals behind the red flags, against independent computations -----------------


def test_clopper_pearson_matches_scipy_exact_interval():
    from scipy import stats

    from mllife.evaluation._diagnostics import clopper_pearson

    for k, n in ((0, 10), (3, 40), (70, 100), (99, 100), (100, 100)):
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="exact")
        low, high = clopper_pearson(k, n)
        assert low == pytest.approx(ci.low, abs=1e-12)
        assert high == pytest.approx(ci.high, abs=1e-12)


def test_auc_interval_solves_newcombes_score_equation():
    from scipy import optimize

    from mllife.evaluation._diagnostics import auc_interval

    def variance(t, m, n):   # Newcombe (2006), method 5
        half = (m + n) / 2
        return t * (1 - t) / (m * n) * ((2 * half - 1) - (3 * half - 3) / ((2 - t) * (1 + t)))

    for auc, m, n in ((0.8, 50, 50), (0.62, 30, 170), (0.97, 120, 80)):
        f = lambda t, auc=auc, m=m, n=n: (auc - t) ** 2 - 1.959963984540054**2 * variance(t, m, n)  # noqa: E731
        low, high = auc_interval(auc, m, n)
        assert low == pytest.approx(optimize.brentq(f, 1e-9, auc), abs=1e-9)
        assert high == pytest.approx(optimize.brentq(f, auc, 1 - 1e-12), abs=1e-9)
    # A perfect AUC keeps an interval (a Wald or DeLong interval collapses to [1, 1]).
    low, high = auc_interval(1.0, 50, 50)
    assert high == 1.0
    assert 0.95 < low < 0.97
    assert auc_interval(1.0, 200, 200)[0] > 0.99 > auc_interval(1.0, 150, 150)[0]
    assert np.isnan(auc_interval(0.7, 0, 10)[0])


def test_r2_interval_contains_scikit_learns_r2_and_narrows_with_rows():
    from mllife.evaluation._diagnostics import r2_interval

    rng = np.random.default_rng(3)
    widths = []
    for n in (100, 1_600):
        x = rng.normal(size=n)
        y = x + rng.normal(size=n)
        low, high = r2_interval(y, x)
        assert low < skm.r2_score(y, x) < high <= 1.0
        widths.append(high - low)
    assert widths[1] < widths[0] / 3           # about 1 / sqrt(16)
    assert r2_interval(np.arange(5.0), np.arange(5.0)) == (1.0, 1.0)    # exact predictions
    assert np.isnan(r2_interval(np.ones(5), np.arange(5.0))[0])          # constant y: undefined


def test_difference_interval_is_newcombes_hybrid_score_interval():
    from mllife.evaluation._diagnostics import ScoreInterval, difference_interval
    from mllife.evaluation._slices import wilson_interval

    # Newcombe (1998), method 10, on his example 56/70 against 48/80: (0.0524, 0.3339).
    (l1, l2), (u1, u2) = wilson_interval(np.array([56, 48]), np.array([70, 80]))
    a = ScoreInterval("accuracy", 56 / 70, float(l1), float(u1), 70, "Wilson")
    b = ScoreInterval("accuracy", 48 / 80, float(l2), float(u2), 80, "Wilson")
    low, high = difference_interval(a, b)
    assert round(low, 4) == 0.0524
    assert round(high, 4) == 0.3339


def test_red_flags_skip_the_train_test_gap_when_the_test_set_holds_one_class():
    """Accuracy on a one-class test set is not comparable with train accuracy (was 'overfitting')."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200)})
    y = pd.Series((rng.random(200) < 0.4).astype(int))
    model = LogisticRegression().fit(X[:150], y[:150])
    ones = pd.Series(np.ones(50, dtype=int), index=X.index[150:])
    report = evaluate(model, X[150:], ones, X_train=X[:150], y_train=y[:150])
    checks = {f.check for f in report.findings}
    assert "one_class" in checks
    assert "overfitting" not in checks
    assert report.overfitting is None
    assert report.red_flag_test["gap_skipped"] == "the test set holds one class"


def test_test_above_train_for_r2_needs_the_permutation_test():
    """Skewed errors: the delta-method interval alone calls a lucky test set 'above train'."""
    from mllife.evaluation._diagnostics import r2_permutation_p_value, red_flags
    from mllife.evaluation._inputs import Predictions

    rng = np.random.default_rng(15)   # the true model, test rows drawn like train rows
    x = rng.normal(size=1_100)
    y = x + rng.lognormal(0, 1.0, 1_100) - np.exp(0.5)
    test = Predictions("regression", y[1_000:], x[1_000:])
    train = Predictions("regression", y[:1_000], x[:1_000])

    def r2(p):
        return float(1 - ((p.y_true - p.y_pred) ** 2).sum() / ((p.y_true - p.y_true.mean()) ** 2).sum())

    flags = red_flags(test, {"r2": r2(test)}, train, {"r2": r2(train)}, None)
    assert flags.details["difference_ci_low"] > 0.02   # the interval alone would flag it
    p = flags.details["permutation_p_value"]
    assert p == r2_permutation_p_value(test.y_true, test.y_pred, train.y_true, train.y_pred)
    assert 0.025 < p < 0.1
    assert flags.details["test_above_train"] is False
    assert "test_above_train" not in {f.check for f in flags.findings}
    # Exact test predictions are above train by any test.
    exact = Predictions("regression", y[1_000:], y[1_000:] + 0.01 * rng.normal(size=100))
    flags = red_flags(exact, {"r2": r2(exact)}, train, {"r2": r2(train)}, None)
    assert flags.details["permutation_p_value"] == 0.001
    assert "test_above_train" in {f.check for f in flags.findings}
