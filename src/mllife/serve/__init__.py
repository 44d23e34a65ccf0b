"""Serving a bundle: a FastAPI app, a prediction log, shadow and canary releases.

``make_app`` needs the optional extra ``pip install "mllife[serve]"`` (FastAPI,
uvicorn, prometheus-client); ``import mllife`` and ``import mllife.serve`` never
import them, and :class:`PredictionLog` works without them (a monitor reads the
log where no server runs).
"""

from typing import TYPE_CHECKING

from .._lazy import attach

_LAZY = {
    "PredictionLog": "._log",
    "make_app": "._app",
    "set_canary_share": "._app",
}

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time _LAZY loads each name on first use
    from ._app import make_app as make_app
    from ._app import set_canary_share as set_canary_share
    from ._log import PredictionLog as PredictionLog

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
