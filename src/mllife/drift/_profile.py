"""``DriftProfile``: what drift statistics need from the reference data, and nothing more."""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .. import _dask
from .._columns import ColumnKind, unique_per_row
from .._errors import InputError
from .._frame import as_frame, require_columns
from . import _auto
from . import _kernels as k
from ._compare import compare_profile
from ._reference import ColumnProfile, ReferenceProfile, profile_column, require_rows
from ._report import DriftReport
from ._sketch import CategoricalSummary, NumericSummary, merge_numeric

FORMAT_VERSION = 1


class DriftProfile(ReferenceProfile):
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

    Build it with :meth:`fit` (from a pandas frame, or from a Dask frame or
    a Parquet dataset, profiled partition by partition and merged: see
    :meth:`fit`); the constructor is for :meth:`from_dict`.

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

        **Dask frames / Parquet paths.** ``reference`` may be a
        ``dask.dataframe.DataFrame`` or the path of a Parquet dataset (a
        file, a glob such as ``"logs/2026-11-*.parquet"``, or a folder):
        each partition is profiled where it lives and the profiles are merged
        in a tree (the extra ``pip install "mllife[dask]"``; a running
        ``distributed.Client`` runs the work, else Dask's local scheduler;
        :func:`mllife.scale.progress` shows a progress bar). The result equals
        ``fit(ddf.compute())``: exactly for the row, missing and inf counts,
        category tables, exact values and their mean, variance and histogram
        (a column of at most ``exact_size`` finite values), and for each
        column's kind; a column with more values is a quantile sketch within
        its ``rank_error`` (``1 / (2 * sketch_size)`` plus ``1 / sketch_size``
        per level of the merge tree, 8 partitions per merge), its mean and
        variance equal up to float rounding. The partition lengths are read
        first (Parquet metadata, or counted), then all columns in one pass;
        a column whose kind needs the distinct count of more numbers than the
        profile keeps (unique ids over more than ``exact_size`` values,
        not in row order) gets it from Dask in one more pass. Kinds of object
        columns holding Python objects other than strings are decided on the
        kind detector's sample of 20,000 rows when the column has more rows,
        and say so. Partitions must give the same rows each time they are
        computed.

        Parameters
        ----------
        reference : DataFrame, 2-D array, Dask DataFrame, or str or path of a Parquet dataset
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
            For a column not in ``reference``, duplicate column names, bad
            sizes, no rows, or a Parquet path that cannot be read.
        MissingDependencyError
            For a Dask frame or Parquet path without Dask installed.

        Examples
        --------
        >>> import pandas as pd
        >>> import dask.dataframe as dd
        >>> frame = pd.DataFrame({"x": [1.0, 2.0, None, 4.0], "c": ["a", "b", "a", None]})
        >>> ddf = dd.from_pandas(frame, npartitions=2)
        >>> DriftProfile.fit(ddf).to_dict() == DriftProfile.fit(ddf.compute()).to_dict()
        True
        """
        return fit_profile(reference, columns=columns, exact_size=exact_size, sketch_size=sketch_size,
                           n_bins=n_bins)

    # ---- accessors -------------------------------------------------------------
    def __repr__(self) -> str:
        return f"<DriftProfile: {len(self._columns)} columns, {self.n_rows} rows>"

    # ---- merge -------------------------------------------------------------------
    def merge(self, other: DriftProfile) -> DriftProfile:
        """The profile of both reference sets together.

        ``fit(a).merge(fit(b))`` compares like ``fit(concat([a, b]))``: exact
        where both fit within ``exact_size``, else within the sketch's rank
        error (at most ``1/(2K)`` after fitting plus ``1/K`` per merge, for
        ``K = sketch_size``). Columns present in only one profile are kept.

        The merge is exactly commutative and associative wherever its result
        is exact (row, missing and inf counts, category tables, exact values,
        their mean, variance and histogram): profiles of the parts of a frame
        merged in any order and any grouping have the same :meth:`to_dict`.
        A sketched column depends on the order only within its rank error.
        Profiles fitted with different sizes merge at the smaller of each
        (``exact_size``, ``sketch_size``, ``n_bins``); columns keep the order
        of ``self``, then the new ones of ``other``.

        Each column's kind (what :meth:`compare` uses to skip identifiers) is
        kept when both profiles call the column an identifier and the merged
        values are still unique per row (checked on category counts and exact
        numbers; a sketched column is trusted): new ids, or a counter that went
        on. Otherwise the merged column is judged from its merged summary, as a
        profile without kinds is (customer ids seen in both sets repeat: not
        an identifier any more).

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
        sizes = {"exact_size": min(self.exact_size, other.exact_size),
                 "sketch_size": min(self.sketch_size, other.sketch_size), "n_bins": min(self.n_bins, other.n_bins)}
        merged: list[ColumnProfile] = []
        for name in [*self._columns, *(c for c in other._columns if c not in self._columns)]:
            a, b = self._columns.get(name), other._columns.get(name)
            if a is None or b is None:
                merged.append(a if a is not None else b)  # type: ignore[arg-type]
                continue
            merged.append(_merge_column(a, b, **sizes))
        return DriftProfile(merged, n_rows=self.n_rows + other.n_rows, **sizes)

    # ---- compare ---------------------------------------------------------------
    def compare(
        self,
        current: Any,
        *,
        columns: Sequence[Hashable] | None = None,
        method: str | Mapping[Hashable, str] = "auto",
        threshold: float | Mapping[Hashable, float] | None = None,
        alpha: float = 0.05,
        correction: str = "bh",
        large_sample: int = _auto.LARGE_SAMPLE,
        drift_share: float = 0.5,
        max_plots: int = 12,
        random_state: int | None = None,
        tracker: Any = None,
    ) -> DriftReport:
        """Compare ``current`` data with this reference profile.

        The same comparison as :func:`mllife.drift.drift_report`, with the
        same keywords, except ``multivariate`` and ``multivariate_threshold``:
        the domain classifier needs the reference rows, which a profile does
        not keep. On a sketched column the permutation tests count each sketch
        point as its weight rounded to whole rows.

        **Dask frames / Parquet paths.** ``current`` may be a Dask frame or
        a Parquet path, as in :func:`~mllife.drift.drift_report`: it is
        compared through its own profile, computed with Dask, and the report
        states it (``settings["approximation"]`` and a note).

        Parameters
        ----------
        current : DataFrame, 2-D array, Dask DataFrame, or str or path of a Parquet dataset
        columns : sequence, optional
            Columns to compare (default: every column of either frame).
        method : str or mapping of column to str, default="auto"
            ``"auto"``, a statistic of :mod:`mllife.drift.stats` (``"ks"``,
            ``"psi"``, ``"wasserstein"``, ``"jensen_shannon"``, ``"hellinger"``,
            ``"energy"``, ``"anderson"``, ``"chi2"``, ``"g_test"``,
            ``"cramers_v"``, ``"proportion_z"``) or a name given to
            :func:`mllife.drift.register_statistic`. A method that does not apply
            to a column's kind falls back to ``"auto"`` there (noted in its
            status). Distances (``wasserstein``, ``energy``, ``psi``,
            ``jensen_shannon``, ``hellinger`` and user statistics without a
            p-value) get a permutation p-value of the same statistic and decide
            on effect **and** significance.
        threshold : float or mapping of column to float, optional
            Decision threshold on the bias-corrected effect size of distances
            (defaults: wasserstein 0.05, jensen_shannon 0.05, hellinger 0.05,
            psi 0.2; ``energy`` needs one, in the data's units).
        alpha : float, default=0.05
            Significance level, applied to corrected p-values.
        correction : {"bh", "holm", "none"}, default="bh"
            Multiple-testing correction across columns: Benjamini-Hochberg
            (false discovery rate) or Holm (family-wise error rate). With
            ``"none"`` columns are not corrected for each other, but each
            column's own tests (distribution, missing, inf, unseen) are
            Holm-corrected together, so each column's flag holds ``alpha``.
        large_sample : int, default=10_000
            ``auto`` decides on effect size when both samples exceed this.
        drift_share : float, default=0.5
            The data set is drifted when at least this share of columns drifted.
        max_plots : int, default=12
            Distribution overlays drawn in HTML, most drifted columns first.
        random_state : int or None, default=None
            Seed of every random draw: the permutation tests (one stream per
            column, derived from the seed and the column name) and, with
            ``multivariate=True``, the domain classifier's sampling and folds.
            ``None`` is the seed 0, so the same call gives the same report.
        tracker : Tracker, optional
            Log the comparison to this :class:`~mllife.tracking.Tracker` (such as
            :class:`~mllife.tracking.MlflowTracker`): one run named
            ``"drift_report"`` with the call's settings as params, the drift share,
            the data set's decision and per column the statistic, p-values, effect
            size and decision as metrics, and the report's tables, findings and HTML
            (see :func:`mllife.tracking.log_report`). A tracker that fails mid-run
            gives a :class:`~mllife.TrackingWarning`, never a lost report. None (the
            default): nothing is logged.

        Returns
        -------
        DriftReport

        Raises
        ------
        InputError
            For bad parameters, a requested column in neither frame, or a
            ``tracker`` that is not a :class:`~mllife.tracking.Tracker` (before
            anything is computed).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> profile = DriftProfile.fit(pd.DataFrame({"x": np.arange(200) % 10}))
        >>> profile.compare(pd.DataFrame({"x": np.arange(200) % 10 + 5})).drifted_columns
        ['x']
        """
        if tracker is not None:
            from ..tracking._log import check_tracker

            check_tracker(tracker)
        report = compare_profile(self, current, columns=columns, method=method,
                                 threshold=threshold, alpha=alpha, correction=correction,
                                 large_sample=large_sample, drift_share=drift_share,
                                 max_plots=max_plots, random_state=random_state)
        if tracker is not None:
            from ..tracking._log import track

            settings = {"columns": None if columns is None else ", ".join(map(str, columns)),
                        "method": method, "threshold": threshold, "alpha": alpha,
                        "correction": correction, "large_sample": large_sample,
                        "drift_share": drift_share, "max_plots": max_plots,
                        "random_state": random_state, "n_reference_rows": self.n_rows,
                        "reference": "a DriftProfile"}
            track(report, tracker, run_name="drift_report", params=settings)
        return report

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


def fit_profile(reference: Any, *, columns: Sequence[Hashable] | None = None, exact_size: int = 10_000,
                sketch_size: int = 4096, n_bins: int = 10, with_kinds: bool = True) -> DriftProfile:
    """:meth:`DriftProfile.fit`; ``with_kinds=False`` skips the column-kind detector.

    A profile of *current* data (a monitor's window) is only compared, never
    compared against: no comparison reads its kinds, so they need not be
    decided (they are ``None``, which a merge and a comparison both accept).
    """
    dask_frame = _dask.to_dask_frame(reference, name="reference")
    if dask_frame is not None:
        _check_sizes(exact_size, sketch_size, n_bins)
        from ._dask import fit_columns

        profiles, n_rows = fit_columns(dask_frame, columns=columns, exact_size=exact_size, sketch_size=sketch_size,
                                       n_bins=n_bins, with_kinds=with_kinds)
        return DriftProfile(profiles, n_rows=n_rows, exact_size=exact_size, sketch_size=sketch_size, n_bins=n_bins)
    frame = as_frame(reference, name="reference")
    require_rows(frame, "reference")
    _check_sizes(exact_size, sketch_size, n_bins)
    names = list(frame.columns) if columns is None else list(columns)
    require_columns(frame, names)
    if frame.columns.duplicated().any():
        dups = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise InputError(f"duplicate column names {', '.join(dups)}", expected="unique column names")
    profiles = [profile_column(name, frame[name], exact_size=exact_size, sketch_size=sketch_size,
                               n_bins=n_bins, with_kind=with_kinds) for name in names]
    return DriftProfile(profiles, n_rows=len(frame), exact_size=exact_size, sketch_size=sketch_size,
                        n_bins=n_bins)


def _check_sizes(exact_size: int, sketch_size: int, n_bins: int) -> None:
    for name, value, low in (("exact_size", exact_size, 0), ("sketch_size", sketch_size, 16), ("n_bins", n_bins, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InputError(f"{name}={value!r} is not usable", expected=f"an integer >= {low}")


def _merge_column(a: ColumnProfile, b: ColumnProfile, *, exact_size: int, sketch_size: int,
                  n_bins: int) -> ColumnProfile:
    """One column of both profiles; the same whichever comes first."""
    if a.kind != b.kind:
        if a.summary.n == 0:
            a = _empty_like(b, a)
        elif b.summary.n == 0:
            b = _empty_like(a, b)
        else:
            raise InputError(f"holds {a.family} values in one profile and {b.family} in the other",
                             column=a.name, expected="the same kind of values in both profiles")
    # The family and dtype of the side holding values (else the smaller text): a minimum, so
    # any order and grouping of merges agree.
    kept = min(a, b, key=lambda c: (c.summary.n_rows == c.summary.n_missing, c.family, c.dtype))
    if a.numeric is not None and b.numeric is not None:
        numeric = merge_numeric([a.numeric, b.numeric], exact_size=exact_size, sketch_size=sketch_size,
                                n_bins=n_bins)
        merged = ColumnProfile(a.name, kept.family, kept.dtype, numeric=numeric)
    else:
        assert a.categorical is not None
        assert b.categorical is not None
        merged = ColumnProfile(a.name, kept.family, kept.dtype, categorical=a.categorical.merge(b.categorical))
    return replace(merged, column_kind=_merged_kind(a, b, merged))


#: What a merged identifier's reason ends with.
_MERGED = " (in both merged profiles)"


def _merged_kind(a: ColumnProfile, b: ColumnProfile, merged: ColumnProfile) -> ColumnKind | None:
    """The merged column's kind: an identifier when both say so and the merged values stay unique."""
    ka, kb = a.column_kind, b.column_kind
    if ka is None or kb is None or ka.kind != "identifier" or kb.kind != "identifier":
        return None  # judged from the merged summary
    reason = min(ka.reason.removesuffix(_MERGED), kb.reason.removesuffix(_MERGED)) + _MERGED  # any order: one
    if merged.categorical is not None:
        counts = merged.categorical.counts
        n_values, n_unique = int(counts.sum()), int((counts > 0).sum())
    elif merged.numeric is not None and merged.numeric.exact:
        n_values, n_unique = int(merged.numeric.values.size), int(np.unique(merged.numeric.values).size)
    else:  # a sketch cannot tell repeats: trust both profiles
        return ColumnKind(a.name, "identifier", reason)
    if not unique_per_row(merged.summary.n_rows, n_values, n_unique):
        return None
    return ColumnKind(a.name, "identifier", reason)


def _empty_like(template: ColumnProfile, empty: ColumnProfile) -> ColumnProfile:
    """An empty column re-expressed in the kind of ``template`` (its missing count kept)."""
    missing = empty.summary.n_rows
    if template.categorical is not None:
        return ColumnProfile(template.name, template.family, template.dtype,
                             categorical=CategoricalSummary((), np.zeros(0), missing))
    counts = k.NumericCounts(np.zeros(0), missing, 0, 0)
    summary = NumericSummary.fit(counts, exact_size=0, sketch_size=16, n_bins=2)
    return ColumnProfile(template.name, template.family, template.dtype, numeric=summary)
