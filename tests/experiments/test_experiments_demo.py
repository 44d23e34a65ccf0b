"""The compare demo step works with and without earlier steps."""

from __future__ import annotations

import pandas as pd

from mllife._demo import DemoContext
from mllife.datasets import make_churn
from mllife.experiments import _demo


def _context(tmp_path, n_rows=500):
    clean = make_churn(n_rows, random_state=1, defects=False, drift=True)
    return DemoContext(out=tmp_path, messy=clean, clean=clean)


def test_demo_falls_back_to_a_time_split(tmp_path):
    ctx = _context(tmp_path)
    _demo.run(ctx)
    assert {p.name for p in ctx.written} == {"04_compare.html", "04_compare.json"}
    assert len(ctx.log) == 1
    assert ctx.log[0].startswith("compare: best")
    for key in ("X_train", "y_train", "X_test", "y_test", "model"):
        assert key in ctx.state
    X_train, X_test = ctx.state["X_train"], ctx.state["X_test"]
    assert "churned" not in X_train.columns
    assert "customer_id" not in X_train.columns
    assert not any(pd.api.types.is_datetime64_any_dtype(X_train[c]) for c in X_train)
    # Train strictly before test in time.
    frame = ctx.clean.frame
    assert frame.loc[X_train.index, "last_event_at"].max() <= frame.loc[X_test.index, "last_event_at"].min()
    proba = ctx.state["model"].predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    report = ctx.state["comparison"]
    assert set(report.results["model"]) == {"logistic", "gradient boosting", "baseline"}


def test_demo_uses_the_state_it_is_given(tmp_path):
    ctx = _context(tmp_path)
    frame = ctx.clean.frame
    X = frame[["age", "tenure_months", "plan"]].iloc[:400]
    ctx.state.update(X_train=X, y_train=frame["churned"].iloc[:400])
    _demo.run(ctx)
    assert "X_test" not in ctx.state
    assert list(ctx.state["model"].feature_names_in_) == ["age", "tenure_months", "plan"]


def test_demo_uses_a_split_from_the_split_step(tmp_path):
    from types import SimpleNamespace

    ctx = _context(tmp_path)
    frame = ctx.clean.frame.sort_values("last_event_at")
    ctx.state["split"] = SimpleNamespace(train=frame.iloc[:400], validation=frame.iloc[400:500],
                                         test=frame.iloc[500:])
    _demo.run(ctx)
    assert len(ctx.state["X_train"]) == 400
    assert len(ctx.state["X_test"]) == len(frame) - 500
    assert "churned" not in ctx.state["X_test"].columns
