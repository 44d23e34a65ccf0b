"""``python -m mllife serve`` on a bundle holding user code: the refusal says how to trust it here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from tests.bundle._user_code import LogRatio

from mllife.bundle import InputSchema, ModelBundle
from mllife.serve._cli import main

NAME = "tests.bundle._user_code.LogRatio"


@pytest.fixture(scope="module")
def bundle_path(tmp_path_factory: pytest.TempPathFactory):
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"income": rng.uniform(1, 100, 200), "debt": rng.uniform(1, 50, 200)})
    y = (X["income"] > X["debt"] * 2).astype(int)
    model = Pipeline([("ratio", LogRatio()), ("model", LogisticRegression())]).fit(X, y)
    folder = tmp_path_factory.mktemp("user-code")
    return ModelBundle(model, InputSchema.infer(X), version="1.0").save(folder / "user.mllife")


def test_refusal_names_the_class_and_the_cli_option(bundle_path, capsys):
    assert main([str(bundle_path), "--port", "0"]) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("python -m mllife serve: error: "), err
    assert "UntrustedTypeError" in lines[0]
    assert NAME in lines[0]
    assert "--trusted NAME" in lines[0]
    assert "listening" not in out


def test_a_wrong_trusted_name_is_still_refused(bundle_path, capsys):
    assert main([str(bundle_path), "--port", "0", "--trusted", "tests.bundle._user_code.Other"]) == 2
    _, err = capsys.readouterr()
    assert NAME in err
    assert "Traceback" not in err
