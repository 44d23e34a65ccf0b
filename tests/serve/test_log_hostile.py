"""PredictionLog against crashes and hostile files: torn lines at every byte, a writer killed
with SIGKILL, records of every wrong shape, huge lines and segments, links, FIFOs, garbage."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mllife import InputError
from mllife.serve import PredictionLog
from mllife.serve import _log as log_module

LOG_COLUMNS = ["scored_at", "request_id", "row", "role", "model_version", "status",
               "latency_ms", "error"]


def _record(rid: str = "r", **over: Any) -> dict[str, Any]:
    record = {"v": 1, "scored_at": "2026-11-30T21:00:00.000001Z", "request_id": rid,
              "role": "champion", "model_version": "1", "status": 200, "latency_ms": 1.5,
              "error": "", "n_rows": 2, "inputs": {"x": [1, 2], "s": ["a", "b"]},
              "outputs": {"prediction": [0, 1]}, "notes": []}
    record.update(over)
    return record


def _line(rid: str = "r", **over: Any) -> bytes:
    return (json.dumps(_record(rid, **over)) + "\n").encode()


def _segment(folder: Path, seq: int = 1) -> Path:
    return folder / f"predictions-20261130T210000000000-4242-{seq:06d}.jsonl"


# ----------------------------------------------------------------------------- crashes
def test_a_torn_last_line_at_every_byte(tmp_path):
    with PredictionLog(tmp_path) as log:
        for i in range(3):
            log.write(request_id=f"r{i}", role="champion", model_version="1", status=200,
                      latency_ms=1.0, inputs=pd.DataFrame({"x": [i], "s": ["é"]}),
                      outputs=pd.DataFrame({"prediction": [i % 2]}))
    (segment,) = tmp_path.glob("*.jsonl")
    data = segment.read_bytes()
    last = data.rindex(b"\n", 0, len(data) - 1) + 1  # where the last line starts
    copy = tmp_path / "copy"
    copy.mkdir()
    target = copy / segment.name
    for cut in range(last, len(data) + 1):
        target.write_bytes(data[:cut])
        frame = PredictionLog.read(copy)
        whole = cut >= len(data) - 1  # every byte but, at most, the newline
        assert frame["request_id"].tolist() == (["r0", "r1", "r2"] if whole else ["r0", "r1"])
        assert frame["x"].tolist() == ([0, 1, 2] if whole else [0, 1])
        assert frame.attrs["skipped_lines"] == (0 if whole or cut == last else 1), cut


def test_a_writer_killed_mid_stream(tmp_path):
    code = """
import sys
import pandas as pd
from mllife.serve import PredictionLog
log = PredictionLog(sys.argv[1], rotate_rows=2_000)
inputs = pd.DataFrame({"x": range(200), "s": ["text " * 40] * 200})
outputs = pd.DataFrame({"prediction": [1] * 200, "proba_1": [0.75] * 200})
i = 0
while True:
    log.write(request_id=f"r{i}", role="champion", model_version="1", status=200,
              latency_ms=float(i), inputs=inputs, outputs=outputs)
    i += 1
"""
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)])
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if sum(p.stat().st_size for p in tmp_path.glob("*.jsonl")) > 3_000_000:
                break
            time.sleep(0.02)
        else:  # pragma: no cover - a machine too slow to write 3 MB in 90 s
            pytest.fail("the writer did not write")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    frame = PredictionLog.read(tmp_path)
    ids = frame["request_id"].str.slice(1).astype(int).unique()
    assert len(ids) > 10
    assert ids.tolist() == list(range(len(ids)))  # every complete record, in order, no gap
    assert (frame.groupby("request_id").size() == 200).all()
    assert frame.attrs["skipped_lines"] <= 1  # at most the last line of the last segment
    assert (frame["latency_ms"] == frame["request_id"].str.slice(1).astype(float)).all()
    assert len(list(tmp_path.glob("*.jsonl"))) >= 2  # rotation happened while writing


def test_a_failed_write_starts_a_new_segment(tmp_path, monkeypatch):
    log = PredictionLog(tmp_path)
    log.write(request_id="a", role="champion", model_version="1", status=200, latency_ms=1.0,
              inputs=pd.DataFrame({"x": [1]}))
    real_write = os.write

    def half(fd: int, data: bytes) -> int:  # the disk fills up mid-line
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(log_module.os, "write", half)
    with pytest.raises(OSError, match="space"):
        log.write(request_id="b", role="champion", model_version="1", status=200,
                  latency_ms=1.0, inputs=pd.DataFrame({"x": [2]}))
    monkeypatch.setattr(log_module.os, "write", real_write)
    log.write(request_id="c", role="champion", model_version="1", status=200, latency_ms=1.0,
              inputs=pd.DataFrame({"x": [3]}))
    log.close()
    assert len(list(tmp_path.glob("*.jsonl"))) == 2  # the torn line stays last of its segment
    frame = PredictionLog.read(tmp_path)
    assert frame["request_id"].tolist() == ["a", "c"]
    assert frame.attrs["skipped_lines"] == 1


def test_a_torn_segment_is_not_converted(tmp_path, caplog):
    pytest.importorskip("pyarrow")
    log = PredictionLog(tmp_path, format="parquet")
    log.write(request_id="a", role="champion", model_version="1", status=200, latency_ms=1.0,
              inputs=pd.DataFrame({"x": [1]}))
    assert log._segment is not None
    with log._segment.open("ab") as handle:
        handle.write(b'{"v": 1, "scored')
    with caplog.at_level(logging.WARNING, logger="mllife.serve"):
        log.close()
    assert "kept as JSON Lines" in caplog.text
    assert not list(tmp_path.glob("*.parquet"))
    frame = PredictionLog.read(tmp_path)
    assert frame["x"].tolist() == [1]
    assert frame.attrs["skipped_lines"] == 1


# ----------------------------------------------------------------------------- bad records
BAD_JSON = {
    "torn": b'{"v": 1, "scored_at": "2026',
    "nan literal": _line().replace(b'"latency_ms": 1.5', b'"latency_ms": NaN'),
    "infinity literal": _line().replace(b'"x": [1, 2]', b'"x": [1, Infinity]'),
    "two records on a line": _line().rstrip() + b"," + _line(),
    "invalid utf-8": _line().replace(b'"a"', b'"\xff\xfe"'),
    "deep nesting": b"[" * 200_000 + b"]" * 200_000,
    "huge integer": _line().replace(b'"x": [1, 2]', b'"x": [1, ' + b"9" * 5_000 + b"]"),
}
BAD_RECORDS = {
    "a list": b"[1, 2]\n",
    "a string": b'"record"\n',
    "version 2": _line(v=2),
    "version true": _line(v=True),
    "version text": _line(v="1"),
    "no version": _line().replace(b'"v": 1, ', b""),
    "negative rows": _line(n_rows=-1, inputs=None, outputs=None),
    "too many rows": _line(n_rows=10_000_001, inputs=None, outputs=None),
    "rows as text": _line(n_rows="2"),
    "short column": _line(inputs={"x": [1], "s": ["a", "b"]}),
    "long column": _line(outputs={"prediction": [0, 1, 2]}),
    "nested object in a cell": _line(inputs={"x": [{"a": 1}, 2], "s": ["a", "b"]}),
    "nested list in a cell": _line(inputs={"x": [[1], 2], "s": ["a", "b"]}),
    "inputs a list": _line(inputs=[1, 2]),
    "column not a list": _line(inputs={"x": 1}),
    "unknown role": _line(role="admin"),
    "status as text": _line(status="200"),
    "status out of range": _line(status=1000),
    "status true": _line(status=True),
    "latency as text": _line(latency_ms="fast"),
    "latency huge": _line(latency_ms=10**400),
    "scored_at garbage": _line(scored_at="yesterday"),
    "scored_at a number": _line(scored_at=12345),
    "scored_at out of range": _line(scored_at="9999-01-01T00:00:00Z"),
    "request_id a number": _line(request_id=5),
    "request_id too long": _line(request_id="x" * 5_000),
    "request_id lone surrogate": _line(request_id="\ud800"),
    "error null": _line(error=None),
    "notes an object": _line(notes={"a": 1}),
    "column name too long": _line(inputs={"x" * 5_000: [1, 2]}),
    "too many columns": _line(inputs={f"c{i}": [1, 2] for i in range(10_001)}),
}


@pytest.mark.parametrize("bad", list(BAD_JSON) + list(BAD_RECORDS))
def test_bad_lines_are_skipped_and_counted(tmp_path, bad):
    line = BAD_JSON.get(bad, BAD_RECORDS.get(bad))
    assert line is not None
    _segment(tmp_path).write_bytes(_line("before") + line.rstrip(b"\n") + b"\n"
                                   + _line("after"))
    frame = PredictionLog.read(tmp_path)
    assert frame["request_id"].tolist() == ["before", "before", "after", "after"]
    assert frame["x"].tolist() == [1, 2, 1, 2]
    assert frame.attrs["skipped_lines"] == 1
    assert frame.attrs["skipped_records"] == (1 if bad in BAD_RECORDS else 0)


def test_text_the_string_dtype_cannot_hold_reads_as_objects(tmp_path):
    _segment(tmp_path).write_bytes(_line(inputs={"x": [1, 2], "s": ["\ud800", "ok"]}))
    frame = PredictionLog.read(tmp_path)
    assert frame["s"].tolist() == ["\ud800", "ok"]
    assert frame.attrs["skipped_lines"] == 0


def test_blank_lines_are_not_records(tmp_path):
    _segment(tmp_path).write_bytes(b"\n" + _line("a") + b"   \n\r\n" + _line("b"))
    frame = PredictionLog.read(tmp_path)
    assert frame["request_id"].unique().tolist() == ["a", "b"]
    assert frame.attrs["skipped_lines"] == 0


def test_only_torn_lines_give_an_empty_frame(tmp_path):
    _segment(tmp_path).write_bytes(b'{"v": 1, "sco')
    frame = PredictionLog.read(tmp_path)
    assert frame.columns.tolist() == LOG_COLUMNS
    assert len(frame) == 0
    assert frame.attrs["skipped_lines"] == 1


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=200), max_size=8), st.integers(0, 3))
def test_garbage_never_raises_and_never_hides_a_record(tmp_path_factory, garbage, where):
    folder = tmp_path_factory.mktemp("log")
    lines = [_line("a"), _line("b"), _line("c")]
    junk = [g.replace(b"\n", b" ") + b"\n" for g in garbage]
    _segment(folder).write_bytes(b"".join(lines[:where] + junk + lines[where:]))
    frame = PredictionLog.read(folder)
    assert frame["request_id"].unique().tolist() == ["a", "b", "c"]
    assert frame.attrs["skipped_lines"] <= len(junk)


def test_a_line_over_64_mib_is_skipped(tmp_path):
    big = b'{"v": 1, "request_id": "' + b"x" * (64 * 2**20) + b'"}\n'
    _segment(tmp_path).write_bytes(_line("a") + big + _line("b"))
    frame = PredictionLog.read(tmp_path)
    assert frame["request_id"].unique().tolist() == ["a", "b"]
    assert frame.attrs["skipped_lines"] == 1


def test_line_limit_boundaries(tmp_path, monkeypatch):
    monkeypatch.setattr(log_module, "MAX_LINE_BYTES", 400)
    fits = _line("fits", model_version="m" * (401 - len(_line("fits", model_version=""))))
    assert len(fits) == 401  # 400 bytes and the newline
    over = _line("over", model_version="m" * (402 - len(_line("over", model_version=""))))
    assert len(over) == 402
    _segment(tmp_path).write_bytes(fits + over + _line("after") + over.rstrip(b"\n"))
    frame = PredictionLog.read(tmp_path)
    assert frame["request_id"].unique().tolist() == ["fits", "after"]
    assert frame.attrs["skipped_lines"] == 2


def test_a_segment_over_2_gib_is_refused(tmp_path):
    _segment(tmp_path, 1).write_bytes(_line("a"))
    huge = _segment(tmp_path, 2)
    with huge.open("wb") as handle:  # sparse: no disk used
        handle.truncate(2 * 2**30 + 1)
    with pytest.raises(InputError, match=huge.name):
        PredictionLog.read(tmp_path)
    with pytest.raises(InputError, match="2 GiB"):
        PredictionLog.read(huge)


# ----------------------------------------------------------------------------- the folder
def test_only_segment_files_are_read(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jsonl").write_bytes(_line("secret"))
    log = tmp_path / "log"
    log.mkdir()
    _segment(log, 1).write_bytes(_line("a"))
    (log / _segment(log, 2).name).symlink_to(outside / "secret.jsonl")  # a link: not followed
    os.mkfifo(_segment(log, 3))  # a FIFO: would block a plain open()
    _segment(log, 4).mkdir()  # a folder named like a segment
    for name in ("notes.jsonl", "predictions-now.jsonl", ".predictions-x.parquet.tmp",
                 "predictions-20261130T210000000000-1-000001.jsonl.bak"):
        (log / name).write_bytes(_line("other"))
    frame = PredictionLog.read(log)
    assert frame["request_id"].unique().tolist() == ["a"]
    assert frame.attrs["segments"] == 1
    with pytest.raises(InputError, match="neither a folder nor a file"):
        PredictionLog.read(_segment(log, 3))


def test_parquet_segments_that_are_not_ours_are_skipped_and_named(tmp_path):
    pytest.importorskip("pyarrow")
    _segment(tmp_path, 1).write_bytes(_line("a"))
    garbage = _segment(tmp_path, 2).with_suffix(".parquet")
    garbage.write_bytes(b"PAR1" + os.urandom(100) + b"PAR1")
    other = _segment(tmp_path, 3).with_suffix(".parquet")
    pd.DataFrame({"x": [1, 2]}).to_parquet(other)
    wrong_role = _segment(tmp_path, 4).with_suffix(".parquet")
    with PredictionLog(tmp_path / "made", format="parquet") as log:
        log.write(request_id="p", role="champion", model_version="1", status=200,
                  latency_ms=1.0, inputs=pd.DataFrame({"x": [5]}))
    (made,) = (tmp_path / "made").glob("*.parquet")
    raw = pd.read_parquet(made)
    raw.assign(role="admin").to_parquet(wrong_role)
    made.rename(_segment(tmp_path, 5).with_suffix(".parquet"))
    frame = PredictionLog.read(tmp_path)
    assert frame["request_id"].tolist() == ["a", "a", "p"]
    assert frame.attrs["skipped_segments"] == [garbage.name, other.name, wrong_role.name]


def test_reading_never_changes_the_folder(tmp_path):
    _segment(tmp_path).write_bytes(_line("a") + b"garbage\n" + b'{"v"')
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    PredictionLog.read(tmp_path, shadow=True, failed=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_values_from_a_file_are_data(tmp_path):
    evil = "__import__('os').system('touch pwned')"
    _segment(tmp_path).write_bytes(_line(evil, inputs={"x": [1, 2], evil: [evil, evil]},
                                         model_version="{{7*7}}"))
    frame = PredictionLog.read(tmp_path)
    assert frame[evil].tolist() == [evil, evil]
    assert frame["model_version"].iloc[0] == "{{7*7}}"
    assert not (tmp_path / "pwned").exists()
    assert not Path("pwned").exists()


def test_numbers_json_reads_as_infinite_stay_numbers(tmp_path):
    _segment(tmp_path).write_bytes(_line().replace(b'"x": [1, 2]', b'"x": [1e999, 2]'))
    frame = PredictionLog.read(tmp_path)
    assert np.isinf(frame["x"].iloc[0])
    assert frame.attrs["skipped_lines"] == 0
