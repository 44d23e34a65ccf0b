"""The cross-validators: time, ties, gap/embargo, groups, duplicates, scikit-learn interop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold, TimeSeriesSplit, cross_validate
from sklearn.pipeline import make_pipeline

from mllife import InputError
from mllife.split import DuplicateAwareKFold, PurgedTimeSeriesSplit, TimeSeriesGroupSplit


def _data(n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 50, n), unit="D"),
        "a": rng.normal(size=n),
        "b": rng.normal(size=n),
    })
    y = pd.Series((X["a"] + rng.normal(size=n) > 0).astype(int), name="y")
    groups = pd.Series(rng.integers(0, 40, n), name="g")
    return X, y, groups


def test_matches_time_series_split_on_sorted_distinct_times():
    n = 60
    X = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=n, freq="h"), "a": range(n)})
    ours = list(PurgedTimeSeriesSplit(n_splits=5, time_col="t").split(X))
    theirs = list(TimeSeriesSplit(n_splits=5).split(X))
    for (a_tr, a_te), (b_tr, b_te) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a_tr, b_tr)
        np.testing.assert_array_equal(a_te, b_te)


@settings(max_examples=150)
@given(n=st.integers(3, 300), n_splits=st.integers(2, 12), gap=st.integers(0, 5),
       max_train_size=st.one_of(st.none(), st.integers(1, 50)))
def test_walk_forward_equals_time_series_split_for_any_row_count(n, n_splits, gap,
                                                                  max_train_size):
    # Distinct sorted timestamps: the same index arrays as scikit-learn, whatever
    # n % (n_splits + 1). Without ``time`` the gap is in rows, as in scikit-learn.
    assume(n_splits + 1 <= n)
    theirs_cv = TimeSeriesSplit(n_splits=n_splits, gap=gap, max_train_size=max_train_size)
    try:
        theirs = list(theirs_cv.split(np.zeros((n, 1))))
    except ValueError:  # the gap leaves a fold without training rows
        assume(False)
    X = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=n, freq="h"), "a": range(n)})
    by_time = list(PurgedTimeSeriesSplit(n_splits, time_col="t",
                                         max_train_size=max_train_size).split(X))
    by_rows = list(PurgedTimeSeriesSplit(n_splits, gap=gap,
                                         max_train_size=max_train_size).split(X))
    plain = list(TimeSeriesSplit(n_splits=n_splits, max_train_size=max_train_size)
                 .split(np.zeros((n, 1))))
    for ours, reference in ((by_time, plain), (by_rows, theirs)):
        assert len(ours) == len(reference) == n_splits
        for (a_tr, a_te), (b_tr, b_te) in zip(ours, reference, strict=True):
            np.testing.assert_array_equal(a_tr, b_tr)
            np.testing.assert_array_equal(a_te, b_te)


@settings(max_examples=100)
@given(n=st.integers(2, 300), n_splits=st.integers(2, 12))
def test_purged_kfold_without_gap_or_embargo_equals_kfold(n, n_splits):
    assume(n_splits <= n)
    X = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=n, freq="D")})
    ours = list(PurgedTimeSeriesSplit(n_splits, time_col="t", embargo="0D").split(X))
    theirs = list(KFold(n_splits=n_splits).split(X))
    for (a_tr, a_te), (b_tr, b_te) in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a_tr, b_tr)
        np.testing.assert_array_equal(a_te, b_te)


def test_walk_forward_is_tie_aware_and_order_free():
    X, _, _ = _data()
    t = X["t"]
    for train, test in PurgedTimeSeriesSplit(n_splits=4, time_col="t").split(X):
        assert t.iloc[train].max() < t.iloc[test].min()
        # no timestamp of the test block appears in train
        assert not set(t.iloc[test]) & set(t.iloc[train])
    # Shuffling the rows shuffles the indices, not the folds.
    perm = np.random.default_rng(1).permutation(len(X))
    folds_a = list(PurgedTimeSeriesSplit(n_splits=4, time_col="t").split(X))
    folds_b = list(PurgedTimeSeriesSplit(n_splits=4, time_col="t").split(X.iloc[perm]))
    for (tr_a, te_a), (tr_b, te_b) in zip(folds_a, folds_b, strict=True):
        assert sorted(perm[tr_b]) == sorted(tr_a)
        assert sorted(perm[te_b]) == sorted(te_a)


def test_gap_purges_and_max_train_size_truncates():
    X, _, _ = _data()
    t = X["t"]
    cv = PurgedTimeSeriesSplit(n_splits=3, time_col="t", gap="5D", max_train_size=50)
    for train, test in cv.split(X):
        assert t.iloc[test].min() - t.iloc[train].max() > pd.Timedelta("5D")
        assert len(train) <= 50


def test_embargo_makes_a_purged_kfold():
    X, _, _ = _data()
    t = X["t"]
    cv = PurgedTimeSeriesSplit(n_splits=4, time_col="t", gap="2D", embargo="3D")
    seen = np.zeros(len(X), dtype=int)
    for train, test in cv.split(X):
        seen[test] += 1
        lo, hi = t.iloc[test].min(), t.iloc[test].max()
        before = t.iloc[train][t.iloc[train] < lo]
        after = t.iloc[train][t.iloc[train] > hi]
        assert len(before) + len(after) == len(train)
        if len(before):
            assert lo - before.max() > pd.Timedelta("2D")
        if len(after):
            assert after.min() - hi > pd.Timedelta("3D")
    assert (seen == 1).all()


@pytest.mark.parametrize("cls", [PurgedTimeSeriesSplit, TimeSeriesGroupSplit])
def test_time_col_names_a_column_and_time_takes_values(cls):
    """D2: a column name goes to ``time_col``; ``time`` holds one value per row."""
    X, _y, _ = _data()
    groups = np.arange(len(X)) // 4
    with pytest.raises(InputError, match=r"time_col='t' to name a column"):
        list(cls(n_splits=3, time="t").split(X, groups=groups))
    with pytest.raises(InputError, match="both time= and time_col="):
        list(cls(n_splits=3, time=X["t"], time_col="t").split(X, groups=groups))
    with pytest.raises(InputError, match="not a DataFrame"):
        list(cls(n_splits=3, time_col="t").split(X.to_numpy(), groups=groups))
    assert clone(cls(time_col="t")).get_params()["time_col"] == "t"


def test_time_as_array_and_row_order():
    X, _y, _ = _data()
    by_name = list(PurgedTimeSeriesSplit(n_splits=3, time_col="t").split(X))
    by_array = list(PurgedTimeSeriesSplit(n_splits=3, time=X["t"]).split(X.drop(columns="t")))
    by_numpy = list(PurgedTimeSeriesSplit(n_splits=3, time=X["t"].to_numpy()).split(
        X.drop(columns="t").to_numpy()))
    for a, b, c in zip(by_name, by_array, by_numpy, strict=True):
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_array_equal(a[1], c[1])
    rows = list(PurgedTimeSeriesSplit(n_splits=3).split(np.zeros((40, 2))))
    assert rows[0][1].tolist() == list(range(10, 20))


def test_cross_validate_with_time_column_dropped_two_ways():
    X, y, _ = _data()
    model = make_pipeline(
        ColumnTransformer([("drop_time", "drop", ["t"])], remainder="passthrough"),
        LogisticRegression(),
    )
    cv = PurgedTimeSeriesSplit(n_splits=3, time_col="t", gap="1D")
    scores = cross_validate(model, X, y, cv=cv, scoring="roc_auc")
    assert len(scores["test_score"]) == 3
    assert (scores["test_score"] > 0.6).all()
    # Or: the time as an array, the model sees only its features.
    cv = PurgedTimeSeriesSplit(n_splits=3, time=X["t"], gap="1D")
    again = cross_validate(LogisticRegression(), X[["a", "b"]], y, cv=cv, scoring="roc_auc")
    np.testing.assert_allclose(again["test_score"], scores["test_score"])


def test_time_series_group_split():
    X, y, _ = _data()
    # Customers active over a few days each (two customers per 4-day window).
    days = (X["t"] - X["t"].min()).dt.days.to_numpy()
    jitter = np.random.default_rng(2).integers(0, 2, len(X))
    groups = pd.Series(np.clip(days + jitter * 2, 0, None) // 4 * 2 + jitter, name="g")
    cv = TimeSeriesGroupSplit(n_splits=3, time_col="t", gap="1D")
    folds = list(cv.split(X, y, groups))
    assert len(folds) == cv.get_n_splits() == 3
    for train, test in folds:
        assert not set(groups.iloc[train]) & set(groups.iloc[test])
        assert X["t"].iloc[test].min() - X["t"].iloc[train].max() > pd.Timedelta("1D")
    result = cross_validate(LogisticRegression(), X[["a", "b"]], y, groups=groups,
                            cv=TimeSeriesGroupSplit(n_splits=3, time=X["t"]))
    assert len(result["test_score"]) == 3
    with pytest.raises(InputError, match="needs groups"):
        list(cv.split(X, y))


def test_duplicate_aware_kfold_keeps_twins_in_one_fold():
    X, _y, _ = _data(200)
    X = X.drop(columns="t").round(1)
    twins = pd.concat([X, X.iloc[:80]], ignore_index=True)
    key = twins.astype(str).agg("|".join, axis=1)
    for cv in (DuplicateAwareKFold(n_splits=5), DuplicateAwareKFold(5, shuffle=True,
                                                                   random_state=3)):
        fold = np.empty(len(twins), dtype=int)
        for i, (_, test) in enumerate(cv.split(twins)):
            fold[test] = i
        assert pd.Series(fold).groupby(key).nunique().max() == 1
        sizes = np.bincount(fold)
        assert sizes.max() - sizes.min() <= 4
    # Same as GroupKFold-style grouping by the identical rows.
    a = [t.tolist() for _, t in DuplicateAwareKFold(4, shuffle=True, random_state=0).split(twins)]
    b = [t.tolist() for _, t in DuplicateAwareKFold(4, shuffle=True, random_state=0).split(twins)]
    assert a == b
    assert len(list(GroupKFold(4).split(twins, groups=key))) == 4


def test_clone_and_params():
    cv = PurgedTimeSeriesSplit(3, time_col="t", gap="2D")
    copy = clone(cv)
    assert copy.get_params() == cv.get_params()
    copy.set_params(gap="4D")
    assert cv.gap == "2D"
    assert copy.gap == "4D"
    assert "gap='2D'" in repr(cv)
    with pytest.raises(InputError, match="unknown parameter"):
        cv.set_params(nope=1)


@pytest.mark.parametrize(
    ("cv", "match"),
    [
        (PurgedTimeSeriesSplit(n_splits=1, time_col="t"), "n_splits"),
        (PurgedTimeSeriesSplit(n_splits=3, time_col="zz"), "'zz' not found"),
        (PurgedTimeSeriesSplit(n_splits=3, time_col="t", gap=5), "no time unit"),
        (PurgedTimeSeriesSplit(n_splits=3, time_col="t", gap="45D"), "no training rows"),
        (PurgedTimeSeriesSplit(n_splits=60, time_col="t"), "distinct timestamps"),
        (PurgedTimeSeriesSplit(n_splits=3, time_col="t", embargo="1D", max_train_size=5),
         "walk-forward"),
        (PurgedTimeSeriesSplit(n_splits=3, time_col="t", max_train_size=0), "max_train_size"),
        (DuplicateAwareKFold(n_splits=500), "distinct rows"),
        (TimeSeriesGroupSplit(n_splits=45, time_col="t"), "groups with distinct"),
    ],
)
def test_bad_input(cv, match):
    X, y, groups = _data()
    with pytest.raises(InputError, match=match):
        list(cv.split(X, y, groups))


def test_iso_text_time_is_read_like_datetimes_and_other_text_rejected():
    X, _y, _ = _data(50)
    as_dates = list(PurgedTimeSeriesSplit(3, time_col="t").split(X))
    as_text = list(PurgedTimeSeriesSplit(3, time_col="t").split(X.assign(t=X["t"].astype(str))))
    for (a_tr, a_te), (b_tr, b_te) in zip(as_dates, as_text, strict=True):
        np.testing.assert_array_equal(a_tr, b_tr)
        np.testing.assert_array_equal(a_te, b_te)
    with pytest.raises(InputError, match="not times"):
        list(PurgedTimeSeriesSplit(3, time_col="t").split(X.assign(t="soon")))
    with pytest.raises(InputError, match="not times"):
        list(PurgedTimeSeriesSplit(3, time_col="t").split(X.assign(t=X["a"] > 0)))
    with pytest.raises(InputError, match="NaT"):
        list(PurgedTimeSeriesSplit(3, time_col="t").split(X.assign(t=X["t"].where(X["a"] > 0))))
    with pytest.raises(InputError, match="not a DataFrame"):
        list(PurgedTimeSeriesSplit(3, time_col="t").split(X.to_numpy()))


def test_one_huge_duplicate_set_is_reported():
    X = pd.DataFrame({"a": [1] * 90 + list(range(10))})
    with pytest.raises(InputError, match="identical rows"):
        list(DuplicateAwareKFold(5).split(X))
