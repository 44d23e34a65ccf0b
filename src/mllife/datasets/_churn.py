"""``make_churn``: a realistic synthetic churn table with planted defects."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .._errors import InputError
from .._random import as_generator

_PLANS = np.array(["basic", "standard", "premium"])
_CONTRACTS = np.array(["month-to-month", "one-year", "two-year"])
_REGIONS = np.array(["north", "south", "east", "west", "central"])
_PAYMENTS = np.array(["card", "bank_transfer", "paypal", "invoice"])
_WINDOW_START = pd.Timestamp("2024-01-01")
_WINDOW_END = pd.Timestamp("2024-12-31 23:59:59")
DRIFT_START = pd.Timestamp("2024-10-01")


class ChurnData(NamedTuple):
    """What :func:`make_churn` returns: the table and what was planted in it.

    Unpacks as ``frame, manifest = make_churn()``.

    Examples
    --------
    >>> data = make_churn(200, random_state=0, defects=False)
    >>> data.target, data.time_col, data.X.shape
    ('churned', 'last_event_at', (200, 14))
    >>> frame, manifest = data
    """

    frame: pd.DataFrame
    manifest: dict[str, dict[str, Any]]

    @property
    def target(self) -> str:
        """The target column: ``"churned"`` (1 = the customer left)."""
        return "churned"

    @property
    def time_col(self) -> str:
        """The event-time column, for time-aware splits and drift."""
        return "last_event_at"

    @property
    def id_col(self) -> str:
        """The customer identifier column."""
        return "customer_id"

    @property
    def sensitive_features(self) -> tuple[str, ...]:
        """Columns to audit fairness across."""
        return ("gender",)

    @property
    def X(self) -> pd.DataFrame:
        """The features: every column but the target."""
        return self.frame.drop(columns=[self.target])

    @property
    def y(self) -> pd.Series:
        """The target column."""
        return self.frame[self.target]


def make_churn(
    n_rows: int = 10_000,
    *,
    random_state: int | None = None,
    defects: bool = True,
    drift: bool = False,
) -> ChurnData:
    """A realistic synthetic customer-churn table, with defects planted on request.

    One row per customer observation: ``customer_id``, ``signup_date``,
    ``last_event_at`` (2024), ``plan``, ``contract``, ``region``,
    ``payment_method``, ``gender``, ``age``, ``tenure_months``,
    ``monthly_charges``, ``total_charges``, ``usage_gb``, ``support_tickets``
    and the binary target ``churned`` (about 20-30% positive, driven by
    contract, tenure, tickets, charges and usage).

    Parameters
    ----------
    n_rows : int, default=10_000
        Rows in the returned frame, planted duplicates included.
    random_state : int, numpy Generator or None, default=None
        Seed; the same seed gives the same table, bit for bit. ``None`` is seed 0
        (mllife's one ``random_state`` policy), so ``make_churn()`` is reproducible.
    defects : bool, default=True
        Plant the defects a real table has: exact duplicate rows,
        conflicting labels, disguised nulls (``"N/A"`` strings, a ``-999``
        age sentinel), several date formats in ``signup_date``, numbers
        stored as strings (``total_charges``, with ``" "`` for new
        customers), whitespace/case variants of ``region``, a mostly-missing
        ``promo_code`` column, a leaky ``cancellation_requested`` column
        (recorded after the outcome) and extreme ``usage_gb`` outliers.
    drift : bool, default=False
        From October 2024 (``last_event_at``), charges rise 15%, premium
        plans and usage shift, and churn rises: a realistic production drift.

    Returns
    -------
    ChurnData
        ``(frame, manifest)``. The manifest maps each planted defect to
        ``{"kind", "columns", "rows" (index labels), "n_rows", "description"}``
        plus defect-specific details; it is empty when nothing was planted.

    Raises
    ------
    InputError
        When ``n_rows`` is below 100.

    Examples
    --------
    >>> frame, manifest = make_churn(1_000, random_state=0)
    >>> frame.shape
    (1000, 17)
    >>> sorted(manifest)
    ['category_variants', 'conflicting_labels', 'disguised_nulls', 'duplicate_rows', 'leaky_column', 'mixed_date_formats', 'mostly_missing', 'numbers_as_strings', 'outliers']
    >>> manifest["duplicate_rows"]["n_rows"]
    20
    >>> clean, nothing = make_churn(1_000, defects=False)
    >>> nothing
    {}
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, int | np.integer) or n_rows < 100:
        raise InputError(f"n_rows={n_rows!r} is too small", expected="an integer of at least 100")
    n_rows = int(n_rows)
    rng = as_generator(random_state)
    n_dup = round(0.02 * n_rows) if defects else 0
    n_conflict = round(0.003 * n_rows) if defects else 0
    n = n_rows - n_dup - n_conflict

    # ---- the clean population ------------------------------------------------
    window_seconds = int((_WINDOW_END - _WINDOW_START).total_seconds())
    last_event = _WINDOW_START + pd.to_timedelta(rng.integers(0, window_seconds, n), unit="s")
    tenure = np.minimum(rng.gamma(1.6, 14.0, n).astype(int), 120)
    signup = (last_event - pd.to_timedelta(tenure * 30.44 + rng.uniform(0, 30, n), unit="D")).normalize()
    late = np.asarray(last_event >= DRIFT_START) if drift else np.zeros(n, dtype=bool)

    plan_p = np.where(late[:, None], [0.35, 0.30, 0.35], [0.5, 0.3, 0.2])
    plan_idx = (rng.random(n)[:, None] > np.cumsum(plan_p, axis=1)).sum(axis=1)
    plan = _PLANS[plan_idx]
    contract = rng.choice(_CONTRACTS, n, p=[0.55, 0.25, 0.20])
    region = rng.choice(_REGIONS, n, p=[0.22, 0.2, 0.2, 0.18, 0.2])
    payment = rng.choice(_PAYMENTS, n, p=[0.45, 0.25, 0.2, 0.1])
    gender = rng.choice(np.array(["female", "male"]), n)
    age = np.clip(rng.normal(45, 14, n), 18, 90).astype(np.int64)
    base_charge = np.array([29.0, 59.0, 99.0])[plan_idx]
    monthly = np.round(base_charge * rng.lognormal(0, 0.12, n) * np.where(late, 1.15, 1.0), 2)
    usage = np.round(rng.lognormal(np.log(20 + 25 * plan_idx), 0.6, n) * np.where(late, 0.8, 1.0), 2)
    tickets = rng.poisson(0.6 + 0.9 * (contract == "month-to-month") + 0.4 * (age > 65), n)
    total = np.round(monthly * tenure * rng.uniform(0.97, 1.03, n), 2)

    logit = (
        -1.9
        + 1.3 * (contract == "month-to-month")
        - 0.9 * (contract == "two-year")
        - 0.035 * tenure
        + 0.45 * tickets
        + 0.012 * (monthly - 55)
        - 0.015 * (usage - 35)
        + 0.25 * (payment == "invoice")
        + np.where(late, 0.6, 0.0)
    )
    churned = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)

    frame = pd.DataFrame(
        {
            "customer_id": np.char.add("CUST-", np.char.zfill(np.arange(1, n + 1).astype(str), 6)),
            "signup_date": signup.astype("datetime64[ns]"),
            "last_event_at": pd.DatetimeIndex(last_event).astype("datetime64[ns]"),
            "plan": plan,
            "contract": contract,
            "region": region,
            "payment_method": payment,
            "gender": gender,
            "age": age,
            "tenure_months": tenure.astype(np.int64),
            "monthly_charges": monthly,
            "total_charges": total,
            "usage_gb": usage,
            "support_tickets": tickets.astype(np.int64),
            "churned": churned,
        }
    )
    manifest: dict[str, dict[str, Any]] = {}
    flags: dict[str, np.ndarray] = {}

    if drift:
        flags["drift"] = late.copy()
        manifest["drift"] = {
            "kind": "drift",
            "columns": ["plan", "monthly_charges", "usage_gb", "churned"],
            "start": DRIFT_START.isoformat(),
            "description": "From 2024-10-01: charges +15%, more premium plans, usage -20%, higher churn.",
        }

    if defects:
        frame, flags, manifest = _plant(frame, rng, flags, manifest, n_dup, n_conflict)
    else:
        frame = frame.astype(dict.fromkeys(("customer_id", "plan", "contract", "region", "payment_method", "gender"), "str"))

    # Shuffle so planted rows are not grouped at the end; index is 0..n_rows-1.
    order = rng.permutation(len(frame))
    frame = frame.iloc[order].reset_index(drop=True)
    for name, mask in flags.items():
        rows = np.flatnonzero(mask[order])
        manifest[name]["rows"] = rows.tolist()
        manifest[name]["n_rows"] = len(rows)
    return ChurnData(frame, manifest)


def _plant(
    frame: pd.DataFrame,
    rng: np.random.Generator,
    flags: dict[str, np.ndarray],
    manifest: dict[str, dict[str, Any]],
    n_dup: int,
    n_conflict: int,
) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    n = len(frame)

    def pick(share: float, *, where: np.ndarray | None = None) -> np.ndarray:
        pool = np.arange(n) if where is None else np.flatnonzero(where)
        k = max(1, round(share * n))
        mask = np.zeros(n, dtype=bool)
        mask[rng.choice(pool, size=min(k, len(pool)), replace=False)] = True
        return mask

    # Disguised nulls: "N/A" in payment_method, a -999 sentinel in age.
    na_mask = pick(0.04)
    payment = frame["payment_method"].to_numpy(dtype=object).copy()
    payment[na_mask] = "N/A"
    age_mask = pick(0.015)
    age = frame["age"].to_numpy().copy()
    age[age_mask] = -999
    flags["disguised_nulls"] = na_mask | age_mask
    manifest["disguised_nulls"] = {
        "kind": "disguised_null",
        "columns": ["payment_method", "age"],
        "tokens": {"payment_method": ["N/A"], "age": [-999]},
        "rows_by_column": {"payment_method": int(na_mask.sum()), "age": int(age_mask.sum())},
        "description": "Missing values written as the string 'N/A' and the number -999.",
    }

    # Several date formats in one column.
    signup = frame["signup_date"]
    fmt_choice = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
    iso = signup.dt.strftime("%Y-%m-%d").to_numpy(dtype=object)
    dmy = signup.dt.strftime("%d/%m/%Y").to_numpy(dtype=object)
    mon = signup.dt.strftime("%b %d, %Y").to_numpy(dtype=object)
    signup_text = np.where(fmt_choice == 0, iso, np.where(fmt_choice == 1, dmy, mon))
    flags["mixed_date_formats"] = fmt_choice != 0
    manifest["mixed_date_formats"] = {
        "kind": "mixed_date_formats",
        "columns": ["signup_date"],
        "formats": {"%Y-%m-%d": int((fmt_choice == 0).sum()), "%d/%m/%Y": int((fmt_choice == 1).sum()),
                    "%b %d, %Y": int((fmt_choice == 2).sum())},
        "description": "signup_date is text in three formats: ISO, dd/mm/yyyy and 'Mon DD, YYYY'.",
    }

    # Numbers stored as strings, with " " for customers in their first month.
    total = frame["total_charges"].map("{:.2f}".format).to_numpy(dtype=object)
    blank = frame["tenure_months"].to_numpy() == 0
    total[blank] = " "
    flags["numbers_as_strings"] = np.ones(n, dtype=bool)
    manifest["numbers_as_strings"] = {
        "kind": "numbers_as_strings",
        "columns": ["total_charges"],
        "blank_rows": int(blank.sum()),
        "description": "total_charges holds numbers as text; new customers have ' ' instead.",
    }

    # Whitespace and case variants of one category.
    variant_mask = pick(0.03)
    region = frame["region"].to_numpy(dtype=object).copy()
    style = rng.integers(0, 3, n)
    upper = np.char.upper(region.astype(str)).astype(object)
    padded = np.char.add(" ", region.astype(str)).astype(object)
    title = np.char.title(region.astype(str)).astype(object)
    region[variant_mask] = np.where(style == 0, upper, np.where(style == 1, padded, title))[variant_mask]
    flags["category_variants"] = variant_mask
    manifest["category_variants"] = {
        "kind": "category_variants",
        "columns": ["region"],
        "description": "region has case and whitespace variants ('NORTH', ' north', 'North').",
    }

    # A mostly-missing column.
    has_promo = rng.random(n) < 0.12
    promo = rng.choice(np.array(["SPRING10", "WELCOME", "LOYAL20"], dtype=object), n)
    promo[~has_promo] = None
    flags["mostly_missing"] = ~has_promo
    manifest["mostly_missing"] = {
        "kind": "mostly_missing",
        "columns": ["promo_code"],
        "description": "promo_code is missing for about 88% of rows.",
    }

    # A leaky column: recorded after the outcome, almost equal to the target.
    churned = frame["churned"].to_numpy()
    flip = rng.random(n) < 0.03
    leak = np.where(flip, 1 - churned, churned).astype(bool)
    flags["leaky_column"] = np.ones(n, dtype=bool)
    manifest["leaky_column"] = {
        "kind": "target_leakage",
        "columns": ["cancellation_requested"],
        "description": "cancellation_requested is recorded after churn; it equals the target in 97% of rows.",
    }

    # Extreme outliers.
    outlier_mask = pick(0.002)
    usage = frame["usage_gb"].to_numpy().copy()
    usage[outlier_mask] = np.round(usage[outlier_mask] * 60 + 2_000, 2)
    flags["outliers"] = outlier_mask
    manifest["outliers"] = {
        "kind": "outlier",
        "columns": ["usage_gb"],
        "description": "A few usage_gb values are 60x the usual (a unit error).",
    }

    frame = frame.assign(
        signup_date=pd.Series(signup_text, dtype=object, index=frame.index),
        payment_method=pd.Series(payment, dtype=object, index=frame.index),
        age=age,
        total_charges=pd.Series(total, dtype=object, index=frame.index),
        region=pd.Series(region, dtype=object, index=frame.index),
        usage_gb=usage,
        promo_code=pd.Series(promo, dtype=object, index=frame.index),
        cancellation_requested=leak,
    )
    frame = frame[[c for c in frame.columns if c != "churned"] + ["churned"]]

    # Exact duplicate rows and conflicting labels: copies of random rows.
    sources = rng.choice(n, size=n_dup + n_conflict, replace=False)
    copies = frame.iloc[sources].copy()
    conflict = np.zeros(len(copies), dtype=bool)
    conflict[n_dup:] = True
    flipped = 1 - copies["churned"].to_numpy()
    copies["churned"] = np.where(conflict, flipped, copies["churned"].to_numpy())
    frame = pd.concat([frame, copies], ignore_index=True)
    for name, mask in list(flags.items()):
        flags[name] = np.concatenate([mask, mask[sources]])
    flags["duplicate_rows"] = np.concatenate([np.zeros(n, dtype=bool), ~conflict])
    flags["conflicting_labels"] = np.concatenate([np.zeros(n, dtype=bool), conflict])
    manifest["duplicate_rows"] = {
        "kind": "duplicate_rows",
        "columns": [],
        "description": "Exact copies of earlier rows (rows lists the second copies).",
    }
    manifest["conflicting_labels"] = {
        "kind": "conflicting_labels",
        "columns": ["churned"],
        "description": "Copies of earlier rows with the target flipped (rows lists the copies).",
    }
    return frame, flags, manifest
