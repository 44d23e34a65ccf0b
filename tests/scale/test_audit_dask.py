"""``audit`` and ``profile`` on Dask frames and Parquet datasets equal pandas on the computed frame.

Every test compares against the pandas call on ``ddf.compute()`` (the same
rows, dtypes and labels): findings equal in check, severity, column, rows,
share, threshold, message and sample rows; the profile equal (mean and std to
float rounding). Tables here are within the sample and the value cap, so the
Dask path must be exact; ``test_audit_dask_hostile.py`` covers the bounds.
"""

from __future__ import annotations

import functools
import itertools
import pickle

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

import mllife
import mllife.audit._dask as audit_dask
import mllife.scale
from mllife import InputError
from mllife.audit import AuditReport, profile
from mllife.datasets import make_churn
from mllife.report import Finding


def key(f: Finding) -> tuple:
    return (f.check, f.severity, f.column, f.n_rows, f.share, f.threshold, f.message, f.sample_index)


def assert_same_audit(ddf, **kwargs) -> AuditReport:
    """The Dask audit equals the pandas audit of the computed frame; returns the Dask report."""
    expected = mllife.audit(ddf.compute(), **kwargs)
    got = mllife.audit(ddf, **kwargs)
    assert [key(f) for f in got.findings] == [key(f) for f in expected.findings]
    assert [f.details for f in got.findings] == [f.details for f in expected.findings]
    pd.testing.assert_frame_equal(got.profile, expected.profile, check_exact=False, rtol=1e-9)
    assert (got.n_rows, got.n_columns, got.checks) == (expected.n_rows, expected.n_columns, expected.checks)
    return got


def unequal(df: pd.DataFrame, bounds: list[int]):
    """A Dask frame of ``df``'s rows cut at ``bounds`` (empty and one-row partitions allowed)."""
    cuts = list(itertools.pairwise(bounds))
    return dd.from_map(lambda ab: df.iloc[ab[0]:ab[1]], cuts, meta=df.iloc[:0], enforce_metadata=False)


def defects_table(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """Every defect the distributed checks look for, planted at known rows."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "age": np.where(rng.random(n) < 0.04, -999, rng.integers(18, 90, n)),
        "ratio": np.where(rng.random(n) < 0.02, np.inf, rng.normal(size=n)),
        "notes": np.where(rng.random(n) < 0.85, np.nan, rng.normal(size=n)),
        "country": "FR",
        "amount": rng.integers(0, 5_000, n).astype(str),
        "smoker": rng.choice(["Yes", " Yes", "yes", "No", "no "], n),
        "plan": rng.choice(["basic", "pro", "N/A", ""], n, p=[0.5, 0.4, 0.07, 0.03]),
        "mixed": pd.Series(rng.choice(np.array([1, "a", 2.5, "b", None], dtype=object), n), dtype=object),
        "income": np.r_[rng.normal(3_000, 300, n - 3), [3e6, 4e6, -2e6]],
        "churned": (rng.random(n) < 0.05).astype(int),
    })
    copies = frame.iloc[[5, n // 2, n - 120]].set_axis([n, n + 1, n + 2])  # copies of rows far apart
    return pd.concat([frame, copies])


@pytest.fixture
def object_text():
    """Keep object columns as they are (Dask turns them into pyarrow strings by default)."""
    with dask.config.set({"dataframe.convert-string": False}):
        yield


@pytest.mark.parametrize("npartitions", [1, 7, 64])
def test_planted_defects_are_found_as_pandas_finds_them(client, object_text, npartitions):
    frame = defects_table()
    report = assert_same_audit(dd.from_pandas(frame, npartitions=npartitions, sort=False), target="churned")
    found = {(f.check, f.column) for f in report.findings}
    assert {("disguised_nulls", "age"), ("infinite_values", "ratio"), ("mostly_missing", "notes"),
            ("constant", "country"), ("numbers_as_strings", "amount"), ("category_variants", "smoker"),
            ("disguised_nulls", "plan"), ("mixed_types", "mixed"), ("outliers", "income"),
            ("target_imbalance", "churned"), ("duplicate_rows", None)} <= found
    copies = report.findings_by(check="duplicate_rows")[0]
    assert copies.n_rows == 3
    assert copies.sample_index == (600, 601, 602)  # copies in other partitions than their originals
    assert report.findings_by(check="outliers")[0].sample_index == (597, 598, 599)
    assert report.scale["engine"] == "dask"
    assert report.scale["sampled"] == ("target_leakage",)
    assert "outliers" in report.scale["distributed"]


@pytest.mark.parametrize("seed", [0, 1])
def test_churn_defects_and_identifiers_as_pandas(client, seed):
    frame, manifest = make_churn(3_000, random_state=seed, defects=True, drift=True)
    ddf = dd.from_pandas(frame, npartitions=13, sort=False)
    report = assert_same_audit(ddf, target="churned", time_col="last_event_at", id_cols=["customer_id"])
    checks = {f.check for f in report.findings if f.severity != "info"}
    assert {"duplicate_rows", "conflicting_labels", "disguised_nulls", "date_formats", "target_leakage"} <= checks
    conflicts = report.findings_by(check="conflicting_labels")[0]
    assert conflicts.n_rows == 2 * manifest["conflicting_labels"]["n_rows"]


def test_clean_table_gives_the_same_report_and_no_alarm(client):
    frame = make_churn(3_000, random_state=0, defects=False).frame
    report = assert_same_audit(dd.from_pandas(frame, npartitions=5, sort=False), target="churned",
                               id_cols=["customer_id"])
    assert report.findings_by(severity="warning") == () or not report.findings_by(severity="warning")
    assert not report.findings_by(severity="error")


@pytest.mark.parametrize("bounds", [
    [0, 0, 1, 2, 300, 300, 301, 603],         # empty and one-row partitions
    [0, 600, 601, 602, 603],                  # one big partition, then one row each
    [0, 100, 103, 350, 351, 603, 603, 603],   # unequal, trailing empty partitions
])
def test_empty_one_row_and_unequal_partitions(client, object_text, bounds):
    frame = defects_table()
    assert_same_audit(unequal(frame, bounds), target="churned", id_cols=["age"])


def test_duplicates_ignoring_ids_and_conflicting_labels_across_partitions(client):
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame({"id": np.arange(n), "a": rng.integers(0, 50, n), "b": rng.choice(list("xyz"), n),
                          "y": rng.integers(0, 2, n)})
    again = frame.iloc[[10, 20, 30, 40]].assign(id=[900, 901, 902, 903])  # the same record under new ids
    flipped = frame.iloc[[50, 60]].assign(id=[904, 905], y=lambda d: 1 - d["y"])  # other label
    frame = pd.concat([frame, again, flipped], ignore_index=True)
    report = assert_same_audit(dd.from_pandas(frame, npartitions=9, sort=False), target="y", id_cols=["id"])
    assert report.findings_by(check="duplicates_ignoring_ids")[0].n_rows >= 4
    assert report.findings_by(check="conflicting_labels")


def test_profile_equals_pandas_profile(client, object_text):
    frame = defects_table()
    frame["when"] = pd.date_range("2024-03-01", periods=len(frame), freq="37min", tz="America/New_York")
    frame["level"] = pd.Categorical(np.resize(["low", "mid", "high", None], len(frame)))
    ddf = dd.from_pandas(frame, npartitions=6, sort=False)
    got, expected = profile(ddf), profile(ddf.compute())
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-9)
    assert got.loc[got["column"] == "when", "median"].item() == expected.loc[expected["column"] == "when",
                                                                              "median"].item()


def test_parquet_file_folder_and_glob(client, tmp_path):
    frame, _ = make_churn(1_500, random_state=2, defects=True)
    for i, start in enumerate(range(0, len(frame), 400)):
        frame.iloc[start:start + 400].to_parquet(tmp_path / f"part-{i}.parquet")
    computed = dd.read_parquet(str(tmp_path)).compute()
    expected = mllife.audit(computed, target="churned", id_cols=["customer_id"])
    for path in (tmp_path, str(tmp_path / "*.parquet")):
        got = mllife.audit(path, target="churned", id_cols=["customer_id"])
        assert [key(f) for f in got.findings] == [key(f) for f in expected.findings]
    one = tmp_path / "part-0.parquet"
    pd.testing.assert_frame_equal(profile(one), profile(dd.read_parquet(str(one)).compute()),
                                  check_exact=False, rtol=1e-9)
    with pytest.raises(InputError, match="Parquet"):
        mllife.audit(str(tmp_path / "nothing-*.parquet"))


def test_checks_spec_and_id_cols_keep_working(client):
    frame = defects_table()
    ddf = dd.from_pandas(frame, npartitions=4, sort=False)
    only = assert_same_audit(ddf, checks=["duplicate_rows", "mostly_missing"])
    assert set(only.checks) == {"duplicate_rows", "mostly_missing"}
    assert {f.check for f in only.findings} <= {"duplicate_rows", "mostly_missing"}
    tuned = assert_same_audit(ddf, checks={"mostly_missing": {"threshold": 0.01}})
    assert tuned.findings_by(check="mostly_missing")[0].threshold == 0.01
    spec = mllife.ProblemSpec(target="churned", task="binary")
    assert_same_audit(ddf, spec=spec, id_cols="age")
    with pytest.raises(InputError, match="not found"):
        mllife.audit(ddf, target="nope")
    with pytest.raises(InputError, match="also in id_cols"):
        mllife.audit(ddf, target="churned", id_cols=["churned"])
    with pytest.raises(InputError, match="unknown check"):
        mllife.audit(ddf, checks=["no_such_check"])


def test_checks_needing_rows_run_on_a_stated_sample(client, monkeypatch):
    frame, _ = make_churn(2_000, random_state=0, defects=True)
    frame["churn_code"] = frame["churned"].map({0: "stay", 1: "gone"})  # the target, recorded again
    ddf = dd.from_pandas(frame, npartitions=6, sort=False)
    monkeypatch.setattr(audit_dask, "SAMPLE_ROWS", 1_000)
    seen = []

    def rows_seen(data):
        seen.append(data.n_rows)
        yield Finding("rows_seen", "info", message=f"{data.n_rows} rows", n_rows=data.n_rows)

    with mllife.audit.registered_checks(rows_seen):
        report = mllife.audit(ddf, target="churned", id_cols=["customer_id"])
    assert seen == [1_000]
    assert report.findings_by(check="rows_seen")[0].message == "1000 rows (on a sample of 1,000 of 2,000 rows)"
    leak = report.findings_by(check="target_leakage")
    assert "churn_code" in {f.column for f in leak}
    assert all(f.message.endswith("(on a sample of 1,000 of 2,000 rows)") for f in leak)
    assert set(report.scale["sampled"]) == {"target_leakage", "rows_seen"}
    assert report.scale["sample_rows"] == 1_000
    assert any("sample of 1,000 of 2,000 rows" in note for note in report.notes)
    # the distributed checks still count every row
    expected = mllife.audit(ddf.compute(), target="churned", id_cols=["customer_id"],
                            checks=["duplicate_rows", "disguised_nulls", "date_formats"])
    for f in expected.findings:
        assert key(f) in {key(g) for g in report.findings}
    # the report keeps its scale through to_dict, JSON and pickle
    again = AuditReport.from_dict(report.to_dict())
    assert again == report
    assert dict(again.scale) == dict(report.scale)
    assert pickle.loads(pickle.dumps(report)) == report


_CREATED: list[tuple[int, int]] = []


def _create(frame: pd.DataFrame, bounds: tuple[int, int]) -> pd.DataFrame:
    _CREATED.append(bounds)  # the workers are threads of this process: they append here
    return frame.iloc[bounds[0]:bounds[1]]


def test_one_pass_over_lazily_created_partitions(client):
    frame = defects_table()
    cuts = [(0, 150), (150, 151), (151, 151), (151, 603)]
    ddf = dd.from_map(functools.partial(_create, frame), cuts, meta=frame.iloc[:0], enforce_metadata=False)
    _CREATED.clear()
    report = mllife.audit(ddf, target="churned")
    assert sorted(_CREATED) == sorted(cuts)  # every partition created once: one pass, no .compute() of it all
    _CREATED.clear()
    profile(ddf)
    assert sorted(_CREATED) == sorted(cuts)
    assert report.n_rows == len(frame)


def test_pandas_frames_and_other_inputs_are_unchanged():
    frame = defects_table(200)
    before = frame.copy()
    report = mllife.audit(frame, target="churned")
    assert report.scale == {}
    assert "scale" not in report.to_dict()
    pd.testing.assert_frame_equal(frame, before)


def test_progress_bar_for_the_distributed_pass(client, capsys):
    frame = defects_table(200)
    with mllife.scale.progress():
        mllife.audit(dd.from_pandas(frame, npartitions=3, sort=False), checks=["duplicate_rows"])
    out = capsys.readouterr().out
    assert "100%" in out or "Completed" in out
    mllife.audit(dd.from_pandas(frame, npartitions=3, sort=False), checks=["duplicate_rows"])
    assert capsys.readouterr().out == ""
