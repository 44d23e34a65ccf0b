"""``DatetimeParser``: text date columns become datetime64, format learned per column."""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataWarning, InputError
from .._frame import is_string_like
from .._nulls import factorize, null_like_mask
from ._base import FrameTransformer
from ._dateformats import infer_date_formats, parse_dates, unambiguous_formats
from ._feature_common import apply_policy, check_policy, replace_columns

__all__ = ["DatetimeParser"]


class DatetimeParser(FrameTransformer):
    """Parse text date columns, learning each column's format(s) at ``fit``.

    At ``fit`` every text column is classified value by value (on its
    distinct values) against the date formats mllife knows: ISO dates and
    date-times, ``dd/mm/yyyy`` and ``mm/dd/yyyy`` (and their ``-``/``.``
    forms), ``Mon DD, YYYY``, ``Month DD, YYYY``, ``DD Mon YYYY``,
    ``yyyy/mm/dd`` and, next to other date formats, epoch seconds or
    milliseconds. A column where at least ``min_share`` of the values match
    becomes a date column; its formats and its day/month order are kept.
    A column of slash dates whose parts never exceed 12 is *ambiguous*:
    ``dayfirst`` decides; when it is None, month-first (pandas' convention)
    with a :class:`mllife.DataWarning` naming the column.

    At ``transform`` each value is parsed with the learned format of its
    own family only, so no value is guessed. A value in a format not seen at
    fit is still parsed when its format cannot be misread: ISO dates and
    date-times, ``yyyy/mm/dd``, ``Mon DD, YYYY``, ``DD Mon YYYY`` and, in a
    column whose day/month order was learned, the other slash/dash/dot
    forms in that order. Null tokens (``"N/A"``, ``""``) become NaT silently.
    Any other value (an ambiguous slash date in a column that had none, a
    bare number, text) becomes NaT and is reported per ``on_unseen``.

    Parameters
    ----------
    dayfirst : bool or None, default=None
        The order for ambiguous columns; the values decide otherwise.
    min_share : float, default=0.8
        Share of a column's non-missing values that must look like dates.
    on_unseen : {"warn", "ignore", "error"}, default="warn"
        At transform, values that do not parse with the learned formats
        become NaT: with a :class:`mllife.DataWarning` giving the count
        (``"warn"``), silently (``"ignore"``), or an :class:`mllife.InputError`
        naming the column is raised instead (``"error"``).

    Attributes
    ----------
    formats_ : dict
        Date column -> its learned formats, most common first.
    dayfirst_ : dict
        Date column -> True, False or None (no slash dates).
    ambiguous_ : list
        Date columns whose day/month order could not be read from the values.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.features import DatetimeParser
    >>> X = pd.DataFrame({"d": ["2024-01-31", "31/01/2024", "Feb 02, 2024", "N/A"]})
    >>> p = DatetimeParser().fit(X)
    >>> p.formats_["d"], p.dayfirst_["d"]
    (['%Y-%m-%d', '%b %d, %Y', '%d/%m/%Y'], True)
    >>> p.transform(X)["d"].dt.strftime("%Y-%m-%d").tolist()
    ['2024-01-31', '2024-01-31', '2024-02-02', nan]
    """

    def __init__(self, dayfirst: bool | None = None, min_share: float = 0.8, on_unseen: str = "warn") -> None:
        self.dayfirst = dayfirst
        self.min_share = min_share
        self.on_unseen = on_unseen

    _text_input = True

    def _check_params(self) -> None:
        check_policy(self.on_unseen)
        if not isinstance(self.min_share, float | int) or not 0 < self.min_share <= 1:
            raise InputError(f"min_share={self.min_share!r}", expected="a number in (0, 1]")
        if self.dayfirst not in (None, True, False):
            raise InputError(f"dayfirst={self.dayfirst!r}", expected="True, False or None")

    def _fit(self, frame: pd.DataFrame, y: Any = None) -> None:
        self.formats_: dict[Hashable, list[str]] = {}
        self.dayfirst_: dict[Hashable, bool | None] = {}
        self.ambiguous_: list[Hashable] = []
        for col in frame.columns:
            s = frame[col]
            if not is_string_like(s) or isinstance(s.dtype, pd.CategoricalDtype):
                continue
            codes, uniques, unhashable = factorize(s)
            if unhashable or len(uniques) == 0:
                continue
            counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
            keep = ~null_like_mask(uniques)
            inference = infer_date_formats(uniques[keep].reset_index(drop=True), counts[keep],
                                           min_share=float(self.min_share), dayfirst=self.dayfirst)
            if inference is None:
                continue
            self.formats_[col] = list(inference.formats)
            self.dayfirst_[col] = inference.dayfirst
            if inference.ambiguous:
                self.ambiguous_.append(col)
                if self.dayfirst is None:
                    warnings.warn(
                        f"column {col!r}: the day/month order cannot be read from the values (no part "
                        "above 12); parsing month-first. Pass dayfirst=True if the dates are day-first, "
                        "dayfirst=False to silence this", DataWarning, stacklevel=3)

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        new: dict[Hashable, pd.Series] = {}
        for col, formats in self.formats_.items():
            s = frame[col]
            if not is_string_like(s):
                continue
            codes, uniques, _ = factorize(s)
            tokens = null_like_mask(uniques)
            usable = formats + [f for f in unambiguous_formats(self.dayfirst_.get(col)) if f not in formats]
            parsed, bad = parse_dates(uniques.where(~tokens).reset_index(drop=True), usable)
            stamps = parsed.to_numpy(dtype="datetime64[ns]")
            values = np.full(len(s), np.datetime64("NaT"), dtype="datetime64[ns]")
            present = codes >= 0
            values[present] = stamps[codes[present]]
            n_bad = int(np.bincount(codes[present], minlength=len(uniques))[bad].sum())
            if n_bad:
                apply_policy(self.on_unseen, "values in a date format not seen at fit, or not dates",
                               col, n_bad, f"dates in the formats {formats}")
            new[col] = pd.Series(values, index=s.index, name=s.name)
        return replace_columns(frame, new)
