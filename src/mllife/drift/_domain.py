"""The multivariate check: can a classifier tell reference rows from current rows?

A domain classifier is trained to separate the two samples, with k-fold
cross-validation: each fold's rows are scored by a model that did not see
them. A fold's ROC-AUC is the Mann–Whitney U statistic of its current rows'
scores against its reference rows', divided by ``n_cur * n_ref``; given the
model (trained on other rows), those held-out scores are independent draws,
so the one-sided Mann–Whitney p-value tests the fold's AUC exactly against
its null (AUC 0.5: one distribution). The folds' p-values are combined with
Bonferroni (``k * min p``), valid however they depend on each other.

Why not one test on all held-out scores pooled: the fold models are trained
on each other's test rows, which makes the pooled scores dependent, and at
level 5% that test rejected 11–14% of random halves of one table (measured
on ``make_churn`` at 60 to 300 rows per side).

The data set is drifted only when the mean AUC reaches the effect threshold
*and* the p-value is below ``alpha``: between two random halves of one table
of 60 to 100 rows per side, an AUC of 0.55 or more happens 20–25% of the time.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._random import as_seed
from . import _kernels as k
from ._reference import family_of

#: Rows sampled from each side for the domain classifier.
MAX_ROWS = 20_000


def _encode(ref: pd.Series, cur: pd.Series) -> np.ndarray:
    both = pd.concat([ref, cur], ignore_index=True)
    if family_of(ref) != "categorical" and family_of(cur) != "categorical":
        values = np.array(k.to_float(both), dtype=np.float64, copy=True)
        values[~np.isfinite(values)] = np.nan
        return values
    # Sorted codes: codes in order of first appearance would number the reference's
    # values first, so a column of mostly unique text would separate the samples by itself.
    codes, _ = pd.factorize(both.astype(object).map(str, na_action="ignore"), sort=True,
                            use_na_sentinel=True)
    out = np.asarray(codes, dtype=np.float64)
    out[out < 0] = np.nan
    return out


def domain_classifier(reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[Hashable], *,
                      threshold: float = 0.55, alpha: float = 0.05, random_state: int | None = None,
                      n_splits: int = 3) -> dict[str, Any]:
    """Cross-validated ROC-AUC of a HistGradientBoosting model separating the samples, and its p-value.

    AUC 0.5: the joint distributions look alike. The current data is drifted
    as a whole (even when every single column looks stable, e.g. a changed
    correlation) when the mean held-out AUC is at or above ``threshold`` and
    ``p_value < alpha``: the folds' one-sided Mann–Whitney U tests (current
    scores above reference scores), Bonferroni-combined. ``random_state``
    seeds the row sampling, the folds and the model (``None`` is the seed 0).
    """
    from scipy.stats import mannwhitneyu
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    seed = as_seed(random_state)
    rng = np.random.default_rng(seed)
    ref_idx = np.sort(rng.permutation(len(reference))[:MAX_ROWS])
    cur_idx = np.sort(rng.permutation(len(current))[:MAX_ROWS])
    result: dict[str, Any] = {"auc": None, "auc_std": None, "p_value": None, "threshold": float(threshold),
                              "alpha": float(alpha), "drifted": False,
                              "n_reference": int(ref_idx.size), "n_current": int(cur_idx.size),
                              "columns": [str(c) for c in columns], "status": "ok"}
    if not columns or min(ref_idx.size, cur_idx.size) < n_splits * 2:
        result["status"] = "too few rows or columns for a domain classifier"
        return result
    features = np.column_stack([
        _encode(reference[c].iloc[ref_idx].reset_index(drop=True), current[c].iloc[cur_idx].reset_index(drop=True))
        for c in columns
    ])
    target = np.r_[np.zeros(ref_idx.size, dtype=int), np.ones(cur_idx.size, dtype=int)]
    model = HistGradientBoostingClassifier(max_iter=60, random_state=seed)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    auc, p_values = [], []
    # One OpenMP thread: small models, and oversubscribed threads on a busy machine cost 20x.
    with threadpool_limits(limits=1, user_api="openmp"):
        for train, test in folds.split(features, target):  # one model per fold, not per row
            scores = model.fit(features[train], target[train]).predict_proba(features[test])[:, 1]
            cur, ref = scores[target[test] == 1], scores[target[test] == 0]
            u = mannwhitneyu(cur, ref, alternative="greater")
            auc.append(float(u.statistic) / (cur.size * ref.size))
            p_values.append(float(u.pvalue))
    result["auc"] = float(np.mean(auc))
    result["auc_std"] = float(np.std(auc))
    # Bonferroni over the folds: valid however the folds' tests depend on each other.
    result["p_value"] = min(1.0, n_splits * min(p_values))
    result["drifted"] = bool(result["auc"] >= threshold and result["p_value"] < alpha)
    return result
