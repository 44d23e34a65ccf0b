"""``Monitor.observe`` on a Dask frame: the same monitor as observing the computed frame.

Every test observes the same rows twice, once as a pandas batch and once as a
Dask frame (run by a real ``distributed`` cluster), and compares the two
monitors: windows, counts, pending ids, freshness states and window
contents exactly; the report (every table, finding and number) up to float
rounding, since the model scores a partition rather than the whole batch and
sums add up per partition.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.monitor.conftest import (
    DAY,
    T0,
    Fitted,
    _churn_bundle,
    _multiclass_bundle,
    _regression_bundle,
)

from mllife import InputError
from mllife.monitor import Monitor

pytestmark = pytest.mark.usefixtures("client")


@pytest.fixture(scope="module")
def churn() -> Fitted:
    return _churn_bundle()


@pytest.fixture(scope="module")
def regression() -> Fitted:
    return _regression_bundle()


@pytest.fixture(scope="module")
def multiclass() -> Fitted:
    return _multiclass_bundle()


# ---------------------------------------------------------------- helpers
def _stream(fitted: Fitted, n: int, *, minutes: int = 5, start: int = 0, tz: str | None = None,
            labels: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """``n`` production rows every ``minutes`` minutes from T0, a share ``labels`` labelled
    (the others wait for ``observe_labels``; no label column when the share is 0)."""
    frame = fitted.pool.iloc[start:start + n].reset_index(drop=True)
    times = pd.DatetimeIndex(T0 + pd.to_timedelta(np.arange(n) * minutes, unit="min"))
    frame["t"] = times.tz_localize(tz) if tz else times
    if not labels:
        return frame.drop(columns="y")
    keep = np.random.default_rng(seed).uniform(size=n) < labels
    frame["y"] = frame["y"].astype(object).where(keep, None)
    return frame


def _split(frame: pd.DataFrame, cuts: list[int]) -> Any:
    """A Dask frame whose partitions are the rows between ``cuts`` (empty ones kept)."""
    bounds = zip([0, *cuts], [*cuts, len(frame)], strict=True)
    pieces = [dask.delayed(frame.iloc[lo:hi].copy()) for lo, hi in bounds]
    return dd.from_delayed(pieces, meta=frame.iloc[:0], verify_meta=True)


def _monitor(fitted: Fitted, **kw: Any) -> Monitor:
    kw.setdefault("time_col", "t")
    return Monitor(fitted.bundle, reference=fitted.reference, label_col="y", id_col="id", **kw)


def _close(got: Any, want: Any, path: str = "") -> None:
    """Equal, numbers up to float rounding (relative 1e-9)."""
    if isinstance(want, dict):
        assert isinstance(got, dict), path
        assert list(got) == list(want), path
        for key in want:
            _close(got[key], want[key], f"{path}/{key}")
    elif isinstance(want, list | tuple):
        assert isinstance(got, list | tuple), path
        assert len(got) == len(want), path
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _close(g, w, f"{path}[{i}]")
    elif isinstance(want, float) and not isinstance(got, bool):
        assert isinstance(got, int | float), path
        assert (math.isnan(got) and math.isnan(want)) or math.isclose(
            got, want, rel_tol=1e-9, abs_tol=1e-12), f"{path}: {got!r} != {want!r}"
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


def _assert_same(got: Monitor, want: Monitor) -> None:
    """``got`` (fed Dask frames) holds what ``want`` (fed the same rows in pandas) holds."""
    assert got.windows == want.windows
    assert got.n_rows == want.n_rows
    assert got.label_counts == want.label_counts
    for key, w in want._windows.items():
        g = got._windows[key]
        assert (g.n_rows, g.n_scored, g.n_labelled, g.time_min, g.time_max) == (
            w.n_rows, w.n_scored, w.n_labelled, w.time_min, w.time_max), key
        assert g.extra.get("freshness") == w.extra.get("freshness"), key  # exact: hashes, counts
        assert g.extra.get("operations") == w.extra.get("operations"), key
        assert sorted(g.sums) == sorted(w.sums), key
        for group, sums in w.sums.items():
            assert sorted(g.sums[group]) == sorted(sums), (key, group)
            for name, value in sums.items():
                np.testing.assert_allclose(g.sums[group][name], value, rtol=1e-9, atol=1e-12)
        for which in ("inputs", "outputs"):
            gp, wp = getattr(g, which), getattr(w, which)
            assert (gp is None) == (wp is None), (key, which)
            if wp is None:
                continue
            assert gp.columns == wp.columns, (key, which)
            assert gp.n_rows == wp.n_rows, (key, which)
            for name in wp.columns:
                gc, wc = gp[name], wp[name]
                assert (gc.family, gc.dtype) == (wc.family, wc.dtype), (key, name)
                if wc.numeric is not None:
                    exact = which == "inputs"  # outputs: the model's floats on other batches
                    check = np.testing.assert_array_equal if exact else _allclose
                    check(gc.numeric.values, wc.numeric.values)
                    assert (gc.numeric.n, gc.numeric.n_missing, gc.numeric.exact) == (
                        wc.numeric.n, wc.numeric.n_missing, wc.numeric.exact), (key, name)
                else:
                    assert dict(zip(gc.categorical.labels, gc.categorical.counts.tolist(),
                                    strict=True)) == dict(zip(
                        wc.categorical.labels, wc.categorical.counts.tolist(), strict=True))
                    assert gc.categorical.n_missing == wc.categorical.n_missing
    gp, wp = got._pending, want._pending
    for name in ("ids", "keys", "labelled", "unscored"):
        np.testing.assert_array_equal(getattr(gp, name), getattr(wp, name), err_msg=name)
    _allclose(gp.prediction, wp.prediction)  # class positions, or a regressor's floats
    _allclose(gp.proba, wp.proba)
    _close(got.report().to_dict(), want.report().to_dict())


def _allclose(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------- time windows
def test_time_windows_spread_over_partitions_equal_pandas(churn, tmp_path):
    # 4 days of rows every 5 minutes: each day's rows fall in several unequal partitions,
    # with an empty and a one-row partition among them; a third of the rows labelled
    stream = _stream(churn, 1100, labels=0.3)
    cuts = [1, 1, 170, 171, 500, 777, 1000]
    ddf = _split(stream, cuts)
    got = _monitor(churn).observe(ddf)
    want = _monitor(churn).observe(ddf.compute())
    assert len(want.windows) == 4
    assert got.label_counts["batches"] == 1
    _assert_same(got, want)
    # late labels join the same waiting rows (their window and outputs)
    labels = churn.pool.loc[:799, ["id", "y"]]
    _assert_same(got.observe_labels(labels), want.observe_labels(labels))
    assert got.report().windows["n_labelled"].sum() > 0
    # the state saves and loads like any monitor's
    again = Monitor.load(got.save(tmp_path / "monitor.json"), churn.bundle)
    _assert_same(again, want)


def test_a_window_above_the_exact_size_is_within_the_sketch_bound(churn):
    from mllife.monitor._reference import WINDOW_SKETCH_SIZE

    stream = _stream(churn, 3000, minutes=0)  # one window of 3,000 rows: sketched columns
    ddf = dd.from_pandas(stream, npartitions=7, sort=False)
    got = _monitor(churn).observe(ddf)
    want = _monitor(churn).observe(ddf.compute())
    assert got.label_counts == want.label_counts
    assert got._windows.keys() == want._windows.keys()
    g, w = got.report().columns, want.report().columns
    pd.testing.assert_frame_equal(g[["column", "role", "method"]], w[["column", "role", "method"]])
    ks = (w["method"] == "ks").to_numpy()
    assert ks.sum() >= 5
    (g_state,), (w_state,) = got._windows.values(), want._windows.values()
    for i in np.flatnonzero(ks):
        name, which = w["column"].iloc[i], w["role"].iloc[i] + "s"  # inputs or outputs
        g_sketch = getattr(g_state, which)[name].numeric
        w_sketch = getattr(w_state, which)[name].numeric
        assert not g_sketch.exact  # 3,000 values: a sketch, in both
        assert not w_sketch.exact
        # each level of merges adds at most 1/K to the stated rank error: 7 partitions are
        # merged in a balanced tree of 3 levels (a chain of 6 merges would reach 6.5/K)
        assert 0 < g_sketch.rank_error <= (0.5 + 3) / WINDOW_SKETCH_SIZE
        # both sketches are within their stated rank error of the rows' CDF, and each
        # point is expanded to whole rows (1/n each): the KS statistics agree within that
        bound = g_sketch.rank_error + w_sketch.rank_error + 2 / len(stream)
        assert abs(g["statistic"].iloc[i] - w["statistic"].iloc[i]) <= bound, name
    exact = ~ks & w["statistic"].notna().to_numpy()  # category counts: exact
    assert exact.sum() >= 3
    np.testing.assert_allclose(g["statistic"][exact], w["statistic"][exact], rtol=1e-9)


def test_rows_of_earlier_windows_count_late_and_a_replayed_frame_repeats(churn):
    stream = _stream(churn, 900, minutes=4)
    ddf = dd.from_pandas(stream, npartitions=5, sort=False)
    later = _stream(churn, 200, minutes=4, start=900).assign(
        t=lambda f: f["t"] + 3 * DAY)
    got = _monitor(churn).observe(later).observe(ddf).observe(ddf)
    rows = ddf.compute()
    want = _monitor(churn).observe(later).observe(rows).observe(rows)
    _assert_same(got, want)
    report = got.report()
    assert report.windows["late_rows"].sum() == 2 * len(stream)
    assert got.label_counts["repeated_ids"] == len(stream)  # the replay's ids were waiting
    statistics = report.signals.loc[report.signals["alarm"], "statistic"].tolist()
    assert "repeated_batches" in statistics  # the replayed frame's window slices


def test_hostile_columns_timezones_and_schema_breaking_rows(churn):
    stream = _stream(churn, 700, minutes=6, tz="Europe/Paris", labels=0.5)
    rng = np.random.default_rng(5)
    bad = rng.choice(len(stream), size=40, replace=False)
    stream["region"] = stream["region"].astype(object)
    stream.loc[bad[:15], "region"] = "Atlantis"  # unseen category
    stream.loc[bad[15:25], "age"] = np.nan  # missing where training had none
    charges = stream["monthly_charges"].astype(object)
    charges.iloc[bad[25:]] = "n/a"  # text in a numeric column
    stream["monthly_charges"] = charges
    stream["plan"] = stream["plan"].astype("category")
    stream["note"] = pd.Series([1, "a", None, 2.5, True] * 140, dtype=object)  # new, mixed
    stream["empty"] = pd.Series([None] * len(stream), dtype=object)  # new, all missing
    cuts = [0, 90, 91, 350, 351, 352, 600]
    ddf = _split(stream, cuts)
    got = _monitor(churn).observe(ddf)
    want = _monitor(churn).observe(ddf.compute())
    _assert_same(got, want)
    quality = got.report().signals.query("signal == 'data_quality' and alarm")
    assert not quality.empty  # the broken rows are found, as in pandas
    assert sum(w.n_scored for w in want._windows.values()) < len(stream)  # broken: unscored


def test_ids_repeated_across_partitions_wait_once_and_a_label_anywhere_wins(churn):
    stream = _stream(churn, 600, minutes=6, labels=0.5, seed=3)
    # rows 400-599 repeat the ids of rows 0-199 (labelled or not, in other partitions)
    stream.loc[400:, "id"] = stream.loc[:199, "id"].to_numpy()
    ddf = _split(stream, [150, 150, 320, 450, 451])
    got = _monitor(churn).observe(ddf)
    want = _monitor(churn).observe(ddf.compute())
    _assert_same(got, want)
    assert got.label_counts["repeated_ids"] > 0
    labels = churn.pool.loc[:599, ["id", "y"]]
    _assert_same(got.observe_labels(labels), want.observe_labels(labels))
    assert got.label_counts["repeated_labels"] > 0


def test_dask_then_pandas_then_dask_mix(churn):
    first, second, third = (_stream(churn, 300, start=s, minutes=7).assign(
        t=lambda f, d=d: f["t"] + d * DAY) for s, d in ((0, 0), (300, 1), (600, 1)))
    ddf1 = dd.from_pandas(first, npartitions=3, sort=False)
    ddf3 = dd.from_pandas(third, npartitions=4, sort=False)
    got = _monitor(churn).observe(ddf1).observe(second).observe(ddf3)
    want = _monitor(churn).observe(ddf1.compute()).observe(second).observe(ddf3.compute())
    _assert_same(got, want)
    assert got.label_counts["batches"] == 3


# ---------------------------------------------------------------- row windows
@settings(max_examples=4, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(0, 500), max_size=9).map(sorted))
def test_row_windows_follow_arrival_order_across_partitions(churn, cuts):
    stream = _stream(churn, 500, minutes=3, labels=0.2)
    head = _stream(churn, 61, minutes=3, start=600)  # a pandas batch first: an offset of 61
    ddf = _split(stream, cuts)
    got = _monitor(churn, rows=97).observe(head).observe(ddf)
    want = _monitor(churn, rows=97).observe(head).observe(ddf.compute())
    _assert_same(got, want)


def test_row_windows_without_time_and_64_partitions(churn):
    stream = _stream(churn, 640, labels=0.4).drop(columns="t")
    monitor = Monitor(churn.bundle, reference=churn.reference, rows=150, label_col="y",
                      id_col="id")
    ddf = dd.from_pandas(stream, npartitions=64, sort=False)
    got = monitor.observe(ddf)
    want = Monitor(churn.bundle, reference=churn.reference, rows=150, label_col="y",
                   id_col="id").observe(ddf.compute())
    assert len(want.windows) == 5
    _assert_same(got, want)


# ---------------------------------------------------------------- other bundles, Parquet
@pytest.mark.parametrize("which", ["regression", "multiclass"])
def test_a_regressor_and_a_multiclass_classifier(which, request):
    fitted = request.getfixturevalue(which)
    stream = _stream(fitted, 1200, minutes=3, labels=0.5)
    ddf = dd.from_pandas(stream, npartitions=9, sort=False)
    got = _monitor(fitted).observe(ddf)
    want = _monitor(fitted).observe(ddf.compute())
    _assert_same(got, want)
    labels = fitted.pool.loc[:1199, ["id", "y"]]
    _assert_same(got.observe_labels(labels), want.observe_labels(labels))


def test_a_parquet_dataset_by_its_path(churn, tmp_path):
    stream = _stream(churn, 600, minutes=9)
    for i, lo in enumerate(range(0, 600, 250)):
        stream.iloc[lo:lo + 250].to_parquet(tmp_path / f"part-{i}.parquet")
    got = _monitor(churn).observe(str(tmp_path / "*.parquet"))
    want = _monitor(churn).observe(dd.read_parquet(str(tmp_path / "*.parquet")).compute())
    _assert_same(got, want)


# ---------------------------------------------------------------- refusals, warnings
def test_refusals_are_those_of_pandas_and_leave_the_monitor_unchanged(churn, monkeypatch):
    from mllife.monitor import _state

    stream = _stream(churn, 400, minutes=15)  # 5 days
    monitor = _monitor(churn)
    with pytest.raises(InputError, match="no time column"):
        monitor.observe(dd.from_pandas(stream.drop(columns="t"), npartitions=3))
    # every partition alone stays within the limit; the frame does not
    monkeypatch.setattr(_state, "MAX_WINDOWS", 3)
    with pytest.raises(InputError, match=r"would make 5 windows"):
        monitor.observe(dd.from_pandas(stream, npartitions=5, sort=False))
    with pytest.raises(InputError, match=r"would make 5 windows"):
        _monitor(churn).observe(stream)
    assert monitor.windows == []
    assert monitor.label_counts["batches"] == 0
    monkeypatch.undo()
    monitor.observe(_split(stream.iloc[:0], [0, 0]))  # only empty partitions: nothing
    assert monitor.windows == []
    assert monitor.label_counts["batches"] == 0
    assert repr(monitor) == repr(_monitor(churn).observe(stream.iloc[:0]))


class _Chatty:
    """A classifier wrapper that warns each time it scores (as some models do)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.classes_ = model.classes_

    def predict(self, X: Any) -> Any:
        return self.model.predict(X)

    def predict_proba(self, X: Any) -> Any:
        warnings.warn("scored with a chatty model", UserWarning, stacklevel=2)
        return self.model.predict_proba(X)


def test_warnings_raised_on_workers_reach_the_caller_once(churn):
    from mllife.bundle import ModelBundle

    bundle = ModelBundle(_Chatty(churn.bundle.model), churn.bundle.schema, version="chatty",
                         drift_profile=churn.bundle.drift_profile)
    with pytest.warns(UserWarning, match="chatty"):
        monitor = Monitor(bundle, reference=churn.reference, time_col="t")
    stream = _stream(churn, 300)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        monitor.observe(dd.from_pandas(stream, npartitions=6, sort=False))
    chatty = [w for w in caught if "chatty" in str(w.message)]
    assert len(chatty) == 1
    assert chatty[0].category is UserWarning
    assert chatty[0].filename == __file__  # shown at the caller's line
    assert monitor.n_rows == 300


class _Fragile(_Chatty):
    """A classifier wrapper that fails on any batch holding a customer older than 90."""

    def predict_proba(self, X: Any) -> Any:
        if (X["age"] > 90).any():
            raise ValueError("age out of the model's range")
        return self.model.predict_proba(X)


def test_a_model_failing_on_one_partition_leaves_only_its_rows_unscored(churn):
    from mllife.bundle import ModelBundle

    bundle = ModelBundle(_Fragile(churn.bundle.model), churn.bundle.schema, version="fragile",
                         drift_profile=churn.bundle.drift_profile)
    stream = _stream(churn, 400)
    stream["age"] = stream["age"].clip(upper=80)
    stream.loc[[130], "age"] = 95  # in the second of four partitions of 100 rows
    ddf = dd.from_pandas(stream, npartitions=4, sort=False)
    got = Monitor(bundle, reference=churn.reference, time_col="t").observe(ddf)
    want = Monitor(bundle, reference=churn.reference, time_col="t").observe(ddf.compute())
    assert want.label_counts["model_failed_rows"] == 400  # the pandas batch: every row
    assert got.label_counts["model_failed_rows"] == 100  # here: that partition's rows
    assert sum(w.n_scored for w in got._windows.values()) == 300
    assert got.n_rows == want.n_rows == 400


def test_a_frame_whose_partitions_change_between_reads_is_refused(churn, tmp_path):
    stream = _stream(churn, 200)
    counter = tmp_path / "reads"  # on disk: the cluster runs a copy of the function
    counter.write_text("0")

    def piece(i: int) -> pd.DataFrame:
        reads = int(counter.read_text())
        counter.write_text(str(reads + 1))
        return stream.iloc[: 50 + reads]  # one more row every time it is read

    changing = dd.from_map(piece, [0], meta=stream.iloc[:0], enforce_metadata=False)
    monitor = _monitor(churn, rows=40)
    with pytest.raises(InputError, match="partition 0 of the batch had 50 rows"):
        monitor.observe(changing)
    assert monitor.windows == []


# ---------------------------------------------------------------- worker processes
def test_two_worker_processes_give_the_same_monitor(churn):
    import distributed

    stream = _stream(churn, 600, minutes=8, labels=0.25)
    ddf = dd.from_pandas(stream, npartitions=6, sort=False)
    want = _monitor(churn).observe(ddf.compute())
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster, set_as_default=False) as processes, \
            dask.config.set(scheduler=processes):
        got = _monitor(churn).observe(ddf)
    _assert_same(got, want)
