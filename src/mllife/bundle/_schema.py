"""``InputSchema``: the input contract of a model, learned from its training data."""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataWarning, InputError, SchemaError
from ._cells import MAX_NAME_LENGTH, label_text, short_name, string_lengths, to_frame
from ._columns import ColumnSpec, Policies, check_column, infer_column, numeric_bounds
from ._row import RowChecker

__all__ = ["InputSchema"]

#: Date-time text a column without a time zone accepts: a date, an optional time.
_NAIVE_DATETIME = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
                   r"([T ][0-9]{2}(:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?)?)?$")
#: ... and one with a time zone: a date, a time and an offset.
_AWARE_DATETIME = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?"
                   r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$")

_CHOICES = {
    "out_of_range": ("error", "warn", "clip", "ignore"),
    "unseen": ("error", "flag", "rare"),
    "extra": ("ignore", "error"),
}
#: The default ``max_string_length`` (``infer`` raises it when training text is longer).
DEFAULT_MAX_STRING_LENGTH = 10_000
#: Where :meth:`InputSchema.validate` leaves its notes on the returned frame.
NOTES_KEY = "schema_notes"


def problems_message(problems: list[dict[str, Any]]) -> str:
    """One readable line per problem: column, what, how many rows (examples), what was expected.

    Built from the structured problems only, so it never holds a request value.
    """
    lines = []
    for p in problems:
        text = f"column {p.get('column')!r}: {p.get('problem')}"
        rows, count = p.get("rows"), p.get("count")
        if rows:
            shown = ", ".join(map(str, rows)) + (", ..." if count and count > len(rows) else "")
            text += f" in {count} row{'s' if count != 1 else ''} (row positions {shown})"
        if p.get("expected"):
            text += f"; expected {p['expected']}"
        if p.get("suggestion"):
            text += f"; {p['suggestion']}"
        lines.append(text)
    n = len(problems)
    return f"{n} schema problem{'s' if n != 1 else ''}:\n  - " + "\n  - ".join(lines)


class InputSchema:
    """The input contract of a model: one entry per column, and the policies.

    Build it with :meth:`infer` from the training features. Each column
    records its dtype family (``integer``, ``float``, ``boolean``, ``string``
    or ``datetime``), whether missing values were seen, the numeric or
    date-time range seen and, for text columns with few distinct values, the
    categories seen. :meth:`validate` checks a request against it.

    Parameters
    ----------
    columns : sequence of ColumnSpec or of dicts
        The column contracts, in the order :meth:`validate` returns them.
    range_tolerance : float, default=0.5
        A numeric value is in range when it lies within the training range
        widened by this fraction of its span on each side; a column that was
        never negative in training never accepts negative values.
    out_of_range : {"error", "warn", "clip", "ignore"}, default="error"
        What to do with a value outside the accepted range: a problem, a
        :class:`~mllife.DataWarning` plus a note, clip it to the range (and a
        note), or nothing.
    datetime_margin : str, default="3650D"
        A date-time is in range within this margin (a pandas timedelta
        string) around the training range: production data is later than
        training data, but not a century later.
    unseen : {"error", "flag", "rare"}, default="error"
        A text value outside the categories seen: a problem; accepted and
        noted; or replaced by ``rare_value`` (and noted).
    rare_value : str, default="__rare__"
        The value an unseen category becomes under ``unseen="rare"``.
    extra : {"ignore", "error"}, default="ignore"
        A column the contract does not know: dropped (and noted), or a problem.
    coerce_strings : bool, default=False
        Accept numbers and booleans written as text (``"3"`` -> 3,
        ``"true"`` -> True). Off by default: ``"3"`` in a numeric column is
        a problem.
    max_string_length : int, default=10_000
        Longer text cells are refused before any parsing.

    Attributes
    ----------
    columns : tuple of str
        The column names, in order.
    specs : tuple of ColumnSpec
        The per-column contracts.

    Examples
    --------
    >>> import mllife
    >>> import pandas as pd
    >>> from mllife.bundle import InputSchema
    >>> X = pd.DataFrame({"age": [20, 35, 50], "plan": ["basic", "pro", "basic"]})
    >>> schema = InputSchema.infer(X)
    >>> schema
    InputSchema(age: integer [20, 50], plan: string (2 categories))
    >>> schema.validate({"plan": "pro", "age": 41.0})
       age plan
    0   41  pro
    >>> try:
    ...     schema.validate({"age": "41", "plan": "gold"})
    ... except mllife.SchemaError as err:
    ...     [(p["column"], p["problem"]) for p in err.problems]
    [('age', 'text instead of integers'), ('plan', 'unseen category')]
    """

    def __init__(self, columns: Iterable[ColumnSpec | Mapping[str, Any]], *,
                 range_tolerance: float = 0.5, out_of_range: str = "error",
                 datetime_margin: str = "3650D", unseen: str = "error",
                 rare_value: str = "__rare__", extra: str = "ignore",
                 coerce_strings: bool = False,
                 max_string_length: int = DEFAULT_MAX_STRING_LENGTH) -> None:
        specs = tuple(c if isinstance(c, ColumnSpec) else ColumnSpec.from_dict(dict(c))
                      for c in columns)
        names = [c.name for c in specs]
        if len(set(names)) != len(names):
            raise InputError("duplicated column names in the contract",
                             expected="each column once")
        for key, choices in _CHOICES.items():
            value = {"out_of_range": out_of_range, "unseen": unseen, "extra": extra}[key]
            if value not in choices:
                raise InputError(f"{key}={value!r} is not a policy", expected=f"one of {choices}")
        if not (isinstance(range_tolerance, int | float) and range_tolerance >= 0):
            raise InputError(f"range_tolerance={range_tolerance!r}", expected="a number >= 0")
        if not (isinstance(max_string_length, int) and max_string_length > 0):
            raise InputError(f"max_string_length={max_string_length!r}",
                             expected="a positive integer")
        try:
            pd.Timedelta(datetime_margin)
        except (TypeError, ValueError):
            raise InputError(f"datetime_margin={datetime_margin!r}",
                             expected="a timedelta string such as '365D'") from None
        self.specs = specs
        self.columns = tuple(names)
        self._by_name = dict(zip(names, specs, strict=True))
        self.policies = Policies(float(range_tolerance), out_of_range, str(datetime_margin),
                                 unseen, str(rare_value), bool(coerce_strings),
                                 int(max_string_length))
        self.extra = extra
        self._row = RowChecker(specs, self.policies)

    # ------------------------------------------------------------ building
    @classmethod
    def infer(cls, X: Any, *, max_categories: int = 100, nullable: bool | None = None,
              columns: Sequence[Any] | None = None, **policies: Any) -> InputSchema:
        """Learn the contract from training features.

        Parameters
        ----------
        X : DataFrame (or dict / list of dicts)
            The features the model was trained on (without the target).
        max_categories : int, default=100
            Text columns with at most this many distinct values get a list of
            allowed categories; others (free text, identifiers) are only
            checked for type and length.
        nullable : bool, optional
            ``None`` (default): a column accepts missing values when training
            had some. ``True``: every column accepts them.
        columns : sequence of column names, optional
            Only these columns of ``X``, in this order: the ones the model
            reads (``preprocessor.used_columns_`` of
            :func:`~mllife.features.make_preprocessor`), so the contract does
            not demand the columns the model ignores. Every column by default.
        **policies
            Any keyword of :class:`InputSchema` (``out_of_range``,
            ``unseen``, ``extra``, ...). Without ``max_string_length``, the
            limit is 10,000 characters or twice the longest training text,
            whichever is larger, so the contract accepts its own training data.

        Returns
        -------
        InputSchema

        Raises
        ------
        InputError
            When a column holds several types or time deltas, or ``X`` is
            empty or not a table.

        Examples
        --------
        >>> import pandas as pd
        >>> InputSchema.infer(pd.DataFrame({"x": [1.5, None]})).specs[0].nullable
        True
        """
        try:
            frame = to_frame(X)
        except SchemaError as err:
            raise InputError(f"cannot infer a contract: {err}") from None
        if frame.columns.duplicated().any():
            dup = [short_name(c) for c in frame.columns[frame.columns.duplicated()]]
            raise InputError(f"duplicated columns {dup}", expected="each column once")
        if columns is not None:
            wanted = [columns] if isinstance(columns, str) else list(columns)
            unknown = [short_name(c) for c in wanted if c not in frame.columns]
            if unknown or not wanted or len(set(wanted)) != len(wanted):
                raise InputError(f"columns {unknown} are not in X" if unknown else
                                 f"columns={[short_name(c) for c in wanted]}",
                                 expected="distinct names of columns of X")
            frame = frame[wanted]
        specs = [infer_column(str(name), frame[name], max_categories=max_categories,
                              nullable=nullable) for name in frame.columns]
        if policies.get("max_string_length") is None:
            policies.pop("max_string_length", None)
            # The contract must accept its own training data: with text longer than the
            # default limit (support tickets, documents), allow twice the longest seen.
            longest = max((int(string_lengths(frame[name]).max()) for name, spec
                           in zip(frame.columns, specs, strict=True) if spec.family == "string"),
                          default=0)
            if 2 * longest > DEFAULT_MAX_STRING_LENGTH:
                policies["max_string_length"] = 2 * longest
        return cls(specs, **policies)

    def to_dict(self) -> dict[str, Any]:
        """The contract as JSON-safe data (:meth:`from_dict` reads it back)."""
        pol = self.policies
        return {
            "version": 1,
            "columns": [c.to_dict() for c in self.specs],
            "policies": {"range_tolerance": pol.range_tolerance,
                         "out_of_range": pol.out_of_range,
                         "datetime_margin": pol.datetime_margin, "unseen": pol.unseen,
                         "rare_value": pol.rare_value, "extra": self.extra,
                         "coerce_strings": pol.coerce_strings,
                         "max_string_length": pol.max_string_length},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InputSchema:
        """Rebuild a contract written by :meth:`to_dict`.

        A contract saved before the policies were renamed reads too: its
        ``rare_label`` is ``rare_value`` and its ``out_of_range="allow"`` is
        ``"ignore"``.

        Examples
        --------
        >>> import pandas as pd
        >>> s = InputSchema.infer(pd.DataFrame({"x": [1, 2]}))
        >>> InputSchema.from_dict(s.to_dict()) == s
        True
        """
        try:
            policies = dict(data.get("policies", {}))
            if "rare_label" in policies and "rare_value" not in policies:  # saved before D4
                policies["rare_value"] = policies.pop("rare_label")
            if policies.get("out_of_range") == "allow":
                policies["out_of_range"] = "ignore"
            return cls(data["columns"], **policies)
        except (KeyError, TypeError) as exc:
            raise InputError(f"not a schema dict ({type(exc).__name__}: {exc})",
                             expected="the output of InputSchema.to_dict()") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, InputSchema) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        parts = []
        for c in self.specs[:8]:
            text = f"{c.name}: {c.family}"
            if c.family in {"integer", "float"} and c.min is not None:
                text += f" [{c.min:g}, {c.max:g}]"
            if c.categories is not None:
                text += f" ({len(c.categories)} categories)"
            parts.append(text)
        more = f", ... {len(self.specs) - 8} more" if len(self.specs) > 8 else ""
        return f"InputSchema({', '.join(parts)}{more})"

    # ------------------------------------------------------------ validation
    def validate(self, X: Any) -> pd.DataFrame:
        """Check a request and return it coerced, in the contract's column order.

        Coercion is lossless only: ``3.0`` becomes the integer 3, ``0``/``1``
        become booleans, ISO 8601 strings become date-times (converted to the
        training time zone when they carry an offset). Anything else that
        does not fit is a problem; so is a value the trained dtype cannot hold
        exactly (``2**63`` for ``int64``, ``2**53 + 1`` for ``float64``,
        nanoseconds for ``datetime64[us]``), whatever ``out_of_range`` says.
        Missing values (``None``, ``NaN``, ``NaT``, ``pd.NA``) are judged by
        the column's nullability whatever dtype carries them, and become the
        one missing value of the trained dtype, whatever the input form (text
        held as Python objects, on pandas 2: ``None`` when training held
        ``None``, else ``NaN``, as an encoder fitted on it expects). Notes
        (extra columns dropped, unseen categories flagged or mapped, values
        clipped or out of range) are in ``result.attrs["schema_notes"]``, a
        list of dicts shaped like problems; :meth:`ModelBundle.predict`
        returns the same list.

        Parameters
        ----------
        X : DataFrame, dict (one row) or list of dicts (rows)

        Returns
        -------
        pandas.DataFrame
            A new frame (the input is never modified), index kept for frames.

        Raises
        ------
        SchemaError
            Listing every problem found, each a dict with ``column``,
            ``problem``, ``count``, ``rows`` (at most 5 example row
            positions) and ``expected``; never the values of the request.

        Examples
        --------
        >>> import mllife
        >>> import pandas as pd
        >>> schema = InputSchema.infer(pd.DataFrame({"x": [1.0, 2.0]}), extra="ignore")
        >>> out = schema.validate([{"x": 1.5, "y": "?"}])
        >>> out.attrs["schema_notes"][0]["problem"]
        'extra column ignored'
        >>> try:
        ...     schema.validate({"x": 2**53 + 1})
        ... except mllife.SchemaError as err:
        ...     err.problems[0]["problem"]
        'value not representable as float64'
        """
        if isinstance(X, Mapping):
            fast = self._row(X)
            if fast is not None:
                fast.attrs[NOTES_KEY] = []
                return fast
        frame = to_frame(X)
        problems: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        n = len(frame)
        # The contract names columns by text (``infer`` stores ``str(label)``): a frame
        # built from a numpy array, with integer labels, matches it by ``str(label)``.
        labels = [label_text(c) for c in frame.columns]
        original = dict(zip(labels, frame.columns, strict=True))
        names = pd.Index(labels, dtype=object)
        duplicated = names.duplicated(keep=False)
        if duplicated.any():
            for name in pd.unique(names[duplicated]):
                problems.append({"column": short_name(name), "problem": "duplicated column",
                                 "count": n, "expected": "each column once"})
        dup_set = set(names[duplicated]) if duplicated.any() else set()
        known = self._by_name
        extras = [c for c in names if c not in known]
        missing = [c for c in self.columns if c not in names]
        for name in missing:
            entry = {"column": name, "problem": "missing column", "count": n,
                     "expected": f"a column of {known[name].family} values"}
            close = difflib.get_close_matches(
                name, [e for e in extras if isinstance(e, str) and len(e) <= MAX_NAME_LENGTH],
                n=1, cutoff=0.6)
            if close:
                entry["suggestion"] = f"rename {close[0]!r} to {name!r}?"
            problems.append(entry)
        for name in extras:
            if name in dup_set:
                continue
            entry = {"column": short_name(name), "count": n}
            if self.extra == "error":
                problems.append({**entry, "problem": "unexpected column",
                                 "expected": "only the columns of the contract"})
            else:
                notes.append({**entry, "problem": "extra column ignored"})
        out: dict[str, Any] = {}
        for spec in self.specs:
            if spec.name in missing or spec.name in dup_set:
                continue
            values, col_problems, col_notes = check_column(spec, frame[original[spec.name]],
                                                          self.policies,
                                                          self._row.categories[spec.name])
            problems += col_problems
            notes += col_notes
            out[spec.name] = values
        if problems:
            raise SchemaError(problems, problems_message(problems))
        if self.policies.out_of_range == "warn" and any(
                p["problem"] == "out of range" for p in notes):
            warnings.warn("values out of the training range: see attrs['schema_notes']",
                          DataWarning, stacklevel=2)
        # Every column is there, in the contract's order: no ``columns=`` (pandas 2 would
        # then box each value of a date-time column into an object to align the dict).
        result = pd.DataFrame(out, index=frame.index, copy=False) if out else pd.DataFrame(
            out, index=frame.index, columns=list(self.columns), copy=False)
        result.attrs[NOTES_KEY] = notes
        return result

    # ------------------------------------------------------------ JSON Schema
    def to_json_schema(self) -> dict[str, Any]:
        """A JSON Schema (draft 2020-12) for one request row as a JSON object.

        A web framework can validate requests with it before they reach
        :meth:`validate`; it states the same contract as far as JSON Schema
        can (types, nullability, ranges when ``out_of_range="error"``,
        categories when ``unseen="error"``, string lengths, extra columns).

        Examples
        --------
        >>> import pandas as pd
        >>> s = InputSchema.infer(pd.DataFrame({"n": [0, 100], "c": ["a", "b"]}))
        >>> js = s.to_json_schema()
        >>> js["properties"]["n"]
        {'type': 'integer', 'minimum': 0, 'maximum': 150}
        >>> js["properties"]["c"]["enum"]
        ['a', 'b']
        """
        pol = self.policies
        props: dict[str, Any] = {}
        for c in self.specs:
            prop: dict[str, Any]
            if c.family in {"integer", "float"}:
                prop = {"type": "integer" if c.family == "integer" else "number"}
                bounds = numeric_bounds(c, pol)
                if bounds is not None and pol.out_of_range == "error":
                    lo, hi = bounds
                    if c.family == "integer":
                        lo, hi = float(np.ceil(lo)), float(np.floor(hi))
                        prop.update(minimum=int(lo), maximum=int(hi))
                    else:
                        prop.update(minimum=lo, maximum=hi)
            elif c.family == "boolean":
                prop = {"type": "boolean"}
            elif c.family == "datetime":
                # What validate reads: a full date, then an optional time; an offset only
                # (and always) for a column trained with a time zone. JSON Schema's
                # "date-time" format (RFC 3339) requires an offset, so it is stated only
                # for those columns; the pattern says the rest.
                if c.tz is None:
                    prop = {"type": "string", "pattern": _NAIVE_DATETIME,
                            "maxLength": pol.max_string_length}
                else:
                    prop = {"type": "string", "format": "date-time",
                            "pattern": _AWARE_DATETIME, "maxLength": pol.max_string_length}
            else:
                prop = {"type": "string", "maxLength": pol.max_string_length}
                if c.categories is not None and pol.unseen == "error":
                    prop = {"type": "string", "enum": list(c.categories)}
            if c.nullable:
                if "enum" in prop:
                    prop["enum"] = [*prop["enum"], None]
                    prop["type"] = ["string", "null"]
                else:
                    prop["type"] = [prop["type"], "null"]
            props[c.name] = prop
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "model input row",
            "type": "object",
            "properties": props,
            "required": list(self.columns),
            "additionalProperties": self.extra != "error",
        }


def broken_rows(schema: InputSchema, frame: pd.DataFrame) -> np.ndarray:
    """Private (for ``mllife.monitor``): the rows of ``frame`` with a cell that breaks the contract.

    Each contract column present in ``frame`` is checked as :meth:`InputSchema.validate`
    checks it, vectorised, and every row holding a problem cell is marked. Whole-table
    problems (a missing, duplicated or unexpected column) mark no row: the caller handles
    them. ``validate`` on the unmarked rows then passes, so a monitor scores the rows it can.
    """
    from ._cells import BYTES, COMPLEX, NESTED, OTHER, classify
    from ._columns import _CHECKS, _Result, valid_text

    class _Marks(_Result):
        __slots__ = ("mask",)

        def __init__(self, name: str, n: int) -> None:
            super().__init__(name)
            self.mask = np.zeros(n, dtype=bool)

        def bad(self, what: str, mask: np.ndarray, expected: str | None = None,
                **extra: Any) -> None:
            super().bad(what, mask, expected, **extra)
            self.mask |= np.asarray(mask, dtype=bool)

    bad = np.zeros(len(frame), dtype=bool)
    original = {label_text(c): c for c in frame.columns}
    for spec in schema.specs:
        if spec.name not in original:
            continue
        s = frame[original[spec.name]]
        if spec.family == "string" and valid_text(spec, s, schema.policies,
                                                  schema._row.categories[spec.name]) is not None:
            continue  # the fast paths accept only columns the full check finds no problem in
        marks = _Marks(spec.name, len(frame))
        try:
            _CHECKS[spec.family](spec, s, marks, schema.policies)
        except (ArithmeticError, TypeError, ValueError):  # cells that break pandas itself
            odd = np.isin(classify(s), [NESTED, OTHER, BYTES, COMPLEX]) if s.dtype == object else None
            marks.mask |= odd if odd is not None and odd.any() else True
        bad |= marks.mask
    return bad
