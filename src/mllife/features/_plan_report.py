"""``PreprocessorReport``: what ``make_preprocessor`` chose, and the features it makes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..report import Plot, Report
from ..report._plots import bar
from ._describe import describe_features

__all__ = ["PreprocessorReport"]


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class PreprocessorReport(Report):
    """The plan of a :class:`~mllife.features._preprocessor.Preprocessor` as a report.

    Attributes
    ----------
    plan : DataFrame
        One row per input column: ``column``, ``kind``, ``action``, ``steps``, ``entry``.
    features : DataFrame or None
        :func:`~mllife.features.describe_features` of the fitted preprocessor
        (None while unfitted).
    """

    title: str = "Preprocessing plan"
    plan: pd.DataFrame = field(default_factory=pd.DataFrame)
    features: pd.DataFrame | None = None

    @classmethod
    def from_preprocessor(cls, pre: Any, X: Any = None) -> PreprocessorReport:
        """Build the report from a (fitted or not) preprocessor."""
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        features = None
        try:
            check_is_fitted(pre)
        except NotFittedError:  # unfitted: the plan alone
            features = None
        else:
            features = describe_features(pre, X)
        return cls(plan=pre.plan_, features=features)

    def _summary(self) -> Mapping[str, Any]:
        plan = self.plan
        dropped = plan["action"].astype(str).str.startswith("dropped") if len(plan) else pd.Series([], dtype=bool)
        out: dict[str, Any] = {
            "input columns": len(plan),
            "kept": int((~dropped).sum()),
            "dropped": int(dropped.sum()),
        }
        if self.features is not None:
            out["output features"] = len(self.features)
        return out

    def _tables(self) -> Mapping[str, pd.DataFrame]:
        tables = {"plan": self.plan}
        if self.features is not None:
            tables["features"] = self.features
        return tables

    def _plots(self) -> Sequence[Plot]:
        if not len(self.plan):
            return ()
        counts = self.plan["kind"].value_counts()
        return (Plot("Input columns by kind",
                     lambda ax: bar(ax, [str(k) for k in counts.index], [float(v) for v in counts],
                                    xlabel="columns")),)

    def _notes(self) -> Sequence[str]:
        notes = ["Chosen from the column kinds; statistics are learned at fit, on training rows only."]
        if len(self.plan):
            chosen = self.plan["action"].astype(str).str.contains("chosen by steps=", regex=False)
            if chosen.any():
                kinds = ", ".join(dict.fromkeys(self.plan.loc[chosen, "kind"].astype(str)))
                notes.append(f"Your own steps (make_preprocessor's steps=) for: {kinds}.")
        return tuple(notes)

    def __repr__(self) -> str:
        s = self._summary()
        return f"<PreprocessorReport: {s['input columns']} columns, {s['kept']} kept, {s['dropped']} dropped>"
