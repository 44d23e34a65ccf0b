"""make_churn: realistic, deterministic, and honest about what it planted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mllife
from mllife.datasets import make_churn


def test_deterministic():
    a = make_churn(500, random_state=3, drift=True)
    b = make_churn(500, random_state=3, drift=True)
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert a.manifest == b.manifest
    assert not a.frame.equals(make_churn(500, random_state=4).frame)


def test_clean_table_is_clean():
    frame, manifest = make_churn(3_000, defects=False)
    assert manifest == {}
    assert not frame.duplicated().any()
    assert frame.notna().all().all()
    assert 0.15 < frame["churned"].mean() < 0.35
    assert pd.api.types.is_datetime64_any_dtype(frame["signup_date"])
    assert (frame["signup_date"] <= frame["last_event_at"]).all()
    assert frame["customer_id"].is_unique


def test_manifest_matches_the_frame(churn):
    frame, manifest = churn
    assert len(frame) == 2_000
    dup_rows = manifest["duplicate_rows"]["rows"]
    assert len(dup_rows) == 40
    assert frame.duplicated(keep="first").sum() >= len(dup_rows)
    assert frame.loc[dup_rows].pipe(lambda d: d.duplicated(keep=False) | True).all()
    assert set(dup_rows) <= set(np.flatnonzero(frame.duplicated(keep=False)))
    features = frame.drop(columns="churned")
    conflict = manifest["conflicting_labels"]["rows"]
    assert set(conflict) <= set(np.flatnonzero(features.duplicated(keep=False)))
    assert (frame.loc[manifest["disguised_nulls"]["rows"], ["payment_method", "age"]]
            .pipe(lambda d: (d["payment_method"] == "N/A") | (d["age"] == -999))).all()
    formats = manifest["mixed_date_formats"]["formats"]
    assert sum(formats.values()) == len(frame) - manifest["duplicate_rows"]["n_rows"] - len(conflict)
    assert frame["promo_code"].isna().mean() > 0.8
    leak = frame["cancellation_requested"].astype(int) == frame["churned"]
    assert leak.mean() > 0.9
    variants = frame.loc[manifest["category_variants"]["rows"], "region"]
    assert not variants.isin(["north", "south", "east", "west", "central"]).any()
    assert frame.loc[manifest["outliers"]["rows"], "usage_gb"].min() > 1_000


def test_drift_is_in_later_months():
    frame, manifest = make_churn(6_000, defects=False, drift=True)
    late = frame["last_event_at"] >= pd.Timestamp(manifest["drift"]["start"])
    assert late.sum() == manifest["drift"]["n_rows"]
    assert frame.loc[late, "monthly_charges"].mean() > 1.2 * frame.loc[~late, "monthly_charges"].mean()
    assert frame.loc[late, "churned"].mean() > frame.loc[~late, "churned"].mean()


@pytest.mark.parametrize("bad", [0, 99, -5, 2.5, "10", True])
def test_rejects_bad_size(bad):
    with pytest.raises(mllife.InputError, match="n_rows"):
        make_churn(bad)


def test_accessors(churn):
    assert churn.target == "churned"
    assert churn.X.shape[1] == churn.frame.shape[1] - 1
    assert churn.y.name == "churned"
    frame, _manifest = churn  # unpacks like a tuple
    assert frame is churn.frame
