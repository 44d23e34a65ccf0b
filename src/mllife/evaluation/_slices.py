"""Error analysis: the slices of the test set where the model is worst.

A slice is one value of a categorical feature, one quantile bin of a numeric
feature, or the intersection of two of those. Each row contributes a loss
(1/0 error for classification, absolute error for regression); per-slice sums
come from ``np.bincount`` over integer slice codes, so the cost is a few
vectorised passes per feature and per pair, never a loop over rows.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from scipy import stats

from .._frame import infer_kind, is_datetime, is_numeric

#: Quantile bins per numeric feature.
N_BINS = 5
#: A numeric feature with at most this many distinct values is treated as categorical.
MAX_DISCRETE = 10
#: A categorical feature with more distinct values than this is skipped (IDs, free text).
MAX_CATEGORIES = 50
#: Pairs are formed among this many features (those with the worst single slices).
PAIR_FEATURES = 8
#: Rows of the slice table kept in the report.
TOP = 25
MISSING = "(missing)"


def min_slice_rows(n: int) -> int:
    """Slices smaller than this are not judged: ``max(30, 0.5% of the rows)``."""
    return max(30, math.ceil(0.005 * n))


def wilson_interval(k: np.ndarray, n: np.ndarray, z: float | np.ndarray = 1.959963984540054
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``k`` successes out of ``n`` (vectorised)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    # No successes: the lower bound is exactly 0 (not 5.6e-17); all successes: the upper is 1.
    low = np.where(k <= 0, 0.0, np.clip(centre - half, 0, 1))
    high = np.where(k >= n, 1.0, np.clip(centre + half, 0, 1))
    return low, high


def _codes(col: pd.Series) -> tuple[np.ndarray, list[str]] | None:
    """Integer slice codes of one feature and the label of each code, or None to skip."""
    if is_datetime(col):
        return None
    kind = infer_kind(col)
    if kind in {"empty", "constant", "id", "text", "timedelta", "mixed"}:
        return None
    if is_numeric(col) and col.nunique() > MAX_DISCRETE:
        values = col.to_numpy(dtype=float, na_value=np.nan)
        finite = values[np.isfinite(values)]
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, N_BINS + 1)))
        if len(edges) < 2:
            return None
        # Bin i holds edges[i] < x <= edges[i+1]; the first bin includes its lower edge.
        codes = np.clip(np.searchsorted(edges, values, side="left") - 1, 0, len(edges) - 2)
        labels = [f"({edges[i]:.4g}, {edges[i + 1]:.4g}]" for i in range(len(edges) - 1)]
        labels[0] = "[" + labels[0][1:]
        missing = ~np.isfinite(values)
        if missing.any():
            codes = np.where(missing, len(labels), codes)
            labels.append(MISSING)
        return codes.astype(np.int64), labels
    uniques = col.nunique(dropna=True)
    if uniques > MAX_CATEGORIES or uniques < 2:
        return None
    codes, cats = pd.factorize(col, sort=True, use_na_sentinel=True)
    # Floats as the bins show them ("-0.04464", not "-0.044641636506989144"), unless
    # rounding would merge two values.
    labels = [f"{c:.4g}" if isinstance(c, float | np.floating) else str(c) for c in cats]
    if len(set(labels)) < len(labels):
        labels = [str(c) for c in cats]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(labels), codes)
        labels.append(MISSING)
    return np.asarray(codes, dtype=np.int64), labels


def worst_slices(X: pd.DataFrame, loss: np.ndarray, *, rate: bool, metric: str,
                 exclude: tuple[str, ...] = (), min_rows: int | None = None,
                 top: int = TOP) -> tuple[pd.DataFrame, int]:
    """The slices with the highest mean loss, and how many slices were judged.

    Parameters
    ----------
    X : DataFrame
        Raw test features.
    loss : array
        Per-row loss (error indicator when ``rate``, else absolute error).
    rate : bool
        Use the Wilson interval (loss is 0/1) rather than the normal one.
    metric : str
        Name of the mean loss, shown in the table (``error_rate``, ``mae``).

    Returns
    -------
    (DataFrame, int)
        Columns ``feature``, ``slice``, ``n``, ``share``, ``metric``, ``value``,
        ``overall``, ``gap`` (value minus overall: positive is worse),
        ``ci_low``/``ci_high`` (95%) and ``significant`` (above the overall
        value at a Bonferroni-corrected one-sided level 0.025 / slices judged:
        the exact binomial test for a rate, the normal interval for a mean
        loss); the number of slices judged.
    """
    n = len(loss)
    min_rows = min_slice_rows(n) if min_rows is None else min_rows
    overall = float(loss.mean()) if n else np.nan
    sq = loss * loss
    coded: dict[str, tuple[np.ndarray, list[str]]] = {}
    for name in X.columns:
        if name in exclude:
            continue
        res = _codes(X[name])
        if res is not None:
            coded[str(name)] = res
    parts: list[pd.DataFrame] = []

    def collect(feature: str, codes: np.ndarray, labels: list[str]) -> pd.DataFrame:
        size = len(labels)
        count = np.bincount(codes, minlength=size)
        total = np.bincount(codes, loss, size)
        total_sq = np.bincount(codes, sq, size)
        keep = count >= min_rows
        part = pd.DataFrame({"feature": feature, "slice": np.asarray(labels, dtype=object)[keep],
                             "n": count[keep], "sum": total[keep], "sum_sq": total_sq[keep]})
        parts.append(part)
        return part

    worst: dict[str, float] = {}
    for name, (codes, labels) in coded.items():
        part = collect(name, codes, labels)
        worst[name] = float((part["sum"] / part["n"]).max()) if len(part) else -np.inf
    pair_names = sorted(worst, key=lambda c: -worst[c])[:PAIR_FEATURES]
    for a, b in itertools.combinations(pair_names, 2):
        codes_a, labels_a = coded[a]
        codes_b, labels_b = coded[b]
        combined = codes_a * len(labels_b) + codes_b
        labels = [f"{la} & {lb}" for la in labels_a for lb in labels_b]
        collect(f"{a} & {b}", combined, labels)
    columns = ["feature", "slice", "n", "share", "metric", "value", "overall", "gap",
               "ci_low", "ci_high", "significant"]
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if table.empty or n == 0:
        return pd.DataFrame(columns=columns), 0
    # A slice equal to the whole test set says nothing.
    table = table[table["n"] < n]
    judged = len(table)
    if judged == 0:
        return pd.DataFrame(columns=columns), 0
    size = table["n"].to_numpy(dtype=float)
    value = table["sum"].to_numpy() / size
    z_adj = float(stats.norm.ppf(1 - 0.05 / (2 * judged)))
    if rate:
        errors = table["sum"].to_numpy()
        low, high = wilson_interval(errors, size)
        # The exact one-sided binomial test at the same Bonferroni level: Wilson's bound at
        # a large z is too lenient for a few errors in a small slice (3 of 33 against 1.3%
        # overall is p = 0.009, common among hundreds of slices, yet above the bound).
        p_high = stats.binom.sf(np.round(errors) - 1, size.astype(np.int64), overall)
        significant = p_high < 0.05 / (2 * judged)
    else:
        var = np.maximum(table["sum_sq"].to_numpy() / size - value**2, 0) * size / np.maximum(size - 1, 1)
        se = np.sqrt(var / size)
        low, high = value - 1.959963984540054 * se, value + 1.959963984540054 * se
        significant = value - z_adj * se > overall
    out = pd.DataFrame({
        "feature": table["feature"].to_numpy(), "slice": table["slice"].to_numpy(),
        "n": table["n"].to_numpy(dtype=np.int64), "share": size / n, "metric": metric,
        "value": value, "overall": overall, "gap": value - overall,
        "ci_low": low, "ci_high": high, "significant": significant,
    })
    out = out.sort_values(["gap", "n"], ascending=[False, False], kind="stable")
    return out.head(top).reset_index(drop=True), judged
