"""HTML and Markdown rendering shared by every report."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._finding import Finding

#: Tables longer than this are cut in HTML and Markdown (JSON keeps everything).
MAX_ROWS = 100

CSS = """
.mllife-report{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,sans-serif;
 color:#1f2328;line-height:1.45;max-width:1100px;font-size:14px}
.mllife-report h1{font-size:1.5em;margin:.2em 0 .4em;border-bottom:2px solid #0072B2;padding-bottom:.2em}
.mllife-report h2{font-size:1.15em;margin:1.2em 0 .4em;color:#0b3d66}
.mllife-report table{border-collapse:collapse;margin:.3em 0 1em;font-size:.92em}
.mllife-report th,.mllife-report td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
.mllife-report th{background:#f3f6f9}
.mllife-report td.num{text-align:right;font-variant-numeric:tabular-nums}
.mllife-report .cards{display:flex;flex-wrap:wrap;gap:8px;margin:.4em 0 1em}
.mllife-report .card{border:1px solid #d0d7de;border-radius:6px;padding:6px 12px;min-width:110px;background:#fafbfc}
.mllife-report .card .k{font-size:.8em;color:#57606a}
.mllife-report .card .v{font-size:1.2em;font-weight:600}
.mllife-report .sev{display:inline-block;border-radius:10px;padding:0 8px;font-size:.85em;font-weight:600}
.mllife-report .sev-error{background:#ffd8d3;color:#8a1c0c}
.mllife-report .sev-warning{background:#fff1c2;color:#6b4a00}
.mllife-report .sev-info{background:#dcecff;color:#0b3d66}
.mllife-report .note{color:#57606a;font-size:.9em}
.mllife-report figure{margin:.5em 0 1.2em}
.mllife-report figcaption{font-weight:600;margin-bottom:.3em}
.mllife-report img{max-width:100%}
"""


def esc(value: Any) -> str:
    """HTML-escape any value's text."""
    return html.escape(str(value), quote=True)


def format_value(value: Any) -> str:
    """Short human text for one cell."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        v = float(value)
        if np.isnan(v):
            return ""
        if v == 0 or (1e-3 <= abs(v) < 1e6):
            return f"{v:,.4g}" if abs(v) >= 1000 else f"{v:.4g}"
        return f"{v:.3e}"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value)
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def table_html(df: pd.DataFrame, *, max_rows: int = MAX_ROWS) -> str:
    """A DataFrame as an escaped HTML table, numbers right-aligned."""
    shown = df.head(max_rows)
    head = "".join(f"<th>{esc(c)}</th>" for c in shown.columns)
    body = []
    for row in shown.itertuples(index=False, name=None):
        cells = []
        for value in row:
            if isinstance(value, Finding):
                value = value.message
            cls = ' class="num"' if _is_number(value) else ""
            cells.append(f"<td{cls}>{esc(format_value(value))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if len(df) > max_rows:
        more = f'<p class="note">{len(df) - max_rows:,} more rows not shown (see JSON).</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def table_markdown(df: pd.DataFrame, *, max_rows: int = MAX_ROWS) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table."""
    shown = df.head(max_rows)

    def cell(value: Any) -> str:
        return format_value(value).replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(cell(c) for c in shown.columns) + " |"
    rule = "| " + " | ".join("---:" if pd.api.types.is_numeric_dtype(shown[c].dtype)
                              and not pd.api.types.is_bool_dtype(shown[c].dtype) else "---"
                              for c in shown.columns) + " |"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |"
            for row in shown.itertuples(index=False, name=None)]
    text = "\n".join([header, rule, *rows])
    if len(df) > max_rows:
        text += f"\n\n_{len(df) - max_rows:,} more rows not shown._"
    return text


def findings_frame(findings: Sequence[Finding]) -> pd.DataFrame:
    """Findings as a table, gravest first."""
    columns = ["severity", "check", "column", "message", "n_rows", "share", "suggestion"]
    if not findings:
        return pd.DataFrame(columns=columns)
    ordered = sorted(findings, key=lambda f: -f.rank)
    return pd.DataFrame([{c: getattr(f, c) for c in columns} for f in ordered], columns=columns)


def cards_html(summary: Mapping[str, Any]) -> str:
    items = "".join(
        f'<div class="card"><div class="k">{esc(k)}</div><div class="v">{esc(format_value(v))}</div></div>'
        for k, v in summary.items()
    )
    return f'<div class="cards">{items}</div>'


def findings_html(findings: Sequence[Finding]) -> str:
    if not findings:
        return '<p class="note">No findings.</p>'
    rows = []
    for f in sorted(findings, key=lambda f: -f.rank):
        share = "" if f.share is None else f"{f.share:.2%}"
        rows.append(
            "<tr>"
            f'<td><span class="sev sev-{esc(f.severity)}">{esc(f.severity)}</span></td>'
            f"<td>{esc(f.check)}</td><td>{esc(format_value(f.column))}</td>"
            f"<td>{esc(f.message)}</td>"
            f'<td class="num">{esc(format_value(f.n_rows))}</td><td class="num">{esc(share)}</td>'
            f"<td>{esc(f.suggestion)}</td></tr>"
        )
    head = "".join(f"<th>{h}</th>" for h in
                   ("severity", "check", "column", "message", "rows", "share", "suggestion"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
