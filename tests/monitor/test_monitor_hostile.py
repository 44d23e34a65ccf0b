"""Monitor core under hostile inputs: model outputs that break the contract, labels that are
not the model's classes, tampered saved files, merges that are not over disjoint batches,
window settings that would explode the state."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mllife import InputError
from mllife.monitor import Monitor

from .conftest import daily_batches


def _monitor(fitted, **kwargs):
    kwargs.setdefault("time_col", "t")
    return Monitor(fitted.bundle, reference=fitted.reference, label_col="y", id_col="id",
                   **kwargs)


def _with_outputs(fitted, batch):
    out = fitted.bundle.predict_proba(batch[fitted.inputs])
    names = [c for c in out.columns if c == "prediction" or c.startswith("proba_")]
    return batch.assign(**{c: out[c].to_numpy() for c in names})


# ---------------------------------------------------------------- outputs carried by a batch
def test_partial_probability_columns_raise_naming_the_missing_one(churn):
    batch = _with_outputs(churn, daily_batches(churn.pool, 1, 100)[0]).drop(columns="proba_0")
    with pytest.raises(InputError, match="proba_0"):
        _monitor(churn).observe(batch)


@pytest.mark.parametrize("change", [
    {"proba_0": 0.9, "proba_1": 0.9},  # rows summing to 1.8
    {"proba_0": -4.0, "proba_1": 5.0},  # outside [0, 1]
    {"proba_1": np.inf},
])
def test_probabilities_that_are_not_probabilities_raise(churn, change):
    batch = _with_outputs(churn, daily_batches(churn.pool, 1, 100)[0]).assign(**change)
    monitor = _monitor(churn)
    with pytest.raises(InputError, match="proba_"):
        monitor.observe(batch)
    assert monitor.n_rows == 0  # nothing changed


def test_prediction_outside_the_model_classes_raises(churn):
    batch = _with_outputs(churn, daily_batches(churn.pool, 1, 100)[0]).assign(prediction=7)
    with pytest.raises(InputError, match="prediction"):
        _monitor(churn).observe(batch)


def test_a_row_with_one_missing_probability_counts_as_a_row_without_probabilities(churn):
    batch = _with_outputs(churn, daily_batches(churn.pool, 1, 100)[0])
    half = batch.assign(proba_1=np.where(np.arange(100) % 2 == 1, np.nan, batch["proba_1"]))
    got = _monitor(churn).observe(half).report().windows.iloc[0]
    expected = _monitor(churn).observe(batch.iloc[::2]).report().windows.iloc[0]
    # the confidence is that of the rows with probabilities, not a max over half a row
    assert got["confidence_mean"] == pytest.approx(expected["confidence_mean"], rel=1e-9)


# ---------------------------------------------------------------- labels that are not classes
@pytest.mark.parametrize("bad", [2, "yes"])
def test_labels_outside_the_classes_are_counted_not_scored(churn, bad):
    batch = daily_batches(churn.pool, 1, 200)[0]
    odd = np.arange(200) % 4 == 0
    noisy = batch.assign(y=batch["y"].astype(object).where(~odd, bad))
    monitor = _monitor(churn).observe(noisy)
    clean = _monitor(churn).observe(batch.loc[~odd])
    got, expected = monitor.report().windows.iloc[0], clean.report().windows.iloc[0]
    assert got["n_labelled"] == int((~odd).sum())
    assert got["realized_accuracy"] == pytest.approx(expected["realized_accuracy"], rel=1e-12)
    assert monitor.label_counts["invalid_labels"] == int(odd.sum())
    signals = monitor.report().signals
    assert (signals["statistic"] == "invalid_labels").any()


def test_late_labels_outside_the_classes_are_counted_not_scored(churn):
    batch = daily_batches(churn.pool, 1, 200)[0]
    labels = batch[["id", "y"]].assign(y=batch["y"].astype(object))
    odd = np.arange(200) % 4 == 0
    labels.loc[odd, "y"] = "yes"
    monitor = _monitor(churn).observe(batch.drop(columns="y")).observe_labels(labels)
    clean = _monitor(churn).observe(batch.loc[~odd])
    got, expected = monitor.report().windows.iloc[0], clean.report().windows.iloc[0]
    assert got["n_labelled"] == int((~odd).sum())
    assert got["realized_accuracy"] == pytest.approx(expected["realized_accuracy"], rel=1e-12)
    assert monitor.label_counts["invalid_labels"] == int(odd.sum())


def test_late_labels_without_an_id_are_counted(churn):
    batch = daily_batches(churn.pool, 1, 200)[0]
    labels = batch[["id", "y"]].assign(id=batch["id"].astype(object))
    labels.loc[labels.index[:7], "id"] = None
    monitor = _monitor(churn).observe(batch.drop(columns="y")).observe_labels(labels)
    assert monitor.label_counts["labels_without_id"] == 7
    assert monitor.report().windows.iloc[0]["n_labelled"] == 193
    signals = monitor.report().signals
    assert (signals["statistic"] == "labels_without_id").any()
    loaded = monitor.label_counts
    assert loaded["unknown_label_ids"] == 0


def test_regression_labels_that_are_not_numbers_are_counted(regression):
    batch = daily_batches(regression.pool, 1, 100)[0]
    noisy = batch.assign(y=batch["y"].astype(object).where(np.arange(100) % 5 > 0, "n/a"))
    monitor = Monitor(regression.bundle, reference=regression.reference, time_col="t",
                      label_col="y", id_col="id").observe(noisy)
    assert monitor.label_counts["invalid_labels"] == 20
    assert monitor.report().windows.iloc[0]["n_labelled"] == 80


# ---------------------------------------------------------------- merge
def test_merge_with_itself_is_refused(churn):
    monitor = _monitor(churn).observe(daily_batches(churn.pool, 1, 100)[0])
    with pytest.raises(InputError, match="itself"):
        monitor.merge(monitor)


# ---------------------------------------------------------------- too many windows
def test_a_window_setting_that_would_make_too_many_windows_raises(churn, monkeypatch):
    from mllife.monitor import _state

    monkeypatch.setattr(_state, "MAX_WINDOWS", 50)
    monitor = _monitor(churn, window="1s")
    with pytest.raises(InputError, match="windows"):
        monitor.observe(daily_batches(churn.pool, 1, 100)[0])
    assert monitor.n_rows == 0


# ---------------------------------------------------------------- tampered files
@pytest.fixture(scope="module")
def saved(churn, tmp_path_factory):
    batches = daily_batches(churn.pool, 2, 150)
    monitor = _monitor(churn).observe(batches[0]).observe(batches[1].drop(columns="y"))
    path = monitor.save(tmp_path_factory.mktemp("saved") / "monitor.json")
    return json.loads(path.read_text())


def _set(path, value):
    def edit(data):
        *head, last = path
        target = data
        for key in head:
            target = target[key]
        target[last] = value(target[last]) if callable(value) else value
    return edit


def _negate(sums):
    return {k: (-np.abs(np.asarray(v)) - 1.0).tolist() for k, v in sums.items()}


@pytest.mark.parametrize(("edit", "match"), [
    (_set(("windows", 0, "n_rows"), 5), "n_rows"),
    (_set(("windows", 0, "n_scored"), 10**6), "n_scored"),
    (_set(("windows", 0, "n_labelled"), 10**6), "n_labelled"),
    (_set(("windows", 0, "key"), 10**15), "window key"),
    (_set(("windows", 0, "time_min"), 3 * 10**18), "time"),
    (_set(("settings", "window", "span_ns"), 10**9), "time"),
    (_set(("windows", 0, "sums", "confidence"), _negate), "confidence"),
    (_set(("windows", 0, "sums", "realized"), _negate), "realized"),
    (_set(("windows", 0, "sums", "quality"), _negate), "quality"),
    (_set(("windows", 0, "sums", "confidence"),
          lambda s: {k: [[1.0, 2.0], [3.0, 4.0]] for k in s}), "confidence"),
    (_set(("settings", "metrics"), ["bogus"]), "metrics"),
    (_set(("settings", "thresholds"), {"accuracy": 5.0}), "threshold"),
])
def test_tampered_files_are_refused(churn, saved, tmp_path, edit, match):
    data = json.loads(json.dumps(saved))
    edit(data)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=match):
        Monitor.load(path, churn.bundle).report()


def test_the_untampered_file_loads(churn, saved, tmp_path):
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(saved))
    assert Monitor.load(path, churn.bundle).report().windows["n_rows"].tolist() == [150, 150]


def test_an_oversized_file_is_refused_before_reading(churn, tmp_path, monkeypatch):
    from mllife.monitor import _persist

    path = tmp_path / "big.json"
    path.write_bytes(b" " * 2048)
    monkeypatch.setattr(_persist, "MAX_BYTES", 1024)
    read = []
    real_open = open

    def spy(file, mode="r", *args, **kwargs):
        fh = real_open(file, mode, *args, **kwargs)
        if str(file) == str(path):
            read.append(fh)
        return fh

    monkeypatch.setattr("builtins.open", spy)
    with pytest.raises(InputError, match="larger than 1024 bytes"):
        Monitor.load(path, churn.bundle)
    assert not read  # refused by its size, not read into memory


def test_time_windows_with_unsorted_duplicated_index(churn):
    batch = daily_batches(churn.pool, 2, 100)
    both = pd.concat(batch).sample(frac=1.0, random_state=0)
    shuffled = both.set_index(np.zeros(len(both), dtype=int))
    a = _monitor(churn).observe(shuffled).report().windows
    b = _monitor(churn).observe(both.reset_index(drop=True)).report().windows
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("window", ["P1M", "p2y", "P1Y2M", "-P1M"])
def test_iso_month_windows_are_refused_not_read_as_minutes(window):
    from mllife.monitor._window import parse_window

    with pytest.raises(InputError, match="months or years"):
        parse_window(window, None, "t")
    assert parse_window("PT15M", None, "t").span_ns == 15 * 60 * 10**9   # ISO minutes stay minutes


# ---------------------------------------------------------------- final review
def _pending_file(churn, tmp_path):
    batch = daily_batches(churn.pool, 1, 100)[0].drop(columns="y")
    monitor = _monitor(churn).observe(batch)
    path = monitor.save(tmp_path / "m.json")
    return path, json.loads(path.read_text())


def _pack(values, dtype):
    import base64
    import zlib

    arr = np.asarray(values, dtype=dtype)
    return {"dtype": dtype, "size": int(arr.size),
            "zlib_base64": base64.b64encode(zlib.compress(arr.tobytes())).decode("ascii")}


@pytest.mark.parametrize("field", ["keys", "prediction", "proba"])
def test_tampered_pending_rows_are_refused(churn, tmp_path, field):
    path, data = _pending_file(churn, tmp_path)
    n = data["pending"]["ids"]["size"]
    assert n == 100
    if field == "keys":
        data["pending"]["keys"] = _pack(np.full(n, 123456), "<i8")
    elif field == "prediction":
        data["pending"]["prediction"] = _pack(np.full(n, -1.0).view(np.int64), "<i8")
    else:
        data["pending"]["proba"] = _pack(np.full(2 * n, 7.0).view(np.int64), "<i8")
    path.write_text(json.dumps(data))
    with pytest.raises(InputError):
        Monitor.load(path, churn.bundle)


def test_times_whose_window_leaves_the_timestamp_range_are_refused(churn):
    batch = daily_batches(churn.pool, 1, 10)[0].drop(columns="y")
    late = batch.assign(t=pd.Timestamp("2262-04-10", tz="UTC"))
    monitor = Monitor(churn.bundle, reference=churn.reference, time_col="t", window="7D",
                      label_col="y", id_col="id")
    with pytest.raises(InputError, match="1677-2262"):
        monitor.observe(late)
    assert monitor.n_rows == 0


def test_one_unreadable_scoring_time_keeps_the_others_lag():
    from mllife.monitor._freshness import FreshnessState

    frame = pd.DataFrame({"t": pd.to_datetime(["2024-01-01"] * 4, utc=True),
                          "scored_at": ["2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z",
                                        "2024-01-01T03:00:00Z", "oops"],
                          "x": [1.0, 2.0, 3.0, 4.0]})
    state = FreshnessState.empty()._with_time(frame, "t", "scored_at")
    assert state.lag.count == 3


def test_a_model_that_fails_on_valid_rows_is_counted_apart(churn, monkeypatch):
    monitor = _monitor(churn)
    batch = daily_batches(churn.pool, 1, 120)[0].drop(columns="y")

    def broken(X):
        raise RuntimeError("state does not fit the input")

    monkeypatch.setattr(churn.bundle.model, "predict_proba", broken)
    monitor.observe(batch)
    monkeypatch.undo()
    assert monitor.label_counts["model_failed_rows"] == 120
    report = monitor.report()
    assert report.windows.iloc[0]["unscored_rate"] == 1.0
    assert (report.signals["statistic"] == "model_failed_rows").any()


def test_a_batch_that_would_overflow_the_saved_id_sets_is_refused(churn, monkeypatch):
    from mllife.monitor import _state

    monitor = _monitor(churn)
    batches = daily_batches(churn.pool, 2, 60)
    monitor.observe(batches[0].drop(columns="y"))
    monkeypatch.setattr(_state, "MAX_PENDING", 100)
    with pytest.raises(InputError, match="above the 100"):
        monitor.observe(batches[1].drop(columns="y"))
    assert monitor.n_rows == 60                     # the refused batch changed nothing
