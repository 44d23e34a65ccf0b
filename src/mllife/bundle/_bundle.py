"""``ModelBundle`` and ``load_bundle``: a fitted model with its contract, saved safely."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._errors import InputError, MllifeError, ModelError
from ._io import library_versions
from ._save import save_bundle
from ._schema import InputSchema

if TYPE_CHECKING:
    from ._batch import PredictFileResult

__all__ = ["ModelBundle"]


#: Classifiers whose ``predict`` applies a decision threshold of their own, not the argmax.
_THRESHOLD_CLASSIFIERS = frozenset({"FixedThresholdClassifier", "TunedThresholdClassifierCV"})


def argmax_predicts(model: Any) -> bool:
    """Whether the most probable class is what ``model.predict`` returns (private).

    False for scikit-learn's threshold classifiers, alone or as the last step of a
    pipeline (nested pipelines too): their ``predict`` compares a probability with a
    tuned threshold, so the argmax of ``predict_proba`` would silently answer with
    another class.
    """
    while hasattr(model, "steps") and model.steps:
        model = model.steps[-1][1]
    return type(model).__name__ not in _THRESHOLD_CLASSIFIERS


class ModelBundle:
    """A fitted model, its input contract, its version and its training facts.

    ``predict`` and ``predict_proba`` validate the request with the
    :class:`InputSchema` first and never call the model on input that breaks
    it. A bundle holds no mutable state, so one instance serves concurrent
    requests from many threads.

    Parameters
    ----------
    model : fitted estimator
        Usually a ``Pipeline`` that takes the raw columns of the contract.
    schema : InputSchema
        The contract of the model's input (``InputSchema.infer(X_train)``).
    version : str
        The model version, returned with every prediction.
    metadata : mapping, optional
        JSON-safe facts (training data, author, ticket...).
    metrics : mapping, optional
        Evaluation numbers (``{"roc_auc": 0.81}``).
    drift_profile : DriftProfile, optional
        The reference profile for monitoring; saved with its ``to_dict``.

    Attributes
    ----------
    versions : mapping
        Library versions recorded in the file (after :func:`load_bundle`),
        else the running ones.
    source_sha256 : str or None
        The SHA-256 of the file :func:`load_bundle` read; None for a bundle
        built in memory.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mllife.bundle import InputSchema, ModelBundle
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
    >>> model = LogisticRegression().fit(X, [0, 0, 1, 1])
    >>> bundle = ModelBundle(model, InputSchema.infer(X), version="1.0.0")
    >>> bundle.predict({"x": 2.5})
       prediction model_version
    0           1         1.0.0
    >>> bundle.predict_proba([{"x": 0.2}]).columns.tolist()
    ['prediction', 'proba_0', 'proba_1', 'model_version']
    """

    def __init__(self, model: Any, schema: InputSchema, *, version: str,
                 metadata: Mapping[str, Any] | None = None,
                 metrics: Mapping[str, Any] | None = None,
                 drift_profile: Any = None) -> None:
        if not hasattr(model, "predict"):
            raise InputError(f"model is a {type(model).__name__} without predict",
                             expected="a fitted scikit-learn estimator")
        if not isinstance(schema, InputSchema):
            raise InputError(f"schema is a {type(schema).__name__}", expected="an InputSchema")
        if not isinstance(version, str) or not version:
            raise InputError(f"version={version!r}", expected="a non-empty string")
        self.model = model
        self.schema = schema
        self._positional = schema.columns == tuple(str(i) for i in range(len(schema.columns)))
        self._argmax_predicts = argmax_predicts(model)
        self.version = version
        self.metadata = MappingProxyType(dict(metadata or {}))
        self.metrics = MappingProxyType(dict(metrics or {}))
        self.drift_profile = drift_profile
        self.versions: Mapping[str, str] = MappingProxyType(library_versions())
        #: SHA-256 of the file :func:`load_bundle` read (None for a bundle built in memory).
        self.source_sha256: str | None = None

    def __repr__(self) -> str:
        return (f"<ModelBundle version={self.version!r} model={type(self.model).__name__} "
                f"columns={len(self.schema.columns)}>")

    # ------------------------------------------------------------ predict
    def predict(self, X: Any) -> pd.DataFrame:
        """Validate ``X``, then predict: columns ``prediction`` and ``model_version``.

        Parameters
        ----------
        X : DataFrame, dict (one row) or list of dicts (rows)

        Returns
        -------
        pandas.DataFrame
            One row per input row (the input's index for a frame). The notes
            of validation are in ``result.attrs["schema_notes"]``: the list
            :meth:`InputSchema.validate` returns, one dict per note with
            ``column``, ``problem``, ``count`` and ``rows`` (row positions in
            ``X``), for extra columns ignored, unseen categories accepted
            (``unseen="flag"``) or mapped to the rare label (``"rare"``) and
            values out of range (``out_of_range="warn"`` or ``"clip"``); an
            empty list when there is nothing to note. A service logs them
            without validating twice.

        Raises
        ------
        SchemaError
            When the input breaks the contract; the model is not called.

        Examples
        --------
        >>> import pandas as pd
        >>> from sklearn.linear_model import LogisticRegression
        >>> from mllife.bundle import InputSchema, ModelBundle
        >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
        >>> bundle = ModelBundle(LogisticRegression().fit(X, [0, 0, 1, 1]),
        ...                      InputSchema.infer(X), version="1")
        >>> result = bundle.predict({"x": 2.5, "debug": True})
        >>> result.attrs["schema_notes"]
        [{'column': 'debug', 'count': 1, 'problem': 'extra column ignored'}]
        """
        valid = self.schema.validate(X)
        prediction = self._call("predict", valid)
        return self._frame({"prediction": np.asarray(prediction)}, valid)

    def predict_proba(self, X: Any) -> pd.DataFrame:
        """Validate ``X``, then return ``prediction``, ``proba_<class>`` and ``model_version``.

        ``prediction`` is the most probable class (the model's ``classes_``
        order breaks ties, as ``argmax`` does), except for a model that decides
        by a threshold of its own (scikit-learn's ``FixedThresholdClassifier``
        and ``TunedThresholdClassifierCV``, alone or last in a pipeline), whose
        ``predict`` gives it. The notes of validation are in
        ``result.attrs["schema_notes"]``, as for :meth:`predict`.

        Raises
        ------
        SchemaError
            When the input breaks the contract; the model is not called.
        InputError
            When the model has no ``predict_proba``.
        """
        if not hasattr(self.model, "predict_proba"):
            raise InputError(f"{type(self.model).__name__} has no predict_proba",
                             expected="a classifier with probabilities")
        valid = self.schema.validate(X)
        prediction, proba, classes = self._scores(valid)
        columns: dict[str, Any] = {"prediction": prediction}
        for i, label in enumerate(classes):
            columns[f"proba_{label}"] = proba[:, i]
        return self._frame(columns, valid)

    def _scores(self, valid: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(prediction, proba, classes)`` of a classifier on validated rows (private).

        The one place that decides the served class: the most probable one, or
        the model's own ``predict`` for a threshold classifier. ``predict_proba``,
        the server (``mllife.serve``) and the monitor all score through here. A
        ``proba`` that is not one row per input row and one column per class is
        a :class:`ModelError`.
        """
        proba = np.asarray(self._call("predict_proba", valid))
        classes = np.asarray(getattr(self.model, "classes_", np.arange(proba.shape[-1])))
        if proba.ndim != 2 or proba.shape != (len(valid), len(classes)):
            raise ModelError(f"model {type(self.model).__name__} (version {self.version!r}): "
                             f"predict_proba returned shape {proba.shape} for {len(valid)} "
                             f"rows and {len(classes)} classes")
        if self._argmax_predicts:
            prediction = classes[np.argmax(proba, axis=1)]
        else:  # a tuned decision threshold: the model's own predict decides
            prediction = np.asarray(self._call("predict", valid))
        return prediction, proba, classes

    def _call(self, method: str, valid: pd.DataFrame) -> Any:
        """The model's ``method`` on validated input; its failure is a ModelError.

        The input met the contract, so a failure here is the model's (a state that
        does not fit its input, a library mismatch): it is reported as such, with
        the original exception chained, never as a raw traceback from inside it.
        """
        try:
            return getattr(self.model, method)(self._model_input(valid))
        except MllifeError:
            raise
        except (Exception, MemoryError) as exc:
            raise ModelError(
                f"model {type(self.model).__name__} (version {self.version!r}) failed in "
                f"{method} on {len(valid)} validated row(s): {type(exc).__name__}: "
                f"{str(exc)[:200]}") from exc

    def _model_input(self, valid: pd.DataFrame) -> Any:
        """What the model was fitted on: the frame, or its values for a model fitted on numpy.

        A contract with the positional columns ``"0"``, ``"1"``, ... (inferred
        from an array) and a model that records ``n_features_in_`` but no
        ``feature_names_in_``: the model was fitted on that array, and gets the
        values, in the contract's column order, as in training (no
        feature-name warning). Every other model gets the frame.
        """
        if (self._positional and hasattr(self.model, "n_features_in_")
                and not hasattr(self.model, "feature_names_in_")):
            return valid.to_numpy()
        return valid

    def _frame(self, columns: dict[str, Any], valid: pd.DataFrame) -> pd.DataFrame:
        """The result frame, on the request's index, carrying the notes of validation."""
        from ._columns import repeat_text
        from ._schema import NOTES_KEY

        columns["model_version"] = repeat_text(self.version, len(valid))
        result = pd.DataFrame(columns, index=valid.index, copy=False)
        result.attrs[NOTES_KEY] = list(valid.attrs.get(NOTES_KEY, ()))
        return result

    # ------------------------------------------------------------ batch scoring
    def predict_file(self, src: str | os.PathLike[str], dst: str | os.PathLike[str], *,
                     chunk_rows: int = 100_000, rejects: str | os.PathLike[str] | None = None,
                     keep: Sequence[str] = (), proba: bool | None = None,
                     progress: bool | None = None) -> PredictFileResult:
        """Score a CSV or Parquet file in chunks; rows that break the contract go to a reject file.

        The file is streamed, ``chunk_rows`` rows at a time (memory follows
        the chunk, not the file). Each chunk is validated like
        :meth:`predict`: its good rows are scored and written to ``dst``, its
        bad rows to ``rejects`` with their problems. No row is dropped:
        ``rows == scored + rejected``, and the ``row`` numbers of both files
        together are exactly ``0 .. rows - 1``. Both files are written to
        temporary files next to them and renamed at the end, so a failure
        (a model error, an unreadable file, an interrupt) leaves neither.

        Formats follow the suffixes: ``.csv``, ``.csv.gz``, ``.parquet``,
        ``.pq`` (Parquet needs ``pyarrow``). A CSV file's cells are typed by
        the contract (numbers by pandas' parser, the rest read as text): a
        cell is missing when it is empty or one of pandas' default markers
        (``NA``, ``N/A``, ``null``, ``None``, ``NaN``...), except in a text column whose categories include that
        marker (a category ``"NA"`` stays ``"NA"``); a numeric cell that is
        no number (``"abc"``) rejects its row, not the file.

        Parameters
        ----------
        src : str or Path
            The rows to score, with the contract's columns (others are
            copied to the reject file, and to ``dst`` when named in ``keep``).
        dst : str or Path
            The scores: ``row`` (the 0-based row number in ``src``), the
            ``keep`` columns as read, ``prediction``, ``proba_<class>``
            (with probabilities) and ``model_version``. Its folder must exist.
        chunk_rows : int, default=100_000
            Rows read, validated and scored at a time.
        rejects : str or Path, optional
            The reject file: ``row``, every column of ``src`` as read (one
            named ``row`` or ``problems`` becomes ``input.row``...) and
            ``problems`` (``"column: problem; ..."``, never a value). Default:
            ``<dst stem>.rejects.csv`` next to ``dst``. Always written, with
            its header only when no row was rejected.
        keep : sequence of str, default=()
            Columns of ``src`` copied to ``dst`` (an identifier, a date...).
        proba : bool, optional
            Probabilities (:meth:`predict_proba`) or not (:meth:`predict`);
            by default, when the model has ``predict_proba``.
        progress : bool, optional
            A ``tqdm`` progress bar on stderr; by default only when stderr
            is a terminal.

        Returns
        -------
        PredictFileResult
            ``rows``, ``scored``, ``rejected``, ``dst``, ``rejects``, ``seconds``.

        Raises
        ------
        SchemaError
            When the file misses a contract column (or holds one twice, or an
            unexpected one under ``extra="error"``); nothing is written.
        InputError
            For a bad argument (unknown suffix, missing file or folder,
            ``src`` equal to ``dst``, ``chunk_rows < 1``, a ``keep`` column
            not in the file) or a file that cannot be parsed.
        ModelError
            When the model fails on valid rows; nothing is written.
        MissingDependencyError
            For a Parquet file without ``pyarrow``.

        Examples
        --------
        >>> import pandas as pd, tempfile, pathlib
        >>> from sklearn.linear_model import LogisticRegression
        >>> from mllife.bundle import InputSchema, ModelBundle
        >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "plan": ["a", "b", "a", "NA"]})
        >>> bundle = ModelBundle(LogisticRegression().fit(X[["x"]], [0, 0, 1, 1]),
        ...                      InputSchema.infer(X[["x"]]), version="1")
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "in.csv").write_text("id,x\\nA7,0.5\\nB2,abc\\nC9,\\nD4,2.5\\n")
        >>> result = bundle.predict_file(folder / "in.csv", folder / "out.csv", keep=["id"])
        >>> result.rows, result.scored, result.rejected
        (4, 2, 2)
        >>> pd.read_csv(result.dst)[["row", "id", "prediction"]]
           row  id  prediction
        0    0  A7           0
        1    3  D4           1
        >>> pd.read_csv(result.rejects)
           row  id    x                                          problems
        0    1  B2  abc                          x: text instead of numbers
        1    2  C9  NaN  x: missing value where training had none
        """
        from ._batch import predict_file

        return predict_file(self, src, dst, chunk_rows=chunk_rows, rejects=rejects, keep=keep,
                            proba=proba, progress=progress)

    # ------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str], *, key: bytes | str | None = None) -> Path:
        """Write the bundle to one file, atomically.

        The model is serialised with ``skops.io`` (never plain pickle); the
        contract, version, metadata, metrics and drift profile as JSON; a
        manifest holds the SHA-256 of every member and the library versions.
        The file is written next to ``path`` under a temporary name and
        renamed, so a crash never leaves a half-written bundle.

        Parameters
        ----------
        path : str or Path
        key : bytes or str, optional
            A secret: the manifest is signed with HMAC-SHA256 and the bundle
            then loads only with the same key.

        Returns
        -------
        Path
        """
        return save_bundle(self, path, key=key)

