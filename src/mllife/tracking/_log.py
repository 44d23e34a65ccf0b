"""Logging a report to a tracker: :func:`log_report` (public) and ``track`` (for analyses).

Both log the same run: :func:`~mllife.tracking._extract.extract`'s headline
numbers, series, settings and tags, counts of findings by severity, every table
(CSV and JSON), the findings (JSON), the self-contained HTML and a
``summary.json`` of every headline number (non-finite ones as ``null``), with
one nested run per child (a comparison's candidates). :func:`log_report`
raises :class:`~mllife.TrackingError` when the tracker fails; ``track`` turns
the failure into one :class:`~mllife.TrackingWarning` and never loses the
analysis's report.
"""

from __future__ import annotations

import contextlib
import json
import math
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._errors import InputError, TrackingError, TrackingWarning, user_stacklevel
from ..report import SEVERITIES, Report, jsonable
from ._names import flatten, param_text
from ._protocol import Tracker

if TYPE_CHECKING:
    from ._extract import Extracted

__all__ = ["check_tracker", "log_report", "track"]

_METHODS = ("start_run", "end_run", "log_params", "log_metrics", "set_tags", "log_table",
            "log_artifact")
_MAX_LISTED = 5000  # characters of the tag listing non-finite metrics
#: A longer note is also kept whole as ``note.txt`` (a backend may cut a tag: MLflow at 8000).
_MAX_NOTE_TAG = 5000


def check_tracker(tracker: Any) -> Tracker | None:
    """``tracker`` if it is a :class:`~mllife.tracking.Tracker` (or None), else an error.

    The analyses call it before they run, so a bad ``tracker=`` fails at once,
    not after minutes of work.

    Raises
    ------
    InputError
        If ``tracker`` is a class (not an instance) or lacks a method of the
        protocol; the message names the missing methods.

    Examples
    --------
    >>> check_tracker(None) is None
    True
    >>> check_tracker("mlflow")
    Traceback (most recent call last):
    ...
    mllife._errors.InputError: tracker is a str, which has no start_run, ...
    """
    if tracker is None:
        return None
    if isinstance(tracker, type):
        raise InputError(f"tracker is the class {tracker.__name__}, not an instance",
                         expected=f"a tracker object such as {tracker.__name__}(...)")
    missing = [m for m in _METHODS if not callable(getattr(tracker, m, None))]
    if missing or not isinstance(tracker, Tracker):
        raise InputError(
            f"tracker is a {type(tracker).__name__}, which has no {', '.join(missing)}",
            expected="a mllife.tracking.Tracker such as MlflowTracker(...) "
                     f"(an object with {', '.join(_METHODS)})")
    return tracker


def _split_finite(metrics: Mapping[str, Any], prefix: str) -> tuple[dict[str, float],
                                                                    dict[str, float]]:
    """(finite, non-finite) metrics, names prefixed."""
    finite: dict[str, float] = {}
    other: dict[str, float] = {}
    for name, value in metrics.items():
        number = float(value)
        (finite if math.isfinite(number) else other)[prefix + str(name)] = number
    return finite, other


def _listed(names: list[str]) -> str:
    text = ", ".join(names)
    return text if len(text) <= _MAX_LISTED else text[:_MAX_LISTED - 12] + f"… ({len(names)})"


class _Logger:
    """One report's run (and its children) on one tracker; remembers the runs it opened."""

    def __init__(self, tracker: Tracker, report: Report, extracted: Extracted, *,
                 run_name: str, prefix: str, note: str | None,
                 params: Mapping[str, str], child_params: Mapping[str, Mapping[str, str]]):
        self.tracker, self.report, self.extracted = tracker, report, extracted
        self.run_name, self.prefix, self.note = run_name, prefix, note
        self.params, self.child_params = params, child_params
        self.open_runs: list[str] = []   # innermost last
        self.seen_runs: set[str] = set()
        self.run_id: str | None = None
        self.step = "start_run"           # the call under way, named in errors
        self._prepared: dict[str, Any] = {}

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        self.step = method
        return getattr(self.tracker, method)(*args, **kwargs)

    def _start(self, name: str, **kwargs: Any) -> str:
        """``start_run``, checking it returned a run id this logger has not seen."""
        run_id = self._call("start_run", name, **kwargs)
        if not isinstance(run_id, str) or not run_id:
            raise TypeError(f"start_run returned {run_id!r}, not a run id (a non-empty string)")
        if run_id in self.seen_runs:
            raise ValueError(f"start_run returned the run id {run_id!r} again, for a new run")
        self.seen_runs.add(run_id)
        self.open_runs.append(run_id)
        return run_id

    def prepare(self) -> None:
        """Everything the report gives (numbers, tags, tables, files), before any tracker call.

        A report that fails here (a user's ``to_html`` that raises) is not the
        tracker's failure, and no run is left half-written.
        """
        ex, prefix = self.extracted, self.prefix
        metrics, bad = _split_finite(ex.metrics, prefix)
        step_bad: list[str] = []
        steps: list[tuple[int, dict[str, float]]] = []
        for step, values in ex.steps:
            good, nonfinite = _split_finite(values, prefix)
            steps.append((int(step), good))
            step_bad += [f"{name}@{step}" for name in nonfinite]
        counts = self.report.severity_counts()
        tags = {**ex.tags, "mllife.report": type(self.report).__name__,
                **{f"mllife.findings.{s}": str(counts.get(s, 0)) for s in SEVERITIES}}
        if self.note is not None:
            tags["mllife.note"] = self.note
        if bad or step_bad:
            tags["mllife.nonfinite_metrics"] = _listed([*bad, *step_bad])
        data = self.report.to_dict()
        frames = self.report._tables()
        tables = {}
        for name in data["tables"]:
            frame = next(f for k, f in frames.items() if str(k) == name)
            tables[f"tables/{name}"] = (frame.reset_index(drop=True)
                                        if isinstance(frame, pd.DataFrame)
                                        else pd.DataFrame(data["tables"][name]))
        self._prepared = {
            "tags": tags, "metrics": metrics, "steps": steps, "tables": tables,
            "findings": _json(data["findings"]),
            "summary": _json(self._summary(bad, step_bad)),
            "html": self.report.to_html().encode("utf-8"),
            # a long note whole: a backend may cut the tag (MLflow keeps 8000 characters)
            "note": None if self.note is None or len(self.note) <= _MAX_NOTE_TAG
            else self.note.encode("utf-8", "surrogatepass"),
        }

    def run(self) -> str:
        if not self._prepared:
            self.prepare()
        ex, ready = self.extracted, self._prepared
        self.run_id = self._start(self.run_name, tags=ready["tags"])
        run_id = self.run_id
        params = {**ex.params, **self.params}
        if params:
            self._call("log_params", run_id, params)
        if ready["metrics"]:
            self._call("log_metrics", run_id, ready["metrics"])
        for step, values in ready["steps"]:
            if values:
                self._call("log_metrics", run_id, values, step=step)
        for name, frame in ready["tables"].items():
            self._call("log_table", run_id, name, frame)
        self._call("log_artifact", run_id, "findings.json", ready["findings"])
        if ready["note"] is not None:
            self._call("log_artifact", run_id, "note.txt", ready["note"])
        for child in ex.children:
            self._child(child, run_id)
        self._call("log_artifact", run_id, "summary.json", ready["summary"])
        self._call("log_artifact", run_id, "report.html", ready["html"])
        self._call("end_run", run_id, status="FINISHED")
        self.open_runs.remove(run_id)
        return run_id

    def _child(self, child: Any, parent: str) -> str:
        metrics, bad = _split_finite(child.metrics, self.prefix)
        tags = dict(child.tags)
        if bad:
            tags["mllife.nonfinite_metrics"] = _listed(list(bad))
        child_id = self._start(child.name, parent_run_id=parent, tags=tags)
        params = {**child.params, **dict(self.child_params.get(child.name, {}))}
        if params:
            self._call("log_params", child_id, params)
        if metrics:
            self._call("log_metrics", child_id, metrics)
        self._call("end_run", child_id, status="FAILED" if child.failed else "FINISHED")
        self.open_runs.remove(child_id)
        return child_id

    def _summary(self, bad: Mapping[str, float], step_bad: list[str]) -> dict[str, Any]:
        ex, prefix = self.extracted, self.prefix
        children = []
        for child in ex.children:
            _, child_bad = _split_finite(child.metrics, prefix)
            children.append({"name": child.name, "failed": bool(child.failed),
                             "metrics": {prefix + k: v for k, v in child.metrics.items()},
                             "nonfinite": list(child_bad)})
        return jsonable({
            "report": type(self.report).__name__,
            "metrics": {prefix + k: v for k, v in ex.metrics.items()},
            "nonfinite": [*bad, *step_bad],
            "steps": [{"step": int(s), "metrics": {prefix + k: v for k, v in m.items()}}
                      for s, m in ex.steps],
            "children": children,
        })

    def fail(self, status: str = "FAILED") -> None:
        """End every run this logger opened with ``status`` (best effort, innermost first).

        ``"KILLED"`` when the logging was interrupted (Ctrl-C), as MLflow does.
        """
        for run_id in reversed(self.open_runs):
            # the tracker is already failing: the first error is the one reported
            with contextlib.suppress(Exception):
                self.tracker.end_run(run_id, status=status)
        self.open_runs.clear()

    def describe(self, exc: BaseException) -> str:
        run = f"run {self.run_name!r}" + (f" (id {self.run_id})" if self.run_id else "")
        return (f"{type(self.tracker).__name__} failed in {self.step} of {run}: "
                f"{type(exc).__name__}: {exc}")


def _json(value: Any) -> bytes:
    return json.dumps(jsonable(value), allow_nan=False, ensure_ascii=False,
                      indent=1).encode("utf-8")


def _check_text(value: Any, name: str, *, empty: bool = False) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or (not empty and not value):
        raise InputError(f"{name} is {value!r}", expected="a non-empty string or None")
    return value


def _params(params: Any, name: str) -> dict[str, str]:
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        raise InputError(f"{name} is a {type(params).__name__}", expected="a mapping or None")
    return {key: param_text(value) for key, value in flatten(params).items()}


def _check_inputs(report: Any, prefix: Any, note: Any) -> tuple[str | None, str | None]:
    """``(prefix, note)`` checked, after ``report``; before any tracker (or store) is made."""
    if not isinstance(report, Report):
        raise InputError(f"report is a {type(report).__name__}",
                         expected="an mllife report (a mllife.report.Report)")
    return _check_text(prefix, "prefix"), _check_text(note, "note", empty=True)


def _prepare(report: Any, tracker: Any, *, run_name: str | None, prefix: Any, note: Any,
             params: Any, child_params: Any) -> _Logger:
    from ._extract import extract

    prefix, note = _check_inputs(report, prefix, note)
    checked = check_tracker(tracker)
    if checked is None:
        raise InputError("tracker is None", expected="a mllife.tracking.Tracker")
    if child_params is not None and not isinstance(child_params, Mapping):
        raise InputError(f"child_params is a {type(child_params).__name__}",
                         expected="a mapping of candidate name to params, or None")
    children = {str(k): _params(v, f"child_params[{k!r}]")
                for k, v in (child_params or {}).items()}
    name = run_name if run_name is not None else (prefix or report.title
                                                  or type(report).__name__)
    logger = _Logger(checked, report, extract(report), run_name=name,
                     prefix=f"{prefix}." if prefix else "", note=note,
                     params=_params(params, "params"), child_params=children)
    logger.prepare()
    return logger


def log_report(report: Report, *, tracker: Tracker | None = None, prefix: str | None = None,
               note: str | None = None) -> str:
    """Log a report to a tracker as one run (with a nested run per candidate); return its id.

    What the run holds:

    - *metrics*: the report's headline numbers (its summary flattened, plus its
      type's own: test metrics, gap and lift of an evaluation, drift share and
      per-column statistics of a drift report...), named ``prefix.<name>``
      when ``prefix`` is given; a monitor's windows as steps. NaN and infinite
      values are not logged (a tracker cannot chart them): they are listed in
      the tag ``mllife.nonfinite_metrics`` and kept as ``null`` in
      ``summary.json``.
    - *params*: the settings the report records.
    - *tags*: ``mllife.report`` (the class name), ``mllife.findings.<severity>``
      (how many findings of each severity), ``mllife.note`` and the report
      type's own; ``mllife.version`` (set by :class:`MlflowTracker`).
    - *artifacts*: every table as ``tables/<name>.csv`` and ``.json``,
      ``findings.json``, ``summary.json``, the self-contained ``report.html``
      and, for a note over 5000 characters, ``note.txt`` (the whole note: a
      backend may cut a tag, MLflow at 8000 characters).
    - *nested runs*: one per candidate of a :class:`~mllife.ComparisonReport`
      (its params and metrics; ``"FAILED"`` if the candidate failed).

    Parameters
    ----------
    report : Report
        Any mllife report (a report type mllife does not know logs its numeric
        summary).
    tracker : Tracker, optional
        Where to log. None: ``MlflowTracker()``, MLflow's default store
        (``MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` in the working
        directory) and its ``Default`` experiment.
    prefix : str, optional
        Put before every metric name (``"holdout"`` gives ``holdout.test.roc_auc``);
        also the run's name. Default run name: the report's title.
    note : str, optional
        Free text kept as the tag ``mllife.note`` ("what I was thinking");
        over 5000 characters, also whole as the file ``note.txt``.

    Returns
    -------
    str
        The run id.

    Raises
    ------
    InputError
        If ``report`` is not a report, ``tracker`` not a tracker, or
        ``prefix``/``note`` not text.
    TrackingError
        If the tracker fails (or its ``start_run`` returns no usable run id);
        the runs opened are ended ``"FAILED"`` first and the tracker's
        exception is chained. The report's own errors (a user's report whose
        ``to_html`` raises) propagate as they are, before any run is opened;
        ``KeyboardInterrupt`` too, after ending the runs opened ``"KILLED"``.

    See Also
    --------
    MlflowTracker : how names are made MLflow-safe.

    Examples
    --------
    >>> import tempfile
    >>> import mllife
    >>> from mllife.tracking import MlflowTracker, log_report
    >>> report = mllife.audit(mllife.make_churn(300, random_state=0).frame)
    >>> tracker = MlflowTracker("audits", tracking_uri=tempfile.mkdtemp())
    >>> run_id = log_report(report, tracker=tracker, note="first look at the data")
    >>> run = tracker.client.get_run(run_id)
    >>> run.info.status, run.data.tags["mllife.report"], run.data.tags["mllife.note"]
    ('FINISHED', 'AuditReport', 'first look at the data')
    >>> run.data.tags["mllife.findings.error"] == str(len(report.findings_by(severity="error")))
    True
    >>> files = {f.path for f in tracker.client.list_artifacts(run_id)}
    >>> sorted(files & {"findings.json", "report.html", "summary.json", "tables"})
    ['findings.json', 'report.html', 'summary.json', 'tables']
    """
    if tracker is None:
        from ._mlflow import MlflowTracker

        _check_inputs(report, prefix, note)   # bad input writes no store in the working dir
        tracker = MlflowTracker()
    logger = _prepare(report, tracker, run_name=None, prefix=prefix, note=note, params=None,
                      child_params=None)
    try:
        return logger.run()
    except Exception as exc:
        logger.fail()
        raise TrackingError(logger.describe(exc)) from exc
    except BaseException:   # Ctrl-C, SystemExit: not the tracker's failure; never swallowed
        logger.fail("KILLED")
        raise


def track(report: Report, tracker: Tracker | None, *, run_name: str, note: str | None = None,
          params: Mapping[str, Any] | None = None,
          child_params: Mapping[str, Mapping[str, Any]] | None = None) -> str | None:
    """Log an analysis's report as :func:`log_report` does; never raise because of the tracker.

    What ``compare_models``, ``evaluate``, ``compare_champion``,
    ``drift_report`` and ``Monitor.report`` call when given ``tracker=`` (after
    :func:`check_tracker`, before returning their report). ``params`` are the
    call's settings (flattened, as text); ``child_params`` maps a candidate's
    name to its params (``flatten_params(model)``), added to its nested run.
    Any exception while logging (from the tracker, or while preparing what to
    log) becomes one :class:`~mllife.TrackingWarning` naming the tracker, the
    run and the error; the runs opened are ended ``"FAILED"`` (best effort).
    ``KeyboardInterrupt`` and ``SystemExit`` are never turned into a warning:
    the runs opened are ended ``"KILLED"`` and the interruption propagates.

    Returns
    -------
    str or None
        The run id; None if ``tracker`` is None or logging failed.

    Examples
    --------
    >>> import warnings
    >>> import mllife
    >>> def down(*args, **kwargs):
    ...     raise OSError("store unreachable")
    >>> class Unreachable:  # a tracker whose store is gone: every call fails
    ...     start_run = end_run = log_params = log_metrics = staticmethod(down)
    ...     set_tags = log_table = log_artifact = staticmethod(down)
    >>> report = mllife.audit(mllife.make_churn(200, random_state=0).frame)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     track(report, Unreachable(), run_name="audit")
    >>> print(caught[0].message)
    Unreachable failed in start_run of run 'audit': OSError: store unreachable
    """
    if tracker is None:
        return None
    logger = None
    try:
        logger = _prepare(report, tracker, run_name=run_name, prefix=None, note=note,
                          params=params, child_params=child_params)
        return logger.run()
    except Exception as exc:  # whatever failed, the analysis's report must never be lost
        if logger is None:
            message = (f"{type(tracker).__name__}: could not prepare run {run_name!r}: "
                       f"{type(exc).__name__}: {exc}")
        else:
            logger.fail()
            message = logger.describe(exc)
        warnings.warn(message, TrackingWarning, stacklevel=user_stacklevel())
        return None
    except BaseException:   # Ctrl-C, SystemExit: propagate, never a warning
        if logger is not None:
            logger.fail("KILLED")
        raise
