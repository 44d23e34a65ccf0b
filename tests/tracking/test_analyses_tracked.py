"""``tracker=`` on the analyses: compare_models, evaluate, compare_champion, drift_report, Monitor.report.

Each analysis logs one run (plus one nested run per compared model) whose numbers are the
report's own, and tracking never changes the report: the same call without a tracker gives
an equal report. A bad ``tracker=`` fails before any work; a tracker failing mid-run is one
warning and a FAILED run, never a lost report. Two backends: the recording tracker (every
call kept, strict about types) and a real MLflow store read back with ``MlflowClient``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from mllife import TrackingWarning
from mllife._errors import InputError
from mllife.baselines import baseline as make_baseline
from mllife.drift import drift_report
from mllife.evaluation import compare_champion, evaluate
from mllife.experiments import compare_models

from ._recording import FailingTracker, RecordingTracker
from .conftest import child_runs

#: Columns of ComparisonReport.results / fold_scores measured with a clock.
TIMINGS = ["fit_seconds", "score_seconds", "latency_1row_ms", "latency_per_row_batch_ms"]
NOTE = "trees should beat the linear model here; été ✓"


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(160, n_features=4, n_informative=3, n_redundant=0,
                               random_state=0)
    X = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    return X, pd.Series(y, name="y")


def _models():
    return {"logistic": LogisticRegression(C=0.5),
            "tree": DecisionTreeClassifier(max_depth=3, random_state=0)}


def _top(tracker: RecordingTracker):
    """The one run without a parent (and its id)."""
    tops = [(run_id, run) for run_id, run in tracker.runs.items() if run.parent is None]
    assert len(tops) == 1, [run.name for _, run in tops]
    return tops[0]


def _children(tracker: RecordingTracker, parent: str):
    return {run.name: run for run in tracker.runs.values() if run.parent == parent}


def _expected_param(value) -> str:
    """How a get_params value reads as a tracked param (written here, not by mllife)."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        return type(value).__name__
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _untimed(report):
    return (report.results.drop(columns=[c for c in TIMINGS if c in report.results]),
            report.fold_scores.drop(columns=[c for c in TIMINGS if c in report.fold_scores]))


def _assert_same_comparison(tracked, plain):
    for a, b in zip(_untimed(tracked), _untimed(plain), strict=True):
        pd.testing.assert_frame_equal(a, b)
    assert tracked.findings == plain.findings
    assert tracked.undefined_scores.equals(plain.undefined_scores)


def _cell_metrics(row, scoring) -> dict[str, float]:
    """What a candidate's run must hold: its row of ``report.results`` (non-missing cells)."""
    out = {}
    for score in scoring:
        out[f"{score}.mean"] = row[f"{score}_mean"]
        out[f"{score}.std"] = row[f"{score}_std"]
        out[f"lift.{score}"] = row[f"lift_{score}"]
    for column in ("fit_seconds", "latency_1row_ms", "latency_per_row_batch_ms", "size_bytes"):
        out[column] = row[column]
    return {k: float(v) for k, v in out.items() if not pd.isna(v)}


# ---- compare_models --------------------------------------------------------------------------
def test_compare_models_logs_one_parent_and_one_run_per_model(data):
    X, y = data
    tracker = RecordingTracker()
    models = _models()
    report = compare_models(models, X, y, cv=3, tracker=tracker, note=NOTE)
    plain = compare_models(_models(), X, y, cv=3)
    _assert_same_comparison(report, plain)

    top_id, top = _top(tracker)
    assert top.name == "compare_models"
    assert top.status == "FINISHED"
    assert top.tags["mllife.note"] == NOTE
    assert top.tags["mllife.report"] == "ComparisonReport"
    assert {k: top.params[k] for k in ("cv", "n_folds", "task", "sampler", "scoring",
                                       "primary_score", "baseline", "groups")} == {
        "cv": "3", "n_folds": "3", "task": "binary", "sampler": "None",
        "scoring": ", ".join(report.scoring), "primary_score": report.primary,
        "baseline": "baseline", "groups": "False"}

    children = _children(tracker, top_id)
    assert sorted(children) == sorted(report.results["model"]) == ["baseline", "logistic", "tree"]
    assert len(tracker.runs) == 1 + len(children)
    for name, model in {**models, "baseline": make_baseline("binary")}.items():
        params = children[name].params
        expected = {k: _expected_param(v) for k, v in model.get_params(deep=True).items()}
        assert {k: params[k] for k in expected} == expected, name
        assert children[name].status == "FINISHED"
    assert children["logistic"].params["C"] == "0.5"
    assert children["tree"].params["max_depth"] == "3"
    for row in report.results.to_dict("records"):
        metrics = children[row["model"]].last_metrics()
        expected = _cell_metrics(row, report.scoring)
        assert {k: metrics[k] for k in expected} == expected, row["model"]
        assert metrics["folds_failed"] == 0.0
    # every model's lift over the baseline is there, and the baseline's own is 0
    assert children["baseline"].last_metrics()[f"lift.{report.primary}"] == 0.0


def test_compare_models_sampler_and_splitter_are_params_not_lists(data):
    from imblearn.over_sampling import RandomOverSampler
    from sklearn.model_selection import KFold

    X, y = data
    tracker = RecordingTracker()
    folds = list(KFold(3).split(X))
    compare_models({"logistic": LogisticRegression()}, X, y, cv=folds,
                   sampler=RandomOverSampler(random_state=0), baseline=False, tracker=tracker)
    _, top = _top(tracker)
    assert top.params["cv"] == "list of 3 folds"        # not one param per row index
    assert top.params["sampler"] == "RandomOverSampler(random_state=0)"
    assert not any(key.startswith("cv.") for key in top.params)
    tracker = RecordingTracker()
    compare_models({"logistic": LogisticRegression()}, X, y, cv=KFold(3), baseline=False,
                   tracker=tracker)
    top_id, top = _top(tracker)
    assert top.params["cv"] == repr(KFold(3))
    assert list(_children(tracker, top_id)) == ["logistic"]


class _AlwaysFails(ClassifierMixin, BaseEstimator):
    """A classifier whose fit always raises."""

    def __init__(self, message="planted fit failure"):
        self.message = message

    def fit(self, X, y):
        raise ValueError(self.message)

    def predict(self, X):  # pragma: no cover - never fitted
        return np.zeros(len(X))


def test_a_model_failing_in_every_fold_is_a_failed_run_with_its_error(data):
    X, y = data
    tracker = RecordingTracker()
    report = compare_models({"broken": _AlwaysFails(), "logistic": LogisticRegression()}, X, y,
                            cv=3, tracker=tracker)
    top_id, top = _top(tracker)
    assert top.status == "FINISHED"
    children = _children(tracker, top_id)
    assert children["broken"].status == "FAILED"
    assert "ValueError: planted fit failure" in children["broken"].tags["mllife.error"]
    assert children["broken"].last_metrics()["folds_failed"] == 3.0
    assert children["broken"].params["message"] == "planted fit failure"
    assert {children[n].status for n in ("logistic", "baseline")} == {"FINISHED"}
    assert "mllife.error" not in children["logistic"].tags
    assert report.results.set_index("model").loc["broken", "n_folds_failed"] == 3


# ---- evaluate --------------------------------------------------------------------------------
def test_evaluate_logs_one_run_with_the_reports_numbers(data):
    X, y = data
    model = LogisticRegression(C=0.5).fit(X[:100], y[:100])
    tracker = RecordingTracker()
    kwargs = {"X_train": X[:100], "y_train": y[:100], "measure": False, "random_state": 0}
    report = evaluate(model, X[100:], y[100:], tracker=tracker, **kwargs)
    assert report == evaluate(model, X[100:], y[100:], **kwargs)

    _, top = _top(tracker)
    assert len(tracker.runs) == 1
    assert top.name == "evaluate LogisticRegression"
    assert top.status == "FINISHED"
    metrics = top.last_metrics()
    for name, value in report.metrics.items():
        if np.isfinite(value):
            assert metrics[f"test.{name}"] == float(value)
    for name, value in report.lift.items():
        assert metrics[f"lift.{name}"] == float(value)
    assert metrics["test.accuracy"] == report.metrics["accuracy"]
    assert top.params["model"] == "LogisticRegression"
    assert top.params["model_params.C"] == "0.5"
    assert {k: top.params[f"model_params.{k}"] for k in model.get_params()} == {
        k: _expected_param(v) for k, v in model.get_params().items()}
    assert {top.params[k] for k in ("measure", "random_state", "n_test_rows", "n_train_rows")} \
        == {"False", "0", "60", "100"}
    assert top.tags["mllife.report"] == "EvaluationReport"


# ---- compare_champion ------------------------------------------------------------------------
def test_compare_champion_logs_the_decision_and_its_numbers(data):
    X, y = data
    champion = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X[:100], y[:100])
    challenger = LogisticRegression().fit(X[:100], y[:100])
    tracker = RecordingTracker()
    kwargs = {"metric": "roc_auc", "guard_metrics": ["accuracy"], "n_boot": 200,
              "random_state": 0}
    result = compare_champion(champion, challenger, X[100:], y[100:], tracker=tracker, **kwargs)
    assert result == compare_champion(champion, challenger, X[100:], y[100:], **kwargs)

    _, top = _top(tracker)
    assert len(tracker.runs) == 1
    assert top.name == "compare_champion roc_auc"
    metrics = top.last_metrics()
    for name in ("difference", "ci_low", "ci_high", "p_value"):
        assert metrics[name] == float(getattr(result, name))
    assert metrics["promote"] == float(result.decision == "promote")
    assert metrics["champion.roc_auc"] == result.champion_score
    assert top.tags["mllife.decision"] == result.decision
    assert top.params["metric"] == "roc_auc"
    assert top.params["guard_metrics"] == "accuracy"
    assert top.params["n_boot"] == "200"
    assert top.params["champion"] == "DecisionTreeClassifier"
    assert top.params["champion_params.max_depth"] == "1"
    assert top.params["challenger_params.C"] == "1.0"


# ---- drift_report ----------------------------------------------------------------------------
def test_drift_report_logs_the_share_and_each_column():
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(["a", "b"], 300)})
    cur = pd.DataFrame({"x": rng.normal(0.6, 1, size=300), "c": ref["c"].to_numpy()[::-1]})
    tracker = RecordingTracker()
    report = drift_report(ref, cur, method={"x": "ks"}, random_state=0, tracker=tracker)
    assert report == drift_report(ref, cur, method={"x": "ks"}, random_state=0)

    _, top = _top(tracker)
    assert len(tracker.runs) == 1
    assert top.name == "drift_report"
    metrics = top.last_metrics()
    assert metrics["drift_share"] == report.drift_share
    for row in report.table.to_dict("records"):
        for what in ("statistic", "p_value", "effect_size"):
            if not pd.isna(row[what]):
                assert metrics[f"column.{row['column']}.{what}"] == float(row[what])
        assert metrics[f"column.{row['column']}.drifted"] == float(row["drifted"])
    assert report.drifted_columns == ["x"]
    assert top.params["method.x"] == "ks"
    assert top.params["alpha"] == "0.05"
    assert top.params["random_state"] == "0"
    assert top.params["columns"] == "None"


# ---- Monitor.report --------------------------------------------------------------------------
def _monitor():
    """Three daily windows, observed out of time order."""
    from mllife.bundle import InputSchema, ModelBundle
    from mllife.drift import DriftProfile
    from mllife.monitor import Monitor

    X = pd.DataFrame({"x": np.arange(300, dtype=float) % 10})
    y = (X["x"] > 4).astype(int)
    bundle = ModelBundle(LogisticRegression().fit(X, y), InputSchema.infer(X), version="7",
                         drift_profile=DriftProfile.fit(X))
    monitor = Monitor(bundle, reference=X.assign(y=y), time_col="t", label_col="y")
    for day, part in ((3, X.iloc[:100] + 2.0), (1, X.iloc[100:200]), (2, X.iloc[200:])):
        batch = part.assign(t=pd.Timestamp(f"2024-05-0{day} 10:00"))
        monitor.observe(batch.assign(y=(batch["x"] > 4).astype(int)))
    return monitor


def test_monitor_report_logs_one_step_per_window_in_time_order():
    monitor = _monitor()
    tracker = RecordingTracker()
    report = monitor.report(tracker=tracker)
    assert report == monitor.report()

    _, top = _top(tracker)
    assert len(tracker.runs) == 1
    assert top.name == "monitor 7"
    assert top.params["bundle_version"] == "7"
    windows = report.windows
    assert list(windows["window"]) == ["2024-05-01", "2024-05-02", "2024-05-03"]
    # the step-only metrics (one per window) come in time order
    series = [(step, value) for name, value, step in top.metrics if name == "n_rows"]
    assert series == [(int(i), float(n)) for i, n in zip(windows["index"], windows["n_rows"],
                                                         strict=True)]
    assert [s for s, _ in series] == sorted(s for s, _ in series)
    drift = {step: value for name, value, step in top.metrics if name == "drift_share"}
    assert drift == {int(i): float(v) for i, v in zip(windows["index"], windows["drift_share"],
                                                      strict=True) if not pd.isna(v)}
    assert len(drift) == 3
    # the shifted day (2024-05-03) drifted, the others did not
    assert drift[int(windows["index"].iloc[2])] > drift[int(windows["index"].iloc[0])]


# ---- bad trackers, failing trackers ----------------------------------------------------------
_CALLS: list[str] = []


class _RecordsCalls(LogisticRegression):
    """A logistic regression that records every fit and predict."""

    def fit(self, X, y, sample_weight=None):
        _CALLS.append("fit")
        return super().fit(X, y, sample_weight=sample_weight)

    def predict(self, X):
        _CALLS.append("predict")
        return super().predict(X)

    def predict_proba(self, X):
        _CALLS.append("predict_proba")
        return super().predict_proba(X)


@pytest.mark.parametrize("bad", ["mlflow", {"start_run": "x"}, RecordingTracker, 0],
                         ids=["str", "dict", "class", "int"])
@pytest.mark.parametrize("entry", ["compare_models", "evaluate", "compare_champion",
                                   "drift_report", "monitor"])
def test_a_non_tracker_is_refused_before_any_work(data, entry, bad):
    X, y = data
    fitted = _RecordsCalls().fit(X, y)
    monitor = _monitor() if entry == "monitor" else None
    calls = {
        "compare_models": lambda: compare_models({"m": _RecordsCalls()}, X, y, cv=2, tracker=bad),
        "evaluate": lambda: evaluate(fitted, X, y, tracker=bad),
        "compare_champion": lambda: compare_champion(fitted, fitted, X, y, metric="accuracy",
                                                     n_boot=100, tracker=bad),
        "drift_report": lambda: drift_report(X, X, tracker=bad),
        "monitor": lambda: monitor.report(tracker=bad),
    }
    _CALLS.clear()
    with pytest.raises(InputError, match="tracker"):
        calls[entry]()
    assert _CALLS == []   # nothing was fitted or predicted


def test_a_note_that_is_not_text_is_refused_before_any_work(data):
    X, y = data
    _CALLS.clear()
    with pytest.raises(InputError, match="note"):
        compare_models({"m": _RecordsCalls()}, X, y, cv=2, tracker=RecordingTracker(),
                       note=["not", "text"])
    assert _CALLS == []


@pytest.fixture(scope="module")
def plain_two_folds(data):
    return compare_models(_models(), *data, cv=2)


# a failure opening the parent, in its params, in its tables, opening a child (the 2nd),
# ending the first child, and in the parent's last files (after every child ended)
@pytest.mark.parametrize(("method", "after"), [("start_run", 0), ("log_params", 0),
                                               ("log_table", 1), ("start_run", 2),
                                               ("end_run", 0), ("log_artifact", 2)])
def test_a_tracker_failing_mid_run_warns_once_and_the_report_survives(data, plain_two_folds,
                                                                      method, after):
    X, y = data
    tracker = FailingTracker(method, after)
    with pytest.warns(TrackingWarning) as caught:
        report = compare_models(_models(), X, y, cv=2, tracker=tracker, note=NOTE)
    warned = [w for w in caught if issubclass(w.category, TrackingWarning)]
    assert len(warned) == 1
    message = str(warned[0].message)
    assert "FailingTracker" in message
    assert f"planted failure in {method}" in message
    assert "compare_models" in message
    assert warned[0].filename == __file__   # pointed at the caller's line
    _assert_same_comparison(report, plain_two_folds)
    assert all(run.status != "RUNNING" for run in tracker.runs.values())
    if tracker.runs:   # the parent run was opened: it ended FAILED
        _, top = _top(tracker)
        assert top.status == "FAILED"


def test_a_failing_tracker_never_loses_a_drift_or_monitor_report():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(size=200)})
    tracker = FailingTracker("log_metrics")
    with pytest.warns(TrackingWarning, match="drift_report"):
        report = drift_report(ref, ref + 1.0, tracker=tracker)
    assert report == drift_report(ref, ref + 1.0)
    assert _top(tracker)[1].status == "FAILED"
    monitor = _monitor()
    tracker = FailingTracker("log_metrics", after=2)   # inside the windows' steps
    with pytest.warns(TrackingWarning, match="monitor 7"):
        report = monitor.report(tracker=tracker)
    assert report == monitor.report()
    assert _top(tracker)[1].status == "FAILED"


# ---- a real MLflow store ---------------------------------------------------------------------
def _parent_runs(client, experiment_id):
    runs = client.search_runs([experiment_id], max_results=100)
    return [r for r in runs if "mlflow.parentRunId" not in r.data.tags]


def test_compare_models_in_mlflow_nested_runs_read_back(data, tracker, mlflow_store):
    X, y = data
    client = mlflow_store.client
    report = compare_models(_models(), X, y, cv=3, tracker=tracker, note=NOTE)
    _assert_same_comparison(report, compare_models(_models(), X, y, cv=3))

    parents = _parent_runs(client, tracker.experiment_id)
    assert len(parents) == 1
    parent = parents[0]
    assert parent.info.run_name == "compare_models"
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["mllife.note"] == NOTE
    assert parent.data.params["cv"] == "3"
    assert parent.data.params["scoring"] == ", ".join(report.scoring)
    children = child_runs(client, parent.info.run_id)
    assert sorted(children) == ["baseline", "logistic", "tree"]
    assert len(client.search_runs([tracker.experiment_id], max_results=100)) == 4
    for name, model in {**_models(), "baseline": make_baseline("binary")}.items():
        run = children[name]
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert run.info.status == "FINISHED"
        expected = {k: _expected_param(v) for k, v in model.get_params(deep=True).items()}
        assert {k: run.data.params[k] for k in expected} == expected
    for row in report.results.to_dict("records"):
        metrics = children[row["model"]].data.metrics
        expected = _cell_metrics(row, report.scoring)
        assert {k: metrics[k] for k in expected} == expected


def test_evaluate_in_mlflow_reads_back(data, tracker, mlflow_store):
    X, y = data
    client = mlflow_store.client
    model = LogisticRegression(C=0.5).fit(X[:100], y[:100])
    report = evaluate(model, X[100:], y[100:], X_train=X[:100], y_train=y[:100], tracker=tracker)

    (run,) = _parent_runs(client, tracker.experiment_id)
    assert run.info.run_name == "evaluate LogisticRegression"
    assert run.info.status == "FINISHED"
    assert run.data.params["model_params.C"] == "0.5"
    assert run.data.params["task"] == "binary"
    metrics = run.data.metrics
    for name, value in report.metrics.items():
        if np.isfinite(value):
            assert metrics[f"test.{name}"] == float(value)
    assert metrics["latency_p95_ms"] == report.latency_p95_ms
    assert metrics["model_bytes"] == report.model_bytes
    files = {f.path for f in client.list_artifacts(run.info.run_id)}
    assert {"report.html", "findings.json", "summary.json"} <= files


def test_last_run_id_after_compare_models_is_the_parent_run(tracker):
    """The run a user looks for after a comparison is the parent, not its last child."""
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=90)})
    y = (X["a"] > 0).astype(int)
    compare_models({"lr": LogisticRegression()}, X, y, cv=3, tracker=tracker)
    run = tracker.client.get_run(tracker.last_run_id)
    assert run.info.run_name == "compare_models"
    assert "mlflow.parentRunId" not in run.data.tags
    children = tracker.client.search_runs(
        [tracker.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{tracker.last_run_id}'")
    assert sorted(c.data.tags["mllife.model"] for c in children) == ["baseline", "lr"]


def test_a_profile_comparison_is_tracked_like_drift_report():
    from mllife.drift import DriftProfile

    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"x": rng.normal(size=300)})
    cur = pd.DataFrame({"x": rng.normal(1.0, 1.0, size=300)})
    tracker = RecordingTracker()
    report = DriftProfile.fit(ref).compare(cur, tracker=tracker)
    [run] = tracker.runs.values()
    assert (run.name, run.status) == ("drift_report", "FINISHED")
    assert run.params["n_reference_rows"] == "300"
    assert run.last_metrics()["drift_share"] == report.drift_share == 1.0
    with pytest.raises(InputError, match="tracker"):
        DriftProfile.fit(ref).compare(cur, tracker="mlflow")
