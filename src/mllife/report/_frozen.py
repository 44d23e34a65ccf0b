"""Immutable containers for report fields: :class:`FrozenDict` and :func:`freeze`.

A report is a value: what it holds cannot change after it is built, whoever
kept a reference to what was passed in. :func:`freeze` copies a field on the
way in (DataFrames and arrays included) and makes its containers read-only;
:class:`FrozenDict` is the read-only mapping it builds. Unlike
``types.MappingProxyType``, it pickles and deep-copies.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd

K = TypeVar("K")
V = TypeVar("V")


def handed_out(value: Any) -> Any:
    """What a report hands out for a stored value: a copy of a DataFrame or Series, else itself."""
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.copy(deep=True)
    return value


class FrozenDict(Mapping[K, V]):
    """A read-only mapping that pickles and deep-copies.

    Item assignment raises ``TypeError``. A DataFrame (or Series) it holds is
    handed out as a copy, so changing what you read never changes the mapping.
    As with ``types.MappingProxyType``, ``d | other`` and ``d.copy()`` return a
    new plain dict; a FrozenDict whose values are hashable is hashable.

    Examples
    --------
    >>> import pickle
    >>> d = FrozenDict({"rows": 3})
    >>> d["rows"], dict(d), d == {"rows": 3}
    (3, {'rows': 3}, True)
    >>> pickle.loads(pickle.dumps(d)) == d
    True
    >>> d | {"cols": 2}
    {'rows': 3, 'cols': 2}
    >>> d["rows"] = 4
    Traceback (most recent call last):
    ...
    TypeError: 'FrozenDict' object does not support item assignment
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[K, V] | None = None) -> None:
        self._data: dict[K, V] = dict(data or {})

    def __getitem__(self, key: K) -> V:
        return handed_out(self._data[key])

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"FrozenDict({self._data!r})"

    def __hash__(self) -> int:
        # Equal mappings hash alike; unhashable values raise TypeError, as in a tuple.
        return hash(frozenset(self._data.items()))

    # What ``types.MappingProxyType`` offered: ``|`` and ``copy()`` give a new plain dict.
    def copy(self) -> dict[K, V]:
        """A shallow copy as a plain (mutable) dict."""
        return dict(self.items())

    def __or__(self, other: Mapping[K, V]) -> dict[K, V]:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {**self.copy(), **other}

    def __ror__(self, other: Mapping[K, V]) -> dict[K, V]:
        if not isinstance(other, Mapping):
            return NotImplemented
        return {**other, **self.copy()}

    def __ior__(self, other: Mapping[K, V]) -> dict[K, V]:
        raise TypeError("'|=' would change a FrozenDict; use '|', which returns a new dict")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._data,))


def freeze(value: Any) -> Any:
    """``value`` copied and made read-only, recursively.

    Mappings become :class:`FrozenDict`, lists and tuples become tuples,
    DataFrames and Series are copied, numpy arrays are copied and made
    read-only; anything else is kept as it is.

    Examples
    --------
    >>> import numpy as np
    >>> frozen = freeze({"edges": [0, 1], "counts": np.array([2, 3])})
    >>> frozen["edges"], frozen["counts"].flags.writeable
    ((0, 1), False)
    """
    if isinstance(value, pd.DataFrame | pd.Series):
        return value.copy(deep=True)
    if isinstance(value, np.ndarray):
        out = value.copy()
        out.setflags(write=False)
        return out
    if isinstance(value, Mapping):
        items = value._data.items() if isinstance(value, FrozenDict) else value.items()
        return FrozenDict({k: freeze(v) for k, v in items})
    if type(value) is list or type(value) is tuple:
        return tuple(freeze(v) for v in value)
    return value


def refreeze(value: Any) -> None:
    """Make the arrays inside an unpickled (or deep-copied) frozen value read-only again."""
    if isinstance(value, np.ndarray):
        value.setflags(write=False)
    elif isinstance(value, FrozenDict):
        for v in value._data.values():
            refreeze(v)
    elif type(value) is tuple:
        for v in value:
            refreeze(v)
