"""``AggregateFeatures``: point-in-time aggregates of an event table, per entity and window."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from .._errors import DataWarning, InputError
from .._frame import is_bool, is_numeric
from . import _aggregate_kernels as K
from ._aggregate_engine import window_aggregates
from ._aggregate_inputs import (
    AGGREGATIONS,
    DAY_NS,
    MAX_LEVELS,
    Span,
    TimeColumn,
    check_keys_match,
    check_time_kinds,
    column_list,
    entity_codes,
    entity_positions,
    events_frame,
    key_kind,
    parse_aggregations,
    parse_gap,
    parse_windows,
    read_times,
)
from ._base import FrameTransformer

__all__ = ["AggregateFeatures"]

_PER_COLUMN = ("sum", "mean", "max", "min", "nunique")
_NEEDS_NUMBERS = ("sum", "mean", "max", "min")
_INT64_MIN = np.iinfo(np.int64).min


class _EventsRepr:
    """Stands for the event table in the estimator's repr (a DataFrame's repr is a page)."""

    def __init__(self, events: Any) -> None:
        shape = getattr(events, "shape", None)
        self.text = (f"<{type(events).__name__}: {shape[0]} rows x {shape[1]} columns>"
                     if shape is not None and len(shape) == 2 else f"<{type(events).__name__}>")

    def __repr__(self) -> str:
        return self.text


def _bound(cut: np.ndarray, span: float, kind: str, tick: int) -> np.ndarray:
    """``cut - span`` as a bound on event times: ``time >= bound`` / ``time < bound``.

    Float numbers: plain subtraction. Integer numbers (``cut`` is ``int64``
    then, as the event times): ``cut - floor(span)``, which keeps both
    comparisons exact for integer times, saturating at the smallest int64.
    Datetimes: ``cut`` and ``span`` in nanoseconds, the bound in the events'
    ticks, rounded up (exact for integer ticks, and without forming
    nanoseconds before the year 1677 when the ticks are coarser).
    """
    if kind == "number" and cut.dtype.kind == "f":
        return cut - span
    whole = int(np.floor(span))
    if kind == "number" or tick == 1:
        if whole > -(_INT64_MIN + 1):
            return np.full(len(cut), _INT64_MIN, dtype=np.int64)
        out = cut - np.int64(whole)
        out[cut < _INT64_MIN + whole] = _INT64_MIN
        return out
    # ceil((cut - span) / tick) = (q - sq) + ceil((r - sr) / tick), with |r - sr| < tick
    q, r = np.divmod(cut, np.int64(tick))
    sq, sr = divmod(whole, tick)
    return q - np.int64(sq) + (r > sr)


def _elapsed(later: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    """``later - earlier`` as float64 for int64 arrays with ``earlier <= later``, exact
    before the rounding to float even when the difference exceeds int64 (modulo 2**64)."""
    return (later.view(np.uint64) - earlier.view(np.uint64)).astype(np.float64)


class AggregateFeatures(FrameTransformer):
    """Point-in-time aggregates of an event table: per row, only events before its cutoff.

    ``X`` holds one row per prediction: the entity ``key`` (a customer) and
    ``cutoff_col``, when the prediction is made. ``events`` holds the entity's
    history (transactions, sessions, tickets): the same ``key`` column, the
    event time ``time_col`` and value columns. For each row and each window
    ``w`` the features aggregate only the events of that row's entity with

    ``cutoff - w <= time < cutoff - gap``

    (strictly before the cutoff; ``gap`` models data latency; the window
    ``"all"`` has no lower bound). An event at or after a row's cutoff (minus
    gap) can never change that row's features, so the features do not leak the
    future whatever the event table holds. Each row is computed on its own:
    duplicate (key, cutoff) rows get the same features.

    Parameters
    ----------
    events : pandas or polars DataFrame, or pyarrow Table
        The event table. It is read at ``fit`` (to use newer events, fit
        again), never modified, and shared, not copied, by ``clone``.
    key : str
        The entity column, in both ``X`` and ``events``.
    time_col : str
        The event time column of ``events``: datetimes (naive or time-zone
        aware) or numbers.
    cutoff_col : str
        The prediction time column of ``X``, of the same kind as ``time_col``
        (both naive, both aware, or both numbers).
    windows : sequence, default=("7D", "30D", "90D")
        Window lengths: pandas duration strings (``"30D"``, ``"12h"``),
        ``pd.Timedelta`` objects, ``"all"`` (every earlier event), or numbers
        of time units when the times are numbers. The label in the feature
        names is the string as written (``"30D"``), ``"all"``, a compact form
        of a Timedelta (``"12h"``) or the number (``"7"``).
    aggregations : sequence of str, default=all seven
        Among ``"count"`` (events in the window), ``"sum"``, ``"mean"``,
        ``"max"``, ``"min"`` (of a numeric column), ``"nunique"`` (distinct
        values of a column) and ``"time_since_last"`` (from the last event in
        the window to the cutoff, in days for datetimes, in time units for
        numbers).
    columns : str or sequence of str, default=None
        The event columns to aggregate: every numeric (or boolean) column of
        ``events`` but ``key``, ``time_col`` and ``by`` when None.
        ``"sum"``, ``"mean"``, ``"max"`` and ``"min"`` need numbers;
        ``"nunique"`` takes any column. For different aggregations per column,
        chain two ``AggregateFeatures`` (each keeps ``X``'s columns).
    by : str, default=None
        A categorical column of ``events``: every aggregate is also computed
        per level (``channel=app__count__7D``), after the overall ones. The
        levels are those seen at ``fit`` in the events the fit rows can see
        (their entity's events before ``cutoff - gap``), sorted; at most 100;
        a level first seen later is ignored; events with a missing level
        count in the overall aggregates only.
    gap : duration or number, default=None
        Data latency: events in the last ``gap`` before the cutoff are not
        used. Shorter than every window.
    keep_original : bool, default=True
        Output ``X``'s columns, unchanged, followed by the aggregates (so the
        step can sit first in a Pipeline, before a preprocessor), or only the
        aggregates.

    Attributes
    ----------
    columns_ : list of str
        The aggregated event columns.
    windows_ : list of str
        The window labels used in the feature names.
    levels_ : list
        The ``by`` levels learned at fit (empty without ``by``).
    n_events_ : int
        Events used (with a key and a time).
    n_events_dropped_ : int
        Events without a time (NaT / NaN) or without a key: they cannot be
        placed before any cutoff, so they are left out (a
        :class:`~mllife.DataWarning` says how many).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.

    Notes
    -----
    Output names: ``count__30D``, ``amount__sum__30D``,
    ``time_since_last__30D``, with ``by`` ``channel=app__count__30D``. Counts
    (``count``, ``nunique``) are ``int64``, the others ``float64``.

    Missing values. No event in a window gives ``count`` 0, ``sum`` 0,
    ``nunique`` 0 and NaN for ``mean``, ``max``, ``min`` and
    ``time_since_last``: a row whose key is missing or absent from the events,
    whose cutoff is missing (NaT / NaN), or whose cutoff is before every
    event gets that row. Within a window, ``count`` counts events, while
    ``sum``, ``mean``, ``max``, ``min`` and ``nunique`` skip the missing
    values of their column (``mean`` is NaN when all are missing).

    Bad input raises :class:`~mllife.InputError` naming the column: key,
    time or value columns absent from their table, keys that could never
    match (numbers in one table, text in the other), naive against
    time-zone aware times (both columns named), datetimes against numbers,
    windows of the wrong kind for the times, text asked for a sum or a mean,
    infinite values or times, and a ``by`` column with more than 100 levels.

    The work is vectorised, with no loop over rows or entities: the events
    are sorted once by (key, time) at fit (the fitted state keeps the sorted
    times and the permutation; value columns are kept as read); window
    bounds are binary searches run for every row at once; the aggregates
    read only the (row, event) pairs inside the windows, in chunks (compensated
    prefix sums, so a window far from a huge value keeps its accuracy;
    ``reduceat`` for max and min; hashing for ``nunique``). When the windows
    hold far more pairs than there are events, a second engine keeps the work
    ``O(events log events + rows log events)``: prefix sums over the events,
    a sparse table over blocks of events for max and min, a wavelet matrix
    for ``nunique``. Time and memory never grow like rows × events (see
    ``docs/aggregates.md``).

    Raises
    ------
    InputError
        For the bad input above, and for bad parameters (a window with no
        fixed length such as ``"1M"``, a gap not shorter than every window,
        an unknown aggregation), naming the parameter.

    Examples
    --------
    >>> import pandas as pd
    >>> events = pd.DataFrame({
    ...     "customer_id": [1, 1, 1, 2],
    ...     "event_at": pd.to_datetime(["2024-01-01", "2024-01-20", "2024-02-05", "2024-01-10"]),
    ...     "amount": [10.0, 30.0, 99.0, 5.0],
    ... })
    >>> X = pd.DataFrame({"customer_id": [1, 2, 3],
    ...                   "cutoff_at": pd.to_datetime(["2024-02-01", "2024-02-01", "2024-02-01"])})
    >>> agg = AggregateFeatures(events, key="customer_id", time_col="event_at",
    ...                         cutoff_col="cutoff_at", windows=("30D",),
    ...                         aggregations=("count", "sum", "time_since_last"),
    ...                         keep_original=False)
    >>> agg.fit_transform(X)
       count__30D  amount__sum__30D  time_since_last__30D
    0           1              30.0                  12.0
    1           1               5.0                  22.0
    2           0               0.0                   NaN

    Customer 1's event of 2024-02-05, after the cutoff, is never used; the
    one of 2024-01-01 is older than 30 days; customer 3 has no event.
    """

    _text_input = True  # keys may be text

    def __init__(
        self,
        events: Any,
        *,
        key: str,
        time_col: str,
        cutoff_col: str,
        windows: Sequence[Any] = ("7D", "30D", "90D"),
        aggregations: Sequence[str] = AGGREGATIONS,
        columns: str | Sequence[str] | None = None,
        by: str | None = None,
        gap: Any = None,
        keep_original: bool = True,
    ) -> None:
        self.events = events
        self.key = key
        self.time_col = time_col
        self.cutoff_col = cutoff_col
        self.windows = windows
        self.aggregations = aggregations
        self.columns = columns
        self.by = by
        self.gap = gap
        self.keep_original = keep_original

    # ---- estimator plumbing ---------------------------------------------------------------
    def __sklearn_clone__(self) -> AggregateFeatures:
        """A clone that shares the event table (scikit-learn's default would deep-copy it).

        The table is only read, never modified, so sharing it is safe; a deep
        copy of a large event table at every clone (every cross-validation
        fold, every grid point) would cost its size in time and memory.
        """
        params = self.get_params(deep=False)
        new = type(self)(**{name: value if name == "events" else clone(value, safe=False)
                            for name, value in params.items()})
        for attr in ("_sklearn_output_config", "_metadata_request"):
            if hasattr(self, attr):
                setattr(new, attr, copy.deepcopy(getattr(self, attr)))
        return new

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:
        shown = copy.copy(self)
        shown.events = _EventsRepr(self.events)
        return BaseEstimator.__repr__(shown, N_CHAR_MAX)

    # ---- parameters ---------------------------------------------------------------------
    def _check_params(self) -> None:
        for name in ("key", "time_col", "cutoff_col"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise InputError(f"{name}={value!r}", expected="a column name (str)")
        if self.by is not None and not isinstance(self.by, str):
            raise InputError(f"by={self.by!r}", expected="None or a column name of events")
        if not isinstance(self.keep_original, bool | np.bool_):
            raise InputError(f"keep_original={self.keep_original!r}", expected="True or False")
        windows = parse_windows(self.windows)
        parse_gap(self.gap, windows)
        parse_aggregations(self.aggregations)
        column_list(self.columns, "columns")

    # ---- fit --------------------------------------------------------------------------
    def _fit(self, frame: pd.DataFrame, y: Any = None) -> None:
        """Read the events into sorted arrays, learn the ``by`` levels, check ``X``."""
        windows = parse_windows(self.windows)
        gap = parse_gap(self.gap, windows)
        aggregations = parse_aggregations(self.aggregations)
        key, time_col, cutoff_col, by = self.key, self.time_col, self.cutoff_col, self.by
        available = [str(c) for c in frame.columns]
        missing = [c for c in (key, cutoff_col) if c not in available]
        if missing:
            raise InputError(
                f"key / cutoff column{'s' if len(missing) > 1 else ''} {missing} not found "
                f"among the {len(available)} feature(s) of X",
                column=missing[0], expected=f"columns of X {available[:10]}")
        if key == cutoff_col:
            raise InputError(f"key and cutoff_col are both {key!r}", expected="two columns of X")
        events = events_frame(self.events)
        columns = self._resolve_columns(events, aggregations)
        x_times = read_times(frame[cutoff_col], cutoff_col, "X")
        ev_times = read_times(events[time_col], time_col, "events", native=True)
        check_time_kinds(x_times, ev_times, cutoff_col, time_col)
        kinds = {w.kind for w in windows} | ({gap.kind} if gap.value else set())
        wanted = "number" if ev_times.kind == "number" else "timedelta"
        if kinds - {"all", wanted}:
            raise InputError(
                f"windows={self.windows!r} / gap={self.gap!r} are "
                f"{'numbers' if wanted == 'timedelta' else 'durations'} but the times are "
                f"{'datetimes' if wanted == 'timedelta' else 'numbers'}", column=time_col,
                expected=('durations ("30D", "12h")' if wanted == "timedelta"
                          else "numbers of time units"))
        check_keys_match(frame[key], events[key], key)
        self._key_kind_ = key_kind(events[key])
        self._windows_ = windows
        self._gap_ = gap
        self._time_kind_ = ev_times.kind
        self._tick_ = ev_times.tick
        self.windows_ = [w.label for w in windows]
        self.aggregations_ = list(aggregations)
        self.columns_ = columns

        codes, self._keys_ = entity_codes(events[key])
        n_entities = self._keys_[2] if self._keys_[0] == "range" else len(self._keys_[1])
        # two reductions first: the mask is built only when some event has no key or time
        complete = (not len(codes) or int(codes.min()) >= 0) and bool(ev_times.valid.all())
        usable = None if complete else (codes >= 0) & ev_times.valid
        dropped = 0 if usable is None else int(len(codes) - usable.sum())
        if usable is not None and dropped:
            warnings.warn(
                f"AggregateFeatures: {dropped} event(s) without a time ({time_col!r}) or a key "
                f"({key!r}) are left out: they cannot be placed before any cutoff",
                DataWarning, stacklevel=4)
            rows = np.flatnonzero(usable)
            codes, raw_times = codes[rows], ev_times.values[rows]
        else:
            rows, raw_times = None, ev_times.values
        del usable
        counts = np.bincount(codes, minlength=n_entities)
        order, times = K.group_time_order(codes, n_entities, raw_times, counts)
        if rows is not None:  # positions in the event table
            if order is None:
                order = rows
            elif isinstance(order, K.SplitOrder):
                order = K.SplitOrder(rows[order.base], order.local)
            else:
                order = rows[order]
        del codes, raw_times, rows
        offsets = np.zeros(n_entities + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        self.n_events_ = len(times)
        self.n_events_dropped_ = dropped
        self._columns_read_: dict[Any, tuple[str, np.ndarray]] = {}
        self._index_ = self._build_index(events, order, offsets, times)
        self.levels_: list[Any] = []
        self._by_index_: dict[str, Any] | None = None
        if by is not None:
            entity = np.repeat(np.arange(n_entities), counts)  # sorted: no gather needed
            self._fit_levels(events, frame, x_times, order, entity, times)
            del entity
        del counts
        del self._columns_read_  # the indexes hold the columns (shared between them)
        names = self._aggregate_names()
        if len(set(names)) != len(names):
            repeated = sorted({n for n in names if names.count(n) > 1})
            raise InputError(f"the feature names {repeated[:5]} repeat",
                             expected="columns and levels whose names do not collide")
        if self.keep_original:
            clash = sorted(set(names) & set(available))
            if clash:
                raise InputError(f"feature names {clash[:5]} are already columns of X",
                                 expected="X without them (or keep_original=False)")

    def _resolve_columns(self, events: pd.DataFrame, aggregations: list[str]) -> list[str]:
        """The aggregated columns: named ones checked, or every numeric one."""
        roles = {"key": self.key, "time_col": self.time_col}
        if self.by is not None:
            roles["by"] = self.by
        present = [str(c) for c in events.columns]
        for role, col in roles.items():
            if col not in present:
                raise InputError(f"{role} {col!r} is not a column of events", column=col,
                                 expected=f"columns of events {present[:10]}")
        if not any(a in _PER_COLUMN for a in aggregations):
            return []
        given = column_list(self.columns, "columns")
        if given is None:
            return [c for c in present if c not in roles.values()
                    and (is_numeric(events[c]) or is_bool(events[c]))]
        for col in given:
            if col not in present:
                raise InputError("is not a column of events", column=col,
                                 expected=f"columns of events {present[:10]}")
            if col in roles.values():
                role = next(r for r, c in roles.items() if c == col)
                raise InputError(f"is the {role} column", column=col,
                                 expected="value columns (not the key, time or by column)")
        if len(set(given)) != len(given):
            raise InputError(f"columns={self.columns!r} repeats a column", expected="each once")
        needs_numbers = [a for a in aggregations if a in _NEEDS_NUMBERS]
        for col in given:
            s = events[col]
            if needs_numbers and not (is_numeric(s) or is_bool(s)):
                raise InputError(f"holds {s.dtype} values, which {needs_numbers} cannot aggregate",
                                 column=col, expected="numbers (or ask only nunique of it)")
        return [str(c) for c in given]

    def _build_index(self, events: pd.DataFrame, order: np.ndarray | K.SplitOrder | None,
                     offsets: np.ndarray,
                     times: np.ndarray, groups: np.ndarray | None = None) -> dict[str, Any]:
        """One grouping of the events: block offsets, sorted times, the sorting permutation.

        The value columns are kept as read (numbers as float64, other columns
        as value codes for ``nunique``), in the event table's order: the
        transform gathers only the events inside the windows, through
        ``order``. A column pandas can still write to (pandas < 3 views) is
        copied, so the fitted state never changes after ``fit``.
        """
        index: dict[str, Any] = {"offsets": offsets, "times": times, "groups": groups,
                                 "order": order, "values": {}, "codes": {}}
        for col in self.columns_:
            if (col, "distinct") in self._columns_read_:  # see below
                index["codes"][col] = self._columns_read_[col, "distinct"][1]
            if col in self._columns_read_:
                kind, data = self._columns_read_[col]
                index[kind][col] = data
                continue
            s = events[col]
            if is_numeric(s) or is_bool(s):
                values = s.to_numpy(dtype=np.float64, na_value=np.nan)
                if values.flags.writeable and np.shares_memory(values, s.to_numpy()):
                    values = values.copy()
                # max and min first (NaN-free columns need no mask); isinf only otherwise
                extremes = (values.max(), values.min()) if len(values) else (0.0, 0.0)
                infinite = (np.isinf(values) if not np.isfinite(extremes).all()
                            else np.zeros(0, dtype=bool))
                if infinite.any():
                    raise InputError("holds infinite values", column=col,
                                     n_rows=int(infinite.sum()),
                                     expected="finite numbers or missing values")
                self._columns_read_[col] = ("values", values)
                if ("nunique" in self.aggregations_ and s.dtype.kind in "iu"
                        and len(s) and max(-int(s.min()), int(s.max())) > 2**53):
                    # float64 merges integers beyond 2**53: nunique reads value codes
                    codes = pd.factorize(s, use_na_sentinel=True)[0]
                    self._columns_read_[col, "distinct"] = ("codes", codes)
                    index["codes"][col] = codes
            else:  # only nunique reads it
                try:
                    codes = pd.factorize(s, use_na_sentinel=True)[0]
                except TypeError as exc:  # unhashable cells (lists, dicts)
                    raise InputError(f"holds values that cannot be compared ({exc})",
                                     column=col, expected="numbers, text or categories") from None
                self._columns_read_[col] = ("codes", codes)
            kind, data = self._columns_read_[col]
            index[kind][col] = data
        return index

    def _fit_levels(self, events: pd.DataFrame, frame: pd.DataFrame, x_times: TimeColumn,
                    order: np.ndarray | K.SplitOrder | None, entity: np.ndarray,
                    times: np.ndarray) -> None:
        """Learn the ``by`` levels from the events the fit rows see, and index (entity, level)."""
        by = self.by
        level_codes, level_values = pd.factorize(events[by], use_na_sentinel=True)
        if order is not None:
            level_codes = level_codes[K.positions(order)]
        # The events some fit row can see: [block start, first event >= cutoff - gap).
        starts, ends = self._blocks(frame[self.key], x_times)
        bound = self._cut_values(x_times)
        hi = K.block_search(times, starts, ends,
                            _bound(bound, self._gap_.value, self._time_kind_, self._tick_))
        cover = np.bincount(starts, minlength=len(times) + 1) - np.bincount(
            hi, minlength=len(times) + 1)
        seen = np.cumsum(cover[:-1]) > 0
        present = np.unique(level_codes[seen & (level_codes >= 0)])
        levels = [level_values[i] for i in present]
        try:
            levels = sorted(levels)
        except TypeError:  # mixed types: sort by text
            levels = sorted(levels, key=str)
        if len(levels) > MAX_LEVELS:
            raise InputError(f"has {len(levels)} levels in the events the fit rows see",
                             column=by, expected=f"at most {MAX_LEVELS} levels (group rare "
                             "levels first, e.g. with RareCategoryGrouper)")
        labels = [str(v) for v in levels]
        if len(set(labels)) != len(labels):
            raise InputError(f"has levels whose names collide as text {labels[:10]}", column=by,
                             expected="levels with distinct names")
        self.levels_ = levels
        if not levels:
            return
        # Per event, the level's position among the learned levels (-1: not learned / missing).
        position = np.full(len(level_values) + 1, -1, dtype=np.int64)
        position[pd.Index(level_values).get_indexer(pd.Index(levels))] = np.arange(len(levels))
        slot = position[level_codes]  # code -1 reads the trailing -1
        keep = np.flatnonzero(slot >= 0)
        gid = entity[keep] * len(levels) + slot[keep]
        top = int(gid.max(initial=0)).bit_length()
        resort = K.stable_argsort(gid, top)  # stable: the time order holds inside a group
        keep, gid = keep[resort], gid[resort]
        groups, counts = np.unique(gid, return_counts=True)
        by_offsets = np.zeros(len(groups) + 1, dtype=np.int64)
        np.cumsum(counts, out=by_offsets[1:])
        rows = keep if order is None else order[keep]
        self._by_index_ = self._build_index(events, rows, by_offsets, times[keep], groups)

    # ---- transform ----------------------------------------------------------------------
    def _blocks(self, keys: pd.Series, cut: TimeColumn) -> tuple[np.ndarray, np.ndarray]:
        """Per row, its entity's block ``[start, end)`` (empty: unknown key or missing cutoff)."""
        position = entity_positions(keys, self._keys_)
        offsets = self._index_["offsets"]
        known = (position >= 0) & cut.valid
        safe = np.where(known, position, 0)
        starts = np.where(known, offsets[np.minimum(safe, len(offsets) - 1)], 0)
        ends = np.where(known, offsets[np.minimum(safe + 1, len(offsets) - 1)], 0)
        return starts, ends

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The aggregates of every row (and ``X``'s columns first with ``keep_original``)."""
        key, cutoff_col = self.key, self.cutoff_col
        cut = read_times(frame[cutoff_col], cutoff_col, "X")
        if cut.kind != self._time_kind_:
            check_time_kinds(cut, TimeColumn(cut.values[:0], cut.valid[:0], self._time_kind_),
                             cutoff_col, self.time_col)
        x_kind = key_kind(frame[key])
        if x_kind is not None and self._key_kind_ is not None and x_kind != self._key_kind_:
            raise InputError(f"holds {x_kind} keys ({frame[key].dtype}) in X but the events "
                             f"have {self._key_kind_} keys, so no row would match an event",
                             column=key, expected="the same kind of key as at fit")
        out: dict[str, np.ndarray] = {}
        starts, ends = self._blocks(frame[key], cut)
        out.update(self._compute(self._index_, starts, ends, cut, ""))
        if self._by_index_ is not None:
            position = entity_positions(frame[key], self._keys_)
            known = (position >= 0) & cut.valid
            index = self._by_index_
            groups, offsets = index["groups"], index["offsets"]
            n_levels = len(self.levels_)
            for slot, level in enumerate(self.levels_):  # a loop over levels, not rows
                gid = np.where(known, position, 0) * n_levels + slot
                found = np.minimum(np.searchsorted(groups, gid), len(groups) - 1)
                hit = known & (groups[found] == gid)
                starts = np.where(hit, offsets[found], 0)
                ends = np.where(hit, offsets[found + 1], 0)
                out.update(self._compute(index, starts, ends, cut, f"{self.by}={level}__"))
        result = pd.DataFrame(out, index=frame.index)
        if self.keep_original:
            result = pd.concat([frame, result], axis=1)
        return result

    def _cut_values(self, cut: TimeColumn) -> np.ndarray:
        """The cutoffs as numbers comparable with the event times (0 where missing).

        ``int64`` when both are integers (exact bounds), else ``float64`` for
        numbers; ``int64`` nanoseconds for datetimes.
        """
        values = np.where(cut.valid, cut.values, 0)
        if self._time_kind_ == "number" and (self._index_["times"].dtype.kind == "f"
                                             or values.dtype.kind == "f"):
            return values.astype(np.float64, copy=False)
        return values

    def _compute(self, index: dict[str, Any], starts: np.ndarray, ends: np.ndarray,
                 cut: TimeColumn, prefix: str) -> dict[str, np.ndarray]:
        """Every aggregate of one grouping, in the order of :meth:`_aggregate_names`."""
        times = index["times"]
        kind, tick = self._time_kind_, self._tick_
        ends = np.where(cut.valid, ends, starts)
        bound = self._cut_values(cut)
        hi = K.block_search(times, starts, ends, _bound(bound, self._gap_.value, kind, tick))
        wanted = [(agg, col) for agg in self.aggregations_ if agg in _PER_COLUMN
                  for col in self.columns_]
        # Widest window first: a narrower one starts at or after a wider one's start (its
        # bound is later), so its search runs over the wider window only (fewer steps).
        lows: list[np.ndarray] = [starts] * len(self._windows_)
        narrowing = starts
        for i in sorted(range(len(self._windows_)), key=lambda j: -self._windows_[j].value):
            w = self._windows_[i]
            if w.kind != "all":
                lows[i] = K.block_search(times, narrowing, hi,
                                         _bound(bound, w.value, kind, tick))
            narrowing = lows[i]
        per_window = window_aggregates(index, lows, hi, wanted)
        out: dict[str, np.ndarray] = {}
        for w, lo, values in zip(self._windows_, lows, per_window, strict=True):
            empty = hi <= lo
            for agg in self.aggregations_:
                if agg == "count":
                    out[f"{prefix}count__{w.label}"] = (hi - lo).astype(np.int64)
                elif agg == "time_since_last":
                    last = (times[np.maximum(hi - 1, 0)] if len(times)
                            else np.zeros(len(hi), dtype=times.dtype))
                    if kind == "number" and bound.dtype.kind == "f":
                        since = bound - last
                    elif kind == "number":
                        since = _elapsed(bound, last)
                    else:  # in ticks then nanoseconds: no int64 overflow (events before 1677)
                        q, r = np.divmod(bound, np.int64(tick))
                        since = (_elapsed(q, last) * tick + r) / DAY_NS
                    out[f"{prefix}time_since_last__{w.label}"] = np.where(empty, np.nan, since)
                else:
                    for col in self.columns_:
                        out[f"{prefix}{col}__{agg}__{w.label}"] = values[agg, col]
        return out

    # ---- names and lineage --------------------------------------------------------------
    def _aggregate_parts(self) -> list[tuple[str, str, str | None, Span, Any]]:
        """(name, aggregation, column or None, window, level or None) per aggregate."""
        parts: list[tuple[str, str, str | None, Span, Any]] = []
        levels: list[Any] = [None, *self.levels_]
        for level in levels:
            prefix = "" if level is None else f"{self.by}={level}__"
            for w in self._windows_:
                for agg in self.aggregations_:
                    if agg in ("count", "time_since_last"):
                        parts.append((f"{prefix}{agg}__{w.label}", agg, None, w, level))
                    else:
                        parts += [(f"{prefix}{col}__{agg}__{w.label}", agg, col, w, level)
                                  for col in self.columns_]
        return parts

    def _aggregate_names(self) -> list[str]:
        return [part[0] for part in self._aggregate_parts()]

    def _names_out(self, input_names: list[str]) -> list[str]:
        """``X``'s columns (with ``keep_original``) then the aggregate names."""
        return (list(input_names) if self.keep_original else []) + self._aggregate_names()

    def _feature_sources(self) -> list[tuple[str, ...]] | None:
        sources: list[tuple[str, ...]] = (
            [(n,) for n in self._input_names()] if self.keep_original else [])
        for _, _, col, _, level in self._aggregate_parts():
            extra = ((str(self.by),) if level is not None else ()) + ((col,) if col else ())
            sources.append((self.key, self.cutoff_col, *extra))
        return sources

    def _feature_notes(self) -> list[str] | None:
        kept = [""] * len(self._input_names()) if self.keep_original else []
        t, c = self.time_col, self.cutoff_col
        upper = f"{t} < {c}" if not self._gap_.value else f"{t} < {c} - {self._gap_.label}"
        notes = []
        since = "time units" if self._time_kind_ == "number" else "days"
        what = {"count": "count", "sum": "sum of {col}", "mean": "mean of {col}",
                "max": "max of {col}", "min": "min of {col}",
                "nunique": "distinct values of {col}",
                "time_since_last": f"{since} since the last event"}
        for _, agg, col, w, level in self._aggregate_parts():
            rule = upper if w.kind == "all" else f"{c} - {w.label} <= {upper}"
            where = f" and {self.by} == {level!r}" if level is not None else ""
            notes.append(f"{what[agg].format(col=col)} over events with {rule}{where} "
                         f"(same {self.key})")
        return kept + notes

    def _step_label(self) -> str:
        gap = f", gap={self._gap_.label}" if getattr(self, "_gap_", None) and self._gap_.value else ""
        return f"AggregateFeatures(key={self.key}{gap})"
