"""``Cleaner``: every cleaning step the audit suggests, in one transformer."""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import is_string_like
from .._nulls import factorize, null_like_mask, token_levels
from ._base import FrameTransformer
from ._datetime_parser import DatetimeParser
from ._feature_common import apply_policy, check_policy, replace_columns
from ._null_like import NullLikeToNaN
from ._strings import StringNormalizer

__all__ = ["Cleaner", "numeric_text_share", "parse_number_text"]


#: Bare digit strings all of this width or more are codes (zip codes, account numbers), not numbers.
_CODE_WIDTH = 4

#: Currency symbols stripped from numbers stored as text (``"$1,234.50"``, ``"12 €"``).
_CURRENCY = "$€£¥₹₩₽₺₪"
_NUMBER_TEXT = re.compile(
    r"^(?P<neg>[-+]|\()?\s*(?P<cur>[" + _CURRENCY + r"])?\s*(?P<sign>[-+])?\s*"
    r"(?P<num>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)\s*"
    r"(?P<cur2>[" + _CURRENCY + r"])?\s*(?P<pct>%)?\s*(?P<close>\))?$"
)


def parse_number_text(text: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numbers written as text to floats, and which values have a leading zero.

    Handles thousands separators in groups of three (``"1,234.5"``; a
    decimal comma such as ``"1,5"`` is not read as a number), a currency symbol before or
    after the number (``"$12"``, ``"-$12"``, ``"12 €"``), accounting
    negatives (``"(1,234)"`` is -1234) and percentages (``"12.5%"`` is
    0.125). ``text`` holds distinct values (never rows); anything else is NaN.
    Values with a leading zero (``"007"``, ``"02134"``) are flagged: their
    zero carries meaning a float would lose.
    """
    stripped = text.astype("string").str.strip()
    parts = stripped.str.extract(_NUMBER_TEXT.pattern)
    num = parts["num"].str.replace(",", "", regex=False)
    values = pd.to_numeric(num, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    opened = parts["neg"].fillna("").to_numpy(dtype=object)
    closed = parts["close"].notna().to_numpy(dtype=bool)
    paren = opened == "("
    sign = parts["sign"].fillna("").to_numpy(dtype=object)
    minus = (opened == "-") | (sign == "-")
    two_signs = (opened != "") & (sign != "")
    both_cur = (parts["cur"].notna() & parts["cur2"].notna()).to_numpy(dtype=bool)
    values[(paren != closed) | both_cur | two_signs] = np.nan
    values = np.where(paren | minus, -values, values)
    values = np.where(parts["pct"].notna().to_numpy(dtype=bool), values / 100, values)
    leading_zero = num.str.match(r"^0\d").fillna(False).to_numpy(dtype=bool)
    return values, leading_zero


def numeric_text_share(uniques: pd.Series, counts: np.ndarray) -> tuple[float, np.ndarray]:
    """Share of text rows (null tokens excluded) that are numbers, and which values.

    A number may carry thousands separators, a currency symbol, accounting
    parentheses or a percent sign (see :func:`parse_number_text`). Values
    with a leading zero (``"007"``, zip codes) do not count as numbers: the
    zero carries meaning a float would lose; nor does a column whose numbers
    are all bare digit strings of one width of 4 or more (``"94110"``,
    ``"10001"``: zip codes, account numbers), which are codes. Null tokens
    are left out, except those that are real levels of the column (see
    :func:`~mllife._nulls.token_levels`: ``"none"`` as frequent as
    the numbers), which count as non-numbers. Columns with many distinct
    values are first judged on a sample of 2,000 of them; below half numbers,
    the sample's share is returned (and no value is marked).
    """
    if len(uniques) > 5_000:
        # A quick look first: most text columns are plainly not numbers.
        picks = np.sort(np.random.default_rng(0).choice(len(uniques), size=2_000, replace=False))
        rough, _ = numeric_text_share(uniques.iloc[picks], np.asarray(counts)[picks])
        if rough < 0.5:
            return rough, np.zeros(len(uniques), dtype=bool)
    numbers, leading_zero = parse_number_text(uniques)
    ok = ~np.isnan(numbers) & ~leading_zero
    if ok.sum() > 1:
        text = uniques.astype("string").str.strip()[ok]
        digits = text.str.fullmatch(r"\d+").fillna(False).to_numpy(dtype=bool)
        widths = text.str.len().to_numpy(dtype=np.int64, na_value=0)
        if digits.all() and widths.min() == widths.max() >= _CODE_WIDTH:
            # every number is a bare digit string of one width: zip codes, account numbers
            return 0.0, np.zeros(len(uniques), dtype=bool)
    nullish = null_like_mask(uniques)
    nullish &= ~token_levels(uniques, counts, nullish)
    weights = np.asarray(counts)[~nullish]
    total = weights.sum()
    share = float(weights[ok[~nullish]].sum() / total) if total else 0.0
    return share, ok


class Cleaner(FrameTransformer):
    """Fix what :func:`mllife.audit` finds, learned at ``fit``, in one step.

    Runs, in order: :class:`NullLikeToNaN` (null tokens and numeric
    sentinels become NaN), :class:`DatetimeParser` (text dates become
    datetime64 with each column's learned formats), numbers stored as text
    become floats (a column is converted when at least ``min_numeric_share``
    of its non-missing values are numbers; ``"1,234.5"`` is 1234.5) and
    :class:`StringNormalizer` (whitespace/case variants merged).

    Parameters
    ----------
    null_like, dates, numbers, strings : bool, default=True
        Which steps to run.
    dayfirst : bool or None, default=None
        Passed to :class:`DatetimeParser` for ambiguous date columns.
    min_numeric_share : float, default=0.95
        Share of a text column's values that must be numbers to convert it.
    on_unseen : {"warn", "ignore", "error"}, default="warn"
        At transform, a date that does not parse or a non-number in a
        converted column becomes missing with a :class:`mllife.DataWarning`
        (``"warn"``) or silently (``"ignore"``); ``"error"`` raises
        :class:`mllife.InputError` naming the column instead.
    tokens : collection of str, optional
        The null tokens for :class:`NullLikeToNaN` (the library's list by
        default); e.g. the list without ``"unknown"`` to keep it as a category.
    keep_levels : bool, default=True
        Passed to :class:`NullLikeToNaN`: keep the word tokens that are real
        levels of their column at fit (an arm ``"NONE"``; what
        :func:`mllife.audit` reports as info). A column holding such a level
        is not converted to numbers.

    Attributes
    ----------
    null_like_, dates_, strings_ : fitted step or None
    numeric_columns_ : list
        Text columns converted to numbers.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.features import Cleaner
    >>> X = pd.DataFrame({"when": ["2024-01-31", "31/01/2024", "N/A"],
    ...                   "total": ["10.5", " ", "7"], "region": ["north", " North", "south"]})
    >>> out = Cleaner().fit_transform(X)
    >>> out["when"].dt.strftime("%Y-%m-%d").tolist()[:2], out["total"].tolist()[::2]
    (['2024-01-31', '2024-01-31'], [10.5, 7.0])
    >>> out["region"].tolist()
    ['north', 'north', 'south']
    """

    def __init__(
        self,
        null_like: bool = True,
        dates: bool = True,
        numbers: bool = True,
        strings: bool = True,
        dayfirst: bool | None = None,
        min_numeric_share: float = 0.95,
        on_unseen: str = "warn",
        *,
        tokens: Iterable[str] | None = None,
        keep_levels: bool = True,
    ) -> None:
        self.null_like = null_like
        self.dates = dates
        self.numbers = numbers
        self.strings = strings
        self.dayfirst = dayfirst
        self.min_numeric_share = min_numeric_share
        self.on_unseen = on_unseen
        self.tokens = tokens
        self.keep_levels = keep_levels

    _text_input = True

    def _check_params(self) -> None:
        check_policy(self.on_unseen)
        if not isinstance(self.min_numeric_share, float | int) or not 0 < self.min_numeric_share <= 1:
            raise InputError(f"min_numeric_share={self.min_numeric_share!r}", expected="a number in (0, 1]")

    def _fit(self, frame: pd.DataFrame, y: Any = None) -> None:
        current = frame
        self.null_like_ = (NullLikeToNaN(tokens=self.tokens, keep_levels=self.keep_levels).fit(current)
                           if self.null_like else None)
        kept = self.null_like_.kept_levels_ if self.null_like_ is not None else {}
        if self.null_like_ is not None:
            current = self.null_like_._transform_pandas(current)
        self.dates_ = (DatetimeParser(dayfirst=self.dayfirst, on_unseen=self.on_unseen).fit(current)
                       if self.dates else None)
        if self.dates_ is not None:
            current = self.dates_._transform_pandas(current)
        self.numeric_columns_: list[Hashable] = []
        if self.numbers:
            for col in current.columns:
                s = current[col]
                if not is_string_like(s) or isinstance(s.dtype, pd.CategoricalDtype) or col in kept:
                    continue
                codes, uniques, unhashable = factorize(s)
                if unhashable or len(uniques) == 0:
                    continue
                counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
                share, _ = numeric_text_share(uniques, counts)
                if share >= self.min_numeric_share:
                    self.numeric_columns_.append(col)
            current = self._to_numbers(current)
        self.strings_ = StringNormalizer().fit(current) if self.strings else None

    def _to_numbers(self, frame: pd.DataFrame) -> pd.DataFrame:
        new: dict[Hashable, pd.Series] = {}
        for col in self.numeric_columns_:
            s = frame[col]
            if not is_string_like(s):
                continue
            codes, uniques, _ = factorize(s)
            numbers, _ = parse_number_text(uniques)
            nullish = null_like_mask(uniques)
            values = np.full(len(s), np.nan)
            present = codes >= 0
            values[present] = numbers[codes[present]]
            bad = np.isnan(numbers) & ~nullish
            if bad.any():
                n_bad = int(np.bincount(codes[present], minlength=len(uniques))[bad].sum())
                apply_policy(self.on_unseen, "values that are not numbers", col, n_bad, "numbers")
            new[col] = pd.Series(values, index=s.index, name=s.name)
        return replace_columns(frame, new)

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        current = frame
        if self.null_like_ is not None:
            current = self.null_like_._transform_pandas(current)
        if self.dates_ is not None:
            current = self.dates_._transform_pandas(current)
        if self.numbers:
            current = self._to_numbers(current)
        if self.strings_ is not None:
            current = self.strings_._transform_pandas(current)
        return current if current is not frame else frame.copy()
