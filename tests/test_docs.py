"""The examples in docs/*.md run, and every public name has a docs page.

Doctest examples (``>>>`` lines) inside fenced code blocks of each page run in one
namespace per page, in order, so a page reads as a session.
"""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import mllife

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = sorted(DOCS.glob("*.md"))
FENCE = re.compile(r"^```[a-z]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _examples(text: str) -> str:
    blocks = [b for b in FENCE.findall(text) if ">>>" in b]
    return "\n".join(blocks)


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = _examples(page.read_text(encoding="utf-8"))
    if not source:
        pytest.skip("no >>> examples on this page")
    parser = doctest.DocTestParser()
    test = parser.get_doctest(source, {"__name__": page.stem}, page.name, str(page), 0)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    runner = doctest.DocTestRunner(optionflags=flags)
    failures: list[str] = []

    class _Out:
        def __call__(self, text: str) -> None:
            failures.append(text)

    runner.run(test, out=_Out())
    assert runner.failures == 0, "".join(failures)[:4000]


def test_every_public_name_is_documented():
    text = "\n".join(p.read_text(encoding="utf-8") for p in PAGES)
    missing = [name for name in mllife.__all__
               if not name.startswith("_") and name not in mllife.SUBPACKAGES
               and f"`{name}" not in text and f"{name}(" not in text]
    assert missing == []
