"""Any dataframe in: every public entry point gives the pandas result for polars,
pyarrow and numpy input (docs/dataframes.md).

One parametrisation: container × entry point. Each case runs once on pandas
(the reference) and once on the same data in another container; results must be
equal (frames with ``assert_frame_equal``, reports through ``to_dict``). numpy
input runs on an all-float table whose pandas columns are already named
``x0, x1, ...``, the names numpy input gets.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import mllife
from mllife import InputError
from mllife._frame import as_frame, as_series, from_native, is_native
from mllife.drift import DriftProfile

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

N = 120


@dataclass(frozen=True)
class Data:
    """A table and the names the cases use; the same for every container."""

    frame: pd.DataFrame
    target: str
    num: str      # a float column (rules, regression target)
    time: str     # a time column (datetimes, or increasing numbers)
    group: str    # a group key with 12 groups in time order
    numeric: list[str]  # the float feature columns (models)

    @property
    def X(self) -> pd.DataFrame:
        return self.frame.drop(columns=[self.target])

    @property
    def y(self) -> pd.Series:
        return self.frame[self.target]


def _mixed() -> Data:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "num": rng.normal(size=N),
        "count": rng.integers(0, 10, N),
        "plan": rng.choice(["basic", "pro", "team"], N),
        "flag": rng.random(N) > 0.5,
        "when": pd.date_range("2024-01-01", periods=N, freq="D").astype("datetime64[us]"),
        "store": np.arange(N) // 10,
        "target": (rng.random(N) > 0.5).astype(np.int64),
    })
    return Data(frame, "target", "num", "when", "store", ["num", "count"])


def _numeric() -> Data:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "x0": rng.normal(size=N),
        "x1": (np.arange(N) // 10).astype(float),
        "x2": np.arange(N, dtype=float),
        "x3": (rng.random(N) > 0.5).astype(float),
    })
    return Data(frame, "x3", "x0", "x2", "x1", ["x0", "x1"])


MIXED, NUMERIC = _mixed(), _numeric()


def _to_polars(obj: Any) -> Any:
    return pl.from_pandas(obj)


def _to_pyarrow(obj: Any) -> Any:
    if isinstance(obj, pd.Series):
        return pa.chunked_array([pa.Array.from_pandas(obj)])
    return pa.Table.from_pandas(obj, preserve_index=False)


def _to_numpy(obj: Any) -> Any:
    return obj.to_numpy()


CONTAINERS: dict[str, Callable[[Any], Any]] = {
    "polars": _to_polars, "pyarrow": _to_pyarrow, "numpy": _to_numpy,
}


def _same(obj: Any) -> Any:
    return obj


def _rows(frame: pd.DataFrame, start: int, stop: int) -> pd.DataFrame:
    return frame.iloc[start:stop].reset_index(drop=True)


def _model(d: Data) -> LogisticRegression:
    return LogisticRegression().fit(d.frame[d.numeric], d.y)


# ---- the cases: (convert, data) -> a result to compare ------------------------------
def case_profile(c, d):
    return mllife.profile(c(d.frame))


def case_audit(c, d):
    return mllife.audit(c(d.frame), target=d.target)


def case_split(c, d):
    s = mllife.split(c(d.frame), target=d.target, random_state=0)
    return [s.train, s.validation, s.test, s.report]


def case_split_time(c, d):
    s = mllife.split(c(d.frame), target=d.target, time_col=d.time)
    return [s.train, s.validation, s.test, s.report]


def case_check_leakage(c, d):
    return mllife.check_leakage(c(_rows(d.frame, 0, 70)), c(_rows(d.frame, 60, N)),
                                target=d.target)


def case_make_preprocessor(c, d):
    pre = mllife.make_preprocessor(c(d.X))
    return [pre.plan_, pre.fit_transform(c(d.X))]


def case_preprocessor_fit_transform(c, d):
    fitted = mllife.make_preprocessor(d.X).fit(c(d.X))
    return [fitted.transform(c(d.X)), fitted.transform(c(_rows(d.X, 0, 10)))]


def case_describe_features(c, d):
    fitted = mllife.make_preprocessor(c(d.X)).fit(c(d.X))
    return mllife.describe_features(fitted, c(d.X))


def case_compare_models(c, d):
    return mllife.compare_models({"logistic": LogisticRegression()}, c(d.frame[d.numeric]),
                                 c(d.y), cv=3)


def case_evaluate(c, d):
    model = _model(d)
    train, test = _rows(d.frame, 0, 60), _rows(d.frame, 60, N)
    return mllife.evaluate(model, c(test[d.numeric]), c(test[d.target]),
                           X_train=c(train[d.numeric]), y_train=c(train[d.target]),
                           sensitive_features=c((test[d.group] % 2 == 0).rename("sensitive_features")),
                           time=c(test[d.time].rename("time")))


def case_compare_champion(c, d):
    champion = _model(d)
    challenger = LogisticRegression(C=0.01).fit(d.frame[d.numeric], d.y)
    return mllife.compare_champion(champion, challenger, c(d.frame[d.numeric]), c(d.y),
                                   metric="roc_auc", n_boot=200, random_state=0)


def case_drift_report(c, d):
    return mllife.drift_report(c(_rows(d.X, 0, 60)), c(_rows(d.X, 60, N)))


def case_drift_profile(c, d):
    profile = DriftProfile.fit(c(_rows(d.X, 0, 60)))
    return [profile, profile.compare(c(_rows(d.X, 60, N)))]


def case_input_schema(c, d):
    schema = mllife.InputSchema.infer(c(d.X))
    return [schema, schema.validate(c(d.X))]


def case_model_bundle(c, d):
    model = _model(d)
    bundle = mllife.ModelBundle(model, mllife.InputSchema.infer(d.frame[d.numeric]), version="1")
    return [bundle.predict(c(d.frame[d.numeric])), bundle.predict_proba(c(d.frame[d.numeric]))]


def case_rule_classifier(c, d):
    model = mllife.RuleClassifier([(f"{d.num} > 0", 1)], default=0).fit(c(d.X), c(d.y))
    return [model.predict(c(d.X)), model.predict_proba(c(d.X)), model.coverage_]


def case_rule_regressor(c, d):
    model = mllife.RuleRegressor([(f"{d.num} > 0", 1.0)]).fit(c(d.X), c(d.frame[d.num]))
    return [model.predict(c(d.X)), model.coverage_]


def case_forecasters(c, d):
    X, y = d.frame[d.numeric], d.frame[d.num]
    out = []
    for forecaster in (mllife.NaiveForecaster(), mllife.MovingAverageForecaster(3),
                       mllife.SeasonalNaiveForecaster(7)):
        fitted = forecaster.fit(c(_rows(X, 0, 100)), c(y.iloc[:100].reset_index(drop=True)))
        out += [fitted.predict(c(_rows(X, 100, N))), fitted.fitted_values_]
    return out


def case_baseline(c, d):
    X, y = d.frame[d.numeric], d.y
    clf = mllife.baseline("binary").fit(c(X), c(y))
    reg = mllife.baseline("regression").fit(c(X), c(d.frame[d.num]))
    return [clf.predict(c(X)), clf.predict_proba(c(X)), reg.predict(c(X))]


def case_splitters(c, d):
    X, y = d.X, d.y
    splitters = [
        (mllife.PurgedTimeSeriesSplit(3, time_col=d.time), None),
        (mllife.TimeSeriesGroupSplit(3, time_col=d.time), X[d.group]),
        (mllife.DuplicateAwareKFold(3), None),
    ]
    return [list(cv.split(c(X), c(y), None if g is None else c(g))) for cv, g in splitters]


def case_splitter_time_array(c, d):
    cv = mllife.PurgedTimeSeriesSplit(3, time=c(d.frame[d.time]))
    return list(cv.split(c(d.X)))


CASES = {name[5:]: fn for name, fn in dict(globals()).items() if name.startswith("case_")}
#: numpy cases that cannot give the pandas result, and why.
NUMPY_SKIPS = {
    "input_schema": "a bundle names array columns '0', '1', ... (pd.DataFrame(array)), "
                    "not x0, x1, ...",
    "model_bundle": "the same: an array matches a contract inferred from an array",
    "splitters": "a time column is named only in a frame; case splitter_time_array "
                 "passes the times as an array",
}


#: Measurements of the run, not of the data: wall-clock times, and a model's pickled size
#: (a model fitted on an array stores no feature names). The only values that may differ.
TIMING = re.compile(r"seconds|latency|_ms$|ms/row|ms per row|size_bytes")


def _assert_same(got: Any, want: Any, where: str = "result") -> None:
    if hasattr(want, "to_dict") and not isinstance(want, pd.DataFrame | pd.Series):
        got, want = got.to_dict(), want.to_dict()
    if isinstance(want, dict) and TIMING.search(str(want.get("measure", ""))):
        assert got.get("measure") == want["measure"], where
        return
    if isinstance(want, pd.DataFrame):
        pd.testing.assert_frame_equal(got, want, obj=where)
    elif isinstance(want, pd.Series):
        pd.testing.assert_series_equal(got, want, obj=where)
    elif isinstance(want, np.ndarray):
        np.testing.assert_array_equal(got, want, err_msg=where)
        assert np.asarray(got).dtype == want.dtype, where
    elif isinstance(want, dict):
        assert isinstance(got, dict), where
        assert list(got) == list(want), where
        for key in want:
            if not TIMING.search(str(key)):
                _assert_same(got[key], want[key], f"{where}[{key!r}]")
    elif isinstance(want, list | tuple):
        assert len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            _assert_same(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and np.isnan(want):
        assert isinstance(got, float), where
        assert np.isnan(got), where
    else:
        assert got == want, where


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("container", list(CONTAINERS))
def test_every_entry_point_gives_the_pandas_result(container, case):
    if container == "numpy" and case in NUMPY_SKIPS:
        pytest.skip(NUMPY_SKIPS[case])
    data = NUMERIC if container == "numpy" else MIXED
    before = data.frame.copy()
    want = CASES[case](_same, data)
    got = CASES[case](CONTAINERS[container], data)
    _assert_same(got, want, case)
    pd.testing.assert_frame_equal(data.frame, before)  # inputs never mutated


def test_the_containers_round_trip_the_tables():
    """The reference is fair: each container holds exactly the pandas data."""
    for data in (MIXED, NUMERIC):
        for name, convert in CONTAINERS.items():
            if name == "numpy":
                continue
            pd.testing.assert_frame_equal(as_frame(convert(data.frame)), data.frame)
            pd.testing.assert_series_equal(as_series(convert(data.y)), data.y,
                                           check_names=name == "polars")
    pd.testing.assert_frame_equal(as_frame(NUMERIC.frame.to_numpy()), NUMERIC.frame)


# ---- the conversion rules ------------------------------------------------------------
def test_pandas_passes_through_untouched_and_nothing_is_imported_for_it():
    df = MIXED.frame
    assert as_frame(df) is df
    assert as_series(df["num"]) is df["num"] or as_series(df["num"]).equals(df["num"])
    assert not is_native(df)
    assert not is_native(df.to_numpy())
    assert not is_native([{"a": 1}])


def test_polars_null_and_nan_are_both_missing_and_integers_with_nulls_are_float():
    frame = pl.DataFrame({
        "f": [1.0, None, float("nan"), 4.0],
        "i": [1, None, 3, 4],
        "s": ["a", None, "c", "a"],
        "b": [True, None, False, True],
    })
    out = as_frame(frame)
    assert out["f"].isna().tolist() == [False, True, True, False]
    assert out["i"].dtype == np.float64
    assert out["i"].isna().sum() == 1
    assert out["b"].dtype == object
    assert out["b"].isna().sum() == 1
    assert out["s"].isna().sum() == 1
    want = pd.DataFrame({
        "f": [1.0, np.nan, np.nan, 4.0], "i": [1.0, np.nan, 3.0, 4.0],
        "s": ["a", None, "c", "a"], "b": [True, None, False, True],
    })
    pd.testing.assert_frame_equal(out, want, check_dtype=False)
    _assert_same(mllife.profile(frame), mllife.profile(out))
    _assert_same(mllife.audit(frame), mllife.audit(out))


def test_categorical_and_enum_become_pandas_categoricals():
    frame = pl.DataFrame({
        "cat": pl.Series(["x", "y", "x", "z"] * 30, dtype=pl.Categorical),
        "enum": pl.Series(["lo", "hi", "lo", "mid"] * 30, dtype=pl.Enum(["lo", "mid", "hi"])),
        "v": np.arange(120.0),
    })
    out = as_frame(frame)
    assert isinstance(out["cat"].dtype, pd.CategoricalDtype)
    assert isinstance(out["enum"].dtype, pd.CategoricalDtype)
    assert out["enum"].cat.categories.tolist() == ["lo", "mid", "hi"]
    assert out["enum"].cat.ordered
    assert out["cat"].tolist() == ["x", "y", "x", "z"] * 30
    _assert_same(mllife.profile(frame), mllife.profile(out))
    pre = mllife.make_preprocessor(out)
    _assert_same(mllife.make_preprocessor(frame).fit_transform(frame), pre.fit_transform(out))


def test_time_zones_are_kept():
    when = pl.datetime_range(dt.datetime(2024, 3, 30), dt.datetime(2024, 4, 2), "1h",
                             eager=True, time_zone="Europe/Paris")
    frame = pl.DataFrame({"when": when, "v": np.arange(len(when), dtype=float)})
    out = as_frame(frame)
    assert str(out["when"].dtype) == "datetime64[us, Europe/Paris]"
    assert out["when"].iloc[0] == pd.Timestamp("2024-03-30", tz="Europe/Paris")
    half = len(out) // 2
    _assert_same(mllife.drift_report(frame[:half], frame[half:]),
                 mllife.drift_report(out.iloc[:half], out.iloc[half:].reset_index(drop=True)))
    _assert_same(mllife.profile(frame), mllife.profile(out))


def test_dates_and_decimals_have_one_pandas_dtype_for_every_backend():
    frame = pl.DataFrame({
        "day": [dt.date(2024, 1, 1), None, dt.date(2024, 1, 3)],
        "price": pl.Series([decimal.Decimal("1.10"), None, decimal.Decimal("2.50")],
                           dtype=pl.Decimal(10, 2)),
    })
    for native in (frame, frame.to_arrow()):
        out = as_frame(native)
        assert str(out["day"].dtype) == "datetime64[ms]"
        assert out["price"].dtype == np.float64
        assert out["price"].tolist()[::2] == [1.1, 2.5]
        assert np.isnan(out["price"].iloc[1])


def test_a_lazy_frame_is_refused_not_computed():
    lazy = pl.DataFrame({"a": [1, 2, 3]}).lazy()
    for call in (lambda: as_frame(lazy), lambda: mllife.profile(lazy),
                 lambda: mllife.audit(lazy), lambda: mllife.split(lazy),
                 lambda: mllife.drift_report(lazy, lazy),
                 lambda: mllife.make_preprocessor(lazy), lambda: as_series(lazy)):
        with pytest.raises(InputError, match=r"lazy polars\.LazyFrame.*\.collect\(\) first"):
            call()


def test_polars_names_that_look_alike_stay_apart_and_in_order():
    names = ["a", "A", "a ", " a", "1", "a.b"]
    frame = pl.DataFrame({n: np.arange(60.0) * (i + 1) for i, n in enumerate(names)})
    out = as_frame(frame)
    assert out.columns.tolist() == names
    want = pd.DataFrame({n: np.arange(60.0) * (i + 1) for i, n in enumerate(names)})
    pd.testing.assert_frame_equal(out, want)
    _assert_same(mllife.audit(frame), mllife.audit(want))
    _assert_same(mllife.make_preprocessor(frame).fit_transform(frame),
                 mllife.make_preprocessor(want).fit_transform(want))


def test_a_pyarrow_dictionary_column_is_categorical():
    codes = pa.array(["north", "south", "north", None] * 25).dictionary_encode()
    table = pa.table({"region": codes, "v": pa.array(np.arange(100.0))})
    out = as_frame(table)
    assert isinstance(out["region"].dtype, pd.CategoricalDtype)
    assert out["region"].isna().sum() == 25
    _assert_same(mllife.profile(table), mllife.profile(out))
    _assert_same(mllife.audit(table), mllife.audit(out))


def test_pyarrow_repeated_names_are_refused_or_reported_like_pandas():
    table = pa.table([pa.array([1, 2, 3]), pa.array([4, 5, 6])], names=["a", "a"])
    with pytest.raises(InputError, match=r"duplicated column names \['a'\]"):
        as_frame(table)
    kept = as_frame(table, allow_duplicate_columns=True)
    assert kept.columns.tolist() == ["a", "a"]
    assert kept.iloc[:, 1].tolist() == [4, 5, 6]
    pandas = pd.DataFrame([[1, 4], [2, 5], [3, 6]], columns=["a", "a"])
    _assert_same(mllife.audit(table), mllife.audit(pandas))


def test_series_and_arrays_of_other_libraries_become_series():
    named = as_series(pl.Series("churned", [0, 1, None]))
    assert named.name == "churned"
    assert named.isna().sum() == 1
    assert as_series(pl.Series([1, 2]), name="y").name == "y"
    assert as_series(pa.array(["a", "b"]), name="y").tolist() == ["a", "b"]
    assert as_series(pl.DataFrame({"t": [1, 2]})).name == "t"
    with pytest.raises(InputError, match="2 columns"):
        as_series(pl.DataFrame({"t": [1, 2], "u": [3, 4]}))
    assert as_frame(pl.Series("v", [1.0])).columns.tolist() == ["v"]
    assert as_frame(pl.Series([1.0])).columns.tolist() == ["x0"]
    batch = pa.RecordBatch.from_pydict({"a": [1, 2]})
    pd.testing.assert_frame_equal(as_frame(batch), pd.DataFrame({"a": [1, 2]}))


def test_polars_is_converted_with_one_to_pandas_per_input(monkeypatch):
    calls = []
    original = pl.DataFrame.to_pandas

    def counted(self, *args, **kwargs):
        calls.append(self.shape)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pl.DataFrame, "to_pandas", counted)
    frame = pl.from_pandas(MIXED.frame)
    from_native(frame)
    assert calls == [frame.shape]
    calls.clear()
    mllife.audit(frame, target="target")
    mllife.profile(frame)
    mllife.split(frame, target="target", random_state=0)
    assert calls == [frame.shape] * 3


def test_import_mllife_imports_no_dataframe_library_of_its_own():
    """polars is never imported, and pyarrow / narwhals only when pandas or
    scikit-learn import them (pandas reads pyarrow for its ``str`` dtype,
    scikit-learn >= 1.7 imports narwhals)."""
    code = (
        "import sys\n"
        "import numpy, pandas, sklearn, sklearn.utils.validation\n"
        "base = {m for m in ('polars', 'pyarrow', 'narwhals') if m in sys.modules}\n"
        "import mllife\n"
        "mllife.profile(pandas.DataFrame({'a': [1.0, 2.0]}))\n"
        "mllife.split(pandas.DataFrame({'a': range(40)}), random_state=0)\n"
        "after = {m for m in ('polars', 'pyarrow', 'narwhals') if m in sys.modules}\n"
        "print(sorted(after - base))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    code = "import sys, mllife; print('polars' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
