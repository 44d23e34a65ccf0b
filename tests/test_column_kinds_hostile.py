"""Hostile columns for the one column-kind detector, and the paths that must agree on them.

``DriftProfile.fit(ref).compare(cur)`` (no reference rows at compare time)
skips exactly the identifiers ``drift_report(ref, cur)`` skips; the
preprocessor's fit-time routing survives clone, pickling, parallel grid
search, threads and failing fits; odd columns get the documented kind.
"""

from __future__ import annotations

import json
import pickle
import threading

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline

import mllife
from mllife._columns import column_kinds
from mllife.drift import DriftProfile, drift_report
from mllife.features import make_preprocessor


def _identifiers(report) -> set:
    table = report.table
    return set(table.loc[table["status"].str.startswith("identifier-like"), "column"])


def _drifted(report) -> set:
    return set(report.drifted_columns)


# ---- drift: the profile path skips the identifiers drift_report skips ----------------------
def _ref_cur(n: int = 400, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ref = pd.DataFrame({
        "order_no": np.arange(n) + 5_000,            # a counter named like one
        "seq": np.arange(n) * 7 + 3,                 # a counter neither named nor dense
        "customer_id": rng.permutation(n) + 10_000,  # shuffled unique ids
        "x": rng.normal(size=n),
    })
    cur = ref.copy()
    cur["order_no"] += 10_000            # the counter went on
    cur["seq"] += 100_000
    cur["customer_id"] = rng.permutation(n) + 90_000  # new customers
    cur["x"] = rng.normal(size=n)
    return ref, cur


@pytest.mark.parametrize("exact_size", [10_000, 100])  # exact numbers, and a quantile sketch
def test_profile_compare_skips_the_identifiers_drift_report_skips(exact_size):
    ref, cur = _ref_cur()
    exact = drift_report(ref, cur)
    profiled = DriftProfile.fit(ref, exact_size=exact_size).compare(cur)
    assert _identifiers(exact) == _identifiers(profiled) == {"order_no", "seq", "customer_id"}
    assert not _drifted(profiled) & {"order_no", "seq", "customer_id"}
    assert _drifted(exact) == _drifted(profiled)


def test_profile_keeps_the_kind_through_json_and_reads_old_profiles():
    ref, cur = _ref_cur()
    profile = DriftProfile.fit(ref, exact_size=100)
    data = profile.to_dict()
    assert {c["name"]: c["column_kind"]["kind"] for c in data["columns"]} == {
        "order_no": "identifier", "seq": "identifier", "customer_id": "identifier", "x": "numeric"}
    again = DriftProfile.from_json(json.dumps(data))
    assert _identifiers(again.compare(cur)) == {"order_no", "seq", "customer_id"}
    assert again["seq"].column_kind.reason == profile["seq"].column_kind.reason
    # a profile saved before kinds were kept still reads, and is judged from its summary
    for column in data["columns"]:
        del column["column_kind"]
    old = DriftProfile.from_dict(data)
    assert old["seq"].column_kind is None
    assert old.compare(cur).n_columns == 4


def test_merge_keeps_an_identifier_only_while_it_stays_unique():
    ref, _ = _ref_cur()
    a, b = ref.iloc[:200], ref.iloc[200:]
    merged = DriftProfile.fit(a).merge(DriftProfile.fit(b))
    assert merged["seq"].column_kind.kind == "identifier"  # the counter went on: still unique
    assert merged["customer_id"].column_kind.kind == "identifier"
    assert merged["x"].column_kind is None  # judged from the merged summary
    # the same customers in both sets: the merged column repeats every id
    twice = DriftProfile.fit(a).merge(DriftProfile.fit(a.assign(seq=a["seq"] + 10**6)))
    assert twice["customer_id"].column_kind is None
    assert twice["seq"].column_kind.kind == "identifier"
    _, cur = _ref_cur(seed=1)
    assert "customer_id" not in _identifiers(twice.compare(cur))


# ---- hostile columns ---------------------------------------------------------------------
N = 500
_RNG = np.random.default_rng(0)
_IDS = _RNG.permutation(N).astype(float)


def _with_nan(values: np.ndarray, k: int) -> np.ndarray:
    out = np.array(values, dtype=float)
    out[np.random.default_rng(1).choice(len(out), size=k, replace=False)] = np.nan
    return out


def _repeat_some(share_unique: float) -> np.ndarray:
    values = np.arange(N)
    values[: N - int(share_unique * N)] = 0
    return np.random.default_rng(2).permutation(values)


HOSTILE = {
    # name: (values, expected kind)
    "amount": (_RNG.lognormal(3, 1, N), "numeric"),  # unique floats: a measurement
    "amount_id": (_RNG.lognormal(3, 1, N), "numeric"),  # even named like an id
    "all_missing": ([np.nan] * N, "empty"),
    "all_tokens": (pd.Series(["N/A", "", "-"] * 100, dtype=object), "empty"),
    "customer_id_94": (_repeat_some(0.94), "numeric"),  # under 95% distinct
    "customer_id_96": (_repeat_some(0.96), "identifier"),
    "customer_id_5pct_nan": (_with_nan(_IDS, 25), "identifier"),  # NaN upcasts the ints to floats
    "customer_id_6pct_nan": (_with_nan(_IDS, 30), "numeric"),  # over 5% missing
    "customer_id_few_nan": (_with_nan(_IDS, 3), "identifier"),
    "customer_id_Int64": (pd.array(pd.Series(_with_nan(_IDS, 3)), dtype="Int64"), "identifier"),
    "order_no_nan": (np.where(np.arange(N) < 3, np.nan, np.arange(N, dtype=float)), "identifier"),
    "customer_id_whole_floats": (_IDS, "numeric"),  # floats without a gap: floats on purpose
    "mixed": (pd.Series([1, "a", 2.5, None] * (N // 4), dtype=object), "mixed"),
    "long_strings": (["x" * 5000 + str(i % 7) for i in range(N)], "categorical"),
    "flag_tf": (_RNG.choice(["T", "F"], N), "boolean"),
    "flag_01": (_RNG.choice(["1", "0"], N), "boolean"),
    "flag_truefalse": (_RNG.choice(["true", "false"], N), "boolean"),
    "year": (_RNG.integers(1900, 2101, N), "numeric"),
    "fiscal_year": (_RNG.permutation(np.arange(1600, 1600 + N)), "numeric"),  # one row per year
    "period": (np.arange(1600, 1600 + N), "identifier"),  # a counter, not named like time
}


def _hostile_frame(text_dtype: str | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({name: values for name, (values, _) in HOSTILE.items()})
    if text_dtype is not None:  # pandas 2's object text as pandas 3's str (and back)
        text = [c for c in frame.columns if frame[c].map(type).eq(str).all()]
        frame[text] = frame[text].astype(text_dtype)
    return frame


@pytest.mark.parametrize("text_dtype", [None, object, "string"])
def test_hostile_columns_get_the_documented_kind(text_dtype):
    kinds = column_kinds(_hostile_frame(text_dtype))
    assert {c: k.kind for c, k in kinds.items()} == {c: kind for c, (_, kind) in HOSTILE.items()}
    assert "stored as floats" in kinds["customer_id_few_nan"].reason
    assert kinds["customer_id_few_nan"].integer
    assert "time unit" in kinds["fiscal_year"].reason
    assert kinds["flag_01"].boolean_values == ("0", "1")


def test_an_id_upcast_to_floats_by_a_missing_value_is_an_identifier_everywhere():
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"customer_id": _with_nan(rng.permutation(400) + 1, 4), "x": rng.normal(size=400)})
    assert ref["customer_id"].dtype == np.float64
    assert {f.column for f in mllife.audit(ref).findings_by(check="id_like")} == {"customer_id"}
    assert make_preprocessor(ref).fit(ref).column_kinds_["customer_id"] == "identifier"
    cur = ref.assign(customer_id=ref["customer_id"] + 10_000)
    assert _identifiers(drift_report(ref, cur)) == _identifiers(DriftProfile.fit(ref).compare(cur)) \
        == {"customer_id"}


def test_text_flags_are_mapped_to_0_and_1():
    X = pd.DataFrame({"flag": ["1", "0", "1", None] * 25, "x": np.arange(100.0)})
    pre = make_preprocessor(X)
    out = pre.fit_transform(X)
    assert pre.column_kinds_["flag"] == "boolean"
    assert set(out["flag"]) == {0.0, 1.0}
    np.testing.assert_array_equal(out["flag"].iloc[:3], [1.0, 0.0, 1.0])


# ---- the preprocessor's fit-time routing -------------------------------------------------
def _routing_data(n: int = 300) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(4)
    X = pd.DataFrame({"x": rng.normal(size=n), "region": rng.choice([f"r{i}" for i in range(12)], n),
                      "plan": rng.choice(["a", "b", "c"], n), "customer_id": rng.permutation(n)})
    return X, rng.integers(0, 2, n)


def _entry_names(pre) -> list[str]:
    return [name for name, _, _ in pre.transformers]


@pytest.mark.parametrize("routing", [False, True])
def test_refitting_with_another_routing_works(routing):
    """scikit-learn < 1.8 read the previous fit's entry names while fitting: KeyError."""
    X, _ = _routing_data()
    with sklearn.config_context(enable_metadata_routing=routing):
        pre = make_preprocessor(X)
        given = _entry_names(pre)
        for limit, kind, width in ((50, "categorical", 16), (5, "high_cardinality", 10),
                                   (50, "categorical", 16)):
            pre.set_params(max_categories=limit).fit(X)
            assert pre.column_kinds_["region"] == kind
            assert pre.transform(X).shape == (len(X), width)
            assert _entry_names(pre) == given  # the parameter is never the routed list
        wider = X.assign(extra=np.arange(len(X), dtype=float))  # refit on a new column set
        assert "extra" in make_preprocessor(wider).fit(wider).used_columns_
        assert pre.fit(wider).transform(wider).shape == (len(X), 16)


def test_a_failing_fit_leaves_the_preprocessor_as_it_was():
    X, _ = _routing_data()
    pre = make_preprocessor(X).set_params(max_categories=5).fit(X)
    fitted, output = pre.transformers_, pre.transform(X)
    pre.set_params(numeric=_Boom())  # fails inside scikit-learn's fit, after the routing
    given = pre.transformers
    with pytest.raises(RuntimeError, match="boom"):
        pre.fit(X)
    assert pre.transformers is given
    assert pre.transformers_ is fitted  # the earlier fit, whole
    pd.testing.assert_frame_equal(pre.transform(X), output)


class _Boom(BaseEstimator, TransformerMixin):
    def fit(self, X, y=None):
        raise RuntimeError("boom")

    def transform(self, X):  # pragma: no cover - never fitted
        return X


def test_two_threads_fitting_one_instance_do_not_corrupt_it():
    X, _ = _routing_data()
    pre = make_preprocessor(X).set_params(max_categories=5)
    given, errors = pre.transformers, []

    def fit_many() -> None:
        try:
            for _ in range(15):
                pre.fit(X)
                assert pre.transform(X).shape == (len(X), 10)
        except Exception as exc:  # collected: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=fit_many) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert pre.transformers is given
    assert pre.column_kinds_["region"] == "high_cardinality"


def test_clone_params_pickle_and_repr_are_the_constructor_s_before_and_after_fit():
    X, _ = _routing_data()
    pre = make_preprocessor(X).set_params(max_categories=5)
    before = (repr(pre), sorted(pre.get_params(deep=True)), _entry_names(pre))
    unfitted = pickle.loads(pickle.dumps(pre))
    pre.fit(X)
    assert (repr(pre), sorted(pre.get_params(deep=True)), _entry_names(pre)) == before
    assert _entry_names(clone(pre)) == before[2]
    assert clone(pre).fit(X).column_kinds_ == pre.column_kinds_ == unfitted.fit(X).column_kinds_
    again = pickle.loads(pickle.dumps(pre))
    pd.testing.assert_frame_equal(again.transform(X), pre.transform(X))
    plain = clone(pre).set_output(transform="default").fit(X).transform(X)
    np.testing.assert_allclose(plain, pre.transform(X).to_numpy())


def test_parallel_grid_search_and_cross_validate_tune_the_routing():
    X, y = _routing_data()
    model = Pipeline([("prep", make_preprocessor(X)), ("model", LogisticRegression(max_iter=300))])
    search = GridSearchCV(model, {"prep__max_categories": [5, 50]}, cv=2, n_jobs=2).fit(X, y)
    assert search.best_estimator_[0].column_kinds_["region"] in {"categorical", "high_cardinality"}
    assert _entry_names(search.best_estimator_[0]) == _entry_names(model[0])
    fits = cross_validate(model.set_params(prep__max_categories=5), X, y, cv=2, return_estimator=True)
    assert [m[0].column_kinds_["region"] for m in fits["estimator"]] == ["high_cardinality"] * 2
