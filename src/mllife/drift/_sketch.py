"""Compact, mergeable per-column summaries that :class:`DriftProfile` keeps.

A numeric column keeps its finite values **exactly** (sorted) while there are
at most ``exact_size`` of them. Above that it keeps a *quantile sketch*: the
``K = sketch_size`` order statistics at ranks ``floor((i + 1/2) n / K)``,
``i = 0..K-1``, each standing for ``n / K`` rows. The empirical CDF of the
sketch points differs from the CDF of the full column by at most
``1 / (2K)`` anywhere (its *rank error*), so a KS statistic computed from the
sketch is within ``1 / (2K)`` of the exact one. Merging two summaries pools
their (weighted) points and re-selects ``K`` points, which adds at most
``1 / K`` to the larger of the two rank errors; :attr:`NumericSummary.rank_error`
tracks the bound. Count, mean and variance are merged exactly (Chan et al.).
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import _kernels as k

#: Arrays longer than this are stored compressed in ``to_dict`` (shorter ones as lists).
_PACK_ABOVE = 64


def encode_floats(values: np.ndarray) -> Any:
    """A float array as JSON-safe data, bit for bit.

    Short arrays stay plain lists; long ones (the exact sample or sketch of a
    column, up to ``exact_size`` values) become ``{"float64_zlib_base64": ...}``:
    little-endian float64 bytes, zlib-compressed, base64 text. That is about
    a third of the size of the decimal list for continuous data, and far less
    for integer-valued columns with repeats.
    """
    arr = np.ascontiguousarray(values, dtype="<f8")
    if arr.size <= _PACK_ABOVE:
        return arr.tolist()
    packed = base64.b64encode(zlib.compress(arr.tobytes(), 6)).decode("ascii")
    return {"float64_zlib_base64": packed, "size": int(arr.size)}


def decode_floats(data: Any) -> np.ndarray:
    """The array :func:`encode_floats` wrote (a list, or the packed form)."""
    if isinstance(data, Mapping):
        try:
            raw = zlib.decompress(base64.b64decode(str(data["float64_zlib_base64"]),
                                                   validate=True))
        except zlib.error as exc:
            raise ValueError(f"packed values are corrupted ({exc})") from None
        arr = np.frombuffer(raw, dtype="<f8").astype(np.float64)
        if arr.size != int(data["size"]):
            raise ValueError(f"packed values hold {arr.size} numbers, expected {data['size']}")
        return arr
    return np.asarray(data, dtype=np.float64)


@dataclass(frozen=True)
class NumericSummary:
    """Finite values (exact or sketch), NaN/inf counts, moments and a histogram."""

    values: np.ndarray
    exact: bool
    n: int
    n_missing: int
    n_posinf: int
    n_neginf: int
    mean: float
    m2: float
    rank_error: float
    edges: np.ndarray
    hist: np.ndarray

    # ---- construction ------------------------------------------------------------
    @classmethod
    def fit(cls, counts: k.NumericCounts, *, exact_size: int, sketch_size: int, n_bins: int) -> NumericSummary:
        finite = counts.finite
        n = int(finite.size)
        mean = float(finite.mean()) if n else 0.0
        m2 = float(np.sum((finite - mean) ** 2)) if n else 0.0
        if n <= exact_size:
            values, exact, error = finite, True, 0.0
        else:
            ranks = np.floor((np.arange(sketch_size) + 0.5) * n / sketch_size).astype(np.int64)
            values, exact, error = finite[ranks], False, 0.5 / sketch_size
        out = cls(values, exact, n, counts.n_missing, counts.n_posinf, counts.n_neginf,
                  mean, m2, error, np.array([]), np.array([]))
        return out._with_histogram(n_bins)

    def _with_histogram(self, n_bins: int) -> NumericSummary:
        w = self.weights
        edges = k.quantile_edges(self.values, n_bins, w)
        hist = k.bin_counts(self.values, edges, w) if self.values.size else np.zeros(1)
        return replace(self, edges=edges, hist=hist)

    # ---- derived -------------------------------------------------------------
    @property
    def weights(self) -> np.ndarray | None:
        """Rows each stored value stands for (``None``: one each, exact)."""
        if self.exact or self.values.size == 0:
            return None
        return np.full(self.values.size, self.n / self.values.size)

    @property
    def n_rows(self) -> int:
        return self.n + self.n_missing + self.n_posinf + self.n_neginf

    @property
    def std(self) -> float:
        return float(np.sqrt(self.m2 / self.n)) if self.n else 0.0

    # ---- merge ---------------------------------------------------------------
    def merge(self, other: NumericSummary, *, exact_size: int, sketch_size: int, n_bins: int) -> NumericSummary:
        n = self.n + other.n
        if n == 0:
            mean, m2 = 0.0, 0.0
        else:
            delta = other.mean - self.mean
            mean = self.mean + delta * other.n / n
            m2 = self.m2 + other.m2 + delta**2 * self.n * other.n / n
        pooled = np.concatenate([self.values, other.values])
        if self.exact and other.exact and n <= exact_size:
            values, exact, error = np.sort(pooled, kind="stable"), True, 0.0
        else:
            wa = self.weights if self.weights is not None else np.ones(self.values.size)
            wb = other.weights if other.weights is not None else np.ones(other.values.size)
            w = np.concatenate([wa, wb])
            order = np.argsort(pooled, kind="stable")
            cum = np.cumsum(w[order]) / np.sum(w)
            targets = (np.arange(sketch_size) + 0.5) / sketch_size
            picks = np.minimum(np.searchsorted(cum, targets, side="left"), pooled.size - 1)
            values, exact = pooled[order][picks], False
            base = max(self.rank_error, other.rank_error)
            error = base + 1.0 / sketch_size if base > 0 else 0.5 / sketch_size
        merged = NumericSummary(
            values, exact, n, self.n_missing + other.n_missing, self.n_posinf + other.n_posinf,
            self.n_neginf + other.n_neginf, float(mean), float(m2), float(error), np.array([]), np.array([]),
        )
        return merged._with_histogram(n_bins)

    # ---- serialization ---------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "values": encode_floats(self.values), "exact": self.exact, "n": self.n,
            "n_missing": self.n_missing, "n_posinf": self.n_posinf, "n_neginf": self.n_neginf,
            "mean": self.mean, "m2": self.m2, "rank_error": self.rank_error,
            "edges": self.edges.tolist(), "hist": self.hist.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NumericSummary:
        return cls(
            decode_floats(data["values"]), bool(data["exact"]), int(data["n"]),
            int(data["n_missing"]), int(data["n_posinf"]), int(data["n_neginf"]),
            float(data["mean"]), float(data["m2"]), float(data["rank_error"]),
            np.asarray(data["edges"], dtype=np.float64), np.asarray(data["hist"], dtype=np.float64),
        )


@dataclass(frozen=True)
class CategoricalSummary:
    """Category counts (categories by string form) and the missing count."""

    labels: tuple[str, ...]
    counts: np.ndarray
    n_missing: int

    @classmethod
    def fit(cls, values: Any) -> CategoricalSummary:
        labels, counts, n_missing = k.category_counts(values)
        return cls(tuple(labels), counts.astype(np.float64), n_missing)

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @property
    def n_rows(self) -> int:
        return self.n + self.n_missing

    def merge(self, other: CategoricalSummary) -> CategoricalSummary:
        labels, a, b = k.align_counts(list(self.labels), self.counts, list(other.labels), other.counts)
        return CategoricalSummary(tuple(labels), a + b, self.n_missing + other.n_missing)

    def to_dict(self) -> dict[str, Any]:
        return {"labels": list(self.labels), "counts": self.counts.tolist(), "n_missing": self.n_missing}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalSummary:
        return cls(tuple(str(v) for v in data["labels"]), np.asarray(data["counts"], dtype=np.float64),
                   int(data["n_missing"]))
