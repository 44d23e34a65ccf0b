"""One batch into window states, and late labels into realized sums (vectorised)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import ModelError, SchemaError
from .._frame import hash_rows
from ..bundle._schema import broken_rows
from ._monitor_setup import model_inputs, output_profile_frame, read_labels, validated
from ._outputs import Outputs, outputs_from_batch, score_valid
from ._reference import conform, fit_window_profile, targets_of
from ._state import WindowState, contains
from ._sums import Sums, add_sums

if TYPE_CHECKING:
    from ._monitor import Monitor

__all__ = ["hash_ids", "join_labels", "observe_batch", "outputs_from_positions"]


def hash_ids(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``(hashes, present)``: one 64-bit hash per id and the mask of rows that have one.

    Ids are compared by their text, numbers by their value: ``5`` and ``5.0``
    are one id (a column of integers read back as floats keeps its ids), the
    text ``"5.0"`` is another, and ``"5"`` is ``5``'s text.
    """
    present = values.notna().to_numpy()
    text = values.astype(str).to_numpy(dtype=object)
    if pd.api.types.is_bool_dtype(values.dtype):
        numbers = None
    elif pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
    elif values.dtype == object:
        is_text = values.to_numpy(dtype=object) == text  # strings equal their own text
        numbers = pd.to_numeric(values.where(~is_text), errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan)
    else:
        numbers = None
    if numbers is not None:
        whole = np.isfinite(numbers) & (numbers == np.round(numbers)) & (np.abs(numbers) < 2**53)
        if whole.any():
            text[whole] = pd.Series(numbers[whole].astype(np.int64)).astype(str).to_numpy(
                dtype=object)
    return hash_rows(pd.DataFrame({"id": text})), present


def _class_positions(outputs: Outputs) -> np.ndarray:
    """The prediction as a number: the class position (NaN when unknown) or the value."""
    if outputs.classes is None:
        return np.asarray(outputs.prediction, dtype=np.float64)
    from ._cbpe import class_index

    pos = class_index(outputs.prediction, outputs.classes).astype(np.float64)
    pos[pos < 0] = np.nan
    return pos


def outputs_from_positions(monitor: Monitor, prediction: np.ndarray,
                           proba: np.ndarray | None) -> Outputs:
    """The inverse of :func:`_class_positions` (pending rows back to Outputs)."""
    if monitor.classes is None:
        return Outputs(monitor.task, prediction, None, None)
    classes = np.asarray(monitor.classes, dtype=object)
    labels = np.full(prediction.size, None, dtype=object)
    known = np.isfinite(prediction)
    labels[known] = classes[prediction[known].astype(np.int64)]
    labels = pd.Series(labels).infer_objects().to_numpy()
    if proba is not None and proba.size and np.isnan(proba).all():
        proba = None
    return Outputs(monitor.task, labels, proba, monitor.classes)


def _score(monitor: Monitor, frame: pd.DataFrame) -> tuple[Outputs | None, np.ndarray,
                                                            pd.DataFrame | None, bool, int]:
    """``(outputs of the scored rows, scored mask, valid inputs of the scored rows, broken,
    rows the model failed on)``.

    Outputs the batch carries cover every row; otherwise the rows that meet
    the schema are scored. ``broken``: the batch broke the schema somewhere.
    """
    n = len(frame)
    given = outputs_from_batch(frame, monitor.task, monitor.classes, monitor.has_proba)
    schema = monitor.bundle.schema
    try:
        valid = validated(monitor, frame)
        good = np.ones(n, dtype=bool)
        broken = False
    except SchemaError as err:
        broken = True
        whole = any(p.get("problem") in ("missing column", "duplicated column")
                    for p in err.problems)
        good = np.zeros(n, dtype=bool) if whole else ~broken_rows(schema, frame)
        valid = None
        if good.any():
            try:
                valid = validated(monitor, frame.iloc[np.flatnonzero(good)])
            except SchemaError:
                good[:] = False
    if given is not None:
        return given, np.ones(n, dtype=bool), valid if good.all() else None, broken, 0
    if valid is None or not good.any():
        return None, np.zeros(n, dtype=bool), None, broken, 0
    try:
        outputs = score_valid(monitor.bundle, valid, monitor.task, monitor.classes,
                              monitor.has_proba)
    except ModelError:
        # the model failed on rows that meet its contract: unscored, and counted apart
        # (``model_failed_rows``) so a broken model is not read as a broken batch
        return None, np.zeros(n, dtype=bool), None, broken, int(good.sum())
    return outputs, good, valid, broken, 0


def _window_keys(monitor: Monitor, frame: pd.DataFrame
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int]:
    """``(keys, in_window mask, times ns or None, rows counted)`` of the batch's rows."""
    from .._errors import InputError

    n = len(frame)
    spec = monitor.spec
    times = missing = None
    if monitor.time_col is not None:
        if monitor.time_col not in frame.columns:
            raise InputError("the batch has no time column", column=monitor.time_col,
                             expected="the time_col the Monitor was given, in every batch")
        times, missing = read_times(frame[monitor.time_col], monitor.time_col)
    if spec.by_time:
        assert times is not None
        assert missing is not None
        keys = np.zeros(n, dtype=np.int64)
        keys[~missing] = spec.keys(times[~missing])
        if (~missing).any():
            _check_bounds(spec, keys[~missing], monitor.time_col)
        return keys, ~missing, np.where(missing, 0, times), n
    start = monitor._counts["rows_seen"]
    keys = (start + np.arange(n, dtype=np.int64)) // spec.rows
    inside = np.ones(n, dtype=bool)
    if times is not None and missing is not None:
        return keys, inside, np.where(missing, np.iinfo(np.int64).min, times), n
    return keys, inside, None, n


def _check_bounds(spec: Any, keys: np.ndarray, column: Hashable) -> None:
    """Refuse times whose window would start or end beyond what a Timestamp holds (1677-2262)."""
    from .._errors import InputError

    for key in (int(keys.min()), int(keys.max())):
        try:
            spec.bounds(key)
        except (OverflowError, ValueError, pd.errors.OutOfBoundsDatetime):
            raise InputError(f"holds times whose {spec.text} window reaches beyond the years "
                             "1677-2262", column=column,
                             expected="times whose whole window a Timestamp can hold") from None


def read_times(values: pd.Series, column: Hashable) -> tuple[np.ndarray, np.ndarray]:
    from ._window import read_times as _read

    return _read(values, column)


def _check_window_count(monitor: Monitor, window_keys: np.ndarray) -> None:
    """Refuse a batch that would take the monitor above :data:`~._state.MAX_WINDOWS` windows
    (what a saved monitor may hold): a window far too short for the stream, or times that
    scatter over centuries, would otherwise fit one profile per row."""
    from .._errors import InputError
    from . import _state

    limit = _state.MAX_WINDOWS
    new = np.setdiff1d(window_keys, np.fromiter(monitor._windows, dtype=np.int64,
                                                count=len(monitor._windows)))
    total = len(monitor._windows) + new.size
    if total > limit:
        setting = (f"window={monitor.spec.text!r}" if monitor.spec.by_time
                   else f"rows={monitor.spec.rows}")
        raise InputError(f"the batch would make {total} windows ({setting})",
                         column=monitor.time_col if monitor.spec.by_time else None,
                         expected=f"at most {limit} windows per monitor: a longer window, "
                                  f"or a new Monitor per period")


def observe_batch(monitor: Monitor, frame: pd.DataFrame) -> tuple[
        dict[int, WindowState], dict[str, int], tuple[Any, ...] | None, np.ndarray, np.ndarray]:
    """The batch as window deltas: ``(deltas, counts, pending rows, labelled ids, ids of rows
    not scored)``.

    Nothing of the monitor changes here: the caller merges the deltas, so a
    batch that raises leaves the monitor as it was.
    """
    from ._signals import slice_signals

    keys, inside, times, n_counted = _window_keys(monitor, frame)
    counts = {"rows_seen": n_counted if not monitor.spec.by_time else 0,
              "rows_without_time": int((~inside).sum())}
    outputs, scored, valid, broken, failed = _score(monitor, frame)
    counts["model_failed_rows"] = failed
    out_pos = np.cumsum(scored) - 1  # position of each scored row in outputs
    inputs = model_inputs(monitor, frame)
    ref = monitor.ref.inputs
    targets = targets_of(ref)
    skip = frozenset(c for c in inputs.columns if c not in set(ref.columns)) | monitor.identifiers
    labels = None
    if monitor.label_col is not None and monitor.label_col in frame.columns:
        labels, invalid = read_labels(frame[monitor.label_col], monitor.classes)
        counts["invalid_labels"] = int((invalid & inside).sum())
    ids = present = None
    if monitor.id_col is not None and monitor.id_col in frame.columns:
        ids, present = hash_ids(frame[monitor.id_col])
    rows = np.flatnonzero(inside)
    order = rows[np.argsort(keys[rows], kind="stable")]
    window_keys, starts = np.unique(keys[order], return_index=True)
    _check_window_count(monitor, window_keys)
    bounds = [*starts.tolist(), order.size]
    deltas: dict[int, WindowState] = {}
    latest = max(monitor._windows) if monitor._windows and monitor.spec.by_time else None
    for i, key in enumerate(window_keys.tolist()):  # a loop over windows, not rows
        idx = order[bounds[i]:bounds[i + 1]]
        part = frame.iloc[idx]
        existing = monitor._windows.get(key)
        window_targets = {**targets_of(existing.inputs if existing else None), **targets}
        delta = WindowState(key, n_rows=int(idx.size))
        delta.inputs = fit_window_profile(conform(model_inputs(monitor, part), window_targets,
                                                  skip))
        scored_idx = idx[scored[idx]]
        delta.n_scored = int(scored_idx.size)
        out_slice = None
        if outputs is not None and scored_idx.size:
            out_slice = outputs.take(out_pos[scored_idx])
            delta.outputs = fit_window_profile(output_profile_frame(out_slice))
        if times is not None:
            t = times[idx]
            t = t[t != np.iinfo(np.int64).min]
            if t.size:
                delta.time_min, delta.time_max = int(t.min()), int(t.max())
        x_slice = None
        if valid is not None and out_slice is not None:
            x_slice = valid.iloc[np.searchsorted(np.flatnonzero(scored), scored_idx)] \
                if len(valid) == int(scored.sum()) else None
        sums: dict[str, Sums] = {}
        perf = monitor.ref.performance
        if out_slice is not None:
            sums["estimate"] = perf.estimate_sums(out_slice, x_slice if x_slice is not None
                                                  else part.loc[:, []])
        if labels is not None and out_slice is not None:
            lab = labels[scored_idx]
            has = ~pd.isna(pd.Series(lab, dtype=object)).to_numpy()
            if has.any():
                sums["realized"] = perf.realized_sums(out_slice.take(has), lab[has])
                delta.n_labelled = int(has.sum())
        signal_sums, extra = slice_signals(monitor, part, out_slice, broken,
                                           int(idx.size - scored_idx.size), inputs.columns,
                                           late=latest is not None and key < latest)
        sums.update(signal_sums)
        delta.sums = sums
        delta.extra = extra
        deltas[key] = delta
    pending = None
    labelled = unscored = np.zeros(0, dtype=np.uint64)
    if ids is not None and present is not None:
        unscored = ids[present & inside & ~scored]
        has_label = np.zeros(len(frame), dtype=bool)
        if labels is not None:
            has_label = ~pd.isna(pd.Series(labels, dtype=object)).to_numpy()
        labelled = ids[present & has_label & inside & scored]
        wait = present & ~has_label & inside & scored
        if monitor.label_col is not None and outputs is not None and wait.any():
            sel = np.flatnonzero(wait)
            out_rows = outputs.take(out_pos[sel])
            pending = (ids[sel], keys[sel], _class_positions(out_rows), out_rows.proba)
    return deltas, counts, pending, labelled, unscored


def join_labels(monitor: Monitor, labels: pd.DataFrame) -> tuple[dict[int, Sums], dict[str, int]]:
    """Realized sums per window from a labels frame, and the counts of odd labels."""
    values, invalid = read_labels(labels[monitor.label_col], monitor.classes)
    has = ~pd.isna(pd.Series(values, dtype=object)).to_numpy()
    ids, present = hash_ids(labels[monitor.id_col])
    n_invalid = int((invalid & present).sum())
    keep = has & present
    ids, values = ids[keep], values[keep]
    _, first = np.unique(ids, return_index=True)
    first = np.sort(first)
    repeated = ids.size - first.size
    ids, values = ids[first], values[first]
    pending = monitor._pending
    again = contains(pending.labelled, ids)
    repeated += int(again.sum())
    ids, values = ids[~again], values[~again]
    pos, rows, unknown = pending.take(ids)
    for_unscored = unknown & contains(pending.unscored, ids)
    counts = {"repeated_labels": int(repeated),
              "unknown_label_ids": int((unknown & ~for_unscored).sum()),
              "labels_for_unscored": int(for_unscored.sum()), "invalid_labels": n_invalid,
              "labels_without_id": int((~present).sum())}
    updates: dict[int, Sums] = {}
    if rows.size == 0:
        return updates, counts
    keys = pending.keys[rows]
    pred = pending.prediction[rows]
    assert pending.proba is not None
    proba = pending.proba[rows]
    y = values[pos]
    perf = monitor.ref.performance
    for key in np.unique(keys).tolist():  # a loop over windows
        sel = keys == key
        part_proba = proba[sel]
        with_p = ~np.isnan(part_proba).any(axis=1) if part_proba.shape[1] else np.zeros(
            int(sel.sum()), dtype=bool)
        total: Sums = {}
        for mask in (with_p, ~with_p):
            if not mask.any():
                continue
            outs = outputs_from_positions(monitor, pred[sel][mask],
                                          part_proba[mask] if mask is with_p else None)
            total = add_sums(total, perf.realized_sums(outs, y[sel][mask]))
        total["__n__"] = np.asarray(float(sel.sum()))
        updates[int(key)] = total
    pending.drop(rows)
    return updates, counts

