"""Data quality per window: schema violations, rows the bundle could not score, columns.

Per batch slice, :func:`quality_sums` counts rows (additive, so a window's
counts do not depend on how its rows were batched): each schema problem by
column and problem (the bundle's :meth:`InputSchema.validate`), rows the
bundle could not score, missing values and unseen categories per column of
the schema, missing and new columns. :func:`quality_decide` turns a window's
counts into alarms: any schema violation, and any row the bundle could not
score, is a ``data_quality`` alarm (neither happens on data that meets the
contract, so a clean stream never raises one). Changes of missing rates and
unseen categories are *not* alarmed here: the drift engine already tests them,
with a corrected p-value, as part of ``data_drift``.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError, SchemaError
from ..report import Finding
from ._alarms import WindowDecision, make_finding, signal_row
from ._sums import Sums

__all__ = ["label_findings", "quality_decide", "quality_sums"]

_SCHEMA = "schema::"
_MISSING = "missing::"
_UNSEEN = "unseen::"
_MISSING_COLUMN = "missing_column::"
_NEW_COLUMN = "new_column::"


def _name(column: Any) -> str:
    return "" if column is None else str(column)


def quality_sums(frame: pd.DataFrame, schema: Any, problems: Sequence[Mapping[str, Any]] | None,
                 n_unscored: int = 0, *, ignore: Iterable[Any] = ()) -> Sums:
    """Additive data-quality counts of one batch slice.

    Parameters
    ----------
    frame : DataFrame
        The batch slice as it arrived (inputs, and any other columns).
    schema : InputSchema or None
        The bundle's input contract (``bundle.schema``).
    problems : list of dict or None
        ``SchemaError.problems`` of this slice when the caller validated it
        already (``[]``: it met the contract); ``None``: validate here, on
        ``frame`` without the ``ignore`` columns.
    n_unscored : int, default=0
        Rows of the slice the bundle could not score.
    ignore : iterable of column names
        Columns that are not model inputs (time, id, label, model outputs,
        ``scored_at``, ``latency_ms``, ``error``): never counted as new.

    Returns
    -------
    Sums
        ``n_rows``, ``n_unscored``; ``schema::<column>::<problem>`` (rows
        with that problem); ``missing::<column>`` and, for columns with
        known categories, ``unseen::<column>`` (rows); ``missing_column::<c>``
        and ``new_column::<c>`` (rows of slices without / with an unknown
        column).

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.bundle import InputSchema
    >>> schema = InputSchema.infer(pd.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"]}))
    >>> batch = pd.DataFrame({"x": [1.5, None, 2.0], "c": ["a", "z", "b"], "t": [1, 2, 3]})
    >>> sums = quality_sums(batch, schema, None, ignore=["t"])
    >>> {k: float(v) for k, v in sorted(sums.items())}
    {'missing::c': 0.0, 'missing::x': 1.0, 'n_rows': 3.0, 'n_unscored': 0.0, 'schema::c::unseen category': 1.0, 'schema::x::missing value where training had none': 1.0, 'unseen::c': 1.0}
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"a batch slice is a {type(frame).__name__}", expected="a DataFrame")
    n = len(frame)
    if not (isinstance(n_unscored, int | np.integer) and 0 <= n_unscored <= n):
        raise InputError(f"n_unscored={n_unscored!r}", expected=f"an integer in [0, {n}]")
    ignored = set(ignore)
    inputs = frame[[c for c in frame.columns if c not in ignored]] if ignored else frame
    out: dict[str, float] = {"n_rows": float(n), "n_unscored": float(n_unscored)}
    if schema is not None and problems is None and n:  # an empty slice breaks nothing
        problems = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # out-of-range notes: the problems say enough
            try:
                schema.validate(inputs)
            except SchemaError as err:
                problems = err.problems
    for p in problems or ():
        count = p.get("count")
        count = n if count is None else min(int(count), n)
        if count <= 0:
            continue
        key = f"{_SCHEMA}{_name(p.get('column'))}::{p.get('problem')}"
        out[key] = out.get(key, 0.0) + float(count)
    if schema is not None:
        known = set(schema.columns)
        present = {str(c): c for c in inputs.columns}
        for spec in schema.specs:
            if spec.name not in present:
                out[f"{_MISSING_COLUMN}{spec.name}"] = float(n)
                continue
            s = inputs[present[spec.name]]
            if isinstance(s, pd.DataFrame):  # duplicated column: the schema reports it
                continue
            missing = s.isna().to_numpy()
            out[f"{_MISSING}{spec.name}"] = float(missing.sum())
            if spec.categories is not None:
                with contextlib.suppress(TypeError):  # unhashable cells: a schema problem
                    unseen = ~s.isin(spec.categories).to_numpy() & ~missing
                    out[f"{_UNSEEN}{spec.name}"] = float(unseen.sum())
        for name in present:
            if name not in known:
                out[f"{_NEW_COLUMN}{name}"] = float(n)
    return {k: np.array(v) for k, v in out.items()}


def _by_prefix(sums: Mapping[str, Any], prefix: str) -> dict[str, float]:
    return {k[len(prefix):]: float(np.asarray(v)) for k, v in sums.items()
            if k.startswith(prefix)}


def quality_decide(sums: Mapping[str, Any], *, window: Any, index: Any) -> WindowDecision:
    """The data-quality alarms and numbers of one window.

    Rules (deterministic; none fires on data that meets the contract):

    * each (column, problem) with schema violations in the window is a
      ``data_quality`` alarm naming the column and the problem, with the
      row count and rate;
    * rows the bundle could not score (``n_unscored > 0``) are an alarm;
    * a column the schema does not know is an ``info`` finding (the model
      ignores it); a column the schema expects but the batch lacks is
      reported by the schema as ``missing column``.

    Returns
    -------
    WindowDecision
        ``numbers``: ``schema_violation_rate`` (the rate of the most frequent
        problem: the share of rows with a violation when there is one kind,
        a lower bound otherwise), ``unscored_rate``, ``missing_rates`` and
        ``unseen_rates`` (per schema column); NaN rates for an empty window.

    Examples
    --------
    >>> import numpy as np
    >>> d = quality_decide({"n_rows": np.array(200.0), "n_unscored": np.array(0.0),
    ...                     "schema::age::text instead of integers": np.array(3.0)},
    ...                    window="2024-05-01", index=4)
    >>> d.numbers["schema_violation_rate"], d.rows[0]["alarm"]
    (0.015, True)
    >>> d.findings[0].message
    "window 2024-05-01: column 'age': text instead of integers in 3 of 200 rows (1.5%)"
    """
    n = float(np.asarray(sums.get("n_rows", 0.0)))
    n_unscored = float(np.asarray(sums.get("n_unscored", 0.0)))
    violations = _by_prefix(sums, _SCHEMA)
    rate = (lambda count: count / n) if n > 0 else (lambda count: math.nan)
    rows: list[dict[str, Any]] = []
    findings: list[Finding] = []
    numbers: dict[str, Any] = {
        "schema_violation_rate": max((rate(c) for c in violations.values()), default=rate(0.0)),
        "unscored_rate": rate(n_unscored),
        "missing_rates": {k: rate(v) for k, v in _by_prefix(sums, _MISSING).items()},
        "unseen_rates": {k: rate(v) for k, v in _by_prefix(sums, _UNSEEN).items()},
    }
    for key, count in sorted(violations.items()):
        if count <= 0:
            continue
        column, _, problem = key.rpartition("::")
        col = column or None
        row = signal_row("data_quality", window=window, index=index, column=col,
                         statistic="violation_rate", value=rate(count), alarm=True,
                         reason=f"schema problem: {problem} ({count:.0f} rows)")
        rows.append(row)
        where = f"column {column!r}: " if column else ""
        findings.append(make_finding(
            row, f"window {window}: {where}{problem} in {count:.0f} of {n:.0f} rows "
                 f"({_percent(rate(count))})",
            n_rows=int(count), share=_share(rate(count)), problem=problem, count=int(count)))
    if not rows:
        rows.append(signal_row("data_quality", window=window, index=index,
                               statistic="violation_rate", value=rate(0.0), alarm=False,
                               reason="no schema violation"))
    unscored = signal_row("data_quality", window=window, index=index,
                          statistic="unscored_rate", value=rate(n_unscored),
                          alarm=n_unscored > 0,
                          reason=f"{n_unscored:.0f} rows the bundle could not score")
    rows.append(unscored)
    if n_unscored > 0:
        findings.append(make_finding(
            unscored, f"window {window}: the bundle could not score {n_unscored:.0f} of "
                      f"{n:.0f} rows ({_percent(rate(n_unscored))})",
            suggestion="look at the schema findings of this window and at the model's "
                       "errors: these rows have no prediction",
            n_rows=int(n_unscored), share=_share(rate(n_unscored))))
    for column, count in sorted(_by_prefix(sums, _NEW_COLUMN).items()):
        row = signal_row("data_quality", window=window, index=index, column=column,
                         statistic="new_column", value=rate(count), alarm=False,
                         reason="a column the schema does not know (the model ignores it)")
        rows.append(row)
        findings.append(make_finding(
            row, f"window {window}: column {column!r} is not in the model's schema "
                 f"({count:.0f} rows); the model ignores it",
            severity="info", suggestion="drop it upstream, or retrain with it if it "
                                        "should be a feature", n_rows=int(count)))
    return WindowDecision(numbers, rows, findings)


def label_findings(n_unknown_ids: int = 0, n_duplicated: int = 0, *, n_labels: int | None = None,
                   window: Any = None, index: Any = None) -> list[Finding]:
    """``info`` findings for labels that could not be used.

    Labels whose id the monitor never scored, and labels for ids that
    already had one (the later one is ignored or replaces the earlier one,
    as the caller decides and says in ``details``).

    Examples
    --------
    >>> [f.message for f in label_findings(3, 0, n_labels=100)]
    ['3 of 100 labels name ids the monitor never scored']
    """
    out = []
    total = f" of {int(n_labels)}" if n_labels is not None else ""
    row = {"signal": "data_quality", "window": window, "index": index, "column": None,
           "statistic": "", "value": math.nan, "low": math.nan, "high": math.nan,
           "p_value": math.nan, "level": math.nan}
    if n_unknown_ids:
        out.append(make_finding(
            {**row, "statistic": "unknown_label_ids", "value": float(n_unknown_ids)},
            f"{int(n_unknown_ids)}{total} labels name ids the monitor never scored",
            severity="info", n_rows=int(n_unknown_ids),
            suggestion="check that id_col holds the same ids in the predictions and the "
                       "labels (type and format)"))
    if n_duplicated:
        out.append(make_finding(
            {**row, "statistic": "duplicated_labels", "value": float(n_duplicated)},
            f"{int(n_duplicated)}{total} labels are for ids that already had a label",
            severity="info", n_rows=int(n_duplicated),
            suggestion="send each label once; check the labelling pipeline for replays"))
    return out


def _percent(rate: float) -> str:
    return f"{100 * rate:.3g}%" if math.isfinite(rate) else "n/a"


def _share(rate: float) -> float | None:
    return float(min(max(rate, 0.0), 1.0)) if math.isfinite(rate) else None
