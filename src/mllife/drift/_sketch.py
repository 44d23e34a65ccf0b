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
tracks the bound. :func:`merge_numeric` merges any number of summaries in one
step (one re-selection: a tree of merges adds ``1 / K`` per level, not per
summary).

Merges are exactly commutative and associative wherever their result is
exact: exact values are the sorted pooled values (``-0.0`` stored as
``0.0``), their mean and variance are computed from them as :meth:`fit`
computes them, and category labels are kept sorted. A sketched result
depends on the merge order only within its rank error (its mean and
variance, merged with Chan et al.'s formula, within float rounding).
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Mapping, Sequence
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
        return _from_sorted(_canonical(counts.finite), counts.n_missing, counts.n_posinf, counts.n_neginf,
                            exact_size=exact_size, sketch_size=sketch_size, n_bins=n_bins)

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
        """Both summaries as one (see :func:`merge_numeric`)."""
        return merge_numeric([self, other], exact_size=exact_size, sketch_size=sketch_size, n_bins=n_bins)

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


def _canonical(sorted_values: np.ndarray) -> np.ndarray:
    """Sorted finite values with ``-0.0`` stored as ``0.0`` (equal numbers, one bit pattern)."""
    return np.add(sorted_values, 0.0, dtype=np.float64)


def _moments(sorted_values: np.ndarray) -> tuple[float, float]:
    """Mean and sum of squared deviations, as :meth:`NumericSummary.fit` computes them."""
    if sorted_values.size == 0:
        return 0.0, 0.0
    mean = float(sorted_values.mean())
    return mean, float(np.sum((sorted_values - mean) ** 2))


def _from_sorted(finite: np.ndarray, n_missing: int, n_posinf: int, n_neginf: int, *, exact_size: int,
                 sketch_size: int, n_bins: int) -> NumericSummary:
    """The summary of a column whose sorted finite values are all at hand."""
    n = int(finite.size)
    mean, m2 = _moments(finite)
    if n <= exact_size:
        values, exact, error = finite, True, 0.0
    else:
        ranks = np.floor((np.arange(sketch_size) + 0.5) * n / sketch_size).astype(np.int64)
        values, exact, error = finite[ranks], False, 0.5 / sketch_size
    out = NumericSummary(values, exact, n, int(n_missing), int(n_posinf), int(n_neginf), mean, m2, error,
                         np.array([]), np.array([]))
    return out._with_histogram(n_bins)


def merge_numeric(summaries: Sequence[NumericSummary], *, exact_size: int, sketch_size: int,
                  n_bins: int) -> NumericSummary:
    """Several numeric summaries as one, in one step.

    When every summary is exact, their pooled values are all the finite
    values: the result is what :meth:`NumericSummary.fit` gives on them
    (exact up to ``exact_size`` values, else a fresh sketch with rank error
    ``1 / (2K)``), whatever the order of ``summaries``. Otherwise their
    weighted points are pooled and ``K`` points re-selected: the rank error
    is the largest of theirs plus ``1 / K``, and the mean and variance are
    merged with Chan et al.'s formula (exact up to float rounding).
    """
    if not summaries:
        raise ValueError("no summaries to merge")
    n_missing = sum(s.n_missing for s in summaries)
    n_posinf = sum(s.n_posinf for s in summaries)
    n_neginf = sum(s.n_neginf for s in summaries)
    if all(s.exact for s in summaries):
        pooled = np.sort(np.concatenate([s.values for s in summaries]), kind="stable")
        return _from_sorted(pooled, n_missing, n_posinf, n_neginf, exact_size=exact_size,
                            sketch_size=sketch_size, n_bins=n_bins)
    n, mean, m2 = 0, 0.0, 0.0
    for s in summaries:  # Chan et al., one summary at a time (a loop over summaries, not rows)
        if s.n == 0:
            continue
        total = n + s.n
        delta = s.mean - mean
        mean, m2 = mean + delta * s.n / total, m2 + s.m2 + delta**2 * n * s.n / total
        n = total
    pooled = np.concatenate([s.values for s in summaries])
    w = np.concatenate([s.weights if s.weights is not None else np.ones(s.values.size) for s in summaries])
    order = np.argsort(pooled, kind="stable")
    cum = np.cumsum(w[order]) / np.sum(w)
    targets = (np.arange(sketch_size) + 0.5) / sketch_size
    picks = np.minimum(np.searchsorted(cum, targets, side="left"), pooled.size - 1)
    base = max(s.rank_error for s in summaries)
    merged = NumericSummary(pooled[order][picks], False, n, n_missing, n_posinf, n_neginf, float(mean), float(m2),
                            float(base + 1.0 / sketch_size), np.array([]), np.array([]))
    return merged._with_histogram(n_bins)


@dataclass(frozen=True)
class CategoricalSummary:
    """Category counts (categories by string form, labels sorted) and the missing count."""

    labels: tuple[str, ...]
    counts: np.ndarray
    n_missing: int

    @classmethod
    def fit(cls, values: Any) -> CategoricalSummary:
        labels, counts, n_missing = k.category_counts(values)
        return cls.of(labels, counts, n_missing)

    @classmethod
    def of(cls, labels: Sequence[str], counts: np.ndarray, n_missing: int) -> CategoricalSummary:
        """The summary of these counts, labels in their canonical (sorted) order."""
        order = sorted(range(len(labels)), key=labels.__getitem__)  # a loop over categories
        return cls(tuple(labels[i] for i in order), np.asarray(counts, dtype=np.float64)[order], int(n_missing))

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @property
    def n_rows(self) -> int:
        return self.n + self.n_missing

    def merge(self, other: CategoricalSummary) -> CategoricalSummary:
        labels, a, b = k.align_counts(list(self.labels), self.counts, list(other.labels), other.counts)
        return CategoricalSummary.of(labels, a + b, self.n_missing + other.n_missing)

    def to_dict(self) -> dict[str, Any]:
        return {"labels": list(self.labels), "counts": self.counts.tolist(), "n_missing": self.n_missing}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoricalSummary:
        return cls(tuple(str(v) for v in data["labels"]), np.asarray(data["counts"], dtype=np.float64),
                   int(data["n_missing"]))
