"""The catalogue of drift statistics: built-in ones and those users register."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._errors import InputError
from . import stats

KINDS = ("numeric", "categorical")

StatisticFn = Callable[[Any, Any], tuple[float, float | None]]


@dataclass(frozen=True)
class StatisticSpec:
    """One statistic the report can use as ``method``.

    ``threshold`` is the default decision threshold on the statistic for
    statistics without a p-value (``None``: the user must give one).
    """

    name: str
    fn: StatisticFn
    kinds: tuple[str, ...]
    has_p_value: bool
    threshold: float | None
    builtin: bool = True


_BUILTIN: dict[str, StatisticSpec] = {
    "ks": StatisticSpec("ks", stats.ks, ("numeric",), True, None),
    "anderson": StatisticSpec("anderson", stats.anderson, ("numeric",), True, None),
    "wasserstein": StatisticSpec("wasserstein", stats.wasserstein, ("numeric",), False, 0.05),
    "energy": StatisticSpec("energy", stats.energy, ("numeric",), False, None),
    "psi": StatisticSpec("psi", stats.psi, KINDS, False, 0.2),
    "jensen_shannon": StatisticSpec("jensen_shannon", stats.jensen_shannon, KINDS, False, 0.05),
    "hellinger": StatisticSpec("hellinger", stats.hellinger, KINDS, False, 0.05),
    "chi2": StatisticSpec("chi2", stats.chi2, ("categorical",), True, None),
    "g_test": StatisticSpec("g_test", stats.g_test, ("categorical",), True, None),
    "cramers_v": StatisticSpec("cramers_v", stats.cramers_v, ("categorical",), True, None),
    "proportion_z": StatisticSpec("proportion_z", stats.proportion_z, ("categorical",), True, None),
}

# The registry of user statistics: filled only by explicit register_statistic calls.
_USER: dict[str, StatisticSpec] = {}


def get_statistic(name: str) -> StatisticSpec:
    """The spec registered under ``name``; :class:`InputError` listing the known ones."""
    spec = _USER.get(name) or _BUILTIN.get(name)
    if spec is None:
        known = ", ".join(sorted({*_BUILTIN, *_USER, "auto"}))
        raise InputError(f"drift method {name!r} is not known", expected=f"one of {known}")
    return spec


def check_result(result: Any, *, name: str) -> tuple[float, float | None]:
    """Validate a statistic's return value: ``(finite real, p in [0, 1] or None)``."""
    if not isinstance(result, tuple) or len(result) != 2:
        raise InputError(f"statistic {name!r} returned {type(result).__name__}",
                         expected="a tuple (statistic, p_value or None)")
    stat, p = result
    if isinstance(stat, bool) or not isinstance(stat, numbers.Real) or not math.isfinite(float(stat)):
        raise InputError(f"statistic {name!r} returned statistic {stat!r}", expected="a finite real number")
    if p is not None:
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= float(p) <= 1.0:
            raise InputError(f"statistic {name!r} returned p-value {p!r}", expected="None or a number in [0, 1]")
        p = float(p)
    return float(stat), p


def _probe(kind: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    if kind == "numeric":
        return rng.normal(size=64), rng.normal(0.3, 1.0, size=48)
    return rng.choice(np.array(["a", "b", "c"], dtype=object), 64), rng.choice(np.array(["a", "b", "d"], dtype=object), 48)


def register_statistic(
    name: str,
    fn: StatisticFn,
    *,
    kind: str | Iterable[str] = ("numeric",),
    threshold: float | None = None,
    replace: bool = False,
) -> StatisticFn:
    """Register a user drift statistic, usable as ``method=name`` in reports.

    ``fn(reference, current)`` receives two 1-D numpy arrays with missing
    values already dropped (numbers as floats without inf; categories as
    objects; a :class:`DriftProfile` with a sketched reference passes its
    sketch points) and must return ``(statistic, p_value or None)``. The
    contract is checked now, on a small probe sample of each ``kind``, and
    again on every call.

    Parameters
    ----------
    name : str
        The method name; built-in names cannot be taken.
    fn : callable
    kind : {"numeric", "categorical"} or iterable of them, default=("numeric",)
        Column kinds the statistic applies to.
    threshold : float, optional
        Decision threshold on the statistic when ``fn`` returns no p-value
        (drifted when ``statistic >= threshold``). With a p-value the report
        decides on the corrected p-value.
    replace : bool, default=False
        Allow replacing a statistic registered earlier under ``name``.

    Returns
    -------
    callable
        ``fn`` itself, so this works as a decorator helper.

    Raises
    ------
    InputError
        For a bad name or kind, a name already taken, or a function whose
        result on the probe sample breaks the contract.

    Examples
    --------
    >>> import numpy as np
    >>> from mllife.drift import register_statistic
    >>> def mean_shift(ref, cur):
    ...     return abs(float(np.mean(cur) - np.mean(ref))), None
    >>> _ = register_statistic("mean_shift", mean_shift, threshold=0.5, replace=True)
    """
    if not isinstance(name, str) or not name.isidentifier() or name == "auto":
        raise InputError(f"statistic name {name!r} is not usable", expected="a Python identifier other than 'auto'")
    if name in _BUILTIN:
        raise InputError(f"statistic name {name!r} is a built-in statistic", expected="a new name")
    if name in _USER and not replace:
        raise InputError(f"statistic {name!r} is already registered", expected="a new name or replace=True")
    if not callable(fn):
        raise InputError(f"statistic {name!r} is {type(fn).__name__}", expected="a callable fn(reference, current)")
    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    if not kinds or any(k not in KINDS for k in kinds):
        raise InputError(f"kind {kind!r} is not known", expected=f"one or more of {', '.join(KINDS)}")
    if threshold is not None and not math.isfinite(float(threshold)):
        raise InputError(f"threshold {threshold!r} is not finite", expected="a finite number or None")
    has_p: bool | None = None
    for each in kinds:
        ref, cur = _probe(each)
        try:
            result = fn(ref, cur)
        except Exception as exc:
            raise InputError(f"statistic {name!r} failed on a {each} probe sample: {exc}",
                             expected="fn(reference, current) -> (statistic, p_value or None)") from exc
        _, p = check_result(result, name=name)
        has_p = p is not None
    _USER[name] = StatisticSpec(name, fn, kinds, bool(has_p), None if threshold is None else float(threshold),
                                builtin=False)
    return fn
