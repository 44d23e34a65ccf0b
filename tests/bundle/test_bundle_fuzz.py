"""Fuzzing: generated garbage never escapes as anything but the documented errors."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mllife import SchemaError
from mllife.bundle import InputSchema, ModelBundle

TRAIN = pd.DataFrame({
    "age": [18, 25, 33, 41, 52, 67, 70, 29],
    "income": [1200.5, np.nan, 3100.0, 2800.0, 5400.25, 999.0, 4100.0, 2300.0],
    "plan": ["basic", "pro", "basic", "team", "pro", "basic", "team", "pro"],
    "active": [True, False, True, True, False, True, False, True],
    "since": pd.date_range("2021-01-01", periods=8, freq="45D"),
    "note": ["a", "bb", "c c", "d", "e", "ff", "g", "h"],
})
Y = [0, 1, 0, 1, 1, 0, 1, 0]
SCHEMA = InputSchema.infer(TRAIN, max_categories=4, max_string_length=64)
SPECS = {s.name: s for s in SCHEMA.specs}
MODEL = Pipeline([
    ("pre", ColumnTransformer([("num", StandardScaler(), ["age"]),
                               ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"])])),
    ("model", LogisticRegression()),
]).fit(TRAIN, Y)
BUNDLE = ModelBundle(MODEL, SCHEMA, version="fuzz")

good_values = {
    "age": st.integers(18, 70),
    "income": st.one_of(st.none(), st.floats(1000, 5000)),
    "plan": st.sampled_from(["basic", "pro", "team"]),
    "active": st.booleans(),
    "since": st.datetimes(dt.datetime(2021, 1, 1), dt.datetime(2022, 1, 1)).map(
        lambda d: d.isoformat()),
    "note": st.text(max_size=10),
}
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.text(alphabet="0123456789.-+eE ", max_size=8),
    st.sampled_from(["basic", "pro", "team", "Basic", " pro", "", "nan", "NaN", "inf", "3",
                     "3.0", "true", "2021-05-05", "2021-05-05T10:00:00+02:00", "x" * 100,
                     "2021-13-45", "1e400"]),
    st.datetimes(), st.dates(), st.binary(max_size=8), st.decimals(allow_nan=True),
)
cells = st.one_of(scalars, st.lists(scalars, max_size=3),
                  st.dictionaries(st.text(max_size=3), scalars, max_size=2))
names = st.one_of(st.sampled_from(list(SCHEMA.columns)), st.sampled_from(
    ["Age", "plans", "incme", "", "extra", "since "]), st.text(max_size=6), st.integers(-2, 2))


@st.composite
def rows(draw):
    """A row that is mostly right with some garbage, or pure garbage."""
    row = {name: draw(strategy) for name, strategy in good_values.items()}
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "replace":
            row[draw(st.sampled_from(list(row) or ["age"]))] = draw(cells)
        elif action == "drop" and row:
            row.pop(draw(st.sampled_from(list(row))))
        else:
            row[draw(names)] = draw(cells)
    return row


requests = st.one_of(
    rows(),
    st.lists(rows(), max_size=4),
    st.lists(rows(), min_size=1, max_size=4).map(pd.DataFrame),
    st.one_of(st.none(), st.integers(), st.text(max_size=5), st.lists(scalars, max_size=3),
              st.dictionaries(names, cells, max_size=4)),
)


def _check_valid_output(out):
    """Whatever validate accepts satisfies the contract (numpy checks: cheap per example)."""
    assert list(out.columns) == list(SCHEMA.columns)
    age = out["age"].to_numpy()
    assert age.dtype == np.int64
    assert ((age >= 0) & (age <= 96)).all()
    assert out["active"].dtype == bool
    assert set(out["plan"].tolist()) <= {"basic", "pro", "team"}
    assert not np.isinf(out["income"].to_numpy(dtype=float)).any()
    assert out["since"].dtype == TRAIN["since"].dtype
    assert not out["since"].isna().any()
    assert all(isinstance(v, str) and len(v) <= 64 for v in out["note"].tolist())


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows())
def test_validate_single_rows_only_raises_schema_error(row):
    try:
        out = SCHEMA.validate(row)
    except SchemaError as err:
        problems = err.problems
    else:
        _check_valid_output(out)
        return
    assert problems
    assert all({"column", "problem", "count"} <= set(p) for p in problems)
    assert all(len(p.get("rows", [])) <= 5 for p in problems)


@settings(deadline=None, suppress_health_check=list(HealthCheck))
@given(requests)
def test_validate_any_request_only_raises_schema_error(request):
    try:
        out = SCHEMA.validate(request)
    except SchemaError:
        return
    _check_valid_output(out)


@settings(deadline=None, suppress_health_check=list(HealthCheck))
@given(requests)
def test_predict_never_runs_on_garbage(request):
    try:
        out = BUNDLE.predict_proba(request)
    except SchemaError:
        return
    n = 1 if isinstance(request, dict) else len(request)
    assert len(out) == n
    assert np.allclose(out[["proba_0", "proba_1"]].sum(axis=1), 1.0)
    assert (out["model_version"] == "fuzz").all()


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 10**30, "5", [5], {"a": 5},
                                   True, b"5", dt.datetime(2020, 1, 1)])
def test_fast_and_general_paths_agree_on_age(value):
    row = dict({"age": value, "income": 1500.0, "plan": "pro", "active": True,
            "since": "2021-06-01T00:00:00", "note": "x"}.items())
    outcomes = []
    for request in (row, [row]):
        try:
            outcomes.append(SCHEMA.validate(request).reset_index(drop=True))
        except SchemaError as err:
            outcomes.append(sorted((p["column"], p["problem"]) for p in err.problems))
    if isinstance(outcomes[0], pd.DataFrame):
        pd.testing.assert_frame_equal(outcomes[0], outcomes[1])
    else:
        assert outcomes[0] == outcomes[1]
