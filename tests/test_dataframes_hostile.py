"""Hostile dataframes through the frame layer and the transformer base.

Odd pyarrow types, pandas frames backed by pyarrow dtypes, columns a
transformer cannot read and the input forms the base documents: each must give
the documented result or an :class:`~mllife.InputError` naming the column,
never a raw numpy / pandas / pyarrow traceback or a silent wrong answer.
"""

from __future__ import annotations

import datetime as dt
import decimal
import warnings

import numpy as np
import pandas as pd
import pytest

from mllife import InputError
from mllife._frame import as_frame
from mllife.features import (
    Cleaner,
    DateTimeFeatures,
    RareCategoryGrouper,
    RatioFeatures,
    StringNormalizer,
)
from mllife.features._casts import AsFloat

pl = pytest.importorskip("polars")
pa = pytest.importorskip("pyarrow")

A = pd.ArrowDtype


# ---- the frame layer -------------------------------------------------------------------
def test_pyarrow_date64_and_decimal256_get_the_documented_dtypes():
    # narwhals reads neither type ("Unknown"): they came out as Python date / Decimal objects.
    t = pa.table({
        "d32": pa.array([dt.date(2024, 1, 2), None], pa.date32()),
        "d64": pa.array([dt.date(2024, 1, 2), None], pa.date64()),
        "dec": pa.array([decimal.Decimal("1.25"), None], pa.decimal128(5, 2)),
        "dec256": pa.array([decimal.Decimal("1.25"), None], pa.decimal256(50, 2)),
    })
    out = as_frame(t)
    assert [str(d) for d in out.dtypes] == ["datetime64[ms]", "datetime64[ms]", "float64", "float64"]
    assert out["d64"].tolist()[0] == pd.Timestamp("2024-01-02")
    assert out["dec256"].iloc[0] == 1.25
    assert np.isnan(out["dec256"].iloc[1])


def test_pyarrow_dictionary_with_a_null_entry_is_a_categorical_with_missing_values():
    # pandas refuses null categories: to_pandas raised a raw ValueError.
    dictionary = pa.DictionaryArray.from_arrays(pa.array([0, None, 1, 0, 2]), pa.array(["x", None, "y"]))
    out = as_frame(pa.table({"plan": dictionary, "n": [1, 2, 3, 4, 5]}))
    assert isinstance(out["plan"].dtype, pd.CategoricalDtype)
    assert out["plan"].cat.categories.tolist() == ["x", "y"]
    assert out["plan"].isna().tolist() == [False, True, True, False, False]
    assert out["plan"].tolist()[::3] == ["x", "x"]


@pytest.mark.parametrize("backend", ["polars", "pyarrow"])
def test_large_integers_with_nulls_keep_every_digit(backend):
    # float64 holds integers exactly only up to 2**53: ids were silently merged.
    ids = [2**60 + 1, None, 2**60 + 2]
    native = (pl.DataFrame({"id": ids}, schema={"id": pl.Int64}) if backend == "polars"
              else pa.table({"id": pa.array(ids, pa.int64())}))
    out = as_frame(native)
    assert out["id"].isna().tolist() == [False, True, False]
    assert out["id"].dropna().astype("int64").tolist() == [2**60 + 1, 2**60 + 2]
    assert out["id"].nunique() == 2
    small = as_frame(pl.DataFrame({"n": [1, None, 3]}))
    assert str(small["n"].dtype) == "float64"  # the documented rule where float64 is exact


def test_unsigned_integers_above_int64_with_nulls_keep_every_digit():
    native = pl.DataFrame({"id": [2**64 - 1, None, 5]}, schema={"id": pl.UInt64})
    out = as_frame(native)
    assert out["id"].dropna().tolist() == [2**64 - 1, 5]


# ---- the transformer base: input forms -----------------------------------------------------
def test_a_list_of_dicts_is_rows_at_fit_and_transform():
    rows = [{"a": 1.0, "b": 2.0}, {"a": 3.0, "b": 0.0}]
    ratio = RatioFeatures([("a", "b")]).fit(rows)
    out = ratio.transform([{"a": 4.0, "b": 2.0}])
    np.testing.assert_allclose(out, [[4.0, 2.0, 2.0]])


# ---- pandas frames backed by pyarrow dtypes ----------------------------------------------
def _arrow_timestamps(tz: str | None) -> pd.Series:
    stamps = pd.to_datetime(["2024-01-06 10:00", None, "2024-03-31 23:00"])
    if tz is not None:
        stamps = stamps.tz_localize(tz)
    return pd.Series(stamps).astype(A(pa.timestamp("us", tz)))


@pytest.mark.parametrize("tz", [None, "Europe/Paris"])
def test_datetime_features_read_pyarrow_timestamps(tz):
    X = pd.DataFrame({"when": _arrow_timestamps(tz)})
    reference = pd.DataFrame({"when": _arrow_timestamps(tz).astype(
        pd.DatetimeTZDtype("us", tz) if tz else "datetime64[us]")})
    made = DateTimeFeatures(("year", "month", "hour", "elapsed")).fit(X).transform(X)
    expected = DateTimeFeatures(("year", "month", "hour", "elapsed")).fit(reference).transform(reference)
    pd.testing.assert_frame_equal(made, expected)


def test_datetime_features_read_pyarrow_dates():
    X = pd.DataFrame({"day": pd.Series([dt.date(2024, 1, 6), None, dt.date(2024, 3, 31)],
                                       dtype=A(pa.date32()))})
    out = DateTimeFeatures(("year", "month", "day")).fit_transform(X)
    assert out["day_month"].tolist()[::2] == [1.0, 3.0]
    assert out.iloc[1].isna().all()


def test_as_float_reads_pyarrow_durations_as_seconds():
    # they silently became all-NaN (then imputed by make_preprocessor)
    X = pd.DataFrame({"wait": pd.Series(pd.to_timedelta([1, None, 3], unit="s")).astype(
        A(pa.duration("ns")))})
    assert AsFloat().fit_transform(X)["wait"].tolist()[::2] == [1.0, 3.0]


def test_string_normalizer_merges_variants_in_a_pyarrow_dictionary_column():
    X = pd.DataFrame({"region": pd.Series(["north", " North", None, "south", "north"],
                                          dtype=A(pa.dictionary(pa.int32(), pa.string())))})
    out = StringNormalizer().fit_transform(X)["region"]
    assert out.tolist()[:2] == ["north", "north"]


def test_pyarrow_backed_input_is_not_modified():
    X = pd.DataFrame({"when": _arrow_timestamps("UTC"),
                      "plan": pd.Series(["a", "a", "b"], dtype=A(pa.dictionary(pa.int8(), pa.string())))})
    before = X.copy(deep=True)
    DateTimeFeatures(("year",), columns=["when"]).fit_transform(X)
    RareCategoryGrouper(min_frequency=2).fit_transform(X[["plan"]])
    pd.testing.assert_frame_equal(X, before)


# ---- columns a transformer cannot read: InputError naming the column ---------------------------
@pytest.mark.parametrize("values", [
    pd.to_datetime(["2024-01-01", None, "2024-01-03"]),
    pd.to_timedelta([1, None, 3], unit="s"),
    [dt.time(1), None, dt.time(3)],
    [{"a": 1}, None, {"a": 2}],
], ids=["datetime", "timedelta", "time", "struct"])
def test_ratio_features_refuse_non_numbers_naming_the_column(values):
    X = pd.DataFrame({"price": [1.0, 2.0, 3.0], "when": values})
    with pytest.raises(InputError, match="column 'when'"):
        RatioFeatures([("price", "when")]).fit(X)


def test_ratio_features_refuse_polars_temporal_columns_naming_the_column():
    X = pl.DataFrame({"price": [1.0, 2.0], "when": [dt.date(2024, 1, 1), None]})
    with pytest.raises(InputError, match="column 'when'"):
        RatioFeatures([("price", "when")]).fit(X)


@pytest.mark.parametrize("values", [[[1, 2], None, [3]], [{"a": 1}, None, {"a": 2}]], ids=["list", "struct"])
def test_as_float_refuses_nested_values_naming_the_column(values):
    X = pl.DataFrame({"flag": values})
    with pytest.raises(InputError, match="column 'flag'"):
        AsFloat().fit_transform(X)


def test_cleaner_converts_a_polars_frame_once(monkeypatch):
    import mllife._frame as frame_layer

    calls = []
    real = frame_layer.from_native

    def counting(X, **kw):
        calls.append(type(X).__name__)
        return real(X, **kw)

    monkeypatch.setattr(frame_layer, "from_native", counting)
    X = pl.DataFrame({"d": ["2024-01-31", "N/A", "2024-03-31"] * 4, "n": ["1", "2,000", "3"] * 4})
    cleaner = Cleaner()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cleaner.fit(X)
        assert len(calls) == 1
        cleaner.transform(X)
    assert len(calls) == 2
