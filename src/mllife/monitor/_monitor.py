"""``Monitor``: watch a deployed model over windows of time or rows."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import _dask
from .._errors import InputError
from .._frame import as_frame
from ._outputs import (
    bundle_task,
    output_columns,
)
from ._state import PendingLabels, WindowState, check_pending_sizes
from ._window import WindowSpec, parse_window

__all__ = ["Monitor"]

class Monitor:
    """Watch a deployed :class:`~mllife.bundle.ModelBundle` over windows of time or rows.

    Batches of production rows arrive in any size and order
    (:meth:`observe`); each row falls into a window by its time (``time_col``
    and ``window``) or its arrival order (``rows``). Per window the monitor
    keeps bounded state, never the rows: a :class:`~mllife.drift.DriftProfile`
    of the inputs and one of the model's outputs, additive sums for
    performance (estimated without labels, realized once labels arrive),
    confidence, data quality and operations, and a freshness state.
    :meth:`report` compares every window with the reference and returns a
    :class:`~mllife.monitor.MonitorReport` with each signal's statistic,
    interval and alarm at a stated false-alarm rate.

    Parameters
    ----------
    bundle : ModelBundle
        The deployed model: its schema validates the batches, its model
        scores rows that carry no outputs, its ``drift_profile`` is the
        input reference.
    reference : DataFrame, optional
        Reference rows: the input columns, optionally ``label_col`` and the
        model's outputs (``prediction``, ``proba_<class>``; scored with the
        bundle when absent). Gives the output profile, the reference
        confidence and the performance model (calibrated on it when
        labelled). Without it, prediction drift and confidence are not
        computable (the report says so) and estimated performance trusts the
        model's probabilities.
    time_col : str, optional
        The column of event times (date-times; naive ones are taken as UTC).
    window : str, default="1D"
        Window length for time windows: a duration :class:`pandas.Timedelta`
        parses (``"1D"``, ``"6h"``, ``"15min"``; windows anchored at
        1970-01-01 UTC), ``"W"`` (calendar weeks from Monday) or ``"MS"``
        (calendar months).
    rows : int, optional
        Row windows instead: this many rows each, in arrival order
        (``time_col`` then optional). ``window`` is ignored.
    label_col : str, optional
        The column of ground truth, in batches, in the reference and in
        :meth:`observe_labels` frames.
    id_col : str, optional
        The row identifier that joins late labels (:meth:`observe_labels`).
    metrics : None, list of str, mapping or SuccessCriteria, optional
        The performance metrics (default: ``roc_auc`` and ``accuracy`` for
        binary, ``accuracy`` and ``f1_macro`` for multiclass, ``mae`` and
        ``rmse`` for regression). A mapping metric -> threshold, or a
        :class:`~mllife.SuccessCriteria`, also sets the thresholds the
        estimated and realized performance are tested against (else the
        reference value).
    alpha : float, default=0.05
        The chance of any statistical alarm in a window without change.
    spec : ProblemSpec, optional
        Gives ``time_col``, ``label_col`` (the spec's ``target``) and, when
        ``metrics`` is not given, the metric thresholds (the spec's
        ``criteria``); an explicit keyword that disagrees with it raises.

    Raises
    ------
    InputError
        Naming the parameter: a bad ``window``/``rows``, neither
        ``time_col`` nor ``rows``, an unknown metric, ``alpha`` outside
        (0, 1), a ``reference`` without the schema's columns, or no input
        reference (neither ``bundle.drift_profile`` nor ``reference``).

    Notes
    -----
    Memory: a window keeps numeric columns exactly up to 2,000 finite values
    and a 1,024-point quantile sketch above (about 16 KB per column), and one
    count per category; with ``id_col``, each row waiting for its label
    keeps its id hash, window and outputs (8 bytes each, 8 per class), and
    each labelled id 8 bytes.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mllife.bundle import InputSchema, ModelBundle
    >>> from mllife.drift import DriftProfile
    >>> from mllife.monitor import Monitor
    >>> X = pd.DataFrame({"x": [float(i % 10) for i in range(200)]})
    >>> y = (X["x"] > 4).astype(int)
    >>> bundle = ModelBundle(LogisticRegression().fit(X, y), InputSchema.infer(X),
    ...                      version="1", drift_profile=DriftProfile.fit(X))
    >>> batch = X.assign(t=pd.Timestamp("2024-05-01 10:00"))
    >>> monitor = Monitor(bundle, time_col="t").observe(batch)
    >>> monitor
    <Monitor bundle='1' windows=1 rows=200 window='1D'>
    >>> monitor.windows
    ['2024-05-01']
    """

    def __init__(self, bundle: Any, *, reference: Any = None, time_col: Hashable | None = None,
                 window: Any = "1D", rows: int | None = None, label_col: Hashable | None = None,
                 id_col: Hashable | None = None, metrics: Any = None, alpha: float = 0.05,
                 spec: Any = None) -> None:
        from ..bundle import ModelBundle
        from ._monitor_setup import (
            build_reference,
            check_alpha,
            check_column_names,
            finish_setup,
            parse_metrics,
        )

        if not isinstance(bundle, ModelBundle):
            raise InputError(f"bundle is a {type(bundle).__name__}", expected="a ModelBundle")
        if spec is not None:
            from .._spec import resolve_spec

            given = resolve_spec(spec, where="Monitor", time_col=time_col, target=label_col,
                                 criteria=None)
            time_col, label_col = given["time_col"], given["target"]
            criteria = given["criteria"]
            if metrics is None and criteria is not None and criteria.thresholds:
                metrics = criteria
        self.bundle = bundle
        self.time_col, self.label_col, self.id_col = check_column_names(time_col, label_col, id_col)
        self.spec: WindowSpec = parse_window(window, rows, time_col)
        self.alpha = check_alpha(alpha)
        self.task, self.classes, self.has_proba = bundle_task(bundle)
        self.metric_names, self.thresholds = parse_metrics(metrics, self.task, len(self.classes or ()))
        self.output_names: tuple[str, ...] = tuple(output_columns(self.task, self.classes, True))
        self.identifiers: frozenset[Hashable] = frozenset()
        self.ref = build_reference(self, reference)
        finish_setup(self)
        self._windows: dict[int, WindowState] = {}
        self._pending = PendingLabels(len(self.classes or ()))
        self._counts: dict[str, int] = dict.fromkeys(
            ("batches", "rows_seen", "rows_without_time", "repeated_ids", "unknown_label_ids",
             "repeated_labels", "labels_for_unscored", "invalid_labels", "labels_without_id",
             "model_failed_rows"), 0)
        self._cache: dict[int, Any] = {}

    # ------------------------------------------------------------------ properties
    @property
    def windows(self) -> list[str]:
        """The labels of the windows seen, in window order.

        Examples
        --------
        >>> from mllife.monitor._monitor import _doc_monitor
        >>> _doc_monitor().windows
        ['2024-05-01', '2024-05-02']
        """
        return [self.spec.label(k) for k in sorted(self._windows)]

    @property
    def n_rows(self) -> int:
        """Rows observed into windows (rows without a time are not in any window).

        Examples
        --------
        >>> from mllife.monitor._monitor import _doc_monitor
        >>> _doc_monitor().n_rows
        400
        """
        return int(sum(w.n_rows for w in self._windows.values()))

    @property
    def bundle_version(self) -> str:
        """The version of the monitored bundle.

        Examples
        --------
        >>> from mllife.monitor._monitor import _doc_monitor
        >>> _doc_monitor().bundle_version
        '1'
        """
        return str(self.bundle.version)

    def __repr__(self) -> str:
        setting = f"rows={self.spec.rows}" if not self.spec.by_time else f"window={self.spec.text!r}"
        return (f"<Monitor bundle={self.bundle_version!r} windows={len(self._windows)} "
                f"rows={self.n_rows} {setting}>")

    # ------------------------------------------------------------------ observe
    def observe(self, batch: Any) -> Monitor:
        """Add a batch of production rows to their windows.

        The batch holds the input columns (and ``time_col``, ``id_col``,
        ``label_col`` when set) and, when present, the model's outputs
        (``prediction`` and ``proba_<class>``, as
        :meth:`ModelBundle.predict_proba` returns them); without outputs the
        bundle scores the rows that meet its schema. Rows that break the
        schema are counted (data quality) and, without outputs, left
        unscored; a batch with new or missing columns is a data-quality and
        drift signal, never an error. Labels in ``label_col`` update the
        realized performance at once; with ``id_col``, rows without a label
        wait for :meth:`observe_labels`. The batch is never changed; an empty
        batch changes nothing.

        **Dask frames.** A ``dask.dataframe.DataFrame`` (or the path of a
        Parquet file, glob or folder; needs ``pip install "mllife[dask]"``)
        is one batch, observed where its partitions are: each partition is
        scored by the bundle and put in its windows on a worker, into an
        empty copy of the monitor, and the partitions' window states,
        counts and waiting rows are merged in partition order, then into
        this monitor. Rows never come back to the client. The result is that
        of ``observe(ddf.compute())``: row windows follow the partitions'
        order (their lengths are read first), rows of one time window spread
        over partitions merge, rows of windows seen before count as late,
        ids keep their first row. Counts, window contents, quality,
        freshness and operational numbers are exact; profiles too while a
        window's column holds at most 2,000 finite values (above, within
        the sketch's stated rank error); the model's outputs and the
        confidence and performance sums up to float rounding. Steps a
        pandas batch takes for the whole batch are taken per partition: a
        model failing on a partition leaves that partition's rows unscored
        (a pandas batch: all its rows); a batch carrying outputs that breaks
        the schema in some rows keeps the inputs for a regressor's error
        estimate in the partitions without broken rows; an error raised on
        a partition counts that partition's rows. Warnings raised on the
        workers are shown here, once each. Wrap the call in
        :func:`mllife.scale.progress` for a progress bar.

        Parameters
        ----------
        batch : DataFrame, polars DataFrame, 2-D array, Dask DataFrame or Parquet path

        Returns
        -------
        Monitor
            ``self``.

        Raises
        ------
        InputError
            When ``time_col`` is absent from the batch or holds values that
            are not date-times, or the outputs columns are not numbers.

        Examples
        --------
        >>> from mllife.monitor._monitor import _doc_monitor
        >>> monitor = _doc_monitor()
        >>> monitor.observe(monitor.bundle.schema.validate({"x": 3.0}).iloc[:0]).n_rows
        400
        """
        from ._observe import observe_batch

        distributed = _dask.to_dask_frame(batch, name="batch")
        if distributed is not None:
            from ._dask import observe_dask

            return observe_dask(self, distributed)
        frame = as_frame(batch, name="batch")
        if len(frame) == 0:
            return self
        deltas, counts, pending, labelled, unscored = observe_batch(self, frame)
        _check_pending_size(self, pending, labelled, unscored)
        for key, delta in deltas.items():
            current = self._windows.get(key)
            self._windows[key] = delta if current is None else current.merge(delta)
        for name, value in counts.items():
            self._counts[name] = self._counts.get(name, 0) + int(value)
        if labelled.size:
            self._pending.mark_labelled(labelled)
        if unscored.size:
            self._pending.mark_unscored(unscored)
        if pending is not None:
            self._counts["repeated_ids"] += self._pending.add(*pending)
        self._counts["batches"] += 1
        return self

    def observe_labels(self, frame: Any) -> Monitor:
        """Join late ground truth by ``id_col`` and update the realized performance.

        Each label finds the window its row was observed in. Labels for ids
        never observed, labels of rows the bundle could not score and second
        labels for an id (the first wins) are counted and reported as
        data-quality numbers, never an error.

        Parameters
        ----------
        frame : DataFrame
            With the columns ``id_col`` and ``label_col``.

        Returns
        -------
        Monitor
            ``self``.

        Raises
        ------
        InputError
            When the monitor has no ``id_col`` / ``label_col``, or ``frame``
            lacks one of them (naming it).

        Examples
        --------
        >>> import pandas as pd
        >>> from mllife.monitor._monitor import _doc_monitor
        >>> monitor = _doc_monitor()
        >>> labels = pd.DataFrame({"id": [1000, 1001, 1001, 7], "y": [0, 0, 0, 1]})
        >>> counts = monitor.observe_labels(labels).label_counts
        >>> counts["repeated_labels"], counts["unknown_label_ids"]
        (1, 1)
        """
        from ._observe import join_labels

        if self.id_col is None or self.label_col is None:
            raise InputError("observe_labels needs id_col= and label_col= on the Monitor",
                             expected="Monitor(..., id_col='id', label_col='label')")
        labels = as_frame(frame, name="labels")
        for what, name in (("id_col", self.id_col), ("label_col", self.label_col)):
            if name not in labels.columns:
                raise InputError(f"the labels frame has no {what} column", column=name,
                                 expected=f"a column {name!r} in the frame")
        if len(labels) == 0:
            return self
        updates, counts = join_labels(self, labels)
        for key, sums in updates.items():
            window = self._windows[key]
            n_new = int(sums.pop("__n__"))
            self._windows[key] = window.merge(WindowState(key, n_labelled=n_new,
                                                          sums={"realized": sums}))
        for name, value in counts.items():
            self._counts[name] += int(value)
        return self

    @property
    def label_counts(self) -> dict[str, int]:
        """Counts of the monitor's data-quality numbers outside windows.

        ``rows_without_time`` (excluded from windows), ``repeated_ids`` (rows
        whose id was seen before; the first is kept waiting),
        ``unknown_label_ids``, ``labels_for_unscored`` (labels of rows the
        bundle could not score), ``repeated_labels`` (second labels: the
        first wins), ``invalid_labels`` (labels that are none of the model's
        classes, or not numbers for a regressor: left out of realized
        performance), ``labels_without_id`` (rows of a labels frame whose id
        is missing: nothing to join them to), ``model_failed_rows`` (rows that
        met the contract but the model failed on: also counted as unscored),
        ``batches``.

        Examples
        --------
        >>> from mllife.monitor._monitor import _doc_monitor
        >>> _doc_monitor().label_counts["batches"]
        2
        """
        return dict(self._counts)

    # ------------------------------------------------------------------ report
    def report(self, *, tracker: Any = None) -> Any:
        """Compare every window with the reference: a :class:`~mllife.monitor.MonitorReport`.

        Per window, each computable statistical signal (data drift,
        prediction drift, confidence, estimated and realized performance) is
        tested at ``alpha / G`` (Bonferroni over the ``G`` signals computable
        in that window), so a window without change raises a statistical
        alarm with probability at most ``alpha``; data quality, freshness and
        operations are deterministic. A window's comparisons are cached and
        recomputed only when its state changed.

        Parameters
        ----------
        tracker : Tracker, optional
            Log the report to this :class:`~mllife.tracking.Tracker` (such as
            :class:`~mllife.tracking.MlflowTracker`): one run named
            ``"monitor <bundle version>"`` with the monitor's settings as
            params and one step per window, in time order (the window's
            ``index``), holding its row of :attr:`MonitorReport.windows` and
            its alarms per signal, plus the report's tables, findings and HTML
            (see :func:`mllife.tracking.log_report`). A tracker that fails
            mid-run gives a :class:`~mllife.TrackingWarning`, never a lost
            report. None (the default): nothing is logged.

        Returns
        -------
        MonitorReport

        Raises
        ------
        InputError
            When ``tracker`` is not a :class:`~mllife.tracking.Tracker`.

        Examples
        --------
        >>> from mllife.monitor._monitor import _doc_monitor
        >>> report = _doc_monitor().report()
        >>> report.windows[["window", "n_rows"]].values.tolist()
        [['2024-05-01', 200], ['2024-05-02', 200]]
        """
        from ._assemble import build_report

        if tracker is not None:
            from ..tracking._log import check_tracker

            check_tracker(tracker)
        report = build_report(self)
        if tracker is not None:
            from ..tracking._log import track

            settings = {**self._settings(), "bundle_version": self.bundle_version,
                        "task": self.task, "n_windows": len(self._windows)}
            track(report, tracker, run_name=f"monitor {self.bundle_version}", params=settings)
        return report

    # ------------------------------------------------------------------ state
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the monitor's state to a JSON file, atomically (no pickle).

        The file records the bundle's version and a hash of its schema;
        :meth:`load` refuses another bundle.

        Returns
        -------
        Path

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from mllife.monitor import Monitor
        >>> from mllife.monitor._monitor import _doc_monitor
        >>> monitor = _doc_monitor()
        >>> path = monitor.save(pathlib.Path(tempfile.mkdtemp()) / "monitor.json")
        >>> Monitor.load(path, monitor.bundle).windows == monitor.windows
        True
        """
        from ._persist import save_monitor

        return save_monitor(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str], bundle: Any) -> Monitor:
        """Read a monitor written by :meth:`save`, for the same bundle.

        Parameters
        ----------
        path : str or Path
        bundle : ModelBundle
            The bundle the monitor watched: same version, same schema.

        Returns
        -------
        Monitor

        Raises
        ------
        InputError
            When the file is not a saved monitor, is truncated, too large or
            malformed (every field is validated), or ``bundle`` has another
            version or schema than the one saved (saying which).

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from mllife.monitor import Monitor
        >>> from mllife.monitor._monitor import _doc_monitor
        >>> monitor = _doc_monitor()
        >>> path = monitor.save(pathlib.Path(tempfile.mkdtemp()) / "m.json")
        >>> Monitor.load(path, monitor.bundle).n_rows
        400
        """
        from ._persist import load_monitor

        return load_monitor(cls, path, bundle)

    def merge(self, other: Monitor) -> Monitor:
        """A new monitor holding both monitors' windows (over disjoint batches).

        The merged monitor's report equals that of one monitor fed every
        batch of both (exactly while windows stay within their exact size).

        Raises
        ------
        InputError
            When ``other`` is this monitor (its batches would count twice),
            the bundles' versions or the settings differ, or for row
            windows (they depend on arrival order, which two monitors do not
            share).

        Examples
        --------
        >>> from mllife.monitor._monitor import _doc_monitor
        >>> merged = _doc_monitor().merge(_doc_monitor(day=3))
        >>> merged.windows
        ['2024-05-01', '2024-05-02', '2024-05-03', '2024-05-04']
        """
        from ._persist import merge_monitors

        return merge_monitors(self, other)

    # ------------------------------------------------------------------ internals
    def _settings(self) -> dict[str, Any]:
        """The settings that must agree between merged or loaded monitors (JSON-safe)."""
        return {
            "time_col": _json_name(self.time_col), "label_col": _json_name(self.label_col),
            "id_col": _json_name(self.id_col), "window": self.spec.to_dict(),
            "alpha": self.alpha,
            "metrics": None if self.metric_names is None else list(self.metric_names),
            "thresholds": dict(self.thresholds),
        }

    def _schema_hash(self) -> str:
        text = json.dumps(self.bundle.schema.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json_name(name: Hashable | None) -> Any:
    return None if name is None else str(name)


def _doc_monitor(day: int = 1) -> Monitor:
    """A small monitor for the examples: a logistic model, two daily windows of 200 rows."""
    from sklearn.linear_model import LogisticRegression

    from ..bundle import InputSchema, ModelBundle
    from ..drift import DriftProfile

    X = pd.DataFrame({"x": np.arange(400, dtype=float) % 10})
    y = (X["x"] > 4).astype(int)
    bundle = ModelBundle(LogisticRegression().fit(X, y), InputSchema.infer(X), version="1",
                         drift_profile=DriftProfile.fit(X))
    reference = X.assign(y=y)
    monitor = Monitor(bundle, reference=reference, time_col="t", label_col="y", id_col="id")
    first = X.iloc[:200].assign(t=pd.Timestamp(f"2024-05-{day:02d} 10:00"),
                                id=np.arange(200) + 1000 * day)
    second = X.iloc[200:].assign(t=pd.Timestamp(f"2024-05-{day + 1:02d} 10:00"),
                                 id=np.arange(200, 400) + 1000 * day)
    return monitor.observe(first).observe(second)


def _check_pending_size(monitor: Monitor, pending: Any, labelled: Any, unscored: Any) -> None:
    """Refuse a batch that would take the id sets above what a saved monitor may hold.

    ``Monitor.load`` refuses more than :data:`~._state.MAX_PENDING` ids per set, so a
    monitor is stopped here, before the batch changes it, rather than saving a file it
    cannot read back.
    """
    check_pending_sizes(monitor, 0 if pending is None else len(pending[0]), labelled.size,
                        unscored.size)
