"""Real-looking tables found in review: date-time units, empty references, profile size."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from mllife.drift import DriftProfile, drift_report


def _stamps(rng, n, *, shift_days=0, unit="us", tz=None):
    seconds = rng.integers(0, 10**7, n)
    out = (pd.Timestamp("2024-01-01") + pd.to_timedelta(seconds, unit="s")
           + pd.Timedelta(days=shift_days))
    out = pd.Series(out).astype(f"datetime64[{unit}]")
    return out.dt.tz_localize("UTC").dt.tz_convert(tz) if tz else out


@pytest.mark.parametrize(("ref_unit", "cur_unit", "tz"), [
    ("ns", "us", None), ("s", "ns", None), ("us", "ms", "Europe/Paris"),
])
def test_datetimes_in_different_units_compare_on_one_time_scale(ref_unit, cur_unit, tz):
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"t": _stamps(rng, 3000, unit=ref_unit, tz=tz)})
    cur = pd.DataFrame({"t": _stamps(rng, 3000, unit=cur_unit, tz=tz)})
    row = drift_report(ref, cur).table.iloc[0]
    seconds = [s.astype("datetime64[s]").astype("int64") if tz is None
               else s.dt.tz_convert(None).astype("datetime64[s]").astype("int64")
               for s in (ref["t"], cur["t"])]
    expected = sps.ks_2samp(*seconds)
    assert row["statistic"] == pytest.approx(expected.statistic)
    assert row["p_value"] == pytest.approx(expected.pvalue, rel=1e-6)
    shifted = pd.DataFrame({"t": _stamps(rng, 3000, shift_days=30, unit=cur_unit, tz=tz)})
    row = drift_report(ref, shifted).table.iloc[0]
    assert row["drifted"]
    assert 0.2 < row["statistic"] < 0.4
    assert 0.5 < row["effect_size"] < 1.5  # about 0.9 sd


def test_datetime_overlay_is_drawn_as_dates():
    rng = np.random.default_rng(1)
    report = drift_report(pd.DataFrame({"t": _stamps(rng, 500)}),
                          pd.DataFrame({"t": _stamps(rng, 500, shift_days=40)}))
    assert report.distributions["t"]["datetime"] is True
    assert report.distributions["t"]["xlabel"] == "date-time (UTC)"
    assert "1970" not in report.to_html()


def test_all_missing_reference_column_reports_missing_rate_not_failure():
    ref = pd.DataFrame({"c": [np.nan] * 100, "x": np.arange(100.0)})
    cur = pd.DataFrame({"c": ["u"] * 100, "x": np.arange(100.0)})
    row = drift_report(ref, cur).table.set_index("column").loc["c"]
    assert row["status"] == "no values in reference; current holds categorical values"
    assert row["drifted"]
    assert row["reason"].startswith("missing rate 100.0% -> 0.0%, p=")  # Fisher's exact, corrected
    assert row["missing_p_adjusted"] < 1e-20
    assert row["missing_reference"] == 1.0
    assert row["missing_current"] == 0.0


def test_identical_real_looking_frames_give_zero_drift_and_no_warnings():
    rng = np.random.default_rng(2)
    n = 500
    frame = pd.DataFrame({
        "code": rng.integers(0, 5, n), "flag": rng.random(n) < 0.3,
        "nflag": pd.array(rng.random(n) < 0.3, dtype="boolean"),
        "cat": pd.Categorical(rng.choice(["x", "y", "z"], n)),
        "I": pd.array(rng.integers(0, 100, n), dtype="Int64"),
        "s": pd.array(rng.choice(["u", "v", None], n), dtype="string"),
        "t": _stamps(rng, n, tz="UTC"),
    })
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = drift_report(frame, frame)
        report.to_html()
    assert report.drift_share == 0.0
    assert report.findings == ()
    assert (report.table["statistic"] == 0).all()
    assert (report.table["status"] == "ok").all()


def test_profile_json_is_compact_bit_exact_and_survives_a_file(tmp_path):
    rng = np.random.default_rng(3)
    n = 3000
    wide = pd.DataFrame({f"n{i}": rng.normal(size=n) for i in range(40)}
                        | {f"c{i}": rng.choice(list("abcdefgh"), n) for i in range(10)})
    profile = DriftProfile.fit(wide)
    text = profile.to_json()
    # 40 numeric columns x 3000 exact float64 values: ~11 bytes of JSON per value.
    assert len(text) < 40 * 3000 * 12
    path = tmp_path / "profile.json"
    path.write_text(text)
    restored = DriftProfile.from_json(path.read_text())
    assert restored.to_dict() == profile.to_dict()
    np.testing.assert_array_equal(restored["n0"].numeric.values, np.sort(wide["n0"].to_numpy()))
    assert restored.compare(wide).table.equals(profile.compare(wide).table)


def test_profile_reads_plain_lists_and_refuses_corrupted_packed_values():
    rng = np.random.default_rng(4)
    profile = DriftProfile.fit(pd.DataFrame({"x": rng.normal(size=500)}))
    data = json.loads(profile.to_json())
    packed = data["columns"][0]["summary"]["values"]
    assert set(packed) == {"float64_zlib_base64", "size"}
    data["columns"][0]["summary"]["values"] = profile["x"].numeric.values.tolist()
    assert DriftProfile.from_dict(data).to_dict() == profile.to_dict()
    data["columns"][0]["summary"]["values"] = {**packed, "float64_zlib_base64": "AAAA"}
    with pytest.raises(Exception, match="malformed") as info:
        DriftProfile.from_dict(data)
    assert type(info.value).__name__ == "InputError"


def test_column_of_python_objects_is_compared_by_string_form_not_a_crash():
    n = 300
    ref = pd.DataFrame({"payload": [{"a": 1}] * n, "tags": [[1, 2]] * (n - 1) + [None],
                        "x": np.arange(n, dtype=float)})
    cur = ref.assign(payload=[{"a": 2}] * n)
    for report in (drift_report(ref, cur), DriftProfile.fit(ref).compare(cur)):
        table = report.table.set_index("column")
        assert (table["status"] == "ok").all()
        assert table.loc["payload", "drifted"]
        assert table.loc["payload", "unseen_share"] == 1.0
        assert not table.loc["tags", "drifted"]
        assert table.loc["tags", "missing_reference"] == pytest.approx(1 / n)


def test_a_side_without_rows_is_an_input_error_not_a_quiet_no_drift():
    frame = pd.DataFrame({"x": np.arange(10.0), "c": list("ababababab")})
    with pytest.raises(Exception, match="reference has no rows") as info:
        drift_report(frame.head(0), frame)
    assert type(info.value).__name__ == "InputError"
    with pytest.raises(Exception, match="current has no rows"):
        drift_report(frame, frame.head(0))
    with pytest.raises(Exception, match="current has no rows"):
        DriftProfile.fit(frame).compare(frame.head(0))
    with pytest.raises(Exception, match="reference has no rows"):
        DriftProfile.fit(frame.head(0))


def test_high_cardinality_ids_do_not_raise_unseen_category_false_alarms():
    users = np.array([f"u{i}" for i in range(5000)], dtype=object)
    alarms = 0
    for seed in range(10):
        rng = np.random.default_rng(seed)
        ref = pd.DataFrame({"user": rng.choice(users, 8000)})
        cur = pd.DataFrame({"user": rng.choice(users, 8000)})
        row = drift_report(ref, cur).table.iloc[0]
        assert row["unseen_share"] > 0.15  # many ids are new by chance alone
        alarms += bool(row["drifted"])
    assert alarms <= 2
    rng = np.random.default_rng(99)
    newcomers = np.array([f"n{i}" for i in range(3000)], dtype=object)
    planted = pd.DataFrame({"user": np.where(rng.random(8000) < 0.2, rng.choice(newcomers, 8000),
                                             rng.choice(users, 8000))})
    row = drift_report(ref, planted).table.iloc[0]
    assert row["drifted"]
    assert "expected by chance" in row["reason"]


def test_a_genuinely_new_category_is_still_flagged():
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"plan": rng.choice(["basic", "pro"], 400)})
    cur = pd.DataFrame({"plan": rng.choice(["basic", "pro", "team"], 400, p=[0.45, 0.45, 0.1])})
    row = drift_report(ref, cur, method="jensen_shannon", threshold=0.9).table.iloc[0]
    assert row["drifted"]
    assert "of values in unseen categories" in row["reason"]
