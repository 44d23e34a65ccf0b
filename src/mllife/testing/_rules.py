"""mllife's own rules for a transformer, each a small function of a check context.

A rule returns a sentence saying what held, or raises :class:`Failed` (what was
expected and what happened) or :class:`Skipped` (why it cannot apply). A rule
listing others in ``needs`` runs only when they passed; otherwise it is skipped
naming them. The estimator given is never fitted or changed: every rule works
on a clone (a deep copy when cloning fails, which ``init_stores_params``
reports), with ``random_state`` fixed to 0 when the estimator has one left at
None, and on copies of ``X`` and ``y``.
"""

from __future__ import annotations

import contextlib
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._frame import generated_names
from ._compare import as_table, difference, error_text, short
from ._context import MISSING, ArbitraryValue, Context, Failed, Rule, Skipped
from ._persistence import bundle_round_trip, pickle_round_trip

__all__ = ["RULES", "Context", "Failed", "Rule", "Skipped", "run_rules"]


# ---- the rules ------------------------------------------------------------------------------
def _no_extra_state(new: Any, names: list[str]) -> None:
    extra = sorted(k for k in vars(new) if not k.startswith("_") and k not in names)
    if extra:
        raise Failed(f"expected __init__ to set only its parameters; it also sets {extra} "
                     "(learned state belongs in fit, in attributes ending in '_')")


def _init_stores_params(ctx: Context) -> str:
    from sklearn.base import clone

    est = ctx.estimator
    cls = type(est)
    init = getattr(cls.__init__, "deprecated_original", cls.__init__)
    names: list[str] = []
    if init is not object.__init__:  # no __init__ of its own: no parameter (scikit-learn's rule)
        signature = inspect.signature(init)
        varargs = [p.name for p in signature.parameters.values()
                   if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if varargs:
            raise Failed(f"expected __init__ to list its parameters by name (scikit-learn's "
                         f"get_params reads the signature); it takes *{'/**'.join(varargs)}")
        names = [name for name in signature.parameters if name != "self"]
    try:
        params = est.get_params(deep=False)
    except Exception as exc:
        raise Failed(f"expected get_params() to return the __init__ parameters {names}; "
                     f"it raised {error_text(exc)}") from exc
    if sorted(params) != sorted(names):
        raise Failed(f"expected get_params() to return the __init__ parameters {sorted(names)}; "
                     f"it returned {sorted(params)}")
    if not names:
        try:
            new = cls()
        except Exception as exc:
            raise Failed(f"expected {cls.__name__}() to build an estimator; it raised "
                         f"{error_text(exc)}") from exc
        _no_extra_state(new, names)
    for name in names:
        probe = ArbitraryValue()
        try:
            new = cls(**{**params, name: probe})
        except Exception as exc:
            raise Failed(f"expected __init__ to store each argument as given and check nothing "
                         f"(validate parameters in fit; a FrameTransformer does it in "
                         f"_check_params); {cls.__name__}({name}=<any value>) raised "
                         f"{error_text(exc)}") from exc
        stored = getattr(new, name, MISSING)
        if stored is not probe:
            what = "nothing" if stored is MISSING else short(repr(stored), 80)
            raise Failed(f"expected __init__ to store {name!r} unchanged under the same name "
                         f"(clone and set_params rely on it); {cls.__name__}({name}=<any value>) "
                         f"stored {what}")
        _no_extra_state(new, names)
        try:
            new.set_params(**{name: ArbitraryValue()})
        except Exception as exc:
            raise Failed(f"expected set_params({name}=<any value>) to store the value and check "
                         f"nothing; it raised {error_text(exc)}") from exc
    try:
        clone(est)
    except Exception as exc:
        raise Failed(f"expected clone() to copy the estimator; it raised {error_text(exc)}") from exc
    return (f"__init__ stores its {len(names)} parameter(s) unchanged and checks none of them; "
            "clone works")


def _fit_transform(ctx: Context) -> str:
    est = ctx.fresh()
    try:
        out = ctx.fit_transform(est, ctx.X_copy())
    except Failed as exc:
        raise Failed(f"expected fit(X, y) and transform(X) to run on the check data; {exc}") from exc
    shape = getattr(out, "shape", None)
    if shape is None or len(shape) != 2:
        raise Failed(f"expected transform to return a 2-D table; it returned a {type(out).__name__}"
                     + (f" of shape {shape}" if shape is not None else ""))
    if shape[0] != len(ctx.X):
        raise Failed(f"expected one output row per input row ({len(ctx.X)}); "
                     f"transform returned {shape[0]}")
    ctx.fitted, ctx.out = est, out
    return f"fit and transform run; {shape[1]} output column(s) for {ctx.X.shape[1]} in"


def _names(ctx: Context) -> list[str]:
    assert ctx.names is not None  # set by names_out_length, which the caller needs
    return ctx.names


def _names_out_length(ctx: Context) -> str:
    est = ctx.fitted
    if not hasattr(est, "get_feature_names_out"):
        raise Failed(f"expected get_feature_names_out() (set_output, ColumnTransformer and "
                     f"describe_features read it); {ctx.label} has none")
    try:
        names = [str(n) for n in est.get_feature_names_out()]
    except Exception as exc:
        raise Failed(f"expected get_feature_names_out() to name the output columns after fit; "
                     f"it raised {error_text(exc)}") from exc
    width = ctx.out.shape[1]
    if len(names) != width:
        raise Failed(f"expected get_feature_names_out() to give one name per output column; it "
                     f"gives {len(names)} name(s) for {width} column(s) ({short(names, 120)})")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise Failed(f"expected distinct output names (pandas and polars need them); "
                     f"{repeated[:5]} repeat")
    if isinstance(ctx.out, pd.DataFrame) and [str(c) for c in ctx.out.columns] != names:
        raise Failed(f"expected the output DataFrame's columns to be get_feature_names_out(); "
                     f"columns {short([str(c) for c in ctx.out.columns], 120)} vs names "
                     f"{short(names, 120)}")
    ctx.names = names
    return f"{len(names)} distinct name(s) for {width} output column(s)"


def _mentions(inputs: Iterable[str]) -> re.Pattern[str] | None:
    """A pattern finding a whole input name inside an output name (``age`` in ``log_age``)."""
    names = sorted({n for n in inputs if n}, key=len, reverse=True)
    if not names:
        return None
    alternatives = "|".join(re.escape(n) for n in names)
    # Not inside a longer word of any script ("a" is not in "año"); "_" and punctuation separate.
    return re.compile(rf"(?<![^\W_])(?:{alternatives})(?![^\W_])")


def _inputs(ctx: Context) -> list[str]:
    """The input names as the fitted transformer knows them.

    Without ``feature_names_in_`` (integer column names, numpy) scikit-learn and a
    FrameTransformer name the columns ``x0, x1, ...``: an output ``comp_0`` does not
    come from an input column labelled ``0``.
    """
    names = getattr(ctx.fitted, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    n_in = getattr(ctx.fitted, "n_features_in_", None)
    if isinstance(n_in, int | np.integer):
        return generated_names(int(n_in))
    return [str(n) for n in ctx.X.columns]


def _declared_sources(est: Any, n_out: int, inputs: list[str]) -> list[tuple[str, ...]] | None:
    """Sources the transformer declares itself: its lineage hook, or one-to-one."""
    from sklearn.base import OneToOneFeatureMixin

    hook = getattr(est, "_feature_sources", None)
    if callable(hook):
        given = hook()
        if given is not None:
            return [tuple(str(s) for s in src) for src in given]
    if isinstance(est, OneToOneFeatureMixin) and n_out == len(inputs):
        return [(name,) for name in inputs]
    return None


def _names_out_explain_source(ctx: Context) -> str:
    names, inputs = _names(ctx), _inputs(ctx)
    pattern = _mentions(inputs)
    declared = _declared_sources(ctx.fitted, len(names), inputs)
    if declared is not None and len(declared) != len(names):
        declared = None  # describe_features_rows reports the length
    silent = []
    for k, name in enumerate(names):  # a loop over output columns
        if pattern is not None and pattern.search(name):
            continue
        if declared is not None and declared[k] and all(declared[k]):
            continue  # declared sources: input columns, or another table's (an events table)
        silent.append(name)
    if silent:
        raise Failed(f"expected every output name to contain the name of an input column it "
                     f"comes from (x0_per_x1 from x0 and x1), or the transformer to declare its "
                     f"sources (FrameTransformer._feature_sources); {len(silent)} of {len(names)} "
                     f"say nothing of their source: {short(silent[:8], 160)} (inputs: "
                     f"{short(inputs[:12], 160)})")
    return f"each of the {len(names)} output name(s) names its input column(s) or declares them"


def _describe_features_rows(ctx: Context) -> str:
    from ..features import describe_features

    names, inputs = _names(ctx), _inputs(ctx)
    est = ctx.fitted
    for hook_name in ("_feature_sources", "_feature_notes"):
        hook = getattr(est, hook_name, None)
        given = hook() if callable(hook) else None
        if given is not None and len(given) != len(names):
            raise Failed(f"expected {hook_name}() to give one entry per output column "
                         f"({len(names)}); it gives {len(given)}, so describe_features cannot "
                         "use it")
    declared = _declared_sources(est, len(names), inputs)
    if declared is not None:
        empty = [n for n, src in zip(names, declared, strict=True) if not src or not all(src)]
        if empty:
            raise Failed(f"expected _feature_sources() to name at least one source column per "
                         f"output column; it names none for {short(empty[:8], 120)}")
    try:
        table = describe_features(est, ctx.X_copy())
    except Exception as exc:
        raise Failed(f"expected describe_features(fitted, X) to describe the output; it raised "
                     f"{error_text(exc)}") from exc
    if len(table) != len(names):
        raise Failed(f"expected one describe_features row per output column ({len(names)}); "
                     f"it gives {len(table)}")
    features = [str(f) for f in table["feature"]]
    if features != names:
        k = next(i for i, (a, b) in enumerate(zip(features, names, strict=True)) if a != b)
        raise Failed(f"expected describe_features rows in the order of get_feature_names_out(); "
                     f"row {k} is {features[k]!r}, the name is {names[k]!r}")
    empty = [f for f, s in zip(features, table["source"], strict=True) if not str(s)]
    if empty:
        raise Failed(f"expected every describe_features row to name its source column(s); "
                     f"{short(empty[:8], 120)} name none")
    return f"{len(table)} describe_features row(s), one per output column, each with its source"


def _pandas_in_out(ctx: Context) -> str:
    from ..features import FrameTransformer

    names = _names(ctx)
    if isinstance(ctx.estimator, FrameTransformer) and not isinstance(ctx.out, pd.DataFrame):
        raise Failed(f"expected a pandas DataFrame out for a DataFrame in with the default "
                     f"output (a FrameTransformer's promise); transform returned a "
                     f"{type(ctx.out).__name__}")
    est = ctx.fresh("pandas")
    try:
        out = ctx.fit_transform(est, ctx.X_copy())
    except Failed as exc:
        raise Failed(f"expected a pandas DataFrame in to be transformed under "
                     f"set_output(transform='pandas'); {exc}") from exc
    if not isinstance(out, pd.DataFrame):
        raise Failed(f"expected a pandas DataFrame out under set_output(transform='pandas'); "
                     f"got a {type(out).__name__}")
    if [str(c) for c in out.columns] != names:
        raise Failed(f"expected the columns get_feature_names_out() names; got "
                     f"{short([str(c) for c in out.columns], 120)}")
    gap = difference(ctx.X.iloc[:, :0], out.iloc[:, :0], labels=(" in X", " out"))
    if gap is not None:
        raise Failed(f"expected the output to keep X's index; {gap}")
    return "pandas in gives pandas out, with X's index and the names of get_feature_names_out()"


def _reference(ctx: Context) -> pd.DataFrame:
    """The default output on the pandas X, positionally labelled (for value comparisons)."""
    table = as_table(ctx.out).reset_index(drop=True)
    return table.set_axis(range(table.shape[1]), axis=1)


def _polars_in_out(ctx: Context) -> str:
    try:
        import polars as pl
    except ImportError:
        raise Skipped("polars is not installed (pip install polars to check polars input "
                      "and output)") from None
    names = _names(ctx)
    try:
        X = pl.from_pandas(ctx.X_copy(), include_index=False)
    except Exception as exc:  # polars and pyarrow raise several types on odd columns
        raise Skipped(f"X cannot be converted to polars ({error_text(exc)})") from exc
    est = ctx.fresh()
    try:
        est.set_output(transform="polars")
    except AttributeError:
        raise Skipped(f"{ctx.label} has no set_output (scikit-learn's TransformerMixin provides "
                      "it to transformers with get_feature_names_out)") from None
    except Exception as exc:
        raise Failed(f"expected set_output(transform='polars') to be accepted; it raised "
                     f"{error_text(exc)}") from exc
    try:
        out = ctx.fit_transform(est, X)
    except Failed as exc:
        raise Failed(f"expected a polars DataFrame in to be read, as mllife's transformers read "
                     f"it; {exc}") from exc
    if not isinstance(out, pl.DataFrame):
        raise Failed(f"expected a polars DataFrame out under set_output(transform='polars'); "
                     f"got a {type(out).__name__}")
    note = ""
    if not all(isinstance(c, str) for c in ctx.X.columns):
        # polars names columns with text only: X's labels 0, 1 arrive as "0", "1", while
        # scikit-learn (and a FrameTransformer) name pandas columns 0, 1 as x0, x1. The
        # transformer read other names: its names out are checked against its own.
        names = _own_names(est)
        note = (f" (X's column labels are not all strings ({short(list(ctx.X.columns)[:4], 60)}) "
                "and polars gives them as text, so the names out are those the transformer "
                "gives after fitting on polars, not those of pandas input)")
    if list(out.columns) != names:
        raise Failed(f"expected the columns get_feature_names_out() names{note}; got "
                     f"{short(list(out.columns), 120)}")
    got = out.to_pandas()
    gap = difference(_reference(ctx), got.set_axis(range(got.shape[1]), axis=1), dtypes=False,
                     labels=(" from pandas", " from polars"))
    if gap is not None:
        raise Failed(f"expected the same values as for the pandas DataFrame; {gap}")
    return ("polars in gives polars out under set_output(transform='polars'), same values as "
            f"pandas{note}")


def _own_names(est: Any) -> list[str]:
    """``get_feature_names_out()`` of a transformer fitted on polars input."""
    try:
        return [str(n) for n in est.get_feature_names_out()]
    except Exception as exc:
        raise Failed(f"expected get_feature_names_out() to name the output columns after fitting "
                     f"on polars; it raised {error_text(exc)}") from exc


def _numpy_in(ctx: Context) -> str:
    values = ctx.X.to_numpy()
    named = [str(c) for c in ctx.X.columns] != generated_names(ctx.X.shape[1])
    est = ctx.fresh()
    try:
        out = ctx.fit_transform(est, values.copy())
    except Failed as exc:
        if named:
            raise Skipped(f"X names its columns ({short(list(ctx.X.columns)[:6], 80)}) and a "
                          f"numpy array is read as x0, x1, ...: the transformer needs its columns "
                          f"by name ({exc}); pass X with columns x0, x1, ... to check numpy "
                          "input") from exc
        raise Failed(f"expected a numpy array (read as columns x0, x1, ...) to be accepted; "
                     f"{exc}") from exc
    shape = getattr(out, "shape", None)
    if shape is None or tuple(shape) != tuple(ctx.out.shape):
        raise Failed(f"expected the shape of the DataFrame's output {tuple(ctx.out.shape)}; "
                     f"numpy input gives {shape}")
    got = as_table(out).reset_index(drop=True)
    gap = difference(_reference(ctx), got.set_axis(range(got.shape[1]), axis=1), dtypes=False,
                     labels=(" from the DataFrame", " from the array"))
    if gap is not None:
        raise Failed(f"expected the same values as for the DataFrame; {gap}")
    return "a numpy array in gives the same values as the DataFrame"


def _no_input_mutation(ctx: Context) -> str:
    X, y = ctx.X_copy(), ctx.y_copy()
    est = ctx.fresh()
    est.fit(X, y)
    est.transform(X)
    ctx.fresh().fit_transform(X, y)
    gap = difference(ctx.X, X, exact=True, labels=(" before", " after"))
    if gap is not None:
        raise Failed(f"expected fit and transform to leave X as it was (values, dtypes, index); "
                     f"after them, {gap}")
    if ctx.y is not None:
        gap = difference(ctx.y, y, exact=True, labels=(" before", " after"))
        if gap is not None:
            raise Failed(f"expected fit to leave y as it was; after it, {gap}")
        y_note = "y"
    else:  # no y given: a dummy target still shows a fit that writes into its y
        y = pd.Series(np.arange(len(ctx.X)) % 2, index=ctx.X.index, name="y")
        kept = y.copy(deep=True)
        try:
            ctx.fresh().fit(ctx.X_copy(), y)
        except Exception:  # a transformer that refuses a target: nothing of y to check
            y_note = "y (not checked: fit refuses a target)"
        else:
            gap = difference(kept, y, exact=True, labels=(" before", " after"))
            if gap is not None:
                raise Failed(f"expected fit to leave y as it was (no y was given: checked with "
                             f"a 0/1 target); after it, {gap}")
            y_note = "a 0/1 y"
    values = ctx.X.to_numpy()
    kept = values.copy()
    with contextlib.suppress(Exception):  # numpy_in reports what fails on numpy input
        ctx.fresh().fit(values, ctx.y_copy()).transform(values)
    gap = difference(kept, values, exact=True, labels=(" before", " after"))
    if gap is not None:
        raise Failed(f"expected fit and transform to leave a numpy X as it was; after them, {gap}")
    return f"X (a DataFrame, and as a numpy array) and {y_note} are unchanged by fit and transform"


def _positional(out: Any) -> pd.DataFrame:
    """An output as a DataFrame with the rows labelled 0..n-1 (to compare values by position)."""
    return as_table(out).reset_index(drop=True)


def _deterministic(ctx: Context) -> str:
    seed = ctx.seed_note()
    first = ctx.fresh()
    a = ctx.fit_transform(first, ctx.X_copy())
    b = ctx.fit_transform(ctx.fresh(), ctx.X_copy())
    gap = difference(a, b, labels=(" in the first fit", " in the second"))
    if gap is not None:
        raise Failed(f"expected two fits on the same data{seed} to give the same output; {gap}")
    try:
        joint = ctx.fresh().fit_transform(ctx.X_copy(), ctx.y_copy())
    except Exception as exc:
        raise Failed(f"expected fit_transform(X, y) to run as fit(X, y).transform(X) does; it "
                     f"raised {error_text(exc)}") from exc
    gap = difference(a, joint, labels=(" from fit(X).transform(X)", " from fit_transform(X)"))
    if gap is not None:
        raise Failed(f"expected fit_transform(X) to give what fit(X).transform(X) gives{seed} "
                     f"(values, dtypes, columns, index); {gap}")
    again = first.transform(ctx.X_copy())
    gap = difference(a, again, labels=(" the first time", " the second"))
    if gap is not None:
        raise Failed(f"expected transforming the same data twice to give the same output; {gap}")
    # Each row's output depends on that row alone: not on the other rows, nor their order.
    X, n = ctx.X_copy(), len(ctx.X)
    whole = _positional(a)
    backwards = np.arange(n)[::-1]
    gap = difference(whole.iloc[backwards].reset_index(drop=True),
                     _positional(first.transform(X.iloc[backwards])), dtypes=False,
                     index=False, labels=(" in X's order", " with the rows in reverse order"))
    if gap is not None:
        raise Failed(f"expected each row's output to depend on that row only, not on the other "
                     f"rows or their order: X's rows in reverse order give other rows than "
                     f"X's rows reversed; {gap}")
    half = n // 2
    parts = [_positional(first.transform(X.iloc[:half])),
             _positional(first.transform(X.iloc[half:]))]
    gap = difference(whole, pd.concat(parts, ignore_index=True), dtypes=False, index=False,
                     labels=(" all at once", f" in two batches of {half} and {n - half} rows"))
    if gap is not None:
        raise Failed(f"expected each row's output to depend on that row only, not on the other "
                     f"rows transformed with it: X transformed in two halves gives other values "
                     f"than all at once; {gap}")
    return (f"two fits on the same data{seed}, fit_transform, two transforms, the rows reversed "
            "and in two batches give the same output")


def _not_fitted_error(ctx: Context) -> str:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils import get_tags

    est = ctx.fresh()
    if not get_tags(est).requires_fit:
        raise Skipped(f"{ctx.label}'s tags say it needs no fit (requires_fit=False)")
    calls: list[tuple[str, Callable[[], Any]]] = [("transform", lambda: est.transform(ctx.X_copy()))]
    if hasattr(est, "get_feature_names_out"):
        calls.append(("get_feature_names_out", est.get_feature_names_out))
    for what, call in calls:
        try:
            result = call()
        except NotFittedError:
            continue
        except Exception as exc:
            raise Failed(f"expected {what} before fit to raise NotFittedError (mllife's or "
                         f"scikit-learn's); it raised {error_text(exc)}") from exc
        raise Failed(f"expected {what} before fit to raise NotFittedError (mllife's or "
                     f"scikit-learn's); it returned a {type(result).__name__}")
    return " and ".join(what for what, _ in calls) + " before fit raise NotFittedError"


_FIT = ("fit_transform",)
_NAMES = ("fit_transform", "names_out_length")
#: Rules comparing two outputs of the transformer: meaningless when two fits differ.
_SAME = ("fit_transform", "deterministic")

#: mllife's rules, in the order they run.
RULES: Mapping[str, Rule] = {rule.name: rule for rule in (
    Rule("init_stores_params",
         "__init__ stores each argument unchanged under its own name and checks nothing; "
         "get_params lists the __init__ parameters; set_params and clone work",
         _init_stores_params),
    Rule("fit_transform", "fit(X, y) then transform(X) run and give one row per row of X",
         _fit_transform),
    Rule("deterministic", "two fits on the same data (random_state fixed to 0 when it is None) "
         "give the same output, fit_transform gives it too, and so do two transforms; each "
         "row's output does not depend on the other rows (the rows reversed, or in two "
         "batches, give the same rows)", _deterministic, _FIT),
    Rule("names_out_length", "get_feature_names_out() gives one distinct name per output "
         "column (the DataFrame's columns, when the output is one)", _names_out_length, _FIT),
    Rule("names_out_explain_source", "every output name contains an input column's name, or "
         "the transformer declares its sources (_feature_sources)", _names_out_explain_source,
         _NAMES),
    Rule("describe_features_rows", "describe_features gives one row per output column, in "
         "order, each naming its sources; the lineage hooks give one entry per output column",
         _describe_features_rows, _NAMES),
    Rule("pandas_in_out", "under set_output(transform='pandas') (and, for a FrameTransformer, "
         "with the default output), a pandas DataFrame in gives a DataFrame out with X's index "
         "and the names out", _pandas_in_out, _NAMES),
    Rule("polars_in_out", "under set_output(transform='polars'), a polars DataFrame in gives a "
         "polars DataFrame out with the names out (its own, when X's column labels are not "
         "text) and the values of pandas input",
         _polars_in_out, (*_NAMES, "deterministic")),
    Rule("numpy_in", "a numpy array (columns x0, x1, ...) gives the values a DataFrame gives",
         _numpy_in, _SAME),
    Rule("no_input_mutation", "fit and transform leave X (values, dtypes, index; also as a "
         "numpy array) and y (a 0/1 target when none is given) as they were",
         _no_input_mutation, _FIT),
    Rule("pickle_round_trip", "the fitted transformer pickles, and transforms the same after",
         pickle_round_trip, _SAME),
    Rule("bundle_round_trip", "a ModelBundle of Pipeline([transformer, dummy model]) saves and "
         "loads, only with trusted= naming the class when mllife does not ship it (and the "
         "caller's trusted= names, refused without them), and transforms the same",
         bundle_round_trip, _SAME),
    Rule("not_fitted_error", "transform (and get_feature_names_out) before fit raise "
         "NotFittedError", _not_fitted_error),
)}


def run_rules(ctx: Context, names: Iterable[str],
              expected: Mapping[str, str]) -> list[dict[str, str]]:
    """Run the named rules in order: one ``{"rule", "status", "message"}`` row each.

    A rule listed in ``expected`` (name -> reason) that fails is ``skipped``
    with the reason and the failure; one that passes says it was expected to fail.
    """
    from sklearn import config_context

    status: dict[str, str] = {}
    rows = []
    for name in names:
        rule = RULES[name]
        blocked = [need for need in rule.needs if status.get(need) != "passed"]
        if blocked:
            state = ", ".join(f"{b} ({status.get(b, 'not run')})" for b in blocked)
            row = {"rule": name, "status": "skipped",
                   "message": f"cannot run: it needs {state} to pass"}
        else:
            try:
                with config_context(transform_output="default"):
                    row = {"rule": name, "status": "passed", "message": rule.run(ctx)}
            except Skipped as exc:
                row = {"rule": name, "status": "skipped", "message": str(exc)}
            except Failed as exc:
                row = {"rule": name, "status": "failed", "message": f"{name}: {exc}"}
            except Exception as exc:  # anything the transformer raises where a rule did not expect
                row = {"rule": name, "status": "failed",
                       "message": f"{name}: {error_text(exc)} (while checking that {rule.doc})"}
        reason = expected.get(name)
        if reason is not None and row["status"] == "failed":
            row = {"rule": name, "status": "skipped",
                   "message": f"expected to fail ({reason}): {row['message']}"}
        elif reason is not None and row["status"] == "passed":
            row["message"] += f" (passed, although listed as expected to fail: {reason})"
        status[name] = row["status"]
        rows.append(row)
    return rows
