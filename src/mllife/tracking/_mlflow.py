"""``MlflowTracker``: the :class:`~mllife.tracking.Tracker` protocol over an MLflow store.

Everything goes through one ``mlflow.MlflowClient`` with explicit run ids:
mllife never calls MLflow's fluent API (``mlflow.start_run``,
``mlflow.set_tracking_uri``...), so it neither reads nor changes MLflow's
process-wide active run or tracking URI. MLflow is imported when a tracker is
made, never by ``import mllife`` or ``import mllife.tracking``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import numpy as np
import pandas as pd

from .._errors import InputError, MissingDependencyError
from .._version import __version__
from ..report import jsonable
from ._names import MAX_NAME, MAX_TEXT, cut_text, name_hash, param_text, safe_name
from ._protocol import RUN_STATUSES

__all__ = ["MlflowTracker"]

#: MLflow's limits (mlflow.utils.validation): items per ``log_batch`` call, tag value length.
MAX_PARAMS_PER_CALL = 100
MAX_METRICS_PER_CALL = 1000
MAX_TAG_TEXT = 8000
_DB_NAME = "mlflow.db"
_ARTIFACTS = "mlruns"  # MLflow's own name for the artifact folder next to a local store
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:")  # two letters at least: not a drive "C:"
_NOLOAD = "The ``noload`` loader strategy is deprecated"
_MAX_PART = 200  # characters of a file or folder name (a suffix and a hash still fit in 255)
_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                      *(f"LPT{i}" for i in range(1, 10))})
_PROBE_SECONDS = 10  # how long connecting to an http(s) store may take before it is refused


def _import_mlflow() -> Any:
    try:
        import mlflow
    except ImportError as exc:
        raise MissingDependencyError(
            'MlflowTracker needs MLflow, which is not installed: pip install "mllife[mlflow]"'
        ) from exc
    return mlflow


@contextlib.contextmanager
def _quiet_store() -> Iterator[None]:
    """Silence exactly MLflow's own SQLAlchemy deprecation, raised while a store opens.

    MLflow's SQLite store declares a ``noload`` relationship that SQLAlchemy 2.1
    deprecates: not the user's code nor ours, and a user running with
    ``-W error`` must not be broken by it.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_NOLOAD)
        yield


def _local_sqlite_path(uri: str) -> Path | None:
    """The database file of a local ``sqlite:///`` URI, else None (a server, in memory)."""
    if not uri.startswith("sqlite:///"):
        return None
    path = unquote(uri[len("sqlite:///"):]).split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    return Path(path if os.path.isabs(path) or uri.startswith("sqlite:////") else
                os.path.abspath(path))


def _portable_part(part: str) -> str:
    """A path part every file system takes, Windows' included.

    No ``:`` (a drive, or an NTFS stream), no trailing dot or space (Windows
    drops them), no device name (``CON``, ``aux.csv``, ``COM1.txt``), at most
    :data:`_MAX_PART` characters.
    """
    text = part.replace(":", "_")
    if text != text.rstrip(". "):
        text = text.rstrip(". ") + "_"
    if text.split(".")[0].rstrip(" ").upper() in _DEVICES:
        text = "_" + text
    if len(text) > _MAX_PART:
        text = text[:_MAX_PART - 9] + "-" + name_hash(part)
    return text


def _store_errors() -> tuple[type[Exception], ...]:
    """What opening a store raises besides ``MlflowException``: OS and SQLAlchemy errors."""
    try:
        from sqlalchemy.exc import SQLAlchemyError
    except ImportError:  # pragma: no cover - mlflow-skinny: no SQL store at all
        return (OSError,)
    return (OSError, SQLAlchemyError)


def _check_server(uri: str) -> None:
    """Refuse at once an ``http(s)`` store where nothing answers.

    MLflow's client retries a request that cannot connect for about four
    minutes (``MLFLOW_HTTP_REQUEST_MAX_RETRIES``, made for rate limits):
    one connection attempt of at most :data:`_PROBE_SECONDS` comes first.
    Only a failure to connect counts; TLS, redirects, status codes and slow
    answers are left to MLflow.
    """
    if not uri.lower().startswith(("http://", "https://")):
        return
    import requests

    try:
        requests.get(uri.rstrip("/") + "/health", timeout=(_PROBE_SECONDS, _PROBE_SECONDS),
                     allow_redirects=False).close()
    except requests.exceptions.SSLError:
        return
    except requests.exceptions.ConnectionError as exc:
        raise InputError(f"MlflowTracker: nothing answers at {uri!r} "
                         f"({type(exc).__name__}: {str(exc)[:300]})",
                         expected="the URI of a running MLflow tracking server") from None
    except requests.exceptions.RequestException:
        return


def _resolve_uri(tracking_uri: str | os.PathLike[str] | None, mlflow: Any) -> str:
    if tracking_uri is None:
        return str(mlflow.get_tracking_uri())   # MLflow's own resolution; sets nothing
    text = os.fspath(tracking_uri)
    if isinstance(tracking_uri, str) and (_SCHEME.match(text) or text == "databricks"):
        return text
    path = Path(text).expanduser().absolute()
    if path.suffix != ".db" or path.is_dir():
        path = path / _DB_NAME
    return "sqlite:///" + path.as_posix()


class MlflowTracker:
    """A :class:`~mllife.tracking.Tracker` writing to an MLflow tracking store.

    Parameters
    ----------
    experiment : str, optional
        The MLflow experiment the runs go to; created when missing. None:
        MLflow's ``"Default"`` experiment.
    tracking_uri : str or path-like, optional
        Where the store is. A URI (``"sqlite:///path/mlflow.db"``,
        ``"http://host:5000"``, ``"postgresql://..."``, ``"databricks"``) is
        given to MLflow as it is. A path (a ``str`` without a scheme, or a
        ``pathlib.Path``) is a local SQLite store: a folder holds
        ``<folder>/mlflow.db``, a path ending in ``.db`` is the database file.
        None: MLflow's own resolution, the ``MLFLOW_TRACKING_URI`` environment
        variable, else MLflow 3's embedded default ``sqlite:///mlflow.db`` in
        the working directory (``mlflow ui`` started there shows the runs).

    Attributes
    ----------
    tracking_uri : str
        The resolved store URI.
    experiment : str
        The experiment's name.
    experiment_id : str
        The experiment's id.
    client : mlflow.MlflowClient
        The client every call goes through (for reading runs back).
    last_run_id : str or None
        The id of the last top-level run this tracker opened: after
        ``compare_models(..., tracker=...)`` its parent run (a nested run, one
        per candidate, does not change it).

    Raises
    ------
    MissingDependencyError
        If MLflow is not installed (``pip install "mllife[mlflow]"``).
    InputError
        If ``experiment`` is not a string or is a name MLflow refuses (empty,
        over 500 characters), if it names a deleted experiment, if
        ``tracking_uri`` is not a string or path (or is empty), if the store
        cannot be opened (a file that is not a database, a folder where a file
        is, no permission), or if nothing answers at an ``http(s)`` URI: one
        connection attempt of at most 10 seconds comes first, where MLflow's
        client would retry for about four minutes.

    Notes
    -----
    *Artifacts of a local SQLite store* go to ``mlruns/`` next to the database
    file: for a new database mllife creates, the ``Default`` experiment's too
    (so ``MlflowTracker(tracking_uri=folder)`` writes only inside ``folder``),
    and for every experiment mllife creates (``mlruns/<8 hex digits of the
    name>``). A store on a server keeps its own artifact root.

    *Names* are made MLflow-safe: characters outside ``[A-Za-z0-9_-. :/]``
    become ``_``, empty or dot-only ``/`` parts are dropped (no leading ``/``,
    no ``..``), a name over 250 characters is cut and ends with ``-`` and 8 hex
    digits of its hash; a name that clashes after cleaning with another name of
    the same run (``"a%b"`` and ``"a_b"``) gets that suffix too. Param values
    are cut to MLflow's 6000 characters, tag values to 8000, ending with
    ``…[cut]``. Artifact paths are cleaned the same way and made portable: no
    ``:`` (on Windows, ``C:x`` would leave the run's folder), no Windows
    device name (``CON``, ``aux.csv`` get a leading ``_``), no trailing dot or
    space; a path that would overwrite another name's file in the run (or
    put a file where a folder is) gets the hash suffix before its extension.
    Batches are split to MLflow's limits (100 params or tags, 1000 metrics
    per call). Non-finite metrics are refused (``log_report`` and the
    analyses drop them before they get here and list them). MLflow's
    filesystem store (``file:`` URIs) is refused by MLflow 3 itself unless
    ``MLFLOW_ALLOW_FILE_STORE=true``.

    Every run gets the tag ``mllife.version``; a nested run gets MLflow's
    ``mlflow.parentRunId``, which the MLflow UI shows as nesting.

    A tracker pickles (a worker process, a copied dataclass): the copy opens
    the same store with a client of its own.

    Examples
    --------
    A store in a folder (here a temporary one), a parent run and a nested run:

    >>> import tempfile
    >>> import pandas as pd
    >>> from mllife.tracking import MlflowTracker
    >>> tracker = MlflowTracker("churn", tracking_uri=tempfile.mkdtemp())
    >>> tracker.tracking_uri.endswith("/mlflow.db")
    True
    >>> parent = tracker.start_run("compare")
    >>> run_id = tracker.start_run("forest", parent_run_id=parent, tags={"role": "candidate"})
    >>> tracker.log_params(run_id, {"n_estimators": 100, "a%b": "1", "classes": list(range(5000))})
    >>> for step, share in enumerate([0.1, 0.4]):
    ...     tracker.log_metrics(run_id, {"drift.share": share, "alarm": share > 0.3}, step=step)
    >>> tracker.set_tags(run_id, {"mllife.note": "try depth 5?"})
    >>> tracker.log_table(run_id, "tables/scores", pd.DataFrame({"model": ["a"], "auc": [0.7]}))
    >>> tracker.log_artifact(run_id, "notes/idea.txt", b"try depth 5")
    >>> tracker.end_run(run_id, status="FAILED")
    >>> tracker.end_run(parent)

    Everything reads back through MLflow's own client:

    >>> run = tracker.client.get_run(run_id)
    >>> run.info.status, run.data.tags["mlflow.parentRunId"] == parent, run.data.tags["role"]
    ('FAILED', True, 'candidate')
    >>> run.data.metrics
    {'drift.share': 0.4, 'alarm': 1.0}
    >>> [(m.step, m.value) for m in tracker.client.get_metric_history(run_id, "alarm")]
    [(0, 0.0), (1, 1.0)]
    >>> run.data.params["a_b"], len(run.data.params["classes"]), run.data.params["classes"][-6:]
    ('1', 6000, '…[cut]')
    >>> sorted(f.path for f in tracker.client.list_artifacts(run_id, "tables"))
    ['tables/scores.csv', 'tables/scores.json']
    """

    def __init__(self, experiment: str | None = None,
                 tracking_uri: str | os.PathLike[str] | None = None) -> None:
        if experiment is not None and not isinstance(experiment, str):
            raise InputError(f"MlflowTracker: experiment is a {type(experiment).__name__}",
                             expected="an experiment name (a string) or None")
        if tracking_uri is not None and not isinstance(tracking_uri, str | os.PathLike):
            raise InputError(f"MlflowTracker: tracking_uri is a {type(tracking_uri).__name__}",
                             expected="a URI or a path (a string or os.PathLike) or None")
        if tracking_uri is not None and not os.fspath(tracking_uri).strip():
            raise InputError("MlflowTracker: tracking_uri is empty",
                             expected="a URI, a folder or a .db file, or None for MLflow's "
                                      "default store")
        mlflow = _import_mlflow()
        from mlflow.exceptions import MlflowException

        self.tracking_uri = _resolve_uri(tracking_uri, mlflow)
        db_file = _local_sqlite_path(self.tracking_uri)
        self._artifact_root = None if db_file is None else db_file.parent / _ARTIFACTS
        _check_server(self.tracking_uri)
        try:
            with _quiet_store():
                if db_file is not None and not db_file.exists():
                    self._create_database(db_file, db_file.parent / _ARTIFACTS)
                self.client = mlflow.MlflowClient(tracking_uri=self.tracking_uri)
                self.experiment_id, self.experiment = self._experiment(experiment)
        except MlflowException as exc:
            raise InputError(f"MlflowTracker: MLflow refused the store {self.tracking_uri!r}: "
                             f"{exc.message}", expected="a tracking_uri MLflow can open") from exc
        except _store_errors() as exc:  # not a folder, no permission, not a database
            raise InputError(f"MlflowTracker: cannot open the store {self.tracking_uri!r}: "
                             f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}",
                             expected="a tracking_uri MLflow can open (a folder, a new .db "
                                      "file or one MLflow made)") from exc
        self.last_run_id: str | None = None
        # per run and kind (params, metrics, tags): the MLflow key given to each name
        self._keys: dict[tuple[str, str], dict[str, str]] = {}
        # per run: artifact file -> the name it was logged under, and the folders made
        self._files: dict[str, tuple[dict[str, str], set[str]]] = {}

    def _create_database(self, db_file: Path, artifacts: Path) -> None:
        """Create a new local store whose ``Default`` experiment keeps artifacts beside it.

        MLflow's client would put them in ``./mlruns`` of the working directory; the
        store class takes the folder. Should a future MLflow move that class, the
        client creates the store as MLflow does.
        """
        db_file.parent.mkdir(parents=True, exist_ok=True)
        try:
            from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
        except ImportError:  # pragma: no cover - MLflow moved its store class
            return
        SqlAlchemyStore(self.tracking_uri, artifacts.as_uri())

    def _experiment(self, name: str | None) -> tuple[str, str]:
        from mlflow.exceptions import MlflowException

        if name is None:
            found = self.client.get_experiment("0")
            return str(found.experiment_id), str(found.name)
        found = self.client.get_experiment_by_name(name)
        if found is None:
            location = (None if self._artifact_root is None
                        else (self._artifact_root / name_hash(name)).as_uri())
            try:
                return self.client.create_experiment(name, artifact_location=location), name
            except MlflowException as exc:
                found = self.client.get_experiment_by_name(name)   # made meanwhile elsewhere?
                if found is None:
                    raise InputError(
                        f"MlflowTracker: MLflow refused the experiment name {name!r}: "
                        f"{exc.message}", expected="a non-empty name of at most 500 characters",
                    ) from exc
        if found.lifecycle_stage == "deleted":
            raise InputError(
                f"MlflowTracker: the experiment {name!r} (id {found.experiment_id}) is deleted "
                "and MLflow keeps its name", expected="another name, or the experiment restored "
                f"with MlflowClient.restore_experiment({found.experiment_id!r})")
        return str(found.experiment_id), name

    def __repr__(self) -> str:
        return (f"MlflowTracker(experiment={self.experiment!r}, "
                f"tracking_uri={self.tracking_uri!r})")

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without its client: another process opens the store itself."""
        state = self.__dict__.copy()
        state.pop("client", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """A new client on the same store, opened as ``__init__`` opens it (quietly)."""
        self.__dict__.update(state)
        mlflow = _import_mlflow()
        with _quiet_store():
            if "sql" in self.tracking_uri.split(":", 1)[0].lower():   # sqlite, postgresql...
                # MLflow's SQL store declares its tables (and SQLAlchemy warns) on import
                with contextlib.suppress(ImportError):
                    import mlflow.store.tracking.sqlalchemy_store
            self.client = mlflow.MlflowClient(tracking_uri=self.tracking_uri)

    # ---- names -----------------------------------------------------------------
    def _mlflow_keys(self, run_id: str, kind: str, names: list[str]) -> dict[str, str]:
        """The MLflow key of each name: :func:`safe_name`, kept apart from the run's others."""
        given = self._keys.setdefault((run_id, kind), {})
        taken = set(given.values())
        out: dict[str, str] = {}
        fresh = [n for n in dict.fromkeys(names) if n not in given]
        # a name that is already clean keeps its text; cleaned ones yield to it
        fresh.sort(key=lambda n: safe_name(n) != n)
        for name in fresh:
            key = safe_name(name)
            attempt = 0
            while key in taken:
                tail = "-" + name_hash(name if attempt == 0 else f"{name}\x00{attempt}")
                key = safe_name(name)[: MAX_NAME - len(tail)].rstrip("/") + tail
                attempt += 1
            given[name] = key
            taken.add(key)
        for name in names:
            out[name] = given[name]
        return out

    @staticmethod
    def _run_id(run_id: Any) -> str:
        if not isinstance(run_id, str) or not run_id:
            raise InputError(f"MlflowTracker: run_id is {run_id!r}",
                             expected="the id (a string) start_run returned")
        return run_id

    @staticmethod
    def _mapping(value: Any, what: str) -> Mapping[Any, Any]:
        if not isinstance(value, Mapping):
            raise InputError(f"MlflowTracker: {what} is a {type(value).__name__}",
                             expected="a mapping of names to values")
        return value

    # ---- runs ------------------------------------------------------------------
    def start_run(self, name: str, *, parent_run_id: str | None = None,
                  tags: Mapping[str, str] | None = None) -> str:
        """Open a run in :attr:`experiment` and return its id.

        Parameters
        ----------
        name : str
            The run's name (cut to 250 characters).
        parent_run_id : str, optional
            Nest the run under this one (MLflow's ``mlflow.parentRunId`` tag).
        tags : mapping of str to str, optional
            Tags set when the run opens; ``mllife.version`` is always added.

        Returns
        -------
        str
            The run id.

        """
        if not isinstance(name, str):
            raise InputError(f"MlflowTracker.start_run: name is a {type(name).__name__}",
                             expected="a run name (a string)")
        if parent_run_id is not None:
            self._run_id(parent_run_id)
        given = dict(self._mapping(tags, "tags")) if tags is not None else {}
        run = self.client.create_run(self.experiment_id, run_name=cut_text(name, MAX_NAME))
        run_id = str(run.info.run_id)
        if parent_run_id is None:  # the run a user looks for: not one of its children
            self.last_run_id = run_id
        extra = {"mllife.version": __version__}
        if parent_run_id is not None:
            extra["mlflow.parentRunId"] = parent_run_id
        try:
            self.set_tags(run_id, {**given, **extra})
        except Exception:
            # the caller never gets this id to end the run with: end it here
            with contextlib.suppress(Exception):
                self.client.set_terminated(run_id, status="FAILED")
            raise
        return run_id

    def end_run(self, run_id: str, *, status: str = "FINISHED") -> None:
        """Close a run with ``status`` (``"FINISHED"``, ``"FAILED"`` or ``"KILLED"``).

        """
        run_id = self._run_id(run_id)
        if status not in RUN_STATUSES:
            raise InputError(f"MlflowTracker.end_run: status is {status!r}",
                             expected=" or ".join(repr(s) for s in RUN_STATUSES))
        self.client.set_terminated(run_id, status=status)
        for kind in ("params", "metrics", "tags"):
            self._keys.pop((run_id, kind), None)
        self._files.pop(run_id, None)

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Record params: names made MLflow-safe, values as text cut to 6000 characters.

        """
        from mlflow.entities import Param

        run_id = self._run_id(run_id)
        params = self._mapping(params, "params")
        keys = self._mlflow_keys(run_id, "params", [str(k) for k in params])
        items = [Param(keys[str(k)], param_text(v, max_length=MAX_TEXT))
                 for k, v in params.items()]
        for start in range(0, len(items), MAX_PARAMS_PER_CALL):
            self.client.log_batch(run_id, params=items[start:start + MAX_PARAMS_PER_CALL])

    def log_metrics(self, run_id: str, metrics: Mapping[str, float], *, step: int = 0) -> None:
        """Record finite numbers at ``step``; booleans and numpy scalars become floats.

        Raises
        ------
        InputError
            If a value is not a number or not finite (NaN, inf): MLflow would
            store inf as the largest float, a number nobody measured.

        """
        from mlflow.entities import Metric

        run_id = self._run_id(run_id)
        metrics = self._mapping(metrics, "metrics")
        if isinstance(step, bool) or not isinstance(step, int | np.integer):
            raise InputError(f"MlflowTracker.log_metrics: step is {step!r}",
                             expected="an integer")
        values: dict[str, float] = {}
        for name, value in metrics.items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise InputError(f"MlflowTracker.log_metrics: metric {str(name)!r} is "
                                 f"a {type(value).__name__}", expected="a number") from None
            if not np.isfinite(number):
                raise InputError(f"MlflowTracker.log_metrics: metric {str(name)!r} is {number}",
                                 expected="a finite number (log_report drops and lists "
                                          "non-finite ones)")
            values[str(name)] = number
        keys = self._mlflow_keys(run_id, "metrics", list(values))
        stamp = int(time.time() * 1000)
        items = [Metric(keys[k], v, stamp, int(step)) for k, v in values.items()]
        for start in range(0, len(items), MAX_METRICS_PER_CALL):
            self.client.log_batch(run_id, metrics=items[start:start + MAX_METRICS_PER_CALL])

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Record tags: names made MLflow-safe, values as text cut to 8000 characters.

        """
        from mlflow.entities import RunTag

        run_id = self._run_id(run_id)
        tags = self._mapping(tags, "tags")
        keys = self._mlflow_keys(run_id, "tags", [str(k) for k in tags])
        items = [RunTag(keys[str(k)], param_text(v, max_length=MAX_TAG_TEXT))
                 for k, v in tags.items()]
        for start in range(0, len(items), MAX_PARAMS_PER_CALL):
            self.client.log_batch(run_id, tags=items[start:start + MAX_PARAMS_PER_CALL])

    # ---- files -----------------------------------------------------------------
    def _artifact_path(self, run_id: str, name: Any, suffixes: tuple[str, ...],
                       what: str) -> str:
        """Where ``name`` (+ each suffix) goes: safe, portable, apart from the run's other files.

        :func:`safe_name` made portable (:func:`_portable_part`); a name whose files
        would overwrite another name's (``a%b`` and ``a_b``), or take the place of a
        folder (or need a folder where a file is), gets :func:`name_hash` before
        its extension. The same name again is the same file.
        """
        if not isinstance(name, str) or not name.strip("/ "):
            raise InputError(f"MlflowTracker.{what}: name is {name!r}",
                             expected="a relative path such as 'tables/scores'")
        files, folders = self._files.setdefault(run_id, ({}, set()))
        parts = [_portable_part(part) for part in safe_name(name).split("/")]
        for attempt in itertools.count(1):
            path = "/".join(parts)
            taken = any(files.get(path + s, name + s) != name + s or path + s in folders
                        for s in suffixes)
            under_file = [i for i in range(1, len(parts)) if "/".join(parts[:i]) in files]
            if not taken and not under_file:
                break
            at = under_file[0] - 1 if under_file else len(parts) - 1
            tail = "-" + name_hash(name if attempt == 1 else f"{name}\x00{attempt}")
            stem, dot, ext = parts[at].rpartition(".")
            keep_ext = at == len(parts) - 1 and suffixes == ("",) and stem.strip(".")
            parts[at] = f"{stem}{tail}{dot}{ext}" if keep_ext else parts[at] + tail
        files.update({path + s: name + s for s in suffixes})
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
        return path

    def _upload(self, run_id: str, files: Mapping[str, bytes], artifact_path: str | None) -> None:
        with tempfile.TemporaryDirectory(prefix="mllife-tracking-") as folder:
            for leaf, data in files.items():
                local = Path(folder, leaf)
                local.write_bytes(data)
                self.client.log_artifact(run_id, str(local), artifact_path=artifact_path)

    def log_table(self, run_id: str, name: str, frame: pd.DataFrame) -> None:
        """Store a DataFrame as ``<name>.csv`` and ``<name>.json`` (a list of records).

        The CSV has no index column; the JSON has ``null`` for NaN and ISO text
        for timestamps, as in ``Report.to_dict()["tables"]``.

        """
        run_id = self._run_id(run_id)
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"MlflowTracker.log_table: frame is a {type(frame).__name__}",
                             expected="a pandas DataFrame")
        path = self._artifact_path(run_id, name, (".csv", ".json"), "log_table")
        folder, _, leaf = path.rpartition("/")
        records = json.dumps(jsonable(frame), allow_nan=False, ensure_ascii=False)
        self._upload(run_id, {f"{leaf}.csv": frame.to_csv(index=False).encode("utf-8"),
                              f"{leaf}.json": records.encode("utf-8")}, folder or None)

    def log_artifact(self, run_id: str, name: str, data: bytes) -> None:
        """Store ``data`` as the file ``name`` (a relative path, made MLflow-safe).

        """
        run_id = self._run_id(run_id)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InputError(f"MlflowTracker.log_artifact: data is a {type(data).__name__}",
                             expected="bytes")
        path = self._artifact_path(run_id, name, ("",), "log_artifact")
        folder, _, leaf = path.rpartition("/")
        self._upload(run_id, {leaf: bytes(data)}, folder or None)
