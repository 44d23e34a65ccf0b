"""An :class:`~._data.AuditData` built from merged Dask summaries, so the built-in checks run unchanged.

A :class:`SummaryColumn` answers what a :class:`~._data.ColumnInfo` answers
(distinct values in order of first appearance, row counts, missing count,
null tokens, sentinels, kind) from a merged
:class:`~._dask_summary.ColumnSummary`. Where a check asks for rows, it gets a
:class:`RowSet`: the rows holding some of the column's distinct values (and/or
its missing cells), which knows how many they are and the labels of the
first ones, but holds no rows. ``rows_where``, ``missing``, ``codes == i`` and
``codes != i`` return one; ``mask.sum()`` and ``data.sample_index(mask)``
read it. Row-level statistics across columns (copies, label conflicts) come
from the shuffled row hashes (:mod:`._dask_rows`).

A column above the value cap (:class:`~._dask_summary.Overcap`) shows as its
*known* values: null tokens, sentinel candidates, infinities and the most
frequent values, with exact counts for all but the last (lower bounds).
Its ``n_unique`` is estimated from the distinct-value sample; its null-token
levels and sentinels are judged with the sample and the quantile sketch.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._columns import ColumnKind
from .._errors import MllifeError
from .._nulls import SENTINEL_CANDIDATES, find_sentinels, null_like_mask, token_levels
from ._dask_rows import RowStats
from ._dask_sketch import median, order_stats
from ._dask_summary import ColumnSummary
from ._dask_values import ValueTable
from ._data import SAMPLE_SIZE, AuditData, ColumnInfo, LabelConflicts, RowMatch

__all__ = ["Codes", "NeedsRows", "RowSet", "SummaryColumn", "SummaryData", "summary_numbers"]


class NeedsRows(MllifeError):
    """A check asked the summaries for something only the rows can tell (the audit then runs it
    on the sample)."""


class RowSet:
    """Rows of one column holding some of its distinct values (``values``) and/or missing."""

    def __init__(self, column: SummaryColumn, values: np.ndarray, missing: bool = False) -> None:
        self.column = column
        self.values = np.asarray(values, dtype=bool)
        self.missing = bool(missing)

    def __repr__(self) -> str:
        return f"<RowSet {self.column.label!r}: {self.sum()} rows>"

    def sum(self) -> int:
        """How many rows."""
        n = int(self.column.counts[self.values].sum())
        return n + (self.column.n_missing if self.missing else 0)

    def any(self) -> bool:
        return self.sum() > 0

    def first(self, size: int = SAMPLE_SIZE) -> tuple[Any, ...]:
        """Labels of the first ``size`` rows (in the table's order)."""
        extra = self.column.summary.missing if self.missing else None
        return self.column.table.first_rows(self.values, extra, size)

    def _other(self, other: object) -> RowSet:
        if not isinstance(other, RowSet) or other.column is not self.column:
            raise NeedsRows("rows of two columns cannot be combined from the summaries")
        return other

    def __invert__(self) -> RowSet:
        return RowSet(self.column, ~self.values, not self.missing)

    def __and__(self, other: object) -> RowSet:
        o = self._other(other)
        return RowSet(self.column, self.values & o.values, self.missing and o.missing)

    def __or__(self, other: object) -> RowSet:
        o = self._other(other)
        return RowSet(self.column, self.values | o.values, self.missing or o.missing)


class Codes:
    """Stands for a column's per-row codes: ``codes == i`` and ``codes != i`` are :class:`RowSet` s."""

    def __init__(self, column: SummaryColumn) -> None:
        self.column = column

    def _value(self, code: object) -> np.ndarray:
        if isinstance(code, bool) or not isinstance(code, int | np.integer):
            raise NeedsRows("codes compare with one code from the summaries")
        values = np.zeros(len(self.column.uniques), dtype=bool)
        if 0 <= int(code) < values.size:
            values[int(code)] = True
        return values

    def __eq__(self, code: object) -> RowSet:  # type: ignore[override]  # rows, like numpy
        return RowSet(self.column, self._value(code), int(code) < 0 if isinstance(code, int | np.integer) else False)

    def __ne__(self, code: object) -> RowSet:  # type: ignore[override]  # rows, like numpy
        return ~(self == code)

    __hash__ = None  # type: ignore[assignment]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise NeedsRows(f"row codes ({name}) are not kept by the Dask summaries")


class SummaryColumn(ColumnInfo):
    """A :class:`~._data.ColumnInfo` answered from a merged column summary."""

    def __init__(self, label: Hashable, position: int, summary: ColumnSummary, *, dtype: Any,
                 kind: ColumnKind, role: str | None, n_unique: int | None = None) -> None:
        head = summary.head
        series = (head.rename(label) if head is not None and pd.api.types.is_object_dtype(dtype)
                  else pd.Series([], dtype=dtype, name=label))
        super().__init__(label, position, series, role=role)
        self.summary = summary
        self.dtype = dtype
        over = summary.over
        table = summary.table if summary.table is not None else _known(over)
        self.table: ValueTable = table
        self.complete = summary.table is not None
        self.refined: Any = None  # exact order statistics from the second pass (outliers, above the cap)
        self._n_unique = len(table) if n_unique is None else int(n_unique)
        cache = self.__dict__  # the base class's cached statistics, filled from the summary
        cache["_factorized"] = (Codes(self), table.uniques, summary.unhashable)
        cache["counts"] = table.counts
        cache["n_missing"] = summary.n_missing
        cache["missing"] = RowSet(self, np.zeros(len(table), dtype=bool), True)
        cache["column_kind"] = kind
        if not self.complete and over is not None:
            cache["token_levels"] = self._overcap_token_levels()
            if summary.family == "numeric":
                cache["sentinels"] = self._overcap_sentinels()

    @property
    def n_present(self) -> int:
        return self.summary.n - self.summary.n_missing

    @property
    def n_unique(self) -> int:
        return self._n_unique

    # ---- above the cap: judged with the distinct-value sample and the sketch ----------
    def _overcap_token_levels(self) -> np.ndarray:
        hit = self.null_tokens
        if not hit.any():
            return hit
        over = self.summary.over
        assert over is not None
        sample = over.distinct.uniques
        others = ~null_like_mask(sample) if len(sample) else np.zeros(0, dtype=bool)
        values = pd.concat([self.uniques[hit], sample[others]], ignore_index=True)
        counts = np.concatenate([self.counts[hit], over.distinct.counts[others]])
        levels = token_levels(values, counts, np.r_[np.ones(int(hit.sum()), dtype=bool),
                                                    np.zeros(int(others.sum()), dtype=bool)])
        out = np.zeros(len(self.uniques), dtype=bool)
        out[np.flatnonzero(hit)] = levels[:int(hit.sum())]
        return out

    def _overcap_sentinels(self) -> list[float]:
        over = self.summary.over
        assert over is not None
        assert over.sketch is not None
        values = self.uniques.to_numpy(dtype=float, na_value=np.nan)
        special = np.isin(values, SENTINEL_CANDIDATES) | np.isinf(values)
        points = np.concatenate([values[special], over.sketch.values.astype(float)])
        counts = np.concatenate([self.counts[special], over.sketch.weights])
        return find_sentinels(points, counts)


def _known(over: Any) -> ValueTable:
    """An over-cap column's known values: specials, then the most frequent ones not among
    them, in order of first appearance."""
    specials, top = over.specials, over.top
    if len(specials) and len(top):
        from .._nulls import factorize

        codes, _, _ = factorize(pd.concat([specials.uniques, top.uniques], ignore_index=True))
        top = top.select(~np.isin(codes[len(specials):], codes[:len(specials)]))
    table = ValueTable.merge([specials, top])
    return table.select(np.ones(len(table), dtype=bool), order=np.argsort(table.first, kind="stable"))


class SummaryData(AuditData):
    """:class:`~._data.AuditData` of a Dask frame, answered from merged summaries."""

    def __init__(self, frame: pd.DataFrame, n_rows: int, columns: Sequence[ColumnInfo], *,
                 target: Hashable | None = None, time_col: Hashable | None = None,
                 id_cols: Sequence[Hashable] = (), rows: RowStats | None = None,
                 row_keys: Mapping[str, tuple[int, ...]] | None = None) -> None:
        self.frame = frame  # the columns, no rows
        self.target = target
        self.time_col = time_col
        self.id_cols = tuple(id_cols)
        self.n_rows = int(n_rows)
        self.columns = list(columns)
        self._hashes = {}
        self._rows = rows
        self._row_keys = dict(row_keys or {})
        self.mad_requests: list[Any] | None = None  # set while planning the outliers check's third pass

    def restricted(self, keep: Sequence[ColumnInfo]) -> SummaryData:
        """The same data showing only ``keep``."""
        out = SummaryData(self.frame, self.n_rows, keep, target=self.target, time_col=self.time_col,
                          id_cols=self.id_cols, rows=self._rows, row_keys=self._row_keys)
        return out

    def sample_index(self, mask: Any, size: int = SAMPLE_SIZE) -> tuple[Any, ...]:
        if isinstance(mask, RowSet):
            return mask.first(size)
        raise NeedsRows("row positions are not kept by the Dask summaries")

    def rows_where(self, info: ColumnInfo, value_mask: np.ndarray) -> RowSet:  # type: ignore[override]
        if not isinstance(info, SummaryColumn):
            raise NeedsRows("rows_where needs a column of the summaries")
        return RowSet(info, value_mask)

    def row_hash(self, columns: Sequence[ColumnInfo]) -> np.ndarray:
        raise NeedsRows("row hashes are shuffled, not kept, by the Dask summaries")

    def _stats(self, which: str, columns: Sequence[ColumnInfo]) -> RowStats:
        wanted = tuple(c.position for c in columns)
        if self._rows is None or self._row_keys.get(which) != wanted:
            raise NeedsRows(f"row statistics over columns {wanted} were not computed")
        return self._rows

    def later_copies(self, columns: Sequence[ColumnInfo], *,
                     unless_copies_in: Sequence[ColumnInfo] | None = None) -> RowMatch:
        if unless_copies_in is None:
            stats = self._stats("all", columns)
            return RowMatch(stats.copies, stats.copies_rows.first())
        stats = self._stats("rest", columns)
        self._stats("all", unless_copies_in)
        return RowMatch(stats.copies_rest, stats.copies_rest_rows.first())

    def label_conflicts(self, features: Sequence[ColumnInfo], target: ColumnInfo) -> LabelConflicts:
        stats = self._stats("features", features)
        if target.label != self.target:
            raise NeedsRows("label conflicts were counted for the declared target only")
        repeated = stats.repeated / self.n_rows if self.n_rows else 0.0
        return LabelConflicts(stats.conflict_groups, stats.conflict_rows, repeated, stats.conflict_first.first())


def _middle(n: int) -> np.ndarray:
    return np.asarray([(n - 1) // 2] if n % 2 else [n // 2 - 1, n // 2], dtype=np.float64)


def _datetime_text(value: int, dtype: Any) -> str:
    """An int64 of a datetime column (its unit) as the column's timestamp text."""
    tz = getattr(dtype, "tz", None)
    unit = getattr(dtype, "unit", None) or np.datetime_data(dtype)[0]
    stamp = pd.Timestamp(int(value), unit=unit)
    return str(stamp.tz_localize("UTC").tz_convert(tz) if tz is not None else stamp)


def summary_numbers(col: ColumnInfo) -> dict[str, Any]:
    """``profile``'s min, median, max, mean and std of a :class:`SummaryColumn`.

    Exact (mean and std to float rounding) for a column within the value cap;
    above it, min and max are exact, mean and std merged exactly (Chan et al.),
    and the median is read from the quantile sketch (within its rank error).
    """
    empty = dict.fromkeys(("min", "median", "max", "mean", "std"), np.nan)
    if not isinstance(col, SummaryColumn) or col.n_present == 0 or not (col.is_numeric or col.is_datetime):
        return empty
    over = col.summary.over
    if col.is_datetime:
        if col.complete:
            values = col.table.uniques
            asi8 = np.asarray(values.array.asi8, dtype=np.int64)
            order = np.argsort(asi8, kind="stable")
            cum = np.cumsum(col.table.counts[order])
            picks = order[np.searchsorted(cum, _middle(int(cum[-1])), side="right")]
            mid = pd.Series(values.iloc[picks].to_numpy(), dtype=values.dtype).median()
            return {**empty, "min": str(values.iloc[order[0]]), "median": str(mid),
                    "max": str(values.iloc[order[-1]])}
        assert over is not None
        sketch = over.sketch
        if sketch is None or over.minimum is None:
            return empty
        mid_i8 = int(np.mean(sketch.order_stat(_middle(sketch.n))))
        return {**empty, "min": _datetime_text(over.minimum, col.dtype), "median": _datetime_text(mid_i8, col.dtype),
                "max": _datetime_text(over.maximum, col.dtype)}
    if col.complete:
        x = col.table.numbers()
        finite = np.isfinite(x)
        if not finite.any():
            return empty
        xs, cs = x[finite], col.table.counts[finite]
        n = int(cs.sum())
        mean = float(np.dot(xs, cs) / n)
        std = float(np.sqrt(np.dot(cs, (xs - mean) ** 2) / (n - 1))) if n > 1 else np.nan
        return {"min": float(xs.min()), "median": median(xs, cs), "max": float(xs.max()), "mean": mean, "std": std}
    assert over is not None
    moments, sketch = over.moments, over.sketch
    if moments is None or sketch is None or moments.n == 0:
        return empty
    # the sketch holds the finite values but the sentinel candidates, which the tables hold exactly
    values = col.table.numbers()
    special = np.isfinite(values) & np.isin(values, SENTINEL_CANDIDATES)
    points = np.concatenate([sketch.values.astype(float), values[special]])
    weights = np.concatenate([sketch.weights, col.counts[special]])
    order = np.argsort(points, kind="stable")
    mid = float(np.median(order_stats(points[order], weights[order], _middle(int(weights.sum())))))
    std = float(np.sqrt(moments.m2 / (moments.n - 1))) if moments.n > 1 else np.nan
    return {"min": float(over.minimum), "median": mid, "max": float(over.maximum), "mean": moments.mean,
            "std": std}
