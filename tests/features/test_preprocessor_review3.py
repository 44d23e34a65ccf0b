"""Review 3 of ``Preprocessor.kind_steps``: ``set_params`` stores, ``fit`` checks.

scikit-learn's convention (and ``mllife.testing``'s ``init_stores_params`` rule):
``__init__`` and ``set_params`` store what they are given and check nothing; ``fit``
validates. mllife's own preprocessor must pass every rule of its own test kit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import QuantileTransformer

import mllife
from mllife import InputError
from mllife.features import FrameTransformer, make_preprocessor
from mllife.testing import check_transformer


class LogRatioToMedian(FrameTransformer):
    """log((x + 1) / (median + 1)) per column: a user's step (module level: bundles name it)."""

    def __init__(self, *, offset=1.0):
        self.offset = offset

    def _fit(self, frame, y=None):
        self.medians_ = frame.astype(float).median().to_numpy()

    def _transform(self, frame):
        values = frame.astype(float).to_numpy() + self.offset
        out = np.log(values / (self.medians_ + self.offset))
        return pd.DataFrame(out, index=frame.index, columns=self._names_out(list(frame.columns)))

    def _names_out(self, input_names):
        return [f"{name}__lr" for name in input_names]


@pytest.fixture(scope="module")
def churn():
    data = mllife.make_churn(300, random_state=0, defects=False)
    return data.X, data.y


# ---- the kit's own rules on mllife's own preprocessor -----------------------------------------
@pytest.mark.parametrize("steps", [None, "sklearn", "user"])
def test_the_preprocessor_passes_every_rule_of_the_kit(churn, steps):
    X, y = churn
    given = {None: None, "sklearn": {"numeric": QuantileTransformer(n_quantiles=50)},
             "user": {"numeric": LogRatioToMedian(), "datetime": "drop"}}[steps]
    trusted = [LogRatioToMedian] if steps == "user" else None
    report = check_transformer(make_preprocessor(X, steps=given), X, y, sklearn_checks=False,
                               trusted=trusted)
    rules = report.rules.set_index("rule")
    assert report.failed_rules == [], rules.loc[report.failed_rules, "message"].tolist()
    assert rules.loc["init_stores_params", "status"] == "passed"
    # The one rule that cannot apply says why: the churn columns are named, numpy is x0, x1...
    skipped = rules.index[rules["status"] == "skipped"].tolist()
    assert skipped == ["numpy_in"]
    assert rules.loc["bundle_round_trip", "status"] == "passed"


# ---- set_params stores, fit checks -------------------------------------------------------------
class Opaque:
    """A value no check can read: what set_params must store as it is."""


@pytest.mark.parametrize(("bad", "message"), [
    ({"numeric": "scale"}, r"kind_steps\['numeric'\] is 'scale'"),
    ({"nums": QuantileTransformer()}, r"kind_steps has the unknown key 'nums'.*'numeric'"),
    ({"numeric": object()}, r"kind_steps\['numeric'\] is a object, which has no fit"),
    (Opaque(), r"kind_steps is a Opaque; expected a dict"),
])
def test_set_params_stores_a_bad_kind_steps_and_fit_refuses_it(churn, bad, message):
    X, _ = churn
    pre = make_preprocessor(X, steps={"numeric": QuantileTransformer(n_quantiles=20)})
    before = [(name, type(trans).__name__, cols) for name, trans, cols in pre.transformers]
    assert pre.set_params(kind_steps=bad) is pre  # no error: scikit-learn's convention
    assert pre.get_params()["kind_steps"] is bad
    assert [(n, type(t).__name__, c) for n, t, c in pre.transformers] == before
    with pytest.raises(InputError, match=message):
        pre.fit(X)
    assert not hasattr(pre, "transformers_")  # the refused fit left nothing behind
    with pytest.raises(InputError, match=message):
        pre.plan_  # a property that reads the steps
    with pytest.raises(InputError, match=message):
        clone(pre).fit_transform(X)  # the clone carries the stored value, and refuses it too


def test_a_good_kind_steps_after_a_bad_one_replaces_the_entries(churn):
    X, _ = churn
    pre = make_preprocessor(X, steps={"numeric": QuantileTransformer(n_quantiles=20)})
    pre.set_params(kind_steps={"numeric": 3})
    pre.set_params(kind_steps={"numeric": LogRatioToMedian()})
    assert isinstance({n: t for n, t, _ in pre.transformers}["numeric"], LogRatioToMedian)
    out = pre.fit_transform(X)
    assert "age__lr" in out.columns
    assert "age" not in out.columns
    # Back to the first steps after a bad value on a fitted preprocessor: replaced again.
    pre.set_params(kind_steps={"numeric": "drop "})
    pre.set_params(kind_steps={"numeric": QuantileTransformer(n_quantiles=20)})
    assert isinstance({n: t for n, t, _ in pre.transformers}["numeric"], QuantileTransformer)
    assert pre.fit_transform(X)["age"].between(0, 1).all()


def test_make_preprocessor_still_checks_steps_at_once(churn):
    X, _ = churn
    with pytest.raises(InputError, match=r"steps\['numeric'\] is 'scale'"):
        make_preprocessor(X, steps={"numeric": "scale"})


def test_grid_search_over_kind_steps_stores_then_fits(churn):
    X, y = churn
    prep = make_preprocessor(X, steps={"numeric": QuantileTransformer(n_quantiles=20)})
    model = Pipeline([("prep", prep), ("model", LogisticRegression(max_iter=500))])
    grid = {"prep__kind_steps": [{"numeric": LogRatioToMedian()},
                                 {"numeric": QuantileTransformer(n_quantiles=10)}]}
    search = GridSearchCV(model, grid, cv=2).fit(X, y)
    best = search.best_estimator_["prep"].named_transformers_["numeric"]
    assert type(best) is type(search.best_params_["prep__kind_steps"]["numeric"])
    assert isinstance(prep.transformers[0][1], QuantileTransformer)  # the searched object: as is
    # A bad candidate is refused by its fit, naming the key (not by set_params).
    grid = {"prep__kind_steps": [{"numeric": LogRatioToMedian()}, {"numeric": "log"}]}
    with pytest.raises(InputError, match=r"kind_steps\['numeric'\] is 'log'"):
        GridSearchCV(model, grid, cv=2, error_score="raise").fit(X, y)


def test_a_kind_steps_leaving_out_a_data_dependent_kind_is_refused_at_fit(churn):
    X, _ = churn
    pre = make_preprocessor(X, steps={"numeric": QuantileTransformer(n_quantiles=20)})
    pre.set_params(kind_steps={})  # the numeric defaults depend on the data: cannot rebuild
    assert pre.kind_steps == {}
    assert isinstance(pre.transformers[0][1], QuantileTransformer)
    message = r"leaves out \['numeric'\].*make_preprocessor"
    with pytest.raises(InputError, match=message):
        pre.fit(X)
    with pytest.raises(InputError, match=message):
        clone(pre).fit(X)  # not silently fitted with the entries of the earlier steps
    with pytest.raises(InputError, match=message):
        pre.plan_  # a property that reads the steps
    # A value that keeps numeric applies, compared with the steps the entries were made from.
    pre.set_params(kind_steps={"numeric": LogRatioToMedian()})
    assert "age__lr" in pre.fit_transform(X).columns
    again = clone(make_preprocessor(X, steps={"numeric": QuantileTransformer(n_quantiles=20)}))
    again.set_params(kind_steps=None)
    twin = clone(again)
    twin.set_params(kind_steps={"numeric": LogRatioToMedian(), "text": "drop"})
    assert "age__lr" in twin.fit_transform(X).columns
