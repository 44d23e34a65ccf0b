"""retrain: promote a better challenger, keep an equal one, criteria, versions, lineage, schema."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from mllife import SuccessCriteria
from mllife._errors import InputError, SchemaError
from mllife.bundle import InputSchema, ModelBundle
from mllife.datasets import make_churn
from mllife.drift import DriftProfile
from mllife.monitor import RetrainResult, retrain
from mllife.monitor._retrain import bump_version

FEATURES = ["tenure_months", "monthly_charges", "support_tickets", "usage_gb", "age"]


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    return make_churn(6_000, random_state=0, defects=False).frame


@pytest.fixture(scope="module")
def parts(churn):
    """Old training rows, new training rows (a frame with target and time), holdout."""
    old = churn.iloc[:2000]
    new = churn.iloc[2000:4000][[*FEATURES, "last_event_at", "churned"]]
    hold = churn.iloc[4000:]
    return old, new, (hold[FEATURES], hold["churned"])


@pytest.fixture(scope="module")
def bundle(churn, parts) -> ModelBundle:
    old = parts[0]
    stump = DecisionTreeClassifier(max_depth=1, random_state=0).fit(old[FEATURES], old["churned"])
    schema = InputSchema.infer(churn[FEATURES])     # the contract covers every row's range
    return ModelBundle(stump, schema, version="1.4.2",
                       metadata={"target": "churned", "time_col": "last_event_at",
                                 "owner": "churn-team", "trained_at": "2024-01-01"},
                       metrics={"roc_auc": 0.7}, drift_profile=DriftProfile.fit(old[FEATURES]))


@pytest.fixture(scope="module")
def promoted(bundle, parts):
    _, new, hold = parts
    return retrain(bundle, make_pipeline(StandardScaler(), LogisticRegression()), new,
                   holdout=hold, trained_at="2024-06-30T12:00:00")


def test_a_better_estimator_is_promoted(promoted, bundle):
    assert isinstance(promoted, RetrainResult)
    assert promoted.promote
    assert promoted.comparison.promote
    assert promoted.comparison.metric == "roc_auc"            # first of bundle.metrics
    assert promoted.comparison.challenger_score > promoted.comparison.champion_score
    new = promoted.bundle
    assert isinstance(new, ModelBundle)
    assert new.version == "1.4.3"
    assert new.schema == bundle.schema
    assert new.metrics == {"roc_auc": promoted.comparison.challenger_score}
    assert promoted.reasons[0].startswith("compare_champion: promote on roc_auc")
    assert new.predict_proba(bundle.schema.validate(pd.DataFrame(
        {c: [1.0] for c in FEATURES}))).shape[0] == 1


def test_lineage_metadata(promoted, parts):
    _, new, _ = parts
    meta = promoted.bundle.metadata
    assert meta["parent_version"] == "1.4.2"
    assert meta["trained_at"] == "2024-06-30T12:00:00+00:00"
    assert meta["data_rows"] == len(new) == 2000
    window = meta["data_window"]
    assert window["column"] == "last_event_at"
    assert pd.Timestamp(window["start"]) == new["last_event_at"].min()
    assert pd.Timestamp(window["end"]) == new["last_event_at"].max()
    assert meta["owner"] == "churn-team"
    assert meta["target"] == "churned"
    json.dumps(dict(meta))                                                 # JSON-safe
    profile = promoted.bundle.drift_profile
    assert isinstance(profile, DriftProfile)
    assert profile.n_rows == 2000
    assert profile.columns == FEATURES


def test_result_to_dict_and_repr(promoted):
    data = promoted.to_dict()
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert data["promote"]
    assert data["bundle"]["version"] == "1.4.3"
    assert data["comparison"]["report"] == "ChampionChallengerResult"
    assert "version '1.4.3'" in repr(promoted)


def test_the_same_estimator_is_kept(bundle, parts):
    _, new, hold = parts
    result = retrain(bundle, DecisionTreeClassifier(max_depth=1, random_state=0), new,
                     holdout=hold, trained_at="2024-06-30")
    assert not result.promote
    assert result.bundle is None
    assert result.comparison.decision == "keep"
    assert result.reasons[0].startswith("compare_champion: keep")
    assert result.to_dict()["bundle"] is None


def test_criteria_block_promotion(bundle, parts):
    _, new, hold = parts
    estimator = make_pipeline(StandardScaler(), LogisticRegression())
    blocked = retrain(bundle, estimator, new, holdout=hold, criteria={"roc_auc": 0.99},
                      trained_at="2024-06-30")
    assert blocked.comparison.promote
    assert not blocked.promote
    assert blocked.bundle is None
    assert any(r.startswith("criteria not met: roc_auc") for r in blocked.reasons)
    assert [f.severity for f in blocked.criteria_findings] == ["error"]
    # A criterion on another metric: checked on the challenger's evaluation of the holdout.
    recall = retrain(bundle, estimator, new, holdout=hold,
                     criteria=SuccessCriteria({"accuracy": 0.5, "recall": 0.999}),
                     trained_at="2024-06-30")
    assert recall.comparison.metric == "accuracy"              # the criteria's first metric
    assert not recall.promote
    assert any("recall" in r for r in recall.reasons)
    met = retrain(bundle, estimator, new, holdout=hold, criteria={"roc_auc": 0.6},
                  trained_at="2024-06-30")
    assert met.promote
    assert met.reasons[-1].startswith("criteria met")


def test_inputs_are_not_mutated(bundle, parts):
    _, new, (X_hold, y_hold) = parts
    before = (new.copy(), X_hold.copy(), y_hold.copy(), dict(bundle.metadata), bundle.version)
    estimator = LogisticRegression(max_iter=500)
    params = estimator.get_params()
    retrain(bundle, estimator, new, holdout=(X_hold, y_hold), trained_at="2024-06-30")
    pd.testing.assert_frame_equal(new, before[0])
    pd.testing.assert_frame_equal(X_hold, before[1])
    pd.testing.assert_series_equal(y_hold, before[2])
    assert dict(bundle.metadata) == before[3]
    assert bundle.version == before[4]
    assert estimator.get_params() == params
    assert not hasattr(estimator, "coef_")


@pytest.mark.parametrize(("parent", "expected"), [
    ("1.4.2", "1.4.3"), ("v7", "v8"), ("2.0", "2.1"), ("model-009", "model-010"),
    ("1.9-rc", "1.10-rc"), ("prod", "prod.1"),
])
def test_version_bumping(parent, expected):
    assert bump_version(parent) == expected


def test_explicit_and_bad_versions(bundle, parts):
    _, new, hold = parts
    estimator = make_pipeline(StandardScaler(), LogisticRegression())
    result = retrain(bundle, estimator, new, holdout=hold, version="2.0.0",
                     trained_at="2024-06-30")
    assert result.bundle.version == "2.0.0"
    for version, match in (("1.4.2", "current bundle's version"), ("", "non-empty"),
                           (3, "non-empty")):
        with pytest.raises(InputError, match=match):
            retrain(bundle, estimator, new, holdout=hold, version=version)


def test_a_holdout_breaking_the_schema(bundle, parts):
    _, new, (X_hold, y_hold) = parts
    broken = X_hold.drop(columns=["age"]).assign(tenure_months="many")
    with pytest.raises(SchemaError, match=r"^holdout breaks the bundle's schema") as err:
        retrain(bundle, LogisticRegression(), new, holdout=(broken, y_hold))
    assert {p["column"] for p in err.value.problems} >= {"age", "tenure_months"}
    with pytest.raises(SchemaError, match=r"^data breaks the bundle's schema"):
        retrain(bundle, LogisticRegression(), new.drop(columns=["usage_gb"]),
                holdout=(X_hold, y_hold))


def test_bad_inputs(bundle, parts):
    _, new, (X_hold, y_hold) = parts
    plain = ModelBundle(bundle.model, bundle.schema, version="1")      # no metadata target
    with pytest.raises(InputError, match="no target column is known"):
        retrain(plain, LogisticRegression(), new, holdout=(X_hold, y_hold))
    with pytest.raises(InputError, match="has no target column"):
        retrain(bundle, LogisticRegression(), new, holdout=(X_hold, y_hold), target="label")
    with pytest.raises(InputError, match="y has 10"):
        retrain(bundle, LogisticRegression(), (new[FEATURES], new["churned"][:10]),
                holdout=(X_hold, y_hold))
    with pytest.raises(InputError, match="missing values"):
        retrain(bundle, LogisticRegression(), new.assign(churned=np.nan),
                holdout=(X_hold, y_hold))
    with pytest.raises(InputError, match="bundle is a"):
        retrain(bundle.model, LogisticRegression(), new, holdout=(X_hold, y_hold))
    with pytest.raises(InputError, match="cannot be cloned"):
        retrain(bundle, object(), new, holdout=(X_hold, y_hold))
    with pytest.raises(InputError, match="rmse"):
        retrain(bundle, LogisticRegression(), new, holdout=(X_hold, y_hold), metric="rmse")
    with pytest.raises(InputError, match="trained_at"):
        retrain(bundle, LogisticRegression(), new, holdout=(X_hold, y_hold), trained_at="?")


def test_regression_defaults_to_mae_and_frames_by_target(churn):
    X = churn[["tenure_months", "usage_gb"]]
    frame = churn[["tenure_months", "usage_gb", "monthly_charges"]]
    old = DummyRegressor().fit(X[:2000], frame["monthly_charges"][:2000])
    bundle = ModelBundle(old, InputSchema.infer(X), version="v7")
    result = retrain(bundle, LinearRegression(), frame[2000:4000], holdout=frame[4000:],
                     target="monthly_charges", trained_at="2024-06-30")
    assert result.comparison.metric == "mae"
    assert result.promote
    assert result.bundle.version == "v8"
    assert result.bundle.metadata["data_window"] is None              # no time column named
    assert result.bundle.metadata["target"] == "monthly_charges"
    assert result.bundle.drift_profile is None                        # the parent had none


def test_polars_sets(bundle, parts):
    pl = pytest.importorskip("polars")
    _, new, (X_hold, y_hold) = parts
    result = retrain(bundle, make_pipeline(StandardScaler(), LogisticRegression()),
                     pl.from_pandas(new), holdout=(pl.from_pandas(X_hold), y_hold.to_numpy()),
                     trained_at="2024-06-30")
    assert result.promote
    assert result.bundle.metadata["data_window"]["column"] == "last_event_at"


def test_spec_supplies_target_and_criteria(bundle, parts):
    from mllife import ProblemSpec

    _, new, hold = parts
    spec = ProblemSpec("churned", "binary", positive_label=1,
                       criteria=SuccessCriteria({"roc_auc": 0.99}))
    blocked = retrain(bundle, make_pipeline(StandardScaler(), LogisticRegression()), new,
                      holdout=hold, spec=spec, trained_at="2024-06-30")
    assert not blocked.promote                                     # the spec's criteria apply
    assert any(r.startswith("criteria not met: roc_auc") for r in blocked.reasons)
    with pytest.raises(InputError, match="disagrees"):
        retrain(bundle, LogisticRegression(), new, holdout=hold, spec=spec, target="other")
