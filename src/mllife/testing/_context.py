"""The context a rule runs in, and how a rule says it failed or cannot apply."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ._compare import error_text

__all__ = ["MISSING", "ArbitraryValue", "Context", "Failed", "Rule", "Skipped"]


class Failed(Exception):
    """A rule broke: the message says what was expected and what happened."""


class Skipped(Exception):
    """A rule cannot apply: the message says why."""


class ArbitraryValue:
    """A value no constructor can have a reason to check: what ``__init__`` must store as is."""

    def __repr__(self) -> str:
        return "<arbitrary value>"


#: A marker for "no such attribute".
MISSING = object()


class Context:
    """The estimator, the data, and what the ``fit_transform`` rule learned."""

    def __init__(self, estimator: Any, X: pd.DataFrame, y: Any, trusted: Any) -> None:
        self.estimator = estimator
        self.X = X
        self.y = y
        self.trusted = trusted
        self.fitted: Any = None
        self.out: Any = None
        self.names: list[str] | None = None

    @property
    def label(self) -> str:
        return type(self.estimator).__name__

    def X_copy(self) -> pd.DataFrame:
        return self.X.copy(deep=True)

    def y_copy(self) -> Any:
        return copy.deepcopy(self.y)

    def seed_note(self) -> str:
        try:
            params = self.estimator.get_params(deep=False)
        except Exception:  # a broken get_params: init_stores_params reports it
            return ""
        if "random_state" not in params:
            return ""
        seed = params["random_state"]
        return f" (random_state={0 if seed is None else seed!r})"

    def fresh(self, output: str | None = None) -> Any:
        """An unfitted copy of the estimator, seeded, with ``set_output(transform=output)``.

        Raises :class:`Skipped` when ``output`` is asked for and the estimator
        has no ``set_output`` (scikit-learn gives it to transformers that have
        ``get_feature_names_out``).
        """
        from sklearn.base import clone

        try:
            est = clone(self.estimator)
        except Exception:  # init_stores_params reports why clone fails
            est = copy.deepcopy(self.estimator)
        try:
            if est.get_params(deep=False).get("random_state", MISSING) is None:
                est.set_params(random_state=0)
        except Exception:  # a broken get_params / set_params: init_stores_params reports it
            pass
        if output is not None:
            set_output = getattr(est, "set_output", None)
            if set_output is None:
                raise Skipped(f"{self.label} has no set_output (scikit-learn's TransformerMixin "
                              "provides it to transformers with get_feature_names_out)")
            set_output(transform=output)
        return est

    def fit_transform(self, est: Any, X: Any) -> Any:
        """``est.fit(X, y)`` then ``est.transform(X)``, each failure named."""
        try:
            est.fit(X, self.y_copy())
        except Exception as exc:
            raise Failed(f"fit raised {error_text(exc)}") from exc
        try:
            return est.transform(X)
        except Exception as exc:
            raise Failed(f"transform after fit raised {error_text(exc)}") from exc


@dataclass(frozen=True)
class Rule:
    """One rule: its name, what it checks (docs), its function and the rules it needs."""

    name: str
    doc: str
    run: Callable[[Context], str]
    needs: tuple[str, ...] = ()
