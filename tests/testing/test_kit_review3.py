"""Review 3 of ``mllife.testing``: integer column labels and polars, the bundle rule's word on
``trusted=``, and misspelt ``expected_failed_checks``.

The transformers and the function live at module level so that bundles can name them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from mllife import InputError
from mllife.features import RatioFeatures
from mllife.testing import check_transformer, parametrize_with_mllife_checks
from mllife.testing._rules import RULES


def double(X):
    """A function of the user's: a bundle holding it loads only when the caller trusts it."""
    return X * 2


class PolarsShift(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Planted defect: adds 1 when given a polars DataFrame (pandas and numpy are fine)."""

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        shift = 1.0 if type(X).__module__.split(".")[0] == "polars" else 0.0
        return np.asarray(X, dtype="float64") + shift


class Helper:
    """A class of the user's that the transformer below does not hold."""


@pytest.fixture
def int_labelled():
    values = np.random.default_rng(0).normal(size=(12, 2))
    return pd.DataFrame(values)  # columns 0 and 1: integers, as pd.DataFrame(array) names them


# ---- polars_in_out and integer column labels ---------------------------------------------------
def test_integer_labels_do_not_fail_a_plain_scikit_learn_transformer(int_labelled):
    pytest.importorskip("polars")
    report = check_transformer(StandardScaler(), int_labelled, sklearn_checks=False)
    rules = report.rules.set_index("rule")
    assert rules.loc["polars_in_out", "status"] == "passed", rules.loc["polars_in_out", "message"]
    assert report.passed, report.failed_rules
    # The message says why the names out of polars input are not compared with pandas ones.
    assert "labels are not all strings" in rules.loc["polars_in_out", "message"]


def test_a_real_polars_defect_still_fails_with_integer_labels(int_labelled):
    pytest.importorskip("polars")
    report = check_transformer(PolarsShift(), int_labelled, sklearn_checks=False)
    row = report.rules.set_index("rule").loc["polars_in_out"]
    assert row["status"] == "failed"
    assert "expected the same values as for the pandas DataFrame" in row["message"]
    # And with string labels, as before.
    named = int_labelled.set_axis(["a", "b"], axis=1)
    row = check_transformer(PolarsShift(), named, sklearn_checks=False).rules.set_index(
        "rule").loc["polars_in_out"]
    assert row["status"] == "failed"


# ---- bundle_round_trip and trusted= ------------------------------------------------------------
def test_the_bundle_message_names_the_trust_the_caller_gave():
    name = f"{double.__module__}.double"
    est = FunctionTransformer(double, feature_names_out="one-to-one")
    report = check_transformer(est, sklearn_checks=False, trusted=[name])
    row = report.rules.set_index("rule").loc["bundle_round_trip"]
    assert row["status"] == "passed", row["message"]
    assert "without trusted=" not in row["message"]
    assert f"only with trusted=[{name}] (refused without it; mllife ships" in row["message"]
    assert "refused without" in row["message"]


def test_a_trusted_name_the_bundle_does_not_need_fails_the_rule():
    # RatioFeatures holds nothing of the user's: the bundle loads without Helper, so the
    # caller's claim that it holds Helper (or the loader's trust) is wrong: a failure.
    report = check_transformer(RatioFeatures([("x0", "x1")]), sklearn_checks=False,
                               trusted=[Helper])
    row = report.rules.set_index("rule").loc["bundle_round_trip"]
    assert row["status"] == "failed"
    assert f"{Helper.__module__}.Helper" in row["message"]
    assert "loaded without" in row["message"]


def test_trusting_the_class_itself_is_not_an_extra_name():
    # Naming the transformer's own class in trusted= is what the rule does anyway.
    from tests.testing.transformers import LogRatio

    report = check_transformer(LogRatio(), sklearn_checks=False, trusted=[LogRatio])
    row = report.rules.set_index("rule").loc["bundle_round_trip"]
    assert row["status"] == "passed", row["message"]
    assert row["message"].startswith(
        f"saved in a ModelBundle and loaded only with trusted=[{LogRatio.__module__}.LogRatio]")


# ---- expected_failed_checks: no unknown name ---------------------------------------------------
def test_a_misspelt_rule_in_expected_failed_checks_is_refused():
    with pytest.raises(InputError) as caught:
        check_transformer(RatioFeatures([("x0", "x1")]), sklearn_checks=False,
                          expected_failed_checks={"names_out_lenght": "typo", "no_such": "x"})
    message = str(caught.value)
    assert "['names_out_lenght', 'no_such']" in message
    assert "names_out_length" in message  # the close match, and the list of known rules
    assert all(rule in message for rule in RULES)


def test_scikit_learn_check_names_are_known_with_or_without_running_them():
    est = RatioFeatures([("x0", "x1")])
    names = {"check_fit2d_1feature": "a", "sklearn:check_fit2d_1sample": "b",
             "check_estimators_pickle(readonly_memmap=True)": "c", "deterministic": "d"}
    assert check_transformer(est, expected_failed_checks=names).passed
    # One dict serves both calls: scikit-learn's names are known when its checks do not run.
    assert check_transformer(est, sklearn_checks=False, expected_failed_checks=names).passed
    for typo in ("sklearn:check_fit2d_1featur", "check_fit2d_1sample#2", "sklearn:deterministic"):
        with pytest.raises(InputError, match=re.escape(f"['{typo}']")):
            check_transformer(est, sklearn_checks=False, expected_failed_checks={typo: "a"})


class NoBase:
    """Not a BaseEstimator: scikit-learn >= 1.7 lists no check for it (1.6 lists them)."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X

    def get_params(self, deep=True):
        return {}


def test_an_object_scikit_learn_cannot_list_still_gets_the_rules_checked():
    with pytest.raises(InputError, match=r"\['check_fit2d_1samplee'\].*names_out_length"):
        check_transformer(NoBase(), sklearn_checks=False,
                          expected_failed_checks={"check_fit2d_1samplee": "a"})
    report = check_transformer(NoBase(), sklearn_checks=False,
                               expected_failed_checks={"names_out_length": "a"})
    assert report.rules.set_index("rule").loc["names_out_length", "status"] == "skipped"


def test_parametrize_refuses_an_unknown_name_too():
    est = RatioFeatures([("x0", "x1")])
    with pytest.raises(InputError, match=r"\['pickle_roundtrip'\]"):
        parametrize_with_mllife_checks([est], sklearn_checks=False,
                                       expected_failed_checks=lambda e: {"pickle_roundtrip": "x"})
    mark = parametrize_with_mllife_checks([est], sklearn_checks=False,
                                          expected_failed_checks={"pickle_round_trip": "x"})
    xfail = [p.id for p in mark.args[1] if p.marks]
    assert xfail == ["RatioFeatures(pairs=[('x0','x1')])-pickle_round_trip"]
