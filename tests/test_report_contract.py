"""Every report producer keeps the report contract: findings everywhere, values that copy.

One parametrised test per promise, over every function that returns a
report, each given an input with planted problems: ``report.findings`` holds
the findings that ``findings_by()``, ``to_dict()``, the JSON, Markdown and
HTML show (the same number everywhere); every output format works; ``save``
writes .html, .json and .md; a pickle round trip and ``copy.deepcopy`` give
an equal report; ``from_dict`` (and ``load`` of the saved .json) rebuilds it,
dtypes included; the frames passed in and read out are copies, the mappings
read-only.

``mllife.profile`` and ``describe_features`` return DataFrames, not reports:
``audit`` and the preprocessor's ``plan_report()`` stand for them.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pytest

import mllife
from mllife.report import Report

from .test_report import check_html


@pytest.fixture(scope="module")
def churn() -> pd.DataFrame:
    return mllife.make_churn(1_500, random_state=0).frame   # planted defects


def _audit(df):
    return mllife.audit(df, target="churned")


def _check_leakage(df):
    parts = mllife.split(df, target="churned", random_state=0)
    test = pd.concat([parts.test, parts.train.head(20)])     # 20 training rows copied into test
    return mllife.check_leakage(parts.train, test, target="churned")


def _split(df):
    return mllife.split(df, target="churned", random_state=0).report  # a target proxy


def _plan_report(df):
    X = df.drop(columns="churned")
    return mllife.make_preprocessor(X).fit(X).plan_report(X)


def _features(df):
    X = df[["tenure_months", "monthly_charges", "support_tickets", "usage_gb"]].fillna(0.0)
    return X, df["churned"]


def _compare_models(df):
    from sklearn.dummy import DummyClassifier
    from sklearn.tree import DecisionTreeClassifier

    X, y = _features(df)
    return mllife.compare_models({"tree": DecisionTreeClassifier(max_depth=3, random_state=0),
                                 "constant": DummyClassifier(strategy="most_frequent")},
                                X, y, cv=3)                # the constant model has no lift


def _fitted(df):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _features(df)
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X[:1000], y[:1000]), X, y


def _evaluate(df):
    model, X, y = _fitted(df)
    return mllife.evaluate(model, X[1000:], y[1000:], X_train=X[:1000], y_train=y[:1000],
                           criteria={"recall": 0.99})   # an unmet criterion


def _compare_champion(df):
    from sklearn.dummy import DummyClassifier

    model, X, y = _fitted(df)
    old = DummyClassifier(strategy="prior").fit(X[:1000], y[:1000])
    return mllife.compare_champion(old, model, X[1000:], y[1000:], metric="roc_auc",
                                   guard_metrics=["accuracy"], tolerance=0.0, n_boot=200,
                                   random_state=0)


def _drifted(df):
    df = df[["monthly_charges", "tenure_months", "plan"]]   # three columns: three plots to draw
    reference = df.iloc[:700]
    current = df.iloc[700:].assign(monthly_charges=lambda d: d["monthly_charges"] * 1.5)
    return reference, current


def _drift_report(df):
    return mllife.drift_report(*_drifted(df))


def _drift_profile_compare(df):
    from mllife.drift import DriftProfile

    reference, current = _drifted(df)
    return DriftProfile.fit(reference).compare(current)


def _monitor_report(df):
    # Windows, signals and alarms shaped as Monitor.report() builds them; a drift and a
    # freshness alarm planted.
    from .monitor.test_report import make_report

    return make_report(8)


PRODUCERS = {
    "audit": _audit,
    "check_leakage": _check_leakage,
    "split.report": _split,
    "plan_report": _plan_report,
    "compare_models": _compare_models,
    "evaluate": _evaluate,
    "compare_champion": _compare_champion,
    "drift_report": _drift_report,
    "DriftProfile.compare": _drift_profile_compare,
    "MonitorReport": _monitor_report,
}
#: Reports with no finding to plant: the preprocessing plan reports none (yet).
NO_FINDINGS = {"plan_report"}


@pytest.fixture(scope="module", params=list(PRODUCERS))
def produced(request, churn):
    return request.param, PRODUCERS[request.param](churn)


def _markdown_findings(text: str) -> int:
    section = text.split("## Findings", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return max(0, len(rows) - 2)   # header and separator


def test_findings_attribute_holds_every_finding(produced):
    name, report = produced
    assert isinstance(report, Report)
    findings = report.findings
    assert isinstance(findings, tuple)
    if name not in NO_FINDINGS:
        assert findings, f"{name}: no finding on an input with planted problems"
    n = len(findings)
    assert report.findings_by() == list(findings)
    assert sum(report.severity_counts().values()) == n
    data = report.to_dict()
    assert len(data["findings"]) == n
    assert [f["check"] for f in data["findings"]] == [f.check for f in findings]
    assert len(json.loads(report.to_json())["findings"]) == n
    assert _markdown_findings(report.to_markdown()) == n
    assert report.to_html().count('<span class="sev sev-') == n
    assert f": {n} finding" in repr(report) or not repr(report).startswith("<Report")


def test_every_output_format_works(produced, tmp_path):
    name, report = produced
    data = json.loads(report.to_json())
    assert data == json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["report"] == type(report).__name__
    assert isinstance(report.to_frame(), pd.DataFrame)
    assert report.to_markdown().startswith("# ")
    html = report.to_html()
    check_html(html)                                   # balanced, no script, no http(s) src/href
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html)
    assert report._repr_html_()
    for suffix in (".html", ".json", ".md"):
        path = report.save(tmp_path / f"{name}{suffix}")
        assert path.stat().st_size > 0
    assert json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8")) == data


def test_reports_are_values_pickle_and_deepcopy(produced):
    _name, report = produced
    expected = report.to_dict()
    for twin in (pickle.loads(pickle.dumps(report)), copy.deepcopy(report)):
        assert type(twin) is type(report)
        assert twin == report
        assert twin.findings == report.findings
        assert len(twin.findings_by()) == len(report.findings)
        assert twin.to_dict() == expected
        assert twin.to_markdown() == report.to_markdown()
        with pytest.raises(AttributeError):
            twin.title = "changed"                     # still frozen
        for key, value in vars(report).items():
            if isinstance(value, np.ndarray) and not value.flags.writeable:
                assert not getattr(twin, key).flags.writeable   # read-only stays read-only


def test_replace_keeps_derived_findings_once(produced):
    import dataclasses

    _name, report = produced
    again = dataclasses.replace(report, findings=report.findings)
    assert again.findings == report.findings


def _data_fields(report):
    return [f.name for f in dataclasses.fields(report) if f.name not in ("findings", "plots")]


def test_from_dict_rebuilds_the_report(produced, tmp_path):
    name, report = produced
    expected = report.to_dict()
    for again in (type(report).from_dict(json.loads(report.to_json())),
                  Report.from_dict(expected),
                  Report.load(report.save(tmp_path / f"{name}.json"))):
        assert type(again) is type(report)
        assert again.to_dict() == expected
        assert again == report
        assert [f.to_dict() for f in again.findings] == expected["findings"]
        for field in _data_fields(report):
            value, back = getattr(report, field), getattr(again, field)
            if isinstance(value, pd.DataFrame):
                pd.testing.assert_frame_equal(back, value)   # dtypes and index too
            elif isinstance(value, np.ndarray):
                np.testing.assert_array_equal(back, value)
                assert back.dtype == value.dtype
    html = again.to_html()                              # plots are drawn again from the data
    check_html(html)
    assert html.count("<img") == len(report._plots())


def test_frames_in_and_out_are_copies_and_mappings_read_only(produced):
    _name, report = produced
    expected = report.to_dict()
    frames = [f for f in _data_fields(report) if isinstance(getattr(report, f), pd.DataFrame)]
    mappings = [f for f in _data_fields(report) if isinstance(getattr(report, f), Mapping)]
    assert frames
    for field in frames:
        read = getattr(report, field)
        if read.shape[0] and read.shape[1]:
            read.iloc[0, 0] = None
        read["__added__"] = 1
        passed = getattr(report, field)
        rebuilt = dataclasses.replace(report, **{field: passed})
        passed["__added__"] = 1
        assert rebuilt.to_dict() == expected
    for field in mappings:
        with pytest.raises(TypeError):
            getattr(report, field)["__added__"] = 1
    for table in report.tables.values():
        table["__added__"] = 1
    frame = report.to_frame()
    frame["__added__"] = 1
    assert report.to_dict() == expected
