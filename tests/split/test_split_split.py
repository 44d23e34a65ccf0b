"""split(): strategies, guarantees and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mllife
from mllife import DataWarning, InputError
from mllife.split import LeakageReport, Split, check_leakage, split

from ._tables import census, titanic


def _frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 90, n), unit="D"),
            "customer": rng.integers(0, 120, n),
            "x": rng.normal(size=n),
            "cat": rng.choice(["a", "b", "c"], n),
            "y": (rng.random(n) < 0.2).astype(int),
        },
        index=pd.Index(rng.permutation(n) + 1000, name="row"),
    )


def test_package_is_callable_and_exports():
    df = _frame()
    s = mllife.split(df, target="y", random_state=0)
    assert isinstance(s, Split)
    assert isinstance(s.report, LeakageReport)
    assert mllife.split.PurgedTimeSeriesSplit is mllife.PurgedTimeSeriesSplit
    assert set(mllife.split.__all__) == {"split", "Split", "check_leakage", "LeakageReport",
                                         "PurgedTimeSeriesSplit", "TimeSeriesGroupSplit",
                                         "DuplicateAwareKFold"}


def test_random_split_is_a_stratified_partition():
    df = _frame(2000)
    s = split(df, target="y", random_state=1)
    parts = [s.train, s.validation, s.test]
    labels = np.concatenate([p.index.to_numpy() for p in parts])
    assert sorted(labels) == sorted(df.index)
    assert [len(p) for p in parts] == pytest.approx([1400, 300, 300], abs=3)
    rate = df["y"].mean()
    for part in parts:
        assert part["y"].mean() == pytest.approx(rate, abs=0.01)
    # Original row order and index labels are kept.
    for part in parts:
        positions = df.index.get_indexer(part.index)
        assert (np.diff(positions) > 0).all()
    # Customers repeat across parts of a random split: the report suggests the group key.
    flagged = {(f.check, f.column) for f in s.report.findings}
    assert flagged == {("group_key_candidate", "customer")}


def test_stratification_beats_chance_on_rare_class():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x": rng.normal(size=1000), "y": (np.arange(1000) < 50).astype(int)})
    s = split(df, target="y", random_state=0)
    assert s.test["y"].sum() == pytest.approx(7.5, abs=1)
    assert s.validation["y"].sum() == pytest.approx(7.5, abs=1)


def test_regression_target_is_stratified_by_quantiles():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=3000), "y": rng.lognormal(size=3000)})
    s = split(df, target="y", random_state=0)
    for part in (s.validation, s.test):
        assert part["y"].median() == pytest.approx(df["y"].median(), rel=0.1)


def test_deterministic_with_random_state():
    df = _frame()
    a = split(df, target="y", random_state=7)
    b = split(df, target="y", random_state=7)
    c = split(df, target="y", random_state=8)
    pd.testing.assert_frame_equal(a.test, b.test)
    assert not a.test.index.equals(c.test.index)


def test_group_split_never_shares_a_group():
    df = _frame()
    s = split(df, target="y", group_col="customer", random_state=0)
    sets = [set(p["customer"]) for p in s]
    assert not (sets[0] & sets[1])
    assert not (sets[0] & sets[2])
    assert not (sets[1] & sets[2])
    assert sum(len(p) for p in s) == len(df)
    assert s.strategy == "group"
    assert not s.report.findings_by(check="group_overlap")


def test_dedupe_keeps_twins_together():
    df = _frame(400)
    twins = pd.concat([df, df.iloc[:150].assign(y=1 - df["y"].iloc[:150])])
    twins.index = range(len(twins))
    s = split(twins, target="y", random_state=0)
    key = twins.drop(columns="y").astype(str).agg("|".join, axis=1)
    part_of = pd.Series(0, index=twins.index)
    part_of[s.validation.index] = 1
    part_of[s.test.index] = 2
    assert part_of.groupby(key).nunique().max() == 1
    assert not s.report.findings_by(check="exact_duplicates")
    # Without dedupe the twins leak, and the report says so.
    leaky = split(twins, target="y", dedupe=False, random_state=0)
    assert leaky.report.findings_by(check="exact_duplicates")


def _part_of(s: Split, index: pd.Index) -> pd.Series:
    part_of = pd.Series("train", index=index)
    part_of[s.validation.index] = "validation"
    part_of[s.test.index] = "test"
    return part_of


def test_dedupe_refuses_a_table_whose_twins_are_inherent():
    # pydataset's titanic: 2,201 people, 3 categorical features allowing 16 rows (14 occur).
    # Keeping identical rows together put 39% of the rows (adult male crew) in one part
    # and scored the model on whole class x sex cells it never saw: refused, saying why.
    df = titanic()
    with pytest.raises(InputError, match=r"14 distinct feature rows.*4 x 2 x 2 = 16 different"
                                         r".*not copies.*expected dedupe=False") as err:
        split(df, target="survived", random_state=0)
    assert "0.7 such sets" in str(err.value)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_row_split_of_titanic_keeps_every_class_and_sex_in_train(seed):
    df = titanic()
    s = split(df, target="survived", dedupe=False, random_state=seed)
    shares = np.array(list(s.sizes.values())) / len(df)
    np.testing.assert_allclose(shares, [0.7, 0.15, 0.15], atol=0.01)
    cells = s.train.groupby(["class", "sex"]).size()
    assert len(cells) == 8  # 1st-class women included
    assert cells.min() >= 10
    for part in s:
        assert part["survived"].eq("yes").mean() == pytest.approx(711 / 2201, abs=0.01)
    # Every test row has a twin in train, and the report says it is the table's nature.
    found = s.report.findings_by(check="exact_duplicates")
    assert [f.severity for f in found] == ["info", "info"]
    assert all(f.share == 1.0 and "inherent" in f.message and "16 distinct rows" in f.message
               for f in found)
    assert s.report.passed


def test_dedupe_groups_a_coarse_table_with_enough_distinct_rows():
    # Census-like: 8,960 possible rows, ~1,500 occur in 6,000; the sets of identical
    # rows are many, so they are kept together and the sizes are still met.
    df = census()
    features = df.columns.drop("income_over_50k")
    s = split(df, target="income_over_50k", random_state=0)
    shares = np.array(list(s.sizes.values())) / len(df)
    np.testing.assert_allclose(shares, [0.7, 0.15, 0.15], atol=0.02)
    key = df[features].astype(str).agg("|".join, axis=1)
    assert _part_of(s, df.index).groupby(key).nunique().max() == 1  # no twin straddles
    assert len(s.train.groupby(["workclass", "sex"]).size()) == 14
    assert not s.report.findings_by(check="exact_duplicates")


def test_check_leakage_calls_twins_of_a_few_distinct_rows_inherent_not_an_error():
    df = titanic()
    train, test = df.iloc[:1700], df.iloc[1700:]
    report = check_leakage(train, test, target="survived")
    (found,) = report.findings_by(check="exact_duplicates")
    assert (found.severity, found.share) == ("info", 1.0)
    assert "as expected" in found.message
    assert "not copies" in found.message
    assert found.details["inherent"]
    assert found.details["possible_rows"] == 16
    checks = report.checks
    assert checks.loc[checks["check"] == "exact_duplicates", "status"].tolist() == ["info"]
    # Copies in an ordinary table are still an error.
    ordinary = _frame(400)
    report = check_leakage(ordinary, ordinary.iloc[:100], target="y")
    assert report.findings_by(check="exact_duplicates")[0].severity == "error"


def test_time_split_on_unsorted_input_with_ties():
    df = _frame(900).drop(columns="customer")
    before = df.copy()
    s = split(df, target="y", time_col="t")
    assert s.train["t"].max() < s.validation["t"].min()
    assert s.validation["t"].max() < s.test["t"].min()
    assert sum(len(p) for p in s) == len(df)
    assert len(s.dropped) == 0
    pd.testing.assert_frame_equal(df, before)  # never mutated, never reordered
    assert s.strategy == "time"
    assert s.report.passed


def test_time_split_gap_drops_rows_between_parts():
    df = _frame(900)
    s = split(df, target="y", time_col="t", gap="7D")
    gap = pd.Timedelta("7D")
    assert s.validation["t"].min() - s.train["t"].max() > gap
    assert s.test["t"].min() - s.validation["t"].max() > gap
    kept = s.train.index.union(s.validation.index).union(s.test.index)
    assert kept.intersection(s.dropped).empty
    assert kept.union(s.dropped).sort_values().equals(df.index.sort_values())
    assert "dropped=" in repr(s)


def test_group_and_time_together():
    df = _frame(900)
    # Each customer is active for a week, customers arrive over three months.
    offset = np.random.default_rng(1).integers(0, 7, len(df))
    df["t"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(df["customer"] * 0.7 + offset, unit="D")
    s = split(df, target="y", time_col="t", group_col="customer", gap="2D")
    sets = [set(p["customer"]) for p in s]
    assert not (sets[0] & sets[1])
    assert not (sets[0] & sets[2])
    assert not (sets[1] & sets[2])
    assert s.validation["t"].min() - s.train["t"].max() > pd.Timedelta("2D")
    assert s.test["t"].min() - s.validation["t"].max() > pd.Timedelta("2D")
    assert s.strategy == "group+time"


def test_numeric_time_and_tz_aware_time():
    df = _frame(300).assign(period=lambda d: (d["t"] - d["t"].min()).dt.days)
    s = split(df.drop(columns="t"), target="y", time_col="period", gap=3)
    assert s.validation["period"].min() - s.train["period"].max() > 3
    aware = df.assign(t=df["t"].dt.tz_localize("Europe/Paris"))
    s = split(aware, target="y", time_col="t")
    assert s.train["t"].max() < s.validation["t"].min()


def test_two_sizes_give_empty_validation():
    df = _frame()
    s = split(df, target="y", sizes=(0.8, 0.2), random_state=0)
    assert s.validation.empty
    assert list(s.validation.columns) == list(df.columns)
    assert len(s.train) + len(s.test) == len(df)
    X, y = s.xy("test")
    assert "y" not in X
    assert len(y) == len(s.test)
    assert list(s.report.n_rows) == ["train", "test"]


def test_numpy_input():
    arr = np.random.default_rng(0).normal(size=(50, 3))
    s = split(arr, random_state=0)
    assert list(s.train.columns) == ["x0", "x1", "x2"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sizes": (0.5, 0.3, 0.3)}, "sum to"),
        ({"sizes": (0.5, 0.5, 0.0)}, "<= 0"),
        ({"sizes": (1.0,)}, "1 parts"),
        ({"target": "nope"}, "'nope'"),
        ({"gap": "7D"}, "gap needs time_col"),
        ({"time_col": "t", "gap": 7}, "no time unit"),
        ({"time_col": "t", "gap": "-1D"}, "negative"),
        ({"time_col": "t", "gap": "lots"}, "not a time span"),
        ({"time_col": "cat"}, "not times"),
        ({"target": "y", "group_col": "y"}, "different"),
    ],
)
def test_bad_input_raises_input_error(kwargs, match):
    with pytest.raises(InputError, match=match):
        split(_frame(), **kwargs)


def test_nat_and_mixed_time_zones_are_named():
    df = _frame(50)
    with_nat = df.assign(t=df["t"].where(df["x"] > -1))
    n_nat = int(with_nat["t"].isna().sum())
    with pytest.raises(InputError, match=rf"column 't'.*NaT.*\({n_nat} rows\)"):
        split(with_nat, time_col="t")
    mixed = df.assign(t=[pd.Timestamp("2024-01-01", tz="UTC") + pd.Timedelta(days=i)
                         if i % 2 else pd.Timestamp("2024-01-01", tz="Asia/Tokyo")
                         + pd.Timedelta(days=i) for i in range(len(df))])
    with pytest.raises(InputError, match="time zones"):
        split(mixed, time_col="t")


def test_too_few_rows_groups_or_timestamps():
    df = _frame(2)
    with pytest.raises(InputError, match="at least 3 rows"):
        split(df)
    one_day = _frame(40).assign(t=pd.Timestamp("2024-01-01"))
    with pytest.raises(InputError, match="distinct timestamps"):
        split(one_day, time_col="t")
    with pytest.raises(InputError, match="gap"):
        split(_frame(40), time_col="t", gap="60D")


def test_group_larger_than_a_part():
    df = _frame(200).assign(customer=lambda d: np.where(np.arange(len(d)) < 150, 0,
                                                        np.arange(len(d))))
    s = split(df, group_col="customer", random_state=0)
    assert sum(len(p) for p in s) == len(df)
    assert (s.train["customer"] == 0).sum() == 150  # the big group goes to train whole
    assert len(s.validation) == pytest.approx(20, abs=2)
    assert len(s.test) == pytest.approx(30, abs=2)
    # Groups too big for the requested shares: a warning, and still no empty part.
    huge = df.assign(customer=np.where(np.arange(len(df)) < 190, 0, np.arange(len(df))))
    with pytest.warns(DataWarning, match="far from the requested"):
        s = split(huge, group_col="customer", random_state=0)
    assert all(len(p) for p in s)
    few = _frame(10).assign(customer=[0] * 9 + [1])
    with pytest.raises(InputError, match="empty"):
        split(few, group_col="customer", random_state=0)


def test_one_class_target_splits_and_reports_skip():
    df = _frame().drop(columns="customer").assign(y=1)
    s = split(df, target="y", random_state=0)
    assert sum(len(p) for p in s) == len(df)
    assert s.report.findings_by(check="target_checks_skipped")
    assert s.report.passed


def test_xy_errors():
    s = split(_frame(), random_state=0)
    with pytest.raises(InputError, match="no target"):
        s.xy("train")
    s = split(_frame(), target="y", random_state=0)
    with pytest.raises(InputError, match="unknown part"):
        s.xy("holdout")
