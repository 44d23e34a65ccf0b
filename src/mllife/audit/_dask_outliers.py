"""The ``outliers`` check from merged Dask summaries.

The same rule as :func:`mllife.audit._checks_outliers.outliers` (same scale,
fences, severity and message), computed on a column's distinct values
weighted by their row counts instead of on its rows:

- a column with at most ``value_cap`` distinct values has every value and
  count, and numpy's linear quantiles are reproduced exactly from the order
  statistics (the pandas finding, bit for bit);
- above the cap, the merged quantile sketch (rank error ``e``) tells where each
  quantile the check needs lies, within ``e`` rows: a second pass over those
  numeric columns only (:func:`plan_refinement`, :func:`refine_partition`)
  collects the rows below and the values inside each narrow window, which
  gives the exact order statistics, the exact smallest magnitudes and hence
  the exact fences; ``method="mad"`` takes a third pass for the median
  distance (:func:`plan_mad`). The values beyond a fence are counted on the
  smallest and largest ``tail`` distinct values kept with their counts and
  first rows: exact unless more distinct values than that lie beyond it.
  Whatever was read from the sketch instead (no second pass, a window missed,
  too many values beyond a fence) is said in the finding's message.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import InputError
from .._nulls import SENTINEL_CANDIDATES
from ..report import Finding
from ._checks_outliers import _HEAVY, _IQR_Z, _MAD_Z, _Q75_Z, _fence_z
from ._dask_data import SummaryColumn, SummaryData
from ._dask_sketch import median, order_stats, quantiles
from ._dask_values import Rows, ValueTable

__all__ = ["outliers"]

_PROBS = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


class _Weighted:
    """A column's valid values as sorted distinct values (or sketch points) with row counts.

    ``refined``: exact order statistics from the second pass (:class:`Refined`), used
    wherever their windows reach.
    """

    def __init__(self, values: np.ndarray, counts: np.ndarray, n: int, *, exact: bool, rank_error: float = 0.0,
                 minimum: float, maximum: float, refined: Refined | None = None, key: str = "x") -> None:
        order = np.argsort(values, kind="stable")
        self.values, self.counts = values[order], counts[order]
        self.n, self.exact, self.rank_error = n, exact, rank_error
        self.minimum, self.maximum = minimum, maximum
        self.refined, self.key = refined, key
        self.all_exact = True  # until a value comes from a sketch

    def order_stats(self, ranks: np.ndarray) -> np.ndarray:
        if self.exact:
            return order_stats(self.values, self.counts, ranks)
        out = order_stats(self.values, self.counts, ranks)
        for i, rank in enumerate(np.asarray(ranks)):
            value = self.refined.order_stat(self.key, int(rank)) if self.refined is not None else None
            if value is None:
                self.all_exact = False
            else:
                out[i] = value
        return out

    def quantiles(self, probs: Sequence[float]) -> np.ndarray:
        if self.exact:
            return quantiles(self.values, self.counts, probs)
        virtual = (self.n - 1) * np.asarray(probs, dtype=np.float64)
        below = np.floor(virtual)
        a = self.order_stats(below)
        b = self.order_stats(np.minimum(below + 1, self.n - 1))
        return np.array([np.quantile(np.array([x, y]), g) for x, y, g in zip(a, b, virtual - below, strict=True)])

    def magnitudes(self) -> _Weighted:
        """The same rows as ``|x|`` (a sketch of ``|x|`` has twice the rank error)."""
        return _Weighted(np.abs(self.values), self.counts, self.n, exact=self.exact,
                         rank_error=2 * self.rank_error, minimum=0.0, maximum=0.0, refined=self.refined,
                         key="abs")


@dataclass(frozen=True)
class Refined:
    """Exact order statistics of one column from the second pass: per window, the rows
    below it and the sorted values inside it; and the smallest magnitudes."""

    windows: dict[str, list[tuple[int, np.ndarray]]]
    min_abs: float | None = None
    min_positive_abs: float | None = None

    def order_stat(self, key: str, rank: int) -> float | None:
        for below, inside in self.windows.get(key, []):
            if below <= rank < below + inside.size:
                return float(inside[rank - below])
        return None


def _valid(col: SummaryColumn) -> tuple[_Weighted, list[ValueTable]] | None:
    """The column's finite, non-sentinel values, and the tables that hold rows to count."""
    sentinels = col.sentinels
    if col.complete:
        table = col.table
        x = table.numbers()
        keep = np.isfinite(x) & ~np.isin(x, sentinels)
        if not keep.any():
            return None
        xs = x[keep]
        return _Weighted(xs, table.counts[keep], int(table.counts[keep].sum()), exact=True,
                         minimum=float(xs.min()), maximum=float(xs.max())), [table]
    over = col.summary.over
    if over is None or over.sketch is None or over.moments is None or over.low is None or over.high is None:
        return None
    specials = over.specials
    sx = specials.numbers()
    candidates = np.isfinite(sx) & np.isin(sx, SENTINEL_CANDIDATES)
    kept = candidates & ~np.isin(sx, sentinels)
    dropped = int(specials.counts[candidates & ~kept].sum())
    n = over.moments.n - dropped
    points = np.concatenate([over.sketch.values.astype(float), sx[kept]])
    weights = np.concatenate([over.sketch.weights, specials.counts[kept]])
    tails = [over.low, over.high]
    ends = [t.numbers() for t in tails]
    lows = ends[0][~np.isin(ends[0], sentinels)]
    highs = ends[1][~np.isin(ends[1], sentinels)]
    if n < 1 or lows.size == 0 or highs.size == 0:
        return None
    error = over.sketch.error / max(over.sketch.n, 1)
    return _Weighted(points, weights, n, exact=False, rank_error=error, minimum=float(lows.min()),
                     maximum=float(highs.max()), refined=getattr(col, "refined", None)), tails


def _smallest(w: _Weighted, tables: list[ValueTable], *, log: bool) -> tuple[float, float | None]:
    """The smallest magnitude and the smallest positive one, exact where the second pass or
    the tails know them."""
    if w.refined is not None and w.refined.min_abs is not None:
        return w.refined.min_abs, w.refined.min_positive_abs
    mag = np.abs(w.values)
    positive = mag[mag > 0]
    approx = (float(mag.min()), float(positive.min()) if positive.size else None)
    if log and tables:  # non-negative values: the low tail holds the smallest ones
        x = tables[0].numbers()
        x = np.sort(x[np.isfinite(x)])
        if x.size and x[0] >= 0:
            above = x[x > 0]
            return float(x[0]), (float(above[0]) if above.size else approx[1])
    w.all_exact = False
    return approx


# ---- the second pass: exact quantiles of the columns above the cap -----------------------------------------
@dataclass(frozen=True)
class Window:
    """Values of column ``position`` (finite, not in ``exclude``; their magnitudes when
    ``key == "abs"``) between ``low`` and ``high``: the rows below and those inside."""

    position: int
    key: str
    low: float
    high: float
    exclude: tuple[float, ...]
    log: bool = False  # for ``key == "mad"``: ``|y - center|`` with ``y = log(|x| + shift)`` or ``x``
    shift: float = 0.0
    center: float = 0.0


def _windows_for(w: _Weighted, probs: Sequence[float], key: str, position: int,
                 exclude: tuple[float, ...]) -> list[Window]:
    """Value windows holding, for sure, the order statistics numpy interpolates for ``probs``.

    With a rank error of ``e`` rows, the sketch's value at rank ``r - e - 1`` has fewer
    than ``r`` rows below it, and its value at rank ``r + 1 + e`` has at least
    ``r + 2`` rows at or below it.
    """
    error = int(np.ceil(w.rank_error * w.n)) + 1
    out = []
    for prob in probs:
        below = int(np.floor((w.n - 1) * prob))
        ranks = np.array([max(below - error - 1, 0), min(below + 1 + error, w.n - 1)], dtype=np.float64)
        low, high = order_stats(w.values, w.counts, ranks)
        low = -np.inf if below - error - 1 < 0 else float(low)
        high = np.inf if below + 1 + error > w.n - 1 else float(high)
        out.append(Window(position, key, low, high, exclude))
    return out


def _mad_window(spread: _Weighted, ranks: np.ndarray) -> tuple[float, float]:
    error = int(np.ceil(spread.rank_error * spread.n)) + 1
    lo_rank, hi_rank = int(ranks.min()) - error - 1, int(ranks.max()) + error
    low = -np.inf if lo_rank < 0 else float(order_stats(spread.values, spread.counts, np.array([lo_rank]))[0])
    high = np.inf if hi_rank > spread.n - 1 else float(
        order_stats(spread.values, spread.counts, np.array([hi_rank]))[0])
    return low, high


def plan_mad(data: SummaryData, k: float = 3.0, gross: float = 20.0) -> list[Window]:
    """The third pass's windows: the check run once on the exact quantiles, noting the MADs it
    could only read from a sketch."""
    requests: list[Window] = []
    data.mad_requests = requests
    try:
        list(outliers(data, method="mad", k=k, gross=gross))
    finally:
        data.mad_requests = None
    return requests


def plan_refinement(data: SummaryData) -> list[Window]:
    """The windows the second pass collects, for every column above the cap the ``outliers``
    check judges: around the seven quantiles of its values, the three of their magnitudes
    (signed columns), and the smallest magnitudes."""
    ids = set(data.id_cols)
    windows: list[Window] = []
    for col in data.columns:
        if not isinstance(col, SummaryColumn) or col.complete:
            continue
        if not col.is_numeric or col.n_unique < 10 or col.id_like or col.label in ids:
            continue
        found = _valid(col)
        if found is None or found[0].n < 20:
            continue
        w = found[0]
        exclude = tuple(float(v) for v in col.sentinels)
        windows += _windows_for(w, _PROBS, "x", col.position, exclude)
        if w.minimum < 0 < w.maximum:
            windows += _windows_for(w.magnitudes(), (0.25, 0.5, 0.75), "abs", col.position, exclude)
        windows.append(Window(col.position, "min", 0.0, 0.0, exclude))
    return windows


def refine_partition(part: Any, i: int, windows: Sequence[Window]) -> dict[tuple[int, str], list[Any]]:
    """One partition's share of every window (and of the smallest magnitudes)."""
    del i
    out: dict[tuple[int, str], list[Any]] = {}
    cache: dict[tuple[int, tuple[float, ...]], np.ndarray] = {}
    for win in windows:
        ck = (win.position, win.exclude)
        if ck not in cache:
            x = np.asarray(part.iloc[:, win.position].to_numpy(dtype=np.float64, na_value=np.nan))
            cache[ck] = x[np.isfinite(x) & ~np.isin(x, win.exclude)]
        x = cache[ck]
        if win.key == "min":
            mag = np.abs(x)
            positive = mag[mag > 0]
            out.setdefault((win.position, "min"), []).append(
                (float(mag.min()) if mag.size else None, float(positive.min()) if positive.size else None))
            continue
        if win.key == "mad":
            v = np.abs((np.log(np.abs(x) + win.shift) if win.log else x) - win.center)
        else:
            v = np.abs(x) if win.key == "abs" else x
        inside = np.sort(v[(v >= win.low) & (v <= win.high)])
        out.setdefault((win.position, win.key), []).append((int((v < win.low).sum()), inside))
    return out


def merge_refined(parts: Sequence[dict[tuple[int, str], list[Any]]]) -> dict[tuple[int, str], list[Any]]:
    """Partition shares of the windows added up (rows below) and pooled (values inside)."""
    out: dict[tuple[int, str], list[Any]] = {}
    for key in parts[0]:
        lists = [p[key] for p in parts]
        if key[1] == "min":
            def least(values: list[float | None]) -> float | None:
                present = [v for v in values if v is not None]
                return min(present) if present else None

            out[key] = [(least([x[j][0] for x in lists]), least([x[j][1] for x in lists]))
                        for j in range(len(lists[0]))]
        else:
            out[key] = [(sum(x[j][0] for x in lists), np.sort(np.concatenate([x[j][1] for x in lists])))
                        for j in range(len(lists[0]))]
    return out


def refined_columns(merged: dict[tuple[int, str], list[Any]], before: dict[int, Refined | None],
                    ) -> dict[int, Refined]:
    """A pass's result per column position, added to what earlier passes found (``before``)."""
    out: dict[int, Refined] = {}
    for position in {key[0] for key in merged}:
        old = before.get(position)
        windows = dict(old.windows) if old is not None else {}
        windows |= {kind: merged[(position, kind)] for kind in ("x", "abs", "mad") if (position, kind) in merged}
        smallest = merged.get((position, "min"), [(None, None)])[0]
        if old is not None and (position, "min") not in merged:
            smallest = (old.min_abs, old.min_positive_abs)
        out[position] = Refined(windows, smallest[0], smallest[1])
    return out


def _count(col: SummaryColumn, tables: list[ValueTable], weighted: _Weighted, judge: Any,
           sentinels: Sequence[float]) -> tuple[int, int, tuple[Any, ...], bool]:
    """Rows flagged and far out, the first flagged rows, and whether the counts are exact.

    Above the cap the rows are counted on the tails: exact unless the innermost
    value of a tail is itself flagged (more flagged values may lie beyond the
    tail); the count is then estimated from the sketch.
    """
    counted = 0
    far_out = 0
    exact = True
    firsts: list[Rows] = []
    seen = np.zeros(0, dtype=np.float64)
    for i, table in enumerate(tables):
        x = table.numbers()
        valid = np.isfinite(x) & ~np.isin(x, sentinels) & ~np.isin(x, seen)
        flagged, far = judge(np.where(valid, x, np.nan))
        flagged &= valid
        far &= valid
        if not col.complete and valid.any():
            inner = x[valid].max() if i == 0 else x[valid].min()  # tails: the smallest, then the largest values
            exact &= not bool(flagged[valid & (x == inner)].any())
        seen = np.concatenate([seen, x])
        counted += int(table.counts[flagged].sum())
        far_out += int(table.counts[far].sum())
        on = flagged[table.occ_code] if table.occ_code.size else np.zeros(0, dtype=bool)
        firsts.append(Rows(table.occ_key[on], table.occ_label[on]))
    rows = Rows.merge(firsts)
    if not exact:
        flagged_w, _ = judge(weighted.values)
        estimate = weighted.counts[flagged_w].sum() * weighted.n / weighted.counts.sum()
        counted = max(counted, round(float(estimate)))
    return counted, far_out, rows.first(), exact


def outliers(data: SummaryData, method: str = "iqr", k: float = 3.0, gross: float = 20.0) -> Iterator[Finding]:
    """:func:`mllife.audit._checks_outliers.outliers` on summaries (see the module docstring)."""
    if method not in ("iqr", "mad"):
        raise InputError(f"method={method!r}", expected='"iqr" or "mad"')
    ids = set(data.id_cols)
    for col in data.columns:
        if not isinstance(col, SummaryColumn):
            continue
        if not col.is_numeric or col.n_unique < 10 or col.id_like or col.label in ids:
            continue
        found = _valid(col)
        if found is None:
            continue
        weighted, tables = found
        if weighted.n < 20:
            continue
        finding = _judge_column(data, col, weighted, tables, method, k, gross)
        if finding is not None:
            yield finding


def _judge_column(data: SummaryData, col: SummaryColumn, w: _Weighted, tables: list[ValueTable], method: str,
                  k: float, gross: float) -> Finding | None:
    is_target = data.target is not None and col.label == data.target
    q01, q05, q25, q50, q75, q95, q99 = w.quantiles(_PROBS)
    raw_iqr = q75 - q25
    xmin = w.minimum
    log = bool(q05 >= 0 and xmin >= 0 and (q95 - q50) > 1.5 * (q50 - q05))
    signed = bool(not log and q01 < 0 < q99 and raw_iqr > 0 and (q99 - q01) > _HEAVY * raw_iqr)
    shift = 0.0
    if log or signed:
        mag = np.abs(w.values)
        positive = mag[mag > 0]
        smallest, smallest_positive = float(mag.min()), (float(positive.min()) if positive.size else None)
        if not w.exact:
            smallest, smallest_positive = _smallest(w, tables, log=log)
        shift = 0.0 if smallest > 0 else (smallest_positive if smallest_positive is not None else 1.0)
        y_points = np.log(mag + shift)
        if signed:
            magnitudes = w.magnitudes()
            virtual = (w.n - 1) * np.array([0.25, 0.5, 0.75])
            below = np.floor(virtual)
            a = np.log(magnitudes.order_stats(below) + shift)
            b = np.log(magnitudes.order_stats(np.minimum(below + 1, w.n - 1)) + shift)
            y25, y50, y75 = (np.quantile(np.array([x, y]), g) for x, y, g in zip(a, b, virtual - below, strict=True))
            w.all_exact &= magnitudes.all_exact
        else:
            y25, y50, y75 = np.log(np.array([q25, q50, q75]) + shift)
        log = True
    else:
        y_points = w.values
        y25, y50, y75 = q25, q50, q75
    z = _fence_z(w.n, k)
    if method == "iqr":
        spread = y75 - y25
        if not spread > 0:
            return None
        reach = (z - _Q75_Z) / _IQR_Z * spread
        lo, hi = y25 - reach, y75 + reach
    else:
        distances = np.abs(y_points - y50)
        mad = median(distances, w.counts)
        if not w.exact:  # above the cap: the third pass's window, else the sketch
            # |y - y50| <= t is an interval of y: of |x| too on a log scale, so up to four sketch edges
            spread = _Weighted(distances, w.counts, w.n, exact=False, rank_error=4 * w.rank_error, minimum=0.0,
                               maximum=0.0, refined=w.refined, key="mad")
            ranks = np.array([(w.n - 1) // 2] if w.n % 2 else [w.n // 2 - 1, w.n // 2], dtype=np.float64)
            if w.refined is not None and "mad" in w.refined.windows:
                mad = float(np.median(spread.order_stats(ranks)))
                w.all_exact &= spread.all_exact
            else:
                w.all_exact = False
                requests = data.mad_requests
                if requests is not None:
                    requests.append(Window(col.position, "mad", *_mad_window(spread, ranks),
                                           tuple(float(v) for v in col.sentinels), log, float(shift), float(y50)))
        if not mad > 0:
            return None
        lo, hi = y50 - z * mad / _MAD_Z, y50 + z * mad / _MAD_Z
    upper_only = signed or (log and shift > 0)

    def judge(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.log(np.abs(x) + shift) if log else x
            flagged = (y > hi) if upper_only else ((y < lo) | (y > hi))
            flagged = flagged & ~np.isnan(x)
            far = flagged & ((x > q75 + gross * raw_iqr) | (x < q25 - gross * raw_iqr)) if raw_iqr > 0 \
                else np.zeros(x.shape, dtype=bool)
        return flagged, far

    n, n_far, sample, exact_count = _count(col, tables, w, judge, col.sentinels)
    if n == 0:
        return None
    if signed:
        high = float(np.exp(hi) - shift)
        low = -high
    else:
        low, high = (float(np.exp(lo) - shift), float(np.exp(hi) - shift)) if log else (float(lo), float(hi))
    note = ""
    if not (w.all_exact and exact_count):
        note = (f" [column above the distinct-value cap: quantiles from a sketch within "
                f"{w.rank_error:.2%} in rank{'' if exact_count else '; count estimated from it'}]")
    return Finding(
        "outliers", "warning" if n_far else "info", column=col.label,
        message=f"{n} {'target values' if is_target else 'values'} lie outside [{low:.4g}, {high:.4g}] "
                f"({'log scale of |x|, ' if signed else 'log scale, ' if log else ''}{method.upper()} fences)"
                + (f"; {n_far} of them more than {gross:g} IQRs out" if n_far else "") + note,
        n_rows=n, share=n / data.n_rows, threshold=float(k), sample_index=sample,
        suggestion="check them at the source (unit errors, typos); "
                   + ("drop wrong labels; if they are real, use a robust loss (Huber, absolute "
                      "error) or model a transformed target" if is_target
                      else "clip or use a robust model if they are real"),
        details={"method": method, "log_scale": log, "signed_log_scale": signed, "low": low,
                 "high": high, "n_gross": n_far, "min": w.minimum,
                 "max": w.maximum, "target": is_target,
                 **({} if w.all_exact and exact_count else {"approximate": True, "rank_error": w.rank_error,
                                                             "count_exact": exact_count})},
    )
