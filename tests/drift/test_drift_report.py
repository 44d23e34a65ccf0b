"""drift_report / DriftReport: planted drift found, clean data quiet, bad columns reported."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import mllife
from mllife import InputError
from mllife.drift import DriftReport, drift_report, register_statistic, registered_statistics


def _pair(n=2_000, seed=0):
    rng = np.random.default_rng(seed)
    levels = np.array(["a", "b", "c", "d"], dtype=object)

    def one():
        return pd.DataFrame({
            "x": rng.normal(size=n), "y": rng.exponential(size=n), "c": rng.choice(levels, n),
            "b": rng.random(n) < 0.3,
        })

    return one(), one()


def _row(report, column):
    return report.table.set_index("column").loc[column]


def test_clean_data_raises_no_alarm():
    ref, cur = _pair()
    report = drift_report(ref, cur)
    assert isinstance(report, DriftReport)
    assert report.drifted_columns == []
    assert not report.drifted
    assert report.drift_share == 0.0
    assert set(report.table["method"]) == {"ks", "chi2"}
    assert (report.table["status"] == "ok").all()


def test_identical_data_gives_zero_drift():
    ref, _ = _pair()
    table = drift_report(ref, ref.copy()).table.set_index("column")
    assert (table["effect_size"] == 0).all()
    assert (table["p_value"] == 1).all()
    assert (table["psi"] == 0).all()


def test_planted_drift_is_found_and_explained():
    ref, cur = _pair()
    cur = cur.assign(x=cur["x"] + 0.5, c=np.where(cur["c"] == "a", "b", cur["c"]))
    report = drift_report(ref, cur)
    assert report.drifted_columns == ["x", "c"]
    assert "ks p=" in _row(report, "x")["reason"]
    assert _row(report, "x")["p_adjusted"] >= _row(report, "x")["p_value"]
    assert report.drift_share == 0.5
    assert report.drifted
    assert {f.column for f in report.findings_by(check="drift")} == {"x", "c"}


def test_large_samples_decide_on_effect_size():
    rng = np.random.default_rng(1)
    n = 200_000
    ref = pd.DataFrame({"tiny": rng.normal(size=n), "real": rng.normal(size=n),
                        "cat": rng.choice(["a", "b"], n, p=[0.5, 0.5])})
    cur = pd.DataFrame({"tiny": rng.normal(0.02, 1, n), "real": rng.normal(0.1, 1, n),
                        "cat": rng.choice(["a", "b"], n, p=[0.51, 0.49])})
    report = drift_report(ref, cur)
    tiny, real, cat = _row(report, "tiny"), _row(report, "real"), _row(report, "cat")
    assert tiny["method"] == real["method"] == "wasserstein"
    assert cat["method"] == "jensen_shannon"
    assert tiny["p_value"] < 1e-6
    assert not tiny["drifted"]
    assert not cat["drifted"]
    assert cat["p_value"] < 1e-6
    assert real["drifted"]
    # a user threshold changes the decision
    assert _row(drift_report(ref, cur, threshold=0.01), "tiny")["drifted"]


@pytest.mark.slow
def test_power_tenth_sd_shift_at_one_million_rows():
    rng = np.random.default_rng(2)
    n = 1_000_000
    ref = pd.DataFrame({"x": rng.normal(size=n)})
    cur = pd.DataFrame({"x": rng.normal(0.1, 1, n)})
    row = _row(drift_report(ref, cur, max_plots=0), "x")
    assert row["drifted"]
    assert row["effect_size"] == pytest.approx(0.1, abs=0.01)


def test_bad_columns_are_reported_never_crash():
    rng = np.random.default_rng(3)
    n = 300
    ref = pd.DataFrame({
        "ok": rng.normal(size=n),
        "all_nan_cur": rng.normal(size=n),
        "all_nan_both": np.full(n, np.nan),
        "gone": rng.normal(size=n),
        "const": np.ones(n),
        "dtype": rng.normal(size=n),
        "with_inf": rng.normal(size=n),
        "new_cats": rng.choice(["a", "b"], n),
        "ident": [f"id{i}" for i in range(n)],
    })
    cur = pd.DataFrame({
        "ok": rng.normal(size=n),
        "all_nan_cur": np.full(n, np.nan),
        "all_nan_both": np.full(n, np.nan),
        "const": np.ones(n),
        "dtype": rng.choice(["x", "y"], n),
        "with_inf": np.where(rng.random(n) < 0.2, np.inf, rng.normal(size=n)),
        "new_cats": rng.choice(["a", "b", "zzz"], n),
        "ident": [f"id{i + n}" for i in range(n)],
        "brand_new": rng.normal(size=n),
    })
    report = drift_report(ref, cur)
    t = report.table.set_index("column")
    assert list(report.table["column"]) == [*ref.columns, "brand_new"]
    assert not t.loc["ok", "drifted"]
    assert t.loc["ok", "status"] == "ok"
    assert t.loc["all_nan_cur", "drifted"]
    assert t.loc["all_nan_cur", "missing_change"] == 1.0
    assert t.loc["all_nan_cur", "status"] == "no finite values in current"
    assert t.loc["all_nan_both", "status"] == "no finite values in either"
    assert not t.loc["all_nan_both", "drifted"]
    assert t.loc["gone", "drifted"]
    assert t.loc["gone", "status"] == "column missing from current"
    assert not t.loc["const", "drifted"]
    assert t.loc["const", "effect_size"] == 0
    assert t.loc["dtype", "drifted"]
    assert t.loc["dtype", "status"].startswith("dtype changed")
    assert t.loc["with_inf", "drifted"]
    assert "inf rate" in t.loc["with_inf", "reason"]
    assert t.loc["with_inf", "inf_current"] == pytest.approx(np.isinf(cur["with_inf"]).mean())
    assert t.loc["new_cats", "unseen_share"] > 0.2
    assert t.loc["new_cats", "drifted"]
    assert t.loc["ident", "status"].startswith("identifier-like")
    assert not t.loc["ident", "drifted"]
    assert t.loc["brand_new", "status"].startswith("new column")
    assert not t.loc["brand_new", "drifted"]
    assert report.n_columns == len(ref.columns)
    json.loads(report.to_json())


def test_a_failing_statistic_hides_no_other_column():
    def flaky(ref, cur):
        if len(cur) > 150:
            raise RuntimeError("boom")
        return 0.0, None

    with registered_statistics():
        register_statistic("flaky_for_test", flaky, threshold=1.0)
        ref = pd.DataFrame({"a": np.arange(200.0), "b": np.arange(200.0)})
        cur = pd.DataFrame({"a": np.arange(200.0), "b": np.arange(100.0).repeat(2)})
        report = drift_report(ref, cur, method={"a": "flaky_for_test"})
        t = report.table.set_index("column")
        assert t.loc["a", "status"] == "failed: boom"
        assert t.loc["b", "status"] == "ok"
        assert t.loc["b", "method"] == "ks"
        assert report.findings_by(check="drift_failed")[0].column == "a"


def test_explicit_methods_and_fallback():
    ref, cur = _pair(seed=4)
    cur = cur.assign(x=cur["x"] * 3.0)
    for method in ("psi", "jensen_shannon", "hellinger", "wasserstein", "anderson", "ks"):
        row = _row(drift_report(ref, cur, method=method), "x")
        assert row["method"] == method, method
        assert row["drifted"], method
    cat = _row(drift_report(ref, cur, method="ks"), "c")
    assert cat["method"] == "chi2"
    assert "used auto" in cat["status"]
    for method in ("g_test", "cramers_v", "proportion_z"):
        assert _row(drift_report(ref, cur, method=method), "c")["method"] == method
    energy = drift_report(ref, cur, method="energy")
    assert _row(energy, "x")["status"].startswith("failed: ")
    assert "threshold" in _row(energy, "x")["status"]
    assert _row(drift_report(ref, cur, method="energy", threshold=0.1), "x")["drifted"]


def test_holm_is_more_conservative_than_bh():
    ref, cur = _pair(seed=5)
    bh = drift_report(ref, cur, correction="bh").table["p_adjusted"]
    holm = drift_report(ref, cur, correction="holm").table["p_adjusted"]
    raw = drift_report(ref, cur, correction="none").table
    assert (holm >= bh - 1e-12).all()
    # "none": no correction across columns; a column's own tests are Holm-corrected together,
    # so a column with a single test keeps its raw p-value
    tested = raw["p_value"].notna()
    assert (raw.loc[tested, "p_adjusted"] >= raw.loc[tested, "p_value"] - 1e-12).all()
    alone = tested & raw[["missing_p_adjusted", "inf_p_adjusted", "unseen_p_adjusted"]].isna().all(axis=1)
    assert alone.any()
    assert (raw.loc[alone, "p_adjusted"] == raw.loc[alone, "p_value"]).all()


def test_missing_rate_change_is_drift():
    rng = np.random.default_rng(6)
    ref = pd.DataFrame({"x": rng.normal(size=1_000)})
    cur = pd.DataFrame({"x": np.where(rng.random(1_000) < 0.3, np.nan, rng.normal(size=1_000))})
    row = _row(drift_report(ref, cur), "x")
    assert row["drifted"]
    assert "missing rate 0.0% -> " in row["reason"]
    assert row["missing_change"] == pytest.approx(cur["x"].isna().mean())


def test_multivariate_domain_classifier_sees_joint_shift():
    rng = np.random.default_rng(7)
    n = 1_500
    a = rng.normal(size=n)
    ref = pd.DataFrame({"a": a, "b": a + rng.normal(0, 0.1, n)})
    a2 = rng.normal(size=n)
    cur = pd.DataFrame({"a": a2, "b": -a2 + rng.normal(0, 0.1, n)})  # same marginals, flipped correlation
    report = drift_report(ref, cur, multivariate=True)
    assert report.multivariate["auc"] > 0.9
    assert report.multivariate["drifted"]
    assert report.drifted
    same = drift_report(ref, ref.sample(frac=1.0, random_state=0), multivariate=True)
    assert same.multivariate["auc"] < 0.6


def test_outputs_html_json_markdown(tmp_path):
    ref, cur = _pair(seed=8)
    cur = cur.assign(x=cur["x"] + 1, c="a")
    report = drift_report(ref, cur, max_plots=2)
    html = report.to_html()
    assert html.count("<img") == 4  # effect sizes of numbers, of categories, 2 overlays
    assert len(html) < 1_000_000
    data = json.loads(report.to_json())
    assert data["drifted_columns"] == ["x", "c"]
    assert set(data["distributions"]) == {"x", "y", "c", "b"}
    markdown = report.to_markdown()
    assert "## columns" in markdown
    assert "drift share" in markdown
    assert report.save(tmp_path / "drift.html").exists()
    assert isinstance(report.to_frame(), pd.DataFrame)


def test_html_stays_small_with_many_columns():
    rng = np.random.default_rng(9)
    ref = pd.DataFrame({f"c{i}": rng.normal(size=500) for i in range(60)})
    cur = ref + 1.0
    report = drift_report(ref, cur)
    assert len(report._plots()) == 13  # effect bars + the 12 most drifted columns (default max_plots)
    html = drift_report(ref, cur, max_plots=2).to_html()
    assert html.count("<img") == 3
    assert len(html) < 1_000_000


def test_parameter_errors():
    ref, cur = _pair(n=50)
    with pytest.raises(InputError, match="not known"):
        drift_report(ref, cur, method="nope")
    with pytest.raises(InputError, match="alpha"):
        drift_report(ref, cur, alpha=2)
    with pytest.raises(InputError, match="correction"):
        drift_report(ref, cur, correction="bonf")
    with pytest.raises(InputError, match="neither"):
        drift_report(ref, cur, columns=["zz"])
    with pytest.raises(InputError, match="threshold"):
        drift_report(ref, cur, threshold=float("nan"))


def test_inputs_not_mutated():
    ref, cur = _pair(n=300, seed=10)
    ref.loc[0, "x"] = np.nan
    before_ref, before_cur = ref.copy(), cur.copy()
    drift_report(ref, cur, multivariate=True)
    pd.testing.assert_frame_equal(ref, before_ref)
    pd.testing.assert_frame_equal(cur, before_cur)


def test_register_statistic_contract():
    def shift(ref, cur):
        return abs(float(np.mean(cur) - np.mean(ref))), None

    with registered_statistics():
        register_statistic("mean_shift_test", shift, threshold=0.3)
        ref, cur = _pair(seed=11)
        row = _row(drift_report(ref, cur.assign(x=cur["x"] + 1), method="mean_shift_test"), "x")
        assert row["method"] == "mean_shift_test"
        assert row["drifted"]
        assert row["threshold"] == 0.3
        with pytest.raises(InputError, match="already registered"):
            register_statistic("mean_shift_test", shift)
        with pytest.raises(InputError, match="built-in"):
            register_statistic("ks", shift)
        with pytest.raises(InputError, match="tuple"):
            register_statistic("bad_one", lambda r, c: 1.0)
        with pytest.raises(InputError, match="p-value"):
            register_statistic("bad_two", lambda r, c: (1.0, 2.0))
        with pytest.raises(InputError, match="failed on a categorical probe"):
            register_statistic("bad_three", lambda r, c: (float(np.mean(r)), None), kind="categorical")
        with pytest.raises(InputError, match="kind"):
            register_statistic("bad_four", shift, kind="text")
    with pytest.raises(InputError, match="not known"):  # gone with its scope
        drift_report(ref, cur, method="mean_shift_test")


def test_top_level_names():
    assert mllife.drift_report is drift_report
    assert mllife.DriftReport is DriftReport
    assert mllife.register_statistic is register_statistic
    assert mllife.drift.stats.ks is not None
