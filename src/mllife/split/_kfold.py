"""``DuplicateAwareKFold``: k-fold where identical rows always share a fold."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from .._errors import InputError
from .._frame import as_frame, hash_rows
from ._keys import codes_of
from ._params import Splitter


class DuplicateAwareKFold(Splitter):
    """K-fold cross-validation that keeps identical rows of ``X`` in one fold.

    ``KFold`` on data with duplicated rows scores the model on rows whose
    twins it trained on. Here rows are hashed (all columns of ``X``, NaN equal
    to NaN), identical rows form one unit, and units are laid end to end (in
    order of first appearance, or shuffled) and cut into ``n_splits`` folds of
    about equal row counts.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds (>= 2).
    shuffle : bool, default=False
        Shuffle the units before cutting.
    random_state : int, RandomState or None, default=None
        Seed of the shuffle.

    Raises
    ------
    InputError
        From :meth:`split`: fewer distinct rows than folds, or one set of
        identical rows so large that a fold would be empty.

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.split import DuplicateAwareKFold
    >>> X = pd.DataFrame({"a": [1, 2, 1, 3, 4, 2], "b": ["x", "y", "x", "z", "w", "y"]})
    >>> [test.tolist() for _, test in DuplicateAwareKFold(n_splits=3).split(X)]
    [[0, 2], [1, 5], [3, 4]]
    """

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False,
                 random_state: int | np.random.RandomState | None = None) -> None:
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def _folds(self, X: Any, groups: Any, k: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        frame = as_frame(X)
        n = len(frame)
        units = codes_of(hash_rows(frame))
        n_units = int(units.max()) + 1 if n else 0
        if n_units < k:
            raise InputError(f"{n_units} distinct rows cannot fill {k} folds", n_rows=n,
                             expected=f"at least {k} distinct rows")
        order = np.arange(n_units)
        if self.shuffle:
            order = check_random_state(self.random_state).permutation(n_units)
        size = np.bincount(units, minlength=n_units)[order]
        middle = np.cumsum(size) - size / 2
        fold_of_unit = np.empty(n_units, dtype=np.int64)
        fold_of_unit[order] = np.minimum((middle / n * k).astype(np.int64), k - 1)
        fold = fold_of_unit[units]
        counts = np.bincount(fold, minlength=k)
        if (counts == 0).any():
            raise InputError(
                f"a set of {int(size.max())} identical rows is too large for {k} folds: "
                f"{int((counts == 0).sum())} fold(s) would be empty",
                n_rows=n, expected="fewer folds, or drop the duplicates",
            )
        for i in range(k):
            yield np.flatnonzero(fold != i), np.flatnonzero(fold == i)
