"""What the splitters share: the parameter protocol and the ``split`` template."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import indexable

from .._errors import InputError


def check_n_splits(n_splits: Any) -> int:
    """``n_splits`` as an int >= 2, else :class:`~mllife.InputError`."""
    if isinstance(n_splits, bool) or not isinstance(n_splits, int | np.integer) or n_splits < 2:
        raise InputError(f"n_splits={n_splits!r} is not an integer >= 2",
                         expected="an integer >= 2")
    return int(n_splits)


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


class Splitter(ParamsMixin, BaseCrossValidator):
    """Base of the mllife cross-validators (private): ``split`` checks the input and
    the number of folds, then yields the folds of :meth:`_folds`."""

    n_splits: int

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The number of folds, ``n_splits``.

        Parameters
        ----------
        X, y, groups : ignored
            Present for compatibility with scikit-learn.

        Returns
        -------
        int
        """
        return check_n_splits(self.n_splits)

    def split(self, X: Any, y: Any = None, groups: Any = None) -> Iterator[tuple[np.ndarray,
                                                                                np.ndarray]]:
        """Yield ``(train, test)`` positional indices, one pair per fold.

        Parameters
        ----------
        X : DataFrame or array-like
            The rows (the class description says which columns are used).
        y : ignored
            Present for compatibility with scikit-learn.
        groups : array-like, optional
            The group of each row, for the splitters that use groups.

        Yields
        ------
        train, test : ndarray of int
        """
        X, y, groups = indexable(X, y, groups)
        yield from self._folds(X, groups, check_n_splits(self.n_splits))

    def _folds(self, X: Any, groups: Any, k: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        raise NotImplementedError
