"""The attack corpus: crafted bundle files, each refused with the right error and no effect.

Every file is built by :mod:`tests.bundle.attacks._craft` and validly sealed (an
attacker without the key recomputes the manifest and the seal), so each test
reaches the defence it is about. For each file: ``load_bundle`` raises the
expected error, the marker file a payload would create does not exist, and,
in a separate process (so a segfault or an endless loop fails a test instead
of the suite), loading and predicting on every file of the corpus either
refuses cleanly or predicts.
"""

from __future__ import annotations

import collections
import functools
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import skops.io as sio
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    RandomForestClassifier,
    VotingClassifier,
)
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    PolynomialFeatures,
    StandardScaler,
)
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

import mllife
from mllife import InputError, IntegrityError, UntrustedTypeError
from mllife.baselines import RuleClassifier
from mllife.bundle import load_bundle

from . import _craft

ROOT = Path(__file__).resolve().parents[3]


# ------------------------------------------------------------------ builders
def _rule_payload(rule_template):
    def build(tmp, marker):
        X, y = _craft.frame()
        model = RuleClassifier([("x > 0", 1)], default=0).fit(X, y)
        members = _craft.members_of(model, X)
        members["model.skops"] = _craft.replace_text(
            members["model.skops"], "x > 0", rule_template.format(marker=marker))
        return _craft.forge(tmp / "rule.mllife", members)
    return build


def _function_named(module, name):
    """A FunctionTransformer whose function the file names as ``module.name``."""
    def build(tmp, marker):
        X, _ = _craft.frame()
        model = FunctionTransformer(os.path.join, kw_args={
            "i": 0, "query": f"@pd.io.common.os.system('touch {marker}') > -1"})
        members = _craft.members_of(model, X)
        members["model.skops"] = _craft.rename_type(
            members["model.skops"], "posixpath", "join", module, name)
        return _craft.forge(tmp / f"{module}.{name}.mllife", members)
    return build


def _class_named(module, name):
    """A payload whose top object claims to be ``module.name`` (a class the loader
    would have to import to check)."""
    def build(tmp, marker):
        X, y = _craft.frame()
        members = _craft.members_of(LogisticRegression().fit(X, y), X)
        members["model.skops"] = _craft.rename_type(
            members["model.skops"], "sklearn.linear_model._logistic", "LogisticRegression",
            module, name)
        return _craft.forge(tmp / f"class-{module}.mllife", members)
    return build


def _tree_state(edit, model=None):
    def build(tmp, marker):
        X, y = _craft.frame(200)
        est = model() if model is not None else DecisionTreeClassifier(random_state=0)
        est.fit(X, y)
        trees = [e.tree_ for e in getattr(est, "estimators_", [est])]
        tree = trees[len(trees) // 2]
        state = tree.__getstate__()
        nodes = state["nodes"].copy()
        edit(nodes)
        tree.__setstate__({**state, "nodes": nodes})
        return _craft.forge(tmp / "tree.mllife", _craft.members_of(est, X))
    return build


def _set(field, where, value):
    def edit(nodes):
        row = {"root": 0, "internal": np.flatnonzero(nodes["left_child"] >= 0)[-1],
               "leaf": np.flatnonzero(nodes["left_child"] < 0)[0]}[where]
        nodes[field][row] = value
    return edit


def _hgb_state(field, value):
    def build(tmp, marker):
        X, y = _craft.frame(300)
        est = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X, y)
        nodes = est._predictors[2][0].nodes
        internal = np.flatnonzero(~nodes["is_leaf"].astype(bool))
        nodes[field][internal[0]] = value
        return _craft.forge(tmp / "hgb.mllife", _craft.members_of(est, X))
    return build


def _sparse_coef(edit):
    def build(tmp, marker):
        X, y = _craft.frame()
        est = LogisticRegression().fit(X, y).sparsify()
        coef = est.coef_
        edit(coef)
        return _craft.forge(tmp / "sparse.mllife", _craft.members_of(est, X))
    return build


def _svc_support(tmp, marker):
    X, y = _craft.frame()
    est = SVC().fit(X, y)
    est._n_support = est._n_support * 50
    return _craft.forge(tmp / "svc.mllife", _craft.members_of(est, X))


def _honest(**manifest_changes):
    def build(tmp, marker):
        X, y = _craft.frame()
        members = _craft.members_of(LogisticRegression().fit(X, y), X)
        manifest = _craft.honest_manifest(members)
        for key, value in manifest_changes.items():
            if value is _DROP:
                manifest.pop(key)
            else:
                manifest[key] = value
        return _craft.forge(tmp / "manifest.mllife", members, manifest=manifest)
    return build


_DROP = object()


def _member(name, data):
    def build(tmp, marker):
        X, y = _craft.frame()
        members = _craft.members_of(LogisticRegression().fit(X, y), X)
        members[name] = data
        return _craft.forge(tmp / f"member-{name}", members)
    return build


def _manifest_text(text):
    def build(tmp, marker):
        X, y = _craft.frame()
        members = _craft.members_of(LogisticRegression().fit(X, y), X)
        return _craft.seal(tmp / "raw-manifest.mllife", {**members, "manifest.json": text})
    return build


def _skops_bomb(tmp, marker):
    X, y = _craft.frame()
    members = _craft.members_of(LogisticRegression().fit(X, y), X)
    files = _craft.skops_files(members["model.skops"])
    files["bomb.npy"] = b"\0" * 300_000_000
    members["model.skops"] = _craft.skops_blob(files)
    return _craft.forge(tmp / "skops-bomb.mllife", members)


def _skops_deep(tmp, marker):
    X, y = _craft.frame()
    members = _craft.members_of(LogisticRegression().fit(X, y), X)

    def add_placeholder(schema):
        schema["content"]["content"]["deep"] = "DEEP"
        return schema

    level = '{"__class__": "list", "__module__": "builtins", "__loader__": "ListNode", "content": ['
    deep = level * 5_000 + "]}" * 5_000  # written as text: too deep for json.dumps itself
    files = _craft.skops_files(_craft.edit_schema(members["model.skops"], add_placeholder))
    files["schema.json"] = files["schema.json"].replace(b'"DEEP"', deep.encode())
    members["model.skops"] = _craft.skops_blob(files)
    return _craft.forge(tmp / "skops-deep.mllife", members)


# ---------------------------------------------- found by the hostile review (second round)
def _ufunc_out_into_kdtree(tmp, marker):
    """A FunctionTransformer whose ufunc writes every request into a KD-tree's own
    index array (``out=`` shared with the tree): a segfault at the second predict."""
    X = pd.DataFrame({"x": [0.5, -0.5], "z": [1.0, -1.0]})
    y = np.array([1, 0])
    knn = KNeighborsClassifier(n_neighbors=1, algorithm="kd_tree").fit(X, y)
    writer = FunctionTransformer(functools.partial(np.multiply, 1e15), validate=False)
    side = Pipeline([("ct", ColumnTransformer([("w", writer, ["x"]),
                                               ("p", "passthrough", ["x", "z"])])),
                     ("lr", LogisticRegression())])
    model = VotingClassifier([("knn", knn), ("side", side)], voting="hard").fit(X, y)
    model.estimators_[0] = knn
    ct = model.estimators_[1].steps[0][1]
    fitted = ct.transformers_[0][1]
    fitted.kw_args = {"out": knn._tree.get_arrays()[1], "casting": "unsafe"}
    ct.transformers_[0] = ("w", fitted, "x")
    return _craft.forge(tmp / "ufunc-out.mllife", _craft.members_of(model, X))


def _callable_rules(tmp, marker):
    X, y = _craft.frame()
    model = RuleClassifier([("x > 0", 1)], default=0).fit(X, y)
    model.rules = functools.partial(np.multiply, 7.0)
    return _craft.forge(tmp / "callable-rules.mllife", _craft.members_of(model, X))


def _escaped_quotes_manifest(tmp, marker):
    """200,000 escaped quotes: a quadratic string scan would take hours."""
    return _manifest_text(b'"' + b'\\"' * 200_000)(tmp, marker)


def _seed_pool(tmp, marker):
    """A random generator whose seed pool takes hours to mix."""
    gen = json.loads(_craft.skops_files(sio.dumps({"g": np.random.default_rng(0)}))
                     ["schema.json"])["content"]["g"]
    gen["content"]["seed_seq"]["content"]["pool_size"]["content"] = str(2**20)
    X, y = _craft.frame()
    members = _craft.members_of(LogisticRegression().fit(X, y), X)

    def add(schema):
        schema["content"]["content"]["junk_"] = gen
        return schema

    members["model.skops"] = _craft.edit_schema(members["model.skops"], add)
    return _craft.forge(tmp / "seed-pool.mllife", members)


def _vectorizer(mode):
    def build(tmp, marker):
        words = np.array(["alpha", "beta", "gamma", "delta", "eps", "zeta"])
        rng = np.random.default_rng(0)
        X = pd.DataFrame({"comment": [" ".join(rng.choice(words, 6)) for _ in range(100)]})
        model = Pipeline([("ct", ColumnTransformer([("t", HashingVectorizer(n_features=64),
                                                     "comment")])),
                          ("lr", LogisticRegression())]).fit(X, np.arange(100) % 2)
        fitted = model.steps[0][1].transformers_[0][1]
        if mode == "redos":
            fitted.token_pattern = r"(?:.|.)*\x00"
        else:
            fitted.analyzer, fitted.ngram_range = "char", (1, 10**9)
        return _craft.forge(tmp / f"vectorizer-{mode}.mllife", _craft.members_of(model, X))
    return build


def _many_references(tmp, marker):
    """One 8 MiB array named by 300 objects: skops would inflate it 300 times."""
    X, y = _craft.frame()
    members = _craft.members_of(LogisticRegression().fit(X, y), X)
    files = _craft.skops_files(members["model.skops"])
    arr = np.zeros(1024**2)
    arr[::64] = np.random.default_rng(0).random(arr[::64].size)
    buffer = io.BytesIO()
    np.save(buffer, arr)
    files["big.npy"] = buffer.getvalue()
    schema = json.loads(files["schema.json"])
    node = {"__class__": "ndarray", "__module__": "numpy", "__loader__": "NdArrayNode",
            "type": "numpy", "file": "big.npy"}
    schema["content"]["content"]["junk_"] = {
        "__class__": "list", "__module__": "builtins", "__loader__": "ListNode",
        "content": [dict(node, __id__=10**9 + i) for i in range(300)]}
    files["schema.json"] = json.dumps(schema).encode()
    members["model.skops"] = _craft.skops_blob(files)
    return _craft.forge(tmp / "many-references.mllife", members)


def _zero_size_elements(tmp, marker):
    """An array of 10**12 elements of zero bytes: free to store, fatal to index."""
    X, y = _craft.frame()
    X = X.assign(x=(X.x > 0).astype(int), z=(X.z > 0).astype(int))
    model = make_pipeline(OneHotEncoder(), LogisticRegression()).fit(X, y)
    model[0].categories_[0] = np.array([123456789.0, 987654321.0])
    members = _craft.members_of(model, X)
    files = _craft.skops_files(members["model.skops"])
    buffer = io.BytesIO()
    np.save(buffer, np.empty(0, dtype="V0"))
    fake = buffer.getvalue().replace(b"(0,)", b"(1000000000000,)")
    swapped = [name for name, data in files.items() if name.endswith(".npy")
               and np.load(io.BytesIO(data)).tolist() == [123456789.0, 987654321.0]]
    assert len(swapped) == 1
    files[swapped[0]] = fake
    members["model.skops"] = _craft.skops_blob(files)
    return _craft.forge(tmp / "zero-size.mllife", members)


def _void_scalar(tmp, marker):
    """numpy.void(10**12) as an array node: the constructor allocates what it is given."""
    X, y = _craft.frame()
    members = _craft.members_of(LogisticRegression().fit(X, y), X)
    members["model.skops"] = _craft.rename_type(members["model.skops"], "numpy", "ndarray",
                                                "numpy", "void")
    return _craft.forge(tmp / "void.mllife", members)




# ----------------------------------------------- found by the hostile review (third round)
def _shared_lists(tmp, marker):
    """Three levels of a list naming the same inner list 1,000 times: 3,000 nodes in the
    file, 10**9 visits for skops' audit."""
    X, y = _craft.frame()
    model = LogisticRegression().fit(X, y)
    model.notes_ = [[[0]]]

    def repeat(schema):
        stack = [schema]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                content = node.get("content")
                if node.get("__loader__") == "ListNode" and len(content) == 1 and \
                        content[0].get("__loader__") == "ListNode":
                    inner = content[0]
                    content += [{"__class__": "list", "__module__": "builtins",
                                 "__loader__": "CachedNode", "__id__": inner["__id__"]}] * 999
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        return schema

    members = _craft.members_of(model, X)
    members["model.skops"] = _craft.edit_schema(members["model.skops"], repeat)
    return _craft.forge(tmp / "shared-lists.mllife", members)


def _edited(name, edit, model_factory):
    def build(tmp, marker):
        model, X = model_factory()
        edit(model)
        return _craft.forge(tmp / f"{name}.mllife", _craft.members_of(model, X))
    return build


def _forest():
    X, y = _craft.frame(200)
    return RandomForestClassifier(4, max_depth=2, random_state=0).fit(X, y), X


def _poly():
    X = pd.DataFrame({"x": np.linspace(-1, 1, 60)})
    return make_pipeline(PolynomialFeatures(2), DummyRegressor()).fit(X, np.arange(60.0)), X


def _set_degree(model):
    step = model[0]
    step.degree = step._max_degree = 30_000_000
    step._n_out_full = step.n_output_features_ = 30_000_001


def _vectorizer_model():
    words = np.array(["alpha", "beta", "gamma", "delta"])
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"t": [" ".join(rng.choice(words, 4)) for _ in range(60)]})
    model = make_pipeline(ColumnTransformer([("v", CountVectorizer(), "t")]),
                          LogisticRegression()).fit(X, np.arange(60) % 2)
    return model, X


def _default_vocabulary(model):
    vectorizer = model[0].transformers_[0][1]
    vectorizer.vocabulary_ = collections.defaultdict(int, vectorizer.vocabulary_)


def _pca():
    X, y = _craft.frame()
    return make_pipeline(PCA(2), LogisticRegression()).fit(X, y), X


def _widen_pca(model):
    model[0].components_ = np.zeros((50_000, 2))
    model[0].n_components_ = 50_000


def _encoder():
    X, y = _craft.frame()
    X = X.assign(x=(X.x > 0).astype(int))
    return make_pipeline(OneHotEncoder(), LogisticRegression()).fit(X[["x"]], y), X[["x"]]


def _scaler():
    X, y = _craft.frame()
    return make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), X


HOSTILE = [("os", "system"), ("posix", "system"), ("builtins", "eval"),
           ("subprocess", "Popen"), ("numpy", "load"), ("functools", "partial"),
           ("operator", "methodcaller"), ("sklearn._loss.loss", "call"),
           ("importlib", "import_module"), ("builtins", "__import__")]

RULES = [
    "@pd.io.common.os.system('touch {marker}') > -1",
    "pd.io.common.os.system('touch {marker}') > -1",
    "__import__('os').system('touch {marker}') > -1",
    "x.__class__.__mro__[1] == 0",
    "(lambda: 0)() == 0",
    "[c for c in 'x'] == 0",
]

#: id -> (builder, expected error, message pattern)
CORPUS = {
    # 1. code execution
    **{f"rule-{i}": (_rule_payload(r), IntegrityError, r"rule") for i, r in enumerate(RULES)},
    "rule-evaluator-function": (_function_named("mllife.baselines._rules", "_evaluate"),
                                UntrustedTypeError, r"mllife\.baselines\._rules\._evaluate"),
    **{f"hostile-{m}.{n}": (_function_named(m, n), UntrustedTypeError, r"hostile")
       for m, n in HOSTILE},
    "sklearn-test-module": (_class_named("sklearn.utils.tests.test_validation", "Estimator"),
                            UntrustedTypeError, r"sklearn\.utils\.tests"),
    "sklearn-conftest": (_class_named("sklearn.conftest", "Estimator"),
                         UntrustedTypeError, r"sklearn\.conftest"),
    "pytest-skip": (_class_named("_pytest.outcomes", "Skipped"), UntrustedTypeError, r"hostile"),
    # 2. memory safety of trusted numeric state
    "tree-child-out-of-range": (_tree_state(_set("left_child", "root", 10**6)),
                                IntegrityError, r"tree_"),
    "tree-cycle": (_tree_state(_set("right_child", "internal", 0)), IntegrityError, r"tree_"),
    "tree-leaf-one-child": (_tree_state(_set("left_child", "leaf", 1)), IntegrityError, r"tree_"),
    "tree-feature-out-of-range": (_tree_state(_set("feature", "root", 99)),
                                  IntegrityError, r"feature"),
    "tree-nan-threshold": (_tree_state(_set("threshold", "root", np.nan)),
                           IntegrityError, r"threshold"),
    "forest-tree-cycle": (_tree_state(_set("left_child", "internal", 0),
                                      lambda: RandomForestClassifier(5, random_state=0)),
                          IntegrityError, r"estimators_\[2\]"),
    "hgb-child-out-of-range": (_hgb_state("left", 60_000), IntegrityError, r"_predictors"),
    "hgb-feature-out-of-range": (_hgb_state("feature_idx", 77), IntegrityError, r"_predictors"),
    "sparse-index-out-of-range": (
        _sparse_coef(lambda m: m.indices.__setitem__(0, 10**6)), IntegrityError, r"coef_"),
    "sparse-indptr-past-nnz": (
        _sparse_coef(lambda m: m.indptr.__setitem__(-1, 10**6)), IntegrityError,
        r"coef_|index pointer"),
    "svc-n-support": (_svc_support, IntegrityError, r"SVC"),
    # 3. resource limits and malformed members
    "json-depth": (_member("info.json", b"[" * 200_000 + b"]" * 200_000),
                   IntegrityError, r"nested deeper"),
    "json-size": (_member("schema.json", b" " * (65 * 1024**2) + b"{}"),
                  IntegrityError, r"schema\.json.*zip bomb"),
    "skops-zip-bomb": (_skops_bomb, IntegrityError, r"zip bomb"),
    "skops-deep": (_skops_deep, IntegrityError, r"nest"),
    "format-newer": (_honest(format_version=2), IntegrityError,
                     r"format version 2, newer than version 1"),
    "format-malformed": (_honest(format_version="1; rm -rf"), IntegrityError,
                         r"malformed format_version .* version 1"),
    "format-missing": (_honest(format_version=_DROP), IntegrityError, r"format_version"),
    "manifest-list": (_manifest_text(b"[]"), IntegrityError, r"manifest"),
    "manifest-members-list": (_honest(members=[]), IntegrityError, r"members"),
    "manifest-versions-list": (_honest(versions=["x"]), IntegrityError, r"versions"),
    "manifest-not-json": (_manifest_text(b"\xff\xfe{"), IntegrityError, r"manifest"),
    "info-list": (_member("info.json", b"[]"), IntegrityError, r"info\.json"),
    "info-version-number": (_member("info.json", b'{"version": 5}'), IntegrityError,
                            r"version"),
    "info-metadata-list": (_member("info.json", b'{"version": "1", "metadata": [1]}'),
                           IntegrityError, r"metadata"),
    "schema-list": (_member("schema.json", b"[]"), IntegrityError, r"schema\.json"),
    "schema-columns-number": (_member("schema.json", b'{"columns": 5}'), IntegrityError,
                              r"schema\.json"),
    "drift-profile-garbage": (_member("drift_profile.json", b'{"columns": "x"}'),
                              IntegrityError, r"drift_profile"),
    # found by the hostile review
    "ufunc-out-into-kdtree": (_ufunc_out_into_kdtree, IntegrityError, r"partial|kw_args"),
    "callable-rules": (_callable_rules, IntegrityError, r"partial|callable"),
    "escaped-quotes-manifest": (_escaped_quotes_manifest, IntegrityError, r"manifest"),
    "seed-pool": (_seed_pool, IntegrityError, r"seed pool"),
    "vectorizer-redos": (_vectorizer("redos"), IntegrityError, r"token_pattern"),
    "vectorizer-ngrams": (_vectorizer("ngram"), IntegrityError, r"ngram_range"),
    "many-references": (_many_references, IntegrityError, r"more than one object"),
    "zero-size-elements": (_zero_size_elements, IntegrityError, r"elements of 0 bytes"),
    "void-scalar": (_void_scalar, UntrustedTypeError, r"numpy\.void"),
    "shared-lists": (_shared_lists, IntegrityError, r"expands to more than"),
    "forest-repeats-one-tree": (
        _edited("repeat", lambda m: setattr(m, "estimators_", [m.estimators_[0]] * 400), _forest),
        IntegrityError, r"same object more than once"),
    "polynomial-degree": (_edited("poly", _set_degree, _poly), IntegrityError, r"degrees|columns"),
    "defaultdict-vocabulary": (_edited("vocab", _default_vocabulary, _vectorizer_model),
                               UntrustedTypeError, r"defaultdict"),
    "pca-wide": (_edited("pca", _widen_pca, _pca), IntegrityError, r"components_"),
    "encoder-output-width": (
        _edited("ohe", lambda m: setattr(m[0], "_n_features_outs", [10**11]), _encoder),
        IntegrityError, r"output columns"),
    "shadowed-predict": (
        _edited("shadow", lambda m: setattr(m[-1], "predict", np.negative), _scaler),
        IntegrityError, r"hides the class's own 'predict'"),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Every crafted file: id -> (path, marker, error, pattern)."""
    built = {}
    for name, (build, error, pattern) in CORPUS.items():
        folder = tmp_path_factory.mktemp(name.replace(".", "-"))
        marker = folder / _craft.MARKER_NAME
        built[name] = (build(folder, marker), marker, error, pattern)
    return built


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_crafted_file_is_refused_with_the_right_error(corpus, case):
    path, marker, error, pattern = corpus[case]
    with pytest.raises(error, match=pattern) as info:
        load_bundle(path)
    assert isinstance(info.value, mllife.MllifeError)
    assert not marker.exists()


def test_hostile_names_are_never_offered_to_trusted(corpus):
    for case in [c for c in CORPUS if c.startswith("hostile-")]:
        path, *_ = corpus[case]
        with pytest.raises(UntrustedTypeError) as info:
            load_bundle(path)
        assert "do not add these names to trusted=" in str(info.value)
        assert "load_bundle(path, trusted=" not in str(info.value)


def test_other_untrusted_types_name_the_type_and_the_risk(corpus):
    path, *_ = corpus["rule-evaluator-function"]
    with pytest.raises(UntrustedTypeError, match=r"runs its code") as info:
        load_bundle(path)
    assert "hostile" not in str(info.value)


_ISOLATED = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
import numpy as np, pandas as pd
import mllife
from mllife.bundle import load_bundle
from mllife.bundle._trust import default_trust_list
default_trust_list()  # what the loader imports for its own list (skops imports sklearn's)
before = set(sys.modules)
X = pd.DataFrame({"x": np.linspace(-2, 2, 50), "z": np.linspace(1, -1, 50)})
loaded = []
for path in sys.argv[1:]:
    try:
        loaded.append((path, load_bundle(path)))
    except mllife.MllifeError as exc:
        print(json.dumps({"path": path, "refused": type(exc).__name__}), flush=True)
    except BaseException as exc:
        print(json.dumps({"path": path, "raw": type(exc).__name__}), flush=True)
imported = sorted(set(sys.modules) - before)
for path, bundle in loaded:
    bundle.predict(X)
    print(json.dumps({"path": path, "predicted": True}), flush=True)
print(json.dumps({"imported_by_loading": imported}))
"""


def test_no_file_crashes_or_hangs_the_process_or_imports_a_module(corpus):
    """Load (and predict on whatever loads) in a separate process: a segfault, an
    endless predict loop or a raw exception fails here, not the suite."""
    paths = [str(corpus[c][0]) for c in sorted(CORPUS)]
    done = subprocess.run([sys.executable, "-c", _ISOLATED, *paths], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    outcomes = {line["path"]: line for line in lines if "path" in line}
    assert set(outcomes) == set(paths)
    for case in CORPUS:
        path, marker, error, _ = corpus[case]
        assert outcomes[str(path)].get("refused") == error.__name__, (case, outcomes[str(path)])
        assert not marker.exists()
    # Checking a file's names never imports a module the file names: loading the whole
    # corpus imported only the loader's own modules (and zipfile's codec for member names).
    own = ("mllife.", "skops", "encodings.")
    assert [m for m in lines[-1]["imported_by_loading"] if not m.startswith(own)] == []


def test_n_jobs_is_chosen_by_the_loader_not_the_file(tmp_path):
    X, y = _craft.frame()
    forest = RandomForestClassifier(4, n_jobs=-1, random_state=0).fit(X, y)
    path = _craft.forge(tmp_path / "jobs.mllife", _craft.members_of(forest, X))
    loaded = load_bundle(path)
    assert loaded.model.n_jobs == 1
    assert all(tree.get_params().get("n_jobs", 1) == 1 for tree in loaded.model.estimators_)
    assert load_bundle(path, n_jobs=2).model.n_jobs == 2
    assert load_bundle(path, n_jobs=None).model.n_jobs is None
    np.testing.assert_array_equal(loaded.predict(X)["prediction"], forest.predict(X))


@pytest.mark.parametrize(("kwargs", "pattern"), [
    ({"trusted": 123}, r"trusted is a int"),
    ({"trusted": [3.5]}, r"trusted holds a float"),
    ({"trusted": "not a name"}, r"not a full type name"),
    ({"key": 5}, r"key"),
    ({"n_jobs": 0}, r"n_jobs"),
    ({"n_jobs": "all"}, r"n_jobs"),
    ({"max_bytes": -1}, r"max_bytes"),
])
def test_bad_arguments_are_input_errors(tmp_path, kwargs, pattern):
    X, y = _craft.frame()
    path = _craft.forge(tmp_path / "ok.mllife",
                        _craft.members_of(LogisticRegression().fit(X, y), X))
    with pytest.raises(InputError, match=pattern):
        load_bundle(path, **kwargs)


@pytest.mark.parametrize("path", [None, 12, b"/tmp/x", ["a"]])
def test_bad_paths_are_input_errors(path):
    with pytest.raises(InputError, match="path"):
        load_bundle(path)


def test_skops_json_members_are_streamed_not_trusted_for_their_declared_size(tmp_path):
    """A member whose header declares a small size but whose stream inflates further is
    cut where the stream actually stops (zipfile) and capped at the real byte count."""
    X, y = _craft.frame()
    members = _craft.members_of(LogisticRegression().fit(X, y), X)
    noise = np.random.default_rng(0).integers(65, 91, size=17 * 1024**2, dtype=np.uint8)
    members["info.json"] = b'{"version": "1", "metadata": {"n": "' + noise.tobytes() + b'"}}'
    path = _craft.forge(tmp_path / "big-info.mllife", members)
    with pytest.raises(IntegrityError, match=r"info\.json.*inflates past"):
        load_bundle(path)


def test_a_bundle_never_holds_callable_rules(tmp_path):
    X, y = _craft.frame()
    model = RuleClassifier(lambda df: np.where(df["x"] > 0, 1, 0)).fit(X, y)
    bundle = mllife.bundle.ModelBundle(model, mllife.bundle.InputSchema.infer(X), version="1")
    with pytest.raises(InputError, match=r"callable rules .* rule language"):
        bundle.save(tmp_path / "callable.mllife")
    assert not (tmp_path / "callable.mllife").exists()


def test_a_lambda_anywhere_is_refused_at_save(tmp_path):
    X, y = _craft.frame()
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(FunctionTransformer(lambda a: a * 2),
                          LogisticRegression()).fit(X, y)
    bundle = mllife.bundle.ModelBundle(model, mllife.bundle.InputSchema.infer(X), version="1")
    with pytest.raises(InputError, match=r"lambda"):
        bundle.save(tmp_path / "lambda.mllife")


def test_sparse_coef_that_is_honest_still_loads(tmp_path):
    X, y = _craft.frame()
    est = LogisticRegression().fit(X, y).sparsify()
    assert sp.issparse(est.coef_)
    loaded = load_bundle(_craft.forge(tmp_path / "sp.mllife", _craft.members_of(est, X)))
    np.testing.assert_array_equal(loaded.predict(X)["prediction"], est.predict(X))


def test_corpus_files_are_sealed_so_each_defence_is_reached(corpus):
    """No case is refused merely for a broken checksum."""
    for case in CORPUS:
        path = corpus[case][0]
        with zipfile.ZipFile(path) as zf:
            assert zf.comment.startswith(b"mllife-sha256:")
        with pytest.raises(mllife.MllifeError) as info:
            load_bundle(path)
        assert "checksum" not in str(info.value)


_MEMORY = r"""
import resource, sys, warnings
warnings.simplefilter("ignore")
import mllife
from mllife.bundle import load_bundle
from mllife.bundle._trust import default_trust_list
default_trust_list()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for path in sys.argv[1:]:
    try:
        load_bundle(path)
    except mllife.MllifeError:
        pass
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
"""


def test_bombs_cost_little_memory(corpus):
    """Files of a few hundred KB that inflate to hundreds of MB (a zip bomb in the skops
    payload, a 65 MB JSON member, 200,000 nested brackets) are refused having used at
    most a few tens of MB: members are inflated as capped streams, never whole."""
    paths = [str(corpus[c][0]) for c in ("skops-zip-bomb", "json-size", "json-depth")]
    assert all(Path(p).stat().st_size < 2_000_000 for p in paths)
    done = subprocess.run([sys.executable, "-c", _MEMORY, *paths], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[-1]) < 64 * 1024**2


def test_trusted_may_be_an_iterator(tmp_path):
    from tests.bundle._custom import Doubler

    X, y = _craft.frame()
    model = make_pipeline(Doubler(), LogisticRegression()).fit(X, y)
    path = _craft.forge(tmp_path / "user.mllife", _craft.members_of(model, X))
    loaded = load_bundle(path, trusted=iter(["tests.bundle._custom.Doubler"]))
    np.testing.assert_array_equal(loaded.predict(X)["prediction"], model.predict(X))


def test_a_model_that_fails_on_valid_input_is_a_model_error(tmp_path):
    """A state scikit-learn cannot use (a scaler of the wrong width) loads, but predict
    raises ModelError naming the model, with the original error chained."""
    model, X = _scaler()
    model[0].scale_ = np.ones(5)
    loaded = load_bundle(_craft.forge(tmp_path / "scaler.mllife", _craft.members_of(model, X)))
    with pytest.raises(mllife.ModelError, match=r"Pipeline .* failed in predict") as info:
        loaded.predict(X)
    assert info.value.__cause__ is not None
