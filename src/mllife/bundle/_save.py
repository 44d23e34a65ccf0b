"""Saving a :class:`~mllife.bundle.ModelBundle`: what is refused on the way out.

Saving refuses a model that holds code a bundle cannot carry (callable rules,
lambdas, functions defined inside functions or in ``__main__``); the model is
serialised with ``skops.io`` (imported on first save: it is heavy), the rest
as JSON, and the file is written atomically by :func:`._io.write_bundle`.
Loading is :mod:`mllife.bundle._persist`, which builds a ``ModelBundle``;
this module only reads one, so ``_bundle`` can import it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import InputError
from ..report._json import jsonable
from ._io import write_bundle

if TYPE_CHECKING:
    from ._bundle import ModelBundle

__all__ = ["save_bundle"]


def _json_bytes(value: Any) -> bytes:
    return json.dumps(jsonable(value), indent=2, sort_keys=True, allow_nan=False).encode("utf-8")


def _code_in(model: Any) -> str | None:
    """What makes ``model`` unsavable as a bundle, or None."""
    from ..baselines import RuleClassifier, RuleRegressor

    try:
        params = model.get_params(deep=True) if hasattr(model, "get_params") else {}
    except (AttributeError, TypeError, ValueError):  # broken: skops.dumps reports it below
        params = {}
    for obj in [model, *params.values()]:
        if type(obj).__name__ == "AggregateFeatures" and type(obj).__module__.startswith("mllife."):
            return ("AggregateFeatures holds its event table (a DataFrame), which a bundle "
                    "does not store, and a served model must read the events as they are when "
                    "it predicts: compute the aggregates before the bundled pipeline and bundle "
                    "the model that reads them (docs/aggregates.md, 'Bundles')")
        if isinstance(obj, RuleClassifier | RuleRegressor) and callable(obj.rules):
            return (f"{type(obj).__name__} has callable rules "
                    f"({getattr(obj.rules, '__qualname__', type(obj.rules).__name__)}): a bundle "
                    "never holds code; write them as (rule, output) pairs in the rule language")
    return None


def save_bundle(bundle: ModelBundle, path: str | os.PathLike[str], *,
                key: bytes | str | None = None) -> Path:
    """Serialise ``bundle`` and write it atomically (see :meth:`ModelBundle.save`)."""
    import skops.io as sio

    reason = _code_in(bundle.model)
    if reason is not None:
        raise InputError(f"cannot save the bundle: {reason}")
    try:
        model_bytes = sio.dumps(bundle.model)
    except Exception as exc:
        raise InputError(f"cannot save the bundle: the model is not serialisable with skops "
                         f"({type(exc).__name__}: {str(exc)[:160]})") from None
    local = [t for t in sio.get_untrusted_types(data=model_bytes)
             if t.startswith(("__main__.", "__mp_main__.")) or "<" in t]
    if local:
        raise InputError(
            f"cannot save the bundle: the model holds {local[:5]}, defined in __main__ or "
            "inside a function (a lambda, a local class); no loader could import it. Move it "
            "to an importable module, or use a scikit-learn or mllife transformer")
    members = {
        "model.skops": model_bytes,
        "schema.json": _json_bytes(bundle.schema.to_dict()),
        "info.json": _json_bytes({"version": bundle.version, "metadata": dict(bundle.metadata),
                                  "metrics": dict(bundle.metrics)}),
    }
    if bundle.drift_profile is not None:
        to_dict = getattr(bundle.drift_profile, "to_dict", None)
        data = to_dict() if callable(to_dict) else bundle.drift_profile
        members["drift_profile.json"] = _json_bytes(data)
    return write_bundle(path, members, key=key)
