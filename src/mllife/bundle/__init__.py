"""The model bundle: input contract, safe persistence, validated prediction.

A bundle is what a service embeds: one file holding the fitted pipeline, its
input contract (:class:`InputSchema`), the version and the training facts,
loaded safely by :func:`load_bundle` and answering ``predict`` only after
validating the request.
"""

from typing import TYPE_CHECKING

from .._lazy import attach

_LAZY = {
    "InputSchema": "._schema",
    "ModelBundle": "._bundle",
    "PredictFileResult": "._batch",
    "load_bundle": "._persist",
}

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time _LAZY loads each name on first use
    from ._batch import PredictFileResult as PredictFileResult
    from ._bundle import ModelBundle as ModelBundle
    from ._persist import load_bundle as load_bundle
    from ._schema import InputSchema as InputSchema

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
