"""``drift_report`` and ``DriftProfile.compare``: column-by-column comparison."""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import as_frame
from . import _auto
from . import _kernels as k
from ._profile import ColumnProfile, DriftProfile, family_of, profile_column, require_rows
from ._report import DriftReport
from ._sketch import CategoricalSummary, NumericSummary
from ._statistics import StatisticSpec, check_result, get_statistic

#: Bins of the numeric distribution overlays in the HTML report.
PLOT_BINS = 30
#: A categorical column with at least this many reference values, all distinct, is an identifier.
ID_MIN_ROWS = 50
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
    random_state: int | None = 0,
) -> DriftReport:
    """Compare current data with reference data, column by column.

    Per column: the method used, its statistic and p-value (raw and
    corrected for testing many columns), an effect size (normalised
    Wasserstein for numbers, Jensen-Shannon distance for categories), the
    change in missing and inf rates, the share of unseen categories, PSI,
    and whether the column drifted and why. ``method="auto"`` decides on
    corrected p-values for small samples and on effect size (with
    significance) for large ones (see the docs page for the policy). A
    column that cannot be compared (gone, new, all missing, changed dtype,
    a failing statistic) is reported with its status; it never stops the
    report.

    Parameters
    ----------
    reference, current : DataFrame or 2-D array
    columns : sequence, optional
        Columns to compare (default: every column of either frame).
    method : str or mapping of column to str, default="auto"
        ``"auto"``, a statistic of :mod:`mllife.drift.stats` (``"ks"``,
        ``"psi"``, ``"wasserstein"``, ``"jensen_shannon"``, ``"hellinger"``,
        ``"energy"``, ``"anderson"``, ``"chi2"``, ``"g_test"``,
        ``"cramers_v"``, ``"proportion_z"``) or a name given to
        :func:`mllife.drift.register_statistic`. A method that does not apply
        to a column's kind falls back to ``"auto"`` there (noted in its
        status).
    threshold : float or mapping of column to float, optional
        Decision threshold on effect sizes and on statistics without a
        p-value (defaults: wasserstein 0.05, jensen_shannon 0.05,
        hellinger 0.05, psi 0.2; ``energy`` needs one, in the data's units).
    alpha : float, default=0.05
        Significance level, applied to corrected p-values.
    correction : {"bh", "holm", "none"}, default="bh"
        Multiple-testing correction across columns: Benjamini-Hochberg
        (false discovery rate) or Holm (family-wise error rate).
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
    random_state : int or None, default=0
        Seed of the domain classifier's sampling and folds.

    Returns
    -------
    DriftReport

    Raises
    ------
    InputError
        For bad parameters or a requested column in neither frame.

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
    """
    ref_frame = as_frame(reference, name="reference")
    cur_frame = as_frame(current, name="current")
    require_rows(ref_frame, "reference")
    names = _resolve_columns(columns, ref_frame, cur_frame)
    profile = _ExactProfile(ref_frame, [c for c in names if c in ref_frame.columns])
    report = compare_profile(profile, cur_frame, columns=names, method=method, threshold=threshold, alpha=alpha,
                             correction=correction, large_sample=large_sample, drift_share=drift_share,
                             max_plots=max_plots)
    if not multivariate:
        return report
    from ._domain import domain_classifier

    # Columns compared normally: identifiers, gone/new columns and changed dtypes would make
    # the classifier's job trivial without saying anything about the data.
    usable = list(report.table.loc[report.table["status"] == "ok", "column"])
    try:
        domain = domain_classifier(ref_frame, cur_frame, usable, threshold=multivariate_threshold,
                                   alpha=alpha, random_state=random_state)
    except Exception as exc:  # the column-wise report stands without it
        domain = {"auc": None, "drifted": False, "threshold": float(multivariate_threshold),
                  "status": f"failed: {exc}"}
    return replace(report, multivariate=domain, drifted=report.drifted or bool(domain["drifted"]))


class _ExactProfile(DriftProfile):
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


def _resolve_columns(columns: Sequence[Hashable] | None, ref: pd.DataFrame | DriftProfile,
                     cur: pd.DataFrame) -> list[Hashable]:
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


def _check_params(alpha: float, correction: str, large_sample: int, drift_share: float, max_plots: int) -> None:
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


def compare_profile(
    profile: DriftProfile,
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
) -> DriftReport:
    """The engine behind :func:`drift_report` and :meth:`DriftProfile.compare`."""
    cur_frame = as_frame(current, name="current")
    require_rows(cur_frame, "current")
    _check_params(alpha, correction, large_sample, drift_share, max_plots)
    names = _resolve_columns(columns, profile, cur_frame)
    methods = {name: _method_for(method, name) for name in names}
    thresholds = {name: _threshold_for(threshold, name) for name in names}
    for m in set(methods.values()):
        if m != "auto":
            get_statistic(m)  # unknown method names fail loudly, before any work
    rows: list[dict[str, Any]] = []
    plots: dict[Hashable, Any] = {}
    for name in names:
        series = cur_frame[name] if name in cur_frame.columns else None
        try:
            col = _column_of(profile, name)
        except Exception as exc:  # an unreadable reference column: reported, never a crash
            row = _base_row(name, None, series)
            row["status"], row["failed"] = f"failed: reference column unreadable ({exc})", True
            rows.append(row)
            continue
        row = _base_row(name, col, series)
        try:
            _compare_column(row, col, series, methods[name], thresholds[name], large_sample, plots)
        except Exception as exc:  # one bad column never hides the others
            row["status"] = f"failed: {exc}"
            row["failed"] = True
        rows.append(row)
    _decide(rows, alpha=alpha, correction=correction)
    table = pd.DataFrame(rows, columns=_COLUMNS)
    compared = table[table["status"] != "new column (not in reference)"]
    n_drifted = int(compared["drifted"].sum())
    share = n_drifted / len(compared) if len(compared) else 0.0
    settings = {"alpha": float(alpha), "correction": correction, "large_sample": int(large_sample),
                "drift_share": float(drift_share), "method": method if isinstance(method, str) else dict(method),
                "max_plots": int(max_plots)}
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


def _column_of(profile: DriftProfile, name: Hashable) -> ColumnProfile | None:
    return profile[name] if name in profile.columns else None


_COLUMNS = [
    "column", "kind", "method", "statistic", "p_value", "p_adjusted", "effect_size", "threshold", "drifted",
    "reason", "psi", "n_reference", "n_current", "missing_reference", "missing_current", "missing_change",
    "inf_reference", "inf_current", "unseen_share", "status",
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
        "column": name, "kind": kind, "drifted": False, "reason": "", "status": "ok",
        "n_reference": col.summary.n_rows if col is not None else 0,
        "n_current": len(series) if series is not None else 0,
        "decision": "none", "flags": [], "failed": False,
    }


def _rate(part: float, total: float) -> float | None:
    return part / total if total > 0 else None


def _compare_column(row: dict[str, Any], col: ColumnProfile | None, series: pd.Series | None, method: str,
                    threshold: float | None, large_sample: int, plots: dict[Hashable, Any]) -> None:
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
            _missing_flags(row, col.summary.n_missing, col.summary.n_rows,
                           int(series.isna().sum()), len(series), "missing")
            row["status"] = f"no values in reference; current holds {cur_family} values"
            return
        row["status"] = f"dtype changed: {col.family} ({col.dtype}) -> {cur_family} ({series.dtype})"
        row["flags"].append("dtype changed")
        return
    if col.numeric is not None:
        _compare_numeric(row, col.name, col.numeric, series, method, threshold, large_sample, plots)
        if col.family == "datetime" and col.name in plots:
            plots[col.name]["xlabel"] = "date-time (UTC)"
            plots[col.name]["datetime"] = True  # edges in seconds since 1970-01-01, drawn as dates
    else:
        assert col.categorical is not None
        _compare_categorical(row, col.name, col.categorical, series, method, threshold, large_sample, plots)


def _spec_for(method: str, kind: str, row: dict[str, Any]) -> StatisticSpec | None:
    if method == "auto":
        return None
    spec = get_statistic(method)
    if kind not in spec.kinds:
        row["status"] = f"method {method!r} does not apply to {kind} columns; used auto"
        return None
    return spec


def _needs_threshold(spec: StatisticSpec, threshold: float | None) -> float:
    value = threshold if threshold is not None else spec.threshold
    if value is None:
        raise InputError(f"method {spec.name!r} has no p-value and no default threshold",
                         expected="a threshold=... for it")
    return value


def _missing_flags(row: dict[str, Any], ref_missing: int, ref_rows: int, cur_missing: int, cur_rows: int,
                   prefix: str) -> None:
    ref_rate, cur_rate = _rate(ref_missing, ref_rows), _rate(cur_missing, cur_rows)
    row[f"{prefix}_reference"], row[f"{prefix}_current"] = ref_rate, cur_rate
    if ref_rate is None or cur_rate is None:
        return
    change = cur_rate - ref_rate
    if prefix == "missing":
        row["missing_change"] = change
    _, p = k.proportion_z_counts(ref_missing, ref_rows, cur_missing, cur_rows)
    row[f"_{prefix}_p"] = p
    if abs(change) >= _auto.MISSING_CHANGE:
        row["flags"].append(f"{prefix} rate {ref_rate:.1%} -> {cur_rate:.1%}")


def _compare_numeric(row: dict[str, Any], name: Hashable, ref: NumericSummary, series: pd.Series, method: str,
                     threshold: float | None, large_sample: int, plots: dict[Hashable, Any]) -> None:
    cur = k.split_numeric(series, name=f"column {name!r}")
    _missing_flags(row, ref.n_missing, ref.n_rows, cur.n_missing, cur.n_total, "missing")
    _missing_flags(row, ref.n_posinf + ref.n_neginf, ref.n_rows, cur.n_posinf + cur.n_neginf, cur.n_total, "inf")
    if ref.n == 0 or cur.finite.size == 0:
        row["status"] = "no finite values in " + ("reference" if ref.n == 0 else "current")
        if ref.n == 0 and cur.finite.size == 0:
            row["status"] = "no finite values in either"
        return
    merged = k.merge_sorted(ref.values, cur.finite, ref.weights)
    d, w_raw = k.ks_and_wasserstein(merged)
    p_ks = k.ks_pvalue(d, ref.n, int(cur.finite.size))
    scale = ref.std
    if scale <= 0:
        scale = _pooled_std(ref, cur.finite)
    w = w_raw / scale
    cur_hist = k.bin_counts(cur.finite, ref.edges)
    row["psi"] = k.psi_counts(ref.hist, cur_hist)
    row["effect_size"] = w
    spec = _spec_for(method, "numeric", row)
    if spec is None:
        chosen, decision = _auto.choose("numeric", ref.n, int(cur.finite.size), large_sample)
        row["method"], row["decision"] = chosen, decision
        if chosen == "ks":
            row["statistic"], row["p_value"] = d, p_ks
        else:
            row["statistic"], row["p_value"] = w, p_ks
            row["threshold"] = threshold if threshold is not None else _auto.AUTO_THRESHOLDS[chosen]
    else:
        row["method"] = spec.name
        stat: float
        p: float | None
        if spec.name == "ks":
            stat, p = d, p_ks
        elif spec.name == "wasserstein":
            stat, p = w, None
        elif spec.name == "energy":
            stat, p = float(math.sqrt(2.0) * k.cdf_distance(merged, 2)), None
        elif spec.name == "anderson":
            if not ref.exact:
                raise InputError("anderson needs the exact reference sample, this profile keeps a sketch",
                                 expected="a larger exact_size or another method")
            stat, p = k.anderson_from(merged)
        elif spec.name == "psi":
            stat, p = float(row["psi"]), None
        elif spec.name == "jensen_shannon":
            stat, p = k.js_counts(ref.hist, cur_hist), None
        elif spec.name == "hellinger":
            stat, p = k.hellinger_counts(ref.hist, cur_hist), None
        else:
            stat, p = check_result(spec.fn(ref.values, cur.finite), name=spec.name)
        _set_result(row, spec, stat, p, threshold)
    plots[name] = _numeric_plot(ref, cur.finite)


def _pooled_std(ref: NumericSummary, cur: np.ndarray) -> float:
    n = ref.n + cur.size
    mean = (ref.mean * ref.n + float(cur.sum())) / n
    m2 = ref.m2 + ref.n * (ref.mean - mean) ** 2 + float(np.sum((cur - mean) ** 2))
    sd = math.sqrt(m2 / n)
    return sd if sd > 0 else 1.0


def _set_result(row: dict[str, Any], spec: StatisticSpec, stat: float, p: float | None,
                threshold: float | None) -> None:
    row["statistic"], row["p_value"] = stat, p
    if p is not None:
        row["decision"] = "p"
    else:
        row["decision"] = "threshold"
        row["threshold"] = _needs_threshold(spec, threshold)


def _compare_categorical(row: dict[str, Any], name: Hashable, ref: CategoricalSummary, series: pd.Series,
                         method: str, threshold: float | None, large_sample: int,
                         plots: dict[Hashable, Any]) -> None:
    cur_labels, cur_counts, cur_missing = k.category_counts(series)
    n_cur = int(cur_counts.sum())
    _missing_flags(row, ref.n_missing, ref.n_rows, cur_missing, n_cur + cur_missing, "missing")
    if ref.n == 0 or n_cur == 0:
        row["status"] = "no values in " + ("reference" if ref.n == 0 else "current")
        if ref.n == 0 and n_cur == 0:
            row["status"] = "no values in either"
        return
    if ref.n >= ID_MIN_ROWS and len(ref.labels) == ref.n:
        row["status"] = "identifier-like (every reference value unique): not compared"
        return
    labels, rc, cc = k.align_counts(list(ref.labels), ref.counts, cur_labels, cur_counts)
    unseen = float(cc[len(ref.labels):].sum() / n_cur)
    row["unseen_share"] = unseen
    # Good-Turing: a sample from the *same* distribution meets new categories with about
    # the probability mass of the reference's singletons (user ids, zip codes...).
    expected = float(np.count_nonzero(ref.counts == 1) / ref.n)
    if unseen - expected >= _auto.UNSEEN_SHARE:
        row["flags"].append(f"{unseen:.1%} of values in unseen categories"
                            + (f" ({expected:.1%} expected by chance)" if expected >= 0.001 else ""))
    chi, p_chi = k.chi2_counts(rc, cc)
    js = k.js_counts(rc, cc)
    row["psi"] = k.psi_counts(rc, cc)
    row["effect_size"] = js
    spec = _spec_for(method, "categorical", row)
    if spec is None:
        chosen, decision = _auto.choose("categorical", ref.n, n_cur, large_sample)
        row["method"], row["decision"] = chosen, decision
        row["statistic"] = chi if chosen == "chi2" else js
        row["p_value"] = p_chi
        if decision == "effect+p":
            row["threshold"] = threshold if threshold is not None else _auto.AUTO_THRESHOLDS[chosen]
    else:
        row["method"] = spec.name
        stat: float
        p: float | None
        if spec.name == "chi2":
            stat, p = chi, p_chi
        elif spec.name == "g_test":
            stat, p = k.g_counts(rc, cc)
        elif spec.name == "cramers_v":
            stat, p = k.cramers_v_counts(rc, cc)
        elif spec.name == "proportion_z":
            top = int(np.argmax(rc + cc))
            stat, p = k.proportion_z_counts(rc[top], rc.sum(), cc[top], cc.sum())
        elif spec.name == "psi":
            stat, p = float(row["psi"]), None
        elif spec.name == "jensen_shannon":
            stat, p = js, None
        elif spec.name == "hellinger":
            stat, p = k.hellinger_counts(rc, cc), None
        else:
            values = np.array(labels, dtype=object)
            stat, p = check_result(spec.fn(np.repeat(values, rc.astype(np.int64)),
                                           np.repeat(values, cc.astype(np.int64))), name=spec.name)
        _set_result(row, spec, stat, p, threshold)
    plots[name] = _categorical_plot(labels, rc, cc)


def _decide(rows: list[dict[str, Any]], *, alpha: float, correction: str) -> None:
    """Correct p-values across columns, then decide each column and say why."""
    p = np.array([np.nan if r["p_value"] is None else float(r["p_value"]) for r in rows])
    adjusted = _auto.adjust(p, correction)
    for row, q in zip(rows, adjusted, strict=True):
        row["p_adjusted"] = None if not np.isfinite(q) else float(q)
        reasons = []
        decision = row["decision"]
        stat, thr = row["statistic"], row["threshold"]
        big = stat is not None and thr is not None and stat >= thr
        if decision == "p" and q < alpha:
            reasons.append(f"{row['method']} p={q:.2g} < {alpha:g} ({correction})")
        elif (decision == "effect+p" and big and q < alpha) or (decision == "threshold" and big):
            reasons.append(f"{row['method']} {stat:.3g} >= {thr:g}")
        for flag in row["flags"]:
            prefix = "missing" if flag.startswith("missing") else "inf" if flag.startswith("inf") else None
            if prefix is not None:
                flag_p = row.get(f"_{prefix}_p")
                if flag_p is None or flag_p >= alpha:
                    continue
            reasons.append(flag)
        row["drifted"] = bool(reasons)
        row["reason"] = "; ".join(reasons)
    for row in rows:
        for key in ("decision", "flags", "failed", "_missing_p", "_inf_p"):
            row.pop(key, None)


def _numeric_plot(ref: NumericSummary, cur: np.ndarray) -> dict[str, Any]:
    """Shares of both samples on shared equal-width bins (tails folded into the end bins)."""
    w = ref.weights
    lo = min(_sorted_quantile(ref.values, 0.005), _sorted_quantile(cur, 0.005))
    hi = max(_sorted_quantile(ref.values, 0.995), _sorted_quantile(cur, 0.995))
    if not hi > lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, PLOT_BINS + 1)
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
