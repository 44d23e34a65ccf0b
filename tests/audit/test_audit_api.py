"""The audit API: callable package, check selection, user checks, reports, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mllife
from mllife import InputError
from mllife.audit import AuditReport, Finding, profile, register_check, registered_checks
from mllife.audit._registry import REGISTRY


@pytest.fixture
def messy(churn):
    return churn.frame


def test_package_is_callable_and_exports():
    assert callable(mllife.audit)
    assert mllife.audit.register_check is register_check
    assert mllife.profile is profile
    assert mllife.AuditReport is AuditReport
    assert set(mllife.audit.__all__) >= {"audit", "profile", "AuditReport", "register_check"}


def test_input_is_never_mutated(messy):
    before = messy.copy(deep=True)
    mllife.audit(messy, target="churned", time_col="last_event_at", id_cols=["customer_id"])
    profile(messy)
    pd.testing.assert_frame_equal(messy, before)


def test_checks_selects_and_parametrises(messy):
    only = mllife.audit(messy, checks=["duplicate_rows"])
    assert {f.check for f in only.findings} == {"duplicate_rows"}
    assert only.checks == ("duplicate_rows",)
    strict = mllife.audit(messy, checks={"mostly_missing": {"threshold": 0.9}})
    assert strict.findings == ()
    loose = mllife.audit(messy, checks={"mostly_missing": {"threshold": 0.5}})
    assert [f.column for f in loose.findings] == ["promo_code"]
    assert loose.findings[0].threshold == 0.5
    with pytest.raises(InputError, match="unknown check"):
        mllife.audit(messy, checks=["no_such_check"])


def test_finding_fields_and_report_outputs(messy):
    report = mllife.audit(messy, target="churned", id_cols=["customer_id"])
    ranks = [f.rank for f in report.findings]
    assert ranks == sorted(ranks, reverse=True)
    for f in report.findings:
        assert f.severity in ("info", "warning", "error")
        assert f.message
        assert f.suggestion
        if f.n_rows is not None and f.share is not None:
            assert f.share == pytest.approx(f.n_rows / len(messy))
        assert set(f.sample_index) <= set(messy.index)
    table = report.to_frame()
    assert len(table) == len(report.findings)
    assert {"severity", "check", "column", "n_rows", "share", "threshold", "sample_index"} <= set(table.columns)
    assert json.loads(report.to_json()) == report.to_dict()
    html = report.to_html()
    assert "<img" in html
    assert "Missing share per column" in html
    assert len(html) < 1_000_000
    assert "profile" in report.tables
    assert "## Findings" in report.to_markdown()


def test_profile_agrees_with_pandas(churn_clean):
    df = churn_clean.frame
    p = profile(df).set_index("column")
    pd.testing.assert_series_equal(p["n_missing"], df.isna().sum(), check_names=False)
    pd.testing.assert_series_equal(p["n_unique"], df.nunique(), check_names=False)
    num = df.select_dtypes("number")
    np.testing.assert_allclose(p.loc[num.columns, "mean"].astype(float), num.mean())
    np.testing.assert_allclose(p.loc[num.columns, "std"].astype(float), num.std())
    np.testing.assert_allclose(p.loc[num.columns, "median"].astype(float), num.median())
    assert p.loc["customer_id", "kind"] == "identifier"
    assert p.loc["plan", "kind"] == "categorical"


def test_register_check_contract():
    def too_many(data):
        yield Finding("too_many", "warning", column="a", message="x", n_rows=data.n_rows + 1)

    def wrong_name(data):
        return [Finding("other", "info")]

    def not_a_finding(data):
        return ["oops"]

    def boom(data):
        raise RuntimeError("kaput")

    df = pd.DataFrame({"a": [1, 2, 3]})
    for fn, text in [(too_many, "n_rows=4"), (wrong_name, "named 'other'"),
                     (not_a_finding, "not a Finding"), (boom, "kaput")]:
        with pytest.raises(InputError, match=text):
            mllife.audit(df, checks=[fn])
    with registered_checks():
        register_check(wrong_name, name="custom_probe")
        with pytest.raises(InputError, match="already registered"):
            register_check(wrong_name, name="custom_probe")
        with pytest.raises(InputError, match="custom_probe"):
            mllife.audit(df)  # runs with the built-ins; its findings are validated
    assert "custom_probe" not in REGISTRY

    with registered_checks():

        @register_check(name="custom_ok", limit=2)
        def custom_ok(data, limit):
            if data.n_rows > limit:
                yield Finding("custom_ok", "info", message=f"more than {limit} rows", n_rows=data.n_rows)

        assert mllife.audit(df).findings_by(check="custom_ok")[0].n_rows == 3
        assert mllife.audit(df, checks={"custom_ok": {"limit": 5}}).findings == ()
    assert "custom_ok" not in REGISTRY


def test_bad_arguments_name_the_column(messy):
    with pytest.raises(InputError, match="nope"):
        mllife.audit(messy, target="nope")
    with pytest.raises(InputError, match="nope"):
        mllife.audit(messy, id_cols=["customer_id", "nope"])
    with pytest.raises(InputError):
        mllife.audit(np.arange(5))


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame(),
        pd.DataFrame({"a": pd.Series([], dtype=float)}),
        pd.DataFrame({"a": [1.0], "b": ["x"]}),
        pd.DataFrame({"a": [np.nan] * 5, "b": [None] * 5}),
    ],
    ids=["empty", "no-rows", "one-row", "all-nan"],
)
def test_degenerate_frames_give_a_report(frame):
    report = mllife.audit(frame)
    assert isinstance(report, AuditReport)
    json.loads(report.to_json())
    report.to_html()


def test_all_nan_column_is_an_error_finding():
    report = mllife.audit(pd.DataFrame({"a": [np.nan] * 5, "b": [1, 2, 3, 4, 5]}))
    f = report.findings_by(check="mostly_missing")[0]
    assert (f.column, f.severity, f.n_rows) == ("a", "error", 5)


def test_python_objects_duplicate_and_non_string_labels():
    df = pd.DataFrame({"obj": [{"a": 1}, [1, 2], {"a": 1}, None, "x"] * 4, "n": range(20)})
    report = mllife.audit(df)
    mixed = report.findings_by(check="mixed_types", column="obj")
    assert mixed
    assert "unhashable" in mixed[0].message
    dup = pd.DataFrame([[1, 2, 3]] * 4, columns=["a", "a", "b"])
    found = mllife.audit(dup).findings_by(check="duplicate_column_names")
    assert [(f.column, f.severity) for f in found] == [("a", "error")]
    numeric_labels = pd.DataFrame(np.random.default_rng(0).normal(size=(50, 3)))
    report = mllife.audit(numeric_labels, target=2)
    assert report.target == 2
    assert json.loads(report.to_json())["target"] == 2


def test_million_category_column_is_handled():
    n = 1_000_000
    df = pd.DataFrame({"key": pd.Series(np.arange(n)).map("k{:07d}".format).astype(object),
                       "v": np.zeros(n)})
    report = mllife.audit(df, checks=["id_like", "category_variants", "date_formats",
                                      "numbers_as_strings", "disguised_nulls"])
    assert [f.check for f in report.findings] == ["id_like"]


def test_numpy_input_gets_generated_names():
    arr = np.array([[1.0, 2.0], [1.0, 2.0], [3.0, np.nan]] * 10)
    report = mllife.audit(arr)
    assert list(report.profile["column"]) == ["x0", "x1"]
    assert report.findings_by(check="duplicate_rows")[0].n_rows == 28


def test_demo_step_writes_its_report(tmp_path):
    from mllife._demo import DemoContext
    from mllife.audit import _demo
    from mllife.datasets import make_churn

    ctx = DemoContext(out=tmp_path, messy=make_churn(600, random_state=0, drift=True),
                      clean=make_churn(600, random_state=1, defects=False, drift=True))
    _demo.run(ctx)
    assert sorted(p.name for p in ctx.written) == ["01_audit.html", "01_audit.json"]
    assert ctx.log[0].startswith("audit: ")
    saved = json.loads((tmp_path / "01_audit.json").read_text())
    assert saved["report"] == "AuditReport"
    assert {f["check"] for f in saved["findings"]} >= {"duplicate_rows", "date_formats"}
