"""RareCategoryGrouper: thresholds, unseen categories, NaN policy, known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import OneHotEncoder

from mllife import InputError
from mllife.features import RareCategoryGrouper


@pytest.fixture
def cities() -> pd.DataFrame:
    values = ["Paris"] * 50 + ["Lyon"] * 30 + ["Nice"] * 15 + ["Brest"] * 4 + ["Metz"] + [None] * 5
    return pd.DataFrame({"city": values, "n": np.arange(len(values), dtype=float)})


def test_share_and_count_thresholds(cities):
    share = RareCategoryGrouper(0.05, columns="city").fit(cities)
    assert share.categories_["city"].tolist() == ["Paris", "Lyon", "Nice"]
    count = RareCategoryGrouper(4, columns="city").fit(cities)
    assert count.categories_["city"].tolist() == ["Paris", "Lyon", "Nice", "Brest"]
    top = RareCategoryGrouper(1, max_categories=2, columns="city").fit(cities)
    assert top.categories_["city"].tolist() == ["Paris", "Lyon"]


def test_rare_unseen_and_missing(cities):
    g = RareCategoryGrouper(0.05, columns=["city"]).fit(cities)
    new = pd.DataFrame({"city": ["Paris", "Brest", "Toulouse", None], "n": [1.0, 2.0, 3.0, 4.0]})
    out = g.transform(new)
    assert out["city"].iloc[:3].tolist() == ["Paris", "__rare__", "__rare__"]
    assert pd.isna(out["city"].iloc[3])  # missing stays missing
    pd.testing.assert_series_equal(out["n"], new["n"])  # other columns pass through


def test_matches_onehot_infrequent_grouping(cities):
    """Same kept categories as scikit-learn's OneHotEncoder(min_frequency)."""
    X = cities[["city"]].dropna()
    enc = OneHotEncoder(min_frequency=5, handle_unknown="infrequent_if_exist").fit(X)
    infrequent = set(enc.infrequent_categories_[0])
    g = RareCategoryGrouper(5).fit(X)
    assert set(g.categories_["city"]) == set(enc.categories_[0]) - infrequent


def test_numeric_codes_and_categorical_dtype():
    X = pd.DataFrame({"code": [1, 1, 1, 2, 2, 2, 3], "cat": pd.Categorical(list("aaabbbc"))})
    out = RareCategoryGrouper(2, rare_value=-1).fit_transform(X)
    assert out["code"].tolist() == [1, 1, 1, 2, 2, 2, -1]
    assert out["cat"].tolist()[-1] == -1


def test_bad_parameters(cities):
    for bad in (0, -1, 1.5, "a", True):
        with pytest.raises(InputError, match="min_frequency"):
            RareCategoryGrouper(bad).fit(cities)
    with pytest.raises(InputError, match="max_categories"):
        RareCategoryGrouper(max_categories=0).fit(cities)
    with pytest.raises(InputError, match="'town'"):
        RareCategoryGrouper(columns="town").fit(cities)


def test_not_mutated(cities):
    before = cities.copy()
    RareCategoryGrouper(0.2).fit_transform(cities)
    pd.testing.assert_frame_equal(cities, before)
