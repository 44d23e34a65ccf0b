"""Freshness: a batch seen twice, a window repeating an earlier one, time standing still.

The data-pipeline incident "fed the model yesterday's data for a week" leaves
traces a monitor can see without labels. Per window, :class:`FreshnessState`
keeps (mergeable, bounded):

* the *content hash* of each batch slice: the multiset of its rows over the
  input columns, in any order, so an identical batch observed again is
  recognised exactly;
* a bottom-k sketch (``k = 256``) of its distinct row hashes with their
  counts, from which the Jaccard overlap of two windows' rows and the share of
  a window's rows seen in earlier windows are estimated (Broder 1997; the
  estimate is exact while a window has at most ``k`` distinct rows; Cohen &
  Kaplan 2007);
* the range of ``time_col``, the rows without a time, the rows that arrived
  after a later window had been seen (time windows), and a
  :class:`QuantileSketch` of the lag ``scored_at - time_col``.

:func:`freshness_decide` raises a ``freshness`` alarm for a repeated batch, a
window whose rows repeat one of the 100 windows before it (Jaccard >= 0.5),
and, for row windows, a window whose timestamps do not advance. A batch slice
is what one ``observe`` call put in one window: a replayed batch that falls
into windows at other offsets is caught by the rows, not by its hash. Rows repeat by chance only
when the input space is small (a few categorical columns); both repeat rules
therefore only judge *identifying* rows: a batch with at least 20 distinct
rows, a window with at least 100, at least 80% of its rows distinct. Then a
repeat by chance is practically impossible (two windows drawn from a space
small enough to repeat overlap by about 0.2, 5 standard deviations below
0.5), so a clean stream never raises these alarms.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import hash_rows
from .._time import time_values
from ..report import Finding
from ._alarms import WindowDecision, make_finding, signal_row
from ._quantiles import QuantileSketch

__all__ = ["FreshnessState", "freshness_decide"]

#: Size of the bottom-k sketch of row hashes.
SKETCH_SIZE = 256
#: A batch is judged on repeats only with at least this many distinct rows, a window
#: with at least ``MIN_WINDOW_DISTINCT`` (an overlap >= 0.5 between two windows of 100
#: distinct rows drawn from a space small enough to repeat is a 5-sigma event) ...
MIN_DISTINCT = 20
MIN_WINDOW_DISTINCT = 100
#: ... making up at least this share of its rows.
MIN_DISTINCT_SHARE = 0.8
#: A window whose rows overlap an earlier window's this much (Jaccard) is a repeat.
JACCARD_ALARM = 0.5
#: A window's rows are compared with those of at most this many windows before it.
LOOKBACK = 100
#: At most this many batch hashes per window (the smallest kept beyond).
MAX_BATCHES = 4096
#: The column of the scoring time in a prediction log.
SCORED_AT = "scored_at"
_SEED = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: well-spread 64-bit hashes (uint64 arithmetic wraps)."""
    z = np.asarray(h, dtype=np.uint64) + _SEED
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _bottom_k(hashes: np.ndarray, counts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` smallest distinct hashes with their summed counts."""
    if hashes.size == 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    uniq, inverse = np.unique(hashes, return_inverse=True)
    summed = np.bincount(inverse.ravel(), weights=counts, minlength=uniq.size)
    return uniq[:k], np.round(summed[:k]).astype(np.int64)


def _identifying(n_distinct: float, n_rows: float, minimum: int = MIN_DISTINCT) -> bool:
    return n_distinct >= minimum and n_distinct >= MIN_DISTINCT_SHARE * n_rows


@dataclass(frozen=True, eq=False)
class FreshnessState:
    """The freshness state of one window (or batch slice); merge two with :meth:`merge`.

    Attributes
    ----------
    n_rows : int
        Rows observed.
    row_hashes, row_counts : numpy.ndarray
        The ``k`` smallest distinct row hashes (uint64) and how many rows had each.
    batch_hashes, batch_counts, batch_rows : numpy.ndarray
        Content hashes of the identifying batch slices, how often each was
        seen, and their row counts.
    time_min, time_max : float
        Range of ``time_col`` (nanoseconds since the epoch for date-times;
        NaN without times).
    time_is_datetime : bool or None
        Whether the times are date-times (None: no times seen).
    n_no_time, n_late : int
        Rows without a time; rows that arrived after a later window was seen.
    lag : QuantileSketch
        Lag ``scored_at - time_col`` (seconds for date-times).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> batch = pd.DataFrame({"x": rng.normal(size=50), "y": rng.normal(size=50)})
    >>> a = FreshnessState.from_batch(batch, columns=["x", "y"])
    >>> b = FreshnessState.from_batch(batch.iloc[::-1], columns=["x", "y"])
    >>> a.batch_hashes.tolist() == b.batch_hashes.tolist(), a.n_distinct
    (True, 50.0)
    """

    n_rows: int
    row_hashes: np.ndarray
    row_counts: np.ndarray
    batch_hashes: np.ndarray
    batch_counts: np.ndarray
    batch_rows: np.ndarray
    time_min: float = math.nan
    time_max: float = math.nan
    time_is_datetime: bool | None = None
    n_no_time: int = 0
    n_late: int = 0
    lag: QuantileSketch = field(default_factory=QuantileSketch.empty)
    k: int = SKETCH_SIZE

    # ---- construction ---------------------------------------------------------
    @classmethod
    def empty(cls, k: int = SKETCH_SIZE) -> FreshnessState:
        """The state of a window with no rows."""
        u, i = np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
        return cls(0, u, i, u, i, i, k=k)

    @classmethod
    def from_batch(cls, frame: pd.DataFrame, *, columns: Sequence[Any],
                   time_col: Any = None, scored_at_col: Any = SCORED_AT, late: bool = False,
                   k: int = SKETCH_SIZE) -> FreshnessState:
        """The state of one batch slice.

        Parameters
        ----------
        frame : DataFrame
            The slice.
        columns : sequence
            The input columns to hash (present in ``frame``): not the time,
            id, label or output columns, which change on a replay.
        time_col : column name, optional
            The event time; its range and the rows without one are kept.
        scored_at_col : column name, default="scored_at"
            The scoring time of a prediction log; when present (and not
            ``time_col``), the lag ``scored_at - time_col`` is sketched
            (in seconds for date-times). Unreadable values are left out.
        late : bool, default=False
            The slice arrived after a later window had been seen (time
            windows): its rows count as late.
        k : int, default=256
            Size of the bottom-k sketch.
        """
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"a batch slice is a {type(frame).__name__}",
                             expected="a DataFrame")
        _check_k(k)
        cols = [c for c in columns if c in frame.columns]
        n = len(frame)
        hashes = _mix(hash_rows(frame, cols)) if n else np.zeros(0, dtype=np.uint64)
        uniq, counts = np.unique(hashes, return_counts=True)
        empty_u, empty_i = np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
        batch_h, batch_c, batch_r = empty_u, empty_i, empty_i
        if cols and _identifying(uniq.size, n):
            # The multiset of row hashes, in any order: a sum of well-spread hashes
            # (modulo 2**64), with the row count folded in.
            total = np.sum(_mix(hashes), dtype=np.uint64)
            content = _mix(np.array([total ^ np.uint64(n)], dtype=np.uint64))
            batch_h = content.astype(np.uint64)
            batch_c, batch_r = np.array([1], dtype=np.int64), np.array([n], dtype=np.int64)
        state = cls(n, uniq[:k].astype(np.uint64), counts[:k].astype(np.int64),
                    batch_h, batch_c, batch_r, n_late=n if late else 0, k=k)
        if time_col is not None and time_col in frame.columns:
            state = state._with_time(frame, time_col, scored_at_col)
        return state

    def _with_time(self, frame: pd.DataFrame, time_col: Any, scored_at_col: Any
                   ) -> FreshnessState:
        tv = time_values(frame[time_col], column=time_col, missing="keep")
        t = tv.values
        finite = np.isfinite(t)
        lag = QuantileSketch.empty()
        if (scored_at_col is not None and scored_at_col != time_col
                and scored_at_col in frame.columns):
            try:
                sv = time_values(frame[scored_at_col], column=scored_at_col, missing="keep")
            except InputError:  # some values are not times: those are left out, the rest kept
                sv = _readable_times(frame[scored_at_col], scored_at_col)
            if sv is not None and sv.is_datetime == tv.is_datetime:
                diff = sv.values - t
                lag = QuantileSketch.from_values(diff / 1e9 if tv.is_datetime else diff)
        return replace(self, time_min=float(t[finite].min()) if finite.any() else math.nan,
                       time_max=float(t[finite].max()) if finite.any() else math.nan,
                       time_is_datetime=bool(tv.is_datetime) if finite.any() else None,
                       n_no_time=int((~finite).sum()), lag=lag)

    # ---- merge ---------------------------------------------------------------
    def merge(self, other: FreshnessState) -> FreshnessState:
        """The state of both (a new object): associative and commutative.

        The bottom-k of a union is the bottom-k of the two bottom-k's, and a
        hash in it has its exact count in each, so nothing is approximated by
        merging.
        """
        if not isinstance(other, FreshnessState):
            raise InputError(f"cannot merge a {type(other).__name__}",
                             expected="a FreshnessState")
        if other.k != self.k:
            raise InputError(f"sketches of sizes {self.k} and {other.k}",
                             expected="two freshness states of the same sketch size")
        kinds = {x.time_is_datetime for x in (self, other)} - {None}
        if len(kinds) > 1:
            raise InputError("date-times in one window state and numbers in the other",
                             expected="the same kind of time values")
        rows_h, rows_c = _bottom_k(np.concatenate([self.row_hashes, other.row_hashes]),
                                   np.concatenate([self.row_counts, other.row_counts]), self.k)
        bh = np.concatenate([self.batch_hashes, other.batch_hashes])
        uniq, inverse = np.unique(bh, return_inverse=True)
        inverse = inverse.ravel()
        bc = np.bincount(inverse, weights=np.concatenate([self.batch_counts, other.batch_counts]),
                         minlength=uniq.size)
        br = np.zeros(uniq.size)
        np.maximum.at(br, inverse, np.concatenate([self.batch_rows, other.batch_rows]))
        return FreshnessState(
            self.n_rows + other.n_rows, rows_h, rows_c, uniq[:MAX_BATCHES].astype(np.uint64),
            np.round(bc[:MAX_BATCHES]).astype(np.int64),
            np.round(br[:MAX_BATCHES]).astype(np.int64),
            float(np.fmin(self.time_min, other.time_min)),
            float(np.fmax(self.time_max, other.time_max)),
            kinds.pop() if kinds else None, self.n_no_time + other.n_no_time,
            self.n_late + other.n_late, self.lag.merge(other.lag), self.k)

    # ---- derived -------------------------------------------------------------
    @property
    def n_distinct(self) -> float:
        """Distinct rows: exact up to ``k``, then the KMV estimate ``(k-1) / u_k``."""
        size = self.row_hashes.size
        if size < self.k:
            return float(size)
        kth = float(self.row_hashes[-1]) / 2.0**64
        return (self.k - 1) / kth if kth > 0 else math.inf

    @property
    def identifying(self) -> bool:
        """At least 100 distinct rows, making up at least 80% of the rows."""
        return _identifying(self.n_distinct, self.n_rows, MIN_WINDOW_DISTINCT)

    # ---- JSON ---------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, FreshnessState) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]

    def to_json(self) -> dict[str, Any]:
        """JSON-safe data (hashes as 16-digit hex text); :meth:`from_json` reads it back."""
        return {
            "k": self.k, "n_rows": self.n_rows,
            "row_hashes": [f"{int(h):016x}" for h in self.row_hashes],
            "row_counts": self.row_counts.tolist(),
            "batch_hashes": [f"{int(h):016x}" for h in self.batch_hashes],
            "batch_counts": self.batch_counts.tolist(), "batch_rows": self.batch_rows.tolist(),
            "time_min": _or_none(self.time_min), "time_max": _or_none(self.time_max),
            "time_is_datetime": self.time_is_datetime, "n_no_time": self.n_no_time,
            "n_late": self.n_late, "lag": self.lag.to_json(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FreshnessState:
        """Rebuild a state from :meth:`to_json`, checked as untrusted data.

        Raises
        ------
        InputError
            For a wrong type, more hashes than the sketch size (or than
            4096 batches), unsorted or repeated hashes, counts that are not
            positive, or numbers that are not finite.
        """
        if not isinstance(data, Mapping):
            raise InputError(f"a freshness state is a {type(data).__name__}",
                             expected="a mapping (FreshnessState.to_json())")
        try:
            k = data["k"]
            _check_k(k)
            n_rows = _whole(data["n_rows"])
            rows_h = _hashes(data["row_hashes"], k)
            rows_c = _counts(data["row_counts"], rows_h.size)
            batch_h = _hashes(data["batch_hashes"], MAX_BATCHES)
            batch_c = _counts(data["batch_counts"], batch_h.size)
            batch_r = _counts(data["batch_rows"], batch_h.size)
            t_min, t_max = _time(data["time_min"]), _time(data["time_max"])
            kind = data["time_is_datetime"]
            if kind is not None and not isinstance(kind, bool):
                raise ValueError("time_is_datetime must be true, false or null")
            n_no_time, n_late = _whole(data["n_no_time"]), _whole(data["n_late"])
            lag = QuantileSketch.from_json(data["lag"])
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise InputError(f"a freshness state that does not read ({type(exc).__name__}: "
                             f"{exc})", expected="the output of FreshnessState.to_json()"
                             ) from None
        if int(rows_c.sum()) > n_rows or n_late > n_rows or n_no_time > n_rows:
            raise InputError("a freshness state counting more rows than it has",
                             expected="counts at most n_rows")
        return cls(n_rows, rows_h, rows_c, batch_h, batch_c, batch_r, t_min, t_max, kind,
                   n_no_time, n_late, lag, int(k))


# ------------------------------------------------------------------ estimates
_TOP = np.uint64(np.iinfo(np.uint64).max)


def _jaccard(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """Bottom-k estimate of the Jaccard overlap of two sets (exact when both are small).

    Both sketches hold every hash of their set up to their largest one when
    full (``k`` hashes), all of them otherwise; below the smaller of those
    limits the two sets are known exactly, and their overlap there estimates
    the overlap of the sets (Cohen & Kaplan 2007).
    """
    limit = min(a[-1] if a.size >= k else _TOP, b[-1] if b.size >= k else _TOP)
    a = a[: np.searchsorted(a, limit, side="right")]
    b = b[: np.searchsorted(b, limit, side="right")]
    if a.size + b.size == 0:
        return math.nan
    at = np.minimum(np.searchsorted(b, a), max(b.size - 1, 0))
    common = int(np.count_nonzero(b[at] == a)) if b.size else 0
    return common / (a.size + b.size - common)


def _containment(state: FreshnessState, earlier_h: np.ndarray, earlier_full: bool) -> float:
    """Share of the window's rows (counted with repeats) whose row appeared in earlier windows."""
    h, c = state.row_hashes, state.row_counts
    if h.size == 0:
        return math.nan
    if earlier_h.size == 0:
        return 0.0
    limit = h[-1] if h.size >= state.k else _TOP
    if earlier_full:
        limit = min(limit, earlier_h[-1])
    below = h <= limit
    if not below.any():
        return math.nan
    seen = np.isin(h[below], earlier_h, assume_unique=True)
    return float(c[below][seen].sum() / c[below].sum())


def freshness_decide(states: Sequence[FreshnessState], windows: Sequence[Any], *,
                     indices: Sequence[Any] | None = None, row_windows: bool
                     ) -> list[WindowDecision]:
    """The freshness alarms and numbers of every window, in order.

    Rules (each a ``freshness`` alarm, severity ``error``):

    * **repeated batch**: a batch slice of the window has the same content
      (the same rows over the input columns, in any order) as one seen in
      an earlier window, or was seen twice in this window; only identifying
      batches (at least 20 distinct rows, 80% of them distinct) count;
    * **repeated window**: the window's rows overlap one of the 100 windows
      before it with a Jaccard index >= 0.5 (both windows identifying: at
      least 100 distinct rows, 80% of them distinct); the message
      names the earlier window with the largest overlap;
    * **time not advancing** (row windows with a ``time_col``): the
      window's latest time is before the latest time of the earlier
      windows, or equal to it while the window also holds older times (a
      window of one coarse timestamp, a day, is not judged).

    Numbers (no alarm): ``repeat_share`` (share of the window's rows seen in
    earlier windows, from the sketches), ``late_rows`` (time windows: an
    ``info`` finding when > 0), ``rows_without_time``, ``lag_p50`` and
    ``lag_p95`` (seconds for date-times).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> fresh = [pd.DataFrame({"x": rng.normal(size=100)}) for _ in range(2)]
    >>> states = [FreshnessState.from_batch(b, columns=["x"]) for b in [*fresh, fresh[1]]]
    >>> out = freshness_decide(states, ["w0", "w1", "w2"], row_windows=True)
    >>> [any(r["alarm"] for r in d.rows) for d in out]
    [False, False, True]
    >>> out[2].findings[0].message
    'window w2: a batch of 100 rows identical to one seen in window w1 (same rows, any order)'
    """
    if len(states) != len(windows):
        raise InputError(f"{len(states)} states for {len(windows)} window labels",
                         expected="one label per state")
    idx = list(range(len(states))) if indices is None else list(indices)
    out: list[WindowDecision] = []
    union_h = np.zeros(0, dtype=np.uint64)
    union_full = False
    batch_owner: dict[int, int] = {}
    running_max = math.nan
    k = states[0].k if states else SKETCH_SIZE
    for i, state in enumerate(states):  # a loop over windows
        label, ix = windows[i], idx[i]
        rows: list[dict[str, Any]] = []
        findings: list[Finding] = []
        numbers: dict[str, Any] = {
            "repeat_share": _containment(state, union_h, union_full) if state.n_rows else math.nan,
            "late_rows": float(state.n_late), "rows_without_time": float(state.n_no_time),
            "lag_p50": state.lag.quantile(0.5), "lag_p95": state.lag.quantile(0.95),
        }
        # Repeated batches.
        repeats = []
        for h, count, n in zip(state.batch_hashes.tolist(), state.batch_counts.tolist(),
                               state.batch_rows.tolist(), strict=True):
            if h in batch_owner:
                repeats.append((n, batch_owner[h]))
            elif count > 1:
                repeats.append((n, i))
        row = signal_row("freshness", window=label, index=ix, statistic="repeated_batches",
                         value=float(len(repeats)), alarm=bool(repeats),
                         reason="batches identical to earlier ones" if repeats else
                         "no batch seen before")
        rows.append(row)
        if repeats:
            n, owner = repeats[0]
            where = "earlier in this window" if owner == i else f"in window {windows[owner]}"
            more = f" ({len(repeats)} such batches)" if len(repeats) > 1 else ""
            findings.append(make_finding(
                row, f"window {label}: a batch of {n} rows identical to one seen {where} "
                     f"(same rows, any order){more}", n_rows=int(n), earlier=str(windows[owner])))
        # A window repeating an earlier one.
        if state.identifying:
            best, best_j = None, -1.0
            for j in range(max(0, i - LOOKBACK), i):  # a loop over earlier windows
                if states[j].identifying:
                    jac = _jaccard(state.row_hashes, states[j].row_hashes, k)
                    if jac > best_j:
                        best, best_j = j, jac
            if best is not None:
                alarm = best_j >= JACCARD_ALARM
                row = signal_row("freshness", window=label, index=ix, statistic="max_jaccard",
                                 value=best_j, high=JACCARD_ALARM, alarm=alarm,
                                 reason=f"largest row overlap: window {windows[best]}")
                rows.append(row)
                numbers["max_jaccard"] = best_j
                if alarm:
                    findings.append(make_finding(
                        row, f"window {label}: its rows repeat those of window "
                             f"{windows[best]} (Jaccard overlap {best_j:.2f})",
                        threshold=JACCARD_ALARM, earlier=str(windows[best])))
        # Time not advancing (row windows).
        if row_windows and math.isfinite(state.time_max):
            if math.isfinite(running_max):
                stuck = state.time_max < running_max or (
                    state.time_max == running_max and state.time_min < state.time_max)
                scale = 1e9 if state.time_is_datetime else 1.0
                row = signal_row("freshness", window=label, index=ix,
                                 statistic="time_advance",
                                 value=(state.time_max - running_max) / scale, alarm=stuck,
                                 reason="latest time minus the earlier windows' latest"
                                        + (" (seconds)" if state.time_is_datetime else ""))
                rows.append(row)
                if stuck:
                    findings.append(make_finding(
                        row, f"window {label}: timestamps do not advance (its latest time is "
                             f"not after the latest time of the earlier windows)"))
            running_max = float(np.fmax(running_max, state.time_max))
        if state.n_late:
            row = signal_row("freshness", window=label, index=ix, statistic="late_rows",
                             value=float(state.n_late), alarm=False,
                             reason="rows that arrived after a later window was seen")
            rows.append(row)
            findings.append(make_finding(
                row, f"window {label}: {state.n_late} rows arrived after a later window had "
                     f"been seen", severity="info", n_rows=state.n_late,
                suggestion="late rows update this window's numbers after the fact; check the "
                           "pipeline's delays if there are many"))
        if state.n_no_time:
            findings.append(make_finding(
                signal_row("freshness", window=label, index=ix, statistic="rows_without_time",
                           value=float(state.n_no_time)),
                f"window {label}: {state.n_no_time} rows without a time", severity="info",
                n_rows=state.n_no_time, suggestion="fill the time column upstream"))
        out.append(WindowDecision(numbers, rows, findings))
        # Fold this window into the earlier-windows summaries.
        for h in state.batch_hashes.tolist():
            batch_owner.setdefault(h, i)
        union_full = union_full or state.row_hashes.size >= k
        union_h = np.union1d(union_h, state.row_hashes)
        if union_h.size >= k:
            union_h, union_full = union_h[:k], True
    return out


# ------------------------------------------------------------------ JSON helpers
def _check_k(k: Any) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 16 <= k <= 65_536:
        raise InputError(f"k={k!r}", expected="an integer sketch size in [16, 65536]")


def _or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{value!r} is not a count")
    return int(value)


def _time(value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"time {value!r} is not a finite number")
    return float(value)


def _hashes(values: Any, limit: int) -> np.ndarray:
    if not isinstance(values, list) or len(values) > limit:
        raise ValueError(f"hashes must be a list of at most {limit}")
    if any(not isinstance(v, str) or len(v) != 16 for v in values):
        raise ValueError("hashes must be 16-digit hex text")
    out = np.array([int(v, 16) for v in values], dtype=np.uint64)
    if out.size and np.any(out[1:] <= out[:-1]):
        raise ValueError("hashes must be sorted and distinct")
    return out


def _counts(values: Any, size: int) -> np.ndarray:
    if not isinstance(values, list) or len(values) != size:
        raise ValueError(f"counts must be a list of {size}")
    if any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in values):
        raise ValueError("counts must be integers >= 1")
    return np.asarray(values, dtype=np.int64)


def _readable_times(values: pd.Series, column: Any) -> Any:
    """The times of ``values`` with what cannot be read as a time made missing (``None`` if none)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coerced = pd.to_datetime(values.astype(object), errors="coerce", utc=True, format="ISO8601")
    if not coerced.notna().any():
        return None
    try:
        return time_values(coerced, column=column, missing="keep")
    except InputError:
        return None
