"""Names and values for trackers: ``flatten``, ``param_text``, ``flatten_params``, ``safe_name``."""

from __future__ import annotations

import posixpath
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mllife import InputError
from mllife.tracking._names import (
    CUT_MARK,
    MAX_NAME,
    cut_text,
    flatten,
    flatten_params,
    name_hash,
    param_text,
    safe_name,
)

MLFLOW_CHARS = re.compile(r"^[A-Za-z0-9_\-. :/]+$")


def big_pipeline():
    """A ColumnTransformer of nested pipelines and a random forest: hundreds of params."""
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                            ("onehot", OneHotEncoder(handle_unknown="ignore"))])
    steps = [(f"num{i}", numeric, [f"x{i}"]) for i in range(20)]
    steps += [(f"cat{i}", categorical, [f"c{i}"]) for i in range(20)]
    return Pipeline([("prep", ColumnTransformer(steps)),
                     ("model", RandomForestClassifier(n_estimators=50, random_state=0))])


# ---- flatten ---------------------------------------------------------------------------------
def test_flatten_nested_mappings_sequences_and_arrays():
    nested = {"test": {"auc": 0.8, "by": {"a": 1}}, "folds": (0.7, [0.9, 1.0]),
              "arr": np.array([1, 2]), "empty": {}, "text": "abc", 3: None}
    assert flatten(nested) == {
        "test.auc": 0.8, "test.by.a": 1, "folds.0": 0.7, "folds.1.0": 0.9, "folds.1.1": 1.0,
        "arr.0": 1, "arr.1": 2, "empty": {}, "text": "abc", "3": None,
    }
    assert flatten({"a": {"b": 1}}, sep="/") == {"a/b": 1}


def test_flatten_survives_cycles_and_deep_nesting_and_does_not_mutate():
    loop: dict = {"x": 1}
    loop["self"] = loop
    flat = flatten({"loop": loop})
    assert flat["loop.x"] == 1
    assert flat["loop.self"].startswith("{'x': 1")
    deep: dict = {}
    node = deep
    for _ in range(100):
        node["d"] = {}
        node = node["d"]
    (key, value), = flatten(deep).items()
    assert key.count("d") == 32
    assert isinstance(value, str)
    given_ = {"a": {"b": [1, 2]}}
    flatten(given_)
    assert given_ == {"a": {"b": [1, 2]}}


def test_flatten_refuses_what_is_not_a_mapping():
    with pytest.raises(InputError, match="mapping is a list"):
        flatten([1, 2])
    with pytest.raises(InputError, match="sep is a int"):
        flatten({}, sep=1)


# ---- param_text ------------------------------------------------------------------------------
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_param_text_of_a_float_reads_back_exactly(x):
    assert float(param_text(x)) == x
    assert float(param_text(np.float64(x))) == x


def test_param_text_of_special_values():
    def scorer(y, p):
        return 0.0

    class Broken:
        def __repr__(self):
            raise RuntimeError("no repr")

    assert param_text(np.int64(7)) == "7"
    assert param_text(np.bool_(False)) == "False"
    assert param_text(float("nan")) == "nan"
    assert param_text(-np.inf) == "-inf"
    assert param_text(RandomForestClassifier) == "sklearn.ensemble._forest.RandomForestClassifier"
    text = param_text(scorer)
    assert text.endswith("test_param_text_of_special_values.<locals>.scorer")
    assert "0x" not in text
    assert param_text(Broken()) == "<Broken>"
    assert param_text({"class_weight": {0: 1}}) == "{'class_weight': {0: 1}}"


def test_param_text_of_a_long_value_is_cut_visibly():
    value = list(range(100_000))
    text = param_text(value)
    assert len(text) == 6000
    assert text.endswith(CUT_MARK)
    assert text.startswith(repr(value)[:5000])
    assert cut_text("x" * 8, 8) == "x" * 8
    assert cut_text("abcdefghij", 8) == "ab" + CUT_MARK
    assert len(cut_text("y" * 7000)) == 6000


# ---- flatten_params --------------------------------------------------------------------------
def test_flatten_params_of_a_big_pipeline_lists_every_param_as_text():
    pipe = big_pipeline()
    params = flatten_params(pipe)
    deep = pipe.get_params(deep=True)
    assert set(params) == set(deep)
    assert len(params) > 400
    assert all(isinstance(v, str) for v in params.values())
    assert params["model"] == "RandomForestClassifier"
    assert params["prep__num3__scale"] == "StandardScaler"
    assert params["model__n_estimators"] == "50"
    assert params["prep__cat0__onehot__handle_unknown"] == "ignore"
    assert all(len(v) <= 6000 for v in params.values())
    assert "0x" not in "".join(params.values())   # no memory addresses: stable between runs
    assert flatten_params(big_pipeline()) == params


def test_flatten_params_refuses_what_is_not_an_estimator():
    with pytest.raises(InputError, match=r"estimator is a dict.*get_params"):
        flatten_params({"C": 1.0})


# ---- safe_name -------------------------------------------------------------------------------
HOSTILE = ["x" * 600, "a/../b", "../up", "/abs/path", "line\nbreak", "emoji 😀", "nul\x00byte",
           "50%", "what?", "a//b/", "./a/./b", "...", "tab\tname", "é", "", "/", "."]


@pytest.mark.parametrize("name", HOSTILE, ids=range(len(HOSTILE)))
def test_safe_name_of_hostile_names_meets_mlflows_rules(name):
    key = safe_name(name)
    assert MLFLOW_CHARS.match(key)
    assert len(key) <= MAX_NAME
    assert posixpath.normpath(key) == key
    assert not key.startswith(("/", ".."))
    assert ".." not in key.split("/")
    assert safe_name(key) == key


def test_safe_name_examples():
    assert safe_name("test.roc_auc") == "test.roc_auc"
    assert safe_name("a b:c-d") == "a b:c-d"         # MLflow allows spaces and colons
    assert safe_name("a/../b") == "a/_/b"
    assert safe_name("/abs/path") == "abs/path"
    assert safe_name("50%") == "50_"
    long = safe_name("x" * 600)
    assert len(long) == 250
    assert long.endswith("-" + name_hash("x" * 600))
    assert safe_name("x" * 600) != safe_name("x" * 601)


@given(st.text(max_size=400))
def test_safe_name_always_gives_a_valid_stable_name(name):
    key = safe_name(name)
    assert MLFLOW_CHARS.match(key)
    assert len(key) <= MAX_NAME
    assert posixpath.normpath(key) == key
    assert safe_name(key) == key
    if (MLFLOW_CHARS.match(name) and posixpath.normpath(name) == name != "."
            and len(name) <= MAX_NAME):
        assert key == name   # a name MLflow takes is kept as it is
