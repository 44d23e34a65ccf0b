"""Second hostile review of loading bundles with user code (``mllife.bundle._trust``).

An attacker writes the file, so every type name in ``model.skops`` is theirs: the refusal
must never offer a name that reaches code (an alias of ``subprocess.check_call`` in the
loading script's ``__main__``, Python's private C modules), must never pass control
characters or megabytes of the file through, and must never offer a name no class can
have. A trusted class whose module fails to import, whatever the reason, is the
``ModelError`` the docs promise, not a broken-file ``IntegrityError``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from mllife import InputError, IntegrityError, ModelError, UntrustedTypeError
from mllife.bundle import InputSchema, ModelBundle, load_bundle
from mllife.bundle._trust import refusal_message, type_names
from tests.bundle._user_code import LogRatio
from tests.bundle.attacks import _craft

OFFER = "load_bundle(path, trusted="


def _function_named(tmp_path, module, name):
    """A FunctionTransformer whose function the file names ``module.name`` (sealed)."""
    X, _ = _craft.frame()
    members = _craft.members_of(FunctionTransformer(np.log1p), X)
    members["model.skops"] = _craft.rename_type(members["model.skops"], "numpy", "log1p",
                                                module, name)
    return _craft.forge(tmp_path / "crafted.mllife", members)


def _refusal(path):
    with pytest.raises(UntrustedTypeError) as info:
        load_bundle(path)
    return str(info.value)


def _assert_never_offered(message):
    assert OFFER not in message, message
    assert "do not add" in message, message
    assert "to trusted=" in message, message


# ---------------------------------------------------------------- __main__ aliases
@pytest.mark.parametrize(("attr", "value"), [("check_call", subprocess.check_call),
                                         ("subprocess", subprocess),
                                         ("isfile", __import__("os").path.isfile),
                                         ("LogisticRegression", LogisticRegression)])
def test_a_main_name_that_is_an_import_into_the_script_is_hostile(tmp_path, monkeypatch,
                                                                  attr, value):
    """The loading script did ``from subprocess import check_call``: ``__main__.check_call``
    is that function under another name. No saver writes such a name (skops records the
    defining module), so the file was crafted, and the name is never offered."""
    monkeypatch.setattr(sys.modules["__main__"], attr, value, raising=False)
    message = _refusal(_function_named(tmp_path, "__main__", attr))
    _assert_never_offered(message)
    assert "hostile" in message


def test_a_class_the_script_defines_is_still_offered(tmp_path, monkeypatch):
    """The fix looks at what the name is: the script's own class keeps the helpful message."""
    mine = type("Mine", (LogRatio,), {"__module__": "__main__"})
    monkeypatch.setattr(sys.modules["__main__"], "Mine", mine, raising=False)
    message = _refusal(_function_named(tmp_path, "__main__", "Mine"))
    assert f"{OFFER}['__main__.Mine'])" in message
    assert "hostile" not in message
    assert "and this process's does not" not in message  # it does


# ---------------------------------------------------------------- private modules of Python
@pytest.mark.parametrize(("module", "name"), [("_posixsubprocess", "fork_exec"),
                                          ("_ctypes", "dlopen"), ("_pickle", "Unpickler"),
                                          ("_io", "FileIO"), ("_thread", "start_new_thread"),
                                          ("pkgutil", "resolve_name"),
                                          ("pandas", "read_pickle"), ("antigravity", "X"),
                                          ("numpy.ctypeslib", "load_library")])
def test_names_that_reach_the_system_are_never_offered(tmp_path, module, name):
    message = _refusal(_function_named(tmp_path, module, name))
    _assert_never_offered(message)


# ---------------------------------------------------------------- names no class can have
@pytest.mark.parametrize(("module", "name"), [
    ("__main__", ""), ("pkg", "Cls\n"), ("pkg", "Cls\r\x1b[2K"), ("a b", "c"),
    ("evil\x1b]0;title\x07\x1b[2J", "X"), ("pkg", "A\u202eB"), ("pkg.", "X"), ("9pkg", "X")])
def test_a_name_no_python_class_can_have_is_never_offered_nor_echoed_raw(tmp_path, module,
                                                                         name):
    message = _refusal(_function_named(tmp_path, module, name))
    _assert_never_offered(message)
    assert message.isprintable(), repr(message)
    assert "on the loader's list" not in message  # it is on no list


def test_a_huge_name_does_not_make_a_huge_message(tmp_path):
    path = _function_named(tmp_path, "x" * 300_000, "Y")
    message = _refusal(path)
    assert len(message) < 4_000
    _assert_never_offered(message)
    many = [f"pkg{i}.{'C' * 5_000}" for i in range(50)]
    assert len(refusal_message(many)) < 4_000
    odd = [f"{'m' * 100_000}.X (rebuilt by FunctionNode)"] * 3
    assert len(refusal_message(odd)) < 4_000
    assert len(refusal_message(["os." + "s" * 100_000])) < 4_000


def test_an_odd_loader_name_is_shown_escaped():
    message = refusal_message(["sklearn.X\x1b[2J (rebuilt by FunctionNode)"])
    assert message.isprintable(), repr(message)
    _assert_never_offered(message)


def test_trusted_refuses_a_name_with_a_trailing_newline():
    """``$`` matches before a final newline: ``'pkg.Cls\\n'`` is not a type name."""
    for bad in ("pkg.Cls\n", "pkg.Cls\r", "pkg.Cls "):
        with pytest.raises(InputError, match="not a full type name"):
            type_names([bad])


# ---------------------------------------------------------------- trusted but not importable
@pytest.mark.parametrize(("body", "reason"), [("def broken(:\n", "SyntaxError"),
                                          ("raise RuntimeError('needs a GPU')\n",
                                           "RuntimeError: needs a GPU")])
def test_a_trusted_class_whose_module_fails_to_import_is_a_model_error(tmp_path, body,
                                                                       reason):
    folder = tmp_path / "site"
    folder.mkdir()
    module = folder / "ext_fragile_features.py"
    module.write_text(textwrap.dedent("""
        from sklearn.base import BaseEstimator, TransformerMixin

        class Tenure(TransformerMixin, BaseEstimator):
            def fit(self, X, y=None):
                return self

            def transform(self, X):
                return X
    """))
    sys.path.insert(0, str(folder))
    try:
        from ext_fragile_features import Tenure  # type: ignore[import-not-found]

        X, y = _craft.frame()
        path = ModelBundle(make_pipeline(Tenure(), LogisticRegression()).fit(X, y),
                           InputSchema.infer(X), version="1").save(tmp_path / "b.mllife")
        sys.modules.pop("ext_fragile_features")
        module.write_text(body)  # the installed version is broken where the bundle loads
        for cached in folder.glob("__pycache__/*"):
            cached.unlink()
        with pytest.raises(ModelError) as info:
            load_bundle(path, trusted=["ext_fragile_features.Tenure"])
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("ext_fragile_features", None)
    message = str(info.value)
    assert "ext_fragile_features.Tenure, trusted by the caller but not importable" in message
    assert reason in message
    assert not isinstance(info.value, IntegrityError)


def test_a_broken_file_with_a_trusted_class_still_blames_the_file(tmp_path):
    """The class imports fine; the file's state breaks it: IntegrityError, not 'missing'."""
    X, y = _craft.frame()
    model = make_pipeline(LogRatio(offset=10.0), LogisticRegression()).fit(X, y)
    members = _craft.members_of(model, X)
    members["model.skops"] = _craft.edit_schema(members["model.skops"], _drop_state)
    path = _craft.forge(tmp_path / "broken.mllife", members)
    with pytest.raises(IntegrityError) as info:
        load_bundle(path, trusted=[LogRatio])
    assert not isinstance(info.value, ModelError)
    assert "not importable" not in str(info.value)


def _drop_state(schema):
    """Make the LogisticRegression node's state a list (skops fails to rebuild it)."""
    def walk(node):
        if isinstance(node, dict):
            if node.get("__class__") == "LogisticRegression":
                return {**node, "content": [1, 2, 3]}
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node
    return walk(schema)
