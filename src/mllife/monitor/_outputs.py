"""The model's outputs on a batch: read from the batch's columns, or scored by the bundle.

A batch may carry the columns :meth:`ModelBundle.predict_proba` returns
(``prediction`` and one ``proba_<class>`` per class, ``str(class)`` in the
name); otherwise the monitor scores the rows with the bundle. Either way the
rest of the monitor sees one :class:`Outputs`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._errors import InputError

__all__ = ["PREDICTION", "Outputs", "bundle_task", "concat_outputs", "output_columns",
           "outputs_frame", "outputs_from_batch", "score_valid"]

#: The column of the model's prediction, as ``ModelBundle.predict`` names it.
PREDICTION = "prediction"


@dataclass(frozen=True)
class Outputs:
    """The model's outputs on some rows.

    Attributes
    ----------
    task : str
        ``"binary"``, ``"multiclass"`` or ``"regression"``.
    prediction : numpy.ndarray
        1-D: class labels (classification) or floats (regression).
    proba : numpy.ndarray or None
        ``(n, K)`` float64, columns in ``classes`` order; ``None`` for a
        regressor or a classifier without probabilities.
    classes : tuple or None
        The model's ``classes_`` (classification), else ``None``.

    Examples
    --------
    >>> import numpy as np
    >>> out = Outputs("binary", np.array([0, 1]), np.array([[0.8, 0.2], [0.3, 0.7]]), (0, 1))
    >>> len(out), out.take(np.array([1])).prediction.tolist()
    (2, [1])
    """

    task: str
    prediction: np.ndarray
    proba: np.ndarray | None
    classes: tuple[Any, ...] | None

    def __len__(self) -> int:
        return len(self.prediction)

    def take(self, rows: np.ndarray) -> Outputs:
        """The outputs of the rows ``rows`` (positions or a boolean mask)."""
        proba = None if self.proba is None else self.proba[rows]
        return Outputs(self.task, self.prediction[rows], proba, self.classes)


def bundle_task(bundle: Any) -> tuple[str, tuple[Any, ...] | None, bool]:
    """``(task, classes, has_proba)`` of a bundle's model.

    A model with ``classes_`` (or scikit-learn's classifier tag) is a
    classifier: binary with at most two classes, multiclass above; anything
    else is a regressor.
    """
    from .._task import estimator_kind

    model = bundle.model
    classes = getattr(model, "classes_", None)
    if classes is None and estimator_kind(model) != "classifier":
        return "regression", None, False
    if classes is None:
        raise InputError(f"the bundle's classifier {type(model).__name__} has no classes_",
                         expected="a fitted classifier")
    values = tuple(np.asarray(classes).tolist())
    task = "binary" if len(values) <= 2 else "multiclass"
    return task, values, hasattr(model, "predict_proba")


def output_columns(task: str, classes: tuple[Any, ...] | None, has_proba: bool) -> list[str]:
    """The output column names: ``prediction`` then ``proba_<class>`` per class.

    Examples
    --------
    >>> output_columns("binary", (0, 1), True)
    ['prediction', 'proba_0', 'proba_1']
    >>> output_columns("regression", None, False)
    ['prediction']
    """
    if task == "regression" or classes is None or not has_proba:
        return [PREDICTION]
    return [PREDICTION, *(f"proba_{c}" for c in classes)]


def _as_labels(values: pd.Series, classes: tuple[Any, ...]) -> np.ndarray:
    """Prediction labels in the classes' type when the text of each matches a class.

    A nullable integer or boolean column (``Int64``: a prediction log read with its failed
    requests) gives Python objects, its missing values ``None``: ``to_numpy`` would turn
    it into floats, and ``1.0`` is no class ``1`` (nor is 2**60 + 1 after rounding).
    """
    dtype = values.dtype
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and (
            pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)):
        arr = values.to_numpy(dtype=object, na_value=None)
    else:
        arr = values.to_numpy()
    known = np.asarray(classes, dtype=object)
    if pd.Series(arr).isin(known).all():
        return arr
    text = pd.Series(arr, dtype=object).astype(str)
    mapping = {str(c): c for c in classes}
    if text.isin(list(mapping)).all():
        return text.map(mapping).to_numpy()
    return arr


def outputs_from_batch(frame: pd.DataFrame, task: str, classes: tuple[Any, ...] | None,
                       has_proba: bool) -> Outputs | None:
    """The outputs a batch carries, or ``None`` when it carries none (the bundle scores it).

    A classifier's batch with every ``proba_<class>`` column gives the
    probabilities (``prediction`` is their argmax when absent); a batch with
    ``prediction`` only gives the labels without probabilities. Probabilities
    must be numbers: others raise.

    A row missing one of its probabilities has none (it is left out of the
    confidence and the estimates).

    Raises
    ------
    InputError
        When some ``proba_<class>`` columns are present but not all, a
        ``proba_<class>`` column is not numeric, holds values outside [0, 1]
        or rows not summing to 1, the classifier's ``prediction`` holds a
        value that is not a class, or the regression ``prediction`` is not
        numeric.
    """
    if task == "regression" or classes is None:
        if PREDICTION not in frame.columns:
            return None
        pred = pd.to_numeric(frame[PREDICTION], errors="coerce")
        if pred.isna().sum() > frame[PREDICTION].isna().sum():
            raise InputError("the batch's predictions are not numbers", column=PREDICTION,
                             expected="the regressor's predictions (floats)")
        return Outputs("regression", pred.to_numpy(dtype=np.float64, na_value=np.nan), None, None)
    names = output_columns(task, classes, True)[1:]
    present = [n for n in names if n in frame.columns]
    if has_proba and present and len(present) < len(names):
        missing = [n for n in names if n not in frame.columns]
        raise InputError(f"the batch carries {present[:5]} but not {missing[:5]}",
                         column=missing[0],
                         expected="every proba_<class> column of the model, or none "
                                  "(the bundle then scores the rows)")
    if has_proba and present:
        block = frame.loc[:, names]
        bad = [n for n in names if not pd.api.types.is_numeric_dtype(block[n].dtype)
               or pd.api.types.is_bool_dtype(block[n].dtype)]
        if bad:
            raise InputError("probabilities are not numbers", column=bad[0],
                             expected="the model's probabilities, floats in [0, 1]")
        proba = _checked_proba(block.to_numpy(dtype=np.float64, na_value=np.nan), names)
        if PREDICTION in frame.columns:
            pred = _as_labels(frame[PREDICTION], classes)
            _check_labels(pred, classes)
        else:
            filled = np.where(np.isnan(proba), -np.inf, proba)
            pred = np.asarray(classes, dtype=object)[np.argmax(filled, axis=1)]
            pred = pd.Series(pred).infer_objects().to_numpy()
        return Outputs(task, pred, proba, classes)
    if PREDICTION in frame.columns:
        pred = _as_labels(frame[PREDICTION], classes)
        _check_labels(pred, classes)
        return Outputs(task, pred, None, classes)
    return None


#: How far a row of probabilities may sum from 1 (float32 models, rounding in logs).
PROBA_SUM_TOLERANCE = 1e-3


def _checked_proba(proba: np.ndarray, names: list[str]) -> np.ndarray:
    """Probabilities in [0, 1] summing to 1 per row; a row with a missing one has none."""
    finite = np.isfinite(proba)
    infinite = np.isinf(proba)
    outside = finite & ((proba < -1e-9) | (proba > 1 + 1e-9))
    for problem, mask in (("infinite probabilities", infinite),
                          ("probabilities outside [0, 1]", outside)):
        if mask.any():
            col = int(np.flatnonzero(mask.any(axis=0))[0])
            raise InputError(f"the batch holds {problem}", column=names[col],
                             n_rows=int(mask.any(axis=1).sum()),
                             expected="the model's probabilities, floats in [0, 1]")
    whole = finite.all(axis=1)
    off = whole & (np.abs(proba.sum(axis=1) - 1.0) > PROBA_SUM_TOLERANCE)
    if off.any():
        raise InputError("the batch's probabilities do not sum to 1 in a row", column=names[0],
                         n_rows=int(off.sum()),
                         expected=f"one probability per class, summing to 1 in every row "
                                  f"(columns {names[:5]})")
    if not whole.all():  # a row missing one probability has none (not a max over part of it)
        proba = proba.copy()
        proba[~whole] = np.nan
    return proba


def _check_labels(pred: np.ndarray, classes: tuple[Any, ...]) -> None:
    """Refuse predictions (not missing) that are none of the model's classes."""
    series = pd.Series(pred, dtype=object)
    unknown = series.notna() & ~series.isin(list(classes))
    if unknown.any():
        raise InputError(f"the batch's predictions hold values that are not the model's "
                         f"classes ({series[unknown].astype(str).unique()[:5].tolist()})",
                         column=PREDICTION, n_rows=int(unknown.sum()),
                         expected=f"one of the model's classes {list(classes)[:10]}")


def score_valid(bundle: Any, valid: pd.DataFrame, task: str, classes: tuple[Any, ...] | None,
                has_proba: bool) -> Outputs:
    """The bundle's outputs on rows that met its schema (``bundle.schema.validate`` output).

    The model is called through the bundle's own call (a failure is a
    :class:`~mllife.ModelError`), as :meth:`ModelBundle.predict_proba` does.
    """
    if task == "regression" or classes is None:
        pred = np.asarray(bundle._call("predict", valid), dtype=np.float64).reshape(-1)
        return Outputs("regression", pred, None, None)
    if not has_proba:
        return Outputs(task, np.asarray(bundle._call("predict", valid)).reshape(-1), None, classes)
    pred, proba, _ = bundle._scores(valid)  # the bundle decides the class, as predict_proba
    return Outputs(task, pred, np.asarray(proba, dtype=np.float64), classes)


def outputs_frame(outputs: Outputs, index: Any = None) -> pd.DataFrame:
    """The outputs as the frame ``ModelBundle.predict_proba`` returns (without the version).

    Examples
    --------
    >>> import numpy as np
    >>> out = Outputs("binary", np.array([0, 1]), np.array([[0.8, 0.2], [0.3, 0.7]]), (0, 1))
    >>> outputs_frame(out).columns.tolist()
    ['prediction', 'proba_0', 'proba_1']
    """
    columns: dict[str, Any] = {PREDICTION: outputs.prediction}
    if outputs.proba is not None and outputs.classes is not None:
        for i, c in enumerate(outputs.classes):
            columns[f"proba_{c}"] = outputs.proba[:, i]
    return pd.DataFrame(columns, index=index, copy=False)


def concat_outputs(parts: list[Outputs]) -> Outputs | None:
    """The rows of several :class:`Outputs` of one model, in order (``None`` for no parts)."""
    if not parts:
        return None
    first = parts[0]
    pred = np.concatenate([p.prediction for p in parts])
    if any(p.proba is None for p in parts):
        proba = None
    else:
        proba = np.concatenate([p.proba for p in parts if p.proba is not None], axis=0)
    return Outputs(first.task, pred, proba, first.classes)
