"""Pickle and skops round-trips; skops lists exactly our types as untrusted."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mllife import make_churn
from mllife.features import (
    DateTimeFeatures,
    RareCategoryGrouper,
    RatioFeatures,
    make_preprocessor,
)


@pytest.fixture(scope="module")
def data():
    d = make_churn(400, random_state=0, defects=False)
    return d.X, d.y


def _cases(X):
    return [
        (DateTimeFeatures(("month", "elapsed"), cyclical=True), X[["signup_date", "last_event_at"]],
         ["mllife.features._datetime_features.DateTimeFeatures"]),
        (RatioFeatures([("monthly_charges", "tenure_months")]), X[["monthly_charges", "tenure_months"]],
         ["mllife.features._ratio.RatioFeatures"]),
        (RareCategoryGrouper(0.2), X[["plan", "region"]], ["mllife.features._rare.RareCategoryGrouper"]),
    ]


def test_transformers_round_trip(data):
    X, _ = data
    for est, part, ours in _cases(X):
        est.fit(part)
        expected = est.transform(part)
        blob = sio.dumps(est)
        assert sorted(sio.get_untrusted_types(data=blob)) == sorted(ours)
        for loaded in (sio.loads(blob, trusted=ours), pickle.loads(pickle.dumps(est))):
            pd.testing.assert_frame_equal(loaded.transform(part), expected)


def test_preprocessor_round_trip_lists_only_our_types(data):
    X, y = data
    model = make_pipeline(make_preprocessor(X), LogisticRegression(max_iter=300)).fit(X, y)
    # The same steps written with scikit-learn alone: its own untrusted types are not ours.
    plain = Pipeline([("ct", ColumnTransformer([
        ("n", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()),
         ["age"]),
        ("c", OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=0.01), ["plan"]),
    ])), ("m", LogisticRegression())]).fit(X, y)
    sklearn_own = set(sio.get_untrusted_types(data=sio.dumps(plain)))
    blob = sio.dumps(model)
    untrusted = set(sio.get_untrusted_types(data=blob))
    assert untrusted - sklearn_own == {
        "mllife.features._datetime_features.DateTimeFeatures",
        "mllife.features._preprocessor.Preprocessor",
        "mllife.features._casts.AsText",
    }  # a class, never a function: a bundle's trust list holds no functions
    loaded = sio.loads(blob, trusted=sorted(untrusted))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(X), model.predict_proba(X))
    pd.testing.assert_frame_equal(again[0].plan_, model[0].plan_)
