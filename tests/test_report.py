"""The shared report model: JSON round trip, valid self-contained HTML, Markdown."""

from __future__ import annotations

import copy
import dataclasses
import io
import json
import pickle
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mllife import InputError
from mllife.report import Finding, FrozenDict, Plot, Report, jsonable
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


def _plain_report() -> Report:
    """``_report`` without its lambda plot (a lambda cannot be pickled, a report can)."""
    return dataclasses.replace(_report(), plots=())


def test_report_pickles_and_deep_copies():
    report = _plain_report()
    for twin in (pickle.loads(pickle.dumps(report)), copy.deepcopy(report)):
        assert twin.to_dict() == report.to_dict()
        assert twin.findings == report.findings
        assert isinstance(twin.summary, FrozenDict)   # still read-only
        with pytest.raises(TypeError):
            twin.summary["rows"] = 4  # type: ignore[index]


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class _Derived(Report):
    value: int = 0

    def _derive_findings(self):
        return [Finding("too_big", "warning", message="big")] if self.value > 1 else []


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class _OldStyle(Report):
    """A subclass written against the older ``_findings`` hook."""

    def _findings(self):
        return [Finding("old_hook", "info", message="still seen")]


def test_derived_findings_are_on_the_public_attribute():
    given = Finding("given", "info", message="passed in")
    report = _Derived(value=2, findings=[given])
    assert [f.check for f in report.findings] == ["too_big", "given"]
    assert report.findings_by() == list(report.findings)
    assert len(report.to_dict()["findings"]) == 2
    # Rebuilding with the findings it already holds keeps each finding once.
    again = dataclasses.replace(report, findings=report.findings)
    assert again.findings == report.findings
    assert _Derived(value=0).findings == ()
    old = _OldStyle()
    assert [f.check for f in old.findings] == ["old_hook"]
    assert len(old.to_dict()["findings"]) == 1


# ---- long labels (issue 13: penguin species, long column names) -------------------------
PENGUINS = ["Adelie Penguin (Pygoscelis adeliae)", "Chinstrap penguin (Pygoscelis antarctica)",
            "Gentoo penguin (Pygoscelis papua)"]


def _forty(i: int) -> str:
    """A 40-character label with spaces, like a species or a long column name."""
    return f"category {i:02d} of a long descriptive label"[:40].ljust(40, "x")


def _drawn(plot: Plot):
    """The plot's Figure, laid out and rendered with every warning an error."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot.figure()
        fig.savefig(io.BytesIO(), format="png")
    return fig


def _tick_texts(fig) -> list[str]:
    """The category tick labels of the main axes (numbers on the value axis left out)."""
    ax = fig.axes[0]
    texts = [t.get_text() for t in [*ax.get_xticklabels(), *ax.get_yticklabels()]]
    return [t for t in texts if any(c.isalpha() for c in t)]


HELPERS = {
    "bar": lambda labels: (lambda ax: bar(ax, labels, np.arange(1.0, len(labels) + 1))),
    "vertical bar": lambda labels: (lambda ax: bar(ax, labels, np.arange(1.0, len(labels) + 1),
                                                   horizontal=False)),
    "heatmap": lambda labels: (lambda ax: heatmap(ax, np.eye(len(labels)), labels, labels)),
}


@pytest.mark.parametrize("helper", sorted(HELPERS))
@pytest.mark.parametrize("n_labels", [3, 12])
def test_long_labels_are_wrapped_and_the_figure_grows_to_fit(helper, n_labels):
    from mllife.report._plots import LABEL_LINES, LABEL_WIDTH

    short = [f"c{i}" for i in range(n_labels)]
    long = [_forty(i) for i in range(n_labels)]
    small = _drawn(Plot("short", HELPERS[helper](short), size=(3.0, 2.0)))
    big = _drawn(Plot("long", HELPERS[helper](long), size=(3.0, 2.0)))
    texts = _tick_texts(big)
    assert texts
    for text in texts:
        lines_ = text.split("\n")
        assert len(lines_) <= LABEL_LINES
        assert max(len(line) for line in lines_) <= LABEL_WIDTH
    # Wrapped, not cut: every word of every label is on the figure.
    assert sorted(" ".join(t.split("\n")) for t in set(texts)) == sorted(set(long))
    assert not big.legends  # no key: nothing was cut
    w_small, h_small = small.get_size_inches()
    w_big, h_big = big.get_size_inches()
    assert w_big >= w_small
    assert h_big >= h_small
    assert w_big + h_big > w_small + h_small + 1.0


def test_labels_too_long_to_wrap_are_cut_numbered_and_spelled_out_in_a_key():
    from mllife.report._plots import LABEL_WIDTH, fit_labels

    labels = ["revenue", "total revenue of the customer over the twelve months before the "
              "snapshot date, in euros", "x" * 90]
    fig = _drawn(Plot("cut", lambda ax: bar(ax, [*labels, labels[1]], [1.0, 2.0, 3.0, 4.0])))
    texts = _tick_texts(fig)
    assert texts[0] == "revenue"
    assert texts[1].startswith("[1] total revenue")
    assert texts[1].endswith("…")
    assert texts[3] == texts[1]  # the same label keeps its number
    assert texts[2].startswith("[2] xxx")
    assert all(len(line) <= LABEL_WIDTH for t in texts for line in t.split("\n"))
    (key,) = fig.legends
    # Spelled out in full (wrapped onto lines of the key: compare without the whitespace).
    spelled = ["".join(t.get_text().split()) for t in key.get_texts()]
    assert spelled == ["".join(f"[{i}] {labels[i]}".split()) for i in (1, 2)]
    tall = _drawn(Plot("cut", lambda ax: bar(ax, labels, [1.0, 2.0, 3.0]), size=(3.0, 2.0)))
    plain = _drawn(Plot("plain", lambda ax: bar(ax, ["a", "b", "c"], [1.0, 2.0, 3.0]), size=(3.0, 2.0)))
    assert tall.get_size_inches()[1] > plain.get_size_inches()[1]  # room for the key
    assert fit_labels(["a b", "a b"]) == (["a b", "a b"], [])


def test_legend_labels_of_lines_are_wrapped():
    series = {name: ([0.0, 1.0], [0.0, 1.0]) for name in PENGUINS}
    fig = _drawn(Plot("roc", lambda ax: lines(ax, series, diagonal=True), size=(4.8, 3.6)))
    legend = fig.axes[0].get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts[1] == "Chinstrap penguin\n(Pygoscelis antarctica)"


def test_evaluation_plots_with_penguin_species_build_without_warnings():
    # The confusion matrix collapsed ("constrained_layout not applied because axes sizes
    # collapsed to zero") with the species names of the Palmer penguins data set.
    from sklearn.linear_model import LogisticRegression

    from mllife.evaluation import evaluate

    rng = np.random.default_rng(0)
    n = 330
    species = rng.integers(0, 3, n)
    X = pd.DataFrame({"Culmen Length (mm)": 39 + 6 * species + rng.normal(0, 3, n),
                      "Flipper Length (mm)": 190 + 12 * species + rng.normal(0, 7, n)})
    y = pd.Series(np.array(PENGUINS)[species], name="Species")
    island = pd.Series(np.array(["Torgersen Island", "Biscoe Islands", "Dream Island"])[
        rng.integers(0, 3, n)] + ", Palmer Archipelago, Antarctica")
    model = LogisticRegression(max_iter=1000).fit(X, y)
    report = evaluate(model, X, y, baseline=None, sensitive_features=island)
    figures = {plot.title: _drawn(plot) for plot in report._plots()}
    confusion = figures["Confusion matrix (share of each true label)"]
    assert "Gentoo penguin\n(Pygoscelis papua)" in _tick_texts(confusion)
    assert confusion.get_size_inches()[0] > 4.8
    assert all(len(line) <= 24 for fig in figures.values() for t in _tick_texts(fig)
               for line in t.split("\n"))


def test_audit_plots_with_long_column_names_build_without_warnings():
    import mllife

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        f"{name} reported by the customer at signup (free text)": values
        for name, values in (("Annual household income", rng.normal(5e4, 1e4, 200)),
                             ("Number of dependants", rng.integers(0, 4, 200).astype(float)),
                             ("Preferred contact channel", rng.choice(np.array(["N/A", "email"]), 200)))
    })
    frame.iloc[:40, 0] = np.nan
    report = mllife.audit(frame)
    for plot in report._plots():
        fig = _drawn(plot)
        assert all(len(line) <= 24 for t in _tick_texts(fig) for line in t.split("\n"))
