"""The shared report model: JSON round trip, valid self-contained HTML, Markdown."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mllife import InputError
from mllife.report import Finding, Plot, Report, jsonable
from mllife.report._plots import bar, heatmap, histograms, lines

VOID = {"meta", "img", "br", "hr", "input", "link", "col", "area", "base", "wbr", "source"}


class _Checker(HTMLParser):
    """Fails on unbalanced tags and on anything that would need the network."""

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.images = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("src", "href"):
            value = attrs.get(key)
            if value is not None and not value.startswith(("data:", "#")):
                self.errors.append(f"external {key}: {value[:40]}")
        if tag in {"script", "link", "iframe"}:
            self.errors.append(f"<{tag}> in a self-contained report")
        if tag == "img":
            self.images += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def check_html(text: str) -> _Checker:
    checker = _Checker()
    checker.feed(text)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    return checker


def _report() -> Report:
    table = pd.DataFrame(
        {
            "name": ["a<b>", "c|d", "e"],
            "value": [1.5, np.nan, 3.0],
            "count": np.array([1, 2, 3], dtype=np.int64),
            "when": pd.to_datetime(["2024-01-01", None, "2024-03-01"]),
        }
    )
    return Report(
        title="Test <report>",
        summary={"rows": np.int64(3), "share": np.float64(0.25), "missing": float("nan")},
        tables={"values": table},
        findings=[
            Finding("a_check", "error", column="value", message="one NaN & more", n_rows=1,
                    share=1 / 3, sample_index=[np.int64(1)], suggestion="impute"),
            Finding("b_check", "info", message="fine"),
        ],
        plots=[Plot("Values", lambda ax: bar(ax, ["a", "b"], [1.0, 2.0]))],
        notes=["A note."],
    )


def test_json_round_trips():
    report = _report()
    data = report.to_dict()
    assert json.loads(report.to_json()) == data
    assert data["report"] == "Report"
    assert data["summary"] == {"rows": 3, "share": 0.25, "missing": None}
    assert data["tables"]["values"][1]["value"] is None
    assert data["tables"]["values"][0]["when"] == "2024-01-01T00:00:00"
    assert [Finding.from_dict(f) for f in data["findings"]] == list(report.findings)


def test_html_is_valid_self_contained_and_escaped():
    text = _report().to_html()
    checker = check_html(text)
    assert checker.images == 1
    assert text.startswith("<!DOCTYPE html>")
    assert "a&lt;b&gt;" in text
    assert "a<b>" not in text
    assert "one NaN &amp; more" in text
    assert "sev-error" in text
    assert len(text.encode()) < 1_000_000


def test_repr_html_is_a_fragment():
    fragment = _report()._repr_html_()
    check_html(fragment)
    assert "<html" not in fragment
    assert "<style>" in fragment


def test_markdown_renders_tables():
    text = _report().to_markdown()
    assert text.startswith("# Test <report>")
    assert "| name | value | count | when |" in text
    assert "c\\|d" in text  # pipes in cells are escaped
    lines_ = text.splitlines()
    header = lines_.index("| name | value | count | when |")
    assert lines_[header + 1] == "| --- | ---: | ---: | --- |"


def test_to_frame_is_a_copy_and_findings_when_no_table():
    report = _report()
    frame = report.to_frame()
    frame.loc[0, "name"] = "changed"
    assert report.tables["values"].loc[0, "name"] == "a<b>"
    only_findings = Report(findings=report.findings)
    assert list(only_findings.to_frame()["severity"]) == ["error", "info"]


def test_report_is_immutable():
    report = _report()
    with pytest.raises(AttributeError):
        report.title = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        report.summary["rows"] = 4  # type: ignore[index]


@pytest.mark.parametrize("suffix", [".html", ".json", ".md", ".csv"])
def test_save_by_suffix(tmp_path, suffix):
    path = _report().save(tmp_path / "sub" / f"r{suffix}")
    assert path.exists()
    assert path.stat().st_size > 0
    assert not list(path.parent.glob("*.tmp"))
    if suffix == ".json":
        assert json.loads(path.read_text())["title"] == "Test <report>"


def test_save_rejects_unknown_suffix(tmp_path):
    with pytest.raises(InputError, match=r"\.pdf"):
        _report().save(tmp_path / "r.pdf")


def test_repr_counts_findings():
    assert repr(_report()) == "<Report 'Test <report>': 2 findings (1 error, 0 warnings)>"
    assert _report().severity_counts() == {"info": 1, "warning": 0, "error": 1}
    assert [f.check for f in _report().findings_by(severity="error")] == ["a_check"]


def test_finding_rejects_unknown_severity():
    with pytest.raises(InputError, match="severity"):
        Finding("x", "fatal")


def test_every_plot_helper_renders():
    rng = np.random.default_rng(0)
    plots = [
        Plot("heat", lambda ax: heatmap(ax, [[1, 2], [3, np.nan]], ["a", "b"], ["c", "d"])),
        Plot("lines", lambda ax: lines(ax, {"a": ([0, 1], [0, 1]), "b": ([0, 1], [1, 0])},
                                       diagonal=True)),
        Plot("hist", lambda ax: histograms(ax, {"ref": rng.normal(size=100),
                                                "cur": rng.normal(1, size=100)})),
        Plot("vbar", lambda ax: bar(ax, ["a", "b"], [1, 2], horizontal=False)),
    ]
    for plot in plots:
        png = plot.render()
        assert png.startswith(b"\x89PNG")
        assert len(png) < 200_000


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**62), 2**62), st.floats(allow_nan=True),
    st.text(max_size=10), st.datetimes().map(pd.Timestamp),
)


@given(st.dictionaries(st.text(max_size=5), st.lists(scalars, max_size=4) | scalars, max_size=5))
def test_jsonable_output_is_strict_json(value):
    text = json.dumps(jsonable(value), allow_nan=False)
    assert json.loads(text) == jsonable(value)
