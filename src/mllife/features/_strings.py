"""``StringNormalizer``: whitespace and case variants of one category become one spelling."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from .._frame import is_string_like, normalize_strings
from .._nulls import factorize, strip_spaces
from ._base import FrameTransformer
from ._feature_common import replace_columns

__all__ = ["StringNormalizer", "strip_spaces"]


class StringNormalizer(FrameTransformer):
    """Merge the whitespace and case variants of each category into one spelling.

    At ``fit``, each text column's values are grouped by their normalised
    form (stripped, inner whitespace collapsed, case-folded: ``" North"``,
    ``"NORTH"`` and ``"north"`` are one group) and each group's *canonical*
    spelling is its most frequent stripped spelling (ties: the lower-case
    one, else the first in sorted order). At ``transform`` every value of a known group becomes its
    canonical spelling.

    Categorical columns are normalised too (the audit reports their
    variants): the output stays categorical, with the categories that remain.

    Policy for values not seen at fit: they are stripped and their inner
    whitespace collapsed, case kept, so an unseen category stays distinct
    and recognisable (a later rare-category step can group it).

    Parameters
    ----------
    canonical : bool, default=True
        Map each group to its most frequent spelling; with False every value
        becomes its normalised (case-folded) form.

    Attributes
    ----------
    canonical_ : dict
        Text column -> {normalised form: canonical spelling}.
    n_variants_ : dict
        Text column -> number of spellings at fit that were not canonical.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.features import StringNormalizer
    >>> X = pd.DataFrame({"region": ["north", "north", " North", "NORTH", "south"]})
    >>> StringNormalizer().fit_transform(X)["region"].tolist()
    ['north', 'north', 'north', 'north', 'south']
    """

    def __init__(self, canonical: bool = True) -> None:
        self.canonical = canonical

    _text_input = True

    def _fit(self, frame: pd.DataFrame, y: Any = None) -> None:
        self.canonical_: dict[Hashable, dict[str, str]] = {}
        self.n_variants_: dict[Hashable, int] = {}
        for col in frame.columns:
            s = frame[col]
            if not is_string_like(s):
                continue
            if isinstance(s.dtype, pd.CategoricalDtype):
                s = s.astype(object)  # its categories are normalised like text
            codes, uniques, unhashable = factorize(s)
            if unhashable:
                continue
            text = _text_mask(uniques)
            counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
            table = pd.DataFrame({
                "key": normalize_strings(uniques.where(text)).to_numpy(dtype=object),
                "spelling": strip_spaces(uniques.where(text)).to_numpy(dtype=object),
                "raw": uniques.where(text).to_numpy(dtype=object),
                "n": counts,
            })[text]
            if table.empty:
                self.canonical_[col] = {}
                self.n_variants_[col] = 0
                continue
            by_spelling = table.groupby(["key", "spelling"], sort=True)["n"].sum().reset_index()
            by_spelling["other"] = by_spelling["spelling"] != by_spelling["key"]
            by_spelling = by_spelling.sort_values(["key", "n", "other", "spelling"],
                                                  ascending=[True, False, True, True], kind="stable")
            best = by_spelling.drop_duplicates("key")
            self.canonical_[col] = dict(zip(best["key"], best["spelling"], strict=True))
            keys = table["key"].map(self.canonical_[col])
            self.n_variants_[col] = int((keys != table["raw"]).sum())

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        new: dict[Hashable, pd.Series] = {}
        for col, mapping in self.canonical_.items():
            s = frame[col]
            if not is_string_like(s):
                continue
            categorical = isinstance(s.dtype, pd.CategoricalDtype)
            if categorical:
                s = s.astype(object)
            codes, uniques, unhashable = factorize(s)
            if unhashable or len(uniques) == 0:
                continue
            text = _text_mask(uniques)
            keys = normalize_strings(uniques.where(text))
            if self.canonical:
                mapped = keys.map(mapping).to_numpy(dtype=object)
                stripped = strip_spaces(uniques.where(text)).to_numpy(dtype=object)
                fixed_values = np.where(pd.isna(mapped), stripped, mapped)
            else:
                fixed_values = keys.to_numpy(dtype=object)
            fixed_values = np.where(text, fixed_values, uniques.to_numpy(dtype=object))
            out = np.full(len(s), None, dtype=object)
            present = codes >= 0
            out[present] = fixed_values[codes[present]]
            result = pd.Series(out, index=s.index, name=s.name, dtype=object)
            if categorical:
                result = result.astype("category")
            elif not pd.api.types.is_object_dtype(s.dtype) and text.all():
                result = result.astype(s.dtype)
            new[col] = result
        return replace_columns(frame, new)


def _text_mask(uniques: pd.Series) -> np.ndarray:
    if not pd.api.types.is_object_dtype(uniques.dtype):
        return np.ones(len(uniques), dtype=bool)
    return np.fromiter((isinstance(v, str) for v in uniques.to_numpy(dtype=object)), bool, len(uniques))
