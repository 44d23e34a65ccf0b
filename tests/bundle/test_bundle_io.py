"""ModelBundle: prediction, save/load round trip, integrity, trust, threads."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mllife
from mllife import IntegrityError, SchemaError, UntrustedTypeError, VersionMismatchWarning
from mllife.bundle import InputSchema, ModelBundle, _io, load_bundle

NUMERIC = ["age", "tenure_months", "monthly_charges", "usage_gb"]
CATEGORICAL = ["plan", "contract", "region"]


def make_pipeline(estimator):
    pre = ColumnTransformer([("num", StandardScaler(), NUMERIC),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)])
    return Pipeline([("pre", pre), ("model", estimator)])


@pytest.fixture(scope="module")
def data(churn_clean):
    frame = churn_clean.frame
    return frame.drop(columns="churned"), frame["churned"]


@pytest.fixture(scope="module")
def bundle(data):
    X, y = data
    model = make_pipeline(LogisticRegression(max_iter=500)).fit(X, y)
    return ModelBundle(model, InputSchema.infer(X), version="2.1.0",
                       metadata={"owner": "tests"}, metrics={"roc_auc": 0.8})


@pytest.fixture(scope="module")
def saved(bundle, tmp_path_factory):
    return bundle.save(tmp_path_factory.mktemp("b") / "model.mllife")


@pytest.fixture(scope="module")
def signed(bundle, tmp_path_factory):
    return bundle.save(tmp_path_factory.mktemp("s") / "signed.mllife", key="k3y")


def records(X, n=5):
    return json.loads(X.head(n).to_json(orient="records", date_format="iso"))


# ------------------------------------------------------------------ predict
def test_predict_matches_pipeline_for_frame_dict_and_list(bundle, data):
    X, _ = data
    expected = bundle.model.predict(X)
    out = bundle.predict(X)
    assert list(out.columns) == ["prediction", "model_version"]
    assert (out["prediction"].to_numpy() == expected).all()
    assert out.index.equals(X.index)
    assert (out["model_version"] == "2.1.0").all()
    assert bundle.predict(records(X, 1)[0])["prediction"].tolist() == expected[:1].tolist()
    assert bundle.predict(records(X))["prediction"].tolist() == expected[:5].tolist()


def test_predict_proba_columns(bundle, data):
    X, _ = data
    out = bundle.predict_proba(records(X))
    assert list(out.columns) == ["prediction", "proba_0", "proba_1", "model_version"]
    np.testing.assert_allclose(out[["proba_0", "proba_1"]].to_numpy(),
                               bundle.model.predict_proba(X.head(5)))
    regression = ModelBundle(LinearRegression().fit(X[NUMERIC], X["total_charges"]),
                             InputSchema.infer(X[NUMERIC]), version="r")
    with pytest.raises(mllife.InputError, match="predict_proba"):
        regression.predict_proba(X[NUMERIC].head())
    assert regression.predict(X[NUMERIC].head())["prediction"].dtype == float


def test_never_predicts_on_garbage(data):
    X, y = data

    class Spy(LogisticRegression):
        calls = 0

        def predict(self, X):
            Spy.calls += 1
            return super().predict(X)

    model = make_pipeline(Spy(max_iter=200)).fit(X, y)
    spy = ModelBundle(model, InputSchema.infer(X), version="s")
    for garbage in ({}, [], {"age": "x"}, {**records(X, 1)[0], "plan": None}, "DROP TABLE"):
        with pytest.raises(SchemaError):
            spy.predict(garbage)
    assert Spy.calls == 0


def test_thread_safe_concurrent_predictions(bundle, data):
    X, _ = data
    rows = records(X, 40)
    expected = bundle.predict(rows)["prediction"].tolist()

    def one(i):
        if i % 3 == 0:
            try:
                bundle.predict({**rows[i % 40], "age": "garbage"})
            except SchemaError:
                return "refused"
        return bundle.predict(rows[i % 40])["prediction"].iloc[0]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, range(160)))
    for i, result in enumerate(results):
        assert result == ("refused" if i % 3 == 0 else expected[i % 40])


def test_constructor_errors(data):
    X, _ = data
    schema = InputSchema.infer(X)
    with pytest.raises(mllife.InputError):
        ModelBundle(object(), schema, version="1")
    with pytest.raises(mllife.InputError):
        ModelBundle(LogisticRegression(), {"x": 1}, version="1")  # type: ignore[arg-type]
    with pytest.raises(mllife.InputError):
        ModelBundle(LogisticRegression(), schema, version="")


# ------------------------------------------------------------------ round trip
@pytest.mark.parametrize("estimator", [
    LogisticRegression(max_iter=300),
    RandomForestClassifier(n_estimators=5, random_state=0),
    HistGradientBoostingClassifier(max_iter=5, random_state=0),
], ids=["logistic", "forest", "hist-gb"])
def test_round_trip_predictions_identical(estimator, data, tmp_path):
    from threadpoolctl import threadpool_limits

    X, y = data
    with threadpool_limits(limits=1):  # small fits: threads only fight on a busy machine
        model = make_pipeline(estimator).fit(X, y)
    bundle = ModelBundle(model, InputSchema.infer(X), version="rt", metrics={"auc": 0.7})
    path = bundle.save(tmp_path / "m.mllife")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same versions: no warning
        loaded = load_bundle(path)
    pd.testing.assert_frame_equal(loaded.predict_proba(X), bundle.predict_proba(X))
    pd.testing.assert_frame_equal(loaded.predict(X), bundle.predict(X))
    assert loaded.schema == bundle.schema
    assert loaded.version == "rt"
    assert dict(loaded.metrics) == {"auc": 0.7}
    assert loaded.versions["scikit-learn"] == bundle.versions["scikit-learn"]


def test_save_leaves_only_the_bundle_and_overwrites(bundle, tmp_path):
    bundle.save(tmp_path / "a.mllife")
    bundle.save(tmp_path / "a.mllife")
    bundle.save(tmp_path / "sub" / "b.mllife")
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        "a.mllife", "sub", "sub/b.mllife"]


def test_failed_save_leaves_no_partial_file(bundle, tmp_path, monkeypatch):
    target = tmp_path / "m.mllife"
    target.write_bytes(b"previous good bundle")

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(_io.os, "replace", crash)
    with pytest.raises(OSError):
        bundle.save(target)
    assert target.read_bytes() == b"previous good bundle"
    assert list(tmp_path.iterdir()) == [target]


def test_manifest_lists_members_hashes_and_versions(saved):
    with zipfile.ZipFile(saved) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        for name, entry in manifest["members"].items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == entry["sha256"]
    assert set(manifest["members"]) == {"model.skops", "schema.json", "info.json"}
    assert set(manifest["versions"]) >= {"python", "mllife", "scikit-learn", "numpy", "pandas",
                                         "scipy", "skops"}


def test_drift_profile_is_stored_and_restored(bundle, data, tmp_path):
    from mllife import drift

    X, _ = data
    profile = drift.DriftProfile.fit(X[NUMERIC + CATEGORICAL])
    with_profile = ModelBundle(bundle.model, bundle.schema, version="d", drift_profile=profile)
    loaded = load_bundle(with_profile.save(tmp_path / "d.mllife"))
    assert type(loaded.drift_profile) is type(profile)
    assert loaded.drift_profile.to_dict() == json.loads(json.dumps(profile.to_dict()))


# ------------------------------------------------------------------ integrity
def test_every_flipped_byte_is_detected(saved, tmp_path):
    raw = saved.read_bytes()
    positions = set(np.linspace(0, len(raw) - 1, 150).astype(int).tolist())
    with zipfile.ZipFile(saved) as zf:  # and a few bytes inside every member's region
        for info in zf.infolist():
            start = info.header_offset
            positions.update({start, start + 10, start + 30 + len(info.filename) + 1,
                              start + 30 + len(info.filename) + info.compress_size // 2})
    target = tmp_path / "flipped.mllife"
    for pos in sorted(p for p in positions if p < len(raw)):
        damaged = bytearray(raw)
        damaged[pos] ^= 0x20
        target.write_bytes(bytes(damaged))
        with pytest.raises(IntegrityError):
            load_bundle(target)


def test_corrupted_member_is_named(saved, tmp_path):
    raw = saved.read_bytes()
    with zipfile.ZipFile(saved) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members["schema.json"] = members["schema.json"].replace(b'"integer"', b'"float"  ')
    path = tmp_path / "t.mllife"
    _rezip(path, members)
    with pytest.raises(IntegrityError, match=r"schema\.json"):
        load_bundle(path)
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(IntegrityError, match="truncated"):
        load_bundle(path)
    path.write_bytes(b"")
    with pytest.raises(IntegrityError):
        load_bundle(path)


def test_hmac_signature(signed, saved, tmp_path):
    assert load_bundle(signed, key="k3y").version == "2.1.0"
    assert load_bundle(signed, key=b"k3y").version == "2.1.0"
    with pytest.raises(IntegrityError, match="signed"):
        load_bundle(signed)
    with pytest.raises(IntegrityError, match="HMAC"):
        load_bundle(signed, key="wrong")
    with pytest.raises(IntegrityError, match="not signed"):
        load_bundle(saved, key="k3y")
    # stripping the signature does not turn a signed bundle into an unsigned one
    with zipfile.ZipFile(signed) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    del members["manifest.hmac"]
    _rezip(tmp_path / "stripped.mllife", members)
    with pytest.raises(IntegrityError, match="signed"):
        load_bundle(tmp_path / "stripped.mllife")


def _rezip(path, members, *, seal=True):
    """Write ``members`` as a zip with a valid seal (an attacker can do this)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        zf.comment = b"\0" * _io._SEAL_LENGTH
    body = buffer.getvalue()[: -_io._SEAL_LENGTH]
    if seal:
        body += _io._SEAL_PREFIX + hashlib.sha256(body).hexdigest().encode()
    path.write_bytes(body)
    return path


def _members_with_model(saved, model_bytes):
    with zipfile.ZipFile(saved) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    members["model.skops"] = model_bytes
    manifest = json.loads(members["manifest.json"])
    manifest["members"]["model.skops"] = {"sha256": hashlib.sha256(model_bytes).hexdigest(),
                                          "size": len(model_bytes)}
    members["manifest.json"] = json.dumps(manifest).encode()
    return members


class Opener:
    """Stands in for a payload: skops would call ``builtins.open(path, "w")``."""

    def __init__(self, path, mode):
        self.path, self.mode = path, mode

    def __reduce__(self):
        return (type(self), (self.path, self.mode))


class Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickle_payload_is_never_unpickled(saved, tmp_path):
    marker = tmp_path / "pwned-pickle"
    payload = pickle.dumps(Evil(str(marker)))
    path = _rezip(tmp_path / "pickle.mllife", _members_with_model(saved, payload))
    with pytest.raises(IntegrityError, match=r"model\.skops"):
        load_bundle(path)
    assert not marker.exists()
    pickle.loads(payload)  # the payload is live: unpickling it creates the file
    assert marker.exists()


def _skops_calling_open(target):
    """A skops file whose loading would call ``builtins.open(target, "w")``."""
    import skops.io as sio

    raw = sio.dumps(Opener(str(target), "w"))
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        files = {i.filename: zf.read(i) for i in zf.infolist()}
    schema = json.loads(files["schema.json"])
    assert schema["__loader__"] == "ConstructorFromReduceNode"
    schema["__module__"], schema["__class__"] = "builtins", "open"
    files["schema.json"] = json.dumps(schema).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out.getvalue()


def test_skops_payload_with_untrusted_type_is_refused_without_running(saved, tmp_path):
    import skops.io as sio

    marker = tmp_path / "pwned-skops"
    payload = _skops_calling_open(marker)
    path = _rezip(tmp_path / "evil.mllife", _members_with_model(saved, payload))
    with pytest.raises(UntrustedTypeError, match=r"builtins\.open"):
        load_bundle(path)
    assert not marker.exists()
    # the file's own view of trust is irrelevant; proof that the payload is live:
    sio.loads(payload, trusted=["builtins.open"]).close()
    assert marker.exists()


def test_custom_class_needs_explicit_trust(data, tmp_path):
    X, y = data
    from tests.bundle._custom import Doubler

    model = Pipeline([("d", Doubler()), ("m", LinearRegression())]).fit(X[NUMERIC], y)
    bundle = ModelBundle(model, InputSchema.infer(X[NUMERIC]), version="c")
    path = bundle.save(tmp_path / "c.mllife")
    with pytest.raises(UntrustedTypeError, match=r"tests\.bundle\._custom\.Doubler"):
        load_bundle(path)
    loaded = load_bundle(path, trusted=["tests.bundle._custom.Doubler"])
    pd.testing.assert_frame_equal(loaded.predict(X[NUMERIC]), bundle.predict(X[NUMERIC]))
    assert load_bundle(path, trusted=[Doubler]).version == "c"


def test_zip_bomb_unknown_members_and_path_traversal(saved, tmp_path):
    with zipfile.ZipFile(saved) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    with pytest.raises(IntegrityError, match="unexpected members"):
        load_bundle(_rezip(tmp_path / "x.mllife", {**members, "extra.bin": b"1"}))
    with pytest.raises(IntegrityError, match="outside"):
        load_bundle(_rezip(tmp_path / "y.mllife", {**members, "../../etc/evil": b"1"}))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("info.json", b"\0" * 50_000_000)
    # a zip whose member inflates to 50 MB from a few KB is refused before inflating it
    path = tmp_path / "bomb.mllife"
    path.write_bytes(bomb.getvalue())
    with pytest.raises(IntegrityError, match="zip bomb"):
        load_bundle(path)
    with pytest.raises(mllife.InputError):
        load_bundle(tmp_path / "does-not-exist.mllife")
    with pytest.raises(mllife.InputError):
        load_bundle(tmp_path)


def test_version_mismatch_is_a_warning_naming_the_versions(saved, tmp_path):
    with zipfile.ZipFile(saved) as zf:
        members = {i.filename: zf.read(i) for i in zf.infolist()}
    manifest = json.loads(members["manifest.json"])
    manifest["versions"]["scikit-learn"] = "0.0.1"
    members["manifest.json"] = json.dumps(manifest).encode()
    path = _rezip(tmp_path / "old.mllife", members)
    with pytest.warns(VersionMismatchWarning, match=r"scikit-learn 0\.0\.1 -> "):
        loaded = load_bundle(path)
    assert loaded.versions["scikit-learn"] == "0.0.1"


def test_files_left_alone(saved):
    before = saved.read_bytes()
    load_bundle(saved)
    assert saved.read_bytes() == before
    assert not any(p.name.endswith(".tmp") for p in saved.parent.iterdir())
    assert os.access(saved, os.R_OK)


def test_mllife_preprocessor_loads_without_extra_trust(data, tmp_path):
    from mllife.features import make_preprocessor

    X, y = data
    model = Pipeline([("pre", make_preprocessor(X)),
                      ("model", LogisticRegression(max_iter=300))]).fit(X, y)
    bundle = ModelBundle(model, InputSchema.infer(X), version="mp")
    loaded = load_bundle(bundle.save(tmp_path / "mp.mllife"))
    pd.testing.assert_frame_equal(loaded.predict_proba(X), bundle.predict_proba(X))


def test_other_functions_are_not_trusted():
    from mllife.bundle._trust import approves

    assert approves("sklearn.linear_model._logistic.LogisticRegression")
    assert approves("sklearn.tree._tree.Tree")
    assert not approves("os.system")
    assert not approves("builtins.eval")
    assert not approves("sklearn.datasets.fetch_openml")  # a function, not an estimator
    assert not approves("mllife._demo.main")
    assert not approves("mllife.report._base.Report")  # a class, not an estimator
