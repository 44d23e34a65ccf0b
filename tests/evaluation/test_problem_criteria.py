"""SuccessCriteria and ProblemSpec (phase 1)."""

from __future__ import annotations

import copy
import json
import pickle
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mllife
from mllife import InputError, SchemaError
from mllife.problem import METRICS, ProblemSpec, SuccessCriteria, normalize_metric_name


def test_public_names_resolve_from_the_top_level():
    assert mllife.SuccessCriteria is SuccessCriteria
    assert mllife.ProblemSpec is ProblemSpec


@pytest.mark.parametrize(("raw", "name"), [
    ("ROC-AUC", "roc_auc"), ("roc auc", "roc_auc"), ("AUC", "roc_auc"), ("  Recall ", "recall"),
    ("R²", "r2"), ("average precision", "pr_auc"), ("log-loss", "log_loss"),
    ("Balanced Accuracy", "balanced_accuracy"), ("F1", "f1"), ("brier_score", "brier"),
])
def test_metric_names_are_normalised(raw, name):
    assert normalize_metric_name(raw) == name


def test_thresholds_are_canonical_and_immutable():
    c = SuccessCriteria({"ROC-AUC": 0.8, "Recall": 0.7})
    assert dict(c.thresholds) == {"roc_auc": 0.8, "recall": 0.7}
    with pytest.raises(TypeError):
        c.thresholds["recall"] = 0.1  # type: ignore[index]
    with pytest.raises(AttributeError):
        c.max_latency_ms = 3  # type: ignore[misc]


def test_input_dict_is_not_mutated():
    raw = {"ROC-AUC": 0.8}
    SuccessCriteria(raw)
    assert raw == {"ROC-AUC": 0.8}


def test_unknown_metric_lists_the_known_ones():
    with pytest.raises(InputError, match="unknown metric 'recal'") as info:
        SuccessCriteria({"recal": 0.8})
    for name in ("recall", "roc_auc", "rmse"):
        assert name in str(info.value)


@pytest.mark.parametrize(("thresholds", "kwargs", "match"), [
    ({"recall": 1.5}, {}, "between 0 and 1"),
    ({"rmse": -1}, {}, "at least 0"),
    ({"r2": 2.0}, {}, "at most 1"),
    ({"recall": float("nan")}, {}, "finite number"),
    ({"recall": "high"}, {}, "finite number"),
    ({"recall": True}, {}, "finite number"),
    ({"ROC-AUC": 0.8, "roc_auc": 0.7}, {}, "given twice"),
    ({}, {"max_latency_ms": 0}, "positive"),
    ({}, {"max_model_bytes": 1.5}, "positive integer"),
    ({}, {"min_lift_over_baseline": float("inf")}, "finite"),
])
def test_bad_criteria_raise_input_error(thresholds, kwargs, match):
    with pytest.raises(InputError, match=match):
        SuccessCriteria(thresholds, **kwargs)


def test_thresholds_must_be_a_mapping():
    with pytest.raises(InputError, match="dict of metric name"):
        SuccessCriteria([("recall", 0.8)])  # type: ignore[arg-type]


def test_direction_of_every_metric():
    lower_is_better = {"mae", "rmse", "mse", "log_loss", "brier", "ece", "mape"}
    for name, direction in METRICS.items():
        assert direction == ("max" if name in lower_is_better else "min"), name
    assert SuccessCriteria.direction("ROC AUC") == "min"


def _report(**kw):
    base = {"metrics": {}, "latency_p95_ms": None, "model_bytes": None, "lift": {}}
    base.update(kw)
    return base


def test_check_one_finding_per_criterion_with_severity_and_message():
    c = SuccessCriteria({"recall": 0.80, "rmse": 10.0}, max_latency_ms=50,
                        max_model_bytes=1_000_000, min_lift_over_baseline=0.02)
    report = _report(metrics={"recall": 0.74, "RMSE": 9.0}, latency_p95_ms=70.0,
                     model_bytes=500_000, lift={"recall": 0.05, "rmse": 0.01})
    findings = c.check(report)
    assert len(findings) == len(c) + 1  # the lift criterion applies to both threshold metrics
    by = {f.details["criterion"]: f for f in findings}
    assert {f.check for f in findings} == {"success_criteria"}
    assert by["recall"].severity == "error"
    assert by["recall"].message == "recall 0.74 < 0.8 required"
    assert by["recall"].threshold == 0.8
    assert by["rmse"].severity == "info"
    assert by["rmse"].message == "rmse 9 ≤ 10 required"
    assert by["latency_p95_ms"].severity == "error"
    assert "70 ms > 50 ms" in by["latency_p95_ms"].message
    assert by["model_bytes"].severity == "info"
    assert by["lift:recall"].severity == "info"
    assert by["lift:rmse"].severity == "error"
    assert not c.passed(report)


def test_missing_or_undefined_values_fail():
    # A metric the report computes but could not define (NaN, None) fails, and so does a
    # missing latency; a metric the report lacks altogether raises (next test).
    c = SuccessCriteria({"recall": 0.5, "precision": 0.5}, max_latency_ms=10)
    findings = c.check(_report(metrics={"recall": float("nan"), "precision": None}))
    assert [f.severity for f in findings] == ["error", "error", "error"]
    assert all("missing or undefined" in f.message for f in findings)
    table = c.checklist({"metrics": {"recall": float("nan"), "precision": float("nan")}})
    assert table["actual"].isna().all()
    assert not table["passed"].any()


def test_undefined_metric_carries_the_reports_reason():
    c = SuccessCriteria({"roc_auc": 0.7})
    f, = c.check({"metrics": {"roc_auc": float("nan")},
                  "undefined": {"ROC-AUC": "y_true holds one class only"}})
    assert f.severity == "error"
    assert "y_true holds one class only" in f.message
    assert f.details["reason"] == "y_true holds one class only"


def test_a_metric_the_report_lacks_raises_naming_it_and_listing_the_report():
    c = SuccessCriteria({"recall": 0.5, "rmse": 3.0})
    for method in (c.check, c.checklist, c.passed):
        with pytest.raises(InputError, match=r"names 'rmse', which the report does not "
                                             r"compute.*accuracy, recall"):
            method(_report(metrics={"accuracy": 0.9, "recall": 0.7}))
    with pytest.raises(InputError, match="report's metrics: none"):
        c.checklist({})
    obj = SimpleNamespace(metrics={"accuracy": 0.9})
    with pytest.raises(InputError, match="which the SimpleNamespace does not compute"):
        c.check(obj)


def test_reads_attributes_of_a_report_object():
    c = SuccessCriteria({"f1": 0.5}, max_model_bytes=10)
    report = SimpleNamespace(metrics={"f1": 0.6}, latency_p95_ms=None, model_bytes=8, lift={})
    assert c.passed(report)
    assert c.checklist(report)["passed"].tolist() == [True, True]


def test_lift_applies_to_all_lifts_without_thresholds():
    c = SuccessCriteria({}, min_lift_over_baseline=0.0)
    table = c.checklist(_report(lift={"roc_auc": 0.1, "log_loss": -0.02}))
    assert table["item"].tolist() == ["lift over baseline in roc_auc ≥ 0",
                                      "lift over baseline in log_loss ≥ 0"]
    assert table["passed"].tolist() == [True, False]
    missing = c.check(_report(lift=None))
    assert len(missing) == 1
    assert missing[0].severity == "error"


def test_lift_falls_back_to_all_lifts_when_no_threshold_metric_has_one():
    c = SuccessCriteria({"recall": 0.1}, min_lift_over_baseline=0.01)
    table = c.checklist(_report(metrics={"recall": 0.5}, lift={"roc_auc": 0.2}))
    assert table["item"].tolist()[-1] == "lift over baseline in roc_auc ≥ 0.01"


def test_checklist_columns_and_types():
    c = SuccessCriteria({"accuracy": 0.9})
    table = c.checklist(_report(metrics={"accuracy": 0.95}))
    assert list(table.columns) == ["item", "target", "actual", "passed"]
    assert table.loc[0, "item"] == "accuracy ≥ 0.9"
    assert table["passed"].dtype == bool


def test_no_criteria_pass():
    c = SuccessCriteria({})
    assert c.passed({}) is True
    assert c.check({}) == []
    assert len(c.checklist({})) == 0


def test_round_trips():
    c = SuccessCriteria({"recall": 0.8}, max_latency_ms=5, max_model_bytes=2_000,
                        min_lift_over_baseline=0.01)
    data = json.loads(json.dumps(c.to_dict()))
    assert SuccessCriteria.from_dict(data) == c
    assert pickle.loads(pickle.dumps(c)) == c
    assert copy.deepcopy(c) == c
    assert hash(SuccessCriteria.from_dict(data)) == hash(c)
    with pytest.raises(InputError, match="unknown criteria key"):
        SuccessCriteria.from_dict({"thresholds": {}, "max_latency": 3})


@given(st.dictionaries(st.sampled_from(sorted(METRICS)),
                       st.floats(0, 1, allow_nan=False), max_size=6),
       st.dictionaries(st.sampled_from(sorted(METRICS)),
                       st.floats(-5, 5, allow_nan=False), max_size=6))
def test_passed_agrees_with_findings_and_checklist(thresholds, metrics):
    c = SuccessCriteria(thresholds)
    # Every threshold metric is in the report (undefined when not drawn): a metric the
    # report lacks raises instead (test_a_metric_the_report_lacks_raises_...).
    report = {"metrics": {**dict.fromkeys(thresholds, float("nan")), **metrics}}
    findings = c.check(report)
    table = c.checklist(report)
    assert len(findings) == len(table) == len(thresholds)
    assert c.passed(report) == all(f.severity == "info" for f in findings)
    assert table["passed"].tolist() == [f.severity == "info" for f in findings]
    assert SuccessCriteria.from_dict(c.to_dict()) == c


# ---- ProblemSpec ---------------------------------------------------------------------


def test_spec_validation_errors():
    with pytest.raises(InputError, match="task 'clustering' is not known"):
        ProblemSpec("y", "clustering")
    with pytest.raises(InputError, match="forecast needs a time column"):
        ProblemSpec("y", "forecast")
    with pytest.raises(InputError, match="time_col is the target"):
        ProblemSpec("y", "regression", time_col="y")
    with pytest.raises(InputError, match="sensitive feature"):
        ProblemSpec("y", "binary", sensitive_features=["y"])
    with pytest.raises(InputError, match="positive_label"):
        ProblemSpec("y", "regression", positive_label=1)
    with pytest.raises(InputError, match="rmse do not apply to a binary task"):
        ProblemSpec("y", "binary", criteria={"rmse": 3})
    with pytest.raises(InputError, match="recall do not apply to a regression task"):
        ProblemSpec("y", "regression", criteria=SuccessCriteria({"recall": 0.5}))
    with pytest.raises(InputError, match="names a column twice"):
        ProblemSpec("y", "binary", sensitive_features=["a", "a"])


def test_spec_normalises_inputs():
    spec = ProblemSpec("y", " Binary ", sensitive_features="gender", criteria={"AUC": 0.7})
    assert spec.task == "binary"
    assert spec.sensitive_features == ("gender",)
    assert spec.criteria == SuccessCriteria({"roc_auc": 0.7})
    via_dict = ProblemSpec("y", "binary", criteria={"thresholds": {"recall": 0.5},
                                                     "max_latency_ms": 3})
    assert via_dict.criteria is not None
    assert via_dict.criteria.max_latency_ms == 3.0


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression", "forecast"])
def test_markdown_one_pager(task):
    spec = ProblemSpec("target", task, time_col="when", group_col="customer",
                       sensitive_features=("gender", "age_band"),
                       criteria=({"mae": 3.0} if task in ("regression", "forecast")
                                 else {"balanced_accuracy": 0.7}),
                       positive_label=1 if task == "binary" else None)
    text = spec.to_markdown()
    assert text.startswith("# Problem statement: predict `target`")
    for section in ("## How to split", "## Sensitive features", "## Success criteria",
                    "## Metrics to report"):
        assert section in text
    assert "**By time** on `when`" in text
    assert "**By group** on `customer`" in text
    assert "`gender`, `age_band`" in text
    assert "- [ ] " in text
    for metric in spec.default_metrics:
        assert f"`{metric}`" in text


def test_markdown_without_time_group_or_criteria():
    text = ProblemSpec("churned", "binary").to_markdown()
    assert "**Random**, stratified on the target" in text
    assert "None declared" in text
    assert "None written down yet" in text
    assert "not stated" in text


def test_spec_round_trips():
    spec = ProblemSpec("churned", "binary", time_col="t", group_col="g",
                       sensitive_features=("s",), positive_label="yes",
                       criteria=SuccessCriteria({"recall": 0.8}, max_latency_ms=20))
    data = json.loads(json.dumps(spec.to_dict()))
    assert ProblemSpec.from_dict(data) == spec
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert hash(ProblemSpec.from_dict(data)) == hash(spec)
    with pytest.raises(InputError, match="lacks"):
        ProblemSpec.from_dict({"target": "y"})


def test_validate_accepts_a_fitting_frame(churn_clean):
    spec = ProblemSpec("churned", "binary", time_col="last_event_at", group_col="customer_id")
    frame = churn_clean.frame
    before = frame.copy()
    spec.validate(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_validate_lists_every_problem():
    df = pd.DataFrame({"y": [1.0, 1.0, np.nan], "t": ["a", "b", "c"]})
    spec = ProblemSpec("y", "binary", time_col="t", group_col="customer", positive_label=0)
    with pytest.raises(SchemaError) as info:
        spec.validate(df)
    problems = {(p["column"], p["problem"].split(";")[0]) for p in info.value.problems}
    assert ("customer", "missing column") in problems
    assert ("y", "target has missing values") in problems
    assert ("y", "binary target has 1 class") in problems
    assert ("y", "positive_label 0 never occurs in the target") in problems
    assert ("t", "time column has dtype " + str(df["t"].dtype)) in problems


def test_validate_regression_target_must_be_numeric():
    spec = ProblemSpec("y", "regression")
    with pytest.raises(SchemaError, match="expected numbers"):
        spec.validate(pd.DataFrame({"y": ["a", "b"]}))
    with pytest.raises(InputError, match="DataFrame"):
        spec.validate([1, 2])  # type: ignore[arg-type]
