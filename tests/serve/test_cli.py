"""``python -m mllife serve``: the real command in a subprocess, called over HTTP.

Every server is started with ``--port 0`` (the kernel picks a free port, the
command prints it: no race between finding a port and binding it) on 127.0.0.1,
and is stopped by the test, bounded in time, whatever happens.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import mllife
from mllife._demo import main as demo_main
from mllife.bundle import InputSchema, ModelBundle
from mllife.serve._cli import main, read_secret

httpx = pytest.importorskip("httpx")

SERVE = [sys.executable, "-m", "mllife", "serve"]
URL = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")
START_TIMEOUT = 90.0  # a busy 2-core machine imports pandas, scikit-learn and FastAPI slowly
STOP_TIMEOUT = 20.0


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame({
        "age": rng.integers(18, 80, n),
        "charges": np.round(rng.uniform(10, 120, n), 2),
        "plan": rng.choice(["basic", "pro", "team"], n),
    })
    return X


def _fit(X: pd.DataFrame, version: str, flip: bool = False) -> ModelBundle:
    y = ((X["charges"] > 60) ^ (X["plan"] == "pro") ^ flip).astype(int)
    pre = ColumnTransformer([("num", StandardScaler(), ["age", "charges"]),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan"])])
    model = Pipeline([("pre", pre), ("model", LogisticRegression(max_iter=500))]).fit(X, y)
    return ModelBundle(model, InputSchema.infer(X), version=version)


@pytest.fixture(scope="module")
def champion(frame: pd.DataFrame) -> ModelBundle:
    return _fit(frame, "1.0")


@pytest.fixture(scope="module")
def files(frame: pd.DataFrame, champion: ModelBundle,
          tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Bundles (plain, signed, a challenger signed with another key) and secret files."""
    folder = tmp_path_factory.mktemp("cli")
    (folder / "key").write_bytes(b"champion-k3y\n")  # as `echo` writes it
    (folder / "challenger.key").write_bytes(b"challenger-k3y")
    (folder / "wrong.key").write_bytes(b"not-the-k3y\n")
    (folder / "token").write_bytes(b"t0ken-for-admins\r\n")
    for name in ("key", "challenger.key", "wrong.key", "token"):
        (folder / name).chmod(0o600)
    return {
        "plain": champion.save(folder / "plain.mllife"),
        "signed": champion.save(folder / "signed.mllife", key="champion-k3y"),
        "challenger": _fit(frame, "2.0", flip=True).save(folder / "challenger.mllife",
                                                         key="challenger-k3y"),
        "key": folder / "key",
        "challenger_key": folder / "challenger.key",
        "wrong_key": folder / "wrong.key",
        "token": folder / "token",
    }


def _rows(frame: pd.DataFrame, n: int) -> list[dict]:
    return json.loads(frame.head(n).to_json(orient="records"))


@contextmanager
def serving(args: list[str], tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """Run ``python -m mllife serve ARGS --port 0``; yield (base URL, process) once /ready.

    The process is stopped on exit (SIGKILL if still alive, then waited for), bounded.
    """
    stderr = (tmp_path / f"stderr-{time.monotonic_ns()}.txt").open("w")
    process = subprocess.Popen([*SERVE, *args, "--port", "0", "--log-level", "warning"],
                               stdout=subprocess.PIPE, stderr=stderr, text=True,
                               cwd=tmp_path)
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:  # hands over every stdout line; drains the pipe to the end
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        url = _wait_url(process, lines)
        _wait_ready(process, url)
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(STOP_TIMEOUT)
        stderr.close()


def _wait_url(process: subprocess.Popen, lines: queue.Queue[str]) -> str:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None:
                raise AssertionError(f"the server exited with {process.returncode}") from None
            continue
        match = URL.search(line)
        if match:
            return match.group(1)
    raise AssertionError("the server printed no address in time")


def _wait_ready(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited with {process.returncode}"
        try:
            if httpx.get(f"{url}/ready", timeout=5.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError("the server did not become ready in time")


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    """Run the command to its end (it must refuse to start), bounded."""
    return subprocess.run([*SERVE, *args, "--port", "0"], capture_output=True, text=True,
                          cwd=tmp_path, timeout=START_TIMEOUT)


def _one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("python -m mllife serve: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


# --------------------------------------------------------------------------- a real server
def test_serves_predictions_health_and_a_log(files, champion, frame, tmp_path):
    logdir = tmp_path / "log"
    rows = _rows(frame, 3)
    with serving([str(files["signed"]), "--key-file", str(files["key"]), "--log",
                  str(logdir)], tmp_path) as (url, process):
        with httpx.Client(base_url=url, timeout=10.0) as client:
            one = client.post("/predict", json=rows[0], headers={"X-Request-ID": "req-1"})
            many = client.post("/predict", json=rows)
            health = client.get("/health").json()
            bad = client.post("/predict", json={"age": "old", "plan": "gold"})
            assert client.get("/metrics").status_code == 200
            assert client.put("/admin/canary", json={"share": 1.0}).status_code == 404
        # a graceful stop: SIGTERM ends the command with 0 and closes the log
        process.send_signal(signal.SIGTERM)
        assert process.wait(STOP_TIMEOUT) == 0
    expected = champion.predict_proba(pd.DataFrame(rows))
    assert one.status_code == 200, one.text
    body = one.json()
    assert body["request_id"] == "req-1" == one.headers["X-Request-ID"]
    assert body["model_version"] == "1.0"
    assert body["served_by"] == "champion"
    assert body["predictions"] == expected["prediction"].tolist()[:1]
    assert many.status_code == 200
    assert many.json()["predictions"] == expected["prediction"].tolist()
    np.testing.assert_allclose(many.json()["probabilities"],
                               expected[["proba_0", "proba_1"]].to_numpy(), rtol=1e-12)
    assert health["status"] == "ok"
    assert health["model_version"] == "1.0"
    assert health["bundle_sha256"] == hashlib.sha256(files["signed"].read_bytes()).hexdigest()
    assert health["challenger_version"] is None
    assert bad.status_code == 422
    assert bad.json()["error"] == "schema"
    assert "old" not in bad.text
    assert "gold" not in bad.text
    log = mllife.serve.PredictionLog.read(logdir)
    assert log.attrs["skipped_lines"] == 0
    assert log["request_id"].tolist()[:1] == ["req-1"]
    assert len(log) == 1 + len(rows)
    assert log["prediction"].tolist() == expected["prediction"].tolist()[:1] + \
        expected["prediction"].tolist()
    failed = mllife.serve.PredictionLog.read(logdir, failed=True)
    assert (failed["status"] == 422).sum() == 1
    stderr = next(tmp_path.glob("stderr-*.txt")).read_text()
    assert "Traceback" not in stderr


def test_canary_options_and_admin_token_reach_the_app(files, frame, tmp_path):
    """A challenger signed with its own key answers every client at share 1; the admin
    token read from its file rolls the share back to 0 over HTTP."""
    rows = _rows(frame, 1)
    with serving([str(files["signed"]), "--key-file", str(files["key"]),
                  "--challenger", str(files["challenger"]),
                  "--challenger-key-file", str(files["challenger_key"]),
                  "--mode", "canary", "--canary-share", "1",
                  "--admin-token-file", str(files["token"])], tmp_path) as (url, _), \
            httpx.Client(base_url=url, timeout=10.0) as client:
        health = client.get("/health").json()
        before = client.post("/predict", json=rows[0]).json()
        refused = client.put("/admin/canary", json={"share": 0.0},
                             headers={"Authorization": "Bearer t0ken-for-admin"})
        rollback = client.put("/admin/canary", json={"share": 0.0},
                              headers={"Authorization": "Bearer t0ken-for-admins"})
        after = client.post("/predict", json=rows[0]).json()
    assert health["mode"] == "canary"
    assert health["canary_share"] == 1.0
    assert health["challenger_version"] == "2.0"
    assert before["served_by"] == "challenger"
    assert before["model_version"] == "2.0"
    assert refused.status_code == 401
    assert rollback.status_code == 200, rollback.text
    assert after["served_by"] == "champion"
    assert after["model_version"] == "1.0"


def test_a_killed_server_leaves_a_log_that_reads(files, frame, tmp_path):
    """SIGKILL while a client sends requests in a loop: every row read back is complete,
    and every request answered 200 is in the log, but for at most the one killed."""
    logdir = tmp_path / "log"
    rows = _rows(frame, 50)
    answered: list[str] = []
    sent: dict[str, dict] = {}
    stop = threading.Event()

    def client(url: str) -> None:
        with httpx.Client(base_url=url, timeout=10.0) as http:
            for i in range(100_000):  # bounded; the kill (or stop) ends it long before
                if stop.is_set():
                    return
                request_id = f"crash-{i:06d}"
                sent[request_id] = rows[i % len(rows)]
                try:
                    response = http.post("/predict", json=sent[request_id],
                                         headers={"X-Request-ID": request_id})
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    answered.append(request_id)

    with serving([str(files["plain"]), "--log", str(logdir)], tmp_path) as (url, process):
        thread = threading.Thread(target=client, args=(url,), daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while len(answered) < 60 and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(STOP_TIMEOUT) == -signal.SIGKILL
        stop.set()
        thread.join(30)
    assert not thread.is_alive()
    assert len(answered) >= 60

    log = mllife.serve.PredictionLog.read(logdir)
    assert log.attrs["skipped_lines"] <= 1  # at most the line being written
    logged = log["request_id"].tolist()
    assert len(set(logged)) == len(logged)
    assert set(logged) <= set(sent)
    assert len(answered) <= len(log) + 1
    assert len(set(answered) - set(logged)) <= 1
    # every row is whole: what was sent, what was answered
    assert (log["status"] == 200).all()
    assert (log["row"] == 0).all()
    assert (log["error"] == "").all()
    assert (log["model_version"] == "1.0").all()
    assert log["scored_at"].notna().all()
    assert (log["latency_ms"] >= 0).all()
    assert log[["prediction", "proba_0", "proba_1"]].notna().all().all()
    np.testing.assert_allclose(log["proba_0"] + log["proba_1"], 1.0, rtol=1e-12)
    expected = pd.DataFrame([sent[r] for r in logged])
    for column in ("age", "charges", "plan"):
        assert log[column].tolist() == expected[column].tolist(), column

    # a line torn by the kill is the last of its segment; tear one on purpose: the rows
    # before it still read, and only the torn line is skipped
    last = max(logdir.glob("predictions-*.jsonl"))
    with last.open("ab") as handle:
        handle.write(b'{"v": 1, "scored_at": "2026-11-30T21:00:00.1')
    again = mllife.serve.PredictionLog.read(logdir)
    assert again["request_id"].tolist() == logged
    assert again.attrs["skipped_lines"] == log.attrs["skipped_lines"] + 1


# --------------------------------------------------------------------------- refusals
def test_a_wrong_key_is_one_line_and_exit_2(files, tmp_path):
    result = _run([str(files["signed"]), "--key-file", str(files["wrong_key"])], tmp_path)
    assert result.returncode == 2
    line = _one_error_line(result.stderr)
    assert "IntegrityError" in line
    assert "signature does not match" in line
    assert "listening" not in result.stdout


def test_refusals_in_process(files, tmp_path, capsys):
    """Each refusal: exit code 2, one line naming the problem, nothing served."""
    plain, signed = str(files["plain"]), str(files["signed"])
    tampered = tmp_path / "tampered.mllife"
    data = bytearray(files["plain"].read_bytes())
    data[len(data) // 2] ^= 0xFF
    tampered.write_bytes(bytes(data))
    big = tmp_path / "big.key"
    big.write_bytes(b"k" * 5000)
    cases = {
        "signed.mllife: the bundle is signed": [signed],  # without its key
        "not signed": [plain, "--key-file", str(files["key"])],
        str(tampered.name): [str(tampered)],
        "larger than 4096 bytes": [signed, "--key-file", str(big)],
        "cannot read --key-file": [signed, "--key-file", str(tmp_path / "absent")],
        "cannot read bundle": [str(tmp_path / "absent.mllife")],
        "--challenger-key-file without --challenger":
            [plain, "--challenger-key-file", str(files["key"])],
        "challenger.mllife: the bundle is signed": [plain, "--challenger",
                                                    str(files["challenger"])],
        "not a full type name": [plain, "--trusted", "os.system()"],
        "cannot read --admin-token-file": [plain, "--admin-token-file", str(tmp_path / "no")],
    }
    for expected, args in cases.items():
        assert main([*args, "--port", "0"]) == 2, expected
        out, err = capsys.readouterr()
        assert expected in _one_error_line(err), (expected, err)
        assert "listening" not in out


def test_a_port_in_use_is_refused(files, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main([str(files["plain"]), "--port", str(port)]) == 2
    _, err = capsys.readouterr()
    assert f"cannot listen on 127.0.0.1:{port}" in _one_error_line(err)


def test_bad_options_are_one_line_and_exit_2(files, capsys):
    for args, expected in [
        ([], "required: BUNDLE"),
        ([str(files["plain"]), "--port", "http"], "not a port number"),
        ([str(files["plain"]), "--port", "70000"], "not a port number"),
        ([str(files["plain"]), "--canary-share", "1.5"], "between 0 and 1"),
        ([str(files["plain"]), "--canary-share", "nan"], "between 0 and 1"),
        ([str(files["plain"]), "--max-batch-rows", "0"], "not a positive number"),
        ([str(files["plain"]), "--mode", "ab"], "invalid choice"),
        ([str(files["plain"]), "--key", "secret"], "unrecognized arguments"),  # no key in argv
    ]:
        with pytest.raises(SystemExit) as stopped:
            main(args)
        assert stopped.value.code == 2
        assert expected in _one_error_line(capsys.readouterr().err), args


def test_a_missing_extra_is_one_line_and_exit_2(files, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if it were not installed
    assert main([str(files["plain"])]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "MissingDependencyError" in line
    assert 'pip install "mllife[serve]"' in line


def test_demo_still_parses_and_serve_loads_only_when_chosen(tmp_path):
    code = ("import sys\nfrom mllife._demo import main\n"
            "try:\n    main(['demo', '--help'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
            "print(sorted(m for m in sys.modules if m.startswith(('mllife.serve', 'uvicorn',"
            " 'fastapi'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=START_TIMEOUT, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
    with pytest.raises(SystemExit) as stopped:
        demo_main(["demo", "--no-such-option"])
    assert stopped.value.code == 2


# --------------------------------------------------------------------------- secrets
def test_read_secret(tmp_path):
    path = tmp_path / "secret"
    for raw, expected in [(b"abc\n", b"abc"), (b"abc\r\n", b"abc"), (b"abc", b"abc"),
                          (b"abc\n\n", b"abc\n"), (b" a b \n", b" a b "),
                          (b"\x00\xff\n", b"\x00\xff"), (b"k" * 4096, b"k" * 4096)]:
        path.write_bytes(raw)
        assert read_secret(path) == expected, raw
    for raw, message in [(b"", "is empty"), (b"\n", "is empty"),
                         (b"k" * 4097, "larger than 4096 bytes")]:
        path.write_bytes(raw)
        with pytest.raises(mllife.InputError, match=message):
            read_secret(path, what="admin token file")
    with pytest.raises(mllife.InputError, match=r"cannot read key file .*: Is a directory"):
        read_secret(tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening a pipe to read would wait for a writer: refused at once
    with pytest.raises(mllife.InputError, match="not a regular file"):
        read_secret(fifo)
    with pytest.raises(mllife.InputError, match="cannot read token file"):
        read_secret(tmp_path / "absent", what="token file")
