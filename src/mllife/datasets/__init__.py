"""Synthetic datasets with known, planted defects."""

from ._churn import ChurnData, make_churn
from ._events import make_churn_events
from ._stream import ChurnStream, make_churn_stream

__all__ = ["ChurnData", "ChurnStream", "make_churn", "make_churn_events", "make_churn_stream"]
