"""``check_leakage(..., events=...)``: features that aggregate events after the row's time.

A churn, fraud or demand feature is often an aggregate of an event table per
entity. Computed with a plain ``groupby`` over **all** events and joined back,
it counts the events that happen after the prediction is made: the future
leaks into the row. This module finds such features by their values.

For the event table, per entity (``key``), the candidate aggregates are the
number of events and, per numeric event column, its sum, mean, maximum,
minimum and number of distinct values, each computed twice:

- over **all** events (``events.groupby(key).agg(...)``, what the leaky
  feature holds);
- **point in time**: over the events strictly before the row's ``time_col``
  (what an honest feature may hold at most), from per-entity prefix
  aggregates: one sort of the events by (entity, time), cumulative counts,
  sums, maxima, minima and first-occurrence counts per entity, and one
  ``searchsorted`` per row locating its last earlier event. No loop over
  rows or entities.

The point-in-time values are computed twice: over the events strictly before
the row's time and over those up to it (an event at the row's time included).
A row says something only if its entity has an event of known time after the
row's time and the all-events value differs from both. A feature column that
equals an all-events aggregate (exactly, or within a relative 1e-9, 1e-6 for
float32; missing equals missing; a column rounded to 0-6 decimals is compared
with the aggregates rounded alike) on at least 95% of those rows, with at
least 10 of them, is a ``future_aggregate`` error, unless as many matches are
likely by chance (a near-constant column matching a near-constant aggregate).
A point-in-time feature (``AggregateFeatures``, or an as-of feature including
the row's time) is never flagged: on the rows that count, it equals a
point-in-time value, never the all-events one.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import as_frame, is_bool, is_numeric, is_string_like, require_columns
from .._random import as_generator
from .._time import TimeValues, time_values
from ..report import Finding

#: Share of the rows where the all-events value differs from the point-in-time value
#: on which a feature must equal the all-events value.
MATCH_SHARE = 0.95
#: Fewest such rows for a finding.
MIN_ROWS = 10
#: Relative tolerance of "equal" (sums in another order differ in the last bits);
#: ``RTOL32`` for a float32 feature column.
RTOL = 1e-9
RTOL32 = 1e-6
#: A match must also be unlikely by chance: its Chernoff bound under "the column's values
#: fall on the rows at random" at most ``ALPHA`` over the number of comparisons.
ALPHA = 0.05
#: Rounding looked for in a feature column: to 0 ... ``MAX_DECIMALS`` decimals.
MAX_DECIMALS = 6
#: Work bounds: the first numeric event columns and feature columns compared, and the
#: rows of each set (a seeded sample above it). The report's notes say when one applies.
MAX_EVENT_COLUMNS = 20
MAX_FEATURE_COLUMNS = 200
MAX_ROWS = 20_000
_SAMPLE = 5
_WHAT = {"sum": "sum", "mean": "mean", "max": "maximum", "min": "minimum",
         "nunique": "number of distinct values"}


@dataclass(frozen=True)
class EventTable:
    """The validated ``events=`` arguments of ``check_leakage``."""

    frame: pd.DataFrame
    key: Hashable
    time_col: Hashable
    times: TimeValues


def event_table(events: Any, *, key: Hashable | None, event_time_col: Hashable | None,
                time_col: Hashable | None) -> EventTable | None:
    """Validate the event-table parameters; ``None`` when no events are given.

    Raises
    ------
    InputError
        ``key`` or ``event_time_col`` without ``events``; ``events`` without
        ``key``, ``event_time_col`` or ``time_col``; a column missing from the
        events; event times that are not times (naming the column).
    """
    if events is None:
        given = [name for name, value in (("key", key), ("event_time_col", event_time_col))
                 if value is not None]
        if given:
            raise InputError(f"{' and '.join(given)} given without events",
                             expected="events=<the event table> with them, or neither")
        return None
    missing = [name for name, value in (("key", key), ("event_time_col", event_time_col),
                                        ("time_col", time_col)) if value is None]
    if missing:
        raise InputError(
            f"events= needs {', '.join(f'{m}=' for m in missing)}",
            expected="key (the entity column of the sets and of the events), event_time_col "
            "(when each event happened) and time_col (when each row's prediction is made)")
    for name, value in (("key", key), ("event_time_col", event_time_col)):
        if not isinstance(value, Hashable):
            raise InputError(f"{name}={value!r} is a {type(value).__name__}",
                             expected="one column name")
    frame = as_frame(events, name="events")
    require_columns(frame, [key, event_time_col], what="events column")
    if key == event_time_col:
        raise InputError(f"key and event_time_col are both {key!r}",
                         expected="two different columns of the events")
    times = time_values(frame[event_time_col], column=event_time_col, missing="keep")
    return EventTable(frame, key, event_time_col, times)


def _check_rows(table: EventTable, name: str, frame: pd.DataFrame,
                time_col: Hashable) -> TimeValues:
    """The row times of one set, checked against the event times."""
    require_columns(frame, [table.key], what=f"{name} column")
    rows = time_values(frame[time_col], column=time_col)
    events = table.times
    both = f"{table.time_col!r} (events) and {time_col!r} ({name})"
    if rows.is_datetime != events.is_datetime:
        raise InputError(f"{both}: one holds datetimes, the other numbers",
                         column=table.time_col, expected="the same kind of time in both")
    if (rows.tz is None) != (events.tz is None):
        raise InputError(
            f"{both}: one is time-zone-aware, the other naive", column=table.time_col,
            expected="both aware or both naive (pandas.to_datetime(values, utc=True))")
    keys, event_keys = _plain(frame[table.key]), _plain(table.frame[table.key])
    if is_numeric(keys) != is_numeric(event_keys) and keys.notna().any() and event_keys.notna().any():
        raise InputError(
            f"is {keys.dtype} in {name} but {event_keys.dtype} in the events: no key would match",
            column=table.key, expected="the same kind of key in both (numbers or text)")
    return rows


def _is_number(s: pd.Series) -> bool:
    return is_bool(s) or (is_numeric(s) and not pd.api.types.is_complex_dtype(s.dtype))


def _numeric_columns(frame: pd.DataFrame, exclude: set[Hashable], limit: int) -> tuple[
        list[Hashable], int]:
    columns = [c for c in frame.columns if c not in exclude and _is_number(frame[c])]
    return columns[:limit], len(columns)


@dataclass(frozen=True)
class _Precision:
    """How a feature column stores numbers: rounded to ``decimals``, and/or as float32."""

    decimals: int | None
    float32: bool

    @property
    def rtol(self) -> float:
        return RTOL32 if self.float32 else RTOL

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Aggregates stored the way the column stores its values."""
        if self.decimals is not None:
            values = np.round(values, self.decimals)
        if self.float32:
            with np.errstate(over="ignore"):
                values = values.astype(np.float32).astype(np.float64)
        return values


def _precision(values: np.ndarray, float32: bool) -> _Precision:
    """The coarsest rounding (0 to ``MAX_DECIMALS`` decimals) every value of a column shows."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return _Precision(None, float32)
    eps = float(np.finfo(np.float32 if float32 else np.float64).eps)
    largest = float(np.abs(finite).max())
    for decimals in range(MAX_DECIMALS + 1):
        if 10.0 ** -decimals < 100 * eps * largest:
            break  # no coarser than the numbers' own precision: not rounding
        scaled = finite * 10.0 ** decimals
        if (np.abs(scaled - np.round(scaled)) <= 4 * eps * np.maximum(np.abs(scaled), 1.0)).all():
            return _Precision(decimals, float32)
    return _Precision(None, float32)


def _feature_columns(frame: pd.DataFrame, rows: np.ndarray, exclude: set[Hashable],
                     limit: int) -> tuple[list[Hashable], list[np.ndarray], int]:
    """The numeric columns, then text columns holding numbers, as floats of ``rows``.

    At most ``limit`` columns are read (numbers first); the count of candidates is returned
    for the notes.
    """
    numeric = [c for c in frame.columns if c not in exclude and _is_number(frame[c])]
    text = [c for c in frame.columns if c not in exclude and not _is_number(frame[c])
            and is_string_like(frame[c]) and not isinstance(frame[c].dtype, pd.CategoricalDtype)]
    columns, values = [], []
    for column in (numeric + text)[:limit]:
        s = frame[column].iloc[rows]
        if column in numeric:
            columns.append(column)
            values.append(_floats(s))
            continue
        parsed = pd.to_numeric(s.astype(object), errors="coerce")
        n_parsed = int(parsed.notna().sum())
        if n_parsed and n_parsed == int(s.notna().sum()):  # every value is a number
            columns.append(column)
            values.append(parsed.to_numpy(dtype=np.float64, na_value=np.nan))
    return columns, values, len(numeric) + len(text)


def _plain(s: pd.Series) -> pd.Series:
    """Keys as their values (a categorical as its categories' dtype), to match across frames."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.astype(s.cat.categories.dtype)
    return s


def _floats(s: pd.Series) -> np.ndarray:
    if is_bool(s):
        return s.astype("float64").to_numpy()
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def _close(a: np.ndarray, b: np.ndarray, rtol: float = RTOL) -> np.ndarray:
    """Equal, within a relative ``rtol``, or both missing (broadcasting)."""
    with np.errstate(invalid="ignore"):
        near = np.abs(a - b) <= rtol * np.maximum(np.abs(a), np.abs(b))
    return (a == b) | near | (np.isnan(a) & np.isnan(b))


def _chance_log_bound(column: np.ndarray, targets: np.ndarray, n_match: int,
                      rtol: float) -> float:
    """Log of a bound on the chance of ``n_match`` matches if the column's values fell on the
    rows at random.

    Row ``i`` then matches its aggregate ``targets[i]`` with probability ``p_i``, the share
    of the column's values equal to it; the number of matches has mean ``sum(p_i)``, and the
    Chernoff bound ``exp(-n KL(matched share || mean p))`` caps the chance of as many. A
    column that takes one value almost everywhere (a constant, a rare flag, a small count)
    matches an aggregate that does too, by chance, and is not a leak.
    """
    n = len(targets)
    known = np.sort(column[~np.isnan(column)])
    tol = np.where(np.isfinite(targets), rtol * np.abs(targets), 0.0)
    with np.errstate(invalid="ignore"):
        equal = (np.searchsorted(known, targets + tol, side="right")
                 - np.searchsorted(known, targets - tol, side="left"))
    equal = np.where(np.isnan(targets), len(column) - len(known), equal)
    p = min(max(float(equal.sum()) / (n * len(column)), 1.0 / len(column)), 1.0)
    q = n_match / n
    if q <= p:
        return 0.0
    kl = q * np.log(q / p) + (0.0 if q >= 1.0 else (1 - q) * np.log((1 - q) / (1 - p)))
    return float(-n * kl)


@dataclass
class _Set:
    """One set's sampled rows and where their past ends in the sorted events."""

    name: str
    frame: pd.DataFrame
    rows: np.ndarray           # positions in the frame (sorted)
    code: np.ndarray           # entity code per row (-1: the key has no event)
    last: np.ndarray           # index of the row's last earlier event in the sorted events
    n_before: np.ndarray       # events of the entity strictly before the row's time
    last_upto: np.ndarray      # the same, events at the row's time included
    n_upto: np.ndarray
    later: np.ndarray          # the entity has an event (of known time) after the row's time


@dataclass
class _Match:
    aggregate: str
    event_column: Hashable | None
    n_match: int
    n_differ: int
    sample: tuple[Any, ...]


def _describe(aggregate: str, column: Hashable | None) -> str:
    if aggregate == "count":
        return "number of events"
    return f"{_WHAT[aggregate]} of {column!r}"


def _dense_ranks(times: np.ndarray) -> np.ndarray:
    """0, 1, 2... by time, equal times sharing a rank; NaN ranks last (one sort)."""
    by_time = np.argsort(times)
    ordered = times[by_time]
    new = np.ones(len(times), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    ranks = np.empty(len(times), dtype=np.int64)
    ranks[by_time] = np.cumsum(new) - 1
    return ranks


def _at(prefix: np.ndarray, index: np.ndarray, some: np.ndarray, empty: float) -> np.ndarray:
    """``prefix[index]`` where ``some``, else ``empty``."""
    return np.where(some, prefix[np.where(some, index, 0)], empty)


def future_aggregates(
    table: EventTable,
    frames: Mapping[str, pd.DataFrame],
    *,
    time_col: Hashable,
    exclude: set[Hashable],
    random_state: Any = None,
) -> tuple[list[Finding], list[dict[str, Any]], list[str]]:
    """``future_aggregate`` findings, one checks-table row per set, and notes on bounds."""
    events, key = table.frame, table.key
    notes: list[str] = []
    row_times = {name: _check_rows(table, name, frame, time_col) for name, frame in frames.items()}
    code, entities = pd.factorize(_plain(events[key]))   # a missing key: -1, ignored
    if not len(entities):
        return [], _rows({name: {} for name in frames}, list(frames)), notes
    lookup = pd.Index(entities)

    rng = as_generator(random_state)
    sampled: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, frame in frames.items():
        rows = np.arange(len(frame))
        if len(rows) > MAX_ROWS:
            rows = np.sort(rng.choice(len(frame), MAX_ROWS, replace=False))
            notes.append(f"future_aggregate: compared a seeded sample of {MAX_ROWS:,} of the "
                         f"{len(frame):,} {name} rows.")
        sampled[name] = (rows, lookup.get_indexer(pd.Index(_plain(frame[key].iloc[rows]))))

    # One sort of the events by (entity, time): each time gets a dense rank (event and row
    # times together; an event at an unknown time ranks last, after every row, so it counts
    # in the all-events aggregates only, as in a groupby), and (entity, rank) one integer.
    # A row's searchsorted position in the sorted integers then counts every event of an
    # earlier entity, or of its own entity strictly before its time.
    ranks = _dense_ranks(np.concatenate(
        [table.times.values, *(row_times[name].values[rows] for name, (rows, _) in sampled.items())]))
    width = np.int64(len(ranks) + 1)
    n_events = len(events)
    composite = code.astype(np.int64) * width + ranks[:n_events]
    keep = np.flatnonzero(code >= 0)
    order = keep[np.argsort(composite[keep])]
    composite, code_sorted = composite[order], code[order]
    entity = np.arange(len(entities))
    start = np.searchsorted(code_sorted, entity, side="left")
    end = np.searchsorted(code_sorted, entity, side="right")
    # Events of known time per entity (an unknown time ranks last within the entity).
    n_known = np.bincount(code[(code >= 0) & ~np.isnan(table.times.values)],
                          minlength=len(entities))
    sets: list[_Set] = []
    offset = n_events
    for name, (rows, row_code) in sampled.items():
        mine = row_code >= 0
        safe = np.where(mine, row_code, 0)
        target = safe.astype(np.int64) * width + ranks[offset:offset + len(rows)]
        offset += len(rows)
        pos = np.searchsorted(composite, target, side="left")
        upto = np.searchsorted(composite, target, side="right")
        n_upto = np.where(mine, upto - start[safe], 0)
        sets.append(_Set(name, frames[name], rows, row_code, pos - 1,
                         np.where(mine, pos - start[safe], 0), upto - 1, n_upto,
                         mine & (n_known[safe] > n_upto)))

    event_columns, n_event_columns = _numeric_columns(events, {key, table.time_col},
                                                      MAX_EVENT_COLUMNS)
    if n_event_columns > len(event_columns):
        notes.append(f"future_aggregate: compared the first {MAX_EVENT_COLUMNS} of the "
                     f"{n_event_columns} numeric event columns.")
    n_aggregates = 1 + len(_WHAT) * len(event_columns)
    # Per set: the feature columns, their values, and the columns grouped by how they
    # store numbers (aggregates are rounded / cast the same way before comparing).
    features: dict[str, tuple[list[Hashable], np.ndarray,
                              list[tuple[_Precision, np.ndarray]]]] = {}
    for s in sets:
        columns, arrays, n_columns = _feature_columns(s.frame, s.rows, exclude | {key},
                                                      MAX_FEATURE_COLUMNS)
        if n_columns > MAX_FEATURE_COLUMNS:
            notes.append(f"future_aggregate: compared the first {MAX_FEATURE_COLUMNS} of the "
                         f"{n_columns} numeric (or text) {s.name} columns.")
        values = np.column_stack(arrays) if arrays else np.empty((len(s.rows), 0))
        groups: dict[_Precision, list[int]] = {}
        for j, column in enumerate(columns):
            float32 = str(s.frame[column].dtype) in ("float32", "Float32")
            groups.setdefault(_precision(values[:, j], float32), []).append(j)
        features[s.name] = (columns, values,
                            [(kind, np.asarray(js)) for kind, js in groups.items()])

    best: dict[str, dict[Hashable, _Match]] = {s.name: {} for s in sets}

    def compare(aggregate: str, column: Hashable | None, overall: np.ndarray,
                before: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> None:
        """Match every feature of every set against one all-events aggregate.

        ``before`` holds, per set, the point-in-time values over the events strictly before
        each row's time and over those up to it (at its time included). A row says something
        only if its entity has a later event and the all-events value differs from both.
        """
        for s in sets:
            columns, values, groups = features[s.name]
            if not columns:
                continue
            everything = _at(overall, s.code, s.code >= 0, np.nan)
            strict, upto = before[s.name]
            log_alpha = np.log(ALPHA / (len(columns) * n_aggregates))
            for kind, js in groups:
                e = kind.apply(everything)
                differ = (s.later & ~_close(e, kind.apply(strict), kind.rtol)
                          & ~_close(e, kind.apply(upto), kind.rtol))
                n_differ = int(differ.sum())
                if n_differ < MIN_ROWS:
                    continue
                hits = _close(values[differ][:, js], e[differ][:, None], kind.rtol)
                counts = hits.sum(axis=0)
                for i in np.flatnonzero(counts >= MATCH_SHARE * n_differ):
                    j, n_match = int(js[i]), int(counts[i])
                    previous = best[s.name].get(columns[j])
                    if (previous is not None
                            and previous.n_match / previous.n_differ >= n_match / n_differ):
                        continue
                    if _chance_log_bound(values[:, j], e[differ], n_match,
                                         kind.rtol) > log_alpha:
                        continue  # as likely by chance: a near-constant column
                    where = np.flatnonzero(differ)[hits[:, i]][:_SAMPLE]
                    sample = tuple(s.frame.index[s.rows[where]])
                    best[s.name][columns[j]] = _Match(aggregate, column, n_match, n_differ,
                                                      sample)

    def blocks(prefix: np.ndarray) -> tuple[np.ndarray, dict[str, tuple[np.ndarray,
                                                                         np.ndarray]]]:
        """Per-entity totals and per-row values (before / up to the row) of a cumulative count."""
        base = np.where(start > 0, prefix[np.maximum(start - 1, 0)], 0)

        def at(last: np.ndarray, n: np.ndarray, s: _Set) -> np.ndarray:
            return _at(prefix, last, n > 0, 0.0) - _at(base, s.code, n > 0, 0.0)

        return (prefix[end - 1] - base).astype(np.float64), {
            s.name: (at(s.last, s.n_before, s), at(s.last_upto, s.n_upto, s)) for s in sets}

    compare("count", None, (end - start).astype(np.float64),
            {s.name: (s.n_before.astype(np.float64), s.n_upto.astype(np.float64))
             for s in sets})
    for column in event_columns:
        v = _floats(events[column])[order]
        valid = ~np.isnan(v)
        n_all, n_before = blocks(np.cumsum(valid, dtype=np.int64))
        # Integer prefix counts are exact globally; sums, maxima and minima restart per entity.
        value_code, uniques = pd.factorize(v)
        pair = code_sorted.astype(np.int64) * np.int64(len(uniques) + 1) + value_code
        first = valid & ~pd.Series(pair).duplicated().to_numpy()
        distinct_all, distinct_before = blocks(np.cumsum(first, dtype=np.int64))
        prefix = {
            "sum": pd.Series(np.where(valid, v, 0.0)).groupby(code_sorted).cumsum().to_numpy(),
            "max": pd.Series(np.where(valid, v, -np.inf)).groupby(code_sorted).cummax().to_numpy(),
            "min": pd.Series(np.where(valid, v, np.inf)).groupby(code_sorted).cummin().to_numpy(),
        }
        some = n_all > 0
        overall = {name: np.where(some, values_[end - 1], np.nan) for name, values_ in prefix.items()}
        overall["sum"] = prefix["sum"][end - 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            overall["mean"] = np.where(some, overall["sum"] / np.where(some, n_all, 1.0), np.nan)
        overall["nunique"] = distinct_all

        def point_in_time(k: np.ndarray, last: np.ndarray, n: np.ndarray, distinct: np.ndarray,
                          prefix: dict[str, np.ndarray] = prefix) -> dict[str, np.ndarray]:
            known = k > 0
            total = _at(prefix["sum"], last, n > 0, 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(known, total / np.where(known, k, 1.0), np.nan)
            return {"sum": total, "mean": mean, "max": _at(prefix["max"], last, known, np.nan),
                    "min": _at(prefix["min"], last, known, np.nan), "nunique": distinct}

        before = {s.name: (point_in_time(n_before[s.name][0], s.last, s.n_before,
                                         distinct_before[s.name][0]),
                           point_in_time(n_before[s.name][1], s.last_upto, s.n_upto,
                                         distinct_before[s.name][1])) for s in sets}
        for aggregate in _WHAT:
            compare(aggregate, column, overall[aggregate],
                    {name: (strict[aggregate], upto[aggregate])
                     for name, (strict, upto) in before.items()})

    return _findings(best, table, time_col), _rows(best, [s.name for s in sets]), notes


def _findings(best: Mapping[str, Mapping[Hashable, _Match]], table: EventTable,
              time_col: Hashable) -> list[Finding]:
    findings = []
    flagged: list[Hashable] = []
    for matches in best.values():
        flagged += [c for c in matches if c not in flagged]
    for column in flagged:
        found = {name: matches[column] for name, matches in best.items() if column in matches}
        first_set, first = next(iter(found.items()))
        what = _describe(first.aggregate, first.event_column)
        where = " and ".join(f"{m.n_match} of the {m.n_differ} {name} rows" for name, m in
                             found.items())
        n_match = sum(m.n_match for m in found.values())
        n_differ = sum(m.n_differ for m in found.values())
        findings.append(Finding(
            "future_aggregate", "error", column=column,
            message=f"{column!r} is the {what} per {table.key!r} over all events, those after "
            f"each row's {time_col!r} included (a groupby joined back): it equals that value in "
            f"{where} where it differs from what was known at {time_col!r}, so the model sees "
            "the future of the rows it predicts",
            n_rows=n_match, share=n_match / n_differ, threshold=MATCH_SHARE,
            sample_index=first.sample,
            suggestion=f"compute it from the events before each row's cutoff: "
            f"mllife.features.AggregateFeatures(events, key={table.key!r}, "
            f"time_col={table.time_col!r}, cutoff_col={time_col!r}, windows=...) (\"all\" "
            "for every earlier event)",
            details={
                "aggregate": first.aggregate,
                "event_column": None if first.event_column is None else str(first.event_column),
                "key": str(table.key), "event_time_col": str(table.time_col),
                "sample_from": first_set,
                "sets": {name: {"aggregate": m.aggregate,
                                "event_column": None if m.event_column is None
                                else str(m.event_column),
                                "n_rows": m.n_match, "n_differing": m.n_differ}
                         for name, m in found.items()},
            },
        ))
    return findings


def _rows(best: Mapping[str, Mapping[Hashable, _Match]], names: list[str]) -> list[dict[str, Any]]:
    rows = []
    for name in names:
        matches = best[name]
        rows.append({"check": "future_aggregate", "between": name,
                     "n_rows": sum(m.n_match for m in matches.values()),
                     "value": len(matches),
                     "status": "error" if matches else "ok"})
    return rows
