"""A tracker that records every call: the second backend of the tracking tests.

It really implements :class:`mllife.tracking.Tracker` (no mock) and is strict where a
real backend is: it refuses calls on an unknown or ended run, param values that are not
text and metrics that are not finite floats (mllife promises to drop those first).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression


@dataclass
class RecordedRun:
    name: str
    parent: str | None
    tags: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[tuple[str, float, int]] = field(default_factory=list)   # (name, value, step)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)
    status: str = "RUNNING"

    def last_metrics(self) -> dict[str, float]:
        """Each metric's last value at step 0."""
        return {name: value for name, value, step in self.metrics if step == 0}


class RecordingTracker:
    """Keeps every run in :attr:`runs` (by id, in opening order) and every call in :attr:`calls`."""

    def __init__(self) -> None:
        self.runs: dict[str, RecordedRun] = {}
        self.calls: list[tuple[str, str]] = []   # (method, run id or run name)

    def _open(self, run_id: str) -> RecordedRun:
        run = self.runs[run_id]   # KeyError: an unknown run
        if run.status != "RUNNING":
            raise RuntimeError(f"run {run_id} is already {run.status}")
        return run

    def start_run(self, name, *, parent_run_id=None, tags=None):
        assert isinstance(name, str)
        if parent_run_id is not None:
            self._open(parent_run_id)
        run_id = f"run-{len(self.runs)}"
        self.calls.append(("start_run", name))
        self.runs[run_id] = RecordedRun(name, parent_run_id, dict(tags or {}))
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in self.runs[run_id].tags.items())
        return run_id

    def end_run(self, run_id, *, status="FINISHED"):
        self.calls.append(("end_run", run_id))
        assert status in ("FINISHED", "FAILED", "KILLED")
        self._open(run_id).status = status

    def log_params(self, run_id, params: Mapping[str, str]):
        self.calls.append(("log_params", run_id))
        run = self._open(run_id)
        for key, value in params.items():
            if not (isinstance(key, str) and isinstance(value, str)):
                raise TypeError(f"param {key!r}={value!r} is not text")
            run.params[key] = value

    def log_metrics(self, run_id, metrics: Mapping[str, float], *, step=0):
        self.calls.append(("log_metrics", run_id))
        run = self._open(run_id)
        for key, value in metrics.items():
            if not (isinstance(key, str) and type(value) is float and math.isfinite(value)):
                raise ValueError(f"metric {key!r}={value!r} is not a finite float")
            run.metrics.append((key, value, step))

    def set_tags(self, run_id, tags: Mapping[str, str]):
        self.calls.append(("set_tags", run_id))
        run = self._open(run_id)
        for key, value in tags.items():
            assert isinstance(key, str)
            assert isinstance(value, str)
            run.tags[key] = value

    def log_table(self, run_id, name, frame):
        self.calls.append(("log_table", run_id))
        assert isinstance(frame, pd.DataFrame)
        self._open(run_id).tables[name] = frame.copy()

    def log_artifact(self, run_id, name, data):
        self.calls.append(("log_artifact", run_id))
        assert isinstance(data, bytes)
        self._open(run_id).artifacts[name] = data


class FailingTracker(RecordingTracker):
    """Raises ``OSError`` on the ``after``-th call (counting from 0) of ``method``; records the rest."""

    def __init__(self, method: str, after: int = 0) -> None:
        super().__init__()
        self.method, self.after, self.seen = method, after, 0

    def _maybe_fail(self, method: str) -> None:
        if method == self.method:
            self.seen += 1
            if self.seen - 1 == self.after:
                raise OSError(f"planted failure in {method}")

    def start_run(self, name, *, parent_run_id=None, tags=None):
        self._maybe_fail("start_run")
        return super().start_run(name, parent_run_id=parent_run_id, tags=tags)

    def end_run(self, run_id, *, status="FINISHED"):
        self._maybe_fail("end_run")
        super().end_run(run_id, status=status)

    def log_params(self, run_id, params):
        self._maybe_fail("log_params")
        super().log_params(run_id, params)

    def log_metrics(self, run_id, metrics, *, step=0):
        self._maybe_fail("log_metrics")
        super().log_metrics(run_id, metrics, step=step)

    def set_tags(self, run_id, tags):
        self._maybe_fail("set_tags")
        super().set_tags(run_id, tags)

    def log_table(self, run_id, name, frame):
        self._maybe_fail("log_table")
        super().log_table(run_id, name, frame)

    def log_artifact(self, run_id, name, data):
        self._maybe_fail("log_artifact")
        super().log_artifact(run_id, name, data)


class FailsOnMarkedRow(LogisticRegression):
    """Fails in the folds whose training rows hold the row marked ``mark`` (some folds only)."""

    def __init__(self, mark=0.0, C=1.0):
        self.mark = mark
        super().__init__(C=C)

    def fit(self, X, y, sample_weight=None):
        if np.any(np.asarray(X)[:, 0] == self.mark):
            raise RuntimeError("planted failure: the marked row is in this fold")
        return super().fit(X, y)
