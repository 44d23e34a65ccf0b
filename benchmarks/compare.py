"""Overhead of ``compare_models`` over a bare ``cross_validate`` loop on the same models.

Run: ``python benchmarks/compare.py [--rows 20000] [--repeats 3]``. Both sides fit the
same models (a logistic-regression pipeline, a decision tree, gradient boosting and the
prior baseline) on the same 5 stratified folds with the same four default binary scores;
``compare_models`` also measures predict latency and pickled size and builds its report.
Prints the median and best time of each side over ``--repeats`` alternating runs and
their ratios (target: at most 1.15x).
"""

from __future__ import annotations

import argparse
import statistics
import time

from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.tree import DecisionTreeClassifier
from threadpoolctl import threadpool_limits

import mllife
from mllife.experiments import compare_models

SCORES = ["roc_auc", "average_precision", "f1", "accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="OpenMP/BLAS threads per fit")
    args = parser.parse_args()

    data = mllife.make_churn(args.rows, random_state=1, defects=False)
    X = data.frame.drop(columns=["churned", "customer_id", "signup_date", "last_event_at"])
    y = data.frame["churned"]
    pre = mllife.make_preprocessor(X)
    models = {
        "logistic": make_pipeline(pre, LogisticRegression(max_iter=1_000)),
        "tree": make_pipeline(pre, DecisionTreeClassifier(max_depth=6, random_state=0)),
        "boosting": make_pipeline(pre, HistGradientBoostingClassifier(max_iter=50, random_state=0)),
    }
    cv = StratifiedKFold(5)

    def bare() -> None:
        for model in [*models.values(), DummyClassifier(strategy="prior")]:
            cross_validate(model, X, y, cv=cv, scoring=SCORES)

    def ours() -> None:
        compare_models(models, X, y, cv=cv)

    bare_times, our_times = [], []
    with threadpool_limits(limits=args.threads):
        for _ in range(args.repeats):
            for fn, times in ((bare, bare_times), (ours, our_times)):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
    b, m = statistics.median(bare_times), statistics.median(our_times)
    print(f"rows={args.rows}, models={len(models)} + baseline, folds=5, repeats={args.repeats}")
    print(f"cross_validate loop : {b:8.3f} s median, {min(bare_times):8.3f} s best "
          f"(runs {', '.join(f'{t:.2f}' for t in bare_times)})")
    print(f"compare_models      : {m:8.3f} s median, {min(our_times):8.3f} s best "
          f"(runs {', '.join(f'{t:.2f}' for t in our_times)})")
    print(f"ratio               : {m / b:8.3f}x median, {min(our_times) / min(bare_times):.3f}x best "
          "(target <= 1.15x; on a busy machine the best-of ratio is the fairer one)")


if __name__ == "__main__":
    main()
