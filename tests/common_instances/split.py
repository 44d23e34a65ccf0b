"""Splitter instances for the common contract tests (frame with time "t", groups "g")."""

from __future__ import annotations

from mllife.split import DuplicateAwareKFold, PurgedTimeSeriesSplit, TimeSeriesGroupSplit

SPLITTERS = {
    "PurgedTimeSeriesSplit": [
        (PurgedTimeSeriesSplit(n_splits=4, time_col="t"), False),
        (PurgedTimeSeriesSplit(n_splits=3, time_col="t", gap="3D", max_train_size=100), False),
        (PurgedTimeSeriesSplit(n_splits=5, time_col="t", gap="2D", embargo="2D"), True),
    ],
    "TimeSeriesGroupSplit": [
        (TimeSeriesGroupSplit(n_splits=3, time_col="t"), False),
    ],
    "DuplicateAwareKFold": [
        (DuplicateAwareKFold(n_splits=5), True),
        (DuplicateAwareKFold(n_splits=4, shuffle=True, random_state=0), True),
    ],
}
