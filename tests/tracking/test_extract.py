"""What each report type logs: ``mllife.tracking._extract.extract`` on real reports.

Every report is built by mllife's own analyses on small seeded data; each extracted
number is compared with the report's own attribute or table cell. Hostile column names,
an unknown Report subclass, a 5,000-column drift report (the cap) and reports read back
through ``Report.from_dict`` are covered too. No tracker is involved here.
"""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from mllife import InputError
from mllife.drift import DriftReport
from mllife.report import Finding, Report
from mllife.tracking._extract import (
    MAX_COLUMNS,
    MAX_ITEMS,
    MAX_LABEL,
    ChildRun,
    Extracted,
    _labels,
    extract,
)

from ._recording import FailsOnMarkedRow

SEED = 0


def same(a: float, b: float) -> bool:
    """Equal numbers, NaN equal to NaN."""
    return (math.isnan(a) and math.isnan(b)) or a == b


def assert_same_numbers(got: dict[str, float], want: dict[str, float]) -> None:
    assert set(got) == set(want), sorted(set(got) ^ set(want))
    bad = [k for k in want if not same(got[k], want[k])]
    assert not bad, {k: (got[k], want[k]) for k in bad}


# ---- models that fail, in every fold or in some ------------------------------------------
class AlwaysFails(LogisticRegression):
    def fit(self, X, y, sample_weight=None):
        raise ValueError("planted failure: this model never fits")


# ---- the reports, built once --------------------------------------------------------------
@pytest.fixture(scope="module")
def data():
    X, y = make_classification(400, n_features=5, n_informative=3, flip_y=0.1,
                               random_state=SEED)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    frame["group"] = np.where(frame["f1"] > 0, "high", "low")
    return frame, y


@pytest.fixture(scope="module")
def comparison(data):
    from mllife import compare_models

    frame, y = data
    X = frame.drop(columns="group").to_numpy()
    models = {"logistic": LogisticRegression(),
              "tree": DecisionTreeClassifier(max_depth=3, random_state=SEED),
              "broken": AlwaysFails(), "flaky": FailsOnMarkedRow(mark=X[0, 0])}
    return compare_models(models, X, y, cv=3, criteria={"roc_auc": 0.8})


@pytest.fixture(scope="module")
def evaluation(data):
    from mllife import evaluate

    frame, y = data
    X = frame.drop(columns="group")
    # an unpruned tree on noisy labels: perfect on train, not on test (overfitting planted);
    # 200 test rows: the numeric features' bins hold 40 rows, enough to judge slices
    model = DecisionTreeClassifier(random_state=SEED).fit(X[:200], y[:200])
    return evaluate(model, X[200:], y[200:], X_train=X[:200], y_train=y[:200],
                    criteria={"roc_auc": 0.9, "recall": 0.5},
                    sensitive_features=frame["group"][200:].to_numpy(), random_state=SEED)


@pytest.fixture(scope="module")
def champion(data):
    from mllife import compare_champion

    frame, y = data
    X = frame.drop(columns="group")
    old = LogisticRegression(C=0.001).fit(X[:200], y[:200])
    new = LogisticRegression().fit(X[:200], y[:200])
    return compare_champion(old, new, X[200:], y[200:], metric="roc_auc",
                            guard_metrics=["accuracy"], n_boot=200, random_state=SEED)


@pytest.fixture(scope="module")
def drift(data):
    from mllife import drift_report

    frame, _ = data
    current = frame[150:].assign(f0=frame["f0"][150:] + 1.0, f3=frame["f3"][150:] * 3)
    return drift_report(frame[:150], current, random_state=SEED)


@pytest.fixture(scope="module")
def monitor():
    from mllife.bundle import InputSchema, ModelBundle
    from mllife.drift import DriftProfile
    from mllife.monitor import Monitor

    rng = np.random.default_rng(SEED)
    n = 1_600
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = (X["a"] + rng.normal(size=n) > 0).astype(int)
    model = LogisticRegression().fit(X[:400], y[:400])
    bundle = ModelBundle(model, InputSchema.infer(X[:400], out_of_range="ignore"),
                         version="1.0", drift_profile=DriftProfile.fit(X[:400]))
    watch = Monitor(bundle, reference=X[:400].assign(y=y[:400]), time_col="t", label_col="y")
    start = pd.Timestamp("2024-03-01")
    for day in range(4):
        rows = slice(400 + 300 * day, 400 + 300 * (day + 1))
        batch = X[rows].assign(y=y[rows].to_numpy())
        if day == 3:   # planted drift in the last window
            batch = batch.assign(a=batch["a"] + 1.5)
        hours = pd.to_timedelta(np.linspace(0, 23, len(batch)), unit="h")
        watch.observe(batch.assign(t=(start + pd.Timedelta(days=day) + hours).to_numpy()))
    return watch.report()


@pytest.fixture(scope="module")
def audit_report(data):
    from mllife import audit

    frame, y = data
    messy = frame.assign(y=y, code=["N/A" if i % 10 == 0 else "x" for i in range(len(y))])
    return audit(messy, target="y")


@pytest.fixture(scope="module")
def leakage(data):
    from mllife import check_leakage

    frame, y = data
    table = frame.assign(y=y)
    return check_leakage(table[:200], table[150:300], target="y")   # 50 duplicated rows planted


@pytest.fixture(scope="module")
def preprocessor(data):
    from mllife.features import make_preprocessor

    frame, _ = data
    table = frame.assign(constant=1)
    return make_preprocessor(table).fit(table).plan_report(table)


@pytest.fixture(scope="module")
def transformer_check():
    from mllife.features import RatioFeatures
    from mllife.testing import check_transformer

    return check_transformer(RatioFeatures([("x0", "x1")]), sklearn_checks=False)


REPORTS = ["comparison", "evaluation", "champion", "drift", "monitor", "audit_report",
           "leakage", "preprocessor", "transformer_check"]


@pytest.fixture(params=REPORTS)
def any_report(request):
    return request.getfixturevalue(request.param)


# ---- every report ----------------------------------------------------------------------------
def test_every_builtin_report_type_is_covered():
    from mllife.report._base import _BUILTIN_REPORTS
    from mllife.tracking._extract import _EXTRACTORS

    assert set(_EXTRACTORS) == set(_BUILTIN_REPORTS)


def test_values_are_floats_and_text(any_report):
    out = extract(any_report)
    assert isinstance(out, Extracted)
    for metrics in [out.metrics, *(m for _, m in out.steps), *(c.metrics for c in out.children)]:
        assert all(isinstance(k, str) for k in metrics)
        assert all(type(v) is float for v in metrics.values()), metrics
    for mapping in [out.params, out.tags, *(c.params for c in out.children),
                    *(c.tags for c in out.children)]:
        assert all(isinstance(k, str) and type(v) is str for k, v in mapping.items())
    assert out.tags["mllife.report"] == type(any_report).__name__
    assert all(isinstance(step, int) for step, _ in out.steps)
    step_names = {name for _, m in out.steps for name in m}
    assert not step_names & set(out.metrics)   # a series never shares a name with a headline
    # params never clash with an analysis call's own parameters (those have no dot)
    assert all("." in k for k in out.params if k != "window_labels")


def test_summary_numbers_and_finding_counts(any_report):
    out = extract(any_report)
    summary = {k: v for k, v in any_report._summary().items()
               if isinstance(v, int | float | np.number) and v is not None}
    assert summary, "every built-in report has numbers in its summary"
    for key, value in summary.items():
        assert same(out.metrics[f"summary.{key}"], float(value))
    for severity, n in any_report.severity_counts().items():
        assert out.metrics[f"findings.{severity}"] == n
    assert sum(v for k, v in out.metrics.items() if k.startswith("findings.by_check.")) \
        == len(any_report.findings)


def test_the_report_is_not_changed(any_report):
    before = any_report.to_json()
    extract(any_report)
    assert any_report.to_json() == before


def test_a_report_read_back_extracts_the_same(any_report):
    out = extract(any_report)
    again = extract(Report.from_dict(any_report.to_dict()))
    assert_same_numbers(again.metrics, out.metrics)
    assert [s for s, _ in again.steps] == [s for s, _ in out.steps]
    for (_, got), (_, want) in zip(again.steps, out.steps, strict=True):
        assert_same_numbers(got, want)
    assert again.params == out.params
    assert again.tags == out.tags
    assert [c.name for c in again.children] == [c.name for c in out.children]
    for got, want in zip(again.children, out.children, strict=True):
        assert_same_numbers(got.metrics, want.metrics)
        assert (got.tags, got.failed) == (want.tags, want.failed)


def test_refuses_what_is_not_a_report():
    with pytest.raises(InputError, match="report is a dict"):
        extract({"summary": {"rows": 3}})


# ---- comparison ------------------------------------------------------------------------------
def test_comparison_one_child_per_model_with_its_numbers(comparison):
    out = extract(comparison)
    results = comparison.results
    assert [c.name for c in out.children] == list(results["model"])
    assert "baseline" in [c.name for c in out.children]
    for rank, (child, row) in enumerate(zip(out.children, results.to_dict("records"),
                                            strict=True), start=1):
        assert child.metrics["rank"] == rank
        for score in comparison.scoring:
            for what, column in (("mean", f"{score}_mean"), ("std", f"{score}_std"),
                                 ("lift", f"lift_{score}")):
                name = f"lift.{score}" if what == "lift" else f"{score}.{what}"
                if pd.isna(row[column]):
                    assert name not in child.metrics
                else:
                    assert child.metrics[name] == row[column]
        for column in ("fit_seconds", "latency_1row_ms", "latency_per_row_batch_ms",
                       "size_bytes"):
            if not pd.isna(row[column]):
                assert child.metrics[column] == row[column]
        assert child.metrics["folds_failed"] == row["n_folds_failed"]
        assert child.metrics["criteria.passed"] == comparison.passed[child.name]
        assert child.tags["mllife.role"] == ("baseline" if child.name == "baseline"
                                             else "candidate")


def test_comparison_failures_are_tagged_and_a_total_failure_fails_the_run(comparison):
    children = {c.name: c for c in extract(comparison).children}
    broken, flaky = children["broken"], children["flaky"]
    assert broken.failed
    assert "planted failure: this model never" in broken.tags["mllife.error"]
    assert broken.metrics["folds_failed"] == 3
    assert "roc_auc.mean" not in broken.metrics
    # a model that failed in some folds only: scored on the others, error kept, not FAILED
    assert comparison.results.set_index("model").loc["flaky", "n_folds_failed"] == 2
    assert not flaky.failed
    assert "marked row" in flaky.tags["mllife.error"]
    assert flaky.metrics["roc_auc.mean"] == comparison.results.set_index(
        "model").loc["flaky", "roc_auc_mean"]
    assert not children["logistic"].failed
    assert "mllife.error" not in children["logistic"].tags


def test_comparison_parent_run(comparison):
    out = extract(comparison)
    best, primary = comparison.best, comparison.primary
    table = comparison.results.set_index("model")
    assert out.tags["mllife.best_model"] == best
    assert out.tags["mllife.primary_score"] == primary == "roc_auc"
    assert out.metrics[f"best.{primary}.mean"] == table.loc[best, f"{primary}_mean"]
    assert out.metrics[f"best.{primary}.std"] == table.loc[best, f"{primary}_std"]
    assert out.metrics[f"baseline.{primary}.mean"] == table.loc["baseline", f"{primary}_mean"]
    assert out.metrics["n_models"] == 5 == len(table)
    assert out.metrics["n_failed"] == 1
    assert out.metrics["n_with_errors"] == 2
    assert out.metrics["n_folds"] == 3
    assert out.metrics["n_rows"] == comparison.n_rows
    assert out.metrics["criteria.n_passed"] == sum(comparison.passed.values())
    assert out.metrics["criteria.best_passed"] == comparison.passed[best]
    assert out.params["settings.primary_score"] == primary


def test_comparison_criteria_checklist_per_child(comparison):
    child = next(c for c in extract(comparison).children if c.name == "logistic")
    row = comparison.checklist[comparison.checklist["model"] == "logistic"].iloc[0]
    assert child.metrics["criteria.roc_auc.target"] == row["target"] == 0.8
    assert child.metrics["criteria.roc_auc.actual"] == row["actual"]
    assert child.metrics["criteria.roc_auc.passed"] == float(row["passed"])


# ---- evaluation ------------------------------------------------------------------------------
def test_evaluation_test_train_gap_baseline_lift(evaluation):
    m = extract(evaluation).metrics
    for prefix, values in (("test", evaluation.metrics), ("train", evaluation.train_metrics),
                           ("baseline", evaluation.baseline_metrics), ("lift", evaluation.lift),
                           ("fairness", evaluation.fairness_differences)):
        assert values, prefix
        for name, value in values.items():
            assert same(m[f"{prefix}.{name}"], float(value)), (prefix, name)
    gap = evaluation.train_test_gap.set_index("metric")["gap"]
    for name, value in gap.items():
        assert m[f"gap.{name}"] == value
    for name in ("latency_p50_ms", "latency_p95_ms", "batch_p50_ms", "batch_p95_ms",
                 "model_bytes"):
        assert m[name] == getattr(evaluation, name)
    assert m["n_test_rows"] == evaluation.n_rows


def test_evaluation_red_flags_criteria_and_slices(evaluation):
    out = extract(evaluation)
    m = out.metrics
    assert evaluation.overfitting is True   # planted: an unpruned tree on noisy labels
    assert m["red_flags.overfitting"] == 1.0
    assert m["red_flags.test_above_train"] == 0.0
    assert "overfitting" in out.tags["mllife.red_flags"].split(", ")
    flag = evaluation.red_flag_test
    assert m["red_flags.test_ci_high"] == flag["test_ci_high"]
    assert m["red_flags.train"] == flag["train"]
    assert m["criteria.passed"] == float(evaluation.passed)
    checklist = evaluation.checklist.set_index("item")
    assert m["criteria.recall.actual"] == checklist.loc["recall ≥ 0.5", "actual"]
    assert m["criteria.roc_auc.passed"] == float(checklist.loc["roc_auc ≥ 0.9", "passed"])
    assert m["slices.judged"] == evaluation.slices_judged > 0
    worst = evaluation.slices.iloc[0]
    assert m["slices.worst.value"] == worst["value"]
    assert m["slices.worst.gap"] == worst["gap"]
    assert m["slices.n_significant"] == int(evaluation.slices["significant"].sum())
    assert out.tags["mllife.worst_slice"] == f"{worst['feature']} = {worst['slice']}"


# ---- champion / challenger --------------------------------------------------------------------
def test_champion_numbers_decision_and_guards(champion):
    out = extract(champion)
    m = out.metrics
    for name in ("difference", "ci_low", "ci_high", "p_value", "n_events", "min_events"):
        assert same(m[name], float(getattr(champion, name)))
    assert m["champion.roc_auc"] == champion.champion_score
    assert m["challenger.roc_auc"] == champion.challenger_score
    assert m["promote"] == float(champion.decision == "promote")
    assert out.tags["mllife.decision"] == champion.decision
    guard = champion.guards.set_index("metric").loc["accuracy"]
    assert m["guard.accuracy.difference"] == guard["difference"]
    assert m["guard.accuracy.passed"] == float(guard["passed"])
    assert m["guards.passed"] == float(champion.guards["passed"].all())


# ---- drift -----------------------------------------------------------------------------------
def test_drift_share_and_per_column_numbers(drift):
    out = extract(drift)
    m = out.metrics
    assert m["drift_share"] == drift.drift_share
    assert m["n_drifted"] == drift.n_drifted
    assert m["drifted"] == float(drift.drifted)
    assert drift.n_drifted >= 2   # f0 and f3 were shifted
    for row in drift.table.to_dict("records"):
        for what in ("statistic", "p_value", "p_adjusted", "effect_size"):
            if row[what] is not None and not pd.isna(row[what]):
                assert m[f"column.{row['column']}.{what}"] == row[what]
        assert m[f"column.{row['column']}.drifted"] == float(row["drifted"])
    assert set(out.tags["mllife.drifted_columns"].split(", ")) == \
        {str(c) for c in drift.drifted_columns}
    assert out.params["settings.alpha"] == "0.05"


def test_drift_hostile_column_names_give_distinct_readable_keys():
    from mllife import drift_report

    rng = np.random.default_rng(SEED)
    names = [("a", "b"), 1, "1", "a.b", "a", "x" * 300, "x" * 299 + "y", "📈", "📉", None,
             "None", "", 2.5]
    reference = pd.DataFrame(rng.normal(size=(120, len(names))))
    reference.columns = pd.Index(names, dtype=object, tupleize_cols=False)
    report = drift_report(reference, reference + 0.2, random_state=SEED)
    out = extract(report)
    keys = [k for k in out.metrics if k.startswith("column.") and k.endswith(".drifted")]
    assert len(keys) == len(names)   # one per column, none overwritten
    labels = {k[len("column."):-len(".drifted")] for k in keys}
    assert {"a.b", "a", "('a', 'b')", "📈", "📉", "2.5"} <= labels   # readable, as written
    assert {"1", "'1'", "None", "'None'", "''"} <= labels            # str(1) == "1": repr told apart
    assert all(len(label) <= MAX_LABEL for label in labels)
    again = extract(Report.from_dict(report.to_dict()))   # tuples come back as lists
    assert {k for k in again.metrics if k.startswith("column.")} == \
        {k for k in out.metrics if k.startswith("column.")}


def test_labels_are_distinct_and_bounded():
    values = [("a", "b"), ["a", "b"], 1, "1", 1.0, "x" * 300, "x" * 299 + "y", "", None,
              "None", "📈", "a.b"]
    labels = _labels(values)
    assert len(set(labels)) == len(values)
    assert all(len(label) <= MAX_LABEL for label in labels)
    assert labels[-1] == "a.b"
    assert labels[-2] == "📈"
    long = labels[5:7]
    assert long[0][:90] == long[1][:90] == "x" * 90
    assert long[0] != long[1]
    assert _labels(["x" * 300]) == _labels(["x" * 300])   # stable


def test_drift_over_5000_columns_is_capped_most_drifted_first():
    n = 5_000
    drifted = np.zeros(n, dtype=bool)
    drifted[[17, 4_321, 4_999]] = True
    effect = np.linspace(0.0, 1.0, n)
    table = pd.DataFrame({"column": [f"c{i}" for i in range(n)], "kind": "numeric",
                          "method": "ks", "statistic": effect, "p_value": 1 - effect,
                          "p_adjusted": 1 - effect, "effect_size": effect, "drifted": drifted,
                          "threshold": np.nan, "reason": "", "missing_p_adjusted": np.nan,
                          "inf_p_adjusted": np.nan, "unseen_p_adjusted": np.nan,
                          "status": "ok"})
    report = DriftReport(table=table, drift_share=3 / n, n_drifted=3, n_columns=n)
    out = extract(report)
    per_column = [k for k in out.metrics if k.startswith("column.")]
    assert len(per_column) <= 5 * MAX_COLUMNS
    assert len(out.metrics) <= 5 * MAX_COLUMNS + 50
    kept = {k.split(".")[1] for k in per_column}
    assert len(kept) == MAX_COLUMNS == out.metrics["n_columns_logged"]
    assert {"c17", "c4321", "c4999"} <= kept             # the drifted ones first
    assert "c4998" in kept
    assert "c0" not in kept
    assert kept == set(report._ranked()["column"].head(MAX_COLUMNS))   # the report's own order
    assert f"{MAX_COLUMNS} of {n}" in out.tags["mllife.cut.columns"]


# ---- monitor ---------------------------------------------------------------------------------
def test_monitor_one_step_per_window_with_its_numbers(monitor):
    out = extract(monitor)
    windows = monitor.windows
    assert [s for s, _ in out.steps] == list(windows["index"]) == [0, 1, 2, 3]
    for (step, metrics), row in zip(out.steps, windows.to_dict("records"), strict=True):
        for column in ("n_rows", "drift_share", "prediction_drift_p", "estimated_roc_auc",
                       "estimated_roc_auc_low", "estimated_roc_auc_high", "realized_roc_auc",
                       "schema_violation_rate", "n_alarms"):
            assert metrics[column] == row[column], (step, column)
        assert "latency_p50_ms" not in metrics   # NaN (not measured): no point
        alarms = monitor.alarms
        for signal in ("data_drift", "prediction_drift", "estimated_performance"):
            want = int(((alarms["index"] == step) & (alarms["signal"] == signal)).sum())
            assert metrics[f"alarms.{signal}"] == want
    last = out.steps[-1][1]
    assert last["drift_share"] > 0
    assert last["alarms.data_drift"] == 1
    assert out.params["window_labels"] == \
        "0=2024-03-01, 1=2024-03-02, 2=2024-03-03, 3=2024-03-04"
    assert out.metrics["n_windows"] == 4
    assert out.metrics["total_alarms"] == len(monitor.alarms)
    assert out.tags["mllife.alarmed_windows"] == ", ".join(monitor.alarmed_windows)
    assert out.metrics["counts.batches"] == monitor.settings["counts"]["batches"] == 4
    assert out.params["settings.alpha"] == "0.05"


# ---- audit, leakage, preprocessor, transformer check ------------------------------------------
def test_audit_counts(audit_report):
    m = extract(audit_report).metrics
    assert m["n_rows"] == audit_report.n_rows
    assert m["n_columns"] == audit_report.n_columns
    assert m["checks_run"] == len(audit_report.checks)
    planted = audit_report.findings_by(check="disguised_nulls")
    assert planted
    assert m["findings.by_check.disguised_nulls"] == len(planted)
    assert m["passed"] == float(not any(f.severity in ("warning", "error")
                                        for f in audit_report.findings))


def test_leakage_counts_and_failure(leakage):
    out = extract(leakage)
    m = out.metrics
    assert m["passed"] == 0.0
    assert not leakage.passed
    assert m["rows.train"] == 200
    assert m["rows.test"] == 150
    checks = leakage.checks.set_index(["check", "between"])
    row = checks.loc[("exact_duplicates", "train/test")]
    assert m["check.exact_duplicates.train/test.n_rows"] == row["n_rows"] == 50
    assert m["check.exact_duplicates.train/test.flagged"] == 1.0
    assert m["feature_score.max"] == leakage.feature_scores["score"].max()


def test_preprocessor_counts(preprocessor):
    m = extract(preprocessor).metrics
    plan = preprocessor.plan
    assert m["input_columns"] == len(plan)
    assert m["dropped"] >= 1   # the constant column
    assert m["kept"] + m["dropped"] == len(plan)
    assert m["output_features"] == len(preprocessor.features)
    for kind, n in plan["kind"].value_counts().items():
        assert m[f"kind.{kind}"] == n


def test_transformer_check_counts(transformer_check):
    out = extract(transformer_check)
    counts = transformer_check.rules["status"].value_counts()
    assert out.metrics["rules"] == len(transformer_check.rules)
    assert out.metrics["rules.passed"] == counts.get("passed", 0)
    assert out.metrics["passed"] == float(transformer_check.passed)
    assert out.tags["mllife.failed_rules"] == "none"


# ---- other reports ---------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class CustomReport(Report):
    """A user's own report type: only its summary is known."""


def test_an_unknown_report_falls_back_to_its_numeric_summary():
    report = CustomReport(summary={"n": np.int64(3), "share": np.float32(0.5), "ok": True,
                                   "label": "text", "nested": {"a": 1.5, "b": [1, 2]},
                                   "missing": None, "nan": float("nan")},
                          findings=[Finding("odd", "warning", message="odd")])
    out = extract(report)
    assert_same_numbers(out.metrics, {
        "summary.n": 3.0, "summary.share": 0.5, "summary.ok": 1.0, "summary.nested.a": 1.5,
        "summary.nested.b.0": 1.0, "summary.nested.b.1": 2.0, "summary.nan": float("nan"),
        "findings.error": 0.0, "findings.warning": 1.0, "findings.info": 0.0,
        "findings.by_check.odd": 1.0})
    assert out.tags["mllife.report"] == "CustomReport"
    assert out == Extracted(metrics=out.metrics, steps=[], params={}, tags=out.tags,
                            children=[])


def test_a_subclass_of_a_builtin_report_keeps_its_extraction(drift):
    @dataclass(frozen=True, kw_only=True, eq=False, repr=False)
    class MyDrift(DriftReport):
        pass

    mine = MyDrift(table=drift.table, drift_share=drift.drift_share, n_drifted=drift.n_drifted,
                   n_columns=drift.n_columns, drifted=drift.drifted)
    assert extract(mine).metrics["drift_share"] == drift.drift_share


def test_a_class_named_like_a_builtin_elsewhere_is_not_taken_for_it():
    DriftReport_ = type("DriftReport", (Report,), {"__module__": "someone.else"})
    report = DriftReport_(summary={"rows": 2})
    out = extract(report)
    assert "drift_share" not in out.metrics
    assert out.metrics["summary.rows"] == 2.0


def test_a_huge_summary_is_capped():
    report = CustomReport(summary={f"k{i}": i for i in range(3 * MAX_ITEMS)})
    out = extract(report)
    assert sum(k.startswith("summary.") for k in out.metrics) == MAX_ITEMS
    assert "mllife.cut.summary" in out.tags


def test_child_run_defaults():
    child = ChildRun("m", {}, {"a.mean": 1.0}, {})
    assert child.failed is False


def test_extract_does_not_import_mlflow():
    code = ("import sys, pandas as pd\n"
            "from mllife.report import Report\n"
            "from mllife.tracking._extract import extract\n"
            "extract(Report(summary={'a': 1}))\n"
            "assert 'mlflow' not in sys.modules, 'mlflow imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
