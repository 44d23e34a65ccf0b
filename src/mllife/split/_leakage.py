"""``check_leakage()``: what a held-out set shares with the training set."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._columns import column_kind
from .._errors import InputError
from .._frame import (
    as_frame,
    is_bool,
    is_datetime,
    is_string_like,
    require_columns,
)
from .._time import TimeValues, check_same_kind, time_values
from ..report import Finding
from ._keys import FrameKeys, column_key, inherent_repeats
from ._leakage_events import EventTable, event_table, future_aggregates
from ._report import LeakageReport
from ._target import target_scores

#: Share of held-out rows with a twin in train above which duplicates are an error.
DUPLICATE_ERROR_SHARE = 0.05
#: Share of held-out rows whose value of a column appears in train, for a group key.
GROUP_KEY_SHARE = 0.05
#: A group-key candidate has at least this many distinct values (and 5% of rows).
GROUP_KEY_MIN_UNIQUE = 50
#: Text kinds whose repeated values may be an entity key.
_TEXT_KEY_KINDS = frozenset({"categorical", "high_cardinality", "numeric_text"})
_SAMPLE = 5


def _sample(index: pd.Index, mask: np.ndarray) -> tuple[Any, ...]:
    return tuple(index[np.flatnonzero(mask)[:_SAMPLE]])


class _Checks:
    """Collects findings and the one-row-per-check table."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.rows: list[dict[str, Any]] = []

    def add(self, check: str, between: str, *, n_rows: int | None = None,
            share: float | None = None, value: Any = None, finding: Finding | None = None,
            status: str | None = None) -> None:
        if finding is not None:
            self.findings.append(finding)
        self.rows.append({
            "check": check, "between": between,
            "status": status or (finding.severity if finding is not None else "ok"),
            "n_rows": n_rows, "share": share, "value": None if value is None else str(value),
        })


def _duplicates(checks: _Checks, name: str, other: FrameKeys, exact_train: pd.Series,
                near_train: pd.Series, features: list[Hashable], target: Hashable | None,
                inherent: dict[str, Any] | None) -> None:
    between = f"train/{name}"
    n = len(other.df)
    exact = pd.Series(other.rows(features)).isin(exact_train).to_numpy(dtype=bool)
    near = pd.Series(other.rows(features, near=True)).isin(near_train).to_numpy(dtype=bool)
    near = near & ~exact
    for check, mask, what in (("exact_duplicates", exact, "an identical"),
                              ("near_duplicates", near, "a nearly identical")):
        count = int(mask.sum())
        share = count / n if n else 0.0
        finding = None
        if count:
            details: dict[str, Any] = {"between": between,
                                       "features": [str(c) for c in features if c != target][:50]}
            severity = "error" if share >= DUPLICATE_ERROR_SHARE else "warning"
            tail = ": the model is scored on rows it was trained on"
            suggestion = ("split with mllife.split(..., dedupe=True) or DuplicateAwareKFold, "
                          "or drop the duplicates before splitting")
            if inherent is not None:
                # A table of a few categorical columns repeats rows by construction: twins
                # across sets are different records, not leakage.
                severity = "info"
                plural = "s allow" if len(features) != 1 else " allows"
                tail = (f", as expected: the {len(features)} feature column{plural} only "
                        f"{inherent['possible_rows']} distinct rows and the sets hold "
                        f"{inherent['n_distinct_rows']} for {inherent['n_rows']} rows, so "
                        "repeats are inherent to the table (different records that agree), "
                        "not copies; they inflate scores only if rows are copies of one record")
                suggestion = ("nothing to do unless rows are copies of one record (then add "
                              "the record's id and split with group_col)")
                details.update(inherent=True, possible_rows=inherent["possible_rows"],
                               distinct_rows=inherent["n_distinct_rows"])
            finding = Finding(
                check, severity, column=None,
                message=f"{count} {name} rows ({share:.1%}) have {what} row in train"
                + (" (numbers to 5 significant digits, text ignoring case and spacing)"
                   if check == "near_duplicates" else "")
                + tail,
                n_rows=count, share=share, threshold=DUPLICATE_ERROR_SHARE,
                sample_index=_sample(other.df.index, mask),
                suggestion=suggestion,
                details=details,
            )
        checks.add(check, between, n_rows=count, share=share, finding=finding)


def _groups(checks: _Checks, name: str, other_keys: FrameKeys, train_keys: pd.Series,
            group_col: Hashable) -> None:
    between = f"train/{name}"
    other = other_keys.df
    keys = other_keys.column(group_col)
    mask = np.asarray(pd.Series(keys).isin(train_keys), dtype=bool)
    count = int(mask.sum())
    share = count / len(other) if len(other) else 0.0
    finding = None
    n_groups = int(pd.Series(keys[mask]).nunique())
    if count:
        finding = Finding(
            "group_overlap", "error", column=group_col,
            message=f"{n_groups} {group_col!r} groups appear in train and {name}: "
            f"{count} {name} rows ({share:.1%}) belong to a group the model trained on",
            n_rows=count, share=share, sample_index=_sample(other.index, mask),
            suggestion="split by group: mllife.split(..., group_col=...) or GroupKFold",
            details={"between": between, "n_groups": n_groups},
        )
    checks.add("group_overlap", between, n_rows=count, share=share, value=n_groups,
               finding=finding)


def _group_candidates(checks: _Checks, name: str, train_keys: FrameKeys, other_keys: FrameKeys,
                      columns: Sequence[Hashable]) -> None:
    between = f"train/{name}"
    train, other = train_keys.df, other_keys.df
    found = 0
    worst = "ok"
    for column in columns:
        s_train, s_other = train[column], other[column]
        if is_bool(s_train) or is_datetime(s_train) or pd.api.types.is_float_dtype(s_train.dtype):
            continue  # cheap exits before the kind
        if not (is_string_like(s_train) or pd.api.types.is_integer_dtype(s_train.dtype)):
            continue
        # The kind from the one detector (mllife._columns): dates stored as text, free text,
        # flags and measurements are never entity keys; identifiers and categories may be.
        kind = column_kind(s_train, name=column)
        text = kind.kind in _TEXT_KEY_KINDS
        if not (text or kind.kind == "identifier" or (kind.kind == "numeric" and kind.integer)):
            continue
        if kind.n_unique < max(GROUP_KEY_MIN_UNIQUE, 0.05 * kind.n_rows):
            continue
        named_id = kind.named_like_id
        dense = kind.n_unique >= 0.2 * kind.n_rows
        if not (named_id or dense or text):
            continue  # an integer feature such as a count or an age
        keys_train = train_keys.column(column)
        keys_other = other_keys.column(column)
        mask = np.asarray(pd.Series(keys_other).isin(keys_train), dtype=bool) & s_other.notna(
        ).to_numpy()
        count = int(mask.sum())
        share = count / len(other) if len(other) else 0.0
        if share < GROUP_KEY_SHARE:
            continue
        n_shared = int(pd.Series(keys_other[mask]).nunique())
        # An ID-like name, an identifier, or text with few rows per value (a city repeats far more).
        id_like = named_id or kind.kind == "identifier" or (text and dense)
        found += 1
        severity = "warning" if id_like else "info"
        worst = "warning" if severity == "warning" else ("info" if worst == "ok" else worst)
        checks.findings.append(Finding(
            "group_key_candidate", severity, column=column,
            message=f"{n_shared} values of {column!r} appear in train and {name} "
            f"({count} {name} rows, {share:.1%}): if it identifies an entity (a customer, "
            "a device), its rows are split across sets",
            n_rows=count, share=share, threshold=GROUP_KEY_SHARE,
            sample_index=_sample(other.index, mask),
            suggestion=f"if {column!r} is an entity key, split with group_col={column!r}",
            details={"between": between, "n_shared_values": n_shared},
        ))
    checks.add("group_key_candidate", between, n_rows=found, value=found, status=worst)


def _temporal(checks: _Checks, name: str, other: pd.DataFrame, t_train: TimeValues,
              time_col: Hashable, horizon: Any) -> None:
    between = f"train/{name}"
    t_other = time_values(other[time_col], column=time_col)
    check_same_kind(t_train, t_other, column=time_col)
    if not len(t_train.values) or not len(t_other.values):
        return
    last_train = float(t_train.values.max())
    first_other = float(t_other.values.min())
    mask = t_other.values <= last_train
    count = int(mask.sum())
    share = count / len(t_other.values)
    finding = None
    if count:
        finding = Finding(
            "temporal_overlap", "error", column=time_col,
            message=f"{count} {name} rows ({share:.1%}) are not later than the last train "
            f"timestamp {t_train.label(last_train)}: the model learns from the future of "
            "the rows it is scored on",
            n_rows=count, share=share, sample_index=_sample(other.index, mask),
            suggestion=f"split by time: mllife.split(..., time_col={time_col!r})",
            details={"between": between, "last_train": t_train.label(last_train),
                     "first_other": t_other.label(first_other)},
        )
    checks.add("temporal_overlap", between, n_rows=count, share=share, finding=finding)
    if horizon is None:
        return
    span = t_train.span(horizon, name="horizon")
    late = t_train.values + span >= first_other
    n_late = int(late.sum())
    finding = None
    share = n_late / len(late)
    if n_late:
        finding = Finding(
            "label_horizon", "warning", column=time_col,
            message=f"{n_late} train rows ({share:.1%}) have labels that are only known within "
            f"{horizon!r} after their timestamp, which reaches into the {name} period "
            f"(from {t_other.label(first_other)})",
            n_rows=n_late, share=share,
            suggestion=f"leave a gap of at least the horizon: split(..., gap={horizon!r})",
            details={"between": between, "horizon": str(horizon)},
        )
    checks.add("label_horizon", between, n_rows=n_late, share=share, value=horizon,
               finding=finding)


def _future_timestamps(checks: _Checks, train: pd.DataFrame, t_train: TimeValues,
                       time_col: Hashable, columns: Sequence[Hashable]) -> None:
    found = 0
    for column in columns:
        s = train[column]
        if column == time_col or not is_datetime(s):
            continue
        if (isinstance(s.dtype, pd.DatetimeTZDtype)) != (t_train.tz is not None):
            continue
        values = column_key(s)
        known = np.isfinite(values)
        if not known.any():
            continue
        later = known & (values > t_train.values)
        share = float(later.sum() / known.sum())
        if share < 0.5:
            continue
        found += 1
        checks.findings.append(Finding(
            "future_timestamp", "warning", column=column,
            message=f"{column!r} is later than {time_col!r} in {int(later.sum())} of its "
            f"{int(known.sum())} values ({share:.0%}): it is recorded after the observation "
            "time and may encode the outcome",
            n_rows=int(later.sum()), share=share, threshold=0.5,
            sample_index=_sample(train.index, later),
            suggestion="use only information available at prediction time",
        ))
    checks.add("future_timestamp", "train", n_rows=found, value=found,
               status="warning" if found else "ok")


def run_checks(
    train: pd.DataFrame,
    others: Mapping[str, pd.DataFrame],
    *,
    target: Hashable | None,
    time_col: Hashable | None,
    group_col: Hashable | None,
    horizon: Any,
    title: str = "Leakage check",
    random_state: Any = None,
    events: EventTable | None = None,
) -> LeakageReport:
    """Every leakage check of ``train`` against each frame of ``others``.

    With ``events`` (from :func:`event_table`; needs ``time_col``), train and
    each other frame are also checked for ``future_aggregate`` features.
    """
    named = [c for c in (target, time_col, group_col) if c is not None]
    require_columns(train, named)
    for name, other in others.items():
        require_columns(other, [c for c in (time_col, group_col) if c is not None],
                        what=f"{name} column")
    shared = [c for c in train.columns if all(c in o.columns for o in others.values())]
    features = [c for c in shared if c != target]
    if not features:
        raise InputError("train and the held-out set share no feature column",
                         expected="the same columns in both")
    checks = _Checks()
    train_keys = FrameKeys(train)
    exact_train = pd.Series(train_keys.rows(features))
    near_train = pd.Series(train_keys.rows(features, near=True))
    t_train = time_values(train[time_col], column=time_col) if time_col is not None else None
    group_train = pd.Series(train_keys.column(group_col)) if group_col is not None else None
    keys = {name: FrameKeys(other) for name, other in others.items()}
    inherent = inherent_repeats([train_keys, *keys.values()], features)
    for name, other in others.items():
        other_keys = keys[name]
        _duplicates(checks, name, other_keys, exact_train, near_train, features, target,
                    inherent)
        if group_train is not None:
            _groups(checks, name, other_keys, group_train, group_col)
        else:
            candidates = [c for c in features if c != time_col]
            _group_candidates(checks, name, train_keys, other_keys, candidates)
        if t_train is not None:
            _temporal(checks, name, other, t_train, time_col, horizon)
    if t_train is not None:
        _future_timestamps(checks, train, t_train, time_col, features)
    notes: list[str] = []
    if events is not None and time_col is not None:
        exclude = {c for c in (target, time_col, group_col) if c is not None}
        found, rows, notes = future_aggregates(events, {"train": train, **others},
                                               time_col=time_col, exclude=exclude,
                                               random_state=random_state)
        checks.findings.extend(found)
        for row in rows:
            checks.add(row["check"], row["between"], n_rows=row["n_rows"], value=row["value"],
                       status=row["status"])
    scores = None
    if target is not None:
        scores, target_findings, task = target_scores(
            train, target, [c for c in train.columns if c != target], random_state=random_state)
        checks.findings.extend(target_findings)
        proxies = [f for f in target_findings if f.check == "target_proxy"]
        missing = [f for f in target_findings if f.check == "missingness_predicts_target"]
        status = "skipped" if task in ("one_class", "too_many_classes") else None
        for check, found in (("target_proxy", proxies), ("missingness_predicts_target", missing)):
            worst = max((f.rank for f in found), default=-1)
            checks.add(check, "train", n_rows=len(found), value=len(found),
                       status=status or ("ok", "info", "warning", "error")[worst + 1])
    order = {"error": 0, "warning": 1, "info": 2}
    findings = sorted(checks.findings, key=lambda f: order[f.severity])
    kwargs: dict[str, Any] = {}
    if scores is not None:
        kwargs["feature_scores"] = scores.sort_values("score", ascending=False,
                                                      na_position="last", kind="stable")
    return LeakageReport(
        title=title,
        findings=findings,
        n_rows={"train": len(train), **{name: len(o) for name, o in others.items()}},
        checks=pd.DataFrame.from_records(
            checks.rows, columns=["check", "between", "status", "n_rows", "share", "value"]),
        notes=[f"Compared {len(features)} feature columns of train with "
               f"{' and '.join(others)}.", *notes],
        **kwargs,
    )


def check_leakage(
    train: Any,
    test: Any,
    *,
    target: Hashable | None = None,
    time_col: Hashable | None = None,
    group_col: Hashable | None = None,
    horizon: Any = None,
    spec: Any = None,
    random_state: Any = None,
    events: Any = None,
    key: Hashable | None = None,
    event_time_col: Hashable | None = None,
) -> LeakageReport:
    """Check a train/test pair for every common kind of leakage.

    Checks run (findings name them):

    - ``exact_duplicates``: test rows whose feature columns (all shared
      columns but the target) equal a train row; ``near_duplicates``: equal
      once numbers are rounded to 5 significant digits and text is stripped,
      whitespace-collapsed and casefolded. Hash based: one pass over each frame.
      Both are ``info`` when repeats are inherent to the table (its columns
      allow under ten times as many distinct rows as the sets have rows, and
      at most half the rows are distinct): twins are then different records.
    - ``group_overlap`` (with ``group_col``): groups present in both sets.
      Without it, ``group_key_candidate``: an ID-like column (text or integers,
      many distinct values) whose values repeat across the sets.
    - ``temporal_overlap`` (with ``time_col``): test rows not strictly later
      than the last train row; ``label_horizon`` (with ``horizon``): train rows
      whose label, known ``horizon`` after their timestamp, reaches into the
      test period; ``future_timestamp``: another datetime column later than
      ``time_col`` in most rows (recorded after the fact).
    - ``target_proxy`` (with ``target``, an error): a column that gives the
      target almost exactly, not merely a strong predictor: a classification
      target that is a recoding of the column's few values (95% of rows) or
      one cut of its ordered values (99%: the target thresholded), or a
      cross-validated one-feature model reaching ROC-AUC >= 0.98 (every class
      with 5 rows; R² >= 0.95 for a numeric target); ``missingness_predicts_target``:
      a column's missingness indicator whose one-feature model reaches ROC-AUC
      0.80 (warning) or 0.95 (error). A leak is a statistical claim: each
      classification rule and each missingness finding also needs its p-value
      under shuffled labels (closed-form bounds; Fisher's exact test for
      missingness) below 0.05 over the number of tests (Bonferroni), so
      unrelated columns raise a leak finding in at most 5% of calls, however
      small or imbalanced the table (one positive among 30 rows: a perfect cut
      by chance in one column of 15). The message gives the p-value.
      Computed on at most 20,000 train rows.
    - ``future_aggregate`` (with ``events``, ``key``, ``event_time_col`` and
      ``time_col``, an error): a numeric column of train or test that is a
      per-``key`` aggregate of the events computed over **all** of them (a
      plain ``groupby`` joined back), so it counts events after the row's
      ``time_col``. Candidates: the number of events and, per numeric event
      column, its sum, mean, maximum, minimum and number of distinct values
      (pandas' ``groupby`` semantics: missing values skipped). Each is also
      computed point in time, over the events strictly before each row's
      time and over those up to it (per-entity prefix aggregates located by
      one sort and a ``searchsorted``: no loop over rows or entities). A row
      counts if its key has an event of known time after the row's time and
      the all-events value differs from both point-in-time ones. A column
      (numbers, or text holding only numbers) equal to the all-events value
      (relative 1e-9, 1e-6 for float32; missing equals missing; a column
      rounded to 0-6 decimals compared with the rounded aggregates) on at
      least 95% of those rows, with at least 10 of them, is flagged, unless
      as many matches are likely by chance (a constant or near-constant
      column: Chernoff bound above 0.05 over the number of comparisons); the
      message names the aggregate and the event column (``"sum of 'amount'"``)
      and the fix (``AggregateFeatures`` with the row's time as the cutoff).
      Point-in-time features are never flagged: on those rows they equal a
      point-in-time value. Rows whose key has no event are not counted; events
      with a missing key are ignored, events at an unknown time count in the
      all-events aggregates but never make a row count by themselves. Work bounds: the whole event table is
      sorted and aggregated once; at most 20 numeric event columns and 200
      numeric feature columns (the first ones) are compared, on at most
      20,000 rows per set (a sample seeded by ``random_state``); the report's
      ``notes`` say when a bound applied.

    Parameters
    ----------
    train, test : DataFrame or 2-D array
        Not modified. Compared on their shared columns.
    target : hashable, optional
        Target column of ``train`` (the test set may lack it).
    time_col : hashable, optional
        Time column of both sets: datetimes, pandas Periods, numbers (integer
        years) or text of years, quarters, months or ISO 8601 datetimes.
    group_col : hashable, optional
        Entity column (customer, patient) of both sets.
    horizon : str or timedelta, optional
        How long after a row's timestamp its label becomes known (``"30D"``).
    spec : ProblemSpec, optional
        Take ``target``, ``time_col`` and ``group_col`` from the spec; an explicit
        value that disagrees with it raises ``InputError``.
    random_state : int, RandomState, Generator or None, default=None
        Seeds the row sample (above 20,000 train rows) and the cross-validation folds
        of the one-feature scores; ``None`` is seed 0, so the report is reproducible.
    events : DataFrame, optional
        An event table (transactions, sessions) the features may have been
        aggregated from: one row per event, with ``key`` and ``event_time_col``.
        Not modified. Needs ``key``, ``event_time_col`` and ``time_col``.
    key : hashable, optional
        The entity column (``"customer_id"``) of train, test and ``events``.
    event_time_col : hashable, optional
        When each event happened, in ``events``: datetimes (the same kind as
        ``time_col``: both naive or both time-zone aware) or numbers (when
        ``time_col`` holds numbers).

    Returns
    -------
    LeakageReport
        ``findings`` (errors: leakage that inflates scores; warnings: likely
        leakage; info: worth a look), the ``checks`` table and
        ``feature_scores``; ``report.passed`` is True without warnings or errors.

    Raises
    ------
    InputError
        A named column is missing; the sets share no feature column; a column
        label repeats;
        ``time_col`` has NaT, mixed time zones or is aware in one set and naive
        in the other; ``horizon`` is not a time span. With ``events``: ``key``,
        ``event_time_col`` or ``time_col`` not given (or ``key`` /
        ``event_time_col`` given without ``events``), ``key`` missing from a set
        or from the events, ``event_time_col`` not times, datetimes in one of
        ``event_time_col`` / ``time_col`` and numbers in the other, time-zone
        aware in one and naive in the other (naming both), or a key of numbers
        in one table and text in the other.

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.split import check_leakage
    >>> train = pd.DataFrame({"customer": ["a", "b", "c"], "spend": [1.0, 2.0, 3.0]})
    >>> test = pd.DataFrame({"customer": ["c", "d"], "spend": [3.0, 4.0]})
    >>> report = check_leakage(train, test, group_col="customer")
    >>> [f.check for f in report.findings]
    ['exact_duplicates', 'group_overlap']

    A feature aggregated over every event, later ones included:

    >>> import numpy as np
    >>> events = pd.DataFrame({"customer": np.repeat(np.arange(40), 3),
    ...                        "at": np.tile([1.0, 5.0, 9.0], 40),
    ...                        "amount": np.arange(120.0)})
    >>> rows = pd.DataFrame({"customer": np.arange(40), "t": 6.0})
    >>> rows["spend"] = rows["customer"].map(events.groupby("customer")["amount"].sum())
    >>> report = check_leakage(rows.iloc[:30], rows.iloc[30:].assign(t=7.0), time_col="t",
    ...                        events=events, key="customer", event_time_col="at")
    >>> [(f.check, f.column, f.details["aggregate"]) for f in report.findings_by(severity="error")]
    [('future_aggregate', 'spend', 'sum')]
    """
    from .._spec import resolve_spec

    resolved = resolve_spec(spec, where="check_leakage", target=target, time_col=time_col,
                            group_col=group_col)
    target, time_col, group_col = resolved["target"], resolved["time_col"], resolved["group_col"]
    table = event_table(events, key=key, event_time_col=event_time_col, time_col=time_col)
    train_frame = as_frame(train, name="train")
    test_frame = as_frame(test, name="test")
    return run_checks(train_frame, {"test": test_frame}, target=target, time_col=time_col,
                      group_col=group_col, horizon=horizon, random_state=random_state,
                      events=table)
