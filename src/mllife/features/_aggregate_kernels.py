"""The vectorised kernels of :class:`~mllife.features.AggregateFeatures` (private).

Events are sorted once by (group, time), so each group (an entity, or an
entity and a ``by`` level) is one block ``[offsets[g], offsets[g + 1])`` of
the sorted arrays and every window of every prediction row is a range
``[lo, hi)`` inside its block. Everything below works on many ranges at once;
the only Python loops are over bit levels, table levels and fixed-size chunks,
never over rows or entities.

- :func:`group_time_order`: the one sort at fit, by (group, time), as
  packed integer sorts (several times faster than ``argsort``).
- :func:`block_search`: the range bounds, a binary search run for every row at
  once inside its own block (``log2(largest block)`` vectorised steps).
- :func:`prefix_at`: counts and sums as differences of prefix sums. The
  prefix sums carry the exact rounding error of every addition (Knuth's
  TwoSum on the sequential ``cumsum``), so a window far from a huge earlier
  value keeps its accuracy; they are computed chunk by chunk and only read at
  the bounds, so the memory stays that of a chunk.
- :func:`range_extreme`: max / min of a range from a sparse table over blocks
  of ``BLOCK`` events plus two partial blocks (``ufunc.reduceat`` on ranges
  sorted by their start, so the work is ``O(events + rows * BLOCK)``).
- :func:`build_wavelet` (a wavelet matrix): the number of distinct values of a
  range, counted as the events whose previous equal value (in the same group)
  lies before the range: a rank query of ``log2(events)`` vectorised steps,
  whatever the window's length; about 0.2 byte per event and bit level.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "BLOCK",
    "CHUNK",
    "block_search",
    "build_wavelet",
    "compensated_prefix",
    "count_less",
    "group_time_order",
    "prefix_at",
    "previous_equal",
    "range_extreme",
    "stable_argsort",
]

#: Events per block of the max / min sparse table.
BLOCK = 128
#: Events per chunk of the prefix-sum pass.
CHUNK = 1 << 20


def stable_argsort(keys: np.ndarray, top: int, *, positions: np.ndarray | None = None
                   ) -> np.ndarray:
    """A stable argsort of integer keys in ``[0, 2**top)``.

    When the key and the position fit in 63 bits together, one in-place
    ``ndarray.sort`` of ``key << bits | position`` (a vectorised sort, several
    times faster than ``argsort``); else ``argsort(kind="stable")``.
    ``positions`` may pass ``arange(len(keys))`` to save building it.

    Examples
    --------
    >>> stable_argsort(np.array([2, 0, 2, 1]), 2).tolist()
    [1, 3, 0, 2]
    """
    n = len(keys)
    bits = max(int(n - 1).bit_length(), 1)
    if top + bits > 63:
        return np.argsort(keys, kind="stable")
    packed = np.left_shift(keys, bits, dtype=np.int64)
    np.bitwise_or(packed, np.arange(n, dtype=np.int64) if positions is None else positions,
                  out=packed)
    packed.sort()
    packed &= (1 << bits) - 1
    return packed


def _sorted(values: np.ndarray) -> bool:
    """Whether ``values`` is non-decreasing (a sample first: unsorted data fails fast)."""
    if len(values) < 2:
        return True
    sample = values[:: max(1, len(values) // 4096)]
    return bool((sample[1:] >= sample[:-1]).all() and (values[1:] >= values[:-1]).all())


def _bits(value: int) -> int:
    return max(int(value).bit_length(), 1)


def group_time_order(codes: np.ndarray, n_codes: int, times: np.ndarray,
                     counts: np.ndarray | None = None) -> tuple[np.ndarray | None, np.ndarray]:
    """The permutation sorting events by (group code, time), stable, and the sorted times.

    The permutation is None when the events are already in that order. First
    a stable sort by code (skipped when the codes are grouped already), then
    one packed sort of ``code | time | position in its group`` when the three
    fit in 63 bits: integer times are first divided by the largest of 10**9,
    10**6, 10**3 that divides them all (nanoseconds of whole seconds), and the
    sorted times are read back from the packed keys (no gather). Otherwise a
    ``lexsort``.

    Examples
    --------
    >>> order, times = group_time_order(np.array([1, 0, 1, 0]), 2, np.array([5, 9, 3, 9]))
    >>> order.tolist(), times.tolist()
    ([1, 3, 2, 0], [9, 9, 3, 5])
    """
    n = len(codes)
    if counts is None:  # events per code
        counts = np.bincount(codes, minlength=n_codes)
    grouped = _sorted(codes)
    if (grouped and all(_sorted(times[a:b]) for a, b in _few_blocks(counts))
            and _within_blocks_sorted(codes, times)):
        return None, times
    code_bits = _bits(n_codes - 1)
    if not grouped and times.dtype.kind == "i" and n:
        if _sorted(times):  # time-ordered logs: the stable sort by code is enough
            by_code_order = stable_argsort(codes, code_bits)
            return by_code_order, times[by_code_order]
        bucketed = _bucket_order(codes, code_bits, counts, times)
        if bucketed is not None:
            return bucketed
    first = None if grouped else stable_argsort(codes, code_bits)
    starts = np.cumsum(counts) - counts
    by_code = times if first is None else times[first]
    if first is not None and _within_blocks_sorted(np.repeat(np.arange(n_codes), counts),
                                                   by_code):
        return first, by_code  # time-ordered logs: the stable sort by code is enough
    if times.dtype.kind == "i" and n:
        low = int(by_code.min())
        span = int(by_code.max()) - low
        unit = 1
        if span < 2**62:
            rel = by_code - np.int64(low)
            del by_code
            sample = rel[:: max(1, n // 1000)]
            for candidate in (10**9, 10**6, 10**3):
                if span >= candidate and not (sample % candidate).any() and not (
                        rel % candidate).any():
                    rel //= candidate
                    span //= candidate
                    unit = candidate
                    break
            time_bits, local_bits = _bits(span), _bits(int(counts.max()) - 1)
            if code_bits + time_bits + local_bits <= 63:
                # code | time | position in the code's block, as one integer:
                # (code << shift) - block start + position, plus the shifted time.
                shift = time_bits + local_bits
                key = np.repeat((np.arange(n_codes, dtype=np.int64) << shift) - starts, counts)
                key += np.arange(n, dtype=np.int64)
                rel <<= local_bits
                key += rel
                del rel
                key.sort()
                position = key & ((1 << local_bits) - 1)
                position += starts[key >> shift]
                key >>= local_bits
                key &= (1 << time_bits) - 1
                if unit != 1:
                    key *= unit
                key += np.int64(low)
                return (position if first is None else first[position]), key
            by_code = rel * unit + np.int64(low)
            del rel
    group = np.repeat(np.arange(n_codes, dtype=np.int64), counts)
    second = np.lexsort((by_code, group))
    order = second if first is None else first[second]
    return order, by_code[second]


def _time_unit(times: np.ndarray, low: int, span: int) -> int:
    """The largest of 10**9, 10**6, 10**3 dividing a sample of ``time - low`` (else 1).

    A guess: :func:`_bucket_order` checks every time as it divides it.
    """
    sample = times[:: max(1, len(times) // 1000)] - np.int64(low)
    for candidate in (10**9, 10**6, 10**3):
        if span >= candidate and not (sample % candidate).any():
            return candidate
    return 1


def _bucket_order(codes: np.ndarray, code_bits: int, counts: np.ndarray, times: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`group_time_order` of integer times as a few packed sorts (None: they do not fit).

    The codes are split by their top ``h`` bits into ``2**h`` buckets (the
    fewest for which ``code | time | position in the bucket`` fits in 63 bits);
    each bucket is one in-place sort of those packed keys, which give back the
    sorted times and the positions (no ``argsort``, no random gather of the
    whole table). A bucket is a range of codes, so the buckets come in order.
    """
    low = int(times.min())
    span = int(times.max()) - low
    if span >= 2**62:
        return None
    unit = _time_unit(times, low, span)
    time_bits = _bits(span // unit)
    n_codes = len(counts)
    for h in range(min(code_bits, 8) + 1):
        shift = code_bits - h  # the low code bits kept in a bucket's keys
        sizes = np.add.reduceat(counts, np.arange(0, n_codes, 1 << shift))
        local_bits = _bits(int(sizes.max()) - 1)
        if shift + time_bits + local_bits <= 63:
            break
    else:
        return None
    n = len(codes)
    order = np.empty(n, dtype=np.int64)
    out_times = np.empty(n, dtype=np.int64)
    bucket = None if h == 0 else np.right_shift(codes, shift).astype(np.uint8)
    start = 0
    for b, size in enumerate(sizes.tolist()):
        if not size:
            continue
        rows: np.ndarray | None = None if bucket is None else np.flatnonzero(bucket == b)
        key = (codes.astype(np.int64, copy=True) if rows is None
               else codes[rows].astype(np.int64, copy=False))
        key -= np.int64(b << shift)
        key <<= time_bits + local_bits
        rel = times.copy() if rows is None else times[rows]
        rel -= np.int64(low)
        if unit != 1:
            rel, rest = np.divmod(rel, unit)
            if rest.any():  # the sampled unit is too coarse for some time
                return None
            del rest
        rel <<= local_bits
        key |= rel
        del rel
        key |= np.arange(size, dtype=np.int64)
        key.sort()
        local = key & np.int64((1 << local_bits) - 1)
        if rows is None:
            order[start:start + size] = local
        else:
            np.take(rows, local, out=order[start:start + size])
        del local, rows
        sorted_times = out_times[start:start + size]
        np.right_shift(key, local_bits, out=sorted_times)
        del key
        sorted_times &= np.int64((1 << time_bits) - 1)
        if unit != 1:
            sorted_times *= unit
        sorted_times += np.int64(low)
        start += size
    return order, out_times


def _few_blocks(counts: np.ndarray) -> list[tuple[int, int]]:
    """A handful of group blocks, to reject unsorted times before a full check."""
    ends = np.cumsum(counts)
    picks = np.unique(np.linspace(0, len(counts) - 1, num=min(len(counts), 16)).astype(int))
    return [(int(ends[i] - counts[i]), int(ends[i])) for i in picks] if len(counts) else []


def _within_blocks_sorted(codes: np.ndarray, times: np.ndarray) -> bool:
    """Whether times are non-decreasing inside each run of equal codes (a prefix first)."""
    if len(codes) < 2:
        return True
    head = min(len(codes), 4096)
    if head < len(codes) and not _within_blocks_sorted(codes[:head], times[:head]):
        return False
    same = codes[1:] == codes[:-1]
    return bool((times[1:][same] >= times[:-1][same]).all())


def block_search(times: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                 bound: np.ndarray) -> np.ndarray:
    """Per row, the first index ``i`` in ``[starts, ends)`` with ``times[i] >= bound`` (else ``ends``).

    ``times`` is sorted inside each range; ``bound`` has no NaN.

    Examples
    --------
    >>> t = np.array([1, 3, 5, 2, 4])          # two blocks: [0, 3) and [3, 5)
    >>> block_search(t, np.array([0, 3]), np.array([3, 5]), np.array([4, 4])).tolist()
    [2, 4]
    """
    lo = starts.astype(np.int64, copy=True)
    hi = ends.astype(np.int64, copy=True)
    widest = int((hi - lo).max(initial=0))
    last = max(len(times) - 1, 0)
    for _ in range(widest.bit_length()):
        mid = (lo + hi) >> 1
        active = lo < hi
        right = active & (times[np.minimum(mid, last)] < bound)
        lo = np.where(right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)
    return lo


def prefix_at(values: np.ndarray, at: np.ndarray, *, chunk: int = CHUNK
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compensated prefix sums and non-missing counts of ``values``, read at ``at``.

    Returns ``(p, e, n)`` with, for each ``k`` of ``at`` (indices in
    ``[0, len(values)]``), ``p + e`` the sum of the non-missing values of
    ``values[:k]`` (``p`` the running float sum, ``e`` the running sum of its
    rounding errors) and ``n`` their number. A range sum is
    ``(p[hi] - p[lo]) + (e[hi] - e[lo])``.

    Examples
    --------
    >>> v = np.array([1e16, 1.0, np.nan, 1.0])
    >>> p, e, n = prefix_at(v, np.array([1, 4]))
    >>> float((p[1] - p[0]) + (e[1] - e[0])), n.tolist()
    (2.0, [1, 3])
    """
    at = np.asarray(at, dtype=np.int64)
    order = np.argsort(at, kind="stable")
    sorted_at = at[order]
    p_out = np.zeros(len(at))
    e_out = np.zeros(len(at))
    n_out = np.zeros(len(at), dtype=np.int64)
    carry_p, carry_e, carry_n = 0.0, 0.0, 0
    n = len(values)
    for c0 in range(0, n, chunk):
        c1 = min(n, c0 + chunk)
        part = values[c0:c1]
        missing = np.isnan(part)
        x = np.where(missing, 0.0, part)
        # One sequential accumulation from the carry: p[i + 1] == fl(p[i] + x[i]) exactly,
        # which is what makes the TwoSum error terms below exact.
        p = np.cumsum(np.concatenate(([carry_p], x)))
        a, s = p[:-1], p[1:]
        bb = s - a
        err = (a - (s - bb)) + (x - bb)        # TwoSum: a + x == s + err exactly
        e = np.cumsum(np.concatenate(([carry_e], err)))
        cnt = np.cumsum(np.concatenate(([carry_n], (~missing).astype(np.int64))))
        first, stop = np.searchsorted(sorted_at, [c0 + 1, c1 + 1])
        if stop > first:
            local = sorted_at[first:stop] - c0
            rows = order[first:stop]
            p_out[rows] = p[local]
            e_out[rows] = e[local]
            n_out[rows] = cnt[local]
        carry_p, carry_e, carry_n = float(p[-1]), float(e[-1]), int(cnt[-1])
    return p_out, e_out, n_out


def compensated_prefix(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prefix sums of the non-missing values, their rounding errors, and their count.

    ``p[k] + e[k]`` is the sum of ``values[:k]`` (missing skipped) and ``c[k]``
    their number; a range sum is ``(p[hi] - p[lo]) + (e[hi] - e[lo])``. The
    errors are exact (Knuth's TwoSum on the sequential ``cumsum``), like
    :func:`prefix_at`, for one array that fits in memory.

    Examples
    --------
    >>> p, e, c = compensated_prefix(np.array([1e16, 1.0, 1.0, np.nan]))
    >>> float((p[3] - p[1]) + (e[3] - e[1])), c.tolist()
    (2.0, [0, 1, 2, 3, 3])
    """
    n = len(values)
    missing = np.isnan(values)
    complete = not missing.any()
    x = values if complete else np.where(missing, 0.0, values)
    p = np.zeros(n + 1)
    np.cumsum(x, out=p[1:])
    a, s = p[:-1], p[1:]
    bb = s - a
    err = a - (s - bb)
    err += x - bb
    del bb, x
    e = np.zeros(n + 1)
    np.cumsum(err, out=e[1:])
    if complete:  # no missing value: the counts are the positions
        c = np.arange(n + 1, dtype=np.int64)
    else:
        c = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(~missing, out=c[1:])
    return p, e, c


def _range_reduce(ufunc: Any, values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``ufunc.reduce(values[lo:hi])`` per range, NaN for an empty one.

    ``values`` ends with a NaN sentinel (so ``hi`` may be the event count).
    The ranges are visited sorted by start: the gaps ``reduceat`` also reduces
    add up to at most ``len(values)``.
    """
    out = np.full(len(lo), np.nan)
    keep = np.flatnonzero(hi > lo)
    if not len(keep):
        return out
    order = keep[np.argsort(lo[keep], kind="stable")]
    idx = np.empty(2 * len(order), dtype=np.intp)
    idx[0::2] = lo[order]
    idx[1::2] = hi[order]
    out[order] = ufunc.reduceat(values, idx)[0::2]
    return out


def sparse_table(ufunc: Any, values: np.ndarray, *, block: int = BLOCK) -> np.ndarray:
    """Row ``j`` holds ``ufunc`` over the blocks ``[a, a + 2**j)`` (NaN past the end)."""
    n = len(values) - 1  # the NaN sentinel is no event
    if n <= 0:
        return np.full((1, 1), np.nan)
    base = ufunc.reduceat(values[:n], np.arange(0, n, block))
    k = len(base)
    levels = max(int(k).bit_length(), 1)
    table = np.full((levels, k), np.nan)
    table[0] = base
    for j in range(1, levels):
        half = 1 << (j - 1)
        width = k - (1 << j) + 1
        table[j, :width] = ufunc(table[j - 1, :width], table[j - 1, half:half + width])
    return table


def range_extreme(ufunc: Any, values: np.ndarray, table: np.ndarray, lo: np.ndarray,
                  hi: np.ndarray, *, block: int = BLOCK) -> np.ndarray:
    """``ufunc`` (``np.fmax`` / ``np.fmin``) over ``values[lo:hi]``, NaN when empty or all missing.

    Examples
    --------
    >>> v = np.array([3.0, np.nan, 7.0, 1.0, 5.0, np.nan])      # 5 events and the sentinel
    >>> t = sparse_table(np.fmax, v, block=2)
    >>> range_extreme(np.fmax, v, t, np.array([0, 1, 3, 2]), np.array([5, 2, 4, 2]), block=2).tolist()
    [7.0, nan, 1.0, nan]
    """
    first = -(-lo // block)              # the first whole block
    stop = hi // block                   # one past the last whole block
    head = _range_reduce(ufunc, values, lo, np.minimum(hi, first * block))
    tail = _range_reduce(ufunc, values, np.maximum(stop * block, lo), hi)
    out = ufunc(head, tail)
    whole = np.flatnonzero(stop > first)
    if len(whole):
        a, b = first[whole], stop[whole]
        j = np.frexp((b - a).astype(np.float64))[1] - 1      # floor(log2(b - a)), exact
        mid = ufunc(table[j, a], table[j, b - (np.int64(1) << j)])
        out[whole] = ufunc(out[whole], mid)
    return out


def previous_equal(codes: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Per event, the index of the previous event of the same group with the same code (-1: none).

    ``codes`` are value codes (-1 for missing), ``group`` non-decreasing group ids.
    """
    n = len(codes)
    width = int(codes.max(initial=-1)) + 2
    order = np.argsort(group.astype(np.int64) * width + (codes + 1), kind="stable")
    prev = np.full(n, -1, dtype=np.int64)
    if n > 1:
        same = (codes[order[1:]] == codes[order[:-1]]) & (group[order[1:]] == group[order[:-1]])
        prev[order[1:][same]] = order[:-1][same]
    return prev


def build_wavelet(values: np.ndarray) -> dict[str, np.ndarray]:
    """A wavelet matrix over non-negative integers (rank queries only).

    Level ``l`` keeps one bit per position (packed in 64-bit words) of the
    values stably partitioned by their higher bits, the number of ones before
    each word, and the number of zeros.
    """
    n = len(values)
    top = int(values.max(initial=0))
    levels = max(top.bit_length(), 1)
    words = n // 64 + 1
    bits = np.zeros((levels, words), dtype=np.uint64)
    ones = np.zeros((levels, words + 1), dtype=np.int64)
    zeros = np.zeros(levels, dtype=np.int64)
    cur: np.ndarray = values.astype(np.int64 if top >= 2**31 else np.int32)
    for level in range(levels):
        bit = (np.right_shift(cur, levels - 1 - level) & 1).astype(bool)
        packed = np.packbits(bit, bitorder="little")
        buffer = np.zeros(words * 8, dtype=np.uint8)
        buffer[:len(packed)] = packed
        row = buffer.view("<u8")
        bits[level] = row
        np.cumsum(np.bitwise_count(row), out=ones[level, 1:])
        zeros[level] = n - ones[level, -1]
        cur = np.concatenate((cur[~bit], cur[bit]))
    return {"bits": bits, "ones": ones, "zeros": zeros}


def _rank1(wavelet: dict[str, np.ndarray], level: int, i: np.ndarray) -> np.ndarray:
    word = i >> 6
    row = wavelet["bits"][level]
    mask = (np.uint64(1) << (i & 63).astype(np.uint64)) - np.uint64(1)
    return wavelet["ones"][level, word] + np.bitwise_count(row[word] & mask).astype(np.int64)


def count_less(wavelet: dict[str, np.ndarray], lo: np.ndarray, hi: np.ndarray,
               bound: np.ndarray) -> np.ndarray:
    """Per range, how many of the values at positions ``[lo, hi)`` are ``< bound``.

    Examples
    --------
    >>> w = build_wavelet(np.array([5, 1, 4, 1, 0, 7]))
    >>> count_less(w, np.array([0, 1, 2]), np.array([6, 4, 2]), np.array([5, 2, 9])).tolist()
    [4, 2, 0]
    """
    levels = len(wavelet["zeros"])
    lo = lo.astype(np.int64, copy=True)
    hi = hi.astype(np.int64, copy=True)
    bound = np.minimum(bound.astype(np.int64), 1 << levels)
    over = bound >> levels          # a bound past every value counts the whole range
    out = np.where(over > 0, hi - lo, 0)
    live = over == 0
    for level in range(levels):
        b = ((bound >> (levels - 1 - level)) & 1).astype(bool) & live
        lo1, hi1 = _rank1(wavelet, level, lo), _rank1(wavelet, level, hi)
        lo0, hi0 = lo - lo1, hi - hi1
        out += np.where(b, hi0 - lo0, 0)
        zeros = wavelet["zeros"][level]
        lo = np.where(b, zeros + lo1, lo0)
        hi = np.where(b, zeros + hi1, hi0)
    return out
