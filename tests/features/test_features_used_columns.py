"""make_preprocessor's dropped columns (``drop=``, ids, constants) are not required at transform."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from mllife import InputError, NotFittedError, make_churn
from mllife.features import make_preprocessor


@pytest.fixture(scope="module")
def churn():
    data = make_churn(800, random_state=2, defects=False)
    X = data.X.assign(batch="2024-q3", export_row=np.arange(800))  # a constant and a drop= column
    return X, data.y


def test_used_columns_are_the_columns_the_entries_read(churn):
    X, _ = churn
    pre = make_preprocessor(X, drop=["export_row"]).fit(X)
    dropped = {"customer_id", "batch", "export_row"}
    assert pre.used_columns_ == [c for c in X.columns if c not in dropped]
    plan = pre.plan_.set_index("column")
    assert all(plan.loc[c, "action"].startswith("dropped") for c in dropped)
    assert list(pre.feature_names_in_) == list(X.columns)  # ColumnTransformer's own record


def test_transform_accepts_frames_with_or_without_dropped_columns(churn):
    X, y = churn
    model = make_pipeline(make_preprocessor(X, drop=["export_row"]),
                          LogisticRegression(max_iter=500)).fit(X, y)
    used = model[0].used_columns_
    full = model.predict_proba(X)
    np.testing.assert_array_equal(model.predict_proba(X[used]), full)
    np.testing.assert_array_equal(model.predict_proba(X[used[::-1]]), full)  # any order
    np.testing.assert_array_equal(model.predict_proba(X.drop(columns=["batch"])), full)
    pd.testing.assert_frame_equal(model[0].transform(X[used]), model[0].transform(X))


def test_missing_used_column_and_unknown_column_still_raise(churn):
    X, _ = churn
    pre = make_preprocessor(X).fit(X)
    with pytest.raises(InputError, match=r"missing column \['plan'\]"):
        pre.transform(X[pre.used_columns_].drop(columns="plan"))
    with pytest.raises(InputError, match=r"new column \['promo'\]"):
        pre.transform(X.assign(promo=1))


def test_used_columns_needs_fit_and_pipelines_still_cross_validate(churn):
    X, y = churn
    pre = make_preprocessor(X)
    with pytest.raises(NotFittedError):
        _ = pre.used_columns_
    scores = cross_val_score(make_pipeline(pre, LogisticRegression(max_iter=500)), X, y, cv=3)
    assert scores.shape == (3,)
