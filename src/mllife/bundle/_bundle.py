"""``ModelBundle`` and ``load_bundle``: a fitted model with its contract, saved safely."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError, IntegrityError, VersionMismatchWarning
from ..report._json import jsonable
from ._io import library_versions, read_bundle, write_bundle
from ._schema import InputSchema
from ._trust import load_model

__all__ = ["ModelBundle", "load_bundle"]


def _json_bytes(value: Any) -> bytes:
    return json.dumps(jsonable(value), indent=2, sort_keys=True, allow_nan=False).encode("utf-8")


class ModelBundle:
    """A fitted model, its input contract, its version and its training facts.

    ``predict`` and ``predict_proba`` validate the request with the
    :class:`InputSchema` first and never call the model on input that breaks
    it. A bundle holds no mutable state, so one instance serves concurrent
    requests from many threads.

    Parameters
    ----------
    model : fitted estimator
        Usually a ``Pipeline`` that takes the raw columns of the contract.
    schema : InputSchema
        The contract of the model's input (``InputSchema.infer(X_train)``).
    version : str
        The model version, returned with every prediction.
    metadata : mapping, optional
        JSON-safe facts (training data, author, ticket...).
    metrics : mapping, optional
        Evaluation numbers (``{"roc_auc": 0.81}``).
    drift_profile : DriftProfile, optional
        The reference profile for monitoring; saved with its ``to_dict``.

    Attributes
    ----------
    versions : mapping
        Library versions recorded in the file (after :func:`load_bundle`),
        else the running ones.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mllife.bundle import InputSchema, ModelBundle
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    >>> model = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> bundle = ModelBundle(model, InputSchema.infer(X), version="1.0.0")
    >>> bundle.predict({"x": 2.5})
       prediction model_version
    0           1         1.0.0
    >>> bundle.predict_proba([{"x": 0.2}]).columns.tolist()
    ['prediction', 'proba_0', 'proba_1', 'model_version']
    """

    def __init__(self, model: Any, schema: InputSchema, *, version: str,
                 metadata: Mapping[str, Any] | None = None,
                 metrics: Mapping[str, Any] | None = None,
                 drift_profile: Any = None) -> None:
        if not hasattr(model, "predict"):
            raise InputError(f"model is a {type(model).__name__} without predict",
                             expected="a fitted scikit-learn estimator")
        if not isinstance(schema, InputSchema):
            raise InputError(f"schema is a {type(schema).__name__}", expected="an InputSchema")
        if not isinstance(version, str) or not version:
            raise InputError(f"version={version!r}", expected="a non-empty string")
        self.model = model
        self.schema = schema
        self._positional = schema.columns == tuple(str(i) for i in range(len(schema.columns)))
        self.version = version
        self.metadata = MappingProxyType(dict(metadata or {}))
        self.metrics = MappingProxyType(dict(metrics or {}))
        self.drift_profile = drift_profile
        self.versions: Mapping[str, str] = MappingProxyType(library_versions())

    def __repr__(self) -> str:
        return (f"<ModelBundle version={self.version!r} model={type(self.model).__name__} "
                f"columns={len(self.schema.columns)}>")

    # ------------------------------------------------------------ predict
    def predict(self, X: Any) -> pd.DataFrame:
        """Validate ``X``, then predict: columns ``prediction`` and ``model_version``.

        Parameters
        ----------
        X : DataFrame, dict (one row) or list of dicts (rows)

        Returns
        -------
        pandas.DataFrame
            One row per input row (the input's index for a frame).

        Raises
        ------
        SchemaError
            When the input breaks the contract; the model is not called.
        """
        valid = self.schema.validate(X)
        prediction = self.model.predict(self._model_input(valid))
        return self._frame({"prediction": np.asarray(prediction)}, valid.index)

    def predict_proba(self, X: Any) -> pd.DataFrame:
        """Validate ``X``, then return ``prediction``, ``proba_<class>`` and ``model_version``.

        ``prediction`` is the most probable class (the model's ``classes_``
        order breaks ties, as ``argmax`` does).

        Raises
        ------
        SchemaError
            When the input breaks the contract; the model is not called.
        InputError
            When the model has no ``predict_proba``.
        """
        if not hasattr(self.model, "predict_proba"):
            raise InputError(f"{type(self.model).__name__} has no predict_proba",
                             expected="a classifier with probabilities")
        valid = self.schema.validate(X)
        proba = np.asarray(self.model.predict_proba(self._model_input(valid)))
        classes = np.asarray(getattr(self.model, "classes_", np.arange(proba.shape[1])))
        columns: dict[str, Any] = {"prediction": classes[np.argmax(proba, axis=1)]}
        for i, label in enumerate(classes):
            columns[f"proba_{label}"] = proba[:, i]
        return self._frame(columns, valid.index)

    def _model_input(self, valid: pd.DataFrame) -> Any:
        """What the model was fitted on: the frame, or its values for a model fitted on numpy.

        A contract with the positional columns ``"0"``, ``"1"``, ... (inferred
        from an array) and a model that records ``n_features_in_`` but no
        ``feature_names_in_``: the model was fitted on that array, and gets the
        values, in the contract's column order, as in training (no
        feature-name warning). Every other model gets the frame.
        """
        if (self._positional and hasattr(self.model, "n_features_in_")
                and not hasattr(self.model, "feature_names_in_")):
            return valid.to_numpy()
        return valid

    def _frame(self, columns: dict[str, Any], index: pd.Index) -> pd.DataFrame:
        columns["model_version"] = np.full(len(index), self.version, dtype=object)
        return pd.DataFrame(columns, index=index, copy=False)

    # ------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str], *, key: bytes | str | None = None) -> Path:
        """Write the bundle to one file, atomically.

        The model is serialised with ``skops.io`` (never plain pickle); the
        contract, version, metadata, metrics and drift profile as JSON; a
        manifest holds the SHA-256 of every member and the library versions.
        The file is written next to ``path`` under a temporary name and
        renamed, so a crash never leaves a half-written bundle.

        Parameters
        ----------
        path : str or Path
        key : bytes or str, optional
            A secret: the manifest is signed with HMAC-SHA256 and the bundle
            then loads only with the same key.

        Returns
        -------
        Path
        """
        import skops.io as sio

        members = {
            "model.skops": sio.dumps(self.model),
            "schema.json": _json_bytes(self.schema.to_dict()),
            "info.json": _json_bytes({"version": self.version, "metadata": dict(self.metadata),
                                      "metrics": dict(self.metrics)}),
        }
        if self.drift_profile is not None:
            to_dict = getattr(self.drift_profile, "to_dict", None)
            data = to_dict() if callable(to_dict) else self.drift_profile
            members["drift_profile.json"] = _json_bytes(data)
        return write_bundle(path, members, key=key)


def _restore_drift_profile(data: Any) -> Any:
    try:
        from ..drift import DriftProfile
    except ImportError:
        return data
    from_dict = getattr(DriftProfile, "from_dict", None)
    return from_dict(data) if callable(from_dict) else data


def _warn_versions(saved: Mapping[str, Any], name: str) -> None:
    running = library_versions()
    changed = []
    for lib, version in running.items():
        was = str(saved.get(lib, "unknown"))
        if lib == "python":
            same = was.split(".")[:2] == version.split(".")[:2]
        else:
            same = was == version
        if not same:
            changed.append(f"{lib} {was} -> {version}")
    if changed:
        warnings.warn(f"{name} was saved with other library versions (saved -> running): "
                      + ", ".join(changed), VersionMismatchWarning, stacklevel=3)


def load_bundle(path: str | os.PathLike[str], *, trusted: Iterable[Any] | None = None,
                key: bytes | str | None = None) -> ModelBundle:
    """Load a bundle written by :meth:`ModelBundle.save`, verifying everything first.

    In order: the zip structure and sizes (no zip bombs, no paths), the
    SHA-256 of every member, the HMAC signature (a signed bundle never loads
    without its key, and a key refuses an unsigned bundle), the checksum of
    the whole file, then the model's types against the loader's trust list
    (scikit-learn, numpy, scipy and mllife estimators and the internals of
    fitted models, tree models included, and the helper functions of mllife's
    transformers; the file's own claims are never used). Nothing in the file
    runs code.

    Parameters
    ----------
    path : str or Path
    trusted : iterable of str or type, optional
        Extra types to trust (e.g. your own estimator class), by full name
        such as ``"mypkg.models.MyEstimator"``.
    key : bytes or str, optional
        The key the bundle was signed with.

    Returns
    -------
    ModelBundle

    Raises
    ------
    IntegrityError
        Truncated, corrupted or tampered file (naming the member), wrong or
        missing key.
    UntrustedTypeError
        The model holds types outside the trust list (named).

    Warns
    -----
    VersionMismatchWarning
        When the file was written with other library versions (named).

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from mllife.bundle import InputSchema, ModelBundle, load_bundle
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    >>> tree = DecisionTreeClassifier(random_state=0).fit(X, [0, 0, 1, 1])
    >>> path = ModelBundle(tree, InputSchema.infer(X), version="7").save(
    ...     tempfile.mkdtemp() + "/tree.mllife", key="secret")
    >>> load_bundle(path, key="secret").predict({"x": 2.0})["prediction"].tolist()
    [1]
    """
    members, manifest = read_bundle(path, key=key)
    name = Path(path).name
    for required in ("model.skops", "schema.json", "info.json"):
        if required not in members:
            raise IntegrityError(f"{name}: member {required!r} is missing")
    try:
        schema = InputSchema.from_dict(json.loads(members["schema.json"]))
        info = json.loads(members["info.json"])
        drift = (json.loads(members["drift_profile.json"])
                 if "drift_profile.json" in members else None)
    except (ValueError, InputError) as exc:
        raise IntegrityError(f"{name}: unreadable contract or info ({str(exc)[:160]})") from None
    _warn_versions(manifest.get("versions", {}), name)
    model = load_model(members["model.skops"], trusted=trusted)
    bundle = ModelBundle(model, schema, version=str(info.get("version")),
                         metadata=info.get("metadata") or {}, metrics=info.get("metrics") or {},
                         drift_profile=None if drift is None else _restore_drift_profile(drift))
    bundle.versions = MappingProxyType({str(k): str(v)
                                        for k, v in manifest.get("versions", {}).items()})
    return bundle
