"""Error analysis: the slices of the test set where the model is worst.

A slice is one value of a categorical feature, one quantile bin of a numeric
feature, or the intersection of two of those. Each row contributes a loss
(1/0 error for classification, absolute error for regression); per-slice sums
come from ``np.bincount`` over integer slice codes, so the cost is a few
vectorised passes per feature and per pair, never a loop over rows.

A slice is flagged ``significant`` by a one-sided test against the overall
loss, at a Bonferroni level that counts everything the search could have
looked at (see :func:`worst_slices`): the family-wise false-alarm rate on a
model with no weak slice is at most :data:`SLICE_ALPHA`.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

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
#: Every pair of features is searched when at most this many can be sliced; beyond, the pairs
#: of the this-many features with the worst single slices (the test still counts every pair).
PAIR_FEATURES = 12
#: Family-wise one-sided level of the ``significant`` flag: half of it for the single-feature
#: slices, half for the pair cells (all of it for single slices when there is no pair).
SLICE_ALPHA = 0.025
#: Rows of the slice table kept in the report.
TOP = 25
MISSING = "(missing)"

_COLUMNS = ["feature", "slice", "n", "share", "metric", "value", "overall", "gap",
            "ci_low", "ci_high", "p_value", "p_adjusted", "significant"]


class SliceSearch(NamedTuple):
    """The worst slices and what the multiple-testing correction counted."""

    #: The worst slices (see :func:`worst_slices`).
    table: pd.DataFrame
    #: Cells in the Bonferroni family: ``single_cells + pair_cells``.
    judged: int
    #: Single-feature slices judged (at least ``min_rows`` rows, not the whole set).
    single_cells: int
    #: Pair cells counted: every judged cell of the searched pairs, plus an upper bound
    #: on the judgeable cells of every pair not searched.
    pair_cells: int
    #: Pairs of features whose cells were computed.
    pairs_searched: int
    #: Pairs of sliceable features in all.
    pairs_total: int


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
    if kind in {"empty", "constant", "identifier", "text", "timedelta", "mixed"}:
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


class _Cells:
    """The judged cells, as parallel arrays (labels are made for the reported rows only)."""

    def __init__(self) -> None:
        self.a: list[np.ndarray] = []       # feature index
        self.b: list[np.ndarray] = []       # second feature index, -1 for a single slice
        self.code: list[np.ndarray] = []    # cell code (code_a * levels_b + code_b for a pair)
        self.n: list[np.ndarray] = []
        self.sum: list[np.ndarray] = []
        self.sum_sq: list[np.ndarray] = []

    def add(self, a: int, b: int, codes: np.ndarray, size: int, loss: np.ndarray,
            sq: np.ndarray | None, min_rows: int) -> np.ndarray:
        """Sum one feature (or pair) per cell; keep the cells that can be judged; their means."""
        count = np.bincount(codes, minlength=size)
        keep = np.flatnonzero((count >= min_rows) & (count < len(codes)))
        total = np.bincount(codes, loss, size)[keep]
        self.a.append(np.full(len(keep), a))
        self.b.append(np.full(len(keep), b))
        self.code.append(keep)
        self.n.append(count[keep])
        self.sum.append(total)
        # A 0/1 loss is its own square.
        self.sum_sq.append(total if sq is None else np.bincount(codes, sq, size)[keep])
        return total / count[keep]


def worst_slices(X: pd.DataFrame, loss: np.ndarray, *, rate: bool, metric: str,
                 exclude: tuple[str, ...] = (), min_rows: int | None = None,
                 top: int = TOP) -> SliceSearch:
    """The slices with the highest mean loss, each tested against the overall loss.

    Every value of a categorical feature and every quantile bin of a numeric
    one is a single-feature slice. Pairs: every pair of sliceable features
    when there are at most :data:`PAIR_FEATURES`, else every pair among the
    :data:`PAIR_FEATURES` features with the worst single slices. Slices with
    fewer than ``min_rows`` rows, or with every row, are not judged.

    Each judged slice gets a one-sided p-value of "worse than overall": the
    exact binomial test of its errors against the overall error rate when
    ``rate``, else the normal test of its mean loss against the overall mean,
    with the larger of the slice's own standard error and the one its mean has
    when its rows are drawn at random from all the rows (so tied losses, whose
    slices can have no spread at all, do not give p = 0).
    It is ``significant`` when the p-value is below :data:`SLICE_ALPHA` / 2
    divided by the number of single-feature slices (single slices), or
    :data:`SLICE_ALPHA` / 2 divided by the number of pair cells in the family
    (pair cells). The pair family counts what the search ranged over, not only
    what it looked at last: every judged cell of the searched pairs *and*, for
    each pair it did not search (its features were not among the worst), an
    upper bound on that pair's judgeable cells, ``min(q_a * q_b, n //
    min_rows)`` with ``q`` the feature's values of at least ``min_rows`` rows.
    Choosing the pairs after looking at the single slices therefore does not
    bias the test: with no weak slice, the chance that any slice is flagged is
    at most :data:`SLICE_ALPHA` (Bonferroni).

    Parameters
    ----------
    X : DataFrame
        Raw test features.
    loss : array
        Per-row loss (error indicator when ``rate``, else absolute error).
    rate : bool
        The loss is 0/1: Wilson interval and exact binomial test (else the
        normal interval and test).
    metric : str
        Name of the mean loss, shown in the table (``error_rate``, ``mae``).
    exclude : tuple of str, default=()
        Columns not to slice (the time column).
    min_rows : int, optional
        Smallest slice judged; default :func:`min_slice_rows`.
    top : int, default=25
        Rows of the table: the ``top`` worst slices by gap, plus the ``top``
        worst significant ones when they are not among them.

    Returns
    -------
    SliceSearch
        ``table`` has columns ``feature``, ``slice``, ``n``, ``share``,
        ``metric``, ``value``, ``overall``, ``gap`` (value minus overall:
        positive is worse), ``ci_low``/``ci_high`` (95%), ``p_value``
        (one-sided, unadjusted), ``p_adjusted`` (Bonferroni, capped at 1:
        ``significant`` is ``p_adjusted < SLICE_ALPHA``) and ``significant``,
        worst first; ``judged`` is the size of the family the correction
        counted (``single_cells + pair_cells``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"region": rng.choice(["north", "south", "east"], 3000),
    ...                   "age": rng.normal(45, 12, 3000)})
    >>> error = rng.random(3000) < np.where(X["region"] == "east", 0.3, 0.1)
    >>> search = worst_slices(X, error.astype(float), rate=True, metric="error_rate")
    >>> table = search.table.set_index(["feature", "slice"])
    >>> bool(table.loc[("region", "east"), "significant"])
    True
    >>> bool(table.loc[("region", "north"), "significant"])
    False
    >>> search.single_cells, search.pairs_searched, search.pair_cells   # 3 regions x 5 bins
    (8, 1, 15)
    """
    names, coded = code_features(X, exclude=exclude)
    return search_slices(names, coded, loss, rate=rate, metric=metric, min_rows=min_rows, top=top)


def code_features(X: pd.DataFrame, *, exclude: tuple[str, ...] = ()
                  ) -> tuple[list[str], list[tuple[np.ndarray, list[str]]]]:
    """The sliceable features of ``X``: their names and ``(codes, labels)`` (see :func:`worst_slices`)."""
    names: list[str] = []
    coded: list[tuple[np.ndarray, list[str]]] = []
    for name in X.columns:
        if name in exclude:
            continue
        res = _codes(X[name])
        if res is not None:
            names.append(str(name))
            coded.append(res)
    return names, coded


def search_slices(names: list[str], coded: list[tuple[np.ndarray, list[str]]], loss: np.ndarray,
                  *, rate: bool, metric: str, min_rows: int | None = None,
                  top: int = TOP) -> SliceSearch:
    """:func:`worst_slices` on features already coded by :func:`code_features`."""
    loss = np.asarray(loss, dtype=float)
    n = len(loss)
    min_rows = min_slice_rows(n) if min_rows is None else min_rows
    overall = float(loss.mean()) if n else np.nan
    sq = None if rate else loss * loss
    n_features = len(coded)
    pairs_total = n_features * (n_features - 1) // 2
    empty = SliceSearch(pd.DataFrame(columns=_COLUMNS), 0, 0, 0, 0, pairs_total)
    if n == 0 or n_features == 0:
        return empty

    cells = _Cells()
    worst = np.full(n_features, -np.inf)
    levels = np.array([len(labels) for _, labels in coded], dtype=np.int64)
    # Values of each feature with at least min_rows rows: a pair cell lies inside one of each.
    large = np.zeros(n_features, dtype=np.int64)
    for i, (codes, _) in enumerate(coded):
        means = cells.add(i, -1, codes, levels[i], loss, sq, min_rows)
        if len(means):
            worst[i] = means.max()
        large[i] = int((np.bincount(codes, minlength=levels[i]) >= min_rows).sum())
    single_cells = int(sum(len(c) for c in cells.code))

    if n_features <= PAIR_FEATURES:
        chosen = np.arange(n_features)
    else:  # the worst single slices first; ties keep the column order
        chosen = np.sort(np.argsort(-worst, kind="stable")[:PAIR_FEATURES])
    searched_cells = 0
    for a, b in itertools.combinations(chosen.tolist(), 2):
        searched_cells += len(cells.add(a, b, coded[a][0] * levels[b] + coded[b][0],
                                        levels[a] * levels[b], loss, sq, min_rows))
    pairs_searched = len(chosen) * (len(chosen) - 1) // 2
    # Pairs not searched: an upper bound on their judgeable cells (disjoint cells of
    # min_rows rows or more, inside the large values of each feature).
    bound = np.minimum(np.outer(large, large), n // max(min_rows, 1))
    in_search = np.zeros(n_features, dtype=bool)
    in_search[chosen] = True
    unsearched = np.triu(~np.outer(in_search, in_search), k=1)
    pair_cells = searched_cells + int(bound[unsearched].sum())

    size = np.concatenate(cells.n).astype(float)
    if len(size) == 0:
        return SliceSearch(pd.DataFrame(columns=_COLUMNS), 0, 0, pair_cells, pairs_searched,
                           pairs_total)
    total = np.concatenate(cells.sum)
    is_pair = np.concatenate(cells.b) >= 0
    value = total / size
    z = 1.959963984540054
    if rate:
        low, high = wilson_interval(total, size)
        # Exact: Wilson's bound at a large z is too lenient for a few errors in a small
        # slice (3 of 33 against 1.3% overall is p = 0.009, common among hundreds of slices).
        p_value = stats.binom.sf(np.round(total) - 1, size.astype(np.int64), overall)
    else:
        total_sq = np.concatenate(cells.sum_sq)
        var = np.maximum(total_sq / size - value**2, 0) * size / np.maximum(size - 1, 1)
        se = np.sqrt(var / size)
        low, high = value - z * se, value + z * se
        # The slice's own standard error is not enough alone: with tied losses (integer
        # targets, rounded predictions) a slice whose rows all share the most common loss
        # has se = 0 and would get p = 0 (64% false alarms on a model with no weak slice).
        # The slice mean is also held to the standard error it has when its rows are drawn
        # without replacement from all the rows (the null that the slice is no different),
        # and the larger of the two is used: the test rejects only when both would.
        spread = float(loss.var()) if n > 1 else 0.0
        se_null = np.sqrt(spread / size * (n - size) / max(n - 1, 1))
        se_test = np.maximum(se, se_null)
        with np.errstate(divide="ignore", invalid="ignore"):
            p_value = np.where(se_test > 0, stats.norm.sf((value - overall) / se_test),
                               np.where(value > overall, 0.0, 1.0))
    # Bonferroni with weights: SLICE_ALPHA / 2 over the single slices, SLICE_ALPHA / 2 over
    # the pair family (all of it over the single slices when no pair can be judged).
    weight = np.where(is_pair, 2.0 * pair_cells, single_cells * (2.0 if pair_cells else 1.0))
    p_adjusted = np.minimum(p_value * weight, 1.0)
    significant = p_adjusted < SLICE_ALPHA

    gap = value - overall
    order = np.lexsort((-size, -gap))            # worst gap first, larger slices first on ties
    rows = order[:top]
    flagged = order[significant[order]][:top]
    rows = order[np.isin(order, np.union1d(rows, flagged))]
    a_idx = np.concatenate(cells.a)[rows]
    b_idx = np.concatenate(cells.b)[rows]
    codes_out = np.concatenate(cells.code)[rows]
    features, labels = [], []
    for a, b, code in zip(a_idx.tolist(), b_idx.tolist(), codes_out.tolist(), strict=True):
        if b < 0:   # one loop per reported row (at most 2 * top), not per data row
            features.append(names[a])
            labels.append(coded[a][1][code])
        else:
            ca, cb = divmod(code, len(coded[b][1]))
            features.append(f"{names[a]} & {names[b]}")
            labels.append(f"{coded[a][1][ca]} & {coded[b][1][cb]}")
    table = pd.DataFrame({
        "feature": features, "slice": labels, "n": size[rows].astype(np.int64),
        "share": size[rows] / n, "metric": metric, "value": value[rows], "overall": overall,
        "gap": gap[rows], "ci_low": low[rows], "ci_high": high[rows],
        "p_value": p_value[rows], "p_adjusted": p_adjusted[rows],
        "significant": significant[rows],
    })
    return SliceSearch(table, single_cells + pair_cells, single_cells, pair_cells,
                       pairs_searched, pairs_total)
