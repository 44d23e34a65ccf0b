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

A feature column that equals an all-events aggregate (exactly, or within a
relative 1e-9; missing equals missing) on at least 95% of the rows where the
all-events value differs from the point-in-time value, with at least 10 such
rows, is a ``future_aggregate`` error. Rows where the two agree (no event
after the row's time) say nothing and are not counted, so a point-in-time
feature (``AggregateFeatures``) is never flagged: where it could match the
all-events value, it equals the point-in-time value instead.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import as_frame, is_bool, is_numeric, require_columns
from .._random import as_generator
from .._time import TimeValues, time_values
from ..report import Finding

#: Share of the rows where the all-events value differs from the point-in-time value
#: on which a feature must equal the all-events value.
MATCH_SHARE = 0.95
#: Fewest such rows for a finding.
MIN_ROWS = 10
#: Relative tolerance of "equal" (sums in another order differ in the last bits).
RTOL = 1e-9
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
    keys, event_keys = frame[table.key], table.frame[table.key]
    if is_numeric(keys) != is_numeric(event_keys) and keys.notna().any() and event_keys.notna().any():
        raise InputError(
            f"is {keys.dtype} in {name} but {event_keys.dtype} in the events: no key would match",
            column=table.key, expected="the same kind of key in both (numbers or text)")
    return rows


def _numeric_columns(frame: pd.DataFrame, exclude: set[Hashable], limit: int) -> tuple[
        list[Hashable], int]:
    columns = [c for c in frame.columns if c not in exclude
               and (is_bool(frame[c]) or is_numeric(frame[c]))]
    return columns[:limit], len(columns)


def _plain(s: pd.Series) -> pd.Series:
    """Keys as their values (a categorical as its categories' dtype), to match across frames."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.astype(s.cat.categories.dtype)
    return s


def _floats(s: pd.Series) -> np.ndarray:
    if is_bool(s):
        return s.astype("float64").to_numpy()
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal, within a relative ``RTOL``, or both missing (broadcasting)."""
    with np.errstate(invalid="ignore"):
        near = np.abs(a - b) <= RTOL * np.maximum(np.abs(a), np.abs(b))
    return (a == b) | near | (np.isnan(a) & np.isnan(b))


@dataclass
class _Set:
    """One set's sampled rows and where their past ends in the sorted events."""

    name: str
    frame: pd.DataFrame
    rows: np.ndarray           # positions in the frame (sorted)
    code: np.ndarray           # entity code per row (-1: the key has no event)
    last: np.ndarray           # index of the row's last earlier event in the sorted events
    n_before: np.ndarray       # events of the entity strictly before the row's time


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
    sets: list[_Set] = []
    offset = n_events
    for name, (rows, row_code) in sampled.items():
        mine = row_code >= 0
        safe = np.where(mine, row_code, 0)
        target = safe.astype(np.int64) * width + ranks[offset:offset + len(rows)]
        offset += len(rows)
        pos = np.searchsorted(composite, target, side="left")
        sets.append(_Set(name, frames[name], rows, row_code, pos - 1,
                         np.where(mine, pos - start[safe], 0)))

    event_columns, n_event_columns = _numeric_columns(events, {key, table.time_col},
                                                      MAX_EVENT_COLUMNS)
    if n_event_columns > len(event_columns):
        notes.append(f"future_aggregate: compared the first {MAX_EVENT_COLUMNS} of the "
                     f"{n_event_columns} numeric event columns.")
    features: dict[str, tuple[list[Hashable], np.ndarray]] = {}
    for s in sets:
        columns, n_columns = _numeric_columns(s.frame, exclude | {key}, MAX_FEATURE_COLUMNS)
        if n_columns > len(columns):
            notes.append(f"future_aggregate: compared the first {MAX_FEATURE_COLUMNS} of the "
                         f"{n_columns} numeric {s.name} columns.")
        values = (np.column_stack([_floats(s.frame[c].iloc[s.rows]) for c in columns])
                  if columns else np.empty((len(s.rows), 0)))
        features[s.name] = (columns, values)

    best: dict[str, dict[Hashable, _Match]] = {s.name: {} for s in sets}

    def compare(aggregate: str, column: Hashable | None, overall: np.ndarray,
                before: Mapping[str, np.ndarray]) -> None:
        """Match every feature of every set against one all-events aggregate."""
        for s in sets:
            columns, values = features[s.name]
            if not columns:
                continue
            mine = s.code >= 0
            everything = _at(overall, s.code, mine, np.nan)
            differ = mine & ~_close(everything, before[s.name])
            n_differ = int(differ.sum())
            if n_differ < MIN_ROWS:
                continue
            hits = _close(values[differ], everything[differ][:, None])
            counts = hits.sum(axis=0)
            for j in np.flatnonzero(counts >= MATCH_SHARE * n_differ):
                n_match = int(counts[j])
                previous = best[s.name].get(columns[j])
                if previous is not None and previous.n_match / previous.n_differ >= n_match / n_differ:
                    continue
                where = np.flatnonzero(differ)[hits[:, j]][:_SAMPLE]
                sample = tuple(s.frame.index[s.rows[where]])
                best[s.name][columns[j]] = _Match(aggregate, column, n_match, n_differ, sample)

    def blocks(prefix: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Per-entity totals and per-row values (before the row) of a cumulative count."""
        base = np.where(start > 0, prefix[np.maximum(start - 1, 0)], 0)
        return (prefix[end - 1] - base).astype(np.float64), {
            s.name: _at(prefix, s.last, s.n_before > 0, 0.0)
            - _at(base, s.code, s.n_before > 0, 0.0) for s in sets}

    compare("count", None, (end - start).astype(np.float64),
            {s.name: s.n_before.astype(np.float64) for s in sets})
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
        before: dict[str, dict[str, np.ndarray]] = {}
        for s in sets:
            k = n_before[s.name]
            known = k > 0
            total = _at(prefix["sum"], s.last, s.n_before > 0, 0.0)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(known, total / np.where(known, k, 1.0), np.nan)
            before[s.name] = {
                "sum": total, "mean": mean,
                "max": _at(prefix["max"], s.last, known, np.nan),
                "min": _at(prefix["min"], s.last, known, np.nan),
                "nunique": distinct_before[s.name],
            }
        for aggregate in _WHAT:
            compare(aggregate, column, overall[aggregate],
                    {name: values_[aggregate] for name, values_ in before.items()})

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
