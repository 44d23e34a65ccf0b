"""One column of a drift comparison: its statistics and every test that can mark it drifted.

:func:`compare_column` fills a report row (statistic, effect size, rates,
note) and lists the column's :class:`Test` objects: the distribution test,
the missing-rate and inf-rate tests, the unseen-category test. Permutation
tests are only *prepared* here; :mod:`._compare` runs them once it knows the
size of the family (which sets the number of draws), corrects every p-value
of every column together and decides.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._columns import ColumnKind, column_kind, kind_of_counts, kind_of_numbers
from .._errors import InputError
from . import _auto, _null
from . import _kernels as k
from ._sketch import CategoricalSummary, NumericSummary
from ._statistics import StatisticSpec, check_result, get_statistic

#: A categorical column with at least this many reference values, all distinct, is not compared
#: (every current value would be unseen): an identifier, free text, dates or numbers as text.
ID_MIN_ROWS = 50


@dataclass
class Test:
    """One hypothesis test that can mark a column drifted.

    ``effect`` is the test's effect requirement (the column is drifted by this
    test when its corrected p-value is below ``alpha`` *and* ``effect``
    holds); ``label`` says what fired. A prepared permutation runs later,
    then ``finish`` updates the row (null mean, note) from its result.
    """

    kind: str  # "distribution", "missing", "inf" or "unseen"
    label: str
    p_value: float | None = None
    effect: bool = True
    permutation: _null.Permutation | None = None
    finish: Callable[[_null.PermutationResult, int], None] | None = None
    p_adjusted: float | None = None


def add_note(row: dict[str, Any], text: str) -> None:
    if text:
        row["note"] = f"{row['note']}; {text}" if row.get("note") else text


def reference_kind(profile: Any, col: Any) -> ColumnKind | None:
    """The kind of a reference column (:mod:`mllife._columns`, the detector every module uses).

    The kind decided on the reference rows when the column was profiled
    (``drift_report``, and ``DriftProfile.fit``, which keeps it), so both
    paths skip the same identifiers. A profile without it (saved before it was
    kept, or merged from profiles that disagree) is judged from its summary:
    category counts, or exact numbers (read without their row order, so a
    counter is recognised by its name or its dense range only); ``None`` for
    a sketched numeric summary, whose uniqueness cannot be told.
    """
    if getattr(col, "column_kind", None) is not None:
        return col.column_kind
    frame = getattr(profile, "_frame", None)
    if isinstance(frame, pd.DataFrame) and col.name in frame.columns:
        return column_kind(frame[col.name], name=col.name)
    if col.family == "datetime":
        return None
    if col.categorical is not None:
        summary = col.categorical
        return kind_of_counts(pd.Series(list(summary.labels), dtype=object), summary.counts,
                              name=col.name, n_missing=summary.n_missing)
    numbers = col.numeric
    if numbers is None or not numbers.exact:
        return None
    return kind_of_numbers(numbers.values, name=col.name, n_rows=numbers.n_rows,
                           n_missing=numbers.n_rows - numbers.values.size, ordered=False,
                           integer_dtype=col.dtype.lower().startswith(("int", "uint")), dtype=col.dtype)


def identifier_status(profile: Any, col: Any) -> str | None:
    """The status of an identifier column, which is never compared (nor ever drifted), or None.

    Identifiers (unique per row, shaped like a key, not a measurement: the one
    rule of :mod:`mllife._columns`) name rows; new rows bring new names, so
    comparing their values says nothing about the data.
    """
    if col is None:
        return None
    kind = reference_kind(profile, col)
    if kind is None or kind.kind != "identifier":
        return None
    return f"identifier-like ({kind.reason}): not compared"


def spec_for(method: str, kind: str, row: dict[str, Any]) -> StatisticSpec | None:
    if method == "auto":
        return None
    spec = get_statistic(method)
    if kind not in spec.kinds:
        row["status"] = f"method {method!r} does not apply to {kind} columns; used auto"
        return None
    return spec


def needs_threshold(spec: StatisticSpec, threshold: float | None) -> float:
    value = threshold if threshold is not None else spec.threshold
    if value is None:
        raise InputError(f"method {spec.name!r} has no p-value and no default threshold",
                         expected="a threshold=... for it")
    return value


def rate_test(row: dict[str, Any], prefix: str, ref_events: int, ref_rows: int, cur_events: int, cur_rows: int,
              alpha: float) -> None:
    """Rates of missing (or inf) values on both sides and, when any, Fisher's exact test of the change.

    The test joins the family only when the pooled sample has such values and
    some split of them could reach ``alpha`` (Tarone): both depend on the
    pooled sample only, so leaving the others out keeps every level.
    """
    ref_rate = ref_events / ref_rows if ref_rows > 0 else None
    cur_rate = cur_events / cur_rows if cur_rows > 0 else None
    row[f"{prefix}_reference"], row[f"{prefix}_current"] = ref_rate, cur_rate
    if ref_rate is None or cur_rate is None:
        return
    change = cur_rate - ref_rate
    if prefix == "missing":
        row["missing_change"] = change
    if ref_events + cur_events == 0:
        return
    p, smallest = k.fisher_test(ref_events, ref_rows, cur_events, cur_rows)
    if smallest > alpha:
        return
    row["_tests"].append(Test(prefix, f"{prefix} rate {ref_rate:.1%} -> {cur_rate:.1%}", p,
                              abs(change) >= _auto.MISSING_CHANGE))


def _distribution(row: dict[str, Any], p: float | None, permutation: _null.Permutation | None = None,
                  finish: Callable[[_null.PermutationResult, int], None] | None = None) -> Test | None:
    if p is None and permutation is None:
        return None
    test = Test("distribution", str(row["method"]), p, True, permutation, finish)
    row["p_value"] = p
    row["_tests"].append(test)
    return test


def _effect_decision(row: dict[str, Any], test: Test | None, corrected: float, threshold: float) -> None:
    row["statistic_corrected"], row["threshold"], row["decision"] = corrected, threshold, "effect+p"
    if test is not None:
        test.effect = corrected >= threshold
        test.label = f"{row['method']} {corrected:.3g} >= {threshold:g} (bias-corrected)"


def _permutation_note(row: dict[str, Any], what: str) -> Callable[[_null.PermutationResult, int], None]:
    def finish(result: _null.PermutationResult, permutations: int) -> None:
        add_note(row, f"{what}: permutation p-value ({result.draws} of R={permutations} draws)")
    return finish


# ---- numeric ------------------------------------------------------------------------
def compare_numeric(row: dict[str, Any], name: Hashable, ref: NumericSummary, series: pd.Series, method: str,
                    threshold: float | None, large_sample: int, alpha: float, n_bins: int) -> np.ndarray | None:
    """Fill ``row`` for a numeric column; returns the current finite values (for the overlay)."""
    cur = k.split_numeric(series, name=f"column {name!r}")
    rate_test(row, "missing", ref.n_missing, ref.n_rows, cur.n_missing, cur.n_total, alpha)
    rate_test(row, "inf", ref.n_posinf + ref.n_neginf, ref.n_rows, cur.n_posinf + cur.n_neginf, cur.n_total, alpha)
    if ref.n == 0 or cur.finite.size == 0:
        row["status"] = "no finite values in " + ("reference" if ref.n == 0 else "current")
        if ref.n == 0 and cur.finite.size == 0:
            row["status"] = "no finite values in either"
        return None
    n_cur = int(cur.finite.size)
    merged = k.merge_sorted(ref.values, cur.finite, ref.weights)
    d, w_raw = k.ks_and_wasserstein(merged)
    scale = ref.std if ref.std > 0 else _pooled_std(ref, cur.finite)
    w = w_raw / scale
    w_corrected = max(w - k.wasserstein_null_mean(merged) / scale, 0.0)
    cur_hist = k.bin_counts(cur.finite, ref.edges)
    row["psi"] = k.psi_counts(ref.hist, cur_hist)
    row["effect_size"] = w_corrected
    # A sketched reference (DriftProfile above exact_size, or merged) is known only up to its rank
    # error: permuting its points as if they were rows gives too narrow a null (30% false alarms at
    # 100k vs 100k rows with 256 points). Its tests are then KS at D minus that bound: valid whatever
    # the data, since the exact KS statistic is at least that.
    sketched = not ref.exact
    ties = not sketched and merged.values.size <= _null.MAX_CELLS and merged.values.size < ref.n + n_cur

    def sketch_ks_p() -> float:
        slack = float(ref.rank_error)
        add_note(row, f"sketched reference: KS p-value at D - {slack:.2g} (the sketch's rank-error bound; "
                      "conservative)")
        return k.ks_pvalue(max(d - slack, 0.0), ref.n, n_cur)

    def ks_test() -> Test | None:
        if ties:  # the continuous formula is conservative with ties: exact permutation over the values
            cells = _null.numeric_cells(merged)
            perm = _null.cell_permutation(cells, _null.ks_statistic(cells))
            return _distribution(row, None, perm, _permutation_note(
                row, f"ks exact over {cells.size} distinct values (ties)"))
        return _distribution(row, sketch_ks_p() if sketched else k.ks_pvalue(d, ref.n, n_cur))

    spec = spec_for(method, "numeric", row)
    if spec is None:
        chosen, decision = _auto.choose("numeric", ref.n, n_cur, large_sample)
        row["method"], row["decision"] = chosen, decision
        row["statistic"] = d if chosen == "ks" else w
        test = ks_test()
        if decision == "effect+p":
            thr = threshold if threshold is not None else _auto.AUTO_THRESHOLDS[chosen]
            _effect_decision(row, test, w_corrected, thr)
            add_note(row, "p-value of ks")
        return cur.finite
    row["method"], row["decision"] = spec.name, "p"
    if spec.name == "ks":
        row["statistic"] = d
        ks_test()
    elif spec.name == "anderson":
        if not ref.exact:
            raise InputError("anderson needs the exact reference sample, this profile keeps a sketch",
                             expected="a larger exact_size or another method")
        row["statistic"], p = k.anderson_from(merged)
        _distribution(row, p)
    elif spec.name in ("wasserstein", "energy"):
        thr = needs_threshold(spec, threshold)
        cells = _null.numeric_cells(merged)
        power = 1 if spec.name == "wasserstein" else 2
        if power == 1:
            stat, corrected = w, w_corrected
        else:
            sq = 2.0 * k.cdf_distance(merged, 2) ** 2
            stat = math.sqrt(sq)
            corrected = math.sqrt(max(sq - 2.0 * k.energy_null_mean_sq(merged), 0.0))
        row["statistic"] = stat
        if sketched:
            test = _distribution(row, sketch_ks_p())
        else:
            perm = _null.cell_permutation(cells, _null.cdf_statistic(cells, power))
            test = _distribution(row, None, perm, _permutation_note(row, _cells_text(spec.name, cells)))
        _effect_decision(row, test, corrected, thr)
    elif spec.name in ("psi", "jensen_shannon", "hellinger"):
        thr = needs_threshold(spec, threshold)
        kind = {"psi": "psi", "jensen_shannon": "js", "hellinger": "hellinger"}[spec.name]
        stat = {"psi": k.psi_counts, "jensen_shannon": k.js_counts, "hellinger": k.hellinger_counts}[spec.name](
            ref.hist, cur_hist)
        row["statistic"] = stat
        cells = _null.numeric_cells(merged)
        squared = _squared(_null.binned_divergence_statistic(cells, kind, n_bins), kind)
        perm = _null.cell_permutation(cells, squared, want_mean=True)
        if sketched:  # the draws give the null mean only; the p-value is the sketch's conservative KS
            perm.max_draws = _null.MEAN_DRAWS
        test = _distribution(row, sketch_ks_p() if sketched else None, perm)
        assert test is not None
        _effect_decision(row, test, stat, thr)
        note = _permutation_note(row, f"{spec.name} on {n_bins} reference-quantile bins over {cells.size} "
                                 + ("distinct values" if cells.exact else "pooled-quantile bins")
                                 + (" (null mean only)" if sketched else ""))

        def finish(result: _null.PermutationResult, permutations: int) -> None:
            _effect_decision(row, test, _corrected(kind, stat, result.null_mean or 0.0), thr)
            note(result, permutations)
        test.finish = finish
    else:
        weights = ref.weights  # a sketch: each point repeated by its rounded weight for the permutations
        ref_values = ref.values if weights is None else np.repeat(ref.values, np.rint(weights).astype(np.int64))
        _user_statistic(row, spec, ref.values, cur.finite, ref_values, threshold)
    return cur.finite


def _cells_text(what: str, cells: _null.Cells) -> str:
    how = "distinct values" if cells.exact else "pooled-quantile bins"
    return f"{what} over {cells.size} {how}"


def _squared(stat: _null.CellStatistic, kind: str) -> _null.CellStatistic:
    """The statistic on the scale where its null mean is subtracted (divergences, not distances)."""
    if kind == "psi":
        return stat
    return lambda r: np.asarray(stat(r) ** 2)


def _corrected(kind: str, stat: float, null_mean: float) -> float:
    """A distance minus its expected value with no drift (on the divergence scale for JS and Hellinger)."""
    if kind == "psi":
        return max(stat - null_mean, 0.0)
    return math.sqrt(max(stat * stat - null_mean, 0.0))


def _user_statistic(row: dict[str, Any], spec: StatisticSpec, ref_values: np.ndarray, cur_values: np.ndarray,
                    pooled_ref: np.ndarray, threshold: float | None) -> None:
    stat, p = check_result(spec.fn(ref_values, cur_values), name=spec.name)
    row["statistic"] = stat
    if p is not None:
        _distribution(row, p)
        return
    thr = needs_threshold(spec, threshold)

    def call(a: Any, b: Any) -> float:
        return check_result(spec.fn(a, b), name=spec.name)[0]

    perm = _null.raw_permutation(pooled_ref, cur_values, call)
    test = _distribution(row, None, perm)
    assert test is not None
    _effect_decision(row, test, stat, thr)

    def finish(result: _null.PermutationResult, permutations: int) -> None:
        corrected = stat - (result.null_mean or 0.0)
        _effect_decision(row, test, corrected, thr)
        most = min(permutations, _null.user_draws(pooled_ref.size + cur_values.size))
        capped = (f"; draws capped at {most} for {pooled_ref.size + cur_values.size:,} pooled values, smallest "
                  f"p-value {1 / (most + 1):.2g}") if most < min(permutations, _null.USER_PERMUTATIONS) else ""
        add_note(row, f"{spec.name}: permutation p-value ({result.draws} of at most "
                      f"{most} draws of the pooled values{capped})")
    test.finish = finish


def _pooled_std(ref: NumericSummary, cur: np.ndarray) -> float:
    n = ref.n + cur.size
    mean = (ref.mean * ref.n + float(cur.sum())) / n
    m2 = ref.m2 + ref.n * (ref.mean - mean) ** 2 + float(np.sum((cur - mean) ** 2))
    sd = math.sqrt(m2 / n)
    return sd if sd > 0 else 1.0


# ---- categorical --------------------------------------------------------------------------
def compare_categorical(row: dict[str, Any], ref: CategoricalSummary, series: pd.Series, method: str,
                        threshold: float | None, large_sample: int,
                        alpha: float) -> tuple[list[str], np.ndarray, np.ndarray] | None:
    """Fill ``row`` for a categorical column; returns the aligned table (for the overlay)."""
    cur_labels, cur_counts, cur_missing = k.category_counts(series)
    n_cur = int(cur_counts.sum())
    rate_test(row, "missing", ref.n_missing, ref.n_rows, cur_missing, n_cur + cur_missing, alpha)
    if ref.n == 0 or n_cur == 0:
        row["status"] = "no values in " + ("reference" if ref.n == 0 else "current")
        if ref.n == 0 and n_cur == 0:
            row["status"] = "no values in either"
        return None
    if ref.n >= ID_MIN_ROWS and len(ref.labels) == ref.n:
        # Identifiers are skipped before (identifier_status); other text unique per row (free
        # text, dates or numbers stored as text) would make every current value unseen.
        row["status"] = "every reference value unique (free text, dates or numbers as text): not compared"
        return None
    labels, rc, cc = k.align_counts(list(ref.labels), ref.counts, cur_labels, cur_counts)
    _unseen_test(row, rc, cc)
    n1, n2 = float(rc.sum()), float(cc.sum())
    ranks = k.label_ranks(labels)
    table = k.pool_sparse(rc, cc, key=ranks)
    js = k.js_counts(rc, cc)
    totals = rc + cc
    js_corrected = _corrected("js", js, k.divergence_null_mean("js", totals, n1, n2) / math.log(2.0))
    row["psi"] = k.psi_counts(rc, cc)
    row["effect_size"] = js_corrected
    spec = spec_for(method, "categorical", row)
    if spec is None:
        chosen, decision = _auto.choose("categorical", ref.n, n_cur, large_sample)
        row["method"], row["decision"] = chosen, decision
        chi, test = _table_test(row, "chi2", table)
        row["statistic"] = chi if chosen == "chi2" else js
        if decision == "effect+p":
            thr = threshold if threshold is not None else _auto.AUTO_THRESHOLDS[chosen]
            _effect_decision(row, test, js_corrected, thr)
            add_note(row, "p-value of chi2")
        return labels, rc, cc
    row["method"], row["decision"] = spec.name, "p"
    if spec.name in ("chi2", "g_test", "cramers_v"):
        stat, _ = _table_test(row, spec.name, table)
        row["statistic"] = math.sqrt(stat / (n1 + n2)) if spec.name == "cramers_v" else stat
    elif spec.name == "proportion_z":
        top = int(np.argmax(totals))
        z, p = k.proportion_z_counts(rc[top], n1, cc[top], n2)
        events = rc[top] + cc[top]
        if min(events, n1 + n2 - events) * min(n1, n2) / (n1 + n2) < k.MIN_EXPECTED:
            p = k.fisher_counts(rc[top], n1, cc[top], n2)
            add_note(row, f"proportion_z: Fisher's exact p-value (expected count < {k.MIN_EXPECTED:g})")
        row["statistic"] = z
        _distribution(row, p)
    elif spec.name in ("psi", "jensen_shannon", "hellinger"):
        thr = needs_threshold(spec, threshold)
        kind = {"psi": "psi", "jensen_shannon": "js", "hellinger": "hellinger"}[spec.name]
        stat = {"psi": row["psi"], "jensen_shannon": js, "hellinger": k.hellinger_counts(rc, cc)}[spec.name]
        row["statistic"] = stat
        bias = k.divergence_null_mean(kind, totals, n1, n2)
        if kind == "js":
            bias /= math.log(2.0)
        corrected = _corrected(kind, stat, bias)
        cells = _null.categorical_cells(rc, cc, ranks)
        perm = _null.cell_permutation(cells, _squared(_null.divergence_statistic(cells, kind), kind))
        how = "categories" if cells.exact else "cells (largest categories, the rest merged by pooled total)"
        test = _distribution(row, None, perm, _permutation_note(
            row, f"{spec.name} over {cells.size} {how}"))
        _effect_decision(row, test, corrected, thr)
    else:
        values = np.array(labels, dtype=object)
        ref_values = np.repeat(values, rc.astype(np.int64))
        _user_statistic(row, spec, ref_values, np.repeat(values, cc.astype(np.int64)), ref_values, threshold)
    return labels, rc, cc


def _table_test(row: dict[str, Any], name: str, table: k.Table) -> tuple[float, Test | None]:
    """Chi-square (or G) test of the pooled table: its statistic and the test joined to the row.

    Without pooling (every expected count at least 5) the chi-square
    distribution gives the p-value; when sparse categories had to be pooled,
    the permutation distribution of the same statistic on the pooled cells
    does, exact at any size (the chi-square approximation still runs a little
    above its level there, and G's far above).
    """
    add_note(row, table.note(name))
    if table.cells < 2:
        return 0.0, None
    if name == "g_test":
        stat, p = k.g_counts(table.ref, table.cur)
    else:
        stat, p = k.chi2_counts(table.ref, table.cur)
    if table.n_pooled == 0:
        return stat, _distribution(row, p)
    cells = _null.Cells((table.ref + table.cur).astype(np.int64), table.ref.astype(np.int64))
    perm = _null.table_permutation(cells, "g" if name == "g_test" else "chi2")
    note = _permutation_note(row, name)

    def finish(result: _null.PermutationResult, permutations: int) -> None:
        if result.cells is not None:
            add_note(row, f"{name}: {cells.size} cells too many to permute R={permutations} times, "
                          f"the permutation test ran on {result.cells} merged cells")
        note(result, permutations)
    return stat, _distribution(row, None, perm, finish)


def _unseen_test(row: dict[str, Any], rc: np.ndarray, cc: np.ndarray) -> None:
    """The share of current values in categories the reference never had, and its test.

    It joins the family whenever some pooled category could fall entirely in
    the current sample (a property of the pooled sample, so the selection
    keeps the level); its effect requirement is the excess over the
    Good-Turing share a sample of the same distribution meets by chance.
    """
    found = _null.unseen(rc, cc)
    row["unseen_share"], row["unseen_expected"] = found.share, found.expected
    if not found.possible:
        return
    label = f"{found.share:.1%} of values in unseen categories" + (
        f" ({found.expected:.1%} expected by chance)" if found.expected >= 0.001 else "")
    effect = found.share - found.expected >= _auto.UNSEEN_SHARE
    if found.test is None:  # nothing unseen: p = 1
        row["_tests"].append(Test("unseen", label, 1.0, effect))
        return

    def finish(result: _null.PermutationResult, permutations: int) -> None:
        if result.bound:
            add_note(row, "unseen: Chernoff bound p-value (too many categories to permute)")
    row["_tests"].append(Test("unseen", label, None, effect, found.test, finish))
