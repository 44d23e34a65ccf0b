"""Cleaning and feature transformers, automatic preprocessing, feature documentation.

Every class here is a scikit-learn transformer: it clones, pickles, works in
``Pipeline``/``ColumnTransformer``, supports ``set_output(transform="pandas")``
and ``get_feature_names_out``, and passes scikit-learn's ``check_estimator``.
"""

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
    "make_preprocessor": "._preprocessor",
    "describe_features": "._describe",
}

__getattr__, __dir__, __all__ = attach(__name__, _LAZY)
