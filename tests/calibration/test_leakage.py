"""Calibration of the "leak" claims: ``target_proxy``, ``missingness_predicts_target``
(``check_leakage``) and ``target_leakage`` (``audit``).

The claim: on a table where no column is related to the target, the chance of any
leak finding in one call is at most ``ALPHA = 0.05`` (every rule's p-value under
shuffled labels is held to 0.05 over the number of tests, Bonferroni). The null
tables have 30 to 200 rows, a target with 1, 2, 3 or 5 minority rows or balanced
(and, end to end, numeric targets, one heavy-tailed), and 30 columns of mixed
kinds: 12 continuous, 6 integers of 4 values, 6 texts of 10 levels, 3 continuous
and 3 texts with missing values. On the effect thresholds alone (no p-value),
82% of the tables of 30 rows with one positive have a chance rule.

Every level check uses ``assert_level`` (rate <= 0.05 + 3 Monte-Carlo s.e.):
the bulk calls ``derived_rule`` directly (R = 300 per small table shape, limit
0.088); ``target_scores`` (``check_leakage``'s leak findings, compared with
``check_leakage`` itself on one table in eight) and ``audit`` run on R = 320
tables cycling through all the shapes (limit 0.087); the ROC-AUC p-value of
out-of-fold scores is checked at 0.05 on R = 600 single columns per shape
(limit 0.077). Power: a column that is the target thresholded (1% measurement
noise), one that recodes it (1% of rows recoded at random) and one filled in
only for positives, found at 60 rows with 6 positives and at 200 rows with 20.
Runs in about 20 s of CPU.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mllife
from mllife.split import check_leakage
from mllife.split._target import (
    N_FOLDS,
    _class_aucs,
    _oof_predictions,
    derived_rule,
    feature_codes,
    macro_auc_p_value,
    target_scores,
)

from ._level import assert_level

pytestmark = pytest.mark.slow

ALPHA = 0.05
N_COLUMNS = 30
LEVELS = np.array(list("abcdefghij"))
#: (rows, minority rows) of the null tables; ``None``: balanced.
SHAPES = [(30, 1), (30, 2), (40, 3), (60, 5), (200, 5), (200, None)]
LEAK_CHECKS = ("target_proxy", "missingness_predicts_target")


def _columns(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """30 columns unrelated to anything: continuous, few-valued, text, some missing."""
    cols: dict[str, np.ndarray] = {}
    for j in range(12):
        cols[f"num{j}"] = rng.normal(size=n)
    for j in range(6):
        cols[f"int{j}"] = rng.integers(0, 4, n)
    for j in range(6):
        cols[f"text{j}"] = LEVELS[rng.integers(0, 10, n)]
    for j in range(3):
        cols[f"gappy{j}"] = np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n))
    for j in range(3):
        codes = LEVELS[rng.integers(0, 10, n)].astype(object)
        codes[rng.random(n) < 0.1] = None
        cols[f"code{j}"] = codes
    return cols


def _binary_target(rng: np.random.Generator, n: int, minority: int | None) -> np.ndarray:
    y = np.zeros(n, dtype=np.int64)
    y[rng.choice(n, n // 2 if minority is None else minority, replace=False)] = 1
    return y


def _null_frame(rng: np.random.Generator, shape: tuple[int, int | None] | str) -> pd.DataFrame:
    if shape == "regression_heavy_tails":  # lognormal with two gross outliers, 30 rows
        y = np.exp(2 * rng.normal(size=30))
        y[:2] = 1e4
        return pd.DataFrame(_columns(rng, 30)).assign(y=y)
    if shape == "regression":
        return pd.DataFrame(_columns(rng, 60)).assign(y=rng.normal(size=60))
    n, minority = shape
    return pd.DataFrame(_columns(rng, n)).assign(y=_binary_target(rng, n, minority))


def _any_rule(cols: dict[str, np.ndarray], y: np.ndarray, max_p: float) -> bool:
    for values in cols.values():
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        if derived_rule(None, y, factorized=(codes.astype(np.int64), pd.Series(uniques)),
                        max_p=max_p) is not None:
            return True
    return False


SMALL = SHAPES[:4]  # where chance rules live; the larger shapes run end to end below


@pytest.mark.parametrize("shape", SMALL, ids=[f"{n}rows_{m}" for n, m in SMALL])
def test_derived_rule_holds_its_level_on_null_tables(shape):
    """R = 300 null tables per shape: a derived rule (recoding or cut) at p < 0.05 / 30.

    The audit's ``target_leakage`` is exactly this (Bonferroni over the 30 columns);
    ``check_leakage``'s rule is held to 0.05 over more tests, so is rarer still.
    For 30 rows and one positive, the rule without its p-value fires in most of the
    first 100 tables (the defect this guards against).
    """
    n, minority = shape
    rng = np.random.default_rng(1_000 + n + (minority or 0))
    reps = 300
    alarms = unguarded = 0
    for r in range(reps):
        cols = _columns(rng, n)
        y = _binary_target(rng, n, minority)
        alarms += _any_rule(cols, y, ALPHA / N_COLUMNS)
        if shape == (30, 1) and r < 100:
            unguarded += _any_rule(cols, y, 1.0)
    assert_level(alarms, reps, ALPHA, f"derived_rule, {n} rows, minority {minority}")
    if shape == (30, 1):
        assert unguarded / 100 > 0.5  # the tables do produce chance rules


@pytest.mark.parametrize("counts", [(25, 5), (55, 5), (100, 100), (30, 25, 5)],
                         ids=["30rows_5", "60rows_5", "200rows_balanced", "3classes_60rows"])
def test_out_of_fold_auc_p_value_is_conservative(counts):
    """R = 600 null columns per shape: P(p <= 0.05) <= 0.05 + 3 s.e. (0.077).

    The ROC-AUC p-value treats the one-feature model's out-of-fold scores as
    fixed while the labels are shuffled; they are not (each row's score comes
    from the other folds' labels). Out-of-fold target encoding scores chance
    columns *below* 0.5 on average, so the approximation errs on the safe side:
    checked here at a level far above the Bonferroni one, where a liberal
    p-value would show.
    """
    rng = np.random.default_rng(len(counts) * 1_000 + counts[-1] + counts[0])
    n = sum(counts)
    reps = 600
    folds = np.random.RandomState(0).permutation(n) % N_FOLDS
    small, aucs = 0, []
    for r in range(reps):
        x = [rng.normal(size=n), rng.integers(0, 4, n), LEVELS[rng.integers(0, 10, n)]][r % 3]
        y = rng.permutation(np.repeat(np.arange(len(counts)), counts))
        Y = np.eye(len(counts))[y][:, 1:] if len(counts) == 2 else np.eye(len(counts))[y]
        P = _oof_predictions(feature_codes(pd.Series(x)), Y, folds)
        class_aucs, n_pos = _class_aucs(P, Y)
        small += macro_auc_p_value(class_aucs, n_pos, n) <= ALPHA
        aucs.append(class_aucs.mean())
    assert_level(small, reps, ALPHA, f"out-of-fold ROC-AUC p-value, classes {counts}")
    assert np.mean(aucs) < 0.5  # the downward bias that makes it conservative


END_TO_END = [*SHAPES, "regression_heavy_tails", "regression"]


def _leak_findings(findings) -> list[tuple[str, str]]:
    return sorted((f.check, f.column) for f in findings if f.check in LEAK_CHECKS)


def test_check_leakage_and_audit_hold_their_level_end_to_end():
    """R = 320 null tables (40 of each of 8 shapes, numeric targets included).

    ``check_leakage``'s leak findings are those of ``target_scores`` (one family:
    0.05 over two tests per column plus one per column with missing values),
    called directly on every table and compared with ``check_leakage`` itself on
    one table in eight; ``audit``'s ``target_leakage`` runs end to end on every
    table. Each rate of any leak finding: at most 0.05 + 3 s.e. (0.087).
    """
    rng = np.random.default_rng(7)
    reps = 320
    held_out = _null_frame(rng, (20, 5)).drop(columns="y")
    leak_alarms = audit_alarms = 0
    for r in range(reps):
        frame = _null_frame(rng, END_TO_END[r % len(END_TO_END)])
        _, findings, _ = target_scores(frame, "y", list(frame.columns[:-1]))
        leak_alarms += bool(_leak_findings(findings))
        if r % 8 == 0:
            report = check_leakage(frame, held_out, target="y")
            assert _leak_findings(report.findings) == _leak_findings(findings)
        audited = mllife.audit(frame, target="y", checks=["target_leakage"])
        audit_alarms += bool(audited.findings_by(check="target_leakage"))
    assert_level(leak_alarms, reps, ALPHA, "check_leakage target_proxy/missingness")
    assert_level(audit_alarms, reps, ALPHA, "audit target_leakage")


def _leaky_frame(rng: np.random.Generator, n: int, positives: int) -> pd.DataFrame:
    """A null table plus a thresholded column, a recoding and a filled-in-after column."""
    frame = pd.DataFrame(_columns(rng, n))
    latent = rng.normal(size=n)
    y = (latent >= np.sort(latent)[-positives]).astype(np.int64)
    frame["score_at_close"] = latent + rng.normal(0, 0.01, n)  # 1% measurement noise
    codes = np.where(y == 1, rng.choice(["won", "upsold"], n), rng.choice(["lost", "idle"], n))
    wrong = rng.random(n) < 0.01
    codes[wrong] = rng.choice(["won", "upsold", "lost", "idle"], int(wrong.sum()))
    frame["outcome_code"] = codes
    frame["refund_at"] = np.where(y == 1, rng.normal(50, 10, n), np.nan)
    return frame.assign(y=y)


@pytest.mark.parametrize(("n", "positives", "floor"), [(60, 6, 0.8), (200, 20, 0.9)])
def test_derived_columns_are_still_found(n, positives, floor):
    """Power, R = 30 tables of each size, end to end.

    ``score_at_close`` is the target thresholded (the column with 1% measurement
    noise: at 60 rows a noisy value crosses the threshold in about one table in
    eight, and 59 of 60 rows is below the 99% a cut needs), ``outcome_code`` a
    recoding (1% of rows recoded at random), ``refund_at`` filled in only for the
    positive class. Each found by ``check_leakage`` and ``audit`` in at least
    ``floor`` of the tables, and the p-value never loses one the effect
    thresholds find (``derived_rule`` without a level).
    """
    rng = np.random.default_rng(n)
    reps = 30
    planted = ("score_at_close", "outcome_code", "refund_at")
    found = dict.fromkeys(planted, 0)
    audit_found = dict.fromkeys(planted, 0)
    missing_found = 0
    for _ in range(reps):
        frame = _leaky_frame(rng, n, positives)
        y = frame["y"].to_numpy()
        report = check_leakage(frame, frame.drop(columns="y").iloc[:5], target="y")
        proxies = {f.column for f in report.findings_by(check="target_proxy")}
        audited = mllife.audit(frame, target="y", checks=["target_leakage"])
        flagged = {f.column for f in audited.findings_by(check="target_leakage")}
        for column in planted:
            found[column] += column in proxies
            audit_found[column] += column in flagged
            effect = derived_rule(frame[column], y) is not None
            assert not effect or (column in proxies and column in flagged), column
        missing_found += bool(report.findings_by(check="missingness_predicts_target",
                                                 column="refund_at"))
    for column, hits in {**found, **{f"audit {c}": h for c, h in audit_found.items()}}.items():
        assert hits / reps >= floor, (column, hits)
    assert missing_found == reps
