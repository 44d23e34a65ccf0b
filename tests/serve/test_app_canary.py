"""Shadow and canary releases over real HTTP: who answers, what is compared, what is logged."""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import numpy as np
import pytest

from mllife.bundle import InputSchema, ModelBundle
from mllife.serve import PredictionLog, make_app, set_canary_share

for _extra in ("fastapi", "uvicorn", "prometheus_client"):  # the serve extra
    pytest.importorskip(_extra)
httpx = pytest.importorskip("httpx")


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=30.0)


def _challenger_side(key: str, share: float) -> bool:
    """The design's routing rule, computed here independently of mllife."""
    u = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") / 2**64
    return u < share


class ExplodingModel:
    """A classifier whose predictions fail on valid rows."""

    classes_ = np.array([0, 1])

    def predict(self, X: Any) -> Any:
        raise RuntimeError("challenger internals")

    def predict_proba(self, X: Any) -> Any:
        raise RuntimeError("challenger internals")


class GatedModel:
    """A fitted model that waits for ``gate`` before predicting (a slow challenger)."""

    def __init__(self, model: Any, gate: threading.Event) -> None:
        self.model = model
        self.gate = gate
        self.classes_ = model.classes_

    def predict(self, X: Any) -> Any:
        self.gate.wait(60)
        return self.model.predict(X)

    def predict_proba(self, X: Any) -> Any:
        self.gate.wait(60)
        return self.model.predict_proba(X)


def _shadow_done(client: httpx.Client, scrape: Any, n: int) -> Any:
    return lambda: scrape(client)[("mllife_shadow_comparisons_total", ())] >= n


# ---------------------------------------------------------------- shadow
def test_shadow_caller_sees_the_champion_and_the_log_has_both(
        serve_app, classifier_bundle, challenger_bundle, request_rows, scrape, eventually,
        tmp_path):
    folder = tmp_path / "log"
    url = serve_app(make_app(classifier_bundle, challenger=challenger_bundle, log=folder))
    champion = classifier_bundle.predict_proba(request_rows)
    challenger = challenger_bundle.predict_proba(request_rows)["prediction"].to_numpy()
    agree = champion["prediction"].to_numpy() == challenger
    assert 0 < agree.sum() < len(request_rows)  # the two models disagree on some rows
    with _client(url) as client:
        answers = [client.post("/predict", json=row, headers={"X-Request-ID": f"s{i}"}).json()
                   for i, row in enumerate(request_rows[:40])]
        answers.append(client.post("/predict", json=request_rows[40:],
                                   headers={"X-Request-ID": "batch"}).json())
        eventually(_shadow_done(client, scrape, 50))
        metrics = scrape(client)
    assert {a["served_by"] for a in answers} == {"champion"}
    assert {a["model_version"] for a in answers} == {"1.0"}
    predicted = [p for a in answers for p in a["predictions"]]
    assert predicted == champion["prediction"].tolist()
    probabilities = np.asarray([p for a in answers for p in a["probabilities"]])
    np.testing.assert_allclose(probabilities, champion[["proba_0", "proba_1"]].to_numpy(),
                               rtol=1e-12)
    assert metrics[("mllife_shadow_comparisons_total", ())] == 50
    assert metrics[("mllife_shadow_agreements_total", ())] == agree.sum()
    assert metrics[("mllife_shadow_agreement_ratio", ())] == pytest.approx(agree.mean())
    assert metrics[("mllife_rows_total", (("role", "shadow"),))] == 50
    assert metrics[("mllife_rows_total", (("role", "challenger"),))] == 0
    for label in (0, 1):
        key = ("mllife_predictions_total", (("class", str(label)), ("role", "shadow")))
        assert metrics[key] == np.count_nonzero(challenger == label)
    assert metrics[("mllife_model_info", (("role", "challenger"), ("version", "2.0")))] == 1
    assert metrics[("mllife_shadow_failures_total", ())] == 0
    assert metrics[("mllife_shadow_skipped_total", ())] == 0

    serve_app.stop(url)  # the log the app opened is closed: every line is on disk
    answered = PredictionLog.read(folder)
    assert set(answered["role"]) == {"champion"}
    both = PredictionLog.read(folder, shadow=True)
    shadow = both[both["role"] == "shadow"]
    assert len(shadow) == 50
    assert len(both) == 100
    assert set(shadow["model_version"]) == {"2.0"}
    by_request = shadow.set_index(["request_id", "row"])["prediction"]
    assert by_request.loc[("s7", 0)] == challenger[7]
    batch = by_request.loc["batch"].sort_index().to_numpy()
    np.testing.assert_array_equal(batch, challenger[40:])


def test_shadow_failures_never_reach_the_caller(serve_app, classifier_bundle, serve_data,
                                                request_rows, scrape, eventually, tmp_path):
    X, _, _ = serve_data
    broken = ModelBundle(ExplodingModel(), InputSchema.infer(X), version="bad")
    folder = tmp_path / "log"
    url = serve_app(make_app(classifier_bundle, challenger=broken, log=folder))
    expected = classifier_bundle.predict_proba(request_rows[:10])["prediction"].tolist()
    with _client(url) as client:
        answers = [client.post("/predict", json=row) for row in request_rows[:10]]
        eventually(lambda: scrape(client)[("mllife_shadow_failures_total", ())] >= 10)
        metrics = scrape(client)
    assert [a.status_code for a in answers] == [200] * 10
    assert [a.json()["predictions"][0] for a in answers] == expected
    assert all("internals" not in a.text for a in answers)
    assert metrics[("mllife_shadow_comparisons_total", ())] == 0
    assert metrics[("mllife_requests_total", (("route", "/predict"), ("status", "200")))] == 10
    serve_app.stop(url)
    logged = PredictionLog.read(folder, shadow=True, failed=True)
    failed = logged[logged["role"] == "shadow"]
    assert len(failed) == 10
    assert set(failed["error"]) == {"model"}
    assert set(failed["status"]) == {500}


def test_shadow_uses_its_own_contract(serve_app, classifier_bundle, serve_data, request_rows,
                                      scrape, eventually):
    from sklearn.linear_model import LogisticRegression

    X, y, _ = serve_data
    narrow = X[["age", "charges"]]
    challenger = ModelBundle(LogisticRegression(max_iter=1000).fit(narrow, y),
                             InputSchema.infer(narrow), version="narrow")
    demanding = ModelBundle(LogisticRegression(max_iter=1000).fit(X.assign(
        tenure=1)[["age", "tenure"]], y), InputSchema.infer(X.assign(tenure=1)[["age", "tenure"]]),
        version="needs-tenure")
    narrow_url = serve_app(make_app(classifier_bundle, challenger=challenger))
    demanding_url = serve_app(make_app(classifier_bundle, challenger=demanding))
    expected = challenger.predict(request_rows[:5])["prediction"].to_numpy()
    champion = classifier_bundle.predict(request_rows[:5])["prediction"].to_numpy()
    with _client(narrow_url) as a, _client(demanding_url) as b:
        a.post("/predict", json=request_rows[:5])
        refused = b.post("/predict", json=request_rows[:5])
        eventually(_shadow_done(a, scrape, 5))
        eventually(lambda: scrape(b)[("mllife_shadow_failures_total", ())] >= 1)
        narrow_metrics, demanding_metrics = scrape(a), scrape(b)
    assert narrow_metrics[("mllife_shadow_agreements_total", ())] == np.count_nonzero(
        expected == champion)
    assert refused.status_code == 200  # the challenger's contract is its own problem
    assert demanding_metrics[("mllife_shadow_comparisons_total", ())] == 0
    assert demanding_metrics[("mllife_shadow_failures_total", ())] == 1


def test_shadow_backlog_is_bounded(serve_app, classifier_bundle, challenger_bundle,
                                   request_rows, scrape, eventually):
    gate = threading.Event()
    slow = ModelBundle(GatedModel(challenger_bundle.model, gate), challenger_bundle.schema,
                       version="slow")
    url = serve_app(make_app(classifier_bundle, challenger=slow))
    try:
        with _client(url) as client:
            answers = [client.post("/predict", json=request_rows[i % 50]) for i in range(70)]
            # a stuck challenger delays nothing: every request was answered
            assert [a.status_code for a in answers] == [200] * 70
            eventually(lambda: scrape(client)[("mllife_shadow_skipped_total", ())] >= 6)
            gate.set()
            eventually(_shadow_done(client, scrape, 64))
            metrics = scrape(client)
    finally:
        gate.set()
    assert metrics[("mllife_shadow_skipped_total", ())] == 6  # 64 waited, 6 were not shadowed
    assert metrics[("mllife_shadow_comparisons_total", ())] == 64


def test_shadow_regressor_agreement(serve_app, regressor_bundle, serve_data, request_rows,
                                    scrape, eventually):
    from sklearn.tree import DecisionTreeRegressor

    X, _, y = serve_data
    numbers = X[["age", "charges"]]
    other = ModelBundle(DecisionTreeRegressor(max_depth=2, random_state=0).fit(numbers, y),
                        InputSchema.infer(numbers), version="r2")
    same_url = serve_app(make_app(regressor_bundle, challenger=regressor_bundle))
    other_url = serve_app(make_app(regressor_bundle, challenger=other))
    a = regressor_bundle.predict(request_rows)["prediction"].to_numpy()
    b = other.predict(request_rows)["prediction"].to_numpy()
    close = np.abs(a - b) <= 1e-9 * np.maximum(1.0, np.abs(a))
    with _client(same_url) as same, _client(other_url) as differs:
        same.post("/predict", json=request_rows)
        differs.post("/predict", json=request_rows)
        eventually(_shadow_done(same, scrape, 50))
        eventually(_shadow_done(differs, scrape, 50))
        same_metrics, other_metrics = scrape(same), scrape(differs)
    assert same_metrics[("mllife_shadow_agreement_ratio", ())] == 1.0
    assert other_metrics[("mllife_shadow_agreements_total", ())] == close.sum()
    assert close.sum() < 50
    assert other_metrics[("mllife_predicted_value_count", (("role", "shadow"),))] == 50
    assert other_metrics[("mllife_predicted_value_sum", (("role", "shadow"),))] == \
        pytest.approx(b.sum())


# ---------------------------------------------------------------- canary
def test_canary_share_follows_the_hash(serve_app, classifier_bundle, challenger_bundle,
                                       request_rows, scrape, tmp_path):
    folder = tmp_path / "log"
    app = make_app(classifier_bundle, challenger=challenger_bundle, mode="canary",
                   canary_share=0.25, log=folder)
    url = serve_app(app)
    champion = classifier_bundle.predict_proba(request_rows)
    challenger = challenger_bundle.predict_proba(request_rows)
    sides: list[bool] = []
    with _client(url) as client:
        for i in range(400):
            rid = f"req-{i}"
            body = client.post("/predict", json=request_rows[i % 50],
                               headers={"X-Request-ID": rid}).json()
            by_challenger = body["served_by"] == "challenger"
            assert by_challenger == _challenger_side(rid, 0.25), rid
            expected = (challenger if by_challenger else champion).iloc[i % 50]
            assert body["model_version"] == ("2.0" if by_challenger else "1.0")
            assert body["predictions"] == [expected["prediction"]]
            np.testing.assert_allclose(body["probabilities"][0],
                                       [expected["proba_0"], expected["proba_1"]], rtol=1e-12)
            sides.append(by_challenger)
        metrics = scrape(client)
    n = sum(sides)
    assert abs(n - 100) <= 4 * np.sqrt(400 * 0.25 * 0.75)  # within 4 sd of the share
    assert metrics[("mllife_rows_total", (("role", "challenger"),))] == n
    assert metrics[("mllife_rows_total", (("role", "champion"),))] == 400 - n
    assert metrics[("mllife_canary_share", ())] == 0.25
    serve_app.stop(url)
    logged = PredictionLog.read(folder)
    assert (logged["role"] == "challenger").sum() == n
    assert set(logged.loc[logged["role"] == "challenger", "model_version"]) == {"2.0"}


def test_canary_is_sticky_per_client(serve_app, classifier_bundle, challenger_bundle,
                                     request_rows):
    url = serve_app(make_app(classifier_bundle, challenger=challenger_bundle, mode="canary",
                             canary_share=0.5))
    seen: dict[str, set[str]] = {}
    with _client(url) as client:
        for client_id in (f"client-{c}" for c in range(12)):
            for _ in range(5):  # new request ids each time: the client id decides
                body = client.post("/predict", json=request_rows[0],
                                   headers={"X-Client-ID": client_id}).json()
                seen.setdefault(client_id, set()).add(body["served_by"])
        repeated = {client.post("/predict", json=request_rows[0],
                                headers={"X-Request-ID": "same-id"}).json()["served_by"]
                    for _ in range(5)}
    assert all(len(sides) == 1 for sides in seen.values())
    assert {next(iter(s)) for s in seen.values()} == {"champion", "challenger"}
    for client_id, sides in seen.items():
        assert (sides == {"challenger"}) == _challenger_side(client_id, 0.5)
    assert len(repeated) == 1


def test_share_changes_at_run_time_and_rollback(serve_app, classifier_bundle,
                                                challenger_bundle, request_rows, scrape):
    app = make_app(classifier_bundle, challenger=challenger_bundle, mode="canary",
                   canary_share=0.05)
    url = serve_app(app)
    clients = [f"user-{i}" for i in range(120)]

    def sides(client: httpx.Client) -> set[str]:
        return {c for c in clients
                if client.post("/predict", json=request_rows[0], headers={"X-Client-ID": c}
                               ).json()["served_by"] == "challenger"}

    with _client(url) as client:
        at_5 = sides(client)
        assert set_canary_share(app, 0.25) == 0.05
        at_25 = sides(client)
        assert set_canary_share(app, 0.5) == 0.25
        at_50 = sides(client)
        assert client.get("/health").json()["canary_share"] == 0.5
        assert set_canary_share(app, 1.0) == 0.5
        at_100 = sides(client)
        assert set_canary_share(app, 0.0) == 1.0  # rollback
        before = scrape(client)[("mllife_rows_total", (("role", "challenger"),))]
        at_0 = sides(client)
        after = scrape(client)
    assert at_5 <= at_25 <= at_50 <= at_100  # raising the share never moves a client back
    assert at_25 == {c for c in clients if _challenger_side(c, 0.25)}
    assert len(at_5) < len(at_25) < len(at_50) < len(at_100) == 120
    assert at_0 == set()
    assert after[("mllife_rows_total", (("role", "challenger"),))] == before
    assert after[("mllife_canary_share", ())] == 0.0


def test_admin_route_needs_the_token(serve_app, classifier_bundle, challenger_bundle,
                                     request_rows, scrape):
    token = "admin-9f2c41d7e8"
    url = serve_app(make_app(classifier_bundle, challenger=challenger_bundle, mode="canary",
                             canary_share=0.05, admin_token=token))
    good = {"Authorization": f"Bearer {token}"}
    with _client(url) as client:
        refused = [client.put("/admin/canary", json={"share": 1.0}),
                   client.put("/admin/canary", json={"share": 1.0},
                              headers={"Authorization": "Bearer wrong"}),
                   client.put("/admin/canary", json={"share": 1.0},
                              headers={"Authorization": f"Basic {token}"}),
                   client.put("/admin/canary", json={"share": 1.0},
                              headers={"Authorization": f"Bearer {token}x"})]
        invalid = [client.put("/admin/canary", json=body, headers=good)
                   for body in ({"share": 1.5}, {"share": "0.5"}, {"share": True}, {},
                                {"share": 0.5, "extra": 1}, [0.5], None)]
        not_json = client.put("/admin/canary", content=b"share=0.5", headers=good)
        unchanged = client.get("/health").json()["canary_share"]
        changed = client.put("/admin/canary", json={"share": 1.0}, headers=good)
        answered = client.post("/predict", json=request_rows[0]).json()["served_by"]
        rollback = client.put("/admin/canary", json={"share": 0}, headers=good)
        back = client.post("/predict", json=request_rows[0]).json()["served_by"]
        metrics = scrape(client)
    for response in refused:
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
    for response in [*invalid, not_json]:
        assert response.status_code == 422
        assert response.json()["error"] == "bad_request"
    assert unchanged == 0.05
    assert changed.json() == {"share": 1.0, "previous": 0.05}
    assert answered == "challenger"
    assert rollback.json() == {"share": 0.0, "previous": 1.0}
    assert back == "champion"
    assert metrics[("mllife_canary_share", ())] == 0.0
    assert metrics[("mllife_requests_total", (("route", "/admin/canary"), ("status", "401")))] == 4


def test_a_failing_canary_is_the_callers_500(serve_app, classifier_bundle, serve_data,
                                             request_rows):
    X, _, _ = serve_data
    broken = ModelBundle(ExplodingModel(), InputSchema.infer(X), version="bad")
    url = serve_app(make_app(classifier_bundle, challenger=broken, mode="canary",
                             canary_share=1.0))
    with _client(url) as client:
        response = client.post("/predict", json=request_rows[0], headers={"X-Request-ID": "c1"})
    assert response.status_code == 500
    assert response.json()["error"] == "model"
    assert "internals" not in response.text
