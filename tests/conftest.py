"""Shared fixtures and hypothesis profiles."""

from __future__ import annotations

import os

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile("dev", max_examples=25, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def churn():
    """A messy churn table with every defect planted (2,000 rows)."""
    from mllife.datasets import make_churn

    return make_churn(2_000, random_state=0, defects=True, drift=True)


@pytest.fixture(scope="session")
def churn_clean():
    """A clean churn table (2,000 rows, drift from October)."""
    from mllife.datasets import make_churn

    return make_churn(2_000, random_state=1, defects=False, drift=True)
