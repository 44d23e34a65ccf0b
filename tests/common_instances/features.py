"""Instances of the feature transformers for scikit-learn's common checks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mllife.features import AggregateFeatures, DateTimeFeatures, RareCategoryGrouper, RatioFeatures

#: An event table for AggregateFeatures: the checks' numpy columns are x0 (the key, a float
#: such as 0.0 ... 3.0 in the integer-valued data some checks use) and x1 (numeric times).
_RNG = np.random.default_rng(0)
_EVENTS = pd.DataFrame({"x0": _RNG.integers(0, 4, 60).astype(float),
                        "t": _RNG.uniform(-3.0, 3.0, 60),
                        "v": _RNG.normal(size=60),
                        "c": _RNG.choice(["a", "b"], 60)})

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
    # Numeric times (x1) and windows in time units; a ``by`` level split and a gap too.
    "AggregateFeatures": [
        AggregateFeatures(_EVENTS, key="x0", time_col="t", cutoff_col="x1", windows=(1.0, "all")),
        AggregateFeatures(_EVENTS, key="x0", time_col="t", cutoff_col="x1", windows=(2.0,),
                          aggregations=("count", "mean", "nunique"), by="c", gap=0.5,
                          keep_original=False),
    ],
}

EXPECTED_FAILED_CHECKS = {
    # mllife.testing's rule (scikit-learn's checks have no such name): the transformer's
    # parameter is a whole event table, which skops cannot serialise, and a served model must
    # read the events as they are at serving time anyway; saving refuses it with an
    # InputError and docs/aggregates.md shows the pattern (features outside the bundle).
    "AggregateFeatures": {
        "bundle_round_trip": "holds an event table (a DataFrame), which skops cannot save; "
                             "its features are computed outside the bundle",
    },
}
