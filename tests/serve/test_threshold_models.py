"""A classifier that decides by a tuned threshold is answered with its own ``predict``.

The most probable class is what most classifiers predict, but not scikit-learn's
``FixedThresholdClassifier`` / ``TunedThresholdClassifierCV``: serving the argmax of
``predict_proba`` would silently answer another class than the model gives.
"""

from __future__ import annotations

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import FixedThresholdClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mllife.bundle import InputSchema, ModelBundle
from mllife.serve import make_app


@pytest.fixture(scope="module")
def thresholded():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=400), "z": rng.normal(size=400)})
    y = (X["x"] + 0.5 * rng.normal(size=400) > 0).astype(int)
    model = make_pipeline(StandardScaler(), FixedThresholdClassifier(
        LogisticRegression(), threshold=0.9, response_method="predict_proba")).fit(X, y)
    return ModelBundle(model, InputSchema.infer(X), version="t"), X, model


def test_bundle_predict_proba_answers_with_the_models_predict(thresholded):
    bundle, X, model = thresholded
    out = bundle.predict_proba(X)
    assert (out["prediction"].to_numpy() == model.predict(X)).all()
    argmax = np.argmax(out[["proba_0", "proba_1"]].to_numpy(), axis=1)
    assert (argmax != model.predict(X)).sum() > 20  # the threshold matters on this data


def test_the_server_answers_with_the_models_predict(serve_app, thresholded):
    bundle, X, model = thresholded
    url = serve_app(make_app(bundle))
    rows = X.head(200)
    answer = httpx.post(f"{url}/predict", json=rows.to_dict(orient="records"), timeout=30)
    assert answer.status_code == 200
    assert answer.json()["predictions"] == model.predict(rows).tolist()


def test_predict_file_answers_with_the_models_predict(tmp_path, thresholded):
    bundle, X, model = thresholded
    X.to_csv(tmp_path / "in.csv", index=False)
    bundle.predict_file(tmp_path / "in.csv", tmp_path / "out.csv", progress=False)
    scored = pd.read_csv(tmp_path / "out.csv")
    assert (scored["prediction"].to_numpy() == model.predict(X)).all()


def test_the_monitor_scores_with_the_models_predict(thresholded):
    from mllife.monitor._outputs import score_valid

    bundle, X, model = thresholded
    outputs = score_valid(bundle, bundle.schema.validate(X), "binary", (0, 1), True)
    assert (np.asarray(outputs.prediction) == model.predict(X)).all()
