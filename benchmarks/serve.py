"""Benchmark: ``mllife serve`` against a bare FastAPI endpoint, then ``predict_file``.

Fits the churn model of ``benchmarks/bundle.py`` (5,000 rows, ColumnTransformer +
LogisticRegression, ``InputSchema.infer``) and starts two uvicorn servers on
127.0.0.1, each in its own process with the same uvicorn options (no access log,
``log_level="warning"``):

(a) ``python -m mllife serve BUNDLE --log DIR``: ``make_app(bundle, log=PredictionLog(DIR))``;
(b) a bare FastAPI app whose ``POST /predict`` builds ``pd.DataFrame([row])`` and
    calls ``pipeline.predict_proba`` in the thread pool, returning the predicted
    class and the probabilities (the one model call ``ModelBundle.predict_proba``
    makes).

The load test: ``--clients`` threads, each with its own keep-alive ``httpx.Client``,
send single-row requests (pre-encoded JSON from a pool of real rows) for
``--seconds`` per server, in ``--rounds`` alternating rounds (bare, mllife, mllife,
bare, ...) so a busy machine favours neither. Prints throughput and p50/p95/p99
for both, and the ratios against the targets (p95 ≤ 1.3× bare, throughput ≥ 0.75×).

Then ``bundle.predict_file`` against ``read_csv`` + ``pipeline.predict_proba`` +
``to_csv`` over the same CSV (``--file-rows``, 200,000 by default).

Everything is bounded: the clients stop after their seconds, the servers are
stopped (SIGTERM, then SIGKILL) at the end, whatever happens.

    python benchmarks/serve.py [--seconds 20] [--clients 8] [--rounds 2] [--file-rows 200000]

``--profile`` also prints where the mllife server's time goes: the server runs
in-process in a child of this script with the parts of a request timed (parse,
validation, model, log write) instead of through the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
from fastapi import Request  # at module level: FastAPI resolves the endpoint's annotation here

UVICORN_OPTIONS: dict[str, Any] = {"log_level": "warning", "access_log": False,
                                   "lifespan": "on", "ws": "none", "server_header": False}
URL_LINE = re.compile(r"http://(127\.0\.0\.1):(\d+)")
START_TIMEOUT = 120.0


# --------------------------------------------------------------------------- the model
def fit_bundle(folder: Path) -> tuple[Path, pd.DataFrame]:
    """Fit the churn pipeline of ``benchmarks/bundle.py``, save its bundle in ``folder``;
    return it and the features."""
    from bundle import fit_churn_pipeline  # benchmarks/ is on the path of its scripts
    from mllife.bundle import ModelBundle

    pipeline, schema, X_train = fit_churn_pipeline()
    path = ModelBundle(pipeline, schema, version="bench").save(folder / "churn.mllife")
    return path, X_train


# --------------------------------------------------------------------------- servers
#: ``--profile``: per part of a request, (wall seconds, CPU seconds of the calling thread).
PARTS: dict[str, list[tuple[float, float]]] = {}


def timed(owner: Any, name: str, label: str) -> None:
    """Replace ``owner.name`` by a wrapper recording its wall and thread CPU time in PARTS.

    The thread's CPU time leaves out the time spent waiting for the GIL or the
    machine's other processes: on a busy machine, it is the cost of the part.
    """
    original = getattr(owner, name)
    times = PARTS.setdefault(label, [])

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            return original(*args, **kwargs)
        finally:
            times.append((time.perf_counter() - wall, time.thread_time() - cpu))

    setattr(owner, name, wrapper)


def bare_app(path: str, profile: bool = False) -> Any:
    """The bare endpoint: what a service without mllife would write."""
    from fastapi import FastAPI
    from starlette.concurrency import run_in_threadpool

    from mllife.bundle import load_bundle

    pipeline = load_bundle(path).model
    classes = pipeline.classes_
    app = FastAPI()
    if profile:
        timed(pipeline, "predict_proba", "pipeline.predict_proba")

    def score(row: dict[str, Any]) -> dict[str, Any]:
        proba = pipeline.predict_proba(pd.DataFrame([row]))
        return {"model_version": "bench",
                "predictions": classes[proba.argmax(axis=1)].tolist(),
                "classes": classes.tolist(), "probabilities": proba.tolist()}

    if profile:
        box = SimpleNamespace(score=score)
        timed(box, "score", "thread-pool part (DataFrame, predict_proba, dict)")
        score = box.score

    @app.post("/predict")
    async def predict(request: Request) -> dict[str, Any]:
        return await run_in_threadpool(score, await request.json())

    @app.get("/ready")
    async def ready() -> dict[str, bool]:
        return {"ready": True}

    return app


def timed_mllife_app(path: str, log_dir: str) -> Any:
    """``make_app`` with the parts of a request timed (for ``--profile``)."""
    from mllife.bundle import load_bundle
    from mllife.serve import PredictionLog, make_app

    bundle = load_bundle(path)
    log = PredictionLog(log_dir)
    # Instance attributes shadow the methods: only this process's objects are touched.
    timed(bundle.schema, "validate", "schema.validate")
    timed(bundle.model, "predict_proba", "pipeline.predict_proba")
    timed(log, "write", "PredictionLog.write")
    app = make_app(bundle, log=log)
    service = getattr(app.state, "mllife", None)  # private: the app's request handler
    if service is not None and hasattr(service, "_serve"):
        timed(service, "_serve", "thread-pool part (parse, validate, score, JSON, log)")
    return app


def run_child(kind: str, path: str, log_dir: str, report: str | None) -> None:
    """Child process: serve ``kind`` on a free port of 127.0.0.1, print the URL, run."""
    import uvicorn

    if kind == "bare":
        app = bare_app(path, profile=bool(report))
    else:
        app = timed_mllife_app(path, log_dir)
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that name TCP, and
    # without it every response waits ~40 ms for Nagle's algorithm.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    print(f"{kind} listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, **UVICORN_OPTIONS))
    # uvicorn raises SIGTERM again after its graceful shutdown: exit through `finally`
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.run(sockets=[sock])
    finally:
        if report:
            summary = {label: np.asarray(times).reshape(-1, 2).tolist()
                       for label, times in PARTS.items()}
            Path(report).write_text(json.dumps(summary))


class Server:
    """A server process: started, waited for, stopped (SIGTERM, then SIGKILL)."""

    def __init__(self, name: str, command: list[str]) -> None:
        self.name = name
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True,
                                        start_new_session=True)
        self.url = self._read_url()
        self._wait_ready()

    def _read_url(self) -> str:
        found: list[str] = []
        seen = threading.Event()

        def read() -> None:  # finds the URL, then drains the pipe so the child never blocks
            assert self.process.stdout is not None
            for line in self.process.stdout:
                match = URL_LINE.search(line)
                if match and not found:
                    found.append(f"http://{match.group(1)}:{match.group(2)}")
                    seen.set()
            seen.set()

        threading.Thread(target=read, daemon=True).start()
        seen.wait(START_TIMEOUT)
        if not found:
            self.stop()
            raise RuntimeError(f"{self.name}: no URL printed within {START_TIMEOUT:.0f} s")
        return found[0]

    def _wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name}: exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name}: not ready within {START_TIMEOUT:.0f} s")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (Linux; NaN elsewhere)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)


# --------------------------------------------------------------------------- load test
def load(url: str, bodies: list[bytes], *, clients: int, seconds: float,
         warmup: int = 20) -> tuple[np.ndarray, int, float]:
    """``clients`` threads posting ``bodies`` for ``seconds``: (latencies in s, errors, wall s)."""
    import httpx

    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop_at = [0.0]

    def go() -> None:  # run once, when every client has warmed up, before any is released
        stop_at[0] = time.perf_counter() + seconds

    start_gate = threading.Barrier(clients + 1, action=go)

    def client(i: int) -> None:
        headers = {"content-type": "application/json"}
        with httpx.Client(base_url=url, timeout=30.0) as http:
            for j in range(warmup):
                http.post("/predict", content=bodies[(i * 7919 + j) % len(bodies)],
                          headers=headers)
            start_gate.wait()
            mine, j = latencies[i], 0
            while time.perf_counter() < stop_at[0]:
                body = bodies[(i * 7919 + j) % len(bodies)]
                j += 1
                begin = time.perf_counter()
                try:
                    status = http.post("/predict", content=body, headers=headers).status_code
                except httpx.HTTPError:
                    status = 0
                mine.append(time.perf_counter() - begin)
                if status != 200:
                    errors[i] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    begin = stop_at[0] - seconds
    for thread in threads:
        thread.join(seconds + 60)
    wall = time.perf_counter() - begin
    return np.concatenate([np.asarray(x) for x in latencies]), sum(errors), wall


def summary(name: str, latencies: np.ndarray, errors: int, wall: float) -> dict[str, float]:
    p50, p95, p99 = np.percentile(latencies, [50, 95, 99]) * 1e3
    rate = len(latencies) / wall
    print(f"  {name:<22} {rate:8.0f} req/s | p50 {p50:6.2f} ms | p95 {p95:6.2f} ms | "
          f"p99 {p99:6.2f} ms | {len(latencies):,} requests, {errors} not 200")
    return {"rate": rate, "p50": p50, "p95": p95, "p99": p99}


# --------------------------------------------------------------------------- predict_file
def best_of_pair(a: Callable[[], Any], b: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Best wall time of ``a`` and of ``b``, measured alternately (see benchmarks/bundle.py)."""
    times_a: list[float] = []
    times_b: list[float] = []
    for round_ in range(repeat):
        pairs = [(a, times_a), (b, times_b)]
        for fn, times in (pairs if round_ % 2 == 0 else pairs[::-1]):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return min(times_a), min(times_b)


def file_benchmark(path: Path, folder: Path, rows: int, repeat: int) -> None:
    from mllife.bundle import load_bundle
    from mllife.datasets import make_churn

    bundle = load_bundle(path)
    pipeline = bundle.model
    src = folder / "score.csv"
    make_churn(rows, random_state=2, defects=False).frame.drop(columns="churned").to_csv(
        src, index=False)
    classes = pipeline.classes_

    def bare() -> None:
        frame = pd.read_csv(src)
        proba = pipeline.predict_proba(frame)
        out = pd.DataFrame({"prediction": classes[proba.argmax(axis=1)]})
        for i, label in enumerate(classes):
            out[f"proba_{label}"] = proba[:, i]
        out.to_csv(folder / "bare.csv", index=False)

    results: list[Any] = []

    def mllife() -> None:
        results.append(bundle.predict_file(src, folder / "scored.csv"))

    t_mllife, t_bare = best_of_pair(mllife, bare, repeat)
    last = results[-1]
    print(f"\npredict_file over {rows:,} CSV rows ({src.stat().st_size / 1e6:.1f} MB): "
          f"{last.scored:,} scored, {last.rejected:,} rejected")
    print(f"  bundle.predict_file     {t_mllife:6.2f} s  {rows / t_mllife:10,.0f} rows/s")
    print(f"  read_csv + predict_proba + to_csv "
          f"{t_bare:6.2f} s  {rows / t_bare:10,.0f} rows/s | ratio {t_mllife / t_bare:4.2f}x "
          "(mllife also validates every row and writes the rejects)")


# --------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="load per server")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    parser.add_argument("--file-rows", type=int, default=200_000, help="rows of the CSV")
    parser.add_argument("--repeat", type=int, default=2, help="predict_file repeats")
    parser.add_argument("--profile", action="store_true",
                        help="time the parts of the mllife server's requests")
    parser.add_argument("--child", choices=("bare", "mllife"), help=argparse.SUPPRESS)
    parser.add_argument("--bundle", help=argparse.SUPPRESS)
    parser.add_argument("--log-dir", help=argparse.SUPPRESS)
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.bundle, args.log_dir, args.report)
        return

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path, X_train = fit_bundle(folder)
        pool = json.loads(X_train.head(1_000).to_json(orient="records", date_format="iso"))
        bodies = [json.dumps(row).encode() for row in pool]
        log_dir = folder / "log"
        reports = {"bare FastAPI": folder / "bare.json", "mllife server": folder / "mllife.json"}
        bare_cmd = [sys.executable, __file__, "--child", "bare", "--bundle", str(path)]
        if args.profile:
            mllife_cmd = [sys.executable, __file__, "--child", "mllife", "--bundle", str(path),
                          "--log-dir", str(log_dir), "--report", str(reports["mllife server"])]
            bare_cmd += ["--report", str(reports["bare FastAPI"])]
        else:
            mllife_cmd = [sys.executable, "-m", "mllife", "serve", str(path), "--port", "0",
                          "--log", str(log_dir), "--log-level", "warning"]
        servers: list[Server] = []
        try:
            servers.append(Server("bare FastAPI", bare_cmd))
            servers.append(Server("mllife serve", mllife_cmd))
            bare, mine = servers
            print(f"load test: {args.clients} clients x {args.seconds:g} s per server "
                  f"({args.rounds} alternating rounds), single rows, 127.0.0.1, "
                  f"{os.cpu_count()} cores")
            collected: dict[str, list[Any]] = {"bare": [], "mllife": []}
            cpu = {"bare": 0.0, "mllife": 0.0}
            share = args.seconds / args.rounds
            for round_ in range(args.rounds):
                order = [("bare", bare), ("mllife", mine)]
                for key, server in (order if round_ % 2 == 0 else order[::-1]):
                    before = server.cpu_seconds()
                    collected[key].append(load(server.url, bodies, clients=args.clients,
                                               seconds=share))
                    cpu[key] += server.cpu_seconds() - before
            stats = {}
            for key, label in (("bare", "bare FastAPI"), ("mllife", "mllife make_app + log")):
                runs = collected[key]
                stats[key] = summary(label, np.concatenate([r[0] for r in runs]),
                                     sum(r[1] for r in runs), sum(r[2] for r in runs))
                # the warm-up requests ran inside the measured CPU window too
                n = len(np.concatenate([r[0] for r in runs])) + 20 * args.clients * args.rounds
                stats[key]["cpu_ms"] = cpu[key] / n * 1e3
            p95 = stats["mllife"]["p95"] / stats["bare"]["p95"]
            rate = stats["mllife"]["rate"] / stats["bare"]["rate"]
            print(f"  p95 ratio {p95:4.2f}x (target <= 1.30x: {'met' if p95 <= 1.3 else 'MISSED'})"
                  f" | throughput ratio {rate:4.2f}x (target >= 0.75x: "
                  f"{'met' if rate >= 0.75 else 'MISSED'})")
            print(f"  server CPU per request (user + system, all threads): bare "
                  f"{stats['bare']['cpu_ms']:.2f} ms | mllife {stats['mllife']['cpu_ms']:.2f} ms "
                  f"| ratio {stats['mllife']['cpu_ms'] / stats['bare']['cpu_ms']:4.2f}x "
                  "(the cost, whatever else the machine runs)")
            logged = sum(1 for p in log_dir.glob("predictions-*") for _ in p.open("rb"))
            print(f"  prediction log: {logged:,} lines in {len(list(log_dir.glob('*')))} "
                  "segment(s)")
        finally:
            for server in servers:
                server.stop()
        if args.profile:
            for name, report in reports.items():
                print_parts(name, report)
        file_benchmark(path, folder, args.file_rows, args.repeat)


def print_parts(name: str, report: Path) -> None:
    """The ``--profile`` table of one server: per part, calls, median wall and CPU ms."""
    if not report.exists():
        print(f"\n{name}: no profile written")
        return
    print(f"\n{name}, per part of a request (median per call; CPU = the thread's own time, "
          "without waiting for the GIL or the machine):")
    for label, times in json.loads(report.read_text()).items():
        if times:
            wall, cpu = np.median(np.asarray(times), axis=0) * 1e3
            print(f"  {label:<54} {len(times):7,} calls | wall {wall:7.3f} ms | "
                  f"CPU {cpu:7.3f} ms")


if __name__ == "__main__":
    main()
