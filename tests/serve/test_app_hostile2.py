"""A second hostile review of the app: numbers past float, sparse wide batches, races.

Every server is real (uvicorn on 127.0.0.1, stopped by the ``serve_app`` fixture).
"""

from __future__ import annotations

import hashlib
import json
import threading

import numpy as np
import pytest

from mllife import InputError
from mllife.serve import make_app, set_canary_share

for _extra in ("fastapi", "uvicorn", "prometheus_client"):  # the serve extra
    pytest.importorskip(_extra)
httpx = pytest.importorskip("httpx")

TOKEN = "adm1n-t0ken"
GOOD = {"Authorization": f"Bearer {TOKEN}"}


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=60.0)


def _challenger_side(key: str, share: float) -> bool:
    """The design's routing rule, computed here independently of mllife."""
    u = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big") / 2**64
    return u < share


# ---------------------------------------------------------------- the canary share
def test_admin_share_past_float_range_is_422_not_500(serve_app, classifier_bundle,
                                                     challenger_bundle, request_rows, scrape):
    """``{"share": 1000...0}`` (an int JSON allows, float cannot hold) was a raw 500."""
    url = serve_app(make_app(classifier_bundle, challenger=challenger_bundle, mode="canary",
                             canary_share=0.05, admin_token=TOKEN))
    hostile = [b'{"share": 1' + b"0" * 400 + b"}", b'{"share": -1' + b"0" * 400 + b"}",
               b'{"share": NaN}', b'{"share": Infinity}', b'{"share": -Infinity}',
               b'{"share": -1}', b'{"share": 2}', b'{"share": "x"}', b'{"share": true}',
               b'{"share": null}', b'{"share": 1e999}', b'{"share": [0.5]}',
               b'{"share": 0.5, "share": "x"}', b'\xff\xfe', b'[' * 3000]
    with _client(url) as client:
        answers = [client.put("/admin/canary", content=body, headers=GOOD) for body in hostile]
        health = client.get("/health").json()
        still = client.put("/admin/canary", json={"share": 0.25}, headers=GOOD)
        metrics = scrape(client)
    assert [a.status_code for a in answers] == [422] * len(hostile)
    assert {a.json()["error"] for a in answers} == {"bad_request"}
    assert all("0000" not in a.text for a in answers)  # the value is never echoed
    assert health["canary_share"] == 0.05  # nothing changed
    assert still.status_code == 200
    assert still.json() == {"share": 0.25, "previous": 0.05}
    assert metrics[("mllife_canary_share", ())] == 0.25
    assert ("mllife_requests_total", (("route", "/admin/canary"), ("status", "500"))) \
        not in metrics


def test_share_past_float_range_is_an_input_error(classifier_bundle, challenger_bundle):
    with pytest.raises(InputError, match="share"):
        make_app(classifier_bundle, challenger=challenger_bundle, canary_share=10**400)
    app = make_app(classifier_bundle, challenger=challenger_bundle, mode="canary")
    for share in (10**400, -(10**400), float("nan"), np.float64("inf"), "0.5", None, True):
        with pytest.raises(InputError, match="share"):
            set_canary_share(app, share)
    assert set_canary_share(app, np.float32(0.5)) == 0.05  # numpy numbers are numbers
    assert set_canary_share(app, 1) == 0.5


def test_a_token_no_header_can_carry_is_refused(classifier_bundle):
    """A token file of two lines gives a token no client can ever send: refuse it."""
    for token in ("line1\nline2", b"to\x00ken", "tab\there", "del\x7f"):
        with pytest.raises(InputError, match="admin_token"):
            make_app(classifier_bundle, admin_token=token)
    make_app(classifier_bundle, admin_token=b"caf\xe9-s3cret")  # latin-1 bytes travel


def test_admin_route_absent_without_token_and_not_timing_on_prefixes(
        serve_app, classifier_bundle, challenger_bundle):
    plain = serve_app(make_app(classifier_bundle, challenger=challenger_bundle))
    guarded = serve_app(make_app(classifier_bundle, challenger=challenger_bundle,
                                 admin_token=TOKEN))
    with _client(plain) as client:
        assert client.put("/admin/canary", json={"share": 0.5}, headers=GOOD).status_code \
            == 404
    with _client(guarded) as client:
        for header in (f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}{TOKEN}", "Bearer",
                       f"Token {TOKEN}", f"Bearer\t{TOKEN}", "Bearer " + "x" * 8000):
            response = client.put("/admin/canary", json={"share": 0.5},
                                  headers={"Authorization": header})
            assert response.status_code == 401, header
            assert TOKEN not in response.text
        assert client.get("/health").json()["canary_share"] == 0.05


# ---------------------------------------------------------------- wide, sparse requests
def test_a_sparse_batch_of_distinct_columns_is_refused_before_any_frame(
        serve_app, classifier_bundle, request_rows, scrape):
    """Each row naming other extra keys: a 300 KB body once made a 1,000 × 30,000 frame.

    The request is refused (413) from its keys alone; the detail names no key.
    """
    url = serve_app(make_app(classifier_bundle))
    sparse = [dict(request_rows[j % 50], **{f"k{j}_{i}": 0 for i in range(30)})
              for j in range(1_000)]            # 30,003 distinct keys
    wide_rows = [dict(request_rows[j], **{f"w{j}_{i}": 0 for i in range(150)})
                 for j in range(50)]            # 7,503 keys, 375,150 cells
    one_row = dict(request_rows[0], **{f"z{i}": 0 for i in range(20_000)})
    dense = [dict(row, source="crm", id=i, batch="b7") for i, row in enumerate(request_rows)]
    with _client(url) as client:
        refused = [client.post("/predict", json=body) for body in (sparse, wide_rows, one_row)]
        good = client.post("/predict", json=dense)
        five_thousand = client.post("/predict",
                                    json=dict(request_rows[1], **{f"e{i}": i for i in range(5_000)}))
        metrics = scrape(client)
    for response in refused:
        assert response.status_code == 413, response.text[:300]
        data = response.json()
        assert data["error"] == "too_large"
        assert "columns" in data["detail"]
        for key in ("k0_", "w0_", "z1"):  # no key of the request is named
            assert key not in response.text
    assert good.status_code == 200
    assert len(good.json()["predictions"]) == 50
    assert {n["column"] for n in good.json()["notes"]} == {"source", "id", "batch"}
    assert five_thousand.status_code == 200
    assert metrics[("mllife_requests_total", (("route", "/predict"), ("status", "413")))] == 3


# ---------------------------------------------------------------- parsing corners
def test_encodings_and_top_level_values(serve_app, classifier_bundle, request_rows):
    url = serve_app(make_app(classifier_bundle))
    row = json.dumps(request_rows[3])
    expected = classifier_bundle.predict_proba([request_rows[3]])["prediction"].tolist()
    with _client(url) as client:
        for body in (b"\xef\xbb\xbf" + row.encode(), row.encode("utf-16"),
                     row.encode("utf-32"), b"  \n" + row.encode() + b"\n  "):
            response = client.post("/predict", content=body)
            assert response.status_code == 200, body[:20]
            assert response.json()["predictions"] == expected
        for body in (b'"a string"', b"17", b"null", b"true", b'[{"age": 1}, 3]',
                     b'{"age": 30, "charges": 50.0, "plan": "pr\xf6"}', b"[[]]", b"{}}"):
            response = client.post("/predict", content=body)
            assert response.status_code == 422, body[:40]
            assert response.json()["error"] in {"bad_request", "schema"}


# ---------------------------------------------------------------- concurrency
def test_concurrent_batches_each_get_their_own_answer(serve_app, classifier_bundle,
                                                      challenger_bundle, serve_data, scrape):
    """8 threads post batches of different rows at once, in canary mode at 0.5.

    Every answer must hold the probabilities of its own rows, from the model the
    hash of its client id chose, and the metrics must add up to what was sent.
    """
    X, _, _ = serve_data
    pool = json.loads(X.to_json(orient="records"))  # 300 distinct rows
    models = {"champion": classifier_bundle, "challenger": challenger_bundle}
    url = serve_app(make_app(classifier_bundle, challenger=challenger_bundle, mode="canary",
                             canary_share=0.5))
    wrong: list[str] = []
    rows_sent: list[int] = []

    def worker(k: int) -> None:
        rng = np.random.default_rng(k)
        with _client(url) as client:
            for i in range(12):
                picks = rng.choice(len(pool), size=int(rng.integers(1, 8)), replace=False)
                batch = [pool[p] for p in picks]
                client_id = f"client-{k}-{i}"
                response = client.post("/predict", json=batch if len(batch) > 1 else batch[0],
                                       headers={"X-Client-ID": client_id,
                                                "X-Request-ID": f"req-{k}-{i}"})
                data = response.json()
                side = "challenger" if _challenger_side(client_id, 0.5) else "champion"
                want = models[side].predict_proba(batch)
                probs = want[[c for c in want.columns if c.startswith("proba_")]].to_numpy()
                if (response.status_code != 200 or data["request_id"] != f"req-{k}-{i}"
                        or data["served_by"] != side
                        or data["predictions"] != want["prediction"].tolist()
                        or not np.allclose(data["probabilities"], probs, rtol=0, atol=1e-12)):
                    wrong.append(f"{k}/{i}")
                rows_sent.append(len(batch))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(thread.is_alive() for thread in threads)
    assert wrong == []
    assert len(rows_sent) == 96
    with _client(url) as client:
        metrics = scrape(client)
    assert metrics[("mllife_requests_total", (("route", "/predict"), ("status", "200")))] == 96
    scored = sum(metrics.get(("mllife_rows_total", (("role", r),)), 0)
                 for r in ("champion", "challenger"))
    assert scored == sum(rows_sent)
