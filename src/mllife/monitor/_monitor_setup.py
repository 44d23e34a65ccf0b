"""Checking a Monitor's parameters and building its reference."""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._criteria import SuccessCriteria
from .._errors import DataWarning, InputError, SchemaError
from .._frame import as_frame
from ..drift import DriftProfile
from ._outputs import Outputs, outputs_frame, outputs_from_batch, score_valid
from ._sums import Sums

if TYPE_CHECKING:
    from ._monitor import Monitor

#: Columns of a prediction log that are never model inputs (``mllife.serve.PredictionLog.read``
#: writes them); a contract column of the same name is still an input.
LOG_COLUMNS = ("model_version", "scored_at", "latency_ms", "error", "request_id", "row", "role",
               "status")

__all__ = ["LOG_COLUMNS", "Reference", "build_reference", "check_alpha", "check_column_names", "parse_metrics"]


def check_column_names(time_col: Any, label_col: Any, id_col: Any
                       ) -> tuple[Hashable | None, Hashable | None, Hashable | None]:
    """The three column names, each a hashable (str) or None, all different."""
    names = {"time_col": time_col, "label_col": label_col, "id_col": id_col}
    for what, name in names.items():
        if name is None:
            continue
        if isinstance(name, bool) or not isinstance(name, str | int) or name == "":
            raise InputError(f"{what}={name!r} is not a column name", expected="a column name (str)")
    given = [n for n in names.values() if n is not None]
    if len(set(given)) != len(given):
        raise InputError(f"time_col, label_col and id_col repeat a name ({given})",
                         expected="a different column for each")
    return time_col, label_col, id_col


def check_alpha(alpha: Any) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, int | float | np.floating) \
            or not math.isfinite(float(alpha)) or not 0 < float(alpha) < 1:
        raise InputError(f"alpha={alpha!r} is not a level", expected="a number in (0, 1), e.g. 0.05")
    return float(alpha)


def parse_metrics(metrics: Any, task: str, n_classes: int = 0
                  ) -> tuple[tuple[str, ...] | None, dict[str, float]]:
    """``(metric names or None for the defaults, thresholds)`` of ``metrics=``.

    Names are the performance model's (the vocabulary's; a multiclass
    ``f1_macro`` is ``f1``); thresholds come from a mapping or a
    :class:`~mllife.SuccessCriteria` and are checked against each metric's range.
    """
    from ._performance import resolve_metrics

    if metrics is None:
        return None, {}
    if isinstance(metrics, SuccessCriteria):
        given = dict(metrics.thresholds)
        if not given:
            raise InputError("metrics= is a SuccessCriteria without thresholds",
                             expected="criteria with metric thresholds, e.g. {'roc_auc': 0.75}")
    elif isinstance(metrics, Mapping):
        given = dict(SuccessCriteria(dict(metrics)).thresholds)  # validated, normalised
    elif isinstance(metrics, str) or not isinstance(metrics, list | tuple):
        raise InputError(f"metrics={metrics!r} is not usable",
                         expected="None, a list of metric names, a mapping name -> threshold "
                                  "or a SuccessCriteria")
    else:
        return resolve_metrics(list(metrics), task, n_classes), {}
    thresholds = {resolve_metrics([name], task, n_classes)[0]: float(value)
                  for name, value in given.items()}
    return tuple(thresholds), thresholds


@dataclass
class Reference:
    """What the monitor compares windows with.

    ``inputs``: the input profile (the bundle's, else fitted on the reference
    frame); ``outputs``: the profile of the model's outputs on the reference
    (``None`` without a reference frame); ``confidence``: the reference's
    confidence sums; ``performance``: the performance model; ``n_rows``:
    reference rows (0 without a frame).
    """

    inputs: DriftProfile
    outputs: DriftProfile | None
    confidence: Sums | None
    performance: Any
    n_rows: int
    notes: list[str] = field(default_factory=list)
    source: str = "bundle"
    reference_se: dict[str, float] = field(default_factory=dict)


def validated(monitor: Monitor, frame: pd.DataFrame) -> pd.DataFrame:
    """``bundle.schema.validate`` on the contract's columns, notes kept, no warnings."""
    schema = monitor.bundle.schema
    present = [c for c in frame.columns if str(c) in set(schema.columns)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return schema.validate(frame.loc[:, present])


def model_inputs(monitor: Monitor, frame: pd.DataFrame) -> pd.DataFrame:
    """The columns of ``frame`` that are the model's inputs or new columns (not bookkeeping)."""
    schema = set(monitor.bundle.schema.columns)
    special = {monitor.time_col, monitor.label_col, monitor.id_col, *LOG_COLUMNS,
               *monitor.output_names}
    keep = [c for c in frame.columns if str(c) in schema or c not in special]
    return frame.loc[:, keep]


def output_profile_frame(outputs: Outputs) -> pd.DataFrame:
    """The outputs as profiled: a classifier's prediction as text (a category, not a number)."""
    out = outputs_frame(outputs)
    if outputs.task != "regression":
        pred = pd.Series(outputs.prediction, dtype=object)
        out[out.columns[0]] = pred.astype(str).where(pred.notna(), None).to_numpy(dtype=object)
    return out


def build_reference(monitor: Monitor, reference: Any) -> Reference:
    """The monitor's :class:`Reference` from the bundle and the optional reference frame."""
    from ._alarms import confidence_sums
    from ._performance import PerformanceModel

    bundle = monitor.bundle
    stored = bundle.drift_profile
    if stored is not None and not isinstance(stored, DriftProfile):
        raise InputError(f"bundle.drift_profile is a {type(stored).__name__}",
                         expected="a DriftProfile (or None)")
    empty = Outputs(monitor.task, np.zeros(0, dtype=object if monitor.classes else np.float64),
                    np.zeros((0, len(monitor.classes))) if monitor.has_proba and monitor.classes
                    else None, monitor.classes)
    if reference is None:
        if stored is None:
            raise InputError("no input reference: the bundle has no drift_profile and no "
                             "reference= was given",
                             expected="ModelBundle(..., drift_profile=DriftProfile.fit(X_train)) "
                                      "or Monitor(bundle, reference=frame)")
        performance = PerformanceModel.fit(empty, None, None,
                                           metrics=monitor.metric_names, random_state=None)
        notes = ["no reference frame: prediction drift and confidence are not computable"]
        return Reference(stored, None, None, performance, 0, notes + list(performance.notes))
    frame = as_frame(reference, name="reference")
    if len(frame) == 0:
        raise InputError("reference has no rows", n_rows=0, expected="reference rows")
    missing = [c for c in bundle.schema.columns if c not in {str(n) for n in frame.columns}]
    if missing:
        raise InputError(f"reference lacks the input column(s) {missing[:10]}",
                         column=missing[0], expected="every column of the bundle's schema")
    outputs = outputs_from_batch(frame, monitor.task, monitor.classes, monitor.has_proba)
    try:
        valid = validated(monitor, frame)
    except SchemaError as err:
        raise InputError(f"reference breaks the bundle's schema: {err}",
                         expected="reference rows the model accepts") from None
    if outputs is None:
        outputs = score_valid(bundle, valid, monitor.task, monitor.classes, monitor.has_proba)
    y = None
    if monitor.label_col is not None and monitor.label_col in frame.columns:
        y, invalid = read_labels(frame[monitor.label_col], monitor.classes)
        if invalid.any():
            shown = frame[monitor.label_col][invalid].astype(str).unique()[:5].tolist()
            raise InputError(f"reference labels {shown} are none of the model's classes",
                             column=monitor.label_col, n_rows=int(invalid.sum()),
                             expected=f"labels among {list(monitor.classes)[:10]}"
                             if monitor.classes is not None else "numbers (the regression target)")
        if pd.isna(pd.Series(y, dtype=object)).any():
            raise InputError("reference has missing labels", column=monitor.label_col,
                             n_rows=int(pd.isna(pd.Series(y, dtype=object)).sum()),
                             expected="a label in every reference row (drop the others)")
    inputs = stored if stored is not None else DriftProfile.fit(
        frame.loc[:, [c for c in frame.columns if str(c) in set(bundle.schema.columns)]])
    out_profile = DriftProfile.fit(output_profile_frame(outputs))
    conf = confidence_sums(outputs) if outputs.proba is not None else None
    performance = PerformanceModel.fit(outputs, valid, y, metrics=monitor.metric_names,
                                       random_state=None)
    notes = list(performance.notes)
    ref_se: dict[str, float] = {}
    if y is not None:  # the reference's own realized values are estimates: their error counts
        ref_se = {m: float(iv.se) for m, iv in performance.realized(
            performance.realized_sums(outputs, y)).items() if math.isfinite(iv.se)}
    return Reference(inputs, out_profile, conf, performance, len(frame), notes,
                     "bundle" if stored is not None else "reference", ref_se)


def finish_setup(monitor: Monitor) -> None:
    """The attributes derived from the settings and the reference (also after ``load``)."""
    from ..drift._column import reference_kind
    from ._outputs import output_columns

    monitor.output_names = tuple(output_columns(monitor.task, monitor.classes, True))
    profile = monitor.ref.inputs
    kinds = {name: reference_kind(profile, profile[name]) for name in profile.columns}
    monitor.identifiers = frozenset(n for n, k in kinds.items()
                                    if k is not None and k.kind == "identifier")
    monitor._cache = {}


def read_labels(values: pd.Series, classes: tuple[Any, ...] | None
                ) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, invalid)``: :func:`label_values` with the labels that are none of the model's
    classes (a regressor's: not numbers) made missing, and the mask of those rows.

    A label the model cannot predict (a class it never saw, ``"yes"`` for 0/1) is
    not counted as a negative or an error: the row is left out of realized
    performance and counted (``invalid_labels``).

    Examples
    --------
    >>> labels, invalid = read_labels(pd.Series(["no", "yes", "maybe", None]), ("no", "yes"))
    >>> labels[:2].tolist(), pd.isna(labels).tolist(), invalid.tolist()
    (['no', 'yes'], [False, False, True, True], [False, False, True, False])
    """
    given = values.notna().to_numpy()
    labels = label_values(values, classes)
    if classes is None:
        invalid = given & np.isnan(labels)
        return labels, invalid
    series = pd.Series(labels, dtype=object)
    invalid = given & ~series.isin(list(classes)).to_numpy()
    if invalid.any():
        labels = labels.astype(object, copy=True)
        labels[invalid] = None
    return labels, invalid


def label_values(values: pd.Series, classes: tuple[Any, ...] | None) -> np.ndarray:
    """Labels as the model's classes (``"1"`` read as the class ``1``); floats for regression."""
    if classes is None:
        return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    arr = values.to_numpy(dtype=object)
    known = pd.Series(arr).isin(list(classes)) | pd.isna(pd.Series(arr))
    if known.all():
        return arr
    series = pd.Series(arr, dtype=object)
    mapped = series.astype(str).map({str(c): c for c in classes})
    return mapped.where(mapped.notna() & series.notna(), series).to_numpy(dtype=object)
