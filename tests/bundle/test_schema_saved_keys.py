"""A contract saved before the policy renames (``rare_label``, ``"allow"``) still reads.

``InputSchema`` writes ``rare_value`` and ``out_of_range="ignore"``; schema JSON written
with the earlier spellings (inside a bundle or on its own) reads back as the same contract.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier

from mllife import InputError
from mllife.bundle import InputSchema, ModelBundle, load_bundle


@pytest.fixture
def train():
    return pd.DataFrame({"age": [20, 35, 50, 41], "plan": ["basic", "pro", "basic", "pro"]})


def _old_keys(data):
    """``data`` as the earlier writer wrote it."""
    old = json.loads(json.dumps(data))
    policies = old["policies"]
    policies["rare_label"] = policies.pop("rare_value")
    if policies["out_of_range"] == "ignore":
        policies["out_of_range"] = "allow"
    return old


def test_to_dict_writes_the_new_spellings(train):
    policies = InputSchema.infer(train, unseen="rare", rare_value="other",
                                 out_of_range="ignore").to_dict()["policies"]
    assert policies["rare_value"] == "other"
    assert "rare_label" not in policies
    assert policies["out_of_range"] == "ignore"


def test_the_old_keys_read_back_as_the_same_contract(train):
    schema = InputSchema.infer(train, unseen="rare", rare_value="other", out_of_range="ignore")
    again = InputSchema.from_dict(json.loads(json.dumps(_old_keys(schema.to_dict()))))
    assert again == schema
    out = again.validate({"age": 500, "plan": "gold"})
    assert out.loc[0, "plan"] == "other"
    assert out.loc[0, "age"] == 500


def test_the_old_spellings_are_not_parameters(train):
    with pytest.raises(TypeError):
        InputSchema.infer(train, rare_label="other")
    with pytest.raises(InputError, match="out_of_range='allow'"):
        InputSchema.infer(train, out_of_range="allow")


def test_a_bundle_saved_with_the_old_keys_loads(train, tmp_path, monkeypatch):
    schema = InputSchema.infer(train, unseen="rare", rare_value="other")
    model = DummyClassifier().fit(train, [0, 1, 0, 1])
    new_to_dict = InputSchema.to_dict
    monkeypatch.setattr(InputSchema, "to_dict", lambda self: _old_keys(new_to_dict(self)))
    path = ModelBundle(model, schema, version="1").save(tmp_path / "old.mllife")
    monkeypatch.undo()
    loaded = load_bundle(path)
    assert loaded.schema == schema
    assert loaded.schema.validate({"age": 30, "plan": "gold"}).loc[0, "plan"] == "other"
