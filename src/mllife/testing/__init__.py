"""Test kit for transformers: scikit-learn's common checks plus mllife's own contract.

:func:`check_transformer` runs both on a transformer (yours, a
:class:`~mllife.features.FrameTransformer` subclass or any scikit-learn
transformer) and returns a :class:`TransformerCheckReport`;
:func:`parametrize_with_mllife_checks` is the same as a pytest decorator,
as scikit-learn's ``parametrize_with_checks``. Importing this package does
not import pytest (only :func:`parametrize_with_mllife_checks` does).
"""

from typing import TYPE_CHECKING

from .._errors import TransformerCheckError
from .._lazy import attach

_LAZY = {
    "check_transformer": "._check",
    "parametrize_with_mllife_checks": "._check",
    "TransformerCheckReport": "._report",
}

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time _LAZY loads each name on first use
    from ._check import check_transformer as check_transformer
    from ._check import parametrize_with_mllife_checks as parametrize_with_mllife_checks
    from ._report import TransformerCheckReport as TransformerCheckReport

__getattr__, __dir__, _lazy_all = attach(__name__, _LAZY)

__all__ = ["TransformerCheckError", *_lazy_all]
