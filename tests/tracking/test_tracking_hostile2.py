"""Hostile review of MLflow I/O: what a served model lets through, odd stores, odd names.

Planted inputs an outsider would try: JSON requests MLflow's scoring server would coerce
before the bundle sees them, a tracking URI with nothing behind it, files that are not
stores, names MLflow refuses or that clash once cleaned, a bundle file swapped while it is
logged, and a fresh ``python -W error`` process (the default store in its working
directory, an unpickled tracker).
"""

from __future__ import annotations

import json
import os
import pickle
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

import mllife
from mllife.bundle import InputSchema, ModelBundle
from tests.tracking._recording import RecordingTracker

mlflow = pytest.importorskip("mlflow")
pyfunc = pytest.importorskip("mlflow.pyfunc")

from mllife.tracking import MlflowTracker, log_bundle, log_report  # noqa: E402
from mllife.tracking._names import safe_name  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- a served bundle
@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(3)
    n = 80
    return pd.DataFrame({"age": rng.uniform(20, 70, n).round(1), "n": rng.integers(1, 8, n),
                         "ok": rng.random(n) < 0.5, "plan": rng.choice(["a", "b"], n)})


@pytest.fixture(scope="module")
def bundle(frame):
    pre = ColumnTransformer([("cat", OneHotEncoder(), ["plan"]),
                             ("num", "passthrough", ["age", "n", "ok"])])
    y = (frame["age"] / 70 + frame["n"] / 8 + frame["ok"] > 1.2).astype(int)
    model = Pipeline([("pre", pre), ("m", LogisticRegression(max_iter=1000))]).fit(frame, y)
    return ModelBundle(model, InputSchema.infer(frame), version="h2")


@pytest.fixture(scope="module")
def served(mlflow_store, bundle):
    import mlflow.models.model as mlflow_model

    before = mlflow_model.__mlflow_model__
    tracker = MlflowTracker("hostile-served", tracking_uri=mlflow_store.uri)
    log_bundle(bundle, tracker=tracker)
    after = mlflow_model.__mlflow_model__
    run = tracker.client.get_run(tracker.last_run_id)
    return pyfunc.load_model(f"{run.info.artifact_uri}/model"), before, after


def test_logging_a_bundle_leaves_mlflows_code_model_global_alone(served):
    _, before, after = served
    assert after is before   # MLflow's set_model() ran our code file while saving


@pytest.mark.parametrize(("column", "value"), [
    ("n", 3.5),        # MLflow's long cast would make it 3
    ("n", True),       # ... and this 1
    ("n", "3"),
    ("age", "30"),     # MLflow's double cast: 30.0
    ("age", True),
    ("ok", "false"),   # MLflow's boolean cast: True
    ("ok", None),      # ... and a missing value False
    ("ok", 0.5),
])
def test_scoring_server_refuses_what_the_bundle_refuses(served, bundle, frame, column, value):
    from fastapi.testclient import TestClient
    from mlflow.pyfunc import scoring_server

    model, _, _ = served
    client = TestClient(scoring_server.init(model))
    row = json.loads(frame.head(1).to_json(orient="records"))[0]
    assert client.post("/invocations", json={"dataframe_records": [row]}).status_code == 200
    with pytest.raises(mllife.SchemaError):   # the bundle's own answer to the raw value
        bundle.predict(pd.DataFrame([{**row, column: value}]))
    answer = client.post("/invocations", json={"dataframe_records": [{**row, column: value}]})
    assert answer.status_code == 400, answer.text
    assert f"column '{column}'" in answer.text


def test_valid_rows_are_not_refused_by_the_signature(served, bundle, frame):
    model, _, _ = served
    row = frame.head(2)
    for valid in (row.assign(age=[30, 41]), row.assign(n=[3.0, 5.0]), row.assign(ok=[1, 0]),
                  row.assign(plan=pd.Categorical(row["plan"]))):
        pd.testing.assert_frame_equal(model.predict(valid), bundle.predict_proba(valid))
    names = [spec.name for spec in model.metadata.get_input_schema().inputs]
    assert names == ["age", "n", "ok", "plan"]   # the contract's columns, all required
    with pytest.raises(mlflow.exceptions.MlflowException, match="plan"):
        model.predict(row.drop(columns="plan"))


# ---------------------------------------------------------------- odd stores
def test_http_store_with_nothing_behind_it_fails_at_once(monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")   # were the probe gone: no hang
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(mllife.InputError, match="nothing answers"):
        MlflowTracker(tracking_uri=f"http://127.0.0.1:{port}")


@pytest.mark.parametrize("kind", ["not-a-database.db", "a file", "under a file", "empty"])
def test_a_store_that_cannot_be_is_an_input_error(tmp_path, kind):
    (tmp_path / "plain.txt").write_text("hello")
    (tmp_path / "not-a-database.db").write_text("hello")
    uri = {"not-a-database.db": tmp_path / "not-a-database.db", "a file": tmp_path / "plain.txt",
           "under a file": str(tmp_path / "plain.txt" / "store"), "empty": ""}[kind]
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(mllife.InputError, match=r"tracking_uri|store"):
        MlflowTracker(tracking_uri=uri)
    assert sorted(os.listdir(tmp_path)) == before
    assert (tmp_path / "plain.txt").read_text() == "hello"


# ---------------------------------------------------------------- odd names
_HOSTILE = ["..\\..\\w", "..foo", "...", "..x/..y", ".. /a", "a:b", "x" * 10_000, "/abs",
            "../../up", "nul\x00byte", "tables/..", "é/ü"]


def test_names_mlflow_would_refuse_are_made_safe(tracker):
    run_id = tracker.start_run("names")
    tracker.log_params(run_id, {name: f"p{i}" for i, name in enumerate(_HOSTILE)})
    tracker.log_metrics(run_id, {name: float(i) for i, name in enumerate(_HOSTILE)})
    tracker.set_tags(run_id, {name: f"t{i}" for i, name in enumerate(_HOSTILE)})
    tracker.end_run(run_id)
    data = tracker.client.get_run(run_id).data
    assert sorted(data.params.values()) == sorted(f"p{i}" for i in range(len(_HOSTILE)))
    assert sorted(data.metrics.values()) == [float(i) for i in range(len(_HOSTILE))]
    for key in data.params:
        assert not key.startswith(("..", "/"))
        assert len(key) <= 250
    assert not safe_name("..foo").startswith("..")
    assert safe_name(".hidden") == ".hidden"
    assert safe_name("a/..b") == "a/..b"


def test_a_prefix_of_dots_logs_a_report(tracker, frame):
    run_id = log_report(mllife.audit(frame), tracker=tracker, prefix="..x")
    metrics = tracker.client.get_run(run_id).data.metrics
    assert metrics
    assert not [k for k in metrics if k.startswith("..")]


def test_artifact_names_never_clash_nor_escape_nor_trip_windows(tracker):
    run_id = tracker.start_run("files")
    names = ["tables/a%b", "tables/a_b", "x", "x/y", "CON", "tables/aux", "a:b", "com1.txt",
             "tables/x. ", "D:report.html", "C:/x", *_HOSTILE]
    for name in names:
        tracker.log_artifact(run_id, name, name.encode("utf-8", "surrogatepass"))
    tracker.log_table(run_id, "tables/a%b", pd.DataFrame({"v": [1]}))
    tracker.log_table(run_id, "tables/a_b", pd.DataFrame({"v": [2]}))
    tracker.log_artifact(run_id, "tables/a_b", b"again")   # the same name: the same file
    tracker.end_run(run_id)
    root = Path(tracker.client.get_run(run_id).info.artifact_uri.removeprefix("file://"))
    files = {p.relative_to(root).as_posix(): p.read_bytes()
             for p in root.rglob("*") if p.is_file()}
    assert all(p.resolve().is_relative_to(root.resolve()) for p in root.rglob("*"))
    contents = sorted(files.values())
    expected = [n.encode("utf-8", "surrogatepass") for n in dict.fromkeys(names)
                if n != "tables/a_b"]   # "a:b" twice: one file
    assert sorted(c for c in contents if not c.startswith((b"v\n", b"[{"))) == \
        sorted([*expected, b"again"])
    tables = sorted(c for c in contents if c.startswith(b"v\n"))
    assert tables == [b"v\n1\n", b"v\n2\n"]
    reserved = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                *(f"LPT{i}" for i in range(1, 10))}
    for path in files:
        for part in path.split("/"):
            assert ":" not in part, path
            assert part == part.rstrip(". "), path
            assert part.split(".")[0].upper() not in reserved, path


# ---------------------------------------------------------------- a file swapped meanwhile
def test_a_bundle_file_swapped_after_its_check_is_not_logged(bundle, frame, tmp_path,
                                                             monkeypatch):
    path = bundle.save(tmp_path / "model.mllife")
    other = ModelBundle(LinearRegression().fit(frame[["age"]], frame["n"]),
                        InputSchema.infer(frame[["age"]]), version="other")
    swapped = other.save(tmp_path / "other.mllife").read_bytes()
    checked = mllife.bundle.load_bundle

    def check_then_swap(file, **kwargs):
        loaded = checked(file, **kwargs)
        Path(file).write_bytes(swapped)   # another process replaces the file
        return loaded

    monkeypatch.setattr(mllife.bundle, "load_bundle", check_then_swap)
    recording = RecordingTracker()
    with pytest.raises(mllife.IntegrityError, match="changed"):
        log_bundle(path, tracker=recording)
    assert recording.runs == {}


# ---------------------------------------------------------------- a fresh -W error process
_SCRIPT = """
import json, os, pickle, sys
import pandas as pd
import mlflow
import mllife
from mllife.tracking import MlflowTracker, log_bundle, log_report
from sklearn.linear_model import LinearRegression
from mllife.bundle import InputSchema, ModelBundle

with open(sys.argv[1], "rb") as handle:
    shipped = pickle.load(handle)          # as in a worker process
run = shipped.start_run("from a pickle")
shipped.log_metrics(run, {"a": 1.0})
shipped.end_run(run)
X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
bundle = ModelBundle(LinearRegression().fit(X, [0.0, 1.0, 2.0, 3.0]), InputSchema.infer(X),
                     version="w")
uri = log_bundle(bundle)                   # the default store, in the working directory
tracker = MlflowTracker()
log_report(mllife.audit(X), tracker=tracker)
import mlflow.models.model as mm
print(json.dumps({"run": run, "uri": uri, "files": sorted(os.listdir(".")),
                  "code_model": mm.__mlflow_model__ is None,
                  "active": mlflow.active_run() is None, "tracking": tracker.tracking_uri}))
"""


def test_normal_use_in_a_fresh_process_under_W_error(mlflow_store, tmp_path):
    shipped = MlflowTracker("hostile-pickled", tracking_uri=mlflow_store.uri)
    (tmp_path / "tracker.pkl").write_bytes(pickle.dumps(shipped))
    (tmp_path / "script.py").write_text(textwrap.dedent(_SCRIPT))
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-W", "error", str(tmp_path / "script.py"),
                           str(tmp_path / "tracker.pkl")], cwd=work, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["files"] == ["mlflow.db", "mlruns"]
    assert out["tracking"] == f"sqlite:///{(work / 'mlflow.db').as_posix()}"
    assert out["code_model"]
    assert out["active"]
    assert shipped.client.get_run(out["run"]).data.metrics == {"a": 1.0}
