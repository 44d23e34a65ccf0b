"""``NullLikeToNaN``: disguised missing values (``"N/A"``, ``-999``) become real NaN.

Also home of the small pieces the cleaning transformers and the audit share:
the table-transformer base class (pandas in, pandas out, numpy accepted),
per-column factorisation that survives unhashable cells, null-token matching,
the decision "null token or real level" (:func:`token_levels`, so the audit's
info and what the cleaners keep never disagree) and numeric-sentinel detection.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from .._compat import ensure_fitted, validate_data
from .._errors import InputError
from .._frame import (
    NULL_LIKE_TOKENS,
    generated_names,
    is_numeric,
    is_string_like,
    normalize_strings,
)

__all__ = [
    "SENTINEL_CANDIDATES", "WORD_TOKENS", "NullLikeToNaN", "factorize", "find_sentinels",
    "null_like_mask", "token_levels",
]

#: Numbers commonly written for "missing"; flagged only when they stand apart.
SENTINEL_CANDIDATES: tuple[float, ...] = (
    -1.0, -9.0, -99.0, -999.0, -9999.0, -99999.0, -999999.0,
    99.0, 999.0, 9999.0, 99999.0, 999999.0, 9999999.0,
)


# ---- shared helpers ------------------------------------------------------------
def factorize(s: pd.Series) -> tuple[np.ndarray, pd.Series, bool]:
    """``codes, uniques, unhashable`` for one column; missing values get code -1.

    Cells that cannot be hashed (dicts, lists) are factorised by their
    ``repr``; ``unhashable`` then says so.
    """
    try:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        return codes, pd.Series(uniques, dtype=s.dtype if is_string_like(s) else None), False
    except TypeError:
        present = s.notna().to_numpy(dtype=bool)
        text = pd.Series(np.where(present, s.astype(str).to_numpy(dtype=object), None), dtype=object)
        codes, uniques = pd.factorize(text, use_na_sentinel=True)
        return codes, pd.Series(uniques, dtype=object), True


def null_like_mask(uniques: pd.Series, tokens: Iterable[str] = NULL_LIKE_TOKENS) -> np.ndarray:
    """True for each value whose stripped, case-folded text is a null token.

    Only string values count: the number ``0`` is never a null token. Runs
    over distinct values (a column's ``uniques``), never over rows.
    """
    token_set = frozenset(tokens)
    longest = max((len(t) for t in token_set), default=0) + 8  # room for padding

    heads = frozenset(t[0] for t in token_set if t)

    def is_token(v: object) -> bool:
        if not isinstance(v, str) or len(v) > longest:
            return False
        head = v[:1]
        if head and not head.isspace() and head.casefold()[:1] not in heads:
            return False  # cheap exit for most values: no token starts this way
        return " ".join(v.split()).casefold() in token_set

    values = uniques.to_numpy(dtype=object, na_value=None)
    return np.fromiter((is_token(v) for v in values), dtype=bool, count=len(values))


#: Null tokens that are also plain words: in a column they may name a real level (an
#: experimental arm "NONE", a product tier "none", a film called "Missing"). Symbols and
#: programming nulls ("N/A", "-", "?", "", "null", "NaN") are always missing values.
WORD_TOKENS: frozenset[str] = frozenset({"unknown", "none", "missing", "undefined", "not available", "nil"})
#: A column with at most this many distinct values has "a handful" of levels.
_FEW_LEVELS = 20
#: In such a column a word token is a level from this many rows...
_MIN_LEVEL_ROWS = 5
#: ...and this share of the median row count of the column's other values.
_LEVEL_SHARE = 0.5
#: In a column of near-unique values (names, titles: median count at most this), a word
#: token seen no more often is one more value: a placeholder for missing repeats.
_NEAR_UNIQUE = 2


def _token_form(value: object) -> str:
    """The form null tokens are compared in: stripped, inner whitespace collapsed, case-folded."""
    return " ".join(str(value).split()).casefold()


def _wordy(values: pd.Series) -> bool:
    """Most values are words (names, titles), not numbers, codes or dates."""
    text = values.iloc[:1000].astype("string")
    letters = float(text.str.contains(r"[^\W\d_]", regex=True).fillna(False).mean())
    digits = float(text.str.contains(r"\d", regex=True).fillna(False).mean())
    return letters >= 0.9 and digits < 0.5


def token_levels(uniques: pd.Series, counts: np.ndarray, tokens: np.ndarray | None = None) -> np.ndarray:
    """Per distinct value: a null token that is a real level of the column, not a missing value.

    The one decision the audit (``disguised_nulls`` reports such a token as
    info) and :class:`NullLikeToNaN` / :class:`Cleaner` (which keep it) share.
    Only word tokens (:data:`WORD_TOKENS`: ``"none"``, ``"unknown"``,
    ``"missing"``...) can be levels, each judged with all its spellings
    (``"NONE"``, ``" none"``). One is a level when

    - it is the column's only value besides other null tokens (erasing it
      would empty the column); or
    - the column has at most 20 distinct values, and the token holds at
      least 5 rows and at least half the median row count of the other values
      (an arm ``"NONE"`` next to ``"A"`` and ``"B"``; ``"unknown"`` in 80% of
      a campaign outcome column); a token far rarer than the levels (5% when
      they hold 25-40% each) is a missing value; or
    - the other values are near-unique words (names, titles: median count
      at most 2) and the token appears no more often (a film called
      ``"Missing"``).

    Parameters
    ----------
    uniques : pandas.Series
        A column's distinct values.
    counts : array of int
        Rows holding each value.
    tokens : array of bool, optional
        Which values are null tokens (:func:`null_like_mask` by default).

    Returns
    -------
    ndarray of bool

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> arms = pd.Series(["A", "B", "NONE"])
    >>> token_levels(arms, np.array([340, 330, 330])).tolist()
    [False, False, True]
    >>> token_levels(pd.Series(["card", "bank", "none"]), np.array([600, 370, 30])).tolist()
    [False, False, False]
    """
    hit = null_like_mask(uniques) if tokens is None else np.asarray(tokens, dtype=bool)
    out = np.zeros(len(uniques), dtype=bool)
    if not hit.any():
        return out
    counts = np.asarray(counts, dtype=np.int64)
    values = uniques.to_numpy(dtype=object, na_value=None)
    words: dict[str, list[int]] = {}
    for i in np.flatnonzero(hit):  # distinct null spellings only: a handful
        form = _token_form(values[i])
        if form in WORD_TOKENS:
            words.setdefault(form, []).append(int(i))
    if not words:
        return out
    # Next to numbers stored as text ("0", "1", "2", "unknown"), a word that says the value
    # is unknown is a missing value whatever its share; only "none" (no children, no
    # tickets: perhaps a zero) may stay a level there, never silently made missing.
    other_values = pd.Series(values[~hit], dtype=object)
    if len(other_values) and pd.to_numeric(other_values.astype(str).str.strip(),
                                           errors="coerce").notna().mean() >= 0.9:
        words = {form: members for form, members in words.items() if form == "none"}
        if not words:
            return out
    others = counts[~hit]
    n_levels = len(others) + len({_token_form(values[i]) for i in np.flatnonzero(hit)})
    median = float(np.median(others)) if len(others) else 0.0
    for members in words.values():
        n = int(counts[members].sum())
        if len(others) == 0:
            level = True
        elif n_levels <= _FEW_LEVELS:
            level = n >= _MIN_LEVEL_ROWS and n >= _LEVEL_SHARE * median
        else:
            level = median <= _NEAR_UNIQUE and n <= _NEAR_UNIQUE and _wordy(uniques[~hit])
        out[members] = level
    return out


def _weighted_quantiles(values: np.ndarray, counts: np.ndarray, qs: Sequence[float]) -> np.ndarray:
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(counts[order])
    targets = np.asarray(qs) * (cum[-1] - 1)
    return values[order][np.searchsorted(cum - 1, targets, side="left").clip(0, len(order) - 1)]


def find_sentinels(uniques: np.ndarray, counts: np.ndarray, *, min_count: int = 2) -> list[float]:
    """The sentinel numbers (``-999``, ``-1``, ``9999``...) that stand apart.

    A candidate from :data:`SENTINEL_CANDIDATES` is a sentinel when it occurs
    at least ``min_count`` times, holds under half of the values, the other
    values have at least three distinct values, and it lies outside their
    range: a negative candidate below non-negative values, or any candidate
    beyond the others' range by at least half their interquartile range.
    ``-1`` among legitimate negative values is therefore never flagged.

    Parameters
    ----------
    uniques : array of float
        Distinct finite values of a column.
    counts : array of int
        Rows holding each value.

    Examples
    --------
    >>> import numpy as np
    >>> find_sentinels(np.array([20., 30., 40., -999.]), np.array([5, 5, 5, 2]))
    [-999.0]
    >>> find_sentinels(np.array([-3., -2., -1., 0., 1.]), np.array([5, 5, 5, 5, 5]))
    []
    """
    values = np.asarray(uniques, dtype=float)
    counts = np.asarray(counts, dtype=np.int64)
    candidate = np.isin(values, SENTINEL_CANDIDATES)
    hot = candidate & (counts >= min_count)
    if not hot.any():
        return []
    rest = ~candidate & np.isfinite(values)
    if rest.sum() < 3:
        return []
    total = counts.sum()
    lo, hi = values[rest].min(), values[rest].max()
    q25, q75 = _weighted_quantiles(values[rest], counts[rest], (0.25, 0.75))
    spread = (q75 - q25) or (hi - lo)
    found = []
    for v, c in zip(values[hot], counts[hot], strict=True):
        if c * 2 >= total:
            continue
        if (v < 0 <= lo) or (v < lo and lo - v >= 0.5 * spread) or (v > hi and v - hi >= 0.5 * spread):
            found.append(float(v))
    return sorted(found)


# ---- the table-transformer base ------------------------------------------------
class _TableTransformer(TransformerMixin, BaseEstimator):
    """Column-wise transformer base: validation, numpy support, feature names.

    Subclasses implement ``_fit_frame(frame)`` and ``_transform_frame(frame)``
    on DataFrames; the base owns validation and the output container
    (DataFrame in, DataFrame out; a numpy array in gives an array out).
    """

    def _frame(self, X: Any, *, reset: bool) -> tuple[pd.DataFrame, bool]:
        if isinstance(X, pd.DataFrame):
            if not X.columns.is_unique:
                dup = X.columns[X.columns.duplicated()].unique().tolist()
                raise InputError(f"duplicate column names {dup}", column=dup[0], expected="unique column names")
            validate_data(self, X, reset=reset, skip_check_array=True)
            if X.shape[0] == 0 or X.shape[1] == 0:
                raise InputError(f"X has shape {X.shape}", expected="at least one row and one column")
            return X, True
        arr = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite=False)
        names = getattr(self, "feature_names_in_", None)
        columns = list(names) if names is not None else generated_names(arr.shape[1])
        return pd.DataFrame(arr, columns=columns), False

    def fit(self, X: Any, y: Any = None) -> _TableTransformer:
        """Learn from ``X``; ``y`` is ignored."""
        frame, _ = self._frame(X, reset=True)
        self._fit_frame(frame)
        return self

    def transform(self, X: Any) -> Any:
        """Apply what was learned at ``fit``; a DataFrame in gives a DataFrame out."""
        ensure_fitted(self, "n_features_in_")
        frame, was_frame = self._frame(X, reset=False)
        out = self._transform_frame(frame)
        if was_frame:
            return out
        return out.to_numpy()

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The output column names: the input names, unchanged."""
        ensure_fitted(self, "n_features_in_")
        names = getattr(self, "feature_names_in_", None)
        if input_features is None:
            base = names if names is not None else generated_names(self.n_features_in_)
            return np.asarray(base, dtype=object)
        given = np.asarray(input_features, dtype=object)
        if len(given) != self.n_features_in_ or (names is not None and not np.array_equal(given, names)):
            raise InputError(
                "input_features do not match the columns seen at fit",
                expected=f"{self.n_features_in_} names equal to feature_names_in_",
            )
        return given

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        return tags

    def _fit_frame(self, frame: pd.DataFrame) -> None:
        raise NotImplementedError

    def _transform_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
        raise NotImplementedError


def _replace_columns(frame: pd.DataFrame, new: dict[Hashable, pd.Series]) -> pd.DataFrame:
    """A new frame with some columns replaced; ``frame`` is not modified."""
    if not new:
        return frame.copy()
    out = frame.copy(deep=False)
    for col, values in new.items():
        out[col] = values
    return out


# ---- NullLikeToNaN ---------------------------------------------------------------
class NullLikeToNaN(_TableTransformer):
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

    def _token_set(self) -> frozenset[str]:
        base = NULL_LIKE_TOKENS if self.tokens is None else self.tokens
        if isinstance(base, str) or isinstance(self.extra_tokens, str):
            raise InputError("tokens and extra_tokens must be collections of strings, not one string",
                             expected='e.g. ("n/a", "missing")')
        return frozenset(normalize_strings(pd.Series([*base, *self.extra_tokens], dtype=object)).dropna())

    def _fit_frame(self, frame: pd.DataFrame) -> None:
        tokens = self._token_set()
        if not (self.sentinels is None or (isinstance(self.sentinels, str) and self.sentinels == "auto")
                or not isinstance(self.sentinels, str)):
            raise InputError(f"sentinels={self.sentinels!r}", expected='"auto", None or a list of numbers')
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

    def _transform_frame(self, frame: pd.DataFrame) -> pd.DataFrame:
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
        return _replace_columns(frame, new)


def _warn_or_raise(policy: str, message: str, column: Hashable, n_rows: int, expected: str) -> None:
    """Apply an ``on_unseen`` policy: ``"nan"`` (silent), ``"warn"`` or ``"raise"``."""
    from .._errors import DataWarning

    if policy == "raise":
        raise InputError(message, column=column, n_rows=n_rows, expected=expected)
    if policy == "warn":
        rows = "1 row" if n_rows == 1 else f"{n_rows} rows"
        warnings.warn(f"column {column!r}: {message} ({rows}); set to missing",
                      DataWarning, stacklevel=4)


def _check_policy(value: Any) -> str:
    if value not in ("nan", "warn", "raise"):
        raise InputError(f"on_unseen={value!r}", expected='"nan", "warn" or "raise"')
    return str(value)
