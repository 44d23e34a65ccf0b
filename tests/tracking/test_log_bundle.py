"""``log_bundle``: a bundle as an MLflow pyfunc model that validates like the bundle.

One real SQLite store per module; the classifier and regressor bundles are logged once
and their MLflow models loaded once (saving and loading a pyfunc model is slowish).
Predictions read back through ``mlflow.pyfunc`` are compared with the bundle's own.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

import mllife
from mllife.bundle import InputSchema, ModelBundle
from tests.tracking._recording import FailingTracker, RecordingTracker

mlflow = pytest.importorskip("mlflow")
pyfunc = pytest.importorskip("mlflow.pyfunc")
from mlflow.exceptions import MlflowException  # noqa: E402

from mllife.tracking import MlflowTracker, log_bundle  # noqa: E402
from mllife.tracking._pyfunc import MODEL_CODE  # noqa: E402


# ---------------------------------------------------------------- data and bundles
def _frame(n: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "age": rng.uniform(18, 80, n).round(1),
        "visits": rng.integers(0, 20, n),
        "plan": rng.choice(["basic", "pro", "team"], n),
        "active": rng.random(n) < 0.5,
        "signup": pd.date_range("2023-01-01", periods=n, freq="D"),
        "referrals": pd.array([None if i % 7 == 0 else i % 4 for i in range(n)], dtype="Int64"),
    })
    y = pd.Series((X["age"] / 80 + X["visits"] / 20 + rng.normal(0, 0.3, n) > 1).astype(int))
    return X, y


@pytest.fixture(scope="module")
def data():
    return _frame(160, 0)


@pytest.fixture(scope="module")
def clf(data):
    X, y = data
    pre = ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
                             ("num", "passthrough", ["age", "visits", "active"])])
    model = Pipeline([("pre", pre), ("model", LogisticRegression(max_iter=1000))]).fit(X, y)
    return ModelBundle(model, InputSchema.infer(X), version="2.1.0",
                       metadata={"owner": "churn team", "training": {"rows": len(X), "seed": 0}},
                       metrics={"roc_auc": 0.81, "log_loss": float("nan")})


@pytest.fixture(scope="module")
def reg(data):
    X, _ = data
    numbers = X[["age", "visits"]]
    target = 3.0 * numbers["age"] - numbers["visits"] + 1.0
    metadata = {f"weird key {i} %/../é\n": "v" * (3000 if i == 0 else 3) for i in range(300)}
    return ModelBundle(LinearRegression().fit(numbers, target), InputSchema.infer(numbers),
                       version="r/1 ../..", metadata=metadata,
                       metrics={"mae": np.float64(0.5), "rmse": float("inf"), "note": "text"})


@pytest.fixture(scope="module")
def store_tracker(mlflow_store):
    return MlflowTracker("log-bundle", tracking_uri=mlflow_store.uri)


def _model_source(tracker, run_id):
    return f"{tracker.client.get_run(run_id).info.artifact_uri}/model"


@pytest.fixture(scope="module")
def logged_clf(store_tracker, clf):
    uri = log_bundle(clf, tracker=store_tracker, registered_name="churn-model")
    run_id = store_tracker.last_run_id
    return uri, run_id, pyfunc.load_model(_model_source(store_tracker, run_id))


@pytest.fixture(scope="module")
def logged_reg(store_tracker, reg):
    uri = log_bundle(reg, tracker=store_tracker)
    run_id = store_tracker.last_run_id
    return uri, run_id, pyfunc.load_model(_model_source(store_tracker, run_id))


def _as_json_rows(X: pd.DataFrame) -> pd.DataFrame:
    """``X`` as a JSON request becomes: ISO text for dates, floats with NaN for missing ints."""
    return pd.DataFrame(json.loads(X.to_json(orient="records", date_format="iso")))


# ---------------------------------------------------------------- round trips
def test_classifier_round_trip_equals_the_bundle(logged_clf, clf, data):
    uri, run_id, served = logged_clf
    assert uri == f"runs:/{run_id}/model"
    X = data[0].iloc[100:140]
    pd.testing.assert_frame_equal(served.predict(X), clf.predict_proba(X))
    pd.testing.assert_frame_equal(served.predict(X, params={"proba": False}), clf.predict(X))
    rows = _as_json_rows(X)   # dates as text, a missing Int64 as NaN: still the bundle's answer
    assert rows["signup"].map(type).eq(str).all()
    assert rows["referrals"].isna().any()
    pd.testing.assert_frame_equal(served.predict(rows), clf.predict_proba(rows))
    assert mlflow.active_run() is None


def test_regressor_round_trip_equals_the_bundle(logged_reg, reg, data):
    _, _, served = logged_reg
    X = data[0][["age", "visits"]].tail(30)
    out = served.predict(X)
    pd.testing.assert_frame_equal(out, reg.predict(X))
    assert out.columns.tolist() == ["prediction", "model_version"]


def test_runs_uri_loads_where_mlflow_names_the_store(logged_reg, reg, data, mlflow_store,
                                                     monkeypatch):
    uri, _, _ = logged_reg
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store.uri)   # the user's choice, not ours
    X = data[0][["age", "visits"]].head(5)
    pd.testing.assert_frame_equal(pyfunc.load_model(uri).predict(X), reg.predict(X))


# ---------------------------------------------------------------- what the run holds
def test_run_params_tags_and_metrics_are_the_bundles_own(logged_clf, store_tracker, clf,
                                                         tmp_path):
    uri, run_id, _ = logged_clf
    client = store_tracker.client
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "bundle 2.1.0"
    params, tags, metrics = run.data.params, run.data.tags, run.data.metrics
    model_dir = client.download_artifacts(run_id, "model", str(tmp_path))
    file = next((tmp_path / "model" / "artifacts").glob("*.mllife"))
    data = file.read_bytes()
    assert file.name == "bundle-2.1.0.mllife"
    assert mllife.load_bundle(file).version == "2.1.0"
    assert params["bundle.version"] == tags["mllife.bundle.version"] == "2.1.0"
    assert params["bundle.file_sha256"] == tags["mllife.bundle.sha256"] == \
        hashlib.sha256(data).hexdigest()
    assert params["bundle.file_bytes"] == str(len(data))
    schema = json.dumps(clf.schema.to_dict(), sort_keys=True, separators=(",", ":"), default=str)
    assert params["bundle.schema_sha256"] == tags["mllife.schema.sha256"] == \
        hashlib.sha256(schema.encode()).hexdigest()
    assert (params["bundle.model"], params["bundle.estimator"], params["bundle.task"]) == \
        ("Pipeline", "LogisticRegression", "classification")
    assert params["bundle.columns"] == "6"
    assert params["bundle.proba"] == "True"
    assert params["bundle.metadata.owner"] == "churn team"
    assert params["bundle.metadata.training.rows"] == "160"
    assert params["bundle.libraries.scikit-learn"] == clf.versions["scikit-learn"]
    assert metrics == {"bundle.metrics.roc_auc": 0.81}
    assert tags["mllife.nonfinite_metrics"] == "bundle.metrics.log_loss"
    assert tags["mllife.model_uri"] == uri
    assert (tags["mllife.registered_model"], tags["mllife.registered_version"]) == \
        ("churn-model", "1")
    # models from code, never cloudpickle; requirements stated, not inferred
    files = {p.relative_to(model_dir).as_posix() for p in (tmp_path / "model").rglob("*")}
    assert not [f for f in files if f.endswith((".pkl", ".pickle", ".cloudpickle"))]
    assert (tmp_path / "model" / "mllife_bundle_model.py").read_text() == MODEL_CODE
    assert set((tmp_path / "model" / "requirements.txt").read_text().splitlines()) == \
        {f"mllife=={mllife.__version__}", f"mlflow=={mlflow.__version__}"}   # MLflow adds itself
    mlmodel = yaml.safe_load((tmp_path / "model" / "MLmodel").read_text())
    assert mlmodel["flavors"]["python_function"]["config"] == {"trusted": []}
    assert "python_model" not in mlmodel["flavors"]["python_function"]


def test_signature_follows_the_contract(logged_clf):
    from mlflow.types.schema import AnyType, DataType

    _, _, served = logged_clf
    inputs = {spec.name: (spec.type, spec.required)
              for spec in served.metadata.get_input_schema().inputs}
    # every column required and typed Any: MLflow's casts would change values the bundle
    # refuses ("false" -> True), so the bundle sees the request as it came
    assert inputs == {name: (AnyType(), True) for name in
                      ["age", "visits", "plan", "active", "signup", "referrals"]}
    outputs = {spec.name: (spec.type, spec.required)
               for spec in served.metadata.get_output_schema().inputs}
    assert outputs == {"prediction": (DataType.long, True), "proba_0": (DataType.double, False),
                       "proba_1": (DataType.double, False),
                       "model_version": (DataType.string, True)}
    (param,) = served.metadata.get_params_schema().params
    assert (param.name, param.dtype, param.default) == ("proba", DataType.boolean, True)


def test_hostile_metadata_and_version_are_logged_bounded(logged_reg, store_tracker, reg):
    _, run_id, _ = logged_reg
    run = store_tracker.client.get_run(run_id)
    params = run.data.params
    metadata = [k for k in params if k.startswith("bundle.metadata.")]
    assert len(metadata) == 100
    assert params["bundle.metadata_not_logged"] == "200"
    assert all(len(k) <= 250 and "%" not in k and ".." not in k for k in params)
    assert max(len(params[k]) for k in metadata) == 1000   # the 3000-character value, cut
    assert run.data.metrics == {"bundle.metrics.mae": 0.5}
    assert run.data.tags["mllife.nonfinite_metrics"] == "bundle.metrics.rmse"
    assert params["bundle.version"] == "r/1 ../.."
    assert params["bundle.task"] == "regression"
    names = [f.path for f in store_tracker.client.list_artifacts(run_id, "model/artifacts")]
    assert names == ["model/artifacts/bundle-r_1_.._...mllife"]   # a plain file name
    assert len(reg.metadata) == 300   # the input is untouched


# ---------------------------------------------------------------- registry
def test_registered_version_loads_through_the_registry(logged_clf, store_tracker, clf, data,
                                                       mlflow_store, monkeypatch):
    _, run_id, _ = logged_clf
    client = store_tracker.client
    version = client.get_model_version("churn-model", "1")
    assert version.run_id == run_id
    assert version.tags["mllife.bundle.version"] == "2.1.0"
    assert version.tags["mllife.bundle.sha256"] == \
        client.get_run(run_id).data.params["bundle.file_sha256"]
    assert version.source == _model_source(store_tracker, run_id)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store.uri)
    X = data[0].head(8)
    pd.testing.assert_frame_equal(pyfunc.load_model("models:/churn-model/1").predict(X),
                                  clf.predict_proba(X))


def test_registering_again_adds_a_version(tracker, reg):
    log_bundle(reg, tracker=tracker, registered_name="twice")
    log_bundle(reg, tracker=tracker, registered_name="twice")
    versions = tracker.client.search_model_versions("name='twice'")
    assert sorted(str(v.version) for v in versions) == ["1", "2"]


# ---------------------------------------------------------------- garbage is refused
@pytest.mark.parametrize(("column", "garbage", "refused_by"), [
    ("age", lambda X: X.assign(age=X["age"].astype(object).where(X.index != X.index[1], "old")),
     "bundle"),
    ("visits", lambda X: X.drop(columns="visits"), "mlflow"),
    ("plan", lambda X: X.assign(plan=X["plan"].where(X.index != X.index[2], "platinum")),
     "bundle"),
    ("age", lambda X: X.assign(age=X["age"].where(X.index != X.index[0], np.nan)), "bundle"),
    ("signup", lambda X: X.assign(signup=["2023-02-30"] * len(X)), "bundle"),
    ("referrals", lambda X: X.assign(referrals=["many"] * len(X)), "bundle"),
])
def test_garbage_is_refused_naming_the_column(logged_clf, data, column, garbage, refused_by):
    _, _, served = logged_clf
    X = garbage(data[0].head(5))
    if refused_by == "bundle":
        with pytest.raises(mllife.SchemaError) as caught:
            served.predict(X)
        assert column in {p["column"] for p in caught.value.problems}
    else:   # MLflow's signature check runs first: its error names the column too
        with pytest.raises(MlflowException, match=rf"\b{column}\b"):
            served.predict(X)


def test_extra_columns_are_dropped_by_mlflow_before_the_bundle(logged_clf, clf, data):
    _, _, served = logged_clf
    X = data[0].head(4)
    pd.testing.assert_frame_equal(served.predict(X.assign(debug=1)), clf.predict_proba(X))


def test_mlflow_scoring_server_answers_400_naming_the_column(logged_clf, clf, data):
    from fastapi.testclient import TestClient
    from mlflow.pyfunc import scoring_server

    _, _, served = logged_clf
    client = TestClient(scoring_server.init(served))
    rows = json.loads(data[0].head(3).to_json(orient="records", date_format="iso"))
    good = client.post("/invocations", json={"dataframe_records": rows})
    assert good.status_code == 200
    expected = clf.predict_proba(_as_json_rows(data[0].head(3)))
    got = pd.DataFrame(good.json()["predictions"])
    assert got["prediction"].tolist() == expected["prediction"].tolist()
    np.testing.assert_allclose(got["proba_1"], expected["proba_1"])
    bad = client.post("/invocations",
                      json={"dataframe_records": [{**rows[0], "plan": "platinum"}]})
    assert bad.status_code == 400
    assert "column 'plan': unseen category" in bad.text
    assert "platinum" not in bad.text
    wrong = client.post("/invocations", json={"dataframe_records": [{**rows[0], "age": "old"}]})
    assert wrong.status_code == 400
    assert "column 'age'" in wrong.text
    whole = client.post("/invocations", json={"dataframe_records": [{**rows[0], "age": 30}]})
    assert whole.status_code == 200   # whole numbers in a float column: the bundle takes them


# ---------------------------------------------------------------- trust
def _doubling_bundle(data):
    from tests.bundle._custom import Doubler

    X = data[0][["age", "visits"]]
    model = Pipeline([("d", Doubler()), ("m", LinearRegression())]).fit(X, X["age"])
    return ModelBundle(model, InputSchema.infer(X), version="u1"), X, Doubler


def test_user_class_needs_trusted_names_to_load(tracker, data):
    bundle, X, Doubler = _doubling_bundle(data)
    with pytest.warns(mllife.TrackingWarning, match=r"tests\.bundle\._custom\.Doubler"):
        log_bundle(bundle, tracker=tracker)
    run_id = tracker.last_run_id
    assert tracker.client.get_run(run_id).info.status == "FINISHED"   # logged all the same
    with pytest.raises(mllife.UntrustedTypeError, match=r"tests\.bundle\._custom\.Doubler"):
        pyfunc.load_model(_model_source(tracker, run_id))
    with warnings.catch_warnings():
        warnings.simplefilter("error", mllife.TrackingWarning)
        log_bundle(bundle, tracker=tracker, trusted=[Doubler])
    served = pyfunc.load_model(_model_source(tracker, tracker.last_run_id))
    pd.testing.assert_frame_equal(served.predict(X.head(5)), bundle.predict(X.head(5)))
    params = tracker.client.get_run(tracker.last_run_id).data.params
    assert params["bundle.trusted"] == "tests.bundle._custom.Doubler"


_MARKER = "mllife_trust_marker"


@pytest.mark.parametrize(("trusted", "refused"), [
    (f"{_MARKER}.Thing", True),              # a name, not a list
    ({f"{_MARKER}.Thing": True}, True),
    ([[f"{_MARKER}.Thing"]], True),
    (["import os; os.system('x')"], True),
    ([f"{_MARKER}.Thing"], False),           # well formed: trusted, yet never imported
])
def test_model_config_edited_on_disk_is_refused_and_imports_nothing(
        logged_reg, store_tracker, reg, data, tmp_path, monkeypatch, trusted, refused):
    _, run_id, _ = logged_reg
    (tmp_path / f"{_MARKER}.py").write_text(
        "import pathlib\n"
        f"pathlib.Path({str(tmp_path / 'imported')!r}).touch()\n"
        "class Thing:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    folder = tmp_path / "model"
    shutil.copytree(store_tracker.client.download_artifacts(run_id, "model",
                                                            str(tmp_path / "dl")), folder)
    mlmodel = yaml.safe_load((folder / "MLmodel").read_text())
    mlmodel["flavors"]["python_function"]["config"]["trusted"] = trusted
    (folder / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    if refused:
        with pytest.raises(mllife.IntegrityError, match="model config 'trusted'"):
            pyfunc.load_model(str(folder))
    else:
        X = data[0][["age", "visits"]].head(3)
        pd.testing.assert_frame_equal(pyfunc.load_model(str(folder)).predict(X), reg.predict(X))
    assert _MARKER not in sys.modules
    assert not (tmp_path / "imported").exists()


# ---------------------------------------------------------------- other trackers, paths
def test_other_tracker_gets_the_file_params_and_tags(reg):
    recording = RecordingTracker()
    uri = log_bundle(reg, tracker=recording)
    (run_id, run), = recording.runs.items()
    assert run.status == "FINISHED"
    assert run.name == "bundle r/1 ../.."
    (name, data), = run.artifacts.items()
    assert name == "bundle/bundle-r_1_.._...mllife"
    assert uri == f"runs:/{run_id}/{name}"
    assert run.tags["mllife.model_uri"] == uri
    assert run.params["bundle.file_sha256"] == hashlib.sha256(data).hexdigest()
    assert run.last_metrics() == {"bundle.metrics.mae": 0.5}


def test_a_path_is_verified_then_logged_as_it_is(clf, tmp_path):
    path = clf.save(tmp_path / "churn model.mllife")
    before = path.read_bytes()
    recording = RecordingTracker()
    log_bundle(path, tracker=recording)
    (run,) = recording.runs.values()
    assert run.artifacts == {"bundle/churn_model.mllife": before}
    assert path.read_bytes() == before
    tampered = tmp_path / "tampered.mllife"
    raw = bytearray(before)
    raw[len(raw) // 2] ^= 0xFF
    tampered.write_bytes(bytes(raw))
    recording = RecordingTracker()
    with pytest.raises(mllife.IntegrityError):
        log_bundle(tampered, tracker=recording)
    assert recording.runs == {}   # refused before anything was logged


@pytest.mark.parametrize(("method", "after"), [("log_params", 0), ("log_artifact", 0),
                                               ("set_tags", 0)])
def test_tracker_failure_ends_the_run_failed(reg, method, after):
    failing = FailingTracker(method, after)
    with pytest.raises(mllife.TrackingError, match=rf"FailingTracker failed in {method}") as err:
        log_bundle(reg, tracker=failing)
    assert isinstance(err.value.__cause__, OSError)
    (run,) = failing.runs.values()
    assert run.status == "FAILED"


class _TagsFailAtTheEnd(MlflowTracker):
    """A real MLflow tracker whose last call of log_bundle fails (a planted failure)."""

    def set_tags(self, run_id, tags):
        if "mllife.model_uri" in tags:
            raise OSError("planted failure after the model was logged")
        super().set_tags(run_id, tags)


def test_mlflow_failure_after_the_model_ends_the_run_failed(mlflow_store, reg):
    broken = _TagsFailAtTheEnd("fails-at-the-end", tracking_uri=mlflow_store.uri)
    with pytest.raises(mllife.TrackingError, match=r"failed in set_tags of run 'bundle r/1"):
        log_bundle(reg, tracker=broken)
    run = broken.client.get_run(broken.last_run_id)
    assert run.info.status == "FAILED"
    assert [f.path for f in broken.client.list_artifacts(run.info.run_id)] == ["model"]


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(("kwargs", "named"), [
    ({"bundle": {"model": "x"}}, "bundle is a dict"),
    ({"bundle": LinearRegression()}, "bundle is a LinearRegression"),
    ({"registered_name": "a/b"}, "registered_name"),
    ({"registered_name": ""}, "registered_name"),
    ({"registered_name": " churn"}, "registered_name"),
    ({"registered_name": "x" * 300}, "registered_name"),
    ({"registered_name": 7}, "registered_name"),
    ({"registered_name": "line\nbreak"}, "registered_name"),
    ({"trusted": 5}, "trusted"),
    ({"trusted": [5]}, "trusted"),
    ({"trusted": ["not a name"]}, "trusted"),
    ({"tracker": "mlflow"}, "tracker is a str"),
    ({"tracker": RecordingTracker}, "tracker is the class"),
    ({"registered_name": "churn", "tracker": "recording"}, "registered_name='churn' with a"),
])
def test_bad_input_is_refused_before_anything_is_logged(reg, kwargs, named):
    recording = RecordingTracker()
    kwargs = {"bundle": reg, "tracker": recording, **kwargs}
    if kwargs["tracker"] == "recording":
        kwargs["tracker"] = recording
    with pytest.raises(mllife.InputError, match=named):
        log_bundle(**kwargs)
    assert recording.runs == {}


def test_without_mlflow_the_error_names_the_extra(reg, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)   # as if MLflow were not installed
    with pytest.raises(ImportError, match=r'pip install "mllife\[mlflow\]"') as err:
        log_bundle(reg)
    assert isinstance(err.value, mllife.MissingDependencyError)


def test_a_bad_path_is_refused_before_any_default_store_is_made(tmp_path, monkeypatch):
    """``log_bundle(path)`` with no tracker checks the file first: no ``mlflow.db`` appears."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(mllife.MllifeError):
        log_bundle(tmp_path / "does-not-exist.mllife")
    (tmp_path / "junk.mllife").write_bytes(b"not a bundle")
    with pytest.raises(mllife.MllifeError):
        log_bundle(tmp_path / "junk.mllife")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.mllife"]


class _InterruptedTracker(RecordingTracker):
    def log_params(self, run_id, params):
        raise KeyboardInterrupt


def test_ctrl_c_while_logging_a_bundle_ends_the_run_killed_and_propagates(clf):
    tracker = _InterruptedTracker()
    with pytest.raises(KeyboardInterrupt):
        log_bundle(clf, tracker=tracker)
    [run] = tracker.runs.values()
    assert run.status == "KILLED"
