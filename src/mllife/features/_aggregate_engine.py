"""The per-window aggregates of :class:`~mllife.features.AggregateFeatures` (private).

Given, per row, the range ``[lo, hi)`` of its window in the sorted event
arrays, two engines compute ``sum``, ``mean``, ``max``, ``min`` and
``nunique`` of each column; which one runs depends on the total length of
the ranges (the (row, event) pairs), known before any work:

- **pairs** (the usual case: at most ``PAIRS_PER_EVENT`` pairs per event):
  the pairs are visited in chunks of rows holding about ``CHUNK`` pairs, so
  the memory is a chunk's, whatever the totals; per chunk the values of the
  widest window are gathered once (a row's windows are nested: they share
  the upper bound) and reduced per row and window (``reduceat`` over the
  pieces between a row's window bounds for sums, means, max and min, "previous
  equal value in the row" by hashing and a packed sort for distinct counts).
  Work: the number of pairs.
- **blocks** (long windows over long histories: many more pairs than
  events): sums over blocks of each group's events and runs of them, a sparse
  table over blocks of events for max and min, a wavelet matrix for distinct
  counts (:mod:`._aggregate_kernels`), so the work is ``O(events log events +
  rows log events)`` however long the windows, and never rows × events.

Either way a sum reads only its own window's values (never a difference of
running sums, which one entity's huge values would spoil for the others), and
the few sums whose rounding error bound exceeds a relative ``K.TRUST`` are
recomputed exactly (:func:`._aggregate_kernels.exact_sums`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from . import _aggregate_kernels as K

__all__ = ["CHUNK", "PAIRS_PER_EVENT", "window_aggregates"]

#: (row, event) pairs per chunk of the pairs engine.
CHUNK = 1 << 21
#: Past this many pairs per event, the blocks engine runs.
PAIRS_PER_EVENT = 4


def _chunks(lengths: np.ndarray, chunk: int) -> Iterator[tuple[int, int]]:
    """Row ranges ``[a, b)`` holding about ``chunk`` pairs each (a longer row alone)."""
    ends = np.cumsum(lengths)
    a, m = 0, len(lengths)
    while a < m:
        before = int(ends[a - 1]) if a else 0
        b = int(np.searchsorted(ends, before + chunk, side="right"))
        b = max(b, a + 1)
        yield a, b
        a = b


def _last_in_segment(segment: np.ndarray, values: np.ndarray, present: np.ndarray
                     ) -> np.ndarray:
    """Per position, whether it holds the last occurrence of its value in its segment.

    Missing values (``present`` False) are never last. Values become codes by
    hashing; positions are then sorted by (segment, code, position) as single
    packed integers when they fit (a vectorised sort), else by ``lexsort``:
    the last of each (segment, code) run is the last occurrence. A row's
    windows all end where its segment ends, so the distinct values of a
    window are the last occurrences inside it, whatever its start.

    Examples
    --------
    >>> _last_in_segment(np.array([0, 0, 0, 1, 1]), np.array([1.0, 2.0, 1.0, 1.0, np.nan]),
    ...                  np.array([True, True, True, True, False])).tolist()
    [False, True, True, True, False]
    """
    n = len(values)
    last = np.zeros(n, dtype=bool)
    everything = bool(present.all())
    keep = np.arange(n, dtype=np.int64) if everything else np.flatnonzero(present)
    m = len(keep)
    if m == 0:
        return last
    codes, uniques = pd.factorize(values if everything else values[keep],
                                  use_na_sentinel=True)
    key = (segment if everything else segment[keep]).astype(np.int64)
    key *= len(uniques) + 1
    key += codes
    del codes
    bits = max(int(n - 1).bit_length(), 1)
    ends_run = np.empty(m, dtype=bool)
    ends_run[-1] = True
    if int(key.max()).bit_length() + bits <= 63:
        key <<= bits
        key |= keep
        key.sort()
        position = key & ((1 << bits) - 1)
        key >>= bits
        np.not_equal(key[1:], key[:-1], out=ends_run[:-1])
    else:
        order = np.lexsort((keep, key))
        position = keep[order]
        key = key[order]
        np.not_equal(key[1:], key[:-1], out=ends_run[:-1])
    last[position[ends_run]] = True
    return last


def _empty_results(wanted: list[tuple[str, str]], m: int) -> dict[tuple[str, str], np.ndarray]:
    out: dict[tuple[str, str], np.ndarray] = {}
    for agg, col in wanted:
        if agg in ("sum", "nunique"):
            out[agg, col] = np.zeros(m, dtype=np.int64 if agg == "nunique" else np.float64)
        else:
            out[agg, col] = np.full(m, np.nan)
    return out


def _mean(total: np.ndarray, count: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _nesting(firsts: list[np.ndarray]) -> list[int] | None:
    """The windows from the widest to the narrowest when every row's are nested (else None)."""
    rank = sorted(range(len(firsts)), key=lambda w: int(firsts[w].sum()))
    pairs = itertools.pairwise(rank)
    return rank if all((firsts[u] <= firsts[v]).all() for u, v in pairs) else None


def _nested_reduce(ufunc: Any, values: np.ndarray, firsts: list[np.ndarray], nested: list[int],
                   total: int, empty: float = np.nan, pieces_ufunc: Any = None
                   ) -> list[np.ndarray]:
    """``ufunc`` over each window of nested ones, from one ``reduceat`` over their pieces.

    A row's windows, widest first, cut its segment into pieces ``[first of a
    window, first of the next)``, the last piece ending at the segment's end
    (the next row's first piece starts there). The window of rank ``j`` is
    the union of pieces ``j`` onwards: an accumulation from the narrowest.
    ``values`` ends with a sentinel at ``total`` (NaN, or 0 for sums); an
    empty piece is ``empty``. ``values`` may have columns (reduced apart).
    ``pieces_ufunc`` reduces the pieces instead of ``ufunc`` (``np.maximum``
    for ``np.fmax`` when no value is missing: about twice as fast).
    """
    n_windows, k = len(nested), len(firsts[0])
    bounds = np.empty(n_windows * k + 1, dtype=np.intp)
    for j, w in enumerate(nested):
        bounds[j:-1:n_windows] = firsts[w]
    bounds[-1] = total
    pieces = (ufunc if pieces_ufunc is None else pieces_ufunc).reduceat(values, bounds[:-1])
    pieces[bounds[1:] <= bounds[:-1]] = empty  # an empty piece reads one value: none
    pieces = pieces.reshape(k, n_windows, *values.shape[1:])[:, ::-1]
    for j in range(1, n_windows):  # an accumulation along the few windows, row-vectorised
        ufunc(pieces[:, j - 1], pieces[:, j], out=pieces[:, j])
    got = [np.empty(0)] * n_windows
    for j, w in enumerate(nested):
        got[w] = pieces[:, n_windows - 1 - j]
    return got


def _pair_sums(values: np.ndarray, present: np.ndarray, firsts: list[np.ndarray],
               end: np.ndarray, nested: list[int] | None, total: int
               ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per window, the sums and non-missing counts of each row's own values.

    ``reduceat`` over the pieces of the rows' segments, so nothing outside a
    window enters its sum; a sum whose rounding error may exceed a relative
    ``K.TRUST`` (cancellation, overflow on the way) is recomputed exactly.
    """
    x = np.where(present, values, 0.0)  # the NaN sentinel at ``total`` becomes 0
    uniform = x.min() >= 0 or x.max() <= 0  # then the sum of |x| is |sum|
    with np.errstate(over="ignore", invalid="ignore"):  # overflows: never trusted
        if nested is not None:
            data = x
            if not uniform:  # sums of x and of |x| side by side: one pass for both
                data = np.empty((len(x), 2))
                data[:, 0] = x
                np.abs(x, out=data[:, 1])
            got = _nested_reduce(np.add, data, firsts, nested, total, 0.0)
            sums = got if uniform else [pair[:, 0] for pair in got]
            sizes = None if uniform else [pair[:, 1] for pair in got]
        else:
            sums, sizes = [], None if uniform else []
            bounds = np.empty(2 * len(end), dtype=np.intp)
            bounds[1::2] = end
            for first in firsts:
                bounds[0::2] = first
                sums.append(np.where(end > first, np.add.reduceat(x, bounds)[0::2], 0.0))
                if sizes is not None:
                    sizes.append(np.where(end > first,
                                          np.add.reduceat(np.abs(x), bounds)[0::2], 0.0))
    complete = bool(present[:total].all())
    counts = None if complete else np.concatenate(([0], np.cumsum(present[:total])))
    out = []
    for w, first in enumerate(firsts):
        gamma = (end - first + len(firsts) + 2) * K.UNIT
        total_w = sums[w]
        wrong = K.untrusted(total_w, np.abs(total_w) if sizes is None else sizes[w], gamma)
        if wrong.any():
            total_w[wrong] = K.exact_sums(x, first[wrong], end[wrong])
        out.append((total_w, end - first if counts is None else counts[end] - counts[first]))
    return out


def _by_pairs(index: dict[str, Any], lows: list[np.ndarray], hi: np.ndarray,
              wanted: list[tuple[str, str]], outs: list[dict[tuple[str, str], np.ndarray]],
              chunk: int) -> None:
    """Every window at once: the windows of a row are nested (one upper bound), so the
    values of the widest are gathered once and each window is a tail of that segment."""
    widest = np.minimum.reduce(lows)
    lengths = hi - widest
    columns = list(dict.fromkeys(col for _, col in wanted))
    for a, b in _chunks(lengths, chunk):
        size = lengths[a:b]
        total = int(size.sum())
        if total == 0:
            continue
        k = b - a
        start = np.cumsum(size) - size
        end = start + size
        pairs = np.repeat(widest[a:b] - start, size) + np.arange(total)
        rows = pairs if index["order"] is None else index["order"][pairs]
        del pairs
        firsts = [start + (lo[a:b] - widest[a:b]) for lo in lows]
        nested = _nesting(firsts)
        segment = (np.repeat(np.arange(k), size)
                   if any(agg == "nunique" for agg, _ in wanted) else None)
        # Columns write apart: with several cores they run at once (numpy's gathers,
        # reductions and sorts and pandas' hashing release the GIL); same result, bit for bit.
        work = [(index, col, {agg for agg, c in wanted if c == col}, rows, firsts, nested, end,
                 total, segment, outs, a, b) for col in columns]
        K.in_threads(_pairs_column, work, total * len(columns))


def _pairs_column(index: dict[str, Any], col: Any, aggs: set[str], rows: np.ndarray,
                  firsts: list[np.ndarray], nested: list[int] | None, end: np.ndarray,
                  total: int, segment: np.ndarray | None,
                  outs: list[dict[tuple[str, str], np.ndarray]], a: int, b: int) -> None:
    """One column's aggregates of one chunk of rows ``[a, b)`` (see :func:`_by_pairs`)."""
    k = b - a
    numeric = col in index["values"]
    values = np.empty(total + 1, dtype=np.float64 if numeric else np.int64)
    source = (index["values"] if numeric else index["codes"])[col]
    np.take(source, rows, out=values[:total])
    values[total] = np.nan if numeric else -1  # a sentinel for reduceat's last index
    present = ~np.isnan(values) if numeric else values >= 0
    if aggs & {"sum", "mean"} and numeric:
        sums_counts = _pair_sums(values, present, firsts, end, nested, total)
        for (sums, counts), out in zip(sums_counts, outs, strict=True):
            if "sum" in aggs:
                out["sum", col][a:b] = sums
            if "mean" in aggs:
                out["mean", col][a:b] = _mean(sums, counts)
    complete = numeric and bool(present[:total].all())
    for agg, ufunc, fast, sentinel in (("max", np.fmax, np.maximum, -np.inf),
                                       ("min", np.fmin, np.minimum, np.inf)):
        if agg not in aggs:
            continue
        if nested is not None:  # one reduceat over the pieces between the bounds
            if complete:  # no NaN to skip: the plain ufunc, a sentinel that never wins
                values[total] = sentinel  # (events hold no infinity: refused at fit)
                per_window = _nested_reduce(ufunc, values, firsts, nested, total,
                                            pieces_ufunc=fast)
                values[total] = np.nan
            else:
                per_window = _nested_reduce(ufunc, values, firsts, nested, total)
            for got_w, out in zip(per_window, outs, strict=True):
                out[agg, col][a:b] = got_w
            continue
        bounds = np.empty(2 * k, dtype=np.intp)
        bounds[1::2] = end
        for first, out in zip(firsts, outs, strict=True):
            bounds[0::2] = first
            got = ufunc.reduceat(values, bounds)[0::2]
            out[agg, col][a:b] = np.where(end > first, got, np.nan)
    if "nunique" in aggs and segment is not None:
        if numeric and col in index["codes"]:  # integers float64 cannot tell apart
            picked = index["codes"][col][rows]
            last = _last_in_segment(segment, picked, picked >= 0)
        else:
            last = _last_in_segment(segment, values[:total], present[:total])
        # Every window of a row ends at its segment's end: its distinct values are
        # the last occurrences inside it, counted by one running sum for all windows.
        seen = np.zeros(total + 1, dtype=np.int64)
        np.cumsum(last, out=seen[1:])
        del last
        for first, out in zip(firsts, outs, strict=True):
            out["nunique", col][a:b] = seen[end] - seen[first]


def _block_sums(values: np.ndarray, offsets: np.ndarray, lows: list[np.ndarray],
                hi: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per window, the sums and non-missing counts of each row's own events.

    Sums over blocks of events laid from each group's start and over runs of
    them (``K.range_sum``), so nothing outside a window enters its sum and
    the other groups do not even change its rounding; a sum whose rounding
    error may exceed a relative ``K.TRUST`` is recomputed exactly. ``values``
    ends with a NaN sentinel.
    """
    present = ~np.isnan(values)
    x = np.where(present, values, 0.0)
    uniform = x.min() >= 0 or x.max() <= 0  # then the sum of |x| is |sum|
    data = x
    if not uniform:  # sums of x and of |x| side by side: one pass for both
        data = np.empty((len(x), 2))
        data[:, 0] = x
        np.abs(x, out=data[:, 1])
        x = data[:, 0]
    table = K.sum_table(data, offsets)
    counts = None
    if not present[:-1].all():
        counts = np.zeros(len(values), dtype=np.int64)
        np.cumsum(present[:-1], out=counts[1:])
    del present
    for lo in lows:
        got, gamma = K.range_sum(data, table, lo, hi)
        sums, size = (got, np.abs(got)) if uniform else (got[:, 0], got[:, 1])
        wrong = K.untrusted(sums, size, gamma)
        if wrong.any():
            sums[wrong] = K.exact_sums(x, lo[wrong], hi[wrong])
        yield sums, hi - lo if counts is None else counts[hi] - counts[lo]


def _by_blocks(index: dict[str, Any], lows: list[np.ndarray], hi: np.ndarray,
               wanted: list[tuple[str, str]],
               outs: list[dict[tuple[str, str], np.ndarray]]) -> None:
    """Every window with bounded work: prefix sums over the events, a sparse table for
    max and min, a wavelet matrix for distinct counts (each built once per column)."""
    columns = list(dict.fromkeys(col for _, col in wanted))
    offsets = index["offsets"]
    n = int(offsets[-1])
    order = None if index["order"] is None else K.positions(index["order"])  # once, not per column
    for col in columns:
        aggs = {agg for agg, c in wanted if c == col}
        numeric = col in index["values"]
        values = None
        if numeric:  # sorted, with a NaN sentinel past the end for the range kernels
            raw = index["values"][col]
            values = np.empty(n + 1)
            if order is None:
                values[:n] = raw
            else:
                np.take(raw, order, out=values[:n])
            values[n] = np.nan
        if aggs & {"sum", "mean"} and values is not None:
            per_window = _block_sums(values, offsets, lows, hi)
            for (sums, counts), out in zip(per_window, outs, strict=True):
                if "sum" in aggs:
                    out["sum", col][:] = sums
                if "mean" in aggs:
                    out["mean", col][:] = _mean(sums, counts)
        for agg, ufunc in (("max", np.fmax), ("min", np.fmin)):
            if agg in aggs and values is not None:
                table = K.sparse_table(ufunc, values)
                for lo, out in zip(lows, outs, strict=True):
                    out[agg, col][:] = K.range_extreme(ufunc, values, table, lo, hi)
        if "nunique" in aggs:
            if values is not None and col not in index["codes"]:  # else integers beyond 2**53
                codes = pd.factorize(values[:-1], use_na_sentinel=True)[0]
            else:
                codes = index["codes"][col] if order is None else index["codes"][col][order]
            group = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
            prev = K.previous_equal(codes, group)
            del group
            marks = np.where(codes < 0, n + 1, prev + 1)
            del prev
            wavelet = K.build_wavelet(marks)
            for lo, out in zip(lows, outs, strict=True):
                out["nunique", col][:] = K.count_less(wavelet, lo, hi, lo + 1)


def window_aggregates(index: dict[str, Any], lows: list[np.ndarray], hi: np.ndarray,
                      wanted: list[tuple[str, str]], *, chunk: int | None = None,
                      engine: str | None = None) -> list[dict[tuple[str, str], np.ndarray]]:
    """Per window, ``{(aggregation, column): values per row}`` over the ranges ``[lo, hi)``.

    ``lows`` holds one array of lower bounds per window, ``hi`` the upper
    bounds they share. Empty ranges give sum 0, nunique 0 and NaN for mean,
    max and min. ``engine`` forces ``"pairs"`` or ``"blocks"`` (tests); by
    default the pairs engine runs unless the widest window holds more than
    ``PAIRS_PER_EVENT`` pairs per event.

    Examples
    --------
    >>> index = {"offsets": np.array([0, 3]), "order": None, "codes": {},
    ...          "values": {"v": np.array([1.0, 5.0, 2.0])}}
    >>> [got] = window_aggregates(index, [np.array([0, 1, 2])], np.array([3, 1, 3]),
    ...                           [("sum", "v"), ("max", "v"), ("nunique", "v")])
    >>> got["sum", "v"].tolist(), got["max", "v"].tolist(), got["nunique", "v"].tolist()
    ([8.0, 0.0, 2.0], [5.0, nan, 2.0], [3, 0, 1])
    """
    m = len(hi)
    chunk = CHUNK if chunk is None else chunk
    outs = [_empty_results(wanted, m) for _ in lows]
    if not wanted or m == 0 or not lows:
        return outs
    widest = np.minimum.reduce(lows)
    pairs = int((hi - widest).sum())
    events = int(index["offsets"][-1])
    if engine is None:
        engine = "pairs" if pairs <= PAIRS_PER_EVENT * max(events, chunk) else "blocks"
    if engine == "pairs":
        _by_pairs(index, lows, hi, wanted, outs, chunk)
    else:
        _by_blocks(index, lows, hi, wanted, outs)
    return outs
