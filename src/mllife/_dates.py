"""Date sniffing and date-format inference, shared by every module that meets dates.

The column-kind detector (:mod:`mllife._columns`), the audit's ``date_formats``
check, :class:`~mllife.features.DatetimeParser`, ``make_preprocessor`` and the
time reader (:mod:`mllife._time`) all decide "are these dates, in which
format" here.

A column of date strings is classified value by value against a small set of
format *families* (ISO, ``dd/mm/yyyy`` or ``mm/dd/yyyy``, ``Mon DD, YYYY``,
epoch seconds...). Families whose day/month order is not written in the
format (slash, dash and dot dates) are resolved from the values: a first
part above 12 proves day-first, a second part above 12 proves month-first,
and a column where neither happens is *ambiguous*.

Inference runs on distinct values (and, for detection, on a sample of them),
never on every row. Years written alone (``"2019"``) are not a format family
(a bare four-digit number may be a code); :func:`year_share` tells them apart
for the kind detector, which calls a column of them yearly dates, as
:func:`mllife._time.read_time` does.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "DateInference", "classify", "date_or_datetime", "infer_date_formats", "object_date_kind",
    "parse_dates", "parse_datetime_objects", "text_date_kind", "unambiguous_formats", "year_share",
]

# family -> (regex, strptime format or a special marker)
_FAMILIES: dict[str, tuple[str, str]] = {
    "iso_datetime": (
        r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?",
        "ISO8601",
    ),
    "iso_date": (r"\d{4}-\d{1,2}-\d{1,2}", "%Y-%m-%d"),
    "ymd_slash": (r"\d{4}/\d{1,2}/\d{1,2}", "%Y/%m/%d"),
    "slash": (r"\d{1,2}/\d{1,2}/\d{4}", "{a}/{b}/%Y"),
    "dash": (r"\d{1,2}-\d{1,2}-\d{4}", "{a}-{b}-%Y"),
    "dot": (r"\d{1,2}\.\d{1,2}\.\d{4}", "{a}.{b}.%Y"),
    "slash_time": (r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2}", "{a}/{b}/%Y %H:%M:%S"),
    "mon_d_y": (r"[A-Za-z]{3} \d{1,2}, \d{4}", "%b %d, %Y"),
    "month_d_y": (r"[A-Za-z]{4,9} \d{1,2}, \d{4}", "%B %d, %Y"),
    "d_mon_y": (r"\d{1,2} [A-Za-z]{3} \d{4}", "%d %b %Y"),
    "epoch_s": (r"1\d{9}|[1-9]\d{8}", "epoch_s"),
    "epoch_ms": (r"1\d{12}", "epoch_ms"),
}
#: Every family at once, to set aside values that match none in one pass.
_ANY_DATE = "|".join(f"(?:{pattern})" for pattern, _ in _FAMILIES.values())
#: Families whose day/month order must be read from the values.
_ORDERED = ("slash", "dash", "dot", "slash_time")
#: Families that only count as dates next to other date formats (a column of
#: ten-digit numbers alone is more likely an identifier than epoch seconds).
_WEAK = ("epoch_s", "epoch_ms")
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
#: Columns with more distinct values than this are first screened on a sample of them.
_PRESCREEN = 2_000


@dataclass(frozen=True)
class DateInference:
    """What :func:`infer_date_formats` learned about one column.

    Attributes
    ----------
    formats : dict of str to int
        Each strptime format (or ``"ISO8601"``, ``"epoch_s"``, ``"epoch_ms"``)
        found, with its number of rows (or of sampled values), most common first.
    dayfirst : bool or None
        True when slash/dash/dot dates are day-first, False when month-first,
        None when no such date was seen or the order cannot be told.
    ambiguous : bool
        True when slash/dash/dot dates exist but none has a part above 12.
    share : float
        Share of the non-missing values that matched some date format.
    unmatched : int
        Rows (or sampled values) that matched no format.
    """

    formats: dict[str, int] = field(default_factory=dict)
    dayfirst: bool | None = None
    ambiguous: bool = False
    share: float = 0.0
    unmatched: int = 0


def classify(values: pd.Series, first: tuple[str, ...] | list[str] = ()) -> np.ndarray:
    """The format family of each string (``""`` when none), vectorised per family.

    The families' patterns exclude each other, so their order only matters
    for speed: the ``first`` families (those expected to be common) are tried
    first and most values leave after one pass.
    """
    labels = np.full(len(values), "", dtype=object)
    if len(values) == 0:
        return labels
    text_all = values.astype("string").str.strip()
    # One pass with every family's pattern first: most text columns are plainly not dates,
    # and each family's own pass has a fixed cost however few the values.
    candidate = np.flatnonzero(text_all.str.fullmatch(_ANY_DATE).fillna(False).to_numpy(dtype=bool))
    if candidate.size == 0:
        return labels
    text = text_all.iloc[candidate]
    found = np.full(len(text), "", dtype=object)
    open_ = np.ones(len(text), dtype=bool)
    order = [*dict.fromkeys(f for f in first if f in _FAMILIES), *_FAMILIES]
    for family in dict.fromkeys(order):
        pattern = _FAMILIES[family][0]
        if not open_.any():
            break
        hit = text.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool) & open_
        if family in ("mon_d_y", "month_d_y", "d_mon_y") and hit.any():
            months = text[hit].str.lower().str.contains(_MONTHS, regex=True).fillna(False)
            keep = np.zeros(len(text), dtype=bool)
            keep[np.flatnonzero(hit)[months.to_numpy(dtype=bool)]] = True
            hit = keep
        found[hit] = family
        open_ &= ~hit
    labels[candidate] = found
    return labels


def _parts(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The first two numbers of each slash/dash/dot date (NaN where absent)."""
    stripped = values.astype("string").str.strip()
    try:
        # Fast path: fixed-width ASCII bytes, digits read with numpy.
        raw = np.array(stripped.fillna("").tolist(), dtype="S")
    except UnicodeEncodeError:
        raw = None
    if raw is not None and raw.dtype.itemsize >= 4 and len(raw):
        grid = raw.view(np.uint8).reshape(len(raw), raw.dtype.itemsize).astype(np.int16)
        digit = (grid >= 48) & (grid <= 57)
        num = grid - 48
        rows = np.arange(len(raw))
        one = digit[:, 0] & ~digit[:, 1]
        two = digit[:, 0] & digit[:, 1] & ~digit[:, 2]
        a = np.where(one, num[:, 0], np.where(two, num[:, 0] * 10 + num[:, 1], -1)).astype(float)
        start = np.where(one, 2, 3)
        width = grid.shape[1]
        c0, c1, c2 = (np.minimum(start + k, width - 1) for k in range(3))
        b_one = digit[rows, c0] & ~digit[rows, c1] & (grid[rows, c1] != 0) & (start + 1 < width)
        b_two = (digit[rows, c0] & digit[rows, c1] & ~digit[rows, c2] & (grid[rows, c2] != 0)
                 & (start + 2 < width))
        b = np.where(b_one, num[rows, c0], np.where(b_two, num[rows, c0] * 10 + num[rows, c1], -1)).astype(float)
        sep_ok = (one | two) & ~digit[rows, start - 1] & (grid[rows, start - 1] != 0)
        a[~sep_ok | (a < 0)] = np.nan
        b[np.isnan(a) | (b < 0)] = np.nan
        a[np.isnan(b)] = np.nan
        return a, b
    parts = stripped.str.extract(r"^(\d{1,2})\D(\d{1,2})\D")
    a = pd.to_numeric(parts[0], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    b = pd.to_numeric(parts[1], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return a, b


def infer_date_formats(
    values: pd.Series,
    counts: np.ndarray | None = None,
    *,
    min_share: float = 0.8,
    dayfirst: bool | None = None,
) -> DateInference | None:
    """Infer the date format(s) of string ``values`` (distinct values, with ``counts``).

    Parameters
    ----------
    values : pandas.Series
        Non-missing strings, typically a column's distinct values.
    counts : array of int, optional
        How many rows hold each value; 1 each by default.
    min_share : float, default=0.8
        The share of values (weighted by ``counts``) that must match a date
        format for the column to count as dates.
    dayfirst : bool, optional
        The order to assume when slash/dash/dot dates are ambiguous.

    Returns
    -------
    DateInference or None
        None when the values are not dates.

    Examples
    --------
    >>> import pandas as pd
    >>> inf = infer_date_formats(pd.Series(["2024-01-31", "31/01/2024", "Jan 31, 2024"]))
    >>> sorted(inf.formats), inf.dayfirst
    (['%Y-%m-%d', '%b %d, %Y', '%d/%m/%Y'], True)
    >>> infer_date_formats(pd.Series(["a", "b"])) is None
    True
    """
    n = len(values)
    if n == 0:
        return None
    weights = np.ones(n, dtype=np.int64) if counts is None else np.asarray(counts, dtype=np.int64)
    total = int(weights.sum())
    hint: list[str] = []
    if n > _PRESCREEN:
        # A look at a sample first: most text columns are plainly not dates, and the
        # families found go first when every value is classified.
        picks = np.sort(np.random.default_rng(0).choice(n, size=_PRESCREEN, replace=False))
        sample = classify(values.iloc[picks])
        w = weights[picks]
        if w.sum() and float(w[sample != ""].sum() / w.sum()) < 0.5 * min_share:
            return None
        found = pd.Series(w[sample != ""]).groupby(sample[sample != ""]).sum().sort_values(ascending=False)
        hint = [str(f) for f in found.index]
    labels = classify(values, hint)
    matched = labels != ""
    strong = matched & ~np.isin(labels, _WEAK)
    if total == 0 or weights[strong].sum() == 0:
        return None
    share = float(weights[matched].sum() / total)
    if share < min_share:
        return None
    formats: dict[str, int] = {}
    order_known: bool | None = None
    ambiguous = False
    ordered = np.isin(labels, _ORDERED)
    if ordered.any():
        a, b = _parts(values[ordered])
        a_day = bool(np.nanmax(a, initial=0) > 12)
        b_day = bool(np.nanmax(b, initial=0) > 12)
        if a_day and not b_day:
            order_known = True
        elif b_day and not a_day:
            order_known = False
        elif not a_day and not b_day:
            ambiguous = True
            order_known = dayfirst
    for family in dict.fromkeys(labels[matched]):
        pattern = _FAMILIES[family][1]
        mask = labels == family
        if family in _ORDERED:
            if order_known is None and not ambiguous:
                a, b = _parts(values[mask])
                w = weights[mask]
                # Both orders occur: count each, values with both parts <= 12 go
                # to the majority order.
                dmy = int(w[a > 12].sum())
                mdy = int(w[b > 12].sum())
                rest = int(w[(a <= 12) & (b <= 12)].sum())
                if dmy >= mdy:
                    dmy += rest
                else:
                    mdy += rest
                for count, first in ((dmy, True), (mdy, False)):
                    if count:
                        fmt = _ordered_format(pattern, first)
                        formats[fmt] = formats.get(fmt, 0) + count
                continue
            pattern = _ordered_format(pattern, order_known is True)
        formats[pattern] = formats.get(pattern, 0) + int(weights[mask].sum())
    formats = dict(sorted(formats.items(), key=lambda kv: (-kv[1], kv[0])))
    return DateInference(
        formats=formats,
        dayfirst=order_known,
        ambiguous=ambiguous,
        share=share,
        unmatched=int(weights[~matched].sum()),
    )


#: Families whose values cannot be misread, whatever the column learned.
_UNAMBIGUOUS = ("iso_datetime", "iso_date", "ymd_slash", "mon_d_y", "month_d_y", "d_mon_y")


def unambiguous_formats(dayfirst: bool | None = None) -> list[str]:
    """Formats safe to parse at transform even when not seen at fit.

    The formats of ISO dates and date-times, ``yyyy/mm/dd`` and the
    month-name forms; with a known day/month order (``dayfirst`` True or
    False), also the slash/dash/dot forms in that order. Epoch numbers are
    never included (a bare number may be an identifier).

    Examples
    --------
    >>> unambiguous_formats()[:3]
    ['ISO8601', '%Y-%m-%d', '%Y/%m/%d']
    >>> unambiguous_formats(True)[-1]
    '%d/%m/%Y %H:%M:%S'
    """
    out = [_FAMILIES[f][1] for f in _UNAMBIGUOUS]
    if dayfirst is not None:
        out += [_ordered_format(_FAMILIES[f][1], dayfirst) for f in _ORDERED]
    return out


def _ordered_format(pattern: str, dayfirst: bool) -> str:
    return pattern.format(a="%d" if dayfirst else "%m", b="%m" if dayfirst else "%d")


def _family_of(fmt: str) -> str:
    for family, (_, pattern) in _FAMILIES.items():
        if pattern == fmt:
            return family
        if family in _ORDERED and fmt in (_ordered_format(pattern, True), _ordered_format(pattern, False)):
            return family
    return ""


def parse_dates(values: pd.Series, formats: list[str]) -> tuple[pd.Series, np.ndarray]:
    """Parse string ``values`` with the learned ``formats``.

    Each value is parsed with the format of its family only, so a value in a
    format that was not learned (an *unseen* format) is not guessed.

    Returns
    -------
    parsed : pandas.Series of datetime64[ns]
        NaT where a value is missing or did not parse.
    unparsed : array of bool
        True where a value was present but did not parse.

    Examples
    --------
    >>> import pandas as pd
    >>> parsed, bad = parse_dates(pd.Series(["31/01/2024", "2024-02-01", "soon"]), ["%d/%m/%Y"])
    >>> parsed.dt.strftime("%Y-%m-%d").tolist()[0], bad.tolist()
    ('2024-01-31', [False, True, True])
    """
    n = len(values)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    present = values.notna().to_numpy(dtype=bool)
    done = np.zeros(n, dtype=bool)
    if present.any():
        labels = np.full(n, "", dtype=object)
        labels[present] = classify(values[present], [_family_of(f) for f in formats])
        text = values.astype("string").str.strip()
        for fmt in formats:
            family = _family_of(fmt)
            mask = (labels == family) & ~done
            if not mask.any():
                continue
            chunk = text[mask]
            if fmt in ("epoch_s", "epoch_ms"):
                numbers = pd.to_numeric(chunk, errors="coerce")
                parsed = pd.to_datetime(numbers, unit="s" if fmt == "epoch_s" else "ms", errors="coerce")
            else:
                parsed = _to_datetime(chunk, fmt)
            stamps = parsed.to_numpy(dtype="datetime64[ns]")
            out[mask] = stamps
            done[np.flatnonzero(mask)[~np.isnat(stamps)]] = True
    return pd.Series(out, index=values.index, name=values.name), present & ~done


def _to_datetime(chunk: pd.Series, fmt: str) -> pd.Series:
    with warnings.catch_warnings():
        # Mixed UTC offsets: pandas 3 raises, pandas 2.x warns (FutureWarning) and returns
        # objects. Both mean "parse as UTC".
        warnings.simplefilter("error", FutureWarning)
        try:
            parsed = pd.to_datetime(chunk, format=fmt, errors="coerce")
        except (ValueError, TypeError, FutureWarning):
            parsed = pd.to_datetime(chunk, format=fmt, errors="coerce", utc=True)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


# ---- what kind of dates ---------------------------------------------------------------
#: Four-digit years read as yearly dates (outside this range a four-digit number is a code).
YEAR_RANGE = (1800, 2200)
_OFFSET = r"(Z|[+-]\d{2}:?\d{2})$"


def year_share(values: pd.Series, counts: np.ndarray | None = None) -> float:
    """Share of string ``values`` (weighted by ``counts``) that are years (``"2019"``).

    Examples
    --------
    >>> year_share(pd.Series(["2019", "2020", "N/A", "2021"]))
    0.75
    >>> year_share(pd.Series(["0042", "9999"]))
    0.0
    """
    n = len(values)
    if n == 0:
        return 0.0
    weights = np.ones(n, dtype=np.int64) if counts is None else np.asarray(counts, dtype=np.int64)
    text = values.astype("string").str.strip()
    digits = text.str.fullmatch(r"\d{4}").fillna(False).to_numpy(dtype=bool)
    years = pd.to_numeric(text.where(digits), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ok = digits & (years >= YEAR_RANGE[0]) & (years <= YEAR_RANGE[1])
    total = int(weights.sum())
    return float(weights[ok].sum() / total) if total else 0.0


def date_or_datetime(s: pd.Series) -> str:
    """``"date"`` when every present timestamp is at midnight (on its own clock), else ``"datetime"``.

    Examples
    --------
    >>> date_or_datetime(pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01"])))
    'date'
    >>> date_or_datetime(pd.Series(pd.to_datetime(["2024-01-01 10:30", None])))
    'datetime'
    """
    values = s.dropna()
    if isinstance(values.dtype, pd.PeriodDtype):
        return "date"
    if values.dt.tz is not None:
        values = values.dt.tz_localize(None)
    return "date" if bool((values == values.dt.normalize()).all()) else "datetime"


def text_date_kind(values: pd.Series, formats: Sequence[str]) -> str:
    """``"date"``, ``"datetime"`` or ``"datetime_utc"`` for date strings in the learned ``formats``.

    ``datetime_utc`` when the values carry different UTC offsets (or offsets
    next to values without one): such a column is only comparable in UTC.
    ``datetime`` when some value has a time of day (or an offset), ``date``
    otherwise. ``values`` are distinct present strings (no null tokens).

    Examples
    --------
    >>> text_date_kind(pd.Series(["2024-01-01T10:00+01:00", "2024-01-01T10:00+05:00"]), ["ISO8601"])
    'datetime_utc'
    >>> text_date_kind(pd.Series(["2024-01-01", "2024-03-05"]), ["%Y-%m-%d"])
    'date'
    """
    text = values.astype("string").str.strip()
    offsets = text.str.extract(_OFFSET, expand=False)
    with_offset = offsets.notna().to_numpy(dtype=bool)
    if with_offset.any():
        normal = offsets[with_offset].str.replace(":", "", regex=False).replace({"Z": "+0000"})
        if normal.nunique() > 1 or not with_offset.all():
            return "datetime_utc"
        return "datetime"
    parsed, _ = parse_dates(values.reset_index(drop=True), list(formats))
    return date_or_datetime(parsed)


def parse_datetime_objects(s: pd.Series) -> pd.Series | None:
    """Python ``datetime`` / ``date`` / ``Timestamp`` objects as datetime64, or None.

    None when they mix time zones (or naive and aware values): pandas then
    cannot hold them in one datetime column without a conversion to UTC.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            parsed = pd.to_datetime(s)
    except (ValueError, TypeError, Warning):
        return None
    is_dt = isinstance(parsed.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(parsed.dtype)
    return parsed if is_dt else None


def object_date_kind(s: pd.Series) -> str:
    """``"date"``, ``"datetime"`` or ``"datetime_utc"`` for a column of Python datetime objects.

    Examples
    --------
    >>> import datetime as dt
    >>> object_date_kind(pd.Series([dt.date(2024, 1, 1), dt.date(2024, 2, 1)], dtype=object))
    'date'
    """
    parsed = parse_datetime_objects(s)
    return "datetime_utc" if parsed is None else date_or_datetime(parsed)
