"""Undoing user statistics: :func:`unregister_statistic` and the :func:`registered_statistics` scope.

The catalogue itself (built-in statistics, ``register_statistic``) is
:mod:`mllife.drift._statistics`; this module only takes registrations back,
so that tests, doctests and notebooks leave the process-wide catalogue as
they found it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .._errors import InputError
from . import _statistics

__all__ = ["registered_statistics", "unregister_statistic"]


def unregister_statistic(name: str) -> None:
    """Remove a statistic added with :func:`mllife.drift.register_statistic`.

    Parameters
    ----------
    name : str
        The name it was registered under.

    Raises
    ------
    InputError
        When no user statistic of that name is registered (built-in
        statistics cannot be removed).

    Examples
    --------
    >>> import numpy as np
    >>> from mllife.drift import register_statistic, unregister_statistic
    >>> def mean_gap(ref, cur):
    ...     return abs(float(np.mean(cur) - np.mean(ref))), None
    >>> _ = register_statistic("mean_gap", mean_gap, threshold=0.5)
    >>> unregister_statistic("mean_gap")
    >>> unregister_statistic("ks")
    Traceback (most recent call last):
    ...
    mllife._errors.InputError: 'ks' is a built-in statistic...
    """
    if isinstance(name, str) and name in _statistics._USER:
        del _statistics._USER[name]
        return
    user = ", ".join(sorted(_statistics._USER)) or "none registered"
    problem = (f"{name!r} is a built-in statistic, which cannot be unregistered"
               if isinstance(name, str) and name in _statistics._BUILTIN
               else f"no user statistic named {name!r} is registered")
    raise InputError(problem, expected=f"the name of a user statistic ({user})")


@contextmanager
def registered_statistics() -> Iterator[None]:
    """A scope for user statistics: what is registered inside it is unregistered on exit.

    On exit, even when an exception leaves the block, the catalogue of user
    statistics is restored to what it was on entry: statistics registered
    inside the block are gone, those replaced inside it (``replace=True``)
    are back. Scopes nest. Use it in tests, doctests and notebooks so no
    registration leaks into the next run.

    Yields
    ------
    None

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mllife.drift import drift_report, register_statistic, registered_statistics
    >>> def mean_gap(ref, cur):
    ...     return abs(float(np.mean(cur) - np.mean(ref))), None
    >>> ref = pd.DataFrame({"x": np.arange(100.0) % 10})
    >>> with registered_statistics():
    ...     _ = register_statistic("mean_gap", mean_gap, threshold=1.0)
    ...     report = drift_report(ref, ref + 5.0, method="mean_gap")
    >>> report.table.loc[0, "method"], bool(report.table.loc[0, "drifted"])
    ('mean_gap', True)
    >>> drift_report(ref, ref, method="mean_gap")
    Traceback (most recent call last):
    ...
    mllife._errors.InputError: drift method 'mean_gap' is not known...
    """
    before = dict(_statistics._USER)
    try:
        yield
    finally:
        _statistics._USER.clear()
        _statistics._USER.update(before)
