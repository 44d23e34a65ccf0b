"""Disguised missing values: null tokens, real levels, numeric sentinels.

The one place that decides what a disguised null is, shared by the column-kind
detector (:mod:`mllife._columns`), the audit (``disguised_nulls`` and the checks
that discount tokens), the cleaning transformers (``NullLikeToNaN``,
``Cleaner``, ``DatetimeParser``) and ``make_preprocessor``:

- text tokens (:data:`NULL_LIKE_TOKENS`: ``"N/A"``, ``""``,
  ``"-"``, ``"?"``, ``"null"``...) matched after strip and casefold
  (:func:`null_like_mask`), on distinct values only;
- word tokens that are a real level of their column (an arm ``"NONE"``), which
  are kept (:func:`token_levels`);
- numeric sentinels (``-999``, ``-1``) that stand apart from the other values
  (:func:`find_sentinels`);
- per-column factorisation that survives unhashable cells (:func:`factorize`)
  and the text forms tokens and spellings are compared in (:func:`token_form`,
  :func:`strip_spaces`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ._dtypes import is_string_like

#: Strings that stand for "missing" however they are cased or padded.
NULL_LIKE_TOKENS: frozenset[str] = frozenset(
    {
        "", "n/a", "na", "nan", "null", "none", "nil", "-", "--", "---", "?", "??",
        "missing", "unknown", "undefined", "#n/a", "n.a.", "not available", "<na>", "nat",
    }
)

__all__ = [
    "NULL_LIKE_TOKENS", "SENTINEL_CANDIDATES", "WORD_TOKENS", "disguised_nulls", "factorize",
    "find_sentinels", "null_like_mask", "strip_spaces", "token_form", "token_levels",
]


#: Numbers commonly written for "missing"; flagged only when they stand apart.
SENTINEL_CANDIDATES: tuple[float, ...] = (
    -1.0, -9.0, -99.0, -999.0, -9999.0, -99999.0, -999999.0,
    99.0, 999.0, 9999.0, 99999.0, 999999.0, 9999999.0,
)


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


def token_form(value: object) -> str:
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
        form = token_form(values[i])
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
    n_levels = len(others) + len({token_form(values[i]) for i in np.flatnonzero(hit)})
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


def strip_spaces(values: pd.Series) -> pd.Series:
    """Strip and collapse inner whitespace, keeping case; missing stays missing.

    Examples
    --------
    >>> strip_spaces(pd.Series(["  North  ", "a   b", None])).tolist()
    ['North', 'a b', <NA>]
    """
    return values.astype("string").str.strip().str.replace(r"\s+", " ", regex=True)


def disguised_nulls(uniques: pd.Series, counts: np.ndarray) -> np.ndarray:
    """Per distinct value: a null token that stands for a missing value (not a real level).

    :func:`null_like_mask` less :func:`token_levels`: what the kind detector
    discounts before deciding a column's kind, what ``NullLikeToNaN`` erases
    and what the audit reports as a warning.

    Examples
    --------
    >>> disguised_nulls(pd.Series(["2024-01-31", "N/A", "NONE"]), np.array([98, 1, 1])).tolist()
    [False, True, True]
    >>> disguised_nulls(pd.Series(["A", "B", "NONE"]), np.array([34, 33, 33])).tolist()
    [False, False, False]
    """
    hit = null_like_mask(uniques)
    if not hit.any():
        return hit
    return hit & ~token_levels(uniques, counts, hit)
