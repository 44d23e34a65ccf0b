"""Cleaning and feature transformers, automatic preprocessing, feature documentation.

Every class here is a scikit-learn transformer built on one base,
:class:`FrameTransformer` (public: subclass it for transformers of your own,
and test them with :mod:`mllife.testing`): it clones, pickles, works in
``Pipeline``/``ColumnTransformer``, reads pandas, polars, pyarrow and numpy,
supports ``set_output(transform="pandas")`` / ``"polars"`` and
``get_feature_names_out``, and passes scikit-learn's ``check_estimator``.
"""

from typing import TYPE_CHECKING

from .._lazy import attach

_LAZY = {
    # cleaning (what the audit finds, fixed)
    "NullLikeToNaN": "._null_like",
    "DatetimeParser": "._datetime_parser",
    "StringNormalizer": "._strings",
    "Cleaner": "._cleaner",
    # features
    "DateTimeFeatures": "._datetime_features",
    "RatioFeatures": "._ratio",
    "RareCategoryGrouper": "._rare",
    "AggregateFeatures": "._aggregate",
    "make_preprocessor": "._preprocessor",
    "describe_features": "._describe",
    # the base of every transformer above, public for users' own transformers
    "FrameTransformer": "._base",
}

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time _LAZY loads each name on first use
    from ._aggregate import AggregateFeatures as AggregateFeatures
    from ._base import FrameTransformer as FrameTransformer
    from ._cleaner import Cleaner as Cleaner
    from ._datetime_features import DateTimeFeatures as DateTimeFeatures
    from ._datetime_parser import DatetimeParser as DatetimeParser
    from ._describe import describe_features as describe_features
    from ._null_like import NullLikeToNaN as NullLikeToNaN
    from ._preprocessor import make_preprocessor as make_preprocessor
    from ._rare import RareCategoryGrouper as RareCategoryGrouper
    from ._ratio import RatioFeatures as RatioFeatures
    from ._strings import StringNormalizer as StringNormalizer

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
