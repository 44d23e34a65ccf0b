"""``make_churn_stream``: a production stream of churn batches, with an incident planted on request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._random import as_generator, as_seed
from ._churn import make_churn

#: The first scoring day of every stream (window 0); the reference is scored in the 28 days before.
STREAM_START = pd.Timestamp("2025-01-01", tz="UTC")
_REFERENCE_DAYS = 28
_DAY_SECONDS = 86_400
#: The model's inputs: every column of ``make_churn(defects=False)`` but the id, the two
#: timestamps (they move forward by construction, so they drift in any stream) and the target.
INPUT_COLUMNS: tuple[str, ...] = (
    "plan", "contract", "region", "payment_method", "gender", "age", "tenure_months",
    "monthly_charges", "total_charges", "usage_gb", "support_tickets",
)
SCENARIOS: tuple[str, ...] = ("scaler", "stale", "covariate_shift", "concept_shift", "schema_break")
#: Stale scenario: how many windows replay the last good batch.
STALE_WINDOWS = 7
#: Covariate shift: tilt added per window from ``start`` and its cap (in standard deviations).
SHIFT_STEP, SHIFT_MAX = 0.3, 1.5
#: Covariate shift: candidate rows per window row (weighted sampling without replacement).
_POOL_FACTOR = 4
#: Schema break: share of rows whose ``age`` arrives as text.
TEXT_SHARE = 0.05


@dataclass(frozen=True)
class ChurnStream:
    """What :func:`make_churn_stream` returns.

    Attributes
    ----------
    reference : pandas.DataFrame
        The labelled reference the model is trained and checked on:
        ``customer_id``, ``scored_at``, the inputs and ``churned``.
    batches : list of pandas.DataFrame
        One frame per window (day), in order: ``customer_id``, ``scored_at``
        (UTC, inside the window's day, sorted) and the inputs; no target.
    labels : pandas.DataFrame
        The ground truth that arrives later: ``customer_id``, ``churned``; one
        row per distinct customer of the stream.
    manifest : dict
        ``scenario``, ``start`` (first affected window), ``windows`` (every
        affected window), ``columns`` (affected columns), ``description`` and
        scenario details. ``scenario`` is ``None`` and ``windows`` empty for the
        null stream.

    Examples
    --------
    >>> stream = make_churn_stream(3, 200, reference_rows=500)
    >>> stream.target, stream.time_col, stream.id_col
    ('churned', 'scored_at', 'customer_id')
    >>> len(stream.batches), stream.batches[0].shape
    (3, (200, 13))
    """

    reference: pd.DataFrame
    batches: list[pd.DataFrame]
    labels: pd.DataFrame
    manifest: dict[str, Any]

    @property
    def target(self) -> str:
        """The label column: ``"churned"``."""
        return "churned"

    @property
    def time_col(self) -> str:
        """The scoring-time column: ``"scored_at"`` (UTC, one day per window)."""
        return "scored_at"

    @property
    def id_col(self) -> str:
        """The customer identifier column, the key labels join on."""
        return "customer_id"

    @property
    def inputs(self) -> tuple[str, ...]:
        """The model's input columns."""
        return INPUT_COLUMNS

    @property
    def X_reference(self) -> pd.DataFrame:
        """The reference inputs (what a model is fitted on)."""
        return self.reference.loc[:, list(INPUT_COLUMNS)]

    @property
    def y_reference(self) -> pd.Series:
        """The reference labels."""
        return self.reference[self.target]


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InputError(f"{name}={value!r} is not valid", expected=f"an integer of at least {minimum}")
    return int(value)


def make_churn_stream(
    n_windows: int = 30,
    rows_per_window: int = 2_000,
    *,
    scenario: str | None = None,
    start: int = 10,
    reference_rows: int = 5_000,
    random_state: int | None = None,
) -> ChurnStream:
    """A production stream of churn batches, one per day, with an incident planted on request.

    Every row comes from :func:`make_churn` (``defects=False``): the reference
    and the stream are disjoint customers of the same population, so without a
    scenario the stream has the reference's distribution and the same
    ``P(churned | inputs)``. Window ``w`` is the day ``2025-01-01 + w`` (UTC);
    the reference is scored in the 28 days before. ``last_event_at`` and
    ``signup_date`` are left out: timestamps move forward by construction.

    Parameters
    ----------
    n_windows : int, default=30
        Number of windows (days, one batch each), at least 1.
    rows_per_window : int, default=2_000
        Rows per batch, at least 10.
    scenario : {None, "scaler", "stale", "covariate_shift", "concept_shift", "schema_break"}
        The planted incident, from window ``start``:

        - ``None``: no incident (a null stream).
        - ``"scaler"``: ``monthly_charges`` arrives in cents (x 100), as when a
          pipeline's scaling step is not updated; the model then predicts
          nearly everyone churns.
        - ``"stale"``: for 7 windows the batch of window ``start - 1`` is
          replayed (ids and inputs identical) while ``scored_at`` advances:
          "the pipeline fed the model yesterday's data for a week".
        - ``"covariate_shift"``: gradual; rows are drawn with weights tilted
          towards high ``monthly_charges`` and short ``tenure_months``, the tilt
          growing by 0.3 standard deviations per window up to 1.5. Each row
          keeps the label the population gave it, so ``P(churned | inputs)`` is
          unchanged.
        - ``"concept_shift"``: ``P(churned | inputs)`` changes: churn is driven
          by age, region and payment method instead of contract and tenure.
          The inputs are unchanged; only the labels show it.
        - ``"schema_break"``: window ``start`` only: ``tenure_months`` is
          missing and 5% of ``age`` values arrive as the text ``"unknown"``.
    start : int, default=10
        First affected window, ``0 <= start < n_windows`` (``start >= 1`` for
        ``"stale"``, which replays the window before). Ignored without a scenario.
    reference_rows : int, default=5_000
        Rows of the labelled reference, at least 100.
    random_state : int, numpy Generator or None, default=None
        Seed (``None`` is seed 0); the same seed gives the same stream, bit for bit.

    Returns
    -------
    ChurnStream
        ``reference``, ``batches``, ``labels`` and ``manifest``.

    Raises
    ------
    InputError
        When a size is too small, ``scenario`` is unknown or ``start`` is out of range.

    Examples
    --------
    >>> stream = make_churn_stream(12, 500, scenario="scaler", start=8, reference_rows=1_000)
    >>> stream.manifest["scenario"], stream.manifest["start"], stream.manifest["columns"]
    ('scaler', 8, ['monthly_charges'])
    >>> before, after = stream.batches[7], stream.batches[8]
    >>> bool(after["monthly_charges"].median() > 50 * before["monthly_charges"].median())
    True
    >>> str(stream.batches[8]["scored_at"].min().date())
    '2025-01-09'
    >>> stream.labels.columns.tolist(), len(stream.labels)
    (['customer_id', 'churned'], 6000)
    """
    n_windows = _check_int("n_windows", n_windows, 1)
    rows_per_window = _check_int("rows_per_window", rows_per_window, 10)
    reference_rows = _check_int("reference_rows", reference_rows, 100)
    if scenario is not None and scenario not in SCENARIOS:
        raise InputError(f"scenario={scenario!r} is not known",
                         expected="None or one of " + ", ".join(repr(s) for s in SCENARIOS))
    if scenario is not None:
        lowest = 1 if scenario == "stale" else 0
        if isinstance(start, bool) or not isinstance(start, int | np.integer) \
                or not lowest <= start < n_windows:
            raise InputError(f"start={start!r} is outside the stream of {n_windows} windows",
                             expected=f"an integer in [{lowest}, {n_windows - 1}]"
                             + (" (stale replays the window before start)" if lowest else ""))
        start = int(start)
    rng = as_generator(random_state)

    factor = _POOL_FACTOR if scenario == "covariate_shift" else 1
    pool_per_window = factor * rows_per_window
    population = make_churn(max(100, reference_rows + n_windows * pool_per_window),
                            random_state=as_seed(rng), defects=False).frame
    population = population.loc[:, ["customer_id", *INPUT_COLUMNS, "churned"]]
    reference = population.iloc[:reference_rows].reset_index(drop=True)
    pool = population.iloc[reference_rows:reference_rows + n_windows * pool_per_window].reset_index(drop=True)

    # Which pool rows each window takes: all of its slice, or a tilted sample of it.
    window_of_pool = np.repeat(np.arange(n_windows), pool_per_window)
    if scenario == "covariate_shift":
        tilt = np.clip(SHIFT_STEP * (np.arange(n_windows) - start + 1), 0.0, SHIFT_MAX)
        chosen = _tilted_sample(pool, window_of_pool, tilt[window_of_pool], rows_per_window, rng)
    else:
        tilt = np.zeros(n_windows)
        chosen = np.arange(len(pool))
    stream = pool.iloc[chosen].reset_index(drop=True)
    window = window_of_pool[chosen]

    if scenario == "concept_shift":
        shifted = window >= start
        stream.loc[shifted, "churned"] = _new_concept(stream.loc[shifted], rng)

    offsets = np.sort(rng.uniform(0, _DAY_SECONDS, (n_windows, rows_per_window)), axis=1).ravel()
    scored_at = STREAM_START + pd.to_timedelta(window * _DAY_SECONDS + offsets, unit="s")
    stream.insert(1, "scored_at", pd.DatetimeIndex(scored_at).as_unit("ns"))
    ref_offsets = np.sort(rng.uniform(-_REFERENCE_DAYS * _DAY_SECONDS, 0, reference_rows))
    reference.insert(1, "scored_at",
                     pd.DatetimeIndex(STREAM_START + pd.to_timedelta(ref_offsets, unit="s")).as_unit("ns"))

    inputs = stream.drop(columns="churned")
    bounds = np.arange(n_windows + 1) * rows_per_window
    batches = [inputs.iloc[bounds[w]:bounds[w + 1]].reset_index(drop=True) for w in range(n_windows)]
    manifest = _plant(scenario, start, batches, tilt, rng)
    # Customers of replaced (stale) windows were never scored: they have no label.
    replaced = manifest["windows"] if scenario == "stale" else []
    labels = stream.loc[~np.isin(window, replaced), ["customer_id", "churned"]].reset_index(drop=True)
    return ChurnStream(reference=reference, batches=batches, labels=labels, manifest=manifest)


def _tilted_sample(pool: pd.DataFrame, window: np.ndarray, tilt: np.ndarray, k: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Per window, ``k`` pool rows drawn without replacement with weights ``exp(tilt * z)``.

    ``z`` combines the normal scores of ``monthly_charges`` (up) and
    ``tenure_months`` (down); Gumbel top-k keys give a weighted sample without
    replacement in one sort.
    """
    from scipy.special import ndtri

    def score(values: np.ndarray) -> np.ndarray:
        ranks = pd.Series(values).rank(method="average").to_numpy()
        return np.asarray(ndtri(ranks / (len(values) + 1)))

    z = (score(pool["monthly_charges"].to_numpy()) - score(pool["tenure_months"].to_numpy())) / np.sqrt(2.0)
    keys = tilt * z + rng.gumbel(size=len(pool))
    order = np.lexsort((-keys, window))  # by window, then by key, largest first
    rank_in_window = np.arange(len(pool)) - np.searchsorted(window[order], window[order], side="left")
    return np.sort(order[rank_in_window < k])


def _new_concept(rows: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Labels from another ``P(churned | inputs)``: age, region and payment method drive churn."""
    logit = (
        -1.45
        + 0.07 * (rows["age"].to_numpy() - 45)
        + 1.1 * (rows["region"].to_numpy() == "south")
        + 0.9 * (rows["payment_method"].to_numpy() == "paypal")
        + 0.03 * (rows["tenure_months"].to_numpy() - 20)
    )
    return (rng.random(len(rows)) < 1 / (1 + np.exp(-logit))).astype(np.int64)


def _plant(scenario: str | None, start: int, batches: list[pd.DataFrame], tilt: np.ndarray,
           rng: np.random.Generator) -> dict[str, Any]:
    n_windows = len(batches)
    if scenario is None:
        return {"scenario": None, "start": None, "windows": [], "columns": [],
                "description": "No incident: every window has the reference's distribution and P(churned | inputs)."}
    if scenario == "scaler":
        for w in range(start, n_windows):
            batches[w] = batches[w].assign(monthly_charges=batches[w]["monthly_charges"] * 100.0)
        return {"scenario": scenario, "start": start, "windows": list(range(start, n_windows)),
                "columns": ["monthly_charges"], "factor": 100.0,
                "description": f"From window {start}, monthly_charges arrives x100 (cents, a scaler not "
                               "updated): the model predicts nearly everyone churns."}
    if scenario == "stale":
        source = batches[start - 1]
        stop = min(n_windows, start + STALE_WINDOWS)
        for w in range(start, stop):
            batches[w] = source.assign(scored_at=source["scored_at"] + pd.Timedelta(days=w - start + 1))
        return {"scenario": scenario, "start": start, "windows": list(range(start, stop)),
                "columns": [], "source_window": start - 1,
                "description": f"Windows {start}-{stop - 1} replay the batch of window {start - 1} (same ids and "
                               "inputs) while scored_at advances: yesterday's data for a week."}
    if scenario == "covariate_shift":
        return {"scenario": scenario, "start": start, "windows": list(range(start, n_windows)),
                "columns": ["monthly_charges", "tenure_months"],
                "correlated": ["plan", "total_charges", "usage_gb"],
                "tilt": [float(t) for t in tilt],
                "description": f"From window {start}, rows are drawn tilted towards high monthly_charges and "
                               f"short tenure, by {SHIFT_STEP} sd more each window up to {SHIFT_MAX}; "
                               "labels follow the same P(churned | inputs)."}
    if scenario == "concept_shift":
        return {"scenario": scenario, "start": start, "windows": list(range(start, n_windows)),
                "columns": ["churned"],
                "description": f"From window {start}, churn is driven by age, region and payment method "
                               "instead of contract and tenure; inputs unchanged, visible only in the labels."}
    # schema_break: one window only
    batch = batches[start]
    text = rng.random(len(batch)) < TEXT_SHARE
    text[rng.integers(len(batch))] = True  # at least one row
    age = batch["age"].to_numpy(dtype=object, copy=True)
    age[text] = "unknown"
    batches[start] = batch.drop(columns="tenure_months").assign(age=pd.Series(age, dtype=object))
    return {"scenario": scenario, "start": start, "windows": [start],
            "columns": ["tenure_months", "age"], "missing": ["tenure_months"],
            "text_rows": {"age": int(text.sum())},
            "description": f"Window {start} only: tenure_months is missing and {int(text.sum())} age "
                           "values arrive as the text 'unknown'."}
