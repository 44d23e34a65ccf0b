"""Every mllife exception survives pickle and ``copy.deepcopy`` with its message and attributes.

Errors cross process boundaries (joblib workers, multiprocessing, caches): an error that
does not unpickle turns a clear message into a ``TypeError`` in the parent process.
"""

from __future__ import annotations

import copy
import inspect
import pickle

import pytest

import mllife._errors as errors


def _instances():
    yield errors.MllifeError("base")
    yield errors.InputError("contains text", column="age", n_rows=3, expected="numbers")
    yield errors.InputError("bad value")
    yield errors.InputError("one row", n_rows=1, column=("a", 2))
    yield errors.SchemaError([{"column": "age", "problem": "missing column", "count": 1},
                              {"column": "plan", "problem": "unseen category", "count": 2,
                               "rows": [0, 4], "expected": "basic or pro"}])
    yield errors.SchemaError([{"column": "x", "problem": "p"}], message="custom text")
    yield errors.NotFittedError("call fit first")
    yield errors.IntegrityError("bundle.zip: truncated")
    yield errors.UntrustedTypeError("mypkg.Model is not trusted")
    yield errors.ModelError("predict failed")
    yield errors.MissingDependencyError('make_app needs the serve extra: pip install "mllife[serve]"')
    yield errors.TrackingError("MlflowTracker failed in log_metrics of run 'compare' (id abc): "
                               "OSError: disk full")
    yield errors.TransformerCheckError("LogRatio() broke 1 rule:\n- deterministic: differs",
                                       rules=["deterministic"])


INSTANCES = list(_instances())


def test_every_error_class_is_covered():
    classes = {obj for _, obj in inspect.getmembers(errors, inspect.isclass)
               if issubclass(obj, errors.MllifeError)}
    assert classes == {type(e) for e in INSTANCES}


@pytest.mark.parametrize("i", range(len(INSTANCES)), ids=[type(e).__name__ for e in INSTANCES])
@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_errors_round_trip(i, how):
    err = list(_instances())[i]               # a fresh instance: the note is added once
    err.add_note("a note added on the way")
    twin = pickle.loads(pickle.dumps(err)) if how == "pickle" else copy.deepcopy(err)
    assert type(twin) is type(err)
    assert str(twin) == str(err)
    assert twin.args == err.args
    assert vars(twin) == vars(err)           # column, n_rows, expected, problems, notes
    assert twin.__notes__ == ["a note added on the way"]
    with pytest.raises(type(err), match=None):
        raise twin


def test_schema_error_keeps_its_structured_problems():
    err = INSTANCES[4]
    twin = pickle.loads(pickle.dumps(err))
    assert twin.problems == err.problems
    assert twin.problems is not err.problems
    assert isinstance(twin, ValueError)
    assert isinstance(twin, errors.InputError)


@pytest.mark.parametrize("cls", [errors.MllifeWarning, errors.DataWarning,
                                 errors.VersionMismatchWarning])
def test_warnings_round_trip(cls):
    warning = cls("weak result")
    twin = pickle.loads(pickle.dumps(warning))
    assert type(twin) is cls
    assert str(twin) == "weak result"
