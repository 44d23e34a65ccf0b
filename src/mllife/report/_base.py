"""``Report``: the immutable result value every mllife analysis returns."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import os
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import UnionType
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from .._errors import InputError, MllifeError
from .._files import write_atomic
from ._codec import MAX_ITEMS, Decoder, encode
from ._finding import SEVERITIES, Finding
from ._frozen import FrozenDict, freeze, handed_out, refreeze
from ._html import (
    CSS,
    cards_html,
    esc,
    findings_frame,
    findings_html,
    format_value,
    table_html,
    table_markdown,
)
from ._json import jsonable
from ._plots import Plot

_SUFFIXES = {".html": "html", ".htm": "html", ".json": "json", ".md": "markdown",
             ".markdown": "markdown", ".csv": "csv"}
#: The version of the ``fields`` section :meth:`Report.to_dict` writes.
FORMAT_VERSION = 1
#: :meth:`Report.load` refuses larger files (bytes).
MAX_LOAD_BYTES = 256 * 1024 * 1024
#: The keys of :meth:`Report.to_dict` every report writes (subclasses add their extras).
_BASE_KEYS = ("report", "title", "summary", "findings", "tables", "notes", "fields",
              "format_version")
#: Fields that are not data: the findings are written on their own, plots are drawn.
_NOT_FIELDS = ("findings", "plots")
#: mllife's own report classes, by the name ``to_dict`` writes, and the module defining each
#: (imported on demand by ``from_dict``: only these modules, never one a file names).
_BUILTIN_REPORTS = {
    "AuditReport": "mllife.audit._report",
    "LeakageReport": "mllife.split._report",
    "ComparisonReport": "mllife.experiments._report",
    "EvaluationReport": "mllife.evaluation._report",
    "ChampionChallengerResult": "mllife.evaluation._champion",
    "DriftReport": "mllife.drift._report",
    "PreprocessorReport": "mllife.features._plan_report",
    "MonitorReport": "mllife.monitor._report",
    "TransformerCheckReport": "mllife.testing._report",
}
#: Report subclasses defined so far, by class name (the last definition of a name wins).
_SUBCLASSES: dict[str, type[Report]] = {}
#: Marks an instance whose ``__post_init__`` chain is running (fields are frozen at its end).
_BUILDING = "_mllife_building"

R = TypeVar("R", bound="Report")


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class Report:
    """The result of an analysis: findings, headline numbers, tables and plots.

    Every analysis in mllife returns a subclass. A report is a value: it is
    immutable, renders itself as JSON (:meth:`to_dict`, :meth:`to_json`),
    a table (:meth:`to_frame`), Markdown (:meth:`to_markdown`) and one
    self-contained HTML page with its plots embedded (:meth:`to_html`, and
    :meth:`_repr_html_` in notebooks), and saves to a file by suffix
    (:meth:`save`). Nothing is printed.

    Subclasses add typed fields and override the hooks ``_summary``,
    ``_tables``, ``_plots``, ``_notes`` and ``_extra`` to build their views;
    the base class owns every output format. Findings a subclass derives from
    its own fields come from the hook ``_derive_findings``, called once when
    the report is built: :attr:`findings` then holds them, followed by the
    findings passed in, so every output (and ``report.findings`` itself)
    shows the same findings.

    Every field is copied when the report is built (DataFrames and arrays
    included) and frozen: mappings become a read-only
    :class:`~mllife.report.FrozenDict`, lists become tuples, arrays are
    read-only, and a DataFrame field (or a table of :attr:`tables`) is handed
    out as a copy, so changing the frame you passed in, or the one you read,
    never changes the report. A subclass's own ``__post_init__`` may still
    adjust its fields after ``super().__post_init__()``: the freezing happens
    once the whole chain has run. Reports pickle, deep-copy, compare equal
    when their :meth:`to_dict` is equal, and :meth:`from_dict` (or
    :meth:`load`, for a saved ``.json``) rebuilds one from :meth:`to_dict`.

    Parameters
    ----------
    title : str, default="Report"
    summary : mapping
        Headline numbers, shown as cards: ``{"rows": 1000, "errors": 2}``.
    tables : mapping of str to DataFrame
        Named tables; the first is what :meth:`to_frame` returns.
    findings : sequence of Finding
        Findings found by the analysis; the report adds the ones it derives.
    plots : sequence of Plot
        Figures drawn only when rendering HTML.
    notes : sequence of str
        Sentences shown under the title.

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.report import Finding, Report
    >>> r = Report(title="Demo", summary={"rows": 3},
    ...            tables={"values": pd.DataFrame({"a": [1, 2, 3]})},
    ...            findings=[Finding("demo", "warning", column="a", message="odd")])
    >>> r
    <Report 'Demo': 1 finding (0 errors, 1 warning)>
    >>> r.to_dict()["summary"]
    {'rows': 3}
    >>> "<table>" in r.to_html()
    True
    >>> Report.from_dict(r.to_dict()) == r
    True
    """

    title: str = "Report"
    summary: Mapping[str, Any] = field(default_factory=dict)
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    findings: Sequence[Finding] = ()
    plots: Sequence[Plot] = ()
    notes: Sequence[str] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _SUBCLASSES[cls.__name__] = cls
        own = cls.__dict__.get("__post_init__")
        if own is not None and not getattr(own, "_freezes", False):  # (slots=True: once)
            cls.__post_init__ = _freezing(own)  # type: ignore[method-assign,assignment]

    def __post_init__(self) -> None:
        object.__setattr__(self, "plots", tuple(self.plots))
        object.__setattr__(self, "notes", tuple(self.notes))
        given = tuple(self.findings)
        object.__setattr__(self, "findings", given)
        derived = tuple(self._derive_findings())
        if type(self)._findings is not Report._findings:  # a subclass overriding the older hook
            derived += tuple(f for f in self._findings() if f not in derived)
        # A finding passed in that the report derives itself (dataclasses.replace) is kept once.
        object.__setattr__(self, "findings", (*derived, *(f for f in given if f not in derived)))

    def _freeze_fields(self) -> None:
        """Copy every data field and make it read-only (run once, when the report is built)."""
        for f in dataclasses.fields(self):
            if f.name not in _NOT_FIELDS:
                object.__setattr__(self, f.name, freeze(object.__getattribute__(self, f.name)))

    if not TYPE_CHECKING:  # hidden from type checkers: field types stay as declared
        def __getattribute__(self, name: str) -> Any:
            # A stored DataFrame is handed out as a copy: changing it never changes the report.
            return handed_out(object.__getattribute__(self, name))

    # ---- values: equality, pickling and deep copies ------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Report):
            return NotImplemented
        return type(self) is type(other) and (self is other or self.to_dict() == other.to_dict())

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.title, len(self.findings)))

    def __getstate__(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __setstate__(self, data: Mapping[str, Any]) -> None:
        state = dict(data)
        if "title" not in state and set(state) == {"state", "proxies", "frozen"}:
            state = dict(data["state"])   # pickled before FrozenDict: plain dicts to re-wrap
            for key in data["proxies"]:
                state[key] = FrozenDict(state[key])
        for key, value in state.items():
            refreeze(value)   # unpickled and deep-copied arrays come back writeable
            object.__setattr__(self, key, value)

    # ---- hooks: subclasses override these to build their views -------------
    def _summary(self) -> Mapping[str, Any]:
        return self.summary

    def _tables(self) -> Mapping[str, pd.DataFrame]:
        return self.tables

    def _derive_findings(self) -> Sequence[Finding]:
        """Findings the report derives from its own fields (called once, when built)."""
        return ()

    def _findings(self) -> Sequence[Finding]:
        """The findings (:attr:`findings`); kept for subclasses that override it."""
        return self.findings

    def _plots(self) -> Sequence[Plot]:
        return self.plots

    def _notes(self) -> Sequence[str]:
        return self.notes

    def _extra(self) -> Mapping[str, Any]:
        """Extra JSON-only data (structured results that are not tables)."""
        return {}

    # ---- derived -----------------------------------------------------------
    def severity_counts(self) -> dict[str, int]:
        """How many findings of each severity."""
        counts = dict.fromkeys(SEVERITIES, 0)
        for f in self.findings:
            counts[f.severity] += 1
        return counts

    def findings_by(self, *, severity: str | None = None, check: str | None = None,
                    column: Any = None) -> list[Finding]:
        """The findings matching every given filter."""
        out = []
        for f in self.findings:
            if severity is not None and f.severity != severity:
                continue
            if check is not None and f.check != check:
                continue
            if column is not None and f.column != column:
                continue
            out.append(f)
        return out

    # ---- outputs -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Everything in the report as JSON-safe data; :meth:`from_dict` reads it back.

        The views (``summary``, ``findings``, ``tables`` as lists of records,
        ``notes`` and the subclass's extras) are for people and tools: NaN is
        ``null``, timestamps are ISO text. ``fields`` holds the report's own
        fields, typed (a DataFrame with its dtypes and index, NaN kept), for
        :meth:`from_dict`; a frame whose records are already among the tables
        or extras points at them instead of repeating them.
        """
        data: dict[str, Any] = {
            "report": type(self).__name__,
            "title": self.title,
            "summary": jsonable(dict(self._summary())),
            "findings": [f.to_dict() for f in self.findings],
            "tables": {str(k): jsonable(v) for k, v in self._tables().items()},
            "notes": list(self._notes()),
        }
        for key, value in self._extra().items():
            data[str(key)] = jsonable(value)
        candidates = [({"table": k}, v) for k, v in data["tables"].items()]
        candidates += [({"key": k}, v) for k, v in data.items()
                       if k not in _BASE_KEYS and isinstance(v, list)]
        fields: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.init and f.name not in _NOT_FIELDS:
                value = object.__getattribute__(self, f.name)
                encoded = encode(value, candidates)
                if isinstance(value, Mapping | tuple) and value and f.name not in _BASE_KEYS \
                        and data.get(f.name) == encoded:
                    encoded = {"$ref": f.name}   # the extra of the same name says it all
                fields[f.name] = encoded
        data["format_version"] = FORMAT_VERSION
        data["fields"] = fields
        return data

    @classmethod
    def from_dict(cls: type[R], data: Mapping[str, Any]) -> R:
        """Rebuild a report from :meth:`to_dict` output (or the JSON :meth:`save` wrote).

        ``Report.from_dict`` rebuilds whichever report class ``data["report"]``
        names (mllife's own, or a subclass defined before the call);
        ``AuditReport.from_dict`` and the like also check that it is one.
        Tables come back as DataFrames with their dtypes and index, findings
        as :class:`Finding`; plots are drawn again from the data, so
        :meth:`to_html` works, but a :class:`Plot` passed in as ``plots=`` is
        not data and is not restored. ``from_dict(r.to_dict()).to_dict() ==
        r.to_dict()``.

        The input is read as untrusted data: JSON types only, no unknown key,
        nesting and size bounded, dtypes from an allow-list, nothing evaluated
        or imported but mllife's own report modules. A dict without
        ``fields`` (a report saved before they were written) is read by
        ``Report.from_dict`` as a plain :class:`Report` of its views.

        Parameters
        ----------
        data : mapping
            The output of :meth:`to_dict`, or ``json.loads`` of a saved report.

        Returns
        -------
        Report
            An instance of the class ``data["report"]`` names.

        Raises
        ------
        InputError
            When ``data`` is not a report of this class, names an unknown
            class, holds an unknown key or a value of the wrong type.

        Examples
        --------
        >>> import pandas as pd
        >>> r = Report(title="Demo", tables={"t": pd.DataFrame({"a": [1.5, None]})})
        >>> again = Report.from_dict(r.to_dict())
        >>> again == r, again.tables["t"]["a"].dtype
        (True, dtype('float64'))
        """
        return _from_dict(cls, data, MAX_ITEMS)

    @classmethod
    def _from_dict_unchecked(cls: type[R], data: Mapping[str, Any], max_items: int) -> R:
        """:meth:`from_dict`'s work; ``_from_dict`` turns deep nesting into an InputError."""
        if not isinstance(data, Mapping):
            raise InputError(f"a report dict is a {type(data).__name__}",
                             expected="a mapping (the output of Report.to_dict())")
        target = _report_class(data.get("report"), cls)
        if "fields" not in data:
            if cls is not Report:
                raise InputError(f"this {target.__name__} dict has no 'fields' section",
                                 expected="the output of to_dict(); Report.from_dict reads "
                                          "the views alone as a plain Report")
            return _views_report(data)  # type: ignore[return-value]
        version = data.get("format_version", FORMAT_VERSION)
        if type(version) is not int or version != FORMAT_VERSION:
            raise InputError(f"report format version {version!r}",
                             expected=f"version {FORMAT_VERSION} (written by this mllife)")
        fields_data = data["fields"]
        if not isinstance(fields_data, Mapping):
            raise InputError(f"'fields' is a {type(fields_data).__name__}", expected="a mapping")
        known = {f.name: f for f in dataclasses.fields(target)
                 if f.init and f.name not in _NOT_FIELDS}
        unknown = sorted(str(k) for k in fields_data if k not in known)
        if unknown:
            raise InputError(f"unknown fields {unknown[:10]} for a {target.__name__}",
                             expected=f"fields of {target.__name__}: {sorted(known)}")
        decode = Decoder(functools.partial(_records, data), where=f"{target.__name__} fields",
                         max_items=max_items)
        values = {name: decode(value) for name, value in fields_data.items()}
        _check_types(target, values)
        findings = _findings_from(data.get("findings", []))
        try:
            report = target(**values)
        except MllifeError:
            raise
        except Exception as exc:  # a value the class could not build from: the file is wrong
            raise InputError(f"cannot rebuild a {target.__name__} from this dict "
                             f"({type(exc).__name__}: {exc})",
                             expected="the output of to_dict()") from exc
        object.__setattr__(report, "findings", findings)  # the findings as saved, in order
        written = {*_BASE_KEYS, *(str(k) for k in report._extra())}
        extra = sorted(str(k) for k in data if k not in written)
        if extra:
            raise InputError(f"unknown keys {extra[:10]} in a {target.__name__} dict",
                             expected=f"the keys to_dict() writes: {sorted(written)}")
        return report

    @classmethod
    def load(cls: type[R], path: str | os.PathLike[str], *,
             max_bytes: int = MAX_LOAD_BYTES) -> R:
        """Read a report saved as ``.json`` by :meth:`save` (see :meth:`from_dict`).

        Parameters
        ----------
        path : str or path-like
        max_bytes : int, default=256 MiB
            Larger files are refused before they are read.

        Returns
        -------
        Report

        Raises
        ------
        InputError
            When the file is too large, not strict JSON (``NaN`` included) or
            not a report of this class.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = Report(title="Saved", summary={"rows": 3}).save(pathlib.Path(folder) / "r.json")
        ...     Report.load(path).summary["rows"]
        3
        """
        source = Path(path)
        size = source.stat().st_size
        too_large = InputError(f"{source.name} is {size:,} bytes" if size > max_bytes else
                               f"{source.name} holds more than {max_bytes:,} bytes",
                               expected=f"a report of at most {max_bytes:,} bytes (max_bytes)")
        if size > max_bytes:
            raise too_large
        with source.open("rb") as handle:   # at most max_bytes, whatever stat said (a device)
            raw = handle.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise too_large
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant,
                              object_pairs_hook=_unique_keys)
        except (ValueError, RecursionError) as exc:
            raise InputError(f"{source.name} is not a report in strict JSON "
                             f"({type(exc).__name__}: {str(exc)[:200]})",
                             expected="a file written by Report.save(path.json)") from None
        # A value costs at least a byte of JSON: a file asks for no more values than its size
        # (references to a table would otherwise let a small file build a huge report).
        return _from_dict(cls, data, min(MAX_ITEMS, max(len(raw), 10_000)))

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as a JSON string (no NaN: missing numbers are ``null``)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=False)

    def to_frame(self) -> pd.DataFrame:
        """The report's main table (a copy): its first table, else its findings."""
        tables = self._tables()
        if tables:
            return next(iter(tables.values())).copy()
        return findings_frame(self.findings)

    def to_markdown(self) -> str:
        """The report as Markdown: summary, findings and tables."""
        parts = [f"# {self.title}", ""]
        parts += [f"{n}" for n in self._notes()]
        summary = self._summary()
        if summary:
            parts += ["", "## Summary", "",
                      table_markdown(pd.DataFrame({"": [str(k) for k in summary],
                                                   "value": [format_value(v) for v in summary.values()]}))]
        findings = self.findings
        parts += ["", "## Findings", ""]
        parts.append(table_markdown(findings_frame(findings)) if findings else "No findings.")
        for name, table in self._tables().items():
            parts += ["", f"## {name}", "", table_markdown(table)]
        return "\n".join(parts).strip() + "\n"

    def _body_html(self) -> str:
        parts = [f"<h1>{esc(self.title)}</h1>"]
        parts += [f'<p class="note">{esc(n)}</p>' for n in self._notes()]
        summary = self._summary()
        if summary:
            parts.append(cards_html(summary))
        findings = self.findings
        parts += ["<h2>Findings</h2>", findings_html(findings)]
        for plot in self._plots():
            parts.append(
                f'<figure><figcaption>{esc(plot.title)}</figcaption>'
                f'<img alt="{esc(plot.title)}" src="{plot.to_data_uri()}"></figure>'
            )
        for name, table in self._tables().items():
            parts += [f"<h2>{esc(name)}</h2>", table_html(table)]
        return "".join(parts)

    def to_html(self) -> str:
        """One self-contained HTML page: inline CSS, plots embedded as PNG, no network."""
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(self.title)}</title><style>{CSS}</style></head>"
            f'<body><div class="mllife-report">{self._body_html()}</div></body></html>\n'
        )

    def _repr_html_(self) -> str:
        return f'<div class="mllife-report"><style>{CSS}</style>{self._body_html()}</div>'

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the report; the format follows the suffix.

        ``.html``/``.htm``, ``.json``, ``.md``/``.markdown`` or ``.csv``
        (:meth:`to_frame`). The file is written to a temporary name and
        renamed, so a reader never sees half a report.

        Returns
        -------
        pathlib.Path
            The path written.

        Raises
        ------
        InputError
            For any other suffix.
        """
        target = Path(path)
        kind = _SUFFIXES.get(target.suffix.lower())
        if kind is None:
            raise InputError(
                f"cannot tell the format of {str(target)!r} from its suffix",
                expected=f"one of {', '.join(sorted(_SUFFIXES))}",
            )
        if kind == "html":
            text = self.to_html()
        elif kind == "json":
            text = self.to_json()
        elif kind == "markdown":
            text = self.to_markdown()
        else:
            text = self.to_frame().to_csv(index=False)
        # mkstemp creates 0600; a report is meant to be shared
        return write_atomic(target, text, mode=0o644, fsync=False)

    def __repr__(self) -> str:
        counts = self.severity_counts()
        n = sum(counts.values())
        return (
            f"<{type(self).__name__} {self.title!r}: {n} finding{'s' if n != 1 else ''} "
            f"({counts['error']} error{'s' if counts['error'] != 1 else ''}, "
            f"{counts['warning']} warning{'s' if counts['warning'] != 1 else ''})>"
        )



# ---- building: fields frozen once, after the whole __post_init__ chain ----------------
def _freezing(post_init: Callable[[Any], None]) -> Callable[[Any], None]:
    """``post_init`` followed by :meth:`Report._freeze_fields`, once per report built.

    Installed on every ``__post_init__`` of the hierarchy, so a subclass may adjust its
    fields after ``super().__post_init__()``: the outermost call freezes what it left.
    """

    @functools.wraps(post_init)
    def wrapper(self: Report) -> None:
        state = object.__getattribute__(self, "__dict__")
        if _BUILDING in state:        # an inner super().__post_init__(): the outer one freezes
            post_init(self)
            return
        state[_BUILDING] = True
        try:
            post_init(self)
        finally:
            del state[_BUILDING]
        self._freeze_fields()

    wrapper._freezes = True  # type: ignore[attr-defined]
    return wrapper


Report.__post_init__ = _freezing(Report.__post_init__)  # type: ignore[method-assign,assignment]


# ---- reading reports back -----------------------------------------------------------------
def _report_class(name: Any, cls: type[R]) -> type[R]:
    """The class a report dict names, if it is ``cls`` or a subclass of it."""
    if not isinstance(name, str) or not name:
        raise InputError(f"the report dict names its class as {name!r}",
                         expected="a class name under the key 'report'")
    if name == cls.__name__:
        return cls
    target: Any = None
    if name == "Report":
        target = Report
    elif name in _BUILTIN_REPORTS:
        target = getattr(importlib.import_module(_BUILTIN_REPORTS[name]), name)
    else:
        target = _SUBCLASSES.get(name)
    if target is None:
        raise InputError(f"unknown report class {name[:80]!r}",
                         expected=f"one of {sorted({'Report', *_BUILTIN_REPORTS})}, or a "
                                  "Report subclass defined (imported) before from_dict")
    if not issubclass(target, cls):
        raise InputError(f"the dict holds a {name}, not a {cls.__name__}",
                         expected=f"{name}.from_dict or Report.from_dict")
    return target


def _records(data: Mapping[str, Any], where: Mapping[str, Any]) -> Any:
    """The records a ``$frame`` reference points at: a table, or a top-level extra key."""
    if "table" in where:
        tables = data.get("tables")
        name = where["table"]
        if isinstance(tables, Mapping) and isinstance(name, str) and name in tables:
            return tables[name]
    elif isinstance(where.get("key"), str) and where["key"] not in _BASE_KEYS \
            and where["key"] in data:
        return data[where["key"]]
    raise InputError(f"a frame refers to {dict(where)!r}, which the dict does not hold",
                     expected="a reference to one of its tables or extra keys")


def _findings_from(items: Any) -> tuple[Finding, ...]:
    if not isinstance(items, list):
        raise InputError(f"'findings' is a {type(items).__name__}", expected="a list")
    return tuple(Finding.from_dict(item) for item in items)


def _from_dict(cls: type[R], data: Mapping[str, Any], max_items: int) -> R:
    try:
        return cls._from_dict_unchecked(data, max_items)
    except RecursionError:   # findings' details, names or views nested past Python's stack
        raise InputError("the report dict is nested too deeply",
                         expected="the output of to_dict()") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are unique (else which one counts is up to the reader)."""
    data = dict(pairs)
    if len(data) != len(pairs):
        keys = [k for k, _ in pairs]
        twice = next(k for i, k in enumerate(keys) if k in keys[:i])
        raise ValueError(f"duplicate key {twice[:80]!r}")
    return data


def _check_types(target: type[Report], values: Mapping[str, Any]) -> None:
    """Each decoded value has the type its field declares (as far as the annotation says)."""
    try:
        hints = typing.get_type_hints(target)
    except (NameError, AttributeError, TypeError) as exc:  # TYPE_CHECKING-only names
        # Without the declared types a file's values could not be checked: refuse it.
        raise InputError(f"cannot check the field types of {target.__name__}: its annotations "
                         f"do not resolve ({type(exc).__name__}: {str(exc)[:120]})",
                         expected="annotations importable at run time in a Report subclass "
                                  "read by from_dict") from None
    for name, value in values.items():
        hint = hints.get(name)
        if hint is not None and not _fits(value, hint):
            raise InputError(f"field {name!r} of a {target.__name__} is a {type(value).__name__}",
                             expected=f"{_hint_text(hint)}")


_SIMPLE: dict[Any, tuple[type, ...]] = {
    str: (str,), bool: (bool, np.bool_), int: (int, np.integer), float: (int, float, np.number),
    pd.DataFrame: (pd.DataFrame,), pd.Series: (pd.Series,), np.ndarray: (np.ndarray, list),
}


def _fits(value: Any, hint: Any) -> bool:
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, UnionType):
        return any(_fits(value, arg) for arg in typing.get_args(hint))
    if hint in _SIMPLE:
        ok = isinstance(value, _SIMPLE[hint])
        return ok and not (hint in (int, float) and isinstance(value, bool))
    args = typing.get_args(hint)
    if origin is not None:
        hint = origin
    if hint in (Mapping, dict) or (isinstance(hint, type) and issubclass(hint, Mapping)):
        return isinstance(value, Mapping) and (
            len(args) != 2 or all(_fits(v, args[1]) for v in value.values()))
    if hint in (tuple, list, Sequence) or hint is typing.Sequence:
        if not isinstance(value, list | tuple):
            return False
        item = args[0] if len(args) == 1 or (len(args) == 2 and args[1] is Ellipsis) else Any
        return item is Any or all(_fits(v, item) for v in value)
    return True   # a type this check does not know: the class validates it, if it does


def _hint_text(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def _views_report(data: Mapping[str, Any]) -> Report:
    """A plain :class:`Report` of a dict's views (a report saved without ``fields``)."""
    title = data.get("title", "Report")
    summary = data.get("summary") or {}
    tables = data.get("tables") or {}
    notes = data.get("notes") or []
    if not isinstance(title, str) or not isinstance(summary, Mapping) \
            or not isinstance(tables, Mapping) or not isinstance(notes, list) \
            or not all(isinstance(n, str) for n in notes):
        raise InputError("the report dict's title, summary, tables or notes have the wrong type",
                         expected="text, a mapping, a mapping of lists of records, a list of text")
    frames = {}
    for name, rows in tables.items():
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InputError(f"table {str(name)[:80]!r} is not a list of records",
                             expected="a list of objects, one per row")
        frames[str(name)] = pd.DataFrame.from_records(rows) if rows else pd.DataFrame()
    return Report(title=title, summary=summary, tables=frames,
                  findings=_findings_from(data.get("findings", [])), notes=notes)
