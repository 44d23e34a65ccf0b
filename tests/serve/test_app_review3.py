"""Review 3: memory before the row limit, work in flight, the canary outside canary mode,
the shadow backlog in rows, and ``--no-log-inputs``."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest

from mllife import InputError
from mllife.bundle import ModelBundle
from mllife.serve import PredictionLog, make_app, set_canary_share
from mllife.serve._request import TooLarge, parse_rows
from mllife.serve._routing import ShadowRunner

for _extra in ("fastapi", "uvicorn", "prometheus_client"):  # the serve extra
    pytest.importorskip(_extra)
httpx = pytest.importorskip("httpx")

TOKEN = "review-3-t0ken"
GOOD = {"Authorization": f"Bearer {TOKEN}"}


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=60.0)


class GatedModel:
    """A fitted model that waits for ``gate`` before predicting; counts who is inside."""

    def __init__(self, model: Any, gate: threading.Event) -> None:
        self.model = model
        self.gate = gate
        self.classes_ = model.classes_
        self.inside = 0
        self.most_inside = 0
        self._lock = threading.Lock()

    def _wait(self) -> None:
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        try:
            self.gate.wait(60)
        finally:
            with self._lock:
                self.inside -= 1

    def predict(self, X: Any) -> Any:
        self._wait()
        return self.model.predict(X)

    def predict_proba(self, X: Any) -> Any:
        self._wait()
        return self.model.predict_proba(X)


def _gated(bundle: ModelBundle, gate: threading.Event, version: str) -> ModelBundle:
    return ModelBundle(GatedModel(bundle.model, gate), bundle.schema, version=version)


# ---------------------------------------------------------------- 1. memory before the row limit
def _empty_objects(n: int) -> bytes:
    return b"[" + b",".join([b"{}"] * n) + b"]"


def test_many_empty_objects_are_refused_before_they_are_all_built():
    body = _empty_objects(1_500_000)  # 4.3 MiB: 1.5 M dicts would take ~100 MiB
    tracemalloc.start()
    try:
        with pytest.raises(TooLarge, match="10000"):
            parse_rows(body, 10_000, 10_003, 350_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The decoded text (4.3 MB) plus at most ~10,000 small dicts; the old parse built all.
    assert peak < 16 * 2**20, peak


def test_nested_objects_count_and_the_row_limit_keeps_its_message():
    assert parse_rows(b'[{"a": 1}, {"b": 2}]', 2) == ([{"a": 1}, {"b": 2}], 2)
    with pytest.raises(TooLarge, match="3 rows, over the limit of 2 rows"):
        parse_rows(b"[{}, {}, {}]", 2)  # just over: still the exact count
    nested = b'{"x": ' + b'{"y": ' * 200 + b"1" + b"}" * 200 + b"}"
    with pytest.raises(TooLarge):
        parse_rows(nested, 2)  # one row, 201 objects: refused while parsing


def test_empty_object_flood_over_http_is_a_413(serve_app, classifier_bundle):
    url = serve_app(make_app(classifier_bundle, max_batch_rows=1_000))
    with _client(url) as client:
        refused = client.post("/predict", content=_empty_objects(1_000_000),
                              headers={"Content-Type": "application/json"})
        fine = client.post("/predict", json={"age": 40, "charges": 50.0, "plan": "pro"})
    assert refused.status_code == 413, refused.text
    assert refused.json()["error"] == "too_large"
    assert fine.status_code == 200


def test_at_most_four_requests_parse_validate_and_score_at_once(
        serve_app, classifier_bundle, request_rows, eventually):
    gate = threading.Event()
    gated = _gated(classifier_bundle, gate, "1.0")
    model = gated.model
    url = serve_app(make_app(gated))
    with _client(url) as client, ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(client.post, "/predict", json=request_rows[i])
                   for i in range(8)]
        try:
            eventually(lambda: model.inside >= 4)
            time.sleep(0.5)  # room for a fifth to enter, were it let in
            most = model.most_inside
        finally:
            gate.set()
        statuses = [f.result().status_code for f in futures]
    assert statuses == [200] * 8
    assert most == 4


# ---------------------------------------------------------------- 2. canary share outside canary
def test_set_canary_share_refuses_outside_canary_mode(classifier_bundle, challenger_bundle):
    shadow = make_app(classifier_bundle, challenger=challenger_bundle)  # shadow mode
    alone = make_app(classifier_bundle)
    for app in (shadow, alone):
        with pytest.raises(InputError, match="canary mode"):
            set_canary_share(app, 0.5)
        assert app.state.mllife.release.share == 0.05  # unchanged
    with pytest.raises(InputError, match="challenger"):
        make_app(classifier_bundle, mode="canary")
    canary = make_app(classifier_bundle, challenger=challenger_bundle, mode="canary")
    assert set_canary_share(canary, 0.5) == 0.05


def test_admin_route_outside_canary_mode_is_a_conflict(serve_app, classifier_bundle,
                                                       challenger_bundle, scrape):
    url = serve_app(make_app(classifier_bundle, challenger=challenger_bundle,
                             admin_token=TOKEN))
    with _client(url) as client:
        conflict = client.put("/admin/canary", json={"share": 1.0}, headers=GOOD)
        bad = client.put("/admin/canary", json={"share": 7}, headers=GOOD)
        health = client.get("/health").json()
        metrics = scrape(client)
    assert conflict.status_code == 409, conflict.text
    assert conflict.json()["error"] == "conflict"
    assert "canary" in conflict.json()["detail"]
    assert bad.status_code == 422
    assert health["canary_share"] == 0.05
    assert metrics[("mllife_canary_share", ())] == 0.05


# ---------------------------------------------------------------- 3. shadow backlog in rows
def test_shadow_runner_bounds_pending_rows():
    gate = threading.Event()
    runner = ShadowRunner(limit=64, max_rows=100)
    try:
        assert runner.submit(gate.wait, 30, rows=60)
        assert runner.submit(gate.wait, 30, rows=40)   # 100: at the bound
        assert not runner.submit(gate.wait, 30, rows=1)  # 101: over
        assert runner.pending == 2
        assert runner.pending_rows == 100
    finally:
        gate.set()
        assert runner.shutdown()
    assert runner.pending_rows == 0
    assert runner.submit(gate.wait, 0, rows=100)
    assert runner.shutdown()


def test_shadow_backlog_is_bounded_in_rows(serve_app, classifier_bundle, challenger_bundle,
                                           scrape, eventually):
    gate = threading.Event()
    slow = _gated(challenger_bundle, gate, "2.0")
    url = serve_app(make_app(classifier_bundle, challenger=slow))
    rng = np.random.default_rng(3)
    batch = [{"age": int(a), "charges": 50.0, "plan": "pro"}
             for a in rng.integers(18, 80, 10_000)]
    body = json.dumps(batch).encode()
    try:
        with _client(url) as client:
            answers = [client.post("/predict", content=body,
                                   headers={"Content-Type": "application/json"}).status_code
                       for _ in range(11)]
            answers.append(client.post("/predict", json=batch[0]).status_code)
            eventually(lambda: scrape(client)[("mllife_shadow_skipped_total", ())] >= 2)
            skipped = scrape(client)[("mllife_shadow_skipped_total", ())]
            gate.set()
            eventually(lambda: scrape(client)[("mllife_shadow_comparisons_total", ())]
                       >= 100_000)
            compared = scrape(client)[("mllife_shadow_comparisons_total", ())]
    finally:
        gate.set()
    assert answers == [200] * 12
    assert skipped == 2  # the 11th batch (110,000 rows) and the one row after it
    assert compared == 100_000


# ---------------------------------------------------------------- 4. --no-log-inputs
def test_cli_no_log_inputs_writes_no_inputs(classifier_bundle, request_rows, tmp_path):
    path = classifier_bundle.save(tmp_path / "churn.mllife")
    logdir = tmp_path / "log"
    process = subprocess.Popen(
        [sys.executable, "-m", "mllife", "serve", str(path), "--port", "0", "--log",
         str(logdir), "--no-log-inputs", "--log-level", "warning"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in process.stdout],  # type: ignore
                     daemon=True).start()
    try:
        match = None
        deadline = time.monotonic() + 90
        while match is None and time.monotonic() < deadline and process.poll() is None:
            try:
                match = re.search(r"listening on (http://127\.0\.0\.1:\d+)",
                                  lines.get(timeout=0.5))
            except queue.Empty:
                continue
        assert match is not None, "the server printed no address"
        url = match.group(1)
        with _client(url) as client:
            while client.get("/ready").status_code != 200:  # pragma: no cover - bounded
                assert time.monotonic() < deadline
                time.sleep(0.1)
            answer = client.post("/predict", json=request_rows[:3])
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(20)
    assert answer.status_code == 200
    records = [json.loads(line) for f in sorted(logdir.glob("*.jsonl"))
               for line in f.read_text().splitlines()]
    assert len(records) == 1
    assert records[0]["inputs"] is None
    assert records[0]["outputs"] is not None
    read = PredictionLog.read(logdir)
    assert len(read) == 3
    assert not {"age", "charges", "plan"} & set(read.columns)
