"""One family of tests per report: every flag has a p-value, one correction, notes that say how.

Unit checks of the machinery the calibration tests (tests/calibration/test_drift.py)
simulate: Fisher's exact test, pooling of sparse tables, the permutation kernel,
the unseen-category test and its bound, the null means that bias-correct the
effect sizes, and the report's new columns.
"""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from mllife import InputError
from mllife.drift import (
    DriftProfile,
    _auto,
    _null,
    drift_report,
    register_statistic,
    registered_statistics,
)
from mllife.drift import _kernels as k


def _row(report, column):
    return report.table.set_index("column").loc[column]


# ---- kernels ------------------------------------------------------------------------
@pytest.mark.parametrize(("a", "n1", "b", "n2"), [(0, 10, 3, 12), (5, 200, 19, 180), (1, 5000, 0, 7000),
                                                  (400, 1000, 460, 1000), (3, 3, 0, 4)])
def test_fisher_matches_scipy(a, n1, b, n2):
    expected = sps.fisher_exact([[a, n1 - a], [b, n2 - b]]).pvalue
    assert k.fisher_counts(a, n1, b, n2) == pytest.approx(expected, rel=1e-9)


def test_fisher_smallest_attainable_p_value_is_the_minimum_over_all_splits():
    for events, n1, n2 in [(1, 100, 100), (2, 40, 300), (7, 10, 10), (30, 200, 200)]:
        splits = range(max(0, events - n2), min(events, n1) + 1)
        brute = min(sps.fisher_exact([[a, n1 - a], [events - a, n2 - events + a]]).pvalue for a in splits)
        assert k.fisher_test(0 if events <= n2 else events - n2, n1, min(events, n2), n2)[1] == pytest.approx(brute)


def test_pooling_depends_on_the_pooled_sample_only():
    """Ties of pooled totals are broken by label, not by the reference-first order of the union."""
    rng = np.random.default_rng(0)
    labels = [f"u{i}" for i in range(400)]
    ref = pd.Series(rng.choice(labels, 500))
    cur = pd.Series(rng.choice(labels, 500))
    tables = []
    for a, b in ((ref, cur), (cur, ref)):
        la, ca, _ = k.category_counts(a)
        lb, cb, _ = k.category_counts(b)
        union, ra, rb = k.align_counts(la, ca.astype(float), lb, cb.astype(float))
        table = k.pool_sparse(ra, rb, key=k.label_ranks(union))
        tables.append(sorted(zip((table.ref + table.cur).tolist(), table.ref.tolist(), strict=True)))
    swapped = sorted((t, t - r) for t, r in tables[1])
    assert tables[0] == swapped  # the same cells, the two samples exchanged


def test_pooled_cells_reach_the_expected_count():
    rng = np.random.default_rng(1)
    ref = rng.multinomial(1000, np.full(300, 1 / 300)).astype(float)
    cur = rng.multinomial(50_000, np.full(300, 1 / 300)).astype(float)
    table = k.pool_sparse(ref, cur, key=np.arange(300))
    expected_small = (table.ref + table.cur) * 1000 / 51_000
    assert expected_small.min() >= 5
    assert table.n_pooled > 0
    assert table.note("chi2").startswith(f"chi2 on {table.cells} cells; ")
    assert table.ref.sum() == ref.sum()
    assert table.cur.sum() == cur.sum()


def test_a_table_too_sparse_to_test_says_so():
    table = k.pool_sparse(np.array([1.0, 1, 0]), np.array([0.0, 1, 1]))
    assert table.cells < 2
    assert "too sparse to test" in table.note("chi2")
    assert k.chi2_counts(np.array([1.0, 1, 0]), np.array([0.0, 1, 1]), min_expected=5) == (0.0, None)


@pytest.mark.parametrize(("levels", "n1", "n2"), [(200, 300, 300), (5, 1000, 1000), (50, 200, 5000)])
def test_divergence_null_means_match_simulation(levels, n1, n2):
    rng = np.random.default_rng(levels)
    probs = 1 / np.arange(1, levels + 1)
    probs /= probs.sum()
    totals = (rng.multinomial(n1, probs) + rng.multinomial(n2, probs)).astype(float)
    totals = totals[totals > 0]
    draws = rng.multivariate_hypergeometric(totals.astype(np.int64), n1, size=4000).astype(float)
    for kind in ("js", "hellinger", "psi"):
        simulated = k._cell_terms(kind, draws, totals - draws, n1, n2, totals.size).sum(axis=1).mean()
        assert k.divergence_null_mean(kind, totals, n1, n2) == pytest.approx(simulated, rel=0.03)


def test_wasserstein_and_energy_null_means_match_permutations():
    rng = np.random.default_rng(2)
    x, y = np.sort(rng.exponential(size=300)), np.sort(rng.exponential(size=200))
    merged = k.merge_sorted(x, y)
    pooled = np.concatenate([x, y])
    w, e2 = [], []
    for _ in range(3000):
        order = rng.permutation(pooled.size)
        m = k.merge_sorted(np.sort(pooled[order[:300]]), np.sort(pooled[order[300:]]))
        w.append(k.cdf_distance(m, 1))
        e2.append(k.cdf_distance(m, 2) ** 2)
    assert k.wasserstein_null_mean(merged) == pytest.approx(np.mean(w), rel=0.05)  # normal approximation
    assert k.energy_null_mean_sq(merged) == pytest.approx(np.mean(e2), rel=0.03)  # exact


# ---- permutation kernel ---------------------------------------------------------------------
def test_permutations_for_the_family():
    assert _null.permutations_for(1, 0.05) == _null.MIN_PERMUTATIONS
    assert _null.permutations_for(100, 0.05) == 4000
    assert 1 / (_null.permutations_for(100, 0.05) + 1) < 0.05 / 100
    assert _null.permutations_for(10**6, 0.05) == _null.MAX_PERMUTATIONS


def test_besag_clifford_stops_early_on_null_and_runs_the_budget_on_a_signal():
    rng = np.random.default_rng(3)
    cells = _null.Cells(np.array([50, 50, 50, 50]), np.array([25, 26, 24, 25]))
    quiet = _null.run(_null.cell_permutation(cells, _null.ks_statistic(cells)), rng, 999)
    assert quiet.draws < 200
    assert quiet.p_value == pytest.approx(_null.HITS / quiet.draws)
    loud_cells = _null.Cells(np.array([50, 50, 50, 50]), np.array([45, 40, 10, 5]))
    loud = _null.run(_null.cell_permutation(loud_cells, _null.ks_statistic(loud_cells)), rng, 999)
    assert loud.draws == 999
    assert loud.p_value == pytest.approx(1 / 1000)


def test_permutation_ks_over_distinct_values_is_exact():
    """Cells = distinct values: the cell statistic is the exact KS statistic of the data."""
    rng = np.random.default_rng(4)
    x, y = np.sort(rng.integers(0, 6, 80).astype(float)), np.sort(rng.integers(0, 6, 70).astype(float))
    merged = k.merge_sorted(x, y)
    cells = _null.numeric_cells(merged)
    assert cells.exact
    assert cells.size == merged.values.size
    perm = _null.cell_permutation(cells, _null.ks_statistic(cells))
    assert perm.observed == pytest.approx(k.ks_from(merged))


def test_binned_numeric_cells_stay_within_the_cap():
    rng = np.random.default_rng(5)
    merged = k.merge_sorted(np.sort(rng.normal(size=3000)), np.sort(rng.normal(size=2000)))
    cells = _null.numeric_cells(merged)
    assert not cells.exact
    assert cells.size <= _null.MAX_CELLS
    assert cells.n_ref == 3000
    assert cells.n_cur == 2000


# ---- unseen categories -------------------------------------------------------------------------
def test_unseen_bound_is_above_the_exact_tail():
    """Chernoff bound >= P(U >= u), the tail enumerated exactly on a small table."""
    totals = np.array([1, 1, 2, 3, 1, 2])
    n_ref = 5
    cats = np.repeat(np.arange(totals.size), totals)
    tail: dict[int, int] = {}
    splits = list(itertools.combinations(range(cats.size), n_ref))
    for chosen in splits:
        in_ref = np.bincount(cats[list(chosen)], minlength=totals.size)
        u = int(totals[in_ref == 0].sum())
        tail[u] = tail.get(u, 0) + 1
    for u in sorted(tail):
        exact = sum(v for key, v in tail.items() if key >= u) / len(splits)
        assert _null.unseen_bound(u, totals, n_ref) >= exact - 1e-12


def test_unseen_moments_are_exact():
    rng = np.random.default_rng(6)
    totals = rng.integers(1, 6, 40)
    n_ref = int(totals.sum() // 2)
    draws = rng.multivariate_hypergeometric(totals, n_ref, size=20_000)
    zero = draws == 0
    for (mean, sd), w in zip(_null._unseen_moments(totals, n_ref), (totals, totals**2), strict=True):
        values = (zero * w).sum(axis=1)
        assert mean == pytest.approx(values.mean(), rel=0.02)
        assert sd == pytest.approx(values.std(), rel=0.03)


def test_a_brand_new_category_is_found_by_the_unseen_test():
    rng = np.random.default_rng(7)
    probs = 1 / np.arange(1, 201)
    probs /= probs.sum()
    ref = np.r_[rng.multinomial(300, probs), 0]
    cur = np.r_[rng.multinomial(270, probs), 30]
    found = _null.unseen(ref, cur)
    assert found.count >= 30
    assert _null.run(found.test, rng, 2000).p_value < 0.001


# ---- the report ------------------------------------------------------------------------------
def test_every_flag_enters_one_correction_and_the_reason_gives_its_p_value():
    rng = np.random.default_rng(8)
    n = 400
    ref = pd.DataFrame({"x": rng.normal(size=n), "c": rng.choice(["a", "b"], n)})
    x = rng.normal(size=n)
    x[rng.random(n) < 0.3] = np.nan
    cur = pd.DataFrame({"x": x, "c": rng.choice(["a", "b", "new"], n, p=[0.45, 0.45, 0.1])})
    report = drift_report(ref, cur, correction="holm")
    xr, cr = _row(report, "x"), _row(report, "c")
    assert xr["drifted"]
    assert cr["drifted"]
    assert xr["missing_p_adjusted"] < 0.05
    assert "missing rate 0.0% -> " in xr["reason"]
    assert "(holm)" in xr["reason"]
    assert cr["unseen_p_adjusted"] < 0.05
    assert "of values in unseen categories" in cr["reason"]
    assert pd.isna(cr["inf_p_adjusted"])  # no inf test on a categorical column
    data = report.to_dict()
    columns = data["tables"]["columns"]
    first = columns[0] if isinstance(columns, list) else columns
    assert "missing_p_adjusted" in str(first)
    assert "unseen_p_adjusted" in str(first)
    assert "note" in str(first)
    again = pickle.loads(pickle.dumps(report))
    assert again.to_dict() == data


def test_raw_missing_flags_no_longer_bypass_the_correction():
    """A missing-rate change that is only significant before correction is not drift under Holm."""
    rng = np.random.default_rng(9)
    n = 200
    ref = pd.DataFrame({f"x{i}": rng.normal(size=n) for i in range(30)})
    cur = ref.copy()
    x = cur["x0"].to_numpy().copy()
    x[:14] = np.nan  # 0% -> 7%: Fisher p ~ 1e-4 raw, above alpha once 30+ tests are corrected
    cur["x0"] = x
    row = _row(drift_report(ref, cur, correction="holm"), "x0")
    assert row["missing_change"] == pytest.approx(0.07)
    assert k.fisher_counts(0, n, 14, n) < 0.05
    assert row["missing_p_adjusted"] > k.fisher_counts(0, n, 14, n)


def test_notes_say_how_each_p_value_was_obtained():
    rng = np.random.default_rng(10)
    levels = np.array([f"l{i}" for i in range(300)], dtype=object)
    ref = pd.DataFrame({"sparse": rng.choice(levels, 600), "ints": rng.integers(0, 5, 600).astype(float),
                        "x": rng.normal(size=600)})
    cur = pd.DataFrame({"sparse": rng.choice(levels, 600), "ints": rng.integers(0, 5, 600).astype(float),
                        "x": rng.normal(size=600)})
    report = drift_report(ref, cur)
    assert "categories with expected count < 5 pooled" in _row(report, "sparse")["note"]
    assert "chi2: permutation p-value" in _row(report, "sparse")["note"]
    assert "ks exact over 5 distinct values (ties)" in _row(report, "ints")["note"]
    assert _row(report, "x")["note"] == ""
    w = _row(drift_report(ref, cur, method="wasserstein"), "x")
    assert "wasserstein over 512 pooled-quantile bins: permutation p-value" in w["note"]
    assert w["statistic_corrected"] < w["statistic"]
    assert any("R=" in note for note in report._notes())


def test_permutation_p_values_are_seeded():
    rng = np.random.default_rng(11)
    ref = pd.DataFrame({"x": rng.normal(size=300), "k": rng.integers(0, 4, 300)})
    cur = pd.DataFrame({"x": rng.normal(0.1, 1, size=300), "k": rng.integers(0, 4, 300)})
    a = drift_report(ref, cur, method="wasserstein", random_state=3).table
    b = drift_report(ref, cur, method="wasserstein", random_state=3).table
    pd.testing.assert_frame_equal(a, b)
    profile = DriftProfile.fit(ref)
    pd.testing.assert_frame_equal(profile.compare(cur, method="wasserstein", random_state=3).table, a)
    # a column's stream depends on its name, not on the other columns compared
    alone = drift_report(ref[["k"]], cur[["k"]], method="wasserstein", random_state=3).table
    assert alone.loc[0, "p_value"] == a.set_index("column").loc["k", "p_value"]
    with pytest.raises(InputError, match="random_state"):
        drift_report(ref, cur, random_state=-1)


def test_large_sparse_categorical_is_not_drifted_on_bias_alone():
    """20,000 rows of 3,000 levels with a tiny real shift: the raw JS sits above 0.05, the corrected below."""
    rng = np.random.default_rng(12)
    levels = np.array([f"v{i}" for i in range(3000)], dtype=object)
    probs = 1 / np.arange(1, 3001) ** 0.8
    probs /= probs.sum()
    tilted = probs * np.linspace(0.98, 1.02, 3000)
    ref = pd.DataFrame({"c": rng.choice(levels, 20_000, p=probs)})
    cur = pd.DataFrame({"c": rng.choice(levels, 20_000, p=tilted / tilted.sum())})
    row = _row(drift_report(ref, cur, large_sample=10_000), "c")
    assert row["method"] == "jensen_shannon"
    assert row["statistic"] > 0.05
    assert row["statistic_corrected"] < 0.05
    assert row["effect_size"] == row["statistic_corrected"]
    assert not row["drifted"]


def test_user_statistic_without_p_value_gets_a_permutation_p_value():
    def gap(ref, cur):
        return abs(float(np.median(cur) - np.median(ref))), None

    with registered_statistics():
        register_statistic("median_gap_family_test", gap, threshold=0.3)
        rng = np.random.default_rng(13)
        ref = pd.DataFrame({"x": rng.normal(size=200)})
        same = _row(drift_report(ref, pd.DataFrame({"x": rng.normal(size=200)}),
                                 method="median_gap_family_test"), "x")
        moved = _row(drift_report(ref, pd.DataFrame({"x": rng.normal(1.0, 1, size=200)}),
                                  method="median_gap_family_test"), "x")
        assert same["p_value"] > 0.01
        assert not same["drifted"]
        assert moved["p_value"] <= 1 / (_null.USER_PERMUTATIONS + 1) + 1e-12
        assert moved["drifted"]
        assert "permutation p-value" in moved["note"]
        assert moved["statistic_corrected"] < moved["statistic"]


def test_g_test_and_cramers_v_use_the_pooled_table():
    rng = np.random.default_rng(14)
    levels = np.array([f"l{i}" for i in range(400)], dtype=object)
    ref = pd.DataFrame({"c": rng.choice(levels, 1_000)})
    cur = pd.DataFrame({"c": rng.choice(levels, 50_000)})
    for method in ("g_test", "cramers_v", "chi2"):
        row = _row(drift_report(ref, cur, method=method), "c")
        assert "pooled" in row["note"]
        assert row["p_value"] > 0.001


# ---- hostile inputs and bounded work (review) ----------------------------------------------
def test_sketched_reference_tests_ks_minus_the_rank_error_and_never_permutes_sketch_points():
    rng = np.random.default_rng(3)
    profile = DriftProfile.fit(pd.DataFrame({"x": rng.normal(size=5_000)}), exact_size=1_000, sketch_size=256)
    cur = pd.DataFrame({"x": rng.normal(size=200)})  # 456 pooled values: the exact-ties path before
    for method in ("ks", "wasserstein", "psi"):
        row = _row(profile.compare(cur, method=method), "x")
        assert "sketched reference: KS p-value at D - 0.002" in row["note"]
        assert "ks exact" not in row["note"]
    report = profile.compare(cur, method="ks")
    d = _row(report, "x")["statistic"]
    assert _row(report, "x")["p_value"] == pytest.approx(k.ks_pvalue(d - 0.5 / 256, 5_000, 200))


def test_method_or_threshold_mapping_naming_no_column_raises():
    ref = pd.DataFrame({"x": np.arange(30.0), "y": np.arange(30.0)})
    with pytest.raises(InputError, match=r"method= names column.*'z'"):
        drift_report(ref, ref, method={"z": "psi"})
    with pytest.raises(InputError, match=r"threshold= names column.*'z'"):
        drift_report(ref, ref, threshold={"z": 0.1})
    # a column of the frames left out by columns= is not a typo
    assert drift_report(ref, ref, columns=["x"], method={"y": "psi"}).table["column"].tolist() == ["x"]


def test_values_near_the_float_limit_render_without_an_overlay():
    ref = pd.DataFrame({"x": [1e308, -1e308, 0.0] * 10, "y": np.arange(30.0)})
    cur = pd.DataFrame({"x": [1e308, 1e308, 0.0] * 10, "y": np.arange(30.0)})
    with np.errstate(all="ignore"):
        report = drift_report(ref, cur)
    assert "x" not in report.distributions
    assert "y" in report.distributions
    assert "<html" in report.to_html()


def test_complex_column_fails_alone_naming_it():
    ref = pd.DataFrame({"z": np.arange(20) + 1j, "x": np.arange(20.0)})
    table = drift_report(ref, ref).table.set_index("column")
    assert table.loc["z", "status"].startswith("failed:")
    assert "column 'z' holds complex128" in table.loc["z", "status"]
    assert table.loc["x", "status"] == "ok"


def test_correction_none_corrects_a_columns_own_tests_together():
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    x[:40] = np.nan
    cur = rng.normal(size=400)
    cur[:64] = np.nan  # missing 10% -> 16%: Fisher p ~ 0.013, KS not significant
    row = _row(drift_report(pd.DataFrame({"x": x}), pd.DataFrame({"x": cur}), correction="none"), "x")
    raw = k.fisher_counts(40, 400, 64, 400)
    assert raw < 0.05
    holm = _auto.adjust(np.array([row["p_value"], raw]), "holm")  # the column's two tests, Holm
    assert row["p_adjusted"] == pytest.approx(holm[0])
    assert row["missing_p_adjusted"] == pytest.approx(holm[1])
    assert row["missing_p_adjusted"] > raw


def test_user_statistic_permutations_are_capped_on_large_samples(monkeypatch):
    monkeypatch.setattr(_null, "USER_WORK", 200_000)
    name = "review_mean_gap"
    with registered_statistics():
        register_statistic(name, lambda a, b: (abs(float(np.mean(b) - np.mean(a))), None), threshold=0.0)
        rng = np.random.default_rng(1)
        ref, cur = pd.DataFrame({"x": rng.normal(size=5_000)}), pd.DataFrame({"x": rng.normal(1, 1, size=5_000)})
        row = _row(drift_report(ref, cur, method=name), "x")
    assert _null.user_draws(10_000) == 20
    assert "draws capped at 20 for 10,000 pooled values" in row["note"]
    assert row["p_value"] == pytest.approx(1 / 21)


def test_huge_pooled_tables_are_permuted_on_merged_cells(monkeypatch):
    monkeypatch.setattr(_null, "TABLE_WORK", 100 * 999)
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"c": rng.integers(0, 3_000, 6_000).astype(str)})
    cur = pd.DataFrame({"c": np.r_[rng.integers(0, 3_000, 5_000), rng.integers(0, 50, 1_000)].astype(str)})
    row = _row(drift_report(ref, cur, method="chi2"), "c")
    assert "the permutation test ran on 100 merged cells" in row["note"]
    assert row["drifted"]


def test_permutation_batches_hold_bounded_memory(monkeypatch):
    monkeypatch.setattr(_null, "BATCH_VALUES", 1_000)
    sizes = []
    cells = _null.Cells(np.full(300, 10, dtype=np.int64), np.full(300, 5, dtype=np.int64))
    test = _null.cell_permutation(cells, _null.table_statistic(cells, "chi2"))
    inner = test.draw

    def draw(rng, size):
        sizes.append(size)
        return inner(rng, size)
    test.draw = draw
    test.observed = np.inf  # never reached: every draw runs
    result = _null.run(test, np.random.default_rng(0), 999)
    assert result.draws == 999
    assert max(sizes) <= 3
