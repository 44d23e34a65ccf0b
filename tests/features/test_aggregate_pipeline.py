"""AggregateFeatures in a pipeline, on polars and numpy input, pickled and (not) bundled."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

from mllife import InputError, make_churn, make_churn_events
from mllife.bundle import InputSchema, ModelBundle
from mllife.features import AggregateFeatures, describe_features, make_preprocessor
from mllife.split import split


@pytest.fixture(scope="module")
def churn():
    data = make_churn(1_200, random_state=0, defects=False)
    events = make_churn_events(data, random_state=0)
    return data.frame, events


def _agg(events, **params):
    base = {"key": "customer_id", "time_col": "event_at", "cutoff_col": "last_event_at",
            "windows": ("30D", "all"), "columns": ["amount", "items"]}
    return AggregateFeatures(events, **{**base, **params})


def test_first_step_of_a_pipeline_on_a_time_split(churn):
    frame, events = churn
    parts = split(frame, target="churned", time_col="last_event_at", random_state=0)
    X_train, y_train = parts.xy("train")
    X_test, y_test = parts.xy("test")
    agg = _agg(events, by="channel")
    features = agg.fit_transform(X_train)
    assert features.columns[:X_train.shape[1]].tolist() == X_train.columns.tolist()
    model = make_pipeline(clone(agg), make_preprocessor(features),
                          LogisticRegression(max_iter=2_000))
    model.fit(X_train, y_train)
    auc = roc_auc_score(y_test, model.predict_proba(X_test)[:, 1])
    plain = make_pipeline(make_preprocessor(X_train), LogisticRegression(max_iter=2_000))
    plain_auc = roc_auc_score(y_test, plain.fit(X_train, y_train).predict_proba(X_test)[:, 1])
    assert auc > plain_auc + 0.03  # the history before each cutoff carries signal
    table = describe_features(model).set_index("feature")
    aggregated = [f for f in table.index if "amount__sum__30D" in f]
    assert aggregated
    # traced through the preprocessor back to X's key and cutoff columns
    assert set(table.loc[aggregated[0], "source"].split(", ")) >= {"customer_id",
                                                                   "last_event_at"}
    assert "AggregateFeatures" in table.loc[aggregated[0], "steps"]


def test_the_planted_future_leaks_through_a_groupby_but_not_through_the_features(churn):
    frame, events = churn
    y = frame["churned"].to_numpy()
    everything = frame["customer_id"].map(events.groupby("customer_id")["amount"].min())
    assert roc_auc_score(y, -everything.fillna(0)) > 0.95          # refunds after the cutoff
    point_in_time = _agg(events, windows=("all",), aggregations=("min",),
                         keep_original=False).fit_transform(frame)["amount__min__all"]
    assert roc_auc_score(y, -point_in_time.fillna(0)) < 0.9


def test_polars_tables_in_and_out(churn):
    pl = pytest.importorskip("polars")
    frame, events = churn
    X = frame[["customer_id", "last_event_at"]].head(200)
    want = _agg(events, keep_original=False).fit_transform(X)
    agg = _agg(pl.from_pandas(events), keep_original=False)
    got = agg.fit_transform(pl.from_pandas(X))
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    polars_out = agg.set_output(transform="polars").transform(pl.from_pandas(X))
    assert isinstance(polars_out, pl.DataFrame)
    assert polars_out.columns == want.columns.tolist()


def test_numpy_rows_with_numeric_times():
    events = pd.DataFrame({"x0": [1.0, 1.0, 2.0], "t": [1.0, 2.0, 3.0], "v": [5.0, 7.0, 9.0]})
    X = np.array([[1.0, 2.5, 0.3], [2.0, 3.0, 0.4]])
    agg = AggregateFeatures(events, key="x0", time_col="t", cutoff_col="x1", windows=(1.0,),
                            aggregations=("count", "sum"))
    out = agg.fit_transform(X)
    assert isinstance(out, np.ndarray)
    assert agg.get_feature_names_out().tolist() == ["x0", "x1", "x2", "count__1", "v__sum__1"]
    np.testing.assert_array_equal(out[:, 3:], [[1.0, 7.0], [0.0, 0.0]])


def test_pickle_round_trip(churn):
    frame, events = churn
    X = frame.head(100)
    agg = _agg(events, by="channel").fit(X)
    again = pickle.loads(pickle.dumps(agg))
    pd.testing.assert_frame_equal(again.transform(X), agg.transform(X))


def test_a_bundle_refuses_the_event_table_clearly(churn, tmp_path):
    """skops cannot carry a DataFrame parameter: the bundle holds the model on the features,
    computed outside it (docs/aggregates.md), and saving the whole pipeline says so."""
    frame, events = churn
    X, y = frame[["customer_id", "last_event_at"]].head(300), frame["churned"].head(300)
    agg = _agg(events, keep_original=False, aggregations=("count", "sum"))
    model = make_pipeline(agg, LogisticRegression()).fit(X, y)
    bundle = ModelBundle(model, InputSchema.infer(X), version="1")
    with pytest.raises(InputError, match="cannot save the bundle: AggregateFeatures holds its event table"):
        bundle.save(tmp_path / "model.mllife")
    assert not (tmp_path / "model.mllife").exists()
    # the pattern that works: features outside, the model on them inside
    features = clone(agg).fit_transform(X)
    inner = ModelBundle(LogisticRegression().fit(features, y), InputSchema.infer(features),
                        version="1")
    assert inner.predict(features.head(3))["prediction"].shape == (3,)
    inner.save(tmp_path / "inner.mllife")
