"""Cleaning transformers: learned at fit, applied at transform, unseen oddities per policy."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline

import mllife
from mllife import DataWarning, InputError
from mllife.features import Cleaner, DatetimeParser, NullLikeToNaN, StringNormalizer


def test_null_like_tokens_and_sentinels(churn):
    X = churn.frame
    before = X.copy(deep=True)
    step = NullLikeToNaN().fit(X)
    assert step.sentinels_ == {"age": [-999.0]}
    assert set(step.null_tokens_) == {"payment_method", "total_charges"}
    out = step.transform(X)
    pd.testing.assert_frame_equal(X, before)
    assert out["payment_method"].isna().sum() == (X["payment_method"] == "N/A").sum()
    assert out["age"].isna().sum() == (X["age"] == -999).sum()
    assert (out["age"].dropna() >= 18).all()
    # an unseen spelling of a token is still a token; unseen sentinel columns are not touched
    new = pd.DataFrame({"payment_method": [" null", "card"]})
    fitted = NullLikeToNaN().fit(new.assign(payment_method=["N/A", "card"]))
    assert fitted.transform(new)["payment_method"].isna().tolist() == [True, False]


def test_null_like_keeps_legitimate_negative_values():
    X = pd.DataFrame({"delta": [-3, -2, -1, 0, 1, 2, 3] * 5})
    assert NullLikeToNaN().fit(X).sentinels_ == {}


def test_datetime_parser_learns_formats_and_dayfirst(churn):
    X = churn.frame[["signup_date"]]
    parser = DatetimeParser().fit(X)
    assert sorted(parser.formats_["signup_date"]) == ["%Y-%m-%d", "%b %d, %Y", "%d/%m/%Y"]
    assert parser.dayfirst_["signup_date"] is True
    out = parser.transform(X)
    assert out["signup_date"].dtype == "datetime64[ns]"
    assert out["signup_date"].notna().all()
    # every format agrees with the original dates
    clean = mllife.make_churn(2_000, random_state=0, defects=False, drift=True).frame
    assert out["signup_date"].min() >= clean["signup_date"].min() - pd.Timedelta(days=400)


def test_datetime_parser_unseen_policy():
    fit = pd.DataFrame({"d": ["2024-01-31", "2024-02-01", "2024-03-05"]})
    prod = pd.DataFrame({"d": ["2024-04-01", "01/04/2024", "garbage"]})
    parser = DatetimeParser().fit(fit)
    with pytest.warns(DataWarning, match="2 rows"):
        out = parser.transform(prod)
    assert out["d"].isna().tolist() == [False, True, True]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DatetimeParser(on_unseen="ignore").fit(fit).transform(prod)
    with pytest.raises(InputError, match="'d'"):
        DatetimeParser(on_unseen="error").fit(fit).transform(prod)
    with pytest.raises(InputError):
        DatetimeParser(on_unseen="sometimes").fit(fit)


def test_datetime_parser_ambiguous_column_follows_dayfirst():
    X = pd.DataFrame({"d": ["01/02/2024", "03/04/2024", "05/06/2024"]})
    with pytest.warns(DataWarning, match="day/month order"):
        assert DatetimeParser().fit(X).ambiguous_ == ["d"]
    with pytest.warns(DataWarning, match="month-first"):
        month_first = DatetimeParser().fit_transform(X)["d"].dt.month.tolist()
    day_first = DatetimeParser(dayfirst=True).fit_transform(X)["d"].dt.month.tolist()
    assert month_first == [1, 3, 5]
    assert day_first == [2, 4, 6]


def test_string_normalizer_canonical_spellings(churn):
    X = churn.frame[["region"]]
    out = StringNormalizer().fit_transform(X)
    assert sorted(out["region"].unique()) == ["central", "east", "north", "south", "west"]
    unseen = StringNormalizer().fit(X).transform(pd.DataFrame({"region": [" NORTH ", "  Mars  base"]}))
    assert unseen["region"].tolist() == ["north", "Mars base"]
    folded = StringNormalizer(canonical=False).fit_transform(pd.DataFrame({"c": ["A b", "a  B"]}))
    assert folded["c"].tolist() == ["a b", "a b"]


@pytest.mark.parametrize("as_object", [False, True])
def test_cleaner_fixes_what_the_audit_finds(churn, as_object):
    X = churn.frame.drop(columns="churned")
    if as_object:  # text as object dtype everywhere, as pandas 2.2 loads it
        X = X.astype(dict.fromkeys([c for c in X.columns if pd.api.types.is_string_dtype(X[c].dtype)], object))
    before = X.copy(deep=True)
    cleaner = Cleaner().fit(X)
    out = cleaner.transform(X)
    pd.testing.assert_frame_equal(X, before)
    assert cleaner.numeric_columns_ == ["total_charges"]
    assert out["total_charges"].dtype == float
    assert out["signup_date"].dtype == "datetime64[ns]"
    report = mllife.audit(out, checks=["disguised_nulls", "date_formats", "numbers_as_strings",
                                       "category_variants"])
    assert report.findings == ()
    assert list(cleaner.get_feature_names_out()) == list(X.columns)


def test_cleaner_in_pipelines_and_set_output(churn):
    X = churn.frame[["age", "total_charges", "region"]]
    pipe = make_pipeline(Cleaner(strings=True), ColumnTransformer(
        [("num", "passthrough", ["age", "total_charges"])], remainder="drop"))
    pipe.set_output(transform="pandas")
    out = pipe.fit_transform(X)
    assert list(out.columns) == ["num__age", "num__total_charges"]
    arr = clone(Cleaner()).fit(X.to_numpy()).transform(X.to_numpy())
    assert isinstance(arr, np.ndarray)
    assert arr.shape == X.shape


def test_numpy_input_gets_generated_names():
    arr = np.array([["1.5", "N/A"], ["2.5", "b"], ["3", "b"]], dtype=object)
    cleaner = Cleaner().fit(arr)
    assert list(cleaner.get_feature_names_out()) == ["x0", "x1"]
    assert cleaner.numeric_columns_ == ["x0"]


def test_bad_input_is_our_error():
    with pytest.raises(InputError, match="duplicate column"):
        NullLikeToNaN().fit(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    with pytest.raises(InputError):
        Cleaner().fit(pd.DataFrame({"a": []}))
    with pytest.raises(InputError):
        Cleaner(min_numeric_share=2).fit(pd.DataFrame({"a": [1]}))
    with pytest.raises(InputError):
        NullLikeToNaN(tokens="n/a").fit(pd.DataFrame({"a": ["x"]}))


def test_numbers_unseen_policy():
    cleaner = Cleaner(on_unseen="error").fit(pd.DataFrame({"n": ["1", "2", "3.5"]}))
    with pytest.raises(InputError, match="'n'"):
        cleaner.transform(pd.DataFrame({"n": ["4", "four"]}))
