"""Operational numbers of a prediction log: latency p50/p95 and the error rate.

When a batch carries ``latency_ms`` (a number per request) and/or ``error``
(a boolean, a number where non-zero means failed, or text where a non-empty
value means failed: the error message), :class:`OperationsState` keeps, per
window, a :class:`QuantileSketch` of the latencies (p50/p95 within 1%, exact
merges) and the counts of requests with a known outcome and of failed ones.

:func:`operations_decide` raises an ``operations`` alarm (severity
``warning``) when at least one request of the window failed: the log names
failures explicitly, so a log without failures never raises it. Latency is
reported as numbers, without an alarm: what latency is too slow is a service
objective, not a statistical question.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import is_bool, is_numeric
from ._alarms import WindowDecision, make_finding, signal_row
from ._quantiles import QuantileSketch

__all__ = ["ERROR", "LATENCY_MS", "OperationsState", "operations_decide"]

#: The latency column of a prediction log (milliseconds).
LATENCY_MS = "latency_ms"
#: The error column of a prediction log.
ERROR = "error"


def _failed(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(known, failed)`` masks of an error column."""
    if is_bool(s):
        known = s.notna().to_numpy()
        return known, s.fillna(False).to_numpy(dtype=bool) & known
    if is_numeric(s):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
        known = ~np.isnan(values)
        return known, known & (values != 0)
    kind = pd.api.types.infer_dtype(s, skipna=True)
    if kind == "boolean":
        known = s.notna().to_numpy()
        return known, (s == True).to_numpy(dtype=bool)  # noqa: E712 (object booleans)
    if kind in ("string", "empty"):
        text = s.astype("string").str.strip()
        known = np.ones(len(s), dtype=bool)  # a missing message: no failure
        return known, (text.str.len() > 0).fillna(False).to_numpy(dtype=bool)
    raise InputError(f"holds {kind} values", column=str(s.name),
                     expected="booleans, numbers (non-zero: failed) or text (non-empty: "
                              "the error message of a failed request)")


@dataclass(frozen=True, eq=False)
class OperationsState:
    """Latency sketch and error counts of one window; merge two with :meth:`merge`.

    Attributes
    ----------
    latency : QuantileSketch
        Latencies in milliseconds.
    n_known : int
        Requests whose outcome the ``error`` column gives.
    n_errors : int
        Failed requests.
    has_latency, has_error : bool
        Whether any slice carried the column.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"latency_ms": [12.0, 15.0, 40.0], "error": ["", "timeout", None]})
    >>> s = OperationsState.from_batch(log)
    >>> s.n_known, s.n_errors, round(s.latency.quantile(0.5), 1)
    (3, 1, 15.0)
    """

    latency: QuantileSketch = field(default_factory=QuantileSketch.empty)
    n_known: int = 0
    n_errors: int = 0
    has_latency: bool = False
    has_error: bool = False

    @classmethod
    def from_batch(cls, frame: pd.DataFrame, *, latency_col: Any = LATENCY_MS,
                   error_col: Any = ERROR) -> OperationsState:
        """The state of one batch slice (empty when it has neither column).

        Raises
        ------
        InputError
            When ``latency_ms`` is not numeric, or ``error`` holds values
            that are neither booleans, numbers nor text.
        """
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"a batch slice is a {type(frame).__name__}",
                             expected="a DataFrame")
        latency = QuantileSketch.empty()
        has_latency = latency_col in frame.columns
        if has_latency:
            s = frame[latency_col]
            if is_bool(s) or not is_numeric(s):
                raise InputError(f"holds {s.dtype} values", column=str(latency_col),
                                 expected="numbers: the latency of each request in ms")
            latency = QuantileSketch.from_values(s.to_numpy(dtype=np.float64, na_value=np.nan))
        n_known = n_errors = 0
        has_error = error_col in frame.columns
        if has_error:
            known, failed = _failed(frame[error_col])
            n_known, n_errors = int(known.sum()), int(failed.sum())
        return cls(latency, n_known, n_errors, has_latency, has_error)

    def merge(self, other: OperationsState) -> OperationsState:
        """The state of both (a new object): exact, associative and commutative."""
        if not isinstance(other, OperationsState):
            raise InputError(f"cannot merge a {type(other).__name__}",
                             expected="an OperationsState")
        return OperationsState(self.latency.merge(other.latency), self.n_known + other.n_known,
                               self.n_errors + other.n_errors,
                               self.has_latency or other.has_latency,
                               self.has_error or other.has_error)

    @property
    def error_rate(self) -> float:
        """Failed requests over requests with a known outcome (NaN without any)."""
        return self.n_errors / self.n_known if self.n_known else math.nan

    def __eq__(self, other: object) -> bool:
        return isinstance(other, OperationsState) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]

    def to_json(self) -> dict[str, Any]:
        """JSON-safe data; :meth:`from_json` reads it back."""
        return {"latency": self.latency.to_json(), "n_known": self.n_known,
                "n_errors": self.n_errors, "has_latency": self.has_latency,
                "has_error": self.has_error}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OperationsState:
        """Rebuild a state from :meth:`to_json`, checked as untrusted data."""
        if not isinstance(data, Mapping):
            raise InputError(f"an operations state is a {type(data).__name__}",
                             expected="a mapping (OperationsState.to_json())")
        try:
            counts = [data["n_known"], data["n_errors"]]
            flags = [data["has_latency"], data["has_error"]]
            latency = data["latency"]
        except KeyError as exc:
            raise InputError(f"an operations state without {exc}",
                             expected="the output of OperationsState.to_json()") from None
        if any(isinstance(c, bool) or not isinstance(c, int) or c < 0 for c in counts) or (
                counts[1] > counts[0]) or not all(isinstance(f, bool) for f in flags):
            raise InputError("an operations state with bad counts or flags",
                             expected="whole numbers, n_errors <= n_known, booleans")
        return cls(QuantileSketch.from_json(latency), counts[0], counts[1], flags[0], flags[1])


def operations_decide(state: OperationsState, *, window: Any, index: Any) -> WindowDecision:
    """Latency p50/p95 and the error rate of one window; an alarm when a request failed.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"latency_ms": [10.0, 20.0, 30.0, 40.0], "error": [False] * 3 + [True]})
    >>> d = operations_decide(OperationsState.from_batch(log), window="w0", index=0)
    >>> d.numbers["error_rate"], [r["statistic"] for r in d.rows if r["alarm"]]
    (0.25, ['error_rate'])
    >>> d.findings[0].message
    'window w0: 1 of 4 requests failed (error rate 25%)'
    """
    numbers = {"latency_p50_ms": state.latency.quantile(0.5),
               "latency_p95_ms": state.latency.quantile(0.95),
               "error_rate": state.error_rate}
    rows, findings = [], []
    if state.has_latency:
        for name in ("latency_p50_ms", "latency_p95_ms"):
            rows.append(signal_row("operations", window=window, index=index, statistic=name,
                                   value=numbers[name], alarm=False,
                                   reason="a number (within 1%), no alarm"))
    if state.has_error:
        alarm = state.n_errors > 0
        row = signal_row("operations", window=window, index=index, statistic="error_rate",
                         value=numbers["error_rate"], alarm=alarm,
                         reason=f"{state.n_errors} of {state.n_known} requests failed")
        rows.append(row)
        if alarm:
            findings.append(make_finding(
                row, f"window {window}: {state.n_errors} of {state.n_known} requests failed "
                     f"(error rate {100 * state.error_rate:.3g}%)",
                n_rows=state.n_errors, share=state.error_rate))
    return WindowDecision(numbers, rows, findings)
