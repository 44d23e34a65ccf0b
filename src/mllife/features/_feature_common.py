"""Small helpers the feature and cleaning transformers share (the base is in ``_base``).

Column selection, column replacement without touching the input, and the one
spelling of a policy for odd values: ``"error" | "warn" | "ignore"``.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from typing import Any

import pandas as pd

from .._errors import DataWarning, InputError

__all__ = ["POLICIES", "apply_policy", "check_policy", "replace_columns", "select_columns"]

#: The values of every policy parameter (``on_unseen``): raise, warn, or stay silent.
POLICIES: tuple[str, ...] = ("error", "warn", "ignore")
#: Spellings used before the policy vocabulary was unified; a transformer read back
#: from a saved bundle may still hold them, so ``apply_policy`` reads them too.
_OLD_SPELLINGS = {"raise": "error", "nan": "ignore"}


def select_columns(columns: Any, available: list[str], *, owner: str) -> list[str]:
    """The columns a transformer works on: all of them, or the named ones (checked)."""
    if columns is None:
        return list(available)
    wanted = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in wanted if c not in available]
    if missing:
        shown = ", ".join(repr(c) for c in missing)
        raise InputError(
            f"{owner}: column{'s' if len(missing) > 1 else ''} {shown} not found",
            expected=f"some of the {len(available)} fitted columns",
        )
    return wanted


def replace_columns(frame: pd.DataFrame, new: dict[Hashable, pd.Series]) -> pd.DataFrame:
    """A new frame with some columns replaced; ``frame`` is not modified."""
    if not new:
        return frame.copy()
    out = frame.copy(deep=False)
    for col, values in new.items():
        out[col] = values
    return out


def check_policy(value: Any, *, name: str = "on_unseen") -> str:
    """``value`` when it is one of :data:`POLICIES`, else an :class:`InputError` naming ``name``.

    Examples
    --------
    >>> check_policy("warn")
    'warn'
    >>> check_policy("raise")
    Traceback (most recent call last):
    ...
    mllife._errors.InputError: on_unseen='raise'; expected "error", "warn" or "ignore" ("raise" is spelled "error")
    """
    if isinstance(value, str) and value in POLICIES:
        return value
    hint = (f' ("{value}" is spelled "{_OLD_SPELLINGS[value]}")'
            if isinstance(value, str) and value in _OLD_SPELLINGS else "")
    raise InputError(f"{name}={value!r}", expected=f'"error", "warn" or "ignore"{hint}')


def apply_policy(policy: str, message: str, column: Hashable, n_rows: int, expected: str) -> None:
    """Apply an ``on_unseen`` policy to odd values that were set to missing.

    ``"error"`` raises :class:`InputError` naming the column and row count,
    ``"warn"`` issues a :class:`~mllife.DataWarning`, ``"ignore"`` does nothing.
    """
    policy = _OLD_SPELLINGS.get(policy, policy)
    if policy == "error":
        raise InputError(message, column=column, n_rows=n_rows, expected=expected)
    if policy == "warn":
        rows = "1 row" if n_rows == 1 else f"{n_rows} rows"
        warnings.warn(f"column {column!r}: {message} ({rows}); set to missing",
                      DataWarning, stacklevel=5)
