"""``describe_features``: the feature documentation a fitted pipeline can write itself."""

from __future__ import annotations

import re
import warnings
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import OneToOneFeatureMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

from .._compat import ensure_fitted
from .._errors import InputError, MllifeError
from .._frame import as_frame, generated_names

__all__ = ["describe_features", "step_label"]


class _Trace(NamedTuple):
    name: str
    sources: tuple[str, ...]
    steps: tuple[str, ...]
    branch: tuple[str, ...]
    notes: tuple[str, ...] = ()


def step_label(est: Any) -> str:
    """A short readable name of one step (the ``steps`` column, the preprocessor's plan).

    mllife's transformers name themselves (their ``_step_label`` hook); a few
    scikit-learn steps show the setting that matters; others show their class.

    Examples
    --------
    >>> from sklearn.impute import SimpleImputer
    >>> step_label(SimpleImputer(strategy="median", add_indicator=True))
    'SimpleImputer(median, missing indicator)'
    """
    if isinstance(est, str):
        return est
    own = getattr(est, "_step_label", None)
    if callable(own):
        return str(own())
    if isinstance(est, SimpleImputer):
        extra = ", missing indicator" if est.add_indicator else ""
        return f"SimpleImputer({est.strategy}{extra})"
    if isinstance(est, FunctionTransformer) and est.func is None and est.inverse_func is None:
        return "passthrough"  # the identity (what a ColumnTransformer fits for "passthrough")
    if isinstance(est, FunctionTransformer):
        return f"FunctionTransformer({getattr(est.func, '__name__', 'func')})"
    if isinstance(est, OneHotEncoder):
        return f"OneHotEncoder(handle_unknown={est.handle_unknown!r})"
    if isinstance(est, Pipeline):
        return " → ".join(step_label(step) for _, step in est.steps)
    return type(est).__name__



def _is_skip(est: Any) -> bool:
    return est is None or (isinstance(est, str) and est in {"passthrough", "drop"})


def _names_out(est: Any, in_names: list[str]) -> list[str]:
    try:
        return [str(n) for n in est.get_feature_names_out(in_names)]
    except (ValueError, TypeError):  # fitted without names, or names differ
        return [str(n) for n in est.get_feature_names_out()]


def _match_sources(out: str, in_names: list[str]) -> tuple[str, ...]:
    """Which inputs an output name comes from, by name (``plan_basic`` <- ``plan``)."""
    if out in in_names:
        return (out,)
    for test in (lambda i: out.startswith(f"{i}_"), lambda i: out.endswith(f"_{i}")):
        found = [i for i in in_names if i and test(i)]
        if found:
            return (max(found, key=len),)
    # Products and powers: "a b", "a^2", "a*b" come from every input named in them.
    tokens = set(re.split(r"[\s*^/+()]+|\^\d+", out))
    found = [i for i in in_names if i in tokens]
    if found:
        return tuple(found)
    # A whole input name inside the output name: "log(age)", "age_scaled"; never a
    # short name inside a word ("a" in "pca0").
    found = [i for i in in_names
             if i and re.search(rf"(?<![A-Za-z0-9]){re.escape(i)}(?![A-Za-z0-9])", out)]
    if found:
        return (max(found, key=len),)
    return tuple(in_names)


def _leaf(est: Any, in_names: list[str]) -> list[_Trace]:
    outs = _names_out(est, in_names)
    label = step_label(est)
    sources_fn = getattr(est, "_feature_sources", None)
    given = sources_fn() if callable(sources_fn) else None  # the lineage hook of FrameTransformer
    if given is not None:
        fitted = list(getattr(est, "feature_names_in_", generated_names(len(in_names))))
        rename = dict(zip(fitted, in_names, strict=False))
        sources = [tuple(rename.get(s, s) for s in src) for src in given]
        notes_fn = getattr(est, "_feature_notes", None)
        notes = notes_fn() if callable(notes_fn) else None
        notes = [""] * len(sources) if notes is None else notes
        if len(sources) == len(outs) == len(notes):
            return [_Trace(o, s, (label,), (), (n,) if n else ())
                    for o, s, n in zip(outs, sources, notes, strict=True)]
    if len(outs) == len(in_names) and (isinstance(est, OneToOneFeatureMixin) or outs == in_names):
        return [_Trace(o, (i,), (label,), ()) for o, i in zip(outs, in_names, strict=True)]
    traces = []
    for o in outs:
        step = label
        if isinstance(est, SimpleImputer) and o.startswith("missingindicator_"):
            step = "MissingIndicator"
        traces.append(_Trace(o, _match_sources(o, in_names), (step,), ()))
    return traces


def _selected_columns(ct: ColumnTransformer, name: str, cols: Any, in_names: list[str]) -> list[str]:
    indices = getattr(ct, "_transformer_to_input_indices", {}).get(name)
    if indices is not None:
        return [in_names[int(i)] for i in indices]
    if isinstance(cols, str | int | np.integer):
        cols = [cols]
    if isinstance(cols, slice):
        return in_names[cols]
    values = list(cols)
    if values and all(isinstance(c, bool | np.bool_) for c in values):
        return [n for n, keep in zip(in_names, values, strict=True) if keep]
    return [in_names[int(c)] if isinstance(c, int | np.integer) else str(c) for c in values]


def _trace(est: Any, in_names: list[str]) -> list[_Trace]:
    if _is_skip(est):
        return [_Trace(n, (n,), (), ()) for n in in_names]
    if isinstance(est, Pipeline):
        current = [_Trace(n, (n,), (), ()) for n in in_names]
        steps = [s for _, s in est.steps if not _is_skip(s)]
        for i, step in enumerate(steps):
            if i == len(steps) - 1 and not hasattr(step, "transform"):
                break  # the final model
            mapped = _trace(step, [t.name for t in current])
            by_name = {t.name: t for t in current}
            new = []
            for t in mapped:
                parents = [by_name[s] for s in t.sources if s in by_name] or current
                origin = tuple(dict.fromkeys(s for p in parents for s in p.sources))
                new.append(_Trace(t.name, origin, parents[0].steps + t.steps,
                                  parents[0].branch + t.branch, parents[0].notes + t.notes))
            current = new
        return current
    if isinstance(est, ColumnTransformer):
        outs = [str(n) for n in est.get_feature_names_out()]
        result: list[_Trace] = []
        for name, trans, cols in est.transformers_:
            # No output_indices_ when every entry is dropped (scikit-learn returns early).
            part = getattr(est, "output_indices_", {}).get(name, slice(0, 0))
            if part.stop <= part.start or (isinstance(trans, str) and trans == "drop"):
                continue
            selected = _selected_columns(est, name, cols, in_names)
            sub = _trace(trans, selected)
            names = outs[part]
            if len(sub) != len(names):
                sub = [_Trace(n, tuple(selected), (step_label(trans),), ()) for n in names]
            result += [_Trace(o, t.sources, t.steps, (name, *t.branch), t.notes)
                       for o, t in zip(names, sub, strict=True)]
        return result
    if isinstance(est, FeatureUnion):
        outs = [str(n) for n in est.get_feature_names_out(in_names)]
        result = []
        for name, trans in est.transformer_list:
            if _is_skip(trans) and trans != "passthrough":
                continue
            result += [_Trace(t.name, t.sources, t.steps, (name, *t.branch), t.notes)
                       for t in _trace(trans, in_names)]
        if len(result) == len(outs):
            return [t._replace(name=o) for t, o in zip(result, outs, strict=True)]
        return [_Trace(o, _match_sources(o, in_names), ("FeatureUnion",), ()) for o in outs]
    return _leaf(est, in_names)


def _transformer_part(fitted: Any) -> Any:
    if isinstance(fitted, Pipeline) and fitted.steps and not hasattr(fitted.steps[-1][1], "transform"):
        return fitted[:-1]
    return fitted


def _statistics(part: Any, X: Any, names: list[str]) -> pd.DataFrame:
    try:
        out = part.transform(X)
    except MllifeError:
        raise
    except (ValueError, KeyError, TypeError) as exc:  # scikit-learn's own complaint, e.g. columns
        raise InputError(f"X cannot be transformed by the fitted {type(part).__name__} ({exc})",
                         expected="X with the columns the transformer was fitted on") from None
    frame = as_frame(out.toarray() if hasattr(out, "toarray") else out)
    if frame.shape[1] != len(names):
        raise InputError(f"transform gave {frame.shape[1]} columns for {len(names)} feature names")
    numeric = frame.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    missing = frame.isna().to_numpy().mean(axis=0) if len(frame) else np.full(len(names), np.nan)
    empty = np.full(len(names), np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN statistics
        stats = {
            "missing_share": missing,
            "mean": np.nanmean(numeric, axis=0) if len(frame) else empty,
            "std": np.nanstd(numeric, axis=0, ddof=1) if len(frame) > 1 else empty,
            "min": np.nanmin(numeric, axis=0) if len(frame) else empty,
            "max": np.nanmax(numeric, axis=0) if len(frame) else empty,
        }
    return pd.DataFrame(stats)


def describe_features(fitted: Any, X: Any = None) -> pd.DataFrame:
    """One row per output feature of a fitted transformer: where it comes from and how.

    Works on any fitted scikit-learn ``Pipeline``, ``ColumnTransformer``,
    ``FeatureUnion`` or transformer implementing ``get_feature_names_out``
    (plain scikit-learn ones included, and a Pipeline ending in a model, whose
    transforming part is described). Output names are traced back through
    ``ColumnTransformer`` entries and Pipeline steps to the input columns:
    exactly for mllife's transformers and one-to-one steps, by name for the
    others (``plan_basic`` comes from ``plan``, ``missingindicator_age`` from
    ``age``); a feature that matches no input name lists every input
    (PCA-like steps).

    Parameters
    ----------
    fitted : fitted estimator
    X : DataFrame or array-like, optional
        Data to transform for the statistics columns.

    Returns
    -------
    pandas.DataFrame
        Columns ``feature``, ``source`` (input columns, comma-separated),
        ``n_sources``, ``branch`` (the ColumnTransformer entry, ``/`` for
        nested ones), ``steps`` (the transformer chain, ``→``-separated),
        ``note`` (what a step says about the feature's column, e.g. which
        date parts :class:`~mllife.features.DateTimeFeatures` did not make and
        why; empty otherwise) and, with ``X``, ``missing_share``, ``mean``,
        ``std``, ``min``, ``max``.

    Raises
    ------
    NotFittedError
        When ``fitted`` is not fitted.
    InputError
        When it cannot name its output features.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.compose import ColumnTransformer
    >>> from sklearn.preprocessing import OneHotEncoder, StandardScaler
    >>> X = pd.DataFrame({"age": [20.0, 30.0, 40.0], "plan": ["a", "b", "a"]})
    >>> ct = ColumnTransformer([("num", StandardScaler(), ["age"]),
    ...                         ("cat", OneHotEncoder(), ["plan"])]).fit(X)
    >>> describe_features(ct)[["feature", "source", "steps"]]
          feature source                                    steps
    0    num__age    age                           StandardScaler
    1  cat__plan_a   plan  OneHotEncoder(handle_unknown='error')
    2  cat__plan_b   plan  OneHotEncoder(handle_unknown='error')
    """
    part = _transformer_part(fitted)
    ensure_fitted(part if not isinstance(part, Pipeline) else fitted)
    if not hasattr(part, "get_feature_names_out"):
        raise InputError(f"{type(part).__name__} has no get_feature_names_out",
                         expected="a fitted transformer, Pipeline or ColumnTransformer")
    names_in = getattr(part, "feature_names_in_", None)
    if names_in is None:
        n_in = getattr(part, "n_features_in_", None)
        if n_in is None and isinstance(part, Pipeline):
            n_in = getattr(part.steps[0][1], "n_features_in_", None)
        names_in = generated_names(int(n_in or 0))
    in_names = [str(n) for n in names_in]
    traces = _trace(part, in_names)
    names = [str(n) for n in part.get_feature_names_out()]
    if len(traces) != len(names):
        traces = [_Trace(n, _match_sources(n, in_names), (step_label(part),), ()) for n in names]
    table = pd.DataFrame({
        "feature": names,
        "source": [", ".join(t.sources) for t in traces],
        "n_sources": [len(t.sources) for t in traces],
        "branch": ["/".join(t.branch) for t in traces],
        "steps": [" → ".join(t.steps) for t in traces],
        "note": ["; ".join(t.notes) for t in traces],
    })
    if X is not None:
        table = pd.concat([table, _statistics(part, X, names)], axis=1)
    return table
