"""compare_champion against a plain bootstrap loop over scikit-learn metric calls.

Run: ``python benchmarks/champion.py`` (100,000 rows, 2,000 resamples, ROC-AUC, log loss
and accuracy). Two fixed models (their probabilities are precomputed, so only the
comparison is timed) are compared with ``compare_champion`` and with the loop a user
would write: draw indices, call ``sklearn.metrics`` for both models on every resample.
The loop is run for ``--baseline-boot`` resamples and extrapolated to ``--n-boot`` (it is
linear in the resamples). Prints both times, the ratio and compare_champion's peak
traced memory (numpy allocations included). ``--rows`` scales the data down.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from sklearn import metrics as skm

from mllife import compare_champion


class Fixed:
    """A fitted binary classifier whose probabilities are given."""

    def __init__(self, p: np.ndarray) -> None:
        self.p = p
        self.classes_ = np.array([0, 1])

    def predict_proba(self, X: object) -> np.ndarray:
        return np.column_stack([1 - self.p, self.p])

    def predict(self, X: object) -> np.ndarray:
        return (self.p > 0.5).astype(int)


SKLEARN = {
    "roc_auc": lambda y, p: skm.roc_auc_score(y, p),
    "log_loss": lambda y, p: skm.log_loss(y, p, labels=[0, 1]),
    "accuracy": lambda y, p: skm.accuracy_score(y, p > 0.5),
}


def baseline(y: np.ndarray, p1: np.ndarray, p2: np.ndarray, metric: str, n_boot: int) -> float:
    fn = SKLEARN[metric]
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    diffs = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(y), len(y))
        diffs.append(fn(y[idx], p2[idx]) - fn(y[idx], p1[idx]))
    np.quantile(diffs, [0.025, 0.975])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--n-boot", type=int, default=2_000)
    parser.add_argument("--baseline-boot", type=int, default=100)
    parser.add_argument("--metrics", default="roc_auc,log_loss,accuracy")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    n = args.rows
    y = rng.integers(0, 2, n)
    z = rng.normal(size=n)
    p1 = 1 / (1 + np.exp(-(1.0 * (y - 0.5) + z)))
    p2 = 1 / (1 + np.exp(-(1.2 * (y - 0.5) + z + 0.3 * rng.normal(size=n))))
    X = np.zeros((n, 1))
    print(f"{n:,} rows, {args.n_boot:,} paired resamples")
    for metric in args.metrics.split(","):
        tracemalloc.start()
        start = time.perf_counter()
        cpu = time.process_time()
        result = compare_champion(Fixed(p1), Fixed(p2), X, y, metric=metric,
                                  n_boot=args.n_boot, random_state=0)
        ours, ours_cpu = time.perf_counter() - start, time.process_time() - cpu
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        base = baseline(y, p1, p2, metric, args.baseline_boot) * args.n_boot / args.baseline_boot
        print(f"{metric:>9}: compare_champion {ours:6.2f} s (cpu {ours_cpu:5.2f} s, peak "
              f"{peak / 1e6:5.0f} MB, {result.test}, {result.decision}) | sklearn loop "
              f"{base:7.2f} s (extrapolated from {args.baseline_boot}) | "
              f"speed-up {base / ours:5.1f}x")


if __name__ == "__main__":
    main()
