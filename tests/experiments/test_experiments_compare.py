"""compare_models: scores agree with cross_validate, the sampler stays in training folds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification, make_regression
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from mllife import InputError
from mllife.experiments import ComparisonReport, compare_models

TRAINED_ON: list[np.ndarray] = []


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Remembers the row ids it was trained on (column ``row_id``)."""

    def fit(self, X, y):
        TRAINED_ON.append(np.asarray(X["row_id"]))
        self.classes_ = np.unique(y)
        self.majority_ = self.classes_[np.argmax(np.unique(y, return_counts=True)[1])]
        return self

    def predict(self, X):
        return np.full(len(X), self.majority_)

    def predict_proba(self, X):
        proba = np.zeros((len(X), len(self.classes_)))
        proba[:, np.searchsorted(self.classes_, self.majority_)] = 1.0
        return proba


class FailsOnSmallFolds(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        raise RuntimeError("boom: this model cannot fit")

    def predict(self, X):
        return np.zeros(len(X))


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(400, n_features=6, weights=[0.8], random_state=0)
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(6)]), pd.Series(y, name="target")


def test_scores_agree_with_cross_validate(binary):
    X, y = binary
    models = {"logistic": make_pipeline(StandardScaler(), LogisticRegression()),
              "tree": DecisionTreeClassifier(max_depth=3, random_state=0)}
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    report = compare_models(models, X, y, cv=cv)
    names = ["roc_auc", "average_precision", "f1", "accuracy"]
    assert report.scoring == tuple(names)
    for name, model in models.items():
        ref = cross_validate(model, X, y, cv=cv, scoring=names)
        folds = report.fold_scores[report.fold_scores["model"] == name]
        for score in names:
            np.testing.assert_allclose(folds[score].to_numpy(), ref[f"test_{score}"])
            row = report.results.set_index("model").loc[name]
            assert row[f"{score}_mean"] == pytest.approx(ref[f"test_{score}"].mean())
            assert row[f"{score}_std"] == pytest.approx(ref[f"test_{score}"].std())
    # The baseline is DummyClassifier(prior): ROC-AUC 0.5 on every fold.
    base = report.results.set_index("model").loc["baseline"]
    assert base["roc_auc_mean"] == pytest.approx(0.5)
    ref = cross_validate(DummyClassifier(strategy="prior"), X, y, cv=cv, scoring="accuracy")
    assert base["accuracy_mean"] == pytest.approx(ref["test_score"].mean())


def test_regression_errors_are_positive_and_lift_signed(binary):
    X, y = make_regression(300, 4, noise=10.0, random_state=1)
    report = compare_models({"ols": LinearRegression(), "ridge": Ridge(alpha=1e4)}, X, y, cv=3)
    assert report.task == "regression"
    assert report.scoring == ("mae", "rmse", "r2")
    assert report.greater_is_better == {"mae": False, "rmse": False, "r2": True}
    ref = cross_validate(LinearRegression(), X, y, cv=KFold(3),
                         scoring=["neg_mean_absolute_error", "neg_root_mean_squared_error"])
    table = report.results.set_index("model")
    assert table.loc["ols", "mae_mean"] == pytest.approx(-ref["test_neg_mean_absolute_error"].mean())
    assert table.loc["ols", "rmse_mean"] > 0
    # Lower error is better: a model better than the baseline has a positive lift.
    assert table.loc["ols", "lift_mae"] == pytest.approx(
        table.loc["baseline", "mae_mean"] - table.loc["ols", "mae_mean"])
    assert table.loc["ols", "lift_mae"] > 0
    assert table.loc["ols", "lift_r2"] > 0
    # The baseline's own lift on an error score is 0.0, not -0.0 (shown as "-0" in tables).
    assert not np.signbit(table.loc["baseline", "lift_mae"])
    assert report.results["model"].iloc[0] == "ols"  # sorted: lowest MAE first
    assert report.best == "ols"


@pytest.mark.parametrize("sampler_name", ["under", "over"])
def test_sampler_never_touches_validation_rows(binary, sampler_name):
    from imblearn.over_sampling import RandomOverSampler
    from imblearn.under_sampling import RandomUnderSampler

    X, y = binary
    X = X.assign(row_id=np.arange(len(X)))
    sampler = (RandomUnderSampler(random_state=0) if sampler_name == "under"
               else RandomOverSampler(random_state=0))
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    TRAINED_ON.clear()
    report = compare_models({"rec": RecordingClassifier()}, X, y, cv=cv, sampler=sampler,
                            baseline=False)
    assert report.errors == {}
    folds = list(cv.split(X, y))
    assert len(TRAINED_ON) == len(folds)
    for (train, test), seen in zip(folds, TRAINED_ON, strict=True):
        assert np.isin(seen, train).all()
        assert not np.isin(seen, test).any()
        n_minority = int(y.iloc[train].sum())
        n_majority = len(train) - n_minority
        expected = 2 * n_minority if sampler_name == "under" else 2 * n_majority
        assert len(seen) == expected
    # The sampler is inserted before the last step of a pipeline (after preprocessing).
    TRAINED_ON.clear()
    compare_models({"rec": make_pipeline(RecordingClassifier())}, X, y, cv=cv, sampler=sampler,
                   baseline=False)
    assert len(TRAINED_ON) == len(folds)


def test_failing_model_is_reported_and_others_compared(binary):
    X, y = binary
    report = compare_models({"bad": FailsOnSmallFolds(), "good": LogisticRegression()}, X, y, cv=3)
    assert report.errors == {"bad": "RuntimeError: boom: this model cannot fit"}
    table = report.results.set_index("model")
    assert np.isnan(table.loc["bad", "roc_auc_mean"])
    assert table.loc["good", "roc_auc_mean"] > 0.8
    assert report.results["model"].iloc[-1] == "bad"
    failed = report.findings_by(check="model_failed")
    assert [(f.column, f.severity) for f in failed] == [("bad", "error")]
    assert report.best == "good"


def test_model_without_lift_is_a_warning(binary):
    X, y = binary
    report = compare_models({"dummy": DummyClassifier(strategy="most_frequent")}, X, y, cv=3)
    warned = report.findings_by(check="no_lift_over_baseline")
    assert [f.column for f in warned] == ["dummy"]


def test_clean_comparison_has_no_warning(binary):
    X, y = binary
    report = compare_models({"logistic": LogisticRegression()}, X, y, cv=3)
    assert report.findings_by(severity="warning") == []
    assert report.findings_by(severity="error") == []


def test_time_size_and_latency_columns(binary):
    X, y = binary
    report = compare_models({"logistic": LogisticRegression()}, X, y, cv=3)
    row = report.results.set_index("model").loc["logistic"]
    assert row["fit_seconds"] > 0
    assert row["latency_1row_ms"] > 0
    assert row["latency_per_row_batch_ms"] > 0
    import pickle

    fitted = LogisticRegression().fit(X, y)
    assert abs(row["size_bytes"] - len(pickle.dumps(fitted, protocol=pickle.HIGHEST_PROTOCOL))) < 200


def test_multiclass_defaults_and_string_labels():
    X, y = make_classification(300, n_classes=3, n_informative=4, random_state=0)
    labels = pd.Series(np.array(["low", "mid", "high"])[y], name="tier")
    report = compare_models({"logistic": LogisticRegression(max_iter=500)}, X, labels, cv=3)
    assert report.task == "multiclass"
    assert report.primary == "accuracy"
    assert report.results.set_index("model").loc["logistic", "lift_accuracy"] > 0.2


def test_explicit_scoring_aliases_and_user_baseline(binary):
    X, y = binary
    report = compare_models(
        {"logistic": LogisticRegression()}, X, y, cv=3, scoring=["accuracy", "log_loss"],
        baseline=DummyClassifier(strategy="most_frequent"))
    assert report.scoring == ("accuracy", "log_loss")
    assert report.greater_is_better["log_loss"] is False
    assert (report.results["log_loss_mean"].dropna() > 0).all()
    no_base = compare_models({"logistic": LogisticRegression()}, X, y, cv=3, baseline=False)
    assert list(no_base.results["model"]) == ["logistic"]
    assert not any(c.startswith("lift_") for c in no_base.results.columns)


@pytest.mark.parametrize(
    ("y", "kwargs", "match"),
    [
        (np.zeros(100, dtype=int), {}, "single value"),
        (np.array(["no", "yes"] * 50), {}, "positive class"),
        (np.array([0, 1] * 50), {"scoring": "r2"}, "regression score"),
        # roc_auc of a multiclass task is the vocabulary's macro one-vs-rest (issue 15):
        # scikit-learn's binary-only scorers and the vocabulary's binary-only metrics still raise.
        (np.array([0, 1, 2, 3] * 25), {"scoring": "jaccard"}, "binary classification score"),
        (np.array([0, 1, 2, 3] * 25), {"scoring": "specificity"},
         "binary classification score"),
        (np.array([0, 1] * 50), {"scoring": "not_a_score"}, "unknown scoring"),
        (np.array([0.0, np.nan] * 50), {}, "missing values"),
        (np.array([0, 1] * 50), {"cv": 1}, "number of folds"),
        (np.array([0, 1] * 49), {}, "100 rows but y has 98"),
    ],
)
def test_bad_input_raises_input_error(y, kwargs, match):
    X = np.random.default_rng(0).normal(size=(100, 3))
    with pytest.raises(InputError, match=match):
        compare_models({"logistic": LogisticRegression()}, X, y, **kwargs)


def test_regression_target_must_be_numeric():
    from imblearn.under_sampling import RandomUnderSampler

    X = np.random.default_rng(0).normal(size=(60, 2))
    with pytest.raises(InputError, match="regression task"):
        compare_models({"ridge": Ridge()}, X, np.arange(60.0), sampler=RandomUnderSampler())
    with pytest.raises(InputError, match="numbers for a regression task"):
        compare_models({"ridge": Ridge()}, X, np.array(["a", "b", "c"] * 20))
    with pytest.raises(InputError, match="mix classifiers and regressors"):
        compare_models({"ridge": Ridge(), "lr": LogisticRegression()}, X, [0, 1] * 30)


def test_inputs_not_mutated_and_no_output(binary, capsys):
    X, y = binary
    X0, y0 = X.copy(), y.copy()
    compare_models({"logistic": LogisticRegression()}, X, y, cv=3)
    pd.testing.assert_frame_equal(X, X0)
    pd.testing.assert_series_equal(y, y0)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""  # no progress bar in tests


def test_parallel_gives_the_same_scores(binary):
    X, y = binary
    models = {"logistic": LogisticRegression()}
    one = compare_models(models, X, y, cv=3)
    from joblib import parallel_config

    with parallel_config(backend="threading"):  # same code path, no worker processes to start
        two = compare_models(models, X, y, cv=3, n_jobs=2)
    cols = ["model", "fold", "roc_auc", "accuracy"]
    pd.testing.assert_frame_equal(one.fold_scores[cols], two.fold_scores[cols])


def test_report_renders_and_round_trips(binary, tmp_path):
    X, y = binary
    report = compare_models({"logistic": LogisticRegression(), "bad": FailsOnSmallFolds()},
                            X, y, cv=3)
    assert isinstance(report, ComparisonReport)
    data = json.loads(report.to_json())
    assert data["report"] == "ComparisonReport"
    assert data["primary"] == "roc_auc"
    assert data["tables"]["models"][0]["model"] == "logistic"
    html = report.to_html()
    assert html.count("<img") == 2
    assert len(html) < 1_000_000
    assert "logistic" in report.to_markdown()
    assert report.save(tmp_path / "c.json").exists()
    assert repr(report).startswith("<ComparisonReport binary: 3 models")
    assert report.to_frame().equals(report.results)


def test_progress_bar_only_when_interactive(binary, monkeypatch, capsys):
    from mllife.experiments import _compare

    assert _compare._interactive() is False  # pytest is never interactive
    monkeypatch.setattr(_compare, "_interactive", lambda: True)
    compare_models({"logistic": LogisticRegression()}, *binary, cv=2)
    assert "compare_models" in capsys.readouterr().err


def test_forecasters_in_a_time_series_comparison():
    from sklearn.model_selection import TimeSeriesSplit

    from mllife.baselines import NaiveForecaster, SeasonalNaiveForecaster

    n = 140
    X = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="D")})
    y = pd.Series(100 + 10 * np.sin(np.arange(n) * 2 * np.pi / 7) + 0.1 * np.arange(n))
    cv = TimeSeriesSplit(n_splits=4, gap=7)
    report = compare_models({"seasonal": SeasonalNaiveForecaster(7)}, X, y, cv=cv,
                            baseline=NaiveForecaster())
    assert report.best == "seasonal"
    ref = cross_validate(SeasonalNaiveForecaster(7), X, y, cv=cv,
                         scoring="neg_mean_absolute_error")
    assert report.results.set_index("model").loc["seasonal", "mae_mean"] == pytest.approx(
        -ref["test_score"].mean())


def test_every_model_failing_is_reported_not_raised(binary):
    X, y = binary
    report = compare_models({"bad": FailsOnSmallFolds()}, X, y, cv=3, baseline=False)
    assert report.best is None
    assert [f.severity for f in report.findings_by(check="model_failed")] == ["error"]
    assert "boom" in report.to_html()


def test_positive_label_compares_a_string_binary_target():
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    X = data.data[["mean radius", "mean texture", "mean smoothness"]]
    y = pd.Series(np.asarray(data.target_names)[data.target], name="dx")
    report = compare_models({"lr": make_pipeline(StandardScaler(), LogisticRegression())}, X, y,
                            cv=3, positive_label="malignant")
    ref = cross_validate(make_pipeline(StandardScaler(), LogisticRegression()), X,
                         y == "malignant", cv=3, scoring=["roc_auc", "f1"])
    table = report.results.set_index("model")
    assert table.loc["lr", "roc_auc_mean"] == pytest.approx(ref["test_roc_auc"].mean())
    assert table.loc["lr", "f1_mean"] == pytest.approx(ref["test_f1"].mean())
    assert y.iloc[0] in {"malignant", "benign"}   # the input is not changed
    with pytest.raises(InputError, match="positive_label 'maybe' is not a label of y"):
        compare_models({"lr": LogisticRegression()}, X, y, cv=3, positive_label="maybe")
    with pytest.raises(InputError, match="positive_label='malignant'"):
        compare_models({"lr": LogisticRegression()}, X, y, cv=3)


def test_a_target_without_rows_is_an_input_error():
    with pytest.raises(InputError, match="no rows"):
        compare_models({"lr": LogisticRegression()}, pd.DataFrame(), pd.Series([], dtype=int), cv=2)
