"""What each report logs: headline numbers, series, settings, tags and child runs.

:func:`extract` reads a :class:`~mllife.report.Report` and returns an
:class:`Extracted`: plain dictionaries a :class:`~mllife.tracking.Tracker`
can take, with flat names (``test.roc_auc``, ``column.age.p_value``). It
never changes the report and never talks to a tracker; the logger
(:func:`~mllife.tracking.log_report`) does that.

Rules every report type follows:

- ``summary.<key>``: every number of the report's summary cards (booleans as
  0/1), nested keys joined with ``.``; then the numbers of its type (below).
- ``findings.<severity>`` and ``findings.by_check.<check>``: how many findings.
- Values are floats. A headline value that is NaN or infinite is kept (the
  logger drops it from the tracker's metrics and lists it); a table cell the
  report leaves empty (None, NaN) gives no metric at all.
- Params are ``settings.<name>``: the settings the report records, as text
  (they never clash with the parameters of the analysis call, which the
  caller may log too). Tags start with ``mllife.``.
- User data in names (column names, check names, model names) are written
  readably (``str``; ``repr`` when two would read the same; cut to
  :data:`MAX_LABEL` characters with a short hash), and each is distinct.
- Output is bounded: at most :data:`MAX_COLUMNS` columns get per-column
  metrics (the most drifted first), at most :data:`MAX_ITEMS` numbers come
  from a summary, settings or per-check counts, at most :data:`MAX_STEPS`
  windows become steps (the latest); a cut is said in a ``mllife.cut.*`` tag.
"""

from __future__ import annotations

import numbers
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ..report import Report
from ..report._base import _BUILTIN_REPORTS
from ._names import cut_text, flatten, name_hash, param_text

__all__ = ["MAX_COLUMNS", "MAX_ITEMS", "MAX_LABEL", "MAX_STEPS", "ChildRun", "Extracted",
           "extract"]

#: Per-column metrics (drift) are kept for at most this many columns, the most drifted first.
MAX_COLUMNS = 100
#: At most this many numbers from one summary, one settings mapping or one count by check.
MAX_ITEMS = 200
#: At most this many monitor windows become steps (the latest ones).
MAX_STEPS = 10_000
#: A name taken from user data (a column, a model, a check) is cut to this many characters.
MAX_LABEL = 100
#: The longest text tag (error messages, lists of names).
MAX_TAG = 5000
#: An error message or a reason in a tag is cut to this many characters.
MAX_MESSAGE = 1000


@dataclass(frozen=True)
class ChildRun:
    """One nested run: a candidate of :func:`~mllife.compare_models`, say.

    Parameters
    ----------
    name : str
        The run's name (the candidate's name).
    params : dict of str to str
    metrics : dict of str to float
        May hold NaN or infinities: the logger drops and lists them.
    tags : dict of str to str
    failed : bool, default=False
        The candidate failed in every fold: its run ends ``"FAILED"``.

    Examples
    --------
    >>> ChildRun("ridge", {}, {"mae.mean": 3.2}, {"mllife.role": "candidate"})
    ChildRun(name='ridge', params={}, metrics={'mae.mean': 3.2}, tags={'mllife.role': 'candidate'}, failed=False)
    """

    name: str
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    failed: bool = False


@dataclass(frozen=True)
class Extracted:
    """What a report logs: see :func:`extract`.

    Parameters
    ----------
    metrics : dict of str to float
        Headline numbers, flat names; NaN and infinities kept.
    steps : list of (int, dict of str to float)
        A series, one entry per step (a monitor's windows, in time order).
        Its names never appear in ``metrics``.
    params : dict of str to str
        The settings the report records (``settings.<name>``).
    tags : dict of str to str
        ``mllife.report`` (the class name), ``mllife.title`` and the
        type's own (``mllife.best_model``, ``mllife.decision``...).
    children : list of ChildRun
        One per candidate of a comparison; empty for other reports.

    Examples
    --------
    >>> Extracted(metrics={"rows": 3.0}, steps=[], params={}, tags={}, children=[]).metrics
    {'rows': 3.0}
    """

    metrics: dict[str, float]
    steps: list[tuple[int, dict[str, float]]]
    params: dict[str, str]
    tags: dict[str, str]
    children: list[ChildRun]


def extract(report: Report) -> Extracted:
    """The numbers, series, settings, tags and child runs a report logs to a tracker.

    Every report gets ``summary.<key>`` (its summary's numbers) and the
    counts of its findings (``findings.error``, ``findings.by_check.<check>``);
    each of mllife's report types adds its own:

    - :class:`~mllife.experiments.ComparisonReport`: one :class:`ChildRun`
      per model (baseline included) with ``<score>.mean``, ``<score>.std``,
      ``fit_seconds``, ``latency_1row_ms``, ``latency_per_row_batch_ms``,
      ``size_bytes``, ``lift.<score>``, ``folds_failed``, ``rank`` and, with
      criteria, ``criteria.passed`` and ``criteria.<item>.actual`` /
      ``.target`` / ``.passed``; a model that failed in a fold has its error in
      the tag ``mllife.error``, and ``failed=True`` when it failed in every
      fold. The parent run: ``best.<primary>.mean`` / ``.std``,
      ``baseline.<primary>.mean``, ``n_models``, ``n_failed`` (every fold),
      ``n_with_errors`` (some fold), ``n_folds``, ``n_rows``,
      ``criteria.n_passed`` and ``criteria.best_passed``; tags
      ``mllife.primary_score``, ``mllife.best_model``, ``mllife.task``.
    - :class:`~mllife.evaluation.EvaluationReport`: ``test.<metric>``,
      ``train.<metric>``, ``gap.<metric>`` (train minus test),
      ``baseline.<metric>``, ``lift.<metric>``, latency and size
      (``latency_p50_ms``, ``latency_p95_ms``, ``batch_p50_ms``,
      ``batch_p95_ms``, ``model_bytes``), ``criteria.passed`` and one
      ``criteria.<item>.*`` per criterion, the red flags as 0/1
      (``red_flags.overfitting``, ``.test_above_train``,
      ``.suspiciously_perfect``, ``.recent_worse``; the ones raised also in
      the tag ``mllife.red_flags``) with the numbers behind them
      (``red_flags.test_ci_low``...), the worst slice (``slices.worst.value``,
      ``.gap``, ``.n``, ``.p_adjusted``; ``slices.n_significant``), the
      fairness gaps (``fairness.<name>``) and the period test
      (``period.<name>``).
    - :class:`~mllife.evaluation.ChampionChallengerResult`: ``difference``,
      ``ci_low``, ``ci_high``, ``p_value``, ``statistic``, ``promote`` (0/1),
      ``champion.<metric>``, ``challenger.<metric>``, events and resamples;
      per guard metric ``guard.<metric>.difference`` / ``.ci_low`` /
      ``.ci_high`` / ``.passed``...; tags ``mllife.decision`` and
      ``mllife.reason``.
    - :class:`~mllife.drift.DriftReport`: ``drift_share``, ``n_drifted``,
      ``n_columns``, ``drifted`` (0/1), the domain classifier
      (``multivariate.auc``...) and per column ``column.<name>.statistic``,
      ``.p_value``, ``.p_adjusted``, ``.effect_size`` and ``.drifted`` (0/1)
      for at most :data:`MAX_COLUMNS` columns, the most drifted first (the
      tag ``mllife.cut.columns`` says when some were left out; the table
      artifact has every column).
    - :class:`~mllife.monitor.MonitorReport`: one step per window (the
      step is the window's ``index``, in time order) with every number of
      its row of :attr:`~mllife.monitor.MonitorReport.windows` (drift share,
      prediction drift, confidence, estimated and realized performance with
      their intervals, rows, data-quality rates, latency, alarms) and
      ``alarms.<signal>``; the window labels are the param
      ``window_labels`` (``"0=2024-03-01, 1=..."``, bounded).
    - :class:`~mllife.AuditReport`, :class:`~mllife.LeakageReport`,
      :class:`~mllife.features.PreprocessorReport` and
      :class:`~mllife.testing.TransformerCheckReport`: their counts (rows,
      columns, checks, kinds, rules) and ``passed`` (0/1: no warning or
      error finding; for a transformer check, no failed rule).
    - Any other :class:`~mllife.report.Report`: the summary and finding
      counts alone.

    Parameters
    ----------
    report : Report
        Any mllife report (it is read, never changed).

    Returns
    -------
    Extracted

    Raises
    ------
    InputError
        If ``report`` is not a :class:`~mllife.report.Report`.

    Examples
    --------
    >>> from mllife.report import Finding, Report
    >>> report = Report(title="Demo", summary={"rows": 3, "share": 0.5, "note": "text"},
    ...                 findings=[Finding("odd", "warning", message="odd")])
    >>> out = extract(report)
    >>> out.metrics
    {'summary.rows': 3.0, 'summary.share': 0.5, 'findings.info': 0.0, 'findings.warning': 1.0, 'findings.error': 0.0, 'findings.by_check.odd': 1.0}
    >>> out.tags["mllife.report"], out.children
    ('Report', [])

    A drift report names each column, the most drifted first:

    >>> import numpy as np, pandas as pd
    >>> from mllife import drift_report
    >>> rng = np.random.default_rng(0)
    >>> reference = pd.DataFrame({"age": rng.normal(40, 10, 300), "a.b": rng.normal(size=300)})
    >>> current = reference.assign(age=reference["age"] + 10)
    >>> out = extract(drift_report(reference, current))
    >>> out.metrics["drift_share"], out.metrics["column.age.drifted"], out.metrics["column.a.b.drifted"]
    (0.5, 1.0, 0.0)
    >>> out.tags["mllife.drifted_columns"]
    'age'
    """
    if not isinstance(report, Report):
        raise InputError(f"extract: report is a {type(report).__name__}",
                         expected="an mllife Report (what an analysis returns)")
    out = _Out()
    out.tags["mllife.report"] = type(report).__name__
    out.tags["mllife.title"] = cut_text(str(report.title), MAX_MESSAGE)
    _summary(report, out)
    _finding_counts(report, out)
    own = _extractor(type(report))
    if own is not None:
        own(report, out)
    return Extracted(metrics=out.metrics, steps=out.steps, params=out.params, tags=out.tags,
                     children=out.children)


# ---- the collector and its helpers ---------------------------------------------------------
class _Out:
    """What :func:`extract` collects."""

    def __init__(self) -> None:
        self.metrics: dict[str, float] = {}
        self.steps: list[tuple[int, dict[str, float]]] = []
        self.params: dict[str, str] = {}
        self.tags: dict[str, str] = {}
        self.children: list[ChildRun] = []

    def value(self, name: str, value: Any) -> None:
        """A headline value: any number (NaN and infinities kept); None or text is skipped."""
        number = _number(value)
        if number is not None:
            self.metrics[name] = number

    def cell(self, name: str, value: Any) -> None:
        """A table cell: like :meth:`value`, but a missing cell (NaN) gives no metric."""
        _put_cell(self.metrics, name, value)


def _number(value: Any) -> float | None:
    """``value`` as a float (booleans 0/1), or None for anything that is not a real number."""
    if isinstance(value, bool | np.bool_):
        return float(bool(value))
    if isinstance(value, numbers.Real):
        return float(value)
    return None


def _put_cell(target: dict[str, float], name: str, value: Any) -> None:
    number = _number(value)
    if number is not None and not np.isnan(number):
        target[name] = number


def _text(value: Any, limit: int = MAX_MESSAGE) -> str:
    return cut_text(str(value), limit)


def _joined(names: Iterable[str], limit: int = MAX_TAG) -> str:
    """Names joined with ``", "`` in at most ``limit`` characters, saying how many were left out."""
    items = list(names)
    text = ", ".join(items)
    if len(text) <= limit:
        return text
    shown: list[str] = []
    for item in items:
        tail = f" … and {len(items) - len(shown) - 1} more"
        if len(", ".join([*shown, item])) + len(tail) > limit:
            break
        shown.append(item)
    return ", ".join(shown) + f" … and {len(items) - len(shown)} more"


def _canonical(value: Any) -> Any:
    """Lists as tuples, recursively: a tuple column name read back from JSON is a list."""
    if isinstance(value, list | tuple):
        return tuple(_canonical(v) for v in value)
    return value


def _labels(values: Sequence[Any]) -> list[str]:
    """Readable, distinct names for user data (column names, models, checks), in order.

    ``str`` of each; ``repr`` for those whose ``str`` another shares (``1`` and
    ``"1"``); then ``#<position>`` if even that is shared. A label longer than
    :data:`MAX_LABEL` is cut and ends with ``-`` and a hash of the whole label.
    """
    canon = [_canonical(v) for v in values]
    first = [repr(v) if isinstance(v, str) and not v else str(v) for v in canon]  # "" -> ''
    counts = Counter(first)
    second = [text if counts[text] == 1 else repr(v) for text, v in zip(first, canon, strict=True)]
    counts = Counter(second)
    third = [text if counts[text] == 1 else f"{text}#{i}" for i, text in enumerate(second)]
    out = [text if len(text) <= MAX_LABEL else text[:MAX_LABEL - 9] + "-" + name_hash(text)
           for text in third]
    if len(set(out)) < len(out):   # a cut label met another one: number every label
        out = [f"{text}#{i}" for i, text in enumerate(out)]
    return out


def _settings(settings: Mapping[str, Any], out: _Out, prefix: str = "settings") -> None:
    """Each setting as the param ``settings.<name>`` (at most :data:`MAX_ITEMS`)."""
    items = list(flatten(dict(settings)).items()) if settings else []
    for key, value in items[:MAX_ITEMS]:
        # an empty mapping or list is kept whole by flatten: write it as {} or [], not its repr
        shown = dict(value) if isinstance(value, Mapping) else \
            list(value) if isinstance(value, tuple) else value
        out.params[f"{prefix}.{key}"] = param_text(shown)
    if len(items) > MAX_ITEMS:
        out.tags[f"mllife.cut.{prefix}"] = f"{MAX_ITEMS} of {len(items)} settings logged"


def _summary(report: Report, out: _Out) -> None:
    numbers_ = [(k, v) for k, v in flatten(dict(report._summary())).items()
                if _number(v) is not None]
    for key, value in numbers_[:MAX_ITEMS]:
        out.value(f"summary.{key}", value)
    if len(numbers_) > MAX_ITEMS:
        out.tags["mllife.cut.summary"] = f"{MAX_ITEMS} of {len(numbers_)} summary numbers logged"


def _finding_counts(report: Report, out: _Out) -> None:
    for severity, n in report.severity_counts().items():
        out.value(f"findings.{severity}", n)
    by_check = Counter(f.check for f in report.findings)
    checks = list(by_check)
    for label, check in zip(_labels(checks[:MAX_ITEMS]), checks[:MAX_ITEMS], strict=True):
        out.value(f"findings.by_check.{label}", by_check[check])
    if len(checks) > MAX_ITEMS:
        out.tags["mllife.cut.findings"] = f"{MAX_ITEMS} of {len(checks)} checks counted"


def _passed(report: Report) -> bool:
    """No warning and no error finding."""
    return not any(f.severity in ("warning", "error") for f in report.findings)


def _checklist(table: pd.DataFrame | None, target: dict[str, float]) -> None:
    """``criteria.<item>.target`` / ``.actual`` / ``.passed`` per row of a criteria checklist."""
    if table is None or not len(table):
        return
    items = [str(item) for item in table["item"]]
    # "recall ≥ 0.8" -> "recall", "latency p95 ≤ 50 ms" -> "latency p95"
    short = [item.replace("≤", "≥").split(" ≥ ")[0].strip() or item for item in items]
    for label, row in zip(_labels(short), table.itertuples(index=False), strict=True):
        for what in ("target", "actual", "passed"):
            _put_cell(target, f"criteria.{label}.{what}", getattr(row, what))


# ---- one function per report type ----------------------------------------------------------
def _comparison(report: Any, out: _Out) -> None:
    results = report.results
    primary = str(report.primary)
    scoring = [str(s) for s in report.scoring]
    n_splits = int(report.n_splits)
    best = report.best
    baseline = report.baseline_name
    out.tags.update({"mllife.task": _text(report.task), "mllife.primary_score": _text(primary),
                     "mllife.best_model": _text(best),
                     "mllife.baseline_model": _text(baseline)})
    out.params.update({"settings.task": param_text(report.task),
                       "settings.primary_score": param_text(primary),
                       "settings.scoring": param_text(", ".join(scoring)),
                       "settings.baseline": param_text(baseline)})
    out.value("n_folds", n_splits)
    out.value("n_rows", report.n_rows)
    out.value("n_models", len(results))
    failed_folds = pd.to_numeric(results.get("n_folds_failed", pd.Series(0, index=results.index)),
                                 errors="coerce").fillna(0)
    out.value("n_failed", int((failed_folds >= max(n_splits, 1)).sum()))
    out.value("n_with_errors", int((failed_folds > 0).sum()))
    for who, name in (("best", best), ("baseline", baseline)):
        rows = results[results["model"] == name] if len(results) else results
        if name is not None and len(rows):
            for what in ("mean", "std"):
                column = f"{primary}_{what}"
                if column in results.columns:
                    out.value(f"{who}.{primary}.{what}", rows[column].iloc[0])
    passed = report.passed
    if passed is not None:
        out.value("criteria.n_passed", sum(bool(v) for v in passed.values()))
        if best is not None:
            out.value("criteria.best_passed", bool(passed.get(best, False)))
    checklist = report.checklist
    errors = report.errors
    unmeasured = dict(report.unmeasured_size)
    for rank, row in enumerate(results.to_dict("records"), start=1):
        name = str(row["model"])
        metrics: dict[str, float] = {"rank": float(rank)}
        for score in scoring:
            _put_cell(metrics, f"{score}.mean", row.get(f"{score}_mean"))
            _put_cell(metrics, f"{score}.std", row.get(f"{score}_std"))
            _put_cell(metrics, f"lift.{score}", row.get(f"lift_{score}"))
        for column in ("fit_seconds", "latency_1row_ms", "latency_per_row_batch_ms",
                       "size_bytes"):
            _put_cell(metrics, column, row.get(column))
        folds_failed = _number(row.get("n_folds_failed", 0)) or 0.0
        metrics["folds_failed"] = folds_failed
        tags = {"mllife.model": _text(name),
                "mllife.role": "baseline" if name == baseline else "candidate",
                "mllife.best": str(name == best).lower()}
        if passed is not None and name in passed:
            metrics["criteria.passed"] = float(bool(passed[name]))
        if checklist is not None and len(checklist):
            _checklist(checklist[checklist["model"] == name], metrics)
        if name in errors:
            tags["mllife.error"] = _text(errors[name])
        if name in unmeasured:
            tags["mllife.size_unmeasured"] = _text(unmeasured[name])
        if "forecast" in row and isinstance(row["forecast"], str):
            tags["mllife.forecast"] = _text(row["forecast"])
        out.children.append(ChildRun(name=name, params={}, metrics=metrics, tags=tags,
                                     failed=bool(n_splits and folds_failed >= n_splits)))


def _evaluation(report: Any, out: _Out) -> None:
    for prefix, values in (("test", report.metrics), ("train", report.train_metrics),
                           ("baseline", report.baseline_metrics), ("lift", report.lift),
                           ("fairness", report.fairness_differences)):
        for name, value in (values or {}).items():
            out.value(f"{prefix}.{name}", value)
    gap = report.train_test_gap
    if gap is not None and len(gap):
        for row in gap.itertuples(index=False):
            out.cell(f"gap.{row.metric}", row.gap)
    out.value("n_test_rows", report.n_rows)
    for name in ("latency_p50_ms", "latency_p95_ms", "batch_p50_ms", "batch_p95_ms",
                 "model_bytes"):
        out.value(name, getattr(report, name))
    if report.passed is not None:
        out.value("criteria.passed", report.passed)
    _checklist(report.checklist, out.metrics)
    # red flags: each 0/1 when it was judged, the numbers behind them
    test = dict(report.red_flag_test or {})
    for key, value in test.items():
        if not isinstance(value, bool | np.bool_):
            out.value(f"red_flags.{key}", value)
    flags: dict[str, bool | None] = {
        "overfitting": report.overfitting,
        "test_above_train": test.get("test_above_train") if "train" in test else None,
        "suspiciously_perfect": any(f.check == "suspiciously_perfect" and f.severity != "info"
                                    for f in report.findings) if test else None,
        "recent_worse": report.recent_worse,
    }
    judged = {k: bool(v) for k, v in flags.items() if v is not None}
    for key, value in judged.items():
        out.value(f"red_flags.{key}", value)
    out.tags["mllife.red_flags"] = ", ".join(k for k, v in judged.items() if v) or "none"
    period = report.period_test or {}
    for key, value in flatten(dict(period)).items():
        if not isinstance(value, bool | np.bool_):
            out.value(f"period.{key}", value)
    slices = report.slices
    out.value("slices.judged", report.slices_judged)
    if len(slices):
        worst = slices.iloc[0]
        for what in ("value", "overall", "gap", "n", "share", "ci_low", "ci_high", "p_value",
                     "p_adjusted"):
            if what in slices.columns:
                out.cell(f"slices.worst.{what}", worst[what])
        if "significant" in slices.columns:
            out.value("slices.n_significant",
                      int(slices["significant"].astype("boolean").fillna(False).sum()))
        out.tags["mllife.worst_slice"] = _text(f"{worst.get('feature')} = {worst.get('slice')}")
        out.tags["mllife.slice_metric"] = _text(worst.get("metric"))
    out.tags["mllife.task"] = _text(report.task)
    out.tags["mllife.baseline_model"] = _text(report.baseline_name)
    out.params.update({"settings.task": param_text(report.task),
                       "settings.baseline": param_text(report.baseline_name),
                       "settings.positive_label": param_text(report.positive_label)})
    if "metric" in test:
        out.params["settings.primary_metric"] = param_text(test["metric"])


def _champion(report: Any, out: _Out) -> None:
    metric = str(report.metric)
    out.value(f"champion.{metric}", report.champion_score)
    out.value(f"challenger.{metric}", report.challenger_score)
    for name in ("difference", "ci_low", "ci_high", "p_value", "statistic", "n_rows", "n_boot",
                 "n_boot_valid", "n_events", "min_events"):
        out.value(name, getattr(report, name))
    out.value("promote", report.decision == "promote")
    guards = report.guards
    if len(guards):
        labels = _labels([str(m) for m in guards["metric"]])
        for label, row in zip(labels, guards.to_dict("records"), strict=True):
            for what in ("champion", "challenger", "difference", "ci_low", "ci_high",
                         "tolerance", "passed"):
                out.cell(f"guard.{label}.{what}", row.get(what))
        out.value("guards.passed", bool(guards["passed"].astype(bool).all()))
    out.tags.update({"mllife.decision": _text(report.decision), "mllife.metric": _text(metric),
                     "mllife.test": _text(report.test), "mllife.reason": _text(report.reason)})
    out.params.update({f"settings.{name}": param_text(getattr(report, name))
                       for name in ("metric", "alpha", "confidence", "n_boot", "test")})


def _drift(report: Any, out: _Out) -> None:
    out.value("drift_share", report.drift_share)
    out.value("n_drifted", report.n_drifted)
    out.value("n_columns", report.n_columns)
    out.value("drifted", report.drifted)
    out.value("n_reference_rows", report.n_reference)
    out.value("n_current_rows", report.n_current)
    for key, value in flatten(dict(report.multivariate or {})).items():
        out.value(f"multivariate.{key}", value)
    table = report.table
    if len(table) and "column" in table.columns:
        labels = _labels(list(table["column"]))
        n = len(table)
        drifted = table["drifted"].astype("boolean").fillna(False).to_numpy(dtype=bool) \
            if "drifted" in table.columns else np.zeros(n, dtype=bool)
        effect = pd.to_numeric(table["effect_size"], errors="coerce").fillna(-1.0) \
            .to_numpy(dtype=float) if "effect_size" in table.columns else np.zeros(n)
        # the report's own order (DriftReport._ranked): drifted first, then by effect size
        kept = np.lexsort((np.arange(n), -effect, ~drifted))[:MAX_COLUMNS]
        records = table.to_dict("records")
        for position in kept:
            row = records[int(position)]
            for what in ("statistic", "p_value", "p_adjusted", "effect_size", "drifted"):
                if what in row:
                    out.cell(f"column.{labels[position]}.{what}", row[what])
        out.value("n_columns_logged", len(kept))
        if len(table) > MAX_COLUMNS:
            out.tags["mllife.cut.columns"] = (
                f"per-column metrics for {MAX_COLUMNS} of {len(table)} columns, the most "
                "drifted first; every column is in the table artifact")
        out.tags["mllife.drifted_columns"] = _joined(
            label for label, flag in zip(labels, drifted, strict=True) if flag) or "none"
    _settings(report.settings, out)


def _monitor(report: Any, out: _Out) -> None:
    windows = report.windows
    signals = report.signals
    out.value("n_windows", len(windows))
    alarms = report.alarms
    out.value("total_alarms", len(alarms))
    out.value("n_alarmed_windows", len(report.alarmed_windows))
    settings = dict(report.settings)
    counts_ = settings.pop("counts", None)   # what the monitor counted: numbers, not settings
    for key, value in flatten(dict(counts_)).items() if isinstance(counts_, Mapping) else ():
        out.value(f"counts.{key}", value)
    _settings(settings, out)
    out.tags["mllife.alarmed_windows"] = _joined(report.alarmed_windows) or "none"
    if windows.empty:
        return
    if "index" in windows.columns:
        steps = pd.to_numeric(windows["index"], errors="coerce").to_numpy(dtype=float)
    else:
        steps = np.arange(len(windows), dtype=float)
    order = np.argsort(steps, kind="stable")
    columns = [c for c in windows.columns
               if c != "index" and (pd.api.types.is_bool_dtype(windows[c].dtype)
                                    or (pd.api.types.is_numeric_dtype(windows[c].dtype)
                                        and not pd.api.types.is_complex_dtype(windows[c].dtype)))]
    labels = dict(zip(columns, _labels([str(c) for c in columns]), strict=True))
    # alarms.<signal>: per window, for every signal the monitor computed (0 without alarm)
    names = [str(s) for s in dict.fromkeys(signals["signal"].dropna())] \
        if len(signals) and "signal" in signals.columns else []
    counts: dict[float, Counter[str]] = {}
    for index, signal in zip(alarms.get("index", ()), alarms.get("signal", ()), strict=True):
        counts.setdefault(float(index), Counter())[str(signal)] += 1
    if len(order) > MAX_STEPS:
        out.tags["mllife.cut.steps"] = (f"the latest {MAX_STEPS} of {len(order)} windows "
                                        "logged as steps; every window is in the table artifact")
        order = order[-MAX_STEPS:]
    records = windows.to_dict("records")
    shown: list[str] = []
    for position in order:
        row = records[int(position)]
        step = int(steps[position])
        metrics: dict[str, float] = {}
        for column in columns:
            _put_cell(metrics, labels[column], row[column])
        window_counts = counts.get(float(steps[position]), Counter())
        for name in names:
            metrics[f"alarms.{name}"] = float(window_counts[name])
        out.steps.append((step, metrics))
        shown.append(f"{step}={row.get('window')}")
    out.params["window_labels"] = _joined(shown, limit=MAX_TAG)


def _audit(report: Any, out: _Out) -> None:
    out.value("n_rows", report.n_rows)
    out.value("n_columns", report.n_columns)
    out.value("checks_run", len(report.checks))
    out.value("passed", _passed(report))
    out.params.update({"settings.target": param_text(report.target),
                       "settings.time_col": param_text(report.time_col),
                       "settings.id_cols": param_text(list(report.id_cols)),
                       "settings.checks": param_text(", ".join(map(str, report.checks)))})


def _leakage(report: Any, out: _Out) -> None:
    names = list(report.n_rows)
    for label, name in zip(_labels(names), names, strict=True):
        out.value(f"rows.{label}", report.n_rows[name])
    out.value("passed", report.passed)
    checks = report.checks
    if len(checks):
        keys = [f"{c}.{b}" for c, b in zip(checks["check"], checks["between"], strict=True)]
        for label, row in zip(_labels(keys), checks.to_dict("records"), strict=True):
            for what in ("n_rows", "share", "value"):
                _put_cell(out.metrics, f"check.{label}.{what}", row.get(what))
            if str(row.get("status")) != "skipped":
                out.value(f"check.{label}.flagged", str(row.get("status")) in ("warning", "error"))
    scores = report.feature_scores
    if len(scores) and scores["score"].notna().any():
        top = scores.loc[pd.to_numeric(scores["score"], errors="coerce").idxmax()]
        out.value("feature_score.max", top["score"])
        out.tags["mllife.top_feature"] = _text(top["column"])
    out.tags["mllife.leaky_columns"] = _joined(_labels(report.leaky_columns)) or "none"


def _preprocessor(report: Any, out: _Out) -> None:
    plan = report.plan
    if len(plan) and "kind" in plan.columns:
        counts = plan["kind"].astype(str).value_counts(sort=False)
        kinds = list(counts.index)
        for label, kind in zip(_labels(kinds), kinds, strict=True):
            out.value(f"kind.{label}", int(counts[kind]))
    if len(plan) and "action" in plan.columns:
        dropped = plan["action"].astype(str).str.startswith("dropped")
        out.value("input_columns", len(plan))
        out.value("kept", int((~dropped).sum()))
        out.value("dropped", int(dropped.sum()))
    if report.features is not None:
        out.value("output_features", len(report.features))
    out.value("passed", _passed(report))


def _transformer_check(report: Any, out: _Out) -> None:
    rules = report.rules
    counts = rules["status"].value_counts() if len(rules) else pd.Series(dtype=int)
    out.value("rules", len(rules))
    for status in ("passed", "failed", "skipped"):
        out.value(f"rules.{status}", int(counts.get(status, 0)))
    out.value("passed", report.passed)
    out.tags["mllife.estimator"] = _text(report.estimator)
    out.tags["mllife.failed_rules"] = _joined(report.failed_rules) or "none"


_EXTRACTORS: dict[str, Callable[[Any, _Out], None]] = {
    "AuditReport": _audit,
    "LeakageReport": _leakage,
    "ComparisonReport": _comparison,
    "EvaluationReport": _evaluation,
    "ChampionChallengerResult": _champion,
    "DriftReport": _drift,
    "PreprocessorReport": _preprocessor,
    "MonitorReport": _monitor,
    "TransformerCheckReport": _transformer_check,
}


def _extractor(cls: type) -> Callable[[Any, _Out], None] | None:
    """The extraction of mllife's own report class ``cls`` is, or derives from (by module)."""
    for base in cls.__mro__:
        name = base.__name__
        if name in _EXTRACTORS and _BUILTIN_REPORTS.get(name) == base.__module__:
            return _EXTRACTORS[name]
    return None
