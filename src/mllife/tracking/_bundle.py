"""``log_bundle``: a bundle as a tracked MLflow model (registered if asked), or a file in any tracker."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import numbers
import os
import re
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .._errors import (
    InputError,
    IntegrityError,
    ModelError,
    TrackingError,
    TrackingWarning,
    UntrustedTypeError,
)
from ..bundle import ModelBundle
from ._names import flatten, param_text

if TYPE_CHECKING:
    from ._mlflow import MlflowTracker
    from ._protocol import Tracker

__all__ = ["log_bundle"]

#: At most this many metadata entries become params (the rest are counted, not logged).
MAX_METADATA = 100
#: The longest metadata value logged as a param (a longer one ends with ``…[cut]``).
MAX_METADATA_TEXT = 1000
#: The longest registered model name (MLflow's column).
MAX_REGISTERED_NAME = 256
_FILE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_PYFUNC_IMPORT = r".*Any type hint is inferred as AnyType"  # MLflow colours its text


def _check_registered_name(name: Any) -> str | None:
    if name is None:
        return None
    expected = ("a model name of 1 to 256 printable characters without '/' or ':', "
                "no space at either end, or None")
    if not isinstance(name, str):
        raise InputError(f"registered_name is a {type(name).__name__}", expected=expected)
    if (not name or len(name) > MAX_REGISTERED_NAME or name != name.strip()
            or not name.isprintable() or "/" in name or ":" in name or ".." in name):
        raise InputError(f"registered_name={name[:80]!r} is not a name MLflow accepts",
                         expected=expected)
    return name


def _trusted_names(trusted: Any) -> set[str]:
    from ..bundle._trust import type_names

    try:
        return type_names(trusted)
    except InputError as err:
        raise InputError(f"trusted: {err}",
                         expected="a list of full type names ('package.module.Class'), "
                                  "types or functions, or None") from None


def _file_name(bundle: ModelBundle, source: Path | None) -> str:
    """A plain file name for the bundle: its own (a path given) or ``bundle-<version>.mllife``."""
    stem = source.name if source is not None else f"bundle-{bundle.version}.mllife"
    text = _FILE_CHARS.sub("_", stem).strip("._")[:120]
    return text if text.endswith(".mllife") else (text or "bundle") + ".mllife"


def _schema_sha256(bundle: ModelBundle) -> str:
    text = json.dumps(bundle.schema.to_dict(), sort_keys=True, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _task(model: Any) -> str:
    from sklearn.base import is_classifier, is_regressor

    with contextlib.suppress(Exception):  # a user's model with broken tags is still logged
        if is_classifier(model):
            return "classification"
        if is_regressor(model):
            return "regression"
    return "other"


def _describe(bundle: ModelBundle, data: bytes, trusted: set[str]) -> tuple[
        dict[str, str], dict[str, str], dict[str, float], list[str]]:
    """(params, tags, finite metrics, names of non-finite metrics) of a bundle's run."""
    model = bundle.model
    final = model
    while hasattr(final, "steps") and final.steps:
        final = final.steps[-1][1]
    file_sha = hashlib.sha256(data).hexdigest()
    schema_sha = _schema_sha256(bundle)
    params = {
        "bundle.version": bundle.version,
        "bundle.model": type(model).__name__,
        "bundle.estimator": type(final).__name__,
        "bundle.task": _task(model),
        "bundle.columns": str(len(bundle.schema.columns)),
        "bundle.file_sha256": file_sha,
        "bundle.file_bytes": str(len(data)),
        "bundle.schema_sha256": schema_sha,
        "bundle.proba": str(hasattr(model, "predict_proba")),
        "bundle.trusted": ", ".join(sorted(trusted)),
    }
    params.update({f"bundle.libraries.{lib}": param_text(version)
                   for lib, version in bundle.versions.items()})
    metadata = list(flatten(dict(bundle.metadata)).items())
    params.update({f"bundle.metadata.{key}": param_text(value, max_length=MAX_METADATA_TEXT)
                   for key, value in metadata[:MAX_METADATA]})
    if len(metadata) > MAX_METADATA:
        params["bundle.metadata_not_logged"] = str(len(metadata) - MAX_METADATA)
    metrics: dict[str, float] = {}
    nonfinite: list[str] = []
    for key, value in flatten(dict(bundle.metrics)).items():
        if not isinstance(value, numbers.Real) or isinstance(value, bool | np.bool_):
            continue  # text, lists of text: not a number to chart
        number = float(value)
        name = f"bundle.metrics.{key}"
        if math.isfinite(number):
            metrics[name] = number
        else:
            nonfinite.append(name)
    tags = {"mllife.bundle.version": bundle.version, "mllife.bundle.sha256": file_sha,
            "mllife.schema.sha256": schema_sha}
    if nonfinite:
        tags["mllife.nonfinite_metrics"] = ", ".join(nonfinite)[:5000]
    return params, tags, metrics, nonfinite


def _check_loads(file: Path, trusted: set[str]) -> None:
    """Warn when the saved bundle would not load as MLflow will load it (same trust list)."""
    from ..bundle import load_bundle

    try:
        load_bundle(file, trusted=trusted)
    except (UntrustedTypeError, ModelError) as err:
        warnings.warn(f"log_bundle: the logged MLflow model will not load: {err} Pass the "
                      "same names to log_bundle(bundle, trusted=[...]) so the model's config "
                      "holds them.", TrackingWarning, stacklevel=3)


def _register(tracker: MlflowTracker, name: str, run_id: str, tags: dict[str, str],
              version: str) -> str:
    """A new version of registered model ``name`` (created when missing) for the run's model."""
    from mlflow.exceptions import MlflowException

    client = tracker.client
    try:
        client.create_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    source = f"{client.get_run(run_id).info.artifact_uri}/model"
    made = client.create_model_version(name, source, run_id=run_id, tags=tags,
                                       description=f"mllife bundle version {version}")
    return str(made.version)


class _Step:
    """The tracker call under way, named in a :class:`~mllife.TrackingError`."""

    def __init__(self) -> None:
        self.name = "start_run"


def log_bundle(bundle: ModelBundle | str | os.PathLike[str], *, tracker: Tracker | None = None,
               registered_name: str | None = None, trusted: Any = None) -> str:
    """Log a bundle to a tracker; with MLflow, as a pyfunc model that validates like the bundle.

    One run named ``bundle <version>`` holds:

    - *params*: ``bundle.version``, ``bundle.model`` and ``bundle.estimator``
      (class names), ``bundle.task``, ``bundle.columns``, ``bundle.file_sha256``,
      ``bundle.file_bytes``, ``bundle.schema_sha256`` (SHA-256 of the contract's
      canonical JSON), ``bundle.proba``, ``bundle.trusted``,
      ``bundle.libraries.<library>`` (versions recorded in the bundle) and
      ``bundle.metadata.<key>`` (the metadata flattened: at most 100 entries,
      each cut to 1000 characters);
    - *metrics*: the bundle's ``metrics``, as ``bundle.metrics.<name>``
      (non-finite ones listed in the tag ``mllife.nonfinite_metrics``);
    - *tags*: ``mllife.bundle.version``, ``mllife.bundle.sha256``,
      ``mllife.schema.sha256``, ``mllife.model_uri`` and, when registered,
      ``mllife.registered_model`` and ``mllife.registered_version``.

    With an :class:`~mllife.tracking.MlflowTracker` (or None), the artifact
    ``model`` is an MLflow pyfunc model saved with MLflow's "models from code"
    (never cloudpickle): a short code file that builds mllife's own
    ``PythonModel``, the bundle file as the model's artifact (``model/artifacts/
    <file name>``), a signature derived from the contract and the stated
    requirement ``mllife==<version>`` (MLflow never imports the model to guess
    requirements). Loading it (``mlflow.pyfunc.load_model``, ``mlflow models
    serve``) loads the bundle file with :func:`~mllife.bundle.load_bundle` and
    the ``trusted`` names given here (kept in the model's config), and its
    ``predict`` is the bundle's: ``predict_proba`` for a model with
    probabilities (the param ``proba=False`` asks for ``predict``), else
    ``predict``; the request is validated against the contract first.

    With another tracker, the bundle file is the artifact ``bundle/<file name>``
    with the same params and tags.

    Parameters
    ----------
    bundle : ModelBundle, str or path-like
        The bundle, or the path of a saved one: loaded with
        ``load_bundle(path, trusted=trusted)`` first, so a corrupted, tampered
        or signed file (a key is needed: load it yourself and pass the bundle)
        is refused before anything is logged; the file is logged as it is.
    tracker : Tracker, optional
        Where to log. None: ``MlflowTracker()``, MLflow's default store
        (``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` in the working
        directory) and its ``Default`` experiment.
    registered_name : str, optional
        Register the model in MLflow's model registry under this name (created
        when missing); the new version's tags are the run's ``mllife.*`` tags.
        Needs an MLflow tracker.
    trusted : iterable of str, types or functions, optional
        Types and functions outside mllife's trust list that the bundle's model
        holds, as for :func:`~mllife.bundle.load_bundle`; stored by full name
        in the model's config for loading. Without them, a model holding your
        own class is logged but does not load (a :class:`~mllife.TrackingWarning`
        says so at once).

    Returns
    -------
    str
        The model URI: ``runs:/<run id>/model`` for MLflow (load it with
        ``mlflow.pyfunc.load_model`` where MLflow's tracking URI names the same
        store, or from the run's artifact location as below). For another
        tracker, ``runs:/<run id>/bundle/<file name>``: where that backend's run
        holds the file, in its own terms.

    Raises
    ------
    InputError
        If ``bundle`` is not a bundle or a path, ``tracker`` not a tracker,
        ``registered_name`` not a valid name (or given with a tracker that is
        not MLflow's), or ``trusted`` not names, types or functions.
    MissingDependencyError
        If ``tracker`` is None and MLflow is not installed (``pip install
        "mllife[mlflow]"``).
    IntegrityError, UntrustedTypeError
        If ``bundle`` is a path whose file does not load (named), or whose
        bytes change between the check and the copy that is logged.
    TrackingError
        If the tracker (or MLflow) fails while logging; the run is ended
        ``"FAILED"`` first and the exception is chained.

    Warns
    -----
    TrackingWarning
        When the logged MLflow model would not load: its model holds a type
        outside the trust list (pass it as ``trusted=``), or one this process
        cannot import.

    Notes
    -----
    *Trust.* Whoever can write to the MLflow artifact store can change the
    code file (or the config) MLflow runs when it loads the model, as for any
    MLflow model: protect the store. mllife adds that the bundle itself is
    loaded without pickle, its hashes checked and its types held to the trust
    list named here (a config whose ``trusted`` is not a list of full names
    is refused with an :class:`~mllife.IntegrityError`; nothing named there is
    imported unless the bundle's model holds it). The logged file is unsigned
    (a key would have to live next to it): the store's access control is what
    protects it.

    *Validation.* Every input column is typed ``Any`` in the signature, so
    MLflow passes the request to the bundle as it came: MLflow's scoring
    server casts typed columns before the model sees them (``3.5`` to ``3`` in
    a ``long`` column, ``"false"`` and ``null`` to ``True`` and ``False`` in a
    ``boolean`` one, ``"30"`` to ``30.0``), and its pandas check refuses rows
    the contract accepts (whole numbers in a float column, categorical text)
    with a message that shows the data. MLflow only checks that every column
    is there (``Model is missing inputs ['age']``, an ``MlflowException``) and
    drops extra columns (so the contract's ``extra="error"`` does not apply);
    everything else (types, unseen categories, ranges, missing values,
    date-times) is the bundle's :class:`~mllife.SchemaError`, naming the column
    and never a value. Served by ``mlflow models serve``, both are an HTTP 400
    whose body names the column (the bundle's problems in its ``stack_trace``).

    Examples
    --------
    >>> import tempfile
    >>> import mlflow
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mllife.bundle import InputSchema, ModelBundle
    >>> from mllife.tracking import MlflowTracker, log_bundle
    >>> X = pd.DataFrame({"age": [25.0, 40.0, 61.0, 33.0]})
    >>> model = LogisticRegression().fit(X, [0, 1, 1, 0])
    >>> bundle = ModelBundle(model, InputSchema.infer(X), version="1.0.0")
    >>> tracker = MlflowTracker("churn", tracking_uri=tempfile.mkdtemp())
    >>> uri = log_bundle(bundle, tracker=tracker, registered_name="churn")
    >>> run = tracker.client.get_run(tracker.last_run_id)
    >>> uri == f"runs:/{run.info.run_id}/model", run.data.params["bundle.version"]
    (True, '1.0.0')
    >>> version = tracker.client.get_model_version("churn", "1")
    >>> version.tags["mllife.bundle.version"]
    '1.0.0'

    Load it back (here from the run's artifact location, so MLflow's global
    tracking URI is left alone) and predict: the bundle's own answer.

    >>> served = mlflow.pyfunc.load_model(version.source)
    >>> served.predict(pd.DataFrame({"age": [58.0]}))[["prediction", "model_version"]]
       prediction model_version
    0           1         1.0.0
    """
    names = _trusted_names(trusted)
    registered = _check_registered_name(registered_name)
    source: Path | None = None
    if isinstance(bundle, str | os.PathLike):
        source = Path(bundle)
    elif not isinstance(bundle, ModelBundle):
        raise InputError(f"bundle is a {type(bundle).__name__}",
                         expected="a ModelBundle or the path of a saved bundle")
    from ._log import check_tracker
    from ._mlflow import MlflowTracker

    check_tracker(tracker)
    if registered is not None and tracker is not None and not isinstance(tracker, MlflowTracker):
        raise InputError(f"registered_name={registered!r} with a {type(tracker).__name__}",
                         expected="an MlflowTracker (the model registry is MLflow's)")
    if source is not None:
        from ..bundle import load_bundle

        # a bad file is refused before anything is logged, or any default store is made
        loaded = load_bundle(source, trusted=names)
    else:
        loaded = cast(ModelBundle, bundle)
    if tracker is None:
        tracker = MlflowTracker()
    checked: Tracker = tracker
    is_mlflow = isinstance(checked, MlflowTracker)
    with tempfile.TemporaryDirectory(prefix="mllife-bundle-") as tmp:
        folder = Path(tmp)
        file = folder / "file" / _file_name(loaded, source)
        file.parent.mkdir()
        if source is None:
            loaded.save(file)
            if is_mlflow:
                _check_loads(file, names)
        else:
            shutil.copyfile(source, file)
        data = file.read_bytes()
        if source is not None and hashlib.sha256(data).hexdigest() != loaded.source_sha256:
            raise IntegrityError(f"{source.name}: the file changed while it was being logged "
                                 "(its bytes are not the ones just verified); nothing was logged")
        params, tags, metrics, _ = _describe(loaded, data, names)
        return _log(checked, loaded, file, data, folder, names, params=params, tags=tags,
                    metrics=metrics, registered=registered)


def _log(tracker: Tracker, bundle: ModelBundle, file: Path, data: bytes, folder: Path,
         trusted: set[str], *, params: dict[str, str], tags: dict[str, str],
         metrics: dict[str, float], registered: str | None) -> str:
    """The run: params, metrics, tags, the file or the MLflow model; FAILED on any error."""
    from ._mlflow import MlflowTracker

    step = _Step()
    run_name = f"bundle {bundle.version}"
    run_id: str | None = None

    def call(method: str, *args: Any, **kwargs: Any) -> Any:
        step.name = method
        return getattr(tracker, method)(*args, **kwargs)

    try:
        run_id = str(call("start_run", run_name, tags=tags))
        call("log_params", run_id, params)
        if metrics:
            call("log_metrics", run_id, metrics)
        more: dict[str, str] = {}
        if isinstance(tracker, MlflowTracker):
            step.name = "saving the MLflow model"
            with warnings.catch_warnings():
                # importing mlflow.pyfunc (MLflow's own schemas) warns about a type hint of
                # MLflow's; a user running with -W error must not be broken by it
                warnings.filterwarnings("ignore", message=_PYFUNC_IMPORT)
                from ._pyfunc import save_pyfunc

            model_dir = save_pyfunc(bundle, file, folder, trusted=trusted)
            step.name = "log_artifacts"
            tracker.client.log_artifacts(run_id, str(model_dir), "model")
            uri = f"runs:/{run_id}/model"
            if registered is not None:
                step.name = "registering the model"
                version = _register(tracker, registered, run_id, tags, bundle.version)
                more = {"mllife.registered_model": registered,
                        "mllife.registered_version": version}
        else:
            call("log_artifact", run_id, f"bundle/{file.name}", data)
            uri = f"runs:/{run_id}/bundle/{file.name}"
        call("set_tags", run_id, {"mllife.model_uri": uri, **more})
        call("end_run", run_id, status="FINISHED")
    except BaseException as exc:
        interrupted = not isinstance(exc, Exception)  # Ctrl-C, SystemExit: re-raised as is
        if run_id is not None:
            with contextlib.suppress(Exception):  # the first error is the one reported
                tracker.end_run(run_id, status="KILLED" if interrupted else "FAILED")
        if interrupted:
            raise
        where = f"run {run_name!r}" + (f" (id {run_id})" if run_id else "")
        raise TrackingError(f"{type(tracker).__name__} failed in {step.name} of {where}: "
                            f"{type(exc).__name__}: {str(exc)[:500]}") from exc
    return uri
