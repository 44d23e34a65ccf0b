"""make_churn_events: a deterministic event table, honest before the cutoff, leaky after it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

import mllife
from mllife import InputError
from mllife.datasets import make_churn, make_churn_events

COLUMNS = ["customer_id", "event_at", "event_type", "channel", "amount", "items"]


@pytest.fixture(scope="module")
def churn():
    return make_churn(2_000, random_state=3, defects=False)


@pytest.fixture(scope="module")
def events(churn):
    return make_churn_events(churn, random_state=0)


def _cutoff(churn, events) -> pd.Series:
    return events["customer_id"].map(churn.frame.set_index("customer_id")["last_event_at"])


def test_deterministic_per_seed(churn, events):
    pd.testing.assert_frame_equal(events, make_churn_events(churn, random_state=0))
    assert not events.equals(make_churn_events(churn, random_state=1))
    pd.testing.assert_frame_equal(make_churn_events(churn), make_churn_events(churn, random_state=0))
    assert mllife.make_churn_events is make_churn_events


def test_columns_dtypes_and_order(churn, events):
    assert events.columns.tolist() == COLUMNS
    assert pd.api.types.is_string_dtype(events["customer_id"])
    assert events["event_at"].dtype == "datetime64[ns]"
    assert events["amount"].dtype == "float64"
    assert events["items"].dtype == "int64"
    assert set(events["event_type"]) == {"purchase", "session", "support", "cancel"}
    assert set(events["channel"]) == {"app", "web", "store"}
    assert events.notna().all().all()
    assert isinstance(events.index, pd.RangeIndex)
    assert events["event_at"].is_monotonic_increasing
    assert (events["event_at"].dt.microsecond == 0).all()
    assert (events["event_at"].dt.nanosecond == 0).all()
    assert set(events["customer_id"]) <= set(churn.frame["customer_id"])
    purchase = events["event_type"] == "purchase"
    assert (events.loc[purchase, "amount"] > 0).all()
    assert (events.loc[purchase, "items"] >= 1).all()
    other = events["event_type"].isin(["session", "support"])
    assert (events.loc[other, ["amount", "items"]] == 0).all().all()


def test_no_event_after_the_cutoff_without_future(churn):
    past = make_churn_events(churn, per_customer=15, future=False, random_state=0)
    assert (past["event_at"] < _cutoff(churn, past)).all()
    assert "cancel" not in set(past["event_type"])
    # The history before the cutoff is the same with and without the planted future.
    full = make_churn_events(churn, per_customer=15, random_state=0)
    before = full[full["event_at"] < _cutoff(churn, full)].reset_index(drop=True)
    pd.testing.assert_frame_equal(before, past)
    assert (past["event_at"] >= _cutoff(churn, past) - pd.Timedelta("366D")).all()


def test_planted_future_events_give_the_label_away(churn, events):
    cutoff = _cutoff(churn, events)
    assert not (events["event_at"] == cutoff).any()  # strictly before or strictly after
    after = events[events["event_at"] > cutoff]
    label = churn.frame.set_index("customer_id")["churned"]
    churned = after["customer_id"].map(label) == 1
    # Churners: one cancel (a refund, negative amount) within 14 days, nothing else.
    cancels = after[churned]
    assert (cancels["event_type"] == "cancel").all()
    assert (cancels["amount"] < 0).all()
    assert cancels["customer_id"].is_unique
    assert set(cancels["customer_id"]) == set(label.index[label == 1])
    assert (cancels["event_at"] - cutoff[cancels.index] <= pd.Timedelta("14D")).all()
    # Stayers keep their activity for 90 days, never cancel.
    stayers = after[~churned]
    assert len(stayers) > 0.5 * len(label[label == 0])
    assert "cancel" not in set(stayers["event_type"])
    assert (stayers["event_at"] - cutoff[stayers.index] <= pd.Timedelta("90D")).all()
    assert (events.loc[events["amount"] < 0, "event_type"] == "cancel").all()
    # An aggregate over all events gives the label: the smallest amount is a refund.
    smallest = churn.frame["customer_id"].map(events.groupby("customer_id")["amount"].min())
    assert roc_auc_score(churn.frame["churned"], -smallest.fillna(0)) == 1.0


def test_history_carries_honest_signal(churn, events):
    cutoff = _cutoff(churn, events)
    before = events[events["event_at"] < cutoff]
    per_customer = before.groupby("customer_id").size()
    assert per_customer.sum() / len(churn.frame) == pytest.approx(20, rel=0.1)
    recent = before[before["event_at"] >= cutoff[before.index] - pd.Timedelta("30D")]
    frame = churn.frame
    n_recent = frame["customer_id"].map(recent.groupby("customer_id").size()).fillna(0)
    support = frame["customer_id"].map(
        before[before["event_type"] == "support"].groupby("customer_id").size()).fillna(0)
    auc_recent = roc_auc_score(frame["churned"], -n_recent)
    assert 0.65 < auc_recent < 0.95  # churners fade out before they leave: signal, not a leak
    assert roc_auc_score(frame["support_tickets"] >= 2, support) > 0.6  # the same traits
    usage = frame["customer_id"].map(per_customer).fillna(0)
    assert np.corrcoef(np.log1p(frame["usage_gb"]), usage)[0, 1] > 0.05


def test_accepts_a_frame_polars_and_defects_and_does_not_mutate(churn):
    frame = churn.frame.copy()
    a = make_churn_events(churn, per_customer=5, random_state=4)
    b = make_churn_events(frame, per_customer=5, random_state=4)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(frame, churn.frame)
    pl = pytest.importorskip("polars")
    c = make_churn_events(pl.from_pandas(frame), per_customer=5, random_state=4)
    pd.testing.assert_frame_equal(a, c, check_dtype=False)
    messy = make_churn(1_000, random_state=0, defects=True)
    events = make_churn_events(messy, per_customer=5, random_state=0)
    assert set(events["customer_id"]) <= set(messy.frame["customer_id"])
    # A duplicated customer gets one history: one cancel per churned customer.
    cancels = events[events["event_type"] == "cancel"]
    assert cancels["customer_id"].is_unique


def test_numeric_ids_stay_numbers(churn):
    frame = churn.frame.assign(customer_id=np.arange(len(churn.frame)) * 7)
    events = make_churn_events(frame, per_customer=3, random_state=0)
    assert events["customer_id"].dtype == np.int64


def test_bad_input(churn):
    frame = churn.frame
    with pytest.raises(InputError, match="ChurnData"):
        make_churn_events([1, 2, 3])
    with pytest.raises(InputError, match="data column 'usage_gb' not found"):
        make_churn_events(frame.drop(columns="usage_gb"))
    with pytest.raises(InputError, match=r"column 'tenure_months'.*expected numbers"):
        make_churn_events(frame.assign(tenure_months=frame["tenure_months"].astype(str)))
    with pytest.raises(InputError, match="column 'monthly_charges': has missing values"):
        make_churn_events(frame.assign(monthly_charges=np.nan))
    with pytest.raises(InputError, match=r"column 'last_event_at'.*naive datetimes"):
        make_churn_events(frame.assign(last_event_at=frame["last_event_at"].dt.tz_localize("UTC")))
    with pytest.raises(InputError, match=r"column 'last_event_at'.*NaT"):
        make_churn_events(frame.assign(last_event_at=pd.NaT).astype({"last_event_at": "datetime64[ns]"}))
    with pytest.raises(InputError, match=r"column 'churned'.*0 and 1"):
        make_churn_events(frame.assign(churned=2))
    with pytest.raises(InputError, match=r"column 'customer_id'.*missing ids"):
        make_churn_events(frame.assign(customer_id=None))
    for bad in (0, 1_001, 2.5, True, "20"):
        with pytest.raises(InputError, match="per_customer"):
            make_churn_events(frame, per_customer=bad)
    with pytest.raises(InputError, match="future"):
        make_churn_events(frame, future="yes")
    with pytest.raises(InputError, match="random_state"):
        make_churn_events(frame, random_state=-1)
