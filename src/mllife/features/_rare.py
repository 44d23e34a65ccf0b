"""``RareCategoryGrouper``: rare and unseen categories share one bucket."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ._base import FrameTransformer
from ._feature_common import select_columns

__all__ = ["RareCategoryGrouper"]


class RareCategoryGrouper(FrameTransformer):
    """Replace rare categories, and categories never seen at ``fit``, by one bucket.

    A category is kept when it is frequent enough in the data given to
    ``fit`` (and, with ``max_categories``, among the most frequent); every
    other value, including values first met at ``transform``, becomes
    ``rare_value``. Production's new categories therefore never break a
    downstream encoder.

    Missing values (None, NaN, NaT, pd.NA) stay missing: missingness is not a
    category here, so a downstream imputer or encoder decides what it means.
    Frequencies are shares of the non-missing values.

    Parameters
    ----------
    min_frequency : float or int, default=0.01
        A float in (0, 1) is the smallest share of non-missing values a kept
        category must reach; an int >= 1 the smallest count.
    max_categories : int, default=None
        Keep at most this many categories (the most frequent; ties broken by
        the category's sorted order as text).
    rare_value : object, default="__rare__"
        The bucket. Use a number (e.g. -1) for numeric codes.
    columns : str or sequence of str, default=None
        Columns to group; every column by default. Other columns pass through.

    Attributes
    ----------
    categories_ : dict of str to ndarray
        The kept categories of each grouped column, most frequent first.
    columns_ : list of str
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.

    Raises
    ------
    InputError
        For a bad ``min_frequency`` / ``max_categories``, unknown columns,
        or columns missing at transform.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"city": ["Paris"] * 5 + ["Lyon"] * 4 + ["Nice", None]})
    >>> grouper = RareCategoryGrouper(min_frequency=2).fit(X)
    >>> grouper.categories_["city"].tolist()
    ['Paris', 'Lyon']
    >>> out = grouper.transform(pd.DataFrame({"city": ["Lyon", "Nice", "Brest", None]}))["city"]
    >>> out.tolist()[:3], bool(out.isna().iloc[3])  # missing stays missing
    (['Lyon', '__rare__', '__rare__'], True)
    """

    def __init__(
        self,
        min_frequency: float | int = 0.01,
        *,
        max_categories: int | None = None,
        rare_value: Any = "__rare__",
        columns: str | Sequence[str] | None = None,
    ) -> None:
        self.min_frequency = min_frequency
        self.max_categories = max_categories
        self.rare_value = rare_value
        self.columns = columns

    _text_input = True

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = []
        return tags

    def _threshold(self, n: int) -> float:
        m = self.min_frequency
        if isinstance(m, bool) or not isinstance(m, Real):
            raise InputError(f"min_frequency={m!r}", expected="a share in (0, 1) or a count >= 1")
        if isinstance(m, Integral):
            if m < 1:
                raise InputError(f"min_frequency={m!r}", expected="a share in (0, 1) or a count >= 1")
            return float(m)
        if not 0.0 <= float(m) < 1.0:
            raise InputError(f"min_frequency={m!r}", expected="a share in [0, 1) or an int count >= 1")
        return float(m) * n

    def _check_params(self) -> None:
        self._threshold(1)  # min_frequency
        mc = self.max_categories
        if mc is not None and (isinstance(mc, bool) or not isinstance(mc, Integral) or mc < 1):
            raise InputError(f"max_categories={mc!r}", expected="None or an int >= 1")

    def _fit(self, frame: pd.DataFrame, y: Any = None) -> None:
        """Learn the kept categories of each column."""
        mc = self.max_categories
        self.columns_ = select_columns(self.columns, list(frame.columns), owner="RareCategoryGrouper")
        self.categories_: dict[str, np.ndarray] = {}
        for col in self.columns_:
            counts = frame[col].value_counts(dropna=True, sort=False)
            threshold = self._threshold(int(counts.sum()))
            kept = counts[counts >= threshold]
            # Most frequent first; ties in a stable, type-independent order.
            order = pd.DataFrame({"n": kept.to_numpy(), "key": kept.index.astype(str)})
            order = order.sort_values(["n", "key"], ascending=[False, True], kind="stable")
            kept_index = kept.index[order.index.to_numpy()]
            if mc is not None:
                kept_index = kept_index[:mc]
            self.categories_[col] = np.asarray(kept_index, dtype=object)

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Replace rare and unseen categories by ``rare_value``; missing stays missing."""
        out = {}
        for col in frame.columns:
            s = frame[col]
            if col in self.categories_:
                keep = s.isin(self.categories_[col]) | s.isna()
                if not keep.all():
                    if isinstance(s.dtype, pd.CategoricalDtype):
                        s = s.astype(object)
                    elif not isinstance(self.rare_value, str) and pd.api.types.is_numeric_dtype(s.dtype):
                        s = s.astype(np.result_type(s.dtype, np.asarray(self.rare_value).dtype))
                    elif isinstance(self.rare_value, str) and not pd.api.types.is_string_dtype(s.dtype):
                        s = s.astype(object)
                    s = s.where(keep, self.rare_value)
            out[col] = s
        return pd.DataFrame(out, index=frame.index)

    def _step_label(self) -> str:
        return f"RareCategoryGrouper(min_frequency={self.min_frequency}, max_categories={self.max_categories})"
