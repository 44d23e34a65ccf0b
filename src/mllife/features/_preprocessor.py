"""``make_preprocessor``: a ColumnTransformer chosen from the kinds of the columns."""

from __future__ import annotations

import copy
import inspect
import warnings
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from .._columns import DATE_KINDS, ColumnKind, column_kind
from .._errors import DataWarning, InputError
from .._frame import as_frame, generated_names, is_native
from ._casts import AsFloat, AsText
from ._datetime_features import FEATURES, DateTimeFeatures
from ._datetime_parser import DatetimeParser
from ._describe import step_label as _label
from ._kinds import (
    ENTRY_KINDS,
    base_entry,
    check_steps,
    detect_kinds,
    drops,
    entry_of,
    fresh_entry,
    in_kind_order,
    kind_of_entry,
    restepped,
    route,
    set_entry_output,
    step_key,
    text_entries,
)
from ._null_like import NullLikeToNaN
from ._rare import RareCategoryGrouper

if TYPE_CHECKING:
    from ._plan_report import PreprocessorReport

__all__ = ["Preprocessor", "make_preprocessor"]

#: Calendar features made from timestamps / from dates without a time of day.
DATETIME_FEATURES = ("year", "month", "day_of_week", "hour", "is_weekend", "elapsed")
DATE_FEATURES = ("year", "month", "day_of_week", "is_weekend", "elapsed")
#: The entries :attr:`Preprocessor.max_categories` routes between at ``fit``.
_ROUTED = ("categorical", "high_cardinality")
#: Text dates DateTimeFeatures reads alone; other formats are parsed by DatetimeParser first.
_PLAIN_DATE_FORMATS = frozenset({"ISO8601", "%Y-%m-%d", "%Y"})
_CT_PARAMS = inspect.signature(ColumnTransformer.__init__).parameters
#: Where ``set_params`` keeps the steps the entries were made from while a ``kind_steps`` it
#: could not apply is pending (not a parameter, not fitted state).
_STEPPED_BY = "_stepped_by"


class Preprocessor(ColumnTransformer):
    """The ``ColumnTransformer`` that :func:`make_preprocessor` returns.

    A ``ColumnTransformer`` (its parameters plus three, so ``clone``,
    ``cross_validate``, ``GridSearchCV`` and pickling work as usual) whose
    entries are named by column kind (the kinds of :mod:`mllife._columns`, the
    one detector the audit, drift and split use too), plus:

    - ``max_categories``: the routing threshold, honoured at ``fit``: a
      ``categorical`` / ``high_cardinality`` column goes to ``categorical``
      (one-hot) when it has at most this many distinct values, else to
      ``high_cardinality`` (rare grouping keeping at most this many, then
      one-hot). ``GridSearchCV(..., {"prep__max_categories": [5, 50]})``
      therefore tunes the routing. ``None`` keeps the entries as given. It
      sets the rare grouping's own ``max_categories``;
    - ``column_kinds``: what :func:`make_preprocessor` detected per column
      (``kind``, ``reason``, ``n_unique``), plain data so it survives
      ``clone``, pickling and bundles; the routing reads the distinct counts
      from it (from the ``fit`` data for a column it does not list);
    - ``kind_steps``: the transformers ``make_preprocessor(steps=...)`` was
      given per column kind (clones), so a routing that creates an entry at
      ``fit`` creates it from them, and the plan says what they chose;
      ``set_params(kind_steps=...)`` stores the value and replaces the entries
      of the kinds whose transformer changed; a value it cannot apply (not a
      valid ``steps``, or leaving out a kind whose default steps depend on the
      data) is stored as given and refused by ``fit`` (and :attr:`plan_`) with
      an :class:`~mllife.InputError` naming the key, scikit-learn's convention.
      A user's step is never modified by the routing
      (``max_categories`` sets the rare grouping of the default steps only);
    - :attr:`column_kinds_`: once fitted, the kind each input column was
      routed as (like skrub's ``column_to_kind_``);
    - :attr:`plan_`: one row per input column saying what was chosen and why,
      derived from the entries and parameters, so it survives ``clone``;
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

    Parameters
    ----------
    transformers : list of (name, transformer, columns)
        As ``ColumnTransformer``; :func:`make_preprocessor` names them by kind.
    remainder, sparse_threshold, n_jobs, transformer_weights, verbose, verbose_feature_names_out
        As ``ColumnTransformer``.
    max_categories : int or None, default=None
        The routing threshold between the ``categorical`` and
        ``high_cardinality`` entries, applied at ``fit``.
    column_kinds : dict or None, default=None
        Column -> ``{"kind", "reason", "n_unique"}`` as detected by
        :func:`make_preprocessor`.
    kind_steps : dict or None, default=None
        Column kind -> transformer, ``"drop"`` or ``"passthrough"``, as
        given to :func:`make_preprocessor` (``steps=``); ``None``: the
        default steps everywhere (also for a preprocessor saved before this
        parameter existed).

    Attributes
    ----------
    column_kinds_ : dict
        Column -> the kind it was routed as at ``fit`` (``excluded`` for
        ``drop=`` columns).
    """

    if "force_int_remainder_cols" in _CT_PARAMS:  # scikit-learn < 1.9 reads it at fit
        force_int_remainder_cols = _CT_PARAMS["force_int_remainder_cols"].default
    #: A preprocessor pickled or bundled before ``kind_steps`` existed has none.
    kind_steps: Mapping[str, Any] | None = None

    def __init__(
        self,
        transformers: list[tuple[str, Any, Any]],
        *,
        remainder: Any = "drop",
        sparse_threshold: float = 0.3,
        n_jobs: int | None = None,
        transformer_weights: dict[str, float] | None = None,
        verbose: bool = False,
        verbose_feature_names_out: bool = True,
        max_categories: int | None = None,
        column_kinds: Mapping[Hashable, Mapping[str, Any]] | None = None,
        kind_steps: Mapping[str, Any] | None = None,
    ) -> None:
        self.transformers = transformers
        self.remainder = remainder
        self.sparse_threshold = sparse_threshold
        self.n_jobs = n_jobs
        self.transformer_weights = transformer_weights
        self.verbose = verbose
        self.verbose_feature_names_out = verbose_feature_names_out
        self.max_categories = max_categories
        self.column_kinds = column_kinds
        self.kind_steps = kind_steps

    # ---- routing -------------------------------------------------------------------
    def _n_unique(self, col: Any, X: Any) -> int | None:
        """Distinct values of ``col``: as detected (``column_kinds``), else in ``X``."""
        known = (getattr(self, "column_kinds", None) or {}).get(col)
        if known is not None and known.get("n_unique") is not None:
            return int(known["n_unique"])
        if isinstance(X, pd.DataFrame) and col in X.columns:
            return column_kind(X[col], name=col).n_unique
        return None

    def _routed(self, X: Any = None) -> list[tuple[str, Any, Any]]:
        """The entries with ``categorical`` / ``high_cardinality`` columns routed by
        ``max_categories`` (the list given when nothing moves)."""
        limit = getattr(self, "max_categories", None)
        entries = list(self.transformers)
        if limit is None:
            return self.transformers
        limit = int(limit)
        moved: dict[str, list[Any]] = {name: [] for name in _ROUTED}
        changed = False
        user = self._user_steps()
        templates: dict[str, Any] = {}
        for name, trans, cols in entries:
            if name not in _ROUTED or not isinstance(cols, list | tuple):
                continue
            templates[name] = trans
            for col in cols:
                n_unique = self._n_unique(col, X)
                target = name if n_unique is None else route(n_unique, limit)
                changed |= target != name
                moved[target].append(col)
        # The rare grouping of the default steps follows max_categories; a user's step is theirs.
        grouper = None if "high_cardinality" in user else _grouper(templates.get("high_cardinality"))
        if grouper is not None and grouper.max_categories != limit:
            changed = True
        if not changed:
            return self.transformers
        min_frequency = _min_frequency(templates)
        out: list[tuple[str, Any, Any]] = []
        for name in (*ENTRY_KINDS, *(n for n, _, _ in entries if n not in ENTRY_KINDS)):
            if name in _ROUTED:
                if not moved[name]:
                    continue
                trans = templates.get(name)
                trans = clone(trans) if trans is not None and not isinstance(trans, str) else (
                    trans if trans is not None else self._new_entry(name, limit, min_frequency))
                group = _grouper(trans) if name == "high_cardinality" and name not in user else None
                if group is not None:
                    group.set_params(max_categories=limit)
                out.append((name, trans, list(moved[name])))
                continue
            out.extend(entry for entry in entries if entry[0] == name)
        return in_kind_order(out)

    def _user_steps(self) -> Mapping[str, Any]:
        """``kind_steps``, ``{}`` when none (or saved before the parameter existed)."""
        return getattr(self, "kind_steps", None) or {}

    def _checked_steps(self) -> dict[str, Any]:
        """``kind_steps`` checked as ``make_preprocessor`` checks ``steps`` (clones), for ``fit``
        and :attr:`plan_`: ``set_params`` stores any value, and this refuses the bad ones.

        Raises
        ------
        InputError
            For a bad ``kind_steps`` (the key named), or one ``set_params`` could not apply
            because it leaves out a kind whose default steps depend on the data.
        """
        checked = check_steps(getattr(self, "kind_steps", None), "kind_steps")
        if _STEPPED_BY in self.__dict__:  # a good value set_params could not apply: say why
            restepped(self.transformers, self.__dict__[_STEPPED_BY], self._user_steps(), checked,
                      self._entry_output())
            # restepped refuses a value that leaves out such a kind (the only good value
            # set_params leaves pending); anything else was applied when it was set.
        return checked

    def _new_entry(self, name: str, limit: int, min_frequency: float | int) -> Any:
        """The steps of an entry the routing creates at ``fit``: a clone of the user's step for
        that kind, else the default steps."""
        user = self._user_steps()
        if name in user:
            return fresh_entry(user[name], self._entry_output())
        trans = _entry(name, scale=False, max_categories=limit, min_frequency=min_frequency,
                       datetime_features=None)
        set_entry_output(trans, self._entry_output())
        return trans

    def _output_setting(self) -> str | None:
        """What ``set_output(transform=...)`` asked for (``None`` when not set)."""
        config = getattr(self, "_sklearn_output_config", {}).get("transform")
        return None if config is None else str(config)

    def _entry_output(self) -> str | None:
        """The output container of the entries: as asked, but pandas under polars output."""
        return _entry_container(self._output_setting())

    def _fitted_view(self) -> Preprocessor | None:
        """A shallow copy holding the entries routed at ``fit`` as ``transformers``, when
        routing changed the entry names (``None`` otherwise).

        scikit-learn builds the metadata routing of ``transform`` from ``transformers``
        (the parameter); the copy gives it the fitted names instead, without touching
        this object (a fitted model may serve several threads).
        """
        fitted = getattr(self, "transformers_", None)
        if fitted is None:
            return None
        entries = [entry for entry in fitted if entry[0] != "remainder"]
        if [e[0] for e in entries] == [e[0] for e in self.transformers]:
            return None
        view = copy.copy(self)
        view.transformers = entries
        view._columns = [entry[2] for entry in entries]
        return view

    def get_metadata_routing(self) -> Any:
        """The metadata routing of the entries (as routed at ``fit`` once fitted).

        Returns
        -------
        MetadataRouter
        """
        view = self._fitted_view()
        return super().get_metadata_routing() if view is None else ColumnTransformer.get_metadata_routing(view)

    if hasattr(ColumnTransformer, "_get_empty_routing"):  # scikit-learn < 1.8: transform's routing
        def _get_empty_routing(self) -> Any:
            view = self._fitted_view()
            base = ColumnTransformer._get_empty_routing
            return base(self if view is None else view)

    def _entries(self) -> list[tuple[str, Any, Any]]:
        """The entries as fitted (once fitted) or as they will be routed at ``fit``."""
        fitted = getattr(self, "transformers_", None)
        if fitted is not None:
            return [entry for entry in fitted if entry[0] != "remainder"]
        return self._routed()

    @property
    def column_kinds_(self) -> dict[str, str]:
        """Column -> the kind it was routed as at ``fit`` (``numeric``, ``categorical``,
        ``high_cardinality``, ``date``, ``identifier``...; ``excluded`` for ``drop=``).

        Raises
        ------
        NotFittedError
            Before ``fit``.
        """
        from .._compat import ensure_fitted

        ensure_fitted(self, "transformers_")
        kinds = {self._column_name(col): kind_of_entry(entry)
                 for entry, _, cols in self._entries() if isinstance(cols, list | tuple | str)
                 for col in ([cols] if isinstance(cols, str) else cols)}
        order = [str(c) for c in getattr(self, "feature_names_in_", [])]
        return {c: kinds[c] for c in [*order, *kinds] if c in kinds}

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

        Columns: ``column``, ``kind``, ``action`` (kept or dropped, and
        ``chosen by steps=`` for the kinds ``make_preprocessor(steps=...)``
        chose), ``steps`` (the entry's steps, the user's step label for those
        kinds), ``entry`` (the ColumnTransformer entry name) and ``reason``
        (why the column is of that kind). Before ``fit`` the entries are shown
        as ``fit`` will route them with ``max_categories``.
        """
        rows = []
        known = getattr(self, "column_kinds", None) or {}
        limit = getattr(self, "max_categories", None)
        user = self._checked_steps()
        for name, trans, cols in self._entries():
            entry = base_entry(name)
            kind, reason = ENTRY_KINDS.get(entry, (entry, ""))
            dropped = isinstance(trans, str) and trans == "drop"
            key = step_key(entry, user)
            if key is not None:
                reason = f"chosen by steps= (key {key!r})"
                if isinstance(user[key], str) and user[key] == "passthrough":
                    trans = "passthrough"  # fitted, scikit-learn holds a FunctionTransformer there
                    reason = f"kept as is: {reason}"
            if callable(cols) or isinstance(cols, slice):
                cols = [repr(cols)]  # a selector set by hand: shown as is
            for col in ([cols] if isinstance(cols, str | int) else list(cols)):
                rows.append({
                    "column": self._column_name(col),
                    "kind": kind,
                    "action": f"dropped: {reason}" if dropped else reason,
                    "steps": "" if dropped else _label(trans),
                    "entry": name if entry == "text" else entry,
                    "reason": _why(known.get(col), entry, limit),
                })
        return pd.DataFrame(rows, columns=["column", "kind", "action", "steps", "entry", "reason"])

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
        for entry, trans, cols in self.transformers:
            if entry not in {"numeric", "timedelta"} or (isinstance(trans, str) and trans == "drop"):
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
        self._checked_steps()  # set_params stores kind_steps as given: checked here
        X = self._text_filled(self._checked(X, fitting=True))
        # The routing is learned at fit: scikit-learn fits the entries of ``transformers``,
        # so a private copy holding the routed entries is fitted, and only its fitted state is
        # published here at the end. ``transformers`` (the parameter) is never touched, a fit
        # that raises leaves this object as it was, two threads fitting it never see each
        # other's half-fitted state, and the copy starts without the previous fit's state
        # (whose entry names would otherwise feed scikit-learn's routing of this fit).
        params_given = set(self.get_params(deep=False))
        work = copy.copy(self)
        work.__dict__ = {key: value for key, value in self.__dict__.items()
                         if key in params_given or not _is_fitted_state(key)}
        work.transformers = self._routed(X)
        polars = self._table_output() == "polars"
        if polars:
            work._in_pandas()
        out = super(Preprocessor, work).fit_transform(X, y, **params)
        fitted = {key: value for key, value in work.__dict__.items()
                  if key not in params_given and key != "_sklearn_output_config"}
        for key in [key for key in self.__dict__ if _is_fitted_state(key) and key not in fitted]:
            self.__dict__.pop(key, None)  # state of an earlier fit this one does not set
        self.__dict__.update(fitted)
        return _as_polars(out) if polars else out

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
        X = self._text_filled(self._checked(X, fitting=False))
        if self._table_output() != "polars":
            return super().transform(X, **params)
        view = copy.copy(self)  # not this object: a fitted model may serve several threads
        view._in_pandas()
        return _as_polars(ColumnTransformer.transform(view, X, **params))

    def _in_pandas(self) -> None:
        """Give pandas output (this object being a private copy): under polars output the
        preprocessor runs in pandas and converts once at the end, because scikit-learn 1.6
        cannot stack polars tables (nor one next to a sparse block) and checks them as 2-D
        arrays, which polars tables no longer are."""
        self._sklearn_output_config = {**getattr(self, "_sklearn_output_config", {}), "transform": "pandas"}

    def _text_filled(self, X: Any) -> Any:
        """``X`` with missing values read as empty text, and other values that are not text
        (numbers) as their text, in the columns given one at a time to a text vectoriser
        (which takes neither); ``X`` itself when there are none."""
        if not isinstance(X, pd.DataFrame) or not self._user_steps():
            return X
        cols = [cols for name, trans, cols in self.transformers
                if base_entry(name) == "text" and isinstance(cols, str) and not isinstance(trans, str)
                and cols in X.columns]
        fixed = {}
        for col in cols:
            s = X[col]
            if pd.api.types.infer_dtype(s, skipna=True) not in {"string", "bytes", "empty"}:
                fixed[col] = pd.Series(s.astype("string").fillna("").to_numpy(dtype=object), index=s.index)
            elif s.isna().any():
                fixed[col] = s.fillna("")
        return X.assign(**fixed) if fixed else X

    # ---- user steps: output container, names, set_params ---------------------------------
    def set_output(self, *, transform: str | None = None) -> Preprocessor:
        """Set the output container of ``transform`` / ``fit_transform`` and of the entries.

        As ``ColumnTransformer.set_output``, except that an entry's step without
        ``set_output`` (a text vectoriser) or set to return a sparse matrix
        (``OneHotEncoder()``) is left as it is: its output is placed in the
        container with the others. Under ``"polars"`` the entries give pandas
        tables, stacked and converted to one polars table at the end (so a
        sparse block works with every supported scikit-learn).

        Parameters
        ----------
        transform : {"default", "pandas", "polars"}, default=None

        Returns
        -------
        self
        """
        super(ColumnTransformer, self).set_output(transform=transform)
        entries = [*self.transformers, *getattr(self, "transformers_", [])]
        for _, trans, _ in entries:
            set_entry_output(trans, _entry_container(transform))
        set_entry_output(self.remainder, _entry_container(transform))
        return self

    def set_params(self, **params: Any) -> Preprocessor:
        """Set parameters (as ``ColumnTransformer.set_params``).

        ``kind_steps`` is stored as given, and replaces the steps of the
        entries of every kind whose transformer changed (by a clone; the kinds
        ``make_preprocessor`` drops by default can go back to ``"drop"``),
        before the nested parameters (``numeric__n_quantiles``) are set. As
        scikit-learn's ``set_params``, it checks nothing: a value it cannot
        apply (not a valid ``steps``; or leaving out a kind whose default
        steps depend on the data, which only :func:`make_preprocessor` can
        rebuild) leaves the entries as they are, and ``fit`` raises the
        :class:`~mllife.InputError` naming the key.

        Parameters
        ----------
        **params : parameters (nested ones as ``entry__parameter``)

        Returns
        -------
        self
        """
        if "kind_steps" in params:
            new = params.pop("kind_steps")
            self._restep(new)
            self.kind_steps = new
        super().set_params(**params)
        return self

    def _restep(self, new: Any) -> None:
        """The entries replaced for the kinds whose step changed from the steps they were made
        from to ``new``; when ``new`` cannot be applied, those steps are remembered (as
        ``_stepped_by``) so that a later good value is compared with them, and ``fit``
        refuses ``new``."""
        if _STEPPED_BY in self.__dict__:
            old = self.__dict__[_STEPPED_BY]
        else:
            old = self._user_steps()
        if not isinstance(old, Mapping):  # a bad value given to __init__: nothing was applied
            old = {}
        try:
            checked = check_steps(new, "kind_steps")
            self.transformers = restepped(self.transformers, old, new or {}, checked,
                                          self._entry_output())
        except InputError:  # stored as given; fit raises it (scikit-learn's convention)
            self.__dict__[_STEPPED_BY] = old
            return
        self.__dict__.pop(_STEPPED_BY, None)

    def __sklearn_clone__(self) -> Preprocessor:
        """A clone (scikit-learn's), keeping the steps the entries were made from when
        ``set_params`` left a ``kind_steps`` pending, so the clone's ``fit`` refuses it too."""
        new = super().__sklearn_clone__()
        if _STEPPED_BY in self.__dict__:
            new.__dict__[_STEPPED_BY] = clone(self.__dict__[_STEPPED_BY], safe=False)
        return new

    def _hstack(self, Xs: list[Any], *, n_samples: int) -> Any:
        # scikit-learn's documented hook for subclasses. With user steps, outputs may be
        # arrays (a text vectoriser, a sparse one-hot) next to DataFrames, or DataFrames
        # repeating a name: with table output, every block becomes a pandas DataFrame with
        # unique provisional names (get_feature_names_out names the result), so columns keep
        # their dtypes and repeated names are resolved there, not refused by scikit-learn
        # here.
        if Xs and self._user_steps() and not self.sparse_output_ and self._table_output() == "pandas":
            index = next((X.index for X in Xs if isinstance(X, pd.DataFrame)), None)
            blocks = []
            for i, X in enumerate(Xs):
                dense = X.toarray() if hasattr(X, "toarray") else X
                names = [f"_mllife_{i}_{j}" for j in range(dense.shape[1])]
                if isinstance(dense, pd.DataFrame):
                    blocks.append(dense.set_axis(names, axis=1))
                else:
                    keep = index is not None and len(index) == dense.shape[0]
                    blocks.append(pd.DataFrame(dense, index=index if keep else None, columns=names))
            # Named here, not only by scikit-learn's output wrapper (which, in scikit-learn 1.6,
            # keeps the provisional names when naming fails instead of raising).
            features = [str(name) for name in self.get_feature_names_out()]
            if sum(block.shape[1] for block in blocks) != len(features):
                raise self._width_error()
            out = super()._hstack(blocks, n_samples=n_samples)
            return out.set_axis(features, axis=1)
        return super()._hstack(Xs, n_samples=n_samples)

    def _width_error(self) -> InputError:
        """The entries whose step made another number of columns than it names."""
        named = Counter(entry for entry, _ in self._prefixed_names())
        made = {name: part.stop - part.start for name, part in self.output_indices_.items()}
        wrong = [f"{name!r} made {n} column{'s' if n != 1 else ''} but names {named.get(name, 0)}"
                 for name, n in made.items() if n != named.get(name, 0)]
        return InputError(
            f"the step of entry {'; '.join(wrong)} (its get_feature_names_out)",
            expected="a step whose get_feature_names_out names each column its transform makes")

    def _table_output(self) -> str | None:
        """``"pandas"`` or ``"polars"`` when ``transform`` gives a table, else ``None``."""
        import sklearn

        config = self._output_setting()
        config = config if config is not None else sklearn.get_config()["transform_output"]
        return config if config in {"pandas", "polars"} else None

    def _prefixed_names(self, input_features: Any = None) -> list[list[str]]:
        """``[entry, name]`` per output feature (the names ``verbose_feature_names_out`` gives)."""
        view = copy.copy(self)  # the prefixed names, without changing this (shared) object
        view.verbose_feature_names_out = True
        # Entry names never hold "__" (scikit-learn refuses them): the first one splits.
        return [str(n).split("__", 1) for n in ColumnTransformer.get_feature_names_out(view, input_features)]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output features (see ``ColumnTransformer.get_feature_names_out``).

        With user steps (``kind_steps``) and short names: a one-column text
        entry's features are ``<column>_<feature>`` (``review_good``); names
        that two entries both make get their entry's prefix (``numeric__x``);
        a name repeated within one entry is an :class:`~mllife.InputError`.

        Parameters
        ----------
        input_features : array-like of str, default=None

        Returns
        -------
        ndarray of str
        """
        if not self._user_steps():
            return super().get_feature_names_out(input_features)
        full = self._prefixed_names(input_features)
        if self.verbose_feature_names_out is not False:
            names = [str(n) for n in super().get_feature_names_out(input_features)]
        else:
            selectors = {name: cols for name, _, cols in self.transformers_}
            short = [f"{selectors[entry]}_{raw}" if base_entry(entry) == "text"
                     and isinstance(selectors[entry], str) else raw for entry, raw in full]
            makers: dict[str, set[str]] = {}
            for (entry, _), name in zip(full, short, strict=True):
                makers.setdefault(name, set()).add(entry)
            names = [f"{entry}__{raw}" if len(makers[name]) > 1 else name
                     for (entry, raw), name in zip(full, short, strict=True)]
        counts = Counter(names)
        repeated = sorted(name for name, n in counts.items() if n > 1)
        if repeated:
            entries = sorted({entry for (entry, _), name in zip(full, names, strict=True)
                              if name in set(repeated)})
            raise InputError(
                f"the output feature names {repeated[:5]} repeat within the entries {entries}",
                expected="steps whose output names are unique (each feature is a column of the "
                         "output)")
        return np.asarray(names, dtype=object)


def _as_polars(out: Any) -> Any:
    """A pandas output as a polars DataFrame (the preprocessor's polars output)."""
    if not isinstance(out, pd.DataFrame):
        return out
    import polars as pl

    return pl.from_pandas(out)


def _entry_container(transform: str | None) -> str | None:
    """The container the entries give for the preprocessor's ``transform`` container: pandas
    under polars (the preprocessor stacks them and converts once: scikit-learn 1.6 cannot
    stack polars tables, nor a polars table next to a sparse block)."""
    return "pandas" if transform == "polars" else transform


def _numeric_steps(scale: bool) -> list[tuple[str, Any]]:
    steps: list[tuple[str, Any]] = [
        ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)),
    ]
    if scale:
        steps.append(("scale", StandardScaler()))
    return steps


def _entry(kind: str, *, scale: bool, max_categories: int, min_frequency: float | int,
           datetime_features: Sequence[str] | None, kinds: Sequence[ColumnKind] = ()) -> Any:
    """The steps of one entry; ``kinds`` are its columns' kinds (for yes/no spellings and
    text dates)."""
    as_float = ("as_float", AsFloat())
    as_text = ("as_text", AsText())
    if kind == "numeric":
        return Pipeline(_numeric_steps(scale))
    if kind == "timedelta":
        return Pipeline([as_float, *_numeric_steps(scale)])
    if kind == "boolean":
        return Pipeline([as_float, ("impute", SimpleImputer(strategy="most_frequent",
                                                           keep_empty_features=True))])
    if kind == "boolean_text":
        # Each column's (false, true) spellings, in the entry's column order, as 0 and 1;
        # other values (unseen spellings, disguised nulls) are missing, then imputed.
        spellings = [list(k.boolean_values or ()) for k in kinds]
        return Pipeline([as_text, ("as_01", OrdinalEncoder(
            categories=spellings, handle_unknown="use_encoded_value", unknown_value=np.nan,
            encoded_missing_value=np.nan)),
            ("impute", SimpleImputer(strategy="most_frequent", keep_empty_features=True))])
    if kind in {"datetime", "date", "datetime_utc"}:
        features = datetime_features or (DATE_FEATURES if kind == "date" else DATETIME_FEATURES)
        text = [k for k in kinds if k.date_formats]
        steps: list[tuple[str, Any]] = []
        if any(k.n_null_tokens for k in text):  # "N/A" among the dates: missing, not a bad date
            steps.append(("nulls", NullLikeToNaN(sentinels=None)))
        if any(len(k.date_formats) > 1 or not set(k.date_formats) <= _PLAIN_DATE_FORMATS for k in text):
            steps.append(("parse", DatetimeParser()))  # learns each column's formats
        steps += [
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


def _is_fitted_state(key: str) -> bool:
    """An attribute ``fit`` sets (``transformers_``, ``feature_names_in_``...), by scikit-learn's
    naming convention."""
    return key.endswith("_") and not key.startswith("__")


def _grouper(trans: Any) -> RareCategoryGrouper | None:
    """The rare grouping step of a ``high_cardinality`` entry, if it has one."""
    steps = getattr(trans, "named_steps", None)
    group = steps.get("group") if steps is not None else None
    return group if isinstance(group, RareCategoryGrouper) else None


def _min_frequency(templates: Mapping[str, Any]) -> float | int:
    """The ``min_frequency`` the categorical entries were made with (for an entry routing creates)."""
    group = _grouper(templates.get("high_cardinality"))
    if group is not None:
        return group.min_frequency
    steps = getattr(templates.get("categorical"), "named_steps", None)
    onehot = steps.get("onehot") if steps is not None else None
    value = getattr(onehot, "min_frequency", None)
    return value if value is not None else 0.01


def _why(known: Mapping[str, Any] | None, entry: str, limit: int | None) -> str:
    """The plan's reason for one column: the detector's, the routing's for the routed entries."""
    if entry == "excluded":
        return "excluded by the caller (drop=)"
    if known is None:
        return ""
    reason = str(known.get("reason", ""))
    n_unique = known.get("n_unique")
    if entry in _ROUTED and limit is not None and n_unique is not None:
        side = "at most" if int(n_unique) <= int(limit) else "more than"
        routing = f"{int(n_unique)} distinct values, {side} max_categories={int(limit)}"
        if known.get("kind") == "mixed":
            return f"{reason}; {routing}"
        return routing
    return reason


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
    steps: Mapping[str, Any] | None = None,
) -> Preprocessor:
    """A preprocessing ``ColumnTransformer`` chosen from the kinds of the columns of ``X``.

    ``X`` is only looked at (on a sample of ``sample_size`` rows for large
    data) to decide what to do with each column; nothing is learned from it:
    the returned object is unfitted and learns its statistics at ``fit``,
    so inside ``cross_validate`` or a ``Pipeline`` it sees training rows only.
    The kinds come from :func:`mllife._columns.column_kinds`, the one detector
    the audit, drift and split use too (disguised nulls such as ``"N/A"`` are
    discounted first; the identifier rule is in that module's docstring).

    ======================  =====================================================
    column kind             steps
    ======================  =====================================================
    numeric                 median impute + missing indicator, StandardScaler
    timedelta               as seconds, then as numeric
    boolean                 as 0/1, most-frequent impute (not scaled); yes/no
                            text (``"Y"``/``"N"``) mapped to 0/1 first
    datetime / date         :class:`DateTimeFeatures` (year, month, day_of_week,
                            hour for timestamps, is_weekend, elapsed days since
                            the earliest training date), median impute, scale
    date-like strings       as datetime (years such as ``"2019"`` too); mixed
                            time zones or offsets are converted to UTC;
                            disguised nulls become missing and several or
                            non-ISO formats are parsed by DatetimeParser
    categorical (low card)  ``OneHotEncoder(handle_unknown="infrequent_if_exist",
                            min_frequency)``: unseen values give all zeros, rare
                            ones share an ``infrequent`` column, missing is a
                            category
    categorical (high card) :class:`RareCategoryGrouper` (``min_frequency``,
                            at most ``max_categories`` kept) then one-hot of
                            the kept categories and the ``__rare__`` bucket
    identifier, constant,   dropped (listed in the plan with the reason)
    empty, free text,
    numbers as text
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
        Also the returned preprocessor's parameter ``max_categories``, which
        routes at ``fit``: ``GridSearchCV`` can tune it (``prep__max_categories``).
    min_frequency : float or int, default=0.01
        Categories rarer than this (share, or count when an int) are grouped.
    drop : sequence of column names, default=()
        Columns to leave out (listed in the plan as excluded).
    datetime_features : sequence of str, default=None
        Features for every date column, instead of the defaults above.
    sample_size : int, default=20_000
        Rows used to detect the kinds; a sampled verdict of empty, constant or
        identifier is confirmed on the full column.
    n_jobs : int, default=None
        Passed to ``ColumnTransformer``.
    steps : dict, default=None
        Your own steps per column kind, replacing the defaults above:
        ``{kind: transformer, "drop" or "passthrough"}``. The kinds are
        ``"numeric"``, ``"categorical"``, ``"high_cardinality"``,
        ``"datetime"`` (also dates, unless ``"date"`` is given too),
        ``"date"``, ``"timedelta"``, ``"boolean"`` (yes/no text too),
        ``"text"`` (free text, dropped by default), ``"identifier"`` and
        ``"numeric_text"``. A transformer is any scikit-learn transformer with
        ``get_feature_names_out`` (yours, a
        :class:`~mllife.features.FrameTransformer` subclass, scikit-learn's,
        a ``Pipeline``); each entry gets an unfitted clone, so your object is
        never fitted or changed. It replaces the whole entry (text dates
        reach it unparsed). A text vectoriser reading one column
        (``TfidfVectorizer``) gets one entry per text column, named
        ``text_<column>``, its features named ``<column>_<term>``; missing
        text is read as ``""``, a number as its text. ``max_categories`` still routes columns
        between ``categorical`` and ``high_cardinality`` at ``fit`` (an entry
        it creates is a clone of your step for that kind) but sets the rare
        grouping of the default steps only. ``column_kinds_`` still reports
        the detected kinds and the numeric input checks stay; the plan shows
        your step and ``chosen by steps=``. Two entries making the same output
        name get their entry's prefix (``numeric__x``); a name repeated
        within one entry raises :class:`~mllife.InputError` at ``fit``.

    Returns
    -------
    Preprocessor
        An unfitted ``ColumnTransformer`` subclass with ``set_output(transform="pandas")``,
        short feature names (``age``, ``plan_basic``, ``signup_date_month``;
        prefixed with the entry name only when short names could collide),
        a :attr:`~Preprocessor.plan_` table (with each kind's reason) and, once
        fitted, :attr:`~Preprocessor.column_kinds_`.

    Raises
    ------
    InputError
        For bad parameters, unknown ``drop`` columns or a table without columns;
        for a ``steps`` key that is not a column kind (the message lists them)
        or a value that is not ``"drop"``, ``"passthrough"`` or a transformer
        naming its outputs (the key named).
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

    Your own steps for some kinds (``prep__numeric__n_quantiles`` tunes them
    in a ``GridSearchCV``):

    >>> from sklearn.preprocessing import QuantileTransformer
    >>> mine = make_preprocessor(X, steps={"numeric": QuantileTransformer(n_quantiles=50),
    ...                                    "datetime": "drop"})
    >>> mine.plan_.set_index("column").loc[["age", "signup_date"], ["steps", "action"]]
                               steps                                    action
    column
    age          QuantileTransformer       chosen by steps= (key 'numeric')
    signup_date                       dropped: chosen by steps= (key 'datetime')
    >>> mine.fit_transform(X)["age"].between(0, 1).all()
    np.True_
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
    user = check_steps(steps)  # clones: the caller's objects are never fitted or changed
    if not frame.columns.is_unique:
        dup = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise InputError(f"duplicated column names {dup}", expected="one column per name")
    # Columns are selected by name; labels that are not all strings (integers, numpy
    # input) become x0, x1, ... here and in every fit / transform of the result.
    drop_list = list(drop)
    is_frame = (isinstance(X, pd.DataFrame) or is_native(X)) and all(
        isinstance(c, str) for c in frame.columns)
    if not is_frame:
        generated = dict(zip(frame.columns, generated_names(frame.shape[1]), strict=True))
        drop_list = [generated.get(c, c) if not isinstance(c, str) or c not in generated.values()
                     else c for c in drop_list]
        frame = frame.set_axis(list(generated.values()), axis=1)
    unknown_drop = [c for c in drop_list if c not in frame.columns]
    if unknown_drop:
        raise InputError(f"drop names unknown columns {unknown_drop}", expected="columns of X")
    detected = detect_kinds(frame.drop(columns=drop_list), max_categories=max_categories,
                            sample_size=int(sample_size))
    entries = {col: entry_of(kind, int(max_categories)) for col, kind in detected.items()}
    for col in drop_list:
        entries[col] = "excluded"
    groups: dict[str, list[Any]] = {}
    for col in frame.columns:
        groups.setdefault(entries[col], []).append(col)
    dropped = {entry for entry in groups if drops(entry, user)}
    if not set(groups) - dropped:
        reasons = "; ".join(f"{ENTRY_KINDS[k][0]}: {[str(c) for c in cols]}" for k, cols in groups.items())
        warnings.warn(f"make_preprocessor: every column is dropped ({reasons}), so the output "
                      f"has no feature; kinds are read from the {len(frame)} row(s) of X, and with "
                      "fewer than 2 rows every column looks constant", DataWarning, stacklevel=2)
    transformers: list[tuple[str, Any, Any]] = []
    for entry in ENTRY_KINDS:
        cols = groups.get(entry)
        if not cols:
            continue
        key = step_key(entry, user)
        if key is None:
            trans = _entry(entry, scale=scale, max_categories=int(max_categories),
                           min_frequency=min_frequency, datetime_features=datetime_features,
                           kinds=[detected[c] for c in cols if c in detected])
            transformers.append((entry, trans, cols))
        elif entry == "text":
            transformers += text_entries(cols, user[key], None)
        else:
            transformers.append((entry, fresh_entry(user[key], None), cols))
    kept = [str(c) for c in frame.columns if entries[c] not in dropped]
    prefixed = {"categorical", "high_cardinality"} | DATE_KINDS | ({"text"} & set(user))
    prefixes = [str(c) for c in frame.columns if entries[c] in prefixed]
    verbose = _name_collisions(kept, prefixes) or len(set(kept)) != len(kept)
    column_kinds = {col: {"kind": kind.kind, "reason": kind.reason, "n_unique": int(kind.n_unique)}
                    for col, kind in detected.items()}
    pre = Preprocessor(transformers, remainder="drop", sparse_threshold=0.0, n_jobs=n_jobs,
                       verbose_feature_names_out=verbose, max_categories=int(max_categories),
                       column_kinds=column_kinds, kind_steps=user or None)
    pre.set_output(transform="pandas")
    return pre

