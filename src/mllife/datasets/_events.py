"""``make_churn_events``: the event table behind a churn table, with future events planted."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import as_frame, is_bool, is_datetime, is_native, is_numeric, require_columns
from .._random import as_generator
from ._churn import ChurnData

#: Kinds of event, in the ``event_type`` column.
EVENT_TYPES: tuple[str, ...] = ("purchase", "session", "support", "cancel")
#: Where an event happened, in the ``channel`` column.
CHANNELS: tuple[str, ...] = ("app", "web", "store")
#: The columns of the churn table the events are drawn from.
REQUIRED_COLUMNS: tuple[str, ...] = (
    "customer_id", "last_event_at", "churned", "tenure_months", "usage_gb", "monthly_charges",
    "support_tickets",
)
#: Days of history before the cutoff: the customer's tenure, within these bounds.
HISTORY_DAYS = (14.0, 365.0)
#: Planted future events fall in the days after the cutoff (a churner's cancel in the first 14).
FUTURE_DAYS, CANCEL_DAYS = 90, 14
_DAY = 86_400  # seconds
_MAX_PER_CUSTOMER = 1_000
#: Largest magnitude of a trait (tenure, usage, charges, tickets) read.
_MAX_VALUE = 1e12
_CHANNEL_P = {"purchase": (0.5, 0.3, 0.2), "session": (0.65, 0.35, 0.0),
              "support": (0.3, 0.45, 0.25), "cancel": (0.3, 0.5, 0.2)}


def _customers(data: Any) -> pd.DataFrame:
    """The churn table as a frame of the required columns, one row per customer."""
    if isinstance(data, ChurnData):
        frame = data.frame
    elif isinstance(data, pd.DataFrame) or is_native(data):
        frame = as_frame(data, name="data")
    else:
        raise InputError(f"data is a {type(data).__name__}",
                         expected="a ChurnData (make_churn's result) or its frame")
    require_columns(frame, REQUIRED_COLUMNS, what="data column")
    if not len(frame):
        raise InputError("data has no rows", expected="at least one customer")
    for column in REQUIRED_COLUMNS[2:]:
        s = frame[column]
        if is_bool(s) or not is_numeric(s):
            raise InputError(f"holds {s.dtype} values", column=column, expected="numbers")
        n_missing = int(s.isna().sum())
        if n_missing:
            raise InputError("has missing values", column=column, n_rows=n_missing,
                             expected="a value in every row")
        values = s.to_numpy(dtype=np.float64)
        n_bad = int((~np.isfinite(values) | (np.abs(values) > _MAX_VALUE)).sum())
        if n_bad:
            raise InputError("has infinite or absurdly large values", column=column,
                             n_rows=n_bad, expected=f"finite numbers within ±{_MAX_VALUE:.0e}")
    cutoff = frame["last_event_at"]
    if not is_datetime(cutoff) or isinstance(cutoff.dtype, pd.DatetimeTZDtype):
        raise InputError(f"holds {cutoff.dtype} values", column="last_event_at",
                         expected="naive datetimes (make_churn's last_event_at)")
    if cutoff.isna().any():
        raise InputError("has missing timestamps (NaT)", column="last_event_at",
                         n_rows=int(cutoff.isna().sum()), expected="a timestamp in every row")
    if frame["customer_id"].isna().any():
        raise InputError("has missing ids", column="customer_id",
                         n_rows=int(frame["customer_id"].isna().sum()),
                         expected="an id in every row")
    churned = frame["churned"].to_numpy(dtype=np.float64)
    if not np.isin(churned, (0.0, 1.0)).all():
        raise InputError("holds values other than 0 and 1", column="churned",
                         expected="a binary target (1 = the customer left)")
    # A planted duplicate row is the same customer again: its events are drawn once.
    return frame.loc[~frame["customer_id"].duplicated(), list(REQUIRED_COLUMNS)]


def _draw_kind(rng: np.random.Generator, p_support: np.ndarray) -> np.ndarray:
    """purchase / session / support for each event, support with probability ``p_support``."""
    u = rng.random(len(p_support))
    rest = (1.0 - p_support) / 2
    return np.where(u < p_support, 2, np.where(u < p_support + rest, 1, 0))


def _channels(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    p = np.array([_CHANNEL_P[EVENT_TYPES[k]] for k in range(len(EVENT_TYPES))])[kind]
    return (rng.random(len(kind))[:, None] > np.cumsum(p, axis=1)[:, :-1]).sum(axis=1)


def _events(rng: np.random.Generator, owner: np.ndarray, at: np.ndarray, kind: np.ndarray,
            price: np.ndarray) -> dict[str, np.ndarray]:
    """Columns for events of customers ``owner`` (positions) at ``at`` (ns) of ``kind``."""
    purchase = kind == 0
    amount = np.where(purchase, np.round(price[owner] * rng.lognormal(0.0, 0.5, len(kind)), 2),
                      0.0)
    # A cancellation refunds the unused part of the month: a negative amount.
    refund = -np.round(3 * price[owner] * rng.uniform(0.2, 1.0, len(kind)), 2)
    amount = np.where(kind == EVENT_TYPES.index("cancel"), refund, amount)
    items = np.where(purchase, 1 + rng.poisson(1.5, len(kind)), 0).astype(np.int64)
    return {"owner": owner, "at": at, "kind": kind, "channel": _channels(rng, kind),
            "amount": amount, "items": items}


def make_churn_events(
    data: Any,
    *,
    per_customer: int = 20,
    future: bool = True,
    random_state: int | None = None,
) -> pd.DataFrame:
    """The event table behind a churn table: activity before the cutoff, and after it.

    One row per event of the customers of ``data`` (a :func:`make_churn`
    result or its frame). Each customer's ``last_event_at`` is the **cutoff**:
    when the churn prediction is made. Before it, the customer's history
    (their tenure, 14 to 365 days) holds purchases, sessions and support
    contacts drawn from the same traits that drive churn: heavy users
    (``usage_gb``) are more active, customers with more ``support_tickets``
    contact support more, purchases scale with ``monthly_charges``, and
    customers who go on to churn are less active, spend less, contact support
    more and fade out towards the cutoff. Aggregates of the events before the
    cutoff therefore carry honest signal about churn.

    With ``future=True``, events **after** the cutoff are planted, as a real
    event table extracted today holds them: customers who stay keep their
    activity for the next 90 days; customers who churn file one ``cancel``
    event (refunded: a negative ``amount``) within 14 days and then fall
    silent. An aggregate over all events
    (a plain ``groupby`` joined back) sees them and gives the label away;
    ``mllife.features.AggregateFeatures(events, key="customer_id",
    time_col="event_at", cutoff_col="last_event_at")`` never does, and
    ``check_leakage(..., events=events, key="customer_id",
    event_time_col="event_at", time_col="last_event_at")`` flags the former.

    Columns
    -------
    ``customer_id``
        The customer (as in ``data``; a customer listed twice, as planted
        duplicates are, gets one history, drawn from its first row).
    ``event_at``
        ``datetime64[ns]``, naive like ``last_event_at``; whole seconds.
        Strictly before the customer's cutoff, or (planted) strictly after it.
    ``event_type``
        ``"purchase"``, ``"session"``, ``"support"`` or (planted, after the
        cutoff) ``"cancel"``.
    ``channel``
        ``"app"``, ``"web"`` or ``"store"``.
    ``amount``
        ``float64``, what a purchase cost (about a third of the monthly
        charge, log-normal); for a ``cancel``, the refund of the unused part
        of the month (negative); ``0.0`` for other events.
    ``items``
        ``int64``, items bought in a purchase (1 or more); ``0`` otherwise.

    Rows are sorted by ``event_at`` (then ``customer_id``), on a fresh
    ``RangeIndex``.

    Parameters
    ----------
    data : ChurnData or DataFrame
        :func:`make_churn`'s result (with or without defects) or its frame (a
        polars or pyarrow table is read too): needs ``customer_id``,
        ``last_event_at`` (naive datetimes), ``churned`` (0/1),
        ``tenure_months``, ``usage_gb``, ``monthly_charges`` and
        ``support_tickets`` (finite numbers). Not modified.
    per_customer : int, default=20
        Mean number of events per customer before the cutoff (each customer's
        count is Poisson around its own rate; at most 1,000 a customer).
    future : bool, default=True
        Plant the events after the cutoff (the leak to find). ``False`` gives a
        table in which every event is strictly before its customer's cutoff.
    random_state : int, numpy Generator or None, default=None
        Seed; the same seed and data give the same table, bit for bit.
        ``None`` is seed 0.

    Returns
    -------
    pandas.DataFrame
        The events, columns as above.

    Raises
    ------
    InputError
        ``data`` is neither a ``ChurnData`` nor a table; a required column is
        missing, not numeric, has missing, infinite or absurd values (beyond
        ±1e12), or ``data`` has no rows; ``last_event_at`` is not
        naive datetimes; ``churned`` is not 0/1; ``per_customer`` is not an
        integer from 1 to 1,000; ``future`` is not a bool.

    Examples
    --------
    >>> from mllife.datasets import make_churn, make_churn_events
    >>> data = make_churn(500, random_state=0, defects=False)
    >>> events = make_churn_events(data, per_customer=10, random_state=0)
    >>> events.columns.tolist()
    ['customer_id', 'event_at', 'event_type', 'channel', 'amount', 'items']
    >>> cutoff = events["customer_id"].map(data.frame.set_index("customer_id")["last_event_at"])
    >>> after = events[events["event_at"] > cutoff]
    >>> churners = set(data.frame.loc[data.frame["churned"] == 1, "customer_id"])
    >>> bool(after["customer_id"].isin(churners).eq(after["event_type"].eq("cancel")).all())
    True
    >>> past = make_churn_events(data, per_customer=10, future=False, random_state=0)
    >>> bool((past["event_at"] < past["customer_id"].map(
    ...     data.frame.set_index("customer_id")["last_event_at"])).all())
    True
    """
    if (isinstance(per_customer, bool) or not isinstance(per_customer, int | np.integer)
            or not 1 <= per_customer <= _MAX_PER_CUSTOMER):
        raise InputError(f"per_customer={per_customer!r} is not valid",
                         expected=f"an integer from 1 to {_MAX_PER_CUSTOMER:,}")
    if not isinstance(future, bool | np.bool_):
        raise InputError(f"future={future!r} is not a bool", expected="True or False")
    customers = _customers(data)
    rng = as_generator(random_state)
    n = len(customers)
    churned = customers["churned"].to_numpy(dtype=np.float64) == 1.0
    cutoff = customers["last_event_at"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    tenure = customers["tenure_months"].to_numpy(dtype=np.float64)
    history = np.clip((tenure + 0.5) * 30.44, *HISTORY_DAYS)
    usage = np.log1p(np.clip(customers["usage_gb"].to_numpy(dtype=np.float64), 0.0, None))
    z = (usage - usage.mean()) / (usage.std() or 1.0)
    tickets = np.clip(customers["support_tickets"].to_numpy(dtype=np.float64), 0.0, 20.0)
    price = np.clip(customers["monthly_charges"].to_numpy(dtype=np.float64), 1.0, None) / 3
    price = price * np.where(churned, 0.85, 1.0)

    # Activity per day: heavier users are more active, future churners less; a gamma
    # factor makes customers differ beyond their traits. Scaled so the mean count before
    # the cutoff is per_customer.
    weight = np.exp(0.45 * z) * np.where(churned, 0.7, 1.0) * rng.gamma(4.0, 0.25, n)
    rate = float(per_customer) * weight / float(np.mean(weight * history))
    counts = np.minimum(rng.poisson(rate * history), _MAX_PER_CUSTOMER)
    owner = np.repeat(np.arange(n), counts)
    # Offsets before the cutoff: uniform over the history for those who stay; churners fade
    # out (offset = history * u**0.6 puts fewer of their events near the cutoff).
    u = rng.random(len(owner))
    offset = history[owner] * np.where(churned[owner], u ** 0.6, u)
    seconds = np.maximum(1, np.floor(offset * _DAY)).astype(np.int64)
    at = cutoff[owner] - seconds * 1_000_000_000
    p_support = np.clip(0.04 + 0.05 * tickets + 0.06 * churned, 0.0, 0.6)[owner]
    parts = [_events(rng, owner, at, _draw_kind(rng, p_support), price)]

    if future:
        stay = ~churned
        n_after = np.where(stay, rng.poisson(rate * FUTURE_DAYS), 0)
        n_after = np.minimum(n_after, _MAX_PER_CUSTOMER)
        later = np.repeat(np.arange(n), n_after)
        seconds = 1 + rng.integers(0, FUTURE_DAYS * _DAY - 1, len(later))
        at = cutoff[later] + seconds * 1_000_000_000
        p_later = np.clip(0.04 + 0.05 * tickets, 0.0, 0.6)[later]
        parts.append(_events(rng, later, at, _draw_kind(rng, p_later), price))
        leavers = np.flatnonzero(churned)
        seconds = 1 + rng.integers(0, CANCEL_DAYS * _DAY - 1, len(leavers))
        at = cutoff[leavers] + seconds * 1_000_000_000
        cancel = np.full(len(leavers), EVENT_TYPES.index("cancel"))
        parts.append(_events(rng, leavers, at, cancel, price))

    cols = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    order = np.lexsort((cols["owner"], cols["at"]))
    cols = {key: value[order] for key, value in cols.items()}
    ids = customers["customer_id"].iloc[cols["owner"]].reset_index(drop=True)
    if not is_numeric(ids):
        ids = ids.astype("str")  # text ids as make_churn writes them (str / object)
    return pd.DataFrame({
        "customer_id": ids,
        "event_at": cols["at"].view("datetime64[ns]"),
        "event_type": pd.Series(np.asarray(EVENT_TYPES)[cols["kind"]]).astype("str"),
        "channel": pd.Series(np.asarray(CHANNELS)[cols["channel"]]).astype("str"),
        "amount": cols["amount"].astype(np.float64),
        "items": cols["items"].astype(np.int64),
    })
