"""``QuantileSketch``: a mergeable quantile sketch with a relative-error guarantee.

The DDSketch idea (Masson, Rim & Lee, 2019): a value ``x`` with
``|x| >= 1e-9`` falls in the logarithmic bucket ``ceil(log_gamma |x|)`` with
``gamma = (1 + a) / (1 - a)`` and ``a = 0.01``; each bucket keeps a count
(negative values in buckets of their own, values under ``1e-9`` in absolute
value in a zero bucket). The quantile at rank ``floor(q (n - 1))`` is read
back as its bucket's midpoint ``2 gamma**i / (gamma + 1)``, within 1% of the
exact value, whatever the distribution. Two sketches merge by adding their
counts, so merging is exact, associative and commutative: a window's
quantiles do not depend on how its rows were batched.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import InputError

__all__ = ["QuantileSketch"]

#: Relative accuracy of every quantile the sketch returns.
RELATIVE_ACCURACY = 0.01
_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)
#: Values smaller than this in absolute value count as zero.
MIN_VALUE = 1e-9
#: Bucket indices a loaded sketch may hold (|x| up to about 1e307 and down to 1e-9).
_MAX_KEY = 36_000
_MIN_KEY = -1100


def _merge_counts(keys_a: np.ndarray, counts_a: np.ndarray, keys_b: np.ndarray,
                  counts_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = np.concatenate([keys_a, keys_b])
    counts = np.concatenate([counts_a, counts_b])
    if keys.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    uniq, inverse = np.unique(keys, return_inverse=True)
    return uniq.astype(np.int64), np.bincount(inverse.ravel(), weights=counts,
                                              minlength=uniq.size)


def _bucket_counts(magnitudes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if magnitudes.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    keys = np.ceil(np.log(magnitudes) / _LOG_GAMMA).astype(np.int64)
    uniq, counts = np.unique(keys, return_counts=True)
    return uniq, counts.astype(np.float64)


@dataclass(frozen=True)
class QuantileSketch:
    """Counts of values in logarithmic buckets: quantiles within 1%, exact merges.

    Build one with :meth:`from_values`; combine two with :meth:`merge`.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).lognormal(3.0, 1.0, 10_000)
    >>> s = QuantileSketch.from_values(x[:4000]).merge(QuantileSketch.from_values(x[4000:]))
    >>> exact = np.quantile(x, 0.95, method="lower")
    >>> s.count, bool(abs(s.quantile(0.95) - exact) <= 0.01 * exact)
    (10000, True)
    >>> QuantileSketch.from_json(s.to_json()) == s
    True
    """

    keys: np.ndarray
    counts: np.ndarray
    neg_keys: np.ndarray
    neg_counts: np.ndarray
    n_zero: float = 0.0

    # ---- construction ---------------------------------------------------------
    @classmethod
    def empty(cls) -> QuantileSketch:
        """A sketch of no values."""
        z = np.zeros(0, dtype=np.int64)
        return cls(z, np.zeros(0), z, np.zeros(0), 0.0)

    @classmethod
    def from_values(cls, values: Any) -> QuantileSketch:
        """The sketch of ``values`` (non-finite values are left out)."""
        x = np.asarray(values, dtype=np.float64).ravel()
        x = x[np.isfinite(x)]
        small = np.abs(x) < MIN_VALUE
        pos_keys, pos_counts = _bucket_counts(x[(x > 0) & ~small])
        neg_keys, neg_counts = _bucket_counts(-x[(x < 0) & ~small])
        return cls(pos_keys, pos_counts, neg_keys, neg_counts, float(small.sum()))

    def merge(self, other: QuantileSketch) -> QuantileSketch:
        """The sketch of both sketches' values (a new object)."""
        keys, counts = _merge_counts(self.keys, self.counts, other.keys, other.counts)
        nkeys, ncounts = _merge_counts(self.neg_keys, self.neg_counts, other.neg_keys,
                                       other.neg_counts)
        return QuantileSketch(keys, counts, nkeys, ncounts, self.n_zero + other.n_zero)

    # ---- reading ------------------------------------------------------------
    @property
    def count(self) -> int:
        """How many values the sketch holds."""
        return int(np.rint(self.counts.sum() + self.neg_counts.sum() + self.n_zero))

    def quantile(self, q: float) -> float:
        """The value at rank ``floor(q (n - 1))`` within 1% (NaN for an empty sketch)."""
        if not 0 <= q <= 1:
            raise InputError(f"q={q!r}", expected="a number between 0 and 1")
        n = self.count
        if n == 0:
            return math.nan
        rank = math.floor(q * (n - 1))
        mid = 2.0 / (_GAMMA + 1.0)
        # Order: negatives from the most negative (largest key first), zero, positives.
        values = np.concatenate([-mid * _GAMMA ** self.neg_keys[::-1].astype(np.float64),
                                 [0.0], mid * _GAMMA ** self.keys.astype(np.float64)])
        counts = np.concatenate([self.neg_counts[::-1], [self.n_zero], self.counts])
        position = int(np.searchsorted(np.cumsum(counts), rank, side="right"))
        return float(values[min(position, values.size - 1)])

    # ---- comparison and JSON ------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, QuantileSketch) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]

    def to_json(self) -> dict[str, Any]:
        """JSON-safe data; :meth:`from_json` reads it back."""
        return {"relative_accuracy": RELATIVE_ACCURACY,
                "keys": self.keys.tolist(), "counts": self.counts.tolist(),
                "neg_keys": self.neg_keys.tolist(), "neg_counts": self.neg_counts.tolist(),
                "n_zero": float(self.n_zero)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuantileSketch:
        """Rebuild a sketch from :meth:`to_json`, checked as untrusted data.

        Raises
        ------
        InputError
            For another accuracy, keys out of range, unsorted or repeated,
            or counts that are not finite non-negative whole numbers.
        """
        if not isinstance(data, Mapping):
            raise InputError(f"a quantile sketch is a {type(data).__name__}",
                             expected="a mapping (QuantileSketch.to_json())")
        if data.get("relative_accuracy") != RELATIVE_ACCURACY:
            raise InputError(f"a quantile sketch of accuracy {data.get('relative_accuracy')!r}",
                             expected=f"{RELATIVE_ACCURACY}")
        try:
            parts = [_read_side(data.get("keys"), data.get("counts")),
                     _read_side(data.get("neg_keys"), data.get("neg_counts"))]
            n_zero = float(data.get("n_zero", 0.0))
        except (TypeError, ValueError, OverflowError) as exc:
            raise InputError(f"a quantile sketch that does not read ({exc})",
                             expected="the output of QuantileSketch.to_json()") from None
        if not (math.isfinite(n_zero) and n_zero >= 0 and n_zero == round(n_zero)):
            raise InputError(f"a quantile sketch with n_zero={n_zero!r}",
                             expected="a whole number >= 0")
        return cls(parts[0][0], parts[0][1], parts[1][0], parts[1][1], n_zero)


def _read_side(keys: Any, counts: Any) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(keys, list) or not isinstance(counts, list) or len(keys) != len(counts):
        raise ValueError("keys and counts must be lists of one length")
    if len(keys) > _MAX_KEY - _MIN_KEY:
        raise ValueError(f"{len(keys)} buckets")
    if any(isinstance(k, bool) or not isinstance(k, int) for k in keys):
        raise ValueError("bucket keys must be integers")
    k = np.asarray(keys, dtype=np.int64)
    c = np.asarray(counts, dtype=np.float64)
    if k.size and (k.min() < _MIN_KEY or k.max() > _MAX_KEY or np.any(np.diff(k) <= 0)):
        raise ValueError("bucket keys out of range, unsorted or repeated")
    if not np.all(np.isfinite(c)) or np.any(c <= 0) or np.any(c != np.round(c)):
        raise ValueError("bucket counts must be whole numbers > 0")
    return k, c
