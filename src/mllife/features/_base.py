"""``FrameTransformer``: the one base of mllife's transformers, public for yours.

A subclass writes what is particular to it in a few hooks, on pandas
DataFrames; the base does everything else the same way for every transformer
(the template method, as imbalanced-learn's ``fit_resample``). mllife's own
transformers (``RatioFeatures``, ``DateTimeFeatures``, the cleaners...) are
subclasses, and so can a user's be: :class:`FrameTransformer` is exported as
``mllife.features.FrameTransformer``, its hooks are documented there, and
:func:`mllife.testing.check_transformer` tests a subclass against the same
contract as mllife's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import numpy as np
import pandas as pd
import sklearn
from sklearn.base import BaseEstimator, TransformerMixin

from .._compat import ensure_fitted, validate_data
from .._errors import InputError, ModelError
from .._frame import as_frame, generated_names, is_native

__all__ = ["FrameTransformer", "numpy_output"]


def _check_table(X: Any) -> None:
    """Refuse what no frame transformer reads, with scikit-learn's wording."""
    if hasattr(X, "toarray") or type(X).__module__.startswith("scipy.sparse"):
        raise InputError("sparse input is not supported", expected="a dense array or DataFrame")
    if isinstance(X, list) and X and all(isinstance(row, Mapping) for row in X):
        return  # rows as dicts: as_frame reads them
    if isinstance(X, np.ndarray | list) and np.ndim(X) == 1:
        raise InputError(
            "X has 1 dimension; Reshape your data either using X.reshape(-1, 1) if it has "
            "a single feature or X.reshape(1, -1) if it contains a single sample.",
            expected="a 2-D table: a DataFrame or a 2-D array",
        )
    dtype = getattr(X, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.complexfloating):
        raise InputError("Complex data not supported", expected="real numbers")


def _check_unique(frame: pd.DataFrame) -> None:
    """One column per name: ``frame[name]`` must be a column, not a frame."""
    columns = frame.columns
    if columns.is_unique:
        return
    repeated = columns[columns.duplicated()].unique().tolist()
    raise InputError(
        f"X has duplicated column names {repeated!r}",
        expected="one column per name: rename or drop the duplicate columns",
    )


def _numpy_backed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its pyarrow-backed dates, times and dictionaries as numpy / category.

    pandas' ``ArrowDtype`` timestamps, dates and durations lack the
    ``DatetimeArray`` fields the transformers read, and its dictionaries are
    no ``CategoricalDtype``: they become ``datetime64`` (time zone and unit
    kept; dates ``datetime64[ms]``), ``timedelta64`` and ``category``, as a
    polars or pyarrow table is converted. Other columns are untouched and
    ``frame`` is not modified (a shallow copy is returned when a column changes).
    """
    arrow = [(col, t.pyarrow_dtype) for col, t in frame.dtypes.items() if isinstance(t, pd.ArrowDtype)]
    if not arrow:
        return frame
    import pyarrow as pa

    new: dict[Any, Any] = {}
    for col, t in arrow:
        s = frame[col]
        if pa.types.is_date(t):
            new[col] = s.astype("datetime64[ms]")
        elif pa.types.is_timestamp(t):
            new[col] = s.astype(pd.DatetimeTZDtype(t.unit, t.tz) if t.tz else f"datetime64[{t.unit}]")
        elif pa.types.is_duration(t):
            new[col] = s.astype(f"timedelta64[{t.unit}]")
        elif pa.types.is_dictionary(t):
            chunks = s.array.__arrow_array__()
            if any(chunk.dictionary.null_count for chunk in chunks.chunks):
                chunks = chunks.cast(t.value_type).dictionary_encode()
            new[col] = pd.Series(chunks.to_pandas().array, index=s.index, name=s.name)
    if not new:
        return frame
    out = frame.copy(deep=False)
    for col, values in new.items():
        out[col] = values
    return out


def _reference_input(X: Any, frame: pd.DataFrame) -> Any:
    """What scikit-learn's feature-name bookkeeping should see for ``X``."""
    if isinstance(X, pd.DataFrame | np.ndarray):
        return X
    if is_native(X):
        return frame  # converted once; polars / pyarrow names are strings
    if isinstance(X, list) and not (X and isinstance(X[0], Mapping)):
        return np.asarray(X, dtype=object)
    if isinstance(X, pd.Series | Mapping | list):
        return frame
    return np.asarray(frame.to_numpy())


def _output_config(estimator: Any) -> str:
    """The container ``set_output`` (or scikit-learn's global setting) asks for."""
    config = getattr(estimator, "_sklearn_output_config", {}).get("transform")
    return str(config if config is not None else sklearn.get_config()["transform_output"])


def numpy_output(out: pd.DataFrame) -> np.ndarray:
    """The numpy form of a transformer's output (the base's dtype rule).

    ``float64`` with NaN for missing when every column is numeric or boolean,
    else ``object`` with the missing values as they are.

    Examples
    --------
    >>> import pandas as pd
    >>> numpy_output(pd.DataFrame({"a": [1, None], "b": [True, False]})).dtype
    dtype('float64')
    >>> numpy_output(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})).dtype
    dtype('O')
    """
    dtypes = out.dtypes
    if all(pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t) for t in dtypes):
        return out.to_numpy(dtype=np.float64, na_value=np.nan)
    return out.to_numpy(dtype=object)


def _to_polars(out: pd.DataFrame) -> Any:
    """``out`` as a polars DataFrame (index dropped), or an error naming the column."""
    import polars as pl

    try:
        return pl.from_pandas(out)
    except Exception:  # polars and pyarrow raise several types here: find the column
        for col in out.columns:
            try:
                pl.from_pandas(out[[col]])
            except Exception:  # as above
                kinds = sorted({type(v).__name__ for v in out[col].dropna().to_numpy(dtype=object)})
                raise InputError(
                    f"mixes Python types {kinds}, which a polars column cannot hold",
                    column=col,
                    expected="one type per column (set_output(transform='pandas') keeps it as is)",
                ) from None
        raise


class FrameTransformer(TransformerMixin, BaseEstimator):
    """Base of a transformer that reads and writes tables: write the hooks, inherit the contract.

    mllife's own transformers subclass it, and yours can: write the few
    hooks below on pandas DataFrames and the base gives the transformer
    everything else, the same way as mllife's: pandas, polars, pyarrow and
    numpy input, ``set_output``, ``get_feature_names_out``,
    ``feature_names_in_`` / ``n_features_in_``, the duplicate-column and
    missing-value policies, clear :class:`~mllife.MllifeError` messages and
    the lineage that :func:`~mllife.features.describe_features` reads. It is
    not an estimator of its own (:func:`mllife.all_estimators` does not list
    it): subclass it. :func:`mllife.testing.check_transformer` checks a
    subclass against scikit-learn's and mllife's contracts.

    **Hooks** (all optional but ``_transform``):

    =========================  ======================================================
    hook                       what the subclass does there
    =========================  ======================================================
    ``__init__(...)``          store each keyword argument, unchanged, under its own
                               name; nothing else (no validation: scikit-learn's
                               ``clone`` and ``set_params`` rely on it)
    ``_check_params()``        validate the constructor parameters; ``fit`` calls it
                               first, before looking at the data; raise
                               :class:`~mllife.InputError` naming the parameter
    ``_fit(frame, y)``         learn from a pandas DataFrame what ``_transform``
                               needs, in attributes ending in ``_``; the default
                               learns nothing
    ``_transform(frame)``      return a new DataFrame with ``frame``'s index whose
                               columns are ``_names_out(input names)``; never modify
                               ``frame`` (copy a column before changing it)
    ``_names_out(names)``      the output column names for the fitted input names;
                               the default is one column out per column in, same
                               names. Make each name say where it comes from
                               (``income_per_age``), or declare the sources
    ``_feature_sources()``     per output column, the tuple of input columns it
                               comes from (read by ``describe_features``); the
                               default knows one-to-one transformers and otherwise
                               returns ``None`` ("match by name")
    ``_feature_notes()``       per output column, a remark for ``describe_features``
                               (``""`` for none); ``None`` by default
    ``_step_label()``          how ``describe_features`` and the preprocessor plan
                               name the step; the class name by default
    ``_text_input``            class attribute: ``True`` when the transformer reads
                               text columns (scikit-learn's ``string`` input tag)
    =========================  ======================================================

    ``_fit`` and ``_transform`` always receive a pandas DataFrame with the
    fitted column names (``x0, x1, ...`` for numpy input), whatever the caller
    passed. ``_names_out`` receives the fitted input names as a list of str;
    the lineage hooks read them with ``self._input_names()``. A ``_transform``
    that returns no DataFrame, or another number of rows, raises
    :class:`~mllife.ModelError` naming it.

    **The base owns:**

    - **input**: a pandas DataFrame as it is; a numpy array or list of rows
      with the column names ``x0, x1, ...``; a polars or pyarrow table
      converted once by the shared frame layer; a Series, a dict (one row) or
      a list of dicts (rows). pandas columns backed by pyarrow timestamps,
      dates, durations and dictionaries are read as ``datetime64`` /
      ``timedelta64`` / ``category``, as a pyarrow table is. Sparse, complex,
      1-D, empty (no row or no column) input and repeated column names raise
      :class:`~mllife.InputError` (the repeated names named).
      ``feature_names_in_`` / ``n_features_in_`` are set by scikit-learn's
      ``validate_data``, which also checks at ``transform`` that the columns
      are those seen at ``fit``. The input is never modified.
    - **missing values**: they stay missing. Nothing is imputed by the base
      and every subclass accepts NaN (scikit-learn's ``allow_nan`` tag); a
      transformer that turns something into missing says so in its docstring.
    - **output container** (``transform`` / ``fit_transform``): with the
      default output, a pandas DataFrame in gives a DataFrame out with the
      same index; a polars or pyarrow table in gives a pandas DataFrame; any
      other input gives a numpy array. ``set_output(transform="pandas")``
      always gives pandas, ``set_output(transform="polars")`` always gives
      polars (scikit-learn's global ``transform_output`` setting is honoured
      too).
    - **numpy output dtype**: ``float64`` (missing as NaN) when every output
      column is numeric or boolean, else ``object`` (missing values as they
      are: NaN, None, NaT).
    - ``get_feature_names_out(input_features=None)`` from ``_names_out``;
      :class:`mllife.NotFittedError` before ``fit``.

    Examples
    --------
    The smallest subclass writes ``_transform`` and, when the names change,
    ``_names_out``:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from mllife.features import FrameTransformer
    >>> class Log1p(FrameTransformer):
    ...     def _transform(self, frame):
    ...         return np.log1p(frame).add_prefix("log1p_")
    ...     def _names_out(self, input_names):
    ...         return [f"log1p_{name}" for name in input_names]
    >>> X = pd.DataFrame({"income": [0.0, np.e - 1, np.nan]}, index=[7, 8, 9])
    >>> Log1p().fit_transform(X)
       log1p_income
    7           0.0
    8           1.0
    9           NaN
    >>> Log1p().fit_transform(X.to_numpy())  # numpy in, numpy out
    array([[ 0.],
           [ 1.],
           [nan]])
    >>> Log1p().fit(X).get_feature_names_out().tolist()
    ['log1p_income']

    A subclass with parameters stores them in ``__init__``, checks them in
    ``_check_params``, learns in ``_fit`` and declares its lineage:

    >>> from mllife import InputError
    >>> from mllife.features import describe_features
    >>> class LogRatio(FrameTransformer):
    ...     # log(numerator / denominator), NaN where either is not positive
    ...     def __init__(self, numerator, denominator):
    ...         self.numerator = numerator
    ...         self.denominator = denominator
    ...     def _check_params(self):
    ...         if self.numerator == self.denominator:
    ...             raise InputError("numerator and denominator are the same column",
    ...                              column=self.numerator, expected="two columns")
    ...     def _fit(self, frame, y=None):
    ...         missing = {self.numerator, self.denominator} - set(frame.columns)
    ...         if missing:
    ...             raise InputError(f"no column {sorted(missing)}", expected=f"{list(frame.columns)}")
    ...         self.name_ = f"log_{self.numerator}_per_{self.denominator}"
    ...     def _transform(self, frame):
    ...         num, den = frame[self.numerator], frame[self.denominator]
    ...         ratio = np.log(num.where(num > 0) / den.where(den > 0))
    ...         return pd.concat([frame, ratio.rename(self.name_)], axis=1)
    ...     def _names_out(self, input_names):
    ...         return [*input_names, self.name_]
    ...     def _feature_sources(self):
    ...         names = self._input_names()
    ...         return [(n,) for n in names] + [(self.numerator, self.denominator)]
    >>> X = pd.DataFrame({"income": [50.0, 80.0, 0.0], "rent": [10.0, 80.0, 5.0]})
    >>> step = LogRatio("income", "rent").fit(X)
    >>> step.transform(X).round(3)
       income  rent  log_income_per_rent
    0    50.0  10.0                1.609
    1    80.0  80.0                0.000
    2     0.0   5.0                  NaN
    >>> describe_features(step)[["feature", "source"]]
                   feature        source
    0               income        income
    1                 rent          rent
    2  log_income_per_rent  income, rent
    >>> LogRatio("income", "income").fit(X)
    Traceback (most recent call last):
    ...
    mllife._errors.InputError: column 'income': numerator and denominator are the same column; expected two columns
    """

    #: Marks the base itself (not its subclasses) as no estimator of its own, so
    #: :func:`mllife.all_estimators` does not list it.
    _abstract_base = True

    #: scikit-learn's ``string`` input tag: the transformer reads text columns.
    _text_input: bool = False

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing values stay missing in every subclass
        tags.input_tags.string = self._text_input
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        # ``fit`` always sets ``n_features_in_``: a cheap test instead of scanning
        # ``vars(self)`` on every transform.
        return hasattr(self, "n_features_in_")

    # ---- hooks -------------------------------------------------------------------------
    def _check_params(self) -> None:
        """Validate the constructor parameters before looking at the data (none by default)."""

    def _fit(self, frame: pd.DataFrame, y: Any = None) -> None:
        """Learn from ``frame`` what ``_transform`` needs (nothing by default)."""

    def _transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A new DataFrame with the columns ``_names_out`` names and ``frame``'s index."""
        raise NotImplementedError

    def _names_out(self, input_names: list[str]) -> list[str]:
        """Output column names for ``input_names`` (one-to-one by default)."""
        return list(input_names)

    def _feature_sources(self) -> list[tuple[str, ...]] | None:
        """Per output column, the fitted input columns it comes from (None: match by name)."""
        names = self._input_names()
        if self._names_out(names) == names:
            return [(n,) for n in names]
        return None

    def _feature_notes(self) -> list[str] | None:
        """Per output column, a remark for ``describe_features`` (None: no remark)."""
        return None

    def _step_label(self) -> str:
        """How ``describe_features`` and the preprocessor plan name this step."""
        return type(self).__name__

    # ---- the contract --------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None) -> Self:
        """Learn from ``X`` what ``transform`` needs (see the class description).

        Parameters
        ----------
        X : DataFrame (pandas, polars), pyarrow Table or array-like of shape (n_samples, n_features)
        y : array-like, optional
            Passed to the transformer; most ignore it.

        Returns
        -------
        self : the fitted transformer
        """
        self._check_params()
        self._fit(self._fit_input(X), y)
        return self

    def transform(self, X: Any) -> Any:
        """Transform ``X`` with what ``fit`` learned (see the class description).

        Parameters
        ----------
        X : DataFrame (pandas, polars), pyarrow Table or array-like of shape (n_samples, n_features)

        Returns
        -------
        DataFrame (pandas or polars) or ndarray
            As ``set_output`` says; by default pandas for a table, an array for an array.
        """
        return self._output(X, self._transform_pandas(X))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns (the class description says how they are made).

        Parameters
        ----------
        input_features : array-like of str, default=None
            Must equal ``feature_names_in_`` when given.

        Returns
        -------
        ndarray of str
        """
        return np.asarray(self._names_out(self._input_names(input_features)), dtype=object)

    # ---- machinery -----------------------------------------------------------------------
    def _transform_pandas(self, X: Any) -> pd.DataFrame:
        """``transform`` before the output container: a pandas DataFrame.

        Transformers that run others inside them (``Cleaner``) call this, so a
        global ``transform_output`` setting does not change what they get back.
        """
        ensure_fitted(self)
        frame = self._transform_input(X)
        out = self._transform(frame)
        # A subclass's hook that returns no frame, or loses rows, is named here rather than
        # surfacing as a pandas error from the base's index and output handling.
        if not isinstance(out, pd.DataFrame):
            raise ModelError(f"{type(self).__name__}._transform returned a {type(out).__name__}; "
                             "expected a pandas DataFrame (one row per row of its frame)")
        if len(out) != len(frame):
            raise ModelError(f"{type(self).__name__}._transform returned {len(out)} row(s) for "
                             f"{len(frame)}; expected one row per row of its frame")
        return out

    def _fit_input(self, X: Any) -> pd.DataFrame:
        """``X`` checked and named; sets ``n_features_in_`` / ``feature_names_in_``."""
        _check_table(X)
        frame = as_frame(X, allow_duplicate_columns=True)
        _check_unique(frame)
        if frame.shape[1] == 0:
            raise InputError(f"0 feature(s) (shape={frame.shape}) while a minimum of 1 is required.")
        if frame.shape[0] == 0:
            raise InputError(f"0 sample(s) (shape={frame.shape}) while a minimum of 1 is required.")
        validate_data(self, _reference_input(X, frame), reset=True, skip_check_array=True)
        if not hasattr(self, "feature_names_in_"):
            frame = frame.set_axis(generated_names(frame.shape[1]), axis=1)
        return _numpy_backed(frame)

    def _transform_input(self, X: Any) -> pd.DataFrame:
        """``X`` checked against what ``fit`` saw, with the fitted column names."""
        names = getattr(self, "feature_names_in_", None)
        if (isinstance(X, pd.DataFrame) and names is not None and X.shape[1] == len(names)
                and X.columns.tolist() == names.tolist()):
            # The columns seen at fit, in order: what validate_data would accept
            # (fast path for one-row predictions).
            return _numpy_backed(X)
        _check_table(X)
        frame = as_frame(X, allow_duplicate_columns=True)
        _check_unique(frame)
        try:
            validate_data(self, _reference_input(X, frame), reset=False, skip_check_array=True)
        except InputError:
            raise
        except ValueError as exc:  # scikit-learn names the unseen / missing columns
            raise InputError(str(exc)) from None
        expected = list(names) if names is not None else generated_names(self.n_features_in_)
        if list(frame.columns) != expected:
            frame = frame.set_axis(expected, axis=1)
        return _numpy_backed(frame)

    def _output(self, X: Any, out: pd.DataFrame) -> Any:
        """``out`` in the container ``set_output`` asks for (the class description's rule)."""
        if out is X:
            out = out.copy(deep=False)  # never hand the caller's object back
        if isinstance(X, pd.DataFrame) and out.index is not X.index and not out.index.equals(X.index):
            out = out.set_axis(X.index, axis=0)
        config = _output_config(self)
        if config == "polars":
            return _to_polars(out)
        if config == "pandas" or isinstance(X, pd.DataFrame) or is_native(X):
            return out
        return numpy_output(out)

    def _input_names(self, input_features: Any = None) -> list[str]:
        ensure_fitted(self)
        names = getattr(self, "feature_names_in_", None)
        fitted = list(names) if names is not None else generated_names(self.n_features_in_)
        if input_features is not None:
            given = [str(c) for c in input_features]
            if len(given) != len(fitted) or (names is not None and given != fitted):
                raise InputError(
                    "input_features is not equal to feature_names_in_",
                    expected=f"{fitted}",
                )
            return given
        return fitted
