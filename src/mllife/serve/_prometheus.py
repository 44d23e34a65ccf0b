"""The Prometheus metrics of one app: its own registry, bounded labels, cached children.

Every metric lives in a :class:`~prometheus_client.CollectorRegistry` made for
the app (never the global one), so two apps in one process do not clash. The
per-request path never looks a metric up by name: the labelled children are
built once and kept in dicts. Label values are bounded: routes are the app's
own (anything else is ``"(other)"``), columns are contract columns (anything
else is ``"(other)"``), problem texts are the schema's own, truncated, and at
most :data:`MAX_PROBLEM_LABELS` distinct ones are kept apart.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

__all__ = ["OTHER", "ROUTES", "Metrics", "MetricsMiddleware"]

#: The label of a route, column or problem outside the bounded set.
OTHER = "(other)"
#: The app's routes, the only values of the ``route`` label besides ``"(other)"``.
ROUTES = ("/predict", "/health", "/ready", "/schema", "/metrics", "/admin/canary")
#: Problem texts are cut to this length in labels.
MAX_PROBLEM_LENGTH = 60
#: At most this many distinct problem labels; later ones count as ``"(other)"``.
MAX_PROBLEM_LABELS = 100
#: Request latency buckets (seconds): a model server answers in milliseconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                   2.5, 5.0, 10.0)
#: Predicted-value buckets of a regressor: ±1, 2, 5 × 10^k for k in -3..6, and 0.
_STEPS = [m * 10.0**k for k in range(-3, 7) for m in (1.0, 2.0, 5.0)]
VALUE_BUCKETS = tuple(sorted({0.0, *_STEPS, *(-s for s in _STEPS)}))


class _ValueHistogram(Collector):
    """``mllife_predicted_value{role}``: a histogram fed a whole array at a time.

    prometheus-client's ``Histogram.observe`` takes one value; a batch of
    10,000 predictions is binned here with one ``searchsorted`` instead.
    Missing and infinite predictions are not observed. The buckets cover
    negative values too; ``_count`` and ``_sum`` are exposed as
    prometheus-client's ``Histogram`` does (``_sum`` decreases when negative
    values are predicted: read the mean from the buckets then).
    """

    def __init__(self, name: str, documentation: str, roles: Iterable[str],
                 bounds: Sequence[float]) -> None:
        self.name = name
        self.documentation = documentation
        self.bounds = np.asarray(bounds, dtype=np.float64)
        self._lock = threading.Lock()
        self._counts = {role: np.zeros(len(self.bounds) + 1, dtype=np.int64) for role in roles}
        self._sums = dict.fromkeys(self._counts, 0.0)

    def observe_many(self, role: str, values: np.ndarray) -> None:
        with np.errstate(invalid="ignore"):
            finite = values[np.isfinite(values)]
        if not len(finite):
            return
        # Bucket ``le=b`` holds v <= b: the first bound >= v ("left").
        counts = np.bincount(np.searchsorted(self.bounds, finite, side="left"),
                             minlength=len(self.bounds) + 1)
        total = float(finite.sum())
        with self._lock:
            self._counts[role] += counts
            self._sums[role] += total

    def describe(self) -> Iterator[HistogramMetricFamily]:
        yield HistogramMetricFamily(self.name, self.documentation, labels=["role"])

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=["role"])
        with self._lock:
            snapshot = {role: (c.cumsum(), self._sums[role]) for role, c in self._counts.items()}
        for role, (cumulative, total) in snapshot.items():
            buckets = [(_bound_text(b), float(n)) for b, n in
                       zip(self.bounds, cumulative[:-1], strict=True)]
            buckets.append(("+Inf", float(cumulative[-1])))
            family.add_metric([role], buckets, total)
            if self.bounds[0] < 0:  # as prometheus-client's own Histogram: count and sum always
                family.add_sample(self.name + "_count", {"role": role}, float(cumulative[-1]))
                family.add_sample(self.name + "_sum", {"role": role}, total)
        yield family


def _bound_text(bound: float) -> str:
    return repr(float(bound))


class Metrics:
    """The metrics of one app, with their labelled children built once.

    Parameters
    ----------
    roles : mapping of str to bool
        Each role that scores rows (``champion``, and ``challenger`` and
        ``shadow`` when there is a challenger) -> whether its model is a
        classifier (predictions counted by class) or a regressor (a
        histogram of the predicted value).
    classes : mapping of str to sequence
        The classes of each classifier role (the labels of
        ``mllife_predictions_total``).
    columns : sequence of str
        The contract columns: the values of the ``column`` label.
    versions : mapping of str to str
        ``champion`` (and ``challenger``) -> model version, for ``mllife_model_info``.
    shadow : bool
        Whether the shadow comparison metrics exist.
    """

    def __init__(self, *, roles: Mapping[str, bool], classes: Mapping[str, Sequence[Any]],
                 columns: Sequence[str], versions: Mapping[str, str], shadow: bool) -> None:
        self.registry = reg = CollectorRegistry()
        self._lock = threading.Lock()
        self._requests = Counter("mllife_requests", "HTTP requests by route and status.",
                                 ["route", "status"], registry=reg)
        self._duration = Histogram("mllife_request_duration_seconds",
                                   "Time from the request's arrival to its response's last "
                                   "byte, by route.", ["route"], buckets=LATENCY_BUCKETS,
                                   registry=reg)
        self._duration_children = {r: self._duration.labels(r) for r in (*ROUTES, OTHER)}
        self._request_children: dict[tuple[str, int], Any] = {}
        self._failures = Counter("mllife_validation_failures",
                                 "Rows refused by the input contract, by column and problem.",
                                 ["column", "problem"], registry=reg)
        self._failure_children: dict[tuple[str, str], Any] = {}
        self._problem_labels: set[str] = set()
        self._columns = frozenset(columns)
        rows = Counter("mllife_rows", "Rows scored, by role.", ["role"], registry=reg)
        self._rows = {role: rows.labels(role) for role in roles}
        self._class_children: dict[str, dict[Any, Any]] = {}
        self._other_class: dict[str, Any] = {}
        self._value_histogram: _ValueHistogram | None = None
        if any(roles.values()):
            counter = Counter("mllife_predictions", "Predictions by role and class.",
                              ["role", "class"], registry=reg)
            for role, is_classifier in roles.items():
                if is_classifier:
                    labels = list(classes.get(role, ()))
                    self._class_children[role] = {c: counter.labels(role, str(c)) for c in labels}
                    self._other_class[role] = counter.labels(role, OTHER)
        regressors = [role for role, is_classifier in roles.items() if not is_classifier]
        if regressors:
            self._value_histogram = _ValueHistogram(
                "mllife_predicted_value", "Predicted values of a regressor, by role.",
                regressors, VALUE_BUCKETS)
            reg.register(self._value_histogram)
        self.shadow = shadow
        self._compared = self._agreed = 0
        if shadow:
            self._comparisons = Counter("mllife_shadow_comparisons",
                                        "Rows scored by both the champion and the shadow.",
                                        registry=reg)
            self._agreements = Counter("mllife_shadow_agreements",
                                       "Rows on which the shadow agreed with the champion.",
                                       registry=reg)
            self._ratio = Gauge("mllife_shadow_agreement_ratio",
                                "Share of compared rows on which the shadow agreed (NaN "
                                "before any comparison).", registry=reg)
            self._ratio.set(math.nan)
            self._shadow_failures = Counter("mllife_shadow_failures",
                                            "Shadow scorings that failed (never seen by "
                                            "the caller).", registry=reg)
            self._shadow_skipped = Counter("mllife_shadow_skipped",
                                           "Requests not shadowed: the backlog was full.",
                                           registry=reg)
        self._share = Gauge("mllife_canary_share",
                            "Share of requests the challenger answers in canary mode.",
                            registry=reg)
        info = Gauge("mllife_model_info", "The models served (value 1).", ["role", "version"],
                     registry=reg)
        for role, version in versions.items():
            info.labels(role, version).set(1)
        self._log_failures = Counter("mllife_log_failures",
                                     "Prediction-log writes that failed (the request was "
                                     "still answered).", registry=reg)

    # ------------------------------------------------------------ requests
    def request(self, route: str, status: int, seconds: float) -> None:
        """Count one request and observe its duration."""
        key = (route, status)
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children.setdefault(
                key, self._requests.labels(route, str(status)))
        child.inc()
        self._duration_children[route].observe(seconds)

    def validation_failures(self, problems: Iterable[Mapping[str, Any]]) -> None:
        """Count the rows of each problem of a refused request, by column and problem."""
        for p in problems:
            column = p.get("column")
            column_label = column if isinstance(column, str) and column in self._columns \
                else OTHER
            problem = str(p.get("problem"))[:MAX_PROBLEM_LENGTH]
            count = p.get("count")
            amount = count if isinstance(count, int) and count > 0 else 1
            key = (column_label, problem)
            child = self._failure_children.get(key)
            if child is None:
                with self._lock:
                    if problem not in self._problem_labels:
                        if len(self._problem_labels) >= MAX_PROBLEM_LABELS:
                            problem = OTHER
                        else:
                            self._problem_labels.add(problem)
                    child = self._failures.labels(column_label, problem)
                    if problem != OTHER:
                        self._failure_children[key] = child
            child.inc(amount)

    # ------------------------------------------------------------ predictions
    def scored(self, role: str, prediction: np.ndarray) -> None:
        """Count the rows a role scored and what it predicted."""
        n = len(prediction)
        self._rows[role].inc(n)
        children = self._class_children.get(role)
        if children is not None:
            if n == 1:
                value = prediction[0]
                (children.get(_hashable(value)) or self._other_class[role]).inc()
                return
            values, counts = np.unique(prediction, return_counts=True)
            for value, count in zip(values.tolist(), counts.tolist(), strict=True):
                (children.get(_hashable(value)) or self._other_class[role]).inc(count)
        elif self._value_histogram is not None:
            try:
                values = np.asarray(prediction, dtype=np.float64)
            except (TypeError, ValueError):
                return
            self._value_histogram.observe_many(role, values.ravel())

    # ------------------------------------------------------------ shadow
    def shadow_compared(self, compared: int, agreed: int) -> None:
        """Record a comparison of ``compared`` rows, ``agreed`` of them the same."""
        self._comparisons.inc(compared)
        self._agreements.inc(agreed)
        with self._lock:
            self._compared += compared
            self._agreed += agreed
            if self._compared:
                self._ratio.set(self._agreed / self._compared)

    def shadow_failed(self) -> None:
        self._shadow_failures.inc()

    def shadow_skipped(self) -> None:
        self._shadow_skipped.inc()

    # ------------------------------------------------------------ the rest
    def canary_share(self, share: float) -> None:
        self._share.set(share)

    def log_failed(self) -> None:
        self._log_failures.inc()


def _hashable(value: Any) -> Any:
    """A prediction as the key of its class (numpy scalars as Python ones)."""
    item = getattr(value, "item", None)
    try:
        return item() if callable(item) else value
    except (TypeError, ValueError):
        return value


Send = Callable[[Mapping[str, Any]], Awaitable[None]]


class MetricsMiddleware:
    """A pure ASGI middleware counting every HTTP request by route and status.

    The duration stops when the response's last byte is handed to the
    server, so background work (the shadow) is not counted in it; a request
    whose handler raised before answering counts as a 500.
    """

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self._routes = {r: r for r in ROUTES}

    async def __call__(self, scope: Any, receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        route = self._routes.get(scope.get("path", ""), OTHER)
        state = {"status": 500, "done": False}
        metrics = self.metrics

        async def counted_send(message: Mapping[str, Any]) -> None:
            kind = message["type"]
            if kind == "http.response.start":
                state["status"] = message["status"]
            elif kind == "http.response.body" and not message.get("more_body", False) \
                    and not state["done"]:
                state["done"] = True
                metrics.request(route, int(state["status"]), time.perf_counter() - start)
            await send(message)

        try:
            await self.app(scope, receive, counted_send)
        finally:
            if not state["done"]:
                state["done"] = True
                metrics.request(route, int(state["status"]), time.perf_counter() - start)
