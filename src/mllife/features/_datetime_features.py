"""``DateTimeFeatures``: calendar parts, elapsed time and cyclical encodings of dates."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from .._frame import is_bool, is_datetime, is_numeric
from ._base import FrameTransformer
from ._feature_common import select_columns

__all__ = ["DateTimeFeatures"]

#: Every feature :class:`DateTimeFeatures` can make.
FEATURES: tuple[str, ...] = (
    "year", "quarter", "month", "day", "day_of_week", "day_of_year", "hour", "minute",
    "is_weekend", "is_month_start", "is_month_end", "elapsed",
)
#: Periodic parts and their period (``None``: days in the month / year of the row).
PERIODS: dict[str, int | None] = {
    "quarter": 4, "month": 12, "day": None, "day_of_week": 7, "day_of_year": None,
    "hour": 24, "minute": 60,
}
_FIRST = {"quarter": 1, "month": 1, "day": 1, "day_of_year": 1}
#: Parts read from the day of a date: the calendar decides them once the year and month are known
#: and every date falls on the same day of the month (monthly or yearly dates).
_DAY_LEVEL = ("day_of_week", "is_weekend", "day_of_year")
#: Fewer present dates at fit than this say nothing about a part being constant.
_MIN_DATES = 30
_TZ_HINT = "one time zone per column, or DateTimeFeatures(utc=True) to convert every value to UTC"


def _is_tz_problem(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("timezone", "time zone", "tz-aware", "offset", "utc=true"))


class DateTimeFeatures(FrameTransformer):
    """Calendar features from datetime columns (or date strings it parses).

    For each column, one output per requested feature, named
    ``<column>_<feature>`` (``signup_date_month``). Missing dates (NaT) give
    NaN in every feature of the row: nothing is imputed here.

    Parts that carry nothing at ``fit`` are not made (with
    ``drop_uninformative=True``, judged on 30 present dates or more): a part
    with one value (the month of dates that are always 1 January, the hour of
    dates without a time), and the day of the week, weekend flag and day of
    the year of dates that always fall on the same day of the month (monthly
    or yearly dates: the calendar, not the data, decides those, so they are
    noise). :attr:`dropped_` says which and why, and so does the ``note``
    column of :func:`~mllife.features.describe_features`; ``elapsed`` is always
    made.

    Parameters
    ----------
    features : sequence of str, default=("year", "month", "day", "day_of_week", "hour", "is_weekend")
        Any of ``year``, ``quarter``, ``month``, ``day``, ``day_of_week``
        (0 = Monday ... 6 = Sunday, as pandas), ``day_of_year``, ``hour``,
        ``minute``, ``is_weekend``, ``is_month_start``, ``is_month_end``
        (0/1) and ``elapsed`` (time since ``reference`` in ``elapsed_unit``).
    cyclical : bool or sequence of str, default=False
        Replace periodic parts (quarter, month, day, day_of_week, day_of_year,
        hour, minute) by their sine and cosine (``<column>_<part>_sin`` /
        ``_cos``), so that December sits next to January. ``True`` encodes
        every requested periodic part; a sequence names the parts to encode.
        ``day`` and ``day_of_year`` use the length of the row's month / year.
    columns : str or sequence of str, default=None
        Columns to use; every column by default. Other columns are dropped.
    reference : "min" or datetime-like, default="min"
        Origin of ``elapsed``: ``"min"`` learns the earliest date of each
        column at ``fit`` (training data only); a timestamp fixes it.
    elapsed_unit : str, default="D"
        Unit of ``elapsed`` (a pandas timedelta unit: ``"D"``, ``"h"``, ``"s"``).
    epoch_unit : str, default=None
        Read numeric columns as offsets from 1970-01-01 in this unit
        (``"s"``, ``"ms"``...). By default numbers are refused.
    utc : bool, default=False
        Convert every value to UTC first (naive values are taken as UTC).
        Needed for columns mixing time zones or offsets, which are refused
        otherwise. Without it, parts of a tz-aware column are read on its
        local clock and a column must keep the time zone seen at ``fit``
        (another zone is converted to it; naive versus aware is refused).
    drop_uninformative : bool, default=True
        Leave out the parts that are constant, or decided by the calendar,
        at ``fit`` (see above); False makes every requested part.

    Attributes
    ----------
    columns_ : list of str
        Columns used.
    features_ : dict
        Column -> the features made from it (the requested ones, less the
        dropped ones).
    dropped_ : dict
        Column -> {feature: why it is not made} (empty when nothing is dropped).
    formats_ : dict
        For string columns, the date format learned at ``fit`` (``"ISO8601"``,
        or a strptime format guessed from the first value, month-first tried before
        day-first). Strings in several formats are refused: parse them with
        :class:`~mllife.features.DatetimeParser` first.
    tz_ : dict
        Time zone of each column at ``fit`` (``None`` for naive).
    reference_ : dict
        Origin of ``elapsed`` per column as ISO text (naive; UTC for tz-aware
        columns), ``None`` without ``elapsed``.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.

    Raises
    ------
    InputError
        For a column that is neither dates nor parseable strings, strings
        that do not parse (naming the column and row count), mixed time
        zones, unknown feature names, and columns missing at transform.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"signup": pd.to_datetime(["2024-01-06 10:00", "2024-03-31 23:00", None])})
    >>> DateTimeFeatures(features=("month", "day_of_week", "is_weekend")).fit_transform(X)
       signup_month  signup_day_of_week  signup_is_weekend
    0           1.0                 5.0                1.0
    1           3.0                 6.0                1.0
    2           NaN                 NaN                NaN
    >>> yearly = pd.DataFrame({"period": pd.to_datetime([f"{y}-01-01" for y in range(1980, 2020)])})
    >>> fitted = DateTimeFeatures().fit(yearly)
    >>> fitted.get_feature_names_out().tolist()
    ['period_year']
    >>> fitted.dropped_["period"]["day_of_week"]
    'determined by the year: every date falls on the same day of the year'
    """

    def __init__(
        self,
        features: Sequence[str] = ("year", "month", "day", "day_of_week", "hour", "is_weekend"),
        cyclical: bool | Sequence[str] = False,
        *,
        columns: str | Sequence[str] | None = None,
        reference: Any = "min",
        elapsed_unit: str = "D",
        epoch_unit: str | None = None,
        utc: bool = False,
        drop_uninformative: bool = True,
    ) -> None:
        self.features = features
        self.cyclical = cyclical
        self.columns = columns
        self.reference = reference
        self.elapsed_unit = elapsed_unit
        self.epoch_unit = epoch_unit
        self.utc = utc
        self.drop_uninformative = drop_uninformative

    # ---- parameters --------------------------------------------------------------
    def _parsed_params(self) -> tuple[list[str], set[str], pd.Timedelta]:
        """The checked parameters: features, cyclical parts and the elapsed unit."""
        features = [self.features] if isinstance(self.features, str) else list(self.features)
        unknown = [f for f in features if f not in FEATURES]
        if unknown or not features:
            raise InputError(f"unknown features {unknown}" if unknown else "no feature requested",
                             expected=f"some of {list(FEATURES)}")
        if isinstance(self.cyclical, bool):
            cyclical = {f for f in features if f in PERIODS} if self.cyclical else set()
        else:
            cyclical = {self.cyclical} if isinstance(self.cyclical, str) else set(self.cyclical)
            bad = sorted(cyclical - set(PERIODS))
            if bad:
                raise InputError(f"cyclical parts {bad} are not periodic",
                                 expected=f"some of {list(PERIODS)}")
            cyclical &= set(features)
        if not isinstance(self.drop_uninformative, bool | np.bool_):
            raise InputError(f"drop_uninformative={self.drop_uninformative!r}", expected="True or False")
        try:
            unit = pd.Timedelta(1, unit=self.elapsed_unit)
        except (ValueError, TypeError):
            raise InputError(f"elapsed_unit={self.elapsed_unit!r} is not a time unit",
                             expected='a pandas unit such as "D", "h" or "s"') from None
        return features, cyclical, unit

    # ---- parsing -------------------------------------------------------------------
    def _parse(self, s: pd.Series, col: str, fmt: str | None) -> tuple[pd.Series, str | None]:
        """``s`` as datetime64 and the string format used (learned when ``fmt`` is None)."""
        if is_datetime(s):
            out = s
        elif isinstance(s.dtype, pd.PeriodDtype):
            out = s.dt.to_timestamp()
        elif is_numeric(s) or is_bool(s):
            if self.epoch_unit is None or is_bool(s):
                raise InputError("holds numbers, not dates", column=col, n_rows=int(s.notna().sum()),
                                 expected="datetimes or date strings (or set epoch_unit to read numbers as epoch offsets)")
            try:
                out = pd.to_datetime(s.astype("float64"), unit=self.epoch_unit)
            except (ValueError, OverflowError, pd.errors.OutOfBoundsDatetime) as exc:
                raise InputError(f"numbers out of the datetime range ({exc})", column=col,
                                 expected=f"epoch offsets in {self.epoch_unit!r}") from None
        elif pd.api.types.is_object_dtype(s.dtype) and pd.api.types.infer_dtype(
                s, skipna=True) in {"datetime", "datetime64", "date"}:
            out = self._parse_objects(s, col)
        elif pd.api.types.is_object_dtype(s.dtype) and (
            pd.api.types.infer_dtype(s, skipna=True) not in {"string", "datetime", "date", "empty"}
        ) and (self.epoch_unit is not None or pd.api.types.infer_dtype(s, skipna=True) in {
            "integer", "floating", "mixed-integer-float", "decimal", "boolean"}):
            # Numbers in an object column: a cell that is no number raises TypeError.
            numbers = np.asarray(s.to_numpy(dtype=object, na_value=np.nan), dtype=np.float64)
            return self._parse(pd.Series(numbers, index=s.index, name=s.name), col, fmt)
        else:
            out, fmt = self._parse_strings(s, col, fmt)
        if self.utc:
            out = out.dt.tz_convert("UTC") if out.dt.tz is not None else out.dt.tz_localize("UTC")
        return out, fmt

    def _parse_objects(self, s: pd.Series, col: str) -> pd.Series:
        """Python datetime / date / Timestamp objects in an object column."""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", FutureWarning)
                out = pd.to_datetime(s, utc=self.utc)
        except (ValueError, TypeError, FutureWarning) as exc:
            if _is_tz_problem(exc):
                raise InputError("mixes time zones or UTC offsets", column=col,
                                 expected=_TZ_HINT) from None
            raise InputError(f"holds dates that pandas cannot convert ({exc})", column=col,
                             expected="datetimes") from None
        if not isinstance(out, pd.Series) or not is_datetime(out):
            raise InputError("mixes time zones or UTC offsets", column=col, expected=_TZ_HINT)
        return out

    def _parse_strings(self, s: pd.Series, col: str, fmt: str | None) -> tuple[pd.Series, str]:
        present = s.notna()
        candidates: list[str | bool] = [fmt] if fmt is not None else ["ISO8601", False, True]
        best: pd.Series | None = None
        for candidate in candidates:
            if isinstance(candidate, bool):  # a strptime format guessed from the first value
                first = s[present]
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)
                    chosen = (pd.tseries.api.guess_datetime_format(str(first.iloc[0]),
                                                                   dayfirst=candidate)
                              if len(first) else None)
                if chosen is None:
                    continue
            else:
                chosen = candidate
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error", FutureWarning)
                    warnings.simplefilter("ignore", UserWarning)
                    parsed = pd.to_datetime(s, format=chosen, errors="coerce", utc=self.utc)
            except (ValueError, TypeError, FutureWarning) as exc:
                if _is_tz_problem(exc):
                    raise InputError("mixes time zones or UTC offsets", column=col,
                                     expected=_TZ_HINT) from None
                continue
            if not isinstance(parsed, pd.Series) or not is_datetime(parsed):
                raise InputError("mixes time zones or UTC offsets", column=col, expected=_TZ_HINT)
            bad = int((parsed.isna() & present).sum())
            if bad == 0:
                return parsed, str(chosen)
            if best is None:
                best = parsed
        failed = int(((best.isna() if best is not None else present) & present).sum())
        raise InputError("values that do not parse as dates", column=col, n_rows=failed,
                         expected="date strings in one format"
                         + (f" (the format learned at fit: {fmt})" if fmt else
                            " (convert several formats with DatetimeParser first)"))

    # ---- fit / transform -------------------------------------------------------------
    def _check_params(self) -> None:
        self._parsed_params()

    def _fit(self, frame: pd.DataFrame, y: Any = None) -> None:
        """Learn the columns, their string formats, time zones and reference dates."""
        features, _, _ = self._parsed_params()
        self.columns_ = select_columns(self.columns, list(frame.columns), owner="DateTimeFeatures")
        self.formats_: dict[str, str | None] = {}
        self.tz_: dict[str, str | None] = {}
        self.reference_: dict[str, str | None] = {}
        self.features_: dict[str, list[str]] = {}
        self.dropped_: dict[str, dict[str, str]] = {}
        fixed = None
        if "elapsed" in features and not (isinstance(self.reference, str) and self.reference == "min"):
            try:
                fixed = pd.Timestamp(self.reference)
            except (ValueError, TypeError):
                raise InputError(f"reference={self.reference!r} is not a date",
                                 expected='"min" or a timestamp') from None
        for col in self.columns_:
            s, fmt = self._parse(frame[col], col, None)
            self.formats_[col] = fmt
            tz = s.dt.tz
            self.tz_[col] = None if tz is None else str(tz)
            ref = None
            if "elapsed" in features:
                if fixed is not None:
                    ref = fixed
                    if ref.tz is not None:
                        ref = ref.tz_convert("UTC").tz_localize(None)
                else:
                    ref = self._naive(s).min()
                    ref = None if pd.isna(ref) else ref
            # Stored as ISO text: plain data that pickles and skops-loads safely.
            self.reference_[col] = None if ref is None else pd.Timestamp(ref).isoformat()
            dropped = self._uninformative(s.array, features) if self.drop_uninformative else {}
            self.dropped_[col] = dropped
            self.features_[col] = [f for f in features if f not in dropped]

    @staticmethod
    def _uninformative(dates: Any, features: list[str]) -> dict[str, str]:
        """The requested parts that carry nothing at fit, with the reason."""
        present = ~np.asarray(dates.isna())
        if present.sum() < _MIN_DATES:
            return {}

        def part(name: str) -> np.ndarray:
            field = "day_of_week" if name == "is_weekend" else name
            values = np.asarray(getattr(dates, field), dtype=float)[present]
            return (values >= 5).astype(float) if name == "is_weekend" else values

        def constant(values: np.ndarray) -> bool:
            return bool(np.all(values == values[0]))

        same_day, same_month = constant(part("day")), constant(part("month"))
        dropped: dict[str, str] = {}
        for feature in features:
            if feature == "elapsed":
                continue
            values = part(feature)
            if constant(values):
                dropped[feature] = f"constant at fit ({values[0]:g})"
            elif same_day and feature in _DAY_LEVEL:
                dropped[feature] = ("determined by the year: every date falls on the same day of "
                                    "the year" if same_month else "determined by the year and "
                                    "month: every date falls on the same day of the month")
        return dropped

    def _made(self, col: str, features: list[str]) -> list[str]:
        """The features made from ``col`` (every requested one for objects fitted without ``features_``)."""
        made = getattr(self, "features_", None)
        return list(features) if made is None else made[col]

    @staticmethod
    def _naive(s: pd.Series) -> pd.Series:
        return s.dt.tz_convert("UTC").dt.tz_localize(None) if s.dt.tz is not None else s

    def _align_tz(self, s: pd.Series, col: str) -> pd.Series:
        fitted = self.tz_[col]
        tz = getattr(s.dtype, "tz", None)
        if (fitted is None) != (tz is None):
            raise InputError(
                f"is {'naive' if tz is None else 'tz-aware'} but was "
                f"{'naive' if fitted is None else 'tz-aware'} at fit",
                column=col, n_rows=len(s), expected=f"time zone {fitted}",
            )
        if fitted is not None and str(tz) != fitted:
            s = s.dt.tz_convert(fitted)
        return s

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Compute the features (NaN where the date is missing)."""
        features, cyclical, unit = self._parsed_params()
        out: dict[str, np.ndarray] = {}
        for col in self.columns_:
            s, _ = self._parse(frame[col], col, self.formats_[col])
            # The DatetimeArray's fields are numpy arrays: much cheaper than ``s.dt``
            # per feature (this matters for one-row predictions in a service).
            dates = self._align_tz(s, col).array
            missing = np.asarray(dates.isna())
            for feature in self._made(col, features):
                values = self._feature(dates, missing, feature, col, unit)
                if feature in cyclical:
                    period = PERIODS[feature]
                    length: np.ndarray | np.float64
                    if period is None:
                        length = (np.asarray(dates.days_in_month, dtype=float) if feature == "day"
                                  else 365 + np.asarray(dates.is_leap_year, dtype=float))
                        length[missing] = np.nan
                    else:
                        length = np.float64(period)
                    angle = 2 * np.pi * (values - _FIRST.get(feature, 0)) / length
                    out[f"{col}_{feature}_sin"] = np.sin(angle)
                    out[f"{col}_{feature}_cos"] = np.cos(angle)
                else:
                    out[f"{col}_{feature}"] = values
        names = self._names(features, cyclical)
        # One float block built at once (cheaper than a dict of columns), column-major
        # as pandas lays it out, so downstream float sums are unchanged.
        block = np.vstack([out[n] for n in names]) if names else np.empty((0, len(frame)))
        return pd.DataFrame(block.T, index=frame.index, columns=names, copy=False)

    def _feature(self, dates: Any, missing: np.ndarray, feature: str, col: str,
                 unit: pd.Timedelta) -> np.ndarray:
        """One feature of a DatetimeArray as float, NaN where the date is missing."""
        if feature == "elapsed":
            ref = self.reference_[col]
            if ref is None:
                return np.full(len(dates), np.nan)
            naive = dates.tz_convert("UTC").tz_localize(None) if dates.tz is not None else dates
            return np.asarray((naive - pd.Timestamp(ref)) / unit, dtype=float)
        if feature == "is_weekend":
            values = np.asarray(dates.day_of_week, dtype=float) >= 5
        else:
            values = getattr(dates, feature)
        values = np.array(values, dtype=float)
        values[missing] = np.nan
        return values

    def _names(self, features: list[str], cyclical: set[str]) -> list[str]:
        names = []
        for col in self.columns_:
            for feature in self._made(col, features):
                if feature in cyclical:
                    names += [f"{col}_{feature}_sin", f"{col}_{feature}_cos"]
                else:
                    names.append(f"{col}_{feature}")
        return names

    def _names_out(self, input_names: list[str]) -> list[str]:
        """Output names: ``<column>_<feature>`` (``_sin`` / ``_cos`` when cyclical)."""
        features, cyclical, _ = self._parsed_params()
        return self._names(features, cyclical)

    def _feature_sources(self) -> list[tuple[str, ...]] | None:
        features, cyclical, _ = self._parsed_params()
        return [(col,) for col in self.columns_
                for f in self._made(col, features) for _ in range(2 if f in cyclical else 1)]

    def _feature_notes(self) -> list[str] | None:
        """Per output feature: the parts of its column that were not made, and why."""
        features, cyclical, _ = self._parsed_params()
        notes = []
        for col in self.columns_:
            dropped = getattr(self, "dropped_", {}).get(col, {})
            note = "; ".join(f"{col}_{f} not made: {why}" for f, why in dropped.items())
            notes += [note] * sum(2 if f in cyclical else 1 for f in self._made(col, features))
        return notes

    def _step_label(self) -> str:
        return f"DateTimeFeatures({', '.join(self.features)})"
