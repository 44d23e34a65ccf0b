"""SHAP global importance that works on a fitted Pipeline with string columns.

Plain ``shap.Explainer(pipeline)`` fails on such pipelines (the masker cannot
perturb strings). Here the final estimator is explained on the *transformed*
features of a sample of rows, then the attributions of every output of the
ColumnTransformer are summed back to the raw input column it came from, traced
as ``describe_features`` traces it (all one-hot columns of ``plan`` add up to
``plan``, the missing indicator of ``age`` to ``age``). Sums of SHAP values are
SHAP values of the group, so additivity still holds on raw columns.

A classifier without ``predict_proba`` is explained through its decision
function (one output per class); one with neither is skipped: a predicted
class label, or class number, is not an amount to attribute.

Determinism: the work stops on a row budget, never on the clock. At most
``n_rows`` rows are explained (a seeded sample of them when ``X`` has more), in
chunks of :data:`CHUNK` rows; the sample, the background rows and the
permutation orders all come from ``random_state``, so the same call gives the
same values bit for bit on any machine.

Explainer choice: ``TreeExplainer`` for tree models, ``LinearExplainer`` for
linear models, otherwise a model-agnostic permutation explainer on a
background sample (shap's PermutationExplainer algorithm, vectorised here and
masking each raw column's outputs together; shap's own compiles with numba
for half a minute on first use). shap is imported on first use.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._frame import is_numeric
from .._random import as_generator

#: Rows explained at most by default (``evaluate(explain_rows=...)``), and the background
#: rows of model-agnostic explainers.
EXPLAIN_ROWS = 300
BACKGROUND_ROWS = 30
#: Rows explained per call of the explainer (bounds the memory of one call).
CHUNK = 50


@dataclass
class Explanation:
    importance: pd.DataFrame
    transformed_importance: pd.DataFrame
    explainer: str
    explained_output: str
    n_rows: int
    additivity_max_error: float
    #: Wall-clock time spent; informational only (the work stops on ``n_rows``, not on it).
    seconds: float
    notes: list[str] = field(default_factory=list)
    #: Raw-column attributions of the explained rows (n_rows x n_columns) and their base value.
    values: np.ndarray | None = None
    base_values: np.ndarray | None = None
    outputs: np.ndarray | None = None


def _import_shap() -> Any:
    # shap's import touches matplotlib APIs that matplotlib itself marks as
    # (pending) deprecated: not ours to fix, and not the user's either.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        import shap
    return shap


def _split_pipeline(model: Any) -> tuple[Any, Any]:
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline) and len(model.steps) > 1:
        return model[:-1], model[-1]
    return None, model


def output_sources(pre: Any, raw_columns: list[str]) -> tuple[list[str], list[str]] | None:
    """``(output names, raw source of each output)``, or None when it cannot be told.

    The sources are traced as :func:`~mllife.features.describe_features` traces
    them (through Pipelines and ColumnTransformers, by name for steps that do
    not say): all one-hot columns of ``plan`` come from ``plan``, and the
    missing indicator ``missingindicator_age`` from ``age``. An output made
    from several inputs (a PCA component, a product) is credited to the group
    ``"a + b"``.
    """
    from ..features._describe import _trace

    names_in = getattr(pre, "feature_names_in_", None)
    in_names = raw_columns if names_in is None else [str(n) for n in names_in]
    try:
        names_out = [str(n) for n in pre.get_feature_names_out()]
        traces = _trace(pre, in_names)
    except Exception:  # a step that cannot name its outputs: importance per transformed feature
        return None
    if len(traces) != len(names_out):
        return None
    return names_out, [" + ".join(t.sources) if t.sources else t.name for t in traces]


def _as_dense(values: Any) -> np.ndarray:
    if hasattr(values, "toarray"):
        values = values.toarray()
    if isinstance(values, pd.DataFrame):
        return values.to_numpy(dtype=float, na_value=np.nan)
    return np.asarray(values, dtype=float)


def _kind(est: Any) -> str:
    module = type(est).__module__
    if any(k in module for k in ("sklearn.tree", "sklearn.ensemble", "xgboost", "lightgbm", "catboost")):
        return "tree"
    if "sklearn.linear_model" in module and hasattr(est, "coef_"):
        return "linear"
    return "permutation"


#: Random feature orders (each also taken reversed, as shap's PermutationExplainer does).
PERMUTATIONS = 3
#: Model rows evaluated per call of the permutation explainer.
MAX_EVAL_ROWS = 200_000


def permutation_values(f: Any, X: np.ndarray, background: np.ndarray, owner: np.ndarray,
                       rng: np.random.Generator, n_perm: int = PERMUTATIONS
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Permutation SHAP values of ``f`` (shap's PermutationExplainer algorithm, vectorised).

    Features are switched from background to ``X`` values one *group* at a
    time (``owner[j]`` is the group of column ``j``: all one-hot columns of a
    raw column move together, so no impossible row is ever evaluated). Along
    each order the marginal contributions telescope to ``f(x) - mean f(background)``:
    the values are exactly additive whatever the number of orders. Each
    group's value is split evenly over its columns.

    Returns
    -------
    values : (n, p, k) array and base values : (n, k) array
    """
    n, p = X.shape
    n_groups = int(owner.max()) + 1 if p else 0
    n_bg = len(background)
    base_out = np.asarray(f(background), dtype=float)
    base_out = base_out[:, None] if base_out.ndim == 1 else base_out
    k = base_out.shape[1]
    group_values = np.zeros((n, n_groups, k))
    rows_per_call = max(1, MAX_EVAL_ROWS // ((n_groups + 1) * n_bg))
    for _ in range(n_perm):
        order = rng.permutation(n_groups)
        for direction in (order, order[::-1]):
            on = np.zeros((n_groups + 1, p), dtype=bool)
            for step, g in enumerate(direction, start=1):  # loop over feature groups
                on[step] = on[step - 1] | (owner == g)
            for lo in range(0, n, rows_per_call):
                x = X[lo:lo + rows_per_call]
                data = np.where(on[None, :, None, :], x[:, None, None, :], background[None, None, :, :])
                out = np.asarray(f(data.reshape(-1, p)), dtype=float)
                out = out.reshape(len(x), n_groups + 1, n_bg, k).mean(axis=2)
                group_values[lo:lo + len(x), direction, :] += np.diff(out, axis=1)
    group_values /= 2 * n_perm
    sizes = np.bincount(owner, minlength=n_groups).astype(float)
    values = group_values[:, owner, :] / sizes[owner][None, :, None]
    return values, np.broadcast_to(base_out.mean(axis=0), (n, k)).copy()


def _normalise(values: Any, base: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
    """SHAP values as (n, p, k) and base values as (n, k)."""
    if isinstance(values, list):
        values = np.stack([np.asarray(v) for v in values], axis=-1)
    values = np.asarray(values, dtype=float)
    if values.ndim == 2:
        values = values[:, :, None]
    k = values.shape[2]
    base = np.asarray(base, dtype=float)
    if base.ndim == 0:
        base = np.full((n, k), float(base))
    elif base.ndim == 1:
        if k == 1 and base.shape[0] == n:
            base = base[:, None]
        elif base.shape[0] == k:
            base = np.broadcast_to(base, (n, k)).copy()
        else:
            base = np.broadcast_to(base[:, None], (n, k)).copy()
    return values, base


def _decision_function_problem(est: Any, sample: np.ndarray, pred_task: str,
                                classes: np.ndarray | None) -> str:
    """Why ``est``'s decision function cannot be explained per class ("" when it can)."""
    width = 1 if sample.ndim == 1 else sample.shape[1]
    n_classes = 2 if classes is None else len(classes)
    if pred_task == "multiclass" and (width != n_classes
                                      or getattr(est, "decision_function_shape", "ovr") == "ovo"):
        return (f"explanation skipped: {type(est).__name__} has no predict_proba and its "
                f"decision_function gives {width} one-vs-one scores for {n_classes} classes, not "
                "one score per class; use decision_function_shape='ovr' or probability=True")
    return ""


def explain(model: Any, X: pd.DataFrame, pred_task: str, classes: np.ndarray | None,
            positive_label: Any, *, n_rows: int = EXPLAIN_ROWS,
            random_state: Any = None) -> Explanation | str:
    """Global SHAP importance by raw column, or a sentence saying why it was skipped.

    ``n_rows`` is the row budget: every row of ``X`` when it has at most that many,
    else a sample of ``n_rows`` rows drawn with ``random_state`` (``None`` is seed 0).
    """

    start = time.perf_counter()
    pre, est = _split_pipeline(model)
    raw_columns = [str(c) for c in X.columns]
    rng = as_generator(random_state)
    take = np.sort(rng.choice(len(X), size=min(n_rows, len(X)), replace=False))
    sample = X.iloc[take]
    notes: list[str] = []
    if len(take) < len(X):
        notes.append(f"SHAP on a seeded sample of {len(take)} of the {len(X)} test rows "
                     f"(row budget explain_rows={n_rows}).")
    if pre is not None:
        mapped = output_sources(pre, raw_columns)
        Xt = _as_dense(pre.transform(sample))
        if mapped is None:
            names = [f"f{i}" for i in range(Xt.shape[1])]
            sources = names
            notes.append("Could not map transformed features to raw columns; importance is per transformed feature.")
        else:
            names, sources = mapped
            mixed = [n for n, src in zip(names, sources, strict=True) if src not in raw_columns]
            if mixed:
                notes.append(f"{len(mixed)} transformed feature(s) mix several input columns "
                             f"({', '.join(mixed[:3])}); their attributions are credited to the group "
                             f"of those columns ({sources[names.index(mixed[0])]}).")
    raw_dtypes: dict[Any, Any] | None = None
    if pre is None:
        bad = [c for c in X.columns if not (is_numeric(X[c]) or pd.api.types.is_bool_dtype(X[c].dtype))]
        names = sources = raw_columns
        if bad and list(getattr(est, "feature_names_in_", [])) == list(X.columns) and X.columns.is_unique:
            # A model that takes the raw table itself (e.g. HistGradientBoosting with native
            # categories): the permutation explainer mixes the raw values, and every mixed
            # row is rebuilt with X's column dtypes before the model sees it.
            Xt = sample.to_numpy(dtype=object)
            raw_dtypes = sample.dtypes.to_dict()
            notes.append(f"The model takes non-numeric columns ({', '.join(map(str, bad[:5]))}) "
                         "directly: explained with the permutation explainer on the raw values.")
        elif bad:
            return (f"explanation skipped: the model takes non-numeric columns ({', '.join(map(str, bad[:5]))}) "
                    "and is not a Pipeline whose preprocessing can be separated")
        else:
            Xt = _as_dense(sample)
    feature_names = getattr(est, "feature_names_in_", None)

    def frame(values: np.ndarray) -> Any:
        if raw_dtypes is not None:
            return pd.DataFrame(values, columns=X.columns).astype(raw_dtypes)
        if feature_names is not None and len(feature_names) == values.shape[1]:
            return pd.DataFrame(values, columns=list(feature_names))
        return values

    is_clf = pred_task != "regression"
    positive_index = 0
    if pred_task == "binary" and classes is not None:
        positive_index = int(np.flatnonzero(np.asarray(classes) == positive_label)[0])
    kind = _kind(est) if raw_dtypes is None else "permutation"
    background = Xt[rng.choice(len(Xt), size=min(BACKGROUND_ROWS, len(Xt)), replace=False)]
    explainer: Any = None
    if kind == "tree":
        try:
            explainer = _import_shap().TreeExplainer(est)
        except Exception as exc:
            notes.append(f"TreeExplainer does not support {type(est).__name__} ({type(exc).__name__}); "
                         "used the permutation explainer.")
            kind = "permutation"
    if kind == "linear":
        try:
            explainer = _import_shap().LinearExplainer(est, background)
        except Exception as exc:
            notes.append(f"LinearExplainer failed ({type(exc).__name__}); used the permutation explainer.")
            kind = "permutation"
    if kind == "permutation":
        if is_clf and hasattr(est, "predict_proba"):
            def f(Z: np.ndarray) -> np.ndarray:
                return np.asarray(est.predict_proba(frame(Z)))
        elif is_clf and hasattr(est, "decision_function"):
            # Never predict(): a class label (or a class number) is not an amount to attribute.
            def f(Z: np.ndarray) -> np.ndarray:
                return np.asarray(est.decision_function(frame(Z)), dtype=float)
            skipped = _decision_function_problem(est, f(background[:2]), pred_task, classes)
            if skipped:
                return skipped
            notes.append(f"{type(est).__name__} has no predict_proba: its decision function is explained"
                         + (" (one output per class, importance averaged over the classes)."
                            if pred_task == "multiclass" else "."))
        elif is_clf:
            return (f"explanation skipped: {type(est).__name__} has neither predict_proba nor "
                    "decision_function, and its predictions are class labels, not amounts to attribute")
        else:
            def f(Z: np.ndarray) -> np.ndarray:
                return np.asarray(est.predict(frame(Z)), dtype=float)
        explainer = f
    owner_groups = pd.factorize(pd.Series(sources))[0]
    values_parts, base_parts, done = [], [], 0
    for lo in range(0, len(Xt), CHUNK):   # chunks bound memory; every sampled row is explained
        chunk = Xt[lo:lo + CHUNK]
        if kind == "permutation":
            vals, base = permutation_values(explainer, chunk, background, owner_groups, rng)
        elif kind == "tree":
            vals = explainer.shap_values(frame(chunk), check_additivity=False)
            base = explainer.expected_value
        else:
            vals = explainer.shap_values(chunk)
            base = explainer.expected_value
        v3, b2 = _normalise(vals, base, len(chunk))
        values_parts.append(v3)
        base_parts.append(b2)
        done += len(chunk)
    values = np.concatenate(values_parts)
    base = np.concatenate(base_parts)
    Xd = Xt[:done]
    # The output explained: one column of the values' last axis.
    sign = 1.0
    if values.shape[2] > 1:
        col = positive_index if pred_task == "binary" else None
    else:
        col = 0
        if pred_task == "binary" and classes is not None and positive_index == 0:
            sign = -1.0  # a single margin scores classes_[1]; flip it for classes_[0]
    candidates: dict[str, np.ndarray] = {}
    if is_clf and hasattr(est, "predict_proba"):
        candidates["probability"] = np.asarray(est.predict_proba(frame(Xd)), dtype=float)
    if is_clf and hasattr(est, "decision_function"):
        dec = np.asarray(est.decision_function(frame(Xd)), dtype=float)
        candidates["decision_function"] = dec[:, None] if dec.ndim == 1 else dec
    if not is_clf:
        candidates["prediction"] = np.asarray(est.predict(frame(Xd)), dtype=float)[:, None]
    total = base + values.sum(axis=1)  # (n, k)
    best_name, best_err = "unknown", np.inf
    for name, out in candidates.items():
        if out.shape[1] == total.shape[1]:
            err = float(np.max(np.abs(total - out))) if len(out) else 0.0
        elif total.shape[1] == 1 and out.shape[1] == 2:
            err = float(np.max(np.abs(total[:, 0] - out[:, 1]))) if len(out) else 0.0
        else:
            continue
        if err < best_err:
            best_name, best_err = name, err
    if col is None:
        per_class = np.abs(values).mean(axis=0).mean(axis=1)  # (p,)
        chosen = values.mean(axis=2)
        chosen_base = base.mean(axis=1)
    else:
        chosen = sign * values[:, :, col]
        chosen_base = sign * base[:, col]
        per_class = np.abs(chosen).mean(axis=0)
    source_names = list(dict.fromkeys(sources))
    index = {s: i for i, s in enumerate(source_names)}
    owner = np.array([index[s] for s in sources])
    M = np.zeros((len(sources), len(source_names)))
    M[np.arange(len(sources)), owner] = 1.0
    if col is None:
        raw_abs = np.abs(np.einsum("npk,pr->nrk", values, M)).mean(axis=0).mean(axis=1)
    else:
        raw_abs = np.abs(chosen @ M).mean(axis=0)
    raw_values = chosen @ M
    importance = pd.DataFrame({"feature": source_names, "mean_abs_shap": raw_abs,
                               "n_transformed": np.bincount(owner, minlength=len(source_names))})
    importance["share"] = importance["mean_abs_shap"] / max(float(importance["mean_abs_shap"].sum()), 1e-300)
    importance = importance.sort_values("mean_abs_shap", ascending=False, kind="stable").reset_index(drop=True)
    transformed = pd.DataFrame({"feature": names, "source": sources, "mean_abs_shap": per_class})
    transformed = transformed.sort_values("mean_abs_shap", ascending=False, kind="stable").reset_index(drop=True)
    explainer_name = {"tree": "TreeExplainer", "linear": "LinearExplainer",
                      "permutation": "permutation (grouped by raw column)"}[kind]
    return Explanation(
        importance=importance, transformed_importance=transformed, explainer=explainer_name,
        explained_output=best_name, n_rows=done, additivity_max_error=best_err,
        seconds=time.perf_counter() - start, notes=notes, values=raw_values,
        base_values=chosen_base, outputs=chosen_base + raw_values.sum(axis=1),
    )
