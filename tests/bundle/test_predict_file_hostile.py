"""``ModelBundle.predict_file`` on hostile files: malformed, mislabelled, colliding, exotic."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.linear_model import LogisticRegression

from mllife import InputError, SchemaError
from mllife._compat import PANDAS_GE_3
from mllife.bundle import InputSchema, ModelBundle

TRAIN = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
                      "plan": ["a", "b", "a", "b", "a", "b"]})
Y = [0, 0, 0, 1, 1, 1]


class _OnX(LogisticRegression):
    """A logistic regression on the column x of a frame (the contract has more)."""

    def fit(self, X, y):
        return super().fit(X[["x"]].to_numpy(), y)

    def predict_proba(self, X):
        return super().predict_proba(X[["x"]].to_numpy())

    def predict(self, X):
        return super().predict(X[["x"]].to_numpy())


BUNDLE = ModelBundle(_OnX().fit(TRAIN, Y), InputSchema.infer(TRAIN), version="h")


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def _text(path, text: str | bytes):
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- files that do not parse
@pytest.mark.parametrize(("name", "content", "match"), [
    ("ragged.csv", "x,plan\n1,a\n2,b\n3,a,EXTRA\n4,b\n", "cannot read"),
    ("ragged_late.csv", "x,plan\n1,a\n2,b\n3,a\n4,b,EXTRA\n", "cannot read"),
    ("wide_first.csv", "x,plan\n1,a,EXTRA\n2,b\n", "Length of header"),
    ("latin1.csv", "x,plan\n1,caf\xe9\n".encode("latin-1"), "UnicodeDecodeError"),
    ("empty.csv", b"", "cannot read"),
    ("binary.parquet", b"PAR1 not really a parquet file", "Parquet"),
    ("truncated.csv.gz", gzip.compress(b"x,plan\n" + b"1.25,a\n" * 5000, mtime=0)[:-20], "cannot read"),
    ("not_gzip.csv.gz", b"x,plan\n1,a\n", "cannot read"),
])
def test_a_file_that_does_not_parse_is_an_input_error(tmp_path, name, content, match):
    src = _text(tmp_path / name, content)
    with pytest.raises(InputError, match=match) as info:
        BUNDLE.predict_file(src, tmp_path / "out.csv", chunk_rows=2)
    assert name in str(info.value)  # the message names the file
    assert _names(tmp_path) == [name]  # no output, no temporary file


def test_a_bad_line_late_in_the_file_writes_nothing(tmp_path):
    lines = ["x,plan"] + ["1.5,a"] * 1000 + ['2.5,"unclosed'] + ["1.0,b"] * 10
    src = _text(tmp_path / "late.csv", "\n".join(lines) + "\n")
    (tmp_path / "out.csv").write_text("the previous scores\n")
    with pytest.raises(InputError):
        BUNDLE.predict_file(src, tmp_path / "out.csv", chunk_rows=100)
    assert (tmp_path / "out.csv").read_text() == "the previous scores\n"
    assert _names(tmp_path) == ["late.csv", "out.csv"]


# ---------------------------------------------------------------- headers
def test_a_contract_column_twice_is_a_schema_error(tmp_path):
    src = _text(tmp_path / "dup.csv", "x,plan,x\n1,a,2\n")
    with pytest.raises(SchemaError, match="duplicated column") as info:
        BUNDLE.predict_file(src, tmp_path / "out.csv")
    assert [p["column"] for p in info.value.problems] == ["x"]
    assert _names(tmp_path) == ["dup.csv"]


def test_columns_named_like_the_outputs(tmp_path):
    src = _text(tmp_path / "in.csv", "row,problems,x,plan,input.row\n"
                                     "r0,p0,1.0,a,i0\nr1,p1,abc,a,i1\n")
    result = BUNDLE.predict_file(src, tmp_path / "out.csv", keep=["problems"])
    rejects = pd.read_csv(result.rejects, keep_default_na=False)
    assert rejects.columns.tolist() == ["row", "input.row", "input.problems", "x", "plan",
                                        "input.input.row", "problems"]
    assert rejects.iloc[0].tolist() == [1, "r1", "p1", "abc", "a", "i1",
                                        "x: text instead of numbers"]
    out = pd.read_csv(result.dst)
    assert out[["row", "problems"]].values.tolist() == [[0, "p0"]]
    with pytest.raises(InputError, match="output writes itself"):
        BUNDLE.predict_file(src, tmp_path / "again.csv", keep=["row"])


def test_identifiers_are_copied_as_written(tmp_path):
    src = _text(tmp_path / "in.csv", "id,x,plan\n007,1.0,a\nNA,2.0,b\n,3.0,a\n1e3,4.0,b\n")
    result = BUNDLE.predict_file(src, tmp_path / "out.parquet", keep=["id"])
    ids = pd.read_parquet(result.dst)["id"]
    assert ids.isna().tolist() == [False, False, True, False]  # only the empty cell
    assert ids.dropna().tolist() == ["007", "NA", "1e3"]


# ---------------------------------------------------------------- cells
def test_hostile_cells_are_rejected_one_by_one(tmp_path):
    long = "b" * 20_000  # over the contract's max_string_length
    rows = ["x,plan", "1.0,a", f"1.0,{long}", "inf,a", '"1,000",a', "0x10,a", " 2.5 ,b",
            '"1.0","=cmd|\' /C calc\'!A0"', "nan,a", "4.0,b"]
    src = _text(tmp_path / "in.csv", "\n".join(rows) + "\n")
    result = BUNDLE.predict_file(src, tmp_path / "out.csv", chunk_rows=3)
    rejects = pd.read_csv(result.rejects, keep_default_na=False)
    assert result.rows == result.scored + result.rejected == 9
    assert dict(zip(rejects["row"], rejects["problems"], strict=True)) == {
        1: "plan: string too long",
        2: "x: infinite value",
        3: "x: text instead of numbers",
        4: "x: text instead of numbers",
        6: "plan: unseen category",
        7: "x: missing value where training had none",
    }
    assert rejects.loc[rejects["row"] == 1, "plan"].item() == long  # as read, not cut
    assert pd.read_csv(result.dst)["row"].tolist() == [0, 5, 8]


def test_nested_and_exotic_parquet_cells(tmp_path):
    table = pa.table({
        "x": pa.array([[1.0], [2.0], None], type=pa.list_(pa.float64())),
        "plan": pa.array(["a", "b", "a"]).dictionary_encode(),
    })
    pq.write_table(table, tmp_path / "in.parquet")
    result = BUNDLE.predict_file(tmp_path / "in.parquet", tmp_path / "out.parquet",
                                 rejects=tmp_path / "rej.parquet")
    assert (result.scored, result.rejected) == (0, 3)
    rejects = pq.read_table(result.rejects)
    assert rejects.schema.field("x").type == pa.list_(pa.float64())  # the source's type
    assert rejects.column("problems").to_pylist()[:2] == [
        "x: nested object (dict or list) in a cell"] * 2


def test_parquet_categories_and_nullable_integers(tmp_path):
    X = pd.DataFrame({"n": [1, 2, 3, 4], "plan": ["a", "b", "a", "b"]})
    model = _OnXn().fit(X, [0, 0, 1, 1])
    bundle = ModelBundle(model, InputSchema.infer(X), version="n")
    table = pa.table({"n": pa.array([1, None, 2**60 + 1, 3], type=pa.int64()),
                      "plan": pa.array(["a", "b", "b", "zzz"]).dictionary_encode()})
    pq.write_table(table, tmp_path / "in.parquet")
    result = bundle.predict_file(tmp_path / "in.parquet", tmp_path / "out.csv")
    rejects = pd.read_csv(result.rejects, dtype={"n": str})
    assert dict(zip(rejects["row"], rejects["problems"], strict=True)) == {
        1: "n: missing value where training had none",
        # judged exactly (nullable integers, not float64): as the contract reads integers
        # next to a missing value, 2**60 + 1 has no float64
        2: "n: value not representable as float64",
        3: "plan: unseen category",
    }
    assert rejects.loc[rejects["row"] == 2, "n"].item() == str(2**60 + 1)  # copied exactly


class _OnXn(LogisticRegression):
    """A logistic regression on the column n of a frame, a missing n read as 0."""

    def fit(self, X, y):
        return super().fit(X[["n"]].fillna(0).to_numpy(dtype=float), y)

    def predict_proba(self, X):
        return super().predict_proba(X[["n"]].fillna(0).to_numpy(dtype=float))


def test_an_integer_column_read_as_float_refuses_what_it_cannot_hold(tmp_path):
    X = pd.DataFrame({"n": [0, 2**62], "plan": ["a", "b"]})
    bundle = ModelBundle(_OnXn().fit(X, [0, 1]), InputSchema.infer(X, nullable=True,
                                                                   out_of_range="ignore"),
                         version="n")
    src = _text(tmp_path / "in.csv", f"n,plan\n{2**53 + 1},a\n,b\n5,a\n{2**53 + 1},b\n")
    result = bundle.predict_file(src, tmp_path / "out.csv", chunk_rows=2)
    rejects = pd.read_csv(result.rejects, dtype={"n": str})
    assert rejects["row"].tolist() == [0]
    if PANDAS_GE_3:  # the first chunk has a missing n: pandas read it as float64, rounded
        assert rejects["problems"].item().startswith(
            "n: integer of 2**53 or more, not read exactly")
    else:  # pandas 2: read as text, exactly, and judged by the contract
        assert rejects["problems"].item() == "n: value not representable as float64"
    assert pd.read_csv(result.dst)["row"].tolist() == [1, 2, 3]  # row 3: exact in its chunk


def test_inputs_are_not_modified(tmp_path):
    src = _text(tmp_path / "in.csv", "x,plan\n1.0,a\nabc,b\n")
    before = src.read_bytes()
    keep = ["plan"]
    BUNDLE.predict_file(src, tmp_path / "out.csv", keep=keep)
    assert src.read_bytes() == before
    assert keep == ["plan"]


def test_bool_like_numbers_and_numpy_chunk_rows(tmp_path):
    src = _text(tmp_path / "in.csv", "x,plan\n1,a\n2,b\nTrue,a\n")
    result = BUNDLE.predict_file(src, tmp_path / "out.csv", chunk_rows=np.int64(3))
    rejects = pd.read_csv(result.rejects, keep_default_na=False)
    assert rejects[["row", "problems"]].values.tolist() == [[2, "x: text instead of numbers"]]


def test_a_byte_order_mark_and_quoted_header(tmp_path):
    src = _text(tmp_path / "bom.csv", "\ufeff\"x\",\"plan\",\"note, with comma\"\n1.0,a,\"x\ny\"\n"
                                      "2.0,b,z\n")
    result = BUNDLE.predict_file(src, tmp_path / "out.csv", keep=["note, with comma"])
    out = pd.read_csv(result.dst)
    assert out.columns.tolist()[:2] == ["row", "note, with comma"]
    assert out["note, with comma"].tolist() == ["x\ny", "z"]  # a quoted newline is one row
    assert out["row"].tolist() == [0, 1]
