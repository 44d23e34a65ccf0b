"""Synthetic datasets with known, planted defects."""

from ._churn import ChurnData, make_churn
from ._stream import ChurnStream, make_churn_stream

__all__ = ["ChurnData", "ChurnStream", "make_churn", "make_churn_stream"]
