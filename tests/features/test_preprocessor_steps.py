"""make_preprocessor(X, steps=...): your own transformer per column kind (issue 21).

Oracles: the user's transformer fitted alone on the same columns; the default
output (``steps=None``) for every kind the steps leave alone.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.decomposition import PCA
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    QuantileTransformer,
    StandardScaler,
    TargetEncoder,
)

from mllife import InputError, UntrustedTypeError
from mllife.bundle import InputSchema, ModelBundle, load_bundle
from mllife.features import (
    FrameTransformer,
    RareCategoryGrouper,
    describe_features,
    make_preprocessor,
)
from mllife.features._kinds import STEP_KEYS

WORDS = np.array(["good", "bad", "great", "awful", "fine", "slow", "fast", "broken", "happy", "sad", "price", "support"])


# ---- user transformers (module level: importable, so bundles can name them) -----------------
class Seen(FrameTransformer):
    """Per input column, 1.0 where a value is present: works on every kind of column."""

    def _transform(self, frame):
        return frame.notna().astype(float).set_axis(self._names_out(list(frame.columns)), axis=1)

    def _names_out(self, input_names):
        return [f"{name}_seen" for name in input_names]

    def _feature_sources(self):
        return [(name,) for name in self._input_names()]

    def _step_label(self):
        return "Seen"


class Log1p(FrameTransformer):
    """log(1 + x) with lineage notes: a domain feature written on the public base."""

    def __init__(self, offset=0.0):
        self.offset = offset

    def _check_params(self):
        if self.offset < 0:
            raise InputError(f"offset={self.offset!r}", expected="a number >= 0")

    def _fit(self, frame, y=None):
        self.minimum_ = frame.min().to_numpy()  # arrays, not a Series: skops saves arrays

    def _transform(self, frame):
        out = np.log1p((frame - self.minimum_).clip(lower=0) + self.offset)
        return out.set_axis(self._names_out(list(frame.columns)), axis=1)

    def _names_out(self, input_names):
        return [f"log1p_{name}" for name in input_names]

    def _feature_sources(self):
        return [(name,) for name in self._input_names()]

    def _feature_notes(self):
        return [f"shifted by the training minimum of {name}" for name in self._input_names()]


class Score(FrameTransformer):
    """One output named ``score`` whatever the input: two entries with it clash."""

    def _transform(self, frame):
        return pd.DataFrame({"score": frame.notna().sum(axis=1).astype(float)}, index=frame.index)

    def _names_out(self, input_names):
        return ["score"]


class SameName(FrameTransformer):
    """Every output named ``feat``: a name repeated within one entry."""

    def _transform(self, frame):
        return frame.notna().astype(float).set_axis(["feat"] * frame.shape[1], axis=1)

    def _names_out(self, input_names):
        return ["feat"] * len(input_names)


class NoParams:
    """fit / transform / names, but no get_params: not a scikit-learn estimator."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X

    def get_feature_names_out(self, input_features=None):
        return input_features


def _model():
    """A model that takes missing values (the user's steps here do not impute)."""
    return HistGradientBoostingClassifier(max_iter=10, random_state=0)


# ---- data ------------------------------------------------------------------------------------
def _sentences(rng, n, tag):
    return [" ".join(rng.choice(WORDS, 6)) + f" {tag}{i}" for i in range(n)]


def _every_kind(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A column of every kind ``steps`` has a key for (two text columns)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(40, 10, n)
    x[rng.random(n) < 0.1] = np.nan
    review = pd.Series(_sentences(rng, n, "r"), dtype=object)
    review[[3, 17]] = None
    return pd.DataFrame({
        "customer_id": [f"C-{i:05d}" for i in range(n)],
        "age": x,
        "income": rng.lognormal(10, 1, n),
        "flag": rng.random(n) < 0.3,
        "yes_no": rng.choice(["Y", "N"], n),
        "plan": rng.choice(["basic", "plus", "pro"], n),
        "zip": [f"z{v}" for v in rng.integers(0, 120, n)],
        "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**7, n), unit="s"),
        "day": pd.Series(pd.Timestamp("2023-01-01")
                         + pd.to_timedelta(rng.integers(0, 300, n), unit="D")).dt.strftime("%Y-%m-%d"),
        "wait": pd.to_timedelta(rng.integers(0, 100, n), unit="h"),
        "amount_text": [f"{v:.2f}" for v in rng.normal(100, 30, n)],
        "review": review,
        "title": _sentences(rng, n, "t"),
    })


@pytest.fixture(scope="module")
def X():
    return _every_kind()


@pytest.fixture(scope="module")
def y(X):
    rng = np.random.default_rng(1)
    return (X["income"].rank(pct=True) + rng.random(len(X)) > 1.0).astype(int).to_numpy()


#: The columns of each key of ``steps`` in ``_every_kind``.
COLUMNS = {
    "numeric": ["age", "income"],
    "categorical": ["plan"],
    "high_cardinality": ["zip"],
    "datetime": ["when", "day"],
    "date": ["day"],
    "timedelta": ["wait"],
    "boolean": ["flag", "yes_no"],
    "text": ["review", "title"],
    "identifier": ["customer_id"],
    "numeric_text": ["amount_text"],
}


def test_the_fixture_has_every_kind(X):
    kinds = make_preprocessor(X).plan_.set_index("column")["entry"]
    assert kinds.to_dict() == {
        "customer_id": "identifier", "age": "numeric", "income": "numeric", "flag": "boolean",
        "yes_no": "boolean_text", "plan": "categorical", "zip": "high_cardinality",
        "when": "datetime", "day": "date", "wait": "timedelta", "amount_text": "numeric_text",
        "review": "text", "title": "text",
    }
    assert sorted(COLUMNS) == sorted(STEP_KEYS)


# ---- every key --------------------------------------------------------------------------------
@pytest.mark.parametrize("key", sorted(STEP_KEYS))
def test_every_key_replaces_exactly_its_columns(X, key):
    default = make_preprocessor(X).fit_transform(X)
    pre = make_preprocessor(X, steps={key: Seen()})
    out = pre.fit_transform(X)
    mine = COLUMNS[key]
    # The user's step made the features of its kind's columns, and only those.
    seen = [c for c in out.columns if c.endswith("_seen")]
    assert seen == [f"{c}_seen" for c in X.columns if c in mine]
    for col in mine:
        np.testing.assert_array_equal(out[f"{col}_seen"], X[col].notna().astype(float))
    # Every other feature is the default one, value for value.
    others = [c for c in out.columns if c not in seen]
    replaced = set(make_preprocessor(X[mine]).fit_transform(X[mine]).columns) if key not in {
        "text", "identifier", "numeric_text"} else set()
    assert others == [c for c in default.columns if c not in replaced]
    pd.testing.assert_frame_equal(out[others], default[others])
    # column_kinds_ still says what was detected; the plan says steps= chose.
    plan = pre.plan_.set_index("column")
    assert set(plan.loc[mine, "steps"]) == {"Seen"}
    assert set(plan.loc[mine, "action"]) == {f"chosen by steps= (key {key!r})"}
    kinds = pre.column_kinds_
    assert {kinds[c] for c in mine} <= {key, "date", "boolean"}
    assert all(not a.startswith("chosen") for c, a in plan["action"].items() if c not in mine)


def test_date_key_wins_over_datetime_for_dates(X):
    pre = make_preprocessor(X, steps={"datetime": Seen(), "date": "passthrough"})
    out = pre.fit_transform(X)
    assert "when_seen" in out.columns
    assert "day_seen" not in out.columns
    assert out["day"].tolist() == X["day"].tolist()  # passed through as the text it was
    plan = pre.plan_.set_index("column")
    assert plan.loc["day", "action"] == "kept as is: chosen by steps= (key 'date')"
    assert plan.loc["when", "action"] == "chosen by steps= (key 'datetime')"


# ---- the user's transformers ------------------------------------------------------------------
def test_frame_transformer_subclass_on_numeric_with_lineage(X):
    pre = make_preprocessor(X, steps={"numeric": Log1p(offset=1.0)})
    out = pre.fit_transform(X)
    ref = Log1p(offset=1.0).fit_transform(X[["age", "income"]])  # the oracle: the step alone
    pd.testing.assert_frame_equal(out[["log1p_age", "log1p_income"]], ref)
    table = describe_features(pre).set_index("feature")
    assert table.loc["log1p_age", "source"] == "age"
    assert table.loc["log1p_income", "steps"] == "Log1p"
    assert table.loc["log1p_age", "branch"] == "numeric"
    assert table.loc["log1p_age", "note"] == "shifted by the training minimum of age"


def test_frame_transformer_parameter_checks_still_run(X):
    with pytest.raises(InputError, match="offset=-1"):
        make_preprocessor(X, steps={"numeric": Log1p(offset=-1)}).fit(X)


def test_quantile_transformer_on_numeric_equals_it_alone(X):
    pre = make_preprocessor(X, steps={"numeric": QuantileTransformer(n_quantiles=40)})
    out = pre.fit_transform(X)
    ref = QuantileTransformer(n_quantiles=40).fit_transform(X[["age", "income"]])
    np.testing.assert_allclose(out[["age", "income"]].to_numpy(), ref)
    assert "missingindicator_age" not in out.columns  # the whole default entry is replaced
    table = describe_features(pre).set_index("feature")
    assert table.loc[["age", "income"], "source"].tolist() == ["age", "income"]  # one-to-one
    assert set(table.loc[["age", "income"], "steps"]) == {"QuantileTransformer"}


def test_target_encoder_on_categorical_sees_y(X, y):
    pre = make_preprocessor(X, steps={"categorical": TargetEncoder()})
    crossed = pre.fit_transform(X, y)["plan"].to_numpy()
    alone = TargetEncoder().fit(X[["plan"]], y)  # encodings learned on every row: no shuffling
    np.testing.assert_allclose(pre.transform(X)["plan"].to_numpy(), alone.transform(X[["plan"]])[:, 0])
    # fit_transform cross-fits (scikit-learn's rule against target leakage): not the same values.
    assert not np.allclose(crossed, alone.transform(X[["plan"]])[:, 0])
    assert set(np.round(alone.encodings_[0], 12)) != {0.5}  # y does reach the encoder


def test_many_to_many_step_lists_every_source_column(X):
    numeric = Pipeline([("fill", FunctionTransformer(np.nan_to_num, feature_names_out="one-to-one")),
                        ("pca", PCA(n_components=2))])
    pre = make_preprocessor(X, steps={"numeric": numeric}).fit(X)
    table = describe_features(pre).set_index("feature")
    assert table.loc[["pca0", "pca1"], "source"].tolist() == ["age, income"] * 2
    assert pre.plan_.set_index("column").loc["age", "steps"] == "FunctionTransformer(nan_to_num) → PCA"


def test_tfidf_on_two_text_columns(X):
    pre = make_preprocessor(X, steps={"text": TfidfVectorizer(max_features=6)})
    assert [(n, c) for n, _, c in pre.transformers if n.startswith("text")] == [
        ("text_review", "review"), ("text_title", "title")]  # one entry per column, 1-D selector
    out = pre.fit_transform(X)
    for col in ("review", "title"):
        vec = TfidfVectorizer(max_features=6)
        ref = vec.fit_transform(X[col].fillna("")).toarray()  # missing text read as ""
        names = [f"{col}_{term}" for term in vec.get_feature_names_out()]
        np.testing.assert_allclose(out[names].to_numpy(), ref)
    assert out.columns.is_unique
    assert (out.dtypes == np.float64).all()
    assert pre.column_kinds_["review"] == pre.column_kinds_["title"] == "text"
    plan = pre.plan_.set_index("column")
    assert plan.loc[["review", "title"], "entry"].tolist() == ["text_review", "text_title"]
    assert set(plan.loc[["review", "title"], "kind"]) == {"text"}
    assert set(plan.loc[["review", "title"], "steps"]) == {"TfidfVectorizer"}
    table = describe_features(pre, X).set_index("feature")
    review = [f for f in table.index if f.startswith("review_")]
    assert len(review) == 6
    assert set(table.loc[review, "source"]) == {"review"}
    assert set(table.loc[review, "branch"]) == {"text_review"}
    assert "review" in pre.used_columns_
    assert X["review"].isna().sum() == 2  # the caller's frame keeps its missing text


def test_text_columns_are_dropped_by_default(X):
    plan = make_preprocessor(X).plan_.set_index("column")
    assert plan.loc["review", "action"].startswith("dropped")


def test_passthrough_and_drop(X):
    pre = make_preprocessor(X, steps={"numeric": "passthrough", "categorical": "drop",
                                      "text": "passthrough"})
    out = pre.fit_transform(X)
    pd.testing.assert_series_equal(out["age"], X["age"])  # NaN kept: nothing imputed
    assert out["age"].dtype == np.float64
    assert out["review"].tolist() == X["review"].tolist()
    assert not any(c.startswith("plan") for c in out.columns)
    assert "plan" not in pre.used_columns_
    plan = pre.plan_.set_index("column")
    assert plan.loc["plan", "action"] == "dropped: chosen by steps= (key 'categorical')"
    assert plan.loc["plan", "steps"] == ""
    assert plan.loc["age", "action"] == "kept as is: chosen by steps= (key 'numeric')"
    assert plan.loc["age", "steps"] == "passthrough"
    report = pre.plan_report().to_dict()
    assert report["summary"]["dropped"] == 3  # plan, customer_id, amount_text (not the text)
    assert report["notes"][-1] == "Your own steps (make_preprocessor's steps=) for: numeric, categorical, text."


def test_steps_on_kinds_dropped_by_default_keep_them(X):
    pre = make_preprocessor(X, steps={"identifier": Seen(), "numeric_text": "passthrough"})
    out = pre.fit_transform(X)
    assert "customer_id_seen" in out.columns
    assert out["amount_text"].tolist() == X["amount_text"].tolist()
    assert {"customer_id", "amount_text"} <= set(pre.used_columns_)


# ---- bad steps --------------------------------------------------------------------------------
@pytest.mark.parametrize(("steps", "match"), [
    ({"numbers": StandardScaler()}, r"unknown key 'numbers'.*'numeric', 'categorical', 'high_cardinality'"),
    ({"low_cardinality": StandardScaler()}, r"unknown key 'low_cardinality'.*'numeric_text'"),
    ({1: StandardScaler()}, r"unknown key 1"),
    ({"numeric": "scale"}, r"steps\['numeric'\] is 'scale'.*'drop', 'passthrough'"),
    ({"numeric": StandardScaler}, r"steps\['numeric'\] is the class StandardScaler.*StandardScaler\(\)"),
    ({"datetime": 3}, r"steps\['datetime'\] is a int, which has no fit and transform"),
    ({"numeric": FunctionTransformer(np.log1p)},
     r"steps\['numeric'\]: FunctionTransformer does not name its output.*feature_names_out"),
    ({"categorical": TfidfVectorizer()}, r"steps\['categorical'\]: TfidfVectorizer reads one column"),
    ({"boolean": NoParams()}, r"steps\['boolean'\] cannot be cloned"),
    ([("numeric", StandardScaler())], r"steps is a list"),
])
def test_bad_steps_name_the_key(X, steps, match):
    with pytest.raises(InputError, match=match):
        make_preprocessor(X, steps=steps)


# ---- the caller's object, clone, search -------------------------------------------------------
def test_the_callers_transformer_is_never_fitted_or_changed(X):
    mine = QuantileTransformer(n_quantiles=30)
    before = mine.get_params()
    pre = make_preprocessor(X, steps={"numeric": mine})
    pre.fit(X)
    pre.set_params(numeric__n_quantiles=10).fit(X)
    assert not hasattr(mine, "quantiles_")
    assert mine.get_params() == before
    assert pre.kind_steps["numeric"] is not mine
    assert pre.named_transformers_["numeric"] is not mine


def test_clone_keeps_the_steps(X):
    pre = make_preprocessor(X, steps={"numeric": Log1p(offset=2.0), "text": TfidfVectorizer()})
    again = clone(pre)
    assert again.get_params()["kind_steps"]["numeric"].offset == 2.0
    pd.testing.assert_frame_equal(again.plan_, pre.plan_)
    pd.testing.assert_frame_equal(again.fit_transform(X), pre.fit_transform(X))


def test_grid_search_tunes_a_step_parameter_and_the_steps(X, y):
    prep = make_preprocessor(X, steps={"numeric": QuantileTransformer(n_quantiles=20)})
    model = Pipeline([("prep", prep), ("model", _model())])
    search = GridSearchCV(model, {"prep__numeric__n_quantiles": [10, 50]}, cv=2).fit(X, y)
    best = search.best_params_["prep__numeric__n_quantiles"]
    assert search.best_estimator_["prep"].named_transformers_["numeric"].n_quantiles == best
    assert prep.transformers[0][1].n_quantiles == 20  # the searched object is not touched
    # The whole step is a parameter too.
    search = GridSearchCV(model, {"prep__kind_steps": [{"numeric": QuantileTransformer(n_quantiles=10)},
                                                       {"numeric": Log1p()}]}, cv=2).fit(X, y)
    names = {type(search.best_estimator_["prep"].named_transformers_["numeric"]).__name__}
    assert names <= {"QuantileTransformer", "Log1p"}
    steps = search.cv_results_["params"]
    assert [type(p["prep__kind_steps"]["numeric"]).__name__ for p in steps] == ["QuantileTransformer", "Log1p"]


def test_set_params_kind_steps_replaces_the_entries(X):
    pre = make_preprocessor(X, steps={"numeric": QuantileTransformer(n_quantiles=20), "text": "drop"})
    pre.set_params(kind_steps={"numeric": Log1p(), "text": TfidfVectorizer(max_features=3)})
    assert isinstance({n: t for n, t, _ in pre.transformers}["numeric"], Log1p)
    out = pre.fit_transform(X)
    assert "log1p_age" in out.columns
    assert "age" not in out.columns
    assert sum(c.startswith("review_") for c in out.columns) == 3
    assert sum(c.startswith("title_") for c in out.columns) == 3
    pre.set_params(**pre.get_params(deep=False))  # the same steps: nothing changes
    pd.testing.assert_frame_equal(pre.fit_transform(X), out)
    pre.set_params(kind_steps={"numeric": Log1p()})  # text back to its default: dropped
    assert not any(c.startswith(("review", "title")) for c in pre.fit_transform(X).columns)
    # set_params stores (scikit-learn's convention); fit refuses (test_preprocessor_review3.py).
    with pytest.raises(InputError, match=r"leaves out \['numeric'\].*make_preprocessor"):
        pre.set_params(kind_steps={}).fit(X)
    with pytest.raises(InputError, match="unknown key 'nums'"):
        pre.set_params(kind_steps={"nums": Log1p()}).fit(X)


# ---- routing ----------------------------------------------------------------------------------
def test_routing_creates_new_entries_from_the_users_steps(X):
    cats = X[["plan", "zip", "age"]]
    pre = make_preprocessor(cats, steps={"high_cardinality": Seen(), "categorical": Score()})
    assert [n for n, _, _ in pre.transformers] == ["numeric", "categorical", "high_cardinality"]
    # Everything categorical: zip moves into "categorical" (the user's Score, cloned).
    pre.set_params(max_categories=500).fit(cats)
    assert pre.column_kinds_ == {"plan": "categorical", "zip": "categorical", "age": "numeric"}
    assert isinstance(pre.named_transformers_["categorical"], Score)
    # No "high_cardinality" entry at first: routing creates it, from the user's step.
    only_plan = make_preprocessor(cats[["plan", "age"]], steps={"high_cardinality": Seen()})
    assert "high_cardinality" not in [n for n, _, _ in only_plan.transformers]
    only_plan.set_params(max_categories=2).fit(cats[["plan", "age"]])
    created = only_plan.named_transformers_["high_cardinality"]
    assert isinstance(created, Seen)
    assert created is not only_plan.kind_steps["high_cardinality"]
    assert only_plan.column_kinds_["plan"] == "high_cardinality"
    out = only_plan.transform(cats[["plan", "age"]])
    assert "plan_seen" in out.columns
    plan = only_plan.plan_.set_index("column")
    assert plan.loc["plan", "action"] == "chosen by steps= (key 'high_cardinality')"


def test_routing_never_changes_the_users_rare_grouping(X):
    mine = RareCategoryGrouper(min_frequency=0.0, max_categories=7)
    pre = make_preprocessor(X[["zip"]], steps={"high_cardinality": make_pipeline(mine)})
    pre.set_params(max_categories=10).fit(X[["zip"]])
    fitted = pre.named_transformers_["high_cardinality"]
    assert fitted.steps[0][1].max_categories == 7
    assert pre.transform(X[["zip"]]).nunique().iloc[0] == 8  # 7 kept + the rare bucket
    default = make_preprocessor(X[["zip"]]).set_params(max_categories=10).fit(X[["zip"]])
    assert default.named_transformers_["high_cardinality"]["group"].max_categories == 10


def test_grid_search_over_max_categories_with_user_steps(X, y):
    prep = make_preprocessor(X[["plan", "zip", "age"]],
                             steps={"categorical": Seen(), "high_cardinality": "drop"})
    model = Pipeline([("prep", prep), ("model", _model())])
    search = GridSearchCV(model, {"prep__max_categories": [2, 500]}, cv=2).fit(X[["plan", "zip", "age"]], y)
    fitted = {mc: clone(prep).set_params(max_categories=mc).fit(X) for mc in (2, 500)}
    assert fitted[2].column_kinds_["plan"] == "high_cardinality"
    assert "plan" not in fitted[2].used_columns_  # routed into the user's "drop"
    assert fitted[500].column_kinds_["zip"] == "categorical"
    assert "zip_seen" in fitted[500].transform(X).columns
    assert len(search.cv_results_["mean_test_score"]) == 2


# ---- names ------------------------------------------------------------------------------------
def test_a_name_two_entries_make_gets_their_prefix(X):
    pre = make_preprocessor(X[["age", "flag", "plan"]], steps={"numeric": Score(), "boolean": Score()})
    out = pre.fit_transform(X[["age", "flag", "plan"]])
    assert out.columns.tolist() == ["numeric__score", "boolean__score", "plan_basic", "plan_plus", "plan_pro"]
    np.testing.assert_array_equal(out["numeric__score"], X["age"].notna().astype(float))


def test_a_name_repeated_within_one_entry_is_an_input_error(X):
    pre = make_preprocessor(X[["age", "income"]], steps={"numeric": SameName()})
    with pytest.raises(InputError, match=r"\['feat'\] repeat within the entries \['numeric'\]"):
        pre.fit(X[["age", "income"]])


def test_text_in_a_numeric_column_is_still_refused(X):
    pre = make_preprocessor(X, steps={"numeric": QuantileTransformer(n_quantiles=20)}).fit(X)
    bad = X.assign(age=X["age"].astype(object))
    bad.loc[5, "age"] = "forty"
    with pytest.raises(InputError, match="column 'age': holds text in a numeric column"):
        pre.transform(bad)


# ---- persistence, polars, defaults ------------------------------------------------------------
def test_pickle_and_bundle_round_trip(X, y, tmp_path):
    X = X.drop(columns="wait")  # an input contract takes no durations
    prep = make_preprocessor(X, steps={"numeric": Log1p(), "text": TfidfVectorizer(max_features=4)})
    model = Pipeline([("prep", prep), ("model", _model())]).fit(X, y)
    expected = model.predict_proba(X)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(X), expected)
    pd.testing.assert_frame_equal(again["prep"].plan_, model["prep"].plan_)
    bundle = ModelBundle(model, InputSchema.infer(X), version="steps")
    path = bundle.save(tmp_path / "steps.mllife")
    name = f"{Log1p.__module__}.Log1p"
    with pytest.raises(UntrustedTypeError, match=name.replace(".", r"\.")):
        load_bundle(path)
    loaded = load_bundle(path, trusted=[Log1p])
    np.testing.assert_allclose(loaded.model.predict_proba(X), expected)
    pd.testing.assert_frame_equal(loaded.predict(X), bundle.predict(X))
    prep_loaded = loaded.model["prep"]
    assert isinstance(prep_loaded.kind_steps["numeric"], Log1p)
    pd.testing.assert_frame_equal(prep_loaded.plan_, model["prep"].plan_)


def test_a_preprocessor_saved_before_steps_existed_still_works(X):
    pre = make_preprocessor(X).fit(X)
    state = pre.__getstate__()
    state.pop("kind_steps")
    old = type(pre).__new__(type(pre))
    old.__setstate__(state)  # as an old pickle or bundle restores it
    assert "kind_steps" not in old.__dict__
    assert old.get_params()["kind_steps"] is None
    pd.testing.assert_frame_equal(old.transform(X), pre.transform(X))
    pd.testing.assert_frame_equal(old.plan_, pre.plan_)
    pd.testing.assert_frame_equal(clone(old).fit_transform(X), pre.transform(X))


def test_polars_input(X):
    pl = pytest.importorskip("polars")
    data = X.drop(columns=["wait"])  # a duration column reads back as another unit
    frame = pl.from_pandas(data)
    steps = {"numeric": Log1p(), "text": TfidfVectorizer(max_features=3), "boolean": "passthrough"}
    from_polars = make_preprocessor(frame, steps=steps).fit_transform(frame)
    from_pandas = make_preprocessor(data, steps=steps).fit_transform(data)
    pd.testing.assert_frame_equal(from_polars.reset_index(drop=True), from_pandas.reset_index(drop=True),
                                  check_dtype=False)
    assert "log1p_age" in from_polars.columns
    assert sum(c.startswith("review_") for c in from_polars.columns) == 3


def test_no_steps_is_the_default_byte_for_byte(X):
    plain, empty = make_preprocessor(X), make_preprocessor(X, steps={})
    assert repr(plain) == repr(empty)
    assert empty.kind_steps is None
    a, b = plain.fit_transform(X), empty.fit_transform(X)
    pd.testing.assert_frame_equal(a, b)
    assert a.to_numpy().tobytes() == b.to_numpy().tobytes()
    pd.testing.assert_frame_equal(plain.plan_, empty.plan_)
    pd.testing.assert_frame_equal(describe_features(plain, X), describe_features(empty, X))
