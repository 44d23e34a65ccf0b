"""``Finding``: one problem (or observation) that an analysis found."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._errors import InputError
from ._json import jsonable

SEVERITIES: tuple[str, ...] = ("info", "warning", "error")
_RANK = {name: i for i, name in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Finding:
    """One problem or observation found by a check, as data.

    Parameters
    ----------
    check : str
        The name of the check that found it (``"duplicate_rows"``).
    severity : {"info", "warning", "error"}
        ``error``: results built on this data are wrong; ``warning``: likely
        harmful, look at it; ``info``: worth knowing.
    column : str or None, default=None
        The column concerned, ``None`` for the whole table.
    message : str, default=""
        One sentence a person can read.
    n_rows : int or None, default=None
        Rows affected.
    share : float or None, default=None
        ``n_rows`` as a share of all rows (0 to 1).
    threshold : float or None, default=None
        The threshold the check compared against, if any.
    sample_index : tuple, default=()
        A few index labels of affected rows, to look at.
    suggestion : str, default=""
        What to do about it.
    details : mapping, default={}
        Check-specific extras (format counts, tokens found...), JSON-safe.

    Examples
    --------
    >>> f = Finding("duplicate_rows", "warning", message="12 exact duplicate rows",
    ...             n_rows=12, share=0.012, sample_index=(4, 9))
    >>> f.severity, f.n_rows
    ('warning', 12)
    >>> Finding.from_dict(f.to_dict()) == f
    True
    """

    check: str
    severity: str
    column: Hashable | None = None
    message: str = ""
    n_rows: int | None = None
    share: float | None = None
    threshold: float | None = None
    sample_index: tuple[Any, ...] = ()
    suggestion: str = ""
    details: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.severity not in _RANK:
            raise InputError(
                f"severity {self.severity!r} is not known",
                expected=f"one of {', '.join(SEVERITIES)}",
            )
        if self.n_rows is not None:
            object.__setattr__(self, "n_rows", int(self.n_rows))
        if self.share is not None:
            object.__setattr__(self, "share", float(self.share))
        if self.threshold is not None:
            object.__setattr__(self, "threshold", float(self.threshold))
        sample: Iterable[Any] = self.sample_index if self.sample_index is not None else ()
        object.__setattr__(self, "sample_index", tuple(jsonable(list(sample))))
        object.__setattr__(self, "details", jsonable(dict(self.details)))

    @property
    def rank(self) -> int:
        """0 for info, 1 for warning, 2 for error: sorts findings by gravity."""
        return _RANK[self.severity]

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-safe data."""
        return {
            "check": self.check,
            "severity": self.severity,
            "column": jsonable(self.column),
            "message": self.message,
            "n_rows": self.n_rows,
            "share": jsonable(self.share),
            "threshold": jsonable(self.threshold),
            "sample_index": list(self.sample_index),
            "suggestion": self.suggestion,
            "details": jsonable(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Rebuild a finding from :meth:`to_dict` output.

        The input is checked as untrusted data: only the keys :meth:`to_dict`
        writes, each of its type (a list naming a column becomes a tuple).

        Raises
        ------
        InputError
            For an unknown key or a value of the wrong type.
        """
        if not isinstance(data, Mapping):
            raise InputError(f"a finding is a {type(data).__name__}",
                             expected="a mapping (the output of Finding.to_dict())")
        unknown = sorted(str(k) for k in data if k not in _KINDS)
        if unknown or "check" not in data or "severity" not in data:
            raise InputError(f"a finding with unknown keys {unknown}" if unknown else
                             "a finding without its check or severity",
                             expected=f"the keys {list(_KINDS)}, check and severity required")
        for key, value in data.items():
            kinds = _KINDS[key]
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                raise InputError(f"finding {key} is a {type(value).__name__}",
                                 expected=" or ".join(k.__name__ for k in kinds))
        fields = dict(data)
        fields["column"] = _hashable(fields.get("column"))
        fields["sample_index"] = tuple(fields.get("sample_index") or ())
        fields["details"] = fields.get("details") or {}
        return cls(**fields)


_NUMBER = (int, float, type(None))
#: The keys :meth:`Finding.to_dict` writes and the JSON types each may hold.
_KINDS: dict[str, tuple[type, ...]] = {
    "check": (str,), "severity": (str,), "column": (str, int, float, bool, list, type(None)),
    "message": (str,), "n_rows": (int, type(None)), "share": _NUMBER, "threshold": _NUMBER,
    "sample_index": (list, tuple, type(None)), "suggestion": (str,),
    "details": (Mapping, type(None)),
}


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    return value
