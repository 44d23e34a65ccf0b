"""Instances for the common estimator tests, one module per package.

Each module here (``features.py``, ``split.py``, ``baselines.py``...) may define:

- ``INSTANCES``: ``{class name: [estimator instances]}`` for classes whose
  default constructor cannot be checked as is (required arguments, or
  settings worth checking too). Classes not listed are checked as ``Class()``.
- ``EXPECTED_FAILED_CHECKS``: ``{class name: {check name: reason}}``, each
  reason a sentence saying why the check does not apply. An optional key
  ``"__applies__"`` holds a predicate on the instance: the expected failures
  apply only to the instances it accepts (the others must pass every check).
- ``SPLITTERS``: ``{class name: [(splitter, covers_all_rows)]}``: splitters
  checked on a frame with a datetime column ``"t"``, group column ``"g"``
  and duplicated rows; ``covers_all_rows`` is True when every row is in
  exactly one test fold (k-fold style).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any


def collect(name: str) -> dict[str, Any]:
    """Merge the dict ``name`` of every module in this package."""
    merged: dict[str, Any] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        merged.update(getattr(module, name, {}))
    return merged
