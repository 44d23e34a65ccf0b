"""``split()``: train/validation/test parts that cannot leak into each other."""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._errors import DataWarning, InputError, user_stacklevel
from .._frame import as_frame, hash_rows, is_numeric, require_columns
from .._random import as_random_state
from .._time import time_values
from ._keys import FrameKeys, codes_of, inherent_repeats, join_units
from ._leakage import run_checks
from ._report import LeakageReport
from ._time import cut_points

PARTS = ("train", "validation", "test")
#: With repeats inherent to the table, ``dedupe`` needs this many sets of identical
#: rows (effective number, see ``_check_dedupe_can_split``) for the smallest part.
MIN_SETS_PER_PART = 10


@dataclass(frozen=True, eq=False, repr=False)
class Split:
    """The parts of a split and the leakage report that checked them.

    Returned by :func:`split`. Parts keep the columns (the target included)
    and the original index labels of the input, in its original row order.

    Attributes
    ----------
    train, validation, test : pandas.DataFrame
        The parts. With two ``sizes``, ``validation`` is an empty frame with
        the same columns.
    report : LeakageReport
        :func:`check_leakage` of train against validation and against test.
    dropped : pandas.Index
        Index labels left out of every part (the ``gap``, and with groups
        over time, later rows of groups that started in an earlier part).
    strategy : str
        ``"random"``, ``"group"``, ``"time"`` or ``"group+time"``.
    target : hashable or None
        The target column, used by :meth:`xy`.

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.split import split
    >>> df = pd.DataFrame({"x": range(20), "y": [0, 1] * 10})
    >>> parts = split(df, target="y", sizes=(0.6, 0.2, 0.2), random_state=0)
    >>> parts
    Split(random: train=12, validation=4, test=4 rows; leakage 0 errors, 0 warnings)
    >>> X_train, y_train = parts.xy("train")
    >>> list(X_train.columns), y_train.name
    (['x'], 'y')
    """

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    report: LeakageReport
    dropped: pd.Index = field(default_factory=lambda: pd.Index([]))
    strategy: str = "random"
    target: Hashable | None = None

    def __iter__(self) -> Any:
        """``train, validation, test = split(...)`` unpacks the three parts."""
        return iter((self.train, self.validation, self.test))

    def xy(self, part: str = "train") -> tuple[pd.DataFrame, pd.Series]:
        """``(X, y)`` of one part: the features without the target, and the target.

        Raises
        ------
        InputError
            When the split has no target or ``part`` is not a part name.
        """
        if part not in PARTS:
            raise InputError(f"unknown part {part!r}", expected=f"one of {', '.join(PARTS)}")
        if self.target is None:
            raise InputError("this split has no target", expected="split(df, target=...)")
        frame: pd.DataFrame = getattr(self, part)
        return frame.drop(columns=[self.target]), frame[self.target]

    @property
    def sizes(self) -> dict[str, int]:
        """Rows per part."""
        return {name: len(getattr(self, name)) for name in PARTS}

    def __repr__(self) -> str:
        rows = ", ".join(f"{k}={v}" for k, v in self.sizes.items())
        dropped = f", dropped={len(self.dropped)}" if len(self.dropped) else ""
        counts = self.report.severity_counts()
        return (
            f"Split({self.strategy}: {rows} rows{dropped}; leakage "
            f"{counts['error']} error{'s' if counts['error'] != 1 else ''}, "
            f"{counts['warning']} warning{'s' if counts['warning'] != 1 else ''})"
        )


def _check_sizes(sizes: Any) -> np.ndarray:
    try:
        values = np.asarray(sizes, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"sizes={sizes!r} are not numbers",
                         expected="2 or 3 fractions that sum to 1") from None
    if values.ndim != 1 or values.size not in (2, 3):
        raise InputError(f"sizes={sizes!r} has {values.size} parts",
                         expected="(train, test) or (train, validation, test) fractions")
    if not np.all(np.isfinite(values)) or (values <= 0).any():
        raise InputError(f"sizes={sizes!r} has a part <= 0", expected="fractions > 0")
    if abs(values.sum() - 1.0) > 1e-6:
        raise InputError(f"sizes={sizes!r} sum to {values.sum():g}",
                         expected="fractions that sum to 1")
    return values


def _strata(y: pd.Series) -> np.ndarray:
    """Stratum codes: the classes, or ten quantile bins of a continuous target."""
    if is_numeric(y) and y.nunique() > 20 and not pd.api.types.is_integer_dtype(y.dtype):
        binned = pd.qcut(y, 10, labels=False, duplicates="drop")
        return codes_of(binned.to_numpy(dtype=float, na_value=np.nan))
    return codes_of(y.to_numpy())


def _check_dedupe_can_split(frame: pd.DataFrame, features: list[Hashable],
                            dup_codes: np.ndarray, sizes: np.ndarray) -> None:
    """Refuse ``dedupe`` when repeats are inherent and too few sets of them exist.

    The sets of identical feature rows count by their effective number
    ``n**2 / sum(size**2)`` (``n`` for distinct rows; one huge set and many
    single rows count as about one set). When the smallest part would get
    fewer than :data:`MIN_SETS_PER_PART` of them and the repeats are inherent
    to the table (:func:`~mllife.split._keys.inherent_repeats`: few possible
    rows, twins the majority), keeping them together cannot meet the sizes
    and scores the model only on feature combinations it never saw.
    """
    set_sizes = np.bincount(dup_codes).astype(float)
    per_part = len(frame) ** 2 / float((set_sizes**2).sum()) * float(sizes.min())
    if per_part >= MIN_SETS_PER_PART:
        return
    inherent = inherent_repeats([FrameKeys(frame)], features)
    if inherent is None:
        return
    counts = inherent["distinct_values"]
    product = " x ".join(str(c) for c in counts) + " = " if len(counts) <= 8 else ""
    columns = f"{len(counts)} feature column" + ("s allow" if len(counts) != 1 else " allows")
    raise InputError(
        f"dedupe=True cannot split this table: its {len(frame)} rows hold only "
        f"{inherent['n_distinct_rows']} distinct feature rows, and its {columns} "
        f"{product}{inherent['possible_rows']} different rows, so identical rows "
        "are different records that agree, not copies of one record. Keeping each set of "
        f"identical rows in one part leaves the smallest part about {per_part:.1f} such sets: "
        "the sizes cannot be met and the held-out parts would hold only feature combinations "
        "train never saw",
        expected="dedupe=False for a table of few distinct rows: a stratified split of the rows "
        "(the leakage report then marks the shared rows as inherent, not as leakage)",
    )


def _random_parts(units: np.ndarray, strata: np.ndarray, sizes: np.ndarray,
                  rng: np.random.RandomState) -> np.ndarray:
    """Part of each unit: systematic sampling within strata, weighted by unit size.

    Units are shuffled within their stratum and laid end to end; a unit goes
    to the part where its midpoint falls, after a random rotation per stratum.
    Each stratum is so split in proportion to ``sizes`` (within one unit).
    Units larger than a quarter of the smallest part are laid first, so they
    go to train instead of emptying a small part.
    """
    n_units = int(units.max()) + 1
    unit_size = np.bincount(units, minlength=n_units).astype(float)
    _, first_row = np.unique(units, return_index=True)
    unit_stratum = codes_of(strata[first_row])
    n_strata = int(unit_stratum.max()) + 1
    priority = rng.permutation(n_units)
    rotation = rng.random_sample(n_strata)
    totals = np.bincount(unit_stratum, weights=unit_size, minlength=n_strata)
    # Units large next to the smallest part go first (so into train), unrotated:
    # laid anywhere else they would swallow a small part's whole share.
    large = unit_size > 0.25 * sizes.min() * totals[unit_stratum]
    rotation[np.unique(unit_stratum[large])] = 0.0
    order = np.lexsort((priority, ~large, unit_stratum))
    size_sorted = unit_size[order]
    stratum_sorted = unit_stratum[order]
    offsets = np.concatenate([[0.0], np.cumsum(totals)[:-1]])
    within = np.cumsum(size_sorted) - offsets[stratum_sorted] - size_sorted / 2
    position = (within / totals[stratum_sorted] + rotation[stratum_sorted]) % 1.0
    bounds = np.cumsum(sizes)[:-1]
    part_of_unit = np.empty(n_units, dtype=np.int64)
    part_of_unit[order] = np.searchsorted(bounds, position, side="right")
    # Few large units can leave a part empty: give it the smallest unit of a part
    # that has several (one move per part, at most three).
    for part in range(len(sizes)):
        units_per_part = np.bincount(part_of_unit, minlength=len(sizes))
        if units_per_part[part] or n_units < len(sizes):
            continue
        movable = np.flatnonzero(units_per_part[part_of_unit] > 1)
        smallest = movable[np.lexsort((priority[movable], unit_size[movable]))[0]]
        part_of_unit[smallest] = part
    return part_of_unit[units]


def _time_parts(units: np.ndarray, t: np.ndarray, sizes: np.ndarray, span: float, *,
                by_group: bool) -> tuple[np.ndarray, np.ndarray]:
    """Part of each row, and which rows are kept, for a split over time.

    A unit (group, duplicate set or row) starts at its first time; parts are
    consecutive ranges of unit starts (ties kept together, see ``cut_points``).
    A row is kept when it is more than ``span`` before the next part's first
    start, so every part is strictly (and ``span``) later than the one before.
    """
    unit_start = np.full(int(units.max()) + 1, np.inf)
    np.minimum.at(unit_start, units, t)
    row_start = unit_start[units]
    what = "groups with distinct first timestamps" if by_group else "distinct timestamps"
    edges, next_starts = cut_points(row_start, np.cumsum(sizes)[:-1], what=what)
    parts = np.searchsorted(edges, row_start, side="left")
    limit = np.append(next_starts - span, np.inf)
    return parts, t < limit[parts]


def split(
    df: Any,
    *,
    target: Hashable | None = None,
    sizes: Sequence[float] = (0.7, 0.15, 0.15),
    time_col: Hashable | None = None,
    group_col: Hashable | None = None,
    stratify: bool = True,
    gap: Any = None,
    dedupe: bool = True,
    random_state: int | np.random.RandomState | np.random.Generator | None = None,
    spec: Any = None,
) -> Split:
    """Split a table into train, validation and test parts that do not leak.

    Four strategies, chosen by the arguments:

    - **random** (default): rows are shuffled, stratified on ``target`` when
      ``stratify`` (classes, or ten quantile bins of a continuous target).
    - **group** (``group_col``): every group lands in exactly one part.
    - **time** (``time_col``): validation is strictly later than train and
      test strictly later than validation; rows sharing a timestamp never
      straddle a boundary; the input may be in any order.
    - **group+time** (both): groups are ordered by their first timestamp and
      never straddle; later rows of a group that started in an earlier part
      are left out, so each part is still strictly later than the one before.

    With ``dedupe=True`` identical feature rows (all columns but the target)
    always land in the same part, so no test row has a twin in train.

    Parameters
    ----------
    df : DataFrame or 2-D array
        Not modified.
    target : hashable, optional
        The target column: used to stratify, excluded from duplicate detection,
        checked for leakage by the report.
    sizes : sequence of float, default=(0.7, 0.15, 0.15)
        Fractions of rows for (train, validation, test), summing to 1; two
        fractions give (train, test) and an empty ``validation``. Groups,
        duplicates and ties make the realised shares approximate.
    time_col : hashable, optional
        The time column: datetimes, pandas Periods, numbers (integer years)
        or text of years, quarters, months or ISO 8601 datetimes.
    group_col : hashable, optional
        Rows of one group (a customer, a patient) stay in one part. Rows with a
        missing group are each a group of their own.
    stratify : bool, default=True
        Stratify a random or group split on the target (ignored over time).
    gap : str or timedelta, optional
        With ``time_col``: time left out between consecutive parts, e.g. ``"7D"``;
        every validation row is more than ``gap`` after every train row (a
        number for numeric time). The parts are then a subset of the rows:
        :attr:`Split.dropped` lists the rest.
    dedupe : bool, default=True
        Keep identical feature rows together. A table whose repeats are
        inherent (a few categorical columns: identical rows are different
        records) and whose sets of identical rows are too few for the parts
        is refused with an :class:`~mllife.InputError`: split its rows with
        ``dedupe=False``.
    random_state : int, RandomState, Generator or None, default=None
        Seed of the random and group strategies (time splits are
        deterministic). ``None`` is the fixed seed 0, so ``split(df)`` twice
        gives the same parts; pass another int for another split.
    spec : ProblemSpec, optional
        Takes ``target``, ``time_col`` and ``group_col`` from the problem
        statement (:mod:`mllife._spec`): a spec with a time column splits by
        time, one with a group column by group. An explicit keyword that
        disagrees with the spec raises :class:`~mllife.InputError`.

    Returns
    -------
    Split
        ``train``, ``validation``, ``test`` (original index labels and row
        order), ``report`` (a :class:`LeakageReport`), ``dropped``.

    Raises
    ------
    InputError
        Sizes not summing to 1 or with a part <= 0; a missing column; NaT,
        mixed time zones or non-time values in ``time_col``; ``gap`` without
        ``time_col``; too few rows, groups or distinct timestamps for the parts,
        or a group (or duplicate set) so large that a part would be empty;
        ``dedupe=True`` on a table of few, large sets of inherent twins; duplicate
        column labels; a ``spec`` that disagrees with ``target``, ``time_col`` or
        ``group_col``.

    Warns
    -----
    DataWarning
        When groups or duplicate sets move a realised part size more than 10
        points away from the requested share.

    Examples
    --------
    >>> import pandas as pd
    >>> from mllife.split import split
    >>> df = pd.DataFrame({
    ...     "t": pd.date_range("2024-01-01", periods=30, freq="D"),
    ...     "x": range(30), "y": [0, 1, 1] * 10})
    >>> s = split(df, target="y", time_col="t", sizes=(0.6, 0.2, 0.2), gap="2D")
    >>> s.train["t"].max() < s.validation["t"].min() < s.test["t"].min()
    True
    >>> len(s.dropped)
    4
    >>> from mllife import ProblemSpec
    >>> spec = ProblemSpec("y", "binary", time_col="t")
    >>> split(df, spec=spec, sizes=(0.6, 0.2, 0.2)).strategy
    'time'
    """
    from .._spec import resolve_spec

    given = resolve_spec(spec, where="split", target=target, time_col=time_col,
                         group_col=group_col)
    target, time_col, group_col = given["target"], given["time_col"], given["group_col"]
    frame = as_frame(df, name="df")
    n = len(frame)
    part_sizes = _check_sizes(sizes)
    named = [c for c in (target, time_col, group_col) if c is not None]
    require_columns(frame, named)
    if len(set(named)) != len(named):
        raise InputError("target, time_col and group_col must be different columns",
                         expected="three distinct column names")
    if gap is not None and time_col is None:
        raise InputError("gap needs time_col", expected="split(df, time_col=..., gap=...)")
    if n < len(part_sizes):
        raise InputError(f"{n} rows cannot fill {len(part_sizes)} parts", n_rows=n,
                         expected=f"at least {len(part_sizes)} rows")
    features = [c for c in frame.columns if c != target]

    group_codes = codes_of(frame[group_col].to_numpy()) if group_col is not None else None
    dup_codes = codes_of(hash_rows(frame, features)) if dedupe and features else None
    if dup_codes is not None and time_col is None and group_col is None:
        # Over time identical rows share a timestamp (ties never straddle anyway), and
        # with groups the group column is a feature: only a random split is at stake.
        _check_dedupe_can_split(frame, features, dup_codes, part_sizes)
    if group_codes is None and dup_codes is None:
        units = np.arange(n, dtype=np.int64)
    else:
        units = join_units(group_codes, dup_codes)

    kept = np.ones(n, dtype=bool)
    if time_col is not None:
        strategy = "group+time" if group_col is not None else "time"
        times = time_values(frame[time_col], column=time_col)
        parts, kept = _time_parts(units, times.values, part_sizes, times.span(gap, name="gap"),
                                  by_group=group_col is not None)
    else:
        strategy = "group" if group_col is not None else "random"
        strata = np.zeros(n, dtype=np.int64)
        if target is not None and stratify:
            strata = _strata(frame[target])
        rng = as_random_state(random_state)
        parts = _random_parts(units, strata, part_sizes, rng)

    names = PARTS if len(part_sizes) == 3 else ("train", "test")
    counts = np.bincount(parts[kept], minlength=len(names))
    empty = [names[i] for i in range(len(names)) if counts[i] == 0]
    if empty:
        n_units = int(units.max()) + 1
        reason = (f"the gap {gap!r} leaves no row" if time_col is not None and gap is not None
                  else f"{n} rows in {n_units} groups/duplicate sets are too few or too uneven")
        raise InputError(
            f"the {' and '.join(empty)} part{'s' if len(empty) > 1 else ''} would be empty: "
            f"{reason}",
            column=group_col,
            n_rows=n,
            expected="more rows, groups or distinct timestamps, a smaller gap, or other sizes",
        )
    realised = counts / max(int(kept.sum()), 1)
    if np.abs(realised - part_sizes).max() > 0.10:
        warnings.warn(
            f"split sizes {np.round(realised, 2).tolist()} are far from the requested "
            f"{part_sizes.tolist()}: groups, duplicate sets or tied timestamps are large "
            "relative to the parts",
            DataWarning,
            stacklevel=user_stacklevel(),
        )
    positions = {name: np.flatnonzero(kept & (parts == i)) for i, name in enumerate(names)}
    train = frame.iloc[positions["train"]]
    test = frame.iloc[positions["test"]]
    validation = frame.iloc[positions["validation"]] if "validation" in positions else frame.iloc[:0]
    others = {"validation": validation, "test": test} if len(validation) else {"test": test}
    report = run_checks(train, others, target=target, time_col=time_col, group_col=group_col,
                        horizon=None, title=f"Leakage check of a {strategy} split",
                        random_state=random_state)
    return Split(train, validation, test, report, dropped=frame.index[~kept],
                 strategy=strategy, target=target)
