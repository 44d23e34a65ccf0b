"""PredictionLog: what is written (known JSON), what reads back (rows, dtypes, order),
rotation, Parquet segments, threads, separate writers, and the parameters it refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mllife import InputError, MissingDependencyError
from mllife.serve import PredictionLog
from mllife.serve import _log as log_module

LOG_COLUMNS = ["scored_at", "request_id", "row", "role", "model_version", "status",
               "latency_ms", "error"]


def _write(log: PredictionLog, rid: str, *, role: str = "champion", status: int = 200,
           inputs: pd.DataFrame | None = None, outputs: pd.DataFrame | None = None,
           **kw: Any) -> None:
    log.write(request_id=rid, role=role, model_version=kw.pop("model_version", "1.0"),
              status=status, latency_ms=kw.pop("latency_ms", 1.0), inputs=inputs,
              outputs=outputs, **kw)


def _lines(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl"))
            for line in path.read_text().splitlines()]


# ----------------------------------------------------------------------------- the record
def test_record_is_the_designed_json_line(tmp_path):
    with PredictionLog(tmp_path) as log:
        _write(log, "order-1", latency_ms=3.21,
               inputs=pd.DataFrame({"age": [31, 40], "plan": ["pro", None]}),
               outputs=pd.DataFrame({"prediction": [1, 0], "proba_0": [0.25, 0.5],
                                     "proba_1": [0.75, 0.5], "model_version": ["1.0", "1.0"]}),
               notes=[{"column": "debug", "problem": "extra column ignored", "count": 2,
                       "rows": np.array([0, 1])}],
               scored_at=pd.Timestamp("2026-11-30 21:00:00.123456"))
    (path,) = tmp_path.glob("*.jsonl")
    assert log_module._NAME.fullmatch(path.name)
    text = path.read_text()
    assert text.endswith("\n")
    assert text.count("\n") == 1
    assert text.isascii()
    assert json.loads(text) == {
        "v": 1, "scored_at": "2026-11-30T21:00:00.123456Z", "request_id": "order-1",
        "role": "champion", "model_version": "1.0", "status": 200, "latency_ms": 3.21,
        "error": "", "n_rows": 2,
        "inputs": {"age": [31, 40], "plan": ["pro", None]},
        "outputs": {"prediction": [1, 0], "proba_0": [0.25, 0.5], "proba_1": [0.75, 0.5]},
        "notes": [{"column": "debug", "problem": "extra column ignored", "count": 2,
                   "rows": [0, 1]}]}


def test_values_of_every_kind_become_json(tmp_path):
    odd = object()
    frame = pd.DataFrame({
        "int": np.array([1, -2, 3], dtype=np.int64),
        "uint": np.array([2**64 - 1, 0, 1], dtype=np.uint64),
        "float": [1.5, np.nan, np.inf],
        "float32": np.array([0.5, -np.inf, 2.0], dtype=np.float32),
        "bool": [True, False, True],
        "Int64": pd.array([1, None, 3], dtype="Int64"),
        "Float64": pd.array([1.5, None, 2.5], dtype="Float64"),
        "boolean": pd.array([True, None, False], dtype="boolean"),
        "string": pd.array(["x", None, "é"], dtype="string"),
        "text": pd.Series(["a", None, "c"], dtype=str),
        "object_text": pd.Series(["a", np.nan, "c"], dtype=object),
        "category": pd.Categorical(["b", None, "a"]),
        "int_category": pd.Categorical([10, 20, None]),
        "many_categories": pd.Categorical(["c7", None, "c99"],
                                          categories=[f"c{i}" for i in range(100)]),
        "naive": pd.to_datetime(["2024-01-01 10:00:00", None, "2024-06-01 00:00:00.5"],
                                format="ISO8601"),
        "aware": pd.to_datetime(["2024-01-01 10:00", None, "2024-07-01 02:00"]
                                ).tz_localize("Europe/Paris"),
        "delta": pd.to_timedelta(["1s", None, "-1D 2h 0.5s"]),
        "nat_only": pd.Series([pd.NaT] * 3, dtype="datetime64[ns]"),
        "bytes": pd.Series([b"ab", b"\xff", None], dtype=object),
        "objects": pd.Series([odd, [1, 2], {"a": 1}], dtype=object),
        "mixed": pd.Series(["a", 1, pd.NA], dtype=object),
        "object_float": pd.Series([1.5, float("nan"), float("-inf")], dtype=object),
        "numpy_scalars": pd.Series([np.int64(7), np.float64(0.5), np.bool_(True)], dtype=object),
        "py_datetimes": pd.Series([datetime(2024, 1, 1, 12), datetime(2024, 1, 1, tzinfo=UTC),
                                   pd.NaT], dtype=object),
        "complex": np.array([1j, 2, 3]),
        3: [7, 8, 9],  # a non-text column name is written as its text
    })
    with PredictionLog(tmp_path) as log:
        _write(log, "r", inputs=frame)
    (record,) = _lines(tmp_path)
    assert record["inputs"] == {
        "int": [1, -2, 3], "uint": [2**64 - 1, 0, 1], "float": [1.5, None, None],
        "float32": [0.5, None, 2.0], "bool": [True, False, True], "Int64": [1, None, 3],
        "Float64": [1.5, None, 2.5], "boolean": [True, None, False],
        "string": ["x", None, "é"], "text": ["a", None, "c"], "object_text": ["a", None, "c"],
        "category": ["b", None, "a"], "int_category": [10, 20, None],
        "many_categories": ["c7", None, "c99"],
        "naive": ["2024-01-01T10:00:00.000000", None, "2024-06-01T00:00:00.500000"],
        "aware": ["2024-01-01T09:00:00Z", None, "2024-07-01T00:00:00Z"],
        "delta": ["P0DT0H0M1S", None, "-P1DT2H0M0.5S"],
        "nat_only": [None, None, None], "bytes": ["ab", "\ufffd", None],
        "objects": [None, None, None], "mixed": ["a", 1, None],
        "object_float": [1.5, None, None], "numpy_scalars": [7, 0.5, True],
        "py_datetimes": ["2024-01-01T12:00:00", "2024-01-01T00:00:00Z", None],
        "complex": [None, None, None], "3": [7, 8, 9]}
    # the texts read back into the values they came from
    assert pd.to_timedelta(record["inputs"]["delta"]).equals(pd.TimedeltaIndex(frame["delta"]))
    back = pd.to_datetime(record["inputs"]["aware"], utc=True, format="ISO8601")
    assert back.equals(pd.DatetimeIndex(frame["aware"]).tz_convert("UTC"))
    naive = pd.to_datetime(record["inputs"]["naive"], format="ISO8601")
    assert naive.tz is None
    assert naive.equals(pd.DatetimeIndex(frame["naive"]))


def test_whole_second_datetimes_and_nanoseconds(tmp_path):
    frame = pd.DataFrame({
        "seconds": pd.to_datetime(["2024-01-01 10:00:00", "1999-12-31 23:59:59"]),
        "nanos": pd.to_datetime(["2024-01-01 10:00:00.000000001", "2024-01-01"],
                                format="ISO8601").astype("datetime64[ns]")})
    with PredictionLog(tmp_path) as log:
        _write(log, "r", inputs=frame)
    (record,) = _lines(tmp_path)
    assert record["inputs"]["seconds"] == ["2024-01-01T10:00:00", "1999-12-31T23:59:59"]
    assert record["inputs"]["nanos"] == ["2024-01-01T10:00:00.000000001",
                                         "2024-01-01T00:00:00.000000000"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(-2**62, 2**62), st.floats(allow_nan=True),
                          st.booleans(), st.text(max_size=12), st.booleans()),
                min_size=1, max_size=12))
def test_round_trip_of_random_rows(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("log")
    ints, floats, flags, texts, missing = (list(c) for c in zip(*rows, strict=True))
    texts = [t.encode("utf-8", "replace").decode("utf-8") for t in texts]  # no lone surrogates
    frame = pd.DataFrame({"i": ints, "f": floats, "b": flags,
                          "s": pd.Series([None if m else t for t, m in zip(texts, missing,
                                                                             strict=True)],
                                         dtype=object)})
    with PredictionLog(folder) as log:
        _write(log, "r", inputs=frame, outputs=pd.DataFrame({"prediction": ints}))
    back = PredictionLog.read(folder)
    assert back["row"].tolist() == list(range(len(rows)))
    assert back["i"].tolist() == ints
    assert back["prediction"].tolist() == ints
    expected = np.where(np.isfinite(floats), floats, np.nan)
    np.testing.assert_array_equal(back["f"].to_numpy(dtype=float), expected)
    assert back["b"].tolist() == flags
    expected_s = [None if m else t for t, m in zip(texts, missing, strict=True)]
    if all(missing):  # a column without any value in the rows read is left out
        assert "s" not in back.columns
    else:
        assert [None if pd.isna(v) else v for v in back["s"].tolist()] == expected_s


# ----------------------------------------------------------------------------- reading
def test_read_rows_dtypes_and_filters(tmp_path):
    t0 = pd.Timestamp("2026-01-05 12:00", tz="UTC")
    inputs = pd.DataFrame({"age": [30, 41, 52], "plan": ["a", "b", "a"]})
    outputs = pd.DataFrame({"prediction": [0, 1, 1], "proba_0": [0.9, 0.4, 0.1],
                            "proba_1": [0.1, 0.6, 0.9]})
    with PredictionLog(tmp_path) as log:
        _write(log, "a", inputs=inputs, outputs=outputs, latency_ms=5, scored_at=t0)
        _write(log, "a", role="shadow", model_version="2.0", inputs=inputs.iloc[:1],
               outputs=outputs.iloc[:1], latency_ms=7.5, scored_at=t0)
        _write(log, "b", status=422, error="schema", n_rows=4, latency_ms=0.5,
               scored_at=t0 + pd.Timedelta("1s"),
               notes=[{"column": "age", "problem": "text instead of integers", "count": 4}])
        _write(log, "c", role="challenger", model_version="2.0", inputs=inputs.iloc[2:],
               outputs=outputs.iloc[2:], latency_ms=2, scored_at=t0 + pd.Timedelta("2s"))
    frame = PredictionLog.read(tmp_path)
    assert frame.columns.tolist() == [*LOG_COLUMNS, "age", "plan", "prediction", "proba_0",
                                      "proba_1"]
    assert frame["request_id"].tolist() == ["a", "a", "a", "c"]
    assert frame["row"].tolist() == [0, 1, 2, 0]
    assert frame["role"].tolist() == ["champion"] * 3 + ["challenger"]
    assert str(frame["scored_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["scored_at"].iloc[0] == t0
    assert frame["status"].dtype == np.int64
    assert frame["row"].dtype == np.int64
    assert frame["latency_ms"].dtype == np.float64
    assert frame["latency_ms"].tolist() == [5.0, 5.0, 5.0, 2.0]
    assert frame["error"].tolist() == [""] * 4
    assert frame["age"].dtype == np.int64
    assert frame["age"].tolist() == [30, 41, 52, 52]
    assert pd.api.types.is_string_dtype(frame["plan"].dtype)
    assert frame["proba_1"].tolist() == [0.1, 0.6, 0.9, 0.9]
    assert frame.attrs["skipped_lines"] == 0
    assert frame.attrs["segments"] == 1

    everything = PredictionLog.read(tmp_path, shadow=True, failed=True)
    assert everything["request_id"].tolist() == ["a"] * 4 + ["b", "c"]
    assert everything["role"].tolist()[3] == "shadow"
    failed = everything[everything["status"] != 200]
    assert failed["row"].tolist() == [-1]
    assert failed["error"].tolist() == ["schema"]
    assert failed[["age", "prediction"]].isna().all(axis=None)
    assert len(PredictionLog.read(tmp_path, shadow=True)) == 5
    assert len(PredictionLog.read(tmp_path, failed=True)) == 5


def test_segments_with_other_columns_are_aligned(tmp_path):
    with PredictionLog(tmp_path, rotate_rows=1) as log:
        _write(log, "v1", inputs=pd.DataFrame({"x": [1.5]}),
               outputs=pd.DataFrame({"prediction": ["no"], "proba_no": [0.8],
                                     "proba_yes": [0.2]}))
        _write(log, "v2", model_version="2.0", inputs=pd.DataFrame({"x": [2.5], "z": ["new"]}),
               outputs=pd.DataFrame({"prediction": ["maybe"], "proba_maybe": [0.5],
                                     "proba_no": [0.3], "proba_yes": [0.2]}))
    assert len(list(tmp_path.glob("*.jsonl"))) == 2
    frame = PredictionLog.read(tmp_path)
    assert frame.columns.tolist() == [*LOG_COLUMNS, "x", "z", "prediction", "proba_no",
                                      "proba_yes", "proba_maybe"]
    assert frame["x"].tolist() == [1.5, 2.5]
    assert pd.isna(frame["z"].iloc[0])
    assert frame["z"].iloc[1] == "new"
    assert np.isnan(frame["proba_maybe"].iloc[0])
    assert frame["proba_maybe"].iloc[1] == 0.5


def test_columns_only_left_out_rows_have_are_not_returned(tmp_path):
    with PredictionLog(tmp_path) as log:
        _write(log, "a", inputs=pd.DataFrame({"x": [1.0]}),
               outputs=pd.DataFrame({"prediction": [0], "proba_0": [1.0]}))
        _write(log, "a", role="shadow", inputs=pd.DataFrame({"x": [1.0], "extra": [3]}),
               outputs=pd.DataFrame({"prediction": ["k"], "proba_k": [1.0]}))
    assert PredictionLog.read(tmp_path).columns.tolist() == [*LOG_COLUMNS, "x", "prediction",
                                                             "proba_0"]
    assert "proba_k" in PredictionLog.read(tmp_path, shadow=True).columns


def test_inputs_named_like_log_columns_are_renamed(tmp_path):
    inputs = pd.DataFrame({"status": ["gold"], "prediction": [3], "row": [9], "input.row": [1]})
    with PredictionLog(tmp_path) as log:
        _write(log, "a", inputs=inputs, outputs=pd.DataFrame({"prediction": [1]}))
    frame = PredictionLog.read(tmp_path)
    assert frame.columns.tolist() == [*LOG_COLUMNS, "input.status", "input.prediction",
                                      "input.input.row", "input.row", "prediction"]
    again = inputs[["input.row", "row"]]  # the order of the columns changes no name
    with PredictionLog(tmp_path / "again") as log:
        _write(log, "a", inputs=again)
    assert PredictionLog.read(tmp_path / "again").columns.tolist()[8:] == [
        "input.row", "input.input.row"]
    assert frame["status"].tolist() == [200]
    assert frame["input.status"].tolist() == ["gold"]
    assert frame["input.input.row"].tolist() == [9]
    assert frame["input.row"].tolist() == [1]


def test_include_inputs_false_and_a_single_segment(tmp_path):
    with PredictionLog(tmp_path, include_inputs=False) as log:
        _write(log, "a", inputs=pd.DataFrame({"x": [1, 2]}),
               outputs=pd.DataFrame({"prediction": [0, 1]}))
    (segment,) = tmp_path.glob("*.jsonl")
    assert _lines(tmp_path)[0]["inputs"] is None
    frame = PredictionLog.read(segment)
    assert frame.columns.tolist() == [*LOG_COLUMNS, "prediction"]
    assert len(frame) == 2


def test_empty_folder_gives_the_log_columns(tmp_path):
    frame = PredictionLog.read(tmp_path)
    assert frame.columns.tolist() == LOG_COLUMNS
    assert len(frame) == 0
    assert str(frame["scored_at"].dtype) == "datetime64[ns, UTC]"
    assert frame["status"].dtype == np.int64
    assert frame["latency_ms"].dtype == np.float64
    (tmp_path / "notes.txt").write_text("not a segment\n")
    assert len(PredictionLog.read(tmp_path).columns) == 8


def test_read_order_is_file_name_then_line(tmp_path):
    first = tmp_path / "predictions-20260101T000000000000-99-000001.jsonl"
    second = tmp_path / "predictions-20260101T000000000000-100-000001.jsonl"
    line = ('{{"v":1,"scored_at":"2026-01-01T00:00:00Z","request_id":"{}","role":"champion",'
            '"model_version":"1","status":200,"latency_ms":1,"error":"","n_rows":1,'
            '"inputs":{{"x":[{}]}},"outputs":null,"notes":[]}}\n')
    second.write_text(line.format("c", 3))
    first.write_text(line.format("a", 1) + line.format("b", 2))
    frame = PredictionLog.read(tmp_path)
    assert frame["request_id"].tolist() == ["a", "b", "c"]  # pid 99 before pid 100


# ----------------------------------------------------------------------------- writing
def test_rotation_by_rows_and_requests_never_split(tmp_path):
    with PredictionLog(tmp_path, rotate_rows=5) as log:
        for i in range(4):
            _write(log, f"r{i}", inputs=pd.DataFrame({"x": range(3)}))
        _write(log, "big", inputs=pd.DataFrame({"x": range(12)}))
        _write(log, "failed", status=500, error="model", n_rows=0)
    segments = sorted(tmp_path.glob("*.jsonl"))
    per_segment = [[r["request_id"] for r in map(json.loads, p.read_text().splitlines())]
                   for p in segments]
    assert per_segment == [["r0", "r1"], ["r2", "r3"], ["big"], ["failed"]]
    assert PredictionLog.read(tmp_path)["request_id"].value_counts().to_dict() == {
        "big": 12, "r0": 3, "r1": 3, "r2": 3, "r3": 3}


def test_parquet_segments_read_like_jsonl(tmp_path):
    pytest.importorskip("pyarrow")
    jsonl, parquet = tmp_path / "jsonl", tmp_path / "parquet"
    t0 = pd.Timestamp("2026-02-01", tz="UTC")
    for folder, fmt in ((jsonl, "jsonl"), (parquet, "parquet")):
        with PredictionLog(folder, rotate_rows=4, format=fmt) as log:
            for i in range(5):
                _write(log, f"r{i}", latency_ms=i / 3, scored_at=t0 + pd.Timedelta(seconds=i),
                       inputs=pd.DataFrame({"x": [i, i + 1], "s": ["a", None],
                                            "f": [0.5, np.nan]}),
                       outputs=pd.DataFrame({"prediction": ["y", "n"], "proba_n": [0.1, 0.9],
                                             "proba_y": [0.9, 0.1]}),
                       notes=[{"column": "f", "problem": "p", "count": 1, "rows": [1]}])
            _write(log, "s", role="shadow", inputs=pd.DataFrame({"x": [0]}), scored_at=t0,
                   outputs=pd.DataFrame({"prediction": ["y"], "proba_y": [1.0]}))
            live = log._segment
            assert live is not None
            assert live.suffix == ".jsonl"  # the live one stays JSONL
            assert len(list(folder.glob("*.jsonl"))) == (1 if fmt == "parquet" else 3)
            if fmt == "parquet":  # converted segments and the live one read together
                pd.testing.assert_frame_equal(PredictionLog.read(parquet, shadow=True),
                                              PredictionLog.read(jsonl, shadow=True))
            _write(log, "bad", status=422, error="schema", n_rows=2, scored_at=t0)
    assert not list(parquet.glob("*.jsonl"))
    assert len(list(parquet.glob("*.parquet"))) == 3
    for kw in ({}, {"shadow": True, "failed": True}):
        a, b = PredictionLog.read(jsonl, **kw), PredictionLog.read(parquet, **kw)
        pd.testing.assert_frame_equal(a, b)
    raw = pd.read_parquet(sorted(parquet.glob("*.parquet"))[0])
    assert raw.columns.tolist() == [*LOG_COLUMNS, "n_rows", "notes", "input.x", "input.s",
                                    "input.f", "output.prediction", "output.proba_n",
                                    "output.proba_y"]
    assert json.loads(raw["notes"].iloc[0]) == [{"column": "f", "problem": "p", "count": 1,
                                                 "rows": [1]}]
    # a reader that lists the folder mid-conversion sees both files: the Parquet one wins
    stem = sorted(parquet.glob("*.parquet"))[0]
    (jsonl_twin := stem.with_suffix(".jsonl")).write_text("")
    assert len(PredictionLog.read(parquet)) == len(PredictionLog.read(jsonl))
    jsonl_twin.unlink()


def test_parquet_needs_pyarrow(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now raises ImportError
    with pytest.raises(MissingDependencyError, match="pip install pyarrow"):
        PredictionLog(tmp_path, format="parquet")


def test_fsync_after_every_line(tmp_path, monkeypatch):
    calls: list[int] = []
    real = log_module.os.fsync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(log_module.os, "fsync", counting)
    with PredictionLog(tmp_path / "sync", fsync=True) as log:
        for i in range(3):
            _write(log, f"r{i}")
    with PredictionLog(tmp_path / "nosync") as log:
        _write(log, "r")
    assert len(calls) == 3


def _writer(log: PredictionLog, t: int, errors: list[BaseException]) -> None:
    try:
        for i in range(200):
            _write(log, f"t{t}-{i}", inputs=pd.DataFrame({"t": [t], "i": [i]}),
                   outputs=pd.DataFrame({"prediction": [i % 2]}))
    except BaseException as exc:  # pragma: no cover - reported by the test
        errors.append(exc)


def test_threads_write_every_record_once(tmp_path):
    pytest.importorskip("pyarrow")
    for fmt in ("jsonl", "parquet"):
        folder = tmp_path / fmt
        log = PredictionLog(folder, rotate_rows=97, format=fmt)
        errors: list[BaseException] = []
        threads = [threading.Thread(target=_writer, args=(log, t, errors)) for t in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        log.close()
        assert not errors
        frame = PredictionLog.read(folder)
        assert len(frame) == 1600
        assert frame["request_id"].is_unique
        assert sorted(frame["request_id"]) == sorted(f"t{t}-{i}" for t in range(8)
                                                     for i in range(200))
        assert (frame["request_id"] == frame["t"].astype(str) .radd("t")
                .str.cat(frame["i"].astype(str), sep="-")).all()
        assert frame.attrs["skipped_lines"] == 0
        for t in range(8):  # one thread's records keep its order
            assert frame.loc[frame["t"] == t, "i"].tolist() == list(range(200))


def test_two_logs_on_one_folder_never_share_a_file(tmp_path, monkeypatch):
    fixed = datetime(2026, 11, 30, 21, 0, 0, 0, tzinfo=UTC)
    monkeypatch.setattr(log_module, "_utc_now", lambda: fixed)  # both pick the same name
    a, b = PredictionLog(tmp_path, rotate_rows=2), PredictionLog(tmp_path, rotate_rows=2)
    for i in range(6):
        _write(a, f"a{i}", inputs=pd.DataFrame({"x": [i]}))
        _write(b, f"b{i}", inputs=pd.DataFrame({"x": [i]}))
    a.close()
    b.close()
    files = sorted(tmp_path.glob("*.jsonl"))
    assert len(files) == 6
    for path in files:
        owners = {json.loads(line)["request_id"][0] for line in path.read_text().splitlines()}
        assert len(owners) == 1
    assert sorted(PredictionLog.read(tmp_path)["request_id"]) == sorted(
        [f"a{i}" for i in range(6)] + [f"b{i}" for i in range(6)])


def test_close_is_idempotent_and_final(tmp_path):
    log = PredictionLog(tmp_path)
    assert log.path == tmp_path
    assert "open" in repr(log)
    log.close()
    log.close()
    assert "closed" in repr(log)
    assert not list(tmp_path.iterdir())  # no empty segment
    with pytest.raises(InputError, match="closed"):
        _write(log, "late")


@pytest.mark.parametrize(("kw", "match"), [
    ({"rotate_rows": 0}, "rotate_rows"), ({"rotate_rows": True}, "rotate_rows"),
    ({"rotate_rows": 2.5}, "rotate_rows"), ({"format": "csv"}, "format"),
    ({"fsync": 1}, "fsync"), ({"include_inputs": "yes"}, "include_inputs"),
])
def test_bad_parameters(tmp_path, kw, match):
    with pytest.raises(InputError, match=match):
        PredictionLog(tmp_path, **kw)


def test_bad_paths(tmp_path):
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(InputError, match="is a file"):
        PredictionLog(file)
    with pytest.raises(InputError, match="folder path"):
        PredictionLog(3)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no prediction log"):
        PredictionLog.read(tmp_path / "missing")
    with pytest.raises(InputError, match="not a log segment"):
        PredictionLog.read(file)
    with pytest.raises(InputError, match="shadow"):
        PredictionLog.read(tmp_path, shadow="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize(("kw", "match"), [
    ({"role": "canary"}, "role"), ({"status": 99}, "status"), ({"status": True}, "status"),
    ({"latency_ms": "fast"}, "latency_ms"), ({"request_id": 5}, "request_id"),
    ({"request_id": "x" * 5000}, "request_id"), ({"error": None}, "error"),
    ({"inputs": {"x": [1]}}, "inputs"), ({"n_rows": -1}, "n_rows"),
    ({"inputs": pd.DataFrame({"x": [1, 2]}), "outputs": pd.DataFrame({"p": [1]})}, "disagree"),
    ({"inputs": pd.DataFrame({"x": [1, 2]}), "n_rows": 3}, "disagree"),
    ({"notes": "text"}, "notes"), ({"notes": [3]}, "note"),
    ({"scored_at": "2026-01-01"}, "scored_at"), ({"scored_at": pd.NaT}, "NaT"),
])
def test_bad_write_arguments(tmp_path, kw, match):
    with PredictionLog(tmp_path) as log:
        args = {"request_id": "r", "role": "champion", "model_version": "1", "status": 200,
                "latency_ms": 1.0, **kw}
        with pytest.raises(InputError, match=match):
            log.write(**args)
    assert not list(tmp_path.glob("*.jsonl"))  # nothing half-written


def test_inputs_are_not_mutated(tmp_path):
    frame = pd.DataFrame({"f": [np.nan, 1.0], "c": pd.Categorical(["a", None])})
    before = frame.copy()
    with PredictionLog(tmp_path) as log:
        _write(log, "r", inputs=frame, outputs=frame)
    pd.testing.assert_frame_equal(frame, before)


def test_latency_and_time_edge_values(tmp_path):
    with PredictionLog(tmp_path) as log:
        one = pd.DataFrame({"prediction": [1]})  # an answered record carries its rows
        _write(log, "nan", latency_ms=float("nan"), outputs=one,
               scored_at=pd.Timestamp("2026-03-01 12:00", tz="Europe/Paris"))
        _write(log, "int", latency_ms=np.int32(4), outputs=one)
    records = _lines(tmp_path)
    assert records[0]["latency_ms"] is None
    assert records[1]["latency_ms"] == 4.0
    assert records[0]["scored_at"] == "2026-03-01T11:00:00.000000Z"
    frame = PredictionLog.read(tmp_path)
    assert np.isnan(frame["latency_ms"].iloc[0])


def test_works_without_the_serve_extra(tmp_path):
    code = f"""
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("fastapi", "uvicorn", "prometheus_client", "starlette"):
            raise ImportError(name)
sys.meta_path.insert(0, Block())
import pandas as pd
from mllife.serve import PredictionLog
with PredictionLog({str(tmp_path)!r}) as log:
    log.write(request_id="r", role="champion", model_version="1", status=200, latency_ms=1.0,
              inputs=pd.DataFrame({{"x": [1]}}))
assert PredictionLog.read({str(tmp_path)!r})["x"].tolist() == [1]
assert not any(m.split(".")[0] in ("fastapi", "uvicorn", "prometheus_client", "starlette")
               for m in sys.modules)
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_values_parquet_cannot_hold_keep_the_segment_as_jsonl(tmp_path, caplog):
    pytest.importorskip("pyarrow")
    with caplog.at_level("WARNING", logger="mllife.serve"), \
            PredictionLog(tmp_path, format="parquet") as log:
        _write(log, "a", inputs=pd.DataFrame({"x": [1]}))
        _write(log, "b", inputs=pd.DataFrame({"x": ["text"]}))  # one column, two types
    assert "could not be converted" in caplog.text
    assert not list(tmp_path.glob("*.parquet"))
    assert PredictionLog.read(tmp_path)["x"].tolist() == [1, "text"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process:DeprecationWarning")
def test_a_forked_child_writes_its_own_segment(tmp_path):
    log = PredictionLog(tmp_path)
    _write(log, "parent-1", inputs=pd.DataFrame({"x": [1]}))
    pid = os.fork()
    if pid == 0:  # the child: one record, then leave without running the parent's cleanup
        code = 0
        try:
            _write(log, "child", inputs=pd.DataFrame({"x": [2]}))
            log.close()
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    _write(log, "parent-2", inputs=pd.DataFrame({"x": [3]}))
    log.close()
    owners = {p.name: [r["request_id"] for r in map(json.loads, p.read_text().splitlines())]
              for p in tmp_path.glob("*.jsonl")}
    assert sorted(owners.values()) == [["child"], ["parent-1", "parent-2"]]
    child_file = next(name for name, ids in owners.items() if ids == ["child"])
    assert f"-{pid}-" in child_file
