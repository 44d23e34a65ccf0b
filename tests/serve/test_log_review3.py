"""PredictionLog, third review: what write() accepts read() returns, however large (UTF-8
lines, inputs left out past the line limit, refusal past it), and tiny hostile records that
announced millions of rows they do not hold."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mllife import InputError
from mllife.serve import PredictionLog
from mllife.serve import _log as log_module

NOTE = "inputs not logged: record over the line limit"


def _write(log: PredictionLog, rid: str = "r", *, status: int = 200, **kw: Any) -> None:
    args: dict[str, Any] = {"role": "champion", "model_version": "1", "latency_ms": 1.0}
    args.update(kw)
    log.write(request_id=rid, status=status, **args)


def _lines(folder: Path) -> list[bytes]:
    return [line for path in sorted(folder.glob("*.jsonl"))
            for line in path.read_bytes().splitlines()]


def _record(rid: str = "r", **over: Any) -> dict[str, Any]:
    record = {"v": 1, "scored_at": "2026-11-30T21:00:00.000001Z", "request_id": rid,
              "role": "champion", "model_version": "1", "status": 200, "latency_ms": 1.5,
              "error": "", "n_rows": 2, "inputs": {"x": [1, 2]},
              "outputs": {"prediction": [0, 1]}, "notes": []}
    record.update(over)
    return record


def _segment(folder: Path, *records: dict[str, Any], seq: int = 1) -> Path:
    path = folder / f"predictions-20261130T210000000000-4242-{seq:06d}.jsonl"
    path.write_bytes(b"".join((json.dumps(r) + "\n").encode() for r in records))
    return path


# ----------------------------------------------------------------------------- 1. large lines
def test_non_ascii_text_is_utf8_and_reads_back_exactly(tmp_path):
    text = ["é" * 50, "😀 ü", "\udc80 lone", "ok"]  # a lone surrogate UTF-8 cannot hold
    with PredictionLog(tmp_path) as log:
        _write(log, "a", inputs=pd.DataFrame({"t": pd.Series(text, dtype=object)}),
               outputs=pd.DataFrame({"prediction": pd.Series(["é", "b", "\ud800", "d"],
                                                             dtype=object)}))
    (line,) = _lines(tmp_path)
    assert ("é" * 50).encode() in line  # 2 bytes a character, not the 6 of \u00e9
    assert b"\\udc80 lone" in line
    assert b"\\ud800" in line
    line.decode("utf-8")  # strict: raises on anything but UTF-8
    frame = PredictionLog.read(tmp_path)
    assert frame["t"].tolist() == text
    assert frame["prediction"].tolist() == ["é", "b", "\ud800", "d"]
    assert frame.attrs["skipped_lines"] == 0


def test_the_reported_request_of_72_mb_is_read_back(tmp_path):
    rows = 2_000
    inputs = pd.DataFrame({"text": ["é" * 6_000] * rows})
    with PredictionLog(tmp_path) as log:
        _write(log, "big", inputs=inputs, outputs=pd.DataFrame({"prediction": np.arange(rows)}))
    (line,) = _lines(tmp_path)
    assert len(line) < log_module.MAX_LINE_BYTES  # 24 MB of UTF-8, was 72 MB of \u escapes
    frame = PredictionLog.read(tmp_path)
    assert len(frame) == rows
    assert frame.attrs["skipped_lines"] == 0
    assert (frame["text"] == "é" * 6_000).all()


def _big(rows: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (pd.DataFrame({"text": ["é" * 30] * rows, "x": np.arange(rows)}),
            pd.DataFrame({"prediction": np.arange(rows) % 2}))


def test_a_record_over_the_line_limit_is_kept_without_its_inputs(tmp_path, monkeypatch):
    monkeypatch.setattr(log_module, "MAX_LINE_BYTES", 1_000)
    inputs, outputs = _big()
    with PredictionLog(tmp_path) as log:
        _write(log, "big", inputs=inputs, outputs=outputs,
               notes=[{"column": "x", "problem": "extra column ignored", "count": 1}])
        _write(log, "small", inputs=inputs[:1], outputs=outputs[:1])
    big, small = (json.loads(line) for line in _lines(tmp_path))
    assert big["inputs"] is None
    assert big["outputs"] == {"prediction": [0, 1] * 20}
    assert big["notes"][0]["problem"] == "extra column ignored"
    assert big["notes"][1]["column"] is None
    assert big["notes"][1]["problem"] == NOTE
    assert big["notes"][1]["count"] == 40
    assert big["notes"][1]["bytes"] > 1_000
    assert small["inputs"] == {"text": ["é" * 30], "x": [0]}
    frame = PredictionLog.read(tmp_path)
    assert frame.attrs["skipped_lines"] == 0
    assert frame["request_id"].tolist() == ["big"] * 40 + ["small"]
    assert frame["prediction"].tolist() == [0, 1] * 20 + [0]
    assert frame["text"].isna().tolist() == [True] * 40 + [False]


def test_the_line_limit_boundary_on_write(tmp_path, monkeypatch):
    inputs, outputs = _big(5)
    with PredictionLog(tmp_path / "probe") as log:
        _write(log, "r", inputs=inputs, outputs=outputs, scored_at=pd.Timestamp("2026-01-01"))
    (probe,) = _lines(tmp_path / "probe")
    for limit, whole in ((len(probe), True), (len(probe) - 1, False)):  # without the newline
        monkeypatch.setattr(log_module, "MAX_LINE_BYTES", limit)
        with PredictionLog(tmp_path / str(limit)) as log:
            _write(log, "r", inputs=inputs, outputs=outputs,
                   scored_at=pd.Timestamp("2026-01-01"))
        (line,) = _lines(tmp_path / str(limit))
        assert (line == probe) is whole
        assert len(line) <= limit
        frame = PredictionLog.read(tmp_path / str(limit))
        assert len(frame) == 5
        assert frame.attrs["skipped_lines"] == 0
        assert ("text" in frame) is whole


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_a_record_too_long_even_without_inputs_is_refused(tmp_path, monkeypatch, fmt):
    pytest.importorskip("pyarrow")
    monkeypatch.setattr(log_module, "MAX_LINE_BYTES", 1_000)
    inputs, _ = _big()
    long_outputs = pd.DataFrame({"prediction": ["é" * 30] * 40})
    with PredictionLog(tmp_path, format=fmt) as log:
        _write(log, "before", inputs=inputs[:1], outputs=long_outputs[:1])
        with pytest.raises(InputError, match=r"'huge' is .* bytes without its inputs"):
            _write(log, "huge", inputs=inputs, outputs=long_outputs)
        with pytest.raises(InputError, match="at most 1_000 bytes"):  # no inputs to leave out
            _write(log, "notes", n_rows=1, outputs=long_outputs[:1],
                   notes=[{"column": "c", "problem": "é" * 600}])
        _write(log, "after", inputs=inputs[:1], outputs=long_outputs[:1])
    frame = PredictionLog.read(tmp_path)
    assert frame["request_id"].tolist() == ["before", "after"]  # nothing half-written
    assert frame.attrs["skipped_lines"] == 0
    assert frame.attrs["skipped_segments"] == []


def test_include_inputs_false_records_over_the_limit_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(log_module, "MAX_LINE_BYTES", 300)
    with PredictionLog(tmp_path, include_inputs=False) as log, \
            pytest.raises(InputError, match=r"is \d+ bytes; expected"):  # no inputs to drop
        _write(log, "r", outputs=pd.DataFrame({"prediction": ["x" * 400]}))
    assert PredictionLog.read(tmp_path).empty


def test_invalid_utf8_in_a_line_is_skipped_and_counted(tmp_path):
    path = _segment(tmp_path, _record("a"))
    bad = json.dumps(_record("b", inputs={"x": ["@@", "ok"]})).encode().replace(b"@@", b"\xff\xfe")
    path.write_bytes(path.read_bytes() + bad + b"\n" + (json.dumps(_record("c")) + "\n").encode())
    frame = PredictionLog.read(tmp_path)
    assert frame["request_id"].unique().tolist() == ["a", "c"]
    assert frame.attrs["skipped_lines"] == 1


# ----------------------------------------------------------------------------- 2. expansion
@pytest.mark.parametrize("frames", [
    {"inputs": None, "outputs": None},
    {"inputs": {}, "outputs": {}},
    {"inputs": None, "outputs": {}},
], ids=["null", "empty", "empty-outputs"])
@pytest.mark.parametrize("role", ["champion", "shadow"])
def test_an_answered_record_without_values_does_not_expand(tmp_path, frames, role):
    _segment(tmp_path, _record("a"), _record("hostile", n_rows=10_000_000, role=role, **frames),
             _record("b"))
    frame = PredictionLog.read(tmp_path, shadow=True, failed=True)
    assert frame["request_id"].tolist() == ["a", "a", "b", "b"]
    assert frame.attrs["skipped_records"] == 1
    assert frame.attrs["skipped_lines"] == 1


def test_answered_records_backed_by_outputs_or_inputs_are_read(tmp_path):
    _segment(tmp_path, _record("out", inputs=None), _record("in", outputs=None),
             _record("none", n_rows=0, inputs=None, outputs=None))
    frame = PredictionLog.read(tmp_path)
    assert frame["request_id"].tolist() == ["out", "out", "in", "in"]
    assert frame.attrs["skipped_records"] == 0


def test_a_failed_record_is_one_row_whatever_its_n_rows(tmp_path):
    _segment(tmp_path, _record("a"),
             _record("f", status=413, error="too_large", n_rows=10_000_000, inputs=None,
                     outputs=None),
             _record("s", status=500, error="model", role="shadow", n_rows=9_999_999,
                     inputs=None, outputs=None))
    frame = PredictionLog.read(tmp_path, shadow=True, failed=True)
    assert frame["request_id"].tolist() == ["a", "a", "f", "s"]
    assert frame["row"].tolist() == [0, 1, -1, -1]
    assert PredictionLog.read(tmp_path)["request_id"].tolist() == ["a", "a"]


def test_write_refuses_an_answered_record_read_would_skip(tmp_path):
    with PredictionLog(tmp_path) as log:
        with pytest.raises(InputError, match="3 rows without an output column"):
            _write(log, "a", n_rows=3)
        with pytest.raises(InputError, match="output column"):
            _write(log, "b", outputs=pd.DataFrame(index=range(2)))
        _write(log, "ok", n_rows=0)  # no rows: nothing to back
        _write(log, "failed", status=500, error="model", n_rows=3)  # one row on read
    with PredictionLog(tmp_path / "no-inputs", include_inputs=False) as log, \
            pytest.raises(InputError, match=r"\(include_inputs=False\)"):
        _write(log, "c", inputs=pd.DataFrame({"x": [1]}))
    frame = PredictionLog.read(tmp_path, failed=True)
    assert frame["request_id"].tolist() == ["failed"]
    assert frame.attrs["skipped_lines"] == 0


def test_a_jsonl_segment_of_more_rows_than_a_log_writes_is_refused(tmp_path, monkeypatch):
    rows = [_record(f"r{i}", n_rows=3, inputs={"x": [1, 2, 3]}, outputs={"prediction": [0] * 3})
            for i in range(4)]  # 12 rows
    _segment(tmp_path, _record("fine"), seq=1)
    path = _segment(tmp_path, *rows, seq=2)
    monkeypatch.setattr(log_module, "MAX_SEGMENT_ROWS", 11)
    with pytest.raises(InputError, match=f"{path.name}.* 12 rows"):
        PredictionLog.read(tmp_path)
    with pytest.raises(InputError, match="at most 11 rows"):
        PredictionLog.read(path)
    monkeypatch.setattr(log_module, "MAX_SEGMENT_ROWS", 12)
    assert len(PredictionLog.read(tmp_path)) == 14


def test_a_jsonl_segment_of_more_cells_than_a_log_writes_is_refused(tmp_path, monkeypatch):
    wide = _record("wide", n_rows=1, inputs={f"c{i}": [i] for i in range(50)},
                   outputs={"prediction": [0]})
    long = _record("long", n_rows=20, inputs={"x": list(range(20))},
                   outputs={"prediction": [0] * 20})
    path = _segment(tmp_path, wide, long)
    width = len(log_module.LOG_COLUMNS) + 2 + 51 + 1  # + n_rows, notes; inputs; outputs
    monkeypatch.setattr(log_module, "MAX_SEGMENT_CELLS", 21 * width - 1)
    with pytest.raises(InputError, match=f"{path.name}.* 21 rows x {width} columns"):
        PredictionLog.read(tmp_path)
    monkeypatch.setattr(log_module, "MAX_SEGMENT_CELLS", 21 * width)
    assert len(PredictionLog.read(tmp_path)) == 21


def test_the_jsonl_bound_covers_every_segment_the_log_can_write():
    assert log_module.MAX_SEGMENT_ROWS >= 2 * log_module.MAX_ROWS  # rotate_rows + one request
