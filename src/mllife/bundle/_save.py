"""Saving a :class:`~mllife.bundle.ModelBundle`: what is refused on the way out.

Saving refuses a model that holds code a bundle cannot carry (callable rules,
lambdas, classes and functions defined in ``__main__``, inside a function or
inside another class: skops records a class by its module and bare name, so a
nested one could never be found again); the model is serialised with
``skops.io`` (imported on first save: it is heavy), the rest as JSON, and the
file is written atomically by :func:`._io.write_bundle`. When skops cannot
serialise the model, the estimator attribute that holds what it cannot store
(a pandas Series kept by a user's ``_fit``) is named.
Loading is :mod:`mllife.bundle._persist`, which builds a ``ModelBundle``;
this module only reads one, so ``_bundle`` can import it.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import types
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import InputError
from ..report._json import jsonable
from ._io import write_bundle

if TYPE_CHECKING:
    from ._bundle import ModelBundle

__all__ = ["save_bundle"]


def _json_bytes(value: Any) -> bytes:
    return json.dumps(jsonable(value), indent=2, sort_keys=True, allow_nan=False).encode("utf-8")


def _code_in(model: Any) -> str | None:
    """What makes ``model`` unsavable as a bundle, or None."""
    from ..baselines import RuleClassifier, RuleRegressor

    try:
        params = model.get_params(deep=True) if hasattr(model, "get_params") else {}
    except (AttributeError, TypeError, ValueError):  # broken: skops.dumps reports it below
        params = {}
    for obj in [model, *params.values()]:
        if type(obj).__name__ == "AggregateFeatures" and type(obj).__module__.startswith("mllife."):
            return ("AggregateFeatures holds its event table (a DataFrame), which a bundle "
                    "does not store, and a served model must read the events as they are when "
                    "it predicts: compute the aggregates before the bundled pipeline and bundle "
                    "the model that reads them (docs/aggregates.md, 'Bundles')")
        if isinstance(obj, RuleClassifier | RuleRegressor) and callable(obj.rules):
            return (f"{type(obj).__name__} has callable rules "
                    f"({getattr(obj.rules, '__qualname__', type(obj.rules).__name__)}): a bundle "
                    "never holds code; write them as (rule, output) pairs in the rule language")
    return None


#: The most objects the save-time walk for misplaced code looks at, and the most items
#: it takes from one container (a fitted model holds far fewer objects than that).
_MAX_WALK = 200_000
#: Values the walk never descends into (nor checks: their classes are the language's).
_LEAVES = (str, bytes, bytearray, int, float, complex, bool, range, slice, types.ModuleType,
           types.BuiltinFunctionType, types.MethodType)
#: Packages whose objects the walk does not descend into: their internals hold no user code.
_OPAQUE = frozenset({"numpy", "pandas", "polars", "pyarrow", "scipy"})


def _misplaced(code: Any) -> str | None:
    """Why a class or function cannot be found by name where a bundle is loaded, or None.

    skops records ``module.__name__``; a loader imports the module and takes that
    attribute. A class or function defined inside another class or a function is
    not that attribute (its ``__qualname__`` is longer than its ``__name__``).
    """
    qualname, name = getattr(code, "__qualname__", None), getattr(code, "__name__", None)
    module_name = getattr(code, "__module__", None)
    if not (isinstance(qualname, str) and isinstance(name, str)
            and isinstance(module_name, str)) or qualname == name:
        return None
    module = sys.modules.get(module_name)
    try:
        if module is not None and getattr(module, name, None) is code:
            return None
    except Exception:  # a module whose __getattr__ fails: the loader could not find it either
        pass
    kind = "class" if isinstance(code, type) else "function"
    where = "inside a function" if "<locals>" in qualname else "inside another class"
    return (f"{module_name}.{qualname}, a {kind} defined {where}: skops records it as "
            f"{module_name}.{name}, which no loader can find")


def _nested_code_in(model: Any) -> list[str]:
    """Classes and functions in ``model``'s object graph (parameters and fitted state:
    attributes, containers, object arrays) that a loader could not find by name."""
    import numpy as np

    found: dict[str, None] = {}
    seen: set[int] = set()
    stack = [model]
    steps = 0
    while stack and len(seen) < _MAX_WALK and steps < 10 * _MAX_WALK:
        obj = stack.pop()
        steps += 1
        if obj is None or isinstance(obj, _LEAVES) or id(obj) in seen:
            continue
        seen.add(id(obj))
        code = obj if isinstance(obj, type | types.FunctionType) else type(obj)
        problem = _misplaced(code)
        if problem is not None:
            found.setdefault(problem)
        if isinstance(obj, type | types.FunctionType):
            continue
        if isinstance(obj, np.ndarray):
            if obj.dtype.hasobject:
                stack.extend(obj.ravel()[:_MAX_WALK].tolist())
        elif isinstance(obj, list | tuple | set | frozenset):
            stack.extend(list(obj)[:_MAX_WALK])
        elif isinstance(obj, dict):
            items = list(obj.items())[:_MAX_WALK]
            stack.extend(k for k, _ in items)
            stack.extend(v for _, v in items)
        elif isinstance(obj, functools.partial):
            stack.extend([obj.func, obj.args, obj.keywords])
        elif type(obj).__module__.split(".")[0] not in _OPAQUE:
            try:
                state = vars(obj)
            except TypeError:
                continue
            if isinstance(state, dict):
                stack.extend(list(state.values())[:_MAX_WALK])
    return list(found)


def _unfindable_names(names: Iterable[str]) -> list[str]:
    """The type names of a payload that the process saving it cannot find itself: the
    module is imported here and does not define the name (what the walk may miss, such
    as state a class's ``__getstate__`` returns). Library names are not checked."""
    out = []
    for name in names:
        module_name, _, attr = name.rpartition(".")
        if name.split(".", 1)[0] in _OPAQUE | {"sklearn", "builtins"}:
            continue
        module = sys.modules.get(module_name)
        if not isinstance(module, types.ModuleType):
            continue
        try:
            missing = getattr(module, attr, None) is None
        except Exception:
            missing = True
        if missing:
            out.append(name)
    return out


#: How many pieces of state the search for an unstorable one serialises, at most.
_MAX_PROBES = 400


def _describe(value: Any) -> str:
    cls = type(value)
    package = cls.__module__.split(".")[0]
    if package in ("pandas", "polars", "pyarrow"):
        return f"a {package} {cls.__name__}"
    if package == "builtins":
        return f"a {cls.__name__}"
    return f"a {cls.__module__}.{cls.__qualname__}"


def _is_estimator(value: Any) -> bool:
    try:
        return not isinstance(value, type) and callable(getattr(value, "get_params", None))
    except Exception:  # an object whose __getattr__ fails is no estimator
        return False


def _estimators_in(model: Any) -> list[Any]:
    """``model`` and every estimator reachable through estimators' attributes and the
    lists, tuples and dicts they hold (pipeline steps, fitted ``transformers_``,
    ``estimators_``...), breadth first, bounded."""
    found: list[Any] = []
    seen: set[int] = set()
    queue: deque[tuple[Any, int]] = deque([(model, 0)])
    while queue and len(found) < 1_000:
        obj, depth = queue.popleft()
        if id(obj) in seen or depth > 6:
            continue
        seen.add(id(obj))
        if isinstance(obj, list | tuple):
            queue.extend((item, depth + 1) for item in obj[:1_000])
        elif isinstance(obj, dict):
            queue.extend((item, depth + 1) for item in list(obj.values())[:1_000])
        elif _is_estimator(obj) or obj is model:
            found.append(obj)
            state = getattr(obj, "__dict__", None)
            if isinstance(state, dict):
                queue.extend((item, depth + 1) for item in state.values())
    return found


def _holds_estimator(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is an estimator or a list, tuple or dict holding one."""
    if _is_estimator(value):
        return True
    if depth < 4 and isinstance(value, list | tuple):
        return any(_holds_estimator(item, depth + 1) for item in value[:1_000])
    if depth < 4 and isinstance(value, dict):
        return any(_holds_estimator(item, depth + 1) for item in list(value.values())[:1_000])
    return False


def _unstorable_parts(value: Any, path: str, sio: Any, budget: list[int],
                      depth: int = 0) -> Iterator[tuple[str, Any]]:
    """``(path, value)`` of the smallest pieces of ``value`` that skops cannot store;
    estimators are skipped (each is searched on its own), and a container of them
    (pipeline steps) is searched item by item, never named itself."""
    if value is None or _is_estimator(value) or isinstance(value, _LEAVES) or budget[0] <= 0:
        return
    holds = _holds_estimator(value)
    if not holds:
        budget[0] -= 1
        try:
            sio.dumps(value)
            return
        except Exception:  # whatever skops raises: this piece (or a part of it) is the problem
            pass
    parts: list[tuple[str, Any]] = []
    if depth < 4 and isinstance(value, list | tuple):
        parts = [(f"{path}[{i}]", item) for i, item in enumerate(value[:100])]
    elif depth < 4 and isinstance(value, dict):
        parts = [(f"{path}[{key!r}]", item) for key, item in list(value.items())[:100]]
    elif depth < 4 and type(value).__module__.split(".")[0] not in _OPAQUE and \
            isinstance(getattr(value, "__dict__", None), dict):
        parts = [(f"{path}.{name}", item) for name, item in list(vars(value).items())[:100]]
    deeper = [found for part_path, part in parts
              for found in _unstorable_parts(part, part_path, sio, budget, depth + 1)]
    if deeper:
        yield from deeper
    elif not holds:
        yield path, value


def _unstorable_state(model: Any) -> list[str]:
    """Which estimator attribute holds what skops cannot store (at most 3 named)."""
    import skops.io as sio

    budget = [_MAX_PROBES]
    found: list[str] = []
    for est in _estimators_in(model):
        for name, value in list(getattr(est, "__dict__", {}).items()):
            for path, bad in _unstorable_parts(value, name, sio, budget):
                found.append(f"{type(est).__name__}.{path} holds {_describe(bad)}")
                if len(found) == 3:
                    return found
    return found


def _nested_message(problems: list[str]) -> str:
    return (f"cannot save the bundle: the model holds {'; '.join(problems[:5])}. Move "
            f"{'it' if len(problems) == 1 else 'each'} to the top level of its module "
            "(module level, as `class LogRatio(FrameTransformer):` in mypkg/features.py), "
            "fit again and save")


def save_bundle(bundle: ModelBundle, path: str | os.PathLike[str], *,
                key: bytes | str | None = None) -> Path:
    """Serialise ``bundle`` and write it atomically (see :meth:`ModelBundle.save`)."""
    import skops.io as sio

    reason = _code_in(bundle.model)
    if reason is not None:
        raise InputError(f"cannot save the bundle: {reason}")
    nested = _nested_code_in(bundle.model)
    if nested:
        raise InputError(_nested_message(nested))
    try:
        model_bytes = sio.dumps(bundle.model)
    except Exception as exc:
        skops_says = f"{type(exc).__name__}: {str(exc)[:160]}"
        unstorable = _unstorable_state(bundle.model)
        if unstorable:
            raise InputError(
                f"cannot save the bundle: {'; '.join(unstorable)}, which a bundle cannot "
                "store: keep fitted state as numpy arrays or plain Python values (numbers, "
                f"strings, lists, dicts) (skops: {skops_says})") from None
        raise InputError(f"cannot save the bundle: the model is not serialisable with skops "
                         f"({skops_says})") from None
    names = sio.get_untrusted_types(data=model_bytes)
    local = [t for t in names if t.startswith(("__main__.", "__mp_main__.")) or "<" in t]
    if local:
        raise InputError(
            f"cannot save the bundle: the model holds {local[:5]}, defined in __main__ or "
            "inside a function (a lambda, a local class); no loader could import it. Move it "
            "to an importable module, or use a scikit-learn or mllife transformer")
    unfindable = _unfindable_names(names)
    if unfindable:
        raise InputError(_nested_message(
            [f"{n}, which its module does not define at its top level (a class or function "
             "defined inside another class or a function), so no loader can find it"
             for n in unfindable[:5]]))
    members = {
        "model.skops": model_bytes,
        "schema.json": _json_bytes(bundle.schema.to_dict()),
        "info.json": _json_bytes({"version": bundle.version, "metadata": dict(bundle.metadata),
                                  "metrics": dict(bundle.metrics)}),
    }
    if bundle.drift_profile is not None:
        to_dict = getattr(bundle.drift_profile, "to_dict", None)
        data = to_dict() if callable(to_dict) else bundle.drift_profile
        members["drift_profile.json"] = _json_bytes(data)
    return write_bundle(path, members, key=key)
