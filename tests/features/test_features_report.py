"""The plan report and the demo step."""

from __future__ import annotations

import json

from mllife import make_churn
from mllife.features import make_preprocessor


def test_plan_report_before_and_after_fit():
    X = make_churn(400, random_state=0, defects=False).X
    pre = make_preprocessor(X)
    unfitted = pre.plan_report()
    assert unfitted.features is None
    assert unfitted.to_dict()["summary"] == {"input columns": 14, "kept": 13, "dropped": 1}
    fitted = pre.fit(X).plan_report(X)
    data = json.loads(fitted.to_json())
    assert data["summary"]["output features"] == len(pre.get_feature_names_out())
    assert set(data["tables"]) == {"plan", "features"}
    html = fitted.to_html()
    assert len(html.encode()) < 1_000_000
    assert "customer_id" in fitted.to_markdown()
    assert "dropped" in repr(fitted)


def test_demo_step_writes_report_and_state(tmp_path):
    from mllife._demo import DemoContext
    from mllife.features import _demo

    clean = make_churn(800, random_state=1, defects=False, drift=True)
    ctx = DemoContext(out=tmp_path, messy=clean, clean=clean)
    _demo.run(ctx)
    assert {p.name for p in ctx.written} == {"03_features.html", "03_features.json"}
    assert "churned" not in set(ctx.state["preprocessor"].plan_["column"])
    assert not hasattr(ctx.state["preprocessor"], "transformers_")  # left unfitted
    assert ctx.log
    assert ctx.log[0].startswith("features:")
