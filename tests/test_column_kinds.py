"""One column-kind detector: every module gives a tricky column the same kind.

The matrix: identifiers as shuffled integers, strings and UUIDs, a monotone
counter, ISO dates with disguised nulls, years written as text and as integers,
codes such as "001", yes/no flags, free text, a unique float measurement and a
low-cardinality integer. Each gets one kind from ``mllife._columns``, and
``profile``, ``audit`` (an ``id_like`` finding exactly for identifiers),
``make_preprocessor`` (``column_kinds_``), ``drift_report`` (identifiers never
drifted) and ``check_leakage`` / ``split`` (group-key candidates) agree with it.
"""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

import mllife
from mllife._columns import KINDS, column_kind, column_kinds
from mllife.audit import profile
from mllife.drift import DriftProfile, drift_report
from mllife.features import make_preprocessor
from mllife.split import check_leakage

N = 400

EXPECTED = {
    "customer_id": "identifier",   # shuffled unique integers named like an id
    "account": "identifier",       # shuffled unique integers 1..n: no numeric meaning
    "customer_key": "identifier",  # unique short strings
    "session_uuid": "identifier",  # UUIDs
    "order_no": "identifier",      # a monotone counter
    "signup": "date",              # ISO dates with 2% "N/A"
    "season": "date",              # years written as text
    "year": "numeric",             # years as integers, few values
    "code": "categorical",         # "001", "002"... with repeats: codes, not numbers
    "paid": "boolean",             # "Y" / "N"
    "answer": "boolean",           # "yes" / "no"
    "comment": "text",             # high-cardinality free text
    "amount": "numeric",           # a unique float measurement
    "rating": "numeric",           # a low-cardinality integer
    "income": "numeric",           # unique integers over a wide range: a measurement
    "plan": "categorical",
}
IDENTIFIERS = {c for c, k in EXPECTED.items() if k == "identifier"}
_WORDS = np.array(["the", "parcel", "arrived", "late", "again", "and", "support", "was", "kind"])


def tricky(n: int = N, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    signup = pd.Series(pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
                       ).dt.strftime("%Y-%m-%d").astype(object)
    signup[rng.choice(n, size=n // 50, replace=False)] = "N/A"
    comment = [" ".join(rng.choice(_WORDS, 6)) + f" (ticket {i})" for i in range(n)]
    return pd.DataFrame({
        "customer_id": rng.permutation(n) + 10_000,
        "account": rng.permutation(n) + 1,
        "customer_key": [f"C{v:07d}" for v in rng.permutation(n)],
        "session_uuid": [str(uuid.UUID(int=int(v))) for v in rng.integers(0, 2**62, n)],
        "order_no": np.arange(n) + 5_000,
        "signup": signup,
        "season": rng.choice([str(y) for y in range(2018, 2025)], n).astype(object),
        "year": rng.choice(np.arange(2015, 2024), n),
        "code": rng.choice(["001", "002", "003", "010"], n).astype(object),
        "paid": rng.choice(["Y", "N"], n).astype(object),
        "answer": rng.choice(["yes", "no"], n).astype(object),
        "comment": comment,
        "amount": rng.lognormal(3.0, 1.0, n),
        "rating": rng.integers(1, 6, n),
        "income": rng.choice(10**9, n, replace=False),
        "plan": rng.choice(["basic", "plus", "pro"], n).astype(object),
    })


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return tricky()


def test_the_detector_gives_each_tricky_column_its_kind(frame):
    kinds = column_kinds(frame)
    assert {c: k.kind for c, k in kinds.items()} == EXPECTED
    assert set(EXPECTED.values()) <= set(KINDS)
    for kind in kinds.values():
        assert kind.reason  # every verdict says why
    assert kinds["signup"].n_null_tokens == N // 50  # "N/A" discounted, counted as missing
    assert kinds["paid"].boolean_values == ("N", "Y")
    assert kinds["order_no"].monotone
    assert "counter" in kinds["order_no"].reason


def test_profile_agrees(frame):
    p = profile(frame).set_index("column")
    assert p["kind"].to_dict() == EXPECTED
    assert p.loc["order_no", "kind_reason"] == column_kind(frame["order_no"]).reason


def test_audit_finds_an_identifier_exactly_when_the_kind_is_identifier(frame):
    found = mllife.audit(frame).findings_by(check="id_like")
    assert {f.column for f in found} == IDENTIFIERS
    declared = mllife.audit(frame, id_cols=["customer_id"]).findings_by(check="id_like")
    assert {f.column for f in declared} == IDENTIFIERS - {"customer_id"}


def test_make_preprocessor_routes_each_column_by_its_kind(frame):
    pre = make_preprocessor(frame)
    out = pre.fit_transform(frame)
    assert pre.column_kinds_ == EXPECTED
    assert np.isfinite(out.to_numpy(dtype=float)).all()
    assert not IDENTIFIERS & set(pre.used_columns_)
    np.testing.assert_array_equal(out["paid"], (frame["paid"] == "Y").astype(float))
    assert {"signup_year", "signup_month", "season_year"} <= set(out.columns)
    plan = pre.plan_.set_index("column")
    assert plan.loc["paid", "entry"] == "boolean_text"
    assert plan.loc["code", "reason"] == "4 distinct values, at most max_categories=30"


def test_drift_never_calls_an_identifier_drifted(frame):
    reference, current = frame.iloc[:200], frame.iloc[200:].copy()
    current["customer_id"] += 100_000  # new customers, new ids
    current["order_no"] += 10_000  # the counter went on
    for report in (drift_report(reference, current), DriftProfile.fit(reference).compare(current)):
        table = report.table.set_index("column")
        for col in IDENTIFIERS:
            assert table.loc[col, "status"].startswith("identifier-like"), col
            assert not table.loc[col, "drifted"], col
        others = table.drop(index=list(IDENTIFIERS))
        assert not others["status"].str.startswith("identifier-like").any()


def test_group_key_candidates_are_keys_never_dates_text_or_measurements(frame):
    train, test = frame.iloc[:300], frame.iloc[300:].copy()
    for col in IDENTIFIERS:  # 60 held-out rows belong to entities seen in train
        test.iloc[:60, test.columns.get_loc(col)] = train[col].iloc[:60].to_numpy()
    report = check_leakage(train, test)
    candidates = {f.column: f.severity for f in report.findings if f.check == "group_key_candidate"}
    assert candidates == dict.fromkeys(IDENTIFIERS, "warning")
    parts = mllife.split(frame, random_state=0, dedupe=False)
    keys = {f.column for f in parts.report.findings if f.check == "group_key_candidate"}
    assert keys <= IDENTIFIERS  # unique per row: no value repeats across the parts


# ---- the three known disagreements ------------------------------------------------------
def test_shuffled_unique_integer_id_is_an_identifier_for_audit_and_preprocessor():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"customer_id": rng.permutation(300) + 1, "x": rng.normal(size=300)})
    assert [f.column for f in mllife.audit(X).findings_by(check="id_like")] == ["customer_id"]
    plan = make_preprocessor(X).plan_.set_index("column")
    assert plan.loc["customer_id", "entry"] == "identifier"  # not scaled as a number


def test_monotone_counter_is_not_drifted_when_it_goes_on():
    ref = pd.DataFrame({"order_no": np.arange(500), "x": np.random.default_rng(0).normal(size=500)})
    cur = pd.DataFrame({"order_no": np.arange(500, 1000), "x": np.random.default_rng(1).normal(size=500)})
    table = drift_report(ref, cur).table.set_index("column")
    assert not table.loc["order_no", "drifted"]
    assert "counter" in table.loc["order_no", "status"]


def test_iso_dates_with_disguised_nulls_are_dates_not_an_identifier():
    rng = np.random.default_rng(2)
    days = pd.Series(pd.date_range("2020-01-01", periods=500, freq="D")).dt.strftime("%Y-%m-%d")
    days = days.sample(frac=1.0, random_state=0).reset_index(drop=True).astype(object)
    days[rng.choice(500, size=10, replace=False)] = "N/A"  # 2%
    X = pd.DataFrame({"day": days, "x": rng.normal(size=500)})
    pre = make_preprocessor(X)
    assert pre.plan_.set_index("column").loc["day", "entry"] == "date"
    out = pre.fit_transform(X)
    assert "day_year" in out.columns
    assert np.isfinite(out.to_numpy(dtype=float)).all()


def test_grid_search_tunes_the_routing_threshold(frame):
    y = np.random.default_rng(3).integers(0, 2, len(frame))
    X = frame.assign(region=np.random.default_rng(4).choice([f"r{i}" for i in range(12)], len(frame)))
    model = Pipeline([("prep", make_preprocessor(X)), ("model", LogisticRegression(max_iter=300))])
    search = GridSearchCV(model, {"prep__max_categories": [5, 50]}, cv=2, refit=False).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    routed = {m: model.set_params(prep__max_categories=m).fit(X, y)[0].column_kinds_["region"]
              for m in (5, 50)}
    assert routed == {5: "high_cardinality", 50: "categorical"}


# ---- properties ---------------------------------------------------------------------------
_ORDER_FREE = sorted(set(EXPECTED) - {"order_no"})  # a counter is a counter in its row order


@settings(max_examples=25, deadline=None)
@given(column=st.sampled_from(_ORDER_FREE), seed=st.integers(0, 10**6))
def test_kind_does_not_depend_on_row_order(column, seed):
    s = tricky(200, seed=seed % 7)[column]
    shuffled = s.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    assert column_kind(shuffled, name=column).kind == column_kind(s, name=column).kind == EXPECTED[column]


@settings(max_examples=25, deadline=None)
@given(column=st.sampled_from(sorted(EXPECTED)), share=st.floats(0.0, 0.02),
       token=st.sampled_from(["N/A", "", "-", "?", "null", "NaN"]))
def test_kind_survives_a_few_disguised_nulls(column, share, token):
    s = tricky(300, seed=5)[column].astype(object)
    k = int(share * len(s))
    with_tokens = pd.concat([s, pd.Series([token] * k, dtype=object)], ignore_index=True)
    assert column_kind(with_tokens, name=column).kind == EXPECTED[column]


def test_a_model_tuned_to_a_new_routing_predicts(frame):
    """Routing at fit may add an entry the parameter lacks; transform still finds it."""
    y = np.random.default_rng(6).integers(0, 2, len(frame))
    X = frame.assign(region=np.random.default_rng(7).choice([f"r{i}" for i in range(12)], len(frame)))
    model = Pipeline([("prep", make_preprocessor(X)), ("model", LogisticRegression(max_iter=300))])
    assert "high_cardinality" not in [name for name, _, _ in model[0].transformers]
    model.set_params(prep__max_categories=5).fit(X, y)
    assert model[0].column_kinds_["region"] == "high_cardinality"
    assert model.predict(X.iloc[:7]).shape == (7,)
    assert model.score(X, y) > 0
