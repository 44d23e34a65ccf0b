"""Scorer names that are not Python identifiers ("acc%", "1st") work like any other."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, make_scorer

from mllife import compare_models


def test_a_primary_score_named_like_no_attribute_still_gives_findings():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=150)})
    y = (X["a"] + rng.normal(scale=0.5, size=150) > 0).astype(int)
    report = compare_models(
        {"lr": LogisticRegression(), "const": DummyClassifier(strategy="most_frequent")},
        X, y, cv=3, scoring={"acc%": make_scorer(accuracy_score), "1st": "accuracy"},
        baseline=False)
    assert report.primary == "acc%"
    means = report.results.set_index("model")["acc%_mean"]
    assert means["lr"] > means["const"]
    # the per-model findings ran on the odd name (a constant model cannot pass 0.99)
    assert not report.findings_by(check="suspiciously_good")
    np.testing.assert_allclose(report.results["acc%_mean"], report.results["1st_mean"])
