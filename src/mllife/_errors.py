"""The mllife exception and warning hierarchy.

Every error that a user mistake can cause is a subclass of :class:`MllifeError`,
so ``except mllife.MllifeError`` catches them all, and each one says what was
expected, where (the column) and how many rows are affected.
"""

from __future__ import annotations

import sys
from typing import Any

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "DataWarning",
    "InputError",
    "IntegrityError",
    "MissingDependencyError",
    "MllifeError",
    "MllifeWarning",
    "ModelError",
    "NotFittedError",
    "SchemaError",
    "TrackingError",
    "TrackingWarning",
    "TransformerCheckError",
    "UntrustedTypeError",
    "VersionMismatchWarning",
]


class MllifeError(Exception):
    """Base class of every error raised by mllife.

    Every mllife error pickles and deep-copies with its message and its
    attributes (``column``, ``n_rows``, ``expected``, ``problems``...), so it
    survives a worker process (joblib, multiprocessing) or a cache.

    Examples
    --------
    >>> import mllife
    >>> issubclass(mllife.InputError, mllife.MllifeError)
    True
    """


def _rebuild(cls: type[BaseException], args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> BaseException:
    """Unpickle an error whose constructor takes keyword-only arguments (older pickles)."""
    return cls(*args, **kwargs)


def _restore(cls: type[BaseException], args: tuple[Any, ...],
             state: dict[str, Any]) -> BaseException:
    """Unpickle an error from its ``args`` and attributes, without calling ``__init__``:
    a subclass with a constructor of its own (``ColumnMissing(name)``) unpickles too."""
    err = cls.__new__(cls, *args)
    err.args = args
    err.__dict__.update(state)
    return err


class InputError(MllifeError, ValueError):
    """Bad input data or a bad parameter value.

    Subclasses :class:`ValueError` too, so code (and scikit-learn's own checks)
    that expects a ``ValueError`` for invalid input keeps working.

    Parameters
    ----------
    message : str
        What is wrong, in plain words.
    column : str, optional
        The column concerned, named in the message.
    n_rows : int, optional
        How many rows are affected, named in the message.
    expected : str, optional
        What was expected instead, named in the message.

    Examples
    --------
    >>> err = InputError("contains text", column="age", n_rows=3, expected="numbers")
    >>> str(err)
    "column 'age': contains text (3 rows); expected numbers"
    >>> err.column, err.n_rows
    ('age', 3)
    >>> import pickle
    >>> again = pickle.loads(pickle.dumps(err))
    >>> str(again) == str(err), again.expected
    (True, 'numbers')
    """

    def __init__(
        self,
        message: str,
        *,
        column: Any = None,
        n_rows: int | None = None,
        expected: str | None = None,
    ) -> None:
        self.message = message
        self.column = column
        self.n_rows = None if n_rows is None else int(n_rows)
        self.expected = expected
        super().__init__(self._compose())

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's default (cls(*args)) would lose the keyword-only arguments, and
        # calling a subclass's own constructor could fail: restore args and attributes.
        return (_restore, (type(self), self.args, dict(self.__dict__)))

    def _compose(self) -> str:
        text = self.message
        if self.column is not None:
            text = f"column {self.column!r}: {text}"
        if self.n_rows is not None:
            text = f"{text} ({self.n_rows} row{'s' if self.n_rows != 1 else ''})"
        if self.expected:
            text = f"{text}; expected {self.expected}"
        return text


class SchemaError(InputError):
    """Input that breaks a declared input contract.

    Carries *every* problem found, as structured data, in :attr:`problems`:
    a list of dicts with at least ``column``, ``problem`` and ``count``.
    Raw values of the input are never included.

    Examples
    --------
    >>> err = SchemaError([{"column": "age", "problem": "missing column", "count": 1}])
    >>> err.problems[0]["column"]
    'age'
    >>> print(err)
    1 schema problem: column 'age': missing column (1 row)
    >>> import pickle
    >>> pickle.loads(pickle.dumps(err)).problems == err.problems
    True
    """

    def __init__(self, problems: list[dict[str, Any]], message: str | None = None) -> None:
        self.problems = [dict(p) for p in problems]
        if message is None:
            parts = []
            for p in self.problems:
                part = f"column {p.get('column')!r}: {p.get('problem')}"
                count = p.get("count")
                if count is not None:
                    part += f" ({count} row{'s' if count != 1 else ''})"
                parts.append(part)
            n = len(self.problems)
            message = f"{n} schema problem{'s' if n != 1 else ''}: " + "; ".join(parts)
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))

    def _compose(self) -> str:
        return self.message


class NotFittedError(MllifeError, _SklearnNotFittedError):
    """An estimator or profile was used before ``fit``.

    Also a :class:`sklearn.exceptions.NotFittedError`, so scikit-learn's checks
    recognise it.

    Examples
    --------
    >>> from sklearn.exceptions import NotFittedError as SkNotFitted
    >>> issubclass(NotFittedError, SkNotFitted)
    True
    """


class IntegrityError(MllifeError):
    """A stored artifact is truncated, corrupted, tampered with or unsigned.

    Examples
    --------
    >>> issubclass(IntegrityError, MllifeError)
    True
    """


class UntrustedTypeError(IntegrityError):
    """A stored artifact holds a type outside the loader's trust list.

    Examples
    --------
    >>> issubclass(UntrustedTypeError, IntegrityError)
    True
    """


class ModelError(MllifeError):
    """A model failed on input that met its contract (its state does not fit the input,
    or a library it needs is missing); the original exception is chained.

    Examples
    --------
    >>> issubclass(ModelError, MllifeError)
    True
    """


class MissingDependencyError(MllifeError, ImportError):
    """An optional extra is needed and not installed; the message names the ``pip`` command.

    ``mllife.serve.make_app`` needs ``mllife[serve]`` (FastAPI, uvicorn,
    prometheus-client); Parquet files need ``pyarrow``.

    Examples
    --------
    >>> issubclass(MissingDependencyError, ImportError)
    True
    """


class TrackingError(MllifeError):
    """An experiment tracker failed while :func:`mllife.tracking.log_report` (or :func:`~mllife.tracking.log_bundle`) logged to it.

    The run is ended ``"FAILED"`` first (best effort); the tracker's own
    exception (an ``MlflowException``, an ``OSError``...) is chained as
    ``__cause__``. The analyses given ``tracker=`` never raise it: they warn
    with :class:`TrackingWarning` and return their report.

    Examples
    --------
    >>> err = TrackingError("MlflowTracker failed in log_metrics of run 'abc': disk full")
    >>> isinstance(err, MllifeError), "run 'abc'" in str(err)
    (True, True)
    """


class TransformerCheckError(MllifeError, AssertionError):
    """A transformer broke rules of :func:`mllife.testing.check_transformer`.

    Raised by :meth:`TransformerCheckReport.raise_for_failures
    <mllife.testing.TransformerCheckReport.raise_for_failures>` and by each
    check of :func:`mllife.testing.parametrize_with_mllife_checks`. Also an
    :class:`AssertionError`, so pytest reports it as a failed test, not as an
    error in the test itself.

    Parameters
    ----------
    message : str
        Names every broken rule, what it expected and what happened.
    rules : sequence of str, default=()
        The names of the broken rules (``"names_out_length"``,
        ``"sklearn:check_fit2d_1sample"``), in :attr:`rules`.

    Examples
    --------
    >>> err = TransformerCheckError("names_out_length: expected 2 names, got 3",
    ...                             rules=["names_out_length"])
    >>> err.rules, isinstance(err, AssertionError)
    (('names_out_length',), True)
    """

    def __init__(self, message: str, *, rules: Any = ()) -> None:
        self.rules = tuple(str(rule) for rule in rules)
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))


class MllifeWarning(UserWarning):
    """Base class of every warning issued by mllife.

    Examples
    --------
    >>> issubclass(MllifeWarning, UserWarning)
    True
    """


class DataWarning(MllifeWarning):
    """The data allows a result, but a weak one (tiny groups, few rows...).

    Examples
    --------
    >>> issubclass(DataWarning, MllifeWarning)
    True
    """


class VersionMismatchWarning(MllifeWarning):
    """An artifact was written with library versions other than the running ones.

    Examples
    --------
    >>> issubclass(VersionMismatchWarning, MllifeWarning)
    True
    """


class TrackingWarning(MllifeWarning):
    """An analysis could not log to its tracker; its report is returned all the same.

    Issued once per failed run by ``compare_models``, ``evaluate``,
    ``compare_champion``, ``drift_report`` and ``Monitor.report`` given
    ``tracker=``: the message names the tracker, the run and the error, and the
    run is ended ``"FAILED"`` (best effort). Turn it into an error with
    ``warnings.simplefilter("error", mllife.TrackingWarning)``.

    Examples
    --------
    >>> import warnings
    >>> import mllife
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warnings.warn("MlflowTracker failed in run 'abc': disk full", mllife.TrackingWarning)
    >>> issubclass(caught[0].category, mllife.MllifeWarning)
    True
    """


def user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the user's line, past mllife's frames.

    Called just before ``warnings.warn(..., stacklevel=user_stacklevel())``:
    however deep inside mllife the warning is raised, it is reported at the
    first frame outside the package.
    """
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith("mllife."):
        frame = frame.f_back
        level += 1
    return level
