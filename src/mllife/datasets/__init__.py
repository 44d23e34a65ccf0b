"""Synthetic datasets with known, planted defects."""

from ._churn import ChurnData, make_churn

__all__ = ["ChurnData", "make_churn"]
