"""A client that declares a body and stalls is answered 408 at the deadline (slow-body attack)."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import httpx
from prometheus_client.parser import text_string_to_metric_families

from mllife.serve import make_app


def _stall(url: str, sent: bytes, declared: int, wait: float) -> bytes:
    """Send headers declaring ``declared`` bytes, then ``sent``, then nothing; read the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=wait) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"X-Request-ID: stalled-1\r\n"
                     + f"Content-Length: {declared}\r\n\r\n".encode() + sent)
        answer = b""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
            if b"\r\n\r\n" in answer and answer.rstrip().endswith(b"}"):
                break
        return answer


def test_a_stalled_body_is_408_and_the_server_goes_on(serve_app, classifier_bundle,
                                                     request_rows):
    app = make_app(classifier_bundle)
    app.state.mllife.body_timeout_s = 0.5  # 30 s in service
    url = serve_app(app)
    answer = _stall(url, b'{"age": 4', declared=10_000, wait=20.0)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), head[:80]
    payload = json.loads(body)
    assert payload["error"] == "timeout"
    assert payload["request_id"] == "stalled-1"
    assert "age" not in payload["detail"]  # nothing of the body comes back
    good = httpx.post(f"{url}/predict", json=request_rows[:2], timeout=30)
    assert good.status_code == 200
    metrics = httpx.get(f"{url}/metrics", timeout=30).text
    counted = {s.labels["status"]: s.value for f in text_string_to_metric_families(metrics)
               for s in f.samples if s.name == "mllife_requests_total"
               and s.labels.get("route") == "/predict"}
    assert counted == {"408": 1.0, "200": 1.0}


def test_a_body_sent_in_time_in_small_pieces_is_read(serve_app, classifier_bundle,
                                                     request_rows):
    app = make_app(classifier_bundle)
    url = serve_app(app)
    body = json.dumps(request_rows[0]).encode()
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
        for i in range(0, len(body), 7):
            sock.sendall(body[i:i + 7])
            time.sleep(0.005)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:80]
