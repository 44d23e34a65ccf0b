"""A monitor's state: one :class:`WindowState` per window and the pending labels.

Everything here merges (two states of the same window add up) and writes to
JSON, validated on the way back (types, finite numbers, bounded sizes).
"""

from __future__ import annotations

import base64
import math
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._errors import InputError
from ..drift import DriftProfile
from ._sums import Sums, add_sums, sums_from_json, sums_to_json

__all__ = ["PendingLabels", "WindowState", "check_int", "decode_ints", "encode_ints"]

#: Sums groups a window keeps (performance estimates, realized performance, confidence,
#: quality); each a :data:`~mllife.monitor._sums.Sums`.
SUM_GROUPS = ("estimate", "realized", "confidence", "quality")
#: Most windows, pending rows and labelled ids a saved monitor may hold.
MAX_WINDOWS = 100_000
MAX_PENDING = 50_000_000


def check_int(value: Any, what: str, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int, or InputError (booleans and floats refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{what} is a {type(value).__name__}", expected="an integer")
    if (low is not None and value < low) or (high is not None and value > high):
        raise InputError(f"{what}={value} is out of range",
                         expected=f"an integer in [{low}, {high}]")
    return int(value)


def check_float(value: Any, what: str) -> float:
    """A finite number, or InputError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{what} is {type(value).__name__} {str(value)[:40]}",
                         expected="a finite number")
    return float(value)


def encode_ints(values: np.ndarray, dtype: str) -> dict[str, Any]:
    """An integer array as JSON-safe text: little-endian bytes, zlib, base64."""
    arr = np.ascontiguousarray(values, dtype=dtype)
    packed = base64.b64encode(zlib.compress(arr.tobytes(), 6)).decode("ascii")
    return {"dtype": dtype, "zlib_base64": packed, "size": int(arr.size)}


def decode_ints(data: Any, dtype: str, what: str, *, max_size: int = MAX_PENDING) -> np.ndarray:
    """The array :func:`encode_ints` wrote, validated (type, size)."""
    if not isinstance(data, Mapping) or data.get("dtype") != dtype:
        raise InputError(f"{what} is not a packed {dtype} array", expected="Monitor.save output")
    size = check_int(data.get("size"), f"{what} size", low=0, high=max_size)
    text = data.get("zlib_base64")
    if not isinstance(text, str):
        raise InputError(f"{what} holds no packed text", expected="Monitor.save output")
    item = np.dtype(dtype).itemsize
    try:
        d = zlib.decompressobj()
        raw = d.decompress(base64.b64decode(text, validate=True), size * item + 1)
    except (zlib.error, ValueError) as exc:
        raise InputError(f"{what} is corrupted ({exc})", expected="Monitor.save output") from None
    if len(raw) != size * item:
        raise InputError(f"{what} holds {len(raw) // item} numbers, expected {size}",
                         expected="Monitor.save output")
    return np.frombuffer(raw, dtype=dtype).copy()


#: Most values a loaded profile's column may hold (numbers, categories).
MAX_PROFILE_VALUES = 5_000_000


def check_profile(profile: DriftProfile, what: str) -> DriftProfile:
    """Refuse a profile whose summaries are not what ``DriftProfile.fit`` builds.

    Every array 1-D and bounded, finite values sorted, counts whole and
    non-negative, one count per category: a hand-edited file cannot reach the
    drift engine with shapes it does not expect.
    """
    def bad(column: Any, why: str) -> InputError:
        return InputError(f"{what}: column {str(column)[:80]!r} {why}",
                          expected="a profile written by DriftProfile.to_dict")

    for name in profile.columns:
        col = profile[name]
        if col.family not in ("numeric", "datetime", "categorical"):
            raise bad(name, f"has the family {col.family!r}")
        if col.numeric is not None:
            s = col.numeric
            counts = (s.n, s.n_missing, s.n_posinf, s.n_neginf)
            if any(c < 0 for c in counts) or sum(counts) > 2**53:
                raise bad(name, "has negative or huge counts")
            for arr, label in ((s.values, "values"), (s.edges, "edges"), (s.hist, "hist")):
                if arr.ndim != 1 or arr.size > MAX_PROFILE_VALUES or not np.isfinite(arr).all():
                    raise bad(name, f"has {label} that are not a bounded list of finite numbers")
            if s.values.size and np.any(np.diff(s.values) < 0):
                raise bad(name, "has values out of order")
            if (s.exact and s.values.size != s.n) or (not s.exact and s.values.size > s.n):
                raise bad(name, "has a value count that disagrees with n")
            if not (math.isfinite(s.mean) and math.isfinite(s.m2) and s.m2 >= 0
                    and 0 <= s.rank_error <= 1):
                raise bad(name, "has moments or a rank error out of range")
        else:
            c = col.categorical
            if c is None:
                raise bad(name, "has no summary")
            if (c.counts.ndim != 1 or c.counts.size != len(c.labels)
                    or c.counts.size > MAX_PROFILE_VALUES or not np.isfinite(c.counts).all()
                    or np.any(c.counts < 0) or np.any(c.counts != np.round(c.counts))
                    or c.n_missing < 0 or len(set(c.labels)) != len(c.labels)):
                raise bad(name, "has category counts that are not one whole count per category")
    return profile


def _profile_from(data: Any, what: str) -> DriftProfile | None:
    if data is None:
        return None
    try:
        return check_profile(DriftProfile.from_dict(data), what)
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError,
            RecursionError) as exc:
        raise InputError(f"{what} is malformed ({type(exc).__name__})",
                         expected="Monitor.save output") from None


@dataclass
class WindowState:
    """What a monitor keeps about one window: profiles, sums and counts (no rows).

    ``inputs`` / ``outputs``: bounded :class:`~mllife.drift.DriftProfile` of
    the input columns and of the model's outputs; ``sums``: one additive
    :data:`Sums` per group (:data:`SUM_GROUPS`); ``extra``: mergeable states
    of other signals (freshness, operations); ``version`` counts changes (for caching,
    not saved).
    """

    key: int
    n_rows: int = 0
    n_scored: int = 0
    n_labelled: int = 0
    time_min: int | None = None
    time_max: int | None = None
    inputs: DriftProfile | None = None
    outputs: DriftProfile | None = None
    sums: dict[str, Sums] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    version: int = 0

    def merge(self, other: WindowState) -> WindowState:
        """Both states of one window together (a new object; inputs unchanged)."""
        def both(a: Any, b: Any, f: Callable[[Any, Any], Any]) -> Any:
            return b if a is None else a if b is None else f(a, b)

        sums = {g: add_sums(self.sums.get(g, {}), other.sums.get(g, {}))
                for g in dict.fromkeys([*self.sums, *other.sums])}
        extra = {name: both(self.extra.get(name), other.extra.get(name), lambda a, b: a.merge(b))
                 for name in dict.fromkeys([*self.extra, *other.extra])}
        return WindowState(
            self.key, self.n_rows + other.n_rows, self.n_scored + other.n_scored,
            self.n_labelled + other.n_labelled, both(self.time_min, other.time_min, min),
            both(self.time_max, other.time_max, max),
            both(self.inputs, other.inputs, lambda a, b: a.merge(b)),
            both(self.outputs, other.outputs, lambda a, b: a.merge(b)),
            sums, extra, max(self.version, other.version) + 1)

    def to_dict(self, extra_to_json: Callable[[str, Any], Any]) -> dict[str, Any]:
        return {
            "key": self.key, "n_rows": self.n_rows, "n_scored": self.n_scored,
            "n_labelled": self.n_labelled, "time_min": self.time_min, "time_max": self.time_max,
            "inputs": None if self.inputs is None else self.inputs.to_dict(),
            "outputs": None if self.outputs is None else self.outputs.to_dict(),
            "sums": {g: sums_to_json(s) for g, s in sorted(self.sums.items())},
            "extra": {name: extra_to_json(name, value) for name, value in sorted(self.extra.items())},
        }

    @classmethod
    def from_dict(cls, data: Any, extra_from_json: Callable[[str, Any], Any]) -> WindowState:
        if not isinstance(data, Mapping):
            raise InputError(f"a window is a {type(data).__name__}", expected="a JSON object")
        big = 2**62
        key = check_int(data.get("key"), "window key", low=-big, high=big)
        counts = [check_int(data.get(n), f"window {n}", low=0, high=big)
                  for n in ("n_rows", "n_scored", "n_labelled")]
        times = [None if data.get(n) is None else check_int(data.get(n), f"window {n}",
                                                            low=-big, high=big)
                 for n in ("time_min", "time_max")]
        sums_data = data.get("sums", {})
        if not isinstance(sums_data, Mapping) or not set(sums_data) <= set(SUM_GROUPS):
            raise InputError("window sums are malformed",
                             expected=f"a JSON object with keys among {SUM_GROUPS}")
        sums = {g: sums_from_json(s, what=f"window {g} sums") for g, s in sums_data.items()}
        extra_data = data.get("extra", {})
        if not isinstance(extra_data, Mapping):
            raise InputError("window extra state is malformed", expected="a JSON object")
        extra = {str(k): extra_from_json(str(k), v) for k, v in extra_data.items()}
        return cls(key, n_rows=counts[0], n_scored=counts[1], n_labelled=counts[2],
                   time_min=times[0], time_max=times[1],
                   inputs=_profile_from(data.get("inputs"), "window inputs"),
                   outputs=_profile_from(data.get("outputs"), "window outputs"),
                   sums=sums, extra=extra)


def contains(sorted_values: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Which of ``values`` are in the sorted array ``sorted_values`` (binary search, no sort)."""
    if sorted_values.size == 0 or values.size == 0:
        return np.zeros(values.size, dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_values, values), sorted_values.size - 1)
    return sorted_values[pos] == values


def union_sorted(sorted_values: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The sorted unique union of a sorted unique array and any array.

    Concatenating two sorted runs and sorting them stably is a linear merge
    (timsort finds the runs), so adding a batch to a large set costs its
    size, not ``N log N``.
    """
    if values.size == 0:
        return sorted_values
    merged = np.concatenate([sorted_values, np.unique(values)])
    merged.sort(kind="stable")
    keep = np.ones(merged.size, dtype=bool)
    np.not_equal(merged[1:], merged[:-1], out=keep[1:])
    return merged[keep]


@dataclass
class PendingLabels:
    """Rows waiting for their label: hashed id, window key and the model's outputs.

    Per unlabelled row: 8 bytes of id hash, 8 of window key, 8 of prediction
    (the class position for classifiers) and 8 per class of probabilities,
    plus 16 bytes of search index; per labelled id, 8 bytes (to count labels
    arriving twice); per id of a row the bundle could not score, 8 bytes (its
    label is counted apart, not as an unknown id). ``labelled`` and
    ``unscored`` are kept sorted and the pending ids have a sorted index, so a
    batch's lookups are binary searches and its insertion a linear merge: the
    cost of a batch does not grow with ``N log N`` of the rows waiting.
    """

    n_classes: int
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    prediction: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    proba: np.ndarray | None = None
    labelled: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    unscored: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))

    def __post_init__(self) -> None:
        if self.proba is None:
            self.proba = np.zeros((0, self.n_classes), dtype=np.float64)
        self.labelled = np.unique(self.labelled)
        self.unscored = np.unique(self.unscored)
        self._reindex()

    def _reindex(self) -> None:
        """The sorted index of the pending ids: ``ids[_order] == _sorted``."""
        self._order = np.argsort(self.ids, kind="stable")
        self._sorted = self.ids[self._order]

    def add(self, ids: np.ndarray, keys: np.ndarray, prediction: np.ndarray,
            proba: np.ndarray | None) -> int:
        """Store rows whose ids are new; returns how many ids were already known (kept first)."""
        if ids.size == 0:
            return 0
        _, first = np.unique(ids, return_index=True)
        fresh = np.zeros(ids.size, dtype=bool)
        fresh[first] = True
        fresh &= ~contains(self._sorted, ids) & ~contains(self.labelled, ids)
        if proba is None:
            proba = np.full((ids.size, self.n_classes), np.nan)
        assert self.proba is not None
        start = self.ids.size
        new_ids = ids[fresh]
        self.ids = np.concatenate([self.ids, new_ids])
        self.keys = np.concatenate([self.keys, keys[fresh]])
        self.prediction = np.concatenate([self.prediction, prediction[fresh]])
        self.proba = np.concatenate([self.proba, proba[fresh]], axis=0)
        new_order = np.argsort(new_ids, kind="stable")
        merged = np.concatenate([self._sorted, new_ids[new_order]])
        perm = np.argsort(merged, kind="stable")  # two sorted runs: a linear merge
        self._sorted = merged[perm]
        self._order = np.concatenate([self._order, start + new_order])[perm]
        return int(ids.size - fresh.sum())

    def mark_labelled(self, ids: np.ndarray) -> None:
        self.labelled = union_sorted(self.labelled, ids)

    def mark_unscored(self, ids: np.ndarray) -> None:
        self.unscored = union_sorted(self.unscored, ids)

    def take(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(positions in ids, pending positions, unknown mask)`` for labels of ``ids``.

        The matched rows stay until :meth:`drop` removes them.
        """
        hit = contains(self._sorted, ids)
        if not hit.any():
            return np.flatnonzero(hit), np.zeros(0, dtype=np.int64), ~hit
        pos = np.searchsorted(self._sorted, ids[hit])
        return np.flatnonzero(hit), self._order[pos], ~hit

    def drop(self, rows: np.ndarray) -> None:
        keep = np.ones(self.ids.size, dtype=bool)
        keep[rows] = False
        self.mark_labelled(self.ids[rows])
        assert self.proba is not None
        self.ids, self.keys = self.ids[keep], self.keys[keep]
        self.prediction, self.proba = self.prediction[keep], self.proba[keep]
        kept_sorted = keep[self._order]
        remap = np.cumsum(keep) - 1
        self._order = remap[self._order[kept_sorted]]
        self._sorted = self._sorted[kept_sorted]

    def merge(self, other: PendingLabels) -> PendingLabels:
        out = PendingLabels(self.n_classes, self.ids.copy(), self.keys.copy(),
                            self.prediction.copy(), None if self.proba is None else self.proba.copy(),
                            self.labelled.copy(), self.unscored.copy())
        out.mark_labelled(other.labelled)
        out.mark_unscored(other.unscored)
        # ids labelled in either are no longer pending; ids pending in both kept once
        assert other.proba is not None
        out.add(other.ids, other.keys, other.prediction, other.proba)
        done = contains(out.labelled, out.ids)
        if done.any():
            out.drop(np.flatnonzero(done))
        return out

    def to_dict(self) -> dict[str, Any]:
        assert self.proba is not None
        return {"n_classes": self.n_classes, "ids": encode_ints(self.ids, "<u8"),
                "keys": encode_ints(self.keys, "<i8"),
                "prediction": encode_ints(self.prediction.view(np.int64), "<i8"),
                "proba": encode_ints(self.proba.reshape(-1).view(np.int64), "<i8"),
                "labelled": encode_ints(self.labelled, "<u8"),
                "unscored": encode_ints(self.unscored, "<u8")}

    @classmethod
    def from_dict(cls, data: Any, *, n_classes: int | None = None,
                  window_keys: np.ndarray | None = None) -> PendingLabels:
        """Rebuild a store written by :meth:`to_dict`, validated.

        ``n_classes`` (the bundle's) is checked before anything is decoded, every
        array is bounded by the number of ids, class positions must be whole
        numbers below ``n_classes`` (or missing), probabilities in [0, 1] (or
        missing), and every waiting row's window must be one of ``window_keys``.
        """
        if not isinstance(data, Mapping):
            raise InputError("pending labels are malformed", expected="a JSON object")
        k = check_int(data.get("n_classes"), "pending n_classes", low=0, high=10_000)
        if n_classes is not None and k != n_classes:
            raise InputError(f"pending labels are for {k} classes, the bundle has {n_classes}",
                             expected="Monitor.save output for this bundle")
        ids = decode_ints(data.get("ids"), "<u8", "pending ids")
        keys = decode_ints(data.get("keys"), "<i8", "pending window keys", max_size=ids.size)
        pred = decode_ints(data.get("prediction"), "<i8", "pending predictions",
                           max_size=ids.size).view(np.float64)
        proba = decode_ints(data.get("proba"), "<i8", "pending probabilities",
                            max_size=ids.size * k).view(np.float64)
        labelled = decode_ints(data.get("labelled"), "<u8", "labelled ids")
        unscored = decode_ints(data.get("unscored"), "<u8", "unscored ids")
        if not (ids.size == keys.size == pred.size) or proba.size != ids.size * k:
            raise InputError("pending labels have arrays of different lengths",
                             expected="Monitor.save output")
        if (np.unique(ids).size != ids.size or np.unique(labelled).size != labelled.size
                or np.unique(unscored).size != unscored.size):
            raise InputError("pending labels repeat an id", expected="Monitor.save output")
        finite_or_nan = ~np.isinf(pred).any() and ~np.isinf(proba).any()
        if not finite_or_nan:
            raise InputError("pending outputs hold infinite numbers", expected="finite numbers")
        known = pred[~np.isnan(pred)]
        if k and ((known < 0) | (known >= k) | (known != np.floor(known))).any():
            raise InputError("pending predictions are not class positions",
                             expected=f"whole numbers from 0 to {k - 1}")
        known_p = proba[~np.isnan(proba)]
        if ((known_p < 0) | (known_p > 1)).any():
            raise InputError("pending probabilities are outside [0, 1]", expected="probabilities")
        if window_keys is not None and keys.size and not np.isin(keys, window_keys).all():
            raise InputError("pending rows name windows the file does not hold",
                             expected="Monitor.save output")
        return cls(k, ids, keys, pred, proba.reshape(ids.size, k), np.sort(labelled),
                   np.sort(unscored))


def check_pending_sizes(monitor: Any, n_pending: int, n_labelled: int, n_unscored: int
                        ) -> None:
    """Refuse a batch whose waiting, labelled and unscored rows would take the monitor's id sets
    above :data:`MAX_PENDING` (what ``Monitor.load`` accepts): pandas and Dask batches alike."""
    store = monitor._pending
    sizes = {"rows waiting for labels": store.ids.size + n_pending,
             "labelled ids": store.labelled.size + n_labelled,
             "ids of unscored rows": store.unscored.size + n_unscored}
    for what, size in sizes.items():
        if size > MAX_PENDING:
            raise InputError(f"the batch would take the monitor to {size} {what}, above the "
                             f"{MAX_PENDING} a saved monitor holds", column=monitor.id_col,
                             expected="observe_labels(...) to resolve waiting rows, or a new "
                                      "monitor (or one without id_col)")
