"""A hostile review of ``mllife.testing``: false passes, crashes on odd transformers, the report.

Each broken transformer below passed every rule of mllife's before the review (a false pass)
or crashed the kit itself; each must now fail the rule it breaks, with a message naming it.
They live at module level so that pickles and bundles can find them by name.
"""

from __future__ import annotations

import json
import pickle
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import validate_data

from mllife import InputError, ModelError, NotFittedError
from mllife.features import FrameTransformer
from mllife.testing import check_transformer
from mllife.testing._data import check_frame
from mllife.testing._rules import RULES

ROOT = Path(__file__).resolve().parents[2]


# ---- broken user transformers (each passed mllife's rules before the review) -------------------
class BatchCentre(FrameTransformer):
    """Centres each column on the mean of the batch it is given (not a mean learned at fit)."""

    def _transform(self, frame):
        values = frame.astype("float64")
        return (values - values.mean()).add_suffix("_centred")

    def _names_out(self, input_names):
        return [f"{n}_centred" for n in input_names]


class SortsRows(FrameTransformer):
    """Sorts the rows by x1: the base puts X's index back on, so rows are mislabelled."""

    def _transform(self, frame):
        return frame.astype("float64").sort_values("x1", kind="stable")


class CachesFitOutput(FrameTransformer):
    """Returns what it computed at fit, whatever X it is given (a cache of the last X)."""

    def _fit(self, frame, y=None):
        self.out_ = frame.astype("float64").to_numpy() * 2.0

    def _transform(self, frame):
        return pd.DataFrame(self.out_[: len(frame)], index=frame.index, columns=frame.columns)


class FitTransformFloat32(FrameTransformer):
    """fit_transform gives float32, fit().transform() float64."""

    def fit_transform(self, X, y=None, **params):
        return self.fit(X, y).transform(X).astype("float32")

    def _transform(self, frame):
        return frame.astype("float64")


class FitTransformOther(FrameTransformer):
    """fit_transform gives other values than fit().transform()."""

    def fit_transform(self, X, y=None, **params):
        return self.fit(X, y).transform(X) + 1.0

    def _transform(self, frame):
        return frame.astype("float64")


class StateInInit(FrameTransformer):
    """No parameter, but ``__init__`` sets a public attribute (a cache)."""

    def __init__(self):
        self.cache = []

    def _transform(self, frame):
        return frame.astype("float64")


class NoStoredParam(TransformerMixin, BaseEstimator):
    """Stores its parameter under another name: its repr (get_params) raises."""

    def __init__(self, power=2.0):
        self._power = power

    def fit(self, X, y=None):
        validate_data(self, X, ensure_all_finite="allow-nan")
        return self

    def transform(self, X):
        return validate_data(self, X, reset=False, ensure_all_finite="allow-nan")


class NoTags:
    """Duck-typed: fit, transform, get_params, but no scikit-learn base (no tags)."""

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X


class MixesColumns(FrameTransformer):
    """Two mixtures of every column, named after nothing but a letter of an input name."""

    def _transform(self, frame):
        values = frame.astype("float64").fillna(0.0).to_numpy()
        return pd.DataFrame(values @ np.array([[1.0, 2.0]] * values.shape[1]), index=frame.index,
                            columns=self._names_out(list(frame.columns)))

    def _names_out(self, input_names):
        return ["año", "bé"]


class Components(MixesColumns):
    """Mixes the columns into ``comp_0``, ``comp_1``: nothing to do with an input named 0."""

    def _names_out(self, input_names):
        return ["comp_0", "comp_1"]


class MutatesY(FrameTransformer):
    """Overwrites the target it is given at fit."""

    def _fit(self, frame, y=None):
        if y is not None:
            y[:] = 0

    def _transform(self, frame):
        return frame.astype("float64")


class NumpyFromPandas(FrameTransformer):
    """Overrides transform and returns an array for a DataFrame (the base promises a DataFrame)."""

    def transform(self, X):
        return np.asarray(super().transform(X), dtype="float64")

    def _transform(self, frame):
        return frame.astype("float64")


class ReturnsNothing(FrameTransformer):
    """``_transform`` forgets to return."""

    def _transform(self, frame):
        frame.astype("float64")


class DropsARow(FrameTransformer):
    """``_transform`` loses a row."""

    def _transform(self, frame):
        return frame.iloc[1:].astype("float64")


class ScriptError(FrameTransformer):
    """Raises an exception whose text is HTML."""

    def _transform(self, frame):
        raise RuntimeError("<script>alert('x')</script>")


# ---- good user transformers on the documented hooks ----------------------------------------------
class Lower(FrameTransformer):
    """Lower-cases text columns (``_text_input``), one column out per column in."""

    _text_input = True

    def _transform(self, frame):
        return frame.apply(lambda s: s.str.lower()).add_suffix("_lower")

    def _names_out(self, input_names):
        return [f"{n}_lower" for n in input_names]


class Doubled(FrameTransformer):
    """Overrides ``transform`` directly, on top of the base's."""

    def transform(self, X):
        return super().transform(X) * 2

    def _transform(self, frame):
        return frame.astype("float64").add_suffix("_x2")

    def _names_out(self, input_names):
        return [f"{n}_x2" for n in input_names]


class TopColumn(FrameTransformer):
    """Keeps the column of largest variance: ``_names_out`` depends on fitted state."""

    def _fit(self, frame, y=None):
        self.column_ = str(frame.astype("float64").var().idxmax())

    def _transform(self, frame):
        return frame[[self.column_]].astype("float64").add_prefix("top_")

    def _names_out(self, input_names):
        return [f"top_{self.column_}"]

    def _feature_sources(self):
        return [(self.column_,)]


def _rules(report):
    return report.rules.set_index("rule")


def _fails(report, rule, *words):
    rules = _rules(report)
    assert rules.loc[rule, "status"] == "failed", rules.to_dict("index")
    message = rules.loc[rule, "message"]
    assert message.startswith(f"{rule}: expected "), message
    for word in words:
        assert word in message, message
    return message


# ---- false passes -----------------------------------------------------------------------------------
@pytest.mark.parametrize(("estimator", "words"), [
    (BatchCentre(), ["other rows"]),
    (SortsRows(), ["reverse order"]),
    (CachesFitOutput(), ["other rows"]),
], ids=["batch-mean", "sorts-rows", "caches-fit"])
def test_a_transform_that_depends_on_the_other_rows_is_not_deterministic(estimator, words):
    report = check_transformer(estimator, sklearn_checks=False)
    _fails(report, "deterministic", *words)


@pytest.mark.parametrize("estimator", [FitTransformFloat32(), FitTransformOther()],
                         ids=["dtype", "values"])
def test_fit_transform_must_give_what_fit_then_transform_gives(estimator):
    report = check_transformer(estimator, sklearn_checks=False)
    _fails(report, "deterministic", "fit_transform(X)")


def test_init_without_parameters_may_not_set_state():
    report = check_transformer(StateInInit(), sklearn_checks=False)
    _fails(report, "init_stores_params", "['cache']")


def test_names_match_whole_names_in_any_script():
    X = check_frame()[["x0", "x1"]].set_axis(["a", "b"], axis=1)
    report = check_transformer(MixesColumns(), X, sklearn_checks=False)
    _fails(report, "names_out_explain_source", "año")


def test_integer_column_names_are_read_as_the_transformer_reads_them():
    # A FrameTransformer (and scikit-learn) name integer columns x0, x1, ...: "0" is no input.
    X = check_frame().set_axis([0, 1, 2, 3], axis=1)
    report = check_transformer(Components(), X, sklearn_checks=False)
    _fails(report, "names_out_explain_source", "comp_0", "x0")


def test_fit_that_overwrites_y_is_caught_without_a_y_given():
    report = check_transformer(MutatesY(), sklearn_checks=False)
    _fails(report, "no_input_mutation", "y")
    given = check_transformer(MutatesY(), y=np.arange(24.0), sklearn_checks=False)
    _fails(given, "no_input_mutation", "y")


def test_a_frame_transformer_returning_an_array_for_a_dataframe():
    report = check_transformer(NumpyFromPandas(), sklearn_checks=False)
    _fails(report, "pandas_in_out", "ndarray")


# ---- the kit does not crash on odd transformers ------------------------------------------------
@pytest.mark.filterwarnings("ignore:X has feature names:UserWarning")  # its transform, unfitted
def test_a_transformer_whose_repr_raises_gets_a_report():
    report = check_transformer(NoStoredParam(), sklearn_checks=False)
    assert "init_stores_params" in report.failed_rules
    assert report.estimator.startswith("NoStoredParam(")
    mark_ids = _param_ids([NoStoredParam()])
    assert all(i.startswith("NoStoredParam(") for i in mark_ids)


def _param_ids(estimators):
    from mllife.testing import parametrize_with_mllife_checks

    return [p.id for p in parametrize_with_mllife_checks(estimators, sklearn_checks=False).args[1]]


@pytest.mark.filterwarnings("ignore:Estimator NoTags does not inherit:UserWarning")  # 1.6
def test_an_estimator_scikit_learn_cannot_check_is_an_input_error():
    # scikit-learn >= 1.7 cannot read an object without tags: an InputError, not its traceback.
    # (1.6 falls back to default tags and runs its checks, which then fail.)
    import sklearn

    if tuple(int(p) for p in sklearn.__version__.split(".")[:2]) >= (1, 7):
        with pytest.raises(InputError, match=r"cannot list its checks for NoTags .*sklearn_che"):
            check_transformer(NoTags())
    else:
        sklearn_run = check_transformer(NoTags())
        assert any(r.startswith("sklearn:") for r in sklearn_run.failed_rules)
    report = check_transformer(NoTags(), sklearn_checks=False)   # mllife's rules still run
    assert "names_out_length" in report.failed_rules


@pytest.mark.parametrize(("estimator", "words"), [
    (ReturnsNothing(), ["ReturnsNothing._transform returned a NoneType"]),
    (DropsARow(), ["DropsARow._transform returned 23 row(s) for 24"]),
], ids=["none", "row"])
def test_a_broken_transform_hook_is_named_by_the_base(estimator, words):
    _fails(check_transformer(estimator, sklearn_checks=False), "fit_transform", *words)
    with pytest.raises(ModelError, match=re.escape(words[0])):
        estimator.fit_transform(check_frame())


# ---- the report -------------------------------------------------------------------------------------
def test_the_report_escapes_html_from_an_exception():
    report = check_transformer(ScriptError(), sklearn_checks=False)
    assert "<script>" in _rules(report).loc["fit_transform", "message"]
    html = report._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_the_report_round_trips_in_a_fresh_process():
    report = check_transformer(ScriptError(), sklearn_checks=False)
    code = textwrap.dedent("""
        import json, pickle, sys
        from mllife.report import Report
        data = sys.stdin.buffer.read()
        text, blob = data.split(b"\\0", 1)
        a = Report.from_dict(json.loads(text))
        b = pickle.loads(blob)
        print(type(a).__name__, a.passed, a.failed_rules, b.failed_rules, a == b)
    """)
    payload = json.dumps(report.to_dict()).encode() + b"\0" + pickle.dumps(report)
    out = subprocess.run([sys.executable, "-c", code], input=payload, capture_output=True,
                         timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    assert out.stdout.decode().split() == ["TransformerCheckReport", "False", "['fit_transform']",
                                           "['fit_transform']", "True"]


# ---- parametrize_with_mllife_checks in a real pytest run -------------------------------------------
def test_a_real_pytest_run_names_the_broken_rule(tmp_path):
    (tmp_path / "test_users.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from mllife.testing import parametrize_with_mllife_checks
        from tests.testing.test_kit_hostile2 import BatchCentre, TopColumn


        @parametrize_with_mllife_checks([TopColumn(), BatchCentre()], sklearn_checks=False)
        def test_it(estimator, check):
            check(estimator)
    """))
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-W", "error", "-rf", "test_users.py"], capture_output=True, text=True,
                         timeout=600, cwd=tmp_path)
    text = out.stdout
    assert out.returncode == 1, text[-3000:]
    # TopColumn passes every rule; BatchCentre fails deterministic, and the 4 rules needing it skip.
    assert re.search(rf"1 failed, {len(RULES) * 2 - 5} passed, 4 skipped", text), text[-3000:]
    failed = [line for line in text.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1, text[-3000:]
    assert "test_it[BatchCentre()-deterministic]" in failed[0]
    assert "BatchCentre(): deterministic: expected " in text


# ---- FrameTransformer as a user's base ----------------------------------------------------------
def test_documented_hooks_give_a_transformer_that_passes():
    text = pd.DataFrame({"city": ["Oslo", "ROME", None, "Lima"] * 6,
                         "code": ["A", "b", "C", None] * 6},
                        index=pd.Index(range(100, 124), name="row"))
    for estimator, X in ((Lower(), text), (Doubled(), None), (TopColumn(), None)):
        report = check_transformer(estimator, X, sklearn_checks=False)
        assert report.passed, report.rules.to_dict("records")
        if X is None:
            assert (report.rules["status"] == "passed").all()
    assert Lower().__sklearn_tags__().input_tags.string
    with pytest.raises(NotFittedError):
        TopColumn().get_feature_names_out()
    fitted = TopColumn().fit(check_frame())
    assert fitted.get_feature_names_out().tolist() == [f"top_{fitted.column_}"]
