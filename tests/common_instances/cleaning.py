"""Common-check instances for the cleaning transformers (default and non-default settings)."""

from __future__ import annotations

from mllife.features import Cleaner, DatetimeParser, NullLikeToNaN, StringNormalizer

INSTANCES = {
    "NullLikeToNaN": [NullLikeToNaN(), NullLikeToNaN(sentinels=[-999.0])],
    "DatetimeParser": [DatetimeParser(), DatetimeParser(dayfirst=True, on_unseen="ignore")],
    "StringNormalizer": [StringNormalizer(), StringNormalizer(canonical=False)],
    "Cleaner": [Cleaner(), Cleaner(strings=False, on_unseen="error")],
}
