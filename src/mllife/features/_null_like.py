"""``NullLikeToNaN``: disguised missing values (``"N/A"``, ``-999``) become real NaN.

The helpers the cleaning transformers and the audit share
(per-column factorisation, null-token matching, the decision "null token or
real level" and numeric-sentinel detection) live in :mod:`mllife._nulls` and
are re-exported here.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import (
    NULL_LIKE_TOKENS,
    is_numeric,
    is_string_like,
    normalize_strings,
)
from .._nulls import (
    SENTINEL_CANDIDATES,
    WORD_TOKENS,
    factorize,
    find_sentinels,
    null_like_mask,
    token_levels,
)
from .._nulls import token_form as _token_form
from ._base import FrameTransformer
from ._feature_common import replace_columns

__all__ = [
    "SENTINEL_CANDIDATES", "WORD_TOKENS", "NullLikeToNaN", "factorize", "find_sentinels",
    "null_like_mask", "token_levels",
]


# ---- NullLikeToNaN ---------------------------------------------------------------
class NullLikeToNaN(FrameTransformer):
    """Turn disguised missing values into real missing values.

    Text cells whose stripped, case-folded value is a null token (``"N/A"``,
    ``" null "``, ``"-"``, ``"?"``, ``""``...) become NaN in every text
    column, and numeric sentinels that stand apart from a column's
    distribution at ``fit`` (``-999`` ages, ``-1`` counts: see
    :func:`find_sentinels`) become NaN in that column.

    A word token that is a real level of its column at ``fit`` (an
    experimental arm ``"NONE"`` as frequent as the other arms, ``"unknown"``
    in most rows of a campaign outcome: see :func:`token_levels`, the rule
    :func:`mllife.audit` reports as info) is kept, in every spelling, in that
    column; ``keep_levels=False`` erases it too.

    Policy for unseen oddities at transform: any spelling of a null token is
    replaced, seen at fit or not, except the levels kept at fit; numeric
    sentinels are replaced only in the columns (and values) learned at fit,
    so a production batch cannot change what counts as missing.

    Parameters
    ----------
    tokens : collection of str, optional
        The null tokens, compared after strip/casefold; the library's list
        (``mllife._frame.NULL_LIKE_TOKENS``) by default.
    extra_tokens : collection of str, default=()
        Tokens added to ``tokens`` (``("not provided",)``).
    sentinels : "auto", None or sequence of float, default="auto"
        ``"auto"`` learns each numeric column's sentinels; a sequence replaces
        exactly those numbers in every numeric column; None replaces none.
    keep_levels : bool, default=True
        Keep the null tokens that are real levels of their column at fit.

    Attributes
    ----------
    null_tokens_ : dict
        Column -> the null spellings seen at fit and replaced, with their counts.
    kept_levels_ : dict
        Column -> the token spellings kept as levels at fit, with their counts.
    sentinels_ : dict
        Column -> the sentinel numbers replaced in it.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When fit on a DataFrame with string column names.

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.features import NullLikeToNaN
    >>> X = pd.DataFrame({"pay": ["card", "N/A", "n/a ", "bank", "card"],
    ...                   "age": [30, 41, -999, -999, 52]})
    >>> out = NullLikeToNaN().fit_transform(X)
    >>> out["pay"].isna().tolist(), out["age"].isna().tolist()
    ([False, True, True, False, False], [False, False, True, True, False])
    >>> arms = pd.DataFrame({"arm": ["A", "B", "NONE", "N/A"] * 10})
    >>> fitted = NullLikeToNaN().fit(arms)
    >>> fitted.kept_levels_, fitted.null_tokens_
    ({'arm': {'NONE': 10}}, {'arm': {'N/A': 10}})
    """

    def __init__(
        self,
        tokens: Iterable[str] | None = None,
        extra_tokens: Iterable[str] = (),
        sentinels: str | Sequence[float] | None = "auto",
        *,
        keep_levels: bool = True,
    ) -> None:
        self.tokens = tokens
        self.extra_tokens = extra_tokens
        self.sentinels = sentinels
        self.keep_levels = keep_levels

    _text_input = True

    def _token_set(self) -> frozenset[str]:
        base = NULL_LIKE_TOKENS if self.tokens is None else self.tokens
        if isinstance(base, str) or isinstance(self.extra_tokens, str):
            raise InputError("tokens and extra_tokens must be collections of strings, not one string",
                             expected='e.g. ("n/a", "missing")')
        return frozenset(normalize_strings(pd.Series([*base, *self.extra_tokens], dtype=object)).dropna())

    def _check_params(self) -> None:
        self._token_set()
        if not (self.sentinels is None or (isinstance(self.sentinels, str) and self.sentinels == "auto")
                or not isinstance(self.sentinels, str)):
            raise InputError(f"sentinels={self.sentinels!r}", expected='"auto", None or a list of numbers')

    def _fit(self, frame: pd.DataFrame, y: Any = None) -> None:
        tokens = self._token_set()
        self.null_tokens_: dict[Hashable, dict[str, int]] = {}
        self.kept_levels_: dict[Hashable, dict[str, int]] = {}
        self.sentinels_: dict[Hashable, list[float]] = {}
        for col in frame.columns:
            s = frame[col]
            if is_numeric(s):
                self._learn_sentinels(col, s)
            elif is_string_like(s):
                codes, uniques, _ = factorize(s)
                hit = null_like_mask(uniques, tokens)
                if not hit.any():
                    continue
                counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
                levels = token_levels(uniques, counts, hit) if self.keep_levels else np.zeros_like(hit)
                for store, mask in ((self.null_tokens_, hit & ~levels), (self.kept_levels_, levels)):
                    if mask.any():
                        store[col] = {str(u): int(c) for u, c in
                                      zip(uniques[mask], counts[mask], strict=True)}

    def _learn_sentinels(self, col: Hashable, s: pd.Series) -> None:
        if self.sentinels is None:
            return
        if not isinstance(self.sentinels, str):
            values = [float(v) for v in self.sentinels]
            if s.isin(values).any():
                self.sentinels_[col] = sorted(values)
            return
        values = s.to_numpy(dtype=float, na_value=np.nan)
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        found = find_sentinels(uniques, counts)
        if found:
            self.sentinels_[col] = found

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        tokens = self._token_set()
        new: dict[Hashable, pd.Series] = {}
        for col in frame.columns:
            s = frame[col]
            if col in self.sentinels_ and is_numeric(s):
                mask = s.isin(self.sentinels_[col])
                if mask.any():
                    new[col] = s.astype(float).mask(mask)
            elif is_string_like(s):
                codes, uniques, _ = factorize(s)
                hit = null_like_mask(uniques, tokens)
                kept = getattr(self, "kept_levels_", {}).get(col)
                if kept and hit.any():
                    forms = {_token_form(t) for t in kept}
                    values = uniques.to_numpy(dtype=object, na_value=None)
                    for i in np.flatnonzero(hit):  # distinct null spellings only
                        hit[i] = _token_form(values[i]) not in forms
                if hit.any():
                    mask = np.zeros(len(s), dtype=bool)
                    mask[codes >= 0] = hit[codes[codes >= 0]]
                    new[col] = s.mask(mask)
        return replace_columns(frame, new)
