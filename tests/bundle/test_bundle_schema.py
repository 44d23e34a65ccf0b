"""InputSchema: inference, lossless coercion, every kind of bad input, JSON Schema."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import mllife
from mllife import DataWarning, InputError, SchemaError
from mllife.bundle import InputSchema


@pytest.fixture(scope="module")
def train():
    return pd.DataFrame({
        "age": [18, 30, 45, 60, 80],
        "income": [1000.0, 2500.5, np.nan, 4000.0, 9000.0],
        "plan": ["basic", "pro", "basic", "pro", "team"],
        "active": [True, False, True, True, False],
        "since": pd.to_datetime(["2020-01-01", "2021-06-01", "2022-01-01", "2023-03-03",
                                 "2024-01-01"]),
    })


@pytest.fixture(scope="module")
def schema(train):
    return InputSchema.infer(train)


def good_row():
    return {"age": 40, "income": 3000.0, "plan": "pro", "active": True,
            "since": "2023-05-01T10:00:00"}


def problems_of(schema, X):
    with pytest.raises(SchemaError) as info:
        schema.validate(X)
    return info.value.problems


def only(problems, column):
    return [p for p in problems if p["column"] == column]


# ------------------------------------------------------------------ inference
def test_infer_families_ranges_and_categories(schema):
    specs = {s.name: s for s in schema.specs}
    assert [specs[c].family for c in schema.columns] == [
        "integer", "float", "string", "boolean", "datetime"]
    assert (specs["age"].min, specs["age"].max) == (18, 80)
    assert specs["income"].nullable
    assert not specs["age"].nullable
    assert specs["plan"].categories == ("basic", "pro", "team")
    assert specs["since"].min == "2020-01-01T00:00:00"


def test_round_trip_of_training_data_is_identity(train, schema):
    out = schema.validate(train)
    pd.testing.assert_frame_equal(out, train, check_dtype=True)


def test_churn_round_trip_frame_and_json_rows(churn_clean):
    X = churn_clean.frame.drop(columns="churned")
    schema = InputSchema.infer(X)
    pd.testing.assert_frame_equal(schema.validate(X), X)
    rows = json.loads(X.head(20).to_json(orient="records", date_format="iso"))
    pd.testing.assert_frame_equal(schema.validate(rows),
                                  X.head(20).reset_index(drop=True))
    for i in range(3):  # the single-dict fast path gives the same frame as the general path
        pd.testing.assert_frame_equal(schema.validate(rows[i]),
                                      X.iloc[[i]].reset_index(drop=True))
        pd.testing.assert_frame_equal(schema.validate(rows[i]),
                                      schema.validate(pd.DataFrame([rows[i]])))


def test_categorical_dtype_input(train, schema):
    frame = train.astype({"plan": "category"})
    pd.testing.assert_frame_equal(schema.validate(frame), train)
    extra_category = frame.assign(plan=pd.Categorical(train["plan"],
                                                      categories=["basic", "pro", "team", "x"]))
    pd.testing.assert_frame_equal(schema.validate(extra_category), train)  # unused: fine
    unseen = train.assign(plan=pd.Categorical(["basic", "x", "pro", "team", "x"]))
    p = only(problems_of(schema, unseen), "plan")[0]
    assert p["problem"] == "unseen category"
    assert p["rows"] == [1, 4]
    missing = train.assign(plan=pd.Categorical(["basic", None, "pro", "team", "pro"]))
    assert only(problems_of(schema, missing), "plan")[0]["rows"] == [1]


def test_columns_are_order_free_and_output_in_schema_order(schema):
    row = dict(reversed(list(good_row().items())))
    out = schema.validate(row)
    assert list(out.columns) == list(schema.columns)


def test_to_dict_from_dict_round_trip_is_json_safe(schema):
    data = json.loads(json.dumps(schema.to_dict()))
    again = InputSchema.from_dict(data)
    assert again == schema
    pd.testing.assert_frame_equal(again.validate(good_row()), schema.validate(good_row()))


def test_nullable_boolean_and_numeric_text_columns():
    X = pd.DataFrame({"flag": pd.Series([True, None, False], dtype=object),
                      "n": pd.Series([1, 2, None], dtype=object)})
    schema = InputSchema.infer(X)
    assert [(s.family, s.nullable) for s in schema.specs] == [("boolean", True), ("float", True)]
    out = schema.validate([{"flag": None, "n": 2}, {"flag": 1, "n": None}])
    assert out["flag"].tolist()[1] is True
    assert np.isnan(out["flag"].tolist()[0])


def test_infer_refuses_mixed_types_and_bad_policies():
    with pytest.raises(InputError, match="mixed"):
        InputSchema.infer(pd.DataFrame({"x": [1, "a", 2.5]}))
    with pytest.raises(InputError, match="unseen"):
        InputSchema.infer(pd.DataFrame({"x": [1]}), unseen="maybe")
    with pytest.raises(InputError):
        InputSchema.infer(np.arange(4))
    with pytest.raises(InputError, match="not a schema"):
        InputSchema.from_dict({"nothing": 1})


# ------------------------------------------------------------------ coercion
def test_lossless_coercions(schema):
    out = schema.validate({**good_row(), "age": 41.0, "active": 1})
    assert out["age"].dtype == np.int64
    assert out.loc[0, "age"] == 41
    assert out["active"].dtype == bool
    assert bool(out.loc[0, "active"]) is True
    out = schema.validate(pd.DataFrame([{**good_row(), "income": 5}]))
    assert out["income"].dtype == np.float64


def test_lossy_or_textual_values_are_problems(schema):
    p = problems_of(schema, {**good_row(), "age": 41.5})
    assert only(p, "age")[0]["problem"] == "non-integer value"
    p = problems_of(schema, {**good_row(), "age": "3"})
    assert only(p, "age")[0]["problem"] == "text instead of integers"
    p = problems_of(schema, {**good_row(), "active": 2})
    assert "0 or 1" in only(p, "active")[0]["problem"]
    p = problems_of(schema, {**good_row(), "active": "true"})
    assert only(p, "active")


def test_coerce_strings_policy_allows_numeric_text(train):
    schema = InputSchema.infer(train, coerce_strings=True)
    out = schema.validate({**good_row(), "age": " 41 ", "active": "False", "income": "12.5"})
    assert out.loc[0, "age"] == 41
    assert not out.loc[0, "active"]
    assert out.loc[0, "income"] == 12.5
    p = problems_of(schema, {**good_row(), "age": "forty"})
    assert only(p, "age")[0]["problem"] == "text that is not a number"


# ------------------------------------------------------------------ bad input
def test_missing_renamed_extra_duplicated_columns(schema):
    row = good_row()
    row["plans"] = row.pop("plan")
    row["unrelated"] = 1
    p = problems_of(schema, row)
    missing = only(p, "plan")[0]
    assert missing["problem"] == "missing column"
    assert missing["suggestion"] == "rename 'plans' to 'plan'?"
    frame = pd.DataFrame([[*list(good_row().values()), 40]],
                         columns=[*good_row().keys(), "age"])
    p = problems_of(schema, frame)
    assert only(p, "age")[0]["problem"] == "duplicated column"


def test_extra_columns_policy(train):
    lenient = InputSchema.infer(train)
    out = lenient.validate({**good_row(), "extra": "x"})
    assert "extra" not in out.columns
    assert out.attrs["schema_notes"] == [
        {"column": "extra", "count": 1, "problem": "extra column ignored"}]
    strict = InputSchema.infer(train, extra="error")
    assert only(problems_of(strict, {**good_row(), "extra": "x"}), "extra")[0]["problem"] == \
        "unexpected column"


def test_every_problem_is_reported_at_once_with_positions_and_no_values(schema):
    rows = [good_row() for _ in range(12)]
    for i in (1, 3, 5, 7, 9, 11):
        rows[i] = {**rows[i], "age": -999, "plan": "SECRET-VALUE"}
    rows[2] = {**rows[2], "income": float("inf")}
    rows[4] = {**rows[4], "since": "not a date"}
    with pytest.raises(SchemaError) as info:
        schema.validate(rows)
    err = info.value
    kinds = {(p["column"], p["problem"]) for p in err.problems}
    assert kinds == {("age", "out of range"), ("plan", "unseen category"),
                     ("income", "infinite value"),
                     ("since", "text that is not an ISO 8601 date-time")}
    age = only(err.problems, "age")[0]
    assert age["count"] == 6
    assert age["rows"] == [1, 3, 5, 7, 9]
    assert "SECRET" not in json.dumps(err.problems)
    assert "SECRET" not in str(err)
    assert "-999" not in str(err)


def test_nan_where_none_seen_and_allowed_where_seen(schema):
    p = problems_of(schema, {**good_row(), "age": None})
    assert only(p, "age")[0]["problem"] == "missing value where training had none"
    out = schema.validate({**good_row(), "income": None})
    assert np.isnan(out.loc[0, "income"])
    p = problems_of(schema, {**good_row(), "plan": None})
    assert only(p, "plan")[0]["problem"] == "missing value where training had none"


def test_nullable_true_accepts_missing_everywhere(train):
    schema = InputSchema.infer(train, nullable=True)
    out = schema.validate({**good_row(), "age": None})
    assert out["age"].dtype == np.float64
    assert np.isnan(out.loc[0, "age"])


def test_out_of_range_policies(train):
    row = {**good_row(), "age": 500}
    assert only(problems_of(InputSchema.infer(train), row), "age")[0]["problem"] == "out of range"
    clipped = InputSchema.infer(train, out_of_range="clip").validate(row)
    assert clipped.loc[0, "age"] == 80 + 0.5 * 62
    assert clipped.attrs["schema_notes"][0]["problem"] == "out of range, clipped"
    with pytest.warns(DataWarning):
        InputSchema.infer(train, out_of_range="warn").validate(row)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert InputSchema.infer(train, out_of_range="allow").validate(row).loc[0, "age"] == 500
    # a column never negative in training never accepts negatives
    assert only(problems_of(InputSchema.infer(train), {**good_row(), "age": -1}), "age")


def test_unseen_category_policies(train):
    row = {**good_row(), "plan": "enterprise"}
    assert only(problems_of(InputSchema.infer(train), row), "plan")[0]["problem"] == \
        "unseen category"
    flagged = InputSchema.infer(train, unseen="flag").validate(row)
    assert flagged.loc[0, "plan"] == "enterprise"
    assert flagged.attrs["schema_notes"][0]["rows"] == [0]
    rare = InputSchema.infer(train, unseen="rare", rare_label="other").validate(row)
    assert rare.loc[0, "plan"] == "other"


def test_empty_input_and_non_tables(schema):
    for bad in ([], pd.DataFrame(columns=list(schema.columns)), None, 3, "age",
                np.ones(5), np.ones((2, 2, 2)), [1, 2], [{"age": 1}, "x"]):
        with pytest.raises(SchemaError) as info:
            schema.validate(bad)
        assert info.value.problems[0]["column"] is None


def test_nested_objects_in_cells(schema):
    p = problems_of(schema, {**good_row(), "plan": ["pro"], "age": {"v": 1},
                             "since": [2020], "active": {"x": True}})
    for col in ("plan", "age", "since", "active"):
        assert only(p, col)[0]["problem"] == "nested object (dict or list) in a cell"


def test_huge_string_is_refused_before_parsing(train):
    schema = InputSchema.infer(train.assign(note=["a", "b", "c", "d", "e"]), max_categories=2)
    huge = "x" * 10_000_000
    for column in ("note", "plan", "since"):
        p = problems_of(schema, {**good_row(), "note": "ok", column: huge})
        assert only(p, column)[0]["problem"] in {"string too long", "unseen category"}
        assert len(str(p)) < 2_000
    p = problems_of(schema, {**good_row(), "note": huge})
    assert only(p, "note")[0]["problem"] == "string too long"
    # a 10 MB column *name* is shortened in the report
    with pytest.raises(SchemaError) as info:
        InputSchema.infer(train, extra="error").validate({**good_row(), huge: 1})
    assert len(str(info.value)) < 1_000


def test_mixed_time_zones(train):
    naive = InputSchema.infer(train)
    rows = [{**good_row(), "since": s} for s in
            ("2023-01-01T00:00:00", "2023-01-01T00:00:00+02:00", "2023-01-01T00:00:00Z")]
    p = only(problems_of(naive, rows), "since")[0]
    assert p["problem"] == "date-time with a time zone where training had none"
    assert p["rows"] == [1, 2]
    aware = InputSchema.infer(train.assign(since=train["since"].dt.tz_localize("UTC")))
    p = only(problems_of(aware, rows), "since")[0]
    assert p["problem"] == "date-time without a time zone"
    assert p["rows"] == [0]
    out = aware.validate(rows[1:])
    assert str(out["since"].dt.tz) == "UTC"
    assert out["since"].iloc[0] == pd.Timestamp("2022-12-31T22:00:00Z")


def test_wrong_dtype_columns(schema, train):
    frame = train.assign(age=train["age"].astype(str), since=np.arange(5),
                         plan=np.arange(5.0), active=["yes"] * 5)
    kinds = {(p["column"], p["problem"]) for p in problems_of(schema, frame)}
    assert ("since", "int64 values instead of date-times") in kinds
    assert ("plan", "float64 values instead of text") in kinds
    assert {c for c, _ in kinds} == {"age", "since", "plan", "active"}


def test_input_is_never_mutated(schema, train):
    frame = train.assign(age=train["age"].astype(float))
    before = frame.copy()
    row = good_row()
    row_before = dict(row)
    schema.validate(frame)
    schema.validate(row)
    InputSchema.infer(frame, unseen="rare").validate(frame.assign(plan="zzz"))
    pd.testing.assert_frame_equal(frame, before)
    assert row == row_before


# ------------------------------------------------------------------ JSON Schema
def test_json_schema_agrees_with_validate(schema):
    import jsonschema

    contract = schema.to_json_schema()
    assert contract["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(contract)
    validator = jsonschema.Draft202012Validator(contract)
    good = good_row()
    assert not list(validator.iter_errors(good))
    for bad in ({**good, "age": "3"}, {**good, "plan": "enterprise"}, {**good, "age": 500},
                {k: v for k, v in good.items() if k != "plan"}, {**good, "age": None}):
        assert list(validator.iter_errors(bad)), bad
        with pytest.raises(SchemaError):
            schema.validate(bad)
    assert not list(validator.iter_errors({**good, "income": None}))


def test_repr_and_top_level_name(schema):
    assert repr(schema).startswith("InputSchema(age: integer [18, 80]")
    assert mllife.InputSchema is InputSchema
