"""The one transformer base: every feature transformer x input container x ``set_output``.

Each transformer is run on the same small table held as pandas, numpy, polars
and pyarrow, with the default output and with ``set_output`` pandas / polars:
the output container, its names (``get_feature_names_out``), its values (those
of the pandas run), the numpy dtype rule, duplicate columns and the input left
untouched are the base's, so they are the same for all of them.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
import sklearn
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from mllife import InputError, NotFittedError
from mllife.features import (
    Cleaner,
    DateTimeFeatures,
    DatetimeParser,
    NullLikeToNaN,
    RareCategoryGrouper,
    RatioFeatures,
    StringNormalizer,
    describe_features,
)
from mllife.features._base import FrameTransformer, numpy_output
from mllife.features._casts import AsFloat, AsText

N = 12
INDEX = pd.RangeIndex(100, 100 + N)


def _text(values: list[Any]) -> list[Any]:
    return (values * N)[:N]


def _dates() -> pd.DataFrame:
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(N) * 37, unit="D")
    hours = pd.Timestamp("2023-06-05 08:00") + pd.to_timedelta(np.arange(N) * 29, unit="h")
    return pd.DataFrame({"x0": days.where(np.arange(N) != 3), "x1": hours}, index=INDEX)


#: Per transformer: a factory and a table whose columns keep their type as numpy
#: (all text, all numbers, all dates), named ``x0, x1`` as numpy input is.
CASES: dict[str, tuple[Callable[[], Any], Callable[[], pd.DataFrame]]] = {
    "NullLikeToNaN": (NullLikeToNaN, lambda: pd.DataFrame({
        "x0": _text(["card", "N/A", "bank", " n/a", "card", None]),
        "x1": _text(["1", "2", "-", "4"]),
    }, index=INDEX)),
    "DatetimeParser": (DatetimeParser, lambda: pd.DataFrame({
        "x0": _text(["2024-01-31", "31/01/2024", "Feb 02, 2024", "N/A"]),
        "x1": _text(["north", "south", None]),
    }, index=INDEX)),
    "StringNormalizer": (StringNormalizer, lambda: pd.DataFrame({
        "x0": _text(["north", "north", " North", "NORTH", "south", None]),
        "x1": _text(["a", "A ", "b"]),
    }, index=INDEX)),
    "Cleaner": (Cleaner, lambda: pd.DataFrame({
        "x0": _text(["2024-01-31", "2024-02-29", "N/A", "2024-03-31"]),
        "x1": _text(["10.5", "1,234", " ", "7"]),
        "x2": _text(["north", " North", "south"]),
    }, index=INDEX)),
    "RatioFeatures": (lambda: RatioFeatures([("x0", "x1")]), lambda: pd.DataFrame({
        "x0": np.arange(N, dtype=float) * 10,
        "x1": np.where(np.arange(N) % 4 == 0, 0.0, np.arange(N) + 1.0),
    }, index=INDEX).assign(x1=lambda d: d["x1"].where(np.arange(N) != 5))),
    "DateTimeFeatures": (
        lambda: DateTimeFeatures(("year", "month", "day_of_week", "hour", "elapsed"), cyclical=["month"]),
        _dates),
    "RareCategoryGrouper": (lambda: RareCategoryGrouper(min_frequency=2), lambda: pd.DataFrame({
        "x0": ["a"] * 5 + ["b"] * 4 + ["c", None, "d"],
        "x1": _text(["u", "v", "u", "w"]),
    }, index=INDEX)),
    "AsFloat": (AsFloat, lambda: pd.DataFrame({
        "x0": _text([True, False, True]), "x1": _text([False, False, True]),
    }, index=INDEX)),
    "AsText": (AsText, lambda: pd.DataFrame({
        "x0": _text(["a", "b", None]), "x1": _text(["c", "d"]),
    }, index=INDEX)),
}

CONTAINERS = ("pandas", "numpy", "polars", "pyarrow")
OUTPUTS = ("default", "pandas", "polars")


def _as(container: str, df: pd.DataFrame) -> Any:
    if container == "pandas":
        return df
    if container == "numpy":
        return df.to_numpy()
    if container == "polars":
        return pl.from_pandas(df)
    # column by column: pyarrow keeps repeated names that way
    return pa.Table.from_arrays([pa.Array.from_pandas(df.iloc[:, i]) for i in range(df.shape[1])],
                                names=[str(c) for c in df.columns])


def _quiet(fn: Callable[[], Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # DataWarning: unseen values at transform
        return fn()


def _cells(out: Any, names: list[str]) -> dict[str, list[Any]]:
    """Column -> values, with every missing marker as None and numbers as float."""
    if isinstance(out, pl.DataFrame):
        out = out.to_pandas()
    if isinstance(out, np.ndarray):
        out = pd.DataFrame(out, columns=names)
    table = {}
    for col in out.columns:
        values = []
        for v in out[col].to_numpy(dtype=object):
            if v is None or (np.ndim(v) == 0 and pd.isna(v)):
                values.append(None)
            elif isinstance(v, np.datetime64 | pd.Timestamp):
                values.append(pd.Timestamp(v))
            elif isinstance(v, bool | np.bool_ | int | float | np.number):
                values.append(float(v))
            else:
                values.append(v)
        table[str(col)] = values
    return table


def _snapshot(X: Any) -> Any:
    if isinstance(X, pd.DataFrame | np.ndarray):
        return copy.deepcopy(X)
    return X.clone() if isinstance(X, pl.DataFrame) else X.to_pandas()


def _same_input(X: Any, before: Any) -> bool:
    if isinstance(X, pd.DataFrame):
        pd.testing.assert_frame_equal(X, before)
        return True
    if isinstance(X, np.ndarray):
        pd.testing.assert_frame_equal(pd.DataFrame(X), pd.DataFrame(before))
        return X.dtype == before.dtype
    if isinstance(X, pl.DataFrame):
        return X.equals(before)
    pd.testing.assert_frame_equal(X.to_pandas(), before)
    return True


@pytest.fixture(scope="module")
def pandas_runs() -> dict[str, dict[str, list[Any]]]:
    runs = {}
    for name, (make, data) in CASES.items():
        est = make()
        out = _quiet(lambda est=est, data=data: est.fit(data()).transform(data()))
        runs[name] = _cells(out, list(est.get_feature_names_out()))
    return runs


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("name", list(CASES))
def test_container_names_values(name, container, output, pandas_runs):
    make, data = CASES[name]
    X = _as(container, data())
    before = _snapshot(X)
    est = make()
    if output != "default":
        est.set_output(transform=output)
    fitted_out = _quiet(lambda: est.fit_transform(X))
    out = _quiet(lambda: est.transform(X))
    names = list(est.get_feature_names_out())
    assert _same_input(X, before)
    for result in (fitted_out, out):
        if output == "polars":
            assert isinstance(result, pl.DataFrame)
        elif output == "pandas" or container != "numpy":
            assert isinstance(result, pd.DataFrame)
            assert result is not X
            expected_index = INDEX if container == "pandas" else pd.RangeIndex(N)
            pd.testing.assert_index_equal(result.index, expected_index)
        else:
            assert isinstance(result, np.ndarray)
            numeric = all(isinstance(v, float) or v is None
                          for values in pandas_runs[name].values() for v in values)
            assert result.dtype == (np.float64 if numeric else object)
        if isinstance(result, np.ndarray):
            assert result.shape == (N, len(names))
        else:
            assert list(result.columns) == names
        assert _cells(result, names) == pandas_runs[name]


@pytest.mark.parametrize("container", ["pandas", "pyarrow"])
@pytest.mark.parametrize("name", list(CASES))
def test_duplicate_columns_are_named(name, container):
    make, data = CASES[name]
    df = data()
    twice = pd.concat([df, df.iloc[:, [0]]], axis=1)
    with pytest.raises(InputError, match=r"duplicated column names \['x0'\]"):
        make().fit(_as(container, twice))
    est = _quiet(lambda: make().fit(df))
    with pytest.raises(InputError, match=r"duplicated column names \['x0'\]"):
        est.transform(_as(container, twice))


@pytest.mark.parametrize("name", list(CASES))
def test_not_fitted_is_mllife_error(name):
    make, data = CASES[name]
    est = make()
    with pytest.raises(NotFittedError):
        est.transform(data())
    with pytest.raises(NotFittedError):
        est.get_feature_names_out()


@pytest.mark.parametrize("name", list(CASES))
def test_columns_checked_against_fit_and_names_described(name):
    make, data = CASES[name]
    df = data()
    est = _quiet(lambda: make().fit(df))
    with pytest.raises(InputError, match="feature names"):
        est.transform(df.rename(columns={"x0": "other"}))
    with pytest.raises(InputError, match="input_features"):
        est.get_feature_names_out(["nope"] * df.shape[1])
    table = describe_features(est)
    assert list(table["feature"]) == list(est.get_feature_names_out())
    assert set(", ".join(table["source"]).split(", ")) <= set(df.columns)


@pytest.mark.parametrize("name", list(CASES))
def test_global_polars_output_and_clone(name):
    make, data = CASES[name]
    with sklearn.config_context(transform_output="polars"):
        out = _quiet(lambda: clone(make()).fit_transform(data()))
    assert isinstance(out, pl.DataFrame)


def test_numpy_dtype_rule():
    assert numpy_output(pd.DataFrame({"a": [1, None], "b": [True, False]})).dtype == np.float64
    assert numpy_output(pd.DataFrame({"a": pd.array([1, None], dtype="Int64")})).dtype == np.float64
    text = numpy_output(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", None]}))
    assert text.dtype == object
    assert pd.isna(text[1, 1])  # missing as it was
    dates = numpy_output(pd.DataFrame({"d": pd.to_datetime(["2024-01-01", None])}))
    assert dates.dtype == object


def test_polars_output_names_the_column_it_cannot_hold():
    X = pd.DataFrame({"code": [1.0, 1.0, 2.0, 3.0]})
    grouper = RareCategoryGrouper(min_frequency=2).set_output(transform="polars").fit(X)
    with pytest.raises(InputError, match=r"column 'code': mixes Python types \['float', 'str'\]"):
        grouper.transform(X)


def test_policy_values_are_error_warn_ignore():
    X = pd.DataFrame({"d": ["2024-01-31", "2024-02-01"]})
    prod = pd.DataFrame({"d": ["2024-01-31", "soon"]})
    for old, new in (("raise", "error"), ("nan", "ignore")):
        with pytest.raises(InputError, match=f'"{old}" is spelled "{new}"'):
            DatetimeParser(on_unseen=old).fit(X)
        with pytest.raises(InputError, match=f'"{old}" is spelled "{new}"'):
            Cleaner(on_unseen=old).fit(X)
    with pytest.raises(InputError, match="column 'd'"):
        DatetimeParser(on_unseen="error").fit(X).transform(prod)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert DatetimeParser(on_unseen="ignore").fit(X).transform(prod)["d"].isna().tolist() == [False, True]
    # a transformer saved before the vocabulary was unified still reads its policy
    saved = DatetimeParser().fit(X)
    saved.on_unseen = "raise"
    with pytest.raises(InputError, match="column 'd'"):
        saved.transform(prod)


class _LogRatio(FrameTransformer):
    """A user's transformer: only the hooks."""

    def __init__(self, base: float = np.e) -> None:
        self.base = base

    def _check_params(self) -> None:
        if not self.base > 1:
            raise InputError(f"base={self.base!r}", expected="a number > 1")

    def _fit(self, frame: pd.DataFrame, y: Any = None) -> None:
        self.shift_ = {c: float(-frame[c].min()) + 1.0 for c in frame.columns}

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({f"log_{c}": np.log(frame[c] + self.shift_[c]) / np.log(self.base)
                             for c in frame.columns}, index=frame.index)

    def _names_out(self, input_names: list[str]) -> list[str]:
        return [f"log_{c}" for c in input_names]


@pytest.mark.parametrize("container", CONTAINERS)
def test_a_subclass_inherits_the_contract(container):
    df = pd.DataFrame({"x0": [0.0, 1.0, np.nan, 3.0], "x1": [5.0, 6.0, 7.0, 8.0]})
    X = _as(container, df)
    est = _LogRatio().fit(X)
    assert est.n_features_in_ == 2
    assert list(est.get_feature_names_out()) == ["log_x0", "log_x1"]
    out = est.set_output(transform="polars").transform(X)
    assert out.columns == ["log_x0", "log_x1"]
    assert out["log_x0"].null_count() == 1
    with pytest.raises(InputError, match=r"base=0\.5"):
        _LogRatio(base=0.5).fit(X)
    table = describe_features(make_pipeline(_LogRatio()).fit(df))
    assert table["source"].tolist() == ["x0", "x1"]
    assert table["steps"].tolist() == ["_LogRatio", "_LogRatio"]


def test_fitted_on_polars_transforms_pandas_and_back():
    df = CASES["Cleaner"][1]()
    est = _quiet(lambda: Cleaner().fit(pl.from_pandas(df)))
    assert list(est.feature_names_in_) == ["x0", "x1", "x2"]
    a = _quiet(lambda: est.transform(df))
    b = _quiet(lambda: est.transform(pl.from_pandas(df)))
    assert _cells(a, list(a.columns)) == _cells(b, list(b.columns))



def _as_float_checks() -> Any:
    from sklearn.utils.estimator_checks import parametrize_with_checks

    # AsFloat (a step of make_preprocessor, not public) meets scikit-learn's checks too;
    # AsText is left out: its output is text, which the checks compare with arithmetic.
    mark = parametrize_with_checks([AsFloat()])
    return pytest.mark.parametrize(mark.args[0], list(mark.args[1]), **mark.kwargs)


@_as_float_checks()
def test_as_float_passes_sklearn_checks(estimator, check):
    check(estimator)
