"""Who answers a request: request ids, the canary's hash routing, the shadow backlog.

Everything here is standard library only: the decisions are taken in the event
loop, per request, and cost a SHA-256 of a short key.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import numbers
import re
import reprlib
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .._errors import InputError

__all__ = ["ID_PATTERN", "MAX_SHADOW_PENDING", "MAX_SHADOW_ROWS", "Release", "ShadowRunner", "check_share",
           "client_key", "request_id", "routing_point"]

#: What a caller-chosen id (``X-Request-ID``, ``X-Client-ID``) may look like.
ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
#: At most this many shadow jobs wait or run; beyond, a request is not shadowed.
MAX_SHADOW_PENDING = 64
#: At most this many rows wait or are scored in the shadow's jobs (their frames are held).
MAX_SHADOW_ROWS = 100_000
#: The roles of a scored row (the ``role`` of a prediction-log record).
CHAMPION, CHALLENGER, SHADOW = "champion", "challenger", "shadow"


def _valid_id(value: str | None) -> str | None:
    if value is not None and ID_PATTERN.fullmatch(value):
        return value
    return None


def request_id(headers: Mapping[str, str]) -> str:
    """The caller's ``X-Request-ID`` when it is a well-formed id, else a new random one.

    Examples
    --------
    >>> request_id({"x-request-id": "order-17"})
    'order-17'
    >>> len(request_id({"x-request-id": "<script>"}))
    32
    """
    return _valid_id(headers.get("x-request-id")) or uuid.uuid4().hex


def client_key(headers: Mapping[str, str], rid: str) -> str:
    """The canary's routing key: a well-formed ``X-Client-ID``, else the request id.

    Examples
    --------
    >>> client_key({"x-client-id": "user-9"}, "r1"), client_key({}, "r1")
    ('user-9', 'r1')
    """
    return _valid_id(headers.get("x-client-id")) or rid


def routing_point(key: str) -> float:
    """The key's fixed place in [0, 1): the first 8 bytes of its SHA-256, as a fraction.

    The challenger answers a key when ``routing_point(key) < share``: the
    same key always lands on the same side, and raising the share only ever
    moves keys from the champion to the challenger.

    Examples
    --------
    >>> routing_point("user-9") == routing_point("user-9")
    True
    >>> 0.0 <= routing_point("anything") < 1.0
    True
    """
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def check_share(share: Any) -> float:
    """``share`` as a float in [0, 1], or an InputError.

    Any real number (numpy's too) but a boolean; an integer past the range
    of a float (JSON allows ``1000...0``) is refused like any other.

    Examples
    --------
    >>> check_share(0.25)
    0.25
    >>> check_share(10**400)
    Traceback (most recent call last):
    ...
    mllife._errors.InputError: canary share <a 1329-bit integer>; expected a number from 0 to 1
    """
    value = math.nan
    if not isinstance(share, bool) and isinstance(share, numbers.Real):
        with contextlib.suppress(OverflowError, ValueError, TypeError):
            value = float(share)
    if not 0.0 <= value <= 1.0:  # NaN too
        if isinstance(share, numbers.Integral) and int(share).bit_length() > 64:
            shown = f"<a {int(share).bit_length()}-bit integer>"  # no 400-digit message
        else:
            shown = reprlib.repr(share)
        raise InputError(f"canary share {shown}", expected="a number from 0 to 1")
    return value


class Release:
    """The release state of one app: the mode and the canary share (changed at run time).

    Parameters
    ----------
    mode : {"shadow", "canary"}
    share : float
        The canary's share of requests, from 0 (the champion answers all:
        rollback) to 1 (the challenger answers all).
    has_challenger : bool

    Examples
    --------
    >>> release = Release("canary", 0.0, has_challenger=True)
    >>> release.answering("any-client")
    'champion'
    >>> release.set_share(1.0), release.answering("any-client")
    (0.0, 'challenger')
    """

    __slots__ = ("_lock", "has_challenger", "mode", "share")

    def __init__(self, mode: str, share: float, *, has_challenger: bool) -> None:
        self.mode = mode
        self.share = share
        self.has_challenger = has_challenger
        self._lock = threading.Lock()

    @property
    def shadowing(self) -> bool:
        """True when the challenger scores every request the champion answers."""
        return self.has_challenger and self.mode == "shadow"

    def answering(self, key: str) -> str:
        """``"challenger"`` when the canary routes ``key`` to it, else ``"champion"``."""
        share = self.share  # one read: a concurrent change applies to the next request
        if self.has_challenger and self.mode == "canary" and share > 0.0 \
                and routing_point(key) < share:
            return CHALLENGER
        return CHAMPION

    def set_share(self, share: Any) -> float:
        """Set the canary share (validated); return the previous one."""
        value = check_share(share)
        with self._lock:
            previous, self.share = self.share, value
        return previous


class ShadowRunner:
    """The shadow's own worker thread, with a bounded backlog (thread-safe).

    The challenger never scores in the request thread pool: a slow or stuck
    challenger then delays nothing but the shadow. At most ``limit`` jobs, and
    jobs of at most ``max_rows`` rows in all, wait or run (each holds its
    request's rows); :meth:`submit` refuses a job past either bound (the
    caller counts a skipped request).

    Examples
    --------
    >>> runner = ShadowRunner(limit=2, max_rows=10)
    >>> done = []
    >>> runner.submit(done.append, 1, rows=4)
    True
    >>> runner.shutdown(), done, runner.pending, runner.pending_rows
    (True, [1], 0, 0)
    """

    def __init__(self, limit: int = MAX_SHADOW_PENDING, max_rows: int = MAX_SHADOW_ROWS) -> None:
        self.limit = limit
        self.max_rows = max_rows
        self.pending = 0
        self.pending_rows = 0
        self._idle = threading.Condition()
        self._executor: ThreadPoolExecutor | None = None

    def submit(self, fn: Callable[..., object], *args: Any, rows: int = 0) -> bool:
        """Queue ``fn(*args)``, a job of ``rows`` rows; False (nothing queued) when the
        backlog is full: ``limit`` jobs, or ``rows`` more would pass ``max_rows``."""
        with self._idle:
            if self.pending >= self.limit or self.pending_rows + rows > self.max_rows:
                return False
            self.pending += 1
            self.pending_rows += rows
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="mllife-shadow")
            executor = self._executor
        try:
            executor.submit(self._run, fn, args, rows)
        except RuntimeError:  # shut down meanwhile
            self._release(rows)
            return False
        return True

    def _run(self, fn: Callable[..., object], args: tuple[Any, ...], rows: int) -> None:
        try:
            fn(*args)
        finally:
            self._release(rows)

    def _release(self, rows: int) -> None:
        with self._idle:
            self.pending -= 1
            self.pending_rows -= rows
            if self.pending <= 0:
                self._idle.notify_all()

    def shutdown(self, timeout: float = 30.0) -> bool:
        """Let the queued jobs finish (for at most ``timeout`` seconds), then stop the thread.

        Returns False when jobs were still pending at the timeout: those not
        started are dropped, and a stuck one is left to its thread.
        """
        with self._idle:
            executor, self._executor = self._executor, None
            if executor is None:
                return True
            executor.shutdown(wait=False)  # no new jobs; the queued ones still run
            finished = self._idle.wait_for(lambda: self.pending <= 0, timeout)
            if not finished:
                executor.shutdown(wait=False, cancel_futures=True)
                self.pending = self.pending_rows = 0
        return finished
