"""``MlflowTracker`` against a real MLflow SQLite store, read back through ``MlflowClient``.

Hostile names (long, ``..``, leading ``/``, newlines, emoji, NUL, ``%``, ``?``, clashes after
cleaning), 10,000 params, a real nested pipeline's params, long values, numpy and boolean
metrics, batches over MLflow's limits, nested runs, tables and files, and refused input.
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mllife import InputError, MissingDependencyError
from mllife._version import __version__
from mllife.tracking import MlflowTracker
from mllife.tracking._names import CUT_MARK, name_hash, safe_name

from .test_names import HOSTILE, big_pipeline

MLFLOW_KEY = re.compile(r"^[A-Za-z0-9_\-. :/]{1,250}$")


def read(tracker, run_id):
    return tracker.client.get_run(run_id)


# ---- making a tracker ------------------------------------------------------------------------
def test_a_new_folder_store_keeps_everything_inside_the_folder(mlflow_template):
    folder = mlflow_template.folder
    assert mlflow_template.uri == "sqlite:///" + (folder / "mlflow.db").as_posix()
    default = mlflow_template.client.get_experiment("0")
    assert default.name == "Default"
    assert default.artifact_location == (folder / "mlruns" / "0").as_uri()
    assert sorted(p.name for p in folder.iterdir()) == ["mlflow.db"]   # mlruns/ comes with runs


def test_a_folder_path_names_the_store_in_it(mlflow_store):
    assert mlflow_store.uri == "sqlite:///" + (mlflow_store.folder / "mlflow.db").as_posix()
    tracker = MlflowTracker(tracking_uri=str(mlflow_store.folder))   # a str path: the same store
    assert tracker.tracking_uri == mlflow_store.uri
    assert (tracker.experiment_id, tracker.experiment) == ("0", "Default")
    default = tracker.client.get_experiment("0").artifact_location
    assert default == (mlflow_store.folder / "mlruns" / "0").as_uri()
    named = MlflowTracker("placed", tracking_uri=mlflow_store.uri)
    location = named.client.get_experiment(named.experiment_id).artifact_location
    assert location == (mlflow_store.folder / "mlruns" / name_hash("placed")).as_uri()
    assert "MlflowTracker(experiment='placed', tracking_uri='sqlite:///" in repr(named)
    again = MlflowTracker("placed", tracking_uri=mlflow_store.folder)   # found, not created
    assert again.experiment_id == named.experiment_id
    assert again.last_run_id is None


def test_a_db_file_path_is_that_database(mlflow_store, tmp_path):
    by_path = MlflowTracker("e", tracking_uri=mlflow_store.folder / "mlflow.db")
    assert by_path.tracking_uri == mlflow_store.uri
    run_id = by_path.start_run("r")
    by_path.log_artifact(run_id, "x.txt", b"1")
    by_path.end_run(run_id)
    artifact = mlflow_store.folder / "mlruns" / name_hash("e") / run_id / "artifacts" / "x.txt"
    assert artifact.read_bytes() == b"1"
    # the store is made where the path says, never in the working directory
    assert sorted(p.name for p in mlflow_store.folder.iterdir()) == ["mlflow.db", "mlruns"]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"experiment": 3}, "experiment is a int"),
    ({"experiment": ["a"]}, "experiment is a list"),
    ({"tracking_uri": 3}, "tracking_uri is a int"),
])
def test_constructor_types_are_checked(kwargs, match):
    with pytest.raises(InputError, match=match):
        MlflowTracker(**kwargs)


@pytest.mark.parametrize("name", ["", "n" * 501])
def test_an_experiment_name_mlflow_refuses_is_an_input_error_naming_it(mlflow_store, name):
    with pytest.raises(InputError, match="refused the experiment name") as info:
        MlflowTracker(name, tracking_uri=mlflow_store.uri)
    assert repr(name)[:50] in str(info.value)


def test_unusual_experiment_names_mlflow_takes_are_kept(mlflow_store):
    for name in ("emoji 😀", "a/b/../c", "nul\x00byte", "x" * 500):
        tracker = MlflowTracker(name, tracking_uri=mlflow_store.uri)
        assert tracker.client.get_experiment(tracker.experiment_id).name == name


def test_a_deleted_experiment_is_a_clear_error(mlflow_store):
    tracker = MlflowTracker("to be deleted", tracking_uri=mlflow_store.uri)
    tracker.client.delete_experiment(tracker.experiment_id)
    with pytest.raises(InputError, match=r"'to be deleted' .* is deleted.*restore_experiment"):
        MlflowTracker("to be deleted", tracking_uri=mlflow_store.uri)


def test_a_store_mlflow_refuses_is_an_input_error(monkeypatch):
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    with pytest.raises(InputError, match="refused the store 'file:"):
        MlflowTracker(tracking_uri=Path(tempfile.mkdtemp()).as_uri())


def test_without_mlflow_making_a_tracker_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)   # what an environment without MLflow sees
    with pytest.raises(MissingDependencyError, match=r'pip install "mllife\[mlflow\]"') as info:
        MlflowTracker()
    assert isinstance(info.value, ImportError)


# ---- runs ------------------------------------------------------------------------------------
def test_runs_nest_carry_the_version_and_end_with_their_status(tracker):
    parent = tracker.start_run("compare", tags={"role": "parent"})
    child = tracker.start_run("forest", parent_run_id=parent)
    assert tracker.last_run_id == parent  # a nested run does not change it
    tracker.end_run(child, status="FAILED")
    tracker.end_run(parent)
    p, c = read(tracker, parent), read(tracker, child)
    assert (p.info.run_name, c.info.run_name) == ("compare", "forest")
    assert c.data.tags["mlflow.parentRunId"] == parent
    assert "mlflow.parentRunId" not in p.data.tags
    assert p.data.tags["mllife.version"] == c.data.tags["mllife.version"] == __version__
    assert p.data.tags["role"] == "parent"
    assert (p.info.status, c.info.status) == ("FINISHED", "FAILED")
    assert p.info.experiment_id == tracker.experiment_id


def test_hostile_run_names_are_kept_or_cut_visibly(tracker):
    for name in ("emoji 😀 / ../x?%", "line\nbreak", "n" * 600):
        run_id = tracker.start_run(name)
        tracker.end_run(run_id)
        got = read(tracker, run_id).info.run_name
        assert got == name if len(name) <= 250 else (len(got) == 250 and got.endswith(CUT_MARK))


def test_bad_run_arguments_are_input_errors(tracker):
    run_id = tracker.start_run("r")
    with pytest.raises(InputError, match="status is 'DONE'"):
        tracker.end_run(run_id, status="DONE")
    with pytest.raises(InputError, match="name is a int"):
        tracker.start_run(3)
    with pytest.raises(InputError, match="run_id is None"):
        tracker.log_params(None, {"a": "1"})
    with pytest.raises(InputError, match="params is a list"):
        tracker.log_params(run_id, [("a", "1")])
    with pytest.raises(InputError, match=r"step is 1\.5"):
        tracker.log_metrics(run_id, {"a": 1.0}, step=1.5)
    with pytest.raises(InputError, match="metric 'a' is a str"):
        tracker.log_metrics(run_id, {"a": "high"})
    for bad in (float("nan"), np.inf, -np.inf):
        with pytest.raises(InputError, match=r"metric 'm' is .*finite"):
            tracker.log_metrics(run_id, {"ok": 1.0, "m": bad})
    with pytest.raises(InputError, match="frame is a dict"):
        tracker.log_table(run_id, "t", {"a": [1]})
    with pytest.raises(InputError, match="data is a str"):
        tracker.log_artifact(run_id, "a.txt", "text")
    with pytest.raises(InputError, match="name is '/'"):
        tracker.log_artifact(run_id, "/", b"x")
    tracker.end_run(run_id)
    assert read(tracker, run_id).data.metrics == {}   # nothing of a refused batch was logged


# ---- names -----------------------------------------------------------------------------------
def test_hostile_metric_names_are_all_logged_distinct_and_readable(tracker):
    names = [*HOSTILE, "a%b", "a_b", "a?b", "line\nbreak2", "x" * 601]
    metrics = {name: float(i) for i, name in enumerate(names)}
    run_id = tracker.start_run("hostile")
    tracker.log_metrics(run_id, metrics)
    tracker.log_params(run_id, {name: str(i) for i, name in enumerate(names)})
    tracker.set_tags(run_id, {name: str(i) for i, name in enumerate(names)})
    tracker.end_run(run_id)
    data = read(tracker, run_id).data
    assert len(data.metrics) == len(names)
    assert len(data.params) == len(names)
    assert sorted(data.metrics.values()) == sorted(metrics.values())   # none lost or merged
    assert all(MLFLOW_KEY.match(k) and posixpath.normpath(k) == k for k in data.metrics)
    assert data.metrics["a_b"] == metrics["a_b"]                       # the clean name keeps its key
    assert data.metrics["a_b-" + name_hash("a%b")] == metrics["a%b"]   # the cleaned one yields
    assert data.metrics["a_b-" + name_hash("a?b")] == metrics["a?b"]
    assert data.metrics[safe_name("x" * 600)] == metrics["x" * 600]
    assert data.metrics[safe_name("x" * 601)] == metrics["x" * 601]
    assert data.metrics["abs/path"] == metrics["/abs/path"]
    assert {data.params[k] for k in data.metrics} == {str(i) for i in range(len(names))}
    assert all(data.params[k] == str(int(v)) for k, v in data.metrics.items())


def test_a_name_keeps_its_key_across_calls_and_steps(tracker):
    run_id = tracker.start_run("steps")
    for step in range(3):
        tracker.log_metrics(run_id, {"a_b": 10.0 + step, "a%b": float(step)}, step=step)
    tracker.log_metrics(run_id, {"a?b": 7.0})          # a later newcomer clashing: suffixed too
    tracker.end_run(run_id)
    history = tracker.client.get_metric_history(run_id, "a_b-" + name_hash("a%b"))
    assert [(m.step, m.value) for m in history] == [(0, 0.0), (1, 1.0), (2, 2.0)]
    assert [m.value for m in tracker.client.get_metric_history(run_id, "a_b")] == [10.0, 11.0, 12.0]
    assert read(tracker, run_id).data.metrics["a_b-" + name_hash("a?b")] == 7.0


def test_thousands_of_params_and_metrics_go_in_chunks(tracker):
    # MLflow's SQLite store reads a run's params back on every batch (quadratic): 10,000 params
    # take ~10 s there, so 2,500 (25 batches of 100) test the chunking here.
    params = {f"group{i % 37}.param_{i}": f"value {i}" for i in range(2_500)}
    metrics = {f"m.{i}": i / 7 for i in range(2_500)}
    run_id = tracker.start_run("many")
    tracker.log_params(run_id, params)
    tracker.log_metrics(run_id, metrics)
    tracker.end_run(run_id)
    data = read(tracker, run_id).data
    assert data.params == params
    assert data.metrics == metrics


def test_a_real_nested_pipelines_params_read_back_equal(tracker):
    from mllife.tracking._names import flatten_params

    params = flatten_params(big_pipeline())
    run_id = tracker.start_run("pipeline")
    tracker.log_params(run_id, params)
    tracker.end_run(run_id)
    assert read(tracker, run_id).data.params == params


def test_long_values_are_cut_visibly_and_numbers_become_floats(tracker):
    run_id = tracker.start_run("values")
    big = list(range(50_000))
    tracker.log_params(run_id, {"classes": big, "none": None, "C": 0.1, "ok": "x" * 6000})
    tracker.set_tags(run_id, {"note": "n" * 9000})
    tracker.log_metrics(run_id, {"f32": np.float32(0.25), "i64": np.int64(3), "flag": True,
                                 "no": np.bool_(False), "int": 7, "tiny": 5e-324})
    tracker.end_run(run_id)
    data = read(tracker, run_id).data
    assert len(data.params["classes"]) == 6000
    assert data.params["classes"].endswith(CUT_MARK)
    assert data.params["classes"].startswith(repr(big)[:5990])
    assert data.params["ok"] == "x" * 6000           # at the limit: whole
    assert (data.params["none"], data.params["C"]) == ("None", "0.1")
    assert len(data.tags["note"]) == 8000
    assert data.tags["note"].endswith(CUT_MARK)
    assert data.metrics == {"f32": 0.25, "i64": 3.0, "flag": 1.0, "no": 0.0, "int": 7.0,
                            "tiny": 5e-324}


# ---- files -----------------------------------------------------------------------------------
def test_tables_and_files_read_back_equal(tracker):
    frame = pd.DataFrame({"model": ["a", "b, \"quoted\"", "é😀"], "auc": [0.7, np.nan, 1 / 3],
                          "when": pd.to_datetime(["2024-01-01", None, "2024-03-01"])},
                         index=[10, 20, 30])
    html = "<html><body>ünïcode</body></html>".encode()
    run_id = tracker.start_run("files")
    tracker.log_table(run_id, "tables/scores", frame)
    tracker.log_artifact(run_id, "report.html", html)
    tracker.log_artifact(run_id, "../../escape/../x.bin", b"\x00\x01")
    tracker.end_run(run_id)
    out = Path(tempfile.mkdtemp())
    local = Path(tracker.client.download_artifacts(run_id, "", str(out)))
    csv = pd.read_csv(local / "tables" / "scores.csv")
    assert list(csv.columns) == ["model", "auc", "when"]
    assert len(csv) == 3
    assert csv["model"].tolist() == frame["model"].tolist()
    assert csv["auc"].iloc[[0, 2]].tolist() == frame["auc"].iloc[[0, 2]].tolist()
    assert np.isnan(csv["auc"].iloc[1])
    records = json.loads((local / "tables" / "scores.json").read_text(encoding="utf-8"))
    assert records[1] == {"model": 'b, "quoted"', "auc": None, "when": None}
    assert records[0]["when"] == "2024-01-01T00:00:00"
    assert (local / "report.html").read_bytes() == html
    files = sorted(p.relative_to(local).as_posix() for p in local.rglob("*") if p.is_file())
    assert files == ["_/_/escape/_/x.bin", "report.html", "tables/scores.csv",
                     "tables/scores.json"]   # the hostile path stays inside the run
