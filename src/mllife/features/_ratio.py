"""``RatioFeatures``: safe division of column pairs (``price_per_square_feet``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import is_bool, is_datetime, is_numeric
from ._base import FrameTransformer

__all__ = ["RatioFeatures"]

_ON_ZERO = ("nan", "zero", "error")


class _NotNumbers(InputError, TypeError):
    """Cells of a type that is not a number (a dict, a list): an ``InputError`` that is
    also a ``TypeError``, as the error numpy raises for them is."""


def _numbers(s: pd.Series, col: str) -> np.ndarray:
    """A column as float, refusing text (strings in a numeric column) and infinities."""
    if is_numeric(s) or is_bool(s):
        values = s.to_numpy(dtype=np.float64, na_value=np.nan)
    elif is_datetime(s) or pd.api.types.is_timedelta64_dtype(s.dtype):
        what = "durations" if pd.api.types.is_timedelta64_dtype(s.dtype) else "dates"
        raise InputError(f"holds {what}, not numbers", column=col, n_rows=int(s.notna().sum()),
                         expected="numbers (convert dates with DateTimeFeatures first)")
    else:
        try:
            values = np.asarray(s.to_numpy(dtype=object, na_value=np.nan), dtype=np.float64)
        except (ValueError, TypeError) as error:  # text; dates, times, lists, dicts
            try:
                bad: int | None = int((pd.to_numeric(s, errors="coerce").isna() & s.notna()).sum())
            except (ValueError, TypeError):  # unhashable or nested values
                bad = None
            if isinstance(error, ValueError):  # float("abc"): text
                raise InputError("holds text that is not a number", column=col, n_rows=bad,
                                 expected="numbers") from None
            # Values of the wrong type (a dict, a list) are a TypeError too, as numpy's own.
            raise _NotNumbers(f"holds values that are not numbers ({error})", column=col,
                              n_rows=bad, expected="numbers") from None
    infinite = np.isinf(values)
    if infinite.any():
        raise InputError("holds infinite values", column=col, n_rows=int(infinite.sum()),
                         expected="finite numbers or NaN")
    return values


class RatioFeatures(FrameTransformer):
    """Ratios of column pairs, with an explicit policy for zero denominators.

    Each pair ``(numerator, denominator)`` gives a column named
    ``<numerator>_per_<denominator>`` (``price_per_square_feet``), or the key
    when ``pairs`` is a dict. Division never produces an infinity: a zero
    denominator gives what ``on_zero`` says, a missing value on either side
    gives NaN, and infinite inputs are refused.

    Parameters
    ----------
    pairs : sequence of (str, str) or dict of str to (str, str)
        ``[("price", "square_feet")]`` or ``{"price_per_sqft": ("price", "square_feet")}``.
        For numpy input use the generated names ``x0, x1, ...``.
    on_zero : {"nan", "zero", "error"} or float, default="nan"
        Result where the denominator is 0: NaN, 0.0, an error naming the
        column and row count, or the given number.
    keep_original : bool, default=True
        Output the input columns followed by the ratios (True), or only the
        ratios (False, handy inside a ``ColumnTransformer``).

    Attributes
    ----------
    pairs_ : list of (str, str, str)
        ``(name, numerator, denominator)`` per ratio.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.

    Raises
    ------
    InputError
        For unknown columns, text in a numerator / denominator, infinite
        values, a zero denominator with ``on_zero="error"``, or a bad
        ``on_zero``.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"price": [300.0, 250.0, 90.0], "square_feet": [1500.0, 0.0, None]})
    >>> RatioFeatures([("price", "square_feet")], keep_original=False).fit_transform(X)
       price_per_square_feet
    0                    0.2
    1                    NaN
    2                    NaN
    >>> RatioFeatures([("price", "square_feet")], on_zero=-1.0).fit_transform(X)["price_per_square_feet"].tolist()
    [0.2, -1.0, nan]
    """

    def __init__(
        self,
        pairs: Sequence[tuple[str, str]] | Mapping[str, tuple[str, str]],
        on_zero: str | float = "nan",
        *,
        keep_original: bool = True,
    ) -> None:
        self.pairs = pairs
        self.on_zero = on_zero
        self.keep_original = keep_original

    def _check_params(self) -> None:
        if isinstance(self.on_zero, str):
            if self.on_zero not in _ON_ZERO:
                hint = ' ("raise" is spelled "error")' if self.on_zero == "raise" else ""
                raise InputError(f"on_zero={self.on_zero!r}",
                                 expected=f"one of {_ON_ZERO} or a number{hint}")
        elif isinstance(self.on_zero, bool) or not isinstance(self.on_zero, int | float | np.number):
            raise InputError(f"on_zero={self.on_zero!r}", expected=f"one of {_ON_ZERO} or a number")
        self._parse_pairs()

    def _parse_pairs(self) -> list[tuple[str, str, str]]:
        items: list[tuple[Any, Any]]
        if isinstance(self.pairs, Mapping):
            items = list(self.pairs.items())
        elif isinstance(self.pairs, str) or self.pairs is None:
            items = []
        else:
            items = [(None, pair) for pair in self.pairs]
        if not items:
            raise InputError("pairs is empty", expected="(numerator, denominator) column pairs")
        out = []
        for name, pair in items:
            if isinstance(pair, str) or len(pair) != 2:
                raise InputError(f"pair {pair!r}", expected="a (numerator, denominator) tuple")
            num, den = (str(p) for p in pair)
            out.append((str(name) if name is not None else f"{num}_per_{den}", num, den))
        names = [n for n, _, _ in out]
        if len(set(names)) != len(names):
            raise InputError(f"duplicate ratio names {names}", expected="one name per pair")
        return out

    def _fit(self, frame: pd.DataFrame, y: Any = None) -> None:
        """Check the pairs against the columns of ``frame``."""
        pairs = self._parse_pairs()
        available = [str(c) for c in frame.columns]
        missing = sorted({c for _, num, den in pairs for c in (num, den)} - set(available))
        if missing:
            raise InputError(
                f"pair columns {missing} not found among the {len(available)} feature(s) of X",
                expected=f"columns of X ({available[:10]}...)" if len(available) > 10
                else f"columns of X {available}")
        if self.keep_original:
            clash = sorted({n for n, _, _ in pairs} & set(available))
            if clash:
                raise InputError(f"ratio names {clash} are already columns of X",
                                 expected="new names (give pairs as a dict to name them)")
        for _, num, den in pairs:
            _numbers(frame[num], num)
            _numbers(frame[den], den)
        self.pairs_ = pairs

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Add (or return) the ratios."""
        ratios: dict[str, np.ndarray] = {}
        for name, num, den in self.pairs_:
            a = _numbers(frame[num], num)
            b = _numbers(frame[den], den)
            zero = b == 0
            # "raise": the spelling of a transformer saved before the policy vocabulary
            if zero.any() and isinstance(self.on_zero, str) and self.on_zero in {"error", "raise"}:
                raise InputError(f"is zero, so {name} is undefined", column=den,
                                 n_rows=int(zero.sum()), expected="non-zero denominators")
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                ratio = np.divide(a, np.where(zero, 1.0, b))
            if zero.any():
                fill = {"nan": np.nan, "zero": 0.0}.get(str(self.on_zero))
                ratio[zero & ~np.isnan(a)] = float(self.on_zero) if fill is None else fill
            ratio[np.isinf(ratio)] = np.nan  # overflow of huge / tiny
            ratios[name] = ratio
        out = pd.DataFrame(ratios, index=frame.index)
        if self.keep_original:
            out = pd.concat([frame, out], axis=1)
        return out

    def _names_out(self, input_names: list[str]) -> list[str]:
        """The input names (when ``keep_original``) then the ratio names."""
        ratios = [n for n, _, _ in self.pairs_]
        return (input_names if self.keep_original else []) + ratios

    def _feature_sources(self) -> list[tuple[str, ...]] | None:
        names = self._input_names()
        kept = [(n,) for n in names] if self.keep_original else []
        return kept + [(num, den) for _, num, den in self.pairs_]
