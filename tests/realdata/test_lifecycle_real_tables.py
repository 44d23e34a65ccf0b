"""The lifecycle on real tables that ship inside packages, with facts checked by hand.

audit → split → preprocess → compare → evaluate → bundle → drift on Palmer penguins
(raw), vega's Seattle weather and cars, and scikit-learn's breast cancer, wine and
diabetes. Each test asserts facts that were counted with pandas, and that every
metric mllife reports equals scikit-learn's direct call on the same predictions.
"""

from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from palmerpenguins import load_penguins_raw
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    mean_absolute_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from vega_datasets import local_data

import mllife
from mllife.bundle import InputSchema, ModelBundle, load_bundle
from mllife.features import make_preprocessor

pytestmark = pytest.mark.filterwarnings("error")


def _vega(name):
    """A vega_datasets table; its reader uses a pandas keyword pandas 3 deprecates."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(local_data, name)()


def _lifecycle(frame, target, estimator, tmp_path, *, task, time_col=None):
    """Run every phase once; return what the tests check."""
    audit = mllife.audit(frame, target=target)
    parts = mllife.split(frame, target=target, time_col=time_col, random_state=0,
                         dedupe=False)
    X_train, y_train = parts.xy("train")
    X_test, y_test = parts.xy("test")
    model = make_pipeline(make_preprocessor(X_train), estimator)
    comparison = mllife.compare_models({"model": model}, X_train, y_train, cv=3)
    model.fit(X_train, y_train)
    report = mllife.evaluate(model, X_test, y_test, X_train=X_train, y_train=y_train)
    used = list(model[0].used_columns_)
    schema = InputSchema.infer(X_train, columns=used, unseen="flag")  # free text: noted
    bundle = ModelBundle(model, schema, version="real")
    loaded = load_bundle(bundle.save(tmp_path / "real.mllife"))
    np.testing.assert_array_equal(loaded.predict(X_test[used])["prediction"],
                                  model.predict(X_test))
    drift = mllife.drift_report(X_train, X_test)
    return SimpleNamespace(audit=audit, parts=parts, model=model, comparison=comparison,
                           report=report, drift=drift, X_test=X_test, y_test=y_test)


def _metric(report, name):
    return float(report.metrics[name]) if hasattr(report, "metrics") else float(
        report.to_dict()["metrics"][name])


def _check_classification(report, model, X_test, y_test):
    pred = model.predict(X_test)
    assert _metric(report, "accuracy") == pytest.approx(accuracy_score(y_test, pred))
    for name, fn in (("precision", precision_score), ("recall", recall_score),
                     ("f1", f1_score)):
        average = "binary" if len(np.unique(y_test)) == 2 and len(model.classes_) == 2 \
            else "macro"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = fn(y_test, pred, average=average, zero_division=0.0,
                          **({"pos_label": model.classes_[1]} if average == "binary" else {}))
        assert _metric(report, name) == pytest.approx(expected), name


def test_penguins_raw(tmp_path):
    raw = load_penguins_raw()
    assert raw.shape == (344, 17)
    frame = raw.drop(columns=["studyName", "Sample Number", "Individual ID", "Date Egg"])
    run = _lifecycle(
        frame, "Species", LogisticRegression(max_iter=2000), tmp_path, task="multiclass")
    by = {(f.check, f.column): f for f in run.audit.findings}
    # counted by hand: 290 of 344 comments are missing; one region, one stage
    assert by[("mostly_missing", "Comments")].n_rows == 290
    assert ("constant", "Region") in by
    assert ("constant", "Stage") in by
    assert not [f for f in run.audit.findings if f.check == "exact_duplicates"]
    assert len(run.parts.train) + len(run.parts.validation) + len(run.parts.test) == 344
    _check_classification(run.report, run.model, run.X_test, run.y_test)
    assert set(run.model[0].used_columns_).isdisjoint({"Region", "Stage"})  # constants dropped


def test_seattle_weather_relabelling_is_found_and_metrics_match(tmp_path):
    weather = _vega("seattle_weather")
    weather["year"] = pd.to_datetime(weather["date"]).dt.year
    # counted by hand: "fog" is 5 days of 2012 and 173 of 2015 (the station relabelled)
    counts = pd.crosstab(weather["year"], weather["weather"])
    assert counts.loc[2012, "fog"] == 5
    assert counts.loc[2015, "fog"] == 173
    features = weather.drop(columns=["date", "year"])
    drift = mllife.drift_report(features[weather["year"] == 2012],
                                features[weather["year"] == 2015])
    drifted = set(drift.to_frame().query("drifted")["column"])
    assert "weather" in drifted
    assert "weather" in {f.column for f in drift.findings}
    # a model trained on 2013-15, tested on 2012: labels absent from one side still count
    train, test = features[weather["year"] > 2012], features[weather["year"] == 2012]
    X_train, y_train = train.drop(columns="weather"), train["weather"]
    X_test, y_test = test.drop(columns="weather"), test["weather"]
    model = make_pipeline(make_preprocessor(X_train),
                          RandomForestClassifier(50, random_state=0)).fit(X_train, y_train)
    report = mllife.evaluate(model, X_test, y_test, baseline=None)
    _check_classification(report, model, X_test, y_test)
    assert list(report.labels) == sorted(set(y_test) | set(model.predict(X_test)))


def test_cars_with_missing_values(tmp_path):
    cars = _vega("cars")
    # counted by hand: 8 missing Miles_per_Gallon, 6 missing Horsepower, no duplicates
    assert cars["Miles_per_Gallon"].isna().sum() == 8
    assert cars["Horsepower"].isna().sum() == 6
    frame = cars.dropna(subset=["Miles_per_Gallon"]).drop(columns=["Name"])
    run = _lifecycle(
        frame, "Miles_per_Gallon", HistGradientBoostingRegressor(max_iter=50, random_state=0),
        tmp_path, task="regression")
    pred = run.model.predict(run.X_test)
    assert _metric(run.report, "mae") == pytest.approx(mean_absolute_error(run.y_test, pred))
    assert _metric(run.report, "r2") == pytest.approx(r2_score(run.y_test, pred))


def test_breast_cancer_has_no_false_leak(tmp_path):
    data = load_breast_cancer(as_frame=True)
    frame = data.frame
    run = _lifecycle(
        frame, "target", LogisticRegression(max_iter=5000), tmp_path, task="binary")
    assert not [f for f in run.audit.findings if f.check in ("target_leakage", "target_proxy")]
    assert not [f for f in run.parts.report.findings if f.check == "target_proxy"]
    proba = run.model.predict_proba(run.X_test)[:, 1]
    assert _metric(run.report, "roc_auc") == pytest.approx(roc_auc_score(run.y_test, proba))
    _check_classification(run.report, run.model, run.X_test, run.y_test)
    assert run.drift.to_frame()["drifted"].sum() <= 2  # a random split: at most chance


def test_wine_multiclass(tmp_path):
    frame = load_wine(as_frame=True).frame
    frame["target"] = frame["target"].map({0: "barolo", 1: "grignolino", 2: "barbera"})
    run = _lifecycle(
        frame, "target", LogisticRegression(max_iter=5000), tmp_path, task="multiclass")
    _check_classification(run.report, run.model, run.X_test, run.y_test)
    X_train, y_train = run.parts.xy("train")
    folds = cross_validate(clone(run.model), X_train, y_train, cv=3, scoring="f1_macro")
    row = run.comparison.to_frame().set_index("model").loc["model"]
    assert row["f1_macro_mean"] == pytest.approx(folds["test_score"].mean())


def test_diabetes_regression(tmp_path):
    frame = load_diabetes(as_frame=True).frame
    run = _lifecycle(
        frame, "target", Ridge(), tmp_path, task="regression")
    pred = run.model.predict(run.X_test)
    assert _metric(run.report, "mae") == pytest.approx(mean_absolute_error(run.y_test, pred))
    assert not [f for f in run.audit.findings if f.severity == "error"]
