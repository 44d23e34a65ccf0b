"""Validate a loaded model's numeric state before anything predicts with it.

The trust list (:mod:`mllife.bundle._trust`) decides which *types* a bundle may
hold; skops then rebuilds them from their state without running their code. That
is not enough: scikit-learn's compiled predict code trusts the *values* in that
state, and reads them without bounds checks. A file built only of trusted types
can still

- crash the process: a tree node whose child or feature index points outside its
  array, a sparse matrix whose ``indices`` exceed its shape (a sparse ``coef_``),
  SVM support-vector counts that do not add up, a KD-tree index array that is not
  a permutation of its data;
- hang a service: a tree child that points back to its parent makes predict loop
  for ever;
- answer with numbers read from unrelated memory.

This is why skops itself refuses ``sklearn.tree._tree.Tree`` by default.
:func:`validate_model` walks the whole loaded object graph (estimators and their
``__dict__``, lists, tuples, dicts, numpy object arrays; cycles are followed once,
depth and size are bounded) and checks every such state against the invariants
that scikit-learn's own ``fit`` guarantees, vectorised with numpy:

- decision trees (``Tree``, in trees, forests, gradient boosting, isolation
  forests): node count, child ranges, leaves with both children ``-1``, every child
  index greater than its parent's and every node but the root with one parent (so
  no cycle can exist), split features within the owner's ``n_features_in_``,
  thresholds not NaN, the value array's shape, and how each ensemble calls its
  trees (gradient boosting writes column ``k`` of an array sized by its ``init_``);
- histogram gradient boosting (``TreePredictor``, ``_BinMapper``, the categorical
  preprocessor): the same node checks, categorical bitset rows, bin counts and
  the per-feature arrays predict indexes with the split feature;
- scipy sparse matrices and arrays anywhere (``indptr``/``indices``/``coords``
  against the shape); ``dok`` and ``lil`` containers, which no fitted model
  holds, are refused;
- libsvm estimators (``SVC``, ``NuSVC``, ``SVR``, ``NuSVR``, ``OneClassSVM``): every
  array libsvm's C code sizes from another one;
- ``KDTree``/``BallTree``: rebuilt from their own data and compared array by array,
  with their distance metric, and the neighbours estimator's ``_fit_X``, ``_y``;
- k-means: the centres' shape (and each node of a bisecting k-means tree);
- one-hot encoders and vectorisers, whose ``transform`` builds a sparse matrix
  from ``categories_`` (binary-searched, so numeric ones must be sorted), the
  per-feature output counts and ``vocabulary_``: every column index they can
  write falls inside the matrix;
- any fitted ``coef_``: its last dimension is ``n_features_in_``;
- code-shaped settings: the only ``functools.partial`` accepted is scikit-learn's own
  ``partial(check_array, ...)``; a ``FunctionTransformer``'s ``kw_args`` hold plain
  values (no array, no ``out=``: a request must not write into the model's arrays);
  text vectorisers keep scikit-learn's default ``token_pattern``, a built-in analyzer
  and an n-gram range of at most 10 (a regular expression or n-gram range from a file
  could make every request run for ever); rule models hold rule strings in the rule
  language, never a callable.

Validated index arrays are then protected: sparse ``indices``/``indptr`` become
read-only, and a KD/ball tree reads the arrays it was rebuilt with, which nothing
else in the file can reach.

A numpy ufunc is accepted only as a ``FunctionTransformer``'s ``func`` or
``inverse_func`` (anywhere else scikit-learn may pass it a second positional
argument, which a ufunc takes as ``out=``). Only gradient boosting's ``init_``
width is checked by running scikit-learn code (one row of zeros), and only after
everything else has passed and the caller's ``before_code`` hook (the loader's
refusal of untrusted numpy functions) has run. Finally ``n_jobs``
of every estimator (and the OpenMP thread count k-means keeps) is set by the
caller: a file must not choose how many processes a service starts.

Anything whose layout is unknown (a release that changed a structure, a callable
kernel or distance, a missing attribute that predict needs) is refused with
:class:`~mllife.IntegrityError`; it is never accepted unchecked. What this module
does not cover is state outside scikit-learn's estimators that compiled code
reads (a scipy ``BSpline`` in ``SplineTransformer``, Birch's ``_CFNode``); the
trust list must refuse those types.
"""

from __future__ import annotations

import functools
import importlib
import math
import types
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import numpy as np

from .._errors import IntegrityError

__all__ = ["validate_model"]

#: The object graph may nest this deep (containers and attributes), no deeper.
MAX_DEPTH = 256
#: and hold at most this many objects (scalars inside containers are not counted).
MAX_OBJECTS = 1_000_000

#: Objects with no state of the file's to walk. A numpy ufunc (``FunctionTransformer(np.log1p)``,
#: loaded only when the caller trusts it) is numpy's own object, found by name: its
#: ``__dict__`` (``__module__``, ``__doc__``) is numpy's, not an estimator's shadowed method.
_ATOMS = (str, bytes, bytearray, int, float, complex, np.generic, slice, range, type,
          np.dtype, types.FunctionType, types.BuiltinFunctionType, types.MethodType,
          types.ModuleType, np.ufunc,
          np.random.RandomState, np.random.Generator, np.random.BitGenerator,
          np.random.SeedSequence)
_SVM_KERNELS = frozenset({"linear", "poly", "rbf", "sigmoid", "precomputed"})
_SVM_STATE = ("support_", "support_vectors_", "_n_support", "_dual_coef_", "_intercept_",
              "_probA", "_probB")


def validate_model(model: Any, *, n_jobs: int | None = 1,
                   before_code: Callable[[], None] | None = None) -> None:
    """Check a loaded model's internal arrays, and set its ``n_jobs``.

    Walks every object reachable from ``model`` and checks the state that
    scikit-learn's compiled code reads without bounds checks (tree nodes,
    gradient-boosting predictors, sparse matrices, libsvm models, KD/ball trees,
    k-means centres, ``coef_``); see the module docstring for the list. Nothing
    is predicted until every check has passed.

    Parameters
    ----------
    model : object
        A freshly loaded model (any estimator, pipeline or container of them).
    n_jobs : int or None, default=1
        Applied to every estimator in the graph that has an ``n_jobs`` attribute
        (nested ones included), and as the OpenMP thread count of k-means:
        the service decides how many processes and threads a model uses, not
        the file. ``None`` means scikit-learn's default.
    before_code : callable, optional
        Called once the structural checks (which run no estimator code) have passed,
        before the checks that do (gradient boosting's ``init_`` predicts one row):
        the loader refuses untrusted numpy functions there, so none ever runs.

    Raises
    ------
    IntegrityError
        Naming the object's path in the graph (``model.steps[1][1].estimators_[17].tree_``),
        its class, and the check that failed; also when the graph is deeper than
        :data:`MAX_DEPTH` or larger than :data:`MAX_OBJECTS`.

    Examples
    --------
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from mllife.bundle._state import validate_model
    >>> model = DecisionTreeClassifier(random_state=0).fit([[0.0], [1.0], [2.0], [3.0]],
    ...                                                    [0, 0, 1, 1])
    >>> validate_model(model)  # a tree scikit-learn built passes unchanged
    >>> state = model.tree_.__getstate__()
    >>> nodes = state["nodes"].copy()
    >>> nodes["right_child"][0] = 0  # the root becomes its own child: predict never ends
    >>> model.tree_.__setstate__({**state, "nodes": nodes})
    >>> validate_model(model)
    Traceback (most recent call last):
    ...
    mllife._errors.IntegrityError: model.tree_ (Tree): child index 0 of node 0 is not greater than its parent

    The caller sets ``n_jobs``, whatever the file says:

    >>> from sklearn.ensemble import RandomForestClassifier
    >>> forest = RandomForestClassifier(3, n_jobs=-1, random_state=0).fit([[0.0], [1.0]], [0, 1])
    >>> validate_model(forest)
    >>> forest.n_jobs
    1
    """
    walker = _Walker(n_jobs)
    try:
        walker.walk(model, "model")
        if before_code is not None:
            before_code()
        for check in walker.deferred:  # checks that run scikit-learn code, once all is valid
            check()
    except MemoryError:
        raise IntegrityError("the model's state is too large to validate in memory "
                             "(an array claims more elements than it holds)") from None


def _fail(path: str, obj: Any, problem: str) -> NoReturn:
    raise IntegrityError(f"{path} ({type(obj).__name__}): {problem}")


#: The scikit-learn names the checks dispatch on, private ones included.
_SKLEARN_NAMES = {
    "sklearn.cluster": ("BisectingKMeans",), "sklearn.cluster._kmeans": ("_BaseKMeans",),
    "sklearn.compose": ("ColumnTransformer",), "sklearn.ensemble": ("IsolationForest",),
    "sklearn.ensemble._bagging": ("BaseBagging",), "sklearn.ensemble._forest": ("BaseForest",),
    "sklearn.ensemble._gb": ("BaseGradientBoosting",),
    "sklearn.ensemble._hist_gradient_boosting.binning": ("_BinMapper",),
    "sklearn.ensemble._hist_gradient_boosting.common": ("PREDICTOR_RECORD_DTYPE",),
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting": ("BaseHistGradientBoosting",),
    "sklearn.ensemble._hist_gradient_boosting.predictor": ("TreePredictor",),
    "sklearn.metrics": ("DistanceMetric",),
    "sklearn.neighbors": ("BallTree", "KDTree", "KernelDensity"),
    "sklearn.neighbors._base": ("NeighborsBase",),
    "sklearn.preprocessing": ("FunctionTransformer", "OrdinalEncoder"),
    "sklearn.preprocessing._encoders": ("_BaseEncoder",),
    "sklearn.svm._base": ("LIBSVM_IMPL", "BaseLibSVM"),
    "sklearn.tree": ("BaseDecisionTree",), "sklearn.tree._tree": ("Tree",),
    "sklearn.utils._openmp_helpers": ("_openmp_effective_n_threads",),
    "sklearn.utils.validation": ("check_array",),
}


@functools.cache
def _sk() -> types.SimpleNamespace:
    """The objects of :data:`_SKLEARN_NAMES`; a release that moved one fails closed."""
    found = {}
    for module, names in _SKLEARN_NAMES.items():
        try:
            mod = importlib.import_module(module)
            found.update({name: getattr(mod, name) for name in names})
        except (ImportError, AttributeError) as exc:
            raise IntegrityError(f"this scikit-learn release moved {module} ({exc}): models "
                                 "cannot be validated, so none is loaded") from None
    return types.SimpleNamespace(**found)


# --------------------------------------------------------------------- walking
class _Walker:
    """Iterative depth-first walk of the object graph, checking each object once."""

    def __init__(self, n_jobs: int | None) -> None:
        self.n_jobs = n_jobs
        self.seen: set[int] = set()
        self.done: set[int] = set()  # predictors already checked by their owner
        self.deferred: list[Callable[[], None]] = []
        self.count = 0

    def walk(self, root: Any, path: str) -> None:
        stack: list[tuple[Any, str, int]] = [(root, path, 0)]
        while stack:
            obj, path, depth = stack.pop()
            if obj is None or isinstance(obj, _ATOMS) or id(obj) in self.seen:
                continue
            self.seen.add(id(obj))
            self.count += 1
            if self.count > MAX_OBJECTS:
                raise IntegrityError(f"the model holds more than {MAX_OBJECTS:,} objects")
            if depth > MAX_DEPTH:
                raise IntegrityError(f"{path}: the model nests deeper than {MAX_DEPTH} levels")
            children = list(self.visit(obj, path))
            for child, cpath in children:
                if isinstance(child, np.ufunc):
                    _check_ufunc_place(obj, path, child, cpath)
            stack.extend((child, cpath, depth + 1) for child, cpath in reversed(children))

    def visit(self, obj: Any, path: str) -> Iterator[tuple[Any, str]]:
        """Check ``obj`` and yield its children with their paths."""
        import scipy.sparse as sp

        sk = _sk()
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                yield from _array_items(obj, path)
        elif sp.issparse(obj):
            _check_sparse(obj, path)
        elif isinstance(obj, sk.Tree):
            _check_tree(obj, path)
        elif isinstance(obj, sk.TreePredictor):
            if id(obj) not in self.done:
                _check_predictor(obj, path)
        elif isinstance(obj, sk.KDTree | sk.BallTree):
            _check_binary_tree(obj, path)
        elif isinstance(obj, sk.DistanceMetric):
            _check_metric(obj, path, None)
        elif isinstance(obj, list | tuple | set | frozenset | deque):
            for i, item in enumerate(obj):
                yield item, f"{path}[{i}]"
        elif isinstance(obj, dict):
            for key, value in obj.items():
                yield key, f"{path}.keys()"
                yield value, f"{path}[{key!r}]"
        elif isinstance(obj, functools.partial):
            _check_partial(obj, path)
            yield obj.func, f"{path}.func"
            yield obj.args, f"{path}.args"
            yield obj.keywords, f"{path}.keywords"
        elif isinstance(getattr(obj, "__dict__", None), dict):
            self.check_object(obj, path)
            for name, value in list(vars(obj).items()):
                yield value, f"{path}.{name}"

    def check_object(self, obj: Any, path: str) -> None:
        """Checks of an estimator that need its context, then its thread settings."""
        sk, d = _sk(), vars(obj)
        if isinstance(d.get("tree_"), sk.Tree):
            _check_tree_owner(obj, path)
        if isinstance(obj, sk.BaseForest) and "estimators_" in d:
            _check_forest(obj, path)
        if isinstance(obj, sk.BaseBagging) and "estimators_" in d:
            _check_bagging(obj, path)
        if isinstance(obj, sk.BaseGradientBoosting) and "estimators_" in d:
            self.deferred.append(_check_gradient_boosting(obj, path))
        if isinstance(obj, sk.BaseHistGradientBoosting) and "_predictors" in d:
            self.done.update(_check_hist_gradient_boosting(obj, path))
        if isinstance(obj, sk.BaseLibSVM) and any(name in d for name in _SVM_STATE):
            _check_libsvm(obj, path)
        if isinstance(obj, sk.NeighborsBase) and "_fit_method" in d:
            _check_neighbors(obj, path)
        if isinstance(obj, sk.KernelDensity) and "tree_" in d:
            _check_kernel_density(obj, path)
        if isinstance(obj, sk._BaseKMeans) and "cluster_centers_" in d:
            _check_kmeans(obj, path)
        if "coef_" in d and "n_features_in_" in d:
            _check_coef(obj, path)
        if isinstance(obj, sk._BaseEncoder) and "categories_" in d:
            _check_encoder(obj, path)
        if "vocabulary_" in d:
            _check_vocabulary(obj, path)
        _check_rule_strings(obj, path)
        if isinstance(obj, sk.FunctionTransformer):
            _check_function_transformer(obj, path)
        _check_no_shadowed_methods(obj, path)
        _check_distinct_members(obj, path)
        if "_n_out_full" in d or "n_output_features_" in d:
            _check_polynomial(obj, path)
        if "components_" in d and "n_features_in_" in d:
            _check_components(obj, path)
        if "token_pattern" in d or "analyzer" in d:
            _check_text_settings(obj, path)
        # The caller, not the file, decides how many processes and threads run.
        if "n_jobs" in d:
            obj.n_jobs = self.n_jobs
        if "_n_threads" in d:
            obj._n_threads = sk._openmp_effective_n_threads(self.n_jobs)
        if isinstance(obj, sk._BinMapper) and "n_threads" in d:
            obj.n_threads = self.n_jobs


_SCALARS = (str, int, float, bool, type(None), np.number, np.bool_)


def _check_ufunc_place(owner: Any, path: str, ufunc: Any, ufunc_path: str) -> None:
    """A ufunc belongs only in a ``FunctionTransformer``'s ``func`` or ``inverse_func``,
    which scikit-learn calls as ``func(X, **kw_args)`` (and ``kw_args`` holds no ``out=``).
    Anywhere else (a ``kernel``, a metric, ``feature_names_out``, a list) scikit-learn may
    pass a second positional argument, which a one-input ufunc takes as ``out=``: every
    request would write into the model's own arrays."""
    if type(owner) is _sk().FunctionTransformer and ufunc_path in (
            f"{path}.func", f"{path}.inverse_func"):
        return
    _fail(ufunc_path, ufunc, f"a numpy function ({getattr(ufunc, '__name__', '?')}) is "
                             "only valid as a FunctionTransformer's func or inverse_func, "
                             "where a fitted model keeps one")


def _check_partial(obj: functools.partial, path: str) -> None:
    """The one partial scikit-learn builds (histogram gradient boosting's
    ``partial(check_array, ...)``); any other would call something with arguments the
    file chose."""
    sk = _sk()
    keywords = obj.keywords or {}

    def plain(v: Any) -> bool:  # a value, or a numeric type such as dtype=[np.float64]
        return isinstance(v, _SCALARS) or (isinstance(v, type) and issubclass(
            v, np.number | np.bool_ | float | int | bool))

    if obj.func is not sk.check_array or obj.args or not all(
            plain(v) or (isinstance(v, tuple | list) and all(plain(x) for x in v))
            for v in keywords.values()):
        _fail(path, obj, "is not partial(check_array, ...) with plain keyword arguments, "
                         "the only partial a fitted scikit-learn model holds")


def _check_function_transformer(obj: Any, path: str) -> None:
    """A FunctionTransformer's keyword arguments are plain values: an array there
    (``out=``) would let a request write into the model's own arrays."""
    for name in ("kw_args", "inv_kw_args"):
        kwargs = getattr(obj, name, None)
        if kwargs is None:
            continue
        if not isinstance(kwargs, dict) or not all(
                isinstance(k, str) and k not in {"out", "where"} and isinstance(v, _SCALARS)
                for k, v in kwargs.items()):
            _fail(path, obj, f"{name} must map names to plain values (numbers, text, "
                             "booleans, None), without out= or where=")


_DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
_MAX_NGRAM = 10


def _check_text_settings(obj: Any, path: str) -> None:
    """Text vectorisers run their settings on every request: a crafted regular
    expression backtracks for ever, and an n-gram range of 10**9 allocates the cube
    of the text's length."""
    d = vars(obj)
    pattern = d.get("token_pattern", _DEFAULT_TOKEN_PATTERN)
    if pattern is not None and pattern != _DEFAULT_TOKEN_PATTERN:
        _fail(path, obj, "token_pattern is not scikit-learn's default; a regular expression "
                         "read from a file is not run (it could backtrack for ever)")
    if d.get("analyzer", "word") not in ("word", "char", "char_wb"):
        _fail(path, obj, "analyzer is not one of 'word', 'char', 'char_wb'")
    for name in ("preprocessor", "tokenizer"):
        if d.get(name) is not None:
            _fail(path, obj, f"{name} is set; only scikit-learn's built-in text handling loads")
    low, high = d.get("ngram_range", (1, 1))
    if not all(isinstance(v, int | np.integer) for v in (low, high)) or \
            not 1 <= low <= high <= _MAX_NGRAM:
        _fail(path, obj, f"ngram_range {(low, high)!r} is outside 1..{_MAX_NGRAM}")


#: The widest output a loaded feature expansion may produce per row.
_MAX_EXPANSION = 100_000
#: The most components a decomposition may have beyond its input width.
_MAX_COMPONENTS = 4_096


def _check_no_shadowed_methods(obj: Any, path: str) -> None:
    """No state entry may hide a method or property of the class (``predict`` set to a
    ufunc on the instance would be called instead of the estimator's own)."""
    import inspect

    cls = type(obj)
    for name in vars(obj):
        # Methods, properties and scikit-learn's available_if are descriptors; class-level
        # values (strings, numbers, dicts) are not, and an instance may override those.
        if hasattr(type(inspect.getattr_static(cls, name, None)), "__get__"):
            _fail(path, obj, f"its state entry {name!r} hides the class's own {name!r}")


def _check_distinct_members(obj: Any, path: str) -> None:
    """An ensemble's members are distinct objects (a fit clones each one): a file that
    names one tree 20,000 times makes every request walk it 20,000 times."""
    for name in ("estimators_", "_predictors", "estimators_features_"):
        members = vars(obj).get(name)
        if isinstance(members, np.ndarray) and members.dtype.hasobject:
            members = members.ravel().tolist()
        if not isinstance(members, list | tuple):
            continue
        flat = [m for group in members for m in (group if isinstance(group, list | tuple)
                                                  else [group])]
        objects = [m for m in flat if not isinstance(m, np.ndarray | str | int | float)]
        if len({id(m) for m in objects}) != len(objects):
            _fail(path, obj, f"{name} names the same object more than once")


def _check_polynomial(obj: Any, path: str) -> None:
    """A polynomial expansion's output width is recomputed from its degree, and bounded."""
    from sklearn.preprocessing import PolynomialFeatures

    if not isinstance(obj, PolynomialFeatures):
        return
    d = vars(obj)
    n_features = _int_attr(obj, path, "n_features_in_", 0)
    low, high = d.get("_min_degree"), d.get("_max_degree")
    if not all(isinstance(v, int | np.integer) for v in (low, high)) or \
            not 0 <= low <= high <= 64:
        _fail(path, obj, f"degrees ({low!r}, {high!r}) are not 0 <= min <= max <= 64")
    width = PolynomialFeatures._num_combinations(
        n_features=n_features, min_degree=int(low), max_degree=int(high),
        interaction_only=bool(d.get("interaction_only")), include_bias=bool(d.get("include_bias")))
    if width > _MAX_EXPANSION:
        _fail(path, obj, f"expands {n_features} features to {width} columns per row, more "
                         f"than the {_MAX_EXPANSION:,} a loaded model may")
    for name in ("_n_out_full", "n_output_features_"):
        if name in d and d[name] != width and not (name == "n_output_features_"
                                                   and 0 <= d[name] <= width):
            _fail(path, obj, f"{name} is {d[name]!r}; its degrees give {width}")


def _check_components(obj: Any, path: str) -> None:
    """A decomposition's components span its input width, in bounded number."""
    comps = vars(obj)["components_"]
    n_features = vars(obj)["n_features_in_"]
    shape = getattr(comps, "shape", None)
    if not isinstance(shape, tuple) or len(shape) != 2:
        _fail(path, obj, f"components_ has shape {shape}; expected 2 dimensions")
    if shape[1] != n_features or shape[0] > max(int(n_features), _MAX_COMPONENTS):
        _fail(path, obj, f"components_ has shape {shape}; expected (k, {n_features}) with k "
                         f"at most {max(int(n_features), _MAX_COMPONENTS)}")


def _check_rule_strings(obj: Any, path: str) -> None:
    """Rules of mllife's rule models are parsed again in the closed rule language
    (never evaluated as code): a file may have rewritten them."""
    from .._errors import InputError
    from ..baselines._rules import _check_rules, _RuleModel

    if not isinstance(obj, _RuleModel):
        return
    if callable(obj.rules):  # saving refuses them: a file that holds one was crafted
        _fail(path, obj, "its rules are a callable; a bundle never holds code")
    try:
        _check_rules(obj.rules)
    except InputError as exc:
        _fail(path, obj, f"a rule is not in the rule language ({str(exc)[:300]})")


def _array_items(arr: np.ndarray, path: str) -> Iterator[tuple[Any, str]]:
    flat = arr.ravel()
    for i, item in enumerate(flat):
        if item is None or isinstance(item, _ATOMS):
            continue
        index = np.unravel_index(i, arr.shape) if arr.ndim != 1 else (i,)
        yield item, f"{path}[{', '.join(str(int(j)) for j in index)}]"


# --------------------------------------------------------------------- helpers
def _where(mask: np.ndarray) -> int | None:
    """The first index where ``mask`` holds, or None."""
    return int(np.flatnonzero(mask)[0]) if mask.any() else None


def _int_array(obj: Any, path: str, owner: Any, name: str, ndim: int = 1) -> np.ndarray:
    """``obj`` as an integer ndarray of ``ndim`` dimensions, or an IntegrityError."""
    if not isinstance(obj, np.ndarray) or obj.dtype.kind not in "iu" or obj.ndim != ndim:
        what = f"{obj.dtype} array of {obj.ndim} dimensions" if isinstance(obj, np.ndarray) \
            else type(obj).__name__
        _fail(path, owner, f"{name} is a {what}; expected a {ndim}-d integer array")
    return obj


def _real_array(obj: Any, path: str, owner: Any, name: str) -> np.ndarray:
    if not isinstance(obj, np.ndarray) or obj.dtype.kind not in "biuf":
        _fail(path, owner, f"{name} is a {type(obj).__name__}; expected a numeric array")
    return obj


def _int_attr(obj: Any, path: str, name: str, low: int = 0) -> int:
    """The integer attribute ``name`` of ``obj`` (required), at least ``low``."""
    value = vars(obj).get(name, getattr(type(obj), name, None))
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer) \
            or value < low:
        _fail(path, obj, f"{name} is {value!r}; expected an integer >= {low}")
    return int(value)


def _range_problem(values: np.ndarray, low: int, high: int, name: str) -> str | None:
    """A message when some value is outside [low, high), else None."""
    if (i := _where((values < low) | (values >= high))) is not None:
        return f"{name} {int(values.flat[i])} at position {i} is outside [{low}, {high})"
    return None


# ----------------------------------------------------------------------- trees
def _check_tree(tree: Any, path: str) -> None:
    """Structure of a ``sklearn.tree._tree.Tree``, independent of its owner."""
    n, capacity = int(tree.node_count), int(tree.capacity)
    if not 0 < n <= capacity:  # checked first: __getstate__ reads node_count nodes
        _fail(path, tree, f"node_count {n} is outside [1, capacity {capacity}]")
    n_outputs, max_n_classes, n_features = tree.n_outputs, tree.max_n_classes, tree.n_features
    if n_outputs < 1 or n_features < 1:
        _fail(path, tree, f"n_outputs {n_outputs} and n_features {n_features} must be >= 1")
    n_classes = np.asarray(tree.n_classes)
    if n_classes.shape != (n_outputs,) or n_classes.min() < 1 \
            or n_classes.max() != max_n_classes:
        _fail(path, tree, f"n_classes {n_classes.tolist()} does not match n_outputs "
                          f"{n_outputs} and max_n_classes {max_n_classes}")
    state = tree.__getstate__()
    nodes, values = state.get("nodes"), state.get("values")
    fields = ("left_child", "right_child", "feature", "threshold")
    if not isinstance(nodes, np.ndarray) or nodes.dtype.names is None \
            or not set(fields) <= set(nodes.dtype.names):
        _fail(path, tree, "unknown node layout (this scikit-learn release changed it)")
    if state.get("node_count") != n or nodes.shape != (n,):
        _fail(path, tree, f"node_count {n} does not match {nodes.shape[0]} nodes")
    expected = (n, n_outputs, max_n_classes)
    if not isinstance(values, np.ndarray) or values.shape != expected:
        shape = getattr(values, "shape", None)
        _fail(path, tree, f"values has shape {shape}; expected {expected}")
    if not 0 <= state.get("max_depth", -1) < n:
        _fail(path, tree, f"max_depth {state.get('max_depth')} is outside [0, {n})")
    left = nodes["left_child"].astype(np.int64)
    right = nodes["right_child"].astype(np.int64)
    leaf = left == -1  # any other left child makes a split node, checked below
    if (i := _where(leaf != (right == -1))) is not None:
        _fail(path, tree, f"node {i} has one child (left {left[i]}, right {right[i]}); "
                          "a leaf has none and a split node two")
    _check_children(tree, path, ~leaf, left, right)
    feature, threshold = nodes["feature"], nodes["threshold"]
    if (i := _where(~leaf & ((feature < 0) | (feature >= n_features)))) is not None:
        _fail(path, tree, f"feature index {feature[i]} of node {i} is outside "
                          f"[0, {n_features})")
    # +inf is a real threshold: the split that sends only the missing values right.
    if (i := _where(~leaf & (np.isnan(threshold) | (threshold == -np.inf)))) is not None:
        _fail(path, tree, f"threshold of node {i} is {threshold[i]}")


def _check_children(obj: Any, path: str, split: np.ndarray, left: np.ndarray,
                    right: np.ndarray) -> None:
    """Children of split nodes: in range, after their parent, one parent each."""
    n = split.size
    idx = np.arange(n)
    for side, child in (("left", left), ("right", right)):
        if (i := _where(split & ((child >= n) | (child < 0)))) is not None:
            _fail(path, obj, f"{side} child index {child[i]} of node {i} is outside [1, {n})")
        if (i := _where(split & (child <= idx))) is not None:
            _fail(path, obj, f"child index {child[i]} of node {i} is not greater than its "
                             "parent")
    parents = np.bincount(np.concatenate([left[split], right[split]]), minlength=n)
    if (j := _where(parents[1:] != 1)) is not None:
        _fail(path, obj, f"node {j + 1} has {parents[j + 1]} parents; every node but the root "
                         "has one")


def _check_tree_owner(est: Any, path: str) -> None:
    """The tree agrees with the estimator that holds it (and validates predict's input)."""
    tree = est.tree_
    n_features = _int_attr(est, path, "n_features_in_", 1)
    if tree.n_features != n_features:
        _fail(path + ".tree_", tree, f"n_features {tree.n_features} differs from the "
                                     f"estimator's n_features_in_ {n_features}")
    d = vars(est)
    if "n_outputs_" in d and tree.n_outputs != d["n_outputs_"]:
        _fail(path + ".tree_", tree, f"n_outputs {tree.n_outputs} differs from the "
                                     f"estimator's n_outputs_ {d['n_outputs_']}")
    n_classes = np.atleast_1d(np.asarray(d.get("n_classes_", 1)))
    if n_classes.dtype.kind not in "iu" or (
            "n_classes_" in d and not np.array_equal(n_classes, tree.n_classes)) or (
            "n_classes_" not in d and tree.max_n_classes != 1):
        _fail(path + ".tree_", tree, f"n_classes {np.asarray(tree.n_classes).tolist()} "
                                     "differs from the estimator's")


def _tree_of(est: Any, path: str, owner: Any) -> Any:
    sk = _sk()
    if not isinstance(est, sk.BaseDecisionTree) or not isinstance(
            vars(est).get("tree_"), sk.Tree):
        _fail(path, owner, f"{type(est).__name__} is not a fitted decision tree")
    return est.tree_


def _check_forest(forest: Any, path: str) -> None:
    """Forests call their trees with ``check_input=False`` on the forest's input."""
    n_features = _int_attr(forest, path, "n_features_in_", 1)
    estimators = forest.estimators_
    if not isinstance(estimators, list | tuple):
        _fail(path, forest, f"estimators_ is a {type(estimators).__name__}")
    for i, est in enumerate(estimators):
        tree = _tree_of(est, f"{path}.estimators_[{i}]", forest)
        if tree.n_features != n_features:
            _fail(f"{path}.estimators_[{i}].tree_", tree, f"n_features {tree.n_features} "
                  f"differs from the forest's n_features_in_ {n_features}")


def _check_bagging(bag: Any, path: str) -> None:
    """Bagging feeds ``X[:, features]`` to each estimator; isolation forests skip the
    trees' input check."""
    sk, d = _sk(), vars(bag)
    estimators, features = d["estimators_"], d.get("estimators_features_")
    n_features = _int_attr(bag, path, "n_features_in_", 1)
    if not isinstance(features, list | tuple) or len(features) != len(estimators):
        _fail(path, bag, "estimators_features_ does not list one array per estimator")
    isolation = isinstance(bag, sk.IsolationForest)
    if isolation:
        max_features = _int_attr(bag, path, "_max_features", 1)
        lengths = [d.get("_decision_path_lengths"), d.get("_average_path_length_per_tree")]
    for i, (est, feats) in enumerate(zip(estimators, features, strict=True)):
        fpath = f"{path}.estimators_features_[{i}]"
        feats = _int_array(feats, fpath, bag, "the feature array")
        problem = _range_problem(feats, 0, n_features, "feature")
        if problem:
            _fail(fpath, bag, problem)
        width = getattr(est, "n_features_in_", feats.size)
        if width != feats.size:
            _fail(f"{path}.estimators_[{i}]", est, f"n_features_in_ {width} differs from its "
                                                   f"{feats.size} bagged features")
        if not isolation:
            continue
        tree = _tree_of(est, f"{path}.estimators_[{i}]", bag)
        if tree.n_features != feats.size or (max_features == n_features
                                             and feats.size != n_features):
            _fail(f"{path}.estimators_[{i}].tree_", tree, f"n_features {tree.n_features} "
                  f"differs from the {feats.size} features the isolation forest passes")
        for name, arrays in zip(("_decision_path_lengths", "_average_path_length_per_tree"),
                                lengths, strict=True):
            if not isinstance(arrays, list | tuple) or len(arrays) != len(estimators) \
                    or np.shape(arrays[i]) != (tree.node_count,):
                _fail(path, bag, f"{name} does not hold one value per node of tree {i}")


def _check_gradient_boosting(gb: Any, path: str) -> Callable[[], None]:
    """``predict_stages`` reads the trees' raw nodes and writes column ``k`` of an array
    whose width the ``init_`` estimator decides. Returns the width check to run last."""
    n_features = _int_attr(gb, path, "n_features_in_", 1)
    n_trees = _int_attr(gb, path, "n_trees_per_iteration_", 1)
    estimators = gb.estimators_
    if not isinstance(estimators, np.ndarray) or estimators.ndim != 2 \
            or estimators.shape[1] != n_trees or estimators.shape[0] < 1:
        _fail(path, gb, f"estimators_ is not an array of shape (n_stages, {n_trees})")
    for (i, k), est in np.ndenumerate(estimators):
        tree = _tree_of(est, f"{path}.estimators_[{i}, {k}]", gb)
        if tree.n_features != n_features or tree.n_outputs != 1 or tree.max_n_classes != 1:
            _fail(f"{path}.estimators_[{i}, {k}].tree_", tree, "is not a one-output "
                  f"regression tree over the model's {n_features} features")

    def init_width() -> None:
        if isinstance(vars(gb).get("init_"), str) and gb.init_ == "zero":
            return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                raw = gb._raw_predict_init(np.zeros((1, n_features), dtype=np.float32))
        except Exception as exc:
            _fail(path, gb, f"its init_ estimator cannot predict one row ({type(exc).__name__}"
                            f": {str(exc)[:120]})")
        if np.shape(raw) != (1, n_trees):
            _fail(path, gb, f"its init_ estimator predicts {np.shape(raw)[1:]} columns; the "
                            f"trees write {n_trees}")

    return init_width


# ------------------------------------------------------ histogram gradient boosting
def _check_predictor(pred: Any, path: str, *, n_features: int | None = None,
                     categorical: np.ndarray | None = None, n_bins: int = 256) -> None:
    """Structure of a ``TreePredictor``; with its owner's context when given."""
    nodes = getattr(pred, "nodes", None)
    if not isinstance(nodes, np.ndarray) or nodes.dtype != _sk().PREDICTOR_RECORD_DTYPE \
            or nodes.ndim != 1 or nodes.size == 0:
        _fail(path, pred, "unknown node layout (this scikit-learn release changed it)")
    bitsets = []
    for name in ("raw_left_cat_bitsets", "binned_left_cat_bitsets"):
        b = getattr(pred, name, None)
        if not isinstance(b, np.ndarray) or b.dtype != np.uint32 or b.ndim != 2 \
                or b.shape[1] != 8:
            _fail(path, pred, f"{name} is not a uint32 array of shape (k, 8)")
        bitsets.append(b.shape[0])
    split = nodes["is_leaf"] == 0
    left, right = nodes["left"].astype(np.int64), nodes["right"].astype(np.int64)
    _check_children(pred, path, split, left, right)
    feature = nodes["feature_idx"]
    high = np.iinfo(np.intp).max if n_features is None else n_features
    if (i := _where(split & ((feature < 0) | (feature >= high)))) is not None:
        _fail(path, pred, f"feature index {feature[i]} of node {i} is outside [0, {high})")
    is_cat = split & (nodes["is_categorical"] != 0)
    if (i := _where(is_cat & (nodes["bitset_idx"] >= min(bitsets)))) is not None:
        _fail(path, pred, f"bitset index {nodes['bitset_idx'][i]} of node {i} is outside "
                          f"[0, {min(bitsets)})")
    numeric = split & ~is_cat
    bad = numeric & (np.isnan(nodes["num_threshold"]) | (nodes["bin_threshold"] >= n_bins))
    if (i := _where(bad)) is not None:
        _fail(path, pred, f"threshold of node {i} is NaN or its bin is outside [0, {n_bins})")
    if categorical is not None and (i := _where(
            is_cat & (categorical[np.where(is_cat, feature, 0)] == 0))) is not None:
            _fail(path, pred, f"node {i} splits feature {feature[i]} by category, which the "
                              "binner does not mark categorical")


def _check_hist_gradient_boosting(est: Any, path: str) -> list[int]:
    """Predictors, binner and preprocessor of a ``HistGradientBoosting*``; returns the
    ids of the predictors checked."""
    sk, d = _sk(), vars(est)
    if d.get("_in_fit"):
        _fail(path, est, "is marked as in the middle of fit (_in_fit)")
    n_features = _int_attr(est, path, "n_features_in_", 1)
    n_trees = _int_attr(est, path, "n_trees_per_iteration_", 1)
    if "classes_" in d and n_trees != (1 if len(est.classes_) <= 2 else len(est.classes_)):
        _fail(path, est, f"n_trees_per_iteration_ {n_trees} does not fit "
                         f"{len(est.classes_)} classes")
    if np.shape(d.get("_baseline_prediction")) != (1, n_trees):
        _fail(path, est, f"_baseline_prediction does not have shape (1, {n_trees})")
    categorical, n_bins = _check_bin_mapper(est, path, n_features)
    _check_hgb_preprocessor(est, path, n_features, int(categorical.sum()))
    predictors = d["_predictors"]
    if not isinstance(predictors, list | tuple):
        _fail(path, est, f"_predictors is a {type(predictors).__name__}")
    checked = []
    for i, stage in enumerate(predictors):
        if not isinstance(stage, list | tuple) or len(stage) != n_trees:
            _fail(f"{path}._predictors[{i}]", est, f"does not hold {n_trees} predictors")
        for k, pred in enumerate(stage):
            ppath = f"{path}._predictors[{i}][{k}]"
            if not isinstance(pred, sk.TreePredictor):
                _fail(ppath, pred, "is not a TreePredictor")
            _check_predictor(pred, ppath, n_features=n_features, categorical=categorical,
                             n_bins=n_bins)
            checked.append(id(pred))
    return checked


def _check_bin_mapper(est: Any, path: str, n_features: int) -> tuple[np.ndarray, int]:
    """The binner whose arrays predict indexes with a split's feature."""
    sk = _sk()
    bm, bpath = vars(est).get("_bin_mapper"), path + "._bin_mapper"
    if not isinstance(bm, sk._BinMapper):
        _fail(bpath, bm, "is not a fitted _BinMapper")
    n_bins = _int_attr(bm, bpath, "n_bins", 3)
    if n_bins > 256 or _int_attr(bm, bpath, "missing_values_bin_idx_") != n_bins - 1:
        _fail(bpath, bm, f"n_bins {n_bins} and missing_values_bin_idx_ disagree")
    categorical = vars(bm).get("is_categorical_")
    if not isinstance(categorical, np.ndarray) or categorical.dtype.kind not in "biu":
        _fail(bpath, bm, "is_categorical_ is not an integer array")
    non_missing = _int_array(vars(bm).get("n_bins_non_missing_"), bpath, bm,
                             "n_bins_non_missing_")
    thresholds = vars(bm).get("bin_thresholds_")
    if categorical.shape != (n_features,) or non_missing.shape != (n_features,) \
            or not isinstance(thresholds, list | tuple) or len(thresholds) != n_features:
        _fail(bpath, bm, f"is_categorical_, n_bins_non_missing_ and bin_thresholds_ do not "
                         f"all describe {n_features} features")
    problem = _range_problem(non_missing, 0, n_bins, "n_bins_non_missing_")
    if problem:
        _fail(bpath, bm, problem)
    for f, values in enumerate(thresholds):
        values = _real_array(values, f"{bpath}.bin_thresholds_[{f}]", bm, "the thresholds")
        if values.ndim != 1:
            _fail(f"{bpath}.bin_thresholds_[{f}]", bm, "is not a 1-d array")
        if categorical[f] and values.size and not (
                np.all(values == np.round(values)) and values.min() >= 0
                and values.max() < n_bins - 1):
            _fail(f"{bpath}.bin_thresholds_[{f}]", bm, "known categories are not integers in "
                                                       f"[0, {n_bins - 1})")
    try:  # what predict builds from them
        known, f_idx_map = bm.make_known_categories_bitsets()
    except Exception as exc:
        _fail(bpath, bm, f"cannot build category bitsets ({type(exc).__name__})")
    n_cat = int(np.count_nonzero(categorical))
    if known.shape != (n_cat, 8) or f_idx_map.shape != (n_features,) or (
            n_cat and f_idx_map[categorical != 0].max() >= n_cat):
        _fail(bpath, bm, "category bitsets do not match its categorical features")
    return categorical, n_bins


def _check_hgb_preprocessor(est: Any, path: str, n_features: int, n_cat: int) -> None:
    """With categorical features, predict sees the preprocessor's output: it must be the
    ordinal encoder's columns, then the others, ``n_features`` columns in all."""
    sk, d = _sk(), vars(est)
    pre, mask = d.get("_preprocessor"), d.get("is_categorical_")
    ppath = path + "._preprocessor"
    if pre is None:
        if mask is not None or n_cat:
            _fail(ppath, est, "is missing while features are categorical")
        return
    if not isinstance(pre, sk.ColumnTransformer) or getattr(pre, "n_features_in_", None) \
            != n_features:
        _fail(ppath, pre, f"is not a ColumnTransformer over {n_features} features")
    if not isinstance(mask, np.ndarray) or mask.dtype != bool or mask.shape != (n_features,) \
            or int(mask.sum()) != n_cat:
        _fail(path, est, "is_categorical_ does not match the binner's categorical features")
    seen = set()
    for entry in getattr(pre, "transformers_", ()):
        name, trans, columns = entry
        cols = np.asarray(columns)
        if name == "encoder":
            ok = isinstance(trans, sk.OrdinalEncoder) and np.array_equal(cols, mask) and \
                len(getattr(trans, "categories_", ())) == n_cat
        elif name == "numerical":
            func = getattr(trans, "func", None)
            ok = isinstance(trans, sk.FunctionTransformer) and np.array_equal(cols, ~mask) \
                and isinstance(func, functools.partial) and func.func is sk.check_array \
                and not func.args
        else:
            ok = name == "remainder" and isinstance(trans, str) and trans == "drop" \
                and not cols.astype(bool).any()
        if not ok:
            _fail(f"{ppath}.transformers_", pre, f"entry {name!r} is not what "
                                                 "HistGradientBoosting builds")
        seen.add(name)
    if not {"encoder", "numerical"} <= seen:
        _fail(f"{ppath}.transformers_", pre, "lacks the encoder or the numerical entry")


# ---------------------------------------------------------------------- sparse
def _check_sparse(m: Any, path: str) -> None:
    """Index arrays of a scipy sparse matrix or array against its shape."""
    fmt = getattr(m, "format", None)
    shape = getattr(m, "shape", None)
    if not isinstance(shape, tuple) or not shape or any(
            not isinstance(s, int | np.integer) or s < 0 or s > 2**48 for s in shape):
        _fail(path, m, f"shape {shape!r} is not a tuple of sane sizes")
    if fmt in ("dok", "lil"):
        _fail(path, m, f"{fmt} sparse containers are not accepted (no fitted model holds "
                       "one; they cannot be validated cheaply)")
    data = getattr(m, "data", None)
    if not isinstance(data, np.ndarray) or data.dtype.kind not in "biufc":
        _fail(path, m, "data is not a numeric array")
    if fmt == "coo":
        if data.ndim != 1:
            _fail(path, m, "data is not a 1-d array")
        coords = getattr(m, "coords", None) or (getattr(m, "row", None), getattr(m, "col", None))
        if len(coords) != len(shape):
            _fail(path, m, f"has {len(coords)} index arrays for {len(shape)} dimensions")
        for axis, index in enumerate(coords):
            index = _int_array(index, path, m, f"coords[{axis}]")
            problem = _range_problem(index, 0, shape[axis], f"coords[{axis}] index") \
                if index.size == data.size else f"coords[{axis}] has {index.size} entries " \
                                                f"for {data.size} values"
            if problem:
                _fail(path, m, problem)
        return
    if fmt == "dia":
        offsets = _int_array(getattr(m, "offsets", None), path, m, "offsets")
        if len(shape) != 2 or data.ndim != 2 or data.shape[0] != offsets.size \
                or np.unique(offsets).size != offsets.size:
            _fail(path, m, "data and offsets do not describe distinct diagonals")
        problem = _range_problem(offsets, 1 - shape[0], max(shape[1], 1), "offset")
        if problem:
            _fail(path, m, problem)
        return
    if fmt not in ("csr", "csc", "bsr") or len(shape) != 2:
        _fail(path, m, f"format {fmt!r} with {len(shape)} dimensions is not supported")
    if fmt == "bsr":
        if data.ndim != 3 or 0 in data.shape[1:] or shape[0] % data.shape[1] \
                or shape[1] % data.shape[2]:
            _fail(path, m, f"blocks of shape {data.shape[1:]} do not tile shape {shape}")
        n_major, n_minor = shape[0] // data.shape[1], shape[1] // data.shape[2]
    else:
        if data.ndim != 1:
            _fail(path, m, "data is not a 1-d array")
        n_major, n_minor = shape if fmt == "csr" else shape[::-1]
    indptr = _int_array(getattr(m, "indptr", None), path, m, "indptr")
    indices = _int_array(getattr(m, "indices", None), path, m, "indices")
    if indptr.size != n_major + 1:
        _fail(path, m, f"indptr has {indptr.size} entries; expected {n_major + 1}")
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0):
        _fail(path, m, "indptr does not start at 0 and never decrease")
    if indptr[-1] != indices.size or indices.size != data.shape[0]:
        _fail(path, m, f"indptr ends at {indptr[-1]} but there are {indices.size} indices "
                       f"and {data.shape[0]} values")
    problem = _range_problem(indices, 0, n_minor, "index")
    if problem:
        _fail(path, m, problem)
    # Validated once: from now on nothing may write into them (the file could have
    # shared them with an object that writes, such as a ufunc's out=).
    for index in (indptr, indices, getattr(m, "indptr", None), getattr(m, "indices", None)):
        if isinstance(index, np.ndarray) and index.flags.writeable:
            index.flags.writeable = False


# ---------------------------------------------------------------------- libsvm
def _check_libsvm(est: Any, path: str) -> None:
    """The arrays ``SVC.predict`` hands to libsvm, which sizes each from another."""
    import scipy.sparse as sp

    sk, d = _sk(), vars(est)
    missing = [name for name in (*_SVM_STATE, "_gamma", "shape_fit_", "_sparse") if name not in d]
    if missing:
        _fail(path, est, f"lacks {missing} that predict needs")
    impl = getattr(est, "_impl", None)
    if impl not in sk.LIBSVM_IMPL:
        _fail(path, est, f"libsvm type {impl!r} is unknown")
    kernel = getattr(est, "kernel", None)
    if not isinstance(kernel, str) or kernel not in _SVM_KERNELS:
        _fail(path, est, f"kernel {kernel!r} is not one of {sorted(_SVM_KERNELS)} (a callable "
                         "kernel is code, not state)")
    sparse, sv = d["_sparse"], d["support_vectors_"]
    if not isinstance(sparse, bool | np.bool_) or bool(sparse) != sp.issparse(sv):
        _fail(path, est, "_sparse does not match the type of support_vectors_")
    if sparse and (kernel == "precomputed" or getattr(sv, "format", None) != "csr"):
        _fail(path, est, "sparse support vectors must be CSR, with a kernel other than "
                         "'precomputed'")
    if not sparse and (not isinstance(sv, np.ndarray) or sv.ndim != 2):
        _fail(path, est, "support_vectors_ is not a 2-d array")
    n_support = _int_array(d["_n_support"], path, est, "_n_support")
    support = _int_array(d["support_"], path, est, "support_")
    nr_class = n_support.size
    pairs = nr_class * (nr_class - 1) // 2
    if n_support.size and n_support.min() < 0:
        _fail(path, est, "_n_support holds a negative count")
    if sk.LIBSVM_IMPL.index(impl) < 2:  # classification: one count per class
        n_classes = len(getattr(est, "classes_", ()))
        if nr_class != n_classes or nr_class < 2:
            _fail(path, est, f"_n_support has {nr_class} counts for {n_classes} classes")
        n_sv = int(n_support.sum())
    else:  # regression and one-class: libsvm's two-class convention
        if nr_class != 2:
            _fail(path, est, f"_n_support has {nr_class} entries; expected 2")
        n_sv = int(n_support[0])
    rows = sv.shape[0] if sparse or kernel != "precomputed" or sv.size else n_sv
    if not (n_sv == support.size == rows):
        _fail(path, est, f"the support-vector counts sum to {n_sv} but there are "
                         f"{support.size} support indices and {rows} support vectors")
    n_features = _int_attr(est, path, "n_features_in_", 1)
    if kernel == "precomputed":
        shape_fit = d["shape_fit_"]
        if not isinstance(shape_fit, tuple) or not shape_fit or shape_fit[0] != n_features:
            _fail(path, est, f"shape_fit_ {shape_fit!r} does not match n_features_in_")
        problem = _range_problem(support, 0, n_features, "support index")
        if problem:
            _fail(path, est, problem)
    elif sv.shape[1] != n_features:
        _fail(path, est, f"support vectors have shape {sv.shape}; expected (n, {n_features})")
    dual = d["_dual_coef_"]
    size = dual.data.size if sparse and sp.issparse(dual) else np.size(dual)
    if np.shape(dual) != (nr_class - 1, n_sv) or size != (nr_class - 1) * n_sv \
            or sp.issparse(dual) != bool(sparse):
        _fail(path, est, f"_dual_coef_ has shape {np.shape(dual)} with {size} values; "
                         f"expected ({nr_class - 1}, {n_sv}), all stored")
    if np.shape(d["_intercept_"]) != (pairs,):
        _fail(path, est, f"_intercept_ has shape {np.shape(d['_intercept_'])}; expected "
                         f"({pairs},)")
    prob_a, prob_b = np.shape(d["_probA"]), np.shape(d["_probB"])
    # The sparse predict copies ``pairs`` values from _probA when this flag is set.
    probability = getattr(est, "_effective_probability", getattr(est, "probability", False))
    if sparse and not isinstance(probability, bool | np.bool_):
        _fail(path, est, f"probability is {probability!r}; expected a boolean")
    if prob_a != prob_b or prob_a not in ((0,), (pairs,)) or (
            sparse and probability and prob_a != (pairs,)):
        _fail(path, est, f"_probA/_probB have shapes {prob_a}/{prob_b}; expected (0,) or "
                         f"({pairs},)")
    for name in ("_gamma", "coef0"):
        value = getattr(est, name, None)
        if not isinstance(value, int | float | np.integer | np.floating) \
                or not math.isfinite(value):
            _fail(path, est, f"{name} is {value!r}; expected a finite number")
    degree = getattr(est, "degree", None)
    if not isinstance(degree, int | np.integer) or not 0 <= degree < 2**31:
        _fail(path, est, f"degree is {degree!r}; expected an integer in [0, 2**31)")


# ------------------------------------------------------------ neighbours, k-means
def _check_metric(metric: Any, path: str, n_features: int | None) -> None:
    """A ``DistanceMetric`` whose arrays the tree reads once per feature."""
    name = type(metric).__name__.rstrip("0123456789")
    if type(metric).__module__ != "sklearn.metrics._dist_metrics" or name == "PyFuncDistance":
        _fail(path, metric, "is not one of scikit-learn's built-in distance metrics (a "
                            "user-defined distance is code, not state)")
    p, vec, mat = metric.__getstate__()[:3]
    if not (p > 0 and (math.isfinite(p) or name == "ChebyshevDistance")):
        _fail(path, metric, f"p is {p}")
    if n_features is None:
        return
    sizes = {"MinkowskiDistance": vec.shape in ((0,), (n_features,)),
             "SEuclideanDistance": vec.shape == (n_features,),
             "MahalanobisDistance": mat.shape == (n_features, n_features)}
    if not sizes.get(name, True):
        _fail(path, metric, f"its weights do not have {n_features} features")


def _check_binary_tree(tree: Any, path: str) -> None:
    """Rebuild a KD-tree or ball tree from its own data and compare every array."""
    state = tree.__getstate__()
    data, sample_weight, metric = state[0], state[12], state[11]
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.size == 0:
        _fail(path, tree, "data is not a non-empty 2-d array")
    _check_metric(metric, path + ".dist_metric", data.shape[1])
    if sample_weight is not None and np.shape(sample_weight) != (data.shape[0],):
        _fail(path, tree, f"sample_weight does not have {data.shape[0]} entries")
    try:
        fresh = type(tree)(data, leaf_size=state[4], metric=metric,
                           sample_weight=sample_weight).__getstate__()
    except Exception as exc:
        _fail(path, tree, f"cannot be rebuilt from its data ({type(exc).__name__}: "
                          f"{str(exc)[:120]})")
    for i, name in ((1, "idx_array"), (2, "node_data"), (3, "node_bounds"), (5, "n_levels"),
                    (6, "n_nodes")):
        if not np.array_equal(state[i], fresh[i]):
            _fail(path, tree, f"{name} differs from the tree rebuilt from its own data")
    # From now on the tree reads only arrays nothing else in the file can reach (the
    # file could have shared its index arrays with another object).
    tree.__setstate__(tuple(np.array(x, copy=True) if isinstance(x, np.ndarray) else x
                            for x in (*fresh[:11], metric, *fresh[12:])))


def _check_neighbors(est: Any, path: str) -> None:
    """What ``kneighbors``/``predict`` index with: the tree, ``_fit_X``, ``_y``."""
    sk, d = _sk(), vars(est)
    method = d["_fit_method"]
    kinds = {"brute": type(None), "kd_tree": sk.KDTree, "ball_tree": sk.BallTree}
    if method not in kinds or not isinstance(d.get("_tree"), kinds[method]):
        _fail(path, est, f"_fit_method {method!r} does not match its _tree")
    fit_x = d.get("_fit_X")
    shape = getattr(fit_x, "shape", None)
    n_samples = _int_attr(est, path, "n_samples_fit_", 1)
    if not isinstance(shape, tuple) or len(shape) != 2 or shape[0] != n_samples or (
            "n_features_in_" in d and shape[1] != d["n_features_in_"]):
        _fail(path, est, f"_fit_X has shape {shape}; expected ({n_samples}, n_features_in_)")
    if method != "brute" and not np.array_equal(d["_tree"].get_arrays()[0], fit_x):
        _fail(path, est, "_fit_X differs from the data of its tree")
    metric = d.get("effective_metric_")
    if metric in ("minkowski", "seuclidean", "mahalanobis"):  # brute force builds it per call
        try:
            built = sk.DistanceMetric.get_metric(metric, **(d.get("effective_metric_params_")
                                                            or {}))
        except Exception as exc:
            _fail(path, est, f"effective_metric_params_ do not make a {metric} distance "
                             f"({type(exc).__name__})")
        _check_metric(built, path + ".effective_metric_params_", shape[1])
    y = d.get("_y")
    if y is None:
        return
    if np.shape(y)[:1] != (n_samples,):
        _fail(path, est, f"_y has shape {np.shape(y)}; expected ({n_samples}, ...)")
    if "classes_" not in d:
        return
    y = _int_array(y, path, est, "_y", ndim=2 if np.ndim(y) == 2 else 1)
    classes = d["classes_"] if y.ndim == 2 else [d["classes_"]]
    labels = y if y.ndim == 2 else y[:, None]
    if len(classes) != labels.shape[1]:
        _fail(path, est, "classes_ does not list the classes of every output")
    for k, cls in enumerate(classes):
        problem = _range_problem(labels[:, k], 0, len(cls), "encoded label")
        if problem:
            _fail(path + "._y", est, problem)


def _check_kernel_density(est: Any, path: str) -> None:
    sk = _sk()
    if not isinstance(est.tree_, sk.KDTree | sk.BallTree):
        _fail(path, est, "tree_ is not a KDTree or BallTree")
    bandwidth = vars(est).get("bandwidth_", getattr(est, "bandwidth", None))
    if not isinstance(bandwidth, int | float | np.integer | np.floating) or not (
            0 < bandwidth < math.inf):
        _fail(path, est, f"bandwidth is {bandwidth!r}")


def _check_kmeans(est: Any, path: str) -> None:
    """k-means' compiled predict reads ``n_features`` values of every centre."""
    sk, d = _sk(), vars(est)
    n_features = _int_attr(est, path, "n_features_in_", 1)
    centers = d["cluster_centers_"]
    if not isinstance(centers, np.ndarray) or centers.dtype.kind != "f" or centers.ndim != 2 \
            or centers.shape[0] < 1 or centers.shape[1] != n_features:
        _fail(path, est, f"cluster_centers_ has shape {np.shape(centers)}; expected "
                         f"(n_clusters, {n_features}) floats")
    if not isinstance(est, sk.BisectingKMeans):
        return
    if "_X_mean" in d and np.shape(d["_X_mean"]) != (n_features,):
        _fail(path, est, f"_X_mean does not have {n_features} values")
    stack, seen = [d.get("_bisecting_tree")], set[int]()
    while stack:  # predict stacks the two children's centres of every split node
        node = stack.pop()
        if id(node) in seen or len(seen) > MAX_OBJECTS:
            _fail(path + "._bisecting_tree", est, "is not a tree")
        seen.add(id(node))
        center, left, right = (getattr(node, a, 0) for a in ("center", "left", "right"))
        if not isinstance(center, np.ndarray) or center.dtype.kind != "f" \
                or center.shape != (n_features,) or (left is None) != (right is None):
            _fail(path + "._bisecting_tree", est, "a node's centre or children are malformed")
        if left is not None:
            stack.extend((left, right))


def _check_coef(est: Any, path: str) -> None:
    """A fitted ``coef_`` multiplies predict's input: its last dimension is the input's."""
    coef, n_features = est.coef_, vars(est)["n_features_in_"]
    shape = np.shape(coef) if isinstance(coef, np.ndarray) else getattr(coef, "shape", None)
    if isinstance(shape, tuple) and shape and shape[-1] != n_features:
        _fail(path, est, f"coef_ has shape {shape}; its last dimension should be "
                         f"n_features_in_ {n_features}")


# ------------------------------------------------------- encoders, vocabularies
def _check_encoder(est: Any, path: str) -> None:
    """One-hot encoding writes sparse column indices computed from ``categories_``
    (found by binary search for numbers) and the derived per-feature output counts."""
    cats = vars(est)["categories_"]
    if not isinstance(cats, list | tuple) or len(cats) != vars(est).get("n_features_in_",
                                                                       len(cats)):
        _fail(path, est, "categories_ does not hold one array per feature")
    for i, c in enumerate(cats):
        if not isinstance(c, np.ndarray) or c.ndim != 1:
            _fail(f"{path}.categories_[{i}]", est, "is not a 1-d array")
        if c.dtype.kind in "biuf":  # searched with np.searchsorted: sorted, NaN last
            nan = np.isnan(c) if c.dtype.kind == "f" else np.zeros(c.size, dtype=bool)
            if nan[:-1].any() or np.any(np.diff(c[~nan]) <= 0):
                _fail(f"{path}.categories_[{i}]", est, "numeric categories are not sorted "
                                                       "and unique")
    outs = vars(est).get("_n_features_outs")
    if outs is None:
        return
    if len(outs) != len(cats):
        _fail(path, est, "_n_features_outs does not hold one count per feature")
    mappings = vars(est).get("_default_to_infrequent_mappings") \
        if vars(est).get("_infrequent_enabled") else None
    drops = vars(est).get("_drop_idx_after_grouping")
    for i, c in enumerate(cats):
        codes = np.arange(len(c))  # the codes a value of feature i can take, in order
        if mappings is not None and mappings[i] is not None:
            codes = _int_array(mappings[i], f"{path}._default_to_infrequent_mappings[{i}]",
                               est, "the mapping")
            if codes.size != len(c):
                _fail(path, est, f"the infrequent mapping of feature {i} does not cover its "
                                 "categories")
        if drops is not None and drops[i] is not None:
            codes = codes[codes != drops[i]]
            codes = codes - (codes > drops[i])
        problem = _range_problem(codes, 0, int(outs[i]), "output column")
        if problem:
            _fail(path, est, f"feature {i}: {problem}")
        if int(outs[i]) != (int(codes.max()) + 1 if codes.size else 0):
            _fail(path, est, f"feature {i}: {int(outs[i])} output columns for "
                             f"{int(codes.max()) + 1 if codes.size else 0} codes")


def _check_vocabulary(est: Any, path: str) -> None:
    """Text and dict vectorisers write ``vocabulary_[token]`` as a sparse column index
    into a matrix ``len(vocabulary_)`` wide."""
    vocab = vars(est)["vocabulary_"]
    if vocab is None:
        return
    if type(vocab) is not dict:  # a defaultdict would grow with every unseen token
        _fail(path, est, f"vocabulary_ is a {type(vocab).__name__}, not a plain dict")
    columns = np.array(list(vocab.values()))
    if columns.size and (columns.dtype.kind not in "iu" or columns.ndim != 1
                         or columns.min() < 0 or columns.max() >= len(vocab)
                         or np.unique(columns).size != columns.size):
        _fail(path, est, f"vocabulary_ does not map its {len(vocab)} tokens to distinct "
                         f"columns in [0, {len(vocab)})")
