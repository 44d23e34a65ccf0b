"""One vocabulary across the public API (decisions D1–D5 of issue 15), checked by introspection.

Every public callable reachable from ``mllife.__all__`` and each subpackage's
``__all__`` (functions, classes' ``__init__`` and public methods, and the
functions of public modules such as ``mllife.drift.stats``) is inspected:

* D1: the positive class is ``positive_label`` (never ``pos_label``, ``positive``);
* D2: a column name is ``target`` / ``time_col`` / ``group_col`` / ``id_cols``;
  ``time`` / ``groups`` are arrays, allowed only where listed below;
* D3: ``random_state`` defaults to ``None`` (the seed 0), and is keyword-only on
  functions;
* D4: policies are ``"error" | "warn" | "ignore"`` (no ``"raise"``), a rare bucket
  is ``rare_value`` (never ``rare_label``);
* D5: a call taking ``target``, ``task``, ``positive_label``, ``criteria``,
  ``time_col`` or ``group_col`` also takes ``spec=`` (a ``ProblemSpec``).
"""

from __future__ import annotations

import importlib
import inspect
import re
import types
from collections.abc import Callable, Iterator

import pytest
from sklearn.base import BaseEstimator
from sklearn.model_selection import BaseCrossValidator

import mllife
from mllife.report import Report

#: D1, D2, D4: names that must not appear as parameters, with the name to use.
BANNED = {
    "pos_label": "positive_label",
    "positive": "positive_label",
    "rare_label": "rare_value",
    "group": "group_col (a column name) or groups (an array)",
    "time_column": "time_col",
    "group_column": "group_col",
    "target_col": "target",
    "target_column": "target",
    "id_columns": "id_cols",
}

#: D2: where ``time`` / ``groups`` are arrays (one value per row), and why.
ARRAY_PARAMETERS = {
    ("mllife.evaluate", "time"): "one time per test row (time_col names a column)",
    ("mllife.compare_models", "groups"): "group labels for group-aware splitters, one per row",
    ("mllife.PurgedTimeSeriesSplit.__init__", "time"): "one time per row (time_col names a column)",
    ("mllife.TimeSeriesGroupSplit.__init__", "time"): "one time per row (time_col names a column)",
    # scikit-learn's splitter protocol: split(X, y=None, groups=None), get_n_splits(...)
    **{(f"mllife.{cls}.{method}", "groups"): "scikit-learn's splitter protocol"
       for cls in ("DuplicateAwareKFold", "PurgedTimeSeriesSplit", "TimeSeriesGroupSplit")
       for method in ("split", "get_n_splits")},
}

#: D5: the keywords a ProblemSpec holds.
SPEC_FIELDS = ("target", "task", "positive_label", "criteria", "time_col", "group_col")

#: D5 exceptions: classes whose constructor or methods name these fields for another reason.
SPEC_EXEMPT_CLASSES = {
    "ProblemSpec": "it is the spec",
    "SuccessCriteria": "it is the spec's criteria",
    "AuditData": "the value a check receives: the resolved target/time_col, not user input",
    "Split": "the value split() returns: it records the resolved target",
}

POLICY_DEFAULT_BANNED = "raise"


def _is_mllife(obj: object) -> bool:
    return str(getattr(obj, "__module__", "") or "").startswith("mllife")


def _public_objects() -> dict[str, object]:
    """Qualified public name -> function or class, each object once (first name wins)."""
    found: dict[int, tuple[str, object]] = {}
    roots: list[tuple[str, types.ModuleType]] = [("mllife", mllife)]
    roots += [(f"mllife.{n}", importlib.import_module(f"mllife.{n}")) for n in mllife.SUBPACKAGES]

    def names_of(module: types.ModuleType) -> list[str]:
        return list(getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")])

    for prefix, module in roots:
        for name in names_of(module):
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType):  # a public module: mllife.drift.stats
                for inner in names_of(obj):
                    value = getattr(obj, inner)
                    if (inspect.isfunction(value) or inspect.isclass(value)) and _is_mllife(value):
                        found.setdefault(id(value), (f"{obj.__name__}.{inner}", value))
            elif (inspect.isfunction(obj) or inspect.isclass(obj)) and _is_mllife(obj):
                found.setdefault(id(obj), (f"{prefix}.{name}", obj))
    return dict(sorted(found.values(), key=lambda item: item[0]))


def _callables() -> Iterator[tuple[str, Callable[..., object], type | None]]:
    """(qualified name, function, owning class or None) for every public callable."""
    for name, obj in _public_objects().items():
        if not inspect.isclass(obj):
            yield name, obj, None  # type: ignore[misc]
            continue
        init = obj.__init__
        if inspect.isfunction(init) and _is_mllife(init):
            yield f"{name}.__init__", init, obj
        for attr, raw in inspect.getmembers_static(obj):
            if attr.startswith("_"):
                continue
            fn = raw.__func__ if isinstance(raw, classmethod | staticmethod) else raw
            if inspect.isfunction(fn) and _is_mllife(fn):
                yield f"{name}.{attr}", fn, obj


CALLABLES = list(_callables())


def _parameters(fn: Callable[..., object]) -> dict[str, inspect.Parameter]:
    try:
        return dict(inspect.signature(fn).parameters)
    except (TypeError, ValueError):  # pragma: no cover - builtins
        return {}


def _doc_type(fn: Callable[..., object], parameter: str, owner: type | None = None) -> str | None:
    """The numpydoc type line of ``parameter`` (``None`` when undocumented).

    A constructor's parameters are documented on its class (numpydoc).
    """
    doc = inspect.getdoc(fn) or ""
    if owner is not None and fn.__name__ == "__init__":
        doc = (inspect.getdoc(owner) or "") + "\n" + doc
    for line in doc.splitlines():
        match = re.match(r"^([\w, *]+?) : (.*)$", line)
        if match and parameter in [p.strip().lstrip("*") for p in match.group(1).split(",")]:
            return match.group(2)
    return None


def _report(violations: list[str]) -> str:
    return f"{len(violations)} violation(s):\n  " + "\n  ".join(violations)


def test_the_walk_sees_the_public_api():
    names = {name for name, _, _ in CALLABLES}
    for expected in ("mllife.evaluate", "mllife.split.split", "mllife.audit.audit",
                     "mllife.drift.drift_report", "mllife.DriftProfile.compare",
                     "mllife.InputSchema.__init__", "mllife.drift.stats.ks",
                     "mllife.PurgedTimeSeriesSplit.__init__", "mllife.datasets.make_churn"):
        assert expected in names, expected
    assert len(CALLABLES) > 150


def test_no_banned_parameter_names():
    """D1, D2, D4: ``positive_label``, ``rare_value``, ``*_col`` column names."""
    violations = [f"{name}({param}=...): use {BANNED[param]}"
                  for name, fn, _ in CALLABLES for param in _parameters(fn) if param in BANNED]
    assert not violations, _report(violations)


def test_time_and_groups_are_arrays_only_where_listed():
    """D2: ``time`` / ``groups`` take arrays; a column name goes in ``time_col`` / ``group_col``."""
    violations = []
    for name, fn, owner in CALLABLES:
        for param in _parameters(fn):
            if param not in ("time", "groups"):
                continue
            if (name, param) not in ARRAY_PARAMETERS:
                doc = _doc_type(fn, param, owner) or "undocumented"
                violations.append(f"{name}({param}=...) [{doc}]: a column name is {param}_col "
                                  "(D2); an array parameter must be listed in ARRAY_PARAMETERS")
                continue
            doc = _doc_type(fn, param, owner)
            if doc is not None and re.search(r"\bstr\b|column", doc, flags=re.I):
                violations.append(f"{name}({param}: {doc}): documented as taking a column name")
    assert not violations, _report(violations)


def test_array_allow_list_is_current():
    names = {(name, p) for name, fn, _ in CALLABLES for p in _parameters(fn)}
    stale = sorted(set(ARRAY_PARAMETERS) - names)
    assert not stale, f"ARRAY_PARAMETERS lists parameters that no longer exist: {stale}"


def test_random_state_defaults_to_none():
    """D3: ``random_state=None`` means the seed 0 everywhere; keyword-only on functions."""
    violations = []
    for name, fn, owner in CALLABLES:
        param = _parameters(fn).get("random_state")
        if param is None:
            continue
        if param.default is not None:
            violations.append(f"{name}(random_state={param.default!r}): default must be None")
        if owner is None and param.kind is not inspect.Parameter.KEYWORD_ONLY:
            violations.append(f"{name}: random_state must be keyword-only")
    assert not violations, _report(violations)


def test_no_policy_is_spelled_raise():
    """D4: policies are "error" | "warn" | "ignore" — in defaults and in the documented values."""
    violations = []
    for name, fn, owner in CALLABLES:
        for param, p in _parameters(fn).items():
            if p.default == POLICY_DEFAULT_BANNED:
                violations.append(f"{name}({param}='raise'): use 'error'")
            doc = _doc_type(fn, param, owner)
            if doc is not None and re.search(r"""['"]raise['"]""", doc):
                violations.append(f"{name}({param}: {doc}): documents 'raise'; use 'error'")
    assert not violations, _report(violations)


def _spec_exempt(owner: type | None) -> str | None:
    if owner is None:
        return None
    if issubclass(owner, BaseEstimator | BaseCrossValidator):
        return "estimators take only hyper-parameters in __init__ and data in fit"
    if issubclass(owner, Report):
        return "reports are values recording what was resolved"
    return SPEC_EXEMPT_CLASSES.get(owner.__name__)


def test_problem_fields_come_with_spec():
    """D5: whoever takes target/task/positive label/criteria/time or group column takes spec=."""
    violations = []
    for name, fn, owner in CALLABLES:
        params = _parameters(fn)
        taken = [f for f in SPEC_FIELDS if f in params]
        if not taken or "spec" in params or _spec_exempt(owner):
            continue
        violations.append(f"{name}({', '.join(taken)}) has no spec= keyword")
    assert not violations, _report(violations)


def test_spec_is_keyword_only_and_defaults_to_none():
    violations = []
    for name, fn, _ in CALLABLES:
        param = _parameters(fn).get("spec")
        if param is not None and (param.default is not None
                                  or param.kind is not inspect.Parameter.KEYWORD_ONLY):
            violations.append(f"{name}: spec must be keyword-only with default None")
    assert not violations, _report(violations)


@pytest.mark.parametrize("name", sorted(SPEC_EXEMPT_CLASSES))
def test_spec_exemptions_name_public_classes(name):
    classes = {obj.__name__ for obj in _public_objects().values() if inspect.isclass(obj)}
    assert name in classes
