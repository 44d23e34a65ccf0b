"""future_aggregate under the null: columns unrelated to the events raise no alarm, also on
small and unequal sets where chance matches of small counts are likely."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mllife.split import check_leakage

N_SIM = 200


def _tables(rng: np.random.Generator, n_train: int, n_test: int):
    n_keys = int(rng.integers(3, 12))
    n_events = int(rng.integers(5, 40))
    events = pd.DataFrame({"k": rng.integers(0, n_keys, n_events),
                           "at": rng.integers(0, 20, n_events).astype(float),
                           "x": rng.integers(0, 3, n_events).astype(float)})

    def rows(n: int) -> pd.DataFrame:
        return pd.DataFrame({
            "k": rng.integers(0, n_keys + 2, n), "t": rng.integers(0, 20, n).astype(float),
            # unrelated columns shaped like the aggregates they might match by chance
            "small": rng.integers(0, 3, n).astype(float), "flag": (rng.random(n) < 0.9) * 1.0,
            "count_like": rng.poisson(2, n).astype(float), "gauss": rng.normal(size=n)})

    return rows(n_train), rows(n_test), events


def test_false_alarm_rate_under_the_null_small_unequal_sizes():
    rng = np.random.default_rng(20261201)
    alarms = 0
    for i in range(N_SIM):
        n_train, n_test = [(12, 40), (40, 8), (25, 25), (60, 15)][i % 4]
        train, test, events = _tables(rng, n_train, n_test)
        report = check_leakage(train, test, time_col="t", events=events, key="k",
                               event_time_col="at", random_state=i)
        alarms += bool(report.findings_by(check="future_aggregate"))
    # Each set's tests are Bonferroni-corrected at 0.05: the share of alarmed pairs of tables
    # stays within that level (one-sided 3-sd allowance for 200 simulations).
    assert alarms / N_SIM <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / N_SIM), alarms


def test_the_same_small_tables_do_flag_a_planted_groupby():
    """The null test above is not quiet because the check is blind on tables this small."""
    rng = np.random.default_rng(7)
    found = 0
    for i in range(40):
        train, test, events = _tables(rng, 60, 15)
        events = pd.concat([events] * 3, ignore_index=True)  # enough later events to differ
        events["x"] = rng.normal(size=len(events))
        total = events.groupby("k")["x"].sum()
        train = train.assign(leaky=train["k"].map(total))
        test = test.assign(leaky=test["k"].map(total))
        report = check_leakage(train, test, time_col="t", events=events, key="k",
                               event_time_col="at", random_state=i)
        found += [f.column for f in report.findings_by(check="future_aggregate")] == ["leaky"]
    assert found >= 30, found
