"""Bundles holding a user's own code: saving works, loading needs the caller's ``trusted=``.

The refusal names every type ready to paste (the full dotted name) and says why trusting
it is the caller's decision; a trusted class this process cannot find (its package is
not installed, it lived in another process's ``__main__``, it is nested in a class) is a
clear :class:`mllife.ModelError`, never a raw ``ImportError`` / ``AttributeError``; and
names that can only mean an attack are still never offered to ``trusted=``, ``__main__``
or not.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

import mllife
from mllife import InputError, IntegrityError, ModelError, UntrustedTypeError
from mllife.bundle import InputSchema, ModelBundle, load_bundle
from mllife.bundle._trust import _is_hostile, refusal_message
from tests.bundle import _user_code
from tests.bundle._user_code import Fragile, LogRatio, Outer, signed_log
from tests.bundle.attacks import _craft

LOG_RATIO = "tests.bundle._user_code.LogRatio"
SIGNED_LOG = "tests.bundle._user_code.signed_log"


def _data(n=80):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"charges": rng.lognormal(3, 1, n), "usage": rng.lognormal(1, 0.5, n)})
    y = (X["charges"] > X["charges"].median()).astype(int).to_numpy()
    return X, y


def _save(model, tmp_path, name="user.mllife"):
    X, y = _data()
    bundle = ModelBundle(model.fit(X, y), InputSchema.infer(X), version="1")
    return bundle, bundle.save(tmp_path / name), X


def _pasted(message):
    """The list the refusal offers, read from ``load_bundle(path, trusted=[...])``."""
    found = re.search(r"load_bundle\(path, trusted=(\[[^\]]*\])\)", message)
    assert found, message
    return ast.literal_eval(found.group(1))


def test_the_refusal_names_the_class_ready_to_paste_and_the_pasted_call_loads(tmp_path):
    bundle, path, X = _save(make_pipeline(LogRatio(), LogisticRegression()), tmp_path)
    # The class is imported in this very process: that is no reason to trust it.
    assert sys.modules["tests.bundle._user_code"].LogRatio is LogRatio
    with pytest.raises(UntrustedTypeError) as info:
        load_bundle(path)
    message = str(info.value)
    assert f"load_bundle(path, trusted=['{LOG_RATIO}'])" in message
    assert _pasted(message) == [LOG_RATIO]
    # ... and why it is the caller's decision, not the file's
    for why in ("decision is yours, never the file's", "a bundle can name any type it likes",
                "runs its code", "never infers trust from the file",
                "importable where the bundle is loaded"):
        assert why in message, why
    assert "hostile" not in message
    loaded = load_bundle(path, trusted=_pasted(message))
    pd.testing.assert_frame_equal(loaded.predict_proba(X), bundle.predict_proba(X))
    assert load_bundle(path, trusted=[LogRatio]).version == "1"  # the class itself
    assert load_bundle(path, trusted=LOG_RATIO).version == "1"  # one name as a string


def test_every_user_name_is_listed_and_trusting_some_is_not_enough(tmp_path):
    model = make_pipeline(FunctionTransformer(signed_log), LogRatio(), LogisticRegression())
    bundle, path, X = _save(model, tmp_path)
    with pytest.raises(UntrustedTypeError) as info:
        load_bundle(path)
    assert sorted(_pasted(str(info.value))) == [LOG_RATIO, SIGNED_LOG]
    assert "2 types outside the loader's trust list" in str(info.value)
    with pytest.raises(UntrustedTypeError) as info:
        load_bundle(path, trusted=[LogRatio])
    assert _pasted(str(info.value)) == [SIGNED_LOG]
    assert LOG_RATIO not in str(info.value)
    loaded = load_bundle(path, trusted=[LogRatio, SIGNED_LOG])
    pd.testing.assert_frame_equal(loaded.predict(X), bundle.predict(X))


def test_a_look_alike_name_is_not_trust(tmp_path):
    _, path, _ = _save(make_pipeline(LogRatio(), LogisticRegression()), tmp_path)
    for near in ("tests.bundle.LogRatio", "tests.bundle._user_code.logratio",
                 "tests.bundle._user_code.LogRatio2", "_user_code.LogRatio"):
        with pytest.raises(UntrustedTypeError, match=re.escape(LOG_RATIO)):
            load_bundle(path, trusted=[near])


def test_a_trusted_class_whose_package_is_missing_is_a_model_error(tmp_path):
    """Saved where its package was installed, loaded where it is not."""
    package = tmp_path / "site"
    package.mkdir()
    (package / "ext_churn_features.py").write_text(textwrap.dedent("""
        from sklearn.base import BaseEstimator, TransformerMixin

        class Tenure(TransformerMixin, BaseEstimator):
            def fit(self, X, y=None):
                return self

            def transform(self, X):
                return X
    """))
    sys.path.insert(0, str(package))
    try:
        from ext_churn_features import Tenure  # type: ignore[import-not-found]

        _, path, _ = _save(make_pipeline(Tenure(), LogisticRegression()), tmp_path)
    finally:
        sys.path.remove(str(package))
        sys.modules.pop("ext_churn_features", None)
    with pytest.raises(UntrustedTypeError, match=r"trusted=\['ext_churn_features\.Tenure'\]"):
        load_bundle(path)
    with pytest.raises(ModelError) as info:
        load_bundle(path, trusted=["ext_churn_features.Tenure"])
    message = str(info.value)
    assert "ext_churn_features.Tenure, trusted by the caller but not importable" in message
    assert "No module named 'ext_churn_features'" in message
    assert "Install the package that defines it" in message
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
    assert "ext_churn_features" not in sys.modules


def test_a_class_nested_in_a_class_is_refused_at_save_naming_the_top_level_rule(tmp_path):
    """skops would record the bare name (no loader could find it): saving refuses up front.
    A file written another way is refused at load (test_user_code_review3.py)."""
    with pytest.raises(InputError, match=r"tests\.bundle\._user_code\.Outer\.Nested.*"
                                         r"defined inside another class"):
        _save(make_pipeline(Outer.Nested(), LogisticRegression()), tmp_path)
    assert not list(tmp_path.glob("*.mllife"))


def test_a_trusted_class_that_fails_while_rebuilt_is_not_called_missing(tmp_path):
    """Only a trusted name that does not resolve gets the 'not importable' message: an
    AttributeError raised by the class's own code is reported as a failed load."""
    _, path, _ = _save(make_pipeline(Fragile(), LogisticRegression()), tmp_path)
    with pytest.raises(IntegrityError, match=r"could not be loaded \(AttributeError: Fragile "
                                             r"has no attribute 'lookup_table'\)") as info:
        load_bundle(path, trusted=[Fragile])
    assert not isinstance(info.value, ModelError)
    assert "not importable" not in str(info.value)


# ---------------------------------------------------------------- __main__ (script, notebook)
_SAVER = r"""
import json, sys
import numpy as np, pandas as pd
import skops.io as sio
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
import mllife
from mllife.bundle import InputSchema, ModelBundle, load_bundle


class LogRatio(TransformerMixin, BaseEstimator):  # defined in this script: __main__.LogRatio
    def fit(self, X, y=None):
        self.medians_ = np.median(np.asarray(X, dtype=float), axis=0)
        return self

    def transform(self, X):
        return np.log1p(np.asarray(X, dtype=float)) - np.log1p(self.medians_)


X = pd.DataFrame({"charges": np.linspace(1.0, 90.0, 40)})
model = make_pipeline(LogRatio(), LogisticRegression()).fit(X, (X["charges"] > 40).astype(int))
out = {}
try:
    ModelBundle(model, InputSchema.infer(X), version="1").save(sys.argv[1])
except mllife.InputError as err:
    out["save"] = str(err)
# A file written by another tool (skops itself, an older mllife) holds __main__.LogRatio:
sio.get_untrusted_types = lambda **kw: []
path = ModelBundle(model, InputSchema.infer(X), version="1").save(sys.argv[1])
out["same_process"] = load_bundle(path, trusted=["__main__.LogRatio"]).predict(X).shape[0]
print(json.dumps(out))
"""

_LOADER = r"""
import json, sys
import mllife
from mllife.bundle import load_bundle
out = {}
for key, trusted in (("untrusted", None), ("trusted", ["__main__.LogRatio"])):
    try:
        load_bundle(sys.argv[1], trusted=trusted)
        out[key] = ["loaded", ""]
    except mllife.MllifeError as err:
        out[key] = [type(err).__name__, str(err)]
print(json.dumps(out))
"""


def _run(code, *args):
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_class_from_another_process_main_is_a_clear_error_saying_to_move_it(tmp_path):
    path = tmp_path / "main.mllife"
    saved = _run(_SAVER, str(path))
    # mllife's own save refuses the script's class, and says where it should live
    assert "__main__.LogRatio" in saved["save"]
    assert "importable module" in saved["save"]
    # the process whose __main__ defines the class loads it, once trusted
    assert saved["same_process"] == 40
    loaded = _run(_LOADER, str(path))
    kind, message = loaded["untrusted"]
    assert kind == "UntrustedTypeError"
    assert "hostile" not in message
    assert "load_bundle(path, trusted=['__main__.LogRatio'])" in message
    assert "and this process's does not" in message
    assert "move the class into an importable module" in message
    assert "trusted=['mypkg.features.LogRatio']" in message
    kind, message = loaded["trusted"]
    assert kind == "ModelError"
    assert "__main__.LogRatio, trusted by the caller but defined in the __main__ of another " \
           "process" in message
    assert "Move the class into an importable module" in message
    assert "trusted=['mypkg.features.LogRatio']" in message
    assert "AttributeError" not in message
    assert "Traceback" not in message


def test_main_names_that_mean_an_attack_are_still_hostile(tmp_path):
    for name in ("__main__.eval", "__main__.system", "__main__.__builtins__",
                 "__main__.os.system", "__mp_main__.exec", "__main__.__class__"):
        assert _is_hostile(name), name
        message = refusal_message([name])
        assert "do not add these names to trusted=" in message
        assert "load_bundle(path, trusted=" not in message
    assert not _is_hostile("__main__.LogRatio")
    assert not _is_hostile("__mp_main__.LogRatio")
    # end to end: a file naming __main__.eval as a transformer's function
    X, _ = _craft.frame()
    members = _craft.members_of(FunctionTransformer(np.log1p), X)
    members["model.skops"] = _craft.rename_type(members["model.skops"], "numpy", "log1p",
                                                "__main__", "eval")
    path = _craft.forge(tmp_path / "main-eval.mllife", members)
    with pytest.raises(UntrustedTypeError, match=r"hostile") as info:
        load_bundle(path)
    assert "load_bundle(path, trusted=" not in str(info.value)


def test_a_listed_type_stored_an_odd_way_is_never_offered():
    name = "sklearn.linear_model._logistic.LogisticRegression (rebuilt by FunctionNode)"
    message = refusal_message([name, LOG_RATIO])
    assert _pasted(message) == [LOG_RATIO]
    assert "crafted or edited; do not add this name to trusted=" in message
    only = refusal_message([name])
    assert "load_bundle(path, trusted=" not in only
    assert "do not add this name" in only


def test_the_helper_module_is_a_users_own_code():
    """Guard for the tests above: none of the user's names is on the loader's list."""
    from mllife.bundle._trust import default_trust_list

    names = [f"{_user_code.__name__}.{n}"
             for n in ("LogRatio", "signed_log", "Nested", "Outer", "Fragile")]
    assert not set(names) & set(default_trust_list())
    assert mllife.features.FrameTransformer in LogRatio.__mro__
