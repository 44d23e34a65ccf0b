"""``make_app``: a FastAPI app serving a bundle, with a challenger in shadow or canary mode.

The app is FastAPI for its lifespan and middleware, with plain Starlette routes
for the endpoints: the body is read and parsed here (bounded, never with
pydantic), and every request takes one hop to the thread pool, where it is
parsed, validated, scored, answered and logged, so the event loop stays free.
A challenger in shadow mode scores in a thread of its own (``_routing.ShadowRunner``).
FastAPI, Starlette and prometheus-client are imported when :func:`make_app`
is called, never when this module is.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import hmac
import json
import logging
import os
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import InputError, MissingDependencyError, ModelError, SchemaError
from ._request import (
    BODY_TIMEOUT_S,
    MAX_LISTED,
    BadRequest,
    Scorer,
    Scores,
    TooLarge,
    TooSlow,
    dumps,
    error_body,
    parse_rows,
    read_body,
    width_limits,
)
from ._routing import (
    CHALLENGER,
    CHAMPION,
    SHADOW,
    Release,
    ShadowRunner,
    check_share,
    client_key,
    request_id,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ..bundle import ModelBundle
    from ._prometheus import Metrics

__all__ = ["make_app", "set_canary_share"]

logger = logging.getLogger("mllife.serve")

_MODES = ("shadow", "canary")
#: The admin route's body is a tiny JSON object.
_ADMIN_MAX_BYTES = 4096
#: Requests parsed, validated and scored at once (each holds its body, parsed and as a frame).
_MAX_IN_FLIGHT = 4
_SERVE_EXTRA = 'pip install "mllife[serve]"'


def _dependencies() -> SimpleNamespace:
    """FastAPI, Starlette and prometheus-client, or a MissingDependencyError naming the extra."""
    try:
        import prometheus_client
        from fastapi import FastAPI
        from starlette.background import BackgroundTask
        from starlette.concurrency import run_in_threadpool
        from starlette.requests import ClientDisconnect
        from starlette.responses import Response
    except ImportError as exc:
        raise MissingDependencyError(
            f"mllife.serve.make_app needs FastAPI, uvicorn and prometheus-client "
            f"({exc.name or exc} is missing): {_SERVE_EXTRA}") from exc
    return SimpleNamespace(FastAPI=FastAPI, BackgroundTask=BackgroundTask,
                           run_in_threadpool=run_in_threadpool, ClientDisconnect=ClientDisconnect,
                           Response=Response, prometheus_client=prometheus_client)


class _Outcome:
    """What the thread-pool part of a request hands back to the event loop."""

    __slots__ = ("body", "payload", "prediction", "status", "valid")

    def __init__(self, status: int, body: bytes, valid: Any = None, payload: Any = None,
                 prediction: np.ndarray | None = None) -> None:
        self.status = status
        self.body = body
        self.valid = valid
        self.payload = payload
        self.prediction = prediction


class _Service:
    """The state and the endpoints of one app (``app.state.mllife``)."""

    def __init__(self, deps: SimpleNamespace, champion: Scorer, challenger: Scorer | None, *,
                 release: Release, log: Any, own_log: bool, metrics: Metrics,
                 max_batch_rows: int, max_body_bytes: int, admin_token: bytes | None,
                 bundle_sha256: str | None, schema_json: bytes) -> None:
        self.deps = deps
        self.champion = champion
        self.challenger = challenger
        self.release = release
        self.log = log
        self.own_log = own_log
        self.metrics = metrics
        self.max_batch_rows = max_batch_rows
        self.max_body_bytes = max_body_bytes
        self.body_timeout_s = BODY_TIMEOUT_S
        # Bounds on the keys of a request (the table validation builds): the widest contract.
        n_columns = max(len(s.bundle.schema.columns) for s in (champion, challenger) if s)
        self.max_columns, self.max_cells = width_limits(n_columns, max_batch_rows)
        self.admin_token = admin_token
        self.bundle_sha256 = bundle_sha256
        self.schema_json = schema_json
        self.shadow = ShadowRunner()
        self.same_schema = challenger is not None and \
            challenger.bundle.schema == champion.bundle.schema
        self._log_closed = False
        # At most this many requests in the thread-pool part (parse, validate, score) at once:
        # the rest wait with their bodies only, not the (several times larger) parsed rows.
        self._in_flight = asyncio.Semaphore(_MAX_IN_FLIGHT)
        self.ready = False
        self.loaded_at = _dt.datetime.now(_dt.UTC)
        self._started = time.monotonic()
        self._response = deps.Response
        self._threadpool = deps.run_in_threadpool

    # ------------------------------------------------------------ lifespan
    @contextlib.asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        if self.own_log and self._log_closed:  # started again: a new log on the same folder
            self.log = type(self.log)(self.log.path)
            self._log_closed = False
        self._in_flight = asyncio.Semaphore(_MAX_IN_FLIGHT)  # of this event loop
        self.ready = True
        try:
            yield
        finally:
            self.ready = False
            # The queued shadow jobs finish first (bounded: a stuck challenger is left behind).
            if not await self._threadpool(self.shadow.shutdown):
                logger.warning("shadow jobs were still pending at shutdown; dropped")
            if self.own_log:
                self._log_closed = True
                try:
                    self.log.close()
                except Exception:
                    logger.warning("the prediction log could not be closed", exc_info=True)

    # ------------------------------------------------------------ helpers
    def _json(self, body: bytes, status: int = 200, rid: str | None = None,
              background: Any = None, headers: dict[str, str] | None = None) -> Any:
        head = dict(headers or {})
        if rid is not None:
            head["X-Request-ID"] = rid
        return self._response(body, status_code=status, media_type="application/json",
                              headers=head, background=background)

    def _write(self, rid: str, role: str, scorer: Scorer, status: int, latency_ms: float, *,
               inputs: Any = None, outputs: Any = None, error: str = "",
               notes: Any = (), n_rows: int | None = None) -> None:
        """One log record; a failing log never fails the request (it is counted and logged)."""
        if self.log is None:
            return
        try:
            self.log.write(request_id=rid, role=role, model_version=scorer.version,
                           status=status, latency_ms=latency_ms, inputs=inputs, outputs=outputs,
                           error=error, notes=list(notes), n_rows=n_rows)
        except Exception:
            self.metrics.log_failed()
            logger.warning("the prediction log could not record request %s", rid, exc_info=True)

    def _failed(self, rid: str, role: str, scorer: Scorer, start: float, status: int,
                code: str, detail: str, *, problems: list[dict[str, Any]] | None = None,
                n_rows: int = 0) -> _Outcome:
        """A refused or failed request: logged, answered with its code and detail."""
        latency_ms = (time.perf_counter() - start) * 1000.0
        self._write(rid, role, scorer, status, latency_ms, error=code,
                    notes=(problems or [])[:MAX_LISTED], n_rows=n_rows)
        return _Outcome(status, error_body(rid, code, detail, problems))

    # ------------------------------------------------------------ /predict
    async def predict(self, request: Any) -> Any:
        start = time.perf_counter()
        headers = request.headers
        rid = request_id(headers)
        role = self.release.answering(client_key(headers, rid))
        scorer = self.challenger if role == CHALLENGER and self.challenger else self.champion
        try:
            try:
                body = await read_body(headers, request.stream(), self.max_body_bytes,
                                       self.body_timeout_s)
            except TooLarge as exc:
                out = self._failed(rid, role, scorer, start, 413, "too_large", exc.detail)
                return self._json(out.body, 413, rid, headers={"Connection": "close"})
            except TooSlow as exc:
                out = self._failed(rid, role, scorer, start, 408, "timeout", exc.detail)
                return self._json(out.body, 408, rid, headers={"Connection": "close"})
            except self.deps.ClientDisconnect:
                self._failed(rid, role, scorer, start, 499, "bad_request",
                             "the client closed the connection before sending the body")
                return self._json(b"{}", 499, rid)
            async with self._in_flight:
                out = await self._threadpool(self._serve, body, rid, role, scorer, start)
            background = None
            if out.status == 200 and role == CHAMPION and self.release.shadowing:
                # After the response is sent: queue the shadow job (or count it skipped).
                background = self.deps.BackgroundTask(self._queue_shadow, rid, out)
            return self._json(out.body, out.status, rid, background)
        except Exception:
            logger.exception("request %s failed inside mllife.serve", rid)
            out = self._failed(rid, role, scorer, start, 500, "internal",
                               f"internal error; the server log has the details under request "
                               f"id {rid}")
            return self._json(out.body, 500, rid)

    def _serve(self, body: bytes, rid: str, role: str, scorer: Scorer,
               start: float) -> _Outcome:
        """Parse, validate, score, answer and log one request (in the thread pool)."""
        n_rows = 0
        try:
            payload, n_rows = parse_rows(body, self.max_batch_rows, self.max_columns,
                                         self.max_cells)
            one = payload[0] if n_rows == 1 and type(payload) is list else payload
            valid = scorer.validate(one)  # one dict takes the contract's fast path
            scores = scorer.score(valid)
            answer = scorer.answer(rid, role, scores)
        except BadRequest as exc:
            return self._failed(rid, role, scorer, start, 422, "bad_request", exc.detail,
                                n_rows=exc.n_rows or n_rows)
        except TooLarge as exc:
            return self._failed(rid, role, scorer, start, 413, "too_large", exc.detail,
                                n_rows=exc.n_rows)
        except SchemaError as err:
            self.metrics.validation_failures(err.problems)
            n = len(err.problems)
            return self._failed(rid, role, scorer, start, 422, "schema",
                                f"the request breaks the model's input contract: {n} "
                                f"problem{'s' if n != 1 else ''} listed in 'problems' "
                                "(column, problem, count, row positions, expected)",
                                problems=err.problems, n_rows=n_rows)
        except ModelError:
            logger.exception("model version %s failed on request %s", scorer.version, rid)
            return self._failed(rid, role, scorer, start, 500, "model",
                                f"the model failed on this request; the server log has the "
                                f"details under request id {rid}", n_rows=n_rows)
        except InputError:  # refused by a check other than the contract's
            logger.warning("request %s refused", rid, exc_info=True)
            return self._failed(rid, role, scorer, start, 422, "bad_request",
                                "the request could not be read as rows of the input contract",
                                n_rows=n_rows)
        except (Exception, MemoryError):
            logger.exception("request %s failed inside mllife.serve", rid)
            return self._failed(rid, role, scorer, start, 500, "internal",
                                f"internal error; the server log has the details under "
                                f"request id {rid}", n_rows=n_rows)
        latency_ms = (time.perf_counter() - start) * 1000.0
        self.metrics.scored(role, scores.prediction)
        if self.log is not None:
            self._write(rid, role, scorer, 200, latency_ms, inputs=valid,
                        outputs=self._outputs(scorer, scores), notes=scores.notes)
        return _Outcome(200, answer, valid, payload, scores.prediction)

    @staticmethod
    def _outputs(scorer: Scorer, scores: Scores) -> Any:
        classes = scorer.classes
        if scores.proba is not None and classes is None:
            classes = np.arange(scores.proba.shape[1])
        return scores.outputs(classes)

    # ------------------------------------------------------------ shadow
    async def _queue_shadow(self, rid: str, out: _Outcome) -> None:
        if not self.shadow.submit(self._shadow, rid, out.valid, out.payload, out.prediction,
                                  rows=0 if out.prediction is None else len(out.prediction)):
            self.metrics.shadow_skipped()

    def _shadow(self, rid: str, valid: Any, payload: Any, champion: np.ndarray) -> None:
        """The challenger scores what the champion answered (in the shadow's own thread)."""
        challenger = self.challenger
        start = time.perf_counter()
        try:
            if challenger is None:  # pragma: no cover - shadowing needs a challenger
                return
            try:
                rows = valid if self.same_schema else challenger.validate(
                    payload[0] if type(payload) is list and len(payload) == 1 else payload)
                scores = challenger.score(rows)
            except SchemaError as err:
                self.metrics.shadow_failed()
                self._write(rid, SHADOW, challenger, 422, _ms(start), error="schema",
                            notes=err.problems[:MAX_LISTED], n_rows=len(champion))
                return
            except (Exception, MemoryError) as exc:
                self.metrics.shadow_failed()
                code = "model" if isinstance(exc, ModelError) else "internal"
                logger.warning("the shadow (model version %s) failed on request %s",
                               challenger.version, rid, exc_info=True)
                self._write(rid, SHADOW, challenger, 500, _ms(start), error=code,
                            n_rows=len(champion))
                return
            agreed = _agreements(champion, scores.prediction, self.champion.is_classifier)
            self.metrics.shadow_compared(len(champion), agreed)
            self.metrics.scored(SHADOW, scores.prediction)
            if self.log is not None:
                self._write(rid, SHADOW, challenger, 200, _ms(start), inputs=rows,
                            outputs=self._outputs(challenger, scores), notes=scores.notes)
        except Exception:  # pragma: no cover - the metrics or the log themselves
            logger.exception("the shadow job of request %s failed", rid)

    # ------------------------------------------------------------ other routes
    async def health(self, request: Any) -> Any:
        return self._json(dumps({
            "status": "ok",
            "model_version": self.champion.version,
            "bundle_sha256": self.bundle_sha256,
            "loaded_at": self.loaded_at.isoformat().replace("+00:00", "Z"),
            "uptime_s": round(time.monotonic() - self._started, 3),
            "mode": self.release.mode,
            "canary_share": self.release.share,
            "challenger_version": None if self.challenger is None else self.challenger.version,
        }))

    async def ready_route(self, request: Any) -> Any:
        if self.ready:
            return self._json(b'{"ready":true}')
        return self._json(b'{"ready":false}', 503)

    async def schema(self, request: Any) -> Any:
        return self._json(self.schema_json)

    async def metrics_route(self, request: Any) -> Any:
        client = self.deps.prometheus_client
        return self._response(client.generate_latest(self.metrics.registry),
                              media_type=client.CONTENT_TYPE_LATEST)

    async def admin_canary(self, request: Any) -> Any:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        given = token.strip().encode("latin-1", "replace")
        if self.admin_token is None or scheme.lower() != "bearer" \
                or not hmac.compare_digest(given, self.admin_token):
            return self._json(dumps({"error": "unauthorized",
                                     "detail": "this route needs 'Authorization: Bearer "
                                               "<admin token>'"}), 401,
                              headers={"WWW-Authenticate": "Bearer"})
        try:
            body = await read_body(request.headers, request.stream(), _ADMIN_MAX_BYTES,
                                   self.body_timeout_s)
        except TooLarge as exc:
            return self._json(dumps({"error": "too_large", "detail": exc.detail}), 413)
        except TooSlow as exc:
            return self._json(dumps({"error": "timeout", "detail": exc.detail}), 408,
                              headers={"Connection": "close"})
        except self.deps.ClientDisconnect:
            return self._json(b"{}", 499)
        expected = 'a JSON object {"share": <a number from 0 to 1>}'
        try:
            data = json.loads(body)
            share = data["share"] if type(data) is dict and set(data) == {"share"} else None
            if share is None:
                raise InputError("no share", expected=expected)
            check_share(share)
        except (ValueError, RecursionError, InputError):
            return self._json(dumps({"error": "bad_request",
                                     "detail": f"expected {expected}"}), 422)
        conflict = self._not_canary()
        if conflict:
            return self._json(dumps({"error": "conflict", "detail": conflict}), 409)
        previous = self.set_share(share, source="the admin route")
        return self._json(dumps({"share": self.release.share, "previous": previous}))

    def _not_canary(self) -> str:
        """Why a canary share would change nothing here ("" when it would)."""
        if self.challenger is None:
            return ("the app serves no challenger: a canary share would route nothing; "
                    "start it with a challenger in canary mode")
        if self.release.mode != "canary":
            return (f"the app is in {self.release.mode} mode, not canary mode: the champion "
                    "answers every request whatever the share; start it with mode='canary'")
        return ""

    def set_share(self, share: Any, *, source: str) -> float:
        check_share(share)  # a bad share is named first
        conflict = self._not_canary()
        if conflict:
            raise InputError(f"cannot set the canary share: {conflict}")
        previous = self.release.set_share(share)
        self.metrics.canary_share(self.release.share)
        logger.info("canary share %s -> %s (%s)", previous, self.release.share, source)
        return previous


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


def _agreements(champion: np.ndarray, shadow: np.ndarray, classifier: bool) -> int:
    """Rows where the shadow agrees: the same class, or values within 1e-9 (relative)."""
    if champion.shape != shadow.shape:
        return 0
    if classifier:
        return int(np.count_nonzero(champion.astype(object) == shadow.astype(object)))
    try:
        a = champion.astype(np.float64)
        b = shadow.astype(np.float64)
    except (TypeError, ValueError):
        return int(np.count_nonzero(champion.astype(object) == shadow.astype(object)))
    with np.errstate(invalid="ignore"):
        return int(np.count_nonzero(np.abs(a - b) <= 1e-9 * np.maximum(1.0, np.abs(a))))


# ---------------------------------------------------------------- arguments
def _check_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"{name}={value!r}", expected="a positive integer")
    return int(value)


def _check_token(token: Any) -> bytes | None:
    if token is None:
        return None
    if isinstance(token, str):
        token = token.encode("utf-8")
    if not isinstance(token, bytes) or not token.strip() or token != token.strip():
        raise InputError("admin_token is empty, has surrounding spaces or is not text",
                         expected="None or a non-empty str or bytes secret")
    if any(byte < 0x20 or byte == 0x7F for byte in token):  # a secret of a few dozen bytes
        # A line break, tab or NUL can never travel in an Authorization header: such a
        # token (a key file of two lines) would refuse every admin request, silently.
        raise InputError("admin_token holds a control character (a line break, a tab...)",
                         expected="a secret of one line of visible characters")
    return token


def _open_log(log: Any) -> tuple[Any, bool]:
    """``(log, owned)``: a PredictionLog as given, or one opened on a path (closed at shutdown)."""
    if log is None:
        return None, False
    if isinstance(log, str | os.PathLike) and not isinstance(log, bytes):
        from ._log import PredictionLog

        return PredictionLog(log), True
    if callable(getattr(log, "write", None)) and callable(getattr(log, "close", None)):
        return log, False
    raise InputError(f"log is a {type(log).__name__}",
                     expected="None, a PredictionLog or a directory path")


def make_app(bundle: ModelBundle, *, challenger: ModelBundle | None = None,
             mode: str = "shadow", canary_share: float = 0.05, log: Any = None,
             max_batch_rows: int = 10_000, max_body_bytes: int | None = None,
             admin_token: str | bytes | None = None) -> FastAPI:
    """A FastAPI app serving ``bundle``: validated predictions, health, metrics, a log.

    Routes:

    - ``POST /predict``: one JSON object (a row) or a non-empty list of them.
      200: ``{"request_id", "model_version", "served_by", "predictions",
      "classes", "probabilities", "notes"}`` (lists, also for one object;
      probabilities when the model has ``predict_proba``). Errors:
      ``{"request_id", "error", "detail", "problems"}``: 422 ``"schema"``
      (the contract's problems: column, problem, count, row positions,
      expected; never a value of the request), 422 ``"bad_request"`` (not
      JSON, not an object or a list of objects, an empty list), 413
      ``"too_large"`` (over ``max_batch_rows`` rows or ``max_body_bytes``
      bytes), 408 ``"timeout"`` (a body still arriving after 30 s), 500 ``"model"`` or ``"internal"`` (a generic detail and the
      request id; the exception goes to the ``"mllife.serve"`` logger).
      The request id is the caller's ``X-Request-ID`` when it matches
      ``[A-Za-z0-9._:-]{1,128}``, else a new one; it is echoed in the
      ``X-Request-ID`` header.
    - ``GET /health`` (model version, the SHA-256 of the bundle's file,
      recorded by :func:`~mllife.bundle.load_bundle`, ``null`` for a bundle
      built in memory; loaded at, uptime, mode, canary share, challenger
      version), ``GET /ready`` (200 once start-up is complete, 503 before;
      at shutdown uvicorn stops accepting connections before the app stops,
      so take the instance out of the load balancer before stopping it),
      ``GET /schema`` (the contract as JSON Schema),
      ``GET /metrics`` (Prometheus text, from a registry of the app's own).
    - ``PUT /admin/canary`` with ``{"share": 0.25}`` and
      ``Authorization: Bearer <admin_token>``, only when ``admin_token`` is
      given (401 without the token; 409 ``"conflict"`` unless the app is in
      canary mode with a challenger, where a share would change nothing).

    Every request, refused or failed ones too, is counted in ``/metrics``
    and written to the log. A log that fails to write does not fail the
    request: the failure is counted in ``mllife_log_failures_total`` and
    logged. ``latency_ms`` in the log runs from the request's arrival to
    its answer being built (body read, parsing, validation, the model,
    serialisation).

    At most 4 requests are parsed, validated and scored at once (the others
    wait, holding only their body), so a burst of large batches holds at
    most 4 parsed requests in memory. A body is refused (413) while it is
    parsed once it holds ``max_batch_rows + 64`` JSON objects, nested ones
    included, before they are all built.

    With a challenger: in ``"shadow"`` mode the champion answers every
    request and the challenger scores the same validated rows after the
    response is sent, in a thread of its own (never the request thread
    pool, so a slow challenger slows nothing but the shadow). Its failures
    never reach the caller; at most 64 shadow jobs of at most 100,000 rows
    in all wait, beyond either a request is not shadowed and
    ``mllife_shadow_skipped_total`` counts it;
    at shutdown the waiting jobs finish (for at most 30 s). The agreement,
    per row, is in ``mllife_shadow_agreement_ratio`` (same class, or values
    within ``1e-9`` relative for a regressor). In ``"canary"`` mode the challenger
    answers when ``u < canary_share``, ``u`` the first 8 bytes of the
    SHA-256 of the ``X-Client-ID`` header (or of the request id), as a
    fraction: a client is sticky, and raising the share never moves a client
    back. A challenger's failure in canary mode is the caller's 500.
    ``X-Client-ID`` (and ``X-Request-ID``) are chosen by the caller, so a
    client can pick its model: let a proxy set the header when that matters.

    Parameters
    ----------
    bundle : ModelBundle
        The champion.
    challenger : ModelBundle, optional
        The model in trial. It validates requests with its own contract
        (once more in shadow mode only when the contracts differ).
    mode : {"shadow", "canary"}, default="shadow"
        ``"canary"`` needs a challenger.
    canary_share : float, default=0.05
        The challenger's share of requests in canary mode, from 0 (rollback)
        to 1; change it at run time with :func:`set_canary_share` or the
        admin route (canary mode only). Ignored in shadow mode.
    log : PredictionLog, str or Path, optional
        A prediction log, or a folder to open one in (closed when the app
        shuts down).
    max_batch_rows : int, default=10_000
        The most rows a request may hold (413 beyond).
    max_body_bytes : int, optional
        The largest body, checked from ``Content-Length`` before reading and
        while reading; by default ``1 MiB + 4 KiB × max_batch_rows``.
    admin_token : str or bytes, optional
        The secret of the admin route (compared in constant time); without
        it the route does not exist.

    Returns
    -------
    fastapi.FastAPI

    Raises
    ------
    InputError
        A bad argument.
    MissingDependencyError
        FastAPI, uvicorn or prometheus-client is missing
        (``pip install "mllife[serve]"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mllife.bundle import InputSchema, ModelBundle
    >>> from mllife.serve import make_app
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    >>> bundle = ModelBundle(LogisticRegression().fit(X, [0, 0, 1, 1]),
    ...                      InputSchema.infer(X), version="1.0")
    >>> app = make_app(bundle)
    >>> sorted(r.path for r in app.routes)
    ['/health', '/metrics', '/predict', '/ready', '/schema']
    >>> import uvicorn
    >>> uvicorn.run(app, host="127.0.0.1", port=8000)  # doctest: +SKIP
    """
    deps = _dependencies()
    from ..bundle import ModelBundle
    from ._prometheus import Metrics, MetricsMiddleware

    if not isinstance(bundle, ModelBundle):
        raise InputError(f"bundle is a {type(bundle).__name__}", expected="a ModelBundle")
    if challenger is not None and not isinstance(challenger, ModelBundle):
        raise InputError(f"challenger is a {type(challenger).__name__}",
                         expected="None or a ModelBundle")
    if mode not in _MODES:
        raise InputError(f"mode={mode!r}", expected=f"one of {_MODES}")
    if mode == "canary" and challenger is None:
        raise InputError("mode='canary' without a challenger: there is no model to route a "
                         "share of requests to", expected="a challenger bundle in canary mode")
    share = check_share(canary_share)
    rows = _check_int(max_batch_rows, "max_batch_rows")
    body_cap = 1024 * 1024 + 4096 * rows if max_body_bytes is None \
        else _check_int(max_body_bytes, "max_body_bytes")
    token = _check_token(admin_token)
    champion = Scorer(bundle)
    trial = None if challenger is None else Scorer(challenger)
    roles = {CHAMPION: champion.is_classifier}
    classes: dict[str, Any] = {CHAMPION: _class_list(champion)}
    versions = {CHAMPION: bundle.version}
    if trial is not None:
        roles.update({CHALLENGER: trial.is_classifier, SHADOW: trial.is_classifier})
        classes.update({CHALLENGER: _class_list(trial), SHADOW: _class_list(trial)})
        versions[CHALLENGER] = trial.version
    metrics = Metrics(roles=roles, classes=classes, columns=bundle.schema.columns,
                      versions=versions, shadow=trial is not None)
    metrics.canary_share(share)
    opened, owned = _open_log(log)
    service = _Service(deps, champion, trial,
                       release=Release(mode, share, has_challenger=trial is not None),
                       log=opened, own_log=owned, metrics=metrics, max_batch_rows=rows,
                       max_body_bytes=body_cap, admin_token=token,
                       bundle_sha256=bundle.source_sha256,
                       schema_json=dumps(bundle.schema.to_json_schema()))
    app = deps.FastAPI(title=f"mllife model {bundle.version}", lifespan=service.lifespan,
                       docs_url=None, redoc_url=None, openapi_url=None)
    app.state.mllife = service
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    add = app.router.add_route
    add("/predict", service.predict, methods=["POST"])
    add("/health", service.health, methods=["GET"])
    add("/ready", service.ready_route, methods=["GET"])
    add("/schema", service.schema, methods=["GET"])
    add("/metrics", service.metrics_route, methods=["GET"])
    if token is not None:
        add("/admin/canary", service.admin_canary, methods=["PUT"])
    return app


def _class_list(scorer: Scorer) -> list[Any]:
    return [] if scorer.classes is None else scorer.classes.tolist()


def set_canary_share(app: Any, share: float) -> float:
    """Change the canary's share of requests at run time; return the previous share.

    Walk a release 0.05 → 0.25 → 0.5 → 1.0, or roll back with 0 (the
    champion answers every request). Clients keep their side: raising the
    share only moves clients from the champion to the challenger.

    Parameters
    ----------
    app : FastAPI
        An app made by :func:`make_app`.
    share : float
        From 0 to 1.

    Returns
    -------
    float
        The share before the change.

    Raises
    ------
    InputError
        When ``app`` was not made by :func:`make_app`, ``share`` is not a
        number from 0 to 1, or the app is not in canary mode with a
        challenger (the share would change nothing, yet ``/health`` would
        report it).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mllife.bundle import InputSchema, ModelBundle
    >>> from mllife.serve import make_app, set_canary_share
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    >>> old = ModelBundle(LogisticRegression().fit(X, [0, 0, 1, 1]), InputSchema.infer(X),
    ...                   version="1")
    >>> new = ModelBundle(LogisticRegression(C=0.5).fit(X, [0, 0, 1, 1]), InputSchema.infer(X),
    ...                   version="2")
    >>> app = make_app(old, challenger=new, mode="canary", canary_share=0.05)
    >>> set_canary_share(app, 0.25)
    0.05
    >>> set_canary_share(app, 0.0)  # rollback
    0.25
    """
    service = getattr(getattr(app, "state", None), "mllife", None)
    if not isinstance(service, _Service):
        raise InputError(f"app is a {type(app).__name__} not made by mllife.serve.make_app",
                         expected="the app make_app returned")
    return service.set_share(share, source="set_canary_share")
