"""``ModelBundle`` and ``load_bundle``: a fitted model with its contract, saved safely."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError, MllifeError, ModelError
from ._io import library_versions
from ._save import save_bundle
from ._schema import InputSchema

__all__ = ["ModelBundle"]


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
            One row per input row (the input's index for a frame). The notes
            of validation are in ``result.attrs["schema_notes"]``: the list
            :meth:`InputSchema.validate` returns, one dict per note with
            ``column``, ``problem``, ``count`` and ``rows`` (row positions in
            ``X``), for extra columns ignored, unseen categories accepted
            (``unseen="flag"``) or mapped to the rare label (``"rare"``) and
            values out of range (``out_of_range="warn"`` or ``"clip"``); an
            empty list when there is nothing to note. A service logs them
            without validating twice.

        Raises
        ------
        SchemaError
            When the input breaks the contract; the model is not called.

        Examples
        --------
        >>> import pandas as pd
        >>> from sklearn.linear_model import LogisticRegression
        >>> from mllife.bundle import InputSchema, ModelBundle
        >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
        >>> bundle = ModelBundle(LogisticRegression().fit(X, [0, 0, 1, 1]),
        ...                      InputSchema.infer(X), version="1")
        >>> result = bundle.predict({"x": 2.5, "debug": True})
        >>> result.attrs["schema_notes"]
        [{'column': 'debug', 'count': 1, 'problem': 'extra column ignored'}]
        """
        valid = self.schema.validate(X)
        prediction = self._call("predict", valid)
        return self._frame({"prediction": np.asarray(prediction)}, valid)

    def predict_proba(self, X: Any) -> pd.DataFrame:
        """Validate ``X``, then return ``prediction``, ``proba_<class>`` and ``model_version``.

        ``prediction`` is the most probable class (the model's ``classes_``
        order breaks ties, as ``argmax`` does). The notes of validation are in
        ``result.attrs["schema_notes"]``, as for :meth:`predict`.

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
        proba = np.asarray(self._call("predict_proba", valid))
        classes = np.asarray(getattr(self.model, "classes_", np.arange(proba.shape[1])))
        columns: dict[str, Any] = {"prediction": classes[np.argmax(proba, axis=1)]}
        for i, label in enumerate(classes):
            columns[f"proba_{label}"] = proba[:, i]
        return self._frame(columns, valid)

    def _call(self, method: str, valid: pd.DataFrame) -> Any:
        """The model's ``method`` on validated input; its failure is a ModelError.

        The input met the contract, so a failure here is the model's (a state that
        does not fit its input, a library mismatch): it is reported as such, with
        the original exception chained, never as a raw traceback from inside it.
        """
        try:
            return getattr(self.model, method)(self._model_input(valid))
        except MllifeError:
            raise
        except (Exception, MemoryError) as exc:
            raise ModelError(
                f"model {type(self.model).__name__} (version {self.version!r}) failed in "
                f"{method} on {len(valid)} validated row(s): {type(exc).__name__}: "
                f"{str(exc)[:200]}") from exc

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

    def _frame(self, columns: dict[str, Any], valid: pd.DataFrame) -> pd.DataFrame:
        """The result frame, on the request's index, carrying the notes of validation."""
        from ._schema import NOTES_KEY

        columns["model_version"] = np.full(len(valid), self.version, dtype=object)
        result = pd.DataFrame(columns, index=valid.index, copy=False)
        result.attrs[NOTES_KEY] = list(valid.attrs.get(NOTES_KEY, ()))
        return result

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
        return save_bundle(self, path, key=key)

