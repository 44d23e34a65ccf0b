"""``make_app`` over real HTTP: predictions, errors, health, schema, metrics, the log.

Every test starts a real uvicorn server on 127.0.0.1 (the ``serve_app`` fixture)
and calls it with httpx; nothing of FastAPI, uvicorn or prometheus-client is mocked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import subprocess
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mllife
from mllife.bundle import InputSchema, ModelBundle, load_bundle
from mllife.serve import PredictionLog, make_app, set_canary_share

for _extra in ("fastapi", "uvicorn", "prometheus_client"):  # the serve extra
    pytest.importorskip(_extra)
httpx = pytest.importorskip("httpx")

HEX_ID = re.compile(r"[0-9a-f]{32}")


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=30.0)


class ExplodingModel:
    """A "fitted" classifier whose predictions fail on valid rows, with internals in the error."""

    classes_ = np.array([0, 1])
    n_features_in_ = 3

    def predict(self, X: Any) -> Any:
        raise RuntimeError("boom in /srv/secret/model.py with token=hunter2")

    def predict_proba(self, X: Any) -> Any:
        raise RuntimeError("boom in /srv/secret/model.py with token=hunter2")


class BrokenLog:
    """A prediction log whose every write fails (a full disk)."""

    def __init__(self) -> None:
        self.closed = False

    def write(self, **record: Any) -> None:
        raise OSError(28, "No space left on device")

    def close(self) -> None:
        self.closed = True


# ---------------------------------------------------------------- predictions
def test_predict_single_and_batch_equal_the_bundle(serve_app, classifier_bundle, request_rows):
    url = serve_app(make_app(classifier_bundle))
    expected = classifier_bundle.predict_proba(request_rows)
    with _client(url) as client:
        one = client.post("/predict", json=request_rows[0], headers={"X-Request-ID": "ord-1"})
        batch = client.post("/predict", json=request_rows)
        listed_one = client.post("/predict", json=request_rows[3:4])
    assert one.status_code == 200
    assert one.headers["X-Request-ID"] == "ord-1"
    body = one.json()
    assert body["request_id"] == "ord-1"
    assert body["model_version"] == "1.0"
    assert body["served_by"] == "champion"
    assert body["classes"] == [0, 1]
    assert body["predictions"] == [int(expected["prediction"].iloc[0])]
    np.testing.assert_allclose(body["probabilities"][0],
                               expected[["proba_0", "proba_1"]].iloc[0].to_numpy(), rtol=1e-12)
    assert body["notes"] == []

    full = batch.json()
    assert batch.status_code == 200
    assert HEX_ID.fullmatch(full["request_id"])
    assert batch.headers["X-Request-ID"] == full["request_id"]
    assert full["predictions"] == expected["prediction"].tolist()
    np.testing.assert_allclose(np.asarray(full["probabilities"]),
                               expected[["proba_0", "proba_1"]].to_numpy(), rtol=1e-12)
    # a list of one object is answered like the object
    assert listed_one.json()["predictions"] == [int(expected["prediction"].iloc[3])]
    assert len(set(full["predictions"])) == 2  # the known answers hold both classes


def test_predict_notes_extra_columns(serve_app, classifier_bundle, request_rows):
    url = serve_app(make_app(classifier_bundle))
    rows = [dict(request_rows[0], coupon="X1"), request_rows[1]]
    with _client(url) as client:
        body = client.post("/predict", json=rows).json()
    assert body["notes"] == [{"column": "coupon", "count": 2, "problem": "extra column ignored"}]


def test_request_ids_are_validated(serve_app, classifier_bundle, request_rows):
    url = serve_app(make_app(classifier_bundle))
    with _client(url) as client:
        for hostile in ("a" * 129, "x y", "<script>", "id\u00e9", ""):
            response = client.post("/predict", json=request_rows[0],
                                   headers={"X-Request-ID": hostile.encode("utf-8")})
            assert response.status_code == 200
            rid = response.json()["request_id"]
            assert HEX_ID.fullmatch(rid)
            assert response.headers["X-Request-ID"] == rid
        fine = "A-z_0.9:b" + "c" * 119
        assert client.post("/predict", json=request_rows[0],
                           headers={"X-Request-ID": fine}).json()["request_id"] == fine


def test_regressor_predictions_and_value_histogram(serve_app, regressor_bundle, request_rows,
                                                   scrape):
    url = serve_app(make_app(regressor_bundle))
    expected = regressor_bundle.predict(request_rows)["prediction"].to_numpy()
    with _client(url) as client:
        batch = client.post("/predict", json=request_rows[:30]).json()
        one = client.post("/predict", json=request_rows[30]).json()
        metrics = scrape(client)
    assert batch["classes"] is None
    assert batch["probabilities"] is None
    np.testing.assert_allclose(batch["predictions"], expected[:30], rtol=1e-12)
    np.testing.assert_allclose(one["predictions"], expected[30:31], rtol=1e-12)
    role = (("role", "champion"),)
    assert metrics[("mllife_predicted_value_count", role)] == 31
    assert metrics[("mllife_predicted_value_sum", role)] == pytest.approx(expected[:31].sum())
    # every bucket holds exactly the predictions at or below its bound
    buckets = {dict(labels)["le"]: value for (name, labels), value in metrics.items()
               if name == "mllife_predicted_value_bucket"}
    for le, count in buckets.items():
        bound = float(le)
        assert count == np.count_nonzero(expected[:31] <= bound), le
    assert ("mllife_predictions_total", (("class", "0"), ("role", "champion"))) not in metrics
    assert metrics[("mllife_rows_total", role)] == 31


# ---------------------------------------------------------------- refusals
def test_schema_errors_are_422_with_problems_and_no_values(serve_app, classifier_bundle,
                                                           request_rows):
    url = serve_app(make_app(classifier_bundle))
    rows = [dict(request_rows[0], age="SECRET-forty"),
            dict(request_rows[1], plan="platinum-SECRET"),
            {"age": 40, "plan": "pro"}]
    with _client(url) as client:
        response = client.post("/predict", json=rows, headers={"X-Request-ID": "bad-1"})
    assert response.status_code == 422
    assert response.headers["X-Request-ID"] == "bad-1"
    body = response.json()
    assert body["error"] == "schema"
    assert body["request_id"] == "bad-1"
    found = {(p["column"], p["problem"]): p for p in body["problems"]}
    assert found[("age", "text instead of integers")]["rows"] == [0]
    assert found[("plan", "unseen category")]["rows"] == [1]
    assert found[("charges", "missing value where training had none")]["rows"] == [2]
    assert all({"column", "problem", "count"} <= set(p) for p in body["problems"])
    assert "SECRET" not in response.text


@pytest.mark.parametrize(("body", "detail"), [
    (b"{not json", "not valid JSON"),
    (b"", "not valid JSON"),
    (b"42", "JSON number"),
    (b'"a row"', "JSON string"),
    (b"null", "JSON null"),
    (b"[]", "empty list"),
    (b"[1, 2, 3]", "not all objects"),
    (b'[{"age": 1}, [1]]', "not all objects"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"age": ' + b"9" * 5000 + b"}", "too many digits"),
    (b"\xff\xfe\x00\xd8{", "not text"),
])
def test_bad_requests_are_422(serve_app, classifier_bundle, body, detail):
    url = serve_app(make_app(classifier_bundle))
    with _client(url) as client:
        response = client.post("/predict", content=body,
                               headers={"content-type": "application/json"})
        assert client.get("/health").json()["status"] == "ok"
    assert response.status_code == 422, response.text
    data = response.json()
    assert data["error"] == "bad_request"
    assert detail in data["detail"]
    assert HEX_ID.fullmatch(data["request_id"])
    assert data["problems"] == []


def test_too_many_rows_and_too_large_bodies_are_413(serve_app, classifier_bundle, request_rows):
    url = serve_app(make_app(classifier_bundle, max_batch_rows=10, max_body_bytes=4_000))
    with _client(url) as client:
        rows = client.post("/predict", json=request_rows[:11])
        declared = client.post("/predict", content=b" " * 5_000)

        def chunks():  # no Content-Length: counted while it arrives
            for _ in range(10):
                yield b" " * 1_000

        chunked = client.post("/predict", content=chunks())
        fits = client.post("/predict", json=request_rows[:10])
    assert rows.status_code == 413
    assert rows.json()["error"] == "too_large"
    assert "11 rows" in rows.json()["detail"]
    assert declared.status_code == 413
    assert "5000 bytes" in declared.json()["detail"]
    assert chunked.status_code == 413
    assert chunked.json()["error"] == "too_large"
    assert fits.status_code == 200
    assert len(fits.json()["predictions"]) == 10


def test_model_failure_is_500_without_internals(serve_app, serve_data, request_rows, caplog):
    X, _, _ = serve_data
    bundle = ModelBundle(ExplodingModel(), InputSchema.infer(X), version="boom")
    url = serve_app(make_app(bundle))
    with caplog.at_level(logging.ERROR, logger="mllife.serve"), _client(url) as client:
        response = client.post("/predict", json=request_rows[:2], headers={"X-Request-ID": "m-7"})
        after = client.get("/health")
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "model"
    assert body["request_id"] == "m-7"
    assert "m-7" in body["detail"]
    for leak in ("boom", "secret", "hunter2", "RuntimeError", "Traceback", "ExplodingModel"):
        assert leak not in response.text
    assert after.status_code == 200
    logged = [r for r in caplog.records if r.name == "mllife.serve" and "m-7" in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None


# ---------------------------------------------------------------- other routes
def test_health_ready_and_schema(serve_app, classifier_bundle, tmp_path):
    path = classifier_bundle.save(tmp_path / "churn.mllife")
    loaded = load_bundle(path)
    url = serve_app(make_app(loaded))
    with _client(url) as client:
        health = client.get("/health").json()
        ready = client.get("/ready")
        schema = client.get("/schema").json()
        missing = client.put("/admin/canary", json={"share": 0.5})
    assert health["status"] == "ok"
    assert health["model_version"] == "1.0"
    assert health["bundle_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    loaded_at = pd.Timestamp(health["loaded_at"])
    assert health["loaded_at"].endswith("Z")
    assert loaded_at.tzinfo is not None
    assert 0 <= health["uptime_s"] < 3600
    assert health["mode"] == "shadow"
    assert health["challenger_version"] is None
    assert health["canary_share"] == 0.05
    assert ready.status_code == 200
    assert ready.json() == {"ready": True}
    assert schema == loaded.schema.to_json_schema()
    assert missing.status_code == 404  # no admin token: no admin route


def test_in_memory_bundle_has_no_file_hash(serve_app, classifier_bundle):
    url = serve_app(make_app(classifier_bundle))
    with _client(url) as client:
        health = client.get("/health").json()
    assert health["bundle_sha256"] is None  # no file: nothing to name


def test_ready_is_503_until_startup(serve_app, classifier_bundle):
    url = serve_app(make_app(classifier_bundle), lifespan="off")  # start-up never runs
    with _client(url) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json() == {"ready": False}


# ---------------------------------------------------------------- metrics
def test_metrics_count_the_requests_sent(serve_app, classifier_bundle, request_rows, scrape):
    url = serve_app(make_app(classifier_bundle, max_batch_rows=20))
    predicted: list[int] = []
    with _client(url) as client:
        for row in request_rows[:3]:
            predicted += client.post("/predict", json=row).json()["predictions"]
        for rows in (request_rows[3:5], request_rows[5:8]):
            predicted += client.post("/predict", json=rows).json()["predictions"]
        bad = [client.post("/predict", json=[dict(request_rows[0], age="x")] * 2),
               client.post("/predict", json={"age": 40})]
        client.post("/predict", content=b"nope")
        client.post("/predict", json=request_rows[:21])
        client.get("/predict")  # 405
        client.get("/nowhere")  # 404
        client.get("/health")
        first = scrape(client)
        second = scrape(client)

    def count(route: str, status: str, metrics: dict = first) -> float:
        return metrics.get(("mllife_requests_total", (("route", route), ("status", status))), 0)

    assert count("/predict", "200") == 5
    assert count("/predict", "422") == 3
    assert count("/predict", "413") == 1
    assert count("/predict", "405") == 1
    assert count("(other)", "404") == 1
    assert count("/health", "200") == 1
    assert count("/metrics", "200") == 0
    assert count("/metrics", "200", second) == 1
    total = sum(v for (name, _), v in first.items() if name == "mllife_requests_total")
    assert total == 12
    duration = first[("mllife_request_duration_seconds_count", (("route", "/predict"),))]
    assert duration == 10
    assert first[("mllife_rows_total", (("role", "champion"),))] == 8 == len(predicted)
    for label in (0, 1):
        key = ("mllife_predictions_total", (("class", str(label)), ("role", "champion")))
        assert first[key] == predicted.count(label)
    failures = {dict(labels)["column"] + "|" + dict(labels)["problem"]: value
                for (name, labels), value in first.items()
                if name == "mllife_validation_failures_total"}
    problems = [p for response in bad for p in response.json()["problems"]]
    expected: dict[str, float] = {}
    for p in problems:
        key = f"{p['column']}|{p['problem']}"
        expected[key] = expected.get(key, 0) + p["count"]
    assert failures == expected
    assert failures["age|text instead of integers"] == 2
    assert failures["charges|missing column"] == 1
    assert first[("mllife_model_info", (("role", "champion"), ("version", "1.0")))] == 1
    assert first[("mllife_canary_share", ())] == 0.05
    assert first[("mllife_log_failures_total", ())] == 0


def test_two_apps_in_one_process_keep_their_own_metrics(serve_app, classifier_bundle,
                                                        regressor_bundle, request_rows, scrape):
    first = serve_app(make_app(classifier_bundle))
    second = serve_app(make_app(regressor_bundle))
    with _client(first) as a, _client(second) as b:
        a.post("/predict", json=request_rows[:4])
        b.post("/predict", json=request_rows[:2])
        ma, mb = scrape(a), scrape(b)
    assert ma[("mllife_rows_total", (("role", "champion"),))] == 4
    assert mb[("mllife_rows_total", (("role", "champion"),))] == 2
    from prometheus_client import REGISTRY

    assert REGISTRY.get_sample_value("mllife_rows_total", {"role": "champion"}) is None


def test_validation_failure_labels_are_bounded(serve_app, classifier_bundle, serve_data,
                                               scrape):
    X, _, _ = serve_data
    strict = ModelBundle(classifier_bundle.model, InputSchema.infer(X, extra="error"),
                         version="1.0")
    url = serve_app(make_app(strict))
    with _client(url) as client:
        for i in range(30):  # 30 distinct unexpected columns: one label, "(other)"
            response = client.post("/predict", json={f"col_{i}_" + "x" * 200: 1, "age": "a",
                                                     "charges": 50.0, "plan": "pro"})
            assert response.json()["problems"][0]["problem"] == "unexpected column"
        metrics = scrape(client)
    failures = {dict(labels)["column"] + "|" + dict(labels)["problem"]: value
                for (name, labels), value in metrics.items()
                if name == "mllife_validation_failures_total"}
    assert failures == {"(other)|unexpected column": 30, "age|text instead of integers": 30}


# ---------------------------------------------------------------- the log
def test_the_log_holds_every_request(serve_app, classifier_bundle, request_rows, tmp_path):
    folder = tmp_path / "log"
    url = serve_app(make_app(classifier_bundle, log=folder, max_batch_rows=5,
                             max_body_bytes=2_000))
    with _client(url) as client:
        good = client.post("/predict", json=request_rows[:3], headers={"X-Request-ID": "g1"})
        client.post("/predict", json=request_rows[3], headers={"X-Request-ID": "g2"})
        client.post("/predict", json={"age": 1}, headers={"X-Request-ID": "s1"})
        client.post("/predict", content=b"[", headers={"X-Request-ID": "b1"})
        client.post("/predict", json=request_rows[:6], headers={"X-Request-ID": "r6"})
        client.post("/predict", content=b" " * 3_000, headers={"X-Request-ID": "big"})
    serve_app.stop(url)  # the app closes the log it opened
    answered = PredictionLog.read(folder)
    assert answered["request_id"].tolist() == ["g1", "g1", "g1", "g2"]
    assert answered["row"].tolist() == [0, 1, 2, 0]
    assert (answered["role"] == "champion").all()
    assert (answered["status"] == 200).all()
    assert (answered["model_version"] == "1.0").all()
    assert (answered["error"] == "").all()
    assert answered["prediction"].tolist()[:3] == good.json()["predictions"]
    np.testing.assert_allclose(answered[["proba_0", "proba_1"]].to_numpy()[:3],
                               good.json()["probabilities"], rtol=1e-12)
    assert answered["age"].tolist() == [r["age"] for r in request_rows[:4]]
    assert (answered["latency_ms"] > 0).all()
    everything = PredictionLog.read(folder, failed=True)
    failed = everything[everything["status"] != 200].set_index("request_id")
    assert failed.loc["s1", "error"] == "schema"
    assert failed.loc["s1", "status"] == 422
    assert failed.loc["b1", "error"] == "bad_request"
    assert failed.loc["r6", "error"] == "too_large"
    assert failed.loc["big", "error"] == "too_large"
    assert set(failed.loc[["r6", "big"], "status"]) == {413}
    assert len(everything) == 8


def test_a_failing_log_does_not_fail_the_request(serve_app, classifier_bundle, request_rows,
                                                 scrape):
    log = BrokenLog()
    url = serve_app(make_app(classifier_bundle, log=log))
    with _client(url) as client:
        ok = client.post("/predict", json=request_rows[:2])
        refused = client.post("/predict", json={"age": 1})
        metrics = scrape(client)
    assert ok.status_code == 200
    assert refused.status_code == 422
    assert metrics[("mllife_log_failures_total", ())] == 2
    serve_app.stop(url)
    assert not log.closed  # the caller's log is the caller's to close


# ---------------------------------------------------------------- arguments
@pytest.mark.parametrize("kwargs", [
    {"mode": "blue-green"},
    {"canary_share": 1.5},
    {"canary_share": -0.1},
    {"canary_share": True},
    {"canary_share": float("nan")},
    {"max_batch_rows": 0},
    {"max_batch_rows": 2.5},
    {"max_body_bytes": 0},
    {"admin_token": ""},
    {"admin_token": " padded "},
    {"admin_token": 42},
    {"log": 42},
    {"challenger": "model.mllife"},
])
def test_bad_arguments_raise_input_error(classifier_bundle, kwargs):
    with pytest.raises(mllife.InputError):
        make_app(classifier_bundle, **kwargs)


def test_bad_bundle_and_app_arguments(classifier_bundle):
    with pytest.raises(mllife.InputError, match="ModelBundle"):
        make_app(classifier_bundle.model)
    with pytest.raises(mllife.InputError, match="make_app"):
        set_canary_share(object(), 0.5)
    app = make_app(classifier_bundle)
    with pytest.raises(mllife.InputError, match="from 0 to 1"):
        set_canary_share(app, 2)


def test_missing_extra_raises_missing_dependency_error(classifier_bundle, monkeypatch):
    monkeypatch.setitem(sys.modules, "fastapi", None)  # `import fastapi` now fails
    with pytest.raises(mllife.MissingDependencyError, match=r'pip install "mllife\[serve\]"'):
        make_app(classifier_bundle)


def test_importing_the_app_module_loads_no_web_stack():
    code = ("import sys, mllife.serve, mllife.serve._app\n"
            "from mllife.serve import make_app\n"
            "print(sorted(m for m in ('fastapi', 'starlette', 'uvicorn', 'prometheus_client')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert json.loads(out.stdout.replace("'", '"')) == []
