"""``ModelBundle.predict_file``, second hostile review: real-ish files, exotic types, paths."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from mllife import InputError, SchemaError
from mllife.bundle import InputSchema, ModelBundle

TRAIN = pd.DataFrame({
    "x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0],
    "n": [1, 2, 3, 4, 5, 6],
    "plan": ["a", "b", "a", "b", "a", "NA"],
    "when": pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01", "2020-04-01",
                            "2020-05-01", "2020-06-01"]),
})
Y = np.array([0, 0, 0, 1, 1, 1])
GOOD = "1.0,1,a,2020-01-01\n"
HEADER = "x,n,plan,when\n"


def _pipe(model):
    return make_pipeline(make_column_transformer(
        ("passthrough", ["x", "n"]),
        (OneHotEncoder(handle_unknown="ignore"), ["plan"])), model)


BUNDLE = ModelBundle(_pipe(LogisticRegression()).fit(TRAIN, Y), InputSchema.infer(TRAIN),
                     version="h2")


def _csv(folder, text, name="in.csv"):
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def _rejects(result):
    return pd.read_csv(result.rejects, keep_default_na=False, dtype=str)


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def _same(actual, expected):
    """Equal but for the last bits a batch size changes (the model's sums in BLAS)."""
    np.testing.assert_allclose(np.asarray(actual, dtype=float),
                               np.asarray(expected, dtype=float), rtol=1e-13, atol=0)


def _rows(result):
    """Every source row once, across output and rejects."""
    out = (pd.read_parquet(result.dst) if result.dst.suffix == ".parquet"
           else pd.read_csv(result.dst))["row"].tolist()
    rej = (pd.read_parquet(result.rejects) if result.rejects.suffix == ".parquet"
           else pd.read_csv(result.rejects))["row"].tolist()
    assert result.rows == result.scored + result.rejected
    assert (len(out), len(rej)) == (result.scored, result.rejected)
    assert sorted(out + rej) == list(range(result.rows))
    return out, rej


# ---------------------------------------------------------------- CSV text -> Parquet outputs
def test_csv_rejects_written_as_parquet(tmp_path):
    """A CSV's numeric columns (parsed by pandas 3 as numbers) go to a Parquet reject file
    as text, like the other CSV columns: found by writing rejects=*.parquet (was a raw
    ArrowTypeError 'Expected bytes, got a float object' on pandas 3)."""
    src = _csv(tmp_path, HEADER + GOOD + "1.0,abc,a,2020-01-01\n2.5,,b,2020-01-01\n")
    result = BUNDLE.predict_file(src, tmp_path / "out.csv", rejects=tmp_path / "rej.parquet",
                                 chunk_rows=2)
    _rows(result)
    table = pq.read_table(result.rejects)
    assert all(pa.types.is_string(t) for t in table.schema.types[1:])
    rejects = table.to_pandas()
    assert rejects["row"].tolist() == [1, 2]
    assert rejects["x"].tolist() == ["1.0", "2.5"]
    assert rejects["n"].tolist()[0] == "abc"
    assert pd.isna(rejects["n"].tolist()[1])  # missing stays missing, not "nan"
    assert rejects["problems"].tolist() == ["n: text instead of integers",
                                            "n: missing value where training had none"]


def test_csv_keep_numeric_columns_into_parquet(tmp_path):
    src = _csv(tmp_path, "id,x,n,plan,when\n7," + GOOD + "8,2.5,2,NA,2020-01-02\n")
    result = BUNDLE.predict_file(src, tmp_path / "out.parquet", keep=["id", "x", "n", "plan"])
    out = pd.read_parquet(result.dst)
    assert out[["id", "x", "n", "plan"]].values.tolist() == [["7", "1.0", "1", "a"],
                                                             ["8", "2.5", "2", "NA"]]
    expected = BUNDLE.predict_proba(pd.DataFrame(
        {"x": [1.0, 2.5], "n": [1, 2], "plan": ["a", "NA"],
         "when": pd.to_datetime(["2020-01-01", "2020-01-02"])}))
    _same(out["proba_1"].to_numpy(), expected["proba_1"].to_numpy())


# ---------------------------------------------------------------- arguments
@pytest.mark.parametrize("chunk_rows", [2**63, 10**30, np.uint64(2**63)])
def test_a_chunk_larger_than_any_file(tmp_path, chunk_rows):
    """Found by chunk_rows=2**63: a raw OverflowError from pandas/pyarrow."""
    src = _csv(tmp_path, HEADER + GOOD * 3)
    table = pa.table({"x": [1.0], "n": [1], "plan": ["a"],
                      "when": pa.array(pd.to_datetime(["2020-01-01"]))})
    pq.write_table(table, tmp_path / "in.parquet")
    assert BUNDLE.predict_file(src, tmp_path / "a.csv", chunk_rows=chunk_rows).scored == 3
    assert BUNDLE.predict_file(tmp_path / "in.parquet", tmp_path / "b.csv",
                               chunk_rows=chunk_rows).scored == 1


# ---------------------------------------------------------------- real-ish CSV files
@pytest.mark.parametrize("name", ["in.csv", "in.csv.gz"])
def test_bom_crlf_quoted_newlines_and_trailing_blank_lines(tmp_path, name):
    text = ("\ufeffx,n,plan,when,note\r\n" + '1.0,1,a,2020-01-01,"one\r\ntwo"\r\n'
            + '2.0,2,NA,2020-01-02,"x,y"\r\n' + '3.0,abc,b,2020-01-03,"3\n4"\r\n'
            + "4.0,4,b,2020-01-04,\r\n" + "\r\n\r\n")
    data = text.encode("utf-8")
    if name.endswith(".gz"):
        import gzip
        data = gzip.compress(data)
    src = _csv(tmp_path, data, name)
    result = BUNDLE.predict_file(src, tmp_path / "out.csv", chunk_rows=2, keep=["note"])
    out, rej = _rows(result)
    assert (out, rej) == ([0, 1, 3], [2])  # records, not lines; blank lines are no rows
    scored = pd.read_csv(result.dst, keep_default_na=False)
    assert scored["note"].tolist() == ["one\r\ntwo", "x,y", ""]
    assert _rejects(result)[["note", "problems"]].values.tolist() == [
        ["3\n4", "n: text instead of integers"]]


def test_a_semicolon_file_is_a_schema_error_and_writes_nothing(tmp_path):
    src = _csv(tmp_path, "x;n;plan;when\n1.0;1;a;2020-01-01\n")
    with pytest.raises(SchemaError, match="missing column") as info:
        BUNDLE.predict_file(src, tmp_path / "out.csv")
    assert {p["column"] for p in info.value.problems} == {"x", "n", "plan", "when"}
    assert "separated by ';'" in str(info.value)
    assert _names(tmp_path) == ["in.csv"]


@pytest.mark.parametrize(("text", "error"), [
    ("", InputError),  # 0 bytes: no header line
    (GOOD * 3, SchemaError),  # no header line: its first row is taken for one
])
def test_no_header_line(tmp_path, text, error):
    src = _csv(tmp_path, text)
    with pytest.raises(error):
        BUNDLE.predict_file(src, tmp_path / "out.csv")
    assert _names(tmp_path) == ["in.csv"]


def test_header_only_writes_both_headers(tmp_path):
    result = BUNDLE.predict_file(_csv(tmp_path, HEADER), tmp_path / "out.parquet")
    assert (result.rows, result.scored, result.rejected) == (0, 0, 0)
    assert pq.read_schema(result.dst).names == ["row", "prediction", "proba_0", "proba_1",
                                                "model_version"]
    assert pd.read_csv(result.rejects).columns.tolist() == ["row", "x", "n", "plan", "when",
                                                            "problems"]


def test_a_ragged_line_in_the_second_chunk(tmp_path):
    long = HEADER + GOOD * 5 + "1.0,1,a,2020-01-01,EXTRA\n" + GOOD * 3
    (tmp_path / "out.csv").write_text("previous\n")
    with pytest.raises(InputError, match="cannot read"):
        BUNDLE.predict_file(_csv(tmp_path, long), tmp_path / "out.csv", chunk_rows=4)
    assert _names(tmp_path) == ["in.csv", "out.csv"]
    assert (tmp_path / "out.csv").read_text() == "previous\n"
    # a short line: its absent cells are missing values, rejected here (not dropped)
    short = HEADER + GOOD * 5 + "1.0,1\n" + GOOD * 3
    result = BUNDLE.predict_file(_csv(tmp_path, short, "short.csv"), tmp_path / "s.csv",
                                 chunk_rows=4)
    assert _rows(result)[1] == [5]


def test_columns_in_another_order_extra_and_duplicated_extra(tmp_path):
    src = _csv(tmp_path, "z,when,plan,z,n,x\np,2020-01-01,b,q,2,1.5\nr,2020-01-01,b,s,2,x\n")
    result = BUNDLE.predict_file(src, tmp_path / "out.csv", keep=["z.1"])
    assert _rows(result) == ([0], [1])
    expected = BUNDLE.predict_proba(pd.DataFrame(
        {"x": [1.5], "n": [2], "plan": ["b"], "when": pd.to_datetime(["2020-01-01"])}))
    scored = pd.read_csv(result.dst)
    assert scored["z.1"].tolist() == ["q"]
    _same(scored["proba_1"], expected["proba_1"])
    assert _rejects(result).columns.tolist() == ["row", "z", "when", "plan", "z.1", "n", "x",
                                                 "problems"]


def test_missing_markers_under_a_contract_that_knows_them_or_not(tmp_path):
    lines = ["NA", "None", "null", "", '""', "N/A"]
    src = _csv(tmp_path, HEADER + "".join(f"1.0,1,{v},2020-01-01\n" for v in lines))
    result = BUNDLE.predict_file(src, tmp_path / "out.csv", keep=["plan"])
    # the contract knows "NA" (a category): text; the other markers are missing values
    assert pd.read_csv(result.dst, keep_default_na=False)["plan"].tolist() == ["NA"]
    assert _rejects(result)["problems"].unique().tolist() == [
        "plan: missing value where training had none"]
    assert _rows(result)[1] == [1, 2, 3, 4, 5]
    strict = ModelBundle(BUNDLE.model, InputSchema.infer(TRAIN.replace("NA", "b")), version="s")
    result = strict.predict_file(src, tmp_path / "strict.csv")
    assert result.scored == 0
    assert result.rejected == len(lines)


def test_integers_then_one_float_and_odd_numbers(tmp_path):
    body = GOOD * 3000 + "1.0,1.5,a,2020-01-01\n1.0,2.0,a,2020-01-01\n007,007,a,2020-01-01\n" \
        + f"1.0,{10**30},a,2020-01-01\n1e400,1,a,2020-01-01\n-0,-0,a,2020-01-01\n"
    src = _csv(tmp_path, HEADER + body)
    result = BUNDLE.predict_file(src, tmp_path / "out.parquet", chunk_rows=1000)
    rej = _rows(result)[1]
    assert rej == [3000, 3003, 3004]
    problems = _rejects(result)["problems"].tolist()
    assert problems[0] == "n: non-integer value"
    assert problems[1].startswith(("n: value not representable as int64",  # read as text
                                   "n: integer of 2**53 or more"))  # read as float64
    assert problems[2] in {"x: infinite value", "x: text instead of numbers"}  # pandas 3 / 2
    scored = pd.read_parquet(result.dst)
    assert pq.read_schema(result.dst).field("proba_1").type == pa.float64()
    frame = pd.DataFrame({"x": [1.0, 7.0, 0.0], "n": [2, 7, 0], "plan": "a",
                          "when": pd.Timestamp("2020-01-01")})
    expected = BUNDLE.predict_proba(frame)
    _same(scored["proba_1"].to_numpy()[-3:], expected["proba_1"])


def test_dates_in_several_formats(tmp_path):
    dates = ["2020-01-01", "2020-01-01T10:00:00", "2020-01-01 10:00:00.5", "01/02/2020",
             "20200101", "2020-13-01", "2020-01-01T10:00:00Z", "2020-01-01T10:00:00+02:00"]
    src = _csv(tmp_path, HEADER + "".join(f"1.0,1,a,{v}\n" for v in dates))
    result = BUNDLE.predict_file(src, tmp_path / "out.csv", chunk_rows=3)
    out, rej = _rows(result)
    assert out == [0, 1, 2]
    problems = dict(zip(rej, _rejects(result)["problems"], strict=True))
    assert problems == {**dict.fromkeys([3, 4, 5],
                                        "when: text that is not an ISO 8601 date-time"),
                        **dict.fromkeys([6, 7], "when: date-time with a time zone where "
                                                "training had none")}


# ---------------------------------------------------------------- Parquet physical types
_WHEN = pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01"])
_TYPES = {
    "int32": {"n": pa.array([1, 2, 3], pa.int32())},
    "uint8": {"n": pa.array([1, 2, 3], pa.uint8())},
    "float32": {"x": pa.array([1.0, 2.0, 3.0], pa.float32())},
    "large_string": {"plan": pa.array(["a", "b", "NA"], pa.large_string())},
    "dictionary": {"plan": pa.array(["a", "b", "NA"]).dictionary_encode()},
    "timestamp_ms": {"when": pa.array(_WHEN).cast(pa.timestamp("ms"))},
    "date32": {"when": pa.array(_WHEN.date, pa.date32())},
}


@pytest.mark.parametrize("kind", sorted(_TYPES))
def test_parquet_types_other_than_the_contract(tmp_path, kind):
    columns = {"x": pa.array([1.0, 2.0, 3.0]), "n": pa.array([1, 2, 3]),
               "plan": pa.array(["a", "b", "NA"]), "when": pa.array(_WHEN),
               **_TYPES[kind]}
    pq.write_table(pa.table(columns), tmp_path / "in.parquet")
    result = BUNDLE.predict_file(tmp_path / "in.parquet", tmp_path / "out.parquet",
                                 keep=list(_TYPES[kind]))
    assert (result.scored, result.rejected) == (3, 0)
    out = pq.read_table(result.dst)
    name = next(iter(_TYPES[kind]))
    assert out.schema.field(name).type == columns[name].type  # kept as the source's type
    expected = BUNDLE.predict_proba(TRAIN.iloc[:3].assign(x=[1.0, 2.0, 3.0], n=[1, 2, 3],
                                                          plan=["a", "b", "NA"], when=_WHEN))
    _same(out.column("proba_1").to_numpy(), expected["proba_1"])


def test_parquet_time_zones_nullable_integers_and_text_numbers(tmp_path):
    table = pa.table({
        "x": pa.array(["1.0", "2.0", "abc", "4.0"]),  # text where the contract has floats
        "n": pa.array([1, None, 3, 4], pa.int64()),
        "plan": pa.array(["a", "b", "a", "b"]),
        # built by pyarrow: pyarrow 25 reads pandas' tz-aware .values, which pandas 3.1 deprecates
        "when": pa.array([dt.datetime(2020, 1, 1, tzinfo=dt.UTC)] * 4, pa.timestamp("us", "UTC")),
    })
    pq.write_table(table, tmp_path / "in.parquet")
    result = BUNDLE.predict_file(tmp_path / "in.parquet", tmp_path / "out.csv",
                                 rejects=tmp_path / "rej.parquet")
    assert result.scored == 0
    rejects = pq.read_table(result.rejects)
    assert rejects.schema.field("n").type == pa.int64()
    assert rejects.column("problems").to_pylist()[1] == (
        "x: text instead of numbers; n: missing value where training had none; "
        "when: date-time with a time zone where training had none")


def test_many_small_row_groups_are_scored_in_big_chunks(tmp_path):
    n = 3000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.random(n) * 5, "n": rng.integers(1, 7, n),
                          "plan": rng.choice(["a", "b", "NA"], n),
                          "when": pd.Timestamp("2020-03-01")})
    frame.to_parquet(tmp_path / "in.parquet", row_group_size=7, index=False)
    result = BUNDLE.predict_file(tmp_path / "in.parquet", tmp_path / "out.parquet",
                                 chunk_rows=1000)
    assert pq.ParquetFile(result.dst).metadata.num_row_groups == 3  # one per chunk
    out = pd.read_parquet(result.dst)
    assert out["row"].tolist() == list(range(n))
    _same(out["proba_1"], BUNDLE.predict_proba(frame)["proba_1"])


# ---------------------------------------------------------------- paths
def test_dst_spelled_otherwise_or_linked_to_src(tmp_path):
    src = _csv(tmp_path, HEADER + GOOD)
    (tmp_path / "sub").mkdir()
    os.symlink(src, tmp_path / "link.csv")
    for dst, rejects in [(tmp_path / "sub" / ".." / "in.csv", None),
                         (tmp_path / "link.csv", None),
                         (tmp_path / "out.csv", tmp_path / "sub" / ".." / "link.csv"),
                         (tmp_path / "out.csv", tmp_path / "out.csv"),
                         (tmp_path / "out.csv", tmp_path / "sub" / ".." / "out.csv")]:
        with pytest.raises(InputError, match="three different"):
            BUNDLE.predict_file(src, dst, rejects=rejects)
    assert src.read_text() == HEADER + GOOD
    assert _names(tmp_path) == ["in.csv", "link.csv", "sub"]
    # src named like the default reject file of dst
    with pytest.raises(InputError, match="three different"):
        BUNDLE.predict_file(_csv(tmp_path, HEADER + GOOD, "out.rejects.csv"),
                            tmp_path / "out.csv")


def test_a_hard_link_to_src_is_replaced_not_written_through(tmp_path):
    src = _csv(tmp_path, HEADER + GOOD)
    os.link(src, tmp_path / "hard.csv")
    result = BUNDLE.predict_file(src, tmp_path / "hard.csv")  # another name: a new file
    assert src.read_text() == HEADER + GOOD
    assert pd.read_csv(result.dst)["row"].tolist() == [0]


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes in a read-only folder")
def test_dst_in_a_read_only_folder(tmp_path):
    src = _csv(tmp_path, HEADER + GOOD)
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        for kwargs in ({"dst": folder / "o.csv"},
                       {"dst": tmp_path / "o.csv", "rejects": folder / "r.csv"}):
            with pytest.raises(InputError, match="cannot write"):
                BUNDLE.predict_file(src, **kwargs)
    finally:
        folder.chmod(0o755)
    assert _names(tmp_path) == ["in.csv", "ro"]
    assert _names(folder) == []


def test_keep_a_contract_column_is_copied_as_read(tmp_path):
    src = _csv(tmp_path, HEADER + "1.0,1,NA,2020-01-01\n007,3,a,2020-01-01 10:00\n")
    result = BUNDLE.predict_file(src, tmp_path / "out.csv", keep=["plan", "when", "n"])
    out = pd.read_csv(result.dst, keep_default_na=False, dtype=str)
    assert out[["plan", "when", "n"]].values.tolist() == [["NA", "2020-01-01", "1"],
                                                          ["a", "2020-01-01 10:00", "3"]]


# ---------------------------------------------------------------- models
def test_multiclass_text_classes_regressor_and_proba_false(tmp_path):
    labels = np.array(["cat", "dog", "NA", "cat", "dog", "NA"])
    multi = ModelBundle(_pipe(LogisticRegression()).fit(TRAIN, labels),
                        InputSchema.infer(TRAIN), version="m")
    reg = ModelBundle(_pipe(LinearRegression()).fit(TRAIN, Y * 1.5), InputSchema.infer(TRAIN),
                      version="r")
    src = _csv(tmp_path, HEADER + GOOD + "2.5,3,NA,2020-01-01\n3.0,x,b,2020-01-01\n")
    frame = pd.DataFrame({"x": [1.0, 2.5], "n": [1, 3], "plan": ["a", "NA"],
                          "when": pd.to_datetime(["2020-01-01"] * 2)})
    for dst in ("m.csv", "m.parquet"):
        result = multi.predict_file(src, tmp_path / dst)
        out = (pd.read_parquet(result.dst) if dst.endswith("parquet")
               else pd.read_csv(result.dst, keep_default_na=False))
        assert out.columns.tolist() == ["row", "prediction", "proba_NA", "proba_cat",
                                        "proba_dog", "model_version"]
        expected = multi.predict_proba(frame)
        assert out["prediction"].tolist() == expected["prediction"].tolist()
        _same(out[["proba_NA", "proba_cat", "proba_dog"]],
                                      expected[["proba_NA", "proba_cat", "proba_dog"]])
        plain = multi.predict_file(src, tmp_path / f"plain.{dst}", proba=False)
        assert plain.dst.exists()
        assert plain.scored == 2
    assert pq.read_schema(tmp_path / "plain.m.parquet").names == ["row", "prediction",
                                                                  "model_version"]
    for proba in (None, False):
        result = reg.predict_file(src, tmp_path / "r.parquet", proba=proba)
        out = pd.read_parquet(result.dst)
        assert out.columns.tolist() == ["row", "prediction", "model_version"]
        _same(out["prediction"], reg.predict(frame)["prediction"])
    with pytest.raises(InputError, match="predict_proba"):
        reg.predict_file(src, tmp_path / "r2.csv", proba=True)
    assert not (tmp_path / "r2.csv").exists()
    # nothing scored: the empty output keeps its types
    bad = _csv(tmp_path, HEADER + "abc,1,a,2020-01-01\n", "bad.csv")
    assert pq.read_schema(reg.predict_file(bad, tmp_path / "e.parquet").dst).field(
        "prediction").type == pa.float64()
    assert pq.read_schema(multi.predict_file(bad, tmp_path / "e2.parquet").dst).field(
        "prediction").type == pa.string()


# ---------------------------------------------------------------- progress, memory
def test_no_output_at_all_without_progress(tmp_path, capfd):
    src = _csv(tmp_path, HEADER + GOOD * 20 + "abc,1,a,2020-01-01\n")
    BUNDLE.predict_file(src, tmp_path / "out.csv", chunk_rows=3, progress=False)
    assert capfd.readouterr() == ("", "")
    BUNDLE.predict_file(src, tmp_path / "out.csv", chunk_rows=3, progress=True)
    assert "predict_file in.csv" in capfd.readouterr().err


def test_memory_follows_the_chunk_not_the_file(tmp_path):
    import tracemalloc

    n = 20_000
    rng = np.random.default_rng(1)
    pd.DataFrame({"x": rng.random(n) * 5, "n": rng.integers(1, 7, n),
                  "plan": rng.choice(["a", "b", "NA"], n), "when": "2020-03-01",
                  "note": "a line of free text that takes some room"}).to_csv(
        tmp_path / "in.csv", index=False)
    peaks = {}
    for chunk_rows in (500, n):
        tracemalloc.start()
        try:
            BUNDLE.predict_file(tmp_path / "in.csv", tmp_path / "out.csv",
                                chunk_rows=chunk_rows, keep=["note"])
            peaks[chunk_rows] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peaks[500] * 3 < peaks[n]
