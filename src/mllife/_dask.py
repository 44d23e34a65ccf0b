"""Dask frames: recognised without importing dask, reduced in a tree, computed with progress.

The one private layer between mllife and Dask (the optional extra
``mllife[dask]``). ``import mllife`` never imports dask: a Dask frame is
recognised by its type's module, and dask is imported only when such a frame
(or a Parquet path) reaches an entry point that accepts one
(``DriftProfile.fit``, ``drift_report``, ``profile``, ``audit``,
``Monitor.observe``).

The pattern every entry point follows: a *leaf* function turns one pandas
partition into a small mergeable summary (a profile, value counts, a
sketch), the summaries are merged in a fixed tree (``split_every`` at a
time, in partition order, so the same partitioning always gives the same
result), and only the merged summary comes back to the client. Rows never
do, except a bounded sample where a check needs rows together.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import traceback
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ._errors import InputError, MissingDependencyError, MllifeError

__all__ = [
    "DASK_INSTALL",
    "SPLIT_EVERY",
    "compute",
    "is_dask_frame",
    "is_parquet_path",
    "known_partition_lengths",
    "partition_lengths",
    "progress",
    "progress_enabled",
    "read_parquet",
    "require_dask",
    "to_dask_frame",
    "tree_merge",
    "tree_reduce",
]

#: The command that installs the extra, quoted in every error that needs it.
DASK_INSTALL = 'pip install "mllife[dask]"'

#: How many partition summaries one merge task combines (Dask's own default for reductions).
SPLIT_EVERY = 8

_PROGRESS: contextvars.ContextVar[bool] = contextvars.ContextVar("mllife_dask_progress", default=False)

_PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")


def is_dask_frame(obj: Any) -> bool:
    """True for a ``dask.dataframe.DataFrame`` (never imports dask).

    >>> import pandas as pd
    >>> is_dask_frame(pd.DataFrame({"x": [1]}))
    False
    """
    module = type(obj).__module__ or ""
    return (module.partition(".")[0] == "dask" and type(obj).__name__ == "DataFrame"
            and hasattr(obj, "npartitions") and hasattr(obj, "to_delayed"))


def is_parquet_path(obj: Any) -> bool:
    """True for a ``str`` or path naming a Parquet dataset: a ``.parquet`` file, a glob
    ending in one, or a folder holding ``.parquet`` files (directly, or in the ``key=value``
    subfolders of a Hive-partitioned dataset).

    >>> is_parquet_path("logs/2026-11-*.parquet"), is_parquet_path("notes.csv"), is_parquet_path(3)
    (True, False, False)
    """
    if not isinstance(obj, str | os.PathLike):
        return False
    text = os.fspath(obj)
    if not isinstance(text, str):
        return False
    if text.lower().endswith(_PARQUET_SUFFIXES):
        return True
    return os.path.isdir(text) and _holds_parquet(text)


def _holds_parquet(folder: str) -> bool:
    """Whether ``folder`` holds ``.parquet`` files, directly or in ``key=value`` subfolders
    (a Hive-partitioned dataset, as ``to_parquet(path, partition_cols=...)`` writes it)."""
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        found = list(entries)
        if any(e.name.lower().endswith(_PARQUET_SUFFIXES) for e in found):
            return True
        return any("=" in e.name and e.is_dir() and _holds_parquet(e.path) for e in found)
    return False


def require_dask(what: str = "a Dask frame") -> Any:
    """Import ``dask.dataframe`` or raise :class:`MissingDependencyError` naming the extra."""
    try:
        import dask
        import dask.dataframe as dd
    except ImportError as exc:
        raise MissingDependencyError(
            f"{what} needs Dask ({exc}): {DASK_INSTALL}") from None
    del dask
    return dd


def read_parquet(path: Any, *, name: str = "data") -> Any:
    """A Parquet file, glob or folder as a Dask frame (read lazily, one partition per file
    or row group, as Dask chooses).

    Nothing in the file is evaluated: Parquet holds typed columns, read by
    pyarrow. A path that matches no file, or a file that is not Parquet, is an
    :class:`~mllife.InputError` naming the path.
    """
    dd = require_dask(f"reading {os.fspath(path)!r}")
    text = os.fspath(path)
    try:
        frame = dd.read_parquet(text)
        _ = frame.columns  # reads the schema now, so a bad path fails here
    except Exception as exc:  # OSError, pyarrow's ArrowInvalid (a ValueError), fsspec's errors...
        if not isinstance(exc, OSError | ValueError | TypeError | IndexError) and \
                type(exc).__module__.partition(".")[0] not in {"pyarrow", "dask", "fsspec"}:
            raise
        raise InputError(f"{name} {text!r} could not be read as Parquet ({type(exc).__name__}: {exc})",
                         expected="a Parquet file, a glob of Parquet files or a folder of them") from None
    if len(frame.columns) == 0:  # Dask reads a glob that matches nothing as a frame without columns
        raise InputError(f"{name} {text!r} matches no Parquet file with columns",
                         expected="a Parquet file, a glob of Parquet files or a folder of them")
    return frame


def to_dask_frame(obj: Any, *, name: str = "data") -> Any | None:
    """``obj`` as a Dask frame when it is one or names a Parquet dataset, else ``None``.

    The columns must be unique (Dask allows repeats; every mllife summary is by
    name).
    """
    if is_parquet_path(obj):
        frame = read_parquet(obj, name=name)
    elif is_dask_frame(obj):
        frame = obj
    else:
        return None
    counts = Counter(map(_hashable, frame.columns))
    dups = sorted(str(c) for c, n in counts.items() if n > 1)
    if dups:
        raise InputError(f"{name} has duplicate column names {', '.join(dups)}", expected="unique column names")
    return frame


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def tree_reduce(frame: Any, leaf: Callable[..., Any], merge: Callable[[Sequence[Any]], Any], *,
                split_every: int = SPLIT_EVERY, shared: Any = None) -> Any:
    """A lazy Dask object: ``leaf(partition, i)`` on every partition, merged in a tree.

    ``merge`` receives a list of at most ``split_every`` summaries, always in
    partition order, and returns one summary. The tree's shape depends only on
    the number of partitions, so the same frame gives the same result on any
    cluster. A frame with no partitions is not possible in Dask; an empty
    partition is passed to ``leaf`` like any other.

    ``shared`` (optional): one object every leaf reads (a fitted model, its
    settings), passed as ``leaf(partition, i, shared)``. It enters the graph
    once, as a key of its own, so each worker receives it once rather than a
    copy inside every leaf task.
    """
    import dask

    if split_every < 2:
        raise InputError(f"split_every={split_every!r} is not usable", expected="an integer >= 2")
    leaf_task = dask.delayed(leaf, pure=True)
    extra = () if shared is None else (
        dask.delayed(shared, name=f"mllife-shared-{uuid.uuid4().hex}", traverse=False),)
    level = [leaf_task(part, i, *extra) for i, part in enumerate(frame.to_delayed(optimize_graph=True))]
    return tree_merge(level, merge, split_every=split_every)


def tree_merge(level: Sequence[Any], merge: Callable[[Sequence[Any]], Any], *,
               split_every: int = SPLIT_EVERY) -> Any:
    """Lazy summaries (Dask ``Delayed``, in partition order) merged in the fixed tree of
    :func:`tree_reduce`: for work whose leaves yield several outputs, each merged apart.

    ``merge`` gets at most ``split_every`` summaries, in order; a lone one moves up unmerged.
    """
    import dask

    if split_every < 2:
        raise InputError(f"split_every={split_every!r} is not usable", expected="an integer >= 2")
    if not level:
        raise InputError("no summaries to merge", expected="at least one partition")
    merge_task = dask.delayed(merge, pure=True)
    level = list(level)
    while len(level) > 1:
        groups = [level[i:i + split_every] for i in range(0, len(level), split_every)]
        level = [merge_task(g) if len(g) > 1 else g[0] for g in groups]  # a lone summary moves up
    return level[0]


def partition_lengths(frame: Any) -> list[int]:
    """Rows of each partition of ``frame``, in order.

    Read from the Parquet metadata or the in-memory frame when Dask knows
    them (its ``Lengths`` expression, the one private Dask name used here:
    without it, or when it does not resolve), else by computing ``len`` of
    every partition.
    """
    known = known_partition_lengths(frame)
    if known is not None:
        return known
    (lengths,) = compute(frame.map_partitions(len))
    return [int(n) for n in lengths]


def known_partition_lengths(frame: Any) -> list[int] | None:
    """Rows of each partition when Dask knows them without reading the data (Parquet
    metadata, an in-memory frame), else ``None``: never computes anything."""
    try:
        from dask.dataframe.dask_expr._expr import Lengths, Literal

        known = Lengths(frame.expr).optimize()
        if isinstance(known, Literal) and len(known.value) == frame.npartitions:
            return [int(n) for n in known.value]
    except (ImportError, AttributeError, TypeError, ValueError):
        return None  # another Dask's expressions: the caller counts the rows instead
    return None


def progress_enabled() -> bool:
    """Whether :func:`progress` is on in this context."""
    return _PROGRESS.get()


@contextlib.contextmanager
def progress(enabled: bool = True) -> Iterator[None]:
    """Show Dask's progress bar for the distributed work mllife starts inside the block."""
    if not isinstance(enabled, bool):
        raise InputError(f"enabled={enabled!r} is not usable", expected="True or False")
    token = _PROGRESS.set(enabled)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def _current_client() -> Any | None:
    """The active ``distributed.Client``, if distributed is imported and one is running."""
    if "distributed" not in sys.modules:
        return None
    from distributed import default_client

    try:
        return default_client()
    except ValueError:  # no client: Dask's local scheduler runs the graph
        return None


def compute(*objects: Any) -> tuple[Any, ...]:
    """``dask.compute(*objects)`` on the active scheduler, with a progress bar when asked.

    With a ``distributed.Client`` the bar is ``distributed.progress`` over the
    submitted futures; otherwise Dask's local ``ProgressBar``. Either writes
    to standard output (a widget in a notebook, with a client).

    An error raised while Dask's Parquet reader reads a file (a corrupt file
    among good ones, a file without the dataset's columns: only the first
    file's schema is read up front) is an :class:`~mllife.InputError`.
    """
    try:
        return _compute(*objects)
    except Exception as exc:  # re-raised unless Dask's Parquet reader raised it
        if isinstance(exc, MllifeError) or not _raised_reading_parquet(exc):
            raise
        raise InputError(f"a file of the Parquet dataset could not be read ({type(exc).__name__}: {exc})",
                         expected="Parquet files that all hold the dataset's columns") from None


def _raised_reading_parquet(exc: BaseException) -> bool:
    """Whether ``exc`` was raised inside Dask's Parquet reader (its traceback, rebuilt from the
    worker's by ``distributed``, passes through ``dask/dataframe/io/parquet``)."""
    marker = os.sep.join(("dask", "dataframe", "io", "parquet", ""))
    return any(marker in frame.filename for frame in traceback.extract_tb(exc.__traceback__))


def _compute(*objects: Any) -> tuple[Any, ...]:
    import dask

    if not progress_enabled():
        return tuple(dask.compute(*objects))
    client = _current_client()
    if client is not None:
        from distributed import progress as distributed_progress

        futures = client.compute(list(objects))
        distributed_progress(futures)
        return tuple(client.gather(futures))
    from dask.diagnostics import ProgressBar

    with ProgressBar():
        return tuple(dask.compute(*objects))
