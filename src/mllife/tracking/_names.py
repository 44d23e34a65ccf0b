"""Names and values for a tracker: flat keys, param text, tracker-safe names.

:func:`flatten` turns nested mappings into dotted keys, :func:`param_text`
writes any value as a bounded string, :func:`flatten_params` reads an
estimator's ``get_params(deep=True)``, and :func:`safe_name` makes a name fit
the characters, shape and length most tracking backends (MLflow's included)
accept, keeping different names different.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._errors import InputError

__all__ = ["CUT_MARK", "MAX_NAME", "MAX_TEXT", "cut_text", "flatten", "flatten_params",
           "model_params", "name_hash", "param_text", "safe_name"]

#: Appended to a value cut to fit a length limit, so a reader sees it is not whole.
CUT_MARK = "…[cut]"
#: The longest param value (MLflow's limit).
MAX_TEXT = 6000
#: The longest name (metric, param or tag key; MLflow's limit).
MAX_NAME = 250
_MAX_DEPTH = 32  # deeper nesting is written as text, not walked
_BAD_CHARS = re.compile(r"[^A-Za-z0-9_\-. :/]")
_LEADING_DOTS = re.compile(r"^\.{2,}")


def cut_text(text: str, max_length: int = MAX_TEXT) -> str:
    """``text`` cut to ``max_length`` characters, ending with :data:`CUT_MARK` when cut.

    Examples
    --------
    >>> cut_text("abcdefghij", 8)
    'ab…[cut]'
    >>> cut_text("short", 8)
    'short'
    """
    if len(text) <= max_length:
        return text
    return text[: max(0, max_length - len(CUT_MARK))] + CUT_MARK


def name_hash(name: str) -> str:
    """A short stable hash of ``name`` (8 hex digits), the suffix that keeps names apart.

    Examples
    --------
    >>> name_hash("a b") == name_hash("a b") != name_hash("a_b")
    True
    >>> len(name_hash("x"))
    8
    """
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def safe_name(name: str, *, max_length: int = MAX_NAME) -> str:
    """``name`` with only ``[A-Za-z0-9_\\-. :/]``, as a clean relative path, <= ``max_length``.

    Every other character (emoji, ``%``, ``?``, newline, NUL) becomes ``_``;
    empty ``/``-separated parts and ``.`` parts are dropped (no leading, trailing
    or doubled ``/``); a part made only of dots (``..``) becomes ``_``, and
    two or more dots a name starts with become ``_`` each (``..x`` gives
    ``__x``: MLflow refuses a name that starts with ``..``). A name
    longer than ``max_length`` is cut and ends with ``-`` and :func:`name_hash`
    of the whole original name, so two long names sharing a beginning stay
    apart. A clean name is returned unchanged. Two different names can still
    clean to the same text (``"a%b"`` and ``"a_b"``): the tracker that uses
    this keeps them apart (see :class:`~mllife.tracking.MlflowTracker`).

    Examples
    --------
    >>> safe_name("test.roc_auc")
    'test.roc_auc'
    >>> safe_name("/../weird name%?\\n")
    '_/weird name___'
    >>> len(safe_name("x" * 600))
    250
    """
    text = _BAD_CHARS.sub("_", str(name))
    parts = [p for p in text.split("/") if p not in ("", ".")]
    parts = ["_" if set(p) == {"."} else p for p in parts]
    text = "/".join(parts) or "_"
    # MLflow refuses a name whose path form starts with "..", as "..x" or ".._w" do
    text = _LEADING_DOTS.sub(lambda dots: "_" * len(dots.group()), text)
    if len(text) > max_length:
        text = text[: max_length - 9].rstrip("/") + "-" + name_hash(str(name))
    return text


def flatten(mapping: Mapping[Any, Any], *, sep: str = ".") -> dict[str, Any]:
    """Nested mappings and sequences flattened into one level of ``sep``-joined keys.

    A mapping's keys become parts of the name (``{"test": {"auc": 0.8}}`` gives
    ``"test.auc"``); a list or tuple's items are numbered from 0; strings,
    numbers and other values are kept as they are. Nesting deeper than 32
    levels (or a mapping that contains itself) is kept as its ``repr``.

    Parameters
    ----------
    mapping : mapping
        The nested data.
    sep : str, default="."
        What joins the parts of a name.

    Returns
    -------
    dict of str to value

    Raises
    ------
    InputError
        If ``mapping`` is not a mapping or ``sep`` is not a string.

    Examples
    --------
    >>> flatten({"test": {"auc": 0.8, "n": 120}, "folds": [0.7, 0.9], "task": "binary"})
    {'test.auc': 0.8, 'test.n': 120, 'folds.0': 0.7, 'folds.1': 0.9, 'task': 'binary'}
    """
    if not isinstance(mapping, Mapping):
        raise InputError(f"flatten: mapping is a {type(mapping).__name__}",
                         expected="a mapping (a dict)")
    if not isinstance(sep, str):
        raise InputError(f"flatten: sep is a {type(sep).__name__}", expected="a string")
    out: dict[str, Any] = {}

    def walk(prefix: str, value: Any, depth: int, seen: frozenset[int]) -> None:
        nested: list[tuple[Any, Any]] | None = None
        if isinstance(value, Mapping):
            nested = list(value.items())
        elif isinstance(value, list | tuple | np.ndarray) and not isinstance(value, str):
            nested = list(enumerate(value.tolist() if isinstance(value, np.ndarray) else value))
        if nested is None or (not nested and prefix):
            out[prefix] = value
            return
        if depth >= _MAX_DEPTH or id(value) in seen:
            out[prefix] = cut_text(_safe_repr(value))
            return
        for key, item in nested:
            walk(f"{prefix}{sep}{key}" if prefix else str(key), item, depth + 1,
                 seen | {id(value)})

    walk("", mapping, 0, frozenset())
    return out


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:  # a broken __repr__ must not stop the logging of everything else
        return f"<{type(value).__name__}>"


def param_text(value: Any, *, max_length: int = MAX_TEXT) -> str:
    """``value`` as the text of a param, at most ``max_length`` characters.

    ``None`` is ``"None"``, booleans ``"True"``/``"False"``, floats their
    ``repr`` (all digits: ``0.1`` stays ``"0.1"``), numpy scalars like the
    Python ones, classes and functions their dotted name (never a memory
    address), estimators and everything else their ``repr``. Text longer than
    ``max_length`` is cut and ends with :data:`CUT_MARK`.

    Examples
    --------
    >>> param_text(None), param_text(0.1), param_text(3), param_text(True)
    ('None', '0.1', '3', 'True')
    >>> from sklearn.linear_model import LogisticRegression
    >>> param_text(LogisticRegression(C=2.0))
    'LogisticRegression(C=2.0)'
    >>> text = param_text(list(range(10_000)))
    >>> len(text), text[-8:]
    (6000, '3,…[cut]')
    >>> param_text(list(range(10_000)), max_length=20)
    '[0, 1, 2, 3, 4…[cut]'
    """
    if value is None:
        text = "None"
    elif isinstance(value, str):
        text = value
    elif isinstance(value, bool | np.bool_):
        text = str(bool(value))
    elif isinstance(value, int | np.integer):
        text = str(int(value))
    elif isinstance(value, float | np.floating):
        number = float(value)
        text = repr(number) if math.isfinite(number) else str(number)
    elif isinstance(value, type):
        text = f"{value.__module__}.{value.__qualname__}"
    elif callable(value) and hasattr(value, "__qualname__") and not hasattr(value, "get_params"):
        text = f"{getattr(value, '__module__', None) or '?'}.{value.__qualname__}"
    else:
        text = _safe_repr(value)
    return cut_text(text, max_length)


def flatten_params(estimator: Any) -> dict[str, str]:
    """An estimator's ``get_params(deep=True)`` as text, one entry per param.

    Names are scikit-learn's own (``"model__n_estimators"``, the names
    ``set_params`` takes); a nested estimator appears as its class name, and
    its params as their own entries (as ``get_params(deep=True)`` lists them);
    every other value is :func:`param_text`.

    Parameters
    ----------
    estimator : estimator
        Anything with ``get_params(deep=True)``.

    Returns
    -------
    dict of str to str

    Raises
    ------
    InputError
        If ``estimator`` has no ``get_params``.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.linear_model import LogisticRegression
    >>> params = flatten_params(make_pipeline(StandardScaler(), LogisticRegression(C=0.5)))
    >>> params["logisticregression"], params["logisticregression__C"]
    ('LogisticRegression', '0.5')
    """
    get_params = getattr(estimator, "get_params", None)
    if not callable(get_params):
        raise InputError(f"flatten_params: estimator is a {type(estimator).__name__}",
                         expected="a scikit-learn estimator (an object with get_params)")
    params = get_params(deep=True)
    out: dict[str, str] = {}
    for key, value in params.items():
        if hasattr(value, "get_params") and not isinstance(value, type):
            out[str(key)] = type(value).__name__
        else:
            out[str(key)] = param_text(value)
    return out


def model_params(model: Any) -> dict[str, str]:
    """:func:`flatten_params`, or no params for a model whose ``get_params`` is missing or fails.

    What ``compare_models``, ``evaluate`` and ``compare_champion`` log: a user's
    model with a broken ``get_params`` is still analysed and logged, without params.

    Examples
    --------
    >>> model_params(object())
    {}
    """
    try:
        return flatten_params(model)
    except Exception:  # a user's get_params: its failure must not cost the analysis
        return {}
