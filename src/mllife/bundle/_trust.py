"""Which types a bundle may contain: the loader's trust list, never the file's.

``skops.io.get_untrusted_types`` lists every type in a skops payload beyond
skops' own defaults *without importing anything*. This module decides which of
those the loader approves, and only those are passed to ``skops.io.loads``.

The trust list is a set of exact ``module.qualname`` names, each built from a
class object the loader imported itself (never a pattern over a module, never
a name the file chose), and each checked to resolve back to that very object:

- the estimator classes of scikit-learn (``sklearn.utils.all_estimators``,
  which ``skops.io`` has already imported) and of mllife
  (:func:`mllife.all_estimators` plus the preprocessor's own steps); skops
  rebuilds an estimator from its state, never by calling it;
- a short list of internal types fitted models hold (tree structures,
  gradient-boosting predictors and binners, loss and link objects, numpy
  dtypes and random generators, scipy sparse containers, column selectors);
- the types the caller adds with ``trusted=``.

No function is trusted by default, not even a numpy ufunc (pure maths, but
trusting code stays the caller's decision): a bundle whose model holds a
function (``FunctionTransformer(np.log1p)``, one of your own) loads only when
the caller names it, by full name (``"numpy.log1p"``) or as the object. A
numpy or ``scipy.special`` ufunc is rebuilt by a lookup in a module already
imported (nothing runs), so its refusal waits until the loaded model's
structural state has been checked, and comes before any check that runs
estimator code (gradient boosting's ``init_`` predicting one row would call
it): a file that hides a method behind a ufunc, puts one anywhere but a
``FunctionTransformer``'s ``func`` / ``inverse_func``, or writes into the
model with ``out=``, is reported as tampered, never offered to ``trusted=``. Checking a name never imports a module: a name that is not in the
list is refused as it is. Trusted numeric state (tree nodes, sparse indices)
is then validated structurally by :mod:`mllife.bundle._state` before anything
predicts.

Trusting a user's class is the caller's decision alone: the refusal names
each type ready to paste into ``load_bundle(path, trusted=[...])`` and says
why (the file names whatever it likes; loading a class imports its module).
A trusted class must be importable where the bundle is loaded; one the
process cannot find (its package is not installed, or it was defined in the
``__main__`` of another process: a script or a notebook) is a
:class:`~mllife.ModelError` saying so, never a raw ``ImportError`` or
``AttributeError``.
"""

from __future__ import annotations

import functools
import importlib
import re
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from .._errors import InputError, IntegrityError, ModelError, UntrustedTypeError
from ._payload import read_payload

#: Modules whose names in a payload mean the file tries to run code. The refusal
#: for these never suggests ``trusted=``: the file is hostile.
_HOSTILE_MODULES = frozenset({
    "builtins", "os", "posix", "nt", "subprocess", "importlib", "sys", "shutil", "socket",
    "pickle", "marshal", "ctypes", "runpy", "code", "codeop", "pty", "operator", "functools",
    "io", "pathlib", "tempfile", "signal", "multiprocessing", "threading", "asyncio",
    "webbrowser", "urllib", "http", "ftplib", "smtplib", "telnetlib", "glob", "inspect",
    "types", "gc", "platform", "sysconfig", "site", "pydoc", "timeit", "trace", "pdb",
    "joblib", "cloudpickle", "dill", "numpy.lib", "numpy.f2py", "numpy.distutils",
    "numpy.testing", "numpy.ctypeslib", "pandas.io", "pytest", "_pytest", "setuptools",
    "distutils", "pip", "pkgutil", "zipimport", "logging.config", "profile", "cProfile",
    "doctest", "bdb", "ensurepip", "venv", "compileall", "py_compile", "zipapp", "copyreg",
    "sqlite3", "shelve", "dbm", "mmap", "zipfile", "tarfile", "xmlrpc", "socketserver", "ssl",
    "select", "selectors", "fcntl", "resource", "atexit", "concurrent", "antigravity", "this",
    "turtle", "tkinter", "idlelib",
})
#: Names of functions that run code or touch files, in whatever module a file puts them.
_HOSTILE_NAMES = frozenset({
    "eval", "exec", "system", "popen", "spawn", "call", "getattr", "setattr", "delattr",
    "compile", "open", "load", "loads", "save", "savez", "fromfile", "tofile", "memmap",
    "loadtxt", "savetxt", "genfromtxt", "fromregex", "import_module", "run", "Popen",
    "check_output", "remove", "unlink", "rmtree", "rename", "chmod", "execv", "execve",
    "fork", "kill", "input", "breakpoint", "vars", "globals", "locals", "methodcaller",
    "attrgetter", "itemgetter", "partial", "reduce", "dumps", "dump", "check_call",
    "getoutput", "getstatusoutput", "resolve_name", "read_pickle", "to_pickle", "dlopen",
    "load_library", "fork_exec", "urlopen", "urlretrieve", "makedirs", "mkdir", "rmdir",
    "removedirs", "symlink", "truncate", "write_text", "write_bytes",
})
_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")
#: The longest type name a refusal shows whole (a file may name types of any length).
_MAX_NAME = 200
#: ``"name (rebuilt by Loader)"``: a listed type that a file stores in a way no model does.
_REBUILT = re.compile(r"(?P<name>.*) \(rebuilt by (?P<loader>[^()]*)\)", re.DOTALL)


def full_name(obj: Any) -> str:
    """``module.qualname`` of a class or function."""
    return f"{obj.__module__}.{obj.__qualname__}"


def _resolves_to(name: str, obj: Any) -> bool:
    """Whether ``name`` names ``obj`` exactly, through the module it was defined in
    (already imported: nothing is imported here)."""
    module_name, _, attr = name.rpartition(".")
    module = sys.modules.get(module_name)
    return module is not None and getattr(module, attr, None) is obj


def _internal_types() -> list[type]:
    """Classes that fitted scikit-learn, numpy and scipy objects hold, imported here."""
    import collections

    import numpy as np
    import scipy.sparse as sp
    from sklearn.calibration import _CalibratedClassifier, _SigmoidCalibration
    from sklearn.compose import make_column_selector
    from sklearn.ensemble._hist_gradient_boosting.binning import _BinMapper
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor
    from sklearn.neighbors import BallTree, KDTree
    from sklearn.tree._tree import Tree
    from sklearn.utils import Bunch

    found: list[type] = [
        collections.OrderedDict, slice, np.dtype, np.random.Generator, np.random.RandomState,
        np.random.SeedSequence, _CalibratedClassifier, _SigmoidCalibration, make_column_selector,
        _BinMapper, TreePredictor, BallTree, KDTree, Tree, Bunch,
    ]
    found += [cls for cls in vars(np.random).values()
              if isinstance(cls, type) and issubclass(cls, np.random.BitGenerator)
              and cls is not np.random.BitGenerator]
    found += [cls for cls in vars(np.dtypes).values()
              if isinstance(cls, type) and issubclass(cls, np.dtype)]
    # Only the formats whose structure _state validates (no bsr/dia/dok/lil).
    found += [sp.csr_matrix, sp.csc_matrix, sp.coo_matrix]
    found += [getattr(sp, n) for n in ("csr_array", "csc_array", "coo_array") if hasattr(sp, n)]
    try:  # scikit-learn >= 1.6 keeps a ColumnTransformer's remainder columns in this list
        from sklearn.compose._column_transformer import _RemainderColsList
        found.append(_RemainderColsList)
    except ImportError:  # pragma: no cover - depends on the scikit-learn version
        pass
    from sklearn._loss import link, loss

    for module, base in ((loss, loss.BaseLoss), (link, link.BaseLink)):
        found += [cls for cls in vars(module).values() if isinstance(cls, type)
                  and issubclass(cls, base) and cls.__module__ == module.__name__]
    found.append(link.Interval)
    try:  # bisecting k-means keeps its tree of centres in this private class
        from sklearn.cluster._bisect_k_means import _BisectingTree
        found.append(_BisectingTree)
    except ImportError:  # pragma: no cover - depends on the scikit-learn version
        pass
    from sklearn.metrics import _dist_metrics as metrics  # neighbour trees hold one

    # Only metrics without arrays of their own (a weight vector or a matrix would have to
    # be validated against the data's width): Euclidean, Manhattan, Chebyshev.
    found += [getattr(metrics, f"{name}Distance{bits}") for name in
              ("Euclidean", "Manhattan", "Chebyshev") for bits in ("64", "32")
              if hasattr(metrics, f"{name}Distance{bits}")]
    from sklearn.linear_model import _sgd_fast  # SGD models keep their loss object

    found += [cls for name, cls in vars(_sgd_fast).items() if isinstance(cls, type)
              and name in {"ModifiedHuber", "Hinge", "SquaredHinge", "EpsilonInsensitive",
                           "SquaredEpsilonInsensitive"}]
    from sklearn._loss import _loss as compiled  # the Cython losses GB models hold

    # (scikit-learn 1.6's Cython build names their module "_loss", 1.7+ the full path;
    # either way the name must resolve to the class itself to enter the list)
    found += [cls for cls in vars(compiled).values() if isinstance(cls, type)
              and cls.__name__.startswith("Cy") and cls.__module__ in (compiled.__name__,
                                                                      "_loss")]
    return found


def _mllife_types() -> list[type]:
    """mllife's estimator classes, and the steps its preprocessor builds."""
    from .. import all_estimators
    from ..features._casts import AsFloat, AsText
    from ..features._preprocessor import Preprocessor

    return [cls for _, cls in all_estimators()] + [Preprocessor, AsFloat, AsText]


@functools.cache
def default_trust_list() -> Mapping[str, type]:
    """The loader's own trust list: exact ``module.qualname`` → the class object.

    Built once per process from classes imported by the loader; every entry
    resolves, through its defining module, to the object recorded.
    """
    import numpy as np
    from sklearn.utils import all_estimators

    classes = [cls for _, cls in all_estimators()] + _internal_types() + _mllife_types()
    table = {full_name(cls): cls for cls in classes if _resolves_to(full_name(cls), cls)}
    for cls in classes:  # skops names bit generators by their public path
        alias = f"numpy.random.{cls.__name__}"
        if issubclass(cls, np.random.BitGenerator) and _resolves_to(alias, cls):
            table[alias] = cls
    return MappingProxyType(table)


def approves(name: str) -> bool:
    """Whether the loader's own trust list accepts the type ``name`` (no import)."""
    return isinstance(name, str) and name in default_trust_list()


def _function_names(func: Any) -> set[str]:
    """The full names under which a loader finds the function ``func`` itself: its
    module and name (a numpy ufunc: ``numpy.log1p``), or, for a ufunc that names no
    module (scipy's), every imported module whose namespace holds it. Empty for a
    function defined inside another function or a class (no loader finds it)."""
    name = getattr(func, "__name__", None)
    if not isinstance(name, str) or getattr(func, "__qualname__", name) != name:
        return set()
    module_name = getattr(func, "__module__", None)
    if isinstance(module_name, str):
        modules = [module_name]
    else:  # only namespaces are read: no module's __getattr__ runs
        modules = [m for m, module in list(sys.modules.items())
                   if isinstance(module, types.ModuleType) and m not in _MAIN_MODULES
                   and vars(module).get(name) is func]
    return {f"{m}.{name}" for m in modules if _resolves_to(f"{m}.{name}", func)}


def type_names(trusted: Any) -> set[str]:
    """Full names (``module.Class``) of the caller's extra trusted types and functions.

    Raises
    ------
    InputError
        When ``trusted`` is not a type, a function, a name, or an iterable of them,
        or names a function no loader could find by name.
    """
    import numpy as np

    expected = ("a type or a function (a numpy ufunc), a full type name "
                "('package.module.Class') or a list of them")
    if trusted is None:
        return set()
    if isinstance(trusted, str | type):
        trusted = [trusted]
    if isinstance(trusted, bytes | Mapping) or not isinstance(trusted, Iterable):
        raise InputError(f"trusted is a {type(trusted).__name__}", expected=expected)
    names = set()
    for item in trusted:
        if isinstance(item, str):
            if not _NAME.fullmatch(item):
                raise InputError(f"trusted holds {item[:80]!r}, not a full type name",
                                 expected=expected)
            names.add(item)
        elif isinstance(item, type):
            names.add(full_name(item))
        elif isinstance(item, np.ufunc | types.FunctionType):
            found = _function_names(item)
            if not found:
                raise InputError(
                    f"trusted holds the function {_clean(repr(item), 80)}, which no loader "
                    "can find by its name (defined inside a function or a class)",
                    expected=expected)
            names |= found
        else:
            raise InputError(f"trusted holds a {type(item).__name__}", expected=expected)
    return names


#: The module a script or notebook runs as (and its name in multiprocessing children).
_MAIN_MODULES = ("__main__", "__mp_main__")


def _in_main(name: str) -> bool:
    """Whether ``name`` is a class or function defined in a script or notebook."""
    return name.split(".", 1)[0] in _MAIN_MODULES and name.count(".") == 1


def _well_formed(name: str) -> bool:
    """Whether a Python class or function can have ``name`` (dotted identifiers, printable,
    of a length a refusal can show). Anything else in a file was written by hand."""
    return (len(name) <= _MAX_NAME and name.isprintable() and "." in name
            and all(part.isidentifier() for part in name.split(".")))


def _clean(text: str, limit: int = 160) -> str:
    """``text`` cut to ``limit`` characters, control characters escaped (a file's
    text never reaches a terminal raw)."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit])


def _shown(name: str) -> str:
    """``name`` as a message may show it: as it is when well formed, else escaped and cut."""
    if _well_formed(name):
        return name
    return repr(name[:60]) + ("..." if len(name) > 60 else "")


def _main_alias(name: str) -> bool:
    """Whether ``__main__.X`` is, in this process, something the script imported rather
    than defined (a module, ``from subprocess import check_call``): no serialiser
    writes such a name, since skops records where a class or function is defined.
    Only the namespace of the already running ``__main__`` is read; nothing runs."""
    module_name, _, attr = name.partition(".")
    module = sys.modules.get(module_name)
    if not isinstance(module, types.ModuleType):
        return False
    found = vars(module).get(attr)
    if found is None:
        return False
    if issubclass(type(found), type):
        defined = vars(found).get("__module__")
    elif type(found) is types.FunctionType:
        defined = found.__module__
    else:  # a module, a builtin function, an instance: not a script's class or function
        return True
    return defined not in _MAIN_MODULES


def _is_hostile(name: str) -> bool:
    if not _well_formed(name):
        return True
    parts = name.split(".")
    prefixes = {".".join(parts[:i]) for i in range(1, len(parts))}
    # Python's own private C modules (_posixsubprocess, _ctypes, _pickle, _io...): no
    # fitted model names them, and they reach the operating system.
    if parts[0].startswith("_") and parts[0] in sys.stdlib_module_names:
        return True
    # A script's or notebook's own class (``__main__.LogRatio``) is not hostile by its
    # module name alone; what it names is judged like any other name, and it must be
    # the script's own, not something the script imported.
    if _in_main(name) and _main_alias(name):
        return True
    named = parts[1:] if _in_main(name) else parts
    return bool(prefixes & _HOSTILE_MODULES) or any(
        p.startswith("__") or p in _HOSTILE_NAMES for p in named)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def refusal_message(refused: list[str]) -> str:
    """Why the types are refused, and the exact call that trusts them.

    Hostile names are never offered to ``trusted=``; neither is a type of the
    loader's own list that the file stores in a way no fitted model does
    (``"name (rebuilt by Loader)"``). Every other name is offered as it must be
    written, with why the choice is the caller's.
    """
    rebuilt = {n: _REBUILT.fullmatch(n) for n in refused}
    odd = [f"{_shown(m['name'])} (rebuilt by {_clean(m['loader'], 40)})"
           for m in rebuilt.values() if m is not None]
    plain = [n for n, m in rebuilt.items() if m is None]
    hostile = [n for n in plain if _is_hostile(n)]
    if hostile:
        malformed = any(not _well_formed(n) for n in hostile)
        return (f"model.skops asks for {', '.join(_shown(n) for n in hostile[:10])}, which "
                "can run code or reach the operating system"
                f"{' (or are no name a Python class can have)' if malformed else ''}"
                ": no fitted model needs them, so the file is hostile (crafted, or tampered "
                "with); nothing was loaded or run. Do not load it, and do not add these "
                "names to trusted=")
    names = plain[:20]
    one = len(names) == 1
    text = (f"model.skops holds {_plural(len(refused), 'type')} outside the loader's trust "
            f"list: {', '.join(names + odd[:20 - len(names)])}; nothing was loaded or "
            "imported.")
    if odd:
        text += (f" {', '.join(odd[:10])}: rebuilt by a loader no fitted model uses for "
                 f"{'it' if len(odd) == 1 else 'them'}, so the file was crafted or edited; "
                 f"do not add {'this name' if len(odd) == 1 else 'these names'} to trusted=.")
    if names:
        text += (f" If you wrote or reviewed {'this class' if one else 'these classes'}, "
                 f"load with load_bundle(path, trusted={names!r}). That decision is yours, "
                 "never the file's: a bundle can name any type it likes, and loading a "
                 "type runs its code (its module is imported and the object is rebuilt "
                 "from the file's state), so mllife never infers trust from the file. "
                 f"{'It' if one else 'They'} must be importable where the bundle is loaded.")
    main = [n for n in names if _in_main(n)]
    if main:
        here = "" if _unresolved(main) != main else ", and this process's does not"
        text += (f" {', '.join(main)} {'was' if len(main) == 1 else 'were'} defined in a "
                 f"script or notebook (its __main__): {'it' if len(main) == 1 else 'each'} "
                 "loads only in a process whose "
                 f"__main__ defines the same name{here}. To serve the model, move the class "
                 "into an importable module of your package (mypkg/features.py), fit and "
                 f"save again, and trust its full name: trusted={_moved(main)}.")
    return text


def _missing_code_message(names: list[str], reason: str = "") -> str:
    """Why trusted types could not be rebuilt here, and what to do about it."""
    main = [n for n in names if _in_main(n)]
    other = [n for n in names if not _in_main(n)]
    parts = []
    if main:
        parts.append(
            f"model.skops needs {', '.join(main[:10])}, trusted by the caller but defined in "
            "the __main__ of another process (the script or notebook that saved the "
            "model); this process's __main__ does not define "
            f"{'it' if len(main) == 1 else 'them'}, so nothing was loaded. Move the class "
            "into an importable module of your package (mypkg/features.py), import it "
            "from there where you train, save the bundle again, and load it with its "
            f"full name, trusted={_moved(main)}: a serving process then finds it.")
    if other:
        why = f" ({reason})" if reason else ""
        parts.append(
            f"model.skops needs {', '.join(other[:10])}, trusted by the caller but not "
            f"importable in this process{why}, so nothing was loaded. Install the package "
            "that defines it (or put its folder on the Python path) where the bundle is "
            "loaded; a class must be defined at the top level of its module, not inside "
            "a function or another class.")
    return " ".join(parts)


def _moved(main: list[str]) -> str:
    """What the names of ``__main__`` classes become once moved to ``mypkg.features``."""
    return repr([f"mypkg.features.{n.rpartition('.')[2]}" for n in main[:10]])


def _unresolved(names: Iterable[str]) -> list[str]:
    """The names among ``names`` that do not resolve in this process now. Nothing is
    imported (only modules already imported are looked at), and nothing runs either:
    the module's namespace is read, not its ``__getattr__``."""
    out = []
    for name in sorted(names):
        module_name, _, attr = name.rpartition(".")
        module = sys.modules.get(module_name)
        if not isinstance(module, types.ModuleType) or vars(module).get(attr) is None:
            out.append(name)
    return out


def _import_failures(names: Iterable[str]) -> dict[str, str]:
    """Why each of the caller's trusted ``names`` cannot be found: its module does not
    import (whatever it raises), or does not define it. Only trusted names are imported
    (the loader would import them anyway); ``__main__`` is looked up, never run."""
    out = {}
    for name in sorted(names):
        module_name, _, attr = name.rpartition(".")
        try:
            module = sys.modules.get(module_name) if module_name in _MAIN_MODULES \
                else importlib.import_module(module_name)
        except Exception as exc:
            out[name] = f"{type(exc).__name__}: {_clean(str(exc))}"
            continue
        if module is None or getattr(module, attr, None) is None:
            out[name] = f"{module_name} defines no {attr}"
    return out


#: Every loader skops uses; a node naming another one is refused with its loader named.
_KNOWN_LOADERS = frozenset({
    "DictNode", "ListNode", "TupleNode", "SetNode", "JsonNode", "BytesNode", "BytearrayNode",
    "SliceNode", "NdArrayNode", "MaskedArrayNode", "DTypeNode", "DefaultDictNode",
    "ObjectNode", "ReduceNode", "TreeNode", "LossNode", "SparseMatrixNode", "FunctionNode",
    "TypeNode", "RandomStateNode", "RandomGeneratorNode", "ConstructorFromReduceNode",
    "PartialNode", "MethodNode", "OperatorFuncNode", "CachedNode",
})


@functools.cache
def _data_pairs() -> frozenset[tuple[str, str]]:
    """``(type, loader)`` pairs of the plain data skops rebuilds: containers, JSON
    literals, numeric arrays and scalars, dtypes. Nothing here runs code a file
    chooses; a numpy scalar type other than a number (``numpy.void``, whose
    constructor allocates the size it is given) is not among them."""
    import numpy as np

    numeric = {f"numpy.{t.__name__}" for t in set(np.sctypeDict.values())
               if issubclass(t, np.number | np.bool_ | np.datetime64 | np.timedelta64)}
    builtins = {f"builtins.{t.__name__}" for t in (str, int, float, bool, complex, bytes)}
    pairs = {("builtins.dict", "DictNode"), ("collections.OrderedDict", "DictNode"),
             ("builtins.list", "ListNode"),
             ("builtins.tuple", "TupleNode"), ("builtins.set", "SetNode"),
             ("builtins.bytes", "BytesNode"), ("builtins.bytearray", "BytearrayNode"),
             ("builtins.slice", "SliceNode"), ("numpy.ndarray", "NdArrayNode"),
             ("numpy.ma.core.MaskedArray", "MaskedArrayNode"), ("numpy.dtype", "DTypeNode")}
    pairs |= {(n, "JsonNode") for n in builtins | {"builtins.NoneType"}}
    pairs |= {(n, "NdArrayNode") for n in numeric}
    pairs |= {(n, "TypeNode") for n in numeric | builtins}
    return frozenset(pairs)


@functools.cache
def _table_loaders() -> Mapping[str, frozenset[str]]:
    """The skops loader(s) through which each trusted class may be rebuilt. A class
    named under another loader would be called with arguments the file chooses."""
    import numpy as np
    import scipy.sparse as sp
    from sklearn.tree._tree import Tree

    out: dict[str, frozenset[str]] = {}
    for name, cls in default_trust_list().items():
        if cls is Tree:
            loaders = {"TreeNode"}
        elif cls is np.random.RandomState:
            loaders = {"RandomStateNode"}
        elif cls is np.random.Generator:
            loaders = {"RandomGeneratorNode"}  # its state is checked by _payload
        elif issubclass(cls, sp.spmatrix) or (hasattr(sp, "sparray")
                                                 and issubclass(cls, sp.sparray)):
            loaders = {"SparseMatrixNode"}
        elif cls.__module__ in ("sklearn._loss._loss", "_loss",
                                "sklearn.linear_model._sgd_fast"):
            loaders = {"LossNode"}
        elif issubclass(cls, dict):
            loaders = {"DictNode", "ObjectNode"}
        elif cls is slice:
            loaders = {"SliceNode"}
        elif cls is np.dtype or issubclass(cls, np.dtype):
            loaders = {"DTypeNode"}
        elif issubclass(cls, np.random.BitGenerator | np.random.SeedSequence):
            loaders = set()  # only inside a generator's state, never a node of its own
        else:
            loaders = {"ObjectNode"}
        out[name] = frozenset(loaders)
    return MappingProxyType(out)


@functools.cache
def _safe_functions() -> frozenset[str]:
    """numpy's and scipy.special's ufuncs (pure maths, which skops trusts by default).
    Rebuilding one is a lookup by name in a module already imported, which runs nothing,
    so they pass the type check; but a model keeps one only when the caller trusts it
    (:func:`load_model` refuses an untrusted one once the structural state checks have
    passed, before any check runs estimator code)."""
    import numpy as np

    names = {f"numpy.{n}" for n, f in vars(np).items() if isinstance(f, np.ufunc)}
    for module_name, module in list(sys.modules.items()):
        if module_name == "scipy.special" or module_name.startswith("scipy.special._"):
            names |= {f"{module_name}.{n}" for n, f in vars(module).items()
                      if isinstance(f, np.ufunc) or type(f).__name__ == "_UFuncWrapper"}
    return frozenset(names)


@functools.cache
def _loader_bound() -> Mapping[str, str]:
    """Trusted names that are approved only through one skops loader: histogram
    gradient boosting's preprocessor holds ``partial(check_array)``, rebuilt by
    ``PartialNode`` (``_state`` checks the partial is exactly that), and bisecting
    k-means the k-means routine it was fitted with (used by ``fit`` only)."""
    from sklearn.cluster import _kmeans
    from sklearn.utils.validation import check_array

    functions = [check_array, _kmeans._kmeans_single_lloyd, _kmeans._kmeans_single_elkan]
    return MappingProxyType({"functools.partial": "PartialNode",
                             **{full_name(f): "FunctionNode" for f in functions
                                if _resolves_to(full_name(f), f)}})


def _refused(pairs: set[tuple[str, str]], extra: set[str]) -> list[str]:
    """The ``(type, loader)`` pairs (read from the schema by ``_payload``, independently
    of skops' own view of trust) that neither the trust list nor the caller approves."""
    loaders = _table_loaders()
    bound = _loader_bound()
    data = _data_pairs()
    refused = []
    for name, loader in sorted(pairs):
        if name in extra or loader == "CachedNode":  # a cached node points at another node
            continue
        if loader in loaders.get(name, ()) or bound.get(name) == loader or (name, loader) in data:
            continue
        if loader == "FunctionNode" and name in _safe_functions():
            continue  # looked up by name, runs nothing; kept only if trusted (load_model)
        if name in loaders or (loader not in _KNOWN_LOADERS):
            refused.append(f"{name} (rebuilt by {loader[:40]})")
        else:
            refused.append(name)
    return sorted(set(refused))


def _function_refusal(names: list[str]) -> str:
    """Why the numpy / scipy functions a model holds are refused, and the call that
    trusts them."""
    one = len(names) == 1
    return (f"model.skops holds {_plural(len(names), 'function')} the caller did not trust: "
            f"{', '.join(names[:20])}; the model was discarded before anything ran. A bundle "
            "holds no code unless you say so, even numpy's: if you chose "
            f"{'this function' if one else 'these functions'} "
            "(FunctionTransformer(np.log1p) is saved as 'numpy.log1p'), load with "
            f"load_bundle(path, trusted={names[:20]!r}). That decision is yours, never the "
            "file's: a bundle can name any function it likes, so mllife never infers trust "
            "from the file.")


def load_model(data: bytes, *, trusted: Any = None, max_bytes: int,
               validate: Callable[[Any, Callable[[], None]], None] | None = None) -> Any:
    """Load a skops payload, refusing every type outside the trust list.

    ``validate(model, refuse)`` (the checks of :mod:`._state`) runs on the loaded
    model and must call ``refuse()`` once its structural checks have passed and
    before it runs any estimator code: ``refuse`` raises when the model holds a numpy
    or scipy ufunc the caller did not trust. Rebuilding one ran nothing, so a file
    that is tampered with is reported as such first, and an untrusted ufunc is never
    called. ``refuse`` runs again after ``validate`` (a hook that never called it).

    Raises
    ------
    UntrustedTypeError
        Naming every refused type (nothing has been loaded or imported), or every
        numpy / scipy function the caller did not trust (the model is discarded).
    ModelError
        When a type the caller trusted cannot be found in this process (its
        package is not installed, or it was defined in another process's
        ``__main__``).
    IntegrityError
        When the payload is not a readable skops file, or is oversized.
    """
    import skops.io as sio

    extra = type_names(trusted)
    pairs = read_payload(data, max_bytes)
    refused = _refused(pairs, extra)
    if refused:
        raise UntrustedTypeError(refusal_message(refused))
    used = extra & {name for name, _ in pairs}
    # A script's or notebook's class exists only in that process: looked up, never imported.
    absent = _unresolved(n for n in used if _in_main(n))
    if absent:
        raise ModelError(_missing_code_message(absent))
    # skops audits the tree again inside ``loads`` against exactly the names approved
    # here: anything its own audit sees beyond them (a bit generator named inside a
    # string, ``Class.method`` of a method node) is refused by skops before it builds.
    approved = sorted({name for name, _ in pairs} | extra)
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        model = sio.loads(data, trusted=approved)
    except UntrustedTypesFoundException as exc:
        names = sorted(set(re.findall(r"'([A-Za-z_][\w.]*)'", str(exc).split("\n")[0])))
        names = names or [str(exc)[:200]]
        raise UntrustedTypeError(refusal_message(names)) from None
    except RecursionError:
        raise IntegrityError("model.skops nests too deeply to be a fitted model") from None
    except Exception as exc:
        # The caller's trusted classes are imported by skops now: name the ones whose
        # module does not import here (not installed, a syntax error, an error raised at
        # import) or does not define them; anything else is a broken file.
        failures = _import_failures(used)
        if failures:
            raise ModelError(_missing_code_message(
                sorted(failures), "; ".join(failures[n] for n in sorted(failures)[:3]))) \
                from None
        raise IntegrityError(f"model.skops could not be loaded ({type(exc).__name__}: "
                             f"{_clean(str(exc))})") from None
    functions = sorted({name for name, loader in pairs if loader == "FunctionNode"
                        and name in _safe_functions() and name not in extra})

    def refuse() -> None:
        if functions:
            raise UntrustedTypeError(_function_refusal(functions))

    if validate is not None:
        validate(model, refuse)
    refuse()
    return model
