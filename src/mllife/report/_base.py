"""``Report``: the immutable result value every mllife analysis returns."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ._finding import SEVERITIES, Finding
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

    Reports pickle and deep-copy (the read-only mappings are rebuilt on load).

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
    """

    title: str = "Report"
    summary: Mapping[str, Any] = field(default_factory=dict)
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    findings: Sequence[Finding] = ()
    plots: Sequence[Plot] = ()
    notes: Sequence[str] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "summary", MappingProxyType(dict(self.summary)))
        object.__setattr__(self, "tables", MappingProxyType(dict(self.tables)))
        object.__setattr__(self, "plots", tuple(self.plots))
        object.__setattr__(self, "notes", tuple(self.notes))
        given = tuple(self.findings)
        object.__setattr__(self, "findings", given)
        derived = tuple(self._derive_findings())
        if type(self)._findings is not Report._findings:  # a subclass overriding the older hook
            derived += tuple(f for f in self._findings() if f not in derived)
        # A finding passed in that the report derives itself (dataclasses.replace) is kept once.
        object.__setattr__(self, "findings", (*derived, *(f for f in given if f not in derived)))

    # ---- values: pickling and deep copies --------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        # MappingProxyType cannot be pickled: store plain dicts and the names to re-wrap.
        state = dict(self.__dict__)
        proxies = [k for k, v in state.items() if isinstance(v, MappingProxyType)]
        frozen = [k for k, v in state.items() if isinstance(v, np.ndarray) and not v.flags.writeable]
        for key in proxies:
            state[key] = dict(state[key])
        return {"state": state, "proxies": proxies, "frozen": frozen}

    def __setstate__(self, data: Mapping[str, Any]) -> None:
        state = dict(data["state"])
        for key in data["proxies"]:
            state[key] = MappingProxyType(state[key])
        for key in data["frozen"]:
            state[key].setflags(write=False)
        for key, value in state.items():
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
        """Everything in the report as JSON-safe data."""
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
        return data

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
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, 0o644)  # mkstemp creates 0600; a report is meant to be shared
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target

    def __repr__(self) -> str:
        counts = self.severity_counts()
        n = sum(counts.values())
        return (
            f"<{type(self).__name__} {self.title!r}: {n} finding{'s' if n != 1 else ''} "
            f"({counts['error']} error{'s' if counts['error'] != 1 else ''}, "
            f"{counts['warning']} warning{'s' if counts['warning'] != 1 else ''})>"
        )
