"""Which types a bundle may contain: the loader's trust list, never the file's.

``skops.io.get_untrusted_types`` lists every type in a skops payload beyond
skops' own defaults *without importing anything*. This module decides which of
those the loader approves, and only those are passed to ``skops.io.loads``:

- classes from scikit-learn and mllife that are estimators (``BaseEstimator``
  subclasses, which skops rebuilds from their state, never by calling them);
- plain functions of mllife's transformer packages (``mllife.features``,
  ``mllife.baselines``), which its transformers hold as ``FunctionTransformer``
  steps; other functions (``builtins.open``, ``os.system``, any other library's)
  are not trusted;
- a short list of internal types fitted models hold (tree structures,
  gradient-boosting predictors and binners, loss and link objects, numpy
  dtypes and random generators, scipy sparse containers, column selectors);
- the names the caller adds with ``trusted=``.

Everything else (``os.system``, ``builtins.eval``, a user's class with a
malicious ``__reduce__``) is refused with :class:`~mllife.UntrustedTypeError`
before the payload is loaded.
"""

from __future__ import annotations

import importlib
import io
import re
import types
import zipfile
from collections.abc import Iterable
from typing import Any

from .._errors import IntegrityError, UntrustedTypeError
from ._io import MAX_BYTES, check_zip_sizes

#: Top-level packages whose estimator classes are trusted.
_ESTIMATOR_PACKAGES = ("sklearn", "mllife")
#: mllife packages whose plain functions (used inside transformers) are trusted.
_FUNCTION_PACKAGES = ("mllife.features.", "mllife.baselines.")

#: Internal (non-estimator) types that fitted models hold. Exact names.
TRUSTED_INTERNALS = frozenset({
    "numpy.dtype",
    "numpy.random._generator.Generator",
    "numpy.random.mtrand.RandomState",
    "numpy.random._pcg64.PCG64",
    "numpy.random._mt19937.MT19937",
    "numpy.random.bit_generator.SeedSequence",
    "sklearn.tree._tree.Tree",
    "sklearn.compose._column_transformer.make_column_selector",
    # scikit-learn 1.6 stores a ColumnTransformer's remainder columns in this list subclass.
    "sklearn.compose._column_transformer._RemainderColsList",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.utils._bunch.Bunch",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "collections.OrderedDict",
    "builtins.slice",
})
#: Patterns of internal types, matched against the full name.
_TRUSTED_PATTERNS = (
    re.compile(r"^numpy\.dtypes\.\w+DType$"),
    re.compile(r"^sklearn\._loss\.(loss|link)\.\w+$"),
    re.compile(r"^scipy\.sparse\._(csr|csc|coo|bsr|dia|dok|lil)\.(csr|csc|coo|bsr|dia|dok|lil)"
               r"_(matrix|array)$"),
)
_NAME = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)+$")


def type_names(trusted: Iterable[Any] | None) -> set[str]:
    """Full names (``module.Class``) of the user's extra trusted types."""
    if trusted is None:
        return set()
    if isinstance(trusted, str | type):
        trusted = [trusted]
    names = set()
    for item in trusted:
        if isinstance(item, str):
            names.add(item)
        elif isinstance(item, type):
            names.add(f"{item.__module__}.{item.__qualname__}")
        else:
            from .._errors import InputError

            raise InputError(f"trusted holds a {type(item).__name__}",
                             expected="type names (str) or types")
    return names


def _is_estimator_class(name: str) -> bool:
    """True when ``name`` is a scikit-learn/mllife class deriving from BaseEstimator."""
    if not _NAME.match(name) or "__main__" in name \
            or name.split(".", 1)[0] not in _ESTIMATOR_PACKAGES:
        return False
    module_name, _, attr = name.rpartition(".")
    try:  # importing a module of scikit-learn or mllife runs only their own code
        obj = getattr(importlib.import_module(module_name), attr)
    except Exception:
        return False
    from sklearn.base import BaseEstimator

    return isinstance(obj, type) and issubclass(obj, BaseEstimator) and \
        obj.__module__.split(".", 1)[0] in _ESTIMATOR_PACKAGES


def _is_mllife_transform_function(name: str) -> bool:
    """True for a plain function of mllife's transformer packages (``FunctionTransformer``
    helpers such as ``mllife.features._preprocessor._as_text``): data in, data out."""
    if not _NAME.match(name) or not name.startswith(_FUNCTION_PACKAGES):
        return False
    module_name, _, attr = name.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except Exception:
        return False
    return isinstance(obj, types.FunctionType) and obj.__module__ == module_name


def approves(name: str) -> bool:
    """Whether the loader's own trust list accepts the type ``name``."""
    return (name in TRUSTED_INTERNALS or any(p.match(name) for p in _TRUSTED_PATTERNS)
            or _is_estimator_class(name) or _is_mllife_transform_function(name))


def load_model(data: bytes, *, trusted: Iterable[Any] | None = None,
               max_bytes: int = MAX_BYTES) -> Any:
    """Load a skops payload, refusing every type outside the trust list.

    Raises
    ------
    UntrustedTypeError
        Naming every refused type; nothing has been loaded or imported.
    IntegrityError
        When the payload is not a readable skops file.
    """
    import skops.io as sio

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            check_zip_sizes(zf, max_bytes, "model.skops")
        found = sio.get_untrusted_types(data=data)
    except IntegrityError:
        raise
    except Exception as exc:
        raise IntegrityError(f"model.skops is not a readable skops file "
                             f"({type(exc).__name__}: {str(exc)[:120]})") from None
    extra = type_names(trusted)
    approved = [t for t in found if t in extra or approves(t)]
    refused = sorted(set(found) - set(approved))
    if refused:
        raise UntrustedTypeError(
            f"model.skops holds types outside the loader's trust list: {refused}; "
            "nothing was loaded. If you wrote these classes (or reviewed them), load with "
            f"load_bundle(path, trusted={refused!r}); the classes must be importable")
    try:
        return sio.loads(data, trusted=approved)
    except Exception as exc:
        raise IntegrityError(f"model.skops could not be loaded ({type(exc).__name__}: "
                             f"{str(exc)[:160]})") from None
