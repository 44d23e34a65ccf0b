"""check_leakage(events=...): features aggregated over all events are flagged, point-in-time ones never."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from mllife import InputError
from mllife.datasets import make_churn, make_churn_events
from mllife.features import AggregateFeatures
from mllife.report import Finding
from mllife.split import LeakageReport, _leakage_events, check_leakage

KEY, TIME, EVENT_TIME = "customer_id", "last_event_at", "event_at"
AGGREGATIONS = ("count", "sum", "mean", "max", "min", "nunique")


@pytest.fixture(scope="module")
def churn():
    return make_churn(1_200, random_state=2, defects=False)


@pytest.fixture(scope="module")
def events(churn):
    return make_churn_events(churn, per_customer=12, random_state=0)


def _all_events(events: pd.DataFrame) -> pd.DataFrame:
    """What a user writes: one groupby over every event, joined back by key."""
    g = events.groupby(KEY)
    return pd.DataFrame({"n_events": g.size(), "spend": g["amount"].sum(),
                         "avg_amount": g["amount"].mean(), "top_amount": g["amount"].max(),
                         "low_amount": g["amount"].min(), "item_kinds": g["items"].nunique()})


def _point_in_time(events: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """The same aggregates over the events strictly before each row's time (merge + filter)."""
    pairs = rows[[KEY, TIME]].reset_index().merge(events, on=KEY)
    pairs = pairs[pairs[EVENT_TIME] < pairs[TIME]]
    g = pairs.groupby("index")
    out = pd.DataFrame({"n_events": g.size(), "spend": g["amount"].sum(),
                        "avg_amount": g["amount"].mean(), "top_amount": g["amount"].max(),
                        "low_amount": g["amount"].min(), "item_kinds": g["items"].nunique()})
    out = out.reindex(rows.index)
    return out.fillna({"n_events": 0, "spend": 0, "item_kinds": 0})


def _train_test(frame: pd.DataFrame):
    order = frame[TIME].sort_values(kind="stable").index
    cut = int(len(order) * 0.7)
    return frame.loc[order[:cut]], frame.loc[order[cut:]]


def _check(train, test, events, **kw) -> LeakageReport:
    return check_leakage(train, test, time_col=TIME, events=events, key=KEY,
                         event_time_col=EVENT_TIME, **kw)


def _flagged(report: LeakageReport) -> dict[object, tuple[str, str | None]]:
    return {f.column: (f.details["aggregate"], f.details["event_column"])
            for f in report.findings_by(check="future_aggregate")}


def test_groupby_over_all_events_is_flagged_with_its_aggregate(churn, events):
    frame = churn.frame.join(_all_events(events), on=KEY)
    train, test = _train_test(frame)
    report = _check(train, test, events, target="churned")
    assert _flagged(report) == {
        "n_events": ("count", None), "spend": ("sum", "amount"), "avg_amount": ("mean", "amount"),
        "top_amount": ("max", "amount"), "low_amount": ("min", "amount"),
        "item_kinds": ("nunique", "items"),
    }
    spend = report.findings_by(check="future_aggregate", column="spend")[0]
    assert spend.severity == "error"
    assert "sum of 'amount' per 'customer_id' over all events" in spend.message
    assert "AggregateFeatures" in spend.suggestion
    # Known answer: every row whose all-events spend differs from its point-in-time spend.
    honest = _point_in_time(events, frame)
    differ = ~np.isclose(frame["spend"], honest["spend"], rtol=1e-9, atol=0)
    differ &= frame[KEY].isin(events[KEY]).to_numpy()  # a customer without events: no group
    sets = spend.details["sets"]
    assert sets["train"]["n_differing"] == int(differ[frame.index.isin(train.index)].sum())
    assert sets["test"]["n_differing"] == int(differ[frame.index.isin(test.index)].sum())
    assert spend.n_rows == int(differ.sum())
    assert set(spend.sample_index) <= set(train.index)
    # The report's list of leaky columns names them too (and nothing else).
    assert set(report.leaky_columns) >= set(_flagged(report))
    assert not set(report.leaky_columns) & {KEY, TIME}
    rows = report.checks.query("check == 'future_aggregate'")
    assert rows["between"].tolist() == ["train", "test"]
    assert rows["status"].tolist() == ["error", "error"]
    assert report.leaky_columns  # the low refund amount also gives the target away


def test_point_in_time_features_are_not_flagged(churn, events):
    frame = churn.frame.join(_point_in_time(events, churn.frame))
    train, test = _train_test(frame)
    report = _check(train, test, events)
    assert not report.findings_by(check="future_aggregate")
    assert set(report.checks.query("check == 'future_aggregate'")["status"]) == {"ok"}


@pytest.mark.parametrize(("windows", "gap"), [(("all", "30D"), None), (("7D", "90D"), "1D")])
def test_aggregate_features_output_is_not_flagged(churn, events, windows, gap):
    agg = AggregateFeatures(events, key=KEY, time_col=EVENT_TIME, cutoff_col=TIME,
                            windows=windows, gap=gap, columns=["amount", "items"])
    frame = agg.fit_transform(churn.frame)
    assert len(frame.columns) > len(churn.frame.columns) + 10
    train, test = _train_test(frame)
    report = _check(train, test, events)
    assert not report.findings_by(check="future_aggregate")
    # ... while a column of the same table from a groupby over all events is.
    leaky = frame.join(_all_events(events)["n_events"], on=KEY)
    assert _flagged(_check(*_train_test(leaky), events)) == {"n_events": ("count", None)}


def test_events_that_never_pass_the_cutoff_give_no_finding(churn):
    past = make_churn_events(churn, per_customer=12, future=False, random_state=0)
    frame = churn.frame.join(_all_events(past), on=KEY)
    train, test = _train_test(frame)
    report = _check(train, test, past)
    assert not report.findings_by(check="future_aggregate")


def test_a_partial_leak_needs_95_percent_of_the_rows(churn, events):
    frame = churn.frame.join(_all_events(events)["spend"], on=KEY).fillna({"spend": 0.0})
    honest = _point_in_time(events, frame)["spend"]
    differ = np.flatnonzero(~np.isclose(frame["spend"], honest, rtol=1e-9, atol=0))
    rng = np.random.default_rng(0)
    for share, flagged in ((0.9, False), (0.97, True)):
        honest_rows = rng.choice(differ, round((1 - share) * len(differ)), replace=False)
        mixed = frame["spend"].to_numpy().copy()
        mixed[honest_rows] = honest.to_numpy()[honest_rows]
        both = frame.assign(spend=mixed)
        report = check_leakage(both, both.iloc[:0], time_col=TIME, events=events, key=KEY,
                               event_time_col=EVENT_TIME)
        assert bool(report.findings_by(check="future_aggregate")) is flagged, share


@pytest.mark.parametrize("seed", range(6))
def test_random_numeric_columns_are_never_flagged(churn, events, seed):
    rng = np.random.default_rng(seed)
    n = len(churn.frame)
    counts = churn.frame[KEY].map(events.groupby(KEY).size()).to_numpy()
    frame = churn.frame.assign(
        gauss=rng.normal(size=n), small_ints=rng.integers(0, 4, n),
        poisson=rng.poisson(12, n).astype(float), money=np.round(rng.gamma(2, 30, n), 2),
        shuffled_count=rng.permutation(counts), near_count=counts + rng.integers(-1, 2, n) * 2,
    )
    train, test = _train_test(frame)
    report = _check(train, test, events, random_state=seed)
    assert not report.findings_by(check="future_aggregate")


# The brute-force oracle (ties, undated events, honest as-of conventions) is in
# test_leakage_events_hostile2.py::test_oracle_with_ties_unknown_times_and_honest_conventions.


def test_missing_keys_unknown_times_and_numeric_time():
    events = pd.DataFrame({"k": [1, 1, 1, None, 2, 2] * 10, "at": [1, 2, 9, 1, 3, np.nan] * 10,
                           "x": [1.0, np.nan, 4.0, 100.0, 2.0, 5.0] * 10})
    rows = pd.DataFrame({"k": [1, 2, 3] * 10, "t": [5.0] * 30})
    g = events.groupby("k")["x"]
    rows["total"] = rows["k"].map(g.sum())      # an unknown time counts only in "all"
    rows["n"] = rows["k"].map(events.groupby("k").size())
    report = check_leakage(rows, rows.iloc[:0], time_col="t", events=events, key="k",
                           event_time_col="at")
    flagged = _flagged(report)
    assert flagged["total"] == ("sum", "x")
    assert flagged["n"] == ("count", None)
    finding = report.findings_by(column="total")[0]
    # Key 1 has a dated event after t=5 (at=9): its 10 rows count. Key 2 differs only
    # through an undated event, which never makes a row count by itself; key 3 has none.
    assert finding.details["sets"]["train"]["n_differing"] == 10


def test_text_categorical_and_aware_keys_and_times(churn, events):
    frame = churn.frame.join(_all_events(events)["n_events"], on=KEY)
    aware = frame.assign(**{TIME: frame[TIME].dt.tz_localize("UTC"),
                            KEY: frame[KEY].astype("category")})
    aware_events = events.assign(**{EVENT_TIME: events[EVENT_TIME].dt.tz_localize("UTC")})
    report = _check(*_train_test(aware), aware_events)
    assert _flagged(report) == {"n_events": ("count", None)}


def test_inputs_not_mutated_and_report_round_trips(churn, events):
    frame = churn.frame.join(_all_events(events), on=KEY)
    train, test = _train_test(frame)
    copies = train.copy(), test.copy(), events.copy()
    report = _check(train, test, events, target="churned")
    for before, after in zip(copies, (train, test, events), strict=True):
        pd.testing.assert_frame_equal(before, after)
    data = json.loads(report.to_json())
    assert [Finding.from_dict(f) for f in data["findings"]] == list(report.findings)
    again = LeakageReport.from_dict(data)
    assert again.to_dict() == report.to_dict()
    assert "future_aggregate" in report.to_markdown()
    assert "future_aggregate" in report.to_html()


def test_work_is_bounded_and_the_notes_say_so(churn, events, monkeypatch):
    monkeypatch.setattr(_leakage_events, "MAX_ROWS", 300)
    monkeypatch.setattr(_leakage_events, "MAX_FEATURE_COLUMNS", 3)
    frame = churn.frame.join(_all_events(events)[["n_events"]], on=KEY)
    report = _check(*_train_test(frame), events, random_state=0)
    notes = " ".join(report.notes)
    assert "sample of 300 of the 840 train rows" in notes
    assert "first 3 of the" in notes
    again = _check(*_train_test(frame), events, random_state=0)
    assert again.to_dict() == report.to_dict()  # the sample is seeded


def test_bad_input(churn, events):
    frame = churn.frame.join(_all_events(events)["n_events"], on=KEY)
    train, test = _train_test(frame)
    with pytest.raises(InputError, match="key given without events"):
        check_leakage(train, test, time_col=TIME, key=KEY)
    with pytest.raises(InputError, match="event_time_col="):
        check_leakage(train, test, time_col=TIME, events=events, key=KEY)
    with pytest.raises(InputError, match="time_col="):
        check_leakage(train, test, events=events, key=KEY, event_time_col=EVENT_TIME)
    with pytest.raises(InputError, match="events column 'account' not found"):
        check_leakage(train, test, time_col=TIME, events=events, key="account",
                      event_time_col=EVENT_TIME)
    with pytest.raises(InputError, match="test column 'customer_id' not found"):
        _check(train, test.drop(columns=KEY), events)
    with pytest.raises(InputError, match=r"column 'channel'.*not times"):
        check_leakage(train, test, time_col=TIME, events=events, key=KEY,
                      event_time_col="channel")
    with pytest.raises(InputError, match=r"column 'event_type'.*not times"):
        check_leakage(train, test, time_col=TIME, events=events.assign(event_type=True),
                      key=KEY, event_time_col="event_type")
    aware = events.assign(**{EVENT_TIME: events[EVENT_TIME].dt.tz_localize("UTC")})
    with pytest.raises(InputError, match=r"'event_at' \(events\) and 'last_event_at' "
                                         r"\(train\): one is time-zone-aware"):
        _check(train, test, aware)
    numeric = events.assign(**{EVENT_TIME: np.arange(len(events), dtype=float)})
    with pytest.raises(InputError, match="one holds datetimes, the other numbers"):
        _check(train, test, numeric)
    numbered = events.assign(**{KEY: np.arange(len(events))})
    with pytest.raises(InputError, match=r"column 'customer_id'.*no key would match"):
        _check(train, test, numbered)
    with pytest.raises(InputError, match="key and event_time_col are both"):
        check_leakage(train, test, time_col=TIME, events=events, key=EVENT_TIME,
                      event_time_col=EVENT_TIME)
    with pytest.raises(InputError, match="events has duplicated column names"):
        _check(train, test, pd.concat([events, events[["amount"]]], axis=1))


def test_empty_and_keyless_events(churn, events):
    frame = churn.frame.join(_all_events(events)["n_events"], on=KEY)
    train, test = _train_test(frame)
    assert not _check(train, test, events.iloc[:0]).findings_by(check="future_aggregate")
    keyless = events.assign(**{KEY: None}).astype({KEY: "object"})
    report = _check(train, test, keyless)
    assert not report.findings_by(check="future_aggregate")
