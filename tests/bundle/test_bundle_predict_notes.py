"""The notes of validation reach the predictions, so a service logs them without validating twice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from mllife import DataWarning
from mllife.bundle import InputSchema, ModelBundle

TRAIN = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
                      "plan": ["a", "b", "a", "b", "a", "b"]})
Y = [0, 0, 0, 1, 1, 1]
MODEL = Pipeline([
    ("pre", ColumnTransformer([("num", "passthrough", ["x"]),
                               ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"])])),
    ("model", LogisticRegression()),
]).fit(TRAIN, Y)


def bundle(**policies):
    return ModelBundle(MODEL, InputSchema.infer(TRAIN, **policies), version="n")


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_unseen_flag_notes_reach_the_result(method):
    b = bundle(unseen="flag")
    rows = [{"x": 1.0, "plan": "a"}, {"x": 2.0, "plan": "gold"}, {"x": 3.0, "plan": "gold"}]
    result = getattr(b, method)(rows)
    notes = result.attrs["schema_notes"]
    assert notes == b.schema.validate(rows).attrs["schema_notes"]
    assert [(n["column"], n["problem"], n["count"], n["rows"]) for n in notes] == [
        ("plan", "unseen category", 2, [1, 2])]
    assert "gold" not in str(notes)  # notes hold positions, never request values


def test_rare_clip_and_extra_notes_reach_the_result():
    b = bundle(unseen="rare", out_of_range="clip")
    result = b.predict({"x": 100.0, "plan": "gold", "debug": 1})
    assert sorted(n["problem"] for n in result.attrs["schema_notes"]) == [
        "extra column ignored", "out of range, clipped", "unseen category mapped to '__rare__'"]


def test_warn_notes_reach_the_result():
    with pytest.warns(DataWarning):
        result = bundle(out_of_range="warn").predict(pd.DataFrame({"x": [100.0], "plan": ["a"]},
                                                                  index=[7]))
    assert result.index.tolist() == [7]
    assert [n["problem"] for n in result.attrs["schema_notes"]] == ["out of range"]


@pytest.mark.parametrize("request_", [{"x": 1.0, "plan": "a"}, [{"x": 1.0, "plan": "a"}],
                                      TRAIN])
def test_no_notes_is_an_empty_list(request_):
    result = bundle().predict_proba(request_)
    assert result.attrs["schema_notes"] == []
    assert np.allclose(result[["proba_0", "proba_1"]].sum(axis=1), 1.0)


def test_results_do_not_share_their_notes():
    b = bundle(unseen="flag")
    first = b.predict({"x": 1.0, "plan": "gold"})
    first.attrs["schema_notes"].append({"column": "forged"})
    assert b.predict({"x": 1.0, "plan": "gold"}).attrs["schema_notes"][-1]["column"] == "plan"
