"""A bundle's contract holds only the columns the model reads: ``InputSchema.infer(X, columns=...)``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from mllife import InputError, InputSchema, ModelBundle, SchemaError, load_bundle, make_churn
from mllife.features import make_preprocessor


@pytest.fixture(scope="module")
def fitted():
    data = make_churn(600, random_state=4, defects=False)
    X = data.X.assign(export_file="day1.csv")
    model = make_pipeline(make_preprocessor(X, drop=["export_file"]),
                          LogisticRegression(max_iter=500)).fit(X, data.y)
    return X, model


def test_contract_on_the_used_columns_only(fitted):
    X, model = fitted
    used = model[0].used_columns_
    schema = InputSchema.infer(X, columns=used)
    assert list(schema.columns) == used
    assert "customer_id" not in schema.columns
    assert "export_file" not in schema.columns
    assert list(InputSchema.infer(X).columns) == list(X.columns)  # the default is unchanged


def test_bundle_predicts_without_the_ignored_columns_and_after_loading(fitted, tmp_path):
    X, model = fitted
    used = model[0].used_columns_
    bundle = ModelBundle(model, InputSchema.infer(X, columns=used), version="1")
    expected = model.predict_proba(X.head(20))[:, 1]
    lean = bundle.predict_proba(X[used].head(20))
    np.testing.assert_allclose(lean["proba_1"], expected)
    full = bundle.predict_proba(X.head(20))  # extra columns are ignored, with a note
    pd.testing.assert_frame_equal(full, lean, check_like=True)
    assert {n["column"] for n in full.attrs["schema_notes"]} == {"customer_id", "export_file"}
    loaded = load_bundle(bundle.save(tmp_path / "lean.mllife"))
    np.testing.assert_allclose(loaded.predict_proba(X[used].head(20))["proba_1"], expected)
    with pytest.raises(SchemaError, match="plan"):
        loaded.predict(X[used].drop(columns="plan").head(3))


@pytest.mark.parametrize("columns", [["age", "nope"], [], ["age", "age"]])
def test_bad_columns_are_refused(fitted, columns):
    X, _ = fitted
    with pytest.raises(InputError, match="columns"):
        InputSchema.infer(X, columns=columns)
