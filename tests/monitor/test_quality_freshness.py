"""Deterministic signals: data quality, freshness and operations.

Each fires on its incident (a schema break, a replayed batch, timestamps standing still,
failed requests) and never on a clean stream; every state merges exactly (associative,
commutative) and reads back from JSON only when valid.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mllife
from mllife.bundle import InputSchema
from mllife.monitor._freshness import FreshnessState, freshness_decide
from mllife.monitor._operations import OperationsState, operations_decide
from mllife.monitor._quality import label_findings, quality_decide, quality_sums
from mllife.monitor._quantiles import QuantileSketch
from mllife.monitor._sums import add_sums

T0 = pd.Timestamp("2024-03-01", tz="UTC")
INPUTS = ["age", "income", "score", "plan"]


def stream_frame(rng: np.random.Generator, n: int, start: int = 0) -> pd.DataFrame:
    """Clean rows: three continuous columns, one categorical; time one minute apart."""
    return pd.DataFrame({
        "age": rng.normal(40, 10, n).round(1), "income": rng.lognormal(10, 0.5, n),
        "score": rng.uniform(size=n), "plan": rng.choice(["basic", "pro", "max"], n),
        "ts": T0 + pd.to_timedelta(start + np.arange(n), unit="min"),
        "id": start + np.arange(n),
    })


@pytest.fixture(scope="module")
def schema() -> InputSchema:
    return InputSchema.infer(stream_frame(np.random.default_rng(0), 5000)[INPUTS])


def any_alarm(decision) -> bool:
    return any(r["alarm"] for r in decision.rows)


# ---------------------------------------------------------------- data quality
def test_clean_batches_have_no_quality_alarm(schema):
    rng = np.random.default_rng(1)
    sums: dict = {}
    for i in range(4):
        batch = stream_frame(rng, 250, start=250 * i)
        sums = add_sums(sums, quality_sums(batch, schema, None, ignore=["ts", "id"]))
    d = quality_decide(sums, window="w0", index=0)
    assert not any_alarm(d)
    assert not d.findings
    assert d.numbers["schema_violation_rate"] == 0.0
    assert d.numbers["unscored_rate"] == 0.0
    assert d.numbers["missing_rates"] == {"age": 0.0, "income": 0.0, "score": 0.0, "plan": 0.0}
    assert d.numbers["unseen_rates"] == {"plan": 0.0}


def test_schema_break_names_column_problem_count_and_rate(schema):
    rng = np.random.default_rng(2)
    batch = stream_frame(rng, 200)
    batch["plan"] = batch["plan"].where(np.arange(200) >= 10, "gold")  # 10 unseen
    batch = batch.drop(columns=["score"]).assign(coupon="x")  # a missing and a new column
    sums = quality_sums(batch, schema, None, n_unscored=200, ignore=["ts", "id"])
    d = quality_decide(sums, window="2024-03-02", index=1)
    alarms = {(r["column"], r["statistic"]): r for r in d.rows if r["alarm"]}
    assert ("plan", "violation_rate") in alarms
    assert ("score", "violation_rate") in alarms
    assert alarms[("plan", "violation_rate")]["value"] == pytest.approx(10 / 200)
    assert (None, "unscored_rate") in alarms
    messages = [f.message for f in d.findings]
    assert "window 2024-03-02: column 'plan': unseen category in 10 of 200 rows (5%)" in messages
    assert any("'score': missing column in 200 of 200 rows" in m for m in messages)
    assert any("could not score 200 of 200 rows" in m for m in messages)
    new = [f for f in d.findings if f.severity == "info"]
    assert len(new) == 1
    assert new[0].column == "coupon"
    assert {f.severity for f in d.findings if f not in new} == {"error"}
    assert d.numbers["schema_violation_rate"] == 1.0  # every row lacks 'score'
    assert all(f.check == "monitor_data_quality" for f in d.findings)


def test_quality_sums_take_the_problems_the_caller_found(schema):
    batch = stream_frame(np.random.default_rng(3), 50)
    problems = [{"column": "age", "problem": "text instead of numbers", "count": 4},
                {"column": None, "problem": "input is a list, not a table", "count": None}]
    sums = quality_sums(batch, schema, problems, ignore=["ts", "id"])
    assert float(sums["schema::age::text instead of numbers"]) == 4
    assert float(sums["schema::::input is a list, not a table"]) == 50
    d = quality_decide(sums, window="w", index=0)
    whole = [f for f in d.findings if f.column is None]
    assert whole
    assert whole[0].message.startswith("window w: input is a list")
    assert quality_decide(quality_sums(batch, schema, [], ignore=["ts", "id"]),
                          window="w", index=0).findings == []


def test_empty_window_has_nan_rates_and_no_alarm(schema):
    empty = stream_frame(np.random.default_rng(0), 0)
    d = quality_decide(quality_sums(empty, schema, None, ignore=["ts", "id"]), window="w",
                       index=0)
    assert math.isnan(d.numbers["schema_violation_rate"])
    assert math.isnan(d.numbers["unscored_rate"])
    assert not any_alarm(d)
    with pytest.raises(mllife.InputError, match="n_unscored"):
        quality_sums(empty, schema, None, n_unscored=3)
    with pytest.raises(mllife.InputError, match="DataFrame"):
        quality_sums([{"age": 3}], schema, None)


@given(cuts=st.lists(st.integers(0, 120), max_size=4))
def test_quality_sums_do_not_depend_on_batching(cuts):
    schema = InputSchema.infer(stream_frame(np.random.default_rng(0), 500)[INPUTS])
    frame = stream_frame(np.random.default_rng(4), 120)
    frame.loc[frame.index[::7], "age"] = np.nan
    frame.loc[frame.index[::11], "plan"] = "gold"
    whole = quality_sums(frame, schema, None, ignore=["ts", "id"])
    edges = [0, *sorted(cuts), 120]
    parts: dict = {}
    for a, b in itertools.pairwise(edges):
        parts = add_sums(parts, quality_sums(frame.iloc[a:b], schema, None,
                                             ignore=["ts", "id"]))
    assert set(parts) == set(whole)
    for key, value in whole.items():
        np.testing.assert_allclose(parts[key], value, rtol=1e-9)


def test_label_findings_are_info():
    found = label_findings(3, 2, n_labels=50, window="w", index=0)
    assert [f.severity for f in found] == ["info", "info"]
    assert found[1].message == "2 of 50 labels are for ids that already had a label"
    assert label_findings(0, 0) == []


# ---------------------------------------------------------------- quantile sketch
@pytest.mark.parametrize("kind", ["lognormal", "signed", "zeros"])
def test_quantile_sketch_within_one_percent(kind):
    rng = np.random.default_rng(9)
    x = {"lognormal": rng.lognormal(3, 1.5, 20_000),
         "signed": rng.standard_t(3, 20_000) * 100,
         "zeros": np.r_[np.zeros(5000), rng.exponential(50, 5000)]}[kind]
    sketch = QuantileSketch.from_values(np.r_[x, np.nan, np.inf])
    assert sketch.count == x.size
    for q in (0.0, 0.05, 0.5, 0.95, 0.99, 1.0):
        exact = np.quantile(x, q, method="lower")
        assert abs(sketch.quantile(q) - exact) <= 0.01 * abs(exact) + 1e-12, q
    assert math.isnan(QuantileSketch.empty().quantile(0.5))


@given(st.lists(st.lists(st.floats(-1e6, 1e6, allow_nan=False), max_size=30),
                min_size=3, max_size=3))
def test_quantile_sketch_merge_is_exact_associative_commutative(parts):
    a, b, c = (QuantileSketch.from_values(p) for p in parts)
    assert a.merge(b).merge(c) == a.merge(b.merge(c)) == c.merge(a).merge(b)
    assert a.merge(b).merge(c) == QuantileSketch.from_values([x for p in parts for x in p])
    assert QuantileSketch.from_json(json.loads(json.dumps(a.merge(b).to_json()))) == a.merge(b)


@pytest.mark.parametrize("bad", [
    {"relative_accuracy": 0.02},
    {"keys": [3, 2], "counts": [1.0, 1.0]},
    {"keys": [1], "counts": [-1.0]},
    {"keys": [1], "counts": [0.5]},
    {"keys": [10**9], "counts": [1.0]},
    {"keys": [1.5], "counts": [1.0]},
    {"n_zero": -1.0},
])
def test_quantile_sketch_from_json_refuses_bad_data(bad):
    data = {**QuantileSketch.from_values([1.0, 2.0]).to_json(), **bad}
    with pytest.raises(mllife.InputError):
        QuantileSketch.from_json(data)


# ---------------------------------------------------------------- freshness
def windows_of(batches_per_window: list[list[pd.DataFrame]], **kwargs) -> list[FreshnessState]:
    states = []
    for batches in batches_per_window:
        state = FreshnessState.empty()
        for b in batches:
            state = state.merge(FreshnessState.from_batch(b, columns=INPUTS, time_col="ts",
                                                          **kwargs))
        states.append(state)
    return states


def clean_stream(seed: int, n_windows: int, rows: int = 200, n_batches: int = 4):
    rng = np.random.default_rng(seed)
    out, start = [], 0
    for _ in range(n_windows):
        batches = []
        for _ in range(n_batches):
            batches.append(stream_frame(rng, rows // n_batches, start))
            start += rows // n_batches
        out.append(batches)
    return out


def labels(n: int) -> list[str]:
    return [f"w{i}" for i in range(n)]


@pytest.mark.parametrize("row_windows", [True, False])
def test_clean_stream_of_100_windows_raises_no_freshness_alarm(row_windows):
    states = windows_of(clean_stream(10, 100))
    decisions = freshness_decide(states, labels(100), row_windows=row_windows)
    assert not any(any_alarm(d) for d in decisions)
    assert not any(d.findings for d in decisions)
    assert max(d.numbers["repeat_share"] for d in decisions[1:]) == 0.0
    jaccards = [d.numbers["max_jaccard"] for d in decisions[1:]]
    assert max(jaccards) == 0.0  # continuous rows never repeat


def test_small_categorical_space_raises_no_repeat_alarm():
    """Four categorical columns (320 possible rows), 130 rows a window: rows repeat by chance,
    most windows are still judged (>= 100 distinct rows, 80% distinct), and none alarms."""
    rng = np.random.default_rng(12)
    frames = []
    for w in range(100):
        frame = pd.DataFrame({c: rng.choice(list("abcde")[:m], 130)
                              for c, m in zip(INPUTS, (4, 4, 4, 5), strict=True)})
        frames.append([frame.assign(ts=T0 + pd.Timedelta(hours=w))])
    states = windows_of(frames)
    decisions = freshness_decide(states, labels(100), row_windows=True)
    assert np.mean([s.identifying for s in states]) > 0.5
    assert not any(any_alarm(d) for d in decisions)
    assert max(d.numbers.get("max_jaccard", 0.0) for d in decisions) < 0.4
    assert decisions[-1].numbers["repeat_share"] > 0.9  # they do repeat: a number only


def test_stale_pipeline_replays_are_caught_in_every_window():
    """Windows 0-9 fresh; then window 9's batch is replayed for 7 windows."""
    stream = clean_stream(11, 10, rows=300, n_batches=1)
    stale = stream[9][0]
    states = windows_of(stream + [[stale.copy()] for _ in range(7)])
    decisions = freshness_decide(states, labels(17), row_windows=True)
    assert not any(any_alarm(d) for d in decisions[:10])
    for d in decisions[10:]:
        alarms = {r["statistic"] for r in d.rows if r["alarm"]}
        assert alarms == {"repeated_batches", "max_jaccard", "time_advance"}
        assert d.numbers["repeat_share"] == 1.0
        assert {f.severity for f in d.findings} == {"error"}
        assert all(f.check == "monitor_freshness" for f in d.findings)
    messages = [f.message for f in decisions[10].findings]
    assert messages[0] == ("window w10: a batch of 300 rows identical to one seen in window w9 "
                           "(same rows, any order)")
    assert "repeat those of window w9 (Jaccard overlap 1.00)" in messages[1]
    assert "timestamps do not advance" in messages[2]


def test_replay_with_new_timestamps_and_shuffled_rows_is_still_caught():
    stream = clean_stream(13, 5, rows=200, n_batches=1)
    replay = stream[2][0].sample(frac=1.0, random_state=0)
    replay = replay.assign(ts=T0 + pd.Timedelta(days=30) + pd.to_timedelta(
        np.arange(len(replay)), unit="min"), id=np.arange(len(replay)) + 10_000)
    decisions = freshness_decide(windows_of([*stream, [replay]]), labels(6), row_windows=True)
    last = {r["statistic"]: r for r in decisions[-1].rows}
    assert last["repeated_batches"]["alarm"]
    assert last["max_jaccard"]["alarm"]
    assert not last["time_advance"]["alarm"]  # new timestamps: only the rows give it away
    assert "window w2" in decisions[-1].findings[0].message


def test_a_batch_observed_twice_in_one_window():
    stream = clean_stream(14, 2, rows=100, n_batches=1)
    states = windows_of([stream[0], [stream[1][0], stream[1][0]]])
    d = freshness_decide(states, labels(2), row_windows=False)[1]
    assert [r["statistic"] for r in d.rows if r["alarm"]] == ["repeated_batches"]
    assert "earlier in this window" in d.findings[0].message


def test_partial_overlap_below_half_is_a_number_not_an_alarm():
    stream = clean_stream(15, 2, rows=400, n_batches=1)
    mixed = pd.concat([stream[0][0].iloc[:100], stream[1][0].iloc[:300]])
    d = freshness_decide(windows_of([stream[0], [mixed]]), labels(2), row_windows=False)[1]
    assert not any_alarm(d)
    assert d.numbers["repeat_share"] == pytest.approx(0.25, abs=0.1)
    assert d.numbers["max_jaccard"] == pytest.approx(100 / 700, abs=0.07)


def test_time_not_advancing_rule_for_row_windows():
    def window(times):
        n = len(times)
        frame = stream_frame(np.random.default_rng(len(times) * 7 + int(times[0])), n)
        return [frame.assign(ts=T0 + pd.to_timedelta(np.asarray(times), unit="h"))]
    day = [0.0] * 30  # a coarse time column: every row the same hour
    cases = [
        ([window(range(30)), window(range(30, 60))], False),    # advancing
        ([window(range(30, 60)), window(range(0, 30))], True),  # going back
        ([window(day), window(day)], False),                    # one coarse timestamp
        ([window(range(30)), window(range(29, -1, -1))], True),  # same span again
    ]
    for frames, expected in cases:
        d = freshness_decide(windows_of(frames), labels(2), row_windows=True)[1]
        row = next(r for r in d.rows if r["statistic"] == "time_advance")
        assert row["alarm"] is expected
    # Time windows are not judged on it (windows are made of time).
    frames = [window(range(30, 60)), window(range(0, 30))]
    d = freshness_decide(windows_of(frames), labels(2), row_windows=False)[1]
    assert all(r["statistic"] != "time_advance" for r in d.rows)


def test_late_rows_and_rows_without_time_are_info():
    frame = stream_frame(np.random.default_rng(5), 40)
    frame.loc[frame.index[:3], "ts"] = pd.NaT
    state = FreshnessState.from_batch(frame, columns=INPUTS, time_col="ts", late=True)
    d = freshness_decide([state], ["w0"], row_windows=False)[0]
    assert d.numbers["late_rows"] == 40
    assert d.numbers["rows_without_time"] == 3
    assert not any_alarm(d)
    assert [f.severity for f in d.findings] == ["info", "info"]


def test_lag_quantiles_from_scored_at():
    rng = np.random.default_rng(6)
    frame = stream_frame(rng, 3000)
    lag_s = rng.exponential(120.0, 3000)
    frame["scored_at"] = frame["ts"] + pd.to_timedelta(lag_s, unit="s")
    half = [FreshnessState.from_batch(p, columns=INPUTS, time_col="ts")
            for p in (frame.iloc[:1000], frame.iloc[1000:])]
    d = freshness_decide([half[0].merge(half[1])], ["w0"], row_windows=False)[0]
    for q, key in ((0.5, "lag_p50"), (0.95, "lag_p95")):
        exact = np.quantile(lag_s, q, method="lower")
        assert abs(d.numbers[key] - exact) <= 0.011 * exact
    assert not any_alarm(d)
    no_lag = FreshnessState.from_batch(frame, columns=INPUTS, time_col="scored_at")
    assert no_lag.lag.count == 0  # scored_at is the time column itself: no lag


def random_slices(seed: int, sizes: list[int]) -> list[pd.DataFrame]:
    rng = np.random.default_rng(seed)
    frame = stream_frame(rng, sum(sizes))
    frame["scored_at"] = frame["ts"] + pd.to_timedelta(rng.exponential(60, len(frame)), unit="s")
    frame = pd.concat([frame, frame.iloc[: len(frame) // 3]])  # repeated rows too
    cuts = np.cumsum([0, *sizes])
    cuts[-1] = len(frame)
    return [frame.iloc[a:b] for a, b in itertools.pairwise(cuts)]


@given(sizes=st.lists(st.integers(0, 400), min_size=3, max_size=3), seed=st.integers(0, 50),
       k=st.sampled_from([16, 256]))
def test_freshness_merge_is_associative_commutative_and_batching_free(sizes, seed, k):
    slices = random_slices(seed, sizes)
    a, b, c = (FreshnessState.from_batch(s, columns=INPUTS, time_col="ts", k=k)
               for s in slices)
    left, right = a.merge(b).merge(c), a.merge(b.merge(c))
    assert left == right == c.merge(b).merge(a)
    whole = FreshnessState.from_batch(pd.concat(slices), columns=INPUTS, time_col="ts", k=k)
    for name in ("row_hashes", "row_counts"):  # the batch hashes depend on batching, by design
        np.testing.assert_array_equal(getattr(left, name), getattr(whole, name))
    np.testing.assert_equal((left.n_rows, left.time_min, left.time_max, left.n_no_time),
                            (whole.n_rows, whole.time_min, whole.time_max, whole.n_no_time))
    assert left.lag == whole.lag
    assert FreshnessState.from_json(json.loads(json.dumps(left.to_json()))) == left


@pytest.mark.parametrize("change", [
    lambda d: d.update(k=8),
    lambda d: d.update(row_hashes=list(reversed(d["row_hashes"]))),
    lambda d: d.update(row_counts=[0] * len(d["row_counts"])),
    lambda d: d.update(row_hashes=d["row_hashes"] * 2, row_counts=d["row_counts"] * 2),
    lambda d: d.update(batch_hashes=["zz" * 8]),
    lambda d: d.update(time_min=float("inf")),
    lambda d: d.update(n_late=10**6),
    lambda d: d.update(time_is_datetime="yes"),
    lambda d: d.pop("lag"),
])
def test_freshness_from_json_refuses_bad_data(change):
    state = FreshnessState.from_batch(stream_frame(np.random.default_rng(1), 30), columns=INPUTS,
                                      time_col="ts", k=16)
    data = json.loads(json.dumps(state.to_json()))
    change(data)
    with pytest.raises(mllife.InputError):
        FreshnessState.from_json(data)


def test_freshness_states_of_other_sizes_or_time_kinds_do_not_merge():
    frame = stream_frame(np.random.default_rng(1), 30)
    a = FreshnessState.from_batch(frame, columns=INPUTS, time_col="ts", k=16)
    with pytest.raises(mllife.InputError, match="sizes"):
        a.merge(FreshnessState.from_batch(frame, columns=INPUTS, k=32))
    numbers = FreshnessState.from_batch(frame.assign(ts=np.arange(30)), columns=INPUTS,
                                        time_col="ts", k=16)
    with pytest.raises(mllife.InputError, match="date-times"):
        a.merge(numbers)


# ---------------------------------------------------------------- operations
@pytest.mark.parametrize(("values", "failed"), [
    ([False, True, False, None], 1),
    (pd.array([False, True, None, False], dtype="boolean"), 1),
    ([0, 1, 2, np.nan], 2),
    (["", "timeout", None, "  "], 1),
])
def test_error_column_kinds(values, failed):
    state = OperationsState.from_batch(pd.DataFrame({"error": values}))
    assert state.n_errors == failed
    assert state.has_error
    assert not state.has_latency


def test_operations_alarm_only_when_a_request_failed():
    rng = np.random.default_rng(8)
    lat = rng.lognormal(3, 0.4, 5000)
    clean = pd.DataFrame({"latency_ms": lat, "error": np.zeros(5000, dtype=bool)})
    states = [OperationsState.from_batch(clean.iloc[a:a + 50]) for a in range(0, 5000, 50)]
    decisions = [operations_decide(s, window=f"w{i}", index=i) for i, s in enumerate(states)]
    assert not any(any_alarm(d) or d.findings for d in decisions)  # 100 clean windows
    merged = states[0]
    for s in states[1:]:
        merged = merged.merge(s)
    d = operations_decide(merged, window="all", index=0)
    assert d.numbers["error_rate"] == 0.0
    for q, key in ((0.5, "latency_p50_ms"), (0.95, "latency_p95_ms")):
        exact = np.quantile(lat, q, method="lower")
        assert abs(d.numbers[key] - exact) <= 0.01 * exact
    failing = operations_decide(OperationsState.from_batch(
        clean.iloc[:200].assign(error=["boom"] + [""] * 199)), window="w9", index=9)
    assert [r["statistic"] for r in failing.rows if r["alarm"]] == ["error_rate"]
    assert failing.findings[0].message == "window w9: 1 of 200 requests failed (error rate 0.5%)"
    assert failing.findings[0].severity == "warning"
    nothing = operations_decide(OperationsState(), window="w", index=0)
    assert nothing.rows == []
    assert math.isnan(nothing.numbers["error_rate"])


def test_operations_state_json_and_bad_columns():
    state = OperationsState.from_batch(pd.DataFrame({"latency_ms": [5.0, 7.0],
                                                     "error": [False, True]}))
    assert OperationsState.from_json(json.loads(json.dumps(state.to_json()))) == state
    bad = {**state.to_json(), "n_errors": 5}
    with pytest.raises(mllife.InputError, match="counts"):
        OperationsState.from_json(bad)
    with pytest.raises(mllife.InputError, match="latency_ms"):
        OperationsState.from_batch(pd.DataFrame({"latency_ms": ["fast", "slow"]}))
    with pytest.raises(mllife.InputError, match="error"):
        OperationsState.from_batch(pd.DataFrame({"error": [{"a": 1}, {"b": 2}]}))
