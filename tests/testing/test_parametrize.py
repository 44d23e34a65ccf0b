"""``parametrize_with_mllife_checks`` in a real pytest suite, and ``import mllife.testing``."""

from __future__ import annotations

import subprocess
import sys
from unittest import SkipTest

import pytest

from mllife import TransformerCheckError
from mllife.testing import parametrize_with_mllife_checks
from mllife.testing._rules import RULES

from .transformers import LOG_RATIO_EXPECTED, Clip, LogRatio, WrongNamesLength


def _expected(estimator):
    return LOG_RATIO_EXPECTED if isinstance(estimator, LogRatio) else {}


@parametrize_with_mllife_checks([LogRatio(), Clip()], expected_failed_checks=_expected)
def test_user_transformers(estimator, check):
    check(estimator)


def test_ids_are_readable_and_every_rule_is_a_test():
    mark = parametrize_with_mllife_checks([LogRatio(), Clip()], expected_failed_checks=_expected)
    assert mark.args[0] == ("estimator", "check")
    ids = [p.id for p in mark.args[1]]
    assert "LogRatio()-names_out_length" in ids
    assert "Clip()-bundle_round_trip" in ids
    assert "LogRatio()-sklearn:check_fit2d_1sample" in ids
    assert all(f"LogRatio()-{rule}" in ids for rule in RULES)
    xfails = [p.id for p in mark.args[1] if p.marks]
    assert xfails == ["LogRatio()-sklearn:check_fit2d_1feature"]
    assert LOG_RATIO_EXPECTED["check_fit2d_1feature"] in mark.args[1][
        ids.index(xfails[0])].marks[0].kwargs["reason"]


def test_mllife_rules_only():
    mark = parametrize_with_mllife_checks([Clip()], sklearn_checks=False)
    assert [p.id for p in mark.args[1]] == [f"Clip()-{rule}" for rule in RULES]


def test_a_broken_transformer_fails_the_check_of_its_rule_only():
    mark = parametrize_with_mllife_checks([WrongNamesLength()], sklearn_checks=False)
    outcomes = {}
    for param in mark.args[1]:
        estimator, check = param.values
        try:
            check(estimator)
        except TransformerCheckError as exc:
            outcomes[check.rule] = ("failed", str(exc), exc.rules)
        except SkipTest as exc:
            outcomes[check.rule] = ("skipped", str(exc), ())
        else:
            outcomes[check.rule] = ("passed", "", ())
    status, message, rules = outcomes["names_out_length"]
    assert status == "failed"
    assert isinstance(TransformerCheckError(""), AssertionError)   # pytest shows a failure
    assert rules == ("names_out_length",)
    assert message.startswith("WrongNamesLength(): names_out_length: expected ")
    assert outcomes["names_out_explain_source"][0] == "skipped"
    assert "names_out_length (failed)" in outcomes["names_out_explain_source"][1]
    assert {r for r, o in outcomes.items() if o[0] == "failed"} == {"names_out_length"}


def test_a_failed_sklearn_check_names_its_rule():
    class NoNaN(Clip):  # claims allow_nan but validate_data refuses NaN: a scikit-learn check fails
        def fit(self, X, y=None):
            from sklearn.utils.validation import validate_data

            validate_data(self, X)
            return super().fit(X, y)

    mark = parametrize_with_mllife_checks([NoNaN()])
    failures = []
    for param in mark.args[1]:
        estimator, check = param.values
        if not param.id.startswith("NoNaN()-sklearn:"):
            continue
        try:
            check(estimator)
        except TransformerCheckError as exc:
            failures.append(exc)
        except SkipTest:
            pass
    assert failures
    assert all(e.rules[0].startswith("sklearn:check_") for e in failures)
    assert all(f"{e.rules[0]}: scikit-learn's common check failed" in str(e) for e in failures)
    assert all(e.__cause__ is not None for e in failures)        # the original is chained


def test_bad_estimators_argument():
    from mllife import InputError

    with pytest.raises(InputError, match="a list of transformer instances"):
        parametrize_with_mllife_checks({"a": LogRatio()})
    with pytest.raises(InputError, match="an instance: LogRatio"):
        parametrize_with_mllife_checks([LogRatio])


def test_importing_the_kit_does_not_import_pytest():
    # (Running the checks may import it: scikit-learn's estimator list, which the bundle
    # loader reads, imports pytest when it is installed.)
    code = ("import sys, mllife, mllife.testing\n"
            "from mllife.testing import check_transformer, TransformerCheckReport, "
            "TransformerCheckError, parametrize_with_mllife_checks\n"
            "import mllife.testing._rules, mllife.testing._sklearn\n"
            "assert mllife.TransformerCheckError is TransformerCheckError\n"
            "print('pytest' in sys.modules, '_pytest' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "False"]
