"""Fuzzing: generated garbage never escapes as anything but the documented errors."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from decimal import Decimal

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


# ------------------------------------------------------------------ one hostile value
# One single-column contract per dtype and policy, so that ``{column: value}`` is the whole
# request and every form (dict, list of dicts, frame) can be compared.
ONE = pd.DataFrame({
    "int": [18, 25, 70],
    "int_null": pd.array([1, None, 3], dtype="Int64"),
    "float": [0.5, 2.5, 100.0],
    "float_null": [0.5, np.nan, 100.0],
    "bool": [True, False, True],
    "cat": ["a", "b", "a"],
    "free": ["x", None, "zz"],
    "naive": pd.to_datetime(["2020-01-01", "2021-01-01", "2022-01-01"]),
    "aware": pd.to_datetime(["2020-01-01", "2021-01-01", "2022-01-01"]).tz_localize("Europe/Paris"),
    "secs": pd.to_datetime(["2020-01-01", "2021-01-01", "2022-01-01"]).astype("datetime64[s]"),
    "nanos": pd.to_datetime(["2020-01-01", "2021-01-01", "2022-01-01"]).astype("datetime64[ns]"),
})
ONE_SCHEMAS = {}
for _policy in ("error", "ignore"):
    for _coerce in (False, True):
        for _spec in InputSchema.infer(ONE, max_categories=2).specs:
            ONE_SCHEMAS[(_policy, _coerce, _spec.name)] = InputSchema(
                [_spec], out_of_range=_policy, coerce_strings=_coerce)

_fixed_zones = st.builds(dt.timezone, st.timedeltas(min_value=-dt.timedelta(hours=23, minutes=59),
                                                    max_value=dt.timedelta(hours=23, minutes=59)))
edge_integers = st.sampled_from([0, 1, -1, 2**53, 2**53 + 1, -(2**53) - 1, 2**63 - 1, 2**63,
                                 -(2**63), -(2**63) - 1, 2**64 - 1, 2**64, 10**400, -(10**400)])
numeric_text = st.one_of(
    st.text(alphabet="0123456789.-+eE _", max_size=12),
    st.sampled_from(["1e309", "nan", "-0", " 1 ", "١٢", "１２", "inf", "-Infinity", "0x10",
                     "1e-400", "9007199254740993", "0.1", "0.1000000000000000000001", "true",
                     "False", " 0 ", "1.0", "9223372036854775808", "SECRETVALUE"]))
date_text = st.one_of(
    st.datetimes(timezones=st.none() | _fixed_zones).map(lambda d: d.isoformat()),
    st.builds(lambda d, spec, sep: d.isoformat(sep=sep, timespec=spec),
              st.datetimes(dt.datetime(2015, 1, 1), dt.datetime(2030, 1, 1),
                           timezones=st.none() | _fixed_zones),
              st.sampled_from(["hours", "minutes", "seconds", "milliseconds", "microseconds"]),
              st.sampled_from(["T", " "])),
    st.dates().map(lambda d: d.isoformat()),
    st.builds(lambda d, off: d.isoformat() + off, st.dates(),
              st.sampled_from(["+02:00", "Z", "-05:30", "T", "T10", "T10:00Z", "T10:00:00.123456789",
                               "T10:00:00.1234567891+01:00", " 10:00 +02:00", "T24:00:00"])),
    st.sampled_from(["2021-01-01+02:00", "2021-01-01Z", "-0", "2021", "2021-01", "2021-1-1",
                     "20210101", "0001-01-01", "9999-12-31T23:59:59", "2021-02-30",
                     "２０２１-01-01", "2021-01-01T10:00:00+23:59", "2021-01-01t10:00:00",
                     "2021-01-01T10:00:00.", "2021-01-01T1:2:3"]))
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), edge_integers,
                         st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=10),
                         st.sampled_from(["a", "b", "zz", "x"]), numeric_text, date_text)
json_like = st.recursive(json_scalars, lambda c: st.lists(c, max_size=3)
                         | st.dictionaries(st.text(max_size=3), c, max_size=3), max_leaves=5)
python_extras = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True), st.binary(max_size=4),
    st.datetimes(timezones=st.none() | _fixed_zones), st.dates(), st.complex_numbers(),
    st.timedeltas(), st.builds(np.int8, st.integers(-128, 127)),
    st.builds(np.uint64, st.integers(0, 2**64 - 1)), st.builds(np.int64, st.integers(-(2**63), 2**63 - 1)),
    st.builds(np.float32, st.floats(width=32)), st.builds(np.float16, st.floats(width=16)),
    st.builds(np.longdouble, st.floats()), st.builds(np.bool_, st.booleans()),
    st.builds(lambda d, unit: np.datetime64(d, unit), st.datetimes(dt.datetime(1700, 1, 1),
              dt.datetime(2200, 1, 1)), st.sampled_from(["D", "s", "us", "ns"])),
    st.builds(lambda d, ns: pd.Timestamp(d) + pd.Timedelta(ns, "ns"),
              st.datetimes(dt.datetime(1700, 1, 1), dt.datetime(2200, 1, 1)), st.integers(0, 999)),
    st.sampled_from([pd.NaT, pd.NA, np.nan, np.datetime64("NaT"), float("-inf")]),
)
hostile = st.one_of(json_like, python_extras)


def _missing(v):
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, Decimal):
        return v.is_nan()
    if isinstance(v, float | np.floating | np.datetime64):
        return bool(pd.isna(v))
    return False


def _as_decimal(v):
    return Decimal(v.strip()) if isinstance(v, str) else v


def _assert_lossless(spec, policies, value, out):
    """An accepted cell is the request value itself, in the trained dtype."""
    got = out.iloc[0, 0]
    if pd.isna(got):
        assert spec.nullable
        assert _missing(value)
        return
    assert not isinstance(value, list | dict | bytes | complex)
    if spec.family in {"integer", "float"}:
        assert not isinstance(value, bool | np.bool_)
        if isinstance(value, str | Decimal):
            assert isinstance(value, Decimal) or policies.coerce_strings
            exact = _as_decimal(value)
            if exact.is_infinite():
                assert got == float(exact)
            else:
                assert Decimal(float(got)) == exact or Decimal(repr(float(got))) == exact
        else:
            assert got == value  # Python compares int, float and numpy numbers exactly
            if spec.family == "integer":
                assert out.dtypes.iloc[0] == np.int64
                assert int(got) == value
            elif isinstance(value, float):
                assert math.copysign(1, got) == math.copysign(1, value)  # -0.0 stays -0.0
    elif spec.family == "boolean":
        if isinstance(value, str):
            assert policies.coerce_strings
            value = {"true": True, "false": False, "1": True, "0": False}[value.strip().lower()]
        assert value in (0, 1)
        assert bool(got) == bool(value)
    elif spec.family == "string":
        assert isinstance(value, str)
        assert got == value
    else:
        if isinstance(value, str):
            try:
                expected = pd.Timestamp(dt.datetime.fromisoformat(value))
            except ValueError:  # more than six decimals: pandas is the reference
                expected = pd.Timestamp(value)
        else:
            expected = pd.Timestamp(value)
        assert (expected.tzinfo is None) == (spec.tz is None)
        assert got == expected
        assert got.value == expected.as_unit("ns").value if expected.unit == "ns" else True


def _outcome(schema, X):
    """``("ok", frame)`` or ``("error", problem kinds)``; any other exception escapes."""
    try:
        return ("ok", schema.validate(X).reset_index(drop=True))
    except SchemaError as err:
        error = err
    assert all({"column", "problem", "count"} <= set(p) for p in error.problems)
    assert all(p["column"] == schema.columns[0] for p in error.problems)
    assert "SECRETVALUE" not in str(error)  # the request's values are never echoed
    assert "SECRETVALUE" not in repr(error.problems)
    return ("error", sorted(p["problem"] for p in error.problems))


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(sorted(ONE_SCHEMAS)), hostile)
def test_hostile_values_only_raise_schema_errors_and_accepted_ones_are_lossless(key, value):
    schema = ONE_SCHEMAS[key]
    outcome = _outcome(schema, {key[2]: value})
    if outcome[0] == "ok":
        _assert_lossless(schema.specs[0], schema.policies, value, outcome[1])


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(sorted(ONE_SCHEMAS)), hostile)
def test_dict_list_and_frame_give_the_same_outcome(key, value):
    schema, column = ONE_SCHEMAS[key], key[2]
    forms = [{column: value}, [{column: value}]]
    # pandas itself cannot build the frame for an integer beyond float64 (10**400) on
    # pandas 2, so no caller can pass it: only the dict and the list are compared then.
    with contextlib.suppress(OverflowError):
        forms.append(pd.DataFrame({column: [value]}))
    outcomes = [_outcome(schema, X) for X in forms]
    first = outcomes[0]
    for other in outcomes[1:]:
        assert other[0] == first[0]
        if first[0] == "ok":
            pd.testing.assert_frame_equal(other[1], first[1])
        else:
            assert other[1] == first[1]
