"""``PredictionLog``: an append-only, crash-safe log of a service's predictions.

Each object writes its own segment files, one JSON line per request (columns
stored column-wise) written with one ``os.write``: a crash leaves at most one
torn line, the last of its segment, which :meth:`PredictionLog.read` skips and
counts. Closed segments can become Parquet (atomically). Reading is bounded and
checks every record's shape: nothing in a log is evaluated or trusted.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import logging
import os
import re
import stat
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError, MissingDependencyError
from .._files import write_atomic
from ._log_json import (
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_TEXT,
    _array_cells,
    _cell,
    _columns_json,
    _note,
    _valid_text,
)

__all__ = ["PredictionLog"]

logger = logging.getLogger("mllife.serve")

VERSION = 1  # the ``v`` of every record
MAX_LINE_BYTES = 64 * 2**20  # a longer line is skipped without being parsed
MAX_SEGMENT_BYTES = 2 * 2**30  # a larger segment is refused (InputError naming it)
# A Parquet segment decodes to rows and cells its size does not bound (run-length and
# dictionary encoding): the log closes a segment at rotate_rows (<= MAX_ROWS) and one request
# adds <= MAX_ROWS; the cells are those a JSON Lines segment of MAX_SEGMENT_BYTES can hold.
MAX_SEGMENT_ROWS, MAX_SEGMENT_CELLS = 2 * MAX_ROWS, MAX_SEGMENT_BYTES // 2
_LATENCY_LIMIT = 1e300  # a larger latency is not read: written as null
_CHUNK_BYTES = 32 * 2**20  # lines parsed together, so one parse buffer stays bounded
ROLES = ("champion", "challenger", "shadow")
#: The log's own columns, in the order :meth:`PredictionLog.read` returns them.
LOG_COLUMNS = ("scored_at", "request_id", "row", "role", "model_version", "status",
               "latency_ms", "error")
_TEXT_COLUMNS = ("request_id", "role", "model_version", "error")
_NAME = re.compile(r"predictions-(\d{8}T\d{12})-(\d{1,10})-(\d{6,12})\.(jsonl|parquet)")
_SCALARS = frozenset({str, int, float, bool, type(None)})
_INPUT, _OUTPUT = "input.", "output."
# JSON columns stored with a nullable dtype in Parquet (pd.array would turn a mix into text)
_NULLABLE = ("integer", "floating", "mixed-integer-float", "boolean", "string")
# the times a datetime64[ns] holds (a record's scored_at outside is not read)
_FIRST, _LAST = pd.Timestamp("1677-09-22", tz="UTC"), pd.Timestamp("2262-04-11", tz="UTC")
_FIRST_NAIVE, _LAST_NAIVE = datetime(1677, 9, 22), datetime(2262, 4, 11)  # for write()


# ----------------------------------------------------------------------------- values
def _utc_now() -> datetime:
    return datetime.now(UTC)  # one place, so tests can pin the clock


def _iso_utc(ts: Any) -> str:
    """A time as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (naive times are taken as UTC)."""
    moment = _utc_now() if ts is None else ts
    if moment is pd.NaT or not isinstance(moment, datetime):  # pd.Timestamp is one
        raise InputError(f"scored_at={ts!r:.60}", expected="a pandas Timestamp or None (now)")
    try:
        if isinstance(moment, pd.Timestamp):
            moment = moment.to_pydatetime(warn=False)
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        ok = _FIRST_NAIVE <= moment <= _LAST_NAIVE
    except (OverflowError, ValueError):  # beyond year 9999 once in UTC
        ok = False
    if not ok:  # read() could not hold it (datetime64[ns]): refused, not written unreadable
        raise InputError(f"scored_at={ts!s:.60}",
                         expected=f"a time between {_FIRST.date()} and {_LAST.date()} (UTC)")
    return moment.isoformat(timespec="microseconds") + "Z"


# ----------------------------------------------------------------------------- the writer
class PredictionLog:
    """An append-only, crash-safe log of predictions: JSON Lines (or Parquet) segments.

    Every :meth:`write` appends one request as one JSON line to this object's
    segment ``predictions-<UTC yyyymmddTHHMMSSffffff>-<pid>-<seq>.jsonl``,
    created exclusively (``O_EXCL``): two objects or processes (uvicorn
    workers) never append to the same file, and a line torn by a crash is the
    last of its segment. A new segment starts once one holds ``rotate_rows``
    rows (a request without rows counts as one, and is never split). Files
    are readable by their owner only: the log holds inputs.

    Parameters
    ----------
    path : str or Path
        The log's folder, created when missing.
    rotate_rows : int, default=100_000
    include_inputs : bool, default=True
        ``False`` writes ``"inputs": null``.
    format : {"jsonl", "parquet"}, default="jsonl"
        ``"parquet"`` converts each closed segment (on rotation, in the
        writing thread, and on :meth:`close`) to a ``.parquet`` file of the
        same name, atomically, and removes the JSON Lines one; the live
        segment is always JSON Lines. A segment with a torn line, or values
        Parquet cannot hold, stays JSON Lines (a warning on the
        ``mllife.serve`` logger).
    fsync : bool, default=False
        ``os.fsync`` after every line (survives a power cut; a disk sync per
        request). Without it a killed process still loses nothing written.

    Raises
    ------
    InputError
        A bad parameter, or ``path`` is a file.
    MissingDependencyError
        ``format="parquet"`` without pyarrow.

    See Also
    --------
    mllife.monitor.Monitor : reads the frame :meth:`read` returns.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> folder = tempfile.mkdtemp()
    >>> with PredictionLog(folder) as log:
    ...     log.write(request_id="r1", role="champion", model_version="1.0", status=200,
    ...               latency_ms=2.5, inputs=pd.DataFrame({"age": [31, 40]}),
    ...               outputs=pd.DataFrame({"prediction": [1, 0]}))
    ...     log.write(request_id="r2", role="champion", model_version="1.0", status=422,
    ...               latency_ms=0.4, error="schema", n_rows=1,
    ...               notes=[{"column": "age", "problem": "missing column", "count": 1}])
    >>> PredictionLog.read(folder)[["request_id", "row", "status", "age", "prediction"]]
      request_id  row  status  age  prediction
    0         r1    0     200   31           1
    1         r1    1     200   40           0
    >>> PredictionLog.read(folder, failed=True)["error"].tolist()
    ['', '', 'schema']
    """

    def __init__(self, path: str | os.PathLike[str], *, rotate_rows: int = 100_000,
                 include_inputs: bool = True, format: str = "jsonl", fsync: bool = False
                 ) -> None:
        if not _whole(rotate_rows, 1, MAX_ROWS):
            raise InputError(f"rotate_rows={rotate_rows!r}",
                             expected=f"a whole number of rows in [1, {MAX_ROWS:_}]")
        _flags(include_inputs=include_inputs, fsync=fsync)
        if format not in ("jsonl", "parquet"):
            raise InputError(f"format={format!r}", expected='"jsonl" or "parquet"')
        if format == "parquet":
            _need_pyarrow('PredictionLog(format="parquet")')
        if not isinstance(path, str | os.PathLike):
            raise InputError(f"path is a {type(path).__name__}", expected="a folder path")
        if (folder := Path(path)).exists() and not folder.is_dir():
            raise InputError(f"{str(folder)!r} is a file", expected="a folder for the log")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create the log folder {str(folder)!r}: "
                             f"{exc.strerror or exc}", expected="a writable folder") from None
        self._path, self.rotate_rows, self.format = folder, int(rotate_rows), format
        self.include_inputs, self.fsync = include_inputs, fsync
        self._lock = threading.Lock()
        _LOGS.add(self)  # a forked child gets a new lock (see _after_fork_in_child)
        self._fd: int | None = None
        self._segment: Path | None = None
        self._segment_rows = self._seq = self._written = 0
        self._stamp, self._pid, self._closed = "", os.getpid(), False

    @property
    def path(self) -> Path:
        """The log's folder.

        Examples
        --------
        >>> import tempfile
        >>> PredictionLog(tempfile.mkdtemp()).path.is_dir()
        True
        """
        return self._path

    def __repr__(self) -> str:
        return (f"<PredictionLog path={str(self._path)!r} format={self.format!r} "
                f"records={self._written} {'closed' if self._closed else 'open'}>")

    def __enter__(self) -> PredictionLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ write
    def write(self, *, request_id: str, role: str, model_version: str, status: int,
              latency_ms: float, inputs: pd.DataFrame | None = None,
              outputs: pd.DataFrame | None = None, error: str = "",
              notes: Sequence[Mapping[str, Any]] = (), n_rows: int | None = None,
              scored_at: pd.Timestamp | None = None) -> None:
        """Append one request's record (one line); thread-safe.

        Values become JSON: NaN, infinities, NaT and ``pd.NA`` ``null``;
        date-times ISO 8601 text (tz-aware ones in UTC with ``Z``, naive ones
        naive); durations ISO 8601 (``P0DT0H0M1.5S``); categories their
        values; bytes UTF-8 text; anything else JSON cannot hold ``null``. A
        value never makes this method raise.

        Parameters
        ----------
        request_id, model_version : str
        role : {"champion", "challenger", "shadow"}
            ``"challenger"``: a canary's answer; ``"shadow"``: the
            challenger's score of a request the champion answered.
        status : int
            The HTTP status (200 for scored rows).
        latency_ms : float
            NaN, infinite or over 1e300: written as null.
        inputs : DataFrame, optional
            The validated inputs (what the model saw).
        outputs : DataFrame, optional
            ``prediction``, ``proba_<class>`` (a ``model_version`` column is dropped).
        error : str, default=""
            ``""`` on success, else a short code (``"schema"``, ``"model"``...).
        notes : sequence of mappings, default=()
            The schema's notes or problems (column, problem, count, rows).
        n_rows : int, optional
            The rows of a request without frames (a failed one); else the frames'.
        scored_at : Timestamp, optional
            Default: now. Naive times are taken as UTC; between 1677-09-22 and
            2262-04-11 (what ``read`` holds as datetime64[ns]).

        Raises
        ------
        InputError
            A bad argument (an unknown role, a status outside 100-599, text
            that is not UTF-8 or over 4,096 characters, a frame of over 10,000
            columns or with a column name over 4,096 characters, frames
            of different lengths, status 200 with rows but no output column)
            or a closed log. A record over the 64 MiB line :meth:`read` reads
            is written without its inputs (``"inputs": null`` and a note
            ``"inputs not logged: record over the line limit"``); one still
            over it is refused (never split): nothing is written that
            :meth:`read` would skip.
        OSError
            The disk refused the line; the next write starts a new segment.

        Examples
        --------
        >>> import tempfile, pandas as pd
        >>> folder = tempfile.mkdtemp()
        >>> log = PredictionLog(folder)
        >>> log.write(request_id="a", role="champion", model_version="2", status=200,
        ...           latency_ms=1.0, inputs=pd.DataFrame({"x": [float("nan")]}),
        ...           outputs=pd.DataFrame({"prediction": ["yes"]}))
        >>> log.close()
        >>> line = next(log.path.glob("*.jsonl")).read_text()
        >>> '"inputs":{"x":[null]}' in line, line.endswith("\\n")
        (True, True)
        """
        record, rows = self._record(request_id, role, model_version, status, latency_ms,
                                    inputs, outputs, error, notes, n_rows, scored_at)
        line = _fitted(record, _dumps(record))
        converted: Path | None = None
        with self._lock:
            if self._closed:
                raise InputError("the prediction log is closed", expected="an open log")
            if self._pid != os.getpid():  # a forked child never appends to its parent's file
                self._close_segment()  # the child's copy of the descriptor only
                self._pid = os.getpid()
            if self._fd is None:
                self._open_segment()
            assert self._fd is not None
            try:
                _write_all(self._fd, line)
                if self.fsync:
                    os.fsync(self._fd)
            except OSError:
                self._close_segment()  # a torn line stays the last line of its segment
                raise
            self._written += 1
            self._segment_rows += max(rows, 1)
            if self._segment_rows >= self.rotate_rows:
                converted = self._close_segment()
        if converted is not None:
            _convert(converted)

    def close(self) -> None:
        """Close the current segment (converted to Parquet with ``format="parquet"``).

        Idempotent; :meth:`write` after it raises :class:`~mllife.InputError`.

        Examples
        --------
        >>> import tempfile
        >>> log = PredictionLog(tempfile.mkdtemp())
        >>> log.close(); log.close()
        >>> log
        <PredictionLog path=... format='jsonl' records=0 closed>
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            converted = self._close_segment()
        if converted is not None:
            _convert(converted)

    def _record(self, request_id: Any, role: Any, model_version: Any, status: Any,
                latency_ms: Any, inputs: Any, outputs: Any, error: Any, notes: Any,
                n_rows: Any, scored_at: Any) -> tuple[dict[str, Any], int]:
        for name, text in (("request_id", request_id), ("model_version", model_version),
                           ("error", error)):
            if not _valid_text(text):  # what read() accepts: UTF-8 text of <= MAX_TEXT chars
                raise InputError(f"{name}={text!r:.80}",
                                 expected=f"UTF-8 text (<= {MAX_TEXT} chars)")
        if role not in ROLES:
            raise InputError(f"role={role!r}", expected=f"one of {list(ROLES)}")
        if not _whole(status, 100, 599):
            raise InputError(f"status={status!r}", expected="an HTTP status code (100-599)")
        if isinstance(latency_ms, bool) or not isinstance(latency_ms, int | float | np.number):
            raise InputError(f"latency_ms={latency_ms!r}", expected="a number of milliseconds")
        latency = float(latency_ms)
        for name, frame in (("inputs", inputs), ("outputs", outputs)):
            if frame is not None and not isinstance(frame, pd.DataFrame):
                raise InputError(f"{name} is a {type(frame).__name__}",
                                 expected="a pandas DataFrame or None")
            if frame is not None and frame.shape[1] > MAX_COLUMNS:
                raise InputError(f"{name} has {frame.shape[1]:_} columns",
                                 expected=f"at most {MAX_COLUMNS:_} (include_inputs=False "
                                          "leaves the inputs out)")
        sizes = [len(f) for f in (inputs, outputs) if f is not None]
        if n_rows is not None and not _whole(n_rows, 0, MAX_ROWS):
            raise InputError(f"n_rows={n_rows!r}", expected=f"a whole number in [0, {MAX_ROWS:_}]")
        rows = int(n_rows) if n_rows is not None else (sizes[0] if sizes else 0)
        if any(size != rows for size in sizes) or rows > MAX_ROWS:
            raise InputError(f"inputs, outputs and n_rows disagree on the rows ({sizes}, "
                             f"n_rows={n_rows})", expected="frames of the request's length")
        if isinstance(notes, str | bytes | Mapping) or not isinstance(notes, Sequence):
            raise InputError(f"notes is a {type(notes).__name__}",
                             expected="a sequence of mappings (the schema's notes)")
        keep = inputs if self.include_inputs else None
        record = {"v": VERSION, "scored_at": _iso_utc(scored_at), "request_id": request_id,
                "role": role, "model_version": model_version, "status": int(status),
                "latency_ms": latency if abs(latency) < _LATENCY_LIMIT else None,  # NaN too
                "error": error,
                "n_rows": rows, "inputs": None if keep is None else _columns_json(keep),
                "outputs": None if outputs is None else _columns_json(outputs,
                                                                     drop=("model_version",)),
                "notes": [_note(note) for note in notes]}
        if not _backed(record):  # read() would skip it (see _backed)
            raise InputError(f"an answered request (status 200) of {rows:_} rows without an "
                             "output column" + ("" if self.include_inputs else
                                                " (include_inputs=False)"),
                             expected="the outputs frame of the scored rows")
        return record, rows

    def _open_segment(self) -> None:
        """Create this object's next segment, exclusively (a name taken: the next microsecond)."""
        stamp = max(_utc_now().strftime("%Y%m%dT%H%M%S%f"), self._stamp)
        for _ in range(1_000):
            if stamp == self._stamp:
                stamp = _next_stamp(stamp)
            self._seq += 1
            target = self._path / f"predictions-{stamp}-{self._pid}-{self._seq:06d}.jsonl"
            self._stamp = stamp
            with contextlib.suppress(FileExistsError):
                self._fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND
                                   | getattr(os, "O_CLOEXEC", 0), 0o600)
                self._segment, self._segment_rows = target, 0
                return
        raise InputError(f"no free segment name in {str(self._path)!r}",  # pragma: no cover
                         expected="a log folder this process can write")

    def _close_segment(self) -> Path | None:
        """Close the live segment; returns it when it is to be converted to Parquet."""
        fd, segment = self._fd, self._segment
        self._fd, self._segment, self._segment_rows = None, None, 0
        if fd is None:
            return None
        with contextlib.suppress(OSError):  # the data is written; nothing to recover
            os.close(fd)
        return segment if self.format == "parquet" else None

    # ------------------------------------------------------------------ read
    @staticmethod
    def read(path: str | os.PathLike[str], *, shadow: bool = False,
             failed: bool = False) -> pd.DataFrame:
        """Read a log folder (or one segment) into one row per scored input row.

        Segments are read one at a time, in name order (start time, process,
        sequence), lines in file order. Columns: ``scored_at``
        (datetime64[ns, UTC]), ``request_id``, ``row`` (position in its
        request, int64), ``role``, ``model_version``, ``status`` (int64),
        ``latency_ms`` (float64), ``error`` (``""`` on success), the inputs as
        pandas infers them from the JSON values, except that integers with
        missing values are ``Int64`` (never float64, which rounds integers
        past 2**53 and turns labels 0, 1 into 0.0, 1.0; ``UInt64`` or objects
        beyond int64) (one named like a log column
        or an output becomes ``input.<name>``), then ``prediction``,
        ``proba_<class>`` and any other output. Records with other columns (a
        new model version) are aligned, missing values NA; a column without a
        value in the rows returned is left out. The frame is what
        :meth:`mllife.monitor.Monitor.observe` takes.

        Parameters
        ----------
        path : str or Path
            The log's folder or one ``.jsonl`` / ``.parquet`` segment.
        shadow : bool, default=False
            Add the shadow's rows (role ``"shadow"``).
        failed : bool, default=False
            Add one row per failed request (status not 200): ``row`` is -1,
            inputs and outputs missing.

        Returns
        -------
        pandas.DataFrame
            ``attrs["skipped_lines"]``: lines not read (torn by a crash, not
            JSON, over 64 MiB, or not a record); ``attrs["skipped_records"]``:
            those that were JSON of the wrong shape (version, types, list
            lengths, ``n_rows`` outside [0, 10,000,000], nested values);
            ``attrs["segments"]``: segments read; ``attrs["skipped_segments"]``:
            names of unreadable Parquet segments.

        Raises
        ------
        InputError
            ``path`` does not exist, is not a folder or a segment, or a
            segment is over 2 GiB, or a segment holds (JSON Lines) or
            announces (Parquet) more than 20,000,000 rows or 2**30 cells
            (named; checked before expanding or decoding). An answered record
            (status 200) of ``n_rows`` > 0 without a column of ``n_rows``
            values is a skipped record: a few bytes never expand to millions
            of rows.
        MissingDependencyError
            A Parquet segment without pyarrow.

        Notes
        -----
        In a folder only regular files named like segments are read: other
        files, folders and symbolic links are ignored (a link is never
        followed out of the folder). A ``.jsonl`` with a ``.parquet`` twin (a
        conversion in progress) is skipped: the Parquet file is complete.
        Nothing is evaluated: lines are parsed as JSON (``NaN`` literals
        refused) and each record's shape is checked before use.

        Examples
        --------
        >>> import tempfile, pathlib, pandas as pd
        >>> folder = tempfile.mkdtemp()
        >>> with PredictionLog(folder) as log:
        ...     log.write(request_id="a", role="champion", model_version="1", status=200,
        ...               latency_ms=3.0, inputs=pd.DataFrame({"x": [1.5]}),
        ...               outputs=pd.DataFrame({"prediction": [0], "proba_0": [0.9]}))
        >>> segment = next(pathlib.Path(folder).glob("*.jsonl"))
        >>> with segment.open("a") as f:
        ...     _ = f.write('{"v": 1, "scored_at": "2026-')      # a crash mid-line
        >>> frame = PredictionLog.read(folder)
        >>> frame.columns.tolist()
        ['scored_at', 'request_id', 'row', 'role', 'model_version', 'status', 'latency_ms', 'error', 'x', 'prediction', 'proba_0']
        >>> str(frame["scored_at"].dtype), frame.attrs["skipped_lines"]
        ('datetime64[ns, UTC]', 1)
        """
        _flags(shadow=shadow, failed=failed)
        files, explicit = _segments(path)
        counts = {"lines": 0, "records": 0, "segments": 0}
        skipped: list[str] = []
        parts = [part.select(shadow=shadow, failed=failed) for part in (
            _read_segment(file, explicit, counts, skipped) for file in files) if part is not None]
        frame = _frame(parts, raw=False)
        frame.attrs.update({"skipped_lines": counts["lines"], "skipped_records": counts["records"],
                            "segments": counts["segments"], "skipped_segments": skipped})
        return frame


# ----------------------------------------------------------------------------- writing helpers
_LOGS: weakref.WeakSet[PredictionLog] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    """A forked child inherits each lock as it was: held, when another thread was writing,
    and that thread does not exist in the child. The child's write() then deadlocked; it
    gets a free lock (and, by its pid, its own segment)."""
    for log in list(_LOGS):
        log._lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _dumps(record: dict[str, Any]) -> bytes:
    """The record as one UTF-8 JSON line (non-ASCII text as itself: 2 bytes for an ``é``,
    not the 6 of ``\\u00e9``); a lone surrogate, which UTF-8 cannot hold, is written as
    its JSON escape ``\\udXXX`` (read back as it was). A record JSON refuses loses its
    frames, never the line."""
    try:
        text = json.dumps(record, allow_nan=False, ensure_ascii=False, separators=(",", ":"),
                          default=_cell) + "\n"
    except (TypeError, ValueError, OverflowError, RecursionError):  # pragma: no cover - defensive
        return _dumps({**record, "inputs": None, "outputs": None, "notes": [
            {"problem": "values not serialisable"}]})
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # only inside JSON strings: the escape is valid JSON there
        return text.encode("utf-8", "backslashreplace")


def _fitted(record: dict[str, Any], line: bytes) -> bytes:
    """The line, or the record without its inputs (and a note saying so) when the line is
    longer than :meth:`PredictionLog.read` reads; refused (InputError) when still too long:
    nothing is written that ``read`` would skip."""
    if len(line) <= MAX_LINE_BYTES + 1:  # + the newline
        return line
    size, what = len(line) - 1, "bytes"
    if record["inputs"] is not None:
        note = {"column": None, "problem": "inputs not logged: record over the line limit",
                "count": record["n_rows"], "bytes": size}
        slim = {**record, "inputs": None, "notes": [*record["notes"], note]}
        line = _dumps(slim)
        if len(line) <= MAX_LINE_BYTES + 1 and _backed(slim):
            return line
        what = f"bytes without its inputs ({size:_} with them)"
    raise InputError(f"the record of request {record['request_id']!r} is {len(line) - 1:_} "
                     f"{what}",
                     expected=f"a record of at most {MAX_LINE_BYTES:_} bytes (read() skips a "
                              "longer line): fewer rows per request, or fewer or shorter notes")


def _flags(**flags: Any) -> None:
    for name, flag in flags.items():
        if not isinstance(flag, bool):
            raise InputError(f"{name}={flag!r}", expected="True or False")


def _whole(value: Any, low: int, high: int) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | np.integer) \
        and low <= int(value) <= high


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _next_stamp(stamp: str) -> str:
    moment = datetime.strptime(stamp, "%Y%m%dT%H%M%S%f") + timedelta(microseconds=1)
    return moment.strftime("%Y%m%dT%H%M%S%f")


def _need_pyarrow(what: str) -> None:
    if importlib.util.find_spec("pyarrow") is None:
        raise MissingDependencyError(f"{what} needs pyarrow: pip install pyarrow")


def _convert(segment: Path) -> None:
    """A closed segment to Parquet (atomic), then the JSON Lines file removed; one with a bad
    line, or values Parquet cannot hold, stays as it is (nothing is lost)."""
    try:
        counts = {"lines": 0, "records": 0, "segments": 0}
        part = _read_segment(segment, True, counts, [], raw=True)
        if part is None or counts["lines"]:
            logger.warning("prediction log segment %s has %d bad line(s): kept as JSON Lines",
                           segment.name, counts["lines"])
            return
        buffer = io.BytesIO()
        _frame([part], raw=True).to_parquet(buffer, index=False)
        write_atomic(segment.with_suffix(".parquet"), buffer.getvalue())
        segment.unlink()
    except Exception:
        logger.warning("prediction log segment %s could not be converted to Parquet: kept as "
                       "JSON Lines", segment.name, exc_info=True)


# ----------------------------------------------------------------------------- reading
@dataclass
class _Part:
    """The rows of one segment: per-request values repeated per row, columns as object arrays."""

    n: int = 0
    fixed: dict[str, np.ndarray] = field(default_factory=dict)  # LOG_COLUMNS + n_rows, notes
    inputs: dict[str, np.ndarray] = field(default_factory=dict)
    outputs: dict[str, np.ndarray] = field(default_factory=dict)

    def select(self, *, shadow: bool, failed: bool) -> _Part:
        keep = np.ones(self.n, dtype=bool)
        if self.n and not shadow:
            keep &= self.fixed["role"] != "shadow"
        if self.n and not failed:
            keep &= self.fixed["status"] == 200
        if keep.all():
            return self
        return _Part(int(keep.sum()), *({k: v[keep] for k, v in d.items()}
                                        for d in (self.fixed, self.inputs, self.outputs)))


def _segments(path: Any) -> tuple[list[Path], bool]:
    """``(segment files in order, given explicitly)``."""
    if not isinstance(path, str | os.PathLike):
        raise InputError(f"path is a {type(path).__name__}",
                         expected="a log folder or a segment file")
    target = Path(path)
    try:
        info = target.stat()
    except OSError:
        raise InputError(f"no prediction log at {str(target)!r}",
                         expected="an existing log folder or segment file") from None
    if stat.S_ISREG(info.st_mode):
        if target.suffix not in (".jsonl", ".parquet"):
            raise InputError(f"{target.name!r} is not a log segment",
                             expected="a .jsonl or .parquet segment, or the log's folder")
        return [_sized(target, info.st_size)], True
    if not stat.S_ISDIR(info.st_mode):
        raise InputError(f"{str(target)!r} is neither a folder nor a file",
                         expected="a log folder or a segment file")
    found: dict[str, tuple[tuple[Any, ...], Path]] = {}
    with os.scandir(target) as entries:
        for entry in entries:
            match = _NAME.fullmatch(entry.name)
            if match is None or entry.is_symlink() or not entry.is_file(follow_symlinks=False):
                continue
            stem = entry.name.rsplit(".", 1)[0]
            file = _sized(Path(entry.path), entry.stat(follow_symlinks=False).st_size)
            if stem not in found or found[stem][1].suffix != ".parquet":  # the Parquet twin wins
                found[stem] = ((match[1], int(match[2]), int(match[3]), stem), file)
    return [file for _, file in sorted(found.values(), key=lambda kv: kv[0])], False


def _sized(file: Path, size: int) -> Path:
    if size > MAX_SEGMENT_BYTES:
        raise InputError(f"segment {file.name!r} holds {size:_} bytes",
                         expected=f"segments of at most {MAX_SEGMENT_BYTES:_} bytes (2 GiB): "
                                  "a smaller rotate_rows")
    return file


def _read_segment(file: Path, explicit: bool, counts: dict[str, int],
                  skipped_segments: list[str], *, raw: bool = False) -> _Part | None:
    if file.suffix == ".parquet":
        _bounded_parquet(file)
        part = _read_parquet(file)
        if part is None:
            skipped_segments.append(file.name)
        counts["segments"] += part is not None
        return part
    try:
        records, bad_lines = _read_jsonl(file, explicit)
    except FileNotFoundError:  # converted since it was listed: read the twin
        twin = file.with_suffix(".parquet")
        if explicit or not twin.exists():
            return None
        return _read_segment(twin, explicit, counts, skipped_segments)
    part, bad_records = _flatten(records, file.name, notes=raw)
    counts["segments"] += 1
    counts["lines"] += bad_lines + bad_records
    counts["records"] += bad_records
    return part


def _read_jsonl(file: Path, explicit: bool) -> tuple[list[Any], int]:
    """``(parsed objects, lines that are not JSON)``: streamed, parsed in bounded chunks; a
    line over the limit is skipped without being kept."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(file, flags | (0 if explicit else getattr(os, "O_NOFOLLOW", 0)))
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SEGMENT_BYTES:  # swapped since
        os.close(fd)
        raise InputError(f"segment {file.name!r} is not a regular file of at most 2 GiB",
                         expected="a log segment")
    records: list[Any] = []
    chunk: list[bytes] = []
    bad = size = 0
    with os.fdopen(fd, "rb", buffering=2**20) as handle:
        while line := handle.readline(MAX_LINE_BYTES + 1):
            if len(line) > MAX_LINE_BYTES and line[MAX_LINE_BYTES:] != b"\n":
                while line and not line.endswith(b"\n"):  # the rest, in bounded pieces
                    line = handle.readline(2**20)
                bad += 1
                continue
            if line.strip():
                chunk.append(line.rstrip(b"\r\n"))
                size += len(line)
            if size >= _CHUNK_BYTES:
                bad += _parse(chunk, records)
                chunk, size = [], 0
    return records, bad + _parse(chunk, records)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse(lines: list[bytes], into: list[Any]) -> int:
    """Parse lines joined as one JSON array into ``into``; return the lines that are not JSON.

    On failure, or when the element count differs from the line count, the
    halves are parsed apart (a torn line costs about two parses, not one per
    line). A hostile edit could still write invalid lines that parse together
    with the same count; every record is checked afterwards, so it can do no
    more than writing valid records could.
    """
    if not lines:
        return 0
    try:
        parsed = json.loads(b"[" + b",".join(lines) + b"]", parse_constant=_refuse_constant)
        if len(parsed) == len(lines):
            into.extend(parsed)
            return 0
    except (ValueError, RecursionError):
        pass  # some line is not JSON: find it by halves below
    if len(lines) == 1:  # not JSON, or several values on one line
        return 1
    middle = len(lines) // 2
    return _parse(lines[:middle], into) + _parse(lines[middle:], into)


def _valid_columns(columns: Any, n: int, keys: set[str]) -> bool:
    if columns is None:
        return True
    if type(columns) is not dict or len(columns) > MAX_COLUMNS:
        return False
    for key, values in columns.items():
        if type(values) is not list or len(values) != n \
                or not _SCALARS.issuperset(map(type, values)):  # a scan in C: no nested values
            return False
        if key not in keys:
            if not _valid_text(key):
                return False
            keys.add(key)
    return True


def _backed(record: dict[str, Any]) -> bool:
    """An answered record (status 200) of ``n_rows`` > 0 holds a column of ``n_rows`` values
    (outputs, or inputs): its rows are backed by its bytes, so a tiny line never expands to
    millions of rows (a failed record is one row, whatever its ``n_rows``)."""
    if record.get("status") != 200 or record.get("n_rows") == 0:
        return True
    return any(type(c) is dict and len(c) > 0 for c in (record.get("outputs"),
                                                         record.get("inputs")))


def _valid(record: Any, keys: set[str]) -> bool:
    """The shape of one record (a loop over records, never over rows)."""
    if type(record) is not dict or type(record.get("v")) is not int or record["v"] != VERSION:
        return False
    n, status, latency = record.get("n_rows"), record.get("status"), record.get("latency_ms")
    return (type(n) is int and 0 <= n <= MAX_ROWS and type(status) is int and _backed(record)
            and 100 <= status <= 599 and record.get("role") in ROLES
            and (latency is None or (type(latency) in (int, float) and abs(latency) < 1e300))
            and all(_valid_text(record.get(k))
                    for k in ("scored_at", "request_id", "model_version", "error"))
            and type(record.get("notes", [])) is list
            and _valid_columns(record.get("inputs"), n, keys)
            and _valid_columns(record.get("outputs"), n, keys))


def _flatten(records: list[Any], name: str, *, notes: bool = False) -> tuple[_Part, int]:
    """``(rows of the valid records, invalid records)``: vectorised over rows; ``notes``:
    keep each record's notes (as JSON text, for a Parquet segment). A segment (``name``)
    of more rows or cells than a Parquet one may hold raises :class:`~mllife.InputError`
    before anything is expanded."""
    keys: set[str] = set()  # column names already checked
    good = [r for r in records if _valid(r, keys)]
    stamps = pd.to_datetime(pd.Series([r["scored_at"] for r in good], dtype=object),
                            utc=True, format="ISO8601", errors="coerce")
    known = (stamps.notna() & (stamps >= _FIRST) & (stamps <= _LAST)).to_numpy()
    if not known.all():
        good = [r for r, ok in zip(good, known.tolist(), strict=True) if ok]
        stamps = stamps[known]
    ns = stamps.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").view(np.int64)
    status = np.array([r["status"] for r in good], dtype=np.int64)
    sizes = np.array([r["n_rows"] for r in good], dtype=np.int64)
    answered = status == 200
    counts = np.where(answered, sizes, 1)  # a failed request: one row
    total = int(counts.sum())
    columns = {key: [r.get(key) if r["status"] == 200 else None for r in good]
               for key in ("inputs", "outputs")}
    names = {key: dict.fromkeys(chain.from_iterable(c for c in listed if c))  # first-seen order
             for key, listed in columns.items()}
    width = len(LOG_COLUMNS) + 2 + sum(map(len, names.values()))  # + n_rows, notes
    if total > MAX_SEGMENT_ROWS or total * width > MAX_SEGMENT_CELLS:  # as a Parquet segment
        raise InputError(f"segment {name!r} holds {total:_} rows x {width:_} columns",
                         expected=f"at most {MAX_SEGMENT_ROWS:_} rows and "
                                  f"{MAX_SEGMENT_CELLS:_} cells, as the log writes")
    row = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)

    def repeat(values: list[Any], dtype: Any = object) -> np.ndarray:
        return np.repeat(np.array(values, dtype=dtype), counts)

    fixed = {
        "scored_at": np.repeat(ns, counts),
        **{k: repeat([r[k] for r in good]) for k in _TEXT_COLUMNS},
        "row": np.where(np.repeat(answered, counts), row, -1),
        "status": np.repeat(status, counts), "n_rows": np.repeat(sizes, counts),
        "latency_ms": repeat([r["latency_ms"] for r in good], np.float64),  # None: NaN
    }
    if notes:
        fixed["notes"] = repeat([json.dumps(r.get("notes", []), separators=(",", ":"))
                                 for r in good])
    part = _Part(total, fixed)
    for where, key in ((part.inputs, "inputs"), (part.outputs, "outputs")):
        for column in names[key]:
            pieces = [c[column] if c and column in c else [None] * size
                      for c, size in zip(columns[key], counts.tolist(), strict=True)]
            where[column] = np.fromiter(chain.from_iterable(pieces), dtype=object, count=total)
    return part, len(records) - len(good)


def _bounded_parquet(file: Path) -> None:
    """Refuse a Parquet segment whose metadata announces more rows or cells than the log
    writes, before anything is decoded (a few KB can encode billions of rows)."""
    _need_pyarrow("reading a Parquet log segment")
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(file)
        rows, columns = int(meta.num_rows), int(meta.num_columns)
    except Exception:  # not Parquet: _read_parquet skips it and names it
        return
    if rows > MAX_SEGMENT_ROWS or rows * columns > MAX_SEGMENT_CELLS:
        raise InputError(f"Parquet segment {file.name!r} holds {rows:_} rows x {columns:_} "
                         "columns",
                         expected=f"at most {MAX_SEGMENT_ROWS:_} rows and "
                                  f"{MAX_SEGMENT_CELLS:_} cells, as the log writes")


def _read_parquet(file: Path) -> _Part | None:
    """A converted segment back into rows; None when it is not one (unreadable, other shape)."""
    _need_pyarrow("reading a Parquet log segment")
    try:
        frame = pd.read_parquet(file)
        n = len(frame)
        stamps = pd.to_datetime(frame["scored_at"], utc=True)
        fixed = {"scored_at": stamps.dt.tz_localize(None).to_numpy(
            dtype="datetime64[ns]").view(np.int64),
            "latency_ms": pd.to_numeric(frame["latency_ms"]).to_numpy(
                dtype=np.float64, na_value=np.nan)}
        for name in ("row", "status", "n_rows"):
            if not pd.api.types.is_integer_dtype(frame[name].dtype):
                return None
            fixed[name] = frame[name].to_numpy(dtype=np.int64)  # a null raises: skipped
        for name in (*_TEXT_COLUMNS, "notes"):
            fixed[name] = frame[name].to_numpy(dtype=object)
            if pd.api.types.infer_dtype(fixed[name], skipna=False) not in ("string", "empty") or (
                    name != "notes" and n and frame[name].str.len().max() > MAX_TEXT):
                return None
        if stamps.isna().any() or not np.isin(fixed["role"], ROLES).all() \
                or not ((fixed["status"] >= 100) & (fixed["status"] <= 599)).all():
            return None
        part = _Part(n, fixed)
        for column in map(str, frame.columns):
            for prefix, where in ((_INPUT, part.inputs), (_OUTPUT, part.outputs)):
                if column.startswith(prefix):
                    where[column[len(prefix):]] = np.fromiter(
                        _array_cells(frame[column].array), dtype=object, count=n)
        return part
    except Exception:  # not a segment this log wrote: skipped and named in attrs
        return None


def _series(values: np.ndarray) -> pd.Series:
    """A column from JSON values, its dtype as pandas infers it (text the string dtype
    cannot hold, such as lone surrogates, stays object), except integers with missing
    values: ``Int64`` (``UInt64``, else objects, beyond), never float64, which rounds
    integers past 2**53 and turns class labels 0, 1 into 0.0, 1.0."""
    listed = values.tolist()
    if pd.api.types.infer_dtype(values, skipna=True) == "integer" and pd.isna(values).any():
        for dtype in ("Int64", "UInt64"):
            with contextlib.suppress(TypeError, ValueError, OverflowError):
                return pd.Series(pd.array(listed, dtype=dtype))
        return pd.Series(values, dtype=object)
    try:
        return pd.Series(listed)
    except (UnicodeError, TypeError, ValueError):
        return pd.Series(values, dtype=object)


def _frame(parts: list[_Part], *, raw: bool) -> pd.DataFrame:
    """The parts as one frame; ``raw``: the Parquet layout (``input.``/``output.`` prefixes,
    ``n_rows`` and ``notes`` kept, nullable dtypes so integers stay integers next to the
    failed rows' nulls)."""
    data: dict[str, Any] = {}
    for name in [*LOG_COLUMNS, "n_rows", "notes"] if raw else LOG_COLUMNS:
        dtype: Any = {"scored_at": np.int64, "row": np.int64, "status": np.int64,
                      "n_rows": np.int64, "latency_ms": np.float64}.get(name, object)
        values = np.concatenate([np.zeros(0, dtype=dtype), *(p.fixed[name] for p in parts)])
        if name == "scored_at":
            data[name] = pd.Series(values.view("datetime64[ns]")).dt.tz_localize("UTC")
        else:
            data[name] = pd.Series(values.tolist() if dtype is object else values,
                                   dtype=str if dtype is object else dtype)
    names = {kind: list(dict.fromkeys(chain.from_iterable(getattr(p, kind) for p in parts)))
             for kind in ("inputs", "outputs")}
    names["outputs"].sort(key=lambda c: (c != "prediction", not c.startswith("proba_")))
    columns = {}
    for kind, listed in names.items():
        for name in listed:
            values = np.concatenate([np.zeros(0, dtype=object), *(
                getattr(p, kind).get(name, np.full(p.n, None, dtype=object)) for p in parts)])
            if raw or not pd.isna(values).all():  # else a column only rows left out had
                columns[kind, name] = values
    if raw:
        for (kind, name), values in columns.items():
            if pd.api.types.infer_dtype(values, skipna=True) in _NULLABLE:  # never mixed
                with contextlib.suppress(UnicodeError, TypeError, ValueError):
                    values = pd.array(values.tolist())
            data[(_INPUT if kind == "inputs" else _OUTPUT) + name] = values
        return pd.DataFrame(data)
    reserved = set(LOG_COLUMNS) | {name for kind, name in columns if kind == "outputs"}
    taken = reserved | {name for kind, name in columns if kind == "inputs"}
    for (kind, name), values in columns.items():
        label = name
        while kind == "inputs" and name in reserved and label in taken:  # a log column's name
            label = _INPUT + label
        while kind == "outputs" and label in LOG_COLUMNS:
            label = _OUTPUT + label
        taken.add(label)
        data[label] = _series(values)
    return pd.DataFrame(data)
