"""One request's life: the body read with a cap, parsed, scored, answered in JSON.

Nothing here trusts the body: its size is bounded before and while it is read,
it is parsed with :func:`json.loads` (never evaluated), its shape is checked
(one object or a non-empty list of objects, at most ``max_rows``), and the
model's input contract validates every value before the model sees it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import ModelError
from ..bundle._schema import NOTES_KEY
from ..report._json import jsonable

__all__ = ["BadRequest", "Scorer", "Scores", "TooLarge", "dumps", "error_body", "parse_rows",
           "read_body", "width_limits"]

#: At most this many problems or notes are listed in a response or a log record.
MAX_LISTED = 100
#: A request may name at most this many keys beyond the contract's columns (noted, ignored).
MAX_EXTRA_COLUMNS = 10_000
#: Extra keys per row a full batch may carry (ids, timestamps sent along with the row).
EXTRA_PER_ROW = 32
#: JSON objects a body may hold beyond ``max_rows`` (nested objects, refused later by the
#: contract) before parsing stops: a flood of ``{}`` is refused before it is all built.
OBJECT_SLACK = 64


class BadRequest(Exception):
    """The body is not what ``/predict`` takes (answered 422 ``bad_request``)."""

    def __init__(self, detail: str, n_rows: int = 0) -> None:
        super().__init__(detail)
        self.detail = detail
        self.n_rows = n_rows


class TooLarge(Exception):
    """The body or the batch is over its limit (answered 413 ``too_large``)."""

    def __init__(self, detail: str, n_rows: int = 0) -> None:
        super().__init__(detail)
        self.detail = detail
        self.n_rows = n_rows


class TooSlow(Exception):
    """The body did not arrive within its deadline (answered 408 ``timeout``)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


#: Seconds a client has to send a whole body: one that declares a length and stalls
#: (a slow-body attack) would otherwise hold its connection and buffer for ever.
BODY_TIMEOUT_S = 30.0


async def read_body(headers: Mapping[str, str], stream: AsyncIterator[bytes],
                    max_bytes: int, timeout: float = BODY_TIMEOUT_S) -> bytes:
    """The whole body, refused (``TooLarge``) as soon as it is known to pass ``max_bytes``.

    A declared ``Content-Length`` over the limit is refused before anything
    is read; a chunked body is counted while it arrives. A body still
    arriving after ``timeout`` seconds raises ``TooSlow``.
    """
    import anyio  # Starlette's own dependency: only here, never at ``import mllife.serve``

    try:
        with anyio.fail_after(timeout):
            return await _read_capped(headers, stream, max_bytes)
    except TimeoutError:
        raise TooSlow(f"the body did not arrive within {timeout:g} s") from None


async def _read_capped(headers: Mapping[str, str], stream: AsyncIterator[bytes],
                       max_bytes: int) -> bytes:
    declared = headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and len(declared) < 20 \
            and int(declared) > max_bytes:
        raise TooLarge(f"the body ({int(declared)} bytes) is over the limit of {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream:
        size += len(chunk)
        if size > max_bytes:
            raise TooLarge(f"the body is over the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def width_limits(n_columns: int, max_rows: int) -> tuple[int, int]:
    """``(max_columns, max_cells)`` of a request to a contract of ``n_columns`` columns.

    The rows become one table, as wide as the request has distinct keys: a
    batch whose rows each name other keys (a 300 KB body, 1,000 rows of 30
    keys of their own) would make a table of 1,000 × 30,000 cells. A request
    may name ``n_columns + 10,000`` distinct keys, and its table (rows ×
    distinct keys) may hold ``max_rows × (n_columns + 32)`` cells, or the
    one row of ``n_columns + 10,000`` keys.

    Examples
    --------
    >>> width_limits(3, 10_000)
    (10003, 350000)
    """
    max_columns = n_columns + MAX_EXTRA_COLUMNS
    return max_columns, max(max_rows * (n_columns + EXTRA_PER_ROW), max_columns)


def parse_rows(body: bytes, max_rows: int, max_columns: int | None = None,
               max_cells: int | None = None) -> tuple[Any, int]:
    """``(payload, n_rows)``: one JSON object (one row) or a non-empty list of objects.

    Raises
    ------
    BadRequest
        Not JSON (not UTF-8/16/32 either, a number of over 4,300 digits,
        nesting deeper than Python's recursion limit), not an object or a
        list of objects, or an empty list. The detail never quotes the body.
    TooLarge
        More than ``max_rows`` rows, more than ``max_columns`` distinct keys,
        or more than ``max_cells`` rows × distinct keys (see :func:`width_limits`);
        or more than ``max_rows + 64`` JSON objects in all (nested ones count),
        refused while parsing, before they are all built: a 40 MiB body of 14
        million ``{}`` would otherwise take a gigabyte before its row count
        is known.

    Examples
    --------
    >>> parse_rows(b'[{"x": 1}, {"x": 2}]', max_rows=10)
    ([{'x': 1}, {'x': 2}], 2)
    >>> parse_rows(b'{"x": 1}', max_rows=10)
    ({'x': 1}, 1)
    >>> parse_rows(b'[1, 2]', max_rows=10)
    Traceback (most recent call last):
    ...
    mllife.serve._request.BadRequest: the body is a JSON list whose items are not all objects; expected one JSON object (a row) or a non-empty list of objects
    """
    # A body holds at most as many objects as it has "{" bytes (in UTF-8, 16 or 32): the
    # usual body is parsed as it is; one that might hold too many is counted while parsed.
    counted = body.count(b"{") > max_rows + OBJECT_SLACK
    try:
        payload = json.loads(body, object_hook=_ObjectCount(max_rows)) if counted \
            else json.loads(body)
    except RecursionError:
        raise BadRequest("the body's JSON is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(f"the body is not valid JSON ({exc.msg} at character {exc.pos})"
                         ) from None
    except UnicodeDecodeError:
        raise BadRequest("the body is not text in UTF-8 (or UTF-16/32)") from None
    except ValueError:  # Python's limit on the digits of an integer
        raise BadRequest("the body holds a number with too many digits") from None
    expected = "one JSON object (a row) or a non-empty list of objects"
    if type(payload) is dict:
        _check_width(1, len(payload), max_columns, max_cells)
        return payload, 1
    if type(payload) is not list:
        kind = {str: "string", int: "number", float: "number", bool: "boolean"}.get(
            type(payload), "null")
        raise BadRequest(f"the body is a JSON {kind}; expected {expected}")
    n = len(payload)
    if n == 0:
        raise BadRequest(f"the body is an empty list; expected {expected}")
    if n > max_rows:
        raise TooLarge(f"the request holds {n} rows, over the limit of {max_rows} rows", n)
    if not all(type(row) is dict for row in payload):  # one pass over the request's records
        raise BadRequest(f"the body is a JSON list whose items are not all objects; "
                         f"expected {expected}", n)
    if max_columns is not None or max_cells is not None:
        # The keys of every record, once (C speed: 0.4 ms for 10,000 rows of 3 keys).
        width = len(payload[0]) if n == 1 else len(set().union(*payload))
        _check_width(n, width, max_columns, max_cells)
    return payload, n


class _ObjectCount:
    """A ``json.loads`` object hook: a ``TooLarge`` once the body has built too many objects.

    Each object of the body, nested ones too, costs one call of a few dozen
    nanoseconds; the body is refused at the first object past the limit,
    with only the objects built so far in memory.
    """

    __slots__ = ("left", "max_rows")

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self.left = max_rows + OBJECT_SLACK

    def __call__(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.left -= 1
        if self.left < 0:
            raise TooLarge(f"the request holds more than {self.max_rows + OBJECT_SLACK} JSON "
                           f"objects, over the limit of {self.max_rows} rows")
        return obj


def _check_width(n_rows: int, width: int, max_columns: int | None,
                 max_cells: int | None) -> None:
    """Refuse a request whose table would be too wide; the detail names no key."""
    if max_columns is not None and width > max_columns:
        raise TooLarge(f"the request names {width} distinct columns (keys), over the limit "
                       f"of {max_columns}; send the contract's columns only", n_rows)
    if max_cells is not None and n_rows * width > max_cells:
        raise TooLarge(f"the request's {n_rows} rows name {width} distinct columns (keys) "
                       f"between them: {n_rows * width} cells, over the limit of {max_cells}; "
                       "send the same columns in every row, the contract's only", n_rows)


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes; NaN and infinities become ``null``, numpy scalars numbers.

    Examples
    --------
    >>> dumps({"p": [0.5, float("nan")], "n": np.int64(3)})
    b'{"p":[0.5,null],"n":3}'
    """
    try:
        return json.dumps(obj, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except (ValueError, TypeError):  # NaN, numpy scalars, timestamps: the slow, exact path
        return json.dumps(jsonable(obj), allow_nan=False, separators=(",", ":"),
                          default=str).encode("utf-8")


def error_body(rid: str, code: str, detail: str,
               problems: list[dict[str, Any]] | None = None) -> bytes:
    """The JSON of a failed request: request id, error code, detail, problems."""
    return dumps({"request_id": rid, "error": code, "detail": detail,
                  "problems": (problems or [])[:MAX_LISTED]})


@dataclass(frozen=True)
class Scores:
    """What a model said about validated rows."""

    prediction: np.ndarray
    proba: np.ndarray | None
    notes: list[dict[str, Any]]

    def outputs(self, classes: np.ndarray | None) -> pd.DataFrame:
        """The frame ``ModelBundle.predict_proba`` returns, without ``model_version``."""
        columns: dict[str, Any] = {"prediction": self.prediction}
        if self.proba is not None and classes is not None:
            for i, label in enumerate(classes.tolist()):
                columns[f"proba_{label}"] = self.proba[:, i]
        return pd.DataFrame(columns, copy=False)


class Scorer:
    """A bundle, ready to validate and score requests (what ``predict_proba`` does, split).

    ``ModelBundle.predict_proba`` validates and scores in one call; a
    service also needs the validated frame (for the log and the shadow), so
    the two steps are taken apart here, with the same results.

    Parameters
    ----------
    bundle : ModelBundle
    """

    def __init__(self, bundle: Any) -> None:
        self.bundle = bundle
        self.version: str = bundle.version
        model = bundle.model
        self.has_proba = hasattr(model, "predict_proba")
        classes = getattr(model, "classes_", None)
        self.classes: np.ndarray | None = None if classes is None else np.asarray(classes)
        self.is_classifier = self.classes is not None
        self.classes_json: list[Any] | None = None if self.classes is None \
            else jsonable(self.classes)

    def validate(self, payload: Any) -> pd.DataFrame:
        """The request validated by the bundle's contract (a ``SchemaError`` when it breaks it)."""
        return self.bundle.schema.validate(payload)

    def score(self, valid: pd.DataFrame) -> Scores:
        """Score validated rows; a failure of the model is a ``ModelError``."""
        n = len(valid)
        notes = list(valid.attrs.get(NOTES_KEY, ()))
        if self.has_proba:
            prediction, proba, _ = self.bundle._scores(valid)  # the bundle decides the class
            return Scores(prediction, proba, notes)
        prediction = np.asarray(self.bundle._call("predict", valid))
        if prediction.ndim == 2 and prediction.shape[1] == 1:
            prediction = prediction[:, 0]
        if prediction.shape != (n,):
            raise ModelError(f"model version {self.version!r}: predict returned shape "
                             f"{prediction.shape} for {n} rows")
        return Scores(prediction, None, notes)

    def answer(self, rid: str, role: str, scores: Scores) -> bytes:
        """The JSON body of a scored request."""
        proba = scores.proba
        return dumps({
            "request_id": rid,
            "model_version": self.version,
            "served_by": role,
            "predictions": _plain(scores.prediction),
            "classes": self.classes_json if proba is not None else None,
            "probabilities": None if proba is None else _plain(proba),
            "notes": scores.notes[:MAX_LISTED],
        })


def _plain(values: np.ndarray) -> list[Any]:
    """An array as Python lists, NaN and infinities as None (fast for finite floats)."""
    if values.dtype.kind == "f":
        finite = np.isfinite(values)
        if not finite.all():
            held = values.astype(object)
            held[~finite] = None
            return held.tolist()
        return values.tolist()
    if values.dtype.kind in "iub":
        return values.tolist()
    return jsonable(values)
