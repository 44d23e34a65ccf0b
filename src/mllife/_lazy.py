"""PEP 562 lazy attribute loading for mllife's packages.

A package declares which public name lives in which module; the module is
imported on first access, so ``import mllife`` stays light and heavy
dependencies (shap, fairlearn, imbalanced-learn, matplotlib, skops) load only
when a feature that needs them is used.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any


def attach(
    package: str, names: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Return ``__getattr__``, ``__dir__`` and ``__all__`` for a lazy package.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : mapping of str to str
        Public name -> module path, absolute or relative to ``package``. A
        name mapped to the module of the same name (``"drift": ".drift"``)
        is that module.
    """
    table = dict(names)

    def __getattr__(name: str) -> Any:
        try:
            target = table[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        module = importlib.import_module(target, package)
        # A name that maps to its own module (a subpackage) is the module itself.
        is_module = module.__name__ == f"{package}.{name}"
        value = module if is_module else getattr(module, name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(table) | set(vars(sys.modules[package])))

    return __getattr__, __dir__, sorted(table)


def make_callable(package: str, function_name: str) -> None:
    """Make a package callable as its namesake function.

    ``mllife.audit`` is a package (``mllife.audit.register_check``) and
    ``mllife.audit(df)`` is its main function; the same for ``mllife.split``.
    """

    module = sys.modules[package]

    class _CallableModule(types.ModuleType):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return getattr(self, function_name)(*args, **kwargs)

    _CallableModule.__name__ = f"CallableModule[{package}]"
    module.__class__ = _CallableModule
