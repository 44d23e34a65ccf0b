"""``Cleaner``: every cleaning step the audit suggests, in one transformer."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from .._columns import numeric_text_share, parse_number_text
from .._errors import InputError
from .._frame import is_string_like
from .._nulls import factorize, null_like_mask
from ._base import FrameTransformer
from ._datetime_parser import DatetimeParser
from ._feature_common import apply_policy, check_policy, replace_columns
from ._null_like import NullLikeToNaN
from ._strings import StringNormalizer

__all__ = ["Cleaner", "numeric_text_share", "parse_number_text"]


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
