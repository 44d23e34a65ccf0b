"""``python -m mllife serve BUNDLE``: serve a model bundle over HTTP with uvicorn.

Loads the bundle (and an optional challenger) with :func:`mllife.bundle.load_bundle`,
verifying it before anything listens, builds the app with
:func:`mllife.serve.make_app`, binds the socket, prints one line saying where it
listens, then runs uvicorn until SIGINT or SIGTERM (a graceful shutdown: uvicorn stops
accepting connections, requests in flight finish, the prediction log is closed).

Secrets never travel on the command line (where ``ps`` and shell history show
them): the signing key and the admin token are read from files.

A mistake in the options, a tampered or unsigned bundle, a wrong key, a missing
extra or a port in use ends the command with one line on stderr and exit code 2,
before anything is served.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import stat
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, NoReturn

from .._errors import (
    InputError,
    MissingDependencyError,
    MllifeError,
    MllifeWarning,
    UntrustedTypeError,
)

__all__ = ["build_parser", "main", "read_secret"]

PROG = "python -m mllife serve"
#: The largest key or token file read (a key is a few dozen bytes; a larger file is a mistake).
MAX_SECRET_BYTES = 4096
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
#: Seconds a SIGINT/SIGTERM waits for the requests in flight before the server stops anyway.
GRACEFUL_SECONDS = 10


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        _say(f"{message} (see {PROG} --help)", kind="error")
        raise SystemExit(2)


def _say(message: str, *, kind: str, stream: IO[str] | None = None) -> None:
    text = " ".join(str(message).split())  # one line, whatever the message holds
    print(f"{PROG}: {kind}: {text}", file=stream or sys.stderr, flush=True)


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r} is not a share between 0 and 1")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m mllife serve``.

    Returns
    -------
    argparse.ArgumentParser

    Examples
    --------
    >>> args = build_parser().parse_args(["churn.mllife", "--port", "9000", "--log", "logs"])
    >>> args.bundle, args.host, args.port, args.log, args.log_inputs, args.mode
    ('churn.mllife', '127.0.0.1', 9000, 'logs', True, 'shadow')
    """
    parser = _Parser(
        prog=PROG,
        allow_abbrev=False,  # "--key SECRET" must not be read as "--key-file SECRET"
        description="Serve a model bundle over HTTP: POST /predict, GET /health, /ready, "
                    "/metrics, /schema (needs pip install \"mllife[serve]\").",
        epilog="Stops gracefully on SIGINT or SIGTERM. Secrets are read from files, never "
               "given on the command line; one trailing newline is stripped.",
    )
    parser.add_argument("bundle", metavar="BUNDLE", help="the bundle file to serve")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only; "
                             "0.0.0.0 listens on every interface)")
    parser.add_argument("--port", type=_port, default=8000,
                        help="port to listen on (default 8000; 0 picks a free port, printed)")
    parser.add_argument("--key-file", metavar="FILE",
                        help="file holding the key the bundle was signed with")
    parser.add_argument("--trusted", metavar="NAME", action="append", default=[],
                        help="full name of an extra type to trust when loading "
                             "(mypkg.models.MyEstimator); repeat for several")
    parser.add_argument("--log", metavar="DIR",
                        help="folder of the prediction log (JSON Lines segments)")
    parser.add_argument("--no-log-inputs", dest="log_inputs", action="store_false",
                        help="keep the request's inputs out of the prediction log (ids, "
                             "versions, outputs, latency and problems are still written)")
    parser.add_argument("--challenger", metavar="BUNDLE2",
                        help="a second bundle, scored in shadow or answering a canary share")
    parser.add_argument("--challenger-key-file", metavar="FILE",
                        help="file holding the challenger's signing key")
    parser.add_argument("--mode", choices=("shadow", "canary"), default="shadow",
                        help="what the challenger does (default shadow)")
    parser.add_argument("--canary-share", type=_share, default=0.05, metavar="SHARE",
                        help="share of clients the challenger answers in canary mode "
                             "(default 0.05)")
    parser.add_argument("--admin-token-file", metavar="FILE",
                        help="file holding the bearer token of PUT /admin/canary "
                             "(without it the admin route does not exist)")
    parser.add_argument("--max-batch-rows", type=_positive, default=10_000, metavar="N",
                        help="most rows in one request (default 10000; more is a 413)")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="info",
                        help="server log level (default info)")
    parser.add_argument("--access-log", action="store_true",
                        help="one uvicorn line per request (off by default: the prediction "
                             "log and /metrics already record every request)")
    return parser


def read_secret(path: str | os.PathLike[str], *, what: str = "key file") -> bytes:
    """The bytes of a key or token file, with one trailing newline stripped.

    ``echo`` and editors end a file with a newline that is no part of the
    secret: one ``\\n`` (or ``\\r\\n``) is removed, nothing else.

    Parameters
    ----------
    path : str or Path
        A regular file of at most 4 KiB.
    what : str, default="key file"
        Named in the error messages (the command line names its option).

    Returns
    -------
    bytes

    Raises
    ------
    InputError
        When the file cannot be read, is not a regular file, is larger than
        4 KiB, or is empty.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "key"
    >>> _ = path.write_bytes(b"s3cret\\n")
    >>> read_secret(path)
    b's3cret'
    >>> _ = path.write_bytes(b"x" * 5000)
    >>> read_secret(path)
    Traceback (most recent call last):
    ...
    mllife._errors.InputError: key file '...key' is larger than 4096 bytes; expected a file holding only the secret
    """
    name = str(path)[:200]
    try:
        # O_NONBLOCK: a named pipe is refused below instead of blocking the start.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise InputError(f"{what} {name!r} is not a regular file",
                                 expected="a file holding only the secret")
            data = handle.read(MAX_SECRET_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read {what} {name!r}: "
                         f"{exc.strerror or type(exc).__name__}") from None
    if len(data) > MAX_SECRET_BYTES:
        raise InputError(f"{what} {name!r} is larger than {MAX_SECRET_BYTES} bytes",
                         expected="a file holding only the secret")
    if data.endswith(b"\r\n"):
        data = data[:-2]
    elif data.endswith(b"\n"):
        data = data[:-1]
    if not data:
        raise InputError(f"{what} {name!r} is empty", expected="the secret")
    return data


def _load(path: str, *, key_file: str | None, key_option: str, trusted: list[str],
          role: str) -> Any:
    """``load_bundle`` with the key read from its file; mllife warnings become lines."""
    from ..bundle import load_bundle

    key = read_secret(key_file, what=key_option) if key_file else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MllifeWarning)
        try:
            bundle = load_bundle(path, key=key, trusted=trusted or None)
        except UntrustedTypeError as exc:
            if "trusted=" not in str(exc) or "hostile" in str(exc):
                raise
            raise UntrustedTypeError(f"{exc} (here: pass each name with --trusted NAME)") from None
    for item in caught:
        if issubclass(item.category, MllifeWarning):
            _say(f"{role} {Path(path).name}: {item.message}", kind="warning")
        else:  # not ours: shown as Python would have shown it
            warnings.showwarning(item.message, item.category, item.filename, item.lineno)
    return bundle


def _bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``; an :class:`InputError` says why not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        raise InputError(f"--host {host[:100]!r} is not an address of this machine: {exc}",
                         expected="an IP address or host name such as 127.0.0.1") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                         expected="a free port (or --port 0 for any free one)") from None
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _configure_logging(level: str) -> None:
    """Errors of the app (logger ``mllife.serve``, with the request id) go to stderr."""
    logger = logging.getLogger("mllife")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel("DEBUG" if level == "trace" else level.upper())


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: ``python -m mllife serve BUNDLE [options]``.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``serve`` (default: ``sys.argv[2:]``).

    Returns
    -------
    int
        0 after a graceful stop (SIGINT or SIGTERM); 2 when the options, the
        bundle, a key file or the port were refused (one line on stderr saying
        why); another non-zero code when the app failed to start (uvicorn's).

    Examples
    --------
    >>> main(["no-such-file.mllife"])
    2
    >>> main(["churn.mllife", "--port", "9000"])  # doctest: +SKIP
    """
    args = build_parser().parse_args(sys.argv[2:] if argv is None else argv)
    log = sock = None
    try:
        try:
            import uvicorn
        except ImportError as exc:
            raise MissingDependencyError(
                f"serving needs uvicorn, FastAPI and prometheus-client ({exc}); "
                "install them with: pip install \"mllife[serve]\"") from None
        if not args.log_inputs and not args.log:
            raise InputError("--no-log-inputs without --log", expected="--log DIR with it")
        if args.challenger_key_file and not args.challenger:
            raise InputError("--challenger-key-file without --challenger",
                             expected="--challenger BUNDLE2 with it")
        bundle = _load(args.bundle, key_file=args.key_file, key_option="--key-file",
                       trusted=args.trusted, role="bundle")
        challenger = None
        if args.challenger:
            challenger = _load(args.challenger, key_file=args.challenger_key_file,
                               key_option="--challenger-key-file", trusted=args.trusted,
                               role="challenger")
        token = (read_secret(args.admin_token_file, what="--admin-token-file")
                 if args.admin_token_file else None)
        from ._app import make_app

        if args.log:
            from ._log import PredictionLog

            log = PredictionLog(args.log, include_inputs=args.log_inputs)
        app = make_app(bundle, challenger=challenger, mode=args.mode,
                       canary_share=args.canary_share, log=log,
                       max_batch_rows=args.max_batch_rows, admin_token=token)
        config = uvicorn.Config(app, log_level=args.log_level, access_log=args.access_log,
                                lifespan="on", ws="none", server_header=False,
                                timeout_graceful_shutdown=GRACEFUL_SECONDS)
        sock = _bind(args.host, args.port)
    except (MllifeError, OSError) as exc:
        if sock is not None:
            sock.close()
        if log is not None:
            log.close()
        _say(f"{type(exc).__name__}: {exc}", kind="error")
        return 2
    _configure_logging(args.log_level)
    if not sock.getsockname()[0].startswith(("127.", "::1")):
        _say(f"listening beyond this machine ({args.host}): anyone who reaches the port "
             "can call /predict; put a TLS proxy with authentication in front", kind="note")
    extra = ""
    if challenger is not None:
        extra = (f", challenger {challenger.version!r} ({args.mode}"
                 f"{f' {args.canary_share:g}' if args.mode == 'canary' else ''})")
    print(f"{PROG}: model {bundle.version!r}{extra} listening on {_url(sock)}"
          f"{f', log in {args.log}' if args.log else ''}", flush=True)
    server = uvicorn.Server(config)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again with
    # the previous handlers back: SIGINT is a KeyboardInterrupt, SIGTERM would kill the
    # process before the log is closed; this handler makes it an exception too.
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if main_thread else None
    try:
        server.run(sockets=[sock])
    except (KeyboardInterrupt, _Terminated):
        pass  # a signal ended a graceful shutdown: close the log below, exit 0
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
        sock.close()
        if log is not None:
            log.close()
    return 0 if server.started else 1


class _Terminated(BaseException):
    """SIGTERM, raised again by uvicorn after its graceful shutdown."""


def _terminated(signum: int, frame: Any) -> None:
    raise _Terminated
