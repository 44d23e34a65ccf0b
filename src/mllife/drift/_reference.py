"""The reference side of a comparison: one column's summary and the access the engine needs.

:class:`ReferenceProfile` is what the comparison engine (:mod:`._compare`)
reads from a reference: its columns, one :class:`ColumnProfile` per column,
the row count and the histogram bins. :class:`~mllife.drift.DriftProfile`
(a fitted, serializable profile) and ``drift_report``'s exact reference (the
frame itself, profiled one column at a time) both extend it. It sits below
both, so the engine never imports the public profile that calls it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .._columns import ColumnKind, column_kind
from .._errors import InputError
from . import _kernels as k
from ._sketch import CategoricalSummary, NumericSummary

__all__ = ["ColumnProfile", "ReferenceProfile", "family_of", "profile_column", "require_rows"]


def family_of(series: pd.Series) -> str:
    """``"datetime"``, ``"numeric"`` or ``"categorical"`` (booleans and text are categorical)."""
    dtype = series.dtype
    if (isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype)
            or pd.api.types.is_timedelta64_dtype(dtype)):
        return "datetime"
    return "numeric" if k.is_numeric_like(series) else "categorical"


@dataclass(frozen=True)
class ColumnProfile:
    """The reference summary of one column.

    ``column_kind`` is the column's kind (:mod:`mllife._columns`) decided on
    the reference *rows* when the profile was fitted, so a comparison against
    the profile skips an identifier exactly as ``drift_report`` does (a
    counter is only recognisable in row order, which the summary loses).
    ``None`` (a profile saved before it was kept, or a merge that cannot
    vouch for it) means: judge from the summary.
    """

    name: Hashable
    family: str
    dtype: str
    numeric: NumericSummary | None = None
    categorical: CategoricalSummary | None = None
    column_kind: ColumnKind | None = None

    @property
    def kind(self) -> str:
        """The statistic kind: ``numeric`` (numbers and datetimes) or ``categorical``."""
        return "categorical" if self.family == "categorical" else "numeric"

    @property
    def summary(self) -> NumericSummary | CategoricalSummary:
        out = self.numeric if self.numeric is not None else self.categorical
        assert out is not None
        return out

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "family": self.family, "dtype": self.dtype,
               "summary": self.summary.to_dict()}
        if self.column_kind is not None:
            out["column_kind"] = {"kind": self.column_kind.kind, "reason": self.column_kind.reason}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        family = str(data["family"])
        saved = data.get("column_kind")  # absent from profiles saved before it was kept
        kind = None if saved is None else ColumnKind(data["name"], str(saved["kind"]), str(saved["reason"]))
        if family == "categorical":
            return cls(data["name"], family, str(data["dtype"]),
                       categorical=CategoricalSummary.from_dict(data["summary"]), column_kind=kind)
        return cls(data["name"], family, str(data["dtype"]), numeric=NumericSummary.from_dict(data["summary"]),
                   column_kind=kind)


def profile_column(name: Hashable, series: pd.Series, *, exact_size: int, sketch_size: int,
                   n_bins: int, with_kind: bool = True) -> ColumnProfile:
    """The :class:`ColumnProfile` of one column, with its kind decided on the rows.

    ``with_kind=False`` leaves the kind out (``None``: judged from the summary
    when the profile is a reference): for the current side of a comparison,
    whose kind no comparison reads, it saves the detector's pass over the rows.
    """
    family = family_of(series)
    kind = column_kind(series, name=name) if with_kind else None
    if family == "categorical":
        return ColumnProfile(name, family, str(series.dtype), categorical=CategoricalSummary.fit(series),
                             column_kind=kind)
    counts = k.split_numeric(series, name=f"column {name!r}")  # refuses what is not numbers first
    summary = NumericSummary.fit(counts, exact_size=exact_size, sketch_size=sketch_size, n_bins=n_bins)
    return ColumnProfile(name, family, str(series.dtype), numeric=summary, column_kind=kind)


def require_rows(frame: pd.DataFrame, name: str) -> None:
    """Refuse a frame without rows: no data is no evidence of drift, nor of its absence."""
    if len(frame) == 0:
        raise InputError(f"{name} has no rows; nothing can be compared", n_rows=0,
                         expected="at least one row")


class ReferenceProfile:
    """Column summaries of reference data, by name: what a comparison reads.

    Parameters
    ----------
    columns : sequence of ColumnProfile
    n_rows : int
        Rows of the reference data.
    exact_size, sketch_size, n_bins : int
        The sizes the column summaries were built with (see
        :meth:`mllife.drift.DriftProfile.fit`).
    """

    def __init__(self, columns: Sequence[ColumnProfile], *, n_rows: int, exact_size: int = 10_000,
                 sketch_size: int = 4096, n_bins: int = 10) -> None:
        self._columns = {c.name: c for c in columns}
        self.n_rows = int(n_rows)
        self.exact_size = int(exact_size)
        self.sketch_size = int(sketch_size)
        self.n_bins = int(n_bins)

    @property
    def columns(self) -> list[Hashable]:
        """The profiled columns, in order."""
        return list(self._columns)

    def __getitem__(self, name: Hashable) -> ColumnProfile:
        try:
            return self._columns[name]
        except KeyError:
            raise InputError(f"column {name!r} is not in the profile",
                             expected=f"one of the {len(self._columns)} profiled columns") from None

    def __contains__(self, name: object) -> bool:
        return name in self._columns
