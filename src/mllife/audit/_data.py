"""``AuditData``: the table under audit, with per-column statistics computed once.

Every check receives the same :class:`AuditData`. Column statistics
(factorised codes, distinct values, counts, row hashes) are computed on first
use and cached, so ten checks reading one column factorise it once.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from functools import cached_property
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .._columns import ColumnKind, column_kind
from .._frame import is_bool, is_datetime, is_numeric, is_string_like
from .._nulls import factorize, find_sentinels, null_like_mask, token_levels

__all__ = ["AuditData", "ColumnInfo", "LabelConflicts", "RowMatch"]

#: How many row labels a finding's ``sample_index`` holds.
SAMPLE_SIZE = 5
_HASH_MULT = 0x9E3779B97F4A7C15


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, vectorised: a bijection on uint64 that spreads every bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


class RowMatch(NamedTuple):
    """Rows matching a row-level rule: how many, and the labels of the first few."""

    n_rows: int
    sample_index: tuple[Any, ...]


class LabelConflicts(NamedTuple):
    """Groups of identical feature rows whose target differs (see ``conflicting_labels``)."""

    groups: int
    n_rows: int
    repeated: float
    sample_index: tuple[Any, ...]


class ColumnInfo:
    """One column and its cached statistics.

    Attributes
    ----------
    label : hashable
        The column label (as in ``frame.columns``).
    position : int
        Its position (column labels may repeat).
    series : pandas.Series
        The column itself (do not modify).
    role : {"identifier", "target", "time"} or None
        What the caller declared the column to be (``id_cols``, ``target``,
        ``time_col``): a declared identifier is one, the target and the time
        column never are.

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.audit import AuditData
    >>> info = AuditData(pd.DataFrame({"plan": ["a", "b", "a"]})).column("plan")
    >>> info
    <ColumnInfo 'plan' kind=categorical>
    >>> info.n_unique, int(info.missing.sum())
    (2, 0)
    """

    def __init__(self, label: Hashable, position: int, series: pd.Series, *,
                 role: str | None = None) -> None:
        self.label = label
        self.position = position
        self.series = series
        self.role = role

    def __repr__(self) -> str:
        return f"<ColumnInfo {self.label!r} kind={self.kind}>"

    @cached_property
    def missing(self) -> np.ndarray:
        """Boolean mask of missing cells."""
        return self.series.isna().to_numpy(dtype=bool)

    @cached_property
    def n_missing(self) -> int:
        """Missing cells."""
        return int(self.missing.sum())

    @property
    def n_present(self) -> int:
        """Non-missing cells."""
        return len(self.series) - self.n_missing

    @property
    def is_numeric(self) -> bool:
        """int/float dtype (booleans excluded)."""
        return is_numeric(self.series)

    @property
    def is_bool(self) -> bool:
        """Boolean dtype."""
        return is_bool(self.series)

    @property
    def is_datetime(self) -> bool:
        """datetime64 dtype."""
        return is_datetime(self.series)

    @property
    def is_text(self) -> bool:
        """Object, string or categorical dtype."""
        return is_string_like(self.series) and not self.is_bool

    @cached_property
    def _factorized(self) -> tuple[np.ndarray, pd.Series, bool]:
        return factorize(self.series)

    @property
    def codes(self) -> np.ndarray:
        """Code of each row's value in :attr:`uniques` (-1 for missing)."""
        return self._factorized[0]

    @property
    def uniques(self) -> pd.Series:
        """Distinct non-missing values, in order of first appearance."""
        return self._factorized[1]

    @property
    def unhashable(self) -> bool:
        """True when some cells are dicts, lists or other unhashable objects."""
        return self._factorized[2]

    @cached_property
    def counts(self) -> np.ndarray:
        """Rows holding each of :attr:`uniques`."""
        codes = self.codes
        return np.bincount(codes[codes >= 0], minlength=len(self.uniques))

    @property
    def n_unique(self) -> int:
        """Distinct non-missing values."""
        return len(self.uniques)

    @cached_property
    def inferred_type(self) -> str:
        """pandas' ``infer_dtype`` of the distinct values (``"string"``, ``"mixed"``...)."""
        if self.unhashable:
            return "mixed"
        return str(pd.api.types.infer_dtype(self.uniques, skipna=True))

    @cached_property
    def null_tokens(self) -> np.ndarray:
        """Per distinct value: is it a disguised-null token (``"N/A"``, ``""``...)."""
        if not self.is_text or self.unhashable:
            return np.zeros(self.n_unique, dtype=bool)
        return null_like_mask(self.uniques)

    @cached_property
    def token_levels(self) -> np.ndarray:
        """Per distinct value: a null token that is a real level of the column (an arm
        ``"NONE"`` as frequent as the others), which the cleaners keep; see
        :func:`mllife._nulls.token_levels`."""
        hit = self.null_tokens
        if not hit.any():
            return hit
        return token_levels(self.uniques, self.counts, hit)

    @cached_property
    def sentinels(self) -> list[float]:
        """Numeric sentinels (``-999``...) standing apart from the distribution."""
        if not self.is_numeric or self.n_unique < 4:
            return []
        values = self.uniques.to_numpy(dtype=float, na_value=np.nan)
        return find_sentinels(values, self.counts)

    @cached_property
    def hash(self) -> np.ndarray:
        """One well-mixed 64-bit value per row from its factorised code: equal values
        (NaN with NaN) get equal hashes. Cheaper than hashing the values again."""
        return _mix(self.codes.astype(np.int64).view(np.uint64) + np.uint64(1))

    @cached_property
    def column_kind(self) -> ColumnKind:
        """The column's kind, reason and facts from mllife's one kind detector
        (:func:`mllife._columns.column_kind`: the rules ``make_preprocessor``,
        ``drift_report`` and ``check_leakage`` use too)."""
        return column_kind(self.series, name=self.label, role=self.role)

    @property
    def kind(self) -> str:
        """``numeric``, ``boolean``, ``categorical``, ``high_cardinality``, ``datetime``,
        ``date``, ``datetime_utc``, ``timedelta``, ``text``, ``numeric_text``,
        ``identifier``, ``constant``, ``empty`` or ``mixed`` (see :mod:`mllife._columns`)."""
        return self.column_kind.kind

    @property
    def id_like(self) -> bool:
        """An identifier: unique (or nearly) per row, shaped like a key, not a measurement
        (the one rule of :mod:`mllife._columns`), or declared in ``id_cols``."""
        return self.kind == "identifier"


class AuditData:
    """The table under audit, as every check sees it.

    A check is a function ``check(data: AuditData, **params)`` returning
    :class:`~mllife.report.Finding` objects; it reads the table here and
    never modifies it.

    Attributes
    ----------
    frame : pandas.DataFrame
        The table (do not modify).
    target, time_col : hashable or None
    id_cols : tuple
    n_rows : int
    columns : list of ColumnInfo
        Every column, by position, with cached statistics.

    Examples
    --------
    >>> import pandas as pd
    >>> data = AuditData(pd.DataFrame({"age": [30, 41, None], "plan": ["a", "b", "a"]}))
    >>> data
    <AuditData 3 rows x 2 columns>
    >>> data.column("age").kind
    'numeric'
    """

    def __init__(self, frame: pd.DataFrame, *, target: Hashable | None = None,
                 time_col: Hashable | None = None, id_cols: Sequence[Hashable] = ()) -> None:
        self.frame = frame
        self.target = target
        self.time_col = time_col
        self.id_cols = tuple(id_cols)
        self.n_rows = len(frame)
        self.columns = [ColumnInfo(label, i, frame.iloc[:, i], role=self._role(label))
                        for i, label in enumerate(frame.columns)]
        self._hashes: dict[tuple[int, ...], np.ndarray] = {}

    def __repr__(self) -> str:
        return f"<AuditData {self.n_rows} rows x {len(self.columns)} columns>"

    def _role(self, label: Hashable) -> str | None:
        if label in self.id_cols:
            return "identifier"
        if self.target is not None and label == self.target:
            return "target"
        if self.time_col is not None and label == self.time_col:
            return "time"
        return None

    def column(self, label: Hashable) -> ColumnInfo:
        """The first column with this label."""
        for info in self.columns:
            if info.label == label:
                return info
        raise KeyError(label)

    @property
    def features(self) -> list[ColumnInfo]:
        """Columns other than the target and the id columns."""
        skip = {self.target, *self.id_cols}
        return [c for c in self.columns if c.label not in skip]

    def sample_index(self, mask: np.ndarray | Sequence[int], size: int = SAMPLE_SIZE) -> tuple[Any, ...]:
        """Index labels of the first ``size`` rows where ``mask`` is True (or of positions)."""
        arr = np.asarray(mask)
        positions = np.flatnonzero(arr)[:size] if arr.dtype == bool else arr[:size]
        return tuple(self.frame.index[positions].tolist())

    def row_hash(self, columns: Sequence[ColumnInfo]) -> np.ndarray:
        """One 64-bit hash per row over ``columns`` (equal rows, equal hashes)."""
        key = tuple(c.position for c in columns)
        if key not in self._hashes:
            h = np.zeros(self.n_rows, dtype=np.uint64)
            for c in columns:
                h = _mix(h ^ (c.hash + np.uint64(((c.position + 1) * _HASH_MULT) % 2**64)))
            self._hashes[key] = h
        return self._hashes[key]

    def later_copies(self, columns: Sequence[ColumnInfo], *,
                     unless_copies_in: Sequence[ColumnInfo] | None = None) -> RowMatch:
        """Rows equal to an earlier row in every one of ``columns`` (NaN equal to NaN).

        With ``unless_copies_in``, rows that are also copies over those
        columns are not counted (``duplicates_ignoring_ids``: copies in all
        but the id columns that are not exact copies).
        """
        dup = pd.Series(self.row_hash(columns)).duplicated(keep="first").to_numpy(dtype=bool)
        if unless_copies_in is not None:
            dup = dup & ~pd.Series(self.row_hash(unless_copies_in)).duplicated(keep="first").to_numpy(dtype=bool)
        return RowMatch(int(dup.sum()), self.sample_index(dup))

    def label_conflicts(self, features: Sequence[ColumnInfo], target: ColumnInfo) -> LabelConflicts:
        """Groups of rows equal in every one of ``features`` but with different ``target``
        values (a missing target is one more value): the groups, the rows in them, the
        share of all rows that repeat another row's features, and the first rows."""
        h = self.row_hash(features)
        pairs = pd.DataFrame({"h": h, "y": target.codes}).drop_duplicates()
        conflicted = pairs["h"][pairs["h"].duplicated()].unique()
        if len(conflicted) == 0:
            return LabelConflicts(0, 0, 0.0, ())
        mask = np.isin(h, conflicted)
        repeated = float(pd.Series(h).duplicated(keep=False).mean())
        return LabelConflicts(len(conflicted), int(mask.sum()), repeated, self.sample_index(mask))

    def rows_where(self, info: ColumnInfo, value_mask: np.ndarray) -> np.ndarray:
        """Row mask of the rows whose value is one of the distinct values in ``value_mask``."""
        codes = info.codes
        out = np.zeros(self.n_rows, dtype=bool)
        present = codes >= 0
        out[present] = value_mask[codes[present]]
        return out
