"""A bundle as an MLflow pyfunc model: the ``PythonModel``, its code file, its signature.

MLflow's "models from code": the logged model holds a small code file
(:data:`MODEL_CODE`) that imports :class:`BundleModel` from mllife and hands
it to ``mlflow.models.set_model``; nothing is cloudpickled. The bundle file
is an artifact of the model, loaded by :func:`mllife.bundle.load_bundle`
(verified, no pickle) with the trusted type names kept in the model's config.

This module imports MLflow: it is loaded only by :func:`~mllife.tracking.log_bundle`
and by MLflow when it loads such a model, never by ``import mllife.tracking``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mlflow.models.model as mlflow_model
import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.pyfunc import PythonModel, PythonModelContext
from mlflow.types.schema import AnyType, ColSpec, DataType, ParamSchema, ParamSpec, Schema

from .._errors import InputError, IntegrityError
from .._version import __version__
from ..bundle import ModelBundle
from ..bundle._trust import type_names

__all__ = ["ARTIFACT", "CODE_FILE", "MODEL_CODE", "BundleModel", "save_pyfunc", "signature"]

#: The name of the bundle file among the model's artifacts.
ARTIFACT = "bundle"
#: The file name of the code MLflow runs to build the model.
CODE_FILE = "mllife_bundle_model.py"
#: What that file holds: it imports mllife's own class, nothing from the artifact store.
MODEL_CODE = '''\
"""An mllife bundle served as an MLflow pyfunc model (written by mllife.tracking.log_bundle).

The model is mllife's own class; the bundle it serves is the artifact "bundle",
loaded by mllife.load_bundle (integrity checked, no pickle) with the trusted type
names of the model config "trusted".
"""
from mlflow.models import set_model

from mllife.tracking._pyfunc import BundleModel

set_model(BundleModel())
'''
#: The model config key holding the trusted type names.
TRUSTED_KEY = "trusted"
#: MLflow's advice while saving that does not apply here (regexes: MLflow colours its text).
_NOT_FOR_US = (
    r".*An input example was not provided",  # the signature is the bundle's contract
)


def read_trusted(config: Mapping[str, Any] | None) -> set[str]:
    """The trusted type names of a model config: a list of full names, checked, never imported.

    A missing config or key trusts nothing beyond the loader's defaults.

    Raises
    ------
    IntegrityError
        When the config or its ``trusted`` entry is not what :func:`save_pyfunc`
        writes (a list of full type names such as ``"mypkg.models.MyEstimator"``).
    """
    if config is None:
        return set()
    if not isinstance(config, Mapping):
        raise IntegrityError(f"the model config is a {type(config).__name__}, not a mapping: "
                             "the MLmodel file was not written by mllife.tracking.log_bundle")
    value = config.get(TRUSTED_KEY, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        shown = type(value).__name__ if not isinstance(value, list) else "list holding " + \
            ", ".join(sorted({type(item).__name__ for item in value if not isinstance(item, str)}))
        raise IntegrityError(f"the model config {TRUSTED_KEY!r} is a {shown}; expected a list "
                             "of full type names ('package.module.Class'): the MLmodel file "
                             "was changed after mllife.tracking.log_bundle wrote it")
    try:
        return type_names(value)
    except InputError as err:
        raise IntegrityError(f"the model config {TRUSTED_KEY!r} is malformed: {err}") from None


class BundleModel(PythonModel):
    """An mllife bundle as an MLflow ``PythonModel`` (built by the model's code file).

    ``load_context`` loads the artifact ``"bundle"`` with
    :func:`mllife.bundle.load_bundle` and the trusted names of the model config;
    ``predict`` is the bundle's own :meth:`~mllife.bundle.ModelBundle.predict_proba`
    (when the model has probabilities; the param ``proba=False`` asks for
    :meth:`~mllife.bundle.ModelBundle.predict`) or ``predict``: the request is
    validated against the bundle's contract first, and garbage raises the
    bundle's :class:`~mllife.SchemaError` naming the column.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> from mllife.bundle import InputSchema, ModelBundle
    >>> from mllife.tracking._pyfunc import BundleModel
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0]})
    >>> model = BundleModel(ModelBundle(LinearRegression().fit(X, [0.0, 2.0, 4.0]),
    ...                                 InputSchema.infer(X), version="1"))
    >>> model.predict(None, pd.DataFrame({"x": [1.5]}))
       prediction model_version
    0         3.0             1
    """

    def __init__(self, bundle: ModelBundle | None = None) -> None:
        self.bundle = bundle

    def load_context(self, context: PythonModelContext) -> None:
        """Load the bundle artifact, verified, with the config's trusted names only."""
        from ..bundle import load_bundle

        trusted = read_trusted(context.model_config)
        artifacts = context.artifacts or {}
        if ARTIFACT not in artifacts:
            raise IntegrityError(f"the model has no artifact {ARTIFACT!r} (the bundle file): "
                                 "it was not written by mllife.tracking.log_bundle")
        self.bundle = load_bundle(artifacts[ARTIFACT], trusted=trusted)

    def predict(self, context: PythonModelContext | None, model_input: pd.DataFrame,
                params: dict[str, Any] | None = None) -> pd.DataFrame:
        """The bundle's validated prediction; probabilities unless ``params={"proba": False}``."""
        bundle = self.bundle
        if bundle is None:
            raise InputError("the bundle is not loaded",
                             expected="a model loaded with mlflow.pyfunc.load_model")
        proba = has_proba(bundle)
        if params and "proba" in params and params["proba"] is not None:
            proba = proba and bool(params["proba"])
        return bundle.predict_proba(model_input) if proba else bundle.predict(model_input)


def has_proba(bundle: ModelBundle) -> bool:
    """Whether the model gives probabilities (then the served output holds them)."""
    return hasattr(bundle.model, "predict_proba")


# ---------------------------------------------------------------- signature
def _input_type(spec: Any) -> AnyType:
    """MLflow's type for a contract column: ``Any``, so the bundle sees the request as it came.

    A typed column is cast by MLflow's scoring server before the model sees
    it (``3.5`` becomes ``3`` in a ``long`` column, ``"false"`` and ``null``
    become ``True`` and ``False`` in a ``boolean`` one, ``"30"`` becomes
    ``30.0`` in a ``double`` one), which the bundle would have refused; and
    MLflow's pandas check refuses what the contract accepts (whole numbers in
    a float column, a missing value in a nullable integer one, categorical
    text, ISO date-times under pandas 3, time zones). The bundle checks types.
    """
    return AnyType()


def _output_type(values: np.ndarray) -> DataType | AnyType:
    kind = values.dtype.kind
    if kind in "iu":
        return DataType.long
    if kind == "f":
        return DataType.double
    if kind == "b":
        return DataType.boolean
    if kind in "OUT" and all(isinstance(v, str) for v in values.tolist()):
        return DataType.string
    return AnyType()


def signature(bundle: ModelBundle) -> ModelSignature:
    """The MLflow signature of a bundle served as :class:`BundleModel`.

    Inputs: one required column per contract column, in order, typed ``Any``
    (see :func:`_input_type`: the bundle validates). Outputs: ``prediction``, the
    ``proba_<class>`` columns (optional: absent with ``proba=False``) and
    ``model_version``. Params: ``proba`` (boolean) for a model with probabilities.
    """
    inputs = Schema([ColSpec(_input_type(spec), spec.name) for spec in bundle.schema.specs])
    model = bundle.model
    classes = getattr(model, "classes_", None)
    columns: list[Any] = []  # Schema wants list[ColSpec | TensorSpec]
    if classes is not None:
        labels = np.asarray(classes)
        columns.append(ColSpec(_output_type(labels), "prediction"))
        if has_proba(bundle):
            columns += [ColSpec(DataType.double, f"proba_{label}", required=False)
                        for label in labels.tolist()]
    else:
        columns.append(ColSpec(DataType.double if hasattr(model, "predict") else AnyType(),
                               "prediction"))
    columns.append(ColSpec(DataType.string, "model_version"))
    names = [c.name for c in columns]
    outputs = Schema(columns) if len(set(names)) == len(names) else None
    params: Any = (ParamSchema([ParamSpec("proba", DataType.boolean, True)])
              if has_proba(bundle) else None)
    return ModelSignature(inputs=inputs, outputs=outputs, params=params)


# ---------------------------------------------------------------- saving
def save_pyfunc(bundle: ModelBundle, bundle_file: Path, folder: Path, *,
                trusted: set[str]) -> Path:
    """Save ``bundle`` (written at ``bundle_file``) as an MLflow pyfunc model in ``folder/model``.

    The code file is written to ``folder``; MLflow copies it into the model.
    Requirements are stated (``mllife==<version>``), never inferred: MLflow
    would import the model to guess them.

    Returns
    -------
    Path
        The model folder (to upload as the run's artifact ``model``).
    """
    code = folder / CODE_FILE
    code.write_text(MODEL_CODE, encoding="utf-8")
    target = folder / "model"
    # MLflow runs the code file while saving, and its set_model() leaves our model in
    # MLflow's process-wide slot (read by the next models-from-code load): put it back
    previous = mlflow_model.__mlflow_model__
    try:
        with warnings.catch_warnings():
            for message in _NOT_FOR_US:
                warnings.filterwarnings("ignore", message=message)
            mlflow.pyfunc.save_model(
                path=str(target), python_model=str(code),
                artifacts={ARTIFACT: str(bundle_file)},
                model_config={TRUSTED_KEY: sorted(trusted)}, signature=signature(bundle),
                pip_requirements=[f"mllife=={__version__}"])
    finally:
        mlflow_model.__mlflow_model__ = previous
    return target
