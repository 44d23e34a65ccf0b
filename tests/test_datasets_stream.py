"""make_churn_stream: deterministic batches, and each planted incident is really there."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import mllife
from mllife.datasets import ChurnStream, make_churn_stream
from mllife.datasets._stream import INPUT_COLUMNS, SCENARIOS, STALE_WINDOWS, STREAM_START

N_WINDOWS, ROWS, START = 12, 600, 5


def _stream(scenario=None, **kw):
    kw = {"n_windows": N_WINDOWS, "rows_per_window": ROWS, "start": START, "reference_rows": 1_000,
          "random_state": 7, **kw}
    return make_churn_stream(scenario=scenario, **kw)


@pytest.fixture(scope="module")
def null():
    return _stream()


@pytest.fixture(scope="module")
def reference_model():
    """A logistic regression fitted on a large reference: the population's logit is linear
    in one-hot categories and raw numbers, so this model is well specified."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    big = make_churn_stream(1, 10, reference_rows=40_000, random_state=123).reference
    cats = ["plan", "contract", "region", "payment_method", "gender"]
    nums = [c for c in INPUT_COLUMNS if c not in cats]
    pre = make_column_transformer((OneHotEncoder(), cats), (StandardScaler(), nums))
    return make_pipeline(pre, LogisticRegression(max_iter=2_000)).fit(big[list(INPUT_COLUMNS)], big["churned"])


def _calibration_p(model, X: pd.DataFrame, y: np.ndarray, groups: int = 10) -> float:
    """Hosmer-Lemeshow p-value of ``model`` on new data (external validation: ``groups`` df)."""
    p = model.predict_proba(X[list(INPUT_COLUMNS)])[:, 1]
    edges = np.quantile(p, np.linspace(0, 1, groups + 1)[1:-1])
    g = np.searchsorted(edges, p)
    observed = np.bincount(g, weights=y, minlength=groups)
    expected = np.bincount(g, weights=p, minlength=groups)
    variance = np.bincount(g, weights=p * (1 - p), minlength=groups)
    return float(stats.chi2.sf(np.sum((observed - expected) ** 2 / variance), groups))


def _labelled(stream: ChurnStream, windows) -> pd.DataFrame:
    rows = pd.concat([stream.batches[w] for w in windows], ignore_index=True)
    return rows.merge(stream.labels, on="customer_id", how="inner", validate="one_to_one")


def test_deterministic():
    a, b = _stream("covariate_shift"), _stream("covariate_shift")
    for x, y in zip(a.batches, b.batches, strict=True):
        pd.testing.assert_frame_equal(x, y)
    pd.testing.assert_frame_equal(a.reference, b.reference)
    pd.testing.assert_frame_equal(a.labels, b.labels)
    assert a.manifest == b.manifest
    assert not a.batches[0].equals(_stream("covariate_shift", random_state=8).batches[0])
    assert make_churn_stream(2, 50, reference_rows=100).batches[1].equals(
        make_churn_stream(2, 50, reference_rows=100, random_state=0).batches[1])


def test_shapes_and_columns(null):
    assert isinstance(null, ChurnStream)
    assert len(null.batches) == N_WINDOWS
    expected = ["customer_id", "scored_at", *INPUT_COLUMNS]
    for w, batch in enumerate(null.batches):
        assert batch.columns.tolist() == expected
        assert len(batch) == ROWS
        day = STREAM_START + pd.Timedelta(days=w)
        assert (batch["scored_at"] >= day).all()
        assert (batch["scored_at"] < day + pd.Timedelta(days=1)).all()
        assert batch["scored_at"].is_monotonic_increasing
        assert batch.notna().all().all()
    assert null.reference.columns.tolist() == [*expected, "churned"]
    assert len(null.reference) == 1_000
    assert (null.reference["scored_at"] < STREAM_START).all()
    ids = pd.concat([b["customer_id"] for b in null.batches])
    assert ids.is_unique
    assert set(ids) == set(null.labels["customer_id"])
    assert null.labels["customer_id"].is_unique
    assert not set(ids) & set(null.reference["customer_id"])
    assert null.labels.columns.tolist() == ["customer_id", "churned"]
    assert set(null.labels["churned"].unique()) == {0, 1}
    assert null.X_reference.columns.tolist() == list(INPUT_COLUMNS)
    assert null.y_reference.name == null.target == "churned"
    assert (null.time_col, null.id_col, null.inputs) == ("scored_at", "customer_id", INPUT_COLUMNS)
    assert null.manifest["scenario"] is None
    assert null.manifest["windows"] == []


def test_null_stream_has_the_reference_distribution(null):
    for col in ("monthly_charges", "tenure_months", "age"):
        stream = pd.concat([b[col] for b in null.batches])
        assert stats.ks_2samp(null.reference[col], stream).pvalue > 0.001
    for col in ("contract", "plan"):
        table = pd.concat([null.reference[col].value_counts(),
                           pd.concat([b[col] for b in null.batches]).value_counts()], axis=1).to_numpy()
        assert stats.chi2_contingency(table).pvalue > 0.001


def test_null_stream_keeps_p_y_given_x(null, reference_model):
    labelled = _labelled(null, range(N_WINDOWS))
    assert len(labelled) == N_WINDOWS * ROWS
    assert _calibration_p(reference_model, labelled, labelled["churned"].to_numpy()) > 0.001
    assert _calibration_p(reference_model, null.reference, null.reference["churned"].to_numpy()) > 0.001


def test_scaler(null):
    s = _stream("scaler")
    assert s.manifest["scenario"] == "scaler"
    assert s.manifest["start"] == START
    assert s.manifest["columns"] == ["monthly_charges"]
    assert s.manifest["windows"] == list(range(START, N_WINDOWS))
    for w in range(N_WINDOWS):
        factor = 100.0 if w >= START else 1.0
        np.testing.assert_allclose(s.batches[w]["monthly_charges"], null.batches[w]["monthly_charges"] * factor)
        pd.testing.assert_frame_equal(s.batches[w].drop(columns="monthly_charges"),
                                      null.batches[w].drop(columns="monthly_charges"))
    pd.testing.assert_frame_equal(s.labels, null.labels)


def test_scaler_makes_the_model_predict_everyone_churns(reference_model):
    s = _stream("scaler")
    before = reference_model.predict(s.batches[START - 1][list(INPUT_COLUMNS)]).mean()
    after = reference_model.predict(s.batches[START][list(INPUT_COLUMNS)]).mean()
    assert before < 0.2
    assert after > 0.9


def test_stale():
    start = 3
    s = _stream("stale", start=start)
    stop = start + STALE_WINDOWS
    assert s.manifest["windows"] == list(range(start, stop))
    assert s.manifest["source_window"] == start - 1
    source = s.batches[start - 1]
    for w in range(start, stop):
        batch = s.batches[w]
        pd.testing.assert_frame_equal(batch.drop(columns="scored_at"), source.drop(columns="scored_at"))
        assert ((batch["scored_at"] - source["scored_at"]) == pd.Timedelta(days=w - start + 1)).all()
        assert batch["scored_at"].min() >= STREAM_START + pd.Timedelta(days=w)
    assert not set(s.batches[stop]["customer_id"]) & set(source["customer_id"])
    # the replayed customers were scored once: one label each, and no labels for customers never scored
    scored = set(pd.concat([b["customer_id"] for b in s.batches]))
    assert set(s.labels["customer_id"]) == scored
    assert s.labels["customer_id"].is_unique
    assert len(s.labels) == (N_WINDOWS - STALE_WINDOWS) * ROWS


def test_stale_is_cut_at_the_end_of_the_stream():
    s = _stream("stale", start=N_WINDOWS - 2)
    assert s.manifest["windows"] == [N_WINDOWS - 2, N_WINDOWS - 1]


def test_covariate_shift_is_gradual(reference_model):
    s = _stream("covariate_shift")
    assert s.manifest["columns"] == ["monthly_charges", "tenure_months"]
    tilt = np.array(s.manifest["tilt"])
    assert (tilt[:START] == 0).all()
    assert tilt[START] > 0
    assert (np.diff(tilt) >= 0).all()
    charges = np.array([b["monthly_charges"].mean() for b in s.batches])
    tenure = np.array([b["tenure_months"].mean() for b in s.batches])
    before = slice(0, START)
    assert charges[START] > charges[before].max()
    assert tenure[START] < tenure[before].min()
    assert charges[-1] > charges[START] + 5
    assert tenure[-1] < tenure[START] - 3
    first = pd.concat([s.batches[w] for w in range(START)])
    assert stats.ks_2samp(first["monthly_charges"], s.batches[START]["monthly_charges"]).pvalue < 1e-3
    # labels follow the same P(y | x): the reference model stays calibrated on the shifted rows
    late = _labelled(s, range(START, N_WINDOWS))
    assert _calibration_p(reference_model, late, late["churned"].to_numpy()) > 0.001
    assert late["churned"].mean() > _labelled(s, range(START))["churned"].mean()  # riskier customers


def test_concept_shift_changes_only_the_labels(null, reference_model):
    s = _stream("concept_shift")
    assert s.manifest["columns"] == ["churned"]
    assert s.manifest["windows"] == list(range(START, N_WINDOWS))
    for w in range(N_WINDOWS):  # inputs unchanged (scoring times are drawn afresh)
        pd.testing.assert_frame_equal(s.batches[w].drop(columns="scored_at"), null.batches[w].drop(columns="scored_at"))
    early, late = _labelled(s, range(START)), _labelled(s, range(START, N_WINDOWS))
    pd.testing.assert_frame_equal(early, _labelled(null, range(START)).assign(scored_at=early["scored_at"]))
    assert _calibration_p(reference_model, early, early["churned"].to_numpy()) > 0.001
    assert _calibration_p(reference_model, late, late["churned"].to_numpy()) < 1e-6
    from sklearn.metrics import roc_auc_score

    def auc(frame):
        return roc_auc_score(frame["churned"], reference_model.predict_proba(frame[list(INPUT_COLUMNS)])[:, 1])

    assert auc(early) > 0.7
    assert auc(late) < 0.62


def test_schema_break_one_window_only(null):
    s = _stream("schema_break")
    assert s.manifest["windows"] == [START]
    assert s.manifest["missing"] == ["tenure_months"]
    broken = s.batches[START]
    assert "tenure_months" not in broken.columns
    text = broken["age"].map(lambda v: isinstance(v, str))
    assert text.sum() == s.manifest["text_rows"]["age"] > 0
    assert (broken.loc[text, "age"] == "unknown").all()
    assert (pd.to_numeric(broken.loc[~text, "age"]) == null.batches[START].loc[~text, "age"]).all()
    for w in set(range(N_WINDOWS)) - {START}:
        pd.testing.assert_frame_equal(s.batches[w], null.batches[w])


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_scenario_has_a_full_manifest(scenario):
    s = _stream(scenario)
    m = s.manifest
    assert m["scenario"] == scenario
    assert m["start"] == START
    assert m["windows"][0] == START
    assert isinstance(m["description"], str)
    assert m["description"]
    assert isinstance(m["columns"], list)
    assert all(len(b) == ROWS for b in s.batches)


def test_inputs_are_not_shared_between_calls():
    s = _stream("scaler")
    s.batches[0].loc[0, "age"] = -1
    assert _stream("scaler").batches[0].loc[0, "age"] != -1


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"n_windows": 0}, "n_windows"),
    ({"n_windows": 2.5}, "n_windows"),
    ({"n_windows": True}, "n_windows"),
    ({"rows_per_window": 5}, "rows_per_window"),
    ({"reference_rows": 50}, "reference_rows"),
    ({"scenario": "meteor"}, "scenario"),
    ({"scenario": "scaler", "start": 12}, "start"),
    ({"scenario": "scaler", "start": -1}, "start"),
    ({"scenario": "scaler", "start": "3"}, "start"),
    ({"scenario": "stale", "start": 0}, "start"),
    ({"random_state": -3}, "random_state"),
])
def test_rejects_bad_parameters(kwargs, match):
    with pytest.raises(mllife.InputError, match=match):
        make_churn_stream(**{"n_windows": 12, "rows_per_window": 50, "reference_rows": 100, **kwargs})
