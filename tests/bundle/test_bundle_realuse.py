"""Real-use cases found in review: numpy-trained models, integer labels, messages."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression, Ridge

import mllife
from mllife import InputError, SchemaError, UntrustedTypeError
from mllife.bundle import InputSchema, ModelBundle, load_bundle


def test_numpy_trained_model_round_trip_without_feature_name_warning(tmp_path):
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    schema = InputSchema.infer(X)  # a 2-D array: columns "0", "1", ...
    assert schema.columns == ("0", "1", "2", "3")
    bundle = ModelBundle(model, schema, version="np")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sklearn's "X has feature names" warning
        for request in (X[:5], pd.DataFrame(X[:5]), [dict(zip("0123", map(float, X[0]), strict=True))]):
            out = bundle.predict(request)
            assert (out["prediction"].to_numpy() == model.predict(X[: len(out)])).all()
        loaded = load_bundle(bundle.save(tmp_path / "np.mllife"))
        assert np.allclose(loaded.predict_proba(X).filter(like="proba_").to_numpy(),
                           model.predict_proba(X))


def test_integer_column_labels_match_the_contract():
    frame = pd.DataFrame(np.arange(12.0).reshape(4, 3))
    schema = InputSchema.infer(frame)
    out = schema.validate(frame)
    assert out.columns.tolist() == ["0", "1", "2"]
    assert np.array_equal(out.to_numpy(), frame.to_numpy())
    with pytest.raises(SchemaError) as info:
        schema.validate(frame[[0, 1]])
    assert [(p["column"], p["problem"]) for p in info.value.problems] == [("2", "missing column")]


def test_regression_and_string_label_multiclass_round_trip(tmp_path):
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    reg = ModelBundle(Ridge().fit(X, y), InputSchema.infer(X), version="r")
    loaded = load_bundle(reg.save(tmp_path / "r.mllife"))
    # same values; only BLAS rounding differs with the memory layout of the validated frame
    assert np.allclose(loaded.predict(X)["prediction"], reg.model.predict(X), rtol=1e-12)
    with pytest.raises(InputError, match="no predict_proba"):
        reg.predict_proba(X.head(1))
    X, y = load_iris(return_X_y=True, as_frame=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, labels)
    out = ModelBundle(clf, InputSchema.infer(X), version="c").predict_proba(X.iloc[[0, 60]])
    assert out.columns.tolist() == ["prediction", "proba_setosa", "proba_versicolor",
                                    "proba_virginica", "model_version"]
    assert out["prediction"].tolist() == clf.predict(X.iloc[[0, 60]]).tolist()


def test_all_missing_text_column_has_no_category_list():
    schema = InputSchema.infer(pd.DataFrame({"note": [None, None], "x": [1.0, 2.0]}))
    assert schema.specs[0].categories is None
    assert schema.validate({"note": "anything", "x": 1.5}).loc[0, "note"] == "anything"


def test_object_column_error_names_the_types_not_the_values():
    with pytest.raises(InputError, match=r"column 'o'.*\(int, str\)") as info:
        InputSchema.infer(pd.DataFrame({"o": [1, "secret-value"]}))
    assert "secret-value" not in str(info.value)


def test_schema_error_message_names_rows_expected_and_suggestion_not_values():
    train = pd.DataFrame({"plan": ["basic", "pro", "team"], "region": ["n", "s", "n"]})
    schema = InputSchema.infer(train)
    with pytest.raises(SchemaError) as info:
        schema.validate(pd.DataFrame({"plan": ["pro", "secret-gold"], "regoin": ["n", "s"]}))
    message = str(info.value)
    assert "secret-gold" not in message
    assert "rename 'regoin' to 'region'?" in message
    assert ("column 'plan': unseen category in 1 row (row positions 1); expected one of the "
            "categories seen in training: 'basic', 'pro', 'team'") in message


def test_untrusted_custom_class_message_says_how_to_trust(tmp_path):
    from sklearn.pipeline import make_pipeline

    from tests.bundle._custom import Doubler

    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    model = make_pipeline(Doubler(), LogisticRegression()).fit(X, [0, 0, 1, 1])
    path = ModelBundle(model, InputSchema.infer(X), version="1").save(tmp_path / "c.mllife")
    with pytest.raises(UntrustedTypeError,
                       match=r"load_bundle\(path, trusted=\['tests\.bundle\._custom\.Doubler'\]\)"):
        load_bundle(path)


def test_bundle_with_mllife_preprocessor_loads_in_a_fresh_process(tmp_path):
    frame = mllife.make_churn(600, random_state=0, defects=False).frame
    X, y = frame.drop(columns="churned"), frame["churned"]
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(mllife.make_preprocessor(X), LogisticRegression(max_iter=300))
    bundle = ModelBundle(model.fit(X, y), InputSchema.infer(X), version="fresh")
    path = bundle.save(tmp_path / "fresh.mllife")
    X.head(20).to_pickle(tmp_path / "rows.pkl")
    code = ("import warnings, pandas as pd; warnings.simplefilter('error');"
            "from mllife.bundle import load_bundle;"
            f"b = load_bundle({str(path)!r});"
            f"print(b.predict(pd.read_pickle({str(tmp_path / 'rows.pkl')!r}))"
            "['prediction'].tolist())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str(bundle.predict(X.head(20))["prediction"].tolist())


@pytest.mark.parametrize("dtypes", [
    {"i": "Int64", "f": "Float64", "b": "boolean", "s": "string"},
    {"i": "int32", "f": "float32", "b": "bool", "s": "category"},
    {"i": "uint8", "f": "float64", "b": "boolean", "s": object},
])
def test_clean_request_in_other_dtypes_validates_to_the_training_dtypes(dtypes):
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"i": rng.integers(0, 100, 300), "f": rng.normal(size=300),
                          "b": rng.random(300) < 0.5, "s": rng.choice(["a", "b", "c"], 300)})
    schema = InputSchema.infer(train)
    expected = schema.validate(train)
    out = schema.validate(train.astype(dtypes))
    assert out.dtypes.to_dict() == expected.dtypes.to_dict()
    for column in ("i", "b", "s"):
        assert out[column].tolist() == expected[column].tolist()
    assert np.allclose(out["f"], expected["f"], rtol=1e-6)
    with pytest.raises(SchemaError, match=r"column 'b': missing value where training had none"):
        schema.validate(train.astype({"b": "boolean"}).assign(
            b=pd.array([None] + [True] * 299, dtype="boolean")))


def test_contract_accepts_its_own_long_training_text():
    rng = np.random.default_rng(0)
    tickets = pd.DataFrame({"body": ["word " * int(k) for k in rng.integers(1, 4000, 50)],
                            "priority": rng.choice(["low", "high"], 50)})
    longest = int(tickets["body"].str.len().max())
    assert longest > 10_000
    schema = InputSchema.infer(tickets)
    assert schema.policies.max_string_length == 2 * longest
    assert schema.validate(tickets)["body"].tolist() == tickets["body"].tolist()
    with pytest.raises(SchemaError, match="string too long"):
        schema.validate({"body": "x" * (2 * longest + 1), "priority": "low"})
    assert InputSchema.infer(tickets.assign(body="short")).policies.max_string_length == 10_000
    assert InputSchema.infer(tickets, max_string_length=50).policies.max_string_length == 50
