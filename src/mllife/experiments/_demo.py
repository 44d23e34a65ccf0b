"""Demo step: the baseline, a linear model and gradient boosting on the same folds."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._compare import compare_models

TARGET, TIME, ID = "churned", "last_event_at", "customer_id"


def _xy(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Features (target, id and datetime columns dropped) and target."""
    features = frame.drop(columns=[c for c in (TARGET, ID) if c in frame.columns])
    features = features.loc[:, [c for c in features.columns
                                if not pd.api.types.is_datetime64_any_dtype(features[c])]]
    return features, frame[TARGET]


def _time_split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    """Train up to the 80% time quantile, test after."""
    early = frame[TIME] <= frame[TIME].quantile(0.8)
    return (*_xy(frame[early]), *_xy(frame[~early]))


def _preprocessor(ctx: Any, X: pd.DataFrame) -> Any:
    pre = ctx.state.get("preprocessor")
    if pre is not None:
        return pre
    try:
        from ..features import make_preprocessor

        return make_preprocessor(X)
    except (ImportError, AttributeError):
        from sklearn.compose import ColumnTransformer, make_column_selector
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
        categorical = make_pipeline(SimpleImputer(strategy="most_frequent"),
                                    OneHotEncoder(handle_unknown="ignore"))
        return ColumnTransformer(
            [("num", numeric, make_column_selector(dtype_include="number")),
             ("cat", categorical, make_column_selector(dtype_exclude="number"))],
        )


def run(ctx: Any) -> None:
    from sklearn.base import clone
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from threadpoolctl import threadpool_limits

    X_train, y_train = ctx.state.get("X_train"), ctx.state.get("y_train")
    if X_train is None or y_train is None:
        split = ctx.state.get("split")
        if split is not None:
            (X_train, y_train), (X_test, y_test) = _xy(split.train), _xy(split.test)
        else:
            X_train, y_train, X_test, y_test = _time_split(ctx.clean.frame)
        ctx.state.update(X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test)
    pre = _preprocessor(ctx, X_train)
    models = {
        "logistic": make_pipeline(clone(pre), LogisticRegression(max_iter=1_000)),
        "gradient boosting": make_pipeline(
            clone(pre), HistGradientBoostingClassifier(max_iter=50, random_state=0)),
    }
    # One OpenMP thread: the boosting fits are small, and on a busy machine threads that
    # wait for each other cost far more than they save (timings stay comparable too).
    with threadpool_limits(limits=1, user_api="openmp"):
        report = compare_models(models, X_train, y_train, cv=3)
        best = report.best if report.best in models else "logistic"
        ctx.state["model"] = clone(models[best]).fit(X_train, y_train)
    ctx.write(report, "04_compare")
    ctx.state["comparison"] = report
    lift = report.results.set_index("model").loc[best, f"lift_{report.primary}"]
    ctx.say(f"compare: best {best!r}, {report.primary} "
            f"{report.results.set_index('model').loc[best, f'{report.primary}_mean']:.3f} "
            f"(+{lift:.3f} over the baseline) of {len(report.results)} models")
