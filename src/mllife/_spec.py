"""``spec=``: take target, task, time/group columns, positive label and criteria from a
:class:`~mllife.ProblemSpec`.

Every public call that accepts one of those also accepts ``spec=``. An explicit keyword
wins over nothing; an explicit keyword that *disagrees* with the spec raises, because two
sources of truth for one decision is the bug this parameter exists to prevent.
"""

from __future__ import annotations

from typing import Any

from ._errors import InputError

# keyword name in the calling function -> attribute of ProblemSpec
FIELDS = {
    "target": "target",
    "task": "task",
    "time_col": "time_col",
    "group_col": "group_col",
    "positive_label": "positive_label",
    "criteria": "criteria",
    "sensitive_features": "sensitive_features",
}


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # arrays, frames: equality is not a single truth value
        return a is b


def resolve_spec(spec: Any, *, where: str, **explicit: Any) -> dict[str, Any]:
    """Merge ``spec`` into the explicit keywords of the call ``where``.

    Returns a dict with one entry per keyword in ``explicit``: the explicit value when it
    is not ``None``, else the spec's (``None`` when there is no spec). Keywords the spec
    does not hold (a column name passed where the spec has none) pass through.

    Raises
    ------
    InputError
        When ``spec`` is not a ProblemSpec, or an explicit keyword disagrees with it.

    Examples
    --------
    >>> from mllife import ProblemSpec
    >>> from mllife._spec import resolve_spec
    >>> spec = ProblemSpec("churned", "binary", time_col="signup", positive_label=1)
    >>> resolve_spec(spec, where="split", target=None, time_col=None, group_col=None)
    {'target': 'churned', 'time_col': 'signup', 'group_col': None}
    >>> resolve_spec(spec, where="split", target="other")
    Traceback (most recent call last):
    ...
    mllife._errors.InputError: split(target='other') disagrees with spec.target='churned'...
    """
    if spec is None:
        return dict(explicit)
    from .problem import ProblemSpec

    if not isinstance(spec, ProblemSpec):
        raise InputError(f"{where}(spec=...) got a {type(spec).__name__}",
                         expected="a mllife.ProblemSpec or None")
    out: dict[str, Any] = {}
    for key, value in explicit.items():
        attr = FIELDS.get(key)
        from_spec = getattr(spec, attr) if attr is not None else None
        if attr == "sensitive_features" and not from_spec:
            from_spec = None
        if key == "task" and value is not None:
            from ._task import check_task

            value = check_task(value)   # "Binary" is "binary", as everywhere else
        if value is None:
            out[key] = from_spec
        elif from_spec is not None and not _same(value, from_spec):
            raise InputError(
                f"{where}({key}={value!r}) disagrees with spec.{attr}={from_spec!r}",
                expected=f"either drop {key}= and let the spec decide, or pass the same value",
            )
        else:
            out[key] = value
    return out
