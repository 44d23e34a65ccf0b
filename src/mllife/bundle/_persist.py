"""Loading a :class:`ModelBundle`: what is refused on the way in.

(Saving, and what it refuses, is :mod:`mllife.bundle._save`.) Loading
verifies in order: the container (sizes, names, seal), the member hashes and
the HMAC, the shape of every JSON member, the model's types against the
loader's trust list, the loaded model's numeric state
(:mod:`mllife.bundle._state`), the numpy functions it holds against the
caller's ``trusted=``, and last the one check that runs estimator code
(gradient boosting's ``init_`` predicts a row); ``n_jobs`` of every estimator is set by the caller,
never by the file.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .._errors import InputError, IntegrityError, VersionMismatchWarning
from ._bundle import ModelBundle
from ._io import MAX_BYTES, library_versions, load_json, read_bundle
from ._schema import InputSchema
from ._state import validate_model
from ._trust import load_model, type_names

__all__ = ["load_bundle"]

_MAX_VERSION_LENGTH = 200


def _restore_drift_profile(data: Any, name: str) -> Any:
    from ..drift import DriftProfile

    try:
        return DriftProfile.from_dict(data)
    except (InputError, ValueError, TypeError, KeyError, AttributeError, IndexError,
            OverflowError, RecursionError, MemoryError) as exc:
        raise IntegrityError(f"{name}: drift_profile.json is malformed "
                             f"({type(exc).__name__}: {str(exc)[:120]})") from None


def _read_info(data: bytes, name: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    info = load_json(data, f"{name}: info.json")
    if not isinstance(info, dict):
        raise IntegrityError(f"{name}: info.json is a JSON {type(info).__name__}, not an object")
    version = info.get("version")
    if not isinstance(version, str) or not version or len(version) > _MAX_VERSION_LENGTH:
        raise IntegrityError(f"{name}: info.json's version is malformed "
                             f"(expected a string of 1 to {_MAX_VERSION_LENGTH} characters)")
    metadata = info.get("metadata") or {}
    metrics = info.get("metrics") or {}
    if not isinstance(metadata, dict) or not isinstance(metrics, dict):
        raise IntegrityError(f"{name}: info.json's metadata and metrics must be JSON objects")
    return version, metadata, metrics


def _read_schema(data: bytes, name: str) -> InputSchema:
    raw = load_json(data, f"{name}: schema.json")
    if not isinstance(raw, dict):
        raise IntegrityError(f"{name}: schema.json is a JSON {type(raw).__name__}, "
                             "not an object")
    try:
        return InputSchema.from_dict(raw)
    except (InputError, ValueError, TypeError, KeyError, AttributeError, IndexError,
            OverflowError, RecursionError) as exc:
        raise IntegrityError(f"{name}: schema.json is malformed "
                             f"({type(exc).__name__}: {str(exc)[:160]})") from None


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
            changed.append(f"{lib} {was[:40]} -> {version}")
    if changed:
        warnings.warn(f"{name} was saved with other library versions (saved -> running): "
                      + ", ".join(changed), VersionMismatchWarning, stacklevel=3)


def _check_n_jobs(n_jobs: Any) -> int | None:
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise InputError(f"n_jobs={n_jobs!r}", expected="None or a non-zero integer (1 by default)")
    return int(n_jobs)


def load_bundle(path: str | os.PathLike[str], *, trusted: Any = None,
                key: bytes | str | None = None, n_jobs: int | None = 1,
                max_bytes: int = MAX_BYTES) -> ModelBundle:
    """Load a bundle written by :meth:`ModelBundle.save`, verifying everything first.

    In order: the zip structure and sizes (members are inflated as a stream
    with a hard cap on the bytes that actually come out, so no zip bomb, and
    no paths), the SHA-256 of every member, the HMAC signature (a signed
    bundle never loads without its key, and a key refuses an unsigned
    bundle), the checksum of the whole file, the bundle format version, the
    shape, size and nesting of every JSON member, then the model's types
    against the loader's trust list (exact names of scikit-learn and mllife
    estimator classes and of the internal types fitted models hold; no
    function; the file's own claims are never used), the loaded model's
    numeric state (tree nodes, gradient-boosting predictors, sparse indices,
    support vectors, neighbour trees; a numpy function only as a
    ``FunctionTransformer``'s ``func`` / ``inverse_func``), then the numpy
    functions it holds (``FunctionTransformer(np.log1p)`` loads only with
    ``trusted=["numpy.log1p"]``), before any estimator code runs.
    Nothing in the file runs code.

    What the hashes prove: without a key, the manifest and the seal detect
    accidental corruption only, since anyone who can edit the file can
    recompute them. With a key, the HMAC-SHA256 of the manifest proves that
    the manifest, and through its SHA-256 entries every member, was written by
    someone holding the key.

    Parameters
    ----------
    path : str or Path
    trusted : type, function, str or iterable of them, optional
        Extra types and functions to trust (your own estimator class, the
        function of a ``FunctionTransformer``), by full name such as
        ``"mypkg.models.MyEstimator"`` or ``"numpy.log1p"``, or as the class
        or function itself. Only name code you wrote or reviewed: loading a
        type runs its code.
    key : bytes or str, optional
        The key the bundle was signed with.
    n_jobs : int or None, default=1
        Set on every estimator in the model that has ``n_jobs``: the service
        decides how many processes or threads prediction uses, not the file.
    max_bytes : int, default=2 GiB
        The largest file, and the most its members may inflate to together.

    Returns
    -------
    ModelBundle
        With ``source_sha256``, the SHA-256 of the file (a service's
        ``/health`` names the file it serves with it).

    Raises
    ------
    IntegrityError
        Truncated, corrupted, oversized or tampered file (naming the member
        or the check), wrong or missing key, a newer bundle format, or model
        state that fails a structural check (naming the estimator).
    UntrustedTypeError
        The model holds types or functions outside the trust list (named).
    ModelError
        A type you trusted cannot be found in this process: its module is not
        installed or fails to import, does not define it, or it was defined in
        another process's ``__main__`` (named, with what to do).
    InputError
        A bad argument (``path``, ``trusted``, ``key``, ``n_jobs``).

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
    extra = type_names(trusted)  # once (an iterator is read once); fails before any read
    jobs = _check_n_jobs(n_jobs)
    members, manifest = read_bundle(path, key=key, max_bytes=max_bytes)
    name = Path(path).name
    for required in ("model.skops", "schema.json", "info.json"):
        if required not in members:
            raise IntegrityError(f"{name}: member {required!r} is missing")
    schema = _read_schema(members["schema.json"], name)
    version, metadata, metrics = _read_info(members["info.json"], name)
    drift = None
    if "drift_profile.json" in members:
        drift = _restore_drift_profile(
            load_json(members["drift_profile.json"], f"{name}: drift_profile.json"), name)
    _warn_versions(manifest["versions"], name)
    model = load_model(members["model.skops"], trusted=extra, max_bytes=max_bytes,
                       validate=lambda loaded, refuse: validate_model(
                           loaded, n_jobs=jobs, before_code=refuse))
    if not hasattr(model, "predict"):
        raise IntegrityError(f"{name}: the model is a {type(model).__name__} without predict")
    bundle = ModelBundle(model, schema, version=version, metadata=metadata, metrics=metrics,
                         drift_profile=drift)
    bundle.versions = MappingProxyType(dict(manifest["versions"]))
    bundle.source_sha256 = _file_sha256(path)
    return bundle


def _file_sha256(path: str | os.PathLike[str]) -> str | None:
    """SHA-256 of the bundle file (what ``sha256sum`` prints), for a service's /health.

    Read again after the checks (``read_bundle`` keeps no bytes); None when the file
    is gone or unreadable by then, which does not fail a load that already succeeded.
    """
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None
