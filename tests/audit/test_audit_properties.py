"""Hypothesis: the audit never crashes on generated frames, and its counts agree with pandas."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

import mllife

TEXT = st.sampled_from(["a", "b", " A", "N/A", "", "null", "2024-01-05", "05/01/2024", "3.5", "x y"])
FRAMES = data_frames(
    columns=[
        column("f", dtype=float, elements=st.one_of(st.floats(-1e6, 1e6), st.just(np.nan))),
        column("i", dtype=int, elements=st.sampled_from([-999, -1, 0, 1, 2, 5, 99])),
        column("s", dtype=object, elements=st.one_of(TEXT, st.none())),
        column("y", dtype=int, elements=st.integers(0, 2)),
    ],
    index=range_indexes(min_size=0, max_size=40),
)


@given(FRAMES)
def test_audit_never_crashes_and_counts_agree(df):
    before = df.copy(deep=True)
    report = mllife.audit(df, target="y")
    pd.testing.assert_frame_equal(df, before)
    json.loads(report.to_json())
    dup = report.findings_by(check="duplicate_rows")
    assert (dup[0].n_rows if dup else 0) == int(df.duplicated().sum())
    missing = {f.column: f.n_rows for f in report.findings_by(check="mostly_missing")}
    for col, n in missing.items():
        assert n == int(df[col].isna().sum())
    if len(df):
        p = mllife.profile(df).set_index("column")
        assert p["n_missing"].tolist() == df.isna().sum().tolist()
        assert p["n_unique"].tolist() == df.nunique().tolist()
    tokens = report.findings_by(check="disguised_nulls", column="s")
    expected = int(df["s"].map(lambda v: isinstance(v, str) and v.strip().lower() in
                               {"n/a", "", "null"}).sum())
    assert (tokens[0].n_rows if tokens else 0) == expected


@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=30, max_size=200),
       st.integers(0, 5))
def test_sentinel_counts_agree(values, n_sentinel):
    x = np.array(values + [-999.0] * n_sentinel)
    report = mllife.audit(pd.DataFrame({"x": x}), checks=["disguised_nulls"])
    found = report.findings
    if n_sentinel >= 2 and len(set(values)) >= 3:
        assert found
        assert found[0].n_rows == n_sentinel
    else:
        assert not found or found[0].n_rows == int((x == -999.0).sum())
