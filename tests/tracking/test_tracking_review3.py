"""Numbers and behaviour of tracking on inputs the authors did not plan for.

Every number read back from a real MLflow store (``tests/tracking/conftest.py``) equals the
report's own: comparisons of every task, scoring dicts, iterable folds, models failing in
some folds, names equal after cleaning, 30 candidates; evaluations with slices, periods,
criteria and explanations; both champion decisions; wide drift reports with tuple and int
column names; monitors of 0, 1 and 50 windows. Reports read back from JSON and a user's
own report type log like the originals. Trackers that interrupt, return odd run ids or fail
in a nested run, and reports that fail to render, are planted; a long note survives whole.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import make_scorer, precision_score, recall_score
from sklearn.model_selection import KFold
from sklearn.tree import DecisionTreeClassifier

from mllife import InputError, TrackingError, TrackingWarning
from mllife.drift import drift_report
from mllife.evaluation import compare_champion, evaluate
from mllife.experiments import compare_models
from mllife.report import Finding, Report
from mllife.tracking import MlflowTracker, log_report
from mllife.tracking._extract import extract
from mllife.tracking._log import track
from mllife.tracking._names import safe_name

from . import test_extract as _built
from ._recording import FailsOnMarkedRow, RecordingTracker
from .conftest import child_runs

# every built-in report type, built by test_extract's fixtures (bound here to be used here)
data, any_report = _built.data, _built.any_report
comparison, evaluation, champion, drift = (_built.comparison, _built.evaluation,
                                           _built.champion, _built.drift)
monitor, audit_report, leakage = _built.monitor, _built.audit_report, _built.leakage
preprocessor, transformer_check = _built.preprocessor, _built.transformer_check

#: Columns of ComparisonReport.results measured with a clock (they differ between calls).
TIMINGS = ["fit_seconds", "score_seconds", "latency_1row_ms", "latency_per_row_batch_ms"]


def _finite(metrics: dict[str, float]) -> dict[str, float]:
    """What MLflow holds for extracted metrics: finite ones, under their MLflow-safe names."""
    return {safe_name(k): v for k, v in metrics.items() if math.isfinite(v)}


def _parents(tracker: MlflowTracker) -> list:
    runs = tracker.client.search_runs([tracker.experiment_id], max_results=1000)
    return [r for r in runs if "mlflow.parentRunId" not in r.data.tags]


def _statuses(tracker: MlflowTracker) -> list[str]:
    return [r.info.status for r in tracker.client.search_runs([tracker.experiment_id],
                                                              max_results=1000)]


# ---- trackers that misbehave -----------------------------------------------------------------
class Interrupting(RecordingTracker):
    """Ctrl-C while the numbers are being logged."""

    def log_metrics(self, run_id, metrics, *, step=0):
        raise KeyboardInterrupt


class OddIds(RecordingTracker):
    """A tracker whose ``start_run`` returns ``ids`` in turn instead of run ids."""

    def __init__(self, *ids):
        super().__init__()
        self.ids = list(ids)

    def start_run(self, name, *, parent_run_id=None, tags=None):
        real = super().start_run(name, tags=tags)
        given = self.ids.pop(0)
        if isinstance(given, str) and given:
            self.runs[given] = self.runs.pop(real)   # later calls use the id it returned
        return given


class OddReturns(RecordingTracker):
    """Methods that return values the protocol says nothing of: they are ignored."""

    def end_run(self, run_id, *, status="FINISHED"):
        super().end_run(run_id, status=status)
        return False

    def log_params(self, run_id, params):
        super().log_params(run_id, params)
        return "oops"

    def log_metrics(self, run_id, metrics, *, step=0):
        super().log_metrics(run_id, metrics, step=step)
        return -1

    def log_artifact(self, run_id, name, data):
        super().log_artifact(run_id, name, data)
        return None, None


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Unrenderable(Report):
    """A user's report whose HTML cannot be built."""

    def to_html(self, *args, **kwargs):
        raise RuntimeError("planted: the report cannot be rendered")


def _small_drift():
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"x": rng.normal(size=120)})
    return reference, reference + 1.0


# ---- defects found and fixed -----------------------------------------------------------------
def test_ctrl_c_propagates_and_the_open_run_ends_killed():
    reference, current = _small_drift()
    tracker = Interrupting()
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrackingWarning)   # never swallowed as a warning
        with pytest.raises(KeyboardInterrupt):
            drift_report(reference, current, tracker=tracker)
    assert [run.status for run in tracker.runs.values()] == ["KILLED"]
    tracker = Interrupting()
    with pytest.raises(KeyboardInterrupt):
        log_report(drift_report(reference, current), tracker=tracker)
    assert [run.status for run in tracker.runs.values()] == ["KILLED"]


@pytest.mark.parametrize("ids", [(None,), (7,), ("",), ("same", "same")],
                         ids=["none", "int", "empty", "reused"])
def test_a_run_id_that_is_not_one_is_the_trackers_failure(comparison, ids):
    tracker = OddIds(*ids, "spare", "spare2", "spare3", "spare4", "spare5")
    with pytest.raises(TrackingError, match=r"OddIds failed in start_run .*run id"):
        log_report(comparison, tracker=tracker)
    if len(ids) > 1:   # a drift report opens one run: no id to reuse
        return
    reference, current = _small_drift()
    tracker = OddIds(*ids)
    with pytest.warns(TrackingWarning, match=r"failed in start_run .*run id"):
        report = drift_report(reference, current, tracker=tracker)
    assert report == drift_report(reference, current)


def test_odd_return_values_of_the_other_methods_are_ignored(comparison):
    tracker = OddReturns()
    run_id = log_report(comparison, tracker=tracker)
    assert run_id == "run-0"
    assert {run.status for run in tracker.runs.values()} <= {"FINISHED", "FAILED"}
    assert tracker.runs[run_id].status == "FINISHED"


def test_a_report_that_cannot_render_is_not_blamed_on_the_tracker():
    report = Unrenderable(title="mine", summary={"n": 3})
    tracker = RecordingTracker()
    with pytest.raises(RuntimeError, match="cannot be rendered"):
        log_report(report, tracker=tracker)
    assert tracker.runs == {}   # nothing was opened, so nothing is left half-written
    with pytest.warns(TrackingWarning) as caught:
        assert track(report, tracker, run_name="mine") is None
    (message,) = [str(w.message) for w in caught]
    assert "could not prepare run 'mine'" in message
    assert "cannot be rendered" in message
    assert "failed in" not in message   # the tracker did nothing wrong
    assert tracker.runs == {}


def test_a_long_note_with_newlines_is_kept_whole(tracker):
    note = ("line one\nline two\r\n\tété ✓ 😀 \x00 nul; " * 3000)[:100_000]
    reference, current = _small_drift()
    run_id = log_report(drift_report(reference, current), tracker=tracker, note=note)
    run = tracker.client.get_run(run_id)
    assert run.info.status == "FINISHED"
    tag = run.data.tags["mllife.note"]
    assert tag.endswith("…[cut]")
    assert note.startswith(tag[:-len("…[cut]")])
    path = tracker.client.download_artifacts(run_id, "note.txt")
    with open(path, encoding="utf-8", newline="") as handle:
        assert handle.read() == note
    short = log_report(drift_report(reference, current), tracker=tracker, note="a\nb")
    assert tracker.client.get_run(short).data.tags["mllife.note"] == "a\nb"
    assert "note.txt" not in {f.path for f in tracker.client.list_artifacts(short)}


# ---- compare_models: every number of every candidate, read back ------------------------------
@pytest.fixture(scope="module")
def frame():
    X, y = make_classification(150, n_features=4, n_informative=3, n_redundant=0,
                               random_state=0)
    return pd.DataFrame(X, columns=["a", "b", "c", "d"]), pd.Series(y, name="y")


def _comparison_case(case, frame):
    """(models, X, y, keywords) of each hostile comparison."""
    X, y = frame
    logistic = LogisticRegression
    if case == "string_labels":
        return ({"lr": logistic(), "tree": DecisionTreeClassifier(max_depth=2, random_state=0)},
                X, y.map({0: "no", 1: "yes"}), {"positive_label": "yes"})
    if case == "multiclass":
        X3, y3 = make_classification(180, n_features=5, n_informative=4, n_redundant=0,
                                     n_classes=3, random_state=0)
        return {"lr": logistic()}, pd.DataFrame(X3), y3, {}
    if case == "regression":
        Xr, yr = make_regression(120, 4, noise=5.0, random_state=0)
        return {"linear": LinearRegression()}, pd.DataFrame(Xr), yr, {}
    if case == "sampler_and_scoring_dict":
        from imblearn.over_sampling import RandomOverSampler

        scoring = {"precision": make_scorer(precision_score, zero_division=0),
                   "rec all": make_scorer(recall_score)}
        return ({"lr": logistic()}, X, y,
                {"sampler": RandomOverSampler(random_state=0), "scoring": scoring})
    if case == "iterable_folds":
        folds = list(KFold(3, shuffle=True, random_state=0).split(X))
        return {"lr": logistic()}, X, y, {"cv": (fold for fold in folds)}
    if case == "fails_in_some_folds":
        return ({"flaky": FailsOnMarkedRow(mark=float(X.iloc[0, 0])), "lr": logistic()}, X, y,
                {})
    assert case == "names_equal_after_cleaning"
    return {"rf": logistic(C=1.0), "rf ": logistic(C=0.1), "rf%": logistic(C=0.01)}, X, y, {}


def _untimed(report):
    return report.results.drop(columns=[c for c in TIMINGS if c in report.results])


def _assert_params_kept(run, expected) -> None:
    """The report's own settings survive beside the call's: no key of one hides the other."""
    assert {k: run.data.params[safe_name(k)] for k in expected.params} == expected.params


def _assert_comparison_read_back(report, tracker):
    (parent,) = _parents(tracker)
    client = tracker.client
    expected = extract(report)
    assert parent.info.run_name == "compare_models"
    assert parent.info.status == "FINISHED"
    assert parent.data.metrics == _finite(expected.metrics)
    primary, best = report.primary, report.best
    best_row = report.results.set_index("model").loc[best]
    assert parent.data.metrics[safe_name(f"best.{primary}.mean")] == best_row[f"{primary}_mean"]
    assert parent.data.metrics["n_models"] == len(report.results)
    assert parent.data.tags["mllife.best_model"] == best
    _assert_params_kept(parent, expected)
    children = child_runs(client, parent.info.run_id)
    assert sorted(children) == sorted(report.results["model"])
    for rank, row in enumerate(report.results.to_dict("records"), start=1):
        run = children[row["model"]]
        metrics = run.data.metrics
        assert metrics["rank"] == rank
        for score in report.scoring:
            for key, column in ((f"{score}.mean", f"{score}_mean"),
                                (f"{score}.std", f"{score}_std"),
                                (f"lift.{score}", f"lift_{score}")):
                if pd.isna(row[column]):
                    assert safe_name(key) not in metrics
                else:
                    assert metrics[safe_name(key)] == row[column], (row["model"], key)
        for column in ("fit_seconds", "latency_1row_ms", "size_bytes"):
            assert metrics[column] == row[column]
        assert metrics["folds_failed"] == row["n_folds_failed"]
        failed = row["n_folds_failed"] == report.n_splits
        assert run.info.status == ("FAILED" if failed else "FINISHED")
        assert ("mllife.error" in run.data.tags) == (row["model"] in report.errors)


@pytest.mark.parametrize("case", ["string_labels", "multiclass", "regression",
                                  "sampler_and_scoring_dict", "iterable_folds",
                                  "fails_in_some_folds", "names_equal_after_cleaning"])
def test_compare_models_numbers_read_back_from_mlflow(case, frame, tracker):
    models, X, y, keywords = _comparison_case(case, frame)
    cv = keywords.pop("cv", 3)
    report = compare_models(models, X, y, cv=cv, tracker=tracker, note=case, **keywords)
    _assert_comparison_read_back(report, tracker)
    if case in ("sampler_and_scoring_dict", "fails_in_some_folds"):   # tracking changes nothing
        again = _comparison_case(case, frame)
        plain = compare_models(again[0], again[1], again[2], cv=3, **again[3])
        pd.testing.assert_frame_equal(_untimed(report), _untimed(plain))
        assert report.findings == plain.findings
    if case == "fails_in_some_folds":
        flaky = report.results.set_index("model").loc["flaky"]
        assert 0 < flaky["n_folds_failed"] < report.n_splits   # some folds, not all
    if case == "names_equal_after_cleaning":
        children = child_runs(tracker.client, _parents(tracker)[0].info.run_id)
        assert {name: children[name].data.params["C"] for name in models} == {
            "rf": "1.0", "rf ": "0.1", "rf%": "0.01"}
    if case == "iterable_folds":
        assert _parents(tracker)[0].data.params["cv"] == "generator of 3 folds"


def test_thirty_candidates_each_read_back(frame, tracker):
    X, y = frame
    models = {f"model {i:02d}": LogisticRegression(C=0.05 * (i + 1)) for i in range(30)}
    report = compare_models(models, X, y, cv=2, tracker=tracker)
    _assert_comparison_read_back(report, tracker)
    children = child_runs(tracker.client, _parents(tracker)[0].info.run_id)
    assert len(children) == 31
    assert {name: children[name].data.params["C"] for name in models} == {
        name: repr(model.C) for name, model in models.items()}


def test_params_that_clash_after_cleaning_in_one_child_all_read_back(frame, tracker):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = frame
    model = Pipeline([("scale%1", StandardScaler()), ("scale_1", StandardScaler(with_mean=False)),
                      ("model", LogisticRegression())])
    compare_models({"pipe": model}, X, y, cv=2, baseline=False, tracker=tracker)
    (parent,) = _parents(tracker)
    run = child_runs(tracker.client, parent.info.run_id)["pipe"]
    assert run.info.status == "FINISHED"
    params = run.data.params
    assert params["scale_1__with_mean"] == "False"   # the clean name keeps its text
    (other,) = [k for k in params if k.startswith("scale_1__with_mean-")]
    assert params[other] == "True"                   # the cleaned one gets a suffix
    assert len(params) == len(model.get_params(deep=True))


# ---- evaluate, compare_champion ----------------------------------------------------------------
def test_evaluate_with_slices_periods_criteria_and_explain_reads_back(tracker):
    X, y = make_classification(500, n_features=5, n_informative=3, flip_y=0.1, random_state=0)
    X = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X[:250], y[:250])
    keywords = {"X_train": X[:250], "y_train": y[:250],
                "sensitive_features": np.where(X["f1"][250:] > 0, "hi", "lo"),
                "time": pd.date_range("2024-01-01", periods=250, freq="D").to_numpy(),
                "criteria": {"roc_auc": 0.9, "recall": 0.5}, "explain": True,
                "random_state": 0}
    report = evaluate(model, X[250:], y[250:], tracker=tracker, **keywords)
    (run,) = _parents(tracker)
    assert run.info.status == "FINISHED"
    metrics = run.data.metrics
    assert metrics == _finite(extract(report).metrics)
    _assert_params_kept(run, extract(report))
    for name, value in report.metrics.items():
        assert metrics[f"test.{name}"] == value
    for name, value in report.train_metrics.items():
        assert metrics[f"train.{name}"] == value
    for name, value in report.fairness_differences.items():
        assert metrics[f"fairness.{name}"] == value
    assert metrics["period.p_value"] == report.period_test["p_value"]
    assert metrics["criteria.passed"] == float(report.passed)
    assert metrics["slices.worst.gap"] == report.slices.iloc[0]["gap"]
    assert metrics["model_bytes"] == report.model_bytes
    plain = evaluate(model, X[250:], y[250:], **keywords)
    assert report.metrics == plain.metrics
    assert report.findings == plain.findings


@pytest.mark.parametrize("promote", [True, False], ids=["promote", "keep"])
def test_compare_champion_either_decision_reads_back(data, tracker, promote):
    frame_, y = data
    X = frame_.drop(columns="group")
    # the weak model sees one feature (the others zero: their coefficients stay 0)
    weak = LogisticRegression(C=0.5).fit(X[:200].assign(f0=0.0, f1=0.0, f2=0.0, f4=0.0),
                                         y[:200])
    strong = LogisticRegression().fit(X[:200], y[:200])
    champion_, challenger = (weak, strong) if promote else (strong, weak)
    keywords = {"metric": "roc_auc", "guard_metrics": ["accuracy"], "n_boot": 200,
                "random_state": 0}
    result = compare_champion(champion_, challenger, X[200:], y[200:], tracker=tracker,
                              **keywords)
    assert result == compare_champion(champion_, challenger, X[200:], y[200:], **keywords)
    assert result.decision == ("promote" if promote else "keep")
    (run,) = _parents(tracker)
    assert run.info.status == "FINISHED"
    metrics = run.data.metrics
    assert metrics == _finite(extract(result).metrics)
    _assert_params_kept(run, extract(result))
    assert metrics["promote"] == float(promote)
    for name in ("difference", "ci_low", "ci_high", "p_value"):
        assert metrics[name] == getattr(result, name)
    assert metrics["champion.roc_auc"] == result.champion_score
    assert run.data.tags["mllife.decision"] == result.decision
    assert run.data.params["champion_params.C"] == repr(champion_.C)


# ---- drift_report, Monitor.report ----------------------------------------------------------------
def test_a_wide_drift_report_with_tuple_and_int_names_reads_back(tracker):
    rng = np.random.default_rng(0)
    reference = pd.DataFrame(rng.normal(size=(80, 300)))
    reference.columns = [("a", 1), 1, "1", ("a", "1"), *range(2, 298)]
    current = reference.copy()
    current[("a", 1)] += 3.0
    current[5] += 3.0
    report = drift_report(reference, current, tracker=tracker)
    assert report == drift_report(reference, current)
    (run,) = _parents(tracker)
    assert run.info.status == "FINISHED"
    metrics = run.data.metrics
    assert metrics == _finite(extract(report).metrics)
    _assert_params_kept(run, extract(report))
    assert metrics["drift_share"] == report.drift_share
    assert metrics["n_columns_logged"] == 100
    assert "mllife.cut.columns" in run.data.tags
    table = report.table.set_index("column")
    # readable, distinct names: str, or repr where two str agree (1 and "1")
    names = {("a", 1): "('a', 1)", 1: "1", "1": "'1'", ("a", "1"): "('a', '1')", 5: "5"}
    for column, label in names.items():
        for what in ("statistic", "p_value", "drifted"):
            assert metrics[safe_name(f"column.{label}.{what}")] == float(table.loc[[column],
                                                                                   what].iloc[0])
    assert metrics[safe_name("column.('a', 1).drifted")] == 1.0
    assert run.data.tags["mllife.drifted_columns"] == "('a', 1), 5"


def _monitor_with(n_windows: int):
    from mllife.bundle import InputSchema, ModelBundle
    from mllife.drift import DriftProfile
    from mllife.monitor import Monitor

    X = pd.DataFrame({"x": np.arange(300, dtype=float) % 10})
    y = (X["x"] > 4).astype(int)
    bundle = ModelBundle(LogisticRegression().fit(X, y), InputSchema.infer(X), version="3",
                         drift_profile=DriftProfile.fit(X))
    watch = Monitor(bundle, reference=X.assign(y=y), time_col="t", label_col="y")
    for day in range(n_windows):
        start = (day * 37) % 200
        batch = X.iloc[start:start + 60] + (2.0 if day % 7 == 6 else 0.0)
        watch.observe(batch.assign(t=pd.Timestamp("2024-01-01") + pd.Timedelta(days=day),
                                   y=(batch["x"] > 4).astype(int)))
    return watch


@pytest.mark.parametrize("n_windows", [0, 1, 50])
def test_monitor_windows_read_back_as_steps(tracker, n_windows):
    watch = _monitor_with(n_windows)
    report = watch.report(tracker=tracker)
    assert report == watch.report()
    (run,) = _parents(tracker)
    assert run.info.status == "FINISHED"
    assert run.data.metrics["n_windows"] == n_windows
    _assert_params_kept(run, extract(report))
    windows = report.windows
    numeric = [c for c in windows.columns if c != "index" and (
        pd.api.types.is_numeric_dtype(windows[c]) or pd.api.types.is_bool_dtype(windows[c]))]
    assert bool(numeric) == (n_windows > 0)
    for column in numeric:
        history = tracker.client.get_metric_history(run.info.run_id, safe_name(str(column)))
        assert {m.step: m.value for m in history} == {
            int(i): float(v) for i, v in zip(windows["index"], windows[column], strict=True)
            if not pd.isna(v)}, column
    if n_windows == 50:
        alarms = report.alarms
        for signal in set(alarms["signal"]):
            history = tracker.client.get_metric_history(run.info.run_id, f"alarms.{signal}")
            assert sum(m.value for m in history) == (alarms["signal"] == signal).sum()
        assert "realized_roc_auc" in numeric or any("realized" in str(c) for c in numeric)


# ---- any report: read back from JSON, a user's own type, odd prefixes -------------------------
def test_a_report_loaded_from_json_logs_like_the_original(any_report, tmp_path, tracker):
    loaded = Report.load(any_report.save(tmp_path / "report.json"))
    assert type(loaded) is type(any_report)
    expected = extract(any_report)
    if type(any_report).__name__ not in ("LeakageReport", "PreprocessorReport",
                                         "TransformerCheckReport"):
        return _assert_logs_alike(any_report, loaded)   # the others reach MLflow elsewhere
    run = tracker.client.get_run(log_report(loaded, tracker=tracker))
    assert run.info.status == "FINISHED"
    headline = _finite(expected.metrics)
    assert {k: run.data.metrics[k] for k in headline} == headline
    # beyond them, only a monitor's series (MLflow shows each one's latest value)
    series = {safe_name(k) for _, values in expected.steps for k in values}
    assert set(run.data.metrics) - set(headline) <= series
    assert {k: run.data.params[safe_name(k)] for k in expected.params} == expected.params
    _assert_logs_alike(any_report, loaded)


def _assert_logs_alike(report: Report, loaded: Report) -> None:
    first, again = RecordingTracker(), RecordingTracker()
    log_report(report, tracker=first, note="n" * 6000)
    log_report(loaded, tracker=again, note="n" * 6000)
    assert len(first.runs) == len(again.runs)
    for a, b in zip(first.runs.values(), again.runs.values(), strict=True):
        assert (a.name, a.status, a.params, a.tags) == (b.name, b.status, b.params, b.tags)
        assert a.metrics == b.metrics
        assert set(a.tables) == set(b.tables)
        for name in ("findings.json", "summary.json", "note.txt"):
            assert a.artifacts.get(name) == b.artifacts.get(name), name


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Scores(Report):
    """A user's own report type: its numbers in the summary, a table with an odd name."""

    auc: float = 0.5

    def _summary(self):
        return {"auc": self.auc, "by fold": {"first": 0.25, "all": [1, 2]}, "model": "rf",
                "undefined": float("nan")}

    def _tables(self):
        return {"per fold (ms/row)": pd.DataFrame({"fold": [0, 1], "auc": [0.5, 0.75]})}


def test_a_users_report_type_reads_back(tracker):
    report = Scores(title="mine", auc=0.875,
                    findings=[Finding("low_auc", "warning", message="low")])
    run_id = log_report(report, tracker=tracker)
    run = tracker.client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics == {
        "summary.auc": 0.875, "summary.by fold.first": 0.25, "summary.by fold.all.0": 1.0,
        "summary.by fold.all.1": 2.0, "findings.info": 0.0, "findings.warning": 1.0,
        "findings.error": 0.0, "findings.by_check.low_auc": 1.0}
    assert run.data.tags["mllife.nonfinite_metrics"] == "summary.undefined"
    assert run.data.tags["mllife.report"] == "Scores"
    path = tracker.client.download_artifacts(run_id, safe_name("tables/per fold (ms/row)")
                                             + ".json")
    with open(path, encoding="utf-8") as handle:
        assert json.load(handle) == [{"fold": 0, "auc": 0.5}, {"fold": 1, "auc": 0.75}]


@pytest.mark.parametrize("prefix", ["a/b", "x%y😀", " ", "\n", "/", "..", "../..", "p" * 300])
def test_odd_prefixes_name_every_metric(tracker, prefix):
    reference, current = _small_drift()
    report = drift_report(reference, current)
    run_id = log_report(report, tracker=tracker, prefix=prefix)
    run = tracker.client.get_run(run_id)
    assert run.info.status == "FINISHED"
    expected = {f"{prefix}.{k}": v for k, v in extract(report).metrics.items()}
    names = {safe_name(k) for k in expected}
    assert len(names) == len(expected)   # no two metrics merged by the prefix
    if len(prefix) < 250:
        assert run.data.metrics == _finite(expected)
    else:   # every cut name keeps a hash of the whole name: as many metrics
        assert len(run.data.metrics) == len(_finite(expected))


# ---- the tracker failing in a nested run, on a real store -----------------------------------
class FailsOnSecondChild(MlflowTracker):
    def start_run(self, name, *, parent_run_id=None, tags=None):
        if parent_run_id is not None and getattr(self, "children", 0) == 1:
            raise OSError("planted: the store went away")
        self.children = getattr(self, "children", 0) + (parent_run_id is not None)
        return super().start_run(name, parent_run_id=parent_run_id, tags=tags)


def test_a_store_failing_inside_a_child_leaves_no_run_running(frame, tracker):
    X, y = frame
    failing = FailsOnSecondChild(tracker.experiment, tracking_uri=tracker.tracking_uri)
    with pytest.warns(TrackingWarning, match="planted: the store went away") as caught:
        report = compare_models({"lr": LogisticRegression()}, X, y, cv=2, tracker=failing)
    assert len([w for w in caught if issubclass(w.category, TrackingWarning)]) == 1
    assert len(report.results) == 2   # the report survives
    statuses = _statuses(tracker)
    assert sorted(statuses) == ["FAILED", "FINISHED"]   # the parent failed, the 1st child ended
    assert _parents(tracker)[0].info.status == "FAILED"


# ---- tracker=None costs nothing --------------------------------------------------------------
def test_without_a_tracker_nothing_of_tracking_is_imported():
    code = """
import sys
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
import mllife
X = pd.DataFrame({"x": np.arange(60.0) % 7, "z": np.arange(60.0) % 3})
y = (X["x"] > 3).astype(int)
mllife.compare_models({"lr": LogisticRegression()}, X, y, cv=2, note="ignored")
model = LogisticRegression().fit(X, y)
mllife.evaluate(model, X, y, measure=False)
mllife.compare_champion(model, model, X, y, metric="accuracy", n_boot=100)
mllife.drift_report(X, X)
print(sorted(m for m in sys.modules if m.startswith(("mllife.tracking", "mlflow"))))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("bad", [{"report": 123}, {"prefix": 5}, {"note": b"bytes"}],
                         ids=["report", "prefix", "note"])
def test_bad_input_fails_before_the_default_store_is_made(tmp_path, monkeypatch, bad):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    reference, current = _small_drift()
    given = {"report": drift_report(reference, current), **bad}
    with pytest.raises(InputError, match=next(iter(bad))):
        log_report(given.pop("report"), **given)
    assert list(tmp_path.iterdir()) == []   # no mlflow.db written where nobody asked
