"""A monitor as JSON (save / load, validated) and the merge of two monitors."""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import InputError
from .._files import write_atomic
from ..drift import DriftProfile
from ._monitor_setup import Reference
from ._state import MAX_WINDOWS, PendingLabels, WindowState, check_int, check_profile
from ._sums import sums_from_json, sums_to_json

if TYPE_CHECKING:
    from ._monitor import Monitor

__all__ = ["MAX_BYTES", "load_monitor", "merge_monitors", "save_monitor"]

FORMAT = "mllife.Monitor"
FORMAT_VERSION = 1
#: The largest monitor file :func:`load_monitor` reads.
MAX_BYTES = 512 * 1024 * 1024
_COUNTS = ("batches", "rows_seen", "rows_without_time", "repeated_ids", "unknown_label_ids",
           "repeated_labels", "labels_for_unscored", "invalid_labels", "labels_without_id",
           "model_failed_rows")


def _bad(message: str) -> InputError:
    return InputError(f"the monitor file is malformed: {message}",
                      expected="a file written by Monitor.save")


def to_dict(monitor: Monitor) -> dict[str, Any]:
    """The monitor's whole state as JSON-safe data."""
    from ._signals import extra_to_json

    ref = monitor.ref
    return {
        "format": FORMAT, "version": FORMAT_VERSION,
        "bundle": {"version": monitor.bundle_version, "schema_sha256": monitor._schema_hash()},
        "settings": monitor._settings(),
        "reference": {
            "inputs": None if ref.source == "bundle" else ref.inputs.to_dict(),
            "outputs": None if ref.outputs is None else ref.outputs.to_dict(),
            "confidence": None if ref.confidence is None else sums_to_json(ref.confidence),
            "performance": ref.performance.to_dict(), "n_rows": ref.n_rows,
            "notes": [str(n) for n in ref.notes], "source": ref.source,
            "reference_se": dict(ref.reference_se),
        },
        "windows": [monitor._windows[k].to_dict(extra_to_json) for k in sorted(monitor._windows)],
        "pending": monitor._pending.to_dict(),
        "counts": {k: int(monitor._counts.get(k, 0)) for k in _COUNTS},
    }


def save_monitor(monitor: Monitor, path: str | os.PathLike[str]) -> Path:
    """Write :func:`to_dict` as JSON to ``path`` through a temporary file and a rename."""
    text = json.dumps(to_dict(monitor), allow_nan=False, separators=(",", ":"))
    return write_atomic(path, text)


def read_json(path: str | os.PathLike[str]) -> Any:
    """The parsed file: bounded size and depth, finite numbers only; InputError otherwise."""
    target = Path(path)
    too_big = InputError(f"the monitor file is larger than {MAX_BYTES} bytes",
                         expected="a file written by Monitor.save")
    try:
        if target.stat().st_size > MAX_BYTES:  # refused before reading it into memory
            raise too_big
        with open(target, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the monitor file {str(target)!r} ({exc.strerror})",
                         expected="a file written by Monitor.save") from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"the monitor file is larger than {MAX_BYTES} bytes",
                         expected="a file written by Monitor.save")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad("not UTF-8 text") from None

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a finite number")

    try:
        return json.loads(text, parse_constant=no_constants)
    except (ValueError, RecursionError) as exc:
        raise _bad(f"not JSON ({str(exc)[:120]})") from None


def load_monitor(cls: type[Monitor], path: str | os.PathLike[str], bundle: Any) -> Monitor:
    """Rebuild a monitor saved by :func:`save_monitor` for ``bundle``."""
    data = read_json(path)
    try:
        return from_dict(cls, data, bundle)
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError,
            RecursionError, AssertionError) as exc:
        raise _bad(f"{type(exc).__name__}: {str(exc)[:120]}") from None


def from_dict(cls: type[Monitor], data: Any, bundle: Any) -> Monitor:
    from ..bundle import ModelBundle
    from ._monitor_setup import check_alpha
    from ._performance import PerformanceModel
    from ._signals import extra_from_json
    from ._window import WindowSpec

    if not isinstance(data, Mapping) or data.get("format") != FORMAT:
        raise _bad("not a saved Monitor")
    if data.get("version") != FORMAT_VERSION:
        raise InputError(f"monitor file format version {data.get('version')!r} is not supported",
                         expected=f"version {FORMAT_VERSION}")
    if not isinstance(bundle, ModelBundle):
        raise InputError(f"bundle is a {type(bundle).__name__}", expected="a ModelBundle")
    saved = data.get("bundle")
    if not isinstance(saved, Mapping):
        raise _bad("no bundle record")
    if saved.get("version") != str(bundle.version):
        raise InputError(f"the monitor watched bundle version {saved.get('version')!r}, "
                         f"not {bundle.version!r}",
                         expected="the bundle the monitor was saved with (a new model version "
                                  "needs a new Monitor)")
    settings = data.get("settings")
    if not isinstance(settings, Mapping):
        raise _bad("no settings")
    window = settings.get("window")
    if not isinstance(window, Mapping) or window.get("kind") not in ("span", "week", "month",
                                                                     "rows"):
        raise _bad("bad window setting")
    spec = WindowSpec(str(window["kind"]), str(window.get("text", ""))[:100],
                      span_ns=check_int(window.get("span_ns"), "span_ns", low=0, high=2**62),
                      rows=check_int(window.get("rows"), "rows", low=0, high=2**62))
    if (spec.kind == "span" and spec.span_ns < 1) or (spec.kind == "rows" and spec.rows < 1):
        raise _bad("bad window size")
    names = {}
    for what in ("time_col", "label_col", "id_col"):
        value = settings.get(what)
        if value is not None and not isinstance(value, str):
            raise _bad(f"{what} is not a column name")
        names[what] = value
    metrics = settings.get("metrics")
    if metrics is not None and (not isinstance(metrics, list) or len(metrics) > 50
                                or not all(isinstance(m, str) for m in metrics)):
        raise _bad("metrics is not a list of names")
    thresholds = settings.get("thresholds", {})
    if not isinstance(thresholds, Mapping) or len(thresholds) > 50:
        raise _bad("thresholds is not a mapping")
    from ._state import check_float

    thresholds = {str(k): check_float(v, f"threshold {k!r}") for k, v in thresholds.items()}
    monitor = cls.__new__(cls)
    monitor.bundle = bundle
    from ._outputs import bundle_task

    monitor.task, monitor.classes, monitor.has_proba = bundle_task(bundle)
    if saved.get("schema_sha256") != monitor._schema_hash():
        raise InputError(f"the bundle's schema differs from the one the monitor watched "
                         f"(bundle version {bundle.version!r} both)",
                         expected="the same bundle, with the same InputSchema")
    monitor.time_col, monitor.label_col, monitor.id_col = (names["time_col"], names["label_col"],
                                                           names["id_col"])
    monitor.spec = spec
    monitor.alpha = check_alpha(settings.get("alpha"))
    monitor.metric_names = None if not metrics else tuple(metrics)
    monitor.thresholds = thresholds
    from ._monitor_setup import parse_metrics

    try:
        if monitor.metric_names is not None:
            parse_metrics(list(monitor.metric_names), monitor.task, len(monitor.classes or ()))
        if thresholds:
            parse_metrics(dict(thresholds), monitor.task, len(monitor.classes or ()))
    except InputError as err:
        raise _bad(f"metrics or thresholds are not valid ({err})") from None
    from ._monitor_setup import finish_setup

    ref = data.get("reference")
    if not isinstance(ref, Mapping):
        raise _bad("no reference")
    source = ref.get("source")
    if source not in ("bundle", "reference"):
        raise _bad("bad reference source")
    if source == "bundle":
        if not isinstance(bundle.drift_profile, DriftProfile):
            raise InputError("the monitor used the bundle's drift_profile, which this bundle "
                             "lacks", expected="the bundle the monitor was saved with")
        inputs = bundle.drift_profile
    else:
        inputs = check_profile(DriftProfile.from_dict(ref.get("inputs") or {}), "reference inputs")
    outputs = None if ref.get("outputs") is None else check_profile(
        DriftProfile.from_dict(ref["outputs"]), "reference outputs")
    confidence = None if ref.get("confidence") is None else sums_from_json(
        ref["confidence"], what="reference confidence sums")
    performance = PerformanceModel.from_dict(ref.get("performance"))
    notes = ref.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes) or len(notes) > 100:
        raise _bad("reference notes")
    ref_se = ref.get("reference_se", {})
    if not isinstance(ref_se, Mapping) or len(ref_se) > 50:
        raise _bad("reference standard errors")
    monitor.ref = Reference(inputs, outputs, confidence, performance,
                            check_int(ref.get("n_rows"), "reference n_rows", low=0, high=2**62),
                            [n[:2000] for n in notes], str(source),
                            {str(k): check_float(v, f"reference se {k!r}")
                             for k, v in ref_se.items()})
    finish_setup(monitor)
    windows = data.get("windows")
    if not isinstance(windows, list) or len(windows) > MAX_WINDOWS:
        raise _bad(f"windows is not a list of at most {MAX_WINDOWS}")
    states = [WindowState.from_dict(w, extra_from_json) for w in windows]
    for state in states:
        _check_window(monitor, state)
    monitor._windows = {w.key: w for w in states}
    if len(monitor._windows) != len(states):
        raise _bad("a window appears twice")
    monitor._pending = PendingLabels.from_dict(
        data.get("pending"), n_classes=len(monitor.classes or ()),
        window_keys=np.fromiter(monitor._windows, dtype=np.int64, count=len(monitor._windows)))
    counts = data.get("counts")
    if not isinstance(counts, Mapping):
        raise _bad("no counts")
    monitor._counts = {k: check_int(counts.get(k, 0), k, low=0, high=2**62) for k in _COUNTS}
    monitor._cache = {}
    return monitor


def _check_window(monitor: Monitor, state: WindowState) -> None:
    """Refuse a loaded window whose numbers contradict each other (a tampered file).

    Counts nest (labelled <= scored <= rows), the profiles hold the window's
    rows, its times fall within its bounds, and every sum is a non-negative
    count or total no larger than the rows it counts.
    """
    import numpy as np

    where = f"window key {state.key}"
    try:
        start, end = monitor.spec.bounds(state.key)
        if monitor.spec.by_time:
            monitor.spec.label(state.key)
    except (OverflowError, ValueError, OSError) as exc:  # OutOfBoundsDatetime is a ValueError
        raise _bad(f"{where} is beyond the dates a window can have ({type(exc).__name__})") \
            from None
    if not state.n_labelled <= state.n_scored <= state.n_rows:
        raise _bad(f"{where}: n_labelled={state.n_labelled}, n_scored={state.n_scored}, "
                   f"n_rows={state.n_rows} do not nest (labelled <= scored <= rows)")
    for what, profile, n in (("inputs", state.inputs, state.n_rows),
                             ("outputs", state.outputs, state.n_scored)):
        if profile is not None and profile.n_rows != n:
            raise _bad(f"{where}: its {what} profile holds {profile.n_rows} rows, "
                       f"not n_rows={state.n_rows} / n_scored={state.n_scored}")
    times = (state.time_min, state.time_max)
    if (times[0] is None) != (times[1] is None):
        raise _bad(f"{where}: time_min and time_max are not both given")
    if monitor.spec.by_time and times[0] is not None and times[1] is not None:
        lo, hi = int(start.value), int(end.value)
        if not lo <= times[0] <= times[1] < hi:
            raise _bad(f"{where}: its times fall outside the window [{start}, {end})")
    limits = {"confidence": state.n_scored, "estimate": state.n_scored,
              "realized": state.n_labelled, "quality": state.n_rows}
    for group, sums in state.sums.items():
        for key, value in sums.items():
            if np.any(value < 0):
                raise _bad(f"{where}: {group} sums {key!r} hold negative numbers")
        n_key = {"confidence": "confidence_n", "estimate": "est_n", "realized": "real_n",
                 "quality": "n_rows"}[group]
        if n_key in sums and float(np.sum(sums[n_key])) > limits[group] + 0.5:
            raise _bad(f"{where}: {group} sums count more rows than the window")
    ref_conf = monitor.ref.confidence
    conf = state.sums.get("confidence")
    if conf:
        if ref_conf is None or set(conf) != set(ref_conf) or any(
                np.shape(conf[k]) != np.shape(ref_conf[k]) for k in conf):
            raise _bad(f"{where}: confidence sums do not have the reference's keys and shapes")
        n_conf = float(np.sum(conf.get("confidence_n", 0.0)))
        if float(np.sum(conf.get("confidence_sum", 0.0))) > n_conf + 1e-6 * max(n_conf, 1.0):
            raise _bad(f"{where}: confidence sums exceed their count (probabilities above 1)")


def merge_monitors(a: Monitor, b: Monitor) -> Monitor:
    """A new monitor holding the windows, pending labels and counts of both."""
    if not isinstance(b, type(a)):
        raise InputError(f"cannot merge a Monitor with {type(b).__name__}", expected="a Monitor")
    if b is a:
        raise InputError("a monitor cannot be merged with itself: its batches would count twice",
                         expected="another monitor, fed other batches")
    if a.bundle_version != b.bundle_version or a._schema_hash() != b._schema_hash():
        raise InputError(f"the monitors watch bundle versions {a.bundle_version!r} and "
                         f"{b.bundle_version!r} (or schemas that differ)",
                         expected="two monitors of the same bundle")
    if not a.spec.by_time:
        raise InputError("row windows cannot be merged: a row's window depends on its arrival "
                         "order, which two monitors do not share",
                         expected="time windows (time_col= and window=) to merge monitors")
    if a._settings() != b._settings():
        diff = sorted(k for k in a._settings() if a._settings()[k] != b._settings().get(k))
        raise InputError(f"the monitors' settings differ ({', '.join(diff)})",
                         expected="monitors built with the same settings")
    if json.dumps(a.ref.performance.to_dict(), sort_keys=True, default=str) != json.dumps(
            b.ref.performance.to_dict(), sort_keys=True, default=str):
        raise InputError("the monitors' references differ",
                         expected="monitors built with the same reference")
    out = copy.copy(a)
    windows = dict(a._windows)
    for key, state in b._windows.items():
        windows[key] = state if key not in windows else windows[key].merge(state)
    out._windows = windows
    out._pending = a._pending.merge(b._pending)
    out._counts = {k: a._counts.get(k, 0) + b._counts.get(k, 0) for k in a._counts}
    out._cache = {}
    return out
