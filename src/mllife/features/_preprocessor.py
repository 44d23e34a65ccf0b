"""``make_preprocessor``: a ColumnTransformer chosen from the kinds of the columns."""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from .._errors import DataWarning, InputError
from .._frame import as_frame, generated_names
from ._casts import AsFloat, AsText
from ._datetime_features import FEATURES, DateTimeFeatures
from ._kinds import DROPPED, ENTRY_KINDS, detect_kinds
from ._rare import RareCategoryGrouper

if TYPE_CHECKING:
    from ._plan_report import PreprocessorReport

__all__ = ["Preprocessor", "make_preprocessor"]

#: Calendar features made from timestamps / from dates without a time of day.
DATETIME_FEATURES = ("year", "month", "day_of_week", "hour", "is_weekend", "elapsed")
DATE_FEATURES = ("year", "month", "day_of_week", "is_weekend", "elapsed")


def _label(est: Any) -> str:
    """A short readable name of one step."""
    if isinstance(est, str):
        return est
    name = type(est).__name__
    if isinstance(est, SimpleImputer):
        extra = ", missing indicator" if est.add_indicator else ""
        return f"SimpleImputer({est.strategy}{extra})"
    if isinstance(est, AsFloat):
        return "as 0/1 or seconds"
    if isinstance(est, AsText):
        return "as text"
    if isinstance(est, FunctionTransformer):
        return f"FunctionTransformer({getattr(est.func, '__name__', 'func')})"
    if isinstance(est, OneHotEncoder):
        return f"OneHotEncoder(handle_unknown={est.handle_unknown!r})"
    if isinstance(est, RareCategoryGrouper):
        return f"RareCategoryGrouper(min_frequency={est.min_frequency}, max_categories={est.max_categories})"
    if isinstance(est, DateTimeFeatures):
        return f"DateTimeFeatures({', '.join(est.features)})"
    if isinstance(est, Pipeline):
        return " → ".join(_label(step) for _, step in est.steps)
    return name


class Preprocessor(ColumnTransformer):
    """The ``ColumnTransformer`` that :func:`make_preprocessor` returns.

    A plain ``ColumnTransformer`` (same parameters, so ``clone``,
    ``cross_validate``, ``GridSearchCV`` and pickling work as usual) whose
    entries are named by column kind, plus:

    - :attr:`plan_`: one row per input column saying what was chosen and why,
      derived from the entries, so it survives ``clone``;
    - :meth:`plan_report`: the plan (and, once fitted, the feature
      documentation) as a :class:`~mllife.report.Report`;
    - :attr:`used_columns_`: the input columns the fitted preprocessor reads;
      the dropped ones (``drop=``, identifiers, constants) are not required at
      ``transform``: a frame with or without them is accepted;
    - input checks: missing used columns, columns never seen at ``fit`` and
      text in numeric columns raise :class:`~mllife.InputError` naming them,
      instead of a raw traceback.

    ``feature_names_in_`` stays every column seen at ``fit``, as
    ``ColumnTransformer`` needs; when the preprocessor is a pipeline's first
    step, build the model's input contract on :attr:`used_columns_`
    (``InputSchema.infer(X, columns=pre.used_columns_)``) so a service does not
    demand the columns the model ignores.
    """

    @property
    def used_columns_(self) -> list[str]:
        """The input columns the fitted preprocessor reads, in the order seen at ``fit``.

        Every column of ``feature_names_in_`` but those of ``"drop"`` entries
        (``drop=``, identifiers, constant, empty and free-text columns, and a
        dropped remainder).

        Raises
        ------
        NotFittedError
            Before ``fit``.
        """
        from .._compat import ensure_fitted

        ensure_fitted(self, "transformers_")
        names = [str(c) for c in self.feature_names_in_]
        used: set[int] = set()
        fitted = self.named_transformers_
        for name, indices in self._transformer_to_input_indices.items():
            trans = fitted.get(name, "drop")
            if not (isinstance(trans, str) and trans == "drop"):
                used.update(int(i) for i in indices)
        return [names[i] for i in sorted(used)]

    @property
    def plan_(self) -> pd.DataFrame:
        """What the preprocessor does with each input column (a DataFrame).

        Columns: ``column``, ``kind``, ``action`` (kept or dropped),
        ``steps`` and ``entry`` (the ColumnTransformer entry name).
        """
        rows = []
        for entry, trans, cols in self.transformers:
            kind, reason = ENTRY_KINDS.get(entry, (entry, ""))
            dropped = isinstance(trans, str) and trans == "drop"
            if callable(cols) or isinstance(cols, slice):
                cols = [repr(cols)]  # a selector set by hand: shown as is
            for col in ([cols] if isinstance(cols, str | int) else list(cols)):
                name = self._column_name(col)
                rows.append({
                    "column": name,
                    "kind": kind,
                    "action": f"dropped: {reason}" if dropped else reason,
                    "steps": "" if dropped else _label(trans),
                    "entry": entry,
                })
        return pd.DataFrame(rows, columns=["column", "kind", "action", "steps", "entry"])

    def _column_name(self, col: Any) -> str:
        if isinstance(col, int | np.integer):
            names = getattr(self, "feature_names_in_", None)
            return str(names[col]) if names is not None else f"x{int(col)}"
        return str(col)

    def plan_report(self, X: Any = None) -> PreprocessorReport:
        """The plan, and the output features once fitted, as a report.

        Parameters
        ----------
        X : DataFrame, optional
            Data for the feature statistics (only used when fitted).

        Returns
        -------
        PreprocessorReport
        """
        from ._plan_report import PreprocessorReport

        return PreprocessorReport.from_preprocessor(self, X)

    # ---- input checks --------------------------------------------------------------
    @staticmethod
    def _named(X: Any) -> Any:
        """``X`` with the column names the entries select: its own when they are all
        strings, else ``x0, x1, ...`` (integer labels, numpy input), as in
        :func:`make_preprocessor`."""
        if isinstance(X, pd.DataFrame):
            if all(isinstance(c, str) for c in X.columns):
                return X
            return X.set_axis(generated_names(X.shape[1]), axis=1)
        if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
            return X  # left to ColumnTransformer
        return as_frame(X)

    def _checked(self, X: Any, *, fitting: bool) -> Any:
        """``X`` named as the entries expect, after :meth:`_check_input`."""
        X = self._named(X)
        self._check_input(X, fitting=fitting)
        return X

    def _check_input(self, X: Any, *, fitting: bool) -> None:
        if not isinstance(X, pd.DataFrame):
            return
        if not X.columns.is_unique:
            dup = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
            raise InputError(f"duplicated column names {dup}", n_rows=len(X),
                             expected="one column per name")
        if not fitting:
            names = getattr(self, "feature_names_in_", None)
            if names is not None and X.columns.tolist() != names.tolist():
                used = set(self.used_columns_)  # the dropped columns may be left out
                missing = [c for c in names if c not in X.columns and c in used]
                new = [c for c in X.columns if c not in set(names)]
                if missing or new:
                    parts = []
                    if missing:
                        parts.append(f"missing column{'s' if len(missing) > 1 else ''} {missing}")
                    if new:
                        parts.append(f"new column{'s' if len(new) > 1 else ''} {new} not seen at fit")
                    raise InputError("; ".join(parts), n_rows=len(X),
                                     expected=f"the {len(names)} columns seen at fit")
        else:
            needed = [c for _, _, cols in self.transformers
                      for c in ([cols] if isinstance(cols, str) else cols) if isinstance(c, str)]
            missing = [c for c in dict.fromkeys(needed) if c not in X.columns]
            if missing:
                raise InputError(f"column{'s' if len(missing) > 1 else ''} {missing} not found",
                                 expected="the columns the preprocessor was made for")
        dtypes: dict[Any, Any] | None = None
        for entry, _, cols in self.transformers:
            if entry not in {"numeric", "timedelta"}:
                continue
            if dtypes is None:  # read once: cheaper than a Series per column
                dtypes = dict(zip(X.columns, X.dtypes, strict=True))
            for col in ([cols] if isinstance(cols, str) else cols):
                if not isinstance(col, str) or col not in dtypes:
                    continue
                dtype = dtypes[col]
                if pd.api.types.is_float_dtype(dtype):
                    n_inf = int(np.isinf(X[col].to_numpy(dtype=float, na_value=np.nan)).sum())
                    if n_inf:
                        raise InputError("holds infinite values", column=col, n_rows=n_inf,
                                         expected="finite numbers (replace ±inf with NaN to impute them)")
                    continue
                if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
                    continue  # numbers, booleans and durations
                s = X[col]
                parsed = pd.to_numeric(s, errors="coerce") if entry == "numeric" else s
                bad = int((pd.isna(parsed) & s.notna()).sum()) if entry == "numeric" else len(s)
                if bad:
                    raise InputError("holds text in a numeric column", column=col, n_rows=bad,
                                     expected="numbers (clean the column, e.g. with NullLikeToNaN)")

    # ``ColumnTransformer.fit`` calls ``fit_transform``: the checks below cover it.
    def fit_transform(self, X: Any, y: Any = None, **params: Any) -> Any:
        """Fit, then transform ``X`` (see ``ColumnTransformer.fit_transform``).

        Parameters
        ----------
        X : DataFrame or array-like
        y : array-like, optional
        **params : routed to the steps

        Returns
        -------
        DataFrame or ndarray
        """
        return super().fit_transform(self._checked(X, fitting=True), y, **params)

    def transform(self, X: Any, **params: Any) -> Any:
        """Transform ``X`` with the fitted entries (see ``ColumnTransformer.transform``).

        Parameters
        ----------
        X : DataFrame or array-like
        **params : routed to the steps

        Returns
        -------
        DataFrame or ndarray
        """
        return super().transform(self._checked(X, fitting=False), **params)


def _numeric_steps(scale: bool) -> list[tuple[str, Any]]:
    steps: list[tuple[str, Any]] = [
        ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
    ]
    if scale:
        steps.append(("scale", StandardScaler()))
    return steps


def _entry(kind: str, *, scale: bool, max_categories: int, min_frequency: float | int,
           datetime_features: Sequence[str] | None) -> Any:
    as_float = ("as_float", AsFloat())
    as_text = ("as_text", AsText())
    if kind == "numeric":
        return Pipeline(_numeric_steps(scale))
    if kind == "timedelta":
        return Pipeline([as_float, *_numeric_steps(scale)])
    if kind == "boolean":
        return Pipeline([as_float, ("impute", SimpleImputer(strategy="most_frequent",
                                                           keep_empty_features=True))])
    if kind in {"datetime", "date", "datetime_utc"}:
        features = datetime_features or (DATE_FEATURES if kind == "date" else DATETIME_FEATURES)
        steps: list[tuple[str, Any]] = [
            ("calendar", DateTimeFeatures(features=tuple(features), utc=kind == "datetime_utc")),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
        ]
        if scale:
            steps.append(("scale", StandardScaler()))
        return Pipeline(steps)
    if kind == "categorical":
        return Pipeline([as_text, ("onehot", OneHotEncoder(
            handle_unknown="infrequent_if_exist", min_frequency=min_frequency,
            sparse_output=False))])
    if kind == "high_cardinality":
        return Pipeline([as_text,
                         ("group", RareCategoryGrouper(min_frequency=min_frequency,
                                                       max_categories=max_categories)),
                         ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False))])
    return "drop"


def _name_collisions(names: list[str], prefixes: list[str]) -> bool:
    """Could short output names collide (``a_b`` both a column and a one-hot of ``a``)?"""
    for name in names:
        if name.startswith("missingindicator_"):
            return True
        for prefix in prefixes:
            if name != prefix and name.startswith(f"{prefix}_"):
                return True
    return False


def make_preprocessor(
    X: Any,
    *,
    scale: bool = True,
    max_categories: int = 30,
    min_frequency: float | int = 0.01,
    drop: Sequence[Hashable] = (),
    datetime_features: Sequence[str] | None = None,
    sample_size: int = 20_000,
    n_jobs: int | None = None,
) -> Preprocessor:
    """A preprocessing ``ColumnTransformer`` chosen from the kinds of the columns of ``X``.

    ``X`` is only looked at (on a sample of ``sample_size`` rows for large
    data) to decide what to do with each column; nothing is learned from it:
    the returned object is unfitted and learns its statistics at ``fit``,
    so inside ``cross_validate`` or a ``Pipeline`` it sees training rows only.

    ======================  =====================================================
    column kind             steps
    ======================  =====================================================
    numeric                 median impute + missing indicator, StandardScaler
    timedelta               as seconds, then as numeric
    boolean                 as 0/1, most-frequent impute (not scaled)
    datetime / date         :class:`DateTimeFeatures` (year, month, day_of_week,
                            hour for timestamps, is_weekend, elapsed days since
                            the earliest training date), median impute, scale
    date-like strings       as datetime (ISO or one consistent format); mixed
                            time zones or offsets are converted to UTC
    categorical (low card)  ``OneHotEncoder(handle_unknown="infrequent_if_exist",
                            min_frequency)``: unseen values give all zeros, rare
                            ones share an ``infrequent`` column, missing is a
                            category
    categorical (high card) :class:`RareCategoryGrouper` (``min_frequency``,
                            at most ``max_categories`` kept) then one-hot of
                            the kept categories and the ``__rare__`` bucket
    ID-like, constant,      dropped (listed in the plan with the reason)
    empty, free text
    ======================  =====================================================

    Parameters
    ----------
    X : DataFrame or array-like
        Data shaped like the training data (the target excluded).
    scale : bool, default=True
        Standardise numeric and date features.
    max_categories : int, default=30
        Categorical columns with at most this many distinct values are
        one-hot encoded; above, rare grouping first (keeping at most this many).
    min_frequency : float or int, default=0.01
        Categories rarer than this (share, or count when an int) are grouped.
    drop : sequence of column names, default=()
        Columns to leave out (listed in the plan as excluded).
    datetime_features : sequence of str, default=None
        Features for every date column, instead of the defaults above.
    sample_size : int, default=20_000
        Rows used to detect the kinds; a sampled verdict of constant or
        ID-like is confirmed on the full column.
    n_jobs : int, default=None
        Passed to ``ColumnTransformer``.

    Returns
    -------
    Preprocessor
        An unfitted ``ColumnTransformer`` subclass with ``set_output(transform="pandas")``,
        short feature names (``age``, ``plan_basic``, ``signup_date_month``;
        prefixed with the entry name only when short names could collide), and
        a :attr:`~Preprocessor.plan_` table.

    Raises
    ------
    InputError
        For bad parameters, unknown ``drop`` columns or a table without columns.
        The fitted object raises it for missing or new columns and text in
        numeric columns.

    Examples
    --------
    >>> import mllife
    >>> X = mllife.make_churn(300, random_state=0, defects=False).X
    >>> pre = make_preprocessor(X)
    >>> pre.plan_[["column", "kind"]].head(3)
            column      kind
    0          age   numeric
    1  tenure_months   numeric
    2  monthly_charges   numeric
    >>> out = pre.fit_transform(X)
    >>> out.shape[0], "plan_basic" in out.columns, "customer_id" in out.columns
    (300, True, False)
    """
    frame = as_frame(X)
    if frame.shape[1] == 0:
        raise InputError("X has no column", expected="a table with at least one column")
    if isinstance(max_categories, bool) or not isinstance(max_categories, int | np.integer) \
            or max_categories < 1:
        raise InputError(f"max_categories={max_categories!r}", expected="an int >= 1")
    if isinstance(sample_size, bool) or not isinstance(sample_size, int | np.integer) or sample_size < 100:
        raise InputError(f"sample_size={sample_size!r}", expected="an int >= 100")
    if datetime_features is not None:
        unknown = [f for f in datetime_features if f not in FEATURES]
        if unknown:
            raise InputError(f"unknown datetime_features {unknown}", expected=f"some of {list(FEATURES)}")
    RareCategoryGrouper(min_frequency=min_frequency)._threshold(1)  # validates min_frequency
    if not frame.columns.is_unique:
        dup = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise InputError(f"duplicated column names {dup}", expected="one column per name")
    # Columns are selected by name; labels that are not all strings (integers, numpy
    # input) become x0, x1, ... here and in every fit / transform of the result.
    drop_list = list(drop)
    is_frame = isinstance(X, pd.DataFrame) and all(isinstance(c, str) for c in X.columns)
    if not is_frame:
        generated = dict(zip(frame.columns, generated_names(frame.shape[1]), strict=True))
        drop_list = [generated.get(c, c) if not isinstance(c, str) or c not in generated.values()
                     else c for c in drop_list]
        frame = frame.set_axis(list(generated.values()), axis=1)
    unknown_drop = [c for c in drop_list if c not in frame.columns]
    if unknown_drop:
        raise InputError(f"drop names unknown columns {unknown_drop}", expected="columns of X")
    kinds = detect_kinds(frame.drop(columns=drop_list), max_categories=max_categories,
                         sample_size=int(sample_size))
    for col in drop_list:
        kinds[col] = "excluded"
    groups: dict[str, list[Any]] = {}
    for col in frame.columns:
        groups.setdefault(kinds[col], []).append(col)
    if not set(groups) - DROPPED:
        reasons = "; ".join(f"{ENTRY_KINDS[k][0]}: {[str(c) for c in cols]}" for k, cols in groups.items())
        warnings.warn(f"make_preprocessor: every column is dropped ({reasons}), so the output "
                      f"has no feature; kinds are read from the {len(frame)} row(s) of X, and with "
                      "fewer than 2 rows every column looks constant", DataWarning, stacklevel=2)
    transformers = []
    for entry in ENTRY_KINDS:
        cols = groups.get(entry)
        if cols:
            trans = _entry(entry, scale=scale, max_categories=int(max_categories),
                           min_frequency=min_frequency, datetime_features=datetime_features)
            transformers.append((entry, trans, cols))
    kept = [str(c) for c in frame.columns if kinds[c] not in DROPPED]
    prefixes = [str(c) for c in frame.columns
                if kinds[c] in {"categorical", "high_cardinality", "datetime", "date", "datetime_utc"}]
    verbose = _name_collisions(kept, prefixes) or len(set(kept)) != len(kept)
    pre = Preprocessor(transformers, remainder="drop", sparse_threshold=0.0, n_jobs=n_jobs,
                       verbose_feature_names_out=verbose)
    pre.set_output(transform="pandas")
    return pre

