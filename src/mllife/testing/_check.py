"""``check_transformer`` and ``parametrize_with_mllife_checks``: the contract, as a test kit."""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from unittest import SkipTest

from .._errors import InputError, TransformerCheckError
from ._compare import short
from ._data import describe_data, read_data
from ._report import TransformerCheckReport, rules_frame
from ._rules import RULES, Context, run_rules
from ._sklearn import expected_reason, failure_message, known_names, run_sklearn_checks
from ._sklearn import sklearn_checks as _checks_of

__all__ = ["check_transformer", "parametrize_with_mllife_checks"]


def _check_estimator(estimator: Any) -> None:
    if isinstance(estimator, type):
        raise InputError(f"estimator is the class {estimator.__name__}",
                         expected=f"an instance: {estimator.__name__}(...)")
    missing = [m for m in ("fit", "transform", "get_params") if not callable(
        getattr(estimator, m, None))]
    if missing:
        raise InputError(f"estimator is a {type(estimator).__name__} without {missing}",
                         expected="a scikit-learn transformer (fit, transform, get_params)")


def _expected(value: Any, estimator: Any) -> dict[str, str]:
    """``expected_failed_checks`` as a dict of check name to reason (a callable is called)."""
    if value is None:
        return {}
    if callable(value) and not isinstance(value, Mapping):
        value = value(estimator)
        if value is None:
            return {}
    if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InputError(f"expected_failed_checks is a {type(value).__name__}",
                         expected="a dict of check or rule name to the reason it fails, or a "
                                  "callable returning one for an estimator")
    return dict(value)


def _check_names(expected: Mapping[str, str], estimator: Any,
                 checks: list[tuple[Any, Any, str]] | None) -> None:
    """Refuse a name in ``expected_failed_checks`` that is neither one of mllife's rules nor
    one of scikit-learn's checks for ``estimator``: a misspelt name would silently mark
    nothing as expected (and a reader would believe it did).

    scikit-learn's check names are known whether or not ``sklearn_checks`` runs them, so one
    dict serves both; ``checks`` are those listed already (``None``: listed here if needed).
    """
    unknown = sorted(name for name in expected if name not in RULES)
    if not unknown:
        return
    if checks is None:
        try:
            with warnings.catch_warnings():  # scikit-learn 1.6 warns about a non-BaseEstimator
                warnings.simplefilter("ignore")
                checks = _checks_of(estimator)
        except InputError:  # not a BaseEstimator: it has no scikit-learn check
            checks = []
    known = set(RULES) | known_names(name for _, _, name in checks)
    unknown = [name for name in unknown if name not in known]
    if not unknown:
        return
    hints = [f"{close[0]!r} for {name!r}" for name in unknown
             if (close := difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8))]
    sklearn_names = sorted({name.partition("(")[0] for _, _, name in checks})
    sklearn_part = (f"; scikit-learn's checks for {type(estimator).__name__}, with or without the "
                    f"'sklearn:' prefix and the arguments: {sklearn_names}" if checks else
                    f"; scikit-learn has no check for {type(estimator).__name__} (not a "
                    "BaseEstimator)")
    raise InputError(f"expected_failed_checks names {unknown}: no check has that name"
                     + (f" (did you mean {', '.join(hints)}?)" if hints else ""),
                     expected=f"names of checks: mllife's rules {list(RULES)}" + sklearn_part)


def _check_trusted(trusted: Any) -> None:
    from ..bundle._trust import type_names

    type_names(trusted)  # an InputError for anything but types and full type names


def estimator_id(estimator: Any) -> str:
    """The estimator's repr on one line, as scikit-learn's test ids write it.

    A repr that raises (``get_params`` of an ``__init__`` that does not store its
    parameters: ``init_stores_params`` reports it) gives the class name alone.
    """
    try:
        text = repr(estimator)
    except Exception:  # a broken get_params: the rules say what is wrong
        text = f"{type(estimator).__name__}(...)"
    return short(re.sub(r"\s+", "", text), 200)


def check_transformer(estimator: Any, X: Any = None, y: Any = None, *,
                      sklearn_checks: bool = True,
                      expected_failed_checks: Mapping[str, str] | None = None,
                      trusted: Any = None) -> TransformerCheckReport:
    """Check a transformer against scikit-learn's common checks and mllife's own contract.

    Runs scikit-learn's common checks (each a rule ``sklearn:<check>``; they
    feed their own random numpy data), then mllife's rules on ``X``:
    ``init_stores_params``, ``fit_transform``, ``names_out_length``,
    ``names_out_explain_source``, ``describe_features_rows``,
    ``pandas_in_out``, ``polars_in_out``, ``numpy_in``,
    ``no_input_mutation``, ``deterministic``, ``pickle_round_trip``,
    ``bundle_round_trip`` and ``not_fitted_error`` (docs/testing.md says
    what each checks). A rule that cannot apply is ``skipped`` with the
    reason (polars not installed, a rule it needs failed...), never passed.
    Nothing raises on a broken rule: read the report, or call
    :meth:`~TransformerCheckReport.raise_for_failures`.

    The estimator itself is never fitted or changed: every rule works on a
    clone, with ``random_state`` fixed to 0 when it has one left at None.

    Parameters
    ----------
    estimator : transformer instance
        A :class:`~mllife.features.FrameTransformer` subclass, or any
        scikit-learn transformer (``BaseEstimator, TransformerMixin``).
    X : DataFrame (pandas, polars) or 2-D array, optional
        The data mllife's rules run on; give it when the transformer needs
        particular columns. By default a small numeric frame with missing
        values: 24 rows, columns ``x0`` (positive floats), ``x1`` (integers
        1 to 9), ``x2`` (codes 0, 1, 2), ``x3`` (floats of either sign), NaN
        in ``x0``, ``x2`` and ``x3``, and the index ``1000, 1003, ...``.
        Columns named ``x0, x1, ...`` let ``numpy_in`` check numpy input
        with the same transformer.
    y : array-like, optional
        Passed to ``fit``. The bundle rule's dummy model needs a target:
        without ``y`` it is fitted on alternating 0 / 1.
    sklearn_checks : bool, default=True
        Run scikit-learn's common checks too (False: mllife's rules only).
    expected_failed_checks : dict of str to str, optional
        Checks or rules expected to fail, each with the reason, as
        scikit-learn's ``check_estimator`` takes them (``{"check_fit2d_1feature":
        "needs two columns"}``; mllife rules by name). A listed check that
        fails is ``skipped`` with the reason. A name that is neither a rule
        nor one of scikit-learn's checks for the estimator (a typo) raises
        :class:`~mllife.InputError` listing them; a scikit-learn check is
        known with ``sklearn_checks=False`` too, so one dict serves both.
    trusted : type, str or list of them, optional
        Types of yours the transformer holds (besides its own class, which
        ``bundle_round_trip`` trusts itself), as :func:`~mllife.load_bundle`
        takes them. ``bundle_round_trip`` then also checks that the bundle
        is refused without them.

    Returns
    -------
    TransformerCheckReport
        ``.passed``, the ``rules`` table and one ``error`` finding per failed
        rule.

    Raises
    ------
    InputError
        When ``estimator`` is not a transformer instance, ``X`` is not a
        table of at least 2 rows, ``y`` has another length,
        ``expected_failed_checks`` / ``trusted`` have the wrong type,
        ``expected_failed_checks`` names no rule or check (a typo), or
        scikit-learn cannot list its checks for ``estimator`` (not a
        ``BaseEstimator``; ``sklearn_checks=False`` runs mllife's rules alone).

    Examples
    --------
    >>> from mllife.features import RatioFeatures
    >>> from mllife.testing import check_transformer
    >>> report = check_transformer(RatioFeatures([("x0", "x1")]))
    >>> report.passed
    True
    >>> rules = report.rules.set_index("rule")["status"]
    >>> rules[["sklearn:check_fit2d_1sample", "names_out_explain_source", "bundle_round_trip"]]
    rule
    sklearn:check_fit2d_1sample    passed
    names_out_explain_source       passed
    bundle_round_trip              passed
    Name: status, dtype: object

    A transformer that stores its parameter changed breaks a rule:

    >>> from sklearn.base import BaseEstimator, TransformerMixin
    >>> class Scale(TransformerMixin, BaseEstimator):
    ...     def __init__(self, factor=2.0):
    ...         self.factor = float(factor)  # not stored as given
    ...     def fit(self, X, y=None):
    ...         return self
    ...     def transform(self, X):
    ...         return X * self.factor
    >>> report = check_transformer(Scale(), sklearn_checks=False)
    >>> report.passed, report.failed_rules[:2]
    (False, ['init_stores_params', 'names_out_length'])
    """
    _check_estimator(estimator)
    expected = _expected(expected_failed_checks, estimator)
    frame, y = read_data(X, y)
    _check_trusted(trusted)
    checks = _checks_of(estimator) if sklearn_checks else None
    _check_names(expected, estimator, checks)
    rows: list[dict[str, str]] = []
    if checks is not None:
        rows += run_sklearn_checks(estimator, expected, checks)
    rows += run_rules(Context(estimator, frame, y, trusted), RULES, expected)
    return TransformerCheckReport(estimator=estimator_id(estimator),
                                  data=describe_data(frame, default=X is None),
                                  rules=rules_frame(rows))


def _with_needs(rule: str) -> list[str]:
    """``rule`` after every rule it needs (transitively), in the order of :data:`RULES`."""
    wanted = {rule}
    for name in reversed(list(RULES)):
        if name in wanted:
            wanted |= set(RULES[name].needs)
    return [name for name in RULES if name in wanted]


class MllifeCheck:
    """One of mllife's rules as a pytest check: ``check(estimator)``.

    Raises :class:`~mllife.TransformerCheckError` naming the rule when it
    fails, and ``unittest.SkipTest`` (a pytest skip) with the reason when it
    cannot apply.
    """

    def __init__(self, rule: str, X: Any = None, y: Any = None, trusted: Any = None) -> None:
        self.rule = rule
        self.X = X
        self.y = y
        self.trusted = trusted

    def __repr__(self) -> str:
        return f"MllifeCheck({self.rule!r})"

    def __call__(self, estimator: Any) -> None:
        frame, y = read_data(self.X, self.y)
        rows = run_rules(Context(estimator, frame, y, self.trusted), _with_needs(self.rule), {})
        row = rows[-1]
        if row["status"] == "failed":
            raise TransformerCheckError(f"{estimator_id(estimator)}: {row['message']}",
                                        rules=[self.rule])
        if row["status"] == "skipped":
            raise SkipTest(f"{self.rule}: {row['message']}")


class SklearnCheck:
    """One of scikit-learn's common checks as a pytest check: ``check(estimator)``.

    A failure is re-raised as :class:`~mllife.TransformerCheckError` naming
    the rule ``sklearn:<check>``, the original exception chained.
    """

    def __init__(self, name: str, check: Callable[[Any], Any]) -> None:
        self.name = name
        self.check = check

    def __repr__(self) -> str:
        return f"SklearnCheck({self.name!r})"

    def __call__(self, estimator: Any) -> None:
        try:
            self.check(estimator)
        except SkipTest:
            raise
        except Exception as exc:  # a failed check, whatever scikit-learn raised
            raise TransformerCheckError(f"{estimator_id(estimator)}: "
                                        f"{failure_message(self.name, exc)}",
                                        rules=[f"sklearn:{self.name}"]) from exc


def parametrize_with_mllife_checks(estimators: Iterable[Any], *, X: Any = None, y: Any = None,
                                   sklearn_checks: bool = True,
                                   expected_failed_checks: Any = None,
                                   trusted: Any = None) -> Any:
    """A ``pytest.mark.parametrize(("estimator", "check"), ...)`` over every rule of each estimator.

    The pytest form of :func:`check_transformer`, as scikit-learn's
    ``parametrize_with_checks`` is of ``check_estimator``: one test per
    estimator and rule, with readable ids (``LogRatio()-names_out_length``,
    ``LogRatio()-sklearn:check_fit2d_1sample``). Each ``check(estimator)``
    raises :class:`~mllife.TransformerCheckError` (an ``AssertionError``)
    naming the rule, what it expected and what happened; a rule that cannot
    apply is skipped with the reason; a check listed in
    ``expected_failed_checks`` is marked ``xfail`` with its reason. pytest
    is imported by this function only (``import mllife.testing`` does not
    import it).

    Parameters
    ----------
    estimators : iterable of transformer instances
    X, y : optional
        As for :func:`check_transformer` (the same for every estimator).
    sklearn_checks : bool, default=True
        Include scikit-learn's common checks.
    expected_failed_checks : callable, optional
        ``estimator -> {check or rule name: reason}``, as scikit-learn's
        ``parametrize_with_checks`` takes it (a dict applies to every
        estimator). A name of no rule or check raises
        :class:`~mllife.InputError`, as in :func:`check_transformer`.
    trusted : type, str or list of them, optional
        As for :func:`check_transformer`.

    Returns
    -------
    pytest.MarkDecorator
        Decorate a test ``def test_x(estimator, check): check(estimator)``.

    Examples
    --------
    >>> from mllife.features import RatioFeatures
    >>> from mllife.testing import parametrize_with_mllife_checks
    >>> mark = parametrize_with_mllife_checks([RatioFeatures([("x0", "x1")])],
    ...                                       sklearn_checks=False)
    >>> mark.args[0]
    ('estimator', 'check')
    >>> [p.id for p in mark.args[1]][:2]
    ["RatioFeatures(pairs=[('x0','x1')])-init_stores_params", "RatioFeatures(pairs=[('x0','x1')])-fit_transform"]
    """
    import pytest

    if isinstance(estimators, Mapping) or not isinstance(estimators, Iterable):
        raise InputError(f"estimators is a {type(estimators).__name__}",
                         expected="a list of transformer instances")
    read_data(X, y)
    _check_trusted(trusted)
    params = []
    for estimator in estimators:
        _check_estimator(estimator)
        expected = _expected(expected_failed_checks, estimator)
        checks = sklearn_checks_of(estimator) if sklearn_checks else None
        _check_names(expected, estimator, checks)
        name = estimator_id(estimator)

        def marks(check: str, expected: dict[str, str] = expected) -> Any:
            reason = expected_reason(expected, check)
            return [pytest.mark.xfail(reason=reason)] if reason is not None else []

        if checks is not None:
            for est, check, check_name in checks:
                params.append(pytest.param(est, SklearnCheck(check_name, check),
                                           id=f"{name}-sklearn:{check_name}",
                                           marks=marks(check_name)))
        for rule in RULES:
            params.append(pytest.param(estimator, MllifeCheck(rule, X, y, trusted),
                                       id=f"{name}-{rule}", marks=marks(rule)))
    return pytest.mark.parametrize(("estimator", "check"), params)


def sklearn_checks_of(estimator: Any) -> list[tuple[Any, Any, str]]:
    """scikit-learn's checks for ``estimator`` (an InputError when it cannot list them)."""
    return _checks_of(estimator)
