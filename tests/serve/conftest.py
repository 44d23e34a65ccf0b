"""A real uvicorn server on 127.0.0.1 for the serve tests, started and stopped by each test.

``serve_app(app)`` starts ``app`` in a background thread (``uvicorn.Server.run``
on a socket bound to a free loopback port), waits until it accepts
connections and returns its base URL. Every server a test started is stopped
when the test ends (``should_exit``, then a bounded ``join``); a test may stop
one earlier with ``serve_app.stop(url)``, e.g. to read a log the app closes
at shutdown.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

#: Seconds to wait for a server to start, and to stop.
START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0


class _Servers:
    """The factory the ``serve_app`` fixture yields: ``serve_app(app) -> base_url``."""

    def __init__(self) -> None:
        self._running: dict[str, tuple[Any, threading.Thread]] = {}

    def __call__(self, app: Any, **config: Any) -> str:
        # Only the tests that start a server need the extra (PredictionLog's do not).
        uvicorn = pytest.importorskip("uvicorn")
        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say so; without
        # it every response waits ~40 ms for a delayed ACK (Nagle's algorithm).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))  # the kernel picks a free port: no race with other tests
        port = sock.getsockname()[1]
        settings = {"log_level": "warning", "access_log": False, "lifespan": "on",
                    "timeout_graceful_shutdown": 5, **config}
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **settings))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                                  name=f"uvicorn-{port}", daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{port}"
        self._running[url] = (server, thread)
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive():
                self._running.pop(url)
                sock.close()
                raise RuntimeError("the uvicorn server stopped during start-up")
            if time.monotonic() > deadline:
                self.stop(url)
                raise RuntimeError(f"the uvicorn server did not start in {START_TIMEOUT} s")
            time.sleep(0.01)
        return url

    def stop(self, url: str) -> None:
        """Stop the server at ``url`` (graceful, then forced), waiting a bounded time."""
        server, thread = self._running.pop(url)
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        if thread.is_alive():
            server.force_exit = True
            thread.join(STOP_TIMEOUT)
        if thread.is_alive():  # pragma: no cover - a hung server is a failure of its test
            raise RuntimeError(f"the uvicorn server at {url} did not stop")

    def stop_all(self) -> None:
        errors = []
        for url in list(self._running):
            try:
                self.stop(url)
            except RuntimeError as exc:  # pragma: no cover
                errors.append(str(exc))
        if errors:  # pragma: no cover
            raise RuntimeError("; ".join(errors))


@pytest.fixture
def serve_app():
    """``serve_app(app, **uvicorn_config) -> "http://127.0.0.1:<port>"``; stopped at teardown."""
    servers = _Servers()
    try:
        yield servers
    finally:
        servers.stop_all()


# ---------------------------------------------------------------- small bundles
def _frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A small table (an integer, a float, a category) with a class and a value target."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "age": rng.integers(18, 80, n),
        "charges": np.round(rng.uniform(10.0, 120.0, n), 2),
        "plan": rng.choice(["basic", "pro", "team"], n),
    })
    score = 0.05 * (X["age"] - 50) + 0.03 * (X["charges"] - 60) + (X["plan"] == "team") * 1.0
    y_class = (score + rng.normal(0, 1.0, n) > 0).astype(int).to_numpy()
    y_value = (2.0 * X["charges"] + X["age"] + rng.normal(0, 5.0, n)).to_numpy()
    return X, y_class, y_value


def _pipeline(model: Any) -> Any:
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    pre = make_column_transformer((OneHotEncoder(handle_unknown="ignore"), ["plan"]),
                                  remainder="passthrough")
    return make_pipeline(pre, model)


@pytest.fixture(scope="session")
def serve_data() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """300 training rows: features, a binary class, a numeric target."""
    return _frame(300, seed=0)


@pytest.fixture(scope="session")
def classifier_bundle(serve_data: Any) -> Any:
    """LogisticRegression on the serve data, version "1.0" (the champion)."""
    from sklearn.linear_model import LogisticRegression

    from mllife.bundle import InputSchema, ModelBundle

    X, y, _ = serve_data
    model = _pipeline(LogisticRegression(max_iter=1000)).fit(X, y)
    return ModelBundle(model, InputSchema.infer(X), version="1.0")


@pytest.fixture(scope="session")
def challenger_bundle(serve_data: Any) -> Any:
    """A shallow decision tree on the same data, version "2.0": it disagrees on some rows."""
    from sklearn.tree import DecisionTreeClassifier

    from mllife.bundle import InputSchema, ModelBundle

    X, y, _ = serve_data
    model = _pipeline(DecisionTreeClassifier(max_depth=2, random_state=0)).fit(X, y)
    return ModelBundle(model, InputSchema.infer(X), version="2.0")


@pytest.fixture(scope="session")
def regressor_bundle(serve_data: Any) -> Any:
    """A decision-tree regressor on the serve data, version "r1"."""
    from sklearn.tree import DecisionTreeRegressor

    from mllife.bundle import InputSchema, ModelBundle

    X, _, y = serve_data
    model = _pipeline(DecisionTreeRegressor(max_depth=4, random_state=0)).fit(X, y)
    return ModelBundle(model, InputSchema.infer(X), version="r1")


@pytest.fixture(scope="session")
def request_rows() -> list[dict[str, Any]]:
    """50 valid request rows (JSON-ready), drawn like the training data."""
    X, _, _ = _frame(50, seed=1)
    return [{"age": int(a), "charges": float(c), "plan": str(p)}
            for a, c, p in zip(X["age"], X["charges"], X["plan"], strict=True)]


@pytest.fixture
def scrape() -> Callable[[Any], dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    """``scrape(client) -> {(sample name, sorted labels): value}`` from ``GET /metrics``,
    parsed with prometheus-client's own parser."""
    from prometheus_client.parser import text_string_to_metric_families

    def read(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        response = client.get("/metrics")
        assert response.status_code == 200
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(response.text)
                for s in family.samples}

    return read


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``condition`` until it holds (a bound on waiting, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.02)


@pytest.fixture
def eventually() -> Callable[..., None]:
    """``eventually(condition, timeout=30)``: wait for background work (the shadow)."""
    return wait_until
