"""``drift_report`` and ``DriftProfile.compare``: column-by-column comparison."""

from __future__ import annotations

import math
import zlib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from .. import _dask
from .._errors import InputError
from .._frame import as_frame
from .._random import as_seed
from . import _auto, _null
from . import _kernels as k
from ._column import compare_categorical, compare_numeric, identifier_status, rate_test
from ._expand import ProfileFrame, dtype_text
from ._reference import ColumnProfile, ReferenceProfile, family_of, profile_column, require_rows
from ._report import DriftReport
from ._sketch import NumericSummary
from ._statistics import get_statistic

#: Bins of the numeric distribution overlays in the HTML report.
PLOT_BINS = 30
#: Categories shown per categorical overlay.
PLOT_CATEGORIES = 15


def drift_report(
    reference: Any,
    current: Any,
    *,
    columns: Sequence[Hashable] | None = None,
    method: str | Mapping[Hashable, str] = "auto",
    threshold: float | Mapping[Hashable, float] | None = None,
    alpha: float = 0.05,
    correction: str = "bh",
    large_sample: int = _auto.LARGE_SAMPLE,
    drift_share: float = 0.5,
    multivariate: bool = False,
    multivariate_threshold: float = 0.55,
    max_plots: int = 12,
    random_state: int | None = None,
    tracker: Any = None,
) -> DriftReport:
    """Compare current data with reference data, column by column.

    Per column: the method used, its statistic and p-value (raw and
    corrected for testing many columns), a bias-corrected effect size
    (normalised Wasserstein for numbers, Jensen-Shannon distance for
    categories), the change in missing and inf rates, the share of unseen
    categories, PSI, and whether the column drifted and why. Every test that
    can mark a column drifted (its distribution test, the missing-rate and
    inf-rate tests, the unseen-category test) enters **one** multiple-testing
    correction over all columns, so ``correction="holm"`` bounds the chance
    of any false "drifted" flag by ``alpha``. ``method="auto"`` decides on
    corrected p-values for small samples and on effect size (with
    significance) for large ones (see the docs page for the policy). A
    column that cannot be compared (gone, new, all missing, changed dtype,
    a failing statistic) is reported with its status; it never stops the
    report.

    **Dask frames / Parquet paths.** Either side (or both) may be a
    ``dask.dataframe.DataFrame`` or the path of a Parquet dataset (a file, a
    glob, a folder). Such a side is compared through a profile computed with
    Dask (one summary per partition, merged in a tree; only the summaries
    reach the client): a reference through a :class:`DriftProfile` (column
    kinds decided as in memory, so the same identifiers are skipped), a
    current side through its profile, whose values the comparison reads as
    a monitor reads a window's (sketch points weighted to rows). Profiles
    keep up to 100,000 finite values per numeric column exactly: up to
    that the report equals the pandas call on the computed frames; above,
    a column is a quantile sketch of 8,192 points and the report says so:
    ``settings["approximation"]`` names each side that went through a
    profile, its sizes, its sketched columns and their largest rank error,
    and a note in the report (text, HTML, JSON) explains what that means
    for the statistics and p-values. ``multivariate=True`` needs rows and
    refuses a Dask side.

    Parameters
    ----------
    reference, current : DataFrame, 2-D array, Dask DataFrame, or str or path of a Parquet dataset
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
    multivariate : bool, default=False
        Also train a domain classifier (cross-validated
        HistGradientBoosting) to tell reference rows from current rows;
        its held-out ROC-AUC at or above ``multivariate_threshold`` with a
        Mann–Whitney p-value below ``alpha`` means the joint distribution
        moved (also flags the data set as drifted).
    multivariate_threshold : float, default=0.55
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
        anything is computed); ``multivariate=True`` with a Dask side; a
        Parquet path that cannot be read.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mllife.drift import drift_report
    >>> rng = np.random.default_rng(1)
    >>> ref = pd.DataFrame({"x": rng.normal(size=800), "c": rng.choice(["a", "b"], 800)})
    >>> cur = pd.DataFrame({"x": rng.normal(0.5, 1, size=800), "c": rng.choice(["a", "b"], 800)})
    >>> report = drift_report(ref, cur)
    >>> report.drifted_columns
    ['x']
    >>> report.table.loc[0, ["column", "method"]].tolist()
    ['x', 'ks']

    A Dask side gives the same table while its columns are exact:

    >>> import dask.dataframe as dd
    >>> on_dask = drift_report(dd.from_pandas(ref, npartitions=4), cur)
    >>> on_dask.table.equals(drift_report(dd.from_pandas(ref, npartitions=4).compute(), cur).table)
    True
    >>> on_dask.settings["approximation"][0]["side"]
    'reference'
    """
    if tracker is not None:
        from ..tracking._log import check_tracker

        check_tracker(tracker)
    ref_dask = _dask.to_dask_frame(reference, name="reference")
    cur_dask = _dask.to_dask_frame(current, name="current")
    if multivariate and (ref_dask is not None or cur_dask is not None):
        raise InputError("multivariate=True trains a domain classifier on the rows of both sides, and a Dask "
                         "frame (or Parquet path) is compared through its profile, without its rows",
                         expected="multivariate=False, or pandas frames on both sides (a sample such as "
                                  "ddf.sample(frac=0.01, random_state=0).compute())")
    ref_frame = as_frame(reference, name="reference") if ref_dask is None else ref_dask
    cur_frame = as_frame(current, name="current") if cur_dask is None else cur_dask
    if ref_dask is None:
        require_rows(ref_frame, "reference")
    names = _resolve_columns(columns, ref_frame, cur_frame)
    ref_names = [c for c in names if c in set(ref_frame.columns)]
    approximations = []
    if ref_dask is None:
        profile: ReferenceProfile = _ExactProfile(ref_frame, ref_names)
    else:
        _check_params(alpha, correction, large_sample, drift_share, max_plots, random_state)  # before computing
        from ._dask import REPORT_EXACT_SIZE, REPORT_SKETCH_SIZE, approximation, fit_columns

        profiles, n_ref = fit_columns(ref_dask, columns=ref_names, exact_size=REPORT_EXACT_SIZE,
                                      sketch_size=REPORT_SKETCH_SIZE, n_bins=10)
        profile = ReferenceProfile(profiles, n_rows=n_ref, exact_size=REPORT_EXACT_SIZE,
                                   sketch_size=REPORT_SKETCH_SIZE, n_bins=10)
        approximations.append(approximation("reference", profiles, exact_size=REPORT_EXACT_SIZE,
                                            sketch_size=REPORT_SKETCH_SIZE))
    report = compare_profile(profile, cur_frame, columns=names, method=method, threshold=threshold, alpha=alpha,
                             correction=correction, large_sample=large_sample, drift_share=drift_share,
                             max_plots=max_plots, random_state=random_state)
    if approximations:
        stated = [*approximations, *report.settings.get("approximation", ())]
        report = replace(report, settings={**report.settings, "approximation": stated})
    if multivariate:
        from ._domain import domain_classifier

        # Columns compared normally: identifiers, gone/new columns and changed dtypes would make
        # the classifier's job trivial without saying anything about the data.
        usable = list(report.table.loc[report.table["status"] == "ok", "column"])
        try:
            domain = domain_classifier(ref_frame, cur_frame, usable,
                                       threshold=multivariate_threshold, alpha=alpha,
                                       random_state=random_state)
        except Exception as exc:  # the column-wise report stands without it
            domain = {"auc": None, "drifted": False, "threshold": float(multivariate_threshold),
                      "status": f"failed: {exc}"}
        report = replace(report, multivariate=domain,
                         drifted=report.drifted or bool(domain["drifted"]))
    if tracker is not None:
        from ..tracking._log import track

        settings = {"columns": None if columns is None else ", ".join(map(str, names)),
                    "n_columns": len(names), "method": method, "threshold": threshold,
                    "alpha": alpha, "correction": correction, "large_sample": large_sample,
                    "drift_share": drift_share, "multivariate": multivariate,
                    "multivariate_threshold": multivariate_threshold, "max_plots": max_plots,
                    "random_state": random_state, "n_reference_rows": report.n_reference,
                    "n_current_rows": report.n_current}
        track(report, tracker, run_name="drift_report", params=settings)
    return report


class _ExactProfile(ReferenceProfile):
    """The reference itself, profiled exactly one column at a time when asked.

    ``drift_report`` compares against the full data; summarising a column only
    while it is compared keeps memory near one column's copies, not the frame's.
    """

    def __init__(self, frame: pd.DataFrame, names: list[Hashable]) -> None:
        super().__init__([], n_rows=len(frame), exact_size=max(len(frame), 1))
        if frame.columns.duplicated().any():
            dups = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
            raise InputError(f"duplicate column names {', '.join(dups)}", expected="unique column names")
        self._frame = frame
        self._names = names

    @property
    def columns(self) -> list[Hashable]:
        return list(self._names)

    def __contains__(self, name: object) -> bool:
        return name in set(self._names)

    def __getitem__(self, name: Hashable) -> ColumnProfile:
        return profile_column(name, self._frame[name], exact_size=self.exact_size, sketch_size=self.sketch_size,
                              n_bins=self.n_bins)


def _resolve_columns(columns: Sequence[Hashable] | None, ref: Any, cur: Any) -> list[Hashable]:
    """The columns to compare; ``ref`` and ``cur`` are anything with ``columns`` (frames, profiles)."""
    ref_names = list(ref.columns)
    if columns is None:
        known = set(ref_names)
        return ref_names + [c for c in cur.columns if c not in known]
    if isinstance(columns, str | bytes) or not isinstance(columns, Sequence | pd.Index):
        raise InputError(f"columns={columns!r} is not a list of column names", expected="a list of column names")
    names = list(columns)
    absent = [c for c in names if c not in set(ref_names) and c not in set(cur.columns)]
    if absent:
        raise InputError(f"column(s) {', '.join(repr(c) for c in absent)} in neither the reference nor the current data",
                         expected="names of columns of either frame")
    return names


def _check_params(alpha: float, correction: str, large_sample: int, drift_share: float, max_plots: int,
                  random_state: int | None) -> None:
    if not 0.0 < float(alpha) < 1.0:
        raise InputError(f"alpha={alpha!r} is not a significance level", expected="a number in (0, 1)")
    if correction not in _auto.CORRECTIONS:
        raise InputError(f"correction={correction!r} is not known", expected=f"one of {', '.join(_auto.CORRECTIONS)}")
    if isinstance(large_sample, bool) or not isinstance(large_sample, int | np.integer) or large_sample < 1:
        raise InputError(f"large_sample={large_sample!r} is not usable", expected="a positive integer")
    if not 0.0 < float(drift_share) <= 1.0:
        raise InputError(f"drift_share={drift_share!r} is not a share", expected="a number in (0, 1]")
    if isinstance(max_plots, bool) or not isinstance(max_plots, int | np.integer) or max_plots < 0:
        raise InputError(f"max_plots={max_plots!r} is not usable", expected="a non-negative integer")
    if random_state is not None and (isinstance(random_state, bool) or not isinstance(random_state, int | np.integer)
                                     or random_state < 0):
        raise InputError(f"random_state={random_state!r} is not usable", expected="None or a non-negative integer")


def compare_profile(
    profile: ReferenceProfile,
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
) -> DriftReport:
    """The engine behind :func:`drift_report` and :meth:`DriftProfile.compare`.

    Three passes: every column's statistics and tests (permutations only
    prepared); then the permutations, ``R`` draws at most
    (:func:`mllife.drift._null.permutations_for` the size of the family);
    then one correction over every test of every column, and the decisions.
    """
    cur_dask = _dask.to_dask_frame(current, name="current")
    approximations = []
    cur_frame: pd.DataFrame | ProfileFrame
    if cur_dask is not None:
        _check_params(alpha, correction, large_sample, drift_share, max_plots, random_state)  # before computing
        from ._dask import REPORT_EXACT_SIZE, REPORT_SKETCH_SIZE, approximation, fit_columns

        cur_names = set(cur_dask.columns)
        profiled = list(cur_dask.columns) if columns is None else [
            c for c in _resolve_columns(columns, profile, cur_dask) if c in cur_names]
        profiles, n_cur = fit_columns(cur_dask, columns=profiled, exact_size=REPORT_EXACT_SIZE,
                                      sketch_size=REPORT_SKETCH_SIZE, n_bins=10, with_kinds=False, name="current")
        cur_frame = ProfileFrame(profiles, n_rows=n_cur)
        approximations.append(approximation("current", profiles, exact_size=REPORT_EXACT_SIZE,
                                            sketch_size=REPORT_SKETCH_SIZE))
    else:
        cur_frame = as_frame(current, name="current")
    require_rows(cur_frame, "current")
    _check_params(alpha, correction, large_sample, drift_share, max_plots, random_state)
    plots: dict[Hashable, Any] = {}
    table, permutations = compare_table(profile, cur_frame, columns=columns, method=method, threshold=threshold,
                                        alpha=alpha, correction=correction, large_sample=large_sample,
                                        random_state=random_state, plots=plots)
    compared = table[table["status"] != "new column (not in reference)"]
    n_drifted = int(compared["drifted"].sum())
    share = n_drifted / len(compared) if len(compared) else 0.0
    settings = {"alpha": float(alpha), "correction": correction, "large_sample": int(large_sample),
                "drift_share": float(drift_share), "method": method if isinstance(method, str) else dict(method),
                "max_plots": int(max_plots), "random_state": random_state, "permutations": permutations}
    if approximations:
        settings["approximation"] = approximations
    return DriftReport(
        title="Drift report",
        table=table,
        drift_share=float(share),
        n_drifted=n_drifted,
        n_columns=len(compared),
        drifted=bool(share >= drift_share and n_drifted > 0),
        distributions={str(k_): v for k_, v in plots.items()},
        settings=settings,
        n_reference=profile.n_rows,
        n_current=len(cur_frame),
    )


def compare_table(
    profile: ReferenceProfile,
    cur_frame: pd.DataFrame | ProfileFrame,
    *,
    columns: Sequence[Hashable] | None = None,
    method: str | Mapping[Hashable, str] = "auto",
    threshold: float | Mapping[Hashable, float] | None = None,
    alpha: float = 0.05,
    correction: str = "bh",
    large_sample: int = _auto.LARGE_SAMPLE,
    random_state: int | None = None,
    plots: dict[Hashable, Any] | None = None,
) -> tuple[pd.DataFrame, int]:
    """The decided table of a comparison and ``R``, without the report around it.

    What :func:`compare_profile` builds its :class:`DriftReport` from; a
    caller that needs only the table (a monitor comparing many windows)
    skips the report's findings and plots. Parameters are assumed checked
    (:func:`compare_profile` checks them) and ``cur_frame`` has rows.
    """
    rows, permutations = evaluate_columns(profile, cur_frame, columns=columns, method=method, threshold=threshold,
                                          alpha=alpha, large_sample=large_sample, random_state=random_state,
                                          plots=plots)
    decide(rows, alpha=alpha, correction=correction)
    _finalize(rows)
    return pd.DataFrame(rows, columns=_COLUMNS), permutations


def evaluate_columns(
    profile: ReferenceProfile,
    cur_frame: pd.DataFrame | ProfileFrame,
    *,
    columns: Sequence[Hashable] | None,
    method: str | Mapping[Hashable, str],
    threshold: float | Mapping[Hashable, float] | None,
    alpha: float,
    large_sample: int,
    random_state: int | None,
    plots: dict[Hashable, Any] | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """The rows of the report table with every test's p-value, not yet decided, and ``R``.

    The column-level engine without the report object (the calibration tests
    call it, then :func:`decide` under several corrections). Parameters are
    assumed checked; ``plots`` (optional) receives the distribution overlays.
    """
    names = _resolve_columns(columns, profile, cur_frame)
    _check_mapping_keys(method, threshold, profile, cur_frame, names)
    methods = {name: _method_for(method, name) for name in names}
    thresholds = {name: _threshold_for(threshold, name) for name in names}
    for m in set(methods.values()):
        if m != "auto":
            get_statistic(m)  # unknown method names fail loudly, before any work
    rows: list[dict[str, Any]] = []
    for name in names:
        series = cur_frame[name] if name in cur_frame.columns else None
        try:
            col = _column_of(profile, name)
        except Exception as exc:  # an unreadable reference column: reported, never a crash
            row = _base_row(name, None, series)
            _fail(row, f"reference column unreadable ({exc})")
            rows.append(row)
            continue
        row = _base_row(name, col, series)
        try:
            ident = identifier_status(profile, col) if series is not None else None
            if ident is not None:  # identifiers name rows: skipped, never drifted
                row["status"] = ident
            else:
                _compare_column(row, col, series, methods[name], thresholds[name], large_sample,
                                float(alpha), profile.n_bins, plots)
        except Exception as exc:  # one bad column never hides the others
            _fail(row, str(exc))
        rows.append(row)
    permutations = _null.permutations_for(sum(len(r["_tests"]) for r in rows), alpha)
    seed = np.random.SeedSequence(as_seed(random_state))
    for row in rows:
        try:
            _run_permutations(row, seed, permutations)
        except Exception as exc:  # a user statistic failing on permuted data
            _fail(row, str(exc))
    return rows, permutations


def _check_mapping_keys(method: Any, threshold: Any, profile: ReferenceProfile,
                        cur_frame: pd.DataFrame | ProfileFrame,
                        names: list[Hashable]) -> None:
    """A per-column ``method=`` / ``threshold=`` naming a column of neither frame is a typo: raise."""
    ref_frame = getattr(profile, "_frame", None)
    known = {*names, *profile.columns, *cur_frame.columns, *(ref_frame.columns if ref_frame is not None else ())}
    for what, given in (("method", method), ("threshold", threshold)):
        if isinstance(given, Mapping):
            absent = [c for c in given if c not in known]
            if absent:
                raise InputError(f"{what}= names column(s) {', '.join(repr(c) for c in absent)} in neither the "
                                 "reference nor the current data", expected="names of columns of either frame")


def _fail(row: dict[str, Any], message: str) -> None:
    row["status"], row["failed"], row["_tests"] = f"failed: {message}", True, []
    row["p_value"] = row["statistic_corrected"] = None


def _run_permutations(row: dict[str, Any], seed: np.random.SeedSequence, permutations: int) -> None:
    """Draw the column's prepared permutation tests from its own seeded stream.

    The stream depends on the seed and the column name only, so a column's
    p-values do not change with the other columns compared.
    """
    pending = [t for t in row["_tests"] if t.permutation is not None]
    if not pending:
        return
    key = zlib.crc32(repr(row["column"]).encode("utf-8"))
    rng = np.random.default_rng(np.random.SeedSequence(seed.entropy, spawn_key=(key,)))
    for test in pending:
        assert test.permutation is not None
        result = _null.run(test.permutation, rng, permutations)
        if test.p_value is None:  # a test with its own p-value draws for the null mean only
            test.p_value = result.p_value
        if test.finish is not None:
            test.finish(result, permutations)
        if test.kind == "distribution":
            row["p_value"] = test.p_value


def _column_of(profile: ReferenceProfile, name: Hashable) -> ColumnProfile | None:
    return profile[name] if name in profile.columns else None


_COLUMNS = [
    "column", "kind", "method", "statistic", "p_value", "p_adjusted", "effect_size", "statistic_corrected",
    "threshold", "drifted", "reason", "psi", "n_reference", "n_current", "missing_reference", "missing_current",
    "missing_change", "missing_p_adjusted", "inf_reference", "inf_current", "inf_p_adjusted", "unseen_share",
    "unseen_expected", "unseen_p_adjusted", "note", "status",
]


def _method_for(method: str | Mapping[Hashable, str], name: Hashable) -> str:
    if isinstance(method, str):
        return method
    if isinstance(method, Mapping):
        return str(method.get(name, "auto"))
    raise InputError(f"method={method!r} is not usable", expected="a method name or a mapping column -> name")


def _threshold_for(threshold: float | Mapping[Hashable, float] | None, name: Hashable) -> float | None:
    if threshold is None:
        return None
    value = threshold.get(name) if isinstance(threshold, Mapping) else threshold
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) or not math.isfinite(float(value)):
        raise InputError(f"threshold {value!r} is not a finite number", column=name, expected="a finite number")
    return float(value)


def _base_row(name: Hashable, col: ColumnProfile | None, series: pd.Series | None) -> dict[str, Any]:
    kind = col.kind if col is not None else ("categorical" if series is None or family_of(series) == "categorical"
                                              else "numeric")
    return dict.fromkeys(_COLUMNS) | {
        "column": name, "kind": kind, "drifted": False, "reason": "", "status": "ok", "note": "",
        "n_reference": col.summary.n_rows if col is not None else 0,
        "n_current": len(series) if series is not None else 0,
        "decision": "none", "flags": [], "failed": False, "_tests": [],
    }


def _compare_column(row: dict[str, Any], col: ColumnProfile | None, series: pd.Series | None, method: str,
                    threshold: float | None, large_sample: int, alpha: float, n_bins: int,
                    plots: dict[Hashable, Any] | None) -> None:
    if col is None:
        row["status"] = "new column (not in reference)"
        return
    if series is None:
        row["status"] = "column missing from current"
        row["flags"].append("column gone")
        return
    has_values = bool(series.notna().any())
    cur_family = family_of(series)
    if has_values and cur_family != col.family:
        if col.summary.n == 0:
            # An all-missing reference column has no real dtype (NaN is a float): what
            # changed is the missing rate, 100% -> x%, not a family.
            rate_test(row, "missing", col.summary.n_missing, col.summary.n_rows,
                      int(series.isna().sum()), len(series), alpha)
            row["status"] = f"no values in reference; current holds {cur_family} values"
            return
        row["status"] = f"dtype changed: {col.family} ({col.dtype}) -> {cur_family} ({dtype_text(series)})"
        row["flags"].append("dtype changed")
        return
    if col.numeric is not None:
        finite = compare_numeric(row, col.name, col.numeric, series, method, threshold, large_sample, alpha, n_bins)
        drawn = _numeric_plot(col.numeric, finite) if finite is not None and plots is not None else None
        if drawn is not None and plots is not None:
            plots[col.name] = drawn
            if col.family == "datetime":
                plots[col.name]["xlabel"] = "date-time (UTC)"
                plots[col.name]["datetime"] = True  # edges in seconds since 1970-01-01, drawn as dates
    else:
        assert col.categorical is not None
        table = compare_categorical(row, col.categorical, series, method, threshold, large_sample, alpha)
        if table is not None and plots is not None:
            plots[col.name] = _categorical_plot(*table)


def decide(rows: list[dict[str, Any]], *, alpha: float, correction: str) -> None:
    """One correction over every test of every column, then each column's decision and reason.

    A column is drifted when one of its tests has a corrected p-value below
    ``alpha`` and that test's effect requirement holds, or when a structural
    flag (column gone, dtype changed) is raised; the reason lists each.
    Rows of :func:`evaluate_columns` can be decided again under another
    correction.
    """
    # "none": no correction across columns, but a column is one claim: its own tests (distribution,
    # missing, inf, unseen) are Holm-corrected together, else its flag would run at up to 4 alpha.
    groups = [r["_tests"] for r in rows] if correction == "none" else [[t for r in rows for t in r["_tests"]]]
    for tests in groups:
        p = np.array([np.nan if t.p_value is None else float(t.p_value) for t in tests])
        for test, q in zip(tests, _auto.adjust(p, "holm" if correction == "none" else correction), strict=True):
            test.p_adjusted = float(q) if np.isfinite(q) else None
    for row in rows:
        reasons: list[str] = []
        for test in row["_tests"]:
            q = test.p_adjusted
            if test.kind == "distribution":
                row["p_adjusted"] = q
            else:
                row[f"{test.kind}_p_adjusted"] = q
            if q is not None and q < alpha and test.effect:
                sep = ", " if " " in test.label else " "  # "ks p=...", "missing rate 1% -> 9%, p=..."
                reasons.append(f"{test.label}{sep}p={q:.2g} < {alpha:g} ({correction})")
        reasons.extend(row["flags"])
        row["drifted"] = bool(reasons)
        row["reason"] = "; ".join(reasons)


def _finalize(rows: list[dict[str, Any]]) -> None:
    """Drop the working keys of the rows (the table keeps :data:`_COLUMNS`)."""
    for row in rows:
        for key in ("decision", "flags", "failed", "_tests"):
            row.pop(key, None)


def _numeric_plot(ref: NumericSummary, cur: np.ndarray) -> dict[str, Any] | None:
    """Shares of both samples on shared equal-width bins (tails folded into the end bins).

    ``None`` (no overlay) when the range overflows floats (values near 1e308).
    """
    w = ref.weights
    lo = min(_sorted_quantile(ref.values, 0.005), _sorted_quantile(cur, 0.005))
    hi = max(_sorted_quantile(ref.values, 0.995), _sorted_quantile(cur, 0.995))
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    with np.errstate(over="ignore", invalid="ignore"):
        edges = np.linspace(lo, hi, PLOT_BINS + 1)
        widths = np.diff(edges)
    if not (np.all(np.isfinite(edges)) and np.all(np.isfinite(widths)) and np.all(widths > 0)):
        return None
    ref_counts = k.bin_counts(ref.values, edges[1:-1], w)
    cur_counts = k.bin_counts(cur, edges[1:-1])
    return {"kind": "numeric", "edges": edges.tolist(),
            "reference": (ref_counts / ref_counts.sum()).tolist(),
            "current": (cur_counts / cur_counts.sum()).tolist()}


def _sorted_quantile(values: np.ndarray, q: float) -> float:
    return float(values[int(q * (values.size - 1))])


def _categorical_plot(labels: list[str], ref: np.ndarray, cur: np.ndarray) -> dict[str, Any]:
    """Shares of the categories that matter most in either sample."""
    p, q = ref / ref.sum(), cur / cur.sum()
    top = np.argsort(-np.maximum(p, q), kind="stable")[:PLOT_CATEGORIES]
    return {"kind": "categorical", "labels": [labels[i] for i in top],
            "reference": p[top].tolist(), "current": q[top].tolist()}
