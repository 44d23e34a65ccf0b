"""``evaluate`` is reproducible: one ``random_state`` for every draw, a row budget for SHAP,
and timings behind a switch (``measure``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

import mllife
from mllife.evaluation import _diagnostics, evaluate


@pytest.fixture(scope="module")
def knn():
    """A model explained by the permutation explainer (random orders and background)."""
    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.normal(size=n),
                      "group": rng.choice(np.array(["g1", "g2", "g3"]), n,
                                          p=[0.4, 0.4, 0.2])})
    y = pd.Series((X["a"] - X["b"] + rng.normal(0, 1, n) > 0).astype(int), name="y")
    features = ["a", "b", "c"]
    model = KNeighborsClassifier(15).fit(X[features].iloc[:400], y.iloc[:400])
    return model, X[features].iloc[400:], y.iloc[400:], X["group"].iloc[400:]


def _without_timings(report):
    """``report.to_dict()`` without the wall-clock seconds of the explanation, wherever kept."""

    def drop(value):
        if isinstance(value, dict):
            return {k: drop(v) for k, v in value.items() if k != "seconds"}
        if isinstance(value, list):
            return [drop(v) for v in value]
        return value

    return drop(report.to_dict())


def test_two_runs_with_the_same_seed_are_identical(knn):
    model, X, y, group = knn
    runs = [evaluate(model, X, y, sensitive_features=group, explain=True, explain_rows=60,
                     measure=False, baseline=None, random_state=7) for _ in range(2)]
    first, second = runs
    pd.testing.assert_frame_equal(first.importance, second.importance, check_exact=True)
    assert first.explanation["explainer"].startswith("permutation")
    assert _without_timings(first) == _without_timings(second)
    pd.testing.assert_frame_equal(first.fairness_tests, second.fairness_tests, check_exact=True)


def test_none_is_seed_zero_and_other_seeds_may_differ(knn):
    model, X, y, _ = knn
    kw = {"explain": True, "explain_rows": 60, "measure": False, "baseline": None}
    default = evaluate(model, X, y, **kw)
    zero = evaluate(model, X, y, random_state=0, **kw)
    other = evaluate(model, X, y, random_state=1, **kw)
    pd.testing.assert_frame_equal(default.importance, zero.importance, check_exact=True)
    # Another seed explains another sample of rows with other orders: other numbers.
    assert not np.array_equal(zero.importance.sort_values("feature")["mean_abs_shap"].to_numpy(),
                              other.importance.sort_values("feature")["mean_abs_shap"].to_numpy())
    generator = evaluate(model, X, y, random_state=np.random.default_rng(3), **kw)
    assert generator.importance is not None
    with pytest.raises(mllife.InputError, match="random_state"):
        evaluate(model, X, y, random_state="zero", measure=False, baseline=None)


def test_the_fairness_monte_carlo_p_value_follows_the_seed():
    # Groups of 40 rows with few selected: expected counts under 5, so the p-values of
    # the parity tests are Monte-Carlo ones, drawn with random_state.
    rng = np.random.default_rng(1)
    n = 200
    X = pd.DataFrame({"x": rng.normal(size=n)})
    group = pd.Series(np.repeat(list("abcde"), 40), name="g")
    y = pd.Series(rng.integers(0, 2, n), name="y")

    class Rare(LogisticRegression):
        def predict(self, X):   # about 5% selected: sparse tables
            return (np.asarray(X)[:, 0] > 1.65).astype(int)

    model = Rare().fit(X, y)
    reports = {seed: evaluate(model, X, y, sensitive_features=group, measure=False,
                              baseline=None, random_state=seed) for seed in (0, 0, 5)}
    tests = {seed: r.fairness_tests for seed, r in reports.items()}
    assert tests[0]["test"].str.contains("Monte-Carlo").any()
    again = evaluate(model, X, y, sensitive_features=group, measure=False, baseline=None,
                     random_state=0).fairness_tests
    pd.testing.assert_frame_equal(tests[0], again, check_exact=True)
    assert not np.array_equal(tests[0]["p_value"].to_numpy(), tests[5]["p_value"].to_numpy())


def test_the_train_sample_follows_the_seed(monkeypatch):
    monkeypatch.setattr(_diagnostics, "MAX_TRAIN_ROWS", 50)
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"x": rng.normal(size=400)})
    y = pd.Series(X["x"] + rng.normal(size=400), name="y")
    model = LinearRegression().fit(X, y)
    kw = {"X_train": X, "y_train": y, "measure": False, "baseline": None}
    a, b = (evaluate(model, X[:100], y[:100], random_state=4, **kw) for _ in range(2))
    c = evaluate(model, X[:100], y[:100], random_state=5, **kw)
    assert dict(a.train_metrics) == dict(b.train_metrics)
    assert dict(a.train_metrics) != dict(c.train_metrics)
    assert any("seeded sample of 50 training rows" in n for n in a.notes)


def test_explain_stops_on_a_row_budget(knn):
    model, X, y, _ = knn
    r = evaluate(model, X, y, explain=True, explain_rows=40, measure=False, baseline=None)
    assert r.explanation["rows"] == 40
    assert r.explanation["row_budget"] == 40
    assert r.explanation["test_rows"] == len(X)
    assert any("seeded sample of 40 of the 200 test rows" in n for n in r.notes)
    everything = evaluate(model, X.iloc[:30], y.iloc[:30], explain=True, explain_rows=40,
                          measure=False, baseline=None)
    assert everything.explanation["rows"] == 30
    assert not any("seeded sample" in n for n in everything.notes)
    for bad in (0, -3, 2.5, True, "300"):
        with pytest.raises(mllife.InputError, match="explain_rows"):
            evaluate(model, X, y, explain=True, explain_rows=bad, measure=False)


def test_measure_false_leaves_latency_and_size_unmeasured(knn):
    model, X, y, _ = knn
    measured = evaluate(model, X, y, baseline=None)
    assert measured.latency_p95_ms > 0
    assert measured.model_bytes > 0
    r = evaluate(model, X, y, baseline=None, measure=False)
    for name in ("latency_p50_ms", "latency_p95_ms", "batch_p50_ms", "batch_p95_ms", "model_bytes"):
        assert getattr(r, name) is None
    assert "Latency and model size not measured (measure=False)." in r.notes
    assert "latency and size" not in r.tables
    assert not r.findings_by(check="size_unmeasured")


def test_a_latency_criterion_without_measuring_is_not_met_and_says_so(knn):
    model, X, y, _ = knn
    criteria = mllife.SuccessCriteria({"accuracy": 0.5}, max_latency_ms=10_000,
                                      max_model_bytes=10**9)
    measured = evaluate(model, X, y, baseline=None, criteria=criteria)
    assert measured.passed is True
    r = evaluate(model, X, y, baseline=None, criteria=criteria, measure=False)
    assert r.passed is False
    items = r.checklist.set_index("item")
    assert items.loc["accuracy ≥ 0.5", "passed"]
    unmeasured = [i for i in items.index if i.endswith("(not measured)")]
    assert [i.split()[0] for i in unmeasured] == ["latency", "model"]
    assert not items.loc[unmeasured, "passed"].any()
    assert items.loc[unmeasured, "actual"].isna().all()
    unmet = [f for f in r.findings_by(check="success_criteria") if f.severity == "error"]
    assert sorted(f.details["kind"] for f in unmet) == ["latency", "size"]
    assert all("not measured (evaluate(measure=False))" in f.message for f in unmet)
    assert all(f.details["measured"] is False for f in unmet)
    # Criteria that need no timing are checked as usual.
    plain = evaluate(model, X, y, baseline=None, measure=False,
                     criteria=mllife.SuccessCriteria({"accuracy": 0.5}))
    assert plain.passed is True
