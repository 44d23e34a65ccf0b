"""A mergeable quantile sketch with a tracked rank error, and mergeable moments (Dask audit)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Moments", "Sketch", "median", "order_stats", "quantiles"]


@dataclass(frozen=True)
class Sketch:
    """Sorted points standing for ``weights`` rows each, with a rank-error bound.

    For every ``t``, the rows at or below ``t`` counted on the points differ
    from the true count by at most ``error`` rows. Building from exact values
    has error 0; pooling summaries adds their errors; compressing to ``size``
    points groups neighbours into one point (their weighted median) and adds
    the largest weight a group moved across a point, which is at most about
    ``n / size``. The relative bound ``error / n`` is what a report states.
    """

    values: np.ndarray
    weights: np.ndarray
    error: int

    @property
    def n(self) -> int:
        return int(self.weights.sum())

    @classmethod
    def of(cls, values: np.ndarray, weights: np.ndarray, size: int, error: int = 0, *,
           distinct: bool = False) -> Sketch:
        """Points from (possibly repeated, unsorted) values and their weights, compressed.

        ``distinct=True`` says the values do not repeat (a column's distinct values).
        """
        if values.size == 0:
            return cls(values, np.zeros(0, dtype=np.int64), error)
        if distinct:
            weights = np.asarray(weights, dtype=np.int64)
            if weights.max() == 1:  # every value once (continuous data): a plain sort
                return cls(np.sort(values), weights, int(error))._compress(size)
            order = np.argsort(values)
            return cls(values[order], weights[order], int(error))._compress(size)
        order = np.argsort(values, kind="stable")
        values, weights = values[order], np.asarray(weights, dtype=np.int64)[order]
        starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
        return cls(values[starts], np.add.reduceat(weights, starts), int(error))._compress(size)

    @classmethod
    def merge(cls, parts: Sequence[Sketch], size: int) -> Sketch:
        parts = [p for p in parts if p.values.size] or list(parts[:1])
        return cls.of(np.concatenate([p.values for p in parts]), np.concatenate([p.weights for p in parts]),
                      size, sum(p.error for p in parts))

    def _compress(self, size: int) -> Sketch:
        m = self.values.size
        if m <= max(size, 3):
            return self
        w = self.weights
        cum = np.cumsum(w)
        width = max(cum[-1] / size, 1.0)
        group = np.floor((cum - w) / width).astype(np.int64)
        group[0], group[-1] = -1, group[-2] + 1  # the minimum and the maximum stay points of their own
        starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        ends = np.r_[starts[1:], m]
        base = np.r_[0, cum][starts]  # rows before each group
        total = cum[ends - 1] - base
        rep = np.searchsorted(cum, base + total / 2.0, side="left").clip(starts, ends - 1)
        before = cum[rep] - w[rep] - base
        after = cum[ends - 1] - cum[rep]
        added = int(max(before.max(), after.max())) if starts.size else 0
        return Sketch(self.values[rep], total.astype(np.int64), self.error + added)

    def order_stat(self, rank: np.ndarray | float) -> np.ndarray:
        """The value at each 0-based ``rank`` (within ``error`` rows of the true one)."""
        cum = np.cumsum(self.weights)
        where = np.searchsorted(cum, np.asarray(rank, dtype=np.float64), side="right")
        return self.values[np.clip(where, 0, self.values.size - 1)]


@dataclass(frozen=True)
class Moments:
    """Count, mean and sum of squared deviations of the finite values (Chan et al. to merge)."""

    n: int
    mean: float
    m2: float

    @classmethod
    def of(cls, values: np.ndarray, counts: np.ndarray) -> Moments:
        n = int(counts.sum())
        if n == 0:
            return cls(0, 0.0, 0.0)
        weights = counts.astype(np.float64)
        mean = float(np.dot(values, weights) / n)
        return cls(n, mean, float(np.dot(weights, (values - mean) ** 2)))

    @classmethod
    def merge(cls, parts: Sequence[Moments]) -> Moments:
        out = parts[0]
        for p in parts[1:]:
            n = out.n + p.n
            if n == 0:
                continue
            delta = p.mean - out.mean
            out = cls(n, out.mean + delta * p.n / n, out.m2 + p.m2 + delta**2 * out.n * p.n / n)
        return out


def order_stats(values: np.ndarray, counts: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The values at 0-based ``ranks`` of the rows that ``values`` (sorted) and ``counts`` stand for."""
    cum = np.cumsum(counts)
    return values[np.clip(np.searchsorted(cum, ranks, side="right"), 0, values.size - 1)]


def quantiles(values: np.ndarray, counts: np.ndarray, probs: Sequence[float]) -> np.ndarray:
    """``np.quantile(rows, probs)`` (linear method) from sorted distinct values and counts.

    numpy interpolates between the two order statistics around
    ``(n - 1) * q``; the same two values, interpolated by numpy itself,
    give the same float.
    """
    n = int(counts.sum())
    virtual = (n - 1) * np.asarray(probs, dtype=np.float64)
    below = np.floor(virtual)
    gamma = virtual - below
    a = order_stats(values, counts, below)
    b = order_stats(values, counts, np.minimum(below + 1, n - 1))
    return np.array([np.quantile(np.array([x, y]), g) for x, y, g in zip(a, b, gamma, strict=True)])


def median(values: np.ndarray, counts: np.ndarray) -> float:
    """``np.median(rows)`` from distinct values (any order) and counts."""
    order = np.argsort(values, kind="stable")
    values, counts = values[order], counts[order]
    n = int(counts.sum())
    middle = [(n - 1) // 2] if n % 2 else [n // 2 - 1, n // 2]
    return float(np.median(order_stats(values, counts, np.asarray(middle, dtype=np.float64))))
