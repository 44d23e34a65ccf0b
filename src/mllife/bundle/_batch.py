"""``ModelBundle.predict_file``: score a CSV or Parquet file in chunks, with a reject file.

The file is read chunk by chunk (``pandas.read_csv(chunksize=...)``,
``pyarrow.parquet.ParquetFile.iter_batches``), each chunk is validated by the
bundle's contract, its good rows are scored and its bad rows are written to the
reject file with their problems. Both outputs are written to temporary files
next to their targets and renamed at the end: a failure leaves neither.

How a CSV cell is read (decided here, once): the contract's text, date-time and
boolean columns are read as text, its numeric columns by pandas' parser (as text
on pandas 2, whose parser rounds floats within an ulp), then typed as the
contract says. A cell is missing when it is empty or one of pandas' default
missing-value markers (:data:`NA_MARKERS`), except in a text column whose
contract lists that marker as a category (a category ``"NA"`` stays the text
``"NA"``). Numbers are read exactly, floats bit for bit, integers beyond 2**53
without rounding; a cell that is no number stays text, so the contract rejects
that row ("text instead of integers") and no other. Date-times stay ISO 8601
text, which the contract parses. Columns outside the contract are copied as
written (text), only the empty cell being missing.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import os
import sys
import tempfile
import time
import warnings
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._compat import PANDAS_GE_3
from .._errors import InputError, MissingDependencyError, ModelError, SchemaError
from ._cells import BYTES, COMPLEX, NESTED, OTHER, classify
from ._columns import _CHECKS, _Result
from ._schema import InputSchema, broken_rows, problems_message

if TYPE_CHECKING:
    from ._bundle import ModelBundle

__all__ = ["NA_MARKERS", "PredictFileResult", "predict_file"]

#: The text read_csv takes for a missing value by default (pandas 2.2 and 3): fixed here,
#: so every pandas version reads a file the same way.
NA_MARKERS = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
              "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
#: The CSV parser. pandas 3's C parser refuses a line with more cells than the header;
#: pandas 2's C parser, reading in chunks, silently cuts such a line when it starts a
#: chunk, and its Python parser (slower) refuses it.
_PARSER: dict[str, Any] = ({"engine": "c", "low_memory": False} if PANDAS_GE_3
                           else {"engine": "python"})
#: Suffixes read and written, and their format.
_FORMATS = {".csv": "csv", ".csv.gz": "csv", ".parquet": "parquet", ".pq": "parquet"}
#: The columns of the outputs that a ``keep`` column may not take.
_OUTPUT_NAMES = ("row", "prediction", "model_version")
#: Rounds of validation a chunk gets at most (each removes the rows found broken).
_MAX_ROUNDS = 4
#: The problems of a whole table (not of its cells).
_TABLE_PROBLEMS = ("missing column", "duplicated column", "unexpected column")
#: Integers a float64 holds exactly.
_EXACT_FLOAT = 2.0 ** 53
#: The largest chunk passed to the readers (``chunk_rows`` beyond it reads the same).
_MAX_CHUNK = 2**62


@dataclass(frozen=True, repr=False)
class PredictFileResult:
    """What :meth:`ModelBundle.predict_file` did: rows read, scored and rejected, and where.

    ``rows == scored + rejected`` always: every row of the source is either in
    ``dst`` or in ``rejects``, under its source row number.

    Attributes
    ----------
    rows : int
        Data rows read from the source.
    scored : int
        Rows written to ``dst`` with their prediction.
    rejected : int
        Rows written to ``rejects`` with their problems.
    dst : Path
        The scored file.
    rejects : Path
        The reject file, always written (with its header when no row was rejected).
    seconds : float
        Wall-clock time of the whole call.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mllife.bundle import InputSchema, ModelBundle
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    >>> bundle = ModelBundle(LogisticRegression().fit(X, [0, 0, 1, 1]),
    ...                      InputSchema.infer(X), version="1")
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "in.csv").write_text("x\\n0.5\\nabc\\n2.5\\n")
    >>> result = bundle.predict_file(folder / "in.csv", folder / "out.csv")
    >>> result.rows, result.scored, result.rejected, result.rejects.name
    (3, 2, 1, 'out.rejects.csv')
    >>> result
    <PredictFileResult 3 rows: 2 scored, 1 rejected in ... s -> out.csv (rejects: out.rejects.csv)>
    """

    rows: int
    scored: int
    rejected: int
    dst: Path
    rejects: Path
    seconds: float

    def __repr__(self) -> str:
        return (f"<PredictFileResult {self.rows:,} rows: {self.scored:,} scored, "
                f"{self.rejected:,} rejected in {self.seconds:.3g} s -> {self.dst.name} "
                f"(rejects: {self.rejects.name})>")


# ---------------------------------------------------------------- arguments
def _format(path: Path, what: str) -> str:
    name = path.name.lower()
    for suffix in sorted(_FORMATS, key=len, reverse=True):
        if name.endswith(suffix) and len(name) > len(suffix):
            return _FORMATS[suffix]
    raise InputError(f"{what} {str(path)!r} has an unknown suffix",
                     expected="a file ending in .csv, .csv.gz, .parquet or .pq")


def _stem(path: Path) -> str:
    name = path.name
    for suffix in sorted(_FORMATS, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _as_path(value: Any, what: str) -> Path:
    if not isinstance(value, str | os.PathLike) or not str(value):
        raise InputError(f"{what}={value!r}", expected="a path (str or pathlib.Path)")
    return Path(value)


def _target(path: Path, what: str) -> Path:
    if not path.parent.is_dir():
        raise InputError(f"the folder of {what} {str(path)!r} does not exist",
                         expected="a file in an existing folder")
    if path.is_dir():
        raise InputError(f"{what} {str(path)!r} is a folder", expected="a file path")
    return path


def _keep_names(keep: Any) -> tuple[str, ...]:
    names = (keep,) if isinstance(keep, str) else keep
    try:
        names = tuple(names)
    except TypeError:
        raise InputError(f"keep={keep!r}", expected="a sequence of column names") from None
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise InputError(f"keep={keep!r}", expected="distinct column names (text)")
    taken = [n for n in names if n in _OUTPUT_NAMES or n.startswith("proba_")]
    if taken:
        raise InputError(f"keep names {taken}, which the output writes itself",
                         expected="columns other than row, prediction, proba_<class> and "
                                  "model_version")
    return names


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet  # the submodule, reached as pa.parquet
    except ImportError:
        raise MissingDependencyError(
            "Parquet files need pyarrow: pip install pyarrow") from None
    return pa


# ---------------------------------------------------------------- reading
class _Chunk:
    """One chunk of the source: the frame the contract checks, and its rows as read."""

    def __init__(self, start: int, checked: pd.DataFrame, raw: Any,
                 refused: list[tuple[str, np.ndarray]] | None = None) -> None:
        self.start = start
        self.checked = checked  # the contract's columns, typed
        self.raw = raw  # the rows as read: a frame (CSV) or a RecordBatch (Parquet)
        self.refused = refused or []  # cells the reader itself refuses: (label, mask)

    def __len__(self) -> int:
        return len(self.checked)

    def frame(self, columns: list[int], positions: np.ndarray) -> pd.DataFrame:
        """The source columns at ``columns`` (indices) of the rows at ``positions``, as read."""
        if isinstance(self.raw, pd.DataFrame):
            return self.raw.iloc[positions, columns]
        return _arrow_to_pandas(self._taken(columns, positions))

    def arrays(self, columns: list[int], positions: np.ndarray) -> list[Any]:
        """The same as Arrow arrays: Parquet types kept, CSV cells as text (string).

        A CSV column that pandas parsed as numbers (pandas 3) is written as the
        text of its numbers, as the CSV outputs write it: its type may change
        from chunk to chunk (int64, float64 next to a missing cell, text next
        to "abc"), text does not.
        """
        pa = _pyarrow()
        if not isinstance(self.raw, pd.DataFrame):
            return list(self._taken(columns, positions).columns)
        arrays = []
        for i in columns:
            cells = self.raw.iloc[:, i].to_numpy()[positions]
            if cells.dtype.kind in "iufb":
                text = cells.astype(str).astype(object)
                text[pd.isna(cells)] = None
                cells = text
            arrays.append(pa.array(np.asarray(cells, dtype=object), type=pa.string(),
                                   from_pandas=True))
        return arrays

    def _taken(self, columns: list[int], positions: np.ndarray) -> Any:
        pa = _pyarrow()
        return self.raw.select(columns).take(pa.array(positions, type=pa.int64()))


def _arrow_to_pandas(table: Any) -> pd.DataFrame:
    """A Parquet batch as pandas: integers with nulls as nullable integers (exact)."""
    pa = _pyarrow()
    nullable = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(),
                pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype(),
                pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
                pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype()}
    return table.to_pandas(types_mapper=nullable.get)


def _exact_int(cell: str) -> Any:
    try:
        return int(cell)
    except ValueError:  # a float literal ("1e20") or more digits than Python reads
        return None


def _exact_floats(text: pd.Series, floats: np.ndarray, parsed: np.ndarray) -> np.ndarray:
    """``floats`` with the ``parsed`` cells read again by Python's (correctly rounded) parser."""
    if not parsed.any():
        return floats
    try:
        exact = text.to_numpy(dtype=object)[parsed].astype(np.float64)
    except (ValueError, TypeError):  # a form pandas reads and Python does not: pandas' value
        return floats
    floats = floats.copy()
    floats[parsed] = exact
    return floats


def _numbers(text: pd.Series, integer: bool) -> Any:
    """Numeric text as numbers; a cell that is no number stays text, for the contract to judge."""
    text = text.astype(object)  # str (pandas 3) or object: Python strings and NaN
    missing = text.isna().to_numpy()
    values = pd.to_numeric(text, errors="coerce")
    if values.dtype.kind in "iu":  # integers only, nothing missing: exact
        return values.to_numpy()
    floats = np.asarray(values, dtype=np.float64)
    failed = np.isnan(floats) & ~missing
    if not PANDAS_GE_3:  # pandas 2 parses text to the nearest float only within an ulp
        floats = _exact_floats(text, floats, ~failed & ~missing)
    big = np.zeros(len(text), dtype=bool)
    if integer:
        with np.errstate(invalid="ignore"):
            big = ~missing & ~failed & (np.abs(floats) >= _EXACT_FLOAT)
    if not failed.any() and not big.any():
        return floats
    cells = floats.astype(object)
    raw = text.to_numpy(dtype=object)
    if big.any():  # a float64 rounds these integers: read them exactly
        exact = pd.Series(raw[big], dtype=object).map(_exact_int).to_numpy(dtype=object)
        read = ~pd.isna(exact)
        where = np.flatnonzero(big)[read]
        cells[where] = exact[read]
    cells[failed] = raw[failed]
    return cells


def _booleans(text: pd.Series) -> Any:
    """``true``/``false`` (any case) as booleans, numbers as numbers, the rest stays text."""
    missing = text.isna().to_numpy()
    words = text.str.strip().str.lower().map({"true": True, "false": False})
    known = words.notna().to_numpy()
    if known.all():
        return words.to_numpy(dtype=bool)
    cells = np.array(words, dtype=object)  # a copy: written below
    cells[missing] = np.nan
    rest = ~known & ~missing
    if rest.any():
        cells[rest] = _numbers(text[rest], integer=False)
    return cells


def _typed(schema: InputSchema, raw: pd.DataFrame
           ) -> tuple[pd.DataFrame, list[tuple[str, np.ndarray]]]:
    """The contract's columns of a chunk of a CSV file, typed as the contract says.

    Also the cells refused here: an integer column that pandas read as float64
    (the chunk has a missing or a decimal value there) holds its integers
    exactly below 2**53 only; a cell at or beyond it may have been rounded and
    is refused rather than scored with a value the file does not hold.
    """
    out: dict[str, Any] = {}
    refused: list[tuple[str, np.ndarray]] = []
    for spec in schema.specs:
        cells = raw[spec.name]
        if spec.family in {"integer", "float"} and cells.dtype.kind not in "iufb":
            # a cell that is no number: the column came back as text
            out[spec.name] = _numbers(cells, integer=spec.family == "integer")
        elif spec.family == "boolean":
            out[spec.name] = _booleans(cells)
        else:  # numbers pandas parsed, text, date-times as text (the contract parses them)
            out[spec.name] = cells
            if spec.family == "integer" and cells.dtype.kind == "f":
                with np.errstate(invalid="ignore"):
                    rounded = np.abs(cells.to_numpy()) >= _EXACT_FLOAT
                rounded &= np.isfinite(cells.to_numpy())
                if rounded.any():
                    refused.append((f"{spec.name}: integer of 2**53 or more, not read exactly "
                                    "(a missing or decimal value in its chunk made it float64)",
                                    rounded))
    return pd.DataFrame(out, index=raw.index, copy=False), refused


def _csv_dtypes(schema: InputSchema, columns: Sequence[str]) -> dict[str, Any]:
    """How read_csv reads each column: numbers with its own (fast) parser, the rest as text.

    A numeric column with a cell that is no number comes back as text, typed by
    :func:`_numbers`, which leaves that cell for the contract to reject. On
    pandas 2, whose parsers round floats within an ulp, numbers are read as
    text and typed by :func:`_numbers`, exactly.
    """
    specs = {s.name: s for s in schema.specs}
    dtypes: dict[str, Any] = {}
    for name in columns:
        family = specs[name].family if name in specs else None
        if family == "boolean" or (family in {"integer", "float"} and not PANDAS_GE_3):
            dtypes[name] = object  # typed by _booleans / _numbers
        elif family not in {"integer", "float"}:
            dtypes[name] = str
    return dtypes


def _na_markers(schema: InputSchema, columns: Sequence[str]) -> dict[str, list[str]]:
    """Per column, the cells read as missing (see the module's docstring)."""
    specs = {s.name: s for s in schema.specs}
    markers: dict[str, list[str]] = {}
    for name in columns:
        spec = specs.get(name)
        if spec is None:
            markers[name] = [""]
        elif spec.family == "string" and spec.categories:
            markers[name] = [m for m in NA_MARKERS if m not in set(spec.categories)]
        else:
            markers[name] = list(NA_MARKERS)
    return markers


class _Source:
    """The chunks of a CSV or Parquet file, with its header and its row count when known."""

    def __init__(self, path: Path, fmt: str, schema: InputSchema, chunk_rows: int) -> None:
        self.path, self.fmt, self.schema, self.chunk_rows = path, fmt, schema, chunk_rows
        self.total: int | None = None
        self._handle: Any = None
        self.types: list[Any] = []
        try:
            if fmt == "parquet":
                pq = _pyarrow().parquet
                self._handle = pq.ParquetFile(path)
                self.names = list(self._handle.schema_arrow.names)
                self.columns = self.names
                self.types = list(self._handle.schema_arrow.types)
                self.total = int(self._handle.metadata.num_rows)
            else:
                self.names = self._csv_names()
                with warnings.catch_warnings():
                    warnings.simplefilter("error", pd.errors.ParserWarning)
                    self.columns = [str(c) for c in pd.read_csv(
                        path, nrows=0, dtype=object, index_col=False).columns]
        except Exception as exc:
            raise self._unreadable(exc) from None

    def _csv_names(self) -> list[str]:
        opener: Any = gzip.open if self.path.name.lower().endswith(".gz") else open
        with opener(self.path, "rt", encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), [])

    def _unreadable(self, exc: BaseException) -> InputError:
        return InputError(f"cannot read {str(self.path)!r} as {self.fmt.upper()}: "
                          f"{type(exc).__name__}: {str(exc)[:300]}",
                          expected="a UTF-8 CSV file with a header line" if self.fmt == "csv"
                          else "a Parquet file")

    def __iter__(self) -> Iterator[_Chunk]:
        start = 0
        contract = list(self.schema.columns)
        try:
            for raw in self._read():
                refused: list[tuple[str, np.ndarray]] = []
                if self.fmt == "parquet":
                    checked = _arrow_to_pandas(raw.select(contract))
                else:
                    checked, refused = _typed(self.schema, raw)
                if len(checked):
                    yield _Chunk(start, checked, raw, refused)
                start += len(checked)
        finally:
            self.close()

    def _read(self) -> Iterator[Any]:
        """The raw chunks; a file that cannot be read is an InputError naming it."""
        try:
            if self.fmt == "parquet":
                batches = self._handle.iter_batches(batch_size=self.chunk_rows)
            else:
                self._handle = pd.read_csv(
                    self.path, chunksize=self.chunk_rows, index_col=False,
                    dtype=_csv_dtypes(self.schema, self.columns), keep_default_na=False,
                    na_values=_na_markers(self.schema, self.columns), encoding="utf-8",
                    **_PARSER)
                batches = iter(self._handle)
            while True:
                with warnings.catch_warnings():
                    # a first line longer than the header: pandas drops cells and warns
                    warnings.simplefilter("error", pd.errors.ParserWarning)
                    raw = next(batches, None)
                if raw is None:
                    return
                yield raw
        except (OSError, ValueError, EOFError, zlib.error, csv.Error,
                pd.errors.ParserWarning) as exc:
            raise self._unreadable(exc) from None

    def close(self) -> None:
        closer = getattr(self._handle, "close", None)
        if closer is not None:
            closer()


def _separator_hint(source: _Source) -> str:
    """A hint when a CSV header is one column holding another separator (``a;b;c``)."""
    if source.fmt != "csv" or len(source.names) != 1:
        return ""
    for sep in (";", "\t", "|"):
        if sep in source.names[0]:
            return (f"\n  (its header is one column: the file looks separated by {sep!r}; "
                    "predict_file reads comma-separated CSV)")
    return ""


def _check_header(source: _Source, schema: InputSchema, keep: tuple[str, ...]) -> None:
    """Whole-table problems (missing, duplicated, unexpected columns): SchemaError."""
    counts = Counter(source.names)
    duplicated = [n for n in schema.columns if counts[n] > 1]
    if duplicated:
        problems = [{"column": n, "problem": "duplicated column", "count": source.total,
                     "expected": "each column once"} for n in duplicated]
        raise SchemaError(problems, f"{source.path.name}: {problems_message(problems)}")
    # One row of missing cells under the file's header: the contract's own column checks
    # (missing, unexpected), by its own words; the cell problems of that row are no concern.
    probe = pd.DataFrame([[None] * len(source.columns)], columns=source.columns, dtype=object)
    try:
        schema.validate(probe)
    except SchemaError as err:
        problems = [{**p, "count": source.total} for p in err.problems
                    if p.get("problem") in _TABLE_PROBLEMS]
        if problems:
            raise SchemaError(problems, f"{source.path.name}: {problems_message(problems)}"
                              f"{_separator_hint(source)}") from None
    absent = [n for n in keep if n not in source.columns or counts[n] > 1]
    if absent:
        raise InputError(f"keep columns {absent} are not (once) in {source.path.name}",
                         expected=f"columns of the file: {source.columns[:20]}")


# ---------------------------------------------------------------- problems
class _Recorder(_Result):
    """The problems of one column, each with the mask of its cells."""

    __slots__ = ("marks",)

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.marks: list[tuple[str, np.ndarray]] = []

    def bad(self, what: str, mask: np.ndarray, expected: str | None = None,
            **extra: Any) -> None:
        super().bad(what, mask, expected, **extra)
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            self.marks.append((f"{self.name}: {what}", mask))


def _joined(marks: list[tuple[str, np.ndarray]], bad: np.ndarray) -> np.ndarray:
    """``"label; label..."`` for each row marked in ``bad``, built label by label."""
    texts = np.full(int(bad.sum()), "", dtype=object)
    for label, mask in marks:
        rows = mask[bad]
        if rows.any():
            glue = np.where(texts[rows] == "", "", "; ").astype(object)
            texts[rows] = texts[rows] + glue + label
    texts[texts == ""] = "breaks the contract"  # never an empty reason
    return texts


def _problem_texts(schema: InputSchema, frame: pd.DataFrame, bad: np.ndarray) -> np.ndarray:
    """``"column: problem; ..."`` for each row marked in ``bad``, built column by column."""
    marks: list[tuple[str, np.ndarray]] = []
    for spec in schema.specs:
        s = frame[spec.name]
        res = _Recorder(spec.name)
        try:
            _CHECKS[spec.family](spec, s, res, schema.policies)
        except (ArithmeticError, TypeError, ValueError) as exc:  # as broken_rows does
            odd = np.isin(classify(s), [NESTED, OTHER, BYTES, COMPLEX]) if s.dtype == object \
                else np.zeros(len(s), dtype=bool)
            res.marks.append((f"{spec.name}: unreadable values ({type(exc).__name__})",
                              odd if odd.any() else np.ones(len(s), dtype=bool)))
        marks += res.marks
    return _joined(marks, bad)


def _score(bundle: ModelBundle, chunk: _Chunk, proba: bool
           ) -> tuple[np.ndarray, pd.DataFrame | None, np.ndarray, np.ndarray]:
    """``(scored positions, their predictions, rejected positions, their problems)``.

    The whole chunk is validated first (one pass for a clean chunk); when it
    breaks the contract, ``broken_rows`` marks the bad rows and the rest is
    validated again. A round can find more (a column's dtype may depend on its
    rows: an integer column with missing values is read as float64), so the
    rounds go on, at most :data:`_MAX_ROUNDS`, each removing the rows it finds.
    """
    method = bundle.predict_proba if proba else bundle.predict
    positions = np.arange(len(chunk))
    rejected: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    problems: list[np.ndarray] = [np.zeros(0, dtype=object)]
    frame = chunk.checked
    if chunk.refused:
        refused = np.logical_or.reduce([mask for _, mask in chunk.refused])
        rejected.append(positions[refused])
        problems.append(_joined(chunk.refused, refused))
        positions = positions[~refused]
        frame = frame.iloc[positions]
        if not len(frame):
            return positions, None, np.concatenate(rejected), np.concatenate(problems)
    last: SchemaError | None = None
    for _ in range(_MAX_ROUNDS):
        try:
            result = method(frame)
        except SchemaError as err:
            last = err
            bad = broken_rows(bundle.schema, frame)
            if not bad.any():
                break
            rejected.append(positions[bad])
            problems.append(_problem_texts(bundle.schema, frame, bad))
            positions = positions[~bad]
            frame = frame.iloc[np.flatnonzero(~bad)]
            if not len(frame):
                return positions, None, np.concatenate(rejected), np.concatenate(problems)
            continue
        return positions, result, np.concatenate(rejected), np.concatenate(problems)
    assert last is not None
    raise SchemaError(last.problems, f"rows {chunk.start} to {chunk.start + len(chunk) - 1} "
                                     f"of the file break the contract, and no row could be "
                                     f"set apart: {last}") from None


# ---------------------------------------------------------------- writing
class _Sink:
    """A CSV (optionally gzip) or Parquet file written chunk by chunk to a temporary file."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path, self.fmt = path, fmt
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        except OSError as exc:
            raise InputError(f"cannot write in the folder of {str(path)!r}: {exc}",
                             expected="a folder you can write to") from None
        os.close(fd)
        self.tmp = Path(tmp)
        self._writer: Any = None
        self._handle: Any = None
        if fmt == "csv":
            # closed by commit() or abort(): the file lives across chunks
            opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
            self._handle = opener(self.tmp, "wt", encoding="utf-8", newline="")
        self._header = True

    def write(self, frame: pd.DataFrame | None, arrays: dict[str, Any] | None) -> None:
        """Append rows: ``frame`` for CSV, ``arrays`` (name -> Arrow array) for Parquet."""
        if self.fmt == "csv":
            assert frame is not None
            frame.to_csv(self._handle, header=self._header, index=False, lineterminator="\n")
            self._header = False
            return
        assert arrays is not None
        pa = _pyarrow()
        table = pa.Table.from_arrays(list(arrays.values()), names=list(arrays))
        if self._writer is None:
            self._writer = pa.parquet.ParquetWriter(self.tmp, table.schema)
        elif table.schema != self._writer.schema:
            try:
                table = table.cast(self._writer.schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                raise ModelError(f"the output of a chunk does not fit the types of the first "
                                 f"chunk ({exc}); write CSV instead") from None
        self._writer.write_table(table)
        self._header = False

    @property
    def empty(self) -> bool:
        return self._header

    def commit(self) -> None:
        """Close, flush to disk and rename to the target."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        with open(self.tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        for closer in (self._handle, self._writer):
            if closer is not None:
                with contextlib.suppress(Exception):  # cleanup: the first error wins
                    closer.close()
        self.tmp.unlink(missing_ok=True)


def _empty_prediction(bundle: ModelBundle) -> np.ndarray:
    classes = getattr(bundle.model, "classes_", None)
    if classes is not None:
        return np.asarray(classes)[:0]
    return np.zeros(0, dtype=np.float64)


def _empty_result(bundle: ModelBundle, proba: bool) -> pd.DataFrame:
    """The prediction columns of no row (the header of an output without a scored row)."""
    columns: dict[str, Any] = {"prediction": _empty_prediction(bundle)}
    if proba:
        for label in getattr(bundle.model, "classes_", ()):
            columns[f"proba_{label}"] = np.zeros(0, dtype=np.float64)
    columns["model_version"] = np.zeros(0, dtype=object)
    return pd.DataFrame(columns)


def _arrow(pa: Any, values: Any, name: str) -> Any:
    if name == "model_version" or name == "problems":
        return pa.array(np.asarray(values, dtype=object), type=pa.string())
    if name.startswith("proba_"):
        return pa.array(np.asarray(values, dtype=np.float64), type=pa.float64())
    array = pa.array(np.asarray(values), from_pandas=True)
    if pa.types.is_null(array.type):  # no row, object dtype: text labels
        array = array.cast(pa.string())
    return array


def _write(sink: _Sink, source: _Source, chunk: _Chunk | None, positions: np.ndarray,
           copied: list[int], names: list[str], computed: dict[str, Any]) -> None:
    """Rows of an output: ``row``, source columns (indices ``copied``, written as
    ``names``), then the ``computed`` columns. ``chunk`` None: no row (the header)."""
    rows = ((chunk.start if chunk is not None else 0) + positions).astype(np.int64)
    if sink.fmt == "csv":
        columns: dict[str, Any] = {"row": rows}
        if copied:
            taken = (chunk.frame(copied, positions) if chunk is not None else
                     pd.DataFrame(np.zeros((0, len(copied)), dtype=object)))
            for i, name in enumerate(names):  # the Series: nullable integers stay integers
                columns[name] = taken.iloc[:, i].reset_index(drop=True)
        columns.update(computed)
        sink.write(pd.DataFrame(columns, copy=False), None)
        return
    pa = _pyarrow()
    arrays: dict[str, Any] = {"row": pa.array(rows, type=pa.int64())}
    taken_arrays = (chunk.arrays(copied, positions) if chunk is not None
                    else [pa.array([], type=source.types[i] if source.types else pa.string())
                       for i in copied])
    arrays.update(zip(names, taken_arrays, strict=True))
    for name, values in computed.items():
        arrays[name] = _arrow(pa, values, name)
    sink.write(None, arrays)


def _reject_names(columns: Sequence[str]) -> list[str]:
    """Source column names in the reject file: ``input.<name>`` when one is taken."""
    taken = {"row", "problems"}
    out = []
    for name in columns:
        new = name
        while new in taken:
            new = f"input.{new}"
        taken.add(new)
        out.append(new)
    return out


# ---------------------------------------------------------------- the call
def _terminal() -> bool:
    """stderr is a terminal (no progress bar in a log file, a pipe or a test)."""
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):  # closed or detached
        return False


def predict_file(bundle: ModelBundle, src: Any, dst: Any, *, chunk_rows: int = 100_000,
                 rejects: Any = None, keep: Any = (), proba: bool | None = None,
                 progress: bool | None = None) -> PredictFileResult:
    """The implementation of :meth:`ModelBundle.predict_file` (documented there)."""
    started = time.perf_counter()
    src_path, dst_path = _as_path(src, "src"), _as_path(dst, "dst")
    src_fmt, dst_fmt = _format(src_path, "src"), _format(dst_path, "dst")
    rej_path = (dst_path.with_name(f"{_stem(dst_path)}.rejects.csv") if rejects is None
                else _as_path(rejects, "rejects"))
    rej_fmt = _format(rej_path, "rejects")
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int | np.integer) \
            or chunk_rows < 1:
        raise InputError(f"chunk_rows={chunk_rows!r}", expected="an integer >= 1")
    for name, flag in (("proba", proba), ("progress", progress)):
        if flag is not None and not isinstance(flag, bool | np.bool_):
            raise InputError(f"{name}={flag!r}", expected="True, False or None")
    keep_names = _keep_names(keep)
    if not src_path.is_file():
        raise InputError(f"src {str(src_path)!r} is not a file",
                         expected="an existing CSV or Parquet file")
    _target(dst_path, "dst")
    _target(rej_path, "rejects")
    resolved = {src_path.resolve(), dst_path.resolve(), rej_path.resolve()}
    if len(resolved) != 3:
        raise InputError(f"src, dst and rejects are not three different files ({src_path}, "
                         f"{dst_path}, {rej_path})", expected="three different paths")
    has_proba = hasattr(bundle.model, "predict_proba")
    if proba and not has_proba:
        raise InputError(f"{type(bundle.model).__name__} has no predict_proba",
                         expected="proba=False or None for a model without probabilities")
    use_proba = has_proba if proba is None else bool(proba)
    if "parquet" in {src_fmt, dst_fmt, rej_fmt}:
        _pyarrow()

    # more rows than any file holds: the readers take a C long
    source = _Source(src_path, src_fmt, bundle.schema, min(int(chunk_rows), _MAX_CHUNK))
    try:
        _check_header(source, bundle.schema, keep_names)
    except BaseException:
        source.close()
        raise
    show = _terminal() if progress is None else progress
    from tqdm import tqdm

    bar = tqdm(total=source.total, unit="rows", desc=f"predict_file {src_path.name}",
               file=sys.stderr, disable=not show, leave=False)
    keep_at = [source.columns.index(name) for name in keep_names]
    everything = list(range(len(source.columns)))
    reject_names = _reject_names(source.columns)
    out = rej = None
    rows = scored = rejected = 0
    try:
        out = _Sink(dst_path, dst_fmt)
        rej = _Sink(rej_path, rej_fmt)  # one at a time: a failure here removes out's file
        for chunk in source:
            positions, result, bad, texts = _score(bundle, chunk, use_proba)
            if result is not None:
                _write(out, source, chunk, positions, keep_at, list(keep_names),
                       {name: result[name].to_numpy() for name in result.columns})
                scored += positions.size
            if bad.size:
                order = np.argsort(bad, kind="stable")
                _write(rej, source, chunk, bad[order], everything, reject_names,
                       {"problems": texts[order]})
                rejected += bad.size
            rows += len(chunk)
            bar.update(len(chunk))
        none = np.zeros(0, dtype=np.int64)
        if out.empty:
            empty = _empty_result(bundle, use_proba)
            _write(out, source, None, none, keep_at, list(keep_names),
                   {name: empty[name].to_numpy() for name in empty.columns})
        if rej.empty:
            _write(rej, source, None, none, everything, reject_names,
                   {"problems": np.zeros(0, dtype=object)})
        rej.commit()
        out.commit()
    except BaseException:
        for sink in (out, rej):
            if sink is not None:
                sink.abort()
        raise
    finally:
        bar.close()
        source.close()
    if rows != scored + rejected:  # pragma: no cover - the invariant the tests assert
        raise AssertionError(f"{rows} rows read, {scored} scored and {rejected} rejected")
    return PredictFileResult(rows=rows, scored=scored, rejected=rejected, dst=dst_path,
                             rejects=rej_path, seconds=time.perf_counter() - started)
