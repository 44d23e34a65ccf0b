"""compare_champion on the metrics it gained with the one vocabulary: specificity, ECE, MAPE.

Their point estimates are mllife._metrics' (the values evaluate reports), their
bootstrap plans give the same value with unit weights, and their minimum test
sets hold the documented false-promotion rate in seeded null simulations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn import metrics as skm
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from mllife import InputError, ProblemSpec, compare_champion, evaluate
from mllife._metrics import expected_calibration_error
from mllife.evaluation import _champion_metrics as cm
from mllife.evaluation._champion import _compare

from ..calibration._level import assert_level

ALPHA = 0.05


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(600, n_features=6, random_state=0)
    weak = LogisticRegression(C=0.01).fit(X[:300, :2], y[:300])
    strong = LogisticRegression().fit(X[:300], y[:300])
    X_weak = np.column_stack([X[300:, :2], np.zeros((300, 4))])
    weak_full = LogisticRegression().fit(X[:300], y[:300])
    weak_full.coef_ = np.c_[weak.coef_, np.zeros((1, 4))]
    weak_full.intercept_ = weak.intercept_
    assert np.allclose(weak_full.predict_proba(X[300:]), weak.predict_proba(X_weak[:, :2]))
    return weak_full, strong, X[300:], y[300:]


def test_specificity_is_the_recall_of_the_negative_class(binary):
    weak, strong, X, y = binary
    r = compare_champion(weak, strong, X, y, metric="TNR", n_boot=200, random_state=0)
    assert r.metric == "specificity"
    assert r.champion_score == pytest.approx(skm.recall_score(y, weak.predict(X), pos_label=0))
    assert r.challenger_score == pytest.approx(skm.recall_score(y, strong.predict(X), pos_label=0))
    assert r.test == "permutation"
    assert r.min_events == cm.MIN_EVENTS["specificity"] == 10


def test_ece_equals_evaluates_value(binary):
    weak, strong, X, y = binary
    r = compare_champion(weak, strong, X, y, metric="ece", n_boot=200, random_state=0)
    assert r.champion_score == pytest.approx(evaluate(weak, X, y, baseline=None).metrics["ece"])
    p = strong.predict_proba(X)[:, 1]
    assert r.challenger_score == pytest.approx(expected_calibration_error(y.astype(float), p))
    assert r.higher_is_better is False
    assert r.test == "permutation"


def test_multiclass_ece_is_of_the_top_class_confidence():
    X, y = make_classification(500, n_features=6, n_informative=4, n_classes=3, random_state=1)
    a = LogisticRegression(C=0.01, max_iter=500).fit(X[:250], y[:250])
    b = LogisticRegression(max_iter=500).fit(X[:250], y[:250])
    r = compare_champion(a, b, X[250:], y[250:], metric="ece", n_boot=200, random_state=0)
    for model, score in ((a, r.champion_score), (b, r.challenger_score)):
        assert score == pytest.approx(evaluate(model, X[250:], y[250:], baseline=None).metrics["ece"])
    with pytest.raises(InputError, match=r"specificity.*does not apply to a multiclass task"):
        compare_champion(a, b, X[250:], y[250:], metric="specificity", n_boot=100)


def test_mape_equals_scikit_learn_and_refuses_zeros():
    X, y = make_regression(400, 4, noise=20.0, random_state=0)
    y = y + 400.0
    a = Ridge(alpha=1e3).fit(X[:200], y[:200])
    b = LinearRegression().fit(X[:200], y[:200])
    r = compare_champion(a, b, X[200:], y[200:], metric="MAPE", n_boot=200, random_state=0)
    assert r.metric == "mape"
    assert r.champion_score == pytest.approx(
        skm.mean_absolute_percentage_error(y[200:], a.predict(X[200:])))
    assert r.difference > 0
    zeros = y[200:].copy()
    zeros[:3] = 0.0
    with pytest.raises(InputError, match=r"zeros, so mape is undefined.*\(3 rows\)"):
        compare_champion(a, b, X[200:], zeros, metric="mape", n_boot=100)


@pytest.mark.parametrize("metric", ["specificity", "ece", "mape"])
def test_plans_with_unit_weights_give_the_point_estimate(metric):
    rng = np.random.default_rng(3)
    n = 80
    if metric == "mape":
        y = rng.lognormal(3, 0.5, n)
        target = cm.Target(y, None, None, y - y.mean())
        pred = cm.Predictions("m", y + rng.normal(0, 3, n))
    else:
        y = np.r_[0, 1, rng.integers(0, 2, n - 2)]
        p = np.clip(0.5 * y + rng.uniform(0, 0.5, n), 0.01, 0.99)
        target = cm.Target(y, np.array([0, 1]), 1)
        pred = cm.Predictions("m", (p > 0.5).astype(int), np.column_stack([1 - p, p]),
                              np.array([0, 1]), p)
    plan = cm.plan(metric, target, pred)
    sums = plan.columns.sum(axis=0, keepdims=True)
    assert plan.combine(sums)[0] == pytest.approx(cm.point(metric, target, pred))


def test_spec_and_task_reach_compare_champion(binary):
    weak, strong, X, y = binary
    spec = ProblemSpec("y", "binary", positive_label=0)
    r = compare_champion(weak, strong, X, y, metric="recall", n_boot=100, spec=spec)
    assert r.challenger_score == pytest.approx(skm.recall_score(y, strong.predict(X), pos_label=0))
    agree = compare_champion(weak, strong, X, y, metric="recall", n_boot=100, spec=spec,
                             positive_label=0, task="binary")
    assert agree.challenger_score == r.challenger_score
    with pytest.raises(InputError, match=r"disagrees with spec.positive_label"):
        compare_champion(weak, strong, X, y, metric="recall", n_boot=100, spec=spec,
                         positive_label=1)
    with pytest.raises(InputError, match=r"disagrees with spec.task"):
        compare_champion(weak, strong, X, y, metric="recall", n_boot=100, spec=spec,
                         task="multiclass")
    with pytest.raises(InputError, match="does not apply to a regression task"):
        compare_champion(weak, strong, X, y, metric="recall", n_boot=100, task="regression")
    with pytest.raises(InputError, match="contradicts the target"):
        compare_champion(weak, strong, X, np.arange(len(y)) % 3, metric="recall",
                         n_boot=100, task="binary")


def test_random_state_none_is_seed_zero(binary):
    weak, strong, X, y = binary
    a = compare_champion(weak, strong, X, y, metric="log_loss", n_boot=200)
    b = compare_champion(weak, strong, X, y, metric="log_loss", n_boot=200, random_state=0)
    np.testing.assert_array_equal(a.differences, b.differences)
    assert a.p_value == b.p_value


def test_a_regressor_with_a_classification_metric_is_refused():
    X, y = make_classification(200, random_state=0)
    model = LinearRegression().fit(X, y)
    with pytest.raises(InputError, match="is a regressor, and accuracy is a classification"):
        compare_champion(model, model, X, y, metric="accuracy", n_boot=100)


def test_criteria_read_the_challengers_scores(binary):
    from mllife import SuccessCriteria

    weak, strong, X, y = binary
    r = compare_champion(weak, strong, X, y, metric="roc_auc", guard_metrics=["recall"],
                         n_boot=100)
    table = SuccessCriteria({"roc_auc": 0.5, "recall": 0.99}).checklist(r)
    assert table["actual"].tolist() == pytest.approx([r.challenger_score,
                                                      float(r.guards.loc[0, "challenger"])])
    assert table["passed"].tolist() == [True, False]
    with pytest.raises(InputError, match="'brier', which the champion/challenger comparison"):
        SuccessCriteria({"brier": 0.2}).check(r)


# ---- the new metrics' minimum test sets hold the level ---------------------------------


def _decide(target, preds, metric, seed):
    return _compare(target, preds, [metric], n_boot=300, rng=np.random.default_rng(seed),
                    alpha=ALPHA, confidence=1 - ALPHA, tolerances={})


@pytest.mark.slow
def test_exchangeable_challengers_at_the_new_metrics_minimums():
    """R = 200 null test sets per metric, at its minimum: level alpha/2 + 3 s.e. (0.058).

    Specificity: 100 rows of which 10 negatives (its minimum, counted on the
    smaller class), two label models right 75% of the time, independently;
    measured 0.7%. ECE: 100 rows, two probability models of the same signal
    and noise; measured 2.3%. MAPE: 100 rows, lognormal targets, Gaussian
    errors against Laplace errors of the same mean absolute size (equal
    expected MAPE, not exchangeable); measured 1% to 4% over two seeds (MAE
    on the same data: 2.3%). Development runs used R = 300.
    """
    reps = 200
    counts = {"specificity": 0, "ece": 0, "mape": 0}
    for rep in range(reps):
        rng = np.random.default_rng(50_000 + rep)
        n = 100
        y = np.r_[np.zeros(10, dtype=int), np.ones(n - 10, dtype=int)]
        right = rng.random((2, n)) < 0.75
        preds = [cm.Predictions(name, np.where(right[k], y, 1 - y))
                 for k, name in enumerate(("champion", "challenger"))]
        r = _decide(cm.Target(y, np.array([0, 1]), 1), preds, "specificity", rep)
        assert r.n_events == 10
        counts["specificity"] += r.decision == "promote"

        z = rng.normal(size=n)
        yb = (rng.random(n) < expit(2.0 * z)).astype(int)
        probs = [expit(0.747 * (z + rng.normal(size=n))) for _ in range(2)]
        preds = [cm.Predictions(name, (p > 0.5).astype(int), np.column_stack([1 - p, p]),
                                np.array([0, 1]), p)
                 for name, p in zip(("champion", "challenger"), probs, strict=True)]
        if yb.min() != yb.max():
            r = _decide(cm.Target(yb, np.array([0, 1]), 1), preds, "ece", rep)
            counts["ece"] += r.decision == "promote"

        yr = rng.lognormal(3, 0.5, n)
        preds = [cm.Predictions("champion", yr + rng.normal(0, 5, n)),
                 cm.Predictions("challenger", yr + rng.laplace(0, 5 * np.sqrt(2 / np.pi), n))]
        r = _decide(cm.Target(yr, None, None, yr - yr.mean()), preds, "mape", rep)
        counts["mape"] += r.decision == "promote"
    for metric, promoted in counts.items():
        assert_level(promoted, reps, ALPHA / 2, f"{metric}, n=100")


def test_small_test_sets_never_promote_on_the_new_metrics():
    rng = np.random.default_rng(0)
    n = 60
    y = rng.lognormal(3, 0.5, n)
    preds = [cm.Predictions("champion", y * 1.5), cm.Predictions("challenger", y * 1.01)]
    r = _decide(cm.Target(y, None, None, y - y.mean()), preds, "mape", 0)
    assert r.difference > 0.4
    assert r.decision == "keep"
    assert "needs at least 100" in r.reason
    assert pd.notna(r.p_value)
