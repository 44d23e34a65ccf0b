"""The leak claims' p-values: every bound checked against the exact permutation p-value.

Each bound is computed in closed form; here the permutation distribution is enumerated
(every labelling of a small table) and the bound must never be below it, and must equal
it where the docstring says it is exact (a perfect rule, ``errors = 0``; no ties).
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact

import mllife
from mllife.split import _target, check_leakage
from mllife.split._target import (
    _best_cut,
    _roc_auc,
    auc_p_value,
    cut_rule_p_value,
    derived_rule,
    macro_auc_p_value,
    missing_p_value,
    values_rule_p_value,
)


def _labellings(n: int, m: int):
    """Every 0/1 labelling of ``n`` rows with ``m`` ones."""
    for ones in itertools.combinations(range(n), m):
        y = np.zeros(n, dtype=np.int64)
        y[list(ones)] = 1
        yield y


COLUMNS = {
    "tie_free": np.arange(11.0),
    "ties": np.array([1, 1, 2, 3, 3, 3, 4, 5, 6, 6, 7.0]),
    "missing": np.r_[np.arange(8.0), [np.nan, np.nan, np.inf]],
}


@pytest.mark.parametrize("column", COLUMNS, ids=list(COLUMNS))
def test_cut_bound_is_never_below_the_permutation_p_value(column):
    x = COLUMNS[column]
    n = len(x)
    missing = not np.isfinite(x).all()
    for m in range(1, 6):
        errors = np.array([n - _best_cut(x, y)[0] for y in _labellings(n, m)])
        for e in range(3):
            exact = float(np.mean(errors <= e))
            bound = cut_rule_p_value(n, m, e, missing=missing)
            assert bound >= exact - 1e-12, (m, e, bound, exact)
            if e == 0 and column == "tie_free":
                assert bound == pytest.approx(exact, rel=1e-9)  # 2 / C(n, m)
                assert bound == pytest.approx(2 / math.comb(n, m), rel=1e-9)


def _mapping_errors(codes: np.ndarray, y: np.ndarray) -> int:
    table = np.zeros((codes.max() + 1, y.max() + 1), dtype=np.int64)
    np.add.at(table, (codes, y), 1)
    return int(len(y) - table.max(axis=1).sum())


@pytest.mark.parametrize("sizes", [[3, 4, 2, 3], [5, 5, 2], [1] * 10 + [2]])
def test_values_bound_is_never_below_the_permutation_p_value(sizes):
    codes = np.repeat(np.arange(len(sizes)), sizes)
    n = len(codes)
    for m in range(1, 5):
        errors = np.array([_mapping_errors(codes, y) for y in _labellings(n, m)])
        for e in range(3):
            exact = float(np.mean(errors <= e))
            bound = values_rule_p_value(sizes, [n - m, m], e)
            assert bound >= exact - 1e-12, (m, e, bound, exact)
            if e == 0:
                assert bound == pytest.approx(exact, rel=1e-9)  # one value set per labelling


def test_values_bound_for_three_classes_is_never_below_the_permutation_p_value():
    codes = np.repeat(np.arange(3), [2, 3, 4])
    labels = {tuple(p) for p in itertools.permutations(np.repeat([0, 1, 2], [2, 3, 4]))}
    errors = np.array([_mapping_errors(codes, np.array(y)) for y in labels])
    for e in range(3):
        exact = float(np.mean(errors <= e))
        assert values_rule_p_value([2, 3, 4], [2, 3, 4], e) >= exact - 1e-12


@pytest.mark.parametrize(("n", "m"), [(12, 3), (12, 4), (14, 5), (13, 2)])
@pytest.mark.parametrize("tied", [False, True], ids=["distinct_scores", "tied_scores"])
def test_auc_bound_is_never_below_the_permutation_p_value(n, m, tied):
    rng = np.random.default_rng(n * 10 + m)
    score = rng.integers(0, 5, n).astype(float) if tied else rng.normal(size=n)
    aucs = np.array([_roc_auc(y.astype(float), score) for y in _labellings(n, m)])
    for auc in np.unique(aucs)[-8:]:
        exact = float(np.mean(aucs >= auc - 1e-9))
        bound = auc_p_value(auc, m, n - m, ties=tied)
        assert bound >= exact - 1e-12, (auc, bound, exact)
        if not tied:
            assert bound == pytest.approx(exact, rel=1e-9)


def test_auc_bound_hoeffding_branch_for_large_classes():
    # 100 positives among 1,000 rows, AUC 0.7: beyond exact counting, Hoeffding's bound;
    # the normal approximation of the same tail is far smaller (the bound is valid, loose).
    p = auc_p_value(0.7, 100, 900)
    z = (0.7 - 0.5) * 100 * 900 / math.sqrt(100 * 900 * 1001 / 12)
    assert 0.5 * math.erfc(z / math.sqrt(2)) < p < 0.01
    assert auc_p_value(0.5, 100, 900) == 1.0
    assert auc_p_value(0.99, 0, 10) == 1.0


def test_macro_auc_bound_is_never_below_the_permutation_p_value():
    rng = np.random.default_rng(3)
    n, counts = 9, [2, 3, 4]
    scores = rng.integers(0, 4, (n, 3)).astype(float)  # one score column per class, ties
    labels = {tuple(p) for p in itertools.permutations(np.repeat([0, 1, 2], counts))}
    macros = []
    for y in labels:
        y = np.array(y)
        macros.append(np.mean([_roc_auc((y == c).astype(float), scores[:, c]) for c in range(3)]))
    macros = np.array(macros)
    for macro in np.unique(macros)[-6:]:
        exact = float(np.mean(macros >= macro - 1e-9))
        # per-class AUCs whose mean is ``macro``: the bound uses the mean and the counts
        bound = macro_auc_p_value([macro] * 3, counts, n)
        assert bound >= exact - 1e-12, (macro, bound, exact)


@pytest.mark.parametrize(("n_missing", "n_ones", "ones_missing"),
                         [(5, 6, 4), (10, 10, 8), (3, 20, 0), (7, 15, 7)])
def test_missingness_p_value_is_fishers_exact_test(n_missing, n_ones, ones_missing):
    n = 40
    missing = np.zeros(n, dtype=bool)
    missing[:n_missing] = True
    y = np.zeros(n, dtype=np.int64)
    y[:ones_missing] = 1
    y[n_missing:n_missing + n_ones - ones_missing] = 1
    table = [[ones_missing, n_missing - ones_missing],
             [n_ones - ones_missing, n - n_missing - n_ones + ones_missing]]
    expected = fisher_exact(table).pvalue
    assert missing_p_value(missing, y, "binary") == pytest.approx(expected, rel=1e-9)


def test_missingness_p_value_for_three_classes_and_for_a_numeric_target():
    # several classes: never below the permutation p-value of the same statistic
    y = np.repeat([0, 1, 2], [3, 3, 4])
    observed = np.r_[np.ones(3, bool), np.zeros(7, bool)]
    stat = missing_p_value(observed, y, "multiclass")
    masks = [np.isin(np.arange(10), c) for c in itertools.combinations(range(10), 3)]
    perm = np.mean([missing_p_value(m, y, "multiclass") <= stat + 1e-12 for m in masks])
    assert stat >= perm - 1e-12
    # numeric target: the two-sided rank test, never below its permutation p-value
    rng = np.random.default_rng(0)
    values = rng.normal(size=11)
    top = np.argsort(values)[-4:]
    observed = np.isin(np.arange(11), top)
    stat = missing_p_value(observed, values, "regression")
    extreme = []
    for c in itertools.combinations(range(11), 4):
        a = _roc_auc(np.isin(np.arange(11), c).astype(float), values)
        extreme.append(max(a, 1 - a))
    perm = float(np.mean(np.array(extreme) >= 1.0 - 1e-9))
    assert stat >= perm - 1e-12
    assert stat == pytest.approx(2 / math.comb(11, 4))
    assert missing_p_value(np.zeros(11, bool), values, "regression") == 1.0


def test_large_tables_switch_to_hoeffding_and_stay_valid(monkeypatch):
    exact = cut_rule_p_value(400, 40, 8)
    values_exact = values_rule_p_value([100, 120, 80, 100], [360, 40], 10)
    monkeypatch.setattr(_target, "_EXACT_TERMS", 0)
    assert exact <= cut_rule_p_value(400, 40, 8) < 1e-6
    assert values_exact <= values_rule_p_value([100, 120, 80, 100], [360, 40], 10)


def test_perfect_cut_with_one_positive_is_chance_with_six_it_is_not():
    x = pd.Series(np.arange(60.0))
    one = (x >= 59).to_numpy(np.int64)
    rule = derived_rule(x, one)  # the effect alone: a perfect cut
    assert rule is not None
    assert rule.accuracy == 1.0
    assert rule.p_value == pytest.approx(2 / 60)
    assert derived_rule(x, one, max_p=0.05 / 30) is None
    six = (x >= 54).to_numpy(np.int64)
    rule = derived_rule(x, six, max_p=0.05 / 30)
    assert rule is not None
    assert rule.kind == "cut"
    assert rule.errors == 0
    assert rule.p_value == pytest.approx(2 / math.comb(60, 6))


def test_derived_rule_gives_the_same_answer_from_a_factorized_column():
    rng = np.random.default_rng(0)
    x = pd.Series(np.round(rng.normal(size=300), 2))
    x[rng.random(300) < 0.1] = np.nan
    y = (x.fillna(-9) > 0.8).to_numpy(np.int64)
    codes, uniques = pd.factorize(x)
    direct = derived_rule(x, y)
    cached = derived_rule(x, y, factorized=(codes.astype(np.int64), pd.Series(uniques)))
    assert direct == cached
    assert direct is not None
    assert direct.kind == "cut"
    assert direct.p_value < 1e-40


def _one_positive_table(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 30
    frame = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(20)})
    for j in range(5):
        frame[f"c{j}"] = rng.choice(list("abcdefghij"), n)
    y = np.zeros(n, dtype=np.int64)
    y[7] = 1
    # one column separates the positive perfectly, as many do by chance with one positive
    frame["x0"] = np.where(y == 1, 10.0, frame["x0"])
    return frame.assign(y=y)


def test_one_positive_row_raises_no_leak_finding():
    frame = _one_positive_table()
    assert derived_rule(frame["x0"], frame["y"].to_numpy()) is not None  # effect reached
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = check_leakage(frame, frame.iloc[:5], target="y")
        audited = mllife.audit(frame, target="y")
    assert not report.findings_by(check="target_proxy")
    assert not report.findings_by(check="missingness_predicts_target")
    assert not audited.findings_by(check="target_leakage")


def test_findings_state_their_p_value_and_correction():
    rng = np.random.default_rng(1)
    n = 60
    frame = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(9)})
    latent = rng.normal(size=n)
    frame["y"] = (latent >= np.sort(latent)[-6]).astype(int)
    frame["amount"] = latent
    frame["refund"] = np.where(frame["y"] == 1, rng.normal(50, 10, n), np.nan)
    report = check_leakage(frame, frame.iloc[:5], target="y")
    (proxy,) = report.findings_by(check="target_proxy", column="amount")
    assert "values above" in proxy.message
    assert "p = 4e-08 for a column unrelated to the target" in proxy.message
    # two tests per column (the rule, the ROC-AUC) and one for the column with missing values
    assert "below 0.05 / 23 (Bonferroni over 23 tests on 11 columns)" in proxy.message
    assert proxy.details["p_value"] == pytest.approx(2 / math.comb(60, 6))
    assert proxy.details["n_tests"] == 23
    assert proxy.details["alpha"] == 0.05
    (missing,) = report.findings_by(check="missingness_predicts_target")
    assert missing.details["p_value"] == pytest.approx(1 / math.comb(60, 6))
    audited = mllife.audit(frame, target="y").findings_by(check="target_leakage")
    assert {f.column for f in audited} == {"amount", "refund"}
    assert all("Bonferroni over 11 columns" in f.message for f in audited)


def test_auc_claim_needs_five_rows_of_each_class():
    # a code of 40 levels, one of which holds exactly the positives: no recoding rule
    # (over 10 values) and no cut (text); only the one-feature ROC-AUC can see it
    rng = np.random.default_rng(0)

    def table(positives: int) -> pd.DataFrame:
        n = 400
        y = np.zeros(n, dtype=np.int64)
        y[:positives] = 1
        code = np.where(y == 1, "Z", pd.Series(rng.integers(0, 39, n)).map("L{}".format))
        return pd.DataFrame({"code": code, "x": rng.normal(size=n), "y": y})

    few = check_leakage(table(4), table(4).iloc[:5], target="y")
    assert few.feature_scores.set_index("column").loc["code", "score"] >= 0.98
    assert not few.findings_by(check="target_proxy")
    enough = check_leakage(table(12), table(12).iloc[:5], target="y")
    (proxy,) = enough.findings_by(check="target_proxy")
    assert proxy.column == "code"
    assert "almost perfectly" in proxy.message
    assert proxy.details["p_value"] < 0.05 / proxy.details["n_tests"]
