"""``all_estimators()``: every public estimator, transformer and splitter.

A public base class that users subclass (:class:`mllife.features.FrameTransformer`)
is not an estimator of its own: it says so with ``_abstract_base = True`` in its
class body (a subclass inherits the attribute but not the mark, see
:func:`_is_abstract_base`) and is not listed.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from typing import Any

#: The packages that hold public estimators.
ESTIMATOR_PACKAGES = ("mllife.features", "mllife.split", "mllife.baselines")

_TYPES = ("classifier", "regressor", "transformer", "splitter")


def _is_abstract_base(cls: type) -> bool:
    """Whether ``cls`` itself (not a subclass) is a base to subclass, not an estimator."""
    return bool(vars(cls).get("_abstract_base", False))


def _kind(cls: type) -> set[str]:
    from sklearn.base import ClassifierMixin, RegressorMixin, TransformerMixin
    from sklearn.model_selection import BaseCrossValidator

    kinds = set()
    if issubclass(cls, ClassifierMixin):
        kinds.add("classifier")
    if issubclass(cls, RegressorMixin):
        kinds.add("regressor")
    if issubclass(cls, TransformerMixin):
        kinds.add("transformer")
    if issubclass(cls, BaseCrossValidator):
        kinds.add("splitter")
    return kinds


def all_estimators(type_filter: str | list[str] | None = None) -> list[tuple[str, type]]:
    """Every public estimator, transformer and splitter class of mllife.

    Public base classes meant to be subclassed
    (:class:`~mllife.features.FrameTransformer`) are not listed.

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "transformer", "splitter"} or list, default=None
        Keep only these kinds; all by default.

    Returns
    -------
    list of (name, class)
        Sorted by name.

    Examples
    --------
    >>> import mllife
    >>> names = [name for name, _ in mllife.all_estimators()]
    >>> names == sorted(names)
    True
    >>> "FrameTransformer" in names  # the base users subclass is no estimator of its own
    False
    """
    from sklearn.base import BaseEstimator
    from sklearn.model_selection import BaseCrossValidator

    from ._errors import InputError

    wanted: set[str] | None = None
    if type_filter is not None:
        wanted = {type_filter} if isinstance(type_filter, str) else set(type_filter)
        unknown = wanted - set(_TYPES)
        if unknown:
            raise InputError(f"unknown type_filter {sorted(unknown)}", expected=f"some of {_TYPES}")
    found: dict[str, type] = {}
    for package_name in ESTIMATOR_PACKAGES:
        if importlib.util.find_spec(package_name) is None:
            continue
        package = importlib.import_module(package_name)
        lazy: dict[str, str] = getattr(package, "_LAZY", {})
        for name in getattr(package, "__all__", []):
            target = lazy.get(name)
            if target is not None and importlib.util.find_spec(target, package_name) is None:
                # Only while a package is being written: tests/test_public_api.py fails then.
                continue
            obj: Any = getattr(package, name)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator | BaseCrossValidator) \
                    and not _is_abstract_base(obj):
                found[name] = obj
    items = sorted(found.items())
    if wanted is not None:
        items = [(n, c) for n, c in items if _kind(c) & wanted]
    return items
