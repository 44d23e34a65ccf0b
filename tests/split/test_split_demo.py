"""The demo step writes its report and leaves the split for later steps."""

from __future__ import annotations

from mllife._demo import DemoContext
from mllife.datasets import make_churn
from mllife.split import Split, _demo


def test_demo_step(tmp_path, churn_clean):
    ctx = DemoContext(out=tmp_path, messy=make_churn(200, random_state=0), clean=churn_clean)
    _demo.run(ctx)
    assert sorted(p.name for p in ctx.written) == ["02_split.html", "02_split.json"]
    parts = ctx.state["split"]
    assert isinstance(parts, Split)
    assert parts.report.passed
    assert "churned" not in ctx.state["X_train"].columns
    assert len(ctx.state["X_test"]) == len(ctx.state["y_test"]) == len(parts.test)
    assert ctx.state["X_train"].index.equals(ctx.state["y_train"].index)
    assert ctx.log[0].startswith("split:")
