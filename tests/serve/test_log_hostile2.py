"""PredictionLog, second hostile review: exact round trips (integers with missing values,
floats, odd dtypes), what write() accepts read() must return, a fork while a thread writes,
Parquet segments that expand without bound, and the monitor fed with int-like classes."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mllife import InputError
from mllife.serve import PredictionLog
from mllife.serve import _log as log_module

BIG = 2**53 + 1  # the first integer a float64 cannot hold


def _write(log: PredictionLog, rid: str = "r", *, status: int = 200, **kw: Any) -> None:
    args: dict[str, Any] = {"role": "champion", "model_version": "1", "latency_ms": 1.0}
    args.update(kw)
    if status != 200:
        args.setdefault("error", "schema")
        args.setdefault("n_rows", 1)
    log.write(request_id=rid, status=status, **args)


def _formats() -> list[str]:
    try:
        import pyarrow  # noqa: F401
    except ImportError:  # pragma: no cover - pyarrow is installed in both environments
        return ["jsonl"]
    return ["jsonl", "parquet"]


# ----------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("fmt", _formats())
def test_integers_with_missing_values_read_back_exactly(tmp_path, fmt):
    ints = pd.array([BIG, None, -(2**62)], dtype="Int64")
    wide = np.array([2**64 - 1, 3, 0], dtype=np.uint64)
    with PredictionLog(tmp_path, format=fmt) as log:
        _write(log, "a", inputs=pd.DataFrame({"n": ints, "u": wide, "k": [BIG, 1, 2]}),
               outputs=pd.DataFrame({"prediction": [BIG, 7, 8]}))
        _write(log, "f", status=422)  # with failed=True its row has no values at all
    for failed in (False, True):
        frame = PredictionLog.read(tmp_path, failed=failed)
        answered = frame[frame["status"] == 200]
        assert answered["n"].tolist()[::2] == [BIG, -(2**62)]  # not rounded through float64
        assert answered["n"].isna().tolist() == [False, True, False]
        assert answered["u"].tolist() == [2**64 - 1, 3, 0]
        assert answered["k"].tolist() == [BIG, 1, 2]
        assert answered["prediction"].tolist() == [BIG, 7, 8]
        for name in ("n", "u", "k", "prediction"):  # integers, nullable where needed
            assert pd.api.types.is_integer_dtype(frame[name].dtype), (name, frame[name].dtype)
        if failed:
            assert frame.loc[frame["status"] == 422, ["n", "k", "prediction"]].isna().all().all()


def test_whole_floats_stay_floats_and_mixed_columns_keep_their_values(tmp_path):
    with PredictionLog(tmp_path) as log:
        _write(log, "a", inputs=pd.DataFrame({"f": [1.0, np.nan], "m": [2**70, None],
                                              "b": pd.array([True, None], dtype="boolean")}))
    frame = PredictionLog.read(tmp_path)
    assert frame["f"].dtype == np.float64  # 1.0 was written as a float: not an integer column
    assert frame["m"].tolist()[0] == 2**70  # beyond uint64: kept as a Python int, not rounded
    assert frame["b"].tolist()[0] == True  # noqa: E712 - numpy or Python bool


@pytest.mark.parametrize("fmt", _formats())
def test_odd_values_have_known_json_and_read_back(tmp_path, fmt):
    floats = np.array([0.1, 1 / 3, -0.0, 5e-324, 1.7976931348623157e308])
    frame = pd.DataFrame({
        "f": floats,
        "f32": np.array([0.1, 1e38, 0.0, 1.0, 2.0], dtype=np.float32),
        "code": pd.Categorical(["007", "7", None, "007", "1e3"]),
        "tz": pd.DatetimeIndex(["2024-03-31 01:30", "2024-03-31 03:30", None,
                                "2024-10-27 02:30", "2024-01-01"]).tz_localize(
            "Europe/Paris", ambiguous=True, nonexistent="shift_forward"),
        "naive": np.array(["3000-01-01", "1500-06-01", "NaT", "2024-01-01T00:00:00.5",
                           "1970-01-01"], dtype="datetime64[ms]"),
        "dec": pd.Series([Decimal("1.5"), Decimal("NaN"), Decimal("1e400"), None,
                          Decimal("-2")], dtype=object),
        "raw": pd.Series([b"ab", b"\xff", None, bytearray(b"z"), memoryview(b"q")],
                         dtype=object),
        "nested": pd.Series([{"a": 1}, [1], (2,), {3}, None], dtype=object),
    })
    before = frame.copy()
    with PredictionLog(tmp_path, format=fmt) as log:
        _write(log, "a", inputs=frame, outputs=pd.DataFrame({"prediction": ["007"] * 5}))
    pd.testing.assert_frame_equal(frame, before)  # never mutated
    back = PredictionLog.read(tmp_path)
    assert back["f"].to_numpy().tobytes() == floats.tobytes()  # bit-exact, -0.0 included
    assert back["f32"].tolist() == frame["f32"].astype(np.float64).tolist()
    assert back["code"].tolist()[:2] == ["007", "7"]
    assert back["code"].tolist()[3:] == ["007", "1e3"]
    assert back["prediction"].tolist() == ["007"] * 5  # labels that look like numbers stay text
    assert back["tz"].tolist()[:2] == ["2024-03-31T00:30:00Z", "2024-03-31T01:30:00Z"]
    # one precision per column (the finest its values need); naive stays naive (no "Z")
    assert back["naive"].tolist()[:2] == ["3000-01-01T00:00:00.000000",
                                          "1500-06-01T00:00:00.000000"]
    assert back["naive"].tolist()[3] == "2024-01-01T00:00:00.500000"
    assert back["dec"].tolist()[::4] == [1.5, -2.0]
    assert back["dec"].isna().tolist()[1:4] == [True, True, True]  # NaN, 1e400, None
    assert back["raw"].tolist()[:2] == ["ab", "\ufffd"]
    assert back["raw"].tolist()[3:] == ["z", "q"]
    assert "nested" not in back.columns  # no value it could hold: all null, left out
    assert back.attrs["skipped_lines"] == 0


def test_odd_column_labels(tmp_path):
    multi = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "b"), ("a", "c")]))
    with PredictionLog(tmp_path) as log:
        _write(log, "m", inputs=multi)
        _write(log, "i", inputs=pd.DataFrame({0: [5], "x": [6]}))
        _write(log, "e", inputs=pd.DataFrame(index=range(2)),  # rows, no input columns
               outputs=pd.DataFrame({"prediction": [0, 1]}))
        _write(log, "z", inputs=pd.DataFrame({"x": pd.Series([], dtype=float)}),
               outputs=pd.DataFrame({"prediction": pd.Series([], dtype=int)}))  # 0 rows
    frame = PredictionLog.read(tmp_path)
    assert frame["request_id"].tolist() == ["m", "i", "e", "e"]
    assert frame["('a', 'b')"].tolist()[0] == 1
    assert frame["0"].tolist()[1] == 5


# ----------------------------------------------------------------------------- write = read
@pytest.mark.parametrize("kw", [
    {"scored_at": pd.Timestamp("3000-01-01")},  # a valid Timestamp on pandas 3
    {"scored_at": datetime(1600, 1, 1, tzinfo=UTC)},
    {"scored_at": datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5)))},
    {"request_id": "\ud800"},
    {"model_version": "v\udcff"},
    {"inputs": pd.DataFrame(np.zeros((1, 10_001)), columns=[f"c{i}" for i in range(10_001)])},
    {"outputs": pd.DataFrame({"k" * 4_097: [1]})},
], ids=["year-3000", "year-1600", "overflow", "surrogate-id", "surrogate-version",
        "10001-columns", "long-name"])
def test_write_refuses_what_read_would_drop(tmp_path, kw):
    args: dict[str, Any] = {"request_id": "r", "inputs": pd.DataFrame({"x": [1]})}
    args.update(kw)
    if "outputs" in kw:
        args["inputs"] = None
    rid = args.pop("request_id")
    with PredictionLog(tmp_path) as log:
        with pytest.raises(InputError):
            _write(log, rid, **args)
        _write(log, "ok", inputs=pd.DataFrame({"x": [1]}))
    frame = PredictionLog.read(tmp_path)
    assert frame["request_id"].tolist() == ["ok"]
    assert frame.attrs["skipped_records"] == 0


def test_extreme_latencies_and_times_that_fit_are_read(tmp_path):
    one = pd.DataFrame({"x": [1]})
    with PredictionLog(tmp_path) as log:
        _write(log, "huge", latency_ms=1e301, inputs=one)  # finite, beyond what read() takes
        _write(log, "last", scored_at=pd.Timestamp("2262-04-10 23:59:59", tz="UTC"), inputs=one)
        _write(log, "first", scored_at=pd.Timestamp("1677-09-22 00:00:01", tz="UTC"),
               inputs=one)
    frame = PredictionLog.read(tmp_path)
    assert frame["request_id"].tolist() == ["huge", "last", "first"]
    assert np.isnan(frame["latency_ms"].iloc[0])
    assert frame.attrs["skipped_records"] == 0


# ----------------------------------------------------------------------------- fork
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process:DeprecationWarning")
def test_a_fork_while_another_thread_writes_does_not_deadlock_the_child(tmp_path, monkeypatch):
    """The child inherits the lock in the state the writing thread left it: held."""
    log = PredictionLog(tmp_path, fsync=True)
    inside, release = threading.Event(), threading.Event()
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:  # the writing thread holds the lock while it syncs
        inside.set()
        release.wait(20)
        real_fsync(fd)

    monkeypatch.setattr(log_module.os, "fsync", slow_fsync)
    writer = threading.Thread(target=_write, args=(log, "parent"),
                              kwargs={"inputs": pd.DataFrame({"x": [1]})})
    writer.start()
    assert inside.wait(20)
    pid = os.fork()
    if pid == 0:  # the child: bounded by an alarm, never runs the parent's cleanup
        code = 1
        try:
            os.fsync = real_fsync
            signal.alarm(10)
            _write(log, "child", inputs=pd.DataFrame({"x": [2]}))
            log.close()
            code = 0
        finally:
            os._exit(code)
    release.set()
    writer.join(20)
    status = None
    for _ in range(300):  # at most ~30 s
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.1)
    else:  # pragma: no cover - the child hung: end it, then fail
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    monkeypatch.undo()
    log.close()
    assert status is not None
    assert os.waitstatus_to_exitcode(status) == 0  # not killed by its alarm: no deadlock
    assert sorted(PredictionLog.read(tmp_path)["request_id"]) == ["child", "parent"]


# ----------------------------------------------------------------------------- Parquet bounds
def test_a_parquet_segment_with_more_rows_than_a_log_writes_is_refused(tmp_path, monkeypatch):
    """A few KB of Parquet (run-length / dictionary encoded) can decode to billions of rows:
    the row count in its metadata is checked before anything is decoded."""
    pq = pytest.importorskip("pyarrow.parquet")
    with PredictionLog(tmp_path, format="parquet", rotate_rows=1) as log:
        _write(log, "a", inputs=pd.DataFrame({"x": np.zeros(60, dtype=np.int64)}))
        _write(log, "b", inputs=pd.DataFrame({"x": np.zeros(61, dtype=np.int64)}))
    small, big = sorted(tmp_path.glob("*.parquet"))
    monkeypatch.setattr(log_module, "MAX_SEGMENT_ROWS", 60)
    assert len(PredictionLog.read(small)) == 60
    with pytest.raises(InputError, match=big.name):
        PredictionLog.read(tmp_path)
    monkeypatch.setattr(log_module, "MAX_SEGMENT_ROWS", 10**9)
    columns = pq.read_metadata(small).num_columns  # the log's own, input.x
    monkeypatch.setattr(log_module, "MAX_SEGMENT_CELLS", 60 * columns)
    assert len(PredictionLog.read(small)) == 60
    with pytest.raises(InputError, match="rows"):
        PredictionLog.read(big)


def test_the_parquet_bounds_cover_every_segment_the_log_can_write():
    # a segment closes once it holds rotate_rows (<= MAX_ROWS); one request adds <= MAX_ROWS
    assert log_module.MAX_SEGMENT_ROWS >= 2 * log_module.MAX_ROWS
    # as many cells as a JSON Lines segment of the size limit can hold ("0," per cell)
    assert log_module.MAX_SEGMENT_CELLS >= log_module.MAX_SEGMENT_BYTES // 2


# ----------------------------------------------------------------------------- the monitor
@pytest.fixture(scope="module")
def churn():
    from mllife.datasets import make_churn

    frame = make_churn(700, random_state=5, defects=False).frame
    return frame[["plan", "age", "tenure_months", "monthly_charges"]], frame["churned"]


LABELS = {"ints": (0, 1), "zero-padded": ("007", "7"), "beyond-float": (2**60 + 1, 2**60 + 3),
          "negative": (-1, 1)}


def _served_log(folder: Any, churn: Any, labels: tuple[Any, ...]) -> tuple[Any, Any, Any]:
    """A classifier with ``labels`` as its classes; three answered requests and one refused
    (422) in a log at ``folder``; returns (bundle, reference rows, the outputs served)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from mllife.bundle import InputSchema, ModelBundle
    from mllife.features import make_preprocessor

    X, churned = churn
    y = churned.map(dict(enumerate(labels)))
    train = X.iloc[:400]
    model = Pipeline([("pre", make_preprocessor(train)),
                      ("model", LogisticRegression(max_iter=500))]).fit(train, y.iloc[:400])
    bundle = ModelBundle(model, InputSchema.infer(train, out_of_range="ignore"), version="1")
    when = pd.Timestamp("2026-01-01 12:00", tz="UTC")
    served = []
    with PredictionLog(folder) as log:
        for i in range(3):
            batch = X.iloc[400 + 50 * i: 450 + 50 * i]
            outputs = bundle.predict_proba(batch)
            served.append(outputs)
            _write(log, f"r{i}", inputs=bundle.schema.validate(batch), outputs=outputs,
                   scored_at=when)
        _write(log, "refused", status=422, n_rows=2, scored_at=when)
    return bundle, train, pd.concat(served, ignore_index=True)


def _drift_p(bundle: Any, reference: Any, frame: pd.DataFrame) -> float:
    from mllife.monitor import Monitor

    report = Monitor(bundle, reference=reference, time_col="scored_at",
                     window="1D").observe(frame).report()
    return float(report.windows["prediction_drift_p"].iloc[0])


@pytest.mark.parametrize("labels", list(LABELS.values()), ids=list(LABELS))
def test_the_monitor_reads_classes_named_like_numbers(tmp_path, churn, labels):
    bundle, reference, expected = _served_log(tmp_path, churn, labels)
    assert [f"proba_{c}" for c in labels] == [c for c in expected.columns if "proba" in c]
    for failed in (False, True):
        frame = PredictionLog.read(tmp_path, failed=failed)
        answered = frame[frame["status"] == 200].reset_index(drop=True)
        assert answered["prediction"].tolist() == expected["prediction"].tolist()  # exact
        for c in labels:  # proba_<class> round-trips, bit-exact
            assert answered[f"proba_{c}"].to_numpy().tobytes() == \
                expected[f"proba_{c}"].to_numpy().tobytes()
    # the same model on the same population: no prediction drift
    assert _drift_p(bundle, reference, PredictionLog.read(tmp_path)) > 1e-6


@pytest.mark.parametrize("labels", list(LABELS.values()), ids=list(LABELS))
def test_a_refused_request_does_not_move_the_prediction_drift(tmp_path, churn, labels):
    bundle, reference, _ = _served_log(tmp_path, churn, labels)
    answered = _drift_p(bundle, reference, PredictionLog.read(tmp_path))
    with_failed = _drift_p(bundle, reference, PredictionLog.read(tmp_path, failed=True))
    assert with_failed == pytest.approx(answered, rel=1e-9, abs=1e-12)
