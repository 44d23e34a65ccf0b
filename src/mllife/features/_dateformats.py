"""Date-format inference for the cleaning transformers: see :mod:`mllife._dates`.

The inference moved to the top-level private module :mod:`mllife._dates`, which
the audit, the kind detector, ``make_preprocessor`` and the time reader share;
:class:`~mllife.features.DatetimeParser` and older imports read it from here.
"""

from __future__ import annotations

from .._dates import (
    DateInference,
    _family_of,
    _parts,
    classify,
    infer_date_formats,
    parse_dates,
    unambiguous_formats,
)

__all__ = [
    "DateInference", "_family_of", "_parts", "classify", "infer_date_formats", "parse_dates",
    "unambiguous_formats",
]
