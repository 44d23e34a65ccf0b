"""``audit``: run every check on a table and return an :class:`AuditReport`."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import pandas as pd

from .. import _dask
from .._errors import InputError
from .._frame import as_frame, require_columns
from ..report import Finding
from . import (
    _checks_dates,
    _checks_nulls,
    _checks_outliers,
    _checks_rows,
    _checks_target,
    _checks_types,
)
from ._data import AuditData
from ._profile import profile_data
from ._registry import resolve_checks
from ._report import AuditReport

__all__ = ["audit"]

# The built-in checks register themselves on import; keep the modules referenced.
_BUILTINS = (_checks_rows, _checks_target, _checks_nulls, _checks_types, _checks_dates, _checks_outliers)


def _as_id_cols(id_cols: Any) -> tuple[Hashable, ...]:
    if id_cols is None:
        return ()
    if isinstance(id_cols, str) or not isinstance(id_cols, Iterable):
        return (id_cols,)
    return tuple(id_cols)


def check_roles(frame: Any, *, target: Hashable | None, time_col: Hashable | None,
                ids: tuple[Hashable, ...]) -> None:
    """Refuse a ``target``, ``time_col`` or id column not in ``frame``, and a target among the ids."""
    for what, cols in (("target", [target]), ("time_col", [time_col]), ("id_cols", list(ids))):
        cols = [c for c in cols if c is not None]
        if cols:
            require_columns(frame, cols, what=what)
    if target is not None and target in ids:
        raise InputError(f"target {target!r} is also in id_cols", column=target,
                         expected="a target that is not an identifier")


def audit(
    df: Any,
    *,
    target: Hashable | None = None,
    time_col: Hashable | None = None,
    id_cols: Hashable | Iterable[Hashable] | None = None,
    checks: Iterable[Any] | Mapping[str, Mapping[str, Any]] | None = None,
    spec: Any = None,
) -> AuditReport:
    """Find what is wrong with a table before anything is built on it.

    Built-in checks (by name): ``duplicate_column_names``,
    ``duplicate_rows``, ``duplicates_ignoring_ids`` (with ``id_cols``),
    ``target_missing``, ``conflicting_labels``, ``target_imbalance``,
    ``target_leakage`` (with ``target``), ``disguised_nulls`` (null tokens
    and numeric sentinels), ``infinite_values``, ``mostly_missing``, ``constant`` (and
    near-constant), ``mixed_types``, ``numbers_as_strings``,
    ``category_variants``, ``id_like``, ``date_formats`` (several formats,
    ambiguous day/month, dates as text) and ``outliers``; plus every check
    added with :func:`mllife.audit.register_check`.

    Dask frames and Parquet datasets: ``df`` may be a ``dask.dataframe.DataFrame``
    or the path of a Parquet file, glob or folder (read with Dask; the extra
    ``pip install "mllife[dask]"``; column names must be unique). One
    distributed pass summarises every partition (distinct values with their
    counts and first rows, quantile sketches, a seeded row sample) and
    shuffles row hashes by hash to count copies and label conflicts; only
    summaries and the sample reach the client. Then:

    - every built-in check but ``target_leakage`` runs on the merged
      summaries and gives the findings of ``audit(ddf.compute())``, sample
      rows included, for columns of at most 100,000 distinct values (in a
      column with more than 50,000 repeated rows, the earliest 50,000 are
      kept for the sample rows);
    - ``target_leakage`` and registered checks run on a seeded sample of
      100,000 rows (the whole table when smaller) and their messages end in
      ``(on a sample of n of N rows)``;
    - a column above 100,000 distinct values keeps exact counts of missing
      values, null tokens, sentinel candidates and infinities; its outlier
      fences are made exact by a second pass over such numeric columns only;
      its distinct count is estimated and its null-token levels and
      sentinels are judged from a sample of its distinct values and a
      quantile sketch (the findings say so); mixed types, numbers as text,
      spellings and date formats judge it on the row sample.

    ``report.scale`` lists what ran where and ``report.notes`` says it in
    words. Column kinds come from the row sample (``kind_reason`` says so when
    it is smaller than the table). Wrap the call in
    :func:`mllife.scale.progress` for a progress bar.

    Parameters
    ----------
    df : pandas.DataFrame, 2-D array, dask.dataframe.DataFrame or Parquet path
        The table; never modified.
    target : column label, optional
        The label column: enables the target checks.
    time_col : column label, optional
        The event-time column (not judged as a feature by the leakage check).
    id_cols : column label or list of them, optional
        Identifier columns: ignored by the conflicting-label, duplicate-ignoring-id
        and outlier checks (a panel's person id repeats, so it is no ID-like column).
    checks : list or mapping, optional
        Which checks to run: ``None`` for all; a list of names (and/or check
        functions); or ``{name: {param: value}}`` to set parameters, e.g.
        ``{"mostly_missing": {"threshold": 0.8}}``.
    spec : ProblemSpec, optional
        Takes ``target`` and ``time_col`` from the problem statement
        (:mod:`mllife._spec`); an explicit keyword that disagrees with it raises.

    Returns
    -------
    AuditReport
        ``report.findings`` (gravest first), ``report.profile``,
        ``report.to_frame()`` (the findings table), HTML with plots;
        ``report.scale`` for a Dask frame.

    Raises
    ------
    InputError
        When ``df`` is not a table, ``target``/``time_col``/``id_cols`` are not
        columns, a check name is unknown, a check misbehaves, or ``spec``
        disagrees with ``target`` or ``time_col``.

    Examples
    --------
    >>> import mllife
    >>> frame, manifest = mllife.make_churn(1_000, random_state=0)
    >>> report = mllife.audit(frame, target="churned", id_cols=["customer_id"])
    >>> sorted({f.check for f in report.findings if f.severity != "info"})[:4]
    ['category_variants', 'conflicting_labels', 'date_formats', 'disguised_nulls']
    >>> report.findings_by(check="duplicate_rows")[0].n_rows
    20

    The same audit on a Dask frame (here on Dask's local scheduler):

    >>> import dask.dataframe as dd
    >>> lazy = mllife.audit(dd.from_pandas(frame, npartitions=4), target="churned",
    ...                     id_cols=["customer_id"])
    >>> lazy.findings_by(check="duplicate_rows")[0].n_rows
    20
    >>> lazy.scale["sampled"]
    ('target_leakage',)
    """
    from .._spec import resolve_spec

    given = resolve_spec(spec, where="audit", target=target, time_col=time_col)
    target, time_col = given["target"], given["time_col"]
    lazy = _dask.to_dask_frame(df, name="df")
    ids = _as_id_cols(id_cols)
    frame = lazy if lazy is not None else as_frame(df, name="df", allow_duplicate_columns=True)
    check_roles(frame, target=target, time_col=time_col, ids=ids)  # pandas and Dask alike
    if lazy is not None:
        from ._dask import audit_dask

        return audit_dask(lazy, target=target, time_col=time_col, ids=ids, checks=checks)
    selected = resolve_checks(checks)
    data = AuditData(frame, target=target, time_col=time_col, id_cols=ids)
    findings: list[Finding] = []
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        findings.append(Finding(
            "empty_table", "error",
            message=f"the table has {frame.shape[0]} rows and {frame.shape[1]} columns",
            n_rows=0, suggestion="check how the table was loaded or filtered",
        ))
        selected = [c for c in selected if c.name == "duplicate_column_names"]
    for check in selected:
        findings.extend(check.run(data))
    order = {c.name: i for i, c in enumerate(selected)}
    positions = {c.label: c.position for c in data.columns} if data.columns else {}
    findings.sort(key=lambda f: (-f.rank, order.get(f.check, -1), positions.get(f.column, -1)))
    prof = profile_data(data) if frame.shape[1] else pd.DataFrame()
    return AuditReport(
        findings=findings, profile=prof, n_rows=frame.shape[0], n_columns=frame.shape[1],
        target=target, time_col=time_col, id_cols=ids, checks=tuple(c.name for c in selected),
    )
