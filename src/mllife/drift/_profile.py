"""``DriftProfile``: what drift statistics need from the reference data, and nothing more."""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import as_frame, require_columns
from . import _kernels as k
from ._sketch import CategoricalSummary, NumericSummary

if TYPE_CHECKING:
    from ._report import DriftReport

FORMAT_VERSION = 1


def family_of(series: pd.Series) -> str:
    """``"datetime"``, ``"numeric"`` or ``"categorical"`` (booleans and text are categorical)."""
    dtype = series.dtype
    if (isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype)
            or pd.api.types.is_timedelta64_dtype(dtype)):
        return "datetime"
    return "numeric" if k.is_numeric_like(series) else "categorical"


@dataclass(frozen=True)
class ColumnProfile:
    """The reference summary of one column."""

    name: Hashable
    family: str
    dtype: str
    numeric: NumericSummary | None = None
    categorical: CategoricalSummary | None = None

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
        return {"name": self.name, "family": self.family, "dtype": self.dtype,
                "summary": self.summary.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnProfile:
        family = str(data["family"])
        if family == "categorical":
            return cls(data["name"], family, str(data["dtype"]),
                       categorical=CategoricalSummary.from_dict(data["summary"]))
        return cls(data["name"], family, str(data["dtype"]), numeric=NumericSummary.from_dict(data["summary"]))


class DriftProfile:
    """A compact, JSON-serializable, mergeable summary of reference data.

    Per column it keeps what the drift statistics need: for numbers (and
    datetimes, as seconds) the sorted finite values exactly up to
    ``exact_size`` values, above that a quantile sketch of ``sketch_size``
    points whose CDF is within ``1 / (2 * sketch_size)`` of the data's (each
    :meth:`merge` adds at most ``1 / sketch_size``; see ``rank_error`` in
    :meth:`to_dict`), the mean and variance, a histogram on ``n_bins``
    reference-quantile bins and the NaN, +inf and -inf counts; for
    categories, the count of every category and of missing values. Compare
    current data against it with :meth:`compare`: the reference data need
    not be kept.

    Build it with :meth:`fit`; the constructor is for :meth:`from_dict`.

    Examples
    --------
    >>> from mllife.datasets import make_churn
    >>> from mllife.drift import DriftProfile
    >>> frame = make_churn(2000, random_state=0, defects=False).frame.drop(columns="churned")
    >>> reference = frame.iloc[:1000]
    >>> profile = DriftProfile.fit(reference)
    >>> profile
    <DriftProfile: 14 columns, 1000 rows>
    >>> DriftProfile.from_json(profile.to_json()).compare(frame.iloc[1000:]).n_drifted
    0
    """

    def __init__(self, columns: Sequence[ColumnProfile], *, n_rows: int, exact_size: int = 10_000,
                 sketch_size: int = 4096, n_bins: int = 10) -> None:
        self._columns = {c.name: c for c in columns}
        self.n_rows = int(n_rows)
        self.exact_size = int(exact_size)
        self.sketch_size = int(sketch_size)
        self.n_bins = int(n_bins)

    # ---- construction ----------------------------------------------------------
    @classmethod
    def fit(
        cls,
        reference: Any,
        *,
        columns: Sequence[Hashable] | None = None,
        exact_size: int = 10_000,
        sketch_size: int = 4096,
        n_bins: int = 10,
    ) -> DriftProfile:
        """Summarise ``reference`` column by column.

        Parameters
        ----------
        reference : DataFrame or 2-D array
        columns : sequence, optional
            Columns to keep (default: all).
        exact_size : int, default=10_000
            Keep numeric values exactly up to this many finite values per
            column (KS p-values are then exact as in scipy).
        sketch_size : int, default=4096
            Points of the quantile sketch above ``exact_size``.
        n_bins : int, default=10
            Reference-quantile bins of the histograms (PSI, JS, Hellinger).

        Returns
        -------
        DriftProfile

        Raises
        ------
        InputError
            For a column not in ``reference``, duplicate column names or bad
            sizes.
        """
        frame = as_frame(reference, name="reference")
        require_rows(frame, "reference")
        _check_sizes(exact_size, sketch_size, n_bins)
        names = list(frame.columns) if columns is None else list(columns)
        require_columns(frame, names)
        if frame.columns.duplicated().any():
            dups = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
            raise InputError(f"duplicate column names {', '.join(dups)}", expected="unique column names")
        profiles = [profile_column(name, frame[name], exact_size=exact_size, sketch_size=sketch_size,
                                   n_bins=n_bins) for name in names]
        return cls(profiles, n_rows=len(frame), exact_size=exact_size, sketch_size=sketch_size, n_bins=n_bins)

    # ---- accessors -------------------------------------------------------------
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

    def __repr__(self) -> str:
        return f"<DriftProfile: {len(self._columns)} columns, {self.n_rows} rows>"

    # ---- merge -------------------------------------------------------------------
    def merge(self, other: DriftProfile) -> DriftProfile:
        """The profile of both reference sets together.

        ``fit(a).merge(fit(b))`` compares like ``fit(concat([a, b]))``: exact
        where both fit within ``exact_size``, else within the sketch's rank
        error (at most ``1/(2K)`` after fitting plus ``1/K`` per merge, for
        ``K = sketch_size``). Columns present in only one profile are kept.

        Raises
        ------
        InputError
            When a column has numbers in one profile and categories in the other.

        Examples
        --------
        >>> import pandas as pd
        >>> a = DriftProfile.fit(pd.DataFrame({"x": [1.0, 2.0]}))
        >>> b = DriftProfile.fit(pd.DataFrame({"x": [3.0, None]}))
        >>> a.merge(b)
        <DriftProfile: 1 columns, 4 rows>
        """
        if not isinstance(other, DriftProfile):
            raise InputError(f"cannot merge a DriftProfile with {type(other).__name__}", expected="a DriftProfile")
        merged: list[ColumnProfile] = []
        for name in [*self._columns, *(c for c in other._columns if c not in self._columns)]:
            a, b = self._columns.get(name), other._columns.get(name)
            if a is None or b is None:
                merged.append(a if a is not None else b)  # type: ignore[arg-type]
                continue
            merged.append(self._merge_column(a, b))
        return DriftProfile(merged, n_rows=self.n_rows + other.n_rows, exact_size=self.exact_size,
                            sketch_size=self.sketch_size, n_bins=self.n_bins)

    def _merge_column(self, a: ColumnProfile, b: ColumnProfile) -> ColumnProfile:
        if a.kind != b.kind:
            if a.summary.n == 0:
                a = _empty_like(b, a)
            elif b.summary.n == 0:
                b = _empty_like(a, b)
            else:
                raise InputError(f"holds {a.family} values in one profile and {b.family} in the other",
                                 column=a.name, expected="the same kind of values in both profiles")
        if a.numeric is not None and b.numeric is not None:
            summary = a.numeric.merge(b.numeric, exact_size=self.exact_size, sketch_size=self.sketch_size,
                                      n_bins=self.n_bins)
            return ColumnProfile(a.name, a.family, a.dtype, numeric=summary)
        assert a.categorical is not None
        assert b.categorical is not None
        return ColumnProfile(a.name, a.family, a.dtype, categorical=a.categorical.merge(b.categorical))

    # ---- compare ---------------------------------------------------------------
    def compare(self, current: Any, **kwargs: Any) -> DriftReport:
        """Compare ``current`` data with this reference profile.

        Takes the keyword arguments of :func:`mllife.drift.drift_report`
        (``columns``, ``method``, ``threshold``, ``alpha``, ``correction``,
        ``large_sample``, ``drift_share``, ``max_plots``, ``random_state``,
        which seeds the permutation tests) except ``multivariate``, which
        needs the reference rows. On a sketched column the permutation tests
        count each sketch point as its weight rounded to whole rows.

        Returns
        -------
        DriftReport

        Examples
        --------
        >>> import pandas as pd
        >>> profile = DriftProfile.fit(pd.DataFrame({"x": range(100)}))
        >>> profile.compare(pd.DataFrame({"x": range(50, 150)})).drifted_columns
        ['x']
        """
        from ._compare import compare_profile

        return compare_profile(self, current, **kwargs)

    # ---- serialization -----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The profile as JSON-safe data (see :meth:`from_dict`)."""
        return {
            "format": "mllife.DriftProfile", "version": FORMAT_VERSION, "n_rows": self.n_rows,
            "exact_size": self.exact_size, "sketch_size": self.sketch_size, "n_bins": self.n_bins,
            "columns": [c.to_dict() for c in self._columns.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftProfile:
        """Rebuild a profile written by :meth:`to_dict`.

        Raises
        ------
        InputError
            When ``data`` is not a DriftProfile dict of a known version.
        """
        if not isinstance(data, Mapping) or data.get("format") != "mllife.DriftProfile":
            raise InputError("the data is not a DriftProfile", expected="the output of DriftProfile.to_dict()")
        if data.get("version") != FORMAT_VERSION:
            raise InputError(f"DriftProfile format version {data.get('version')!r} is not supported",
                             expected=f"version {FORMAT_VERSION}")
        try:
            columns = [ColumnProfile.from_dict(c) for c in data["columns"]]
            return cls(columns, n_rows=int(data["n_rows"]), exact_size=int(data["exact_size"]),
                       sketch_size=int(data["sketch_size"]), n_bins=int(data["n_bins"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"the DriftProfile data is incomplete or malformed ({exc})",
                             expected="the output of DriftProfile.to_dict()") from exc

    def to_json(self) -> str:
        """:meth:`to_dict` as compact JSON."""
        return json.dumps(self.to_dict(), allow_nan=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> DriftProfile:
        """Rebuild a profile written by :meth:`to_json`."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(f"the text is not JSON ({exc})", expected="the output of DriftProfile.to_json()") from exc
        return cls.from_dict(data)


def require_rows(frame: pd.DataFrame, name: str) -> None:
    """Refuse a frame without rows: no data is no evidence of drift, nor of its absence."""
    if len(frame) == 0:
        raise InputError(f"{name} has no rows; nothing can be compared", n_rows=0,
                         expected="at least one row")


def _check_sizes(exact_size: int, sketch_size: int, n_bins: int) -> None:
    for name, value, low in (("exact_size", exact_size, 0), ("sketch_size", sketch_size, 16), ("n_bins", n_bins, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InputError(f"{name}={value!r} is not usable", expected=f"an integer >= {low}")


def profile_column(name: Hashable, series: pd.Series, *, exact_size: int, sketch_size: int,
                   n_bins: int) -> ColumnProfile:
    """The :class:`ColumnProfile` of one column."""
    family = family_of(series)
    if family == "categorical":
        return ColumnProfile(name, family, str(series.dtype), categorical=CategoricalSummary.fit(series))
    counts = k.split_numeric(series, name=f"column {name!r}")
    summary = NumericSummary.fit(counts, exact_size=exact_size, sketch_size=sketch_size, n_bins=n_bins)
    return ColumnProfile(name, family, str(series.dtype), numeric=summary)


def _empty_like(template: ColumnProfile, empty: ColumnProfile) -> ColumnProfile:
    """An empty column re-expressed in the kind of ``template`` (its missing count kept)."""
    missing = empty.summary.n_rows
    if template.categorical is not None:
        return ColumnProfile(template.name, template.family, template.dtype,
                             categorical=CategoricalSummary((), np.zeros(0), missing))
    counts = k.NumericCounts(np.zeros(0), missing, 0, 0)
    summary = NumericSummary.fit(counts, exact_size=0, sketch_size=16, n_bins=2)
    return ColumnProfile(template.name, template.family, template.dtype, numeric=summary)
