"""The persistence rules: a fitted transformer pickles, and travels in a bundle."""

from __future__ import annotations

import pickle
import tempfile
from pathlib import Path

import numpy as np

from ._compare import difference, error_text, short
from ._context import Context, Failed

__all__ = ["bundle_round_trip", "pickle_round_trip"]


def pickle_round_trip(ctx: Context) -> str:
    est = ctx.fitted
    try:
        twin = pickle.loads(pickle.dumps(est))
    except Exception as exc:
        raise Failed(f"expected the fitted transformer to pickle and unpickle (joblib, "
                     f"multiprocessing and caches need it); {error_text(exc)}") from exc
    if type(twin) is not type(est):
        raise Failed(f"expected a {ctx.label} back from pickle; got a {type(twin).__name__}")
    try:
        out = twin.transform(ctx.X_copy())
    except Exception as exc:
        raise Failed(f"expected the unpickled transformer to transform X; it raised "
                     f"{error_text(exc)}") from exc
    gap = difference(ctx.out, out, labels=(" before pickling", " after"))
    if gap is not None:
        raise Failed(f"expected the unpickled transformer to transform as the original; {gap}")
    return "the fitted transformer pickles and transforms the same after unpickling"


def bundle_round_trip(ctx: Context) -> str:
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.utils.multiclass import type_of_target

    from .._errors import UntrustedTypeError
    from ..bundle import InputSchema, ModelBundle, load_bundle
    from ..bundle._trust import approves, full_name, type_names

    cls = type(ctx.estimator)
    name = full_name(cls)
    if "<locals>" in cls.__qualname__:
        raise Failed(f"expected {cls.__name__} to be importable by module and name (a bundle "
                     f"records the class by name: {name}); it is defined inside a function: "
                     "define it at module level")
    y = ctx.y_copy() if ctx.y is not None else np.arange(len(ctx.X)) % 2
    final = (DummyRegressor() if str(type_of_target(y)).startswith("continuous")
             else DummyClassifier(strategy="prior"))
    pipe = Pipeline([("transformer", ctx.fresh()), ("model", final)]).fit(ctx.X_copy(), y)
    bundle = ModelBundle(pipe, InputSchema.infer(ctx.X_copy()), version="check")
    expected = pipe[:-1].transform(ctx.X_copy())
    shipped = approves(name)
    given = [] if ctx.trusted is None else (
        [ctx.trusted] if isinstance(ctx.trusted, str | type) else list(ctx.trusted))
    # The caller's names for types of theirs the transformer holds (its own class aside).
    extra = sorted(type_names(given) - {name})
    own = [] if shipped else [cls]
    with tempfile.TemporaryDirectory(prefix="mllife-check-") as folder:
        try:
            path = bundle.save(Path(folder) / "check.bundle")
        except Exception as exc:
            raise Failed(f"expected a ModelBundle holding Pipeline([{ctx.label}, "
                         f"{type(final).__name__}]) to save; it raised {error_text(exc)}") from exc
        if not shipped:
            try:
                load_bundle(path)
            except UntrustedTypeError as exc:
                if name not in str(exc):
                    raise Failed(f"expected load_bundle without trusted= to refuse {name} by "
                                 f"name; it says: {short(exc, 240)}") from exc
            except Exception as exc:
                raise Failed(f"expected load_bundle without trusted= to refuse {name} with "
                             f"UntrustedTypeError; it raised {error_text(exc)}") from exc
            else:
                raise Failed(f"expected load_bundle without trusted= to refuse {name}, a class "
                             "mllife does not ship; it loaded")
        if extra:
            # trusted= says the transformer holds code of the caller's: without those names
            # the loader must refuse the bundle (else it runs code nobody trusted, or the
            # names are not needed).
            without = f"trusted=[{name}]" if own else "without trusted="
            try:
                load_bundle(path, trusted=own or None)
            except UntrustedTypeError:
                pass
            except Exception as exc:
                raise Failed(f"expected load_bundle {without} to refuse the bundle with "
                             f"UntrustedTypeError (trusted= names {extra} as types of yours it "
                             f"holds); it raised {error_text(exc)}") from exc
            else:
                raise Failed(f"expected load_bundle {without} to refuse the bundle: trusted= "
                             f"names {', '.join(extra)} as types of yours the transformer "
                             f"holds, yet it "
                             f"loaded without them. Either {ctx.label} holds none of them "
                             "(leave them out of trusted=), or the loader accepted code of yours "
                             "that nobody trusted")
        try:
            loaded = load_bundle(path, trusted=[*own, *given] or None)
        except UntrustedTypeError as exc:
            asked = [name, *extra] if own else extra
            raise Failed(f"expected load_bundle(path, trusted=[{', '.join(asked)}]) to load; it "
                         f"refused: "
                         f"{short(exc, 400)} (types of yours that the transformer holds go in "
                         "check_transformer(..., trusted=[...]))") from exc
        except Exception as exc:
            raise Failed(f"expected load_bundle to load the saved bundle; it raised "
                         f"{error_text(exc)}") from exc
    try:
        got = loaded.model[:-1].transform(ctx.X_copy())
        before, after = bundle.predict(ctx.X_copy()), loaded.predict(ctx.X_copy())
    except Exception as exc:
        raise Failed(f"expected the loaded bundle to transform and predict X; it raised "
                     f"{error_text(exc)}") from exc
    gap = difference(expected, got, labels=(" before saving", " after loading")) or difference(
        before, after, labels=(" before saving", " after loading"))
    if gap is not None:
        raise Failed(f"expected the loaded transformer to transform as the saved one; {gap}")
    if shipped and not extra:
        how = "without trusted= (mllife ships the class)"
    elif shipped:
        how = (f"only with trusted=[{', '.join(extra)}] (refused without "
               f"{'it' if len(extra) == 1 else 'them'}"
               f"; mllife ships {cls.__name__} itself)")
    elif not extra:
        how = f"only with trusted=[{name}] (refused without it)"
    else:
        how = (f"only with trusted=[{', '.join([name, *extra])}] (refused without it, naming "
               f"{name}, and "
               f"with trusted=[{name}] alone)")
    return f"saved in a ModelBundle and loaded {how}; same output"
