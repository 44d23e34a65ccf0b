"""The check registry: built-in and user checks share one contract.

A check is a function ``check(data: AuditData, **params) -> iterable of
Finding``. :class:`Check` wraps it (template method): it runs the function,
then validates every finding (type, check name, column, counts, shares), so
a user check cannot put a malformed finding in a report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from .._errors import InputError, MllifeError
from ..report import Finding
from ._data import AuditData

__all__ = ["Check", "register_check", "registered_checks", "resolve_checks", "unregister_check"]

CheckFunction = Callable[..., Iterable[Finding] | None]
F = TypeVar("F", bound=CheckFunction)


class Check:
    """One named check: the function, its default parameters and output validation.

    Parameters
    ----------
    name : str
    function : callable
        ``function(data, **params)`` returning findings (or None for none).
    params : mapping, optional
        Keyword arguments passed to ``function``.
    builtin : bool, default=False
    """

    def __init__(self, name: str, function: CheckFunction, params: Mapping[str, Any] | None = None,
                 *, builtin: bool = False) -> None:
        self.name = name
        self.function = function
        self.params = dict(params or {})
        self.builtin = builtin

    def __repr__(self) -> str:
        return f"<Check {self.name!r}{' (built-in)' if self.builtin else ''}>"

    def with_params(self, params: Mapping[str, Any]) -> Check:
        """A copy with ``params`` overriding the defaults."""
        return Check(self.name, self.function, {**self.params, **params}, builtin=self.builtin)

    def run(self, data: AuditData) -> list[Finding]:
        """Run the check and validate what it returns."""
        try:
            found = self.function(data, **self.params)
        except MllifeError:
            raise
        except TypeError as exc:
            raise InputError(f"check {self.name!r} could not be called: {exc}",
                             expected="a function check(data, **params) returning Findings") from exc
        except Exception as exc:
            raise InputError(f"check {self.name!r} failed: {type(exc).__name__}: {exc}",
                             expected="a check that returns findings") from exc
        if found is None:
            return []
        if isinstance(found, Finding):
            found = [found]
        out = []
        for f in found:
            self._validate(f, data)
            out.append(f)
        return out

    def _validate(self, f: Any, data: AuditData) -> None:
        def bad(what: str) -> InputError:
            return InputError(f"check {self.name!r} returned {what}",
                              expected="Finding objects with this check's name, a column of the "
                                       "frame (or None), 0 <= n_rows <= rows and 0 <= share <= 1")

        if not isinstance(f, Finding):
            raise bad(f"a {type(f).__name__}, not a Finding")
        if f.check != self.name:
            raise bad(f"a finding named {f.check!r}")
        if f.column is not None and not any(c.label == f.column for c in data.columns):
            raise bad(f"a finding for column {f.column!r}, which is not in the frame")
        if f.n_rows is not None and not 0 <= f.n_rows <= data.n_rows:
            raise bad(f"n_rows={f.n_rows} for a {data.n_rows}-row frame")
        if f.share is not None and not 0.0 <= f.share <= 1.0:
            raise bad(f"share={f.share}")


#: Registered checks by name, in run order (built-ins first).
REGISTRY: dict[str, Check] = {}
#: The built-in checks, kept to restore one that a user check replaced.
_BUILTINS: dict[str, Check] = {}


def register_check(function: F | None = None, *, name: str | None = None, replace: bool = False,
                   **params: Any) -> Any:
    """Register a user check; :func:`mllife.audit` then runs it with the built-ins.

    A check is a function ``check(data, **params)`` that receives an
    :class:`~mllife.audit.AuditData` (the frame, ``target``, ``time_col``,
    ``id_cols``, ``n_rows`` and cached per-column statistics in
    ``data.columns``) and returns or yields :class:`~mllife.report.Finding`
    objects whose ``check`` is the registered name. Every finding is validated
    (column in the frame, ``0 <= n_rows <= rows``, ``0 <= share <= 1``); a bad
    one, or an exception inside the check, raises :class:`mllife.InputError`
    naming the check. Usable as a decorator, with or without arguments.

    Parameters
    ----------
    function : callable
        The check.
    name : str, optional
        The check's name; ``function.__name__`` by default.
    replace : bool, default=False
        Allow replacing a registered check of the same name.
    **params
        Default keyword arguments for the check (overridable per call with
        ``audit(df, checks={"name": {...}})``).

    Returns
    -------
    callable
        ``function``, unchanged (so it works as a decorator).

    Raises
    ------
    InputError
        When ``function`` is not callable or the name is taken.

    Examples
    --------
    >>> import pandas as pd
    >>> import mllife
    >>> from mllife.report import Finding
    >>> @mllife.audit.register_check(name="negative_price")
    ... def negative_price(data):
    ...     if "price" in data.frame:
    ...         bad = data.frame["price"] < 0
    ...         if bad.any():
    ...             yield Finding("negative_price", "error", column="price",
    ...                           message="prices below zero", n_rows=int(bad.sum()))
    >>> report = mllife.audit(pd.DataFrame({"price": [3.0, -1.0, 2.0]}), checks=["negative_price"])
    >>> [f.check for f in report.findings]
    ['negative_price']
    >>> mllife.audit.unregister_check("negative_price")

    Registered checks are process-wide: in tests and notebooks, register
    inside :func:`registered_checks`, which undoes it on exit.
    """

    def decorate(fn: F) -> F:
        if not callable(fn):
            raise InputError(f"{fn!r} is not callable", expected="a function check(data, **params)")
        check_name = name if name is not None else getattr(fn, "__name__", None)
        if not isinstance(check_name, str) or not check_name:
            raise InputError("a check needs a name", expected="name='my_check'")
        if check_name in REGISTRY and not replace:
            raise InputError(f"a check named {check_name!r} is already registered",
                             expected="another name, or replace=True")
        REGISTRY[check_name] = Check(check_name, fn, params)
        return fn

    if function is None:
        return decorate
    return decorate(function)


def unregister_check(name: str) -> None:
    """Remove a check added with :func:`register_check`.

    A user check that replaced a built-in one (``replace=True``) gives way to
    the built-in again.

    Parameters
    ----------
    name : str
        The name the check was registered under.

    Raises
    ------
    InputError
        When no user check of that name is registered (built-in checks stay:
        leave one out of a run with ``audit(df, checks=[...])``).

    Examples
    --------
    >>> import mllife
    >>> @mllife.audit.register_check(name="always_quiet")
    ... def always_quiet(data):
    ...     return None
    >>> mllife.audit.unregister_check("always_quiet")
    >>> mllife.audit.unregister_check("always_quiet")
    Traceback (most recent call last):
    ...
    mllife._errors.InputError: no user check named 'always_quiet' is registered...
    """
    check = REGISTRY.get(name) if isinstance(name, str) else None
    if check is None or check.builtin:
        user = ", ".join(n for n, c in REGISTRY.items() if not c.builtin) or "none registered"
        problem = (f"{name!r} is a built-in check (leave it out of a run with audit(df, checks=[...]))"
                   if check is not None else f"no user check named {name!r} is registered")
        raise InputError(problem, expected=f"the name of a user check ({user})")
    if name in _BUILTINS:
        REGISTRY[name] = _BUILTINS[name]  # same place in the run order
    else:
        del REGISTRY[name]


@contextmanager
def registered_checks(*functions: CheckFunction, replace: bool = False) -> Iterator[None]:
    """A scope for user checks: what is registered inside it is unregistered on exit.

    On entry, registers each of ``functions`` under its ``__name__`` (like
    :func:`register_check`); on exit, even when an exception leaves the
    block, the registry is restored to what it was on entry: checks
    registered inside the block (by ``functions`` or by any call to
    :func:`register_check`) are gone, checks they replaced are back.
    Scopes nest. Use it in tests, doctests and notebooks so no
    registration leaks into the next run.

    Parameters
    ----------
    *functions : callable
        Checks ``check(data, **params)`` to register for the block, each
        under its function name. Register with a name or default parameters
        by calling :func:`register_check` inside the block.
    replace : bool, default=False
        Allow ``functions`` to replace registered checks of the same name
        (for the block only).

    Yields
    ------
    None

    Raises
    ------
    InputError
        As :func:`register_check`, before the block runs (nothing is left
        registered).

    Examples
    --------
    >>> import pandas as pd
    >>> import mllife
    >>> from mllife.report import Finding
    >>> def too_few_rows(data, minimum=5):
    ...     if data.n_rows < minimum:
    ...         yield Finding("too_few_rows", "warning", message=f"fewer than {minimum} rows")
    >>> with mllife.audit.registered_checks(too_few_rows):
    ...     report = mllife.audit(pd.DataFrame({"a": [1, 2]}))
    >>> [f.check for f in report.findings_by(check="too_few_rows")]
    ['too_few_rows']
    >>> "too_few_rows" in mllife.audit(pd.DataFrame({"a": [1, 2]})).checks
    False
    """
    before = dict(REGISTRY)
    try:
        for fn in functions:
            register_check(fn, replace=replace)
        yield
    finally:
        # Built-ins loaded while the block ran stay; everything else is as on entry.
        late = {n: c for n, c in REGISTRY.items() if c.builtin and n not in before}
        REGISTRY.clear()
        REGISTRY.update(before)
        REGISTRY.update(late)


def _builtin(name: str, **params: Any) -> Callable[[F], F]:
    def decorate(fn: F) -> F:
        REGISTRY[name] = _BUILTINS[name] = Check(name, fn, params, builtin=True)
        return fn

    return decorate


def resolve_checks(checks: Any) -> list[Check]:
    """Turn ``audit(checks=...)`` into Check objects.

    ``None``: every registered check. A list of names and/or callables: those.
    A mapping ``{name: {param: value}}``: those checks with those parameters.
    """
    if checks is None:
        return list(REGISTRY.values())
    if isinstance(checks, str):
        checks = [checks]
    items: Iterable[tuple[Any, Mapping[str, Any]]]
    if isinstance(checks, Mapping):
        items = [(k, v or {}) for k, v in checks.items()]
    else:
        try:
            items = [(c, {}) for c in checks]
        except TypeError:
            raise InputError(f"checks={checks!r}", expected="None, a list of check names or a mapping") from None
    out = []
    for key, params in items:
        if callable(key) and not isinstance(key, str):
            out.append(Check(getattr(key, "__name__", "custom_check"), key, params))
            continue
        if key not in REGISTRY:
            raise InputError(f"unknown check {key!r}", expected=f"one of {', '.join(REGISTRY)}")
        if not isinstance(params, Mapping):
            raise InputError(f"parameters of check {key!r} are {params!r}", expected="a mapping")
        out.append(REGISTRY[key].with_params(params))
    return out
