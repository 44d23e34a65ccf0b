"""Demo step: bundle the model with its contract, reload it safely, refuse garbage."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .._errors import SchemaError
from .._frame import infer_kind, is_datetime, is_numeric
from ..report import Report
from ._bundle import ModelBundle
from ._persist import load_bundle
from ._schema import InputSchema

#: The demo's signing key (a real service reads its key from a secret store).
DEMO_KEY = b"demo-key-not-a-secret"


def _fallback_model(X: pd.DataFrame, y: pd.Series) -> Any:
    """One-hot text, scaled numbers, IDs and date-times dropped; logistic regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numbers = [c for c in X.columns if is_numeric(X[c])]
    texts = [c for c in X.columns if not is_numeric(X[c]) and not is_datetime(X[c])
             and infer_kind(X[c]) not in {"identifier", "text"}]
    pre = ColumnTransformer([("num", StandardScaler(), numbers),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), texts)])
    return Pipeline([("pre", pre), ("model", LogisticRegression(max_iter=1_000))]).fit(X, y)


def _garbage(row: dict[str, Any]) -> dict[str, Any]:
    bad = dict(row)
    bad.pop("tenure_months", None)
    bad["tenure"] = 12  # renamed column
    bad["age"] = "forty"  # text in a numeric column
    bad["monthly_charges"] = float("inf")
    bad["plan"] = "platinum"  # unseen category
    bad["region"] = {"nested": "object"}
    bad["signup_date"] = "2021-02-30"  # not a date
    return bad


def _score_file(ctx: Any, bundle: ModelBundle, frame: pd.DataFrame,
                X_train: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Batch scoring: a CSV of new customers with three planted bad rows, via predict_file."""
    rows = frame.loc[:, list(X_train.columns)].tail(500).reset_index(drop=True)
    rows = rows.astype({c: object for c in ("age", "plan", "signup_date") if c in rows})
    planted = {"age": (10, "forty"), "plan": (200, "platinum"), "signup_date": (400, "2021-02-30")}
    for column, (row, value) in planted.items():
        if column in rows:
            rows.loc[row, column] = value
    src = ctx.out / "new-customers.csv"
    rows.to_csv(src, index=False)
    result = bundle.predict_file(src, ctx.out / "new-customers.scores.csv",
                                 keep=[c for c in ("customer_id",) if c in rows], progress=False)
    ctx.written += [src, result.dst, *([result.rejects] if result.rejects else [])]
    rejected = pd.read_csv(result.rejects, usecols=["row", "problems"]) if result.rejects \
        else pd.DataFrame(columns=["row", "problems"])
    table = pd.DataFrame([{"rows": result.rows, "scored": result.scored,
                           "rejected": result.rejected,
                           "rejected rows": ", ".join(map(str, rejected["row"].tolist())),
                           "problems": " | ".join(rejected["problems"].astype(str).tolist())}])
    note = (f"predict_file scored {src.name} in chunks: {result.scored} rows to "
            f"{result.dst.name}, {result.rejected} rows with planted defects to "
            f"{result.rejects.name if result.rejects else '(none)'} with their problems; "
            "rows == scored + rejected, nothing dropped.")
    return table, note


def run(ctx: Any) -> None:
    frame = ctx.clean.frame
    X_train = ctx.state.get("X_train")
    model = ctx.state.get("model")
    if X_train is None:
        X_train = frame.drop(columns=["churned"])
    if model is None:
        model = _fallback_model(X_train, frame.loc[X_train.index, "churned"])
    from ..drift import DriftProfile  # the profile a bundle carries: its training inputs

    drift_profile = DriftProfile.fit(X_train)
    ctx.state["drift_profile"] = drift_profile
    evaluation = ctx.state.get("evaluation")
    metrics = {}
    if evaluation is not None and isinstance(getattr(evaluation, "metrics", None), Mapping):
        metrics = {str(k): float(v) for k, v in evaluation.metrics.items()
                   if isinstance(v, int | float) and not isinstance(v, bool)}

    schema = InputSchema.infer(X_train)
    bundle = ModelBundle(model, schema, version="1.0.0",
                         metadata={"trained_rows": len(X_train), "target": "churned"},
                         metrics=metrics, drift_profile=drift_profile)
    path = bundle.save(ctx.out / "churn-model.mllife", key=DEMO_KEY)
    ctx.written.append(path)
    loaded = load_bundle(path, key=DEMO_KEY)
    ctx.state["bundle"] = loaded
    ctx.state["bundle_path"] = path

    sample = X_train.head(3)
    requests = json.loads(sample.to_json(orient="records", date_format="iso"))
    answered = loaded.predict_proba(requests) if hasattr(model, "predict_proba") \
        else loaded.predict(requests)
    try:
        loaded.predict(_garbage(requests[0]))
        problems = pd.DataFrame()
    except SchemaError as err:
        problems = pd.DataFrame([{**p, "rows": ", ".join(map(str, p.get("rows", [])))}
                                 for p in err.problems])
    batch, batch_note = _score_file(ctx, loaded, frame, X_train)
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    members = pd.DataFrame([{"member": name, "bytes": info["size"], "sha256": info["sha256"]}
                            for name, info in manifest["members"].items()])
    columns = pd.DataFrame([
        {"column": c.name, "family": c.family, "nullable": c.nullable,
         "min": c.min, "max": c.max,
         "categories": "" if c.categories is None else ", ".join(c.categories)}
        for c in schema.specs])
    report = Report(
        title="Model bundle",
        summary={"version": loaded.version, "columns": len(schema.columns),
                 "metrics stored": len(metrics),
                 "file bytes": path.stat().st_size, "signed": True,
                 "drift profile": drift_profile is not None,
                 "garbage problems found": len(problems)},
        tables={"input contract": columns, "manifest": members,
                "library versions": pd.DataFrame(
                    [{"library": k, "version": v} for k, v in manifest["versions"].items()]),
                "validated prediction (3 JSON rows)": answered,
                "rejected request: problems": problems,
                "batch scoring (predict_file)": batch},
        notes=[f"{path.name}: the fitted pipeline (skops), its input contract, version, "
               "metrics and a manifest of SHA-256 hashes, signed with HMAC-SHA256.",
               "The garbage request (renamed column, text in a number, infinity, unseen "
               "category, nested object, impossible date) was refused before the model ran; "
               "the problems name columns and row positions, never the values sent.",
               batch_note],
    )
    ctx.write(report, "06_bundle")
    ctx.say(f"bundle: {path.name} ({path.stat().st_size / 1024:.0f} KiB, signed), "
            f"{len(schema.columns)}-column contract; a garbage request was refused with "
            f"{len(problems)} problems; predict_file scored {batch.loc[0, 'scored']} rows and "
            f"rejected {batch.loc[0, 'rejected']}")
