"""One column-kind detector: what each column is, decided once, with the reason.

Every module that needs to know "identifier, date, category or number" asks
here: the audit (``profile``'s ``kind`` column, the ``id_like`` finding, the
checks that skip identifiers), ``make_preprocessor`` (which entry a column goes
to), ``drift_report`` (identifiers are skipped, never "drifted") and
``check_leakage`` / ``split`` (group-key candidates). :func:`column_kinds`
returns one :class:`ColumnKind` per column: the kind, a plain-English reason,
and the facts behind it (distinct values, missing and disguised-null shares,
date and number shares, monotonicity...).

The kinds
---------
``numeric``, ``boolean``, ``categorical`` (at most ``max_categories`` distinct
values), ``high_cardinality`` (more), ``datetime`` (timestamps with a time of
day), ``date`` (no time of day; also years written alone, ``"2019"``),
``datetime_utc`` (text with several UTC offsets: comparable only in UTC),
``timedelta``, ``text`` (free text), ``numeric_text`` (numbers stored as
text), ``identifier``, ``constant``, ``empty`` and ``mixed`` (several Python
types in one object column: numbers and text, or dicts and lists).

How a column is read
--------------------
- Large columns are read on a sample of ``sample_size`` rows that keeps the
  first and the last row, in order (so a counter stays monotone). A verdict
  the sample cannot prove (``empty``, ``constant``, ``identifier``) is
  confirmed on the full column.
- Disguised nulls (``"N/A"``, ``""``, ``"-"``, ``"?"``, ``"null"``... and word
  tokens that are not a real level of the column: :mod:`mllife._nulls`) are
  discounted before anything is decided, so ISO dates with 2% ``"N/A"`` are
  ``date`` and a column of only tokens is ``empty``. They count as missing.
- Text is then, in this order: a yes/no flag (exactly two values forming a
  pair such as ``"Y"``/``"N"``, ``"yes"``/``"no"``, ``"true"``/``"false"``,
  ``"T"``/``"F"``, ``"1"``/``"0"``: ``boolean``); years (``"2019"``; 80% of the values) or dates in known
  formats (80% of the values, :func:`mllife._dates.infer_date_formats`):
  ``date``/``datetime``/``datetime_utc``; numbers (95% of the values, more
  than two distinct ones; leading zeros such as ``"007"`` and bare digit codes
  of one width of 4 or more are codes, not numbers: :func:`numeric_text_share`):
  ``numeric_text``; an identifier (below); free text; a category.

The identifier rule (one rule for everybody)
--------------------------------------------
A column is an ``identifier`` when it is **unique per row** (at least 95% of
its values distinct, at least 50 values, at most 5% missing, disguised nulls
included) **and shaped like a key** **and not a measurement**:

- text: short (median 40 characters at most), without spaces (under 5% of the
  values), not numbers and not dates (``"CUST-000212"``, UUIDs, ``"000123"``);
- integers (an integer dtype, Python ints, or whole floats with a missing
  value: pandas stores an integer column with a NaN as floats, so a
  ``customer_id`` read from a CSV with a gap is still integers; whole floats
  without a gap were stored as floats on purpose and are never identifiers):
  a counter (in increasing or decreasing order in the rows: ``order_no``), or
  named like an identifier (a name part such as ``id``, ``key``, ``uuid``,
  ``no``, ``number``, ``customer``, ``account``: ``customer_id``), or with no
  numeric meaning (the values fill at least half of the range between their
  minimum and maximum, as assigned numbers do: a shuffled ``1..n``);
- but never integers named like a time unit and not like an identifier
  (``year``, ``month``, ``epoch``...): a yearly table has one row per year,
  and its ``year`` is a number.

Unique integers spread over a wide range under a plain name are measurements
(an income in dollars): ``numeric``. Non-integral numbers (``amount``), pandas
``category`` columns (their levels were declared),
datetimes, booleans and repeated values (a panel's person id, a ``year``
column) are never identifiers. A declared ``id_cols`` column is an
identifier; the ``target`` and the ``time_col`` never are.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ._dates import (
    date_or_datetime,
    infer_date_formats,
    object_date_kind,
    text_date_kind,
    year_share,
)
from ._dtypes import is_bool, is_datetime, is_numeric
from ._nulls import disguised_nulls, factorize, null_like_mask, token_levels

__all__ = [
    "DATE_KINDS", "KINDS", "ColumnKind", "NumberFacts", "column_kind", "column_kinds", "kind_of_counts",
    "kind_of_number_facts", "kind_of_numbers", "named_like_id", "named_like_time", "numeric_text_share",
    "parse_number_text", "unique_per_row",
]

#: Every kind :func:`column_kinds` can return.
KINDS: tuple[str, ...] = (
    "numeric", "boolean", "categorical", "high_cardinality", "datetime", "date", "datetime_utc",
    "timedelta", "text", "numeric_text", "identifier", "constant", "empty", "mixed",
)
#: The kinds that are dates or timestamps.
DATE_KINDS = frozenset({"datetime", "date", "datetime_utc"})

#: An identifier has at least this many values...
ID_MIN_ROWS = 50
#: ...this share of them distinct...
ID_UNIQUE_SHARE = 0.95
#: ...and at most this share of the rows missing (disguised nulls included).
ID_MAX_MISSING = 0.05
#: Integers whose range is at most this many times their distinct count are assigned numbers.
ID_DENSE_SPAN = 2.0
#: Text identifiers are short (median length) and almost never hold a space.
ID_MAX_LENGTH = 40
ID_MAX_SPACE_SHARE = 0.05
#: Share of the values that must be dates (or years) for a text column to be dates.
DATE_SHARE = 0.8
#: Share of the values that must be numbers for a text column to be numbers stored as text.
NUMERIC_TEXT_SHARE = 0.95
#: Free text: more distinct values than this, long (median length) and mostly with spaces.
TEXT_MIN_UNIQUE = 50
TEXT_MIN_LENGTH = 20
TEXT_SPACE_SHARE = 0.5
#: Distinct values of a text column examined for its text facts (lengths, spaces, dates).
_DISTINCT_SAMPLE = 1_000

#: Name parts that say a column identifies something (``customer_id``, ``OrderNo``).
ID_NAME_PARTS = frozenset({
    "id", "ids", "key", "uuid", "guid", "no", "nr", "number", "customer", "user", "account",
    "client", "patient", "member", "session", "device", "household", "email", "phone",
})
#: Name parts that say a column counts time (``year``, ``fiscal_month``): unique integers under
#: such a name (a yearly table, one row per year) are numbers, not identifiers.
TIME_NAME_PARTS = frozenset({
    "year", "years", "yr", "yyyy", "quarter", "month", "months", "week", "weeks", "day", "days",
    "hour", "hours", "minute", "minutes", "second", "seconds", "epoch", "timestamp", "ts",
})
#: Two-value text flags, as (false, true) in their case-folded form.
BOOLEAN_PAIRS: tuple[tuple[str, str], ...] = (
    ("no", "yes"), ("n", "y"), ("false", "true"), ("f", "t"), ("0", "1"),
)


@dataclass(frozen=True)
class ColumnKind:
    """The kind of one column, why, and the facts behind it.

    Attributes
    ----------
    column : hashable
        The column label.
    kind : str
        One of :data:`KINDS`.
    reason : str
        Why, in one plain-English sentence.
    dtype : str
        The column's dtype.
    n_rows : int
        Rows read (the sample's size when ``sampled``).
    n_missing : int
        Missing cells among them.
    n_null_tokens : int
        Disguised nulls among them (``"N/A"``, ``""``...), discounted before
        deciding and counted as missing.
    n_unique : int
        Distinct values, disguised nulls excluded.
    unique_share : float
        ``n_unique`` over the values present.
    date_share : float
        Share of the (text) values that are dates or years.
    date_formats : tuple of str
        The date formats found (``"%Y-%m-%d"``, ``"ISO8601"``, ``"%Y"`` for years).
    numeric_share : float
        Share of the (text) values that are numbers written as text.
    space_share : float
        Share of the distinct (text) values holding a space.
    median_length : float
        Median length of the distinct (text) values (NaN for other columns).
    integer : bool
        The numbers are integers (an integer dtype, or Python ints in an object column).
    monotone : bool
        The values never decrease, or never increase, down the rows.
    dense : bool
        Whole numbers that fill at least half of their range (assigned numbers).
    named_like_id : bool
        A part of the name says identifier (``id``, ``key``, ``customer``...).
    boolean_values : tuple of str or None
        For a yes/no text flag: its (false, true) spellings.
    sampled : bool
        The facts come from a sample of the rows.

    Examples
    --------
    >>> import pandas as pd
    >>> kind = column_kind(pd.Series(["2024-01-31", "2024-02-01", "N/A"] * 20), name="signup")
    >>> kind.kind, kind.n_null_tokens
    ('date', 20)
    >>> kind.reason
    "dates written as text (%Y-%m-%d); 20 disguised nulls ('N/A') discounted"
    """

    column: Hashable
    kind: str
    reason: str
    dtype: str = ""
    n_rows: int = 0
    n_missing: int = 0
    n_null_tokens: int = 0
    n_unique: int = 0
    unique_share: float = 0.0
    date_share: float = 0.0
    date_formats: tuple[str, ...] = ()
    numeric_share: float = 0.0
    space_share: float = 0.0
    median_length: float = float("nan")
    integer: bool = False
    monotone: bool = False
    dense: bool = False
    named_like_id: bool = False
    boolean_values: tuple[str, str] | None = None
    sampled: bool = False

    def __repr__(self) -> str:
        return f"<ColumnKind {self.column!r}: {self.kind}>"

    @property
    def missing_share(self) -> float:
        """Share of the rows missing, disguised nulls included."""
        return (self.n_missing + self.n_null_tokens) / self.n_rows if self.n_rows else 0.0

    @property
    def n_values(self) -> int:
        """Rows holding a value (neither missing nor a disguised null)."""
        return self.n_rows - self.n_missing - self.n_null_tokens

    def to_dict(self) -> dict[str, Any]:
        """The kind, reason and facts as plain data (JSON-safe but for the column label)."""
        out = asdict(self)
        out["date_formats"] = list(self.date_formats)
        out["boolean_values"] = None if self.boolean_values is None else list(self.boolean_values)
        return out


# ---- name and number helpers ---------------------------------------------------------
def named_like_id(name: Any) -> bool:
    """True when a part of the column name says identifier (``customer_id``, ``OrderNo``, ``uuid``).

    Examples
    --------
    >>> [named_like_id(n) for n in ("customer_id", "OrderNo", "amount", "idle_time", 3)]
    [True, True, False, False, False]
    """
    return bool(_name_parts(name) & ID_NAME_PARTS)


def named_like_time(name: Any) -> bool:
    """True when a part of the column name counts time (``year``, ``fiscal_month``, ``epoch``).

    Examples
    --------
    >>> [named_like_time(n) for n in ("year", "FiscalYear", "order_no", "daycare")]
    [True, True, False, False]
    """
    return bool(_name_parts(name) & TIME_NAME_PARTS)


def _name_parts(name: Any) -> set[str]:
    if not isinstance(name, str):
        return set()
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return set(re.split(r"[^a-z0-9]+", spaced.lower()))


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

    Examples
    --------
    >>> values, zero = parse_number_text(pd.Series(["$1,234.50", "(12)", "12.5%", "007", "abc"]))
    >>> values.tolist()[:3], zero.tolist()
    ([1234.5, -12.0, 0.125], [False, False, False, True, False])
    """
    stripped = text.astype("string").str.strip()
    values_out = np.full(len(stripped), np.nan)
    zero_out = np.zeros(len(stripped), dtype=bool)
    # A yes/no pass first: extracting the parts costs far more, and most text is not numbers.
    shaped = np.flatnonzero(stripped.str.match(_NUMBER_TEXT).fillna(False).to_numpy(dtype=bool))
    if shaped.size == 0:
        return values_out, zero_out
    parts = stripped.iloc[shaped].str.extract(_NUMBER_TEXT.pattern)
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
    values_out[shaped] = values
    zero_out[shaped] = leading_zero
    return values_out, zero_out


def numeric_text_share(uniques: pd.Series, counts: np.ndarray) -> tuple[float, np.ndarray]:
    """Share of text rows (null tokens excluded) that are numbers, and which values.

    A number may carry thousands separators, a currency symbol, accounting
    parentheses or a percent sign (see :func:`parse_number_text`). Values
    with a leading zero (``"007"``, zip codes) do not count as numbers: the
    zero carries meaning a float would lose; nor does a column whose numbers
    are all bare digit strings of one width of 4 or more (``"94110"``,
    ``"10001"``: zip codes, account numbers), which are codes. Null tokens
    are left out, except those that are real levels of the column (see
    :func:`mllife._nulls.token_levels`: ``"none"`` as frequent as the
    numbers), which count as non-numbers. Columns with many distinct values
    are first judged on a sample of 2,000 of them; below half numbers, the
    sample's share is returned (and no value is marked).

    Examples
    --------
    >>> import numpy as np
    >>> share, which = numeric_text_share(pd.Series(["1.5", "2", "N/A", "x"]), np.array([5, 4, 1, 1]))
    >>> round(share, 2), which.tolist()
    (0.9, [True, True, False, False])
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


# ---- the rules -------------------------------------------------------------------------
def _unique_enough(n_rows: int, n_values: int, n_unique: int) -> bool:
    """At least 50 values, 95% of them distinct, at most 5% of the rows missing."""
    return (n_values >= ID_MIN_ROWS and n_unique >= ID_UNIQUE_SHARE * n_values
            and n_values >= (1.0 - ID_MAX_MISSING) * n_rows)


def unique_per_row(n_rows: int, n_values: int, n_unique: int) -> bool:
    """The identifier rule's uniqueness test (at least 50 values, 95% distinct, at most 5% missing).

    Examples
    --------
    >>> unique_per_row(100, 100, 100), unique_per_row(100, 100, 60), unique_per_row(100, 90, 90)
    (True, False, False)
    """
    return _unique_enough(int(n_rows), int(n_values), int(n_unique))


def _integer_identifier(facts: Mapping[str, Any], lo: float, hi: float) -> str | None:
    """Why unique integers are an identifier, or None when they are a measurement."""
    if not facts["integer"] or not _unique_enough(facts["n_rows"], facts["n_values"], facts["n_unique"]):
        return None
    if facts.get("named_like_time") and not facts["named_like_id"]:
        return None  # a yearly table's ``year``: one row per year, still a number
    unique = f"unique per row ({facts['n_unique']} distinct integers in {facts['n_values']} rows)"
    if facts["monotone"]:
        order = "decreasing" if facts.get("decreasing") else "increasing"
        return f"{unique}, in {order} order down the rows: a counter"
    if facts["named_like_id"]:
        return f"{unique} and named like an identifier"
    if facts["dense"]:
        return (f"{unique}, filling the range {lo:g}..{hi:g} like assigned numbers: "
                "no numeric meaning")
    return None


def _text_identifier(facts: Mapping[str, Any]) -> str | None:
    """Why unique text is an identifier, or None."""
    if not _unique_enough(facts["n_rows"], facts["n_values"], facts["n_unique"]):
        return None
    if (facts["space_share"] >= ID_MAX_SPACE_SHARE or facts["numeric_share"] >= 0.5
            or facts["date_share"] >= 0.5 or not facts["median_length"] <= ID_MAX_LENGTH):
        return None
    return (f"unique per row ({facts['n_unique']} distinct values in {facts['n_values']} rows), "
            "short and without spaces: an identifier")


def _category(n_unique: int, max_categories: int, what: str = "distinct values") -> tuple[str, str]:
    if n_unique <= max_categories:
        return "categorical", f"{n_unique} {what}, at most max_categories={max_categories}"
    return "high_cardinality", f"{n_unique} {what}, more than max_categories={max_categories}"


def _tokens_note(n_tokens: int, shown: list[str]) -> str:
    if not n_tokens:
        return ""
    listed = ", ".join(repr(t) for t in shown[:3])
    return f"; {n_tokens} disguised null{'s' if n_tokens != 1 else ''} ({listed}) discounted"


# ---- one column ------------------------------------------------------------------------
def _sample_positions(n: int, size: int) -> np.ndarray:
    """Sorted positions of a sample of ``size`` rows that keeps the first and last row."""
    positions = np.sort(np.random.default_rng(0).choice(n, size=size, replace=False))
    positions[0], positions[-1] = 0, n - 1
    return positions


def kind_of_numbers(values: np.ndarray, *, name: Any = None, integer_dtype: bool = False,
                    n_rows: int | None = None, n_missing: int = 0, ordered: bool = True,
                    may_be_identifier: bool = True, dtype: str = "") -> ColumnKind:
    """The kind of a column of numbers (``values`` in row order, NaN for missing).

    ``ordered=False`` says the order of ``values`` is not the rows' (a sorted
    summary): a counter cannot be recognised then.

    Examples
    --------
    >>> import numpy as np
    >>> kind_of_numbers(np.arange(100.0), name="order_no", integer_dtype=True).kind
    'identifier'
    >>> kind_of_numbers(np.random.default_rng(0).normal(size=100), name="amount").kind
    'numeric'
    """
    values = np.asarray(values, dtype=float)
    present = ~np.isnan(values)
    x = values[present]
    uniq = np.unique(x)
    finite = uniq[np.isfinite(uniq)]
    with np.errstate(invalid="ignore"):  # inf - inf
        diffs = np.diff(x)
    facts = NumberFacts(
        n_rows=int(values.size if n_rows is None else n_rows), n_missing=int(n_missing + (~present).sum()),
        n_values=int(x.size), n_unique=int(uniq.size), n_finite_unique=int(finite.size),
        whole=bool(np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 2.0**53)),
        increasing=bool(np.all(diffs >= 0)), decreasing=bool(np.all(diffs <= 0)),
        lo=float(finite[0]) if finite.size else np.nan, hi=float(finite[-1]) if finite.size else np.nan,
        first=float(x[0]) if x.size else np.nan)
    return kind_of_number_facts(facts, name=name, integer_dtype=integer_dtype, ordered=ordered,
                                may_be_identifier=may_be_identifier, dtype=dtype)


@dataclass(frozen=True)
class NumberFacts:
    """What :func:`kind_of_numbers` reads from a column of numbers, and nothing more.

    Every fact merges over parts of a column taken in row order (counts add,
    flags and, extremes min/max; ``increasing``/``decreasing`` also compare
    the parts' boundary values), except ``n_unique``: so a column too large
    for one machine is judged like a column in memory (:mod:`mllife.drift._dask_kinds`).
    """

    n_rows: int  #: rows, missing ones included
    n_missing: int  #: NaN (missing) rows
    n_values: int  #: rows holding a number (inf included)
    n_unique: int  #: distinct numbers (inf and -inf count)
    n_finite_unique: int  #: distinct finite numbers
    whole: bool  #: every finite number is whole and below 2**53 in size
    increasing: bool  #: the numbers never decrease down the rows
    decreasing: bool  #: the numbers never increase down the rows
    lo: float  #: the smallest finite number (NaN when none)
    hi: float  #: the largest finite number (NaN when none)
    first: float  #: the first number down the rows (NaN when none)


def kind_of_number_facts(facts: NumberFacts, *, name: Any = None, integer_dtype: bool = False,
                         ordered: bool = True, may_be_identifier: bool = True, dtype: str = "") -> ColumnKind:
    """The kind of a column of numbers from its :class:`NumberFacts` (the rules of :func:`kind_of_numbers`).

    Examples
    --------
    >>> facts = NumberFacts(n_rows=100, n_missing=0, n_values=100, n_unique=100, n_finite_unique=100,
    ...                     whole=True, increasing=True, decreasing=False, lo=0.0, hi=99.0, first=0.0)
    >>> kind_of_number_facts(facts, name="order_no", integer_dtype=True).kind
    'identifier'
    """
    n_rows, n_missing, n_unique, lo, hi = facts.n_rows, facts.n_missing, facts.n_unique, facts.lo, facts.hi
    base: dict[str, Any] = {"dtype": dtype, "n_rows": n_rows, "n_missing": n_missing}
    if facts.n_values == 0:
        return ColumnKind(name, "empty", "no value at all", **base)
    # pandas stores integers with a missing value as floats: whole floats with a gap are integers
    upcast = bool(not integer_dtype and n_missing > 0 and facts.n_finite_unique == n_unique and facts.whole)
    integer = bool(integer_dtype) or upcast
    monotone = bool(ordered and facts.n_values > 1 and (facts.increasing or facts.decreasing))
    dense = bool(integer and facts.n_finite_unique > 1 and (hi - lo + 1) <= ID_DENSE_SPAN * n_unique)
    rules = {"n_rows": n_rows, "n_values": facts.n_values, "n_unique": n_unique, "integer": integer,
             "monotone": monotone, "decreasing": monotone and not facts.increasing,
             "dense": dense, "named_like_id": named_like_id(name), "named_like_time": named_like_time(name)}
    more = {**base, "n_unique": n_unique, "unique_share": n_unique / facts.n_values, "integer": integer,
            "monotone": monotone, "dense": dense, "named_like_id": rules["named_like_id"]}
    if n_unique == 1:
        return ColumnKind(name, "constant", f"one value ({facts.first:g}) in every present row", **more)
    if may_be_identifier:
        why = _integer_identifier(rules, lo, hi)
        if why is not None:
            if upcast:
                why += " (integers stored as floats because of missing values)"
            return ColumnKind(name, "identifier", why, **more)
    if integer and _unique_enough(n_rows, facts.n_values, n_unique) and may_be_identifier:
        what = ("named like a time unit (one row per period), read as time"
                if rules["named_like_time"] and not rules["named_like_id"] else
                f"spread over a wide range ({lo:g}..{hi:g}), read as a measurement")
        reason = f"numbers: unique integers {what} (declare it in id_cols if it identifies rows)"
    else:
        reason = f"numbers ({n_unique} distinct values)"
    return ColumnKind(name, "numeric", reason, **more)


def kind_of_counts(uniques: pd.Series, counts: np.ndarray, *, name: Any = None, n_missing: int = 0,
                   max_categories: int = 30, may_be_identifier: bool = True,
                   dtype: str = "object") -> ColumnKind:
    """The kind of a text column given its distinct values and their row counts.

    The text rules of the module docstring on distinct values (the order of
    the rows is not needed for text).

    Examples
    --------
    >>> import numpy as np
    >>> kind_of_counts(pd.Series(["Y", "N"]), np.array([30, 20])).kind
    'boolean'
    >>> kind_of_counts(pd.Series(["001", "002", "003"]), np.array([10, 10, 10])).kind
    'categorical'
    """
    counts = np.asarray(counts, dtype=np.int64)
    tokens = disguised_nulls(uniques, counts) if len(uniques) else np.zeros(0, dtype=bool)
    n_tokens = int(counts[tokens].sum())
    note = _tokens_note(n_tokens, [str(v) for v in uniques[tokens]])
    values, vcounts = uniques[~tokens].reset_index(drop=True), counts[~tokens]
    n_values = int(vcounts.sum())
    n_rows = int(counts.sum()) + int(n_missing)
    n_unique = len(values)
    base: dict[str, Any] = {"dtype": dtype, "n_rows": n_rows, "n_missing": int(n_missing),
                            "n_null_tokens": n_tokens, "n_unique": n_unique,
                            "unique_share": n_unique / n_values if n_values else 0.0,
                            "named_like_id": named_like_id(name)}
    if n_values == 0:
        why = "no value at all" if not n_tokens else "only missing values and disguised nulls" + note[1:]
        return ColumnKind(name, "empty", why, **base)
    if n_unique == 1:
        return ColumnKind(name, "constant", f"one value ({str(values.iloc[0])!r}) in every present row"
                          + note, **base)
    forms = [" ".join(str(v).split()).casefold() for v in values.iloc[:3]]
    if n_unique == 2:
        for false, true in BOOLEAN_PAIRS:
            if set(forms) == {false, true}:
                spelled = (str(values.iloc[forms.index(false)]), str(values.iloc[forms.index(true)]))
                return ColumnKind(name, "boolean", f"two values, {spelled[0]!r} and {spelled[1]!r}: "
                                  "a yes/no flag" + note, boolean_values=spelled, **base)
    sample, scounts = values, vcounts
    if n_unique > _DISTINCT_SAMPLE:
        picks = np.sort(np.random.default_rng(0).choice(n_unique, size=_DISTINCT_SAMPLE, replace=False))
        sample, scounts = values.iloc[picks].reset_index(drop=True), vcounts[picks]
    text = sample.astype("string")
    lengths = text.str.len().to_numpy(dtype=float, na_value=np.nan)
    facts: dict[str, Any] = {
        "space_share": float(text.str.contains(" ", regex=False).fillna(False).mean()),
        "median_length": float(np.nanmedian(lengths)) if lengths.size else float("nan"),
    }
    years = year_share(sample, scounts)
    if years >= DATE_SHARE:
        return ColumnKind(name, "date", "years written as text (" + ", ".join(
            str(v) for v in sample.iloc[:2]) + "...): yearly dates" + note, date_share=years,
            date_formats=("%Y",), **base, **facts)
    inference = infer_date_formats(sample, scounts, min_share=DATE_SHARE)
    if inference is not None:
        formats = tuple(inference.formats)
        kind = text_date_kind(sample, list(formats))
        what = {"date": "dates", "datetime": "timestamps",
                "datetime_utc": "timestamps with several UTC offsets (read in UTC)"}[kind]
        return ColumnKind(name, kind, f"{what} written as text ({', '.join(formats)})" + note,
                          date_share=inference.share, date_formats=formats, **base, **facts)
    facts["date_share"] = 0.0
    facts["numeric_share"], is_number = numeric_text_share(values, vcounts)
    if facts["numeric_share"] >= NUMERIC_TEXT_SHARE and int(is_number.sum()) > 2:
        return ColumnKind(name, "numeric_text", f"numbers stored as text ({facts['numeric_share']:.0%} of "
                          "the values)" + note, **base, **facts)
    if may_be_identifier:
        key = _text_identifier({**facts, "n_rows": n_rows, "n_values": n_values, "n_unique": n_unique})
        if key is not None:
            return ColumnKind(name, "identifier", key + note, **base, **facts)
    long_text = (n_unique > TEXT_MIN_UNIQUE and facts["median_length"] > TEXT_MIN_LENGTH
                 and facts["space_share"] > TEXT_SPACE_SHARE)
    unique_words = (_unique_enough(n_rows, n_values, n_unique)
                    and facts["space_share"] >= ID_MAX_SPACE_SHARE)
    if long_text or unique_words:
        return ColumnKind(name, "text", f"free text: {n_unique} distinct values in {n_values} rows, "
                          f"{facts['space_share']:.0%} with spaces (median length "
                          f"{facts['median_length']:g})" + note, **base, **facts)
    kind, why = _category(n_unique, max_categories)
    return ColumnKind(name, kind, why + note, **base, **facts)


def _decide(s: pd.Series, name: Any, max_categories: int, may_be_identifier: bool) -> ColumnKind:
    """The kind of ``s`` read in full (no sampling here)."""
    dtype = str(s.dtype)
    n = len(s)
    if is_bool(s) or is_datetime(s) or isinstance(s.dtype, pd.PeriodDtype) \
            or pd.api.types.is_timedelta64_dtype(s.dtype):
        present = s.dropna()
        base: dict[str, Any] = {"dtype": dtype, "n_rows": n, "n_missing": n - len(present)}
        if len(present) == 0:
            return ColumnKind(name, "empty", "no value at all", **base)
        n_unique = int(present.nunique())
        base |= {"n_unique": n_unique, "unique_share": n_unique / len(present)}
        if n_unique == 1:
            return ColumnKind(name, "constant", f"one value ({present.iloc[0]}) in every present row", **base)
        if is_bool(s):
            return ColumnKind(name, "boolean", "booleans", **base)
        if pd.api.types.is_timedelta64_dtype(s.dtype):
            return ColumnKind(name, "timedelta", "durations", **base)
        kind = date_or_datetime(present)
        why = ("periods" if isinstance(s.dtype, pd.PeriodDtype) else
               "datetimes at midnight: dates" if kind == "date" else "datetimes with a time of day")
        return ColumnKind(name, kind, why, **base)
    if is_numeric(s):
        return kind_of_numbers(s.to_numpy(dtype=float, na_value=np.nan), name=name,
                               integer_dtype=pd.api.types.is_integer_dtype(s.dtype),
                               may_be_identifier=may_be_identifier, dtype=dtype)
    codes, uniques, unhashable = factorize(s)
    n_missing = int((codes < 0).sum())
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    if unhashable:
        return ColumnKind(name, "mixed", "holds dicts, lists or other objects that cannot be compared: "
                          "read as text categories", dtype=dtype, n_rows=n, n_missing=n_missing,
                          n_unique=len(uniques))
    if isinstance(s.dtype, pd.CategoricalDtype):
        tokens = disguised_nulls(uniques, counts) if len(uniques) else np.zeros(0, dtype=bool)
        n_tokens, n_unique = int(counts[tokens].sum()), int((~tokens).sum())
        base = {"dtype": dtype, "n_rows": n, "n_missing": n_missing, "n_null_tokens": n_tokens,
                "n_unique": n_unique}
        if n_unique == 0:
            return ColumnKind(name, "empty", "no value at all", **base)
        if n_unique == 1:
            return ColumnKind(name, "constant", "one category in every present row", **base)
        kind, why = _category(n_unique, max_categories, "categories")
        return ColumnKind(name, kind, why, **base)
    values = uniques[~disguised_nulls(uniques, counts)] if len(uniques) else uniques
    inferred = pd.api.types.infer_dtype(values, skipna=True) if len(values) else "empty"
    if inferred in {"string", "empty"}:
        return kind_of_counts(uniques, counts, name=name, n_missing=n_missing, max_categories=max_categories,
                              may_be_identifier=may_be_identifier, dtype=dtype)
    tokens_rows = ~s.isin(values) & s.notna() if len(values) < len(uniques) else None
    kept = s if tokens_rows is None else s.mask(tokens_rows)
    if inferred in {"integer", "floating", "mixed-integer-float", "decimal"}:
        numbers = pd.to_numeric(kept, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        out = kind_of_numbers(numbers, name=name, integer_dtype=inferred == "integer",
                              may_be_identifier=may_be_identifier, dtype=dtype)
        n_tokens = 0 if tokens_rows is None else int(tokens_rows.sum())
        return replace(out, n_missing=out.n_missing - n_tokens, n_null_tokens=n_tokens)
    if inferred == "boolean":
        n_unique = len(values)
        return ColumnKind(name, "constant" if n_unique == 1 else "boolean",
                          "one value in every present row" if n_unique == 1 else "booleans (as objects)",
                          dtype=dtype, n_rows=n, n_missing=n_missing, n_unique=n_unique)
    if inferred in {"datetime64", "datetime", "date", "period"}:
        present = kept.dropna()
        n_unique = len(values)
        if n_unique == 1:
            return ColumnKind(name, "constant", "one date in every present row", dtype=dtype, n_rows=n,
                              n_missing=n_missing, n_unique=1)
        kind = "date" if inferred == "period" else object_date_kind(present)
        why = {"date": "dates (Python objects)", "datetime": "timestamps (Python objects)",
               "datetime_utc": "timestamps in several time zones (read in UTC)"}[kind]
        return ColumnKind(name, kind, why, dtype=dtype, n_rows=n, n_missing=n_missing, n_unique=n_unique)
    types = sorted({type(v).__name__ for v in values.iloc[:1000]})
    return ColumnKind(name, "mixed", f"mixes Python types ({', '.join(types)}): read as text categories",
                      dtype=dtype, n_rows=n, n_missing=n_missing, n_unique=len(values))


def column_kind(
    s: pd.Series,
    *,
    name: Any = None,
    max_categories: int = 30,
    sample_size: int = 20_000,
    role: str | None = None,
) -> ColumnKind:
    """The kind of one column (see the module docstring for the rules).

    Parameters
    ----------
    s : pandas.Series
    name : hashable, optional
        The column label (``s.name`` by default); its parts can say identifier.
    max_categories : int, default=30
        ``categorical`` up to this many distinct values, ``high_cardinality`` above.
    sample_size : int, default=20_000
        Rows read (first and last kept, in order); ``empty``, ``constant``
        and ``identifier`` are confirmed on the full column.
    role : {"identifier", "target", "time"}, optional
        A declared identifier is one; the target and the time column never are.

    Returns
    -------
    ColumnKind

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> column_kind(pd.Series(rng.permutation(500)), name="customer_id").kind
    'identifier'
    >>> column_kind(pd.Series(rng.normal(100, 20, 500)), name="amount").kind
    'numeric'
    >>> column_kind(pd.Series(["Y", "N", "Y"])).reason
    "two values, 'N' and 'Y': a yes/no flag"
    """
    name = s.name if name is None else name
    if role == "identifier":
        return ColumnKind(name, "identifier", "declared in id_cols", dtype=str(s.dtype), n_rows=len(s),
                          n_missing=int(s.isna().sum()))
    may_be_identifier = role not in ("target", "time")
    n = len(s)
    if n <= sample_size:
        return _decide(s, name, max_categories, may_be_identifier)
    part = s.iloc[_sample_positions(n, int(sample_size))]
    kind = _decide(part, name, max_categories, may_be_identifier)
    if kind.kind in {"empty", "constant", "identifier"}:
        return _decide(s, name, max_categories, may_be_identifier)  # what a sample cannot prove
    return replace(kind, sampled=True)


def column_kinds(
    frame: pd.DataFrame,
    *,
    max_categories: int = 30,
    sample_size: int = 20_000,
    id_cols: Iterable[Hashable] = (),
    target: Hashable | None = None,
    time_col: Hashable | None = None,
) -> dict[Hashable, ColumnKind]:
    """The kind of every column of ``frame``, computed once per column.

    Parameters
    ----------
    frame : pandas.DataFrame
        Column labels are assumed unique.
    max_categories : int, default=30
        ``categorical`` up to this many distinct values, ``high_cardinality`` above.
    sample_size : int, default=20_000
        Rows read per column (see :func:`column_kind`).
    id_cols : iterable of column labels, default=()
        Declared identifiers.
    target, time_col : column label, optional
        Never identifiers.

    Returns
    -------
    dict
        Column label -> :class:`ColumnKind`, in column order.

    Examples
    --------
    >>> import numpy as np
    >>> frame = pd.DataFrame({"order_no": np.arange(1, 101), "plan": ["a", "b"] * 50,
    ...                       "paid": ["Y", "N"] * 50})
    >>> {c: k.kind for c, k in column_kinds(frame).items()}
    {'order_no': 'identifier', 'plan': 'categorical', 'paid': 'boolean'}
    """
    ids = set(id_cols)
    out: dict[Hashable, ColumnKind] = {}
    for i, col in enumerate(frame.columns):
        role = ("identifier" if col in ids else "target" if col == target
                else "time" if time_col is not None and col == time_col else None)
        out[col] = column_kind(frame.iloc[:, i], name=col, max_categories=max_categories,
                               sample_size=sample_size, role=role)
    return out
