"""``RetrainPolicy``: when to retrain, decided from a monitor's windows, signals and settings."""

from __future__ import annotations

import datetime as _dt
import math
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from .. import _metrics
from .._criteria import METRICS, SuccessCriteria, normalize_metric_name
from .._errors import InputError
from ._report import SIGNALS, MonitorReport

__all__ = ["TRIGGERS", "RetrainDecision", "RetrainPolicy"]

#: The triggers of a policy, in the order that breaks ties between them.
TRIGGERS: tuple[str, ...] = ("every", "min_performance", "max_drift_share", "on_alarms")

#: A moment: a UTC time (time windows) or a window index (row windows).
Moment: TypeAlias = pd.Timestamp | int


@dataclass(frozen=True)
class RetrainDecision:
    """What :meth:`RetrainPolicy.decide` decided, and why.

    Attributes
    ----------
    retrain : bool
        Whether to retrain now.
    reasons : tuple of str
        One sentence per trigger that fired, the earliest first (and the
        cooldown's, when it holds the retraining back).
    trigger : str or None
        The trigger whose first firing window is the earliest (``"every"``,
        ``"min_performance"``, ``"max_drift_share"`` or ``"on_alarms"``);
        ``None`` when nothing fired or the cooldown holds.
    next_due : Timestamp, int or None
        The first scheduled time after ``now`` (a window index for row
        windows); ``None`` without ``every``.
    fired : tuple of str
        Every trigger that fired, earliest first.
    now, anchor : Timestamp or int or None
        The moment decided at and the last training (window indexes for row
        windows).
    anchor_source : str
        Where the anchor comes from: ``"trained_at"``, ``"first window
        start"`` or ``"window index 0 (row windows)"``.
    """

    retrain: bool
    reasons: tuple[str, ...] = ()
    trigger: str | None = None
    next_due: Moment | None = None
    fired: tuple[str, ...] = ()
    now: Moment | None = None
    anchor: Moment | None = None
    anchor_source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The decision as JSON-safe data (times as ISO 8601 text).

        Examples
        --------
        >>> RetrainDecision(False, next_due=3).to_dict()["next_due"]
        3
        """
        return {"retrain": self.retrain, "reasons": list(self.reasons), "trigger": self.trigger,
                "next_due": _json(self.next_due), "fired": list(self.fired),
                "now": _json(self.now), "anchor": _json(self.anchor),
                "anchor_source": self.anchor_source}

    def __repr__(self) -> str:
        why = f": {self.reasons[0]}" if self.reasons else ""
        return (f"<RetrainDecision retrain={self.retrain} trigger={self.trigger!r} "
                f"next_due={_text(self.next_due)}{why}>")


@dataclass(frozen=True, kw_only=True)
class RetrainPolicy:
    """When to retrain a monitored model: schedule, performance, drift and alarms.

    Immutable; the parameters are checked when it is built (the metric names
    and the kind of windows when it decides). :meth:`decide` reads only the
    monitor's report (:attr:`~MonitorReport.windows`,
    :attr:`~MonitorReport.signals`, :attr:`~MonitorReport.settings`), so it
    decides the same from a live :class:`Monitor` and from a saved
    :class:`MonitorReport`.

    **Anchor.** The last training: the bundle's ``metadata["trained_at"]``
    (or the report's ``settings["trained_at"]``) when present and
    parseable, else the start of the first window (``anchor_source`` of the
    decision says which; the reasons name a ``trained_at`` that is not a time). For
    row windows the anchor is window index 0 (a time cannot be placed among
    row counts).
    Only windows after the anchor count (time windows ending after it).

    Parameters
    ----------
    every : str, Timedelta or int, optional
        The schedule: a duration (``"30D"``, ``pd.Timedelta(weeks=4)``) for
        time windows, a number of windows for row windows. Months and years
        (``"1M"``, ISO ``"P1M"``) are refused: they have no fixed length. Scheduled times
        are ``anchor + k * every`` (``k >= 1``); the trigger fires when
        ``now >= anchor + every`` (a scheduled time has passed since the
        last training). ``next_due`` is the first scheduled time strictly
        after ``now``.
    min_performance : float or mapping, optional
        A minimum of the report's first metric, or ``{metric: limit}`` (a
        maximum for lower-is-better metrics such as ``mae``, by
        :meth:`SuccessCriteria.direction`). Fires when the latest window
        with a value has its whole interval on the wrong side of the limit:
        the realized interval when the window is labelled, else the
        estimated one. An interval, not a point: a claim that performance
        dropped holds the monitor's confidence level.
    max_drift_share : float, optional
        Fires when the latest window's share of drifted input columns is
        above it.
    on_alarms : str or sequence of str, default=()
        Signal names (``"data_drift"``, ``"freshness"`` ...); fires on any
        alarm of them in a window after the anchor.
    cooldown : str, Timedelta or int, optional
        No retraining while the anchor is within ``cooldown`` of ``now``
        (same units as ``every``); the reasons then say so.

    Raises
    ------
    InputError
        For a duration that does not parse, a non-positive ``every`` or
        ``cooldown``, an unknown metric, a limit outside the metric's range,
        a drift share outside [0, 1] or an unknown signal name.

    Notes
    -----
    ``decide(monitor)`` without ``now`` decides at the monitor's latest
    observed time, the end of its last window (its last window index for
    row windows), never the wall clock: the decision is reproducible. When
    several triggers fire, ``trigger`` is the one whose first firing window
    is the earliest (ties in the parameter order: ``every``,
    ``min_performance``, ``max_drift_share``, ``on_alarms``): the schedule's
    first window is the first window ending after the scheduled time; a
    performance or drift trigger's is the first of the run of windows, up to
    the latest, that breach it; ``on_alarms``' is the first alarm's window.

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.monitor import MonitorReport, RetrainPolicy
    >>> start = pd.date_range("2024-01-01", periods=3, freq="D", tz="UTC")
    >>> windows = pd.DataFrame({"window": ["d1", "d2", "d3"], "index": [0, 1, 2],
    ...                         "start": start, "end": start + pd.Timedelta("1D"),
    ...                         "drift_share": [0.0, 0.1, 0.6]})
    >>> report = MonitorReport(windows=windows, settings={"window": "1D"})
    >>> decision = RetrainPolicy(every="7D", max_drift_share=0.5).decide(report)
    >>> decision.retrain, decision.trigger, str(decision.next_due)
    (True, 'max_drift_share', '2024-01-08 00:00:00+00:00')
    """

    every: str | pd.Timedelta | _dt.timedelta | int | None = None
    min_performance: float | Mapping[str, float] | None = None
    max_drift_share: float | None = None
    on_alarms: str | Iterable[str] = ()
    cooldown: str | pd.Timedelta | _dt.timedelta | int | None = None
    _limits: Mapping[str, float] | float | None = field(init=False, repr=False, compare=False,
                                                         default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "every", _span(self.every, "every"))
        object.__setattr__(self, "cooldown", _span(self.cooldown, "cooldown"))
        object.__setattr__(self, "_limits", _limits(self.min_performance))
        if self.max_drift_share is not None:
            share = _finite(self.max_drift_share, "max_drift_share")
            if not 0.0 <= share <= 1.0:
                raise InputError(f"max_drift_share is {share}",
                                 expected="a share of columns between 0 and 1")
            object.__setattr__(self, "max_drift_share", share)
        names = (self.on_alarms,) if isinstance(self.on_alarms, str) else self.on_alarms
        try:
            names = tuple(dict.fromkeys(names))
        except TypeError:
            raise InputError(f"on_alarms is a {type(self.on_alarms).__name__}",
                             expected=f"signal names among {', '.join(SIGNALS)}") from None
        unknown = [n for n in names if n not in SIGNALS]
        if unknown:
            raise InputError(f"on_alarms names unknown signals {unknown[:5]}",
                             expected=f"signal names among {', '.join(SIGNALS)}")
        object.__setattr__(self, "on_alarms", names)

    # ---- deciding ----------------------------------------------------------------------
    def decide(self, monitor: Any, now: Any = None) -> RetrainDecision:
        """Decide whether to retrain now.

        Parameters
        ----------
        monitor : Monitor or MonitorReport
            A monitor (its :meth:`~Monitor.report` is read) or a report,
            e.g. one loaded with ``Report.load``.
        now : Timestamp, str or int, optional
            The moment to decide at: a time for time windows (naive times
            are UTC), a window index for row windows. Default: the
            monitor's latest observed time (see the class Notes).

        Returns
        -------
        RetrainDecision

        Raises
        ------
        InputError
            When ``monitor`` is neither, ``now`` does not parse, ``every``
            or ``cooldown`` do not fit the monitor's windows (a duration for
            row windows, a count for time windows), or ``min_performance``
            names a metric the monitor does not track.
        """
        report, trained_at = _read(monitor)
        view = _View(report, trained_at, now)
        for name in ("every", "cooldown"):
            span = getattr(self, name)
            if span is not None and isinstance(span, int) != view.rows:
                raise InputError(
                    f"{name}={_span_text(span)} for {'row' if view.rows else 'time'} windows",
                    expected="a number of windows" if view.rows else
                    "a duration such as '30D' (the monitor's windows are times)")
        found: list[tuple[int, int, str, str]] = []   # (first window, tie order, name, reason)
        for order, (name, check) in enumerate((
                ("every", self._every), ("min_performance", self._performance),
                ("max_drift_share", self._drift), ("on_alarms", self._alarms))):
            hit = check(view)
            if hit is not None:
                found.append((hit[0], order, name, hit[1]))
        found.sort()
        fired = tuple(name for _, _, name, _ in found)
        reasons = [reason for _, _, _, reason in found]
        next_due = self._next_due(view)
        cooldown: Any = self.cooldown      # a Timedelta or an int, as the windows (checked)
        held = bool(found) and cooldown is not None and view.now is not None \
            and view.anchor is not None and view.now - view.anchor < cooldown
        if held:
            reasons.insert(0, f"cooldown: the last training ({_text(view.anchor)}"
                              f"{view.anchor_note}) is within "
                              f"{_span_text(self.cooldown)} of now ({_text(view.now)}): no "
                              "retraining yet")
        return RetrainDecision(bool(found) and not held, tuple(reasons),
                               fired[0] if fired and not held else None, next_due=next_due,
                               fired=fired, now=view.now, anchor=view.anchor,
                               anchor_source=view.anchor_source)

    def _every(self, view: _View) -> tuple[int, str] | None:
        every: Any = self.every
        if every is None or view.anchor is None or view.now is None:
            return None
        due = view.anchor + every
        if view.now < due:
            return None
        return view.first_after(due), (f"every: a retraining was scheduled for {_text(due)} "
                                       f"(every {_span_text(self.every)} after the last training "
                                       f"{_text(view.anchor)}{view.anchor_note}), and it is "
                                       f"{_text(view.now)}")

    def _next_due(self, view: _View) -> Moment | None:
        every: Any = self.every
        if every is None or view.anchor is None:
            return None
        k = 1
        if view.now is not None and view.now >= view.anchor:
            k = int((view.now - view.anchor) // every) + 1
        return view.anchor + every * k

    def _performance(self, view: _View) -> tuple[int, str] | None:
        if self._limits is None:
            return None
        metrics = view.report.metrics
        if isinstance(self._limits, float):
            if not metrics:
                raise InputError("min_performance is a number, but the monitor tracks no metric",
                                 expected="a monitor with metrics")
            limits = {metrics[0]: _bounded(metrics[0], self._limits)}
        else:
            limits = dict(self._limits)
            stray = [m for m in limits if m not in metrics]
            if stray:
                raise InputError(f"min_performance names {stray}, which the monitor does not "
                                 "track", expected=f"metrics among {metrics or 'none'}")
        best: tuple[int, str] | None = None
        for metric, limit in limits.items():
            hit = _breach(view, metric, limit)
            if hit is not None and (best is None or hit[0] < best[0]):
                best = hit
        return best

    def _drift(self, view: _View) -> tuple[int, str] | None:
        if self.max_drift_share is None:
            return None
        share = view.numbers("drift_share")
        known = np.flatnonzero(np.isfinite(share) & view.after)
        if not known.size or not share[known[-1]] > self.max_drift_share:
            return None
        first = _run_start(known, share[known] > self.max_drift_share)
        last = known[-1]
        return first, (f"max_drift_share: {share[last]:.0%} of the input columns drifted in "
                       f"window {view.label(last)}, above {self.max_drift_share:.0%}"
                       + (f" (since window {view.label(first)})" if first != last else ""))

    def _alarms(self, view: _View) -> tuple[int, str] | None:
        if not self.on_alarms:
            return None
        alarms = view.report.alarms
        if alarms.empty:
            return None
        alarms = alarms[alarms["signal"].isin(self.on_alarms)]
        positions = view.position(alarms["index"])
        keep = positions >= 0
        keep[keep] = view.after[positions[keep]]
        alarms, positions = alarms[keep], positions[keep]
        if not len(alarms):
            return None
        first = int(positions.min())
        counts = alarms["signal"].value_counts(sort=False)
        listed = ", ".join(f"{int(counts[s])} {s}" for s in self.on_alarms if s in counts.index)
        return first, (f"on_alarms: {listed} alarm{'s' if len(alarms) != 1 else ''} since the "
                       f"last training, the first in window {view.label(first)}")


# ---- reading the monitor ----------------------------------------------------------------------
class _View:
    """The report as the triggers read it: positions, labels, times and the anchor."""

    def __init__(self, report: MonitorReport, trained_at: Any, now: Any) -> None:
        self.report = report
        windows = report.windows
        self.windows = windows
        settings = report.settings
        self.rows = settings.get("rows") is not None
        n = len(windows)
        self.labels = [str(w) for w in windows["window"]] if "window" in windows.columns \
            else [str(i) for i in range(n)]
        if "index" in windows.columns:
            self.index = pd.to_numeric(windows["index"], errors="coerce").to_numpy(dtype=float)
        else:
            self.index = np.arange(n, dtype=float)
        self.start = _times(windows, "start")
        self.end = _times(windows, "end")
        self.anchor: Moment | None
        self.anchor_note = ""     # said after the anchor in reasons: a trained_at not a time
        if self.rows:
            self.anchor, self.anchor_source = 0, "window index 0 (row windows)"
        else:
            parsed = _parse_time(trained_at)
            if parsed is None and trained_at is not None:
                self.anchor_note = (f" (the first window's start: trained_at "
                                    f"{str(trained_at)[:60]!r} is not a time)")
            if parsed is not None:
                self.anchor, self.anchor_source = parsed, "trained_at"
            elif n and self.start.notna().any():
                self.anchor, self.anchor_source = self.start.dropna().min(), "first window start"
            else:
                self.anchor, self.anchor_source = None, ""
        self.now = self._now(now)
        if self.rows:
            self.after = np.isfinite(self.index) & (self.index >= 0)
        elif self.anchor is not None:
            self.after = (self.end > self.anchor).to_numpy(dtype=bool, na_value=False)
        else:
            self.after = np.ones(n, dtype=bool)
        if self.now is not None:   # windows after "now" do not count yet
            self.after = self.after & ((self.index <= self.now) if self.rows else
                                       (self.start < self.now).to_numpy(dtype=bool, na_value=True))

    def _now(self, now: Any) -> Moment | None:
        if now is None:
            if self.rows:
                finite = self.index[np.isfinite(self.index)]
                return int(finite.max()) if finite.size else None
            for times in (self.end, self.start):
                if times.notna().any():
                    return times.max()
            return None
        if self.rows:
            if isinstance(now, bool) or not isinstance(now, int | np.integer) or now < 0:
                raise InputError(f"now={now!r} for row windows",
                                 expected="a window index (an integer >= 0)")
            return int(now)
        parsed = _parse_time(now)
        if parsed is None:
            raise InputError(f"now={now!r} is not a time",
                             expected="a Timestamp, datetime or ISO 8601 text")
        return parsed

    def numbers(self, column: str) -> np.ndarray:
        if column not in self.windows.columns:
            return np.full(len(self.windows), np.nan)
        values = pd.to_numeric(self.windows[column], errors="coerce")
        return values.to_numpy(dtype=float, na_value=np.nan)

    def label(self, position: int) -> str:
        return self.labels[position] if 0 <= position < len(self.labels) else "after the last"

    def position(self, indexes: Any) -> np.ndarray:
        keys = pd.Index(self.index)
        return keys.get_indexer(pd.to_numeric(pd.Series(indexes), errors="coerce"))

    def first_after(self, moment: Moment) -> int:
        """The first window ending after ``moment`` (row windows: of index ``>= moment``)."""
        if self.rows:
            hits = np.flatnonzero(self.index >= moment)
        else:
            hits = np.flatnonzero((self.end > moment).to_numpy(dtype=bool, na_value=False))
        return int(hits[0]) if hits.size else len(self.labels)


def _read(monitor: Any) -> tuple[MonitorReport, Any]:
    """The report of ``monitor`` (or ``monitor`` itself) and the anchor's ``trained_at``."""
    if isinstance(monitor, MonitorReport):
        return monitor, monitor.settings.get("trained_at")
    build = getattr(monitor, "report", None)
    report = build() if callable(build) else None
    if not isinstance(report, MonitorReport):
        raise InputError(f"monitor is a {type(monitor).__name__}",
                         expected="a Monitor or a MonitorReport")
    bundle = getattr(monitor, "bundle", None)
    metadata = getattr(bundle, "metadata", None)
    trained_at = metadata.get("trained_at") if isinstance(metadata, Mapping) else None
    return report, trained_at if trained_at is not None else report.settings.get("trained_at")


def _times(windows: pd.DataFrame, column: str) -> pd.Series:
    if column not in windows.columns:
        return pd.Series(pd.NaT, index=windows.index, dtype="datetime64[ns, UTC]")
    return pd.to_datetime(windows[column], utc=True, errors="coerce")


def _parse_time(value: Any) -> pd.Timestamp | None:
    """``value`` as a UTC Timestamp (naive times are UTC), ``None`` when it is not a time."""
    if value is None or isinstance(value, bool | int | float | np.number):
        return None
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if stamp is pd.NaT or pd.isna(stamp):
        return None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _breach(view: _View, metric: str, limit: float) -> tuple[int, str] | None:
    """The performance trigger of one metric: the latest window with a value, its interval."""
    direction = SuccessCriteria.direction(metric)
    sides = []
    for kind in ("realized", "estimated"):
        sides.append(tuple(view.numbers(f"{kind}_{metric}{s}") for s in ("", "_low", "_high")))
    (r, r_low, r_high), (e, e_low, e_high) = sides
    labelled = np.isfinite(r)
    value = np.where(labelled, r, e)
    low = np.where(labelled, r_low, e_low)
    high = np.where(labelled, r_high, e_high)
    known = np.flatnonzero(np.isfinite(value) & view.after)
    if not known.size:
        return None
    with np.errstate(invalid="ignore"):
        wrong = (high < limit) if direction == "min" else (low > limit)
    last = known[-1]
    if not wrong[last]:
        return None
    first = _run_start(known, wrong[known])
    side = "below the minimum" if direction == "min" else "above the maximum"
    kind = "realized" if labelled[last] else "estimated"
    return first, (f"min_performance: {kind} {metric} {value[last]:.4g} (interval "
                   f"[{low[last]:.4g}, {high[last]:.4g}]) in window {view.label(last)} lies "
                   f"entirely {side} {limit:g}"
                   + (f" (since window {view.label(first)})" if first != last else ""))


def _run_start(positions: np.ndarray, flags: np.ndarray) -> int:
    """The first of the trailing run of ``positions`` whose ``flags`` hold (the last holds)."""
    broken = np.flatnonzero(~flags)
    return int(positions[broken[-1] + 1] if broken.size else positions[0])


# ---- parameters -----------------------------------------------------------------------------
#: ISO 8601 durations with months or years in the date part ("P1M", "P1Y2M"): pandas reads
#: "P1M" as one minute, and a month has no fixed length.
_ISO_MONTHS = re.compile(r"^[+-]?P[^T]*[MY]", re.IGNORECASE)


def _span(value: Any, name: str) -> pd.Timedelta | int | None:
    """``every`` / ``cooldown``: a positive duration or a positive number of windows."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError(f"{name}={value!r}", expected="a duration such as '30D' or a number "
                                                       "of windows")
    if isinstance(value, int | np.integer) and not isinstance(value, np.timedelta64):
        if value <= 0:
            raise InputError(f"{name}={value}", expected="a positive number of windows")
        return int(value)
    if isinstance(value, str | _dt.timedelta | np.timedelta64):
        try:
            if isinstance(value, str) and _ISO_MONTHS.match(value.strip()):
                raise ValueError("an ISO 8601 duration in months or years")   # pandas: minutes
            with warnings.catch_warnings():   # a deprecated unit ("1d" in pandas 3): refused
                warnings.simplefilter("error")
                span = pd.Timedelta(value)
        except (TypeError, ValueError, OverflowError, Warning):
            span = pd.NaT
        if span is pd.NaT or pd.isna(span):
            raise InputError(f"{name}={value!r} is not a duration",
                             expected="a duration such as '30D', '12h' or pd.Timedelta(days=7) "
                                      "(months and years have no fixed length)")
        if span <= pd.Timedelta(0):
            raise InputError(f"{name}={value!r}", expected="a positive duration")
        return span
    raise InputError(f"{name} is a {type(value).__name__}",
                     expected="a duration such as '30D' (time windows) or an int (row windows)")


def _finite(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) \
            or not math.isfinite(float(value)):
        raise InputError(f"{name} is {value!r}", expected="a finite number")
    return float(value)


def _bounded(metric: str, limit: float) -> float:
    low, high = _metrics.METRICS[metric].bounds
    if (low is not None and limit < low) or (high is not None and limit > high):
        raise InputError(f"min_performance of {metric} is {limit}",
                         expected=f"a value in the range of {metric}: "
                                  f"[{'-inf' if low is None else low}, "
                                  f"{'inf' if high is None else high}]")
    return limit


def _limits(value: Any) -> Mapping[str, float] | float | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return _finite(value, "min_performance")
    out: dict[str, float] = {}
    for raw, limit in value.items():
        name = normalize_metric_name(raw) if isinstance(raw, str) else raw
        if name not in METRICS:
            raise InputError(f"min_performance names the unknown metric {raw!r}",
                             expected=f"one of {', '.join(sorted(METRICS))}")
        out[name] = _bounded(name, _finite(limit, f"min_performance of {raw!r}"))
    if not out:
        raise InputError("min_performance is an empty mapping",
                         expected="a number or {metric: limit}")
    return out


def _json(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _text(value: Any) -> str:
    """A moment as text: a time, or a window index."""
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, int):
        return f"window {value}"
    return str(value)


def _span_text(value: Any) -> str:
    """A span as text: a duration, or a number of windows."""
    if isinstance(value, pd.Timedelta):
        text = str(value)
        text = text[:-9] if text.endswith(" 00:00:00") else text
        return "1 day" + text[6:] if text.startswith("1 days") else text
    if isinstance(value, int):
        return f"{value} window{'s' if value != 1 else ''}"
    return str(value)
