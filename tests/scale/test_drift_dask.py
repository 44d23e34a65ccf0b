"""DriftProfile.fit, drift_report and DriftProfile.compare on Dask frames and Parquet paths.

Every result is compared with the pandas call on the same data (``ddf.compute()``):
exact for counts, missing and inf counts, category tables, exact values, their
moments and histograms, and column kinds; within the stated rank error for
sketched quantiles. The graphs run on the real distributed scheduler (the
``client`` fixture), two tests on worker processes (one of them killed).
"""

from __future__ import annotations

import itertools
import math
import os
import pickle
import signal
import threading
import time

import dask
import dask.dataframe as dd
import distributed
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.tracking._recording import RecordingTracker

from mllife import InputError
from mllife.drift import DriftProfile, DriftReport, drift_report
from mllife.drift._kernels import to_float
from mllife.drift._profile import fit_profile
from mllife.scale import progress


# ---- data ------------------------------------------------------------------------------------
def _hostile(n: int, seed: int = 0) -> pd.DataFrame:
    """Realistic and hostile columns: numbers with NaN/inf, ids, a counter, text, categories, tz datetimes..."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    x[::11] = np.nan
    x[5::97] = np.inf
    x[7::89] = -np.inf
    mixed = pd.Series([1, "1", 2.5, None, "b", True] * (n // 6 + 1), dtype=object).iloc[:n].to_numpy()
    return pd.DataFrame({
        "x": x,
        "zero": np.where(rng.random(n) < 0.5, 0.0, -0.0),  # -0.0 and 0.0: one number
        "counts": rng.poisson(3, n),
        "customer_id": rng.permutation(n) + 1000,
        "order_no": np.arange(n),
        "code": pd.Series([f"C-{i:06d}" for i in rng.permutation(n)], dtype=object),
        "plan": pd.Series(rng.choice(["basic", "pro", "N/A", None], n), dtype=object),
        "tier": pd.Categorical(rng.choice(["gold", "silver", "bronze"], n), categories=["gold", "silver", "bronze",
                                                                                        "unused"]),
        "when": pd.Timestamp("2024-03-01", tz="Europe/Paris") + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s"),
        "wait": pd.to_timedelta(rng.integers(0, 10**6, n), unit="ms"),
        "flag": rng.random(n) < 0.2,
        "nullable": pd.array(np.where(rng.random(n) < 0.1, None, rng.integers(0, 50, n)), dtype="Int64"),
        "mixed": mixed,
        "empty": np.full(n, np.nan),
        "text": pd.Series(rng.choice(["yes", "no", "maybe"], n), dtype="string"),
    })


def _assert_same_profile(got: DriftProfile, want: DriftProfile) -> None:
    """Equal to_dict, column by column (the failing column named)."""
    a, b = got.to_dict(), want.to_dict()
    assert [c["name"] for c in a["columns"]] == [c["name"] for c in b["columns"]]
    for ca, cb in zip(a["columns"], b["columns"], strict=True):
        assert ca == cb, ca["name"]
    assert a == b


def _unequal(frame: pd.DataFrame, cuts: list[int]) -> dd.DataFrame:
    """A Dask frame whose partitions are frame[cuts[i]:cuts[i+1]] (empty ones allowed)."""
    parts = [frame.iloc[a:b] for a, b in itertools.pairwise(cuts)]
    return dd.from_delayed([dask.delayed(p) for p in parts], meta=frame.iloc[:0], verify_meta=False)


# ---- DriftProfile.fit --------------------------------------------------------------------------
@pytest.mark.parametrize("npartitions", [1, 7, 16])
def test_fit_equals_pandas_exactly(client, npartitions):
    frame = _hostile(900)
    ddf = dd.from_pandas(frame, npartitions=npartitions, sort=False)
    got = DriftProfile.fit(ddf)
    _assert_same_profile(got, DriftProfile.fit(ddf.compute()))
    assert got["customer_id"].column_kind.kind == "identifier"
    assert got["order_no"].column_kind.kind == "identifier"
    assert got["code"].column_kind.kind == "identifier"
    assert got["x"].numeric.exact
    assert got["x"].numeric.n_posinf > 0
    assert got["empty"].numeric.n == 0
    assert got["empty"].numeric.n_missing == 900


def test_unequal_empty_and_one_row_partitions(client):
    frame = _hostile(400, seed=3)
    ddf = _unequal(frame, [0, 0, 1, 1, 150, 151, 151, 399, 400])
    assert ddf.npartitions == 8
    got = DriftProfile.fit(ddf, exact_size=300, sketch_size=64, n_bins=5)
    want = DriftProfile.fit(ddf.compute(), exact_size=300, sketch_size=64, n_bins=5)
    for name in frame.columns:
        a, b = got[name], want[name]
        assert (a.family, a.dtype, a.column_kind) == (b.family, b.dtype, b.column_kind), name
        if b.categorical is not None:
            assert a.categorical.to_dict() == b.categorical.to_dict(), name
        elif b.numeric.exact:
            assert a.numeric.to_dict() == b.numeric.to_dict(), name
        else:
            _assert_within_bound(a.numeric, b.numeric, frame[name])
    assert got.n_rows == 400


def test_an_all_empty_frame_and_bad_arguments_are_input_errors(client):
    frame = _hostile(60)
    ddf = dd.from_pandas(frame, npartitions=3)
    with pytest.raises(InputError, match="'nope' not found"):
        DriftProfile.fit(ddf, columns=["x", "nope"])
    with pytest.raises(InputError, match="sketch_size"):
        DriftProfile.fit(ddf, sketch_size=3)
    with pytest.raises(InputError, match="reference has no rows"):
        DriftProfile.fit(_unequal(frame, [0, 0, 0]))
    with pytest.raises(InputError, match="current has no rows"):
        DriftProfile.fit(frame).compare(_unequal(frame, [0, 0]))
    with pytest.raises(InputError, match="'mixed' holds complex128"):  # not numbers to compare: refused
        DriftProfile.fit(dd.from_pandas(pd.DataFrame({"mixed": np.arange(4) * 1j}), npartitions=2))


def test_columns_keep_the_requested_order(client):
    frame = _hostile(100)
    got = DriftProfile.fit(dd.from_pandas(frame, npartitions=3), columns=["when", "x"])
    assert got.columns == ["when", "x"]
    _assert_same_profile(got, DriftProfile.fit(frame, columns=["when", "x"]))


# ---- kinds on more rows than the detector reads ---------------------------------------------
def _kinds_frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    rare = np.zeros(n)
    rare[rng.choice(n, 3, replace=False)] = 1.0  # constant in the detector's sample, not in the column
    day = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    day = pd.Series(day)
    day.iloc[rng.choice(n, 2, replace=False)] += pd.Timedelta("10h")  # a time of day in 2 rows
    repeated = rng.permutation(n)
    repeated[:200] = repeated[200:400]  # ids that repeat: 99% distinct... below the 95% rule? no: a repeat
    flag = np.zeros(n, dtype=bool)
    flag[rng.choice(n, 2, replace=False)] = True
    return pd.DataFrame({
        "order_no": np.arange(n) * 2 + 7,  # a counter: monotone, so its distinct count merges
        "account": rng.permutation(n) + 10**6,  # shuffled ids: counted by Dask (more values than exact_size)
        "account_dup": np.concatenate([repeated[: n // 2], repeated[: n - n // 2]]),  # half repeated
        "code": pd.Series([f"K{i:07d}" for i in rng.permutation(n)], dtype=object),
        "rare": rare,
        "day": day,
        "flag": flag,
        "tier": pd.Categorical(np.where(np.arange(n) == n // 3, "b", "a")),
        "never": np.full(n, np.nan),
    })


def test_kinds_agree_with_pandas_beyond_the_detectors_sample(client):
    n = 24_000  # above the detector's 20,000 rows: the sample's verdicts are confirmed on all rows
    frame = _kinds_frame(n)
    ddf = _unequal(frame, [0, 3_000, 3_000, 11_000, 11_001, 20_500, n])
    got = DriftProfile.fit(ddf, exact_size=5_000, sketch_size=256)
    want = DriftProfile.fit(ddf.compute(), exact_size=5_000, sketch_size=256)
    for name in frame.columns:
        assert got[name].column_kind == want[name].column_kind, name
    kinds = {name: got[name].column_kind.kind for name in frame.columns}
    assert kinds["order_no"] == kinds["account"] == kinds["code"] == "identifier"
    assert kinds["account_dup"] == "numeric"
    assert kinds["rare"] == "numeric"
    assert "2 distinct values" in got["rare"].column_kind.reason
    assert kinds["day"] == "datetime"
    assert kinds["flag"] == "boolean"
    assert kinds["tier"] == "categorical"
    assert kinds["never"] == "empty"


def test_kinds_of_python_objects_are_the_samples_verdict_and_say_so(client):
    n = 21_000
    ids = pd.Series(list(np.random.default_rng(6).permutation(n) + 5), dtype=object)  # Python ints
    frame = pd.DataFrame({"obj_ids": ids, "words": pd.Series(["a", "b"] * (n // 2), dtype=object)})
    with dask.config.set({"dataframe.convert-string": False}):  # keep the objects (Dask makes text strings)
        ddf = dd.from_pandas(frame, npartitions=3)
        got = DriftProfile.fit(ddf)
        want = DriftProfile.fit(ddf.compute())
    assert got["obj_ids"].column_kind.kind == want["obj_ids"].column_kind.kind == "identifier"
    assert "decided on a sample of 20,000 of 21,000 rows" in got["obj_ids"].column_kind.reason
    assert got["words"].column_kind == want["words"].column_kind  # strings are confirmed on every row


# ---- sketched columns ---------------------------------------------------------------------------
def _assert_within_bound(sketch, exact_summary, column: pd.Series) -> None:
    """Counts exact, moments float-close, and the sketch's CDF within its stated rank error of the data's."""
    for field in ("n", "n_missing", "n_posinf", "n_neginf"):
        assert getattr(sketch, field) == getattr(exact_summary, field), field
    assert sketch.mean == pytest.approx(exact_summary.mean, rel=1e-9, abs=1e-9)
    assert sketch.m2 == pytest.approx(exact_summary.m2, rel=1e-9, abs=1e-9)
    data = np.sort(to_float(column))  # datetimes as seconds, as the profile reads them
    data = data[np.isfinite(data)]
    grid = np.unique(np.concatenate([data, sketch.values]))
    true_cdf = np.searchsorted(data, grid, side="right") / data.size
    weights = sketch.weights if sketch.weights is not None else np.ones(sketch.values.size)
    cum = np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
    sketch_cdf = cum[np.searchsorted(sketch.values, grid, side="right")]
    assert np.max(np.abs(true_cdf - sketch_cdf)) <= sketch.rank_error + 1e-12


@pytest.mark.parametrize("npartitions", [3, 64])
def test_sketched_quantiles_are_within_the_stated_rank_error(client, npartitions):
    rng = np.random.default_rng(11)
    n = 30_000
    frame = pd.DataFrame({"x": rng.lognormal(size=n), "k": rng.integers(0, 40, n), "c": rng.choice(list("abc"), n)})
    frame.loc[::13, "x"] = np.nan
    ddf = dd.from_pandas(frame, npartitions=npartitions)
    got = DriftProfile.fit(ddf, exact_size=1_000, sketch_size=256)
    want = DriftProfile.fit(frame, exact_size=1_000, sketch_size=256)
    for name in ("x", "k"):
        sketch = got[name].numeric
        assert not sketch.exact
        levels = math.ceil(math.log(npartitions, 8)) if npartitions > 1 else 0
        assert sketch.rank_error <= (0.5 + levels) / 256 + 1e-15  # stated: 1/(2K) plus 1/K per tree level
        _assert_within_bound(sketch, want[name].numeric, frame[name])
    assert got["c"].categorical.to_dict() == want["c"].categorical.to_dict()
    assert got["x"].column_kind == want["x"].column_kind


# ---- merge: associative and commutative ----------------------------------------------------------
_FLOATS = st.one_of(st.floats(-1e6, 1e6, allow_nan=False, width=64), st.sampled_from([0.0, -0.0, math.nan, math.inf]))
_ROWS = st.lists(st.tuples(_FLOATS, st.sampled_from(["a", "b", "c", "N/A", None]), st.integers(-3, 3)),
                 min_size=64, max_size=160)


def _random_merge(profiles: list[DriftProfile], rng: np.random.Generator) -> DriftProfile:
    """Merge in a random order and a random tree (any adjacent pair, either side first)."""
    pool = [profiles[i] for i in rng.permutation(len(profiles))]
    while len(pool) > 1:
        i = int(rng.integers(0, len(pool) - 1))
        a, b = pool[i], pool[i + 1]
        pool[i:i + 2] = [a.merge(b) if rng.random() < 0.5 else b.merge(a)]
    return pool[0]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_ROWS, seed=st.integers(0, 2**32 - 1))
def test_profiles_of_1_7_or_64_parts_merged_in_any_order_are_identical(rows, seed):
    frame = pd.DataFrame(rows, columns=["x", "c", "i"])
    frame["c"] = frame["c"].astype(object)
    rng = np.random.default_rng(seed)
    whole = fit_profile(frame, with_kinds=False).to_dict()
    for k in (7, 64):
        cuts = np.sort(rng.choice(np.arange(1, len(frame)), size=k - 1, replace=False))
        bounds = [0, *cuts.tolist(), len(frame)]
        parts = [fit_profile(frame.iloc[a:b], with_kinds=False) for a, b in itertools.pairwise(bounds)]
        assert _random_merge(parts, rng).to_dict() == whole
        assert _random_merge(parts, rng).to_dict() == whole


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_ROWS)
def test_dask_profiles_of_1_7_or_64_partitions_are_identical(client, rows):
    frame = pd.DataFrame(rows, columns=["x", "c", "i"])
    frame["c"] = frame["c"].astype(object)
    want = DriftProfile.fit(dd.from_pandas(frame, npartitions=1).compute()).to_dict()  # Dask's dtypes (strings)
    for k in (1, 7, 64):
        assert DriftProfile.fit(dd.from_pandas(frame, npartitions=k, sort=False)).to_dict() == want


def test_merged_identifiers_do_not_depend_on_the_order():
    rng = np.random.default_rng(2)
    a = pd.DataFrame({"customer_id": rng.permutation(100), "seq": np.arange(100)})
    b = pd.DataFrame({"customer_id": rng.permutation(100) + 100, "seq": np.arange(100, 200)})
    ab, ba = DriftProfile.fit(a).merge(DriftProfile.fit(b)), DriftProfile.fit(b).merge(DriftProfile.fit(a))
    assert ab.to_dict() == ba.to_dict()
    assert ab["seq"].column_kind.reason.count("(in both merged profiles)") == 1
    again = ab.merge(DriftProfile.fit(a.assign(customer_id=a["customer_id"] + 500, seq=a["seq"] + 500)))
    assert again["seq"].column_kind.reason.count("(in both merged profiles)") == 1


# ---- Parquet --------------------------------------------------------------------------------------
def test_parquet_file_glob_and_folder(client, tmp_path):
    frame = _hostile(300).drop(columns=["mixed"])  # Parquet needs one type per column
    for i, (a, b) in enumerate([(0, 100), (100, 250), (250, 300)]):
        frame.iloc[a:b].to_parquet(tmp_path / f"part-{i}.parquet")
    (tmp_path / "notes.txt").write_text("not data")
    computed = dd.read_parquet(str(tmp_path / "*.parquet")).compute()
    want = DriftProfile.fit(computed)
    _assert_same_profile(DriftProfile.fit(str(tmp_path / "*.parquet")), want)
    _assert_same_profile(DriftProfile.fit(tmp_path), want)
    one = DriftProfile.fit(tmp_path / "part-1.parquet")
    _assert_same_profile(one, DriftProfile.fit(dd.read_parquet(tmp_path / "part-1.parquet").compute()))
    assert one.n_rows == 150
    report = drift_report(str(tmp_path / "part-0.parquet"), tmp_path / "part-2.parquet")
    pd.testing.assert_frame_equal(report.table, drift_report(
        dd.read_parquet(tmp_path / "part-0.parquet").compute(),
        dd.read_parquet(tmp_path / "part-2.parquet").compute()).table)


def test_a_bad_parquet_path_is_an_input_error(client, tmp_path):
    with pytest.raises(InputError, match="nowhere"):
        DriftProfile.fit(str(tmp_path / "nowhere" / "*.parquet"))
    bogus = tmp_path / "bogus.parquet"
    bogus.write_text("this is text, not Parquet")
    with pytest.raises(InputError, match=r"bogus\.parquet.*Parquet"):
        DriftProfile.fit(bogus)
    with pytest.raises(InputError, match="bogus"):
        drift_report(pd.DataFrame({"x": [1.0]}), bogus)


# ---- drift_report and compare ----------------------------------------------------------------------
def _pair(n_ref: int = 2_000, n_cur: int = 1_500) -> tuple[pd.DataFrame, pd.DataFrame]:
    ref, cur = _hostile(n_ref, seed=1), _hostile(n_cur, seed=2)
    cur["x"] = cur["x"] + 0.3  # drift planted in x
    cur["plan"] = cur["plan"].where(np.arange(n_cur) % 3 > 0, "enterprise")  # and a new category
    return ref.drop(columns=["mixed"]), cur.drop(columns=["mixed"])


@pytest.mark.parametrize("side", ["reference", "current", "both"])
def test_drift_report_with_a_dask_side_equals_pandas(client, side):
    ref, cur = _pair()
    want = drift_report(ref, cur, random_state=3)
    a = dd.from_pandas(ref, npartitions=5) if side in ("reference", "both") else ref
    b = _unequal(cur, [0, 0, 700, 701, 1_500]) if side in ("current", "both") else cur
    got = drift_report(a, b, random_state=3)
    pd.testing.assert_frame_equal(got.table, want.table)
    assert got.drifted_columns == want.drifted_columns
    assert {"x", "plan"} <= set(want.drifted_columns)
    assert set(want.table.loc[want.table["status"].str.startswith("identifier"), "column"]) == {
        "customer_id", "order_no", "code"}
    notes = " ".join(got.to_dict()["notes"])
    stated = got.settings["approximation"]
    assert [s["side"] for s in stated] == (["reference", "current"] if side == "both" else [side])
    assert "computed with Dask" in notes
    assert "the report equals the in-memory one" in notes
    again = DriftReport.from_dict(got.to_dict())
    assert again.to_dict() == got.to_dict()
    assert pickle.loads(pickle.dumps(got)).to_dict() == got.to_dict()
    assert "computed with Dask" in got.to_html()


def test_drift_report_on_sketched_dask_data_states_the_bound(client, monkeypatch):
    from mllife.drift import _dask as drift_dask

    monkeypatch.setattr(drift_dask, "REPORT_EXACT_SIZE", 500)
    monkeypatch.setattr(drift_dask, "REPORT_SKETCH_SIZE", 128)
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"x": rng.normal(size=4_000), "c": rng.choice(list("abc"), 4_000)})
    cur = pd.DataFrame({"x": rng.normal(0.5, size=3_000), "c": rng.choice(list("abc"), 3_000)})
    want = drift_report(ref, cur)
    got = drift_report(dd.from_pandas(ref, npartitions=9), dd.from_pandas(cur, npartitions=4))
    stated = got.settings["approximation"]
    assert list(stated[0]["sketched_columns"]) == list(stated[1]["sketched_columns"]) == ["x"]
    bound = stated[0]["max_rank_error"] + stated[1]["max_rank_error"]
    w, g = want.table.set_index("column"), got.table.set_index("column")
    # x: KS on the sketches within both rank errors of the exact KS, drift found on both
    assert abs(g.loc["x", "statistic"] - w.loc["x", "statistic"]) <= bound + 1e-12
    assert g.loc["x", "drifted"]
    assert w.loc["x", "drifted"]
    assert "sketched reference" in g.loc["x", "note"]
    pd.testing.assert_series_equal(g.loc["c"], w.loc["c"])  # categories are exact
    notes = " ".join(got.to_dict()["notes"])
    assert "quantile sketches" in notes
    assert "weight in rows" in notes
    assert "(x)" in notes


def test_profile_compare_with_a_dask_current_equals_pandas(client):
    ref, cur = _pair(1_200, 900)
    profile = DriftProfile.fit(ref)
    want = profile.compare(cur, columns=["x", "plan", "when", "tier"])
    got = profile.compare(dd.from_pandas(cur, npartitions=4), columns=["x", "plan", "when", "tier"])
    pd.testing.assert_frame_equal(got.table, want.table)
    assert got.n_current == 900
    assert got.settings["approximation"][0]["side"] == "current"
    dask_profile = DriftProfile.fit(dd.from_pandas(ref, npartitions=3))
    pd.testing.assert_frame_equal(dask_profile.compare(cur).table, profile.compare(cur).table)


def test_drift_report_hostile_sides(client):
    ref, cur = _pair(600, 400)
    cur = cur.drop(columns=["tier"]).assign(counts=cur["counts"].astype(str), new=1.0)  # gone, changed, new
    a, b = dd.from_pandas(ref, npartitions=2), dd.from_pandas(cur, npartitions=3)
    want = drift_report(a.compute(), b.compute())  # Dask stores text as strings: compared on its dtypes
    got = drift_report(a, b)
    pd.testing.assert_frame_equal(got.table, want.table)
    statuses = want.table.set_index("column")["status"]
    assert statuses["tier"] == "column missing from current"
    assert statuses["new"].startswith("new column")
    with pytest.raises(InputError, match=r"multivariate=True.*Dask"):
        drift_report(dd.from_pandas(ref, npartitions=2), cur, multivariate=True)
    with pytest.raises(InputError, match="'nope'"):
        drift_report(ref, dd.from_pandas(cur, npartitions=2), columns=["x", "nope"])
    with pytest.raises(InputError, match="alpha"):
        drift_report(dd.from_pandas(ref, npartitions=2), cur, alpha=2.0)


def test_tracker_keeps_working_with_dask_sides(client):
    ref, cur = _pair(300, 300)
    tracker = RecordingTracker()
    report = drift_report(dd.from_pandas(ref, npartitions=2), dd.from_pandas(cur, npartitions=2), tracker=tracker)
    (run,) = tracker.runs.values()
    assert run.params["n_reference_rows"] == "300"
    assert run.params["n_current_rows"] == "300"
    assert run.last_metrics()["drift_share"] == pytest.approx(report.drift_share)


# ---- progress ----------------------------------------------------------------------------------------
def test_progress_bar_with_the_client(client, capsys):
    ddf = dd.from_pandas(_hostile(200), npartitions=4)
    with progress():
        DriftProfile.fit(ddf)
    assert "100% Completed" in capsys.readouterr().out
    DriftProfile.fit(ddf)
    assert "Completed" not in capsys.readouterr().out


def test_progress_bar_with_the_local_scheduler(client, capsys, monkeypatch):
    from mllife import _dask

    monkeypatch.setattr(_dask, "_current_client", lambda: None)  # as if no client were running
    ddf = dd.from_pandas(_hostile(200), npartitions=4)
    with dask.config.set(scheduler="threads"), progress():
        got = DriftProfile.fit(ddf)
    assert "100% Completed" in capsys.readouterr().out
    _assert_same_profile(got, DriftProfile.fit(ddf.compute()))


# ---- worker processes --------------------------------------------------------------------------------
def _slow_part(i: int, delay: float) -> pd.DataFrame:
    """A partition that takes ``delay`` seconds to make (so a worker can be killed while it works)."""
    time.sleep(delay)
    return _hostile(400, seed=100 + i).drop(columns=["mixed"])


@pytest.fixture
def process_cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  worker_dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        yield c


def test_two_worker_processes_give_the_pandas_result(process_cluster):
    frame = _hostile(3_000, seed=9).drop(columns=["mixed"])
    ddf = _unequal(frame, [0, 100, 100, 1_700, 3_000])
    _assert_same_profile(DriftProfile.fit(ddf), DriftProfile.fit(ddf.compute()))
    cur = _hostile(1_000, seed=10).drop(columns=["mixed"])
    got = drift_report(ddf, dd.from_pandas(cur, npartitions=3))
    want = drift_report(ddf.compute(), dd.from_pandas(cur, npartitions=1).compute())
    pd.testing.assert_frame_equal(got.table, want.table)


def test_a_worker_killed_mid_computation_still_gives_the_pandas_result(process_cluster):
    client = process_cluster
    ddf = dd.from_map(_slow_part, range(8), delay=0.3)
    want = DriftProfile.fit(dd.from_map(_slow_part, range(8), delay=0.0).compute())
    pids = client.run(os.getpid)
    result: dict[str, object] = {}
    worker = threading.Thread(target=lambda: result.setdefault("profile", DriftProfile.fit(ddf)))
    worker.start()
    victim, deadline = None, time.monotonic() + 30
    while victim is None and time.monotonic() < deadline:  # a leaf (the profiling pass) running somewhere
        busy = [w for w, keys in client.processing().items() if any("_leaf" in str(k) for k in keys)]
        victim = busy[0] if busy else None
        time.sleep(0.01)
    assert victim is not None, "the profiling pass never started"
    os.kill(pids[victim], signal.SIGKILL)
    worker.join(60)
    assert not worker.is_alive()
    _assert_same_profile(result["profile"], want)  # type: ignore[arg-type]
