"""AggregateFeatures on bad and odd input: a documented result, or an InputError naming the column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mllife import DataWarning, InputError, MllifeError
from mllife.features import AggregateFeatures


def _events(**extra):
    frame = pd.DataFrame({
        "customer_id": [1, 1, 2, 2],
        "event_at": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-05", "2024-02-10"]),
        "amount": [10.0, 20.0, 5.0, 7.0],
        "channel": ["app", "web", "app", "app"],
    })
    return frame.assign(**extra)


def _X(**extra):
    frame = pd.DataFrame({"customer_id": [1, 2],
                          "cutoff_at": pd.to_datetime(["2024-02-01", "2024-02-01"])})
    return frame.assign(**extra)


def _agg(events=None, **params):
    base = {"key": "customer_id", "time_col": "event_at", "cutoff_col": "cutoff_at",
            "windows": ("30D", "all"), "keep_original": False}
    return AggregateFeatures(_events() if events is None else events, **{**base, **params})


def _raises(match, fn, *, column=None):
    with pytest.raises(InputError, match=match) as info:
        fn()
    assert isinstance(info.value, MllifeError)
    if column is not None:
        assert info.value.column == column
    return info.value


# ---- parameters (checked at fit, before the data) ----------------------------------------
@pytest.mark.parametrize(("params", "match"), [
    ({"windows": ("1M",)}, "windows holds '1M', which is no fixed duration"),
    ({"windows": ("30D", "0D")}, "windows holds 0D; expected positive windows"),
    ({"windows": (-3.0,)}, "positive windows"),
    ({"windows": ("30D", "720h")}, "repeats a window"),
    ({"windows": ("30D", 7)}, "mixes durations and numbers"),
    ({"windows": ()}, "windows is empty"),
    ({"windows": [None]}, "windows holds None"),
    ({"windows": ("30D",), "gap": "30D"}, "not shorter than the window 30D"),
    ({"gap": "-1D"}, "is negative"),
    ({"gap": 1.0}, "is a number and the windows are durations"),
    ({"gap": "soon"}, "gap holds 'soon'"),
    ({"aggregations": ("count", "median")}, "unknown aggregations \\['median'\\]"),
    ({"aggregations": ("count", "count")}, "at most once"),
    ({"key": 3}, "key=3; expected a column name"),
    ({"by": ["channel"]}, "by=\\['channel'\\]"),
    ({"keep_original": "yes"}, "keep_original='yes'"),
])
def test_bad_parameters_are_named(params, match):
    _raises(match, lambda: _agg(**params).fit(_X()))


def test_events_must_be_a_table():
    _raises("events is a dict", lambda: _agg(events={"customer_id": [1]}).fit(_X()))


def test_windows_must_match_the_kind_of_times():
    _raises("are numbers but the times are datetimes",
            lambda: _agg(windows=(7.0,)).fit(_X()), column="event_at")
    numeric = _events(event_at=[1.0, 2.0, 3.0, 4.0])
    _raises("are durations but the times are numbers",
            lambda: _agg(events=numeric).fit(_X(cutoff_at=[5.0, 5.0])), column="event_at")


# ---- columns ---------------------------------------------------------------------------
@pytest.mark.parametrize(("where", "params", "column"), [
    ("X", {"key": "client"}, "client"),
    ("X", {"cutoff_col": "when"}, "when"),
])
def test_columns_missing_from_X_are_named(where, params, column):
    error = _raises("not found among the 2 feature\\(s\\) of X", lambda: _agg(**params).fit(_X()))
    assert error.column == column


@pytest.mark.parametrize(("params", "column"), [
    ({"time_col": "ts"}, "ts"),
    ({"by": "segment"}, "segment"),
    ({"columns": ["price"]}, "price"),
])
def test_columns_missing_from_events_are_named(params, column):
    _raises("not a column of events", lambda: _agg(**params).fit(_X()), column=column)


def test_key_missing_from_events_is_named():
    events = _events().rename(columns={"customer_id": "client"})
    _raises("key 'customer_id' is not a column of events", lambda: _agg(events=events).fit(_X()),
            column="customer_id")


def test_text_cannot_be_summed_but_can_be_counted():
    _raises("holds .* values, which \\['sum'\\] cannot aggregate",
            lambda: _agg(columns=["channel"], aggregations=("count", "sum")).fit(_X()),
            column="channel")
    out = _agg(columns=["channel"], aggregations=("nunique",), windows=("all",)).fit_transform(_X())
    assert out["channel__nunique__all"].tolist() == [2, 1]


def test_the_key_and_time_columns_are_not_values():
    _raises("is the time_col column", lambda: _agg(columns=["event_at"]).fit(_X()),
            column="event_at")


def test_default_columns_are_the_numeric_ones():
    agg = _agg(events=_events(flag=[True, False, True, True])).fit(_X())
    assert agg.columns_ == ["amount", "flag"]


# ---- times -----------------------------------------------------------------------------
def test_naive_against_aware_names_both_columns():
    aware = _events(event_at=_events()["event_at"].dt.tz_localize("Europe/Paris"))
    error = _raises("X\\['cutoff_at'\\] holds naive datetimes .* events\\['event_at'\\] holds "
                    "time-zone aware", lambda: _agg(events=aware).fit(_X()), column="cutoff_at")
    assert "tz_localize" in str(error)
    # fitted on aware times, a naive X at transform is refused the same way
    X_aware = _X(cutoff_at=_X()["cutoff_at"].dt.tz_localize("UTC"))
    agg = _agg(events=aware).fit(X_aware)
    _raises("naive datetimes", lambda: agg.transform(_X()), column="cutoff_at")


def test_aware_times_in_different_zones_compare_as_instants():
    events = _events(event_at=_events()["event_at"].dt.tz_localize("UTC"))
    # 2024-01-10 00:00 UTC is 2024-01-09 19:00 in New York: the same instant
    X = _X(cutoff_at=pd.to_datetime(["2024-01-09 19:00", "2024-01-09 19:00"])
           .tz_localize("America/New_York"))
    out = _agg(events=events, windows=("all",)).fit_transform(X)
    assert out["count__all"].tolist() == [1, 1]  # the event at exactly the cutoff is excluded


def test_datetimes_against_numbers_are_refused():
    _raises("holds numbers but events\\['event_at'\\] holds naive datetimes",
            lambda: _agg().fit(_X(cutoff_at=[5.0, 6.0])), column="cutoff_at")


def test_text_times_are_refused_with_a_hint():
    error = _raises("holds .* values, not times", lambda: _agg().fit(
        _X(cutoff_at=["2024-02-01", "2024-02-01"])), column="cutoff_at")
    assert "DatetimeParser" in str(error)


def test_events_without_a_time_or_key_are_left_out_and_counted():
    events = _events()
    events.loc[1, "event_at"] = pd.NaT
    events = pd.concat([events, pd.DataFrame({"customer_id": [None], "amount": [1.0],
                                              "event_at": pd.to_datetime(["2024-01-02"])})],
                       ignore_index=True)
    with pytest.warns(DataWarning, match="2 event\\(s\\) without a time .* or a key"):
        agg = _agg(events=events).fit(_X())
    assert agg.n_events_dropped_ == 2
    assert agg.n_events_ == 3
    out = agg.transform(_X())
    assert out["count__all"].tolist() == [1, 1]
    assert out["amount__sum__all"].tolist() == [10.0, 5.0]


def test_missing_cutoffs_absent_keys_and_early_cutoffs_give_empty_windows():
    X = pd.DataFrame({"customer_id": [1, 99, 2, None],
                      "cutoff_at": pd.to_datetime(["NaT", "2024-02-01", "2023-01-01",
                                                   "2024-02-01"])})
    out = _agg(aggregations=("count", "sum", "mean", "nunique", "time_since_last")).fit_transform(X)
    assert out["count__all"].tolist() == [0, 0, 0, 0]
    assert out["amount__sum__all"].tolist() == [0.0] * 4
    assert out["amount__nunique__30D"].tolist() == [0] * 4
    assert out["amount__mean__all"].isna().all()
    assert out["time_since_last__30D"].isna().all()


def test_infinite_times_and_values_are_refused():
    _raises("infinite times", lambda: _agg(events=_events(event_at=[1.0, np.inf, 2.0, 3.0]),
                                           windows=("all",)).fit(_X(cutoff_at=[5.0, 5.0])),
            column="event_at")
    _raises("infinite values", lambda: _agg(events=_events(amount=[1.0, np.inf, 2.0, 3.0]))
            .fit(_X()), column="amount")


def test_out_of_range_cutoffs_are_refused_and_far_events_are_fine():
    far = _events(event_at=np.array(["2024-01-01", "2500-01-01", "2024-01-05", "2024-02-10"],
                                    dtype="datetime64[s]"))
    out = _agg(events=far, windows=("all",)).fit_transform(_X())
    assert out["count__all"].tolist() == [1, 1]  # the year-2500 event is after every cutoff
    late = _X(cutoff_at=np.array(["2024-02-01", "2600-01-01"], dtype="datetime64[s]"))
    _raises("outside the years 1677-2262", lambda: _agg(events=far).fit(late), column="cutoff_at")


def test_bounds_are_exact_across_time_units():
    """Events in seconds, cutoffs in nanoseconds with a fraction of a second, windows in ms."""
    events = pd.DataFrame({"k": [1, 1, 1],
                           "t": pd.to_datetime(["2024-01-01 12:00:00", "2024-01-01 12:00:01",
                                                "2024-01-01 11:59:59"]).astype("datetime64[s]"),
                           "v": [1.0, 2.0, 4.0]})
    X = pd.DataFrame({"k": [1, 1], "cut": pd.to_datetime(["2024-01-01T12:00:00.5",
                                                          "2024-01-01T12:00:01"],
                                                         format="ISO8601").astype("datetime64[ns]")})
    out = AggregateFeatures(events, key="k", time_col="t", cutoff_col="cut",
                            windows=("500ms", "1500ms"), aggregations=("sum",),
                            keep_original=False).fit_transform(X)
    # 12:00:00.5 - 500ms = 12:00:00 <= t < 12:00:00.5 holds the 12:00:00 event only
    assert out["v__sum__500ms"].tolist() == [1.0, 0.0]
    assert out["v__sum__1500ms"].tolist() == [5.0, 1.0]


# ---- keys ------------------------------------------------------------------------------
def test_numbers_against_text_keys_are_refused_naming_the_key():
    error = _raises("holds text keys .* in X but number keys .* in events", lambda: _agg().fit(
        _X(customer_id=["1", "2"])), column="customer_id")
    assert "astype" in str(error)
    agg = _agg().fit(_X())
    _raises("holds text keys", lambda: agg.transform(_X(customer_id=["1", "2"])),
            column="customer_id")


def test_integer_and_float_keys_match_by_value():
    out = _agg(windows=("all",)).fit_transform(_X(customer_id=[1.0, 2.5]))
    assert out["count__all"].tolist() == [2, 0]
    sparse = _events(customer_id=[10**12, 10**12, 7, 7])      # far apart: hashed, not a range
    out = _agg(events=sparse, windows=("all",)).fit_transform(_X(customer_id=[10**12, 7]))
    assert out["count__all"].tolist() == [2, 1]


def test_text_and_categorical_keys():
    events = _events(customer_id=pd.Categorical(["a", "a", "b", "b"]))
    out = _agg(events=events, windows=("all",)).fit_transform(_X(customer_id=["a", "zz"]))
    assert out["count__all"].tolist() == [2, 0]


def test_unhashable_keys_are_refused():
    _raises("cannot be", lambda: _agg(events=_events(customer_id=[[1], [1], [2], [2]]))
            .fit(_X()), column="customer_id")


# ---- by and names ----------------------------------------------------------------------
def test_by_with_too_many_levels_is_refused():
    n = 202
    events = pd.DataFrame({"customer_id": np.ones(n, dtype=int),
                           "event_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(
                               np.arange(n), unit="min"),
                           "amount": np.ones(n), "channel": [f"c{i}" for i in range(n)]})
    _raises("has 202 levels", lambda: _agg(events=events, by="channel").fit(_X()),
            column="channel")


def test_levels_first_seen_after_fit_are_ignored():
    agg = _agg(by="channel", aggregations=("count",)).fit(_X())
    events_later = pd.concat([_events(), pd.DataFrame({
        "customer_id": [1], "event_at": pd.to_datetime(["2024-01-20"]), "amount": [1.0],
        "channel": ["store"]})], ignore_index=True)
    agg.set_params(events=events_later)  # a new table needs a new fit: the old state is used
    out = agg.transform(_X())
    assert not any("store" in c for c in out.columns)


def test_names_that_collide_with_X_are_refused():
    _raises("already columns of X", lambda: _agg(keep_original=True, aggregations=("count",))
            .fit(_X(**{"count__30D": [0, 0]})))


def test_the_input_frames_are_not_modified():
    events, X = _events(), _X()
    events_copy, X_copy = events.copy(), X.copy()
    _agg(by="channel").fit_transform(X)
    pd.testing.assert_frame_equal(events, events_copy)
    pd.testing.assert_frame_equal(X, X_copy)
