"""Monitor state: JSON save/load (validated, hostile files refused), merge, and the
property that per-window results do not depend on how rows were batched or ordered."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mllife import InputError
from mllife.monitor import Monitor

from .conftest import T0, daily_batches


def _monitor(fitted, **kw):
    kw.setdefault("time_col", "t")
    return Monitor(fitted.bundle, reference=fitted.reference, label_col="y", id_col="id", **kw)


def _fed(fitted, n_days=3, rows=300, **kw):
    monitor = _monitor(fitted, **kw)
    for b in daily_batches(fitted.pool.drop(columns="y"), n_days, rows):
        monitor.observe(b)
    return monitor


@pytest.fixture(scope="module")
def saved(churn, tmp_path_factory):
    monitor = _fed(churn)
    monitor.observe_labels(churn.pool.loc[:449, ["id", "y"]])
    path = monitor.save(tmp_path_factory.mktemp("m") / "monitor.json")
    return monitor, path


def test_save_load_round_trip_gives_the_same_report(saved, churn):
    monitor, path = saved
    again = Monitor.load(path, churn.bundle)
    assert again.windows == monitor.windows
    assert again.n_rows == monitor.n_rows
    assert again.report().to_dict() == monitor.report().to_dict()
    # pending labels survive: the rest of the labels join after loading
    rest = churn.pool.loc[450:899, ["id", "y"]]
    a = monitor.__class__.load(path, churn.bundle).observe_labels(rest).report()
    b = Monitor.load(path, churn.bundle).observe_labels(rest).report()
    assert a.to_dict() == b.to_dict()
    assert a.windows["n_labelled"].tolist() == [300, 300, 300]


def test_saved_file_is_json_and_the_write_is_atomic(saved, tmp_path):
    monitor, path = saved
    data = json.loads(path.read_text())
    assert data["format"] == "mllife.Monitor"
    assert data["bundle"]["version"] == "1.0.0"
    assert len(data["bundle"]["schema_sha256"]) == 64
    target = tmp_path / "again.json"
    monitor.save(target)
    assert [p.name for p in tmp_path.iterdir()] == ["again.json"]  # no temporary left


def test_load_with_another_bundle_version_or_schema(saved, churn):
    from mllife.bundle import InputSchema, ModelBundle

    _, path = saved
    other = ModelBundle(churn.bundle.model, churn.bundle.schema, version="1.0.1",
                        drift_profile=churn.bundle.drift_profile)
    with pytest.raises(InputError, match=r"version '1\.0\.0'.*not '1\.0\.1'"):
        Monitor.load(path, other)
    schema = InputSchema.infer(churn.reference[churn.inputs])  # out_of_range differs
    same_version = ModelBundle(churn.bundle.model, schema, version="1.0.0",
                               drift_profile=churn.bundle.drift_profile)
    with pytest.raises(InputError, match="schema differs"):
        Monitor.load(path, same_version)
    with pytest.raises(InputError, match="ModelBundle"):
        Monitor.load(path, "bundle")


def _write(tmp_path, text: str | bytes):
    path = tmp_path / "hostile.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _numeric(data):
    return next(c for c in data["windows"][0]["inputs"]["columns"] if c["family"] == "numeric")


def test_hostile_files_raise_input_error(saved, churn, tmp_path):
    _, path = saved
    good = json.loads(path.read_text())
    text = path.read_text()

    def variant(change):
        data = json.loads(text)
        change(data)
        return json.dumps(data)

    cases = [
        text[: len(text) // 2],  # truncated
        b"\xff\xfe not utf-8",
        "[" * 100_000 + "]" * 100_000,  # deeply nested
        "null", "[]", '{"format": "mllife.Monitor", "version": 99}',
        text.replace('"n_rows":300', '"n_rows":1e999', 1),  # a number that is infinity
        text.replace('"n_rows":300', '"n_rows":NaN', 1),
        variant(lambda d: d["windows"][0].update(n_rows="300")),
        variant(lambda d: d["windows"][0].update(n_rows=10**30)),
        variant(lambda d: d["windows"][0].update(key=1.5)),
        variant(lambda d: d["windows"][0]["sums"].update(estimate={"est_n": [1e308, "x"]})),
        variant(lambda d: d["windows"][0]["sums"].update(confidence={"n": [[1, 2], [3]]})),
        variant(lambda d: d["windows"][0]["sums"].update(bogus={})),
        variant(lambda d: d["windows"].append(d["windows"][0])),
        variant(lambda d: d["windows"][0].update(inputs={"format": "x"})),
        variant(lambda d: _numeric(d)["summary"].update(values=5)),
        variant(lambda d: _numeric(d)["summary"].update(values=[3.0, 1.0])),
        variant(lambda d: _numeric(d)["summary"].update(n=-4)),
        variant(lambda d: d["windows"][0]["inputs"]["columns"][0]["summary"].update(
            counts=[1.5])),
        variant(lambda d: d["pending"]["ids"].update(size=10**12)),
        variant(lambda d: d["pending"]["ids"].update(zlib_base64="!!!")),
        variant(lambda d: d["pending"].update(n_classes=7)),
        variant(lambda d: d["settings"].update(alpha=2)),
        variant(lambda d: d["settings"].update(time_col=["t"])),
        variant(lambda d: d["settings"]["window"].update(kind="fortnight")),
        variant(lambda d: d["settings"]["window"].update(span_ns=-5)),
        variant(lambda d: d["reference"].update(performance={"format": "nope"})),
        variant(lambda d: d["reference"].update(notes="x")),
        variant(lambda d: d["counts"].update(batches=-1)),
        variant(lambda d: d.pop("windows")),
        variant(lambda d: d["windows"].__setitem__(0, [1, 2, 3])),
    ]
    assert good["windows"]
    for i, case in enumerate(cases):
        try:
            Monitor.load(_write(tmp_path, case), churn.bundle)
        except InputError:
            continue
        pytest.fail(f"hostile case {i} loaded")
    with pytest.raises(InputError, match="cannot read"):
        Monitor.load(tmp_path / "absent.json", churn.bundle)


def test_file_larger_than_the_limit_is_refused(saved, churn, tmp_path, monkeypatch):
    from mllife.monitor import _persist

    _, path = saved
    monkeypatch.setattr(_persist, "MAX_BYTES", 1000)
    with pytest.raises(InputError, match="larger than 1000 bytes"):
        Monitor.load(path, churn.bundle)


# ---------------------------------------------------------------- merge


def _comparable(report) -> dict[str, pd.DataFrame]:
    """The per-window results that must not depend on batching (freshness's late rows and
    repeated batches do, by design: they are about arrival)."""
    windows = report.windows.drop(columns=["late_rows", "repeat_share", "n_alarms"])
    signals = report.signals[~report.signals["signal"].isin(["freshness"])]
    return {"windows": windows.reset_index(drop=True),
            "signals": signals.drop(columns=["reason"]).reset_index(drop=True),
            "columns": report.columns.reset_index(drop=True)}


def _assert_same(a, b):
    for name, left in _comparable(a).items():
        right = _comparable(b)[name]
        pd.testing.assert_frame_equal(left, right, rtol=1e-9, check_dtype=False, obj=name)


def test_merge_equals_one_monitor_fed_everything(churn):
    batches = daily_batches(churn.pool.drop(columns="y"), 4, 200)
    one = _monitor(churn)
    for b in batches:
        one.observe(b)
    left, right = _monitor(churn), _monitor(churn)
    left.observe(batches[0]).observe(batches[2].iloc[:120])
    right.observe(batches[1]).observe(batches[2].iloc[120:]).observe(batches[3])
    merged = left.merge(right)
    assert merged is not left
    assert left.windows == ["2024-03-01", "2024-03-03"]
    labels = churn.pool.loc[:599, ["id", "y"]]
    one.observe_labels(labels)
    merged.observe_labels(labels)
    _assert_same(merged.report(), one.report())


def test_merge_refuses_row_windows_other_settings_and_other_bundles(churn, regression):
    rows = Monitor(churn.bundle, reference=churn.reference, rows=100)
    with pytest.raises(InputError, match="arrival order"):
        rows.merge(Monitor(churn.bundle, reference=churn.reference, rows=100))
    with pytest.raises(InputError, match=r"settings differ.*window"):
        _monitor(churn).merge(_monitor(churn, window="6h"))
    with pytest.raises(InputError, match="bundle versions"):
        _monitor(churn).merge(_monitor(regression))
    with pytest.raises(InputError, match="a Monitor"):
        _monitor(churn).merge("monitor")


# ---------------------------------------------------------------- batching property


@pytest.fixture(scope="module")
def stream(churn):
    pool = churn.pool.iloc[:360].drop(columns="y")
    hours = pd.to_timedelta(np.arange(360) * 12, unit="min")  # 3 days of 120 rows
    return pool.assign(t=(T0 + hours).to_numpy())


@pytest.fixture(scope="module")
def whole(churn, stream):
    return _monitor(churn).observe(stream).report()


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_results_do_not_depend_on_batching_or_arrival_order(churn, stream, whole, data):
    n = len(stream)
    order = data.draw(st.permutations(range(n)).map(np.array) | st.just(np.arange(n)))
    cuts = sorted(data.draw(st.sets(st.integers(1, n - 1), max_size=6)))
    monitor = _monitor(churn)
    shuffled = stream.iloc[order]
    for lo, hi in zip([0, *cuts], [*cuts, n], strict=True):
        monitor.observe(shuffled.iloc[lo:hi])
    _assert_same(monitor.report(), whole)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 60), max_size=25), min_size=1, max_size=8),
       st.lists(st.integers(0, 70), max_size=40))
def test_pending_store_matches_a_plain_dictionary(batches, labels):
    """The sorted index of the pending store answers like a dict of first-seen ids."""
    from mllife.monitor._state import PendingLabels

    store, oracle, repeated = PendingLabels(2), {}, 0
    for b, ids in enumerate(batches):
        arr = np.asarray(ids, dtype=np.uint64)
        got = store.add(arr, np.full(arr.size, b), arr.astype(float), np.zeros((arr.size, 2)))
        fresh = {i for i in ids if i not in oracle}
        for i in ids:
            oracle.setdefault(i, b)
        repeated += len(ids) - len(fresh)
        assert got == len(ids) - len(fresh)
    lab = np.asarray(labels, dtype=np.uint64)
    pos, rows, unknown = store.take(lab)
    assert sorted(lab[pos].tolist()) == sorted(i for i in labels if i in oracle)
    assert (store.ids[rows] == lab[pos]).all()
    assert [int(store.keys[r]) for r in rows] == [oracle[int(i)] for i in lab[pos]]
    assert unknown.tolist() == [i not in oracle for i in labels]
    store.drop(np.unique(rows))
    left = {int(i) for i in store.ids}
    assert left == {i for i in oracle if i not in set(labels)}
    _, rows2, unknown2 = store.take(np.asarray(sorted(left), dtype=np.uint64))
    assert not unknown2.any()
    assert sorted(store.ids[rows2].tolist()) == sorted(left)
