"""scikit-learn's common estimator checks, one rule ``sklearn:<check>`` each."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any
from unittest import SkipTest

from .._errors import InputError
from ._compare import error_text

__all__ = ["check_name", "expected_reason", "known_names", "run_sklearn_checks", "sklearn_checks"]


def check_name(check: Any) -> str:
    """A check's name as scikit-learn's ids write it: ``check_x`` or ``check_x(arg=value)``."""
    func = check.func if isinstance(check, functools.partial) else check
    name = str(getattr(func, "__name__", type(func).__name__))
    keywords = check.keywords if isinstance(check, functools.partial) else {}
    if keywords:
        name += "(" + ",".join(f"{k}={v}" for k, v in keywords.items()) + ")"
    return name


def expected_reason(expected: Mapping[str, str], name: str) -> str | None:
    """The reason ``name`` (a rule, or a scikit-learn check with or without its arguments
    and the ``sklearn:`` prefix) is listed as expected to fail, if it is."""
    bare = name.removeprefix("sklearn:")
    for key in (name, bare, f"sklearn:{bare}", bare.partition("(")[0],
                f"sklearn:{bare.partition('(')[0]}"):
        if key in expected:
            return expected[key]
    return None


def sklearn_checks(estimator: Any) -> list[tuple[Any, Any, str]]:
    """``(estimator, check, name)`` for each of scikit-learn's common checks.

    Raises :class:`~mllife.InputError` when scikit-learn cannot even list them
    (an object without its tags: not a ``BaseEstimator``).
    """
    from sklearn.utils.estimator_checks import estimator_checks_generator

    try:
        return [(est, check, check_name(check))
                for est, check in estimator_checks_generator(estimator, legacy=True, mark=None)]
    except Exception as exc:  # scikit-learn raises several types on an estimator it cannot read
        raise InputError(f"scikit-learn cannot list its checks for {type(estimator).__name__} "
                         f"({error_text(exc)})",
                         expected="an estimator scikit-learn recognises (a subclass of "
                                  "sklearn.base.BaseEstimator), or sklearn_checks=False") from exc


def failure_message(name: str, exc: BaseException) -> str:
    bare = name.partition("(")[0]
    return (f"sklearn:{name}: scikit-learn's common check failed with {error_text(exc)} "
            f"(sklearn.utils.estimator_checks.{bare} says what it expects)")


def known_names(check_names: Iterable[str]) -> set[str]:
    """Every way ``expected_failed_checks`` may name these scikit-learn checks: with or
    without the ``sklearn:`` prefix, with or without the arguments (see :func:`expected_reason`)."""
    known: set[str] = set()
    for name in check_names:
        for bare in (name, name.partition("(")[0]):
            known |= {bare, f"sklearn:{bare}"}
    return known


def run_sklearn_checks(estimator: Any, expected: Mapping[str, str],
                       checks: list[tuple[Any, Any, str]] | None = None) -> list[dict[str, str]]:
    """Run scikit-learn's common checks on ``estimator``: one rule row per check.

    As ``check_estimator(estimator, on_fail=None)`` does, but each row is
    named after the check with its arguments (``check_estimators_pickle``
    runs twice, once with ``readonly_memmap=True``). A check that raises
    ``SkipTest`` is ``skipped`` with its reason; one listed in ``expected``
    that fails is ``skipped`` with the reason given.
    """
    rows: list[dict[str, str]] = []
    seen: dict[str, int] = {}
    for est, check, name in sklearn_checks(estimator) if checks is None else checks:
        seen[name] = seen.get(name, 0) + 1
        rule = f"sklearn:{name}" + (f"#{seen[name]}" if seen[name] > 1 else "")
        reason = expected_reason(expected, name)
        try:
            check(est)
        except SkipTest as exc:
            row = {"rule": rule, "status": "skipped", "message": str(exc) or "skipped"}
        except Exception as exc:  # a failed check, whatever scikit-learn raised
            message = failure_message(name, exc)
            row = ({"rule": rule, "status": "skipped",
                    "message": f"expected to fail ({reason}): {message}"} if reason is not None
                   else {"rule": rule, "status": "failed", "message": message})
        else:
            message = "scikit-learn's common check passed"
            if reason is not None:
                message += f" (although listed as expected to fail: {reason})"
            row = {"rule": rule, "status": "passed", "message": message}
        rows.append(row)
    return rows
