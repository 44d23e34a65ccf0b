"""The ``make_preprocessor`` entries: column kinds (from :mod:`mllife._columns`) to steps.

The kinds themselves are decided once, by :func:`mllife._columns.column_kinds`
(the detector the audit, drift and split use too). Here they become
``ColumnTransformer`` entries: one entry per kind, except

- ``boolean`` text flags (``"Y"``/``"N"``) go to ``boolean_text``, which maps
  their two spellings to 0/1 (real booleans go to ``boolean``);
- ``mixed`` columns (several Python types) are read as text categories:
  ``categorical`` or ``high_cardinality`` by their distinct count;
- ``drop=`` columns go to ``excluded``.

Which of ``categorical`` / ``high_cardinality`` a column goes to is the one
routing decision with a threshold (``max_categories``); :func:`route` makes it,
at ``make_preprocessor`` time and again at ``fit`` (so ``GridSearchCV`` can tune
``max_categories``).

``make_preprocessor(X, steps={kind: transformer})`` replaces the steps of the
entries of a kind (:data:`STEP_KEYS` says which); :func:`check_steps`
validates and clones what the caller gave, :func:`step_key` finds the key that
covers an entry. A text vectoriser that reads one column at a time
(``TfidfVectorizer``: scikit-learn's ``two_d_array`` tag is off) gets one
entry per text column, named ``text_<column>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags

from .._columns import ColumnKind, column_kinds
from .._errors import InputError

__all__ = [
    "DROPPED", "ENTRY_KINDS", "STEP_KEYS", "base_entry", "check_steps", "detect_kinds", "drops",
    "entry_of", "fresh_entry", "in_kind_order", "is_one_d", "kind_of_entry", "makes_sparse", "restepped",
    "route", "set_entry_output", "step_key", "text_entries", "text_entry_names",
]

#: Entry name -> (kind shown in the plan, what is done). Order = output order.
ENTRY_KINDS: dict[str, tuple[str, str]] = {
    "numeric": ("numeric", "median impute + missing indicator, then scale"),
    "timedelta": ("timedelta", "as seconds, then as numeric"),
    "boolean": ("boolean", "as 0/1, most frequent value imputed"),
    "boolean_text": ("boolean", "yes/no text as 0/1, most frequent value imputed"),
    "datetime": ("datetime", "calendar features (with hour), elapsed days, impute, scale"),
    "date": ("date", "calendar features (no time of day), elapsed days, impute, scale"),
    "datetime_utc": ("datetime (mixed time zones)",
                     "converted to UTC, calendar features, elapsed days, impute, scale"),
    "categorical": ("categorical", "one-hot, surviving unseen and rare values"),
    "high_cardinality": ("categorical (many values)", "rare grouping, then one-hot of the kept values"),
    "identifier": ("identifier", "an identifier: a distinct value per row carries no pattern"),
    "constant": ("constant", "a single value carries no information"),
    "empty": ("empty", "no value at all"),
    "text": ("text", "free text needs a text vectoriser (not chosen automatically)"),
    "numeric_text": ("numbers as text", "numbers stored as text: convert them first (Cleaner)"),
    "excluded": ("excluded", "excluded by the caller (drop=)"),
}
#: Entries whose columns are dropped.
DROPPED = frozenset({"identifier", "constant", "empty", "text", "numeric_text", "excluded"})
#: Entry names of preprocessors saved before the kinds were unified.
LEGACY_ENTRIES = {"id": "identifier"}
#: Entries whose name is not the column kind.
_ENTRY_KIND = {"boolean_text": "boolean"}
#: The keys of ``make_preprocessor(steps=...)`` (column kinds) -> the entries they replace.
#: ``datetime`` covers the ``date`` entry too unless ``date`` is given as well.
STEP_KEYS: dict[str, tuple[str, ...]] = {
    "numeric": ("numeric",),
    "categorical": ("categorical",),
    "high_cardinality": ("high_cardinality",),
    "datetime": ("datetime", "date", "datetime_utc"),
    "date": ("date",),
    "timedelta": ("timedelta",),
    "boolean": ("boolean", "boolean_text"),
    "text": ("text",),
    "identifier": ("identifier",),
    "numeric_text": ("numeric_text",),
}
#: Name prefix of the per-column entries a one-column text vectoriser gets.
TEXT_ENTRY_PREFIX = "text_"
#: The keys of the kinds whose columns are dropped by default.
_DROPPED_KEYS = frozenset({"text", "identifier", "numeric_text"})


def route(n_unique: int, max_categories: int) -> str:
    """``categorical`` up to ``max_categories`` distinct values, ``high_cardinality`` above."""
    return "categorical" if n_unique <= max_categories else "high_cardinality"


def entry_of(kind: ColumnKind, max_categories: int) -> str:
    """The ``make_preprocessor`` entry of a column of this kind."""
    if kind.kind == "boolean" and kind.boolean_values is not None:
        return "boolean_text"
    if kind.kind in {"categorical", "high_cardinality", "mixed"}:
        return route(kind.n_unique, max_categories)
    return kind.kind


def base_entry(entry: str) -> str:
    """The entry an entry name stands for: ``text_review`` (one text column) -> ``text``,
    ``id`` (saved before the kinds were unified) -> ``identifier``, others as they are."""
    entry = LEGACY_ENTRIES.get(entry, entry)
    return "text" if entry.startswith(TEXT_ENTRY_PREFIX) else entry


def kind_of_entry(entry: str) -> str:
    """The column kind an entry stands for (``boolean_text`` -> ``boolean``; ``id`` -> ``identifier``;
    ``text_review`` -> ``text``)."""
    entry = base_entry(entry)
    return _ENTRY_KIND.get(entry, entry)


def step_key(entry: str, steps: Mapping[str, Any]) -> str | None:
    """The key of ``steps`` whose transformer replaces this entry's steps (``None``: the default).

    A key naming the entry itself wins (``date`` over ``datetime`` for the ``date`` entry).

    Examples
    --------
    >>> step_key("date", {"datetime": "drop"}), step_key("date", {"datetime": "drop", "date": "drop"})
    ('datetime', 'date')
    >>> step_key("boolean_text", {"boolean": "passthrough"}), step_key("numeric", {})
    ('boolean', None)
    """
    entry = base_entry(entry)
    if entry in steps and entry in STEP_KEYS:
        return entry
    return next((key for key, entries in STEP_KEYS.items() if entry in entries and key in steps), None)


def is_one_d(est: Any) -> bool:
    """Whether ``est`` reads one column as a 1-D array (a text vectoriser; the first step of a
    Pipeline decides), by scikit-learn's ``two_d_array`` input tag."""
    if isinstance(est, Pipeline):
        steps = [step for _, step in est.steps if not (step is None or isinstance(step, str))]
        return bool(steps) and is_one_d(steps[0])
    if isinstance(est, str) or not hasattr(est, "fit"):
        return False
    return not get_tags(est).input_tags.two_d_array


def _checked_step(key: str, value: Any, name: str = "steps") -> Any:
    """One value of ``steps``: ``"drop"``, ``"passthrough"`` or a clone of the transformer."""
    expected = "'drop', 'passthrough' or a scikit-learn transformer (an object with fit and transform)"
    where = f"{name}[{key!r}]"
    if isinstance(value, str):
        if value in {"drop", "passthrough"}:
            return value
        raise InputError(f"{where} is {value!r}", expected=expected)
    if isinstance(value, type):
        raise InputError(f"{where} is the class {value.__name__}, not an instance",
                         expected=f"an instance such as {value.__name__}()")
    if not (callable(getattr(value, "fit", None)) and callable(getattr(value, "transform", None))):
        raise InputError(f"{where} is a {type(value).__name__}, which has no fit and transform",
                         expected=expected)
    if not hasattr(value, "get_feature_names_out"):
        raise InputError(
            f"{where}: {type(value).__name__} does not name its output columns (no "
            "get_feature_names_out), so the preprocessor cannot name its features",
            expected="a transformer with get_feature_names_out (a FunctionTransformer needs "
                     "feature_names_out='one-to-one' or a callable)")
    try:
        copy = clone(value)
    except (TypeError, RuntimeError) as exc:  # scikit-learn's complaint about the estimator
        raise InputError(f"{where} cannot be cloned ({exc})",
                         expected="a scikit-learn estimator (get_params / set_params)") from None
    if key != "text" and is_one_d(copy):
        raise InputError(
            f"{where}: {type(value).__name__} reads one column of text at a time (1-D input)",
            expected="a transformer of 2-D input; only 'text' columns are given to a one-column "
                     "vectoriser, one entry per column")
    return copy


def check_steps(steps: Any, name: str = "steps") -> dict[str, Any]:
    """``make_preprocessor``'s ``steps`` checked: kind -> ``"drop"``, ``"passthrough"`` or a
    clone of the caller's transformer (the caller's object is never fitted or changed).

    ``name`` is the parameter the messages name (``kind_steps`` when
    ``Preprocessor.fit`` checks its own parameter).

    Raises
    ------
    InputError
        For a key that is not a column kind of :data:`STEP_KEYS` (the message lists them), or a
        value that is not ``"drop"``, ``"passthrough"`` or a transformer (the key named).

    Examples
    --------
    >>> from sklearn.preprocessing import StandardScaler
    >>> scaler = StandardScaler()
    >>> checked = check_steps({"numeric": scaler, "text": "drop"})
    >>> checked["numeric"] is scaler, checked["text"]
    (False, 'drop')
    >>> check_steps({"numbers": scaler})
    Traceback (most recent call last):
        ...
    mllife._errors.InputError: steps has the unknown key 'numbers'; expected column kinds among ['numeric', 'categorical', 'high_cardinality', 'datetime', 'date', 'timedelta', 'boolean', 'text', 'identifier', 'numeric_text']
    """
    if steps is None:
        return {}
    if not isinstance(steps, Mapping):
        raise InputError(f"{name} is a {type(steps).__name__}",
                         expected="a dict {column kind: transformer, 'drop' or 'passthrough'}")
    checked = {}
    for key, value in steps.items():
        if not isinstance(key, str) or key not in STEP_KEYS:
            raise InputError(f"{name} has the unknown key {key!r}",
                             expected=f"column kinds among {list(STEP_KEYS)}")
        checked[key] = _checked_step(key, value, name)
    return checked


def text_entry_names(columns: Iterable[Any]) -> list[str]:
    """Entry names for one-column text entries: ``text_<column>``, without ``__`` (scikit-learn
    splits parameter names there) and unique.

    Examples
    --------
    >>> text_entry_names(["review", "title__en", "title_en"])
    ['text_review', 'text_title_en', 'text_title_en_2']
    """
    names: list[str] = []
    for col in columns:
        base = re.sub("_{2,}", "_", f"{TEXT_ENTRY_PREFIX}{col}")
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}_{n}"
        names.append(name)
    return names


def detect_kinds(frame: pd.DataFrame, *, max_categories: int, sample_size: int) -> dict[Any, ColumnKind]:
    """The kind of every column of ``frame`` (the one detector, :func:`mllife._columns.column_kinds`)."""
    return column_kinds(frame, max_categories=max_categories, sample_size=sample_size)


def set_entry_output(est: Any, transform: str | None) -> None:
    """``set_output`` on one entry's steps, skipping those without it (a text vectoriser,
    whose sparse output the preprocessor places itself)."""
    if transform is None or est is None or isinstance(est, str):
        return
    if isinstance(est, Pipeline):
        for _, step in est.steps:
            set_entry_output(step, transform)
    elif hasattr(est, "set_output") and (hasattr(est, "transform") or hasattr(est, "fit_transform")) \
            and not makes_sparse(est):
        est.set_output(transform=transform)


def makes_sparse(est: Any) -> bool:
    """Whether a step is set to return a sparse matrix (``OneHotEncoder()``'s default,
    ``KBinsDiscretizer(encode="onehot")``, ``sparse_output=True``): scikit-learn refuses a
    table output for it, so it keeps its own and the preprocessor makes its block dense.

    Examples
    --------
    >>> from sklearn.preprocessing import OneHotEncoder
    >>> makes_sparse(OneHotEncoder()), makes_sparse(OneHotEncoder(sparse_output=False))
    (True, False)
    """
    get_params = getattr(est, "get_params", None)
    if not callable(get_params):
        return False
    params = get_params(deep=False)
    return params.get("sparse_output") is True or params.get("sparse") is True \
        or params.get("encode") == "onehot"


def fresh_entry(value: Any, transform: str | None) -> Any:
    """A new entry made from a user's step: a clone (the string as is), with the output set."""
    if isinstance(value, str):
        return value
    est = clone(value)
    set_entry_output(est, transform)
    return est


def text_entries(cols: Sequence[Any], value: Any, transform: str | None) -> list[tuple[str, Any, Any]]:
    """The entries of the text columns: one per column for a one-column vectoriser, else one."""
    if is_one_d(value):
        return [(name, fresh_entry(value, transform), col)
                for name, col in zip(text_entry_names(cols), cols, strict=True)]
    return [("text", fresh_entry(value, transform), list(cols))]


def in_kind_order(entries: list[tuple[str, Any, Any]]) -> list[tuple[str, Any, Any]]:
    """``entries`` in the order of :data:`ENTRY_KINDS` (one-column text entries at ``text``;
    other names after, as they were)."""
    order = {name: i for i, name in enumerate(ENTRY_KINDS)}

    def rank(entry: tuple[str, Any, Any]) -> int:
        name = entry[0]
        if name not in order and base_entry(name) == "text":
            name = "text"
        return order.get(name, len(order))

    return sorted(entries, key=rank)


def drops(entry: str, user: Mapping[str, Any]) -> bool:
    """Whether an entry's columns are dropped: by default, or by ``steps``."""
    key = step_key(entry, user)
    if key is None:
        return entry in DROPPED
    return isinstance(user[key], str) and user[key] == "drop"


def restepped(transformers: Sequence[tuple[str, Any, Any]], old: Mapping[str, Any],
              new: Mapping[str, Any], checked: Mapping[str, Any],
              transform: str | None) -> list[tuple[str, Any, Any]]:
    """``transformers`` with the entries of the kinds whose step changed from ``old`` to
    ``new`` replaced (``checked``: ``new`` validated and cloned; ``transform``: the output).

    A kind left out of ``new`` goes back to ``"drop"`` when that is its default (``text``,
    ``identifier``, ``numeric_text``); other defaults depend on the data: an InputError.
    """
    changed = {key for key in {*old, *new} if old.get(key) is not new.get(key)}
    lost = sorted(key for key in changed if key not in new and key not in _DROPPED_KEYS)
    if lost:
        raise InputError(
            f"set_params(kind_steps=...) leaves out {lost}, whose default steps depend on the "
            "data make_preprocessor looked at", expected="make_preprocessor(X, steps=...) again")
    out: list[tuple[str, Any, Any]] = []
    text: list[Any] = []
    for name, trans, cols in transformers:
        entry = base_entry(name)
        if entry == "text" and "text" in changed:
            text += [cols] if isinstance(cols, str) else list(cols)
            continue
        key_new, key_old = step_key(entry, checked), step_key(entry, old)
        if key_new is not None and key_new in changed:
            trans = fresh_entry(checked[key_new], transform)
        elif key_new is None and key_old is not None and key_old in changed:
            trans = "drop"  # back to the default of the kinds dropped by default
        out.append((name, trans, cols))
    if text:
        out += text_entries(text, checked.get("text", "drop"), transform)
    return in_kind_order(out)
