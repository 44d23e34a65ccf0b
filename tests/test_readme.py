"""The README's quick start runs as written (the README stays honest)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _quick_start() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, "README has no python block under '## Quick start'"
    return match.group(1)


def test_quick_start_is_short():
    assert len(_quick_start().strip().splitlines()) <= 30


def test_quick_start_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    exec(compile(_quick_start(), str(README), "exec"), namespace)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written, "the quick start saves its reports and bundle"
