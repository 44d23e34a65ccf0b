"""``Monitor.observe`` on a Dask frame: each partition observed on a worker, the states merged.

A Dask frame is one batch, as if ``observe(ddf.compute())`` had been called,
without its rows ever coming back to the client:

1. Every partition is observed into an *empty copy* of the monitor (its
   settings, bundle and reference; no windows, no pending labels) on a
   worker: the bundle scores the partition there, and the result is the
   partition's window deltas, counts, rows waiting for labels, and the ids
   labelled or left unscored. The copy enters the graph once
   (:func:`mllife._dask.tree_reduce`'s ``shared``), not once per task.
2. The partial states are merged in a fixed tree, in partition order
   (:func:`mllife._dask.tree_reduce`), and the merged delta is merged into
   the monitor on the client, through the same steps as a pandas batch.

What a pandas batch reads from the monitor's current state travels with the
copy: the keys of the windows already seen (so rows of an earlier window
count as late, and the window limit counts them), and each window's
families of the columns the reference does not type (so a new column is
read as before). Row windows follow arrival order: partition ``i``'s rows
come after partition ``i - 1``'s, so the partitions' lengths are computed
first (:func:`mllife._dask.partition_lengths`: from the Parquet metadata when
Dask knows them) and each partition starts at its offset.

Exact, as for the pandas batch: window contents and counts, the window
profiles while a window's column holds at most
:data:`~mllife.monitor._reference.WINDOW_EXACT_SIZE` finite values (above,
the merged sketch is within the profile's stated rank error; partitions
merge in a balanced tree, so that error grows with ``log2`` of the
partitions of a window), quality counts, freshness sketches and late rows,
operational sketches (their merges are exact), pending ids and their order,
repeated ids. The model scores a partition, not the whole batch, so its
floats (probabilities, a regressor's predictions) may differ in the last
bits, and additive sums (confidence, estimated and realized performance)
add per partition: equal up to float rounding. A batch's content hash
(freshness's repeated-batch rule) is that of the whole window slice, as in
pandas; the slice counts as identifying from its exact number of distinct
rows up to :data:`CONTENT_SIZE` of them, above that from bounds on it and a
bottom-k estimate (0.4% error) when the bounds do not decide.

Steps a pandas batch takes for the whole batch are taken per partition
(stated in :meth:`Monitor.observe`): a model that fails on a partition
leaves that partition's rows unscored (pandas: the batch's); a batch that
carries the model's outputs and breaks the schema in some rows keeps the
inputs for a regressor's error model (DLE) in the partitions without broken
rows (pandas: in none); an error raised on a partition (bad probabilities,
too many windows) counts that partition's rows. Warnings raised while a
partition is observed are recorded on the worker and re-issued once each on
the client; as Python's warning filters are process-wide, partitions
observed in one worker process record theirs one at a time.
"""

from __future__ import annotations

import copy
import math
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import _dask
from .._errors import InputError
from .._frame import hash_rows
from ..drift import DriftProfile
from ._state import PendingLabels, WindowState, check_pending_sizes, contains, union_sorted

if TYPE_CHECKING:
    from ._monitor import Monitor

__all__ = ["CONTENT_SIZE", "observe_dask"]

#: Distinct row hashes a window slice keeps for its content hash's "identifying" test:
#: exact up to this many distinct rows (512 KB per window slice at most).
CONTENT_SIZE = 65_536

#: Python's warning filters are process-wide, not per thread: recording the warnings of
#: two partitions at once in one worker process would tangle their filters. Partitions
#: observed in one process therefore record their warnings one at a time.
_RECORDING = threading.Lock()

_EMPTY_U = np.zeros(0, dtype=np.uint64)


# ------------------------------------------------------------------ content of a batch slice
@dataclass(frozen=True)
class _Content:
    """A window slice's rows for freshness's batch content hash, mergeable.

    ``total``: the sum (mod 2**64) of the mixed row hashes; ``n``: rows;
    ``hashes``: the smallest :data:`CONTENT_SIZE` distinct row hashes;
    ``low`` / ``high``: bounds on the distinct rows (equal: exact).
    """

    total: int
    n: int
    hashes: np.ndarray
    low: int
    high: int

    @property
    def complete(self) -> bool:
        """``hashes`` holds every distinct row hash of the slice."""
        return self.low == self.high == self.hashes.size

    def merge(self, other: _Content) -> _Content:
        union = np.union1d(self.hashes, other.hashes)
        n = self.n + other.n
        if self.complete and other.complete:  # the union is known exactly
            low = high = int(union.size)
        else:
            low = max(self.low, other.low, int(union.size))
            high = min(self.high + other.high, n)
        return _Content((self.total + other.total) % 2**64, n, union[:CONTENT_SIZE], low, high)

    def n_distinct(self) -> float:
        """The distinct rows: exact when known, else the bottom-k estimate within the bounds."""
        if self.low == self.high:
            return float(self.low)
        kth = float(self.hashes[-1]) / 2.0**64
        estimate = (self.hashes.size - 1) / kth if kth > 0 else math.inf
        return float(min(max(estimate, self.low), self.high))

    def batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(hashes, counts, rows)`` of the slice as :class:`FreshnessState` keeps a batch."""
        from ._freshness import MIN_DISTINCT_SHARE, _identifying, _mix

        share = MIN_DISTINCT_SHARE * self.n
        # the bounds decide exactly when the share falls outside them; else the estimate does
        distinct = (float(self.low) if self.low >= share else
                    float(self.high) if self.high < share else self.n_distinct())
        if not _identifying(distinct, self.n):
            empty = np.zeros(0, dtype=np.int64)
            return _EMPTY_U, empty, empty
        content = _mix(np.array([self.total ^ self.n], dtype=np.uint64)).astype(np.uint64)
        return content, np.array([1], dtype=np.int64), np.array([self.n], dtype=np.int64)


def _slice_contents(monitor: Monitor, part: pd.DataFrame) -> dict[int, _Content]:
    """The :class:`_Content` of each window slice of a partition (none without input columns).

    The same rows and columns :meth:`FreshnessState.from_batch` hashes for a batch slice.
    """
    from ._freshness import _mix
    from ._monitor_setup import model_inputs
    from ._observe import _window_keys

    schema = set(monitor.bundle.schema.columns)
    cols = [c for c in model_inputs(monitor, part).columns if str(c) in schema]
    if not cols:
        return {}
    keys, inside, _, _ = _window_keys(monitor, part)
    rows = np.flatnonzero(inside)
    order = rows[np.argsort(keys[rows], kind="stable")]
    window_keys, starts = np.unique(keys[order], return_index=True)
    bounds = [*starts.tolist(), order.size]
    hashes = _mix(hash_rows(part, cols))
    out: dict[int, _Content] = {}
    for i, key in enumerate(window_keys.tolist()):  # a loop over windows, not rows
        h = hashes[order[bounds[i]:bounds[i + 1]]]
        uniq = np.unique(h)
        total = int(np.sum(_mix(h), dtype=np.uint64))
        out[key] = _Content(total, int(h.size), uniq[:CONTENT_SIZE], int(uniq.size),
                            int(uniq.size))
    return out


# ------------------------------------------------------------------ partial states
@dataclass
class _Partial:
    """What some consecutive partitions add to a monitor (merged in partition order).

    ``pending``: rows waiting for their label (ids, window keys, predictions,
    probabilities), first occurrence of each id only and no id labelled in
    these partitions; ``n_repeated``: the waiting rows dropped for that.
    ``n_pending`` / ``n_labelled`` / ``n_unscored``: the rows behind each set
    before duplicates were dropped (the monitor's size check counts them so).
    """

    n_classes: int
    n_rows: int = 0
    windows: dict[int, WindowState] = field(default_factory=dict)
    contents: dict[int, _Content] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    pending: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    n_pending: int = 0
    n_repeated: int = 0
    labelled: np.ndarray = field(default_factory=lambda: _EMPTY_U)
    n_labelled: int = 0
    unscored: np.ndarray = field(default_factory=lambda: _EMPTY_U)
    n_unscored: int = 0
    warnings: list[Warning] = field(default_factory=list)


def _settle(partial: _Partial) -> _Partial:
    """Drop waiting rows whose id waited before in these partitions or was labelled in them."""
    if partial.pending is None or partial.pending[0].size == 0:
        return partial
    ids = partial.pending[0]
    _, first = np.unique(ids, return_index=True)
    keep = np.zeros(ids.size, dtype=bool)
    keep[first] = True
    keep &= ~contains(partial.labelled, ids)
    if keep.all():
        return partial
    partial.pending = tuple(a[keep] for a in partial.pending)  # type: ignore[assignment]
    partial.n_repeated += int(ids.size - keep.sum())
    return partial


def _merge_two(a: _Partial, b: _Partial) -> _Partial:
    windows = dict(a.windows)
    for key, state in b.windows.items():
        windows[key] = state if key not in windows else windows[key].merge(state)
    contents = dict(a.contents)
    for key, content in b.contents.items():
        contents[key] = content if key not in contents else contents[key].merge(content)
    counts = {k: a.counts.get(k, 0) + b.counts.get(k, 0) for k in dict.fromkeys([*a.counts,
                                                                                  *b.counts])}
    pending = a.pending if b.pending is None else b.pending if a.pending is None else tuple(
        np.concatenate([x, y]) for x, y in zip(a.pending, b.pending, strict=True))
    seen = {(type(w), str(w)) for w in a.warnings}
    out = _Partial(
        a.n_classes, a.n_rows + b.n_rows, windows, contents, counts, pending,  # type: ignore[arg-type]
        a.n_pending + b.n_pending, a.n_repeated + b.n_repeated,
        union_sorted(a.labelled, b.labelled), a.n_labelled + b.n_labelled,
        union_sorted(a.unscored, b.unscored), a.n_unscored + b.n_unscored,
        [*a.warnings, *(w for w in b.warnings if (type(w), str(w)) not in seen)])
    return _settle(out)


def _merge_partials(parts: Sequence[_Partial]) -> _Partial:
    """The partial states of consecutive partitions, in partition order, as one.

    Merged in pairs, level by level: every merge of two sketched profiles adds up
    to ``1 / K`` to their rank error, so a balanced tree (depth ``log2`` of the
    partitions, over :func:`~mllife._dask.tree_reduce`'s levels) keeps a window
    spread over 64 partitions within ``6.5 / K`` where a chain would reach ``63 / K``.
    """
    level = list(parts)
    while len(level) > 1:
        level = [_merge_two(level[i], level[i + 1]) if i + 1 < len(level) else level[i]
                 for i in range(0, len(level), 2)]
    return level[0]


@dataclass(frozen=True)
class _Shared:
    """What every partition's observation reads: the empty monitor and the row offsets."""

    monitor: Monitor
    lengths: tuple[int, ...] | None = None
    offsets: tuple[int, ...] | None = None


def _observe_partition(part: pd.DataFrame, index: int, shared: _Shared) -> _Partial:
    """One partition observed into the empty monitor: its :class:`_Partial`."""
    from ._observe import observe_batch

    empty = shared.monitor
    n_classes = len(empty.classes or ())
    if shared.lengths is not None and len(part) != shared.lengths[index]:
        raise InputError(f"partition {index} of the batch had {shared.lengths[index]} rows when "
                         f"counted and {len(part)} when observed",
                         expected="a Dask frame that gives the same partitions each time it is "
                                  "read (persist() a random or changing one first)")
    if len(part) == 0:
        return _Partial(n_classes)
    monitor = copy.copy(empty)
    monitor._counts = {**empty._counts,
                       "rows_seen": 0 if shared.offsets is None else shared.offsets[index]}
    with _RECORDING, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        deltas, counts, pending, labelled, unscored = observe_batch(monitor, part)
        contents = _slice_contents(monitor, part)
    found: dict[tuple[type, str], Warning] = {}
    for w in caught:
        message = w.message if isinstance(w.message, Warning) else w.category(str(w.message))
        found.setdefault((type(message), str(message)), message)
    out = _Partial(n_classes, len(part), deltas, contents,
                   {k: int(v) for k, v in counts.items()},
                   labelled=np.unique(labelled), n_labelled=int(labelled.size),
                   unscored=np.unique(unscored), n_unscored=int(unscored.size),
                   warnings=list(found.values()))
    if pending is not None:
        ids, keys, prediction, proba = pending
        if proba is None:
            proba = np.full((ids.size, n_classes), np.nan)
        out.pending = (ids, keys, prediction, proba)
        out.n_pending = int(ids.size)
    return _settle(out)


# ------------------------------------------------------------------ the client side
def _empty_copy(monitor: Monitor) -> Monitor:
    """The monitor's settings, bundle and reference without its state, plus what a batch
    reads from that state: the keys of the windows seen and, per window, the profiles of
    the columns the reference does not type (a new column keeps the family it had)."""
    from ._reference import targets_of

    typed = set(targets_of(monitor.ref.inputs))
    stubs: dict[int, WindowState] = {}
    for key, state in monitor._windows.items():
        inputs = None
        profile = state.inputs
        if profile is not None:
            untyped = [profile[c] for c in profile.columns
                       if c not in typed and profile[c].summary.n > 0]
            if untyped:
                inputs = DriftProfile(untyped, n_rows=profile.n_rows,
                                      exact_size=profile.exact_size,
                                      sketch_size=profile.sketch_size, n_bins=profile.n_bins)
        stubs[key] = WindowState(key, inputs=inputs)
    out = copy.copy(monitor)
    out._windows = stubs
    out._pending = PendingLabels(len(monitor.classes or ()))
    out._counts = dict.fromkeys(monitor._counts, 0)
    out._cache = {}
    return out


def _finish_contents(partial: _Partial) -> None:
    """Give each window delta the content hash of its whole slice (not one per partition)."""
    for key, delta in partial.windows.items():
        fresh = delta.extra.get("freshness")
        if fresh is None:
            continue
        content = partial.contents.get(key)
        hashes, counts, rows = content.batch() if content is not None else (
            _EMPTY_U, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        delta.extra = {**delta.extra, "freshness": replace(
            fresh, batch_hashes=hashes, batch_counts=counts, batch_rows=rows)}


def observe_dask(monitor: Monitor, frame: Any) -> Monitor:
    """``monitor.observe(frame)`` for a Dask frame (see the module's notes); returns ``monitor``."""
    from ._observe import _check_window_count

    _dask.require_dask("Monitor.observe on a Dask frame")
    lengths = offsets = None
    if not monitor.spec.by_time:
        lengths = tuple(_dask.partition_lengths(frame))
        if sum(lengths) == 0:
            return monitor
        start = int(monitor._counts["rows_seen"])
        offsets = tuple(int(x) for x in start + np.cumsum([0, *lengths[:-1]]))
    shared = _Shared(_empty_copy(monitor), lengths, offsets)
    lazy = _dask.tree_reduce(frame, _observe_partition, _merge_partials, shared=shared)
    (partial,) = _dask.compute(lazy)
    for message in partial.warnings:  # raised where the rows were observed; shown here
        warnings.warn(message, stacklevel=3)
    if partial.n_rows == 0:
        return monitor
    _check_window_count(monitor, np.array(sorted(partial.windows), dtype=np.int64))
    check_pending_sizes(monitor, partial.n_pending, partial.n_labelled, partial.n_unscored)
    _finish_contents(partial)
    for key in sorted(partial.windows):
        delta = partial.windows[key]
        current = monitor._windows.get(key)
        monitor._windows[key] = delta if current is None else current.merge(delta)
    for name, value in partial.counts.items():
        monitor._counts[name] = monitor._counts.get(name, 0) + int(value)
    if partial.labelled.size:
        monitor._pending.mark_labelled(partial.labelled)
    if partial.unscored.size:
        monitor._pending.mark_unscored(partial.unscored)
    if partial.pending is not None:
        monitor._counts["repeated_ids"] += partial.n_repeated + monitor._pending.add(
            *partial.pending)
    monitor._counts["batches"] += 1
    return monitor
