"""A panel table (several rows per person) with a numeric target, as pydataset's ``Males``."""

from __future__ import annotations

import numpy as np
import pandas as pd

import mllife


def males(seed: int = 0) -> pd.DataFrame:
    """545 young men over 1980-1987 (pydataset's ``Males``): ``nr`` the person id, ``wage`` a log wage.

    Person ids are sparse and skewed (13 to 12548, most below 5000); a few log wages are far
    below the rest, as in the real data (minimum -3.6 against a median of 1.7).
    """
    rng = np.random.default_rng(seed)
    people = 545
    ids = np.sort(np.unique(np.r_[rng.integers(13, 5_000, people - 40), rng.integers(5_000, 12_549, 60)]))[:people]
    n = len(ids) * 8
    year = np.tile(np.arange(1980, 1988), len(ids))
    school = np.repeat(rng.integers(3, 17, len(ids)), 8)
    exper = np.repeat(rng.integers(0, 6, len(ids)), 8) + (year - 1980)
    wage = (0.2 + 0.08 * school + 0.05 * exper + np.repeat(rng.normal(0, 0.35, len(ids)), 8)
            + rng.normal(0, 0.3, n))
    low = rng.choice(n, 6, replace=False)
    wage[low] = [-3.58, -2.9, -2.2, -1.9, -2.6, -3.1]
    return pd.DataFrame({
        "nr": np.repeat(ids, 8), "year": year, "school": school, "exper": exper,
        "union": rng.choice(["no", "yes"], n, p=[0.76, 0.24]),
        "ethn": np.repeat(rng.choice(["other", "black", "hisp"], len(ids), p=[0.73, 0.12, 0.15]), 8),
        "maried": rng.choice(["no", "yes"], n), "health": rng.choice(["no", "yes"], n, p=[0.98, 0.02]),
        "wage": wage.round(5),
        "industry": rng.choice(["Manufacturing", "Trade", "Construction", "Finance"], n),
        "occupation": rng.choice(["Craftsmen", "Operatives", "Professional", "Clerical"], n),
        "residence": rng.choice(["south", "north_east", "nothern_central", "rural_area"], n),
    })


def test_declared_id_is_never_judged_for_outliers():
    frame = males()
    skewed = frame.assign(nr=np.where(frame["nr"] > 9_000, frame["nr"] * 40, frame["nr"]))
    assert mllife.audit(skewed, checks=["outliers"]).findings_by(column="nr")  # as a number it looks odd
    report = mllife.audit(skewed, target="wage", id_cols=["nr"])
    assert report.findings_by(column="nr") == []


def test_continuous_target_has_no_conflicting_label_warning():
    frame = males()
    report = mllife.audit(frame, target="wage", id_cols=["nr"])
    found = report.findings_by(check="conflicting_labels")
    assert found  # identical features, different wages: worth knowing, not a defect
    assert {f.severity for f in found} == {"info"}
    assert "ordinary noise for a numeric target" in found[0].message
    assert found[0].details["classification"] is False
    assert [f.check for f in report.findings if f.severity != "info"] == []


def test_classification_target_still_warns_on_conflicting_labels():
    frame = males().assign(high=lambda d: (d["wage"] > d["wage"].median()).astype(int)).drop(columns="wage")
    twins = frame.iloc[:30].assign(high=1 - frame["high"].iloc[:30], nr=frame["nr"].iloc[:30] + 100_000)
    found = mllife.audit(pd.concat([frame, twins], ignore_index=True), target="high",
                         id_cols=["nr"]).findings_by(check="conflicting_labels")
    assert [f.severity for f in found] == ["warning"]


def test_target_outliers_are_reported_as_about_the_target():
    frame = males()
    report = mllife.audit(frame, target="wage", id_cols=["nr"])
    (found,) = report.findings_by(check="outliers", column="wage")
    assert found.details["target"] is True
    assert found.message.startswith("6 target values lie outside")
    assert found.n_rows == 6
    assert set(found.sample_index) <= set(np.flatnonzero(frame["wage"] < -1.5))
    assert "robust loss" in found.suggestion
    assert "wage" in set(report.profile["column"])
