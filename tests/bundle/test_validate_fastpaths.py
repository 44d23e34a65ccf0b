"""The fast paths of ``InputSchema.validate`` return exactly what the general path returns.

Text held in pyarrow (pandas 3's ``str``, ``string[pyarrow]``, ``ArrowDtype``) is checked
in pyarrow, and a ``category`` column by its categories and codes. Each hostile column
here is validated twice: as it is (fast paths on) and through the general path (the
arrow fast path switched off, or the column given as Python objects). Values, dtypes,
the type of every cell, notes, problems and messages must all be equal.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mllife import SchemaError
from mllife.bundle import InputSchema, _columns
from mllife.bundle._schema import broken_rows

N = 40
TRAIN = pd.DataFrame({
    "plan": pd.Series(["basic", "pro", "team", "été"] * (N // 4), dtype=object),
    "plan_na": pd.Series(["basic", None, "pro", "team"] * (N // 4), dtype=object),
    "plan_nan": pd.Series(["basic", np.nan, "pro", "team"] * (N // 4), dtype=object),
    "note": pd.Series([f"n{i}" for i in range(N)], dtype=object),
    "note_na": pd.Series([f"m{i}" if i % 4 else None for i in range(N)], dtype=object),
    "x": np.linspace(0.0, 1.0, N),
})
TEXT_COLUMNS = ["plan", "plan_na", "plan_nan", "note", "note_na"]
#: Every policy a text column meets, with a short string limit to trip over.
SCHEMAS = {
    f"{unseen}-{limit}": InputSchema.infer(TRAIN, max_categories=10, unseen=unseen,
                                           max_string_length=limit)
    for unseen in ("error", "flag", "rare") for limit in (5, 10_000)
}
#: Text cells: known, unseen, missing, empty, long, multi-byte (characters, not bytes).
CELLS = ["basic", "pro", "team", "été", "gold", "", None, np.nan, "abcdef", "ééééé",
         "éééééé", "\U0001f600" * 5, "\U0001f600" * 6, "n1", "m2", "basic\x00"]
ARROW_DTYPES = ["str", "string[pyarrow]", pd.ArrowDtype(pa.string()),
                pd.ArrowDtype(pa.large_string())]
TEXT_DTYPES = [*ARROW_DTYPES, "string[python]", "category", object]

needs_arrow_text = pytest.mark.skipif(not _columns.ARROW_TEXT,
                                      reason="text is held as Python objects (pandas 2)")


def frame(column: str | list[str], values: Any) -> pd.DataFrame:
    """A valid request whose ``column`` (or each of those columns) holds ``values``."""
    n = len(values)
    X = pd.DataFrame({"plan": ["basic"] * n, "plan_na": ["pro"] * n, "plan_nan": ["pro"] * n,
                      "note": ["n1"] * n, "note_na": ["m1"] * n, "x": np.full(n, 0.5)})
    for name in [column] if isinstance(column, str) else column:
        X[name] = values
    return X


def buffers(values: Any) -> list[int]:
    """The addresses of the pyarrow buffers behind an arrow-backed pandas array."""
    return [b.address for chunk in values.__arrow_array__().chunks for b in chunk.buffers()
            if b is not None]


def outcome(schema: InputSchema, X: Any) -> tuple[Any, ...]:
    """What validate returns or raises, in comparable form."""
    try:
        out = schema.validate(X)
    except SchemaError as err:
        return ("schema", err.problems, str(err))
    cells = {c: [(type(v).__name__, repr(v)) for v in out[c].tolist()] for c in out.columns}
    return ("ok", out, out.attrs["schema_notes"], cells)


def general(schema: InputSchema, X: Any) -> tuple[Any, ...]:
    """``outcome`` with the arrow fast path off: the categorical path builds Python objects."""
    with mock.patch.object(_columns, "ARROW_TEXT", False):
        return outcome(schema, X)


def assert_same_marks(schema: InputSchema, X: pd.DataFrame) -> np.ndarray:
    """``broken_rows`` marks the same rows with the fast paths on and off."""
    marks = broken_rows(schema, X)
    with mock.patch.object(_columns, "ARROW_TEXT", False):
        np.testing.assert_array_equal(marks, broken_rows(schema, X))
    np.testing.assert_array_equal(marks, broken_rows(schema, X.astype(object)))
    return marks


def assert_same(fast: tuple[Any, ...], slow: tuple[Any, ...]) -> None:
    assert fast[0] == slow[0], (fast[1:], slow[1:])
    if fast[0] == "schema":
        assert fast[1:] == slow[1:]
        return
    pd.testing.assert_frame_equal(fast[1], slow[1], check_exact=True)
    assert list(fast[1].dtypes) == list(slow[1].dtypes)
    assert [type(fast[1][c].array) for c in fast[1].columns] == [
        type(slow[1][c].array) for c in slow[1].columns]
    assert fast[2:] == slow[2:]


def as_dtype(values: list[Any], dtype: Any) -> pd.Series:
    return pd.Series(pd.Series(values, dtype=object).to_numpy(), dtype=dtype)


# ---------------------------------------------------------------- hostile columns
HOSTILE: dict[str, list[Any]] = {
    "known": ["basic", "pro", "team", "été"],
    "known and missing": ["basic", None, "pro", np.nan],
    "unseen": ["basic", "gold", "pro", "team"],
    "unseen and missing": ["gold", None, "pro", "basic"],
    "long": ["basic", "abcdefghijk", "pro", "team"],
    "multi-byte, 5 characters in 10 bytes": ["ééééé", "basic", "pro", "team"],
    "multi-byte, 6 characters": ["éééééé", "basic", "pro", "team"],
    "4-byte characters": ["\U0001f600" * 5, "\U0001f600" * 6, "pro", "team"],
    "empty string": ["", "basic", "pro", "team"],
    "NUL byte": ["basic\x00", "basic", "pro", "team"],
    "all missing": [None, None, None, None],
    "one row": ["pro"],
    "one missing row": [None],
}


@pytest.mark.parametrize("dtype", TEXT_DTYPES, ids=str)
@pytest.mark.parametrize("case", list(HOSTILE))
def test_text_columns_fast_equals_general(case: str, dtype: Any) -> None:
    """Each text column (categories or free text, missing values seen or not) holds the cells."""
    values = as_dtype(HOSTILE[case], dtype)
    X = frame(TEXT_COLUMNS, values.to_numpy() if dtype is object else values.array)
    for schema in SCHEMAS.values():
        fast = outcome(schema, X)
        assert_same(fast, general(schema, X))
        # The same cells as Python objects take the general path from the start.
        assert_same(fast, outcome(schema, X.astype(dict.fromkeys(TEXT_COLUMNS, object))))
        assert assert_same_marks(schema, X).any() == (fast[0] == "schema")


@pytest.mark.parametrize("kind", ["unused unknown", "unused known", "ordered", "unknown used",
                                  "missing", "integer categories", "integer and missing"])
def test_categorical_columns_fast_equals_general(kind: str) -> None:
    values = pd.Categorical(["basic", "pro", "basic", "team"])
    if kind == "unused unknown":
        values = values.add_categories(["gold", "platinum"])
    elif kind == "unused known":
        values = values.add_categories(["été"])
    elif kind == "ordered":
        values = values.as_ordered()
    elif kind == "unknown used":
        values = pd.Categorical(["basic", "gold", "basic", "team"])
    elif kind == "missing":
        values = pd.Categorical(["basic", None, "basic", "team"])
    elif kind == "integer categories":
        values = pd.Categorical([1, 2, 1, 2])
    elif kind == "integer and missing":
        values = pd.Categorical([1, None, 1, 2])
    X = frame(TEXT_COLUMNS, values)
    for schema in SCHEMAS.values():
        fast = outcome(schema, X)
        assert_same(fast, general(schema, X))
        assert_same(fast, outcome(schema, X.astype(dict.fromkeys(TEXT_COLUMNS, object))))
        assert assert_same_marks(schema, X).any() == (fast[0] == "schema")


def test_known_answers() -> None:
    """What the fast paths decide, stated: lengths in characters, missing by nullability."""
    schema = SCHEMAS["error-5"]
    for dtype in [*ARROW_DTYPES, "category", object]:
        ok = schema.validate(frame("note", as_dtype(["ééééé", "\U0001f600" * 5], dtype)))
        assert ok["note"].tolist() == ["ééééé", "\U0001f600" * 5]
        with pytest.raises(SchemaError) as err:
            schema.validate(frame("note", as_dtype(["éééééé", "ok"], dtype)))
        assert [(p["problem"], p["rows"]) for p in err.value.problems] == [
            ("string too long", [0])]
        with pytest.raises(SchemaError) as err:
            schema.validate(frame("plan", as_dtype(["basic", None, "gold"], dtype)))
        assert [(p["problem"], p["rows"]) for p in err.value.problems] == [
            ("missing value where training had none", [1]), ("unseen category", [2])]
        X = frame("plan", as_dtype(["basic", None, "gold", "pro"], dtype))
        assert broken_rows(schema, X).tolist() == [False, True, True, False]
        out = schema.validate(frame("plan_na", as_dtype(["basic", None, "team"], dtype)))
        assert out["plan_na"].tolist()[::2] == ["basic", "team"]
        assert out["plan_na"].isna().tolist() == [False, True, False]
        assert out["plan_na"].dtype == _columns.TEXT_DTYPE


def test_chunked_and_sliced_arrow_text() -> None:
    """Several pyarrow chunks, and a slice with an offset, read as one column."""
    parts = [pd.Series(["basic", "pro"] * 50, dtype="str"),
             pd.Series(["team", None] * 50, dtype="str")]
    chunked = pd.concat(parts, ignore_index=True)
    sliced = pd.Series(pd.array(pa.chunked_array([pa.array(["x", "basic", "pro", None, "team"]
                                                           ).slice(1)]),
                                dtype=pd.ArrowDtype(pa.string())))
    for values in (chunked, sliced, chunked.astype("string[pyarrow]")):
        X = frame("plan_na", values.array)
        for schema in SCHEMAS.values():
            assert_same(outcome(schema, X), general(schema, X))
            assert_same(outcome(schema, X), outcome(schema, X.astype({"plan_na": object})))


def test_empty_column() -> None:
    """An empty request is refused first; a column check of no cells returns no cells."""
    schema = SCHEMAS["error-10000"]
    with pytest.raises(SchemaError, match="empty input"):
        schema.validate(frame("plan", pd.Series([], dtype="str")))
    spec = schema.specs[0]
    for dtype in [*ARROW_DTYPES, "category", object]:
        values, problems, notes = _columns.check_column(
            spec, pd.Series([], dtype=dtype), schema.policies, schema._row.categories["plan"])
        assert len(values) == 0
        assert problems == []
        assert notes == []
        assert pd.Series(values).dtype == _columns.TEXT_DTYPE


@needs_arrow_text
def test_valid_arrow_text_is_handed_on_without_a_copy() -> None:
    """The validated column shares the request's pyarrow buffers; the request stays as it was."""
    X = frame("plan", pd.Series(["basic", "pro", "team", "été"] * 25, dtype="str"))
    X["note"] = pd.Series([f"n{i}" for i in range(100)], dtype="str")
    before = X.copy(deep=True)
    out = SCHEMAS["error-10000"].validate(X)
    for name in ("plan", "note"):
        assert buffers(out[name].array) == buffers(X[name].array)
        assert out[name].array is not X[name].array
    out.loc[0, "plan"] = "team"
    out.loc[1, "note"] = "changed"
    pd.testing.assert_frame_equal(X, before)


def test_zero_column_contract() -> None:
    """A contract of no columns returns no columns (the frame is built without them)."""
    schema = InputSchema([])
    out = schema.validate(pd.DataFrame({"a": [1, 2]}))
    assert out.shape == (2, 0)
    assert list(out.columns) == []
    assert out.columns.dtype == object


def test_datetime_columns_keep_their_values_on_the_table_build() -> None:
    """The frame is built once from the checked columns: date-times stay date-times."""
    train = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=4, freq="D"),
                          "z": pd.date_range("2024-01-01", periods=4, freq="D", tz="UTC"),
                          "plan": ["a", "b", "a", "b"]})
    schema = InputSchema.infer(train)
    out = schema.validate(train)
    pd.testing.assert_frame_equal(out, train.astype({"plan": _columns.TEXT_DTYPE}),
                                  check_exact=True)


# ---------------------------------------------------------------- property
@given(cells=st.lists(st.sampled_from(CELLS), min_size=1, max_size=12),
       dtype=st.sampled_from(TEXT_DTYPES), column=st.sampled_from(TEXT_COLUMNS),
       schema=st.sampled_from(list(SCHEMAS)))
def test_validate_equals_validate_of_objects(cells: list[Any], dtype: Any, column: str,
                                             schema: str) -> None:
    """validate(X) == validate(X with the column as Python objects) == the general path."""
    values = as_dtype(cells, dtype)
    X = frame(column, values.to_numpy() if dtype is object else values.array)
    fast = outcome(SCHEMAS[schema], X)
    assert_same(fast, general(SCHEMAS[schema], X))
    assert_same(fast, outcome(SCHEMAS[schema], X.astype({column: object})))


@pytest.mark.parametrize("n", [0, 1, 7])
def test_repeat_text_is_what_a_frame_makes_of_python_strings(n: int) -> None:
    """``repeat_text`` gives the column pandas builds from ``n`` Python strings."""
    for value in ("1.0", "été \U0001f600", ""):
        expected = pd.DataFrame({"v": np.full(n, value, dtype=object)})
        got = pd.DataFrame({"v": _columns.repeat_text(value, n)})
        pd.testing.assert_frame_equal(got, expected, check_exact=True)
        assert type(got["v"].array) is type(expected["v"].array)
        assert got["v"].tolist() == [value] * n


def test_a_category_pyarrow_cannot_hold() -> None:
    """A saved contract may name a lone surrogate: the fast paths decide as the general one.

    (The general path itself fails on such a contract with a raw ``UnicodeEncodeError``
    for text pandas 3 holds in pyarrow; the fast paths leave that as it is.)
    """
    schema = InputSchema.from_dict({"columns": [
        {"name": "c", "family": "string", "dtype": "object", "nullable": True,
         "categories": ["a", "\ud800"]}]})

    def caught(run: Any, X: pd.DataFrame) -> tuple[Any, ...]:
        try:
            return run(schema, X)
        except UnicodeEncodeError:
            return ("raw",)

    for values in (pd.Series(["a", "a"]), pd.Series(["a", None]), pd.Series(["a", "b"]),
                   pd.Series(pd.Categorical(["a", None])),
                   pd.Series(["a", "\ud800"], dtype=object)):
        X = pd.DataFrame({"c": values})
        fast = caught(outcome, X)
        slow = caught(general, X)
        assert fast[0] == slow[0]
        if fast[0] != "raw":
            assert_same(fast, slow)
    assert caught(outcome, pd.DataFrame({"c": pd.Categorical(["a", None])}))[0] == "ok"
    assert caught(outcome, pd.DataFrame({"c": ["a", "a"]}))[0] == "ok"
