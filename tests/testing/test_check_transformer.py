"""``check_transformer``: mllife's transformers pass it; each planted defect fails its rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mllife
from mllife import InputError, TransformerCheckError
from mllife.testing import TransformerCheckReport, check_transformer
from mllife.testing._rules import RULES
from tests.common_instances import collect

from .transformers import (
    BROKEN,
    LOG_RATIO_EXPECTED,
    Clip,
    Helper,
    HoldsHelper,
    Jitter,
    LogRatio,
    ValidatesInInit,
    WrongNamesLength,
)

INSTANCES = collect("INSTANCES")
EXPECTED = collect("EXPECTED_FAILED_CHECKS")
MLLIFE_RULES = list(RULES)


def _instances() -> list:
    out = []
    for name, cls in mllife.all_estimators(type_filter="transformer"):
        try:
            out.extend(INSTANCES.get(name) or [cls()])
        except TypeError:  # required arguments and no instance listed: the coverage test fails
            continue
    return out


def _expected(estimator) -> dict[str, str]:
    expected = EXPECTED.get(type(estimator).__name__, {})
    applies = expected.get("__applies__")
    if applies is not None and not applies(estimator):
        return {}
    return {k: v for k, v in expected.items() if k != "__applies__"}


def _data_for(estimator) -> pd.DataFrame | None:
    """``X`` for a transformer that reads particular columns, built from its own parameters.

    An aggregator of an events table (``events``, ``key``, ``time_col``, ``cutoff_col``)
    needs one row per prediction: a key of the events and a cutoff among their times.
    Every other transformer gets the default check frame (None).
    """
    params = estimator.get_params(deep=False)
    if not {"events", "key", "time_col", "cutoff_col"} <= set(params):
        return None
    events = pd.DataFrame(params["events"]) if not isinstance(params["events"], pd.DataFrame) \
        else params["events"]
    key, time_col, cutoff_col = params["key"], params["time_col"], params["cutoff_col"]
    keys = events[key].drop_duplicates().to_numpy()
    times = np.sort(events[time_col].dropna().to_numpy())
    n = 24
    return pd.DataFrame({key: np.resize(keys, n),
                         cutoff_col: times[np.linspace(0, len(times) - 1, n).astype(int)]},
                        index=pd.Index(1000 + 3 * np.arange(n), name="row"))


def _id(estimator) -> str:
    return "".join(repr(estimator).split())[:80]


SWEEP = _instances()


@pytest.mark.parametrize("estimator", SWEEP, ids=[_id(e) for e in SWEEP])
def test_every_mllife_transformer_keeps_mllifes_contract(estimator):
    # scikit-learn's checks run on all of them in tests/test_common.py: mllife's rules here.
    X = _data_for(estimator)
    expected = _expected(estimator)
    report = check_transformer(estimator, X, sklearn_checks=False, expected_failed_checks=expected)
    report.raise_for_failures()
    rules = report.rules.set_index("rule")
    assert list(rules.index) == MLLIFE_RULES
    skipped = rules[rules["status"] == "skipped"]
    # Nothing is skipped on the default frame but the justified expected failures; with a
    # frame of named columns, numpy input (read as x0, x1, ...) may not apply, and says so.
    justified = set(expected) & set(MLLIFE_RULES)
    allowed = ({"numpy_in"} if X is not None else set()) | justified
    assert set(skipped.index) <= allowed, skipped.to_dict()
    unjustified = skipped.drop(index=list(justified & set(skipped.index)))
    assert (unjustified["message"].str.contains("x0, x1")).all()


def test_the_sweep_covers_every_registered_transformer():
    checked = {type(e).__name__ for e in SWEEP}
    assert checked == {name for name, _ in mllife.all_estimators(type_filter="transformer")}
    assert "FrameTransformer" not in checked  # the base is no estimator of its own


@pytest.mark.parametrize("name", ["RatioFeatures", "DateTimeFeatures"])
def test_mllife_transformers_pass_with_sklearns_checks_too(name):
    estimator = (INSTANCES.get(name) or [getattr(mllife, name)()])[-1]
    report = check_transformer(estimator, expected_failed_checks=_expected(estimator))
    report.raise_for_failures()
    rules = report.rules
    sklearn_rows = rules[rules["rule"].str.startswith("sklearn:")]
    assert len(sklearn_rows) > 30                      # scikit-learn's checks ran, one row each
    assert rules["rule"].is_unique                      # repeated checks are numbered
    assert rules["rule"].tolist()[-len(MLLIFE_RULES):] == MLLIFE_RULES


@pytest.mark.parametrize("estimator", [LogRatio(), Clip()], ids=["FrameTransformer", "plain"])
def test_good_user_transformers_pass(estimator):
    expected = LOG_RATIO_EXPECTED if isinstance(estimator, LogRatio) else None
    report = check_transformer(estimator, expected_failed_checks=expected)
    assert report.passed, report.rules[report.rules["status"] == "failed"].to_dict("records")
    rules = report.rules.set_index("rule")
    assert (rules.loc[MLLIFE_RULES, "status"] == "passed").all()
    # A user's class is not trusted by the bundle loader: the rule proves it is refused
    # without trusted= and loads with it.
    message = rules.loc["bundle_round_trip", "message"]
    assert f"only with trusted=[tests.testing.transformers.{type(estimator).__name__}]" in message
    if expected:
        row = rules.loc["sklearn:check_fit2d_1feature"]
        assert row["status"] == "skipped"
        assert row["message"].startswith(f"expected to fail ({expected['check_fit2d_1feature']})")


@pytest.mark.parametrize("rule", list(BROKEN))
def test_each_planted_defect_fails_the_rule_it_breaks(rule):
    estimator, failing = BROKEN[rule]
    report = check_transformer(estimator, sklearn_checks=False)
    assert not report.passed
    assert set(report.failed_rules) == failing
    row = report.rules.set_index("rule").loc[rule]
    assert row["status"] == "failed"
    assert row["message"].startswith(f"{rule}: expected ")     # names the rule and the promise
    assert [f.check for f in report.findings] == report.failed_rules
    assert all(f.severity == "error" for f in report.findings)
    with pytest.raises(TransformerCheckError) as caught:
        report.raise_for_failures()
    assert isinstance(caught.value, AssertionError)
    assert rule in caught.value.rules
    assert f"- {rule}: expected " in str(caught.value)
    assert type(estimator).__name__ in str(caught.value)


def test_messages_say_what_happened():
    def message(rule):
        report = check_transformer(BROKEN[rule][0], sklearn_checks=False)
        return report.rules.set_index("rule").loc[rule, "message"]

    assert "raised InputError: power=<arbitrary value>" in message("init_stores_params")
    assert "3 name(s) for 4 column(s)" in message("names_out_length")
    assert "['f0', 'f1', 'f2', 'f3']" in message("names_out_explain_source")
    assert "column 'x0' differs in 3 of 24 rows (first at row 1009: nan before vs 0.0 after)" \
        in message("no_input_mutation")
    assert "in the first fit vs" in message("deterministic")
    assert "_feature_sources() to give one entry per output column (4); it gives 3" \
        in message("describe_features_rows")
    assert "name='row' in X vs [0, 1, 2, 3, ...] out" in message("pandas_in_out")
    assert "TypeError: DataFrame input: pandas or numpy only" in message("polars_in_out")
    assert "AttributeError" in message("not_fitted_error")
    assert "tests.testing.transformers.Helper" in message("bundle_round_trip")


def test_rules_that_depend_on_a_failed_rule_are_skipped_and_say_why():
    report = check_transformer(BROKEN["deterministic"][0], sklearn_checks=False)
    rules = report.rules.set_index("rule")
    for rule in ("numpy_in", "polars_in_out", "pickle_round_trip", "bundle_round_trip"):
        assert rules.loc[rule, "status"] == "skipped"
        assert "deterministic (failed)" in rules.loc[rule, "message"]
    assert report.to_dict()["summary"]["rules skipped"] == 4


def test_init_validation_also_fails_sklearns_own_check():
    report = check_transformer(ValidatesInInit())
    failed = report.failed_rules
    assert "init_stores_params" in failed
    assert "sklearn:check_do_not_raise_errors_in_init_or_set_params" in failed


def test_trusted_names_the_users_other_classes():
    report = check_transformer(HoldsHelper(), sklearn_checks=False, trusted=[Helper])
    assert report.passed
    by_name = check_transformer(HoldsHelper(), sklearn_checks=False,
                                trusted="tests.testing.transformers.Helper")
    assert by_name.passed


def test_bundle_rule_fails_when_an_unshipped_class_loads_without_trusted(monkeypatch):
    # Pretend mllife does not ship RatioFeatures: the loader still trusts it, so loading
    # without trusted= works, and the rule must report that it was not refused.
    import mllife.bundle._trust as trust

    monkeypatch.setattr(trust, "approves", lambda name: False)
    report = check_transformer(mllife.RatioFeatures([("x0", "x1")]), sklearn_checks=False)
    assert report.failed_rules == ["bundle_round_trip"]
    message = report.rules.set_index("rule").loc["bundle_round_trip", "message"]
    assert "to refuse mllife.features._ratio.RatioFeatures" in message
    assert message.endswith("it loaded")


def test_a_class_defined_in_a_function_cannot_be_bundled():
    from mllife.features import FrameTransformer

    class Local(FrameTransformer):
        def _transform(self, frame):
            return frame.copy()

    report = check_transformer(Local(), sklearn_checks=False)
    assert set(report.failed_rules) == {"pickle_round_trip", "bundle_round_trip"}
    message = report.rules.set_index("rule").loc["bundle_round_trip", "message"]
    assert "defined inside a function" in message


def test_expected_failures_are_skipped_with_their_reason():
    report = check_transformer(WrongNamesLength(), sklearn_checks=False,
                               expected_failed_checks={"names_out_length": "planted for a test"})
    assert report.passed
    row = report.rules.set_index("rule").loc["names_out_length"]
    assert row["status"] == "skipped"
    assert row["message"].startswith("expected to fail (planted for a test): names_out_length: ")
    # An expected failure that passes says so (it passes: nothing to skip).
    good = check_transformer(LogRatio(), sklearn_checks=False,
                             expected_failed_checks={"deterministic": "not really"})
    message = good.rules.set_index("rule").loc["deterministic", "message"]
    assert "although listed as expected to fail: not really" in message


def test_polars_missing_skips_its_rule(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "polars", None)       # import polars raises ImportError
    report = check_transformer(LogRatio(), sklearn_checks=False)
    row = report.rules.set_index("rule").loc["polars_in_out"]
    assert (row["status"], row["message"].split(" (")[0]) == ("skipped", "polars is not installed")
    assert report.passed


def test_numpy_rule_applies_to_named_columns_only_when_it_can():
    X = pd.DataFrame({"income": [50.0, 80.0, 10.0, 3.0], "rent": [10.0, 80.0, 5.0, np.nan]})
    report = check_transformer(LogRatio("income", "rent"), X, sklearn_checks=False)
    assert report.passed
    row = report.rules.set_index("rule").loc["numpy_in"]
    assert row["status"] == "skipped"
    assert "read as x0, x1, ..." in row["message"]
    assert "X has no column ['income', 'rent']" in row["message"]
    # The default frame is named x0, x1, ...: a numpy failure there is a failure.
    assert check_transformer(BROKEN["numpy_in"][0], sklearn_checks=False).failed_rules == [
        "numpy_in"]


def test_the_estimator_and_the_data_are_left_alone():
    estimator = LogRatio()
    X = pd.DataFrame({"x0": [1.0, 2.0, np.nan], "x1": [2.0, 1.0, 1.0]})
    before = X.copy()
    report = check_transformer(estimator, X, y=[0, 1, 0])
    assert not hasattr(estimator, "n_features_in_")   # never fitted: the rules fit clones
    pd.testing.assert_frame_equal(X, before)
    assert "3 rows × 2 columns: x0 (float64), x1 (float64)" in report.to_dict()["notes"][0]


def test_x_may_be_polars_or_numpy():
    pl = pytest.importorskip("polars")
    from mllife.testing._data import check_frame

    frame = check_frame()
    for X in (pl.from_pandas(frame), frame.to_numpy()):
        report = check_transformer(LogRatio(), X, sklearn_checks=False)
        assert report.passed
        assert (report.rules["status"] == "passed").all()   # read as columns x0, x1, ...


def test_a_seeded_estimator_is_checked_with_a_fixed_seed():
    # random_state=None draws a new seed each fit: the rules fix it to 0 (on their clones).
    estimator = Jitter()
    report = check_transformer(estimator, sklearn_checks=False)
    assert report.passed
    rules = report.rules.set_index("rule")
    assert "same data (random_state=0)" in rules.loc["deterministic", "message"]
    assert estimator.random_state is None
    given = check_transformer(Jitter(random_state=7), sklearn_checks=False)
    assert "(random_state=7)" in given.rules.set_index("rule").loc["deterministic", "message"]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"estimator": LogRatio}, "an instance: LogRatio"),
    ({"estimator": object()}, "without"),
    ({"X": pd.DataFrame({"x0": [1.0]})}, "at least 2 rows"),
    ({"X": np.zeros(3)}, "2-D"),
    ({"y": [0, 1]}, "y has 2 values for 24 rows"),
    ({"expected_failed_checks": ["names_out_length"]}, "expected_failed_checks is a list"),
    ({"trusted": 3}, "trusted"),
])
def test_bad_arguments_raise_input_error(kwargs, match):
    kwargs = {"estimator": LogRatio(), **kwargs}
    with pytest.raises(InputError, match=match):
        check_transformer(kwargs.pop("estimator"), **kwargs)


def test_report_type():
    report = check_transformer(LogRatio(), sklearn_checks=False)
    assert isinstance(report, TransformerCheckReport)
    assert isinstance(report, mllife.Report)
    assert repr(report) == "<TransformerCheckReport LogRatio(): 13 passed, 0 failed, 0 skipped>"
