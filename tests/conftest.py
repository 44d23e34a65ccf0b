"""Shared fixtures and hypothesis profiles."""

from __future__ import annotations

import os

import matplotlib
import pytest
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

# ``ci`` (the default, used by ``make test``): the same 60 examples per property on every
# run, derived from the test's name, so a red test is a change in the code, never the dice.
settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile("dev", max_examples=25, deadline=None)
# ``fuzz`` (``make test-fuzz``, ``HYPOTHESIS_PROFILE=fuzz``): fresh random examples on every
# run, ten times as many, no deadline. A failure prints its ``@reproduce_failure`` blob and
# is saved in ``.hypothesis/`` (git-ignored), so the next run replays it first.
settings.register_profile(
    "fuzz", max_examples=600, deadline=None, derandomize=False, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
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
