"""Null tokens that are real levels ("NONE" as an arm) are info in the audit and kept by the cleaners."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mllife
from mllife.features import Cleaner, NullLikeToNaN
from mllife.features._null_like import token_levels


def trial(n: int = 1_200, seed: int = 0) -> pd.DataFrame:
    """An A/B/control experiment where the control arm is written "NONE"."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "arm": rng.choice(["A", "B", "NONE"], n),
        "plan": rng.choice(["basic", "premium", "none"], n, p=[0.5, 0.2, 0.3]),  # "none": no plan bought
        "country": rng.choice(["FR", "DE", "ES", "IT"], n),
        "spend": rng.lognormal(3, 1, n).round(2),
    })


def _null_findings(frame: pd.DataFrame) -> dict[tuple[str, str], str]:
    report = mllife.audit(frame, checks=["disguised_nulls"])
    return {(f.column, f.severity): f.message for f in report.findings}


def test_balanced_arm_none_is_info_and_kept_by_cleaner():
    frame = trial()
    found = _null_findings(frame)
    assert set(found) == {("arm", "info"), ("plan", "info")}
    assert "looks like a real category, not a missing value" in found[("arm", "info")]
    out = Cleaner().fit_transform(frame)
    assert out["arm"].isna().sum() == 0
    assert (out["arm"] == "NONE").sum() == (frame["arm"] == "NONE").sum()
    assert (out["plan"] == "none").sum() == (frame["plan"] == "none").sum()
    step = NullLikeToNaN().fit(frame)
    assert step.null_tokens_ == {}
    assert step.kept_levels_ == {"arm": {"NONE": int((frame["arm"] == "NONE").sum())},
                                 "plan": {"none": int((frame["plan"] == "none").sum())}}


def test_rare_na_among_real_values_is_still_erased():
    rng = np.random.default_rng(1)
    n = 2_000
    pay = rng.choice(["card", "bank transfer", "cash"], n).astype(object)
    na = rng.choice(n, 60, replace=False)  # 3% of rows
    pay[na] = "N/A"
    frame = pd.DataFrame({"pay": pay, "arm": rng.choice(["A", "B", "NONE"], n)})
    found = mllife.audit(frame, checks=["disguised_nulls"]).findings_by(column="pay")
    assert [(f.severity, f.n_rows) for f in found] == [("warning", 60)]
    out = Cleaner().fit_transform(frame)
    assert out["pay"].isna().sum() == 60
    assert out["arm"].isna().sum() == 0


def test_rare_word_token_among_levels_is_a_null_and_a_level_in_the_same_column_is_kept():
    rng = np.random.default_rng(2)
    n = 2_000
    job = rng.choice(["admin", "technician", "services", "unknown"], n, p=[0.4, 0.3, 0.26, 0.04])
    arm = rng.choice(["A", "B", "NONE", "n/a"], n, p=[0.32, 0.32, 0.32, 0.04])
    frame = pd.DataFrame({"job": job, "arm": arm})
    found = _null_findings(frame)
    assert set(found) == {("job", "warning"), ("arm", "warning"), ("arm", "info")}
    out = Cleaner().fit_transform(frame)
    assert out["job"].isna().sum() == (job == "unknown").sum()
    assert out["arm"].isna().sum() == (arm == "n/a").sum()
    assert (out["arm"] == "NONE").sum() == (arm == "NONE").sum()


def test_kept_level_survives_transform_in_any_spelling_but_other_tokens_do_not():
    frame = trial()
    step = NullLikeToNaN().fit(frame)
    batch = pd.DataFrame({"arm": ["none ", "NONE", "A", "?", "unknown"], "plan": ["None", "basic", "N/A", "x", "y"],
                          "country": ["FR"] * 5, "spend": [1.0] * 5})
    out = step.transform(batch)
    assert out["arm"].isna().tolist() == [False, False, False, True, True]
    assert out["plan"].isna().tolist() == [False, False, True, False, False]


def test_keep_levels_false_erases_every_token():
    frame = trial()
    out = Cleaner(keep_levels=False).fit_transform(frame)
    assert out["arm"].isna().sum() == (frame["arm"] == "NONE").sum()
    assert NullLikeToNaN(keep_levels=False).fit(frame).kept_levels_ == {}


def test_title_missing_in_a_column_of_titles_is_a_value():
    rng = np.random.default_rng(3)
    words = np.array(["Night", "River", "Blue", "House", "Last", "Summer", "Road", "Storm", "Silent", "Garden"])
    titles = pd.Series([" ".join(rng.choice(words, 3)) + f" {chr(65 + i % 26)}{chr(97 + i // 26 % 26)}"
                        for i in range(600)])
    titles = titles.str.replace(r"\d", "", regex=True)
    titles.iloc[17] = "Missing"
    frame = pd.DataFrame({"title": titles})
    found = mllife.audit(frame, checks=["disguised_nulls"]).findings
    assert [(f.column, f.severity, f.n_rows) for f in found] == [("title", "info", 1)]
    assert Cleaner().fit_transform(frame)["title"].iloc[17] == "Missing"


def test_only_value_of_a_column_is_a_level():
    frame = pd.DataFrame({"coupon": ["none"] * 40 + [None] * 60, "x": range(100)})
    assert [f.severity for f in mllife.audit(frame, checks=["disguised_nulls"]).findings] == ["info"]
    assert Cleaner().fit_transform(frame)["coupon"].notna().sum() == 40


@pytest.mark.parametrize(
    ("values", "counts", "expected"),
    [
        (["A", "B", "NONE"], [340, 330, 330], [False, False, True]),
        (["card", "bank", "none"], [600, 370, 30], [False, False, False]),  # far rarer than the levels
        (["A", "B", "N/A"], [340, 330, 330], [False, False, False]),  # a symbol is never a level
        (["A", "B", "none", " NONE"], [300, 300, 100, 100], [False, False, True, True]),  # spellings add up
        (["A", "B", "unknown"], [3, 3, 3], [False, False, False]),  # too few rows to call it a level
    ],
)
def test_token_levels_rule(values, counts, expected):
    assert token_levels(pd.Series(values, dtype=object), np.array(counts)).tolist() == expected


def test_numbers_with_a_none_level_are_not_converted():
    rng = np.random.default_rng(4)
    kids = rng.choice(["0", "1", "2", "3", "none"], 1_000, p=[0.3, 0.25, 0.2, 0.1, 0.15])
    frame = pd.DataFrame({"kids": kids})
    assert mllife.audit(frame, checks=["numbers_as_strings"]).findings == ()
    out = Cleaner().fit_transform(frame)
    assert out["kids"].isna().sum() == 0
    assert (out["kids"] == "none").sum() == (kids == "none").sum()


def test_unknown_next_to_numbers_stored_as_text_is_a_missing_value():
    rng = np.random.default_rng(0)
    children = rng.choice(["0", "1", "2", "3", "unknown"], 1_000, p=[0.3, 0.25, 0.2, 0.1, 0.15])
    out = Cleaner().fit_transform(pd.DataFrame({"children": children}))
    assert out["children"].dtype == np.float64
    assert out["children"].isna().sum() == (children == "unknown").sum()
