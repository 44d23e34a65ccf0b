"""The :class:`Tracker` protocol: what an experiment-tracking backend implements.

Runs are addressed by explicit ids: there is no "active run", no process-wide
state, so two trackers (or two threads) never see each other's runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["RUN_STATUSES", "Tracker"]

#: The statuses a run can end with.
RUN_STATUSES = ("FINISHED", "FAILED", "KILLED")


@runtime_checkable
class Tracker(Protocol):
    """An experiment-tracking backend: runs with params, metrics, tags, tables and files.

    Any object with these seven methods is a tracker (a structural protocol:
    no base class to inherit). :class:`~mllife.tracking.MlflowTracker` is the
    built-in one; another backend (a database, a test double, Weights & Biases)
    plugs in by implementing them.

    mllife calls a tracker with flat string names (``"test.roc_auc"``), string
    param values and *finite* float metrics only: non-finite numbers are dropped
    before the call and listed in the run's ``summary.json`` and its tag
    ``mllife.nonfinite_metrics``. Each backend maps names to its own constraints
    (allowed characters, lengths, batch sizes) and says how in its docs.

    Methods
    -------
    start_run(name, *, parent_run_id=None, tags=None) -> str
        Open a run named ``name`` (nested under ``parent_run_id`` when given)
        and return its id.
    end_run(run_id, *, status="FINISHED") -> None
        Close the run with ``"FINISHED"`` or ``"FAILED"`` (``"KILLED"`` too).
    log_params(run_id, params) -> None
        Record settings: a mapping of name to string value.
    log_metrics(run_id, metrics, *, step=0) -> None
        Record numbers: a mapping of name to float, at ``step`` (a window, an
        epoch) for a series.
    set_tags(run_id, tags) -> None
        Record labels: a mapping of name to string.
    log_table(run_id, name, frame) -> None
        Store a DataFrame under ``name`` (a relative path without suffix, such
        as ``"tables/scores"``); the backend picks the file format(s).
    log_artifact(run_id, name, data) -> None
        Store ``data`` (bytes) as the file ``name`` (a relative path such as
        ``"report.html"``).

    Examples
    --------
    A tracker that keeps everything in memory:

    >>> import itertools
    >>> from mllife.tracking import Tracker
    >>> class MemoryTracker:
    ...     def __init__(self):
    ...         self.runs, self._ids = {}, itertools.count()
    ...     def start_run(self, name, *, parent_run_id=None, tags=None):
    ...         run_id = str(next(self._ids))
    ...         self.runs[run_id] = {"name": name, "parent": parent_run_id,
    ...                              "tags": dict(tags or {}), "params": {},
    ...                              "metrics": {}, "files": {}, "status": "RUNNING"}
    ...         return run_id
    ...     def end_run(self, run_id, *, status="FINISHED"):
    ...         self.runs[run_id]["status"] = status
    ...     def log_params(self, run_id, params):
    ...         self.runs[run_id]["params"].update(params)
    ...     def log_metrics(self, run_id, metrics, *, step=0):
    ...         self.runs[run_id]["metrics"].update(metrics)
    ...     def set_tags(self, run_id, tags):
    ...         self.runs[run_id]["tags"].update(tags)
    ...     def log_table(self, run_id, name, frame):
    ...         self.runs[run_id]["files"][name + ".csv"] = frame.to_csv(index=False).encode()
    ...     def log_artifact(self, run_id, name, data):
    ...         self.runs[run_id]["files"][name] = bytes(data)
    >>> isinstance(MemoryTracker(), Tracker)
    True
    >>> isinstance(object(), Tracker)
    False
    """

    def start_run(self, name: str, *, parent_run_id: str | None = None,
                  tags: Mapping[str, str] | None = None) -> str:
        """Open a run and return its id."""
        ...

    def end_run(self, run_id: str, *, status: str = "FINISHED") -> None:
        """Close a run with ``status`` (``"FINISHED"``, ``"FAILED"`` or ``"KILLED"``)."""
        ...

    def log_params(self, run_id: str, params: Mapping[str, str]) -> None:
        """Record string params."""
        ...

    def log_metrics(self, run_id: str, metrics: Mapping[str, float], *, step: int = 0) -> None:
        """Record float metrics at ``step``."""
        ...

    def set_tags(self, run_id: str, tags: Mapping[str, str]) -> None:
        """Record string tags."""
        ...

    def log_table(self, run_id: str, name: str, frame: pd.DataFrame) -> None:
        """Store a DataFrame under ``name`` (a relative path without suffix)."""
        ...

    def log_artifact(self, run_id: str, name: str, data: bytes) -> None:
        """Store ``data`` as the file ``name`` (a relative path)."""
        ...
