"""``audit``/``profile`` on hostile Dask frames, and at their bounds (value cap, sample, processes).

Hostile columns (nullable dtypes, time zones, categoricals, unhashable cells,
mixed objects, all-missing, repeated or odd labels, empty partitions...)
must give pandas' result on the computed frame. Above the distinct-value cap
(made small here) the exact parts stay exact and everything estimated says so.
"""

from __future__ import annotations

import decimal
import itertools

import dask
import dask.dataframe as dd
import hypothesis
import hypothesis.strategies as st
import numpy as np
import pandas as pd
import pytest
from tests.scale.test_audit_dask import assert_same_audit, defects_table, key, unequal

import mllife
import mllife.audit._dask as audit_dask
from mllife.audit import profile


@pytest.fixture
def object_text():
    with dask.config.set({"dataframe.convert-string": False}):
        yield


def hostile(n: int = 300, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "i64": pd.array(np.where(rng.random(n) < 0.1, None, rng.integers(0, 5, n)), dtype="Int64"),
        "bnull": pd.array(np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.5), dtype="boolean"),
        "td": pd.to_timedelta(rng.integers(0, 100, n), unit="s"),
        "snull": pd.array(np.where(rng.random(n) < 0.1, None, rng.choice(["a", "b", "NULL"], n)), dtype="string"),
        "nat": pd.Series(pd.date_range("2020-01-01", periods=n, freq="D")).where(rng.random(n) < 0.9),
        "tz": pd.date_range("2024-03-30", periods=n, freq="h", tz="Europe/Paris"),
        "cat": pd.Categorical(rng.choice(["x", "y", None], n), categories=["x", "y", "never"]),
        "dec": pd.Series([decimal.Decimal(int(v)) for v in rng.integers(0, 4, n)], dtype=object),
        "one": pd.Series(np.where(rng.random(n) < 0.5, 1, 1.0), dtype=object),  # 1 and 1.0: one value
        "mixed": pd.Series(rng.choice(np.array([1, "1", 2.5, "b", None, True], dtype=object), n), dtype=object),
        "dicts": pd.Series([{"k": i % 3} if i % 4 else None for i in range(n)], dtype=object),
        "empty": np.full(n, np.nan),
        "big": np.where(rng.random(n) < 0.5, 2**62, 2**62 + 1).astype(np.int64),
        "zero": np.where(rng.random(n) < 0.5, 0.0, -0.0),
        "dates": rng.choice(["2024-01-31", "31/01/2024", "2024-02-01", "01/02/2024", "N/A"], n),
        "code": [f"CUST-{i:05d}" for i in range(n)],
        "y": rng.choice(["a", "b", "c"], n, p=[0.9, 0.08, 0.02]),
    })


@pytest.mark.parametrize("cut", ["even", "ragged"])
def test_hostile_columns_equal_pandas(client, object_text, cut):
    frame = hostile()
    ddf = (dd.from_pandas(frame, npartitions=6, sort=False) if cut == "even"
           else unequal(frame, [0, 0, 1, 1, 120, 121, 300, 300]))
    report = assert_same_audit(ddf, target="y", id_cols=["code"])
    assert {("mixed_types", "mixed"), ("mostly_missing", "empty"), ("date_formats", "dates")} <= {
        (f.check, f.column) for f in report.findings}
    pd.testing.assert_frame_equal(profile(ddf), profile(ddf.compute()), check_exact=False, rtol=1e-9)


@pytest.mark.parametrize("index", ["text", "datetime", "repeated"])
def test_row_labels_of_any_kind_are_reported(client, object_text, index):
    frame = defects_table(300)
    frame.index = {"text": pd.Index([f"r{i}" for i in range(len(frame))]),
                   "datetime": pd.date_range("2021-01-01", periods=len(frame), freq="min"),
                   "repeated": pd.Index(np.arange(len(frame)) % 50)}[index]
    assert_same_audit(dd.from_pandas(frame, npartitions=5, sort=False), target="churned")


def test_columns_named_by_numbers_and_tiny_tables(client, object_text):
    frame = hostile(40)
    frame.columns = [c if i % 2 else i for i, c in enumerate(frame.columns)]
    assert_same_audit(dd.from_pandas(frame, npartitions=3, sort=False), target=16)
    assert_same_audit(dd.from_pandas(frame.iloc[:1], npartitions=1), target=16)
    empty = assert_same_audit(dd.from_pandas(frame.iloc[:0], npartitions=1))
    assert [f.check for f in empty.findings] == ["empty_table"]
    no_columns = assert_same_audit(dd.from_pandas(frame[[]], npartitions=2))
    assert no_columns.n_columns == 0


def test_parquet_with_dictionary_strings_and_time_zones(client, tmp_path):
    frame = hostile().drop(columns=["dicts", "mixed", "dec", "one", "td"])
    for i, start in enumerate(range(0, len(frame), 70)):
        frame.iloc[start:start + 70].to_parquet(tmp_path / f"part-{i:02d}.parquet")
    computed = dd.read_parquet(str(tmp_path)).compute()
    got = mllife.audit(tmp_path, target="y")
    expected = mllife.audit(computed, target="y")
    assert [key(f) for f in got.findings] == [key(f) for f in expected.findings]
    pd.testing.assert_frame_equal(got.profile, expected.profile, check_exact=False, rtol=1e-9)


def test_dask_frames_with_repeated_column_names_are_refused(client):
    frame = pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"])
    ddf = dd.from_pandas(frame, npartitions=1)
    with pytest.raises(mllife.InputError, match="duplicate column names"):
        mllife.audit(ddf)


@pytest.fixture
def small_bounds(monkeypatch):
    """A value cap of 60 distinct values, tails of 20, a 32-value distinct sample, 64 sketch points."""
    for name, value in {"VALUE_CAP": 60, "TAIL": 20, "DISTINCT_SAMPLE": 32, "SKETCH_POINTS": 64,
                        "SAMPLE_ROWS": 150, "TOP": 4}.items():
        monkeypatch.setattr(audit_dask, name, value)


def test_above_the_cap_exact_parts_stay_exact_and_estimates_say_so(client, object_text, small_bounds):
    frame = defects_table(600)
    frame["amount"] = frame["amount"].astype(object)
    steps = frame["income"].rank(method="dense").to_numpy(dtype=int)  # copies keep their original's time
    frame["when"] = pd.Timestamp("2024-10-26", tz="Europe/Paris") + pd.to_timedelta(7 * steps, unit="min")
    ddf = dd.from_pandas(frame, npartitions=7, sort=False)
    expected = mllife.audit(ddf.compute(), target="churned")
    got = mllife.audit(ddf, target="churned")
    above = set(got.scale["approximate"])
    assert {"ratio", "notes", "amount", "income"} <= above  # more than 60 distinct values
    by = {(f.check, f.column): f for f in got.findings}
    want = {(f.check, f.column): f for f in expected.findings}
    # exact however many values: missing, infinite, sentinel counts, duplicates, small columns
    for name in [("mostly_missing", "notes"), ("infinite_values", "ratio"), ("duplicate_rows", None),
                 ("category_variants", "smoker"), ("constant", "country"), ("target_imbalance", "churned")]:
        assert key(by[name]) == key(want[name]), name
    sentinel = by[("disguised_nulls", "age")]
    assert (sentinel.n_rows, sentinel.sample_index) == (want[("disguised_nulls", "age")].n_rows,
                                                        want[("disguised_nulls", "age")].sample_index)
    # outliers: exact quantiles from a second pass over the sketch's windows, counted on the tails
    assert key(by[("outliers", "income")]) == key(want[("outliers", "income")])
    assert by[("outliers", "income")].sample_index == (597, 598, 599)
    # numbers stored as text above the cap: judged on the sample, and said so
    text = by[("numbers_as_strings", "amount")]
    assert text.message.endswith("(on a sample of 150 of 603 rows)")
    assert text.share == 1.0
    # the profile: exact counts, estimated distinct values within a few sketch errors, stated
    prof = got.profile.set_index("column")
    exact = expected.profile.set_index("column")
    for col in ["ratio", "notes", "income", "amount"]:
        assert prof.loc[col, "n_missing"] == exact.loc[col, "n_missing"]
        assert abs(prof.loc[col, "n_unique"] - exact.loc[col, "n_unique"]) <= 0.5 * exact.loc[col, "n_unique"]
        assert "n_unique estimated" in prof.loc[col, "kind_reason"]
    for col in ["ratio", "income"]:
        assert prof.loc[col, "min"] == exact.loc[col, "min"]
        assert prof.loc[col, "max"] == exact.loc[col, "max"]
        assert prof.loc[col, "mean"] == pytest.approx(exact.loc[col, "mean"], rel=1e-9)
        assert prof.loc[col, "std"] == pytest.approx(exact.loc[col, "std"], rel=1e-9)
        values = ddf.compute()[col].to_numpy(dtype=float)
        values = np.sort(values[np.isfinite(values)])
        rank = np.searchsorted(values, prof.loc[col, "median"]) / values.size
        assert abs(rank - 0.5) <= 0.05  # within the stated rank error (64 points, two merges)
    assert (prof.loc["when", "min"], prof.loc["when", "max"]) == (exact.loc["when", "min"], exact.loc["when", "max"])
    assert "+01:00" in prof.loc["when", "median"]  # a time-zone aware median, from the sketch
    assert any("above 60 distinct values" in note for note in got.notes)


@pytest.mark.parametrize("method", ["iqr", "mad"])
def test_outliers_above_the_cap_are_exact(client, method, monkeypatch):
    for name, value in {"VALUE_CAP": 200, "TAIL": 300, "DISTINCT_SAMPLE": 64, "SKETCH_POINTS": 128,
                        "SAMPLE_ROWS": 500}.items():
        monkeypatch.setattr(audit_dask, name, value)
    rng = np.random.default_rng(7)
    n = 6_000
    with_zeros = rng.lognormal(2, 1.2, n)
    with_zeros[rng.random(n) < 0.2] = 0
    frame = pd.DataFrame({
        "t3": rng.standard_t(3, n), "cauchy_like": rng.standard_t(1.5, n) * 100,
        "lognormal": rng.lognormal(3, 1, n), "with_zeros": with_zeros, "pareto": rng.pareto(1.2, n),
        "two_bumps": np.r_[rng.normal(0, 1, n - 60), rng.normal(300, 5, 60)],
        "sentinel": np.where(rng.random(n) < 0.03, -999.0, rng.normal(50, 5, n)),
        "negative": -rng.lognormal(1, 1, n),
    })
    ddf = dd.from_pandas(frame, npartitions=9, sort=False)
    checks = {"outliers": {"method": method}}
    got = mllife.audit(ddf, checks=checks)
    expected = mllife.audit(ddf.compute(), checks=checks)
    assert len(expected.findings) >= 5
    assert [key(f) for f in got.findings] == [key(f) for f in expected.findings]
    assert set(got.scale["approximate"]) == set(frame.columns)


def test_more_outliers_than_the_tails_hold_are_estimated_and_said(client, monkeypatch):
    for name, value in {"VALUE_CAP": 100, "TAIL": 10, "DISTINCT_SAMPLE": 32, "SKETCH_POINTS": 64}.items():
        monkeypatch.setattr(audit_dask, name, value)
    rng = np.random.default_rng(3)
    x = np.r_[rng.normal(0, 1, 3_000), rng.normal(500, 50, 40)]  # 40 far values, 10 kept per tail
    ddf = dd.from_pandas(pd.DataFrame({"x": x}), npartitions=4)
    got = mllife.audit(ddf, checks=["outliers"]).findings[0]
    expected = mllife.audit(ddf.compute(), checks=["outliers"]).findings[0]
    assert "count estimated" in got.message
    assert abs(got.n_rows - expected.n_rows) <= 0.2 * expected.n_rows
    assert got.details["approximate"]


def test_null_tokens_above_the_cap_are_counted_exactly(client, object_text, small_bounds):
    rng = np.random.default_rng(1)
    n = 800
    names = np.array([f"name {i}" for i in range(n)], dtype=object)
    names[rng.random(n) < 0.05] = "N/A"
    frame = pd.DataFrame({"name": names, "x": rng.normal(size=n)})
    ddf = dd.from_pandas(frame, npartitions=5, sort=False)
    expected = mllife.audit(ddf.compute(), checks=["disguised_nulls"]).findings[0]
    got = mllife.audit(ddf, checks=["disguised_nulls"]).findings[0]
    assert (got.n_rows, got.share, got.sample_index, got.details["tokens"]) == (
        expected.n_rows, expected.share, expected.sample_index, expected.details["tokens"])
    assert "more than 60 distinct values" in got.message


def test_near_constant_above_the_cap(client, small_bounds):
    rng = np.random.default_rng(2)
    n = 20_000
    x = np.zeros(n)
    noisy = rng.random(n) < 0.005
    x[noisy] = rng.normal(size=int(noisy.sum()))
    ddf = dd.from_pandas(pd.DataFrame({"x": x}), npartitions=6)
    expected = mllife.audit(ddf.compute(), checks=["constant"]).findings[0]
    got = mllife.audit(ddf, checks=["constant"]).findings[0]
    assert (got.severity, got.n_rows, got.share) == (expected.severity, expected.n_rows, expected.share)
    assert "lower bound" in got.message


def test_checks_on_a_sample_match_pandas_on_those_rows(client, monkeypatch):
    frame, _ = mllife.make_churn(1_200, random_state=4, defects=True)
    ddf = dd.from_pandas(frame, npartitions=5, sort=False)
    monkeypatch.setattr(audit_dask, "SAMPLE_ROWS", 400)
    first = mllife.audit(ddf, target="churned", checks=["target_leakage"])
    again = mllife.audit(dd.from_pandas(frame, npartitions=11, sort=False), target="churned",
                         checks=["target_leakage"])
    # the sample is drawn from the rows' values and labels: the same rows however the frame is cut
    assert [key(f) for f in first.findings] == [key(f) for f in again.findings]
    assert first.scale["sample_rows"] == 400


def test_two_worker_processes(object_text):
    import distributed

    frame = defects_table(300)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster):
        assert_same_audit(dd.from_pandas(frame, npartitions=5, sort=False), target="churned", id_cols=["age"])


def test_the_sample_is_the_same_with_or_without_the_size_bound(client, monkeypatch):
    frame, _ = mllife.make_churn(3_000, random_state=5, defects=True)
    ddf = dd.from_pandas(frame, npartitions=6, sort=False)
    monkeypatch.setattr(audit_dask, "SAMPLE_ROWS", 300)
    plan = audit_dask.Plan(audit_dask.settings(), frame.shape[1])
    assert audit_dask._sample_below(ddf, 300) is not None  # an in-memory frame: Dask knows its size
    bounded = audit_dask._run(ddf, plan)[1].final()
    monkeypatch.setattr(audit_dask, "_sample_below", lambda frame, size: 2**40)  # far too tight: drawn again
    redrawn = audit_dask._run(ddf, plan)[1].final()
    monkeypatch.setattr(audit_dask, "_sample_below", lambda frame, size: None)
    unbounded = audit_dask._run(ddf, plan)[1].final()
    assert len(unbounded) == 300
    pd.testing.assert_frame_equal(bounded, unbounded)
    pd.testing.assert_frame_equal(redrawn, unbounded)


# ---- the merge: any cut and any tree give the whole column's summary ---------------------------------------
_VALUES = [0, 1, 2.5, -999, float("inf"), float("nan"), None, "N/A", "a", " A", "b", "1", True]


def _summaries(values: list, cuts: list[int], settings, dtype: object = object):
    from mllife.audit._dask_summary import column_summary
    from mllife.audit._dask_values import row_keys

    series = pd.Series(values, dtype=dtype, index=np.arange(100, 100 + len(values)))
    bounds = [0, *sorted(cuts), len(values)]
    parts = []
    for i, (a, b) in enumerate(itertools.pairwise(bounds)):
        part = series.iloc[a:b]
        parts.append(column_summary(part, row_keys(i, len(part)), part.index, settings)[0])
    return series, parts


def _tree(parts: list, rng, settings):
    from mllife.audit._dask_summary import merge_columns

    parts = list(parts)
    while len(parts) > 1:
        start = int(rng.integers(0, len(parts) - 1))
        width = int(rng.integers(2, min(4, len(parts) - start) + 1))
        parts[start:start + width] = [merge_columns(parts[start:start + width], settings)]
    return parts[0]


@hypothesis.given(values=st.lists(st.sampled_from(_VALUES), min_size=1, max_size=60),
                  cuts=st.lists(st.integers(0, 60), max_size=8), seed=st.integers(0, 2**16))
def test_any_cut_and_any_merge_tree_give_the_whole_columns_table(values, cuts, seed):
    from mllife.audit._dask_values import Settings

    settings = Settings()
    cuts = [c for c in cuts if c <= len(values)]
    _, parts = _summaries(values, cuts, settings)
    merged = _tree(parts, np.random.default_rng(seed), settings)
    whole = _summaries(values, [], settings)[1][0]
    assert (merged.n, merged.n_missing) == (whole.n, whole.n_missing)
    assert merged.missing.first() == whole.missing.first()
    got, want = merged.table, whole.table
    assert got.uniques.tolist() == want.uniques.tolist()  # first-appearance order, pandas' equality
    assert got.counts.tolist() == want.counts.tolist()
    for i in range(len(want)):
        one = np.arange(len(want)) == i
        assert got.first_rows(one) == want.first_rows(one)
        assert got.first_rows(~one, merged.missing) == want.first_rows(~one, whole.missing)


@hypothesis.given(values=st.lists(st.one_of(st.integers(-5, 40).map(float), st.sampled_from([-999.0, np.inf, np.nan])),
                                  min_size=1, max_size=80),
                  cuts=st.lists(st.integers(0, 80), max_size=8), seed=st.integers(0, 2**16))
def test_above_the_cap_the_exact_parts_merge_exactly(values, cuts, seed):
    from mllife.audit._dask_values import Settings

    settings = Settings(value_cap=6, top=3, distinct_sample=5, tail=4, sketch_points=8)
    cuts = [c for c in cuts if c <= len(values)]
    series, parts = _summaries(values, cuts, settings, dtype=float)
    merged = _tree(parts, np.random.default_rng(seed), settings)
    x = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
    finite = np.sort(x[np.isfinite(x)])
    if merged.over is None:  # few distinct values: the table is complete
        assert len(merged.table) == len(pd.unique(x[~np.isnan(x)]))
        return
    over = merged.over
    specials = dict(zip(over.specials.numbers().tolist(), over.specials.counts.tolist(), strict=True))
    for value in (-999.0, np.inf):
        assert specials.get(value, 0) == int((x == value).sum())
    distinct = np.unique(finite)
    assert sorted(over.low.numbers().tolist()) == sorted(distinct[:4].tolist())
    assert sorted(over.high.numbers().tolist()) == sorted(distinct[-4:].tolist())
    assert over.low.counts.tolist() == [int((x == v).sum()) for v in over.low.numbers()]
    assert over.moments.n == finite.size
    assert over.moments.mean == pytest.approx(finite.mean(), rel=1e-9, abs=1e-9)
    rest = finite[finite != -999.0]
    sketch = over.sketch
    assert sketch.n == rest.size
    for t in np.unique(rest):  # the rank error holds everywhere
        assert abs(int(sketch.weights[sketch.values <= t].sum()) - int((rest <= t).sum())) <= sketch.error


@pytest.mark.parametrize("seed", range(4))
def test_repeated_rows_beyond_the_budget_are_the_latest_dropped(monkeypatch, seed):
    from mllife.audit import _dask_values

    monkeypatch.setattr(_dask_values, "OCCURRENCE_EXTRAS", 4)
    values = list("abcabcabcabcabcabc")
    _, parts = _summaries(values, [7, 11], _dask_values.Settings())
    merged = _tree(parts, np.random.default_rng(seed), _dask_values.Settings()).table  # any tree: one result
    assert sorted(merged.occ_label.tolist()) == [100, 101, 102, 103, 104, 105, 106]  # 3 firsts, 4 earliest
    assert merged.first_rows(np.array([True, False, False])) == (100, 103, 106)
    assert merged.counts.tolist() == [6, 6, 6]
