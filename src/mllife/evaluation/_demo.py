"""Demo step: evaluate the model like a sceptic (``05_evaluation``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._frame import infer_kind, is_datetime, is_numeric
from ._evaluate import evaluate


def _fallback_model(X: pd.DataFrame, y: pd.Series) -> Any:
    """One-hot strings, standardise numbers, drop IDs and datetimes; logistic regression.

    (Numbers are scaled rather than passed through so the solver converges
    quickly; a linear model keeps the step fast on a shared machine.)
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    strings: list[Any] = []
    numbers: list[Any] = []
    for name in X.columns:
        col = X[name]
        if is_datetime(col) or infer_kind(col) == "identifier":
            continue
        (numbers if is_numeric(col) else strings).append(name)
    ct = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), strings), ("num", StandardScaler(), numbers)],
        remainder="drop",
    )
    return Pipeline([("prep", ct), ("model", LogisticRegression(max_iter=1000))]).fit(X, y)


def _data(ctx: Any) -> tuple[Any, pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    state = ctx.state
    keys = ("model", "X_train", "y_train", "X_test", "y_test")
    if all(state.get(k) is not None for k in keys):
        return state["model"], state["X_train"], state["y_train"], state["X_test"], state["y_test"]
    frame = ctx.clean.frame.sort_values(ctx.clean.time_col, kind="stable")
    cut = int(len(frame) * 0.75)
    train, test = frame.iloc[:cut], frame.iloc[cut:]
    target = ctx.clean.target
    X_train, y_train = train.drop(columns=[target]), train[target]
    X_test, y_test = test.drop(columns=[target]), test[target]
    model = state.get("model")
    if model is None:
        model = _fallback_model(X_train, y_train)
    return model, X_train, y_train, X_test, y_test


def run(ctx: Any) -> None:
    model, X_train, y_train, X_test, y_test = _data(ctx)
    criteria = None
    try:
        from ..problem import SuccessCriteria

        criteria = SuccessCriteria({"roc_auc": 0.7, "recall": 0.5}, max_latency_ms=50)
    except ImportError:  # the problem module is optional for this step
        criteria = None
    sensitive = X_test["gender"] if "gender" in X_test.columns else None
    time = X_test["last_event_at"] if "last_event_at" in X_test.columns else None
    report = evaluate(
        model, X_test, y_test, X_train=X_train, y_train=y_train,
        sensitive_features=sensitive, time=time, criteria=criteria, explain=True,
    )
    ctx.state["evaluation"] = report
    ctx.write(report, "05_evaluation")
    auc = report.metrics.get("roc_auc", np.nan)
    verdict = {True: "passes", False: "fails", None: "has no"}[report.passed]
    ctx.say(
        f"evaluation: ROC-AUC {auc:.3f}, lift {report.lift.get('roc_auc', np.nan):+.3f} over "
        f"{report.baseline_name}; {verdict} success criteria; "
        f"{len(report.findings_by(severity='warning'))} warnings; p95 latency "
        f"{report.latency_p95_ms:.1f} ms/row"
    )
