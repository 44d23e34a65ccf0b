"""``TransformerCheckReport``: what :func:`check_transformer` found, rule by rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import pandas as pd

from .._errors import TransformerCheckError
from ..report import Finding, Report

__all__ = ["STATUSES", "TransformerCheckReport"]

#: The status of a rule: it held, it broke, or it could not apply (with the reason).
STATUSES = ("passed", "failed", "skipped")
_COLUMNS = ("rule", "status", "message")


def _empty_rules() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=object) for name in _COLUMNS})


def rules_frame(rows: Sequence[Mapping[str, str]]) -> pd.DataFrame:
    """The ``rules`` table from ``{"rule", "status", "message"}`` rows (text columns)."""
    if not rows:
        return _empty_rules()
    return pd.DataFrame({name: pd.Series([str(r[name]) for r in rows], dtype=object)
                         for name in _COLUMNS})


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class TransformerCheckReport(Report):
    """The rules a transformer was checked against, and how each went.

    Returned by :func:`~mllife.testing.check_transformer`. A rule is
    ``passed``, ``failed`` (its message says what was expected and what
    happened) or ``skipped`` (it could not apply; the message says why: a
    missing optional library, a rule it depends on that failed, or an
    expected failure listed in ``expected_failed_checks``). Each failed rule
    is also an ``error`` :class:`~mllife.report.Finding` whose ``check`` is
    the rule's name.

    Attributes
    ----------
    estimator : str
        The checked estimator, as its ``repr``.
    data : str
        The data mllife's rules ran on (rows, columns and dtypes).
    rules : pandas.DataFrame
        One row per rule, in the order run: ``rule``
        (``sklearn:<check>`` for scikit-learn's common checks, then mllife's
        own), ``status`` (``passed``, ``failed``, ``skipped``) and ``message``.
    findings : tuple of Finding
        One ``error`` per failed rule.

    Examples
    --------
    >>> from mllife.features import RatioFeatures
    >>> from mllife.testing import check_transformer
    >>> report = check_transformer(RatioFeatures([("x0", "x1")]), sklearn_checks=False)
    >>> report.passed
    True
    >>> report.rules.set_index("rule").loc["names_out_length", "status"]
    'passed'
    >>> report.raise_for_failures() is report
    True
    """

    title: str = "Transformer check"
    estimator: str = ""
    data: str = ""
    rules: pd.DataFrame = field(default_factory=_empty_rules)

    @property
    def passed(self) -> bool:
        """True when no rule failed (skipped rules say why in their message)."""
        return not bool((self.rules["status"] == "failed").any())

    @property
    def failed_rules(self) -> list[str]:
        """Names of the rules that failed, in the order run."""
        rules = self.rules
        return [str(r) for r in rules.loc[rules["status"] == "failed", "rule"]]

    def raise_for_failures(self) -> Self:
        """Raise :class:`~mllife.TransformerCheckError` naming every failed rule.

        Returns
        -------
        TransformerCheckReport
            The report itself, when no rule failed.

        Raises
        ------
        TransformerCheckError
            Its message names each failed rule with what it expected and what
            happened; ``.rules`` lists their names.
        """
        failed = self.rules[self.rules["status"] == "failed"]
        if not len(failed):
            return self
        n, total = len(failed), len(self.rules)
        lines = [f"{self.estimator} broke {n} of {total} rule{'s' if total != 1 else ''} "
                 "of mllife.testing.check_transformer:"]
        lines += [f"- {message}" for message in failed["message"]]
        raise TransformerCheckError("\n".join(lines), rules=failed["rule"].tolist())

    def _derive_findings(self) -> Sequence[Finding]:
        rules = self.rules
        failed = rules[rules["status"] == "failed"]
        return [Finding(str(rule), "error", message=str(message),
                        suggestion="see docs/testing.md for what the rule checks")
                for rule, message in zip(failed["rule"], failed["message"], strict=True)]

    def _summary(self) -> Mapping[str, Any]:
        counts = self.rules["status"].value_counts()
        return {"estimator": self.estimator, "passed": self.passed, "rules": len(self.rules),
                **{f"rules {status}": int(counts.get(status, 0)) for status in STATUSES}}

    def _tables(self) -> Mapping[str, pd.DataFrame]:
        return {"rules": self.rules}

    def _notes(self) -> Sequence[str]:
        return (f"mllife's rules ran on {self.data}.",) if self.data else ()

    def __repr__(self) -> str:
        counts = self.rules["status"].value_counts()
        parts = ", ".join(f"{int(counts.get(s, 0))} {s}" for s in STATUSES)
        return f"<TransformerCheckReport {self.estimator}: {parts}>"
