"""``log_report`` and ``track``: known answers read back from MLflow, and failures planted.

Real reports (evaluation, drift, audit, comparison, monitor) on small seeded data are
logged to a real MLflow SQLite store; the metrics read back equal ``extract(report)`` and
the report's own summary, the artifacts equal the report's tables, findings and HTML.
Failures are planted in a recording tracker and in MLflow's own artifact store.
"""

from __future__ import annotations

import json
import math
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from mllife import InputError, TrackingError, TrackingWarning
from mllife.report import Report
from mllife.tracking import MlflowTracker, log_report
from mllife.tracking._extract import extract
from mllife.tracking._log import track
from mllife.tracking._names import flatten, flatten_params, safe_name

from ._recording import FailingTracker, RecordingTracker
from .conftest import child_runs

SEED = 0


# ---- reports, built once ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def data():
    X, y = make_classification(300, n_features=5, n_informative=3, flip_y=0.1,
                               random_state=SEED)
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(5)]), y


@pytest.fixture(scope="module")
def evaluation(data):
    from mllife import evaluate

    X, y = data
    model = DecisionTreeClassifier(random_state=SEED).fit(X[:200], y[:200])
    return evaluate(model, X[200:], y[200:], X_train=X[:200], y_train=y[:200],
                    random_state=SEED)


@pytest.fixture(scope="module")
def drift(data):
    from mllife import drift_report

    X, _ = data
    return drift_report(X[:150], X[150:].assign(f0=X["f0"][150:] + 1.0), random_state=SEED)


@pytest.fixture(scope="module")
def audit_report(data):
    from mllife import audit

    X, y = data
    return audit(X.assign(y=y, code=["N/A" if i % 10 == 0 else "x" for i in range(len(y))]),
                 target="y")


class AlwaysFails(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        raise ValueError("planted failure: this model never fits")


@pytest.fixture(scope="module")
def models():
    return {"logistic": LogisticRegression(), "tree": DecisionTreeClassifier(max_depth=3),
            "broken": AlwaysFails()}


@pytest.fixture(scope="module")
def comparison(data, models):
    from mllife import compare_models

    X, y = data
    return compare_models(models, X, y, cv=2)


class Odd(Report):
    """A report type mllife does not know, with non-finite numbers in its summary."""


def odd_report():
    return Odd(title="odd", summary={"n": 3, "auc": float("nan"), "up": float("inf"),
                                     "down": -np.inf, "share": np.float32(0.25)})


# ---- known answers through MLflow ------------------------------------------------------------
def _download(tracker, run_id):
    return Path(tracker.client.download_artifacts(run_id, "", tempfile.mkdtemp()))


@pytest.mark.parametrize("name", ["evaluation", "drift", "audit_report"])
def test_numbers_and_artifacts_read_back_equal_the_reports(name, tracker, request):
    report = request.getfixturevalue(name)
    before = report.to_json()
    expected = extract(report)
    run_id = log_report(report, tracker=tracker, note="known answers")
    run = tracker.client.get_run(run_id)
    data = report.to_dict()

    assert run.info.status == "FINISHED"
    assert run.info.experiment_id == tracker.experiment_id
    finite = {safe_name(k): v for k, v in expected.metrics.items() if math.isfinite(v)}
    assert len(finite) == len({k for k, v in expected.metrics.items() if math.isfinite(v)})
    assert run.data.metrics == finite
    summary = {k: float(v) for k, v in flatten(data["summary"]).items()
               if isinstance(v, int | float) and math.isfinite(v)}
    assert summary
    for key, value in summary.items():
        assert run.data.metrics[safe_name(f"summary.{key}")] == value, key
    assert run.data.params == {safe_name(k): v for k, v in expected.params.items()}
    tags = run.data.tags
    assert tags["mllife.report"] == type(report).__name__
    assert tags["mllife.note"] == "known answers"
    for severity, n in report.severity_counts().items():
        assert tags[f"mllife.findings.{severity}"] == str(n)
    assert all(tags[safe_name(k)] == v for k, v in expected.tags.items())

    local = _download(tracker, run_id)
    assert data["tables"], "every one of these reports has tables"
    for table, records in data["tables"].items():
        # "(ms/row)" is cleaned like any name; a file name takes no ":" (a drive on Windows)
        path = local / safe_name(f"tables/{table}").replace(":", "_")
        assert json.loads(path.with_name(path.name + ".json").read_text("utf-8")) == records
        if records:
            csv = pd.read_csv(path.with_name(path.name + ".csv"))
            assert len(csv) == len(records)
            assert list(csv.columns) == list(records[0])
    assert json.loads((local / "findings.json").read_text("utf-8")) == data["findings"]
    assert (local / "report.html").read_text("utf-8") == report.to_html()
    written = json.loads((local / "summary.json").read_text("utf-8"))
    assert written["report"] == type(report).__name__
    assert written["metrics"] == {k: (v if math.isfinite(v) else None)
                                  for k, v in expected.metrics.items()}
    assert report.to_json() == before   # the report is not changed


def test_non_finite_metrics_are_dropped_and_listed(tracker):
    report = odd_report()
    run_id = log_report(report, tracker=tracker, prefix="holdout")
    run = tracker.client.get_run(run_id)
    assert run.info.run_name == "holdout"
    assert run.data.metrics["holdout.summary.n"] == 3.0
    assert run.data.metrics["holdout.summary.share"] == 0.25
    assert not {"holdout.summary.auc", "holdout.summary.up", "holdout.summary.down"} \
        & set(run.data.metrics)
    listed = run.data.tags["mllife.nonfinite_metrics"].split(", ")
    assert sorted(listed) == ["holdout.summary.auc", "holdout.summary.down", "holdout.summary.up"]
    written = json.loads((_download(tracker, run_id) / "summary.json").read_text("utf-8"))
    assert sorted(written["nonfinite"]) == sorted(listed)
    assert written["metrics"]["holdout.summary.auc"] is None
    assert written["metrics"]["holdout.summary.n"] == 3.0


def test_a_comparison_nests_one_run_per_candidate(comparison, tracker, models):
    expected = extract(comparison)
    child_params = {name: flatten_params(model) for name, model in models.items()}
    run_id = track(comparison, tracker, run_name="compare", note="baseline then trees",
                   params={"cv": 2, "scoring": ["roc_auc"]}, child_params=child_params)
    parent = tracker.client.get_run(run_id)
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["mllife.note"] == "baseline then trees"
    assert parent.data.params["cv"] == "2"
    assert parent.data.params["scoring.0"] == "roc_auc"
    children = child_runs(tracker.client, run_id)
    assert set(children) == {c.name for c in expected.children} >= {"baseline", *models}
    for child in expected.children:
        run = children[child.name]
        assert run.info.status == ("FAILED" if child.failed else "FINISHED")
        assert run.data.metrics == {safe_name(k): v for k, v in child.metrics.items()
                                    if math.isfinite(v)}
        for key, value in child_params.get(child.name, {}).items():
            assert run.data.params[key] == value
    assert children["broken"].info.status == "FAILED"
    assert children["tree"].data.params["max_depth"] == "3"


def test_the_default_tracker_is_mlflows_own_resolution(mlflow_store, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_store.uri)
    run_id = log_report(odd_report())
    run = mlflow_store.client.get_run(run_id)
    assert run.info.experiment_id == "0"
    assert run.data.metrics["summary.n"] == 3.0


# ---- the recording tracker -------------------------------------------------------------------
def test_what_a_run_holds_on_another_backend(evaluation):
    recorder = RecordingTracker()
    expected = extract(evaluation)
    run_id = log_report(evaluation, tracker=recorder)
    (only_id, run), = recorder.runs.items()
    assert run_id == only_id
    assert run.status == "FINISHED"
    assert run.parent is None
    assert run.last_metrics() == {k: v for k, v in expected.metrics.items() if math.isfinite(v)}
    data = evaluation.to_dict()
    assert set(run.tables) == {f"tables/{name}" for name in data["tables"]}
    for name, records in data["tables"].items():
        frame = run.tables[f"tables/{name}"]
        assert len(frame) == len(records)
        assert list(frame.columns.astype(str)) == (list(records[0]) if records
                                                   else list(frame.columns.astype(str)))
    assert set(run.artifacts) == {"findings.json", "summary.json", "report.html"}
    assert run.artifacts["report.html"].decode("utf-8") == evaluation.to_html()
    assert recorder.calls[0] == ("start_run", evaluation.title)
    assert recorder.calls[-1] == ("end_run", run_id)


def test_a_monitors_windows_become_steps():
    from mllife.bundle import InputSchema, ModelBundle
    from mllife.drift import DriftProfile
    from mllife.monitor import Monitor

    rng = np.random.default_rng(SEED)
    X = pd.DataFrame({"a": rng.normal(size=1_000), "b": rng.normal(size=1_000)})
    y = (X["a"] + rng.normal(size=1_000) > 0).astype(int)
    model = LogisticRegression().fit(X[:400], y[:400])
    bundle = ModelBundle(model, InputSchema.infer(X[:400], out_of_range="ignore"),
                         version="1.0", drift_profile=DriftProfile.fit(X[:400]))
    watch = Monitor(bundle, reference=X[:400].assign(y=y[:400]), time_col="t", label_col="y")
    for day in range(3):
        rows = slice(400 + 200 * day, 400 + 200 * (day + 1))
        hours = pd.to_timedelta(np.linspace(0, 23, 200), unit="h")
        batch = X[rows].assign(y=y[rows].to_numpy(),
                               t=(pd.Timestamp("2024-03-01") + pd.Timedelta(days=day) + hours))
        watch.observe(batch)
    report = watch.report()
    expected = extract(report)
    assert len(expected.steps) >= 2
    recorder = RecordingTracker()
    log_report(report, tracker=recorder)
    (run,) = recorder.runs.values()
    for step, values in expected.steps:
        logged = {n: v for n, v, s in run.metrics if s == step and n not in expected.metrics}
        assert logged == {k: v for k, v in values.items() if math.isfinite(v)}


# ---- failures --------------------------------------------------------------------------------
def test_log_report_raises_a_tracking_error_and_fails_the_run():
    recorder = FailingTracker("log_metrics")
    with pytest.raises(TrackingError, match=r"FailingTracker failed in log_metrics of run "
                                            r"'odd' \(id run-0\): OSError: planted") as info:
        log_report(odd_report(), tracker=recorder)
    assert isinstance(info.value.__cause__, OSError)
    assert recorder.runs["run-0"].status == "FAILED"


@pytest.mark.parametrize(("method", "after"), [
    ("start_run", 0), ("log_params", 0), ("log_metrics", 0), ("log_params", 1),
    ("log_table", 1), ("log_artifact", 0), ("log_artifact", 2), ("end_run", 0),
    ("start_run", 2), ("log_metrics", 2), ("end_run", 1),   # inside a nested run
])
def test_track_never_raises_warns_once_and_fails_every_open_run(comparison, models, method,
                                                                 after):
    recorder = FailingTracker(method, after=after)
    params = {"cv": 2, "nested": {"a": [1, 2]}}
    before = json.dumps(params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = track(comparison, recorder, run_name="compare", params=params,
                       child_params={name: {"C": 1.0} for name in models})
    assert result is None
    (warning,) = caught
    assert warning.category is TrackingWarning
    assert f"failed in {method} of run 'compare'" in str(warning.message)
    assert "OSError: planted failure" in str(warning.message)
    assert warning.filename == __file__   # pointed at the caller, past mllife's frames
    assert recorder.runs or method == "start_run"
    assert all(run.status == "FAILED" or (run.parent and run.status == "FINISHED")
               for run in recorder.runs.values())
    parents = [run for run in recorder.runs.values() if run.parent is None]
    assert all(run.status == "FAILED" for run in parents)
    assert json.dumps(params) == before


def test_track_warns_when_preparing_fails_too():
    with pytest.warns(TrackingWarning, match="could not prepare run 'x'.*report is a str"):
        assert track("not a report", RecordingTracker(), run_name="x") is None


def _sabotage_artifacts(tracker):
    """A file where the experiment's artifact folder goes: every upload fails (even as root)."""
    location = tracker.client.get_experiment(tracker.experiment_id).artifact_location
    path = Path(location.removeprefix("file://"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not a folder")


def test_an_mlflow_store_failing_mid_run_warns_and_the_run_reads_back_failed(tracker, drift):
    _sabotage_artifacts(tracker)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert track(drift, tracker, run_name="drift") is None
    (warning,) = caught
    assert warning.category is TrackingWarning
    run_id = tracker.last_run_id
    message = str(warning.message)
    assert message.startswith(f"MlflowTracker failed in log_table of run 'drift' (id {run_id})")
    run = tracker.client.get_run(run_id)
    assert run.info.status == "FAILED"
    # the numbers were logged before the tables failed: they stay, in a run marked FAILED
    assert run.data.metrics == {safe_name(k): v for k, v in extract(drift).metrics.items()
                                if math.isfinite(v)}


def test_log_report_on_a_failing_mlflow_store_raises_after_failing_the_run(tracker):
    _sabotage_artifacts(tracker)
    with pytest.raises(TrackingError, match="MlflowTracker failed in log_artifact"):
        log_report(odd_report(), tracker=tracker)
    assert tracker.client.get_run(tracker.last_run_id).info.status == "FAILED"


def test_a_bad_tracker_is_refused_by_log_report_but_only_warned_by_track():
    with pytest.raises(InputError, match="tracker is a int"):
        log_report(odd_report(), tracker=3)
    assert isinstance(MlflowTracker, type)
