"""A fairness finding ("unfair") holds its level; a real group gap is found.

The claim: ``fairness_demographic_parity_difference`` or
``fairness_equalized_odds_difference`` is raised only when, among the groups
large enough to judge (at least 30 rows make the rate), the rates differ by more
than 0.1 *and* the chi-square test that every judged group has the same rate(s)
rejects after Holm's correction over the two claims (alpha = 0.05; a seeded
Monte-Carlo permutation p-value replaces the asymptotic one when an expected
count is under 5). With no group effect, the chance of *any* fairness finding
in a call is therefore at most 0.05.

The decision is :func:`mllife.evaluation._fairness._judge` on the per-group counts;
``fairness()`` computes those counts with fairlearn (about 0.1 s a call) and then
calls it. So the level runs (many, fast) call ``_judge`` on counts made with
``np.bincount``, and the end-to-end runs (``evaluate`` and ``fairness``) check on
every run that they reach the same p-values or findings as ``_judge`` on the same rows.

Level (``assert_level``: rate <= 0.05 + 3 Monte-Carlo s.e. = 0.077 at R = 600,
0.169 at R = 30): R = 600 null runs in each of three configurations: 10 groups x
100 rows (the audit's case, where the old best-vs-worst z-test raised a finding
in 44 of 50 runs), ten groups of 400 down to 5 rows (four under 30 rows), and 10
groups x 100 rows with a 5% base rate (mostly Monte-Carlo p-values); measured
rates 0.038, 0.045 and 0.040. Plus R = 30 runs of the audit's case through
``evaluate`` end to end (a model whose predictions are a column of X, p-values
checked against ``_judge`` on every run): 1 false alarm.

Power (floors asserted): one group of ten (100 rows each) whose true and false
positive rates are both 0.25 higher (a selection-rate gap of 0.25) is found in
at least 80% of R = 200 runs (measured 0.93; the first 10 also through
``fairness()``); one group of ten (200 rows each) whose true positive rate is
0.25 lower is found as an equalized-odds finding in at least 75% of R = 200 runs
(measured 0.84), and in at least 8 of 12 runs through ``evaluate`` (measured 9).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from mllife.evaluation import evaluate
from mllife.evaluation._fairness import _judge, fairness
from mllife.evaluation._inputs import Predictions

from ._level import assert_level

ALPHA = 0.05
PARITY = ("fairness_demographic_parity_difference", "fairness_equalized_odds_difference")
LABELS = np.array(list("abcdefghij"))

# name: (group sizes, base rate) -- predictions: TPR 0.7 and FPR 0.3 in every group
# (0.6 and 0.05 at the 5% base rate), so neither the label nor the prediction depends
# on the group.
NULL_CASES = {
    "10 groups x 100 rows": ([100] * 10, 0.5),
    "400 to 5 rows, four groups under 30": ([400, 250, 150, 80, 50, 35, 25, 12, 8, 5], 0.5),
    "10 groups x 100 rows, 5% base rate": ([100] * 10, 0.05),
}


def _draw(rng: np.random.Generator, sizes: list[int], base: float, gap: str | None = None
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group codes, labels and predictions; ``gap`` moves group 0's rates by 0.25."""
    codes = np.repeat(np.arange(len(sizes)), sizes)
    y = (rng.random(len(codes)) < base).astype(int)
    rate = np.where(y == 1, 0.7, 0.3) if base >= 0.2 else np.where(y == 1, 0.6, 0.05)
    if gap == "selection":
        rate = np.where(codes == 0, rate + 0.25, rate)
    elif gap == "tpr":
        rate = np.where((codes == 0) & (y == 1), rate - 0.25, rate)
    return codes, y, (rng.random(len(codes)) < rate).astype(int)


def _counts(codes: np.ndarray, y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    k = int(codes.max()) + 1
    return pd.DataFrame({
        "group": LABELS[:k],
        "n": np.bincount(codes, minlength=k).astype(float),
        "n_positive": np.bincount(codes, weights=y, minlength=k),
        "n_true_positive": np.bincount(codes, weights=y & p, minlength=k),
        "n_predicted_positive": np.bincount(codes, weights=p, minlength=k),
    })


@pytest.mark.slow
@pytest.mark.parametrize("case", list(NULL_CASES))
def test_no_group_effect_raises_no_fairness_finding(case):
    sizes, base = NULL_CASES[case]
    rng = np.random.default_rng(sum(sizes) + int(100 * base))
    reps, alarms = 600, 0
    for _ in range(reps):
        tests = _judge(_counts(*_draw(rng, sizes, base)), {})
        alarms += bool(tests["finding"].any())
    assert_level(alarms, reps, ALPHA, f"any fairness finding, {case}")


class _Column(ClassifierMixin, BaseEstimator):
    """A 'model' whose predictions are the column ``p`` of X: precomputed predictions."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict(self, X):
        return X["p"].to_numpy()


def _evaluate(codes: np.ndarray, y: np.ndarray, p: np.ndarray):
    X = pd.DataFrame({"p": p, "group": LABELS[codes]})
    report = evaluate(_Column().fit(X, y), X, y, sensitive_features="group", baseline=None)
    expected = _judge(_counts(codes, y, p), {})
    diff = report.fairness_differences
    for metric, p_value in zip(expected["metric"], expected["p_value"], strict=True):
        assert diff[f"{metric}_p_value"] == pytest.approx(p_value, rel=1e-9, nan_ok=True)
    return report


@pytest.mark.slow
def test_no_group_effect_end_to_end_through_evaluate():
    rng = np.random.default_rng(2024)
    reps, alarms = 30, 0
    for _ in range(reps):
        report = _evaluate(*_draw(rng, [100] * 10, 0.5))
        alarms += any(f.check in PARITY for f in report.findings)
    assert_level(alarms, reps, ALPHA, "any fairness finding through evaluate, 10 groups x 100 rows")


@pytest.mark.slow
def test_a_selection_rate_gap_in_one_group_is_found():
    rng = np.random.default_rng(11)
    reps, found = 200, 0
    for rep in range(reps):
        codes, y, p = _draw(rng, [100] * 10, 0.5, gap="selection")
        tests = _judge(_counts(codes, y, p), {}).set_index("metric")
        found += bool(tests.loc["demographic_parity_difference", "finding"])
        if rep < 10:   # the same decision through fairness() itself
            result = fairness(Predictions("binary", y, p, classes=np.array([0, 1]), positive_label=1),
                              pd.Series(LABELS[codes], name="group"))
            assert (any(f.check == PARITY[0] for f in result.findings)
                    == tests.loc["demographic_parity_difference", "finding"])
    assert found / reps >= 0.8, f"power {found / reps:.2f} on a 0.25 selection-rate gap in 1 of 10 groups"


@pytest.mark.slow
def test_a_true_positive_rate_gap_in_one_group_is_found():
    rng = np.random.default_rng(12)
    reps, found = 200, 0
    for _ in range(reps):
        tests = _judge(_counts(*_draw(rng, [200] * 10, 0.5, gap="tpr")), {}).set_index("metric")
        found += bool(tests.loc["equalized_odds_difference", "finding"])
    assert found / reps >= 0.75, f"power {found / reps:.2f} on a 0.25 TPR gap in 1 of 10 groups"
    runs, hits = 12, 0
    for _ in range(runs):
        report = _evaluate(*_draw(rng, [200] * 10, 0.5, gap="tpr"))
        hits += any(f.check == PARITY[1] for f in report.findings)
    assert hits >= 8, f"evaluate found the TPR gap in {hits} of {runs} runs"
