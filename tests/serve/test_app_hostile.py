"""Hostile requests against a real server: only 422/413 come back, and the server stays up."""

from __future__ import annotations

import json
import threading
from collections import Counter
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mllife.serve import make_app

for _extra in ("fastapi", "uvicorn", "prometheus_client"):  # the serve extra
    pytest.importorskip(_extra)
httpx = pytest.importorskip("httpx")

COLUMNS = ("age", "charges", "plan")
MAX_ROWS = 20
MAX_BODY = 4_096


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=30.0)


# ---------------------------------------------------------------- garbage
_scalars = st.one_of(
    st.none(), st.booleans(), st.text(max_size=20),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=1, max_value=9).map(lambda k: k * 10**400),  # beyond float64
    st.floats(allow_nan=True, allow_infinity=True),
)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
#: Values an integer column of ages 18-79 never accepts: text, nested, fractions, far away.
_bad_age = st.one_of(
    st.text(max_size=10),
    st.lists(_scalars, max_size=3),
    st.dictionaries(st.text(max_size=4), _scalars, max_size=2),
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), None]),
    st.integers(min_value=10**6, max_value=10**30),
    st.integers(min_value=-(10**30), max_value=-1),
)


@st.composite
def _bad_row(draw: Any) -> dict[str, Any]:
    """A row that breaks the contract: a column missing, or a value of the wrong kind."""
    row = draw(st.dictionaries(st.sampled_from(COLUMNS) | st.text(max_size=12), _values,
                               max_size=6))
    if draw(st.booleans()):
        row.pop(draw(st.sampled_from(COLUMNS)), None)
    else:
        row.update({"age": draw(_bad_age), "charges": 50.0, "plan": "pro"})
    return row


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")  # NaN and Infinity as Python writes them


_garbage = st.one_of(
    _bad_row().map(_encode),                                              # one bad row
    st.lists(_bad_row(), min_size=1, max_size=MAX_ROWS + 10).map(_encode),  # 413 beyond 20
    st.lists(st.one_of(_scalars, _bad_row()), min_size=1, max_size=5).map(_encode),
    _values.map(_encode),                                                 # any JSON at all
    st.just(b"[]"),
    st.integers(min_value=1, max_value=3_000).map(lambda d: b"[" * d + b"]" * d),
    st.integers(min_value=1, max_value=3_000).map(lambda d: b'{"a":' * d + b"1" + b"}" * d),
    st.integers(min_value=4_301, max_value=6_000).map(
        lambda n: b'{"age": ' + b"7" * n + b', "charges": 1.0, "plan": "pro"}'),
    st.binary(max_size=300),                                              # not JSON, not text
    st.text(max_size=100).map(lambda t: t.encode("utf-16")),
    st.integers(min_value=MAX_BODY + 1, max_value=30_000).map(lambda n: b" " * n + b"{}"),
    st.sampled_from([b"{", b"nul", b'{"age": NaN}', b'{"age": Infinity}', b"\x00",
                     b'{"age": 1, "age": "x"}', b'"\\ud800"', b"1e999", b"-"]),
)


def test_garbage_gets_only_422_or_413_and_the_server_stays_up(
        serve_app, classifier_bundle, request_rows, scrape):
    url = serve_app(make_app(classifier_bundle, max_batch_rows=MAX_ROWS,
                             max_body_bytes=MAX_BODY))
    sent: Counter[int] = Counter()
    with _client(url) as client:

        @settings(max_examples=500, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.filter_too_much])
        @given(body=_garbage)
        def send(body: bytes) -> None:
            response = client.post("/predict", content=body,
                                   headers={"content-type": "application/json"})
            sent[response.status_code] += 1
            assert response.status_code in (413, 422), (body[:200], response.text[:500])
            data = response.json()
            expected = {"too_large"} if response.status_code == 413 else {"schema", "bad_request"}
            assert data["error"] in expected
            assert len(data["request_id"]) == 32
            assert data["request_id"] == response.headers["X-Request-ID"]

        send()
        good = client.post("/predict", json=request_rows[0])
        health = client.get("/health")
        metrics = scrape(client)
    assert good.status_code == 200
    assert health.json()["status"] == "ok"
    assert sent[413] > 0
    assert sent[422] > 0
    for status in (413, 422):
        key = ("mllife_requests_total", (("route", "/predict"), ("status", str(status))))
        assert metrics[key] == sent[status]
    assert metrics[("mllife_rows_total", (("role", "champion"),))] == 1


# ---------------------------------------------------------------- planted cases
def test_numbers_past_every_limit_are_refused_not_crashing(serve_app, classifier_bundle):
    url = serve_app(make_app(classifier_bundle))
    with _client(url) as client:
        answers = {
            "nan": client.post("/predict", content=b'{"age": NaN, "charges": 1.0, "plan": "pro"}'),
            "inf": client.post("/predict",
                               content=b'{"age": 30, "charges": Infinity, "plan": "pro"}'),
            "big": client.post("/predict", content=b'{"age": ' + b"9" * 4_000
                               + b', "charges": 50.0, "plan": "pro"}'),
            "huge float": client.post("/predict",
                                      content=b'{"age": 30, "charges": 1e999, "plan": "pro"}'),
        }
    for name, response in answers.items():
        assert response.status_code == 422, name
        assert response.json()["error"] == "schema", name
    problems = {name: {(p["column"], p["problem"]) for p in r.json()["problems"]}
                for name, r in answers.items()}
    assert ("age", "missing value where training had none") in problems["nan"]
    assert ("charges", "infinite value") in problems["inf"]
    assert "9999" not in answers["big"].text  # the value is never echoed


def test_thousands_of_extra_columns_are_noted_within_bounds(serve_app, classifier_bundle,
                                                          request_rows):
    url = serve_app(make_app(classifier_bundle))
    row = dict(request_rows[0], **{f"extra_{i}": i for i in range(5_000)})
    with _client(url) as client:
        response = client.post("/predict", json=row)
    assert response.status_code == 200
    notes = response.json()["notes"]
    assert len(notes) == 100  # the first 100 of 5,000 notes
    assert {n["problem"] for n in notes} == {"extra column ignored"}


def test_hostile_headers_are_ignored(serve_app, classifier_bundle, challenger_bundle,
                                     request_rows):
    url = serve_app(make_app(classifier_bundle, challenger=challenger_bundle, mode="canary",
                             canary_share=0.5))
    with _client(url) as client:
        for value in ("x" * 8_000, "../../etc/passwd", "a b", "\u00ff" * 3):
            response = client.post("/predict", json=request_rows[0],
                                   headers={"X-Request-ID": value.encode("latin-1"),
                                            "X-Client-ID": value.encode("latin-1")})
            assert response.status_code == 200
            rid = response.json()["request_id"]
            assert len(rid) == 32
            assert rid != value


def test_concurrent_clients_are_all_answered_and_counted(serve_app, classifier_bundle,
                                                        request_rows, scrape):
    url = serve_app(make_app(classifier_bundle))
    expected = classifier_bundle.predict(request_rows)["prediction"].tolist()
    statuses: list[list[int]] = [[] for _ in range(8)]
    wrong: list[str] = []

    def worker(k: int) -> None:
        with _client(url) as client:
            for i in range(25):
                j = (k * 25 + i) % 50
                if i % 3 == 0:
                    response = client.post("/predict", json={"age": "x"})
                else:
                    response = client.post("/predict", json=request_rows[j])
                    if response.json()["predictions"] != [expected[j]]:
                        wrong.append(f"{k}/{i}")
                statuses[k].append(response.status_code)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    flat = Counter(s for per in statuses for s in per)
    assert wrong == []
    assert flat == {200: 8 * 16, 422: 8 * 9}
    with _client(url) as client:
        metrics = scrape(client)
    assert metrics[("mllife_requests_total", (("route", "/predict"), ("status", "200")))] == 128
    assert metrics[("mllife_requests_total", (("route", "/predict"), ("status", "422")))] == 72
    assert metrics[("mllife_rows_total", (("role", "champion"),))] == 128
    assert metrics[("mllife_validation_failures_total",
                    (("column", "age"), ("problem", "text instead of integers")))] == 72


def test_metric_labels_stay_bounded():
    from prometheus_client import generate_latest

    from mllife.serve._prometheus import MAX_PROBLEM_LABELS, Metrics

    metrics = Metrics(roles={"champion": True}, classes={"champion": [0, 1]},
                      columns=["age"], versions={"champion": "1"}, shadow=False)
    problems = [{"column": f"col{i}" if i % 2 else "age", "problem": f"problem {i} " + "x" * 100,
                 "count": 2} for i in range(300)]
    metrics.validation_failures(problems)
    metrics.scored("champion", np.array([0, 1, 1, 7]))  # 7: a class the model never had
    text = generate_latest(metrics.registry).decode()
    from prometheus_client.parser import text_string_to_metric_families

    samples = [s for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == "mllife_validation_failures_total"]
    columns = {s.labels["column"] for s in samples}
    labels = {s.labels["problem"] for s in samples}
    assert columns == {"age", "(other)"}
    assert len(labels) == MAX_PROBLEM_LABELS + 1
    assert "(other)" in labels
    assert max(len(p) for p in labels) <= 60
    assert sum(s.value for s in samples) == 600  # nothing lost, only folded
    by_class = {s.labels["class"]: s.value for f in text_string_to_metric_families(text)
                for s in f.samples if s.name == "mllife_predictions_total"}
    assert by_class == {"0": 1, "1": 2, "(other)": 1}
