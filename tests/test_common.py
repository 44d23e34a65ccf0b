"""scikit-learn's common checks over every public estimator, and splitter checks.

The estimators come from the single registry :func:`mllife.all_estimators`;
instances and justified expected failures come from ``tests/common_instances``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import parametrize_with_checks

import mllife
from tests.common_instances import collect

INSTANCES = collect("INSTANCES")
EXPECTED = collect("EXPECTED_FAILED_CHECKS")
SPLITTERS = collect("SPLITTERS")


def _estimators() -> list:
    out = []
    for name, cls in mllife.all_estimators(type_filter=["classifier", "regressor", "transformer"]):
        out.extend(INSTANCES.get(name) or [cls()])
    return out


def _expected_failed_checks(estimator) -> dict[str, str]:
    expected = EXPECTED.get(type(estimator).__name__, {})
    applies = expected.get("__applies__")
    if applies is not None and not applies(estimator):
        return {}
    return {k: v for k, v in expected.items() if k != "__applies__"}


def _checks_mark():
    mark = parametrize_with_checks(_estimators(), expected_failed_checks=_expected_failed_checks)
    # scikit-learn < 1.7 hands pytest a generator, which pytest 9 deprecates: make it a list.
    names, values = mark.args[0], list(mark.args[1])
    return pytest.mark.parametrize(names, values, **mark.kwargs)


@_checks_mark()
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_every_estimator_has_a_check():
    """Nothing in the registry escapes the common tests."""
    names = {type(e).__name__ for e in _estimators()} | set(SPLITTERS)
    registered = {name for name, _ in mllife.all_estimators()}
    assert registered <= names
    # Listed instances and expected failures refer to real public estimators.
    assert set(INSTANCES) <= registered
    assert set(EXPECTED) <= registered
    for reasons in EXPECTED.values():
        assert all(isinstance(r, str) and len(r) > 15
                   for k, r in reasons.items() if k != "__applies__")


def test_registry_lists_splitters_separately():
    splitters = {name for name, _ in mllife.all_estimators(type_filter="splitter")}
    assert splitters == set(SPLITTERS)


def _splitter_frame(n: int = 240, seed: int = 0) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 60, n)
    X = pd.DataFrame(
        {
            "t": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D"),
            "g": rng.integers(0, 30, n),
            "a": rng.integers(0, 4, n).astype(float),
            "b": rng.choice(["x", "y"], n),
        }
    )
    y = pd.Series(rng.integers(0, 2, n), name="y")
    return X, y, X["g"]


SPLITTER_CASES = [
    pytest.param(name, splitter, covers, id=f"{name}-{i}")
    for name, cases in sorted(SPLITTERS.items())
    for i, (splitter, covers) in enumerate(cases)
]


@pytest.mark.parametrize(("name", "splitter", "covers_all"), SPLITTER_CASES)
def test_splitter_contract(name, splitter, covers_all):
    X, y, groups = _splitter_frame()
    folds = list(splitter.split(X, y, groups))
    assert len(folds) == splitter.get_n_splits(X, y, groups)
    seen = np.zeros(len(X), dtype=int)
    for train, test in folds:
        assert len(test) > 0
        assert len(train) > 0
        assert np.intersect1d(train, test).size == 0
        assert train.min() >= 0
        assert max(train.max(), test.max()) < len(X)
        seen[test] += 1
    if covers_all:
        assert (seen == 1).all()
    # Deterministic: a clone splits the same way.
    again = list(clone(splitter).split(X, y, groups))
    for (a_train, a_test), (b_train, b_test) in zip(folds, again, strict=True):
        np.testing.assert_array_equal(a_train, b_train)
        np.testing.assert_array_equal(a_test, b_test)
    # Usable as cv= anywhere in scikit-learn.
    from sklearn.model_selection import check_cv

    assert check_cv(splitter) is splitter
