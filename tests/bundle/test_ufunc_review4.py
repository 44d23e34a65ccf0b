"""Fourth review of bundles holding numpy ufuncs (security review of the ufunc loader).

- An untrusted ufunc is refused before any check that runs estimator code: gradient
  boosting's ``init_`` width check predicts one row, which would call a
  ``FunctionTransformer(np.log1p)`` inside ``init_`` (and let the file choose the error
  the caller sees). Tampering found by the pure structural checks still wins over the
  refusal.
- A ufunc may only sit as a ``FunctionTransformer``'s ``func`` / ``inverse_func``:
  anywhere else (``KernelRidge.kernel = np.negative``) scikit-learn may call it with a
  second positional argument, which a one-input ufunc takes as ``out=`` and writes into
  the model's arrays. That is tampering, trusted or not.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.kernel_ridge import KernelRidge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer

from mllife import IntegrityError, UntrustedTypeError
from mllife.bundle import _trust, load_bundle
from tests.bundle.attacks import _craft


def _gb_with_ufunc_init(kw_args=None):
    X, y = _craft.frame()
    y = np.asarray(y, dtype=float)
    init = Pipeline([("f", FunctionTransformer(np.log1p)), ("d", DummyRegressor())])
    gb = GradientBoostingRegressor(n_estimators=3, init=init, random_state=0).fit(X, y)
    gb.init_.steps[0][1].kw_args = kw_args  # the file's edit
    return gb, X


def test_an_untrusted_ufunc_in_gb_init_is_refused_before_it_runs(tmp_path, monkeypatch):
    gb, X = _gb_with_ufunc_init()
    path = _craft.forge(tmp_path / "gb.mllife", _craft.members_of(gb, X))
    _trust._safe_functions()  # the ufunc names are cached before the spy goes in
    calls = []
    real = np.log1p

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(np, "log1p", spy)
    with pytest.raises(UntrustedTypeError, match=r"numpy\.log1p"):
        load_bundle(path)
    assert calls == []


def test_the_file_cannot_choose_the_error_of_an_untrusted_ufunc(tmp_path):
    gb, X = _gb_with_ufunc_init({"dtype": "int64"})  # makes log1p itself fail
    path = _craft.forge(tmp_path / "gb.mllife", _craft.members_of(gb, X))
    with pytest.raises(UntrustedTypeError, match=r"trusted=\['numpy\.log1p'\]"):
        load_bundle(path)


def test_a_trusted_ufunc_in_gb_init_loads_and_predicts(tmp_path):
    gb, X = _gb_with_ufunc_init()
    path = _craft.forge(tmp_path / "gb.mllife", _craft.members_of(gb, X))
    loaded = load_bundle(path, trusted=["numpy.log1p"])
    np.testing.assert_allclose(loaded.model.predict(X), gb.predict(X))


def test_structural_tampering_still_wins_over_the_ufunc_refusal(tmp_path):
    gb, X = _gb_with_ufunc_init({"out": np.zeros((1, 2))})
    path = _craft.forge(tmp_path / "gb.mllife", _craft.members_of(gb, X))
    for trusted in (None, ["numpy.log1p"]):
        with pytest.raises(IntegrityError, match=r"kw_args"):
            load_bundle(path, trusted=trusted)


def _kernel_ridge(kernel):
    X, y = _craft.frame(20)
    model = make_pipeline(FunctionTransformer(np.negative), KernelRidge()).fit(X, y)
    model.steps[1][1].kernel = kernel  # the file's edit
    return model, X


def test_a_trusted_ufunc_reused_as_a_kernel_is_tampering(tmp_path):
    model, X = _kernel_ridge(np.negative)
    path = _craft.forge(tmp_path / "kr.mllife", _craft.members_of(model, X))
    for trusted in (None, ["numpy.negative"]):
        with pytest.raises(IntegrityError, match=r"\.kernel \(ufunc\).*FunctionTransformer"):
            load_bundle(path, trusted=trusted)


@pytest.mark.parametrize("where", ["list", "dict", "feature_names_out"])
def test_a_ufunc_anywhere_but_func_or_inverse_func_is_tampering(tmp_path, where):
    X, y = _craft.frame(20)
    model = make_pipeline(FunctionTransformer(np.negative), KernelRidge()).fit(X, y)
    step = model.steps[0][1]
    if where == "list":
        model.steps[1][1].extra_ = [1, np.negative]
    elif where == "dict":
        model.steps[1][1].extra_ = {"f": np.negative}
    else:
        step.feature_names_out = np.negative
    path = _craft.forge(tmp_path / "w.mllife", _craft.members_of(model, X))
    with pytest.raises(IntegrityError, match=r"ufunc"):
        load_bundle(path, trusted=["numpy.negative"])


def test_a_ufunc_as_inverse_func_loads_when_trusted(tmp_path):
    X, y = _craft.frame(20)
    step = FunctionTransformer(np.negative, inverse_func=np.negative, check_inverse=False)
    model = make_pipeline(step, KernelRidge()).fit(X, y)
    path = _craft.forge(tmp_path / "ok.mllife", _craft.members_of(model, X))
    loaded = load_bundle(path, trusted=["numpy.negative"])
    before = loaded.model.steps[1][1].X_fit_.copy()
    np.testing.assert_allclose(loaded.model.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.model.steps[1][1].X_fit_, before)
