"""Instances of the feature transformers for scikit-learn's common checks."""

from __future__ import annotations

from mllife.features import DateTimeFeatures, RareCategoryGrouper, RatioFeatures

INSTANCES = {
    # The checks feed random floats: read them as epoch seconds.
    "DateTimeFeatures": [
        DateTimeFeatures(epoch_unit="s"),
        DateTimeFeatures(("month", "day_of_week", "elapsed"), cyclical=True, epoch_unit="s"),
    ],
    # ``pairs`` is required; the checks name numpy columns x0, x1, ...
    "RatioFeatures": [
        RatioFeatures(pairs=[("x0", "x1")]),
        RatioFeatures(pairs={"r": ("x1", "x0")}, on_zero="zero", keep_original=False),
    ],
    # Numeric codes need a numeric bucket to stay numeric.
    "RareCategoryGrouper": [RareCategoryGrouper(min_frequency=0.05, rare_value=-1.0)],
}
