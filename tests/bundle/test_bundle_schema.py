"""InputSchema: inference, lossless coercion, every kind of bad input, JSON Schema."""

from __future__ import annotations

import contextlib
import datetime as dt
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
        assert InputSchema.infer(train, out_of_range="ignore").validate(row).loc[0, "age"] == 500
    # a column never negative in training never accepts negatives
    assert only(problems_of(InputSchema.infer(train), {**good_row(), "age": -1}), "age")


def test_unseen_category_policies(train):
    row = {**good_row(), "plan": "enterprise"}
    assert only(problems_of(InputSchema.infer(train), row), "plan")[0]["problem"] == \
        "unseen category"
    flagged = InputSchema.infer(train, unseen="flag").validate(row)
    assert flagged.loc[0, "plan"] == "enterprise"
    assert flagged.attrs["schema_notes"][0]["rows"] == [0]
    rare = InputSchema.infer(train, unseen="rare", rare_value="other").validate(row)
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


@pytest.mark.parametrize("aware", [False, True], ids=["naive", "utc"])
def test_json_schema_datetimes_accept_what_validate_accepts(train, aware):
    import jsonschema

    frame = train.assign(since=train["since"].dt.tz_localize("UTC")) if aware else train
    schema = InputSchema.infer(frame)
    validator = jsonschema.Draft202012Validator(
        schema.to_json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    for value in ("2021-06-01", "2021-06-01T10:00:00", "2021-06-01 10:00",
                  "2021-06-01T10:00:00.123456", "2021-06-01T10:00:00+00:00",
                  "2021-06-01T10:00:00Z", "yesterday", "2021-6-1", "2021", ""):
        row = {**good_row(), "since": value}
        try:
            schema.validate(row)
            accepted = True
        except SchemaError:
            accepted = False
        assert (not list(validator.iter_errors(row))) == accepted, (value, accepted)


def test_repr_and_top_level_name(schema):
    assert repr(schema).startswith("InputSchema(age: integer [18, 80]")
    assert mllife.InputSchema is InputSchema


# ------------------------------------------------------------------ hostile values
def kinds(schema, X):
    """``("ok", frame)`` or the sorted ``(column, problem)`` pairs of the SchemaError."""
    try:
        return "ok", schema.validate(X)
    except SchemaError as err:
        return "error", sorted((p["column"], p["problem"]) for p in err.problems)


def every_form(schema, row):
    """The outcome for the row as a dict, a list of one dict and a one-row frame."""
    forms = [row, [row]]
    # pandas itself cannot build the frame for an integer beyond float64 (10**400) on
    # pandas 2, so no caller can pass it: only the dict and the list are checked then.
    with contextlib.suppress(OverflowError):
        forms.append(pd.DataFrame({k: [v] for k, v in row.items()}))
    return [kinds(schema, X) for X in forms]


@pytest.mark.parametrize(("column", "value"), [
    ("plan", np.nan), ("plan", pd.NaT), ("active", pd.NaT), ("age", pd.NaT),
    ("age", None), ("since", np.nan), ("since", 0.0 * np.nan)])
def test_all_missing_column_of_another_dtype_is_judged_as_missing(schema, column, value):
    # Training had no missing value in these columns: a column of NaN (float), NaT
    # (datetime) or None is missing values, whatever its dtype, and is refused.
    for outcome, problems in every_form(schema, {**good_row(), column: value}):
        assert outcome == "error"
        assert problems == [(column, "missing value where training had none")]


def test_all_missing_column_of_another_dtype_becomes_missing_values_of_the_trained_dtype(train):
    schema = InputSchema.infer(train, nullable=True)
    reference = schema.validate([{**good_row(), "plan": None, "since": None, "age": None,
                                  "active": None}])
    for value in (np.nan, pd.NaT, None, pd.NA):
        row = {**good_row(), "plan": value, "since": value, "age": value, "active": value}
        for outcome, out in every_form(schema, row):
            assert outcome == "ok"
            pd.testing.assert_frame_equal(out.reset_index(drop=True), reference)
    assert isinstance(reference["plan"].dtype, type(train["plan"].dtype))  # text, not float
    assert reference["since"].dtype == train["since"].dtype
    assert reference["plan"].isna().all()
    assert reference["since"].isna().all()


@pytest.mark.parametrize("trained", [np.nan, None])
def test_missing_text_reaches_the_encoder_as_training_held_it(trained):
    # OneHotEncoder tells None from NaN in an object column (pandas 2): whatever the
    # request's missing text (None, NaN, NaT, pd.NA) and form, the validated value is the
    # one training held, or a model fitted with handle_unknown="error" would refuse it.
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    X = pd.DataFrame({"plan": ["basic", trained, "pro", "basic", trained, "pro"],
                      "age": [20, 30, 40, 50, 60, 70]})
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="error"), ["plan"]),
                                remainder="passthrough"),
        LogisticRegression()).fit(X, [0, 1, 0, 1, 1, 0])
    schema = InputSchema.infer(X)
    assert InputSchema.from_dict(json.loads(json.dumps(schema.to_dict()))) == schema
    held = X["plan"].iloc[1]  # None on pandas 2 when training held None, else NaN
    expected = model.predict(X.iloc[[1]]).tolist()
    for value in (None, np.nan, pd.NaT, pd.NA):
        for outcome, out in every_form(schema, {"plan": value, "age": 30}):
            assert outcome == "ok"
            assert model.predict(out).tolist() == expected
            assert (out["plan"].iloc[0] is None) == (held is None)
            assert pd.isna(out["plan"].iloc[0])
    rows = [{"plan": v, "age": 30} for v in (None, np.nan, pd.NaT, pd.NA, "pro")]
    for request in (rows, pd.DataFrame(rows)):
        out = schema.validate(request)
        assert model.predict(out).tolist()[:4] == expected * 4
        assert [v is None for v in out["plan"]] == [held is None] * 4 + [False]


def test_unknown_missing_value_in_a_contract_is_refused():
    data = InputSchema.infer(pd.DataFrame({"plan": ["a", None]})).to_dict()
    data["columns"][0]["na_value"] = "NA"
    with pytest.raises(InputError, match="missing value"):
        InputSchema.from_dict(data)
    del data["columns"][0]["na_value"]  # a contract written before the field: NaN
    assert InputSchema.from_dict(data).specs[0].na_value == "nan"


@pytest.mark.parametrize("policy", ["error", "warn", "clip", "ignore"])
@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**64 - 1, np.uint64(2**64 - 1),
                                   10**400, 1e300, 2.0**63, -1e19])
def test_values_no_int64_holds_are_errors_whatever_the_range_policy(train, policy, value):
    schema = InputSchema.infer(train, out_of_range=policy)
    for outcome, problems in every_form(schema, {**good_row(), "age": value}):
        assert outcome == "error"
        assert problems == [("age", "value not representable as int64")]


def test_int64_extremes_are_exact(train):
    schema = InputSchema.infer(train, out_of_range="ignore")
    for value in (2**63 - 1, -(2**63), 2**53 + 1, -(2.0**63)):
        for outcome, out in every_form(schema, {**good_row(), "age": value}):
            assert outcome == "ok"
            assert out["age"].dtype == np.int64
            assert int(out["age"].iloc[0]) == value


def test_lossy_coercions_are_errors(train):
    schema = InputSchema.infer(train, out_of_range="ignore")
    # integers a float64 cannot hold exactly, into a float column
    for value in (2**53 + 1, -(2**53) - 1, 2**63 - 1, 10**400, np.uint64(2**64 - 1)):
        for outcome, problems in every_form(schema, {**good_row(), "income": value}):
            assert outcome == "error"
            assert problems == [("income", "value not representable as float64")]
    # complex numbers are no real numbers
    for outcome, problems in every_form(schema, {**good_row(), "income": 1 + 0j}):
        assert outcome == "error"
        assert problems == [("income", "complex128 values instead of numbers")]
    # nanoseconds where training held microseconds (pandas 3 reads dates in microseconds,
    # pandas 2 in nanoseconds: the training column is made microseconds on both)
    micros = InputSchema.infer(train.assign(since=train["since"].astype("datetime64[us]")),
                               out_of_range="ignore")
    assert dict(zip(micros.columns, micros.specs, strict=True))["since"].dtype == "datetime64[us]"
    for value in ("2023-05-01T10:00:00.123456789", pd.Timestamp("2023-05-01T10:00:00.000000001"),
                  "2023-05-01T10:00:00.1234567891"):
        for outcome, problems in every_form(micros, {**good_row(), "since": value}):
            assert outcome == "error"
            assert problems == [("since", "date-time not representable as datetime64[us]")]
    # ... and a whole microsecond is fine
    out = micros.validate({**good_row(), "since": "2023-05-01T10:00:00.123456"})
    assert out["since"].iloc[0] == pd.Timestamp("2023-05-01T10:00:00.123456")


def test_lossless_values_still_pass(train):
    schema = InputSchema.infer(train, out_of_range="ignore")
    out = schema.validate({**good_row(), "income": 2**53, "age": np.int8(40)})
    assert out["income"].iloc[0] == 2.0**53
    from decimal import Decimal
    out = schema.validate([{**good_row(), "income": Decimal("0.1"), "age": Decimal("40")}])
    assert out["income"].iloc[0] == 0.1
    assert out["age"].iloc[0] == 40
    p = problems_of(schema, [{**good_row(), "income": Decimal("0.1000000000000000000001")}])
    assert only(p, "income")[0]["problem"] == "value not representable as float64"


def test_resolution_of_coarser_training_columns(train):
    seconds = InputSchema.infer(train.assign(since=train["since"].astype("datetime64[s]")),
                                out_of_range="ignore")
    for outcome, problems in every_form(seconds, {**good_row(), "since": "2023-05-01T10:00:00.5"}):
        assert outcome == "error"
        assert problems == [("since", "date-time not representable as datetime64[s]")]
    nanos = InputSchema.infer(train.assign(since=train["since"].astype("datetime64[ns]")),
                              out_of_range="ignore")
    for outcome, problems in every_form(nanos, {**good_row(), "since": "2500-01-01T00:00:00"}):
        assert outcome == "error"  # beyond 2262: no nanosecond date-time holds it
        assert problems == [("since", "date-time not representable as datetime64[ns]")]


def test_iso_text_beyond_the_nanosecond_years_is_read_at_the_training_resolution(train):
    # pandas parses text in nanoseconds (pandas 2, or pandas 3 when a cell has more than six
    # decimals), which end in 2262: a later ISO 8601 date-time is still one, and a
    # microsecond column holds it.
    micros = InputSchema.infer(train.assign(since=train["since"].astype("datetime64[us]")),
                               out_of_range="ignore")
    for value in ("2500-01-01T10:00:00.5", "1500-02-28", "2400-02-29T23:59:59.999999"):
        for outcome, out in every_form(micros, {**good_row(), "since": value}):
            assert outcome == "ok"
            assert out["since"].dtype == "datetime64[us]"
            assert out["since"].iloc[0] == pd.Timestamp(dt.datetime.fromisoformat(value))
    for value, problem in [("2500-02-29", "text that is not an ISO 8601 date-time"),
                           ("2500-01-01T00:00:00.0000001", "date-time not representable as "
                            "datetime64[us]"),
                           ("2500-01-01T00:00:00+02:00", "date-time with a time zone where "
                            "training had none")]:
        for outcome, problems in every_form(micros, {**good_row(), "since": value}):
            assert (outcome, problems) == ("error", [("since", problem)]), value
    # with a nanosecond cell in the same request: each row judged on its own
    rows = [{**good_row(), "since": "2500-01-01"},
            {**good_row(), "since": "2023-05-01T10:00:00.123456789"}]
    p = only(problems_of(micros, rows), "since")
    assert [(x["problem"], x["rows"]) for x in p] == [
        ("date-time not representable as datetime64[us]", [1])]
    out = micros.validate([rows[0], {**good_row(), "since": "2023-05-01T10:00:00.123456000"}])
    assert out["since"].tolist() == [pd.Timestamp("2500-01-01"),
                                     pd.Timestamp("2023-05-01T10:00:00.123456")]


def test_integers_beyond_float64_are_values_in_their_column(train):
    # pandas 2 cannot build a frame holding 10**400, pandas 3 keeps it as an object: on both,
    # the value is reported in its column (or ignored with it), never as an unreadable table.
    schema = InputSchema.infer(train, out_of_range="ignore")
    for outcome, out in every_form(schema, {**good_row(), "extra": 10**400}):
        assert outcome == "ok"
        pd.testing.assert_frame_equal(out, schema.validate(good_row()))
    rows = [{**good_row(), "extra": -(10**400)}, {**good_row(), "income": 10**400}]
    assert problems_of(schema, rows) == [{
        "column": "income", "problem": "value not representable as float64", "count": 1,
        "rows": [1], "expected": "numbers a float64 holds exactly (every integer up to 2**53 "
        "in magnitude)"}]


def test_bool_in_a_numeric_column_stays_a_problem(schema):
    for column in ("age", "income"):
        for outcome, problems in every_form(schema, {**good_row(), column: True}):
            assert outcome == "error"
            assert problems[0][1].startswith("bool")


@pytest.mark.parametrize("value", ["2024-01-05+02:00", "2024-01-05Z", "2024-01-05-05:00",
                                   "2024-1-5", "-0", "2024", "2024-01"])
def test_dates_with_an_offset_but_no_time_are_the_same_error_on_every_path(train, value):
    aware = InputSchema.infer(train.assign(since=train["since"].dt.tz_localize("UTC")))
    naive = InputSchema.infer(train)
    for schema in (aware, naive):
        outcomes = every_form(schema, {**good_row(), "since": value})
        assert outcomes == [("error", [("since", "text that is not an ISO 8601 date-time")])] * 3


def test_bytes_are_named_as_bytes(schema):
    for value in (b"pro", bytearray(b"pro")):
        for column, expected in (("plan", "text"), ("age", "integers")):
            for outcome, problems in every_form(schema, {**good_row(), column: value}):
                assert outcome == "error"
                assert problems == [(column, f"bytes instead of {expected}")]


def _deep(n, container):
    value = container()
    for _ in range(n):
        value = [value] if container is list else {"k": value}
    return value


def test_hostile_json_like_requests_only_raise_schema_errors(schema):
    deep_tuple = ()
    for _ in range(10_000):
        deep_tuple = (deep_tuple,)
    hostile = [
        {**good_row(), 1: "x"}, {**good_row(), None: 1}, {**good_row(), (1, 2): 3},
        {**good_row(), deep_tuple: 1}, {**good_row(), 10**5000: 1},
        {**good_row(), "plan": _deep(10_000, list)}, {**good_row(), "age": _deep(10_000, dict)},
        {**good_row(), "plan": "x" * 1_000_000}, {**good_row(), "since": "2" * 1_000_000},
        {**good_row(), "age": 10**5000}, {**good_row(), "income": -(10**5000)},
    ]
    for row in hostile:
        for X in (row, [row]):
            outcome, found = kinds(schema, X)
            if outcome == "error":
                assert all(len(str(c)) <= 80 for c, _ in found)
            assert len(str(found)) < 5_000


def test_numeric_text_with_coerce_strings(train):
    schema = InputSchema.infer(train, coerce_strings=True, out_of_range="ignore")
    out = schema.validate({**good_row(), "age": " 41 ", "income": "-0"})
    assert out["age"].iloc[0] == 41
    assert str(out["income"].iloc[0]) == "-0.0"
    for column, value, problem in [
            ("age", "1e309", "value not representable as int64"),
            ("income", "1e309", "value not representable as float64"),
            ("income", "1e-400", "value not representable as float64"),
            ("income", "9007199254740993", "value not representable as float64"),
            ("age", "9223372036854775808", "value not representable as int64"),
            ("age", "41.5", "non-integer value"),
            ("age", "١٢", "text that is not a number"),
            ("income", "nan", "text that is not a number"),
            ("income", "1_000", "text that is not a number")]:
        for outcome, problems in every_form(schema, {**good_row(), column: value}):
            assert (outcome, problems) == ("error", [(column, problem)]), (column, value)
    assert schema.validate({**good_row(), "age": "9007199254740993"})["age"].iloc[0] == \
        2**53 + 1


def test_big_integers_next_to_missing_values_are_not_rounded(train):
    # pandas reads [2**53 + 1, None] as float64 (rounding the integer): the check sees the
    # request's own integer, which a float64 column (ints with missing values) cannot hold.
    schema = InputSchema.infer(train, nullable=True, out_of_range="ignore")
    for rows in ([{**good_row(), "age": 2**53 + 1}, {**good_row(), "age": None}],
                 [{**good_row(), "income": 2**53 + 1}, {**good_row(), "income": 1.5}]):
        column = "age" if rows[1]["age"] is None else "income"
        p = only(problems_of(schema, rows), column)
        assert [(x["problem"], x["rows"]) for x in p] == [
            ("value not representable as float64", [0])]
    out = schema.validate([{**good_row(), "age": 2**53}, {**good_row(), "age": None}])
    assert out["age"].iloc[0] == 2**53
