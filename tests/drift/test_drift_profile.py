"""DriftProfile: fit, sketch bound, merge property, serialization, compare without the data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from mllife import InputError
from mllife.drift import DriftProfile, drift_report


def _frame(n, seed, shift=0.0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "x": rng.normal(shift, 1.0, n),
        "k": rng.integers(0, 5, n),
        "c": rng.choice(np.array(["a", "b", "c"], dtype=object), n),
        "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="h"),
    })


def _ks_stat(report, column="x"):
    row = report.table.set_index("column").loc[column]
    return float(row["statistic"]) if row["method"] == "ks" else None


def test_small_reference_is_exact_and_matches_drift_report():
    ref, cur = _frame(3_000, 0), _frame(2_000, 1, shift=0.2)
    from_profile = DriftProfile.fit(ref).compare(cur).table
    direct = drift_report(ref, cur).table
    pd.testing.assert_frame_equal(from_profile, direct)
    x = from_profile.set_index("column").loc["x"]
    expected = sps.ks_2samp(ref["x"], cur["x"])
    assert x["statistic"] == pytest.approx(expected.statistic)
    assert x["p_value"] == pytest.approx(expected.pvalue)


def test_sketch_rank_error_bound():
    ref, cur = _frame(60_000, 2), _frame(30_000, 3, shift=0.05)
    sketch_size = 512
    profile = DriftProfile.fit(ref, sketch_size=sketch_size)
    summary = profile["x"].numeric
    assert not summary.exact
    assert summary.values.size == sketch_size
    assert summary.rank_error == pytest.approx(0.5 / sketch_size)
    exact_d = sps.ks_2samp(ref["x"], cur["x"]).statistic
    report = profile.compare(cur, large_sample=10**9)
    assert abs(_ks_stat(report) - exact_d) <= summary.rank_error + 1e-12
    # moments are exact even with a sketch
    assert summary.mean == pytest.approx(ref["x"].mean())
    assert summary.std == pytest.approx(ref["x"].std(ddof=0))


@pytest.mark.parametrize(("n_a", "n_b", "exact_size"), [(800, 1_200, 10_000), (30_000, 45_000, 10_000),
                                                         (5_000, 40_000, 10_000), (8_000, 7_000, 10_000)])
def test_merge_compares_like_fit_of_concat(n_a, n_b, exact_size):
    a, b = _frame(n_a, 4), _frame(n_b, 5)
    cur = _frame(20_000, 6, shift=0.03)
    sketch_size = 1024
    merged = DriftProfile.fit(a, exact_size=exact_size, sketch_size=sketch_size).merge(
        DriftProfile.fit(b, exact_size=exact_size, sketch_size=sketch_size))
    whole = DriftProfile.fit(pd.concat([a, b], ignore_index=True), exact_size=exact_size, sketch_size=sketch_size)
    assert merged.n_rows == whole.n_rows == n_a + n_b
    m_rep = merged.compare(cur, large_sample=10**9).table.set_index("column")
    w_rep = whole.compare(cur, large_sample=10**9).table.set_index("column")
    bound = merged["x"].numeric.rank_error + whole["x"].numeric.rank_error
    assert merged["x"].numeric.rank_error <= 1.5 / sketch_size
    for col in ("x", "t", "k"):
        assert abs(m_rep.loc[col, "statistic"] - w_rep.loc[col, "statistic"]) <= bound + 1e-12
    # categories and moments merge exactly
    assert m_rep.loc["c", "statistic"] == pytest.approx(w_rep.loc["c", "statistic"])
    assert merged["x"].numeric.mean == pytest.approx(whole["x"].numeric.mean)
    assert merged["x"].numeric.m2 == pytest.approx(whole["x"].numeric.m2)
    if n_a + n_b <= exact_size:
        pd.testing.assert_frame_equal(m_rep, w_rep)


@given(st.lists(st.floats(-100, 100), min_size=1, max_size=30), st.lists(st.floats(-100, 100), min_size=1,
                                                                           max_size=30))
def test_merge_of_exact_profiles_is_exact(xs, ys):
    a, b = pd.DataFrame({"x": xs}), pd.DataFrame({"x": ys})
    merged = DriftProfile.fit(a).merge(DriftProfile.fit(b))["x"].numeric
    whole = DriftProfile.fit(pd.concat([a, b]))["x"].numeric
    np.testing.assert_array_equal(merged.values, whole.values)
    np.testing.assert_allclose(merged.hist, whole.hist)


def test_json_round_trip_and_size():
    ref = _frame(50_000, 7)
    profile = DriftProfile.fit(ref)
    text = profile.to_json()
    data = json.loads(text)
    assert data["format"] == "mllife.DriftProfile"
    again = DriftProfile.from_json(text)
    assert again.to_dict() == profile.to_dict()
    assert DriftProfile.from_dict(json.loads(json.dumps(profile.to_dict()))).to_dict() == profile.to_dict()
    cur = _frame(5_000, 8, shift=0.3)
    pd.testing.assert_frame_equal(again.compare(cur).table, profile.compare(cur).table)
    assert len(text) < 1_000_000


def test_missing_and_inf_counts_are_kept():
    ref = pd.DataFrame({"x": [1.0, np.nan, np.inf, -np.inf, 2.0, 3.0], "c": ["a", None, "b", "a", np.nan, "b"]})
    profile = DriftProfile.fit(ref)
    x = profile["x"].numeric
    assert (x.n, x.n_missing, x.n_posinf, x.n_neginf) == (3, 1, 1, 1)
    c = profile["c"].categorical
    assert c.n_missing == 2
    assert dict(zip(c.labels, c.counts, strict=True)) == {"a": 2, "b": 2}


def test_profile_errors():
    with pytest.raises(InputError, match="not found"):
        DriftProfile.fit(pd.DataFrame({"a": [1]}), columns=["b"])
    with pytest.raises(InputError, match="sketch_size"):
        DriftProfile.fit(pd.DataFrame({"a": [1]}), sketch_size=2)
    with pytest.raises(InputError, match="not a DriftProfile"):
        DriftProfile.from_dict({"x": 1})
    with pytest.raises(InputError, match="not JSON"):
        DriftProfile.from_json("{nope")
    with pytest.raises(InputError, match="not in the profile"):
        DriftProfile.fit(pd.DataFrame({"a": [1]}))["b"]
    numbers = DriftProfile.fit(pd.DataFrame({"a": [1.0, 2.0]}))
    words = DriftProfile.fit(pd.DataFrame({"a": ["x", "y"]}))
    with pytest.raises(InputError, match="'a'"):
        numbers.merge(words)
    with pytest.raises(InputError, match="cannot merge"):
        numbers.merge({"a": 1})  # type: ignore[arg-type]


def test_merge_keeps_columns_of_either_and_empty_columns_adapt():
    a = DriftProfile.fit(pd.DataFrame({"x": [1.0, 2.0], "only_a": [1, 2]}))
    b = DriftProfile.fit(pd.DataFrame({"x": [None, None], "only_b": ["u", "v"]}, dtype=object))
    merged = a.merge(b)
    assert merged.columns == ["x", "only_a", "only_b"]
    assert merged["x"].numeric.n_missing == 2


def test_numpy_input_gets_generated_names():
    profile = DriftProfile.fit(np.arange(20.0).reshape(10, 2))
    assert profile.columns == ["x0", "x1"]


def test_fit_does_not_mutate_reference():
    ref = _frame(500, 9)
    ref.loc[3, "x"] = np.nan
    before = ref.copy()
    DriftProfile.fit(ref).compare(ref)
    pd.testing.assert_frame_equal(ref, before)
