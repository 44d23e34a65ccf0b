"""Planted defects are all found (recall 100% per type); clean tables raise no alarm."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets

import mllife
from mllife.datasets import make_churn

# manifest kind -> the audit check that must find it
KIND_TO_CHECK = {
    "disguised_null": "disguised_nulls",
    "mixed_date_formats": "date_formats",
    "numbers_as_strings": "numbers_as_strings",
    "category_variants": "category_variants",
    "mostly_missing": "mostly_missing",
    "target_leakage": "target_leakage",
    "outlier": "outliers",
    "duplicate_rows": "duplicate_rows",
    "conflicting_labels": "conflicting_labels",
}
SKLEARN_TABLES = ["iris", "wine", "breast_cancer", "diabetes"]


def _alarms(report):
    return [(f.check, f.column, f.message) for f in report.findings if f.severity != "info"]


def _load(name: str) -> pd.DataFrame:
    return getattr(datasets, f"load_{name}")(as_frame=True).frame


@pytest.mark.parametrize(("seed", "as_object"), [(0, False), (1, False), (2, True)])
def test_every_churn_defect_is_found(seed, as_object):
    frame, manifest = make_churn(3_000, random_state=seed, defects=True, drift=True)
    if as_object:  # text as object dtype everywhere, as pandas 2.2 loads it
        text = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c].dtype)]
        frame = frame.astype(dict.fromkeys(text, object))
    report = mllife.audit(frame, target="churned", time_col="last_event_at", id_cols=["customer_id"])
    for name, info in manifest.items():
        if info["kind"] == "drift":
            continue
        check = KIND_TO_CHECK[info["kind"]]
        found = report.findings_by(check=check)
        assert found, f"{name} not found"
        columns = info["columns"] if info["kind"] not in ("conflicting_labels",) else ["churned"]
        for column in columns:
            hits = [f for f in found if f.column == column]
            assert hits, (name, column)
            assert all(f.severity != "info" for f in hits), (name, column)
        if info["kind"] in ("duplicate_rows", "outlier", "mixed_date_formats", "category_variants"):
            assert found[0].n_rows == info["n_rows"], name
            if info["kind"] == "duplicate_rows":  # after the shuffle either copy may come first
                assert frame.duplicated(keep=False).loc[list(found[0].sample_index)].all()
            else:
                assert set(found[0].sample_index) <= set(info["rows"])
        if info["kind"] == "conflicting_labels":
            # every planted copy and its original are in the conflicting groups
            assert found[0].n_rows == 2 * info["n_rows"]
    by_col = {f.column: f for f in report.findings_by(check="disguised_nulls")}
    counts = manifest["disguised_nulls"]["rows_by_column"]
    assert by_col["payment_method"].n_rows == int((frame["payment_method"] == "N/A").sum())
    assert by_col["age"].n_rows == int((frame["age"] == -999).sum()) >= counts["age"]
    assert by_col["age"].details["sentinels"] == [-999.0]
    dates = report.findings_by(check="date_formats", column="signup_date")[0]
    planted = manifest["mixed_date_formats"]["formats"]
    assert set(dates.details["formats"]) == set(planted)
    assert sum(dates.details["formats"].values()) == frame["signup_date"].notna().sum()
    assert all(dates.details["formats"][k] >= v for k, v in planted.items())


@pytest.mark.parametrize(("seed", "as_object"), [(0, False), (1, False), (2, True)])
def test_clean_churn_raises_no_alarm(seed, as_object):
    frame = make_churn(4_000, random_state=seed, defects=False, drift=True).frame
    if as_object:
        text = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c].dtype)]
        frame = frame.astype(dict.fromkeys(text, object))
    report = mllife.audit(frame, target="churned", time_col="last_event_at", id_cols=["customer_id"])
    assert _alarms(report) == []


@pytest.mark.parametrize("name", SKLEARN_TABLES)
def test_sklearn_tables_raise_no_alarm(name):
    report = mllife.audit(_load(name), target="target")
    assert _alarms(report) == []


def inject(frame: pd.DataFrame, target: str, seed: int = 0) -> tuple[pd.DataFrame, list[tuple[str, str, int]]]:
    """Plant one defect of every type in a numeric table: returns (frame, [(check, column, n_rows)])."""
    rng = np.random.default_rng(seed)
    df = frame.copy()
    n = len(df)
    numeric = [c for c in df.columns if c != target]
    planted: list[tuple[str, str, int]] = []

    def pick(k: int) -> np.ndarray:
        return rng.choice(n, size=k, replace=False)

    k = max(3, n // 30)
    # numeric sentinel in a column made non-negative
    col = numeric[0]
    base = df[col] - df[col].min() + 1.0
    rows = pick(k)
    base.iloc[rows] = -999.0
    df["sentinel_col"] = base
    planted.append(("disguised_nulls", "sentinel_col", k))
    # null tokens, one spelling family in several cases and spaces
    grade = np.where(df[numeric[1]] > df[numeric[1]].median(), "high", "low").astype(object)
    rows = pick(k)
    grade[rows] = rng.choice(np.array(["N/A", " n/a", "NA "], dtype=object), size=k)
    df["grade"] = grade
    planted.append(("disguised_nulls", "grade", k))
    # whitespace / case variants
    variant = grade.copy()
    rows2 = rng.choice(np.flatnonzero(~np.isin(grade, ["N/A", " n/a", "NA "])), size=k, replace=False)
    variant[rows2] = np.char.upper(variant[rows2].astype(str)).astype(object)
    df["grade_v"] = np.where(np.isin(variant, ["N/A", " n/a", "NA "]), "low", variant)
    planted.append(("category_variants", "grade_v", k))
    # numbers stored as text
    df["as_text"] = df[numeric[2 % len(numeric)]].map("{:.3f}".format).astype(object)
    planted.append(("numbers_as_strings", "as_text", n))
    # dates in three formats
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    fmt = rng.integers(0, 3, n)
    text = np.where(fmt == 0, days.strftime("%Y-%m-%d"),
                    np.where(fmt == 1, days.strftime("%d/%m/%Y"), days.strftime("%b %d, %Y")))
    df["when"] = pd.Series(text, dtype=object)
    planted.append(("date_formats", "when", n - int(np.bincount(fmt).max())))
    # ambiguous day/month
    amb = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 12, n) * 31, unit="D")
    df["ambiguous"] = pd.Series(amb.strftime("%d/%m/%Y").str.replace("/", "-", regex=False)
                                .str.slice(0, 0) + amb.strftime("%m/%d/%Y"), dtype=object)
    df["ambiguous"] = df["ambiguous"].where(amb.day.to_numpy() <= 12, "01/01/2023")
    planted.append(("date_formats", "ambiguous", n))
    # mostly missing
    mm = df[numeric[1]].astype(float).copy()
    mm.iloc[pick(int(0.7 * n))] = np.nan
    df["mostly_missing"] = mm
    planted.append(("mostly_missing", "mostly_missing", int(mm.isna().sum())))
    # constant
    df["constant"] = 7
    planted.append(("constant", "constant", n))
    # mixed types
    mixed = df[numeric[0]].astype(object).copy()
    mixed.iloc[pick(k)] = "see notes"
    df["mixed"] = mixed
    planted.append(("mixed_types", "mixed", k))
    # gross outliers (a unit error)
    out = df[numeric[-1]].astype(float).copy()
    rows = pick(3)
    out.iloc[rows] = out.abs().max() * 1000 + 1e4
    df["outlier_col"] = out
    planted.append(("outliers", "outlier_col", 3))
    # identifier
    df["record"] = [f"R{i:06d}" for i in rng.permutation(n)]  # declared in id_cols below
    # duplicates and conflicting labels
    k_dup = max(2, n // 50)
    sources = pick(2 * k_dup)
    copies = df.iloc[sources[:k_dup]]
    flipped = df.iloc[sources[k_dup:]].copy()
    flipped[target] = df[target].max() + 1  # a label no original row has
    flipped["record"] = [f"X{i}" for i in range(k_dup)]
    copies = copies.assign(record=[f"D{i}" for i in range(k_dup)])
    df = pd.concat([df, copies, flipped], ignore_index=True)
    planted.append(("duplicates_ignoring_ids", None, k_dup))
    planted.append(("conflicting_labels", target, 2 * k_dup))
    return df, planted


@pytest.mark.parametrize("name", SKLEARN_TABLES)
def test_injected_defects_are_all_found(name):
    frame, planted = inject(_load(name), "target")
    report = mllife.audit(frame, target="target", id_cols=["record"])
    for check, column, n_rows in planted:
        hits = report.findings_by(check=check)
        hits = [f for f in hits if column is None or f.column == column]
        assert hits, (check, column)
        assert max(f.n_rows or 0 for f in hits) >= n_rows, (check, column, [f.n_rows for f in hits])


def test_ambiguous_and_mixed_dates_are_reported_as_such():
    df = pd.DataFrame({"d": ["01/02/2024", "03/04/2024", "05/06/2024"] * 20,
                       "e": ["2024-01-31", "31/01/2024", "1706659200"] * 20})
    report = mllife.audit(df, checks=["date_formats"])
    amb = report.findings_by(column="d")
    assert [f.severity for f in amb] == ["warning"]
    assert "ambiguous" in amb[0].message
    mixed = report.findings_by(column="e")[0]
    assert mixed.details["formats"] == {"%Y-%m-%d": 20, "%d/%m/%Y": 20, "epoch_s": 20}


@pytest.mark.parametrize("values", [[-3, -2, -1, 0, 1, 2, 3] * 10, [-1, 1] * 30, list(range(-5, 40)) * 2])
def test_minus_one_among_legitimate_negatives_is_not_a_sentinel(values):
    report = mllife.audit(pd.DataFrame({"x": values}), checks=["disguised_nulls"])
    assert report.findings == ()


def test_isolated_minus_one_is_a_sentinel():
    values = list(range(0, 40)) * 3 + [-1] * 6
    report = mllife.audit(pd.DataFrame({"x": values}), checks=["disguised_nulls"])
    assert report.findings[0].n_rows == 6
    assert report.findings[0].details["sentinels"] == [-1.0]


def test_single_kind_of_token_is_found_case_and_space_insensitive():
    for token in ["N/A", " null ", "NONE", "-", "?", "", "Missing", "unknown", "nan"]:
        df = pd.DataFrame({"c": ["a", "b", token, "a", "b", token]})
        report = mllife.audit(df, checks=["disguised_nulls"])
        assert report.findings, token
        assert report.findings[0].n_rows == 2, token


def test_lognormal_charges_are_not_outliers():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"charges": rng.lognormal(3, 1.0, 200_000), "normal": rng.normal(0, 1, 200_000),
                       "counts": rng.poisson(1.5, 200_000)})
    report = mllife.audit(df, checks=["outliers", "disguised_nulls"])
    assert _alarms(report) == []


def test_undeclared_identifier_is_reported():
    frame = _load("wine").assign(record=[f"R{i:05d}" for i in range(178)])
    report = mllife.audit(frame, target="target")
    found = report.findings_by(check="id_like")
    assert [f.column for f in found] == ["record"]
    assert found[0].severity == "info"
    assert mllife.audit(frame, target="target", id_cols="record").findings_by(check="id_like") == []


def test_coarse_features_make_conflicts_info_only():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"plan": rng.choice(["a", "b", "c"], 500), "y": rng.integers(0, 2, 500)})
    found = mllife.audit(df, target="y").findings_by(check="conflicting_labels")
    assert [f.severity for f in found] == ["info"]


def test_coarse_tables_make_duplicates_info_only():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"plan": rng.choice(["a", "b", "c"], 500), "flag": rng.integers(0, 2, 500)})
    found = mllife.audit(df).findings_by(check="duplicate_rows")
    assert [f.severity for f in found] == ["info"]
