"""Small fitted bundles the monitor tests share: binary (churn), multiclass and regression."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

DAY = pd.Timedelta("1D")
T0 = pd.Timestamp("2024-03-01")


@dataclass
class Fitted:
    """A bundle with its reference (inputs, outputs optional, label) and a production pool."""

    bundle: Any
    reference: pd.DataFrame  # inputs + label column "y"
    pool: pd.DataFrame  # production rows: inputs + "y" + "id"
    inputs: list[str]


def _churn_bundle(n_ref: int = 1500, n_pool: int = 3000) -> Fitted:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from mllife.bundle import InputSchema, ModelBundle
    from mllife.datasets import make_churn
    from mllife.drift import DriftProfile
    from mllife.features import make_preprocessor

    frame = make_churn(n_ref + n_pool, random_state=3, defects=False).frame
    inputs = ["plan", "contract", "region", "age", "tenure_months", "monthly_charges",
              "usage_gb", "support_tickets"]
    X, y = frame[inputs], frame["churned"]
    X_ref, y_ref = X.iloc[:n_ref], y.iloc[:n_ref]
    model = Pipeline([("pre", make_preprocessor(X_ref)),
                      ("model", LogisticRegression(max_iter=1000))]).fit(X_ref, y_ref)
    bundle = ModelBundle(model, InputSchema.infer(X_ref, out_of_range="ignore"), version="1.0.0",
                         drift_profile=DriftProfile.fit(X_ref))
    pool = X.iloc[n_ref:].assign(y=y.iloc[n_ref:].to_numpy(), id=np.arange(n_pool))
    return Fitted(bundle, X_ref.assign(y=y_ref.to_numpy()), pool.reset_index(drop=True), inputs)


def _multiclass_bundle() -> Fitted:
    from sklearn.linear_model import LogisticRegression

    from mllife.bundle import InputSchema, ModelBundle
    from mllife.drift import DriftProfile

    rng = np.random.default_rng(7)
    n = 3000
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    logits = np.column_stack([X["a"], X["b"], -X["a"] - X["b"]]) * 1.5
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array(["red", "green", "blue"], dtype=object)[
        (rng.uniform(size=(n, 1)) > p.cumsum(axis=1)).sum(axis=1)]
    ref = slice(0, 1000)
    model = LogisticRegression(max_iter=1000).fit(X.iloc[ref], y[ref])
    bundle = ModelBundle(model, InputSchema.infer(X.iloc[ref], out_of_range="ignore"),
                         version="2.0", drift_profile=DriftProfile.fit(X.iloc[ref]))
    pool = X.iloc[1000:].assign(y=y[1000:], id=np.arange(n - 1000)).reset_index(drop=True)
    return Fitted(bundle, X.iloc[ref].assign(y=y[ref]), pool, ["a", "b"])


def _regression_bundle() -> Fitted:
    from sklearn.linear_model import LinearRegression

    from mllife.bundle import InputSchema, ModelBundle
    from mllife.drift import DriftProfile

    rng = np.random.default_rng(11)
    n = 3000
    X = pd.DataFrame({"u": rng.normal(size=n), "v": rng.uniform(size=n)})
    y = 2.0 * X["u"] - X["v"] + rng.normal(scale=0.5 + X["v"], size=n)
    ref = slice(0, 1000)
    model = LinearRegression().fit(X.iloc[ref], y.iloc[ref])
    bundle = ModelBundle(model, InputSchema.infer(X.iloc[ref], out_of_range="ignore"),
                         version="3.1", drift_profile=DriftProfile.fit(X.iloc[ref]))
    pool = X.iloc[1000:].assign(y=y.iloc[1000:].to_numpy(), id=np.arange(n - 1000))
    return Fitted(bundle, X.iloc[ref].assign(y=y.iloc[ref].to_numpy()),
                  pool.reset_index(drop=True), ["u", "v"])


@pytest.fixture(scope="session")
def churn() -> Fitted:
    return _churn_bundle()


@pytest.fixture(scope="session")
def multiclass() -> Fitted:
    return _multiclass_bundle()


@pytest.fixture(scope="session")
def regression() -> Fitted:
    return _regression_bundle()


def daily_batches(pool: pd.DataFrame, n_days: int, rows: int, *, start: int = 0) -> list[pd.DataFrame]:
    """``n_days`` batches of ``rows`` rows from ``pool``, one per day, times within the day."""
    out = []
    for d in range(n_days):
        part = pool.iloc[(start + d) * rows:(start + d + 1) * rows]
        hours = pd.to_timedelta(np.linspace(0, 23, len(part)), unit="h")
        out.append(part.assign(t=(T0 + d * DAY + hours).to_numpy()))
    return out
