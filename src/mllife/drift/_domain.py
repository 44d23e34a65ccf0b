"""The multivariate check: can a classifier tell reference rows from current rows?"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from . import _kernels as k
from ._profile import family_of

#: Rows sampled from each side for the domain classifier.
MAX_ROWS = 20_000


def _encode(ref: pd.Series, cur: pd.Series) -> np.ndarray:
    both = pd.concat([ref, cur], ignore_index=True)
    if family_of(ref) != "categorical" and family_of(cur) != "categorical":
        values = np.array(k.to_float(both), dtype=np.float64, copy=True)
        values[~np.isfinite(values)] = np.nan
        return values
    codes, _ = pd.factorize(both.astype(object).map(str, na_action="ignore"), use_na_sentinel=True)
    out = np.asarray(codes, dtype=np.float64)
    out[out < 0] = np.nan
    return out


def domain_classifier(reference: pd.DataFrame, current: pd.DataFrame, columns: Sequence[Hashable], *,
                      threshold: float = 0.55, random_state: int | None = 0, n_splits: int = 3) -> dict[str, Any]:
    """Cross-validated ROC-AUC of a HistGradientBoosting model separating the samples.

    AUC 0.5: the joint distributions look alike; at or above ``threshold``
    the current data is drifted as a whole (even when every single column
    looks stable, e.g. a changed correlation).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(random_state)
    ref_idx = np.sort(rng.permutation(len(reference))[:MAX_ROWS])
    cur_idx = np.sort(rng.permutation(len(current))[:MAX_ROWS])
    result: dict[str, Any] = {"auc": None, "auc_std": None, "threshold": float(threshold), "drifted": False,
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
    model = HistGradientBoostingClassifier(max_iter=60, random_state=random_state)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    # One OpenMP thread: small models, and oversubscribed threads on a busy machine cost 20x.
    with threadpool_limits(limits=1, user_api="openmp"):
        scores = cross_val_score(model, features, target, cv=folds, scoring="roc_auc")
    result["auc"] = float(np.mean(scores))
    result["auc_std"] = float(np.std(scores))
    result["drifted"] = bool(result["auc"] >= threshold)
    return result
