"""Third review of bundles holding a user's code (saving and loading).

- A class (or function) defined inside another class or a function saves, but skops
  records it by its bare name, so no loader can ever find it: saving refuses it up
  front, naming it, wherever it sits (a parameter, a fitted step, fitted state, or only
  in what ``__getstate__`` returns).
- A fitted state skops cannot store (a pandas Series kept by ``_fit``) is named by
  estimator and attribute, with what to keep instead, not as skops' bare TypeError.
- A ``FunctionTransformer`` of a numpy ufunc loads when the caller trusts the ufunc,
  by name or as the object, and is refused (offered to ``trusted=``) when not: a
  ufunc's own ``__module__`` is no tampering. A file that misuses a ufunc (hiding a
  method, ``out=`` into the model) is tampering, trusted or not, never offered.
"""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import mllife
from mllife import InputError, IntegrityError, UntrustedTypeError
from mllife.bundle import InputSchema, ModelBundle, load_bundle
from mllife.bundle._trust import type_names
from mllife.features import FrameTransformer
from tests.bundle.attacks import _craft

HERE = __name__


class _Pass(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        self.columns_ = [str(c) for c in X.columns]
        return self

    def transform(self, X):
        return X

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self.columns_ if input_features is None else input_features,
                          dtype=object)


class Holder:
    """Classes and a function defined inside a class: skops records their bare names."""

    class Nested(_Pass):
        pass

    class Helper:
        def __init__(self):
            self.scale = 2.0

    @staticmethod
    def double(X):
        return X * 2


class KeepsHelper(_Pass):
    """A top-level class whose *fitted state* holds an instance of a nested class."""

    def fit(self, X, y=None):
        self.helper_ = [Holder.Helper()]
        return super().fit(X, y)


class HidesHelper(_Pass):
    """Top-level, but its ``__getstate__`` hands skops a nested class's instance that no
    attribute holds (only the payload's names show it)."""

    def __getstate__(self):
        return {**vars(self), "extra": Holder.Helper()}


class SeriesState(FrameTransformer):
    """A user's transformer whose ``_fit`` keeps a pandas Series (skops cannot store it)."""

    def __init__(self, *, offset=1.0):
        self.offset = offset

    def _fit(self, frame, y=None):
        self.medians_ = frame.astype(float).median()

    def _transform(self, frame):
        values = np.log((frame.to_numpy(dtype=float) + self.offset)
                        / (self.medians_.to_numpy() + self.offset))
        return pd.DataFrame(values, index=frame.index,
                            columns=self._names_out(list(frame.columns)))

    def _names_out(self, input_names):
        return [f"{name}__lr" for name in input_names]


class ListState(_Pass):
    """Fitted state that is a list, one item of which skops cannot store."""

    def fit(self, X, y=None):
        self.parts_ = [np.zeros(2), {"a": 1}, pd.DataFrame({"x": [1.0]})]
        return super().fit(X, y)


def _data(n=80):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"charges": rng.lognormal(3, 1, n), "usage": rng.lognormal(1, 0.5, n)})
    y = (X["charges"] > X["charges"].median()).astype(int).to_numpy()
    return X, y


def _bundle(model):
    X, y = _data()
    return ModelBundle(model.fit(X, y), InputSchema.infer(X), version="1"), X


def _save_error(model, tmp_path):
    bundle, _ = _bundle(model)
    target = tmp_path / "b.mllife"
    with pytest.raises(InputError) as info:
        bundle.save(target)
    assert not target.exists()
    assert info.value.__cause__ is None
    return str(info.value)


# ------------------------------------------------------------------ nested classes
def test_a_nested_class_step_is_refused_at_save_naming_it(tmp_path):
    message = _save_error(make_pipeline(Holder.Nested(), LogisticRegression()), tmp_path)
    assert f"{HERE}.Holder.Nested" in message
    assert "inside another class" in message
    assert "top level of its module" in message
    assert f"{HERE}.Nested" in message  # what skops would record, and why it cannot load


def test_a_nested_class_inside_make_preprocessor_is_refused(tmp_path):
    X, _ = _data()
    pre = mllife.make_preprocessor(X, steps={"numeric": Holder.Nested()})
    message = _save_error(make_pipeline(pre, LogisticRegression()), tmp_path)
    assert f"{HERE}.Holder.Nested" in message


def test_a_nested_class_in_fitted_state_only_is_refused(tmp_path):
    message = _save_error(make_pipeline(KeepsHelper(), LogisticRegression()), tmp_path)
    assert f"{HERE}.Holder.Helper" in message
    assert "top level of its module" in message


def test_a_nested_class_only_getstate_returns_is_refused_by_its_recorded_name(tmp_path):
    message = _save_error(make_pipeline(HidesHelper(), LogisticRegression()), tmp_path)
    assert f"{HERE}.Helper, which its module does not define at its top level" in message
    assert "top level of its module" in message


def test_a_function_nested_in_a_class_is_refused(tmp_path):
    step = FunctionTransformer(Holder.double, feature_names_out="one-to-one")
    message = _save_error(make_pipeline(step, LogisticRegression()), tmp_path)
    assert f"{HERE}.Holder.double" in message


def test_a_class_defined_inside_a_function_is_refused(tmp_path):
    class Local(_Pass):
        pass

    message = _save_error(make_pipeline(Local(), LogisticRegression()), tmp_path)
    assert "Local" in message
    assert "inside a function" in message
    assert "top level of its module" in message


def test_top_level_user_code_still_saves_and_loads(tmp_path):
    """Guard: the refusal is about where a class is defined, not about user code."""
    bundle, X = _bundle(make_pipeline(_Pass(), StandardScaler(), LogisticRegression()))
    path = bundle.save(tmp_path / "ok.mllife")
    loaded = load_bundle(path, trusted=[_Pass])
    assert loaded.predict(X)["prediction"].tolist() == bundle.predict(X)["prediction"].tolist()


# ------------------------------------------------------------ unserialisable state
def test_a_series_in_fitted_state_is_named_by_estimator_and_attribute(tmp_path):
    message = _save_error(make_pipeline(SeriesState(), LogisticRegression()), tmp_path)
    assert message.startswith("cannot save the bundle: SeriesState.medians_ holds a pandas "
                              "Series, which a bundle cannot store"), message
    assert "keep fitted state as numpy arrays or plain Python values" in message


def test_a_series_deep_in_a_fitted_preprocessor_is_found(tmp_path):
    X, _ = _data()
    pre = mllife.make_preprocessor(X, steps={"numeric": SeriesState()})
    message = _save_error(make_pipeline(pre, LogisticRegression()), tmp_path)
    # only the culprit: not the containers of estimators on the way to it
    assert message.startswith("cannot save the bundle: SeriesState.medians_ holds a pandas "
                              "Series, which a bundle cannot store"), message


def test_an_item_of_a_list_attribute_is_named_by_its_index(tmp_path):
    message = _save_error(make_pipeline(ListState(), LogisticRegression()), tmp_path)
    assert "ListState.parts_[2] holds a pandas DataFrame" in message
    assert "parts_[0]" not in message
    assert "parts_[1]" not in message


# --------------------------------------------------------------------------- ufuncs
@pytest.mark.parametrize("func", [np.log1p, np.sqrt])
def test_a_ufunc_transformer_loads_when_trusted_and_is_refused_otherwise(tmp_path, func):
    step = FunctionTransformer(func, feature_names_out="one-to-one")
    bundle, X = _bundle(make_pipeline(step, LogisticRegression()))
    path = bundle.save(tmp_path / "u.mllife")
    name = f"numpy.{func.__name__}"
    with pytest.raises(UntrustedTypeError) as info:
        load_bundle(path)
    assert f"load_bundle(path, trusted=[{name!r}])" in str(info.value)
    assert "the caller did not trust" in str(info.value)
    assert "never the file's" in str(info.value)
    expected = bundle.model.predict_proba(X)
    for trusted in ([name], [func], name):
        loaded = load_bundle(path, trusted=trusted)
        np.testing.assert_array_equal(loaded.model.predict_proba(X), expected)
        assert loaded.model.steps[0][1].func is func
    other = np.exp if func is not np.exp else np.log
    with pytest.raises(UntrustedTypeError, match=name):
        load_bundle(path, trusted=[other])


def test_a_scipy_ufunc_loads_only_under_the_name_the_refusal_offers(tmp_path):
    from scipy.special import expit

    bundle, X = _bundle(make_pipeline(FunctionTransformer(expit), LogisticRegression()))
    path = bundle.save(tmp_path / "s.mllife")
    with pytest.raises(UntrustedTypeError) as info:
        load_bundle(path)
    offered = str(info.value).split("load_bundle(path, trusted=")[1].split(")")[0]
    loaded = load_bundle(path, trusted=ast.literal_eval(offered))
    np.testing.assert_array_equal(loaded.model.predict_proba(X), bundle.model.predict_proba(X))
    assert load_bundle(path, trusted=[expit]).model.steps[0][1].func is expit


def test_trusting_a_ufunc_never_lets_it_hide_an_estimator_method(tmp_path):
    X, y = _craft.frame()
    model = LogisticRegression().fit(X, y)
    model.predict = np.negative  # an instance entry hiding the class's predict
    path = _craft.forge(tmp_path / "shadow.mllife", _craft.members_of(model, X))
    for trusted in (None, ["numpy.negative"]):  # tampering, never offered to trusted=
        with pytest.raises(IntegrityError, match=r"'predict' hides the class's own 'predict'"):
            load_bundle(path, trusted=trusted)


def test_trusting_a_ufunc_never_allows_out_into_the_model(tmp_path):
    X, y = _craft.frame()
    model = make_pipeline(FunctionTransformer(np.negative), LogisticRegression()).fit(X, y)
    model.steps[0][1].kw_args = {"out": np.zeros((len(X), X.shape[1]))}
    path = _craft.forge(tmp_path / "out.mllife", _craft.members_of(model, X))
    for trusted in (None, ["numpy.negative"]):
        with pytest.raises(IntegrityError, match=r"kw_args"):
            load_bundle(path, trusted=trusted)


def test_trusted_accepts_functions_by_object_only_when_they_resolve():
    assert type_names([np.log1p, "numpy.sqrt"]) == {"numpy.log1p", "numpy.sqrt"}

    def local(X):
        return X

    with pytest.raises(InputError, match=r"trusted holds"):
        type_names([local])
    with pytest.raises(InputError, match=r"trusted holds"):
        type_names([Holder.double])
    with pytest.raises(InputError, match=r"trusted holds a float"):
        type_names([3.5])
