"""One policy for ``random_state`` across the public API.

Every randomised public function and estimator takes a keyword ``random_state=None``.
``None`` means the fixed seed 0, so the same call on the same data gives the same result
bit for bit (DESIGN principle 7); an ``int`` picks another seed; a
:class:`numpy.random.Generator` or legacy :class:`numpy.random.RandomState` is drawn from.
Code that needs a Generator calls :func:`as_generator`; code that hands the seed to a
scikit-learn API expecting ``check_random_state`` semantics calls :func:`as_random_state`.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ._errors import InputError

DEFAULT_SEED = 0

_EXPECTED = "None, an int >= 0, a numpy Generator or a numpy RandomState"


def _seed(random_state: Any, name: str) -> int:
    if random_state is None:
        return DEFAULT_SEED
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise InputError(f"{name}={random_state!r} is a {type(random_state).__name__}",
                         expected=_EXPECTED)
    seed = int(random_state)
    if not 0 <= seed < 2**32:
        raise InputError(f"{name}={seed} is out of range", expected="an int in [0, 2**32)")
    return seed


def as_generator(random_state: Any, *, name: str = "random_state") -> np.random.Generator:
    """A :class:`numpy.random.Generator` for ``random_state`` (``None`` means seed 0).

    Examples
    --------
    >>> from mllife._random import as_generator
    >>> float(as_generator(None).random()) == float(as_generator(0).random())
    True
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(int(random_state.randint(0, 2**31 - 1)))
    return np.random.default_rng(_seed(random_state, name))


def as_random_state(random_state: Any, *, name: str = "random_state") -> np.random.RandomState:
    """A legacy :class:`numpy.random.RandomState` for APIs that want one (``None`` is seed 0).

    Examples
    --------
    >>> from mllife._random import as_random_state
    >>> as_random_state(None).randint(0, 10**6) == as_random_state(0).randint(0, 10**6)
    True
    """
    if isinstance(random_state, np.random.RandomState):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.RandomState(int(random_state.integers(0, 2**31 - 1)))
    return np.random.RandomState(_seed(random_state, name))


def as_seed(random_state: Any, *, name: str = "random_state") -> int:
    """An ``int`` seed for ``random_state`` (``None`` is 0), for libraries that take only ints.

    Examples
    --------
    >>> from mllife._random import as_seed
    >>> as_seed(None), as_seed(7)
    (0, 7)
    """
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    return _seed(random_state, name)
