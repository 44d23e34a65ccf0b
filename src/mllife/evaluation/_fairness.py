"""Fairness across groups with fairlearn's ``MetricFrame`` (imported on first use).

Per group: its size and the key metrics of the task. Binary tasks add the
demographic parity and equalized odds differences, computed by fairlearn.
A rate that is undefined in a group (no positives for the true positive rate,
no predicted positives for precision) is NaN with its reason, never a silent
zero; groups smaller than :data:`MIN_GROUP_ROWS` are flagged as too small to judge,
and a combination of several features' values without test rows is left out
(with a note), not a row of NaN.

"Unfair" is a statistical claim, so a parity difference becomes a finding only
when both hold:

* the effect: among the groups large enough to judge the rate (at least
  :data:`MIN_GROUP_ROWS` rows make it: the group's rows for the selection rate,
  its positives for the true positive rate, its negatives for the false positive
  rate), the highest and lowest rate are more than :data:`MAX_DIFFERENCE` apart;
* the test of "every judged group has the same rate(s)": Pearson's chi-square
  test of homogeneity on the 2 x G table (selected or not, by group) for
  demographic parity; for equalized odds the same statistic among the positives
  (true positive rates) plus the one among the negatives (false positive rates),
  which are computed on disjoint rows and so add up to a chi-square with the sum
  of their degrees of freedom (the test of conditional independence of
  prediction and group given the label). When an expected count is under
  :data:`MIN_EXPECTED` the p-value is a seeded Monte-Carlo permutation p-value
  (:data:`N_RESAMPLES` tables with the same margins, drawn with ``random_state``;
  ``None`` is seed 0) instead of the asymptotic one.
  The tests of one call form a family: their p-values are Holm-adjusted and a
  finding needs the adjusted p-value below :data:`ALPHA`, so with no group effect
  the chance of any fairness finding is at most :data:`ALPHA`
  (``tests/calibration/test_fairness.py``).

Groups left out of a test are named in its finding, in :attr:`FairnessResult.tests`
and in the notes; the reported numbers (the table, fairlearn's differences) are
those of every group, as before.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._frame import is_numeric
from .._inference import adjust, draw_counts
from .._random import as_generator
from ..report import Finding
from ._inputs import Predictions

#: Groups with fewer rows than this are too small to judge; a rate is judged in a group
#: only when at least this many rows make it (its positives for the true positive rate,
#: its negatives for the false positive rate).
MIN_GROUP_ROWS = 30
#: A parity difference among the judged groups above this is large enough to report ...
MAX_DIFFERENCE = 0.1
#: ... when the test that every judged group has the same rate rejects at this level,
#: after Holm's correction over the fairness tests of the call.
ALPHA = 0.05
#: Chi-square p-values are asymptotic when every expected count of the table is at
#: least this (Cochran's rule); otherwise they come from a Monte-Carlo permutation test.
MIN_EXPECTED = 5.0
#: Tables drawn (with the observed margins) for a Monte-Carlo permutation p-value; they
#: are drawn with ``random_state`` (``None`` is seed 0), so the same data and seed always
#: give the same p-value.
N_RESAMPLES = 1999
MISSING = "(missing)"
#: A numeric sensitive feature with more distinct values is grouped by quantile bins.
MAX_NUMERIC_GROUPS = 20
_RESERVED = frozenset({"group", "n", "accuracy", "selection_rate", "true_positive_rate",
                       "false_positive_rate", "precision", "roc_auc", "mae", "mean_prediction",
                       "mean_target", "undefined", "too_small", "n_positive", "n_predicted_positive",
                       "n_true_positive"})
_COUNTS = ["n_positive", "n_predicted_positive", "n_true_positive"]
_TEST_COLUMNS = ["metric", "compares", "difference", "judged_difference", "groups_judged",
                 "left_out", "test", "statistic", "dof", "p_value", "p_value_holm", "finding"]


@dataclass
class FairnessResult:
    """What :func:`fairness` found.

    ``tests`` has one row per parity claim tested (binary tasks): what it
    compares, fairlearn's difference over every group and the difference among
    the judged groups, the groups left out (too small to judge), the test, its
    statistic, degrees of freedom, p-value, Holm-adjusted p-value, and whether
    it became a finding. It is empty for other tasks.
    """

    by_group: pd.DataFrame
    differences: dict[str, float]
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tests: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=_TEST_COLUMNS))


@dataclass(frozen=True)
class _Rate:
    """One rate compared across groups: ``hits / totals`` per group, and which groups are judged."""

    name: str            # "true positive rate"
    hits: np.ndarray
    totals: np.ndarray
    judged: np.ndarray   # bool per group
    unit: str            # what ``totals`` counts: "rows", "positives", "negatives"


def _pearson(hits: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """Pearson's chi-square of 2 x G tables: ``hits`` (one table per row) out of ``totals``.

    ``sum_g (h_g - n_g p)^2 / (n_g p (1 - p))`` with ``p`` the pooled rate of the
    row; 0 for a table whose pooled rate is 0 or 1 (nothing varies).
    """
    hits = np.atleast_2d(np.asarray(hits, dtype=float))
    totals = np.asarray(totals, dtype=float)
    pooled = hits.sum(axis=1, keepdims=True) / totals.sum()
    expected = totals * pooled
    spread = expected * (1.0 - pooled)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(spread > 0, (hits - expected) ** 2 / spread, 0.0)
    return terms.sum(axis=1)


def _homogeneity(parts: list[tuple[np.ndarray, np.ndarray]], *, random_state: Any = None
                 ) -> tuple[float, int, float, str, list[bool]]:
    """Test that every group has the same rate, in each of independent 2 x G tables.

    Each part is ``(hits, totals)`` over the groups it judges. The parts' Pearson
    statistics are summed (they come from disjoint rows), with the sum of their
    degrees of freedom. A part with fewer than two groups, or whose pooled rate
    is 0 or 1, carries no information and is left out. Sparse tables get a
    Monte-Carlo p-value drawn with ``random_state``. Returns the statistic,
    degrees of freedom, p-value (NaN when nothing is left to test), how the
    p-value was obtained, and which parts were used.
    """
    from scipy import stats

    used = [len(n) >= 2 and 0 < h.sum() < n.sum() for h, n in parts]
    tables = [part for part, ok in zip(parts, used, strict=True) if ok]
    if not tables:
        return float("nan"), 0, float("nan"), "", used
    statistic = float(sum(_pearson(h, n)[0] for h, n in tables))
    dof = sum(len(n) - 1 for _, n in tables)
    shares = [h.sum() / n.sum() for h, n in tables]
    min_expected = min(float(np.min(n * min(s, 1 - s))) for (_, n), s in zip(tables, shares, strict=True))
    if min_expected >= MIN_EXPECTED:
        return statistic, dof, float(stats.chi2.sf(statistic, dof)), "asymptotic", used
    rng = as_generator(random_state)
    null = np.zeros(N_RESAMPLES)
    for h, n in tables:   # one or two tables, each drawn N_RESAMPLES times at once
        null += _pearson(draw_counts(rng, np.rint(n), round(float(h.sum())), N_RESAMPLES), n)
    # Ties count as at least as extreme (the statistic is discrete); a relative slack
    # absorbs the rounding of the sums.
    extreme = np.count_nonzero(null >= statistic - 1e-9 * max(statistic, 1.0))
    return statistic, dof, (1 + extreme) / (N_RESAMPLES + 1), "monte-carlo", used


def _binary_rates(table: pd.DataFrame) -> dict[str, list[_Rate]]:
    """The rates behind each parity claim, from the per-group counts of ``table``."""
    n = table["n"].to_numpy(dtype=float)
    pos = table["n_positive"].to_numpy(dtype=float)
    tp = table["n_true_positive"].to_numpy(dtype=float)
    pp = table["n_predicted_positive"].to_numpy(dtype=float)
    big = n >= MIN_GROUP_ROWS
    return {
        "demographic_parity_difference": [_Rate("selection rate", pp, n, big, "rows")],
        "equalized_odds_difference": [
            _Rate("true positive rate", tp, pos, big & (pos >= MIN_GROUP_ROWS), "positives"),
            _Rate("false positive rate", pp - tp, n - pos, big & (n - pos >= MIN_GROUP_ROWS),
                  "negatives"),
        ],
    }


def _listed(items: list[str], limit: int = 10) -> str:
    return ", ".join(items[:limit]) + (", …" if len(items) > limit else "")


def _left_out(rates: list[_Rate], groups: np.ndarray, n: np.ndarray) -> str:
    """The groups the rates leave out: those under ``MIN_GROUP_ROWS`` rows, then per rate
    those with too few positives or negatives."""
    small = np.flatnonzero(n < MIN_GROUP_ROWS)
    parts = [f"under {MIN_GROUP_ROWS} rows: " + _listed([f"{groups[i]} ({int(n[i])})" for i in small])
             ] if len(small) else []
    for r in rates:
        few = np.flatnonzero(~r.judged & (n >= MIN_GROUP_ROWS))
        if len(few):
            parts.append(f"{r.name} with under {MIN_GROUP_ROWS} {r.unit}: "
                         + _listed([f"{groups[i]} ({int(r.totals[i])})" for i in few]))
    return "; ".join(parts)


def _describe_test(rates: list[_Rate], used: list[bool], method: str) -> str:
    """The test in words: which rates were compared across how many groups, and how."""
    why = {r.name: f"fewer than two groups with at least {MIN_GROUP_ROWS} {r.unit}"
           if r.judged.sum() < 2 else
           f"the rate is {0 if r.hits[r.judged].sum() == 0 else 1} in every judged group"
           for r, ok in zip(rates, used, strict=True) if not ok}
    tested = [r for r, ok in zip(rates, used, strict=True) if ok]
    if not tested:
        if len(rates) == 1:
            return f"not tested: {why[rates[0].name]}"
        return "not tested: " + "; ".join(f"{name}s: {text}" for name, text in why.items())
    skipped = [f"{name}s not compared: {text}" for name, text in why.items()]
    if len(tested) == 1:
        text = f"chi-square test of equal {tested[0].name}s across {int(tested[0].judged.sum())} groups"
    else:
        text = ("chi-square tests of equal " + " and equal ".join(
            f"{r.name}s ({int(r.judged.sum())} groups)" for r in tested) + ", summed")
    if method == "monte-carlo":
        text += (f", Monte-Carlo permutation p-value ({N_RESAMPLES} tables with the same margins: "
                 f"an expected count is under {MIN_EXPECTED:g})")
    return "; ".join([text, *skipped])


def _judge(table: pd.DataFrame, differences: dict[str, float], *, random_state: Any = None
           ) -> pd.DataFrame:
    """Test each parity claim of a binary task; one row per claim (see :class:`FairnessResult`).

    ``table`` holds one row per group with ``group``, ``n``, ``n_positive``,
    ``n_true_positive`` and ``n_predicted_positive`` (counts, possibly as floats);
    ``differences`` holds fairlearn's differences, reported beside the judged ones.
    Each claim's Monte-Carlo p-value (when its table is sparse) draws from ``random_state``.
    """
    groups = table["group"].astype(str).to_numpy()
    n = table["n"].to_numpy(dtype=float)
    rows = []
    for metric, rates in _binary_rates(table).items():
        statistic, dof, p_value, method, used = _homogeneity(
            [(r.hits[r.judged], r.totals[r.judged]) for r in rates], random_state=random_state)
        spans = [float(np.ptp(r.hits[r.judged] / r.totals[r.judged]))
                 for r in rates if r.judged.sum() >= 2]
        rows.append({
            "metric": metric, "compares": " and ".join(f"{r.name}s" for r in rates),
            "difference": differences.get(metric, np.nan),
            "judged_difference": max(spans) if spans else np.nan,
            "groups_judged": int(np.logical_or.reduce([r.judged for r in rates]).sum()),
            "left_out": _left_out(rates, groups, n),
            "test": _describe_test(rates, used, method),
            "statistic": statistic, "dof": dof, "p_value": p_value,
        })
    tests = pd.DataFrame(rows, columns=_TEST_COLUMNS[:-2])
    tests["p_value_holm"] = adjust(tests["p_value"].to_numpy(dtype=float), "holm")
    tests["finding"] = (tests["judged_difference"].to_numpy() > MAX_DIFFERENCE) \
        & (tests["p_value_holm"].to_numpy() < ALPHA)
    return tests


def _parity_findings(tests: pd.DataFrame, column: str) -> tuple[list[Finding], list[str]]:
    """A finding per claim that holds; a note per large difference that is not a finding."""
    findings: list[Finding] = []
    notes: list[str] = []
    m = int(np.isfinite(tests["p_value"].to_numpy(dtype=float)).sum())
    for row in tests.itertuples(index=False):   # one row per claim (two at most)
        label = row.metric.replace("_", " ")
        result = (f"{row.test}: chi2 = {row.statistic:.4g}, dof = {row.dof}, p = {row.p_value:.2g}"
                  f" (Holm-adjusted over {m} fairness test{'s' * (m != 1)}: {row.p_value_holm:.2g})")
        left = f"; left out as too small to judge: {row.left_out}" if row.left_out else ""
        details = {k: getattr(row, k) for k in _TEST_COLUMNS}
        if row.finding:
            findings.append(Finding(
                f"fairness_{row.metric}", "warning", column=column,
                message=(f"{label} is {row.difference:.3f} across groups, {row.judged_difference:.3f} "
                         f"among the {row.groups_judged} groups large enough to judge (above "
                         f"{MAX_DIFFERENCE}); {result} < {ALPHA}{left}"),
                threshold=MAX_DIFFERENCE, details=details,
                suggestion="Check the groups' metrics below; consider fairlearn's mitigation methods.",
            ))
        elif np.isfinite(row.difference) and row.difference > MAX_DIFFERENCE:
            if not np.isfinite(row.p_value):
                why = row.test
            elif not row.judged_difference > MAX_DIFFERENCE:
                why = (f"among the {row.groups_judged} groups large enough to judge it is "
                       f"{row.judged_difference:.3f}")
            else:
                why = f"{result}, not below {ALPHA}"
            notes.append(f"The {label} is {row.difference:.3f}, above {MAX_DIFFERENCE}, but not a "
                         f"finding: {why}{left}.")
    return findings, notes


def _w(y: Any, sample_weight: Any) -> np.ndarray:
    return np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)


def _rate(num: np.ndarray, den: np.ndarray, w: np.ndarray) -> float:
    d = float(w[den].sum())
    return float(w[num].sum()) / d if d > 0 else float("nan")


def _tpr(y: Any, p: Any, sample_weight: Any = None) -> float:
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    return _rate(y & p, y, _w(y, sample_weight))


def _fpr(y: Any, p: Any, sample_weight: Any = None) -> float:
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    return _rate(~y & p, ~y, _w(y, sample_weight))


def _precision(y: Any, p: Any, sample_weight: Any = None) -> float:
    y, p = np.asarray(y, bool), np.asarray(p, bool)
    return _rate(y & p, p, _w(y, sample_weight))


def _n(y: Any, p: Any, sample_weight: Any = None) -> float:
    return float(_w(y, sample_weight).sum())


def _n_true(y: Any, p: Any, sample_weight: Any = None) -> float:
    return float(_w(y, sample_weight)[np.asarray(y, bool)].sum())


def _n_pred(y: Any, p: Any, sample_weight: Any = None) -> float:
    return float(_w(y, sample_weight)[np.asarray(p, bool)].sum())


def _n_tp(y: Any, p: Any, sample_weight: Any = None) -> float:
    return float(_w(y, sample_weight)[np.asarray(y, bool) & np.asarray(p, bool)].sum())


def _compress(groups: pd.Series | pd.DataFrame, y: np.ndarray, p: np.ndarray
              ) -> tuple[pd.Series | pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """One row per distinct (group, label, prediction) with its count as weight.

    Every metric here depends on the rows only through these counts, so a
    weighted MetricFrame on the compressed rows gives fairlearn's exact numbers
    on the full data, without fairlearn's per-row conversions (minutes on
    millions of rows).
    """
    frame = groups.to_frame() if isinstance(groups, pd.Series) else groups
    names = list(frame.columns)
    data = frame.reset_index(drop=True).assign(__y=y, __p=p)
    # The count gets its own name: an unnamed Series's column is 0, as size()'s would be.
    counts = data.groupby([*names, "__y", "__p"], sort=True, observed=True).size() \
        .rename("__n").reset_index()
    weight = counts["__n"].to_numpy(dtype=float)
    small = counts[names]
    out_groups: pd.Series | pd.DataFrame = small.iloc[:, 0] if isinstance(groups, pd.Series) else small
    return out_groups, counts["__y"].to_numpy(), counts["__p"].to_numpy(), weight


def _auc_by_group(groups: pd.Series | pd.DataFrame, truth: np.ndarray, score: np.ndarray,
                  index: pd.Index) -> np.ndarray:
    """ROC-AUC per group (NaN when a group holds one class), in the order of ``index``."""
    from sklearn.metrics import roc_auc_score

    frame = groups.to_frame() if isinstance(groups, pd.Series) else groups
    keys = frame.reset_index(drop=True)
    by = list(keys.columns)
    positions = keys.groupby(by[0] if len(by) == 1 else by, sort=True, observed=True).indices
    values = {}
    for key, rows in positions.items():  # one call per group (not per row)
        t = truth[rows]
        values[key] = roc_auc_score(t, score[rows]) if t.any() and not t.all() else np.nan
    return pd.Series(values, dtype=float).reindex(index).to_numpy()


def _quantile_bins(col: pd.Series, n_bins: int = 5) -> pd.Series:
    """Labels of the quantile bins of a numeric column (missing stays missing)."""
    values = col.to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(values)
    edges = np.unique(np.quantile(values[finite], np.linspace(0, 1, n_bins + 1)))
    codes = np.clip(np.searchsorted(edges, values, side="left") - 1, 0, len(edges) - 2)
    labels = np.array([f"({edges[i]:.4g}, {edges[i + 1]:.4g}]" for i in range(len(edges) - 1)],
                      dtype=object)
    labels[0] = "[" + labels[0][1:]
    # Ordered categories: the groups appear low to high, not in text order.
    cats = pd.Categorical(np.where(finite, labels[codes], None), categories=list(labels),
                          ordered=True)
    return pd.Series(cats, index=col.index, name=col.name)


def _clean_groups(sensitive: pd.Series | pd.DataFrame) -> pd.Series | pd.DataFrame:
    if isinstance(sensitive, pd.Series):
        # fairlearn needs string names: an unnamed Series (or one named 0) gets one.
        name = "sensitive_feature" if sensitive.name is None else str(sensitive.name)
        frame = sensitive.rename(name).to_frame()
    else:
        frame = sensitive
    fixed = {}
    for position in range(frame.shape[1]):   # by position: labels may repeat or be ints
        col = frame.iloc[:, position]
        if is_numeric(col) and not pd.api.types.is_bool_dtype(col.dtype) \
                and col.nunique() > MAX_NUMERIC_GROUPS:
            # A continuous attribute (age, income): its quantile bins are the groups, as
            # in the worst-slices table, not one group per distinct value.
            col = _quantile_bins(col)
        if col.isna().any():
            col = col.astype(str).where(col.notna(), MISSING).astype(object)
        fixed[position] = col
    out = pd.DataFrame(fixed, index=frame.index)
    # Column names are strings (fairlearn requires it), unique, and must not collide with
    # the table's own columns.
    names: list[str] = []
    for label in frame.columns:
        name = str(label)
        while name in _RESERVED or name in names:
            name = f"{name}_"
        names.append(name)
    out.columns = names
    return out.iloc[:, 0] if isinstance(sensitive, pd.Series) else out


def fairness(pred: Predictions, sensitive: pd.Series | pd.DataFrame, *,
             random_state: Any = None) -> FairnessResult:
    """Metrics by group, the parity differences, and findings about small or unfair groups.

    Parameters
    ----------
    pred : Predictions
        The model's predictions on the test rows (``evaluate`` computes them once).
    sensitive : Series or DataFrame
        The group of each test row; several columns make intersectional groups.
    random_state : None, int or numpy Generator, default=None
        Seed of the Monte-Carlo p-values of sparse tables (``None`` is seed 0).

    Returns
    -------
    FairnessResult
        The table by group, fairlearn's differences with the p-values of their
        tests (``<name>_p_value``, and ``<name>_p_value_holm`` corrected over the
        tests of the call), findings, notes, and the tests themselves.

    Examples
    --------
    With no group effect nothing is "unfair", even when ten groups' selection
    rates spread by more than 0.1 by chance:

    >>> import numpy as np, pandas as pd
    >>> from mllife.evaluation._inputs import Predictions
    >>> rng = np.random.default_rng(0)
    >>> y, p = rng.integers(0, 2, 1000), rng.integers(0, 2, 1000)
    >>> pred = Predictions("binary", y, p, classes=np.array([0, 1]), positive_label=1)
    >>> result = fairness(pred, pd.Series(np.repeat(list("abcdefghij"), 100), name="g"))
    >>> round(result.differences["demographic_parity_difference"], 2) > 0.1
    True
    >>> [f.check for f in result.findings]
    []
    >>> result.tests[["metric", "dof", "finding"]]
                              metric  dof  finding
    0  demographic_parity_difference    9    False
    1      equalized_odds_difference   18    False
    """
    from fairlearn.metrics import (
        MetricFrame,
        count,
        demographic_parity_difference,
        equalized_odds_difference,
        selection_rate,
    )
    from sklearn.metrics import accuracy_score, mean_absolute_error

    groups = _clean_groups(sensitive)
    findings: list[Finding] = []
    notes: list[str] = []
    differences: dict[str, float] = {}
    y, p = pred.y_true, pred.y_pred
    if pred.task == "binary":
        pos = pred.positive_label
        yb, pb = (y == pos).astype(int), (p == pos).astype(int)
        cg, cy, cp, cw = _compress(groups, yb, pb)
        metrics: dict[str, Any] = {
            "n": _n, "accuracy": accuracy_score,
            "selection_rate": functools.partial(selection_rate, pos_label=1),
            "true_positive_rate": _tpr, "false_positive_rate": _fpr, "precision": _precision,
            "n_positive": _n_true, "n_predicted_positive": _n_pred, "n_true_positive": _n_tp,
        }
        frame = MetricFrame(metrics=metrics, y_true=cy, y_pred=cp, sensitive_features=cg,
                            sample_params={k: {"sample_weight": cw} for k in metrics})
        by_group = frame.by_group.copy()
        if pred.score is not None:
            by_group["roc_auc"] = _auc_by_group(groups, yb.astype(bool), pred.score, by_group.index)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            differences["demographic_parity_difference"] = float(
                demographic_parity_difference(cy, cp, sensitive_features=cg, sample_weight=cw))
            differences["equalized_odds_difference"] = float(
                equalized_odds_difference(cy, cp, sensitive_features=cg, sample_weight=cw))
        n_pos = by_group["n_positive"].to_numpy()
        n_neg = by_group["n"].to_numpy() - n_pos
        n_pp = by_group["n_predicted_positive"].to_numpy()
        reasons = np.full(len(by_group), "", dtype=object)
        for mask, text in ((n_pos == 0, f"true_positive_rate: no {pos!r} in group"),
                           (n_neg == 0, f"false_positive_rate: only {pos!r} in group"),
                           (n_pp == 0, f"precision: no {pos!r} predicted in group"),
                           ((n_pos == 0) | (n_neg == 0), "roc_auc: one class only in group")):
            if text.startswith("roc_auc") and pred.score is None:
                continue
            reasons = np.where(mask, np.where(reasons == "", text, reasons + "; " + text), reasons)
        by_group["undefined"] = reasons
        if (n_pos == 0).any() or (n_neg == 0).any():
            notes.append("fairlearn's equalized odds difference counts an undefined group rate as 0; "
                         "the groups concerned are listed in the 'undefined' column.")
    elif pred.task == "multiclass":
        cg, cy, cp, cw = _compress(groups, y, p)
        mc_metrics: dict[str, Any] = {"n": _n, "accuracy": accuracy_score}
        frame = MetricFrame(metrics=mc_metrics, y_true=cy, y_pred=cp, sensitive_features=cg,
                            sample_params={k: {"sample_weight": cw} for k in mc_metrics})
        by_group = frame.by_group.copy()
        by_group["undefined"] = ""
        notes.append("Demographic parity and equalized odds are defined for binary tasks only.")
    else:
        def mean_prediction(y_true: Any, y_pred: Any) -> float:
            return float(np.mean(y_pred))

        def mean_target(y_true: Any, y_pred: Any) -> float:
            return float(np.mean(y_true))

        frame = MetricFrame(metrics={"n": count, "mae": mean_absolute_error,
                                     "mean_prediction": mean_prediction, "mean_target": mean_target},
                            y_true=y, y_pred=p, sensitive_features=groups)
        by_group = frame.by_group.copy()
        by_group["undefined"] = ""
        notes.append("Demographic parity and equalized odds are defined for binary tasks only.")
    # fairlearn lists every combination of the features' values; one without test rows
    # has no metrics at all (NaN size): it is left out, and said so.
    absent = by_group["n"].isna().to_numpy() | (by_group["n"].to_numpy() == 0)
    if absent.any():
        labels = [" & ".join(map(str, key)) if isinstance(key, tuple) else str(key)
                  for key in by_group.index[absent]]
        notes.append(f"{len(labels)} of {len(by_group)} combinations of the sensitive features' values "
                     f"have no test rows and are left out of the fairness table: {', '.join(labels[:10])}"
                     + (", …" if len(labels) > 10 else "") + ".")
        by_group = by_group[~absent]
    by_group["n"] = by_group["n"].astype(np.int64)
    by_group["too_small"] = by_group["n"] < MIN_GROUP_ROWS
    if isinstance(groups, pd.Series) and isinstance(groups.dtype, pd.CategoricalDtype) \
            and groups.dtype.ordered:
        # fairlearn sorts groups as text; quantile bins read low to high.
        by_group = by_group.reindex([c for c in groups.cat.categories if c in by_group.index])
    by_group = by_group.reset_index()
    names = [str(c) for c in by_group.columns[: groups.shape[1] if groups.ndim == 2 else 1]]
    key = by_group[names].astype(str).agg(" & ".join, axis=1) if len(names) > 1 else \
        by_group[names[0]].astype(str)
    by_group.insert(0, "group", key)
    small = by_group[by_group["too_small"]]
    if len(small):
        findings.append(Finding(
            "fairness_small_groups", "warning", column=", ".join(names),
            message=(f"{len(small)} group(s) have fewer than {MIN_GROUP_ROWS} rows and are too small "
                     f"to judge{' (left out of the fairness tests)' if pred.task == 'binary' else ''}: "
                     f"{', '.join(small['group'].astype(str).tolist()[:10])}"),
            n_rows=int(small["n"].sum()), share=float(small["n"].sum() / max(len(y), 1)),
            threshold=MIN_GROUP_ROWS,
            suggestion="Collect more data for these groups or merge them before judging fairness.",
        ))
    tests = pd.DataFrame(columns=_TEST_COLUMNS)
    if pred.task == "binary":
        tests = _judge(by_group, differences, random_state=random_state)
        by_group = by_group.drop(columns=_COUNTS)
        for row in tests.itertuples(index=False):   # one per claim
            differences[f"{row.metric}_p_value"] = float(row.p_value)
            differences[f"{row.metric}_p_value_holm"] = float(row.p_value_holm)
        parity, parity_notes = _parity_findings(tests, ", ".join(names))
        findings += parity
        notes += parity_notes
    undefined = by_group[by_group["undefined"] != ""]
    if len(undefined):
        findings.append(Finding(
            "fairness_undefined_metrics", "info", column=", ".join(names),
            message=(f"{len(undefined)} group(s) have undefined metrics (NaN in the table): "
                     + "; ".join(f"{g}: {r}" for g, r in zip(undefined["group"], undefined["undefined"],
                                                             strict=True))[:400]),
        ))
    return FairnessResult(by_group=by_group, differences=differences, findings=findings, notes=notes,
                          tests=tests)
