"""Hostile review of make_preprocessor(X, steps=...): odd steps, odd text, polars output.

Oracles: the user's step fitted alone on the same columns (scikit-learn), the pandas
output of the same preprocessor (for polars output), the default preprocessor (steps=None).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder

from mllife import InputError
from mllife.features import describe_features, make_preprocessor

WORDS = np.array(["red", "green", "blue", "cyan", "pink", "gray", "teal"])


def _table(n: int = 240, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "age": rng.normal(40, 10, n),
        "plan": rng.choice(["basic", "plus", "pro"], n),
        "flag": rng.random(n) < 0.4,
        "note": pd.Series([" ".join(rng.choice(WORDS, 5)) + f" n{i}" for i in range(n)], dtype=object),
    })


@pytest.fixture(scope="module")
def X():
    return _table()


class NamesTwoMakesOne(BaseEstimator):
    """Says it makes two features, makes one: its names and its output disagree (no
    ``set_output``: with it, scikit-learn's own wrapper of the step fails first)."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.asarray(X, dtype=float)[:, :1]

    def get_feature_names_out(self, input_features=None):
        return np.asarray(["a", "b"], dtype=object)


# ---- sparse output of a user's step (OneHotEncoder's default, KBinsDiscretizer's) ---------------
@pytest.mark.parametrize("step", [OneHotEncoder(handle_unknown="ignore"),
                                  KBinsDiscretizer(n_bins=3, quantile_method="averaged_inverted_cdf")
                                  if "quantile_method" in KBinsDiscretizer().get_params()
                                  else KBinsDiscretizer(n_bins=3)],
                         ids=["onehot", "kbins"])
def test_a_step_with_sparse_output_works_with_pandas_output(X, step):
    key, cols = ("categorical", ["plan"]) if isinstance(step, OneHotEncoder) else ("numeric", ["age"])
    pre = make_preprocessor(X, steps={key: step})
    out = pre.fit_transform(X)
    alone = step.__class__(**step.get_params()).fit(X[cols])
    expected = alone.transform(X[cols]).toarray()
    names = [str(n) for n in alone.get_feature_names_out(cols)]
    np.testing.assert_array_equal(out[names].to_numpy(), expected)
    np.testing.assert_array_equal(pre.transform(X.head(7))[names].to_numpy(), expected[:7])
    assert step.get_params() == step.__class__(**step.get_params()).get_params()  # never set_output
    assert not hasattr(step, "_sklearn_output_config") or not step._sklearn_output_config


# ---- a step whose names and output disagree ---------------------------------------------------
def test_a_step_naming_more_features_than_it_makes_is_an_input_error(X):
    pre = make_preprocessor(X, steps={"numeric": NamesTwoMakesOne()})
    with pytest.raises(InputError, match=r"numeric.*1 column.*2"):
        pre.fit_transform(X)


# ---- text cells that are not text ---------------------------------------------------------------
def test_numbers_in_a_text_column_are_read_as_text(X):
    pre = make_preprocessor(X, steps={"text": TfidfVectorizer(max_features=20)}).fit(X)
    new = X.head(4).copy()
    new["note"] = pd.Series([7, 3.5, None, "red 7"], dtype=object, index=new.index)
    out = pre.transform(new)
    vec = pre.named_transformers_["text_note"]
    expected = vec.transform(["7", "3.5", "", "red 7"]).toarray()
    names = [f"note_{t}" for t in vec.get_feature_names_out()]
    np.testing.assert_allclose(out[names].to_numpy(), expected)
    assert new["note"].iloc[0] == 7  # the caller's frame is unchanged


# ---- polars output (scikit-learn 1.6 cannot stack polars frames with a sparse block) ------------
@pytest.mark.parametrize("steps", [None, {"text": TfidfVectorizer(max_features=3)},
                                   {"categorical": OneHotEncoder()},
                                   {"numeric": "passthrough", "boolean": "passthrough"}],
                         ids=["none", "tfidf", "onehot", "passthrough"])
def test_polars_output_equals_pandas_output(X, steps):
    pl = pytest.importorskip("polars")
    pandas_out = make_preprocessor(X, steps=steps).fit_transform(X)
    pre = make_preprocessor(X, steps=steps).set_output(transform="polars")
    for out in (pre.fit_transform(X), pre.transform(X), pre.fit_transform(pl.from_pandas(X))):
        assert isinstance(out, pl.DataFrame)
        assert out.columns == pandas_out.columns.tolist()
        np.testing.assert_allclose(out.to_numpy().astype(float), pandas_out.to_numpy(dtype=float))


# ---- describe_features tells what "passthrough" did -------------------------------------------
def test_describe_features_calls_a_passthrough_a_passthrough(X):
    pre = make_preprocessor(X, steps={"boolean": "passthrough"}).fit(X)
    row = describe_features(pre).set_index("feature").loc["flag"]
    assert (row["source"], row["steps"], row["branch"]) == ("flag", "passthrough", "boolean")
    plan = pre.plan_.set_index("column").loc["flag"]
    assert plan["steps"] == "passthrough"
