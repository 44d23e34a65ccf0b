"""``MonitorReport``: a monitor's timeline, one row per window, every signal and alarm."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError
from ..report import Plot, Report
from ..report._plots import PALETTE, timeline_ticks

__all__ = ["COLUMN_COLUMNS", "SIGNALS", "SIGNAL_COLUMNS", "WINDOW_COLUMNS", "MonitorReport"]

#: The signals of a monitor, in report order: the only spelling of their names.
SIGNALS: tuple[str, ...] = (
    "data_drift", "prediction_drift", "confidence", "estimated_performance",
    "realized_performance", "data_quality", "freshness", "operations", "sequential",
)
#: The columns of :attr:`MonitorReport.signals`, one row per window, signal and column.
SIGNAL_COLUMNS: tuple[str, ...] = ("window", "index", "signal", "column", "statistic", "value",
                                   "low", "high", "p_value", "level", "alarm", "reason")
#: The columns of :attr:`MonitorReport.windows` before the metric columns ...
WINDOW_COLUMNS: tuple[str, ...] = (
    "window", "index", "start", "end", "n_rows", "n_labelled", "drift_share", "n_drifted",
    "n_columns", "prediction_drift_p", "confidence_mean", "confidence_p")
#: ... and after them (``estimated_<m>``, ``_low``, ``_high``, ``realized_<m>`` ... per metric).
WINDOW_TAIL: tuple[str, ...] = (
    "schema_violation_rate", "unscored_rate", "repeat_share", "late_rows", "latency_p50_ms",
    "latency_p95_ms", "error_rate", "n_alarms")
#: The columns of :attr:`MonitorReport.columns`: the drift rows per window and column.
COLUMN_COLUMNS: tuple[str, ...] = (
    "window", "index", "column", "role", "method", "statistic", "p_adjusted", "effect_size",
    "drifted", "missing_current", "unseen_share", "status")

#: Timeline panels of rates in [0, 1]: ``(column, label)``; each drawn when it has a value.
_RATES = (("schema_violation_rate", "schema violations"), ("unscored_rate", "rows not scored"),
          ("repeat_share", "repeated rows"), ("error_rate", "errors"))
#: Legends sit right of the axes, off the data.
_LEGEND = {"frameon": False, "fontsize": 8, "loc": "upper left", "bbox_to_anchor": (1.01, 1.0)}
_ALARM = {"marker": "o", "s": 36, "color": "#D00000", "zorder": 5, "label": "alarm"}


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class MonitorReport(Report):
    """The timeline of a :class:`~mllife.monitor.Monitor`: every window, signal and alarm.

    Built by :meth:`Monitor.report`; a value like every report (it pickles,
    compares equal when its :meth:`to_dict` is equal, and
    :meth:`~mllife.report.Report.from_dict` / ``Report.load`` rebuild it).
    Its findings are the monitor's alarms, one per alarm. :meth:`to_frame` is
    the windows table; the HTML page draws one timeline per signal family
    (performance with its intervals and threshold, drift share, prediction
    drift and confidence p-values, mean confidence, data-quality and
    freshness rates, latency), alarms marked in red.

    Attributes
    ----------
    windows : DataFrame
        One row per window, in order: ``window`` (label), ``index``,
        ``start``, ``end`` (UTC; NaT for row windows), ``n_rows``,
        ``n_labelled``, ``drift_share``, ``n_drifted``, ``n_columns``,
        ``prediction_drift_p``, ``confidence_mean``, ``confidence_p``, per
        metric ``m`` ``estimated_<m>``, ``estimated_<m>_low``,
        ``estimated_<m>_high``, ``realized_<m>``, ``realized_<m>_low``,
        ``realized_<m>_high``, then ``schema_violation_rate``,
        ``unscored_rate``, ``repeat_share``, ``late_rows``,
        ``latency_p50_ms``, ``latency_p95_ms``, ``error_rate`` and
        ``n_alarms`` (NaN where not computable).
    signals : DataFrame
        One row per window, signal and column (``column`` is None for a
        window-level signal): ``statistic``, ``value``, ``low``, ``high``,
        ``p_value``, ``level`` (the alpha it was tested at; NaN for the
        deterministic signals), ``alarm`` and ``reason``.
    columns : DataFrame
        The drift rows per window and column: ``role`` ("input" or
        "output"), ``method``, ``statistic``, ``p_adjusted``,
        ``effect_size``, ``drifted``, ``missing_current``, ``unseen_share``,
        ``status``.
    settings : mapping
        The monitor's settings and the stated error rates: ``alpha``,
        ``window``, ``rows``, ``time_col``, ``id_col``, ``label_col``,
        ``metrics``, ``thresholds``, ``n_signals``, ``per_window_level``,
        ``expected_false_alarms_per_100``, ``cusum`` (``k``, ``h``,
        ``arl0``), ``bundle_version``.
    reference : mapping
        What the reference holds: ``n_rows``, metric values, notes.

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.monitor import MonitorReport
    >>> windows = pd.DataFrame({"window": ["w0", "w1"], "index": [0, 1], "n_rows": [100, 120],
    ...                         "drift_share": [0.0, 0.5]})
    >>> signals = pd.DataFrame({"window": ["w1"], "index": [1], "signal": ["data_drift"],
    ...                         "column": [None], "statistic": ["drift_share"], "value": [0.5],
    ...                         "low": [float("nan")], "high": [float("nan")],
    ...                         "p_value": [0.001], "level": [0.01], "alarm": [True],
    ...                         "reason": ["2 of 4 columns drifted"]})
    >>> report = MonitorReport(windows=windows, signals=signals, settings={"alpha": 0.05})
    >>> report.alarmed_windows, report.latest["n_rows"]
    (['w1'], 120)
    >>> MonitorReport.from_dict(report.to_dict()) == report
    True
    """

    title: str = "Monitor report"
    windows: pd.DataFrame = field(default_factory=lambda: _empty(WINDOW_COLUMNS))
    signals: pd.DataFrame = field(default_factory=lambda: _empty(SIGNAL_COLUMNS))
    columns: pd.DataFrame = field(default_factory=lambda: _empty(COLUMN_COLUMNS))
    settings: Mapping[str, Any] = field(default_factory=dict)
    reference: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("windows", "signals", "columns"):
            value = object.__getattribute__(self, name)
            if not isinstance(value, pd.DataFrame):
                raise InputError(f"{name} is a {type(value).__name__}",
                                 expected="a pandas DataFrame (Monitor.report() builds it)")
        for name in ("settings", "reference"):
            value = object.__getattribute__(self, name)
            if not isinstance(value, Mapping):
                raise InputError(f"{name} is a {type(value).__name__}", expected="a mapping")
        _check_windows(object.__getattribute__(self, "windows"))
        signals = object.__getattribute__(self, "signals")
        if len(signals) and "signal" in signals.columns:
            unknown = sorted({str(s) for s in signals["signal"].dropna()} - set(SIGNALS))
            if unknown:
                raise InputError(f"unknown signal names {unknown[:5]} in signals",
                                 column="signal", expected=f"names among {', '.join(SIGNALS)}")
        if len(signals):
            absent = [c for c in ("window", "index", "signal", "alarm")
                      if c not in signals.columns]
            if absent:
                raise InputError(f"signals has no column {absent[0]!r}", column=absent[0],
                                 expected=f"the columns {', '.join(SIGNAL_COLUMNS)}")
            _check_index(signals["index"], "signals", unique=False)
            flags = signals["alarm"]
            if not pd.api.types.is_bool_dtype(flags.dtype):
                odd = [v for v in flags.dropna() if not isinstance(v, bool | np.bool_)]
                if odd:
                    raise InputError(f"signals holds alarm flags such as {odd[0]!r}",
                                     column="alarm", n_rows=len(odd),
                                     expected="True or False (missing counts as no alarm)")

    # ---- structured access ---------------------------------------------------------
    @property
    def metrics(self) -> list[str]:
        """The metrics of the performance columns (``settings["metrics"]``, else the columns)."""
        named = self.settings.get("metrics")
        if isinstance(named, str):
            return [named]
        if named:
            return [str(m) for m in named]
        out = []
        for column in self.windows.columns:
            name = str(column)
            if name.startswith("estimated_") and not name.endswith(("_low", "_high")):
                out.append(name[len("estimated_"):])
        return out

    @property
    def alarms(self) -> pd.DataFrame:
        """The rows of :attr:`signals` that raised an alarm, in order (a copy)."""
        signals = self.signals
        if signals.empty or "alarm" not in signals.columns:
            return signals.iloc[:0]
        flags = signals["alarm"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        return signals[flags].reset_index(drop=True)

    @property
    def alarmed_windows(self) -> list[str]:
        """Labels of the windows with at least one alarm, in window order."""
        alarms = self.alarms
        if alarms.empty:
            return []
        order = alarms.sort_values("index", kind="stable") if "index" in alarms.columns else alarms
        return [str(w) for w in dict.fromkeys(order["window"])]

    def signal(self, name: str) -> pd.DataFrame:
        """The rows of :attr:`signals` for one signal (a copy).

        Raises
        ------
        InputError
            When ``name`` is not one of :data:`SIGNALS`.

        Examples
        --------
        >>> MonitorReport().signal("freshness").empty
        True
        """
        if name not in SIGNALS:
            raise InputError(f"unknown signal {name!r}", expected=f"one of {', '.join(SIGNALS)}")
        signals = self.signals
        if signals.empty:
            return signals
        return signals[signals["signal"] == name].reset_index(drop=True)

    @property
    def latest(self) -> dict[str, Any]:
        """The last window's row as a dict (empty without windows)."""
        windows = self.windows
        if windows.empty:
            return {}
        return {str(k): v.item() if isinstance(v, np.generic) else v
                for k, v in windows.iloc[-1].to_dict().items()}

    # ---- report hooks ------------------------------------------------------------------
    def _summary(self) -> Mapping[str, Any]:
        windows = self.windows
        alarms = self.alarms
        out: dict[str, Any] = {"windows": len(windows)}
        if "n_rows" in windows.columns:
            out["rows"] = int(pd.to_numeric(windows["n_rows"], errors="coerce").fillna(0).sum())
        out["alarms"] = len(alarms)
        if len(alarms):
            counts = alarms["signal"].value_counts(sort=False)
            for name in SIGNALS:
                if name in counts.index:
                    out[f"alarms: {name}"] = int(counts[name])
        expected = self.settings.get("expected_false_alarms_per_100")
        if expected is not None:
            out["expected false alarms per 100 windows"] = expected
        latest = self.latest
        for kind in ("estimated", "realized"):
            for metric in self.metrics[:1]:
                value = latest.get(f"{kind}_{metric}")
                if value is not None and pd.notna(value):
                    out[f"latest {kind} {metric}"] = round(float(value), 4)
        return out

    def _tables(self) -> Mapping[str, pd.DataFrame]:
        return {"windows": self.windows, "alarms": self.alarms, "signals": self.signals,
                "columns": self.columns}

    def _notes(self) -> Sequence[str]:
        settings = self.settings
        notes: list[str] = []
        alpha = settings.get("alpha")
        if alpha is not None:
            level = settings.get("per_window_level")
            expected = settings.get("expected_false_alarms_per_100")
            text = (f"Stated false-alarm rate: in each window the G statistical signals that "
                    f"can be computed are each tested at alpha / G (Bonferroni, alpha={alpha}")
            if level is not None:
                text += f"; {_num(level, '.3g')} per signal with all {settings.get('n_signals')}"
            text += "), so a window without change raises a statistical alarm with probability "
            text += f"at most {alpha}"
            if expected is not None:
                text += f": at most {_num(expected, 'g')} expected false alarms per 100 windows"
            notes.append(text + ". Data-quality, freshness and operations alarms are "
                         "deterministic and never fire on a clean stream.")
        cusum = settings.get("cusum")
        if isinstance(cusum, Mapping) and cusum:
            notes.append(
                f"Sequential: one-sided Page CUSUM on the per-window z-scores of the confidence "
                f"and of the first estimated metric (k={cusum.get('k')}, h={cusum.get('h')}); "
                f"in-control average run length about {_fmt(cusum.get('arl0'))} windows per "
                "detector (Siegmund's approximation).")
        ref_notes = self.reference.get("notes")
        if isinstance(ref_notes, list | tuple):
            notes += [str(n) for n in ref_notes]
        return notes

    def _extra(self) -> Mapping[str, Any]:
        return {"settings": dict(self.settings), "reference": dict(self.reference),
                "alarmed_windows": self.alarmed_windows}

    # ---- plots ---------------------------------------------------------------------------
    def _plots(self) -> Sequence[Plot]:
        windows = self.windows
        if windows.empty or "window" not in windows.columns:
            return []
        labels = [str(w) for w in windows["window"]]
        x = np.arange(len(windows), dtype=float)
        position = _positions(windows)
        alarms = self.alarms
        alarm_x = {name: position(alarms.loc[alarms["signal"] == name, "index"])
                   for name in SIGNALS} if len(alarms) else {}
        size = (9.0, 3.4)
        plots: list[Plot] = []
        thresholds = self.settings.get("thresholds") or {}
        for metric in self.metrics:
            series = {kind: _band(windows, f"{kind}_{metric}") for kind in ("estimated", "realized")}
            if not any(np.isfinite(v[0]).any() for v in series.values()):
                continue
            threshold = thresholds.get(metric) if isinstance(thresholds, Mapping) else None
            reference = _reference_value(self.reference, metric)
            marks = {"estimated": alarm_x.get("estimated_performance", np.empty(0, int)),
                     "realized": alarm_x.get("realized_performance", np.empty(0, int))}
            plots.append(Plot(f"Performance over windows: {metric} (estimated and realized, "
                              "with intervals)",
                              _performance(x, labels, metric, series, marks, threshold, reference),
                              size=size))
        for column, title, ylabel, signal, log in (
            ("drift_share", "Data drift: share of input columns drifted", "drift share",
             "data_drift", False),
            ("prediction_drift_p", "Prediction drift: p-value of the outputs' drift",
             "p-value", "prediction_drift", True),
            ("confidence_p", "Confidence: p-value of the mean confidence vs reference",
             "p-value", "confidence", True),
            ("confidence_mean", "Confidence: mean max-probability", "mean confidence",
             "confidence", False),
        ):
            values = _numbers(windows, column)
            if not np.isfinite(values).any():
                continue
            level = _level(self.signals, signal) if log else None
            marks = alarm_x.get(signal, np.empty(0, int))
            plots.append(Plot(title, _series(x, labels, {ylabel: values}, marks, ylabel,
                                             log=log, level=level), size=size))
        rates = {label: _numbers(windows, column) for column, label in _RATES}
        rates = {k: v for k, v in rates.items() if np.isfinite(v).any()}
        if rates:
            marked = np.unique(np.concatenate(
                [alarm_x.get(s, np.empty(0, int)) for s in ("data_quality", "freshness",
                                                            "operations")]))
            plots.append(Plot("Data quality, freshness and errors: share of rows per window",
                              _series(x, labels, rates, marked, "share of rows"), size=size))
        latency = {f"latency {q}": _numbers(windows, f"latency_{q}_ms") for q in ("p50", "p95")}
        latency = {k: v for k, v in latency.items() if np.isfinite(v).any()}
        if latency:
            plots.append(Plot("Operations: latency per window", _series(
                x, labels, latency, alarm_x.get("operations", np.empty(0, int)), "ms"), size=size))
        return plots


# ---- helpers ---------------------------------------------------------------------------------
def _check_index(values: pd.Series, where: str, *, unique: bool) -> None:
    """Window indexes: numbers, none missing (and unique in :attr:`MonitorReport.windows`)."""
    numbers = pd.to_numeric(values, errors="coerce")
    bad = int((numbers.isna() | ~np.isfinite(numbers.to_numpy(dtype=float, na_value=np.nan)))
              .sum())
    if bad:
        raise InputError(f"{where} holds {bad} window indexes that are not numbers",
                         column="index", n_rows=bad, expected="the window's integer index")
    if unique and numbers.duplicated().any():
        raise InputError(f"{where} holds the window index {numbers[numbers.duplicated()].iloc[0]:g}"
                         " more than once", column="index",
                         n_rows=int(numbers.duplicated(keep=False).sum()),
                         expected="one row per window (Monitor.report() builds it)")


def _check_windows(windows: pd.DataFrame) -> None:
    """The windows' ``index`` (unique numbers) and ``start`` / ``end`` (date-times or missing)."""
    if windows.empty:
        return
    if "index" in windows.columns:
        _check_index(windows["index"], "windows", unique=True)
    for column in ("start", "end"):
        if column not in windows.columns:
            continue
        values = windows[column]
        if pd.api.types.is_datetime64_any_dtype(values.dtype):
            continue
        odd = [v for v in values.dropna() if not isinstance(v, _dt.datetime | np.datetime64)]
        if odd:
            raise InputError(f"windows holds {column} values such as {odd[0]!r}", column=column,
                             n_rows=len(odd),
                             expected="date-times (UTC; NaT for row windows)")


def _num(value: Any, spec: str) -> str:
    """A number formatted with ``spec``; anything else as text."""
    if isinstance(value, int | float | np.number) and not isinstance(value, bool):
        return format(float(value), spec)
    return str(value)


def _fmt(value: Any) -> str:
    try:
        return f"{float(value):,.0f}"
    except (TypeError, ValueError):
        return str(value)


def _reference_value(reference: Mapping[str, Any], metric: str) -> Any:
    """The reference's value of ``metric``: ``reference["metrics"][metric]`` or ``reference[metric]``."""
    metrics = reference.get("metrics")
    if isinstance(metrics, Mapping) and metric in metrics:
        return metrics[metric]
    return reference.get(metric)


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _band(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (_numbers(frame, column), _numbers(frame, f"{column}_low"),
            _numbers(frame, f"{column}_high"))


def _positions(windows: pd.DataFrame) -> Any:
    """``position(indexes)``: the row positions of windows given by their ``index``."""
    if "index" in windows.columns:
        keys = pd.Index(pd.to_numeric(windows["index"], errors="coerce"))
    else:
        keys = pd.Index(np.arange(len(windows), dtype=float))

    def position(indexes: Any) -> np.ndarray:
        found = keys.get_indexer(pd.to_numeric(pd.Series(indexes), errors="coerce"))
        return np.unique(found[found >= 0])

    return position


def _level(signals: pd.DataFrame, name: str) -> float | None:
    """The largest level a signal was tested at (its alarm line on a p-value plot)."""
    if signals.empty or "level" not in signals.columns:
        return None
    levels = pd.to_numeric(signals.loc[signals["signal"] == name, "level"], errors="coerce")
    return float(levels.max()) if levels.notna().any() else None


def _series(x: np.ndarray, labels: list[str], series: Mapping[str, np.ndarray],
            marks: np.ndarray, ylabel: str, *, log: bool = False,
            level: float | None = None) -> Any:
    """Lines over windows, alarms marked in red on the first line, an optional level line."""

    def draw(ax: Any) -> None:
        first = None
        for (name, values), color in zip(series.items(), PALETTE, strict=False):
            shown = np.clip(values, 1e-16, None) if log else values
            ax.plot(x, shown, color=color, linewidth=1.3, marker="." if len(x) <= 60 else None,
                    label=name)
            first = shown if first is None else first
        if level is not None:
            ax.axhline(level, color="#555555", linestyle="--", linewidth=1,
                       label=f"alarm level {level:.3g}")
        if first is not None and len(marks):
            ax.scatter(x[marks], np.where(np.isfinite(first[marks]), first[marks],
                                          np.nanmin(first) if np.isfinite(first).any() else 0.0),
                       **_ALARM)
        if log:
            ax.set_yscale("log")
        ax.set_ylabel(ylabel)
        timeline_ticks(ax, labels, xlabel="window")
        ax.legend(**_LEGEND)

    return draw


def _performance(x: np.ndarray, labels: list[str], metric: str,
                 series: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray]],
                 marks: Mapping[str, np.ndarray], threshold: Any, reference: Any) -> Any:
    """Estimated and realized metric with interval bands, threshold line and alarms."""

    def draw(ax: Any) -> None:
        for (kind, (value, low, high)), color in zip(series.items(), PALETTE, strict=False):
            if not np.isfinite(value).any():
                continue
            ax.plot(x, value, color=color, linewidth=1.4, label=kind,
                    marker="." if len(x) <= 60 else None)
            ax.fill_between(x, low, high, color=color, alpha=0.2, linewidth=0,
                            label=f"{kind} interval")
            hit = marks[kind]
            hit = hit[np.isfinite(value[hit])] if len(hit) else hit
            if len(hit):
                ax.scatter(x[hit], value[hit], **_ALARM)
        if isinstance(threshold, int | float) and not isinstance(threshold, bool):
            ax.axhline(float(threshold), color=PALETTE[3], linestyle="--", linewidth=1.2,
                       label=f"criterion {float(threshold):.3g}")
        elif isinstance(reference, int | float) and not isinstance(reference, bool):
            ax.axhline(float(reference), color="#555555", linestyle=":", linewidth=1.2,
                       label=f"reference {float(reference):.3g}")
        ax.set_ylabel(metric)
        timeline_ticks(ax, labels, xlabel="window")
        handles, names = ax.get_legend_handles_labels()
        keep = dict(zip(names, handles, strict=True))   # one "alarm" entry
        ax.legend(list(keep.values()), list(keep), **_LEGEND)

    return draw
