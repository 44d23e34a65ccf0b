"""``get_params``/``set_params`` for splitters, so ``sklearn.base.clone`` copies them."""

from __future__ import annotations

import inspect
from typing import Any

from .._errors import InputError


class ParamsMixin:
    """The parameter protocol of scikit-learn estimators, for cross-validators.

    scikit-learn's own splitters lack it, which makes them impossible to
    ``clone``; ours are cloneable and show up in ``GridSearchCV`` reprs.
    """

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(p.name for p in signature.parameters.values()
                      if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters, by name."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> Any:
        """Set constructor parameters; returns ``self``."""
        valid = set(self._param_names())
        for name, value in params.items():
            if name not in valid:
                raise InputError(f"unknown parameter {name!r} for {type(self).__name__}",
                                 expected=f"one of {', '.join(sorted(valid))}")
            setattr(self, name, value)
        return self
