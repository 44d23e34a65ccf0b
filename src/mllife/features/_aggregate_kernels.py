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
- :func:`range_sum`: sums of ranges from their own values only, never as
  differences of running sums (one customer's 1e300 would swallow the next
  customer's 1 + 2): two partial blocks and a table of sums over runs of
  whole blocks laid from each group's start (:func:`sum_table`), so a sum
  depends on its range's values alone, to the last bit. With it a bound of
  its rounding error; :func:`untrusted` picks the sums whose bound exceeds a
  relative ``TRUST`` (cancellation, an overflow on the way) and
  :func:`exact_sums` recomputes those exactly (integer digits summed by
  ``bincount``, rounded once; ±inf beyond float64), in bounded batches.
- :func:`range_extreme`: max / min of a range from a sparse table over blocks
  of ``BLOCK`` events plus two partial blocks (``ufunc.reduceat`` on ranges
  sorted by their start, so the work is ``O(events + rows * BLOCK)``).
- :func:`build_wavelet` (a wavelet matrix): the number of distinct values of a
  range, counted as the events whose previous equal value (in the same group)
  lies before the range: a rank query of ``log2(events)`` vectorised steps,
  whatever the window's length; about 0.2 byte per event and bit level.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

__all__ = [
    "BLOCK",
    "EXACT_CHUNK",
    "TRUST",
    "SplitOrder",
    "block_search",
    "build_wavelet",
    "count_less",
    "exact_sums",
    "group_time_order",
    "in_threads",
    "positions",
    "previous_equal",
    "range_extreme",
    "range_sum",
    "stable_argsort",
    "sum_table",
    "untrusted",
]

#: Work touching at least this many elements runs its independent parts in threads.
THREADS_FROM = 1 << 20
#: At most this many threads (numpy releases the GIL in sorts, gathers and ufuncs); two
#: keep the peak memory of a fit under twice the event table.
MAX_THREADS = 2
#: Events per block of the max / min sparse table.
BLOCK = 128
#: Values per batch of :func:`exact_sums` (its ``bincount`` sums stay exact below 2**21).
EXACT_CHUNK = 1 << 20
#: A fast sum is kept when its error bound is within this fraction of its value.
TRUST = 1e-10
#: The unit roundoff of float64.
UNIT = 2.0 ** -53
#: Bits per digit of :func:`exact_sums`, the digits, and the weight ``2**-_ORIGIN``
#: of digit 0 (below the last bit of the least float64, 2**-1074, shifted up to 2**52).
DIGIT = 32
_DIGITS = 72
_ORIGIN = 1126


class SplitOrder:
    """A permutation kept in two parts: ``order[i] == base[local[i]]``.

    :func:`group_time_order` sorts a large table in buckets of codes; each
    bucket's sort gives positions inside the bucket (``local``, offset by the
    bucket's start) and ``base`` lists the bucket's rows of the table.
    Composing the two is a random gather over every event, which the transform
    never needs: it reads only the events inside windows (``order[positions]``).

    Examples
    --------
    >>> order = SplitOrder(np.array([4, 1, 0, 3]), np.array([1, 0, 3, 2]))
    >>> order[np.array([0, 2])].tolist(), positions(order).tolist(), len(order)
    ([1, 3], [1, 4, 3, 0], 4)
    """

    __slots__ = ("base", "local")

    def __init__(self, base: np.ndarray, local: np.ndarray) -> None:
        self.base = base
        self.local = local

    def __len__(self) -> int:
        return len(self.local)

    def __getitem__(self, index: Any) -> np.ndarray:
        return self.base[self.local[index]]

    def __getstate__(self) -> tuple[np.ndarray, np.ndarray]:
        return self.base, self.local

    def __setstate__(self, state: tuple[np.ndarray, np.ndarray]) -> None:
        self.base, self.local = state


def positions(order: np.ndarray | SplitOrder) -> np.ndarray:
    """``order`` as one array of positions (a :class:`SplitOrder` composed)."""
    return order.base[order.local] if isinstance(order, SplitOrder) else order


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
                     counts: np.ndarray | None = None
                     ) -> tuple[np.ndarray | SplitOrder | None, np.ndarray]:
    """The permutation sorting events by (group code, time), stable, and the sorted times.

    The permutation is None when the events are already in that order, and a
    :class:`SplitOrder` when it was sorted in buckets (:func:`_bucket_order`). First
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
                  ) -> tuple[np.ndarray | SplitOrder, np.ndarray] | None:
    """:func:`group_time_order` of integer times as a few packed sorts (None: they do not fit).

    The codes are split by their top ``h`` bits into ``2**h`` buckets (the
    fewest for which ``code | time | position in the bucket`` fits in 63 bits);
    each bucket is one in-place sort of those packed keys, which give back the
    sorted times and the positions (no ``argsort``, no random gather of the
    whole table). A bucket is a range of codes, so the buckets come in order.
    With several buckets the permutation is a :class:`SplitOrder` (the
    buckets' rows, and the sorted positions in that list).
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
    base = None if h == 0 else np.empty(n, dtype=np.int64)  # the buckets' rows, in turn
    positions = np.arange(int(sizes.max()), dtype=np.int64)  # built once, sliced per bucket
    mask = np.int64((1 << local_bits) - 1)

    def sort_bucket(b: int, size: int, start: int) -> bool:
        """Sort bucket ``b`` into ``[start, start + size)`` of the outputs (False: unit too coarse)."""
        rows: np.ndarray | None = None if bucket is None else np.flatnonzero(bucket == b)
        key = (codes.astype(np.int64, copy=True) if rows is None
               else codes[rows].astype(np.int64, copy=False))
        key -= np.int64(b << shift)
        key <<= time_bits + local_bits
        rel = times.copy() if rows is None else times[rows]
        rel -= np.int64(low)
        if unit != 1:
            # floor_divide by a scalar is a multiply and a shift (divmod divides twice);
            # the remainder is then rel - quotient * unit, computed in place.
            quotient = np.floor_divide(rel, np.int64(unit))
            rest = np.multiply(quotient, np.int64(unit))
            np.subtract(rel, rest, out=rest)
            if rest.any():  # the sampled unit is too coarse for some time
                return False
            del rest
            rel = quotient
        rel <<= local_bits
        key |= rel
        del rel
        key |= positions[:size]
        key.sort()
        if rows is None or base is None:
            np.bitwise_and(key, mask, out=order[start:start + size])
        else:  # positions in ``base``: no random gather of the rows here
            base[start:start + size] = rows
            local = order[start:start + size]
            np.bitwise_and(key, mask, out=local)
            local += np.int64(start)
            del local
        del rows
        sorted_times = out_times[start:start + size]
        np.right_shift(key, local_bits, out=sorted_times)
        del key
        sorted_times &= np.int64((1 << time_bits) - 1)
        if unit != 1:
            sorted_times *= unit
        sorted_times += np.int64(low)
        return True

    starts = np.cumsum(sizes) - sizes
    work = [(b, int(size), int(at)) for b, (size, at) in enumerate(zip(sizes, starts, strict=True))
            if size]
    # Buckets write apart: with several cores they sort at once (numpy's sorts, gathers and
    # element-wise steps release the GIL); the result is the same, bit for bit.
    if not all(in_threads(sort_bucket, work, n)):
        return None
    return (order if base is None else SplitOrder(base, order)), out_times


def _cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def in_threads(fn: Any, work: list[tuple[Any, ...]], n: int) -> list[Any]:
    """``fn(*item)`` for every item, in up to :data:`MAX_THREADS` threads when ``n`` (the
    elements the work touches) reaches :data:`THREADS_FROM` and the process has cores to
    spare; in order, in this thread otherwise. The items must write to disjoint outputs."""
    threads = min(MAX_THREADS, _cores(), len(work))
    if threads < 2 or n < THREADS_FROM:
        return [fn(*item) for item in work]
    try:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="mllife-agg") as pool:
            return list(pool.map(lambda item: fn(*item), work))
    except RuntimeError as exc:  # no thread could start (a thread limit): the same work, here
        if "start new thread" not in str(exc):
            raise
        return [fn(*item) for item in work]


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
    base = starts.astype(np.int64, copy=True)
    if not len(times):
        return base
    # Branchless lower bound: the answer stays in [base, base + size]; each step halves size.
    size = np.maximum(ends.astype(np.int64, copy=False) - base, 0)
    half = np.empty_like(size)
    mid = np.empty_like(size)
    below = np.empty(len(base), dtype=bool)
    while len(size) and int(size.max()) > 1:
        np.right_shift(size, 1, out=half)
        np.add(base, half, out=mid)  # < base + size <= ends: inside the block (or size 0)
        np.less(times.take(mid, mode="clip"), bound, out=below)
        np.copyto(base, mid, where=below)
        size -= half
    # size is 0 or 1 now: one last comparison
    np.less(times.take(base, mode="clip"), bound, out=below)
    below &= size > 0
    base += below
    return base


def _batches(costs: np.ndarray, budget: int) -> Iterator[tuple[int, int]]:
    """Index ranges ``[a, b)`` of ``costs`` adding up to about ``budget`` (a costlier item alone)."""
    ends = np.cumsum(costs)
    a, m = 0, len(costs)
    while a < m:
        before = int(ends[a - 1]) if a else 0
        b = max(int(np.searchsorted(ends, before + budget, side="right")), a + 1)
        yield a, b
        a = b


def _digits(values: np.ndarray, rows: np.ndarray, n_rows: int) -> np.ndarray:
    """Per row, the exact sum of its ``values`` as integer digits of ``DIGIT`` bits (int64).

    Digit ``j`` weighs ``2**(DIGIT * j - _ORIGIN)``. A finite float is an integer
    mantissa below ``2**53`` times a power of two; shifted to its digit it is
    cut into three integer parts below ``2**DIGIT``, summed per (row, digit) by
    ``bincount``: float64 sums of fewer than ``2**21`` such parts are exact.
    """
    exponent = np.frexp(values)[1].astype(np.int64)
    exponent += _ORIGIN - 53          # the mantissa's last bit, counted from 2**-_ORIGIN
    exponent //= DIGIT
    digit = exponent
    part = np.ldexp(values, _ORIGIN - DIGIT * digit)  # the mantissa times 2**(0..31), exact
    top = np.trunc(part * 2.0 ** (-2 * DIGIT))
    part -= top * 2.0 ** (2 * DIGIT)
    middle = np.trunc(part * 2.0 ** -DIGIT)
    part -= middle * 2.0 ** DIGIT
    key = rows * _DIGITS
    key += digit
    size = n_rows * _DIGITS
    out = np.bincount(key, part, minlength=size).astype(np.int64)
    key += 1
    out += np.bincount(key, middle, minlength=size).astype(np.int64)
    key += 1
    out += np.bincount(key, top, minlength=size).astype(np.int64)
    return out.reshape(n_rows, _DIGITS)


def _carry(digits: np.ndarray, low: int, top: int) -> None:
    """Digits ``low..top - 1`` brought into ``[0, 2**DIGIT)`` in place; the signed rest in ``top``."""
    for j in range(low, top):
        carry = digits[:, j] >> DIGIT
        digits[:, j] -= carry << DIGIT
        digits[:, j + 1] += carry


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a + b`` rounded and its exact rounding error (Knuth's TwoSum)."""
    total = a + b
    back = total - a
    return total, (a - (total - back)) + (b - back)


def _round_digits(digits: np.ndarray) -> np.ndarray:
    """The floats nearest the integers held as digits (rows of :func:`_digits`), ±inf beyond.

    Rounded once: the three highest digits of a row (at least 65 bits) and a
    sticky bit for the digits below them, added with their exact errors.
    """
    n = len(digits)
    used = np.flatnonzero(digits.any(axis=0))
    if not len(used):
        return np.zeros(n)
    low, top = int(used[0]), min(int(used[-1]) + 3, _DIGITS - 1)
    _carry(digits, low, top)
    negative = digits[:, top] < 0
    if negative.any():
        digits[negative] *= -1
        _carry(digits, low, top)
    nonzero = digits != 0
    high = _DIGITS - 1 - np.argmax(nonzero[:, ::-1], axis=1)  # the highest nonzero digit
    rows = np.arange(n)
    head, middle, tail = (np.where(j >= 0, digits[rows, np.maximum(j, 0)], 0)
                          for j in (high, high - 1, high - 2))
    tail |= (np.argmax(nonzero, axis=1) < high - 2) & nonzero.any(axis=1)  # sticky bit
    scale = DIGIT * (high - 2) - _ORIGIN
    with np.errstate(over="ignore", invalid="ignore"):  # beyond float64: +-inf, as it should be
        low_part, error = _two_sum(np.ldexp(tail.astype(np.float64), scale),
                                   np.ldexp(middle.astype(np.float64), scale + DIGIT))
        out, more = _two_sum(low_part, np.ldexp(head.astype(np.float64), scale + 2 * DIGIT))
        out = np.where(np.isinf(out), out, out + (error + more))
    out[negative] *= -1
    return out


def exact_sums(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, *,
               chunk: int = EXACT_CHUNK) -> np.ndarray:
    """``sum(values[lo:hi])`` per range, computed exactly and rounded once (0 when empty).

    ``values`` are finite floats. The ranges are cut into pieces of at most
    ``chunk`` values and visited in batches of about ``chunk`` values (and at
    most ``chunk // 64`` pieces), so the memory is a batch's whatever the
    ranges; a sum beyond the float64 range is ``inf`` with its sign. About ten
    times the work of a plain sum: for the few ranges whose fast sum cannot be
    trusted (:func:`untrusted`).

    Examples
    --------
    >>> v = np.array([1e300, 1.37e284, -1e300, 1.0, 2.0, 1e308, 1e308, 0.1, 0.2, -0.3])
    >>> exact_sums(v, np.array([0, 3, 5, 7, 0]), np.array([3, 5, 7, 10, 0])).tolist()
    [1.37e+284, 3.0, inf, 2.7755575615628914e-17, 0.0]
    """
    out = np.zeros(len(lo))
    keep = np.flatnonzero(hi > lo)
    if not len(keep):
        return out
    lengths = (hi - lo)[keep]
    pieces = -(-lengths // chunk)
    owner = np.repeat(keep, pieces)
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    start = lo[owner] + rank * chunk
    stop = np.minimum(start + chunk, hi[owner])
    del rank, pieces, lengths
    size = stop - start
    carried: tuple[int, np.ndarray] | None = None   # a range continued in the next batch
    for a, b in _batches(size + 64, chunk):
        sizes, owners = size[a:b], owner[a:b]
        total = int(sizes.sum())
        at = np.repeat(start[a:b] - (np.cumsum(sizes) - sizes), sizes) + np.arange(total)
        row = np.zeros(b - a, dtype=np.int64)
        np.cumsum(owners[1:] != owners[:-1], out=row[1:])
        digits = _digits(values[at], np.repeat(row, sizes), int(row[-1]) + 1)
        if carried is not None and carried[0] == owners[0]:
            digits[0] += carried[1]
        carried = None
        done = np.unique(owners)
        if b < len(owner) and owner[b] == owners[-1]:
            _carry(digits[-1:], 0, _DIGITS - 1)   # small digits again before more are added
            carried = (int(owners[-1]), digits[-1].copy())
            digits, done = digits[:-1], done[:-1]
        if len(done):
            out[done] = _round_digits(digits)
    return out


def untrusted(sums: np.ndarray, magnitude: np.ndarray, gamma: np.ndarray | float
              ) -> np.ndarray:
    """Where a fast float sum is not within a relative ``TRUST`` of the exact one.

    ``magnitude`` is the sum of the absolute values of the range and ``gamma``
    a bound of the relative rounding error of the summation (a multiple of
    the unit roundoff): the error is at most ``gamma * magnitude``. A
    non-finite sum (an overflow on the way) is never trusted; a zero sum of
    zeros is.

    Examples
    --------
    >>> untrusted(np.array([3.0, 0.0, 0.0, np.inf]), np.array([3.0, 2e16, 0.0, np.inf]),
    ...           1e-15).tolist()
    [False, True, False, True]
    """
    with np.errstate(over="ignore", invalid="ignore"):
        bound = gamma * magnitude
        return ~(np.isfinite(sums) & (bound <= TRUST * np.abs(sums)))


def sum_table(values: np.ndarray, offsets: np.ndarray, *, block: int = BLOCK
              ) -> dict[str, Any]:
    """Sums over blocks of ``block`` values laid from each group's start, and over runs of them.

    Group ``g`` is ``values[offsets[g]:offsets[g + 1]]``; its whole blocks are
    numbered from ``base[g]``. Level ``j`` of the table holds, at ``i``, the sum
    of the blocks ``[i, i + 2**j)`` (computed as two halves), up to the longest
    run of whole blocks in a group. ``values`` ends with a 0 sentinel; it may
    have columns (summed apart, along axis 0).
    """
    lengths = np.diff(offsets)
    whole = lengths // block
    base = np.cumsum(whole) - whole
    k = int(whole.sum())
    levels = [np.zeros((0, *values.shape[1:]))]
    if k:
        starts = np.repeat(offsets[:-1] - base * block, whole) + block * np.arange(k)
        bounds = np.empty(2 * k, dtype=np.intp)
        bounds[0::2] = starts
        bounds[1::2] = starts + block
        with np.errstate(over="ignore", invalid="ignore"):  # overflows: never trusted
            levels = [np.add.reduceat(values, bounds)[0::2]]
            longest = int(whole.max())
            while 1 << len(levels) <= longest:
                half = 1 << (len(levels) - 1)
                levels.append(levels[-1][:-half] + levels[-1][half:])
    return {"offsets": offsets, "base": base, "levels": levels, "block": block}


def range_sum(values: np.ndarray, table: dict[str, Any], lo: np.ndarray, hi: np.ndarray
              ) -> tuple[np.ndarray, float]:
    """``sum(values[lo:hi])`` per range inside one group, from that range's own values only.

    ``table`` is the :func:`sum_table` of ``values`` (which ends with a 0
    sentinel; with columns, each is summed apart). A range is two partial blocks (``reduceat`` on the ranges
    sorted by start) and one table entry per bit of its count of whole
    blocks, all laid from its group's start: no value outside the range
    (however huge) enters its sum, and the sum depends on nothing but the
    range's values (not on the other groups). The second result, ``gamma``,
    bounds the relative rounding error: the sum is within
    ``gamma * sum(abs(values[lo:hi]))`` of the exact one.

    Examples
    --------
    >>> v = np.array([1e300, 1.0, 2.0, 3.0, 4.0, -1e300, 5.0, 0.0])  # two groups, a sentinel
    >>> table = sum_table(v, np.array([0, 5, 7]), block=2)
    >>> got, gamma = range_sum(v, table, np.array([1, 6, 3, 0]), np.array([5, 7, 3, 4]))
    >>> got.tolist()
    [10.0, 5.0, 0.0, 1e+300]
    """
    block, offsets, levels = table["block"], table["offsets"], table["levels"]
    out = np.zeros((len(lo), *values.shape[1:]))
    live = np.flatnonzero(hi > lo)
    if not len(live):
        return out, (2 * block + len(levels) + 4) * UNIT
    lo, hi = lo[live], hi[live]
    group = np.searchsorted(offsets, lo, side="right") - 1
    start = offsets[group]
    first = -(-(lo - start) // block)     # the first whole block, counted in the group
    stop = (hi - start) // block          # one past the last whole block
    head = np.minimum(hi, start + first * block)
    with np.errstate(over="ignore", invalid="ignore"):  # overflows: never trusted
        sums = _range_reduce(np.add, values, lo, head, empty=0.0)
        sums += _range_reduce(np.add, values, np.maximum(start + stop * block, head), hi,
                              empty=0.0)
        count = np.maximum(stop - first, 0)
        at = table["base"][group] + first
        for j in range(len(levels) - 1, -1, -1):  # the longest run first
            take = np.flatnonzero((count >> j) & 1)
            sums[take] += levels[j][at[take]]
            at[take] += 1 << j
    out[live] = sums
    return out, (2 * block + len(levels) + 4) * UNIT


def _range_reduce(ufunc: Any, values: np.ndarray, lo: np.ndarray, hi: np.ndarray, *,
                  empty: float = np.nan) -> np.ndarray:
    """``ufunc.reduce(values[lo:hi])`` per range (along axis 0), ``empty`` (NaN) for an empty one.

    ``values`` ends with a NaN sentinel (so ``hi`` may be the event count).
    The ranges are visited sorted by start: the gaps ``reduceat`` also reduces
    add up to at most ``len(values)``.
    """
    out = np.full((len(lo), *values.shape[1:]), empty)
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
